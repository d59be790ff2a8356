//! `GET /api/cases`: the cases a caller may see, filtered to its work (a grid worker's own
//! cases, a department's or a centre's queue), newest report first.
//!
//! The reach of the caller (its grids, its department or its area) becomes part of the query,
//! so a list never reads a case its caller may not see; every row is still checked against
//! `Principal::may_see`, the one rule for reading a case, before it is shown.

use super::Cases;
use crate::error::AppError;
use crate::store::binds::Binds;
use crate::store::case_rows::{CASE_COLUMNS, case_from_row};
use gridwall_core::policy::Principal;
use shared::auth::Role;
use shared::case::{CaseList, CaseListView, CaseState, CaseSummary, Supervision};
use shared::wall::Scope;

/// Cases in one answer when the request names no limit.
pub const DEFAULT_LIMIT: u32 = 50;
/// The most cases one answer holds: a page for a phone or a seat, not an export.
pub const MAX_LIMIT: u32 = 200;

/// What `GET /api/cases` asks for, as its query parameters arrive.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `mine`, `queue` or `all`; the caller's role decides when absent.
    pub view: Option<String>,
    /// One case state's code.
    pub state: Option<String>,
    /// 1 to [`MAX_LIMIT`]; [`DEFAULT_LIMIT`] when absent. A string, so that a bad value gets
    /// the API's own message rather than the query parser's.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// One grid's id: the cases reported in it.
    pub grid: Option<String>,
    /// `none`, `warned` or `overdue`: the cases whose time limit stands so.
    pub supervision: Option<String>,
    /// `true` for the cases still open (neither closed nor rejected), `false` for the others.
    #[param(value_type = Option<bool>)]
    pub open: Option<String>,
}

/// A query whose values were checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Checked {
    view: CaseListView,
    state: Option<CaseState>,
    limit: u32,
    grid: Option<String>,
    supervision: Option<Supervision>,
    open: Option<bool>,
}

/// The view a role gets when it asks for none: its own work.
fn default_view(role: Role) -> CaseListView {
    match role {
        Role::GridWorker => CaseListView::Mine,
        Role::Dispatcher | Role::DepartmentStaff => CaseListView::Queue,
        Role::Leader | Role::ReportingApp | Role::System => CaseListView::All,
    }
}

/// The views a role has: `mine` is a grid worker's, `queue` belongs to the roles that move
/// cases, and everyone has `all`.
fn views_of(role: Role) -> &'static [CaseListView] {
    match role {
        Role::GridWorker => &[CaseListView::Mine, CaseListView::Queue, CaseListView::All],
        Role::Dispatcher | Role::DepartmentStaff => &[CaseListView::Queue, CaseListView::All],
        Role::Leader | Role::ReportingApp | Role::System => &[CaseListView::All],
    }
}

/// The states that wait for a role's next move: what its queue lists.
fn queue_states(role: Role) -> &'static [CaseState] {
    match role {
        Role::GridWorker => &[CaseState::Resolved, CaseState::Verified],
        Role::Dispatcher => &[CaseState::Reported, CaseState::Escalated],
        Role::DepartmentStaff => &[
            CaseState::Dispatched,
            CaseState::Accepted,
            CaseState::Returned,
        ],
        Role::Leader | Role::ReportingApp | Role::System => &[],
    }
}

pub(crate) fn check(query: &ListQuery, role: Role) -> Result<Checked, AppError> {
    let views = views_of(role);
    let codes = |views: &[CaseListView]| {
        views
            .iter()
            .map(|v| v.code())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let view = match query.view.as_deref().map(str::trim) {
        None | Some("") => default_view(role),
        Some(code) => match CaseListView::from_code(code) {
            Some(view) if views.contains(&view) => view,
            Some(view) => {
                return Err(AppError::bad_parameter(
                    "view",
                    format!(
                        "a {role} has no `{}` view; it has: {}",
                        view.code(),
                        codes(views)
                    ),
                ));
            }
            None => {
                return Err(AppError::bad_parameter(
                    "view",
                    format!(
                        "unknown view `{}`; expected one of: {}",
                        code.chars().take(32).collect::<String>(),
                        codes(&CaseListView::ALL)
                    ),
                ));
            }
        },
    };
    let state = match query.state.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(code) => Some(CaseState::from_code(code).ok_or_else(|| {
            let known: Vec<&str> = CaseState::ALL.iter().map(|s| s.code()).collect();
            AppError::bad_parameter(
                "state",
                format!(
                    "unknown state `{}`; expected one of: {}",
                    code.chars().take(32).collect::<String>(),
                    known.join(", ")
                ),
            )
        })?),
    };
    let limit = match query.limit.as_deref().map(str::trim) {
        None => DEFAULT_LIMIT,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                AppError::bad_parameter(
                    "limit",
                    format!(
                        "`{}` is not a whole number from 1 to {MAX_LIMIT}",
                        text.chars().take(32).collect::<String>()
                    ),
                )
            })?,
    };
    let grid = match query.grid.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(id) if id.len() <= 64 && !id.contains(char::is_control) => Some(id.to_owned()),
        Some(id) => {
            return Err(AppError::bad_parameter(
                "grid",
                format!(
                    "`{}` is no grid id (at most 64 characters, no control characters)",
                    id.chars()
                        .filter(|c| !c.is_control())
                        .take(32)
                        .collect::<String>()
                ),
            ));
        }
    };
    let supervision = match query.supervision.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(code) => Some(Supervision::from_code(code).ok_or_else(|| {
            AppError::bad_parameter(
                "supervision",
                format!(
                    "unknown supervision `{}`; expected one of: none, warned, overdue",
                    code.chars().take(32).collect::<String>()
                ),
            )
        })?),
    };
    let open = match query.open.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(text) => {
            return Err(AppError::bad_parameter(
                "open",
                format!(
                    "`{}` is neither `true` nor `false`",
                    text.chars().take(32).collect::<String>()
                ),
            ));
        }
    };
    Ok(Checked {
        view,
        state,
        limit,
        grid,
        supervision,
        open,
    })
}

/// A `WHERE` clause being built, with its values bound in order as `$1`, `$2`, …
#[derive(Debug, Default)]
struct Filter {
    clauses: Vec<String>,
    binds: Binds,
}

impl Filter {
    /// The next placeholder, bound to `value`.
    fn bind(&mut self, value: &str) -> String {
        self.binds.text(value)
    }

    fn states(&mut self, states: &[CaseState]) {
        let list: Vec<String> = states.iter().map(|s| self.bind(s.code())).collect();
        self.clauses.push(format!("state IN ({})", list.join(", ")));
    }
}

/// Narrows `filter` to the cases `who` may see, by the rule of `Principal::may_see`; `false`
/// when it may see none at all.
fn reach(filter: &mut Filter, who: &Principal) -> bool {
    match who.role {
        Role::GridWorker => {
            if who.grids.is_empty() {
                return false;
            }
            let mut grids: Vec<&String> = who.grids.iter().collect();
            grids.sort_unstable();
            let list: Vec<String> = grids.into_iter().map(|g| filter.bind(g)).collect();
            filter
                .clauses
                .push(format!("grid_id IN ({})", list.join(", ")));
        }
        Role::DepartmentStaff => {
            let Some(department) = &who.department else {
                return false;
            };
            let p = filter.bind(department);
            filter.clauses.push(format!("department_code = {p}"));
        }
        Role::Dispatcher | Role::Leader => match &who.area {
            Some(Scope::City) => {}
            Some(Scope::District(code)) => {
                let p = filter.bind(code);
                filter.clauses.push(format!(
                    "grid_id IN (SELECT g.id FROM grids g JOIN streets s ON s.code = g.street_code \
                     WHERE s.district_code = {p})"
                ));
            }
            Some(Scope::Street(code)) => {
                let p = filter.bind(code);
                filter.clauses.push(format!(
                    "grid_id IN (SELECT g.id FROM grids g WHERE g.street_code = {p})"
                ));
            }
            None => return false,
        },
        Role::ReportingApp | Role::System => {}
    }
    true
}

impl Cases {
    /// The cases `who` may see in the view `query` asks for, newest report first: 400 naming
    /// the parameter when a value is wrong or the view is not one of the role's.
    pub async fn list_for(&self, who: &Principal, query: &ListQuery) -> Result<CaseList, AppError> {
        let checked = check(query, who.role)?;
        let mut filter = Filter::default();
        let reachable = reach(&mut filter, who);
        match checked.view {
            CaseListView::All => {}
            CaseListView::Queue => filter.states(queue_states(who.role)),
            CaseListView::Mine => {
                // A worker's own reports are found by the log's actor, which every account
                // has, rather than by the reporter's member id, which only some have.
                let actor = filter.bind(&who.actor);
                let waiting: Vec<String> = queue_states(who.role)
                    .iter()
                    .map(|s| filter.bind(s.code()))
                    .collect();
                filter.clauses.push(format!(
                    "(EXISTS (SELECT 1 FROM transitions t WHERE t.case_id = cases.id \
                     AND t.action = 'report' AND t.actor = {actor}) OR state IN ({}))",
                    waiting.join(", ")
                ));
            }
        }
        if let Some(state) = checked.state {
            let p = filter.bind(state.code());
            filter.clauses.push(format!("state = {p}"));
        }
        if let Some(grid) = &checked.grid {
            let p = filter.bind(grid);
            filter.clauses.push(format!("grid_id = {p}"));
        }
        if let Some(supervision) = checked.supervision {
            let p = filter.bind(supervision.code());
            filter.clauses.push(format!("supervision = {p}"));
        }
        if let Some(open) = checked.open {
            let ended = [CaseState::Closed, CaseState::Rejected].map(|s| filter.bind(s.code()));
            filter.clauses.push(format!(
                "state {}IN ({})",
                if open { "NOT " } else { "" },
                ended.join(", ")
            ));
        }
        let mut list = CaseList {
            view: checked.view,
            state: checked.state,
            limit: checked.limit,
            cases: Vec::new(),
            more: false,
        };
        if !reachable {
            return Ok(list);
        }
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases{} ORDER BY reported_at DESC, id DESC LIMIT {}",
            if filter.clauses.is_empty() {
                String::new()
            } else {
                format!(" WHERE {}", filter.clauses.join(" AND "))
            },
            // One more than the limit says whether there are more.
            checked.limit + 1
        );
        let rows = filter.binds.query(sql).fetch_all(&self.inner.db).await?;
        list.more = rows.len() > checked.limit as usize;
        for row in rows.iter().take(checked.limit as usize) {
            let case = case_from_row(row)?;
            if who.may_see(
                case.grid_id.as_deref(),
                case.facts.department.as_deref(),
                &self.inner.areas,
            ) {
                list.cases.push(CaseSummary::from(&case.view()));
            }
        }
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(view: Option<&str>, state: Option<&str>, limit: Option<&str>) -> ListQuery {
        ListQuery {
            view: view.map(str::to_owned),
            state: state.map(str::to_owned),
            limit: limit.map(str::to_owned),
            ..ListQuery::default()
        }
    }

    fn parameter_of(err: AppError) -> String {
        match err {
            AppError::BadParameter { parameter, .. } => parameter,
            other => panic!("expected a bad parameter, got {other:?}"),
        }
    }

    #[test]
    fn each_role_gets_its_own_work_by_default() {
        let q = ListQuery::default();
        assert_eq!(
            check(&q, Role::GridWorker).map(|c| c.view).ok(),
            Some(CaseListView::Mine)
        );
        assert_eq!(
            check(&q, Role::DepartmentStaff).map(|c| c.view).ok(),
            Some(CaseListView::Queue)
        );
        assert_eq!(
            check(&q, Role::Leader).map(|c| c.view).ok(),
            Some(CaseListView::All)
        );
        assert_eq!(check(&q, Role::Dispatcher).map(|c| c.limit).ok(), Some(50));
    }

    #[test]
    fn bad_values_name_their_parameter() {
        for (q, role, parameter) in [
            (query(Some("everything"), None, None), Role::Leader, "view"),
            (query(Some("mine"), None, None), Role::Dispatcher, "view"),
            (query(Some("queue"), None, None), Role::Leader, "view"),
            (query(None, Some("done"), None), Role::GridWorker, "state"),
            (query(None, None, Some("0")), Role::GridWorker, "limit"),
            (query(None, None, Some("201")), Role::GridWorker, "limit"),
            (query(None, None, Some("-1")), Role::GridWorker, "limit"),
            (query(None, None, Some("ten")), Role::GridWorker, "limit"),
            (query(None, None, Some("")), Role::GridWorker, "limit"),
            (
                ListQuery {
                    supervision: Some("late".to_owned()),
                    ..ListQuery::default()
                },
                Role::Leader,
                "supervision",
            ),
            (
                ListQuery {
                    open: Some("yes".to_owned()),
                    ..ListQuery::default()
                },
                Role::Leader,
                "open",
            ),
            (
                ListQuery {
                    grid: Some("x".repeat(65)),
                    ..ListQuery::default()
                },
                Role::Leader,
                "grid",
            ),
        ] {
            let err = check(&q, role).expect_err("a bad value");
            assert_eq!(parameter_of(err), parameter, "for {q:?} as {role}");
        }
        let ok = check(
            &query(Some("all"), Some("closed"), Some("200")),
            Role::DepartmentStaff,
        )
        .expect("good values");
        assert_eq!(
            ok,
            Checked {
                view: CaseListView::All,
                state: Some(CaseState::Closed),
                limit: 200,
                grid: None,
                supervision: None,
                open: None
            }
        );
    }
}
