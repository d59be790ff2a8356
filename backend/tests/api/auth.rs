//! `/api/login`, `/api/logout`, `/api/me`, and every role's limits on reports, moves and reads.

use crate::on_both_stores;
use crate::support::{Store, TEST_PASSWORD, TestServer, account, account_token, table_counts};
use backend::services::auth::NewAccount;
use serde_json::{Value, json};
use shared::auth::Role;
use shared::wall::Scope;

fn lamp_post(grid: &str) -> Value {
    json!({
        "category": "municipal_facilities",
        "sub_item": "0801",
        "grid_id": grid,
        "description": "路灯杆倾斜，存在安全隐患",
    })
}

async fn error_of(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    (
        status,
        body["error"]["message"].as_str().unwrap_or("").to_owned(),
    )
}

#[tokio::test]
async fn a_password_gives_a_token_until_logout() {
    let server = TestServer::start().await;
    let db = server.db().await;
    backend::services::auth::put_account(
        &db,
        &NewAccount {
            area: Some(Scope::City),
            ..account("chen", Role::Dispatcher)
        },
    )
    .await
    .expect("create an account");

    let anonymous = reqwest::Client::new();
    let login = |password: &'static str| {
        anonymous
            .post(server.url("/api/login"))
            .json(&json!({"login": "chen", "password": password}))
            .send()
    };
    let (status, message) = error_of(login("wrong").await.expect("POST")).await;
    assert_eq!(
        (status, message.as_str()),
        (401, "unknown login or wrong password")
    );
    let unknown = anonymous
        .post(server.url("/api/login"))
        .json(&json!({"login": "nobody", "password": TEST_PASSWORD}))
        .send()
        .await
        .expect("POST");
    assert_eq!(unknown.status(), 401);

    let res = login(TEST_PASSWORD).await.expect("POST");
    assert_eq!(res.status(), 200);
    let session: Value = res.json().await.expect("login JSON");
    let token = session["token"].as_str().expect("a token").to_owned();
    assert_eq!(session["account"]["role"], "dispatcher");
    assert_eq!(session["account"]["area"], "city");

    let me = anonymous
        .get(server.url("/api/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET");
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.expect("me JSON");
    assert_eq!(me["login"], "chen");
    assert!(
        me["moves"]
            .as_array()
            .expect("moves")
            .contains(&json!("dispatch"))
    );

    let out = anonymous
        .post(server.url("/api/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("POST");
    assert_eq!(out.status(), 204);
    let after = anonymous
        .get(server.url("/api/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET");
    assert_eq!(after.status(), 401);
    server.stop().await;
}

on_both_stores!(writes_without_credentials_get_401_and_store_nothing);
async fn writes_without_credentials_get_401_and_store_nothing(store: Store) {
    let server = TestServer::start_on(store).await;
    let case = server.report("有主的案件").await;
    let id = case["id"].as_i64().expect("id");
    let before = table_counts(&server.db().await).await;

    let anonymous = reqwest::Client::new();
    let report = anonymous
        .post(server.url("/api/cases"))
        .json(&lamp_post("SR-01-001"))
        .send()
        .await
        .expect("POST");
    let (status, message) = error_of(report).await;
    assert_eq!(status, 401);
    assert!(message.contains("sign in first"), "{message}");
    let moved = anonymous
        .post(server.url(&format!("/api/cases/{id}/moves")))
        .json(&json!({"action": "dispatch"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(moved.status(), 401);
    let read = anonymous
        .get(server.url(&format!("/api/cases/{id}")))
        .send()
        .await
        .expect("GET");
    assert_eq!(read.status(), 401);
    let forged = anonymous
        .post(server.url("/api/cases"))
        .bearer_auth("0123456789abcdef")
        .json(&lamp_post("SR-01-001"))
        .send()
        .await
        .expect("POST");
    let (status, message) = error_of(forged).await;
    assert_eq!(
        (status, message.as_str()),
        (401, "the token is not known; sign in again")
    );

    assert_eq!(table_counts(&server.db().await).await, before);
    server.stop().await;
}

on_both_stores!(each_role_acts_only_within_its_role_and_area);
async fn each_role_acts_only_within_its_role_and_area(store: Store) {
    let server = TestServer::start_on(store).await;
    let db = server.db().await;
    let own_grid_worker = account_token(
        &db,
        NewAccount {
            grids: vec!["SR-01-001".to_owned()],
            ..account("wang", Role::GridWorker)
        },
    )
    .await;
    let elsewhere = account_token(
        &db,
        NewAccount {
            area: Some(Scope::District("ZZ".to_owned())),
            ..account("far-dispatcher", Role::Dispatcher)
        },
    )
    .await;
    let street = account_token(
        &db,
        NewAccount {
            area: Some(Scope::Street("SR01".to_owned())),
            ..account("street-dispatcher", Role::Dispatcher)
        },
    )
    .await;
    let other_department = server.staff_token("D02").await;
    let department = server.staff_token("D01").await;
    let leader = server.tokens.leader.clone();
    let key = backend::services::auth::create_api_key(&db, "hotline", false)
        .await
        .expect("an API key");

    // Reports: a grid worker in its own grids only, a leader never.
    let (status, message) = error_of(
        server
            .post_as(&own_grid_worker, "/api/cases", &lamp_post("SR-01-002"))
            .await,
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        message.contains("outside your grids (SR-01-001)"),
        "{message}"
    );
    let (status, message) = error_of(
        server
            .post_as(&leader, "/api/cases", &lamp_post("SR-01-001"))
            .await,
    )
    .await;
    assert_eq!(
        (status, message.as_str()),
        (403, "a leader does not report cases")
    );
    let res = server
        .post_as(&own_grid_worker, "/api/cases", &lamp_post("SR-01-001"))
        .await;
    assert_eq!(res.status(), 201);
    let case: Value = res.json().await.expect("case JSON");
    let id = case["id"].as_i64().expect("id");
    // An outside app reports anywhere with its key.
    let by_app = server
        .http
        .post(server.url("/api/cases"))
        .header("x-api-key", &key)
        .header("authorization", "")
        .json(&lamp_post("SR-01-004"))
        .send()
        .await
        .expect("POST");
    assert_eq!(by_app.status(), 201);

    let moves = format!("/api/cases/{id}/moves");
    let attempt = |token: &str, action: &str| {
        let token = token.to_owned();
        let body = json!({ "action": action });
        let path = moves.clone();
        let server = &server;
        async move { error_of(server.post_as(&token, &path, &body).await).await }
    };
    // Dispatch: not a grid worker's or a leader's move, and not outside the area.
    let (status, message) = attempt(&own_grid_worker, "dispatch").await;
    assert_eq!(status, 403);
    assert!(
        message.contains("a grid_worker does not `dispatch`"),
        "{message}"
    );
    assert_eq!(attempt(&leader, "dispatch").await.0, 403);
    let (status, message) = attempt(&elsewhere, "dispatch").await;
    assert_eq!(status, 403);
    assert!(
        message.contains("outside your area (district:ZZ)"),
        "{message}"
    );
    // A move the role makes but the state forbids is the state machine's 409.
    let (status, message) = attempt(&department, "accept").await;
    assert_eq!(status, 409, "{message}");
    assert_eq!(
        server
            .post_as(&street, &moves, &json!({"action": "dispatch"}))
            .await
            .status(),
        200
    );

    // Accept and resolve: the case's department only.
    let (status, message) = attempt(&other_department, "accept").await;
    assert_eq!(status, 403);
    assert!(
        message.contains("with department D01, not D02"),
        "{message}"
    );
    assert_eq!(attempt(&department, "accept").await.0, 200);
    assert_eq!(attempt(&department, "resolve").await.0, 200);
    // Verify: the grid's worker, not the department.
    assert_eq!(attempt(&department, "verify").await.0, 403);
    assert_eq!(attempt(&own_grid_worker, "verify").await.0, 200);
    assert_eq!(attempt(&street, "close").await.0, 200);

    // Reads: the leader everything, a grid worker its grids, staff their department's cases.
    let read = |token: String, path: String| {
        let server = &server;
        async move {
            server
                .http
                .get(server.url(&path))
                .bearer_auth(token)
                .send()
                .await
                .expect("GET")
                .status()
        }
    };
    let other_case: Value = by_app.json().await.expect("case JSON");
    let other = format!("/api/cases/{}", other_case["id"]);
    assert_eq!(read(leader.clone(), other.clone()).await, 200);
    assert_eq!(read(own_grid_worker.clone(), other.clone()).await, 403);
    assert_eq!(read(department.clone(), other).await, 403);
    assert_eq!(read(department, format!("/api/cases/{id}")).await, 200);

    // The log names who made each move and in what role.
    let roles: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT action, actor, role FROM transitions WHERE case_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(&db)
    .await
    .expect("the case's transitions");
    let roles: Vec<(&str, &str, &str)> = roles
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    assert_eq!(
        roles,
        [
            ("report", "wang", "grid_worker"),
            ("dispatch", "street-dispatcher", "dispatcher"),
            ("accept", "test-staff-D01", "department_staff"),
            ("resolve", "test-staff-D01", "department_staff"),
            ("verify", "wang", "grid_worker"),
            ("close", "street-dispatcher", "dispatcher"),
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn a_leader_s_or_dispatcher_s_login_opens_the_walls_of_its_area() {
    let db = crate::support::TestDb::new(Store::Sqlite).await;
    let pool = backend::store::connect(&db.url).await.expect("open");
    backend::store::city::install(&pool, &backend::store::city::sample_areas())
        .await
        .expect("install the sample city");
    pool.close().await;
    let config = backend::config::Config {
        walls_open: false,
        ..backend::config::Config::new(db.url.clone())
    };
    let server = TestServer::start_configured(db, config).await;
    let pool = server.db().await;
    let street = account_token(
        &pool,
        NewAccount {
            area: Some(Scope::Street("SR01".to_owned())),
            ..account("street-dispatcher", Role::Dispatcher)
        },
    )
    .await;
    let status = |path: String| {
        let server = &server;
        async move {
            reqwest::get(server.url(&path))
                .await
                .expect("GET")
                .status()
                .as_u16()
        }
    };
    assert_eq!(status("/api/wall?scope=city".to_owned()).await, 401);
    let leader = server.tokens.leader.clone();
    assert_eq!(
        status(format!("/api/wall?scope=city&token={leader}")).await,
        200
    );
    assert_eq!(
        status(format!("/api/wall?scope=street:SR01&token={street}")).await,
        200
    );
    assert_eq!(
        status(format!("/api/wall?scope=city&token={street}")).await,
        403
    );
    let worker = server.tokens.worker.clone();
    assert_eq!(
        status(format!("/api/wall?scope=street:SR01&token={worker}")).await,
        403
    );
    server.stop().await;
}

/// Five wrong passwords lock an account, whoever sends the sixth, and thirty attempts a minute
/// from one address hold it back: both answer 429 naming the wait, with `Retry-After`; another
/// account signs in as before.
#[tokio::test]
async fn repeated_wrong_passwords_and_a_flood_of_attempts_get_429() {
    let server = TestServer::start().await;
    let db = server.db().await;
    for login in ["chen", "wang"] {
        backend::services::auth::put_account(
            &db,
            &NewAccount {
                area: Some(Scope::City),
                ..account(login, Role::Dispatcher)
            },
        )
        .await
        .expect("create an account");
    }
    let anonymous = reqwest::Client::new();
    let login = |login: &str, password: &str| {
        anonymous
            .post(server.url("/api/login"))
            .json(&json!({"login": login, "password": password}))
            .send()
    };
    for _ in 0..5 {
        let res = login("chen", "wrong").await.expect("POST");
        assert_eq!(res.status(), 401);
    }
    let locked = login("chen", TEST_PASSWORD).await.expect("POST");
    assert_eq!(locked.status(), 429);
    let retry_after: i64 = locked
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    let (status, message) = error_of(locked).await;
    assert_eq!(status, 429);
    assert!(message.contains("locked"), "{message}");
    let other = login("wang", TEST_PASSWORD).await.expect("POST");
    assert_eq!(other.status(), 200, "another account is not locked");

    // Six attempts counted so far from this address (a locked account's is refused before it
    // counts); the thirty-first of the minute is held back.
    let mut statuses = Vec::new();
    for i in 0..30 {
        let res = login(&format!("nobody-{i}"), "wrong").await.expect("POST");
        statuses.push(res.status().as_u16());
    }
    assert!(statuses[..24].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[24..].iter().all(|s| *s == 429), "{statuses:?}");
    let (status, message) = error_of(login("wang", TEST_PASSWORD).await.expect("POST")).await;
    assert_eq!(status, 429);
    assert!(message.contains("this address"), "{message}");
    server.stop().await;
}

/// A flood of wrong passwords from many addresses at once, each under its own limit: the
/// password checks run on at most half the cores with a bounded queue, and the logins past
/// it are refused at once with 429 rather than queued; a wall still sees a report at once,
/// and a right password still signs in afterwards.
#[tokio::test]
async fn a_flood_of_logins_from_many_addresses_is_cut_off_and_the_wall_stays_live() {
    use futures_util::StreamExt;
    use shared::wall::ServerMsg;
    use std::net::{IpAddr, Ipv4Addr};
    let server = TestServer::start().await;
    let (mut wall, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr))
        .await
        .expect("a wall");
    // Three logins from each of 100 addresses (127.0.0.2 onwards): far below the per-address
    // limit, so only the bound on password checks stands in the flood's way.
    let mut flood = Vec::new();
    for i in 0..300_u32 {
        let address = Ipv4Addr::new(127, 0, 0, 2 + (i % 100) as u8);
        let client = reqwest::Client::builder()
            .local_address(IpAddr::V4(address))
            .build()
            .expect("a client");
        let url = server.url("/api/login");
        flood.push(tokio::spawn(async move {
            let res = client
                .post(url)
                .json(&json!({"login": format!("flood-{i}"), "password": "wrong"}))
                .send()
                .await
                .expect("POST");
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or_default();
            (
                status,
                body["error"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        }));
    }
    // While the flood is on, a report reaches the wall.
    let seq = server.report("登录洪水期间的上报").await["seq"]
        .as_u64()
        .expect("seq");
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(5), wall.next())
            .await
            .expect("the wall gets frames during the flood")
            .expect("the wall's stream is open")
            .expect("a frame");
        if let tokio_tungstenite::tungstenite::Message::Text(text) = msg
            && let Ok(ServerMsg::Delta { log_seq, .. }) = serde_json::from_str(&text)
            && log_seq >= seq
        {
            break;
        }
    }
    let mut checked = 0;
    let mut refused = 0;
    for login in flood {
        let (status, message) = login.await.expect("a login task");
        match status {
            401 => checked += 1,
            429 => {
                assert!(message.contains("too many sign-ins at once"), "{message}");
                refused += 1;
            }
            other => panic!("a flooding login was answered {other}: {message}"),
        }
    }
    assert!(
        refused > 0,
        "no login was refused: {checked} were all checked"
    );
    assert!(checked > 0, "no password was checked at all");
    // The flood is over: a right password signs in.
    let db = server.db().await;
    backend::services::auth::put_account(
        &db,
        &NewAccount {
            area: Some(Scope::City),
            ..account("after-flood", Role::Dispatcher)
        },
    )
    .await
    .expect("create an account");
    let res = reqwest::Client::new()
        .post(server.url("/api/login"))
        .json(&json!({"login": "after-flood", "password": TEST_PASSWORD}))
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 200);
    server.stop().await;
}
