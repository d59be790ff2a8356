//! The security headers of every response: what a browser may load into the pages (a
//! Content-Security-Policy with no inline script), who may frame them, what a link tells the
//! next site, and no guessing of content types.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::middleware::Next;
use axum::response::Response;

/// The pages' policy. Scripts only from the server itself (`/assets/start.js` and the
/// bundles), with WebAssembly allowed to compile; connections (the API and the WebSocket
/// streams) only to the server; images from it and from `data:`/`blob:` URLs (the photos a
/// field page previews before sending); no plugins; framed only by pages of the same server
/// (a centre's portal on another origin must link, not frame). Styles allow inline
/// attributes, which the pages set on elements (`style=`), but no inline `<style>` is needed.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'self'; \
     script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; \
     connect-src 'self'; \
     font-src 'self'; \
     object-src 'none'; \
     base-uri 'none'; \
     form-action 'self'; \
     frame-ancestors 'self'";

/// Adds the headers to every response; the policy and the framing rule to pages only.
pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // A case's address in a URL must not travel to another site with a click.
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    let is_page = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_page {
        headers.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE),
        );
        // For browsers that predate `frame-ancestors`.
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    }
    response
}
