//! Assessment (综治考核): the wire types of the rankings of departments and streets over a
//! period, and of a comparison of two periods' key figures.
//!
//! Every figure is counted from the transition log, with the same meaning as the wall's
//! department tally (`DeptTally`): a closure is a `close` transition, on time when the row's
//! supervision is not `overdue`, and its handling time runs from the case's report to it.
//! The server fills in the derived rates with [`Counts`]'s methods, so that a client that adds
//! rows up gets the same numbers by calling them on the sums.

use crate::scope::Scope;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest period the assessment routes take, in days.
pub const MAX_PERIOD_DAYS: i64 = 400;

/// A half-open period `[from_ms, to_ms)` in Unix milliseconds.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// The first millisecond counted.
    pub from_ms: i64,
    /// The first millisecond no longer counted.
    pub to_ms: i64,
}

/// What a ranking ranks.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    /// The departments that held the cases (the transition row's department).
    Department,
    /// The streets the cases' grids lie in.
    Street,
}

impl RankBy {
    pub const ALL: [RankBy; 2] = [RankBy::Department, RankBy::Street];

    pub fn code(self) -> &'static str {
        match self {
            RankBy::Department => "department",
            RankBy::Street => "street",
        }
    }

    pub fn from_code(code: &str) -> Option<RankBy> {
        RankBy::ALL.into_iter().find(|b| b.code() == code)
    }
}

impl fmt::Display for RankBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The raw counts of one department, street or scope over a period, from which every rate is
/// derived.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Cases reported (`report` transitions).
    pub reports: u64,
    /// `close` transitions.
    pub closures: u64,
    /// Of those, the ones whose row's supervision is not `overdue`.
    pub on_time: u64,
    /// The sum over closures of the time from the case's report to its closure.
    pub handling_ms: u64,
    /// Distinct cases with a `resolve` transition.
    pub resolved: u64,
    /// Distinct cases with a `return` transition (the grid worker's check on site failed).
    pub returned: u64,
    /// `reopen` transitions.
    pub reopened: u64,
}

impl Counts {
    /// On-time closures as a share of closures, from 0 to 1; `None` without closures.
    pub fn on_time_rate(&self) -> Option<f64> {
        (self.closures > 0).then(|| self.on_time as f64 / self.closures as f64)
    }

    /// The mean time from report to closure, in hours; `None` without closures.
    pub fn avg_handling_hours(&self) -> Option<f64> {
        (self.closures > 0).then(|| self.handling_ms as f64 / self.closures as f64 / 3_600_000.0)
    }

    /// Cases returned after a failed check as a share of cases resolved; `None` when nothing
    /// was resolved. A case resolved before the period and returned in it counts among the
    /// returned only, so the share can exceed 1 for a short period.
    pub fn returned_share(&self) -> Option<f64> {
        (self.resolved > 0).then(|| self.returned as f64 / self.resolved as f64)
    }

    /// The counts plus `other`'s.
    pub fn plus(&self, other: &Counts) -> Counts {
        Counts {
            reports: self.reports + other.reports,
            closures: self.closures + other.closures,
            on_time: self.on_time + other.on_time,
            handling_ms: self.handling_ms + other.handling_ms,
            resolved: self.resolved + other.resolved,
            returned: self.returned + other.returned,
            reopened: self.reopened + other.reopened,
        }
    }
}

/// One department or street in a ranking.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankRow {
    /// The place in the ranking, from 1.
    pub rank: u32,
    /// The department's code (`D01`) or the street's.
    pub code: String,
    /// The department's or street's Chinese name.
    pub name: String,
    /// `close` transitions in the period.
    pub closures: u64,
    /// Of those, closures of cases that were not overdue.
    pub on_time: u64,
    /// `on_time / closures`; null without closures.
    pub on_time_rate: Option<f64>,
    /// The sum over closures of the time from report to closure, in milliseconds.
    pub handling_ms: u64,
    /// `handling_ms / closures` in hours; null without closures.
    pub avg_handling_hours: Option<f64>,
    /// Distinct cases resolved in the period.
    pub resolved: u64,
    /// Distinct cases returned after a failed check in the period.
    pub returned: u64,
    /// `returned / resolved`; null when nothing was resolved.
    pub returned_share: Option<f64>,
    /// Cases reopened in the period.
    pub reopened: u64,
    /// Cases reported in the period: for streets only, since a department does not receive
    /// reports (null for departments).
    pub reports: Option<u64>,
}

impl RankRow {
    /// A row with the derived rates filled in; its rank is set when the rows are sorted.
    pub fn new(code: String, name: String, counts: &Counts, with_reports: bool) -> RankRow {
        RankRow {
            rank: 0,
            code,
            name,
            closures: counts.closures,
            on_time: counts.on_time,
            on_time_rate: counts.on_time_rate(),
            handling_ms: counts.handling_ms,
            avg_handling_hours: counts.avg_handling_hours(),
            resolved: counts.resolved,
            returned: counts.returned,
            returned_share: counts.returned_share(),
            reopened: counts.reopened,
            reports: with_reports.then_some(counts.reports),
        }
    }

    /// The row's raw counts (`reports` is 0 for a department).
    pub fn counts(&self) -> Counts {
        Counts {
            reports: self.reports.unwrap_or(0),
            closures: self.closures,
            on_time: self.on_time,
            handling_ms: self.handling_ms,
            resolved: self.resolved,
            returned: self.returned,
            reopened: self.reopened,
        }
    }

    /// The ranking's order: rows with closures first, by on-time rate (highest first), then
    /// by average handling time (shortest first), then by code; rows without closures after
    /// them, by code.
    pub fn order(a: &RankRow, b: &RankRow) -> std::cmp::Ordering {
        match (a.on_time_rate, b.on_time_rate) {
            (Some(ra), Some(rb)) => rb
                .total_cmp(&ra)
                .then_with(|| {
                    let ha = a.avg_handling_hours.unwrap_or(f64::INFINITY);
                    let hb = b.avg_handling_hours.unwrap_or(f64::INFINITY);
                    ha.total_cmp(&hb)
                })
                .then_with(|| a.code.cmp(&b.code)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.code.cmp(&b.code),
        }
    }

    /// Sorts `rows` in the ranking's order and numbers them from 1.
    pub fn rank(rows: &mut [RankRow]) {
        rows.sort_by(RankRow::order);
        for (i, row) in rows.iter_mut().enumerate() {
            row.rank = i as u32 + 1;
        }
    }
}

/// `GET /api/rankings`: the departments or streets of a scope over a period, best first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rankings {
    pub by: RankBy,
    pub scope: Scope,
    /// The scope's Chinese name (全市 for the city).
    pub scope_name: String,
    pub period: Period,
    /// Departments with any closure, resolution, return or reopening in the period and the
    /// scope; or every street of the scope, active or not.
    pub rows: Vec<RankRow>,
}

/// A scope's key figures over one period.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodFigures {
    pub period: Period,
    /// Cases reported in the period.
    pub reports: u64,
    /// `close` transitions in the period.
    pub closures: u64,
    /// Of those, closures of cases that were not overdue.
    pub on_time: u64,
    /// `on_time / closures`; null without closures.
    pub on_time_rate: Option<f64>,
    /// The sum over closures of the time from report to closure, in milliseconds.
    pub handling_ms: u64,
    /// `handling_ms / closures` in hours; null without closures.
    pub avg_handling_hours: Option<f64>,
    /// Distinct cases resolved in the period.
    pub resolved: u64,
    /// Distinct cases returned after a failed check in the period.
    pub returned: u64,
    /// `returned / resolved`; null when nothing was resolved.
    pub returned_share: Option<f64>,
    /// Cases reopened in the period.
    pub reopened: u64,
    /// Open cases under supervision (overdue) when the figures were read: a standing count,
    /// not the period's, so both halves of a comparison carry the same number.
    pub overdue_now: u64,
}

impl PeriodFigures {
    pub fn new(period: Period, counts: &Counts, overdue_now: u64) -> PeriodFigures {
        PeriodFigures {
            period,
            reports: counts.reports,
            closures: counts.closures,
            on_time: counts.on_time,
            on_time_rate: counts.on_time_rate(),
            handling_ms: counts.handling_ms,
            avg_handling_hours: counts.avg_handling_hours(),
            resolved: counts.resolved,
            returned: counts.returned,
            returned_share: counts.returned_share(),
            reopened: counts.reopened,
            overdue_now,
        }
    }
}

/// `GET /api/compare`: a scope's key figures over two periods, `a` and the one it is
/// compared with, `b`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub scope: Scope,
    /// The scope's Chinese name (全市 for the city).
    pub scope_name: String,
    pub a: PeriodFigures,
    pub b: PeriodFigures,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(code: &str, closures: u64, on_time: u64, handling_h: u64) -> RankRow {
        let counts = Counts {
            closures,
            on_time,
            handling_ms: handling_h * 3_600_000,
            ..Counts::default()
        };
        RankRow::new(code.to_owned(), code.to_owned(), &counts, false)
    }

    #[test]
    fn rows_rank_by_rate_then_handling_then_code_and_idle_rows_last() {
        let mut rows = vec![
            row("D05", 0, 0, 0),
            row("D04", 10, 9, 100),
            row("D03", 10, 10, 50),
            row("D02", 10, 9, 80),
            row("D01", 10, 9, 80),
        ];
        RankRow::rank(&mut rows);
        let order: Vec<(&str, u32)> = rows.iter().map(|r| (r.code.as_str(), r.rank)).collect();
        assert_eq!(
            order,
            [("D03", 1), ("D01", 2), ("D02", 3), ("D04", 4), ("D05", 5)]
        );
        assert_eq!(rows[4].on_time_rate, None);
        assert_eq!(rows[1].avg_handling_hours, Some(8.0));
    }

    #[test]
    fn rates_are_absent_without_a_denominator() {
        let none = Counts::default();
        assert_eq!(none.on_time_rate(), None);
        assert_eq!(none.avg_handling_hours(), None);
        assert_eq!(none.returned_share(), None);
        let some = Counts {
            resolved: 4,
            returned: 1,
            ..Counts::default()
        };
        assert_eq!(some.returned_share(), Some(0.25));
        assert_eq!(some.plus(&some).returned_share(), Some(0.25));
    }

    #[test]
    fn rank_by_codes_round_trip() {
        for by in RankBy::ALL {
            assert_eq!(RankBy::from_code(by.code()), Some(by));
        }
        assert_eq!(RankBy::from_code("district"), None);
    }
}
