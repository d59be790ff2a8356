//! Row decoders for the codes the tables store (categories, states, supervision): an unknown
//! code is a database decoding error, never a client's mistake.

use shared::case::{Action, CaseState, Category, Supervision};

fn unknown(what: &str, code: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unknown {what} `{code}` in the database").into())
}

pub fn decode_category(code: &str) -> Result<Category, sqlx::Error> {
    Category::from_code(code).ok_or_else(|| unknown("category", code))
}

pub fn decode_supervision(code: &str) -> Result<Supervision, sqlx::Error> {
    Supervision::from_code(code).ok_or_else(|| unknown("supervision", code))
}

pub fn decode_state(code: &str) -> Result<CaseState, sqlx::Error> {
    CaseState::from_code(code).ok_or_else(|| unknown("case state", code))
}

pub fn decode_action(code: &str) -> Result<Action, sqlx::Error> {
    Action::from_code(code).ok_or_else(|| unknown("action", code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_decode_and_unknown_ones_name_the_code() {
        assert_eq!(decode_state("reported").ok(), Some(CaseState::Reported));
        assert_eq!(decode_supervision("none").ok(), Some(Supervision::None));
        let err = decode_category("no_such_category").expect_err("unknown");
        assert!(err.to_string().contains("no_such_category"), "{err}");
    }
}
