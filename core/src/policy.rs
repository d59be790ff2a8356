//! The access policy: who may report, move, read and assess which cases, as pure functions of
//! the caller ([`Principal`]) and where the city's grids lie ([`AreaIndex`]).
//!
//! A refusal is a [`Denied`] naming why; the HTTP layer answers it with 403. Nothing here
//! reads the database: the server loads the index once and hands it in.

use shared::auth::{AccountView, Role};
use shared::case::Action;
use shared::wall::Scope;
use std::collections::{HashMap, HashSet};
use std::fmt;

/// A refusal by the policy, naming what the caller may not do and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied(pub String);

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Denied {}

/// Who is asking: an account, an API key's app, or the server itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// What the transition log records as the actor: `login`, `app:NAME` or `system:…`.
    pub actor: String,
    /// Who the caller is, whatever credential it used this time: `account:ID` for an account
    /// (whose session tokens change with every login), `api_key:HASH` for an API key (two apps
    /// may share a name, never a key), the actor for the server itself. What is kept per
    /// caller, such as idempotency keys, is kept under it.
    pub identity: String,
    pub role: Role,
    /// A dispatcher's or leader's area.
    pub area: Option<Scope>,
    /// A department staff member's department.
    pub department: Option<String>,
    /// A grid worker's grids.
    pub grids: HashSet<String>,
    /// A grid worker's place on the team, recorded as the reporter of its reports.
    pub member_id: Option<i64>,
}

impl Principal {
    /// The server itself (the watcher, the simulator), which may make any move.
    pub fn system(actor: &str) -> Principal {
        Principal {
            actor: actor.to_owned(),
            identity: actor.to_owned(),
            role: Role::System,
            area: Some(Scope::City),
            department: None,
            grids: HashSet::new(),
            member_id: None,
        }
    }

    /// Whether the caller may report a case in `grid`.
    pub fn may_report(&self, grid: Option<&str>, areas: &AreaIndex) -> Result<(), Denied> {
        if !self.role.reports() {
            return Err(Denied(format!("a {} does not report cases", self.role)));
        }
        if self.reaches(grid, areas) {
            Ok(())
        } else {
            Err(Denied(format!(
                "grid {} is outside {}",
                grid.unwrap_or("(none)"),
                self.reach()
            )))
        }
    }

    /// Whether the caller may make `action` on a case in `grid` held by `department`.
    pub fn may_move(
        &self,
        action: Action,
        grid: Option<&str>,
        department: Option<&str>,
        areas: &AreaIndex,
    ) -> Result<(), Denied> {
        self.may_make(action)?;
        self.may_touch(grid, department, areas)
    }

    /// Whether the caller's role makes `action` at all. The writer asks this before the state
    /// machine, and [`Principal::may_touch`] after it, so that a move the role makes but the
    /// case's state forbids gets the state machine's 409 naming the allowed moves.
    pub fn may_make(&self, action: Action) -> Result<(), Denied> {
        if self.role == Role::System || self.role.moves().contains(&action) {
            return Ok(());
        }
        let moves: Vec<&str> = self.role.moves().iter().map(|a| a.code()).collect();
        Err(Denied(if moves.is_empty() {
            format!("a {} makes no moves", self.role)
        } else {
            format!(
                "a {} does not `{action}`; it may: {}",
                self.role,
                moves.join(", ")
            )
        }))
    }

    /// Whether a case in `grid` held by `department` is within the caller's reach: its
    /// department for department staff, its grids for a grid worker, its area otherwise.
    pub fn may_touch(
        &self,
        grid: Option<&str>,
        department: Option<&str>,
        areas: &AreaIndex,
    ) -> Result<(), Denied> {
        if self.role == Role::DepartmentStaff {
            return if department.is_some() && department == self.department.as_deref() {
                Ok(())
            } else {
                Err(Denied(format!(
                    "the case is with department {}, not {}",
                    department.unwrap_or("(none)"),
                    self.department.as_deref().unwrap_or("(none)")
                )))
            };
        }
        if self.reaches(grid, areas) {
            Ok(())
        } else {
            Err(Denied(format!(
                "the case's grid {} is outside {}",
                grid.unwrap_or("(none)"),
                self.reach()
            )))
        }
    }

    /// Whether the caller may read a case in `grid` held by `department`.
    pub fn may_see(&self, grid: Option<&str>, department: Option<&str>, areas: &AreaIndex) -> bool {
        match self.role {
            Role::Leader | Role::ReportingApp | Role::System => self.reaches(grid, areas),
            Role::DepartmentStaff => {
                department.is_some() && department == self.department.as_deref()
            }
            Role::GridWorker | Role::Dispatcher => self.reaches(grid, areas),
        }
    }

    /// Whether the caller may read the assessment (rankings, comparisons, briefings) of
    /// `scope`: a leader of any scope, since assessing is comparing areas; a dispatcher of
    /// the scopes inside its area; nobody else, since staff and grid workers are what is
    /// assessed.
    pub fn may_assess(&self, scope: &Scope, areas: &AreaIndex) -> Result<(), Denied> {
        match self.role {
            Role::Leader | Role::System => Ok(()),
            Role::Dispatcher => match &self.area {
                Some(area) if areas.contains(area, scope) => Ok(()),
                Some(area) => Err(Denied(format!("{scope} is outside your area ({area})"))),
                None => Err(Denied(
                    "a dispatcher without an area assesses nothing".to_owned(),
                )),
            },
            Role::GridWorker | Role::DepartmentStaff | Role::ReportingApp => Err(Denied(format!(
                "a {} does not read the assessment",
                self.role
            ))),
        }
    }

    fn reaches(&self, grid: Option<&str>, areas: &AreaIndex) -> bool {
        match self.role {
            Role::GridWorker => grid.is_some_and(|g| self.grids.contains(g)),
            Role::ReportingApp | Role::System => true,
            Role::Dispatcher | Role::Leader => match &self.area {
                Some(Scope::City) => true,
                Some(scope) => grid.is_some_and(|g| areas.covers(scope, g)),
                None => false,
            },
            Role::DepartmentStaff => false,
        }
    }

    fn reach(&self) -> String {
        match self.role {
            Role::GridWorker => {
                let mut grids: Vec<&str> = self.grids.iter().map(String::as_str).collect();
                grids.sort_unstable();
                format!("your grids ({})", grids.join(", "))
            }
            _ => match &self.area {
                Some(scope) => format!("your area ({scope})"),
                None => "your area (none)".to_owned(),
            },
        }
    }

    pub fn view(&self, login: &str, name: &str) -> AccountView {
        let mut grids: Vec<String> = self.grids.iter().cloned().collect();
        grids.sort_unstable();
        AccountView {
            login: login.to_owned(),
            name: name.to_owned(),
            role: self.role,
            area: self.area.as_ref().map(Scope::to_string),
            department: self.department.clone(),
            grids,
            moves: self.role.moves().to_vec(),
        }
    }
}

/// Which street and district each grid lies in, for area checks. (The city's full
/// description, with names and shapes, is the store's `city::CityAreas`.)
#[derive(Debug, Default)]
pub struct AreaIndex {
    grid_street: HashMap<String, String>,
    street_district: HashMap<String, String>,
}

impl AreaIndex {
    /// The index of a city whose streets lie in districts as `street_district` says
    /// (street code, district code) and whose grids lie in streets as `grid_street` says
    /// (grid id, street code).
    pub fn new(
        street_district: impl IntoIterator<Item = (String, String)>,
        grid_street: impl IntoIterator<Item = (String, String)>,
    ) -> AreaIndex {
        AreaIndex {
            street_district: street_district.into_iter().collect(),
            grid_street: grid_street.into_iter().collect(),
        }
    }

    /// Whether `grid` lies in `scope`.
    pub fn covers(&self, scope: &Scope, grid: &str) -> bool {
        let street = self.grid_street.get(grid);
        match scope {
            Scope::City => true,
            Scope::Street(code) => street == Some(code),
            Scope::District(code) => street.and_then(|s| self.street_district.get(s)) == Some(code),
        }
    }

    /// Whether the area `outer` holds the scope `inner`: the city holds everything, a
    /// district itself and its streets, a street itself.
    pub fn contains(&self, outer: &Scope, inner: &Scope) -> bool {
        match (outer, inner) {
            (Scope::City, _) => true,
            (Scope::District(d), Scope::District(w)) => d == w,
            (Scope::District(d), Scope::Street(s)) => self.street_district.get(s) == Some(d),
            (Scope::Street(s), Scope::Street(w)) => s == w,
            _ => false,
        }
    }

    pub fn has_street(&self, code: &str) -> bool {
        self.street_district.contains_key(code)
    }

    pub fn has_district(&self, code: &str) -> bool {
        self.street_district.values().any(|d| d == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn areas() -> AreaIndex {
        AreaIndex {
            grid_street: HashMap::from([
                ("G1".to_owned(), "S1".to_owned()),
                ("G2".to_owned(), "S2".to_owned()),
                ("G3".to_owned(), "S3".to_owned()),
            ]),
            street_district: HashMap::from([
                ("S1".to_owned(), "D1".to_owned()),
                ("S2".to_owned(), "D1".to_owned()),
                ("S3".to_owned(), "D2".to_owned()),
            ]),
        }
    }

    fn principal(role: Role) -> Principal {
        Principal {
            actor: "someone".to_owned(),
            identity: "account:1".to_owned(),
            role,
            area: None,
            department: None,
            grids: HashSet::new(),
            member_id: None,
        }
    }

    #[test]
    fn a_dispatcher_acts_only_within_its_area() {
        let areas = areas();
        let street = Principal {
            area: Some(Scope::Street("S1".to_owned())),
            ..principal(Role::Dispatcher)
        };
        let district = Principal {
            area: Some(Scope::District("D1".to_owned())),
            ..principal(Role::Dispatcher)
        };
        assert!(
            street
                .may_move(Action::Dispatch, Some("G1"), None, &areas)
                .is_ok()
        );
        assert!(
            street
                .may_move(Action::Dispatch, Some("G2"), None, &areas)
                .is_err()
        );
        assert!(
            district
                .may_move(Action::Dispatch, Some("G2"), None, &areas)
                .is_ok()
        );
        assert!(
            district
                .may_move(Action::Reject, Some("G3"), None, &areas)
                .is_err()
        );
        let err = district
            .may_move(Action::Resolve, Some("G1"), None, &areas)
            .unwrap_err();
        assert!(err.to_string().contains("does not `resolve`"), "{err}");
        assert!(district.may_report(Some("G2"), &areas).is_ok());
        assert!(district.may_see(Some("G1"), None, &areas));
        assert!(!district.may_see(Some("G3"), None, &areas));
    }

    #[test]
    fn department_staff_act_on_their_department_s_cases_only() {
        let areas = areas();
        let staff = Principal {
            department: Some("D01".to_owned()),
            ..principal(Role::DepartmentStaff)
        };
        assert!(
            staff
                .may_move(Action::Accept, Some("G3"), Some("D01"), &areas)
                .is_ok()
        );
        assert!(
            staff
                .may_move(Action::Resolve, Some("G3"), Some("D02"), &areas)
                .is_err()
        );
        assert!(
            staff
                .may_move(Action::Dispatch, Some("G3"), Some("D01"), &areas)
                .is_err()
        );
        assert!(staff.may_report(Some("G3"), &areas).is_err());
        assert!(staff.may_see(None, Some("D01"), &areas));
        assert!(!staff.may_see(Some("G1"), None, &areas));
    }

    #[test]
    fn a_grid_worker_reports_and_verifies_in_its_own_grids() {
        let areas = areas();
        let worker = Principal {
            grids: HashSet::from(["G1".to_owned()]),
            ..principal(Role::GridWorker)
        };
        assert!(worker.may_report(Some("G1"), &areas).is_ok());
        let err = worker.may_report(Some("G2"), &areas).unwrap_err();
        assert!(err.to_string().contains("outside your grids (G1)"), "{err}");
        assert!(
            worker
                .may_move(Action::Verify, Some("G1"), None, &areas)
                .is_ok()
        );
        assert!(
            worker
                .may_move(Action::Return, Some("G2"), None, &areas)
                .is_err()
        );
        assert!(
            worker
                .may_move(Action::Dispatch, Some("G1"), None, &areas)
                .is_err()
        );
    }

    #[test]
    fn a_leader_reads_everything_and_moves_nothing() {
        let areas = areas();
        let leader = Principal {
            area: Some(Scope::City),
            ..principal(Role::Leader)
        };
        assert!(leader.may_see(Some("G3"), Some("D02"), &areas));
        assert!(leader.may_report(Some("G3"), &areas).is_err());
        for action in Action::MOVES {
            assert!(leader.may_move(action, Some("G3"), None, &areas).is_err());
        }
    }
}
