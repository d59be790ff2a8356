//! The database: connecting, the embedded migrations, and the health probe.

use anyhow::Context;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

pub type Db = SqlitePool;

/// Opens the database at `url` (creating an SQLite file if it does not exist) and brings its
/// schema up to date with the migrations compiled into the binary.
pub async fn connect(url: &str) -> anyhow::Result<Db> {
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("`{url}` is not a valid SQLite database URL"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // WAL with NORMAL is durable against process crashes, which is what a wall needs;
        // FULL would add an fsync to every report.
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open the database at `{url}`"))?;
    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .context("cannot apply the database migrations")?;
    Ok(pool)
}

/// True when the database answers a trivial query.
pub async fn healthy(db: &Db) -> bool {
    sqlx::query("SELECT 1").execute(db).await.is_ok()
}
