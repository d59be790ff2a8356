//! The wall's link to the server: one WebSocket on `/ws`, reconnected with backoff, feeding
//! a [`Mirror`] of the server's state and the signals that the panels read.

use leptos::prelude::*;
use shared::PROTOCOL_VERSION;
use shared::wall::{Applied, ClientMsg, Counters, Mirror, ServerMsg, Tally};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

/// With no frame or heartbeat for this long, the wall says its data is stale.
pub const STALE_AFTER_MS: f64 = 3_000.0;
const BACKOFF_FIRST_MS: f64 = 500.0;
const BACKOFF_MAX_MS: f64 = 10_000.0;

/// What the link indicator shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Live,
    Reconnecting,
    Stale,
}

impl LinkState {
    /// The `data-state` value of the link indicator.
    pub fn code(self) -> &'static str {
        match self {
            LinkState::Live => "live",
            LinkState::Reconnecting => "reconnecting",
            LinkState::Stale => "stale",
        }
    }
}

/// The reactive face of the link: what the panels read.
#[derive(Debug, Clone, Copy)]
pub struct Link {
    pub counters: RwSignal<Counters>,
    /// Tallies by category code.
    pub by_category: RwSignal<BTreeMap<String, Tally>>,
    pub socket_open: RwSignal<bool>,
    /// When the last frame or heartbeat arrived (`Date.now()`), if one ever did.
    pub last_frame_ms: RwSignal<Option<f64>>,
    /// A clock ticking four times a second so that ages and states move without frames.
    pub now_ms: RwSignal<f64>,
}

impl Link {
    pub fn state(&self) -> LinkState {
        let now = self.now_ms.get();
        let age = now - self.last_frame_ms.get().unwrap_or(f64::NEG_INFINITY);
        if age >= STALE_AFTER_MS {
            // A wall that had data shows that it is stale; one that never had any is still
            // trying to connect.
            if self.last_frame_ms.get().is_some() {
                LinkState::Stale
            } else {
                LinkState::Reconnecting
            }
        } else if self.socket_open.get() {
            LinkState::Live
        } else {
            LinkState::Reconnecting
        }
    }

    pub fn age_ms(&self) -> Option<f64> {
        self.last_frame_ms
            .get()
            .map(|t| (self.now_ms.get() - t).max(0.0))
    }
}

/// One open socket with the callbacks that belong to it; dropping it detaches them.
struct Conn {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

/// The non-reactive side of the link: the socket, the mirror and the backoff.
struct Driver {
    link: Link,
    mirror: RefCell<Mirror>,
    conn: RefCell<Option<Conn>>,
    backoff_ms: RefCell<f64>,
    /// The sequence number at which a snapshot was last asked for, so that a burst of frames
    /// after one gap asks only once.
    snapshot_asked_at: RefCell<Option<Option<u64>>>,
}

/// Starts the link and returns its signals. Call once, from the root component.
pub fn start() -> Link {
    let link = Link {
        counters: RwSignal::new(Counters::default()),
        by_category: RwSignal::new(BTreeMap::new()),
        socket_open: RwSignal::new(false),
        last_frame_ms: RwSignal::new(None),
        now_ms: RwSignal::new(js_sys::Date::now()),
    };
    set_interval(
        move || link.now_ms.set(js_sys::Date::now()),
        Duration::from_millis(250),
    );
    let driver = Rc::new(Driver {
        link,
        mirror: RefCell::new(Mirror::default()),
        conn: RefCell::new(None),
        backoff_ms: RefCell::new(BACKOFF_FIRST_MS),
        snapshot_asked_at: RefCell::new(None),
    });
    connect(&driver);
    link
}

/// The stream's address; a wall that has state says where it left off, so that the server
/// can send only what it missed.
fn ws_url(mirror: &Mirror) -> String {
    let location = window().location();
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss",
        _ => "ws",
    };
    let host = location
        .host()
        .unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
    match (&mirror.stream, mirror.seq) {
        (Some(stream), Some(seq)) => format!("{scheme}://{host}/ws?stream={stream}&since={seq}"),
        _ => format!("{scheme}://{host}/ws"),
    }
}

fn connect(driver: &Rc<Driver>) {
    // Drop the previous socket first so that its callbacks can no longer fire.
    driver.conn.borrow_mut().take();
    let url = ws_url(&driver.mirror.borrow());
    let ws = match WebSocket::new(&url) {
        Ok(ws) => ws,
        Err(_) => {
            schedule_reconnect(driver);
            return;
        }
    };

    let on_open = {
        let driver = Rc::clone(driver);
        Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            driver.link.socket_open.set(true);
            *driver.backoff_ms.borrow_mut() = BACKOFF_FIRST_MS;
            *driver.snapshot_asked_at.borrow_mut() = None;
        })
    };
    let on_message = {
        let driver = Rc::clone(driver);
        Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            if let Some(text) = ev.data().as_string() {
                on_text(&driver, &text);
            }
        })
    };
    let on_close = {
        let driver = Rc::clone(driver);
        Closure::<dyn FnMut(CloseEvent)>::new(move |_: CloseEvent| {
            driver.link.socket_open.set(false);
            schedule_reconnect(&driver);
        })
    };
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    *driver.conn.borrow_mut() = Some(Conn {
        ws,
        _on_open: on_open,
        _on_message: on_message,
        _on_close: on_close,
    });
}

fn schedule_reconnect(driver: &Rc<Driver>) {
    let delay = {
        let mut backoff = driver.backoff_ms.borrow_mut();
        let delay = *backoff;
        *backoff = (*backoff * 2.0).min(BACKOFF_MAX_MS);
        // Jitter keeps a room full of walls from reconnecting in lockstep after a restart.
        delay * (0.75 + 0.5 * js_sys::Math::random())
    };
    let driver = Rc::clone(driver);
    set_timeout(
        move || connect(&driver),
        Duration::from_millis(delay as u64),
    );
}

fn on_text(driver: &Rc<Driver>, text: &str) {
    let msg: ServerMsg = match serde_json::from_str(text) {
        Ok(msg) => msg,
        Err(err) => {
            leptos::logging::warn!("gridwall: unreadable frame: {err}");
            return;
        }
    };
    if let ServerMsg::Hello { protocol, .. } = &msg
        && *protocol != PROTOCOL_VERSION
    {
        // The server speaks another version: it was upgraded, and so was the bundle it serves.
        let _ = window().location().reload();
        return;
    }
    let applied = driver.mirror.borrow_mut().apply(&msg);
    match applied {
        Applied::Updated | Applied::Ignored => {
            if !matches!(msg, ServerMsg::Hello { .. }) {
                driver.link.last_frame_ms.set(Some(js_sys::Date::now()));
            }
            if applied == Applied::Updated {
                let mirror = driver.mirror.borrow();
                let counters = mirror.state.counters;
                if driver.link.counters.get_untracked() != counters {
                    driver.link.counters.set(counters);
                }
                // Signals change only when their value does, so quiet panels stay untouched.
                if driver
                    .link
                    .by_category
                    .with_untracked(|m| *m != mirror.state.by_category)
                {
                    driver
                        .link
                        .by_category
                        .set(mirror.state.by_category.clone());
                }
            }
        }
        Applied::Gap => ask_for_snapshot(driver),
    }
}

fn ask_for_snapshot(driver: &Rc<Driver>) {
    let seq = driver.mirror.borrow().seq;
    if *driver.snapshot_asked_at.borrow() == Some(seq) {
        return;
    }
    if let Some(conn) = driver.conn.borrow().as_ref()
        && let Ok(body) = serde_json::to_string(&ClientMsg::Snapshot)
        && conn.ws.send_with_str(&body).is_ok()
    {
        *driver.snapshot_asked_at.borrow_mut() = Some(seq);
    }
}
