//! The wall left running under a busy city: its JavaScript heap and its DOM must not grow.
//! A separate test binary, as it runs for minutes (`GRIDWALL_LONG_RUN_MINUTES`, 10 unless
//! set; at least 2): the first minute is the baseline, the last reading must stay within 10 %.
//!
//! It is opt-in: `GRIDWALL_LONG_RUN_MINUTES=10 scripts/test` runs it after the other tests
//! (CI runs it for 3 minutes), or `cargo test -p tests --test long_run -- --ignored`.

use std::time::Duration;
use tests::browser::Browser;
use tests::server::Server;

const LIVE: &str = "[data-testid=\"link-status\"][data-state=\"live\"]";

/// Collects garbage, then reads the heap in use and the number of elements.
const MEMORY: &str = r#"
    if (window.gc) { window.gc(); }
    return {
        heap: performance.memory.usedJSHeapSize,
        nodes: document.getElementsByTagName('*').length,
    };
"#;

async fn reading(browser: &Browser) -> (f64, f64) {
    // Twice, as the first collection may leave garbage that the second one finds.
    browser.eval(MEMORY).await;
    let m = browser.eval(MEMORY).await;
    (
        m["heap"].as_f64().expect("heap"),
        m["nodes"].as_f64().expect("nodes"),
    )
}

#[tokio::test]
#[ignore = "the long run takes minutes: GRIDWALL_LONG_RUN_MINUTES=N scripts/test runs it"]
async fn heap_and_dom_stay_flat_at_100_transitions_a_second() {
    let minutes: u64 = std::env::var("GRIDWALL_LONG_RUN_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(10)
        .max(2);
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start_demo(&dir, |mut c| {
        c.simulator_every = Some(Duration::from_millis(10));
        c
    })
    .await;
    // The simulator makes one move at a time; reports from outside apps, several in flight,
    // bring the city to about 100 transitions a second beside it.
    let load: Vec<_> = (0..4)
        .map(|i| {
            let http = server.http.clone();
            let url = server.url("/api/cases");
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(40));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                for n in 0u64.. {
                    tick.tick().await;
                    let body = serde_json::json!({
                        "category": "municipal_facilities",
                        "sub_item": "0801",
                        "point": {"lon": 125.0 + 0.01 * (n % 7) as f64, "lat": 46.58 + 0.01 * i as f64},
                        "description": format!("长跑 {i}-{n}"),
                    });
                    // A report refused or lost while the machine is busy is simply not
                    // counted; the figure printed below is what the server committed.
                    let _ = http.post(&url).json(&body).send().await;
                }
            })
        })
        .collect();
    let browser = Browser::start(1920, 1080).await;
    browser
        .client
        .goto(&server.url("/?layout=wall"))
        .await
        .expect("open the wall");
    browser.wait_for(LIVE).await;
    browser.wait_for(".map-host[data-state=\"ready\"]").await;

    // The run itself is the point here: there is no condition to wait for, only time.
    tokio::time::sleep(Duration::from_secs(60)).await;
    let seq_then = server.get_json("/api/wall").await["log_seq"]
        .as_u64()
        .expect("log_seq");
    let (heap_then, nodes_then) = reading(&browser).await;
    tokio::time::sleep(Duration::from_secs(60 * (minutes - 1))).await;
    let seq_now = server.get_json("/api/wall").await["log_seq"]
        .as_u64()
        .expect("log_seq");
    let (heap_now, nodes_now) = reading(&browser).await;
    browser.wait_for(LIVE).await;
    let rate = (seq_now - seq_then) as f64 / (60.0 * (minutes - 1) as f64);
    let report = format!(
        "after 1 min: heap {heap_then} B, {nodes_then} elements; after {minutes} min: heap \
         {heap_now} B, {nodes_now} elements; {rate:.0} transitions/s in between"
    );
    eprintln!("{report}");
    assert!(heap_now <= heap_then * 1.1, "the heap grew: {report}");
    assert!(nodes_now <= nodes_then * 1.1, "the DOM grew: {report}");
    for task in load {
        task.abort();
    }
    browser.close().await;
    server.stop().await;
}
