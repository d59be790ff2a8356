//! Look back: the wall of any scope as it stood at a past moment, rebuilt from the transition
//! log with the live fold itself.
//!
//! The hub keeps a checkpoint of each scope's aggregate every `every` of that scope's own
//! events (table `wall_checkpoints`), and a first start over an existing log folds the whole
//! log once in the background to write them. The state at a moment is then the scope's nearest
//! checkpoint before the moment plus the scope's events after it, folded with
//! `Aggregate::fold` and `Aggregate::fold_visit`, so that look back and the live wall cannot
//! disagree on what a figure means. Checkpoints are a cache: deleting them only makes answers
//! slower until they are written again.
//!
//! A moment cuts the log by the rows' `at`. The writer stamps each batch as it commits it, so
//! that the log's order and its times agree; a server clock stepping backwards would blur the
//! cut by that step. The people, housing and team sizes of a past state are today's.

use super::saved::{FORMAT, decode_json, encode_json};
use super::scopes::{COMMITTED_COLUMNS, LogRow, PREVIOUS_MOVE, load_statics, visit_from_row};
use crate::store::Db;
use anyhow::Context;
use gridwall_core::event::{Committed, Event, Visit};
use gridwall_core::fold::Scopes;
use gridwall_core::fold::scopes::Statics;
use gridwall_core::fold::{Aggregate, CityFacts};
use shared::time::{local_day, local_hour};
use shared::wall::{Scope, WallState};
use sqlx::{AssertSqlSafe, Row};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Each scope's checkpoint comes after this many of its own events (transitions and house
/// visits): the longest tail a look back folds, in the common case.
pub const CHECKPOINT_EVERY: u64 = 10_000;
/// Rows read from the log at a time, so that a long tail never sits in memory whole.
const CHUNK: i64 = 20_000;
/// How long an area's count of cases is reused before it is counted again.
const CASES_COUNTED_FOR: Duration = Duration::from_secs(60);

/// One scope's aggregate as of a position in the log, on its way to the table.
#[derive(Debug)]
pub struct Checkpoint {
    pub scope: Scope,
    pub log_seq: u64,
    pub visit_seq: u64,
    /// The aggregate's clock: the checkpoint serves moments at or after it.
    pub as_of: i64,
    pub aggregate: Aggregate,
}

/// The hub's side of the checkpoints: counts each scope's events and hands an aggregate to the
/// checkpoint writer when its scope is due.
#[derive(Debug)]
pub struct Sink {
    every: u64,
    counts: HashMap<Scope, u64>,
    tx: mpsc::Sender<Checkpoint>,
}

impl Sink {
    /// Counts one event of `scope`; true when the scope is due for a checkpoint (and starts
    /// counting again).
    pub fn count(&mut self, scope: &Scope) -> bool {
        let n = match self.counts.get_mut(scope) {
            Some(n) => n,
            None => self.counts.entry(scope.clone()).or_default(),
        };
        *n += 1;
        if *n >= self.every {
            *n = 0;
            true
        } else {
            false
        }
    }

    /// At shutdown: a checkpoint of every scope with a quarter of a checkpoint's events or
    /// more since its last, so that a restart leaves no long tail behind, and restarts add few
    /// checkpoints.
    pub fn flush(&mut self, scopes: &Scopes) {
        let due: Vec<Scope> = self
            .counts
            .iter()
            .filter(|(_, n)| **n >= self.every.div_ceil(4))
            .map(|(scope, _)| scope.clone())
            .collect();
        for scope in due {
            self.counts.remove(&scope);
            if let Some(aggregate) = scopes.aggregates.get(&scope) {
                self.offer(Checkpoint {
                    aggregate: aggregate.clone(),
                    scope,
                    log_seq: scopes.log_seq,
                    visit_seq: scopes.visit_seq,
                    as_of: crate::clock::now_ms(),
                });
            }
        }
    }

    /// Hands a checkpoint to the writer without waiting: the hub never waits on the database.
    /// A writer that falls behind loses this one; look back is then slower, never wrong.
    pub fn offer(&self, checkpoint: Checkpoint) {
        if let Err(err) = self.tx.try_send(checkpoint) {
            tracing::warn!(
                scope = %match &err {
                    mpsc::error::TrySendError::Full(c) | mpsc::error::TrySendError::Closed(c) => &c.scope,
                },
                "look-back checkpoint skipped: the checkpoint writer is behind"
            );
        }
    }
}

/// Starts the checkpoint writer; returns the hub's sink and the writer's task, which ends once
/// every sender (the hub's sink and the backfill) is gone and what they sent is written.
pub fn start_writer(
    db: Db,
    every: u64,
) -> (Sink, mpsc::Sender<Checkpoint>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(256);
    let task = tokio::spawn(run_checkpoint_writer(db, rx));
    (
        Sink {
            every: every.max(1),
            counts: HashMap::new(),
            tx: tx.clone(),
        },
        tx,
        task,
    )
}

async fn run_checkpoint_writer(db: Db, mut rx: mpsc::Receiver<Checkpoint>) {
    while let Some(cp) = rx.recv().await {
        let scope = cp.scope.to_string();
        if let Err(err) = write(&db, cp).await {
            tracing::warn!(
                scope,
                error = format!("{err:#}"),
                "cannot write a look-back checkpoint"
            );
        }
    }
}

async fn write(db: &Db, cp: Checkpoint) -> anyhow::Result<()> {
    let Checkpoint {
        scope,
        log_seq,
        visit_seq,
        as_of,
        aggregate,
    } = cp;
    // Encoding a city's aggregate takes milliseconds: not on the runtime's threads.
    let body = tokio::task::spawn_blocking(move || encode_json(&aggregate)).await??;
    sqlx::query(
        "INSERT INTO wall_checkpoints (scope, log_seq, visit_id, as_of, format, body)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (scope, log_seq, visit_id) DO NOTHING",
    )
    .bind(scope.to_string())
    .bind(log_seq as i64)
    .bind(visit_seq as i64)
    .bind(as_of)
    .bind(FORMAT)
    .bind(body)
    .execute(db)
    .await
    .context("cannot insert the checkpoint")?;
    Ok(())
}

/// Forgets every checkpoint (after the city's areas change, or of another format).
pub async fn forget_checkpoints(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM wall_checkpoints")
        .execute(conn)
        .await?;
    Ok(())
}

/// Prepares the checkpoints at start, as the hub starts at `start`: drops those of another
/// format and, when the log holds events that no checkpoint covers (a first start over a
/// built or imported log), folds the log from its beginning to `start` in the background,
/// writing each scope's checkpoints on the way and `start` itself for every scope.
pub async fn prepare(
    db: Db,
    city: Arc<CityFacts>,
    every: u64,
    utc_offset_minutes: i32,
    start: Scopes,
    tx: mpsc::Sender<Checkpoint>,
) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM wall_checkpoints WHERE format <> $1")
        .bind(FORMAT)
        .execute(&db)
        .await?;
    if start.log_seq == 0 && start.visit_seq == 0 {
        return Ok(());
    }
    let covered: Option<(i64, i64)> = sqlx::query_as(
        "SELECT log_seq, visit_id FROM wall_checkpoints WHERE scope = 'city'
         ORDER BY log_seq DESC, visit_id DESC LIMIT 1",
    )
    .fetch_optional(&db)
    .await?;
    let began = Instant::now();
    let folded = match covered {
        Some((log_seq, visit_seq))
            if log_seq as u64 >= start.log_seq && visit_seq as u64 >= start.visit_seq =>
        {
            tracing::info!(log_seq, "look-back checkpoints ready: they cover the log");
            return Ok(());
        }
        // Checkpoints exist, and the log grew by a checkpoint's worth or more while the server
        // was down (an import, a bulk load): the start itself is every scope's next
        // checkpoint. A smaller gap is a short tail, not worth a checkpoint of every scope.
        Some((log_seq, visit_seq))
            if start.log_seq.saturating_sub(log_seq as u64)
                + start.visit_seq.saturating_sub(visit_seq as u64)
                >= every =>
        {
            0
        }
        Some((log_seq, _)) => {
            tracing::info!(
                log_seq,
                "look-back checkpoints ready: the log's tail after them is short"
            );
            return Ok(());
        }
        None => {
            let upto = (start.log_seq, start.visit_seq);
            backfill(&db, &city, every, utc_offset_minutes, upto, &tx).await?
        }
    };
    let as_of = crate::clock::now_ms();
    for (scope, aggregate) in start.aggregates {
        let cp = Checkpoint {
            scope,
            log_seq: start.log_seq,
            visit_seq: start.visit_seq,
            as_of,
            aggregate,
        };
        if tx.send(cp).await.is_err() {
            break;
        }
    }
    tracing::info!(
        folded,
        elapsed_ms = began.elapsed().as_millis() as u64,
        log_seq = start.log_seq,
        "look-back checkpoints ready"
    );
    Ok(())
}

/// Folds the whole log up to `upto` from nothing, sending each scope's checkpoint every
/// `every` of its events; returns the number of events folded.
async fn backfill(
    db: &Db,
    city: &CityFacts,
    every: u64,
    utc_offset: i32,
    upto: (u64, u64),
    tx: &mpsc::Sender<Checkpoint>,
) -> anyhow::Result<u64> {
    let mut scopes = Scopes {
        aggregates: BTreeMap::new(),
        log_seq: 0,
        visit_seq: 0,
    };
    let mut counts: HashMap<Scope, u64> = HashMap::new();
    let mut events = Events::new(Scope::City, (0, 0), upto);
    let mut folded = 0;
    while let Some(event) = events.next(db).await? {
        let (grid, at) = match &event {
            Event::Transition(t) => (t.grid_id.as_deref(), t.at_ms),
            Event::Visit(v) => (Some(v.grid_id.as_str()), v.at_ms),
        };
        let touched = Scopes::scopes_of(grid, city);
        for scope in &touched {
            scopes.aggregates.entry(scope.clone()).or_insert_with(|| {
                Aggregate::empty(
                    local_day(at, utc_offset),
                    local_hour(at, utc_offset),
                    utc_offset,
                )
            });
        }
        scopes.fold(&event, city);
        folded += 1;
        for scope in touched {
            let n = counts.entry(scope.clone()).or_default();
            *n += 1;
            if *n >= every {
                *n = 0;
                let cp = Checkpoint {
                    aggregate: scopes.aggregates[&scope].clone(),
                    scope,
                    log_seq: scopes.log_seq,
                    visit_seq: scopes.visit_seq,
                    as_of: at,
                };
                if tx.send(cp).await.is_err() {
                    return Ok(folded);
                }
            }
        }
        if folded % 100_000 == 0 {
            tracing::debug!(folded, log_seq = scopes.log_seq, "look-back backfill");
            tokio::task::yield_now().await;
        }
    }
    Ok(folded)
}

/// A scope's transitions and house visits in a range of the log, merged by time, read a chunk
/// at a time.
struct Events {
    scope: Scope,
    transitions: VecDeque<Committed>,
    visits: VecDeque<Visit>,
    /// The last transition and visit read, and the ends of the range.
    read: (u64, u64),
    upto: (u64, u64),
    done: (bool, bool),
    /// Whether a district's or street's transitions are found by scanning the log's range and
    /// keeping the area's (short ranges), or by visiting the area's cases one by one through
    /// the index by case (long ranges). The city always scans.
    scan_range: bool,
}

impl Events {
    fn new(scope: Scope, after: (u64, u64), upto: (u64, u64)) -> Events {
        Events {
            scan_range: scope == Scope::City,
            scope,
            transitions: VecDeque::new(),
            visits: VecDeque::new(),
            read: after,
            upto,
            done: (after.0 >= upto.0, after.1 >= upto.1),
        }
    }

    /// The next event by time (a transition first at equal times), or `None` at the end.
    async fn next(&mut self, db: &Db) -> Result<Option<Event>, sqlx::Error> {
        if self.transitions.is_empty() && !self.done.0 {
            self.read_transitions(db).await?;
        }
        if self.visits.is_empty() && !self.done.1 {
            self.read_visits(db).await?;
        }
        let take_visit = match (self.transitions.front(), self.visits.front()) {
            (None, None) => return Ok(None),
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (Some(t), Some(v)) => v.at_ms < t.at_ms,
        };
        Ok(if take_visit {
            self.visits.pop_front().map(Event::Visit)
        } else {
            self.transitions.pop_front().map(Event::Transition)
        })
    }

    async fn read_transitions(&mut self, db: &Db) -> Result<(), sqlx::Error> {
        let (from, area, first) = if self.scan_range {
            // SQLite keeps a `CROSS JOIN`'s written order: the range of the log first.
            let area = match area_grids(&self.scope) {
                Some(grids) => format!("c.grid_id IN ({grids}) AND"),
                None => String::new(),
            };
            let first = if self.scope == Scope::City { 1 } else { 2 };
            (
                "transitions t CROSS JOIN cases c".to_owned(),
                format!("c.id = t.case_id AND {area}"),
                first,
            )
        } else {
            let (from, area, first) = reach(&self.scope, "cases c", "c.grid_id");
            (
                format!("{from} CROSS JOIN transitions t"),
                format!("{area} t.case_id = c.id AND"),
                first,
            )
        };
        let sql = format!(
            "SELECT {COMMITTED_COLUMNS} FROM {from} {PREVIOUS_MOVE}
             WHERE {area} t.seq > ${first} AND t.seq <= ${} ORDER BY t.seq LIMIT ${}",
            first + 1,
            first + 2
        );
        let mut conn = db.acquire().await?;
        // SQLite hands rows from its own thread one at a time, which costs more than reading
        // them: there the chunk comes back as one JSON array of rows.
        let sqlite = conn.backend_name() == "SQLite";
        let sql = if sqlite {
            format!(
                "SELECT json_group_array(json_array(seq, case_id, action, to_state, department_code,
                     supervision, deadline_at, at, category, sub_item_code, grid_id, reported_at,
                     reporter_id, p_state, p_department, p_supervision, p_deadline))
                 FROM ({sql}) r"
            )
        } else {
            sql
        };
        let mut query = sqlx::query(AssertSqlSafe(sql));
        if let Some(code) = scope_code(&self.scope) {
            query = query.bind(code.to_owned());
        }
        let query = query
            .bind(self.read.0 as i64)
            .bind(self.upto.0 as i64)
            .bind(CHUNK);
        let mut rows = if sqlite {
            let json: String = query.fetch_one(&mut *conn).await?.try_get(0)?;
            serde_json::from_str::<Vec<LogRow>>(&json).map_err(|e| sqlx::Error::Decode(e.into()))?
        } else {
            query
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(LogRow::from_row)
                .collect::<Result<_, _>>()?
        };
        // An aggregate's order is the order its rows arrive in; sorting makes it certain.
        rows.sort_by_key(LogRow::seq);
        let read = rows.len() as i64;
        let now = Instant::now();
        for row in rows {
            self.transitions.push_back(row.committed(now)?);
        }
        match self.transitions.back() {
            Some(t) if read == CHUNK => self.read.0 = t.seq,
            _ => self.done.0 = true,
        }
        Ok(())
    }

    async fn read_visits(&mut self, db: &Db) -> Result<(), sqlx::Error> {
        let (from, area, first) = reach(&self.scope, "house_visits v", "v.grid_id");
        let sql = format!(
            "SELECT v.id AS id, v.grid_id AS grid_id, v.member_id AS member_id, v.household AS household, v.at AS at
             FROM {from} WHERE {area} v.id > ${first} AND v.id <= ${} ORDER BY v.id LIMIT ${}",
            first + 1,
            first + 2,
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        if let Some(code) = scope_code(&self.scope) {
            query = query.bind(code.to_owned());
        }
        let rows = query
            .bind(self.read.1 as i64)
            .bind(self.upto.1 as i64)
            .bind(CHUNK)
            .fetch_all(db)
            .await?;
        for row in &rows {
            self.visits.push_back(visit_from_row(row)?);
        }
        match self.visits.back() {
            Some(v) if (rows.len() as i64) == CHUNK => self.read.1 = v.id as u64,
            _ => self.done.1 = true,
        }
        Ok(())
    }
}

/// The grids of a district or street, as a subquery on the placeholder `$1`.
fn area_grids(scope: &Scope) -> Option<&'static str> {
    match scope {
        Scope::City => None,
        Scope::District(_) => Some(
            "SELECT g.id FROM streets s JOIN grids g ON g.street_code = s.code WHERE s.district_code = $1",
        ),
        Scope::Street(_) => Some("SELECT g.id FROM grids g WHERE g.street_code = $1"),
    }
}

fn scope_code(scope: &Scope) -> Option<&str> {
    match scope {
        Scope::City => None,
        Scope::District(code) | Scope::Street(code) => Some(code),
    }
}

/// How a scope's rows of `table` (whose grid is `grid`) are reached: the tables, the condition
/// that keeps them to the scope (ending in `AND`), and the number of the first placeholder
/// after the scope's own. A district's and a street's rows are reached from their grids
/// through the indexes by grid: the joins are written as `CROSS JOIN`, which SQLite keeps in
/// the written order, so that it never scans the whole log for one street's tail.
fn reach(scope: &Scope, table: &str, grid: &str) -> (String, String, usize) {
    match scope {
        Scope::City => (table.to_owned(), String::new(), 1),
        Scope::District(_) => (
            format!("streets s CROSS JOIN grids g CROSS JOIN {table}"),
            format!("s.district_code = $1 AND g.street_code = s.code AND {grid} = g.id AND"),
            2,
        ),
        Scope::Street(_) => (
            format!("grids g CROSS JOIN {table}"),
            format!("g.street_code = $1 AND {grid} = g.id AND"),
            2,
        ),
    }
}

/// A scope's wall as of a past moment, and how it was found.
#[derive(Debug, Clone)]
pub struct Past {
    pub state: WallState,
    /// The last transition and house visit at or before the moment.
    pub log_seq: u64,
    pub visit_seq: u64,
    /// The log position of the checkpoint started from; `None` when folded from nothing.
    pub checkpoint_log_seq: Option<u64>,
    /// Events folded after the checkpoint.
    pub folded: u64,
}

/// Answers look-back questions; shared by the handlers.
pub struct History {
    db: Db,
    city: Arc<CityFacts>,
    utc_offset_minutes: i32,
    statics: Mutex<Option<Arc<Statics>>>,
    /// How many cases each district and street has, for choosing how to read its tail.
    cases_in: Mutex<HashMap<Scope, (Instant, u64)>>,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History").finish_non_exhaustive()
    }
}

impl History {
    pub fn new(db: Db, city: Arc<CityFacts>, utc_offset_minutes: i32) -> History {
        History {
            db,
            city,
            utc_offset_minutes,
            statics: Mutex::new(None),
            cases_in: Mutex::new(HashMap::new()),
        }
    }

    /// The number of cases reported in a district or street, counted now and then.
    async fn cases_in(&self, scope: &Scope) -> Result<u64, sqlx::Error> {
        let Some(grids) = area_grids(scope) else {
            return Ok(0);
        };
        if let Some((counted, n)) = self.cases_in.lock().expect("cases lock").get(scope)
            && counted.elapsed() < CASES_COUNTED_FOR
        {
            return Ok(*n);
        }
        let sql = format!("SELECT COUNT(*) FROM cases c WHERE c.grid_id IN ({grids})");
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(scope_code(scope).unwrap_or_default().to_owned())
            .fetch_one(&self.db)
            .await?;
        let n = n.max(0) as u64;
        self.cases_in
            .lock()
            .expect("cases lock")
            .insert(scope.clone(), (Instant::now(), n));
        Ok(n)
    }

    /// Whether the city has this scope.
    pub async fn knows(&self, scope: &Scope) -> Result<bool, sqlx::Error> {
        let sql = match scope {
            Scope::City => return Ok(true),
            Scope::District(_) => "SELECT COUNT(*) FROM districts WHERE code = $1",
            Scope::Street(_) => "SELECT COUNT(*) FROM streets WHERE code = $1",
        };
        let n: i64 = sqlx::query_scalar(sql)
            .bind(scope_code(scope).unwrap_or_default().to_owned())
            .fetch_one(&self.db)
            .await?;
        Ok(n > 0)
    }

    async fn statics(&self) -> Result<Arc<Statics>, sqlx::Error> {
        // Read once, as the hub reads them once at start: the live wall does not see them
        // change while it runs either, and reading them costs a large part of a look back.
        if let Some(statics) = &*self.statics.lock().expect("statics lock") {
            return Ok(statics.clone());
        }
        let mut conn = self.db.acquire().await?;
        let statics = Arc::new(load_statics(&mut conn, &self.city).await?);
        *self.statics.lock().expect("statics lock") = Some(statics.clone());
        Ok(statics)
    }

    /// The wall of `scope` as it stood at `at_ms`.
    pub async fn state_at(&self, scope: &Scope, at_ms: i64) -> Result<Past, sqlx::Error> {
        let began = Instant::now();
        // Where the moment cuts the log and the visits: the last row stamped at or before it.
        let cut: Option<i64> = sqlx::query_scalar(
            "SELECT seq FROM transitions WHERE at <= $1 ORDER BY at DESC, seq DESC LIMIT 1",
        )
        .bind(at_ms)
        .fetch_optional(&self.db)
        .await?;
        let cut_visit: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM house_visits WHERE at <= $1 ORDER BY at DESC, id DESC LIMIT 1",
        )
        .bind(at_ms)
        .fetch_optional(&self.db)
        .await?;
        let upto = (cut.unwrap_or(0) as u64, cut_visit.unwrap_or(0) as u64);
        let cut_ms = began.elapsed().as_millis() as u64;
        let checkpoint: Option<(i64, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT log_seq, visit_id, body FROM wall_checkpoints
             WHERE scope = $1 AND format = $2 AND log_seq <= $3 AND visit_id <= $4 AND as_of <= $5
             ORDER BY log_seq DESC, visit_id DESC LIMIT 1",
        )
        .bind(scope.to_string())
        .bind(FORMAT)
        .bind(upto.0 as i64)
        .bind(upto.1 as i64)
        .bind(at_ms)
        .fetch_optional(&self.db)
        .await?;
        let offset = self.utc_offset_minutes;
        let (mut aggregate, from, checkpoint_log_seq) = match checkpoint {
            Some((log_seq, visit_id, body)) => {
                // A checkpoint that cannot be read is a database fault, like a broken row.
                let mut agg: Aggregate = tokio::task::spawn_blocking(move || decode_json(&body))
                    .await
                    .map_err(|e| sqlx::Error::Decode(e.into()))?
                    .map_err(|e| sqlx::Error::Decode(e.into()))?;
                agg.after_load();
                (agg, (log_seq as u64, visit_id as u64), Some(log_seq as u64))
            }
            // From nothing: an aggregate before any event, which the first event moves on.
            None => (
                Aggregate::empty(local_day(0, offset), local_hour(0, offset), offset),
                (0, 0),
                None,
            ),
        };
        let decoded_ms = began.elapsed().as_millis() as u64;
        let mut events = Events::new(scope.clone(), from, upto);
        if scope != &Scope::City {
            // Scanning a row of the log's range costs about a third of looking a case up
            // through the index by case (measured on SQLite with a million transitions):
            // scan when the range is shorter than about three rows per case of the area.
            let range = upto.0.saturating_sub(from.0);
            events.scan_range = range < 3 * self.cases_in(scope).await?;
        }
        let mut folded = 0;
        let mut alerts = Vec::new();
        while let Some(event) = events.next(&self.db).await? {
            match &event {
                Event::Transition(t) => aggregate.fold(t, &self.city, &mut alerts),
                Event::Visit(v) => aggregate.fold_visit(v, &self.city),
            }
            alerts.clear();
            folded += 1;
        }
        let folded_ms = began.elapsed().as_millis() as u64;
        aggregate.advance(at_ms);
        let statics = self.statics().await?;
        tracing::debug!(
            %scope,
            at_ms,
            folded,
            cut_ms,
            decoded_ms,
            folded_ms,
            statics_ms = began.elapsed().as_millis() as u64,
            "looked back: milliseconds since the cut, after each stage"
        );
        let mut one = Scopes {
            aggregates: BTreeMap::from([(scope.clone(), aggregate)]),
            log_seq: upto.0,
            visit_seq: upto.1,
        };
        statics.apply(&mut one, &self.city);
        let state = one
            .aggregates
            .remove(scope)
            .map(|a| a.state)
            .unwrap_or_default();
        Ok(Past {
            state,
            log_seq: upto.0,
            visit_seq: upto.1,
            checkpoint_log_seq,
            folded,
        })
    }
}
