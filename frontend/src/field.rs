//! The field page at `/field`, sized for a phone: a grid worker reports with a photo from the
//! camera, follows its cases and verifies them on site; department staff accept and resolve
//! their queue with an after photo; a centre's dispatcher dispatches what was reported.
//!
//! It shares the wall's bundle and mounts instead of the wall when the path is `/field`, so
//! the wall's start is unchanged. Every write goes through the same API as any other client,
//! and whatever the server refuses is shown in the server's own words.

use crate::fetch::{self, Body, Failure};
use crate::page::Lang;
use crate::text;
use leptos::ev::SubmitEvent;
use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use shared::auth::{AccountView, LoginRequest, LoginResponse, Role};
use shared::case::{
    Action, CaseListView, CasePhoto, CaseState, Category, MoveCase, Point, ReportCase,
};
use std::sync::{Arc, Mutex};
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// Where a signed-in phone keeps its token, so a reload does not ask for the password again.
const TOKEN_KEY: &str = "gridwall.field.token";

/// Whether the address asks for the field page rather than the wall.
pub fn wanted() -> bool {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .is_some_and(|p| p == "/field" || p.starts_with("/field/"))
}

/// The page's string in its language.
fn tr(zh: &'static str, en: &'static str) -> &'static str {
    if text::english() { en } else { zh }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

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

/// The page's state, shared by all its parts.
#[derive(Debug, Clone, Copy)]
struct Field {
    token: RwSignal<Option<String>>,
    account: RwSignal<Option<AccountView>>,
    screen: RwSignal<Screen>,
    error: RwSignal<Option<String>>,
    notice: RwSignal<Option<String>>,
    /// A request is on its way: buttons wait, so a second tap does not send it twice.
    busy: RwSignal<bool>,
}

impl Field {
    fn token(&self) -> Option<String> {
        self.token.get_untracked()
    }

    /// A request starts: old messages go.
    fn begin(&self) {
        self.error.set(None);
        self.notice.set(None);
        self.busy.set(true);
    }

    /// Shows a refusal; a 401 means the session is gone, so the login form comes back.
    fn fail(&self, failure: Failure) {
        if failure.status == 401 {
            self.forget();
        }
        self.error.set(Some(failure.message));
    }

    /// Signed in as `account`: each role starts where its work is.
    fn enter(&self, account: AccountView) {
        self.screen.set(if account.role == Role::GridWorker {
            Screen::Report
        } else {
            Screen::Cases
        });
        self.account.set(Some(account));
    }

    fn forget(&self) {
        if let Some(s) = storage() {
            let _ = s.remove_item(TOKEN_KEY);
        }
        self.token.set(None);
        self.account.set(None);
    }

    fn sign_out(&self) {
        if let Some(token) = self.token() {
            spawn_local(async move {
                let _ = fetch::send("POST", "/api/logout", Some(&token), Body::None).await;
            });
        }
        self.error.set(None);
        self.notice.set(None);
        self.forget();
    }

    /// A tap on a tab or a case: the messages of the last screen go with it.
    fn go(&self, screen: Screen) {
        self.error.set(None);
        self.notice.set(None);
        self.screen.set(screen);
    }
}

#[component]
pub fn FieldApp() -> impl IntoView {
    let lang = crate::page::read().lang;
    text::set_lang(lang);
    if let Some(root) = document().document_element() {
        root.set_class_name("field");
        let _ = root.set_attribute(
            "lang",
            match lang {
                Lang::Zh => "zh-CN",
                Lang::En => "en",
            },
        );
    }
    document().set_title(tr("网格现场 · gridwall", "In the field · gridwall"));
    let f = Field {
        token: RwSignal::new(storage().and_then(|s| s.get_item(TOKEN_KEY).ok().flatten())),
        account: RwSignal::new(None),
        screen: RwSignal::new(Screen::Cases),
        error: RwSignal::new(None),
        notice: RwSignal::new(None),
        busy: RwSignal::new(false),
    };
    // A token kept from an earlier visit is checked once: it opens its account, or the
    // login form stays.
    if let Some(token) = f.token() {
        spawn_local(async move {
            match fetch::json::<AccountView>("GET", "/api/me", Some(&token), Body::None).await {
                Ok(account) => f.enter(account),
                Err(failure) if failure.status == 401 => f.forget(),
                Err(failure) => f.fail(failure),
            }
        });
    }
    let signed_in = move || f.account.with(Option::is_some);
    view! {
        <main class="field-page" data-testid="field">
            {move || (!signed_in()).then(|| view! { <Login f=f/> })}
            {move || signed_in().then(|| view! { <Top f=f/> })}
            {move || f.error.get().map(|e| view! { <p class="field-error" role="alert" data-testid="field-error">{e}</p> })}
            {move || f.notice.get().map(|n| view! { <p class="field-notice" role="status" data-testid="field-notice">{n}</p> })}
            {move || match (signed_in(), f.screen.get()) {
                (false, _) => ().into_any(),
                (true, Screen::Report) => view! { <ReportForm f=f/> }.into_any(),
                (true, Screen::Cases) => view! { <Cases f=f/> }.into_any(),
                (true, Screen::Detail(id)) => view! { <Detail f=f id=id/> }.into_any(),
            }}
        </main>
    }
}

#[component]
fn Login(f: Field) -> impl IntoView {
    let login = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if f.busy.get_untracked() {
            return;
        }
        let body = serde_json::to_string(&LoginRequest {
            login: login.get_untracked(),
            password: password.get_untracked(),
        })
        .unwrap_or_default();
        f.begin();
        spawn_local(async move {
            let answer =
                fetch::json::<LoginResponse>("POST", "/api/login", None, Body::Json(body)).await;
            f.busy.set(false);
            match answer {
                Ok(answer) => {
                    if let Some(s) = storage() {
                        let _ = s.set_item(TOKEN_KEY, &answer.token);
                    }
                    f.token.set(Some(answer.token));
                    f.enter(answer.account);
                }
                // A wrong password is not a lost session: only the message is shown.
                Err(failure) => f.error.set(Some(failure.message)),
            }
        });
    };
    view! {
        <form class="field-card" data-testid="field-login" on:submit=submit>
            <h1>{tr("网格现场", "In the field")}</h1>
            <label>
                {tr("账号", "Login")}
                <input
                    data-testid="field-login-name"
                    autocomplete="username"
                    autocapitalize="none"
                    on:input=move |ev| login.set(event_target_value(&ev))
                />
            </label>
            <label>
                {tr("密码", "Password")}
                <input
                    type="password"
                    data-testid="field-login-password"
                    autocomplete="current-password"
                    on:input=move |ev| password.set(event_target_value(&ev))
                />
            </label>
            <button type="submit" class="field-primary" data-testid="field-login-submit" disabled=move || f.busy.get()>
                {tr("登录", "Sign in")}
            </button>
        </form>
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::GridWorker => tr("网格员", "Grid worker"),
        Role::Dispatcher => tr("调度员", "Dispatcher"),
        Role::DepartmentStaff => tr("部门工作人员", "Department staff"),
        Role::Leader => tr("领导", "Leader"),
        Role::ReportingApp | Role::System => role.code(),
    }
}

/// Who is signed in, the way out, and the tabs.
#[component]
fn Top(f: Field) -> impl IntoView {
    let account = move || f.account.get();
    let worker = move || account().is_some_and(|a| a.role == Role::GridWorker);
    let reach = move || {
        account()
            .map(|a| match (a.department, a.area) {
                (Some(d), _) => text::department(&d).to_owned(),
                (None, Some(area)) => area,
                (None, None) => a.grids.join(", "),
            })
            .unwrap_or_default()
    };
    let list_title = move || {
        account().map_or("", |a| match a.role {
            Role::GridWorker => tr("我的案件", "My cases"),
            Role::Dispatcher => tr("待分派", "To dispatch"),
            Role::DepartmentStaff => tr("待办案件", "To handle"),
            _ => tr("全部案件", "All cases"),
        })
    };
    view! {
        <header
            class="field-top"
            data-testid="field-account"
            data-login=move || account().map(|a| a.login).unwrap_or_default()
            data-role=move || account().map(|a| a.role.code()).unwrap_or_default()
        >
            <div class="field-who">
                <strong>{move || account().map(|a| a.name).unwrap_or_default()}</strong>
                <span>{move || account().map(|a| role_name(a.role)).unwrap_or_default()} " · " {reach}</span>
            </div>
            <button class="field-link" data-testid="field-logout" on:click=move |_| f.sign_out()>
                {tr("退出", "Sign out")}
            </button>
        </header>
        <nav class="field-tabs">
            {move || worker().then(|| view! {
                <button
                    data-testid="field-tab-report"
                    class:active=move || f.screen.get() == Screen::Report
                    on:click=move |_| f.go(Screen::Report)
                >
                    {tr("上报", "Report")}
                </button>
            })}
            <button
                data-testid="field-tab-cases"
                class:active=move || f.screen.get() != Screen::Report
                on:click=move |_| f.go(Screen::Cases)
            >
                {list_title}
            </button>
        </nav>
    }
}

/// The JSON of a report or move in its part, and the photos chosen in `input`, as the
/// multipart form the API takes.
fn multipart<T: Serialize>(
    part: &str,
    body: &T,
    input: Option<web_sys::HtmlInputElement>,
) -> Result<web_sys::FormData, String> {
    let form = web_sys::FormData::new().map_err(|e| format!("{e:?}"))?;
    let json = serde_json::to_string(body).map_err(|e| e.to_string())?;
    form.append_with_str(part, &json)
        .map_err(|e| format!("{e:?}"))?;
    if let Some(files) = input.and_then(|i| i.files()) {
        for i in 0..files.length() {
            if let Some(file) = files.get(i) {
                form.append_with_blob_and_filename("photo", &file, &file.name())
                    .map_err(|e| format!("{e:?}"))?;
            }
        }
    }
    Ok(form)
}

/// How many photos `input` holds.
fn photo_count(input: &NodeRef<Input>) -> u32 {
    input
        .get_untracked()
        .and_then(|i| i.files())
        .map_or(0, |files| files.length())
}

/// Asks the browser where the phone is; the point goes with the report beside the grid.
fn locate(f: Field, point: RwSignal<Option<Point>>) {
    let Some(geo) = web_sys::window().and_then(|w| w.navigator().geolocation().ok()) else {
        f.error.set(Some(
            tr("此浏览器无法定位", "This browser cannot locate").to_owned(),
        ));
        return;
    };
    let found = Closure::once_into_js(move |position: JsValue| {
        let coords = js_sys::Reflect::get(&position, &"coords".into()).unwrap_or_default();
        let number = |key: &str| {
            js_sys::Reflect::get(&coords, &key.into())
                .ok()
                .and_then(|v| v.as_f64())
        };
        if let (Some(lon), Some(lat)) = (number("longitude"), number("latitude")) {
            let _ = point.try_set(Some(Point { lon, lat }));
        }
    });
    let failed = Closure::once_into_js(move |err: JsValue| {
        let message = js_sys::Reflect::get(&err, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_default();
        f.error.set(Some(format!(
            "{}{message}",
            tr("无法定位：", "Cannot locate: ")
        )));
    });
    if geo
        .get_current_position_with_error_callback(
            found.unchecked_ref(),
            Some(failed.unchecked_ref()),
        )
        .is_err()
    {
        f.error.set(Some(
            tr("此浏览器无法定位", "This browser cannot locate").to_owned(),
        ));
    }
}

/// A grid worker's report: what, where (its grid, and the phone's position if it shares
/// it), a description and photos from the camera.
#[component]
fn ReportForm(f: Field) -> impl IntoView {
    let grids = f
        .account
        .get_untracked()
        .map(|a| a.grids)
        .unwrap_or_default();
    // Every select starts on its first option, which is what its signal holds.
    let category = RwSignal::new(Category::ALL[0].code().to_owned());
    let sub_item = RwSignal::new(String::new());
    let grid = RwSignal::new(grids.first().cloned().unwrap_or_default());
    let description = RwSignal::new(String::new());
    let point = RwSignal::new(None::<Point>);
    let photo = NodeRef::<Input>::new();
    let sub_items = move || {
        Category::from_code(&category.get())
            .map(|c| shared::taxonomy::sub_items_of(c).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if f.busy.get_untracked() {
            return;
        }
        let report = ReportCase {
            category: category.get_untracked(),
            sub_item: Some(sub_item.get_untracked()).filter(|s| !s.is_empty()),
            grid_id: Some(grid.get_untracked()).filter(|g| !g.is_empty()),
            point: point.get_untracked(),
            description: description.get_untracked(),
        };
        let form = match multipart("case", &report, photo.get_untracked()) {
            Ok(form) => form,
            Err(err) => return f.error.set(Some(err)),
        };
        f.begin();
        spawn_local(async move {
            let answer =
                fetch::json::<Case>("POST", "/api/cases", f.token().as_deref(), Body::Form(form))
                    .await;
            f.busy.set(false);
            match answer {
                Ok(case) => {
                    f.notice.set(Some(format!(
                        "{}{}",
                        tr("已上报，案件编号 #", "Reported as case #"),
                        case.id
                    )));
                    f.screen.set(Screen::Detail(case.id));
                }
                Err(failure) => f.fail(failure),
            }
        });
    };
    view! {
        <form class="field-card" data-testid="field-report" on:submit=submit>
            <label>
                {tr("大类", "Category")}
                <select
                    data-testid="field-category"
                    on:change=move |ev| {
                        category.set(event_target_value(&ev));
                        sub_item.set(String::new());
                    }
                >
                    {Category::ALL
                        .iter()
                        .map(|c| view! { <option value=c.code()>{text::category(c.code())}</option> })
                        .collect_view()}
                </select>
            </label>
            <label>
                {tr("小类", "Sub-item")}
                <select
                    data-testid="field-sub-item"
                    prop:value=move || sub_item.get()
                    on:change=move |ev| sub_item.set(event_target_value(&ev))
                >
                    <option value="">{tr("（不选小类）", "(none)")}</option>
                    {move || {
                        sub_items()
                            .into_iter()
                            .map(|s| {
                                let name = text::sub_item(s.code);
                                view! { <option value=s.code>{format!("{} {name}", s.code)}</option> }
                            })
                            .collect_view()
                    }}
                </select>
            </label>
            <label>
                {tr("网格", "Grid")}
                <select data-testid="field-grid" on:change=move |ev| grid.set(event_target_value(&ev))>
                    {grids.into_iter().map(|g| view! { <option value=g.clone()>{g.clone()}</option> }).collect_view()}
                </select>
            </label>
            <button type="button" class="field-secondary" data-testid="field-locate" on:click=move |_| locate(f, point)>
                {move || match point.get() {
                    Some(p) => format!("{} {:.5}, {:.5}", tr("位置", "At"), p.lon, p.lat),
                    None => tr("附上当前位置", "Add my position").to_owned(),
                }}
            </button>
            <label>
                {tr("情况描述", "What was seen")}
                <textarea
                    data-testid="field-description"
                    rows="3"
                    on:input=move |ev| description.set(event_target_value(&ev))
                ></textarea>
            </label>
            <label>
                {tr("现场照片", "Photos")}
                <input
                    type="file"
                    accept="image/*"
                    capture="environment"
                    multiple=true
                    data-testid="field-photo"
                    node_ref=photo
                />
            </label>
            <button type="submit" class="field-primary" data-testid="field-report-submit" disabled=move || f.busy.get()>
                {tr("上报", "Report")}
            </button>
        </form>
    }
}

/// Month, day, hour and minute in the centre's zone.
fn when(ms: i64) -> String {
    let local = ms as f64 + f64::from(shared::time::DEFAULT_UTC_OFFSET_MINUTES) * 60_000.0;
    let d = js_sys::Date::new(&JsValue::from_f64(local));
    format!(
        "{:02}-{:02} {:02}:{:02}",
        d.get_utc_month() + 1,
        d.get_utc_date(),
        d.get_utc_hours(),
        d.get_utc_minutes()
    )
}

/// What a case is about: its sub-item, or its category when it has none.
fn subject(category: Category, sub_item: Option<&str>) -> &'static str {
    match sub_item {
        Some(code) => text::sub_item(code),
        None => text::category(category.code()),
    }
}

/// The caller's list: the server picks the view of its role (its own cases, its queue, or
/// everything it may read).
#[component]
fn Cases(f: Field) -> impl IntoView {
    let list = RwSignal::new(None::<List>);
    let version = RwSignal::new(0_u32);
    Effect::new(move |_| {
        version.track();
        let Some(token) = f.token() else { return };
        spawn_local(async move {
            match fetch::json::<List>("GET", "/api/cases", Some(&token), Body::None).await {
                Ok(answer) => {
                    let _ = list.try_set(Some(answer));
                }
                Err(failure) => f.fail(failure),
            }
        });
    });
    let title = move || match list.with(|l| l.as_ref().map(|l| l.view)) {
        Some(CaseListView::Mine) => tr(
            "我上报和待我核查的案件",
            "Reported by me or waiting for my check",
        ),
        Some(CaseListView::Queue) => tr("等待处理的案件", "Waiting for my move"),
        Some(CaseListView::All) => tr("全部案件", "All cases"),
        None => "",
    };
    view! {
        <section class="field-card">
            <div class="field-row">
                <h2>{title}</h2>
                <button class="field-link" data-testid="field-refresh" on:click=move |_| version.update(|v| *v += 1)>
                    {tr("刷新", "Refresh")}
                </button>
            </div>
            {move || match list.get() {
                None => view! { <p class="field-muted">{tr("加载中…", "Loading…")}</p> }.into_any(),
                Some(l) if l.cases.is_empty() => {
                    view! { <p class="field-muted" data-testid="field-empty">{tr("暂无案件", "No cases")}</p> }
                        .into_any()
                }
                Some(l) => {
                    view! {
                        <ul class="field-cases" data-testid="field-cases" data-view=l.view.code()>
                            {l.cases.into_iter().map(|c| view! { <CaseItem f=f case=c/> }).collect_view()}
                        </ul>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

#[component]
fn CaseItem(f: Field, case: Case) -> impl IntoView {
    let id = case.id;
    view! {
        <li data-testid="field-case" data-case-id=id data-state=case.state.code()>
            <button class="field-case" on:click=move |_| f.go(Screen::Detail(id))>
                <span class="field-row">
                    <strong>{format!("#{id} {}", subject(case.category, case.sub_item.as_deref()))}</strong>
                    <span class=format!("field-state state-{}", case.state.code())>{text::case_state(case.state)}</span>
                </span>
                <span class="field-desc">{case.description}</span>
                <span class="field-muted">
                    {format!("{} · {}", case.grid_id.unwrap_or_default(), when(case.reported_at_ms))}
                </span>
            </button>
        </li>
    }
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
        Action::Report | Action::Warn | Action::Supervise => action.code(),
    }
}

/// The moves whose evidence is a photo: the after photo of a fix, the photo of a check.
fn needs_photo(action: Action) -> bool {
    matches!(action, Action::Resolve | Action::Verify)
}

/// One case with its photos and the moves the caller may make on it now.
#[component]
fn Detail(f: Field, id: i64) -> impl IntoView {
    let case = RwSignal::new(None::<Case>);
    let note = RwSignal::new(String::new());
    let photo = NodeRef::<Input>::new();
    if let Some(token) = f.token() {
        spawn_local(async move {
            let url = format!("/api/cases/{id}");
            match fetch::json::<Case>("GET", &url, Some(&token), Body::None).await {
                Ok(view) => {
                    let _ = case.try_set(Some(view));
                }
                Err(failure) => f.fail(failure),
            }
        });
    }
    let moves = move || -> Vec<Action> {
        let (Some(c), Some(a)) = (case.get(), f.account.get()) else {
            return Vec::new();
        };
        c.allowed
            .into_iter()
            .filter(|m| a.moves.contains(m))
            .collect()
    };
    let act = move |action: Action| {
        if f.busy.get_untracked() {
            return;
        }
        if needs_photo(action) && photo_count(&photo) == 0 {
            f.error.set(Some(format!(
                "{}{}",
                tr("请先拍摄现场照片：", "Take a photo first: "),
                move_label(action)
            )));
            return;
        }
        let body = MoveCase {
            action: action.code().to_owned(),
            note: Some(note.get_untracked()).filter(|n| !n.trim().is_empty()),
            department: None,
        };
        let form = match multipart("move", &body, photo.get_untracked()) {
            Ok(form) => form,
            Err(err) => return f.error.set(Some(err)),
        };
        f.begin();
        spawn_local(async move {
            let url = format!("/api/cases/{id}/moves");
            let answer =
                fetch::json::<Case>("POST", &url, f.token().as_deref(), Body::Form(form)).await;
            f.busy.set(false);
            match answer {
                Ok(view) => {
                    let _ = case.try_set(Some(view));
                    let _ = note.try_set(String::new());
                    if let Some(input) = photo.get_untracked() {
                        input.set_value("");
                    }
                    f.notice.set(Some(format!("#{id} {}", move_label(action))));
                }
                Err(failure) => f.fail(failure),
            }
        });
    };
    let state = move || case.with(|c| c.as_ref().map_or("", |c| c.state.code()));
    view! {
        <section class="field-card" data-testid="field-detail" data-case-id=id data-state=state>
            <button class="field-link" data-testid="field-back" on:click=move |_| f.go(Screen::Cases)>
                {tr("‹ 返回列表", "‹ Back to the list")}
            </button>
            {move || case.get().map(|c| view! { <Facts f=f case=c/> })}
            <div class="field-actions" class:hidden=move || moves().is_empty()>
                    <label>
                        {tr("现场照片", "Photos")}
                        <input
                            type="file"
                            accept="image/*"
                            capture="environment"
                            multiple=true
                            data-testid="field-move-photo"
                            node_ref=photo
                        />
                    </label>
                    <label>
                        {tr("说明", "Note")}
                        <textarea
                            data-testid="field-move-note"
                            rows="2"
                            prop:value=move || note.get()
                            on:input=move |ev| note.set(event_target_value(&ev))
                        ></textarea>
                    </label>
                    {move || {
                        moves()
                            .into_iter()
                            .map(|m| {
                                let class = if matches!(m, Action::Return | Action::Reject) {
                                    "field-secondary"
                                } else {
                                    "field-primary"
                                };
                                view! {
                                    <button
                                        class=class
                                        data-testid=format!("field-move-{}", m.code())
                                        disabled=move || f.busy.get()
                                        on:click=move |_| act(m)
                                    >
                                        {move_label(m)}
                                    </button>
                                }
                            })
                            .collect_view()
                    }}
            </div>
        </section>
    }
}

/// What the case is, where, with whom, and its photos.
#[component]
fn Facts(f: Field, case: Case) -> impl IntoView {
    // A dispatch goes to the sub-item's department unless the case already has one.
    let department = case.department.clone().or_else(|| {
        case.sub_item
            .as_deref()
            .and_then(shared::taxonomy::sub_item)
            .map(|s| s.department.to_owned())
    });
    view! {
        <div class="field-row">
            <h2>{format!("#{} {}", case.id, subject(case.category, case.sub_item.as_deref()))}</h2>
            <span class=format!("field-state state-{}", case.state.code()) data-testid="field-state">
                {text::case_state(case.state)}
            </span>
        </div>
        <p class="field-desc">{case.description}</p>
        <dl class="field-facts">
            <dt>{tr("网格", "Grid")}</dt>
            <dd>{case.grid_id.unwrap_or_default()}</dd>
            <dt>{tr("上报时间", "Reported")}</dt>
            <dd>{when(case.reported_at_ms)}</dd>
            <dt>{tr("处置部门", "Department")}</dt>
            <dd data-testid="field-department">{department.as_deref().map(text::department).unwrap_or("—")}</dd>
            <dt>{tr("时限", "Due")}</dt>
            <dd>{case.deadline_ms.map(when).unwrap_or_else(|| "—".to_owned())}</dd>
        </dl>
        <ul class="field-photos" data-testid="field-photos">
            {case.photos.into_iter().map(|p| view! { <Photo f=f photo=p/> }).collect_view()}
        </ul>
    }
}

fn photo_label(action: Action) -> &'static str {
    match action {
        Action::Report => tr("上报", "Before"),
        Action::Resolve => tr("处置后", "After"),
        Action::Verify => tr("核查", "Check"),
        other => move_label(other),
    }
}

/// One photo, fetched with the caller's token and shown from an object URL that is let go
/// when the photo leaves the page.
#[component]
fn Photo(f: Field, photo: CasePhoto) -> impl IntoView {
    let src = RwSignal::new(None::<String>);
    let held: Arc<Mutex<Option<String>>> = Arc::default();
    if let Some(token) = f.token() {
        let held = held.clone();
        let hash = photo.hash.clone();
        spawn_local(async move {
            if let Ok(url) = fetch::photo_url(&hash, &token).await {
                if src.try_set(Some(url.clone())).is_some() {
                    // The photo left the page while it loaded.
                    let _ = web_sys::Url::revoke_object_url(&url);
                } else if let Ok(mut held) = held.lock() {
                    *held = Some(url);
                }
            }
        });
    }
    on_cleanup(move || {
        if let Some(url) = held.lock().ok().and_then(|mut h| h.take()) {
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    });
    view! {
        <li data-testid="field-photo-item" data-action=photo.action.code()>
            {move || src.get().map(|s| view! { <img src=s alt=photo_label(photo.action)/> })}
            <span>{photo_label(photo.action)}</span>
        </li>
    }
}
