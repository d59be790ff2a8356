//! The field page's language and the few names it shows: categories, sub-items, departments,
//! case states and photo captions, in Chinese unless `?lang=en` asks for English.

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the page reads English rather than Chinese.
static ENGLISH: AtomicBool = AtomicBool::new(false);

/// The page's language (`?lang=`): Chinese unless English is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

/// Reads the language from the page's address.
pub fn read_lang() -> Lang {
    let lang = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|search| web_sys::UrlSearchParams::new_with_str(&search).ok())
        .and_then(|params| params.get("lang"));
    match lang.as_deref() {
        Some("en") => Lang::En,
        _ => Lang::Zh,
    }
}

/// Sets the page's language, once at start.
pub fn set_lang(lang: Lang) {
    ENGLISH.store(lang == Lang::En, Ordering::Relaxed);
}

/// Whether the page reads English.
pub fn english() -> bool {
    ENGLISH.load(Ordering::Relaxed)
}
/// A category's name, from its code.
pub fn category(code: &str) -> &'static str {
    shared::case::Category::name_of(code, ENGLISH.load(Ordering::Relaxed))
}

/// A case state's name.
pub fn case_state(state: shared::case::CaseState) -> &'static str {
    state.name(ENGLISH.load(Ordering::Relaxed))
}

/// A department's name, from its code.
pub fn department(code: &str) -> &'static str {
    shared::taxonomy::department_name(code, ENGLISH.load(Ordering::Relaxed))
}

/// A sub-item's name, from its code.
pub fn sub_item(code: &str) -> &'static str {
    shared::taxonomy::sub_item_name(code, ENGLISH.load(Ordering::Relaxed))
}

/// The caption of a photo attached by `action`.
pub fn photo_label(action: shared::case::Action) -> &'static str {
    action.photo_label(ENGLISH.load(Ordering::Relaxed))
}
