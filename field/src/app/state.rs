//! The field page's state: what it holds between taps (the token, the account, the screen,
//! the request on its way, the phone's position and the photos on screen), and the pure steps
//! that change it.
//!
//! Nothing here touches the page: the screens read this state and draw it, so every step is
//! tested on the host.

use shared::auth::{AccountView, Role};
use shared::case::{Action, Point};
use std::cell::RefCell;

/// What the body of the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Screen {
    Report,
    Cases,
    Detail(i64),
}

/// What the page holds between taps.
#[derive(Debug)]
pub(super) struct State {
    pub(super) token: Option<String>,
    pub(super) account: Option<AccountView>,
    pub(super) screen: Screen,
    /// A request is on its way: a second tap does not send it twice.
    busy: bool,
    /// The phone's position, once it shared it, for the next report.
    pub(super) point: Option<Point>,
    /// Object URLs of the photos on screen, let go when the screen changes.
    pub(super) photo_urls: Vec<String>,
}

impl State {
    /// The state of a page just opened: nobody signed in, nothing on its way.
    pub(super) const fn new() -> State {
        State {
            token: None,
            account: None,
            screen: Screen::Cases,
            busy: false,
            point: None,
            photo_urls: Vec::new(),
        }
    }

    /// Signed in as `account`: each role starts where its work is, a grid worker at the report
    /// form and everyone else at the list.
    pub(super) fn enter(&mut self, account: AccountView) {
        self.screen = if account.role == Role::GridWorker {
            Screen::Report
        } else {
            Screen::Cases
        };
        self.account = Some(account);
    }

    /// The session is gone: the token and the account go, and so does a request's claim, as
    /// its answer no longer matters.
    pub(super) fn forget(&mut self) {
        self.token = None;
        self.account = None;
        self.busy = false;
    }

    /// Claims the page for one request; false while another is on its way.
    pub(super) fn claim(&mut self) -> bool {
        !std::mem::replace(&mut self.busy, true)
    }

    /// The request's answer came: the next tap may send another.
    pub(super) fn release(&mut self) {
        self.busy = false;
    }

    /// The moves of `allowed` (what the state machine allows) that the account's role makes,
    /// in the order `allowed` lists them; none when nobody is signed in.
    pub(super) fn moves_of(&self, allowed: &[Action]) -> Vec<Action> {
        self.account
            .as_ref()
            .map(|a| {
                allowed
                    .iter()
                    .copied()
                    .filter(|m| a.moves.contains(m))
                    .collect()
            })
            .unwrap_or_default()
    }
}

thread_local! {
    static STATE: RefCell<State> = const { RefCell::new(State::new()) };
}

pub(super) fn with<T>(f: impl FnOnce(&mut State) -> T) -> T {
    STATE.with(|s| f(&mut s.borrow_mut()))
}

pub(super) fn token() -> Option<String> {
    with(|s| s.token.clone())
}

#[cfg(test)]
pub(super) fn account(role: Role) -> AccountView {
    AccountView {
        login: "w1".into(),
        name: "王一".into(),
        role,
        area: None,
        department: None,
        grids: vec!["G1".into(), "G2".into()],
        moves: role.moves().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_starts_where_its_work_is() {
        let mut s = State::new();
        s.enter(account(Role::GridWorker));
        assert_eq!(s.screen, Screen::Report);
        for role in [Role::Dispatcher, Role::DepartmentStaff, Role::Leader] {
            let mut s = State::new();
            s.screen = Screen::Detail(7);
            s.enter(account(role));
            assert_eq!(s.screen, Screen::Cases, "{role:?}");
            assert_eq!(s.account.as_ref().map(|a| a.role), Some(role));
        }
    }

    #[test]
    fn a_second_tap_waits_for_the_first_request() {
        let mut s = State::new();
        assert!(s.claim());
        assert!(!s.claim(), "a request is on its way");
        s.release();
        assert!(s.claim());
    }

    #[test]
    fn forgetting_the_session_lets_go_of_a_request_on_its_way() {
        let mut s = State::new();
        s.token = Some("t".into());
        s.enter(account(Role::GridWorker));
        assert!(s.claim());
        s.forget();
        assert_eq!((s.token.as_deref(), s.account.is_none()), (None, true));
        assert!(s.claim(), "the login form can send its request");
    }

    #[test]
    fn only_the_moves_the_role_makes_are_offered() {
        let mut s = State::new();
        let allowed = [Action::Accept, Action::Reject, Action::Escalate];
        assert!(s.moves_of(&allowed).is_empty(), "nobody signed in");
        s.enter(account(Role::DepartmentStaff));
        assert_eq!(s.moves_of(&allowed), [Action::Accept]);
        s.enter(account(Role::GridWorker));
        assert_eq!(
            s.moves_of(&[Action::Verify, Action::Return, Action::Close]),
            [Action::Verify, Action::Return, Action::Close]
        );
        assert!(s.moves_of(&allowed).is_empty());
    }
}
