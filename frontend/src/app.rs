//! The wall's page: the header with the clock and the link indicator, and the panels arranged
//! by the layout the address asks for (`wall`, `seat` or `share`).

use crate::link::{self, Link, LinkState};
use crate::map::MapPanel;
use crate::page::{self, Lang, Layout, Page};
use crate::panels::{
    CasesPanel, CategoryChart, EventsPanel, Headline, PeoplePanel, TeamPanel, Trend, WarningsPanel,
    clock,
};
use crate::text::{self, t};
use crate::widgets::Viewport;
use leptos::prelude::*;

#[component]
pub fn App() -> impl IntoView {
    let page = page::read();
    text::set_lang(page.lang);
    // The layout's class sits on <html>, where the stylesheet sets the size of one `rem`: the
    // unit every panel is measured in, so the design scales as one piece.
    if let Some(root) = document().document_element() {
        root.set_class_name(&format!("layout-{}", page.layout.code()));
        let _ = root.set_attribute(
            "lang",
            match page.lang {
                Lang::Zh => "zh-CN",
                Lang::En => "en",
            },
        );
    }
    document().set_title(t().title);
    let link = link::start(page.scope.clone(), page.follow.clone());
    let viewport = Viewport::start();
    let Page { layout, scope, .. } = page.clone();
    let follow = page.follow.is_some();
    let body = match layout {
        Layout::Wall => view! {
            <div class="area-left"><PeoplePanel link=link/></div>
            <div class="area-centre"><MapPanel link=link scope=scope follow=follow/></div>
            <div class="area-right"><EventsPanel link=link viewport=viewport/></div>
            <div class="area-bottom">
                <TeamPanel link=link/>
                <WarningsPanel link=link/>
                <CasesPanel link=link/>
            </div>
        }
        .into_any(),
        Layout::Seat => view! {
            <div class="area-centre"><MapPanel link=link scope=scope compact=true follow=follow/></div>
            <div class="area-right">
                <section class="panel events" data-panel="events"><Headline link=link/></section>
                <CasesPanel link=link/>
                <WarningsPanel link=link/>
            </div>
        }
        .into_any(),
        Layout::Share => view! {
            <div class="area-top">
                <section class="panel events" data-panel="events"><Headline link=link/></section>
            </div>
            <div class="area-centre"><MapPanel link=link scope=scope compact=true follow=follow/></div>
            <div class="area-right">
                <section class="panel trend-panel" data-panel="trend">
                    <Trend link=link viewport=viewport/>
                </section>
                <section class="panel categories-panel" data-panel="categories">
                    <CategoryChart link=link viewport=viewport/>
                </section>
            </div>
        }
        .into_any(),
    };
    // A wall driven from a seat says who drives it and what it shows; others make none of it.
    if let Some(name) = page.follow.clone() {
        crate::follow::start(link, name, page.scope.clone());
    }
    view! {
        <div class=format!("wall wall-{}", layout.code())>
            <Header link=link lang=page.lang scope=page.scope.clone()/>
            <StaleBanner link=link/>
            <WritesBanner link=link/>
            <RefusedBanner link=link/>
            {body}
        </div>
    }
}

/// The title, the scope, the date and time in the centre's zone, the language switch and the
/// link indicator.
#[component]
fn Header(link: Link, lang: Lang, scope: shared::wall::Scope) -> impl IntoView {
    let now = link.now_ms;
    let date = Memo::new(move |_| {
        let local = now.get() + f64::from(shared::time::DEFAULT_UTC_OFFSET_MINUTES) * 60_000.0;
        let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(local));
        format!(
            "{}-{:02}-{:02} {}",
            d.get_utc_full_year(),
            d.get_utc_month() + 1,
            d.get_utc_date(),
            t().weekdays[d.get_utc_day() as usize % 7]
        )
    });
    let time = Memo::new(move |_| clock(now.get(), true));
    let other = match lang {
        Lang::Zh => Lang::En,
        Lang::En => Lang::Zh,
    };
    let scope_label = match scope {
        shared::wall::Scope::City => String::new(),
        other => other.to_string(),
    };
    view! {
        <header class="wall-header" data-panel="header">
            <div class="titles">
                <h1>{t().title}</h1>
                <p class="subtitle">{t().subtitle} " " <span class="scope">{scope_label}</span></p>
            </div>
            <div class="clock">
                <span class="date">{date}</span>
                <span class="time">{time}</span>
            </div>
            <div class="header-right">
                <a class="lang-switch" href=page::href_with_lang(other)>{t().lang_switch}</a>
                <LinkStatus link=link/>
            </div>
        </header>
    }
}

/// The link indicator: live, reconnecting or stale, with the data's age when not live.
#[component]
fn LinkStatus(link: Link) -> impl IntoView {
    let state = Memo::new(move |_| link.state());
    let label = move || match state.get() {
        LinkState::Live => t().link_live,
        LinkState::Reconnecting => t().link_reconnecting,
        LinkState::Stale => t().link_stale,
    };
    let age = move || {
        if state.get() == LinkState::Live {
            String::new()
        } else {
            match link.age_ms() {
                Some(ms) => text::data_age(ms),
                None => t().link_no_data.to_owned(),
            }
        }
    };
    view! {
        <div class="link-status" data-testid="link-status" data-state=move || state.get().code()>
            <span class="dot"></span>
            <span class="link-label">{label}</span>
            <span class="link-age">{age}</span>
        </div>
    }
}

/// Across the wall while the server cannot store writes: the figures are live, but new reports
/// and moves are not reaching them, and the room must know it.
#[component]
fn WritesBanner(link: Link) -> impl IntoView {
    let failing = link.writes_failing;
    let why = move || match failing.get().map(|f| f.trouble) {
        Some(shared::wall::WriteTrouble::DiskFull) => t().writes_disk_full,
        Some(shared::wall::WriteTrouble::ReadOnly) => t().writes_read_only,
        Some(shared::wall::WriteTrouble::Database) | None => t().writes_database,
    };
    view! {
        <Show when=move || failing.with(Option::is_some)>
            <div class="writes-banner" data-testid="writes-failing"
                data-trouble=move || failing.get().map(|f| trouble_code(f.trouble)).unwrap_or_default()>
                {t().writes_failing} " · " {why}
            </div>
        </Show>
    }
}

fn trouble_code(trouble: shared::wall::WriteTrouble) -> &'static str {
    match trouble {
        shared::wall::WriteTrouble::DiskFull => "disk_full",
        shared::wall::WriteTrouble::ReadOnly => "read_only",
        shared::wall::WriteTrouble::Database => "database",
    }
}

/// Across the wall when the server closed its link for its credential (a revoked display
/// token, an ended login): the room sees why the wall stopped, in the server's words.
#[component]
fn RefusedBanner(link: Link) -> impl IntoView {
    let refused = link.refused;
    view! {
        <Show when=move || refused.with(Option::is_some)>
            <div class="refused-banner" role="alert" data-testid="link-refused">
                {t().link_refused} " · " {move || refused.get().unwrap_or_default()}
            </div>
        </Show>
    }
}

/// Across the wall when the data is stale: nobody should act on old numbers unawares.
#[component]
fn StaleBanner(link: Link) -> impl IntoView {
    let stale = Memo::new(move |_| link.state() == LinkState::Stale);
    view! {
        <Show when=move || stale.get()>
            <div class="stale-banner" data-testid="stale-banner">
                {t().stale_banner} " · "
                {move || link.age_ms().map(text::data_age).unwrap_or_default()}
            </div>
        </Show>
    }
}
