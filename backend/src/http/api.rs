//! The HTTP JSON API: reporting and moving cases, reading the wall's state, and health.

use crate::error::AppError;
use crate::http::extract::{ApiPath, ApiQuery, JsonBody, parse_scope, token_of};
use crate::http::photos::WithPhotos;
use crate::services::auth::{Auth, Caller, Credential, signed_out};
use crate::services::cases::Cases;
use crate::services::live::Hub;
use crate::store::{self, Db};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use shared::auth::{AccountView, LoginRequest, LoginResponse};
use shared::case::{Action, ApiError, CaseList, CaseView, MoveCase, ReportCase};
use shared::team::TeamView;
use shared::wall::{PastWallView, WallView};
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
        (status = 500, description = "The server failed (database or photo storage); the log has the details, the body does not.", body = ApiError),
    ),
    security(())
)]
pub async fn login(
    State(auth): State<Arc<Auth>>,
    JsonBody(req): JsonBody<LoginRequest>,
) -> Result<Json<LoginResponse>, AppError> {
    Ok(Json(auth.login(&req).await?))
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
    match Credential::of_headers(&headers) {
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
    let credential = Credential::of_headers(&headers).ok_or_else(signed_out)?;
    Ok(Json(auth.me(&credential).await?))
}

/// `POST /api/cases`: a report as JSON, or as multipart with its before photos. The caller
/// is extracted before the body, so an anonymous upload is refused before it is read.
#[utoipa::path(
    post,
    path = "/api/cases",
    tag = "cases",
    description = "Reports a case: the JSON body alone, or `multipart/form-data` with the same \
        JSON in a part named `case` and up to six parts named `photo` (JPEG, PNG or WebP, \
        recognised by their bytes). Nothing is stored unless every check passes.",
    request_body(content(
        (ReportCase = "application/json"),
        (crate::http::photos::ReportForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "The case as reported, in state `reported`, its photos listed.", body = CaseView),
        (status = 400, description = "The body is not JSON, or the form cannot be read.", body = ApiError),
        (status = 401, description = "No credential, or one that does not work; the body is not read.", body = ApiError),
        (status = 403, description = "The caller's role does not report, or not in that grid.", body = ApiError),
        (status = 413, description = "A photo or the body is past its size limit; `field` names the part.", body = ApiError),
        (status = 415, description = "Neither JSON nor multipart, or a photo that is not JPEG, PNG or WebP; `field` names the part.", body = ApiError),
        (status = 422, description = "A field is missing or wrong (unknown category, a point outside the city…); `field` names it.", body = ApiError),
        (status = 503, description = "The server is shutting down.", body = ApiError),
        (status = 500, description = "The server failed (database or photo storage); the log has the details, the body does not.", body = ApiError),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn report_case(
    State(cases): State<Cases>,
    Caller(who): Caller,
    WithPhotos { body: req, photos }: WithPhotos<ReportCase>,
) -> Result<(StatusCode, Json<CaseView>), AppError> {
    let view = cases.report(req, who, photos).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// `GET /api/cases?view=&state=&limit=`: the cases the caller may see, filtered to its work
/// (its own by default), newest report first.
#[utoipa::path(
    get,
    path = "/api/cases",
    tag = "cases",
    params(crate::services::cases::ListQuery),
    responses(
        (status = 200, description = "The caller's cases in the chosen view, newest report first; `more` says whether the limit cut the list.", body = CaseList),
        (status = 400, description = "A bad `view` (unknown, or not one of the caller's role), `state` or `limit` (1 to 200), or an unknown parameter; `field` names it.", body = ApiError),
        (status = 401, description = "No credential, or one that does not work.", body = ApiError),
        (status = 500, description = "The server failed (database); the log has the details, the body does not.", body = ApiError),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list_cases(
    State(cases): State<Cases>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<crate::services::cases::ListQuery>,
) -> Result<Json<CaseList>, AppError> {
    Ok(Json(cases.list_for(&who, &q).await?))
}

/// `GET /api/cases/{id}`: one case as it stands, for a caller who may see it.
#[utoipa::path(
    get,
    path = "/api/cases/{id}",
    tag = "cases",
    params(("id" = i64, Path, description = "The case's id.")),
    responses(
        (status = 200, description = "The case.", body = CaseView),
        (status = 400, description = "The id is not a number.", body = ApiError),
        (status = 401, description = "No credential, or one that does not work.", body = ApiError),
        (status = 403, description = "The case is outside what the caller may see.", body = ApiError),
        (status = 404, description = "There is no such case.", body = ApiError),
        (status = 500, description = "The server failed (database or photo storage); the log has the details, the body does not.", body = ApiError),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn get_case(
    State(cases): State<Cases>,
    Caller(who): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CaseView>, AppError> {
    Ok(Json(cases.get_for(id, &who).await?))
}

/// `GET /api/cases/{id}/moves`: a case's timeline, every move from its report on, with who
/// made it, when, its note and its photos, for a caller who may see the case.
#[utoipa::path(
    get,
    path = "/api/cases/{id}/moves",
    tag = "cases",
    params(("id" = i64, Path, description = "The case's id.")),
    responses(
        (status = 200, description = "The case's moves, oldest first.", body = Vec<shared::case::CaseMove>),
        (status = 400, description = "The id is not a number.", body = ApiError),
        (status = 401, description = "No credential, or one that does not work.", body = ApiError),
        (status = 403, description = "The case is outside what the caller may see.", body = ApiError),
        (status = 404, description = "There is no such case.", body = ApiError),
        (status = 500, description = "The server failed (database or photo storage); the log has the details, the body does not.", body = ApiError),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn case_moves(
    State(cases): State<Cases>,
    Caller(who): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<shared::case::CaseMove>>, AppError> {
    Ok(Json(cases.moves_for(id, &who).await?))
}

/// `POST /api/cases/{id}/moves`: a move as JSON, or as multipart with its photos (the after
/// photo of a resolution, the photo of a verification). The caller comes before the body, as
/// for a report.
#[utoipa::path(
    post,
    path = "/api/cases/{id}/moves",
    tag = "cases",
    description = "Moves a case by one action of the state machine: the JSON body alone, or \
        `multipart/form-data` with the same JSON in a part named `move` and up to six parts \
        named `photo`. The watcher's `warn` and `supervise` are refused.",
    params(("id" = i64, Path, description = "The case's id.")),
    request_body(content(
        (MoveCase = "application/json"),
        (crate::http::photos::MoveForm = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "The case after the move.", body = CaseView),
        (status = 400, description = "The id is not a number, the body is not JSON, or the form cannot be read.", body = ApiError),
        (status = 401, description = "No credential, or one that does not work; the body is not read.", body = ApiError),
        (status = 403, description = "The caller's role does not make this move, or the case is outside its reach.", body = ApiError),
        (status = 404, description = "There is no such case.", body = ApiError),
        (status = 409, description = "The state machine does not allow the move from the case's state (`move_not_allowed`; the message lists the allowed moves).", body = ApiError),
        (status = 413, description = "A photo or the body is past its size limit; `field` names the part.", body = ApiError),
        (status = 415, description = "Neither JSON nor multipart, or a photo that is not JPEG, PNG or WebP; `field` names the part.", body = ApiError),
        (status = 422, description = "An unknown action, an unknown department…; `field` names it.", body = ApiError),
        (status = 503, description = "The server is shutting down.", body = ApiError),
        (status = 500, description = "The server failed (database or photo storage); the log has the details, the body does not.", body = ApiError),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn move_case(
    State(cases): State<Cases>,
    Caller(who): Caller,
    ApiPath(id): ApiPath<i64>,
    WithPhotos { body: req, photos }: WithPhotos<MoveCase>,
) -> Result<Json<CaseView>, AppError> {
    let action = Action::from_code(req.action.trim())
        .filter(|a| *a != Action::Report)
        .ok_or_else(|| {
            let known: Vec<&str> = Action::MOVES.iter().map(|a| a.code()).collect();
            AppError::invalid(
                "action",
                format!(
                    "unknown action `{}`; expected one of: {}",
                    req.action,
                    known.join(", ")
                ),
            )
        })?;
    if Action::WATCHER.contains(&action) {
        return Err(AppError::invalid(
            "action",
            format!("`{action}` is recorded by the time-limit watcher, not by hand"),
        ));
    }
    if action == Action::Urge && req.note.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(AppError::invalid(
            "note",
            "an urge says what the centre asks of the department: give a `note`",
        ));
    }
    Ok(Json(
        cases
            .apply(id, action, who, req.note, req.department, photos)
            .await?,
    ))
}

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
        .check(token_of(q.token.as_deref(), &headers), &scope)
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
        .check(token_of(q.token.as_deref(), &headers), &scope)
        .await?;
    let at_ms = q.at.ok_or_else(|| {
        AppError::bad_parameter(
            "at",
            "the moment to look back to is missing (Unix milliseconds)",
        )
    })?;
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
        (status = 400, description = "`at` is not a number.", body = ApiError),
        (status = 500, description = "The server failed (database or photo storage); the log has the details, the body does not.", body = ApiError),
    ),
    security(())
)]
pub async fn team(
    State(db): State<Db>,
    ApiQuery(q): ApiQuery<TeamQuery>,
) -> Result<Json<TeamView>, AppError> {
    let at = q.at.unwrap_or_else(crate::clock::now_ms);
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
