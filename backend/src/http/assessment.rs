//! Assessment (综治考核): rankings of departments and streets over a period, a comparison of two
//! periods, their CSV export and the briefing image, all counted from the transition log.
//!
//! The figures mean what the wall's department tally means (`live::scopes::rebuild` and
//! `Aggregate::fold`): a closure is a `close` transition, attributed to the row's department;
//! it is on time when the row's supervision is not `overdue` (supervision stays `overdue`
//! until the case closes, so a late closure counts as late); its handling time runs from the
//! case's report to it. Returns (`return`, the grid worker's failed check) and resolutions
//! (`resolve`) count distinct cases, reopenings (`reopen`) count rows. Streets are the cases'
//! grids' streets. Every query runs in one snapshot, on SQLite and PostgreSQL alike.

pub mod briefing;

use crate::error::AppError;
use crate::http::extract::ApiQuery;
use crate::services::auth::Caller;
use crate::store::Db;
use axum::Json;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use gridwall_core::policy::AreaIndex;
use shared::assess::{
    Comparison, Counts, MAX_PERIOD_DAYS, Period, PeriodFigures, RankBy, RankRow, Rankings,
};
use shared::case::ApiError;
use shared::time::{civil_from_day, local_day};
use shared::wall::Scope;
use sqlx::Row;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

const DAY_MS: i64 = 86_400_000;
/// The period the routes assess when `from` and `to` are left out: the 30 days up to now.
const DEFAULT_DAYS: i64 = 30;

/// What the assessment routes share: the database, the areas for access checks, the centre's
/// time zone for dates, and the font the PNG briefing is drawn with.
#[derive(Debug)]
pub struct Assessment {
    db: Db,
    areas: Arc<AreaIndex>,
    utc_offset_minutes: i32,
    font: PathBuf,
}

impl Assessment {
    pub fn new(
        db: Db,
        areas: Arc<AreaIndex>,
        utc_offset_minutes: i32,
        font: PathBuf,
    ) -> Assessment {
        Assessment {
            db,
            areas,
            utc_offset_minutes,
            font,
        }
    }
}

/// A value bound to a query placeholder.
#[derive(Debug, Clone)]
enum Arg {
    Int(i64),
    Text(String),
}

/// A statement built from parts, with its placeholders numbered as they are bound.
#[derive(Debug, Default)]
struct Sql {
    args: Vec<Arg>,
}

impl Sql {
    fn bind(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    /// The `AND …` that keeps the rows of `scope`'s cases (`g` is the case's grid and `s` its
    /// street), or nothing for the city.
    fn scope(&mut self, scope: &Scope) -> String {
        match scope {
            Scope::City => String::new(),
            Scope::District(code) => {
                format!(
                    " AND s.district_code = {}",
                    self.bind(Arg::Text(code.clone()))
                )
            }
            Scope::Street(code) => {
                format!(
                    " AND g.street_code = {}",
                    self.bind(Arg::Text(code.clone()))
                )
            }
        }
    }

    fn query<'q>(
        &'q self,
        text: String,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(text));
        for arg in &self.args {
            q = match arg {
                Arg::Int(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.as_str()),
            };
        }
        q
    }
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// The transitions an assessment reads, with their case, grid and street.
const FROM_LOG: &str = "FROM transitions t JOIN cases c ON c.id = t.case_id \
     LEFT JOIN grids g ON g.id = c.grid_id LEFT JOIN streets s ON s.code = g.street_code";

/// The counts' columns over the rows of `FROM_LOG`; each sum is cast, since PostgreSQL sums
/// `BIGINT`s into `NUMERIC`.
const COUNT_COLUMNS: &str = "\
    CAST(COALESCE(SUM(CASE WHEN t.action = 'report' THEN 1 ELSE 0 END), 0) AS BIGINT) AS reports, \
    CAST(COALESCE(SUM(CASE WHEN t.action = 'close' THEN 1 ELSE 0 END), 0) AS BIGINT) AS closures, \
    CAST(COALESCE(SUM(CASE WHEN t.action = 'close' AND t.supervision <> 'overdue' THEN 1 ELSE 0 END), 0) AS BIGINT) AS on_time, \
    CAST(COALESCE(SUM(CASE WHEN t.action = 'close' THEN t.at - c.reported_at ELSE 0 END), 0) AS BIGINT) AS handling_ms, \
    COUNT(DISTINCT CASE WHEN t.action = 'resolve' THEN t.case_id END) AS resolved, \
    COUNT(DISTINCT CASE WHEN t.action = 'return' THEN t.case_id END) AS returned, \
    CAST(COALESCE(SUM(CASE WHEN t.action = 'reopen' THEN 1 ELSE 0 END), 0) AS BIGINT) AS reopened";

fn counts_of(row: &sqlx::any::AnyRow) -> Result<Counts, sqlx::Error> {
    let n =
        |name: &str| -> Result<u64, sqlx::Error> { Ok(row.try_get::<i64, _>(name)?.max(0) as u64) };
    Ok(Counts {
        reports: n("reports")?,
        closures: n("closures")?,
        on_time: n("on_time")?,
        handling_ms: n("handling_ms")?,
        resolved: n("resolved")?,
        returned: n("returned")?,
        reopened: n("reopened")?,
    })
}

/// The rows of `FROM_LOG` that count: the period, the actions the figures use (which the
/// index on `(action, at)` finds), and the scope.
fn log_filter(sql: &mut Sql, period: Period, scope: &Scope) -> String {
    let from = sql.bind(Arg::Int(period.from_ms));
    let to = sql.bind(Arg::Int(period.to_ms));
    let scope = sql.scope(scope);
    format!(
        "WHERE t.action IN ('report', 'resolve', 'return', 'close', 'reopen') \
         AND t.at >= {from} AND t.at < {to}{scope}"
    )
}

/// The counts of `scope` over `period`, grouped by department or street.
async fn grouped_counts(
    tx: &mut Tx,
    by: RankBy,
    period: Period,
    scope: &Scope,
) -> Result<BTreeMap<String, Counts>, sqlx::Error> {
    let key = match by {
        RankBy::Department => "t.department_code",
        RankBy::Street => "g.street_code",
    };
    let mut sql = Sql::default();
    let filter = log_filter(&mut sql, period, scope);
    let text = format!(
        "SELECT {key} AS code, {COUNT_COLUMNS} {FROM_LOG} {filter} AND {key} IS NOT NULL GROUP BY {key}"
    );
    let mut out = BTreeMap::new();
    for row in sql.query(text).fetch_all(&mut **tx).await? {
        out.insert(row.try_get("code")?, counts_of(&row)?);
    }
    Ok(out)
}

/// The counts of all of `scope` over `period`.
async fn total_counts(tx: &mut Tx, period: Period, scope: &Scope) -> Result<Counts, sqlx::Error> {
    let mut sql = Sql::default();
    let filter = log_filter(&mut sql, period, scope);
    let row = sql
        .query(format!("SELECT {COUNT_COLUMNS} {FROM_LOG} {filter}"))
        .fetch_one(&mut **tx)
        .await?;
    counts_of(&row)
}

/// Open cases of `scope` under supervision now, as the wall counts `overdue`.
async fn overdue_now(tx: &mut Tx, scope: &Scope) -> Result<u64, sqlx::Error> {
    let mut sql = Sql::default();
    let scope = sql.scope(scope);
    let n: i64 = sql
        .query(format!(
            "SELECT COUNT(*) AS n FROM cases c LEFT JOIN grids g ON g.id = c.grid_id \
             LEFT JOIN streets s ON s.code = g.street_code \
             WHERE c.state NOT IN ('closed', 'rejected') AND c.supervision = 'overdue'{scope}"
        ))
        .fetch_one(&mut **tx)
        .await?
        .try_get("n")?;
    Ok(n.max(0) as u64)
}

/// The scope's streets with their names, in code order.
async fn streets_of(tx: &mut Tx, scope: &Scope) -> Result<Vec<(String, String)>, sqlx::Error> {
    let mut sql = Sql::default();
    let filter = match scope {
        Scope::City => String::new(),
        Scope::District(code) => format!(
            " WHERE district_code = {}",
            sql.bind(Arg::Text(code.clone()))
        ),
        Scope::Street(code) => format!(" WHERE code = {}", sql.bind(Arg::Text(code.clone()))),
    };
    let rows = sql
        .query(format!(
            "SELECT code, name_zh FROM streets{filter} ORDER BY code"
        ))
        .fetch_all(&mut **tx)
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("code")?, row.try_get("name_zh")?)))
        .collect()
}

/// The scope's Chinese name; `None` when there is no such district or street.
async fn scope_name(tx: &mut Tx, scope: &Scope) -> Result<Option<String>, sqlx::Error> {
    let (table, code) = match scope {
        Scope::City => return Ok(Some("全市".to_owned())),
        Scope::District(code) => ("districts", code),
        Scope::Street(code) => ("streets", code),
    };
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT name_zh FROM {table} WHERE code = $1"
    )))
    .bind(code.as_str())
    .fetch_optional(&mut **tx)
    .await
}

/// Reports of `scope` per local day over `period`, one entry per day from the first to the
/// last (days without reports are 0).
async fn daily_reports(
    tx: &mut Tx,
    period: Period,
    scope: &Scope,
    utc_offset_minutes: i32,
) -> Result<Vec<(i64, u64)>, sqlx::Error> {
    let mut sql = Sql::default();
    let offset = sql.bind(Arg::Int(i64::from(utc_offset_minutes) * 60_000));
    let from = sql.bind(Arg::Int(period.from_ms));
    let to = sql.bind(Arg::Int(period.to_ms));
    let scope_filter = sql.scope(scope);
    // Integer division is the same on both databases for these positive times; the grouping
    // is over a derived column, so neither database has to match an expression with a
    // placeholder in it.
    let text = format!(
        "SELECT d.day AS day, COUNT(*) AS n FROM \
           (SELECT (t.at + {offset}) / {DAY_MS} AS day {FROM_LOG} \
            WHERE t.action = 'report' AND t.at >= {from} AND t.at < {to}{scope_filter}) d \
         GROUP BY d.day"
    );
    let mut by_day = BTreeMap::new();
    for row in sql.query(text).fetch_all(&mut **tx).await? {
        by_day.insert(row.try_get::<i64, _>("day")?, row.try_get::<i64, _>("n")?);
    }
    let first = local_day(period.from_ms, utc_offset_minutes);
    let last = local_day(period.to_ms - 1, utc_offset_minutes);
    Ok((first..=last)
        .map(|day| (day, by_day.get(&day).copied().unwrap_or(0).max(0) as u64))
        .collect())
}

/// The ranking of `scope`'s departments or streets over `period`.
async fn ranking(
    tx: &mut Tx,
    by: RankBy,
    period: Period,
    scope: &Scope,
) -> Result<Vec<RankRow>, sqlx::Error> {
    let counts = grouped_counts(tx, by, period, scope).await?;
    let mut rows: Vec<RankRow> = match by {
        RankBy::Department => counts
            .into_iter()
            .map(|(code, c)| {
                let name = shared::taxonomy::department_name(&code, false).to_owned();
                RankRow::new(code, name, &c, false)
            })
            .collect(),
        // Every street of the scope is ranked, an idle one too: a street's silence is part
        // of its assessment.
        RankBy::Street => streets_of(tx, scope)
            .await?
            .into_iter()
            .map(|(code, name)| {
                let c = counts.get(&code).copied().unwrap_or_default();
                RankRow::new(code, name, &c, true)
            })
            .collect(),
    };
    RankRow::rank(&mut rows);
    Ok(rows)
}

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
        Some(text) => text.parse::<i64>().map(Some).map_err(|_| {
            AppError::bad_parameter(
                name,
                format!(
                    "`{}` is not a time in Unix milliseconds",
                    text.chars().take(32).collect::<String>()
                ),
            )
        }),
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
    if period.to_ms - period.from_ms > MAX_PERIOD_DAYS * DAY_MS {
        return Err(AppError::bad_parameter(
            from_name,
            format!(
                "the period from `{from_name}` to `{to_name}` is {:.1} days; at most \
                 {MAX_PERIOD_DAYS} days are assessed at once",
                (period.to_ms - period.from_ms) as f64 / DAY_MS as f64
            ),
        ));
    }
    Ok(period)
}

/// The period named by `from` and `to`, with their defaults.
fn period_of(from: Option<&str>, to: Option<&str>) -> Result<Period, AppError> {
    let to_ms = millis("to", to)?.unwrap_or_else(crate::clock::now_ms);
    let from_ms = millis("from", from)?.unwrap_or(to_ms - DEFAULT_DAYS * DAY_MS);
    checked("from", "to", Period { from_ms, to_ms })
}

fn scope_of(scope: Option<&str>) -> Result<Scope, AppError> {
    match scope.map(str::trim) {
        None | Some("") => Ok(Scope::City),
        Some(text) => Scope::parse(text).map_err(|e| AppError::bad_parameter("scope", e)),
    }
}

fn by_of(by: Option<&str>) -> Result<RankBy, AppError> {
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

impl Assessment {
    /// Checks that the caller may assess `scope` and opens a snapshot in which it exists.
    async fn open(
        &self,
        who: &gridwall_core::policy::Principal,
        scope: &Scope,
    ) -> Result<(Tx, String), AppError> {
        who.may_assess(scope, &self.areas)?;
        let mut tx = crate::store::begin_snapshot(&self.db).await?;
        let name = scope_name(&mut tx, scope)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("there is no {scope} in the city")))?;
        Ok((tx, name))
    }

    async fn rankings(
        &self,
        who: &gridwall_core::policy::Principal,
        q: &RankingsQuery,
    ) -> Result<Rankings, AppError> {
        let by = by_of(q.by.as_deref())?;
        let scope = scope_of(q.scope.as_deref())?;
        let period = period_of(q.from.as_deref(), q.to.as_deref())?;
        let started = Instant::now();
        let (mut tx, scope_name) = self.open(who, &scope).await?;
        let rows = ranking(&mut tx, by, period, &scope).await?;
        tx.commit().await?;
        tracing::debug!(%by, %scope, rows = rows.len(), elapsed_ms = started.elapsed().as_millis() as u64, "rankings counted");
        Ok(Rankings {
            by,
            scope,
            scope_name,
            period,
            rows,
        })
    }

    async fn compare(
        &self,
        who: &gridwall_core::policy::Principal,
        q: &CompareQuery,
    ) -> Result<Comparison, AppError> {
        let scope = scope_of(q.scope.as_deref())?;
        let a = period_of(q.from.as_deref(), q.to.as_deref())?;
        let len = a.to_ms - a.from_ms;
        let vs_from = millis("vs_from", q.vs_from.as_deref())?;
        let vs_to = millis("vs_to", q.vs_to.as_deref())?;
        let b_to = vs_to.unwrap_or_else(|| vs_from.map_or(a.from_ms, |f| f + len));
        let b_from = vs_from.unwrap_or(b_to - len);
        let b = checked(
            "vs_from",
            "vs_to",
            Period {
                from_ms: b_from,
                to_ms: b_to,
            },
        )?;
        let (mut tx, scope_name) = self.open(who, &scope).await?;
        let overdue = overdue_now(&mut tx, &scope).await?;
        let figures_a = PeriodFigures::new(a, &total_counts(&mut tx, a, &scope).await?, overdue);
        let figures_b = PeriodFigures::new(b, &total_counts(&mut tx, b, &scope).await?, overdue);
        tx.commit().await?;
        Ok(Comparison {
            scope,
            scope_name,
            a: figures_a,
            b: figures_b,
        })
    }

    /// Everything the briefing shows, read in one snapshot.
    async fn briefing(
        &self,
        who: &gridwall_core::policy::Principal,
        q: &BriefingQuery,
    ) -> Result<briefing::Briefing, AppError> {
        let scope = scope_of(q.scope.as_deref())?;
        let period = period_of(q.from.as_deref(), q.to.as_deref())?;
        let (mut tx, scope_name) = self.open(who, &scope).await?;
        let overdue = overdue_now(&mut tx, &scope).await?;
        let figures = PeriodFigures::new(
            period,
            &total_counts(&mut tx, period, &scope).await?,
            overdue,
        );
        let departments = ranking(&mut tx, RankBy::Department, period, &scope).await?;
        let streets = ranking(&mut tx, RankBy::Street, period, &scope).await?;
        let daily = daily_reports(&mut tx, period, &scope, self.utc_offset_minutes).await?;
        tx.commit().await?;
        Ok(briefing::Briefing {
            scope_name,
            period,
            period_text: self.period_text(period),
            figures,
            departments,
            streets,
            daily: daily
                .into_iter()
                .map(|(day, n)| (date_text(day), n))
                .collect(),
        })
    }

    /// The period as the centre's dates, its last day included: `2026-01-01 至 2026-01-31`.
    fn period_text(&self, period: Period) -> String {
        let first = local_day(period.from_ms, self.utc_offset_minutes);
        let last = local_day(period.to_ms - 1, self.utc_offset_minutes);
        format!("{} 至 {}", date_text(first), date_text(last))
    }
}

/// A day number as `YYYY-MM-DD`.
fn date_text(day: i64) -> String {
    let (y, m, d) = civil_from_day(day);
    format!("{y:04}-{m:02}-{d:02}")
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
    Ok(Json(assessment.rankings(&who, &q).await?))
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
    let rankings = assessment.rankings(&who, &q).await?;
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
    Ok(Json(assessment.compare(&who, &q).await?))
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
    let data = assessment.briefing(&who, &q).await?;
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
    let data = assessment.briefing(&who, &q).await?;
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
        assert_eq!(field(period_of(Some("10"), Some("10"))), "to");
        assert_eq!(field(period_of(Some("x"), Some("10"))), "from");
        assert_eq!(
            field(period_of(Some("0"), Some(&(401 * DAY_MS).to_string()))),
            "from"
        );
        let ok = period_of(Some("0"), Some(&(400 * DAY_MS).to_string())).expect("400 days");
        assert_eq!(ok.to_ms, 400 * DAY_MS);
        let default = period_of(None, Some("1000000000000")).expect("a default start");
        assert_eq!(default.from_ms, 1_000_000_000_000 - DEFAULT_DAYS * DAY_MS);
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
