//! Calendar arithmetic for the two timestamp forms this crate reads and writes: SigV4's basic
//! ISO-8601 `YYYYMMDDTHHMMSSZ` (`X-Amz-Date`) and the extended ISO-8601 forms IAM `Date*`
//! condition operators accept. Kept here, dependency-free, because only UTC and whole seconds
//! matter and pulling a date crate into the request path is not worth it.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch (negative before 1970), saturating for absurd clocks.
pub(crate) fn epoch_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u32, |acc, d| {
        acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

fn checked_seconds(year: u32, month: u32, day: u32, h: u32, m: u32, s: u32) -> Option<i64> {
    let year = i64::from(year);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    // 23:59:60 is tolerated as a leap second only in the sense that it does not fail.
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + i64::from(h * 3600 + m * 60 + s))
}

/// Parses SigV4's `YYYYMMDDTHHMMSSZ`, exactly 16 characters, into epoch seconds.
pub(crate) fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    checked_seconds(
        digits(&b[0..4])?,
        digits(&b[4..6])?,
        digits(&b[6..8])?,
        digits(&b[9..11])?,
        digits(&b[11..13])?,
        digits(&b[13..15])?,
    )
}

/// Formats epoch seconds as SigV4's `YYYYMMDDTHHMMSSZ`.
pub(crate) fn format_amz_date(secs: i64) -> String {
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}{mo:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Formats epoch seconds as extended ISO-8601 UTC (`2026-11-25T22:10:26Z`), the form of
/// `aws:CurrentTime`.
pub(crate) fn format_iso8601(secs: i64) -> String {
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses the date forms IAM accepts in `Date*` conditions: epoch seconds (`1700000000`),
/// a date (`2026-11-25`), or a date-time with optional fractional seconds and a `Z` or
/// `±HH:MM` offset (`2026-11-25T22:10:26Z`, `2026-11-25T22:10:26.123+01:00`). Fractions are
/// dropped: IAM compares at one-second granularity as far as anyone can observe.
pub(crate) fn parse_iso8601(s: &str) -> Option<i64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    if b.len() == 10 {
        return checked_seconds(year, month, day, 0, 0, 0);
    }
    if b[10] != b'T' || b.len() < 16 || b[13] != b':' {
        return None;
    }
    let (hour, minute) = (digits(&b[11..13])?, digits(&b[14..16])?);
    let mut rest = &b[16..];
    let mut second = 0;
    if let Some(after) = rest.strip_prefix(b":") {
        second = digits(after.get(0..2)?)?;
        rest = &after[2..];
        if let Some(frac) = rest.strip_prefix(b".") {
            let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            rest = &frac[n..];
        }
    }
    let offset = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let off = i64::from(digits(&[*h1, *h2])? * 3600 + digits(&[*m1, *m2])? * 60);
            if *sign == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return None,
    };
    Some(checked_seconds(year, month, day, hour, minute, second)? - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_date_round_trips_across_leap_days_and_centuries() {
        for s in [
            "19700101T000000Z",
            "20000229T235959Z",
            "20261125T221026Z",
            "21000301T120000Z",
        ] {
            let secs = parse_amz_date(s).unwrap();
            assert_eq!(format_amz_date(secs), s);
        }
        assert_eq!(parse_amz_date("20261125T221026Z"), Some(1_795_644_626));
    }

    #[test]
    fn malformed_amz_dates_are_rejected() {
        for s in [
            "",
            "20261125T221026",
            "20261125 221026Z",
            "20260230T000000Z",
            "20261325T000000Z",
            "20261125T241026Z",
            "2026112５T221026Z",
            "+0261125T221026Z",
        ] {
            assert_eq!(parse_amz_date(s), None, "{s}");
        }
    }

    #[test]
    fn iso8601_forms_accepted_by_date_conditions() {
        let base = parse_amz_date("20261125T221026Z").unwrap();
        assert_eq!(parse_iso8601("2026-11-25T22:10:26Z"), Some(base));
        assert_eq!(parse_iso8601("2026-11-25T22:10:26.999Z"), Some(base));
        assert_eq!(parse_iso8601("2026-11-25T23:10:26+01:00"), Some(base));
        assert_eq!(parse_iso8601("2026-11-25T22:10Z"), Some(base - 26));
        assert_eq!(parse_iso8601("2026-11-25"), Some(base - 22 * 3600 - 626));
        assert_eq!(parse_iso8601("1795644626"), Some(base));
        assert_eq!(format_iso8601(base), "2026-11-25T22:10:26Z");
        for bad in [
            "2026-11-25T22:10:26",
            "2026-13-01",
            "yesterday",
            "2026-11-25T22:10:26.Z",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }
}
