//! The wall in a real browser: it goes live, follows reports, says when the link is gone,
//! and catches up by itself when the server comes back.

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

    server.report("路灯杆倾斜，存在安全隐患").await;
    browser
        .wait_for("[data-metric=\"reported_today\"][data-value=\"1\"]")
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
