//! One case on the field page: its facts and photos, and the move form with a button for
//! each move both the state machine and the caller's role allow; a move is posted with its
//! note and photos, and a resolution or verification waits for a photo.

use super::photos::{clear_photos, load_photo, multipart, photo_count, photo_input};
use super::session::fail;
use super::state::{Screen, token, with};
use super::view::{begin, done, error, label, say, state_badge, subject};
use super::wire::Case;
use crate::dom::{button, fill, h, n, t, tr, value, when};
use crate::fetch::{self, Body};
use crate::text;
use shared::case::{Action, MoveCase};
use wasm_bindgen_futures::spawn_local;
use web_sys::Element;

/// The link back to the list.
pub(super) fn back() -> Element {
    h(
        "button",
        &[
            ("class", "field-link"),
            ("data-testid", "field-back"),
            ("data-do", "back"),
        ],
        &[t(tr("‹ 返回列表", "‹ Back to the list"))],
    )
}

/// The case `id`, drawn only if it is still the screen when it comes.
pub(super) fn load_case(id: i64) {
    let Some(token) = token() else { return };
    spawn_local(async move {
        let url = format!("/api/cases/{id}");
        match fetch::json::<Case>("GET", &url, Some(&token), Body::None).await {
            Ok(case) if with(|s| s.screen) == Screen::Detail(id) => show_case(case),
            Ok(_) => {}
            Err(failure) => fail(failure),
        }
    });
}

/// A move's button, and its name in a notice once made.
fn move_label(action: Action) -> &'static str {
    match action {
        Action::Dispatch => tr("派遣", "Dispatch"),
        Action::Accept => tr("受理", "Accept"),
        Action::Resolve => tr("处置完成", "Resolved"),
        Action::Verify => tr("核查通过", "Verified on site"),
        Action::Return => tr("核查不通过，退回", "Not fixed: return"),
        Action::Close => tr("结案", "Close"),
        Action::Reject => tr("不予受理", "Reject"),
        Action::Escalate => tr("上报上级", "Escalate"),
        Action::Reopen => tr("重新开启", "Reopen"),
        Action::Urge => tr("督办", "Urge"),
        Action::Report | Action::Warn | Action::Supervise => action.code(),
    }
}

/// The moves whose evidence is a photo: the after photo of a fix, the photo of a check.
fn needs_photo(action: Action) -> bool {
    matches!(action, Action::Resolve | Action::Verify)
}

/// A move's button class: the moves that send a case back or away are the secondary ones, so
/// that the move forward is the one that stands out.
fn move_class(action: Action) -> &'static str {
    if matches!(action, Action::Return | Action::Reject) {
        "field-secondary"
    } else {
        "field-primary"
    }
}

/// The department a case is with: its own once dispatched, else the one its sub-item goes to,
/// where a dispatch sends it.
fn department_of(case: &Case) -> Option<String> {
    case.department.clone().or_else(|| {
        case.sub_item
            .as_deref()
            .and_then(shared::taxonomy::sub_item)
            .map(|s| s.department.to_owned())
    })
}

/// A move's body: a note of only blanks is no note, and the server picks a dispatch's
/// department from the sub-item.
fn move_of(action: Action, note: String) -> MoveCase {
    MoveCase {
        action: action.code().to_owned(),
        note: Some(note).filter(|n| !n.trim().is_empty()),
        department: None,
    }
}

/// One case with its photos and a button for each move both the state machine and the
/// caller's role allow.
fn show_case(case: Case) {
    clear_photos();
    let moves = with(|s| s.moves_of(&case.allowed));
    let department = department_of(&case);
    let fact = |name: &str, value: &str, id: &str| {
        [
            n(h("dt", &[], &[t(name)])),
            n(h("dd", &[("data-testid", id)], &[t(value)])),
        ]
    };
    let facts: Vec<web_sys::Node> = [
        fact(
            tr("网格", "Grid"),
            case.grid_id.as_deref().unwrap_or_default(),
            "field-grid-id",
        ),
        fact(
            tr("上报时间", "Reported"),
            &when(case.reported_at_ms),
            "field-reported-at",
        ),
        fact(
            tr("处置部门", "Department"),
            department.as_deref().map_or("—", text::department),
            "field-department",
        ),
        fact(
            tr("时限", "Due"),
            &case.deadline_ms.map_or_else(|| "—".to_owned(), when),
            "field-deadline",
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    let photos: Vec<web_sys::Node> = case
        .photos
        .iter()
        .map(|p| {
            let item = h(
                "li",
                &[
                    ("data-testid", "field-photo-item"),
                    ("data-action", p.action.code()),
                ],
                &[n(h("span", &[], &[t(text::photo_label(p.action))]))],
            );
            load_photo(&item, &p.hash, text::photo_label(p.action));
            n(item)
        })
        .collect();
    let id = case.id.to_string();
    let mut kids = vec![
        n(back()),
        n(h(
            "div",
            &[("class", "field-row")],
            &[
                n(h("h2", &[], &[t(&subject(&case))])),
                state_badge(case.state),
            ],
        )),
        n(h("p", &[("class", "field-desc")], &[t(&case.description)])),
        n(h("dl", &[("class", "field-facts")], &facts)),
        n(h(
            "ul",
            &[("class", "field-photos"), ("data-testid", "field-photos")],
            &photos,
        )),
    ];
    if !moves.is_empty() {
        let mut actions = vec![
            label(tr("现场照片", "Photos"), photo_input("field-move-photo")),
            label(
                tr("说明", "Note"),
                h(
                    "textarea",
                    &[("data-testid", "field-move-note"), ("rows", "2")],
                    &[],
                ),
            ),
        ];
        for m in moves {
            actions.push(button(
                move_label(m),
                &[
                    ("class", move_class(m)),
                    ("data-testid", &format!("field-move-{}", m.code())),
                    ("data-do", "move"),
                    ("data-action", m.code()),
                    ("data-case-id", &id),
                ],
            ));
        }
        kids.push(n(h("div", &[("class", "field-actions")], &actions)));
    }
    fill(
        "field-body",
        &[n(h(
            "section",
            &[
                ("class", "field-card"),
                ("data-testid", "field-detail"),
                ("data-case-id", &id),
                ("data-state", case.state.code()),
            ],
            &kids,
        ))],
    );
}

/// Makes the move `action` on case `id` with the form's note and photos, and shows the case
/// as the move left it.
pub(super) fn make(id: i64, action: Action) {
    if needs_photo(action) && photo_count("field-move-photo") == 0 {
        return error(&format!(
            "{}{}",
            tr("请先拍摄现场照片：", "Take a photo first: "),
            move_label(action)
        ));
    }
    let body = move_of(action, value("field-move-note"));
    let form = match multipart("move", &body, "field-move-photo") {
        Ok(form) => form,
        Err(err) => return error(&err),
    };
    if !begin() {
        return;
    }
    spawn_local(async move {
        let url = format!("/api/cases/{id}/moves");
        let answer = fetch::json::<Case>("POST", &url, token().as_deref(), Body::Form(form)).await;
        done();
        match answer {
            Ok(case) => {
                if with(|s| s.screen) == Screen::Detail(id) {
                    show_case(case);
                }
                say("notice", Some(&format!("#{id} {}", move_label(action))));
            }
            Err(failure) => fail(failure),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::wire::tests::case;

    // The tests read the page's default language, Chinese.

    #[test]
    fn every_move_a_person_makes_has_its_own_button() {
        let names: std::collections::BTreeSet<&str> =
            Action::MOVES.iter().map(|a| move_label(*a)).collect();
        assert_eq!(names.len(), Action::MOVES.len());
        for a in Action::MOVES {
            assert_ne!(move_label(a), a.code(), "{a:?} has a name");
        }
        assert_eq!(move_label(Action::Verify), "核查通过");
    }

    #[test]
    fn only_a_fix_and_a_check_need_a_photo() {
        let needing: Vec<Action> = Action::MOVES
            .into_iter()
            .filter(|a| needs_photo(*a))
            .collect();
        assert_eq!(needing, [Action::Resolve, Action::Verify]);
    }

    #[test]
    fn sending_back_or_away_is_the_secondary_button() {
        assert_eq!(move_class(Action::Return), "field-secondary");
        assert_eq!(move_class(Action::Reject), "field-secondary");
        assert_eq!(move_class(Action::Dispatch), "field-primary");
        assert_eq!(move_class(Action::Verify), "field-primary");
    }

    #[test]
    fn a_case_is_with_its_department_or_its_sub_items() {
        assert_eq!(department_of(&case(1, None)), None);
        assert_eq!(
            department_of(&case(2, Some("0801"))).as_deref(),
            Some("D01"),
            "a tilted lamp post goes to the sub-item's department"
        );
        let dispatched = Case {
            department: Some("D27".into()),
            ..case(3, Some("0801"))
        };
        assert_eq!(department_of(&dispatched).as_deref(), Some("D27"));
    }

    #[test]
    fn a_blank_note_is_no_note() {
        let m = move_of(Action::Return, "  \n".into());
        assert_eq!((m.action.as_str(), m.note), ("return", None));
        let m = move_of(Action::Resolve, " 已扶正 ".into());
        assert_eq!(
            m.note.as_deref(),
            Some(" 已扶正 "),
            "a note is sent as written"
        );
        assert_eq!(m.department, None);
    }
}
