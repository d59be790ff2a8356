//! The seat's clock and calendar: moments written and read in the centre's zone whatever the
//! browser's, spans of time in words, and the weeks the comparison and the assessment count.

use crate::text;

/// Now, by the browser's clock (Unix ms).
pub(super) fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// The centre's offset as ISO 8601 writes it (`+08:00`).
fn offset() -> String {
    let m = shared::time::DEFAULT_UTC_OFFSET_MINUTES;
    let sign = if m < 0 { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60)
}

/// The date and time of a moment in the centre's zone, as `2026-11-29 08:30`.
pub(super) fn stamp(ms: i64) -> String {
    let local = ms + i64::from(shared::time::DEFAULT_UTC_OFFSET_MINUTES) * 60_000;
    let day = local.div_euclid(shared::time::DAY_MS);
    let (y, m, d) = shared::time::civil_from_day(day);
    let minute = local.rem_euclid(shared::time::DAY_MS) / 60_000;
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", minute / 60, minute % 60)
}

/// A moment as a `datetime-local` input's value, in the centre's zone whatever the browser's.
pub(super) fn picker_value(ms: i64) -> String {
    stamp(ms).replacen(' ', "T", 1)
}

/// A `datetime-local` value as an ISO 8601 moment in the centre's zone, with the seconds the
/// browser leaves out when they are zero; `None` for an empty value.
fn picker_iso(value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    let seconds = if value.len() == 16 { ":00" } else { "" };
    Some(format!("{value}{seconds}{}", offset()))
}

/// The moment a `datetime-local` value names, read in the centre's zone.
pub(super) fn moment_from_picker(value: &str) -> Option<i64> {
    let ms = js_sys::Date::parse(&picker_iso(value)?);
    ms.is_finite().then_some(ms as i64)
}

/// A span of time as days, hours and minutes, in the page's language.
pub(super) fn span(ms: i64) -> String {
    span_in(ms, text::english())
}

/// A span of time as days and hours, or hours and minutes under a day; its sign is dropped.
fn span_in(ms: i64, english: bool) -> String {
    let minutes = ms.abs() / 60_000;
    let (d, h, m) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (d, english) {
        (0, false) => format!("{h}小时{m}分"),
        (0, true) => format!("{h} h {m} min"),
        (_, false) => format!("{d}天{h}小时"),
        (_, true) => format!("{d} d {h} h"),
    }
}

/// The Monday of the week of local day `day` (days since 1970-01-01).
pub(super) fn monday_of(day: i64) -> i64 {
    // Day 0 (1970-01-01) was a Thursday: three days after a Monday.
    day - (day + 3).rem_euclid(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-29 00:00 in the centre's zone (UTC+8).
    const MIDNIGHT: i64 = 1_795_881_600_000;

    #[test]
    fn moments_are_written_in_the_centres_zone() {
        assert_eq!(offset(), "+08:00");
        assert_eq!(stamp(MIDNIGHT), "2026-11-29 00:00");
        assert_eq!(stamp(MIDNIGHT - 60_000), "2026-11-28 23:59");
        assert_eq!(
            stamp(MIDNIGHT + 8 * 3_600_000 + 30 * 60_000),
            "2026-11-29 08:30"
        );
        assert_eq!(picker_value(MIDNIGHT + 90 * 60_000), "2026-11-29T01:30");
    }

    #[test]
    fn a_picker_value_is_read_in_the_centres_zone() {
        assert_eq!(picker_iso(""), None);
        assert_eq!(
            picker_iso("2026-11-29T08:30").as_deref(),
            Some("2026-11-29T08:30:00+08:00")
        );
        assert_eq!(
            picker_iso("2026-11-29T08:30:15").as_deref(),
            Some("2026-11-29T08:30:15+08:00"),
            "seconds the browser wrote are kept"
        );
        assert_eq!(
            picker_iso(&picker_value(MIDNIGHT)).as_deref(),
            Some("2026-11-29T00:00:00+08:00")
        );
    }

    #[test]
    fn spans_say_hours_and_minutes_under_a_day_and_days_and_hours_over() {
        let minute = 60_000;
        assert_eq!(span_in(0, false), "0小时0分");
        assert_eq!(span_in(125 * minute, false), "2小时5分");
        assert_eq!(span_in(125 * minute, true), "2 h 5 min");
        assert_eq!(span_in(-125 * minute, true), "2 h 5 min", "late by as much");
        assert_eq!(
            span_in((3 * 1440 + 4 * 60 + 59) * minute, false),
            "3天4小时"
        );
        assert_eq!(span_in((1440 + 60) * minute, true), "1 d 1 h");
    }

    #[test]
    fn a_week_starts_on_monday() {
        let sunday = shared::time::local_day(MIDNIGHT, shared::time::DEFAULT_UTC_OFFSET_MINUTES);
        assert_eq!(shared::time::civil_from_day(sunday), (2026, 11, 29));
        let monday = monday_of(sunday);
        assert_eq!(shared::time::civil_from_day(monday), (2026, 11, 23));
        assert_eq!(monday_of(monday), monday);
        assert_eq!(monday_of(monday + 6), monday);
        assert_eq!(monday_of(monday + 7), monday + 7);
        assert_eq!(monday_of(0), -3, "1970-01-01 was a Thursday");
    }
}
