//! The domain events: what the case writer commits and what the fold folds, in commit order.
//!
//! They live here, below both the writer and the fold, so that neither imports the other.

use shared::case::{Action, CaseState, Category, Supervision, TimeLimit};

/// What the live feed receives: a committed transition or a house visit, in commit order.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Transition(Committed),
    Visit(Visit),
}

/// A house visit (入户走访) by a member of the grid team.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    pub id: i64,
    pub grid_id: String,
    pub member_id: i64,
    pub household: String,
    pub at_ms: i64,
}

/// The parts of a case that a move can change, as they were before or after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub state: CaseState,
    pub department: Option<String>,
    pub supervision: Supervision,
    pub deadline_ms: Option<i64>,
}

impl Facts {
    /// The time limit of a case dispatched at `dispatched_ms`, as these facts describe it.
    pub fn time_limit(&self, dispatched_ms: Option<i64>) -> Option<TimeLimit> {
        Some(TimeLimit {
            dispatched_ms: dispatched_ms?,
            deadline_ms: self.deadline_ms?,
        })
    }

    /// When the time-limit watcher must next look at a case dispatched at `dispatched_ms`,
    /// and what it will do then.
    pub fn next_check(&self, dispatched_ms: Option<i64>) -> Option<(i64, Action)> {
        self.time_limit(dispatched_ms)?
            .next_check(self.state, self.supervision)
    }
}

/// The time limit of a case whose sub-item is not known.
pub const DEFAULT_TIME_LIMIT_HOURS: u32 = 72;

/// One committed transition, as the live feed receives it: the move, and the case's fixed
/// facts, so that folding it needs no read of the tables.
#[derive(Debug, Clone, PartialEq)]
pub struct Committed {
    pub seq: u64,
    pub case_id: i64,
    pub action: Action,
    /// `None` for a report, which creates the case.
    pub before: Option<Facts>,
    pub after: Facts,
    pub at_ms: i64,
    pub category: Category,
    pub sub_item: Option<String>,
    pub grid_id: Option<String>,
    pub reported_at_ms: i64,
    pub reporter_id: Option<i64>,
    /// When the transaction committed, for the commit-to-send latency.
    pub committed_at: std::time::Instant,
}

impl Committed {
    pub fn from_state(&self) -> Option<CaseState> {
        self.before.as_ref().map(|f| f.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dispatched(state: CaseState, supervision: Supervision) -> Facts {
        Facts {
            state,
            department: Some("D01".to_owned()),
            supervision,
            deadline_ms: Some(24 * 3_600_000),
        }
    }

    #[test]
    fn an_undispatched_case_has_no_time_limit_and_no_check() {
        let f = Facts {
            deadline_ms: None,
            ..dispatched(CaseState::Reported, Supervision::None)
        };
        assert_eq!(f.time_limit(Some(0)), None);
        assert_eq!(f.next_check(Some(0)), None);
        let f = dispatched(CaseState::Dispatched, Supervision::None);
        assert_eq!(f.next_check(None), None);
    }

    #[test]
    fn a_dispatched_case_is_warned_at_three_quarters_of_its_limit() {
        let f = dispatched(CaseState::Dispatched, Supervision::None);
        assert_eq!(f.next_check(Some(0)), Some((18 * 3_600_000, Action::Warn)));
    }
}
