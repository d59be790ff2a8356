//! What exists only for the OpenAPI document: the structs that describe the JSON spelling
//! of each document (the XML spelling has the same fields as elements), and the paths no
//! single handler carries.
//!
//! The handlers take a whole path segment and dispatch on its name, so one handler serves
//! several of the standard's paths. The functions here are never called: each carries the
//! `#[utoipa::path]` of one concrete path that `get_resource` serves.

/// The path parameter `{format}` of every Open311 path.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "lowercase")]
pub enum Open311Format {
    /// `text/xml`, the standard's own.
    Xml,
    /// `application/json`, by the standard's Spark convention.
    Json,
}

/// One error of the standard's `[{code, description}]` (XML: `<errors><error>…`).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Open311Error {
    /// The HTTP status: 400, 403, 404 or 405 (500 when the server failed).
    code: u16,
    /// What is wrong, in a sentence.
    description: String,
}

/// One endpoint of the discovery document.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Open311Endpoint {
    /// `http://wiki.open311.org/GeoReport_v2`.
    specification: String,
    /// The endpoint's address as the request reached it.
    url: String,
    /// When the server started: the service list changes only with a restart.
    changeset: String,
    /// `production`, or `test` on a demo city.
    #[schema(rename = "type")]
    kind: String,
    /// `text/xml` and `application/json`.
    formats: Vec<String>,
}

/// `discovery.{format}` (XML: `<discovery>`).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Open311Discovery {
    changeset: String,
    contact: String,
    /// How to get an `api_key`.
    key_service: String,
    endpoints: Vec<Open311Endpoint>,
}

/// One service: a sub-item of the taxonomy (XML: `<services><service>…`).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Open311Service {
    /// The sub-item's code, for example `0801`.
    service_code: String,
    /// The sub-item's name in Chinese.
    service_name: String,
    /// Its English name, the department that handles it and its time limit.
    description: String,
    /// Always false: no service asks for attributes.
    metadata: bool,
    /// Always `realtime`: a request is a case at once.
    #[schema(rename = "type")]
    kind: String,
    keywords: String,
    /// The category's name in Chinese.
    group: String,
}

/// `services/{code}.{format}` (XML: `<service_definition>`).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Open311ServiceDefinition {
    service_code: String,
    /// Always empty.
    #[schema(value_type = Vec<Object>)]
    attributes: Vec<serde_json::Value>,
}

/// One service request: a case as the standard shows it, with no one's identity (XML:
/// `<service_requests><request>…`). Every field is present; an unknown one is `null`.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Open311Request {
    /// The case's id.
    service_request_id: i64,
    /// `closed` for closed and rejected cases, `open` for the others.
    #[schema(pattern = "^(open|closed)$")]
    status: String,
    /// Where the case stands on the platform, for example `dispatched to D01 …`.
    status_notes: String,
    service_name: String,
    #[schema(required = true)]
    service_code: Option<String>,
    description: String,
    /// The department's name.
    #[schema(required = true)]
    agency_responsible: Option<String>,
    #[schema(required = true)]
    service_notice: Option<String>,
    /// A W3C datetime in the centre's zone.
    requested_datetime: String,
    updated_datetime: String,
    /// The department's deadline, once dispatched.
    #[schema(required = true)]
    expected_datetime: Option<String>,
    /// The grid, its street and its district.
    #[schema(required = true)]
    address: Option<String>,
    /// The grid's id.
    #[schema(required = true)]
    address_id: Option<String>,
    /// Always `null`.
    #[schema(required = true)]
    zipcode: Option<String>,
    #[schema(required = true)]
    lat: Option<f64>,
    #[schema(required = true)]
    long: Option<f64>,
    #[schema(required = true)]
    media_url: Option<String>,
}

/// The answer to `POST requests.{format}`.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Open311RequestCreated {
    service_request_id: i64,
    service_notice: String,
    /// Always `null`: the platform keeps no citizen accounts.
    #[schema(required = true)]
    account_id: Option<String>,
}

/// `tokens/{id}.{format}`: a token is the request's id, since requests are created at once.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Open311Token {
    service_request_id: i64,
    token: String,
}

/// The form of `POST requests.{format}` (`application/x-www-form-urlencoded`; fields may
/// also come in the query string). `email`, `first_name`, `last_name`, `phone`,
/// `device_id`, `account_id` and `attribute[…]` are accepted and not stored.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Open311RequestForm {
    /// A reporting app's key (or the `X-Api-Key` header); 403 without a valid one.
    #[schema(required = true)]
    api_key: Option<String>,
    /// A service's code from `services.{format}`.
    service_code: String,
    /// WGS84 latitude; with `long`, it places the request in its grid.
    lat: f64,
    /// WGS84 longitude.
    long: f64,
    /// The sub-item's name when absent.
    description: Option<String>,
    /// An http or https address of a photo, at most 500 characters.
    media_url: Option<String>,
    /// Not looked up: this server places a request by its point only.
    address_string: Option<String>,
    address_id: Option<String>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    device_id: Option<String>,
    account_id: Option<String>,
}

#[utoipa::path(
    get,
    path = "/open311/v2/discovery.{format}",
    tag = "open311",
    params(("format" = Open311Format, Path, description = "`xml` or `json`.")),
    responses(
        (status = 200, description = "The discovery document.",
            content((Open311Discovery = "application/json"), ("text/xml"))),
        (status = 404, description = "An unknown format.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
        (status = 429, description = "Too many anonymous requests at once (32 per server); `Retry-After` says when to try again.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
    ),
    security(())
)]
pub fn open311_discovery() {}

#[utoipa::path(
    get,
    path = "/open311/v2/services.{format}",
    tag = "open311",
    params(("format" = Open311Format, Path, description = "`xml` or `json`.")),
    responses(
        (status = 200, description = "Every service: the 332 sub-items, grouped by category.",
            content((Vec<Open311Service> = "application/json"), ("text/xml"))),
        (status = 404, description = "An unknown format.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
        (status = 429, description = "Too many anonymous requests at once (32 per server); `Retry-After` says when to try again.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
    ),
    security(())
)]
pub fn open311_services() {}

#[utoipa::path(
    get,
    path = "/open311/v2/requests.{format}",
    tag = "open311",
    description = "Requests, newest first, at most 1,000: by `service_request_id`, which \
        overrides every other parameter, or those reported within `start_date` and \
        `end_date` (the last 90 days when neither is given; at most 90 days apart). \
        Without a key the public reads only the public categories and the requests filed \
        through Open311, never a sensitive sub-item (the special groups, family and health \
        matters), each placed at its grid's label point; with an app's `api_key` (or \
        `X-Api-Key`) it reads what the app's role allows, with exact places.",
    params(
        ("format" = Open311Format, Path, description = "`xml` or `json`."),
        ("service_request_id" = Option<String>, Query, description = "Request ids, comma delimited."),
        ("service_code" = Option<String>, Query, description = "Service codes, comma delimited."),
        ("start_date" = Option<String>, Query, description = "A W3C datetime such as 2026-11-01T00:00:00+08:00."),
        ("end_date" = Option<String>, Query, description = "A W3C datetime."),
        ("status" = Option<String>, Query, description = "`open`, `closed` or both, comma delimited."),
        ("api_key" = Option<String>, Query, description = "A reporting app's key: read what its role allows, with exact places."),
    ),
    responses(
        (status = 200, description = "The requests.", content((Vec<Open311Request> = "application/json"), ("text/xml"))),
        (status = 400, description = "A parameter is wrong; the description names it.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
        (status = 403, description = "`api_key` is given but no reporting app has it.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
        (status = 404, description = "An unknown format.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
        (status = 429, description = "Too many anonymous requests at once (32 per server); `Retry-After` says when to try again.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
    ),
    security(())
)]
pub fn open311_requests() {}
