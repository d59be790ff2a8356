//! The field page's header: who is signed in and what they answer for, the sign-out link, and
//! the tabs (the report form for a grid worker, and the list named after the role's work).

use super::state::{Screen, with};
use crate::dom::{button, fill, h, n, role_name, t, tr};
use crate::text;
use shared::auth::{AccountView, Role};

/// What an account answers for: its department, else its area, else its grids.
fn reach(account: &AccountView) -> String {
    match (&account.department, &account.area) {
        (Some(d), _) => text::department(d).to_owned(),
        (None, Some(area)) => area.clone(),
        (None, None) => account.grids.join(", "),
    }
}

/// The list's tab, named after the work a role finds there.
fn list_tab(role: Role) -> &'static str {
    match role {
        Role::GridWorker => tr("我的案件", "My cases"),
        Role::Dispatcher => tr("待分派", "To dispatch"),
        Role::DepartmentStaff => tr("待办案件", "To handle"),
        _ => tr("全部案件", "All cases"),
    }
}

/// Draws the header for the account signed in, or clears it when nobody is.
pub(super) fn render_top() {
    let (account, screen) = with(|s| (s.account.clone(), s.screen));
    let Some(a) = account else {
        return fill("field-top", &[]);
    };
    let reach = reach(&a);
    let header = h(
        "header",
        &[
            ("class", "field-top"),
            ("data-testid", "field-account"),
            ("data-login", &a.login),
            ("data-role", a.role.code()),
        ],
        &[
            n(h(
                "div",
                &[("class", "field-who")],
                &[
                    n(h("strong", &[], &[t(&a.name)])),
                    n(h(
                        "span",
                        &[],
                        &[t(&format!("{} · {reach}", role_name(a.role)))],
                    )),
                ],
            )),
            button(
                tr("退出", "Sign out"),
                &[
                    ("class", "field-link"),
                    ("data-testid", "field-logout"),
                    ("data-do", "logout"),
                ],
            ),
        ],
    );
    let active = |on: bool| if on { "active" } else { "" };
    let mut tabs = Vec::new();
    if a.role == Role::GridWorker {
        tabs.push(button(
            tr("上报", "Report"),
            &[
                ("data-testid", "field-tab-report"),
                ("data-do", "tab-report"),
                ("class", active(screen == Screen::Report)),
            ],
        ));
    }
    tabs.push(button(
        list_tab(a.role),
        &[
            ("data-testid", "field-tab-cases"),
            ("data-do", "tab-cases"),
            ("class", active(screen != Screen::Report)),
        ],
    ));
    fill(
        "field-top",
        &[n(header), n(h("nav", &[("class", "field-tabs")], &tabs))],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::state::account;

    // The tests read the page's default language, Chinese.

    #[test]
    fn an_account_answers_for_its_department_area_or_grids() {
        let worker = account(Role::GridWorker);
        assert_eq!(reach(&worker), "G1, G2");
        let dispatcher = AccountView {
            area: Some("district:230602".into()),
            ..account(Role::Dispatcher)
        };
        assert_eq!(reach(&dispatcher), "district:230602");
        let staff = AccountView {
            department: Some("D01".into()),
            ..dispatcher
        };
        assert_eq!(
            reach(&staff),
            shared::taxonomy::department_name("D01", false),
            "a department comes before an area"
        );
        assert_ne!(reach(&staff), "—", "D01 is a known department");
    }

    #[test]
    fn the_list_is_named_after_the_roles_work() {
        assert_eq!(list_tab(Role::GridWorker), "我的案件");
        assert_eq!(list_tab(Role::Dispatcher), "待分派");
        assert_eq!(list_tab(Role::DepartmentStaff), "待办案件");
        assert_eq!(list_tab(Role::Leader), "全部案件");
    }
}
