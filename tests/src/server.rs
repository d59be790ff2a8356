//! The real gridwall server, in-process, on a loopback port with a database of its own.

use backend::config::Config;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;
use tempfile::TempDir;
use tokio::net::{TcpListener, TcpSocket};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

#[derive(Debug)]
pub struct Server {
    pub addr: SocketAddr,
    pub db_path: PathBuf,
    /// A client that reports with the server's test API key.
    pub http: reqwest::Client,
    stop: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

/// A listener that can take over the address of a server that just stopped.
fn listen(addr: SocketAddr) -> TcpListener {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_reuseaddr(true).expect("SO_REUSEADDR");
    socket.bind(addr).expect("bind");
    socket.listen(1024).expect("listen")
}

impl Server {
    /// Starts a server on a new database inside `dir` holding the four-grid sample city, on a
    /// free loopback port.
    pub async fn start(dir: &TempDir, config: impl FnOnce(Config) -> Config) -> Server {
        let db_path = dir.path().join("gridwall.db");
        let pool = backend::store::connect(&format!("sqlite:{}", db_path.display()))
            .await
            .expect("create the test database");
        backend::store::city::install(&pool, &backend::store::city::sample_areas())
            .await
            .expect("install the sample city");
        pool.close().await;
        Server::start_at(&db_path, "127.0.0.1:0".parse().expect("address"), config).await
    }

    /// Starts a server on a copy, inside `dir`, of a database holding the demo city (Daqing's
    /// 4,880 grids, its team, people and housing, and [`DEMO_CASES`] cases of history). The
    /// city is built once per test binary; every server gets its own copy.
    pub async fn start_demo(dir: &TempDir, config: impl FnOnce(Config) -> Config) -> Server {
        let db_path = dir.path().join("gridwall.db");
        std::fs::copy(demo_template(), &db_path).expect("copy the demo city");
        Server::start_at(&db_path, "127.0.0.1:0".parse().expect("address"), config).await
    }

    /// Starts a server on `db_path`, listening on `addr`.
    pub async fn start_at(
        db_path: &Path,
        addr: SocketAddr,
        config: impl FnOnce(Config) -> Config,
    ) -> Server {
        let url = format!("sqlite:{}", db_path.display());
        // Cases are reported as an outside reporting app would: with an API key, which may
        // report anywhere in the city.
        let pool = backend::store::connect(&url)
            .await
            .expect("open the test database");
        let key = backend::services::auth::create_api_key(&pool, "browser-tests", false)
            .await
            .expect("an API key");
        pool.close().await;
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-api-key", key.parse().expect("a header value"));
        let listener = listen(addr);
        let addr = listener.local_addr().expect("local address");
        let config = config(Config::new(url));
        let stop = CancellationToken::new();
        let task = tokio::spawn(backend::run(
            listener,
            config,
            stop.clone().cancelled_owned(),
        ));
        let mut server = Server {
            addr,
            db_path: db_path.to_owned(),
            http: reqwest::Client::builder()
                .default_headers(headers)
                .build()
                .expect("an HTTP client"),
            stop,
            task,
        };
        let health = match server.http.get(server.url("/healthz")).send().await {
            Ok(health) => health,
            // A server that stopped at start closes its listener: say why it stopped.
            Err(err) => {
                match tokio::time::timeout(Duration::from_secs(5), &mut server.task).await {
                    Ok(stopped) => panic!("the server stopped at start ({err}): {stopped:?}"),
                    Err(_) => panic!("GET /healthz: {err}"),
                }
            }
        };
        assert_eq!(health.status(), 200, "the server did not come up");
        server
    }

    /// `GET path` as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let res = self
            .http
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|err| panic!("GET {path}: {err}"));
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.expect("JSON")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Reports a case through the HTTP API, as a grid worker's phone would.
    pub async fn report(&self, description: &str) -> Value {
        let res = self
            .http
            .post(self.url("/api/cases"))
            .json(&json!({
                "category": "municipal_facilities",
                "point": {"lon": 125.025, "lat": 46.585},
                "description": description,
            }))
            .send()
            .await
            .expect("POST /api/cases");
        assert_eq!(res.status(), 201);
        res.json().await.expect("case JSON")
    }

    /// Stops the server and waits until it has shut down.
    pub async fn stop(self) {
        self.stop.cancel();
        // A demo city's server saves its state as it stops: about 26 MB of JSON, gzipped, which
        // a debug build on a busy 2-core machine took 7 s to write. The bound catches a server
        // that hangs, not one that is slow.
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("the server stops within 30 s")
            .expect("the server task does not panic")
            .expect("the server shuts down cleanly");
    }
}

/// Cases of history in the tests' demo city: enough to colour the map and fill every panel,
/// few enough to build quickly in a debug build.
pub const DEMO_CASES: usize = 6_000;

/// The demo city's database, built on first use into a directory that lives as long as the
/// test binary.
fn demo_template() -> &'static Path {
    static TEMPLATE: OnceLock<(TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("demo.db");
        let url = format!("sqlite:{}", path.display());
        // Built on a runtime of its own: the tests' runtimes end with their tests.
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(async {
                let pool = backend::store::connect(&url)
                    .await
                    .expect("create the demo database");
                let now_ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("a clock after 1970")
                    .as_millis() as i64;
                backend::demo::build_scaled(
                    &pool,
                    backend::demo::DemoCity::Full,
                    backend::demo::Scale {
                        cases: DEMO_CASES,
                        visit_days: 35,
                    },
                    2023,
                    now_ms,
                    Config::new(url.clone()).utc_offset_minutes,
                )
                .await
                .expect("build the demo city");
                // A checkpoint folds the write-ahead log into the file, so copying the file
                // copies the whole city.
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&pool)
                    .await
                    .expect("checkpoint");
                pool.close().await;
            });
        })
        .join()
        .expect("building the demo city does not panic");
        (dir, path)
    });
    path
}
