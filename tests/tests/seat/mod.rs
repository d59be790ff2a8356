//! The seat page at 1920 × 1080: a leader drills down by clicking from the city to a case
//! reported with a photo and dispatched through the API, sees its timeline and its photo, and
//! reaches an overdue case of the demo city from the overview in two clicks; a seat drives a
//! wall (`drive`).

mod drive;

use super::field::{PASSWORD, png};
use fantoccini::Locator;
use serde_json::{Value, json};
use tests::browser::Browser;
use tests::server::Server;

/// Signs `login` in through the API and returns its bearer token.
async fn api_token(server: &Server, http: &reqwest::Client, login: &str) -> String {
    let res = http
        .post(server.url("/api/login"))
        .json(&json!({"login": login, "password": PASSWORD}))
        .send()
        .await
        .expect("POST /api/login");
    assert_eq!(res.status(), 200, "login as {login}");
    let body: Value = res.json().await.expect("login JSON");
    body["token"].as_str().expect("a token").to_owned()
}

/// The first grid of the account behind `token` (a grid worker's), from `/api/me`.
async fn first_grid(server: &Server, http: &reqwest::Client, token: &str) -> String {
    let me = get(server, http, token, "/api/me").await;
    me["grids"][0]
        .as_str()
        .expect("the worker's grid")
        .to_owned()
}

/// `GET path` with a bearer token, as JSON.
async fn get(server: &Server, http: &reqwest::Client, token: &str, path: &str) -> Value {
    let res = http
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|err| panic!("GET {path}: {err}"));
    assert_eq!(res.status(), 200, "GET {path}");
    res.json().await.expect("JSON")
}

/// A report with one PNG photo as `multipart/form-data`, written by hand: the JSON in a part
/// named `case` and the photo in a part named `photo`.
fn report_with_photo(report: &Value, photo: &[u8]) -> (String, Vec<u8>) {
    let boundary = "gridwall-seat-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"case\"\r\n\
             Content-Type: application/json\r\n\r\n{report}\r\n--{boundary}\r\n\
             Content-Disposition: form-data; name=\"photo\"; filename=\"before.png\"\r\n\
             Content-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(photo);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Signs in at the seat page.
async fn sign_in(browser: &Browser, login: &str) {
    browser
        .type_into("[data-testid=\"seat-login-name\"]", login)
        .await;
    browser
        .type_into("[data-testid=\"seat-login-password\"]", PASSWORD)
        .await;
    browser.click("[data-testid=\"seat-login-submit\"]").await;
    browser
        .wait_for(&format!(
            "[data-testid=\"seat-account\"][data-login=\"{login}\"]"
        ))
        .await;
}

/// Waits for the level `level` (with `code`, when given) and checks the breadcrumbs: one per
/// step of the path, the last one naming where the seat stands.
async fn at_level(browser: &Browser, level: &str, code: Option<&str>, crumbs: usize) {
    let css = match code {
        Some(code) => {
            format!("[data-testid=\"seat-level\"][data-level=\"{level}\"][data-code=\"{code}\"]")
        }
        None => format!("[data-testid=\"seat-level\"][data-level=\"{level}\"]"),
    };
    browser.wait_for(&css).await;
    let shown = browser
        .eval(
            "return [...document.querySelectorAll('[data-testid=\"seat-crumb\"]')]
               .map(c => c.dataset.level);",
        )
        .await;
    let shown: Vec<&str> = shown
        .as_array()
        .expect("the crumbs")
        .iter()
        .map(|v| v.as_str().unwrap_or(""))
        .collect();
    assert_eq!(shown.len(), crumbs, "crumbs at {level}: {shown:?}");
    assert_eq!(shown.first(), Some(&"city"), "{shown:?}");
    assert_eq!(shown.last(), Some(&level), "{shown:?}");
}

#[tokio::test]
async fn a_leader_drills_down_at_the_seat_to_a_case_and_its_photo_and_to_an_overdue_case() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start_demo(&dir, |mut c| {
        c.demo_city = backend::demo::DemoCity::Full;
        c.demo_password = Some(PASSWORD.to_owned());
        c
    })
    .await;
    let http = reqwest::Client::new();

    // The grid worker reports a lamp post in its grid with a photo; the city's dispatcher
    // dispatches it.
    let worker = api_token(&server, &http, "worker").await;
    let grid = first_grid(&server, &http, &worker).await;
    let (content_type, body) = report_with_photo(
        &json!({
            "category": "municipal_facilities",
            "sub_item": "0801",
            "grid_id": grid,
            "description": "路灯杆倾斜，存在安全隐患",
        }),
        &png([200, 60, 40]),
    );
    let res = http
        .post(server.url("/api/cases"))
        .bearer_auth(&worker)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("POST /api/cases");
    assert_eq!(res.status(), 201, "{:?}", res.text().await);
    let case: Value = res.json().await.expect("the case");
    let id = case["id"].as_i64().expect("a case id");
    let dispatcher = api_token(&server, &http, "dispatcher").await;
    let res = http
        .post(server.url(&format!("/api/cases/{id}/moves")))
        .bearer_auth(&dispatcher)
        .json(&json!({"action": "dispatch"}))
        .send()
        .await
        .expect("POST moves");
    assert_eq!(res.status(), 200, "{:?}", res.text().await);

    // Where the grid lies.
    let grids = server.get_json("/api/grids.geojson").await;
    let props = grids["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| &f["properties"])
        .find(|p| p["id"] == grid.as_str())
        .expect("the worker's grid on the map")
        .clone();
    let street = props["street_code"].as_str().expect("its street");
    let district = props["district_code"].as_str().expect("its district");

    let browser = Browser::start(1920, 1080).await;
    browser
        .client
        .goto(&server.url("/seat"))
        .await
        .expect("open the seat page");
    browser.wait_for("[data-testid=\"seat-login\"]").await;
    sign_in(&browser, "leader").await;

    // City → district → street → grid → the case, by clicking.
    at_level(&browser, "city", None, 1).await;
    browser
        .click(&format!(
            "[data-testid=\"seat-item\"][data-level=\"district\"][data-code=\"{district}\"]"
        ))
        .await;
    at_level(&browser, "district", Some(district), 2).await;
    browser
        .click(&format!(
            "[data-testid=\"seat-item\"][data-level=\"street\"][data-code=\"{street}\"]"
        ))
        .await;
    at_level(&browser, "street", Some(street), 3).await;
    browser
        .click(&format!(
            "[data-testid=\"seat-item\"][data-level=\"grid\"][data-code=\"{grid}\"]"
        ))
        .await;
    at_level(&browser, "grid", Some(&grid), 4).await;
    browser
        .click(&format!(
            "[data-testid=\"seat-case\"][data-case-id=\"{id}\"]"
        ))
        .await;
    at_level(&browser, "case", Some(&id.to_string()), 5).await;

    // The case: its department and time limit, the report and the dispatch in its timeline,
    // and its before photo, loaded with the leader's token.
    browser
        .wait_for(&format!(
            "[data-testid=\"seat-detail\"][data-case-id=\"{id}\"][data-state=\"dispatched\"]"
        ))
        .await;
    let department = browser.text("[data-testid=\"seat-department\"]").await;
    assert!(!department.is_empty() && department != "—", "{department}");
    let limit = browser.text("[data-testid=\"seat-limit\"]").await;
    assert!(limit.contains("剩余"), "the time limit: {limit}");
    browser
        .wait_for("[data-testid=\"seat-move\"][data-action=\"report\"]")
        .await;
    browser
        .wait_for("[data-testid=\"seat-move\"][data-action=\"dispatch\"]")
        .await;
    let actions = browser
        .eval(
            "return [...document.querySelectorAll('[data-testid=\"seat-move\"]')]
               .map(m => m.dataset.action);",
        )
        .await;
    assert_eq!(actions, json!(["report", "dispatch"]));
    browser
        .wait_until(
            "(() => { const i = document.querySelector('[data-testid=\"seat-photo\"][data-action=\"report\"]');
               return i && i.complete && i.naturalWidth > 0; })()",
        )
        .await;
    browser.screenshot("seat-page-1920x1080").await;

    // A crumb goes back up: the street's grids again.
    browser
        .click("[data-testid=\"seat-crumb\"][data-level=\"street\"]")
        .await;
    at_level(&browser, "street", Some(street), 3).await;

    // The overview, then the city's overdue cases, then one of them, in one click each.
    browser.click("[data-testid=\"seat-overview\"]").await;
    at_level(&browser, "city", None, 1).await;
    browser.click("[data-testid=\"seat-overdue\"]").await;
    at_level(&browser, "overdue", None, 2).await;
    let first = "[data-testid=\"seat-case\"][data-supervision=\"overdue\"]";
    browser.wait_for(first).await;
    let overdue_id = browser
        .client
        .find(Locator::Css(first))
        .await
        .expect("an overdue case")
        .attr("data-case-id")
        .await
        .expect("its id")
        .expect("an id");
    browser.click(first).await;
    at_level(&browser, "case", Some(&overdue_id), 3).await;
    browser
        .wait_for(&format!(
            "[data-testid=\"seat-detail\"][data-case-id=\"{overdue_id}\"][data-supervision=\"overdue\"]"
        ))
        .await;
    browser.screenshot("seat-page-1920x1080-overdue").await;

    // The assessment: the city's departments and streets ranked this week, then last week,
    // and the departments' CSV fetched with the leader's token into a download link.
    browser.click("[data-testid=\"seat-overview\"]").await;
    browser.click("[data-testid=\"seat-assess-tab\"]").await;
    at_level(&browser, "assess", None, 2).await;
    browser
        .click("[data-testid=\"seat-period\"][data-period=\"last-week\"]")
        .await;
    browser
        .wait_for("[data-testid=\"seat-period\"][data-period=\"last-week\"][aria-pressed=\"true\"]")
        .await;
    browser
        .wait_for("[data-testid=\"seat-rank-row\"][data-by=\"department\"]")
        .await;
    browser
        .wait_for("[data-testid=\"seat-rank-row\"][data-by=\"street\"]")
        .await;
    browser.screenshot("seat-page-1920x1080-assess").await;
    browser
        .click("[data-testid=\"seat-download-departments\"]")
        .await;
    browser
        .wait_for(
            "[data-testid=\"seat-download-link\"][download=\"departments.csv\"][href^=\"blob:\"]",
        )
        .await;

    browser.close().await;
    server.stop().await;
}

/// The replay's clock: the moment whose figures are on screen.
async fn clock(browser: &Browser) -> i64 {
    browser
        .eval("return Number(document.querySelector('[data-testid=\"replay-clock\"]').dataset.at);")
        .await
        .as_i64()
        .expect("data-at holds a moment")
}

/// Waits until the server has folded its log into look-back checkpoints for every scope
/// (the city, its districts and its streets): until then each moment is folded from the
/// log's start, which takes tens of seconds in a debug build.
async fn checkpoints_ready(server: &Server) {
    let districts = server.get_json("/api/districts.geojson").await["features"]
        .as_array()
        .map_or(0, Vec::len);
    let streets = server.get_json("/api/streets.geojson").await["features"]
        .as_array()
        .map_or(0, Vec::len);
    let scopes = (1 + districts + streets) as i64;
    let db = backend::store::connect(&format!("sqlite:{}", server.db_path.display()))
        .await
        .expect("open the server's database");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(300);
    loop {
        let ready: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT scope) FROM wall_checkpoints")
            .fetch_one(&db)
            .await
            .expect("count the checkpoints");
        if ready >= scopes {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{ready} of {scopes} scopes have look-back checkpoints after 300 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    db.close().await;
}

#[tokio::test]
async fn the_seat_replays_yesterday_pauses_steps_goes_live_and_compares_weeks() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start_demo(&dir, |mut c| {
        c.demo_city = backend::demo::DemoCity::Full;
        c.demo_password = Some(PASSWORD.to_owned());
        // Look back folds from checkpoints, as a server started from the command line does.
        c.backfill_history = true;
        c
    })
    .await;
    checkpoints_ready(&server).await;
    let browser = Browser::start(1920, 1080).await;
    browser
        .client
        .goto(&server.url("/seat"))
        .await
        .expect("open the seat page");
    sign_in(&browser, "leader").await;
    at_level(&browser, "city", None, 1).await;

    // Yesterday starts at its midnight in the centre's zone and moves on.
    browser.click("[data-testid=\"seat-replay\"]").await;
    browser
        .wait_for("[data-testid=\"replay-clock\"][data-paused=\"false\"]")
        .await;
    let start = clock(&browser).await;
    let offset = 8 * 3_600_000;
    assert_eq!(
        (start + offset) % 86_400_000,
        0,
        "starts at a midnight: {start}"
    );
    browser
        .wait_until(&format!(
            "Number(document.querySelector('[data-testid=\"replay-clock\"]').dataset.at) > {start}"
        ))
        .await;
    // The districts' figures are yesterday's as it plays.
    browser
        .wait_for("[data-testid=\"seat-level\"][data-level=\"city\"] [data-testid=\"seat-item\"]")
        .await;

    // A pause holds the moment.
    browser.click("[data-testid=\"replay-pause\"]").await;
    browser
        .wait_for("[data-testid=\"replay-clock\"][data-paused=\"true\"]")
        .await;
    let held = clock(&browser).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    assert_eq!(clock(&browser).await, held, "a paused replay stands still");

    // A step moves it by ten minutes either way.
    browser.click("[data-testid=\"replay-forward\"]").await;
    let ahead = held + 600_000;
    browser
        .wait_until(&format!(
            "Number(document.querySelector('[data-testid=\"replay-clock\"]').dataset.at) === {ahead}"
        ))
        .await;
    browser.click("[data-testid=\"replay-back\"]").await;
    browser
        .wait_until(&format!(
            "Number(document.querySelector('[data-testid=\"replay-clock\"]').dataset.at) === {held}"
        ))
        .await;
    browser.screenshot("seat-page-1920x1080-replay").await;

    // Live again: no clock, the city as it stands.
    browser.click("[data-testid=\"seat-live\"]").await;
    browser
        .wait_until("!document.querySelector('[data-testid=\"replay-clock\"]')")
        .await;
    at_level(&browser, "city", None, 1).await;

    // This week against last week, as two columns of figures.
    browser.click("[data-testid=\"seat-compare\"]").await;
    at_level(&browser, "compare", None, 2).await;
    let rows = browser
        .eval(
            "return [...document.querySelectorAll('[data-testid=\"seat-compare-row\"]')]
               .map(r => [r.dataset.key, r.querySelectorAll('strong').length]);",
        )
        .await;
    let rows = rows.as_array().expect("rows");
    assert!(rows.len() >= 5, "{rows:?}");
    assert!(rows.iter().all(|r| r[1] == 2), "{rows:?}");

    browser.close().await;
    server.stop().await;
}

/// Presses `key` where the focus is, as the keyboard would: the page listens on the document.
async fn press(browser: &Browser, key: &str) {
    browser
        .eval(&format!(
            "const t = document.activeElement || document.body;
             t.dispatchEvent(new KeyboardEvent('keydown', {{key: {key:?}, bubbles: true, cancelable: true}}));"
        ))
        .await;
}

/// Selects case `id` in the queue with `j`, one case at a time from the top.
async fn select_with_j(browser: &Browser, id: i64) {
    let selected = "[data-testid=\"seat-queue-item\"][data-selected=\"true\"]";
    for _ in 0..200 {
        let now = browser
            .eval(&format!(
                "return document.querySelector('{}')?.dataset.caseId ?? null;",
                selected.replace('\'', "\\'")
            ))
            .await;
        if now.as_str() == Some(id.to_string().as_str()) {
            return;
        }
        press(browser, "j").await;
    }
    panic!("`j` never reached case {id}");
}

/// Reports a lamp post in the worker's grid through the API and returns its id.
async fn report(server: &Server, http: &reqwest::Client, worker: &str, grid: &str) -> i64 {
    let res = http
        .post(server.url("/api/cases"))
        .bearer_auth(worker)
        .json(&json!({
            "category": "municipal_facilities",
            "sub_item": "0801",
            "grid_id": grid,
            "description": "路灯杆倾斜，存在安全隐患",
        }))
        .send()
        .await
        .expect("POST /api/cases");
    assert_eq!(res.status(), 201);
    let case: Value = res.json().await.expect("the case");
    case["id"].as_i64().expect("a case id")
}

#[tokio::test]
async fn a_dispatcher_works_the_live_queue_from_the_keyboard() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start_demo(&dir, |mut c| {
        c.demo_city = backend::demo::DemoCity::Full;
        c.demo_password = Some(PASSWORD.to_owned());
        c
    })
    .await;
    let http = reqwest::Client::new();
    let worker = api_token(&server, &http, "worker").await;
    let dispatcher = api_token(&server, &http, "dispatcher").await;
    let grid = first_grid(&server, &http, &worker).await;

    let browser = Browser::start(1920, 1080).await;
    browser
        .client
        .goto(&server.url("/seat"))
        .await
        .expect("open the seat page");
    sign_in(&browser, "dispatcher").await;
    at_level(&browser, "queue", None, 2).await;

    // A case reported now appears in the open queue without a reload.
    let first = report(&server, &http, &worker, &grid).await;
    browser
        .wait_for(&format!(
            "[data-testid=\"seat-queue-item\"][data-case-id=\"{first}\"]"
        ))
        .await;
    press(&browser, "?").await;
    browser.wait_for("[data-testid=\"seat-help\"]").await;

    // j selects it, d opens the dispatch with the sub-item's department chosen, Enter sends.
    select_with_j(&browser, first).await;
    press(&browser, "d").await;
    browser
        .wait_for(&format!(
            "[data-testid=\"seat-dispatch-form\"][data-case-id=\"{first}\"]"
        ))
        .await;
    let chosen = browser
        .eval("return document.querySelector('[data-testid=\"seat-dispatch-department\"]').value;")
        .await;
    assert_eq!(chosen, json!("D01"));
    browser.screenshot("seat-page-1920x1080-queue").await;
    press(&browser, "Enter").await;
    browser
        .wait_until(&format!(
            "!document.querySelector('[data-testid=\"seat-queue-item\"][data-case-id=\"{first}\"]')"
        ))
        .await;
    let case = get(&server, &http, &dispatcher, &format!("/api/cases/{first}")).await;
    assert_eq!(case["state"], "dispatched", "{case}");
    assert_eq!(case["department"], "D01", "{case}");

    // r asks for a reason, Enter sends the rejection, and the reason is in the timeline.
    let second = report(&server, &http, &worker, &grid).await;
    browser
        .wait_for(&format!(
            "[data-testid=\"seat-queue-item\"][data-case-id=\"{second}\"]"
        ))
        .await;
    select_with_j(&browser, second).await;
    press(&browser, "r").await;
    // Enter without a reason sends nothing and says why.
    browser
        .wait_for("[data-testid=\"seat-reject-reason\"]")
        .await;
    press(&browser, "Enter").await;
    browser.wait_for("[data-testid=\"seat-error\"]").await;
    let reason = "重复上报，已并案处理";
    browser
        .type_into("[data-testid=\"seat-reject-reason\"]", reason)
        .await;
    press(&browser, "Enter").await;
    browser
        .wait_until(&format!(
            "!document.querySelector('[data-testid=\"seat-queue-item\"][data-case-id=\"{second}\"]')"
        ))
        .await;
    let moves = get(
        &server,
        &http,
        &dispatcher,
        &format!("/api/cases/{second}/moves"),
    )
    .await;
    let last = moves.as_array().and_then(|m| m.last()).expect("a timeline");
    assert_eq!(last["action"], "reject", "{moves}");
    assert_eq!(last["note"], reason, "{moves}");

    // A reload in English keeps the session (the token is kept in the browser) and speaks
    // English.
    browser
        .client
        .goto(&server.url("/seat?lang=en"))
        .await
        .expect("open the seat page in English");
    at_level(&browser, "queue", None, 2).await;
    let lang = browser.eval("return document.documentElement.lang;").await;
    assert_eq!(lang, json!("en"));
    let hint = browser.text("[data-testid=\"seat-keys-hint\"]").await;
    assert!(hint.contains("d dispatch"), "{hint}");
    let tab = browser.text("[data-testid=\"seat-queue-tab\"]").await;
    assert_eq!(tab, "Dispatch");

    browser.close().await;
    server.stop().await;
}
