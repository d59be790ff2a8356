//! Headless Chromium through Debian's chromedriver, with a fresh profile for every session.

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::process::Stdio;
use std::time::Duration;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "chromedriver";
/// How long any condition on the page may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(15);

#[derive(Debug)]
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium session.
    pub async fn start(width: u32, height: u32) -> Browser {
        Browser::start_scaled(width, height, 1.0).await
    }

    /// [`Browser::start`] with a window of `width` × `height` CSS pixels at a device pixel
    /// ratio of `scale`, as on a 4K panel run at 200 %.
    pub async fn start_scaled(width: u32, height: u32, scale: f64) -> Browser {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            probe.local_addr().expect("address").port()
        };
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot start {CHROMEDRIVER}: {err}. The browser tests need Chromium and its \
                     driver: apt-get install chromium chromium-driver (bash .ci/run does this)"
                )
            });
        // chromedriver says when it is ready; wait for that line rather than for a guess.
        let stdout = driver.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        tokio::time::timeout(PATIENCE, async {
            while let Some(line) = lines.next_line().await.expect("chromedriver output") {
                if line.contains("started successfully") {
                    return;
                }
            }
            panic!("chromedriver exited before it was ready");
        })
        .await
        .expect("chromedriver ready within the time limit");
        // Keep draining its output so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

        let profile = tempfile::tempdir().expect("profile directory");
        let mut caps = Capabilities::new();
        caps.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    format!("--window-size={width},{height}"),
                    format!("--force-device-scale-factor={scale}"),
                    // Exact heap figures and a way to collect garbage before reading them,
                    // for the long-run test; harmless elsewhere.
                    "--enable-precise-memory-info",
                    "--js-flags=--expose-gc",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session");
        let browser = Browser {
            client,
            driver,
            _profile: profile,
        };
        browser.fit_viewport(width, height).await;
        browser
    }

    /// Grows the window by the browser's own frame, so that the page's viewport, not the
    /// window, is `width` × `height` CSS pixels: the screen the wall is designed for.
    async fn fit_viewport(&self, width: u32, height: u32) {
        let frame = self
            .eval("return [outerWidth - innerWidth, outerHeight - innerHeight];")
            .await;
        let dw = frame[0].as_u64().unwrap_or(0) as u32;
        let dh = frame[1].as_u64().unwrap_or(0) as u32;
        if dw > 0 || dh > 0 {
            self.client
                .set_window_size(width + dw, height + dh)
                .await
                .expect("resize the window");
        }
    }

    /// Waits until an element matches the CSS selector.
    pub async fn wait_for(&self, css: &str) {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|err| panic!("no element matched `{css}` within {PATIENCE:?}: {err}"));
    }

    /// Clicks the first element that matches the CSS selector, once there is one.
    pub async fn click(&self, css: &str) {
        self.wait_for(css).await;
        self.client
            .find(Locator::Css(css))
            .await
            .expect("the element")
            .click()
            .await
            .unwrap_or_else(|err| panic!("cannot click `{css}`: {err}"));
    }

    /// Types `text` into the first element that matches the CSS selector, once there is one.
    pub async fn type_into(&self, css: &str, text: &str) {
        self.wait_for(css).await;
        self.client
            .find(Locator::Css(css))
            .await
            .expect("the element")
            .send_keys(text)
            .await
            .unwrap_or_else(|err| panic!("cannot type into `{css}`: {err}"));
    }

    /// The visible text of the first element that matches the CSS selector.
    pub async fn text(&self, css: &str) -> String {
        self.wait_for(css).await;
        self.client
            .find(Locator::Css(css))
            .await
            .expect("the element")
            .text()
            .await
            .expect("its text")
    }

    /// The `data-value` of the number with `data-metric` = `metric`.
    pub async fn metric(&self, metric: &str) -> f64 {
        let css = format!("[data-metric=\"{metric}\"]");
        self.wait_for(&css).await;
        let el = self
            .client
            .find(Locator::Css(&css))
            .await
            .expect("metric element");
        let value = el
            .attr("data-value")
            .await
            .expect("attribute")
            .unwrap_or_default();
        value
            .parse()
            .unwrap_or_else(|_| panic!("`{metric}` has data-value `{value}`, not a number"))
    }

    /// Saves a PNG of the page under `target/screenshots/`, for people to look at.
    pub async fn screenshot(&self, name: &str) -> std::path::PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot directory");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Waits until `condition` (a JavaScript expression) is true in the page.
    pub async fn wait_until(&self, condition: &str) {
        let script = format!("return !!({condition});");
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.eval(&script).await != serde_json::Value::Bool(true) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "`{condition}` did not hold within {PATIENCE:?}"
            );
            // Polling is how WebDriver waits for a script's condition; a frame apart.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs `script` (a function body that may `return` a value) in the page.
    pub async fn eval(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|err| panic!("script failed: {err}\n{script}"))
    }

    /// Closes the session and the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }
}
