//! The seat page at `/seat`, for a 1920 × 1080 screen at a consultation or dispatch seat:
//! leaders and dispatchers drill down from their area (the city, a district or a street)
//! through districts, streets and grids to one grid's cases and one case with its timeline
//! and photos, and reach the area's overdue cases in one click. The area's figures can be
//! looked at as they stood at a past moment, yesterday replayed in a minute, and this week
//! compared with the last. Dispatchers work their area's incoming queue from the keyboard,
//! refreshed live by the area's stream; the assessment tab ranks departments and streets
//! over a chosen period and downloads the CSV and the briefing image.
//!
//! Like the field page it builds its elements with plain DOM calls (text always as text
//! nodes) and handles every click with one listener on its root, reading `data-do`, so that
//! the bundle stays small and the wall's never carries it. Every figure comes from the same
//! API as any other client, and whatever the server refuses is shown in its own words.
//!
//! This module wires the page together: it starts the page, draws the screen the path asks
//! for, and dispatches the root's clicks and submits; each concern lives in a module of its
//! own (see ARCHITECTURE.md).

mod assess;
mod case_screen;
mod clock;
mod drill;
mod drive;
mod nav;
mod queue;
mod replay;
mod session;
mod state;
mod view;
mod wire;

use crate::dom::{doc, fill, h, listen, n, storage, t, tr, value};
use crate::fetch::{self, Body};
use crate::text::{self, Lang};
use assess::{download, load_assess, load_compare};
use case_screen::{clear_photos, load_case};
use clock::{moment_from_picker, now_ms};
use drill::{load_area, load_grid, load_overdue};
use nav::render_top;
use queue::{load_queue, on_key, show_queue};
use replay::{pause_replay, start_replay, step_replay, tick};
use shared::auth::AccountView;
use state::{Level, Preset, STEP_MS, below_area, open_case, root_level, seated, with};
use view::{error, loading};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen_futures::spawn_local;
use web_sys::Element;

/// Starts the seat page on the page's body.
pub fn start() {
    let lang = text::read_lang();
    text::set_lang(lang);
    let document = doc();
    if let Some(root) = document.document_element() {
        root.set_class_name("seat");
        let _ = root.set_attribute(
            "lang",
            match lang {
                Lang::Zh => "zh-CN",
                Lang::En => "en",
            },
        );
    }
    document.set_title(tr("指挥席位 · gridwall", "Seat · gridwall"));
    let main = h(
        "main",
        &[("class", "seat-page"), ("data-testid", "seat")],
        &[
            n(h("div", &[("data-testid", "seat-top")], &[])),
            n(h("div", &[("data-testid", "seat-wall")], &[])),
            n(h("div", &[("data-testid", "seat-moment")], &[])),
            n(h("div", &[("data-testid", "seat-messages")], &[])),
            n(h("div", &[("data-testid", "seat-body")], &[])),
        ],
    );
    listen(&main, "click", on_click);
    listen(&main, "submit", on_submit);
    listen(&main, "input", drive::on_input);
    let keys = Closure::<dyn FnMut(web_sys::Event)>::new(on_key);
    let _ = document.add_event_listener_with_callback("keydown", keys.as_ref().unchecked_ref());
    // The page's keys work as long as the page does.
    keys.forget();
    if let Some(window) = web_sys::window() {
        let closure = Closure::<dyn FnMut()>::new(tick);
        let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(
            closure.as_ref().unchecked_ref(),
            200,
        );
        // The replay's clock runs as long as the page does.
        closure.forget();
    }
    if let Some(body) = document.body() {
        let _ = body.append_child(&main);
    }
    let kept = storage().and_then(|s| s.get_item(session::TOKEN_KEY).ok().flatten());
    with(|s| s.token = kept.clone());
    render();
    // A token kept from an earlier visit is checked once: it opens its account, or the login
    // form stays.
    if let Some(token) = kept {
        spawn_local(async move {
            match fetch::json::<AccountView>("GET", "/api/me", Some(&token), Body::None).await {
                Ok(account) => session::enter(account),
                Err(failure) => session::fail(failure),
            }
        });
    }
}

/// Draws the header and the screen for the state as it is, and loads what the screen shows.
fn render() {
    clear_photos();
    let asked = with(|s| {
        s.generation += 1;
        s.generation
    });
    render_top();
    let (account, names, level, area) = with(|s| {
        (
            s.account.clone(),
            s.names.clone(),
            s.path.last().cloned(),
            s.path.iter().rev().find(|l| l.is_area()).cloned(),
        )
    });
    let Some(account) = account else {
        fill("seat-moment", &[]);
        return fill("seat-body", &[n(session::login_form())]);
    };
    if !seated(account.role) {
        return fill(
            "seat-body",
            &[n(h(
                "p",
                &[
                    ("class", "seat-card seat-denied"),
                    ("data-testid", "seat-denied"),
                ],
                &[t(tr(
                    "指挥席位供领导和调度员使用；此账号请使用网格现场页面 /field。",
                    "The seat is for leaders and dispatchers; this account works on the field page, /field.",
                ))],
            ))],
        );
    }
    let (Some(names), Some(level), Some(area)) = (names, level, area) else {
        return fill("seat-body", &[loading()]);
    };
    fill("seat-body", &[loading()]);
    match level {
        Level::City | Level::District(_) | Level::Street(_) => {
            load_area(asked, names, level);
        }
        Level::Grid(id) => load_grid(asked, names, id),
        Level::Overdue => load_overdue(asked, names, area),
        Level::Compare => load_compare(asked, names, area),
        Level::Assess => load_assess(asked, names, area),
        Level::Queue => {
            with(|s| s.queue.form = None);
            load_queue(true);
        }
        Level::Case(id) => load_case(asked, names, id),
    }
}

/// The root's one submit listener: the login form signs in, the wall panel takes its wall.
fn on_submit(ev: web_sys::Event) {
    ev.prevent_default();
    let Some(form) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
        return;
    };
    match form.get_attribute("data-testid").as_deref() {
        Some("seat-login") => session::sign_in(),
        Some("wall-panel") => drive::take(),
        _ => {}
    }
}

/// The root's one click listener: the element clicked (or its nearest ancestor) says what it
/// does with `data-do`.
fn on_click(ev: web_sys::Event) {
    let Some(el) = ev
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .and_then(|el| el.closest("[data-do]").ok().flatten())
    else {
        return;
    };
    let attr = |name: &str| el.get_attribute(name).unwrap_or_default();
    error(None);
    match attr("data-do").as_str() {
        "logout" => session::sign_out(),
        "overview" => go(|path| path.truncate(1)),
        "crumb" => {
            let index: usize = attr("data-index").parse().unwrap_or(0);
            go(|path| path.truncate(index + 1));
        }
        "child" => {
            let level = Level::child(&attr("data-level"), attr("data-code"));
            go(|path| path.push(level));
        }
        "case" => {
            let Ok(id) = attr("data-case-id").parse() else {
                return;
            };
            go(|path| open_case(path, id));
        }
        "overdue" => go(|path| below_area(path, Level::Overdue)),
        "compare" => go(|path| below_area(path, Level::Compare)),
        "assess" => go(|path| below_area(path, Level::Assess)),
        "period" => {
            let preset = Preset::from_code(&attr("data-period"));
            with(|s| s.period = preset);
            render();
        }
        "download" => download(attr("data-url"), attr("data-name")),
        "queue" => go(|path| {
            path.truncate(1);
            path.push(Level::Queue);
        }),
        "select" => {
            if let Ok(id) = attr("data-case-id").parse() {
                with(|s| s.queue.selected = Some(id));
                show_queue();
            }
        }
        "lookback" => {
            let at = moment_from_picker(&value("seat-moment-input"));
            match at {
                Some(at) if at <= now_ms() => {
                    with(|s| {
                        s.replay = None;
                        s.moment = Some(at);
                    });
                    render();
                }
                _ => error(Some(tr(
                    "请选择过去的某一时刻",
                    "Choose a moment in the past",
                ))),
            }
        }
        "live" => {
            with(|s| {
                s.replay = None;
                s.moment = None;
            });
            render();
        }
        "urge" => {
            if let Ok(id) = attr("data-case-id").parse() {
                case_screen::urge(id);
            }
        }
        "replay" => start_replay(),
        "replay-pause" => pause_replay(),
        "release-wall" => drive::release(),
        "handover" => drive::hand_over(),
        "handover-keep" => drive::keep(),
        "replay-back" => step_replay(-STEP_MS),
        "replay-forward" => step_replay(STEP_MS),
        _ => {}
    }
}

/// Changes the path and draws the new screen.
fn go(change: impl FnOnce(&mut Vec<Level>)) {
    with(|s| {
        change(&mut s.path);
        if s.path.is_empty()
            && let Some(a) = &s.account
        {
            s.path.push(root_level(a));
        }
    });
    render();
}
