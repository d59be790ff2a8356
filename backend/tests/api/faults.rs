//! Faults under the server: a full disk and a read-only database. Writes get a 503 that says
//! why, the wall stays up and shows that writes are failing, and everything resumes when the
//! fault is gone.

use crate::support::{Store, TestDb, TestServer};
use futures_util::StreamExt;
use serde_json::{Value, json};
use shared::wall::{ServerMsg, WriteTrouble};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// A small tmpfs mounted for one test, unmounted when dropped.
struct SmallDisk {
    mount: PathBuf,
    _holder: tempfile::TempDir,
}

impl SmallDisk {
    /// Mounts a tmpfs of `megabytes`; mounting needs root, which the suite runs as in CI.
    fn mount(megabytes: u32) -> SmallDisk {
        let holder = tempfile::tempdir().expect("temporary directory");
        let mount = holder.path().join("disk");
        std::fs::create_dir(&mount).expect("mount point");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&mount)
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "cannot mount a {megabytes} MiB tmpfs at {} (this test needs root: CI runs as \
             root; elsewhere skip it with `--skip faults::`)",
            mount.display()
        );
        SmallDisk {
            mount,
            _holder: holder,
        }
    }

    /// Fills the disk with a file until no byte more fits; returns the file.
    fn fill(&self) -> PathBuf {
        let filler = self.mount.join("filler");
        let mut file = std::fs::File::create(&filler).expect("filler file");
        let block = vec![0x5a_u8; 64 * 1024];
        loop {
            match std::io::Write::write(&mut file, &block) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.mount).status();
    }
}

fn report_body(n: usize) -> Value {
    json!({
        "category": "municipal_facilities",
        "sub_item": "0801",
        "grid_id": "SR-01-001",
        "point": {"lon": 125.025, "lat": 46.585},
        // Long descriptions fill the disk in fewer reports.
        "description": format!("磁盘写满测试 {n} {}", "井盖缺失，".repeat(300)),
    })
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Reads the wall's messages until a heartbeat whose `writes_failing` matches `want`.
async fn heartbeat_saying(ws: &mut Ws, want: Option<WriteTrouble>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let msg = tokio::time::timeout(left, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no heartbeat saying {want:?} within 20 s"))
            .expect("the wall's stream is open")
            .expect("a valid frame");
        if let Message::Text(text) = msg
            && let ServerMsg::Heartbeat { writes_failing, .. } =
                serde_json::from_str(&text).expect("a protocol message")
            && writes_failing.map(|f| f.trouble) == want
        {
            return;
        }
    }
}

/// POSTs reports until one is refused; returns the refusal.
async fn report_until_refused(server: &TestServer) -> reqwest::Response {
    for n in 0..5_000 {
        let res = server.post_json("/api/cases", &report_body(n)).await;
        if res.status() != 201 {
            return res;
        }
    }
    panic!("5,000 reports were stored on a full disk");
}

/// Waits until `/healthz` answers `status`; returns its body.
async fn health_becomes(server: &TestServer, status: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let res = server.get("/healthz").await;
        if res.status() == status {
            return res.text().await.expect("health body");
        }
        assert!(
            Instant::now() < deadline,
            "/healthz did not answer {status} within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_full_disk_refuses_writes_with_503_and_the_wall_says_so_until_space_returns() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("backend=info")
        .with_test_writer()
        .try_init();
    let disk = SmallDisk::mount(24);
    let dir = tempfile::tempdir_in(&disk.mount).expect("a directory on the small disk");
    let server = TestServer::start_sample_in(TestDb::sqlite_in(dir), |_| {}).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr))
        .await
        .expect("WebSocket handshake");
    let before = server.report("磁盘写满之前").await;

    let filler = disk.fill();
    let refused = report_until_refused(&server).await;
    assert_eq!(refused.status(), 503);
    assert_eq!(
        refused
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("5"),
        "a 503 of failing writes says when to try again"
    );
    let body: Value = refused.json().await.expect("error JSON");
    assert_eq!(body["error"]["code"], "writes_failing", "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("disk is full"), "{message}");
    assert!(message.contains("nothing was stored"), "{message}");

    // The wall stays up, says that writes fail, and so does the health check.
    heartbeat_saying(&mut ws, Some(WriteTrouble::DiskFull)).await;
    let wall = server.get("/api/wall").await;
    assert_eq!(wall.status(), 200, "the wall's state is still served");
    let health = health_becomes(&server, 503).await;
    assert!(health.contains("disk is full"), "{health}");
    let case = server.get(&format!("/api/cases/{}", before["id"])).await;
    assert_eq!(case.status(), 200, "reads go on while writes fail");

    // Space returns: the writer's probe finds it without any report, and writes resume.
    std::fs::remove_file(&filler).expect("remove the filler");
    heartbeat_saying(&mut ws, None).await;
    assert_eq!(health_becomes(&server, 200).await, "ok");
    let after = server.post_json("/api/cases", &report_body(0)).await;
    let status = after.status();
    assert_eq!(
        status,
        201,
        "writes resume when space returns: {}",
        after.text().await.unwrap_or_default()
    );
    let counters = server.counters().await;
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(&server.db().await)
        .await
        .expect("count");
    assert_eq!(
        counters["reported_total"].as_i64(),
        Some(stored),
        "the wall counts exactly the reports that were stored"
    );
    drop(ws);
    drop(server.stop().await);
    drop(disk);
}

/// PostgreSQL made read-only (as a standby is, or a database an operator froze): writes get
/// 503 naming it, and resume when it takes writes again.
#[tokio::test]
async fn a_read_only_database_refuses_writes_with_503_until_it_takes_writes_again() {
    let server = TestServer::start_on(Store::Postgres).await;
    server.report("只读之前").await;
    let name = server
        .db
        .url
        .rsplit('/')
        .next()
        .expect("a database name")
        .to_owned();
    set_read_only(&server.db.url, &name, true).await;
    // The first write may meet its connection ended by the switch (a 503 of a failing
    // database); the next ones meet the read-only database.
    let mut message = String::new();
    for n in 0..50 {
        let refused = server.post_json("/api/cases", &report_body(n)).await;
        assert_eq!(
            refused.status(),
            503,
            "a read-only database stored a report"
        );
        let body: Value = refused.json().await.expect("error JSON");
        assert_eq!(body["error"]["code"], "writes_failing", "{body}");
        message = body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if message.contains("read-only") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(message.contains("read-only"), "{message}");
    let health = health_becomes(&server, 503).await;
    assert!(health.contains("read-only"), "{health}");

    set_read_only(&server.db.url, &name, false).await;
    assert_eq!(health_becomes(&server, 200).await, "ok");
    let after = server.post_json("/api/cases", &report_body(2)).await;
    assert_eq!(after.status(), 201);
    server.stop().await;
}

/// Sets the database's default to read-only (or back) and ends its other sessions, so that
/// the server's connections start again under the new default.
async fn set_read_only(url: &str, name: &str, on: bool) {
    use sqlx::Connection;
    // A connection of its own: the sessions it ends would include a pool's other ones.
    let mut admin = sqlx::AnyConnection::connect(url)
        .await
        .expect("connect to the test database");
    // This session takes writes whatever the database's default has become.
    sqlx::query("SET default_transaction_read_only = off")
        .execute(&mut admin)
        .await
        .expect("a session that takes writes");
    let value = if on { "on" } else { "off" };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {name} SET default_transaction_read_only = {value}"
    )))
    .execute(&mut admin)
    .await
    .expect("alter the database");
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut admin)
    .await
    .expect("end the other sessions");
    let _ = admin.close().await;
}
