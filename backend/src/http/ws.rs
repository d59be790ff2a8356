//! `/ws`: one wall's connection, a send task and a receive task joined by `select!`.
//!
//! The send task writes the hello, the snapshot and then every shared frame from the hub.
//! When the wall falls so far behind that the broadcast channel drops frames for it, or when
//! the wall itself reports a gap, the send task resubscribes and writes a fresh snapshot:
//! a wall is never left with a silent gap.

use crate::error::AppError;
use crate::http::extract::{parse_scope, token_of};
use crate::http::socket::{Recheck, SEND_TIMEOUT, SocketIdle, refusal_close};
use crate::metrics::{Connected, Metrics};
use crate::services::control::{Controls, Follower, PastFrames};
use crate::services::live::history::History;
use crate::services::live::hub::{encode, snapshot_messages};
use crate::services::live::{Frame, Hub, Resume};
use crate::services::tokens::Access;
use crate::services::write_health::WriteHealth;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use shared::case::ApiError;
use shared::control::ControlState;
use shared::wall::{ClientMsg, Scope, ServerMsg};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Walls send only tiny control messages; a small read buffer keeps thousands of them cheap
/// (tungstenite's default is 128 KiB per connection).
const READ_BUFFER: usize = 4 * 1024;
const MAX_CLIENT_MESSAGE: usize = 16 * 1024;
/// WebSocket close code 1001: the server is going away.
const GOING_AWAY: u16 = 1001;

/// `GET /ws`: a wall's stream of its scope's state.
#[utoipa::path(
    get,
    path = "/ws",
    operation_id = "wall_stream",
    tag = "wall",
    description = "Upgrades to a WebSocket that streams the scope's state: the server sends \
        `hello`, a `snapshot`, then `delta`s, `alert`s and `heartbeat`s in sequence order (the \
        `ServerMsg` schema); the wall sends `{\"type\":\"snapshot\"}` when it finds a gap \
        (`ClientMsg`). A wall that reconnects gives `stream` and `since` to resume. The \
        protocol, its sequence rule and its resumption are described in ARCHITECTURE.md, \
        section \"The stream on `/ws`\". The scope, the token and the scope's existence are \
        checked before the upgrade, so those errors come in the API's error shape; a request \
        that is not a WebSocket handshake gets axum's plain-text 400 (or 426).",
    params(ResumeQuery),
    responses(
        (status = 101, description = "Switching Protocols: the WebSocket is open; its text frames are `ServerMsg` JSON objects."),
        (status = 400, description = "An unknown query parameter, `since` not a number, `follow` not a wall's name, or not a WebSocket handshake (plain text).", body = ApiError),
        (status = 401, description = "Walls need a display token here (outside demo mode) and none was given.", body = ApiError),
        (status = 403, description = "The token does not open this scope.", body = ApiError),
        (status = 404, description = "There is no such district or street.", body = ApiError),
        (status = 422, description = "`scope` is not `city`, `district:CODE` or `street:CODE`.", body = ApiError),
        (status = 503, description = "The live hub has stopped, or the server has as many walls to follow as it keeps.", body = ApiError),
        (status = 500, description = "The server failed (database or photo storage); the log has the details, the body does not.", body = ApiError),
    ),
    security((), ("display_token" = []), ("bearer" = []))
)]
#[allow(clippy::too_many_arguments)]
pub async fn upgrade(
    // The query first, so that a malformed one is named before the upgrade is looked at.
    crate::http::extract::ApiQuery(query): crate::http::extract::ApiQuery<ResumeQuery>,
    headers: axum::http::HeaderMap,
    ws: WebSocketUpgrade,
    State(hub): State<Hub>,
    State(metrics): State<Arc<Metrics>>,
    State(access): State<Arc<Access>>,
    State(history): State<Arc<History>>,
    State(controls): State<Arc<Controls>>,
    State(writes): State<Arc<WriteHealth>>,
    State(idle): State<SocketIdle>,
    State(recheck): State<Recheck>,
    State(shutdown): State<CancellationToken>,
) -> Result<Response, AppError> {
    let scope = parse_scope(query.scope.as_deref())?;
    // Access first: nothing of a control channel is touched for a wall that may not watch.
    access
        .check(
            token_of(query.token.as_deref(), &headers).as_deref(),
            &scope,
        )
        .await?;
    let follow = query
        .follow
        .as_deref()
        .map(|name| controls.follow(name))
        .transpose()?;
    // An unknown scope is refused before the upgrade, with a body that names it.
    if hub
        .current(scope.clone())
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))?
        .is_none()
    {
        return Err(AppError::NotFound(format!(
            "there is no {scope} in the city"
        )));
    }
    let resume = query.resume();
    let wall = Wall {
        hub,
        metrics,
        history,
        controls,
        access,
        writes,
        idle,
        recheck,
        token: token_of(query.token.as_deref(), &headers),
        own: scope,
    };
    Ok(ws
        .read_buffer_size(READ_BUFFER)
        // Frames are written as they come rather than gathered in a 128 KiB buffer.
        .write_buffer_size(0)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| serve_wall(socket, wall, resume, follow, shutdown)))
}

/// `/ws?scope=SCOPE&token=TOKEN&stream=ID&since=SEQ`: the scope a wall watches (the city
/// when absent), its display token, and, for a wall that reconnects, where it left off.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ResumeQuery {
    /// `city` (the default), `district:CODE` or `street:CODE`.
    scope: Option<String>,
    /// A display token, for walls outside demo mode (browsers cannot set headers on a
    /// WebSocket; an `Authorization: Bearer` header works too).
    token: Option<String>,
    /// For a wall that reconnects: the `stream` of the `hello` it had.
    stream: Option<String>,
    /// For a wall that reconnects: the last `seq` it applied. With `stream`, the server
    /// sends what followed instead of a snapshot when it still can.
    since: Option<u64>,
    /// A control channel to follow (`main`, `wall-2`: 1 to 32 of a-z, 0-9 and -). The wall
    /// then shows what the channel's controller shows, and its own scope when nobody does;
    /// `control` messages tell it who holds the channel and what it shows.
    follow: Option<String>,
}

impl ResumeQuery {
    fn resume(&self) -> Option<Resume> {
        Some(Resume {
            stream: self.stream.clone()?,
            since: self.since?,
        })
    }
}

/// What a wall's connection needs besides its socket.
struct Wall {
    hub: Hub,
    metrics: Arc<Metrics>,
    history: Arc<History>,
    controls: Arc<Controls>,
    access: Arc<Access>,
    /// Whether writes are stored, told with a past view's heartbeats as the hub tells it with
    /// the live ones.
    writes: Arc<WriteHealth>,
    /// How long the wall may stay silent (not even answering a ping) before it is closed.
    idle: SocketIdle,
    /// How often the wall's token is checked again: a revoked one closes the wall.
    recheck: Recheck,
    /// The wall's display token, checked again for every scope its channel shows.
    token: Option<String>,
    /// The scope the wall asked for: what it shows when its channel shows nothing.
    own: Scope,
}

async fn serve_wall(
    socket: WebSocket,
    wall: Wall,
    resume: Option<Resume>,
    follow: Option<Follower>,
    shutdown: CancellationToken,
) {
    let _connected = Connected::new(wall.metrics.clone(), &wall.own);
    let (sink, mut stream) = socket.split();
    let (resync_tx, resync_rx) = mpsc::channel::<()>(1);
    let idle = wall.idle;
    let mut send_task = tokio::spawn(send_frames(sink, wall, resume, follow, resync_rx, shutdown));
    let mut recv_task = tokio::spawn(async move {
        while let Some(msg) = idle.next(&mut stream).await {
            match msg {
                Message::Text(text) => match read_client_msg(&text) {
                    // A full channel means a resync is already on its way.
                    Ok(ClientMsg::Snapshot) => {
                        let _ = resync_tx.try_send(());
                    }
                    Err(err) => {
                        tracing::debug!(error = %err, "ignoring an unreadable message from a wall")
                    }
                },
                Message::Close(_) => break,
                _ => {}
            }
        }
    });
    tokio::select! {
        _ = &mut send_task => recv_task.abort(),
        _ = &mut recv_task => send_task.abort(),
    }
}

/// A wall's message. The fuzzers (`crate::fuzzing`) call it too, so that they read what the
/// server reads.
pub(crate) fn read_client_msg(text: &str) -> Result<ClientMsg, serde_json::Error> {
    serde_json::from_str(text)
}

type Sink = futures_util::stream::SplitSink<WebSocket, Message>;

async fn send(sink: &mut Sink, metrics: &Metrics, frame: Utf8Bytes) -> bool {
    let len = frame.len() as u64;
    let sent = matches!(
        tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Text(frame))).await,
        Ok(Ok(()))
    );
    if sent {
        metrics.frames_sent.fetch_add(1, Relaxed);
        metrics.bytes_sent.fetch_add(len, Relaxed);
    } else {
        metrics.walls_dropped.fetch_add(1, Relaxed);
    }
    sent
}

/// What a wall shows: a scope live, or a scope as it was at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
enum View {
    Live(Scope),
    Past(Scope, i64),
}

/// Where a wall's frames come from now.
enum Source {
    /// The hub's frames of a live scope.
    Live(broadcast::Receiver<Frame>),
    /// A past state, sent once; heartbeats keep the wall from calling it stale.
    Past(Arc<PastFrames>),
    /// A past state being folded.
    Loading(JoinHandle<Option<Arc<PastFrames>>>),
}

impl Drop for Source {
    fn drop(&mut self) {
        // A fold nobody waits for any more is left to finish for the others sharing it, but
        // this wall's task no longer needs to wait for it.
        if let Source::Loading(task) = self {
            task.abort();
        }
    }
}

impl Wall {
    /// The view a channel's state asks of this wall: its own scope when the channel shows
    /// nothing, or shows a scope the wall's token does not open.
    async fn view_of(&self, control: &ControlState) -> View {
        let Some(shown) = &control.display else {
            return View::Live(self.own.clone());
        };
        if let Err(err) = self.access.check(self.token.as_deref(), &shown.scope).await {
            tracing::info!(wall = %control.wall, scope = %shown.scope, error = %err,
                "a follower's token does not open what its channel shows; it keeps its own scope");
            return View::Live(self.own.clone());
        }
        match shown.at_ms {
            Some(at) => View::Past(shown.scope.clone(), at),
            None => View::Live(shown.scope.clone()),
        }
    }

    /// Starts showing `view`: the hub's hello and snapshot (or the frames a resuming wall
    /// missed) for a live scope, or a fold of the past in the background.
    async fn start(
        &self,
        view: &View,
        resume: Option<Resume>,
        sink: &mut Sink,
    ) -> Result<Source, ()> {
        match view {
            View::Live(scope) => {
                let sub = self
                    .hub
                    .subscribe(scope.clone(), resume)
                    .await
                    .map_err(|_| ())?;
                if sub.resumed {
                    tracing::debug!(missed = sub.initial.len(), "wall resumed where it left off");
                }
                for frame in std::iter::once(sub.hello).chain(sub.initial) {
                    if !send(sink, &self.metrics, frame).await {
                        return Err(());
                    }
                }
                Ok(Source::Live(sub.frames))
            }
            View::Past(scope, at) => {
                let cell = self.controls.past_cell(scope, *at);
                let history = Arc::clone(&self.history);
                let (scope, at) = (scope.clone(), *at);
                Ok(Source::Loading(tokio::spawn(async move {
                    let frames = cell
                        .get_or_try_init(|| past_frames(&history, &scope, at))
                        .await;
                    match frames {
                        Ok(frames) => Some(Arc::clone(frames)),
                        Err(err) => {
                            tracing::warn!(%scope, at, error = %err, "a followed wall's past state failed");
                            None
                        }
                    }
                })))
            }
        }
    }
}

/// The messages of the state of `scope` at `at`: a hello naming a stream of its own, so that
/// no sequence number crosses between the present and the past, and a snapshot.
async fn past_frames(
    history: &History,
    scope: &Scope,
    at: i64,
) -> Result<Arc<PastFrames>, sqlx::Error> {
    let began = std::time::Instant::now();
    let past = history.state_at(scope, at).await?;
    let mut messages = vec![encode(&ServerMsg::Hello {
        protocol: shared::PROTOCOL_VERSION,
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        scope: scope.clone(),
        stream: format!("past-{scope}-{at}"),
    })];
    messages.extend(snapshot_messages(PAST_SEQ, past.log_seq, &past.state));
    tracing::debug!(%scope, at, folded = past.folded, elapsed_ms = began.elapsed().as_millis() as u64,
        "past state ready for followers");
    Ok(Arc::new(PastFrames {
        messages,
        log_seq: past.log_seq,
    }))
}

/// The one frame of a past stream.
const PAST_SEQ: u64 = 1;

async fn send_frames(
    mut sink: Sink,
    wall: Wall,
    resume: Option<Resume>,
    mut follow: Option<Follower>,
    mut resync: mpsc::Receiver<()>,
    shutdown: CancellationToken,
) {
    let metrics = Arc::clone(&wall.metrics);
    // A follower starts with what its channel shows; it resumes only a stream it was on.
    let mut control = None;
    let mut view = View::Live(wall.own.clone());
    if let Some(follower) = &mut follow {
        let state = follower.current();
        view = wall.view_of(&state).await;
        control = Some(state);
    }
    let resume = resume.filter(|_| view == View::Live(wall.own.clone()));
    if let Some(state) = &control
        && !send(&mut sink, &metrics, control_message(state)).await
    {
        return;
    }
    let Ok(mut source) = wall.start(&view, resume, &mut sink).await else {
        return;
    };
    let mut pings = wall.idle.pings();
    let mut rechecks = wall.recheck.ticks();
    let mut heartbeat = tokio::time::interval(Duration::from_secs(1));
    // The ticks missed while the wall showed the present are not made up in a burst when it
    // turns to the past.
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            // Shutdown first: the hub stops on the same signal, and the wall should hear
            // "going away" rather than see its frames simply end.
            biased;
            () = shutdown.cancelled() => break,
            changed = changed(&mut follow, &wall.controls) => {
                let Some(state) = changed else {
                    follow = None;
                    continue;
                };
                // The control message goes first: it is what the wall must show at once.
                metrics.control_sent.fetch_add(1, Relaxed);
                if !send(&mut sink, &metrics, control_message(&state)).await {
                    return;
                }
                let wanted = wall.view_of(&state).await;
                if wanted == view {
                    continue;
                }
                view = wanted;
            }
            _ = pings.tick() => {
                // The wall's answer (a browser pongs by itself) keeps its connection open.
                let ping = sink.send(Message::Ping(axum::body::Bytes::new()));
                if !matches!(tokio::time::timeout(SEND_TIMEOUT, ping).await, Ok(Ok(()))) {
                    metrics.walls_dropped.fetch_add(1, Relaxed);
                    return;
                }
                continue;
            }
            _ = rechecks.tick() => {
                // The token is asked of the database again: a display token revoked or a
                // login ended (in this process or by the command line) closes the wall with
                // a reason it shows; a database that fails to answer closes nothing.
                if let Err(err) = wall.access.recheck(wall.token.as_deref(), &wall.own).await {
                    if let Some(close) = refusal_close(&err) {
                        tracing::info!(scope = %wall.own, code = close.code, reason = %close.reason,
                            "closing a wall whose credential no longer opens it");
                        let bye = sink.send(Message::Close(Some(close)));
                        let _ = tokio::time::timeout(SEND_TIMEOUT, bye).await;
                        return;
                    }
                    tracing::warn!(error = %err, "cannot re-check a wall's credential; trying again later");
                }
                continue;
            }
            Some(()) = resync.recv() => {
                tracing::debug!("wall asked for a snapshot");
                metrics.resyncs_requested.fetch_add(1, Relaxed);
            }
            from = next_from(&mut source) => match from {
                From::Loaded(Some(frames)) => {
                    for message in frames.messages.iter() {
                        if !send(&mut sink, &metrics, message.clone()).await {
                            return;
                        }
                    }
                    source = Source::Past(frames);
                    continue;
                }
                // The fold failed (the log says why): the wall shows its own scope live.
                From::Loaded(None) => view = View::Live(wall.own.clone()),
                From::Frame(Ok(frame)) => {
                    for message in frame.messages.iter() {
                        if !send(&mut sink, &metrics, message.clone()).await {
                            tracing::debug!("wall stopped taking frames; dropping it");
                            return;
                        }
                    }
                    if let Some(committed) = frame.oldest_commit {
                        metrics.observe_latency(committed.elapsed());
                    }
                    continue;
                }
                From::Frame(Err(broadcast::error::RecvError::Lagged(missed))) => {
                    tracing::info!(missed, "wall fell behind; sending a fresh snapshot");
                    metrics.resyncs_lag.fetch_add(1, Relaxed);
                }
                From::Frame(Err(broadcast::error::RecvError::Closed)) => break,
            },
            _ = heartbeat.tick(), if matches!(source, Source::Past(_)) => {
                if let Source::Past(frames) = &source {
                    let beat = encode(&ServerMsg::Heartbeat {
                        server_time_ms: crate::clock::now_ms(),
                        seq: PAST_SEQ,
                        log_seq: frames.log_seq,
                        writes_failing: wall.writes.current(),
                    });
                    if !send(&mut sink, &metrics, beat).await {
                        return;
                    }
                }
                continue;
            }
        }
        // Every branch that did not carry on asks for the current view from its start: a
        // new scope or moment, a gap the wall found, or frames it fell behind on.
        match wall.start(&view, None, &mut sink).await {
            Ok(next) => source = next,
            Err(()) => return,
        }
    }
    let close = CloseFrame {
        code: GOING_AWAY,
        reason: Utf8Bytes::from_static("server shutting down"),
    };
    let _ = sink.send(Message::Close(Some(close))).await;
}

fn control_message(state: &ControlState) -> Utf8Bytes {
    encode(&ServerMsg::Control {
        control: state.clone(),
    })
}

/// The channel's next state; never ready for a wall that follows none. `None` when the
/// channel is gone.
async fn changed(follow: &mut Option<Follower>, controls: &Controls) -> Option<Arc<ControlState>> {
    match follow {
        Some(follower) => follower.changed(controls).await,
        None => std::future::pending().await,
    }
}

/// What a wall's source gave.
enum From {
    /// The past state being folded is ready (or failed: `None`).
    Loaded(Option<Arc<PastFrames>>),
    /// The next live frame.
    Frame(Result<Frame, broadcast::error::RecvError>),
}

/// The next thing the source gives; never ready while a past state is shown.
async fn next_from(source: &mut Source) -> From {
    match source {
        Source::Live(frames) => From::Frame(frames.recv().await),
        Source::Loading(task) => From::Loaded(task.await.ok().flatten()),
        Source::Past(_) => std::future::pending().await,
    }
}
