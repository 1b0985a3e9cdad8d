//! [`LocalTime`] (a time of day) and [`Time`] (a time of day at a UTC offset).

use std::cmp::Ordering;
use std::fmt;

use super::calendar::{NANOS_PER_DAY, NANOS_PER_SECOND};
use super::invalid;
use super::zone::Offset;
use crate::error::Result;

/// A time of day with nanosecond precision, `00:00` to `23:59:59.999999999`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct LocalTime {
    nanos: i64,
}

impl LocalTime {
    pub const MIDNIGHT: LocalTime = LocalTime { nanos: 0 };

    pub fn new(hour: i64, minute: i64, second: i64, nanosecond: i64) -> Result<LocalTime> {
        let check = |what: &str, v: i64, max: i64| {
            if (0..=max).contains(&v) {
                Ok(())
            } else {
                Err(invalid(format!(
                    "invalid value for {what} (valid values 0 - {max}): {v}"
                )))
            }
        };
        check("HourOfDay", hour, 23)?;
        check("MinuteOfHour", minute, 59)?;
        check("SecondOfMinute", second, 59)?;
        check("NanoOfSecond", nanosecond, NANOS_PER_SECOND - 1)?;
        Ok(LocalTime {
            nanos: ((hour * 60 + minute) * 60 + second) * NANOS_PER_SECOND + nanosecond,
        })
    }

    /// From nanoseconds since midnight, wrapped into one day.
    pub fn from_nano_of_day_wrapping(nanos: i64) -> LocalTime {
        LocalTime {
            nanos: nanos.rem_euclid(NANOS_PER_DAY),
        }
    }

    pub fn nano_of_day(self) -> i64 {
        self.nanos
    }

    pub fn hour(self) -> i64 {
        self.nanos / (3600 * NANOS_PER_SECOND)
    }

    pub fn minute(self) -> i64 {
        self.nanos / (60 * NANOS_PER_SECOND) % 60
    }

    pub fn second(self) -> i64 {
        self.nanos / NANOS_PER_SECOND % 60
    }

    /// Nanosecond of the second.
    pub fn nanosecond(self) -> i64 {
        self.nanos % NANOS_PER_SECOND
    }

    pub fn second_of_day(self) -> i64 {
        self.nanos / NANOS_PER_SECOND
    }

    pub fn with_hour(self, v: i64) -> Result<LocalTime> {
        LocalTime::new(v, self.minute(), self.second(), self.nanosecond())
    }

    pub fn with_minute(self, v: i64) -> Result<LocalTime> {
        LocalTime::new(self.hour(), v, self.second(), self.nanosecond())
    }

    pub fn with_second(self, v: i64) -> Result<LocalTime> {
        LocalTime::new(self.hour(), self.minute(), v, self.nanosecond())
    }

    pub fn with_nanosecond(self, v: i64) -> Result<LocalTime> {
        LocalTime::new(self.hour(), self.minute(), self.second(), v)
    }

    /// Adds nanoseconds, wrapping around midnight.
    pub fn plus_nanos_wrapping(self, nanos: i128) -> LocalTime {
        LocalTime {
            nanos: (self.nanos as i128 + nanos).rem_euclid(NANOS_PER_DAY as i128) as i64,
        }
    }
}

/// `HH:MM`, then `:SS` when seconds or fractions are non-zero, then the fraction in groups
/// of three digits (`.645`, `.645876`, `.645876123`) — Java's `LocalTime` form.
impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour(), self.minute())?;
        let (s, n) = (self.second(), self.nanosecond());
        if s > 0 || n > 0 {
            write!(f, ":{s:02}")?;
            if n > 0 {
                if n % 1_000_000 == 0 {
                    write!(f, ".{:03}", n / 1_000_000)?;
                } else if n % 1_000 == 0 {
                    write!(f, ".{:06}", n / 1_000)?;
                } else {
                    write!(f, ".{n:09}")?;
                }
            }
        }
        Ok(())
    }
}

/// A time of day at a UTC offset. Equal when both the local time and the offset are equal;
/// ordered by the instant of the day in UTC, then by local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Time {
    pub time: LocalTime,
    pub offset: Offset,
}

impl Time {
    pub fn new(time: LocalTime, offset: Offset) -> Time {
        Time { time, offset }
    }

    /// Nanoseconds of the day in UTC (may fall outside one day; used for ordering and
    /// differences).
    pub fn utc_nanos(self) -> i64 {
        self.time.nanos - i64::from(self.offset.seconds()) * NANOS_PER_SECOND
    }

    /// The same instant of the day at another offset.
    pub fn with_offset_same_instant(self, offset: Offset) -> Time {
        let delta = i64::from(offset.seconds() - self.offset.seconds()) * NANOS_PER_SECOND;
        Time {
            time: LocalTime::from_nano_of_day_wrapping(self.time.nanos + delta),
            offset,
        }
    }
}

impl Ord for Time {
    fn cmp(&self, other: &Time) -> Ordering {
        self.utc_nanos()
            .cmp(&other.utc_nanos())
            .then_with(|| self.time.cmp(&other.time))
    }
}

impl PartialOrd for Time {
    fn partial_cmp(&self, other: &Time) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.time, self.offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i64, m: i64, s: i64, n: i64) -> LocalTime {
        LocalTime::new(h, m, s, n).expect("valid")
    }

    #[test]
    fn prints_fractions_in_groups_of_three() {
        assert_eq!(t(12, 0, 0, 0).to_string(), "12:00");
        assert_eq!(t(12, 31, 14, 0).to_string(), "12:31:14");
        assert_eq!(t(12, 31, 0, 645_000_000).to_string(), "12:31:00.645");
        assert_eq!(t(12, 31, 14, 645_876_000).to_string(), "12:31:14.645876");
        assert_eq!(t(12, 31, 14, 3).to_string(), "12:31:14.000000003");
    }

    #[test]
    fn times_order_by_utc_instant() {
        let a = Time::new(
            t(12, 35, 15, 0),
            Offset::from_seconds(5 * 3600).expect("ok"),
        );
        let b = Time::new(t(12, 30, 14, 0), Offset::from_seconds(3660).expect("ok"));
        let c = Time::new(
            t(10, 35, 0, 0),
            Offset::from_seconds(-8 * 3600).expect("ok"),
        );
        assert!(a < b && b < c);
        let moved = a.with_offset_same_instant(Offset::UTC);
        assert_eq!(moved.to_string(), "07:35:15Z");
        assert_eq!(moved.cmp(&a), Ordering::Less); // same instant, earlier local time
        assert_ne!(moved, a);
    }

    #[test]
    fn rejects_out_of_range_fields() {
        assert!(LocalTime::new(24, 0, 0, 0).is_err());
        assert!(LocalTime::new(0, 60, 0, 0).is_err());
        assert!(LocalTime::new(0, 0, 0, NANOS_PER_SECOND).is_err());
    }
}
