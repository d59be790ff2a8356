//! The saved snapshot: every scope's aggregate as of one position in the log, written now and
//! then and at shutdown, so that a restart folds only the log's tail instead of rescanning the
//! tables.
//!
//! A saved snapshot is only a cache. It is ignored, and the state rebuilt from the tables, when
//! its format is not this build's, when it is ahead of the log (a restored database), or when
//! the city's areas changed after it was written (an import deletes it).

use super::scopes::{fold_tail, load_statics};
use crate::clock::now_ms;
use crate::store::Db;
use anyhow::Context;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use gridwall_core::fold::CityFacts;
use gridwall_core::fold::Scopes;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// The encoding of the saved body; bump it whenever `Aggregate` changes shape.
pub const FORMAT: i64 = 3;
/// How often the hub's state is saved while the server runs.
pub const SAVE_INTERVAL: Duration = Duration::from_secs(60);

/// Gzipped JSON: the encoding of the saved state and of the look-back checkpoints.
pub(super) fn encode_json<T: serde::Serialize>(value: &T) -> anyhow::Result<Vec<u8>> {
    let json = serde_json::to_vec(value).context("cannot encode the wall's state")?;
    let mut gz = GzEncoder::new(Vec::with_capacity(json.len() / 6), Compression::fast());
    gz.write_all(&json)?;
    Ok(gz.finish()?)
}

pub(super) fn decode_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> anyhow::Result<T> {
    let mut json = Vec::new();
    GzDecoder::new(body).read_to_end(&mut json)?;
    Ok(serde_json::from_slice(&json)?)
}

fn encode(scopes: &Scopes) -> anyhow::Result<Vec<u8>> {
    encode_json(scopes)
}

fn decode(body: &[u8]) -> anyhow::Result<Scopes> {
    let mut scopes: Scopes = decode_json(body)?;
    scopes.after_load();
    Ok(scopes)
}

/// Writes `scopes` as the saved snapshot, replacing the one before.
pub async fn save(db: &Db, scopes: Scopes) -> anyhow::Result<usize> {
    let (log_seq, visit_seq) = (scopes.log_seq as i64, scopes.visit_seq as i64);
    // Encoding a city's worth of aggregates takes a few tens of milliseconds: not on the
    // runtime's threads.
    let body = tokio::task::spawn_blocking(move || encode(&scopes)).await??;
    let size = body.len();
    sqlx::query(
        "INSERT INTO wall_snapshots (id, format, log_seq, visit_id, saved_at, body)
         VALUES (1, $1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET format = excluded.format, log_seq = excluded.log_seq,
             visit_id = excluded.visit_id, saved_at = excluded.saved_at, body = excluded.body",
    )
    .bind(FORMAT)
    .bind(log_seq)
    .bind(visit_seq)
    .bind(now_ms())
    .bind(body)
    .execute(db)
    .await
    .context("cannot save the wall's state")?;
    Ok(size)
}

/// Forgets the saved snapshot (after the city's areas change).
pub async fn forget_saved_state(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM wall_snapshots")
        .execute(conn)
        .await?;
    Ok(())
}

/// How the state was restored at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restored {
    /// From the saved snapshot and `tail` events of the log after it.
    Saved { tail: u64 },
    /// Rebuilt from the tables.
    Rebuilt,
}

/// Loads the saved snapshot if there is a usable one and folds the log's tail into it.
pub async fn load(db: &Db, city: &CityFacts) -> anyhow::Result<Option<(Scopes, u64)>> {
    let row: Option<(i64, i64, i64, Vec<u8>)> =
        sqlx::query_as("SELECT format, log_seq, visit_id, body FROM wall_snapshots WHERE id = 1")
            .fetch_optional(db)
            .await
            .context("cannot read the saved wall state")?;
    let Some((format, log_seq, visit_id, body)) = row else {
        return Ok(None);
    };
    if format != FORMAT {
        tracing::info!(
            format,
            expected = FORMAT,
            "saved wall state is of another format; rebuilding"
        );
        return Ok(None);
    }
    let (max_seq, max_visit): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COALESCE(MAX(seq), 0) FROM transitions), (SELECT COALESCE(MAX(id), 0) FROM house_visits)",
    )
    .fetch_one(db)
    .await?;
    if log_seq > max_seq || visit_id > max_visit {
        tracing::warn!(
            log_seq,
            max_seq,
            "saved wall state is ahead of the log; rebuilding"
        );
        return Ok(None);
    }
    let mut scopes = match tokio::task::spawn_blocking(move || decode(&body)).await? {
        Ok(scopes) => scopes,
        Err(err) => {
            tracing::warn!(
                error = format!("{err:#}"),
                "saved wall state cannot be read; rebuilding"
            );
            return Ok(None);
        }
    };
    // People, housing (down to each grid's households) and the team's size may have changed
    // without events; they are read afresh.
    let mut conn = db.acquire().await?;
    let statics = load_statics(&mut conn, city).await?;
    drop(conn);
    statics.apply(&mut scopes, city);
    let tail = fold_tail(db, city, &mut scopes).await?;
    Ok(Some((scopes, tail)))
}

/// Restores the state at start: the saved snapshot and the log's tail when possible, a
/// rebuild from the tables otherwise.
pub async fn restore(
    db: &Db,
    city: &CityFacts,
    utc_offset_minutes: i32,
) -> anyhow::Result<(Scopes, Restored)> {
    let started = Instant::now();
    if let Some((mut scopes, tail)) = load(db, city).await? {
        scopes.advance(now_ms());
        tracing::info!(
            tail,
            log_seq = scopes.log_seq,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "wall state restored from the saved snapshot and {tail} events of the log"
        );
        return Ok((scopes, Restored::Saved { tail }));
    }
    let scopes = super::scopes::rebuild_now(db, city, now_ms(), utc_offset_minutes)
        .await
        .context("cannot rebuild the wall's state from the database")?;
    tracing::info!(
        log_seq = scopes.log_seq,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "wall state rebuilt from the tables"
    );
    Ok((scopes, Restored::Rebuilt))
}

/// Saves the hub's state every [`SAVE_INTERVAL`] while anything changed, until `shutdown`.
pub async fn run_saver(db: Db, hub: super::Hub, shutdown: tokio_util::sync::CancellationToken) {
    let mut tick = tokio::time::interval(SAVE_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate; the state was just restored, so skip it.
    tick.tick().await;
    let mut saved_at = None;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = tick.tick() => {
                let Ok(scopes) = hub.scopes().await else { break };
                let position = (scopes.log_seq, scopes.visit_seq);
                if saved_at == Some(position) {
                    continue;
                }
                match save(&db, scopes).await {
                    Ok(bytes) => {
                        saved_at = Some(position);
                        tracing::debug!(bytes, log_seq = position.0, "wall state saved");
                    }
                    Err(err) => tracing::warn!(error = format!("{err:#}"), "cannot save the wall state"),
                }
            }
        }
    }
}
