//! Demo mode as a property of the database, and the credentials' lifecycle: a real city starts
//! closed and refuses the demo's flags; the command line adds, lists, disables and revokes
//! credentials; a revoked or ended credential closes the sockets it opened, with the reason.

use crate::on_both_stores;
use crate::support::{Store, TestDb, TestServer, account, account_token};
use backend::config::{CityKind, Cli, Config};
use backend::services::auth::NewAccount;
use clap::Parser;
use futures_util::StreamExt;
use serde_json::json;
use shared::auth::Role;
use shared::wall::Scope;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// The serve flags as the binary would read them, on `url`.
fn serve_flags(url: &str, flags: &[&str]) -> backend::config::ServeArgs {
    let mut argv = vec!["gridwall", "--database-url", url];
    argv.extend_from_slice(flags);
    Cli::try_parse_from(argv).expect("the flags parse").serve
}

/// A database holding the four-grid sample city, as an imported city: not a demo.
async fn real_city(store: Store) -> TestDb {
    let db = TestDb::new(store).await;
    let pool = backend::store::connect(&db.url).await.expect("open");
    backend::store::city::install(&pool, &backend::store::city::sample_areas())
        .await
        .expect("install the sample city");
    pool.close().await;
    db
}

on_both_stores!(a_real_city_refuses_the_demo_flags_and_starts_closed);
async fn a_real_city_refuses_the_demo_flags_and_starts_closed(store: Store) {
    let db = real_city(store).await;
    let refused = backend::config::resolve(&serve_flags(&db.url, &["--simulator-rate", "30"]))
        .await
        .expect_err("the simulator is refused on a real city");
    assert!(
        format!("{refused:#}").contains("--simulator-rate"),
        "{refused:#}"
    );
    let refused = backend::config::resolve(&serve_flags(&db.url, &["--open-walls", "true"]))
        .await
        .expect_err("open walls are refused on a real city");
    assert!(
        format!("{refused:#}").contains("--open-walls"),
        "{refused:#}"
    );
    // `--demo-city off` asks for nothing the demo has: it starts, closed.
    let config = backend::config::resolve(&serve_flags(&db.url, &["--demo-city", "off"]))
        .await
        .expect("a real city starts");
    assert_eq!(config.simulator_every, None);
    assert!(!config.walls_open);
    let server = TestServer::start_configured(db, config).await;
    let pool = server.db().await;
    for sql in [
        "SELECT COUNT(*) FROM accounts WHERE demo = 1",
        "SELECT COUNT(*) FROM api_keys WHERE demo = 1",
    ] {
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.expect(sql);
        assert_eq!(n, 0, "{sql}");
    }
    // A client without a login: the walls need a display token.
    let res = reqwest::get(server.url("/api/wall?scope=city"))
        .await
        .expect("GET");
    assert_eq!(res.status(), 401);
    let err = tokio_tungstenite::connect_async(format!("ws://{}/ws?scope=city", server.addr))
        .await
        .expect_err("the stream needs a token");
    assert!(
        matches!(&err, tokio_tungstenite::tungstenite::Error::Http(res) if res.status() == 401),
        "{err:?}"
    );
    server.stop().await;
}

on_both_stores!(the_demo_city_is_marked_in_its_database);
async fn the_demo_city_is_marked_in_its_database(store: Store) {
    let db = TestDb::new(store).await;
    let pool = backend::store::connect(&db.url).await.expect("open");
    assert_eq!(CityKind::of(&pool).await.expect("read"), CityKind::Empty);
    let scale = backend::demo::Scale {
        cases: 0,
        visit_days: 1,
    };
    backend::demo::build_scaled(
        &pool,
        backend::demo::DemoCity::Bare,
        scale,
        2023,
        backend::clock::now_ms(),
        480,
    )
    .await
    .expect("build the demo city");
    assert_eq!(CityKind::of(&pool).await.expect("read"), CityKind::Demo);
    pool.close().await;
    // `--demo-city off` does not make a demo database a real city: the demo's defaults hold.
    let config = backend::config::resolve(&serve_flags(&db.url, &["--demo-city", "off"]))
        .await
        .expect("the demo starts");
    assert!(config.walls_open);
    assert!(config.simulator_every.is_some());
}

/// Runs the `gridwall` binary with `args` on `url`, `stdin` as its input; returns its
/// standard output, and panics with its standard error when it fails.
fn gridwall(url: &str, args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gridwall"))
        .args(args)
        .args(["--database-url", url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gridwall");
    child
        .stdin
        .take()
        .expect("its input")
        .write_all(stdin.as_bytes())
        .expect("write its input");
    let out = child.wait_with_output().expect("gridwall's output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "gridwall {args:?} failed: {stderr}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// [`gridwall`] as a blocking task, so that the test's server keeps answering meanwhile.
async fn cli(url: &str, args: &[&str], stdin: &str) -> String {
    let (url, stdin) = (url.to_owned(), stdin.to_owned());
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        gridwall(&url, &args, &stdin)
    })
    .await
    .expect("the command ran")
}

async fn login(server: &TestServer, login: &str, password: &str) -> u16 {
    reqwest::Client::new()
        .post(server.url("/api/login"))
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .expect("POST /api/login")
        .status()
        .as_u16()
}

on_both_stores!(the_command_line_manages_accounts_keys_and_display_tokens);
async fn the_command_line_manages_accounts_keys_and_display_tokens(store: Store) {
    let server = TestServer::start_sample(store, |c| c.walls_open = false).await;
    let url = server.db.url.clone();

    // Accounts: the password comes on standard input, never in argv.
    cli(
        &url,
        &[
            "account",
            "add",
            "chen",
            "--name",
            "陈调度",
            "--role",
            "dispatcher",
            "--area",
            "district:SR",
            "--password-stdin",
        ],
        "first password\n",
    )
    .await;
    let list = cli(&url, &["account", "list"], "").await;
    let line = list
        .lines()
        .find(|l| l.starts_with("chen "))
        .unwrap_or_else(|| panic!("chen is listed:\n{list}"));
    assert!(
        line.contains("dispatcher") && line.contains("district:SR") && line.contains("active"),
        "{line}"
    );
    assert!(!list.contains("$argon2"), "no hash is listed:\n{list}");
    assert_eq!(login(&server, "chen", "first password").await, 200);
    cli(
        &url,
        &["account", "password", "chen", "--password-stdin"],
        "second password\n",
    )
    .await;
    assert_eq!(login(&server, "chen", "first password").await, 401);
    assert_eq!(login(&server, "chen", "second password").await, 200);
    cli(&url, &["account", "disable", "chen"], "").await;
    assert_eq!(login(&server, "chen", "second password").await, 403);
    let list = cli(&url, &["account", "list"], "").await;
    assert!(
        list.lines()
            .any(|l| l.starts_with("chen ") && l.contains("disabled")),
        "{list}"
    );

    // API keys: the key is printed once; the list names the app, never the key.
    let key = cli(&url, &["key", "add", "hotline-12345"], "").await;
    let key = key.trim();
    assert_eq!(key.len(), 64, "{key}");
    let list = cli(&url, &["key", "list"], "").await;
    assert!(list.contains("hotline-12345"), "{list}");
    assert!(!list.contains(key), "the key is not listed:\n{list}");
    let id = list
        .lines()
        .find(|l| l.contains("hotline-12345"))
        .and_then(|l| l.split_whitespace().next())
        .expect("the key's number")
        .to_owned();
    cli(&url, &["key", "revoke", &id], "").await;
    let res = reqwest::Client::new()
        .get(server.url("/api/me"))
        .header("X-Api-Key", key)
        .send()
        .await
        .expect("GET /api/me");
    assert_eq!(res.status(), 401, "a revoked key is refused");
    assert!(cli(&url, &["key", "list"], "").await.contains("revoked"));

    // Display tokens: the new spelling and the old one both make one.
    let token = cli(
        &url,
        &[
            "token",
            "display",
            "add",
            "--scope",
            "city",
            "--label",
            "市中心大屏",
        ],
        "",
    )
    .await;
    let token = token.trim().to_owned();
    let old = cli(&url, &["token", "display", "--scope", "district:SR"], "").await;
    assert_eq!(old.trim().len(), 64, "{old}");
    let wall = |token: String| {
        let server = &server;
        async move {
            reqwest::get(server.url(&format!("/api/wall?scope=city&token={token}")))
                .await
                .expect("GET")
                .status()
                .as_u16()
        }
    };
    assert_eq!(wall(token.clone()).await, 200);
    let list = cli(&url, &["token", "display", "list"], "").await;
    assert!(
        list.contains("市中心大屏") && list.contains("district:SR"),
        "{list}"
    );
    assert!(!list.contains(&token), "the token is not listed:\n{list}");
    let id = list
        .lines()
        .find(|l| l.contains("市中心大屏"))
        .and_then(|l| l.split_whitespace().next())
        .expect("the token's number")
        .to_owned();
    cli(&url, &["token", "display", "revoke", &id], "").await;
    assert_eq!(wall(token).await, 401, "a revoked display token is refused");
    server.stop().await;
}

/// Reads `ws` until the server closes it; returns the close frame's code and reason.
async fn closed<S>(ws: &mut S) -> (u16, String)
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    // Not a timing: a bound on "never", past the 60 s the issue allows.
    let wait = tokio::time::timeout(Duration::from_secs(90), async {
        while let Some(msg) = ws.next().await {
            if let Ok(Message::Close(frame)) = msg {
                return frame.map(|f| (u16::from(f.code), f.reason.to_string()));
            }
        }
        None
    });
    wait.await
        .expect("the socket was closed within 90 s")
        .expect("the server sent a close frame with a code")
}

on_both_stores!(revoked_credentials_close_open_sockets_with_the_reason);
async fn revoked_credentials_close_open_sockets_with_the_reason(store: Store) {
    let server = TestServer::start_sample(store, |c: &mut Config| {
        c.walls_open = false;
        c.recheck_every = Duration::from_millis(200);
    })
    .await;
    let pool = server.db().await;
    let (id, token) =
        backend::services::credentials::add_display_token(&pool, &Scope::City, "大屏")
            .await
            .expect("a display token");
    let (mut wall, _) = tokio_tungstenite::connect_async(format!(
        "ws://{}/ws?scope=city&token={token}",
        server.addr
    ))
    .await
    .expect("the wall opens with its token");
    let seat_token = account_token(
        &pool,
        NewAccount {
            area: Some(Scope::City),
            ..account("seat-chen", Role::Dispatcher)
        },
    )
    .await;
    let (mut seat, _) = tokio_tungstenite::connect_async(format!(
        "ws://{}/ws/seat?token={seat_token}",
        server.addr
    ))
    .await
    .expect("the seat opens with its session");

    assert!(
        backend::services::credentials::revoke_display_token(&pool, id)
            .await
            .expect("revoke")
    );
    let (code, reason) = closed(&mut wall).await;
    assert_eq!(code, 4401);
    assert!(reason.contains("revoked"), "{reason}");

    let res = reqwest::Client::new()
        .post(server.url("/api/logout"))
        .bearer_auth(&seat_token)
        .send()
        .await
        .expect("POST /api/logout");
    assert!(res.status().is_success(), "{}", res.status());
    let (code, reason) = closed(&mut seat).await;
    assert_eq!(code, 4401);
    assert!(reason.contains("sign in"), "{reason}");
    // A normal close is not what was sent.
    assert_ne!(CloseCode::from(code), CloseCode::Normal);
    server.stop().await;
}
