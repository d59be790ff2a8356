//! `GET /api/wall`: the live state, which must equal the state rebuilt from the tables,
//! before and after a restart.

use crate::on_both_stores;
use crate::support::{Store, TestServer};
use backend::live;
use serde_json::{Value, json};
use shared::time::{DEFAULT_UTC_OFFSET_MINUTES, local_day};

async fn rebuilt(server: &TestServer) -> Value {
    let now = backend::cases::now_ms();
    let agg = live::rebuild(
        &server.db().await,
        local_day(now, DEFAULT_UTC_OFFSET_MINUTES),
        DEFAULT_UTC_OFFSET_MINUTES,
    )
    .await
    .expect("rebuild");
    json!({"seq": agg.seq, "state": agg.state})
}

async fn live_state(server: &TestServer) -> Value {
    let snapshot: Value = server
        .get("/api/wall")
        .await
        .json()
        .await
        .expect("wall JSON");
    json!({"seq": snapshot["seq"], "state": snapshot["state"]})
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
        json!({"reported_total": 6, "reported_today": 6, "open": 2, "closed": 3, "closed_today": 3, "rejected": 1})
    );
    // All six reports are street-lamp cases in the sample district.
    let tally = json!({"reported_total": 6, "reported_today": 6, "open": 2, "closed": 3});
    assert_eq!(
        before["state"]["by_category"]["municipal_facilities"],
        tally
    );
    assert_eq!(before["state"]["by_district"]["SR"], tally);
    assert_eq!(before["seq"], 6 + 15 + 1);

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
    let (seq, diffs) = backend::check::check(&db, &base, DEFAULT_UTC_OFFSET_MINUTES)
        .await
        .expect("check");
    assert_eq!(seq, 3);
    assert!(diffs.is_empty(), "{diffs:?}");

    // Change the current-state table behind the server's back: the check must notice.
    sqlx::query("UPDATE cases SET state = 'closed' WHERE id = 1")
        .execute(&db)
        .await
        .expect("tamper");
    let (_, diffs) = backend::check::check(&db, &base, DEFAULT_UTC_OFFSET_MINUTES)
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
