//! The one error type of the HTTP layer; its bodies name what is wrong and never leak internals.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shared::case::{ApiError, ApiErrorBody, FlagNotAllowed, MoveNotAllowed};

/// How long a client is asked to wait before sending a write again while writes fail.
pub const WRITES_RETRY_AFTER_S: i64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A request field is missing or wrong; nothing was stored.
    #[error("{field}: {message}")]
    InvalidField { field: String, message: String },
    /// The body is not JSON at all.
    #[error("{0}")]
    BadRequest(String),
    /// A query parameter with a value the server does not take; named in the body's `field`.
    #[error("{parameter}: {message}")]
    BadParameter { parameter: String, message: String },
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A part of a multipart body in a form the server does not take (a photo that is not a
    /// JPEG, PNG or WebP image); nothing was stored.
    #[error("{part}: {message}")]
    UnsupportedPart { part: String, message: String },
    /// A body, or a part of one, past its size limit; nothing was stored.
    #[error("{part}: {message}")]
    TooLarge { part: String, message: String },
    #[error("{0}")]
    NotFound(String),
    /// No credentials, or unknown ones.
    #[error("{0}")]
    Unauthorized(String),
    /// Credentials that do not open what was asked for.
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    MoveNotAllowed(#[from] MoveNotAllowed),
    #[error(transparent)]
    FlagNotAllowed(#[from] FlagNotAllowed),
    /// Too many attempts: wait `retry_after_s` seconds (sent as `Retry-After`).
    #[error("{message}")]
    TooManyRequests { retry_after_s: i64, message: String },
    /// The server is shutting down or a part of it has stopped.
    #[error("{0}")]
    Unavailable(String),
    /// The database cannot store writes now (a full disk, a read-only database); nothing of
    /// the request was stored and it may be sent again.
    #[error("the server cannot store writes now: {}; nothing was stored, try again later", .0.explain())]
    WritesFailing(shared::wall::WriteTrouble),
    /// The server gave up on a request that took longer than its deadline
    /// (`http::deadline`).
    #[error("the server gave up on this request after {} s; if it was a write, it may still have been stored: send it again with the same Idempotency-Key to find out", .0.as_secs())]
    TimedOut(std::time::Duration),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// The photo directory failed.
    #[error("storage error")]
    Storage(#[from] std::io::Error),
    /// Something else inside the server failed (drawing a briefing); the details go to the
    /// log only.
    #[error("internal error")]
    Internal(String),
}

/// A refusal by the access policy is a 403 naming why.
impl From<gridwall_core::policy::Denied> for AppError {
    fn from(denied: gridwall_core::policy::Denied) -> AppError {
        AppError::Forbidden(denied.0)
    }
}

/// A command the planner refused, answered with the status its reason calls for.
impl From<gridwall_core::plan::Refusal> for AppError {
    fn from(refusal: gridwall_core::plan::Refusal) -> AppError {
        use gridwall_core::plan::Refusal;
        match refusal {
            Refusal::NotFound(message) => AppError::NotFound(message),
            Refusal::Denied(denied) => AppError::from(denied),
            Refusal::Move(err) => AppError::MoveNotAllowed(err),
            Refusal::Flag(err) => AppError::FlagNotAllowed(err),
            Refusal::Invalid { field, message } => AppError::invalid(field, message),
            Refusal::KeyReused => AppError::invalid(
                gridwall_core::idempotency::HEADER,
                Refusal::KeyReused.to_string(),
            ),
        }
    }
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> AppError {
        AppError::InvalidField {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    pub fn bad_parameter(parameter: &str, message: impl Into<String>) -> AppError {
        AppError::BadParameter {
            parameter: parameter.to_owned(),
            message: message.into(),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::InvalidField { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            AppError::BadParameter { .. } => (StatusCode::BAD_REQUEST, "bad_parameter"),
            AppError::UnsupportedMediaType(_) | AppError::UnsupportedPart { .. } => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            AppError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            AppError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::MoveNotAllowed(_) | AppError::FlagNotAllowed(_) => {
                (StatusCode::CONFLICT, "move_not_allowed")
            }
            AppError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
            }
            AppError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            AppError::WritesFailing(_) => (StatusCode::SERVICE_UNAVAILABLE, "writes_failing"),
            AppError::TimedOut(_) => (StatusCode::SERVICE_UNAVAILABLE, "timed_out"),
            AppError::Database(_) | AppError::Storage(_) | AppError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }
}

impl AppError {
    /// The status and the body this error answers with; the body never holds internals.
    pub fn status_and_body(&self) -> (StatusCode, ApiErrorBody) {
        let (status, code) = self.status_and_code();
        let (message, field) = match self {
            AppError::InvalidField { field, message }
            | AppError::UnsupportedPart {
                part: field,
                message,
            }
            | AppError::TooLarge {
                part: field,
                message,
            }
            | AppError::BadParameter {
                parameter: field,
                message,
            } => (message.clone(), Some(field.clone())),
            AppError::Database(err) => {
                // The details go to the log, not to the client.
                tracing::error!(error = %err, "database error while handling a request");
                (
                    "internal error; the server log has the details".to_owned(),
                    None,
                )
            }
            AppError::Storage(err) => {
                tracing::error!(error = %err, "photo storage error while handling a request");
                (
                    "internal error; the server log has the details".to_owned(),
                    None,
                )
            }
            AppError::Internal(details) => {
                tracing::error!(error = %details, "internal error while handling a request");
                (
                    "internal error; the server log has the details".to_owned(),
                    None,
                )
            }
            other => (other.to_string(), None),
        };
        (
            status,
            ApiErrorBody {
                code: code.to_owned(),
                message,
                field,
            },
        )
    }
}

impl AppError {
    /// Adds the headers this error calls for, whatever shape its body has: `Retry-After` for
    /// a 429, and for a 503 of failing writes.
    pub fn add_headers(&self, headers: &mut axum::http::HeaderMap) {
        let retry_after_s = match self {
            AppError::TooManyRequests { retry_after_s, .. } => *retry_after_s,
            AppError::WritesFailing(_) => WRITES_RETRY_AFTER_S,
            _ => return,
        };
        if let Ok(value) = axum::http::HeaderValue::from_str(&retry_after_s.to_string()) {
            headers.insert(axum::http::header::RETRY_AFTER, value);
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, error) = self.status_and_body();
        let body = ApiError { error };
        let mut response = (status, Json(body)).into_response();
        self.add_headers(response.headers_mut());
        response
    }
}
