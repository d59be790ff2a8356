//! `gridwall-load ingest`: the write path's throughput, with a fixed number of keep-alive
//! requests in flight: reports alone, or reports each moved through the closed loop.

use crate::api_client::{Api, Credentials};
use crate::stats::Histogram;
use crate::wire::Conn;
use anyhow::{Context, bail};
use shared::case::Action;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub(crate) struct IngestArgs {
    #[command(flatten)]
    credentials: Credentials,
    /// For how many seconds to send.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// How many requests are in flight at once, each on its own keep-alive connection.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Move every reported case through dispatch, accept, resolve, verify and close.
    #[arg(long)]
    moves: bool,
}

/// The closed loop after the report, in the order the state machine allows.
const LOOP: [Action; 5] = [
    Action::Dispatch,
    Action::Accept,
    Action::Resolve,
    Action::Verify,
    Action::Close,
];

#[derive(Debug, Default)]
struct IngestTally {
    reports: u64,
    moves: u64,
    errors: u64,
    first_error: Option<String>,
    latency: Histogram,
}

impl IngestTally {
    fn fail(&mut self, err: &anyhow::Error) {
        self.errors += 1;
        self.first_error.get_or_insert_with(|| format!("{err:#}"));
    }
}

pub(crate) async fn run(base: &str, args: IngestArgs) -> anyhow::Result<()> {
    let concurrency = args.concurrency.max(1);
    let api = Api::connect(base, concurrency, &args.credentials).await?;
    // A loop ends with the grid worker's check, which it makes only in its own grids.
    let loop_grid = match api.worker_grids().first() {
        Some(grid) => grid.clone(),
        None if args.moves => bail!("the demo grid worker has no grid to run the loop in"),
        None => String::new(),
    };
    let duration = Duration::from_secs_f64(args.seconds);
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let api = api.clone();
        let loop_grid = loop_grid.clone();
        let mut conn = Conn::open(base).await?;
        let base = base.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut tally = IngestTally::default();
            let grid = args.moves.then_some(loop_grid.as_str());
            while Instant::now() < deadline {
                let sent = Instant::now();
                let case = match api.report_over(&mut conn, grid).await {
                    Ok(case) => case,
                    Err(err) => {
                        tally.fail(&err);
                        // The connection may be what failed; a fresh one goes on.
                        match Conn::open(&base).await {
                            Ok(fresh) => conn = fresh,
                            Err(_) => break,
                        }
                        continue;
                    }
                };
                tally.latency.record_duration(sent.elapsed());
                tally.reports += 1;
                if !args.moves {
                    continue;
                }
                // A case is carried through to the end even past the deadline, so that
                // every reported case counts its five moves.
                for action in LOOP {
                    let sent = Instant::now();
                    match api.move_over(&mut conn, case.id, action).await {
                        Ok(_) => {
                            tally.latency.record_duration(sent.elapsed());
                            tally.moves += 1;
                        }
                        Err(err) => {
                            tally.fail(&err);
                            break;
                        }
                    }
                }
            }
            tally
        }));
    }
    let mut total = IngestTally::default();
    for task in tasks {
        let tally = task.await.context("an ingest task panicked")?;
        total.reports += tally.reports;
        total.moves += tally.moves;
        total.errors += tally.errors;
        total.latency.merge(&tally.latency);
        if total.first_error.is_none() {
            total.first_error = tally.first_error;
        }
    }
    let spent = start.elapsed().as_secs_f64();
    println!(
        "ingest: {concurrency} in flight for {spent:.1} s against {} grids",
        api.grid_count()
    );
    println!(
        "reports: {} ({:.0}/s)",
        total.reports,
        total.reports as f64 / spent
    );
    if args.moves {
        println!(
            "moves: {} ({:.0}/s)",
            total.moves,
            total.moves as f64 / spent
        );
        let transitions = total.reports + total.moves;
        println!(
            "transitions (reports + moves): {transitions} ({:.0}/s)",
            transitions as f64 / spent
        );
    }
    println!("request latency: {}", total.latency);
    println!("errors: {}", total.errors);
    if let Some(err) = total.first_error {
        println!("  first: {err}");
    }
    Ok(())
}
