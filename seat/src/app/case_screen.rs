//! One case on the seat's screen: its facts, evidence photos and timeline, read together, and
//! the urge (督办) form a dispatcher presses the department with; and the moves the seat posts,
//! from here and from the dispatch queue.

use super::clock::span;
use super::drill::{is_open, subject, supervision_name};
use super::render;
use super::session::fail;
use super::state::{Level, Names, current, generation, token, with};
use super::view::{card, error, notice, screen};
use super::wire::Case;
use crate::dom::{button, fill, h, n, role_name, t, tr, value, when};
use crate::fetch::{self, Body};
use crate::text;
use shared::auth::Role;
use shared::case::{Action, CaseMove};
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use web_sys::Element;

/// A move's name in a timeline or a notice, as something done.
pub(super) fn action_name(action: Action) -> &'static str {
    match action {
        Action::Report => tr("上报", "Reported"),
        Action::Dispatch => tr("派遣", "Dispatched"),
        Action::Accept => tr("受理", "Accepted"),
        Action::Resolve => tr("处置完成", "Resolved"),
        Action::Verify => tr("核查通过", "Verified"),
        Action::Return => tr("核查不通过，退回", "Returned"),
        Action::Close => tr("结案", "Closed"),
        Action::Reject => tr("不予受理", "Rejected"),
        Action::Escalate => tr("上报上级", "Escalated"),
        Action::Reopen => tr("重新开启", "Reopened"),
        Action::Urge => tr("督办", "Urged"),
        Action::Warn => tr("预警", "Warned"),
        Action::Supervise => tr("超期督办", "Supervised"),
    }
}

/// Lets go of the photos on screen, before the screen is drawn again.
pub(super) fn clear_photos() {
    for url in with(|s| std::mem::take(&mut s.photo_urls)) {
        let _ = web_sys::Url::revoke_object_url(&url);
    }
}

/// One case and its timeline, read together.
pub(super) fn load_case(asked: u64, names: Rc<Names>, id: i64) {
    let Some(token) = token() else { return };
    spawn_local(async move {
        let case_url = format!("/api/cases/{id}");
        let moves_url = format!("/api/cases/{id}/moves");
        let case = fetch::json::<Case>("GET", &case_url, Some(&token), Body::None).await;
        let moves = fetch::json::<Vec<CaseMove>>("GET", &moves_url, Some(&token), Body::None).await;
        match (case, moves) {
            (Ok(case), Ok(moves)) if current(asked) => show_case(&names, &case, &moves, &token),
            (Err(failure), _) | (_, Err(failure)) => fail(failure),
            _ => {}
        }
    });
}

/// The time left before an open case's limit runs out, or by how much it is late.
fn time_left(left: i64) -> String {
    let words = if left >= 0 {
        tr("剩余", "left: ")
    } else {
        tr("已超期", "late by ")
    };
    format!("{words}{}", span(left))
}

/// Who made a move: the actor, with its role when an account made it.
fn moved_by(m: &CaseMove) -> String {
    match &m.role {
        Some(role) => format!("{} ({})", m.actor, role_label(role)),
        None => m.actor.clone(),
    }
}

/// What a move of the timeline says beside its name: the department a dispatch sent the case
/// to, and the move's note.
fn move_note(m: &CaseMove) -> String {
    let mut notes = Vec::new();
    if let Some(d) = &m.department
        && m.action == Action::Dispatch
    {
        notes.push(text::department(d).to_owned());
    }
    if let Some(note) = &m.note {
        notes.push(note.clone());
    }
    notes.join(" · ")
}

/// Draws one case: its facts and photos, its timeline, and for a dispatcher while the
/// department's clock runs, the urge form.
fn show_case(names: &Names, case: &Case, moves: &[CaseMove], token: &str) {
    let open = is_open(case.state);
    let limit = match case.deadline_ms {
        Some(deadline) if open => {
            let left = deadline - js_sys::Date::now() as i64;
            format!("{} · {}", when(deadline), time_left(left))
        }
        Some(deadline) => when(deadline),
        None => tr("未派遣，未计时", "Not dispatched: no time limit yet").to_owned(),
    };
    let fact = |name: &str, value: &str, id: &str| {
        [
            n(h("dt", &[], &[t(name)])),
            n(h("dd", &[("data-testid", id)], &[t(value)])),
        ]
    };
    let grid = case.grid_id.as_deref().unwrap_or_default();
    let facts: Vec<web_sys::Node> = [
        fact(tr("事项", "What"), &subject(case), "seat-subject"),
        fact(
            tr("状态", "State"),
            text::case_state(case.state),
            "seat-state",
        ),
        fact(
            tr("督办", "Supervision"),
            supervision_name(case.supervision),
            "seat-supervision",
        ),
        fact(
            tr("处置部门", "Department"),
            case.department
                .as_deref()
                .map(text::department)
                .unwrap_or("—"),
            "seat-department",
        ),
        fact(tr("时限", "Time limit"), &limit, "seat-limit"),
        fact(
            tr("网格", "Grid"),
            &format!("{} ({grid})", names.grid_name(grid)),
            "seat-grid",
        ),
        fact(
            tr("上报时间", "Reported"),
            &when(case.reported_at_ms),
            "seat-reported-at",
        ),
        fact(
            tr("情况描述", "Description"),
            &case.description,
            "seat-description",
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    let timeline: Vec<web_sys::Node> = moves
        .iter()
        .map(|m| {
            let kids = [
                n(h("span", &[("class", "seat-muted")], &[t(&when(m.at_ms))])),
                n(h("strong", &[], &[t(action_name(m.action))])),
                n(h("span", &[], &[t(&moved_by(m))])),
                n(h("span", &[], &[t(text::case_state(m.to_state))])),
                n(h(
                    "span",
                    &[("class", "seat-note"), ("data-testid", "seat-move-note")],
                    &[t(&move_note(m))],
                )),
            ];
            n(h(
                "li",
                &[
                    ("class", "seat-move"),
                    ("data-testid", "seat-move"),
                    ("data-action", m.action.code()),
                    ("data-seq", &m.seq.to_string()),
                ],
                &kids,
            ))
        })
        .collect();
    let photos: Vec<web_sys::Node> = case
        .photos
        .iter()
        .map(|p| {
            let img = h(
                "img",
                &[
                    ("data-testid", "seat-photo"),
                    ("data-action", p.action.code()),
                    ("alt", text::photo_label(p.action)),
                ],
                &[],
            );
            load_photo(&img, &p.hash, token);
            n(h(
                "figure",
                &[("class", "seat-photo")],
                &[
                    n(img),
                    n(h("figcaption", &[], &[t(text::photo_label(p.action))])),
                ],
            ))
        })
        .collect();
    let photos = if photos.is_empty() {
        vec![n(h(
            "p",
            &[("class", "seat-muted")],
            &[t(tr("无照片", "No photos"))],
        ))]
    } else {
        photos
    };
    let detail = n(h(
        "div",
        &[
            ("class", "seat-detail"),
            ("data-testid", "seat-detail"),
            ("data-case-id", &case.id.to_string()),
            ("data-state", case.state.code()),
            ("data-supervision", case.supervision.code()),
        ],
        &[
            card(
                &format!("#{} {}", case.id, subject(case)),
                &[
                    n(h("dl", &[("class", "seat-facts")], &facts)),
                    n(h(
                        "div",
                        &[("class", "seat-photos"), ("data-testid", "seat-photos")],
                        &photos,
                    )),
                ],
            ),
            card(
                tr("处置过程", "Timeline"),
                &[n(h(
                    "ol",
                    &[("class", "seat-timeline"), ("data-testid", "seat-timeline")],
                    &timeline,
                ))],
            ),
        ],
    ));
    let mut kids = vec![detail];
    // A centre presses the department while the department's clock runs (督办).
    let dispatcher = with(|s| s.account.as_ref().map(|a| a.role)) == Some(Role::Dispatcher);
    if dispatcher && case.state.clock_runs() {
        kids.push(urge_form(case.id));
    }
    fill("seat-body", &[screen(&Level::Case(case.id), &kids)]);
}

/// A role's name from its code; a code the page does not know is named as the system.
fn role_label(code: &str) -> &'static str {
    match Role::from_code(code) {
        Some(role) => role_name(role),
        None => tr("系统", "system"),
    }
}

/// Fetches a photo with the caller's token and shows it in `img`: an `<img src>` cannot
/// send the bearer header.
fn load_photo(img: &Element, hash: &str, token: &str) {
    let (img, hash, token) = (img.clone(), hash.to_owned(), token.to_owned());
    let asked = generation();
    spawn_local(async move {
        let Ok(url) = fetch::photo_url(&hash, &token).await else {
            let _ = img.set_attribute("data-failed", "true");
            return;
        };
        if current(asked) {
            let _ = img.set_attribute("src", &url);
            with(|s| s.photo_urls.push(url));
        } else {
            // The screen changed while the photo loaded.
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    });
}

/// Posts a move of case `id`, one at a time (a second while one is on its way is dropped),
/// and runs `done` once the server took it; a refusal is shown where errors are said.
pub(super) fn post_move(
    id: i64,
    token: String,
    action: Action,
    note: Option<String>,
    department: Option<String>,
    done: impl FnOnce() + 'static,
) {
    let body = shared::case::MoveCase {
        action: action.code().to_owned(),
        note,
        department,
    };
    let json = serde_json::to_string(&body).unwrap_or_default();
    if with(|s| std::mem::replace(&mut s.busy, true)) {
        return;
    }
    error(None);
    spawn_local(async move {
        let url = format!("/api/cases/{id}/moves");
        let answer = fetch::send("POST", &url, Some(&token), Body::Json(json)).await;
        with(|s| s.busy = false);
        match answer {
            Ok(_) => done(),
            Err(failure) => fail(failure),
        }
    });
}

/// The urge form of a case's screen: what the centre asks of the department, and the button.
fn urge_form(id: i64) -> web_sys::Node {
    card(
        tr("督办", "Urge the department"),
        &[n(h(
            "div",
            &[
                ("class", "seat-move-form"),
                ("data-testid", "seat-urge-form"),
            ],
            &[
                n(h(
                    "input",
                    &[
                        ("data-testid", "seat-urge-note"),
                        (
                            "placeholder",
                            tr(
                                "督办意见（必填）",
                                "What is asked of the department (required)",
                            ),
                        ),
                    ],
                    &[],
                )),
                button(
                    tr("督办", "Urge"),
                    &[
                        ("data-do", "urge"),
                        ("data-case-id", &id.to_string()),
                        ("data-testid", "seat-urge"),
                    ],
                ),
            ],
        ))],
    )
}

/// Urges the department holding case `id` with the note typed on the case's screen, then
/// shows the case again with the urge in its timeline.
pub(super) fn urge(id: i64) {
    let note = value("seat-urge-note").trim().to_owned();
    if note.is_empty() {
        return error(Some(tr(
            "请填写督办意见",
            "An urge needs a note saying what is asked",
        )));
    }
    let Some(token) = token() else {
        return;
    };
    post_move(id, token, Action::Urge, Some(note), None, move || {
        render();
        notice(&format!("#{id} {}", action_name(Action::Urge)));
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::case::{CaseState, Supervision};

    fn step(action: Action, role: Option<&str>) -> CaseMove {
        CaseMove {
            seq: 2,
            action,
            from_state: Some(CaseState::Reported),
            to_state: CaseState::Dispatched,
            actor: "dispatcher".into(),
            role: role.map(Into::into),
            at_ms: 0,
            note: None,
            department: Some("D01".into()),
            supervision: Supervision::None,
            deadline_ms: None,
            photos: Vec::new(),
        }
    }

    // The tests read the page's default language, Chinese.

    #[test]
    fn the_time_limit_says_what_is_left_or_how_late() {
        let minute = 60_000;
        assert_eq!(time_left(125 * minute), "剩余2小时5分");
        assert_eq!(time_left(0), "剩余0小时0分", "due now is not late");
        assert_eq!(time_left(-(2 * 1440 + 60) * minute), "已超期2天1小时");
    }

    #[test]
    fn a_move_names_who_made_it_with_their_role() {
        assert_eq!(
            moved_by(&step(Action::Dispatch, Some("dispatcher"))),
            "dispatcher (调度员)"
        );
        assert_eq!(moved_by(&step(Action::Warn, None)), "dispatcher");
        assert_eq!(
            moved_by(&step(Action::Warn, Some("watcher"))),
            "dispatcher (系统)",
            "a role the page does not know is the system's"
        );
    }

    #[test]
    fn a_dispatch_notes_its_department_and_any_move_its_note() {
        let dispatch = step(Action::Dispatch, Some("dispatcher"));
        let department = shared::taxonomy::department_name("D01", false);
        assert_eq!(move_note(&dispatch), department);
        let noted = CaseMove {
            note: Some("尽快处理".into()),
            ..dispatch
        };
        assert_eq!(move_note(&noted), format!("{department} · 尽快处理"));
        let urge = CaseMove {
            action: Action::Urge,
            ..noted
        };
        assert_eq!(
            move_note(&urge),
            "尽快处理",
            "only a dispatch names the department"
        );
        assert_eq!(move_note(&step(Action::Accept, None)), "");
    }

    #[test]
    fn every_move_has_its_own_name() {
        let all: Vec<Action> = std::iter::once(Action::Report)
            .chain(Action::MOVES)
            .chain(Action::WATCHER)
            .collect();
        let names: std::collections::BTreeSet<&str> = all.iter().map(|a| action_name(*a)).collect();
        assert_eq!(names.len(), all.len());
        assert_eq!(action_name(Action::Urge), "督办");
    }
}
