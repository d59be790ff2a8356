//! The seat's header: the account and its sign-out, and for a leader or a dispatcher the
//! navigation: the overview, the breadcrumbs of the drill-down path, the look-back picker and
//! the buttons to the queue, the assessment, the replay, the comparison and the overdue cases.

use super::clock::{now_ms, picker_value};
use super::replay::render_moment;
use super::state::{Level, Names, seated, with};
use crate::dom::{button, fill, h, n, role_name, t, tr};

/// The name of a step on the path, for its crumb.
pub(super) fn level_name(level: &Level, names: Option<&Names>) -> String {
    match (level, names) {
        (Level::City, _) => tr("全市", "City").to_owned(),
        (Level::District(code), Some(names)) => names.district(code),
        (Level::Street(code), Some(names)) => names.street(code),
        (Level::Grid(id), Some(names)) => names.grid_name(id),
        (Level::District(code) | Level::Street(code) | Level::Grid(code), None) => code.clone(),
        (Level::Overdue, _) => tr("超期案件", "Overdue cases").to_owned(),
        (Level::Compare, _) => tr("本周对比上周", "This week against last").to_owned(),
        (Level::Queue, _) => tr("派遣台", "Dispatch queue").to_owned(),
        (Level::Assess, _) => tr("考核", "Assessment").to_owned(),
        (Level::Case(id), _) => format!("#{id}"),
    }
}

/// Draws the header, and the navigation for a seated account.
pub(super) fn render_top() {
    let (account, path, names) = with(|s| (s.account.clone(), s.path.clone(), s.names.clone()));
    let Some(a) = account else {
        return fill("seat-top", &[]);
    };
    let header = h(
        "header",
        &[
            ("class", "seat-top"),
            ("data-testid", "seat-account"),
            ("data-login", &a.login),
            ("data-role", a.role.code()),
        ],
        &[
            n(h("h1", &[], &[t(tr("指挥席位", "Seat"))])),
            n(h(
                "span",
                &[("class", "seat-who")],
                &[t(&format!("{} · {}", a.name, role_name(a.role)))],
            )),
            button(
                tr("退出", "Sign out"),
                &[
                    ("class", "seat-link"),
                    ("data-testid", "seat-logout"),
                    ("data-do", "logout"),
                ],
            ),
        ],
    );
    if !seated(a.role) {
        return fill("seat-top", &[n(header)]);
    }
    let last = path.len().saturating_sub(1);
    let mut crumbs = Vec::new();
    for (i, level) in path.iter().enumerate() {
        let name = level_name(level, names.as_deref());
        let index = i.to_string();
        let mut attrs = vec![
            ("data-testid", "seat-crumb"),
            ("data-level", level.code()),
            ("data-index", index.as_str()),
        ];
        if i == last {
            attrs.push(("class", "seat-crumb current"));
            attrs.push(("aria-current", "page"));
        } else {
            attrs.push(("class", "seat-crumb"));
            attrs.push(("data-do", "crumb"));
        }
        crumbs.push(button(&name, &attrs));
    }
    let nav = h(
        "nav",
        &[("class", "seat-nav")],
        &[
            button(
                tr("总览", "Overview"),
                &[
                    ("class", "seat-overview"),
                    ("data-testid", "seat-overview"),
                    ("data-do", "overview"),
                ],
            ),
            n(h(
                "div",
                &[("class", "seat-crumbs"), ("data-testid", "seat-crumbs")],
                &crumbs,
            )),
            n(h(
                "input",
                &[
                    ("type", "datetime-local"),
                    ("data-testid", "seat-moment-input"),
                    (
                        "value",
                        &picker_value(with(|s| s.moment).unwrap_or_else(now_ms)),
                    ),
                ],
                &[],
            )),
            button(
                tr("派遣台", "Dispatch"),
                &[("data-testid", "seat-queue-tab"), ("data-do", "queue")],
            ),
            button(
                tr("考核", "Assessment"),
                &[("data-testid", "seat-assess-tab"), ("data-do", "assess")],
            ),
            button(
                tr("回看", "Look back"),
                &[("data-testid", "seat-lookback"), ("data-do", "lookback")],
            ),
            button(
                tr("回放昨天", "Replay yesterday"),
                &[("data-testid", "seat-replay"), ("data-do", "replay")],
            ),
            button(
                tr("对比", "Compare"),
                &[("data-testid", "seat-compare"), ("data-do", "compare")],
            ),
            button(
                tr("超期", "Overdue"),
                &[
                    ("class", "seat-overdue-button"),
                    ("data-testid", "seat-overdue"),
                    ("data-do", "overdue"),
                ],
            ),
        ],
    );
    fill("seat-top", &[n(header), n(nav)]);
    render_moment();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::state::tests::names;

    #[test]
    fn a_crumb_names_its_area_or_says_what_the_list_is() {
        // The tests read the page's default language, Chinese.
        let names = names();
        assert_eq!(level_name(&Level::City, Some(&names)), "全市");
        assert_eq!(
            level_name(&Level::District("D2".into()), Some(&names)),
            "二区"
        );
        assert_eq!(
            level_name(&Level::Street("S1".into()), Some(&names)),
            "一街道"
        );
        assert_eq!(
            level_name(&Level::Grid("G1".into()), Some(&names)),
            "一网格"
        );
        assert_eq!(
            level_name(&Level::Grid("G1".into()), None),
            "G1",
            "codes until the names are read"
        );
        assert_eq!(level_name(&Level::Overdue, None), "超期案件");
        assert_eq!(level_name(&Level::Queue, None), "派遣台");
        assert_eq!(level_name(&Level::Case(42), None), "#42");
    }
}
