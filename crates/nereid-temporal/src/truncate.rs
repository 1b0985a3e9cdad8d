//! `date.truncate('month', d)`, `datetime.truncate('hour', dt, {minute: 5})`, …: rounds a
//! value down to a unit, then (optionally) overrides fields as selection would. A
//! `timezone` in the map replaces the zone keeping the truncated local time (unlike in
//! plain selection, where a zoned base is converted). A `microsecond` or `nanosecond`
//! given when truncating to milliseconds (or `nanosecond` for microseconds) fills in below
//! the kept digits: truncating `.645876123` to milliseconds with `{nanosecond: 2}` gives
//! `.645000002`.

use super::build::{construct, valid_nano, FieldValue, Fields};
use super::calendar::{self as cal, NANOS_PER_SECOND};
use super::clock::Clock;
use super::date::Date;
use super::datetime::{DateTime, LocalDateTime};
use super::time::{LocalTime, Time};
use super::zone::{Offset, Zone};
use super::{invalid, wrong_type, Kind, Temporal};
use crate::error::{Result, TemporalError};

/// A unit to truncate to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Millennium,
    Century,
    Decade,
    Year,
    WeekYear,
    Quarter,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
    Microsecond,
}

impl Unit {
    /// From the unit's name (any case): `'millennium'`, `'weekYear'`, `'microsecond'`, ….
    pub fn parse(name: &str) -> Result<Unit> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "millennium" => Unit::Millennium,
            "century" => Unit::Century,
            "decade" => Unit::Decade,
            "year" => Unit::Year,
            "weekyear" => Unit::WeekYear,
            "quarter" => Unit::Quarter,
            "month" => Unit::Month,
            "week" => Unit::Week,
            "day" => Unit::Day,
            "hour" => Unit::Hour,
            "minute" => Unit::Minute,
            "second" => Unit::Second,
            "millisecond" => Unit::Millisecond,
            "microsecond" => Unit::Microsecond,
            _ => return Err(invalid(format!("unknown unit to truncate to: '{name}'"))),
        })
    }

    /// Units finer than a day.
    pub fn is_time_based(self) -> bool {
        matches!(
            self,
            Unit::Hour | Unit::Minute | Unit::Second | Unit::Millisecond | Unit::Microsecond
        )
    }
}

fn truncate_date(d: Date, unit: Unit) -> Result<Date> {
    let (y, m, _) = d.ymd();
    let floor = |n: i64| y - y.rem_euclid(n);
    match unit {
        Unit::Millennium => Date::from_ymd(floor(1000), 1, 1),
        Unit::Century => Date::from_ymd(floor(100), 1, 1),
        Unit::Decade => Date::from_ymd(floor(10), 1, 1),
        Unit::Year => Date::from_ymd(y, 1, 1),
        Unit::WeekYear => Date::from_epoch_days(cal::week_year_start(d.iso_week().0)),
        Unit::Quarter => Date::from_ymd(y, (cal::quarter_of_month(m) - 1) * 3 + 1, 1),
        Unit::Month => Date::from_ymd(y, m, 1),
        Unit::Week => Date::from_epoch_days(d.epoch_days() - (d.day_of_week() - 1)),
        _ => Ok(d),
    }
}

fn truncate_time(t: LocalTime, unit: Unit) -> LocalTime {
    let step = match unit {
        Unit::Hour => 3600 * NANOS_PER_SECOND,
        Unit::Minute => 60 * NANOS_PER_SECOND,
        Unit::Second => NANOS_PER_SECOND,
        Unit::Millisecond => 1_000_000,
        Unit::Microsecond => 1_000,
        _ => return LocalTime::MIDNIGHT,
    };
    LocalTime::from_nano_of_day_wrapping(t.nano_of_day() - t.nano_of_day() % step)
}

/// `kind.truncate(unit, input, fields)`.
pub fn truncate(
    kind: Kind,
    unit: &str,
    input: &Temporal,
    fields: &Fields<'_>,
    clock: &Clock,
) -> Result<Temporal> {
    let unit = Unit::parse(unit)?;
    let fail = |why: &str| {
        Err(invalid(format!(
            "cannot truncate a {} to a {} {why}",
            input.type_name(),
            kind.type_name()
        )))
    };
    match kind {
        Kind::Duration => return Err(invalid("durations cannot be truncated")),
        Kind::Date if unit.is_time_based() => return fail("with a unit smaller than a day"),
        Kind::LocalTime | Kind::Time if !(unit.is_time_based() || unit == Unit::Day) => {
            return fail("with a unit larger than a day")
        }
        _ => {}
    }
    if input.kind() == Kind::Duration {
        return Err(invalid("cannot truncate a Duration"));
    }
    // The truncated date and time of day, from the parts the input has.
    let date = if kind.has_date() {
        let Some(d) = input.date_part() else {
            return fail("(it has no date)");
        };
        Some(if unit.is_time_based() {
            d
        } else {
            truncate_date(d, unit)?
        })
    } else {
        None
    };
    let time = if unit.is_time_based() {
        match input.local_time_part() {
            Some(t) => truncate_time(t, unit),
            None => return fail("with a unit smaller than a day (it has no time)"),
        }
    } else {
        LocalTime::MIDNIGHT
    };
    let mut fields = fields.clone();
    let zone_override = match fields.remove("timezone") {
        None => None,
        Some(FieldValue::String(s)) => Some(Zone::parse(s)?),
        Some(_) => return Err(wrong_type("timezone must be a string")),
    };
    let time = merge_sub_seconds(&mut fields, unit, time)?;
    let need =
        |d: Option<Date>| d.ok_or_else(|| invalid(format!("a {} has no date", input.type_name())));
    let base = match kind {
        Kind::Date => Temporal::Date(need(date)?),
        Kind::LocalTime => Temporal::LocalTime(time),
        Kind::Time => {
            let offset = match &zone_override {
                Some(z) => z.offset_at(clock.statement.epoch_seconds),
                None => input.offset().unwrap_or(Offset::UTC),
            };
            Temporal::Time(Time::new(time, offset))
        }
        Kind::LocalDateTime => Temporal::LocalDateTime(LocalDateTime::new(need(date)?, time)),
        Kind::Duration => return Err(TemporalError::internal("durations are rejected above")),
        Kind::DateTime => {
            let zone = match (&zone_override, input.zone()) {
                (Some(z), _) => z.clone(),
                (None, Some(z)) => z?,
                (None, None) => Zone::UTC,
            };
            let local = LocalDateTime::new(need(date)?, time);
            Temporal::DateTime(DateTime::from_local(local, &zone, input.offset())?)
        }
    };
    if fields.is_empty() {
        return Ok(base);
    }
    let key = match kind {
        Kind::Date => "date",
        Kind::LocalTime | Kind::Time => "time",
        _ => "datetime",
    };
    fields.insert(key, FieldValue::Temporal(&base));
    construct(kind, &fields, clock)
}

/// Folds finer sub-second fields into the truncated time (see the module docs).
fn merge_sub_seconds(fields: &mut Fields<'_>, unit: Unit, time: LocalTime) -> Result<LocalTime> {
    let int = |v: Option<FieldValue<'_>>| -> Result<Option<i64>> {
        match v {
            None => Ok(None),
            Some(FieldValue::Int(i)) => Ok(Some(i)),
            Some(_) => Err(wrong_type("sub-second fields must be integers")),
        }
    };
    let sub = time.nanosecond();
    match unit {
        Unit::Millisecond
            if fields.get("microsecond").is_some() || fields.get("nanosecond").is_some() =>
        {
            let us = int(fields.remove("microsecond"))?;
            let ns = int(fields.remove("nanosecond"))?;
            time.with_nanosecond(valid_nano(Some(sub / 1_000_000), us, ns)?)
        }
        Unit::Microsecond if fields.get("nanosecond").is_some() => {
            let ns = int(fields.remove("nanosecond"))?;
            time.with_nanosecond(valid_nano(None, Some(sub / 1_000), ns)?)
        }
        _ => Ok(time),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Instant;
    use crate::parse::parse;

    fn run(
        kind: Kind,
        unit: &str,
        input: &str,
        input_kind: Kind,
        entries: &[(&str, FieldValue<'_>)],
    ) -> String {
        let input = parse(input_kind, input).expect("input parses");
        let f: Fields<'_> = entries.iter().copied().collect();
        let clock = Clock::fixed(Instant {
            epoch_seconds: 0,
            nanos: 0,
        });
        match truncate(kind, unit, &input, &f, &clock) {
            Ok(v) => v.to_string(),
            Err(e) => format!("error: {}", e.message),
        }
    }

    #[test]
    fn date_units() {
        let d = "2017-10-11";
        assert_eq!(
            run(
                Kind::Date,
                "millennium",
                d,
                Kind::Date,
                &[("day", FieldValue::Int(2))]
            ),
            "2000-01-02"
        );
        assert_eq!(
            run(Kind::Date, "weekYear", "1984-01-01", Kind::Date, &[]),
            "1983-01-03"
        );
        assert_eq!(
            run(
                Kind::Date,
                "week",
                "1984-10-11",
                Kind::Date,
                &[("dayOfWeek", FieldValue::Int(2))]
            ),
            "1984-10-09"
        );
        assert!(run(Kind::Date, "hour", d, Kind::Date, &[]).starts_with("error"));
        assert!(run(Kind::Date, "fortnight", d, Kind::Date, &[]).starts_with("error"));
    }

    #[test]
    fn time_units_and_sub_second_fill() {
        let dt = "1984-10-11T12:31:14.645876123-01:00";
        assert_eq!(
            run(
                Kind::DateTime,
                "millisecond",
                dt,
                Kind::DateTime,
                &[("nanosecond", FieldValue::Int(2))]
            ),
            "1984-10-11T12:31:14.645000002-01:00"
        );
        assert_eq!(
            run(
                Kind::Time,
                "hour",
                dt,
                Kind::DateTime,
                &[("timezone", FieldValue::String("+01:00"))]
            ),
            "12:00+01:00"
        );
        assert_eq!(
            run(
                Kind::DateTime,
                "hour",
                dt,
                Kind::DateTime,
                &[("timezone", FieldValue::String("Europe/Stockholm"))]
            ),
            "1984-10-11T12:00+01:00[Europe/Stockholm]"
        );
        assert_eq!(
            run(Kind::LocalTime, "day", dt, Kind::DateTime, &[]),
            "00:00"
        );
        assert!(run(Kind::LocalTime, "month", dt, Kind::DateTime, &[]).starts_with("error"));
        assert!(run(Kind::DateTime, "hour", "1984-10-11", Kind::Date, &[]).starts_with("error"));
    }
}
