//! Driving a wall from the seat: the seat's link to `/ws/seat`, taking, releasing and handing
//! over a control channel (from the "大屏 / Wall" panel, drawn by `panel`), and the `Show` that
//! puts the seat's screen (its area, grid, case, look-back moment or replay) on every wall the
//! seat holds.
//!
//! The seat never sends what a wall should draw piece by piece: each time what the seat shows
//! changes it sends the whole [`Display`], and only when it differs from the last one sent, so
//! that a redraw which changes nothing costs the walls nothing.

mod panel;

pub(super) use panel::{on_input, render_panel};

use super::session::socket_url;
use super::state::{Level, Names, REPLAY_MS, Replay, seated, with};
use super::view::error;
use crate::dom::{fill, storage, tr};
use panel::{map_choice, named_wall, show_status};
use serde::Deserialize;
use shared::case::ApiErrorBody;
use shared::control::{Controller, Display, ReplayClock, SeatMsg, valid_wall_name};
use shared::wall::Scope;
use std::collections::{BTreeMap, BTreeSet};
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// Where the seat keeps the name of the wall it drives, so that a reload names it again.
const WALL_KEY: &str = "gridwall.seat.wall";
/// The wall a seat drives unless it names another.
const DEFAULT_WALL: &str = "main";
/// How many times faster than real time the replay runs: a day in [`REPLAY_MS`].
const REPLAY_SPEED: f64 = shared::time::DAY_MS as f64 / REPLAY_MS;
/// A replay's moving clock is sent at most this often (ms): the walls follow it at about two
/// steps a second rather than at every tick of the seat's timer.
const REPLAY_SEND_MS: f64 = 500.0;
/// The first wait before the seat's link is opened again, doubled up to [`MAX_RETRY_MS`].
const FIRST_RETRY_MS: i32 = 1_000;
const MAX_RETRY_MS: i32 = 15_000;

/// A channel as the seat reads it: who holds it. Its display and case card are skipped as they
/// are read, so that the seat's bundle does not carry their decoders.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(super) struct Channel {
    wall: String,
    #[serde(default)]
    controller: Option<Controller>,
}

/// What `/ws/seat` says, as [`shared::control::SeatEvent`] writes it, read with [`Channel`].
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    Hello { seat: u64, walls: Vec<Channel> },
    Control { control: Channel },
    Asked { wall: String, by: Controller },
    Refused { wall: String, error: ApiErrorBody },
}

/// The seat's side of the control channels.
#[derive(Debug)]
pub(super) struct Drive {
    socket: Option<web_sys::WebSocket>,
    /// This connection's seat number, from its `hello`; `None` until then.
    seat: Option<u64>,
    /// Every channel in use, by name.
    walls: BTreeMap<String, Channel>,
    /// The wall named in the panel.
    wall: String,
    /// Walls this seat asked for and has not been given yet: when one is granted, by the
    /// server or by a handover, the seat's screen goes onto it at once.
    taking: BTreeSet<String>,
    /// Walls this seat held when its link dropped, taken again if they are still free when the
    /// link is back.
    resume: BTreeSet<String>,
    /// The display last sent to each wall this seat holds.
    sent: BTreeMap<String, Option<Display>>,
    /// When the last `Show` went (the browser's clock, ms).
    sent_at: f64,
    /// Another seat's request for a wall this seat holds.
    asked: Option<(String, Controller)>,
    /// The wait before the next attempt to open the link (ms), and whether one is due.
    retry_ms: i32,
    retrying: bool,
}

impl Drive {
    pub(super) const fn new() -> Drive {
        Drive {
            socket: None,
            seat: None,
            walls: BTreeMap::new(),
            wall: String::new(),
            taking: BTreeSet::new(),
            resume: BTreeSet::new(),
            sent: BTreeMap::new(),
            sent_at: 0.0,
            asked: None,
            retry_ms: FIRST_RETRY_MS,
            retrying: false,
        }
    }

    /// The walls this seat holds.
    fn held(&self) -> Vec<String> {
        let Some(me) = self.seat else {
            return Vec::new();
        };
        self.walls
            .values()
            .filter(|c| c.controller.as_ref().is_some_and(|c| c.seat == me))
            .map(|c| c.wall.clone())
            .collect()
    }

    fn holds(&self, wall: &str) -> bool {
        self.held().iter().any(|w| w == wall)
    }
}

/// The map the seat chose for its walls in the wall panel: a metric and the place layers
/// shown; `None` leaves each wall its own.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct MapChoice {
    metric: Option<String>,
    layers: Option<Vec<String>>,
}

/// What the seat shows, as a wall would show it; `None` when it cannot be said yet (the area
/// names are not read). The city, live, with nothing picked out is the wall's own overview.
fn display_of(
    path: &[Level],
    names: Option<&Names>,
    moment: Option<i64>,
    replay: Option<&Replay>,
    map: &MapChoice,
) -> Option<Option<Display>> {
    let names = names?;
    let area = path.iter().rev().find(|l| l.is_area())?;
    let scope = Scope::parse(&area.scope(names)).ok()?;
    let grid = match area {
        Level::Grid(id) => Some(id.clone()),
        _ => None,
    };
    let case = match path.last() {
        Some(Level::Case(id)) => Some(*id),
        _ => None,
    };
    let (at_ms, replay) = match replay {
        Some(r) => (
            Some(r.shown),
            Some(ReplayClock {
                from_ms: r.start,
                to_ms: r.end,
                speed: REPLAY_SPEED,
                paused: r.paused,
            }),
        ),
        None => (moment, None),
    };
    let display = Display {
        grid,
        case,
        at_ms,
        replay,
        metric: map.metric.clone(),
        layers: map.layers.clone(),
        ..Display::live(scope)
    };
    Some((display != Display::live(Scope::City)).then_some(display))
}

/// Whether `now` differs from `before` only by where a running replay's clock stands: such a
/// change waits for [`REPLAY_SEND_MS`] to pass.
fn only_clock_moved(before: Option<&Option<Display>>, now: &Option<Display>) -> bool {
    match (before, now) {
        (Some(Some(before)), Some(now)) if before.replay.is_some() && now.replay.is_some() => {
            Display {
                at_ms: now.at_ms,
                ..before.clone()
            } == *now
        }
        _ => false,
    }
}

/// Opens the seat's link, for a leader or a dispatcher that has none.
pub(super) fn connect() {
    let (token, seat) = with(|s| {
        (
            s.token.clone(),
            s.account.as_ref().is_some_and(|a| seated(a.role)) && s.drive.socket.is_none(),
        )
    });
    let (Some(token), true) = (token, seat) else {
        return;
    };
    let Ok(socket) = web_sys::WebSocket::new(&socket_url(&format!("/ws/seat?token={token}")))
    else {
        return retry();
    };
    let (on_message, on_close) = handlers();
    socket.set_onmessage(Some(&on_message));
    socket.set_onclose(Some(&on_close));
    with(|s| s.drive.socket = Some(socket));
    show_status();
}

/// Closes the link and forgets the channels, as the seat signs out; the panel goes with it.
pub(super) fn disconnect() {
    let socket = with(|s| {
        let wall = std::mem::take(&mut s.drive.wall);
        let socket = s.drive.socket.take();
        s.drive = Drive::new();
        s.drive.wall = wall;
        socket
    });
    if let Some(socket) = socket {
        let _ = socket.close();
    }
    fill("seat-wall", &[]);
}

/// The link's two listeners, made once and shared by every socket the page opens: each
/// checks that its event comes from the socket in use, so a closed one's late events are
/// dropped.
fn handlers() -> (js_sys::Function, js_sys::Function) {
    thread_local! {
        static HANDLERS: (js_sys::Function, js_sys::Function) = (
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(on_message)
                .into_js_value()
                .unchecked_into(),
            Closure::<dyn FnMut(web_sys::Event)>::new(on_close)
                .into_js_value()
                .unchecked_into(),
        );
    }
    HANDLERS.with(Clone::clone)
}

/// Whether an event comes from the socket in use.
fn from_current(ev: &web_sys::Event) -> bool {
    let target: Option<JsValue> = ev.target().map(Into::into);
    with(|s| match (&s.drive.socket, target) {
        (Some(socket), Some(target)) => js_sys::Object::is(socket, &target),
        _ => false,
    })
}

fn on_message(ev: web_sys::MessageEvent) {
    if !from_current(&ev) {
        return;
    }
    let Some(text) = ev.data().as_string() else {
        return;
    };
    // A message of a later protocol that this page does not know is left alone.
    if let Ok(event) = serde_json::from_str::<Event>(&text) {
        handle(event);
    }
}

fn handle(event: Event) {
    match event {
        Event::Hello { seat, walls } => {
            let resume = with(|s| {
                let d = &mut s.drive;
                d.seat = Some(seat);
                d.walls = walls.into_iter().map(|c| (c.wall.clone(), c)).collect();
                d.sent.clear();
                d.retry_ms = FIRST_RETRY_MS;
                // The walls held before the drop that nobody took meanwhile.
                let free: Vec<String> = std::mem::take(&mut d.resume)
                    .into_iter()
                    .filter(|w| d.walls.get(w).is_none_or(|c| c.controller.is_none()))
                    .collect();
                d.taking.extend(free.iter().cloned());
                free
            });
            show_status();
            for wall in resume {
                send(&SeatMsg::Take { wall });
            }
        }
        Event::Control { control } => {
            let push = with(|s| {
                let wall = control.wall.clone();
                let d = &mut s.drive;
                let before = d.holds(&wall);
                d.walls.insert(wall.clone(), control);
                let now = d.holds(&wall);
                if !now {
                    d.sent.remove(&wall);
                    if d.asked.as_ref().is_some_and(|(w, _)| *w == wall) {
                        d.asked = None;
                    }
                    return false;
                }
                if d.taking.remove(&wall) {
                    // Asked for: the seat's screen goes on at once.
                    d.sent.remove(&wall);
                    true
                } else {
                    if !before {
                        // Handed over unasked: the wall keeps what it shows until the seat's
                        // screen changes.
                        let shown = display_of(
                            &s.path,
                            s.names.as_deref(),
                            s.moment,
                            s.replay.as_ref(),
                            &map_choice(),
                        );
                        if let Some(shown) = shown {
                            s.drive.sent.insert(wall, shown);
                        }
                    }
                    false
                }
            });
            show_status();
            if push {
                sync();
            }
        }
        Event::Asked { wall, by } => {
            with(|s| s.drive.asked = Some((wall, by)));
            show_status();
        }
        Event::Refused { wall, error: body } => {
            with(|s| {
                // A wall held by another seat stays asked for: its holder may hand it over.
                if body.code != "held" {
                    s.drive.taking.remove(&wall);
                }
            });
            error(Some(&body.message));
        }
    }
}

/// The close codes by which the server says the seat's session no longer works (signed out,
/// expired, the account disabled) or no longer opens the seat.
const CLOSE_UNAUTHORIZED: u16 = 4401;
const CLOSE_FORBIDDEN: u16 = 4403;

fn on_close(ev: web_sys::Event) {
    if !from_current(&ev) {
        return;
    }
    let refused = ev
        .dyn_ref::<web_sys::CloseEvent>()
        .filter(|c| matches!(c.code(), CLOSE_UNAUTHORIZED | CLOSE_FORBIDDEN))
        .map(web_sys::CloseEvent::reason);
    with(|s| {
        let d = &mut s.drive;
        d.resume = d.held().into_iter().collect();
        d.socket = None;
        d.seat = None;
        d.walls.clear();
        d.taking.clear();
        d.sent.clear();
        d.asked = None;
    });
    show_status();
    if let Some(reason) = refused {
        // The session will not work again: the seat says why instead of retrying in silence.
        let prefix = tr(
            "服务器已关闭大屏连接，请重新登录",
            "The server closed the link to the walls; sign in again",
        );
        error(Some(&format!("{prefix}: {reason}")));
        return;
    }
    retry();
}

/// Opens the link again after a wait that doubles with every failure, while the seat is
/// signed in.
fn retry() {
    let wait = with(|s| {
        if s.token.is_none() || std::mem::replace(&mut s.drive.retrying, true) {
            return None;
        }
        let wait = s.drive.retry_ms;
        s.drive.retry_ms = (wait * 2).min(MAX_RETRY_MS);
        Some(wait)
    });
    let (Some(wait), Some(window)) = (wait, web_sys::window()) else {
        return;
    };
    let again = Closure::once_into_js(|| {
        with(|s| s.drive.retrying = false);
        connect();
    });
    let _ =
        window.set_timeout_with_callback_and_timeout_and_arguments_0(again.unchecked_ref(), wait);
}

/// Sends a message on the link; says so when the link is not ready.
fn send(msg: &SeatMsg) -> bool {
    let socket = with(|s| s.drive.socket.clone().filter(|_| s.drive.seat.is_some()));
    let (Some(socket), Ok(json)) = (socket, serde_json::to_string(msg)) else {
        error(Some(tr(
            "大屏连接未就绪，正在重新连接…",
            "The link to the walls is not ready; reconnecting…",
        )));
        return false;
    };
    if matches!(msg, SeatMsg::Show { .. }) {
        let now = js_sys::Date::now();
        with(|s| s.drive.sent_at = now);
        // The browser tests time a display from here to the wall that applies it.
        if let Some(window) = web_sys::window() {
            let _ = js_sys::Reflect::set(&window, &"__gwSentAt".into(), &JsValue::from_f64(now));
        }
    }
    socket.send_with_str(&json).is_ok()
}

/// Puts what the seat shows on every wall it holds, when it differs from what was sent last.
/// Called after every screen drawn and by the page's timer, which catches a replay's clock.
pub(super) fn sync() {
    let now = js_sys::Date::now();
    let map = map_choice();
    let due = with(|s| {
        let held = s.drive.held();
        if held.is_empty() {
            return Vec::new();
        }
        let Some(display) = display_of(
            &s.path,
            s.names.as_deref(),
            s.moment,
            s.replay.as_ref(),
            &map,
        ) else {
            return Vec::new();
        };
        let soon = now - s.drive.sent_at < REPLAY_SEND_MS;
        let mut due = Vec::new();
        for wall in held {
            let before = s.drive.sent.get(&wall);
            if before == Some(&display) || (soon && only_clock_moved(before, &display)) {
                continue;
            }
            s.drive.sent.insert(wall.clone(), display.clone());
            due.push((wall, display.clone()));
        }
        due
    });
    for (wall, display) in due {
        send(&SeatMsg::Show { wall, display });
    }
}

/// "上大屏 / Take the wall": asks for the wall named in the panel.
pub(super) fn take() {
    error(None);
    let wall = named_wall();
    if !valid_wall_name(&wall) {
        return error(Some(tr(
            "大屏名称为 1 至 32 个小写字母、数字或连字符（-）",
            "A wall's name is 1 to 32 lowercase letters, digits or hyphens",
        )));
    }
    if let Some(s) = storage() {
        let _ = s.set_item(WALL_KEY, &wall);
    }
    let mine = with(|s| {
        s.drive.wall = wall.clone();
        if s.drive.holds(&wall) {
            // A wall already held changes nothing on the server: the seat's screen goes on
            // again from here.
            s.drive.sent.remove(&wall);
            true
        } else {
            s.drive.taking.insert(wall.clone());
            false
        }
    });
    show_status();
    if send(&SeatMsg::Take { wall }) && mine {
        sync();
    }
}

/// "释放 / Release": lets go of the wall named in the panel.
pub(super) fn release() {
    let wall = named_wall();
    with(|s| {
        s.drive.taking.remove(&wall);
        s.drive.wall = wall.clone();
    });
    send(&SeatMsg::Release { wall });
}

/// Hands the asked-for wall to the seat that asked.
pub(super) fn hand_over() {
    let Some((wall, by)) = with(|s| s.drive.asked.take()) else {
        return;
    };
    send(&SeatMsg::Handover {
        wall,
        to_seat: by.seat,
    });
    show_status();
}

/// Leaves another seat's request unanswered.
pub(super) fn keep() {
    with(|s| s.drive.asked = None);
    show_status();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::state::tests::names;
    use shared::auth::Role;

    #[test]
    fn the_display_follows_the_drill_down() {
        let names = names();
        let city = [Level::City];
        assert_eq!(
            display_of(&city, None, None, None, &MapChoice::default()),
            None,
            "no names yet"
        );
        assert_eq!(
            display_of(&city, Some(&names), None, None, &MapChoice::default()),
            Some(None),
            "the live city is the wall's overview"
        );
        let path = [
            Level::City,
            Level::District("D1".into()),
            Level::Street("S1".into()),
            Level::Grid("G1".into()),
            Level::Case(7),
        ];
        let shown = display_of(&path, Some(&names), Some(5), None, &MapChoice::default())
            .flatten()
            .expect("a display");
        assert_eq!(shown.scope, Scope::Street("S1".into()));
        assert_eq!(shown.grid.as_deref(), Some("G1"));
        assert_eq!(shown.case, Some(7));
        assert_eq!(shown.at_ms, Some(5));
        let district =
            display_of(&path[..2], Some(&names), None, None, &MapChoice::default()).flatten();
        assert_eq!(district, Some(Display::live(Scope::District("D1".into()))));
        // A look back at the city is not the live overview.
        assert!(
            display_of(&city, Some(&names), Some(5), None, &MapChoice::default())
                .flatten()
                .is_some()
        );
        // Nor is the city with a map chosen for the wall.
        let map = MapChoice {
            metric: Some("overdue".into()),
            layers: Some(vec!["key_place".into()]),
        };
        let chosen = display_of(&city, Some(&names), None, None, &map)
            .flatten()
            .expect("a display");
        assert_eq!(chosen.metric.as_deref(), Some("overdue"));
        assert_eq!(chosen.layers, Some(vec!["key_place".to_owned()]));
    }

    #[test]
    fn a_replay_sends_its_period_and_only_its_clock_moves() {
        let names = names();
        let mut replay = Replay {
            target: 0.0,
            shown: 1_000,
            start: 0,
            end: shared::time::DAY_MS,
            paused: false,
            dirty: false,
            in_flight: false,
            last_tick: 0.0,
            round: 0,
        };
        let city = [Level::City];
        let first = display_of(
            &city,
            Some(&names),
            Some(9),
            Some(&replay),
            &MapChoice::default(),
        )
        .flatten();
        let clock = first
            .as_ref()
            .and_then(|d| d.replay.clone())
            .expect("a clock");
        assert_eq!(clock.speed, 1440.0);
        assert_eq!(first.as_ref().and_then(|d| d.at_ms), Some(1_000));
        replay.shown = 2_000;
        let later = display_of(
            &city,
            Some(&names),
            None,
            Some(&replay),
            &MapChoice::default(),
        )
        .flatten();
        assert!(only_clock_moved(Some(&first.clone()), &later));
        replay.paused = true;
        let paused = display_of(
            &city,
            Some(&names),
            None,
            Some(&replay),
            &MapChoice::default(),
        )
        .flatten();
        assert!(
            !only_clock_moved(Some(&later), &paused),
            "a pause goes at once"
        );
        assert!(!only_clock_moved(None, &later));
    }

    #[test]
    fn seat_events_are_read_without_their_displays() {
        let state = shared::control::ControlState {
            controller: Some(Controller {
                seat: 3,
                login: "leader".into(),
                name: "领导".into(),
                role: Role::Leader,
            }),
            display: Some(Display::live(Scope::City)),
            ..shared::control::ControlState::idle("main")
        };
        let event = shared::control::SeatEvent::Control {
            control: Box::new(state),
        };
        let text = serde_json::to_string(&event).expect("json");
        match serde_json::from_str::<Event>(&text).expect("read") {
            Event::Control { control } => {
                assert_eq!(control.wall, "main");
                assert_eq!(control.controller.map(|c| c.seat), Some(3));
            }
            other => panic!("{other:?}"),
        }
        let hello = shared::control::SeatEvent::Hello {
            protocol: 4,
            seat: 9,
            walls: vec![shared::control::ControlState::idle("main")],
        };
        let text = serde_json::to_string(&hello).expect("json");
        assert!(matches!(
            serde_json::from_str::<Event>(&text).expect("read"),
            Event::Hello { seat: 9, .. }
        ));
    }
}
