//! `gridwall-load storm`: a thousand walls keep their mirrors of the state in step through an
//! alarm storm, a graceful restart of the server in the middle of it, and walls that stop
//! reading; at the end every wall's state must equal the server's.

use crate::http::{Api, Credentials};
use crate::stats::{Histogram, Micros};
use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use shared::case::Action;
use shared::wall::{Applied, Mirror, ServerMsg, WallView};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::process::{Child, ExitStatus};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

#[derive(Debug, clap::Args)]
pub struct StormArgs {
    /// The `gridwall` binary to start, stop and start again.
    #[arg(long)]
    server_bin: PathBuf,
    /// The demo accounts' password, given to the server (`--demo-password`) and used to sign
    /// in as its dispatcher.
    #[arg(long, default_value = "storm-demo")]
    demo_password: String,
    /// The server's database; the first start builds the demo city into an empty one.
    #[arg(long)]
    database_url: String,
    /// Where the server listens, the same address before and after the restart.
    #[arg(long, default_value = "127.0.0.1:18090")]
    addr: String,
    /// How many walls keep a mirror of the state.
    #[arg(long, default_value_t = 1000)]
    walls: usize,
    /// How many of the walls stop reading their socket while the storm lasts.
    #[arg(long, default_value_t = 5)]
    stalled: usize,
    /// How many reports the storm sends.
    #[arg(long, default_value_t = 5000)]
    storm: usize,
    /// How many requests of the storm are in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Every Nth reported case is also dispatched (0: reports only).
    #[arg(long, default_value_t = 4)]
    dispatch_every: usize,
    /// The scope every wall watches and `/api/wall` is compared in.
    #[arg(long, default_value = "city")]
    scope: String,
    /// After what share of the storm's reports the server is restarted.
    #[arg(long, default_value_t = 0.5)]
    restart_at: f64,
    /// Run the storm without restarting the server.
    #[arg(long)]
    no_restart: bool,
    /// How long, in seconds, the walls may take to catch up once the storm is over.
    #[arg(long, default_value_t = 60.0)]
    settle: f64,
    /// How many walls connect at once during the ramp.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Where the server's output goes (appended); a file in the temporary directory if absent.
    #[arg(long)]
    server_log: Option<PathBuf>,
    /// Finally run `gridwall check` on the scope: the live state against the tables.
    #[arg(long)]
    check: bool,
}

/// The sub-items the storm reports: three kinds of one category, few enough that grids hit
/// repeatedly become hotspots (three of a sub-item in a grid within 24 hours).
const CATEGORY: &str = "municipal_facilities";
const SUB_ITEMS: [&str; 3] = ["0801", "0803", "0806"];
/// Half of the reports fall into this many grids, so that hotspots form; the rest spread
/// over the whole city, which makes districts surge.
const HOT_GRIDS: usize = 40;

/// The storm's phases, which the walls watch: stalled walls stop reading during `Storm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Ramp,
    Storm,
    Settle,
    Stop,
}

/// What the quiescence wait reads of each wall while it runs.
struct Progress {
    /// The mirror's `seq`, or `NONE` while it has no sequence number.
    seq: AtomicU64,
    log_seq: AtomicU64,
    /// A hash of the stream the mirror's sequence number belongs to.
    stream: AtomicU64,
}

const NONE: u64 = u64::MAX;

struct Ctx {
    ws_url: String,
    start: Instant,
    progress: Vec<Progress>,
}

/// What one wall did over the run.
#[derive(Debug, Default)]
struct WallCounts {
    /// Times the wall found a gap and asked for a snapshot.
    gaps: u32,
    /// Frames that were gaps, counting those that came while a snapshot was on its way.
    gap_frames: u32,
    snapshots: u32,
    /// Reconnections the server resumed with the missed deltas instead of a snapshot.
    resumes: u32,
    /// Connections after the first.
    reconnects: u32,
    connect_failures: u32,
    frames: u64,
    last_error: Option<String>,
    /// When (milliseconds since the start) the wall was in step on each connection: its
    /// snapshot applied, or the first frame of a resumed stream applied.
    synced_ms: Vec<u64>,
}

struct WallOutcome {
    stalled: bool,
    mirror: Mirror,
    counts: WallCounts,
}

pub async fn run(args: StormArgs) -> anyhow::Result<()> {
    if args.stalled > args.walls {
        bail!("--stalled cannot exceed --walls");
    }
    let base = format!("http://{}", args.addr);
    let log = args
        .server_log
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("gridwall-storm-server.log"));
    let mut server = Server {
        bin: args.server_bin.clone(),
        addr: args.addr.clone(),
        database_url: args.database_url.clone(),
        demo_password: args.demo_password.clone(),
        log,
        child: None,
    };
    // A server left over from another run would answer our health checks and be measured
    // in place of ours.
    std::net::TcpListener::bind(&args.addr)
        .with_context(|| format!("{} is taken; is another server running there?", args.addr))?;
    let probe = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .context("cannot build the HTTP client")?;
    server.spawn()?;
    let up = server.wait_healthy(&probe, &base).await?;
    println!(
        "server up in {:.1} s (pid {}, log {})",
        up.as_secs_f64(),
        server.pid().unwrap_or(0),
        server.log.display()
    );
    let result = storm(&args, &base, &probe, &mut server).await;
    match server.terminate().await {
        Ok(stop) => println!("server stopped at the end: {stop}"),
        Err(err) => eprintln!("cannot stop the server: {err:#}"),
    }
    let in_step = result?;
    if !in_step {
        bail!("some walls are not in step with the server");
    }
    Ok(())
}

/// Everything between the first start and the final stop; `Ok(false)` when a wall ended
/// out of step.
async fn storm(
    args: &StormArgs,
    base: &str,
    probe: &reqwest::Client,
    server: &mut Server,
) -> anyhow::Result<bool> {
    let credentials = Credentials {
        password: args.demo_password.clone(),
    };
    let api = Api::connect(base, args.concurrency.max(1), &credentials).await?;
    let before = wall_view(probe, base, &args.scope).await?;
    let ctx = Arc::new(Ctx {
        ws_url: format!("ws://{}/ws?scope={}", args.addr, args.scope),
        start: Instant::now(),
        progress: (0..args.walls)
            .map(|_| Progress {
                seq: AtomicU64::new(NONE),
                log_seq: AtomicU64::new(0),
                stream: AtomicU64::new(0),
            })
            .collect(),
    });
    let (phase_tx, phase_rx) = watch::channel(Phase::Ramp);

    // The ramp, a batch at a time, each waiting for its snapshots, as in `walls`.
    let ramp_start = Instant::now();
    let mut handles = Vec::with_capacity(args.walls);
    let mut failed = 0usize;
    let mut first_error = None;
    let batch = args.batch.max(1);
    let mut next = 0;
    while next < args.walls {
        let end = (next + batch).min(args.walls);
        let (ready_tx, mut ready_rx) = mpsc::channel::<Result<(), String>>(end - next);
        for index in next..end {
            // The stalled walls are spread over the ramp rather than all connected last.
            let stride = (args.walls / args.stalled.max(1)).max(1);
            let stalled =
                args.stalled > 0 && index.is_multiple_of(stride) && index / stride < args.stalled;
            handles.push(tokio::spawn(wall(
                index,
                ctx.clone(),
                stalled,
                phase_rx.clone(),
                ready_tx.clone(),
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
    }
    println!(
        "ramp: {} walls in step in {:.2} s; {failed} failed their first connection (they keep trying){}",
        args.walls - failed,
        ramp_start.elapsed().as_secs_f64(),
        first_error
            .map(|e| format!("; first error: {e}"))
            .unwrap_or_default()
    );

    // The storm, with the restart in its middle.
    let _ = phase_tx.send(Phase::Storm);
    let storm_start = Instant::now();
    let answered = Arc::new(AtomicUsize::new(0));
    let next_report = Arc::new(AtomicUsize::new(0));
    let hot: Arc<[String]> = {
        let mut rng = Rng::new(0x5eed);
        let grids = api.grids();
        (0..HOT_GRIDS.min(grids.len()))
            .map(|_| grids[rng.below(grids.len())].clone())
            .collect()
    };
    let mut workers = Vec::with_capacity(args.concurrency.max(1));
    for worker in 0..args.concurrency.max(1) {
        workers.push(tokio::spawn(storm_worker(
            api.clone(),
            hot.clone(),
            args.storm,
            args.dispatch_every,
            next_report.clone(),
            answered.clone(),
            Rng::new(worker as u64 + 1),
        )));
    }
    let mut restart = None;
    if !args.no_restart {
        let at = ((args.storm as f64 * args.restart_at) as usize).min(args.storm);
        while answered.load(Relaxed) < at && !workers.iter().all(|w| w.is_finished()) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let term_at = ctx.start.elapsed();
        println!(
            "restart: SIGTERM after {} of {} reports ({:.1} s into the storm)",
            answered.load(Relaxed),
            args.storm,
            storm_start.elapsed().as_secs_f64()
        );
        let stop = server.terminate().await?;
        println!("restart: the old server {stop}");
        server.spawn()?;
        let up = server.wait_healthy(probe, base).await?;
        let up_at = ctx.start.elapsed();
        println!(
            "restart: the new server answered /healthz {:.2} s after its start, {:.2} s after SIGTERM",
            up.as_secs_f64(),
            (up_at - term_at).as_secs_f64()
        );
        restart = Some((term_at, up_at));
    }
    let mut tally = StormTally::default();
    for worker in workers {
        tally.merge(worker.await.context("a storm worker panicked")?);
    }
    let storm_time = storm_start.elapsed().as_secs_f64();
    println!(
        "storm: {} of {} reports answered and {} dispatches in {storm_time:.1} s ({:.0} transitions/s); request latency {}",
        tally.reports,
        args.storm,
        tally.moves,
        (tally.reports + tally.moves) as f64 / storm_time,
        tally.latency
    );
    println!(
        "storm failures: {} requests refused while the server was down (retried: never reached it), {} failed after being sent (may have committed; not retried), {} answered with an error status",
        tally.refused, tally.uncertain, tally.rejected
    );
    for err in &tally.errors {
        println!("  e.g. {err}");
    }

    // Quiesce: the stalled walls read again, and every wall must reach the server's state.
    let _ = phase_tx.send(Phase::Settle);
    let settle_start = Instant::now();
    let settle = Duration::from_secs_f64(args.settle);
    let mut view = wall_view(probe, base, &args.scope).await?;
    let mut settled = false;
    loop {
        let lagging = behind(&ctx, &view);
        if lagging == 0 {
            // One frame interval and more: the server folds before it frames, so a `seq`
            // that is still the same after a pause is the seq of the state it shows.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let again = wall_view(probe, base, &args.scope).await?;
            if again.seq == view.seq && again.log_seq == view.log_seq && behind(&ctx, &again) == 0 {
                view = again;
                settled = true;
                break;
            }
            view = again;
            continue;
        }
        if settle_start.elapsed() > settle {
            println!(
                "settle: {lagging} walls still behind seq {} / log_seq {} after {:.0} s",
                view.seq,
                view.log_seq,
                settle.as_secs_f64()
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        view = wall_view(probe, base, &args.scope).await?;
    }
    if settled {
        println!(
            "settle: every wall at seq {} / log_seq {} {:.2} s after the storm",
            view.seq,
            view.log_seq,
            settle_start.elapsed().as_secs_f64()
        );
    }
    let _ = phase_tx.send(Phase::Stop);
    let mut outcomes = Vec::with_capacity(handles.len());
    for handle in handles {
        outcomes.push(handle.await.context("a wall's task panicked")?);
    }
    let last = wall_view(probe, base, &args.scope).await?;
    if last.seq != view.seq || last.log_seq != view.log_seq {
        println!(
            "note: the server moved on while the walls stopped (seq {} -> {}, log_seq {} -> {})",
            view.seq, last.seq, view.log_seq, last.log_seq
        );
    }
    let differing = compare(&outcomes, &view);
    summarise(&outcomes, restart, ctx.start);
    println!(
        "server: reported_total {} -> {} (+{}); reports answered {}, failed after being sent {}",
        before.state.counters.reported_total,
        view.state.counters.reported_total,
        view.state
            .counters
            .reported_total
            .saturating_sub(before.state.counters.reported_total),
        tally.reports,
        tally.uncertain
    );
    print_metrics(probe, base).await;
    if args.check {
        check(args, base)?;
    }
    println!(
        "walls in step: {} of {}{}",
        outcomes.len() - differing,
        outcomes.len(),
        if settled {
            ""
        } else {
            " (the settle wait timed out)"
        }
    );
    Ok(differing == 0 && settled)
}

/// How many walls are not yet at the state `view` shows.
fn behind(ctx: &Ctx, view: &WallView) -> usize {
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

async fn wall_view(client: &reqwest::Client, base: &str, scope: &str) -> anyhow::Result<WallView> {
    let url = format!("{base}/api/wall?scope={scope}");
    let response = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    if !status.is_success() {
        bail!("{url} answered {status}");
    }
    response
        .json()
        .await
        .with_context(|| format!("{url} is not a wall view"))
}

/// Compares every wall's mirror with the server's state; prints the walls that differ and
/// returns how many do.
fn compare(outcomes: &[WallOutcome], view: &WallView) -> usize {
    let server = serde_json::to_value(&view.state).unwrap_or_default();
    let mut differing = 0;
    for (index, outcome) in outcomes.iter().enumerate() {
        let mirror = &outcome.mirror;
        if mirror.state == view.state && mirror.log_seq == view.log_seq {
            continue;
        }
        differing += 1;
        if differing > 10 {
            continue;
        }
        let mine = serde_json::to_value(&mirror.state).unwrap_or_default();
        let mut diffs = Vec::new();
        diff("state", &mine, &server, &mut diffs);
        println!(
            "wall {index}{} differs: seq {:?} log_seq {} (server {} / {}); {} fields, first: {}",
            if outcome.stalled { " (stalled)" } else { "" },
            mirror.seq,
            mirror.log_seq,
            view.seq,
            view.log_seq,
            diffs.len(),
            diffs.iter().take(4).cloned().collect::<Vec<_>>().join("; ")
        );
    }
    differing
}

/// The paths at which `mine` and `theirs` differ, with both values for leaves.
fn diff(path: &str, mine: &serde_json::Value, theirs: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match (mine, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let here = format!("{path}.{key}");
                match b.get(key) {
                    Some(other) => diff(&here, value, other, out),
                    None => out.push(format!("{here} only on the wall")),
                }
            }
            for key in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!("{path}.{key} only on the server"));
            }
        }
        (a, b) if a != b => out.push(format!("{path}: wall {a}, server {b}")),
        _ => {}
    }
}

fn summarise(outcomes: &[WallOutcome], restart: Option<(Duration, Duration)>, start: Instant) {
    let mut totals = WallCounts::default();
    let mut catch_up = Histogram::new();
    let mut missing = 0usize;
    for outcome in outcomes {
        let c = &outcome.counts;
        totals.gaps += c.gaps;
        totals.gap_frames += c.gap_frames;
        totals.snapshots += c.snapshots;
        totals.resumes += c.resumes;
        totals.reconnects += c.reconnects;
        totals.connect_failures += c.connect_failures;
        totals.frames += c.frames;
        if let (Some((term, up)), false) = (restart, outcome.stalled) {
            let term = term.as_millis() as u64;
            match c.synced_ms.iter().find(|&&ms| ms >= term) {
                Some(&ms) => {
                    catch_up.record(ms.saturating_sub(up.as_millis() as u64) * 1_000);
                }
                None => missing += 1,
            }
        }
    }
    let stalled: Vec<&WallOutcome> = outcomes.iter().filter(|o| o.stalled).collect();
    println!(
        "walls: {} ({} stalled); frames {}; gaps {} ({} gap frames); snapshots {}; resumes {}; reconnects {}; failed connection attempts {}",
        outcomes.len(),
        stalled.len(),
        totals.frames,
        totals.gaps,
        totals.gap_frames,
        totals.snapshots,
        totals.resumes,
        totals.reconnects,
        totals.connect_failures
    );
    if restart.is_some() {
        println!(
            "catch-up after the restart (from the new server's first /healthz answer to the wall in step on it), walls not stalled: {catch_up}; never caught up: {missing}"
        );
    }
    for (n, outcome) in stalled.iter().enumerate().take(5) {
        let c = &outcome.counts;
        println!(
            "  stalled wall {n}: gaps {}, snapshots {}, resumes {}, reconnects {}, in step at {}{}",
            c.gaps,
            c.snapshots,
            c.resumes,
            c.reconnects,
            c.synced_ms
                .iter()
                .map(|ms| format!("{:.1} s", *ms as f64 / 1e3))
                .collect::<Vec<_>>()
                .join(", "),
            c.last_error
                .as_deref()
                .map(|e| format!("; last error: {e}"))
                .unwrap_or_default()
        );
    }
    let errors: std::collections::BTreeMap<&str, usize> = outcomes
        .iter()
        .filter_map(|o| o.counts.last_error.as_deref())
        .fold(std::collections::BTreeMap::new(), |mut m, e| {
            *m.entry(e).or_insert(0) += 1;
            m
        });
    for (error, n) in errors.iter().take(5) {
        println!("  last error of {n} walls: {error}");
    }
    println!("run time: {}", Micros(start.elapsed().as_micros() as u64));
}

/// One wall: a mirror kept in step across reconnections until the phase says stop.
async fn wall(
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
        let ended = follow(
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
async fn follow(
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

#[derive(Debug, Default)]
struct StormTally {
    reports: u64,
    moves: u64,
    /// Requests that never reached the server (connection refused), retried.
    refused: u64,
    /// Requests sent whose answer never came: they may or may not have committed.
    uncertain: u64,
    /// Requests the server answered with an error status.
    rejected: u64,
    errors: Vec<String>,
    latency: Histogram,
}

impl StormTally {
    fn merge(&mut self, other: StormTally) {
        self.reports += other.reports;
        self.moves += other.moves;
        self.refused += other.refused;
        self.uncertain += other.uncertain;
        self.rejected += other.rejected;
        self.latency.merge(&other.latency);
        for err in other.errors {
            if self.errors.len() < 3 {
                self.errors.push(err);
            }
        }
    }

    /// Counts a failed request; `true` when it never reached the server and may be retried.
    fn fail(&mut self, err: &anyhow::Error) -> bool {
        let unsent = err
            .downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_connect);
        if unsent {
            self.refused += 1;
            return true;
        }
        if err.downcast_ref::<reqwest::Error>().is_some() {
            self.uncertain += 1;
        } else {
            self.rejected += 1;
        }
        if self.errors.len() < 3 {
            self.errors.push(format!("{err:#}"));
        }
        false
    }
}

/// Sends reports (and dispatches every `dispatch_every`th) until `total` are taken.
async fn storm_worker(
    api: Api,
    hot: Arc<[String]>,
    total: usize,
    dispatch_every: usize,
    next: Arc<AtomicUsize>,
    answered: Arc<AtomicUsize>,
    mut rng: Rng,
) -> StormTally {
    let mut tally = StormTally::default();
    loop {
        let n = next.fetch_add(1, Relaxed);
        if n >= total {
            break;
        }
        let grid = if rng.below(2) == 0 || hot.is_empty() {
            api.grids()[rng.below(api.grids().len())].clone()
        } else {
            hot[rng.below(hot.len())].clone()
        };
        let sub_item = SUB_ITEMS[rng.below(SUB_ITEMS.len())];
        let case = loop {
            let sent = Instant::now();
            match api.report_in(&grid, CATEGORY, sub_item).await {
                Ok(case) => {
                    tally.latency.record_duration(sent.elapsed());
                    tally.reports += 1;
                    break Some(case);
                }
                Err(err) => {
                    if !tally.fail(&err) {
                        break None;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        answered.fetch_add(1, Relaxed);
        let Some(case) = case else { continue };
        if dispatch_every == 0 || !n.is_multiple_of(dispatch_every) {
            continue;
        }
        loop {
            let sent = Instant::now();
            match api.move_case(case.id, Action::Dispatch).await {
                Ok(_) => {
                    tally.latency.record_duration(sent.elapsed());
                    tally.moves += 1;
                    break;
                }
                Err(err) => {
                    if !tally.fail(&err) {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
    tally
}

/// Prints the server's counters of resyncs and dropped walls.
async fn print_metrics(client: &reqwest::Client, base: &str) {
    let text = match client.get(format!("{base}/metrics")).send().await {
        Ok(response) => response.text().await.unwrap_or_default(),
        Err(err) => {
            println!("cannot read /metrics: {err}");
            return;
        }
    };
    println!("server /metrics (of the server's second run):");
    for line in text.lines().filter(|l| {
        !l.starts_with('#')
            && (l.starts_with("gridwall_ws_resyncs_total")
                || l.starts_with("gridwall_ws_dropped_total"))
    }) {
        println!("  {line}");
    }
}

/// Runs `gridwall check` against the live server: its state against the tables.
fn check(args: &StormArgs, base: &str) -> anyhow::Result<()> {
    let output = std::process::Command::new(&args.server_bin)
        .args(["check", "--url", base, "--database-url"])
        .arg(&args.database_url)
        .args(["--scope", &args.scope])
        .output()
        .context("cannot run gridwall check")?;
    // The check writes its verdict to standard output and its log to standard error.
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    println!(
        "gridwall check --scope {}: {} ({} lines of output{})",
        args.scope,
        output.status,
        lines.len(),
        lines
            .last()
            .map(|l| format!("; last: {l}"))
            .unwrap_or_default()
    );
    for line in lines.iter().take(10) {
        println!("  {line}");
    }
    Ok(())
}

/// The server process: started with the simulator off, stopped with SIGTERM.
struct Server {
    bin: PathBuf,
    addr: String,
    database_url: String,
    demo_password: String,
    log: PathBuf,
    child: Option<Child>,
}

impl Server {
    fn spawn(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("cannot open {}", self.log.display()))?;
        let err = log.try_clone().context("cannot share the log file")?;
        let child = std::process::Command::new(&self.bin)
            .args(["--addr", &self.addr, "--database-url", &self.database_url])
            .args(["--simulator-rate", "0"])
            .args(["--demo-password", &self.demo_password])
            .stdout(log)
            .stderr(err)
            .spawn()
            .with_context(|| format!("cannot start {}", self.bin.display()))?;
        self.child = Some(child);
        Ok(())
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Waits for `/healthz`; the first start builds the demo city, so this can take a while.
    async fn wait_healthy(
        &mut self,
        client: &reqwest::Client,
        base: &str,
    ) -> anyhow::Result<Duration> {
        let start = Instant::now();
        let url = format!("{base}/healthz");
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                bail!(
                    "the server exited before it was healthy ({status}); see {}",
                    self.log.display()
                );
            }
            if let Ok(response) = client.get(&url).send().await
                && response.status().is_success()
            {
                return Ok(start.elapsed());
            }
            if start.elapsed() > Duration::from_secs(300) {
                bail!(
                    "the server was not healthy within 300 s; see {}",
                    self.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends SIGTERM and waits for the exit (SIGKILL after 60 s); says how it went.
    async fn terminate(&mut self) -> anyhow::Result<String> {
        let Some(mut child) = self.child.take() else {
            return Ok("was not running".to_owned());
        };
        if let Ok(Some(status)) = child.try_wait() {
            return Ok(format!("had already exited ({status})"));
        }
        let start = Instant::now();
        // The workspace forbids unsafe code, so the signal goes through kill(1).
        let sent = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .context("cannot run kill")?;
        if !sent.success() {
            bail!("kill -TERM {} failed: {sent}", child.id());
        }
        let status: ExitStatus = loop {
            if let Some(status) = child.try_wait().context("cannot wait for the server")? {
                break status;
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                let status = child.wait().context("cannot wait for the server")?;
                return Ok(format!(
                    "did NOT exit within 60 s of SIGTERM and was killed ({status})"
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        Ok(format!(
            "exited {:.2} s after SIGTERM ({status})",
            start.elapsed().as_secs_f64()
        ))
    }
}

impl Drop for Server {
    /// A run that ends in an error must not leave the server listening.
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut()
            && matches!(child.try_wait(), Ok(None))
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// splitmix64: reproducible picks of grids and sub-items without another dependency.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_names_the_paths_that_differ() {
        let a = serde_json::json!({"counters": {"open": 1, "closed": 2}, "by_grid": {"g1": 1}});
        let b = serde_json::json!({"counters": {"open": 1, "closed": 3}, "by_grid": {"g2": 1}});
        let mut out = Vec::new();
        diff("state", &a, &b, &mut out);
        assert_eq!(
            out,
            vec![
                "state.by_grid.g1 only on the wall",
                "state.by_grid.g2 only on the server",
                "state.counters.closed: wall 2, server 3",
            ]
        );
    }

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

    #[test]
    fn rng_stays_below() {
        let mut rng = Rng::new(1);
        assert!((0..1000).all(|_| rng.below(7) < 7));
        assert_eq!(rng.below(0), 0);
    }
}
