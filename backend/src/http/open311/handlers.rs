//! The axum handlers. Each takes a whole path segment, `name.format`, and dispatches on the
//! name, since the standard puts the format in the path where a router sees one segment.

use super::Open311;
use super::document::{Doc, Format};

use super::error::{Answer, Failure, echo};
use super::form::{form_params, report_of};
use super::params::Params;
use super::privacy;
use super::queries::{Query, one_request, read_requests, shown};
use super::requests::requests_response;
use super::schema::{
    Open311Error, Open311Format, Open311Request, Open311RequestCreated, Open311RequestForm,
    Open311ServiceDefinition, Open311Token,
};
use super::services::{service, service_notice, services_doc};
use super::xml::render;
use crate::error::AppError;
use crate::http::idempotency::{self, BodyDigest};
use crate::services::auth::Auth;
use crate::services::cases::Cases;
use crate::store::Db;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use std::sync::Arc;

/// Splits `name.format` into the resource's name and its format.
pub(super) fn split(file: &str) -> Result<(&str, Format), Failure> {
    match file.rsplit_once('.') {
        Some((name, ext)) if ext.eq_ignore_ascii_case("xml") => Ok((name, Format::Xml)),
        Some((name, ext)) if ext.eq_ignore_ascii_case("json") => Ok((name, Format::Json)),
        Some((_, ext)) => Err(Failure::new(
            StatusCode::NOT_FOUND,
            Format::Xml,
            format!("there is no format `{}`; ask for .xml or .json", echo(ext)),
        )),
        None => Err(Failure::new(
            StatusCode::NOT_FOUND,
            Format::Xml,
            format!("say the format: `{0}.xml` or `{0}.json`", echo(file)),
        )),
    }
}

/// The `{file}` of a path, or the standard's error when it cannot be decoded.
fn file_of(path: Result<Path<String>, PathRejection>, uri: &Uri) -> Result<String, Failure> {
    path.map(|Path(file)| file)
        .map_err(|rejection| Failure::bad(Format::of_path(uri.path()), rejection.body_text()))
}

/// `GET /open311/v2/{discovery|services|requests}.{format}`.
/// Its three paths are described by `open311_discovery`, `open311_services` and
/// `open311_requests` in `schema`, since one `#[utoipa::path]` describes one path.
pub async fn get_resource(
    State(db): State<Db>,
    State(open311): State<Arc<Open311>>,
    State(auth): State<Arc<Auth>>,
    headers: HeaderMap,
    uri: Uri,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Answer {
    let file = file_of(path, &uri)?;
    let (name, format) = split(&file)?;
    let params = Params::parse(query.unwrap_or_default().as_bytes(), format)?;
    match name {
        "discovery" => Ok(render(
            format,
            StatusCode::OK,
            "discovery",
            &open311.discovery(&headers),
        )),
        "services" => Ok(render(format, StatusCode::OK, "services", &services_doc())),
        "requests" => {
            let query = Query::from_params(
                &params,
                crate::clock::now_ms(),
                open311.utc_offset_minutes,
                format,
            )?;
            let reader = privacy::reader(&auth, &headers, params.get("api_key"), format).await?;
            let rows = read_requests(&db, &query, &reader)
                .await
                .map_err(|e| Failure::from_app(e, format))?;
            let rows = shown(&reader, rows, &auth.areas, &open311.labels);
            Ok(requests_response(&rows, &open311, format))
        }
        other => Err(no_resource(other, format)),
    }
}

fn no_resource(name: &str, format: Format) -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        format,
        format!(
            "there is no resource `{}`; the endpoint has discovery, services, \
             services/CODE, requests, requests/ID and tokens/TOKEN",
            echo(name)
        ),
    )
}

/// `GET /open311/v2/services/{service_code}.{format}`: the service's definition. No service
/// asks for more than the standard's fields, so its attributes are empty.
#[utoipa::path(
    get,
    path = "/open311/v2/services/{code}.{format}",
    operation_id = "open311_service_definition",
    tag = "open311",
    params(
        ("code" = String, Path, description = "A service's code, for example `0801`."),
        ("format" = Open311Format, Path, description = "`xml` or `json`."),
    ),
    responses(
        (status = 200, description = "The service's definition: no attributes.",
            content((Open311ServiceDefinition = "application/json"), ("text/xml"))),
        (status = 404, description = "An unknown service or format.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
        (status = 429, description = "Too many anonymous requests at once (32 per server); `Retry-After` says when to try again.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
    ),
    security(())
)]
pub async fn service_definition(uri: Uri, path: Result<Path<String>, PathRejection>) -> Answer {
    let file = file_of(path, &uri)?;
    let (code, format) = split(&file)?;
    let item = service(code, format)?;
    let doc = Doc::Fields(vec![
        ("service_code", Doc::text(item.code)),
        ("attributes", Doc::List("attribute", Vec::new())),
    ]);
    Ok(render(format, StatusCode::OK, "service_definition", &doc))
}

/// `GET /open311/v2/requests/{service_request_id}.{format}`.
#[utoipa::path(
    get,
    path = "/open311/v2/requests/{id}.{format}",
    operation_id = "open311_request",
    tag = "open311",
    params(
        ("id" = String, Path, description = "The request's `service_request_id`."),
        ("format" = Open311Format, Path, description = "`xml` or `json`."),
        ("api_key" = Option<String>, Query, description = "A reporting app's key: without one, only what the public may read is found (no sensitive sub-item, places at the grid's label point)."),
    ),
    responses(
        (status = 200, description = "A list holding the one request.",
            content((Vec<Open311Request> = "application/json"), ("text/xml"))),
        (status = 403, description = "`api_key` is given but no reporting app has it.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
        (status = 404, description = "No such request, or an unknown format.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
        (status = 429, description = "Too many anonymous requests at once (32 per server); `Retry-After` says when to try again.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
    ),
    security(())
)]
pub async fn get_request(
    State(db): State<Db>,
    State(open311): State<Arc<Open311>>,
    State(auth): State<Arc<Auth>>,
    headers: HeaderMap,
    uri: Uri,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Answer {
    let file = file_of(path, &uri)?;
    let (id, format) = split(&file)?;
    let params = Params::parse(query.unwrap_or_default().as_bytes(), format)?;
    let reader = privacy::reader(&auth, &headers, params.get("api_key"), format).await?;
    let row = one_request(&db, id, format, &reader).await?;
    let rows = shown(&reader, vec![row], &auth.areas, &open311.labels);
    if rows.is_empty() {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            format,
            format!("service_request_id `{}` was not found", echo(id)),
        ));
    }
    Ok(requests_response(&rows, &open311, format))
}

/// `GET /open311/v2/tokens/{token}.{format}`: requests are created at once, so a token is
/// the request's id and names itself.
#[utoipa::path(
    get,
    path = "/open311/v2/tokens/{id}.{format}",
    operation_id = "open311_token",
    tag = "open311",
    params(
        ("id" = String, Path, description = "The token `POST requests` would have given: the request's id."),
        ("format" = Open311Format, Path, description = "`xml` or `json`."),
        ("api_key" = Option<String>, Query, description = "A reporting app's key: without one, only what the public may read is found (no sensitive sub-item, places at the grid's label point)."),
    ),
    responses(
        (status = 200, description = "A list holding the request's id and its token.",
            content((Vec<Open311Token> = "application/json"), ("text/xml"))),
        (status = 403, description = "`api_key` is given but no reporting app has it.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
        (status = 404, description = "No such token, or an unknown format.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
        (status = 429, description = "Too many anonymous requests at once (32 per server); `Retry-After` says when to try again.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
    ),
    security(())
)]
pub async fn get_token(
    State(db): State<Db>,
    State(auth): State<Arc<Auth>>,
    headers: HeaderMap,
    uri: Uri,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Answer {
    let file = file_of(path, &uri)?;
    let (token, format) = split(&file)?;
    let params = Params::parse(query.unwrap_or_default().as_bytes(), format)?;
    let reader = privacy::reader(&auth, &headers, params.get("api_key"), format).await?;
    let row = one_request(&db, token, format, &reader)
        .await
        .map_err(|mut f| {
            if f.status == StatusCode::NOT_FOUND {
                f.description = format!("token `{}` was not found", echo(token));
            }
            f
        })?;
    let doc = Doc::List(
        "request",
        vec![Doc::Fields(vec![
            ("service_request_id", Doc::Int(row.case.id)),
            ("token", Doc::Text(row.case.id.to_string())),
        ])],
    );
    Ok(render(format, StatusCode::OK, "service_requests", &doc))
}

/// `POST /open311/v2/requests.{format}`: a report by the app whose `api_key` it carries.
/// Nothing is stored unless every check passes; the answer is 200, which clients of the
/// standard expect. With an `Idempotency-Key` a retry gets the first request's id again, in
/// the format it asks for, and stores nothing; its fingerprint hashes the form and the query
/// string, not the format, since either spelling answers the same request.
#[utoipa::path(
    post,
    path = "/open311/v2/requests.{format}",
    operation_id = "open311_post_request",
    tag = "open311",
    params(("format" = Open311Format, Path, description = "`xml` or `json`."), idempotency::IdempotencyKeyHeader),
    request_body(content = Open311RequestForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The request is a case: a list holding its id and the service's notice; or, for a retry with the same `Idempotency-Key`, the first request's.",
            content((Vec<Open311RequestCreated> = "application/json"), ("text/xml")),
            headers(("Idempotent-Replayed" = String, description = "`true` when the answer is the one stored with the request's `Idempotency-Key`: nothing was written this time."))),
        (status = 400, description = "A parameter is missing or wrong (a point outside the city…), or the `Idempotency-Key` is bad or was used for a different request; the description names it.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
        (status = 403, description = "`api_key` is missing or not a reporting app's.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
        (status = 404, description = "An unknown service or format.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
        (status = 503, description = "The server cannot store writes now (its disk is full or its database read-only; the description says which). Nothing was stored; try again after `Retry-After` seconds.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
    ),
    security(("api_key" = []), ("open311_api_key" = []))
)]
pub async fn post_resource(
    State(cases): State<Cases>,
    State(auth): State<Arc<Auth>>,
    headers: HeaderMap,
    uri: Uri,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let file = file_of(path, &uri)?;
    let (name, format) = split(&file)?;
    // A body past the server's limit is refused in the standard's shape too.
    let body = body.map_err(|rejection| Failure::bad(format, rejection.body_text()))?;
    match name {
        "requests" => {}
        "discovery" | "services" => {
            return Err(Failure::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format,
                format!("{name} is read with GET; only requests takes a POST"),
            ));
        }
        other => return Err(no_resource(other, format)),
    }
    let idempotency_key =
        idempotency::key_of(&headers).map_err(|e| Failure::from_app(e, format))?;
    let form_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase());
    if form_type
        .as_deref()
        .is_some_and(|mime| mime != "application/x-www-form-urlencoded")
    {
        return Err(Failure::bad(
            format,
            "send the request as application/x-www-form-urlencoded; a photo goes by media_url",
        ));
    }
    let params = form_params(
        &body,
        query.as_deref().unwrap_or_default().as_bytes(),
        format,
    )?;

    let key = params.get("api_key").map(str::to_owned).or_else(|| {
        headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    });
    let Some(key) = key else {
        return Err(Failure::new(
            StatusCode::FORBIDDEN,
            format,
            "api_key is missing: a service request needs the api_key of a reporting app",
        ));
    };
    let who = auth
        .api_key_principal(&key)
        .await
        .map_err(|err| match err {
            AppError::Unauthorized(_) => Failure::new(
                StatusCode::FORBIDDEN,
                format,
                "api_key is not valid: no reporting app has this key",
            ),
            other => Failure::from_app(other, format),
        })?;

    let (item, report) = report_of(&params, format, |point| cases.grid_of(point).is_some())?;
    let claim = idempotency_key.map(|key| {
        let mut digest = BodyDigest::default();
        digest.part("form", &body);
        digest.part("query", query.as_deref().unwrap_or_default().as_bytes());
        idempotency::claim(&who, idempotency::OPEN311_ROUTE, key, None, digest.finish())
    });
    let answered = cases
        .report_keyed(report, who, Vec::new(), claim)
        .await
        .map_err(|e| Failure::from_app(e, format))?;
    // A replay names the first request's case, and its service: the same form names the same.
    let doc = Doc::List(
        "request",
        vec![Doc::Fields(vec![
            ("service_request_id", Doc::Int(answered.view.id)),
            ("service_notice", Doc::Text(service_notice(item))),
            ("account_id", Doc::Null),
        ])],
    );
    let mut response = render(format, StatusCode::OK, "service_requests", &doc);
    idempotency::mark_replayed(&mut response, answered.replayed);
    Ok(response)
}

/// Any other path under `/open311/v2`.
pub async fn not_found(uri: Uri) -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        Format::of_path(uri.path()),
        "there is no such Open311 resource; discovery.xml describes the endpoint",
    )
}

/// A known path with a method it does not take.
pub async fn method_not_allowed(method: Method, uri: Uri) -> Failure {
    Failure::new(
        StatusCode::METHOD_NOT_ALLOWED,
        Format::of_path(uri.path()),
        format!(
            "{method} is not allowed here: requests.{{format}} takes GET and POST, every other resource GET"
        ),
    )
}
