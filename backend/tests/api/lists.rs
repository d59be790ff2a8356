//! `GET /api/cases`: each role's views of the cases it may see, and the parameters' errors.

use crate::on_both_stores;
use crate::support::{Store, TestServer, account, account_token};
use backend::services::auth::NewAccount;
use serde_json::{Value, json};
use shared::auth::Role;
use shared::wall::Scope;

/// Reports a case as `token` in `grid` with `sub_item` of `category`; returns its id.
async fn report_as(
    server: &TestServer,
    token: &str,
    grid: &str,
    category: &str,
    sub_item: &str,
) -> i64 {
    let res = server
        .post_as(
            token,
            "/api/cases",
            &json!({
                "category": category,
                "sub_item": sub_item,
                "grid_id": grid,
                "description": format!("{sub_item} in {grid}"),
            }),
        )
        .await;
    assert_eq!(res.status(), 201, "report in {grid}");
    let case: Value = res.json().await.expect("case JSON");
    case["id"].as_i64().expect("id")
}

/// Moves case `id` by `action` as whichever test account makes that move.
async fn move_case(server: &TestServer, id: i64, action: &str) {
    let res = server
        .post_json(
            &format!("/api/cases/{id}/moves"),
            &json!({ "action": action }),
        )
        .await;
    assert_eq!(res.status(), 200, "{action} case {id}");
}

/// `GET /api/cases?query` as `token`: the status and the body.
async fn list(server: &TestServer, token: &str, query: &str) -> (u16, Value) {
    let res = server
        .http
        .get(server.url(&format!("/api/cases?{query}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET /api/cases");
    let status = res.status().as_u16();
    (status, res.json().await.expect("JSON"))
}

/// The ids a list answer holds, in its order.
async fn ids(server: &TestServer, token: &str, query: &str) -> Vec<i64> {
    let (status, body) = list(server, token, query).await;
    assert_eq!(status, 200, "GET /api/cases?{query}: {body}");
    body["cases"]
        .as_array()
        .expect("a list of cases")
        .iter()
        .map(|c| c["id"].as_i64().expect("id"))
        .collect()
}

on_both_stores!(each_role_lists_its_own_work_within_its_reach);
async fn each_role_lists_its_own_work_within_its_reach(store: Store) {
    let server = TestServer::start_on(store).await;
    let db = server.db().await;
    let worker = |login: &str, grid: &str| NewAccount {
        grids: vec![grid.to_owned()],
        ..account(login, Role::GridWorker)
    };
    let worker_a = account_token(&db, worker("worker-a", "SR-01-001")).await;
    let worker_b = account_token(&db, worker("worker-b", "SR-01-002")).await;
    let street = account_token(
        &db,
        NewAccount {
            area: Some(Scope::Street("SR01".to_owned())),
            ..account("street-centre", Role::Dispatcher)
        },
    )
    .await;
    let elsewhere = account_token(
        &db,
        NewAccount {
            area: Some(Scope::District("XX".to_owned())),
            ..account("other-district", Role::Dispatcher)
        },
    )
    .await;
    let everyone = server.tokens.worker.clone();

    // Worker A's lamp post, dispatched to D01, accepted and resolved: it waits for A's check.
    let lamp = report_as(
        &server,
        &worker_a,
        "SR-01-001",
        "municipal_facilities",
        "0801",
    )
    .await;
    for action in ["dispatch", "accept", "resolve"] {
        move_case(&server, lamp, action).await;
    }
    // Worker B's lamp post, dispatched: it waits for D01.
    let other_lamp = report_as(
        &server,
        &worker_b,
        "SR-01-002",
        "municipal_facilities",
        "0801",
    )
    .await;
    move_case(&server, other_lamp, "dispatch").await;
    // Another worker's report in A's grid, not yet dispatched: it waits for a centre.
    let waiting = report_as(
        &server,
        &everyone,
        "SR-01-001",
        "municipal_facilities",
        "0801",
    )
    .await;
    // Black water in grid 3, dispatched to D03.
    let water = report_as(&server, &everyone, "SR-01-003", "ecology", "1101").await;
    move_case(&server, water, "dispatch").await;

    // A grid worker's own work: what it reported, and what waits for its check.
    assert_eq!(ids(&server, &worker_a, "").await, vec![lamp]);
    assert_eq!(ids(&server, &worker_a, "view=mine").await, vec![lamp]);
    assert_eq!(ids(&server, &worker_a, "view=queue").await, vec![lamp]);
    assert_eq!(
        ids(&server, &worker_a, "view=all").await,
        vec![waiting, lamp]
    );
    assert_eq!(ids(&server, &worker_b, "view=mine").await, vec![other_lamp]);
    assert_eq!(
        ids(&server, &worker_b, "view=queue").await,
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(&server, &everyone, "view=mine").await,
        vec![water, waiting, lamp]
    );

    // A department's queue: dispatched, accepted or returned to it; nothing of another's.
    let d01 = server.staff_token("D01").await;
    let d03 = server.staff_token("D03").await;
    assert_eq!(ids(&server, &d01, "").await, vec![other_lamp]);
    assert_eq!(ids(&server, &d01, "view=all").await, vec![other_lamp, lamp]);
    assert_eq!(ids(&server, &d03, "view=queue").await, vec![water]);

    // A centre's queue: reported cases in its area, and none outside it.
    let city = server.tokens.dispatcher.clone();
    assert_eq!(ids(&server, &city, "").await, vec![waiting]);
    assert_eq!(ids(&server, &street, "view=queue").await, vec![waiting]);
    assert_eq!(
        ids(&server, &elsewhere, "view=queue").await,
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(&server, &elsewhere, "view=all").await,
        Vec::<i64>::new()
    );

    // The leader reads everything, newest report first, narrowed by state and cut by limit.
    let leader = server.tokens.leader.clone();
    assert_eq!(
        ids(&server, &leader, "").await,
        vec![water, waiting, other_lamp, lamp]
    );
    assert_eq!(
        ids(&server, &leader, "state=dispatched").await,
        vec![water, other_lamp]
    );
    assert_eq!(
        ids(&server, &worker_a, "view=all&state=resolved").await,
        vec![lamp]
    );
    let (status, page) = list(&server, &leader, "limit=1").await;
    assert_eq!(status, 200);
    assert_eq!(page["view"], "all");
    assert_eq!(page["limit"], 1);
    assert_eq!(page["more"], true);
    assert_eq!(page["cases"][0]["id"], water);
    assert_eq!(page["cases"][0]["state"], "dispatched");
    assert_eq!(page["cases"][0]["department"], "D03");
    assert_eq!(
        page["cases"][0]["allowed"],
        json!(["dispatch", "accept", "escalate", "urge"])
    );
    let (_, whole) = list(&server, &leader, "limit=4").await;
    assert_eq!(whole["more"], false);
    assert_eq!(whole["limit"], 4);
    let (_, default) = list(&server, &d01, "").await;
    assert_eq!(default["view"], "queue");
    assert_eq!(default["limit"], 50);

    // A seat drills down to one grid's cases, and to the open or the late ones.
    assert_eq!(
        ids(&server, &leader, "grid=SR-01-001").await,
        vec![waiting, lamp]
    );
    assert_eq!(
        ids(&server, &leader, "grid=SR-01-003&open=true").await,
        vec![water]
    );
    assert_eq!(ids(&server, &leader, "open=false").await, Vec::<i64>::new());
    assert_eq!(
        ids(&server, &leader, "supervision=none&open=true").await,
        vec![water, waiting, other_lamp, lamp]
    );
    sqlx::query("UPDATE cases SET supervision = 'overdue' WHERE id = $1")
        .bind(other_lamp)
        .execute(&db)
        .await
        .expect("make a case late");
    assert_eq!(
        ids(&server, &leader, "supervision=overdue&open=true").await,
        vec![other_lamp]
    );
    // Filters never widen the reach: another district's centre sees none of the grid's.
    assert_eq!(
        ids(&server, &elsewhere, "view=all&grid=SR-01-001").await,
        Vec::<i64>::new()
    );
    server.stop().await;
}

on_both_stores!(bad_list_parameters_are_named);
async fn bad_list_parameters_are_named(store: Store) {
    let server = TestServer::start_on(store).await;
    server.report("路灯杆倾斜").await;
    let worker = server.tokens.worker.clone();
    let dispatcher = server.tokens.dispatcher.clone();
    let leader = server.tokens.leader.clone();
    for (token, query, field, words) in [
        (
            &worker,
            "view=everything",
            "view",
            "unknown view `everything`",
        ),
        (
            &dispatcher,
            "view=mine",
            "view",
            "a dispatcher has no `mine` view",
        ),
        (&leader, "view=queue", "view", "it has: all"),
        (&worker, "state=done", "state", "unknown state `done`"),
        (
            &leader,
            "supervision=late",
            "supervision",
            "unknown supervision `late`",
        ),
        (&leader, "open=yes", "open", "neither `true` nor `false`"),
        (&worker, "limit=0", "limit", "from 1 to 200"),
        (&worker, "limit=201", "limit", "from 1 to 200"),
        (&worker, "limit=-3", "limit", "`-3`"),
        (&worker, "limit=ten", "limit", "`ten`"),
    ] {
        let (status, body) = list(&server, token, query).await;
        assert_eq!(status, 400, "?{query}: {body}");
        assert_eq!(body["error"]["code"], "bad_parameter", "?{query}: {body}");
        assert_eq!(body["error"]["field"], field, "?{query}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains(words), "?{query}: {message}");
    }
    let (status, body) = list(&server, &worker, "colour=red").await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("colour"),
        "{body}"
    );
    let anonymous = reqwest::get(server.url("/api/cases"))
        .await
        .expect("GET /api/cases");
    assert_eq!(anonymous.status(), 401);
    server.stop().await;
}
