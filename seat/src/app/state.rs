//! The seat page's state: what it holds between clicks (the account, the drill-down path, the
//! moment shown, the replay, the dispatch queue and the assessment's period), the city's area
//! names it walks, and the pure steps that change them.
//!
//! Nothing here touches the page: the screens read this state and draw it, so every step is
//! tested on the host.

use super::drive::Drive;
use super::wire::{Case, District, Grid, Street};
use crate::text;
use shared::auth::{AccountView, Role};
use shared::case::Action;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// A replayed day passes in this many real milliseconds.
pub(super) const REPLAY_MS: f64 = 60_000.0;
/// A step back or forward.
pub(super) const STEP_MS: i64 = 10 * 60_000;

/// The city's areas and their names, read once from the map documents.
#[derive(Debug, Default)]
pub(super) struct Names {
    pub(super) districts: Vec<District>,
    pub(super) streets: Vec<Street>,
    pub(super) grids: Vec<Grid>,
    /// Index into `grids` by grid id.
    grid_at: HashMap<String, usize>,
}

impl Names {
    /// The names as the map documents list them, with the grids indexed by id.
    pub(super) fn new(districts: Vec<District>, streets: Vec<Street>, grids: Vec<Grid>) -> Names {
        let grid_at = grids
            .iter()
            .enumerate()
            .map(|(i, g)| (g.id.clone(), i))
            .collect();
        Names {
            districts,
            streets,
            grids,
            grid_at,
        }
    }

    /// A district's name in the page's language; its code when the maps do not know it.
    pub(super) fn district(&self, code: &str) -> String {
        self.district_in(code, text::english())
    }

    /// A district's name, in English when asked and the maps have one.
    fn district_in(&self, code: &str, english: bool) -> String {
        self.districts
            .iter()
            .find(|d| d.code == code)
            .map(|d| match (&d.name_en, english) {
                (Some(en), true) => en.clone(),
                _ => d.name.clone(),
            })
            .unwrap_or_else(|| code.to_owned())
    }

    /// A street's name; its code when the maps do not know it.
    pub(super) fn street(&self, code: &str) -> String {
        self.streets
            .iter()
            .find(|s| s.code == code)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| code.to_owned())
    }

    pub(super) fn grid(&self, id: &str) -> Option<&Grid> {
        self.grid_at.get(id).map(|&i| &self.grids[i])
    }

    /// A grid's name; its id when the maps do not know it.
    pub(super) fn grid_name(&self, id: &str) -> String {
        self.grid(id)
            .map(|g| g.name.clone())
            .unwrap_or_else(|| id.to_owned())
    }
}

/// One step of the drill-down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Level {
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
    /// The level's kind, as the page's `data-level` says it.
    pub(super) fn code(&self) -> &'static str {
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

    /// The child area a row of an area's list opens, from its `data-level` and `data-code`:
    /// anything but a district or a street is a grid.
    pub(super) fn child(kind: &str, code: String) -> Level {
        match kind {
            "district" => Level::District(code),
            "street" => Level::Street(code),
            _ => Level::Grid(code),
        }
    }

    pub(super) fn is_area(&self) -> bool {
        matches!(
            self,
            Level::City | Level::District(_) | Level::Street(_) | Level::Grid(_)
        )
    }

    /// The wall's scope that holds this area's figures: a grid's are in its street's.
    pub(super) fn scope(&self, names: &Names) -> String {
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
    pub(super) fn holds(&self, grid: &Grid) -> bool {
        match self {
            Level::City => true,
            Level::District(code) => grid.district_code == *code,
            Level::Street(code) => grid.street_code == *code,
            Level::Grid(id) => grid.id == *id,
            _ => false,
        }
    }
}

/// The seat's own area, from the account's: the root of every drill-down.
pub(super) fn root_level(account: &AccountView) -> Level {
    match account.area.as_deref().and_then(|a| a.split_once(':')) {
        Some(("district", code)) => Level::District(code.to_owned()),
        Some(("street", code)) => Level::Street(code.to_owned()),
        _ => Level::City,
    }
}

/// Whether the role sits at a seat.
pub(super) fn seated(role: Role) -> bool {
    matches!(role, Role::Leader | Role::Dispatcher)
}

/// Opens case `id`. One case at a time: a case opened from a case's screen replaces it.
pub(super) fn open_case(path: &mut Vec<Level>, id: i64) {
    if matches!(path.last(), Some(Level::Case(_))) {
        path.pop();
    }
    path.push(Level::Case(id));
}

/// Opens a list of the area on screen (its overdue cases, its comparison): whatever stands
/// below the last area on the path goes first.
pub(super) fn below_area(path: &mut Vec<Level>, level: Level) {
    while path.last().is_some_and(|l| !l.is_area()) {
        path.pop();
    }
    path.push(level);
}

/// One step back up the path; the seat's own area stays.
pub(super) fn back(path: &mut Vec<Level>) {
    if path.len() > 1 {
        path.pop();
    }
}

/// Yesterday played at a day a minute: the moment aimed at moves with the clock, and one
/// request at a time fetches the area as it stood then, so a slow answer skips ahead rather
/// than queueing up.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Replay {
    /// The moment aimed at, moving while the replay plays.
    pub(super) target: f64,
    /// The moment whose figures are on screen.
    pub(super) shown: i64,
    pub(super) start: i64,
    pub(super) end: i64,
    pub(super) paused: bool,
    /// A step asks for a fetch even while paused.
    pub(super) dirty: bool,
    pub(super) in_flight: bool,
    /// When the last tick ran (the browser's clock, ms).
    pub(super) last_tick: f64,
    /// Bumped by every pause and step, so an answer asked for before it is not shown.
    pub(super) round: u64,
}

impl Replay {
    /// Yesterday as of `now` (Unix ms), from its midnight to the next in the centre's zone,
    /// playing from its start as of `clock` (the browser's clock, ms).
    pub(super) fn yesterday(now: i64, clock: f64) -> Replay {
        let offset = shared::time::DEFAULT_UTC_OFFSET_MINUTES;
        let today = shared::time::local_day(now, offset);
        let start = shared::time::local_day_start_ms(today - 1, offset);
        let end = shared::time::local_day_start_ms(today, offset);
        Replay {
            target: start as f64,
            shown: start,
            start,
            end,
            paused: false,
            dirty: true,
            in_flight: false,
            last_tick: clock,
            round: 0,
        }
    }

    /// Steps `by` ms from the moment shown, within the day.
    pub(super) fn step(&mut self, by: i64) {
        let at = (self.shown + by).clamp(self.start, self.end);
        self.target = at as f64;
        self.dirty = true;
        self.round += 1;
    }

    /// Pauses or resumes at the moment shown, as of `clock`.
    pub(super) fn toggle_pause(&mut self, clock: f64) {
        self.paused = !self.paused;
        self.target = self.shown as f64;
        self.round += 1;
        self.last_tick = clock;
    }

    /// A tick of the page's timer at `clock`: moves the target with the clock while playing,
    /// and returns the moment to fetch and its round when no request is out and the target
    /// moved or a step asked for one. The fetch counts as out from here.
    pub(super) fn advance(&mut self, clock: f64) -> Option<(i64, u64)> {
        let elapsed = clock - self.last_tick;
        self.last_tick = clock;
        if !self.paused {
            let day = (self.end - self.start) as f64;
            self.target = (self.target + elapsed * day / REPLAY_MS).min(self.end as f64);
        }
        if self.in_flight || (self.paused && !self.dirty) {
            return None;
        }
        let at = self.target as i64;
        if at == self.shown && !self.dirty {
            return None;
        }
        self.dirty = false;
        self.in_flight = true;
        Some((at, self.round))
    }

    /// The fetch of moment `at`, asked for in `round`, is back: whether it is the one to show
    /// (no pause or step came since). The replay pauses at the end of the day.
    pub(super) fn settle(&mut self, at: i64, round: u64) -> bool {
        self.in_flight = false;
        if self.round != round {
            return false;
        }
        self.shown = at;
        if at >= self.end {
            self.paused = true;
        }
        true
    }
}

/// The assessment's periods, in the centre's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Preset {
    ThisWeek,
    LastWeek,
    ThisMonth,
    MonthLastYear,
}

impl Preset {
    pub(super) const ALL: [Preset; 4] = [
        Preset::ThisWeek,
        Preset::LastWeek,
        Preset::ThisMonth,
        Preset::MonthLastYear,
    ];

    /// The preset's `data-period`.
    pub(super) fn code(self) -> &'static str {
        match self {
            Preset::ThisWeek => "week",
            Preset::LastWeek => "last-week",
            Preset::ThisMonth => "month",
            Preset::MonthLastYear => "month-last-year",
        }
    }

    /// The preset a `data-period` names; this week for any other.
    pub(super) fn from_code(code: &str) -> Preset {
        Preset::ALL
            .into_iter()
            .find(|p| p.code() == code)
            .unwrap_or(Preset::ThisWeek)
    }
}

/// The dispatch workbench's state.
#[derive(Debug)]
pub(super) struct Queue {
    pub(super) cases: Vec<Case>,
    /// The selected case's id: kept across refreshes, so a new case does not move the
    /// selection under the dispatcher's finger.
    pub(super) selected: Option<i64>,
    /// The move being written (`dispatch` or `reject`) for the selected case.
    pub(super) form: Option<Action>,
    pub(super) help: bool,
    /// When the queue was last asked for (the browser's clock, ms), and whether the stream
    /// asked for another since.
    pub(super) last_load: f64,
    pub(super) stale: bool,
    pub(super) loading: bool,
    /// The stream of the seat's area, once opened.
    pub(super) socket: Option<web_sys::WebSocket>,
}

impl Queue {
    const fn new() -> Queue {
        Queue {
            cases: Vec::new(),
            selected: None,
            form: None,
            help: false,
            last_load: 0.0,
            stale: false,
            loading: false,
            socket: None,
        }
    }

    /// Whether the queue on screen is due for a refresh at `clock`: when the stream said the
    /// area moved (at most once a second) and every five seconds in any case, unless a move is
    /// being written or a refresh is out.
    pub(super) fn due(&self, clock: f64) -> bool {
        let since = clock - self.last_load;
        self.form.is_none()
            && !self.loading
            && ((self.stale && since >= 1_000.0) || since >= 5_000.0)
    }

    /// Takes a refreshed list: the selection stays on its case while the case is listed.
    pub(super) fn refresh(&mut self, cases: Vec<Case>) {
        self.cases = cases;
        if !self.cases.iter().any(|c| Some(c.id) == self.selected) {
            self.selected = None;
        }
    }

    /// Case `id` was moved out of the queue: its form and the selection go with it.
    pub(super) fn moved(&mut self, id: i64) {
        self.form = None;
        self.cases.retain(|c| c.id != id);
        self.selected = None;
    }

    /// Moves the selection down (`by` = 1) or up (-1), stopping at either end; the first key
    /// selects the first case going down, the last going up.
    pub(super) fn select_next(&mut self, by: i64) {
        if self.cases.is_empty() {
            return;
        }
        let last = self.cases.len() as i64 - 1;
        let next = match self
            .selected
            .and_then(|id| self.cases.iter().position(|c| c.id == id))
        {
            Some(at) => (at as i64 + by).clamp(0, last),
            None if by > 0 => 0,
            None => last,
        };
        self.selected = Some(self.cases[next as usize].id);
    }
}

/// What the page holds between clicks.
#[derive(Debug)]
pub(super) struct State {
    pub(super) token: Option<String>,
    pub(super) account: Option<AccountView>,
    pub(super) names: Option<Rc<Names>>,
    /// From the seat's own area down to what is on screen.
    pub(super) path: Vec<Level>,
    /// Counts every screen drawn, so an answer for a screen already left is dropped.
    pub(super) generation: u64,
    pub(super) busy: bool,
    /// Object URLs of the photos on screen, let go when the screen changes.
    pub(super) photo_urls: Vec<String>,
    /// The past moment the area screens show (look back); `None` is live.
    pub(super) moment: Option<i64>,
    pub(super) replay: Option<Replay>,
    pub(super) queue: Queue,
    /// The assessment's period preset.
    pub(super) period: Preset,
    /// The control channels: the walls this seat drives or may take.
    pub(super) drive: Drive,
}

impl State {
    const fn new() -> State {
        State {
            token: None,
            account: None,
            names: None,
            path: Vec::new(),
            generation: 0,
            busy: false,
            photo_urls: Vec::new(),
            moment: None,
            replay: None,
            queue: Queue::new(),
            period: Preset::ThisWeek,
            drive: Drive::new(),
        }
    }
}

thread_local! {
    static STATE: RefCell<State> = const { RefCell::new(State::new()) };
}

/// Runs `f` on the page's state. It must not call back into `with`: the state is borrowed
/// for as long as `f` runs.
pub(super) fn with<T>(f: impl FnOnce(&mut State) -> T) -> T {
    STATE.with(|s| f(&mut s.borrow_mut()))
}

pub(super) fn token() -> Option<String> {
    with(|s| s.token.clone())
}

pub(super) fn generation() -> u64 {
    with(|s| s.generation)
}

/// Whether the screen that asked is still the one shown.
pub(super) fn current(asked: u64) -> bool {
    generation() == asked
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use shared::case::{CaseState, Category, Supervision};

    /// One district with a street of two grids, and a second district with an English name.
    pub(in super::super) fn names() -> Names {
        let district = |code: &str, name: &str, en: Option<&str>| District {
            code: code.into(),
            name: name.into(),
            name_en: en.map(Into::into),
        };
        let grid = |id: &str, name: &str| Grid {
            id: id.into(),
            name: name.into(),
            street_code: "S1".into(),
            district_code: "D1".into(),
        };
        Names::new(
            vec![
                district("D1", "一区", None),
                district("D2", "二区", Some("Second")),
            ],
            vec![Street {
                code: "S1".into(),
                name: "一街道".into(),
                district_code: "D1".into(),
            }],
            vec![grid("G1", "一网格"), grid("G2", "二网格")],
        )
    }

    /// A reported case of grid G1, with no time limit yet.
    pub(in super::super) fn case(id: i64) -> Case {
        Case {
            id,
            category: Category::Environment,
            sub_item: None,
            grid_id: Some("G1".into()),
            description: String::new(),
            state: CaseState::Reported,
            department: None,
            supervision: Supervision::None,
            deadline_ms: None,
            reported_at_ms: id,
            photos: Vec::new(),
        }
    }

    fn account(role: Role, area: Option<&str>) -> AccountView {
        AccountView {
            login: "someone".into(),
            name: "某人".into(),
            role,
            area: area.map(Into::into),
            department: None,
            grids: Vec::new(),
            moves: Vec::new(),
        }
    }

    #[test]
    fn names_fall_back_to_codes_and_a_district_has_its_english_name() {
        let names = names();
        assert_eq!(names.street("S1"), "一街道");
        assert_eq!(names.street("S9"), "S9");
        assert_eq!(names.grid_name("G2"), "二网格");
        assert_eq!(names.grid_name("G9"), "G9");
        assert!(names.grid("G9").is_none());
        assert_eq!(names.district_in("D2", false), "二区");
        assert_eq!(names.district_in("D2", true), "Second");
        assert_eq!(names.district_in("D1", true), "一区", "no English name");
        assert_eq!(names.district_in("D9", true), "D9");
    }

    #[test]
    fn a_grid_is_found_in_its_street_and_the_areas_above_it() {
        let names = names();
        let g1 = names.grid("G1").expect("G1");
        assert!(Level::City.holds(g1));
        assert!(Level::District("D1".into()).holds(g1));
        assert!(!Level::District("D2".into()).holds(g1));
        assert!(Level::Street("S1".into()).holds(g1));
        assert!(Level::Grid("G1".into()).holds(g1));
        assert!(!Level::Grid("G2".into()).holds(g1));
        assert!(!Level::Overdue.holds(g1), "a list is not an area");
    }

    #[test]
    fn an_areas_figures_are_its_scopes_and_a_grids_its_streets() {
        let names = names();
        assert_eq!(Level::City.scope(&names), "city");
        assert_eq!(Level::District("D1".into()).scope(&names), "district:D1");
        assert_eq!(Level::Street("S1".into()).scope(&names), "street:S1");
        assert_eq!(Level::Grid("G2".into()).scope(&names), "street:S1");
        assert_eq!(Level::Grid("G9".into()).scope(&names), "city");
        assert_eq!(Level::Case(3).scope(&names), "city");
    }

    #[test]
    fn a_rows_level_names_its_child_and_anything_else_is_a_grid() {
        assert_eq!(
            Level::child("district", "D1".into()),
            Level::District("D1".into())
        );
        assert_eq!(
            Level::child("street", "S1".into()),
            Level::Street("S1".into())
        );
        assert_eq!(Level::child("grid", "G1".into()), Level::Grid("G1".into()));
        assert_eq!(Level::child("", "G1".into()), Level::Grid("G1".into()));
        assert_eq!(Level::child("district", "D1".into()).code(), "district");
        assert!(Level::child("", "G1".into()).is_area());
        assert!(!Level::Case(1).is_area());
    }

    #[test]
    fn a_seat_starts_at_its_own_area_and_only_leaders_and_dispatchers_sit() {
        let leader = account(Role::Leader, Some("district:D1"));
        assert_eq!(root_level(&leader), Level::District("D1".into()));
        let street = account(Role::Dispatcher, Some("street:S1"));
        assert_eq!(root_level(&street), Level::Street("S1".into()));
        assert_eq!(
            root_level(&account(Role::Leader, Some("city"))),
            Level::City
        );
        assert_eq!(root_level(&account(Role::Leader, None)), Level::City);
        assert!(seated(Role::Leader));
        assert!(seated(Role::Dispatcher));
        assert!(!seated(Role::GridWorker));
        assert!(!seated(Role::DepartmentStaff));
    }

    #[test]
    fn the_path_opens_one_case_at_a_time_and_lists_below_the_last_area() {
        let mut path = vec![Level::City, Level::District("D1".into())];
        open_case(&mut path, 1);
        open_case(&mut path, 2);
        assert_eq!(
            path,
            [Level::City, Level::District("D1".into()), Level::Case(2)]
        );
        below_area(&mut path, Level::Overdue);
        assert_eq!(
            path,
            [Level::City, Level::District("D1".into()), Level::Overdue]
        );
        open_case(&mut path, 3);
        below_area(&mut path, Level::Compare);
        assert_eq!(
            path,
            [Level::City, Level::District("D1".into()), Level::Compare]
        );
        back(&mut path);
        back(&mut path);
        back(&mut path);
        assert_eq!(path, [Level::City], "the seat's own area stays");
    }

    fn replay() -> Replay {
        // 2026-11-29 08:30 in the centre's zone.
        let now = 1_795_881_600_000 + 8 * 3_600_000 + 30 * 60_000;
        Replay::yesterday(now, 0.0)
    }

    #[test]
    fn a_replay_is_yesterday_from_midnight_to_midnight() {
        let r = replay();
        let midnight = 1_795_881_600_000;
        assert_eq!(r.end, midnight);
        assert_eq!(r.start, midnight - shared::time::DAY_MS);
        assert_eq!(r.shown, r.start);
        assert!(r.dirty && !r.paused && !r.in_flight);
    }

    #[test]
    fn a_replay_plays_a_day_a_minute_one_request_at_a_time() {
        let mut r = replay();
        assert_eq!(r.advance(0.0), Some((r.start, 0)), "the first tick fetches");
        assert_eq!(r.advance(200.0), None, "one request at a time");
        assert!(r.settle(r.start, 0));
        // Half a minute later the target is half the day on.
        let (at, round) = r.advance(30_000.0).expect("a fetch");
        assert_eq!(at, r.start + shared::time::DAY_MS / 2);
        assert_eq!(round, 0);
        assert!(r.settle(at, round));
        assert_eq!(r.shown, at);
        // Far later the target stops at the day's end, and the replay pauses there.
        let (at, round) = r.advance(1_000_000.0).expect("a fetch");
        assert_eq!(at, r.end);
        assert!(r.settle(at, round));
        assert!(r.paused);
        assert_eq!(r.advance(1_000_200.0), None, "paused at the end");
    }

    #[test]
    fn a_pause_or_step_drops_the_answer_asked_for_before_it() {
        let mut r = replay();
        let (at, round) = r.advance(0.0).expect("a fetch");
        r.toggle_pause(100.0);
        assert!(r.paused);
        assert!(!r.settle(at, round), "asked for before the pause");
        assert!(!r.in_flight);
        assert_eq!(r.advance(200.0), None, "paused, nothing asked");
        r.step(STEP_MS);
        let (at, round) = r.advance(300.0).expect("a step fetches while paused");
        assert_eq!(at, r.start + STEP_MS);
        assert!(r.settle(at, round));
        r.step(-3 * STEP_MS);
        assert_eq!(r.target, r.start as f64, "a step stops at the start");
        r.shown = r.end;
        r.step(STEP_MS);
        assert_eq!(r.target, r.end as f64, "and at the end");
    }

    #[test]
    fn presets_round_trip_and_an_unknown_one_is_this_week() {
        for p in Preset::ALL {
            assert_eq!(Preset::from_code(p.code()), p);
        }
        assert_eq!(Preset::from_code("year"), Preset::ThisWeek);
    }

    #[test]
    fn the_queue_selection_moves_within_the_list_and_survives_a_refresh() {
        let mut q = Queue::new();
        q.select_next(1);
        assert_eq!(q.selected, None, "nothing to select");
        q.refresh(vec![case(1), case(2), case(3)]);
        q.select_next(-1);
        assert_eq!(q.selected, Some(3), "up from nothing selects the last");
        q.select_next(1);
        assert_eq!(q.selected, Some(3), "stops at the end");
        q.select_next(-1);
        assert_eq!(q.selected, Some(2));
        q.refresh(vec![case(4), case(2), case(3)]);
        assert_eq!(
            q.selected,
            Some(2),
            "a new case does not move the selection"
        );
        q.select_next(-1);
        assert_eq!(q.selected, Some(4));
        q.refresh(vec![case(2)]);
        assert_eq!(q.selected, None, "the selected case left the queue");
        q.select_next(1);
        assert_eq!(q.selected, Some(2), "down from nothing selects the first");
        q.form = Some(Action::Dispatch);
        q.moved(2);
        assert!(q.cases.is_empty());
        assert_eq!((q.selected, q.form), (None, None));
    }

    #[test]
    fn the_queue_refreshes_on_the_stream_at_most_once_a_second_and_every_five() {
        let mut q = Queue::new();
        q.last_load = 10_000.0;
        assert!(!q.due(10_500.0));
        q.stale = true;
        assert!(!q.due(10_999.0), "at most once a second");
        assert!(q.due(11_000.0));
        q.stale = false;
        assert!(!q.due(14_999.0));
        assert!(q.due(15_000.0), "every five seconds in any case");
        q.loading = true;
        assert!(!q.due(20_000.0), "one refresh at a time");
        q.loading = false;
        q.form = Some(Action::Reject);
        assert!(!q.due(20_000.0), "never while a move is being written");
    }
}
