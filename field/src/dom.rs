//! The small DOM toolkit of the plain-DOM pages (the field page and the seat page): elements
//! built with text as text nodes, regions by `data-testid`, one listener per event, and the
//! page's language and times. The seat page includes this file by path, as it does `fetch`
//! and `text`.

use crate::text;
use shared::auth::Role;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element};

/// The page's string in its language.
pub(crate) fn tr(zh: &'static str, en: &'static str) -> &'static str {
    if text::english() { en } else { zh }
}

pub(crate) fn doc() -> Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("a page has a document")
}

pub(crate) fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// An element with attributes and children.
pub(crate) fn h(tag: &str, attrs: &[(&str, &str)], kids: &[web_sys::Node]) -> Element {
    let el = doc()
        .create_element(tag)
        .expect("known element names are accepted");
    for (name, value) in attrs {
        let _ = el.set_attribute(name, value);
    }
    for kid in kids {
        let _ = el.append_child(kid);
    }
    el
}

/// Text, never markup: what the server or a person wrote cannot become elements.
pub(crate) fn t(text: &str) -> web_sys::Node {
    doc().create_text_node(text).into()
}

pub(crate) fn n(el: Element) -> web_sys::Node {
    el.into()
}

pub(crate) fn button(label: &str, attrs: &[(&str, &str)]) -> web_sys::Node {
    n(h("button", attrs, &[t(label)]))
}

/// The element with `data-testid` = `id` on the page.
pub(crate) fn by_id(id: &str) -> Option<Element> {
    doc()
        .query_selector(&format!("[data-testid=\"{id}\"]"))
        .ok()
        .flatten()
}

/// Replaces the children of the region `id`.
pub(crate) fn fill(id: &str, kids: &[web_sys::Node]) {
    if let Some(region) = by_id(id) {
        region.set_text_content(None);
        for kid in kids {
            let _ = region.append_child(kid);
        }
    }
}

/// One listener for the page's lifetime on its root; every element says what a tap on it
/// does with `data-do`.
pub(crate) fn listen(root: &Element, event: &str, handler: fn(web_sys::Event)) {
    let closure = Closure::<dyn FnMut(web_sys::Event)>::new(handler);
    let _ = root.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
    // The root lives as long as the page, and so does its listener.
    closure.forget();
}

/// The value of a form control (an input, a select or a textarea).
pub(crate) fn value(id: &str) -> String {
    by_id(id)
        .and_then(|el| js_sys::Reflect::get(&el, &"value".into()).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// Month, day, hour and minute in the centre's zone.
pub(crate) fn when(ms: i64) -> String {
    let local = ms as f64 + f64::from(shared::time::DEFAULT_UTC_OFFSET_MINUTES) * 60_000.0;
    let d = js_sys::Date::new(&JsValue::from_f64(local));
    format!(
        "{:02}-{:02} {:02}:{:02}",
        d.get_utc_month() + 1,
        d.get_utc_date(),
        d.get_utc_hours(),
        d.get_utc_minutes()
    )
}

pub(crate) fn role_name(role: Role) -> &'static str {
    match role {
        Role::GridWorker => tr("网格员", "Grid worker"),
        Role::Dispatcher => tr("调度员", "Dispatcher"),
        Role::DepartmentStaff => tr("部门工作人员", "Department staff"),
        Role::Leader => tr("领导", "Leader"),
        Role::ReportingApp | Role::System => role.code(),
    }
}
