//! UTC offsets and time zones. A zone is either a fixed offset (`+01:00`, `Z`) or an IANA
//! name (`Europe/Stockholm`) whose rules — historical ones included, such as Stockholm's
//! local mean time `+00:53:28` before 1879 — come from jiff's bundled copy of the tz
//! database, so results do not depend on the host's `/usr/share/zoneinfo`.
//!
//! jiff's instants and civil times span years ±9,999; Cypher's span ±999,999,999. Outside
//! jiff's span we shift by whole 400-year Gregorian cycles (which repeat the calendar
//! exactly) into it: far from the present a zone follows either its first offset (local mean
//! time) or its final, yearly repeating rule, so the shifted lookup gives the same offset.

use std::fmt;

use super::calendar::{civil_from_days, DAYS_PER_400_YEARS, SECONDS_PER_DAY};
use super::invalid;
use crate::error::{Result, TemporalError};

/// Seconds east of UTC, within ±18 hours (Java's `ZoneOffset` range, as in Neo4j).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Offset(i32);

impl Offset {
    pub const UTC: Offset = Offset(0);
    const MAX: i32 = 18 * 3600;

    pub fn from_seconds(seconds: i64) -> Result<Offset> {
        if seconds.abs() > i64::from(Self::MAX) {
            return Err(invalid(format!(
                "time zone offset must be within ±18:00, got {seconds} seconds"
            )));
        }
        Ok(Offset(seconds as i32))
    }

    pub fn seconds(self) -> i32 {
        self.0
    }

    /// Parses `Z`, `±HH`, `±HHMM`, `±HH:MM`, `±HHMMSS` or `±HH:MM:SS`; `None` when `text`
    /// does not look like an offset at all (it may be a zone name).
    pub fn parse(text: &str) -> Option<Result<Offset>> {
        if text == "Z" || text == "z" {
            return Some(Ok(Offset::UTC));
        }
        let sign = match text.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let body = &text[1..];
        let parts: Vec<&str> = if body.contains(':') {
            body.split(':').collect()
        } else {
            if !body.len().is_multiple_of(2) || body.is_empty() || body.len() > 6 {
                return Some(Err(bad_offset(text)));
            }
            (0..body.len() / 2)
                .map(|i| &body[2 * i..2 * i + 2])
                .collect()
        };
        if parts.is_empty()
            || parts.len() > 3
            || parts
                .iter()
                .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Some(Err(bad_offset(text)));
        }
        let num = |i: usize| -> i64 { parts.get(i).map_or(0, |p| p.parse().unwrap_or(0)) };
        let (h, m, s) = (num(0), num(1), num(2));
        if m > 59 || s > 59 {
            return Some(Err(bad_offset(text)));
        }
        Some(Offset::from_seconds(sign * (h * 3600 + m * 60 + s)))
    }
}

fn bad_offset(text: &str) -> TemporalError {
    invalid(format!("invalid time zone offset '{text}'"))
}

/// `Z`, or `±HH:MM`, with `:SS` when the offset has seconds (Java's `ZoneOffset` id).
impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("Z");
        }
        let sign = if self.0 < 0 { '-' } else { '+' };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", a / 3600, a / 60 % 60)?;
        if !a.is_multiple_of(60) {
            write!(f, ":{:02}", a % 60)?;
        }
        Ok(())
    }
}

/// A time zone: fixed offset or IANA region.
#[derive(Clone, Debug)]
pub enum Zone {
    Fixed(Offset),
    Named {
        name: Box<str>,
        tz: jiff::tz::TimeZone,
    },
}

impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        match (self, other) {
            (Zone::Fixed(a), Zone::Fixed(b)) => a == b,
            (Zone::Named { name: a, .. }, Zone::Named { name: b, .. }) => a == b,
            _ => false,
        }
    }
}

impl Zone {
    pub const UTC: Zone = Zone::Fixed(Offset::UTC);

    /// An offset (`+01:00`, `Z`) or an IANA zone name (`Europe/Stockholm`; spaces are read
    /// as underscores, as Neo4j does for `America/Los Angeles`).
    pub fn parse(text: &str) -> Result<Zone> {
        if let Some(offset) = Offset::parse(text) {
            return offset.map(Zone::Fixed);
        }
        Zone::named(text)
    }

    /// An IANA zone by name.
    pub fn named(name: &str) -> Result<Zone> {
        let lookup = name.replace(' ', "_");
        if lookup.is_empty() || lookup.len() > 64 {
            return Err(invalid(format!("invalid time zone '{name}'")));
        }
        match jiff::tz::db().get(&lookup) {
            Ok(tz) => {
                let canonical: Box<str> = tz.iana_name().unwrap_or(&lookup).into();
                Ok(Zone::Named {
                    name: canonical,
                    tz,
                })
            }
            Err(_) => Err(invalid(format!("unknown time zone '{name}'"))),
        }
    }

    /// The IANA name, for named zones.
    pub fn name(&self) -> Option<&str> {
        match self {
            Zone::Fixed(_) => None,
            Zone::Named { name, .. } => Some(name),
        }
    }

    /// The offset in force at an instant (seconds since the epoch).
    pub fn offset_at(&self, epoch_seconds: i64) -> Offset {
        match self {
            Zone::Fixed(o) => *o,
            Zone::Named { tz, .. } => {
                let cycles = cycles_to_jiff_range(epoch_seconds.div_euclid(SECONDS_PER_DAY));
                // Wide arithmetic: any i64 instant, even far outside the supported dates, must
                // not overflow here (the caller rejects out-of-range dates afterwards).
                let shifted = epoch_seconds as i128
                    + cycles as i128 * (DAYS_PER_400_YEARS * SECONDS_PER_DAY) as i128;
                let shifted = i64::try_from(shifted).unwrap_or(0);
                match jiff::Timestamp::new(shifted, 0) {
                    Ok(ts) => Offset(tz.to_offset(ts).seconds()),
                    Err(_) => Offset::UTC,
                }
            }
        }
    }

    /// Resolves a local date-time (as seconds since 1970-01-01T00:00 local) to an offset,
    /// the way Java's `ZonedDateTime.ofLocal` does: in a gap the local time moves forward by
    /// the gap's length (the returned shift, in seconds); in an overlap `preferred` wins when
    /// it is one of the two offsets, else the earlier one.
    pub fn resolve_local(&self, local_seconds: i64, preferred: Option<Offset>) -> (Offset, i64) {
        let tz = match self {
            Zone::Fixed(o) => return (*o, 0),
            Zone::Named { tz, .. } => tz,
        };
        let days = local_seconds.div_euclid(SECONDS_PER_DAY);
        let secs = local_seconds.rem_euclid(SECONDS_PER_DAY);
        let shifted_days = days + cycles_to_jiff_range(days) * DAYS_PER_400_YEARS;
        let (y, m, d) = civil_from_days(shifted_days);
        let civil = jiff::civil::DateTime::new(
            y as i16,
            m as i8,
            d as i8,
            (secs / 3600) as i8,
            (secs / 60 % 60) as i8,
            (secs % 60) as i8,
            0,
        );
        let Ok(civil) = civil else {
            return (Offset::UTC, 0);
        };
        match tz.to_ambiguous_timestamp(civil).offset() {
            jiff::tz::AmbiguousOffset::Unambiguous { offset } => (Offset(offset.seconds()), 0),
            jiff::tz::AmbiguousOffset::Gap { before, after } => (
                Offset(after.seconds()),
                i64::from(after.seconds() - before.seconds()),
            ),
            jiff::tz::AmbiguousOffset::Fold { before, after } => {
                let after = Offset(after.seconds());
                if preferred == Some(after) {
                    (after, 0)
                } else {
                    (Offset(before.seconds()), 0)
                }
            }
        }
    }
}

/// How many 400-year cycles to add to an epoch day to bring it within about 7,000 years of
/// 1970, well inside jiff's years ±9,999 (0 when it already is).
fn cycles_to_jiff_range(days: i64) -> i64 {
    const LIMIT_DAYS: i64 = 7_000 * 365;
    if days > LIMIT_DAYS {
        -((days - LIMIT_DAYS) / DAYS_PER_400_YEARS + 1)
    } else if days < -LIMIT_DAYS {
        (-LIMIT_DAYS - days) / DAYS_PER_400_YEARS + 1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::days_from_civil;

    fn local(y: i64, mo: i64, d: i64, h: i64, mi: i64) -> i64 {
        days_from_civil(y, mo, d) * SECONDS_PER_DAY + h * 3600 + mi * 60
    }

    #[test]
    fn offsets_parse_and_print_like_java() {
        let p = |s: &str| Offset::parse(s).map(|r| r.map(|o| o.to_string()));
        assert_eq!(p("+0100"), Some(Ok("+01:00".into())));
        assert_eq!(p("-00:00"), Some(Ok("Z".into())));
        assert_eq!(p("-02"), Some(Ok("-02:00".into())));
        assert_eq!(p("+02:05:59"), Some(Ok("+02:05:59".into())));
        assert_eq!(p("+18:00"), Some(Ok("+18:00".into())));
        assert!(matches!(p("+18:01"), Some(Err(_))));
        assert!(matches!(p("+1"), Some(Err(_))));
        assert_eq!(p("Europe/Paris"), None);
    }

    #[test]
    fn named_zones_know_history_and_daylight_saving() {
        let z = Zone::named("Europe/Stockholm").expect("bundled tzdb");
        assert_eq!(z.name(), Some("Europe/Stockholm"));
        // Local mean time before standard time (tzdb links Stockholm to Berlin's rules).
        let (o, _) = z.resolve_local(local(1818, 7, 21, 21, 40), None);
        assert_eq!(o.to_string(), "+00:53:28");
        assert_eq!(
            z.resolve_local(local(1984, 10, 11, 12, 0), None)
                .0
                .seconds(),
            3600
        );
        assert_eq!(
            z.resolve_local(local(1984, 7, 20, 12, 0), None).0.seconds(),
            7200
        );
        // 2017-03-26 02:30 does not exist: moved forward an hour.
        assert_eq!(
            z.resolve_local(local(2017, 3, 26, 2, 30), None),
            (Offset(7200), 3600)
        );
        // 2017-10-29 02:30 happens twice: earlier offset unless the other is preferred.
        assert_eq!(
            z.resolve_local(local(2017, 10, 29, 2, 30), None).0,
            Offset(7200)
        );
        assert_eq!(
            z.resolve_local(local(2017, 10, 29, 2, 30), Some(Offset(3600)))
                .0,
            Offset(3600)
        );
    }

    #[test]
    fn far_years_use_the_repeating_rules() {
        let z = Zone::named("Europe/Stockholm").expect("bundled tzdb");
        let summer = z.resolve_local(local(123_456_789, 7, 1, 12, 0), None).0;
        let winter = z.resolve_local(local(123_456_789, 1, 1, 12, 0), None).0;
        assert_eq!((summer.seconds(), winter.seconds()), (7200, 3600));
        let ancient = z.offset_at(local(-500_000_000, 7, 1, 12, 0));
        assert_eq!(ancient.to_string(), "+00:53:28");
    }

    #[test]
    fn extreme_instants_do_not_overflow() {
        let z = Zone::named("Europe/Stockholm").expect("tzdb");
        for secs in [i64::MAX, i64::MIN, i64::MAX / 2, i64::MIN / 3] {
            let _ = z.offset_at(secs);
        }
    }

    #[test]
    fn unknown_zones_are_invalid_argument_values() {
        let e = Zone::parse("Mars/Olympus_Mons").unwrap_err();
        assert_eq!(e.kind, crate::TemporalErrorKind::InvalidValue);
        assert!(Zone::parse("America/Los Angeles").is_ok());
    }
}
