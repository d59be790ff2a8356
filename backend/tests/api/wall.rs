//! `GET /api/wall`: the live state, which must equal the state rebuilt from the tables,
//! before and after a restart.

use crate::on_both_stores;
use crate::support::{Store, TestDb, TestServer};
use backend::services::live;
use serde_json::{Value, json};
use shared::time::{DEFAULT_UTC_OFFSET_MINUTES, local_day, local_hour};
use shared::wall::Scope;
use std::time::Duration;

/// The department that 路灯杆倾斜 (sub-item 0801) goes to by default.
const LAMP_DEPARTMENT: &str = "D01";

/// The city's state rebuilt from the tables now, with its position in the log.
async fn rebuilt(server: &TestServer) -> Value {
    let now = backend::clock::now_ms();
    let db = server.db().await;
    let city = live::city_facts(&db).await.expect("city facts");
    let scopes = live::rebuild(
        &db,
        &city,
        local_day(now, DEFAULT_UTC_OFFSET_MINUTES),
        local_hour(now, DEFAULT_UTC_OFFSET_MINUTES),
        DEFAULT_UTC_OFFSET_MINUTES,
    )
    .await
    .expect("rebuild");
    json!({"log_seq": scopes.log_seq, "state": scopes.aggregates[&Scope::City].state})
}

async fn live_state(server: &TestServer) -> Value {
    let snapshot: Value = server
        .get("/api/wall")
        .await
        .json()
        .await
        .expect("wall JSON");
    json!({"log_seq": snapshot["log_seq"], "state": snapshot["state"]})
}

on_both_stores!(the_live_state_equals_the_rebuilt_state_across_a_restart);
async fn the_live_state_equals_the_rebuilt_state_across_a_restart(store: Store) {
    let server = TestServer::start_on(store).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(
            server.report(&format!("第 {i} 件")).await["id"]
                .as_i64()
                .expect("id"),
        );
    }
    for action in ["dispatch", "accept", "resolve", "verify", "close"] {
        for id in &ids[..3] {
            let res = server
                .post_json(
                    &format!("/api/cases/{id}/moves"),
                    &json!({"action": action}),
                )
                .await;
            assert_eq!(res.status(), 200);
        }
    }
    let res = server
        .post_json(
            &format!("/api/cases/{}/moves", ids[3]),
            &json!({"action": "reject", "note": "重复上报"}),
        )
        .await;
    assert_eq!(res.status(), 200);

    let before = live_state(&server).await;
    assert_eq!(before, rebuilt(&server).await);
    assert_eq!(
        before["state"]["counters"],
        json!({"reported_total": 6, "reported_today": 6, "reported_today_closed": 3, "open": 2,
               "closed": 3, "closed_today": 3, "rejected": 1, "warned": 0, "overdue": 0, "escalated": 0})
    );
    // All six reports are street-lamp cases in the sample district.
    let tally =
        json!({"reported_total": 6, "reported_today": 6, "open": 2, "closed": 3, "overdue": 0});
    assert_eq!(
        before["state"]["by_category"]["municipal_facilities"],
        tally
    );
    assert_eq!(before["state"]["by_sub_item"]["0801"], tally);
    assert_eq!(before["state"]["by_district"]["SR"], tally);
    assert_eq!(before["state"]["by_street"]["SR01"], tally);
    assert_eq!(before["state"]["by_grid"]["SR-01-001"]["open"], 2);
    assert_eq!(
        before["state"]["by_state"],
        json!({"reported": 2, "closed": 3, "rejected": 1})
    );
    // 路灯杆倾斜 goes to its sub-item's department, which closed three on time.
    let dept = &before["state"]["by_department"][LAMP_DEPARTMENT];
    assert_eq!(
        (dept["closures"].as_u64(), dept["closures_on_time"].as_u64()),
        (Some(3), Some(3))
    );
    // Six reports this hour, and three of one sub-item in one grid: a hotspot.
    assert_eq!(before["state"]["hourly"]["counts"][23], 6);
    assert_eq!(before["state"]["hotspots"]["SR-01-001/0801"]["count"], 6);
    assert_eq!(before["log_seq"], 6 + 15 + 1);

    let db = server.stop().await;
    let again = TestServer::start_with(db).await;
    assert_eq!(live_state(&again).await, before);
    again.report("重启之后").await;
    assert_eq!(live_state(&again).await, rebuilt(&again).await);
    again.stop().await;
}

#[tokio::test]
async fn the_check_finds_the_live_state_equal_to_the_tables_and_names_a_difference() {
    let server = TestServer::start().await;
    for i in 0..3 {
        server.report(&format!("核对 {i}")).await;
    }
    let db = server.db().await;
    let base = server.url("");
    let (seq, diffs) = backend::check::check(&db, &base, &Scope::City, DEFAULT_UTC_OFFSET_MINUTES)
        .await
        .expect("check");
    assert_eq!(seq, 3);
    assert!(diffs.is_empty(), "{diffs:?}");
    let all = backend::check::all_scopes(&db).await.expect("scopes");
    assert_eq!(
        all.len(),
        3,
        "the sample city has one district and one street"
    );
    let results = backend::check::check_scopes(&db, &base, None, &all, DEFAULT_UTC_OFFSET_MINUTES)
        .await
        .expect("check every scope");
    for (scope, _, diffs) in results {
        assert!(diffs.is_empty(), "{scope}: {diffs:?}");
    }

    // Change the current-state table behind the server's back: the check must notice.
    sqlx::query("UPDATE cases SET state = 'closed' WHERE id = 1")
        .execute(&db)
        .await
        .expect("tamper");
    let (_, diffs) = backend::check::check(&db, &base, &Scope::City, DEFAULT_UTC_OFFSET_MINUTES)
        .await
        .expect("check");
    assert!(
        diffs.contains(&"counters.open: live 3, tables 2".to_owned()),
        "{diffs:?}"
    );
    assert!(
        diffs.contains(&"counters.closed: live 0, tables 1".to_owned()),
        "{diffs:?}"
    );
    server.stop().await;
}

/// Waits until `/api/wall` satisfies `done`, for at most ten seconds.
async fn wait_for_wall(server: &TestServer, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let wall: Value = server
            .get("/api/wall")
            .await
            .json()
            .await
            .expect("wall JSON");
        if done(&wall) {
            return wall;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the wall never got there: {}",
            wall["state"]["counters"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

on_both_stores!(the_watcher_warns_supervises_and_escalates_a_late_case);
async fn the_watcher_warns_supervises_and_escalates_a_late_case(store: Store) {
    let db = TestDb::new(store).await;
    let pool = backend::store::connect(&db.url).await.expect("open");
    backend::store::city::install(&pool, &backend::store::city::sample_areas())
        .await
        .expect("install the sample city");
    pool.close().await;
    let mut config = backend::config::Config::new(db.url.clone());
    config.watch_every = Duration::from_millis(100);
    let server = TestServer::start_configured(db, config).await;
    let id = server.report("路灯杆倾斜").await["id"]
        .as_i64()
        .expect("id");
    let res = server
        .post_json(
            &format!("/api/cases/{id}/moves"),
            &json!({"action": "dispatch"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let case: Value = res.json().await.expect("case");
    assert_eq!(case["department"], LAMP_DEPARTMENT);
    assert_eq!(case["supervision"], "none");
    let limit = case["deadline_ms"].as_i64().expect("deadline") - backend::clock::now_ms();
    assert!((0..=24 * 3_600_000).contains(&limit), "{limit}");

    // Nobody may flag a case by hand.
    let res = server
        .post_json(
            &format!("/api/cases/{id}/moves"),
            &json!({"action": "warn"}),
        )
        .await;
    assert_eq!(res.status(), 422);

    // Move the case's time limit into the past, as if the department had sat on it.
    let now = backend::clock::now_ms();
    let db = server.db().await;
    sqlx::query(
        "UPDATE cases SET dispatched_at = $1, deadline_at = $2, next_check_at = $3 WHERE id = $4",
    )
    .bind(now - 100 * 3_600_000)
    .bind(now - 50 * 3_600_000)
    .bind(now - 1)
    .bind(id)
    .execute(&db)
    .await
    .expect("age the case");
    let wall = wait_for_wall(&server, |w| w["state"]["counters"]["escalated"] == 1).await;
    let c = &wall["state"]["counters"];
    assert_eq!(
        (c["overdue"].as_u64(), c["warned"].as_u64()),
        (Some(1), Some(0))
    );
    let warning = &wall["state"]["warnings"][id.to_string()];
    assert_eq!(warning["level"], "escalated");
    assert_eq!(warning["department"], LAMP_DEPARTMENT);
    // The department answers for the late case until the district dispatches it again.
    assert_eq!(
        wall["state"]["by_department"][LAMP_DEPARTMENT]["overdue"],
        1
    );
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM transitions WHERE case_id = $1 ORDER BY seq")
            .bind(id)
            .fetch_all(&db)
            .await
            .expect("the case's log");
    assert_eq!(
        actions,
        ["report", "dispatch", "warn", "supervise", "escalate"]
    );
    assert_eq!(live_state(&server).await, rebuilt(&server).await);

    // The district dispatches it again: a new time limit, and off the list.
    let res = server
        .post_json(
            &format!("/api/cases/{id}/moves"),
            &json!({"action": "dispatch", "department": "D07"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let wall = wait_for_wall(&server, |w| w["state"]["counters"]["escalated"] == 0).await;
    assert_eq!(wall["state"]["warnings"], json!({}));
    assert_eq!(wall["state"]["by_department"]["D07"]["open"], 1);
    assert!(
        wall["state"]["by_department"]
            .get(LAMP_DEPARTMENT)
            .is_none()
    );
    assert_eq!(live_state(&server).await, rebuilt(&server).await);
    server.stop().await;
}

on_both_stores!(a_restart_restores_the_saved_state_and_folds_the_tail);
async fn a_restart_restores_the_saved_state_and_folds_the_tail(store: Store) {
    let server = TestServer::start_on(store).await;
    for i in 0..4 {
        server.report(&format!("保存前 {i}")).await;
    }
    let before = live_state(&server).await;
    let db = server.stop().await;
    // The server saved its state as it stopped; keep that copy.
    let pool = backend::store::connect(&db.url).await.expect("open");
    let (saved_seq, body): (i64, Vec<u8>) =
        sqlx::query_as("SELECT log_seq, body FROM wall_snapshots WHERE id = 1")
            .fetch_one(&pool)
            .await
            .expect("a saved snapshot");
    assert_eq!(saved_seq, 4);
    pool.close().await;

    let again = TestServer::start_with(db).await;
    assert_eq!(
        live_state(&again).await,
        before,
        "restored from the saved state"
    );
    again.report("重启之后").await;
    let db = again.stop().await;

    // Put the older snapshot back, as if the server had crashed before saving again: the
    // next start must fold the one transition after it from the log.
    let pool = backend::store::connect(&db.url).await.expect("open");
    sqlx::query("UPDATE wall_snapshots SET log_seq = $1, body = $2 WHERE id = 1")
        .bind(saved_seq)
        .bind(body)
        .execute(&pool)
        .await
        .expect("restore the older snapshot");
    let city = live::city_facts(&pool).await.expect("facts");
    let (scopes, tail) = live::saved::load(&pool, &city)
        .await
        .expect("load")
        .expect("a usable saved snapshot");
    assert_eq!((tail, scopes.log_seq), (1, 5));
    pool.close().await;
    let third = TestServer::start_with(db).await;
    let after = live_state(&third).await;
    assert_eq!(after["state"]["counters"]["reported_total"], 5);
    assert_eq!(after, rebuilt(&third).await);
    third.stop().await;
}

/// Every scope's live state compared with the tables by `gridwall check`: no differences.
async fn check_every_scope(server: &TestServer) {
    let db = server.db().await;
    let scopes = backend::check::all_scopes(&db).await.expect("scopes");
    let results = backend::check::check_scopes(
        &db,
        &server.url(""),
        None,
        &scopes,
        DEFAULT_UTC_OFFSET_MINUTES,
    )
    .await
    .expect("check");
    for (scope, _, diffs) in results {
        assert!(diffs.is_empty(), "{scope}: {diffs:?}");
    }
}

on_both_stores!(the_latest_cases_and_each_grids_coverage_follow_random_moves_and_visits);
async fn the_latest_cases_and_each_grids_coverage_follow_random_moves_and_visits(store: Store) {
    use rand::seq::IndexedRandom;
    use rand::{Rng, SeedableRng};
    let server = TestServer::start_on(store).await;
    let grids = ["SR-01-001", "SR-01-002", "SR-01-003", "SR-01-004"];
    let mut rng = rand::rngs::StdRng::seed_from_u64(6);
    // A seeded walk of reports and moves the state machine allows, with more cases than the
    // list holds, so that cases leave it and come back.
    let mut ids: Vec<i64> = Vec::new();
    for step in 0..160 {
        if ids.len() < 40 && (ids.is_empty() || rng.random_bool(0.35)) {
            let grid = grids.choose(&mut rng).expect("a grid");
            let res = server
                .post_json(
                    "/api/cases",
                    &json!({"category": "municipal_facilities", "sub_item": "0801",
                            "grid_id": grid, "description": format!("随机 {step}")}),
                )
                .await;
            assert_eq!(res.status(), 201);
            let case: Value = res.json().await.expect("case");
            ids.push(case["id"].as_i64().expect("id"));
            continue;
        }
        let id = *ids.choose(&mut rng).expect("a case");
        let case: Value = server
            .get(&format!("/api/cases/{id}"))
            .await
            .json()
            .await
            .expect("case");
        let allowed = case["allowed"].as_array().expect("allowed moves").clone();
        let Some(action) = allowed.choose(&mut rng) else {
            continue;
        };
        let res = server
            .post_json(
                &format!("/api/cases/{id}/moves"),
                // A note with every move, which an urge needs.
                &json!({"action": action, "note": "随机"}),
            )
            .await;
        assert_eq!(res.status(), 200, "{action} on case {id}");
    }
    assert_eq!(ids.len(), 40);
    check_every_scope(&server).await;
    let wall = live_state(&server).await;
    let latest = wall["state"]["latest"].as_object().expect("latest cases");
    let db = server.db().await;
    let last: Vec<i64> = sqlx::query_scalar("SELECT id FROM cases ORDER BY last_seq DESC LIMIT 30")
        .fetch_all(&db)
        .await
        .expect("the last moved cases");
    let mut shown: Vec<i64> = latest
        .values()
        .map(|c| c["case_id"].as_i64().expect("case id"))
        .collect();
    shown.sort_by_key(|id| last.iter().position(|l| l == id));
    assert_eq!(shown, last);
    // Every grid of the sample city has 160 households; none was visited yet.
    for grid in grids {
        let g = &wall["state"]["by_grid"][grid];
        assert_eq!(
            (&g["households"], &g["households_visited_month"]),
            (&json!(160), &json!(0)),
            "{grid}"
        );
    }
    db.close().await;

    // House visits written while the server is down (no command records them over HTTP):
    // the next start restores the saved state and folds them as the log's tail.
    let test_db = server.stop().await;
    let pool = backend::store::connect(&test_db.url).await.expect("open");
    sqlx::query(
        "INSERT INTO members (id, name, kind, street_code, grid_id, active)
         VALUES (1, '网格员甲', 'grid_worker', 'SR01', 'SR-01-001', 1)",
    )
    .execute(&pool)
    .await
    .expect("a grid worker");
    let now = backend::clock::now_ms();
    for (grid, household) in [
        ("SR-01-001", "1栋101室"),
        ("SR-01-001", "1栋101室"),
        ("SR-01-001", "2栋202室"),
        ("SR-01-002", "1栋101室"),
    ] {
        sqlx::query(
            "INSERT INTO house_visits (grid_id, member_id, at, household) VALUES ($1, 1, $2, $3)",
        )
        .bind(grid)
        .bind(now)
        .bind(household)
        .execute(&pool)
        .await
        .expect("a visit");
    }
    pool.close().await;
    let again = TestServer::start_with(test_db).await;
    let wall = live_state(&again).await;
    let coverage = |grid: &str| {
        let g = &wall["state"]["by_grid"][grid];
        (
            g["households_visited_month"].as_u64(),
            g["households"].as_u64(),
        )
    };
    assert_eq!(coverage("SR-01-001"), (Some(2), Some(160)));
    assert_eq!(coverage("SR-01-002"), (Some(1), Some(160)));
    assert_eq!(coverage("SR-01-003"), (Some(0), Some(160)));
    assert_eq!(wall["state"]["people"]["households_visited_month"], 3);
    assert_eq!(wall, rebuilt(&again).await);
    check_every_scope(&again).await;
    again.stop().await;
}
