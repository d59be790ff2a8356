//! Open311's errors: the standard's `[{code, description}]` in the format asked for, and how
//! the case commands' errors become one.

use super::document::{Doc, Format};
use super::xml::render;
use crate::error::AppError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// How much of a caller's input an error message repeats.
const ECHO_CHARS: usize = 40;

/// An error in the standard's shape, `[{code, description}]`, in the format asked for; the
/// code is the HTTP status.
#[derive(Debug)]
pub struct Failure {
    pub(super) status: StatusCode,
    format: Format,
    pub(super) description: String,
}

impl Failure {
    pub(super) fn new(
        status: StatusCode,
        format: Format,
        description: impl Into<String>,
    ) -> Failure {
        Failure {
            status,
            format,
            description: description.into(),
        }
    }

    pub(super) fn bad(format: Format, description: impl Into<String>) -> Failure {
        Failure::new(StatusCode::BAD_REQUEST, format, description)
    }

    /// An error of the case commands in the standard's terms: fields renamed to the
    /// standard's, a refused credential as 403, and internals kept in the log.
    pub(super) fn from_app(err: AppError, format: Format) -> Failure {
        let (status, description) = match err {
            AppError::InvalidField { field, message } => (
                StatusCode::BAD_REQUEST,
                format!("{}: {message}", standard_field(&field)),
            ),
            AppError::BadRequest(m) | AppError::UnsupportedMediaType(m) => {
                (StatusCode::BAD_REQUEST, m)
            }
            AppError::UnsupportedPart { part, message }
            | AppError::TooLarge { part, message }
            | AppError::BadParameter {
                parameter: part,
                message,
            } => (StatusCode::BAD_REQUEST, format!("{part}: {message}")),
            AppError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            AppError::Unauthorized(m) | AppError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            AppError::MoveNotAllowed(e) => (StatusCode::BAD_REQUEST, e.to_string()),
            AppError::FlagNotAllowed(e) => (StatusCode::BAD_REQUEST, e.to_string()),
            AppError::TooManyRequests { message, .. } => (StatusCode::TOO_MANY_REQUESTS, message),
            AppError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m),
            AppError::Database(err) => {
                tracing::error!(error = %err, "database error while answering Open311");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; the server log has the details".to_owned(),
                )
            }
            AppError::Storage(err) => {
                tracing::error!(error = %err, "storage error while answering Open311");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; the server log has the details".to_owned(),
                )
            }
            AppError::Internal(details) => {
                tracing::error!(error = %details, "internal error while answering Open311");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; the server log has the details".to_owned(),
                )
            }
        };
        Failure::new(status, format, description)
    }
}

/// The standard's name for a field of the case commands.
fn standard_field(field: &str) -> &str {
    match field {
        "category" | "sub_item" => "service_code",
        "point" | "point.lon" | "point.lat" | "grid_id" => "lat/long",
        other => other,
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let error = Doc::Fields(vec![
            ("code", Doc::Int(i64::from(self.status.as_u16()))),
            ("description", Doc::Text(self.description)),
        ]);
        render(
            self.format,
            self.status,
            "errors",
            &Doc::List("error", vec![error]),
        )
    }
}

/// What a handler answers: a document, or the standard's error.
pub(super) type Answer = Result<Response, Failure>;

/// A caller's input as an error message repeats it: its start only.
pub(super) fn echo(input: &str) -> String {
    let mut shown: String = input.chars().take(ECHO_CHARS).collect();
    if input.chars().count() > ECHO_CHARS {
        shown.push('…');
    }
    shown
}
