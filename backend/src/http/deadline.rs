//! A deadline on every request's handling: a request the server has not answered within it
//! is given up with a 503 that says so, so that no request (a look back folding a long tail,
//! a briefing, a query on a struggling database) holds its connection and its client for
//! ever. Uploads get longer, since a phone on a slow link may take minutes to send six
//! photos; their stalls are cut off sooner by the body's idle timeout (`serve`).

use crate::error::AppError;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::routing::MethodRouter;
use std::time::Duration;

/// How long the server works on a request before it gives up.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(60);
/// The same for the routes that take photos.
pub const UPLOAD_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// `route`, given up with a 503 after `limit`.
pub fn within<S: Clone + Send + Sync + 'static>(
    route: MethodRouter<S>,
    limit: Duration,
) -> MethodRouter<S> {
    route.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| async move {
            let method = request.method().clone();
            let path = request.uri().path().to_owned();
            match tokio::time::timeout(limit, next.run(request)).await {
                Ok(response) => response,
                Err(_) => {
                    tracing::warn!(%method, path, limit_s = limit.as_secs_f64(), "a request passed its deadline and was given up");
                    AppError::TimedOut(limit).into_response()
                }
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_request_past_its_deadline_is_given_up_with_503() {
        let slow = get(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        });
        let quick = get(|| async { "on time" });
        let app: Router = Router::new()
            .route("/slow", within(slow, Duration::from_millis(50)))
            .route("/quick", within(quick, Duration::from_millis(50)));
        let answer = |path: &'static str| {
            let app = app.clone();
            async move {
                app.oneshot(Request::get(path).body(Body::empty()).expect("request"))
                    .await
                    .expect("response")
            }
        };
        let late = answer("/slow").await;
        assert_eq!(late.status(), 503);
        let body = axum::body::to_bytes(late.into_body(), 4096)
            .await
            .expect("body");
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("gave up"), "{text}");
        assert_eq!(answer("/quick").await.status(), 200);
    }
}
