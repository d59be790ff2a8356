//! The field page's language and the few names it shows: categories, sub-items, departments
//! and case states, in Chinese unless `?lang=en` asks for English.

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
    use shared::case::Category as C;
    match C::from_code(code) {
        Some(c) if ENGLISH.load(Ordering::Relaxed) => match c {
            C::Livelihood => "Livelihood",
            C::Environment => "Environment",
            C::TrafficSafety => "Traffic safety",
            C::DisputeMediation => "Disputes",
            C::PublicSecurity => "Public security",
            C::FireSafety => "Fire safety",
            C::WorkSafety => "Work safety",
            C::MunicipalFacilities => "Municipal facilities",
            C::CityAppearance => "City appearance",
            C::FoodDrugSafety => "Food and drugs",
            C::Ecology => "Ecology",
            C::HousingSafety => "Housing safety",
            C::SpecialGroups => "Special groups",
            C::Emergency => "Emergencies",
            C::MarketOrder => "Market order",
        },
        Some(c) => c.name_zh(),
        None => "—",
    }
}

/// A case state's name.
pub fn case_state(state: shared::case::CaseState) -> &'static str {
    use shared::case::CaseState as S;
    let (zh, en) = match state {
        S::Reported => ("待分派", "Reported"),
        S::Dispatched => ("已分派", "Dispatched"),
        S::Accepted => ("处置中", "In hand"),
        S::Resolved => ("待核查", "Resolved"),
        S::Verified => ("已核查", "Verified"),
        S::Closed => ("已办结", "Closed"),
        S::Returned => ("已退回", "Returned"),
        S::Rejected => ("不予受理", "Rejected"),
        S::Escalated => ("升级上报", "Escalated"),
    };
    if ENGLISH.load(Ordering::Relaxed) {
        en
    } else {
        zh
    }
}

/// A department's name, from its code.
pub fn department(code: &str) -> &'static str {
    match shared::taxonomy::department(code) {
        Some(d) if ENGLISH.load(Ordering::Relaxed) => d.name_en,
        Some(d) => d.name_zh,
        None => "—",
    }
}

/// A sub-item's name, from its code.
pub fn sub_item(code: &str) -> &'static str {
    match shared::taxonomy::sub_item(code) {
        Some(s) if ENGLISH.load(Ordering::Relaxed) => s.name_en,
        Some(s) => s.name_zh,
        None => "—",
    }
}
