//! `GET /healthz`, and the answer of an API route that does not exist.

use crate::error::AppError;
use crate::store::{self, Db};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

/// `GET /healthz`: whether the server can reach its database.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses(
        (status = 200, description = "The database answers.", body = String, content_type = "text/plain", example = "ok"),
        (status = 503, description = "The database does not answer.", body = String, content_type = "text/plain"),
    ),
    security(())
)]
pub async fn healthz(State(db): State<Db>) -> impl IntoResponse {
    if store::healthy(&db).await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}

pub async fn not_found() -> AppError {
    AppError::NotFound("no such API route".to_owned())
}
