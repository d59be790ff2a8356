//! The wall in a real browser: it goes live, follows reports, says when the link is gone,
//! and catches up by itself when the server comes back; the field page plays a case's whole
//! story at phone size (`field`); a leader drills down to a case at the seat (`seat`).

mod faults;
mod field;
mod seat;
mod security;

use std::time::Duration;
use tests::browser::Browser;
use tests::server::Server;

const LIVE: &str = "[data-testid=\"link-status\"][data-state=\"live\"]";
const NOT_LIVE: &str = "[data-testid=\"link-status\"]:not([data-state=\"live\"])";
const STALE: &str = "[data-testid=\"link-status\"][data-state=\"stale\"]";

#[tokio::test]
async fn a_reported_case_reaches_the_wall_and_the_wall_tells_when_the_link_drops() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(&dir, |c| c).await;
    let browser = Browser::start(1920, 1080).await;
    browser
        .client
        .goto(&server.url("/"))
        .await
        .expect("open the wall");
    browser.wait_for(LIVE).await;

    for metric in [
        "reported_today",
        "reported_total",
        "open",
        "closed",
        "closure_rate",
    ] {
        assert_eq!(
            browser.metric(metric).await,
            0.0,
            "{metric} on an empty city"
        );
    }

    let case = server.report("路灯杆倾斜，存在安全隐患").await;
    browser
        .wait_for("[data-metric=\"reported_today\"][data-value=\"1\"]")
        .await;
    // The case heads the list of latest cases, as reported.
    let id = case["id"].as_i64().expect("case id");
    browser
        .wait_for(&format!(
            "[data-panel=\"latest\"] li:first-child[data-case-id=\"{id}\"][data-state=\"reported\"]"
        ))
        .await;
    assert_eq!(browser.metric("reported_total").await, 1.0);
    assert_eq!(browser.metric("open").await, 1.0);
    // The category panel follows too: the report was a municipal-facilities case.
    browser
        .wait_for("[data-metric=\"category.municipal_facilities.open\"][data-value=\"1\"]")
        .await;
    assert_eq!(browser.metric("category.ecology.open").await, 0.0);

    // The wall shows what it was shown: the number on screen is the one in data-value.
    let shown = browser.text("[data-metric=\"reported_today\"]").await;
    assert!(shown.starts_with('1'), "reported_today shows `{shown}`");
    browser.screenshot("wall-1920x1080-live").await;

    let addr = server.addr;
    let db_path = server.db_path.clone();
    server.stop().await;
    browser.wait_for(NOT_LIVE).await;
    // With no frame for 3 s the wall says its data is stale, and how old it is.
    browser.wait_for(STALE).await;
    let status = browser.text("[data-testid=\"link-status\"]").await;
    assert!(
        status.contains("秒前"),
        "the stale indicator shows no age: `{status}`"
    );
    browser.screenshot("wall-1920x1080-stale").await;

    // The server comes back on the same address: the wall reconnects by itself and shows
    // what was stored before, plus what happened since.
    let server = Server::start_at(&db_path, addr, |c| c).await;
    server.report("重启后的新案件").await;
    browser.wait_for(LIVE).await;
    browser
        .wait_for("[data-metric=\"reported_today\"][data-value=\"2\"]")
        .await;
    browser.close().await;
    server.stop().await;
}

#[tokio::test]
async fn the_wall_moves_as_the_simulator_reports() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(&dir, |mut c| {
        c.simulator_every = Some(Duration::from_millis(200));
        c
    })
    .await;
    let browser = Browser::start(1280, 720).await;
    browser
        .client
        .goto(&server.url("/"))
        .await
        .expect("open the wall");
    browser.wait_for(LIVE).await;
    let first = browser.metric("reported_total").await;
    browser
        .wait_for(&format!(
            "[data-metric=\"reported_total\"]:not([data-value=\"{first}\"])"
        ))
        .await;
    let later = browser.metric("reported_total").await;
    assert!(later > first, "reported_total went from {first} to {later}");
    let rate = browser.metric("closure_rate").await;
    assert!(
        (0.0..=1.0).contains(&rate),
        "closure_rate {rate} is not a ratio"
    );
    browser.close().await;
    server.stop().await;
}

/// A screen the wall must fill exactly: a layout at a window size and device pixel ratio.
struct Screen {
    name: &'static str,
    query: &'static str,
    width: u32,
    height: u32,
    scale: f64,
    /// The panels the layout shows.
    panels: &'static [&'static str],
}

const WALL_PANELS: &[&str] = &[
    "header", "map", "people", "events", "team", "warnings", "cases", "latest",
];

const SCREENS: &[Screen] = &[
    Screen {
        name: "wall-1920x1080",
        query: "?layout=wall",
        width: 1920,
        height: 1080,
        scale: 1.0,
        panels: WALL_PANELS,
    },
    Screen {
        // A 4K panel driven at 200 %: 3840 × 2160 device pixels.
        name: "wall-3840x2160-dpr2",
        query: "?layout=wall",
        width: 1920,
        height: 1080,
        scale: 2.0,
        panels: WALL_PANELS,
    },
    Screen {
        name: "wall-3840x2160",
        query: "",
        width: 3840,
        height: 2160,
        scale: 1.0,
        panels: WALL_PANELS,
    },
    Screen {
        name: "wall-7680x2160",
        query: "?layout=wall",
        width: 7680,
        height: 2160,
        scale: 1.0,
        panels: WALL_PANELS,
    },
    Screen {
        name: "wall-6656x1792",
        query: "?layout=wall",
        width: 6656,
        height: 1792,
        scale: 1.0,
        panels: WALL_PANELS,
    },
    Screen {
        name: "seat-1920x1080",
        query: "?layout=seat",
        width: 1920,
        height: 1080,
        scale: 1.0,
        panels: &["header", "map", "events", "cases", "latest", "warnings"],
    },
    Screen {
        name: "share-1280x720",
        query: "?layout=share",
        width: 1280,
        height: 720,
        scale: 1.0,
        panels: &["header", "map", "events", "trend", "categories"],
    },
    Screen {
        name: "wall-1920x1080-en",
        query: "?layout=wall&lang=en",
        width: 1920,
        height: 1080,
        scale: 1.0,
        panels: WALL_PANELS,
    },
];

/// The page's geometry as the browser lays it out.
const GEOMETRY: &str = r#"
    const de = document.documentElement;
    const panels = [...document.querySelectorAll('[data-panel]')].map(e => {
        const r = e.getBoundingClientRect();
        return {
            name: e.dataset.panel, left: r.left, top: r.top, right: r.right, bottom: r.bottom,
            overflow_x: e.scrollWidth - e.clientWidth, overflow_y: e.scrollHeight - e.clientHeight,
        };
    });
    return {
        width: innerWidth, height: innerHeight, dpr: devicePixelRatio,
        scroll_width: Math.max(de.scrollWidth, document.body.scrollWidth),
        scroll_height: Math.max(de.scrollHeight, document.body.scrollHeight),
        grids: document.querySelectorAll('svg [data-grid-id]').length,
        panels,
    };
"#;

fn num(v: &serde_json::Value, what: &str) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {v}"))
}

#[tokio::test]
async fn the_wall_fills_every_screen_and_layout_with_all_4880_grids() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start_demo(&dir, |c| c).await;
    for screen in SCREENS {
        let browser = Browser::start_scaled(screen.width, screen.height, screen.scale).await;
        browser
            .client
            .goto(&server.url(&format!("/{}", screen.query)))
            .await
            .expect("open the wall");
        browser.wait_for(LIVE).await;
        browser
            .wait_for("[data-panel=\"map\"] .map-host[data-state=\"ready\"]")
            .await;
        let page = browser.eval(GEOMETRY).await;
        let name = screen.name;
        let (width, height) = (num(&page["width"], "width"), num(&page["height"], "height"));
        assert_eq!(
            (width, height),
            (f64::from(screen.width), f64::from(screen.height)),
            "{name}: the window"
        );
        assert_eq!(
            num(&page["dpr"], "dpr"),
            screen.scale,
            "{name}: pixel ratio"
        );
        assert_eq!(
            (
                num(&page["scroll_width"], "scroll width"),
                num(&page["scroll_height"], "scroll height")
            ),
            (width, height),
            "{name}: the page scrolls"
        );
        assert_eq!(
            num(&page["grids"], "grids"),
            4880.0,
            "{name}: grid polygons"
        );
        let panels = page["panels"].as_array().expect("panels");
        for want in screen.panels {
            assert!(
                panels.iter().any(|p| p["name"] == *want),
                "{name}: no `{want}` panel"
            );
        }
        for p in panels {
            let what = format!("{name}: panel {}", p["name"]);
            let (l, t) = (num(&p["left"], "left"), num(&p["top"], "top"));
            let (r, b) = (num(&p["right"], "right"), num(&p["bottom"], "bottom"));
            assert!(
                l >= 0.0 && t >= 0.0 && r <= width && b <= height && r > l && b > t,
                "{what} is not inside the viewport: {p}"
            );
            // Panels clip what does not fit; nothing may need clipping.
            assert!(
                num(&p["overflow_x"], "overflow") <= 1.0
                    && num(&p["overflow_y"], "overflow") <= 1.0,
                "{what} cuts off its content: {p}"
            );
        }
        // A reference picture shows numbers at rest, not halfway through their roll.
        browser
            .wait_until("document.getAnimations().length === 0")
            .await;
        browser.screenshot(name).await;
        browser.close().await;
    }
    server.stop().await;
}

#[tokio::test]
async fn every_number_on_the_wall_matches_the_server() {
    let dir = tempfile::tempdir().expect("temporary directory");
    // No simulator: the figures stand still while they are compared.
    let server = Server::start_demo(&dir, |c| c).await;
    let browser = Browser::start(1920, 1080).await;
    browser
        .client
        .goto(&server.url("/?layout=wall"))
        .await
        .expect("open the wall");
    browser.wait_for(LIVE).await;
    // The time-limit watcher may warn or supervise a case of the history while the figures
    // are compared, so the server and the page are read again until they agree.
    let deadline = tokio::time::Instant::now() + tests::browser::PATIENCE;
    loop {
        let wall = server.get_json("/api/wall").await;
        let state = &wall["state"];
        let expected = figures(state);
        assert!(expected.len() > 30, "too few figures to compare");
        let shown = browser.eval(SHOWN_METRICS).await;
        let mut differ: Vec<String> = expected
            .iter()
            .filter(|(metric, value)| shown[metric] != serde_json::json!(value.to_string()))
            .map(|(metric, value)| format!("{metric}: wall {}, server {value}", shown[metric]))
            .collect();
        let c = &state["counters"];
        let rate = num(&c["closed"], "closed") / num(&c["reported_total"], "reported_total");
        let rate_shown: f64 = shown["closure_rate"]
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN);
        if (rate_shown - rate).abs() >= 1e-9 {
            differ.push(format!("closure_rate: wall {rate_shown}, server {rate}"));
        }
        if differ.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the wall differs from the server: {differ:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    browser.close().await;
    server.stop().await;
}

/// Every `data-metric` on the page with its `data-value`.
const SHOWN_METRICS: &str = r#"
    const out = {};
    for (const e of document.querySelectorAll('[data-metric]')) {
        out[e.dataset.metric] = e.dataset.value;
    }
    return out;
"#;

/// The figures the wall must show for a state, by `data-metric`: the counters, people and
/// housing, the team by kind and the categories.
fn figures(state: &serde_json::Value) -> Vec<(String, u64)> {
    let mut expected: Vec<(String, &serde_json::Value)> = Vec::new();
    for key in [
        "reported_today",
        "reported_total",
        "open",
        "closed",
        "warned",
        "overdue",
        "escalated",
    ] {
        expected.push((key.to_owned(), &state["counters"][key]));
    }
    for key in [
        "residents",
        "households",
        "houses",
        "organisations",
        "key_places",
        "visits_today",
        "visits_month",
    ] {
        expected.push((format!("people.{key}"), &state["people"][key]));
    }
    let team = state["team"].as_object().expect("the team");
    assert!(
        team.contains_key("grid_worker"),
        "no grid workers: {team:?}"
    );
    for (kind, t) in team {
        for key in ["members", "active_today"] {
            expected.push((format!("team.{kind}.{key}"), &t[key]));
        }
    }
    let categories = state["by_category"].as_object().expect("categories");
    for (code, t) in categories {
        for key in ["open", "reported_today"] {
            expected.push((format!("category.{code}.{key}"), &t[key]));
        }
    }
    expected
        .into_iter()
        .map(|(metric, value)| {
            let n = value
                .as_u64()
                .unwrap_or_else(|| panic!("{metric} is {value} on the server"));
            (metric, n)
        })
        .collect()
}

#[tokio::test]
async fn a_district_wall_shows_its_own_grids_and_figures() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start_demo(&dir, |c| c).await;
    let grids = server.get_json("/api/grids.geojson").await;
    let features = grids["features"].as_array().expect("features");
    let district = features[0]["properties"]["district_code"]
        .as_str()
        .expect("a district code")
        .to_owned();
    let mine = features
        .iter()
        .filter(|f| f["properties"]["district_code"] == district.as_str())
        .count();
    let scope = format!("district:{district}");
    let browser = Browser::start(1920, 1080).await;
    browser
        .client
        .goto(&server.url(&format!("/?layout=seat&scope={scope}")))
        .await
        .expect("open the wall");
    browser.wait_for(LIVE).await;
    browser
        .wait_for(&format!(
            ".map-host[data-state=\"ready\"][data-grids=\"{mine}\"]"
        ))
        .await;
    let wall = server.get_json(&format!("/api/wall?scope={scope}")).await;
    let open = wall["state"]["counters"]["open"].as_u64().expect("open");
    let city = server.get_json("/api/wall").await;
    assert!(
        open < city["state"]["counters"]["open"].as_u64().expect("open"),
        "the district has fewer open cases than the city"
    );
    browser
        .wait_for(&format!("[data-metric=\"open\"][data-value=\"{open}\"]"))
        .await;
    browser.close().await;
    server.stop().await;
}

/// The class each grid's path has on the map, by grid id.
const GRID_CLASSES: &str = r#"
    const out = {};
    for (const p of document.querySelectorAll('svg [data-grid-id]')) {
        out[p.dataset.gridId] = p.getAttribute('class');
    }
    return out;
"#;

/// The colour step of a grid's house-visit coverage, as the map's legend draws it.
fn coverage_class(tally: &serde_json::Value) -> String {
    const STEPS: [f64; 7] = [0.0, 5.0, 10.0, 20.0, 30.0, 50.0, 75.0];
    let households = tally["households"].as_f64().unwrap_or(0.0);
    let visited = tally["households_visited_month"].as_f64().unwrap_or(0.0);
    let percent = if households > 0.0 {
        (visited / households).min(1.0) * 100.0
    } else {
        0.0
    };
    let step = STEPS.iter().rposition(|&s| percent >= s).unwrap_or(0);
    format!("s{step}")
}

#[tokio::test]
async fn the_map_colours_by_coverage_lists_the_latest_cases_and_names_districts_in_english() {
    let dir = tempfile::tempdir().expect("temporary directory");
    // No simulator: the coverage and the list stand still while they are compared.
    let server = Server::start_demo(&dir, |c| c).await;
    let browser = Browser::start(1920, 1080).await;
    browser
        .client
        .goto(&server.url("/?layout=wall"))
        .await
        .expect("open the wall");
    browser.wait_for(LIVE).await;
    browser
        .wait_for("[data-panel=\"map\"] .map-host[data-state=\"ready\"]")
        .await;
    let wall = server.get_json("/api/wall").await;
    let state = &wall["state"];

    // The latest cases: the server's list, newest first, one row per case. The time-limit
    // watcher may move a case meanwhile, so the two are read until they agree.
    let deadline = tokio::time::Instant::now() + tests::browser::PATIENCE;
    loop {
        let wall = server.get_json("/api/wall").await;
        let mut latest: Vec<(u64, i64)> = wall["state"]["latest"]
            .as_object()
            .expect("latest cases")
            .values()
            .map(|c| {
                (
                    c["seq"].as_u64().expect("seq"),
                    c["case_id"].as_i64().expect("case id"),
                )
            })
            .collect();
        latest.sort_by_key(|&(seq, _)| std::cmp::Reverse(seq));
        assert_eq!(
            latest.len(),
            30,
            "the demo city has more cases than the list"
        );
        let want: Vec<i64> = latest.iter().map(|&(_, id)| id).collect();
        let rows = browser
            .eval(
                "return [...document.querySelectorAll('[data-panel=\"latest\"] [data-case-id]')]
                    .map(r => Number(r.dataset.caseId));",
            )
            .await;
        if rows == serde_json::json!(want) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the wall lists {rows}, the server {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let first = browser
        .text("[data-panel=\"latest\"] li:first-child .badge")
        .await;
    assert!(
        first
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "the state is not named in Chinese: `{first}`"
    );

    // House-visit coverage: one click recolours every grid by its own coverage.
    let by_grid = state["by_grid"].as_object().expect("grids");
    let expected: std::collections::BTreeMap<String, String> = by_grid
        .iter()
        .map(|(id, t)| (id.clone(), coverage_class(t)))
        .collect();
    let covered = expected.values().filter(|c| *c != "s0").count();
    assert!(
        covered > 100,
        "only {covered} grids have a visit this month"
    );
    let before = browser.eval(GRID_CLASSES).await;
    browser
        .client
        .find(fantoccini::Locator::Css("[data-map-metric=\"coverage\"]"))
        .await
        .expect("the coverage switch")
        .click()
        .await
        .expect("click");
    browser.wait_for("[data-map-metric=\"coverage\"].on").await;
    let shown = browser.eval(GRID_CLASSES).await;
    let shown = shown.as_object().expect("grid classes");
    assert_eq!(shown.len(), 4880);
    for (id, class) in shown {
        let want = expected.get(id).map_or("s0", String::as_str);
        assert_eq!(class, want, "grid {id}");
    }
    assert_ne!(
        &before,
        &serde_json::Value::Object(shown.clone()),
        "the map did not change colour"
    );
    let legend = browser.text(".legend-title").await;
    assert_eq!(legend, "本月走访覆盖率");
    browser.screenshot("wall-1920x1080-coverage").await;

    // In English, the districts are labelled with their English names.
    browser
        .client
        .goto(&server.url("/?layout=wall&lang=en"))
        .await
        .expect("open the English wall");
    browser.wait_for(LIVE).await;
    browser
        .wait_for("[data-panel=\"map\"] .map-host[data-state=\"ready\"]")
        .await;
    let labels = browser
        .eval("return [...document.querySelectorAll('svg .labels text')].map(t => t.textContent);")
        .await;
    let labels: Vec<&str> = labels
        .as_array()
        .expect("labels")
        .iter()
        .filter_map(|l| l.as_str())
        .collect();
    assert_eq!(labels.len(), 9, "{labels:?}");
    assert!(labels.contains(&"Sartu District"), "{labels:?}");
    assert!(labels.contains(&"Zhaozhou County"), "{labels:?}");
    assert!(
        labels
            .iter()
            .all(|l| !l.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))),
        "a district label is still in Chinese: {labels:?}"
    );
    let first = browser
        .text("[data-panel=\"latest\"] li:first-child .badge")
        .await;
    assert!(
        first.is_ascii(),
        "the state is not named in English: `{first}`"
    );
    browser.close().await;
    server.stop().await;
}
