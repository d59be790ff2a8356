//! `kill -9` under load: the server process is killed while thousands of reports a second
//! arrive, started again on the same database, and every report it answered 201 is there, and
//! the live state equals the tables.

use crate::on_both_stores;
use crate::support::{Store, TestDb, account, account_token};
use backend::services::auth::NewAccount;
use serde_json::{Value, json};
use shared::auth::Role;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Clients sending reports at once.
const CLIENTS: usize = 64;

/// The server binary on `db` at `addr`, its log in `log`.
fn start_binary(db: &TestDb, addr: &str, log: &std::path::Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("the server's log file");
    Command::new(env!("CARGO_BIN_EXE_gridwall"))
        .args([
            "serve",
            "--addr",
            addr,
            "--database-url",
            &db.url,
            "--demo-city",
            "off",
            "--simulator-rate",
            "0",
        ])
        .arg("--photo-dir")
        .arg(db.photo_dir())
        .env("RUST_LOG", "backend=info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start the gridwall binary")
}

/// Waits until the server at `base` answers its health check.
async fn until_up(http: &reqwest::Client, base: &str, log: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(res) = http.get(format!("{base}/healthz")).send().await
            && res.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the server did not come up within 60 s; its log:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

on_both_stores!(kill_9_under_load_loses_no_acknowledged_report);
async fn kill_9_under_load_loses_no_acknowledged_report(store: Store) {
    let db = TestDb::new(store).await;
    // The sample city is a real city: its walls need a display token, and this one opens all.
    let (token, wall_token) = {
        let pool = backend::store::connect(&db.url).await.expect("open");
        backend::store::city::install(&pool, &backend::store::city::sample_areas())
            .await
            .expect("install the sample city");
        let grids: Vec<String> = sqlx::query_scalar("SELECT id FROM grids ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("grids");
        let token = account_token(
            &pool,
            NewAccount {
                grids,
                ..account("crash-worker", Role::GridWorker)
            },
        )
        .await;
        let wall_token =
            backend::services::tokens::create(&pool, &shared::wall::Scope::City, "crash test")
                .await
                .expect("a display token");
        pool.close().await;
        (token, wall_token)
    };
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        probe.local_addr().expect("its address").port()
    };
    let addr = format!("127.0.0.1:{port}");
    let base = format!("http://{addr}");
    let logs = tempfile::tempdir().expect("a directory for the logs");
    let log = logs.path().join("server.log");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let mut server = start_binary(&db, &addr, &log);
    until_up(&http, &base, &log).await;

    // Clients report as fast as the server answers; each keeps what was acknowledged.
    let acknowledged: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        let acknowledged = acknowledged.clone();
        clients.push(tokio::spawn(async move {
            for n in 0.. {
                let description = format!("崩溃测试 {client}-{n}");
                let sent = http
                    .post(format!("{base}/api/cases"))
                    .bearer_auth(&token)
                    .json(&json!({
                        "category": "municipal_facilities",
                        "sub_item": "0801",
                        "grid_id": "SR-01-001",
                        "point": {"lon": 125.025, "lat": 46.585},
                        "description": description,
                    }))
                    .send()
                    .await;
                let Ok(res) = sent else { return };
                if res.status() != 201 {
                    return;
                }
                // A 201 whose body never arrived was not seen by the client: it does not count.
                let Ok(case) = res.json::<Value>().await else {
                    return;
                };
                let id = case["id"].as_i64().expect("an id");
                acknowledged.lock().expect("lock").push((id, description));
            }
        }));
    }
    // Until the server has acknowledged a good many, then kill -9 in the middle of the flow.
    let started = Instant::now();
    while acknowledged.lock().expect("lock").len() < 3_000 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "fewer than 3,000 reports acknowledged in 120 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rate = acknowledged.lock().expect("lock").len() as f64 / started.elapsed().as_secs_f64();
    server.kill().expect("kill -9 the server");
    server.wait().expect("the killed server's status");
    for client in clients {
        client.await.expect("a client task");
    }
    let acknowledged = std::mem::take(&mut *acknowledged.lock().expect("lock"));
    eprintln!(
        "{store:?}: {} reports acknowledged ({rate:.0} a second) before kill -9",
        acknowledged.len()
    );

    // Started again on the same database, it has every acknowledged report.
    let mut again = start_binary(&db, &addr, &log);
    until_up(&http, &base, &log).await;
    let pool = backend::store::connect(&db.url).await.expect("open");
    let stored: Vec<(i64, String)> = sqlx::query_as("SELECT id, description FROM cases")
        .fetch_all(&pool)
        .await
        .expect("the stored cases");
    let stored: std::collections::HashMap<i64, String> = stored.into_iter().collect();
    let missing: Vec<&(i64, String)> = acknowledged
        .iter()
        .filter(|(id, description)| stored.get(id) != Some(description))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged reports are missing after kill -9, such as {:?}",
        missing.len(),
        acknowledged.len(),
        &missing[..missing.len().min(5)]
    );

    // The live state equals the tables in every scope.
    let scopes = backend::check::all_scopes(&pool).await.expect("scopes");
    let results = backend::check::check_scopes(
        &pool,
        &base,
        Some(wall_token.as_str()),
        &scopes,
        shared::time::DEFAULT_UTC_OFFSET_MINUTES,
    )
    .await
    .expect("check");
    for (scope, _, diffs) in results {
        assert!(diffs.is_empty(), "{scope}: {diffs:?}");
    }
    let wall: Value = http
        .get(format!("{base}/api/wall?token={wall_token}"))
        .send()
        .await
        .expect("the wall")
        .json()
        .await
        .expect("wall JSON");
    assert_eq!(
        wall["state"]["counters"]["reported_total"].as_u64(),
        Some(stored.len() as u64),
        "the wall counts every stored report"
    );
    pool.close().await;
    again.kill().expect("stop the server");
    let _ = again.wait();
}
