//! The seat page at `/seat`, for a 1920 × 1080 screen at a consultation or dispatch seat:
//! leaders and dispatchers drill down from their area (the city, a district or a street)
//! through districts, streets and grids to one grid's cases and one case with its timeline
//! and photos, and reach the area's overdue cases in one click. The area's figures can be
//! looked at as they stood at a past moment, yesterday replayed in a minute, and this week
//! compared with the last. Dispatchers work their area's incoming queue from the keyboard,
//! refreshed live by the area's stream; the assessment tab ranks departments and streets
//! over a chosen period and downloads the CSV and the briefing image.
//!
//! Like the field page it builds its elements with plain DOM calls (text always as text
//! nodes) and handles every click with one listener on its root, reading `data-do`, so that
//! the bundle stays small and the wall's never carries it. Every figure comes from the same
//! API as any other client, and whatever the server refuses is shown in its own words.

mod assess;
mod drive;
mod queue;
mod replay;

use assess::{download, load_assess, load_compare};
use queue::{load_queue, on_key, open_stream, show_queue};
use replay::{render_moment, start_replay, step_replay, tick};

use crate::dom::{button, by_id, doc, fill, h, listen, n, role_name, storage, t, tr, value, when};
use crate::fetch::{self, Body, Failure};
use crate::text::{self, Lang};
use serde::Deserialize;
use shared::auth::{AccountView, LoginRequest, LoginResponse, Role};
use shared::case::{Action, CaseMove, CasePhoto, CaseState, Category, Supervision};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen_futures::spawn_local;
use web_sys::Element;

/// Where a seat keeps its token, so a reload does not ask for the password again.
const TOKEN_KEY: &str = "gridwall.seat.token";

/// The open and overdue cases of one area, as the wall's state tallies them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
struct Tally {
    #[serde(default)]
    open: u64,
    #[serde(default)]
    overdue: u64,
    #[serde(default)]
    reported_total: u64,
}

/// The scope's headline figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
struct Counters {
    #[serde(default)]
    open: u64,
    #[serde(default)]
    overdue: u64,
    #[serde(default)]
    warned: u64,
    #[serde(default)]
    escalated: u64,
    #[serde(default)]
    reported_today: u64,
    #[serde(default)]
    closed_today: u64,
}

/// The part of a scope's wall state the seat reads; serde skips the rest, so the seat does
/// not carry the decoder of the whole state.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
struct WallState {
    #[serde(default)]
    counters: Counters,
    #[serde(default)]
    by_district: BTreeMap<String, Tally>,
    #[serde(default)]
    by_street: BTreeMap<String, Tally>,
    #[serde(default)]
    by_grid: BTreeMap<String, Tally>,
}

/// `/api/wall` and `/api/wall/at` both carry the state in `state`.
#[derive(Debug, Deserialize)]
struct WallAnswer {
    state: WallState,
}

/// A case as a list or `GET /api/cases/{id}` shows it: one decoder for both.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Case {
    id: i64,
    category: Category,
    sub_item: Option<String>,
    grid_id: Option<String>,
    description: String,
    state: CaseState,
    department: Option<String>,
    supervision: Supervision,
    deadline_ms: Option<i64>,
    reported_at_ms: i64,
    #[serde(default)]
    photos: Vec<CasePhoto>,
}

#[derive(Debug, Deserialize)]
struct List {
    cases: Vec<Case>,
    #[serde(default)]
    more: bool,
}

#[derive(Debug, Deserialize)]
struct Collection<P> {
    features: Vec<Feature<P>>,
}

#[derive(Debug, Deserialize)]
struct Feature<P> {
    properties: P,
}

#[derive(Debug, Clone, Deserialize)]
struct District {
    code: String,
    name: String,
    #[serde(default)]
    name_en: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct Street {
    code: String,
    name: String,
    district_code: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Grid {
    id: String,
    name: String,
    street_code: String,
    district_code: String,
}

/// The city's areas and their names, read once from the map documents.
#[derive(Debug, Default)]
struct Names {
    districts: Vec<District>,
    streets: Vec<Street>,
    grids: Vec<Grid>,
    /// Index into `grids` by grid id.
    grid_at: HashMap<String, usize>,
}

impl Names {
    fn district(&self, code: &str) -> String {
        self.districts
            .iter()
            .find(|d| d.code == code)
            .map(|d| match (&d.name_en, text::english()) {
                (Some(en), true) => en.clone(),
                _ => d.name.clone(),
            })
            .unwrap_or_else(|| code.to_owned())
    }

    fn street(&self, code: &str) -> String {
        self.streets
            .iter()
            .find(|s| s.code == code)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| code.to_owned())
    }

    fn grid(&self, id: &str) -> Option<&Grid> {
        self.grid_at.get(id).map(|&i| &self.grids[i])
    }

    fn grid_name(&self, id: &str) -> String {
        self.grid(id)
            .map(|g| g.name.clone())
            .unwrap_or_else(|| id.to_owned())
    }
}

/// One step of the drill-down.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Level {
    City,
    District(String),
    Street(String),
    Grid(String),
    /// The open overdue cases of the area before it on the path.
    Overdue,
    /// This week against last week, for the area before it on the path.
    Compare,
    /// The seat's incoming queue: what waits for a centre's dispatch.
    Queue,
    /// The assessment of the area before it on the path.
    Assess,
    Case(i64),
}

impl Level {
    fn code(&self) -> &'static str {
        match self {
            Level::City => "city",
            Level::District(_) => "district",
            Level::Street(_) => "street",
            Level::Grid(_) => "grid",
            Level::Overdue => "overdue",
            Level::Compare => "compare",
            Level::Queue => "queue",
            Level::Assess => "assess",
            Level::Case(_) => "case",
        }
    }

    fn is_area(&self) -> bool {
        matches!(
            self,
            Level::City | Level::District(_) | Level::Street(_) | Level::Grid(_)
        )
    }

    /// The wall's scope that holds this area's figures: a grid's are in its street's.
    fn scope(&self, names: &Names) -> String {
        match self {
            Level::District(code) => format!("district:{code}"),
            Level::Street(code) => format!("street:{code}"),
            Level::Grid(id) => names
                .grid(id)
                .map(|g| format!("street:{}", g.street_code))
                .unwrap_or_else(|| "city".to_owned()),
            _ => "city".to_owned(),
        }
    }

    /// Whether a grid lies in this area.
    fn holds(&self, grid: &Grid) -> bool {
        match self {
            Level::City => true,
            Level::District(code) => grid.district_code == *code,
            Level::Street(code) => grid.street_code == *code,
            Level::Grid(id) => grid.id == *id,
            _ => false,
        }
    }
}

/// Yesterday played at a day a minute: the moment aimed at moves with the clock, and one
/// request at a time fetches the area as it stood then, so a slow answer skips ahead rather
/// than queueing up.
#[derive(Debug, Clone, PartialEq)]
struct Replay {
    /// The moment aimed at, moving while the replay plays.
    target: f64,
    /// The moment whose figures are on screen.
    shown: i64,
    start: i64,
    end: i64,
    paused: bool,
    /// A step asks for a fetch even while paused.
    dirty: bool,
    in_flight: bool,
    /// When the last tick ran (the browser's clock, ms).
    last_tick: f64,
    /// Bumped by every pause and step, so an answer asked for before it is not shown.
    round: u64,
}

/// A replayed day passes in this many real milliseconds.
const REPLAY_MS: f64 = 60_000.0;
/// A step back or forward.
const STEP_MS: i64 = 10 * 60_000;

/// What the page holds between clicks.
#[derive(Debug)]
struct State {
    token: Option<String>,
    account: Option<AccountView>,
    names: Option<Rc<Names>>,
    /// From the seat's own area down to what is on screen.
    path: Vec<Level>,
    /// Counts every screen drawn, so an answer for a screen already left is dropped.
    generation: u64,
    busy: bool,
    /// Object URLs of the photos on screen, let go when the screen changes.
    photo_urls: Vec<String>,
    /// The past moment the area screens show (look back); `None` is live.
    moment: Option<i64>,
    replay: Option<Replay>,
    queue: Queue,
    /// The assessment's period preset.
    period: Preset,
    /// The control channels: the walls this seat drives or may take.
    drive: drive::Drive,
}

/// The assessment's periods, in the centre's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Preset {
    ThisWeek,
    LastWeek,
    ThisMonth,
    MonthLastYear,
}

/// The dispatch workbench's state.
#[derive(Debug)]
struct Queue {
    cases: Vec<Case>,
    /// The selected case's id: kept across refreshes, so a new case does not move the
    /// selection under the dispatcher's finger.
    selected: Option<i64>,
    /// The move being written (`dispatch` or `reject`) for the selected case.
    form: Option<Action>,
    help: bool,
    /// When the queue was last asked for (the browser's clock, ms), and whether the stream
    /// asked for another since.
    last_load: f64,
    stale: bool,
    loading: bool,
    /// The stream of the seat's area, once opened.
    socket: Option<web_sys::WebSocket>,
}

thread_local! {
    static STATE: RefCell<State> = const {
        RefCell::new(State {
            token: None,
            account: None,
            names: None,
            path: Vec::new(),
            generation: 0,
            busy: false,
            photo_urls: Vec::new(),
            moment: None,
            replay: None,
            queue: Queue {
                cases: Vec::new(),
                selected: None,
                form: None,
                help: false,
                last_load: 0.0,
                stale: false,
                loading: false,
                socket: None,
            },
            period: Preset::ThisWeek,
            drive: drive::Drive::new(),
        })
    };
}

fn with<T>(f: impl FnOnce(&mut State) -> T) -> T {
    STATE.with(|s| f(&mut s.borrow_mut()))
}

fn token() -> Option<String> {
    with(|s| s.token.clone())
}

fn generation() -> u64 {
    with(|s| s.generation)
}

/// Whether the screen that asked is still the one shown.
fn current(asked: u64) -> bool {
    generation() == asked
}

/// Shows an error, or clears it.
fn error(message: Option<&str>) {
    let kids: Vec<web_sys::Node> = message
        .map(|m| {
            vec![n(h(
                "p",
                &[
                    ("class", "seat-error"),
                    ("role", "alert"),
                    ("data-testid", "seat-error"),
                ],
                &[t(m)],
            ))]
        })
        .unwrap_or_default();
    fill("seat-messages", &kids);
}

/// Shows a refusal; a 401 means the session is gone, so the login form comes back.
fn fail(failure: Failure) {
    if failure.status == 401 {
        forget();
    }
    error(Some(&failure.message));
}

/// Starts the seat page on the page's body.
pub fn start() {
    let lang = text::read_lang();
    text::set_lang(lang);
    let document = doc();
    if let Some(root) = document.document_element() {
        root.set_class_name("seat");
        let _ = root.set_attribute(
            "lang",
            match lang {
                Lang::Zh => "zh-CN",
                Lang::En => "en",
            },
        );
    }
    document.set_title(tr("指挥席位 · gridwall", "Seat · gridwall"));
    let main = h(
        "main",
        &[("class", "seat-page"), ("data-testid", "seat")],
        &[
            n(h("div", &[("data-testid", "seat-top")], &[])),
            n(h("div", &[("data-testid", "seat-wall")], &[])),
            n(h("div", &[("data-testid", "seat-moment")], &[])),
            n(h("div", &[("data-testid", "seat-messages")], &[])),
            n(h("div", &[("data-testid", "seat-body")], &[])),
        ],
    );
    listen(&main, "click", on_click);
    listen(&main, "submit", on_submit);
    listen(&main, "input", drive::on_input);
    let keys = Closure::<dyn FnMut(web_sys::Event)>::new(on_key);
    let _ = document.add_event_listener_with_callback("keydown", keys.as_ref().unchecked_ref());
    // The page's keys work as long as the page does.
    keys.forget();
    if let Some(window) = web_sys::window() {
        let closure = Closure::<dyn FnMut()>::new(tick);
        let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(
            closure.as_ref().unchecked_ref(),
            200,
        );
        // The replay's clock runs as long as the page does.
        closure.forget();
    }
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
                Err(failure) => fail(failure),
            }
        });
    }
}

/// The seat's own area, from the account's: the root of every drill-down.
fn root_level(account: &AccountView) -> Level {
    match account.area.as_deref().and_then(|a| a.split_once(':')) {
        Some(("district", code)) => Level::District(code.to_owned()),
        Some(("street", code)) => Level::Street(code.to_owned()),
        _ => Level::City,
    }
}

/// The address of a WebSocket on this server (`path` with its query), `wss` when the page came
/// over HTTPS.
fn socket_url(path: &str) -> String {
    let location = web_sys::window().map(|w| w.location());
    let scheme = match location.as_ref().and_then(|l| l.protocol().ok()).as_deref() {
        Some("https:") => "wss",
        _ => "ws",
    };
    let host = location.and_then(|l| l.host().ok()).unwrap_or_default();
    format!("{scheme}://{host}{path}")
}

/// Whether the role sits at a seat.
fn seated(role: Role) -> bool {
    matches!(role, Role::Leader | Role::Dispatcher)
}

/// Signed in as `account`: a seat starts at its own area once the area names are read.
fn enter(account: AccountView) {
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

/// The districts', streets' and grids' names and parents, from the map documents (their
/// geometry is skipped as it is read).
async fn load_names() -> Result<Names, Failure> {
    let districts: Collection<District> =
        fetch::json("GET", "/api/districts.geojson", None, Body::None).await?;
    let streets: Collection<Street> =
        fetch::json("GET", "/api/streets.geojson", None, Body::None).await?;
    let grids: Collection<Grid> =
        fetch::json("GET", "/api/grids.geojson", None, Body::None).await?;
    let grids: Vec<Grid> = grids.features.into_iter().map(|f| f.properties).collect();
    let grid_at = grids
        .iter()
        .enumerate()
        .map(|(i, g)| (g.id.clone(), i))
        .collect();
    Ok(Names {
        districts: districts
            .features
            .into_iter()
            .map(|f| f.properties)
            .collect(),
        streets: streets.features.into_iter().map(|f| f.properties).collect(),
        grids,
        grid_at,
    })
}

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

/// Lets go of the photos on screen, before the screen is drawn again.
fn clear_photos() {
    for url in with(|s| std::mem::take(&mut s.photo_urls)) {
        let _ = web_sys::Url::revoke_object_url(&url);
    }
}

/// The name of a step on the path, for its crumb.
fn level_name(level: &Level, names: Option<&Names>) -> String {
    match (level, names) {
        (Level::City, _) => tr("全市", "City").to_owned(),
        (Level::District(code), Some(names)) => names.district(code),
        (Level::Street(code), Some(names)) => names.street(code),
        (Level::Grid(id), Some(names)) => names.grid_name(id),
        (Level::District(code) | Level::Street(code) | Level::Grid(code), None) => code.clone(),
        (Level::Overdue, _) => tr("超期案件", "Overdue cases").to_owned(),
        (Level::Compare, _) => tr("本周对比上周", "This week against last").to_owned(),
        (Level::Queue, _) => tr("派遣台", "Dispatch queue").to_owned(),
        (Level::Assess, _) => tr("考核", "Assessment").to_owned(),
        (Level::Case(id), _) => format!("#{id}"),
    }
}

fn render_top() {
    let (account, path, names) = with(|s| (s.account.clone(), s.path.clone(), s.names.clone()));
    let Some(a) = account else {
        return fill("seat-top", &[]);
    };
    let header = h(
        "header",
        &[
            ("class", "seat-top"),
            ("data-testid", "seat-account"),
            ("data-login", &a.login),
            ("data-role", a.role.code()),
        ],
        &[
            n(h("h1", &[], &[t(tr("指挥席位", "Seat"))])),
            n(h(
                "span",
                &[("class", "seat-who")],
                &[t(&format!("{} · {}", a.name, role_name(a.role)))],
            )),
            button(
                tr("退出", "Sign out"),
                &[
                    ("class", "seat-link"),
                    ("data-testid", "seat-logout"),
                    ("data-do", "logout"),
                ],
            ),
        ],
    );
    if !seated(a.role) {
        return fill("seat-top", &[n(header)]);
    }
    let last = path.len().saturating_sub(1);
    let mut crumbs = Vec::new();
    for (i, level) in path.iter().enumerate() {
        let name = level_name(level, names.as_deref());
        let index = i.to_string();
        let mut attrs = vec![
            ("data-testid", "seat-crumb"),
            ("data-level", level.code()),
            ("data-index", index.as_str()),
        ];
        if i == last {
            attrs.push(("class", "seat-crumb current"));
            attrs.push(("aria-current", "page"));
        } else {
            attrs.push(("class", "seat-crumb"));
            attrs.push(("data-do", "crumb"));
        }
        crumbs.push(button(&name, &attrs));
    }
    let nav = h(
        "nav",
        &[("class", "seat-nav")],
        &[
            button(
                tr("总览", "Overview"),
                &[
                    ("class", "seat-overview"),
                    ("data-testid", "seat-overview"),
                    ("data-do", "overview"),
                ],
            ),
            n(h(
                "div",
                &[("class", "seat-crumbs"), ("data-testid", "seat-crumbs")],
                &crumbs,
            )),
            n(h(
                "input",
                &[
                    ("type", "datetime-local"),
                    ("data-testid", "seat-moment-input"),
                    (
                        "value",
                        &picker_value(with(|s| s.moment).unwrap_or_else(now_ms)),
                    ),
                ],
                &[],
            )),
            button(
                tr("派遣台", "Dispatch"),
                &[("data-testid", "seat-queue-tab"), ("data-do", "queue")],
            ),
            button(
                tr("考核", "Assessment"),
                &[("data-testid", "seat-assess-tab"), ("data-do", "assess")],
            ),
            button(
                tr("回看", "Look back"),
                &[("data-testid", "seat-lookback"), ("data-do", "lookback")],
            ),
            button(
                tr("回放昨天", "Replay yesterday"),
                &[("data-testid", "seat-replay"), ("data-do", "replay")],
            ),
            button(
                tr("对比", "Compare"),
                &[("data-testid", "seat-compare"), ("data-do", "compare")],
            ),
            button(
                tr("超期", "Overdue"),
                &[
                    ("class", "seat-overdue-button"),
                    ("data-testid", "seat-overdue"),
                    ("data-do", "overdue"),
                ],
            ),
        ],
    );
    fill("seat-top", &[n(header), n(nav)]);
    render_moment();
}

/// Draws the header and the screen for the state as it is, and loads what the screen shows.
fn render() {
    clear_photos();
    let asked = with(|s| {
        s.generation += 1;
        s.generation
    });
    render_top();
    let (account, names, level, area) = with(|s| {
        (
            s.account.clone(),
            s.names.clone(),
            s.path.last().cloned(),
            s.path.iter().rev().find(|l| l.is_area()).cloned(),
        )
    });
    let Some(account) = account else {
        fill("seat-moment", &[]);
        return fill("seat-body", &[n(login_form())]);
    };
    if !seated(account.role) {
        return fill(
            "seat-body",
            &[n(h(
                "p",
                &[
                    ("class", "seat-card seat-denied"),
                    ("data-testid", "seat-denied"),
                ],
                &[t(tr(
                    "指挥席位供领导和调度员使用；此账号请使用网格现场页面 /field。",
                    "The seat is for leaders and dispatchers; this account works on the field page, /field.",
                ))],
            ))],
        );
    }
    let (Some(names), Some(level), Some(area)) = (names, level, area) else {
        return fill("seat-body", &[loading()]);
    };
    fill("seat-body", &[loading()]);
    match level {
        Level::City | Level::District(_) | Level::Street(_) => {
            load_area(asked, names, level);
        }
        Level::Grid(id) => load_grid(asked, names, id),
        Level::Overdue => load_overdue(asked, names, area),
        Level::Compare => load_compare(asked, names, area),
        Level::Assess => load_assess(asked, names, area),
        Level::Queue => {
            with(|s| s.queue.form = None);
            load_queue(true);
        }
        Level::Case(id) => load_case(asked, names, id),
    }
}

fn loading() -> web_sys::Node {
    n(h(
        "p",
        &[("class", "seat-muted"), ("data-testid", "seat-loading")],
        &[t(tr("加载中…", "Loading…"))],
    ))
}

fn login_form() -> Element {
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

fn on_submit(ev: web_sys::Event) {
    ev.prevent_default();
    let Some(form) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
        return;
    };
    match form.get_attribute("data-testid").as_deref() {
        Some("seat-login") => sign_in(),
        Some("wall-panel") => drive::take(),
        _ => {}
    }
}

fn sign_in() {
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

fn sign_out() {
    if let Some(token) = token() {
        spawn_local(async move {
            let _ = fetch::send("POST", "/api/logout", Some(&token), Body::None).await;
        });
    }
    forget();
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
    error(None);
    match attr("data-do").as_str() {
        "logout" => sign_out(),
        "overview" => go(|path| path.truncate(1)),
        "crumb" => {
            let index: usize = attr("data-index").parse().unwrap_or(0);
            go(|path| path.truncate(index + 1));
        }
        "child" => {
            let code = attr("data-code");
            let level = match attr("data-level").as_str() {
                "district" => Level::District(code),
                "street" => Level::Street(code),
                _ => Level::Grid(code),
            };
            go(|path| path.push(level));
        }
        "case" => {
            let Ok(id) = attr("data-case-id").parse() else {
                return;
            };
            go(|path| {
                // One case at a time: a case opened from a case's screen replaces it.
                if matches!(path.last(), Some(Level::Case(_))) {
                    path.pop();
                }
                path.push(Level::Case(id));
            });
        }
        "overdue" => below_area(Level::Overdue),
        "compare" => below_area(Level::Compare),
        "assess" => below_area(Level::Assess),
        "period" => {
            let preset = match attr("data-period").as_str() {
                "last-week" => Preset::LastWeek,
                "month" => Preset::ThisMonth,
                "month-last-year" => Preset::MonthLastYear,
                _ => Preset::ThisWeek,
            };
            with(|s| s.period = preset);
            render();
        }
        "download" => download(attr("data-url"), attr("data-name")),
        "queue" => go(|path| {
            path.truncate(1);
            path.push(Level::Queue);
        }),
        "select" => {
            if let Ok(id) = attr("data-case-id").parse() {
                with(|s| s.queue.selected = Some(id));
                show_queue();
            }
        }
        "lookback" => {
            let at = moment_from_picker(&value("seat-moment-input"));
            match at {
                Some(at) if at <= now_ms() => {
                    with(|s| {
                        s.replay = None;
                        s.moment = Some(at);
                    });
                    render();
                }
                _ => error(Some(tr(
                    "请选择过去的某一时刻",
                    "Choose a moment in the past",
                ))),
            }
        }
        "live" => {
            with(|s| {
                s.replay = None;
                s.moment = None;
            });
            render();
        }
        "urge" => {
            if let Ok(id) = attr("data-case-id").parse() {
                queue::urge(id);
            }
        }
        "replay" => start_replay(),
        "replay-pause" => {
            with(|s| {
                if let Some(r) = &mut s.replay {
                    r.paused = !r.paused;
                    r.target = r.shown as f64;
                    r.round += 1;
                    r.last_tick = js_sys::Date::now();
                }
            });
            render_moment();
        }
        "release-wall" => drive::release(),
        "handover" => drive::hand_over(),
        "handover-keep" => drive::keep(),
        "replay-back" => step_replay(-STEP_MS),
        "replay-forward" => step_replay(STEP_MS),
        _ => {}
    }
}

/// Opens a list of the area on screen (its overdue cases, its comparison): whatever stands
/// below the last area on the path goes first.
fn below_area(level: Level) {
    go(|path| {
        while path.last().is_some_and(|l| !l.is_area()) {
            path.pop();
        }
        path.push(level);
    });
}

/// Changes the path and draws the new screen.
fn go(change: impl FnOnce(&mut Vec<Level>)) {
    with(|s| {
        change(&mut s.path);
        if s.path.is_empty()
            && let Some(a) = &s.account
        {
            s.path.push(root_level(a));
        }
    });
    render();
}

/// A span of time as days, hours and minutes.
fn span(ms: i64) -> String {
    let minutes = ms.abs() / 60_000;
    let (d, h, m) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (d, text::english()) {
        (0, false) => format!("{h}小时{m}分"),
        (0, true) => format!("{h} h {m} min"),
        (_, false) => format!("{d}天{h}小时"),
        (_, true) => format!("{d} d {h} h"),
    }
}

/// The figures of an area, in a row of tiles.
fn counters(c: &Counters) -> web_sys::Node {
    let tile = |label: &str, value: u64, metric: &str, class: &str| {
        let v = value.to_string();
        n(h(
            "div",
            &[("class", &format!("seat-tile {class}"))],
            &[
                n(h(
                    "strong",
                    &[("data-metric", metric), ("data-value", &v)],
                    &[t(&v)],
                )),
                n(h("span", &[], &[t(label)])),
            ],
        ))
    };
    n(h(
        "div",
        &[("class", "seat-tiles"), ("data-testid", "seat-counters")],
        &[
            tile(tr("在办", "Open"), c.open, "seat-open", ""),
            tile(tr("超期", "Overdue"), c.overdue, "seat-overdue", "alarm"),
            tile(tr("预警", "Warned"), c.warned, "seat-warned", "warn"),
            tile(
                tr("上报上级", "Escalated"),
                c.escalated,
                "seat-escalated",
                "",
            ),
            tile(
                tr("今日上报", "Reported today"),
                c.reported_today,
                "seat-reported-today",
                "",
            ),
            tile(
                tr("今日结案", "Closed today"),
                c.closed_today,
                "seat-closed-today",
                "",
            ),
        ],
    ))
}

/// A titled panel.
fn card(title: &str, kids: &[web_sys::Node]) -> web_sys::Node {
    let mut all = vec![n(h("h2", &[], &[t(title)]))];
    all.extend_from_slice(kids);
    n(h("section", &[("class", "seat-card")], &all))
}

fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// The centre's offset as ISO 8601 writes it (`+08:00`).
fn offset() -> String {
    let m = shared::time::DEFAULT_UTC_OFFSET_MINUTES;
    let sign = if m < 0 { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60)
}

/// The date and time of a moment in the centre's zone, as `2026-11-29 08:30`.
fn stamp(ms: i64) -> String {
    let local = ms + i64::from(shared::time::DEFAULT_UTC_OFFSET_MINUTES) * 60_000;
    let day = local.div_euclid(shared::time::DAY_MS);
    let (y, m, d) = shared::time::civil_from_day(day);
    let minute = local.rem_euclid(shared::time::DAY_MS) / 60_000;
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", minute / 60, minute % 60)
}

/// A moment as a `datetime-local` input's value, in the centre's zone whatever the browser's.
fn picker_value(ms: i64) -> String {
    stamp(ms).replacen(' ', "T", 1)
}

/// The moment a `datetime-local` value names, read in the centre's zone.
fn moment_from_picker(value: &str) -> Option<i64> {
    if value.is_empty() {
        return None;
    }
    let seconds = if value.len() == 16 { ":00" } else { "" };
    let ms = js_sys::Date::parse(&format!("{value}{seconds}{}", offset()));
    ms.is_finite().then_some(ms as i64)
}

/// The screen of one level: its kind and code, its figures and its list.
fn screen(level: &Level, kids: &[web_sys::Node]) -> web_sys::Node {
    let code = match level {
        Level::District(c) | Level::Street(c) | Level::Grid(c) => c.clone(),
        Level::Case(id) => id.to_string(),
        Level::City | Level::Overdue | Level::Compare | Level::Queue | Level::Assess => {
            String::new()
        }
    };
    n(h(
        "div",
        &[
            ("class", "seat-level"),
            ("data-testid", "seat-level"),
            ("data-level", level.code()),
            ("data-code", &code),
        ],
        kids,
    ))
}

/// A city, district or street: its figures and its children, the most overdue first.
fn load_area(asked: u64, names: Rc<Names>, level: Level) {
    let Some(token) = token() else { return };
    spawn_local(async move {
        // A replay's or a look back's moment, or now.
        let moment = with(|s| s.replay.as_ref().map(|r| r.shown).or(s.moment));
        let url = match moment {
            Some(at) => format!("/api/wall/at?scope={}&at={at}", level.scope(&names)),
            None => format!("/api/wall?scope={}", level.scope(&names)),
        };
        let state = match fetch::json::<WallAnswer>("GET", &url, Some(&token), Body::None).await {
            Ok(answer) => answer.state,
            Err(failure) => return fail(failure),
        };
        if current(asked) {
            show_area(&names, &level, &state);
        }
    });
}

fn show_area(names: &Names, level: &Level, state: &WallState) {
    // (kind of child, code, name, tally)
    let (kind, mut rows): (&str, Vec<(String, String, Tally)>) = match level {
        Level::City => (
            "district",
            names
                .districts
                .iter()
                .map(|d| {
                    let tally = state.by_district.get(&d.code).copied().unwrap_or_default();
                    (d.code.clone(), names.district(&d.code), tally)
                })
                .collect(),
        ),
        Level::District(code) => (
            "street",
            names
                .streets
                .iter()
                .filter(|s| s.district_code == *code)
                .map(|s| {
                    let tally = state.by_street.get(&s.code).copied().unwrap_or_default();
                    (s.code.clone(), s.name.clone(), tally)
                })
                .collect(),
        ),
        Level::Street(code) => (
            "grid",
            names
                .grids
                .iter()
                .filter(|g| g.street_code == *code)
                .map(|g| {
                    let tally = state.by_grid.get(&g.id).copied().unwrap_or_default();
                    (g.id.clone(), g.name.clone(), tally)
                })
                .collect(),
        ),
        _ => return,
    };
    rows.sort_by(|a, b| {
        (b.2.overdue, b.2.open)
            .cmp(&(a.2.overdue, a.2.open))
            .then_with(|| a.0.cmp(&b.0))
    });
    let head = n(h(
        "div",
        &[("class", "seat-item seat-head")],
        &[
            n(h("span", &[], &[t(tr("名称", "Name"))])),
            n(h("span", &[], &[t(tr("超期", "Overdue"))])),
            n(h("span", &[], &[t(tr("在办", "Open"))])),
            n(h("span", &[], &[t(tr("累计上报", "Reported"))])),
        ],
    ));
    let mut items = vec![head];
    items.extend(rows.iter().map(|(code, name, tally)| {
        let overdue = tally.overdue.to_string();
        let open = tally.open.to_string();
        n(h(
            "button",
            &[
                (
                    "class",
                    if tally.overdue > 0 {
                        "seat-item late"
                    } else {
                        "seat-item"
                    },
                ),
                ("data-testid", "seat-item"),
                ("data-do", "child"),
                ("data-level", kind),
                ("data-code", code),
                ("data-open", &open),
                ("data-overdue", &overdue),
            ],
            &[
                n(h("span", &[("class", "seat-name")], &[t(name)])),
                n(h("span", &[("class", "seat-num alarm")], &[t(&overdue)])),
                n(h("span", &[("class", "seat-num")], &[t(&open)])),
                n(h(
                    "span",
                    &[("class", "seat-num muted")],
                    &[t(&tally.reported_total.to_string())],
                )),
            ],
        ))
    }));
    let title = match kind {
        "district" => tr("各区县", "Districts"),
        "street" => tr("各街道", "Streets"),
        _ => tr("各网格", "Grids"),
    };
    fill(
        "seat-body",
        &[screen(
            level,
            &[
                counters(&state.counters),
                card(title, &[n(h("div", &[("class", "seat-items")], &items))]),
            ],
        )],
    );
}

/// A grid: its cases, the overdue and the open first.
fn load_grid(asked: u64, names: Rc<Names>, id: String) {
    let Some(token) = token() else { return };
    spawn_local(async move {
        let url = format!("/api/cases?view=all&grid={id}&limit=200");
        let list = match fetch::json::<List>("GET", &url, Some(&token), Body::None).await {
            Ok(list) => list,
            Err(failure) => return fail(failure),
        };
        if current(asked) {
            let level = Level::Grid(id);
            let title = format!(
                "{} · {}",
                names.grid_name(match &level {
                    Level::Grid(id) => id,
                    _ => "",
                }),
                tr("案件", "cases")
            );
            show_cases(&names, &level, &title, list);
        }
    });
}

/// The open overdue cases of an area: the server narrows them to overdue and open, the page
/// to the area's grids.
fn load_overdue(asked: u64, names: Rc<Names>, area: Level) {
    let Some(token) = token() else { return };
    spawn_local(async move {
        let grid = match &area {
            Level::Grid(id) => format!("&grid={id}"),
            _ => String::new(),
        };
        let url = format!("/api/cases?view=all&supervision=overdue&open=true&limit=200{grid}");
        let mut list = match fetch::json::<List>("GET", &url, Some(&token), Body::None).await {
            Ok(list) => list,
            Err(failure) => return fail(failure),
        };
        list.cases.retain(|c| {
            c.grid_id
                .as_deref()
                .and_then(|g| names.grid(g))
                .is_some_and(|g| area.holds(g))
        });
        if current(asked) {
            let title = format!(
                "{} · {}",
                level_name(&area, Some(&names)),
                tr("超期未结案件", "open overdue cases")
            );
            show_cases(&names, &Level::Overdue, &title, list);
        }
    });
}

/// What a case is about: its sub-item, or its category when it has none.
fn subject(case: &Case) -> String {
    match &case.sub_item {
        Some(code) => format!(
            "{} · {}",
            text::category(case.category.code()),
            text::sub_item(code)
        ),
        None => text::category(case.category.code()).to_owned(),
    }
}

fn supervision_name(s: Supervision) -> &'static str {
    match s {
        Supervision::None => tr("正常", "On time"),
        Supervision::Warned => tr("预警", "Warned"),
        Supervision::Overdue => tr("超期", "Overdue"),
    }
}

fn is_open(state: CaseState) -> bool {
    !matches!(state, CaseState::Closed | CaseState::Rejected)
}

fn show_cases(names: &Names, level: &Level, title: &str, mut list: List) {
    list.cases.sort_by_key(|c| {
        (
            c.supervision != Supervision::Overdue || !is_open(c.state),
            !is_open(c.state),
            -c.reported_at_ms,
        )
    });
    let head = n(h(
        "div",
        &[("class", "seat-case seat-head")],
        &[
            n(h("span", &[], &[t(tr("编号", "No."))])),
            n(h("span", &[], &[t(tr("事项", "What"))])),
            n(h("span", &[], &[t(tr("网格", "Grid"))])),
            n(h("span", &[], &[t(tr("状态", "State"))])),
            n(h("span", &[], &[t(tr("时限", "Time limit"))])),
            n(h("span", &[], &[t(tr("部门", "Department"))])),
            n(h("span", &[], &[t(tr("上报时间", "Reported"))])),
        ],
    ));
    let mut rows = vec![head];
    rows.extend(list.cases.iter().map(|c| {
        let id = c.id.to_string();
        let late = c.supervision == Supervision::Overdue && is_open(c.state);
        n(h(
            "button",
            &[
                ("class", if late { "seat-case late" } else { "seat-case" }),
                ("data-testid", "seat-case"),
                ("data-do", "case"),
                ("data-case-id", &id),
                ("data-state", c.state.code()),
                ("data-supervision", c.supervision.code()),
            ],
            &[
                n(h("span", &[("class", "seat-num")], &[t(&format!("#{id}"))])),
                n(h("span", &[("class", "seat-name")], &[t(&subject(c))])),
                n(h(
                    "span",
                    &[],
                    &[t(&c
                        .grid_id
                        .as_deref()
                        .map(|g| names.grid_name(g))
                        .unwrap_or_default())],
                )),
                n(h("span", &[], &[t(text::case_state(c.state))])),
                n(h(
                    "span",
                    &[("class", &format!("sup-{}", c.supervision.code()))],
                    &[t(supervision_name(c.supervision))],
                )),
                n(h(
                    "span",
                    &[],
                    &[t(c
                        .department
                        .as_deref()
                        .map(text::department)
                        .unwrap_or("—"))],
                )),
                n(h(
                    "span",
                    &[("class", "seat-muted")],
                    &[t(&when(c.reported_at_ms))],
                )),
            ],
        ))
    }));
    let body = if list.cases.is_empty() {
        n(h(
            "p",
            &[("class", "seat-muted"), ("data-testid", "seat-empty")],
            &[t(tr("暂无案件", "No cases"))],
        ))
    } else {
        n(h("div", &[("class", "seat-items")], &rows))
    };
    let mut kids = vec![body];
    if list.more {
        kids.push(n(h(
            "p",
            &[("class", "seat-muted")],
            &[t(tr(
                "仅列出最近的 200 件",
                "Only the latest 200 are listed",
            ))],
        )));
    }
    fill("seat-body", &[screen(level, &[card(title, &kids)])]);
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Report => tr("上报", "Reported"),
        Action::Dispatch => tr("派遣", "Dispatched"),
        Action::Accept => tr("受理", "Accepted"),
        Action::Resolve => tr("处置完成", "Resolved"),
        Action::Verify => tr("核查通过", "Verified"),
        Action::Return => tr("核查不通过，退回", "Returned"),
        Action::Close => tr("结案", "Closed"),
        Action::Reject => tr("不予受理", "Rejected"),
        Action::Escalate => tr("上报上级", "Escalated"),
        Action::Reopen => tr("重新开启", "Reopened"),
        Action::Urge => tr("督办", "Urged"),
        Action::Warn => tr("预警", "Warned"),
        Action::Supervise => tr("超期督办", "Supervised"),
    }
}

fn photo_label(action: Action) -> &'static str {
    match action {
        Action::Report => tr("处置前", "Before"),
        Action::Resolve => tr("处置后", "After"),
        Action::Verify => tr("核查", "Check"),
        other => action_name(other),
    }
}

/// One case and its timeline, read together.
fn load_case(asked: u64, names: Rc<Names>, id: i64) {
    let Some(token) = token() else { return };
    spawn_local(async move {
        let case_url = format!("/api/cases/{id}");
        let moves_url = format!("/api/cases/{id}/moves");
        let case = fetch::json::<Case>("GET", &case_url, Some(&token), Body::None).await;
        let moves = fetch::json::<Vec<CaseMove>>("GET", &moves_url, Some(&token), Body::None).await;
        match (case, moves) {
            (Ok(case), Ok(moves)) if current(asked) => show_case(&names, &case, &moves, &token),
            (Err(failure), _) | (_, Err(failure)) => fail(failure),
            _ => {}
        }
    });
}

fn show_case(names: &Names, case: &Case, moves: &[CaseMove], token: &str) {
    let open = is_open(case.state);
    let limit = match case.deadline_ms {
        Some(deadline) if open => {
            let left = deadline - js_sys::Date::now() as i64;
            if left >= 0 {
                format!(
                    "{} · {}{}",
                    when(deadline),
                    tr("剩余", "left: "),
                    span(left)
                )
            } else {
                format!(
                    "{} · {}{}",
                    when(deadline),
                    tr("已超期", "late by "),
                    span(left)
                )
            }
        }
        Some(deadline) => when(deadline),
        None => tr("未派遣，未计时", "Not dispatched: no time limit yet").to_owned(),
    };
    let fact = |name: &str, value: &str, id: &str| {
        [
            n(h("dt", &[], &[t(name)])),
            n(h("dd", &[("data-testid", id)], &[t(value)])),
        ]
    };
    let grid = case.grid_id.as_deref().unwrap_or_default();
    let facts: Vec<web_sys::Node> = [
        fact(tr("事项", "What"), &subject(case), "seat-subject"),
        fact(
            tr("状态", "State"),
            text::case_state(case.state),
            "seat-state",
        ),
        fact(
            tr("督办", "Supervision"),
            supervision_name(case.supervision),
            "seat-supervision",
        ),
        fact(
            tr("处置部门", "Department"),
            case.department
                .as_deref()
                .map(text::department)
                .unwrap_or("—"),
            "seat-department",
        ),
        fact(tr("时限", "Time limit"), &limit, "seat-limit"),
        fact(
            tr("网格", "Grid"),
            &format!("{} ({grid})", names.grid_name(grid)),
            "seat-grid",
        ),
        fact(
            tr("上报时间", "Reported"),
            &when(case.reported_at_ms),
            "seat-reported-at",
        ),
        fact(
            tr("情况描述", "Description"),
            &case.description,
            "seat-description",
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    let timeline: Vec<web_sys::Node> = moves
        .iter()
        .map(|m| {
            let who = match &m.role {
                Some(role) => format!("{} ({})", m.actor, role_label(role)),
                None => m.actor.clone(),
            };
            let mut kids = vec![
                n(h("span", &[("class", "seat-muted")], &[t(&when(m.at_ms))])),
                n(h("strong", &[], &[t(action_name(m.action))])),
                n(h("span", &[], &[t(&who)])),
                n(h("span", &[], &[t(text::case_state(m.to_state))])),
            ];
            let mut notes = Vec::new();
            if let Some(d) = &m.department
                && m.action == Action::Dispatch
            {
                notes.push(text::department(d).to_owned());
            }
            if let Some(note) = &m.note {
                notes.push(note.clone());
            }
            kids.push(n(h(
                "span",
                &[("class", "seat-note"), ("data-testid", "seat-move-note")],
                &[t(&notes.join(" · "))],
            )));
            n(h(
                "li",
                &[
                    ("class", "seat-move"),
                    ("data-testid", "seat-move"),
                    ("data-action", m.action.code()),
                    ("data-seq", &m.seq.to_string()),
                ],
                &kids,
            ))
        })
        .collect();
    let photos: Vec<web_sys::Node> = case
        .photos
        .iter()
        .map(|p| {
            let img = h(
                "img",
                &[
                    ("data-testid", "seat-photo"),
                    ("data-action", p.action.code()),
                    ("alt", photo_label(p.action)),
                ],
                &[],
            );
            load_photo(&img, &p.hash, token);
            n(h(
                "figure",
                &[("class", "seat-photo")],
                &[n(img), n(h("figcaption", &[], &[t(photo_label(p.action))]))],
            ))
        })
        .collect();
    let photos = if photos.is_empty() {
        vec![n(h(
            "p",
            &[("class", "seat-muted")],
            &[t(tr("无照片", "No photos"))],
        ))]
    } else {
        photos
    };
    let detail = n(h(
        "div",
        &[
            ("class", "seat-detail"),
            ("data-testid", "seat-detail"),
            ("data-case-id", &case.id.to_string()),
            ("data-state", case.state.code()),
            ("data-supervision", case.supervision.code()),
        ],
        &[
            card(
                &format!("#{} {}", case.id, subject(case)),
                &[
                    n(h("dl", &[("class", "seat-facts")], &facts)),
                    n(h(
                        "div",
                        &[("class", "seat-photos"), ("data-testid", "seat-photos")],
                        &photos,
                    )),
                ],
            ),
            card(
                tr("处置过程", "Timeline"),
                &[n(h(
                    "ol",
                    &[("class", "seat-timeline"), ("data-testid", "seat-timeline")],
                    &timeline,
                ))],
            ),
        ],
    ));
    let mut kids = vec![detail];
    // A centre presses the department while the department's clock runs (督办).
    let dispatcher = with(|s| s.account.as_ref().map(|a| a.role)) == Some(Role::Dispatcher);
    if dispatcher && case.state.clock_runs() {
        kids.push(queue::urge_form(case.id));
    }
    fill("seat-body", &[screen(&Level::Case(case.id), &kids)]);
}

fn role_label(code: &str) -> &'static str {
    match Role::from_code(code) {
        Some(role) => role_name(role),
        None => tr("系统", "system"),
    }
}

/// Fetches a photo with the caller's token and shows it in `img`: an `<img src>` cannot
/// send the bearer header.
fn load_photo(img: &Element, hash: &str, token: &str) {
    let (img, hash, token) = (img.clone(), hash.to_owned(), token.to_owned());
    let asked = generation();
    spawn_local(async move {
        let Ok(url) = fetch::photo_url(&hash, &token).await else {
            let _ = img.set_attribute("data-failed", "true");
            return;
        };
        if current(asked) {
            let _ = img.set_attribute("src", &url);
            with(|s| s.photo_urls.push(url));
        } else {
            // The screen changed while the photo loaded.
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    });
}
