//! Evidence photos: multipart `POST /api/cases` and `POST /api/cases/{id}/moves`, and
//! `GET /api/photos/{hash}`, each signed by the role that makes it.

use crate::on_both_stores;
use crate::support::{Store, TestDb, TestServer, account, account_token, table_counts};
use backend::config::Config;
use backend::services::auth::NewAccount;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use shared::auth::Role;
use shared::wall::Scope;
use std::path::{Path, PathBuf};

/// Enough of each format for recognising it by its first bytes, then `tail` so that tests can
/// make photos that differ.
fn jpeg(tail: &str) -> Vec<u8> {
    [
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00".as_slice(),
        tail.as_bytes(),
    ]
    .concat()
}

pub(crate) fn png(tail: &str) -> Vec<u8> {
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01".as_slice(),
        tail.as_bytes(),
    ]
    .concat()
}

fn webp(tail: &str) -> Vec<u8> {
    let body = [b"WEBPVP8L".as_slice(), tail.as_bytes()].concat();
    let len = (body.len() as u32).to_le_bytes();
    [b"RIFF".as_slice(), &len, &body].concat()
}

pub(crate) fn report_json() -> Value {
    json!({
        "category": "municipal_facilities",
        "sub_item": "0801",
        "grid_id": "SR-01-001",
        "point": {"lon": 125.025, "lat": 46.585},
        "description": "路灯杆倾斜，存在安全隐患",
    })
}

pub(crate) fn photo(bytes: Vec<u8>, file: &str, declared: &str) -> Part {
    Part::bytes(bytes)
        .file_name(file.to_owned())
        .mime_str(declared)
        .expect("a media type")
}

/// A multipart body: the JSON in the part `name`, then the photos.
pub(crate) fn form(name: &str, body: &Value, photos: Vec<Part>) -> Form {
    photos.into_iter().fold(
        Form::new().text(name.to_owned(), body.to_string()),
        |f, p| f.part("photo", p),
    )
}

/// POSTs a multipart body as the test grid worker (the client's default credential), who
/// reports in every grid of the sample city.
pub(crate) async fn post_form(server: &TestServer, path: &str, form: Form) -> reqwest::Response {
    post_form_as(server, &server.tokens.worker, path, form).await
}

/// POSTs a multipart body with the bearer `token`.
async fn post_form_as(
    server: &TestServer,
    token: &str,
    path: &str,
    form: Form,
) -> reqwest::Response {
    server
        .http
        .post(server.url(path))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("POST")
}

/// GETs `path` with the bearer `token`.
async fn get_as(server: &TestServer, token: &str, path: &str) -> reqwest::Response {
    server
        .http
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET")
}

/// Every file under `dir`, however deep.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

async fn photo_rows(server: &TestServer) -> (i64, i64) {
    let db = server.db().await;
    let photos: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM photos")
        .fetch_one(&db)
        .await
        .expect("count photos");
    let links: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM transition_photos")
        .fetch_one(&db)
        .await
        .expect("count transition photos");
    (photos, links)
}

/// Checks an error body: its status, code and field, and that its message says `says`.
async fn assert_error(res: reqwest::Response, status: u16, code: &str, field: &str, says: &str) {
    assert_eq!(res.status(), status);
    let err: Value = res.json().await.expect("error JSON");
    assert_eq!(err["error"]["code"], code, "{err}");
    assert_eq!(err["error"]["field"], field, "{err}");
    let message = err["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{message:?} does not say {says:?}");
}

on_both_stores!(the_lamp_post_story_keeps_its_photos);
async fn the_lamp_post_story_keeps_its_photos(store: Store) {
    let server = TestServer::start_on(store).await;
    let before = jpeg("路灯杆倾斜");
    let after = png("扶正加固");
    let checked = webp("核查无误");

    let res = post_form(
        &server,
        "/api/cases",
        form(
            "case",
            &report_json(),
            vec![photo(before.clone(), "before.jpg", "image/jpeg")],
        ),
    )
    .await;
    assert_eq!(res.status(), 201);
    let case: Value = res.json().await.expect("case JSON");
    let id = case["id"].as_i64().expect("id");
    assert_eq!(case["photos"].as_array().map(Vec::len), Some(1));
    assert_eq!(case["photos"][0]["action"], "report");

    // Each move is signed by the role that makes it: the city dispatcher dispatches and
    // closes, department D01's staff (street lamps are D01's) accept and resolve, the grid
    // worker verifies.
    let moves = format!("/api/cases/{id}/moves");
    let staff = server.staff_token("D01").await;
    let (worker, dispatcher) = (
        server.tokens.worker.clone(),
        server.tokens.dispatcher.clone(),
    );
    let mut last = Value::Null;
    for (action, token, photo) in [
        ("dispatch", &dispatcher, None),
        ("accept", &staff, None),
        (
            "resolve",
            &staff,
            Some((after.clone(), "after.png", "image/png")),
        ),
        (
            "verify",
            &worker,
            Some((checked.clone(), "check.webp", "image/webp")),
        ),
        ("close", &dispatcher, None),
    ] {
        let body = json!({"action": action, "note": format!("{action} by the book")});
        let res = match photo {
            Some((bytes, file, declared)) => {
                post_form_as(
                    &server,
                    token,
                    &moves,
                    form("move", &body, vec![self::photo(bytes, file, declared)]),
                )
                .await
            }
            None => server.post_as(token, &moves, &body).await,
        };
        assert_eq!(res.status(), 200, "{action}");
        last = res.json().await.expect("case JSON");
    }
    assert_eq!(last["state"], "closed");

    let fetched: Value = server
        .get(&format!("/api/cases/{id}"))
        .await
        .json()
        .await
        .expect("case JSON");
    assert_eq!(
        fetched, last,
        "the last move's answer is the case as stored"
    );
    let photos = fetched["photos"].as_array().expect("photos");
    let summary: Vec<(&str, &str)> = photos
        .iter()
        .map(|p| {
            (
                p["action"].as_str().unwrap_or_default(),
                p["content_type"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("report", "image/jpeg"),
            ("resolve", "image/png"),
            ("verify", "image/webp")
        ]
    );

    // Each photo hangs off its own transition in the log.
    let db = server.db().await;
    for p in photos {
        let action: String = sqlx::query_scalar(
            "SELECT t.action FROM transition_photos tp JOIN transitions t ON t.seq = tp.seq
             WHERE tp.hash = $1 AND t.case_id = $2",
        )
        .bind(p["hash"].as_str().expect("hash"))
        .bind(id)
        .fetch_one(&db)
        .await
        .expect("the photo's transition");
        assert_eq!(action, p["action"].as_str().expect("action"));
        let seq: i64 = sqlx::query_scalar("SELECT seq FROM transition_photos WHERE hash = $1")
            .bind(p["hash"].as_str().expect("hash"))
            .fetch_one(&db)
            .await
            .expect("the photo's seq");
        assert_eq!(Some(seq), p["seq"].as_i64());
    }

    // The bytes come back as sent, with the type the bytes say, and cacheable for good.
    for (p, sent) in photos.iter().zip([&before, &after, &checked]) {
        let hash = p["hash"].as_str().expect("hash");
        assert_eq!(hash.len(), 64);
        let res = server.get(&format!("/api/photos/{hash}")).await;
        assert_eq!(res.status(), 200);
        let header = |name: &str| {
            res.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(
            header("content-type"),
            p["content_type"].as_str().map(str::to_owned)
        );
        assert_eq!(
            header("cache-control").as_deref(),
            Some("private, max-age=31536000, immutable")
        );
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
        assert_eq!(
            res.bytes().await.expect("photo bytes").as_ref(),
            sent.as_slice()
        );
        // Stored by content hash, never by the client's file name.
        let file = server.db.photo_dir().join(&hash[..2]).join(&hash[2..]);
        assert_eq!(std::fs::read(&file).expect("the photo's file"), *sent);
        assert_eq!(
            backend::services::photo_store::cases_showing(&db, hash)
                .await
                .expect("cases"),
            [id]
        );
    }
    // Whoever may see the case sees its photos: the worker of its grid, and D01's staff,
    // who hold it.
    for token in [&worker, &staff] {
        let hash = photos[0]["hash"].as_str().expect("hash");
        let res = get_as(&server, token, &format!("/api/photos/{hash}")).await;
        assert_eq!(res.status(), 200);
        let case = get_as(&server, token, &format!("/api/cases/{id}")).await;
        assert_eq!(case.status(), 200);
        let case: Value = case.json().await.expect("case JSON");
        assert_eq!(case["photos"], fetched["photos"]);
    }
    // The log records the role of every move beside its actor.
    let roles: Vec<String> =
        sqlx::query_scalar("SELECT role FROM transitions WHERE case_id = $1 ORDER BY seq")
            .bind(id)
            .fetch_all(&db)
            .await
            .expect("the case's roles");
    assert_eq!(
        roles,
        [
            "grid_worker",
            "dispatcher",
            "department_staff",
            "department_staff",
            "grid_worker",
            "dispatcher"
        ]
    );
    assert_eq!(files_under(&server.db.photo_dir()).len(), 3);
    assert_eq!(photo_rows(&server).await, (3, 3));
    assert_eq!(table_counts(&db).await, (1, 6));

    // The timeline tells the same story move by move: who, in which role, with which note
    // and photos, each move starting from the state the one before left.
    let timeline: Value = server
        .get(&moves)
        .await
        .json()
        .await
        .expect("timeline JSON");
    let timeline = timeline.as_array().expect("moves");
    let actions: Vec<&str> = timeline
        .iter()
        .map(|m| m["action"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        actions,
        ["report", "dispatch", "accept", "resolve", "verify", "close"]
    );
    let timeline_roles: Vec<&str> = timeline
        .iter()
        .map(|m| m["role"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(timeline_roles, roles);
    assert_eq!(timeline[0]["from_state"], Value::Null);
    for pair in timeline.windows(2) {
        assert_eq!(pair[1]["from_state"], pair[0]["to_state"]);
        assert!(pair[1]["seq"].as_u64() > pair[0]["seq"].as_u64());
    }
    assert_eq!(timeline[1]["note"], "dispatch by the book");
    assert_eq!(timeline[1]["department"], "D01");
    assert!(
        timeline[1]["deadline_ms"].is_i64(),
        "dispatch sets the time limit"
    );
    assert_eq!(timeline[5]["to_state"], "closed");
    let with_photos: Vec<(&str, Value)> = timeline
        .iter()
        .filter(|m| m["photos"].as_array().is_some_and(|p| !p.is_empty()))
        .map(|m| {
            (
                m["action"].as_str().unwrap_or_default(),
                m["photos"][0].clone(),
            )
        })
        .collect();
    assert_eq!(
        with_photos,
        [
            ("report", photos[0].clone()),
            ("resolve", photos[1].clone()),
            ("verify", photos[2].clone())
        ]
    );
    // Whoever may not see the case may not see its timeline.
    let other = server.staff_token("D02").await;
    assert_eq!(get_as(&server, &other, &moves).await.status(), 403);
    assert_eq!(server.get("/api/cases/999999/moves").await.status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn a_png_declared_as_jpeg_is_stored_as_png() {
    let server = TestServer::start().await;
    let bytes = png("其实是 PNG");
    let res = post_form(
        &server,
        "/api/cases",
        form(
            "case",
            &report_json(),
            vec![photo(bytes.clone(), "photo.jpg", "image/jpeg")],
        ),
    )
    .await;
    assert_eq!(res.status(), 201);
    let case: Value = res.json().await.expect("case JSON");
    assert_eq!(case["photos"][0]["content_type"], "image/png");
    let hash = case["photos"][0]["hash"].as_str().expect("hash");
    let res = server.get(&format!("/api/photos/{hash}")).await;
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("image/png")
    );
    assert_eq!(res.bytes().await.expect("bytes").as_ref(), bytes.as_slice());
    server.stop().await;
}

on_both_stores!(a_text_file_named_jpg_is_refused_and_nothing_is_stored);
async fn a_text_file_named_jpg_is_refused_and_nothing_is_stored(store: Store) {
    let server = TestServer::start_on(store).await;
    let text = "这不是照片，只是一段文字。".as_bytes().to_vec();
    let res = post_form(
        &server,
        "/api/cases",
        form(
            "case",
            &report_json(),
            vec![photo(text.clone(), "x.jpg", "image/jpeg")],
        ),
    )
    .await;
    assert_error(
        res,
        415,
        "unsupported_media_type",
        "photo",
        "photo 1 (x.jpg) is text, not a JPEG, PNG or WebP image",
    )
    .await;

    // A good photo before a bad one is not stored either: every photo is checked first.
    let res = post_form(
        &server,
        "/api/cases",
        form(
            "case",
            &report_json(),
            vec![
                photo(jpeg("好的"), "good.jpg", "image/jpeg"),
                photo(b"GIF89a\x01\x00\x01\x00".to_vec(), "anim.jpg", "image/jpeg"),
            ],
        ),
    )
    .await;
    assert_error(
        res,
        415,
        "unsupported_media_type",
        "photo",
        "photo 2 (anim.jpg) is a GIF image",
    )
    .await;

    // Nor is a good photo whose report is invalid.
    let mut bad = report_json();
    bad["category"] = json!("weather");
    let res = post_form(
        &server,
        "/api/cases",
        form(
            "case",
            &bad,
            vec![photo(jpeg("好的"), "good.jpg", "image/jpeg")],
        ),
    )
    .await;
    assert_error(res, 422, "invalid_field", "category", "unknown category").await;

    let db = server.db().await;
    assert_eq!(table_counts(&db).await, (0, 0));
    assert_eq!(photo_rows(&server).await, (0, 0));
    assert_eq!(files_under(&server.db.photo_dir()), Vec::<PathBuf>::new());

    // The same on a move: no transition, no photo.
    let id = server.report("井盖缺失").await["id"].as_i64().expect("id");
    let res = post_form_as(
        &server,
        &server.tokens.dispatcher,
        &format!("/api/cases/{id}/moves"),
        form(
            "move",
            &json!({"action": "dispatch"}),
            vec![photo(text, "x.jpg", "image/jpeg")],
        ),
    )
    .await;
    assert_eq!(res.status(), 415);
    assert_eq!(table_counts(&db).await, (1, 1));
    assert_eq!(photo_rows(&server).await, (0, 0));
    assert_eq!(files_under(&server.db.photo_dir()), Vec::<PathBuf>::new());
    server.stop().await;
}

on_both_stores!(a_photo_past_the_limit_is_refused_with_413);
async fn a_photo_past_the_limit_is_refused_with_413(store: Store) {
    let db = TestDb::new(store).await;
    let pool = backend::store::connect(&db.url).await.expect("open");
    backend::store::city::install(&pool, &backend::store::city::sample_areas())
        .await
        .expect("install the sample city");
    pool.close().await;
    let mut config = Config::new(db.url.clone());
    config.max_photo_bytes = 1024;
    let server = TestServer::start_configured(db, config).await;

    let big = png(&"大".repeat(400));
    assert!(big.len() > 1024);
    let res = post_form(
        &server,
        "/api/cases",
        form(
            "case",
            &report_json(),
            vec![photo(big, "big.png", "image/png")],
        ),
    )
    .await;
    assert_error(
        res,
        413,
        "payload_too_large",
        "photo",
        "photo 1 (big.png) is larger than the limit of 1 KiB (1024 bytes)",
    )
    .await;
    assert_eq!(table_counts(&server.db().await).await, (0, 0));
    assert_eq!(files_under(&server.db.photo_dir()), Vec::<PathBuf>::new());

    // A photo of exactly the limit is taken.
    let mut exact = png("");
    exact.resize(1024, b'.');
    let res = post_form(
        &server,
        "/api/cases",
        form(
            "case",
            &report_json(),
            vec![photo(exact, "exact.png", "image/png")],
        ),
    )
    .await;
    assert_eq!(res.status(), 201);
    assert_eq!(files_under(&server.db.photo_dir()).len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn the_photo_limit_not_axums_default_decides() {
    let server = TestServer::start().await;
    // Past axum's default body limit of 2 MB, within the photo limit of 8 MiB.
    let mut three_mib = jpeg("");
    three_mib.resize(3 * 1024 * 1024, 0x55);
    let res = post_form(
        &server,
        "/api/cases",
        form(
            "case",
            &report_json(),
            vec![photo(three_mib, "big.jpg", "image/jpeg")],
        ),
    )
    .await;
    assert_eq!(res.status(), 201);

    let mut nine_mib = jpeg("");
    nine_mib.resize(9 * 1024 * 1024, 0x55);
    let res = post_form(
        &server,
        "/api/cases",
        form(
            "case",
            &report_json(),
            vec![photo(nine_mib, "huge.jpg", "image/jpeg")],
        ),
    )
    .await;
    assert_error(
        res,
        413,
        "payload_too_large",
        "photo",
        "is larger than the limit of 8 MiB (8388608 bytes)",
    )
    .await;
    assert_eq!(table_counts(&server.db().await).await, (1, 1));
    assert_eq!(files_under(&server.db.photo_dir()).len(), 1);
    server.stop().await;
}

on_both_stores!(the_same_photo_is_stored_once);
async fn the_same_photo_is_stored_once(store: Store) {
    let server = TestServer::start_on(store).await;
    let bytes = jpeg("同一张照片");
    let mut ids = Vec::new();
    // Twice in one report, and again with a second case.
    for photos in [2, 1] {
        let parts = (0..photos)
            .map(|i| photo(bytes.clone(), &format!("copy{i}.jpg"), "image/jpeg"))
            .collect();
        let res = post_form(&server, "/api/cases", form("case", &report_json(), parts)).await;
        assert_eq!(res.status(), 201);
        let case: Value = res.json().await.expect("case JSON");
        assert_eq!(case["photos"].as_array().map(Vec::len), Some(1));
        ids.push(case["id"].as_i64().expect("id"));
    }
    assert_eq!(files_under(&server.db.photo_dir()).len(), 1);
    assert_eq!(photo_rows(&server).await, (1, 2));
    let hash = server
        .get(&format!("/api/cases/{}", ids[0]))
        .await
        .json::<Value>()
        .await
        .expect("case JSON")["photos"][0]["hash"]
        .as_str()
        .expect("hash")
        .to_owned();
    let showing = backend::services::photo_store::cases_showing(&server.db().await, &hash)
        .await
        .expect("cases");
    assert_eq!(showing, ids);
    server.stop().await;
}

#[tokio::test]
async fn multipart_mistakes_name_the_part() {
    let server = TestServer::start().await;
    let good = || photo(jpeg("好的"), "good.jpg", "image/jpeg");

    let unknown =
        form("case", &report_json(), vec![good()]).part("attachment", Part::bytes(jpeg("别的")));
    assert_error(
        post_form(&server, "/api/cases", unknown).await,
        422,
        "invalid_field",
        "attachment",
        "unknown part `attachment`",
    )
    .await;

    let missing = Form::new().part("photo", good());
    assert_error(
        post_form(&server, "/api/cases", missing).await,
        422,
        "invalid_field",
        "case",
        "missing",
    )
    .await;

    let twice = form("case", &report_json(), vec![]).text("case", report_json().to_string());
    assert_error(
        post_form(&server, "/api/cases", twice).await,
        422,
        "invalid_field",
        "case",
        "sent twice",
    )
    .await;

    let seven = form("case", &report_json(), (0..7).map(|_| good()).collect());
    assert_error(
        post_form(&server, "/api/cases", seven).await,
        422,
        "invalid_field",
        "photo",
        "at most 6 photos",
    )
    .await;

    let not_json = Form::new().text("case", "{\"category\": ");
    let res = post_form(&server, "/api/cases", not_json).await;
    assert_eq!(res.status(), 400);

    // A move's JSON part is `move`, not `case`.
    let id = server.report("井盖缺失").await["id"].as_i64().expect("id");
    let wrong = form("case", &json!({"action": "dispatch"}), vec![good()]);
    assert_error(
        post_form_as(
            &server,
            &server.tokens.dispatcher,
            &format!("/api/cases/{id}/moves"),
            wrong,
        )
        .await,
        422,
        "invalid_field",
        "case",
        "send a part named `move`",
    )
    .await;

    assert_eq!(table_counts(&server.db().await).await, (1, 1));
    assert_eq!(files_under(&server.db.photo_dir()), Vec::<PathBuf>::new());
    server.stop().await;
}

on_both_stores!(a_refused_move_stores_no_photo);
async fn a_refused_move_stores_no_photo(store: Store) {
    let server = TestServer::start_on(store).await;
    let id = server.report("井盖缺失").await["id"].as_i64().expect("id");
    // The dispatcher may close cases, so what refuses these is the state machine (a reported
    // case is not closed) and the missing case.
    for (path, status) in [
        (format!("/api/cases/{id}/moves"), 409),
        ("/api/cases/999/moves".to_owned(), 404),
    ] {
        let res = post_form_as(
            &server,
            &server.tokens.dispatcher,
            &path,
            form(
                "move",
                &json!({"action": "close"}),
                vec![photo(png("未被记录"), "close.png", "image/png")],
            ),
        )
        .await;
        assert_eq!(res.status(), status, "{path}");
    }
    assert_eq!(table_counts(&server.db().await).await, (1, 1));
    assert_eq!(photo_rows(&server).await, (0, 0));
    assert_eq!(files_under(&server.db.photo_dir()), Vec::<PathBuf>::new());
    server.stop().await;
}

#[tokio::test]
async fn a_file_that_no_move_recorded_is_not_served() {
    // What a move that lost a race leaves behind: a file in its place, with no row.
    let server = TestServer::start().await;
    let hash = "ab".to_owned() + &"c".repeat(62);
    let folder = server.db.photo_dir().join(&hash[..2]);
    std::fs::create_dir_all(&folder).expect("folder");
    std::fs::write(folder.join(&hash[2..]), png("孤儿")).expect("file");
    assert_eq!(
        server.get(&format!("/api/photos/{hash}")).await.status(),
        404
    );
    server.stop().await;
}

#[tokio::test]
async fn unknown_and_malformed_photo_names_are_not_found() {
    let server = TestServer::start().await;
    let unknown = "0".repeat(64);
    for name in [
        unknown.as_str(),
        &unknown.replace('0', "A"),
        "abc",
        "..%2F..%2Fgridwall.db",
        &format!("{unknown}0"),
    ] {
        let res = server.get(&format!("/api/photos/{name}")).await;
        assert_eq!(res.status(), 404, "{name}");
        let err: Value = res.json().await.expect("error JSON");
        assert_eq!(err["error"]["code"], "not_found", "{name}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_plain_json_body_keeps_the_two_megabyte_limit() {
    let server = TestServer::start().await;
    let mut body = report_json();
    body["description"] = json!("长".repeat(1024 * 1024));
    let res = server.post_json("/api/cases", &body).await;
    assert_error(res, 413, "payload_too_large", "body", "larger").await;
    assert_eq!(table_counts(&server.db().await).await, (0, 0));
    server.stop().await;
}

on_both_stores!(an_anonymous_upload_gets_401_and_stores_nothing);
async fn an_anonymous_upload_gets_401_and_stores_nothing(store: Store) {
    let server = TestServer::start_on(store).await;
    let id = server.report("井盖缺失").await["id"].as_i64().expect("id");
    let anonymous = reqwest::Client::new();
    let send = |path: String, form: Form, token: Option<&'static str>| {
        let mut req = anonymous.post(server.url(&path)).multipart(form);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send()
    };
    let good = || photo(jpeg("无主的照片"), "before.jpg", "image/jpeg");
    // A text file named `.jpg` would be a 415 if the body were read first: the caller is
    // checked before it, so the answer is 401 whatever the body holds.
    let text = || photo("只是一段文字".as_bytes().to_vec(), "x.jpg", "image/jpeg");
    for (path, form, token) in [
        (
            "/api/cases".to_owned(),
            form("case", &report_json(), vec![good()]),
            None,
        ),
        (
            "/api/cases".to_owned(),
            form("case", &report_json(), vec![text()]),
            None,
        ),
        (
            "/api/cases".to_owned(),
            form("case", &report_json(), vec![good()]),
            Some("not-a-token"),
        ),
        (
            format!("/api/cases/{id}/moves"),
            form("move", &json!({"action": "dispatch"}), vec![good()]),
            None,
        ),
    ] {
        let res = send(path.clone(), form, token).await.expect("POST");
        assert_eq!(res.status(), 401, "{path} with {token:?}");
        let err: Value = res.json().await.expect("error JSON");
        assert_eq!(err["error"]["code"], "unauthorized", "{err}");
    }
    assert_eq!(table_counts(&server.db().await).await, (1, 1));
    assert_eq!(photo_rows(&server).await, (0, 0));
    assert_eq!(files_under(&server.db.photo_dir()), Vec::<PathBuf>::new());
    server.stop().await;
}

on_both_stores!(a_report_or_move_its_caller_may_not_make_stores_no_photo);
async fn a_report_or_move_its_caller_may_not_make_stores_no_photo(store: Store) {
    let server = TestServer::start_on(store).await;
    let db = server.db().await;
    let other_grid_worker = account_token(
        &db,
        NewAccount {
            grids: vec!["SR-01-002".to_owned()],
            ..account("worker-002", Role::GridWorker)
        },
    )
    .await;
    let elsewhere = account_token(
        &db,
        NewAccount {
            area: Some(Scope::District("ZZ".to_owned())),
            ..account("dispatcher-zz", Role::Dispatcher)
        },
    )
    .await;
    let d02 = server.staff_token("D02").await;
    let d01 = server.staff_token("D01").await;
    let refused_photo = || photo(png("不该留下的照片"), "refused.png", "image/png");
    let expect_forbidden = |res: reqwest::Response, what: &'static str| async move {
        assert_eq!(res.status(), 403, "{what}");
        let err: Value = res.json().await.expect("error JSON");
        assert_eq!(err["error"]["code"], "forbidden", "{what}: {err}");
    };

    // Reports: a leader does not report; a grid worker reports only in its own grids.
    for (token, what) in [
        (&server.tokens.leader, "a leader's report"),
        (&other_grid_worker, "a report outside the worker's grids"),
    ] {
        let res = post_form_as(
            &server,
            token,
            "/api/cases",
            form("case", &report_json(), vec![refused_photo()]),
        )
        .await;
        expect_forbidden(res, what).await;
    }

    // Moves on a case dispatched to D01, each with a photo, each refused: by the caller's
    // role (a grid worker does not accept), by the department (D02's staff), by the area (a
    // district dispatcher elsewhere re-dispatching).
    let id = server.report("路灯杆倾斜").await["id"]
        .as_i64()
        .expect("id");
    let moves = format!("/api/cases/{id}/moves");
    let res = server
        .post_json(&moves, &json!({"action": "dispatch"}))
        .await;
    assert_eq!(res.status(), 200);
    for (token, action, what) in [
        (&server.tokens.worker, "accept", "a grid worker's accept"),
        (&d02, "accept", "another department's accept"),
        (&elsewhere, "dispatch", "a dispatch from another district"),
    ] {
        let res = post_form_as(
            &server,
            token,
            &moves,
            form("move", &json!({"action": action}), vec![refused_photo()]),
        )
        .await;
        expect_forbidden(res, what).await;
    }
    assert_eq!(table_counts(&db).await, (1, 2));
    assert_eq!(photo_rows(&server).await, (0, 0));
    assert_eq!(files_under(&server.db.photo_dir()), Vec::<PathBuf>::new());

    // The department that holds the case accepts it, and its photo is kept.
    let res = post_form_as(
        &server,
        &d01,
        &moves,
        form(
            "move",
            &json!({"action": "accept"}),
            vec![photo(png("到场照片"), "arrived.png", "image/png")],
        ),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(table_counts(&db).await, (1, 3));
    assert_eq!(photo_rows(&server).await, (1, 1));
    assert_eq!(files_under(&server.db.photo_dir()).len(), 1);
    server.stop().await;
}

on_both_stores!(a_photo_is_served_only_to_callers_who_may_see_a_case_showing_it);
async fn a_photo_is_served_only_to_callers_who_may_see_a_case_showing_it(store: Store) {
    let server = TestServer::start_on(store).await;
    let db = server.db().await;
    // Accounts reaching one grid, one street, another district, or nothing of this city.
    let token_of = |login: &'static str, base: NewAccount| {
        let db = db.clone();
        async move {
            account_token(
                &db,
                NewAccount {
                    login: login.to_owned(),
                    name: login.to_owned(),
                    ..base
                },
            )
            .await
        }
    };
    let worker_001 = token_of(
        "worker-001",
        NewAccount {
            grids: vec!["SR-01-001".to_owned()],
            ..account("", Role::GridWorker)
        },
    )
    .await;
    let worker_002 = token_of(
        "worker-002",
        NewAccount {
            grids: vec!["SR-01-002".to_owned()],
            ..account("", Role::GridWorker)
        },
    )
    .await;
    let street = token_of(
        "dispatcher-sr01",
        NewAccount {
            area: Some(Scope::Street("SR01".to_owned())),
            ..account("", Role::Dispatcher)
        },
    )
    .await;
    let elsewhere = token_of(
        "dispatcher-zz",
        NewAccount {
            area: Some(Scope::District("ZZ".to_owned())),
            ..account("", Role::Dispatcher)
        },
    )
    .await;
    let d01 = server.staff_token("D01").await;
    let d02 = server.staff_token("D02").await;

    let bytes = jpeg("只给看得见案件的人");
    let res = post_form_as(
        &server,
        &worker_001,
        "/api/cases",
        form(
            "case",
            &report_json(),
            vec![photo(bytes.clone(), "before.jpg", "image/jpeg")],
        ),
    )
    .await;
    assert_eq!(res.status(), 201);
    let case: Value = res.json().await.expect("case JSON");
    let id = case["id"].as_i64().expect("id");
    let hash = case["photos"][0]["hash"].as_str().expect("hash").to_owned();
    let photo_path = format!("/api/photos/{hash}");
    let case_path = format!("/api/cases/{id}");

    // Without credentials: 401, before anything is looked up.
    let anonymous = reqwest::Client::new()
        .get(server.url(&photo_path))
        .send()
        .await
        .expect("GET");
    assert_eq!(anonymous.status(), 401);

    // Before the dispatch the case is in SR-01-001 with no department. The photo follows the
    // case: whoever gets the case gets the photo, whoever gets 403 for the case gets 403 for
    // the photo.
    let shown = Shown {
        server: &server,
        case_id: id,
        hash: &hash,
        bytes: &bytes,
    };
    shown
        .to(&[
            ("the grid's worker", &worker_001, 200),
            ("the street's dispatcher", &street, 200),
            ("the leader", &server.tokens.leader, 200),
            ("another grid's worker", &worker_002, 403),
            ("another district's dispatcher", &elsewhere, 403),
            ("staff before any dispatch", &d01, 403),
        ])
        .await;

    // Dispatched to D01: its staff see the case and the photo, D02's do not.
    let res = server
        .post_json(
            &format!("{case_path}/moves"),
            &json!({"action": "dispatch"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    shown
        .to(&[
            ("the holding department's staff", &d01, 200),
            ("another department's staff", &d02, 403),
        ])
        .await;

    // The same photo reported with a case in SR-01-002: its worker now sees a case showing
    // it, so it gets the photo, though still not the first case.
    let mut second = report_json();
    second["grid_id"] = json!("SR-01-002");
    second["point"] = json!({"lon": 125.035, "lat": 46.585});
    let res = post_form_as(
        &server,
        &worker_002,
        "/api/cases",
        form(
            "case",
            &second,
            vec![photo(bytes.clone(), "same.jpg", "image/jpeg")],
        ),
    )
    .await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        get_as(&server, &worker_002, &photo_path).await.status(),
        200
    );
    assert_eq!(get_as(&server, &worker_002, &case_path).await.status(), 403);
    assert_eq!(get_as(&server, &elsewhere, &photo_path).await.status(), 403);
    server.stop().await;
}

/// A case with one photo, for checking who gets both.
struct Shown<'a> {
    server: &'a TestServer,
    case_id: i64,
    hash: &'a str,
    bytes: &'a [u8],
}

impl Shown<'_> {
    /// Checks, for each caller, that the photo and the case answer `status`, and that a 200
    /// carries the photo's bytes and lists it on the case.
    async fn to(&self, callers: &[(&str, &String, u16)]) {
        let photo_path = format!("/api/photos/{}", self.hash);
        let case_path = format!("/api/cases/{}", self.case_id);
        for &(who, token, status) in callers {
            let res = get_as(self.server, token, &photo_path).await;
            assert_eq!(res.status(), status, "{who}'s photo GET");
            if status == 200 {
                let got = res.bytes().await.expect("bytes");
                assert_eq!(got.as_ref(), self.bytes, "{who}");
            } else {
                let err: Value = res.json().await.expect("error JSON");
                assert_eq!(err["error"]["code"], "forbidden", "{who}: {err}");
            }
            let case = get_as(self.server, token, &case_path).await;
            assert_eq!(case.status(), status, "{who}'s case GET");
            if status == 200 {
                let case: Value = case.json().await.expect("case JSON");
                assert_eq!(case["photos"][0]["hash"], json!(self.hash), "{who}");
            }
        }
    }
}
