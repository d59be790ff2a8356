//! The fuzzers' entry points: one function per parser that takes bytes from outside, reading
//! them the way the server does and checking that bad input is refused with a 4xx, never a
//! panic or a 5xx (an unbounded allocation is caught by the fuzzer's memory limit).
//!
//! `fuzz/` (cargo-fuzz, on nightly) has one target per function, and this module's tests run
//! the same functions on a few thousand random and mutated inputs in every `cargo test`, so a
//! parser that panics fails the ordinary suite too. Each function goes through the handler's
//! own code (the extractor, or the pure function the handler calls), never a copy of it.

use crate::error::AppError;
use crate::http::extract::{ApiQuery, JsonBody, moment, parse_scope};
use crate::http::open311::{self, Failure, Format, Params, Query};
use crate::http::photos::WithPhotos;
use crate::http::{assessment, seat, wall, ws};
use crate::import::{Mapping, parse_grids};
use crate::services::cases::{ListQuery, MAX_DESCRIPTION_CHARS, check_list_query};
use crate::services::control::Controls;
use crate::services::photo_store::{MAX_PHOTOS_PER_MOVE, PhotoStore, recognised};
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::Uri;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use gridwall_core::geo::Shape;
use gridwall_core::photo::{Sniffed, sniff};
use serde::de::DeserializeOwned;
use shared::assess::MAX_PERIOD_DAYS;
use shared::auth::{LoginRequest, Role};
use shared::case::{MoveCase, ReportCase};
use shared::control::{Controller, SeatMsg, valid_wall_name};
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// The boundary of the multipart bodies the `photo_body` target reads: the fuzzer varies the
/// body, not the header.
pub const BOUNDARY: &str = "gridwall-fuzz";
/// The photo limit of the fuzzed store: small, so that inputs of a few KiB reach the "too
/// large" paths that guard a server's memory.
pub const MAX_PHOTO_BYTES: usize = 4 * 1024;
/// "Now" for the readers that need one: 2026-11-29T00:00:00+08:00.
const NOW_MS: i64 = 1_795_881_600_000;
/// The centre's clock, UTC+8.
const OFFSET_MINUTES: i32 = 8 * 60;

/// Runs a future to its end without a runtime. Every body here is in memory, so each read is
/// ready at once; one that still waits after a few polls waits for nothing, and is a bug.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..64 {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
    panic!("reading an in-memory body kept waiting");
}

/// Panics unless `err` answers with a 4xx: bad input is the client's error, not the server's.
fn refused(err: AppError, what: &str) {
    let shown = format!("{err:?}");
    let status = err.into_response().status();
    assert!(
        status.is_client_error(),
        "{what}: bad input got {status}, not a 4xx: {shown}"
    );
}

/// The same for Open311's errors, in both of the standard's spellings.
fn refused_311(failure: Failure, what: &str) {
    let shown = format!("{failure:?}");
    let status = failure.into_response().status();
    assert!(
        status.is_client_error(),
        "{what}: bad input got {status}, not a 4xx: {shown}"
    );
}

/// The query string `bytes` would be in a request line, or `None` when the server's HTTP
/// parser refuses such a request before any handler sees it.
fn query_of(bytes: &[u8]) -> Option<Uri> {
    let text = std::str::from_utf8(bytes).ok()?;
    format!("/?{text}").parse::<Uri>().ok()
}

/// `gridwall import grids FILE`: a GeoJSON FeatureCollection of grids. The command reads the
/// file as UTF-8 text, so other bytes never reach the parser. What it takes is written at 6
/// decimals and read back at every start of the server, so a grid taken must survive that.
pub fn geojson(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    match parse_grids(text, &Mapping::default()) {
        Ok(grids) => {
            for grid in grids {
                assert!(
                    !grid.id.is_empty() && grid.id.len() <= 32,
                    "grid id {:?}",
                    grid.id
                );
                let stored = grid.shape.to_geojson();
                if let Err(err) = Shape::from_geojson(&stored) {
                    panic!(
                        "grid {} was taken, but its stored geometry {stored} is refused when the \
                         server reads it back: {err}",
                        grid.id
                    );
                }
            }
        }
        Err(err) => assert!(!err.to_string().is_empty()),
    }
}

/// The GeoJSON import again, with the bytes read as a polygon's positions rather than as text,
/// so that the fuzzer explores geometry: rings that cross, collapse or lose their area at the 6
/// decimals grids are stored at, which it seldom reaches by editing JSON text. Each pair of
/// bytes is a corner of a 0.01° square near 125°E 46°N, nudged by up to 1 µ° (or 1 m°); a
/// byte 0xFF starts the next ring (the holes); every ring is closed.
pub fn geojson_rings(bytes: &[u8]) {
    const CORNERS: [(f64, f64); 4] = [
        (125.0, 46.0),
        (125.01, 46.0),
        (125.01, 46.01),
        (125.0, 46.01),
    ];
    const NUDGES: [f64; 8] = [0.0, 1e-7, -1e-7, 4e-7, -4e-7, 6e-7, -6e-7, 1e-3];
    let rings: Vec<Vec<[f64; 2]>> = bytes
        .split(|&b| b == 0xff)
        .map(|ring| {
            let mut positions: Vec<[f64; 2]> = ring
                .chunks_exact(2)
                .map(|pair| {
                    let (x, y) = CORNERS[usize::from(pair[0] & 3)];
                    let dx = NUDGES[usize::from(pair[0] >> 2 & 7)];
                    let dy = NUDGES[usize::from(pair[1] & 7)];
                    [x + dx, y + dy]
                })
                .collect();
            if let Some(&first) = positions.first() {
                positions.push(first);
            }
            positions
        })
        .collect();
    let text = serde_json::json!({"type": "FeatureCollection", "features": [{
        "type": "Feature",
        "properties": {"id": "A", "name": "网格", "street": "街道", "district": "区"},
        "geometry": {"type": "Polygon", "coordinates": rings},
    }]})
    .to_string();
    geojson(text.as_bytes());
}

/// `POST /open311/v2/requests.{format}`: the form body, then (after the first NUL byte, if
/// any) the query string, read as the handler reads them, in both formats. The `api_key`
/// check between the two steps needs the database and is left out.
pub fn open311_form(bytes: &[u8]) {
    let (body, query) = match bytes.iter().position(|&b| b == 0) {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &[][..]),
    };
    let Some(uri) = query_of(query) else {
        return;
    };
    let query = uri.query().unwrap_or_default().as_bytes();
    // A point is inside the fuzzed city when it lies in the demo city's box.
    let inside = |p: shared::case::Point| (124.0..=126.0).contains(&p.lon) && p.lat > 45.0;
    for format in [Format::Xml, Format::Json] {
        let params = match open311::form_params(body, query, format) {
            Ok(params) => params,
            Err(failure) => {
                refused_311(failure, "an Open311 form");
                continue;
            }
        };
        match open311::report_of(&params, format, inside) {
            Ok((item, report)) => {
                assert_eq!(report.sub_item.as_deref(), Some(item.code));
                assert!(report.description.chars().count() <= MAX_DESCRIPTION_CHARS);
                let point = report.point.expect("an Open311 report has a point");
                assert!(inside(point), "{point:?} is outside");
            }
            Err(failure) => refused_311(failure, "an Open311 form"),
        }
    }
}

/// `GET /open311/v2/requests.{format}?…`: the query string as the handler reads it.
pub fn open311_query(bytes: &[u8]) {
    let Some(uri) = query_of(bytes) else {
        return;
    };
    let query = uri.query().unwrap_or_default().as_bytes();
    for format in [Format::Xml, Format::Json] {
        let params = match Params::parse(query, format) {
            Ok(params) => params,
            Err(failure) => {
                refused_311(failure, "an Open311 query");
                continue;
            }
        };
        match Query::from_params(&params, NOW_MS, OFFSET_MINUTES, format) {
            Ok(Query::Ids(ids)) => {
                assert!(!ids.is_empty() && ids.len() <= open311::MAX_REQUESTS);
            }
            Ok(Query::Window { from_ms, to_ms, .. }) => {
                let window = open311::DEFAULT_WINDOW_DAYS * shared::time::DAY_MS;
                assert!(from_ms <= to_ms, "{from_ms} > {to_ms}");
                assert!(to_ms - from_ms < window);
                // A date given is a moment from 2000 to 2100; the other end of the window
                // may lie up to a window beyond.
                let range =
                    shared::time::MIN_MOMENT_MS - window..=shared::time::MAX_MOMENT_MS + window;
                assert!(
                    range.contains(&from_ms) && range.contains(&to_ms),
                    "{from_ms}..{to_ms} was taken, outside the moments the API takes"
                );
            }
            Err(failure) => refused_311(failure, "an Open311 query"),
        }
    }
}

/// The photo store whose limits the multipart reader keeps; nothing is written to it.
fn photo_store() -> Arc<PhotoStore> {
    static STORE: OnceLock<Arc<PhotoStore>> = OnceLock::new();
    STORE
        .get_or_init(|| {
            let dir = std::env::temp_dir().join("gridwall-fuzzing-photos");
            Arc::new(PhotoStore::open(dir, MAX_PHOTO_BYTES).expect("a temporary directory"))
        })
        .clone()
}

fn body_request(content_type: &str, bytes: &[u8]) -> Request {
    Request::builder()
        .method("POST")
        .uri("/api/cases")
        .header(CONTENT_TYPE, content_type)
        .body(Body::from(bytes.to_vec()))
        .expect("a request")
}

/// A report's or a move's body through `WithPhotos`, as the report and move routes read it.
fn with_photos<T>(content_type: &str, bytes: &[u8])
where
    T: DeserializeOwned + crate::http::photos::FormPart + Send,
{
    let store = photo_store();
    match ready(WithPhotos::<T>::from_request(
        body_request(content_type, bytes),
        &store,
    )) {
        Ok(read) => {
            assert!(read.photos.len() <= MAX_PHOTOS_PER_MOVE);
            for photo in &read.photos {
                assert!(photo.bytes.len() <= MAX_PHOTO_BYTES, "{}", photo.label);
                assert_eq!(sniff(&photo.bytes), Sniffed::Image(photo.kind));
            }
        }
        Err(err) => refused(err, content_type),
    }
}

/// `POST /api/cases` and `POST /api/cases/{id}/moves` with photos: the multipart body (with
/// the boundary [`BOUNDARY`]) read part by part, each photo recognised by its first bytes.
pub fn photo_body(bytes: &[u8]) {
    // The bytes as a photo's, too: recognising them must never fail but by refusing.
    if let Err(err) = recognised(bytes, "photo 1") {
        refused(err, "a photo");
    }
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    with_photos::<ReportCase>(&content_type, bytes);
    with_photos::<MoveCase>(&content_type, bytes);
}

/// The JSON bodies: a login, a report and a move, as `application/json`.
pub fn json_body(bytes: &[u8]) {
    let request = body_request("application/json", bytes);
    if let Err(err) = ready(JsonBody::<LoginRequest>::from_request(request, &())) {
        refused(err, "a login");
    }
    with_photos::<ReportCase>("application/json", bytes);
    with_photos::<MoveCase>("application/json", bytes);
}

/// What a wall sends on `/ws`. The socket hands over text frames only as UTF-8 and at most
/// 16 KiB; the server ignores what it cannot read.
pub fn ws_client(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Err(err) = ws::read_client_msg(text) {
        // The reason is logged.
        assert!(!err.to_string().is_empty());
    }
}

/// What a seat sends on `/ws/seat`: read, then carried out on a control table of its own by a
/// seat that takes the wall first (the display's checks against an account and the hub need a
/// server, and are left out). Text that is not a message gets a `refused` event.
pub fn ws_seat(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let msg = match seat::read_seat_msg(text) {
        Ok(msg) => msg,
        Err(refused) => {
            serde_json::to_string(&refused).expect("a refusal is JSON");
            return;
        }
    };
    let wall = seat::wall_of(&msg).to_owned();
    // Built outside a runtime, the table schedules no return to the overview.
    let controls = Arc::new(Controls::new(Duration::from_secs(1)));
    let (guard, _direct) = controls.connect(Controller {
        seat: 0,
        login: "fuzz".to_owned(),
        name: "fuzz".to_owned(),
        role: Role::Dispatcher,
    });
    let me = guard.seat;
    let taken = controls.take(me, &wall);
    assert_eq!(taken.is_ok(), valid_wall_name(&wall), "{wall:?}");
    let result = match msg {
        SeatMsg::Take { wall } => controls.take(me, &wall),
        SeatMsg::Release { wall } => controls.release(me, &wall),
        SeatMsg::Handover { wall, to_seat } => controls.handover(me, &wall, to_seat),
        SeatMsg::Show { wall, display } => controls.show(me, &wall, display, None),
    };
    match result {
        Ok(state) => {
            assert_eq!(state.wall, wall);
            serde_json::to_string(&*state).expect("a channel's state is JSON");
        }
        Err(refusal) => assert!(!refusal.0.code.is_empty()),
    }
}

/// One query type through `ApiQuery`, as its handler extracts it; `check` runs the handler's
/// own checks of the values.
fn api_query<T: DeserializeOwned + Send>(uri: &Uri, check: impl FnOnce(T) -> Result<(), AppError>) {
    let (mut parts, ()) = Request::builder()
        .uri(uri.clone())
        .body(())
        .expect("a request")
        .into_parts();
    let read = ready(ApiQuery::<T>::from_request_parts(&mut parts, &()));
    if let Err(err) = read.and_then(|ApiQuery(query)| check(query)) {
        refused(err, &format!("query {uri}"));
    }
}

/// A period as the assessment checks it: `to` after `from`, at most 400 days.
fn period_ok(period: shared::assess::Period) {
    assert!(period.from_ms < period.to_ms, "{period:?}");
    assert!(period.to_ms - period.from_ms <= MAX_PERIOD_DAYS * shared::time::DAY_MS);
}

/// The query strings of the API's routes, each through its own type and its handler's checks.
pub fn query(bytes: &[u8]) {
    let Some(uri) = query_of(bytes) else {
        return;
    };
    api_query(&uri, |q: wall::WallQuery| {
        parse_scope(q.scope.as_deref()).map(drop)
    });
    api_query(&uri, |q: wall::WallAtQuery| {
        parse_scope(q.scope.as_deref())?;
        q.at.map(|at| moment("at", at)).transpose().map(drop)
    });
    api_query(&uri, |q: crate::http::team::TeamQuery| {
        q.at.map(|at| moment("at", at)).transpose().map(drop)
    });
    api_query(&uri, |q: assessment::RankingsQuery| {
        assessment::by_of(q.by.as_deref())?;
        assessment::scope_of(q.scope.as_deref())?;
        period_ok(assessment::period_of(q.from.as_deref(), q.to.as_deref())?);
        Ok(())
    });
    api_query(&uri, |q: assessment::CompareQuery| {
        let a = assessment::period_of(q.from.as_deref(), q.to.as_deref())?;
        period_ok(a);
        period_ok(assessment::second_period(a, &q)?);
        assessment::scope_of(q.scope.as_deref()).map(drop)
    });
    api_query(&uri, |q: assessment::BriefingQuery| {
        assessment::scope_of(q.scope.as_deref())?;
        period_ok(assessment::period_of(q.from.as_deref(), q.to.as_deref())?);
        Ok(())
    });
    api_query(&uri, |q: ListQuery| {
        for role in Role::ALL {
            match check_list_query(&q, role) {
                Ok(_) => {}
                Err(err) => refused(err, "a case list's query"),
            }
        }
        Ok(())
    });
    api_query(&uri, |_: ws::ResumeQuery| Ok(()));
    api_query(&uri, |_: seat::SeatQuery| Ok(()));
    api_query(&uri, |_: crate::http::photos::PhotoQuery| Ok(()));
    // The Open311 reads take any query string first, whatever resource they answer.
    if let Err(failure) = Params::parse(uri.query().unwrap_or_default().as_bytes(), Format::Json) {
        refused_311(failure, "an Open311 query");
    }
}

/// A fuzz target: raw bytes in, a panic for anything wrong.
pub type Target = fn(&[u8]);

/// Every target by name, as `fuzz/` and the tests call them.
pub const TARGETS: [(&str, Target); 9] = [
    ("geojson", geojson),
    ("geojson_rings", geojson_rings),
    ("open311_form", open311_form),
    ("open311_query", open311_query),
    ("photo_body", photo_body),
    ("json_body", json_body),
    ("ws_client", ws_client),
    ("ws_seat", ws_seat),
    ("query", query),
];

#[cfg(test)]
mod tests;
