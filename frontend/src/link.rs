//! The wall's link to the server: one WebSocket on `/ws`, reconnected with backoff, feeding
//! a [`Mirror`] of the server's state and the signals that the panels read.

use leptos::prelude::*;
use shared::PROTOCOL_VERSION;
use shared::control::ControlState;
use shared::wall::{
    Alert, Applied, Change, ClientMsg, Counters, DeptTally, GridTally, Hotspot, Hourly, LatestCase,
    Mirror, People, Scope, ServerMsg, Surge, Tally, TeamKind, Warning, WritesFailing,
};
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
/// The close codes by which the server says the wall's credential no longer works (401) or
/// no longer opens its scope (403): its display token was revoked, or its login ended.
const CLOSE_UNAUTHORIZED: u16 = 4401;
const CLOSE_FORBIDDEN: u16 = 4403;

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

/// How many alerts the wall remembers: enough for its tickers, and a bound, so that a wall
/// running for weeks holds the same amount of memory on its last day.
pub const KEEP_RECENT: usize = 40;

/// The grids that changed in one frame, with their new tallies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GridFrame {
    /// A snapshot: every grid not listed has no cases.
    pub full: bool,
    pub grids: Vec<(String, GridTally)>,
}

/// What happened in a grid, as the wall can tell from the change of its tally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    /// A new case was reported there.
    Reported,
    /// A case there moved (dispatched, handled, closed ...).
    Moved,
}

/// One grid's activity, for the pulse on the map.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// Counts activities since the page loaded, a stable key for lists.
    pub serial: u64,
    pub grid_id: String,
    pub kind: ActivityKind,
    pub at_ms: i64,
}

/// An alert as it arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub serial: u64,
    pub at_ms: f64,
    pub alert: Alert,
}

/// The reactive face of the link: what the panels read. Each part of the state is its own
/// signal, set only when its value changed, so a frame wakes only the panels it concerns.
#[derive(Debug, Clone, Copy)]
pub struct Link {
    pub counters: RwSignal<Counters>,
    /// Tallies by category code.
    pub by_category: RwSignal<BTreeMap<String, Tally>>,
    pub by_department: RwSignal<BTreeMap<String, DeptTally>>,
    pub hourly: RwSignal<Hourly>,
    pub warnings: RwSignal<BTreeMap<String, Warning>>,
    /// The latest cases of the scope, by case id.
    pub latest: RwSignal<BTreeMap<String, LatestCase>>,
    pub hotspots: RwSignal<BTreeMap<String, Hotspot>>,
    pub surges: RwSignal<BTreeMap<String, Surge>>,
    pub people: RwSignal<People>,
    pub team: RwSignal<BTreeMap<String, TeamKind>>,
    /// The grids of the last frame; the map recolours only these.
    pub grids: RwSignal<GridFrame>,
    /// The activities of the last frame alone, for the map's pulses.
    pub fresh_activity: RwSignal<Vec<Activity>>,
    /// The latest alerts, newest first, at most [`KEEP_RECENT`].
    pub alerts: RwSignal<Vec<Received>>,
    pub socket_open: RwSignal<bool>,
    /// When the last frame or heartbeat arrived (`Date.now()`), if one ever did.
    pub last_frame_ms: RwSignal<Option<f64>>,
    /// A clock ticking four times a second so that ages and states move without frames.
    pub now_ms: RwSignal<f64>,
    /// The followed control channel as last told (`?follow=` walls only).
    pub control: RwSignal<Option<ControlState>>,
    /// Set while the server says it cannot store writes (from its heartbeats).
    pub writes_failing: RwSignal<Option<WritesFailing>>,
    /// Why the server closed the link, when it refused the wall's credential; cleared when a
    /// link opens again (a new token in the wall's address).
    pub refused: RwSignal<Option<String>>,
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
    scope: Scope,
    /// The control channel followed, if any.
    follow: Option<String>,
    serial: RefCell<u64>,
    /// The grids named in the parts of the frame on its way, with that frame's sequence
    /// number: a large delta's grid changes may come in its parts.
    part_grids: RefCell<(u64, Vec<String>)>,
}

/// Starts the link for `scope` (following the control channel `follow`, if any) and returns
/// its signals. Call once, from the root component.
pub fn start(scope: Scope, follow: Option<String>) -> Link {
    let link = Link {
        counters: RwSignal::new(Counters::default()),
        by_category: RwSignal::new(BTreeMap::new()),
        by_department: RwSignal::new(BTreeMap::new()),
        hourly: RwSignal::new(Hourly::default()),
        warnings: RwSignal::new(BTreeMap::new()),
        latest: RwSignal::new(BTreeMap::new()),
        hotspots: RwSignal::new(BTreeMap::new()),
        surges: RwSignal::new(BTreeMap::new()),
        people: RwSignal::new(People::default()),
        team: RwSignal::new(BTreeMap::new()),
        grids: RwSignal::new(GridFrame::default()),
        fresh_activity: RwSignal::new(Vec::new()),
        alerts: RwSignal::new(Vec::new()),
        socket_open: RwSignal::new(false),
        last_frame_ms: RwSignal::new(None),
        now_ms: RwSignal::new(js_sys::Date::now()),
        control: RwSignal::new(None),
        writes_failing: RwSignal::new(None),
        refused: RwSignal::new(None),
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
        scope,
        follow,
        serial: RefCell::new(0),
        part_grids: RefCell::new((0, Vec::new())),
    });
    connect(&driver);
    link
}

/// The stream's address; a wall that has state says where it left off, so that the server
/// can send only what it missed. A following wall names the channel too.
fn ws_url(mirror: &Mirror, scope: &Scope, follow: Option<&str>) -> String {
    let location = window().location();
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss",
        _ => "ws",
    };
    let host = location
        .host()
        .unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
    // A following wall always names its own scope, which the server shows when the channel
    // shows nothing; its place in the stream is worth resuming only while it shows that scope.
    let resumable = follow.is_none() || mirror.scope.as_ref() == Some(scope);
    let scope = js_sys::encode_uri_component(&scope.to_string());
    // Outside demo mode a wall carries its display token in its own address; the stream
    // needs it too.
    let token = location
        .search()
        .ok()
        .and_then(|q| web_sys::UrlSearchParams::new_with_str(&q).ok())
        .and_then(|p| p.get("token"))
        .map(|t| format!("&token={}", js_sys::encode_uri_component(&t)))
        .unwrap_or_default();
    let follow = follow
        .map(|name| format!("&follow={name}"))
        .unwrap_or_default();
    match (&mirror.stream, mirror.seq) {
        (Some(stream), Some(seq)) if resumable => {
            format!("{scheme}://{host}/ws?scope={scope}{token}{follow}&stream={stream}&since={seq}")
        }
        _ => format!("{scheme}://{host}/ws?scope={scope}{token}{follow}"),
    }
}

fn connect(driver: &Rc<Driver>) {
    // Drop the previous socket first so that its callbacks can no longer fire.
    driver.conn.borrow_mut().take();
    let url = ws_url(
        &driver.mirror.borrow(),
        &driver.scope,
        driver.follow.as_deref(),
    );
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
            driver.link.refused.set(None);
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
        Closure::<dyn FnMut(CloseEvent)>::new(move |ev: CloseEvent| {
            driver.link.socket_open.set(false);
            if let Some(reason) = refusal(ev.code(), &ev.reason()) {
                // The wall shows why; it keeps trying, slowly, since the credential only works
                // again if the server is told so, and the page then needs no reload.
                driver.link.refused.set(Some(reason));
                *driver.backoff_ms.borrow_mut() = BACKOFF_MAX_MS;
            }
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

/// The reason to show for a close with `code`, when it is the server refusing the credential.
pub fn refusal(code: u16, reason: &str) -> Option<String> {
    matches!(code, CLOSE_UNAUTHORIZED | CLOSE_FORBIDDEN).then(|| {
        if reason.trim().is_empty() {
            format!("closed by the server ({code})")
        } else {
            reason.to_owned()
        }
    })
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

/// Reads one frame of the stream.
pub fn parse_frame(text: &str) -> Result<ServerMsg, serde_json::Error> {
    serde_json::from_str(text)
}

fn on_text(driver: &Rc<Driver>, text: &str) {
    let msg: ServerMsg = match parse_frame(text) {
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
    // A control message goes to its signal as it is, not through the mirror, which has no
    // use for it: moved rather than cloned, as a clone of a case card is code in the bundle.
    let msg = match msg {
        ServerMsg::Control { control } => {
            let rev = control.rev;
            driver.link.control.set(Some(control));
            // The browser tests time a switch from the seat's message to the wall's display.
            let w = window();
            let _ = js_sys::Reflect::set(&w, &"__gwControlAt".into(), &js_sys::Date::now().into());
            let _ = js_sys::Reflect::set(&w, &"__gwControlRev".into(), &(rev as f64).into());
            // Like any frame but a hello, it shows that the link is alive.
            driver.link.last_frame_ms.set(Some(js_sys::Date::now()));
            return;
        }
        other => other,
    };
    // Every heartbeat says whether the server stores writes; the banner follows it.
    if let ServerMsg::Heartbeat { writes_failing, .. } = &msg {
        sync(driver.link.writes_failing, writes_failing);
    }
    if let ServerMsg::Alert { alert, .. } = &msg {
        let serial = next_serial(driver);
        driver.link.alerts.update(|alerts| {
            alerts.insert(
                0,
                Received {
                    serial,
                    at_ms: js_sys::Date::now(),
                    alert: alert.clone(),
                },
            );
            alerts.truncate(KEEP_RECENT);
        });
    }
    let grids_of = |changes: &[Change]| -> Vec<String> {
        changes
            .iter()
            .filter_map(|c| match c {
                Change::Grid(k) => Some(k.key.clone()),
                _ => None,
            })
            .collect()
    };
    if let ServerMsg::Part { seq, changes } = &msg {
        let mut held = driver.part_grids.borrow_mut();
        if held.0 != *seq {
            *held = (*seq, Vec::new());
        }
        held.1.extend(grids_of(changes));
    }
    // The grids a delta touches (in itself or in its parts), with their tallies before it,
    // to tell reports from moves.
    let before: Vec<(String, Option<GridTally>)> = match &msg {
        ServerMsg::Delta { seq, changes, .. } => {
            let mut keys = grids_of(changes);
            let held = std::mem::take(&mut *driver.part_grids.borrow_mut());
            if held.0 == *seq {
                keys.extend(held.1);
            }
            let mirror = driver.mirror.borrow();
            keys.into_iter()
                .map(|k| {
                    let old = mirror.state.by_grid.get(&k).copied();
                    (k, old)
                })
                .collect()
        }
        _ => Vec::new(),
    };
    let applied = driver.mirror.borrow_mut().apply(&msg);
    match applied {
        Applied::Updated | Applied::Ignored => {
            if !matches!(msg, ServerMsg::Hello { .. }) {
                driver.link.last_frame_ms.set(Some(js_sys::Date::now()));
            }
            if applied == Applied::Updated {
                publish(driver, &msg, before);
            }
        }
        Applied::Gap => ask_for_snapshot(driver),
    }
}

fn next_serial(driver: &Driver) -> u64 {
    let mut serial = driver.serial.borrow_mut();
    *serial += 1;
    *serial
}

/// Sets `signal` to `value` only when it differs, so that unchanged panels are not woken.
fn sync<T>(signal: RwSignal<T>, value: &T)
where
    T: PartialEq + Clone + Send + Sync + 'static,
{
    if signal.with_untracked(|v| v != value) {
        signal.set(value.clone());
    }
}

/// Hands the mirror's new state to the signals after a snapshot, delta or heartbeat.
fn publish(driver: &Driver, msg: &ServerMsg, before: Vec<(String, Option<GridTally>)>) {
    let link = driver.link;
    let mirror = driver.mirror.borrow();
    let state = &mirror.state;
    sync(link.counters, &state.counters);
    sync(link.by_category, &state.by_category);
    sync(link.by_department, &state.by_department);
    sync(link.hourly, &state.hourly);
    sync(link.warnings, &state.warnings);
    sync(link.latest, &state.latest);
    sync(link.hotspots, &state.hotspots);
    sync(link.surges, &state.surges);
    sync(link.people, &state.people);
    sync(link.team, &state.team);
    match msg {
        ServerMsg::Snapshot { .. } => link.grids.set(GridFrame {
            full: true,
            grids: state
                .by_grid
                .iter()
                .map(|(id, tally)| (id.clone(), *tally))
                .collect(),
        }),
        ServerMsg::Delta { .. } if !before.is_empty() => {
            let mut fresh = Vec::new();
            let mut grids = Vec::with_capacity(before.len());
            for (id, old) in before {
                let new = state.by_grid.get(&id).copied().unwrap_or_default();
                let old = old.unwrap_or_default();
                let kind = if new.reported_total > old.reported_total {
                    Some(ActivityKind::Reported)
                } else if new.last_ms > old.last_ms {
                    Some(ActivityKind::Moved)
                } else {
                    None
                };
                if let Some(kind) = kind {
                    fresh.push(Activity {
                        serial: next_serial(driver),
                        grid_id: id.clone(),
                        kind,
                        at_ms: new.last_ms,
                    });
                }
                grids.push((id, new));
            }
            link.grids.set(GridFrame { full: false, grids });
            if !fresh.is_empty() {
                link.fresh_activity.set(fresh);
            }
        }
        _ => {}
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

#[cfg(test)]
mod tests {
    use super::parse_frame;
    use shared::wall::{ServerMsg, WallState, Warning, WarningLevel};

    #[test]
    fn a_snapshot_with_warnings_parses() {
        let mut state = WallState::default();
        state.warnings.insert(
            Warning::key(59),
            Warning {
                case_id: 59,
                level: WarningLevel::Overdue,
                category: "ecology".into(),
                sub_item: None,
                grid_id: None,
                department: None,
                deadline_ms: None,
                updated_ms: 1,
            },
        );
        let msg = ServerMsg::Snapshot {
            seq: 3,
            log_seq: 2,
            server_time_ms: 1,
            state,
        };
        let text = serde_json::to_string(&msg).expect("JSON");
        assert_eq!(parse_frame(&text).expect("a snapshot"), msg);
        let hb = r#"{"type":"heartbeat","server_time_ms":7,"seq":3,"log_seq":2}"#;
        assert!(matches!(
            parse_frame(hb).expect("a heartbeat"),
            ServerMsg::Heartbeat { seq: 3, .. }
        ));
    }
}
