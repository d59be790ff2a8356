//! `POST /api/cases`, `GET /api/cases/{id}` and `POST /api/cases/{id}/moves`.

use crate::on_both_stores;
use crate::support::{Store, TestServer, table_counts};
use serde_json::{Value, json};

on_both_stores!(a_report_writes_the_case_and_its_transition_in_one_go);
async fn a_report_writes_the_case_and_its_transition_in_one_go(store: Store) {
    let server = TestServer::start_on(store).await;
    let case = server.report("路灯杆倾斜，存在安全隐患").await;
    assert_eq!(case["state"], "reported");
    assert_eq!(case["category"], "municipal_facilities");
    assert_eq!(case["allowed"], json!(["dispatch", "reject", "escalate"]));
    let id = case["id"].as_i64().expect("id");

    let fetched: Value = server
        .get(&format!("/api/cases/{id}"))
        .await
        .json()
        .await
        .expect("case JSON");
    assert_eq!(fetched, case);

    let db = server.db().await;
    assert_eq!(table_counts(&db).await, (1, 1));
    let (action, from, to, seq): (String, Option<String>, String, i64) = sqlx::query_as(
        "SELECT action, from_state, to_state, seq FROM transitions WHERE case_id = $1",
    )
    .bind(id)
    .fetch_one(&db)
    .await
    .expect("the report's transition row");
    assert_eq!(
        (action.as_str(), from, to.as_str()),
        ("report", None, "reported")
    );
    assert_eq!(seq, case["seq"].as_i64().expect("seq"));
    server.stop().await;
}

on_both_stores!(invalid_reports_name_the_field_and_store_nothing);
async fn invalid_reports_name_the_field_and_store_nothing(store: Store) {
    let server = TestServer::start_on(store).await;
    let good = json!({
        "category": "ecology",
        "point": {"lon": 125.035, "lat": 46.595},
        "description": "河道漂浮垃圾",
    });
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = good.clone();
        body.as_object_mut().expect("object").remove(key);
        body
    };
    let cases = [
        (with("category", json!("weather")), "category"),
        (with("category", json!(3)), "category"),
        (without("category"), "category"),
        (without("description"), "description"),
        (with("description", json!("   ")), "description"),
        (without("point"), "grid_id"),
        (with("grid_id", json!("../etc")), "grid_id"),
        (with("point", json!({"lon": 116.4, "lat": 39.9})), "point"),
        (with("point", json!({"lon": 125.0})), "point.lat"),
        (
            with("point", json!({"lon": 500.0, "lat": 46.0})),
            "point.lon",
        ),
        (with("colour", json!("red")), "colour"),
    ];
    for (body, field) in cases {
        let res = server.post_json("/api/cases", &body).await;
        assert_eq!(res.status(), 422, "for {body}");
        let err: Value = res.json().await.expect("error JSON");
        assert_eq!(err["error"]["code"], "invalid_field", "for {body}");
        assert_eq!(err["error"]["field"], field, "for {body}: {err}");
        assert!(!err["error"]["message"].as_str().unwrap_or("").is_empty());
    }

    let not_json = server
        .http
        .post(server.url("/api/cases"))
        .header("content-type", "application/json")
        .body("{\"category\": ")
        .send()
        .await
        .expect("POST");
    assert_eq!(not_json.status(), 400);
    let wrong_type = server
        .http
        .post(server.url("/api/cases"))
        .header("content-type", "text/plain")
        .body(good.to_string())
        .send()
        .await
        .expect("POST");
    assert_eq!(wrong_type.status(), 415);

    assert_eq!(table_counts(&server.db().await).await, (0, 0));
    assert_eq!(server.counters().await["reported_total"], 0);
    server.stop().await;
}

on_both_stores!(a_case_walks_the_closed_loop);
async fn a_case_walks_the_closed_loop(store: Store) {
    let server = TestServer::start_on(store).await;
    let id = server.report("路灯杆倾斜").await["id"]
        .as_i64()
        .expect("id");
    for (action, state) in [
        ("dispatch", "dispatched"),
        ("accept", "accepted"),
        ("resolve", "resolved"),
        ("verify", "verified"),
        ("close", "closed"),
    ] {
        let res = server
            .post_json(
                &format!("/api/cases/{id}/moves"),
                &json!({"action": action}),
            )
            .await;
        assert_eq!(res.status(), 200, "{action}");
        let case: Value = res.json().await.expect("case JSON");
        assert_eq!(case["state"], state);
    }
    let db = server.db().await;
    assert_eq!(table_counts(&db).await, (1, 6));
    let seqs: Vec<i64> =
        sqlx::query_scalar("SELECT seq FROM transitions WHERE case_id = $1 ORDER BY seq")
            .bind(id)
            .fetch_all(&db)
            .await
            .expect("seqs");
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let counters = server.counters().await;
    assert_eq!(counters["closed"], 1);
    assert_eq!(counters["open"], 0);
    server.stop().await;
}

#[tokio::test]
async fn a_move_the_state_machine_refuses_is_a_conflict_that_says_why() {
    let server = TestServer::start().await;
    let id = server.report("井盖缺失").await["id"].as_i64().expect("id");
    let res = server
        .post_json(
            &format!("/api/cases/{id}/moves"),
            &json!({"action": "close"}),
        )
        .await;
    assert_eq!(res.status(), 409);
    let err: Value = res.json().await.expect("error JSON");
    assert_eq!(err["error"]["code"], "move_not_allowed");
    assert_eq!(
        err["error"]["message"],
        "a case in state `reported` cannot `close`; allowed moves: dispatch, reject, escalate"
    );

    let unknown = server
        .post_json(
            &format!("/api/cases/{id}/moves"),
            &json!({"action": "teleport"}),
        )
        .await;
    assert_eq!(unknown.status(), 422);
    let err: Value = unknown.json().await.expect("error JSON");
    assert_eq!(err["error"]["field"], "action");

    let missing = server
        .post_json("/api/cases/999/moves", &json!({"action": "dispatch"}))
        .await;
    assert_eq!(missing.status(), 404);
    assert_eq!(server.get("/api/cases/999").await.status(), 404);
    assert_eq!(server.get("/api/nothing-here").await.status(), 404);

    // Only the report was stored.
    assert_eq!(table_counts(&server.db().await).await, (1, 1));
    server.stop().await;
}

#[tokio::test]
async fn a_centre_urges_a_case_the_department_holds_with_a_note() {
    let server = TestServer::start().await;
    let id = server.report("垃圾满溢").await["id"].as_i64().expect("id");
    let path = format!("/api/cases/{id}/moves");
    // Nothing to urge before a department holds the case: its clock does not run.
    let early = server
        .post_json(&path, &json!({"action": "urge", "note": "尽快处理"}))
        .await;
    assert_eq!(early.status(), 409);
    let res = server
        .post_json(&path, &json!({"action": "dispatch"}))
        .await;
    assert_eq!(res.status(), 200);
    for note in [json!(null), json!("   ")] {
        let res = server
            .post_json(&path, &json!({"action": "urge", "note": note}))
            .await;
        assert_eq!(res.status(), 422, "an urge without a note");
        let err: Value = res.json().await.expect("error JSON");
        assert_eq!(err["error"]["field"], "note");
    }
    // Only a centre urges: a leader moves nothing and a grid worker does not urge.
    for token in [&server.tokens.leader, &server.tokens.worker] {
        let res = server
            .post_as(token, &path, &json!({"action": "urge", "note": "快"}))
            .await;
        assert_eq!(res.status(), 403);
    }
    let res = server
        .post_json(&path, &json!({"action": "urge", "note": "今日内处理完毕"}))
        .await;
    assert_eq!(res.status(), 200);
    let case: Value = res.json().await.expect("case JSON");
    assert_eq!(
        case["state"], "dispatched",
        "an urge leaves the case where it is"
    );
    let moves: Value = server
        .get(&format!("/api/cases/{id}/moves"))
        .await
        .json()
        .await
        .expect("moves JSON");
    let last = &moves[moves.as_array().expect("a list").len() - 1];
    assert_eq!(last["action"], "urge");
    assert_eq!(last["note"], "今日内处理完毕");
    assert_eq!(last["actor"], "test-dispatcher");
    server.stop().await;
}

on_both_stores!(the_transition_log_refuses_updates_and_deletes);
async fn the_transition_log_refuses_updates_and_deletes(store: Store) {
    let server = TestServer::start_on(store).await;
    server.report("垃圾桶满溢").await;
    let db = server.db().await;
    let update = sqlx::query("UPDATE transitions SET actor = 'someone else'")
        .execute(&db)
        .await;
    assert!(update.is_err(), "an update of the log went through");
    let delete = sqlx::query("DELETE FROM transitions").execute(&db).await;
    assert!(delete.is_err(), "a delete from the log went through");
    assert_eq!(table_counts(&db).await, (1, 1));
    server.stop().await;
}

#[tokio::test]
async fn malformed_paths_and_queries_get_the_one_error_shape() {
    let server = TestServer::start().await;
    for (path, names) in [
        ("/api/cases/abc", "abc"),
        ("/api/team?at=yesterday", "at"),
        ("/ws?since=-1&day=1", "since"),
    ] {
        let res = server.get(path).await;
        assert_eq!(res.status(), 400, "{path}");
        let err: Value = res.json().await.expect("error JSON");
        assert_eq!(err["error"]["code"], "bad_request", "{path}");
        let message = err["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains(names), "{path}: {message}");
    }
    server.stop().await;
}
