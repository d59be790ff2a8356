//! The pieces every field screen is built of: the error and notice messages, the claim of a
//! request that clears them, a labelled control, an option, a case's subject and its state.

use super::state::with;
use super::wire::Case;
use crate::dom::{fill, h, n, t};
use crate::text;
use shared::case::CaseState;
use web_sys::Element;

/// Shows a message (`error` or `notice`), or clears it.
pub(super) fn say(kind: &str, message: Option<&str>) {
    let id = format!("field-{kind}");
    let region = format!("field-messages-{kind}");
    let kids: Vec<web_sys::Node> = message
        .map(|m| {
            let role = if kind == "error" { "alert" } else { "status" };
            vec![n(h(
                "p",
                &[
                    ("class", &format!("field-{kind}")),
                    ("role", role),
                    ("data-testid", &id),
                ],
                &[t(m)],
            ))]
        })
        .unwrap_or_default();
    fill(&region, &kids);
}

pub(super) fn error(message: &str) {
    say("error", Some(message));
}

/// Clears the error and the notice, which belong to what was done before.
pub(super) fn clear_messages() {
    say("error", None);
    say("notice", None);
}

/// A request starts: old messages go, and further taps wait for it.
pub(super) fn begin() -> bool {
    if !with(|s| s.claim()) {
        return false;
    }
    clear_messages();
    true
}

/// The request's answer came.
pub(super) fn done() {
    with(|s| s.release());
}

pub(super) fn label(text: &str, control: Element) -> web_sys::Node {
    n(h("label", &[], &[t(text), n(control)]))
}

pub(super) fn option(value: &str, text: &str) -> web_sys::Node {
    n(h("option", &[("value", value)], &[t(text)]))
}

/// What a case is about: its sub-item, or its category when it has none.
pub(super) fn subject(case: &Case) -> String {
    let what = match &case.sub_item {
        Some(code) => text::sub_item(code),
        None => text::category(case.category.code()),
    };
    format!("#{} {what}", case.id)
}

pub(super) fn state_badge(state: CaseState) -> web_sys::Node {
    n(h(
        "span",
        &[
            ("class", &format!("field-state state-{}", state.code())),
            ("data-testid", "field-state"),
        ],
        &[t(text::case_state(state))],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::wire::tests::case;

    // The tests read the page's default language, Chinese.

    #[test]
    fn a_subject_names_the_sub_item_or_else_the_category() {
        assert_eq!(subject(&case(12, Some("0801"))), "#12 路灯杆倾斜");
        assert_eq!(subject(&case(13, None)), "#13 市政设施");
    }
}
