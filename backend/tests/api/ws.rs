//! `/ws`: hello, snapshot, deltas in sequence, heartbeats, resync on request, close on
//! shutdown.

use crate::support::TestServer;
use futures_util::{SinkExt, StreamExt};
use shared::PROTOCOL_VERSION;
use shared::wall::{Applied, Mirror, Scope, ServerMsg};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next protocol message; fails the test after five seconds of silence.
async fn next(ws: &mut Ws) -> ServerMsg {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame within 5 s")
            .expect("the stream is open")
            .expect("a valid frame");
        if let Message::Text(text) = msg {
            return serde_json::from_str(&text).expect("a protocol message");
        }
    }
}

/// Connects and reads the hello and the snapshot, returning a mirror of the state.
async fn open_wall(server: &TestServer) -> (Ws, Mirror) {
    open_scope(server, "city").await
}

/// Connects to one scope and reads the hello and the snapshot.
async fn open_scope(server: &TestServer, scope: &str) -> (Ws, Mirror) {
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws?scope={scope}", server.addr))
            .await
            .expect("WebSocket handshake");
    let mut mirror = Mirror::default();
    let hello = next(&mut ws).await;
    match &hello {
        ServerMsg::Hello {
            protocol, scope: s, ..
        } => {
            assert_eq!(*protocol, PROTOCOL_VERSION);
            assert_eq!(s.to_string(), scope);
        }
        other => panic!("expected hello, got {other:?}"),
    }
    mirror.apply(&hello);
    let snapshot = next(&mut ws).await;
    assert!(
        matches!(snapshot, ServerMsg::Snapshot { .. }),
        "{snapshot:?}"
    );
    assert_eq!(mirror.apply(&snapshot), Applied::Updated);
    (ws, mirror)
}

/// Applies frames until the mirror has folded transition `seq`; every frame must apply
/// without a gap.
async fn follow_to(ws: &mut Ws, mirror: &mut Mirror, seq: u64) {
    while mirror.log_seq < seq {
        let msg = next(ws).await;
        let applied = mirror.apply(&msg);
        assert_ne!(
            applied,
            Applied::Gap,
            "gap at {:?} with {msg:?}",
            mirror.seq
        );
        if let ServerMsg::Delta { prev_seq, .. } = msg {
            assert_eq!(
                applied,
                Applied::Updated,
                "delta after {prev_seq} did not apply"
            );
        }
    }
}

#[tokio::test]
async fn a_report_reaches_every_wall_as_a_delta_in_sequence() {
    let server = TestServer::start().await;
    server.report("已有的案件").await;
    let (mut a, mut mirror_a) = open_wall(&server).await;
    let (mut b, mut mirror_b) = open_wall(&server).await;
    assert_eq!(mirror_a.log_seq, 1);
    assert_eq!(mirror_a.state.counters.reported_today, 1);

    let mut last = 0;
    for i in 0..20 {
        last = server.report(&format!("新案件 {i}")).await["seq"]
            .as_u64()
            .expect("seq");
    }
    follow_to(&mut a, &mut mirror_a, last).await;
    follow_to(&mut b, &mut mirror_b, last).await;
    assert_eq!(mirror_a, mirror_b);
    assert_eq!(mirror_a.state.counters.reported_today, 21);
    assert_eq!(mirror_a.state.counters.open, 21);
    server.stop().await;
}

#[tokio::test]
async fn a_heartbeat_arrives_every_second_with_the_latest_sequence() {
    let server = TestServer::start().await;
    let (mut ws, mut mirror) = open_wall(&server).await;
    let seq = server.report("心跳测试").await["seq"]
        .as_u64()
        .expect("seq");
    let mut heartbeats = 0;
    while heartbeats < 2 {
        let msg = next(&mut ws).await;
        if let ServerMsg::Heartbeat {
            log_seq,
            server_time_ms,
            ..
        } = msg
        {
            heartbeats += 1;
            assert!(server_time_ms > 0);
            assert!(log_seq <= seq);
        }
        assert_ne!(mirror.apply(&msg), Applied::Gap);
    }
    server.stop().await;
}

#[tokio::test]
async fn a_wall_that_asks_gets_a_fresh_snapshot() {
    let server = TestServer::start().await;
    let (mut ws, _) = open_wall(&server).await;
    let seq = server.report("补发快照").await["seq"]
        .as_u64()
        .expect("seq");
    ws.send(Message::Text(r#"{"type":"snapshot"}"#.into()))
        .await
        .expect("send");
    loop {
        if let ServerMsg::Snapshot { log_seq, state, .. } = next(&mut ws).await {
            // The snapshot is the state as last framed; once the report is framed, it holds it.
            if log_seq < seq {
                ws.send(Message::Text(r#"{"type":"snapshot"}"#.into()))
                    .await
                    .expect("send");
                continue;
            }
            assert_eq!(state.counters.reported_total, 1);
            break;
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn walls_are_told_when_the_server_goes_away() {
    let server = TestServer::start().await;
    let (mut ws, _) = open_wall(&server).await;
    server.stop().await;
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame,
            Ok(Some(Ok(_))) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(
        u16::from(close.expect("a close frame with a code").code),
        1001
    );
}

#[tokio::test]
async fn metrics_count_walls_frames_and_the_commit_to_send_latency() {
    let server = TestServer::start().await;
    let (mut ws, mut mirror) = open_wall(&server).await;
    let seq = server.report("指标").await["seq"].as_u64().expect("seq");
    follow_to(&mut ws, &mut mirror, seq).await;
    let res = server.get("/metrics").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain")
    );
    let text = res.text().await.expect("metrics");
    let value = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("{name} missing from\n{text}"))
            .parse()
            .expect("a number")
    };
    assert_eq!(value("gridwall_ws_clients{scope=\"city\"}"), 1.0);
    assert_eq!(value("gridwall_transitions_committed_total"), 1.0);
    assert_eq!(value("gridwall_transitions_folded_total"), 1.0);
    // Hello, snapshot and at least the delta.
    assert!(value("gridwall_ws_frames_sent_total") >= 3.0);
    assert!(value("gridwall_ws_bytes_sent_total") > 0.0);
    assert!(value("gridwall_commit_to_send_seconds_count") >= 1.0);
    drop(ws);
    server.stop().await;
}

/// Connects with `?stream=…&since=…` and reads the hello.
async fn resume_wall(server: &TestServer, stream: &str, since: u64) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!(
        "ws://{}/ws?stream={stream}&since={since}",
        server.addr
    ))
    .await
    .expect("WebSocket handshake");
    assert!(matches!(next(&mut ws).await, ServerMsg::Hello { .. }));
    ws
}

#[tokio::test]
async fn a_wall_that_comes_back_gets_only_what_it_missed() {
    let server = TestServer::start().await;
    server.report("离线前").await;
    let (ws, mut mirror) = open_wall(&server).await;
    let left_at = mirror.seq.expect("seq");
    let stream = mirror.stream.clone().expect("a stream");
    drop(ws);

    let mut last = 0;
    for i in 0..3 {
        last = server.report(&format!("离线时 {i}")).await["seq"]
            .as_u64()
            .expect("seq");
    }
    // Another wall sees the last frame go out, so the hub has sent (and kept) all of them.
    let (mut other, mut other_mirror) = open_wall(&server).await;
    follow_to(&mut other, &mut other_mirror, last).await;

    let mut back = resume_wall(&server, &stream, left_at).await;
    while mirror.log_seq < last {
        let msg = next(&mut back).await;
        assert!(
            !matches!(msg, ServerMsg::Snapshot { .. }),
            "a resuming wall got a snapshot"
        );
        assert_ne!(mirror.apply(&msg), Applied::Gap, "{msg:?}");
    }
    assert_eq!(
        mirror, other_mirror,
        "the resumed wall equals a wall that never left"
    );

    // A wall from another stream (an earlier run), or one ahead of the server, starts again
    // from a snapshot.
    for (stream, since) in [
        ("0123456789abcdef", left_at),
        (stream.as_str(), left_at + 100),
    ] {
        let mut ws = resume_wall(&server, stream, since).await;
        assert!(
            matches!(next(&mut ws).await, ServerMsg::Snapshot { .. }),
            "stream {stream}, since {since}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_district_or_street_wall_gets_its_own_area() {
    let server = TestServer::start().await;
    let (mut city, mut city_mirror) = open_scope(&server, "city").await;
    let (mut district, mut district_mirror) = open_scope(&server, "district:SR").await;
    let (mut street, mut street_mirror) = open_scope(&server, "street:SR01").await;
    let seq = server.report("街道大屏").await["seq"]
        .as_u64()
        .expect("seq");
    follow_to(&mut city, &mut city_mirror, seq).await;
    follow_to(&mut district, &mut district_mirror, seq).await;
    follow_to(&mut street, &mut street_mirror, seq).await;
    for mirror in [&city_mirror, &district_mirror, &street_mirror] {
        assert_eq!(mirror.state.counters.reported_today, 1);
        assert_eq!(mirror.state.by_grid["SR-01-001"].open, 1);
    }
    // The sample city's district holds every grid, so its housing is the city's.
    assert_eq!(district_mirror.state.people, city_mirror.state.people);
    assert!(city_mirror.state.people.residents > 0);
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_or_malformed_scope_is_refused_with_its_name() {
    let server = TestServer::start().await;
    for (scope, status, field) in [("district:XX", 404, None), ("town:1", 422, Some("scope"))] {
        let err =
            tokio_tungstenite::connect_async(format!("ws://{}/ws?scope={scope}", server.addr))
                .await
                .expect_err("the upgrade is refused");
        let tokio_tungstenite::tungstenite::Error::Http(res) = err else {
            panic!("expected an HTTP refusal, got {err:?}");
        };
        assert_eq!(res.status().as_u16(), status, "{scope}");
        let body: serde_json::Value =
            serde_json::from_slice(res.body().as_deref().expect("a body")).expect("error JSON");
        if let Some(field) = field {
            assert_eq!(body["error"]["field"], field);
        } else {
            assert_eq!(
                body["error"]["message"],
                format!("there is no {scope} in the city")
            );
        }
    }
    let res = server.get("/api/wall?scope=street:NOPE").await;
    assert_eq!(res.status(), 404);
    server.stop().await;
}

/// A wall as a task: keeps a mirror, asks for a snapshot on a gap, and reconnects (resuming
/// where it left off) whenever its connection ends, to whatever address the server has now.
struct Wall {
    mirror: std::sync::Arc<std::sync::Mutex<Mirror>>,
    paused: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

fn spawn_wall(addr: std::sync::Arc<std::sync::Mutex<std::net::SocketAddr>>) -> Wall {
    let mirror = std::sync::Arc::new(std::sync::Mutex::new(Mirror::default()));
    let (paused, mut pause) = tokio::sync::watch::channel(false);
    let m = mirror.clone();
    let task = tokio::spawn(async move {
        loop {
            let url = {
                let at = *addr.lock().expect("address");
                let mirror = m.lock().expect("mirror");
                match (&mirror.stream, mirror.seq) {
                    (Some(stream), Some(seq)) => {
                        format!("ws://{at}/ws?stream={stream}&since={seq}")
                    }
                    _ => format!("ws://{at}/ws"),
                }
            };
            let Ok((mut ws, _)) = tokio_tungstenite::connect_async(&url).await else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            loop {
                // A paused wall stops reading its socket, as a frozen browser tab would.
                while *pause.borrow() {
                    if pause.changed().await.is_err() {
                        return;
                    }
                }
                let Some(Ok(msg)) = ws.next().await else {
                    break;
                };
                let Message::Text(text) = msg else { continue };
                let msg: ServerMsg = serde_json::from_str(&text).expect("a protocol message");
                let gap = m.lock().expect("mirror").apply(&msg) == Applied::Gap;
                if gap
                    && ws
                        .send(Message::Text(r#"{"type":"snapshot"}"#.into()))
                        .await
                        .is_err()
                {
                    break;
                }
            }
        }
    });
    Wall {
        mirror,
        paused,
        task,
    }
}

/// Reports `n` cases, `concurrency` at a time, spread over the sample city's grids and a few
/// sub-items so that hotspots and surges have something to find.
async fn storm(server: &TestServer, n: usize, concurrency: usize) {
    use futures_util::stream::StreamExt as _;
    let grids = ["SR-01-001", "SR-01-002", "SR-01-003", "SR-01-004"];
    let items = ["0801", "0803", "0806"];
    futures_util::stream::iter(0..n)
        .map(|i| {
            let body = serde_json::json!({
                "category": "municipal_facilities",
                "sub_item": items[i % items.len()],
                "grid_id": grids[i % grids.len()],
                "description": format!("告警风暴 {i}"),
            });
            async move {
                let res = server.post_json("/api/cases", &body).await;
                assert_eq!(res.status(), 201);
            }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<()>>()
        .await;
}

#[tokio::test]
async fn walls_stay_in_step_through_a_storm_a_restart_and_a_stalled_wall() {
    let server = TestServer::start().await;
    let addr = std::sync::Arc::new(std::sync::Mutex::new(server.addr));
    let walls: Vec<Wall> = (0..40).map(|_| spawn_wall(addr.clone())).collect();
    let stalled = &walls[0];
    // Wait until every wall has its first snapshot.
    let all_have_state = |walls: &[Wall]| {
        walls
            .iter()
            .all(|w| w.mirror.lock().expect("mirror").seq.is_some())
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !all_have_state(&walls) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "walls did not connect"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stalled.paused.send_replace(true);
    storm(&server, 300, 8).await;

    // Restart on the same address: the walls come back by themselves.
    let at = server.addr;
    let db = server.stop().await;
    let server = TestServer::start_at(db, at).await;
    storm(&server, 200, 8).await;
    stalled.paused.send_replace(false);

    // Quiet now: every wall must reach the server's position and hold exactly its state.
    let wall: serde_json::Value = server.get("/api/wall").await.json().await.expect("wall");
    let log_seq = wall["log_seq"].as_u64().expect("log_seq");
    let state: shared::wall::WallState =
        serde_json::from_value(wall["state"].clone()).expect("a wall state");
    assert_eq!(state.counters.reported_total, 500);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    for (i, w) in walls.iter().enumerate() {
        loop {
            let mirror = w.mirror.lock().expect("mirror").clone();
            if mirror.log_seq == log_seq && mirror.state == state {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "wall {i} is at {} of {log_seq}: {:?}",
                mirror.log_seq,
                mirror.state.changes_since(&state)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    for w in walls {
        w.task.abort();
    }
    server.stop().await;
}

#[tokio::test]
async fn outside_demo_mode_a_wall_needs_a_token_that_opens_its_scope() {
    let db = crate::support::TestDb::new(crate::support::Store::Sqlite).await;
    let pool = backend::store::connect(&db.url).await.expect("open");
    backend::store::city::install(&pool, &backend::store::city::sample_areas())
        .await
        .expect("install the sample city");
    let district =
        backend::services::tokens::create(&pool, &Scope::District("SR".into()), "区中心")
            .await
            .expect("a token");
    let city = backend::services::tokens::create(&pool, &Scope::City, "市中心")
        .await
        .expect("a token");
    pool.close().await;
    let mut config = backend::config::Config::new(db.url.clone());
    config.walls_open = false;
    let server = TestServer::start_configured(db, config).await;
    // A client with no login, since the test server's own client signs as the leader, whose
    // login opens every wall.
    let status = |path: String| {
        let server = &server;
        async move {
            reqwest::get(server.url(&path))
                .await
                .expect("GET")
                .status()
                .as_u16()
        }
    };
    assert_eq!(status("/api/wall".into()).await, 401);
    assert_eq!(status("/api/wall?token=nonsense".into()).await, 401);
    assert_eq!(
        status(format!("/api/wall?scope=district:SR&token={district}")).await,
        200
    );
    assert_eq!(
        status(format!("/api/wall?scope=street:SR01&token={district}")).await,
        200
    );
    assert_eq!(
        status(format!("/api/wall?scope=city&token={district}")).await,
        403
    );
    assert_eq!(
        status(format!("/api/wall?scope=street:SR01&token={city}")).await,
        200
    );
    let res = server
        .http
        .get(server.url("/api/wall?scope=district:SR"))
        .bearer_auth(&district)
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), 200);
    // The stream refuses the upgrade with the same answers.
    let err = tokio_tungstenite::connect_async(format!(
        "ws://{}/ws?scope=city&token={district}",
        server.addr
    ))
    .await
    .expect_err("refused");
    assert!(
        matches!(&err, tokio_tungstenite::tungstenite::Error::Http(res) if res.status() == 403),
        "{err:?}"
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(format!(
        "ws://{}/ws?scope=street:SR01&token={district}",
        server.addr
    ))
    .await
    .expect("a street wall with its district's token");
    assert!(matches!(next(&mut ws).await, ServerMsg::Hello { .. }));
    server.stop().await;
}
