//! The storm's load: reports of a few sub-items, half of them in a few hot grids, every Nth
//! also dispatched, sent as fast as the server takes them and retried while it restarts.

use crate::api_client::Api;
use crate::rng::Rng;
use crate::stats::Histogram;
use shared::case::Action;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// The sub-items the storm reports: three kinds of one category, few enough that grids hit
/// repeatedly become hotspots (three of a sub-item in a grid within 24 hours).
const STORM_CATEGORY: &str = "municipal_facilities";
const STORM_SUB_ITEMS: [&str; 3] = ["0801", "0803", "0806"];
/// Half of the reports fall into this many grids, so that hotspots form; the rest spread
/// over the whole city, which makes districts surge.
const HOT_GRIDS: usize = 40;

/// The grids that half of the reports fall into, the same ones in every run.
pub(super) fn hot_grids(api: &Api) -> Arc<[String]> {
    let mut rng = Rng::new(0x5eed);
    let grids = api.grids();
    (0..HOT_GRIDS.min(grids.len()))
        .map(|_| grids[rng.below(grids.len())].clone())
        .collect()
}

/// What the storm's requests came to, per worker and then for the whole storm.
#[derive(Debug, Default)]
pub(super) struct StormTally {
    pub(super) reports: u64,
    pub(super) moves: u64,
    /// Requests that never reached the server (connection refused), retried.
    pub(super) refused: u64,
    /// Requests sent whose answer never came: they may or may not have committed.
    pub(super) uncertain: u64,
    /// Requests the server answered with an error status.
    pub(super) rejected: u64,
    pub(super) errors: Vec<String>,
    pub(super) latency: Histogram,
}

impl StormTally {
    pub(super) fn merge(&mut self, other: StormTally) {
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
pub(super) async fn storm_worker(
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
        let sub_item = STORM_SUB_ITEMS[rng.below(STORM_SUB_ITEMS.len())];
        let case = loop {
            let sent = Instant::now();
            match api.report_in(&grid, STORM_CATEGORY, sub_item).await {
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
