//! What the grids are coloured by, and the colour scale of each metric: seven steps whose
//! lower bounds place a grid's value, the step classes the stylesheet colours, and the
//! legend's labels.

use crate::text::t;
use shared::wall::GridTally;

/// The step classes, coloured by the stylesheet (viridis, safe for colour-blind viewers).
pub(super) const CLASSES: [&str; 7] = ["s0", "s1", "s2", "s3", "s4", "s5", "s6"];

/// What the grids are coloured by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Open,
    Overdue,
    Per1000,
    /// Households visited this month as a share of the grid's households, in percent.
    Coverage,
}

impl Metric {
    pub const ALL: [Metric; 4] = [
        Metric::Open,
        Metric::Overdue,
        Metric::Per1000,
        Metric::Coverage,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Metric::Open => "open",
            Metric::Overdue => "overdue",
            Metric::Per1000 => "per_1000",
            Metric::Coverage => "coverage",
        }
    }

    /// The metric of a code, as a seat names it.
    pub fn from_code(code: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Metric::Open => t().metric_open,
            Metric::Overdue => t().metric_overdue,
            Metric::Per1000 => t().metric_per_1000,
            Metric::Coverage => t().metric_coverage,
        }
    }

    /// The lower bound of each of the seven colour steps.
    pub fn steps(self) -> [f64; 7] {
        match self {
            Metric::Open => [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 7.0],
            Metric::Overdue => [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            Metric::Per1000 => [0.0, 20.0, 35.0, 50.0, 65.0, 80.0, 100.0],
            Metric::Coverage => [0.0, 5.0, 10.0, 20.0, 30.0, 50.0, 75.0],
        }
    }

    /// The legend's label for step `i`: counts as whole-number ranges ("5–6"), coverage as
    /// the lower bound of each step ("10%"), as a share falls between whole numbers and
    /// ranges would not fit beside the layer switches.
    pub fn legend(self, i: usize) -> String {
        let steps = self.steps();
        match self {
            Metric::Coverage if i + 1 == steps.len() => format!("{}%+", steps[i]),
            Metric::Coverage => format!("{}%", steps[i]),
            Metric::Open | Metric::Overdue | Metric::Per1000 => step_label(&steps, i),
        }
    }

    /// A grid's value by this metric, from its tally and its residents.
    pub(super) fn value(self, tally: &GridTally, residents: f64) -> f64 {
        match self {
            Metric::Open => tally.open as f64,
            Metric::Overdue => tally.overdue as f64,
            Metric::Per1000 if residents > 0.0 => tally.reported_total as f64 * 1000.0 / residents,
            Metric::Per1000 => 0.0,
            Metric::Coverage => tally.coverage() * 100.0,
        }
    }

    /// The step a value falls into: the last whose lower bound it reaches.
    pub(super) fn bucket(self, value: f64) -> u8 {
        self.steps().iter().rposition(|&s| value >= s).unwrap_or(0) as u8
    }
}

/// The legend's label for step `i` of `steps`: "3", "5–6", "7+".
pub fn step_label(steps: &[f64; 7], i: usize) -> String {
    let lo = steps[i];
    match steps.get(i + 1) {
        None => format!("{lo}+"),
        Some(&hi) if hi - lo <= 1.0 => format!("{lo}"),
        Some(&hi) => format!("{lo}–{}", hi - 1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_fall_into_their_steps() {
        assert_eq!(Metric::Open.bucket(0.0), 0);
        assert_eq!(Metric::Open.bucket(1.0), 1);
        assert_eq!(Metric::Open.bucket(6.0), 5);
        assert_eq!(Metric::Open.bucket(70.0), 6);
        assert_eq!(Metric::Per1000.bucket(49.9), 2);
        let half = GridTally {
            households: 200,
            households_visited_month: 100,
            ..GridTally::default()
        };
        assert_eq!(Metric::Coverage.value(&half, 0.0), 50.0);
        assert_eq!(Metric::Coverage.bucket(50.0), 5);
        assert_eq!(Metric::Coverage.bucket(4.9), 0);
    }

    #[test]
    fn cases_per_thousand_need_residents() {
        let tally = GridTally {
            reported_total: 3,
            ..GridTally::default()
        };
        assert_eq!(Metric::Per1000.value(&tally, 1500.0), 2.0);
        assert_eq!(
            Metric::Per1000.value(&tally, 0.0),
            0.0,
            "no residents, no rate"
        );
    }

    #[test]
    fn metrics_round_trip_their_codes() {
        for m in Metric::ALL {
            assert_eq!(Metric::from_code(m.code()), Some(m));
        }
        assert_eq!(Metric::from_code("per_1000"), Some(Metric::Per1000));
        assert_eq!(Metric::from_code("nope"), None);
    }

    #[test]
    fn legend_labels_name_ranges() {
        let steps = Metric::Open.steps();
        assert_eq!(step_label(&steps, 0), "0");
        assert_eq!(step_label(&steps, 5), "5–6");
        assert_eq!(step_label(&steps, 6), "7+");
        assert_eq!(Metric::Open.legend(5), "5–6");
        assert_eq!(Metric::Coverage.legend(0), "0%");
        assert_eq!(Metric::Coverage.legend(6), "75%+");
    }
}
