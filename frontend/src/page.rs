//! What the page's address asks for: the layout, the language, the scope and the control
//! channel followed, read once at start.

use shared::wall::Scope;

/// Which arrangement of panels the screen shows (`?layout=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// The 26 m² command wall: everything.
    Wall,
    /// A 1920×1080 dispatch seat: the map, the case queue and the warnings.
    Seat,
    /// Screen sharing in a video call: fewer, larger figures, legible at 1280×720.
    Share,
}

impl Layout {
    pub fn code(self) -> &'static str {
        match self {
            Layout::Wall => "wall",
            Layout::Seat => "seat",
            Layout::Share => "share",
        }
    }

    fn parse(text: &str) -> Layout {
        match text {
            "seat" => Layout::Seat,
            "share" => Layout::Share,
            _ => Layout::Wall,
        }
    }
}

/// The wall's language (`?lang=`): Chinese unless English is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

/// The page's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub layout: Layout,
    pub lang: Lang,
    pub scope: Scope,
    /// The control channel the wall follows (`?follow=NAME`), if it is driven from a seat.
    pub follow: Option<String>,
}

/// A query parameter of the page's address.
fn param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}

/// Reads the page's settings from its address; anything unreadable falls back to the default.
pub fn read() -> Page {
    Page {
        layout: Layout::parse(param("layout").as_deref().unwrap_or("wall")),
        lang: match param("lang").as_deref() {
            Some("en") => Lang::En,
            _ => Lang::Zh,
        },
        // A scope the wall cannot read would make the server refuse the stream: show the city.
        scope: param("scope")
            .and_then(|s| Scope::parse(&s).ok())
            .unwrap_or(Scope::City),
        // A name the server would refuse leaves the wall as a plain overview.
        follow: param("follow").filter(|n| shared::control::valid_wall_name(n)),
    }
}

/// The same address with `lang` switched, for the language toggle.
pub fn href_with_lang(lang: Lang) -> String {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok();
    if let Some(params) = &params {
        params.set(
            "lang",
            match lang {
                Lang::Zh => "zh",
                Lang::En => "en",
            },
        );
    }
    match params {
        Some(p) => format!("?{}", String::from(p.to_string())),
        None => String::from("?"),
    }
}
