//! Which part of the city something is about: the whole city, one district or one street.
//! Walls watch a scope, seats drive one, accounts reach one, the assessment ranks inside one.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Which part of the city a wall watches: the whole city, one district or one street.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Scope {
    City,
    District(String),
    Street(String),
}

impl Scope {
    /// Parses the `scope` query parameter: `city`, `district:CODE` or `street:CODE`.
    pub fn parse(text: &str) -> Result<Scope, String> {
        let text = text.trim();
        match text.split_once(':') {
            None if text == "city" => Ok(Scope::City),
            Some(("district", code)) if !code.is_empty() => Ok(Scope::District(code.to_owned())),
            Some(("street", code)) if !code.is_empty() => Ok(Scope::Street(code.to_owned())),
            _ => Err(format!(
                "`{text}` is not a scope; expected `city`, `district:CODE` or `street:CODE`"
            )),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::City => f.write_str("city"),
            Scope::District(code) => write!(f, "district:{code}"),
            Scope::Street(code) => write!(f, "street:{code}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_print() {
        for text in ["city", "district:230602", "street:230602001"] {
            assert_eq!(Scope::parse(text).expect("a scope").to_string(), text);
        }
        for bad in ["", "town:1", "district:", "street"] {
            let err = Scope::parse(bad).expect_err("not a scope");
            assert!(err.contains("expected `city`"), "{err}");
        }
        assert_eq!(
            serde_json::to_string(&Scope::District("230602".into())).expect("json"),
            r#"{"kind":"district","id":"230602"}"#
        );
    }
}
