//! The case writer: the single task that turns queued writes into rows, a batch at a time.
//!
//! A batch is planned in memory first (`gridwall_core::plan`): the cases it moves are read in
//! one query, the state machine decides each move in queue order against the batch's own
//! earlier moves, and ids and sequence numbers are handed out. Only then is it written, with
//! one multi-row statement per table (`store::case_rows`) inside one transaction. Each
//! statement is a round trip to the database's thread, so a batch of 512 reports costs a
//! handful of them rather than three per report: that is what lets ingest run at the
//! database's own speed.
//!
//! A batch with keyed commands (an `Idempotency-Key`) also deletes the expired keys and reads
//! its commands' stored keys in the transaction, before planning, and writes the keys of its
//! keyed writes with them: a key and its write commit together or not at all, so a retry after
//! a crash finds either both or neither. A batch without keys sends none of these statements.

use super::{Answered, Reply, Write};
use crate::clock::now_ms;
use crate::error::AppError;
use crate::metrics::Metrics;
use crate::services::write_health::WriteHealth;
use crate::store::Db;
use crate::store::case_rows::{purge_keys, read_keys, read_moved, take_numbers, write_plan};
use crate::store::trouble::trouble_of;
use crate::store::wal::{own_connection, run_checkpointer};
use gridwall_core::event::Event;
use gridwall_core::idempotency::KEY_LIFETIME_MS;
use gridwall_core::plan::{Numbers, Outcome, WriteCommand, plan_batch};
use gridwall_core::policy::AreaIndex;
use sqlx::pool::PoolConnection;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::mpsc;

/// Commands waiting for one write transaction; more than this wait for the next.
const MAX_BATCH: usize = 512;

/// While writes fail, how often the writer tries a write of its own, so that the wall learns
/// that space has returned even when nobody is reporting.
const PROBE_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The writer: takes the writes waiting in the queue (up to [`MAX_BATCH`]), runs them in one
/// transaction, commits once, and then hands every committed event to the live feed in commit
/// order and answers each caller. One commit per batch rather than per write is what lets
/// thousands of reports a second through; the queue's order is the log's order.
pub(super) async fn run_writer(
    db: Db,
    areas: Arc<AreaIndex>,
    mut queue: mpsc::Receiver<Write>,
    feed: mpsc::Sender<Event>,
    metrics: Arc<Metrics>,
    health: Arc<WriteHealth>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let checkpointer = tokio::spawn(run_checkpointer(db.clone()));
    // The writer keeps one connection for itself. On SQLite a connection's page cache is
    // dropped whenever another connection has written since its last transaction, so a writer
    // taking whichever pooled connection is free re-reads its pages for nearly every batch.
    let mut conn: Option<PoolConnection<sqlx::Any>> = None;
    loop {
        let failing = health.current().is_some();
        tokio::select! {
            taken = queue.recv_many(&mut batch, MAX_BATCH) => if taken == 0 { break },
            _ = tokio::time::sleep(PROBE_EVERY), if failing => {
                probe(&db, &mut conn, &health).await;
                continue;
            }
        }
        let writes = std::mem::take(&mut batch);
        if conn.is_none() {
            match own_connection(&db).await {
                Ok(c) => conn = Some(c),
                Err(err) => {
                    let trouble = trouble_of(&err);
                    health.fail(trouble, now_ms());
                    tracing::error!(error = %err, writes = writes.len(), "the case writer has no database connection");
                    for write in writes {
                        write.reply.refuse(AppError::WritesFailing(trouble));
                    }
                    continue;
                }
            }
        }
        if let Some(c) = conn.as_mut()
            && !write_batch(c, &areas, writes, &feed, &metrics, &health).await
        {
            // The connection may be what failed: the next batch takes a fresh one.
            close(&mut conn).await;
        }
    }
    checkpointer.abort();
    tracing::debug!("case writer stopped");
}

/// Writes one batch and answers its callers; false when the batch failed and was rolled back.
async fn write_batch(
    conn: &mut sqlx::AnyConnection,
    areas: &AreaIndex,
    batch: Vec<Write>,
    feed: &mpsc::Sender<Event>,
    metrics: &Metrics,
    health: &WriteHealth,
) -> bool {
    let (commands, replies): (Vec<WriteCommand>, Vec<Reply>) =
        batch.into_iter().map(|w| (w.command, w.reply)).unzip();
    // Filled once the batch is planned; empty when it failed before that.
    let mut outcomes = Vec::new();
    let result: Result<(), sqlx::Error> = async {
        let sqlite = conn.backend_name() == "SQLite";
        // On SQLite the batch takes the write lock at once: a deferred transaction that reads
        // first and writes later fails at once with "database is locked" when another
        // connection (the saver) committed in between, which no busy timeout retries.
        let mut tx = if sqlite {
            sqlx::Connection::begin_with(conn, "BEGIN IMMEDIATE").await?
        } else {
            sqlx::Connection::begin(conn).await?
        };
        let (transitions, reports, visits) = Numbers::count(&commands);
        let mut numbers = take_numbers(&mut tx, sqlite, transitions, reports, visits).await?;
        let moved = read_moved(&mut tx, sqlite, &commands).await?;
        let at = now_ms();
        let keys = if commands.iter().any(|c| c.claim().is_some()) {
            purge_keys(&mut tx, at - KEY_LIFETIME_MS).await?;
            read_keys(&mut tx, sqlite, &commands).await?
        } else {
            HashMap::new()
        };
        let mut plan = plan_batch(commands, areas, moved, keys, &mut numbers, at);
        outcomes = std::mem::take(&mut plan.outcomes);
        write_plan(&mut tx, sqlite, &plan).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    // A refused write is answered with its refusal whatever became of the batch: it wrote
    // nothing either way.
    let mut done = Vec::with_capacity(outcomes.len());
    let mut replies = replies.into_iter();
    for (outcome, reply) in outcomes.into_iter().zip(replies.by_ref()) {
        match outcome {
            Ok(outcome) => done.push((outcome, reply)),
            Err(refusal) => reply.refuse(AppError::from(refusal)),
        }
    }
    // The writes of a batch that failed before it was planned have no outcome.
    let unplanned: Vec<Reply> = replies.collect();
    if let Err(err) = result {
        // Nothing of the batch was stored: each caller gets a 503 naming why, which it may
        // send again, and the walls show that writes are failing until one is stored.
        let trouble = trouble_of(&err);
        health.fail(trouble, now_ms());
        tracing::error!(error = %err, writes = done.len().max(unplanned.len()), trouble = ?trouble, "a write batch failed and was rolled back");
        for (_, reply) in done {
            reply.refuse(AppError::WritesFailing(trouble));
        }
        for reply in unplanned {
            reply.refuse(AppError::WritesFailing(trouble));
        }
        return false;
    }
    health.recover(now_ms());
    let now = std::time::Instant::now();
    for (outcome, reply) in done {
        match (outcome, reply) {
            (Outcome::Case(view, mut event), Reply::Case(reply)) => {
                if let Event::Transition(t) = &mut event {
                    t.committed_at = now;
                    tracing::debug!(case = t.case_id, seq = t.seq, action = %t.action, to = t.after.state.code(), "case moved");
                }
                metrics
                    .transitions_committed
                    .fetch_add(1, Ordering::Relaxed);
                hand_to_feed(feed, event).await;
                let _ = reply.send(Ok(Answered {
                    view: *view,
                    replayed: false,
                }));
            }
            (Outcome::Replayed(view), Reply::Case(reply)) => {
                // Answered from its idempotency key: nothing was written, so nothing is fed.
                let _ = reply.send(Ok(Answered {
                    view: *view,
                    replayed: true,
                }));
            }
            (Outcome::Visit(event), Reply::Visit(reply)) => {
                hand_to_feed(feed, event).await;
                let _ = reply.send(Ok(()));
            }
            (outcome, reply) => {
                // The planner answers a command with the outcome of its own kind; were it
                // ever not so, the caller is told rather than left waiting.
                tracing::error!(?outcome, "a write's outcome does not match its kind");
                reply.refuse(AppError::Internal(
                    "a write's outcome does not match its kind".to_owned(),
                ));
            }
        }
    }
    true
}

async fn hand_to_feed(feed: &mpsc::Sender<Event>, event: Event) {
    if feed.send(event).await.is_err() {
        // Only during shutdown: the event is committed and the next start rebuilds the wall
        // from the tables, so nothing is lost.
        tracing::warn!("live feed has stopped; event stored but not streamed");
    }
}

/// A write of the writer's own while writes fail: when it is stored, writes are stored again.
async fn probe(db: &Db, conn: &mut Option<PoolConnection<sqlx::Any>>, health: &WriteHealth) {
    if conn.is_none() {
        match own_connection(db).await {
            Ok(c) => *conn = Some(c),
            Err(err) => {
                health.fail(trouble_of(&err), now_ms());
                return;
            }
        }
    }
    let Some(c) = conn.as_mut() else { return };
    match crate::store::trouble::probe_write(c, now_ms()).await {
        Ok(()) => {
            health.recover(now_ms());
        }
        Err(err) => {
            tracing::debug!(error = %err, "writes still fail");
            health.fail(trouble_of(&err), now_ms());
            close(conn).await;
        }
    }
}

/// Closes the writer's connection after a failure rather than handing it back to the pool:
/// a commit that failed can leave it inside a transaction, where the next batch's `BEGIN`
/// fails, and worse, where a probe's write seems to succeed without being stored.
async fn close(conn: &mut Option<PoolConnection<sqlx::Any>>) {
    if let Some(c) = conn.take() {
        let _ = c.close().await;
    }
}
