//! The caller's list of cases: the server picks the view of its role (its own cases, its
//! queue, or everything it may read), and the page shows each case as a row to open.

use super::session::fail;
use super::state::{Screen, token, with};
use super::view::{state_badge, subject};
use super::wire::{Case, List};
use crate::dom::{button, fill, h, n, t, tr, when};
use crate::fetch::{self, Body};
use shared::case::CaseListView;
use wasm_bindgen_futures::spawn_local;

/// The caller's list, drawn only if the list is still the screen when it comes.
pub(super) fn load_list() {
    let Some(token) = token() else { return };
    spawn_local(async move {
        match fetch::json::<List>("GET", "/api/cases", Some(&token), Body::None).await {
            Ok(list) if with(|s| s.screen) == Screen::Cases => show_list(list),
            Ok(_) => {}
            Err(failure) => fail(failure),
        }
    });
}

/// The list's heading, saying which cases the server chose for the caller.
fn heading(view: CaseListView) -> &'static str {
    match view {
        CaseListView::Mine => tr(
            "我上报和待我核查的案件",
            "Reported by me or waiting for my check",
        ),
        CaseListView::Queue => tr("等待处理的案件", "Waiting for my move"),
        CaseListView::All => tr("全部案件", "All cases"),
    }
}

/// One case's row: its subject and state, its description, its grid and when it was reported.
fn row(c: &Case) -> web_sys::Node {
    let id = c.id.to_string();
    n(h(
        "li",
        &[
            ("data-testid", "field-case"),
            ("data-case-id", &id),
            ("data-state", c.state.code()),
        ],
        &[n(h(
            "button",
            &[
                ("class", "field-case"),
                ("data-do", "open"),
                ("data-case-id", &id),
            ],
            &[
                n(h(
                    "span",
                    &[("class", "field-row")],
                    &[n(h("strong", &[], &[t(&subject(c))])), state_badge(c.state)],
                )),
                n(h("span", &[("class", "field-desc")], &[t(&c.description)])),
                n(h(
                    "span",
                    &[("class", "field-muted")],
                    &[t(&format!(
                        "{} · {}",
                        c.grid_id.as_deref().unwrap_or_default(),
                        when(c.reported_at_ms)
                    ))],
                )),
            ],
        ))],
    ))
}

fn show_list(list: List) {
    let title = heading(list.view);
    let items: Vec<web_sys::Node> = list.cases.iter().map(row).collect();
    let body = if items.is_empty() {
        h(
            "p",
            &[("class", "field-muted"), ("data-testid", "field-empty")],
            &[t(tr("暂无案件", "No cases"))],
        )
    } else {
        h(
            "ul",
            &[
                ("class", "field-cases"),
                ("data-testid", "field-cases"),
                ("data-view", list.view.code()),
            ],
            &items,
        )
    };
    fill(
        "field-body",
        &[n(h(
            "section",
            &[("class", "field-card")],
            &[
                n(h(
                    "div",
                    &[("class", "field-row")],
                    &[
                        n(h("h2", &[], &[t(title)])),
                        button(
                            tr("刷新", "Refresh"),
                            &[
                                ("class", "field-link"),
                                ("data-testid", "field-refresh"),
                                ("data-do", "refresh"),
                            ],
                        ),
                    ],
                )),
                n(body),
            ],
        ))],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_view_has_its_own_heading() {
        let headings: std::collections::BTreeSet<&str> =
            CaseListView::ALL.into_iter().map(heading).collect();
        assert_eq!(headings.len(), CaseListView::ALL.len());
        assert_eq!(heading(CaseListView::Mine), "我上报和待我核查的案件");
        assert_eq!(heading(CaseListView::Queue), "等待处理的案件");
    }
}
