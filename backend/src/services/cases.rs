//! Case commands: the one path by which anything (the API, the simulator, Open311 and
//! the time-limit watcher) reports or moves a case.
//!
//! Each command validates its input here and queues it for the single writer task
//! (`writer`), which asks the state machine in `shared::case` whether the move is allowed and
//! writes the transition row and the current-state row in one transaction. Because there is
//! one writer, the live feed sees transitions in commit order: the order of their sequence
//! numbers. A report or move may carry an idempotency key ([`Claim`]); the writer stores it
//! with the write and answers a retry from it ([`Answered::replayed`]).

use crate::error::AppError;
use crate::metrics::Metrics;
use crate::services::photo_store::{MAX_PHOTOS_PER_MOVE, PhotoStore, Upload};
use crate::services::write_health::WriteHealth;
use crate::store::Db;
use crate::store::codes::{decode_state, decode_supervision};
use gridwall_core::event::{Event, Facts};
use gridwall_core::geo::GridIndex;
use gridwall_core::idempotency::{Claim, KEY_LIFETIME_MS};
use gridwall_core::photo::StoredPhoto;
use gridwall_core::plan::{NewCase, WriteCommand};
use gridwall_core::policy::{AreaIndex, Principal};
use shared::case::{Action, CaseMove, CasePhoto, CaseState, CaseView, Category, Point, ReportCase};
use shared::taxonomy;
use sqlx::Row;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

mod list;
mod writer;

pub use list::{DEFAULT_LIMIT, ListQuery, MAX_LIMIT};
// The fuzzers (`crate::fuzzing`) check a list query as `GET /api/cases` does.
pub(crate) use list::check as check_list_query;

/// The longest description a report may carry.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
const MAX_NOTE_CHARS: usize = 1_000;
const MAX_GRID_ID_CHARS: usize = 32;

/// The case command layer. Cheap to clone; all clones share one write lock.
#[derive(Debug, Clone)]
pub struct Cases {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Db,
    /// The city's grids, for checking where a case is.
    grids: Arc<GridIndex>,
    /// Where the photos of reports and moves are stored before the writer records them.
    photos: Arc<PhotoStore>,
    /// Which street and district each grid is in, for checking a caller's area.
    areas: Arc<AreaIndex>,
    /// The writer task's queue: every write goes through it.
    writes: mpsc::Sender<Write>,
}

/// Writes queued for the writer; callers wait when it is full, which is the back-pressure
/// that keeps a flood of reports from growing memory without bound.
const WRITE_QUEUE: usize = 4_096;

/// One write, with where its answer goes.
#[derive(Debug)]
struct Write {
    command: WriteCommand,
    reply: Reply,
}

/// What a report or move answers with.
#[derive(Debug, Clone, PartialEq)]
pub struct Answered {
    /// The case as the write left it.
    pub view: CaseView,
    /// Whether this is the answer stored with the request's idempotency key: the request was
    /// made before, and this time nothing was written.
    pub replayed: bool,
}

/// Where a write's answer goes: a report or move answers with the case, a visit with nothing.
#[derive(Debug)]
enum Reply {
    Case(oneshot::Sender<Result<Answered, AppError>>),
    Visit(oneshot::Sender<Result<(), AppError>>),
}

impl Reply {
    /// Answers with `err`: nothing of the write was stored.
    fn refuse(self, err: AppError) {
        // A caller that stopped waiting no longer needs the answer.
        match self {
            Reply::Case(reply) => drop(reply.send(Err(err))),
            Reply::Visit(reply) => drop(reply.send(Err(err))),
        }
    }
}

impl Cases {
    /// The command layer and its writer task, which ends when every clone of the returned
    /// `Cases` is gone (after handing the feed everything it committed).
    pub fn new(
        db: Db,
        grids: Arc<GridIndex>,
        areas: Arc<AreaIndex>,
        photos: Arc<PhotoStore>,
        feed: mpsc::Sender<Event>,
        metrics: Arc<Metrics>,
        health: Arc<WriteHealth>,
    ) -> (Cases, tokio::task::JoinHandle<()>) {
        let (writes, queue) = mpsc::channel(WRITE_QUEUE);
        let writer = tokio::spawn(writer::run_writer(
            db.clone(),
            areas.clone(),
            queue,
            feed,
            metrics,
            health,
        ));
        let cases = Cases {
            inner: Arc::new(Inner {
                db,
                grids,
                areas,
                photos,
                writes,
            }),
        };
        (cases, writer)
    }

    async fn send<T>(
        &self,
        write: Write,
        answer: oneshot::Receiver<Result<T, AppError>>,
    ) -> Result<T, AppError> {
        // The writer drops an answer only when it stops or when a database failure rolled
        // back the write's batch; either way nothing was stored.
        let stopped = || {
            AppError::Unavailable(
                "the write was not completed (the server is stopping or the database failed); \
                 nothing was stored, try again"
                    .to_owned(),
            )
        };
        self.inner.writes.send(write).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Stores the photos of a report or move that passed validation and the caller's checks,
    /// before its write is queued: the writer records them with the transition, and a photo's
    /// row must never name a file that is not there. The same photo sent twice with one move is
    /// recorded once.
    ///
    /// If the write is then refused (another move got there first and the state machine or the
    /// caller's reach says no) or fails, the files stay on disk with no row naming them. That is
    /// harmless: a file is named by its content, so nothing else can be stored under its name,
    /// it is not served without a row, and a later upload of the same photo finds it there.
    /// Deleting it instead could race with a concurrent upload of the same photo that is about
    /// to be recorded.
    async fn store_photos(&self, uploads: Vec<Upload>) -> Result<Vec<StoredPhoto>, AppError> {
        if uploads.len() > MAX_PHOTOS_PER_MOVE {
            return Err(AppError::invalid(
                "photo",
                format!("at most {MAX_PHOTOS_PER_MOVE} photos go with one report or move"),
            ));
        }
        let mut stored: Vec<StoredPhoto> = Vec::with_capacity(uploads.len());
        for upload in &uploads {
            let photo = self.inner.photos.put(upload).await?;
            if !stored.iter().any(|p| p.hash == photo.hash) {
                stored.push(photo);
            }
        }
        Ok(stored)
    }

    /// Reports a new case for `who`: validates it, checks that `who` may report there, stores
    /// its photos, then the case and its `report` transition with the photos' rows. A grid
    /// worker is recorded as the reporter. The photos are stored only after both checks, so a
    /// refused report leaves no file behind.
    pub async fn report(
        &self,
        req: ReportCase,
        who: Arc<Principal>,
        photos: Vec<Upload>,
    ) -> Result<CaseView, AppError> {
        let answered = self.report_keyed(req, who, photos, None).await?;
        Ok(answered.view)
    }

    /// [`Cases::report`] with the request's idempotency key: when `key` is stored already, the
    /// answer is the one stored with it (or a 422 when another request used it) and nothing
    /// is written; otherwise the key is stored in the report's transaction.
    pub async fn report_keyed(
        &self,
        req: ReportCase,
        who: Arc<Principal>,
        photos: Vec<Upload>,
        key: Option<Claim>,
    ) -> Result<Answered, AppError> {
        let new = validate_report(req, &self.inner.grids)?;
        who.may_report(new.grid_id.as_deref(), &self.inner.areas)?;
        let photos = self.store_photos(photos).await?;
        let (reply, answer) = oneshot::channel();
        let write = Write {
            command: WriteCommand::Report {
                new,
                who,
                photos,
                key,
            },
            reply: Reply::Case(reply),
        };
        self.send(write, answer).await
    }

    /// Moves a case by one action of the state machine, for `who` (the writer checks that
    /// `who` may, against the case as it then stands). `department` names the department
    /// for a dispatch (the sub-item's default when `None`) and must be `None` otherwise.
    /// `photos` go with any move but the time-limit watcher's, which has nothing to show.
    pub async fn apply(
        &self,
        case_id: i64,
        action: Action,
        who: Arc<Principal>,
        note: Option<String>,
        department: Option<String>,
        photos: Vec<Upload>,
    ) -> Result<CaseView, AppError> {
        let answered = self
            .apply_keyed(case_id, action, who, note, department, photos, None)
            .await?;
        Ok(answered.view)
    }

    /// [`Cases::apply`] with the request's idempotency key, as [`Cases::report_keyed`]. A
    /// retried move with photos skips the early check of the move (the case has moved on since
    /// the first request, which the check would refuse) and lets the writer answer it.
    #[allow(clippy::too_many_arguments)]
    pub async fn apply_keyed(
        &self,
        case_id: i64,
        action: Action,
        who: Arc<Principal>,
        note: Option<String>,
        department: Option<String>,
        photos: Vec<Upload>,
        key: Option<Claim>,
    ) -> Result<Answered, AppError> {
        if !photos.is_empty() && Action::WATCHER.contains(&action) {
            return Err(AppError::invalid(
                "photo",
                format!("`{action}` is recorded by the time-limit watcher and takes no photos"),
            ));
        }
        let note = match note.map(|n| n.trim().to_owned()) {
            Some(n) if n.chars().count() > MAX_NOTE_CHARS => {
                return Err(AppError::invalid(
                    "note",
                    format!("is longer than {MAX_NOTE_CHARS} characters"),
                ));
            }
            Some(n) if n.is_empty() => None,
            other => other,
        };
        let department = match department.map(|d| d.trim().to_owned()) {
            None => None,
            Some(_) if action != Action::Dispatch => {
                return Err(AppError::invalid(
                    "department",
                    format!("only a `dispatch` names a department, not `{action}`"),
                ));
            }
            Some(d) => match taxonomy::department(&d) {
                Some(dept) => Some(dept.code.to_owned()),
                None => {
                    return Err(AppError::invalid(
                        "department",
                        format!(
                            "there is no department `{}`; codes run from D01 to D{:02}",
                            d.chars().take(16).collect::<String>(),
                            taxonomy::DEPARTMENTS.len()
                        ),
                    ));
                }
            },
        };
        if !photos.is_empty() && !self.key_is_stored(key.as_ref()).await? {
            self.check_move(case_id, action, &who).await?;
        }
        let photos = self.store_photos(photos).await?;
        let (reply, answer) = oneshot::channel();
        let write = Write {
            command: WriteCommand::Move {
                case_id,
                action,
                who,
                note,
                department,
                photos,
                key,
            },
            reply: Reply::Case(reply),
        };
        self.send(write, answer).await
    }

    /// The grid that contains `point`, if any, so that a caller can name a point outside the
    /// city in its own terms before it reports; [`Cases::report`] still decides.
    pub fn grid_of(&self, point: Point) -> Option<String> {
        self.inner
            .grids
            .locate([point.lon, point.lat])
            .map(str::to_owned)
    }

    /// Whether `key` is stored and not yet expired. Read outside the writer's transaction, it
    /// only decides whether to check a move early; the writer decides the move.
    async fn key_is_stored(&self, key: Option<&Claim>) -> Result<bool, AppError> {
        let Some(claim) = key else {
            return Ok(false);
        };
        let mut conn = self.inner.db.acquire().await?;
        let since = crate::clock::now_ms() - KEY_LIFETIME_MS;
        Ok(crate::store::case_rows::key_is_stored(&mut conn, &claim.id, since).await?)
    }

    /// Asks, before a move's photos are stored, what the writer will ask, in its order: whether
    /// `who`'s role makes the move (403), whether the case exists and its state allows the move
    /// now (404, 409), and whether the case as it stands is within `who`'s reach (403). So a
    /// refused or unauthorised move leaves no file behind. The writer asks again and decides: a
    /// move that loses a race with another still leaves its photos on disk, unreferenced and
    /// harmless (see `store_photos`).
    async fn check_move(
        &self,
        case_id: i64,
        action: Action,
        who: &Principal,
    ) -> Result<(), AppError> {
        who.may_make(action)?;
        let row = sqlx::query(
            "SELECT state, supervision, grid_id, department_code FROM cases WHERE id = $1",
        )
        .bind(case_id)
        .fetch_optional(&self.inner.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no case with id {case_id}")))?;
        decode_state(&row.try_get::<String, _>("state")?)?.next(action)?;
        decode_supervision(&row.try_get::<String, _>("supervision")?)?.after(action)?;
        who.may_touch(
            row.try_get::<Option<String>, _>("grid_id")?.as_deref(),
            row.try_get::<Option<String>, _>("department_code")?
                .as_deref(),
            &self.inner.areas,
        )?;
        Ok(())
    }

    /// One case as the API shows it to `who`, with its photos: 403 when it lies outside what
    /// `who` may see.
    pub async fn get_for(&self, case_id: i64, who: &Principal) -> Result<CaseView, AppError> {
        let view = self.get(case_id).await?;
        if who.may_see(
            view.grid_id.as_deref(),
            view.department.as_deref(),
            &self.inner.areas,
        ) {
            Ok(view)
        } else {
            Err(AppError::Forbidden(format!(
                "case {case_id} is outside what a {} here may see",
                who.role
            )))
        }
    }

    /// A case's moves from its report on, for `who`, under the rule of [`Cases::get_for`].
    pub async fn moves_for(
        &self,
        case_id: i64,
        who: &Principal,
    ) -> Result<Vec<CaseMove>, AppError> {
        let view = self.get_for(case_id, who).await?;
        let mut conn = self.inner.db.acquire().await?;
        let sqlite = conn.backend_name() == "SQLite";
        let mut photos: HashMap<u64, Vec<CasePhoto>> = HashMap::new();
        for photo in crate::store::case_rows::read_photos(&mut conn, sqlite, &[case_id])
            .await?
            .remove(&case_id)
            .unwrap_or_default()
        {
            photos.entry(photo.seq).or_default().push(photo);
        }
        // The moves up to the case as `get_for` read it, so that the timeline and the case
        // agree even while a move commits.
        let rows = sqlx::query(
            "SELECT seq, action, from_state, to_state, actor, role, at, note, department_code,
                    supervision, deadline_at
             FROM transitions WHERE case_id = $1 AND seq <= $2 ORDER BY seq",
        )
        .bind(case_id)
        .bind(view.seq as i64)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|row| {
                let seq = row.try_get::<i64, _>("seq")? as u64;
                let action: String = row.try_get("action")?;
                Ok(CaseMove {
                    seq,
                    action: Action::from_code(&action).ok_or_else(|| {
                        sqlx::Error::Decode(format!("unknown action `{action}` in the log").into())
                    })?,
                    from_state: row
                        .try_get::<Option<String>, _>("from_state")?
                        .map(|s| decode_state(&s))
                        .transpose()?,
                    to_state: decode_state(&row.try_get::<String, _>("to_state")?)?,
                    actor: row.try_get("actor")?,
                    role: row.try_get("role")?,
                    at_ms: row.try_get("at")?,
                    note: row.try_get("note")?,
                    department: row.try_get("department_code")?,
                    supervision: decode_supervision(&row.try_get::<String, _>("supervision")?)?,
                    deadline_ms: row.try_get("deadline_at")?,
                    photos: photos.remove(&seq).unwrap_or_default(),
                })
            })
            .collect::<Result<_, AppError>>()
    }

    /// Whether `who` may see at least one of the cases `case_ids`, by the rule of
    /// [`Cases::get_for`]: a photo is shown to whoever may see a case that shows it. The cases
    /// are read a few hundred at a time, so that a photo attached to very many cases stays
    /// within the databases' limits on bound values, and the first visible one ends the look.
    pub async fn may_see_any(&self, case_ids: &[i64], who: &Principal) -> Result<bool, AppError> {
        const CHUNK: usize = 500;
        if case_ids.is_empty() {
            return Ok(false);
        }
        let mut conn = self.inner.db.acquire().await?;
        let sqlite = conn.backend_name() == "SQLite";
        for ids in case_ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT grid_id, department_code FROM cases WHERE id IN ({})",
                crate::store::case_rows::placeholders(sqlite, ids.len(), 1)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in ids {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&mut *conn).await? {
                let grid: Option<String> = row.try_get("grid_id")?;
                let department: Option<String> = row.try_get("department_code")?;
                if who.may_see(grid.as_deref(), department.as_deref(), &self.inner.areas) {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// One case as the API shows it, with its photos.
    pub async fn get(&self, case_id: i64) -> Result<CaseView, AppError> {
        let mut conn = self.inner.db.acquire().await?;
        let sql = format!(
            "SELECT {} FROM cases WHERE id = $1",
            crate::store::case_rows::CASE_COLUMNS
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(case_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no case with id {case_id}")))?;
        let mut case = crate::store::case_rows::case_from_row(&row)?;
        let sqlite = conn.backend_name() == "SQLite";
        let mut photos =
            crate::store::case_rows::read_photos(&mut conn, sqlite, &[case_id]).await?;
        case.photos = photos.remove(&case_id).unwrap_or_default();
        // A move committed between the two reads may have added photos; the view shows the
        // case as of its row, so it leaves out photos of later transitions.
        case.photos.retain(|p| p.seq <= case.last_seq);
        Ok(case.view())
    }

    /// Up to `limit` cases that are still open, newest first, with their states.
    pub async fn open_cases(&self, limit: u32) -> Result<Vec<(i64, CaseState)>, AppError> {
        let rows = sqlx::query(
            "SELECT id, state FROM cases WHERE state NOT IN ('closed', 'rejected') ORDER BY id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.inner.db)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("id")?,
                    decode_state(&row.try_get::<String, _>("state")?)?,
                ))
            })
            .collect()
    }
}

impl Cases {
    /// Active full-time grid workers and their grids.
    pub async fn grid_workers(&self) -> Result<Vec<(i64, String)>, AppError> {
        let rows = sqlx::query(
            "SELECT id, grid_id FROM members WHERE kind = 'grid_worker' AND active = 1 AND grid_id IS NOT NULL ORDER BY id",
        )
        .fetch_all(&self.inner.db)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("id")?, row.try_get("grid_id")?)))
            .collect()
    }

    /// Records a house visit (入户走访) by a member of the grid team, now.
    pub async fn record_house_visit(
        &self,
        grid_id: &str,
        member_id: i64,
        household: &str,
    ) -> Result<(), AppError> {
        let (reply, answer) = oneshot::channel();
        let write = Write {
            command: WriteCommand::Visit {
                grid_id: grid_id.to_owned(),
                member_id,
                household: household.to_owned(),
            },
            reply: Reply::Visit(reply),
        };
        self.send(write, answer).await
    }

    /// Cases whose time-limit step (a warning, supervision or escalation) is due by `now`,
    /// oldest first, with the step.
    pub async fn due_checks(&self, now: i64, limit: u32) -> Result<Vec<(i64, Action)>, AppError> {
        let rows = sqlx::query(
            "SELECT id, state, supervision, department_code, dispatched_at, deadline_at FROM cases
             WHERE next_check_at IS NOT NULL AND next_check_at <= $1
             ORDER BY next_check_at LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.inner.db)
        .await?;
        let mut due = Vec::with_capacity(rows.len());
        for row in rows {
            let facts = Facts {
                state: decode_state(&row.try_get::<String, _>("state")?)?,
                department: row.try_get("department_code")?,
                supervision: decode_supervision(&row.try_get::<String, _>("supervision")?)?,
                deadline_ms: row.try_get("deadline_at")?,
            };
            if let Some((at, action)) = facts.next_check(row.try_get("dispatched_at")?)
                && at <= now
            {
                due.push((row.try_get("id")?, action));
            }
        }
        Ok(due)
    }
}

fn validate_report(req: ReportCase, grids: &GridIndex) -> Result<NewCase, AppError> {
    let category = Category::from_code(req.category.trim()).ok_or_else(|| {
        let known: Vec<&str> = Category::ALL.iter().map(|c| c.code()).collect();
        AppError::invalid(
            "category",
            format!(
                "unknown category `{}`; expected one of: {}",
                req.category,
                known.join(", ")
            ),
        )
    })?;
    let sub_item = match req.sub_item.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(code) => match taxonomy::sub_item(code) {
            Some(item) if item.category == category => Some(item.code.to_owned()),
            Some(item) => {
                return Err(AppError::invalid(
                    "sub_item",
                    format!(
                        "sub-item `{code}` ({}) belongs to category `{}`, not `{}`",
                        item.name_zh,
                        item.category.code(),
                        category.code()
                    ),
                ));
            }
            None => {
                return Err(AppError::invalid(
                    "sub_item",
                    format!("unknown sub-item `{code}`; `GET /api/taxonomy` lists them"),
                ));
            }
        },
    };
    if grids.is_empty() && (req.grid_id.is_some() || req.point.is_some()) {
        return Err(AppError::invalid(
            if req.grid_id.is_some() {
                "grid_id"
            } else {
                "point"
            },
            "the city has no grids yet; load them with `gridwall import grids FILE.geojson`",
        ));
    }
    let grid_id = match req.grid_id.map(|g| g.trim().to_owned()) {
        None => None,
        Some(g) if g.is_empty() => {
            return Err(AppError::invalid(
                "grid_id",
                "is empty; leave it out or give a grid id",
            ));
        }
        Some(g) if g.chars().count() > MAX_GRID_ID_CHARS || !grids.contains_grid(&g) => {
            return Err(AppError::invalid(
                "grid_id",
                format!(
                    "there is no grid `{}` in the city",
                    g.chars().take(MAX_GRID_ID_CHARS).collect::<String>()
                ),
            ));
        }
        Some(g) => Some(g),
    };
    let located = match req.point {
        None => None,
        Some(p) => {
            if !p.lon.is_finite() || !(-180.0..=180.0).contains(&p.lon) {
                return Err(AppError::invalid(
                    "point.lon",
                    "must be a longitude from -180 to 180",
                ));
            }
            if !p.lat.is_finite() || !(-90.0..=90.0).contains(&p.lat) {
                return Err(AppError::invalid(
                    "point.lat",
                    "must be a latitude from -90 to 90",
                ));
            }
            match grids.locate([p.lon, p.lat]) {
                Some(g) => Some(g.to_owned()),
                None => {
                    return Err(AppError::invalid(
                        "point",
                        format!(
                            "({}, {}) lies in none of the city's {} grids",
                            p.lon,
                            p.lat,
                            grids.len()
                        ),
                    ));
                }
            }
        }
    };
    // The grid the worker chose wins; the point only places the case when no grid is given.
    let Some(grid_id) = grid_id.or(located) else {
        return Err(AppError::invalid(
            "grid_id",
            "say where the case is: give `grid_id`, `point`, or both",
        ));
    };
    let description = req.description.trim().to_owned();
    if description.is_empty() {
        return Err(AppError::invalid(
            "description",
            "is empty; say what was seen",
        ));
    }
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(AppError::invalid(
            "description",
            format!("is longer than {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(NewCase {
        category,
        sub_item,
        grid_id: Some(grid_id),
        point: req.point,
        description,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridwall_core::geo::Shape;

    fn city() -> GridIndex {
        let square =
            |x: f64, y: f64| vec![[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01]];
        GridIndex::new(vec![
            (
                "SR-01-001".to_owned(),
                Shape::polygon(&square(125.02, 46.58)),
            ),
            (
                "SR-01-002".to_owned(),
                Shape::polygon(&square(125.03, 46.58)),
            ),
        ])
    }

    fn report() -> ReportCase {
        ReportCase {
            category: "municipal_facilities".to_owned(),
            sub_item: Some("0801".to_owned()),
            grid_id: Some("SR-01-001".to_owned()),
            point: Some(Point {
                lon: 125.025,
                lat: 46.585,
            }),
            description: "路灯杆倾斜".to_owned(),
        }
    }

    fn field_of(err: AppError) -> String {
        match err {
            AppError::InvalidField { field, .. } => field,
            other => panic!("expected an invalid field, got {other:?}"),
        }
    }

    #[test]
    fn a_good_report_passes() {
        let new = validate_report(report(), &city()).expect("valid");
        assert_eq!(new.category, Category::MunicipalFacilities);
        assert_eq!(new.sub_item.as_deref(), Some("0801"));
        assert_eq!(new.grid_id.as_deref(), Some("SR-01-001"));
    }

    #[test]
    fn a_point_alone_finds_its_grid() {
        let req = ReportCase {
            grid_id: None,
            point: Some(Point {
                lon: 125.035,
                lat: 46.585,
            }),
            ..report()
        };
        let new = validate_report(req, &city()).expect("valid");
        assert_eq!(new.grid_id.as_deref(), Some("SR-01-002"));
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases: Vec<(ReportCase, &str)> = vec![
            (
                ReportCase {
                    category: "weather".into(),
                    ..report()
                },
                "category",
            ),
            (
                ReportCase {
                    sub_item: Some("9999".into()),
                    ..report()
                },
                "sub_item",
            ),
            (
                ReportCase {
                    sub_item: Some("0201".into()),
                    ..report()
                },
                "sub_item",
            ),
            (
                ReportCase {
                    grid_id: Some(" ".into()),
                    ..report()
                },
                "grid_id",
            ),
            (
                ReportCase {
                    grid_id: Some("XX-99".into()),
                    ..report()
                },
                "grid_id",
            ),
            (
                ReportCase {
                    grid_id: None,
                    point: None,
                    ..report()
                },
                "grid_id",
            ),
            (
                ReportCase {
                    point: Some(Point {
                        lon: 200.0,
                        lat: 46.0,
                    }),
                    ..report()
                },
                "point.lon",
            ),
            (
                ReportCase {
                    point: Some(Point {
                        lon: 125.0,
                        lat: f64::NAN,
                    }),
                    ..report()
                },
                "point.lat",
            ),
            (
                ReportCase {
                    point: Some(Point {
                        lon: 116.4,
                        lat: 39.9,
                    }),
                    ..report()
                },
                "point",
            ),
            (
                ReportCase {
                    description: "  ".into(),
                    ..report()
                },
                "description",
            ),
            (
                ReportCase {
                    description: "长".repeat(2_001),
                    ..report()
                },
                "description",
            ),
        ];
        for (req, field) in cases {
            let err = validate_report(req.clone(), &city()).expect_err("invalid");
            assert_eq!(field_of(err), field, "for {req:?}");
        }
    }

    #[test]
    fn a_city_without_grids_says_how_to_load_them() {
        let err = validate_report(report(), &GridIndex::default()).expect_err("no grids");
        assert!(err.to_string().contains("gridwall import grids"), "{err}");
    }
}
