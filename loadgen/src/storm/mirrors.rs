//! The storm's walls: each keeps a mirror of the scope's state in step over its own socket,
//! through gaps, snapshots and reconnections, and counts what it went through.

use super::Phase;
use crate::rng::Rng;
use futures_util::{SinkExt, StreamExt};
use shared::wall::{Applied, Mirror, ServerMsg, WallView};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// What the quiescence wait reads of each wall while it runs.
struct Progress {
    /// The mirror's `seq`, or `NONE` while it has no sequence number.
    seq: AtomicU64,
    log_seq: AtomicU64,
    /// A hash of the stream the mirror's sequence number belongs to.
    stream: AtomicU64,
}

const NONE: u64 = u64::MAX;

/// What every wall of the run shares: where it connects, when the run started, and each
/// wall's progress for the quiescence wait.
pub(super) struct Ctx {
    ws_url: String,
    pub(super) start: Instant,
    progress: Vec<Progress>,
}

impl Ctx {
    /// The context of `walls` walls on `ws_url`, none of them with a sequence number yet.
    pub(super) fn new(ws_url: String, walls: usize) -> Ctx {
        Ctx {
            ws_url,
            start: Instant::now(),
            progress: (0..walls)
                .map(|_| Progress {
                    seq: AtomicU64::new(NONE),
                    log_seq: AtomicU64::new(0),
                    stream: AtomicU64::new(0),
                })
                .collect(),
        }
    }
}

/// What one wall did over the run.
#[derive(Debug, Default)]
pub(super) struct WallCounts {
    /// Times the wall found a gap and asked for a snapshot.
    pub(super) gaps: u32,
    /// Frames that were gaps, counting those that came while a snapshot was on its way.
    pub(super) gap_frames: u32,
    pub(super) snapshots: u32,
    /// Reconnections the server resumed with the missed deltas instead of a snapshot.
    pub(super) resumes: u32,
    /// Connections after the first.
    pub(super) reconnects: u32,
    pub(super) connect_failures: u32,
    pub(super) frames: u64,
    pub(super) last_error: Option<String>,
    /// When (milliseconds since the start) the wall was in step on each connection: its
    /// snapshot applied, or the first frame of a resumed stream applied.
    pub(super) synced_ms: Vec<u64>,
}

/// A wall at the end of the run: its mirror, to be compared with the server's state, and
/// its counters.
pub(super) struct WallOutcome {
    pub(super) stalled: bool,
    pub(super) mirror: Mirror,
    pub(super) counts: WallCounts,
}

/// How many walls are not yet at the state `view` shows.
pub(super) fn behind(ctx: &Ctx, view: &WallView) -> usize {
    let streams: std::collections::HashSet<u64> = ctx
        .progress
        .iter()
        .map(|p| p.stream.load(Relaxed))
        .collect();
    ctx.progress
        .iter()
        .filter(|p| {
            p.seq.load(Relaxed) != view.seq
                || p.log_seq.load(Relaxed) != view.log_seq
                // Walls on two streams cannot all be in step, whatever their numbers say.
                || streams.len() != 1
        })
        .count()
}

/// One wall: a mirror kept in step across reconnections until the phase says stop.
pub(super) async fn wall(
    index: usize,
    ctx: Arc<Ctx>,
    stalled: bool,
    mut phase: watch::Receiver<Phase>,
    ready: mpsc::Sender<Result<(), String>>,
) -> WallOutcome {
    let mut mirror = Mirror::default();
    let mut counts = WallCounts::default();
    let mut ready = Some(ready);
    let mut connections = 0u32;
    let mut backoff = Duration::from_millis(100);
    let mut rng = Rng::new(index as u64 ^ 0x9e37_79b9);
    // The server's frames are small except the snapshot; 4 KiB read buffers keep a thousand
    // walls cheap, as in `walls`.
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(Some(256 << 20))
        .max_frame_size(Some(256 << 20));
    loop {
        if *phase.borrow() == Phase::Stop {
            break;
        }
        let url = match (&mirror.stream, mirror.seq) {
            (Some(stream), Some(seq)) => format!("{}&stream={stream}&since={seq}", ctx.ws_url),
            _ => ctx.ws_url.clone(),
        };
        let resuming = mirror.seq.is_some();
        let connect = tokio::time::timeout(
            Duration::from_secs(10),
            tokio_tungstenite::connect_async_with_config(url, Some(config), true),
        );
        let connected = tokio::select! {
            _ = phase.wait_for(|&p| p == Phase::Stop) => break,
            connected = connect => connected,
        };
        let mut ws = match connected {
            Ok(Ok((ws, _))) => ws,
            failed => {
                counts.connect_failures += 1;
                let reason = match failed {
                    Ok(Err(err)) => format!("connect: {err}"),
                    _ => "connect: timed out".to_owned(),
                };
                if let Some(ready) = ready.take() {
                    let _ = ready.send(Err(reason.clone())).await;
                }
                counts.last_error = Some(reason);
                // Jitter spreads a thousand walls' retries over the backoff.
                let wait =
                    backoff + Duration::from_millis(rng.below(backoff.as_millis() as usize) as u64);
                backoff = (backoff * 2).min(Duration::from_secs(2));
                tokio::select! {
                    _ = phase.wait_for(|&p| p == Phase::Stop) => break,
                    () = tokio::time::sleep(wait) => continue,
                }
            }
        };
        connections += 1;
        if connections > 1 {
            counts.reconnects += 1;
        }
        backoff = Duration::from_millis(100);
        let ended = read_connection(
            &mut ws,
            &ctx,
            index,
            stalled,
            resuming,
            &mut phase,
            &mut mirror,
            &mut counts,
            &mut ready,
        )
        .await;
        match ended {
            Ok(()) => {
                let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
                break;
            }
            Err(reason) => {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(Err(reason.clone())).await;
                }
                counts.last_error = Some(reason);
                // A server that went away takes a moment to come back; the jitter keeps a
                // thousand walls from knocking at the same instant.
                let wait = Duration::from_millis(50 + rng.below(450) as u64);
                tokio::select! {
                    _ = phase.wait_for(|&p| p == Phase::Stop) => break,
                    () = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
    WallOutcome {
        stalled,
        mirror,
        counts,
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Reads one connection until the phase says stop (`Ok`) or the connection ends (`Err`).
#[allow(clippy::too_many_arguments)]
async fn read_connection(
    ws: &mut Ws,
    ctx: &Ctx,
    index: usize,
    stalled: bool,
    resuming: bool,
    phase: &mut watch::Receiver<Phase>,
    mirror: &mut Mirror,
    counts: &mut WallCounts,
    ready: &mut Option<mpsc::Sender<Result<(), String>>>,
) -> Result<(), String> {
    let progress = &ctx.progress[index];
    let mut in_step = false;
    let mut asked = false;
    loop {
        if stalled && *phase.borrow() == Phase::Storm {
            // Hold the socket unread: the server's frames pile up in the kernel's buffers
            // and then in the server, which must either keep them or give up on the wall.
            let _ = phase.wait_for(|&p| p >= Phase::Settle).await;
        }
        let msg = tokio::select! {
            biased;
            _ = phase.wait_for(|&p| p == Phase::Stop) => return Ok(()),
            msg = ws.next() => msg,
        };
        let text = match msg {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => {
                return Err(match frame {
                    Some(f) => format!("closed by the server: {} {}", f.code, f.reason),
                    None => "closed by the server".to_owned(),
                });
            }
            Some(Ok(_)) => continue,
            Some(Err(err)) => return Err(format!("socket error: {err}")),
            None => return Err("the connection ended".to_owned()),
        };
        counts.frames += 1;
        let msg = parse_frame(text.as_str()).map_err(|e| format!("bad frame: {e}"))?;
        let applied = mirror.apply(&msg);
        let synced = match (&msg, applied) {
            (ServerMsg::Snapshot { .. }, _) => {
                counts.snapshots += 1;
                asked = false;
                true
            }
            (ServerMsg::Delta { .. } | ServerMsg::Heartbeat { .. }, Applied::Updated) => {
                if resuming && !in_step && counts.snapshots > 0 {
                    // The first frame of a resumed stream applied without a snapshot.
                    counts.resumes += 1;
                }
                true
            }
            (_, Applied::Gap) => {
                counts.gap_frames += 1;
                if !asked {
                    asked = true;
                    counts.gaps += 1;
                    ws.send(Message::text(r#"{"type":"snapshot"}"#))
                        .await
                        .map_err(|e| format!("asking for a snapshot: {e}"))?;
                }
                false
            }
            _ => false,
        };
        if synced && !in_step {
            in_step = true;
            counts
                .synced_ms
                .push(ctx.start.elapsed().as_millis() as u64);
            if let Some(ready) = ready.take() {
                let _ = ready.send(Ok(())).await;
            }
        }
        progress.seq.store(mirror.seq.unwrap_or(NONE), Relaxed);
        progress.log_seq.store(mirror.log_seq, Relaxed);
        progress
            .stream
            .store(hash(mirror.stream.as_deref()), Relaxed);
    }
}

/// Parses a frame of the wall stream.
fn parse_frame(text: &str) -> serde_json::Result<ServerMsg> {
    serde_json::from_str(text)
}

fn hash(stream: Option<&str>) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    stream.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_with_warnings_parse() {
        let mut state = shared::wall::WallState::default();
        state.warnings.insert(
            shared::wall::Warning::key(60),
            shared::wall::Warning {
                case_id: 60,
                level: shared::wall::WarningLevel::Overdue,
                category: "ecology".into(),
                sub_item: None,
                grid_id: None,
                department: None,
                deadline_ms: None,
                updated_ms: 0,
            },
        );
        let snapshot = ServerMsg::Snapshot {
            seq: 1,
            log_seq: 2,
            server_time_ms: 3,
            state,
        };
        let text = serde_json::to_string(&snapshot).expect("json");
        assert_eq!(parse_frame(&text).expect("a snapshot"), snapshot);
        let heartbeat = r#"{"type":"heartbeat","server_time_ms":7,"seq":3,"log_seq":2}"#;
        assert!(matches!(
            parse_frame(heartbeat).expect("a heartbeat"),
            ServerMsg::Heartbeat { seq: 3, .. }
        ));
    }
}
