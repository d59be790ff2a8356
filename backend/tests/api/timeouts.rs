//! Slow clients are timed out without hurting the others: headers that never end (slowloris)
//! and an upload that stalls half way.

use crate::support::{Store, TestServer};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A server that gives a client one second for its headers and between parts of a body.
async fn impatient() -> TestServer {
    TestServer::start_sample(Store::Sqlite, |c| {
        c.timeouts.header_read = Duration::from_secs(1);
        c.timeouts.body_idle = Duration::from_secs(1);
    })
    .await
}

/// Reads until the server closes the connection; what it said before closing.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut said = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(15), stream.read_to_end(&mut said)).await;
    assert!(
        read.is_ok(),
        "the server kept the slow connection open for 15 s"
    );
    String::from_utf8_lossy(&said).into_owned()
}

#[tokio::test]
async fn headers_that_never_end_are_cut_off_and_others_are_served_meanwhile() {
    let server = impatient().await;
    let mut slow = TcpStream::connect(server.addr).await.expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: gridwall\r\nX-Slow: ")
        .await
        .expect("the first bytes");
    // Another client is answered while the slow one dawdles.
    let res = server.get("/healthz").await;
    assert_eq!(res.status(), 200);
    let said = until_closed(&mut slow).await;
    // hyper answers a header timeout with 408 or simply closes; either way no 200.
    assert!(!said.contains(" 200 "), "{said}");
    server.stop().await;
}

#[tokio::test]
async fn an_upload_that_stalls_is_dropped() {
    let server = impatient().await;
    let mut slow = TcpStream::connect(server.addr).await.expect("connect");
    slow.write_all(
        b"POST /api/login HTTP/1.1\r\nHost: gridwall\r\nContent-Type: application/json\r\n\
          Content-Length: 1000\r\n\r\n{\"login\": \"lea",
    )
    .await
    .expect("half a body");
    let said = until_closed(&mut slow).await;
    if let Some(status) = said.split(' ').nth(1) {
        assert!(
            status.starts_with('4'),
            "a stalled body is the client's fault: {said}"
        );
    }
    let res = server.get("/healthz").await;
    assert_eq!(res.status(), 200);
    server.stop().await;
}

/// Reads a WebSocket until it ends; true when it ended within `within`.
async fn ends_within<S>(ws: &mut S, within: Duration) -> bool
where
    S: futures_util::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    use futures_util::StreamExt;
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return false,
            Ok(None | Some(Err(_))) => return true,
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_)))) => return true,
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// A wall and a seat that stop answering (not even the server's pings) are closed after the
/// idle time; a wall that keeps reading, which answers pings as browsers do, stays.
#[tokio::test]
async fn silent_websockets_are_closed_and_live_ones_stay() {
    use futures_util::StreamExt;
    let server = TestServer::start_sample(Store::Sqlite, |c| {
        c.timeouts.socket_idle = backend::http::socket::SocketIdle(Duration::from_secs(1));
    })
    .await;
    let url = |path: &str| format!("ws://{}{path}", server.addr);
    let (mut live, _) = tokio_tungstenite::connect_async(url("/ws"))
        .await
        .expect("a live wall");
    let (mut silent, _) = tokio_tungstenite::connect_async(url("/ws"))
        .await
        .expect("a silent wall");
    let (mut seat, _) =
        tokio_tungstenite::connect_async(url(&format!("/ws/seat?token={}", server.tokens.leader)))
            .await
            .expect("a silent seat");
    // The live wall reads (and so answers pings) for four idle spans; the others say nothing.
    let until = tokio::time::Instant::now() + Duration::from_secs(4);
    while tokio::time::Instant::now() < until {
        let read = tokio::time::timeout_at(until, live.next()).await;
        if let Ok(msg) = read {
            let msg = msg
                .expect("the live wall's stream stays open")
                .expect("a frame");
            assert!(
                !msg.is_close(),
                "the server closed a wall that answers its pings"
            );
        }
    }
    assert!(
        ends_within(&mut silent, Duration::from_secs(5)).await,
        "a wall that stayed silent for four idle spans is still connected"
    );
    assert!(
        ends_within(&mut seat, Duration::from_secs(5)).await,
        "a seat that stayed silent for four idle spans is still connected"
    );
    // The live wall still gets its heartbeats.
    let next = tokio::time::timeout(Duration::from_secs(3), live.next())
        .await
        .expect("a frame within 3 s")
        .expect("the stream is open")
        .expect("a frame");
    assert!(next.is_text() || next.is_ping(), "{next:?}");
    server.stop().await;
}
