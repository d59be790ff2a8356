//! `Idempotency-Key` on `POST /api/cases`, `POST /api/cases/{id}/moves` and Open311's
//! `POST requests`: a retry gets the first answer and writes nothing, across a restart too; a
//! key used for another request is refused; a bad key is a 400 naming the header; keys are
//! each caller's own.

use crate::on_both_stores;
use crate::support::{Store, TestServer, account, account_token, table_counts};
use backend::services::auth::NewAccount;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use shared::auth::Role;

const KEY: &str = "Idempotency-Key";

fn report_body(description: &str) -> Value {
    json!({
        "category": "municipal_facilities",
        "sub_item": "0801",
        "grid_id": "SR-01-001",
        "point": {"lon": 125.025, "lat": 46.585},
        "description": description,
    })
}

/// POSTs `body` to `path` with the bearer `token` and the idempotency key `key`.
async fn post_keyed(
    server: &TestServer,
    token: &str,
    path: &str,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    server
        .http
        .post(server.url(path))
        .bearer_auth(token)
        .header(KEY, key)
        .json(body)
        .send()
        .await
        .expect("POST")
}

/// The status, whether the answer is marked as replayed, and the JSON body of a response.
async fn answer(res: reqwest::Response) -> (u16, bool, Value) {
    let status = res.status().as_u16();
    let replayed = match res.headers().get("idempotent-replayed") {
        None => false,
        Some(v) => {
            assert_eq!(v, "true", "the header says true or is absent");
            true
        }
    };
    (status, replayed, res.json().await.expect("JSON"))
}

async fn count(db: &sqlx::AnyPool, sql: &str, id: i64) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(id)
        .fetch_one(db)
        .await
        .expect("a count")
}

async fn stored_keys(server: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM idempotency_keys")
        .fetch_one(&server.db().await)
        .await
        .expect("count the keys")
}

on_both_stores!(a_retried_report_gets_the_first_answer_and_stores_nothing_new);
async fn a_retried_report_gets_the_first_answer_and_stores_nothing_new(store: Store) {
    let server = TestServer::start_on(store).await;
    let worker = server.tokens.worker.clone();
    let body = report_body("路灯杆倾斜，存在安全隐患");
    let (status, replayed, first) =
        answer(post_keyed(&server, &worker, "/api/cases", "report-1", &body).await).await;
    assert_eq!((status, replayed), (201, false), "{first}");
    let (status, replayed, again) =
        answer(post_keyed(&server, &worker, "/api/cases", "report-1", &body).await).await;
    assert_eq!((status, replayed), (201, true), "{again}");
    assert_eq!(
        again, first,
        "the retry gets the first answer, byte for byte"
    );
    assert_eq!(table_counts(&server.db().await).await, (1, 1));
    assert_eq!(stored_keys(&server).await, 1);

    // The key is stored with the case, not in memory, and belongs to the account, not to the
    // session: after a restart, and with a new session's token, the retry is answered alike.
    let db = server.stop().await;
    let server = TestServer::start_with(db).await;
    let (status, replayed, later) = answer(
        post_keyed(
            &server,
            &server.tokens.worker,
            "/api/cases",
            "report-1",
            &body,
        )
        .await,
    )
    .await;
    assert_eq!((status, replayed), (201, true), "{later}");
    assert_eq!(later, first);
    // A request without a key is a new report, as before.
    let res = server.post_json("/api/cases", &body).await;
    assert_eq!(res.status(), 201);
    assert!(res.headers().get("idempotent-replayed").is_none());
    assert_eq!(table_counts(&server.db().await).await, (2, 2));
    server.stop().await;
}

on_both_stores!(a_key_used_for_another_request_is_refused);
async fn a_key_used_for_another_request_is_refused(store: Store) {
    let server = TestServer::start_on(store).await;
    let worker = server.tokens.worker.clone();
    let first = report_body("路灯杆倾斜");
    let res = post_keyed(&server, &worker, "/api/cases", "k-1", &first).await;
    assert_eq!(res.status(), 201);
    let other = report_body("井盖缺失");
    let (status, replayed, err) =
        answer(post_keyed(&server, &worker, "/api/cases", "k-1", &other).await).await;
    assert_eq!((status, replayed), (422, false), "{err}");
    assert_eq!(err["error"]["code"], "invalid_field", "{err}");
    assert_eq!(err["error"]["field"], KEY, "{err}");
    let message = err["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("Idempotency-Key was used for a different request"),
        "{message}"
    );
    assert_eq!(table_counts(&server.db().await).await, (1, 1));
    server.stop().await;
}

on_both_stores!(a_bad_key_is_a_400_naming_the_header_and_stores_nothing);
async fn a_bad_key_is_a_400_naming_the_header_and_stores_nothing(store: Store) {
    let server = TestServer::start_on(store).await;
    let case = server.report("路灯杆倾斜").await;
    let id = case["id"].as_i64().expect("id");
    let app = backend::services::auth::create_api_key(&server.db().await, "bad-keys", false)
        .await
        .expect("an API key");
    let long = "k".repeat(256);
    let bad: [(&[&[u8]], &str); 5] = [
        (&[b""], "is empty"),
        (&[b"two words"], "not visible ASCII"),
        (&[long.as_bytes()], "more than 255"),
        (&["键".as_bytes()], "not visible ASCII"),
        (&[b"a", b"b"], "more than once"),
    ];
    for (values, what) in bad {
        let with_key = |mut request: reqwest::RequestBuilder| {
            for value in values {
                let value = reqwest::header::HeaderValue::from_bytes(value).expect("a value");
                request = request.header(KEY, value);
            }
            request
        };
        let report = with_key(server.http.post(server.url("/api/cases")))
            .json(&report_body("路灯杆倾斜"))
            .send()
            .await
            .expect("POST");
        let dispatch = with_key(
            server
                .http
                .post(server.url(&format!("/api/cases/{id}/moves"))),
        )
        .bearer_auth(&server.tokens.dispatcher)
        .json(&json!({"action": "dispatch"}))
        .send()
        .await
        .expect("POST");
        for res in [report, dispatch] {
            let (status, _, err) = answer(res).await;
            assert_eq!(status, 400, "{what}: {err}");
            assert_eq!(err["error"]["field"], KEY, "{what}: {err}");
            let message = err["error"]["message"].as_str().unwrap_or("");
            assert!(
                message.starts_with(KEY) && message.contains(what),
                "{what}: {message}"
            );
        }
        // Open311 answers in its own shape.
        let open311 =
            with_key(reqwest::Client::new().post(server.url("/open311/v2/requests.json")))
                .form(&[
                    ("api_key", app.as_str()),
                    ("service_code", "0801"),
                    ("lat", "46.585"),
                    ("long", "125.025"),
                ])
                .send()
                .await
                .expect("POST");
        let (status, _, err) = answer(open311).await;
        assert_eq!(status, 400, "{what}: {err}");
        assert_eq!(err[0]["code"], 400, "{err}");
        let description = err[0]["description"].as_str().unwrap_or("");
        assert!(
            description.contains(KEY) && description.contains(what),
            "{what}: {description}"
        );
    }
    // Nothing was stored: the one case is the one reported first, still reported.
    assert_eq!(table_counts(&server.db().await).await, (1, 1));
    assert_eq!(stored_keys(&server).await, 0);
    server.stop().await;
}

on_both_stores!(a_retried_move_gets_the_first_answer_and_writes_one_transition);
async fn a_retried_move_gets_the_first_answer_and_writes_one_transition(store: Store) {
    let server = TestServer::start_on(store).await;
    let id = server.report("路灯杆倾斜").await["id"]
        .as_i64()
        .expect("id");
    let moves = format!("/api/cases/{id}/moves");
    let dispatcher = server.tokens.dispatcher.clone();
    let dispatch = json!({"action": "dispatch"});
    let (status, replayed, first) =
        answer(post_keyed(&server, &dispatcher, &moves, "move-1", &dispatch).await).await;
    assert_eq!((status, replayed), (200, false), "{first}");
    assert_eq!(first["state"], "dispatched");
    let (status, replayed, again) =
        answer(post_keyed(&server, &dispatcher, &moves, "move-1", &dispatch).await).await;
    assert_eq!((status, replayed), (200, true), "{again}");
    assert_eq!(again, first);
    let db = server.db().await;
    let dispatches = "SELECT COUNT(*) FROM transitions WHERE case_id = $1 AND action = 'dispatch'";
    let all = "SELECT COUNT(*) FROM transitions WHERE case_id = $1";
    assert_eq!(count(&db, dispatches, id).await, 1);
    assert_eq!(count(&db, all, id).await, 2, "the report and one dispatch");
    // Without the key the same request is a second dispatch (a dispatched case may be sent to
    // a department again), which the state machine takes and the log records a second time:
    // the key is what kept the retry from writing.
    let res = server.post_as(&dispatcher, &moves, &dispatch).await;
    assert_eq!(res.status(), 200);
    assert_eq!(count(&db, dispatches, id).await, 2);

    // The same key on another case is another request.
    let other = server.report("井盖缺失").await["id"].as_i64().expect("id");
    let res = post_keyed(
        &server,
        &dispatcher,
        &format!("/api/cases/{other}/moves"),
        "move-1",
        &dispatch,
    )
    .await;
    assert_eq!(res.status(), 422);
    server.stop().await;
}

/// Enough of a JPEG for the server to recognise it by its first bytes.
fn jpeg(tail: &str) -> Vec<u8> {
    [
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00".as_slice(),
        tail.as_bytes(),
    ]
    .concat()
}

/// A move with one photo, as a new multipart body: each has a boundary of its own.
fn move_form(body: &Value, photo: &str) -> Form {
    let part = Part::bytes(jpeg(photo))
        .file_name("after.jpg")
        .mime_str("image/jpeg")
        .expect("a media type");
    Form::new()
        .text("move", body.to_string())
        .part("photo", part)
}

on_both_stores!(a_retried_move_with_photos_gets_the_first_answer);
async fn a_retried_move_with_photos_gets_the_first_answer(store: Store) {
    let server = TestServer::start_on(store).await;
    let id = server.report("路灯杆倾斜").await["id"]
        .as_i64()
        .expect("id");
    let moves = format!("/api/cases/{id}/moves");
    for action in ["dispatch", "accept"] {
        let res = server.post_json(&moves, &json!({"action": action})).await;
        assert_eq!(res.status(), 200, "{action}");
    }
    let staff = server.staff_token("D01").await;
    let resolve = json!({"action": "resolve", "note": "已扶正加固"});
    let send = |photo: &'static str| {
        server
            .http
            .post(server.url(&moves))
            .bearer_auth(&staff)
            .header(KEY, "resolve-1")
            .multipart(move_form(&resolve, photo))
            .send()
    };
    let (status, replayed, first) = answer(send("after").await.expect("POST")).await;
    assert_eq!((status, replayed), (200, false), "{first}");
    assert_eq!(first["state"], "resolved");
    // The retry's form has a boundary of its own; the same content is the same request, and
    // the case having moved on does not refuse it.
    let (status, replayed, again) = answer(send("after").await.expect("POST")).await;
    assert_eq!((status, replayed), (200, true), "{again}");
    assert_eq!(again, first);
    // Another photo is another request.
    let (status, _, err) = answer(send("other").await.expect("POST")).await;
    assert_eq!(status, 422, "{err}");
    let db = server.db().await;
    let resolutions = "SELECT COUNT(*) FROM transitions WHERE case_id = $1 AND action = 'resolve'";
    assert_eq!(count(&db, resolutions, id).await, 1);
    server.stop().await;
}

on_both_stores!(a_retried_open311_request_gets_the_same_service_request_id);
async fn a_retried_open311_request_gets_the_same_service_request_id(store: Store) {
    let server = TestServer::start_on(store).await;
    let app = backend::services::auth::create_api_key(&server.db().await, "citizen-app", false)
        .await
        .expect("an API key");
    let form = [
        ("api_key", app.as_str()),
        ("service_code", "0801"),
        ("lat", "46.585"),
        ("long", "125.025"),
        ("description", "路灯杆倾斜"),
    ];
    let post = |format: &str, key: &'static str| {
        reqwest::Client::new()
            .post(server.url(&format!("/open311/v2/requests.{format}")))
            .header(KEY, key)
            .form(&form)
            .send()
    };
    let (status, replayed, first) = answer(post("json", "citizen-1").await.expect("POST")).await;
    assert_eq!((status, replayed), (200, false), "{first}");
    let id = first[0]["service_request_id"].as_i64().expect("an id");
    let (status, replayed, again) = answer(post("json", "citizen-1").await.expect("POST")).await;
    assert_eq!((status, replayed), (200, true), "{again}");
    assert_eq!(again, first);
    // The XML spelling answers the same request.
    let xml = post("xml", "citizen-1").await.expect("POST");
    assert_eq!(xml.status(), 200);
    assert_eq!(
        xml.headers()
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    let text = xml.text().await.expect("XML");
    assert!(
        text.contains(&format!("<service_request_id>{id}</service_request_id>")),
        "{text}"
    );
    assert_eq!(table_counts(&server.db().await).await, (1, 1));
    server.stop().await;
}

on_both_stores!(two_callers_may_use_the_same_key);
async fn two_callers_may_use_the_same_key(store: Store) {
    let server = TestServer::start_on(store).await;
    let grids: Vec<String> = sqlx::query_scalar("SELECT id FROM grids")
        .fetch_all(&server.db().await)
        .await
        .expect("the grids");
    let other = account_token(
        &server.db().await,
        NewAccount {
            grids,
            ..account("second-worker", Role::GridWorker)
        },
    )
    .await;
    let body = report_body("路灯杆倾斜");
    let mut firsts = Vec::new();
    for token in [server.tokens.worker.clone(), other.clone()] {
        let (status, replayed, case) =
            answer(post_keyed(&server, &token, "/api/cases", "shared-key", &body).await).await;
        assert_eq!((status, replayed), (201, false), "{case}");
        firsts.push(case);
    }
    assert_ne!(
        firsts[0]["id"], firsts[1]["id"],
        "each caller's key is its own"
    );
    // Each caller's retry gets its own first answer.
    for (token, first) in [server.tokens.worker.clone(), other].iter().zip(&firsts) {
        let (status, replayed, again) =
            answer(post_keyed(&server, token, "/api/cases", "shared-key", &body).await).await;
        assert_eq!((status, replayed), (201, true));
        assert_eq!(&again, first);
    }
    assert_eq!(table_counts(&server.db().await).await, (2, 2));
    assert_eq!(stored_keys(&server).await, 2);
    server.stop().await;
}

/// The OpenAPI document names the header on each route that takes it, and the header that
/// marks a replayed answer.
#[tokio::test]
async fn the_document_describes_the_header() {
    let server = TestServer::start().await;
    let doc = crate::openapi::document(&server).await;
    for (path, status) in [
        ("/api/cases", "201"),
        ("/api/cases/{id}/moves", "200"),
        ("/open311/v2/requests.{format}", "200"),
    ] {
        let operation = &doc["paths"][path]["post"];
        let parameters = operation["parameters"].as_array().expect("parameters");
        let header = parameters
            .iter()
            .find(|p| p["name"] == KEY)
            .unwrap_or_else(|| panic!("{path} does not name {KEY}: {operation}"));
        assert_eq!(header["in"], "header", "{path}");
        assert_ne!(header["required"], true, "{path}: the key is optional");
        assert_eq!(header["schema"]["maxLength"], 255, "{path}");
        let replayed = &operation["responses"][status]["headers"]["Idempotent-Replayed"];
        assert!(replayed.is_object(), "{path}: {operation}");
    }
    server.stop().await;
}
