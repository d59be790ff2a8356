//! Case commands: the one path by which anything (the API, the simulator, later Open311 and
//! the time-limit watcher) reports or moves a case.
//!
//! Each command validates its input, asks the state machine in `shared::case` whether the
//! move is allowed, and writes the transition row and the current-state row in one
//! transaction. Commits are serialised by a lock, and each committed transition is handed to
//! the live feed while the lock is still held, so the feed sees transitions in commit order:
//! the order of their sequence numbers.

use crate::error::AppError;
use crate::geo::GridIndex;
use crate::metrics::Metrics;
use crate::store::Db;
use shared::case::{Action, CaseState, CaseView, Category, Point, ReportCase};
use shared::taxonomy;
use sqlx::Row;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::{Mutex, mpsc};

const MAX_DESCRIPTION_CHARS: usize = 2_000;
const MAX_NOTE_CHARS: usize = 1_000;
const MAX_GRID_ID_CHARS: usize = 32;

/// One committed transition, as the live feed receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Committed {
    pub seq: u64,
    pub case_id: i64,
    /// `None` for a report, which creates the case.
    pub from: Option<CaseState>,
    pub to: CaseState,
    pub at_ms: i64,
    pub category: Category,
    pub grid_id: Option<String>,
    /// When the transaction committed, for the commit-to-send latency.
    pub committed_at: std::time::Instant,
}

/// A report that passed validation.
#[derive(Debug, Clone, PartialEq)]
struct NewCase {
    category: Category,
    sub_item: Option<String>,
    grid_id: Option<String>,
    point: Option<Point>,
    description: String,
}

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
    metrics: Arc<Metrics>,
    /// Held across each write transaction and its hand-off to the feed.
    write: Mutex<mpsc::Sender<Committed>>,
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Cases {
    pub fn new(
        db: Db,
        grids: Arc<GridIndex>,
        feed: mpsc::Sender<Committed>,
        metrics: Arc<Metrics>,
    ) -> Cases {
        Cases {
            inner: Arc::new(Inner {
                db,
                grids,
                metrics,
                write: Mutex::new(feed),
            }),
        }
    }

    /// Reports a new case: validates it, stores the case and its `report` transition.
    pub async fn report(&self, req: ReportCase, actor: &str) -> Result<CaseView, AppError> {
        let new = validate_report(req, &self.inner.grids)?;
        let feed = self.inner.write.lock().await;
        let at = now_ms();
        let state = CaseState::INITIAL;
        let mut tx = self.inner.db.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO cases (category, sub_item_code, grid_id, lon, lat, description, state, reported_at, updated_at, last_seq)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0) RETURNING id",
        )
        .bind(new.category.code())
        .bind(&new.sub_item)
        .bind(&new.grid_id)
        .bind(new.point.map(|p| p.lon))
        .bind(new.point.map(|p| p.lat))
        .bind(&new.description)
        .bind(state.code())
        .bind(at)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let seq =
            insert_transition(&mut tx, id, Action::Report, None, state, actor, at, None).await?;
        sqlx::query("UPDATE cases SET last_seq = $1 WHERE id = $2")
            .bind(seq as i64)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let committed = Committed {
            seq,
            case_id: id,
            from: None,
            to: state,
            at_ms: at,
            category: new.category,
            grid_id: new.grid_id.clone(),
            committed_at: std::time::Instant::now(),
        };
        self.inner
            .metrics
            .transitions_committed
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        hand_to_feed(&feed, committed).await;
        drop(feed);
        tracing::debug!(
            case = id,
            seq,
            category = new.category.code(),
            actor,
            "case reported"
        );
        Ok(CaseView {
            id,
            category: new.category,
            sub_item: new.sub_item,
            grid_id: new.grid_id,
            point: new.point,
            description: new.description,
            state,
            allowed: state.allowed(),
            reported_at_ms: at,
            updated_at_ms: at,
            seq,
        })
    }

    /// Moves a case by one action of the state machine.
    pub async fn apply(
        &self,
        case_id: i64,
        action: Action,
        actor: &str,
        note: Option<String>,
    ) -> Result<CaseView, AppError> {
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
        let feed = self.inner.write.lock().await;
        let mut tx = self.inner.db.begin().await?;
        let current = sqlx::query("SELECT state, category, grid_id FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(current) = current else {
            return Err(AppError::NotFound(format!("no case with id {case_id}")));
        };
        let from = parse_state(&current.try_get::<String, _>("state")?)?;
        let category = parse_category(&current.try_get::<String, _>("category")?)?;
        let grid_id: Option<String> = current.try_get("grid_id")?;
        let to = from.next(action)?;
        let at = now_ms();
        let seq = insert_transition(
            &mut tx,
            case_id,
            action,
            Some(from),
            to,
            actor,
            at,
            note.as_deref(),
        )
        .await?;
        sqlx::query("UPDATE cases SET state = $1, updated_at = $2, last_seq = $3 WHERE id = $4")
            .bind(to.code())
            .bind(at)
            .bind(seq as i64)
            .bind(case_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let committed = Committed {
            seq,
            case_id,
            from: Some(from),
            to,
            at_ms: at,
            category,
            grid_id,
            committed_at: std::time::Instant::now(),
        };
        self.inner
            .metrics
            .transitions_committed
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        hand_to_feed(&feed, committed).await;
        drop(feed);
        tracing::debug!(case = case_id, seq, %action, from = from.code(), to = to.code(), actor, "case moved");
        self.get(case_id).await
    }

    /// One case as the API shows it.
    pub async fn get(&self, case_id: i64) -> Result<CaseView, AppError> {
        let row = sqlx::query(
            "SELECT id, category, sub_item_code, grid_id, lon, lat, description, state, reported_at, updated_at, last_seq
             FROM cases WHERE id = $1",
        )
        .bind(case_id)
        .fetch_optional(&self.inner.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no case with id {case_id}")))?;
        let category = parse_category(&row.try_get::<String, _>("category")?)?;
        let state = parse_state(&row.try_get::<String, _>("state")?)?;
        let lon: Option<f64> = row.try_get("lon")?;
        let lat: Option<f64> = row.try_get("lat")?;
        Ok(CaseView {
            id: row.try_get("id")?,
            category,
            sub_item: row.try_get("sub_item_code")?,
            grid_id: row.try_get("grid_id")?,
            point: lon.zip(lat).map(|(lon, lat)| Point { lon, lat }),
            description: row.try_get("description")?,
            state,
            allowed: state.allowed(),
            reported_at_ms: row.try_get("reported_at")?,
            updated_at_ms: row.try_get("updated_at")?,
            seq: row.try_get::<i64, _>("last_seq")? as u64,
        })
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
                    parse_state(&row.try_get::<String, _>("state")?)?,
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

    /// Records a house visit (入户排查) by a grid worker, now.
    pub async fn record_house_visit(
        &self,
        grid_id: &str,
        member_id: i64,
        household: &str,
    ) -> Result<(), AppError> {
        sqlx::query(
            "INSERT INTO house_visits (grid_id, member_id, at, household) VALUES ($1, $2, $3, $4)",
        )
        .bind(grid_id)
        .bind(member_id)
        .bind(now_ms())
        .bind(household)
        .execute(&self.inner.db)
        .await?;
        Ok(())
    }
}

#[allow(clippy::too_many_arguments)]
async fn insert_transition(
    tx: &mut sqlx::AnyConnection,
    case_id: i64,
    action: Action,
    from: Option<CaseState>,
    to: CaseState,
    actor: &str,
    at: i64,
    note: Option<&str>,
) -> Result<u64, AppError> {
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO transitions (case_id, action, from_state, to_state, actor, at, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
    )
    .bind(case_id)
    .bind(action.code())
    .bind(from.map(CaseState::code))
    .bind(to.code())
    .bind(actor)
    .bind(at)
    .bind(note)
    .fetch_one(&mut *tx)
    .await?;
    Ok(seq as u64)
}

async fn hand_to_feed(feed: &mpsc::Sender<Committed>, committed: Committed) {
    let seq = committed.seq;
    if feed.send(committed).await.is_err() {
        // Only during shutdown: the transition is committed and the next start rebuilds the
        // wall from the tables, so nothing is lost.
        tracing::warn!(
            seq,
            "live feed has stopped; transition stored but not streamed"
        );
    }
}

pub(crate) fn parse_category(code: &str) -> Result<Category, AppError> {
    Category::from_code(code).ok_or_else(|| {
        AppError::Database(sqlx::Error::Decode(
            format!("unknown category `{code}` in the cases table").into(),
        ))
    })
}

pub(crate) fn parse_state(code: &str) -> Result<CaseState, AppError> {
    CaseState::from_code(code).ok_or_else(|| {
        AppError::Database(sqlx::Error::Decode(
            format!("unknown case state `{code}` in the database").into(),
        ))
    })
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
    use crate::geo::Shape;

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
