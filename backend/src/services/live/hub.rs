//! The hub: one task that owns every scope's aggregate, folds events as they arrive and
//! turns the changes into frames for the walls of each scope.
//!
//! Each scope has a stream: at most ten delta frames a second (each carrying everything since
//! the last), a heartbeat every second, alerts after the delta that raised them. Each frame is
//! serialised once per scope and shared by all walls of that scope through a broadcast
//! channel; a wall that falls behind it is given a fresh snapshot by its connection (see
//! `ws`), never a silent gap. Nothing is computed for a scope nobody watches.

use crate::clock::now_ms;
use crate::metrics::Metrics;
use crate::services::write_health::WriteHealth;
use axum::extract::ws::Utf8Bytes;
use gridwall_core::event::Event;
use gridwall_core::fold::CityFacts;
use gridwall_core::fold::Scopes;
use shared::PROTOCOL_VERSION;
use shared::wall::{Alert, Change, Scope, ServerMsg, WallState, split_snapshot};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

/// At most this many frames a second go to a wall.
pub const FRAME_INTERVAL: Duration = Duration::from_millis(100);
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(1);
/// Frames a wall may fall behind before it is resynchronised with a snapshot.
const BROADCAST_CAPACITY: usize = 256;
/// Committed events waiting to be folded; writers wait when it is full.
const FEED_CAPACITY: usize = 16_384;
/// Delta frames kept per scope for walls that reconnect: a minute of frames at the full rate.
const RESUME_FRAMES: usize = 600;
/// Alerts sent per scope per frame; in a storm the rest are on the wall's lists anyway.
const MAX_ALERTS_PER_FRAME: usize = 20;

/// A frame as the hub broadcasts it: serialised once, shared by every wall of a scope. A
/// large frame is several messages (its parts, then itself), none larger than
/// [`PART_BYTES`], because a WebSocket connection keeps a write buffer as large as the largest
/// message it ever sent: one city snapshot in one message would cost every wall its size.
#[derive(Debug, Clone)]
pub struct Frame {
    pub messages: Arc<[Utf8Bytes]>,
    /// The commit of the oldest transition this frame carries, for the latency metric.
    pub oldest_commit: Option<Instant>,
}

/// The size up to which the changes of a frame travel in one message.
pub const PART_BYTES: usize = 4_000;

/// Splits `changes` into `part` messages of at most [`PART_BYTES`] each, keeping back the last
/// chunk (or all of them, when they are small) for the frame's own message.
fn parts(seq: u64, changes: Vec<Change>) -> (Vec<Utf8Bytes>, Vec<Change>) {
    let texts: Vec<String> = changes
        .iter()
        .map(|c| serde_json::to_string(c).unwrap_or_default())
        .collect();
    if texts.iter().map(|t| t.len() + 1).sum::<usize>() <= PART_BYTES {
        return (Vec::new(), changes);
    }
    let mut messages = Vec::new();
    let mut start = 0;
    let mut size = 0;
    for (i, text) in texts.iter().enumerate() {
        if size + text.len() + 1 > PART_BYTES && i > start {
            messages.push(part_message(seq, &texts[start..i]));
            start = i;
            size = 0;
        }
        size += text.len() + 1;
    }
    // What is left, at most one part's worth, rides in the frame's own message.
    let rest = changes.into_iter().skip(start).collect();
    (messages, rest)
}

fn part_message(seq: u64, changes: &[String]) -> Utf8Bytes {
    Utf8Bytes::from(format!(
        r#"{{"type":"part","seq":{seq},"changes":[{}]}}"#,
        changes.join(",")
    ))
}

/// A snapshot as messages: the keyed entries in parts, then the snapshot of the rest.
pub(crate) fn snapshot_messages(seq: u64, log_seq: u64, state: &WallState) -> Vec<Utf8Bytes> {
    let (base, entries) = split_snapshot(state);
    let (mut messages, rest) = parts(seq, entries);
    let mut base = base;
    base.apply(&rest);
    messages.push(encode(&ServerMsg::Snapshot {
        seq,
        log_seq,
        server_time_ms: now_ms(),
        state: base,
    }));
    messages
}

/// A wall's way in: the frames to send first and the stream of frames after them.
#[derive(Debug)]
pub struct Subscription {
    pub hello: Utf8Bytes,
    /// A snapshot, or, for a wall that resumes, the frames it missed (possibly none).
    pub initial: Vec<Utf8Bytes>,
    /// Whether the wall resumed from its own state rather than getting a snapshot.
    pub resumed: bool,
    pub frames: broadcast::Receiver<Frame>,
}

/// Where a reconnecting wall left off: its stream and the last sequence number it applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    pub stream: String,
    pub since: u64,
}

/// A scope's state as the API shows it, with where it stands in the log.
#[derive(Debug, Clone)]
pub struct Current {
    pub scope: Scope,
    pub seq: u64,
    pub log_seq: u64,
    pub visit_seq: u64,
    pub state: WallState,
}

enum Command {
    Subscribe(Scope, Option<Resume>, oneshot::Sender<Option<Subscription>>),
    Current(Scope, oneshot::Sender<Option<Current>>),
    Save(oneshot::Sender<Scopes>),
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Subscribe(..) => "Subscribe",
            Command::Current(..) => "Current",
            Command::Save(_) => "Save",
        })
    }
}

/// A handle on the hub task. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Hub {
    commands: mpsc::Sender<Command>,
}

/// The hub has stopped (the server is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("the live hub has stopped")]
pub struct HubStopped;

/// Why a wall could not subscribe.
#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    #[error(transparent)]
    Stopped(#[from] HubStopped),
    #[error("there is no {0} in the city")]
    UnknownScope(Scope),
}

impl Hub {
    /// A snapshot and the frames after it, with nothing missed or doubled in between: the
    /// hub subscribes the wall and takes the snapshot in one step of its loop. A wall that
    /// says where it left off gets only the frames it missed, when the hub still has them.
    pub async fn subscribe(
        &self,
        scope: Scope,
        resume: Option<Resume>,
    ) -> Result<Subscription, SubscribeError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Subscribe(scope.clone(), resume, tx))
            .await
            .map_err(|_| HubStopped)?;
        rx.await
            .map_err(|_| HubStopped)?
            .ok_or(SubscribeError::UnknownScope(scope))
    }

    /// A scope's live state as it is now, with every event handed to the feed so far folded
    /// in; `None` for a scope the city does not have.
    pub async fn current(&self, scope: Scope) -> Result<Option<Current>, HubStopped> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Current(scope, tx))
            .await
            .map_err(|_| HubStopped)?;
        rx.await.map_err(|_| HubStopped)
    }

    /// A copy of every scope's aggregate, with everything handed to the feed folded in, for
    /// saving.
    pub async fn scopes(&self) -> Result<Scopes, HubStopped> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Save(tx))
            .await
            .map_err(|_| HubStopped)?;
        rx.await.map_err(|_| HubStopped)
    }
}

/// The deltas a wall at `since` missed, if the stream still has all of them: `Some(vec![])`
/// when it missed nothing, `None` when it needs a snapshot (a sequence number the stream
/// never sent, or frames that have left the buffer).
fn missed_since(
    recent: &VecDeque<(u64, u64, Arc<[Utf8Bytes]>)>,
    sent_seq: u64,
    since: u64,
) -> Option<Vec<Utf8Bytes>> {
    if since > sent_seq {
        return None;
    }
    if since == sent_seq {
        return Some(Vec::new());
    }
    let first = recent
        .iter()
        .position(|(prev, seq, _)| *prev <= since && since < *seq)?;
    Some(
        recent
            .iter()
            .skip(first)
            .flat_map(|(_, _, messages)| messages.iter().cloned())
            .collect(),
    )
}

pub(crate) fn encode(msg: &ServerMsg) -> Utf8Bytes {
    // Serialising these types cannot fail: every map key is a string or an integer.
    Utf8Bytes::from(serde_json::to_string(msg).unwrap_or_default())
}

/// One scope's stream.
struct Stream {
    hello: Utf8Bytes,
    /// The sequence number of the last frame (or of the last change nobody watched).
    seq: u64,
    /// The state as of `seq`, while anybody watches; `None` while nobody does.
    sent: Option<WallState>,
    /// `log_seq` as of `seq`.
    sent_log_seq: u64,
    /// Whether the aggregate may have changed since `seq`.
    touched: bool,
    frames: broadcast::Sender<Frame>,
    /// Recent frames as `(prev_seq, seq, messages)`, for walls that resume.
    recent: VecDeque<(u64, u64, Arc<[Utf8Bytes]>)>,
    /// The snapshot at `seq`, serialised once for every wall that asks for it.
    snapshot: Option<(u64, Arc<[Utf8Bytes]>)>,
    alerts: Vec<Alert>,
    oldest_unsent: Option<Instant>,
}

/// What the hub task owns.
struct HubTask {
    scopes: Scopes,
    city: Arc<CityFacts>,
    streams: HashMap<Scope, Stream>,
    metrics: Arc<Metrics>,
    /// Where the look-back checkpoints go; `None` keeps none.
    history: Option<super::history::Sink>,
    /// Whether writes are stored, told to every wall with its heartbeat.
    writes: Arc<WriteHealth>,
}

/// Starts the hub task with rebuilt (or loaded) aggregates. Returns the handle for walls, the
/// sender for the case commands, and the task, which ends when `shutdown` is cancelled.
pub fn spawn(
    scopes: Scopes,
    city: Arc<CityFacts>,
    metrics: Arc<Metrics>,
    history: Option<super::history::Sink>,
    writes: Arc<WriteHealth>,
    shutdown: CancellationToken,
) -> (Hub, mpsc::Sender<Event>, JoinHandle<Scopes>) {
    let (feed_tx, feed_rx) = mpsc::channel(FEED_CAPACITY);
    let (cmd_tx, cmd_rx) = mpsc::channel(1_024);
    // A stream's identity: sequence numbers restart with every run of the server.
    let stream_id = format!("{:016x}", rand::random::<u64>());
    let streams = scopes
        .aggregates
        .keys()
        .map(|scope| {
            let hello = encode(&ServerMsg::Hello {
                protocol: PROTOCOL_VERSION,
                server_version: env!("CARGO_PKG_VERSION").to_owned(),
                scope: scope.clone(),
                stream: stream_id.clone(),
            });
            let stream = Stream {
                hello,
                seq: 0,
                sent: None,
                sent_log_seq: scopes.log_seq,
                touched: false,
                frames: broadcast::channel(BROADCAST_CAPACITY).0,
                recent: VecDeque::new(),
                snapshot: None,
                alerts: Vec::new(),
                oldest_unsent: None,
            };
            (scope.clone(), stream)
        })
        .collect();
    let hub = HubTask {
        scopes,
        city,
        streams,
        metrics,
        history,
        writes,
    };
    let task = tokio::spawn(run_hub(hub, stream_id, feed_rx, cmd_rx, shutdown));
    (Hub { commands: cmd_tx }, feed_tx, task)
}

impl HubTask {
    fn fold(&mut self, event: &Event) {
        let alerts = self.scopes.fold(event, &self.city);
        let committed_at = match event {
            Event::Transition(t) => {
                self.metrics.transitions_folded.fetch_add(1, Relaxed);
                Some(t.committed_at)
            }
            Event::Visit(_) => None,
        };
        let grid = match event {
            Event::Transition(t) => t.grid_id.as_deref(),
            Event::Visit(v) => Some(v.grid_id.as_str()),
        };
        let scopes = Scopes::scopes_of(grid, &self.city);
        for scope in &scopes {
            if let Some(stream) = self.streams.get_mut(scope) {
                stream.touched = true;
                if let Some(at) = committed_at {
                    stream.oldest_unsent.get_or_insert(at);
                }
            }
        }
        if let Some(history) = &mut self.history {
            for scope in scopes {
                if history.count(&scope)
                    && let Some(aggregate) = self.scopes.aggregates.get(&scope)
                {
                    history.offer(super::history::Checkpoint {
                        aggregate: aggregate.clone(),
                        scope,
                        log_seq: self.scopes.log_seq,
                        visit_seq: self.scopes.visit_seq,
                        // The hub's clock is at most now: the checkpoint serves any moment
                        // from now on.
                        as_of: now_ms(),
                    });
                }
            }
        }
        for (scope, alert) in alerts {
            if let Some(stream) = self.streams.get_mut(&scope)
                && stream.sent.is_some()
                && stream.alerts.len() < MAX_ALERTS_PER_FRAME
            {
                stream.alerts.push(alert);
            }
        }
    }

    /// Moves the clock on and sends a delta to every scope that changed.
    fn send_frames(&mut self) {
        let hour = self.scopes.city().map(|a| (a.state.day, a.hour()));
        self.scopes.advance(now_ms());
        if self.scopes.city().map(|a| (a.state.day, a.hour())) != hour {
            for stream in self.streams.values_mut() {
                stream.touched = true;
            }
        }
        let log_seq = self.scopes.log_seq;
        for (scope, stream) in self.streams.iter_mut() {
            if !stream.touched {
                stream.sent_log_seq = log_seq;
                continue;
            }
            stream.touched = false;
            if stream.frames.receiver_count() == 0 {
                stream.sent = None;
            }
            let Some(agg) = self.scopes.aggregates.get(scope) else {
                continue;
            };
            let Some(sent) = stream.sent.as_mut() else {
                // Nobody watches: the state moved on without frames, so the next wall gets
                // a snapshot at a new sequence number.
                stream.seq += 1;
                stream.sent_log_seq = log_seq;
                stream.recent.clear();
                stream.alerts.clear();
                stream.oldest_unsent = None;
                continue;
            };
            let changes = agg.state.changes_since(sent);
            if changes.is_empty() {
                stream.sent_log_seq = log_seq;
                stream.oldest_unsent = None;
                continue;
            }
            sent.apply(&changes);
            let prev_seq = stream.seq;
            stream.seq += 1;
            stream.sent_log_seq = log_seq;
            let (mut messages, rest) = parts(stream.seq, changes);
            messages.push(encode(&ServerMsg::Delta {
                prev_seq,
                seq: stream.seq,
                log_seq,
                changes: rest,
            }));
            let oldest_commit = stream.oldest_unsent.take();
            stream.push(prev_seq, messages, oldest_commit);
            for alert in std::mem::take(&mut stream.alerts) {
                let bytes = encode(&ServerMsg::Alert {
                    seq: stream.seq,
                    alert,
                });
                stream.push(stream.seq, vec![bytes], None);
            }
        }
    }

    fn send_heartbeats(&mut self) {
        let now = now_ms();
        let writes_failing = self.writes.current();
        for stream in self.streams.values() {
            if stream.frames.receiver_count() > 0 {
                let _ = stream.frames.send(Frame {
                    messages: Arc::new([encode(&ServerMsg::Heartbeat {
                        server_time_ms: now,
                        seq: stream.seq,
                        log_seq: stream.sent_log_seq,
                        writes_failing,
                    })]),
                    oldest_commit: None,
                });
            }
        }
    }

    fn subscribe(
        &mut self,
        scope: &Scope,
        stream_id: &str,
        resume: Option<Resume>,
    ) -> Option<Subscription> {
        let agg = self.scopes.aggregates.get(scope)?;
        let stream = self.streams.get_mut(scope)?;
        if stream.sent.is_none() {
            // The first wall of a scope nobody watched. If the scope changed since its last
            // sequence number, the state now gets a new one, so that a wall resuming from the
            // old number is given a snapshot rather than told it missed nothing.
            if stream.touched {
                stream.seq += 1;
                stream.recent.clear();
            }
            stream.sent = Some(agg.state.clone());
            stream.sent_log_seq = self.scopes.log_seq;
            stream.touched = false;
            stream.snapshot = None;
        }
        let frames = stream.frames.subscribe();
        if let Some(missed) = resume
            .filter(|r| r.stream == stream_id)
            .and_then(|r| missed_since(&stream.recent, stream.seq, r.since))
        {
            return Some(Subscription {
                hello: stream.hello.clone(),
                initial: missed,
                resumed: true,
                frames,
            });
        }
        let snapshot = match &stream.snapshot {
            Some((seq, messages)) if *seq == stream.seq => messages.clone(),
            _ => {
                let state = stream.sent.as_ref()?;
                let messages: Arc<[Utf8Bytes]> =
                    snapshot_messages(stream.seq, stream.sent_log_seq, state).into();
                stream.snapshot = Some((stream.seq, messages.clone()));
                messages
            }
        };
        Some(Subscription {
            hello: stream.hello.clone(),
            initial: snapshot.to_vec(),
            resumed: false,
            frames,
        })
    }
}

impl Stream {
    fn push(&mut self, prev_seq: u64, messages: Vec<Utf8Bytes>, oldest_commit: Option<Instant>) {
        let messages: Arc<[Utf8Bytes]> = messages.into();
        if self.recent.len() == RESUME_FRAMES {
            self.recent.pop_front();
        }
        self.recent
            .push_back((prev_seq, self.seq, messages.clone()));
        let _ = self.frames.send(Frame {
            messages,
            oldest_commit,
        });
    }
}

async fn run_hub(
    mut hub: HubTask,
    stream_id: String,
    mut feed: mpsc::Receiver<Event>,
    mut commands: mpsc::Receiver<Command>,
    shutdown: CancellationToken,
) -> Scopes {
    let mut frame_tick = tokio::time::interval(FRAME_INTERVAL);
    frame_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut heartbeat = tokio::time::interval(HEARTBEAT_INTERVAL);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            _ = frame_tick.tick() => hub.send_frames(),
            _ = heartbeat.tick() => hub.send_heartbeats(),
            Some(cmd) = commands.recv() => match cmd {
                Command::Subscribe(scope, resume, reply) => {
                    let _ = reply.send(hub.subscribe(&scope, &stream_id, resume));
                }
                Command::Current(scope, reply) => {
                    while let Ok(event) = feed.try_recv() {
                        hub.fold(&event);
                    }
                    let current = hub.scopes.aggregates.get(&scope).map(|agg| Current {
                        scope: scope.clone(),
                        seq: hub.streams.get(&scope).map_or(0, |s| s.seq),
                        log_seq: hub.scopes.log_seq,
                        visit_seq: hub.scopes.visit_seq,
                        state: agg.state.clone(),
                    });
                    let _ = reply.send(current);
                }
                Command::Save(reply) => {
                    while let Ok(event) = feed.try_recv() {
                        hub.fold(&event);
                    }
                    let _ = reply.send(hub.scopes.clone());
                }
            },
            // Last in the biased order, so that a flood of events never holds back a frame or
            // a heartbeat; each wake folds everything already waiting.
            Some(event) = feed.recv() => {
                hub.fold(&event);
                while let Ok(event) = feed.try_recv() {
                    hub.fold(&event);
                }
            }
        }
    }
    // Whatever was committed before the stop is folded, so that the saved state is complete.
    while let Ok(event) = feed.try_recv() {
        hub.fold(&event);
    }
    if let Some(history) = &mut hub.history {
        history.flush(&hub.scopes);
    }
    tracing::debug!("live hub stopped");
    hub.scopes
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use gridwall_core::event::{Committed, Facts};
    use gridwall_core::fold::{Aggregate, GridPlace};
    use shared::case::{Action, CaseState, Category, Supervision};
    use shared::time::{DEFAULT_UTC_OFFSET_MINUTES as OFFSET, local_day, local_hour};
    use shared::wall::Change;
    use std::collections::BTreeMap;

    /// A city of one district `D` with one street `S` and one grid `G1`.
    pub(crate) fn city() -> CityFacts {
        let mut facts = CityFacts::default();
        facts.grids.insert(
            "G1".to_owned(),
            GridPlace {
                street: "S".to_owned(),
                district: "D".to_owned(),
            },
        );
        facts
    }

    pub(crate) fn scopes_at(now: i64) -> Scopes {
        let (day, hour) = (local_day(now, OFFSET), local_hour(now, OFFSET));
        let aggregates: BTreeMap<Scope, Aggregate> = [
            Scope::City,
            Scope::District("D".to_owned()),
            Scope::Street("S".to_owned()),
        ]
        .into_iter()
        .map(|s| (s, Aggregate::empty(day, hour, OFFSET)))
        .collect();
        Scopes {
            aggregates,
            log_seq: 0,
            visit_seq: 0,
        }
    }

    pub(crate) fn report(seq: u64, at_ms: i64) -> Event {
        Event::Transition(Committed {
            seq,
            case_id: seq as i64,
            action: Action::Report,
            before: None,
            after: Facts {
                state: CaseState::Reported,
                department: None,
                supervision: Supervision::None,
                deadline_ms: None,
            },
            at_ms,
            category: Category::Ecology,
            sub_item: None,
            grid_id: Some("G1".to_owned()),
            reported_at_ms: at_ms,
            reporter_id: None,
            committed_at: Instant::now(),
        })
    }

    #[test]
    fn a_wall_resumes_from_the_buffer_or_needs_a_snapshot() {
        let frame = |n: u64| Utf8Bytes::from(n.to_string());
        let recent: VecDeque<(u64, u64, Arc<[Utf8Bytes]>)> = [
            (10, 12, Arc::from([frame(12)])),
            (12, 15, Arc::from([frame(15)])),
            (15, 16, Arc::from([frame(16)])),
        ]
        .into();
        let texts = |v: Option<Vec<Utf8Bytes>>| {
            v.map(|v| v.iter().map(|b| b.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(texts(missed_since(&recent, 16, 16)), Some(vec![]));
        assert_eq!(
            texts(missed_since(&recent, 16, 12)),
            Some(vec!["15".to_owned(), "16".to_owned()])
        );
        // Inside a frame's range: the frame overlaps what the wall has, which is harmless.
        assert_eq!(
            texts(missed_since(&recent, 16, 13)),
            Some(vec!["15".to_owned(), "16".to_owned()])
        );
        assert_eq!(
            texts(missed_since(&recent, 16, 9)),
            None,
            "older than the buffer"
        );
        assert_eq!(
            texts(missed_since(&recent, 16, 17)),
            None,
            "ahead of the hub"
        );
    }

    fn decode(frame: &Utf8Bytes) -> ServerMsg {
        serde_json::from_str(frame.as_str()).expect("a protocol message")
    }

    /// Reads frames until the next delta, skipping heartbeats and alerts; the changes of the
    /// parts before it are put back into the delta, as a wall's mirror does.
    async fn next_delta(frames: &mut broadcast::Receiver<Frame>) -> ServerMsg {
        loop {
            let frame = frames.recv().await.expect("a frame");
            let mut msg = decode(frame.messages.last().expect("a message"));
            if let ServerMsg::Delta { changes, .. } = &mut msg {
                let mut all = Vec::new();
                for part in &frame.messages[..frame.messages.len() - 1] {
                    if let ServerMsg::Part { changes, .. } = decode(part) {
                        all.extend(changes);
                    }
                }
                all.append(changes);
                *changes = all;
                return msg;
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_transitions_goes_out_as_one_delta() {
        let now = now_ms();
        let token = CancellationToken::new();
        let (hub, feed, task) = spawn(
            scopes_at(now),
            Arc::new(city()),
            Metrics::new(),
            None,
            Arc::new(WriteHealth::default()),
            token.clone(),
        );
        let mut sub = hub.subscribe(Scope::City, None).await.expect("subscribe");
        assert!(matches!(
            decode(sub.initial.last().expect("a snapshot")),
            ServerMsg::Snapshot { log_seq: 0, .. }
        ));
        for seq in 1..=500 {
            feed.send(report(seq, now)).await.expect("feed");
        }
        // `current` answers only after everything sent so far has been folded.
        let current = hub
            .current(Scope::City)
            .await
            .expect("current")
            .expect("city");
        assert_eq!(current.log_seq, 500);
        // The hub may send a first frame as soon as it wakes (its first tick is immediate);
        // everything after that waits for the next tick and goes out together.
        let mut deltas = 0;
        let mut have = 0;
        let mut seq_have = 0;
        while have < 500 {
            match next_delta(&mut sub.frames).await {
                ServerMsg::Delta {
                    prev_seq,
                    seq,
                    log_seq,
                    changes,
                } => {
                    assert_eq!(prev_seq, seq_have, "deltas must chain");
                    let counters = changes.iter().find_map(|c| match c {
                        Change::Counters(c) => Some(*c),
                        _ => None,
                    });
                    assert_eq!(counters.map(|c| c.reported_today), Some(log_seq));
                    // The category's tally rides in the same frame.
                    assert!(changes.iter().any(
                        |c| matches!(c, Change::Category(k) if k.value.is_some_and(|t| t.open == log_seq))
                    ));
                    have = log_seq;
                    seq_have = seq;
                    deltas += 1;
                }
                other => panic!("expected a delta, got {other:?}"),
            }
        }
        assert!(deltas <= 2, "500 transitions took {deltas} frames");
        // The next transition comes in its own frame, which chains on to the last.
        feed.send(report(501, now)).await.expect("feed");
        match next_delta(&mut sub.frames).await {
            ServerMsg::Delta {
                prev_seq, log_seq, ..
            } => assert_eq!((prev_seq, log_seq), (seq_have, 501)),
            other => panic!("expected a delta, got {other:?}"),
        }
        token.cancel();
        let scopes = task.await.expect("the hub stops");
        assert_eq!(scopes.log_seq, 501);
    }

    #[tokio::test(start_paused = true)]
    async fn frames_go_out_at_most_ten_times_a_second() {
        let now = now_ms();
        let token = CancellationToken::new();
        let (hub, feed, task) = spawn(
            scopes_at(now),
            Arc::new(city()),
            Metrics::new(),
            None,
            Arc::new(WriteHealth::default()),
            token.clone(),
        );
        let mut sub = hub.subscribe(Scope::City, None).await.expect("subscribe");
        let start = tokio::time::Instant::now();
        let mut seq = 0;
        let mut deltas = 0;
        // One transition every 10 ms for two seconds of (paused, simulated) time.
        while start.elapsed() < Duration::from_secs(2) {
            seq += 1;
            feed.send(report(seq, now)).await.expect("feed");
            tokio::time::sleep(Duration::from_millis(10)).await;
            while let Ok(frame) = sub.frames.try_recv() {
                if matches!(
                    decode(frame.messages.last().expect("a message")),
                    ServerMsg::Delta { .. }
                ) {
                    deltas += 1;
                }
            }
        }
        assert!(seq >= 190, "only {seq} transitions were sent");
        assert!((15..=21).contains(&deltas), "{deltas} deltas in 2 s");
        token.cancel();
        task.await.expect("the hub stops");
    }

    #[tokio::test(start_paused = true)]
    async fn a_scope_without_walls_costs_no_frames_and_its_next_wall_gets_the_state() {
        let now = now_ms();
        let token = CancellationToken::new();
        let (hub, feed, task) = spawn(
            scopes_at(now),
            Arc::new(city()),
            Metrics::new(),
            None,
            Arc::new(WriteHealth::default()),
            token.clone(),
        );
        for seq in 1..=3 {
            feed.send(report(seq, now)).await.expect("feed");
        }
        let _ = hub.current(Scope::City).await.expect("current");
        tokio::time::sleep(Duration::from_millis(250)).await;
        let sub = hub
            .subscribe(Scope::Street("S".to_owned()), None)
            .await
            .expect("subscribe");
        match decode(sub.initial.last().expect("a snapshot")) {
            ServerMsg::Snapshot { state, .. } => assert_eq!(state.counters.reported_total, 3),
            other => panic!("expected a snapshot, got {other:?}"),
        }
        assert!(matches!(
            hub.subscribe(Scope::Street("nowhere".to_owned()), None)
                .await,
            Err(SubscribeError::UnknownScope(_))
        ));
        token.cancel();
        task.await.expect("the hub stops");
    }

    #[test]
    fn a_large_snapshot_goes_out_in_small_messages_that_rebuild_it() {
        let mut state = WallState::default();
        for g in 0..2_000 {
            state.by_grid.insert(
                format!("230602001-{g:04}"),
                shared::wall::GridTally {
                    reported_total: g,
                    open: 1,
                    overdue: 0,
                    last_ms: 1_795_921_551_748,
                    ..shared::wall::GridTally::default()
                },
            );
        }
        state.counters.open = 2_000;
        let messages = snapshot_messages(7, 9, &state);
        assert!(messages.len() > 10, "{} messages", messages.len());
        assert!(messages.iter().all(|m| m.len() <= PART_BYTES + 100));
        let mut mirror = shared::wall::Mirror::default();
        for m in &messages {
            mirror.apply(&decode(m));
        }
        assert_eq!(mirror.seq, Some(7));
        assert_eq!(mirror.state, state);
        // A small one stays one message.
        let small = WallState::default();
        assert_eq!(snapshot_messages(1, 1, &small).len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wall_resuming_on_a_scope_that_changed_unwatched_gets_a_snapshot() {
        let now = now_ms();
        let token = CancellationToken::new();
        let (hub, feed, task) = spawn(
            scopes_at(now),
            Arc::new(city()),
            Metrics::new(),
            None,
            Arc::new(WriteHealth::default()),
            token.clone(),
        );
        let street = Scope::Street("S".to_owned());
        let sub = hub
            .subscribe(street.clone(), None)
            .await
            .expect("subscribe");
        let (stream, since) = match decode(&sub.hello) {
            ServerMsg::Hello { stream, .. } => {
                match decode(sub.initial.last().expect("snapshot")) {
                    ServerMsg::Snapshot { seq, .. } => (stream, seq),
                    other => panic!("expected a snapshot, got {other:?}"),
                }
            }
            other => panic!("expected hello, got {other:?}"),
        };
        drop(sub);
        // The street changes while nobody watches it: no frame is made, and the wall that
        // comes back cannot be told it missed nothing.
        feed.send(report(1, now)).await.expect("feed");
        let _ = hub.current(street.clone()).await.expect("current");
        tokio::time::sleep(Duration::from_millis(250)).await;
        feed.send(report(2, now)).await.expect("feed");
        let _ = hub.current(street.clone()).await.expect("current");
        let back = hub
            .subscribe(street, Some(Resume { stream, since }))
            .await
            .expect("subscribe");
        assert!(!back.resumed, "told it missed nothing");
        match decode(back.initial.last().expect("a snapshot")) {
            ServerMsg::Snapshot { seq, state, .. } => {
                assert!(seq > since);
                assert_eq!(state.counters.reported_total, 2);
            }
            other => panic!("expected a snapshot, got {other:?}"),
        }
        token.cancel();
        task.await.expect("the hub stops");
    }
}
