//! The pages under their Content-Security-Policy in Chromium: each loads and runs (the wall
//! goes live over its WebSocket) with no violation reported, and every response carries the
//! security headers.

use std::time::Duration;
use tests::browser::Browser;
use tests::server::Server;

const LIVE: &str = "[data-testid=\"link-status\"][data-state=\"live\"]";

/// Starts collecting the page's CSP violations, including those reported before (buffered).
const OBSERVE: &str = "window.__csp = []; \
    new ReportingObserver((reports) => { \
        for (const r of reports) window.__csp.push(r.body.effectiveDirective + ' ' + r.body.blockedURL); \
    }, {types: ['csp-violation'], buffered: true}).observe(); \
    return true;";

/// The violations collected so far.
async fn violations(browser: &Browser) -> Vec<String> {
    // Buffered reports arrive in a task after `observe`.
    tokio::time::sleep(Duration::from_millis(500)).await;
    serde_json::from_value(browser.eval("return window.__csp;").await).expect("a list")
}

#[tokio::test]
async fn the_pages_run_under_their_policy_with_no_violation() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(&dir, |c| c).await;

    // The headers, on a page and on an API answer.
    let page = reqwest::get(server.url("/")).await.expect("GET /");
    let csp = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    let scripts = csp
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .unwrap_or_default();
    assert!(!scripts.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'self'"), "{csp}");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let html = page.text().await.expect("the page");
    assert!(
        !html.contains("<script>") && !html.contains("<script type=\"module\">"),
        "the page carries an inline script: {html}"
    );
    let api = reqwest::get(server.url("/healthz"))
        .await
        .expect("GET /healthz");
    assert_eq!(api.headers()["x-content-type-options"], "nosniff");
    assert!(api.headers().get("content-security-policy").is_none());

    let browser = Browser::start(1920, 1080).await;
    browser
        .client
        .goto(&server.url("/"))
        .await
        .expect("open the wall");
    browser.wait_for(LIVE).await;
    browser.eval(OBSERVE).await;
    server.report("内容安全策略下的上报").await;
    browser
        .wait_for("[data-metric=\"reported_today\"][data-value=\"1\"]")
        .await;
    assert_eq!(violations(&browser).await, Vec::<String>::new(), "the wall");

    for (path, ready) in [("/seat", "input"), ("/field", "input")] {
        browser
            .client
            .goto(&server.url(path))
            .await
            .expect("open the page");
        browser.wait_for(ready).await;
        browser.eval(OBSERVE).await;
        assert_eq!(violations(&browser).await, Vec::<String>::new(), "{path}");
    }

    // The observer does see a violation: an inline script is refused and reported.
    browser
        .eval(
            "const s = document.createElement('script'); \
             s.textContent = 'window.__inline = true'; \
             document.head.appendChild(s); return true;",
        )
        .await;
    let seen = violations(&browser).await;
    assert!(
        seen.iter().any(|v| v.starts_with("script-src")),
        "the check would not have seen a violation: {seen:?}"
    );
    assert_eq!(
        browser.eval("return window.__inline === undefined;").await,
        serde_json::Value::Bool(true),
        "an inline script ran"
    );
    browser.close().await;
    server.stop().await;
}
