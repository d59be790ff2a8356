//! The case routes: report (`POST /api/cases`), list, read one, its timeline, and move it.

use crate::error::AppError;
use crate::http::extract::Caller;
use crate::http::extract::{ApiPath, ApiQuery, CaseId};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::photos::WithPhotos;
use crate::services::cases::{Answered, Cases};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shared::case::{Action, ApiError, CaseList, CaseView, MoveCase, ReportCase};

/// `POST /api/cases`: a report as JSON, or as multipart with its before photos. The caller
/// is extracted before the body, so an anonymous upload is refused before it is read.
#[utoipa::path(
    post,
    path = "/api/cases",
    tag = "cases",
    description = "Reports a case: the JSON body alone, or `multipart/form-data` with the same \
        JSON in a part named `case` and up to six parts named `photo` (JPEG, PNG or WebP, \
        recognised by their bytes). Nothing is stored unless every check passes. With an \
        `Idempotency-Key`, a retry gets the first answer and stores nothing.",
    params(idempotency::IdempotencyKeyHeader),
    request_body(content(
        (ReportCase = "application/json"),
        (crate::http::photos::ReportForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "The case as reported, in state `reported`, its photos listed; or, for a retry with the same `Idempotency-Key`, the first answer again.", body = CaseView,
            headers(("Idempotent-Replayed" = String, description = "`true` when the answer is the one stored with the request's `Idempotency-Key`: nothing was written this time."))),
        (status = 400, description = "The body is not JSON, the form cannot be read, or the `Idempotency-Key` is not 1 to 255 visible ASCII characters (`field` names it).", body = ApiError),
        (status = 401, description = "No credential, or one that does not work; the body is not read.", body = ApiError),
        (status = 403, description = "The caller's role does not report, or not in that grid.", body = ApiError),
        (status = 413, description = "A photo or the body is past its size limit; `field` names the part.", body = ApiError),
        (status = 415, description = "Neither JSON nor multipart, or a photo that is not JPEG, PNG or WebP; `field` names the part.", body = ApiError),
        (status = 422, description = "A field is missing or wrong (unknown category, a point outside the city…), or the `Idempotency-Key` was used for a different request; `field` names it.", body = ApiError),
        (status = 503, description = "The server is shutting down, or cannot store writes now (`writes_failing`: its disk is full or its database read-only; the message says which). Nothing was stored; try again after `Retry-After` seconds.", body = ApiError),
        (status = 500, description = "The server failed (database or photo storage); the log has the details, the body does not.", body = ApiError),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn report_case(
    State(cases): State<Cases>,
    Caller(who): Caller,
    IdempotencyKey(key): IdempotencyKey,
    WithPhotos {
        body: req,
        photos,
        digest,
    }: WithPhotos<ReportCase>,
) -> Result<Response, AppError> {
    let claim = key
        .zip(digest)
        .map(|(key, body)| idempotency::claim(&who, idempotency::REPORT_ROUTE, key, None, body));
    let answered = cases.report_keyed(req, who, photos, claim).await?;
    Ok(answer(StatusCode::CREATED, answered))
}

/// A write's answer: `status` and the case, marked when it is the stored answer of an earlier
/// request, which gets the status the first one got.
fn answer(status: StatusCode, answered: Answered) -> Response {
    let mut response = (status, Json(answered.view)).into_response();
    idempotency::mark_replayed(&mut response, answered.replayed);
    response
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
    ApiPath(CaseId(id)): ApiPath<CaseId>,
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
    ApiPath(CaseId(id)): ApiPath<CaseId>,
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
        named `photo`. The watcher's `warn` and `supervise` are refused. With an \
        `Idempotency-Key`, a retry gets the first answer and moves nothing.",
    params(("id" = i64, Path, description = "The case's id."), idempotency::IdempotencyKeyHeader),
    request_body(content(
        (MoveCase = "application/json"),
        (crate::http::photos::MoveForm = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "The case after the move; or, for a retry with the same `Idempotency-Key`, the first answer again.", body = CaseView,
            headers(("Idempotent-Replayed" = String, description = "`true` when the answer is the one stored with the request's `Idempotency-Key`: nothing was written this time."))),
        (status = 400, description = "The id is not a number, the body is not JSON, the form cannot be read, or the `Idempotency-Key` is not 1 to 255 visible ASCII characters (`field` names it).", body = ApiError),
        (status = 401, description = "No credential, or one that does not work; the body is not read.", body = ApiError),
        (status = 403, description = "The caller's role does not make this move, or the case is outside its reach.", body = ApiError),
        (status = 404, description = "There is no such case.", body = ApiError),
        (status = 409, description = "The state machine does not allow the move from the case's state (`move_not_allowed`; the message lists the allowed moves).", body = ApiError),
        (status = 413, description = "A photo or the body is past its size limit; `field` names the part.", body = ApiError),
        (status = 415, description = "Neither JSON nor multipart, or a photo that is not JPEG, PNG or WebP; `field` names the part.", body = ApiError),
        (status = 422, description = "An unknown action, an unknown department…, or the `Idempotency-Key` was used for a different request; `field` names it.", body = ApiError),
        (status = 503, description = "The server is shutting down, or cannot store writes now (`writes_failing`: its disk is full or its database read-only; the message says which). Nothing was stored; try again after `Retry-After` seconds.", body = ApiError),
        (status = 500, description = "The server failed (database or photo storage); the log has the details, the body does not.", body = ApiError),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn move_case(
    State(cases): State<Cases>,
    Caller(who): Caller,
    ApiPath(CaseId(id)): ApiPath<CaseId>,
    IdempotencyKey(key): IdempotencyKey,
    WithPhotos {
        body: req,
        photos,
        digest,
    }: WithPhotos<MoveCase>,
) -> Result<Response, AppError> {
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
    let claim = key
        .zip(digest)
        .map(|(key, body)| idempotency::claim(&who, idempotency::MOVE_ROUTE, key, Some(id), body));
    let answered = cases
        .apply_keyed(id, action, who, req.note, req.department, photos, claim)
        .await?;
    Ok(answer(StatusCode::OK, answered))
}
