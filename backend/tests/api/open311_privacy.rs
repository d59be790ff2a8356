//! Open311's reads and the people in the cases: without a key only the public categories and
//! what was filed through Open311 are read, never a sensitive sub-item, and places only as the
//! grid's label point; an app with its key reads what its role allows, exactly.

use crate::on_both_stores;
use crate::support::{Store, TestServer};
use serde_json::{Value, json};

/// A case reported by the grid worker through the API; its id.
async fn report(server: &TestServer, category: &str, sub_item: &str) -> i64 {
    let res = server
        .post_json(
            "/api/cases",
            &json!({
                "category": category,
                "sub_item": sub_item,
                "grid_id": "SR-01-001",
                "point": {"lon": 125.0251, "lat": 46.5853},
                "description": format!("隐私测试 {sub_item}：张某某，住3号楼2单元"),
            }),
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.expect("case")["id"]
        .as_i64()
        .expect("id")
}

/// The requests of `requests.json` with `query`, by id.
async fn read(server: &TestServer, query: &str) -> (u16, Vec<Value>) {
    let res = reqwest::Client::new()
        .get(server.url(&format!("/open311/v2/requests.json{query}")))
        .send()
        .await
        .expect("GET");
    let status = res.status().as_u16();
    let body: Value = res.json().await.expect("JSON");
    (status, body.as_array().cloned().unwrap_or_default())
}

fn ids(requests: &[Value]) -> Vec<i64> {
    let mut ids: Vec<i64> = requests
        .iter()
        .filter_map(|r| r["service_request_id"].as_i64())
        .collect();
    ids.sort_unstable();
    ids
}

on_both_stores!(the_public_reads_no_sensitive_case_and_no_exact_place);
async fn the_public_reads_no_sensitive_case_and_no_exact_place(store: Store) {
    let server = TestServer::start_on(store).await;
    let mental_health = report(&server, "special_groups", "1304").await;
    let lamp_post = report(&server, "municipal_facilities", "0801").await;
    let livelihood = report(&server, "livelihood", "0101").await;
    let key = backend::services::auth::create_api_key(&server.db().await, "citizen-app", false)
        .await
        .expect("an API key");
    // Filed through Open311 in a category that is not public: public, as the citizen's own.
    let res = reqwest::Client::new()
        .post(server.url("/open311/v2/requests.json"))
        .form(&[
            ("api_key", key.as_str()),
            ("service_code", "0101"),
            ("lat", "46.5853"),
            ("long", "125.0251"),
            ("description", "小区供暖不热"),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 200);
    let filed: Value = res.json().await.expect("JSON");
    let filed = filed[0]["service_request_id"].as_i64().expect("an id");

    let (status, public) = read(&server, "").await;
    assert_eq!(status, 200);
    assert_eq!(
        ids(&public),
        [lamp_post, filed],
        "the public reads the lamp post and the citizen's own request only"
    );
    for request in &public {
        let (lat, long) = (request["lat"].as_f64(), request["long"].as_f64());
        assert_ne!(
            (lat, long),
            (Some(46.5853), Some(125.0251)),
            "an exact place in a public read: {request}"
        );
        assert!(
            lat.is_some() && long.is_some(),
            "the grid's label point: {request}"
        );
    }
    // One by one, a sensitive case is not there for the public at all.
    for hidden in [mental_health, livelihood] {
        let res = reqwest::Client::new()
            .get(server.url(&format!("/open311/v2/requests/{hidden}.json")))
            .send()
            .await
            .expect("GET");
        assert_eq!(res.status(), 404, "case {hidden} read by the public");
    }

    // The app with its key reads what its role allows: every case of the city, exactly.
    let (status, with_key) = read(&server, &format!("?api_key={key}")).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&with_key), {
        let mut all = vec![mental_health, lamp_post, livelihood, filed];
        all.sort_unstable();
        all
    });
    let exact = with_key
        .iter()
        .find(|r| r["service_request_id"] == mental_health)
        .expect("the case");
    assert_eq!(exact["lat"].as_f64(), Some(46.5853), "{exact}");
    // A key that opens nothing is refused, not read as the public.
    let (status, _) = read(&server, "?api_key=not-a-key").await;
    assert_eq!(status, 403);
    server.stop().await;
}
