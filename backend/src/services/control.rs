//! Control channels: which seat drives which named wall, and what that wall shows.
//!
//! A channel is a `watch` of its [`ControlState`]: every wall following it (`/ws?follow=NAME`)
//! holds a receiver and so always sees the latest state, never a queue of stale ones. Seats
//! hear of every change through one broadcast. The state machine of a channel lives here:
//! take, show, hand over, release, and the return to the overview a short while after the
//! controller leaves. The lock is a std mutex held for a few assignments, never across an
//! `.await`.
//!
//! Only seats create channels: a wall that follows a name no seat has used yet waits for it
//! on the broadcast of changes, so walls naming random channels cannot fill the table. When the
//! table is full, channels nobody holds, shows anything on or follows are evicted.

use crate::error::AppError;
use shared::case::ApiErrorBody;
use shared::control::{CaseCard, ControlState, Controller, Display, valid_wall_name};
use shared::wall::Scope;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OnceCell, broadcast, mpsc, watch};

/// More channels than any command centre has walls; a bound so that seats naming random walls
/// cannot grow the table without end.
pub const MAX_CHANNELS: usize = 256;
/// What may wait for a seat that does not read: a few requests for its walls. Past this, more
/// are dropped (the asking seat is refused with `held` all the same).
const SEAT_QUEUE: usize = 16;
/// Past states kept for followers: a seat's look back and its replay steps are asked by every
/// wall following it at once, and one fold answers them all.
const PAST_KEPT: usize = 8;

/// Why a seat's request was refused, as the seat is told.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelRefusal(pub ApiErrorBody);

impl ChannelRefusal {
    fn new(code: &str, message: String) -> ChannelRefusal {
        ChannelRefusal(ApiErrorBody {
            code: code.to_owned(),
            message,
            field: None,
        })
    }

    /// A refusal carrying an API error's body (`forbidden`, `not_found`, `invalid_field` ...).
    pub fn of(err: &AppError) -> ChannelRefusal {
        ChannelRefusal(err.status_and_body().1)
    }
}

/// What a seat may be told directly rather than by the broadcast of changes.
#[derive(Debug, Clone, PartialEq)]
pub enum Direct {
    /// Another seat asks for a wall this seat holds.
    Asked { wall: String, by: Controller },
}

/// A past state as followers are sent it: its `hello` and snapshot messages, encoded once.
#[derive(Debug)]
pub struct PastFrames {
    pub messages: Vec<axum::extract::ws::Utf8Bytes>,
    pub log_seq: u64,
}

/// A past state shared by the followers that ask for it.
pub type PastCell = Arc<OnceCell<Arc<PastFrames>>>;

#[derive(Debug)]
struct Channel {
    tx: watch::Sender<Arc<ControlState>>,
}

#[derive(Debug)]
struct Seat {
    controller: Controller,
    direct: mpsc::Sender<Direct>,
}

#[derive(Debug, Default)]
struct Inner {
    channels: HashMap<String, Channel>,
    seats: HashMap<u64, Seat>,
    past: Vec<((Scope, i64), PastCell)>,
}

/// Every control channel of this server.
#[derive(Debug)]
pub struct Controls {
    inner: Mutex<Inner>,
    next_seat: AtomicU64,
    changes: broadcast::Sender<Arc<ControlState>>,
    /// How long a wall whose controller left keeps what it shows.
    return_after: Duration,
    /// Present inside a runtime; the return timers are spawned on it.
    runtime: Option<tokio::runtime::Handle>,
}

/// A seat's registration, which unregisters the seat when dropped: its walls are released.
#[derive(Debug)]
pub struct SeatGuard {
    controls: Arc<Controls>,
    pub seat: u64,
}

impl Drop for SeatGuard {
    fn drop(&mut self) {
        self.controls.seat_gone(self.seat);
    }
}

fn now_ms() -> i64 {
    crate::clock::now_ms()
}

/// A wall following one channel: the channel's watch once a seat has used the name, and until
/// then the broadcast of every channel's changes, in which it waits for its own.
#[derive(Debug)]
pub struct Follower {
    wall: String,
    followed: Followed,
}

#[derive(Debug)]
enum Followed {
    Channel(watch::Receiver<Arc<ControlState>>),
    Waiting(broadcast::Receiver<Arc<ControlState>>),
}

impl Follower {
    /// What the channel shows now (an idle state while no seat has used it), marked as seen.
    pub fn current(&mut self) -> Arc<ControlState> {
        match &mut self.followed {
            Followed::Channel(rx) => Arc::clone(&rx.borrow_and_update()),
            Followed::Waiting(_) => Arc::new(ControlState::idle(&self.wall)),
        }
    }

    /// The channel's next state; `None` when it can no longer change (the server stops).
    pub async fn changed(&mut self, controls: &Controls) -> Option<Arc<ControlState>> {
        loop {
            match &mut self.followed {
                Followed::Channel(rx) => {
                    return match rx.changed().await {
                        Ok(()) => Some(Arc::clone(&rx.borrow_and_update())),
                        Err(_) => None,
                    };
                }
                Followed::Waiting(changes) => match changes.recv().await {
                    Ok(state) if state.wall != self.wall => continue,
                    // This channel changed (or changes were missed): from now on its watch is
                    // followed, and its latest state is the answer, whatever came in between.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        if let Some(mut rx) = controls.subscribe(&self.wall) {
                            let state = Arc::clone(&rx.borrow_and_update());
                            self.followed = Followed::Channel(rx);
                            return Some(state);
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
            }
        }
    }
}

impl Controls {
    pub fn new(return_after: Duration) -> Controls {
        Controls {
            inner: Mutex::new(Inner::default()),
            next_seat: AtomicU64::new(1),
            changes: broadcast::channel(256).0,
            return_after,
            runtime: tokio::runtime::Handle::try_current().ok(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .expect("the control table is never poisoned")
    }

    /// A wall's way to follow channel `wall`. A name no seat has used yet creates nothing: the
    /// follower waits for it on the broadcast of changes.
    pub fn follow(&self, wall: &str) -> Result<Follower, AppError> {
        if !valid_wall_name(wall) {
            return Err(AppError::bad_parameter(
                "follow",
                format!("{wall:?} is not a wall's name: use 1 to 32 of a-z, 0-9 and -"),
            ));
        }
        let followed = match self.subscribe(wall) {
            Some(rx) => Followed::Channel(rx),
            None => Followed::Waiting(self.changes.subscribe()),
        };
        Ok(Follower {
            wall: wall.to_owned(),
            followed,
        })
    }

    /// The watch of channel `wall`, when a seat has used it.
    fn subscribe(&self, wall: &str) -> Option<watch::Receiver<Arc<ControlState>>> {
        self.lock().channels.get(wall).map(|c| c.tx.subscribe())
    }

    /// Makes room for one more channel by dropping those that nobody holds, nothing is shown on
    /// and no wall follows; false when every channel is in use.
    fn evict_idle(inner: &mut Inner) -> bool {
        inner.channels.retain(|_, c| {
            let state = c.tx.borrow();
            state.controller.is_some() || state.display.is_some() || c.tx.receiver_count() > 0
        });
        inner.channels.len() < MAX_CHANNELS
    }

    /// Every channel that has been used, by name.
    pub fn walls(&self) -> Vec<ControlState> {
        let inner = self.lock();
        let mut walls: Vec<ControlState> = inner
            .channels
            .values()
            .map(|c| ControlState::clone(&c.tx.borrow()))
            .collect();
        walls.sort_by(|a, b| a.wall.cmp(&b.wall));
        walls
    }

    /// The changes of every channel, for seats.
    pub fn changes(&self) -> broadcast::Receiver<Arc<ControlState>> {
        self.changes.subscribe()
    }

    /// Registers a seat; the receiver gets what is said to this seat alone.
    pub fn connect(
        self: &Arc<Self>,
        mut controller: Controller,
    ) -> (SeatGuard, mpsc::Receiver<Direct>) {
        let seat = self.next_seat.fetch_add(1, Ordering::Relaxed);
        controller.seat = seat;
        let (direct, rx) = mpsc::channel(SEAT_QUEUE);
        self.lock().seats.insert(seat, Seat { controller, direct });
        (
            SeatGuard {
                controls: Arc::clone(self),
                seat,
            },
            rx,
        )
    }

    /// Changes channel `wall` with `change`, which says whether it changed anything; a change
    /// gets the next `rev` and is announced to followers and seats.
    fn change(
        &self,
        inner: &mut Inner,
        wall: &str,
        change: impl FnOnce(&mut ControlState) -> Result<bool, ChannelRefusal>,
    ) -> Result<Arc<ControlState>, ChannelRefusal> {
        if !valid_wall_name(wall) {
            return Err(ChannelRefusal::new(
                "invalid_field",
                format!("{wall:?} is not a wall's name: use 1 to 32 of a-z, 0-9 and -"),
            ));
        }
        if !inner.channels.contains_key(wall) {
            if inner.channels.len() >= MAX_CHANNELS && !Self::evict_idle(inner) {
                return Err(ChannelRefusal::new(
                    "unavailable",
                    format!("this server already has {MAX_CHANNELS} walls"),
                ));
            }
            let (tx, _) = watch::channel(Arc::new(ControlState::idle(wall)));
            inner.channels.insert(wall.to_owned(), Channel { tx });
        }
        let channel = &inner.channels[wall];
        let mut next = ControlState::clone(&channel.tx.borrow());
        if !change(&mut next)? {
            return Ok(channel.tx.borrow().clone());
        }
        next.rev += 1;
        let next = Arc::new(next);
        channel.tx.send_replace(Arc::clone(&next));
        let _ = self.changes.send(Arc::clone(&next));
        tracing::info!(
            wall,
            rev = next.rev,
            controller = next.controller.as_ref().map(|c| c.login.as_str()),
            shows = next.display.as_ref().map(|d| d.scope.to_string()),
            "wall control changed"
        );
        Ok(next)
    }

    fn controller(inner: &Inner, seat: u64) -> Result<Controller, ChannelRefusal> {
        inner
            .seats
            .get(&seat)
            .map(|s| s.controller.clone())
            .ok_or_else(|| {
                ChannelRefusal::new("not_found", format!("seat {seat} is not connected"))
            })
    }

    /// Seat `seat` takes `wall`. A wall held by another seat is refused with `held`, and its
    /// holder is asked to hand it over.
    pub fn take(&self, seat: u64, wall: &str) -> Result<Arc<ControlState>, ChannelRefusal> {
        let mut inner = self.lock();
        let me = Self::controller(&inner, seat)?;
        let mut holder = None;
        let result = self.change(&mut inner, wall, |state| match &state.controller {
            Some(c) if c.seat == seat => Ok(false),
            Some(c) => {
                holder = Some(c.clone());
                Err(ChannelRefusal::new(
                    "held",
                    format!(
                        "{wall} is held by {} ({}, {}); they have been asked to hand it over",
                        c.name, c.login, c.role
                    ),
                ))
            }
            None => {
                state.controller = Some(me.clone());
                state.returns_at_ms = None;
                Ok(true)
            }
        });
        if let Some(holder) = holder
            && let Some(s) = inner.seats.get(&holder.seat)
        {
            // A seat that does not read its queue misses the request; the asker is told the
            // wall is held either way.
            let _ = s.direct.try_send(Direct::Asked {
                wall: wall.to_owned(),
                by: me,
            });
        }
        result
    }

    /// Puts `display` (and its case `card`) on `wall`, which `seat` must hold.
    pub fn show(
        &self,
        seat: u64,
        wall: &str,
        display: Option<Display>,
        card: Option<CaseCard>,
    ) -> Result<Arc<ControlState>, ChannelRefusal> {
        let mut inner = self.lock();
        self.change(&mut inner, wall, |state| {
            Self::holds(state, seat, wall)?;
            if state.display == display && state.card == card {
                return Ok(false);
            }
            state.display = display;
            state.card = card;
            Ok(true)
        })
    }

    fn holds(state: &ControlState, seat: u64, wall: &str) -> Result<(), ChannelRefusal> {
        match &state.controller {
            Some(c) if c.seat == seat => Ok(()),
            Some(c) => Err(ChannelRefusal::new(
                "not_holder",
                format!("{wall} is held by {} ({}); take it first", c.name, c.login),
            )),
            None => Err(ChannelRefusal::new(
                "not_holder",
                format!("nobody holds {wall}; take it first"),
            )),
        }
    }

    /// Seat `seat` hands `wall` to seat `to`, which keeps what the wall shows.
    pub fn handover(
        &self,
        seat: u64,
        wall: &str,
        to: u64,
    ) -> Result<Arc<ControlState>, ChannelRefusal> {
        let mut inner = self.lock();
        let next = Self::controller(&inner, to)?;
        self.change(&mut inner, wall, |state| {
            Self::holds(state, seat, wall)?;
            if to == seat {
                return Ok(false);
            }
            state.controller = Some(next);
            Ok(true)
        })
    }

    /// Seat `seat` lets go of `wall`; it returns to its overview after the delay.
    pub fn release(&self, seat: u64, wall: &str) -> Result<Arc<ControlState>, ChannelRefusal> {
        let mut inner = self.lock();
        let state = self.change(&mut inner, wall, |state| {
            Self::holds(state, seat, wall)?;
            Ok(Self::let_go(state, self.return_after))
        })?;
        drop(inner);
        self.schedule_return(&state);
        Ok(state)
    }

    fn let_go(state: &mut ControlState, after: Duration) -> bool {
        state.controller = None;
        state.returns_at_ms = Some(now_ms() + after.as_millis() as i64);
        true
    }

    /// The seat's link dropped: every wall it held is let go.
    fn seat_gone(&self, seat: u64) {
        let mut inner = self.lock();
        inner.seats.remove(&seat);
        let held: Vec<String> = inner
            .channels
            .iter()
            .filter(|(_, c)| {
                c.tx.borrow()
                    .controller
                    .as_ref()
                    .is_some_and(|c| c.seat == seat)
            })
            .map(|(name, _)| name.clone())
            .collect();
        let mut released = Vec::new();
        for wall in held {
            if let Ok(state) = self.change(&mut inner, &wall, |state| {
                Ok(Self::let_go(state, self.return_after))
            }) {
                tracing::info!(
                    wall,
                    seat,
                    "a seat's link dropped; its wall returns to the overview soon"
                );
                released.push(state);
            }
        }
        drop(inner);
        for state in released {
            self.schedule_return(&state);
        }
    }

    /// After the delay, a wall still without a controller since `state` returns to its
    /// overview. A take in between changes `rev`, and the return is then forgotten.
    fn schedule_return(&self, state: &Arc<ControlState>) {
        let Some(runtime) = &self.runtime else {
            return;
        };
        let Some(tx) = self.lock().channels.get(&state.wall).map(|c| c.tx.clone()) else {
            return;
        };
        let changes = self.changes.clone();
        let rev = state.rev;
        let after = self.return_after;
        runtime.spawn(async move {
            tokio::time::sleep(after).await;
            let mut announced = None;
            tx.send_if_modified(|current| {
                if current.rev != rev || current.controller.is_some() {
                    return false;
                }
                let mut next = ControlState::clone(current);
                next.rev += 1;
                next.display = None;
                next.card = None;
                next.returns_at_ms = None;
                let next = Arc::new(next);
                announced = Some(Arc::clone(&next));
                *current = next;
                true
            });
            if let Some(next) = announced {
                tracing::info!(wall = %next.wall, rev = next.rev, "wall returned to its overview");
                let _ = changes.send(next);
            }
        });
    }

    /// The scope shown by channel `wall` when the case on its card has photo `hash`: a wall
    /// following it may show that photo.
    pub fn shown_photo(&self, wall: &str, hash: &str) -> Option<Scope> {
        let inner = self.lock();
        let state = inner.channels.get(wall)?.tx.borrow().clone();
        let card = state.card.as_ref()?;
        card.moves
            .iter()
            .flat_map(|m| &m.photos)
            .any(|p| p.hash == hash)
            .then(|| state.display.as_ref().map(|d| d.scope.clone()))
            .flatten()
    }

    /// The shared cell for the state of `scope` at `at_ms`: the first follower to ask folds
    /// it, the others wait for the same answer.
    pub fn past_cell(&self, scope: &Scope, at_ms: i64) -> PastCell {
        let key = (scope.clone(), at_ms);
        let mut inner = self.lock();
        if let Some((_, cell)) = inner.past.iter().find(|(k, _)| *k == key) {
            return Arc::clone(cell);
        }
        if inner.past.len() >= PAST_KEPT {
            inner.past.remove(0);
        }
        let cell = PastCell::default();
        inner.past.push((key, Arc::clone(&cell)));
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::auth::Role;

    fn who(login: &str) -> Controller {
        Controller {
            seat: 0,
            login: login.into(),
            name: login.into(),
            role: Role::Leader,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn one_controller_at_a_time_and_a_timed_return() {
        let controls = Arc::new(Controls::new(Duration::from_millis(50)));
        let (a, mut a_rx) = controls.connect(who("a"));
        let (b, mut b_rx) = controls.connect(who("b"));
        let taken = controls.take(a.seat, "main").expect("free");
        let mut wall = controls.subscribe("main").expect("a seat made the channel");
        assert_eq!(taken.controller.as_ref().map(|c| c.seat), Some(a.seat));
        let refused = controls.take(b.seat, "main").expect_err("held");
        assert_eq!(refused.0.code, "held");
        assert!(
            refused.0.message.contains("held by a"),
            "{}",
            refused.0.message
        );
        // The holder is asked, not b.
        let Some(Direct::Asked { by, .. }) = a_rx.recv().await else {
            panic!("the holder is asked")
        };
        assert_eq!(by.login, "b");
        assert!(b_rx.try_recv().is_err());
        let shown = controls
            .show(
                a.seat,
                "main",
                Some(Display::live(Scope::District("1".into()))),
                None,
            )
            .expect("held by a");
        assert!(shown.rev > taken.rev);
        assert_eq!(
            controls
                .show(b.seat, "main", None, None)
                .expect_err("not b's")
                .0
                .code,
            "not_holder"
        );
        // A hand-over keeps the display.
        let handed = controls
            .handover(a.seat, "main", b.seat)
            .expect("a holds it");
        assert_eq!(
            handed.controller.as_ref().map(|c| c.login.as_str()),
            Some("b")
        );
        assert_eq!(handed.display, shown.display);
        // b's link drops: the wall keeps the display for the delay, then shows its overview.
        drop(b);
        let let_go = wall.borrow_and_update().clone();
        assert!(let_go.controller.is_none());
        assert!(let_go.returns_at_ms.is_some());
        assert!(let_go.display.is_some());
        wall.changed().await.expect("the return");
        let back = wall.borrow_and_update().clone();
        assert_eq!(back.display, None);
        assert_eq!(back.returns_at_ms, None);
        drop(a);
    }

    #[tokio::test(start_paused = true)]
    async fn a_take_before_the_return_keeps_the_wall() {
        let controls = Arc::new(Controls::new(Duration::from_millis(30)));
        let (a, _) = controls.connect(who("a"));
        controls.take(a.seat, "main").expect("free");
        let wall = controls.subscribe("main").expect("a seat made the channel");
        controls
            .show(a.seat, "main", Some(Display::live(Scope::City)), None)
            .expect("held");
        controls.release(a.seat, "main").expect("held");
        let (b, _) = controls.connect(who("b"));
        controls.take(b.seat, "main").expect("free again");
        tokio::time::sleep(Duration::from_millis(80)).await;
        let state = wall.borrow().clone();
        assert_eq!(
            state.controller.as_ref().map(|c| c.login.as_str()),
            Some("b")
        );
        assert_eq!(state.display, Some(Display::live(Scope::City)));
    }

    #[test]
    fn names_are_checked() {
        let controls = Controls::new(Duration::from_secs(1));
        assert!(controls.follow("Main Wall").is_err());
        assert!(controls.follow("main").is_ok());
    }

    #[tokio::test]
    async fn followers_create_no_channels_and_wait_for_a_seat() {
        let controls = Arc::new(Controls::new(Duration::from_secs(1)));
        // Followers of more names than the table holds: none of them makes a channel.
        let mut followers: Vec<Follower> = (0..MAX_CHANNELS + 10)
            .map(|i| controls.follow(&format!("w{i}")).expect("a name"))
            .collect();
        assert!(controls.walls().is_empty());
        assert_eq!(followers[0].current().controller, None);
        // A seat takes one of those names: its follower hears it.
        let (a, _a_rx) = controls.connect(who("a"));
        let taken = controls.take(a.seat, "w0").expect("free");
        let heard = followers[0].changed(&controls).await.expect("a change");
        assert_eq!(heard.rev, taken.rev);
        assert_eq!(heard.controller.as_ref().map(|c| c.seat), Some(a.seat));
        // From then on it follows the channel's watch.
        let shown = controls
            .show(a.seat, "w0", Some(Display::live(Scope::City)), None)
            .expect("held");
        let heard = followers[0].changed(&controls).await.expect("a change");
        assert_eq!(heard.rev, shown.rev);
    }

    #[test]
    fn a_full_table_evicts_channels_nobody_uses() {
        let controls = Arc::new(Controls::new(Duration::from_secs(1)));
        let (a, _a_rx) = controls.connect(who("a"));
        for i in 0..MAX_CHANNELS {
            let name = format!("w{i}");
            controls.take(a.seat, &name).expect("room");
            controls.release(a.seat, &name).expect("held");
        }
        // Released walls keep their (empty) display until their return; these showed nothing,
        // so they are idle and nobody follows them: a new channel evicts them.
        assert_eq!(controls.walls().len(), MAX_CHANNELS);
        controls
            .take(a.seat, "one-more")
            .expect("idle channels make room");
        assert!(controls.walls().len() <= MAX_CHANNELS);
        assert!(controls.walls().iter().any(|w| w.wall == "one-more"));
        // Channels in use are never evicted: with every one held, the next is refused.
        let (b, _b_rx) = controls.connect(who("b"));
        let held: Vec<String> = controls.walls().iter().map(|w| w.wall.clone()).collect();
        for name in &held {
            let _ = controls.take(b.seat, name);
        }
        for i in 0..MAX_CHANNELS {
            let _ = controls.take(b.seat, &format!("x{i}"));
        }
        let refused = controls.take(b.seat, "no-room").expect_err("full");
        assert_eq!(refused.0.code, "unavailable");
    }
}
