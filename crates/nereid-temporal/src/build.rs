//! Temporal values from maps (`date({year: 1984, week: 10, dayOfWeek: 3})`) and by
//! selection from other temporal values (`date(other)`, `datetime({date: d, time: t})`).
//!
//! A map names either complete fields (a year plus one of: month/day, week/dayOfWeek,
//! quarter/dayOfQuarter, ordinalDay) or a base to select from (`date`, `time`, `datetime`,
//! `epochSeconds`, `epochMillis`) plus fields that override the base's. Fields apply in a
//! fixed order — year, quarter, month, week, ordinalDay, dayOfQuarter, dayOfWeek, day, then
//! hour, minute, second, sub-second — so that `{date: d, year: 1817, week: 2}` reads the
//! year as the week-based year, as Neo4j does. With `timezone`, a base that has a zone is
//! converted to it (same instant); one without is placed in it (same local time).
//! An empty map, or one holding only `timezone`, means "now" (the statement clock).

use super::clock::{now, Clock, ClockSource};
use super::date::Date;
use super::datetime::{DateTime, LocalDateTime};
use super::duration::{Duration, Num};
use super::time::{LocalTime, Time};
use super::zone::{Offset, Zone};
use super::{invalid, wrong_type, Kind, Temporal};
use crate::error::{Result, TemporalError};

/// One map entry's value, as far as a constructor cares: a number, a string (a zone), a
/// temporal value (the `date`, `time` and `datetime` selectors), or anything else, known
/// only by its type name for the error message.
#[derive(Clone, Copy, Debug)]
pub enum FieldValue<'a> {
    Int(i64),
    Float(f64),
    String(&'a str),
    Temporal(&'a Temporal),
    /// A value of another type (`Null`, `List`, …), by its Cypher type name.
    Other(&'static str),
}

/// The entries of a map argument, in any order; keys compare without regard to case.
#[derive(Clone, Debug, Default)]
pub struct Fields<'a> {
    entries: Vec<(&'a str, FieldValue<'a>)>,
}

impl<'a> Fields<'a> {
    pub fn new() -> Fields<'a> {
        Fields::default()
    }

    /// Sets `key`, replacing an entry with the same name.
    pub fn insert(&mut self, key: &'a str, value: FieldValue<'a>) {
        self.remove(key);
        self.entries.push((key, value));
    }

    pub fn remove(&mut self, key: &str) -> Option<FieldValue<'a>> {
        let i = self
            .entries
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case(key))?;
        Some(self.entries.remove(i).1)
    }

    pub fn get(&self, key: &str) -> Option<FieldValue<'a>> {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| *v)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'a str, FieldValue<'a>)> + '_ {
        self.entries.iter().copied()
    }
}

/// The entries as given, in order: keys that differ only in case are all kept (a map
/// argument may hold `year` and `Year`), unlike with [`Fields::insert`].
impl<'a> FromIterator<(&'a str, FieldValue<'a>)> for Fields<'a> {
    fn from_iter<I: IntoIterator<Item = (&'a str, FieldValue<'a>)>>(entries: I) -> Self {
        Fields {
            entries: entries.into_iter().collect(),
        }
    }
}

/// `kind(map)`: builds a value from named fields (see the module docs).
pub fn construct(kind: Kind, fields: &Fields<'_>, clock: &Clock) -> Result<Temporal> {
    if kind == Kind::Duration {
        return duration_from_fields(fields).map(Temporal::Duration);
    }
    if fields.is_empty() {
        return now(kind, ClockSource::Statement, None, clock);
    }
    if fields.len() == 1 {
        if let Some(tz) = fields.get("timezone") {
            let zone = zone_of(tz)?;
            return now(kind, ClockSource::Statement, Some(&zone), clock);
        }
    }
    let spec = Spec::parse(kind, fields)?;
    spec.check(kind)?;
    match kind {
        Kind::Date => spec.build_date().map(Temporal::Date),
        Kind::LocalTime => spec.build_local_time().map(Temporal::LocalTime),
        Kind::Time => spec.build_time(clock).map(Temporal::Time),
        Kind::LocalDateTime => spec.build_local_datetime().map(Temporal::LocalDateTime),
        Kind::DateTime => spec.build_datetime().map(Temporal::DateTime),
        Kind::Duration => Err(TemporalError::internal(
            "durations are built before this point",
        )),
    }
}

/// `kind(other)`: the `kind` view of another temporal value (`date(datetime)` is its
/// date, `time(localtime)` puts it at UTC, `datetime(localdatetime)` too, …).
pub fn select(kind: Kind, other: &Temporal, clock: &Clock) -> Result<Temporal> {
    if kind == Kind::Duration {
        return match other {
            Temporal::Duration(d) => Ok(Temporal::Duration(*d)),
            _ => Err(invalid(format!(
                "cannot convert a {} to a Duration",
                other.type_name()
            ))),
        };
    }
    let key = match kind {
        Kind::Date => "date",
        Kind::LocalTime | Kind::Time => "time",
        _ if other.kind() == Kind::Date => "date",
        _ => "datetime",
    };
    let mut fields = Fields::new();
    fields.insert(key, FieldValue::Temporal(other));
    construct(kind, &fields, clock)
}

fn zone_of(v: FieldValue<'_>) -> Result<Zone> {
    match v {
        FieldValue::String(s) => Zone::parse(s),
        other => Err(wrong_type(format!(
            "timezone must be a string, got {}",
            describe(other)
        ))),
    }
}

fn describe(v: FieldValue<'_>) -> &'static str {
    match v {
        FieldValue::Int(_) => "Integer",
        FieldValue::Float(_) => "Float",
        FieldValue::String(_) => "String",
        FieldValue::Temporal(t) => t.type_name(),
        FieldValue::Other(type_name) => type_name,
    }
}

fn duration_from_fields(fields: &Fields<'_>) -> Result<Duration> {
    let mut items = Vec::with_capacity(fields.len());
    for (key, v) in fields.iter() {
        let n = match v {
            FieldValue::Int(i) => Num::Int(i),
            FieldValue::Float(f) => Num::Float(f),
            other => {
                return Err(wrong_type(format!(
                    "duration field '{key}' must be a number, got {}",
                    describe(other)
                )))
            }
        };
        items.push((key, n));
    }
    Duration::from_units(&items)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Key {
    Year,
    Quarter,
    Month,
    Week,
    OrdinalDay,
    DayOfQuarter,
    DayOfWeek,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
    Microsecond,
    Nanosecond,
    Date,
    Time,
    DateTime,
    Timezone,
    EpochSeconds,
    EpochMillis,
}

impl Key {
    fn parse(name: &str) -> Option<Key> {
        Some(match name.to_ascii_lowercase().as_str() {
            "year" => Key::Year,
            "quarter" => Key::Quarter,
            "month" => Key::Month,
            "week" => Key::Week,
            "ordinalday" => Key::OrdinalDay,
            "dayofquarter" => Key::DayOfQuarter,
            "dayofweek" => Key::DayOfWeek,
            "day" => Key::Day,
            "hour" => Key::Hour,
            "minute" => Key::Minute,
            "second" => Key::Second,
            "millisecond" => Key::Millisecond,
            "microsecond" => Key::Microsecond,
            "nanosecond" => Key::Nanosecond,
            "date" => Key::Date,
            "time" => Key::Time,
            "datetime" => Key::DateTime,
            "timezone" => Key::Timezone,
            "epochseconds" => Key::EpochSeconds,
            "epochmillis" => Key::EpochMillis,
            _ => return None,
        })
    }

    fn is_date_field(self) -> bool {
        matches!(
            self,
            Key::Year
                | Key::Quarter
                | Key::Month
                | Key::Week
                | Key::OrdinalDay
                | Key::DayOfQuarter
                | Key::DayOfWeek
                | Key::Day
        )
    }

    fn is_time_field(self) -> bool {
        matches!(
            self,
            Key::Hour
                | Key::Minute
                | Key::Second
                | Key::Millisecond
                | Key::Microsecond
                | Key::Nanosecond
        )
    }

    fn allowed_in(self, kind: Kind) -> bool {
        match self {
            k if k.is_date_field() => kind.has_date(),
            k if k.is_time_field() => kind.has_time(),
            Key::Date => kind.has_date(),
            Key::Time => kind.has_time(),
            Key::DateTime => kind.has_date() && kind.has_time(),
            Key::Timezone => kind.has_zone(),
            Key::EpochSeconds | Key::EpochMillis => kind == Kind::DateTime,
            _ => false,
        }
    }
}

/// A map argument decoded into typed fields.
#[derive(Default)]
struct Spec<'a> {
    year: Option<i64>,
    quarter: Option<i64>,
    month: Option<i64>,
    week: Option<i64>,
    ordinal_day: Option<i64>,
    day_of_quarter: Option<i64>,
    day_of_week: Option<i64>,
    day: Option<i64>,
    hour: Option<i64>,
    minute: Option<i64>,
    second: Option<i64>,
    millisecond: Option<i64>,
    microsecond: Option<i64>,
    nanosecond: Option<i64>,
    date: Option<&'a Temporal>,
    time: Option<&'a Temporal>,
    datetime: Option<&'a Temporal>,
    timezone: Option<Zone>,
    epoch_seconds: Option<i64>,
    epoch_millis: Option<i64>,
}

impl<'a> Spec<'a> {
    fn parse(kind: Kind, fields: &Fields<'a>) -> Result<Spec<'a>> {
        let mut s = Spec::default();
        for (name, value) in fields.iter() {
            let key = Key::parse(name).ok_or_else(|| {
                invalid(format!(
                    "no such field for a {}: '{name}'",
                    kind.type_name()
                ))
            })?;
            if !key.allowed_in(kind) {
                return Err(invalid(format!(
                    "cannot assign '{name}' to a {}",
                    kind.type_name()
                )));
            }
            let int = || match value {
                FieldValue::Int(i) => Ok(i),
                other => Err(wrong_type(format!(
                    "field '{name}' must be an integer, got {}",
                    describe(other)
                ))),
            };
            let temporal = || match value {
                FieldValue::Temporal(t) => Ok(t),
                other => Err(wrong_type(format!(
                    "field '{name}' must be a temporal value, got {}",
                    describe(other)
                ))),
            };
            match key {
                Key::Year => s.year = Some(int()?),
                Key::Quarter => s.quarter = Some(int()?),
                Key::Month => s.month = Some(int()?),
                Key::Week => s.week = Some(int()?),
                Key::OrdinalDay => s.ordinal_day = Some(int()?),
                Key::DayOfQuarter => s.day_of_quarter = Some(int()?),
                Key::DayOfWeek => s.day_of_week = Some(int()?),
                Key::Day => s.day = Some(int()?),
                Key::Hour => s.hour = Some(int()?),
                Key::Minute => s.minute = Some(int()?),
                Key::Second => s.second = Some(int()?),
                Key::Millisecond => s.millisecond = Some(int()?),
                Key::Microsecond => s.microsecond = Some(int()?),
                Key::Nanosecond => s.nanosecond = Some(int()?),
                Key::Date => s.date = Some(temporal()?),
                Key::Time => s.time = Some(temporal()?),
                Key::DateTime => s.datetime = Some(temporal()?),
                Key::Timezone => s.timezone = Some(zone_of(value)?),
                Key::EpochSeconds => s.epoch_seconds = Some(int()?),
                Key::EpochMillis => s.epoch_millis = Some(int()?),
            }
        }
        Ok(s)
    }

    fn epoch(&self) -> bool {
        self.epoch_seconds.is_some() || self.epoch_millis.is_some()
    }

    fn sub_second(&self) -> bool {
        self.millisecond.is_some() || self.microsecond.is_some() || self.nanosecond.is_some()
    }

    /// Rejects incomplete or contradictory field sets before anything is built.
    fn check(&self, kind: Kind) -> Result<()> {
        let fail = |m: &str| {
            Err(invalid(format!(
                "{m} (constructing a {})",
                kind.type_name()
            )))
        };
        if self.epoch_seconds.is_some() && self.epoch_millis.is_some() {
            return fail("epochSeconds and epochMillis cannot both be given");
        }
        if self.epoch() && (self.date.is_some() || self.time.is_some() || self.datetime.is_some()) {
            return fail("an epoch cannot be combined with date, time or datetime");
        }
        if self.datetime.is_some() && (self.date.is_some() || self.time.is_some()) {
            return fail("datetime cannot be combined with date or time");
        }
        let groups = [
            self.month.is_some() || self.day.is_some(),
            self.week.is_some() || self.day_of_week.is_some(),
            self.quarter.is_some() || self.day_of_quarter.is_some(),
            self.ordinal_day.is_some(),
        ];
        if groups.iter().filter(|g| **g).count() > 1 {
            return fail("calendar, week, quarter and ordinal date fields cannot be mixed");
        }
        let date_base = self.date.is_some() || self.datetime.is_some() || self.epoch();
        if kind.has_date() && !date_base {
            if self.year.is_none() {
                return fail("year must be given");
            }
            if self.day.is_some() && self.month.is_none() {
                return fail("day cannot be given without month");
            }
            if self.day_of_week.is_some() && self.week.is_none() {
                return fail("dayOfWeek cannot be given without week");
            }
            if self.day_of_quarter.is_some() && self.quarter.is_none() {
                return fail("dayOfQuarter cannot be given without quarter");
            }
        }
        let time_base = self.time.is_some() || self.datetime.is_some() || self.epoch();
        if kind.has_time() && !time_base {
            if !kind.has_date() && self.hour.is_none() {
                return fail("hour must be given");
            }
            if self.minute.is_some() && self.hour.is_none() {
                return fail("minute cannot be given without hour");
            }
            if self.second.is_some() && self.minute.is_none() {
                return fail("second cannot be given without minute");
            }
            if self.sub_second() && self.second.is_none() {
                return fail("sub-second fields cannot be given without second");
            }
        }
        Ok(())
    }

    /// The date to start from when no base is selected: the first day of the (week-based,
    /// when a week is given) year.
    fn default_date(&self) -> Result<Date> {
        let year = self.year.ok_or_else(|| invalid("year must be given"))?;
        if self.week.is_some() {
            Date::from_week_date(year, 1, 1)
        } else {
            Date::from_ymd(year, 1, 1)
        }
    }

    fn apply_date(&self, mut d: Date) -> Result<Date> {
        if let Some(y) = self.year {
            d = if self.week.is_some() {
                d.with_week_year(y)?
            } else {
                d.with_year(y)?
            };
        }
        if let Some(v) = self.quarter {
            d = d.with_quarter(v)?;
        }
        if let Some(v) = self.month {
            d = d.with_month(v)?;
        }
        if let Some(v) = self.week {
            d = d.with_week(v)?;
        }
        if let Some(v) = self.ordinal_day {
            d = d.with_ordinal_day(v)?;
        }
        if let Some(v) = self.day_of_quarter {
            d = d.with_day_of_quarter(v)?;
        }
        if let Some(v) = self.day_of_week {
            d = d.with_day_of_week(v)?;
        }
        if let Some(v) = self.day {
            d = d.with_day(v)?;
        }
        Ok(d)
    }

    fn apply_time(&self, mut t: LocalTime) -> Result<LocalTime> {
        if let Some(v) = self.hour {
            t = t.with_hour(v)?;
        }
        if let Some(v) = self.minute {
            t = t.with_minute(v)?;
        }
        if let Some(v) = self.second {
            t = t.with_second(v)?;
        }
        if self.sub_second() {
            t = t.with_nanosecond(valid_nano(
                self.millisecond,
                self.microsecond,
                self.nanosecond,
            )?)?;
        }
        Ok(t)
    }

    fn base_date(&self) -> Result<Date> {
        match self.date {
            Some(t) => date_part(t),
            None => self.default_date(),
        }
    }

    fn build_date(&self) -> Result<Date> {
        self.apply_date(self.base_date()?)
    }

    fn build_local_time(&self) -> Result<LocalTime> {
        let base = match self.time {
            Some(t) => local_time_part(t)?,
            None => LocalTime::MIDNIGHT,
        };
        self.apply_time(base)
    }

    fn build_time(&self, clock: &Clock) -> Result<Time> {
        let (base, selecting_zone) = match self.time {
            Some(t) => (time_part(t)?, t.kind().has_zone()),
            None => (Time::new(LocalTime::MIDNIGHT, Offset::UTC), false),
        };
        let result = Time::new(self.apply_time(base.time)?, base.offset);
        Ok(match &self.timezone {
            None => result,
            Some(zone) => {
                // A time has no date, so a named zone contributes its current offset.
                let offset = zone.offset_at(clock.statement.epoch_seconds);
                if selecting_zone {
                    result.with_offset_same_instant(offset)
                } else {
                    Time::new(result.time, offset)
                }
            }
        })
    }

    fn build_local_datetime(&self) -> Result<LocalDateTime> {
        let (date, time) = match self.datetime {
            Some(t) => (
                date_part(t)?,
                local_time_part(t).unwrap_or(LocalTime::MIDNIGHT),
            ),
            None => (
                self.base_date()?,
                match self.time {
                    Some(t) => local_time_part(t)?,
                    None => LocalTime::MIDNIGHT,
                },
            ),
        };
        Ok(LocalDateTime::new(
            self.apply_date(date)?,
            self.apply_time(time)?,
        ))
    }

    fn build_datetime(&self) -> Result<DateTime> {
        let zone = self.timezone.clone().unwrap_or(Zone::UTC);
        let (base, selecting_zone) = if let Some(t) = self.datetime {
            match t {
                Temporal::DateTime(dt) => (dt.clone(), true),
                other => {
                    let local = LocalDateTime::new(
                        date_part(other)?,
                        local_time_part(other).unwrap_or(LocalTime::MIDNIGHT),
                    );
                    (DateTime::from_local(local, &Zone::UTC, None)?, false)
                }
            }
        } else if let Some(secs) = self.epoch_seconds {
            (DateTime::from_instant(secs, 0, &zone)?, false)
        } else if let Some(ms) = self.epoch_millis {
            (
                DateTime::from_instant(
                    ms.div_euclid(1000),
                    ms.rem_euclid(1000) * 1_000_000,
                    &zone,
                )?,
                false,
            )
        } else {
            let (time, time_zone, preferred, selecting_zone) = match self.time {
                Some(t) => (
                    local_time_part(t)?,
                    t.zone().unwrap_or(Ok(Zone::UTC))?,
                    t.offset(),
                    t.kind().has_zone(),
                ),
                None => (LocalTime::MIDNIGHT, zone.clone(), None, false),
            };
            let local = LocalDateTime::new(self.base_date()?, time);
            (
                DateTime::from_local(local, &time_zone, preferred)?,
                selecting_zone,
            )
        };
        let local = base.local();
        let changed =
            LocalDateTime::new(self.apply_date(local.date)?, self.apply_time(local.time)?);
        let result = if changed == local {
            base
        } else {
            base.with_local(changed)?
        };
        Ok(match &self.timezone {
            None => result,
            Some(zone) => {
                let selected = self.time.is_some() || self.datetime.is_some();
                if (selected && selecting_zone) || self.epoch() {
                    result.with_zone_same_instant(zone)?
                } else {
                    result.with_zone_same_local(zone)?
                }
            }
        })
    }
}

/// Combines `millisecond`, `microsecond` and `nanosecond` into a nanosecond of the second;
/// each finer field must fit under the coarser ones given (`{millisecond: 123,
/// microsecond: 456, nanosecond: 789}` is .123456789).
pub(crate) fn valid_nano(ms: Option<i64>, us: Option<i64>, ns: Option<i64>) -> Result<i64> {
    let check = |what: &str, v: i64, max: i64| {
        if (0..=max).contains(&v) {
            Ok(v)
        } else {
            Err(invalid(format!(
                "invalid value for {what} (valid values 0 - {max}): {v}"
            )))
        }
    };
    let ms_v = ms.map(|v| check("Millisecond", v, 999)).transpose()?;
    let us_v = us
        .map(|v| check("Microsecond", v, if ms.is_some() { 999 } else { 999_999 }))
        .transpose()?;
    let ns_max = if ms.is_some() || us.is_some() {
        999
    } else {
        999_999_999
    };
    let ns_v = ns.map(|v| check("Nanosecond", v, ns_max)).transpose()?;
    Ok(ms_v.unwrap_or(0) * 1_000_000 + us_v.unwrap_or(0) * 1_000 + ns_v.unwrap_or(0))
}

fn date_part(t: &Temporal) -> Result<Date> {
    t.date_part()
        .ok_or_else(|| invalid(format!("cannot select a date from a {}", t.type_name())))
}

fn local_time_part(t: &Temporal) -> Result<LocalTime> {
    t.local_time_part()
        .ok_or_else(|| invalid(format!("cannot select a time from a {}", t.type_name())))
}

/// The time of day with an offset: local values are taken to be in UTC (the default zone).
fn time_part(t: &Temporal) -> Result<Time> {
    match t {
        Temporal::Time(time) => Ok(*time),
        Temporal::DateTime(dt) => Ok(dt.time()),
        other => Ok(Time::new(local_time_part(other)?, Offset::UTC)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Instant;
    use crate::parse::parse;

    fn clock() -> Clock {
        Clock::fixed(Instant {
            epoch_seconds: 1_500_000_000,
            nanos: 0,
        })
    }

    fn build(kind: Kind, entries: &[(&str, FieldValue<'_>)]) -> String {
        match construct(kind, &entries.iter().copied().collect(), &clock()) {
            Ok(v) => v.to_string(),
            Err(e) => format!("error: {}", e.message),
        }
    }

    fn with_base(
        kind: Kind,
        key: &str,
        base: &Temporal,
        entries: &[(&str, FieldValue<'_>)],
    ) -> String {
        let mut f = Fields::new();
        f.insert(key, FieldValue::Temporal(base));
        for (k, v) in entries {
            f.insert(k, *v);
        }
        match construct(kind, &f, &clock()) {
            Ok(v) => v.to_string(),
            Err(e) => format!("error: {}", e.message),
        }
    }

    fn i(v: i64) -> FieldValue<'static> {
        FieldValue::Int(v)
    }

    #[test]
    fn week_dates_use_the_week_based_year() {
        assert_eq!(
            build(Kind::Date, &[("year", i(1817)), ("week", i(1))]),
            "1816-12-30"
        );
        assert_eq!(
            build(
                Kind::Date,
                &[("year", i(1817)), ("week", i(1)), ("dayOfWeek", i(2))]
            ),
            "1816-12-31"
        );
        let base = parse(Kind::Date, "1816-12-31").expect("ok");
        assert_eq!(
            with_base(
                Kind::Date,
                "date",
                &base,
                &[("year", i(1817)), ("week", i(2))]
            ),
            "1817-01-07"
        );
    }

    #[test]
    fn incomplete_or_mixed_fields_are_rejected() {
        for entries in [
            vec![("month", i(1))],
            vec![("year", i(1984)), ("day", i(1))],
            vec![("year", i(1984)), ("month", i(1)), ("week", i(1))],
            vec![("year", i(1984)), ("hour", i(1))],
            vec![("year", i(1984)), ("month", i(13))],
            vec![("year", FieldValue::Float(1984.0))],
            vec![("yaer", i(1984))],
        ] {
            assert!(
                build(Kind::Date, &entries).starts_with("error"),
                "{entries:?}"
            );
        }
        assert!(build(Kind::LocalTime, &[("minute", i(1))]).starts_with("error"));
        assert!(build(Kind::LocalTime, &[("hour", i(1)), ("second", i(1))]).starts_with("error"));
        assert!(build(
            Kind::LocalTime,
            &[
                ("hour", i(1)),
                ("minute", i(1)),
                ("second", i(1)),
                ("millisecond", i(1000))
            ]
        )
        .starts_with("error"));
    }

    #[test]
    fn zones_convert_or_attach() {
        let stockholm = parse(Kind::DateTime, "1984-10-11T12:00[Europe/Stockholm]").expect("ok");
        assert_eq!(
            with_base(
                Kind::DateTime,
                "datetime",
                &stockholm,
                &[
                    ("day", i(28)),
                    ("second", i(42)),
                    ("timezone", FieldValue::String("Pacific/Honolulu"))
                ]
            ),
            "1984-10-28T01:00:42-10:00[Pacific/Honolulu]"
        );
        let local = parse(Kind::LocalDateTime, "1984-03-07T12:31:14.645").expect("ok");
        assert_eq!(
            with_base(
                Kind::DateTime,
                "datetime",
                &local,
                &[("timezone", FieldValue::String("+05:00"))]
            ),
            "1984-03-07T12:31:14.645+05:00"
        );
        assert_eq!(
            build(
                Kind::Time,
                &[
                    ("hour", i(12)),
                    ("timezone", FieldValue::String("Europe/Stockholm"))
                ]
            ),
            "12:00+02:00" // the statement clock is in July 2017
        );
    }

    #[test]
    fn empty_map_or_timezone_alone_mean_now() {
        assert_eq!(build(Kind::Date, &[]), "2017-07-14");
        assert_eq!(
            build(
                Kind::LocalTime,
                &[("timezone", FieldValue::String("Asia/Kolkata"))]
            ),
            "08:10"
        );
    }

    #[test]
    fn durations_from_maps() {
        assert_eq!(
            build(
                Kind::Duration,
                &[("days", i(14)), ("hours", i(16)), ("minutes", i(12))]
            ),
            "P14DT16H12M"
        );
        assert!(build(Kind::Duration, &[("days", FieldValue::String("1"))]).starts_with("error"));
    }

    #[test]
    fn sub_seconds_combine() {
        assert_eq!(valid_nano(Some(123), Some(456), Some(789)), Ok(123_456_789));
        assert_eq!(valid_nano(None, None, Some(645_876_123)), Ok(645_876_123));
        assert!(valid_nano(None, Some(1), Some(1000)).is_err());
    }
}
