//! The W3C datetimes of the standard: how a case's times are written, and how `start_date`
//! and `end_date` are read.

use shared::time::{DAY_MS, civil_from_day, day_from_civil};

/// `ms` as a W3C datetime in the zone `offset_minutes` east of UTC, to the second:
/// `2026-11-29T14:33:16+08:00` (`Z` for UTC itself).
pub fn w3c_datetime(ms: i64, offset_minutes: i32) -> String {
    let local = ms.div_euclid(1_000) + i64::from(offset_minutes) * 60;
    let (year, month, day) = civil_from_day(local.div_euclid(86_400));
    let secs = local.rem_euclid(86_400);
    let zone = if offset_minutes == 0 {
        "Z".to_owned()
    } else {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let off = offset_minutes.unsigned_abs();
        format!("{sign}{:02}:{:02}", off / 60, off % 60)
    };
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{zone}",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

/// Reads a W3C datetime (`2026-11-01`, `2026-11-01T08:00+08:00`, `2026-11-01T08:00:00Z`,
/// `2026-11-01T08:00:00.5-05:00`) as the first and last Unix millisecond it covers: a date
/// is its whole day, a time to the minute its minute, and so on, so that an `end_date`
/// includes what it names. Without a zone the time is the centre's (`offset_minutes`). A
/// space before the zone's hours is read as `+`, which is what an unescaped `+` in a query
/// string becomes.
pub fn parse_w3c(text: &str, offset_minutes: i32) -> Option<(i64, i64)> {
    let b = text.trim().as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = b.get(from..from + len)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let year = num(0, 4)?;
    if !at(4, b'-') || !at(7, b'-') {
        return None;
    }
    let month = u32::try_from(num(5, 2)?).ok()?;
    let day = u32::try_from(num(8, 2)?).ok()?;
    if !(1..=12).contains(&month) || day == 0 {
        return None;
    }
    let days = day_from_civil(year, month, day);
    // A date the calendar does not have (the 31st of a short month) does not round-trip.
    if civil_from_day(days) != (year, month, day) {
        return None;
    }
    let mut i = 10;
    let (mut ms, mut span, mut zone) = (0_i64, DAY_MS, None);
    if i < b.len() {
        if !(at(i, b'T') || at(i, b't')) {
            return None;
        }
        let hour = num(i + 1, 2)?;
        if !at(i + 3, b':') {
            return None;
        }
        let minute = num(i + 4, 2)?;
        if hour > 23 || minute > 59 {
            return None;
        }
        ms = (hour * 60 + minute) * 60_000;
        span = 60_000;
        i += 6;
        if at(i, b':') {
            let second = num(i + 1, 2)?;
            if second > 59 {
                return None;
            }
            ms += second * 1_000;
            span = 1_000;
            i += 3;
            if at(i, b'.') {
                let start = i + 1;
                let mut end = start;
                while b.get(end).is_some_and(u8::is_ascii_digit) {
                    end += 1;
                }
                if end == start {
                    return None;
                }
                // Milliseconds are the tables' precision; further digits are dropped.
                let digits = &b[start..end.min(start + 3)];
                let mut frac: i64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
                for _ in digits.len()..3 {
                    frac *= 10;
                }
                ms += frac;
                span = 1;
                i = end;
            }
        }
        match b.get(i) {
            None => {}
            Some(b'Z' | b'z') if i + 1 == b.len() => zone = Some(0),
            Some(&sign @ (b'+' | b'-' | b' ')) => {
                let hours = num(i + 1, 2)?;
                if !at(i + 3, b':') || i + 6 != b.len() {
                    return None;
                }
                let minutes = num(i + 4, 2)?;
                if hours > 23 || minutes > 59 {
                    return None;
                }
                let east = hours * 60 + minutes;
                zone = Some(if sign == b'-' { -east } else { east });
            }
            Some(_) => return None,
        }
    }
    let offset = zone.unwrap_or(i64::from(offset_minutes));
    let first = days * DAY_MS + ms - offset * 60_000;
    Some((first, first + span - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CST: i32 = 8 * 60;

    #[test]
    fn datetimes_are_written_at_the_centre_s_offset() {
        // 2026-11-28T16:00:00Z is midnight of the 29th in UTC+8.
        let ms = 1_795_881_600_000;
        assert_eq!(w3c_datetime(ms, CST), "2026-11-29T00:00:00+08:00");
        assert_eq!(w3c_datetime(ms + 999, 0), "2026-11-28T16:00:00Z");
        assert_eq!(w3c_datetime(ms, -330), "2026-11-28T10:30:00-05:30");
    }

    #[test]
    fn datetimes_are_read_with_their_precision() {
        let midnight = 1_795_881_600_000;
        assert_eq!(
            parse_w3c("2026-11-29", CST),
            Some((midnight, midnight + DAY_MS - 1))
        );
        assert_eq!(
            parse_w3c("2026-11-29T00:00:00+08:00", CST),
            Some((midnight, midnight + 999))
        );
        assert_eq!(
            parse_w3c("2026-11-28T16:00:00Z", CST),
            Some((midnight, midnight + 999))
        );
        // An unescaped `+` arrives as a space.
        assert_eq!(
            parse_w3c("2026-11-29T00:00 08:00", CST),
            Some((midnight, midnight + 59_999))
        );
        assert_eq!(
            parse_w3c("2026-11-28T11:00:00.25-05:00", CST),
            Some((midnight + 250, midnight + 250))
        );
        // No zone: the centre's.
        assert_eq!(
            parse_w3c("2026-11-29T00:00:00", CST).map(|r| r.0),
            Some(midnight)
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-02-30",
            "2026-11-29T24:00:00Z",
            "2026-11-29T10:00:00+0800",
            "2026-11-29T10:00:00Zjunk",
            "2026-11-29 10:00:00",
            "2026-11-29T10",
            "2026-11-29T10:00:00.Z",
        ] {
            assert_eq!(parse_w3c(bad, CST), None, "{bad}");
        }
        for ms in [0, midnight, midnight + 12_345_000, -86_400_000 * 400] {
            let text = w3c_datetime(ms, CST);
            assert_eq!(parse_w3c(&text, CST), Some((ms, ms + 999)), "{text}");
        }
    }
}
