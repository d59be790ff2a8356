//! The database: connecting to SQLite (the embedded default) or PostgreSQL (for scale-out),
//! chosen by the URL, the migrations embedded for each, and the health probe.
//!
//! Queries go through sqlx's `Any` driver and are written once, in SQL that both databases
//! accept, with `$1`-style placeholders (which SQLite also understands).

pub mod binds;
pub mod bulk;
pub mod case_rows;
pub mod city;
pub mod codes;
pub mod meta;
pub mod trouble;
pub mod wal;

use anyhow::{Context, bail};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};
use std::sync::Once;

pub type Db = AnyPool;

/// How long an SQLite connection waits for a lock before it fails with "database is locked".
pub const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> anyhow::Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            bail!("`{url}` is not a database URL gridwall knows: use sqlite:FILE or postgres://...")
        }
    }
}

/// An SQLite URL that creates the file when it does not exist yet.
fn sqlite_url(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// When SQLite makes a commit durable (its `synchronous` setting, in WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Synchronous {
    /// Every commit is synced to disk before it is answered: nothing acknowledged is lost on
    /// a power failure, at the cost of an fsync per write batch.
    Full,
    /// The log is synced at checkpoints only: a killed process loses nothing acknowledged, but
    /// a power failure or an operating-system crash may lose the last commits before it.
    #[default]
    Normal,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        }
    }
}

/// Opens the database at `url` (creating an SQLite file if there is none yet) and brings its
/// schema up to date with the migrations compiled into the binary.
pub async fn connect(url: &str) -> anyhow::Result<Db> {
    connect_with(url, Synchronous::default()).await
}

/// [`connect`] with SQLite's durability setting (PostgreSQL has its own, `synchronous_commit`).
pub async fn connect_with(url: &str, synchronous: Synchronous) -> anyhow::Result<Db> {
    static DRIVERS: Once = Once::new();
    DRIVERS.call_once(sqlx::any::install_default_drivers);
    let backend = Backend::of_url(url)?;
    let (url, max_connections) = match backend {
        // SQLite has one writer at a time; a few readers beside it are plenty.
        Backend::Sqlite => (sqlite_url(url), 4),
        Backend::Postgres => (url.to_owned(), 16),
    };
    let pool = AnyPoolOptions::new()
        .max_connections(max_connections)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    // WAL with NORMAL (the default) is durable against process crashes; FULL
                    // is durable against power failures too, with an fsync per commit.
                    conn.execute(sqlx::AssertSqlSafe(format!(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; \
                         PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; PRAGMA foreign_keys = ON;",
                        synchronous.pragma()
                    )))
                    .await?;
                }
                Ok(())
            })
        })
        .connect(&url)
        .await
        .with_context(|| format!("cannot open the database at `{url}`"))?;
    let migrated = match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await,
        Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await,
    };
    migrated.context("cannot apply the database migrations")?;
    Ok(pool)
}

/// After rows were written with explicit ids, moves PostgreSQL's identity sequences past them
/// (SQLite's rowids follow the largest id by themselves).
pub async fn reset_sequences(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
    if conn.backend_name() != "PostgreSQL" {
        return Ok(());
    }
    for (table, column) in [
        ("cases", "id"),
        ("transitions", "seq"),
        ("team_changes", "id"),
        ("house_visits", "id"),
    ] {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
             COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
        );
        // Table and column names are the constants above; nothing comes from outside.
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A read transaction in which every statement sees the same moment. SQLite's transactions
/// do; PostgreSQL's default (read committed) gives each statement its own snapshot, so there it
/// asks for repeatable read.
pub async fn begin_snapshot(db: &Db) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
    let mut tx = db.begin().await?;
    if tx.backend_name() == "PostgreSQL" {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await?;
    }
    Ok(tx)
}

/// True when the database answers a trivial query.
pub async fn healthy(db: &Db) -> bool {
    sqlx::query("SELECT 1").execute(db).await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_backend() {
        assert_eq!(
            Backend::of_url("sqlite:gridwall.db").ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::of_url("postgres://u@h/db").ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::of_url("postgresql://u@h/db").ok(),
            Some(Backend::Postgres)
        );
        let err = Backend::of_url("mysql://h/db").expect_err("unknown scheme");
        assert!(err.to_string().contains("sqlite:FILE"), "{err}");
    }

    /// `--synchronous` reaches every connection of the pool: SQLite says 2 for FULL and 1
    /// for NORMAL.
    #[tokio::test]
    async fn the_synchronous_setting_reaches_every_connection() {
        let dir = tempfile::tempdir().expect("temporary directory");
        for (setting, expected) in [(Synchronous::Full, 2), (Synchronous::Normal, 1)] {
            let url = format!(
                "sqlite:{}",
                dir.path().join(format!("{expected}.db")).display()
            );
            let db = connect_with(&url, setting).await.expect("database");
            let mut held = Vec::new();
            for _ in 0..3 {
                let mut conn = db.acquire().await.expect("a connection");
                let level: i64 = sqlx::query_scalar("PRAGMA synchronous")
                    .fetch_one(&mut *conn)
                    .await
                    .expect("pragma");
                assert_eq!(level, expected, "{setting:?}");
                held.push(conn);
            }
        }
    }

    #[test]
    fn sqlite_files_are_created_on_first_start() {
        assert_eq!(sqlite_url("sqlite:a.db"), "sqlite:a.db?mode=rwc");
        assert_eq!(
            sqlite_url("sqlite:a.db?cache=shared"),
            "sqlite:a.db?cache=shared&mode=rwc"
        );
        assert_eq!(sqlite_url("sqlite:a.db?mode=ro"), "sqlite:a.db?mode=ro");
    }
}
