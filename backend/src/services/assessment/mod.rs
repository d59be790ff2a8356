//! Assessment (综治考核): rankings of departments and streets over a period, a comparison of two
//! periods and what the briefing image shows, all counted from the transition log. The routes
//! are `http::assessment`; this is the counting.
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
use crate::store::Db;
use crate::store::binds::{Binds, BoundQuery};
use gridwall_core::policy::{AreaIndex, Principal};
use shared::assess::{Comparison, Counts, Period, PeriodFigures, RankBy, RankRow, Rankings};
use shared::time::{civil_from_day, local_day};
use shared::wall::Scope;
use sqlx::Row;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

const DAY_MS: i64 = 86_400_000;

/// What the assessment routes share: the database, the areas for access checks, the centre's
/// time zone for dates, and the font the PNG briefing is drawn with.
#[derive(Debug)]
pub struct Assessment {
    db: Db,
    areas: Arc<AreaIndex>,
    pub utc_offset_minutes: i32,
    /// The font the PNG briefing's text is set in (`--briefing-font`).
    pub font: PathBuf,
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

/// A statement built from parts, with its placeholders numbered as they are bound.
#[derive(Debug, Default)]
struct Sql {
    binds: Binds,
}

impl Sql {
    /// The `AND …` that keeps the rows of `scope`'s cases (`g` is the case's grid and `s` its
    /// street), or nothing for the city.
    fn scope(&mut self, scope: &Scope) -> String {
        match scope {
            Scope::City => String::new(),
            Scope::District(code) => {
                format!(" AND s.district_code = {}", self.binds.text(code.clone()))
            }
            Scope::Street(code) => {
                format!(" AND g.street_code = {}", self.binds.text(code.clone()))
            }
        }
    }

    fn query(&self, text: String) -> BoundQuery<'_> {
        self.binds.query(text)
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
    let from = sql.binds.int(period.from_ms);
    let to = sql.binds.int(period.to_ms);
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
        Scope::District(code) => {
            format!(" WHERE district_code = {}", sql.binds.text(code.clone()))
        }
        Scope::Street(code) => format!(" WHERE code = {}", sql.binds.text(code.clone())),
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
    let offset = sql.binds.int(i64::from(utc_offset_minutes) * 60_000);
    let from = sql.binds.int(period.from_ms);
    let to = sql.binds.int(period.to_ms);
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

impl Assessment {
    /// Checks that the caller may assess `scope` and opens a snapshot in which it exists.
    async fn open(&self, who: &Principal, scope: &Scope) -> Result<(Tx, String), AppError> {
        who.may_assess(scope, &self.areas)?;
        let mut tx = crate::store::begin_snapshot(&self.db).await?;
        let name = scope_name(&mut tx, scope)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("there is no {scope} in the city")))?;
        Ok((tx, name))
    }

    /// The departments or streets of `scope` over `period`, best first.
    pub async fn rankings(
        &self,
        who: &Principal,
        by: RankBy,
        scope: Scope,
        period: Period,
    ) -> Result<Rankings, AppError> {
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

    /// The figures of `scope` over periods `a` and `b`.
    pub async fn compare(
        &self,
        who: &Principal,
        scope: Scope,
        a: Period,
        b: Period,
    ) -> Result<Comparison, AppError> {
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
    pub async fn briefing(
        &self,
        who: &Principal,
        scope: Scope,
        period: Period,
    ) -> Result<briefing::Briefing, AppError> {
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
pub fn date_text(day: i64) -> String {
    let (y, m, d) = civil_from_day(day);
    format!("{y:04}-{m:02}-{d:02}")
}
