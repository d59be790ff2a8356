//! Who may act: the roles of the platform and the login messages, as the API and the field
//! pages exchange them.
//!
//! The rules themselves (which role may make which move where) live on the server, in
//! `backend::auth`; a client only shows what its role can do.

use crate::case::Action;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What an account is for.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A grid worker (网格员): reports in its grids, and verifies or returns the cases there.
    GridWorker,
    /// A dispatcher at a city, district or street centre: dispatches, rejects, escalates,
    /// reopens and closes cases within its area, and registers cases from the hotline.
    Dispatcher,
    /// Staff of a department: accepts and resolves the cases dispatched to it.
    DepartmentStaff,
    /// A leader: reads everything, moves nothing.
    Leader,
    /// An outside reporting app with an API key (Open311 clients, the 12345 hotline's system):
    /// reports anywhere in the city.
    ReportingApp,
    /// The server itself: the time-limit watcher, the simulator and the demo history.
    System,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::GridWorker,
        Role::Dispatcher,
        Role::DepartmentStaff,
        Role::Leader,
        Role::ReportingApp,
        Role::System,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::GridWorker => "grid_worker",
            Role::Dispatcher => "dispatcher",
            Role::DepartmentStaff => "department_staff",
            Role::Leader => "leader",
            Role::ReportingApp => "reporting_app",
            Role::System => "system",
        }
    }

    pub fn from_code(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The moves this role makes, wherever its area allows them.
    pub fn moves(self) -> &'static [Action] {
        match self {
            Role::GridWorker => &[Action::Verify, Action::Return, Action::Close],
            Role::Dispatcher => &[
                Action::Dispatch,
                Action::Reject,
                Action::Escalate,
                Action::Reopen,
                Action::Close,
                Action::Urge,
            ],
            Role::DepartmentStaff => &[Action::Accept, Action::Resolve],
            Role::Leader | Role::ReportingApp => &[],
            Role::System => &Action::MOVES,
        }
    }

    /// Whether this role may report cases.
    pub fn reports(self) -> bool {
        matches!(
            self,
            Role::GridWorker | Role::Dispatcher | Role::ReportingApp | Role::System
        )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// `POST /api/login`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
}

/// The answer to a login: a bearer token for `Authorization: Bearer …`, and who it is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    /// When the token stops working (Unix milliseconds).
    pub expires_at_ms: i64,
    pub account: AccountView,
}

/// An account as `GET /api/me` shows it to its holder.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountView {
    pub login: String,
    pub name: String,
    pub role: Role,
    /// A dispatcher's or leader's area: `city`, `district:CODE` or `street:CODE`.
    pub area: Option<String>,
    /// A department staff member's department code.
    pub department: Option<String>,
    /// A grid worker's grids.
    pub grids: Vec<String>,
    /// The moves the role makes (within its area).
    pub moves: Vec<Action>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_codes_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::from_code(role.code()), Some(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.code()));
        }
        assert_eq!(Role::from_code("admin"), None);
    }

    #[test]
    fn no_role_but_the_system_records_the_watcher_s_steps() {
        for role in Role::ALL {
            let watcher = role
                .moves()
                .iter()
                .any(|a| Action::WATCHER.contains(a) || *a == Action::Report);
            assert!(
                !watcher,
                "{role} must not record watcher steps or reports as moves"
            );
        }
    }
}
