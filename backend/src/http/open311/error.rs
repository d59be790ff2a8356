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
    /// When to try again (`Retry-After`), on a 429 or on a 503 of failing writes.
    retry_after: Option<axum::http::HeaderValue>,
}

impl Failure {
    pub(super) fn new(
        status: StatusCode,
        format: Format,
        description: impl Into<String>,
    ) -> Failure {
        Failure {
            retry_after: None,
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
        let mut headers = axum::http::HeaderMap::new();
        err.add_headers(&mut headers);
        let retry_after = headers.remove(axum::http::header::RETRY_AFTER);
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
            failing @ (AppError::WritesFailing(_) | AppError::TimedOut(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, failing.to_string())
            }
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
        Failure {
            retry_after,
            ..Failure::new(status, format, description)
        }
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

/// A refusal of the server's own (a capped route, `http::shed`) in the standard's shape, in
/// the format the request's path asks for, with the error's headers (`Retry-After`).
pub fn refusal(request: &axum::extract::Request, err: AppError) -> Response {
    let format = Format::of_path(request.uri().path());
    Failure::from_app(err, format).into_response()
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let error = Doc::Fields(vec![
            ("code", Doc::Int(i64::from(self.status.as_u16()))),
            ("description", Doc::Text(self.description)),
        ]);
        let mut response = render(
            self.format,
            self.status,
            "errors",
            &Doc::List("error", vec![error]),
        );
        if let Some(value) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        response
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

#[cfg(test)]
mod refusal_tests {
    use super::*;
    use axum::body::Body;

    /// A capped Open311 route refuses in the standard's shape and the path's format, and says
    /// when to come back.
    #[tokio::test]
    async fn a_refusal_is_in_the_standard_shape_with_retry_after() {
        let too_many = || AppError::TooManyRequests {
            retry_after_s: 1,
            message: "busy".to_owned(),
        };
        let request = |path: &str| {
            axum::extract::Request::get(path)
                .body(Body::empty())
                .expect("a request")
        };
        let json = refusal(&request("/open311/v2/requests.json"), too_many());
        assert_eq!(json.status(), 429);
        assert_eq!(
            json.headers().get("retry-after").map(|v| v.as_bytes()),
            Some(&b"1"[..])
        );
        let body = axum::body::to_bytes(json.into_body(), 1 << 16)
            .await
            .expect("a body");
        let doc: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(doc[0]["code"], 429, "{doc}");
        assert_eq!(doc[0]["description"], "busy", "{doc}");
        let xml = refusal(&request("/open311/v2/services.xml"), too_many());
        assert_eq!(xml.status(), 429);
        let body = axum::body::to_bytes(xml.into_body(), 1 << 16)
            .await
            .expect("a body");
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("<code>429</code>"), "{text}");
    }
}
