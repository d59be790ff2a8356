//! `/ws`: one wall's connection, a send task and a receive task joined by `select!`.
//!
//! The send task writes the hello, the snapshot and then every shared frame from the hub.
//! When the wall falls so far behind that the broadcast channel drops frames for it, or when
//! the wall itself reports a gap, the send task resubscribes and writes a fresh snapshot:
//! a wall is never left with a silent gap.

use crate::error::AppError;
use crate::live::{Hub, Resume};
use crate::metrics::{Connected, Metrics};
use crate::tokens::Access;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use shared::case::ApiError;
use shared::wall::{ClientMsg, Scope};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

/// Walls send only tiny control messages; a small read buffer keeps thousands of them cheap
/// (tungstenite's default is 128 KiB per connection).
const READ_BUFFER: usize = 4 * 1024;
const MAX_CLIENT_MESSAGE: usize = 16 * 1024;
/// A wall that cannot take a frame for this long is dropped and left to reconnect.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
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
        (status = 400, description = "An unknown query parameter, `since` not a number, or not a WebSocket handshake (plain text).", body = ApiError),
        (status = 401, description = "Walls need a display token here (outside demo mode) and none was given.", body = ApiError),
        (status = 403, description = "The token does not open this scope.", body = ApiError),
        (status = 404, description = "There is no such district or street.", body = ApiError),
        (status = 422, description = "`scope` is not `city`, `district:CODE` or `street:CODE`.", body = ApiError),
        (status = 503, description = "The live hub has stopped.", body = ApiError),
        (status = 500, description = "The server failed (database or photo storage); the log has the details, the body does not.", body = ApiError),
    ),
    security((), ("display_token" = []), ("bearer" = []))
)]
pub async fn upgrade(
    // The query first, so that a malformed one is named before the upgrade is looked at.
    crate::api::ApiQuery(query): crate::api::ApiQuery<ResumeQuery>,
    headers: axum::http::HeaderMap,
    ws: WebSocketUpgrade,
    State(hub): State<Hub>,
    State(metrics): State<Arc<Metrics>>,
    State(access): State<Arc<Access>>,
    State(shutdown): State<CancellationToken>,
) -> Result<Response, AppError> {
    let scope = parse_scope(query.scope.as_deref())?;
    access
        .check(token_of(query.token.as_deref(), &headers), &scope)
        .await?;
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
    Ok(ws
        .read_buffer_size(READ_BUFFER)
        // Frames are written as they come rather than gathered in a 128 KiB buffer.
        .write_buffer_size(0)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| serve_wall(socket, hub, metrics, scope, resume, shutdown)))
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
}

impl ResumeQuery {
    fn resume(&self) -> Option<Resume> {
        Some(Resume {
            stream: self.stream.clone()?,
            since: self.since?,
        })
    }
}

/// The display token of a request: the `token` query parameter (browsers cannot set headers
/// on a WebSocket), or else an `Authorization: Bearer` header.
pub fn token_of<'a>(query: Option<&'a str>, headers: &'a axum::http::HeaderMap) -> Option<&'a str> {
    query.or_else(|| {
        headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
    })
}

/// The scope named by a `scope` query parameter; the city when there is none.
pub fn parse_scope(scope: Option<&str>) -> Result<Scope, AppError> {
    match scope {
        None => Ok(Scope::City),
        Some(text) => Scope::parse(text).map_err(|e| AppError::invalid("scope", e)),
    }
}

async fn serve_wall(
    socket: WebSocket,
    hub: Hub,
    metrics: Arc<Metrics>,
    scope: Scope,
    resume: Option<Resume>,
    shutdown: CancellationToken,
) {
    let _connected = Connected::new(metrics.clone(), &scope);
    let (sink, mut stream) = socket.split();
    let (resync_tx, resync_rx) = mpsc::channel::<()>(1);
    let mut send_task = tokio::spawn(send_frames(
        sink, hub, metrics, scope, resume, resync_rx, shutdown,
    ));
    let mut recv_task = tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            match msg {
                Message::Text(text) => match serde_json::from_str::<ClientMsg>(&text) {
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

async fn send_frames(
    mut sink: Sink,
    hub: Hub,
    metrics: Arc<Metrics>,
    scope: Scope,
    resume: Option<Resume>,
    mut resync: mpsc::Receiver<()>,
    shutdown: CancellationToken,
) {
    let Ok(sub) = hub.subscribe(scope.clone(), resume).await else {
        return;
    };
    if sub.resumed {
        tracing::debug!(missed = sub.initial.len(), "wall resumed where it left off");
    }
    if !send(&mut sink, &metrics, sub.hello).await {
        return;
    }
    for frame in sub.initial {
        if !send(&mut sink, &metrics, frame).await {
            return;
        }
    }
    let mut frames = sub.frames;
    loop {
        let resubscribe = tokio::select! {
            // Shutdown first: the hub stops on the same signal, and the wall should hear
            // "going away" rather than see its frames simply end.
            biased;
            () = shutdown.cancelled() => break,
            Some(()) = resync.recv() => {
                tracing::debug!("wall asked for a snapshot");
                metrics.resyncs_requested.fetch_add(1, Relaxed);
                true
            }
            frame = frames.recv() => match frame {
                Ok(frame) => {
                    for message in frame.messages.iter() {
                        if !send(&mut sink, &metrics, message.clone()).await {
                            tracing::debug!("wall stopped taking frames; dropping it");
                            return;
                        }
                    }
                    if let Some(committed) = frame.oldest_commit {
                        metrics.observe_latency(committed.elapsed());
                    }
                    false
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::info!(missed, "wall fell behind; sending a fresh snapshot");
                    metrics.resyncs_lag.fetch_add(1, Relaxed);
                    true
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
        };
        if resubscribe {
            let Ok(sub) = hub.subscribe(scope.clone(), None).await else {
                return;
            };
            frames = sub.frames;
            for frame in sub.initial {
                if !send(&mut sink, &metrics, frame).await {
                    return;
                }
            }
        }
    }
    let close = CloseFrame {
        code: GOING_AWAY,
        reason: Utf8Bytes::from_static("server shutting down"),
    };
    let _ = sink.send(Message::Close(Some(close))).await;
}
