//! The binary's log as an operator ships it: no terminal colour codes when it goes to a file,
//! one JSON object per line with `--log-format json`, and an audit line for a failed sign-in.

use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Starts the binary on a new database with `format`, signs in with a wrong password, stops
/// it, and returns what it logged.
async fn log_of(format: &str) -> String {
    let dir = tempfile::tempdir().expect("temporary directory");
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).expect("the log file");
    let mut server = Command::new(env!("CARGO_BIN_EXE_gridwall"))
        .args(["--log-format", format, "serve", "--addr", "127.0.0.1:0"])
        .arg("--database-url")
        .arg(format!("sqlite:{}", dir.path().join("g.db").display()))
        .args(["--demo-city", "off", "--simulator-rate", "0"])
        .arg("--photo-dir")
        .arg(dir.path().join("photos"))
        .env("RUST_LOG", "info")
        .stdout(log)
        .stderr(Stdio::null())
        .spawn()
        .expect("start the binary");
    // The address it serves at, from its log.
    let started = Instant::now();
    let url = loop {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        if let Some(at) = text.find("http://127.0.0.1:") {
            // `http://127.0.0.1:PORT/`: up to the slash after the host.
            let rest = &text[at..];
            let host_end = rest["http://".len()..]
                .find('/')
                .map_or(rest.len(), |i| i + "http://".len());
            break rest[..host_end].to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server did not say where it serves: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let res = reqwest::Client::new()
        .post(format!("{url}/api/login"))
        .json(&serde_json::json!({"login": "nobody", "password": "wrong"}))
        .send()
        .await
        .expect("POST /api/login");
    assert_eq!(res.status(), 401);
    // The line is written as the request ends; a moment for it to reach the file.
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill().expect("stop the server");
    let _ = server.wait();
    std::fs::read_to_string(&log_path).expect("the log")
}

#[tokio::test]
async fn a_log_to_a_file_has_no_colour_codes_and_json_lines_parse() {
    let text = log_of("text").await;
    assert!(text.contains("gridwall is serving"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "colour codes in a log file: {text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("audit") && l.contains("sign-in failed")),
        "no audit line for the failed sign-in: {text}"
    );

    let json = log_of("json").await;
    let lines: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 3, "{json}");
    for line in &lines {
        assert!(
            line["level"].is_string() && line["fields"]["message"].is_string(),
            "{line}"
        );
    }
    let audit = lines
        .iter()
        .find(|l| l["target"] == "audit" && l["fields"]["event"] == "login_failed")
        .unwrap_or_else(|| panic!("no audit line for the failed sign-in: {json}"));
    assert_eq!(audit["fields"]["login"], "nobody", "{audit}");
}
