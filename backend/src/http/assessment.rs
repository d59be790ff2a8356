//! The assessment's routes: `/api/rankings`, `/api/rankings.csv`, `/api/compare`,
//! `/api/briefing.svg` and `/api/briefing.png`. Their parameters are checked here, each named
//! in its 400; the counting is `services::assessment`.

use crate::error::AppError;
use crate::http::extract::ApiQuery;
use crate::http::extract::Caller;
use crate::services::assessment::{Assessment, briefing, date_text};
use axum::Json;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use shared::assess::{Comparison, MAX_PERIOD_DAYS, Period, RankBy, Rankings};
use shared::case::ApiError;
use shared::time::local_day;
use shared::wall::Scope;
use std::sync::Arc;
use std::time::Instant;

const DAY_MS: i64 = 86_400_000;
/// The period the routes assess when `from` and `to` are left out: the 30 days up to now.
const DEFAULT_DAYS: i64 = 30;

/// The query of `GET /api/rankings` and `GET /api/rankings.csv`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RankingsQuery {
    /// `department` (the default) or `street`.
    #[param(value_type = Option<String>, example = "department")]
    pub by: Option<String>,
    /// `city` (the default), `district:CODE` or `street:CODE`.
    pub scope: Option<String>,
    /// The period's first millisecond (Unix ms); 30 days before `to` by default.
    #[param(value_type = Option<i64>)]
    pub from: Option<String>,
    /// The first millisecond after the period (Unix ms); now by default. At most 400 days
    /// after `from`.
    #[param(value_type = Option<i64>)]
    pub to: Option<String>,
}

/// The query of `GET /api/compare`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CompareQuery {
    /// `city` (the default), `district:CODE` or `street:CODE`.
    pub scope: Option<String>,
    /// Period `a`'s first millisecond (Unix ms); 30 days before `to` by default.
    #[param(value_type = Option<i64>)]
    pub from: Option<String>,
    /// The first millisecond after period `a` (Unix ms); now by default.
    #[param(value_type = Option<i64>)]
    pub to: Option<String>,
    /// Period `b`'s first millisecond; by default `b` is as long as `a` and ends where it
    /// starts (or at `vs_to`).
    #[param(value_type = Option<i64>)]
    pub vs_from: Option<String>,
    /// The first millisecond after period `b`; by default `from` (or `vs_from` plus the
    /// length of `a`).
    #[param(value_type = Option<i64>)]
    pub vs_to: Option<String>,
}

/// The query of `GET /api/briefing.svg` and `GET /api/briefing.png`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BriefingQuery {
    /// `city` (the default), `district:CODE` or `street:CODE`.
    pub scope: Option<String>,
    /// The period's first millisecond (Unix ms); 30 days before `to` by default.
    #[param(value_type = Option<i64>)]
    pub from: Option<String>,
    /// The first millisecond after the period (Unix ms); now by default.
    #[param(value_type = Option<i64>)]
    pub to: Option<String>,
}

/// A millisecond parameter, named in the 400 when it is not a whole number.
fn millis(name: &str, value: Option<&str>) -> Result<Option<i64>, AppError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => {
            let ms = text.parse::<i64>().map_err(|_| {
                AppError::bad_parameter(
                    name,
                    format!(
                        "`{}` is not a time in Unix milliseconds",
                        text.chars().take(32).collect::<String>()
                    ),
                )
            })?;
            crate::http::extract::moment(name, ms).map(Some)
        }
    }
}

/// Checks a period: `to` after `from`, and at most [`MAX_PERIOD_DAYS`] long.
fn checked(from_name: &str, to_name: &str, period: Period) -> Result<Period, AppError> {
    if period.to_ms <= period.from_ms {
        return Err(AppError::bad_parameter(
            to_name,
            format!(
                "`{to_name}` ({}) must be later than `{from_name}` ({})",
                period.to_ms, period.from_ms
            ),
        ));
    }
    // Both ends are moments in range (`millis`), so the difference cannot overflow; checked
    // all the same, since a period is also built from defaults.
    let length = period.to_ms.checked_sub(period.from_ms).unwrap_or(i64::MAX);
    if length > MAX_PERIOD_DAYS * DAY_MS {
        return Err(AppError::bad_parameter(
            from_name,
            format!(
                "the period from `{from_name}` to `{to_name}` is {:.1} days; at most \
                 {MAX_PERIOD_DAYS} days are assessed at once",
                length as f64 / DAY_MS as f64
            ),
        ));
    }
    Ok(period)
}

/// The period named by `from` and `to`, with their defaults.
pub(crate) fn period_of(from: Option<&str>, to: Option<&str>) -> Result<Period, AppError> {
    let to_ms = millis("to", to)?.unwrap_or_else(crate::clock::now_ms);
    let from_ms = millis("from", from)?.unwrap_or(to_ms - DEFAULT_DAYS * DAY_MS);
    checked("from", "to", Period { from_ms, to_ms })
}

pub(crate) fn scope_of(scope: Option<&str>) -> Result<Scope, AppError> {
    match scope.map(str::trim) {
        None | Some("") => Ok(Scope::City),
        Some(text) => Scope::parse(text).map_err(|e| AppError::bad_parameter("scope", e)),
    }
}

pub(crate) fn by_of(by: Option<&str>) -> Result<RankBy, AppError> {
    match by.map(str::trim) {
        None | Some("") => Ok(RankBy::Department),
        Some(code) => RankBy::from_code(code).ok_or_else(|| {
            AppError::bad_parameter(
                "by",
                format!(
                    "unknown ranking `{}`; expected `department` or `street`",
                    code.chars().take(32).collect::<String>()
                ),
            )
        }),
    }
}

/// The second period of a comparison: by default as long as `a` and ending where it starts.
pub(crate) fn second_period(a: Period, q: &CompareQuery) -> Result<Period, AppError> {
    let len = a.to_ms - a.from_ms;
    let vs_from = millis("vs_from", q.vs_from.as_deref())?;
    let vs_to = millis("vs_to", q.vs_to.as_deref())?;
    let b_to = vs_to.unwrap_or_else(|| vs_from.map_or(a.from_ms, |f| f + len));
    let b_from = vs_from.unwrap_or(b_to - len);
    checked(
        "vs_from",
        "vs_to",
        Period {
            from_ms: b_from,
            to_ms: b_to,
        },
    )
}

/// `GET /api/rankings`: departments or streets of a scope over a period, best first.
#[utoipa::path(
    get,
    path = "/api/rankings",
    tag = "assessment",
    params(RankingsQuery),
    responses(
        (status = 200, description = "The ranking: by on-time closure rate (highest first), then average handling time (shortest first), then code; rows without closures last.", body = Rankings),
        (status = 400, description = "A bad `by`, `scope`, `from` or `to` (not a number, `to` not after `from`, a period over 400 days), or an unknown parameter; `field` names it.", body = ApiError),
        (status = 401, description = "No credential, or one that does not work.", body = ApiError),
        (status = 403, description = "The caller is not a leader, nor a dispatcher whose area holds the scope.", body = ApiError),
        (status = 404, description = "There is no such district or street.", body = ApiError),
        (status = 500, description = "The server failed (database); the log has the details, the body does not.", body = ApiError),
    ),
    security(("bearer" = []))
)]
pub async fn rankings(
    State(assessment): State<Arc<Assessment>>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<RankingsQuery>,
) -> Result<Json<Rankings>, AppError> {
    Ok(Json(
        assessment
            .rankings(
                &who,
                by_of(q.by.as_deref())?,
                scope_of(q.scope.as_deref())?,
                period_of(q.from.as_deref(), q.to.as_deref())?,
            )
            .await?,
    ))
}

/// The CSV's columns, in order: the ranking's fields with Chinese headings for the meeting's
/// spreadsheet.
const CSV_HEADER: [&str; 13] = [
    "排名",
    "代码",
    "名称",
    "结案数",
    "按期结案数",
    "按期结案率",
    "办理总时长(毫秒)",
    "平均办理时长(小时)",
    "办结案件数",
    "核查退回案件数",
    "退回占比",
    "重新打开数",
    "上报数",
];

/// One CSV field, quoted when it holds a separator, a quote or a line break (RFC 4180). A
/// text that a spreadsheet would take for a formula gets a leading apostrophe, so that an
/// imported street name cannot run one in the meeting's Excel.
fn csv_text(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn csv_number(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// The ranking as CSV: a UTF-8 byte order mark (so that Excel reads the Chinese), the header
/// and one line per row, each ended by CRLF.
pub fn rankings_csv_text(rankings: &Rankings) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&CSV_HEADER.join(","));
    out.push_str("\r\n");
    for r in &rankings.rows {
        let fields = [
            r.rank.to_string(),
            csv_text(&r.code),
            csv_text(&r.name),
            r.closures.to_string(),
            r.on_time.to_string(),
            csv_number(r.on_time_rate),
            r.handling_ms.to_string(),
            csv_number(r.avg_handling_hours),
            r.resolved.to_string(),
            r.returned.to_string(),
            csv_number(r.returned_share),
            r.reopened.to_string(),
            r.reports.map(|n| n.to_string()).unwrap_or_default(),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A file name's part made of letters, digits and dashes only, so that the header needs no
/// quoting rules beyond its quotes.
fn file_part(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// `attachment; filename="…"` for a download named after its contents.
fn attachment(
    what: &str,
    scope: &Scope,
    period: Period,
    utc_offset_minutes: i32,
    ext: &str,
) -> String {
    let first = date_text(local_day(period.from_ms, utc_offset_minutes));
    let last = date_text(local_day(period.to_ms - 1, utc_offset_minutes));
    format!(
        "attachment; filename=\"{what}-{}-{first}-{last}.{ext}\"",
        file_part(&scope.to_string())
    )
}

/// `GET /api/rankings.csv`: the same ranking as a spreadsheet.
#[utoipa::path(
    get,
    path = "/api/rankings.csv",
    tag = "assessment",
    description = "The ranking of `GET /api/rankings` as CSV for Excel: UTF-8 with a byte order \
        mark, CRLF line ends, a header row (排名, 代码, 名称, 结案数, 按期结案数, 按期结案率, \
        办理总时长(毫秒), 平均办理时长(小时), 办结案件数, 核查退回案件数, 退回占比, 重新打开数, \
        上报数) and one row per department or street, fields quoted as RFC 4180 says; an \
        absent rate is an empty field. Sent as an attachment named after the ranking, the scope \
        and the period.",
    params(RankingsQuery),
    responses(
        (status = 200, description = "The ranking as CSV.", body = String, content_type = "text/csv; charset=utf-8"),
        (status = 400, description = "A bad `by`, `scope`, `from` or `to`, or an unknown parameter; `field` names it.", body = ApiError),
        (status = 401, description = "No credential, or one that does not work.", body = ApiError),
        (status = 403, description = "The caller is not a leader, nor a dispatcher whose area holds the scope.", body = ApiError),
        (status = 404, description = "There is no such district or street.", body = ApiError),
        (status = 500, description = "The server failed (database); the log has the details, the body does not.", body = ApiError),
    ),
    security(("bearer" = []))
)]
pub async fn rankings_csv(
    State(assessment): State<Arc<Assessment>>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<RankingsQuery>,
) -> Result<Response, AppError> {
    let rankings = assessment
        .rankings(
            &who,
            by_of(q.by.as_deref())?,
            scope_of(q.scope.as_deref())?,
            period_of(q.from.as_deref(), q.to.as_deref())?,
        )
        .await?;
    let name = attachment(
        &format!("rankings-{}", rankings.by),
        &rankings.scope,
        rankings.period,
        assessment.utc_offset_minutes,
        "csv",
    );
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (CONTENT_DISPOSITION, name),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        rankings_csv_text(&rankings),
    )
        .into_response())
}

/// `GET /api/compare`: a scope's key figures over two periods.
#[utoipa::path(
    get,
    path = "/api/compare",
    tag = "assessment",
    params(CompareQuery),
    responses(
        (status = 200, description = "The figures of period `a` (`from`, `to`) and of period `b` (`vs_from`, `vs_to`; by default the period of the same length just before `a`).", body = Comparison),
        (status = 400, description = "A bad `scope` or time, a period whose end is not after its start or that is over 400 days, or an unknown parameter; `field` names it.", body = ApiError),
        (status = 401, description = "No credential, or one that does not work.", body = ApiError),
        (status = 403, description = "The caller is not a leader, nor a dispatcher whose area holds the scope.", body = ApiError),
        (status = 404, description = "There is no such district or street.", body = ApiError),
        (status = 500, description = "The server failed (database); the log has the details, the body does not.", body = ApiError),
    ),
    security(("bearer" = []))
)]
pub async fn compare(
    State(assessment): State<Arc<Assessment>>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<CompareQuery>,
) -> Result<Json<Comparison>, AppError> {
    Ok(Json({
        let a = period_of(q.from.as_deref(), q.to.as_deref())?;
        let b = second_period(a, &q)?;
        assessment
            .compare(&who, scope_of(q.scope.as_deref())?, a, b)
            .await?
    }))
}

/// `GET /api/briefing.svg`: the period's briefing image as SVG.
#[utoipa::path(
    get,
    path = "/api/briefing.svg",
    tag = "assessment",
    description = "A 1600×900 briefing image for meetings, drawn on the server: the scope and \
        the period, the key figures, the departments' on-time closure rates (top 10), the \
        streets' (top 10) and the reports of each day. The SVG names its font \
        (Noto Sans CJK SC and fallbacks) and needs no font file on the server.",
    params(BriefingQuery),
    responses(
        (status = 200, description = "The briefing as SVG.", body = String, content_type = "image/svg+xml"),
        (status = 400, description = "A bad `scope`, `from` or `to`, or an unknown parameter; `field` names it.", body = ApiError),
        (status = 401, description = "No credential, or one that does not work.", body = ApiError),
        (status = 403, description = "The caller is not a leader, nor a dispatcher whose area holds the scope.", body = ApiError),
        (status = 404, description = "There is no such district or street.", body = ApiError),
        (status = 500, description = "The server failed (database or drawing); the log has the details, the body does not.", body = ApiError),
    ),
    security(("bearer" = []))
)]
pub async fn briefing_svg(
    State(assessment): State<Arc<Assessment>>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<BriefingQuery>,
) -> Result<Response, AppError> {
    let data = assessment
        .briefing(
            &who,
            scope_of(q.scope.as_deref())?,
            period_of(q.from.as_deref(), q.to.as_deref())?,
        )
        .await?;
    let started = Instant::now();
    let svg = tokio::task::spawn_blocking(move || briefing::svg(&data))
        .await
        .map_err(|_| AppError::Unavailable("the briefing's drawing stopped".to_owned()))??;
    tracing::debug!(
        bytes = svg.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "briefing drawn as SVG"
    );
    Ok((
        [(CONTENT_TYPE, "image/svg+xml"), (CACHE_CONTROL, "no-store")],
        svg,
    )
        .into_response())
}

/// `GET /api/briefing.png`: the period's briefing image as PNG.
#[utoipa::path(
    get,
    path = "/api/briefing.png",
    tag = "assessment",
    description = "The briefing of `GET /api/briefing.svg` as a 1600×900 PNG, its text drawn \
        with the CJK font that `--briefing-font` (`GRIDWALL_BRIEFING_FONT`) names (Noto Sans \
        CJK by default; from a collection, its Simplified Chinese face).",
    params(BriefingQuery),
    responses(
        (status = 200, description = "The briefing as PNG.", body = Vec<u8>, content_type = "image/png"),
        (status = 400, description = "A bad `scope`, `from` or `to`, or an unknown parameter; `field` names it.", body = ApiError),
        (status = 401, description = "No credential, or one that does not work.", body = ApiError),
        (status = 403, description = "The caller is not a leader, nor a dispatcher whose area holds the scope.", body = ApiError),
        (status = 404, description = "There is no such district or street.", body = ApiError),
        (status = 503, description = "The font for the PNG's text cannot be read; the message names `--briefing-font`.", body = ApiError),
        (status = 500, description = "The server failed (database or drawing); the log has the details, the body does not.", body = ApiError),
    ),
    security(("bearer" = []))
)]
pub async fn briefing_png(
    State(assessment): State<Arc<Assessment>>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<BriefingQuery>,
) -> Result<Response, AppError> {
    let data = assessment
        .briefing(
            &who,
            scope_of(q.scope.as_deref())?,
            period_of(q.from.as_deref(), q.to.as_deref())?,
        )
        .await?;
    let font = assessment.font.clone();
    let started = Instant::now();
    let png = tokio::task::spawn_blocking(move || {
        let font = briefing::font(&font)?;
        briefing::png(&data, &font)
    })
    .await
    .map_err(|_| AppError::Unavailable("the briefing's drawing stopped".to_owned()))??;
    tracing::debug!(
        bytes = png.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "briefing drawn as PNG"
    );
    Ok((
        [(CONTENT_TYPE, "image/png"), (CACHE_CONTROL, "no-store")],
        png,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_text("萨尔图"), "萨尔图");
        assert_eq!(csv_text("a,b"), "\"a,b\"");
        assert_eq!(csv_text("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_text("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(csv_text("=1+1"), "'=1+1");
        assert_eq!(csv_text("-2,3"), "\"'-2,3\"");
    }

    #[test]
    fn periods_are_checked_and_name_their_parameter() {
        let field = |r: Result<Period, AppError>| match r {
            Err(AppError::BadParameter { parameter, .. }) => parameter,
            other => panic!("expected a bad parameter, got {other:?}"),
        };
        // A moment in the years the API takes: 2023-11-14.
        const T: i64 = 1_700_000_000_000;
        let at = |days: i64| (T + days * DAY_MS).to_string();
        assert_eq!(field(period_of(Some(&at(0)), Some(&at(0)))), "to");
        assert_eq!(field(period_of(Some("x"), Some(&at(0)))), "from");
        assert_eq!(field(period_of(Some(&at(0)), Some(&at(401)))), "from");
        let ok = period_of(Some(&at(0)), Some(&at(400))).expect("400 days");
        assert_eq!(ok.to_ms, T + 400 * DAY_MS);
        // Moments outside 2000 to 2100 are refused before any arithmetic: the huge period that
        // once made the server build a series of 10^11 days.
        assert_eq!(
            field(period_of(
                Some("-5000000000000000000"),
                Some("5000000000000000000")
            )),
            "to"
        );
        assert_eq!(
            field(period_of(Some("-5000000000000000000"), Some(&at(0)))),
            "from"
        );
        assert_eq!(field(period_of(Some("10"), Some(&at(0)))), "from");
        let default = period_of(None, Some(&at(0))).expect("a default start");
        assert_eq!(default.from_ms, T - DEFAULT_DAYS * DAY_MS);
    }

    #[test]
    fn download_names_carry_scope_and_dates() {
        let period = Period {
            from_ms: 0,
            to_ms: DAY_MS,
        };
        assert_eq!(
            attachment(
                "rankings-street",
                &Scope::District("230602".to_owned()),
                period,
                0,
                "csv"
            ),
            "attachment; filename=\"rankings-street-district-230602-1970-01-01-1970-01-01.csv\""
        );
    }
}
