//! The case writer: the single task that turns queued writes into rows, a batch at a time.
//!
//! A batch is planned in memory first: the cases it moves are read in one query, the state
//! machine decides each move in queue order against the batch's own earlier moves, and ids and
//! sequence numbers are handed out. Only then is it written, with one multi-row statement per
//! table (cases, transitions, house visits) inside one transaction. Each statement is a round
//! trip to the database's thread, so a batch of 512 reports costs a handful of them rather than
//! three per report: that is what lets ingest run at the database's own speed.

use super::{
    Committed, DEFAULT_TIME_LIMIT_HOURS, Event, Facts, NewCase, Visit, Write, next_check, now_ms,
    parse_category, parse_state, parse_supervision,
};
use crate::auth::{Areas, Principal};
use crate::error::AppError;
use crate::metrics::Metrics;
use crate::photos::StoredPhoto;
use crate::store::Db;
use shared::auth::Role;
use shared::case::{
    Action, CasePhoto, CaseState, CaseView, Category, Point, Supervision, TimeLimit,
};
use shared::taxonomy;
use sqlx::Row;
use sqlx::pool::PoolConnection;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::{mpsc, oneshot};

/// Commands waiting for one write transaction; more than this wait for the next.
pub(super) const MAX_BATCH: usize = 512;

/// The columns of `cases` that the writer reads and writes, in the order the upsert binds them.
pub(crate) const CASE_COLUMNS: &str = "id, category, sub_item_code, grid_id, lon, lat, description, state, \
     reported_at, updated_at, last_seq, reporter_id, department_code, supervision, dispatched_at, \
     deadline_at, next_check_at";
const CASE_COLUMN_COUNT: usize = 17;

const TRANSITION_COLUMNS: &str = "seq, case_id, action, from_state, to_state, actor, role, at, \
     note, department_code, supervision, deadline_at";
const TRANSITION_COLUMN_COUNT: usize = 12;

const VISIT_COLUMNS: &str = "id, grid_id, member_id, at, household";
const VISIT_COLUMN_COUNT: usize = 5;

const PHOTO_COLUMNS: &str = "hash, content_type, bytes, stored_at";
const PHOTO_COLUMN_COUNT: usize = 4;

const PHOTO_LINK_COLUMNS: &str = "seq, position, hash";
const PHOTO_LINK_COLUMN_COUNT: usize = 3;

/// One case as the writer holds it: every column of its row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CaseRow {
    pub id: i64,
    pub category: Category,
    pub sub_item: Option<String>,
    pub grid_id: Option<String>,
    pub point: Option<Point>,
    pub description: String,
    pub reported_at_ms: i64,
    pub updated_at_ms: i64,
    pub last_seq: u64,
    pub reporter_id: Option<i64>,
    pub facts: Facts,
    pub dispatched_ms: Option<i64>,
    /// The case's photos, from `transition_photos` (not a column of `cases`): filled by
    /// [`read_photos`] for the cases a batch moves, and by the moves that attach them.
    pub photos: Vec<CasePhoto>,
}

impl CaseRow {
    /// Reads a row selected with [`CASE_COLUMNS`].
    pub fn from_row(row: &sqlx::any::AnyRow) -> Result<CaseRow, AppError> {
        let lon: Option<f64> = row.try_get("lon")?;
        let lat: Option<f64> = row.try_get("lat")?;
        Ok(CaseRow {
            id: row.try_get("id")?,
            category: parse_category(&row.try_get::<String, _>("category")?)?,
            sub_item: row.try_get("sub_item_code")?,
            grid_id: row.try_get("grid_id")?,
            point: lon.zip(lat).map(|(lon, lat)| Point { lon, lat }),
            description: row.try_get("description")?,
            reported_at_ms: row.try_get("reported_at")?,
            updated_at_ms: row.try_get("updated_at")?,
            last_seq: row.try_get::<i64, _>("last_seq")? as u64,
            reporter_id: row.try_get("reporter_id")?,
            facts: Facts {
                state: parse_state(&row.try_get::<String, _>("state")?)?,
                department: row.try_get("department_code")?,
                supervision: parse_supervision(&row.try_get::<String, _>("supervision")?)?,
                deadline_ms: row.try_get("deadline_at")?,
            },
            dispatched_ms: row.try_get("dispatched_at")?,
            photos: Vec::new(),
        })
    }

    pub fn view(&self) -> CaseView {
        CaseView {
            id: self.id,
            category: self.category,
            sub_item: self.sub_item.clone(),
            grid_id: self.grid_id.clone(),
            point: self.point,
            description: self.description.clone(),
            state: self.facts.state,
            allowed: self.facts.state.allowed(),
            department: self.facts.department.clone(),
            supervision: self.facts.supervision,
            deadline_ms: self.facts.deadline_ms,
            reported_at_ms: self.reported_at_ms,
            updated_at_ms: self.updated_at_ms,
            seq: self.last_seq,
            photos: self.photos.clone(),
        }
    }

    /// Applies one action of the state machine at `at`, or says why it is not allowed.
    /// Returns the facts as they were before. A dispatch names `department`, or the
    /// sub-item's default department, and starts the time limit.
    fn apply(
        &mut self,
        action: Action,
        department: Option<String>,
        at: i64,
    ) -> Result<Facts, AppError> {
        let before = self.facts.clone();
        let state = before.state.next(action)?;
        let supervision = before.supervision.after(action)?;
        let mut after = Facts {
            state,
            department: before.department.clone(),
            supervision,
            deadline_ms: before.deadline_ms,
        };
        let mut dispatched_ms = self.dispatched_ms;
        match action {
            Action::Dispatch => {
                let item = self.sub_item.as_deref().and_then(taxonomy::sub_item);
                let chosen = match (department, item) {
                    (Some(d), _) => d,
                    (None, Some(item)) => item.department.to_owned(),
                    (None, None) => {
                        return Err(AppError::invalid(
                            "department",
                            "the case has no sub-item, so name the department to dispatch it to",
                        ));
                    }
                };
                let hours = item.map_or(DEFAULT_TIME_LIMIT_HOURS, |i| i.time_limit_hours);
                after.department = Some(chosen);
                after.deadline_ms = Some(TimeLimit::new(at, hours).deadline_ms);
                dispatched_ms = Some(at);
            }
            Action::Reopen => {
                after.deadline_ms = None;
                dispatched_ms = None;
            }
            _ => {}
        }
        self.facts = after;
        self.dispatched_ms = dispatched_ms;
        self.updated_at_ms = at;
        Ok(before)
    }

    fn next_check_ms(&self) -> Option<i64> {
        next_check(self.dispatched_ms, &self.facts).map(|(t, _)| t)
    }
}

/// One row of the transition log, before it is written.
#[derive(Debug)]
struct TransitionRow {
    seq: u64,
    case_id: i64,
    action: Action,
    from: Option<CaseState>,
    after: Facts,
    actor: String,
    role: Role,
    at_ms: i64,
    note: Option<String>,
}

/// One photo of a move, before it is written: a row of `transition_photos`.
#[derive(Debug)]
struct PhotoLink {
    seq: u64,
    position: usize,
    hash: String,
}

/// What one write produced, before the commit makes it real.
enum Done {
    /// The view is boxed: with its photos it is twice the size of a visit's event.
    Case(
        oneshot::Sender<Result<CaseView, AppError>>,
        Box<CaseView>,
        Event,
    ),
    Visit(oneshot::Sender<Result<(), AppError>>, Event),
}

/// A batch planned in memory and ready to be written.
#[derive(Default)]
struct Plan {
    /// Every case the batch creates or changes, as it is after the batch.
    cases: Vec<CaseRow>,
    transitions: Vec<TransitionRow>,
    /// The photos the batch's moves attach, with when they were attached; a photo may come
    /// more than once (with several moves), and already be in the table.
    photos: Vec<(StoredPhoto, i64)>,
    photo_links: Vec<PhotoLink>,
    visits: Vec<Visit>,
    done: Vec<Done>,
}

/// The next free case id, transition sequence number and house-visit id.
///
/// On SQLite the batch holds the write lock from its first statement, so the largest ids in
/// the tables plus one are free. PostgreSQL may be shared by several processes, so there the
/// numbers come from the tables' identity sequences, as a default value would; a write the
/// batch then refuses leaves its number unused there, as a rolled-back insert would. Nothing
/// reads the log as gapless: readers ask for what comes after the last number they saw.
struct Numbers {
    seqs: Vec<i64>,
    case_ids: Vec<i64>,
    visit_ids: Vec<i64>,
}

impl Numbers {
    async fn take(
        conn: &mut sqlx::AnyConnection,
        sqlite: bool,
        transitions: usize,
        cases: usize,
        visits: usize,
    ) -> Result<Numbers, sqlx::Error> {
        if sqlite {
            let row = sqlx::query(
                "SELECT (SELECT COALESCE(MAX(seq), 0) FROM transitions) AS seq,
                        (SELECT COALESCE(MAX(id), 0) FROM cases) AS case_id,
                        (SELECT COALESCE(MAX(id), 0) FROM house_visits) AS visit_id",
            )
            .fetch_one(&mut *conn)
            .await?;
            let run = |last: i64, n: usize| (1..=n as i64).map(|i| last + i).rev().collect();
            return Ok(Numbers {
                seqs: run(row.try_get("seq")?, transitions),
                case_ids: run(row.try_get("case_id")?, cases),
                visit_ids: run(row.try_get("visit_id")?, visits),
            });
        }
        async fn from_sequence(
            conn: &mut sqlx::AnyConnection,
            table: &str,
            column: &str,
            n: usize,
        ) -> Result<Vec<i64>, sqlx::Error> {
            if n == 0 {
                return Ok(Vec::new());
            }
            let sql = format!(
                "SELECT nextval(pg_get_serial_sequence('{table}', '{column}')) AS n FROM generate_series(1, $1)"
            );
            let mut taken: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(n as i64)
                .fetch_all(&mut *conn)
                .await?;
            // Handed out from the back, so that numbers are used in ascending order.
            taken.sort_unstable_by(|a, b| b.cmp(a));
            Ok(taken)
        }
        Ok(Numbers {
            seqs: from_sequence(conn, "transitions", "seq", transitions).await?,
            case_ids: from_sequence(conn, "cases", "id", cases).await?,
            visit_ids: from_sequence(conn, "house_visits", "id", visits).await?,
        })
    }

    fn next(list: &mut Vec<i64>) -> i64 {
        list.pop()
            .expect("the batch takes a number for every write it may store")
    }
}

/// The writer: takes the writes waiting in the queue (up to [`MAX_BATCH`]), runs them in one
/// transaction, commits once, and then hands every committed event to the live feed in commit
/// order and answers each caller. One commit per batch rather than per write is what lets
/// thousands of reports a second through; the queue's order is the log's order.
pub(super) async fn run_writer(
    db: Db,
    areas: Arc<Areas>,
    mut queue: mpsc::Receiver<Write>,
    feed: mpsc::Sender<Event>,
    metrics: Arc<Metrics>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let checkpointer = tokio::spawn(run_checkpointer(db.clone()));
    // The writer keeps one connection for itself. On SQLite a connection's page cache is
    // dropped whenever another connection has written since its last transaction, so a writer
    // taking whichever pooled connection is free re-reads its pages for nearly every batch.
    let mut conn: Option<PoolConnection<sqlx::Any>> = None;
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let writes = std::mem::take(&mut batch);
        if conn.is_none() {
            match own_connection(&db).await {
                Ok(c) => conn = Some(c),
                Err(err) => {
                    // Dropping the writes tells their callers that nothing was stored.
                    tracing::error!(error = %err, writes = writes.len(), "the case writer has no database connection");
                    continue;
                }
            }
        }
        if let Some(c) = conn.as_mut()
            && !write_batch(c, &areas, writes, &feed, &metrics).await
        {
            // The connection may be what failed: the next batch takes a fresh one.
            conn = None;
        }
    }
    checkpointer.abort();
    tracing::debug!("case writer stopped");
}

/// How long a full checkpoint waits for readers of an older snapshot, holding the writer back
/// meanwhile; when they take longer it gives up and the next one tries again.
const FULL_CHECKPOINT_WAIT_MS: u32 = 200;

/// One checkpoint: passive, or `full`; returns the pages in the log.
async fn checkpoint(conn: &mut sqlx::AnyConnection, full: bool) -> Result<i64, sqlx::Error> {
    if !full {
        let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut *conn)
            .await?;
        // The answer is (busy, pages in the log, pages copied).
        return row.try_get::<i64, _>(1);
    }
    // A full checkpoint holds new writers back while it waits (with the connection's busy
    // timeout) for the writer's batch and for readers of older snapshots, so it waits briefly
    // rather than the pool's five seconds.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA busy_timeout = {FULL_CHECKPOINT_WAIT_MS}"
    )))
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query("PRAGMA wal_checkpoint(FULL)")
        .fetch_one(&mut *conn)
        .await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA busy_timeout = {}",
        crate::store::SQLITE_BUSY_TIMEOUT_MS
    )))
    .execute(&mut *conn)
    .await?;
    row?.try_get::<i64, _>(1)
}

/// How often the write-ahead log is copied back into the database file, beside the writer.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);
/// Pages of log past which a checkpoint waits for the writer, so that the log starts again
/// from its beginning (64 MiB of 4 KiB pages).
const RESTART_LOG_PAGES: i64 = 16_384;

/// Copies SQLite's write-ahead log back into the database file, on a connection of its own,
/// while the writer runs.
///
/// SQLite checkpoints by itself inside the commit that finds 1,000 pages or more in the log,
/// and that checkpoint syncs the database file: the writer stood still for tens of
/// milliseconds every third of a second under full load, and every request in flight waited
/// with it (the p99 of the ingest benchmark). The writer's connection turns that off. Here a
/// passive checkpoint, which never blocks the writer, copies the log on the other core as it
/// grows. A passive checkpoint never reaches the end of a log that the writer keeps
/// appending to, and only a log copied to its end starts again from its beginning; so once
/// the log is long, one full checkpoint waits for the writer's batch to end, holds the next
/// one back while it copies the last pages, and the next batch starts the log again. That
/// pause comes once per 64 MiB of log rather than once per 4 MiB.
async fn run_checkpointer(db: Db) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut log_pages = 0;
    loop {
        tick.tick().await;
        if db.is_closed() {
            break;
        }
        let mut conn = match db.acquire().await {
            Ok(conn) => conn,
            Err(err) => {
                tracing::warn!(error = %err, "the checkpointer has no database connection");
                continue;
            }
        };
        if conn.backend_name() != "SQLite" {
            // PostgreSQL checkpoints by itself, without stopping writers.
            break;
        }
        let full = log_pages > RESTART_LOG_PAGES;
        match checkpoint(&mut conn, full).await {
            Ok(pages) => log_pages = pages,
            Err(err) => {
                tracing::warn!(error = %err, "the write-ahead log checkpoint failed; trying again")
            }
        }
    }
}

/// The writer's connection, with a page cache large enough for the hot parts of the cases,
/// the log and their indexes (on SQLite; PostgreSQL caches on the server).
async fn own_connection(db: &Db) -> Result<PoolConnection<sqlx::Any>, sqlx::Error> {
    let mut conn = db.acquire().await?;
    if conn.backend_name() == "SQLite" {
        // The log is checkpointed beside the writer (`run_checkpointer`), never in its commits.
        sqlx::query("PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = 0")
            .execute(&mut *conn)
            .await?;
    }
    Ok(conn)
}

/// Writes one batch and answers its callers; false when the batch failed and was rolled back.
async fn write_batch(
    conn: &mut sqlx::AnyConnection,
    areas: &Areas,
    batch: Vec<Write>,
    feed: &mpsc::Sender<Event>,
    metrics: &Metrics,
) -> bool {
    let mut plan = Plan::default();
    let result: Result<(), sqlx::Error> = async {
        let sqlite = conn.backend_name() == "SQLite";
        // On SQLite the batch takes the write lock at once: a deferred transaction that reads
        // first and writes later fails at once with "database is locked" when another
        // connection (the saver) committed in between, which no busy timeout retries.
        let mut tx = if sqlite {
            sqlx::Connection::begin_with(conn, "BEGIN IMMEDIATE").await?
        } else {
            sqlx::Connection::begin(conn).await?
        };
        let (transitions, reports, visits) =
            batch
                .iter()
                .fold((0, 0, 0), |(t, r, v), write| match write {
                    Write::Report { .. } => (t + 1, r + 1, v),
                    Write::Move { .. } => (t + 1, r, v),
                    Write::Visit { .. } => (t, r, v + 1),
                });
        let mut numbers = Numbers::take(&mut tx, sqlite, transitions, reports, visits).await?;
        let moved = read_moved(&mut tx, sqlite, &batch).await?;
        plan = plan_batch(batch, areas, moved, &mut numbers, now_ms());
        write_plan(&mut tx, sqlite, &plan).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    if let Err(err) = result {
        tracing::error!(error = %err, writes = plan.done.len(), "a write batch failed and was rolled back");
        for d in plan.done {
            let failed =
                || AppError::Database(sqlx::Error::Protocol("write batch rolled back".into()));
            match d {
                Done::Case(reply, ..) => drop(reply.send(Err(failed()))),
                Done::Visit(reply, _) => drop(reply.send(Err(failed()))),
            }
        }
        // Writes of a batch that failed before it was planned are dropped, and their callers
        // told by their closed channels that nothing was stored.
        return false;
    }
    let now = std::time::Instant::now();
    for d in plan.done {
        match d {
            Done::Case(reply, view, mut event) => {
                if let Event::Transition(t) = &mut event {
                    t.committed_at = now;
                    tracing::debug!(case = t.case_id, seq = t.seq, action = %t.action, to = t.after.state.code(), "case moved");
                }
                metrics
                    .transitions_committed
                    .fetch_add(1, Ordering::Relaxed);
                hand_to_feed(feed, event).await;
                let _ = reply.send(Ok(*view));
            }
            Done::Visit(reply, event) => {
                hand_to_feed(feed, event).await;
                let _ = reply.send(Ok(()));
            }
        }
    }
    true
}

/// The current rows of the cases the batch moves, in one query.
async fn read_moved(
    tx: &mut sqlx::AnyConnection,
    sqlite: bool,
    batch: &[Write],
) -> Result<HashMap<i64, CaseRow>, sqlx::Error> {
    let mut ids: Vec<i64> = batch
        .iter()
        .filter_map(|w| match w {
            Write::Move { case_id, .. } => Some(*case_id),
            _ => None,
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut rows = HashMap::with_capacity(ids.len());
    if ids.is_empty() {
        return Ok(rows);
    }
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE id IN ({})",
        placeholders(sqlite, ids.len(), 1)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in &ids {
        query = query.bind(*id);
    }
    for row in query.fetch_all(&mut *tx).await? {
        // A row the writer cannot read is a database failure, as it would be in a query.
        let case = CaseRow::from_row(&row).map_err(|e| match e {
            AppError::Database(err) => err,
            other => sqlx::Error::Decode(other.to_string().into()),
        })?;
        rows.insert(case.id, case);
    }
    // A moved case's answer shows all its photos, so the batch reads those it has already.
    for (case_id, photos) in read_photos(tx, sqlite, &ids).await? {
        if let Some(case) = rows.get_mut(&case_id) {
            case.photos = photos;
        }
    }
    Ok(rows)
}

/// The photos of the cases `ids`, each case's in the order they were attached (by move, then
/// as sent), in one query.
pub(super) async fn read_photos(
    conn: &mut sqlx::AnyConnection,
    sqlite: bool,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<CasePhoto>>, sqlx::Error> {
    let mut photos: HashMap<i64, Vec<CasePhoto>> = HashMap::new();
    if ids.is_empty() {
        return Ok(photos);
    }
    let sql = format!(
        "SELECT t.case_id, tp.seq, tp.hash, t.action, p.content_type
         FROM transitions t
         JOIN transition_photos tp ON tp.seq = t.seq
         JOIN photos p ON p.hash = tp.hash
         WHERE t.case_id IN ({})
         ORDER BY tp.seq, tp.position",
        placeholders(sqlite, ids.len(), 1)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(*id);
    }
    for row in query.fetch_all(&mut *conn).await? {
        let action: String = row.try_get("action")?;
        let action = Action::from_code(&action).ok_or_else(|| {
            sqlx::Error::Decode(
                format!("unknown action `{action}` in the transitions table").into(),
            )
        })?;
        photos
            .entry(row.try_get("case_id")?)
            .or_default()
            .push(CasePhoto {
                hash: row.try_get("hash")?,
                content_type: row.try_get("content_type")?,
                action,
                seq: row.try_get::<i64, _>("seq")? as u64,
            });
    }
    Ok(photos)
}

/// Decides every write of the batch in queue order, as if each were committed alone: a move
/// sees the moves before it in the same batch. A refused write is answered at once; it takes
/// no number and writes nothing.
fn plan_batch(
    batch: Vec<Write>,
    areas: &Areas,
    mut rows: HashMap<i64, CaseRow>,
    numbers: &mut Numbers,
    at: i64,
) -> Plan {
    let mut plan = Plan::default();
    // Where each case of the batch sits in `plan.cases`.
    let mut placed: HashMap<i64, usize> = HashMap::new();
    for write in batch {
        match write {
            Write::Report {
                new,
                who,
                photos,
                reply,
            } => {
                let mut row =
                    report_row(Numbers::next(&mut numbers.case_ids), new, who.member_id, at);
                let seq = Numbers::next(&mut numbers.seqs) as u64;
                let logged = Logged {
                    before: None,
                    action: Action::Report,
                    who: &who,
                    note: None,
                    photos,
                    seq,
                };
                let (view, event) = log(&mut plan, &mut row, logged);
                placed.insert(row.id, plan.cases.len());
                plan.cases.push(row);
                plan.done.push(Done::Case(reply, Box::new(view), event));
            }
            Write::Move {
                case_id,
                action,
                who,
                note,
                department,
                photos,
                reply,
            } => {
                let slot = placed.get(&case_id).copied();
                let current = match slot {
                    Some(i) => Some(plan.cases[i].clone()),
                    None => rows.remove(&case_id),
                };
                let Some(current) = current else {
                    let err = AppError::NotFound(format!("no case with id {case_id}"));
                    drop(reply.send(Err(err)));
                    continue;
                };
                // The role first (403), then the state machine (409, naming the moves it
                // allows), then the caller's reach over the case as it stood (403).
                let mut row = current.clone();
                let outcome = who
                    .may_make(action)
                    .and_then(|()| row.apply(action, department, at))
                    .and_then(|before| {
                        who.may_touch(
                            current.grid_id.as_deref(),
                            current.facts.department.as_deref(),
                            areas,
                        )
                        .map(|()| before)
                    });
                let before = match outcome {
                    Ok(before) => before,
                    Err(err) => {
                        if slot.is_none() {
                            rows.insert(case_id, current);
                        }
                        drop(reply.send(Err(err)));
                        continue;
                    }
                };
                let seq = Numbers::next(&mut numbers.seqs) as u64;
                let logged = Logged {
                    before: Some(before),
                    action,
                    who: &who,
                    note,
                    photos,
                    seq,
                };
                let (view, event) = log(&mut plan, &mut row, logged);
                match slot {
                    Some(i) => plan.cases[i] = row,
                    None => {
                        placed.insert(case_id, plan.cases.len());
                        plan.cases.push(row);
                    }
                }
                plan.done.push(Done::Case(reply, Box::new(view), event));
            }
            Write::Visit {
                grid_id,
                member_id,
                household,
                reply,
            } => {
                let visit = Visit {
                    id: Numbers::next(&mut numbers.visit_ids),
                    grid_id,
                    member_id,
                    household,
                    at_ms: at,
                };
                plan.visits.push(visit.clone());
                plan.done.push(Done::Visit(reply, Event::Visit(visit)));
            }
        }
    }
    plan
}

/// One move as the log records it.
struct Logged<'a> {
    /// The case's facts before the move; `None` for a report.
    before: Option<Facts>,
    action: Action,
    /// Who made it: the log records the actor and the role.
    who: &'a Principal,
    note: Option<String>,
    photos: Vec<StoredPhoto>,
    seq: u64,
}

/// Logs one move of `row` (already applied) as transition `seq`: stamps the row, adds the
/// transition row and its photos to the plan, and says what the caller and the live feed get.
fn log(plan: &mut Plan, row: &mut CaseRow, logged: Logged<'_>) -> (CaseView, Event) {
    let Logged {
        before,
        action,
        who,
        note,
        photos,
        seq,
    } = logged;
    row.last_seq = seq;
    for (position, photo) in photos.into_iter().enumerate() {
        plan.photo_links.push(PhotoLink {
            seq,
            position,
            hash: photo.hash.clone(),
        });
        row.photos.push(CasePhoto {
            hash: photo.hash.clone(),
            content_type: photo.kind.content_type().to_owned(),
            action,
            seq,
        });
        plan.photos.push((photo, row.updated_at_ms));
    }
    plan.transitions.push(TransitionRow {
        seq,
        case_id: row.id,
        action,
        from: before.as_ref().map(|f| f.state),
        after: row.facts.clone(),
        actor: who.actor.clone(),
        role: who.role,
        at_ms: row.updated_at_ms,
        note,
    });
    let committed = Committed {
        seq,
        case_id: row.id,
        action,
        before,
        after: row.facts.clone(),
        at_ms: row.updated_at_ms,
        category: row.category,
        sub_item: row.sub_item.clone(),
        grid_id: row.grid_id.clone(),
        reported_at_ms: row.reported_at_ms,
        reporter_id: row.reporter_id,
        committed_at: std::time::Instant::now(),
    };
    (row.view(), Event::Transition(committed))
}

fn report_row(id: i64, new: NewCase, reporter_id: Option<i64>, at: i64) -> CaseRow {
    CaseRow {
        id,
        category: new.category,
        sub_item: new.sub_item,
        grid_id: new.grid_id,
        point: new.point,
        description: new.description,
        reported_at_ms: at,
        updated_at_ms: at,
        last_seq: 0,
        reporter_id,
        facts: Facts {
            state: CaseState::INITIAL,
            department: None,
            supervision: Supervision::None,
            deadline_ms: None,
        },
        dispatched_ms: None,
        photos: Vec::new(),
    }
}

/// `rows` groups of `cols` placeholders: `(?, ?), (?, ?)` on SQLite, `($1, $2), ($3, $4)` on
/// PostgreSQL. SQLite gets anonymous ones because sqlx looks each numbered one up by name, and
/// SQLite finds a name by a linear search: numbered placeholders made binding a batch of 512
/// rows quadratic, and the writer spent most of its time in `strncmp`.
///
/// The writer builds its SQL only from constants and these, never from input, which is why
/// its dynamic statements are marked safe.
pub(super) fn placeholders(sqlite: bool, rows: usize, cols: usize) -> String {
    let mut sql = String::with_capacity(rows * cols * 6);
    let mut n = 1;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        if cols > 1 {
            sql.push('(');
        }
        for c in 0..cols {
            if c > 0 {
                sql.push_str(", ");
            }
            if sqlite {
                sql.push('?');
            } else {
                sql.push('$');
                sql.push_str(&n.to_string());
            }
            n += 1;
        }
        if cols > 1 {
            sql.push(')');
        }
    }
    sql
}

/// Writes a planned batch: one statement per table, however many rows. A batch's largest
/// statement binds 512 moves × 6 photos × 4 columns = 12,288 values, within SQLite's limit of
/// 32,766 and PostgreSQL's of 65,535.
/// A statement being built, with the values bound so far.
type Query<'a> = sqlx::query::Query<'a, sqlx::Any, sqlx::any::AnyArguments>;

/// Inserts `rows` with one multi-row statement: `head` names the table and its `columns`
/// columns, `tail` follows the values, and `bind` binds one row's values in column order.
/// Nothing is sent for no rows.
async fn insert_rows<'a, R>(
    tx: &mut sqlx::AnyConnection,
    sqlite: bool,
    (head, columns, tail): (&str, usize, &str),
    rows: &[R],
    bind: impl Fn(Query<'a>, &R) -> Query<'a>,
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "{head} VALUES {} {tail}",
        placeholders(sqlite, rows.len(), columns)
    );
    let query = rows
        .iter()
        .fold(sqlx::query(sqlx::AssertSqlSafe(sql)), bind);
    query.execute(&mut *tx).await?;
    Ok(())
}

/// Writes a planned batch: one statement per table that has rows.
async fn write_plan(
    tx: &mut sqlx::AnyConnection,
    sqlite: bool,
    plan: &Plan,
) -> Result<(), sqlx::Error> {
    // New cases are inserted and moved ones updated by the same statement: the batch has
    // every column of each, read or made by the plan.
    let cases_head = format!("INSERT INTO cases ({CASE_COLUMNS})");
    let cases_tail =
        "ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at,
         last_seq = excluded.last_seq, department_code = excluded.department_code,
         supervision = excluded.supervision, dispatched_at = excluded.dispatched_at,
         deadline_at = excluded.deadline_at, next_check_at = excluded.next_check_at";
    insert_rows(
        tx,
        sqlite,
        (&cases_head, CASE_COLUMN_COUNT, cases_tail),
        &plan.cases,
        |q, c| {
            q.bind(c.id)
                .bind(c.category.code())
                .bind(c.sub_item.clone())
                .bind(c.grid_id.clone())
                .bind(c.point.map(|p| p.lon))
                .bind(c.point.map(|p| p.lat))
                .bind(c.description.clone())
                .bind(c.facts.state.code())
                .bind(c.reported_at_ms)
                .bind(c.updated_at_ms)
                .bind(c.last_seq as i64)
                .bind(c.reporter_id)
                .bind(c.facts.department.clone())
                .bind(c.facts.supervision.code())
                .bind(c.dispatched_ms)
                .bind(c.facts.deadline_ms)
                .bind(c.next_check_ms())
        },
    )
    .await?;
    // A photo's row before the links that name it. A photo already recorded (sent again, with
    // another move or case) keeps its first row.
    let mut seen = HashSet::new();
    let photos: Vec<&(StoredPhoto, i64)> = plan
        .photos
        .iter()
        .filter(|(p, _)| seen.insert(p.hash.as_str()))
        .collect();
    let photos_head = format!("INSERT INTO photos ({PHOTO_COLUMNS})");
    let photos_tail = "ON CONFLICT (hash) DO NOTHING";
    insert_rows(
        tx,
        sqlite,
        (&photos_head, PHOTO_COLUMN_COUNT, photos_tail),
        &photos,
        |q, (p, at_ms)| {
            q.bind(p.hash.clone())
                .bind(p.kind.content_type())
                .bind(p.bytes as i64)
                .bind(*at_ms)
        },
    )
    .await?;
    let transitions_head = format!("INSERT INTO transitions ({TRANSITION_COLUMNS})");
    insert_rows(
        tx,
        sqlite,
        (&transitions_head, TRANSITION_COLUMN_COUNT, ""),
        &plan.transitions,
        |q, t| {
            q.bind(t.seq as i64)
                .bind(t.case_id)
                .bind(t.action.code())
                .bind(t.from.map(CaseState::code))
                .bind(t.after.state.code())
                .bind(t.actor.clone())
                .bind(t.role.code())
                .bind(t.at_ms)
                .bind(t.note.clone())
                .bind(t.after.department.clone())
                .bind(t.after.supervision.code())
                .bind(t.after.deadline_ms)
        },
    )
    .await?;
    let links_head = format!("INSERT INTO transition_photos ({PHOTO_LINK_COLUMNS})");
    insert_rows(
        tx,
        sqlite,
        (&links_head, PHOTO_LINK_COLUMN_COUNT, ""),
        &plan.photo_links,
        |q, link| {
            q.bind(link.seq as i64)
                .bind(link.position as i64)
                .bind(link.hash.clone())
        },
    )
    .await?;
    let visits_head = format!("INSERT INTO house_visits ({VISIT_COLUMNS})");
    insert_rows(
        tx,
        sqlite,
        (&visits_head, VISIT_COLUMN_COUNT, ""),
        &plan.visits,
        |q, v| {
            q.bind(v.id)
                .bind(v.grid_id.clone())
                .bind(v.member_id)
                .bind(v.at_ms)
                .bind(v.household.clone())
        },
    )
    .await
}

async fn hand_to_feed(feed: &mpsc::Sender<Event>, event: Event) {
    if feed.send(event).await.is_err() {
        // Only during shutdown: the event is committed and the next start rebuilds the wall
        // from the tables, so nothing is lost.
        tracing::warn!("live feed has stopped; event stored but not streamed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photos::ImageKind;

    async fn write_rows(conn: &mut sqlx::AnyConnection, rows: usize) {
        let sql = format!(
            "INSERT INTO t (v) VALUES {}",
            vec!["(randomblob(2000))"; rows].join(", ")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(conn)
            .await
            .expect("insert");
    }

    /// The writer's connection never checkpoints in its commits, so the log grows until the
    /// checkpointer copies it; after a full checkpoint the next write starts the log again
    /// from its beginning.
    #[tokio::test]
    async fn a_full_checkpoint_lets_the_log_start_again() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite:{}", dir.path().join("c.db").display());
        let db = crate::store::connect(&url).await.expect("database");
        let mut writer = own_connection(&db).await.expect("the writer's connection");
        sqlx::query("CREATE TABLE t (v TEXT)")
            .execute(&mut *writer)
            .await
            .expect("table");
        // About 1,500 pages: past the 1,000 at which SQLite would checkpoint in the commit.
        for _ in 0..30 {
            write_rows(&mut writer, 100).await;
        }
        let mut other = db.acquire().await.expect("a second connection");
        let grown = checkpoint(&mut other, false).await.expect("passive");
        assert!(grown > 1_000, "the writer never checkpoints: {grown} pages");
        checkpoint(&mut other, true).await.expect("full");
        write_rows(&mut writer, 1).await;
        let restarted = checkpoint(&mut other, false).await.expect("passive");
        assert!(restarted < 10, "the log started again: {restarted} pages");
        // The full checkpoint's short wait is not left on the pooled connection.
        let timeout: i64 = sqlx::query("PRAGMA busy_timeout")
            .fetch_one(&mut *other)
            .await
            .expect("busy timeout")
            .try_get(0)
            .expect("a number");
        assert_eq!(timeout, i64::from(crate::store::SQLITE_BUSY_TIMEOUT_MS));
    }

    fn reported(id: i64) -> CaseRow {
        report_row(
            id,
            NewCase {
                category: Category::MunicipalFacilities,
                sub_item: Some("0801".to_owned()),
                grid_id: Some("230602001001001".to_owned()),
                point: None,
                description: "路灯杆倾斜".to_owned(),
            },
            None,
            1_000,
        )
    }

    fn move_of(
        case_id: i64,
        action: Action,
    ) -> (Write, oneshot::Receiver<Result<CaseView, AppError>>) {
        let (reply, answer) = oneshot::channel();
        let write = Write::Move {
            case_id,
            action,
            who: Arc::new(Principal::system("test")),
            note: None,
            department: None,
            photos: Vec::new(),
            reply,
        };
        (write, answer)
    }

    fn numbers(first_seq: i64, writes: usize) -> Numbers {
        Numbers {
            seqs: (first_seq..first_seq + writes as i64).rev().collect(),
            case_ids: vec![901],
            visit_ids: Vec::new(),
        }
    }

    #[test]
    fn moves_in_one_batch_see_the_moves_before_them() {
        let rows = HashMap::from([(7, reported(7))]);
        let (dispatch, dispatched) = move_of(7, Action::Dispatch);
        let (accept, accepted) = move_of(7, Action::Accept);
        let (again, refused) = move_of(7, Action::Accept);
        let (elsewhere, unknown) = move_of(8, Action::Dispatch);
        let (report, new_case) = oneshot::channel();
        let report = Write::Report {
            new: NewCase {
                category: Category::MunicipalFacilities,
                sub_item: None,
                grid_id: None,
                point: None,
                description: "井盖缺失".to_owned(),
            },
            who: Arc::new(Principal::system("test")),
            photos: Vec::new(),
            reply: report,
        };
        let mut numbers = numbers(100, 5);
        let plan = plan_batch(
            vec![dispatch, accept, again, elsewhere, report],
            &Areas::default(),
            rows,
            &mut numbers,
            5_000,
        );

        // The refused moves are answered at once and take no number.
        let mut refused = refused;
        assert!(matches!(
            refused.try_recv(),
            Ok(Err(AppError::MoveNotAllowed(_)))
        ));
        let mut unknown = unknown;
        assert!(matches!(unknown.try_recv(), Ok(Err(AppError::NotFound(_)))));
        let seqs: Vec<u64> = plan.transitions.iter().map(|t| t.seq).collect();
        assert_eq!(seqs, [100, 101, 102]);
        assert_eq!(numbers.seqs, [104, 103]);

        // One row per case, as it is after the batch.
        assert_eq!(plan.cases.len(), 2);
        let case = &plan.cases[0];
        assert_eq!(case.id, 7);
        assert_eq!(case.facts.state, CaseState::Accepted);
        assert_eq!(case.last_seq, 101);
        assert_eq!(case.dispatched_ms, Some(5_000));
        assert_eq!(case.facts.department.as_deref(), Some("D01"));
        assert_eq!(plan.cases[1].id, 901);
        assert_eq!(plan.cases[1].last_seq, 102);

        // Each transition row and each answer describe the case as it was after that move.
        let t = &plan.transitions;
        assert_eq!(
            (t[0].action, t[0].from, t[0].after.state),
            (
                Action::Dispatch,
                Some(CaseState::Reported),
                CaseState::Dispatched
            )
        );
        assert_eq!(
            (t[1].action, t[1].from, t[1].after.state),
            (
                Action::Accept,
                Some(CaseState::Dispatched),
                CaseState::Accepted
            )
        );
        assert_eq!(
            (t[2].case_id, t[2].action, t[2].from),
            (901, Action::Report, None)
        );
        let views: Vec<(i64, CaseState, u64)> = plan
            .done
            .iter()
            .map(|d| match d {
                Done::Case(_, view, _) => (view.id, view.state, view.seq),
                Done::Visit(..) => panic!("no visit was queued"),
            })
            .collect();
        assert_eq!(
            views,
            [
                (7, CaseState::Dispatched, 100),
                (7, CaseState::Accepted, 101),
                (901, CaseState::Reported, 102)
            ]
        );
        // Nobody is answered before the commit.
        let (mut dispatched, mut accepted, mut new_case) = (dispatched, accepted, new_case);
        assert!(dispatched.try_recv().is_err());
        assert!(accepted.try_recv().is_err());
        assert!(new_case.try_recv().is_err());
    }

    #[test]
    fn a_refused_move_leaves_the_case_for_the_next_one() {
        let rows = HashMap::from([(7, reported(7))]);
        let (accept, _refused) = move_of(7, Action::Accept);
        let (dispatch, _dispatched) = move_of(7, Action::Dispatch);
        let plan = plan_batch(
            vec![accept, dispatch],
            &Areas::default(),
            rows,
            &mut numbers(1, 2),
            5_000,
        );
        assert_eq!(plan.transitions.len(), 1);
        assert_eq!(plan.cases.len(), 1);
        assert_eq!(plan.cases[0].facts.state, CaseState::Dispatched);
    }

    #[test]
    fn photos_hang_off_their_move_and_show_on_every_later_answer() {
        let photo = |hash: &str, kind| StoredPhoto {
            hash: hash.repeat(64),
            kind,
            bytes: 100,
        };
        let mut before = reported(7);
        before.photos.push(CasePhoto {
            hash: "a".repeat(64),
            content_type: "image/jpeg".to_owned(),
            action: Action::Report,
            seq: 3,
        });
        let rows = HashMap::from([(7, before)]);
        let with_photos = |action, photos: Vec<StoredPhoto>| {
            let (write, answer) = move_of(7, action);
            let write = match write {
                Write::Move {
                    case_id,
                    action,
                    who,
                    note,
                    department,
                    reply,
                    ..
                } => Write::Move {
                    case_id,
                    action,
                    who,
                    note,
                    department,
                    photos,
                    reply,
                },
                other => other,
            };
            (write, answer)
        };
        let (dispatch, _d) = with_photos(Action::Dispatch, vec![]);
        // Refused (a dispatched case cannot be verified): its photo is not recorded.
        let (refused, _r) = with_photos(Action::Verify, vec![photo("c", ImageKind::Png)]);
        let (accept, _a) = with_photos(Action::Accept, vec![]);
        let (resolve, _s) = with_photos(
            Action::Resolve,
            vec![photo("b", ImageKind::Png), photo("a", ImageKind::Jpeg)],
        );
        let plan = plan_batch(
            vec![dispatch, refused, accept, resolve],
            &Areas::default(),
            rows,
            &mut numbers(10, 4),
            5_000,
        );
        let links: Vec<(u64, usize, char)> = plan
            .photo_links
            .iter()
            .map(|l| (l.seq, l.position, l.hash.chars().next().unwrap_or(' ')))
            .collect();
        assert_eq!(links, [(12, 0, 'b'), (12, 1, 'a')]);
        assert_eq!(plan.photos.len(), 2);
        assert!(plan.photos.iter().all(|(_, at)| *at == 5_000));
        let shown: Vec<Vec<(Action, u64)>> = plan
            .done
            .iter()
            .map(|d| match d {
                Done::Case(_, view, _) => view.photos.iter().map(|p| (p.action, p.seq)).collect(),
                Done::Visit(..) => panic!("no visit was queued"),
            })
            .collect();
        assert_eq!(
            shown,
            [
                vec![(Action::Report, 3)],
                vec![(Action::Report, 3)],
                vec![
                    (Action::Report, 3),
                    (Action::Resolve, 12),
                    (Action::Resolve, 12)
                ],
            ]
        );
        let resolved = &plan.cases[0].photos[1];
        assert_eq!(resolved.content_type, "image/png");
    }

    #[test]
    fn a_move_its_caller_may_not_make_records_none_of_its_photos() {
        let staff = |department: &str| Principal {
            actor: format!("staff-{department}"),
            role: Role::DepartmentStaff,
            area: None,
            department: Some(department.to_owned()),
            grids: Default::default(),
            member_id: None,
        };
        let worker = Principal {
            actor: "worker".to_owned(),
            role: Role::GridWorker,
            grids: ["230602001001001".to_owned()].into(),
            ..staff("D01")
        };
        let photo = StoredPhoto {
            hash: "d".repeat(64),
            kind: ImageKind::Jpeg,
            bytes: 100,
        };
        let mut queue = Vec::new();
        let mut answers = Vec::new();
        for (action, who, department, photos) in [
            // The system dispatches to D01, without photos.
            (
                Action::Dispatch,
                Principal::system("test"),
                Some("D01"),
                vec![],
            ),
            // A grid worker's role does not accept: refused before the state machine.
            (Action::Accept, worker, None, vec![photo.clone()]),
            // D02's staff may accept, but the case is D01's: refused after it.
            (Action::Accept, staff("D02"), None, vec![photo.clone()]),
            // D01's staff may, and its photo is recorded.
            (Action::Accept, staff("D01"), None, vec![photo.clone()]),
        ] {
            let (reply, answer) = oneshot::channel();
            queue.push(Write::Move {
                case_id: 7,
                action,
                who: Arc::new(who),
                note: None,
                department: department.map(str::to_owned),
                photos,
                reply,
            });
            answers.push(answer);
        }
        let rows = HashMap::from([(7, reported(7))]);
        let plan = plan_batch(queue, &Areas::default(), rows, &mut numbers(20, 4), 5_000);
        let outcomes: Vec<&str> = answers
            .iter_mut()
            .map(|a| match a.try_recv() {
                Ok(Ok(_)) => "ok",
                Ok(Err(AppError::Forbidden(_))) => "forbidden",
                Ok(Err(_)) => "other error",
                Err(_) => "unanswered",
            })
            .collect();
        // Answers to accepted moves come after the commit; refusals at once.
        assert_eq!(
            outcomes,
            ["unanswered", "forbidden", "forbidden", "unanswered"]
        );
        let links: Vec<(u64, usize)> = plan
            .photo_links
            .iter()
            .map(|l| (l.seq, l.position))
            .collect();
        assert_eq!(links, [(21, 0)]);
        assert_eq!(plan.photos.len(), 1);
        assert_eq!(plan.transitions.len(), 2);
        assert_eq!(plan.transitions[1].role, Role::DepartmentStaff);
    }

    #[test]
    fn placeholders_are_anonymous_on_sqlite_and_numbered_on_postgres() {
        assert_eq!(placeholders(true, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(placeholders(false, 2, 2), "($1, $2), ($3, $4)");
        assert_eq!(placeholders(false, 3, 1), "$1, $2, $3");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use std::collections::HashSet;

        const ACTIONS: [Action; 13] = [
            Action::Report,
            Action::Dispatch,
            Action::Accept,
            Action::Resolve,
            Action::Verify,
            Action::Close,
            Action::Return,
            Action::Reject,
            Action::Escalate,
            Action::Reopen,
            Action::Urge,
            Action::Warn,
            Action::Supervise,
        ];

        /// A random write: a report (`None`) or an action on one of cases 1 to 6, of which
        /// only 1 to 4 exist; made by the system or by a grid worker of grid G1.
        fn write() -> impl Strategy<Value = (Option<(i64, usize)>, bool)> {
            (
                prop_oneof![1 => Just(None), 6 => (1i64..=6, 0..ACTIONS.len()).prop_map(Some)],
                any::<bool>(),
            )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// However a run of batches goes, the log and the current rows agree: every
            /// transition is a move the state machine allows from the state the case was
            /// in, each case's row is where its last transition left it, sequence numbers
            /// run without gaps, every write is answered exactly once, and a refused write
            /// leaves no trace.
            #[test]
            fn the_log_and_the_rows_always_agree(
                batches in proptest::collection::vec(proptest::collection::vec(write(), 1..24), 1..8)
            ) {
                let mut stored: HashMap<i64, CaseRow> =
                    (1..=4).map(|id| (id, CaseRow { grid_id: Some("G1".to_owned()), ..reported(id) })).collect();
                let mut log: Vec<TransitionRow> = Vec::new();
                let (mut next_seq, mut next_case) = (1i64, 100i64);
                let worker = Arc::new(Principal {
                    grids: HashSet::from(["G2".to_owned()]),
                    ..Principal { role: Role::GridWorker, ..Principal::system("worker") }
                });
                for (b, batch) in batches.into_iter().enumerate() {
                    let mut answers = Vec::new();
                    let mut writes = Vec::new();
                    for (i, (what, by_worker)) in batch.into_iter().enumerate() {
                        // Reports are checked before they are queued, so only moves come from
                        // the worker here.
                        let who = if by_worker && what.is_some() {
                            worker.clone()
                        } else {
                            Arc::new(Principal::system("test"))
                        };
                        // Every write carries a photo of its own, so that the photos recorded
                        // show which writes were.
                        let photos = vec![StoredPhoto {
                            hash: format!("{:064x}", b * 1_000 + i),
                            kind: ImageKind::Jpeg,
                            bytes: 1,
                        }];
                        let (reply, answer) = oneshot::channel();
                        answers.push(answer);
                        writes.push(match what {
                            None => Write::Report {
                                new: NewCase {
                                    category: Category::MunicipalFacilities,
                                    sub_item: Some("0801".to_owned()),
                                    grid_id: Some("G1".to_owned()),
                                    point: None,
                                    description: "p".to_owned(),
                                },
                                who,
                                photos,
                                reply,
                            },
                            Some((case_id, a)) => Write::Move {
                                case_id,
                                action: ACTIONS[a],
                                who,
                                note: None,
                                department: None,
                                photos,
                                reply,
                            },
                        });
                    }
                    let n = writes.len();
                    let mut numbers = Numbers {
                        seqs: (next_seq..next_seq + n as i64).rev().collect(),
                        case_ids: (next_case..next_case + n as i64).rev().collect(),
                        visit_ids: Vec::new(),
                    };
                    let plan = plan_batch(writes, &Areas::default(), stored.clone(), &mut numbers, 1_000 + b as i64);

                    // Every write is answered once: refused ones at once, the rest by the plan.
                    let refused = answers
                        .iter_mut()
                        .map(|a| a.try_recv())
                        .filter(|a| matches!(a, Ok(Err(_))))
                        .count();
                    prop_assert_eq!(refused + plan.done.len(), n);
                    prop_assert_eq!(plan.transitions.len(), plan.done.len());
                    // A written move records its photo with its own transition; a refused one
                    // records none.
                    let linked: Vec<u64> = plan.photo_links.iter().map(|l| l.seq).collect();
                    let written: Vec<u64> = plan.transitions.iter().map(|t| t.seq).collect();
                    prop_assert_eq!(linked, written);
                    prop_assert_eq!(plan.photos.len(), plan.transitions.len());
                    // Numbers are taken in order, only for what is written.
                    for (i, t) in plan.transitions.iter().enumerate() {
                        prop_assert_eq!(t.seq as i64, next_seq + i as i64);
                    }
                    next_seq += plan.transitions.len() as i64;
                    next_case += (n - numbers.case_ids.len()) as i64;
                    // Each transition follows from the case's state just before it, and the
                    // grid worker, who makes no move on G1's cases, made none.
                    let mut state: HashMap<i64, CaseState> =
                        stored.iter().map(|(id, row)| (*id, row.facts.state)).collect();
                    for t in &plan.transitions {
                        match t.from {
                            None => {
                                prop_assert_eq!(t.action, Action::Report);
                                prop_assert!(!state.contains_key(&t.case_id));
                                prop_assert_eq!(t.role, Role::System);
                            }
                            Some(from) => {
                                prop_assert_eq!(state.get(&t.case_id), Some(&from));
                                prop_assert_eq!(from.next(t.action).ok(), Some(t.after.state));
                                prop_assert_eq!(t.role, Role::System);
                            }
                        }
                        state.insert(t.case_id, t.after.state);
                    }
                    // Each row written is where its last transition left it.
                    let ids: Vec<i64> = plan.cases.iter().map(|c| c.id).collect();
                    prop_assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
                    for row in &plan.cases {
                        let last = plan.transitions.iter().rev().find(|t| t.case_id == row.id);
                        prop_assert!(last.is_some(), "case {} written without a transition", row.id);
                        let last = last.unwrap();
                        prop_assert_eq!(row.last_seq, last.seq);
                        prop_assert_eq!(&row.facts, &last.after);
                        prop_assert_eq!(row.dispatched_ms.is_some(), row.facts.deadline_ms.is_some());
                    }
                    // Cases the batch did not touch keep their rows.
                    for row in plan.cases {
                        stored.insert(row.id, row);
                    }
                    log.extend(plan.transitions);
                }
                // Over the whole run, replaying the log gives every row.
                let mut replayed: HashMap<i64, CaseState> =
                    (1..=4).map(|id| (id, CaseState::Reported)).collect();
                for t in &log {
                    replayed.insert(t.case_id, t.after.state);
                }
                for (id, row) in &stored {
                    prop_assert_eq!(replayed.get(id), Some(&row.facts.state));
                }
            }
        }
    }
}
