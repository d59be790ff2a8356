//! `gridwall-load`: load generator for a running gridwall server: walls on `/ws`, the
//! ingest rate of `POST /api/cases`, the raw SQLite ceiling those are compared with, and a
//! storm of reports with a restart that every wall must come through in step.

// Printing the figures is this binary's whole job.
#![allow(clippy::print_stdout)]

mod api_client;
mod ceiling;
mod flood;
mod follow;
mod ingest;
mod lookback;
mod rng;
mod stats;
mod storm;
mod walls;
mod wire;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "gridwall-load", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Connect many walls, report cases at a steady rate, and measure memory and latency.
    Walls {
        /// The running server, for example http://127.0.0.1:8080.
        #[arg(long)]
        url: String,
        #[command(flatten)]
        args: walls::WallsArgs,
    },
    /// Report (and optionally move) cases as fast as the server takes them.
    Ingest {
        /// The running server, for example http://127.0.0.1:8080.
        #[arg(long)]
        url: String,
        #[command(flatten)]
        args: ingest::IngestArgs,
    },
    /// Start a server, keep walls' mirrors in step through an alarm storm, a restart and
    /// stalled walls, and compare every wall's state with the server's at the end.
    Storm {
        #[command(flatten)]
        args: storm::StormArgs,
    },
    /// Ask for walls at past moments and measure how long each takes.
    Lookback {
        /// The running server, for example http://127.0.0.1:8080.
        #[arg(long)]
        url: String,
        #[command(flatten)]
        args: lookback::LookbackArgs,
    },
    /// Many walls follow one control channel while a seat drives it; measures how soon each
    /// wall hears of each change.
    Follow {
        /// The running server, for example http://127.0.0.1:8080.
        #[arg(long)]
        url: String,
        #[command(flatten)]
        args: follow::FollowArgs,
    },
    /// Insert the rows of N reports straight into a fresh SQLite database.
    SqliteCeiling {
        #[command(flatten)]
        args: ceiling::CeilingArgs,
    },
}

/// Unix milliseconds, as the server stamps its rows.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Every wall is a socket: raise the soft limit on open files to the hard one, since the
    // usual soft limit of 1,024 would stop the ramp long before 10,000 walls.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => eprintln!("open files limit: {limit}"),
        Err(err) => eprintln!("cannot raise the open files limit: {err}"),
    }
    match cli.command {
        Command::Walls { url, args } => walls::run(&url, args).await,
        Command::Ingest { url, args } => ingest::run(&url, args).await,
        Command::Storm { args } => storm::run(args).await,
        Command::Lookback { url, args } => lookback::run(&url, args).await,
        Command::Follow { url, args } => follow::run(&url, args).await,
        Command::SqliteCeiling { args } => ceiling::run(args).await,
    }
}
