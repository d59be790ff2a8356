//! The SQL behind the requests: what `GET requests` asks for, the query built from it, and
//! the read of one request by its id.

use super::datetime::parse_w3c;
use super::document::Format;
use super::error::{Failure, echo};
use super::params::Params;
use super::privacy::{self, Reader};
use crate::error::AppError;
use crate::store::Db;
use crate::store::binds::Binds;
use crate::store::case_rows::{CASE_COLUMNS, case_from_row};
use axum::http::StatusCode;
use gridwall_core::plan::CaseRecord;
use shared::taxonomy;
use shared::time::DAY_MS;
use sqlx::Row;
use std::sync::LazyLock;

/// How far back `GET requests` looks when no dates are given, and the longest span it
/// answers, as the standard sets them.
pub const DEFAULT_WINDOW_DAYS: i64 = 90;
/// The most requests one `GET requests` returns, as the standard sets it.
pub const MAX_REQUESTS: usize = 1_000;

/// The columns of one service request: the case's own, read as [`case_from_row`] reads them, with
/// its grid's, street's and district's names for the address. The case's columns are
/// qualified and named back, since the joined tables have columns of the same names; the
/// reporter is among them but no request document shows it.
static REQUEST_SELECT: LazyLock<String> = LazyLock::new(|| {
    let case_columns: Vec<String> = CASE_COLUMNS
        .split(',')
        .map(str::trim)
        .map(|column| format!("c.{column} AS {column}"))
        .collect();
    format!(
        "SELECT {}, g.name AS grid_name, s.name_zh AS street_name, \
         d.name_zh AS district_name \
         FROM cases c \
         LEFT JOIN grids g ON g.id = c.grid_id \
         LEFT JOIN streets s ON s.code = g.street_code \
         LEFT JOIN districts d ON d.code = s.district_code",
        case_columns.join(", ")
    )
});

/// One case as a service request.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct RequestRow {
    pub(super) case: CaseRecord,
    /// The grid's, street's and district's names, most specific first.
    pub(super) places: Vec<String>,
}

impl RequestRow {
    fn from_row(row: &sqlx::any::AnyRow) -> Result<RequestRow, AppError> {
        let mut places = Vec::new();
        for column in ["grid_name", "street_name", "district_name"] {
            if let Some(name) = row.try_get::<Option<String>, _>(column)? {
                places.push(name);
            }
        }
        Ok(RequestRow {
            case: case_from_row(row)?,
            places,
        })
    }
}

/// What `GET requests` asks for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Query {
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
    pub(crate) fn from_params(
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
                    let (first, last) = parse_w3c(text, offset_minutes).ok_or_else(|| {
                        Failure::bad(
                            format,
                            format!(
                                "{name} `{}` is not a W3C datetime such as \
                                 2026-11-01T00:00:00+08:00",
                                echo(text)
                            ),
                        )
                    })?;
                    // The same years as every moment of the API, so that the window's
                    // arithmetic below stays far from overflow.
                    if !shared::time::moment_in_range(first) || !shared::time::moment_in_range(last)
                    {
                        return Err(Failure::bad(
                            format,
                            format!("{name} `{}` is outside the years 2000 to 2099", echo(text)),
                        ));
                    }
                    Ok((first, last))
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

/// The requests a query asks for, newest first, at most [`MAX_REQUESTS`] of them.
pub(super) async fn read_requests(
    db: &Db,
    query: &Query,
    reader: &Reader,
) -> Result<Vec<RequestRow>, AppError> {
    let mut binds = Binds::default();
    let mut sql = REQUEST_SELECT.clone();
    match query {
        Query::Ids(ids) => {
            let list: Vec<String> = ids.iter().map(|id| binds.int(*id)).collect();
            sql.push_str(&format!(" WHERE c.id IN ({})", list.join(", ")));
        }
        Query::Window {
            from_ms,
            to_ms,
            codes,
            closed,
        } => {
            let from = binds.int(*from_ms);
            let to = binds.int(*to_ms);
            sql.push_str(&format!(
                " WHERE c.reported_at >= {from} AND c.reported_at <= {to}"
            ));
            if !codes.is_empty() {
                let list: Vec<String> = codes.iter().map(|c| binds.text(c.clone())).collect();
                sql.push_str(&format!(" AND c.sub_item_code IN ({})", list.join(", ")));
            }
            match closed {
                Some(true) => sql.push_str(" AND c.state IN ('closed', 'rejected')"),
                Some(false) => sql.push_str(" AND c.state NOT IN ('closed', 'rejected')"),
                None => {}
            }
        }
    }
    // What the reader may not see is never read.
    sql.push_str(&privacy::condition(reader, &mut binds));
    let limit = binds.int(MAX_REQUESTS as i64);
    sql.push_str(&format!(
        " ORDER BY c.reported_at DESC, c.id DESC LIMIT {limit}"
    ));
    binds
        .query(sql)
        .fetch_all(db)
        .await?
        .iter()
        .map(RequestRow::from_row)
        .collect()
}

/// One request by the id in a path, or the standard's 404.
pub(super) async fn one_request(
    db: &Db,
    id: &str,
    format: Format,
    reader: &Reader,
) -> Result<RequestRow, Failure> {
    let missing = || {
        Failure::new(
            StatusCode::NOT_FOUND,
            format,
            format!("service_request_id `{}` was not found", echo(id)),
        )
    };
    let id: i64 = id.parse().map_err(|_| missing())?;
    read_requests(db, &Query::Ids(vec![id]), reader)
        .await
        .map_err(|e| Failure::from_app(e, format))?
        .pop()
        .ok_or_else(missing)
}

/// What the reader is shown of `rows`: an app, the rows its role may see; the public, each
/// place moved to its grid's label point (or left out when the case has no grid).
pub(super) fn shown(
    reader: &Reader,
    rows: Vec<RequestRow>,
    areas: &gridwall_core::policy::AreaIndex,
    labels: &std::collections::HashMap<String, shared::case::Point>,
) -> Vec<RequestRow> {
    match reader {
        Reader::App(app) => rows
            .into_iter()
            .filter(|r| {
                app.may_see(
                    r.case.grid_id.as_deref(),
                    r.case.facts.department.as_deref(),
                    areas,
                )
            })
            .collect(),
        Reader::Public => rows
            .into_iter()
            .map(|mut r| {
                r.case.point = r.case.grid_id.as_ref().and_then(|g| labels.get(g)).copied();
                r
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CST: i32 = 8 * 60;

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
