//! The drill-down: the city's area names read from the map documents, an area's figures and
//! its children (city → districts → streets → grids) with the most overdue first, a grid's
//! cases, and an area's open overdue cases.

use super::nav::level_name;
use super::session::fail;
use super::state::{Level, Names, current, token, with};
use super::view::{card, screen};
use super::wire::{
    Case, Collection, Counters, District, Grid, List, Street, Tally, WallAnswer, WallState,
};
use crate::dom::{fill, h, n, t, tr, when};
use crate::fetch::{self, Body, Failure};
use crate::text;
use shared::case::{Bucket, CaseState, Supervision};
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;

/// The districts', streets' and grids' names and parents, from the map documents (their
/// geometry is skipped as it is read).
pub(super) async fn load_names() -> Result<Names, Failure> {
    let districts: Collection<District> =
        fetch::json("GET", "/api/districts.geojson", None, Body::None).await?;
    let streets: Collection<Street> =
        fetch::json("GET", "/api/streets.geojson", None, Body::None).await?;
    let grids: Collection<Grid> =
        fetch::json("GET", "/api/grids.geojson", None, Body::None).await?;
    Ok(Names::new(
        districts.properties(),
        streets.properties(),
        grids.properties(),
    ))
}

/// A city, district or street: its figures and its children, the most overdue first.
pub(super) fn load_area(asked: u64, names: Rc<Names>, level: Level) {
    let Some(token) = token() else { return };
    spawn_local(async move {
        // A replay's or a look back's moment, or now.
        let moment = with(|s| s.replay.as_ref().map(|r| r.shown).or(s.moment));
        let url = match moment {
            Some(at) => format!("/api/wall/at?scope={}&at={at}", level.scope(&names)),
            None => format!("/api/wall?scope={}", level.scope(&names)),
        };
        let state = match fetch::json::<WallAnswer>("GET", &url, Some(&token), Body::None).await {
            Ok(answer) => answer.state,
            Err(failure) => return fail(failure),
        };
        if current(asked) {
            show_area(&names, &level, &state);
        }
    });
}

/// One child of an area in its list: its code, its name and its tally.
type Row = (String, String, Tally);

/// The children of a city, district or street with their tallies, the most overdue first,
/// then the most open, then by code; with the kind of child (`district`, `street` or `grid`).
/// `None` for a level that is not such an area.
fn area_rows(names: &Names, level: &Level, state: &WallState) -> Option<(&'static str, Vec<Row>)> {
    let (kind, mut rows): (&'static str, Vec<Row>) = match level {
        Level::City => (
            "district",
            names
                .districts
                .iter()
                .map(|d| {
                    let tally = state.by_district.get(&d.code).copied().unwrap_or_default();
                    (d.code.clone(), names.district(&d.code), tally)
                })
                .collect(),
        ),
        Level::District(code) => (
            "street",
            names
                .streets
                .iter()
                .filter(|s| s.district_code == *code)
                .map(|s| {
                    let tally = state.by_street.get(&s.code).copied().unwrap_or_default();
                    (s.code.clone(), s.name.clone(), tally)
                })
                .collect(),
        ),
        Level::Street(code) => (
            "grid",
            names
                .grids
                .iter()
                .filter(|g| g.street_code == *code)
                .map(|g| {
                    let tally = state.by_grid.get(&g.id).copied().unwrap_or_default();
                    (g.id.clone(), g.name.clone(), tally)
                })
                .collect(),
        ),
        _ => return None,
    };
    rows.sort_by(|a, b| {
        (b.2.overdue, b.2.open)
            .cmp(&(a.2.overdue, a.2.open))
            .then_with(|| a.0.cmp(&b.0))
    });
    Some((kind, rows))
}

/// The title of an area's list of children of `kind`.
fn children_title(kind: &str) -> &'static str {
    match kind {
        "district" => tr("各区县", "Districts"),
        "street" => tr("各街道", "Streets"),
        _ => tr("各网格", "Grids"),
    }
}

/// Draws an area: its figures and its children. The replay draws it too, at each moment.
pub(super) fn show_area(names: &Names, level: &Level, state: &WallState) {
    let Some((kind, rows)) = area_rows(names, level, state) else {
        return;
    };
    let head = n(h(
        "div",
        &[("class", "seat-item seat-head")],
        &[
            n(h("span", &[], &[t(tr("名称", "Name"))])),
            n(h("span", &[], &[t(tr("超期", "Overdue"))])),
            n(h("span", &[], &[t(tr("在办", "Open"))])),
            n(h("span", &[], &[t(tr("累计上报", "Reported"))])),
        ],
    ));
    let mut items = vec![head];
    items.extend(rows.iter().map(|(code, name, tally)| {
        let overdue = tally.overdue.to_string();
        let open = tally.open.to_string();
        n(h(
            "button",
            &[
                (
                    "class",
                    if tally.overdue > 0 {
                        "seat-item late"
                    } else {
                        "seat-item"
                    },
                ),
                ("data-testid", "seat-item"),
                ("data-do", "child"),
                ("data-level", kind),
                ("data-code", code),
                ("data-open", &open),
                ("data-overdue", &overdue),
            ],
            &[
                n(h("span", &[("class", "seat-name")], &[t(name)])),
                n(h("span", &[("class", "seat-num alarm")], &[t(&overdue)])),
                n(h("span", &[("class", "seat-num")], &[t(&open)])),
                n(h(
                    "span",
                    &[("class", "seat-num muted")],
                    &[t(&tally.reported_total.to_string())],
                )),
            ],
        ))
    }));
    let title = children_title(kind);
    fill(
        "seat-body",
        &[screen(
            level,
            &[
                counters(&state.counters),
                card(title, &[n(h("div", &[("class", "seat-items")], &items))]),
            ],
        )],
    );
}

/// The figures of an area, in a row of tiles.
fn counters(c: &Counters) -> web_sys::Node {
    let tile = |label: &str, value: u64, metric: &str, class: &str| {
        let v = value.to_string();
        n(h(
            "div",
            &[("class", &format!("seat-tile {class}"))],
            &[
                n(h(
                    "strong",
                    &[("data-metric", metric), ("data-value", &v)],
                    &[t(&v)],
                )),
                n(h("span", &[], &[t(label)])),
            ],
        ))
    };
    n(h(
        "div",
        &[("class", "seat-tiles"), ("data-testid", "seat-counters")],
        &[
            tile(tr("在办", "Open"), c.open, "seat-open", ""),
            tile(tr("超期", "Overdue"), c.overdue, "seat-overdue", "alarm"),
            tile(tr("预警", "Warned"), c.warned, "seat-warned", "warn"),
            tile(
                tr("上报上级", "Escalated"),
                c.escalated,
                "seat-escalated",
                "",
            ),
            tile(
                tr("今日上报", "Reported today"),
                c.reported_today,
                "seat-reported-today",
                "",
            ),
            tile(
                tr("今日结案", "Closed today"),
                c.closed_today,
                "seat-closed-today",
                "",
            ),
        ],
    ))
}

/// A grid: its cases, the overdue and the open first.
pub(super) fn load_grid(asked: u64, names: Rc<Names>, id: String) {
    let Some(token) = token() else { return };
    spawn_local(async move {
        let url = format!("/api/cases?view=all&grid={id}&limit=200");
        let list = match fetch::json::<List>("GET", &url, Some(&token), Body::None).await {
            Ok(list) => list,
            Err(failure) => return fail(failure),
        };
        if current(asked) {
            let level = Level::Grid(id);
            let title = format!(
                "{} · {}",
                names.grid_name(match &level {
                    Level::Grid(id) => id,
                    _ => "",
                }),
                tr("案件", "cases")
            );
            show_cases(&names, &level, &title, list);
        }
    });
}

/// The open overdue cases of an area: the server narrows them to overdue and open, the page
/// to the area's grids.
pub(super) fn load_overdue(asked: u64, names: Rc<Names>, area: Level) {
    let Some(token) = token() else { return };
    spawn_local(async move {
        let grid = match &area {
            Level::Grid(id) => format!("&grid={id}"),
            _ => String::new(),
        };
        let url = format!("/api/cases?view=all&supervision=overdue&open=true&limit=200{grid}");
        let mut list = match fetch::json::<List>("GET", &url, Some(&token), Body::None).await {
            Ok(list) => list,
            Err(failure) => return fail(failure),
        };
        list.cases.retain(|c| in_area(&names, &area, c));
        if current(asked) {
            let title = format!(
                "{} · {}",
                level_name(&area, Some(&names)),
                tr("超期未结案件", "open overdue cases")
            );
            show_cases(&names, &Level::Overdue, &title, list);
        }
    });
}

/// Whether a case lies in `area`: a case of a grid the maps do not know lies in none.
fn in_area(names: &Names, area: &Level, case: &Case) -> bool {
    case.grid_id
        .as_deref()
        .and_then(|g| names.grid(g))
        .is_some_and(|g| area.holds(g))
}

/// What a case is about: its sub-item, or its category when it has none.
pub(super) fn subject(case: &Case) -> String {
    match &case.sub_item {
        Some(code) => format!(
            "{} · {}",
            text::category(case.category.code()),
            text::sub_item(code)
        ),
        None => text::category(case.category.code()).to_owned(),
    }
}

/// How a case stands against its time limit, in words.
pub(super) fn supervision_name(s: Supervision) -> &'static str {
    match s {
        Supervision::None => tr("正常", "On time"),
        Supervision::Warned => tr("预警", "Warned"),
        Supervision::Overdue => tr("超期", "Overdue"),
    }
}

/// Whether a case in `state` is still open: neither closed nor rejected.
pub(super) fn is_open(state: CaseState) -> bool {
    state.bucket() == Bucket::Open
}

/// Orders a list of cases: the open overdue first, then the other open ones, then the closed
/// and rejected, each newest first.
fn sort_cases(cases: &mut [Case]) {
    cases.sort_by_key(|c| {
        (
            c.supervision != Supervision::Overdue || !is_open(c.state),
            !is_open(c.state),
            -c.reported_at_ms,
        )
    });
}

/// Draws a list of cases under `title`, on the screen of `level`.
fn show_cases(names: &Names, level: &Level, title: &str, mut list: List) {
    sort_cases(&mut list.cases);
    let head = n(h(
        "div",
        &[("class", "seat-case seat-head")],
        &[
            n(h("span", &[], &[t(tr("编号", "No."))])),
            n(h("span", &[], &[t(tr("事项", "What"))])),
            n(h("span", &[], &[t(tr("网格", "Grid"))])),
            n(h("span", &[], &[t(tr("状态", "State"))])),
            n(h("span", &[], &[t(tr("时限", "Time limit"))])),
            n(h("span", &[], &[t(tr("部门", "Department"))])),
            n(h("span", &[], &[t(tr("上报时间", "Reported"))])),
        ],
    ));
    let mut rows = vec![head];
    rows.extend(list.cases.iter().map(|c| {
        let id = c.id.to_string();
        let late = c.supervision == Supervision::Overdue && is_open(c.state);
        n(h(
            "button",
            &[
                ("class", if late { "seat-case late" } else { "seat-case" }),
                ("data-testid", "seat-case"),
                ("data-do", "case"),
                ("data-case-id", &id),
                ("data-state", c.state.code()),
                ("data-supervision", c.supervision.code()),
            ],
            &[
                n(h("span", &[("class", "seat-num")], &[t(&format!("#{id}"))])),
                n(h("span", &[("class", "seat-name")], &[t(&subject(c))])),
                n(h(
                    "span",
                    &[],
                    &[t(&c
                        .grid_id
                        .as_deref()
                        .map(|g| names.grid_name(g))
                        .unwrap_or_default())],
                )),
                n(h("span", &[], &[t(text::case_state(c.state))])),
                n(h(
                    "span",
                    &[("class", &format!("sup-{}", c.supervision.code()))],
                    &[t(supervision_name(c.supervision))],
                )),
                n(h(
                    "span",
                    &[],
                    &[t(c
                        .department
                        .as_deref()
                        .map(text::department)
                        .unwrap_or("—"))],
                )),
                n(h(
                    "span",
                    &[("class", "seat-muted")],
                    &[t(&when(c.reported_at_ms))],
                )),
            ],
        ))
    }));
    let body = if list.cases.is_empty() {
        n(h(
            "p",
            &[("class", "seat-muted"), ("data-testid", "seat-empty")],
            &[t(tr("暂无案件", "No cases"))],
        ))
    } else {
        n(h("div", &[("class", "seat-items")], &rows))
    };
    let mut kids = vec![body];
    if list.more {
        kids.push(n(h(
            "p",
            &[("class", "seat-muted")],
            &[t(tr(
                "仅列出最近的 200 件",
                "Only the latest 200 are listed",
            ))],
        )));
    }
    fill("seat-body", &[screen(level, &[card(title, &kids)])]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::state::tests::{case, names};

    fn tally(open: u64, overdue: u64) -> Tally {
        Tally {
            open,
            overdue,
            reported_total: open + 1,
        }
    }

    #[test]
    fn an_areas_children_come_most_overdue_first_then_most_open_then_by_code() {
        let mut names = names();
        names.streets.push(Street {
            code: "S0".into(),
            name: "零街道".into(),
            district_code: "D1".into(),
        });
        let mut state = WallState::default();
        state.by_district.insert("D2".into(), tally(5, 1));
        state.by_street.insert("S1".into(), tally(3, 0));
        state.by_street.insert("S0".into(), tally(3, 0));
        state.by_grid.insert("G1".into(), tally(1, 0));
        state.by_grid.insert("G2".into(), tally(9, 0));
        state.by_grid.insert("G9".into(), tally(50, 50));

        let (kind, rows) = area_rows(&names, &Level::City, &state).expect("rows");
        assert_eq!(kind, "district");
        let codes: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(codes, ["D2", "D1"], "the overdue first");
        assert_eq!(rows[0].1, "二区");
        assert_eq!(
            rows[1].2,
            Tally::default(),
            "a district without cases counts none"
        );

        let (kind, rows) = area_rows(&names, &Level::District("D1".into()), &state).expect("rows");
        assert_eq!(kind, "street");
        let codes: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(codes, ["S0", "S1"], "as many open: by code");

        let (kind, rows) = area_rows(&names, &Level::Street("S1".into()), &state).expect("rows");
        assert_eq!(kind, "grid");
        let codes: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(
            codes,
            ["G2", "G1"],
            "the most open first; a grid of no street left out"
        );

        assert!(
            area_rows(&names, &Level::Street("S9".into()), &state)
                .is_some_and(|(_, r)| r.is_empty())
        );
        assert!(area_rows(&names, &Level::Grid("G1".into()), &state).is_none());
        assert!(area_rows(&names, &Level::Case(1), &state).is_none());
    }

    #[test]
    fn the_list_of_children_is_titled_by_their_kind() {
        assert_eq!(children_title("district"), "各区县");
        assert_eq!(children_title("street"), "各街道");
        assert_eq!(children_title("grid"), "各网格");
    }

    #[test]
    fn cases_list_the_open_overdue_first_then_the_open_then_the_rest_newest_first() {
        let listed = |id: i64, state: CaseState, supervision: Supervision| Case {
            state,
            supervision,
            ..case(id)
        };
        let mut cases = vec![
            listed(1, CaseState::Closed, Supervision::Overdue),
            listed(2, CaseState::Dispatched, Supervision::None),
            listed(3, CaseState::Accepted, Supervision::Overdue),
            listed(4, CaseState::Rejected, Supervision::None),
            listed(5, CaseState::Reported, Supervision::Warned),
            listed(6, CaseState::Returned, Supervision::Overdue),
        ];
        sort_cases(&mut cases);
        let ids: Vec<i64> = cases.iter().map(|c| c.id).collect();
        assert_eq!(ids, [6, 3, 5, 2, 4, 1]);
    }

    #[test]
    fn only_closed_and_rejected_cases_are_done() {
        for state in CaseState::ALL {
            let done = matches!(state, CaseState::Closed | CaseState::Rejected);
            assert_eq!(is_open(state), !done, "{state}");
        }
    }

    #[test]
    fn an_overdue_list_keeps_the_cases_of_the_areas_grids() {
        let names = names();
        let known = case(1);
        let elsewhere = Case {
            grid_id: Some("G9".into()),
            ..case(2)
        };
        let nowhere = Case {
            grid_id: None,
            ..case(3)
        };
        assert!(in_area(&names, &Level::City, &known));
        assert!(in_area(&names, &Level::Street("S1".into()), &known));
        assert!(!in_area(&names, &Level::District("D2".into()), &known));
        assert!(
            !in_area(&names, &Level::City, &elsewhere),
            "a grid the maps do not know"
        );
        assert!(!in_area(&names, &Level::City, &nowhere));
    }

    #[test]
    fn a_case_is_about_its_sub_item_or_else_its_category() {
        // The tests read the page's default language, Chinese.
        let item = &shared::taxonomy::SUB_ITEMS[0];
        let about = Case {
            category: item.category,
            sub_item: Some(item.code.to_owned()),
            ..case(1)
        };
        assert_eq!(
            subject(&about),
            format!("{} · {}", item.category.name_zh(), item.name_zh)
        );
        let bare = Case {
            category: shared::case::Category::Ecology,
            ..case(2)
        };
        assert_eq!(subject(&bare), "生态环保");
        assert_eq!(supervision_name(Supervision::Overdue), "超期");
        assert_eq!(supervision_name(Supervision::None), "正常");
    }
}
