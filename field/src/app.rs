//! The field page at `/field`, sized for a phone: a grid worker reports with a photo from the
//! camera, follows its cases and verifies them on site; department staff accept and resolve
//! their queue with an after photo; a centre's dispatcher dispatches what was reported.
//!
//! It is its own small bundle, loaded only by `/field`, so the wall's download never carries it.
//! It builds its few elements with plain DOM calls and handles every tap with one listener on
//! its root, without Leptos, which keeps this bundle small for a phone on a mobile network.
//! Every write goes through the same API as any other client, and whatever the server refuses
//! is shown in the server's own words.
//!
//! This module wires the page together: it starts the page, draws the screen the state asks
//! for, and dispatches the root's taps, submits and changes; each concern lives in a module of
//! its own (see ARCHITECTURE.md).

mod case_screen;
mod cases;
mod nav;
mod photos;
mod report;
mod session;
mod state;
mod view;
mod wire;

use crate::dom::{doc, fill, h, listen, n, storage, t, tr, value};
use crate::fetch::{self, Body};
use crate::text::{self, Lang};
use shared::auth::AccountView;
use shared::case::Action;
use state::{Screen, with};
use view::clear_messages;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::Element;

/// Starts the field page on the page's body.
pub fn start() {
    let lang = text::read_lang();
    text::set_lang(lang);
    let document = doc();
    if let Some(root) = document.document_element() {
        root.set_class_name("field");
        let _ = root.set_attribute(
            "lang",
            match lang {
                Lang::Zh => "zh-CN",
                Lang::En => "en",
            },
        );
    }
    document.set_title(tr("网格现场 · gridwall", "In the field · gridwall"));
    let main = h(
        "main",
        &[("class", "field-page"), ("data-testid", "field")],
        &[
            n(h("div", &[("data-testid", "field-top")], &[])),
            n(h("div", &[("data-testid", "field-messages-error")], &[])),
            n(h("div", &[("data-testid", "field-messages-notice")], &[])),
            n(h("div", &[("data-testid", "field-body")], &[])),
        ],
    );
    listen(&main, "click", on_click);
    listen(&main, "submit", on_submit);
    listen(&main, "change", on_change);
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
                Err(failure) if failure.status == 401 => session::forget(),
                Err(failure) => session::fail(failure),
            }
        });
    }
}

/// Draws the header and the screen for the state as it is.
fn render() {
    photos::clear_photos();
    nav::render_top();
    let (signed_in, screen) = with(|s| (s.account.is_some(), s.screen));
    if !signed_in {
        return fill("field-body", &[n(session::login_form())]);
    }
    match screen {
        Screen::Report => fill("field-body", &[n(report::report_form())]),
        Screen::Cases => {
            fill(
                "field-body",
                &[n(h(
                    "p",
                    &[("class", "field-muted")],
                    &[t(tr("加载中…", "Loading…"))],
                ))],
            );
            cases::load_list();
        }
        Screen::Detail(id) => {
            fill("field-body", &[n(case_screen::back())]);
            case_screen::load_case(id);
        }
    }
}

/// A tap on a tab or a case: the messages of the last screen go with it.
fn go(screen: Screen) {
    clear_messages();
    with(|s| s.screen = screen);
    render();
}

/// The root's one submit listener: the login form signs in, the report form reports.
fn on_submit(ev: web_sys::Event) {
    ev.prevent_default();
    let form = ev
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .and_then(|el| el.get_attribute("data-testid"));
    match form.as_deref() {
        Some("field-login") => session::sign_in(),
        Some("field-report") => report::report(),
        _ => {}
    }
}

/// The root's one change listener: a new category brings its own sub-items.
fn on_change(ev: web_sys::Event) {
    let target = ev.target().and_then(|t| t.dyn_into::<Element>().ok());
    if target
        .and_then(|el| el.get_attribute("data-testid"))
        .as_deref()
        == Some("field-category")
    {
        fill(
            "field-sub-item",
            &report::sub_item_options(&value("field-category")),
        );
    }
}

/// The root's one click listener: the element tapped (or its nearest ancestor) says what it
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
    match attr("data-do").as_str() {
        "logout" => session::sign_out(),
        "tab-report" => go(Screen::Report),
        "tab-cases" | "back" | "refresh" => go(Screen::Cases),
        "open" => {
            if let Ok(id) = attr("data-case-id").parse() {
                go(Screen::Detail(id));
            }
        }
        "move" => {
            if let (Ok(id), Some(action)) = (
                attr("data-case-id").parse(),
                Action::from_code(&attr("data-action")),
            ) {
                case_screen::make(id, action);
            }
        }
        "locate" => report::locate(),
        _ => {}
    }
}
