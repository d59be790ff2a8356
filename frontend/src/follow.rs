//! What a wall following a control channel (`/?follow=NAME`) shows besides its map: who holds
//! the channel, the breadcrumbs of the area shown, the look-back banner with the replay clock,
//! and the case card.
//!
//! These are plain DOM nodes made once and updated in place rather than Leptos views: the
//! wall's bundle has a hard size budget, and a wall that follows nothing never makes them.

use crate::link::Link;
use crate::map;
use crate::text::{self, t};
use leptos::prelude::*;
use shared::control::{CaseCard, ControlState};
use shared::time::{DEFAULT_UTC_OFFSET_MINUTES, civil_from_day, local_day, local_day_start_ms};
use shared::wall::Scope;
use std::cell::RefCell;
use std::fmt::Write;
use std::rc::Rc;
use web_sys::Element;

/// The nodes of the overlay, once the page's header is there to hold them.
struct Ui {
    /// `data-testid="controller"`, in the header, hidden when nobody holds the channel.
    badge: Element,
    /// `data-testid="breadcrumbs"`, in the header's subtitle.
    crumbs: Element,
    /// `data-testid="look-banner"`, on the page only while a past moment is shown.
    look: Element,
    look_at: Element,
    /// `data-testid="replay-clock"`, inside the banner while the moment is a replay's.
    replay: Element,
    /// `data-testid="case-card"`, on the page only while a case is shown.
    card: Element,
    /// The element showing the card's time left, which moves with the clock.
    card_left: Option<Element>,
    /// The channel revision whose card is drawn, so that the card is rebuilt only on change.
    card_rev: Option<u64>,
    wall: Element,
}

/// Starts the overlay of a wall following the channel `wall`; `own` is the wall's own scope,
/// shown when the channel shows nothing.
pub fn start(link: Link, wall: String, own: Scope) {
    // Photos are fetched by the page's own token when it has one, and by the channel's card
    // otherwise.
    let token = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|q| web_sys::UrlSearchParams::new_with_str(&q).ok())
        .and_then(|p| p.get("token"))
        .map(|t| format!("&token={}", js_sys::encode_uri_component(&t)))
        .unwrap_or_default();
    let photo_query = format!("?wall={wall}{token}");
    let ui: Rc<RefCell<Option<Ui>>> = Rc::new(RefCell::new(None));
    Effect::new(move |_| {
        let now = link.now_ms.get() as i64;
        link.control.with(|control| {
            let mut ui = ui.borrow_mut();
            if ui.is_none() {
                // The header is mounted after the first run is scheduled; until then the
                // clock's next tick tries again.
                *ui = make();
            }
            if let Some(ui) = ui.as_mut() {
                update(ui, control.as_ref(), now, &own, &photo_query);
            }
        });
    });
}

fn make_el(tag: &str, class: &str, testid: &str) -> Option<Element> {
    let el = document().create_element(tag).ok()?;
    el.set_class_name(class);
    if !testid.is_empty() {
        el.set_attribute("data-testid", testid).ok()?;
    }
    Some(el)
}

fn make() -> Option<Ui> {
    let header = document().query_selector(".header-right").ok()??;
    let subtitle = document().query_selector(".wall-header .subtitle").ok()??;
    let wall = document().query_selector(".wall").ok()??;
    let badge = make_el("div", "controller", "controller")?;
    badge.set_attribute("hidden", "").ok()?;
    badge.set_attribute("data-login", "").ok()?;
    header.prepend_with_node_1(&badge).ok()?;
    let crumbs = make_el("span", "breadcrumbs", "breadcrumbs")?;
    subtitle.append_child(&crumbs).ok()?;
    let look = make_el("div", "look-banner", "look-banner")?;
    let look_at = make_el("span", "look-at", "")?;
    look.append_child(&look_at).ok()?;
    Some(Ui {
        badge,
        crumbs,
        look,
        look_at,
        replay: make_el("span", "replay-clock", "replay-clock")?,
        card: make_el("aside", "case-card", "case-card")?,
        card_left: None,
        card_rev: None,
        wall,
    })
}

/// Sets an attribute only when it changes, so that a clock tick touches nothing that stayed.
fn set_attr(el: &Element, name: &str, value: &str) {
    if el.get_attribute(name).as_deref() != Some(value) {
        let _ = el.set_attribute(name, value);
    }
}

fn set_text(el: &Element, text: &str) {
    if el.text_content().as_deref() != Some(text) {
        el.set_text_content(Some(text));
    }
}

/// Puts `el` into `parent` when `on`, and takes it off the page otherwise.
fn place(parent: &Element, el: &Element, on: bool) {
    if on && !el.is_connected() {
        let _ = parent.append_child(el);
    } else if !on && el.is_connected() {
        el.remove();
    }
}

fn update(ui: &mut Ui, control: Option<&ControlState>, now: i64, own: &Scope, photos: &str) {
    let display = control.and_then(|c| c.display.as_ref());

    let holder = control.and_then(|c| c.controller.as_ref());
    set_attr(
        &ui.badge,
        "data-login",
        holder.map_or("", |h| h.login.as_str()),
    );
    let badge = match (holder, control.and_then(|c| c.returns_at_ms)) {
        (Some(h), _) => format!(
            "{}: {} · {}",
            t().controlled_by,
            h.name,
            text::role(h.role.code())
        ),
        (None, Some(at)) => text::returns_in(((at - now).max(0) + 999) / 1000),
        (None, None) => String::new(),
    };
    if badge.is_empty() {
        set_attr(&ui.badge, "hidden", "");
    } else if ui.badge.has_attribute("hidden") {
        let _ = ui.badge.remove_attribute("hidden");
    }
    set_text(&ui.badge, &badge);

    let scope = display.map_or_else(|| own.clone(), |d| d.scope.clone());
    set_attr(&ui.crumbs, "data-scope", &scope.to_string());
    set_text(&ui.crumbs, &crumbs(&scope, map::area_name).join(" › "));

    let at = display.and_then(|d| d.at_ms);
    place(&ui.wall, &ui.look, at.is_some());
    if let Some(at) = at {
        set_attr(&ui.look, "data-at", &at.to_string());
        set_text(&ui.look_at, &format!("{} {}", t().look_back, stamp(at)));
    }
    let replay = display
        .and_then(|d| d.replay.as_ref())
        .filter(|_| at.is_some());
    place(&ui.look, &ui.replay, replay.is_some());
    if let (Some(r), Some(at)) = (replay, at) {
        set_attr(&ui.replay, "data-at", &at.to_string());
        set_attr(
            &ui.replay,
            "data-paused",
            if r.paused { "true" } else { "false" },
        );
        let mut text = format!(
            "{} {} – {} ×{}",
            t().replay,
            stamp(r.from_ms),
            stamp(r.to_ms),
            r.speed
        );
        if r.paused {
            let _ = write!(text, " · {}", t().paused);
        }
        set_text(&ui.replay, &text);
    }

    let card = control.and_then(|c| Some((c.rev, c.card.as_ref()?)));
    place(&ui.wall, &ui.card, card.is_some());
    match card {
        Some((rev, card)) => {
            if ui.card_rev != Some(rev) {
                ui.card_rev = Some(rev);
                set_attr(&ui.card, "data-case-id", &card.case.id.to_string());
                ui.card.set_inner_html(&card_html(card, photos));
                ui.card_left = ui.card.query_selector(".card-left").ok().flatten();
            }
            if let (Some(el), Some(deadline)) = (&ui.card_left, card.case.deadline_ms) {
                set_text(el, &text::time_left(deadline - now));
            }
        }
        None => {
            ui.card_rev = None;
            ui.card_left = None;
        }
    }
}

/// The labels of the breadcrumbs of `scope`: the city, then the district, then the street,
/// named by `name` (an area's name and a street's district) or by their codes until the
/// names are loaded.
fn crumbs(scope: &Scope, name: impl Fn(&Scope) -> Option<(String, Option<String>)>) -> Vec<String> {
    let mut out = vec![t().city.to_owned()];
    let district = |code: &str| {
        name(&Scope::District(code.to_owned())).map_or_else(|| code.to_owned(), |(n, _)| n)
    };
    match scope {
        Scope::City => {}
        Scope::District(code) => out.push(district(code)),
        Scope::Street(code) => {
            let street = name(scope);
            if let Some(d) = street.as_ref().and_then(|(_, d)| d.as_deref()) {
                out.push(district(d));
            }
            out.push(street.map_or_else(|| code.clone(), |(n, _)| n));
        }
    }
    out
}

/// A moment as the centre's clock reads it: "2026-11-29 14:05".
fn stamp(ms: i64) -> String {
    let day = local_day(ms, DEFAULT_UTC_OFFSET_MINUTES);
    let (y, m, d) = civil_from_day(day);
    let mins = (ms - local_day_start_ms(day, DEFAULT_UTC_OFFSET_MINUTES)) / 60_000;
    format!("{y}-{m:02}-{d:02} {:02}:{:02}", mins / 60, mins % 60)
}

/// Text for HTML, in element content and in quoted attributes alike.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The card's content: subject, state, department, deadline, moves and photos. Everything
/// written by people (description, notes, names) is escaped.
fn card_html(card: &CaseCard, photos: &str) -> String {
    let c = &card.case;
    let tx = t();
    let mut html = format!(
        r#"<h3><b>#{}</b> {}"#,
        c.id,
        escape(text::category(c.category.code()))
    );
    if let Some(sub) = &c.sub_item {
        let _ = write!(html, " · {}", escape(text::sub_item(sub)));
    }
    let _ = write!(
        html,
        r#"</h3><p class="card-desc">{}</p><dl><dt>{}</dt><dd class="card-state">{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{} <span class="card-left"></span></dd></dl><h4>{}</h4><ol class="card-moves">"#,
        escape(&c.description),
        tx.card_state,
        text::case_state(c.state),
        tx.card_department,
        c.department.as_deref().map_or("—", text::department),
        tx.card_deadline,
        c.deadline_ms.map(stamp).unwrap_or_else(|| "—".to_owned()),
        tx.card_moves,
    );
    for m in &card.moves {
        let _ = write!(
            html,
            r#"<li><time>{}</time> <b>{}</b> {}"#,
            stamp(m.at_ms),
            text::action(m.action),
            escape(&m.actor)
        );
        if let Some(role) = &m.role {
            let _ = write!(html, " ({})", escape(text::role(role)));
        }
        if let Some(note) = m.note.as_deref().filter(|n| !n.is_empty()) {
            let _ = write!(html, r#"<span class="note">{}</span>"#, escape(note));
        }
        html.push_str("</li>");
    }
    html.push_str(r#"</ol><div class="card-photos">"#);
    for p in &c.photos {
        // The caption the field and seat pages give the same photo, so that it reads alike on
        // every screen.
        let label = p.action.photo_label(text::english());
        let _ = write!(
            html,
            r#"<figure data-action="{}"><img src="/api/photos/{}{}" alt="{label}"><figcaption>{label}</figcaption></figure>"#,
            p.action.code(),
            escape(&p.hash),
            escape(photos),
        );
    }
    html.push_str("</div>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_read_the_centres_clock() {
        assert_eq!(stamp(0), "1970-01-01 08:00");
        // 2026-11-29 15:59:59 UTC is 23:59 in the centre; a second later is the next day.
        assert_eq!(stamp(1_795_967_999_000), "2026-11-29 23:59");
        assert_eq!(stamp(1_795_968_000_000), "2026-11-30 00:00");
    }

    #[test]
    fn breadcrumbs_name_the_city_district_and_street() {
        let names = |s: &Scope| match s.to_string().as_str() {
            "district:230602" => Some(("萨尔图区".to_owned(), None)),
            "street:230602001" => Some(("萨尔图街道".to_owned(), Some("230602".to_owned()))),
            _ => None,
        };
        assert_eq!(crumbs(&Scope::City, names), ["全市"]);
        assert_eq!(
            crumbs(&Scope::District("230602".into()), names),
            ["全市", "萨尔图区"]
        );
        assert_eq!(
            crumbs(&Scope::Street("230602001".into()), names),
            ["全市", "萨尔图区", "萨尔图街道"]
        );
        // Before the map has loaded the names, the codes stand in.
        let none = |_: &Scope| None;
        assert_eq!(
            crumbs(&Scope::District("230603".into()), none),
            ["全市", "230603"]
        );
        assert_eq!(crumbs(&Scope::Street("9".into()), none), ["全市", "9"]);
    }

    #[test]
    fn the_cards_photos_carry_the_captions_of_the_field_and_seat_pages() {
        use shared::case::{Action, CasePhoto, CaseState, CaseView, Category, Supervision};
        let photo = |action, seq| CasePhoto {
            hash: format!("{seq:064x}"),
            content_type: "image/jpeg".into(),
            action,
            seq,
        };
        let card = CaseCard {
            case: CaseView {
                id: 42,
                category: Category::MunicipalFacilities,
                sub_item: None,
                grid_id: Some("G1".into()),
                point: None,
                description: "路灯杆倾斜".into(),
                state: CaseState::Verified,
                allowed: CaseState::Verified.allowed(),
                department: Some("D01".into()),
                supervision: Supervision::None,
                deadline_ms: None,
                reported_at_ms: 0,
                updated_at_ms: 0,
                seq: 5,
                photos: vec![
                    photo(Action::Report, 1),
                    photo(Action::Return, 4),
                    photo(Action::Verify, 5),
                ],
            },
            moves: Vec::new(),
        };
        let html = card_html(&card, "?wall=w1");
        // The tests read the page's default language, Chinese.
        for (action, seq) in [
            (Action::Report, 1),
            (Action::Return, 4),
            (Action::Verify, 5),
        ] {
            let label = action.photo_label(false);
            assert!(
                html.contains(&format!(
                    r#"<figure data-action="{}"><img src="/api/photos/{seq:064x}?wall=w1" alt="{label}"><figcaption>{label}</figcaption></figure>"#,
                    action.code()
                )),
                "{action:?}: {html}"
            );
        }
        assert!(html.contains("<figcaption>处置前</figcaption>"));
        assert!(html.contains("<figcaption>核查不通过，退回</figcaption>"));
    }

    #[test]
    fn escaping_covers_content_and_attributes() {
        assert_eq!(escape(r#"<b a="1">&"#), "&lt;b a=&quot;1&quot;&gt;&amp;");
    }
}
