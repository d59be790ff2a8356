//! Nine months of case history for the demo city, written as the same `cases` rows and
//! `transitions` log that live cases produce, so that every aggregate over history is real.
//!
//! Each case is walked through the state machine (`CaseState::next`), so history can only
//! contain moves that the live system would allow. The events of all cases are then sorted by
//! time, so that sequence numbers follow the clock as they do live.

use super::population::Team;
use crate::store::bulk::{Bulk, Val};
use crate::store::city::Areas;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shared::case::{Action, CaseState, Category, Supervision, TimeLimit};
use shared::taxonomy::{SUB_ITEMS, SubItem};
use shared::time::{local_day, local_day_start_ms};
use sqlx::AnyConnection;

/// Days of history before today.
pub const DAYS: i64 = 273;
/// Cases reported over those days (the seed's "75,000 small and micro events").
pub const CASES: usize = 75_000;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

/// How often each category is reported, relative to the others, in `Category::ALL` order:
/// the street's everyday problems (sanitation, order, facilities) dominate.
const CATEGORY_WEIGHTS: [u32; 15] = [9, 16, 7, 6, 5, 5, 3, 13, 14, 3, 6, 4, 3, 2, 4];

/// Reports by hour of the day: patrols start at eight, pause at noon, end at six.
const HOUR_WEIGHTS: [u32; 24] = [
    1, 1, 1, 1, 1, 2, 4, 8, 16, 20, 20, 16, 8, 12, 18, 20, 17, 12, 7, 5, 4, 3, 2, 1,
];

/// What the history generator wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub cases: u64,
    pub transitions: u64,
    pub closed: u64,
}

struct Event {
    at: i64,
    case: u32,
    action: Action,
    actor: String,
}

fn pick_weighted(rng: &mut StdRng, cumulative: &[u64]) -> usize {
    let total = cumulative.last().copied().unwrap_or(1).max(1);
    let x = rng.random_range(0..total);
    cumulative.partition_point(|&c| c <= x)
}

fn cumulate(weights: impl IntoIterator<Item = u64>) -> Vec<u64> {
    let mut acc = 0;
    weights
        .into_iter()
        .map(|w| {
            acc += w;
            acc
        })
        .collect()
}

/// Minutes, drawn from a skewed distribution with the given median.
fn delay(rng: &mut StdRng, median_minutes: f64) -> i64 {
    let u: f64 = rng.random_range(0.05..0.999);
    // The exponential distribution's median is ln 2 times its mean.
    let minutes = -u.ln() / std::f64::consts::LN_2 * median_minutes;
    (minutes * MINUTE as f64) as i64 + MINUTE
}

/// Where a case stands against its time limit while history is walked.
#[derive(Debug, Clone, Copy)]
struct Standing {
    department: Option<&'static str>,
    supervision: Supervision,
    limit: Option<TimeLimit>,
}

impl Default for Standing {
    fn default() -> Standing {
        Standing {
            department: None,
            supervision: Supervision::None,
            limit: None,
        }
    }
}

/// The actor of the time-limit watcher's steps.
const WATCHER: &str = crate::services::deadlines::ACTOR;

/// One case's planned events (in time order) with the watcher's steps added where the case's
/// time limit passes them, and cut at `now_ms`. A case the watcher escalates is dispatched
/// again by `district` an hour and a half later, with a new time limit, and its department
/// takes it on again; the rest of its planned path follows from there.
fn with_watcher_steps(planned: Vec<Event>, hours: u32, district: &str, now_ms: i64) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::with_capacity(planned.len() + 3);
    let mut state: Option<CaseState> = None;
    let mut supervision = Supervision::None;
    let mut limit: Option<TimeLimit> = None;
    let mut planned: std::collections::VecDeque<Event> = planned.into();
    loop {
        let until = planned.front().map_or(now_ms, |e| e.at).min(now_ms);
        while let (Some(s), Some(l)) = (state, limit) {
            let Some((at, action)) = l.next_check(s, supervision) else {
                break;
            };
            let Some((case, last_at)) = out.last().map(|e| (e.case, e.at)) else {
                break;
            };
            // A step already due when the clock starts again (a case returned to its
            // department after its warning time) is taken at once.
            let at = at.max(last_at);
            if at >= until {
                break;
            }
            let mut step = |at: i64, action: Action, actor: &str| {
                out.push(Event {
                    at,
                    case,
                    action,
                    actor: actor.to_owned(),
                })
            };
            step(at, action, WATCHER);
            state = s.next(action).ok();
            supervision = supervision.after(action).unwrap_or(supervision);
            if action == Action::Escalate {
                let again = at + 90 * MINUTE;
                let accepted = again + 30 * MINUTE;
                if accepted >= now_ms {
                    return out;
                }
                let department = planned
                    .iter()
                    .find(|e| e.actor.starts_with("department:"))
                    .map_or_else(|| "department".to_owned(), |e| e.actor.clone());
                step(again, Action::Dispatch, district);
                step(accepted, Action::Accept, &department);
                state = Some(CaseState::Accepted);
                supervision = Supervision::None;
                limit = Some(TimeLimit::new(again, hours));
                // The department's own pace resumes from here.
                if planned.front().is_some_and(|e| e.action == Action::Accept) {
                    planned.pop_front();
                }
                let shift = planned
                    .front()
                    .map_or(0, |e| (accepted + MINUTE - e.at).max(0));
                for e in planned.iter_mut() {
                    e.at += shift;
                }
                break;
            }
        }
        let Some(e) = planned.pop_front() else {
            return out;
        };
        if e.at >= now_ms {
            return out;
        }
        state = match state {
            None => Some(CaseState::INITIAL),
            Some(s) => s.next(e.action).ok(),
        };
        supervision = supervision.after(e.action).unwrap_or(supervision);
        if e.action == Action::Dispatch {
            limit = Some(TimeLimit::new(e.at, hours));
        }
        out.push(e);
    }
}

/// Writes `total` cases of history; `progress` is told how many transitions are written as
/// it goes.
#[allow(clippy::too_many_arguments)]
pub async fn insert_history(
    conn: &mut AnyConnection,
    areas: &Areas,
    team: &Team,
    total: usize,
    seed: u64,
    now_ms: i64,
    utc_offset_minutes: i32,
    mut progress: impl FnMut(u64),
) -> Result<Written, sqlx::Error> {
    if areas.grids.is_empty() {
        return Ok(Written::default());
    }
    let mut rng = StdRng::seed_from_u64(seed ^ 0x4849_5354);
    let today = local_day(now_ms, utc_offset_minutes);
    let first_day = today - DAYS;

    // How many cases each day: a weekly rhythm, slow growth as the platform took hold, noise.
    let mut per_day: Vec<f64> = (first_day..=today)
        .map(|day| {
            let weekday = (day + 3).rem_euclid(7);
            let week = if weekday < 5 {
                1.1
            } else if weekday == 5 {
                0.8
            } else {
                0.7
            };
            let growth = 0.85 + 0.3 * (day - first_day) as f64 / DAYS as f64;
            week * growth * rng.random_range(0.88..1.12)
        })
        .collect();
    // Today has only had the hours up to now.
    let hour_now =
        ((now_ms - local_day_start_ms(today, utc_offset_minutes)) / HOUR).clamp(0, 23) as usize;
    let today_share = HOUR_WEIGHTS[..hour_now].iter().sum::<u32>() as f64
        / HOUR_WEIGHTS.iter().sum::<u32>() as f64;
    if let Some(last) = per_day.last_mut() {
        *last *= today_share;
    }
    let scale = total as f64 / per_day.iter().sum::<f64>();
    let mut counts: Vec<usize> = per_day
        .iter()
        .map(|w| (w * scale).floor() as usize)
        .collect();
    let short = total - counts.iter().sum::<usize>();
    for i in 0..short {
        let n = counts.len();
        counts[(i * 37) % (n - 1)] += 1;
    }

    let category_cum = cumulate(CATEGORY_WEIGHTS.iter().map(|&w| u64::from(w)));
    let items: Vec<Vec<&SubItem>> = Category::ALL
        .iter()
        .map(|c| SUB_ITEMS.iter().filter(|s| s.category == *c).collect())
        .collect();
    let grid_cum = cumulate(
        areas
            .grids
            .iter()
            .map(|g| g.housing.residents.max(1) as u64),
    );
    let hour_cum = cumulate(HOUR_WEIGHTS.iter().map(|&w| u64::from(w)));
    let district_of_street: std::collections::BTreeMap<&str, &str> = areas
        .streets
        .iter()
        .map(|s| (s.code.as_str(), s.district_code.as_str()))
        .collect();

    struct Case {
        category: Category,
        item: &'static SubItem,
        grid: usize,
        point: [f64; 2],
        reported_at: i64,
        reporter: i64,
    }
    let mut cases: Vec<Case> = Vec::with_capacity(total);
    let mut events: Vec<Event> = Vec::with_capacity(total * 6);
    for (offset, &n) in counts.iter().enumerate() {
        let day_start = local_day_start_ms(first_day + offset as i64, utc_offset_minutes);
        for _ in 0..n {
            let hour = pick_weighted(&mut rng, &hour_cum) as i64;
            let reported_at = day_start + hour * HOUR + rng.random_range(0..HOUR);
            if reported_at >= now_ms {
                continue;
            }
            let ci = pick_weighted(&mut rng, &category_cum);
            let category = Category::ALL[ci];
            let item = items[ci][rng.random_range(0..items[ci].len())];
            let grid = pick_weighted(&mut rng, &grid_cum);
            let g = &areas.grids[grid];
            let p = g.shape.label_point();
            let b = g.shape.bbox();
            // A little way from the label point, so reports of one grid do not stack exactly.
            let point = [
                p[0] + (b[2] - b[0]) * rng.random_range(-0.08..0.08),
                p[1] + (b[3] - b[1]) * rng.random_range(-0.08..0.08),
            ];
            cases.push(Case {
                category,
                item,
                grid,
                point: if g.shape.contains(point) { point } else { p },
                reported_at,
                reporter: team.worker_of_grid.get(grid).copied().unwrap_or(0),
            });
        }
    }
    cases.sort_by_key(|c| c.reported_at);

    for (idx, c) in cases.iter().enumerate() {
        let idx = idx as u32;
        let g = &areas.grids[c.grid];
        let street = g.street_code.as_str();
        let district = district_of_street.get(street).copied().unwrap_or("");
        let worker = format!("grid_worker:{}", c.reporter);
        let centre = format!("centre:{street}");
        let department = format!("department:{}", c.item.department);
        let limit = i64::from(c.item.time_limit_hours) * HOUR;
        let mut at = c.reported_at;
        let mut push = |at: i64, action: Action, actor: &str| {
            events.push(Event {
                at,
                case: idx,
                action,
                actor: actor.to_owned(),
            })
        };
        push(at, Action::Report, &worker);
        let fate: f64 = rng.random();
        if fate < 0.02 {
            // Not a matter for the platform, or a duplicate.
            push(at + delay(&mut rng, 40.0), Action::Reject, &centre);
            continue;
        }
        // About one case in twenty stays open: the backlog the seats chase. Most of it sits
        // with departments; some waits for dispatch, for a department to take it, or with
        // the district.
        // A case stuck with a department for weeks would have been escalated by the time-limit
        // watcher long ago, so old stuck cases wait where no time limit runs: for dispatch,
        // with the district, or for the grid worker's check (stage 10).
        let old = now_ms - c.reported_at > 14 * 24 * HOUR;
        let stuck_at = (fate > 0.955).then(|| {
            if old {
                [0, 1, 1, 1, 10, 10, 10][rng.random_range(0..7)]
            } else {
                rng.random_range(0..10)
            }
        });
        if stuck_at == Some(0) {
            continue;
        }
        if fate < 0.05 || stuck_at == Some(1) {
            // The street blows the whistle: the district takes it and dispatches it.
            at += delay(&mut rng, 180.0);
            push(at, Action::Escalate, &centre);
            if stuck_at == Some(1) {
                continue;
            }
            at += delay(&mut rng, 120.0);
            push(at, Action::Dispatch, &format!("district:{district}"));
        } else {
            at += delay(&mut rng, 30.0);
            push(at, Action::Dispatch, &centre);
        }
        if stuck_at == Some(2) {
            continue;
        }
        at += delay(&mut rng, 60.0);
        push(at, Action::Accept, &department);
        if stuck_at.is_some_and(|s| s < 10) {
            continue;
        }
        let overdue = rng.random_bool(0.08);
        let share = if overdue {
            rng.random_range(1.0..1.5)
        } else {
            rng.random_range(0.1..0.9)
        };
        at += (limit as f64 * share) as i64;
        push(at, Action::Resolve, &department);
        if rng.random_bool(0.06) {
            // The on-site check fails; the department takes it back and fixes it again.
            at += delay(&mut rng, 240.0);
            push(at, Action::Return, &worker);
            at += delay(&mut rng, 120.0);
            push(at, Action::Accept, &department);
            at += (limit as f64 * rng.random_range(0.1..0.6)) as i64;
            push(at, Action::Resolve, &department);
        }
        if stuck_at == Some(10) {
            continue;
        }
        at += delay(&mut rng, 300.0);
        push(at, Action::Verify, &worker);
        at += delay(&mut rng, 20.0);
        push(at, Action::Close, &centre);
    }
    // The time-limit watcher's steps, as the live watcher would have taken them; nothing after
    // now has happened yet.
    let mut watched: Vec<Event> = Vec::with_capacity(events.len() + events.len() / 10);
    let mut rest = events.into_iter().peekable();
    while let Some(first) = rest.next() {
        let case = first.case;
        let mut planned = vec![first];
        while let Some(e) = rest.next_if(|e| e.case == case) {
            planned.push(e);
        }
        let c = &cases[case as usize];
        let street = areas.grids[c.grid].street_code.as_str();
        let district = format!(
            "district:{}",
            district_of_street.get(street).copied().unwrap_or("")
        );
        watched.extend(with_watcher_steps(
            planned,
            c.item.time_limit_hours,
            &district,
            now_ms,
        ));
    }
    let mut events = watched;
    events.sort_by_key(|e| (e.at, e.case));

    // Walk every case through the state machine in time order, keeping what each move leaves
    // behind: the department, the supervision and the time limit.
    let mut standing: Vec<Standing> = vec![Standing::default(); cases.len()];
    let mut afters: Vec<(Option<&'static str>, Supervision, Option<i64>)> =
        Vec::with_capacity(events.len());
    let mut states: Vec<Option<CaseState>> = vec![None; cases.len()];
    let mut last: Vec<(i64, i64)> = vec![(0, 0); cases.len()];
    let mut moves: Vec<(Option<CaseState>, CaseState)> = Vec::with_capacity(events.len());
    let mut written = Written::default();
    for (i, e) in events.iter().enumerate() {
        let ci = e.case as usize;
        let from = states[ci];
        let to = match (from, e.action) {
            (None, Action::Report) => CaseState::INITIAL,
            (Some(s), action) => s.next(action).map_err(|err| {
                sqlx::Error::Protocol(format!(
                    "the history generator made a move the state machine refuses: {err}"
                ))
            })?,
            (None, action) => {
                return Err(sqlx::Error::Protocol(format!(
                    "history case {ci} starts with {action}, not a report"
                )));
            }
        };
        let st = &mut standing[ci];
        st.supervision = st.supervision.after(e.action).map_err(|err| {
            sqlx::Error::Protocol(format!(
                "the history generator flagged a case wrongly: {err}"
            ))
        })?;
        match e.action {
            Action::Dispatch => {
                st.department = Some(cases[ci].item.department);
                st.limit = Some(TimeLimit::new(e.at, cases[ci].item.time_limit_hours));
            }
            Action::Reopen => st.limit = None,
            _ => {}
        }
        afters.push((
            st.department,
            st.supervision,
            st.limit.map(|l| l.deadline_ms),
        ));
        states[ci] = Some(to);
        last[ci] = (e.at, i as i64 + 1);
        moves.push((from, to));
    }
    written.closed = states
        .iter()
        .filter(|s| **s == Some(CaseState::Closed))
        .count() as u64;

    // The cases first, so that every transition's case exists when the row is written.
    let mut rows = Bulk::new(
        "cases",
        &[
            "id",
            "category",
            "sub_item_code",
            "grid_id",
            "lon",
            "lat",
            "description",
            "state",
            "reported_at",
            "updated_at",
            "last_seq",
            "reporter_id",
            "department_code",
            "dispatched_at",
            "deadline_at",
            "supervision",
            "next_check_at",
        ],
    );
    for (i, c) in cases.iter().enumerate() {
        let Some(state) = states[i] else { continue };
        let g = &areas.grids[c.grid];
        rows.push(
            conn,
            vec![
                (i as i64 + 1).into(),
                c.category.code().into(),
                Some(c.item.code.to_owned()).into(),
                Some(g.id.clone()).into(),
                Some(c.point[0]).into(),
                Some(c.point[1]).into(),
                format!("{}（{}）", c.item.name_zh, g.name).into(),
                state.code().into(),
                c.reported_at.into(),
                last[i].0.into(),
                last[i].1.into(),
                Val::OptInt(Some(c.reporter).filter(|&r| r > 0)),
                standing[i].department.map(str::to_owned).into(),
                Val::OptInt(standing[i].limit.map(|l| l.dispatched_ms)),
                Val::OptInt(standing[i].limit.map(|l| l.deadline_ms)),
                standing[i].supervision.code().into(),
                Val::OptInt(
                    standing[i]
                        .limit
                        .and_then(|l| l.next_check(state, standing[i].supervision))
                        .map(|(at, _)| at),
                ),
            ],
        )
        .await?;
    }
    written.cases = rows.finish(conn).await?;

    let mut transitions = Bulk::new(
        "transitions",
        &[
            "seq",
            "case_id",
            "action",
            "from_state",
            "to_state",
            "actor",
            "at",
            "note",
            "department_code",
            "supervision",
            "deadline_at",
        ],
    );
    for (i, ((e, (from, to)), after)) in events.iter().zip(&moves).zip(&afters).enumerate() {
        let note: Option<String> = match e.action {
            Action::Reject => Some("非平台受理事项".to_owned()),
            Action::Return => Some("现场核查未通过".to_owned()),
            _ => None,
        };
        transitions
            .push(
                conn,
                vec![
                    (i as i64 + 1).into(),
                    (i64::from(e.case) + 1).into(),
                    e.action.code().into(),
                    from.map(|s| s.code().to_owned()).into(),
                    to.code().into(),
                    e.actor.clone().into(),
                    e.at.into(),
                    note.into(),
                    after.0.map(str::to_owned).into(),
                    after.1.code().into(),
                    Val::OptInt(after.2),
                ],
            )
            .await?;
        if i % 20_000 == 0 {
            progress(i as u64);
        }
    }
    written.transitions = transitions.finish(conn).await?;
    progress(written.transitions);
    Ok(written)
}
