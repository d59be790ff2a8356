//! The wall's state over HTTP: `GET /api/wall` (now) and `GET /api/wall/at` (a past moment).

use crate::error::AppError;
use crate::http::extract::{ApiQuery, parse_scope, token_of};
use crate::services::live::Hub;
use axum::Json;
use axum::extract::State;
use shared::case::ApiError;
use shared::wall::{PastWallView, WallView};
use std::sync::Arc;

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WallQuery {
    /// `city` (the default), `district:CODE` or `street:CODE`.
    pub scope: Option<String>,
    /// A display token, for walls outside demo mode.
    pub token: Option<String>,
}

/// `GET /api/wall?scope=`: a scope's live state, everything committed so far folded in.
#[utoipa::path(
    get,
    path = "/api/wall",
    tag = "wall",
    params(WallQuery),
    responses(
        (status = 200, description = "The scope's state now.", body = WallView),
        (status = 400, description = "An unknown query parameter.", body = ApiError),
        (status = 401, description = "Walls need a display token here (outside demo mode) and none was given.", body = ApiError),
        (status = 403, description = "The token does not open this scope.", body = ApiError),
        (status = 404, description = "There is no such district or street.", body = ApiError),
        (status = 422, description = "`scope` is not `city`, `district:CODE` or `street:CODE`.", body = ApiError),
        (status = 503, description = "The live hub has stopped.", body = ApiError),
        (status = 500, description = "The server failed (database or photo storage); the log has the details, the body does not.", body = ApiError),
    ),
    security((), ("display_token" = []), ("bearer" = []))
)]
pub async fn wall_state(
    State(hub): State<Hub>,
    State(access): State<Arc<crate::services::tokens::Access>>,
    headers: axum::http::HeaderMap,
    ApiQuery(q): ApiQuery<WallQuery>,
) -> Result<Json<WallView>, AppError> {
    let scope = parse_scope(q.scope.as_deref())?;
    access
        .check(token_of(q.token.as_deref(), &headers).as_deref(), &scope)
        .await?;
    let current = hub
        .current(scope.clone())
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))?
        .ok_or_else(|| AppError::NotFound(format!("there is no {scope} in the city")))?;
    Ok(Json(WallView {
        scope,
        seq: current.seq,
        log_seq: current.log_seq,
        visit_seq: current.visit_seq,
        server_time_ms: crate::clock::now_ms(),
        state: current.state,
    }))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WallAtQuery {
    /// `city` (the default), `district:CODE` or `street:CODE`.
    pub scope: Option<String>,
    /// The moment, in Unix milliseconds; not in the future.
    pub at: Option<i64>,
    /// A display token, for walls outside demo mode.
    pub token: Option<String>,
}

/// `GET /api/wall/at?scope=&at=`: a scope's wall as it stood at a past moment.
#[utoipa::path(
    get,
    path = "/api/wall/at",
    tag = "wall",
    params(WallAtQuery),
    responses(
        (status = 200, description = "The scope's state at the moment.", body = PastWallView),
        (status = 400, description = "`at` is missing or in the future, or an unknown query parameter.", body = ApiError),
        (status = 401, description = "Walls need a display token here (outside demo mode) and none was given.", body = ApiError),
        (status = 403, description = "The token does not open this scope.", body = ApiError),
        (status = 404, description = "There is no such district or street.", body = ApiError),
        (status = 422, description = "`scope` is not `city`, `district:CODE` or `street:CODE`.", body = ApiError),
        (status = 500, description = "The server failed (database or photo storage); the log has the details, the body does not.", body = ApiError),
    ),
    security((), ("display_token" = []), ("bearer" = []))
)]
pub async fn wall_at(
    State(history): State<Arc<crate::services::live::history::History>>,
    State(access): State<Arc<crate::services::tokens::Access>>,
    headers: axum::http::HeaderMap,
    ApiQuery(q): ApiQuery<WallAtQuery>,
) -> Result<Json<PastWallView>, AppError> {
    let scope = parse_scope(q.scope.as_deref())?;
    access
        .check(token_of(q.token.as_deref(), &headers).as_deref(), &scope)
        .await?;
    let at_ms = q.at.ok_or_else(|| {
        AppError::bad_parameter(
            "at",
            "the moment to look back to is missing (Unix milliseconds)",
        )
    })?;
    let at_ms = crate::http::extract::moment("at", at_ms)?;
    let now = crate::clock::now_ms();
    if at_ms > now {
        return Err(AppError::bad_parameter(
            "at",
            format!(
                "{at_ms} is in the future (the server's time is {now}); the wall shows the present at /api/wall"
            ),
        ));
    }
    if !history.knows(&scope).await? {
        return Err(AppError::NotFound(format!(
            "there is no {scope} in the city"
        )));
    }
    let began = std::time::Instant::now();
    let past = history.state_at(&scope, at_ms).await?;
    let elapsed_ms = began.elapsed().as_millis() as u64;
    tracing::debug!(%scope, at_ms, folded = past.folded, elapsed_ms, "looked back");
    Ok(Json(PastWallView {
        scope,
        at_ms,
        log_seq: past.log_seq,
        visit_seq: past.visit_seq,
        checkpoint_log_seq: past.checkpoint_log_seq,
        folded: past.folded,
        elapsed_ms,
        state: past.state,
    }))
}
