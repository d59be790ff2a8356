//! The grid team's headcount: `GET /api/team`.

use crate::error::AppError;
use crate::http::extract::ApiQuery;
use crate::store::{self, Db};
use axum::Json;
use axum::extract::State;
use shared::case::ApiError;
use shared::team::TeamView;

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TeamQuery {
    /// Unix milliseconds; now when absent.
    pub at: Option<i64>,
}

/// `GET /api/team?at=MS`: the grid team's headcount by kind as of a moment.
#[utoipa::path(
    get,
    path = "/api/team",
    tag = "wall",
    params(TeamQuery),
    responses(
        (status = 200, description = "The headcount.", body = TeamView),
        (status = 400, description = "`at` is not a number, or not a moment from 2000 to 2100.", body = ApiError),
        (status = 500, description = "The server failed (database or photo storage); the log has the details, the body does not.", body = ApiError),
        (status = 429, description = "Too many anonymous requests at once (32 per server, with the maps, Open311's reads, `/api/team` and `/metrics`); `Retry-After` says when to try again.", body = ApiError),
    ),
    security(())
)]
pub async fn team(
    State(db): State<Db>,
    ApiQuery(q): ApiQuery<TeamQuery>,
) -> Result<Json<TeamView>, AppError> {
    let at = match q.at {
        Some(at) => crate::http::extract::moment("at", at)?,
        None => crate::clock::now_ms(),
    };
    let counts = store::city::headcount(&db, at).await?;
    let full_time = counts
        .iter()
        .find(|(kind, _)| kind == "grid_worker")
        .map_or(0, |(_, n)| *n);
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    Ok(Json(TeamView {
        at,
        full_time,
        co_governance: total - full_time,
        by_kind: counts.into_iter().collect(),
    }))
}
