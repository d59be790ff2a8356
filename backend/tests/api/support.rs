//! A real gridwall server for tests: port 0, its own temporary database, stopped on demand.

use backend::config::Config;
use serde_json::Value;
use sqlx::SqlitePool;
use sqlx::sqlite::SqlitePoolOptions;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub struct TestServer {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub db_path: PathBuf,
    stop: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
    // Keeps the database directory alive for as long as the server runs.
    dir: Option<TempDir>,
}

impl TestServer {
    /// A server on a fresh database in a new temporary directory.
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut server = TestServer::start_on(&dir.path().join("gridwall.db")).await;
        server.dir = Some(dir);
        server
    }

    /// A server on the database file at `db_path`, which may already hold data.
    pub async fn start_on(db_path: &Path) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let addr = listener.local_addr().expect("local address");
        let config = Config::new(format!("sqlite:{}", db_path.display()));
        let stop = CancellationToken::new();
        let task = tokio::spawn(backend::run(
            listener,
            config,
            stop.clone().cancelled_owned(),
        ));
        let server = TestServer {
            addr,
            http: reqwest::Client::new(),
            db_path: db_path.to_owned(),
            stop,
            task,
            dir: None,
        };
        // The listener is bound before `run` starts, so the first request simply waits for it.
        let health = server.get("/healthz").await;
        assert_eq!(health.status(), 200, "the server did not come up");
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    /// Reports a valid case and returns its JSON view.
    pub async fn report(&self, description: &str) -> Value {
        let res = self
            .post_json(
                "/api/cases",
                &serde_json::json!({
                    "category": "municipal_facilities",
                    "grid_id": "SR-01-001",
                    "point": {"lon": 125.03, "lat": 46.59},
                    "description": description,
                }),
            )
            .await;
        assert_eq!(res.status(), 201);
        res.json().await.expect("case JSON")
    }

    /// The wall's counters as `/api/wall` gives them.
    pub async fn counters(&self) -> Value {
        let snapshot: Value = self.get("/api/wall").await.json().await.expect("wall JSON");
        snapshot["state"]["counters"].clone()
    }

    /// A second connection to the server's database, as an operator's tool would open it.
    pub async fn db(&self) -> SqlitePool {
        SqlitePoolOptions::new()
            .max_connections(1)
            .connect(&format!("sqlite:{}", self.db_path.display()))
            .await
            .expect("open the test database")
    }

    /// Stops the server and waits until it has shut down.
    pub async fn stop(self) -> Option<TempDir> {
        self.stop.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the server stops within 10 s")
            .expect("the server task does not panic")
            .expect("the server shuts down cleanly");
        self.dir
    }
}

/// Rows in the two event tables.
pub async fn table_counts(db: &SqlitePool) -> (i64, i64) {
    let cases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(db)
        .await
        .expect("count cases");
    let transitions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM transitions")
        .fetch_one(db)
        .await
        .expect("count transitions");
    (cases, transitions)
}
