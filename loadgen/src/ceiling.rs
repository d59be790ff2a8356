//! `gridwall-load sqlite-ceiling`: how fast this machine's SQLite takes the rows a report
//! writes, with the server's schema and pragmas but without HTTP, the hub or the write lock:
//! the ceiling that the HTTP ingest rate is compared with.

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, Executor};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct CeilingArgs {
    /// How many reports (a case row plus its `report` transition row) to insert.
    #[arg(long, default_value_t = 100_000)]
    rows: u64,
    /// Reports per transaction.
    #[arg(long, default_value_t = 1_000)]
    batch: u64,
}

/// The parents of the two foreign keys that `20261128000002_city.sql` adds to `cases`,
/// reduced to their keys: with `foreign_keys = ON`, each insert looks them up as the
/// server's does.
const PARENTS: &str = "
CREATE TABLE sub_items (code TEXT PRIMARY KEY);
CREATE TABLE members (id BIGINT PRIMARY KEY);
INSERT INTO sub_items (code) VALUES ('0801');
";

/// `cases` and `transitions` as `backend/migrations/sqlite/20261128000001_cases.sql` creates
/// them, indexes and triggers included, since they are part of each insert's cost.
const CASES: &str = "
CREATE TABLE cases (
    id          INTEGER PRIMARY KEY,
    category    TEXT    NOT NULL,
    grid_id     TEXT,
    lon         REAL,
    lat         REAL,
    description TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    reported_at BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    last_seq    BIGINT  NOT NULL
);
CREATE INDEX cases_by_state ON cases (state);
CREATE INDEX cases_by_reported_at ON cases (reported_at);
CREATE TABLE transitions (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id    INTEGER NOT NULL REFERENCES cases (id),
    action     TEXT    NOT NULL,
    from_state TEXT,
    to_state   TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    at         BIGINT  NOT NULL,
    note       TEXT
);
CREATE INDEX transitions_by_case ON transitions (case_id, seq);
CREATE INDEX transitions_by_to_state_at ON transitions (to_state, at);
CREATE TRIGGER transitions_no_update BEFORE UPDATE ON transitions
BEGIN
    SELECT RAISE(ABORT, 'transitions are append-only');
END;
CREATE TRIGGER transitions_no_delete BEFORE DELETE ON transitions
BEGIN
    SELECT RAISE(ABORT, 'transitions are append-only');
END;
ALTER TABLE cases ADD COLUMN sub_item_code TEXT REFERENCES sub_items (code);
ALTER TABLE cases ADD COLUMN reporter_id BIGINT REFERENCES members (id);
";

pub async fn run(args: CeilingArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
    let path = dir.path().join("ceiling.db");
    // The pragmas of `backend/src/store.rs`: WAL, synchronous NORMAL, a busy timeout and
    // enforced foreign keys.
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("cannot open {}", path.display()))?;
    conn.execute(PARENTS).await?;
    conn.execute(CASES).await?;

    let batch = args.batch.max(1);
    let start = Instant::now();
    let mut done = 0u64;
    while done < args.rows {
        let n = batch.min(args.rows - done);
        let mut tx = conn.begin().await?;
        for _ in 0..n {
            let at = crate::now_ms();
            // The three statements of the server's `Cases::report`, in its order; sqlx
            // prepares each once and reuses it from its statement cache.
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO cases (category, sub_item_code, grid_id, lon, lat, description, state, reported_at, updated_at, last_seq)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0) RETURNING id",
            )
            .bind("municipal_facilities")
            .bind("0801")
            .bind("230602001001")
            .bind(None::<f64>)
            .bind(None::<f64>)
            .bind("load test")
            .bind("reported")
            .bind(at)
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            let seq: i64 = sqlx::query_scalar(
                "INSERT INTO transitions (case_id, action, from_state, to_state, actor, at, note)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
            )
            .bind(id)
            .bind("report")
            .bind(None::<&str>)
            .bind("reported")
            .bind("loadgen")
            .bind(at)
            .bind(None::<&str>)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("UPDATE cases SET last_seq = $1 WHERE id = $2")
                .bind(seq)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        done += n;
    }
    let spent = start.elapsed().as_secs_f64();
    conn.close().await?;
    println!(
        "sqlite-ceiling: {done} reports (case + transition rows, and the last_seq update) in {spent:.2} s, transactions of {batch}"
    );
    println!(
        "  {:.0} reports/s ({:.0} rows/s) into {}",
        done as f64 / spent,
        2.0 * done as f64 / spent,
        dir.path().display()
    );
    single_transactions(&options, args.rows.min(5_000)).await?;
    Ok(())
}

/// The same reports one transaction each, as the server commits them: what batching buys.
async fn single_transactions(options: &SqliteConnectOptions, rows: u64) -> anyhow::Result<()> {
    let mut conn = sqlx::SqliteConnection::connect_with(options).await?;
    let start = Instant::now();
    for _ in 0..rows {
        let at = crate::now_ms();
        let mut tx = conn.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO cases (category, sub_item_code, grid_id, description, state, reported_at, updated_at, last_seq)
             VALUES ('municipal_facilities', '0801', '230602001001', 'load test', 'reported', $1, $1, 0) RETURNING id",
        )
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO transitions (case_id, action, to_state, actor, at)
             VALUES ($1, 'report', 'reported', 'loadgen', $2) RETURNING seq",
        )
        .bind(id)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("UPDATE cases SET last_seq = $1 WHERE id = $2")
            .bind(seq)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    let spent = start.elapsed().as_secs_f64();
    conn.close().await?;
    println!(
        "  one report per transaction (as the server commits): {rows} in {spent:.2} s: {:.0} reports/s",
        rows as f64 / spent
    );
    Ok(())
}
