//! Idempotency keys: what a retried report or move carries so that it is answered with the
//! first answer instead of being written twice.
//!
//! A client that lost the reply to `POST /api/cases` cannot tell whether its case was stored;
//! sending the request again with the same `Idempotency-Key` header is always safe. A key is
//! kept per caller and per route ([`KeyId`]) with the fingerprint of the request that first
//! used it and the case that request produced ([`StoredKey`]). The case writer stores a key in
//! the transaction of its write, so that the two commit together or not at all, and the
//! planner (`crate::plan`) answers a later command with the same key from what is stored.
//! Keys are kept for [`KEY_LIFETIME_MS`]; after that the key is free again.

use shared::case::CaseView;
use std::fmt;

/// The name of the request header, as error messages spell it.
pub const HEADER: &str = "Idempotency-Key";
/// The longest key taken, in characters.
pub const MAX_KEY_CHARS: usize = 255;
/// How long a key is kept: a day, as Stripe does. A retry comes within minutes; a day covers a
/// phone that was offline overnight without letting the table grow for ever.
pub const KEY_LIFETIME_MS: i64 = 24 * 60 * 60 * 1000;

/// Which key: the caller's identity (`Principal::identity`), the route it was sent to and the
/// key itself. Two callers, or one caller on two routes, may use the same key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyId {
    pub caller: String,
    /// The route's template, such as `POST /api/cases/{id}/moves`.
    pub route: String,
    pub key: String,
}

/// A key as a command carries it: which key, and the fingerprint of the request (its route,
/// method, target case and a hash of its body), which tells a retry from a different request
/// that reuses the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub id: KeyId,
    pub fingerprint: String,
}

/// A key as it is stored: the fingerprint of the request that first used it and the answer
/// that request got (the case as its write left it), from which every later use is answered.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredKey {
    pub fingerprint: String,
    pub answer: CaseView,
}

/// A key to store with the batch that used it: one row of `idempotency_keys`.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRow {
    pub id: KeyId,
    pub fingerprint: String,
    pub answer: CaseView,
    pub created_ms: i64,
}

/// Why an `Idempotency-Key` header is not taken; the message names the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadKey {
    Empty,
    TooLong(usize),
    /// A byte outside visible ASCII, at this position (counted from 1).
    NotVisible {
        position: usize,
        byte: u8,
    },
    /// The header came more than once.
    Repeated,
}

impl fmt::Display for BadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = "a key is 1 to 255 visible ASCII characters (0x21 to 0x7E), such as a UUID";
        match self {
            BadKey::Empty => write!(f, "{HEADER} is empty; {rule}"),
            BadKey::TooLong(n) => write!(
                f,
                "{HEADER} is {n} characters long, more than {MAX_KEY_CHARS}; {rule}"
            ),
            BadKey::NotVisible { position, byte } => write!(
                f,
                "{HEADER} has byte 0x{byte:02X} at position {position}, which is not visible \
                 ASCII (a space, a control character or a non-ASCII byte); {rule}"
            ),
            BadKey::Repeated => write!(f, "{HEADER} was sent more than once; send it once"),
        }
    }
}

impl std::error::Error for BadKey {}

/// The key in a header's raw bytes, or why it is not one: 1 to [`MAX_KEY_CHARS`] bytes, each
/// visible ASCII (0x21 to 0x7E). Nothing is trimmed or folded: the key is compared as sent.
pub fn parse_key(bytes: &[u8]) -> Result<String, BadKey> {
    if bytes.is_empty() {
        return Err(BadKey::Empty);
    }
    if let Some(i) = bytes.iter().position(|b| !(0x21..=0x7E).contains(b)) {
        return Err(BadKey::NotVisible {
            position: i + 1,
            byte: bytes[i],
        });
    }
    if bytes.len() > MAX_KEY_CHARS {
        return Err(BadKey::TooLong(bytes.len()));
    }
    // Every byte is visible ASCII, so the bytes are UTF-8.
    Ok(bytes.iter().map(|&b| char::from(b)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_one_to_255_visible_ascii_characters() {
        assert_eq!(parse_key(b"a"), Ok("a".to_owned()));
        let uuid = "7d3c0f3e-5a51-4c1b-9d6e-2f0b8c1a9e44";
        assert_eq!(parse_key(uuid.as_bytes()), Ok(uuid.to_owned()));
        let longest = "~".repeat(MAX_KEY_CHARS);
        assert_eq!(parse_key(longest.as_bytes()), Ok(longest.clone()));
        assert_eq!(
            parse_key(b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~").map(|k| k.len()),
            Ok(32)
        );
    }

    #[test]
    fn a_bad_key_says_what_is_wrong_and_names_the_header() {
        assert_eq!(parse_key(b""), Err(BadKey::Empty));
        assert_eq!(
            parse_key("x".repeat(256).as_bytes()),
            Err(BadKey::TooLong(256))
        );
        assert_eq!(
            parse_key(b"two words"),
            Err(BadKey::NotVisible {
                position: 4,
                byte: b' '
            })
        );
        assert_eq!(
            parse_key(b"tab\there"),
            Err(BadKey::NotVisible {
                position: 4,
                byte: b'\t'
            })
        );
        assert_eq!(
            parse_key("键".as_bytes()),
            Err(BadKey::NotVisible {
                position: 1,
                byte: 0xE9
            })
        );
        assert_eq!(
            parse_key(b"del\x7f"),
            Err(BadKey::NotVisible {
                position: 4,
                byte: 0x7F
            })
        );
        for bad in [
            BadKey::Empty,
            BadKey::TooLong(300),
            BadKey::NotVisible {
                position: 1,
                byte: 0,
            },
            BadKey::Repeated,
        ] {
            assert!(bad.to_string().starts_with(HEADER), "{bad}");
        }
    }
}
