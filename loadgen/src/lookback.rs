//! `gridwall-load lookback`: asks a running server for walls at past moments, one at a time,
//! and reports how long each took, on the client and on the server, and the longest tail of
//! the log folded.

use crate::rng::Rng;
use crate::stats::Histogram;
use anyhow::{Context, bail};
use clap::Args;
use std::time::Instant;

#[derive(Debug, Args)]
pub(crate) struct LookbackArgs {
    /// `city`, `district:CODE` or `street:CODE`.
    #[arg(long, default_value = "city")]
    scope: String,
    /// Moments drawn at random over the last `days` days.
    #[arg(long, default_value_t = 200)]
    samples: usize,
    #[arg(long, default_value_t = 275)]
    days: i64,
    /// The seed the moments are drawn from.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Moments (Unix milliseconds, one a line) to ask for instead of random ones.
    #[arg(long)]
    at_file: Option<std::path::PathBuf>,
    /// A display token or bearer token, when the server's walls need one.
    #[arg(long, env = "GRIDWALL_TOKEN")]
    token: Option<String>,
}

pub(crate) async fn run(url: &str, args: LookbackArgs) -> anyhow::Result<()> {
    let moments: Vec<i64> = match &args.at_file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                l.trim()
                    .parse()
                    .with_context(|| format!("`{l}` in {} is no moment", path.display()))
            })
            .collect::<anyhow::Result<_>>()?,
        None => {
            let now = crate::now_ms();
            let span = (args.days * 86_400_000).max(1) as u64;
            // The same seed asks for the same moments.
            let mut rng = Rng::new(args.seed);
            (0..args.samples)
                .map(|_| now - (rng.next() % span) as i64)
                .collect()
        }
    };
    if moments.is_empty() {
        bail!("no moments to ask for");
    }
    let client = reqwest::Client::new();
    let mut client_us = Histogram::new();
    let mut server_us = Histogram::new();
    let (mut max_folded, mut slowest) = (0, (0u128, 0i64));
    let mut from_checkpoint = 0;
    for at in &moments {
        let mut req = client
            .get(format!("{url}/api/wall/at"))
            .query(&[("scope", args.scope.as_str()), ("at", &at.to_string())]);
        if let Some(token) = &args.token {
            req = req.bearer_auth(token);
        }
        let began = Instant::now();
        let res = req.send().await.context("cannot reach the server")?;
        let status = res.status();
        let body: serde_json::Value = res.json().await.context("the answer is no JSON")?;
        let took = began.elapsed();
        if !status.is_success() {
            bail!("{at}: {status} {body}");
        }
        client_us.record_duration(took);
        server_us.record(body["elapsed_ms"].as_u64().unwrap_or(0) * 1_000);
        max_folded = max_folded.max(body["folded"].as_u64().unwrap_or(0));
        if body["checkpoint_log_seq"].is_u64() {
            from_checkpoint += 1;
        }
        if took.as_millis() > slowest.0 {
            slowest = (took.as_millis(), *at);
        }
    }
    let ms = |h: &Histogram, q: f64| h.quantile(q) as f64 / 1_000.0;
    println!(
        "look back {}: {} moments, {} from a checkpoint; client p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms \
         (at {}); server p50 {:.0} ms, max {:.0} ms; longest tail folded {} events",
        args.scope,
        moments.len(),
        from_checkpoint,
        ms(&client_us, 0.5),
        ms(&client_us, 0.95),
        ms(&client_us, 1.0),
        slowest.1,
        ms(&server_us, 0.5),
        ms(&server_us, 1.0),
        max_folded,
    );
    Ok(())
}
