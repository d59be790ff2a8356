//! A cap on the anonymous routes (maps, Open311 reads, the team's headcount, metrics): at most
//! [`ANONYMOUS_AT_ONCE`] of their requests run at once, and one more is answered 429 with
//! `Retry-After` at once rather than queued, so that a flood of them cannot starve the walls,
//! the seats and the writes, which are not capped. The refusal is spelled as the route's own
//! errors are: the API's one error shape, or Open311's (`open311::refusal`).

use crate::error::AppError;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Anonymous requests one server answers at once.
pub const ANONYMOUS_AT_ONCE: usize = 32;

/// The permits shared by every capped route of one server.
#[derive(Debug, Clone)]
pub struct Cap(Arc<Semaphore>);

impl Cap {
    pub fn new(at_once: usize) -> Cap {
        Cap(Arc::new(Semaphore::new(at_once)))
    }
}

/// How a capped route spells its refusal, given the request it refuses.
pub type Refuse = fn(&Request, AppError) -> Response;

/// The refusal in the API's one error shape.
pub fn api_refusal(_request: &Request, err: AppError) -> Response {
    err.into_response()
}

/// `route`, answered only while a permit of `cap` is free; refused by `refuse` otherwise.
pub fn capped<S: Clone + Send + Sync + 'static>(
    route: MethodRouter<S>,
    cap: &Cap,
    refuse: Refuse,
) -> MethodRouter<S> {
    let permits = Arc::clone(&cap.0);
    route.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| {
            let permits = Arc::clone(&permits);
            async move { answer(&permits, refuse, request, next).await }
        },
    ))
}

async fn answer(
    permits: &Arc<Semaphore>,
    refuse: Refuse,
    request: Request,
    next: Next,
) -> Response {
    match Arc::clone(permits).try_acquire_owned() {
        Ok(permit) => {
            let response = next.run(request).await;
            drop(permit);
            response
        }
        Err(_) => {
            let err = AppError::TooManyRequests {
                retry_after_s: 1,
                message: format!(
                    "the server is answering {ANONYMOUS_AT_ONCE} requests of this kind already; \
                     try again in a second"
                ),
            };
            refuse(&request, err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tokio::sync::Notify;
    use tower::ServiceExt;

    #[tokio::test]
    async fn past_the_cap_a_request_is_refused_at_once_and_then_served_again() {
        let release = Arc::new(Notify::new());
        let entered = Arc::new(Notify::new());
        let (r, e) = (Arc::clone(&release), Arc::clone(&entered));
        let slow = get(move || {
            let (r, e) = (Arc::clone(&r), Arc::clone(&e));
            async move {
                e.notify_one();
                r.notified().await;
                "done"
            }
        });
        let app = Router::new().route("/", capped(slow, &Cap::new(1), api_refusal));
        let request = || Request::get("/").body(Body::empty()).expect("a request");
        let first = tokio::spawn(app.clone().oneshot(request()));
        entered.notified().await;
        let refused = app.clone().oneshot(request()).await.expect("an answer");
        assert_eq!(refused.status(), 429);
        assert_eq!(
            refused.headers().get("retry-after").map(|v| v.as_bytes()),
            Some(&b"1"[..])
        );
        release.notify_one();
        let served = first.await.expect("the first").expect("an answer");
        assert_eq!(served.status(), 200);
        // The permit is back: the next request is served.
        let next = tokio::spawn(app.clone().oneshot(request()));
        entered.notified().await;
        release.notify_one();
        assert_eq!(
            next.await.expect("joined").expect("an answer").status(),
            200
        );
    }
}
