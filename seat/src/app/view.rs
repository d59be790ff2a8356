//! The pieces every seat screen is built of: the frame of a level, a titled card, the loading
//! line, and the messages region where errors and notices are said.

use super::state::Level;
use crate::dom::{fill, h, n, t, tr};

/// The screen of one level: its kind and code, its figures and its list.
pub(super) fn screen(level: &Level, kids: &[web_sys::Node]) -> web_sys::Node {
    n(h(
        "div",
        &[
            ("class", "seat-level"),
            ("data-testid", "seat-level"),
            ("data-level", level.code()),
            ("data-code", &screen_code(level)),
        ],
        kids,
    ))
}

/// The `data-code` of a level's screen: the area's code or the case's number.
fn screen_code(level: &Level) -> String {
    match level {
        Level::District(c) | Level::Street(c) | Level::Grid(c) => c.clone(),
        Level::Case(id) => id.to_string(),
        Level::City | Level::Overdue | Level::Compare | Level::Queue | Level::Assess => {
            String::new()
        }
    }
}

/// A titled panel.
pub(super) fn card(title: &str, kids: &[web_sys::Node]) -> web_sys::Node {
    let mut all = vec![n(h("h2", &[], &[t(title)]))];
    all.extend_from_slice(kids);
    n(h("section", &[("class", "seat-card")], &all))
}

pub(super) fn loading() -> web_sys::Node {
    n(h(
        "p",
        &[("class", "seat-muted"), ("data-testid", "seat-loading")],
        &[t(tr("加载中…", "Loading…"))],
    ))
}

/// Shows an error, or clears it.
pub(super) fn error(message: Option<&str>) {
    let kids: Vec<web_sys::Node> = message
        .map(|m| {
            vec![n(h(
                "p",
                &[
                    ("class", "seat-error"),
                    ("role", "alert"),
                    ("data-testid", "seat-error"),
                ],
                &[t(m)],
            ))]
        })
        .unwrap_or_default();
    fill("seat-messages", &kids);
}

/// Says what was done, where errors are said.
pub(super) fn notice(message: &str) {
    fill(
        "seat-messages",
        &[n(h(
            "p",
            &[
                ("class", "seat-notice"),
                ("role", "status"),
                ("data-testid", "seat-notice"),
            ],
            &[t(message)],
        ))],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_screen_carries_its_areas_code_or_its_cases_number() {
        assert_eq!(screen_code(&Level::District("D1".into())), "D1");
        assert_eq!(screen_code(&Level::Grid("G1".into())), "G1");
        assert_eq!(screen_code(&Level::Case(42)), "42");
        assert_eq!(screen_code(&Level::City), "");
        assert_eq!(screen_code(&Level::Queue), "");
    }
}
