//! Every scope's aggregate together: the city, each district and each street. An event folds
//! into the city and into the district and street of its grid, so its cost does not grow with
//! the number of scopes; and the whole set is rebuilt from the tables in one read transaction.

use crate::store::Db;
use crate::store::codes::{decode_action, decode_category, decode_state, decode_supervision};
use gridwall_core::event::{Committed, Event, Facts, Visit};
use gridwall_core::fold::scopes::Statics;
use gridwall_core::fold::{Aggregate, CityFacts, GridPlace, Scopes};
use serde::Deserialize;
use shared::time::{
    local_day, local_day_start_ms, local_hour, local_hour_start_ms, month_start_day,
};
use shared::wall::{LATEST_CASES, LatestCase, People, Scope, Warning};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};

/// Reads the facts the fold needs: where each grid is and each member's kind.
pub async fn city_facts(db: &Db) -> Result<CityFacts, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT g.id, g.street_code, s.district_code FROM grids g JOIN streets s ON s.code = g.street_code",
    )
    .fetch_all(db)
    .await?;
    let mut grids = HashMap::with_capacity(rows.len());
    for row in rows {
        grids.insert(
            row.try_get("id")?,
            GridPlace {
                street: row.try_get("street_code")?,
                district: row.try_get("district_code")?,
            },
        );
    }
    let mut member_kinds = HashMap::new();
    for row in sqlx::query("SELECT id, kind FROM members")
        .fetch_all(db)
        .await?
    {
        member_kinds.insert(row.try_get("id")?, row.try_get("kind")?);
    }
    Ok(CityFacts {
        grids,
        member_kinds,
    })
}

/// A `house_visits` row (`id, grid_id, member_id, household, at`).
pub(crate) fn visit_from_row(row: &sqlx::any::AnyRow) -> Result<Visit, sqlx::Error> {
    Ok(Visit {
        id: row.try_get("id")?,
        grid_id: row.try_get("grid_id")?,
        member_id: row.try_get("member_id")?,
        household: row.try_get("household")?,
        at_ms: row.try_get("at")?,
    })
}

/// The columns of a case in the list of latest cases, for both of its queries.
macro_rules! latest_columns {
    () => {
        "c.id AS id, c.category AS category, c.sub_item_code AS sub_item_code, \
         c.grid_id AS grid_id, c.state AS state, c.supervision AS supervision, \
         c.department_code AS department_code, c.updated_at AS updated_at, c.last_seq AS last_seq"
    };
}

fn u(n: i64) -> u64 {
    n.max(0) as u64
}

/// Rebuilds every scope from the tables as of local day `day` and hour `hour`, in one read
/// transaction so that every figure describes the same moment.
pub async fn rebuild(
    db: &Db,
    city: &CityFacts,
    day: i64,
    hour: i64,
    utc_offset_minutes: i32,
) -> Result<Scopes, sqlx::Error> {
    let mut stage = std::time::Instant::now();
    // Each stage's time, for operators wondering why a start is slow.
    let lap = |stage: &mut std::time::Instant, name: &str| {
        tracing::debug!(
            stage = name,
            ms = stage.elapsed().as_millis() as u64,
            "rebuild stage done"
        );
        *stage = std::time::Instant::now();
    };
    let mut tx = crate::store::begin_snapshot(db).await?;
    let today_start = local_day_start_ms(day, utc_offset_minutes);
    let today_end = local_day_start_ms(day + 1, utc_offset_minutes);
    let month_start = local_day_start_ms(month_start_day(day), utc_offset_minutes);

    // Every district and street gets a scope, with or without cases.
    let mut aggregates = BTreeMap::new();
    let empty = || Aggregate::empty(day, hour, utc_offset_minutes);
    aggregates.insert(Scope::City, empty());
    for row in sqlx::query("SELECT code FROM districts")
        .fetch_all(&mut *tx)
        .await?
    {
        aggregates.insert(Scope::District(row.try_get("code")?), empty());
    }
    for row in sqlx::query("SELECT code FROM streets")
        .fetch_all(&mut *tx)
        .await?
    {
        aggregates.insert(Scope::Street(row.try_get("code")?), empty());
    }
    let log_seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM transitions")
        .fetch_one(&mut *tx)
        .await?;
    let visit_seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM house_visits")
        .fetch_one(&mut *tx)
        .await?;
    let mut scopes = Scopes {
        aggregates,
        log_seq: u(log_seq),
        visit_seq: u(visit_seq),
    };

    lap(&mut stage, "areas");
    load_statics(&mut tx, city).await?.apply(&mut scopes, city);

    lap(&mut stage, "statics");
    // Cases, grouped by everything the figures are keyed by.
    let rows = sqlx::query(
        "SELECT grid_id, category, sub_item_code, state, supervision, department_code,
                COUNT(*) AS n,
                CAST(SUM(CASE WHEN reported_at >= $1 AND reported_at < $2 THEN 1 ELSE 0 END) AS BIGINT) AS today,
                CAST(SUM(CASE WHEN reported_at >= $1 AND reported_at < $2 AND state = 'closed' THEN 1 ELSE 0 END) AS BIGINT) AS today_closed,
                MAX(updated_at) AS last_ms
         FROM cases
         GROUP BY grid_id, category, sub_item_code, state, supervision, department_code",
    )
    .bind(today_start)
    .bind(today_end)
    .fetch_all(&mut *tx)
    .await?;
    for row in rows {
        let grid: Option<String> = row.try_get("grid_id")?;
        let category: String = row.try_get("category")?;
        let sub_item: Option<String> = row.try_get("sub_item_code")?;
        let facts = Facts {
            state: decode_state(&row.try_get::<String, _>("state")?)?,
            department: row.try_get("department_code")?,
            supervision: decode_supervision(&row.try_get::<String, _>("supervision")?)?,
            deadline_ms: None,
        };
        let n = u(row.try_get("n")?);
        let today = u(row.try_get("today")?);
        let today_closed = u(row.try_get("today_closed")?);
        let last_ms: i64 = row.try_get("last_ms")?;
        let place = grid.as_deref().and_then(|g| city.grids.get(g));
        scopes.each_of(grid.as_deref(), city, |_, agg| {
            agg.add_cases(
                n,
                &facts,
                &category,
                sub_item.as_deref(),
                grid.as_deref(),
                place,
                today,
                today_closed,
                last_ms,
            )
        });
    }

    lap(&mut stage, "cases");
    // Closures: today's, and each department's, from the log.
    let rows = sqlx::query(
        "SELECT c.grid_id AS grid_id, t.department_code AS department_code,
                COUNT(*) AS n,
                CAST(SUM(CASE WHEN t.supervision <> 'overdue' THEN 1 ELSE 0 END) AS BIGINT) AS on_time,
                CAST(SUM(t.at - c.reported_at) AS BIGINT) AS handling_ms,
                CAST(SUM(CASE WHEN t.at >= $1 AND t.at < $2 THEN 1 ELSE 0 END) AS BIGINT) AS today
         FROM transitions t JOIN cases c ON c.id = t.case_id
         WHERE t.action = 'close'
         GROUP BY c.grid_id, t.department_code",
    )
    .bind(today_start)
    .bind(today_end)
    .fetch_all(&mut *tx)
    .await?;
    for row in rows {
        let grid: Option<String> = row.try_get("grid_id")?;
        let department: Option<String> = row.try_get("department_code")?;
        let (n, on_time, handling, today) = (
            u(row.try_get("n")?),
            u(row.try_get("on_time")?),
            u(row.try_get("handling_ms")?),
            u(row.try_get("today")?),
        );
        scopes.each_of(grid.as_deref(), city, |_, agg| {
            agg.add_closed_today(today);
            if let Some(d) = &department {
                agg.add_closures(d, n, on_time, handling);
            }
        });
    }

    lap(&mut stage, "closures");
    // The warning and supervision list.
    let rows = sqlx::query(
        "SELECT id, state, supervision, category, sub_item_code, grid_id, department_code, deadline_at, updated_at
         FROM cases
         WHERE state NOT IN ('closed', 'rejected') AND (state = 'escalated' OR supervision <> 'none')",
    )
    .fetch_all(&mut *tx)
    .await?;
    for row in rows {
        let facts = Facts {
            state: decode_state(&row.try_get::<String, _>("state")?)?,
            department: row.try_get("department_code")?,
            supervision: decode_supervision(&row.try_get::<String, _>("supervision")?)?,
            deadline_ms: row.try_get("deadline_at")?,
        };
        let Some(level) = gridwall_core::fold::aggregate::warning_level(&facts) else {
            continue;
        };
        let grid: Option<String> = row.try_get("grid_id")?;
        let warning = Warning {
            case_id: row.try_get("id")?,
            level,
            category: row.try_get("category")?,
            sub_item: row.try_get("sub_item_code")?,
            grid_id: grid.clone(),
            department: facts.department.clone(),
            deadline_ms: facts.deadline_ms,
            updated_ms: row.try_get("updated_at")?,
        };
        scopes.each_of(grid.as_deref(), city, |_, agg| {
            agg.add_warning(warning.clone())
        });
    }

    lap(&mut stage, "warnings");
    // The latest cases: the city's are the last of all; a district's are among the last of
    // its streets, so each street's last ones are enough for every scope.
    let mut rows = sqlx::query(concat!(
        "SELECT ",
        latest_columns!(),
        " FROM cases c ORDER BY c.last_seq DESC LIMIT $1"
    ))
    .bind(LATEST_CASES as i64)
    .fetch_all(&mut *tx)
    .await?;
    rows.extend(
        sqlx::query(concat!(
            "SELECT * FROM (SELECT ",
            latest_columns!(),
            ", ROW_NUMBER() OVER (PARTITION BY g.street_code ORDER BY c.last_seq DESC) AS pos
             FROM cases c JOIN grids g ON g.id = c.grid_id) ranked
             WHERE pos <= $1"
        ))
        .bind(LATEST_CASES as i64)
        .fetch_all(&mut *tx)
        .await?,
    );
    for row in rows {
        let grid: Option<String> = row.try_get("grid_id")?;
        let case = LatestCase {
            case_id: row.try_get("id")?,
            seq: u(row.try_get("last_seq")?),
            category: row.try_get("category")?,
            sub_item: row.try_get("sub_item_code")?,
            grid_id: grid.clone(),
            state: decode_state(&row.try_get::<String, _>("state")?)?,
            supervision: decode_supervision(&row.try_get::<String, _>("supervision")?)?,
            department: row.try_get("department_code")?,
            moved_ms: row.try_get("updated_at")?,
        };
        scopes.each_of(grid.as_deref(), city, |_, agg| agg.add_latest(case.clone()));
    }

    lap(&mut stage, "latest");
    // The hourly windows: the last week's reports.
    let since = local_hour_start_ms(
        hour - gridwall_core::fold::aggregate::USUAL_HOURS,
        utc_offset_minutes,
    );
    let rows = sqlx::query(
        "SELECT grid_id, sub_item_code, reported_at FROM cases WHERE reported_at >= $1 ORDER BY reported_at",
    )
    .bind(since)
    .fetch_all(&mut *tx)
    .await?;
    for row in rows {
        let grid: Option<String> = row.try_get("grid_id")?;
        let sub_item: Option<String> = row.try_get("sub_item_code")?;
        let at: i64 = row.try_get("reported_at")?;
        if local_hour(at, utc_offset_minutes) > hour {
            continue;
        }
        let district = grid
            .as_deref()
            .and_then(|g| city.grids.get(g))
            .map(|p| p.district.clone());
        scopes.each_of(grid.as_deref(), city, |_, agg| {
            agg.count_report(
                at,
                district.as_deref(),
                grid.as_deref(),
                sub_item.as_deref(),
                &mut Vec::new(),
            )
        });
    }

    lap(&mut stage, "hours");
    // This month's house visits, and today's reporters, for coverage and the active team.
    let rows = sqlx::query(
        "SELECT id, grid_id, member_id, household, at FROM house_visits WHERE at >= $1 AND at < $2",
    )
    .bind(month_start)
    .bind(today_end)
    .fetch_all(&mut *tx)
    .await?;
    for row in rows {
        let v = visit_from_row(&row)?;
        scopes.each_of(Some(&v.grid_id), city, |_, agg| agg.add_visit(&v, city));
    }
    // Each grid's visited households, counted by the database rather than by the fold, so
    // that the check compares two computations.
    let rows = sqlx::query(
        "SELECT grid_id, COUNT(DISTINCT household) AS n FROM house_visits
         WHERE at >= $1 AND at < $2 GROUP BY grid_id",
    )
    .bind(month_start)
    .bind(today_end)
    .fetch_all(&mut *tx)
    .await?;
    for row in rows {
        let grid: String = row.try_get("grid_id")?;
        let n = u(row.try_get("n")?);
        scopes.each_of(Some(&grid), city, |_, agg| agg.add_grid_visited(&grid, n));
    }
    let rows = sqlx::query(
        "SELECT grid_id, reporter_id FROM cases WHERE reported_at >= $1 AND reported_at < $2 AND reporter_id IS NOT NULL",
    )
    .bind(today_start)
    .bind(today_end)
    .fetch_all(&mut *tx)
    .await?;
    for row in rows {
        let grid: Option<String> = row.try_get("grid_id")?;
        let member: i64 = row.try_get("reporter_id")?;
        scopes.each_of(grid.as_deref(), city, |_, agg| {
            agg.add_active_reporter(member, city)
        });
    }
    lap(&mut stage, "visits");
    tx.commit().await?;
    Ok(scopes)
}

/// Reads people and housing by grid, and the team's size by grid (or, for members without a
/// grid, by street), summed into every scope.
pub async fn load_statics(
    conn: &mut sqlx::AnyConnection,
    city: &CityFacts,
) -> Result<Statics, sqlx::Error> {
    // People and housing, and the team's size: by grid, and for members without a grid, by
    // street.
    let rows = sqlx::query(
        "SELECT id, CAST(residents AS BIGINT) AS residents, CAST(households AS BIGINT) AS households,
                CAST(houses AS BIGINT) AS houses, CAST(organisations AS BIGINT) AS organisations,
                CAST(key_places AS BIGINT) AS key_places
         FROM grids",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut people: BTreeMap<Scope, People> = BTreeMap::new();
    let mut households = BTreeMap::new();
    for row in rows {
        let grid: String = row.try_get("id")?;
        let p = People {
            residents: u(row.try_get("residents")?),
            households: u(row.try_get("households")?),
            houses: u(row.try_get("houses")?),
            organisations: u(row.try_get("organisations")?),
            key_places: u(row.try_get("key_places")?),
            ..People::default()
        };
        for scope in Scopes::scopes_of(Some(&grid), city) {
            let sum = people.entry(scope).or_default();
            sum.residents += p.residents;
            sum.households += p.households;
            sum.houses += p.houses;
            sum.organisations += p.organisations;
            sum.key_places += p.key_places;
        }
        households.insert(grid, p.households);
    }
    let rows = sqlx::query(
        "SELECT m.kind AS kind, m.grid_id AS grid_id, m.street_code AS street_code, s.district_code AS district_code,
                COUNT(*) AS n
         FROM members m JOIN streets s ON s.code = m.street_code
         WHERE m.active = 1
         GROUP BY m.kind, m.grid_id, m.street_code, s.district_code",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut team: BTreeMap<Scope, BTreeMap<String, u64>> = BTreeMap::new();
    for row in rows {
        let kind: String = row.try_get("kind")?;
        let n = u(row.try_get("n")?);
        let grid: Option<String> = row.try_get("grid_id")?;
        let street: String = row.try_get("street_code")?;
        let district: String = row.try_get("district_code")?;
        let scopes = match grid.as_deref().and_then(|g| city.grids.get(g)) {
            Some(place) => vec![
                Scope::City,
                Scope::District(place.district.clone()),
                Scope::Street(place.street.clone()),
            ],
            None => vec![
                Scope::City,
                Scope::District(district),
                Scope::Street(street),
            ],
        };
        for scope in scopes {
            *team
                .entry(scope)
                .or_default()
                .entry(kind.clone())
                .or_default() += n;
        }
    }
    Ok(Statics {
        people,
        team,
        households,
    })
}

/// Rebuilds every scope as of now.
pub async fn rebuild_now(
    db: &Db,
    city: &CityFacts,
    now_ms: i64,
    utc_offset_minutes: i32,
) -> Result<Scopes, sqlx::Error> {
    rebuild(
        db,
        city,
        local_day(now_ms, utc_offset_minutes),
        local_hour(now_ms, utc_offset_minutes),
        utc_offset_minutes,
    )
    .await
}

/// The columns of a transition as the fold needs it, with its case's fixed facts and the facts
/// of the case's move before (`p_*`, all null for a report), for `committed_from_row`.
pub(crate) const COMMITTED_COLUMNS: &str = "t.seq AS seq, t.case_id AS case_id, t.action AS action, t.to_state AS to_state,
        t.department_code AS department_code, t.supervision AS supervision, t.deadline_at AS deadline_at,
        t.at AS at, c.category AS category, c.sub_item_code AS sub_item_code, c.grid_id AS grid_id,
        c.reported_at AS reported_at, c.reporter_id AS reporter_id,
        p.to_state AS p_state, p.department_code AS p_department, p.supervision AS p_supervision,
        p.deadline_at AS p_deadline";

/// The join that finds each transition's predecessor for `COMMITTED_COLUMNS`: the case's
/// move just before it.
pub(crate) const PREVIOUS_MOVE: &str = "LEFT JOIN transitions p ON p.seq = (
        SELECT MAX(q.seq) FROM transitions q WHERE q.case_id = t.case_id AND q.seq < t.seq)";

/// One row of `COMMITTED_COLUMNS`, in its order: read from a row, or from a JSON array of
/// the same values (how look back reads a tail from SQLite in one value).
#[derive(Debug, Deserialize)]
pub(crate) struct LogRow {
    seq: i64,
    case_id: i64,
    action: String,
    to_state: String,
    department_code: Option<String>,
    supervision: String,
    deadline_at: Option<i64>,
    at: i64,
    category: String,
    sub_item_code: Option<String>,
    grid_id: Option<String>,
    reported_at: i64,
    reporter_id: Option<i64>,
    p_state: Option<String>,
    p_department: Option<String>,
    p_supervision: Option<String>,
    p_deadline: Option<i64>,
}

impl LogRow {
    pub(crate) fn from_row(row: &sqlx::any::AnyRow) -> Result<LogRow, sqlx::Error> {
        Ok(LogRow {
            seq: row.try_get("seq")?,
            case_id: row.try_get("case_id")?,
            action: row.try_get("action")?,
            to_state: row.try_get("to_state")?,
            department_code: row.try_get("department_code")?,
            supervision: row.try_get("supervision")?,
            deadline_at: row.try_get("deadline_at")?,
            at: row.try_get("at")?,
            category: row.try_get("category")?,
            sub_item_code: row.try_get("sub_item_code")?,
            grid_id: row.try_get("grid_id")?,
            reported_at: row.try_get("reported_at")?,
            reporter_id: row.try_get("reporter_id")?,
            p_state: row.try_get("p_state")?,
            p_department: row.try_get("p_department")?,
            p_supervision: row.try_get("p_supervision")?,
            p_deadline: row.try_get("p_deadline")?,
        })
    }

    pub(crate) fn seq(&self) -> u64 {
        u(self.seq)
    }

    /// The fold's committed transition.
    pub(crate) fn committed(
        self,
        committed_at: std::time::Instant,
    ) -> Result<Committed, sqlx::Error> {
        let action = decode_action(&self.action)?;
        let before = match self.p_state {
            None => None,
            Some(state) => Some(Facts {
                state: decode_state(&state)?,
                department: self.p_department,
                supervision: decode_supervision(self.p_supervision.as_deref().ok_or_else(
                    || sqlx::Error::Decode("a previous move without supervision".into()),
                )?)?,
                deadline_ms: self.p_deadline,
            }),
        };
        Ok(Committed {
            seq: u(self.seq),
            case_id: self.case_id,
            action,
            before,
            after: Facts {
                state: decode_state(&self.to_state)?,
                department: self.department_code,
                supervision: decode_supervision(&self.supervision)?,
                deadline_ms: self.deadline_at,
            },
            at_ms: self.at,
            category: decode_category(&self.category)?,
            sub_item: self.sub_item_code,
            grid_id: self.grid_id,
            reported_at_ms: self.reported_at,
            reporter_id: self.reporter_id,
            committed_at,
        })
    }
}

/// One row of `COMMITTED_COLUMNS` as the fold's committed transition.
pub(crate) fn committed_from_row(
    row: &sqlx::any::AnyRow,
    committed_at: std::time::Instant,
) -> Result<Committed, sqlx::Error> {
    LogRow::from_row(row)?.committed(committed_at)
}

/// Replays the log after `scopes` (the transitions after its `log_seq` and the visits after
/// its `visit_seq`) through the fold: how a saved snapshot is brought up to date.
pub async fn fold_tail(db: &Db, city: &CityFacts, scopes: &mut Scopes) -> Result<u64, sqlx::Error> {
    fold_tail_to(db, city, scopes, i64::MAX as u64, i64::MAX as u64).await
}

/// [`fold_tail`] up to and including the transition `to_log_seq` and the visit `to_visit_seq`:
/// how `gridwall check` brings the tables' state to the position of the live state it
/// compares with.
pub async fn fold_tail_to(
    db: &Db,
    city: &CityFacts,
    scopes: &mut Scopes,
    to_log_seq: u64,
    to_visit_seq: u64,
) -> Result<u64, sqlx::Error> {
    let bound = |seq: u64| i64::try_from(seq).unwrap_or(i64::MAX);
    let rows = sqlx::query(
        "SELECT t.seq AS seq, t.case_id AS case_id, t.action AS action, t.to_state AS to_state,
                t.department_code AS department_code, t.supervision AS supervision, t.deadline_at AS deadline_at,
                t.at AS at, c.category AS category, c.sub_item_code AS sub_item_code, c.grid_id AS grid_id,
                c.reported_at AS reported_at, c.reporter_id AS reporter_id,
                p.to_state AS p_state, p.department_code AS p_department, p.supervision AS p_supervision,
                p.deadline_at AS p_deadline
         FROM transitions t
         JOIN cases c ON c.id = t.case_id
         LEFT JOIN transitions p ON p.seq = (
             SELECT MAX(q.seq) FROM transitions q WHERE q.case_id = t.case_id AND q.seq < t.seq)
         WHERE t.seq > $1 AND t.seq <= $2
         ORDER BY t.seq",
    )
    .bind(scopes.log_seq as i64)
    .bind(bound(to_log_seq))
    .fetch_all(db)
    .await?;
    let mut folded = 0;
    let now = std::time::Instant::now();
    for row in rows {
        let t = committed_from_row(&row, now)?;
        scopes.fold(&Event::Transition(t), city);
        folded += 1;
    }
    let rows = sqlx::query(
        "SELECT id, grid_id, member_id, household, at FROM house_visits \
         WHERE id > $1 AND id <= $2 ORDER BY id",
    )
    .bind(scopes.visit_seq as i64)
    .bind(bound(to_visit_seq))
    .fetch_all(db)
    .await?;
    for row in rows {
        scopes.fold(&Event::Visit(visit_from_row(&row)?), city);
        folded += 1;
    }
    Ok(folded)
}
