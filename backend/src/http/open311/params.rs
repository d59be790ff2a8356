//! The fields of a query string or a form, read the way the standard has them: an empty
//! field is one not given, and a list may come comma delimited or repeated.

use super::document::Format;
use super::error::Failure;

/// A query string's or a form's fields, in order.
#[derive(Debug, Default)]
pub(crate) struct Params(pub(super) Vec<(String, String)>);

impl Params {
    pub(crate) fn parse(bytes: &[u8], format: Format) -> Result<Params, Failure> {
        serde_urlencoded::from_bytes(bytes)
            .map(Params)
            .map_err(|e| Failure::bad(format, format!("the parameters cannot be read: {e}")))
    }

    /// The first value of `name` that is not empty: the standard treats an empty parameter
    /// as one not given.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .find(|v| !v.is_empty())
    }

    /// Every value of `name`, each split at commas: the standard's lists may be declared
    /// several times, comma delimited.
    pub(super) fn list(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }
}
