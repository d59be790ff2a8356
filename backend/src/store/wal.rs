//! SQLite's write-ahead log, copied back into the database file beside the case writer rather
//! than inside its commits; and the writer's own connection, which never checkpoints.

use super::Db;
use sqlx::Row;
use sqlx::pool::PoolConnection;

/// How long a full checkpoint waits for readers of an older snapshot, holding the writer back
/// meanwhile; when they take longer it gives up and the next one tries again.
const FULL_CHECKPOINT_WAIT_MS: u32 = 200;

/// One checkpoint: passive, or `full`; returns the pages in the log.
async fn checkpoint(conn: &mut sqlx::AnyConnection, full: bool) -> Result<i64, sqlx::Error> {
    if !full {
        let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut *conn)
            .await?;
        // The answer is (busy, pages in the log, pages copied).
        return row.try_get::<i64, _>(1);
    }
    // A full checkpoint holds new writers back while it waits (with the connection's busy
    // timeout) for the writer's batch and for readers of older snapshots, so it waits briefly
    // rather than the pool's five seconds.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA busy_timeout = {FULL_CHECKPOINT_WAIT_MS}"
    )))
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query("PRAGMA wal_checkpoint(FULL)")
        .fetch_one(&mut *conn)
        .await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA busy_timeout = {}",
        super::SQLITE_BUSY_TIMEOUT_MS
    )))
    .execute(&mut *conn)
    .await?;
    row?.try_get::<i64, _>(1)
}

/// How often the write-ahead log is copied back into the database file, beside the writer.
const WAL_CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);
/// Pages of log past which a checkpoint waits for the writer, so that the log starts again
/// from its beginning (64 MiB of 4 KiB pages).
const RESTART_LOG_PAGES: i64 = 16_384;

/// Copies SQLite's write-ahead log back into the database file, on a connection of its own,
/// while the writer runs.
///
/// SQLite checkpoints by itself inside the commit that finds 1,000 pages or more in the log,
/// and that checkpoint syncs the database file: the writer stood still for tens of
/// milliseconds every third of a second under full load, and every request in flight waited
/// with it (the p99 of the ingest benchmark). The writer's connection turns that off. Here a
/// passive checkpoint, which never blocks the writer, copies the log on the other core as it
/// grows. A passive checkpoint never reaches the end of a log that the writer keeps
/// appending to, and only a log copied to its end starts again from its beginning; so once
/// the log is long, one full checkpoint waits for the writer's batch to end, holds the next
/// one back while it copies the last pages, and the next batch starts the log again. That
/// pause comes once per 64 MiB of log rather than once per 4 MiB.
pub async fn run_checkpointer(db: Db) {
    let mut tick = tokio::time::interval(WAL_CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut log_pages = 0;
    loop {
        tick.tick().await;
        if db.is_closed() {
            break;
        }
        let mut conn = match db.acquire().await {
            Ok(conn) => conn,
            Err(err) => {
                tracing::warn!(error = %err, "the checkpointer has no database connection");
                continue;
            }
        };
        if conn.backend_name() != "SQLite" {
            // PostgreSQL checkpoints by itself, without stopping writers.
            break;
        }
        let full = log_pages > RESTART_LOG_PAGES;
        match checkpoint(&mut conn, full).await {
            Ok(pages) => log_pages = pages,
            Err(err) => {
                tracing::warn!(error = %err, "the write-ahead log checkpoint failed; trying again")
            }
        }
    }
}

/// The writer's connection, with a page cache large enough for the hot parts of the cases,
/// the log and their indexes (on SQLite; PostgreSQL caches on the server).
pub async fn own_connection(db: &Db) -> Result<PoolConnection<sqlx::Any>, sqlx::Error> {
    let mut conn = db.acquire().await?;
    if conn.backend_name() == "SQLite" {
        // The log is checkpointed beside the writer (`run_checkpointer`), never in its commits.
        sqlx::query("PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = 0")
            .execute(&mut *conn)
            .await?;
    }
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn write_rows(conn: &mut sqlx::AnyConnection, rows: usize) {
        let sql = format!(
            "INSERT INTO t (v) VALUES {}",
            vec!["(randomblob(2000))"; rows].join(", ")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(conn)
            .await
            .expect("insert");
    }

    /// The writer's connection never checkpoints in its commits, so the log grows until the
    /// checkpointer copies it; after a full checkpoint the next write starts the log again
    /// from its beginning.
    #[tokio::test]
    async fn a_full_checkpoint_lets_the_log_start_again() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite:{}", dir.path().join("c.db").display());
        let db = super::super::connect(&url).await.expect("database");
        let mut writer = own_connection(&db).await.expect("the writer's connection");
        sqlx::query("CREATE TABLE t (v TEXT)")
            .execute(&mut *writer)
            .await
            .expect("table");
        // About 1,500 pages: past the 1,000 at which SQLite would checkpoint in the commit.
        for _ in 0..30 {
            write_rows(&mut writer, 100).await;
        }
        let mut other = db.acquire().await.expect("a second connection");
        let grown = checkpoint(&mut other, false).await.expect("passive");
        assert!(grown > 1_000, "the writer never checkpoints: {grown} pages");
        checkpoint(&mut other, true).await.expect("full");
        write_rows(&mut writer, 1).await;
        let restarted = checkpoint(&mut other, false).await.expect("passive");
        assert!(restarted < 10, "the log started again: {restarted} pages");
        // The full checkpoint's short wait is not left on the pooled connection.
        let timeout: i64 = sqlx::query("PRAGMA busy_timeout")
            .fetch_one(&mut *other)
            .await
            .expect("busy timeout")
            .try_get(0)
            .expect("a number");
        assert_eq!(timeout, i64::from(super::super::SQLITE_BUSY_TIMEOUT_MS));
    }
}
