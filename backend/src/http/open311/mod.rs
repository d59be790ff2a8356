//! Open311 GeoReport v2 at `/open311/v2/`: the standard interface through which existing
//! citizen-reporting apps list the services, post service requests and follow them.
//!
//! The services are the 332 sub-items, grouped by the 15 categories. A POST is a report
//! through [`Cases::report`] by the reporting app whose `api_key` it carries, placed in its
//! grid by `lat` and `long`; reads are public, as the standard has them, and show no one's
//! identity. Requests are answered at once (`type` realtime), so a token is simply the
//! request's id. Every resource comes as XML, which the standard requires, or as JSON, chosen
//! by the path's extension; every error comes as the standard's `[{code, description}]`, with
//! 404 for what does not exist, 403 for a missing or wrong `api_key` and 400 for the rest.
//!
//! What the standard's fields hold here:
//! - `status` is `closed` for closed and rejected cases and `open` for the others;
//!   `status_notes` says where the case stands on the platform ("dispatched to D01 …").
//! - `agency_responsible` is the department's name, `expected_datetime` its deadline.
//! - `address` names the grid, its street and its district; `address_id` is the grid's id.
//! - `media_url` travels in the case's description, on a last line of its own (the case
//!   tables have no column for it), and is split off again when the request is read.
//! - `email`, `first_name`, `last_name`, `phone`, `device_id`, `account_id` and `attribute[…]`
//!   are accepted and not stored: the platform keeps no citizen accounts, whatever it stored
//!   would be readable by anyone, and no service defines attributes (`metadata` is false).
//!
//! The module's parts, one concern each:
//! - `handlers`: the axum handlers, which read a path's `name.format` and dispatch on it;
//! - `document`: the response tree, its two spellings and the choice between them;
//! - `xml`: the hand-written XML writer and its escaping;
//! - `error`: the standard's error shape and how the case commands' errors map to it;
//! - `params`: the fields of a query string or a form; `form`: a `POST requests` form read
//!   into a report, without a server;
//! - `datetime`: the W3C datetimes the standard reads and writes;
//! - `discovery` and `services`: what the endpoint offers;
//! - `requests`: a case as a service request document;
//! - `queries`: the SQL for `GET requests` and for one request;
//! - `schema`: the structs and paths that exist only for the OpenAPI document.
//!
//! [`Cases::report`]: crate::services::cases::Cases::report

mod datetime;
mod discovery;
mod document;
mod error;
mod form;
mod handlers;
mod params;
mod privacy;
mod queries;
mod requests;
mod schema;
mod services;
mod xml;

pub use datetime::{parse_w3c, w3c_datetime};
pub use document::Format;
pub use error::{Failure, refusal};
pub use handlers::{
    get_request, get_resource, get_token, method_not_allowed, not_found, post_resource,
    service_definition,
};
pub use queries::{DEFAULT_WINDOW_DAYS, MAX_REQUESTS};
pub use schema::{
    Open311Discovery, Open311Endpoint, Open311Error, Open311Format, Open311Request,
    Open311RequestCreated, Open311RequestForm, Open311Service, Open311ServiceDefinition,
    Open311Token, open311_discovery, open311_requests, open311_services,
};
pub use xml::escape_xml;
// What the fuzzers (`crate::fuzzing`) call: the same readers the handlers use.
pub(crate) use form::{form_params, report_of};
pub(crate) use params::Params;
pub(crate) use queries::Query;

// `paths(...)` in `crate::http::openapi` finds each operation through the hidden struct that
// `#[utoipa::path]` puts beside its function, so those are re-exported with the functions.
pub use handlers::{
    __path_get_request, __path_get_token, __path_post_resource, __path_service_definition,
};
pub use schema::{__path_open311_discovery, __path_open311_requests, __path_open311_services};

/// What the Open311 handlers need besides the case commands: the centre's clock and what
/// the discovery document says.
#[derive(Debug)]
pub struct Open311 {
    /// The centre's time zone, in which every datetime is written.
    utc_offset_minutes: i32,
    /// Whether the server runs the demo city, whose requests nobody acts upon: its endpoint
    /// is then of type `test`.
    demo: bool,
    /// When the server started. The service list is compiled into the binary, so it changes
    /// only with a restart, and this is the discovery document's `changeset`.
    started_ms: i64,
    /// Each grid's label point: where the public sees a case of that grid.
    labels: std::collections::HashMap<String, shared::case::Point>,
}

impl Open311 {
    pub fn new(utc_offset_minutes: i32, demo: bool, started_ms: i64) -> Open311 {
        Open311 {
            utc_offset_minutes,
            demo,
            started_ms,
            labels: std::collections::HashMap::new(),
        }
    }

    /// The grids whose label points stand for a case's place in public reads.
    pub fn with_labels(mut self, grids: &gridwall_core::geo::GridIndex) -> Open311 {
        self.labels = (0..grids.len())
            .filter_map(|i| grids.grid_at(i))
            .map(|(id, shape)| {
                let [lon, lat] = shape.label_point();
                (id.to_owned(), shared::case::Point { lon, lat })
            })
            .collect();
        self
    }

    fn datetime(&self, ms: i64) -> String {
        w3c_datetime(ms, self.utc_offset_minutes)
    }
}
