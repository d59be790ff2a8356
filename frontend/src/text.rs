//! Every string the wall shows, in one place, in Chinese (the default) and English, so that a
//! translation touches one file.

use crate::page::Lang;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the page reads English; set once at start from the address.
static ENGLISH: AtomicBool = AtomicBool::new(false);

/// Chooses the language for the rest of the page's life.
pub fn set_lang(lang: Lang) {
    ENGLISH.store(lang == Lang::En, Ordering::Relaxed);
}

/// Whether the page reads English.
pub fn english() -> bool {
    ENGLISH.load(Ordering::Relaxed)
}

/// A name cut to what a chart's label column holds: the city's prefix goes first, then the
/// tail (Chinese characters are about twice as wide as Latin letters).
pub fn short(name: &str) -> &str {
    let name = name
        .strip_prefix("大庆市")
        .or_else(|| name.strip_prefix("Daqing "))
        .unwrap_or(name);
    let max = if english() { 16 } else { 8 };
    name.char_indices()
        .nth(max)
        .map_or(name, |(i, _)| &name[..i])
}

/// The strings of the page's language.
pub fn t() -> &'static Text {
    if ENGLISH.load(Ordering::Relaxed) {
        &EN
    } else {
        &ZH
    }
}

/// The wall's fixed strings.
#[derive(Debug)]
pub struct Text {
    pub title: &'static str,
    pub subtitle: &'static str,
    pub lang_switch: &'static str,
    pub weekdays: [&'static str; 7],

    pub reported_today: &'static str,
    pub reported_total: &'static str,
    pub open: &'static str,
    pub closed: &'static str,
    pub closure_rate: &'static str,
    pub cases_unit: &'static str,
    pub categories: &'static str,
    pub category: &'static str,
    pub events: &'static str,
    pub trend: &'static str,
    pub this_hour: &'static str,
    pub last_24h: &'static str,
    pub departments: &'static str,
    pub on_time: &'static str,
    pub closures: &'static str,

    pub people: &'static str,
    pub residents: &'static str,
    pub households: &'static str,
    pub houses: &'static str,
    pub organisations: &'static str,
    pub key_places: &'static str,
    pub visits_today: &'static str,
    pub visits_month: &'static str,
    pub coverage: &'static str,

    pub team: &'static str,
    pub team_total: &'static str,
    pub members: &'static str,
    pub active_today: &'static str,
    pub people_unit: &'static str,

    pub warnings: &'static str,
    pub warned: &'static str,
    pub overdue: &'static str,
    pub escalated: &'static str,
    pub hotspot: &'static str,
    pub surge: &'static str,
    pub no_warnings: &'static str,
    pub cases: &'static str,
    pub no_cases: &'static str,

    pub map: &'static str,
    pub metric_open: &'static str,
    pub metric_overdue: &'static str,
    pub metric_per_1000: &'static str,
    pub metric_coverage: &'static str,
    pub grid_stations: &'static str,
    pub mediation_centres: &'static str,
    pub key_places_layer: &'static str,
    pub map_loading: &'static str,
    pub map_failed: &'static str,

    pub link_live: &'static str,
    pub link_reconnecting: &'static str,
    pub link_stale: &'static str,
    pub link_no_data: &'static str,
    pub stale_banner: &'static str,
    /// Across the wall when the server refused its credential: the prefix, then the reason.
    pub link_refused: &'static str,
    /// Across the wall while the server cannot store writes: the prefix, then why.
    pub writes_failing: &'static str,
    pub writes_disk_full: &'static str,
    pub writes_read_only: &'static str,
    pub writes_database: &'static str,

    /// What a wall following a control channel shows (`?follow=`).
    pub controlled_by: &'static str,
    pub city: &'static str,
    pub look_back: &'static str,
    pub replay: &'static str,
    pub paused: &'static str,
    pub card_state: &'static str,
    pub card_department: &'static str,
    pub card_deadline: &'static str,
    pub card_moves: &'static str,
}

pub static ZH: Text = Text {
    title: "大庆市“一网统管”指挥中心",
    subtitle: "两网三云图 · 网格化服务管理实时态势",
    lang_switch: "EN",
    weekdays: [
        "星期日",
        "星期一",
        "星期二",
        "星期三",
        "星期四",
        "星期五",
        "星期六",
    ],

    reported_today: "今日上报",
    reported_total: "累计上报",
    open: "办理中",
    closed: "已办结",
    closure_rate: "办结率",
    cases_unit: "件",
    categories: "事件分类统计",
    category: "类别",
    events: "事件统计云图",
    trend: "24小时上报趋势",
    this_hour: "本小时",
    last_24h: "近24小时",
    departments: "职能部门办理排名",
    on_time: "按期率",
    closures: "办结",

    people: "人房管理云图",
    residents: "实有人口",
    households: "户数",
    houses: "房屋",
    organisations: "单位组织",
    key_places: "重点场所",
    visits_today: "今日入户",
    visits_month: "本月入户",
    coverage: "本月走访覆盖率",

    team: "运行管理云图 · 网格队伍“1+N”",
    team_total: "队伍总数",
    members: "在册",
    active_today: "今日在岗",
    people_unit: "人",

    warnings: "预警督办",
    warned: "临期预警",
    overdue: "超期督办",
    escalated: "升级上报",
    hotspot: "热点网格",
    surge: "上报激增",
    no_warnings: "暂无预警",
    cases: "最新事件动态",
    no_cases: "等待新事件",

    map: "网格电子地图",
    metric_open: "办理中事件",
    metric_overdue: "超期事件",
    metric_per_1000: "每千人累计事件",
    metric_coverage: "本月走访覆盖率",
    grid_stations: "网格驿站",
    mediation_centres: "调解中心",
    key_places_layer: "重点场所",
    map_loading: "正在载入网格地图……",
    map_failed: "网格地图载入失败，稍后重试",

    link_live: "实时",
    link_reconnecting: "重新连接中",
    link_stale: "数据已停止更新",
    link_no_data: "尚无数据",
    stale_banner: "连接中断：以下为历史数据",
    link_refused: "大屏凭证已失效，请联系管理员",
    writes_failing: "写入失败：新的上报和处置未能保存",
    writes_disk_full: "数据库磁盘已满",
    writes_read_only: "数据库只读",
    writes_database: "数据库故障",

    controlled_by: "控制席位",
    city: "全市",
    look_back: "回看",
    replay: "回放",
    paused: "已暂停",
    card_state: "状态",
    card_department: "责任部门",
    card_deadline: "办理时限",
    card_moves: "处置过程",
};

pub static EN: Text = Text {
    title: "Daqing City Operations Command Centre",
    subtitle: "Two networks, three cloud maps · live grid governance",
    lang_switch: "中文",
    weekdays: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],

    reported_today: "Reported today",
    reported_total: "Reported in total",
    open: "Open",
    closed: "Closed",
    closure_rate: "Closure rate",
    cases_unit: "",
    categories: "Cases by category",
    category: "Category",
    events: "Event statistics",
    trend: "Reports, last 24 hours",
    this_hour: "This hour",
    last_24h: "24 hours",
    departments: "Departments",
    on_time: "On time",
    closures: "Closed",

    people: "People and housing",
    residents: "Residents",
    households: "Households",
    houses: "Houses",
    organisations: "Organisations",
    key_places: "Key places",
    visits_today: "Visits today",
    visits_month: "Visits this month",
    coverage: "Households visited this month",

    team: "Operations · the \"1+N\" grid team",
    team_total: "Team",
    members: "Members",
    active_today: "Active today",
    people_unit: "",

    warnings: "Warning and supervision",
    warned: "Near limit",
    overdue: "Overdue",
    escalated: "Escalated",
    hotspot: "Hotspot",
    surge: "Surge",
    no_warnings: "No warnings",
    cases: "Latest cases",
    no_cases: "Waiting for cases",

    map: "Grid map",
    metric_open: "Open cases",
    metric_overdue: "Overdue cases",
    metric_per_1000: "Cases per 1,000 residents",
    metric_coverage: "House-visit coverage",
    grid_stations: "Grid stations",
    mediation_centres: "Mediation centres",
    key_places_layer: "Key places",
    map_loading: "Loading the grid map…",
    map_failed: "The grid map did not load; retrying",

    link_live: "Live",
    link_reconnecting: "Reconnecting",
    link_stale: "Data stopped",
    link_no_data: "No data yet",
    stale_banner: "Link lost: these figures are not live",
    link_refused: "This wall's credential no longer works; ask the administrator",
    writes_failing: "Writes failing: new reports and moves are not being stored",
    writes_disk_full: "the database's disk is full",
    writes_read_only: "the database is read-only",
    writes_database: "the database is failing",

    controlled_by: "Controlled by",
    city: "City",
    look_back: "Look back",
    replay: "Replay",
    paused: "paused",
    card_state: "State",
    card_department: "Department",
    card_deadline: "Deadline",
    card_moves: "Timeline",
};

/// The name of a team kind: full-time grid workers and the six co-governance kinds.
pub fn team_kind(code: &str) -> &'static str {
    let english = ENGLISH.load(Ordering::Relaxed);
    let (zh, en) = match code {
        "grid_worker" => ("专职网格员", "Grid workers"),
        "community_police" => ("社区民警", "Community police"),
        "medical_worker" => ("医务人员", "Medical workers"),
        "sent_down_cadre" => ("下沉干部", "Sent-down cadres"),
        "building_head" => ("楼栋长/单元长", "Building heads"),
        "volunteer" => ("志愿者", "Volunteers"),
        "utility_staff" => ("水电气热人员", "Utility staff"),
        _ => ("其他力量", "Other"),
    };
    if english { en } else { zh }
}

/// A category's name, from its code.
pub fn category(code: &str) -> &'static str {
    shared::case::Category::name_of(code, ENGLISH.load(Ordering::Relaxed))
}

/// A case state's name.
pub fn case_state(state: shared::case::CaseState) -> &'static str {
    state.name(ENGLISH.load(Ordering::Relaxed))
}

/// A department's name, from its code.
pub fn department(code: &str) -> &'static str {
    shared::taxonomy::department_name(code, ENGLISH.load(Ordering::Relaxed))
}

/// A sub-item's name, from its code.
pub fn sub_item(code: &str) -> &'static str {
    shared::taxonomy::sub_item_name(code, ENGLISH.load(Ordering::Relaxed))
}

/// "data N s old", shown beside the link indicator whenever the wall is not live.
pub fn data_age(age_ms: f64) -> String {
    let secs = (age_ms / 1000.0).floor() as u64;
    let english = ENGLISH.load(Ordering::Relaxed);
    match (secs, english) {
        (s, false) if s < 120 => format!("数据 {s} 秒前"),
        (s, false) if s < 7200 => format!("数据 {} 分钟前", s / 60),
        (s, false) => format!("数据 {} 小时前", s / 3600),
        (s, true) if s < 120 => format!("data {s} s old"),
        (s, true) if s < 7200 => format!("data {} min old", s / 60),
        (s, true) => format!("data {} h old", s / 3600),
    }
}

/// "3 reports of 占道经营 in one grid within 24 hours".
pub fn hotspot(sub_item_code: &str, count: u64) -> String {
    if ENGLISH.load(Ordering::Relaxed) {
        format!("{count} × {} in 24 h", sub_item(sub_item_code))
    } else {
        format!("24小时内{}上报{count}次", sub_item(sub_item_code))
    }
}

/// "this hour 12, usually 3.1".
pub fn surge(this_hour: u64, usual: f64) -> String {
    if ENGLISH.load(Ordering::Relaxed) {
        format!("{this_hour} this hour, usually {usual:.1}")
    } else {
        format!("本小时{this_hour}件，常态{usual:.1}件")
    }
}

/// A span of time in hours and minutes (whole minutes, at least one): "2小时5分", "2 h 5 min".
pub fn span(ms: i64) -> String {
    let mins = (ms.unsigned_abs() / 60_000).max(1);
    let (h, m) = (mins / 60, mins % 60);
    match (h, ENGLISH.load(Ordering::Relaxed)) {
        (0, false) => format!("{m}分钟"),
        (0, true) => format!("{m} min"),
        (h, false) => format!("{h}小时{m}分"),
        (h, true) => format!("{h} h {m} min"),
    }
}

/// A case's time left before its deadline, or how long it is overdue.
pub fn time_left(left_ms: i64) -> String {
    match (left_ms >= 0, ENGLISH.load(Ordering::Relaxed)) {
        (true, false) => format!("剩余 {}", span(left_ms)),
        (true, true) => format!("{} left", span(left_ms)),
        (false, false) => format!("已超期 {}", span(left_ms)),
        (false, true) => format!("overdue by {}", span(left_ms)),
    }
}

/// "returns to the overview in N s", on a released channel's badge.
pub fn returns_in(secs: i64) -> String {
    if ENGLISH.load(Ordering::Relaxed) {
        format!("returns to overview in {secs} s")
    } else {
        format!("{secs} 秒后返回总览")
    }
}

/// A role's name, from its code (the code itself when unknown).
pub fn role(code: &str) -> &str {
    let (zh, en) = match code {
        "grid_worker" => ("网格员", "Grid worker"),
        "dispatcher" => ("调度员", "Dispatcher"),
        "department_staff" => ("部门人员", "Department staff"),
        "leader" => ("领导", "Leader"),
        "reporting_app" => ("上报渠道", "Reporting app"),
        "system" => ("系统", "System"),
        _ => return code,
    };
    if ENGLISH.load(Ordering::Relaxed) {
        en
    } else {
        zh
    }
}

/// A move's name as a case's timeline says it.
pub fn action(action: shared::case::Action) -> &'static str {
    use shared::case::Action as A;
    let (zh, en) = match action {
        A::Report => ("上报", "Reported"),
        A::Dispatch => ("派遣", "Dispatched"),
        A::Accept => ("受理", "Accepted"),
        A::Resolve => ("处置", "Resolved"),
        A::Verify => ("核查", "Verified"),
        A::Close => ("结案", "Closed"),
        A::Return => ("退回", "Returned"),
        A::Reject => ("不予受理", "Rejected"),
        A::Escalate => ("上报区级", "Escalated"),
        A::Reopen => ("重新办理", "Reopened"),
        A::Urge => ("督办", "Urged"),
        A::Warn => ("预警", "Warned"),
        A::Supervise => ("超期督办", "Supervised"),
    };
    if ENGLISH.load(Ordering::Relaxed) {
        en
    } else {
        zh
    }
}
