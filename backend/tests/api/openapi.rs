//! `GET /api/openapi.json`: the document is served and parses, it describes every route the
//! router has and nothing it does not, and real responses validate against its schemas.

use crate::support::TestServer;
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// The document as the server serves it.
pub(crate) async fn document(server: &TestServer) -> Value {
    let res = server.get("/api/openapi.json").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "application/json",
        "the document is served as JSON"
    );
    res.json().await.expect("the document parses as JSON")
}

/// The methods OpenAPI names in a path item, as HTTP methods.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every operation of the document: its method and its path.
fn operations(doc: &Value) -> Vec<(Method, String)> {
    let paths = doc["paths"].as_object().expect("the document has paths");
    let mut out = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            if item.get(method).is_some() {
                let method =
                    Method::from_bytes(method.to_uppercase().as_bytes()).expect("an HTTP method");
                out.push((method, path.clone()));
            }
        }
    }
    out
}

/// Whether the router's `pattern` (where `{name}` takes one whole segment) matches the
/// document's `path`, taken literally: `/open311/v2/{file}` matches `/open311/v2/services.{format}`.
fn matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    pattern.len() == path.len()
        && pattern
            .iter()
            .zip(&path)
            .all(|(p, s)| (p.starts_with('{') && p.ends_with('}') && !s.is_empty()) || p == s)
}

#[tokio::test]
async fn the_document_is_served_and_parses() {
    let server = TestServer::start().await;
    let doc = document(&server).await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "an OpenAPI 3.1 document: {}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "gridwall");
    let schemas = &doc["components"]["schemas"];
    for name in [
        "ApiError",
        "CaseView",
        "ReportCase",
        "MoveCase",
        "WallView",
        "ServerMsg",
    ] {
        assert!(schemas.get(name).is_some(), "no schema {name}");
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["api_key"]["name"], "X-Api-Key");
    assert_eq!(schemes["api_key"]["in"], "header");
    assert_eq!(schemes["display_token"]["name"], "token");
    assert_eq!(schemes["display_token"]["in"], "query");
    // The document is the one the library builds, not a stale copy.
    let built = serde_json::to_value(backend::http::openapi::document()).expect("serialise");
    assert_eq!(doc, built);

    // Every security requirement names a scheme the document defines, and operation ids are
    // unique, as code generators need them.
    let mut ids = Vec::new();
    for (method, path) in operations(&doc) {
        let op = &doc["paths"][&path][method.as_str().to_lowercase()];
        ids.push(
            op["operationId"]
                .as_str()
                .expect("an operation id")
                .to_owned(),
        );
        for requirement in op["security"].as_array().into_iter().flatten() {
            for scheme in requirement.as_object().expect("a requirement").keys() {
                assert!(
                    schemes.get(scheme).is_some(),
                    "{method} {path} names the undefined scheme {scheme}"
                );
            }
        }
        assert!(
            op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{method} {path} documents no response"
        );
    }
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "operation ids repeat");
    server.stop().await;
}

/// The route table is what `app` routes (both come from one builder); this checks it against
/// the document both ways, and then calls every documented operation on the real server to
/// see that a route, not a fallback, answers it.
#[tokio::test]
async fn every_route_is_documented_and_every_documented_operation_is_routed() {
    let server = TestServer::start().await;
    let doc = document(&server).await;
    let documented = operations(&doc);
    let routes = backend::route_table();
    assert!(routes.len() >= 20, "the route table is suspiciously short");

    let undocumented: Vec<String> = routes
        .iter()
        .filter(|r| {
            !documented
                .iter()
                .any(|(m, p)| *m == r.method && matches(&r.path, p))
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the OpenAPI document (annotate the handler with \
         #[utoipa::path] and list it in backend::http::openapi::ApiDoc): {undocumented:?}"
    );
    let unrouted: Vec<String> = documented
        .iter()
        .filter(|(m, p)| !routes.iter().any(|r| r.method == *m && matches(&r.path, p)))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        unrouted.is_empty(),
        "documented operations without a route: {unrouted:?}"
    );

    // Real values for the path parameters, so that each call reaches its handler.
    let case = server.report("路灯杆倾斜").await;
    let id = case["id"].as_i64().expect("id").to_string();
    let anonymous = reqwest::Client::new();
    for (method, path) in &documented {
        let concrete = path
            .replace("{id}", &id)
            .replace("{format}", "json")
            .replace("{code}", "0801")
            .replace("{hash}", &"0".repeat(64));
        assert!(!concrete.contains('{'), "no sample value for {path}");
        let mut req = anonymous.request(method.clone(), server.url(&concrete));
        if *method == Method::POST {
            req = req.json(&json!({}));
        }
        let res = req.send().await.expect("a response");
        let status = res.status();
        let body = res.text().await.unwrap_or_default();
        let fallback = status == 405
            || (status == 404
                && (body.is_empty()
                    || body.contains("no such API route")
                    || body.contains("there is no such Open311 resource")));
        assert!(
            !fallback,
            "{method} {path} ({concrete}) is answered by a fallback: {status} {body}"
        );
    }
    server.stop().await;
}

/// A validator for what the document says `method path` answers with `status` as JSON.
fn validator(doc: &Value, method: &str, path: &str, status: u16) -> jsonschema::Validator {
    let response = &doc["paths"][path][method]["responses"][status.to_string()];
    let schema = response["content"]
        .as_object()
        .and_then(|content| {
            content
                .iter()
                .find(|(mime, _)| mime.starts_with("application/json"))
        })
        .map(|(_, media)| media["schema"].clone())
        .unwrap_or_else(|| panic!("{method} {path} documents no JSON body for {status}"));
    // The operation's schema with the document's components beside it, so that its
    // `#/components/schemas/…` references resolve within it.
    let mut root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"].clone(),
    });
    match schema {
        Value::Object(fields) => {
            for (k, v) in fields {
                root[k] = v;
            }
        }
        other => panic!("{method} {path} {status}: a schema that is not an object: {other}"),
    }
    jsonschema::validator_for(&root).expect("the schema compiles")
}

/// Checks `body` against the document's schema for `method path` answering `status`.
pub(crate) fn check(doc: &Value, method: &str, path: &str, status: u16, body: &Value) {
    let validator = validator(doc, method, path, status);
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: the body does not match the document: {errors:#?}\n{body:#}"
    );
}

/// A response's status and JSON body.
async fn answer(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.expect("a JSON body"))
}

#[tokio::test]
async fn real_responses_match_the_documented_schemas() {
    let server = TestServer::start().await;
    let doc = document(&server).await;

    // A report (its body checked against the request schema too), the case, and a move.
    let report = json!({
        "category": "municipal_facilities",
        "sub_item": "0801",
        "grid_id": "SR-01-001",
        "point": {"lon": 125.025, "lat": 46.585},
        "description": "路灯杆倾斜，存在安全隐患",
    });
    let request_schema =
        &doc["paths"]["/api/cases"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    let mut root = json!({"components": doc["components"].clone()});
    root["$ref"] = request_schema["$ref"].clone();
    let request = jsonschema::validator_for(&root).expect("the schema compiles");
    assert!(request.is_valid(&report), "the report body fits ReportCase");
    assert!(
        !request.is_valid(&json!({"category": "ecology", "description": "x", "colour": "red"})),
        "ReportCase refuses unknown fields, as serde does"
    );

    let (status, case) = answer(server.post_json("/api/cases", &report).await).await;
    assert_eq!(status, 201);
    check(&doc, "post", "/api/cases", 201, &case);
    let id = case["id"].as_i64().expect("id");
    let (status, body) = answer(server.get(&format!("/api/cases/{id}")).await).await;
    assert_eq!(status, 200);
    check(&doc, "get", "/api/cases/{id}", 200, &body);
    let (status, body) = answer(server.get(&format!("/api/cases/{id}/moves")).await).await;
    assert_eq!(status, 200);
    check(&doc, "get", "/api/cases/{id}/moves", 200, &body);
    let moves = format!("/api/cases/{id}/moves");
    let (status, body) = answer(
        server
            .post_json(&moves, &json!({"action": "dispatch"}))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    check(&doc, "post", "/api/cases/{id}/moves", 200, &body);
    assert!(
        body["deadline_ms"].is_i64(),
        "a dispatched case has a deadline"
    );

    // Errors: the one shape, with and without `field`.
    let (status, body) = answer(server.get("/api/cases/999999").await).await;
    assert_eq!(status, 404);
    check(&doc, "get", "/api/cases/{id}", 404, &body);
    let (status, body) = answer(
        server
            .post_json("/api/cases", &json!({"category": "weather"}))
            .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(body["error"]["field"].is_string());
    check(&doc, "post", "/api/cases", 422, &body);
    let (status, body) = answer(server.post_json(&moves, &json!({"action": "close"})).await).await;
    assert_eq!(status, 409);
    check(&doc, "post", "/api/cases/{id}/moves", 409, &body);
    let (status, body) = answer(
        reqwest::Client::new()
            .get(server.url("/api/me"))
            .send()
            .await
            .expect("GET"),
    )
    .await;
    assert_eq!(status, 401);
    check(&doc, "get", "/api/me", 401, &body);

    // Accounts, the wall and the team.
    let (status, body) = answer(server.get("/api/me").await).await;
    assert_eq!(status, 200);
    check(&doc, "get", "/api/me", 200, &body);
    let (status, body) = answer(
        reqwest::Client::new()
            .post(server.url("/api/login"))
            .json(&json!({"login": "test-leader", "password": crate::support::TEST_PASSWORD}))
            .send()
            .await
            .expect("POST"),
    )
    .await;
    assert_eq!(status, 200);
    check(&doc, "post", "/api/login", 200, &body);
    let (status, body) = answer(server.get("/api/wall").await).await;
    assert_eq!(status, 200);
    check(&doc, "get", "/api/wall", 200, &body);
    assert!(
        body["state"]["latest"]
            .as_object()
            .is_some_and(|l| !l.is_empty()),
        "the wall's state has entries for the schema to check"
    );
    let now = backend::clock::now_ms();
    let (status, body) = answer(server.get(&format!("/api/wall/at?at={now}")).await).await;
    assert_eq!(status, 200);
    check(&doc, "get", "/api/wall/at", 200, &body);
    let (status, body) = answer(
        server
            .get(&format!("/api/wall/at?at={}", now + 3_600_000))
            .await,
    )
    .await;
    assert_eq!(status, 400);
    check(&doc, "get", "/api/wall/at", 400, &body);
    let (status, body) = answer(server.get("/api/team").await).await;
    assert_eq!(status, 200);
    check(&doc, "get", "/api/team", 200, &body);

    // Open311, in its JSON spelling.
    for (path, concrete) in [
        (
            "/open311/v2/discovery.{format}",
            "/open311/v2/discovery.json".to_owned(),
        ),
        (
            "/open311/v2/services.{format}",
            "/open311/v2/services.json".to_owned(),
        ),
        (
            "/open311/v2/services/{code}.{format}",
            "/open311/v2/services/0801.json".to_owned(),
        ),
        (
            "/open311/v2/requests.{format}",
            "/open311/v2/requests.json".to_owned(),
        ),
        (
            "/open311/v2/requests/{id}.{format}",
            format!("/open311/v2/requests/{id}.json"),
        ),
        (
            "/open311/v2/tokens/{id}.{format}",
            format!("/open311/v2/tokens/{id}.json"),
        ),
    ] {
        let (status, body) = answer(server.get(&concrete).await).await;
        assert_eq!(status, 200, "{concrete}");
        check(&doc, "get", path, 200, &body);
    }
    let (status, body) = answer(server.get("/open311/v2/requests/0.json").await).await;
    assert_eq!(status, 404);
    check(
        &doc,
        "get",
        "/open311/v2/requests/{id}.{format}",
        404,
        &body,
    );
    let (status, body) = answer(
        reqwest::Client::new()
            .post(server.url("/open311/v2/requests.json"))
            .form(&[
                ("service_code", "0801"),
                ("lat", "46.585"),
                ("long", "125.025"),
            ])
            .send()
            .await
            .expect("POST"),
    )
    .await;
    assert_eq!(status, 403);
    check(&doc, "post", "/open311/v2/requests.{format}", 403, &body);

    // The stream: its messages against `ServerMsg`, which `/ws` names.
    let mut root = json!({"components": doc["components"].clone()});
    root["$ref"] = json!("#/components/schemas/ServerMsg");
    let server_msg = jsonschema::validator_for(&root).expect("the schema compiles");
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws?scope=city", server.addr))
            .await
            .expect("WebSocket handshake");
    server.report("河道漂浮垃圾").await;
    let mut kinds = Vec::new();
    while !kinds.iter().any(|k| k == "delta") {
        let frame = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame within 5 s")
            .expect("the stream is open")
            .expect("a valid frame");
        let Message::Text(text) = frame else {
            continue;
        };
        let msg: Value = serde_json::from_str(&text).expect("JSON");
        let errors: Vec<String> = server_msg
            .iter_errors(&msg)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}\n{msg:#}");
        kinds.push(msg["type"].as_str().expect("a type").to_owned());
    }
    assert_eq!(kinds[0], "hello");
    assert!(kinds.iter().any(|k| k == "snapshot"), "{kinds:?}");
    server.stop().await;
}
