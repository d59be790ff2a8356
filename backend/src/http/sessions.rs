//! The session routes: `POST /api/login`, `POST /api/logout` and `GET /api/me`.

use crate::error::AppError;
use crate::http::extract::{ClientAddr, JsonBody};
use crate::http::extract::{credential_of, signed_out};
use crate::services::auth::{Auth, Credential};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shared::auth::{AccountView, LoginRequest, LoginResponse};
use shared::case::ApiError;
use std::sync::Arc;

/// `POST /api/login`: a password for a bearer token.
#[utoipa::path(
    post,
    path = "/api/login",
    tag = "accounts",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in: a bearer token for `Authorization: Bearer …` and its account.", body = LoginResponse),
        (status = 400, description = "The body is not JSON.", body = ApiError),
        (status = 401, description = "Unknown login or wrong password.", body = ApiError),
        (status = 403, description = "The account may not sign in (a demo account on a server that is not in demo mode).", body = ApiError),
        (status = 415, description = "The body is not `application/json`.", body = ApiError),
        (status = 422, description = "A field is missing or of the wrong type; `field` names it.", body = ApiError),
        (status = 429, description = "Too many attempts from this address (30 a minute), or the account is locked after 5 wrong passwords in 15 minutes; `Retry-After` says how many seconds to wait.", body = ApiError,
            headers(("Retry-After" = i64, description = "Seconds to wait before trying again."))),
        (status = 500, description = "The server failed (database or photo storage); the log has the details, the body does not.", body = ApiError),
    ),
    security(())
)]
pub async fn login(
    State(auth): State<Arc<Auth>>,
    client: ClientAddr,
    JsonBody(req): JsonBody<LoginRequest>,
) -> Result<Json<LoginResponse>, AppError> {
    Ok(Json(auth.login(&req, &client.0).await?))
}

/// `POST /api/logout`: ends the session of the bearer token.
#[utoipa::path(
    post,
    path = "/api/logout",
    tag = "accounts",
    responses(
        (status = 204, description = "The session is over; its token no longer works."),
        (status = 401, description = "No bearer token, or one that does not work.", body = ApiError),
        (status = 500, description = "The server failed (database or photo storage); the log has the details, the body does not.", body = ApiError),
    ),
    security(("bearer" = []))
)]
pub async fn logout(
    State(auth): State<Arc<Auth>>,
    headers: axum::http::HeaderMap,
) -> Result<StatusCode, AppError> {
    match credential_of(&headers) {
        Some(Credential::Bearer(token)) => {
            auth.logout(&token).await?;
            Ok(StatusCode::NO_CONTENT)
        }
        _ => Err(signed_out()),
    }
}

/// `GET /api/me`: who the credential belongs to and what it may do.
#[utoipa::path(
    get,
    path = "/api/me",
    tag = "accounts",
    responses(
        (status = 200, description = "The account (or the reporting app) behind the credential.", body = AccountView),
        (status = 401, description = "No credential, or one that does not work.", body = ApiError),
        (status = 403, description = "A demo account on a server that is not in demo mode.", body = ApiError),
        (status = 500, description = "The server failed (database or photo storage); the log has the details, the body does not.", body = ApiError),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn me(
    State(auth): State<Arc<Auth>>,
    headers: axum::http::HeaderMap,
) -> Result<Json<AccountView>, AppError> {
    let credential = credential_of(&headers).ok_or_else(signed_out)?;
    Ok(Json(auth.me(&credential).await?))
}
