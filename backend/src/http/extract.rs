//! The extractors every handler shares: path, query and JSON body whose errors come in the
//! API's one error shape and name the parameter or field at fault, the one place a bearer token
//! is read from a request, and the `scope` parameter.

use crate::error::AppError;
use crate::services::auth::{Auth, Credential};
use axum::body::Bytes;
use axum::extract::{FromRef, FromRequestParts};
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use gridwall_core::policy::Principal;
use serde::de::DeserializeOwned;
use shared::wall::Scope;
use std::sync::Arc;

/// A path parameter whose errors come in the API's one error shape.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

/// A case's id in a path: a whole number from 1 to 2^63 − 1 (`ApiPath(CaseId(id))`); any
/// other is a 400 naming `id`, before anything is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseId(pub i64);

impl<'de> serde::Deserialize<'de> for CaseId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<CaseId, D::Error> {
        let id = i64::deserialize(d)?;
        if id < 1 {
            return Err(serde::de::Error::custom(format!(
                "id: a case id is a whole number from 1 to {}, not {id}",
                i64::MAX
            )));
        }
        Ok(CaseId(id))
    }
}

/// Query parameters whose errors come in the API's one error shape.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

impl From<axum::extract::rejection::PathRejection> for AppError {
    fn from(rejection: axum::extract::rejection::PathRejection) -> AppError {
        AppError::BadRequest(rejection.body_text())
    }
}

impl From<axum::extract::rejection::QueryRejection> for AppError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> AppError {
        AppError::BadRequest(rejection.body_text())
    }
}

/// A JSON body whose errors name the field at fault, in the API's one error shape.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let bytes = json_bytes(req, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// The bytes of a JSON body, not yet parsed: 415 when the body is not declared JSON, 413 past
/// the server's limit. [`JsonBody`] parses them; a keyed write also hashes them.
pub async fn json_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, AppError> {
    let is_json = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim();
            mime == "application/json" || mime.ends_with("+json")
        });
    if !is_json {
        return Err(AppError::UnsupportedMediaType(
            "send the body as JSON with `Content-Type: application/json`".to_owned(),
        ));
    }
    let bytes = Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge {
                part: "body".to_owned(),
                message: "the body is larger than the server takes".to_owned(),
            }
        } else {
            AppError::BadRequest(e.body_text())
        }
    })?;
    Ok(bytes)
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let inner = err.inner();
        if inner.is_syntax() || inner.is_eof() {
            return AppError::BadRequest(format!("the body is not valid JSON: {inner}"));
        }
        let path = err.path().to_string();
        let message = inner.to_string();
        // serde names a missing or unknown field only in its message: `missing field `x``.
        let named = message.split('`').nth(1).filter(|_| {
            message.starts_with("missing field") || message.starts_with("unknown field")
        });
        let field = match (path.as_str(), named) {
            (".", Some(name)) => name.to_owned(),
            (".", None) => "body".to_owned(),
            (p, Some(name)) if message.starts_with("missing field") => format!("{p}.{name}"),
            (p, _) => p.to_owned(),
        };
        let message = match message.find(" at line ") {
            Some(i) => message[..i].to_owned(),
            None => message,
        };
        AppError::invalid(&field, message)
    })
}

/// The display token of a request: the `token` query parameter (browsers cannot set headers
/// on a WebSocket), or else the bearer token of its `Authorization` header.
pub fn token_of(query: Option<&str>, headers: &HeaderMap) -> Option<String> {
    match query {
        Some(token) => Some(token.to_owned()),
        None => match credential_of(headers)? {
            Credential::Bearer(token) => Some(token),
            Credential::ApiKey(_) => None,
        },
    }
}

/// A moment from outside (Unix milliseconds), or a 400 naming `parameter` when it lies outside
/// the years the API takes (2000 to 2100): no arithmetic on it can then overflow.
pub fn moment(parameter: &str, unix_ms: i64) -> Result<i64, AppError> {
    if shared::time::moment_in_range(unix_ms) {
        Ok(unix_ms)
    } else {
        Err(AppError::bad_parameter(
            parameter,
            format!(
                "{unix_ms} is outside the moments the API takes: from {} (2000-01-01) to {} \
                 (2100-01-01), in Unix milliseconds",
                shared::time::MIN_MOMENT_MS,
                shared::time::MAX_MOMENT_MS
            ),
        ))
    }
}

/// The address a request came from, as the listener saw it (`unknown` when the server was
/// not started with it, as in a router called directly). Behind a reverse proxy every client
/// has the proxy's address.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<ClientAddr, std::convert::Infallible> {
        let addr = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map_or_else(|| "unknown".to_owned(), |info| info.0.ip().to_string());
        Ok(ClientAddr(addr))
    }
}

/// The scope named by a `scope` query parameter; the city when there is none.
pub fn parse_scope(scope: Option<&str>) -> Result<Scope, AppError> {
    match scope {
        None => Ok(Scope::City),
        Some(text) => Scope::parse(text).map_err(|e| AppError::invalid("scope", e)),
    }
}

/// A request's verified caller; the extractor answers 401 when there is none.
#[derive(Debug, Clone)]
pub struct Caller(pub Arc<Principal>);

impl<S> FromRequestParts<S> for Caller
where
    Arc<Auth>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Caller, AppError> {
        let auth = Arc::<Auth>::from_ref(state);
        let credential = credential_of(&parts.headers).ok_or_else(signed_out)?;
        auth.caller(&credential).await.map(Caller)
    }
}

/// The answer to a request without credentials.
pub fn signed_out() -> AppError {
    AppError::Unauthorized(
        "sign in first: send `Authorization: Bearer <token>` from POST /api/login, \
         or an app's `X-Api-Key`"
            .to_owned(),
    )
}

/// The credential in a request's `Authorization` or `X-Api-Key` header: the one place a
/// bearer token is read from a header.
pub fn credential_of(headers: &HeaderMap) -> Option<Credential> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    if let Some(value) = header("authorization") {
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or(value);
        return Some(Credential::Bearer(token.trim().to_owned()));
    }
    header("x-api-key").map(|k| Credential::ApiKey(k.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::case::ReportCase;

    fn field(body: &str) -> (String, String) {
        match parse_json::<ReportCase>(body.as_bytes()) {
            Err(AppError::InvalidField { field, message }) => (field, message),
            other => panic!("expected an invalid field for {body}, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_field_is_named() {
        let (f, m) = field(r#"{"category":"ecology","grid_id":"A"}"#);
        assert_eq!(f, "description");
        assert!(m.contains("missing field"), "{m}");
    }

    #[test]
    fn a_wrongly_typed_field_is_named() {
        assert_eq!(
            field(r#"{"category":5,"grid_id":"A","description":"x"}"#).0,
            "category"
        );
        assert_eq!(
            field(r#"{"category":"ecology","point":{"lon":"east","lat":1},"description":"x"}"#).0,
            "point.lon"
        );
        assert_eq!(
            field(r#"{"category":"ecology","point":{"lon":125},"description":"x"}"#).0,
            "point.lat"
        );
    }

    #[test]
    fn an_unknown_field_is_named() {
        assert_eq!(
            field(r#"{"category":"ecology","grid_id":"A","description":"x","colour":"red"}"#).0,
            "colour"
        );
    }

    #[test]
    fn broken_json_is_a_bad_request() {
        assert!(matches!(
            parse_json::<ReportCase>(b"{\"category\":"),
            Err(AppError::BadRequest(_))
        ));
    }
}
