//! `gridwall-load sqlite-ceiling`: how fast this machine's SQLite takes the rows a report
//! writes, with the server's schema and pragmas but without HTTP, the hub or the write lock:
//! the ceiling that the HTTP ingest rate is compared with.

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, Executor};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub(crate) struct CeilingArgs {
    /// How many reports (a case row plus its `report` transition row) to insert.
    #[arg(long, default_value_t = 100_000)]
    rows: u64,
    /// Reports per transaction (the server's writer takes up to 512 writes in one).
    #[arg(long, default_value_t = 512)]
    batch: u64,
}

/// The parents that a report's foreign keys point at (a category, the sub-item and its
/// department); with `foreign_keys = ON`, each insert looks them up as the server's does.
const PARENTS: &str = "
INSERT INTO departments (code, name_zh, name_en, level) VALUES ('D01', '城管局', 'Urban management', 'city');
INSERT INTO categories (code, name_zh, position) VALUES ('municipal_facilities', '市政设施', 8);
INSERT INTO sub_items (code, category_code, name_zh, name_en, time_limit_hours, department_code)
    VALUES ('0801', 'municipal_facilities', '路灯杆倾斜', 'Tilted street-lamp pole', 24, 'D01');
";

/// The columns the server's writer (`backend/src/cases/writer.rs`) writes, in its order.
const CASE_COLUMNS: &str = "id, category, sub_item_code, grid_id, lon, lat, description, state, \
     reported_at, updated_at, last_seq, reporter_id, department_code, supervision, dispatched_at, \
     deadline_at, next_check_at";
const TRANSITION_COLUMNS: &str = "seq, case_id, action, from_state, to_state, actor, at, note, \
     department_code, supervision, deadline_at";

/// `rows` groups of `cols` anonymous placeholders, as the writer builds them for SQLite.
fn placeholders(rows: usize, cols: usize) -> String {
    let row = format!("({})", vec!["?"; cols].join(", "));
    vec![row; rows].join(", ")
}

pub(crate) async fn run(args: CeilingArgs) -> anyhow::Result<()> {
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
        .foreign_keys(true)
        // The page cache of the server's writer connection.
        .pragma("cache_size", "-32768");
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("cannot open {}", path.display()))?;
    // The server's own schema, from its migrations: tables, indexes and triggers are all
    // part of each insert's cost.
    sqlx::migrate!("../backend/migrations/sqlite")
        .run(&mut conn)
        .await
        .context("cannot apply the server's migrations")?;
    conn.execute(PARENTS).await?;

    let batch = args.batch.max(1);
    let start = Instant::now();
    let mut done = 0u64;
    while done < args.rows {
        let n = batch.min(args.rows - done);
        let at = crate::now_ms();
        // The writer's statements for a batch of reports: one multi-row insert into `cases`
        // (an upsert, as moved cases share it) and one into `transitions`, with ids and
        // sequence numbers chosen beforehand.
        let mut tx = conn.begin().await?;
        let cases = format!(
            "INSERT INTO cases ({CASE_COLUMNS}) VALUES {}
             ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at,
                 last_seq = excluded.last_seq, department_code = excluded.department_code,
                 supervision = excluded.supervision, dispatched_at = excluded.dispatched_at,
                 deadline_at = excluded.deadline_at, next_check_at = excluded.next_check_at",
            placeholders(n as usize, 17)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(cases));
        for i in 0..n {
            let id = (done + i + 1) as i64;
            query = query
                .bind(id)
                .bind("municipal_facilities")
                .bind("0801")
                .bind("230602001001")
                .bind(None::<f64>)
                .bind(None::<f64>)
                .bind("load test")
                .bind("reported")
                .bind(at)
                .bind(at)
                .bind(id)
                .bind(None::<i64>)
                .bind(None::<String>)
                .bind("none")
                .bind(None::<i64>)
                .bind(None::<i64>)
                .bind(None::<i64>);
        }
        query.execute(&mut *tx).await?;
        let transitions = format!(
            "INSERT INTO transitions ({TRANSITION_COLUMNS}) VALUES {}",
            placeholders(n as usize, 11)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(transitions));
        for i in 0..n {
            let id = (done + i + 1) as i64;
            query = query
                .bind(id)
                .bind(id)
                .bind("report")
                .bind(None::<String>)
                .bind("reported")
                .bind("loadgen")
                .bind(at)
                .bind(None::<String>)
                .bind(None::<String>)
                .bind("none")
                .bind(None::<i64>);
        }
        query.execute(&mut *tx).await?;
        tx.commit().await?;
        done += n;
    }
    let spent = start.elapsed().as_secs_f64();
    conn.close().await?;
    println!(
        "sqlite-ceiling: {done} reports (a case row and a transition row each) in {spent:.2} s, transactions of {batch}"
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

/// The same reports one transaction each, with one statement per row: what the server's
/// writer did before it batched, and what batching buys.
async fn single_transactions(options: &SqliteConnectOptions, rows: u64) -> anyhow::Result<()> {
    let mut conn = sqlx::SqliteConnection::connect_with(options).await?;
    let first: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM cases")
        .fetch_one(&mut conn)
        .await?;
    let start = Instant::now();
    for i in 0..rows as i64 {
        let (id, at) = (first + i, crate::now_ms());
        let mut tx = conn.begin().await?;
        sqlx::query(
            "INSERT INTO cases (id, category, sub_item_code, grid_id, description, state, reported_at, updated_at, last_seq)
             VALUES (?, 'municipal_facilities', '0801', '230602001001', 'load test', 'reported', ?, ?, ?)",
        )
        .bind(id)
        .bind(at)
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO transitions (seq, case_id, action, to_state, actor, at)
             VALUES (?, ?, 'report', 'reported', 'loadgen', ?)",
        )
        .bind(id)
        .bind(id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    let spent = start.elapsed().as_secs_f64();
    conn.close().await?;
    println!(
        "  one report per transaction: {rows} in {spent:.2} s: {:.0} reports/s",
        rows as f64 / spent
    );
    Ok(())
}
