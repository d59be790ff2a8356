//! A real gridwall server for tests: port 0, a database of its own (an SQLite file in a
//! temporary directory, or a fresh PostgreSQL database), stopped on demand.

use backend::config::Config;
use backend::services::auth::NewAccount;
use serde_json::Value;
use shared::auth::Role;
use shared::wall::Scope;
use sqlx::AnyPool;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Sqlite,
    Postgres,
}

/// Runs a storage scenario `async fn name(store: Store)` once on each database, as the tests
/// `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_stores {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::support::Store::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$name($crate::support::Store::Postgres).await
            }
        }
    };
}

/// A database for one test, removed when the test is done with it, with a directory for its
/// photos.
#[derive(Debug)]
pub struct TestDb {
    pub url: String,
    // Holds the photo directory and, on SQLite, the database file.
    dir: TempDir,
    // For PostgreSQL: the server's admin URL and the database to drop afterwards.
    drop_with: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.drop_with.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot block; a short-lived thread with
        // its own runtime removes the database.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database");
            rt.block_on(async {
                if let Ok(admin) = AnyPool::connect(&admin_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&admin).await;
                    admin.close().await;
                }
            });
        })
        .join();
    }
}

impl TestDb {
    pub async fn new(store: Store) -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        match store {
            Store::Sqlite => TestDb {
                url: format!("sqlite:{}", dir.path().join("gridwall.db").display()),
                dir,
                drop_with: None,
            },
            Store::Postgres => {
                static NEXT: AtomicU32 = AtomicU32::new(0);
                let admin_url = std::env::var("GRIDWALL_TEST_POSTGRES_URL").unwrap_or_else(|_| {
                    "postgres://gridwall:gridwall@127.0.0.1:5432/postgres".to_owned()
                });
                let name = format!(
                    "gridwall_test_{}_{}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::Relaxed)
                );
                sqlx::any::install_default_drivers();
                let admin = AnyPool::connect(&admin_url).await.unwrap_or_else(|err| {
                    panic!(
                        "cannot reach PostgreSQL at {admin_url} ({err}); scripts/setup installs \
                         and starts it, or set GRIDWALL_TEST_POSTGRES_URL"
                    )
                });
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name}"
                )))
                .execute(&admin)
                .await
                .expect("drop an old test database");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&admin)
                    .await
                    .expect("create the test database");
                admin.close().await;
                let (base, _) = admin_url
                    .rsplit_once('/')
                    .expect("a database URL with a path");
                TestDb {
                    url: format!("{base}/{name}"),
                    dir,
                    drop_with: Some((admin_url, name)),
                }
            }
        }
    }

    /// An SQLite database in `dir` (a directory on a file system of the test's choosing).
    pub fn sqlite_in(dir: TempDir) -> TestDb {
        TestDb {
            url: format!("sqlite:{}", dir.path().join("gridwall.db").display()),
            dir,
            drop_with: None,
        }
    }

    /// Where the server on this database stores its photos.
    pub fn photo_dir(&self) -> PathBuf {
        self.dir.path().join("photos")
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    /// A client that signs its requests as the grid worker of every grid, unless a request
    /// says otherwise.
    pub http: reqwest::Client,
    pub db: TestDb,
    /// Bearer tokens of the test accounts: a grid worker of every grid, a city dispatcher
    /// and a leader.
    pub tokens: Tokens,
    /// Department staff tokens, made when a move first needs one.
    staff: Mutex<HashMap<String, String>>,
    stop: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

#[derive(Debug, Clone)]
pub struct Tokens {
    pub worker: String,
    pub dispatcher: String,
    pub leader: String,
}

/// One argon2 hash for every test account: hashing is slow on purpose, and tests sign in by
/// sessions made directly, so the password is never checked but by the login test.
pub fn test_password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| backend::services::auth::hash_password(TEST_PASSWORD))
        .clone()
}

pub const TEST_PASSWORD: &str = "test password";

/// Creates an account on `db` and opens a session for it; returns the bearer token.
pub async fn account_token(db: &AnyPool, account: NewAccount) -> String {
    let id = backend::services::auth::put_account(db, &account)
        .await
        .expect("create a test account");
    backend::services::auth::issue_session(db, id)
        .await
        .expect("open a test session")
        .0
}

/// A test account with `role` and nothing else; fill in its reach with struct update syntax.
pub fn account(login: &str, role: Role) -> NewAccount {
    NewAccount {
        login: login.to_owned(),
        name: login.to_owned(),
        role,
        area: None,
        department: None,
        grids: Vec::new(),
        member_id: None,
        password_hash: test_password_hash(),
        demo: false,
    }
}

impl TestServer {
    /// A server on a fresh SQLite database holding the four-grid sample city.
    pub async fn start() -> TestServer {
        TestServer::start_on(Store::Sqlite).await
    }

    /// A server on a fresh database of the given kind holding the four-grid sample city.
    pub async fn start_on(store: Store) -> TestServer {
        TestServer::start_sample(store, |_| {}).await
    }

    /// A server on a fresh database of the given kind holding the four-grid sample city,
    /// with its configuration changed by `configure`.
    pub async fn start_sample(store: Store, configure: impl FnOnce(&mut Config)) -> TestServer {
        TestServer::start_sample_in(TestDb::new(store).await, configure).await
    }

    /// A server on `db`, a new database, holding the four-grid sample city, with its
    /// configuration changed by `configure`.
    pub async fn start_sample_in(db: TestDb, configure: impl FnOnce(&mut Config)) -> TestServer {
        let pool = backend::store::connect(&db.url)
            .await
            .expect("open the test database");
        backend::store::city::install(&pool, &backend::store::city::sample_areas())
            .await
            .expect("install the sample city");
        pool.close().await;
        let mut config = Config::new(db.url.clone());
        configure(&mut config);
        TestServer::start_configured(db, config).await
    }

    /// A server on `db`, which may already hold data.
    pub async fn start_with(db: TestDb) -> TestServer {
        let config = Config::new(db.url.clone());
        TestServer::start_configured(db, config).await
    }

    /// A server on `db` listening at `addr`, as a restarted server does.
    pub async fn start_at(db: TestDb, addr: SocketAddr) -> TestServer {
        let listener = TcpListener::bind(addr)
            .await
            .expect("bind the same address again");
        let config = Config::new(db.url.clone());
        TestServer::serve(db, config, listener).await
    }

    /// A server on `db` with the given configuration (whose database URL must be `db`'s).
    pub async fn start_configured(db: TestDb, config: Config) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        TestServer::serve(db, config, listener).await
    }

    async fn serve(db: TestDb, mut config: Config, listener: TcpListener) -> TestServer {
        // Photos go beside the test's database whatever the configuration says, so that no
        // test writes into the working directory.
        config.photo_dir = db.photo_dir();
        let addr = listener.local_addr().expect("local address");
        let tokens = {
            // The accounts go in before the server starts, since it reads the city's areas
            // at start; migrations run here first when the database is new.
            let pool = backend::store::connect(&db.url)
                .await
                .expect("open the test database");
            let grids: Vec<String> = sqlx::query_scalar("SELECT id FROM grids ORDER BY id")
                .fetch_all(&pool)
                .await
                .expect("read the grids");
            let tokens = Tokens {
                worker: account_token(
                    &pool,
                    NewAccount {
                        grids,
                        ..account("test-worker", Role::GridWorker)
                    },
                )
                .await,
                dispatcher: account_token(
                    &pool,
                    NewAccount {
                        area: Some(Scope::City),
                        ..account("test-dispatcher", Role::Dispatcher)
                    },
                )
                .await,
                leader: account_token(
                    &pool,
                    NewAccount {
                        area: Some(Scope::City),
                        ..account("test-leader", Role::Leader)
                    },
                )
                .await,
            };
            pool.close().await;
            tokens
        };
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {}", tokens.worker)
                .parse()
                .expect("a header value"),
        );
        let https = config.tls.is_some();
        let stop = CancellationToken::new();
        let task = tokio::spawn(backend::run(
            listener,
            config,
            stop.clone().cancelled_owned(),
        ));
        let server = TestServer {
            addr,
            http: reqwest::Client::builder()
                .default_headers(headers)
                .build()
                .expect("an HTTP client"),
            db,
            tokens,
            staff: Mutex::new(HashMap::new()),
            stop,
            task,
        };
        // The listener is bound before `run` starts, so the first request simply waits for it.
        // (A test of HTTPS asks for itself: this client speaks plain HTTP.)
        if !https {
            let health = server.get("/healthz").await;
            assert_eq!(health.status(), 200, "the server did not come up");
        }
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// GETs `path` as the leader, who may read everything.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(&self.tokens.leader)
            .send()
            .await
            .expect("GET")
    }

    /// POSTs `body` to `path` as the account whose role makes the request: the grid worker
    /// reports, verifies and returns; the case's department staff accept and resolve; the
    /// city dispatcher makes every other move.
    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        let token = self.token_for(path, body).await;
        self.post_as(&token, path, body).await
    }

    /// POSTs `body` to `path` with the bearer `token`.
    pub async fn post_as(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    async fn token_for(&self, path: &str, body: &Value) -> String {
        let Some(id) = path
            .strip_prefix("/api/cases/")
            .and_then(|rest| rest.strip_suffix("/moves"))
        else {
            return self.tokens.worker.clone();
        };
        match body["action"].as_str().unwrap_or("") {
            "verify" | "return" => self.tokens.worker.clone(),
            "accept" | "resolve" => {
                let case: Value = self
                    .get(&format!("/api/cases/{id}"))
                    .await
                    .json()
                    .await
                    .unwrap_or(Value::Null);
                let department = case["department"].as_str().unwrap_or("D01").to_owned();
                self.staff_token(&department).await
            }
            _ => self.tokens.dispatcher.clone(),
        }
    }

    /// A bearer token of staff of `department`.
    pub async fn staff_token(&self, department: &str) -> String {
        if let Some(token) = self.staff.lock().expect("not poisoned").get(department) {
            return token.clone();
        }
        let token = account_token(
            &self.db().await,
            NewAccount {
                department: Some(department.to_owned()),
                ..account(&format!("test-staff-{department}"), Role::DepartmentStaff)
            },
        )
        .await;
        self.staff
            .lock()
            .expect("not poisoned")
            .insert(department.to_owned(), token.clone());
        token
    }

    /// Reports a valid case and returns its JSON view.
    pub async fn report(&self, description: &str) -> Value {
        let res = self
            .post_json(
                "/api/cases",
                &serde_json::json!({
                    "category": "municipal_facilities",
                    "sub_item": "0801",
                    "grid_id": "SR-01-001",
                    "point": {"lon": 125.025, "lat": 46.585},
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
    pub async fn db(&self) -> AnyPool {
        backend::store::connect(&self.db.url)
            .await
            .expect("open the test database")
    }

    /// Stops the server, waits until it has shut down, and hands back its database.
    pub async fn stop(self) -> TestDb {
        self.stop.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the server stops within 10 s")
            .expect("the server task does not panic")
            .expect("the server shuts down cleanly");
        self.db
    }
}

/// Rows in the two event tables.
pub async fn table_counts(db: &AnyPool) -> (i64, i64) {
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
