//! The `Idempotency-Key` header of the write routes (`POST /api/cases`, a case's moves and
//! Open311's `POST requests`): reading and checking it, the request's fingerprint, and the
//! `Idempotent-Replayed` header of an answer given again.
//!
//! A client that lost a reply sends the same request with the same key, and gets the first
//! answer (the same status and body) without a second write; the case writer stores the key in
//! the write's transaction (`services::cases::writer`). A key is kept per caller
//! (`Principal::identity`) and route, for a day. The fingerprint (the route with its method,
//! the target case and a SHA-256 of the body's content) tells a retry from a different request
//! that reuses the key, which is refused. The body's content is hashed rather than its bytes
//! on the wire for multipart bodies: clients draw a new boundary for every attempt, so the JSON
//! part and each photo, in order, are hashed instead, and a JSON body hashes as a form with
//! that JSON part and no photos.

use crate::error::AppError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use gridwall_core::idempotency::{BadKey, Claim, HEADER, KeyId, parse_key};
use gridwall_core::policy::Principal;
use sha2::{Digest, Sha256};
use std::fmt;

/// The request header that carries the key.
pub const KEY_HEADER: HeaderName = HeaderName::from_static("idempotency-key");
/// The response header that marks an answer given again from a stored key.
pub const REPLAYED_HEADER: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The routes that take a key, by their templates: a key is kept per route, and the
/// fingerprint names the route with its method.
pub const REPORT_ROUTE: &str = "POST /api/cases";
pub const MOVE_ROUTE: &str = "POST /api/cases/{id}/moves";
pub const OPEN311_ROUTE: &str = "POST /open311/v2/requests";

/// The key a request carries, checked: `None` without the header, a 400 naming the header
/// when it is empty, too long, not visible ASCII or sent twice.
pub fn key_of(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    let mut values = headers.get_all(KEY_HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(bad(BadKey::Repeated));
    }
    parse_key(value.as_bytes()).map(Some).map_err(bad)
}

fn bad(err: BadKey) -> AppError {
    AppError::bad_parameter(HEADER, err.to_string())
}

/// A request's `Idempotency-Key`, if any, as an extractor: it reads only the headers, so a bad
/// key is refused before the body is read.
#[derive(Debug)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        key_of(&parts.headers).map(IdempotencyKey)
    }
}

/// The header as the OpenAPI document describes it, on each route that takes it; the
/// handlers read it with [`IdempotencyKey`].
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IdempotencyKeyHeader {
    /// Makes the request safe to retry: 1 to 255 visible ASCII characters (0x21 to 0x7E), such
    /// as a UUID, new for every new request. A request with a key its caller already used on
    /// this route within 24 hours writes nothing and gets the first answer again (the same
    /// status and body, with `Idempotent-Replayed: true`), or a 422 if the first request was
    /// a different one (another body or case). A key is stored only with a write that
    /// succeeded, in its transaction. A bad key is a 400 naming the header.
    #[serde(rename = "Idempotency-Key")]
    #[param(max_length = 255, min_length = 1, pattern = "^[!-~]+$")]
    key: Option<String>,
}

/// A SHA-256 of a body's content, part by part. Each part is framed by its name and length,
/// so that no two different bodies hash alike by moving bytes from one part to the next.
#[derive(Clone, Default)]
pub struct BodyDigest(Sha256);

impl fmt::Debug for BodyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BodyDigest")
    }
}

impl BodyDigest {
    pub fn part(&mut self, name: &str, bytes: &[u8]) {
        self.0.update((name.len() as u64).to_le_bytes());
        self.0.update(name.as_bytes());
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// The key `key` of caller `who` on `route`, with the fingerprint of the request: its route
/// (method included), the case it moves if any, and the digest of its body.
pub fn claim(
    who: &Principal,
    route: &str,
    key: String,
    case_id: Option<i64>,
    body: [u8; 32],
) -> Claim {
    let case = case_id.map_or_else(|| "-".to_owned(), |id| id.to_string());
    let mut fingerprint = Sha256::new();
    fingerprint.update(format!("{route}\n{case}\n{}", hex(&body)));
    Claim {
        id: KeyId {
            caller: who.identity.clone(),
            route: route.to_owned(),
            key,
        },
        fingerprint: hex(&fingerprint.finalize()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Marks `response` as the stored answer of an earlier request (`Idempotent-Replayed: true`)
/// when it is one.
pub fn mark_replayed(response: &mut Response, replayed: bool) {
    if replayed {
        response
            .headers_mut()
            .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                KEY_HEADER,
                HeaderValue::from_bytes(value).expect("a header value"),
            );
        }
        headers
    }

    #[test]
    fn a_bad_key_is_a_400_naming_the_header() {
        assert_eq!(key_of(&headers(&[])).ok(), Some(None));
        assert_eq!(
            key_of(&headers(&[b"retry-1"])).ok(),
            Some(Some("retry-1".to_owned()))
        );
        for bad in [
            &[b"" as &[u8]][..],
            &[b"a b"],
            &[b"a", b"b"],
            &[&[b'x'; 256]],
        ] {
            let err = key_of(&headers(bad)).expect_err("a bad key");
            let (status, body) = err.status_and_body();
            assert_eq!(status, 400);
            assert_eq!(body.field.as_deref(), Some("Idempotency-Key"));
            assert!(
                body.message.starts_with("Idempotency-Key "),
                "{}",
                body.message
            );
        }
    }

    #[test]
    fn the_fingerprint_names_the_route_the_case_and_the_body() {
        let who = Principal::system("test");
        let digest = |body: &[u8]| {
            let mut d = BodyDigest::default();
            d.part("json", body);
            d.finish()
        };
        let fingerprint = |route, case, body: &[u8]| {
            claim(&who, route, "k".to_owned(), case, digest(body)).fingerprint
        };
        let first = fingerprint(MOVE_ROUTE, Some(1), b"{}");
        assert_eq!(first, fingerprint(MOVE_ROUTE, Some(1), b"{}"));
        assert_ne!(first, fingerprint(MOVE_ROUTE, Some(2), b"{}"));
        assert_ne!(first, fingerprint(MOVE_ROUTE, Some(1), b"{ }"));
        assert_ne!(first, fingerprint(REPORT_ROUTE, None, b"{}"));
        // Parts are framed: bytes moved from one part to the next change the digest.
        let mut a = BodyDigest::default();
        a.part("json", b"ab");
        a.part("photo", b"c");
        let mut b = BodyDigest::default();
        b.part("json", b"a");
        b.part("photo", b"bc");
        assert_ne!(a.finish(), b.finish());
    }
}
