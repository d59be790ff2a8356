//! The seat's session: the login form, the token kept across reloads, entering the account's
//! area once signed in, signing out, and the sockets opened with the token.

use super::drill::load_names;
use super::drive;
use super::queue::open_stream;
use super::render;
use super::state::{Level, root_level, seated, token, with};
use super::view::error;
use crate::dom::{button, h, n, storage, t, tr, value};
use crate::fetch::{self, Body, Failure};
use shared::auth::{AccountView, LoginRequest, LoginResponse, Role};
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use web_sys::Element;

/// Where a seat keeps its token, so a reload does not ask for the password again.
pub(super) const TOKEN_KEY: &str = "gridwall.seat.token";

/// Shows a refusal; a 401 means the session is gone, so the login form comes back.
pub(super) fn fail(failure: Failure) {
    if failure.status == 401 {
        forget();
    }
    error(Some(&failure.message));
}

/// The address of a WebSocket on this server (`path` with its query), `wss` when the page came
/// over HTTPS.
pub(super) fn socket_url(path: &str) -> String {
    let location = web_sys::window().map(|w| w.location());
    let scheme = match location.as_ref().and_then(|l| l.protocol().ok()).as_deref() {
        Some("https:") => "wss",
        _ => "ws",
    };
    let host = location.and_then(|l| l.host().ok()).unwrap_or_default();
    format!("{scheme}://{host}{path}")
}

/// Signed in as `account`: a seat starts at its own area once the area names are read.
pub(super) fn enter(account: AccountView) {
    let root = root_level(&account);
    let dispatcher = account.role == Role::Dispatcher;
    with(|s| {
        s.account = Some(account);
        // A dispatcher's work is the queue; a leader's the overview.
        s.path = if dispatcher {
            vec![root, Level::Queue]
        } else {
            vec![root]
        };
    });
    open_stream();
    if with(|s| s.account.as_ref().is_some_and(|a| seated(a.role))) {
        drive::render_panel();
        drive::connect();
    }
    render();
    if with(|s| s.names.is_none()) {
        spawn_local(async {
            match load_names().await {
                Ok(names) => {
                    with(|s| s.names = Some(Rc::new(names)));
                    render();
                }
                Err(failure) => fail(failure),
            }
        });
    }
}

/// Forgets the session: the token, the account, the path and the links; the login form
/// comes back.
fn forget() {
    if let Some(s) = storage() {
        let _ = s.remove_item(TOKEN_KEY);
    }
    with(|s| {
        s.token = None;
        s.account = None;
        s.path.clear();
        s.busy = false;
        if let Some(socket) = s.queue.socket.take() {
            let _ = socket.close();
        }
    });
    drive::disconnect();
    render();
}

pub(super) fn login_form() -> Element {
    let field = |label: &str, attrs: &[(&str, &str)]| {
        n(h("label", &[], &[t(label), n(h("input", attrs, &[]))]))
    };
    h(
        "form",
        &[
            ("class", "seat-card seat-login"),
            ("data-testid", "seat-login"),
        ],
        &[
            n(h("h1", &[], &[t(tr("指挥席位", "Seat"))])),
            field(
                tr("账号", "Login"),
                &[
                    ("data-testid", "seat-login-name"),
                    ("autocomplete", "username"),
                ],
            ),
            field(
                tr("密码", "Password"),
                &[
                    ("type", "password"),
                    ("data-testid", "seat-login-password"),
                    ("autocomplete", "current-password"),
                ],
            ),
            button(
                tr("登录", "Sign in"),
                &[
                    ("type", "submit"),
                    ("class", "seat-primary"),
                    ("data-testid", "seat-login-submit"),
                ],
            ),
        ],
    )
}

pub(super) fn sign_in() {
    if with(|s| std::mem::replace(&mut s.busy, true)) {
        return;
    }
    error(None);
    let body = LoginRequest {
        login: value("seat-login-name").trim().to_owned(),
        password: value("seat-login-password"),
    };
    let json = serde_json::to_string(&body).unwrap_or_default();
    spawn_local(async move {
        let answer =
            fetch::json::<LoginResponse>("POST", "/api/login", None, Body::Json(json)).await;
        with(|s| s.busy = false);
        match answer {
            Ok(login) => {
                if let Some(s) = storage() {
                    let _ = s.set_item(TOKEN_KEY, &login.token);
                }
                with(|s| s.token = Some(login.token));
                enter(login.account);
            }
            Err(failure) => fail(failure),
        }
    });
}

pub(super) fn sign_out() {
    if let Some(token) = token() {
        spawn_local(async move {
            let _ = fetch::send("POST", "/api/logout", Some(&token), Body::None).await;
        });
    }
    forget();
}
