//! The time-limit watcher: warns at three quarters of a case's time, puts it under
//! supervision when the time runs out and escalates it to the district at twice the time.
//!
//! Each step is an ordinary transition through `Cases::apply`, written by the actor
//! `system:watcher`, so the log says when it happened and the wall folds it like any other
//! move. The watcher finds due cases by the indexed `cases.next_check_at`, so after a restart
//! it catches up on whatever fell due while it was away.

use crate::clock::now_ms;
use crate::error::AppError;
use crate::services::cases::Cases;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The watcher's actor in the transition log.
pub const ACTOR: &str = "system:watcher";
/// How often the watcher looks for due cases.
pub const INTERVAL: Duration = Duration::from_secs(5);
/// Due cases handled per look; the rest wait for the next one.
const BATCH: u32 = 500;

/// Takes every step due by `now`; returns how many were taken.
pub async fn run_due(cases: &Cases, now: i64) -> Result<usize, AppError> {
    let watcher = std::sync::Arc::new(gridwall_core::policy::Principal::system(ACTOR));
    let mut taken = 0;
    loop {
        let due = cases.due_checks(now, BATCH).await?;
        let found = due.len();
        for (case_id, action) in due {
            match cases
                .apply(case_id, action, watcher.clone(), None, None, Vec::new())
                .await
            {
                Ok(_) => taken += 1,
                // Someone moved the case between the look and the step; the next look sees
                // its new time limit.
                Err(AppError::MoveNotAllowed(_) | AppError::FlagNotAllowed(_)) => {}
                Err(err) => return Err(err),
            }
        }
        if found < BATCH as usize {
            return Ok(taken);
        }
    }
}

/// Runs the watcher, looking every `every`, until `shutdown` is cancelled.
pub async fn run_watcher(cases: Cases, every: Duration, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = tick.tick() => {
                match run_due(&cases, now_ms()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(steps = n, "time-limit watcher flagged cases"),
                    Err(err) => tracing::warn!(error = %err, "time-limit watcher failed; trying again"),
                }
            }
        }
    }
    tracing::debug!("time-limit watcher stopped");
}
