//! `gridwall-load walls`: many walls on `/ws` while cases are reported at a steady rate;
//! measures the server's memory per wall and the report-to-wall latency seen by every wall.

use crate::api_client::{Api, Credentials};
use crate::stats::{Histogram, rss_kib};
use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

#[derive(Debug, clap::Args)]
pub(crate) struct WallsArgs {
    #[command(flatten)]
    credentials: Credentials,
    /// How many walls to connect.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Cases reported per second once every wall is connected.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// For how many seconds cases are reported (0: only connect and measure memory).
    #[arg(long, default_value_t = 30.0)]
    seconds: f64,
    /// Sent as `?scope=` only when given, so that servers that do not know it are not asked.
    #[arg(long)]
    scope: Option<String>,
    /// The server's process id, for its resident memory before and after the walls connect.
    #[arg(long)]
    server_pid: Option<u32>,
    /// How many of the walls stop reading their socket after their snapshot; they are left
    /// out of the latency figures, which show whether they slowed the others down.
    #[arg(long, default_value_t = 0)]
    stall: usize,
    /// How many walls connect at once during the ramp; each batch waits for its snapshots.
    /// The server listens with a backlog of 128 (tokio's `TcpListener::bind`), and batches
    /// larger than that overflow it while the accept loop is busy: SYNs retried after 1 s.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// How long to wait, after the last report's answer, for every wall to see it.
    #[arg(long, default_value_t = 10.0)]
    grace: f64,
    /// A flood of wrong passwords while the cases are reported.
    #[command(flatten)]
    flood: crate::flood::FloodArgs,
}

/// The few fields of a server message that the measurement reads; `state` and `changes` are
/// skipped unparsed, which keeps thousands of walls cheap for the load generator itself.
#[derive(Debug, serde::Deserialize)]
struct ServerMsgHead {
    #[serde(rename = "type")]
    kind: String,
    protocol: Option<u32>,
    seq: Option<u64>,
    prev_seq: Option<u64>,
    /// Protocol 2: the last transition folded into the frame. Protocol 1 has only `seq`,
    /// which is then the transition's sequence number itself.
    log_seq: Option<u64>,
}

impl ServerMsgHead {
    fn log_seq(&self) -> Option<u64> {
        self.log_seq.or(self.seq)
    }
}

/// What one wall saw. Arrivals are kept as (transition seq, microseconds since the start)
/// pairs of 8 bytes, one per frame that advanced the wall, and matched with the reports at
/// the end: a frame may arrive before the report's answer, so matching live would race.
#[derive(Debug, Default)]
struct WallRecord {
    arrivals: Vec<(u32, u32)>,
    protocol: Option<u32>,
    snapshots: u32,
    gaps: u32,
    heartbeats: u32,
    stalled: bool,
    /// For a stalled wall: frames still queued for it when it finally read.
    drained: u32,
    /// Why the connection ended before the run did, if it did.
    dropped: Option<String>,
    /// The length of the first snapshot's text, with its parts, in bytes.
    snapshot_bytes: usize,
}

impl WallRecord {
    fn arrive(&mut self, log_seq: u64, at: Duration) {
        let log_seq = u32::try_from(log_seq).unwrap_or(u32::MAX);
        let at = u32::try_from(at.as_micros()).unwrap_or(u32::MAX);
        if self.arrivals.last().is_none_or(|&(last, _)| log_seq > last) {
            self.arrivals.push((log_seq, at));
        }
    }

    /// When the first frame covering transition `seq` arrived, in microseconds.
    fn arrival_of(&self, seq: u64) -> Option<u32> {
        let seq = u32::try_from(seq).unwrap_or(u32::MAX);
        let i = self.arrivals.partition_point(|&(log, _)| log < seq);
        self.arrivals.get(i).map(|&(_, at)| at)
    }
}

/// Marks a wall that has left (dropped or stalled) in `progress`, so that the wait for
/// every wall to catch up does not wait for it.
const GONE: u64 = u64::MAX;

struct Shared {
    start: Instant,
    /// Each wall's last transition seq seen, for the wait at the end.
    progress: Vec<AtomicU64>,
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn run(base: &str, args: WallsArgs) -> anyhow::Result<()> {
    if args.stall > args.clients {
        bail!("--stall cannot exceed --clients");
    }
    let api = Api::connect(base, 64, &args.credentials).await?;
    let ws_url = ws_url(api.base(), args.scope.as_deref())?;
    let rss_before = match args.server_pid {
        Some(pid) => Some(rss_kib(Some(pid))?),
        None => None,
    };
    let self_before = rss_kib(None)?;
    let shared = Arc::new(Shared {
        start: Instant::now(),
        progress: (0..args.clients).map(|_| AtomicU64::new(0)).collect(),
    });
    let (stop_tx, stop_rx) = watch::channel(false);

    // The ramp: a batch at a time, each waiting for its snapshots, so that the server's
    // accept queue and snapshot serialisation are never asked for thousands at once.
    let ramp_start = Instant::now();
    let mut handles = Vec::with_capacity(args.clients);
    let mut failed = 0usize;
    let mut first_error = None;
    let batch = args.batch.max(1);
    let mut next = 0;
    let mut slowest = Duration::ZERO;
    while next < args.clients {
        let batch_start = Instant::now();
        let end = (next + batch).min(args.clients);
        let (ready_tx, mut ready_rx) = mpsc::channel::<Result<(), String>>(end - next);
        for index in next..end {
            // The last walls stall, so that the first ones, connected earliest, are measured.
            let stalled = index >= args.clients - args.stall;
            handles.push(tokio::spawn(wall(
                index,
                ws_url.clone(),
                shared.clone(),
                ready_tx.clone(),
                stop_rx.clone(),
                stalled,
            )));
        }
        drop(ready_tx);
        while let Some(ready) = ready_rx.recv().await {
            if let Err(err) = ready {
                failed += 1;
                first_error.get_or_insert(err);
            }
        }
        next = end;
        slowest = slowest.max(batch_start.elapsed());
    }
    let ramp = ramp_start.elapsed();
    println!(
        "ramp: {} walls connected with snapshots in {:.2} s ({:.0} walls/s, batches of {batch}, slowest batch {:.2} s); {failed} failed{}",
        args.clients - failed,
        ramp.as_secs_f64(),
        (args.clients - failed) as f64 / ramp.as_secs_f64(),
        slowest.as_secs_f64(),
        first_error
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    );
    // A moment for the server to settle (buffers freed after the snapshots were written).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let connected = args.clients - failed;
    if let (Some(pid), Some(before)) = (args.server_pid, rss_before) {
        let after = rss_kib(Some(pid))?;
        println!(
            "server RSS: {before} KiB before, {after} KiB with {connected} walls: {:.1} KiB per wall",
            after.saturating_sub(before) as f64 / connected.max(1) as f64
        );
    }
    let self_after = rss_kib(None)?;
    println!(
        "load generator RSS: {self_before} KiB before, {self_after} KiB after: {:.1} KiB per wall",
        self_after.saturating_sub(self_before) as f64 / connected.max(1) as f64
    );

    let (flood_stop, flood_stopped) = watch::channel(false);
    let flood = tokio::spawn(crate::flood::run(
        api.base().to_owned(),
        args.flood.clone(),
        flood_stopped,
    ));
    let cases = report_steadily(&api, &shared, args.rate, args.seconds).await;
    let _ = flood_stop.send(true);
    let (tally, ran) = flood.await.context("the login flood panicked")??;
    if args.flood.login_flood > 0.0 {
        println!("{}", crate::flood::summary(&tally, ran));
    }
    let posted = cases.len();
    let max_seq = cases.iter().map(|&(seq, _)| seq).max().unwrap_or(0);

    // Wait for every wall still reading to see the last report, up to the grace period.
    let grace_start = Instant::now();
    let grace = Duration::from_secs_f64(args.grace);
    while grace_start.elapsed() < grace
        && shared
            .progress
            .iter()
            .any(|p| p.load(Relaxed) != GONE && p.load(Relaxed) < max_seq)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_tx.send(true);
    let mut records = Vec::with_capacity(handles.len());
    for handle in handles {
        records.push(handle.await.context("a wall's task panicked")?);
    }
    if let Some(pid) = args.server_pid {
        println!("server RSS after the run: {} KiB", rss_kib(Some(pid))?);
    }
    summarise(&records, &cases, posted);
    print_server_metrics(&api).await;
    Ok(())
}

fn ws_url(base: &str, scope: Option<&str>) -> anyhow::Result<String> {
    let rest = if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else {
        bail!("--url must start with http:// or https://, not `{base}`");
    };
    Ok(match scope {
        Some(scope) => format!("{rest}/ws?scope={scope}"),
        None => format!("{rest}/ws"),
    })
}

/// Reports `rate` cases a second for `seconds`, each from its own task so that a slow answer
/// never holds back the next report (an open loop, like grid workers in the street).
/// Returns each case's transition seq and when its POST was sent, in microseconds.
async fn report_steadily(api: &Api, shared: &Shared, rate: f64, seconds: f64) -> Vec<(u64, u32)> {
    let total = (rate * seconds).round() as usize;
    if total == 0 {
        return Vec::new();
    }
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let mut tasks = Vec::with_capacity(total);
    let begun = Instant::now();
    for _ in 0..total {
        tick.tick().await;
        let api = api.clone();
        let start = shared.start;
        tasks.push(tokio::spawn(async move {
            let sent = start.elapsed();
            let reported = api.report().await;
            (reported, sent, start.elapsed() - sent)
        }));
    }
    let mut cases = Vec::with_capacity(total);
    let mut round_trips = Histogram::new();
    let mut errors = 0;
    for task in tasks {
        match task.await {
            Ok((Ok(reported), sent, took)) => {
                round_trips.record_duration(took);
                cases.push((
                    reported.seq,
                    u32::try_from(sent.as_micros()).unwrap_or(u32::MAX),
                ));
            }
            Ok((Err(err), _, _)) => {
                if errors == 0 {
                    eprintln!("a report failed: {err:#}");
                }
                errors += 1;
            }
            Err(err) => {
                eprintln!("a report task failed: {err}");
                errors += 1;
            }
        }
    }
    let spent = begun.elapsed().as_secs_f64();
    println!(
        "reports: {} answered, {errors} failed, in {spent:.1} s ({:.1}/s); POST round trip {round_trips}",
        cases.len(),
        cases.len() as f64 / spent
    );
    cases
}

async fn wall(
    index: usize,
    url: String,
    shared: Arc<Shared>,
    ready: mpsc::Sender<Result<(), String>>,
    mut stop: watch::Receiver<bool>,
    stalled: bool,
) -> WallRecord {
    let mut record = WallRecord {
        stalled,
        ..WallRecord::default()
    };
    // The server's frames are small except the snapshot; a 4 KiB read buffer instead of
    // 128 KiB keeps 10,000 walls in a few tens of MiB on the load generator's side.
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0);
    let mut ws = match tokio_tungstenite::connect_async_with_config(url, Some(config), true).await {
        Ok((ws, _)) => ws,
        Err(err) => {
            record.dropped = Some(format!("connect: {err}"));
            shared.progress[index].store(GONE, Relaxed);
            let _ = ready.send(Err(format!("connect: {err}"))).await;
            return record;
        }
    };
    // Up to the first snapshot, the wall is ramping up. A large snapshot comes as parts
    // first; its size is theirs and its own together.
    let mut parts_bytes = 0;
    let mut last_seq = loop {
        match read_msg_head(&mut ws).await {
            Ok((frame, len)) => {
                let at = shared.start.elapsed();
                match frame.kind.as_str() {
                    "hello" => record.protocol = frame.protocol,
                    "part" => parts_bytes += len,
                    "snapshot" => {
                        record.snapshots += 1;
                        record.snapshot_bytes = parts_bytes + len;
                        let log = frame.log_seq().unwrap_or(0);
                        record.arrive(log, at);
                        shared.progress[index].store(log, Relaxed);
                        break frame.seq.unwrap_or(0);
                    }
                    _ => {}
                }
            }
            Err(err) => {
                record.dropped = Some(err.clone());
                shared.progress[index].store(GONE, Relaxed);
                let _ = ready.send(Err(err)).await;
                return record;
            }
        }
    };
    let _ = ready.send(Ok(())).await;
    drop(ready);
    if stalled {
        shared.progress[index].store(GONE, Relaxed);
        let _ = stop.wait_for(|&s| s).await;
        drain_stalled(&mut ws, &mut record).await;
        return record;
    }
    loop {
        let frame = tokio::select! {
            _ = stop.wait_for(|&s| s) => break,
            frame = read_msg_head(&mut ws) => frame,
        };
        let at = shared.start.elapsed();
        let frame = match frame {
            Ok((frame, _)) => frame,
            Err(err) => {
                record.dropped = Some(err);
                shared.progress[index].store(GONE, Relaxed);
                break;
            }
        };
        match frame.kind.as_str() {
            "snapshot" => {
                record.snapshots += 1;
                last_seq = frame.seq.unwrap_or(last_seq);
                let log = frame.log_seq().unwrap_or(0);
                record.arrive(log, at);
                shared.progress[index].store(log, Relaxed);
            }
            "delta" => {
                let (prev, seq) = (frame.prev_seq.unwrap_or(0), frame.seq.unwrap_or(0));
                if prev > last_seq {
                    // A gap: do what a wall does, ask for a snapshot, and take nothing from
                    // this delta, since the wall could not have applied it.
                    record.gaps += 1;
                    let ask = Message::text(r#"{"type":"snapshot"}"#);
                    if let Err(err) = ws.send(ask).await {
                        record.dropped = Some(format!("asking for a snapshot: {err}"));
                        shared.progress[index].store(GONE, Relaxed);
                        break;
                    }
                } else if seq > last_seq {
                    last_seq = seq;
                    let log = frame.log_seq().unwrap_or(0);
                    record.arrive(log, at);
                    shared.progress[index].store(log, Relaxed);
                }
            }
            "heartbeat" => record.heartbeats += 1,
            // `part`s belong to the frame that follows them, which carries the sequence;
            // `alert` and anything newer are not part of the sequence.
            _ => {}
        }
    }
    record
}

/// Reads what a stalled wall left queued, to tell whether the server kept it (frames, then
/// silence) or gave up on it (a close, or a fresh snapshot after it fell behind).
async fn drain_stalled(ws: &mut Ws, record: &mut WallRecord) {
    loop {
        match tokio::time::timeout(Duration::from_millis(500), read_msg_head(ws)).await {
            Err(_) => return,
            Ok(Ok((frame, _))) => {
                record.drained += 1;
                if frame.kind == "snapshot" {
                    record.snapshots += 1;
                }
            }
            Ok(Err(err)) => {
                record.dropped = Some(err);
                return;
            }
        }
    }
}

/// The next text frame, parsed, with its length in bytes; pings are answered by tungstenite
/// itself.
async fn read_msg_head(ws: &mut Ws) -> Result<(ServerMsgHead, usize), String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => {
                let frame =
                    serde_json::from_str(text.as_str()).map_err(|e| format!("bad frame: {e}"))?;
                return Ok((frame, text.len()));
            }
            Some(Ok(Message::Close(frame))) => {
                return Err(match frame {
                    Some(f) => format!("closed by the server: {} {}", f.code, f.reason),
                    None => "closed by the server".to_owned(),
                });
            }
            Some(Ok(_)) => {}
            Some(Err(err)) => return Err(format!("socket error: {err}")),
            None => return Err("the connection ended".to_owned()),
        }
    }
}

fn summarise(records: &[WallRecord], cases: &[(u64, u32)], posted: usize) {
    let mut latency = Histogram::new();
    let mut missed_walls = Vec::new();
    let mut missed_total = 0u64;
    let (mut resynced, mut gaps, mut heartbeats) = (0usize, 0u64, 0u64);
    let mut dropped = Vec::new();
    let mut protocols = std::collections::BTreeMap::new();
    let mut stalled = Vec::new();
    for (index, record) in records.iter().enumerate() {
        *protocols.entry(record.protocol).or_insert(0usize) += 1;
        if record.stalled {
            stalled.push((index, record));
            continue;
        }
        if record.snapshots > 1 {
            resynced += 1;
        }
        gaps += u64::from(record.gaps);
        heartbeats += u64::from(record.heartbeats);
        if let Some(reason) = &record.dropped {
            dropped.push((index, reason.as_str()));
        }
        if record.arrivals.is_empty() {
            continue;
        }
        let mut missed = 0u64;
        for &(seq, sent) in cases {
            match record.arrival_of(seq) {
                Some(at) => latency.record(u64::from(at.saturating_sub(sent))),
                None => missed += 1,
            }
        }
        if missed > 0 {
            missed_walls.push((index, missed));
            missed_total += missed;
        }
    }
    let measured = records.iter().filter(|r| !r.stalled).count();
    let sizes = records.iter().map(|r| r.snapshot_bytes).filter(|&n| n > 0);
    if let (Some(min), Some(max)) = (sizes.clone().min(), sizes.max()) {
        println!("first snapshot frame: {min} to {max} bytes of JSON text");
    }
    println!(
        "protocols seen in hello: {}",
        protocols
            .iter()
            .map(|(p, n)| format!(
                "{}: {n}",
                p.map_or_else(|| "none".to_owned(), |p| p.to_string())
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("report-to-wall latency over {measured} walls x {posted} cases: {latency}");
    println!(
        "every wall got every case: {}; walls that missed one: {} ({missed_total} wall-cases missed)",
        if missed_walls.is_empty() && dropped.is_empty() {
            "yes"
        } else {
            "NO"
        },
        missed_walls.len()
    );
    for (index, missed) in missed_walls.iter().take(10) {
        println!("  wall {index} missed {missed} cases");
    }
    println!(
        "walls resynced (a snapshot after the first): {resynced}; gaps seen: {gaps}; dropped: {}; heartbeats: {:.1} per wall",
        dropped.len(),
        heartbeats as f64 / measured.max(1) as f64
    );
    for (index, reason) in dropped.iter().take(10) {
        println!("  wall {index} dropped: {reason}");
    }
    if !stalled.is_empty() {
        let closed = stalled.iter().filter(|(_, r)| r.dropped.is_some()).count();
        let resnapped = stalled.iter().filter(|(_, r)| r.snapshots > 1).count();
        let drained: u64 = stalled.iter().map(|(_, r)| u64::from(r.drained)).sum();
        println!(
            "stalled walls: {}; frames still queued for them at the end: {drained} ({:.0} each); closed by the server: {closed}; sent a fresh snapshot: {resnapped}",
            stalled.len(),
            drained as f64 / stalled.len() as f64
        );
        if let Some((index, record)) = stalled.iter().find(|(_, r)| r.dropped.is_some()) {
            println!(
                "  stalled wall {index}: {}",
                record.dropped.as_deref().unwrap_or_default()
            );
        }
    }
    if let Some(first) = cases.first() {
        println!(
            "cases' seqs: {}..={}",
            first.0,
            cases.iter().map(|c| c.0).max().unwrap_or(first.0)
        );
    }
}

/// The server's own counters of walls, resyncs and drops, when it has `/metrics`.
async fn print_server_metrics(api: &Api) {
    let url = format!("{}/metrics", api.base());
    let Ok(response) = reqwest::get(&url).await else {
        return;
    };
    let Ok(text) = response.text().await else {
        return;
    };
    let wanted = ["wall", "resync", "dropped", "frames", "bytes", "latency"];
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && wanted.iter().any(|w| l.contains(w)))
        .filter(|l| !l.contains("_bucket"))
        .collect();
    if !lines.is_empty() {
        println!("server /metrics:");
        for line in lines {
            println!("  {line}");
        }
    }
}
