//! Cases: the categories, the life-cycle state machine and the request and response bodies of
//! the case API.
//!
//! The state machine lives here, in one place, so that the server enforces it and the seats
//! can show which moves a case allows without a second copy of the rules.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The 15 event categories (大类) of the city's case taxonomy.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Livelihood,
    Environment,
    TrafficSafety,
    DisputeMediation,
    PublicSecurity,
    FireSafety,
    WorkSafety,
    MunicipalFacilities,
    CityAppearance,
    FoodDrugSafety,
    Ecology,
    HousingSafety,
    SpecialGroups,
    Emergency,
    MarketOrder,
}

impl Category {
    /// Every category, in the order the wall lists them.
    pub const ALL: [Category; 15] = [
        Category::Livelihood,
        Category::Environment,
        Category::TrafficSafety,
        Category::DisputeMediation,
        Category::PublicSecurity,
        Category::FireSafety,
        Category::WorkSafety,
        Category::MunicipalFacilities,
        Category::CityAppearance,
        Category::FoodDrugSafety,
        Category::Ecology,
        Category::HousingSafety,
        Category::SpecialGroups,
        Category::Emergency,
        Category::MarketOrder,
    ];

    /// The stable code used on the wire and in the database.
    pub fn code(self) -> &'static str {
        match self {
            Category::Livelihood => "livelihood",
            Category::Environment => "environment",
            Category::TrafficSafety => "traffic_safety",
            Category::DisputeMediation => "dispute_mediation",
            Category::PublicSecurity => "public_security",
            Category::FireSafety => "fire_safety",
            Category::WorkSafety => "work_safety",
            Category::MunicipalFacilities => "municipal_facilities",
            Category::CityAppearance => "city_appearance",
            Category::FoodDrugSafety => "food_drug_safety",
            Category::Ecology => "ecology",
            Category::HousingSafety => "housing_safety",
            Category::SpecialGroups => "special_groups",
            Category::Emergency => "emergency",
            Category::MarketOrder => "market_order",
        }
    }

    /// The category's name as the command room says it.
    pub fn name_zh(self) -> &'static str {
        match self {
            Category::Livelihood => "民生服务",
            Category::Environment => "环境卫生",
            Category::TrafficSafety => "交通安全",
            Category::DisputeMediation => "矛盾纠纷",
            Category::PublicSecurity => "治安防控",
            Category::FireSafety => "消防安全",
            Category::WorkSafety => "安全生产",
            Category::MunicipalFacilities => "市政设施",
            Category::CityAppearance => "市容秩序",
            Category::FoodDrugSafety => "食品药品",
            Category::Ecology => "生态环保",
            Category::HousingSafety => "房屋安全",
            Category::SpecialGroups => "特殊人群",
            Category::Emergency => "应急处置",
            Category::MarketOrder => "市场监管",
        }
    }

    /// The category's short English name, as the walls and pages show it with `?lang=en`.
    pub fn name_en(self) -> &'static str {
        match self {
            Category::Livelihood => "Livelihood",
            Category::Environment => "Environment",
            Category::TrafficSafety => "Traffic safety",
            Category::DisputeMediation => "Disputes",
            Category::PublicSecurity => "Public security",
            Category::FireSafety => "Fire safety",
            Category::WorkSafety => "Work safety",
            Category::MunicipalFacilities => "Municipal facilities",
            Category::CityAppearance => "City appearance",
            Category::FoodDrugSafety => "Food and drugs",
            Category::Ecology => "Ecology",
            Category::HousingSafety => "Housing safety",
            Category::SpecialGroups => "Special groups",
            Category::Emergency => "Emergencies",
            Category::MarketOrder => "Market order",
        }
    }

    /// The name of the category with `code`, in English or Chinese; a dash for an unknown code.
    pub fn name_of(code: &str, english: bool) -> &'static str {
        match Category::from_code(code) {
            Some(c) if english => c.name_en(),
            Some(c) => c.name_zh(),
            None => "—",
        }
    }

    /// Parses a category code; `None` when the code is not one of the 15.
    pub fn from_code(code: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// Where a case stands in its life cycle.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// Reported by a grid worker (or an outside app), waiting for a centre to dispatch it.
    Reported,
    /// Assigned to a department by a centre.
    Dispatched,
    /// Taken on by the department.
    Accepted,
    /// The department says it is fixed and has uploaded an after photo.
    Resolved,
    /// The grid worker checked on site and confirmed the fix.
    Verified,
    /// The loop is closed.
    Closed,
    /// The on-site check failed; the case is back with the department.
    Returned,
    /// Not a matter for the platform, or a duplicate.
    Rejected,
    /// Handed up to the district ("the street blows the whistle").
    Escalated,
}

/// The three groups the wall's counters are made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    Open,
    Closed,
    Rejected,
}

/// A move of a case from one state to another; every transition row records one.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Creates the case; the only move without a previous state.
    Report,
    Dispatch,
    Accept,
    Resolve,
    Verify,
    Close,
    Return,
    Reject,
    Escalate,
    Reopen,
    /// A centre presses the department holding a case whose clock runs (督办), with a note
    /// saying what it wants; the case stays where it is and the log keeps the urging.
    Urge,
    /// Recorded by the time-limit watcher at three quarters of a case's time (预警).
    Warn,
    /// Recorded by the time-limit watcher when a case's time runs out (超期督办).
    Supervise,
}

impl Action {
    /// Every action except `report`, which creates a case rather than moving one.
    pub const MOVES: [Action; 10] = [
        Action::Dispatch,
        Action::Accept,
        Action::Resolve,
        Action::Verify,
        Action::Close,
        Action::Return,
        Action::Reject,
        Action::Escalate,
        Action::Reopen,
        Action::Urge,
    ];

    /// The moves only the time-limit watcher records; they flag a case without moving it.
    pub const WATCHER: [Action; 2] = [Action::Warn, Action::Supervise];

    pub fn code(self) -> &'static str {
        match self {
            Action::Report => "report",
            Action::Dispatch => "dispatch",
            Action::Accept => "accept",
            Action::Resolve => "resolve",
            Action::Verify => "verify",
            Action::Close => "close",
            Action::Return => "return",
            Action::Reject => "reject",
            Action::Escalate => "escalate",
            Action::Reopen => "reopen",
            Action::Urge => "urge",
            Action::Warn => "warn",
            Action::Supervise => "supervise",
        }
    }

    pub fn from_code(code: &str) -> Option<Action> {
        std::iter::once(Action::Report)
            .chain(Action::MOVES)
            .chain(Action::WATCHER)
            .find(|a| a.code() == code)
    }

    /// The caption of a photo this move attached, in English or Chinese: what the photo shows
    /// for the three moves whose evidence is a photo (the problem before it is handled, with
    /// the report; the fix, with the resolution; the check on site, with the verification),
    /// and the move itself for any other. The field page, the seat page and the wall's case
    /// card all caption with it, so that a photo is named alike wherever it is seen.
    pub fn photo_label(self, english: bool) -> &'static str {
        let (zh, en) = match self {
            Action::Report => ("处置前", "Before"),
            Action::Resolve => ("处置后", "After"),
            Action::Verify => ("核查", "Check"),
            Action::Dispatch => ("派遣", "Dispatch"),
            Action::Accept => ("受理", "Accept"),
            Action::Close => ("结案", "Close"),
            Action::Return => ("核查不通过，退回", "Not fixed: return"),
            Action::Reject => ("不予受理", "Reject"),
            Action::Escalate => ("上报上级", "Escalate"),
            Action::Reopen => ("重新开启", "Reopen"),
            Action::Urge => ("督办", "Urge"),
            // The server takes no photos with the watcher's flags; they are named all the same,
            // so that no caption is ever a wire code.
            Action::Warn => ("预警", "Warned"),
            Action::Supervise => ("超期督办", "Supervised"),
        };
        if english { en } else { zh }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A move that the state machine does not allow from the case's current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveNotAllowed {
    pub state: CaseState,
    pub action: Action,
}

impl fmt::Display for MoveNotAllowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let allowed: Vec<&str> = self.state.allowed().iter().map(|a| a.code()).collect();
        write!(
            f,
            "a case in state `{}` cannot `{}`; allowed moves: {}",
            self.state.code(),
            self.action.code(),
            if allowed.is_empty() {
                "none".to_owned()
            } else {
                allowed.join(", ")
            }
        )
    }
}

impl std::error::Error for MoveNotAllowed {}

impl CaseState {
    /// The state's name as the command room says it, or in English.
    pub fn name(self, english: bool) -> &'static str {
        let (zh, en) = match self {
            CaseState::Reported => ("待分派", "Reported"),
            CaseState::Dispatched => ("已分派", "Dispatched"),
            CaseState::Accepted => ("处置中", "In hand"),
            CaseState::Resolved => ("待核查", "Resolved"),
            CaseState::Verified => ("已核查", "Verified"),
            CaseState::Closed => ("已办结", "Closed"),
            CaseState::Returned => ("已退回", "Returned"),
            CaseState::Rejected => ("不予受理", "Rejected"),
            CaseState::Escalated => ("升级上报", "Escalated"),
        };
        if english { en } else { zh }
    }

    /// The state a new report starts in.
    pub const INITIAL: CaseState = CaseState::Reported;

    pub const ALL: [CaseState; 9] = [
        CaseState::Reported,
        CaseState::Dispatched,
        CaseState::Accepted,
        CaseState::Resolved,
        CaseState::Verified,
        CaseState::Closed,
        CaseState::Returned,
        CaseState::Rejected,
        CaseState::Escalated,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CaseState::Reported => "reported",
            CaseState::Dispatched => "dispatched",
            CaseState::Accepted => "accepted",
            CaseState::Resolved => "resolved",
            CaseState::Verified => "verified",
            CaseState::Closed => "closed",
            CaseState::Returned => "returned",
            CaseState::Rejected => "rejected",
            CaseState::Escalated => "escalated",
        }
    }

    pub fn from_code(code: &str) -> Option<CaseState> {
        CaseState::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Which of the wall's groups a case in this state counts in.
    pub fn bucket(self) -> Bucket {
        match self {
            CaseState::Closed => Bucket::Closed,
            CaseState::Rejected => Bucket::Rejected,
            _ => Bucket::Open,
        }
    }

    /// The state machine: where `action` takes a case in this state, if anywhere.
    pub fn next(self, action: Action) -> Result<CaseState, MoveNotAllowed> {
        use Action as A;
        use CaseState as S;
        let to = match (self, action) {
            (S::Reported | S::Escalated, A::Dispatch) => S::Dispatched,
            // A centre may hand a dispatched case to another department.
            (S::Dispatched, A::Dispatch) => S::Dispatched,
            (S::Dispatched | S::Returned, A::Accept) => S::Accepted,
            (S::Accepted, A::Resolve) => S::Resolved,
            (S::Resolved, A::Verify) => S::Verified,
            (S::Resolved, A::Return) => S::Returned,
            (S::Verified, A::Close) => S::Closed,
            (S::Reported | S::Escalated, A::Reject) => S::Rejected,
            (S::Reported | S::Dispatched | S::Accepted | S::Returned, A::Escalate) => S::Escalated,
            (S::Closed | S::Rejected, A::Reopen) => S::Reported,
            // The watcher's flags leave the case where it is; see `Supervision::after`.
            (s, A::Warn | A::Supervise) if s.clock_runs() => s,
            // A centre urges the department while the department's clock runs.
            (s, A::Urge) if s.clock_runs() => s,
            _ => {
                return Err(MoveNotAllowed {
                    state: self,
                    action,
                });
            }
        };
        Ok(to)
    }

    /// Whether the department's time limit is running: the case is with the department.
    pub fn clock_runs(self) -> bool {
        matches!(
            self,
            CaseState::Dispatched | CaseState::Accepted | CaseState::Returned
        )
    }

    /// The moves allowed from this state, in [`Action::MOVES`] order.
    pub fn allowed(self) -> Vec<Action> {
        Action::MOVES
            .into_iter()
            .filter(|a| self.next(*a).is_ok())
            .collect()
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// How a case stands against its time limit. The limit is set when a centre dispatches the
/// case and runs while the department holds it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Supervision {
    /// Within three quarters of its time, or not dispatched.
    None,
    /// Past three quarters of its time (预警).
    Warned,
    /// Past its time: under supervision (督办) until it closes.
    Overdue,
}

/// A watcher's flag that does not fit the case's standing against its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagNotAllowed {
    pub supervision: Supervision,
    pub action: Action,
}

impl fmt::Display for FlagNotAllowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a case whose supervision is `{}` cannot `{}`",
            self.supervision.code(),
            self.action.code()
        )
    }
}

impl std::error::Error for FlagNotAllowed {}

impl Supervision {
    pub const ALL: [Supervision; 3] =
        [Supervision::None, Supervision::Warned, Supervision::Overdue];

    pub fn code(self) -> &'static str {
        match self {
            Supervision::None => "none",
            Supervision::Warned => "warned",
            Supervision::Overdue => "overdue",
        }
    }

    pub fn from_code(code: &str) -> Option<Supervision> {
        Supervision::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The supervision after `action` (which the state machine has allowed): a dispatch or a
    /// reopen starts a new time limit, the watcher's flags raise it one step, and every other
    /// move keeps it, so that a case closed late stays counted as late.
    pub fn after(self, action: Action) -> Result<Supervision, FlagNotAllowed> {
        match (self, action) {
            (_, Action::Dispatch | Action::Reopen | Action::Report) => Ok(Supervision::None),
            (Supervision::None, Action::Warn) => Ok(Supervision::Warned),
            (Supervision::None | Supervision::Warned, Action::Supervise) => {
                Ok(Supervision::Overdue)
            }
            (s, Action::Warn | Action::Supervise) => Err(FlagNotAllowed {
                supervision: s,
                action,
            }),
            (s, _) => Ok(s),
        }
    }
}

/// The points of a time limit: the watcher warns at three quarters of it, supervises at its
/// end and escalates to the district at twice it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeLimit {
    pub dispatched_ms: i64,
    pub deadline_ms: i64,
}

impl TimeLimit {
    pub fn new(dispatched_ms: i64, hours: u32) -> TimeLimit {
        TimeLimit {
            dispatched_ms,
            deadline_ms: dispatched_ms + i64::from(hours) * 3_600_000,
        }
    }

    pub fn warn_at(&self) -> i64 {
        self.dispatched_ms + (self.deadline_ms - self.dispatched_ms) * 3 / 4
    }

    pub fn escalate_at(&self) -> i64 {
        self.dispatched_ms + (self.deadline_ms - self.dispatched_ms) * 2
    }

    /// When the watcher must next look at a case in `state` with `supervision`, and what it
    /// will do then; `None` when the clock is not running or nothing is left to do.
    pub fn next_check(&self, state: CaseState, supervision: Supervision) -> Option<(i64, Action)> {
        if !state.clock_runs() {
            return None;
        }
        Some(match supervision {
            Supervision::None => (self.warn_at(), Action::Warn),
            Supervision::Warned => (self.deadline_ms, Action::Supervise),
            Supervision::Overdue => (self.escalate_at(), Action::Escalate),
        })
    }
}

/// A point in WGS 84 longitude and latitude.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub lon: f64,
    pub lat: f64,
}

/// The body of `POST /api/cases`: a new report.
///
/// Fields are kept loose (strings) so that the server can say exactly which field is wrong
/// rather than fail the whole body on an unknown code.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportCase {
    /// A category code, for example `municipal_facilities`.
    pub category: String,
    /// A sub-item code of that category, for example `0801` (路灯杆倾斜).
    #[serde(default)]
    pub sub_item: Option<String>,
    /// The grid the case is in; give this, `point`, or both.
    #[serde(default)]
    pub grid_id: Option<String>,
    /// Where the case is; give this, `grid_id`, or both.
    #[serde(default)]
    pub point: Option<Point>,
    /// What the grid worker saw.
    pub description: String,
}

/// The body of `POST /api/cases/{id}/moves`: one move of the state machine.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveCase {
    /// An action code, for example `dispatch`.
    pub action: String,
    #[serde(default)]
    pub note: Option<String>,
    /// For `dispatch`: the department code (`D01`..); the sub-item's default department
    /// when left out.
    #[serde(default)]
    pub department: Option<String>,
}

/// A case as the API returns it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseView {
    pub id: i64,
    pub category: Category,
    pub sub_item: Option<String>,
    pub grid_id: Option<String>,
    pub point: Option<Point>,
    pub description: String,
    pub state: CaseState,
    /// The moves the state machine allows now.
    pub allowed: Vec<Action>,
    /// The department the case is dispatched to.
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default = "no_supervision")]
    pub supervision: Supervision,
    /// When the case's time limit runs out (Unix milliseconds), once dispatched.
    #[serde(default)]
    pub deadline_ms: Option<i64>,
    pub reported_at_ms: i64,
    pub updated_at_ms: i64,
    /// The sequence number of the transition that last changed the case.
    pub seq: u64,
    /// The evidence photos of the case, in the order of the moves that attached them.
    #[serde(default)]
    pub photos: Vec<CasePhoto>,
}

/// One move of a case's timeline, as the log holds it: what was done, by whom and when, with
/// the note, the department, time limit and supervision after it, and the photos it attached.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseMove {
    /// The transition's sequence number in the log.
    pub seq: u64,
    pub action: Action,
    /// `None` for the report, which creates the case.
    pub from_state: Option<CaseState>,
    pub to_state: CaseState,
    /// Who moved it: an account's login, a reporting app, or the time-limit watcher.
    pub actor: String,
    /// The actor's role, for moves made by an account.
    pub role: Option<String>,
    pub at_ms: i64,
    pub note: Option<String>,
    pub department: Option<String>,
    pub supervision: Supervision,
    pub deadline_ms: Option<i64>,
    pub photos: Vec<CasePhoto>,
}

/// An evidence photo of a case: a before photo with the report, an after photo with the
/// resolution, a check photo with the verification. Its bytes are at `/api/photos/{hash}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CasePhoto {
    /// The SHA-256 of the photo's bytes, in lowercase hex: the photo's name.
    pub hash: String,
    /// `image/jpeg`, `image/png` or `image/webp`, as recognised from the bytes.
    pub content_type: String,
    /// The move that attached it.
    pub action: Action,
    /// The sequence number of that move's transition.
    pub seq: u64,
}

/// Which of a caller's cases `GET /api/cases` lists (`?view=`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseListView {
    /// A grid worker's own work: the cases of its grids that it reported, and those that
    /// wait for its check on site (resolved) or its closing (verified).
    Mine,
    /// What waits for the caller's next move: a department's dispatched, accepted and
    /// returned cases; a centre's reported and escalated cases in its area; the resolved and
    /// verified cases of a grid worker's grids.
    Queue,
    /// Every case the caller may read.
    All,
}

impl CaseListView {
    pub const ALL: [CaseListView; 3] = [CaseListView::Mine, CaseListView::Queue, CaseListView::All];

    pub fn code(self) -> &'static str {
        match self {
            CaseListView::Mine => "mine",
            CaseListView::Queue => "queue",
            CaseListView::All => "all",
        }
    }

    pub fn from_code(code: &str) -> Option<CaseListView> {
        CaseListView::ALL.into_iter().find(|v| v.code() == code)
    }
}

/// One case in a list: what a row shows and what a seat needs to act on it. The photos
/// are left out; `GET /api/cases/{id}` has them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseSummary {
    pub id: i64,
    pub category: Category,
    pub sub_item: Option<String>,
    pub grid_id: Option<String>,
    pub description: String,
    pub state: CaseState,
    /// The moves the state machine allows now.
    pub allowed: Vec<Action>,
    pub department: Option<String>,
    pub supervision: Supervision,
    pub deadline_ms: Option<i64>,
    pub reported_at_ms: i64,
    pub updated_at_ms: i64,
    /// The sequence number of the transition that last changed the case.
    pub seq: u64,
}

impl From<&CaseView> for CaseSummary {
    fn from(v: &CaseView) -> CaseSummary {
        CaseSummary {
            id: v.id,
            category: v.category,
            sub_item: v.sub_item.clone(),
            grid_id: v.grid_id.clone(),
            description: v.description.clone(),
            state: v.state,
            allowed: v.allowed.clone(),
            department: v.department.clone(),
            supervision: v.supervision,
            deadline_ms: v.deadline_ms,
            reported_at_ms: v.reported_at_ms,
            updated_at_ms: v.updated_at_ms,
            seq: v.seq,
        }
    }
}

/// The answer of `GET /api/cases`: the newest reports first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseList {
    /// The view listed (the caller's default when the request named none).
    pub view: CaseListView,
    /// The state asked for, if any.
    #[serde(default)]
    pub state: Option<CaseState>,
    /// The most cases one answer holds, as asked for or the default.
    pub limit: u32,
    pub cases: Vec<CaseSummary>,
    /// Whether more cases match than `limit` let through.
    pub more: bool,
}

fn no_supervision() -> Supervision {
    Supervision::None
}

/// The one error body shape of the HTTP API.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: ApiErrorBody,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    /// A stable machine-readable code, for example `invalid_field` or `move_not_allowed`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// The request field at fault, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_match_serde() {
        for c in Category::ALL {
            assert_eq!(Category::from_code(c.code()), Some(c));
            assert_eq!(
                serde_json::to_string(&c).expect("serialise"),
                format!("\"{}\"", c.code())
            );
        }
        for s in CaseState::ALL {
            assert_eq!(CaseState::from_code(s.code()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).expect("serialise"),
                format!("\"{}\"", s.code())
            );
        }
        for a in std::iter::once(Action::Report).chain(Action::MOVES) {
            assert_eq!(Action::from_code(a.code()), Some(a));
            assert_eq!(
                serde_json::to_string(&a).expect("serialise"),
                format!("\"{}\"", a.code())
            );
        }
    }

    #[test]
    fn photo_labels_say_what_the_evidence_shows_and_name_every_other_move() {
        assert_eq!(Action::Report.photo_label(false), "处置前");
        assert_eq!(Action::Report.photo_label(true), "Before");
        assert_eq!(Action::Resolve.photo_label(false), "处置后");
        assert_eq!(Action::Resolve.photo_label(true), "After");
        assert_eq!(Action::Verify.photo_label(false), "核查");
        assert_eq!(Action::Verify.photo_label(true), "Check");
        assert_eq!(Action::Return.photo_label(false), "核查不通过，退回");
        assert_eq!(Action::Return.photo_label(true), "Not fixed: return");
        let all: Vec<Action> = std::iter::once(Action::Report)
            .chain(Action::MOVES)
            .chain(Action::WATCHER)
            .collect();
        for english in [false, true] {
            let labels: std::collections::BTreeSet<&str> =
                all.iter().map(|a| a.photo_label(english)).collect();
            assert_eq!(labels.len(), all.len(), "two moves share a caption");
            for a in &all {
                let label = a.photo_label(english);
                assert!(!label.is_empty());
                assert_ne!(label, a.code(), "a caption is not a wire code");
            }
        }
    }

    #[test]
    fn the_happy_path_closes_the_loop() {
        let mut s = CaseState::INITIAL;
        for a in [
            Action::Dispatch,
            Action::Accept,
            Action::Resolve,
            Action::Verify,
            Action::Close,
        ] {
            s = s.next(a).expect("happy path move");
        }
        assert_eq!(s, CaseState::Closed);
        assert_eq!(s.bucket(), Bucket::Closed);
    }

    #[test]
    fn a_failed_check_goes_back_to_the_department() {
        let s = CaseState::Resolved.next(Action::Return).expect("return");
        assert_eq!(s, CaseState::Returned);
        assert_eq!(s.next(Action::Accept), Ok(CaseState::Accepted));
    }

    #[test]
    fn report_is_never_a_move() {
        for s in CaseState::ALL {
            assert!(s.next(Action::Report).is_err(), "{s} allowed report");
        }
    }

    #[test]
    fn every_state_can_reach_an_end() {
        // No state is a dead end: from each, some sequence of moves reaches closed or rejected.
        for start in CaseState::ALL {
            let mut seen = vec![start];
            let mut frontier = vec![start];
            while let Some(s) = frontier.pop() {
                for a in s.allowed() {
                    let to = s.next(a).expect("allowed move");
                    if !seen.contains(&to) {
                        seen.push(to);
                        frontier.push(to);
                    }
                }
            }
            assert!(
                seen.contains(&CaseState::Closed) || seen.contains(&CaseState::Rejected),
                "{start} cannot reach an end"
            );
        }
    }

    #[test]
    fn a_refused_move_names_the_state_and_the_allowed_moves() {
        let err = CaseState::Closed
            .next(Action::Resolve)
            .expect_err("closed cannot resolve");
        assert_eq!(
            err.to_string(),
            "a case in state `closed` cannot `resolve`; allowed moves: reopen"
        );
    }

    #[test]
    fn the_watcher_flags_only_cases_with_the_department() {
        for s in CaseState::ALL {
            let allowed = s.next(Action::Warn).is_ok();
            assert_eq!(allowed, s.clock_runs(), "{s}");
            if allowed {
                assert_eq!(s.next(Action::Supervise), Ok(s));
            }
        }
        assert!(!CaseState::Reported.allowed().contains(&Action::Warn));
    }

    #[test]
    fn supervision_climbs_and_a_dispatch_resets_it() {
        let s = Supervision::None.after(Action::Warn).expect("warn");
        assert_eq!(s, Supervision::Warned);
        let s = s.after(Action::Supervise).expect("supervise");
        assert_eq!(s, Supervision::Overdue);
        assert!(s.after(Action::Warn).is_err());
        assert!(s.after(Action::Supervise).is_err());
        assert_eq!(s.after(Action::Resolve), Ok(Supervision::Overdue));
        assert_eq!(s.after(Action::Close), Ok(Supervision::Overdue));
        assert_eq!(s.after(Action::Dispatch), Ok(Supervision::None));
        // A case can go straight to overdue if the watcher was away at three quarters.
        assert_eq!(
            Supervision::None.after(Action::Supervise),
            Ok(Supervision::Overdue)
        );
    }

    #[test]
    fn a_time_limit_has_three_points() {
        let limit = TimeLimit::new(1_000, 24);
        assert_eq!(limit.deadline_ms, 1_000 + 24 * 3_600_000);
        assert_eq!(limit.warn_at(), 1_000 + 18 * 3_600_000);
        assert_eq!(limit.escalate_at(), 1_000 + 48 * 3_600_000);
        assert_eq!(
            limit.next_check(CaseState::Accepted, Supervision::None),
            Some((limit.warn_at(), Action::Warn))
        );
        assert_eq!(
            limit.next_check(CaseState::Returned, Supervision::Overdue),
            Some((limit.escalate_at(), Action::Escalate))
        );
        assert_eq!(
            limit.next_check(CaseState::Resolved, Supervision::None),
            None
        );
    }
}
