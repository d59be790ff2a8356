//! The aggregate: one scope's wall state and the fold that advances it by one event, with
//! constant work per event and no reads of the tables.
//!
//! Besides the state the walls see, an aggregate keeps the windows that time moves on: report
//! counts per district and hour for the last week (the 24-hour trend and the surges), the
//! reports of the last 24 hours by grid and sub-item (the hotspots), and who was active and
//! which households were visited (today's team and this month's coverage, of the scope and of
//! each grid). The hub moves the
//! windows on with [`Aggregate::advance`] as the clock passes an hour or a day, even when
//! nothing happens.

use crate::event::{Committed, Facts, Visit};
use serde::{Deserialize, Serialize};
use shared::case::{Action, Bucket, CaseState, Supervision};
use shared::time::{local_day, local_hour, month_start_day};
use shared::wall::{
    Alert, DeptTally, GridTally, Hotspot, Hourly, LatestCase, People, Surge, Tally, TeamKind,
    WallState, Warning, WarningLevel,
};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Hours in the trend on the wall.
pub const TREND_HOURS: i64 = 24;
/// Hours that make a district's usual rate: the week before the hour in progress.
pub const USUAL_HOURS: i64 = 168;
/// A grid is a hotspot with this many reports of one sub-item within the trend's 24 hours.
pub const HOTSPOT_REPORTS: u64 = 3;
/// A district surges when the hour in progress has this many times its usual rate...
pub const SURGE_FACTOR: u64 = 3;
/// ...and at least this many reports, so that two reports in a quiet night are no alarm.
pub const SURGE_MIN_REPORTS: u64 = 5;

/// Where a grid is, for folding its events into areas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridPlace {
    pub street: String,
    pub district: String,
}

/// The facts of the city that events do not change, that the fold needs.
#[derive(Debug, Clone, Default)]
pub struct CityFacts {
    pub grids: HashMap<String, GridPlace>,
    /// Each team member's kind (`grid_worker`, `volunteer`, ...).
    pub member_kinds: HashMap<i64, String>,
}

/// One scope's state and windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    pub state: WallState,
    pub utc_offset_minutes: i32,
    /// Reports by district and local hour, for the hours from `hour - USUAL_HOURS` on.
    report_hours: BTreeMap<String, BTreeMap<i64, u64>>,
    /// Reports of the last `TREND_HOURS` hours that name a sub-item: hour → (grid, sub-item).
    recent_reports: BTreeMap<i64, Vec<(String, String)>>,
    /// The counts of `recent_reports` by (grid, sub-item), rebuilt from it after loading.
    #[serde(skip)]
    hotspot_counts: HashMap<(String, String), u64>,
    /// Households visited this month, as `GRID/ADDRESS`.
    households_visited: HashSet<String>,
    /// Members active today, by kind.
    active_today: BTreeMap<String, HashSet<i64>>,
}

/// The entry for `key`, made when missing: a lookup without allocating a key on the hot path,
/// where almost every key is already there.
fn slot<'a, V: Default>(map: &'a mut BTreeMap<String, V>, key: &str) -> &'a mut V {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), V::default());
    }
    map.get_mut(key).expect("the entry was just made")
}

/// Calls `f` on each tally a transition's case counts in: its category's, its sub-item's, and
/// its district's and street's.
fn each_tally(
    st: &mut WallState,
    t: &Committed,
    place: Option<&GridPlace>,
    mut f: impl FnMut(&mut Tally),
) {
    f(slot(&mut st.by_category, t.category.code()));
    if let Some(item) = &t.sub_item {
        f(slot(&mut st.by_sub_item, item));
    }
    if let Some(place) = place {
        f(slot(&mut st.by_district, &place.district));
        f(slot(&mut st.by_street, &place.street));
    }
}

fn tidy<K: Ord, V: Default + PartialEq>(map: &mut BTreeMap<K, V>, key: &K) {
    if map.get(key).is_some_and(|v| *v == V::default()) {
        map.remove(key);
    }
}

fn add(slot: &mut u64, delta: i64) {
    *slot = slot.saturating_add_signed(delta);
}

/// How one case in given facts counts: open or not, overdue or not, and so on.
struct Standing<'a> {
    state: CaseState,
    open: bool,
    overdue: bool,
    warned: bool,
    department: Option<&'a str>,
}

impl<'a> Standing<'a> {
    fn of(f: &'a Facts) -> Standing<'a> {
        let open = f.state.bucket() == Bucket::Open;
        Standing {
            state: f.state,
            open,
            overdue: open && f.supervision == Supervision::Overdue,
            // A warning matters while the department's clock runs; once the department has
            // resolved the case in time, it is no longer at risk.
            warned: f.state.clock_runs() && f.supervision == Supervision::Warned,
            department: f.department.as_deref(),
        }
    }
}

/// The level at which a case in these facts stands on the warning list, if it does.
pub fn warning_level(f: &Facts) -> Option<WarningLevel> {
    if f.state.bucket() != Bucket::Open {
        return None;
    }
    if f.state == CaseState::Escalated {
        return Some(WarningLevel::Escalated);
    }
    match f.supervision {
        Supervision::Overdue => Some(WarningLevel::Overdue),
        Supervision::Warned if f.state.clock_runs() => Some(WarningLevel::Warned),
        Supervision::Warned | Supervision::None => None,
    }
}

impl Aggregate {
    /// An empty aggregate on local day `day` and hour `hour`.
    pub fn empty(day: i64, hour: i64, utc_offset_minutes: i32) -> Aggregate {
        let mut agg = Aggregate {
            state: WallState {
                day,
                hourly: Hourly {
                    hour,
                    counts: vec![0; TREND_HOURS as usize],
                },
                ..WallState::default()
            },
            utc_offset_minutes,
            report_hours: BTreeMap::new(),
            recent_reports: BTreeMap::new(),
            hotspot_counts: HashMap::new(),
            households_visited: HashSet::new(),
            active_today: BTreeMap::new(),
        };
        agg.refresh_hourly();
        agg
    }

    /// Sets the figures that do not come from events: people and housing, and the team's size.
    pub fn set_static(&mut self, people: People, team: &BTreeMap<String, u64>) {
        let p = &mut self.state.people;
        p.residents = people.residents;
        p.households = people.households;
        p.houses = people.houses;
        p.organisations = people.organisations;
        p.key_places = people.key_places;
        for (kind, members) in team {
            self.state.team.entry(kind.clone()).or_default().members = *members;
        }
    }

    /// Sets the households of the scope's grids, for the map's coverage: `grids` are every
    /// grid of the scope with its households. Grids left with nothing to show are dropped.
    pub fn set_grid_households<'a>(&mut self, grids: impl IntoIterator<Item = (&'a str, u64)>) {
        let by_grid = &mut self.state.by_grid;
        // Clear first, so that a grid whose households went to none since the state was saved
        // does not keep the old figure.
        for g in by_grid.values_mut() {
            g.households = 0;
        }
        for (grid, households) in grids {
            if households > 0 {
                slot(by_grid, grid).households = households;
            }
        }
        by_grid.retain(|_, g| *g != GridTally::default());
    }

    /// Recomputes what is not saved with the aggregate, after loading it.
    pub fn after_load(&mut self) {
        self.hotspot_counts.clear();
        for reports in self.recent_reports.values() {
            for key in reports {
                *self.hotspot_counts.entry(key.clone()).or_default() += 1;
            }
        }
    }

    pub fn hour(&self) -> i64 {
        self.state.hourly.hour
    }

    /// Moves the day and the hour on to those of `now_ms`; never back. Returns the alerts the
    /// move raises (none: a window moving on only retires things).
    pub fn advance(&mut self, now_ms: i64) {
        let day = local_day(now_ms, self.utc_offset_minutes);
        if day > self.state.day {
            let new_month = month_start_day(day) != month_start_day(self.state.day);
            self.state.day = day;
            let c = &mut self.state.counters;
            c.reported_today = 0;
            c.closed_today = 0;
            c.reported_today_closed = 0;
            for tally in self
                .state
                .by_category
                .values_mut()
                .chain(self.state.by_sub_item.values_mut())
                .chain(self.state.by_district.values_mut())
                .chain(self.state.by_street.values_mut())
            {
                tally.reported_today = 0;
            }
            self.state.people.visits_today = 0;
            self.active_today.clear();
            for kind in self.state.team.values_mut() {
                kind.active_today = 0;
            }
            if new_month {
                self.state.people.visits_month = 0;
                self.state.people.households_visited_month = 0;
                self.households_visited.clear();
                // Once a month, every grid of the scope: the coverage starts again.
                for g in self.state.by_grid.values_mut() {
                    g.households_visited_month = 0;
                }
                self.state.by_grid.retain(|_, g| *g != GridTally::default());
            }
            // Tallies whose only figure was today's are gone now.
            self.state.by_category.retain(|_, t| *t != Tally::default());
            self.state.by_sub_item.retain(|_, t| *t != Tally::default());
            self.state.by_district.retain(|_, t| *t != Tally::default());
            self.state.by_street.retain(|_, t| *t != Tally::default());
            self.state.team.retain(|_, t| *t != TeamKind::default());
        }
        let hour = local_hour(now_ms, self.utc_offset_minutes);
        if hour > self.hour() {
            self.state.hourly.hour = hour;
            let oldest_kept = hour - USUAL_HOURS;
            for hours in self.report_hours.values_mut() {
                *hours = hours.split_off(&oldest_kept);
            }
            self.report_hours.retain(|_, h| !h.is_empty());
            let trend_start = hour - TREND_HOURS + 1;
            let kept = self.recent_reports.split_off(&trend_start);
            for reports in std::mem::replace(&mut self.recent_reports, kept).into_values() {
                for key in reports {
                    self.uncount_hotspot(key);
                }
            }
            self.refresh_hourly();
            self.refresh_surges();
        }
    }

    fn uncount_hotspot(&mut self, key: (String, String)) {
        if let Some(n) = self.hotspot_counts.get_mut(&key) {
            *n -= 1;
            let n = *n;
            if n == 0 {
                self.hotspot_counts.remove(&key);
            }
            let hotspot_key = Hotspot::key(&key.0, &key.1);
            if n >= HOTSPOT_REPORTS {
                if let Some(h) = self.state.hotspots.get_mut(&hotspot_key) {
                    h.count = n;
                }
            } else {
                self.state.hotspots.remove(&hotspot_key);
            }
        }
    }

    /// The 24-hour trend, from the hourly counts of every district.
    fn refresh_hourly(&mut self) {
        let hour = self.hour();
        let mut counts = vec![0; TREND_HOURS as usize];
        for hours in self.report_hours.values() {
            for (h, n) in hours.range(hour - TREND_HOURS + 1..=hour) {
                counts[(h - (hour - TREND_HOURS + 1)) as usize] += n;
            }
        }
        self.state.hourly.counts = counts;
    }

    /// Re-derives the surge of every district.
    fn refresh_surges(&mut self) {
        let districts: std::collections::BTreeSet<String> = self
            .report_hours
            .keys()
            .chain(self.state.surges.keys())
            .filter(|d| !d.is_empty())
            .cloned()
            .collect();
        for district in districts {
            self.refresh_surge(&district);
        }
    }

    /// Re-derives the surge of one district, returning an alert when it begins to surge.
    fn refresh_surge(&mut self, district: &str) -> Option<Alert> {
        let hour = self.hour();
        let (this_hour, week) = match self.report_hours.get(district) {
            Some(hours) => (
                hours.get(&hour).copied().unwrap_or(0),
                hours
                    .range(hour - USUAL_HOURS..hour)
                    .map(|(_, n)| n)
                    .sum::<u64>(),
            ),
            None => (0, 0),
        };
        // this hour >= factor × week / 168, in integers.
        if this_hour >= SURGE_MIN_REPORTS && this_hour * USUAL_HOURS as u64 >= SURGE_FACTOR * week {
            let surge = Surge {
                district: district.to_owned(),
                this_hour,
                week,
            };
            let alert =
                (!self.state.surges.contains_key(district)).then(|| Alert::Surge(surge.clone()));
            match self.state.surges.get_mut(district) {
                Some(slot) => *slot = surge,
                None => {
                    self.state.surges.insert(district.to_owned(), surge);
                }
            }
            alert
        } else {
            self.state.surges.remove(district);
            None
        }
    }

    /// Counts one report into the hourly windows. Reports older than the windows count in
    /// the totals only.
    pub fn count_report(
        &mut self,
        at_ms: i64,
        district: Option<&str>,
        grid_id: Option<&str>,
        sub_item: Option<&str>,
        alerts: &mut Vec<Alert>,
    ) {
        let hour = local_hour(at_ms, self.utc_offset_minutes);
        if hour > self.hour() {
            self.advance(at_ms);
        }
        let now = self.hour();
        if hour < now - USUAL_HOURS {
            return;
        }
        let district_key = district.unwrap_or("");
        *slot(&mut self.report_hours, district_key)
            .entry(hour)
            .or_default() += 1;
        if hour > now - TREND_HOURS {
            self.state.hourly.counts[(hour - (now - TREND_HOURS + 1)) as usize] += 1;
            if let (Some(grid), Some(item)) = (grid_id, sub_item) {
                // The common case, a grid and sub-item already counted, allocates nothing
                // but the window's entry.
                let key = (grid.to_owned(), item.to_owned());
                let n = match self.hotspot_counts.get_mut(&key) {
                    Some(n) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        self.hotspot_counts.insert(key.clone(), 1);
                        1
                    }
                };
                self.recent_reports.entry(hour).or_default().push(key);
                if n >= HOTSPOT_REPORTS {
                    let hotspot_key = Hotspot::key(grid, item);
                    match self.state.hotspots.get_mut(&hotspot_key) {
                        Some(h) => h.count = n,
                        None => {
                            let hotspot = Hotspot {
                                grid_id: grid.to_owned(),
                                sub_item: item.to_owned(),
                                count: n,
                            };
                            if n == HOTSPOT_REPORTS {
                                alerts.push(Alert::Hotspot(hotspot.clone()));
                            }
                            self.state.hotspots.insert(hotspot_key, hotspot);
                        }
                    }
                }
            }
        }
        if let Some(district) = district
            && let Some(alert) = self.refresh_surge(district)
        {
            alerts.push(alert);
        }
    }

    /// Counts a case in `facts` into (`sign` 1) or out of (`sign` -1) every figure that
    /// depends on where the case stands now.
    fn count_standing(&mut self, t: &Committed, place: Option<&GridPlace>, f: &Facts, sign: i64) {
        let s = Standing::of(f);
        let st = &mut self.state;
        let c = &mut st.counters;
        match f.state.bucket() {
            Bucket::Open => add(&mut c.open, sign),
            Bucket::Closed => add(&mut c.closed, sign),
            Bucket::Rejected => add(&mut c.rejected, sign),
        }
        if s.warned {
            add(&mut c.warned, sign);
        }
        if s.overdue {
            add(&mut c.overdue, sign);
        }
        if s.state == CaseState::Escalated {
            add(&mut c.escalated, sign);
        }
        let state_key = s.state.code();
        add(slot(&mut st.by_state, state_key), sign);
        if st.by_state.get(state_key) == Some(&0) {
            st.by_state.remove(state_key);
        }

        let count = |tally: &mut Tally| {
            if s.open {
                add(&mut tally.open, sign);
            }
            if s.state == CaseState::Closed {
                add(&mut tally.closed, sign);
            }
            if s.overdue {
                add(&mut tally.overdue, sign);
            }
        };
        each_tally(st, t, place, count);
        if let Some(grid) = &t.grid_id {
            let g = slot(&mut st.by_grid, grid);
            if s.open {
                add(&mut g.open, sign);
            }
            if s.overdue {
                add(&mut g.overdue, sign);
            }
        }
        if let Some(dept) = s.department
            && s.open
        {
            let d = slot(&mut st.by_department, dept);
            add(&mut d.open, sign);
            if s.overdue {
                add(&mut d.overdue, sign);
            }
            if st.by_department.get(dept) == Some(&DeptTally::default()) {
                st.by_department.remove(dept);
            }
        }
    }

    /// Folds one committed transition into this scope.
    pub fn fold(&mut self, t: &Committed, city: &CityFacts, alerts: &mut Vec<Alert>) {
        let place = t.grid_id.as_ref().and_then(|g| city.grids.get(g));
        self.advance(t.at_ms);
        let today = local_day(t.at_ms, self.utc_offset_minutes) == self.state.day;
        let reported_today = local_day(t.reported_at_ms, self.utc_offset_minutes) == self.state.day;
        if let Some(before) = &t.before {
            self.count_standing(t, place, before, -1);
        } else {
            // A report: the case's totals and the hourly windows.
            let st = &mut self.state;
            st.counters.reported_total += 1;
            let count = |tally: &mut Tally| {
                tally.reported_total += 1;
                if today {
                    tally.reported_today += 1;
                }
            };
            each_tally(st, t, place, count);
            if let Some(grid) = &t.grid_id {
                slot(&mut st.by_grid, grid).reported_total += 1;
            }
            if today {
                st.counters.reported_today += 1;
            }
            self.count_report(
                t.at_ms,
                place.map(|p| p.district.as_str()),
                t.grid_id.as_deref(),
                t.sub_item.as_deref(),
                alerts,
            );
            if today && let Some(member) = t.reporter_id {
                self.mark_active(member, city);
            }
        }
        self.count_standing(t, place, &t.after, 1);

        let st = &mut self.state;
        if let Some(grid) = &t.grid_id {
            let g = slot(&mut st.by_grid, grid);
            g.last_ms = g.last_ms.max(t.at_ms);
        }
        let was_closed = t.from_state() == Some(CaseState::Closed);
        let is_closed = t.after.state == CaseState::Closed;
        if reported_today && was_closed != is_closed {
            add(
                &mut st.counters.reported_today_closed,
                if is_closed { 1 } else { -1 },
            );
        }
        if t.action == Action::Close {
            if today {
                st.counters.closed_today += 1;
            }
            if let Some(dept) = &t.after.department {
                let d = slot(&mut st.by_department, dept);
                d.closures += 1;
                if t.after.supervision != Supervision::Overdue {
                    d.closures_on_time += 1;
                }
                d.handling_ms += (t.at_ms - t.reported_at_ms).max(0) as u64;
            }
        }
        // The warning list.
        match warning_level(&t.after) {
            Some(level) => {
                let warning = Warning {
                    case_id: t.case_id,
                    level,
                    category: t.category.code().to_owned(),
                    sub_item: t.sub_item.clone(),
                    grid_id: t.grid_id.clone(),
                    department: t.after.department.clone(),
                    deadline_ms: t.after.deadline_ms,
                    updated_ms: t.at_ms,
                };
                let before = t.before.as_ref().and_then(warning_level);
                if before.is_none_or(|b| b < level) {
                    alerts.push(Alert::Warning(warning.clone()));
                }
                st.warnings.insert(Warning::key(t.case_id), warning);
            }
            None => {
                st.warnings.remove(&Warning::key(t.case_id));
            }
        }
        // The latest cases: this transition is the newest of the scope, so its case goes in
        // and, if the list is full, the case that moved least recently goes out.
        LatestCase::keep(
            &mut st.latest,
            LatestCase {
                case_id: t.case_id,
                seq: t.seq,
                category: t.category.code().to_owned(),
                sub_item: t.sub_item.clone(),
                grid_id: t.grid_id.clone(),
                state: t.after.state,
                supervision: t.after.supervision,
                department: t.after.department.clone(),
                moved_ms: t.at_ms,
            },
        );
        if st.by_category.get(t.category.code()) == Some(&Tally::default()) {
            st.by_category.remove(t.category.code());
        }
        if let Some(item) = &t.sub_item {
            tidy(&mut st.by_sub_item, item);
        }
        if let Some(place) = place {
            tidy(&mut st.by_district, &place.district);
            tidy(&mut st.by_street, &place.street);
        }
    }

    fn mark_active(&mut self, member: i64, city: &CityFacts) {
        // Members the city does not know (for example reports by outside apps) are not counted.
        let Some(kind) = city.member_kinds.get(&member) else {
            return;
        };
        if self
            .active_today
            .entry(kind.clone())
            .or_default()
            .insert(member)
        {
            self.state
                .team
                .entry(kind.clone())
                .or_default()
                .active_today += 1;
        }
    }

    /// Folds one house visit into this scope.
    pub fn fold_visit(&mut self, v: &Visit, city: &CityFacts) {
        if self.count_visit(v, city) {
            slot(&mut self.state.by_grid, &v.grid_id).households_visited_month += 1;
        }
    }

    /// Counts one house visit into the scope's figures; returns whether it is this month's
    /// first visit to its household.
    fn count_visit(&mut self, v: &Visit, city: &CityFacts) -> bool {
        self.advance(v.at_ms);
        let day = local_day(v.at_ms, self.utc_offset_minutes);
        if month_start_day(day) != month_start_day(self.state.day) {
            return false;
        }
        let p = &mut self.state.people;
        p.visits_month += 1;
        // A household is an address within its grid ("3栋2单元501室"), so the grid is part of
        // its identity: the same address in two grids is two households.
        let first = self
            .households_visited
            .insert(format!("{}/{}", v.grid_id, v.household));
        if first {
            p.households_visited_month += 1;
        }
        if day == self.state.day {
            p.visits_today += 1;
            self.mark_active(v.member_id, city);
        }
        first
    }

    /// Adds `n` cases standing in `facts` with the given fixed facts, as the rebuild reads
    /// them from the tables grouped. This is the rebuild's own arithmetic, kept apart from the
    /// fold so that the check compares two independent computations.
    #[allow(clippy::too_many_arguments)]
    pub fn add_cases(
        &mut self,
        n: u64,
        facts: &Facts,
        category: &str,
        sub_item: Option<&str>,
        grid_id: Option<&str>,
        place: Option<&GridPlace>,
        reported_today: u64,
        reported_today_closed: u64,
        last_ms: i64,
    ) {
        let s = Standing::of(facts);
        let open = if s.open { n } else { 0 };
        let closed = if s.state == CaseState::Closed { n } else { 0 };
        let overdue = if s.overdue { n } else { 0 };
        let st = &mut self.state;
        let c = &mut st.counters;
        c.reported_total += n;
        c.reported_today += reported_today;
        c.reported_today_closed += reported_today_closed;
        c.open += open;
        c.closed += closed;
        if s.state == CaseState::Rejected {
            c.rejected += n;
        }
        if s.warned {
            c.warned += n;
        }
        c.overdue += overdue;
        if s.state == CaseState::Escalated {
            c.escalated += n;
        }
        *st.by_state.entry(s.state.code().to_owned()).or_default() += n;
        let add = |t: &mut Tally| {
            t.reported_total += n;
            t.reported_today += reported_today;
            t.open += open;
            t.closed += closed;
            t.overdue += overdue;
        };
        add(st.by_category.entry(category.to_owned()).or_default());
        if let Some(item) = sub_item {
            add(st.by_sub_item.entry(item.to_owned()).or_default());
        }
        if let Some(place) = place {
            add(st.by_district.entry(place.district.clone()).or_default());
            add(st.by_street.entry(place.street.clone()).or_default());
        }
        if let Some(grid) = grid_id {
            let g = st.by_grid.entry(grid.to_owned()).or_default();
            g.reported_total += n;
            g.open += open;
            g.overdue += overdue;
            g.last_ms = g.last_ms.max(last_ms);
        }
        if let Some(dept) = s.department
            && s.open
        {
            let d = st.by_department.entry(dept.to_owned()).or_default();
            d.open += n;
            d.overdue += overdue;
        }
    }

    /// Adds closures of a department, as the rebuild reads them from the log.
    pub fn add_closures(
        &mut self,
        department: &str,
        closures: u64,
        on_time: u64,
        handling_ms: u64,
    ) {
        let d = self
            .state
            .by_department
            .entry(department.to_owned())
            .or_default();
        d.closures += closures;
        d.closures_on_time += on_time;
        d.handling_ms += handling_ms;
    }

    /// Adds one case on the warning list, as the rebuild reads it.
    pub fn add_warning(&mut self, warning: Warning) {
        self.state
            .warnings
            .insert(Warning::key(warning.case_id), warning);
    }

    /// Adds one closure today, as the rebuild counts them.
    pub fn add_closed_today(&mut self, n: u64) {
        self.state.counters.closed_today += n;
    }

    /// Adds one house visit, as the rebuild reads it. Only this month's visits are given. The
    /// grid's figure comes apart, from [`Aggregate::add_grid_visited`].
    pub fn add_visit(&mut self, v: &Visit, city: &CityFacts) {
        self.count_visit(v, city);
    }

    /// Adds the households of a grid visited this month, as the rebuild counts them.
    pub fn add_grid_visited(&mut self, grid: &str, households: u64) {
        if households > 0 {
            slot(&mut self.state.by_grid, grid).households_visited_month += households;
        }
    }

    /// Adds one of the latest cases, as the rebuild reads them: the rows may come in any
    /// order, and the list keeps the [`shared::wall::LATEST_CASES`] with the highest `seq`.
    pub fn add_latest(&mut self, case: LatestCase) {
        LatestCase::keep(&mut self.state.latest, case);
    }

    /// Adds the activity of a member who reported a case today.
    pub fn add_active_reporter(&mut self, member: i64, city: &CityFacts) {
        self.mark_active(member, city);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::case::Category;
    use shared::time::{DEFAULT_UTC_OFFSET_MINUTES as OFFSET, HOUR_MS, local_day_start_ms};

    const DAY: i64 = 20_786;

    fn at(day: i64, hour: i64) -> i64 {
        local_day_start_ms(day, OFFSET) + hour * HOUR_MS
    }

    fn city() -> CityFacts {
        let mut city = CityFacts::default();
        for (grid, street, district) in [("G1", "S1", "D1"), ("G2", "S2", "D2")] {
            city.grids.insert(
                grid.to_owned(),
                GridPlace {
                    street: street.to_owned(),
                    district: district.to_owned(),
                },
            );
        }
        city.member_kinds.insert(7, "grid_worker".to_owned());
        city
    }

    fn facts(state: CaseState, supervision: Supervision, department: Option<&str>) -> Facts {
        Facts {
            state,
            department: department.map(str::to_owned),
            supervision,
            deadline_ms: department.map(|_| 1_000),
        }
    }

    fn report(case_id: i64, grid: &str, sub_item: &str, at_ms: i64) -> Committed {
        Committed {
            seq: case_id as u64,
            case_id,
            action: Action::Report,
            before: None,
            after: facts(CaseState::Reported, Supervision::None, None),
            at_ms,
            category: Category::MunicipalFacilities,
            sub_item: Some(sub_item.to_owned()),
            grid_id: Some(grid.to_owned()),
            reported_at_ms: at_ms,
            reporter_id: Some(7),
            committed_at: std::time::Instant::now(),
        }
    }

    fn moved(r: &Committed, action: Action, before: Facts, after: Facts, at_ms: i64) -> Committed {
        Committed {
            action,
            before: Some(before),
            after,
            at_ms,
            ..r.clone()
        }
    }

    #[test]
    fn a_report_counts_everywhere_and_marks_its_reporter_active() {
        let city = city();
        let mut agg = Aggregate::empty(DAY, local_hour(at(DAY, 9), OFFSET), OFFSET);
        agg.set_static(People::default(), &[("grid_worker".to_owned(), 3)].into());
        let mut alerts = Vec::new();
        agg.fold(&report(1, "G1", "0801", at(DAY, 9)), &city, &mut alerts);
        let s = &agg.state;
        let c = s.counters;
        assert_eq!((c.reported_total, c.reported_today, c.open), (1, 1, 1));
        assert_eq!(s.by_state["reported"], 1);
        assert_eq!(s.by_sub_item["0801"].open, 1);
        assert_eq!(s.by_district["D1"].reported_today, 1);
        assert_eq!(s.by_street["S1"].open, 1);
        assert_eq!(s.by_grid["G1"].last_ms, at(DAY, 9));
        assert_eq!(s.hourly.counts[23], 1);
        assert_eq!(
            s.team["grid_worker"],
            TeamKind {
                members: 3,
                active_today: 1
            }
        );
        assert!(alerts.is_empty());
    }

    #[test]
    fn a_late_closure_counts_against_the_department_and_today_stays_truthful() {
        let city = city();
        let mut agg = Aggregate::empty(DAY, local_hour(at(DAY, 8), OFFSET), OFFSET);
        let r = report(1, "G1", "0801", at(DAY, 8));
        let mut alerts = Vec::new();
        agg.fold(&r, &city, &mut alerts);
        let dispatched = facts(CaseState::Dispatched, Supervision::None, Some("D01"));
        let overdue = facts(CaseState::Dispatched, Supervision::Overdue, Some("D01"));
        agg.fold(
            &moved(
                &r,
                Action::Dispatch,
                r.after.clone(),
                dispatched.clone(),
                at(DAY, 9),
            ),
            &city,
            &mut alerts,
        );
        assert_eq!(agg.state.by_department["D01"].open, 1);
        agg.fold(
            &moved(
                &r,
                Action::Supervise,
                dispatched,
                overdue.clone(),
                at(DAY, 10),
            ),
            &city,
            &mut alerts,
        );
        assert_eq!(agg.state.counters.overdue, 1);
        assert_eq!(agg.state.by_grid["G1"].overdue, 1);
        assert_eq!(agg.state.warnings["1"].level, WarningLevel::Overdue);
        assert!(matches!(&alerts[..], [Alert::Warning(w)] if w.level == WarningLevel::Overdue));
        let closed = facts(CaseState::Closed, Supervision::Overdue, Some("D01"));
        let mut verified = overdue.clone();
        verified.state = CaseState::Verified;
        agg.fold(
            &moved(&r, Action::Close, verified, closed, at(DAY, 12)),
            &city,
            &mut alerts,
        );
        let s = &agg.state;
        assert_eq!(
            (s.counters.overdue, s.counters.open, s.counters.closed),
            (0, 0, 1)
        );
        assert_eq!(s.counters.closed_today, 1);
        assert_eq!(s.counters.reported_today_closed, 1);
        assert!(s.warnings.is_empty());
        let d = s.by_department["D01"];
        assert_eq!((d.open, d.closures, d.closures_on_time), (0, 1, 0));
        assert_eq!(d.handling_ms, 4 * HOUR_MS as u64);
        assert_eq!(s.by_state.get("reported"), None, "empty states are gone");
    }

    #[test]
    fn the_next_day_resets_today_and_keeps_the_totals() {
        let city = city();
        let mut agg = Aggregate::empty(DAY, local_hour(at(DAY, 23), OFFSET), OFFSET);
        let mut alerts = Vec::new();
        agg.fold(&report(1, "G1", "0801", at(DAY, 23)), &city, &mut alerts);
        agg.fold_visit(
            &Visit {
                id: 1,
                grid_id: "G1".to_owned(),
                member_id: 7,
                household: "1栋".to_owned(),
                at_ms: at(DAY, 23),
            },
            &city,
        );
        agg.advance(at(DAY + 1, 0));
        let s = &agg.state;
        assert_eq!(s.day, DAY + 1);
        assert_eq!(
            (s.counters.reported_total, s.counters.reported_today),
            (1, 0)
        );
        assert_eq!(s.by_category["municipal_facilities"].reported_today, 0);
        assert_eq!(s.people.visits_today, 0);
        // The same month: the visit still counts towards this month's coverage.
        assert_eq!(
            (s.people.visits_month, s.people.households_visited_month),
            (1, 1)
        );
        assert!(s.team.is_empty(), "nobody was active today yet");
        // The trend moved on one hour, keeping yesterday's report in it.
        assert_eq!(s.hourly.counts[22], 1);
        assert_eq!(s.hourly.counts[23], 0);
    }

    #[test]
    fn three_reports_of_one_kind_in_one_grid_make_a_hotspot_until_they_age_out() {
        let city = city();
        let start = at(DAY, 8);
        let mut agg = Aggregate::empty(DAY, local_hour(start, OFFSET), OFFSET);
        let mut alerts = Vec::new();
        for (i, hour) in [8, 9, 10].into_iter().enumerate() {
            agg.fold(
                &report(i as i64 + 1, "G1", "0801", at(DAY, hour)),
                &city,
                &mut alerts,
            );
        }
        agg.fold(&report(9, "G2", "0801", at(DAY, 10)), &city, &mut alerts);
        let key = Hotspot::key("G1", "0801");
        assert_eq!(agg.state.hotspots[&key].count, 3);
        assert_eq!(agg.state.hotspots.len(), 1);
        assert_eq!(
            alerts
                .iter()
                .filter(|a| matches!(a, Alert::Hotspot(_)))
                .count(),
            1,
            "one alert when it starts"
        );
        // 24 hours after the first report, it has left the window.
        agg.advance(at(DAY + 1, 8));
        assert!(agg.state.hotspots.is_empty());
        // A saved and loaded aggregate keeps counting the same way.
        let mut loaded: Aggregate =
            serde_json::from_str(&serde_json::to_string(&agg).expect("save")).expect("load");
        loaded.after_load();
        assert_eq!(loaded, agg);
    }

    #[test]
    fn a_district_at_three_times_its_usual_rate_surges() {
        let city = city();
        let now = at(DAY, 10);
        let mut agg = Aggregate::empty(DAY, local_hour(now, OFFSET), OFFSET);
        let mut alerts = Vec::new();
        // A usual week: one report a day in D1 at 10:00.
        for d in 1..=7 {
            agg.count_report(at(DAY - d, 10), Some("D1"), Some("G1"), None, &mut alerts);
        }
        for i in 0..4 {
            agg.fold(
                &report(i + 1, "G1", "0801", now + i * 60_000),
                &city,
                &mut alerts,
            );
        }
        assert!(agg.state.surges.is_empty(), "four reports are no alarm");
        agg.fold(&report(5, "G1", "0801", now + 300_000), &city, &mut alerts);
        let surge = &agg.state.surges["D1"];
        assert_eq!(surge.this_hour, 5);
        assert_eq!(surge.week, 7);
        assert!((surge.usual_per_hour() - 7.0 / 168.0).abs() < 1e-12);
        assert_eq!(
            alerts
                .iter()
                .filter(|a| matches!(a, Alert::Surge(_)))
                .count(),
            1
        );
        // The next hour starts quiet.
        agg.advance(at(DAY, 11));
        assert!(agg.state.surges.is_empty());
    }

    #[test]
    fn a_warned_case_leaves_the_list_when_its_department_resolves_it() {
        let city = city();
        let mut agg = Aggregate::empty(DAY, local_hour(at(DAY, 8), OFFSET), OFFSET);
        let r = report(1, "G1", "0801", at(DAY, 8));
        let mut alerts = Vec::new();
        agg.fold(&r, &city, &mut alerts);
        let accepted = facts(CaseState::Accepted, Supervision::None, Some("D01"));
        let warned = facts(CaseState::Accepted, Supervision::Warned, Some("D01"));
        let resolved = facts(CaseState::Resolved, Supervision::Warned, Some("D01"));
        let mut dispatched = accepted.clone();
        dispatched.state = CaseState::Dispatched;
        for (action, before, after) in [
            (Action::Dispatch, r.after.clone(), dispatched.clone()),
            (Action::Accept, dispatched, accepted.clone()),
            (Action::Warn, accepted, warned.clone()),
        ] {
            agg.fold(
                &moved(&r, action, before, after, at(DAY, 9)),
                &city,
                &mut alerts,
            );
        }
        assert_eq!(agg.state.counters.warned, 1);
        assert_eq!(agg.state.warnings["1"].level, WarningLevel::Warned);
        agg.fold(
            &moved(&r, Action::Resolve, warned, resolved, at(DAY, 10)),
            &city,
            &mut alerts,
        );
        assert_eq!(agg.state.counters.warned, 0);
        assert!(agg.state.warnings.is_empty());
    }

    fn visit(id: i64, grid: &str, household: &str, at_ms: i64) -> Visit {
        Visit {
            id,
            grid_id: grid.to_owned(),
            member_id: 7,
            household: household.to_owned(),
            at_ms,
        }
    }

    #[test]
    fn each_grid_counts_its_visited_households_until_the_month_ends() {
        let city = city();
        let grids = [("G1", 4), ("G2", 0)];
        let mut agg = Aggregate::empty(DAY, local_hour(at(DAY, 9), OFFSET), OFFSET);
        agg.set_grid_households(grids);
        assert_eq!(
            agg.state.by_grid.len(),
            1,
            "a grid without households is absent"
        );
        let visits = [
            visit(1, "G1", "1栋101室", at(DAY, 9)),
            visit(2, "G1", "1栋101室", at(DAY, 10)),
            visit(3, "G1", "2栋201室", at(DAY, 10)),
            visit(4, "G2", "3栋301室", at(DAY, 11)),
            // Last month's visit counts neither for the scope nor for its grid.
            visit(5, "G1", "4栋401室", at(DAY - 30, 11)),
        ];
        for v in &visits {
            agg.fold_visit(v, &city);
        }
        let g1 = agg.state.by_grid["G1"];
        assert_eq!((g1.households, g1.households_visited_month), (4, 2));
        assert!((g1.coverage() - 0.5).abs() < 1e-12);
        let g2 = agg.state.by_grid["G2"];
        assert_eq!((g2.households, g2.households_visited_month), (0, 1));
        assert_eq!(g2.coverage(), 0.0);
        assert_eq!(agg.state.people.households_visited_month, 3);

        // The rebuild's arithmetic: visits for the scope, the database's count for the grids.
        let mut rebuilt = Aggregate::empty(DAY, local_hour(at(DAY, 9), OFFSET), OFFSET);
        rebuilt.set_grid_households(grids);
        for v in &visits[..4] {
            rebuilt.add_visit(v, &city);
        }
        rebuilt.add_grid_visited("G1", 2);
        rebuilt.add_grid_visited("G2", 1);
        rebuilt.advance(at(DAY, 11));
        assert_eq!(rebuilt.state, agg.state);

        // A new month starts every grid's coverage again; a grid with nothing else is gone.
        let next_month = DAY + 2;
        assert_ne!(month_start_day(next_month), month_start_day(DAY));
        agg.advance(at(next_month, 0));
        assert_eq!(
            agg.state.by_grid.get("G1").copied(),
            Some(GridTally {
                households: 4,
                ..GridTally::default()
            })
        );
        assert!(!agg.state.by_grid.contains_key("G2"));
        agg.fold_visit(&visit(6, "G1", "1栋101室", at(next_month, 8)), &city);
        assert_eq!(agg.state.by_grid["G1"].households_visited_month, 1);
    }

    #[test]
    fn the_latest_cases_are_the_last_moved_and_the_rebuild_finds_the_same() {
        let city = city();
        let mut agg = Aggregate::empty(DAY, local_hour(at(DAY, 8), OFFSET), OFFSET);
        let mut alerts = Vec::new();
        // A seeded walk: 45 cases reported in two grids, moved at random, so that the list
        // overflows and cases leave and come back.
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(6);
        let mut cases: Vec<Committed> = Vec::new();
        let mut seq = 0;
        for step in 0..400 {
            seq += 1;
            let at_ms = at(DAY, 8) + step * 10_000;
            let t = if cases.len() < 45 && rand::Rng::random_bool(&mut rng, 0.3) {
                let grid = if seq % 3 == 0 { "G2" } else { "G1" };
                let mut r = report(cases.len() as i64 + 1, grid, "0801", at_ms);
                r.seq = seq;
                r
            } else if let Some(last) = cases.len().checked_sub(1) {
                let i = rand::Rng::random_range(&mut rng, 0..=last);
                let before = cases[i].after.clone();
                let allowed = before.state.allowed();
                let Some(&action) = rand::seq::IndexedRandom::choose(&allowed[..], &mut rng) else {
                    continue;
                };
                let Ok(state) = before.state.next(action) else {
                    continue;
                };
                let mut after = before.clone();
                after.state = state;
                if action == Action::Dispatch {
                    after.department = Some("D01".to_owned());
                }
                Committed {
                    seq,
                    ..moved(&cases[i], action, before, after, at_ms)
                }
            } else {
                continue;
            };
            agg.fold(&t, &city, &mut alerts);
            match cases.iter_mut().find(|c| c.case_id == t.case_id) {
                Some(c) => *c = t,
                None => cases.push(t),
            }
        }
        assert_eq!(cases.len(), 45);
        let latest = &agg.state.latest;
        assert_eq!(latest.len(), shared::wall::LATEST_CASES);
        // The list holds exactly the cases with the latest last moves, with their facts now.
        let mut by_last: Vec<&Committed> = cases.iter().collect();
        by_last.sort_by_key(|c| std::cmp::Reverse(c.seq));
        for c in &by_last[..shared::wall::LATEST_CASES] {
            let entry = &latest[&LatestCase::key(c.case_id)];
            assert_eq!(
                (entry.seq, entry.state, entry.moved_ms),
                (c.seq, c.after.state, c.at_ms)
            );
        }
        // The rebuild hands the cases over in any order (here: the even places oldest first,
        // then the odd ones newest first, and some twice) and keeps the same ones.
        let mut rebuilt = Aggregate::empty(DAY, agg.hour(), OFFSET);
        let order = by_last
            .iter()
            .rev()
            .step_by(2)
            .chain(by_last.iter().skip(1).step_by(2))
            .chain(by_last.iter().take(5));
        for c in order {
            rebuilt.add_latest(LatestCase {
                case_id: c.case_id,
                seq: c.seq,
                category: c.category.code().to_owned(),
                sub_item: c.sub_item.clone(),
                grid_id: c.grid_id.clone(),
                state: c.after.state,
                supervision: c.after.supervision,
                department: c.after.department.clone(),
                moved_ms: c.at_ms,
            });
        }
        assert_eq!(&rebuilt.state.latest, latest);
    }

    #[test]
    fn the_same_address_in_two_grids_is_two_households() {
        let city = city();
        let mut agg = Aggregate::empty(DAY, local_hour(at(DAY, 9), OFFSET), OFFSET);
        for (id, grid) in [(1, "G1"), (2, "G2"), (3, "G1")] {
            agg.fold_visit(
                &Visit {
                    id,
                    grid_id: grid.to_owned(),
                    member_id: 7,
                    household: "3栋2单元501室".to_owned(),
                    at_ms: at(DAY, 9),
                },
                &city,
            );
        }
        let p = agg.state.people;
        assert_eq!(
            (p.visits_today, p.visits_month, p.households_visited_month),
            (3, 3, 2)
        );
    }
}
