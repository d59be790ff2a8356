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
