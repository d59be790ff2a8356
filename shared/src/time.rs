//! Local calendar days for the wall's "today" figures, computed the same way on both sides.

/// Milliseconds in one day.
pub const DAY_MS: i64 = 86_400_000;

/// The earliest moment the API takes, 2000-01-01T00:00:00Z: no city's log is older, and a
/// bound keeps every subtraction of two moments far from overflowing.
pub const MIN_MOMENT_MS: i64 = 946_684_800_000;
/// The latest moment the API takes, 2100-01-01T00:00:00Z.
pub const MAX_MOMENT_MS: i64 = 4_102_444_800_000;

/// Whether `unix_ms` lies in [`MIN_MOMENT_MS`, `MAX_MOMENT_MS`].
pub fn moment_in_range(unix_ms: i64) -> bool {
    (MIN_MOMENT_MS..=MAX_MOMENT_MS).contains(&unix_ms)
}

/// China Standard Time (UTC+8), the demo city's clock, in minutes east of UTC.
pub const DEFAULT_UTC_OFFSET_MINUTES: i32 = 8 * 60;

/// The local day number (days since 1970-01-01 in local time) of a Unix time in milliseconds.
///
/// "Reported today" means reported on the local day of the command centre, not the UTC day,
/// so that the counter resets at the centre's midnight.
pub fn local_day(unix_ms: i64, utc_offset_minutes: i32) -> i64 {
    (unix_ms + i64::from(utc_offset_minutes) * 60_000).div_euclid(DAY_MS)
}

/// The Unix time in milliseconds at which a local day starts.
pub fn local_day_start_ms(day: i64, utc_offset_minutes: i32) -> i64 {
    day * DAY_MS - i64::from(utc_offset_minutes) * 60_000
}

/// Milliseconds in one hour.
pub const HOUR_MS: i64 = 3_600_000;

/// The local hour number (hours since 1970-01-01 00:00 local time) of a Unix time.
pub fn local_hour(unix_ms: i64, utc_offset_minutes: i32) -> i64 {
    (unix_ms + i64::from(utc_offset_minutes) * 60_000).div_euclid(HOUR_MS)
}

/// The Unix time in milliseconds at which a local hour starts.
pub fn local_hour_start_ms(hour: i64, utc_offset_minutes: i32) -> i64 {
    hour * HOUR_MS - i64::from(utc_offset_minutes) * 60_000
}

/// The civil date (year, month 1-12, day 1-31) of a day number, by Howard Hinnant's
/// `civil_from_days`.
pub fn civil_from_day(day: i64) -> (i64, u32, u32) {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The day number (days since 1970-01-01) of a civil date, by Howard Hinnant's
/// `days_from_civil`; the inverse of [`civil_from_day`].
pub fn day_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The day number of the first day of the month that `day` falls in.
pub fn month_start_day(day: i64) -> i64 {
    let (_, _, d) = civil_from_day(day);
    day - i64::from(d) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_are_taken_from_2000_to_2100() {
        assert_eq!(civil_from_day(MIN_MOMENT_MS / DAY_MS), (2000, 1, 1));
        assert_eq!(civil_from_day(MAX_MOMENT_MS / DAY_MS), (2100, 1, 1));
        assert!(moment_in_range(MIN_MOMENT_MS) && moment_in_range(MAX_MOMENT_MS));
        assert!(!moment_in_range(MIN_MOMENT_MS - 1) && !moment_in_range(MAX_MOMENT_MS + 1));
        assert!(!moment_in_range(i64::MIN) && !moment_in_range(-5_000_000_000_000_000_000));
    }

    #[test]
    fn local_midnight_is_the_boundary() {
        let offset = DEFAULT_UTC_OFFSET_MINUTES;
        // 2026-11-28T16:00:00Z is midnight in UTC+8, the start of 2026-11-29 there.
        let midnight_utc8 = 1_795_881_600_000_i64;
        let day = local_day(midnight_utc8, offset);
        assert_eq!(local_day(midnight_utc8 - 1, offset), day - 1);
        assert_eq!(local_day_start_ms(day, offset), midnight_utc8);
        assert_eq!(
            local_day(local_day_start_ms(day, offset) + DAY_MS - 1, offset),
            day
        );
    }

    #[test]
    fn times_before_the_epoch_round_down() {
        assert_eq!(local_day(-1, 0), -1);
        assert_eq!(local_day_start_ms(-1, 0), -DAY_MS);
    }

    #[test]
    fn civil_dates_and_months() {
        assert_eq!(civil_from_day(0), (1970, 1, 1));
        // 2026-11-29 is day 20,786.
        assert_eq!(civil_from_day(20_786), (2026, 11, 29));
        assert_eq!(civil_from_day(month_start_day(20_786)), (2026, 11, 1));
        assert_eq!(civil_from_day(20_819), (2027, 1, 1));
        assert_eq!(month_start_day(20_819), 20_819);
        // A leap day.
        assert_eq!(civil_from_day(19_416), (2023, 2, 28));
        assert_eq!(civil_from_day(19_782), (2024, 2, 29));
    }

    #[test]
    fn civil_dates_round_trip() {
        // Some 5,500 years either side of the epoch: negative days, every kind of leap year.
        for day in -2_000_000..=2_000_000 {
            let (y, m, d) = civil_from_day(day);
            assert_eq!(day_from_civil(y, m, d), day, "{y}-{m}-{d}");
        }
        assert_eq!(day_from_civil(1970, 1, 1), 0);
        assert_eq!(day_from_civil(1969, 12, 31), -1);
        assert_eq!(day_from_civil(2026, 11, 29), 20_786);
        assert_eq!(day_from_civil(2024, 2, 29), 19_782);
        // 2000 is a leap year, 1900 and 2100 are not.
        assert_eq!(day_from_civil(2000, 3, 1) - day_from_civil(2000, 2, 28), 2);
        assert_eq!(day_from_civil(1900, 3, 1) - day_from_civil(1900, 2, 28), 1);
        assert_eq!(day_from_civil(2100, 3, 1) - day_from_civil(2100, 2, 28), 1);
        assert_eq!(civil_from_day(day_from_civil(-4, 2, 29)), (-4, 2, 29));
    }

    #[test]
    fn local_hours_follow_the_offset() {
        let offset = DEFAULT_UTC_OFFSET_MINUTES;
        let h = local_hour(0, offset);
        assert_eq!(h, 8);
        assert_eq!(local_hour_start_ms(h, offset), 0);
        assert_eq!(local_hour(-1, 0), -1);
    }
}
