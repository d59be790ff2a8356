//! Every number from outside is checked against a documented range: out of range, too large
//! for its type, negative where it cannot be, or not a number at all is a 4xx that names the
//! parameter, never a 500, a panic or an allocation sized by the caller.

use crate::support::TestServer;
use serde_json::{Value, json};

/// What a refusal must say: its status and the parameter it names (in `field`, or in the
/// message, or for Open311 in the description).
async fn refused(res: reqwest::Response, status: u16, parameter: &str, what: &str) {
    let got = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    assert_eq!(got, status, "{what}: {text}");
    let named = match serde_json::from_str::<Value>(&text) {
        Ok(body) if body["error"].is_object() => {
            body["error"]["field"] == parameter
                || body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(parameter))
        }
        _ => text.contains(parameter),
    };
    assert!(
        named,
        "{what}: the refusal does not name `{parameter}`: {text}"
    );
}

const HUGE: &str = "99999999999999999999999999";

#[tokio::test]
async fn numbers_out_of_range_in_queries_and_paths_are_400s_naming_the_parameter() {
    let server = TestServer::start().await;
    let get = |path: String| {
        let server = &server;
        async move { server.get(&path).await }
    };
    for (path, status, parameter) in [
        ("/api/cases?limit=0".to_owned(), 400, "limit"),
        ("/api/cases?limit=201".to_owned(), 400, "limit"),
        ("/api/cases?limit=-1".to_owned(), 400, "limit"),
        (format!("/api/cases?limit={HUGE}"), 400, "limit"),
        (format!("/api/cases/{HUGE}"), 400, "id"),
        ("/api/cases/-3".to_owned(), 400, "id"),
        ("/api/cases/0".to_owned(), 400, "id"),
        ("/api/cases/1.5".to_owned(), 400, "id"),
        (format!("/api/cases/{HUGE}/moves"), 400, "id"),
        (format!("/api/wall/at?at={HUGE}"), 400, "at"),
        ("/api/wall/at?at=-1".to_owned(), 400, "at"),
        ("/api/wall/at?at=1e300".to_owned(), 400, "at"),
        (format!("/api/team?at={HUGE}"), 400, "at"),
        ("/api/team?at=-86400000000".to_owned(), 400, "at"),
        // Periods are in Unix milliseconds, within the years 2000 to 2100.
        ("/api/rankings?from=99999999999999".to_owned(), 400, "from"),
        ("/api/rankings?from=1767225600000&to=99999999999999999".to_owned(), 400, "to"),
        (
            "/api/compare?from=1767225600000&to=1769904000000&vs_from=-999999999999999&vs_to=1767225600000"
                .to_owned(),
            400,
            "vs_from",
        ),
        (
            "/api/briefing.svg?from=-5000000000000000000&to=5000000000000000000".to_owned(),
            400,
            "from",
        ),
        ("/api/rankings?from=-2208988800000&to=1767225600000".to_owned(), 400, "from"),
        (format!("/ws?since={HUGE}&stream=abc"), 400, "since"),
        ("/ws?since=-1&stream=abc".to_owned(), 400, "since"),
    ] {
        refused(get(path.clone()).await, status, parameter, &path).await;
    }
    // Open311 answers in its own shape; its description names the parameter. The standard's
    // request ids are opaque strings, so one that is no number of ours is simply not found.
    for (path, status, parameter) in [
        (
            format!("/open311/v2/requests/{HUGE}.json"),
            404,
            "service_request_id",
        ),
        (
            "/open311/v2/requests/-1.json".to_owned(),
            404,
            "service_request_id",
        ),
        (
            "/open311/v2/requests.json?start_date=99999-01-01T00:00:00Z".to_owned(),
            400,
            "start_date",
        ),
        (
            "/open311/v2/requests.json?end_date=0001-01-01T00:00:00Z".to_owned(),
            400,
            "end_date",
        ),
    ] {
        let res = server
            .http
            .get(server.url(&path))
            .send()
            .await
            .expect("GET");
        refused(res, status, parameter, &path).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn numbers_out_of_range_in_bodies_are_refused_naming_the_field() {
    let server = TestServer::start().await;
    let report = |point: Value| {
        json!({
            "category": "municipal_facilities",
            "sub_item": "0801",
            "point": point,
            "description": "范围测试",
        })
    };
    for (point, field) in [
        (json!({"lon": 1e308, "lat": 46.5}), "point.lon"),
        (json!({"lon": 125.0, "lat": -1e308}), "point.lat"),
        (json!({"lon": 125.0, "lat": 91}), "point.lat"),
    ] {
        let res = server.post_json("/api/cases", &report(point.clone())).await;
        refused(res, 422, field, &point.to_string()).await;
    }
    // A number too large for any float is not JSON the server takes.
    let res = server
        .http
        .post(server.url("/api/cases"))
        .header("content-type", "application/json")
        .body(r#"{"category":"municipal_facilities","point":{"lon":1e999,"lat":46.5},"description":"x"}"#)
        .send()
        .await
        .expect("POST");
    let status = res.status().as_u16();
    assert!((400..500).contains(&status), "1e999: {status}");
    // Open311's coordinates, posted as a form.
    let key = backend::services::auth::create_api_key(&server.db().await, "bounds", false)
        .await
        .expect("an API key");
    for (lat, long, parameter) in [
        ("1e309", "125.02", "lat"),
        ("46.58", "-1000", "long"),
        ("NaN", "125.02", "lat"),
        ("46.58", "inf", "long"),
    ] {
        let res = server
            .http
            .post(server.url("/open311/v2/requests.json"))
            .form(&[
                ("api_key", key.as_str()),
                ("service_code", "0801"),
                ("lat", lat),
                ("long", long),
                ("description", "范围测试"),
            ])
            .send()
            .await
            .expect("POST");
        refused(res, 400, parameter, &format!("lat={lat} long={long}")).await;
    }
    for path in [
        format!("/api/cases/{HUGE}/moves"),
        "/api/cases/0/moves".to_owned(),
    ] {
        let res = server
            .post_json(&path, &json!({"action": "dispatch"}))
            .await;
        refused(res, 400, "id", &path).await;
    }
    server.stop().await;
}
