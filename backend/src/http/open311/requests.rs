//! A case as the standard's service request: its status, its notes, its `media_url` and the
//! document `GET requests` answers with.

use super::Open311;
use super::document::{Doc, Format};
use super::queries::RequestRow;
use super::services::service_notice;
use super::xml::render;
use axum::http::StatusCode;
use axum::response::Response;
use shared::case::{Bucket, CaseState, Supervision};
use shared::taxonomy;

/// The line that carries a request's `media_url` at the end of the case's description.
pub(super) const MEDIA_LINE: &str = "\nmedia_url: ";
/// The longest `media_url` kept; longer ones are refused rather than cut.
pub(super) const MAX_MEDIA_URL_CHARS: usize = 500;

/// The standard's two statuses: a closed or rejected case is done with; any other is open.
fn is_closed(state: CaseState) -> bool {
    state.bucket() != Bucket::Open
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

/// Whether `url` is a `media_url` this server keeps: an http or https address, short and
/// without spaces, so that it stays one line of the description.
pub(super) fn is_media_url(url: &str) -> bool {
    (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() > "https://".len()
        && url.chars().count() <= MAX_MEDIA_URL_CHARS
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// One request as `GET requests` shows it: every field of the standard, `null` when unknown,
/// and no one's identity.
fn request_doc(row: &RequestRow, open311: &Open311) -> Doc {
    let case = &row.case;
    let facts = &case.facts;
    let item = case.sub_item.as_deref().and_then(taxonomy::sub_item);
    let (description, media_url) = split_media(&case.description);
    let number = |x: Option<f64>| x.map_or(Doc::Null, Doc::Num);
    Doc::Fields(vec![
        ("service_request_id", Doc::Int(case.id)),
        (
            "status",
            Doc::text(if is_closed(facts.state) {
                "closed"
            } else {
                "open"
            }),
        ),
        (
            "status_notes",
            Doc::Text(status_notes(
                facts.state,
                facts.department.as_deref(),
                facts.supervision,
            )),
        ),
        (
            "service_name",
            Doc::text(item.map_or(case.category.name_zh(), |i| i.name_zh)),
        ),
        ("service_code", Doc::optional(case.sub_item.clone())),
        ("description", Doc::text(description)),
        (
            "agency_responsible",
            Doc::optional(facts.department.as_deref().map(|code| {
                taxonomy::department(code).map_or_else(|| code.to_owned(), |d| d.name_zh.to_owned())
            })),
        ),
        ("service_notice", Doc::optional(item.map(service_notice))),
        (
            "requested_datetime",
            Doc::Text(open311.datetime(case.reported_at_ms)),
        ),
        (
            "updated_datetime",
            Doc::Text(open311.datetime(case.updated_at_ms)),
        ),
        (
            "expected_datetime",
            Doc::optional(facts.deadline_ms.map(|ms| open311.datetime(ms))),
        ),
        (
            "address",
            Doc::optional((!row.places.is_empty()).then(|| row.places.join(", "))),
        ),
        ("address_id", Doc::optional(case.grid_id.clone())),
        ("zipcode", Doc::Null),
        ("lat", number(case.point.map(|p| p.lat))),
        ("long", number(case.point.map(|p| p.lon))),
        ("media_url", Doc::optional(media_url.map(str::to_owned))),
    ])
}

/// The requests as the `service_requests` document, in the order given.
pub(super) fn requests_response(
    rows: &[RequestRow],
    open311: &Open311,
    format: Format,
) -> Response {
    let items = rows.iter().map(|row| request_doc(row, open311)).collect();
    render(
        format,
        StatusCode::OK,
        "service_requests",
        &Doc::List("request", items),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
