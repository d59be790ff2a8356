//! Measures the wall in headless Chromium against a running server, with the page's own
//! performance marks: navigation to the first complete frame (`wall-complete`, set once the
//! map is drawn and coloured from the first snapshot) and the recolouring of every grid
//! (`recolour`, measured around a switch of the map's metric). Prints one line per figure.
//!
//! `cargo run --release -p tests --example wall_bench -- http://127.0.0.1:8080/ [runs]`

// A benchmark's report is its output.
#![allow(clippy::print_stdout)]

use fantoccini::Locator;
use std::time::Duration;
use tests::browser::{Browser, PATIENCE};

/// The `startTime` of the mark `name`, once the page has set it.
async fn mark(browser: &Browser, name: &str) -> f64 {
    let script = format!(
        "const m = performance.getEntriesByName('{name}'); return m.length ? m[0].startTime : null;"
    );
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(t) = browser.eval(&script).await.as_f64() {
            return t;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no `{name}` mark within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn summary(mut xs: Vec<f64>) -> String {
    xs.sort_by(f64::total_cmp);
    let median = xs[xs.len() / 2];
    format!(
        "median {median:.1} ms, min {:.1} ms, max {:.1} ms, {} runs",
        xs[0],
        xs[xs.len() - 1],
        xs.len()
    )
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:8080/".to_owned());
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);

    let mut first_frames = Vec::new();
    let mut recolours = Vec::new();
    for _ in 0..runs {
        // A fresh profile each time: nothing cached, as a wall after a restart.
        let browser = Browser::start(1920, 1080).await;
        browser.client.goto(&url).await.expect("open the wall");
        first_frames.push(mark(&browser, "wall-complete").await);
        for metric in ["overdue", "per_1000", "open", "overdue", "per_1000", "open"] {
            browser
                .client
                .find(Locator::Css(&format!("[data-map-metric=\"{metric}\"]")))
                .await
                .expect("the metric switch")
                .click()
                .await
                .expect("click");
        }
        let measured = browser
            .eval("return performance.getEntriesByName('recolour').map(m => m.duration);")
            .await;
        let grids = browser
            .eval("return document.querySelectorAll('[data-grid-id]').length;")
            .await;
        recolours.extend(
            measured
                .as_array()
                .expect("measures")
                .iter()
                .filter_map(|v| v.as_f64()),
        );
        println!("grids on the map: {grids}");
        browser.close().await;
    }
    println!(
        "navigation to first complete frame: {}",
        summary(first_frames)
    );
    println!("recolouring every grid: {}", summary(recolours));
}
