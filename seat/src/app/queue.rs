//! The dispatch workbench: the seat's incoming queue, refreshed live by the area's stream and
//! a timer, and worked from the keyboard (select, open, dispatch, reject, escalate).

use super::case_screen::{action_name, post_move};
use super::drill::{subject, supervision_name};
use super::go;
use super::session::{fail, socket_url};
use super::state::{Level, back, current, generation, token, with};
use super::view::{card, error, notice, screen};
use super::wire::{Case, List};
use crate::dom::{by_id, doc, fill, h, n, t, tr, value, when};
use crate::fetch::{self, Body};
use crate::text;
use shared::auth::Role;
use shared::case::Action;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen_futures::spawn_local;
use web_sys::Element;

/// Whether the queue is on screen.
fn queue_shown() -> bool {
    with(|s| s.path.last() == Some(&Level::Queue))
}

/// Opens the stream of the seat's area: every frame but a heartbeat means the area changed,
/// so the queue is asked for again (at most once a second, by [`queue_tick`]).
pub(super) fn open_stream() {
    let (area, token) = with(|s| {
        (
            s.account.as_ref().and_then(|a| a.area.clone()),
            s.token.clone(),
        )
    });
    let Some(token) = token else {
        return;
    };
    if with(|s| s.queue.socket.is_some()) {
        return;
    }
    let scope = area.unwrap_or_else(|| "city".to_owned());
    let url = socket_url(&format!("/ws?scope={scope}&token={token}"));
    let Ok(socket) = web_sys::WebSocket::new(&url) else {
        return;
    };
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(|ev: web_sys::MessageEvent| {
            if moves_area(&ev.data().as_string().unwrap_or_default()) {
                with(|s| s.queue.stale = true);
            }
        });
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The socket lives as long as the session; the timer refreshes the queue if it drops.
    on_message.forget();
    with(|s| s.queue.socket = Some(socket));
}

/// Whether a frame of the area's stream says the area moved. A heartbeat says only that the
/// link lives, and the hello only that it opened; their type is named at the frame's start,
/// so only the start is looked at.
fn moves_area(frame: &str) -> bool {
    let head: String = frame.chars().take(40).collect();
    !head.contains("heartbeat") && !head.contains("hello")
}

/// Refreshes the queue on screen when the stream said the area moved (at most once a
/// second) and every five seconds in any case, unless a move is being written.
pub(super) fn queue_tick(now: f64) {
    let due = with(|s| s.path.last() == Some(&Level::Queue) && s.queue.due(now));
    if due {
        load_queue(false);
    }
}

/// Asks for the queue: a dispatcher's own (`view=queue`), or for a leader, who makes no
/// moves, the reported cases it may read.
pub(super) fn load_queue(first: bool) {
    let Some(token) = token() else { return };
    let leader = with(|s| s.account.as_ref().is_some_and(|a| a.role == Role::Leader));
    with(|s| {
        s.queue.loading = true;
        s.queue.stale = false;
        s.queue.last_load = js_sys::Date::now();
    });
    let asked = generation();
    spawn_local(async move {
        let url = if leader {
            "/api/cases?view=all&state=reported&limit=200"
        } else {
            "/api/cases?view=queue&limit=200"
        };
        let answer = fetch::json::<List>("GET", url, Some(&token), Body::None).await;
        with(|s| s.queue.loading = false);
        match answer {
            Ok(list) if current(asked) || (!first && queue_shown()) => {
                with(|s| s.queue.refresh(list.cases));
                // A move being written keeps its form: the list waits for it.
                if with(|s| s.queue.form.is_none()) {
                    show_queue();
                }
            }
            Ok(_) => {}
            Err(failure) => fail(failure),
        }
    });
}

/// The sub-item's default department, for a dispatch that names none.
fn default_department(case: &Case) -> Option<&'static str> {
    case.sub_item
        .as_deref()
        .and_then(shared::taxonomy::sub_item)
        .map(|s| s.department)
}

/// Draws the queue: the keys, the cases with the selected one's form, and the help when asked.
pub(super) fn show_queue() {
    let (cases, selected, form, help, names) = with(|s| {
        (
            s.queue.cases.clone(),
            s.queue.selected,
            s.queue.form,
            s.queue.help,
            s.names.clone(),
        )
    });
    let names = names.unwrap_or_default();
    let mut rows = Vec::new();
    for c in &cases {
        let id = c.id.to_string();
        let chosen = Some(c.id) == selected;
        rows.push(n(h(
            "button",
            &[
                (
                    "class",
                    if chosen {
                        "seat-case selected"
                    } else {
                        "seat-case"
                    },
                ),
                ("data-testid", "seat-queue-item"),
                ("data-do", "select"),
                ("data-case-id", &id),
                ("data-state", c.state.code()),
                ("data-selected", if chosen { "true" } else { "false" }),
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
                n(h("span", &[], &[t(supervision_name(c.supervision))])),
                n(h(
                    "span",
                    &[],
                    &[t(default_department(c)
                        .map(text::department)
                        .unwrap_or("—"))],
                )),
                n(h(
                    "span",
                    &[("class", "seat-muted")],
                    &[t(&when(c.reported_at_ms))],
                )),
            ],
        )));
        if chosen && let Some(action) = form {
            rows.push(move_form(c, action));
        }
    }
    let keys = n(h(
        "p",
        &[("class", "seat-muted"), ("data-testid", "seat-keys-hint")],
        &[t(tr(
            "j/k 或 ↓/↑ 选择 · Enter 打开 · d 派遣 · r 不予受理 · e 上报上级 · Esc 返回 · ? 快捷键",
            "j/k or ↓/↑ select · Enter open · d dispatch · r reject · e escalate · Esc back · ? keys",
        ))],
    ));
    let mut kids = vec![keys];
    if help {
        kids.push(help_panel());
    }
    if rows.is_empty() {
        kids.push(n(h(
            "p",
            &[("class", "seat-muted"), ("data-testid", "seat-empty")],
            &[t(tr("暂无待派遣案件", "Nothing waits for dispatch"))],
        )));
    } else {
        kids.push(n(h(
            "div",
            &[("class", "seat-items"), ("data-testid", "seat-queue")],
            &rows,
        )));
    }
    let title = format!("{} ({})", tr("待派遣", "Waiting for dispatch"), cases.len());
    fill(
        "seat-body",
        &[screen(&Level::Queue, &[card(&title, &kids)])],
    );
    if form.is_some() {
        let id = match form {
            Some(Action::Reject) => "seat-reject-reason",
            _ => "seat-dispatch-department",
        };
        if let Some(el) = by_id(id).and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    }
}

fn help_panel() -> web_sys::Node {
    let rows: Vec<web_sys::Node> = [
        ("j ↓", tr("下一件", "next case")),
        ("k ↑", tr("上一件", "previous case")),
        (
            "Enter",
            tr("打开案件；在表单中发送", "open the case; in a form, send"),
        ),
        (
            "d",
            tr(
                "派遣（默认部门已选好）",
                "dispatch (the default department is chosen)",
            ),
        ),
        (
            "r",
            tr("不予受理（须填写理由）", "reject (a reason is required)"),
        ),
        ("e", tr("上报上级", "escalate")),
        ("Esc", tr("取消表单或返回", "cancel the form or go back")),
        ("?", tr("显示或隐藏快捷键", "show or hide the keys")),
    ]
    .iter()
    .flat_map(|(key, what)| {
        [
            n(h("dt", &[], &[n(h("kbd", &[], &[t(key)]))])),
            n(h("dd", &[], &[t(what)])),
        ]
    })
    .collect();
    n(h(
        "dl",
        &[
            ("class", "seat-facts seat-help"),
            ("data-testid", "seat-help"),
        ],
        &rows,
    ))
}

/// The form of a dispatch (a department, the sub-item's chosen) or a rejection (a reason).
fn move_form(case: &Case, action: Action) -> web_sys::Node {
    let control = match action {
        Action::Reject => n(h(
            "input",
            &[
                ("data-testid", "seat-reject-reason"),
                (
                    "placeholder",
                    tr("不予受理的理由（必填）", "Why it is rejected (required)"),
                ),
            ],
            &[],
        )),
        _ => {
            let chosen = default_department(case);
            let options: Vec<web_sys::Node> = shared::taxonomy::DEPARTMENTS
                .iter()
                .map(|d| {
                    let label = format!("{} {}", d.code, text::department(d.code));
                    let mut attrs = vec![("value", d.code)];
                    if Some(d.code) == chosen {
                        attrs.push(("selected", ""));
                    }
                    n(h("option", &attrs, &[t(&label)]))
                })
                .collect();
            n(h(
                "select",
                &[("data-testid", "seat-dispatch-department")],
                &options,
            ))
        }
    };
    let label = match action {
        Action::Reject => tr("不予受理", "Reject"),
        _ => tr("派遣至", "Dispatch to"),
    };
    n(h(
        "div",
        &[
            ("class", "seat-move-form"),
            ("data-testid", &format!("seat-{}-form", action.code())),
            ("data-case-id", &case.id.to_string()),
        ],
        &[
            n(h("strong", &[], &[t(&format!("#{} {label}", case.id))])),
            control,
            n(h(
                "span",
                &[("class", "seat-muted")],
                &[t(tr("Enter 发送 · Esc 取消", "Enter sends · Esc cancels"))],
            )),
        ],
    ))
}

/// Sends a move of the selected case and refreshes the queue; a refusal is shown in the
/// server's words and the form stays.
fn send_move(action: Action) {
    let (id, token) = with(|s| (s.queue.selected, s.token.clone()));
    let (Some(id), Some(token)) = (id, token) else {
        return;
    };
    let note = match action {
        Action::Reject => {
            let reason = value("seat-reject-reason").trim().to_owned();
            if reason.is_empty() {
                return error(Some(tr(
                    "请填写不予受理的理由",
                    "A rejection needs a reason",
                )));
            }
            Some(reason)
        }
        _ => None,
    };
    let department = match action {
        Action::Dispatch => Some(value("seat-dispatch-department")).filter(|d| !d.is_empty()),
        _ => None,
    };
    post_move(id, token, action, note, department, move || {
        with(|s| s.queue.moved(id));
        notice(&format!("#{id} {}", action_name(action)));
        show_queue();
        load_queue(false);
    });
}

/// The seat's keys. In a text field or a list only Enter and Esc act, so typing a reason
/// never moves a case.
pub(super) fn on_key(ev: web_sys::Event) {
    let key = js_sys::Reflect::get(&ev, &"key".into())
        .ok()
        .and_then(|k| k.as_string())
        .unwrap_or_default();
    let modified = ["ctrlKey", "metaKey", "altKey"].iter().any(|m| {
        js_sys::Reflect::get(&ev, &(*m).into())
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    });
    // Keys typed in the wall panel are the panel's: Enter there takes the wall, and must not
    // send a move being written in the queue.
    let in_panel = ev
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .and_then(|el| el.closest("[data-testid=\"wall-panel\"]").ok().flatten())
        .is_some();
    if modified || in_panel || with(|s| s.account.is_none()) {
        return;
    }
    let typing = ev
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA"));
    let form = with(|s| s.queue.form);
    let on_queue = queue_shown();
    match key.as_str() {
        "Escape" => {
            ev.prevent_default();
            if form.is_some() && on_queue {
                with(|s| s.queue.form = None);
                error(None);
                show_queue();
            } else if !typing {
                go(back);
            }
        }
        "Enter" if on_queue => {
            ev.prevent_default();
            match form {
                Some(action) => send_move(action),
                None if !typing => {
                    if let Some(id) = with(|s| s.queue.selected) {
                        go(|path| path.push(Level::Case(id)));
                    }
                }
                None => {}
            }
        }
        _ if typing || !on_queue || form.is_some() => {}
        "j" | "ArrowDown" => {
            ev.prevent_default();
            move_selection(1);
        }
        "k" | "ArrowUp" => {
            ev.prevent_default();
            move_selection(-1);
        }
        "d" | "r" if with(|s| s.queue.selected.is_some()) => {
            ev.prevent_default();
            let action = if key == "d" {
                Action::Dispatch
            } else {
                Action::Reject
            };
            with(|s| s.queue.form = Some(action));
            error(None);
            show_queue();
        }
        "e" if with(|s| s.queue.selected.is_some()) => {
            ev.prevent_default();
            send_move(Action::Escalate);
        }
        "?" => {
            with(|s| s.queue.help = !s.queue.help);
            show_queue();
        }
        _ => {}
    }
}

/// Moves the selection down (`by` = 1) or up (-1) and brings the selected case into view.
fn move_selection(by: i64) {
    with(|s| s.queue.select_next(by));
    show_queue();
    if let Some(el) = doc()
        .query_selector("[data-testid=\"seat-queue-item\"][data-selected=\"true\"]")
        .ok()
        .flatten()
    {
        el.scroll_into_view_with_bool(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::state::tests::case;

    #[test]
    fn only_frames_other_than_heartbeats_and_hellos_move_the_area() {
        assert!(!moves_area(r#"{"type":"heartbeat","at_ms":1}"#));
        assert!(!moves_area(r#"{"type":"hello","protocol":4,"state":{}}"#));
        assert!(moves_area(r#"{"type":"delta","changes":[]}"#));
        assert!(moves_area(""), "an empty frame is not a heartbeat");
        let late = format!(r#"{{"type":"delta","note":"{}heartbeat"}}"#, "x".repeat(40));
        assert!(moves_area(&late), "only the frame's start names its type");
    }

    #[test]
    fn a_dispatch_goes_to_the_sub_items_department_by_default() {
        let item = &shared::taxonomy::SUB_ITEMS[0];
        let with_item = Case {
            sub_item: Some(item.code.to_owned()),
            ..case(1)
        };
        assert_eq!(default_department(&with_item), Some(item.department));
        assert_eq!(default_department(&case(2)), None, "no sub-item");
        let unknown = Case {
            sub_item: Some("9999".into()),
            ..case(3)
        };
        assert_eq!(default_department(&unknown), None);
    }
}
