//! `gridwall-load storm`: a thousand walls keep their mirrors of the state in step through an
//! alarm storm, a graceful restart of the server in the middle of it, and walls that stop
//! reading; at the end every wall's state must equal the server's.
//!
//! The parts, one concern each:
//! - this module: the arguments and the run's orchestration: the ramp, the storm with the
//!   restart in its middle, and the wait for every wall to settle;
//! - `mirrors`: the walls, each with its socket, its mirror of the state and its counters;
//! - `server`: the server process the run starts, stops and starts again, and its log;
//! - `load`: the storm's reports and dispatches;
//! - `compare`: the server's view of the scope, and every wall's mirror held against it;
//! - `summary`: what the walls went through, the server's own counters and `gridwall check`.

mod compare;
mod load;
mod mirrors;
mod server;
mod summary;

use crate::api_client::{Api, Credentials};
use crate::rng::Rng;
use anyhow::{Context, bail};
use compare::{compare_mirrors, wall_view};
use load::{StormTally, hot_grids, storm_worker};
use mirrors::{Ctx, behind};
use server::Server;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

#[derive(Debug, clap::Args)]
pub(crate) struct StormArgs {
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

/// The storm's phases, which the walls watch: stalled walls stop reading during `Storm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Ramp,
    Storm,
    Settle,
    Stop,
}

pub(crate) async fn run(args: StormArgs) -> anyhow::Result<()> {
    if args.stalled > args.walls {
        bail!("--stalled cannot exceed --walls");
    }
    let base = format!("http://{}", args.addr);
    let log = args
        .server_log
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("gridwall-storm-server.log"));
    let mut server = Server::new(
        args.server_bin.clone(),
        args.addr.clone(),
        args.database_url.clone(),
        args.demo_password.clone(),
        log,
    );
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
        server.log().display()
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
    let ctx = Arc::new(Ctx::new(
        format!("ws://{}/ws?scope={}", args.addr, args.scope),
        args.walls,
    ));
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
            handles.push(tokio::spawn(mirrors::wall(
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
    let hot = hot_grids(&api);
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
    let differing = compare_mirrors(&outcomes, &view);
    summary::summarise(&outcomes, restart, ctx.start);
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
    summary::print_metrics(probe, base).await;
    if args.check {
        summary::run_gridwall_check(&args.server_bin, base, &args.database_url, &args.scope)?;
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
