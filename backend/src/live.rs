//! The live path: the aggregate that folds committed transitions into the wall's state, and
//! the hub task that turns it into frames for every connected wall.
//!
//! The hub is one task that owns the aggregate. It folds transitions as they arrive, sends at
//! most ten delta frames a second (each carrying everything since the last), a heartbeat
//! every second, and a fresh snapshot when the local day turns over. Each frame is serialised
//! once and shared by all walls through a broadcast channel; a wall that falls behind it is
//! given a fresh snapshot by its connection (see `ws`), never a silent gap.

use crate::cases::{Committed, now_ms};
use crate::metrics::Metrics;
use crate::store::Db;
use axum::extract::ws::Utf8Bytes;
use shared::PROTOCOL_VERSION;
use shared::case::{Bucket, CaseState};
use shared::time::{local_day, local_day_start_ms};
use shared::wall::{Counters, Scope, ServerMsg, Tally, WallState};
use sqlx::Row;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

/// At most this many frames a second go to a wall.
pub const FRAME_INTERVAL: Duration = Duration::from_millis(100);
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(1);
/// Frames a wall may fall behind before it is resynchronised with a snapshot.
const BROADCAST_CAPACITY: usize = 256;
/// Committed transitions waiting to be folded; writers wait when it is full.
const FEED_CAPACITY: usize = 16_384;

/// Which district each grid is in, for folding cases into their district.
pub type GridDistricts = Arc<HashMap<String, String>>;

/// Reads the grid-to-district map from the tables.
pub async fn grid_districts(db: &Db) -> Result<GridDistricts, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT g.id, s.district_code FROM grids g JOIN streets s ON s.code = g.street_code",
    )
    .fetch_all(db)
    .await?;
    let mut map = HashMap::with_capacity(rows.len());
    for row in rows {
        map.insert(row.try_get("id")?, row.try_get("district_code")?);
    }
    Ok(Arc::new(map))
}

/// The wall's state as of one sequence number, and the fold that advances it.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    pub seq: u64,
    pub state: WallState,
    pub utc_offset_minutes: i32,
}

impl Aggregate {
    /// An empty aggregate for a database with no transitions.
    pub fn empty(day: i64, utc_offset_minutes: i32) -> Aggregate {
        Aggregate {
            seq: 0,
            state: WallState {
                day,
                ..WallState::default()
            },
            utc_offset_minutes,
        }
    }

    /// Folds one committed transition: constant work, no reads of the tables.
    pub fn fold(&mut self, t: &Committed, districts: &HashMap<String, String>) {
        let day = local_day(t.at_ms, self.utc_offset_minutes);
        if day > self.state.day {
            self.roll_to_day(day);
        }
        let today = day == self.state.day;
        let c = &mut self.state.counters;
        match t.from {
            None => {
                c.reported_total += 1;
                if today {
                    c.reported_today += 1;
                }
            }
            Some(from) => bucket_count(c, from.bucket(), -1),
        }
        bucket_count(c, t.to.bucket(), 1);
        if t.to == CaseState::Closed && today {
            c.closed_today += 1;
        }
        let category = self
            .state
            .by_category
            .entry(t.category.code().to_owned())
            .or_default();
        fold_tally(category, t, today);
        if let Some(district) = t.grid_id.as_ref().and_then(|g| districts.get(g)) {
            fold_tally(
                self.state.by_district.entry(district.clone()).or_default(),
                t,
                today,
            );
        }
        self.seq = self.seq.max(t.seq);
    }

    /// Starts a new local day: the "today" figures go back to zero. Returns whether it moved.
    pub fn roll_to_day(&mut self, day: i64) -> bool {
        if day <= self.state.day {
            return false;
        }
        self.state.day = day;
        self.state.counters.reported_today = 0;
        self.state.counters.closed_today = 0;
        for tally in self
            .state
            .by_category
            .values_mut()
            .chain(self.state.by_district.values_mut())
        {
            tally.reported_today = 0;
        }
        true
    }

    /// The aggregate as a `snapshot` message, stamped with the server's time.
    pub fn snapshot_msg(&self) -> ServerMsg {
        ServerMsg::Snapshot {
            seq: self.seq,
            server_time_ms: now_ms(),
            state: self.state.clone(),
        }
    }
}

fn bucket_count(c: &mut Counters, bucket: Bucket, delta: i64) {
    let slot = match bucket {
        Bucket::Open => &mut c.open,
        Bucket::Closed => &mut c.closed,
        Bucket::Rejected => &mut c.rejected,
    };
    *slot = slot.saturating_add_signed(delta);
}

fn fold_tally(tally: &mut Tally, t: &Committed, today: bool) {
    if t.from.is_none() {
        tally.reported_total += 1;
        if today {
            tally.reported_today += 1;
        }
    }
    let count = |tally: &mut Tally, state: CaseState, delta: i64| match state.bucket() {
        Bucket::Open => tally.open = tally.open.saturating_add_signed(delta),
        Bucket::Closed => tally.closed = tally.closed.saturating_add_signed(delta),
        Bucket::Rejected => {}
    };
    if let Some(from) = t.from {
        count(tally, from, -1);
    }
    count(tally, t.to, 1);
}

/// Adds `n` cases in `state` to a tally, as the rebuild reads them from the tables.
fn add_to_tally(tally: &mut Tally, state: CaseState, n: u64) {
    tally.reported_total += n;
    match state.bucket() {
        Bucket::Open => tally.open += n,
        Bucket::Closed => tally.closed += n,
        Bucket::Rejected => {}
    }
}

/// Rebuilds the aggregate for local day `day` from the tables, in one read transaction so
/// that every figure describes the same moment.
pub async fn rebuild(db: &Db, day: i64, utc_offset_minutes: i32) -> Result<Aggregate, sqlx::Error> {
    let mut tx = db.begin().await?;
    let start = local_day_start_ms(day, utc_offset_minutes);
    let end = local_day_start_ms(day + 1, utc_offset_minutes);
    let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM transitions")
        .fetch_one(&mut *tx)
        .await?;
    let mut agg = Aggregate::empty(day, utc_offset_minutes);
    agg.seq = seq as u64;
    let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM cases GROUP BY state")
        .fetch_all(&mut *tx)
        .await?;
    for row in rows {
        let state = crate::cases::parse_state(&row.try_get::<String, _>("state")?)
            .map_err(|e| sqlx::Error::Decode(e.to_string().into()))?;
        let n: i64 = row.try_get("n")?;
        agg.state.counters.reported_total += n as u64;
        bucket_count(&mut agg.state.counters, state.bucket(), n);
    }
    let reported_today: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM cases WHERE reported_at >= $1 AND reported_at < $2",
    )
    .bind(start)
    .bind(end)
    .fetch_one(&mut *tx)
    .await?;
    let closed_today: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM transitions WHERE to_state = 'closed' AND at >= $1 AND at < $2",
    )
    .bind(start)
    .bind(end)
    .fetch_one(&mut *tx)
    .await?;
    agg.state.counters.reported_today = reported_today as u64;
    agg.state.counters.closed_today = closed_today as u64;

    // The same figures by category and by district.
    let decode = |e: crate::error::AppError| sqlx::Error::Decode(e.to_string().into());
    let rows = sqlx::query(
        "SELECT c.category AS category, s.district_code AS district, c.state AS state,
                COUNT(*) AS n,
                SUM(CASE WHEN c.reported_at >= $1 AND c.reported_at < $2 THEN 1 ELSE 0 END) AS today
         FROM cases c
         LEFT JOIN grids g ON g.id = c.grid_id
         LEFT JOIN streets s ON s.code = g.street_code
         GROUP BY c.category, s.district_code, c.state",
    )
    .bind(start)
    .bind(end)
    .fetch_all(&mut *tx)
    .await?;
    for row in rows {
        let category: String = row.try_get("category")?;
        let district: Option<String> = row.try_get("district")?;
        let state =
            crate::cases::parse_state(&row.try_get::<String, _>("state")?).map_err(decode)?;
        let n = row.try_get::<i64, _>("n")? as u64;
        let today = row.try_get::<i64, _>("today")? as u64;
        let add = |tally: &mut Tally| {
            add_to_tally(tally, state, n);
            tally.reported_today += today;
        };
        add(agg.state.by_category.entry(category).or_default());
        if let Some(district) = district {
            add(agg.state.by_district.entry(district).or_default());
        }
    }
    tx.commit().await?;
    Ok(agg)
}

/// A frame as the hub broadcasts it: serialised once, shared by every wall.
#[derive(Debug, Clone)]
pub struct Frame {
    pub bytes: Utf8Bytes,
    /// The commit of the oldest transition this frame carries, for the latency metric.
    pub oldest_commit: Option<std::time::Instant>,
}

/// A wall's way in: the frames to send first and the stream of frames after them.
#[derive(Debug)]
pub struct Subscription {
    pub hello: Utf8Bytes,
    /// A snapshot, or, for a wall that resumes, the deltas it missed (possibly none).
    pub initial: Vec<Utf8Bytes>,
    /// Whether the wall resumed from its own state rather than getting a snapshot.
    pub resumed: bool,
    pub frames: broadcast::Receiver<Frame>,
}

/// Where a reconnecting wall left off: the last sequence number it applied, on which day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub struct Resume {
    pub since: u64,
    pub day: i64,
}

/// Delta frames kept for walls that reconnect: a minute of frames at the full rate.
const RESUME_FRAMES: usize = 600;

enum Command {
    Subscribe(Option<Resume>, oneshot::Sender<Subscription>),
    Current(oneshot::Sender<Aggregate>),
}

/// A handle on the hub task. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Hub {
    commands: mpsc::Sender<Command>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Subscribe(..) => "Subscribe",
            Command::Current(_) => "Current",
        })
    }
}

/// The hub has stopped (the server is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("the live hub has stopped")]
pub struct HubStopped;

impl Hub {
    /// A snapshot and the frames after it, with nothing missed or doubled in between: the
    /// hub subscribes the wall and takes the snapshot in one step of its loop. A wall that
    /// says where it left off gets only the deltas it missed, when the hub still has them.
    pub async fn subscribe(&self, resume: Option<Resume>) -> Result<Subscription, HubStopped> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Subscribe(resume, tx))
            .await
            .map_err(|_| HubStopped)?;
        rx.await.map_err(|_| HubStopped)
    }

    /// The live aggregate as it is now, with every transition handed to the feed so far
    /// folded in.
    pub async fn current(&self) -> Result<Aggregate, HubStopped> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Current(tx))
            .await
            .map_err(|_| HubStopped)?;
        rx.await.map_err(|_| HubStopped)
    }
}

/// The deltas a wall at `resume` missed, if the hub still has all of them: `Some(vec![])`
/// when it missed nothing, `None` when it needs a snapshot (another day, a sequence number the
/// hub never sent, or frames that have left the buffer).
fn missed_since(
    recent: &std::collections::VecDeque<(u64, u64, Utf8Bytes)>,
    sent_seq: u64,
    day: i64,
    resume: Resume,
) -> Option<Vec<Utf8Bytes>> {
    if resume.day != day || resume.since > sent_seq {
        return None;
    }
    if resume.since == sent_seq {
        return Some(Vec::new());
    }
    let first = recent
        .iter()
        .position(|(prev, seq, _)| *prev <= resume.since && resume.since < *seq)?;
    Some(
        recent
            .iter()
            .skip(first)
            .map(|(_, _, bytes)| bytes.clone())
            .collect(),
    )
}

/// Starts the hub task with a rebuilt aggregate. Returns the handle for walls, the sender for
/// the case commands, and the task, which ends when `shutdown` is cancelled.
pub fn spawn(
    aggregate: Aggregate,
    districts: GridDistricts,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) -> (Hub, mpsc::Sender<Committed>, JoinHandle<()>) {
    let (feed_tx, feed_rx) = mpsc::channel(FEED_CAPACITY);
    let (cmd_tx, cmd_rx) = mpsc::channel(1_024);
    let (frames, _) = broadcast::channel(BROADCAST_CAPACITY);
    let hub = HubTask {
        agg: aggregate,
        districts,
        metrics,
        oldest_unsent: None,
    };
    let task = tokio::spawn(run_hub(hub, feed_rx, cmd_rx, frames, shutdown));
    (Hub { commands: cmd_tx }, feed_tx, task)
}

fn encode(msg: &ServerMsg) -> Utf8Bytes {
    // Serialising these types cannot fail: they hold no maps with non-string keys.
    Utf8Bytes::from(serde_json::to_string(msg).unwrap_or_default())
}

/// What the hub task owns.
struct HubTask {
    agg: Aggregate,
    districts: GridDistricts,
    metrics: Arc<Metrics>,
    /// The commit of the oldest transition folded but not yet sent.
    oldest_unsent: Option<std::time::Instant>,
}

impl HubTask {
    fn fold(&mut self, t: &Committed) {
        self.agg.fold(t, &self.districts);
        self.oldest_unsent.get_or_insert(t.committed_at);
        self.metrics
            .transitions_folded
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

fn frame(bytes: Utf8Bytes) -> Frame {
    Frame {
        bytes,
        oldest_commit: None,
    }
}

async fn run_hub(
    mut hub: HubTask,
    mut feed: mpsc::Receiver<Committed>,
    mut commands: mpsc::Receiver<Command>,
    frames: broadcast::Sender<Frame>,
    shutdown: CancellationToken,
) {
    let hello = encode(&ServerMsg::Hello {
        protocol: PROTOCOL_VERSION,
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        scope: Scope::City,
    });
    let mut frame_tick = tokio::time::interval(FRAME_INTERVAL);
    frame_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut heartbeat = tokio::time::interval(HEARTBEAT_INTERVAL);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // What the walls have been sent: the sequence and counters of the last frame.
    let mut sent_seq = hub.agg.seq;
    let mut sent = hub.agg.state.clone();
    // The snapshot for new walls is serialised once per sequence number, not once per wall.
    let mut snapshot_cache: Option<(u64, i64, Utf8Bytes)> = None;
    // Recent deltas as `(prev_seq, seq, frame)`, for walls that resume.
    let mut recent: std::collections::VecDeque<(u64, u64, Utf8Bytes)> =
        std::collections::VecDeque::with_capacity(RESUME_FRAMES);
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            _ = frame_tick.tick(), if hub.agg.seq != sent_seq => {
                let changes = hub.agg.state.changes_since(&sent);
                let bytes = encode(&ServerMsg::Delta { prev_seq: sent_seq, seq: hub.agg.seq, changes });
                if recent.len() == RESUME_FRAMES {
                    recent.pop_front();
                }
                recent.push_back((sent_seq, hub.agg.seq, bytes.clone()));
                let _ = frames.send(Frame { bytes, oldest_commit: hub.oldest_unsent.take() });
                sent_seq = hub.agg.seq;
                sent = hub.agg.state.clone();
            }
            _ = heartbeat.tick() => {
                let today = local_day(now_ms(), hub.agg.utc_offset_minutes);
                if hub.agg.roll_to_day(today) {
                    // Nothing was reported yet on the new day: walls get the reset as a
                    // snapshot, so the sequence numbers keep meaning transitions.
                    tracing::info!(day = today, "new local day; today's figures reset");
                    let _ = frames.send(frame(encode(&hub.agg.snapshot_msg())));
                    sent = hub.agg.state.clone();
                    // Deltas from before the reset cannot bring a wall into the new day.
                    recent.clear();
                }
                let _ = frames.send(frame(encode(&ServerMsg::Heartbeat { server_time_ms: now_ms(), seq: sent_seq })));
            }
            Some(cmd) = commands.recv() => match cmd {
                Command::Subscribe(resume, reply) => {
                    if let Some(missed) = resume.and_then(|r| missed_since(&recent, sent_seq, hub.agg.state.day, r)) {
                        let _ = reply.send(Subscription { hello: hello.clone(), initial: missed, resumed: true, frames: frames.subscribe() });
                        continue;
                    }
                    let snapshot = match &snapshot_cache {
                        Some((seq, day, bytes)) if *seq == hub.agg.seq && *day == hub.agg.state.day => bytes.clone(),
                        _ => {
                            let bytes = encode(&hub.agg.snapshot_msg());
                            snapshot_cache = Some((hub.agg.seq, hub.agg.state.day, bytes.clone()));
                            bytes
                        }
                    };
                    let _ = reply.send(Subscription { hello: hello.clone(), initial: vec![snapshot], resumed: false, frames: frames.subscribe() });
                }
                Command::Current(reply) => {
                    while let Ok(t) = feed.try_recv() {
                        hub.fold(&t);
                    }
                    let _ = reply.send(hub.agg.clone());
                }
            },
            // Last in the biased order, so that a flood of transitions never holds back a
            // frame or a heartbeat; each wake folds everything already waiting.
            Some(t) = feed.recv() => {
                hub.fold(&t);
                // Fold everything already waiting before the next frame goes out.
                while let Ok(t) = feed.try_recv() {
                    hub.fold(&t);
                }
            }
        }
    }
    tracing::debug!("live hub stopped");
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::time::DEFAULT_UTC_OFFSET_MINUTES as OFFSET;
    use shared::wall::Change;

    const DAY: i64 = 20_000;

    fn at(day: i64, hour: i64) -> i64 {
        local_day_start_ms(day, OFFSET) + hour * 3_600_000
    }

    fn t(seq: u64, from: Option<CaseState>, to: CaseState, at_ms: i64) -> Committed {
        Committed {
            seq,
            case_id: seq as i64,
            from,
            to,
            at_ms,
            category: shared::case::Category::Ecology,
            grid_id: Some("G1".to_owned()),
            committed_at: std::time::Instant::now(),
        }
    }

    #[test]
    fn a_wall_resumes_from_the_buffer_or_needs_a_snapshot() {
        let frame = |n: u64| Utf8Bytes::from(n.to_string());
        let recent: std::collections::VecDeque<(u64, u64, Utf8Bytes)> = [
            (10, 12, frame(12)),
            (12, 15, frame(15)),
            (15, 16, frame(16)),
        ]
        .into();
        let at = |since| Resume { since, day: DAY };
        let texts = |v: Option<Vec<Utf8Bytes>>| {
            v.map(|v| v.iter().map(|b| b.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(texts(missed_since(&recent, 16, DAY, at(16))), Some(vec![]));
        assert_eq!(
            texts(missed_since(&recent, 16, DAY, at(12))),
            Some(vec!["15".to_owned(), "16".to_owned()])
        );
        // Inside a frame's range: the frame overlaps what the wall has, which is harmless.
        assert_eq!(
            texts(missed_since(&recent, 16, DAY, at(13))),
            Some(vec!["15".to_owned(), "16".to_owned()])
        );
        assert_eq!(
            texts(missed_since(&recent, 16, DAY, at(9))),
            None,
            "older than the buffer"
        );
        assert_eq!(
            texts(missed_since(&recent, 16, DAY, at(17))),
            None,
            "ahead of the hub"
        );
        assert_eq!(
            texts(missed_since(&recent, 16, DAY + 1, at(16))),
            None,
            "another day"
        );
    }

    #[test]
    fn a_report_counts_everywhere() {
        let mut agg = Aggregate::empty(DAY, OFFSET);
        agg.fold(
            &t(1, None, CaseState::Reported, at(DAY, 9)),
            &HashMap::new(),
        );
        let c = agg.state.counters;
        assert_eq!(
            (c.reported_total, c.reported_today, c.open, c.closed),
            (1, 1, 1, 0)
        );
        assert_eq!(agg.seq, 1);
    }

    #[test]
    fn closing_moves_a_case_from_open_to_closed() {
        let mut agg = Aggregate::empty(DAY, OFFSET);
        agg.fold(
            &t(1, None, CaseState::Reported, at(DAY, 9)),
            &HashMap::new(),
        );
        agg.fold(
            &t(2, Some(CaseState::Verified), CaseState::Closed, at(DAY, 10)),
            &HashMap::new(),
        );
        let c = agg.state.counters;
        assert_eq!((c.open, c.closed, c.closed_today), (0, 1, 1));
        agg.fold(
            &t(3, Some(CaseState::Closed), CaseState::Reported, at(DAY, 11)),
            &HashMap::new(),
        );
        let c = agg.state.counters;
        assert_eq!((c.open, c.closed, c.closed_today), (1, 0, 1));
    }

    #[test]
    fn a_transition_on_the_next_day_resets_today() {
        let mut agg = Aggregate::empty(DAY, OFFSET);
        agg.fold(
            &t(1, None, CaseState::Reported, at(DAY, 23)),
            &HashMap::new(),
        );
        agg.fold(
            &t(2, None, CaseState::Reported, at(DAY + 1, 0)),
            &HashMap::new(),
        );
        let c = agg.state.counters;
        assert_eq!(agg.state.day, DAY + 1);
        assert_eq!((c.reported_total, c.reported_today), (2, 1));
    }

    #[test]
    fn a_late_transition_from_yesterday_does_not_count_today() {
        let mut agg = Aggregate::empty(DAY + 1, OFFSET);
        agg.fold(
            &t(1, None, CaseState::Reported, at(DAY, 23)),
            &HashMap::new(),
        );
        let c = agg.state.counters;
        assert_eq!((c.reported_total, c.reported_today, c.open), (1, 0, 1));
        assert_eq!(agg.state.day, DAY + 1);
    }

    #[test]
    fn rolling_backwards_does_nothing() {
        let mut agg = Aggregate::empty(DAY, OFFSET);
        agg.fold(
            &t(1, None, CaseState::Reported, at(DAY, 9)),
            &HashMap::new(),
        );
        assert!(!agg.roll_to_day(DAY - 1));
        assert!(!agg.roll_to_day(DAY));
        assert_eq!(agg.state.counters.reported_today, 1);
        assert!(agg.roll_to_day(DAY + 1));
        assert_eq!(agg.state.counters.reported_today, 0);
        assert_eq!(agg.state.counters.reported_total, 1);
    }

    fn decode(frame: &Utf8Bytes) -> ServerMsg {
        serde_json::from_str(frame.as_str()).expect("a protocol message")
    }

    fn decode_frame(frame: &Frame) -> ServerMsg {
        decode(&frame.bytes)
    }

    /// Reads frames until the next delta, skipping heartbeats.
    async fn next_delta(frames: &mut broadcast::Receiver<Frame>) -> ServerMsg {
        loop {
            let msg = decode_frame(&frames.recv().await.expect("a frame"));
            if matches!(msg, ServerMsg::Delta { .. }) {
                return msg;
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_transitions_goes_out_as_one_delta() {
        let now = now_ms();
        let day = local_day(now, OFFSET);
        let token = CancellationToken::new();
        let (hub, feed, task) = spawn(
            Aggregate::empty(day, OFFSET),
            Arc::default(),
            Metrics::new(),
            token.clone(),
        );
        let mut sub = hub.subscribe(None).await.expect("subscribe");
        assert!(matches!(
            decode(&sub.initial[0]),
            ServerMsg::Snapshot { seq: 0, .. }
        ));
        for seq in 1..=500 {
            feed.send(t(seq, None, CaseState::Reported, now))
                .await
                .expect("feed");
        }
        // `current` answers only after everything sent so far has been folded.
        assert_eq!(hub.current().await.expect("current").seq, 500);
        // The hub may send a first frame as soon as it wakes (its first tick is immediate);
        // everything after that waits for the next tick and goes out together.
        let mut deltas = 0;
        let mut have = 0;
        while have < 500 {
            match next_delta(&mut sub.frames).await {
                ServerMsg::Delta {
                    prev_seq,
                    seq,
                    changes,
                } => {
                    assert_eq!(prev_seq, have, "deltas must chain");
                    let counters = changes.iter().find_map(|c| match c {
                        Change::Counters(c) => Some(*c),
                        _ => None,
                    });
                    assert_eq!(counters.map(|c| c.reported_today), Some(seq));
                    // The category's tally rides in the same frame.
                    assert!(
                        changes
                            .iter()
                            .any(|c| matches!(c, Change::Category(k) if k.tally.open == seq))
                    );
                    have = seq;
                    deltas += 1;
                }
                other => panic!("expected a delta, got {other:?}"),
            }
        }
        assert!(deltas <= 2, "500 transitions took {deltas} frames");
        // The next transition comes in its own frame, which chains on to the first.
        feed.send(t(501, None, CaseState::Reported, now))
            .await
            .expect("feed");
        match next_delta(&mut sub.frames).await {
            ServerMsg::Delta { prev_seq, seq, .. } => assert_eq!((prev_seq, seq), (500, 501)),
            other => panic!("expected a delta, got {other:?}"),
        }
        token.cancel();
        task.await.expect("the hub stops");
    }

    #[tokio::test(start_paused = true)]
    async fn frames_go_out_at_most_ten_times_a_second() {
        let now = now_ms();
        let token = CancellationToken::new();
        let (hub, feed, task) = spawn(
            Aggregate::empty(local_day(now, OFFSET), OFFSET),
            Arc::default(),
            Metrics::new(),
            token.clone(),
        );
        let mut sub = hub.subscribe(None).await.expect("subscribe");
        let start = tokio::time::Instant::now();
        let mut seq = 0;
        let mut deltas = 0;
        // One transition every 10 ms for two seconds of (paused, simulated) time.
        while start.elapsed() < Duration::from_secs(2) {
            seq += 1;
            feed.send(t(seq, None, CaseState::Reported, now))
                .await
                .expect("feed");
            tokio::time::sleep(Duration::from_millis(10)).await;
            while let Ok(frame) = sub.frames.try_recv() {
                if matches!(decode_frame(&frame), ServerMsg::Delta { .. }) {
                    deltas += 1;
                }
            }
        }
        assert!(seq >= 190, "only {seq} transitions were sent");
        assert!((15..=21).contains(&deltas), "{deltas} deltas in 2 s");
        token.cancel();
        task.await.expect("the hub stops");
    }
}
