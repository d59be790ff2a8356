//! The field page at `/field`, sized for a phone: a grid worker reports with a photo from the
//! camera, follows its cases and verifies them on site; department staff accept and resolve
//! their queue with an after photo; a centre's dispatcher dispatches what was reported.
//!
//! It is its own small bundle, loaded only by `/field`, so the wall's download never carries it.
//! It builds its few elements with plain DOM calls and handles every tap with one listener on
//! its root, without Leptos, which keeps this bundle small for a phone on a mobile network.
//! Every write goes through the same API as any other client, and whatever the server refuses
//! is shown in the server's own words.

use crate::dom::{button, by_id, doc, fill, h, listen, n, role_name, storage, t, tr, value, when};
use crate::fetch::{self, Body, Failure};
use crate::text::{self, Lang};
use serde::{Deserialize, Serialize};
use shared::auth::{AccountView, LoginRequest, LoginResponse, Role};
use shared::case::{
    Action, CaseListView, CasePhoto, CaseState, Category, MoveCase, Point, ReportCase,
};
use std::cell::RefCell;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, HtmlInputElement};

/// Where a signed-in phone keeps its token, so a reload does not ask for the password again.
const TOKEN_KEY: &str = "gridwall.field.token";

/// The part of a case the page shows, read from a list's summary or from the case itself:
/// one decoder for both keeps the bundle small.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Case {
    id: i64,
    category: Category,
    sub_item: Option<String>,
    grid_id: Option<String>,
    description: String,
    state: CaseState,
    allowed: Vec<Action>,
    department: Option<String>,
    deadline_ms: Option<i64>,
    reported_at_ms: i64,
    #[serde(default)]
    photos: Vec<CasePhoto>,
}

/// A list as `GET /api/cases` answers it, with what the page reads.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct List {
    view: CaseListView,
    cases: Vec<Case>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Screen {
    Report,
    Cases,
    Detail(i64),
}

/// What the page holds between taps.
#[derive(Debug)]
struct State {
    token: Option<String>,
    account: Option<AccountView>,
    screen: Screen,
    /// A request is on its way: a second tap does not send it twice.
    busy: bool,
    /// The phone's position, once it shared it, for the next report.
    point: Option<Point>,
    /// Object URLs of the photos on screen, let go when the screen changes.
    photo_urls: Vec<String>,
}

thread_local! {
    static STATE: RefCell<State> = const {
        RefCell::new(State {
            token: None,
            account: None,
            screen: Screen::Cases,
            busy: false,
            point: None,
            photo_urls: Vec::new(),
        })
    };
}

fn with<T>(f: impl FnOnce(&mut State) -> T) -> T {
    STATE.with(|s| f(&mut s.borrow_mut()))
}

fn token() -> Option<String> {
    with(|s| s.token.clone())
}

fn file_input(id: &str) -> Option<HtmlInputElement> {
    by_id(id).and_then(|el| el.dyn_into().ok())
}

/// Shows a message (`error` or `notice`), or clears it.
fn say(kind: &str, message: Option<&str>) {
    let id = format!("field-{kind}");
    let region = format!("field-messages-{kind}");
    let kids: Vec<web_sys::Node> = message
        .map(|m| {
            let role = if kind == "error" { "alert" } else { "status" };
            vec![n(h(
                "p",
                &[
                    ("class", &format!("field-{kind}")),
                    ("role", role),
                    ("data-testid", &id),
                ],
                &[t(m)],
            ))]
        })
        .unwrap_or_default();
    fill(&region, &kids);
}

fn error(message: &str) {
    say("error", Some(message));
}

/// A request starts: old messages go, and further taps wait for it.
fn begin() -> bool {
    if with(|s| std::mem::replace(&mut s.busy, true)) {
        return false;
    }
    say("error", None);
    say("notice", None);
    true
}

fn done() {
    with(|s| s.busy = false);
}

/// Shows a refusal; a 401 means the session is gone, so the login form comes back.
fn fail(failure: Failure) {
    if failure.status == 401 {
        forget();
    }
    error(&failure.message);
}

/// Starts the field page on the page's body.
pub fn start() {
    let lang = text::read_lang();
    text::set_lang(lang);
    let document = doc();
    if let Some(root) = document.document_element() {
        root.set_class_name("field");
        let _ = root.set_attribute(
            "lang",
            match lang {
                Lang::Zh => "zh-CN",
                Lang::En => "en",
            },
        );
    }
    document.set_title(tr("网格现场 · gridwall", "In the field · gridwall"));
    let main = h(
        "main",
        &[("class", "field-page"), ("data-testid", "field")],
        &[
            n(h("div", &[("data-testid", "field-top")], &[])),
            n(h("div", &[("data-testid", "field-messages-error")], &[])),
            n(h("div", &[("data-testid", "field-messages-notice")], &[])),
            n(h("div", &[("data-testid", "field-body")], &[])),
        ],
    );
    listen(&main, "click", on_click);
    listen(&main, "submit", on_submit);
    listen(&main, "change", on_change);
    if let Some(body) = document.body() {
        let _ = body.append_child(&main);
    }
    let kept = storage().and_then(|s| s.get_item(TOKEN_KEY).ok().flatten());
    with(|s| s.token = kept.clone());
    render();
    // A token kept from an earlier visit is checked once: it opens its account, or the login
    // form stays.
    if let Some(token) = kept {
        spawn_local(async move {
            match fetch::json::<AccountView>("GET", "/api/me", Some(&token), Body::None).await {
                Ok(account) => enter(account),
                Err(failure) if failure.status == 401 => forget(),
                Err(failure) => fail(failure),
            }
        });
    }
}

/// Signed in as `account`: each role starts where its work is.
fn enter(account: AccountView) {
    let screen = if account.role == Role::GridWorker {
        Screen::Report
    } else {
        Screen::Cases
    };
    with(|s| {
        s.account = Some(account);
        s.screen = screen;
    });
    render();
}

fn forget() {
    if let Some(s) = storage() {
        let _ = s.remove_item(TOKEN_KEY);
    }
    with(|s| {
        s.token = None;
        s.account = None;
        s.busy = false;
    });
    render();
}

/// A tap on a tab or a case: the messages of the last screen go with it.
fn go(screen: Screen) {
    say("error", None);
    say("notice", None);
    with(|s| s.screen = screen);
    render();
}

/// Lets go of the photos on screen, before the screen is drawn again.
fn clear_photos() {
    for url in with(|s| std::mem::take(&mut s.photo_urls)) {
        let _ = web_sys::Url::revoke_object_url(&url);
    }
}

fn render_top() {
    let (account, screen) = with(|s| (s.account.clone(), s.screen));
    let Some(a) = account else {
        return fill("field-top", &[]);
    };
    let reach = match (&a.department, &a.area) {
        (Some(d), _) => text::department(d).to_owned(),
        (None, Some(area)) => area.clone(),
        (None, None) => a.grids.join(", "),
    };
    let header = h(
        "header",
        &[
            ("class", "field-top"),
            ("data-testid", "field-account"),
            ("data-login", &a.login),
            ("data-role", a.role.code()),
        ],
        &[
            n(h(
                "div",
                &[("class", "field-who")],
                &[
                    n(h("strong", &[], &[t(&a.name)])),
                    n(h(
                        "span",
                        &[],
                        &[t(&format!("{} · {reach}", role_name(a.role)))],
                    )),
                ],
            )),
            button(
                tr("退出", "Sign out"),
                &[
                    ("class", "field-link"),
                    ("data-testid", "field-logout"),
                    ("data-do", "logout"),
                ],
            ),
        ],
    );
    let active = |on: bool| if on { "active" } else { "" };
    let mut tabs = Vec::new();
    if a.role == Role::GridWorker {
        tabs.push(button(
            tr("上报", "Report"),
            &[
                ("data-testid", "field-tab-report"),
                ("data-do", "tab-report"),
                ("class", active(screen == Screen::Report)),
            ],
        ));
    }
    let list_title = match a.role {
        Role::GridWorker => tr("我的案件", "My cases"),
        Role::Dispatcher => tr("待分派", "To dispatch"),
        Role::DepartmentStaff => tr("待办案件", "To handle"),
        _ => tr("全部案件", "All cases"),
    };
    tabs.push(button(
        list_title,
        &[
            ("data-testid", "field-tab-cases"),
            ("data-do", "tab-cases"),
            ("class", active(screen != Screen::Report)),
        ],
    ));
    fill(
        "field-top",
        &[n(header), n(h("nav", &[("class", "field-tabs")], &tabs))],
    );
}

/// Draws the header and the screen for the state as it is.
fn render() {
    clear_photos();
    render_top();
    let (signed_in, screen) = with(|s| (s.account.is_some(), s.screen));
    if !signed_in {
        return fill("field-body", &[n(login_form())]);
    }
    match screen {
        Screen::Report => fill("field-body", &[n(report_form())]),
        Screen::Cases => {
            fill(
                "field-body",
                &[n(h(
                    "p",
                    &[("class", "field-muted")],
                    &[t(tr("加载中…", "Loading…"))],
                ))],
            );
            load_list();
        }
        Screen::Detail(id) => {
            fill("field-body", &[n(back())]);
            load_case(id);
        }
    }
}

fn label(text: &str, control: Element) -> web_sys::Node {
    n(h("label", &[], &[t(text), n(control)]))
}

fn login_form() -> Element {
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

fn option(value: &str, text: &str) -> web_sys::Node {
    n(h("option", &[("value", value)], &[t(text)]))
}

/// The sub-items of `category`, after the option of none.
fn sub_item_options(category: &str) -> Vec<web_sys::Node> {
    let mut options = vec![option("", tr("（不选小类）", "(none)"))];
    if let Some(c) = Category::from_code(category) {
        options.extend(
            shared::taxonomy::sub_items_of(c)
                .map(|s| option(s.code, &format!("{} {}", s.code, text::sub_item(s.code)))),
        );
    }
    options
}

fn photo_input(id: &str) -> Element {
    h(
        "input",
        &[
            ("type", "file"),
            ("accept", "image/*"),
            ("capture", "environment"),
            ("multiple", ""),
            ("data-testid", id),
        ],
        &[],
    )
}

/// A grid worker's report: what, where (its grid, and the phone's position if it shares it),
/// a description and photos from the camera.
fn report_form() -> Element {
    let grids = with(|s| {
        s.account
            .as_ref()
            .map(|a| a.grids.clone())
            .unwrap_or_default()
    });
    let categories: Vec<web_sys::Node> = Category::ALL
        .iter()
        .map(|c| option(c.code(), text::category(c.code())))
        .collect();
    let grid_options: Vec<web_sys::Node> = grids.iter().map(|g| option(g, g)).collect();
    h(
        "form",
        &[("class", "field-card"), ("data-testid", "field-report")],
        &[
            label(
                tr("大类", "Category"),
                h("select", &[("data-testid", "field-category")], &categories),
            ),
            label(
                tr("小类", "Sub-item"),
                h(
                    "select",
                    &[("data-testid", "field-sub-item")],
                    &sub_item_options(Category::ALL[0].code()),
                ),
            ),
            label(
                tr("网格", "Grid"),
                h("select", &[("data-testid", "field-grid")], &grid_options),
            ),
            button(
                &locate_label(),
                &[
                    ("type", "button"),
                    ("class", "field-secondary"),
                    ("data-testid", "field-locate"),
                    ("data-do", "locate"),
                ],
            ),
            label(
                tr("情况描述", "What was seen"),
                h(
                    "textarea",
                    &[("data-testid", "field-description"), ("rows", "3")],
                    &[],
                ),
            ),
            label(tr("现场照片", "Photos"), photo_input("field-photo")),
            button(
                tr("上报", "Report"),
                &[
                    ("type", "submit"),
                    ("class", "field-primary"),
                    ("data-testid", "field-report-submit"),
                ],
            ),
        ],
    )
}

fn locate_label() -> String {
    match with(|s| s.point) {
        Some(p) => format!("{} {:.5}, {:.5}", tr("位置", "At"), p.lon, p.lat),
        None => tr("附上当前位置", "Add my position").to_owned(),
    }
}

/// Asks the browser where the phone is; the point goes with the report beside the grid.
fn locate() {
    let Some(geo) = web_sys::window().and_then(|w| w.navigator().geolocation().ok()) else {
        return error(tr("此浏览器无法定位", "This browser cannot locate"));
    };
    let found = Closure::once_into_js(move |position: JsValue| {
        let coords = js_sys::Reflect::get(&position, &"coords".into()).unwrap_or_default();
        let number = |key: &str| {
            js_sys::Reflect::get(&coords, &key.into())
                .ok()
                .and_then(|v| v.as_f64())
        };
        if let (Some(lon), Some(lat)) = (number("longitude"), number("latitude")) {
            with(|s| s.point = Some(Point { lon, lat }));
            if let Some(b) = by_id("field-locate") {
                b.set_text_content(Some(&locate_label()));
            }
        }
    });
    let failed = Closure::once_into_js(move |err: JsValue| {
        let message = js_sys::Reflect::get(&err, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_default();
        error(&format!("{}{message}", tr("无法定位：", "Cannot locate: ")));
    });
    if geo
        .get_current_position_with_error_callback(
            found.unchecked_ref(),
            Some(failed.unchecked_ref()),
        )
        .is_err()
    {
        error(tr("此浏览器无法定位", "This browser cannot locate"));
    }
}

/// The JSON of a report or move in its part, and the photos chosen in the input `photos`, as
/// the multipart form the API takes.
fn multipart<T: Serialize>(
    part: &str,
    body: &T,
    photos: &str,
) -> Result<web_sys::FormData, String> {
    let form = web_sys::FormData::new().map_err(|e| format!("{e:?}"))?;
    let json = serde_json::to_string(body).map_err(|e| e.to_string())?;
    form.append_with_str(part, &json)
        .map_err(|e| format!("{e:?}"))?;
    if let Some(files) = file_input(photos).and_then(|i| i.files()) {
        for i in 0..files.length() {
            if let Some(file) = files.get(i) {
                form.append_with_blob_and_filename("photo", &file, &file.name())
                    .map_err(|e| format!("{e:?}"))?;
            }
        }
    }
    Ok(form)
}

fn photo_count(id: &str) -> u32 {
    file_input(id)
        .and_then(|i| i.files())
        .map_or(0, |files| files.length())
}

fn on_submit(ev: web_sys::Event) {
    ev.prevent_default();
    let form = ev
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .and_then(|el| el.get_attribute("data-testid"));
    match form.as_deref() {
        Some("field-login") => sign_in(),
        Some("field-report") => report(),
        _ => {}
    }
}

fn on_change(ev: web_sys::Event) {
    let target = ev.target().and_then(|t| t.dyn_into::<Element>().ok());
    if target
        .and_then(|el| el.get_attribute("data-testid"))
        .as_deref()
        == Some("field-category")
    {
        fill(
            "field-sub-item",
            &sub_item_options(&value("field-category")),
        );
    }
}

fn on_click(ev: web_sys::Event) {
    let Some(el) = ev
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .and_then(|el| el.closest("[data-do]").ok().flatten())
    else {
        return;
    };
    let attr = |name: &str| el.get_attribute(name).unwrap_or_default();
    match attr("data-do").as_str() {
        "logout" => sign_out(),
        "tab-report" => go(Screen::Report),
        "tab-cases" | "back" | "refresh" => go(Screen::Cases),
        "open" => {
            if let Ok(id) = attr("data-case-id").parse() {
                go(Screen::Detail(id));
            }
        }
        "move" => {
            if let (Ok(id), Some(action)) = (
                attr("data-case-id").parse(),
                Action::from_code(&attr("data-action")),
            ) {
                make(id, action);
            }
        }
        "locate" => locate(),
        _ => {}
    }
}

fn sign_in() {
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

fn sign_out() {
    if let Some(token) = token() {
        spawn_local(async move {
            let _ = fetch::send("POST", "/api/logout", Some(&token), Body::None).await;
        });
    }
    say("error", None);
    say("notice", None);
    forget();
}

fn report() {
    let report = ReportCase {
        category: value("field-category"),
        sub_item: Some(value("field-sub-item")).filter(|s| !s.is_empty()),
        grid_id: Some(value("field-grid")).filter(|g| !g.is_empty()),
        point: with(|s| s.point),
        description: value("field-description"),
    };
    let form = match multipart("case", &report, "field-photo") {
        Ok(form) => form,
        Err(err) => return error(&err),
    };
    if !begin() {
        return;
    }
    spawn_local(async move {
        let answer =
            fetch::json::<Case>("POST", "/api/cases", token().as_deref(), Body::Form(form)).await;
        done();
        match answer {
            Ok(case) => {
                with(|s| s.screen = Screen::Detail(case.id));
                render();
                say(
                    "notice",
                    Some(&format!(
                        "{}{}",
                        tr("已上报，案件编号 #", "Reported as case #"),
                        case.id
                    )),
                );
            }
            Err(failure) => fail(failure),
        }
    });
}

/// What a case is about: its sub-item, or its category when it has none.
fn subject(case: &Case) -> String {
    let what = match &case.sub_item {
        Some(code) => text::sub_item(code),
        None => text::category(case.category.code()),
    };
    format!("#{} {what}", case.id)
}

fn state_badge(state: CaseState) -> web_sys::Node {
    n(h(
        "span",
        &[
            ("class", &format!("field-state state-{}", state.code())),
            ("data-testid", "field-state"),
        ],
        &[t(text::case_state(state))],
    ))
}

/// The caller's list: the server picks the view of its role (its own cases, its queue, or
/// everything it may read).
fn load_list() {
    let Some(token) = token() else { return };
    spawn_local(async move {
        match fetch::json::<List>("GET", "/api/cases", Some(&token), Body::None).await {
            Ok(list) if with(|s| s.screen) == Screen::Cases => show_list(list),
            Ok(_) => {}
            Err(failure) => fail(failure),
        }
    });
}

fn show_list(list: List) {
    let title = match list.view {
        CaseListView::Mine => tr(
            "我上报和待我核查的案件",
            "Reported by me or waiting for my check",
        ),
        CaseListView::Queue => tr("等待处理的案件", "Waiting for my move"),
        CaseListView::All => tr("全部案件", "All cases"),
    };
    let items: Vec<web_sys::Node> = list
        .cases
        .iter()
        .map(|c| {
            let id = c.id.to_string();
            n(h(
                "li",
                &[
                    ("data-testid", "field-case"),
                    ("data-case-id", &id),
                    ("data-state", c.state.code()),
                ],
                &[n(h(
                    "button",
                    &[
                        ("class", "field-case"),
                        ("data-do", "open"),
                        ("data-case-id", &id),
                    ],
                    &[
                        n(h(
                            "span",
                            &[("class", "field-row")],
                            &[n(h("strong", &[], &[t(&subject(c))])), state_badge(c.state)],
                        )),
                        n(h("span", &[("class", "field-desc")], &[t(&c.description)])),
                        n(h(
                            "span",
                            &[("class", "field-muted")],
                            &[t(&format!(
                                "{} · {}",
                                c.grid_id.as_deref().unwrap_or_default(),
                                when(c.reported_at_ms)
                            ))],
                        )),
                    ],
                ))],
            ))
        })
        .collect();
    let body = if items.is_empty() {
        h(
            "p",
            &[("class", "field-muted"), ("data-testid", "field-empty")],
            &[t(tr("暂无案件", "No cases"))],
        )
    } else {
        h(
            "ul",
            &[
                ("class", "field-cases"),
                ("data-testid", "field-cases"),
                ("data-view", list.view.code()),
            ],
            &items,
        )
    };
    fill(
        "field-body",
        &[n(h(
            "section",
            &[("class", "field-card")],
            &[
                n(h(
                    "div",
                    &[("class", "field-row")],
                    &[
                        n(h("h2", &[], &[t(title)])),
                        button(
                            tr("刷新", "Refresh"),
                            &[
                                ("class", "field-link"),
                                ("data-testid", "field-refresh"),
                                ("data-do", "refresh"),
                            ],
                        ),
                    ],
                )),
                n(body),
            ],
        ))],
    );
}

fn back() -> Element {
    h(
        "button",
        &[
            ("class", "field-link"),
            ("data-testid", "field-back"),
            ("data-do", "back"),
        ],
        &[t(tr("‹ 返回列表", "‹ Back to the list"))],
    )
}

fn load_case(id: i64) {
    let Some(token) = token() else { return };
    spawn_local(async move {
        let url = format!("/api/cases/{id}");
        match fetch::json::<Case>("GET", &url, Some(&token), Body::None).await {
            Ok(case) if with(|s| s.screen) == Screen::Detail(id) => show_case(case),
            Ok(_) => {}
            Err(failure) => fail(failure),
        }
    });
}

fn move_label(action: Action) -> &'static str {
    match action {
        Action::Dispatch => tr("派遣", "Dispatch"),
        Action::Accept => tr("受理", "Accept"),
        Action::Resolve => tr("处置完成", "Resolved"),
        Action::Verify => tr("核查通过", "Verified on site"),
        Action::Return => tr("核查不通过，退回", "Not fixed: return"),
        Action::Close => tr("结案", "Close"),
        Action::Reject => tr("不予受理", "Reject"),
        Action::Escalate => tr("上报上级", "Escalate"),
        Action::Reopen => tr("重新开启", "Reopen"),
        Action::Urge => tr("督办", "Urge"),
        Action::Report | Action::Warn | Action::Supervise => action.code(),
    }
}

/// The moves whose evidence is a photo: the after photo of a fix, the photo of a check.
fn needs_photo(action: Action) -> bool {
    matches!(action, Action::Resolve | Action::Verify)
}

/// One case with its photos and a button for each move both the state machine and the
/// caller's role allow.
fn show_case(case: Case) {
    clear_photos();
    let moves: Vec<Action> = with(|s| {
        s.account
            .as_ref()
            .map(|a| {
                case.allowed
                    .iter()
                    .copied()
                    .filter(|m| a.moves.contains(m))
                    .collect()
            })
            .unwrap_or_default()
    });
    // A dispatch goes to the sub-item's department unless the case already has one.
    let department = case.department.clone().or_else(|| {
        case.sub_item
            .as_deref()
            .and_then(shared::taxonomy::sub_item)
            .map(|s| s.department.to_owned())
    });
    let fact = |name: &str, value: &str, id: &str| {
        [
            n(h("dt", &[], &[t(name)])),
            n(h("dd", &[("data-testid", id)], &[t(value)])),
        ]
    };
    let facts: Vec<web_sys::Node> = [
        fact(
            tr("网格", "Grid"),
            case.grid_id.as_deref().unwrap_or_default(),
            "field-grid-id",
        ),
        fact(
            tr("上报时间", "Reported"),
            &when(case.reported_at_ms),
            "field-reported-at",
        ),
        fact(
            tr("处置部门", "Department"),
            department.as_deref().map_or("—", text::department),
            "field-department",
        ),
        fact(
            tr("时限", "Due"),
            &case.deadline_ms.map_or_else(|| "—".to_owned(), when),
            "field-deadline",
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    let photos: Vec<web_sys::Node> = case
        .photos
        .iter()
        .map(|p| {
            let item = h(
                "li",
                &[
                    ("data-testid", "field-photo-item"),
                    ("data-action", p.action.code()),
                ],
                &[n(h("span", &[], &[t(text::photo_label(p.action))]))],
            );
            load_photo(&item, &p.hash, text::photo_label(p.action));
            n(item)
        })
        .collect();
    let id = case.id.to_string();
    let mut kids = vec![
        n(back()),
        n(h(
            "div",
            &[("class", "field-row")],
            &[
                n(h("h2", &[], &[t(&subject(&case))])),
                state_badge(case.state),
            ],
        )),
        n(h("p", &[("class", "field-desc")], &[t(&case.description)])),
        n(h("dl", &[("class", "field-facts")], &facts)),
        n(h(
            "ul",
            &[("class", "field-photos"), ("data-testid", "field-photos")],
            &photos,
        )),
    ];
    if !moves.is_empty() {
        let mut actions = vec![
            label(tr("现场照片", "Photos"), photo_input("field-move-photo")),
            label(
                tr("说明", "Note"),
                h(
                    "textarea",
                    &[("data-testid", "field-move-note"), ("rows", "2")],
                    &[],
                ),
            ),
        ];
        for m in moves {
            let class = if matches!(m, Action::Return | Action::Reject) {
                "field-secondary"
            } else {
                "field-primary"
            };
            actions.push(button(
                move_label(m),
                &[
                    ("class", class),
                    ("data-testid", &format!("field-move-{}", m.code())),
                    ("data-do", "move"),
                    ("data-action", m.code()),
                    ("data-case-id", &id),
                ],
            ));
        }
        kids.push(n(h("div", &[("class", "field-actions")], &actions)));
    }
    fill(
        "field-body",
        &[n(h(
            "section",
            &[
                ("class", "field-card"),
                ("data-testid", "field-detail"),
                ("data-case-id", &id),
                ("data-state", case.state.code()),
            ],
            &kids,
        ))],
    );
}

/// Fetches a photo with the caller's token and puts it at the head of `item`.
fn load_photo(item: &Element, hash: &str, alt: &'static str) {
    let Some(token) = token() else { return };
    let item = item.clone();
    let hash = hash.to_owned();
    spawn_local(async move {
        let Ok(url) = fetch::photo_url(&hash, &token).await else {
            return;
        };
        if item.is_connected() {
            let img = h("img", &[("src", &url), ("alt", alt)], &[]);
            let _ = item.insert_before(&img, item.first_child().as_ref());
            with(|s| s.photo_urls.push(url));
        } else {
            // The screen changed while the photo loaded.
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    });
}

fn make(id: i64, action: Action) {
    if needs_photo(action) && photo_count("field-move-photo") == 0 {
        return error(&format!(
            "{}{}",
            tr("请先拍摄现场照片：", "Take a photo first: "),
            move_label(action)
        ));
    }
    let body = MoveCase {
        action: action.code().to_owned(),
        note: Some(value("field-move-note")).filter(|n| !n.trim().is_empty()),
        department: None,
    };
    let form = match multipart("move", &body, "field-move-photo") {
        Ok(form) => form,
        Err(err) => return error(&err),
    };
    if !begin() {
        return;
    }
    spawn_local(async move {
        let url = format!("/api/cases/{id}/moves");
        let answer = fetch::json::<Case>("POST", &url, token().as_deref(), Body::Form(form)).await;
        done();
        match answer {
            Ok(case) => {
                if with(|s| s.screen) == Screen::Detail(id) {
                    show_case(case);
                }
                say("notice", Some(&format!("#{id} {}", move_label(action))));
            }
            Err(failure) => fail(failure),
        }
    });
}
