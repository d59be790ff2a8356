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

use crate::auth::Auth;
use crate::cases::{Cases, MAX_DESCRIPTION_CHARS};
use crate::error::AppError;
use crate::store::Db;
use crate::store::codes::{decode_category, decode_state, decode_supervision};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use shared::case::{CaseState, Category, Point, ReportCase, Supervision};
use shared::taxonomy::{self, SubItem};
use shared::time::{DAY_MS, civil_from_day};
use sqlx::Row;
use std::sync::Arc;

/// The specification the discovery document names, as the standard spells it.
const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";
/// How far back `GET requests` looks when no dates are given, and the longest span it
/// answers, as the standard sets them.
pub const DEFAULT_WINDOW_DAYS: i64 = 90;
/// The most requests one `GET requests` returns, as the standard sets it.
pub const MAX_REQUESTS: usize = 1_000;
/// The line that carries a request's `media_url` at the end of the case's description.
const MEDIA_LINE: &str = "\nmedia_url: ";
/// The longest `media_url` kept; longer ones are refused rather than cut.
const MAX_MEDIA_URL_CHARS: usize = 500;
/// How much of a caller's input an error message repeats.
const ECHO_CHARS: usize = 40;

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
}

impl Open311 {
    pub fn new(utc_offset_minutes: i32, demo: bool, started_ms: i64) -> Open311 {
        Open311 {
            utc_offset_minutes,
            demo,
            started_ms,
        }
    }

    fn datetime(&self, ms: i64) -> String {
        w3c_datetime(ms, self.utc_offset_minutes)
    }

    /// The discovery document, with the endpoint's address as the request reached it.
    fn discovery(&self, headers: &HeaderMap) -> Doc {
        let changeset = self.datetime(self.started_ms);
        let endpoint = Doc::Fields(vec![
            ("specification", Doc::text(SPECIFICATION)),
            ("url", Doc::Text(endpoint_url(headers))),
            ("changeset", Doc::Text(changeset.clone())),
            (
                "type",
                Doc::text(if self.demo { "test" } else { "production" }),
            ),
            (
                "formats",
                Doc::List(
                    "format",
                    vec![Doc::text("text/xml"), Doc::text("application/json")],
                ),
            ),
        ]);
        Doc::Fields(vec![
            ("changeset", Doc::Text(changeset)),
            (
                "contact",
                Doc::text(
                    "gridwall, the city's grid-governance command centre: ask the centre that \
                     runs this server",
                ),
            ),
            (
                "key_service",
                Doc::text(
                    "POST requests needs an api_key for a reporting app, issued by the centre \
                     that runs this server (a demo server prints one at start)",
                ),
            ),
            ("endpoints", Doc::List("endpoint", vec![endpoint])),
        ])
    }
}

/// Where this endpoint is, from the request's `Host` (and a proxy's `X-Forwarded-Proto`);
/// the path alone when the host is missing or not a plain host name.
fn endpoint_url(headers: &HeaderMap) -> String {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let host = header("host").filter(|h| {
        !h.is_empty()
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
    });
    let scheme = match header("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    match host {
        Some(host) => format!("{scheme}://{host}/open311/v2"),
        None => "/open311/v2".to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// Formats and documents

/// The two spellings of every resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Xml => "text/xml; charset=utf-8",
            Format::Json => "application/json; charset=utf-8",
        }
    }

    /// The format a path asks for by its extension; XML, the standard's own, when it asks
    /// for none that is known, so that even an error about the format comes in a standard
    /// shape.
    fn of_path(path: &str) -> Format {
        match path.rsplit_once('.') {
            Some((_, ext)) if ext.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::Xml,
        }
    }
}

/// Splits `name.format` into the resource's name and its format.
fn split(file: &str) -> Result<(&str, Format), Failure> {
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

/// A response document, kept apart from its two spellings: XML elements, and the same tree
/// as JSON by the standard's Spark convention (a list is an array, an element with children
/// an object, an empty element `null`).
#[derive(Debug, Clone, PartialEq)]
enum Doc {
    Null,
    Bool(bool),
    Int(i64),
    Num(f64),
    Text(String),
    /// A list; in XML each item is an element of the given name.
    List(&'static str, Vec<Doc>),
    /// Named children, in the order the standard lists them.
    Fields(Vec<(&'static str, Doc)>),
}

impl Doc {
    fn text(text: &str) -> Doc {
        Doc::Text(text.to_owned())
    }

    fn optional(text: Option<String>) -> Doc {
        text.map_or(Doc::Null, Doc::Text)
    }
}

impl Serialize for Doc {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Doc::Null => serializer.serialize_none(),
            Doc::Bool(b) => serializer.serialize_bool(*b),
            Doc::Int(n) => serializer.serialize_i64(*n),
            Doc::Num(x) => serializer.serialize_f64(*x),
            Doc::Text(t) => serializer.serialize_str(t),
            Doc::List(_, items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Doc::Fields(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (name, value) in fields {
                    map.serialize_entry(name, value)?;
                }
                map.end()
            }
        }
    }
}

/// `doc` as an XML document whose root element is `root`.
fn to_xml(root: &str, doc: &Doc) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    write_element(&mut out, root, doc);
    out.push('\n');
    out
}

fn write_element(out: &mut String, name: &str, doc: &Doc) {
    let open = |out: &mut String| {
        out.push('<');
        out.push_str(name);
        out.push('>');
    };
    let close = |out: &mut String| {
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    };
    match doc {
        Doc::Null => {
            out.push('<');
            out.push_str(name);
            out.push_str("/>");
        }
        Doc::List(item, items) => {
            open(out);
            for i in items {
                write_element(out, item, i);
            }
            close(out);
        }
        Doc::Fields(fields) => {
            open(out);
            for (child, value) in fields {
                write_element(out, child, value);
            }
            close(out);
        }
        Doc::Bool(b) => {
            open(out);
            out.push_str(if *b { "true" } else { "false" });
            close(out);
        }
        Doc::Int(n) => {
            open(out);
            out.push_str(&n.to_string());
            close(out);
        }
        Doc::Num(x) => {
            open(out);
            out.push_str(&x.to_string());
            close(out);
        }
        Doc::Text(t) => {
            open(out);
            escape_xml_into(out, t);
            close(out);
        }
    }
}

/// Writes `text` as XML character data: the five markup characters as entities, and the
/// characters XML 1.0 cannot carry at all (control characters other than tab, line feed and
/// carriage return, U+FFFE and U+FFFF) as U+FFFD, so that no description a JSON report
/// carried can make the document ill-formed.
fn escape_xml_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// `text` as XML character data.
pub fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_xml_into(&mut out, text);
    out
}

/// A document as a response in `format`, with `root` as the XML root element.
fn render(format: Format, status: StatusCode, root: &str, doc: &Doc) -> Response {
    let body = match format {
        Format::Xml => to_xml(root, doc),
        Format::Json => serde_json::to_string(doc).expect("a document always serialises"),
    };
    (status, [(CONTENT_TYPE, format.content_type())], body).into_response()
}

/// A caller's input as an error message repeats it: its start only.
fn echo(input: &str) -> String {
    let mut shown: String = input.chars().take(ECHO_CHARS).collect();
    if input.chars().count() > ECHO_CHARS {
        shown.push('…');
    }
    shown
}

// ---------------------------------------------------------------------------------------
// Errors

/// An error in the standard's shape, `[{code, description}]`, in the format asked for; the
/// code is the HTTP status.
#[derive(Debug)]
pub struct Failure {
    status: StatusCode,
    format: Format,
    description: String,
}

impl Failure {
    fn new(status: StatusCode, format: Format, description: impl Into<String>) -> Failure {
        Failure {
            status,
            format,
            description: description.into(),
        }
    }

    fn bad(format: Format, description: impl Into<String>) -> Failure {
        Failure::new(StatusCode::BAD_REQUEST, format, description)
    }

    /// An error of the case commands in the standard's terms: fields renamed to the
    /// standard's, a refused credential as 403, and internals kept in the log.
    fn from_app(err: AppError, format: Format) -> Failure {
        let (status, description) = match err {
            AppError::InvalidField { field, message } => (
                StatusCode::BAD_REQUEST,
                format!("{}: {message}", standard_field(&field)),
            ),
            AppError::BadRequest(m) | AppError::UnsupportedMediaType(m) => {
                (StatusCode::BAD_REQUEST, m)
            }
            AppError::UnsupportedPart { part, message }
            | AppError::TooLarge { part, message }
            | AppError::BadParameter {
                parameter: part,
                message,
            } => (StatusCode::BAD_REQUEST, format!("{part}: {message}")),
            AppError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            AppError::Unauthorized(m) | AppError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            AppError::MoveNotAllowed(e) => (StatusCode::BAD_REQUEST, e.to_string()),
            AppError::FlagNotAllowed(e) => (StatusCode::BAD_REQUEST, e.to_string()),
            AppError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m),
            AppError::Database(err) => {
                tracing::error!(error = %err, "database error while answering Open311");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; the server log has the details".to_owned(),
                )
            }
            AppError::Storage(err) => {
                tracing::error!(error = %err, "storage error while answering Open311");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; the server log has the details".to_owned(),
                )
            }
            AppError::Internal(details) => {
                tracing::error!(error = %details, "internal error while answering Open311");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; the server log has the details".to_owned(),
                )
            }
        };
        Failure::new(status, format, description)
    }
}

/// The standard's name for a field of the case commands.
fn standard_field(field: &str) -> &str {
    match field {
        "category" | "sub_item" => "service_code",
        "point" | "point.lon" | "point.lat" | "grid_id" => "lat/long",
        other => other,
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let error = Doc::Fields(vec![
            ("code", Doc::Int(i64::from(self.status.as_u16()))),
            ("description", Doc::Text(self.description)),
        ]);
        render(
            self.format,
            self.status,
            "errors",
            &Doc::List("error", vec![error]),
        )
    }
}

type Answer = Result<Response, Failure>;

/// The `{file}` of a path, or the standard's error when it cannot be decoded.
fn file_of(path: Result<Path<String>, PathRejection>, uri: &Uri) -> Result<String, Failure> {
    path.map(|Path(file)| file)
        .map_err(|rejection| Failure::bad(Format::of_path(uri.path()), rejection.body_text()))
}

// ---------------------------------------------------------------------------------------
// Parameters

/// A query string's or a form's fields, in order.
#[derive(Debug, Default)]
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(bytes: &[u8], format: Format) -> Result<Params, Failure> {
        serde_urlencoded::from_bytes(bytes)
            .map(Params)
            .map_err(|e| Failure::bad(format, format!("the parameters cannot be read: {e}")))
    }

    /// The first value of `name` that is not empty: the standard treats an empty parameter
    /// as one not given.
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .find(|v| !v.is_empty())
    }

    /// Every value of `name`, each split at commas: the standard's lists may be declared
    /// several times, comma delimited.
    fn list(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// Datetimes

/// `ms` as a W3C datetime in the zone `offset_minutes` east of UTC, to the second:
/// `2026-11-29T14:33:16+08:00` (`Z` for UTC itself).
pub fn w3c_datetime(ms: i64, offset_minutes: i32) -> String {
    let local = ms.div_euclid(1_000) + i64::from(offset_minutes) * 60;
    let (year, month, day) = civil_from_day(local.div_euclid(86_400));
    let secs = local.rem_euclid(86_400);
    let zone = if offset_minutes == 0 {
        "Z".to_owned()
    } else {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let off = offset_minutes.unsigned_abs();
        format!("{sign}{:02}:{:02}", off / 60, off % 60)
    };
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{zone}",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

/// The day number (days since 1970-01-01) of a civil date, by Howard Hinnant's
/// `days_from_civil`; the inverse of [`civil_from_day`].
fn day_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Reads a W3C datetime (`2026-11-01`, `2026-11-01T08:00+08:00`, `2026-11-01T08:00:00Z`,
/// `2026-11-01T08:00:00.5-05:00`) as the first and last Unix millisecond it covers: a date
/// is its whole day, a time to the minute its minute, and so on, so that an `end_date`
/// includes what it names. Without a zone the time is the centre's (`offset_minutes`). A
/// space before the zone's hours is read as `+`, which is what an unescaped `+` in a query
/// string becomes.
pub fn parse_w3c(text: &str, offset_minutes: i32) -> Option<(i64, i64)> {
    let b = text.trim().as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = b.get(from..from + len)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let year = num(0, 4)?;
    if !at(4, b'-') || !at(7, b'-') {
        return None;
    }
    let month = u32::try_from(num(5, 2)?).ok()?;
    let day = u32::try_from(num(8, 2)?).ok()?;
    if !(1..=12).contains(&month) || day == 0 {
        return None;
    }
    let days = day_from_civil(year, month, day);
    // A date the calendar does not have (the 31st of a short month) does not round-trip.
    if civil_from_day(days) != (year, month, day) {
        return None;
    }
    let mut i = 10;
    let (mut ms, mut span, mut zone) = (0_i64, DAY_MS, None);
    if i < b.len() {
        if !(at(i, b'T') || at(i, b't')) {
            return None;
        }
        let hour = num(i + 1, 2)?;
        if !at(i + 3, b':') {
            return None;
        }
        let minute = num(i + 4, 2)?;
        if hour > 23 || minute > 59 {
            return None;
        }
        ms = (hour * 60 + minute) * 60_000;
        span = 60_000;
        i += 6;
        if at(i, b':') {
            let second = num(i + 1, 2)?;
            if second > 59 {
                return None;
            }
            ms += second * 1_000;
            span = 1_000;
            i += 3;
            if at(i, b'.') {
                let start = i + 1;
                let mut end = start;
                while b.get(end).is_some_and(u8::is_ascii_digit) {
                    end += 1;
                }
                if end == start {
                    return None;
                }
                // Milliseconds are the tables' precision; further digits are dropped.
                let digits = &b[start..end.min(start + 3)];
                let mut frac: i64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
                for _ in digits.len()..3 {
                    frac *= 10;
                }
                ms += frac;
                span = 1;
                i = end;
            }
        }
        match b.get(i) {
            None => {}
            Some(b'Z' | b'z') if i + 1 == b.len() => zone = Some(0),
            Some(&sign @ (b'+' | b'-' | b' ')) => {
                let hours = num(i + 1, 2)?;
                if !at(i + 3, b':') || i + 6 != b.len() {
                    return None;
                }
                let minutes = num(i + 4, 2)?;
                if hours > 23 || minutes > 59 {
                    return None;
                }
                let east = hours * 60 + minutes;
                zone = Some(if sign == b'-' { -east } else { east });
            }
            Some(_) => return None,
        }
    }
    let offset = zone.unwrap_or(i64::from(offset_minutes));
    let first = days * DAY_MS + ms - offset * 60_000;
    Some((first, first + span - 1))
}

// ---------------------------------------------------------------------------------------
// Services

/// What a centre does with a case of this sub-item: who handles it and how long they have.
fn service_notice(item: &SubItem) -> String {
    let department = taxonomy::department(item.department).map_or_else(
        || item.department.to_owned(),
        |d| format!("{} {}", d.code, d.name_zh),
    );
    format!(
        "The centre dispatches it to {department}, which has {} hours to handle it.",
        item.time_limit_hours
    )
}

fn service_doc(item: &SubItem) -> Doc {
    let keywords = [
        item.name_en.replace(',', ""),
        item.category.code().replace('_', " "),
        item.category.name_zh().to_owned(),
    ]
    .join(", ");
    Doc::Fields(vec![
        ("service_code", Doc::text(item.code)),
        ("service_name", Doc::text(item.name_zh)),
        (
            "description",
            Doc::Text(format!("{}. {}", item.name_en, service_notice(item))),
        ),
        ("metadata", Doc::Bool(false)),
        ("type", Doc::text("realtime")),
        ("keywords", Doc::Text(keywords)),
        ("group", Doc::text(item.category.name_zh())),
    ])
}

fn services_doc() -> Doc {
    Doc::List(
        "service",
        taxonomy::SUB_ITEMS.iter().map(service_doc).collect(),
    )
}

/// A sub-item by its code, or the standard's 404 naming the code.
fn service(code: &str, format: Format) -> Result<&'static SubItem, Failure> {
    taxonomy::sub_item(code).ok_or_else(|| {
        Failure::new(
            StatusCode::NOT_FOUND,
            format,
            format!(
                "service_code `{}` was not found; services.{} lists the {} services",
                echo(code),
                match format {
                    Format::Xml => "xml",
                    Format::Json => "json",
                },
                taxonomy::SUB_ITEMS.len()
            ),
        )
    })
}

// ---------------------------------------------------------------------------------------
// Service requests, read

/// The columns of one service request: the case, with its grid's, street's and district's
/// names for the address. Reporters are not among them.
const REQUEST_SELECT: &str = "SELECT c.id AS id, c.category AS category, \
     c.sub_item_code AS sub_item_code, c.grid_id AS grid_id, c.lon AS lon, c.lat AS lat, \
     c.description AS description, c.state AS state, c.supervision AS supervision, \
     c.department_code AS department_code, c.deadline_at AS deadline_at, \
     c.reported_at AS reported_at, c.updated_at AS updated_at, g.name AS grid_name, \
     s.name_zh AS street_name, d.name_zh AS district_name \
     FROM cases c \
     LEFT JOIN grids g ON g.id = c.grid_id \
     LEFT JOIN streets s ON s.code = g.street_code \
     LEFT JOIN districts d ON d.code = s.district_code";

/// One case as a service request.
#[derive(Debug, Clone, PartialEq)]
struct RequestRow {
    id: i64,
    category: Category,
    sub_item: Option<String>,
    grid_id: Option<String>,
    point: Option<Point>,
    description: String,
    state: CaseState,
    supervision: Supervision,
    department: Option<String>,
    deadline_ms: Option<i64>,
    reported_at_ms: i64,
    updated_at_ms: i64,
    /// The grid's, street's and district's names, most specific first.
    places: Vec<String>,
}

impl RequestRow {
    fn from_row(row: &sqlx::any::AnyRow) -> Result<RequestRow, AppError> {
        let lon: Option<f64> = row.try_get("lon")?;
        let lat: Option<f64> = row.try_get("lat")?;
        let mut places = Vec::new();
        for column in ["grid_name", "street_name", "district_name"] {
            if let Some(name) = row.try_get::<Option<String>, _>(column)? {
                places.push(name);
            }
        }
        Ok(RequestRow {
            id: row.try_get("id")?,
            category: decode_category(&row.try_get::<String, _>("category")?)?,
            sub_item: row.try_get("sub_item_code")?,
            grid_id: row.try_get("grid_id")?,
            point: lon.zip(lat).map(|(lon, lat)| Point { lon, lat }),
            description: row.try_get("description")?,
            state: decode_state(&row.try_get::<String, _>("state")?)?,
            supervision: decode_supervision(&row.try_get::<String, _>("supervision")?)?,
            department: row.try_get("department_code")?,
            deadline_ms: row.try_get("deadline_at")?,
            reported_at_ms: row.try_get("reported_at")?,
            updated_at_ms: row.try_get("updated_at")?,
            places,
        })
    }
}

/// The standard's two statuses: a closed or rejected case is done with; any other is open.
fn is_closed(state: CaseState) -> bool {
    matches!(state, CaseState::Closed | CaseState::Rejected)
}

/// A department as the requests name it: its code and name, or the code alone when the
/// taxonomy does not know it.
fn department_label(code: &str) -> String {
    taxonomy::department(code)
        .map_or_else(|| code.to_owned(), |d| format!("{} {}", d.code, d.name_zh))
}

/// Where a case stands on the platform, in words, for `status_notes`.
fn status_notes(state: CaseState, department: Option<&str>, supervision: Supervision) -> String {
    let dept = department.map_or_else(|| "a department".to_owned(), department_label);
    let mut note = match state {
        CaseState::Reported => "reported; waiting for a centre to dispatch it".to_owned(),
        CaseState::Dispatched => format!("dispatched to {dept}"),
        CaseState::Accepted => format!("accepted by {dept}"),
        CaseState::Resolved => {
            format!("resolved by {dept}; waiting for the grid worker's check on site")
        }
        CaseState::Verified => "the fix was verified on site; waiting to be closed".to_owned(),
        CaseState::Closed => "closed: fixed and verified on site".to_owned(),
        CaseState::Returned => format!("returned to {dept}: the check on site failed"),
        CaseState::Rejected => "rejected: not a matter for the platform, or a duplicate".to_owned(),
        CaseState::Escalated => "escalated to the district centre".to_owned(),
    };
    match supervision {
        Supervision::Warned if state.clock_runs() => {
            note.push_str("; most of the time limit has passed")
        }
        Supervision::Overdue if state == CaseState::Closed => {
            note.push_str(", after the time limit")
        }
        Supervision::Overdue if !is_closed(state) => {
            note.push_str("; past the time limit, under supervision")
        }
        _ => {}
    }
    note
}

/// Splits a case's description into the text and the `media_url` an Open311 report put on
/// its last line.
fn split_media(description: &str) -> (&str, Option<&str>) {
    match description.rsplit_once(MEDIA_LINE) {
        Some((text, url)) if is_media_url(url) => (text, Some(url)),
        _ => (description, None),
    }
}

fn is_media_url(url: &str) -> bool {
    (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() > "https://".len()
        && url.chars().count() <= MAX_MEDIA_URL_CHARS
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn request_doc(row: &RequestRow, open311: &Open311) -> Doc {
    let item = row.sub_item.as_deref().and_then(taxonomy::sub_item);
    let (description, media_url) = split_media(&row.description);
    let number = |x: Option<f64>| x.map_or(Doc::Null, Doc::Num);
    Doc::Fields(vec![
        ("service_request_id", Doc::Int(row.id)),
        (
            "status",
            Doc::text(if is_closed(row.state) {
                "closed"
            } else {
                "open"
            }),
        ),
        (
            "status_notes",
            Doc::Text(status_notes(
                row.state,
                row.department.as_deref(),
                row.supervision,
            )),
        ),
        (
            "service_name",
            Doc::text(item.map_or(row.category.name_zh(), |i| i.name_zh)),
        ),
        ("service_code", Doc::optional(row.sub_item.clone())),
        ("description", Doc::text(description)),
        (
            "agency_responsible",
            Doc::optional(row.department.as_deref().map(|code| {
                taxonomy::department(code).map_or_else(|| code.to_owned(), |d| d.name_zh.to_owned())
            })),
        ),
        ("service_notice", Doc::optional(item.map(service_notice))),
        (
            "requested_datetime",
            Doc::Text(open311.datetime(row.reported_at_ms)),
        ),
        (
            "updated_datetime",
            Doc::Text(open311.datetime(row.updated_at_ms)),
        ),
        (
            "expected_datetime",
            Doc::optional(row.deadline_ms.map(|ms| open311.datetime(ms))),
        ),
        (
            "address",
            Doc::optional((!row.places.is_empty()).then(|| row.places.join(", "))),
        ),
        ("address_id", Doc::optional(row.grid_id.clone())),
        ("zipcode", Doc::Null),
        ("lat", number(row.point.map(|p| p.lat))),
        ("long", number(row.point.map(|p| p.lon))),
        ("media_url", Doc::optional(media_url.map(str::to_owned))),
    ])
}

/// What `GET requests` asks for.
#[derive(Debug, Clone, PartialEq)]
enum Query {
    /// Requests by id, which overrides every other parameter.
    Ids(Vec<i64>),
    Window {
        /// Reported at or after this Unix millisecond…
        from_ms: i64,
        /// …and at or before this one.
        to_ms: i64,
        /// Sub-item codes; any when empty.
        codes: Vec<String>,
        /// `Some(true)` for closed requests only, `Some(false)` for open ones only.
        closed: Option<bool>,
    },
}

impl Query {
    fn from_params(
        params: &Params,
        now_ms: i64,
        offset_minutes: i32,
        format: Format,
    ) -> Result<Query, Failure> {
        let ids = params.list("service_request_id");
        if !ids.is_empty() {
            let mut parsed = Vec::with_capacity(ids.len());
            for id in ids {
                let n: i64 = id.parse().map_err(|_| {
                    Failure::bad(
                        format,
                        format!("service_request_id `{}` is not a request id", echo(id)),
                    )
                })?;
                if !parsed.contains(&n) {
                    parsed.push(n);
                }
                // Checked as the list grows, so that a huge list costs no more than this.
                if parsed.len() > MAX_REQUESTS {
                    return Err(Failure::bad(
                        format,
                        format!("service_request_id lists more than {MAX_REQUESTS} requests"),
                    ));
                }
            }
            return Ok(Query::Ids(parsed));
        }
        let date = |name: &str| -> Result<Option<(i64, i64)>, Failure> {
            params
                .get(name)
                .map(|text| {
                    parse_w3c(text, offset_minutes).ok_or_else(|| {
                        Failure::bad(
                            format,
                            format!(
                                "{name} `{}` is not a W3C datetime such as \
                                 2026-11-01T00:00:00+08:00",
                                echo(text)
                            ),
                        )
                    })
                })
                .transpose()
        };
        let window = DEFAULT_WINDOW_DAYS * DAY_MS;
        let (from_ms, to_ms) = match (date("start_date")?, date("end_date")?) {
            (None, None) => (now_ms - window + 1, now_ms),
            (Some((from, _)), None) => (from, from + window - 1),
            (None, Some((_, to))) => (to - window + 1, to),
            (Some((from, _)), Some((_, to))) => (from, to),
        };
        if to_ms < from_ms {
            return Err(Failure::bad(format, "end_date is before start_date"));
        }
        if to_ms - from_ms >= window {
            return Err(Failure::bad(
                format,
                format!(
                    "start_date and end_date may not span more than {DEFAULT_WINDOW_DAYS} days"
                ),
            ));
        }
        let mut codes = Vec::new();
        for code in params.list("service_code") {
            let item = taxonomy::sub_item(code).ok_or_else(|| {
                Failure::bad(
                    format,
                    format!(
                        "service_code `{}` is not a service; see services.xml",
                        echo(code)
                    ),
                )
            })?;
            if !codes.iter().any(|c| c == item.code) {
                codes.push(item.code.to_owned());
            }
        }
        let (mut open, mut done) = (false, false);
        for status in params.list("status") {
            match status {
                "open" => open = true,
                "closed" => done = true,
                other => {
                    return Err(Failure::bad(
                        format,
                        format!("status `{}` is neither open nor closed", echo(other)),
                    ));
                }
            }
        }
        // Both statuses, like none, are every status.
        let closed = match (open, done) {
            (true, false) => Some(false),
            (false, true) => Some(true),
            _ => None,
        };
        Ok(Query::Window {
            from_ms,
            to_ms,
            codes,
            closed,
        })
    }
}

/// A bound value of a query built at run time.
#[derive(Debug)]
enum Bind {
    Int(i64),
    Text(String),
}

/// The requests a query asks for, newest first, at most [`MAX_REQUESTS`] of them.
async fn read_requests(db: &Db, query: &Query) -> Result<Vec<RequestRow>, AppError> {
    let mut binds = Vec::new();
    let mut placeholder = |bind: Bind| {
        binds.push(bind);
        format!("${}", binds.len())
    };
    let mut sql = String::from(REQUEST_SELECT);
    match query {
        Query::Ids(ids) => {
            let list: Vec<String> = ids.iter().map(|id| placeholder(Bind::Int(*id))).collect();
            sql.push_str(&format!(" WHERE c.id IN ({})", list.join(", ")));
        }
        Query::Window {
            from_ms,
            to_ms,
            codes,
            closed,
        } => {
            let from = placeholder(Bind::Int(*from_ms));
            let to = placeholder(Bind::Int(*to_ms));
            sql.push_str(&format!(
                " WHERE c.reported_at >= {from} AND c.reported_at <= {to}"
            ));
            if !codes.is_empty() {
                let list: Vec<String> = codes
                    .iter()
                    .map(|c| placeholder(Bind::Text(c.clone())))
                    .collect();
                sql.push_str(&format!(" AND c.sub_item_code IN ({})", list.join(", ")));
            }
            match closed {
                Some(true) => sql.push_str(" AND c.state IN ('closed', 'rejected')"),
                Some(false) => sql.push_str(" AND c.state NOT IN ('closed', 'rejected')"),
                None => {}
            }
        }
    }
    let limit = placeholder(Bind::Int(MAX_REQUESTS as i64));
    sql.push_str(&format!(
        " ORDER BY c.reported_at DESC, c.id DESC LIMIT {limit}"
    ));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for bind in binds {
        q = match bind {
            Bind::Int(n) => q.bind(n),
            Bind::Text(t) => q.bind(t),
        };
    }
    q.fetch_all(db)
        .await?
        .iter()
        .map(RequestRow::from_row)
        .collect()
}

fn requests_response(rows: &[RequestRow], open311: &Open311, format: Format) -> Response {
    let items = rows.iter().map(|row| request_doc(row, open311)).collect();
    render(
        format,
        StatusCode::OK,
        "service_requests",
        &Doc::List("request", items),
    )
}

/// One request by the id in a path, or the standard's 404.
async fn one_request(db: &Db, id: &str, format: Format) -> Result<RequestRow, Failure> {
    let missing = || {
        Failure::new(
            StatusCode::NOT_FOUND,
            format,
            format!("service_request_id `{}` was not found", echo(id)),
        )
    };
    let id: i64 = id.parse().map_err(|_| missing())?;
    read_requests(db, &Query::Ids(vec![id]))
        .await
        .map_err(|e| Failure::from_app(e, format))?
        .pop()
        .ok_or_else(missing)
}

// ---------------------------------------------------------------------------------------
// Handlers

/// `GET /open311/v2/{discovery|services|requests}.{format}`.
/// Its three paths are described by `open311_discovery`, `open311_services` and
/// `open311_requests` below, since one `#[utoipa::path]` describes one path.
pub async fn get_resource(
    State(db): State<Db>,
    State(open311): State<Arc<Open311>>,
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
            let rows = read_requests(&db, &query)
                .await
                .map_err(|e| Failure::from_app(e, format))?;
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
    ),
    responses(
        (status = 200, description = "A list holding the one request.",
            content((Vec<Open311Request> = "application/json"), ("text/xml"))),
        (status = 404, description = "No such request, or an unknown format.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
    ),
    security(())
)]
pub async fn get_request(
    State(db): State<Db>,
    State(open311): State<Arc<Open311>>,
    uri: Uri,
    path: Result<Path<String>, PathRejection>,
) -> Answer {
    let file = file_of(path, &uri)?;
    let (id, format) = split(&file)?;
    let row = one_request(&db, id, format).await?;
    Ok(requests_response(&[row], &open311, format))
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
    ),
    responses(
        (status = 200, description = "A list holding the request's id and its token.",
            content((Vec<Open311Token> = "application/json"), ("text/xml"))),
        (status = 404, description = "No such token, or an unknown format.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
    ),
    security(())
)]
pub async fn get_token(
    State(db): State<Db>,
    uri: Uri,
    path: Result<Path<String>, PathRejection>,
) -> Answer {
    let file = file_of(path, &uri)?;
    let (token, format) = split(&file)?;
    let row = one_request(&db, token, format).await.map_err(|mut f| {
        if f.status == StatusCode::NOT_FOUND {
            f.description = format!("token `{}` was not found", echo(token));
        }
        f
    })?;
    let doc = Doc::List(
        "request",
        vec![Doc::Fields(vec![
            ("service_request_id", Doc::Int(row.id)),
            ("token", Doc::Text(row.id.to_string())),
        ])],
    );
    Ok(render(format, StatusCode::OK, "service_requests", &doc))
}

/// `POST /open311/v2/requests.{format}`: a report by the app whose `api_key` it carries.
/// Nothing is stored unless every check passes; the answer is 200, which clients of the
/// standard expect.
#[utoipa::path(
    post,
    path = "/open311/v2/requests.{format}",
    operation_id = "open311_post_request",
    tag = "open311",
    params(("format" = Open311Format, Path, description = "`xml` or `json`.")),
    request_body(content = Open311RequestForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The request is a case: a list holding its id and the service's notice.",
            content((Vec<Open311RequestCreated> = "application/json"), ("text/xml"))),
        (status = 400, description = "A parameter is missing or wrong (a point outside the city…); the description names it.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
        (status = 403, description = "`api_key` is missing or not a reporting app's.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
        (status = 404, description = "An unknown service or format.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
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
    // The form's fields come first; a client may also put some in the query string.
    let mut params = Params::parse(&body, format)?;
    params
        .0
        .extend(Params::parse(query.unwrap_or_default().as_bytes(), format)?.0);

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

    let Some(code) = params.get("service_code") else {
        return Err(Failure::bad(
            format,
            "service_code was not provided; services.xml lists them",
        ));
    };
    let item = service(code, format)?;
    let point = location(&params, format)?;
    if cases.grid_of(point).is_none() {
        return Err(Failure::bad(
            format,
            format!(
                "lat/long: the point lat {}, long {} lies outside the city: none of its grids \
                 contains it",
                point.lat, point.lon
            ),
        ));
    }
    let mut description = params.get("description").unwrap_or(item.name_zh).to_owned();
    if let Some(url) = params.get("media_url") {
        if !is_media_url(url) {
            return Err(Failure::bad(
                format,
                format!(
                    "media_url must be an http or https address of at most \
                     {MAX_MEDIA_URL_CHARS} characters, without spaces"
                ),
            ));
        }
        description.push_str(MEDIA_LINE);
        description.push_str(url);
    }
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(Failure::bad(
            format,
            format!(
                "description: is longer than {MAX_DESCRIPTION_CHARS} characters (with the \
                 media_url, which is kept with it)"
            ),
        ));
    }
    let report = ReportCase {
        category: item.category.code().to_owned(),
        sub_item: Some(item.code.to_owned()),
        grid_id: None,
        point: Some(point),
        description,
    };
    let case = cases
        .report(report, who, Vec::new())
        .await
        .map_err(|e| Failure::from_app(e, format))?;
    let doc = Doc::List(
        "request",
        vec![Doc::Fields(vec![
            ("service_request_id", Doc::Int(case.id)),
            ("service_notice", Doc::Text(service_notice(item))),
            ("account_id", Doc::Null),
        ])],
    );
    Ok(render(format, StatusCode::OK, "service_requests", &doc))
}

/// A request's place: `lat` and `long` both, in range. This server has no geocoder, so an
/// `address_string` or `address_id` alone cannot place it.
fn location(params: &Params, format: Format) -> Result<Point, Failure> {
    let coordinate = |name: &str, limit: f64| -> Result<Option<f64>, Failure> {
        let Some(text) = params.get(name) else {
            return Ok(None);
        };
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() && (-limit..=limit).contains(&x) => Ok(Some(x)),
            _ => Err(Failure::bad(
                format,
                format!(
                    "{name} `{}` must be a number from -{limit} to {limit} (WGS84 degrees)",
                    echo(text)
                ),
            )),
        }
    };
    match (coordinate("lat", 90.0)?, coordinate("long", 180.0)?) {
        (Some(lat), Some(lon)) => Ok(Point { lon, lat }),
        (Some(_), None) => Err(Failure::bad(
            format,
            "long was not provided; send lat and long together",
        )),
        (None, Some(_)) => Err(Failure::bad(
            format,
            "lat was not provided; send lat and long together",
        )),
        (None, None) => Err(Failure::bad(
            format,
            if params.get("address_string").is_some() || params.get("address_id").is_some() {
                "lat and long are required: this server places a request in its grid by \
                 its point and cannot look up an address_string or address_id"
            } else {
                "a location was not provided: send lat and long"
            },
        )),
    }
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

// ---------------------------------------------------------------------------------------
// The OpenAPI description
//
// The handlers above take a whole path segment and dispatch on its name, so one handler
// serves several of the standard's paths. The functions below are never called: each
// carries the `#[utoipa::path]` of one concrete path, and the structs describe the JSON
// spelling of each document (the XML spelling has the same fields as elements).

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
        `end_date` (the last 90 days when neither is given; at most 90 days apart).",
    params(
        ("format" = Open311Format, Path, description = "`xml` or `json`."),
        ("service_request_id" = Option<String>, Query, description = "Request ids, comma delimited."),
        ("service_code" = Option<String>, Query, description = "Service codes, comma delimited."),
        ("start_date" = Option<String>, Query, description = "A W3C datetime such as 2026-11-01T00:00:00+08:00."),
        ("end_date" = Option<String>, Query, description = "A W3C datetime."),
        ("status" = Option<String>, Query, description = "`open`, `closed` or both, comma delimited."),
    ),
    responses(
        (status = 200, description = "The requests.", content((Vec<Open311Request> = "application/json"), ("text/xml"))),
        (status = 400, description = "A parameter is wrong; the description names it.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
        (status = 404, description = "An unknown format.", content((Vec<Open311Error> = "application/json"), ("text/xml"))),
    ),
    security(())
)]
pub fn open311_requests() {}

#[cfg(test)]
mod tests {
    use super::*;

    const CST: i32 = 8 * 60;

    #[test]
    fn xml_escapes_markup_and_keeps_chinese() {
        assert_eq!(
            escape_xml(r#"路灯 & <杆> "倾斜" 'x'"#),
            "路灯 &amp; &lt;杆&gt; &quot;倾斜&quot; &apos;x&apos;"
        );
        assert_eq!(
            escape_xml("a\u{1}b\u{FFFF}\tc\n"),
            "a\u{FFFD}b\u{FFFD}\tc\n"
        );
    }

    #[test]
    fn documents_spell_the_same_tree_in_xml_and_json() {
        let doc = Doc::List(
            "request",
            vec![Doc::Fields(vec![
                ("service_request_id", Doc::Int(7)),
                ("description", Doc::text("<b>&</b>")),
                ("account_id", Doc::Null),
                ("lat", Doc::Num(46.585)),
            ])],
        );
        assert_eq!(
            to_xml("service_requests", &doc),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<service_requests><request>\
             <service_request_id>7</service_request_id>\
             <description>&lt;b&gt;&amp;&lt;/b&gt;</description><account_id/>\
             <lat>46.585</lat></request></service_requests>\n"
        );
        assert_eq!(
            serde_json::to_string(&doc).expect("JSON"),
            r#"[{"service_request_id":7,"description":"<b>&</b>","account_id":null,"lat":46.585}]"#
        );
    }

    #[test]
    fn datetimes_are_written_at_the_centre_s_offset() {
        // 2026-11-28T16:00:00Z is midnight of the 29th in UTC+8.
        let ms = 1_795_881_600_000;
        assert_eq!(w3c_datetime(ms, CST), "2026-11-29T00:00:00+08:00");
        assert_eq!(w3c_datetime(ms + 999, 0), "2026-11-28T16:00:00Z");
        assert_eq!(w3c_datetime(ms, -330), "2026-11-28T10:30:00-05:30");
    }

    #[test]
    fn datetimes_are_read_with_their_precision() {
        let midnight = 1_795_881_600_000;
        assert_eq!(
            parse_w3c("2026-11-29", CST),
            Some((midnight, midnight + DAY_MS - 1))
        );
        assert_eq!(
            parse_w3c("2026-11-29T00:00:00+08:00", CST),
            Some((midnight, midnight + 999))
        );
        assert_eq!(
            parse_w3c("2026-11-28T16:00:00Z", CST),
            Some((midnight, midnight + 999))
        );
        // An unescaped `+` arrives as a space.
        assert_eq!(
            parse_w3c("2026-11-29T00:00 08:00", CST),
            Some((midnight, midnight + 59_999))
        );
        assert_eq!(
            parse_w3c("2026-11-28T11:00:00.25-05:00", CST),
            Some((midnight + 250, midnight + 250))
        );
        // No zone: the centre's.
        assert_eq!(
            parse_w3c("2026-11-29T00:00:00", CST).map(|r| r.0),
            Some(midnight)
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-02-30",
            "2026-11-29T24:00:00Z",
            "2026-11-29T10:00:00+0800",
            "2026-11-29T10:00:00Zjunk",
            "2026-11-29 10:00:00",
            "2026-11-29T10",
            "2026-11-29T10:00:00.Z",
        ] {
            assert_eq!(parse_w3c(bad, CST), None, "{bad}");
        }
        for ms in [0, midnight, midnight + 12_345_000, -86_400_000 * 400] {
            let text = w3c_datetime(ms, CST);
            assert_eq!(parse_w3c(&text, CST), Some((ms, ms + 999)), "{text}");
        }
    }

    #[test]
    fn the_status_follows_the_loop() {
        for state in CaseState::ALL {
            let closed = matches!(state, CaseState::Closed | CaseState::Rejected);
            assert_eq!(is_closed(state), closed, "{state:?}");
        }
        assert_eq!(
            status_notes(CaseState::Dispatched, Some("D01"), Supervision::None),
            format!("dispatched to D01 {}", taxonomy::DEPARTMENTS[0].name_zh)
        );
        assert!(
            status_notes(CaseState::Accepted, Some("D01"), Supervision::Overdue)
                .ends_with("under supervision")
        );
    }

    #[test]
    fn a_media_url_comes_back_out_of_the_description() {
        let stored = format!("路灯杆倾斜{MEDIA_LINE}https://example.org/p.jpg");
        assert_eq!(
            split_media(&stored),
            ("路灯杆倾斜", Some("https://example.org/p.jpg"))
        );
        assert_eq!(split_media("路灯杆倾斜"), ("路灯杆倾斜", None));
        let not_a_url = format!("text{MEDIA_LINE}see the photo");
        assert_eq!(split_media(&not_a_url), (not_a_url.as_str(), None));
    }

    #[test]
    fn every_sub_item_is_a_service() {
        let Doc::List(_, services) = services_doc() else {
            panic!("a list");
        };
        assert_eq!(services.len(), 332);
    }

    #[test]
    fn queries_default_to_the_last_90_days() {
        let params = |q: &str| Params::parse(q.as_bytes(), Format::Json).expect("params");
        let now = 1_795_881_600_000;
        let window = DEFAULT_WINDOW_DAYS * DAY_MS;
        assert_eq!(
            Query::from_params(&params(""), now, CST, Format::Json).expect("valid"),
            Query::Window {
                from_ms: now - window + 1,
                to_ms: now,
                codes: vec![],
                closed: None
            }
        );
        assert_eq!(
            Query::from_params(
                &params("service_request_id=3,1&status=bogus"),
                now,
                CST,
                Format::Json
            )
            .expect("ids override the rest"),
            Query::Ids(vec![3, 1])
        );
        assert_eq!(
            Query::from_params(
                &params("status=open,closed&service_code=0801&service_code=0801"),
                now,
                CST,
                Format::Json
            )
            .expect("valid"),
            Query::Window {
                from_ms: now - window + 1,
                to_ms: now,
                codes: vec!["0801".to_owned()],
                closed: None
            }
        );
        for bad in [
            "start_date=2026-01-01&end_date=2026-11-01",
            "start_date=2026-11-02&end_date=2026-11-01",
            "end_date=soon",
            "status=pending",
            "service_code=9999",
            "service_request_id=abc",
        ] {
            assert!(
                Query::from_params(&params(bad), now, CST, Format::Json).is_err(),
                "{bad}"
            );
        }
    }
}
