//! `GET /healthz`.

use crate::support::TestServer;

#[tokio::test]
async fn healthz_answers_ok_when_the_database_is_reachable() {
    let server = TestServer::start().await;
    let res = server.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.expect("body"), "ok");
    server.stop().await;
}
