//! `GET /healthz`, and the answer of an API route that does not exist.

use crate::error::AppError;
use crate::services::write_health::WriteHealth;
use crate::store::{self, Db};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use std::sync::Arc;

/// `GET /healthz`: whether the server can reach its database and store writes.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses(
        (status = 200, description = "The database answers and takes writes.", body = String, content_type = "text/plain", example = "ok"),
        (status = 503, description = "The database does not answer, or writes are failing (the body says why: `writes failing: the database's disk is full`).", body = String, content_type = "text/plain"),
    ),
    security(())
)]
pub async fn healthz(
    State(db): State<Db>,
    State(writes): State<Arc<WriteHealth>>,
) -> impl IntoResponse {
    if let Some(failing) = writes.current() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("writes failing: {}", failing.trouble.explain()),
        );
    }
    if store::healthy(&db).await {
        (StatusCode::OK, "ok".to_owned())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "database unreachable".to_owned(),
        )
    }
}

pub async fn not_found() -> AppError {
    AppError::NotFound("no such API route".to_owned())
}
