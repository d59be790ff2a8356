//! Local calendar days for the wall's "today" figures, computed the same way on both sides.

/// Milliseconds in one day.
pub const DAY_MS: i64 = 86_400_000;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
