//! `GET /api/wall/at`: a scope's wall at a past moment, which must be what the live wall
//! showed at that moment, from checkpoints or from the log's start alike.

use crate::on_both_stores;
use crate::support::{Store, TestDb, TestServer};
use backend::config::Config;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::time::Duration;

const SCOPES: [&str; 3] = ["city", "district:SR", "street:SR01"];

/// A server on a fresh sample city that checkpoints every scope every three of its events.
async fn start(db: TestDb) -> TestServer {
    let mut config = Config::new(db.url.clone());
    config.checkpoint_every = 3;
    config.backfill_history = true;
    TestServer::start_configured(db, config).await
}

/// A seeded walk of reports and moves the state machine allows over the sample city's grids.
async fn walk(server: &TestServer, rng: &mut rand::rngs::StdRng, ids: &mut Vec<i64>, steps: usize) {
    let grids = ["SR-01-001", "SR-01-002", "SR-01-003", "SR-01-004"];
    for step in 0..steps {
        // Mostly moves: a log several times longer than the cases are many, so that looking
        // back from the log's start reads a street's tail case by case, and from a nearby
        // checkpoint by scanning the range.
        if ids.is_empty() || rng.random_bool(0.2) {
            let grid = grids.choose(rng).expect("a grid");
            let res = server
                .post_json(
                    "/api/cases",
                    &json!({"category": "municipal_facilities", "sub_item": "0801",
                            "grid_id": grid, "description": format!("回看 {step}")}),
                )
                .await;
            assert_eq!(res.status(), 201);
            let case: Value = res.json().await.expect("case");
            ids.push(case["id"].as_i64().expect("id"));
            continue;
        }
        let id = *ids.choose(rng).expect("a case");
        let case: Value = server
            .get(&format!("/api/cases/{id}"))
            .await
            .json()
            .await
            .expect("case");
        let allowed = case["allowed"].as_array().expect("allowed moves").clone();
        let Some(action) = allowed.choose(rng) else {
            continue;
        };
        let res = server
            .post_json(
                &format!("/api/cases/{id}/moves"),
                &json!({"action": action, "note": "回看测试"}),
            )
            .await;
        assert_eq!(res.status(), 200, "{action} on case {id}");
    }
}

/// What every scope's live wall shows now: `(moment, [(scope, log_seq, state)])`. The next
/// event is stamped after the moment: the test waits for the clock to pass it.
async fn record(server: &TestServer) -> (i64, Vec<(String, Value, Value)>) {
    let mut walls = Vec::new();
    let mut moment = 0;
    for scope in SCOPES {
        let wall: Value = server
            .get(&format!("/api/wall?scope={scope}"))
            .await
            .json()
            .await
            .expect("wall JSON");
        moment = wall["server_time_ms"].as_i64().expect("server time");
        walls.push((
            scope.to_owned(),
            wall["log_seq"].clone(),
            wall["state"].clone(),
        ));
    }
    while backend::clock::now_ms() <= moment {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    (moment, walls)
}

async fn past(server: &TestServer, scope: &str, at: i64) -> Value {
    let res = server
        .get(&format!("/api/wall/at?scope={scope}&at={at}"))
        .await;
    assert_eq!(res.status(), 200, "{scope} at {at}");
    res.json().await.expect("past wall JSON")
}

on_both_stores!(the_past_is_what_the_wall_showed_then);
async fn the_past_is_what_the_wall_showed_then(store: Store) {
    let db = TestDb::new(store).await;
    let pool = backend::store::connect(&db.url).await.expect("open");
    backend::store::city::install(&pool, &backend::store::city::sample_areas())
        .await
        .expect("install the sample city");
    // The team's size is not in the log: a past wall shows today's, so the member who visits
    // households below is there from the start.
    sqlx::query(
        "INSERT INTO members (id, name, kind, street_code, grid_id, active)
         VALUES (1, '网格员甲', 'grid_worker', 'SR01', 'SR-01-001', 1)",
    )
    .execute(&pool)
    .await
    .expect("a member");
    pool.close().await;
    let before_anything = backend::clock::now_ms();
    let server = start(db).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut ids = Vec::new();
    let mut samples = Vec::new();
    walk(&server, &mut rng, &mut ids, 30).await;
    samples.push(record(&server).await);
    walk(&server, &mut rng, &mut ids, 30).await;
    samples.push(record(&server).await);

    // House visits written while the server is down: the restart folds them in, and writes
    // the start as every scope's checkpoint, since the log grew after the last one.
    let test_db = server.stop().await;
    let pool = backend::store::connect(&test_db.url).await.expect("open");
    for (i, grid) in ["SR-01-001", "SR-01-002", "SR-01-001"].iter().enumerate() {
        sqlx::query(
            "INSERT INTO house_visits (grid_id, member_id, at, household) VALUES ($1, 1, $2, $3)",
        )
        .bind(*grid)
        .bind(backend::clock::now_ms())
        .bind(format!("{}栋101室", i % 2))
        .execute(&pool)
        .await
        .expect("a visit");
    }
    pool.close().await;
    let server = start(test_db).await;
    samples.push(record(&server).await);
    walk(&server, &mut rng, &mut ids, 30).await;
    samples.push(record(&server).await);

    let mut from_checkpoints = 0;
    for (moment, walls) in &samples {
        for (scope, log_seq, state) in walls {
            let past = past(&server, scope, *moment).await;
            assert_eq!(&past["log_seq"], log_seq, "{scope} at {moment}");
            assert_eq!(&past["state"], state, "{scope} at {moment}");
            if past["checkpoint_log_seq"].is_u64() {
                from_checkpoints += 1;
            }
        }
    }
    assert!(
        from_checkpoints > 0,
        "some moments start from a checkpoint, with checkpoints every three events"
    );

    // Checkpoints are a cache: without any, every moment is folded from the log's start.
    let pool = server.db().await;
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM wall_checkpoints")
        .fetch_one(&pool)
        .await
        .expect("count checkpoints");
    assert!(kept > 10, "{kept} checkpoints");
    sqlx::query("DELETE FROM wall_checkpoints")
        .execute(&pool)
        .await
        .expect("forget checkpoints");
    pool.close().await;
    let (moment, walls) = &samples[3];
    for (scope, _, state) in walls {
        let past = past(&server, scope, *moment).await;
        assert_eq!(past["checkpoint_log_seq"], Value::Null);
        assert!(past["folded"].as_u64() > Some(0));
        assert_eq!(
            &past["state"], state,
            "{scope} at {moment} from the log's start"
        );
    }

    // Before anything happened, the wall was empty.
    let past = past(&server, "city", before_anything).await;
    assert_eq!(past["log_seq"], 0);
    assert_eq!(past["state"]["counters"]["reported_total"], 0);
    server.stop().await;
}

#[tokio::test]
async fn a_moment_in_the_future_or_missing_or_an_unknown_street_is_refused() {
    let server = TestServer::start().await;
    let future = backend::clock::now_ms() + 60_000;
    for (path, status, parameter) in [
        (format!("/api/wall/at?at={future}"), 400, Some("at")),
        ("/api/wall/at?scope=city".to_owned(), 400, Some("at")),
        ("/api/wall/at?at=1&when=2".to_owned(), 400, None),
        (
            format!("/api/wall/at?scope=street:NOPE&at={}", future - 3_600_000),
            404,
            None,
        ),
        // Moments outside the years 2000 to 2100 are refused, named.
        ("/api/wall/at?at=1".to_owned(), 400, Some("at")),
        (
            "/api/wall/at?at=-9223372036854775808".to_owned(),
            400,
            Some("at"),
        ),
        ("/api/wall/at?scope=town&at=1".to_owned(), 422, None),
    ] {
        let res = server.get(&path).await;
        assert_eq!(res.status(), status, "{path}");
        let body: Value = res.json().await.expect("error JSON");
        if let Some(parameter) = parameter {
            assert_eq!(body["error"]["field"], parameter, "{path}: {body}");
        }
    }
    server.stop().await;
}
