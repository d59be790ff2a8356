//! A seat drives a wall: a leader takes the wall that follows `main`, and the wall follows the
//! seat's drill-down, its open case and its look back; each send-to-wall delay is printed (the
//! 200 ms goal is measured in BENCHMARKS.md, not asserted on a shared machine); when the
//! seat goes away the wall returns to its overview. A second seat that asks for the held wall
//! is refused, the holder is asked, and a handover moves the wall to the asking seat. With a
//! stand-in for `/ws/seat`, the seat is seen to send one `Show` per change of screen and a
//! replay's clock at most twice a second.

use super::{PASSWORD, api_token, at_level, first_grid, get, report, sign_in};
use serde_json::Value;
use std::time::Duration;
use tests::browser::Browser;
use tests::server::Server;

/// A server on the demo city whose channels return to their overview 300 ms after their
/// controller leaves.
async fn server(dir: &tempfile::TempDir) -> Server {
    Server::start_demo(dir, |mut c| {
        c.demo_city = backend::demo::DemoCity::Full;
        c.demo_password = Some(PASSWORD.to_owned());
        c.control_return = Duration::from_millis(300);
        c
    })
    .await
}

/// A wall following the channel `main`, live.
async fn wall(server: &Server) -> Browser {
    let wall = Browser::start(1920, 1080).await;
    wall.client
        .goto(&server.url("/?follow=main"))
        .await
        .expect("open the wall");
    wall.wait_for(crate::LIVE).await;
    wall
}

/// A seat signed in as `login` whose link to the walls is up.
async fn seat(server: &Server, login: &str) -> Browser {
    let seat = Browser::start(1920, 1080).await;
    seat.client
        .goto(&server.url("/seat"))
        .await
        .expect("open the seat page");
    sign_in(&seat, login).await;
    seat.wait_for("[data-testid=\"wall-panel\"][data-link=\"live\"]")
        .await;
    seat
}

/// Waits until the wall's controller badge names `login` ('' for nobody).
async fn controlled_by(wall: &Browser, login: &str) {
    wall.wait_until(&format!(
        "(() => {{ const c = document.querySelector('[data-testid=\"controller\"]');
                   return c ? c.dataset.login === {login:?} : {free}; }})()",
        free = login.is_empty()
    ))
    .await;
}

/// Waits until the wall's breadcrumbs show `scope`.
async fn wall_at(wall: &Browser, scope: &str) {
    wall.wait_for(&format!(
        "[data-testid=\"breadcrumbs\"][data-scope=\"{scope}\"]"
    ))
    .await;
}

/// How long the seat's last `Show` took to reach the wall: from the seat's `__gwSentAt` to
/// the wall's `__gwControlAt`, once the wall has applied a control message sent after it.
/// Both browsers run on this machine's clock.
async fn delay(seat: &Browser, wall: &Browser, step: &str) -> f64 {
    let sent = seat
        .eval("return window.__gwSentAt ?? null;")
        .await
        .as_f64()
        .unwrap_or_else(|| panic!("the seat sent no Show for {step}"));
    wall.wait_until(&format!("(window.__gwControlAt ?? 0) >= {sent}"))
        .await;
    let applied = wall
        .eval("return window.__gwControlAt;")
        .await
        .as_f64()
        .expect("the wall's __gwControlAt");
    let ms = applied - sent;
    eprintln!("seat → wall, {step}: {ms} ms");
    ms
}

#[tokio::test]
async fn a_seat_drives_the_wall_and_the_wall_returns_to_its_overview() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = server(&dir).await;
    let http = reqwest::Client::new();

    // A case reported in the grid worker's grid, to open at the seat and show on the wall.
    let worker = api_token(&server, &http, "worker").await;
    let grid = first_grid(&server, &http, &worker).await;
    let id = report(&server, &http, &worker, &grid).await;
    let grids = server.get_json("/api/grids.geojson").await;
    let props: Value = grids["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| &f["properties"])
        .find(|p| p["id"] == grid.as_str())
        .expect("the worker's grid on the map")
        .clone();
    let street = props["street_code"].as_str().expect("its street");
    let district = props["district_code"].as_str().expect("its district");

    let wall = wall(&server).await;
    controlled_by(&wall, "").await;
    let seat = seat(&server, "leader").await;
    at_level(&seat, "city", None, 1).await;

    // The leader takes `main`: the wall names its controller.
    seat.wait_for("[data-testid=\"wall-name\"]").await;
    let named = seat
        .eval("return document.querySelector('[data-testid=\"wall-name\"]').value;")
        .await;
    assert_eq!(named, "main", "the panel names the main wall");
    seat.click("[data-testid=\"take-wall\"]").await;
    seat.wait_for("[data-testid=\"wall-holder\"][data-login=\"leader\"][data-mine=\"true\"]")
        .await;
    controlled_by(&wall, "leader").await;
    wall_at(&wall, "city").await;

    let mut delays = Vec::new();
    // City → district → street → grid, by clicking the seat's lists: the wall follows.
    seat.click(&format!(
        "[data-testid=\"seat-item\"][data-level=\"district\"][data-code=\"{district}\"]"
    ))
    .await;
    at_level(&seat, "district", Some(district), 2).await;
    wall_at(&wall, &format!("district:{district}")).await;
    delays.push(delay(&seat, &wall, "district").await);

    seat.click(&format!(
        "[data-testid=\"seat-item\"][data-level=\"street\"][data-code=\"{street}\"]"
    ))
    .await;
    at_level(&seat, "street", Some(street), 3).await;
    wall_at(&wall, &format!("street:{street}")).await;
    delays.push(delay(&seat, &wall, "street").await);

    // The map the wall colours by, and a place layer hidden, chosen in the seat's panel.
    seat.eval(
        "const pick = document.querySelector('[data-testid=\"wall-metric\"]');
         pick.value = 'overdue';
         document.querySelector('[data-testid=\"wall-layer\"][data-layer=\"key_place\"]')
           .checked = false;
         return true;",
    )
    .await;
    wall.wait_for("[data-map-metric=\"overdue\"].on").await;
    wall.wait_for(".hide-key_place").await;
    delays.push(delay(&seat, &wall, "metric and layers").await);

    seat.click(&format!(
        "[data-testid=\"seat-item\"][data-level=\"grid\"][data-code=\"{grid}\"]"
    ))
    .await;
    at_level(&seat, "grid", Some(&grid), 4).await;
    delays.push(delay(&seat, &wall, "grid").await);
    wall_at(&wall, &format!("street:{street}")).await;

    // The case: the wall shows its card.
    seat.click(&format!(
        "[data-testid=\"seat-case\"][data-case-id=\"{id}\"]"
    ))
    .await;
    at_level(&seat, "case", Some(&id.to_string()), 5).await;
    wall.wait_for(&format!(
        "[data-testid=\"case-card\"][data-case-id=\"{id}\"]"
    ))
    .await;
    delays.push(delay(&seat, &wall, "case").await);
    wall.screenshot("seat-drives-wall-case").await;

    // Back to the street, then look back an hour: the wall shows the moment's banner.
    seat.click("[data-testid=\"seat-crumb\"][data-level=\"street\"]")
        .await;
    at_level(&seat, "street", Some(street), 3).await;
    wall.wait_until("!document.querySelector('[data-testid=\"case-card\"]')")
        .await;
    delays.push(delay(&seat, &wall, "back to the street").await);
    let at = seat
        .eval(
            "const at = Math.floor((Date.now() - 3600000) / 60000) * 60000;
             const input = document.querySelector('[data-testid=\"seat-moment-input\"]');
             input.value = new Date(at + 8 * 3600000).toISOString().slice(0, 16);
             return at;",
        )
        .await
        .as_i64()
        .expect("a moment");
    seat.click("[data-testid=\"seat-lookback\"]").await;
    seat.wait_for(&format!(
        "[data-testid=\"seat-moment-banner\"][data-at=\"{at}\"]"
    ))
    .await;
    wall.wait_for(&format!("[data-testid=\"look-banner\"][data-at=\"{at}\"]"))
        .await;
    delays.push(delay(&seat, &wall, "look back").await);
    wall_at(&wall, &format!("street:{street}")).await;

    // Timings on a shared CI machine say nothing reliable, so they are printed for the log;
    // `scripts/bench-follow` measures the goal. A delay below zero would mean the wall
    // applied a control message before the seat sent it.
    eprintln!("seat → wall delays (ms): {delays:?}");
    assert!(delays.iter().all(|ms| *ms >= 0.0), "{delays:?}");

    // The seat goes away: the wall is free again and returns to the city.
    seat.close().await;
    controlled_by(&wall, "").await;
    wall_at(&wall, "city").await;
    wall.wait_until("!document.querySelector('[data-testid=\"look-banner\"]')")
        .await;

    wall.close().await;
    server.stop().await;
}

#[tokio::test]
async fn a_second_seat_asks_for_the_held_wall_and_is_handed_it() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = server(&dir).await;
    let http = reqwest::Client::new();
    let token = api_token(&server, &http, "dispatcher-district").await;
    let area = get(&server, &http, &token, "/api/me").await["area"]
        .as_str()
        .expect("the district dispatcher's area")
        .to_owned();

    let wall = wall(&server).await;
    let leader = seat(&server, "leader").await;
    leader.click("[data-testid=\"take-wall\"]").await;
    controlled_by(&wall, "leader").await;

    // The district's dispatcher asks for `main`: refused in the server's words, and the
    // leader is asked.
    let dispatcher = seat(&server, "dispatcher-district").await;
    dispatcher
        .wait_for("[data-testid=\"wall-holder\"][data-login=\"leader\"][data-mine=\"false\"]")
        .await;
    dispatcher.click("[data-testid=\"take-wall\"]").await;
    let refusal = dispatcher.text("[data-testid=\"seat-error\"]").await;
    assert!(!refusal.is_empty(), "the refusal is shown");
    leader
        .wait_for(
            "[data-testid=\"handover-prompt\"][data-wall=\"main\"][data-by=\"dispatcher-district\"]",
        )
        .await;
    leader.screenshot("seat-handover-prompt").await;

    // The leader hands it over: the wall names the dispatcher and shows the dispatcher's
    // screen, its district.
    leader.click("[data-testid=\"handover\"]").await;
    controlled_by(&wall, "dispatcher-district").await;
    dispatcher
        .wait_for(
            "[data-testid=\"wall-holder\"][data-login=\"dispatcher-district\"][data-mine=\"true\"]",
        )
        .await;
    leader
        .wait_for("[data-testid=\"wall-holder\"][data-mine=\"false\"]")
        .await;
    leader
        .wait_until("!document.querySelector('[data-testid=\"handover-prompt\"]')")
        .await;
    wall_at(&wall, &area).await;

    // The holder releases it: the wall is free and back at the city.
    dispatcher.click("[data-testid=\"release-wall\"]").await;
    controlled_by(&wall, "").await;
    wall_at(&wall, "city").await;

    dispatcher.close().await;
    leader.close().await;
    wall.close().await;
    server.stop().await;
}

/// A stand-in for the seat's link, put in the page before it signs in: `/ws/seat` is answered
/// by the page itself (a `hello` for seat 1, then whatever the test delivers), every message the
/// seat sends is kept in `__seatSent` with the time it went, and any other socket is real.
const FAKE_SEAT_LINK: &str = r#"
const Real = window.WebSocket;
window.__seatSent = [];
class FakeSeatLink extends EventTarget {
  constructor(url) {
    if (!String(url).includes('/ws/seat')) return new Real(url);
    super();
    this.readyState = 0;
    window.__seatLink = this;
    setTimeout(() => {
      this.readyState = 1;
      this.deliver({type: 'hello', protocol: 4, seat: 1, walls: []});
    }, 10);
  }
  set onmessage(f) { this.addEventListener('message', f); }
  set onclose(f) { this.addEventListener('close', f); }
  deliver(event) {
    this.dispatchEvent(new MessageEvent('message', {data: JSON.stringify(event)}));
  }
  send(text) { window.__seatSent.push({at: Date.now(), msg: JSON.parse(text)}); }
  close() { this.readyState = 3; }
}
window.WebSocket = FakeSeatLink;
"#;

/// A `control` event for `main` held by seat `seat` as `login`.
fn held(seat: u64, login: &str, rev: u64) -> String {
    format!(
        "window.__seatLink.deliver({{type: 'control', control: {{wall: 'main', rev: {rev},
           controller: {{seat: {seat}, login: {login:?}, name: {login:?}, role: 'leader'}},
           display: null, card: null, returns_at_ms: null}}}});"
    )
}

/// The `Show`s the seat has sent, oldest first, as `[at, display]`.
async fn shows(seat: &Browser) -> Vec<Value> {
    seat.eval(
        "return window.__seatSent.filter(s => s.msg.type === 'show')
           .map(s => [s.at, s.msg.display]);",
    )
    .await
    .as_array()
    .cloned()
    .unwrap_or_default()
}

/// Waits until the seat has sent `count` `Show`s and returns the last.
async fn show(seat: &Browser, count: usize) -> Value {
    seat.wait_until(&format!(
        "window.__seatSent.filter(s => s.msg.type === 'show').length >= {count}"
    ))
    .await;
    let all = shows(seat).await;
    assert_eq!(all.len(), count, "one Show per change of screen: {all:?}");
    all[count - 1][1].clone()
}

#[tokio::test]
async fn the_seat_sends_its_screen_as_a_show_and_a_replay_at_most_twice_a_second() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = server(&dir).await;
    let grids = server.get_json("/api/grids.geojson").await;
    let props = grids["features"][0]["properties"].clone();
    let grid = props["id"].as_str().expect("a grid");
    let street = props["street_code"].as_str().expect("its street");
    let district = props["district_code"].as_str().expect("its district");

    let seat = Browser::start(1920, 1080).await;
    seat.client
        .goto(&server.url("/seat?lang=en"))
        .await
        .expect("open the seat page");
    seat.wait_for("[data-testid=\"seat-login\"]").await;
    seat.eval(FAKE_SEAT_LINK).await;
    sign_in(&seat, "leader").await;
    seat.wait_for("[data-testid=\"wall-panel\"][data-link=\"live\"]")
        .await;
    at_level(&seat, "city", None, 1).await;

    // A name that no wall can have is refused at the seat.
    seat.eval("document.querySelector('[data-testid=\"wall-name\"]').value = 'Main Wall';")
        .await;
    seat.click("[data-testid=\"take-wall\"]").await;
    seat.wait_for("[data-testid=\"seat-error\"]").await;
    seat.eval("document.querySelector('[data-testid=\"wall-name\"]').value = 'main';")
        .await;

    // Take: the request, then, granted, the seat's screen at once (the live city is the
    // wall's own overview).
    seat.click("[data-testid=\"take-wall\"]").await;
    let sent = seat.eval("return window.__seatSent.map(s => s.msg);").await;
    assert_eq!(sent, serde_json::json!([{"type": "take", "wall": "main"}]));
    seat.eval(&held(1, "leader", 1)).await;
    seat.wait_for("[data-testid=\"wall-holder\"][data-login=\"leader\"][data-mine=\"true\"]")
        .await;
    assert_eq!(show(&seat, 1).await, Value::Null);
    let stamp = seat.eval("return window.__gwSentAt;").await;
    assert!(stamp.as_f64().is_some(), "the Show is stamped: {stamp}");

    // Each step down is one Show.
    seat.click(&format!(
        "[data-testid=\"seat-item\"][data-level=\"district\"][data-code=\"{district}\"]"
    ))
    .await;
    let d = show(&seat, 2).await;
    assert_eq!(
        d["scope"],
        serde_json::json!({"kind": "district", "id": district})
    );
    seat.click(&format!(
        "[data-testid=\"seat-item\"][data-level=\"street\"][data-code=\"{street}\"]"
    ))
    .await;
    let d = show(&seat, 3).await;
    assert_eq!(
        d["scope"],
        serde_json::json!({"kind": "street", "id": street})
    );
    seat.click(&format!(
        "[data-testid=\"seat-item\"][data-level=\"grid\"][data-code=\"{grid}\"]"
    ))
    .await;
    let d = show(&seat, 4).await;
    assert_eq!(
        d["scope"],
        serde_json::json!({"kind": "street", "id": street})
    );
    assert_eq!(d["grid"], grid);
    assert_eq!(d["case"], Value::Null);

    // Yesterday replayed at the grid (whose cases are not replayed, so its clock moves with
    // the seat's timer): the period and pace, and the clock at most twice a second.
    seat.click("[data-testid=\"seat-replay\"]").await;
    let d = show(&seat, 5).await;
    let replay = &d["replay"];
    assert_eq!(d["grid"], grid, "{d}");
    assert_eq!(replay["speed"], 1440.0, "{d}");
    assert_eq!(replay["paused"], false, "{d}");
    assert_eq!(
        replay["to_ms"].as_i64().unwrap_or(0) - replay["from_ms"].as_i64().unwrap_or(0),
        86_400_000,
        "{d}"
    );
    seat.wait_until(
        "window.__seatSent.filter(s => s.msg.type === 'show' && s.msg.display?.replay).length >= 5",
    )
    .await;
    let all = shows(&seat).await;
    let clock: Vec<(i64, i64)> = all[4..]
        .iter()
        .map(|s| {
            (
                s[0].as_i64().unwrap_or(0),
                s[1]["at_ms"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    eprintln!("replay shows (sent at, moment): {clock:?}");
    for pair in clock.windows(2) {
        assert!(pair[1].1 > pair[0].1, "the clock moves on: {clock:?}");
        assert!(
            pair[1].0 - pair[0].0 >= 450,
            "a replay's clock goes at most twice a second: {clock:?}"
        );
    }

    // Live again, then the overview: the wall's own.
    seat.click("[data-testid=\"seat-live\"]").await;
    seat.wait_until(
        "(() => { const s = window.__seatSent.filter(s => s.msg.type === 'show');
                  const d = s[s.length - 1].msg.display;
                  return d && !d.replay && d.at_ms == null && d.grid; })()",
    )
    .await;
    seat.click("[data-testid=\"seat-overview\"]").await;
    seat.wait_until(
        "(() => { const s = window.__seatSent.filter(s => s.msg.type === 'show');
                  return s[s.length - 1].msg.display === null; })()",
    )
    .await;

    // The link drops: the seat says so, opens it again by itself, takes back the wall it
    // held and, granted, puts its screen on it again.
    let before = shows(&seat).await.len();
    seat.eval("window.__seatLink.dispatchEvent(new Event('close'));")
        .await;
    seat.wait_for("[data-testid=\"wall-panel\"][data-link=\"connecting\"]")
        .await;
    seat.wait_until("window.__seatSent.filter(s => s.msg.type === 'take').length === 2")
        .await;
    seat.wait_for("[data-testid=\"wall-panel\"][data-link=\"live\"]")
        .await;
    seat.eval(&held(1, "leader", 2)).await;
    seat.wait_for("[data-testid=\"wall-holder\"][data-login=\"leader\"][data-mine=\"true\"]")
        .await;
    assert_eq!(show(&seat, before + 1).await, Value::Null);

    // Another seat asks: the prompt names it and hands the wall over to its seat.
    seat.eval(
        "window.__seatLink.deliver({type: 'asked', wall: 'main',
           by: {seat: 2, login: 'dispatcher', name: 'Dispatcher', role: 'dispatcher'}});",
    )
    .await;
    seat.wait_for("[data-testid=\"handover-prompt\"][data-by=\"dispatcher\"]")
        .await;
    seat.click("[data-testid=\"handover\"]").await;
    let last = seat
        .eval("return window.__seatSent.filter(s => s.msg.type === 'handover').map(s => s.msg);")
        .await;
    assert_eq!(
        last,
        serde_json::json!([{"type": "handover", "wall": "main", "to_seat": 2}])
    );
    seat.eval(&held(2, "dispatcher", 9)).await;
    seat.wait_for("[data-testid=\"wall-holder\"][data-login=\"dispatcher\"][data-mine=\"false\"]")
        .await;
    seat.wait_until("!document.querySelector('[data-testid=\"handover-prompt\"]')")
        .await;

    // A refusal is shown in the server's words.
    seat.eval(
        "window.__seatLink.deliver({type: 'refused', wall: 'main',
           error: {code: 'held', message: 'main is held by Dispatcher'}});",
    )
    .await;
    let said = seat.text("[data-testid=\"seat-error\"]").await;
    assert_eq!(said, "main is held by Dispatcher");

    seat.close().await;
    server.stop().await;
}
