//! Property tests through the API: random runs of moves against a real server, after which the
//! transition log, the case rows and the live wall all agree.

use crate::support::{Store, TestServer};
use proptest::prelude::*;
use serde_json::{Value, json};
use shared::case::{Action, CaseState};
use shared::time::DEFAULT_UTC_OFFSET_MINUTES;
use shared::wall::Scope;
use std::collections::HashMap;

/// The moves a caller can ask for by hand (the watcher's steps are refused at the door).
const MOVES: [Action; 10] = Action::MOVES;

/// A run: how many cases to report, then moves as (which case, which action).
fn run() -> impl Strategy<Value = (usize, Vec<(usize, usize)>)> {
    (1usize..=3).prop_flat_map(|cases| {
        (
            Just(cases),
            proptest::collection::vec((0..cases, 0..MOVES.len()), 1..40),
        )
    })
}

async fn check_run(store: Store, cases: usize, moves: Vec<(usize, usize)>) {
    let server = TestServer::start_on(store).await;
    let mut ids = Vec::with_capacity(cases);
    let mut model: HashMap<i64, CaseState> = HashMap::new();
    for i in 0..cases {
        let case = server.report(&format!("随机案件 {i}")).await;
        let id = case["id"].as_i64().expect("id");
        ids.push(id);
        model.insert(id, CaseState::Reported);
    }
    for (case, action) in moves {
        let id = ids[case];
        let action = MOVES[action];
        let res = server
            .post_json(
                &format!("/api/cases/{id}/moves"),
                // Every move carries a note, which an urge needs.
                &json!({ "action": action.code(), "note": "随机" }),
            )
            .await;
        let status = res.status().as_u16();
        let body: Value = res.json().await.expect("a JSON answer");
        // The server allows exactly the moves the state machine allows, and says why not.
        match model[&id].next(action) {
            Ok(to) => {
                assert_eq!(status, 200, "{action} from {:?}: {body}", model[&id]);
                assert_eq!(body["state"], to.code());
                model.insert(id, to);
            }
            Err(_) => {
                assert_eq!(status, 409, "{action} from {:?}: {body}", model[&id]);
                let message = body["error"]["message"].as_str().unwrap_or("");
                assert!(
                    message.contains(model[&id].code()),
                    "the refusal names the state: {message}"
                );
            }
        }
    }

    // Each case row is where the last row of its log left it.
    let db = server.db().await;
    for id in &ids {
        let row: (String, Option<String>, String, Option<i64>, i64) = sqlx::query_as(
            "SELECT state, department_code, supervision, deadline_at, last_seq FROM cases WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&db)
        .await
        .expect("the case row");
        let last: (String, Option<String>, String, Option<i64>, i64) = sqlx::query_as(
            "SELECT to_state, department_code, supervision, deadline_at, seq FROM transitions
             WHERE case_id = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(id)
        .fetch_one(&db)
        .await
        .expect("the case's last transition");
        assert_eq!(row, last, "case {id}");
        assert_eq!(row.0, model[id].code(), "case {id}");
        // The log chains: each move starts where the one before it ended.
        let chain: Vec<(Option<String>, String)> = sqlx::query_as(
            "SELECT from_state, to_state FROM transitions WHERE case_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&db)
        .await
        .expect("the case's log");
        for pair in chain.windows(2) {
            assert_eq!(pair[1].0.as_deref(), Some(pair[0].1.as_str()), "case {id}");
        }
    }
    // And the live wall equals the one rebuilt from the tables.
    let (_, diffs) = backend::check::check(
        &db,
        &server.url(""),
        &Scope::City,
        DEFAULT_UTC_OFFSET_MINUTES,
    )
    .await
    .expect("check");
    assert!(diffs.is_empty(), "{diffs:?}");
    db.close().await;
    server.stop().await;
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

proptest! {
    // Each case starts a server, so a few dozen runs rather than hundreds; the writer's
    // planning has its own property test over thousands of batches.
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn random_moves_keep_the_log_the_rows_and_the_wall_in_agreement_on_sqlite((cases, moves) in run()) {
        runtime().block_on(check_run(Store::Sqlite, cases, moves));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, .. ProptestConfig::default() })]

    #[test]
    fn random_moves_keep_the_log_the_rows_and_the_wall_in_agreement_on_postgres((cases, moves) in run()) {
        runtime().block_on(check_run(Store::Postgres, cases, moves));
    }
}
