//! The storm's printed report besides the comparison: what the walls went through, the
//! server's own counters of resyncs and dropped walls, and `gridwall check`.

use super::mirrors::{WallCounts, WallOutcome};
use crate::stats::{Histogram, Micros};
use anyhow::Context;
use std::path::Path;
use std::time::{Duration, Instant};

/// Prints what the walls went through: frames, gaps, snapshots, resumes and reconnections, how
/// soon they were back in step after the restart, and what became of the stalled ones.
pub(super) fn summarise(
    outcomes: &[WallOutcome],
    restart: Option<(Duration, Duration)>,
    start: Instant,
) {
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

/// Prints the server's counters of resyncs and dropped walls.
pub(super) async fn print_metrics(client: &reqwest::Client, base: &str) {
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
pub(super) fn run_gridwall_check(
    server_bin: &Path,
    base: &str,
    database_url: &str,
    scope: &str,
) -> anyhow::Result<()> {
    let output = std::process::Command::new(server_bin)
        .args(["check", "--url", base, "--database-url"])
        .arg(database_url)
        .args(["--scope", scope])
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
        scope,
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
