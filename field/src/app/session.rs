//! The field page's session: the login form, the token kept across reloads, entering the
//! account's first screen once signed in, signing out, and a refusal that ends the session.

use super::render;
use super::state::{token, with};
use super::view::{begin, clear_messages, done, error, label};
use crate::dom::{button, h, n, storage, t, tr, value};
use crate::fetch::{self, Body, Failure};
use shared::auth::{AccountView, LoginRequest, LoginResponse};
use wasm_bindgen_futures::spawn_local;
use web_sys::Element;

/// Where a signed-in phone keeps its token, so a reload does not ask for the password again.
pub(super) const TOKEN_KEY: &str = "gridwall.field.token";

/// Shows a refusal; a 401 means the session is gone, so the login form comes back.
pub(super) fn fail(failure: Failure) {
    if failure.status == 401 {
        forget();
    }
    error(&failure.message);
}

/// Signed in as `account`: each role starts where its work is.
pub(super) fn enter(account: AccountView) {
    with(|s| s.enter(account));
    render();
}

/// Drops the session, kept token and all, and shows the login form again.
pub(super) fn forget() {
    if let Some(s) = storage() {
        let _ = s.remove_item(TOKEN_KEY);
    }
    with(|s| s.forget());
    render();
}

pub(super) fn login_form() -> Element {
    h(
        "form",
        &[("class", "field-card"), ("data-testid", "field-login")],
        &[
            n(h("h1", &[], &[t(tr("网格现场", "In the field"))])),
            label(
                tr("账号", "Login"),
                h(
                    "input",
                    &[
                        ("data-testid", "field-login-name"),
                        ("autocomplete", "username"),
                        ("autocapitalize", "none"),
                    ],
                    &[],
                ),
            ),
            label(
                tr("密码", "Password"),
                h(
                    "input",
                    &[
                        ("type", "password"),
                        ("data-testid", "field-login-password"),
                        ("autocomplete", "current-password"),
                    ],
                    &[],
                ),
            ),
            button(
                tr("登录", "Sign in"),
                &[
                    ("type", "submit"),
                    ("class", "field-primary"),
                    ("data-testid", "field-login-submit"),
                ],
            ),
        ],
    )
}

pub(super) fn sign_in() {
    let body = serde_json::to_string(&LoginRequest {
        login: value("field-login-name"),
        password: value("field-login-password"),
    })
    .unwrap_or_default();
    if !begin() {
        return;
    }
    spawn_local(async move {
        let answer =
            fetch::json::<LoginResponse>("POST", "/api/login", None, Body::Json(body)).await;
        done();
        match answer {
            Ok(answer) => {
                if let Some(s) = storage() {
                    let _ = s.set_item(TOKEN_KEY, &answer.token);
                }
                with(|s| s.token = Some(answer.token));
                enter(answer.account);
            }
            // A wrong password is not a lost session: only the message is shown.
            Err(failure) => error(&failure.message),
        }
    });
}

pub(super) fn sign_out() {
    if let Some(token) = token() {
        spawn_local(async move {
            let _ = fetch::send("POST", "/api/logout", Some(&token), Body::None).await;
        });
    }
    clear_messages();
    forget();
}
