//! `duration.between(a, b)`, `duration.inMonths`, `duration.inDays`, `duration.inSeconds`.
//!
//! The two values are first brought to a common shape, as Neo4j does: a missing time of
//! day is midnight; a missing date is the other value's date; a missing zone is the other
//! value's zone. Date units (months, days) then count on the local clock of the first
//! value's zone, counting a unit only when it has fully elapsed (`2018-01-01T12:00` to
//! `2018-01-02T10:00` is zero days); time units count on the time line. `between` splits
//! the difference into whole months, then whole days, then the rest.

use super::calendar::NANOS_PER_SECOND;
use super::date::Date;
use super::datetime::{DateTime, LocalDateTime};
use super::duration::Duration;
use super::time::{LocalTime, Time};
use super::zone::Zone;
use super::{invalid, Temporal};
use crate::error::Result;

/// What to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// `duration.between`: months, days and the remainder.
    Between,
    Months,
    Days,
    Seconds,
}

impl Unit {
    /// From the function name after `duration.` (any case).
    pub fn from_function_name(name: &str) -> Option<Unit> {
        match name.to_ascii_lowercase().as_str() {
            "between" => Some(Unit::Between),
            "inmonths" => Some(Unit::Months),
            "indays" => Some(Unit::Days),
            "inseconds" => Some(Unit::Seconds),
            _ => None,
        }
    }
}

/// A temporal value other than a duration, as the computation sees it.
#[derive(Clone, Debug)]
enum Point {
    Date(Date),
    LocalTime(LocalTime),
    Time(Time),
    Local(LocalDateTime),
    Zoned(DateTime),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Measure {
    Months,
    Days,
    Nanos,
}

impl Point {
    fn of(t: &Temporal) -> Result<Point> {
        Ok(match t {
            Temporal::Date(d) => Point::Date(*d),
            Temporal::LocalTime(t) => Point::LocalTime(*t),
            Temporal::Time(t) => Point::Time(*t),
            Temporal::LocalDateTime(l) => Point::Local(*l),
            Temporal::DateTime(dt) => Point::Zoned(dt.clone()),
            Temporal::Duration(_) => {
                return Err(invalid(
                    "duration functions take two temporal instants, not durations",
                ))
            }
        })
    }

    fn has_time(&self) -> bool {
        !matches!(self, Point::Date(_))
    }

    fn has_date(&self) -> bool {
        matches!(self, Point::Date(_) | Point::Local(_) | Point::Zoned(_))
    }

    fn has_zone(&self) -> bool {
        matches!(self, Point::Time(_) | Point::Zoned(_))
    }

    fn date(&self) -> Option<Date> {
        match self {
            Point::Date(d) => Some(*d),
            Point::Local(l) => Some(l.date),
            Point::Zoned(z) => Some(z.local().date),
            _ => None,
        }
    }

    fn zone(&self) -> Result<Option<Zone>> {
        Ok(match self {
            Point::Time(t) => Some(Zone::Fixed(t.offset)),
            Point::Zoned(z) => Some(z.zone()?),
            _ => None,
        })
    }

    fn nano_of_second(&self) -> i64 {
        match self {
            Point::Date(_) => 0,
            Point::LocalTime(t) => t.nanosecond(),
            Point::Time(t) => t.time.nanosecond(),
            Point::Local(l) => l.time.nanosecond(),
            Point::Zoned(z) => z.nanosecond(),
        }
    }

    fn second_of_minute(&self) -> Option<i64> {
        match self {
            Point::Date(_) => None,
            Point::LocalTime(t) => Some(t.second()),
            Point::Time(t) => Some(t.time.second()),
            Point::Local(l) => Some(l.time.second()),
            Point::Zoned(z) => Some(z.local().time.second()),
        }
    }

    fn attach_time(self) -> Point {
        match self {
            Point::Date(d) => Point::Local(LocalDateTime::new(d, LocalTime::MIDNIGHT)),
            other => other,
        }
    }

    fn attach_date(self, date: Date) -> Result<Point> {
        Ok(match self {
            Point::LocalTime(t) => Point::Local(LocalDateTime::new(date, t)),
            Point::Time(t) => Point::Zoned(DateTime::from_local(
                LocalDateTime::new(date, t.time),
                &Zone::Fixed(t.offset),
                Some(t.offset),
            )?),
            other => other,
        })
    }

    fn attach_zone(self, zone: &Zone) -> Result<Point> {
        Ok(match self {
            Point::Local(l) => Point::Zoned(DateTime::from_local(l, zone, None)?),
            Point::LocalTime(t) => {
                // Only a time's fixed offset is ever attached to a local time.
                let offset = match zone {
                    Zone::Fixed(o) => *o,
                    Zone::Named { .. } => {
                        return Err(invalid("cannot attach a named zone to a time"))
                    }
                };
                Point::Time(Time::new(t, offset))
            }
            other => other,
        })
    }

    fn plus_months(&self, months: i64) -> Result<Point> {
        self.plus_calendar(months, 0)
    }

    fn plus_days(&self, days: i64) -> Result<Point> {
        self.plus_calendar(0, days)
    }

    fn plus_calendar(&self, months: i64, days: i64) -> Result<Point> {
        let shift = |d: Date| d.plus_months(months)?.plus_days(days);
        Ok(match self {
            Point::Date(d) => Point::Date(shift(*d)?),
            Point::Local(l) => Point::Local(LocalDateTime::new(shift(l.date)?, l.time)),
            Point::Zoned(z) => {
                let l = z.local();
                Point::Zoned(z.with_local(LocalDateTime::new(shift(l.date)?, l.time))?)
            }
            other => other.clone(),
        })
    }
}

/// Brings both values to a common shape and measures from `a` to `b`.
fn until(a: &Point, b: &Point, measure: Measure) -> Result<i128> {
    let (mut a, mut b) = (a.clone(), b.clone());
    if measure == Measure::Nanos {
        a = a.attach_time();
        b = b.attach_time();
    } else if a.has_time() && !b.has_time() {
        b = b.attach_time();
    } else if b.has_time() && !a.has_time() {
        a = a.attach_time();
    }
    if let (Some(d), false) = (a.date(), b.has_date()) {
        b = b.attach_date(d)?;
    } else if let (Some(d), false) = (b.date(), a.has_date()) {
        a = a.attach_date(d)?;
    }
    if a.has_zone() && !b.has_zone() {
        if let Some(z) = a.zone()? {
            b = b.attach_zone(&z)?;
        }
    } else if b.has_zone() && !a.has_zone() {
        if let Some(z) = b.zone()? {
            a = a.attach_zone(&z)?;
        }
    }
    Ok(match (&a, &b) {
        (Point::Date(x), Point::Date(y)) => match measure {
            Measure::Months => months_until(*x, *y),
            Measure::Days => (y.epoch_days() - x.epoch_days()).into(),
            Measure::Nanos => {
                (y.epoch_days() - x.epoch_days()) as i128 * super::calendar::NANOS_PER_DAY as i128
            }
        },
        (Point::LocalTime(x), Point::LocalTime(y)) => match measure {
            Measure::Nanos => (y.nano_of_day() - x.nano_of_day()).into(),
            _ => 0,
        },
        (Point::Time(x), Point::Time(y)) => match measure {
            Measure::Nanos => (y.utc_nanos() - x.utc_nanos()).into(),
            _ => 0,
        },
        (Point::Local(x), Point::Local(y)) => local_until(x, y, measure),
        (Point::Zoned(x), Point::Zoned(y)) => match measure {
            Measure::Nanos => y.epoch_nanos() - x.epoch_nanos(),
            _ => {
                let y = y.with_zone_same_instant(&x.zone()?)?;
                local_until(&x.local(), &y.local(), measure)
            }
        },
        _ => return Err(invalid("cannot compute a duration between these values")),
    })
}

/// Whole months from `a` to `b` (a month counts once its day of month is reached).
fn months_until(a: Date, b: Date) -> i128 {
    let packed = |d: Date| {
        let (y, m, day) = d.ymd();
        (y as i128 * 12 + m as i128 - 1) * 32 + day as i128
    };
    (packed(b) - packed(a)) / 32
}

fn local_until(a: &LocalDateTime, b: &LocalDateTime, measure: Measure) -> i128 {
    match measure {
        Measure::Nanos => {
            let total = |l: &LocalDateTime| {
                l.local_seconds() as i128 * NANOS_PER_SECOND as i128 + l.time.nanosecond() as i128
            };
            total(b) - total(a)
        }
        _ => {
            // A day (or month) counts only once the time of day is reached too.
            let mut end = b.date.epoch_days();
            if b.date > a.date && b.time < a.time {
                end -= 1;
            } else if b.date < a.date && b.time > a.time {
                end += 1;
            }
            match Date::from_epoch_days(end) {
                Ok(end) if measure == Measure::Months => months_until(a.date, end),
                Ok(_) | Err(_) => (end - a.date.epoch_days()).into(),
            }
        }
    }
}

fn to_i64(x: i128) -> Result<i64> {
    i64::try_from(x).map_err(|_| invalid("duration out of range"))
}

/// The duration from `a` to `b` measured in `unit`.
pub fn between(unit: Unit, a: &Temporal, b: &Temporal) -> Result<Duration> {
    let (pa, pb) = (Point::of(a)?, Point::of(b)?);
    match unit {
        Unit::Months => Duration::new(to_i64(until(&pa, &pb, Measure::Months)?)?, 0, 0, 0),
        Unit::Days => Duration::new(0, to_i64(until(&pa, &pb, Measure::Days)?)?, 0, 0),
        Unit::Between => {
            let (mut months, mut days, mut from) = (0, 0, pa);
            if from.has_date() && pb.has_date() {
                months = to_i64(until(&from, &pb, Measure::Months)?)?;
                from = from.plus_months(months)?;
                days = to_i64(until(&from, &pb, Measure::Days)?)?;
                from = from.plus_days(days)?;
            }
            let nanos = until(&from, &pb, Measure::Nanos)?;
            let ns = NANOS_PER_SECOND as i128;
            Duration::from_wide(months.into(), days.into(), nanos / ns, nanos % ns)
        }
        Unit::Seconds => {
            // Measured from the zoned value when only one has a zone, then negated back.
            let negate = pa.has_zone() && !pb.has_zone();
            let (from, to) = if negate { (&pb, &pa) } else { (&pa, &pb) };
            let ns = NANOS_PER_SECOND as i128;
            let seconds = until(from, to, Measure::Nanos)? / ns;
            let mut nanos = (to.nano_of_second() - from.nano_of_second()) as i128;
            let under_a_second = seconds == 0
                && matches!((from.second_of_minute(), to.second_of_minute()), (Some(x), Some(y)) if x != y);
            if nanos < 0 && (seconds > 0 || under_a_second) {
                nanos += ns;
            } else if nanos > 0 && (seconds < 0 || under_a_second) {
                nanos -= ns;
            }
            let (seconds, nanos) = if negate {
                (-seconds, -nanos)
            } else {
                (seconds, nanos)
            };
            Duration::from_wide(0, 0, seconds, nanos)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;
    use crate::Kind;

    fn b(unit: Unit, a: (Kind, &str), c: (Kind, &str)) -> String {
        let x = parse(a.0, a.1).expect("a");
        let y = parse(c.0, c.1).expect("b");
        between(unit, &x, &y)
            .map(|d| d.to_string())
            .unwrap_or_else(|e| e.message)
    }

    #[test]
    fn splits_into_months_days_and_time() {
        assert_eq!(
            b(
                Unit::Between,
                (Kind::Date, "1984-10-11"),
                (Kind::Date, "2015-06-24")
            ),
            "P30Y8M13D"
        );
        assert_eq!(
            b(
                Unit::Between,
                (Kind::DateTime, "2014-07-21T21:40:36.143+0200"),
                (Kind::Date, "2015-06-24")
            ),
            "P11M2DT2H19M23.857S"
        );
        assert_eq!(
            b(
                Unit::Between,
                (Kind::LocalDateTime, "2018-01-02T10:00:00.1"),
                (Kind::LocalDateTime, "2018-01-01T10:00:00.2")
            ),
            "PT-23H-59M-59.9S"
        );
        assert_eq!(
            b(
                Unit::Between,
                (Kind::Date, "-999999999-01-01"),
                (Kind::Date, "+999999999-12-31")
            ),
            "P1999999998Y11M30D"
        );
    }

    #[test]
    fn seconds_with_mixed_zones_and_signs() {
        assert_eq!(
            b(
                Unit::Seconds,
                (Kind::DateTime, "2017-10-29T00:00[Europe/Stockholm]"),
                (Kind::Date, "2017-10-30")
            ),
            "PT25H"
        );
        assert_eq!(
            b(
                Unit::Seconds,
                (Kind::LocalTime, "12:44:56"),
                (Kind::LocalTime, "12:34:55.7")
            ),
            "PT-10M-0.3S"
        );
        assert_eq!(
            b(
                Unit::Seconds,
                (Kind::Time, "14:30"),
                (Kind::Time, "16:30+0100")
            ),
            "PT1H"
        );
        assert_eq!(
            b(
                Unit::Months,
                (Kind::DateTime, "2018-07-21T21:40:36.143+0500"),
                (Kind::DateTime, "1984-07-21T22:40:36.143+0200")
            ),
            "P-33Y-11M"
        );
        let d = Temporal::Duration(Duration::ZERO);
        assert!(between(Unit::Days, &d, &d).is_err());
    }
}
