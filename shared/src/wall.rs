//! The wall stream on `/ws`: the wall's state, the messages that carry it, and the rule by
//! which a wall applies them.
//!
//! Every frame from the server is one JSON object tagged by `type`: `hello` first, then a
//! `snapshot`, then `delta`s, `alert`s and `heartbeat`s in sequence order. Values in a delta
//! are absolute (the new value, never an increment), which is what makes a delta safe to apply
//! over a snapshot that already contains part of it.
//!
//! Two sequence numbers travel in the frames. `seq` numbers the frames of one stream (one run
//! of one server): every change of the state, whether a case moved, a house was visited or
//! the clock moved the 24-hour window on, gets the next one. `log_seq` is the last case
//! transition folded in, the position in the append-only log, which ties what a wall shows to
//! the tables.

use crate::case::{CaseState, Supervision};
/// The wall's messages name the scope they describe; it is defined in [`crate::scope`].
pub use crate::scope::Scope;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The state of a scope as it is now, with where it stands in its stream (`seq`) and in the
/// tables: `log_seq` (the last transition) and `visit_seq` (the last house visit) folded in.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WallView {
    pub scope: Scope,
    pub seq: u64,
    pub log_seq: u64,
    pub visit_seq: u64,
    pub server_time_ms: i64,
    pub state: WallState,
}

/// A scope's state as it stood at a past moment, rebuilt from the transition log: the last
/// transition (`log_seq`) and house visit (`visit_seq`) at or before the moment, and how it was
/// found: from the checkpoint at `checkpoint_log_seq` (none: from the log's start) and `folded`
/// events after it, in `elapsed_ms` on the server.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PastWallView {
    pub scope: Scope,
    pub at_ms: i64,
    pub log_seq: u64,
    pub visit_seq: u64,
    pub checkpoint_log_seq: Option<u64>,
    pub folded: u64,
    pub elapsed_ms: u64,
    pub state: WallState,
}

/// The headline counters.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Every case ever reported.
    pub reported_total: u64,
    /// Cases reported since the centre's local midnight.
    pub reported_today: u64,
    /// Of the cases reported today, those already closed.
    pub reported_today_closed: u64,
    /// Cases not yet closed or rejected.
    pub open: u64,
    /// Cases whose loop is closed.
    pub closed: u64,
    /// Cases closed since the centre's local midnight.
    pub closed_today: u64,
    /// Cases rejected as not for the platform or duplicates.
    pub rejected: u64,
    /// Open cases past three quarters of their time limit (预警), not yet overdue.
    pub warned: u64,
    /// Open cases past their time limit and under supervision (超期督办).
    pub overdue: u64,
    /// Open cases handed up to the district.
    pub escalated: u64,
}

impl Counters {
    /// Closed cases as a share of all reported cases, from 0 to 1 (0 when nothing is reported).
    ///
    /// This is the seed's 办结率: 70,000 closed of 75,000 reported is 0.93.
    pub fn closure_rate(&self) -> f64 {
        ratio(self.closed, self.reported_total)
    }

    /// The share of today's reports that are already closed.
    pub fn closure_rate_today(&self) -> f64 {
        ratio(self.reported_today_closed, self.reported_today)
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Cases of one category, sub-item, district or street.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub reported_total: u64,
    pub reported_today: u64,
    pub open: u64,
    pub closed: u64,
    /// Open cases past their time limit.
    #[serde(default)]
    pub overdue: u64,
}

/// Cases and house visits of one grid, for the map.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridTally {
    pub reported_total: u64,
    pub open: u64,
    pub overdue: u64,
    /// When a case of the grid last moved (Unix milliseconds).
    pub last_ms: i64,
    /// The grid's households (people and housing).
    #[serde(default)]
    pub households: u64,
    /// Of those, the ones visited at least once this month.
    #[serde(default)]
    pub households_visited_month: u64,
}

impl GridTally {
    /// Households visited this month as a share of the grid's households, from 0 to 1 (0 for
    /// a grid without households).
    pub fn coverage(&self) -> f64 {
        ratio(self.households_visited_month, self.households).min(1.0)
    }
}

/// One department's work: what it holds now and how its closures went.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeptTally {
    /// Open cases dispatched to the department.
    pub open: u64,
    /// Of those, the ones past their time limit.
    pub overdue: u64,
    /// Cases of the department closed, counting each closure.
    pub closures: u64,
    /// Closures of cases that never went past their time limit.
    pub closures_on_time: u64,
    /// The sum over closures of the time from report to closure, in milliseconds.
    pub handling_ms: u64,
}

impl DeptTally {
    /// On-time closures as a share of closures (1 when nothing was closed yet).
    pub fn on_time_rate(&self) -> f64 {
        if self.closures == 0 {
            1.0
        } else {
            ratio(self.closures_on_time, self.closures)
        }
    }

    /// The average time from report to closure, in hours.
    pub fn average_handling_hours(&self) -> f64 {
        if self.closures == 0 {
            0.0
        } else {
            self.handling_ms as f64 / self.closures as f64 / 3_600_000.0
        }
    }
}

/// Reports per hour for the last 24 local hours, the current hour last.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hourly {
    /// The current hour, as hours since 1970-01-01 00:00 local time.
    pub hour: i64,
    /// 24 counts, oldest first; the last is the hour in progress.
    pub counts: Vec<u64>,
}

/// How far a case has run over its time.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningLevel {
    /// Past three quarters of its time limit.
    Warned,
    /// Past its time limit: under supervision.
    Overdue,
    /// Handed up to the district.
    Escalated,
}

/// A case on the warning and supervision list.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub case_id: i64,
    pub level: WarningLevel,
    /// A category code.
    pub category: String,
    pub sub_item: Option<String>,
    pub grid_id: Option<String>,
    /// The department the case is with, if dispatched.
    pub department: Option<String>,
    /// When its time runs out (Unix milliseconds), if dispatched.
    pub deadline_ms: Option<i64>,
    /// When the case last moved (Unix milliseconds).
    pub updated_ms: i64,
}

impl Warning {
    /// The key of a case in [`WallState::warnings`].
    pub fn key(case_id: i64) -> String {
        case_id.to_string()
    }
}

/// How many cases [`WallState::latest`] holds.
pub const LATEST_CASES: usize = 30;

/// One of the latest cases of a scope, with its current facts.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatestCase {
    pub case_id: i64,
    /// The sequence number of the case's last transition: the list's order, newest highest.
    pub seq: u64,
    /// A category code.
    pub category: String,
    pub sub_item: Option<String>,
    pub grid_id: Option<String>,
    pub state: CaseState,
    pub supervision: Supervision,
    /// The department the case is with, if dispatched.
    pub department: Option<String>,
    /// When the case last moved (Unix milliseconds).
    pub moved_ms: i64,
}

impl LatestCase {
    /// The key of a case in [`WallState::latest`].
    pub fn key(case_id: i64) -> String {
        case_id.to_string()
    }

    /// Puts `case` into `latest` (replacing the entry of the same case) and, when that makes
    /// more than [`LATEST_CASES`], drops the case whose last move is the oldest. The scan
    /// for it is over at most 31 entries, so the work per case stays constant.
    pub fn keep(latest: &mut BTreeMap<String, LatestCase>, case: LatestCase) {
        latest.insert(LatestCase::key(case.case_id), case);
        if latest.len() > LATEST_CASES
            && let Some(oldest) = latest
                .iter()
                .min_by_key(|(_, c)| c.seq)
                .map(|(k, _)| k.clone())
        {
            latest.remove(&oldest);
        }
    }
}

/// Three or more reports of one sub-item in one grid within 24 hours.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hotspot {
    pub grid_id: String,
    pub sub_item: String,
    pub count: u64,
}

impl Hotspot {
    /// The key of a hotspot in [`WallState::hotspots`].
    pub fn key(grid_id: &str, sub_item: &str) -> String {
        format!("{grid_id}/{sub_item}")
    }
}

/// A district reporting at three times its usual rate or more.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Surge {
    pub district: String,
    /// Reports in the hour in progress.
    pub this_hour: u64,
    /// Reports in the 168 hours (seven days) before it. Kept as a count, not a rate, so that
    /// the state holds no floating point and compares exactly.
    pub week: u64,
}

impl Surge {
    /// Hours in the week a district's usual rate is taken over.
    pub const WEEK_HOURS: u64 = 168;

    /// Reports per hour over the week before the hour in progress.
    pub fn usual_per_hour(&self) -> f64 {
        self.week as f64 / Surge::WEEK_HOURS as f64
    }
}

/// People and housing (人房), and the grid workers' house visits (入户走访).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct People {
    pub residents: u64,
    pub households: u64,
    pub houses: u64,
    pub organisations: u64,
    pub key_places: u64,
    pub visits_today: u64,
    pub visits_month: u64,
    /// Households visited at least once this month.
    pub households_visited_month: u64,
}

impl People {
    /// Households visited this month as a share of all households.
    pub fn coverage(&self) -> f64 {
        ratio(self.households_visited_month, self.households).min(1.0)
    }
}

/// One kind of the "1+N" grid team: full-time grid workers or a co-governance kind.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamKind {
    /// Members on the team now.
    pub members: u64,
    /// Members who reported a case or visited a household today.
    pub active_today: u64,
}

/// Everything a wall shows for its scope, as of one sequence number.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WallState {
    /// The local day the "today" figures count (days since 1970-01-01, centre time).
    pub day: i64,
    pub counters: Counters,
    /// Cases by state code; states without cases are absent.
    #[serde(default)]
    pub by_state: BTreeMap<String, u64>,
    /// By category code (`shared::case::Category::code`); categories without cases are absent.
    #[serde(default)]
    pub by_category: BTreeMap<String, Tally>,
    /// By sub-item code.
    #[serde(default)]
    pub by_sub_item: BTreeMap<String, Tally>,
    /// By district code; districts without cases are absent.
    #[serde(default)]
    pub by_district: BTreeMap<String, Tally>,
    /// By street code.
    #[serde(default)]
    pub by_street: BTreeMap<String, Tally>,
    /// By grid id: every grid with a case, households, or a household visited this month.
    #[serde(default)]
    pub by_grid: BTreeMap<String, GridTally>,
    /// By department code: every department that has had a case.
    #[serde(default)]
    pub by_department: BTreeMap<String, DeptTally>,
    /// Reports per hour for the last 24 hours.
    #[serde(default)]
    pub hourly: Hourly,
    /// The warning and supervision list, by case id in decimal ([`Warning::key`]). The key
    /// is a string because JSON keys are, and serde cannot read integer keys inside the
    /// internally tagged `ServerMsg`.
    #[serde(default)]
    pub warnings: BTreeMap<String, Warning>,
    /// The [`LATEST_CASES`] cases of the scope whose last transition is the latest, by case
    /// id in decimal ([`LatestCase::key`]).
    #[serde(default)]
    pub latest: BTreeMap<String, LatestCase>,
    /// Hotspots, by [`Hotspot::key`].
    #[serde(default)]
    pub hotspots: BTreeMap<String, Hotspot>,
    /// Surges, by district code.
    #[serde(default)]
    pub surges: BTreeMap<String, Surge>,
    #[serde(default)]
    pub people: People,
    /// The grid team by member kind (`grid_worker` and the co-governance kinds).
    #[serde(default)]
    pub team: BTreeMap<String, TeamKind>,
}

/// A value with the key it belongs to.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keyed<K, V> {
    pub key: K,
    pub value: V,
}

/// One changed part of the wall's state, with its new value. A keyed value of `None` means
/// the entry is gone.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Change {
    Day(i64),
    Counters(Counters),
    State(Keyed<String, Option<u64>>),
    Category(Keyed<String, Option<Tally>>),
    SubItem(Keyed<String, Option<Tally>>),
    District(Keyed<String, Option<Tally>>),
    Street(Keyed<String, Option<Tally>>),
    Grid(Keyed<String, Option<GridTally>>),
    Department(Keyed<String, Option<DeptTally>>),
    Hourly(Hourly),
    Warning(Keyed<String, Option<Warning>>),
    Latest(Keyed<String, Option<LatestCase>>),
    Hotspot(Keyed<String, Option<Hotspot>>),
    Surge(Keyed<String, Option<Surge>>),
    People(People),
    Team(Keyed<String, Option<TeamKind>>),
}

/// The entries of `now` that differ from `then`, and the keys of `then` that are gone.
fn keyed_changes<K: Ord + Clone, V: PartialEq + Clone>(
    now: &BTreeMap<K, V>,
    then: &BTreeMap<K, V>,
    wrap: impl Fn(Keyed<K, Option<V>>) -> Change,
    out: &mut Vec<Change>,
) {
    for (k, v) in now {
        if then.get(k) != Some(v) {
            out.push(wrap(Keyed {
                key: k.clone(),
                value: Some(v.clone()),
            }));
        }
    }
    for k in then.keys() {
        if !now.contains_key(k) {
            out.push(wrap(Keyed {
                key: k.clone(),
                value: None,
            }));
        }
    }
}

fn apply_keyed<K: Ord + Clone, V: Clone>(map: &mut BTreeMap<K, V>, keyed: &Keyed<K, Option<V>>) {
    match &keyed.value {
        Some(v) => {
            map.insert(keyed.key.clone(), v.clone());
        }
        None => {
            map.remove(&keyed.key);
        }
    }
}

impl WallState {
    /// What changed from `before` to `self`, as the changes of a delta.
    pub fn changes_since(&self, before: &WallState) -> Vec<Change> {
        let mut out = Vec::new();
        if self.day != before.day {
            out.push(Change::Day(self.day));
        }
        if self.counters != before.counters {
            out.push(Change::Counters(self.counters));
        }
        keyed_changes(&self.by_state, &before.by_state, Change::State, &mut out);
        keyed_changes(
            &self.by_category,
            &before.by_category,
            Change::Category,
            &mut out,
        );
        keyed_changes(
            &self.by_sub_item,
            &before.by_sub_item,
            Change::SubItem,
            &mut out,
        );
        keyed_changes(
            &self.by_district,
            &before.by_district,
            Change::District,
            &mut out,
        );
        keyed_changes(&self.by_street, &before.by_street, Change::Street, &mut out);
        keyed_changes(&self.by_grid, &before.by_grid, Change::Grid, &mut out);
        keyed_changes(
            &self.by_department,
            &before.by_department,
            Change::Department,
            &mut out,
        );
        if self.hourly != before.hourly {
            out.push(Change::Hourly(self.hourly.clone()));
        }
        keyed_changes(&self.warnings, &before.warnings, Change::Warning, &mut out);
        keyed_changes(&self.latest, &before.latest, Change::Latest, &mut out);
        keyed_changes(&self.hotspots, &before.hotspots, Change::Hotspot, &mut out);
        keyed_changes(&self.surges, &before.surges, Change::Surge, &mut out);
        if self.people != before.people {
            out.push(Change::People(self.people));
        }
        keyed_changes(&self.team, &before.team, Change::Team, &mut out);
        out
    }

    /// Applies the changes of a delta.
    pub fn apply(&mut self, changes: &[Change]) {
        for change in changes {
            match change {
                Change::Day(day) => self.day = *day,
                Change::Counters(c) => self.counters = *c,
                Change::State(k) => apply_keyed(&mut self.by_state, k),
                Change::Category(k) => apply_keyed(&mut self.by_category, k),
                Change::SubItem(k) => apply_keyed(&mut self.by_sub_item, k),
                Change::District(k) => apply_keyed(&mut self.by_district, k),
                Change::Street(k) => apply_keyed(&mut self.by_street, k),
                Change::Grid(k) => apply_keyed(&mut self.by_grid, k),
                Change::Department(k) => apply_keyed(&mut self.by_department, k),
                Change::Hourly(h) => self.hourly = h.clone(),
                Change::Warning(k) => apply_keyed(&mut self.warnings, k),
                Change::Latest(k) => apply_keyed(&mut self.latest, k),
                Change::Hotspot(k) => apply_keyed(&mut self.hotspots, k),
                Change::Surge(k) => apply_keyed(&mut self.surges, k),
                Change::People(p) => self.people = *p,
                Change::Team(k) => apply_keyed(&mut self.team, k),
            }
        }
    }
}

/// Something the command room should notice now: shown once, not kept in the state.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Alert {
    /// A case went onto the warning list or up a level on it.
    Warning(Warning),
    /// A grid became a hotspot.
    Hotspot(Hotspot),
    /// A district began to surge.
    Surge(Surge),
}

/// A message from the server to a wall.
// A snapshot is much larger than the other messages, but messages are short-lived values
// built once and serialised (or parsed and applied) at once; boxing it buys nothing.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// The first message on every connection.
    Hello {
        protocol: u32,
        server_version: String,
        scope: Scope,
        /// This stream's identity: sequence numbers count within one stream only, so a wall
        /// that resumes says which stream its sequence number belongs to.
        stream: String,
    },
    /// The full state as of `seq`; replaces whatever the wall had.
    Snapshot {
        seq: u64,
        log_seq: u64,
        server_time_ms: i64,
        state: WallState,
    },
    /// What changed after `prev_seq` up to and including `seq`.
    Delta {
        prev_seq: u64,
        seq: u64,
        log_seq: u64,
        changes: Vec<Change>,
    },
    /// Some of the changes of the frame `seq` (a snapshot or a delta), sent just before it so
    /// that no single message is large: a wall holds parts until their frame arrives and
    /// applies them with it. Parts whose frame never arrives are dropped.
    Part { seq: u64, changes: Vec<Change> },
    /// Something to notice, raised by the changes of the frame `seq`.
    Alert { seq: u64, alert: Alert },
    /// Sent every second; `seq` is the last sequence number the server has sent.
    Heartbeat {
        server_time_ms: i64,
        seq: u64,
        log_seq: u64,
        /// Present while the server cannot store writes (its disk is full, its database is
        /// read-only): the wall says so, since new reports are not reaching it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        writes_failing: Option<WritesFailing>,
    },
    /// The control channel the wall follows (`/ws?follow=NAME`) changed: who holds it and
    /// what it shows. Sent before the state of a newly shown scope or moment, which follows
    /// as a `hello` and a `snapshot`.
    Control {
        control: crate::control::ControlState,
    },
}

/// Why the server cannot store writes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteTrouble {
    /// The disk under the database is full.
    DiskFull,
    /// The database takes no writes: a read-only file or file system, or a standby.
    ReadOnly,
    /// The database failed some other way (the server's log has the details).
    Database,
}

impl WriteTrouble {
    /// A sentence for an operator: what is wrong and what it means.
    pub fn explain(self) -> &'static str {
        match self {
            WriteTrouble::DiskFull => "the database's disk is full",
            WriteTrouble::ReadOnly => "the database is read-only",
            WriteTrouble::Database => "the database is failing (the server's log has the details)",
        }
    }
}

/// Writes are failing, since when and why.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WritesFailing {
    pub trouble: WriteTrouble,
    /// When the first write failed, in milliseconds since the epoch.
    pub since_ms: i64,
}

/// A snapshot split into a small base (the state without its keyed entries) and the keyed
/// entries as changes, to be sent as parts before the base.
pub fn split_snapshot(state: &WallState) -> (WallState, Vec<Change>) {
    let base = WallState {
        day: state.day,
        counters: state.counters,
        hourly: state.hourly.clone(),
        people: state.people,
        ..WallState::default()
    };
    let entries = state.changes_since(&base);
    (base, entries)
}

/// A message from a wall to the server.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// The wall found a gap and asks for a fresh snapshot.
    Snapshot,
}

/// What applying one message did to a wall's mirror of the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The state changed (or was confirmed, for a heartbeat).
    Updated,
    /// The message was already contained in the state and changed nothing.
    Ignored,
    /// The message shows that the wall missed something: it must ask for a snapshot.
    Gap,
}

/// A wall's copy of the server's state, kept in step by the sequence rule.
///
/// The rule: a delta covering `(prev_seq, seq]` applies when `prev_seq <= self.seq < seq`
/// (values are absolute, so overlapping what the wall already has is harmless), is ignored
/// when `seq <= self.seq`, and is a gap when `prev_seq > self.seq`. A heartbeat whose `seq`
/// is ahead of the wall is a gap too. Until the first snapshot, everything is a gap.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mirror {
    /// The stream the sequence number belongs to, from the last `hello`.
    pub stream: Option<String>,
    /// The scope of the last `hello`: a followed wall's stream may switch scope.
    pub scope: Option<Scope>,
    pub seq: Option<u64>,
    pub log_seq: u64,
    pub state: WallState,
    /// Parts received for a frame that has not arrived yet.
    pending: Option<(u64, Vec<Change>)>,
}

impl Mirror {
    /// The parts held for frame `seq`; parts of any other frame are dropped.
    fn take_parts(&mut self, seq: u64) -> Vec<Change> {
        match self.pending.take() {
            Some((pending, parts)) if pending == seq => parts,
            _ => Vec::new(),
        }
    }

    pub fn apply(&mut self, msg: &ServerMsg) -> Applied {
        match msg {
            ServerMsg::Hello { stream, scope, .. } => {
                self.pending = None;
                if self.stream.as_ref() != Some(stream) || self.scope.as_ref() != Some(scope) {
                    // Another stream (the server restarted) or another scope (a followed wall
                    // was switched): our sequence means nothing there.
                    self.stream = Some(stream.clone());
                    self.scope = Some(scope.clone());
                    self.seq = None;
                }
                Applied::Ignored
            }
            ServerMsg::Snapshot {
                seq,
                log_seq,
                state,
                ..
            } => {
                self.seq = Some(*seq);
                self.log_seq = *log_seq;
                self.state = state.clone();
                let parts = self.take_parts(*seq);
                self.state.apply(&parts);
                Applied::Updated
            }
            ServerMsg::Delta {
                prev_seq,
                seq,
                log_seq,
                changes,
            } => {
                let parts = self.take_parts(*seq);
                let Some(have) = self.seq else {
                    return Applied::Gap;
                };
                if *seq <= have {
                    Applied::Ignored
                } else if *prev_seq > have {
                    Applied::Gap
                } else {
                    self.state.apply(&parts);
                    self.state.apply(changes);
                    self.seq = Some(*seq);
                    self.log_seq = *log_seq;
                    Applied::Updated
                }
            }
            ServerMsg::Part { seq, changes } => {
                match &mut self.pending {
                    Some((pending, held)) if pending == seq => held.extend(changes.iter().cloned()),
                    _ => self.pending = Some((*seq, changes.clone())),
                }
                Applied::Ignored
            }
            ServerMsg::Alert { .. } | ServerMsg::Control { .. } => Applied::Ignored,
            ServerMsg::Heartbeat { seq, .. } => match self.seq {
                Some(have) if *seq <= have => Applied::Updated,
                _ => Applied::Gap,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(reported_total: u64) -> Counters {
        Counters {
            reported_total,
            reported_today: reported_total,
            open: reported_total,
            ..Counters::default()
        }
    }

    fn delta(prev_seq: u64, seq: u64) -> ServerMsg {
        ServerMsg::Delta {
            prev_seq,
            seq,
            log_seq: seq,
            changes: vec![Change::Counters(counters(seq))],
        }
    }

    fn snapshot(seq: u64) -> ServerMsg {
        ServerMsg::Snapshot {
            seq,
            log_seq: seq,
            server_time_ms: 0,
            state: WallState {
                day: 1,
                counters: counters(seq),
                ..WallState::default()
            },
        }
    }

    #[test]
    fn deltas_before_a_snapshot_are_gaps() {
        let mut m = Mirror::default();
        assert_eq!(m.apply(&delta(0, 1)), Applied::Gap);
        assert_eq!(m.apply(&snapshot(5)), Applied::Updated);
        assert_eq!(m.seq, Some(5));
    }

    #[test]
    fn in_order_deltas_apply() {
        let mut m = Mirror::default();
        m.apply(&snapshot(5));
        assert_eq!(m.apply(&delta(5, 7)), Applied::Updated);
        assert_eq!(m.apply(&delta(7, 8)), Applied::Updated);
        assert_eq!(m.seq, Some(8));
        assert_eq!(m.state.counters.reported_total, 8);
    }

    #[test]
    fn a_delta_overlapping_the_snapshot_applies() {
        // The snapshot was taken at 6 while a frame covering 5..=7 was being built.
        let mut m = Mirror::default();
        m.apply(&snapshot(6));
        assert_eq!(m.apply(&delta(5, 7)), Applied::Updated);
        assert_eq!(m.state.counters.reported_total, 7);
    }

    #[test]
    fn old_deltas_are_ignored_and_leave_the_state() {
        let mut m = Mirror::default();
        m.apply(&snapshot(9));
        assert_eq!(m.apply(&delta(5, 7)), Applied::Ignored);
        assert_eq!(m.apply(&delta(7, 9)), Applied::Ignored);
        assert_eq!(m.state.counters.reported_total, 9);
    }

    #[test]
    fn a_skipped_delta_is_a_gap() {
        let mut m = Mirror::default();
        m.apply(&snapshot(5));
        assert_eq!(m.apply(&delta(6, 8)), Applied::Gap);
        assert_eq!(m.seq, Some(5), "a gap must not move the mirror");
    }

    #[test]
    fn a_heartbeat_ahead_of_the_wall_is_a_gap() {
        let mut m = Mirror::default();
        m.apply(&snapshot(5));
        let hb = |seq| ServerMsg::Heartbeat {
            server_time_ms: 0,
            seq,
            log_seq: seq,
            writes_failing: None,
        };
        assert_eq!(m.apply(&hb(5)), Applied::Updated);
        assert_eq!(m.apply(&hb(6)), Applied::Gap);
    }

    #[test]
    fn changes_carry_only_what_moved_and_rebuild_the_state() {
        let mut before = WallState::default();
        before.by_category.insert(
            "ecology".into(),
            Tally {
                open: 1,
                ..Tally::default()
            },
        );
        before.by_district.insert(
            "230602".into(),
            Tally {
                open: 1,
                ..Tally::default()
            },
        );
        let mut after = before.clone();
        after.counters.open = 2;
        after.by_category.insert(
            "ecology".into(),
            Tally {
                open: 2,
                ..Tally::default()
            },
        );
        after.by_category.insert(
            "fire_safety".into(),
            Tally {
                open: 1,
                ..Tally::default()
            },
        );
        let changes = after.changes_since(&before);
        assert_eq!(changes.len(), 3, "{changes:?}");
        let mut gone = after.clone();
        gone.by_district.clear();
        let removal = gone.changes_since(&after);
        assert_eq!(
            removal,
            vec![Change::District(Keyed {
                key: "230602".into(),
                value: None
            })]
        );
        assert!(!changes.iter().any(|c| matches!(c, Change::District(_))));
        let mut mirror = before.clone();
        mirror.apply(&changes);
        assert_eq!(mirror, after);
        assert!(after.changes_since(&after).is_empty());
    }

    #[test]
    fn the_latest_cases_keep_the_last_moved_and_travel_as_keyed_changes() {
        let case = |case_id: i64, seq: u64| LatestCase {
            case_id,
            seq,
            category: "ecology".into(),
            sub_item: None,
            grid_id: Some("G1".into()),
            state: CaseState::Reported,
            supervision: Supervision::None,
            department: None,
            moved_ms: seq as i64,
        };
        let mut state = WallState::default();
        for id in 1..=LATEST_CASES as i64 {
            LatestCase::keep(&mut state.latest, case(id, id as u64));
        }
        let before = state.clone();
        // Case 1 moves again: it stays, and nothing leaves.
        LatestCase::keep(&mut state.latest, case(1, 100));
        assert_eq!(state.latest.len(), LATEST_CASES);
        // A new case pushes out the one that moved least recently, case 2.
        LatestCase::keep(&mut state.latest, case(99, 101));
        assert_eq!(state.latest.len(), LATEST_CASES);
        assert!(!state.latest.contains_key(&LatestCase::key(2)));
        let changes = state.changes_since(&before);
        assert_eq!(changes.len(), 3, "{changes:?}");
        assert!(changes.contains(&Change::Latest(Keyed {
            key: LatestCase::key(2),
            value: None
        })));
        let mut mirror = before.clone();
        mirror.apply(&changes);
        assert_eq!(mirror, state);
        let json = serde_json::to_string(&changes).expect("serialise");
        assert!(json.contains(r#""kind":"latest""#), "{json}");
        let back: Vec<Change> = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, changes);
    }

    #[test]
    fn a_grid_covers_its_visited_households() {
        let g = GridTally {
            households: 200,
            households_visited_month: 50,
            ..GridTally::default()
        };
        assert!((g.coverage() - 0.25).abs() < 1e-12);
        assert_eq!(GridTally::default().coverage(), 0.0);
    }

    #[test]
    fn closure_rate_is_a_ratio() {
        let c = Counters {
            reported_total: 75_000,
            closed: 69_750,
            ..Counters::default()
        };
        assert!((c.closure_rate() - 0.93).abs() < 1e-12);
        assert_eq!(Counters::default().closure_rate(), 0.0);
    }

    #[test]
    fn messages_are_tagged_json() {
        let json = serde_json::to_string(&ServerMsg::Heartbeat {
            server_time_ms: 7,
            seq: 3,
            log_seq: 2,
            writes_failing: None,
        })
        .expect("serialise");
        assert_eq!(
            json,
            r#"{"type":"heartbeat","server_time_ms":7,"seq":3,"log_seq":2}"#
        );
        let back: ClientMsg = serde_json::from_str(r#"{"type":"snapshot"}"#).expect("parse");
        assert_eq!(back, ClientMsg::Snapshot);
    }

    #[test]
    fn a_heartbeat_says_when_writes_are_failing() {
        let beat = ServerMsg::Heartbeat {
            server_time_ms: 7,
            seq: 3,
            log_seq: 2,
            writes_failing: Some(WritesFailing {
                trouble: WriteTrouble::DiskFull,
                since_ms: 5,
            }),
        };
        let json = serde_json::to_string(&beat).expect("serialise");
        assert_eq!(
            json,
            r#"{"type":"heartbeat","server_time_ms":7,"seq":3,"log_seq":2,"writes_failing":{"trouble":"disk_full","since_ms":5}}"#
        );
        assert_eq!(
            serde_json::from_str::<ServerMsg>(&json).expect("parse"),
            beat
        );
    }

    #[test]
    fn a_hello_from_another_stream_forgets_the_sequence() {
        let hello = |stream: &str| ServerMsg::Hello {
            protocol: crate::PROTOCOL_VERSION,
            server_version: "test".into(),
            scope: Scope::City,
            stream: stream.into(),
        };
        let mut m = Mirror::default();
        m.apply(&hello("a"));
        m.apply(&snapshot(5));
        m.apply(&hello("a"));
        assert_eq!(m.seq, Some(5), "the same stream keeps its place");
        m.apply(&hello("b"));
        assert_eq!(m.seq, None);
        assert_eq!(m.apply(&delta(5, 6)), Applied::Gap);
    }

    #[test]
    fn a_hello_for_another_scope_forgets_the_sequence() {
        let hello = |scope: Scope| ServerMsg::Hello {
            protocol: crate::PROTOCOL_VERSION,
            server_version: "test".into(),
            scope,
            stream: "a".into(),
        };
        let mut m = Mirror::default();
        m.apply(&hello(Scope::City));
        m.apply(&snapshot(5));
        m.apply(&hello(Scope::City));
        assert_eq!(m.seq, Some(5), "the same scope keeps its place");
        m.apply(&hello(Scope::District("230602".into())));
        assert_eq!(m.seq, None, "a followed wall switched scope");
        assert_eq!(m.apply(&delta(5, 6)), Applied::Gap);
    }

    #[test]
    fn a_snapshot_with_warnings_round_trips_through_json() {
        let mut state = WallState::default();
        state.warnings.insert(
            Warning::key(60),
            Warning {
                case_id: 60,
                level: WarningLevel::Overdue,
                category: "ecology".into(),
                sub_item: None,
                grid_id: None,
                department: Some("D01".into()),
                deadline_ms: Some(1),
                updated_ms: 2,
            },
        );
        let msg = ServerMsg::Snapshot {
            seq: 1,
            log_seq: 1,
            server_time_ms: 0,
            state,
        };
        let text = serde_json::to_string(&msg).expect("serialise");
        let back: ServerMsg = serde_json::from_str(&text).expect("parse");
        assert_eq!(back, msg);
    }

    #[test]
    fn parts_are_held_until_their_frame_and_dropped_otherwise() {
        let mut full = WallState::default();
        for i in 0..5 {
            full.by_grid.insert(
                format!("G{i}"),
                GridTally {
                    open: i,
                    ..GridTally::default()
                },
            );
        }
        full.counters.open = 10;
        let (base, entries) = split_snapshot(&full);
        assert!(base.by_grid.is_empty());
        assert_eq!(entries.len(), 5);
        let mut m = Mirror::default();
        let part = |seq, changes: &[Change]| ServerMsg::Part {
            seq,
            changes: changes.to_vec(),
        };
        // Parts of a frame that never came are dropped when another frame's parts begin.
        assert_eq!(m.apply(&part(3, &entries[..1])), Applied::Ignored);
        assert_eq!(m.apply(&part(4, &entries[..2])), Applied::Ignored);
        assert_eq!(m.apply(&part(4, &entries[2..])), Applied::Ignored);
        let snapshot = ServerMsg::Snapshot {
            seq: 4,
            log_seq: 9,
            server_time_ms: 0,
            state: base,
        };
        assert_eq!(m.apply(&snapshot), Applied::Updated);
        assert_eq!(m.state, full);
        // A delta with parts: the parts and the delta's own changes apply together.
        let mut next = full.clone();
        next.counters.open = 11;
        next.by_grid.remove("G0");
        let changes = next.changes_since(&full);
        assert_eq!(changes.len(), 2);
        m.apply(&part(5, &changes[1..]));
        let delta = ServerMsg::Delta {
            prev_seq: 4,
            seq: 5,
            log_seq: 10,
            changes: changes[..1].to_vec(),
        };
        assert_eq!(m.apply(&delta), Applied::Updated);
        assert_eq!(m.state, next);
    }
}
