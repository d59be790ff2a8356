//! `/`, `/field`, `/seat`, `/assets/style.css` and `/pkg/*`: the wall, the field page and the
//! seat page embedded in the binary.

use crate::support::TestServer;
use std::io::Read;

#[tokio::test]
async fn the_page_loads_the_bundle_that_the_server_serves() {
    let server = TestServer::start().await;
    let page = server.get("/").await;
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    let html = page.text().await.expect("page");
    assert!(html.contains("/pkg/frontend.js"), "{html}");
    assert!(html.contains("/assets/style.css"), "{html}");

    let css = server.get("/assets/style.css").await;
    assert_eq!(css.status(), 200);
    assert!(css.text().await.expect("css").contains("data-state"));

    let js = server.get("/pkg/frontend.js").await;
    assert_eq!(js.status(), 200);
    // wasm-bindgen must keep the default module path, or the page stays blank.
    assert!(js.text().await.expect("js").contains("frontend_bg.wasm"));
    server.stop().await;
}

#[tokio::test]
async fn the_bundle_is_wasm_and_gzipped_for_browsers_that_accept_it() {
    let server = TestServer::start().await;
    let plain = server.get("/pkg/frontend_bg.wasm").await;
    assert_eq!(plain.status(), 200);
    assert_eq!(plain.headers()["content-type"], "application/wasm");
    assert!(plain.headers().get("content-encoding").is_none());
    let wasm = plain.bytes().await.expect("wasm");
    assert_eq!(&wasm[..4], b"\0asm");

    let gz = server
        .http
        .get(server.url("/pkg/frontend_bg.wasm"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("GET");
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let etag = gz.headers()["etag"].clone();
    let packed = gz.bytes().await.expect("gzipped wasm");
    let mut unpacked = Vec::new();
    flate2::read::GzDecoder::new(&packed[..])
        .read_to_end(&mut unpacked)
        .expect("valid gzip");
    assert_eq!(unpacked, wasm);

    let again = server
        .http
        .get(server.url("/pkg/frontend_bg.wasm"))
        .header("if-none-match", etag)
        .send()
        .await
        .expect("GET");
    assert_eq!(again.status(), 304);
    server.stop().await;
}

#[tokio::test]
async fn the_field_page_loads_its_own_bundle_and_the_wall_does_not() {
    let server = TestServer::start().await;
    let wall = server.get("/").await.text().await.expect("the wall's page");
    assert!(!wall.contains("/pkg/field.js"), "{wall}");
    let field = server.get("/field").await;
    assert_eq!(field.status(), 200);
    assert!(
        field.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    let html = field.text().await.expect("the field page");
    assert!(html.contains("/pkg/field.js"), "{html}");
    assert!(!html.contains("/pkg/frontend.js"), "{html}");
    assert!(html.contains("/assets/style.css"), "{html}");

    let js = server.get("/pkg/field.js").await;
    assert_eq!(js.status(), 200);
    // wasm-bindgen must keep the default module path, or the page stays blank.
    assert!(js.text().await.expect("js").contains("field_bg.wasm"));

    let wasm = server.get("/pkg/field_bg.wasm").await;
    assert_eq!(wasm.status(), 200);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(&wasm.bytes().await.expect("wasm")[..4], b"\0asm");
    server.stop().await;
}

#[tokio::test]
async fn the_seat_page_loads_its_own_bundle_and_no_other_page_does() {
    let server = TestServer::start().await;
    for page in ["/", "/field"] {
        let html = server.get(page).await.text().await.expect("a page");
        assert!(!html.contains("/pkg/seat.js"), "{page}: {html}");
    }
    let seat = server.get("/seat").await;
    assert_eq!(seat.status(), 200);
    let html = seat.text().await.expect("the seat page");
    assert!(html.contains("/pkg/seat.js"), "{html}");
    assert!(!html.contains("/pkg/frontend.js"), "{html}");
    assert!(!html.contains("/pkg/field.js"), "{html}");

    let js = server.get("/pkg/seat.js").await;
    assert_eq!(js.status(), 200);
    // wasm-bindgen must keep the default module path, or the page stays blank.
    assert!(js.text().await.expect("js").contains("seat_bg.wasm"));
    let wasm = server.get("/pkg/seat_bg.wasm").await;
    assert_eq!(wasm.status(), 200);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(&wasm.bytes().await.expect("wasm")[..4], b"\0asm");
    server.stop().await;
}
