//! [`LocalDateTime`] and [`DateTime`] (an instant seen in a fixed offset or an IANA zone).
//!
//! A `DateTime` keeps its local date-time, the offset in force and the zone name (when
//! named). The local fields are what accessors and printing show; the instant is
//! `local − offset`. Every constructor resolves the offset through the zone so the three
//! always agree.

use std::cmp::Ordering;
use std::fmt;

use super::calendar::{NANOS_PER_SECOND, SECONDS_PER_DAY};
use super::date::Date;
use super::invalid;
use super::time::{LocalTime, Time};
use super::zone::{Offset, Zone};
use crate::error::Result;

/// A date and a time of day, without zone. Ordered chronologically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalDateTime {
    pub date: Date,
    pub time: LocalTime,
}

impl LocalDateTime {
    pub fn new(date: Date, time: LocalTime) -> LocalDateTime {
        LocalDateTime { date, time }
    }

    /// Seconds since 1970-01-01T00:00 on this local clock.
    pub fn local_seconds(self) -> i64 {
        self.date.epoch_days() * SECONDS_PER_DAY + self.time.second_of_day()
    }

    /// From local seconds since 1970-01-01T00:00 and a nanosecond of the second.
    pub fn from_local_seconds(seconds: i64, nanosecond: i64) -> Result<LocalDateTime> {
        let date = Date::from_epoch_days(seconds.div_euclid(SECONDS_PER_DAY))?;
        let time = LocalTime::from_nano_of_day_wrapping(
            seconds.rem_euclid(SECONDS_PER_DAY) * NANOS_PER_SECOND + nanosecond,
        );
        Ok(LocalDateTime { date, time })
    }

    /// Adds a number of nanoseconds, carrying into the date.
    pub fn plus_nanos(self, nanos: i128) -> Result<LocalDateTime> {
        let total = (self.local_seconds() as i128) * NANOS_PER_SECOND as i128
            + self.time.nanosecond() as i128
            + nanos;
        let secs = total.div_euclid(NANOS_PER_SECOND as i128);
        let secs = i64::try_from(secs).map_err(|_| invalid("date-time out of range"))?;
        LocalDateTime::from_local_seconds(secs, total.rem_euclid(NANOS_PER_SECOND as i128) as i64)
    }
}

impl fmt::Display for LocalDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}T{}", self.date, self.time)
    }
}

/// A date-time with a zone. Equal when the local date-time, the offset and the zone are
/// equal (Neo4j's rule: the same instant in two zones is not equal); ordered by instant,
/// then local date-time, then zone.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DateTime {
    local: LocalDateTime,
    offset: Offset,
    /// IANA name; `None` for a fixed offset.
    zone: Option<Box<str>>,
}

impl DateTime {
    /// The local date-time in `zone`. In a daylight-saving gap the time moves forward by the
    /// gap; in an overlap `preferred` picks the offset when it is one of the two, else the
    /// earlier offset wins.
    pub fn from_local(
        local: LocalDateTime,
        zone: &Zone,
        preferred: Option<Offset>,
    ) -> Result<DateTime> {
        let (offset, shift) = zone.resolve_local(local.local_seconds(), preferred);
        let local = if shift == 0 {
            local
        } else {
            local.plus_nanos(shift as i128 * NANOS_PER_SECOND as i128)?
        };
        Ok(DateTime {
            local,
            offset,
            zone: zone.name().map(Into::into),
        })
    }

    /// The instant `epoch_seconds` + `nanosecond` seen in `zone`.
    pub fn from_instant(epoch_seconds: i64, nanosecond: i64, zone: &Zone) -> Result<DateTime> {
        let offset = zone.offset_at(epoch_seconds);
        let local = LocalDateTime::from_local_seconds(
            epoch_seconds
                .checked_add(i64::from(offset.seconds()))
                .ok_or_else(|| invalid("date-time out of range"))?,
            nanosecond,
        )?;
        Ok(DateTime {
            local,
            offset,
            zone: zone.name().map(Into::into),
        })
    }

    pub fn local(&self) -> LocalDateTime {
        self.local
    }

    pub fn offset(&self) -> Offset {
        self.offset
    }

    /// The IANA zone name, `None` for a fixed offset.
    pub fn zone_name(&self) -> Option<&str> {
        self.zone.as_deref()
    }

    /// The zone (looked up again for named zones).
    pub fn zone(&self) -> Result<Zone> {
        match &self.zone {
            None => Ok(Zone::Fixed(self.offset)),
            Some(name) => Zone::named(name),
        }
    }

    /// The zone's id as Cypher's `.timezone` shows it: the name, or the offset.
    pub fn zone_id(&self) -> String {
        match &self.zone {
            Some(name) => name.to_string(),
            None => self.offset.to_string(),
        }
    }

    pub fn epoch_seconds(&self) -> i64 {
        self.local.local_seconds() - i64::from(self.offset.seconds())
    }

    pub fn nanosecond(&self) -> i64 {
        self.local.time.nanosecond()
    }

    /// Nanoseconds since the epoch (wide enough for every supported date).
    pub fn epoch_nanos(&self) -> i128 {
        self.epoch_seconds() as i128 * NANOS_PER_SECOND as i128 + self.nanosecond() as i128
    }

    pub fn with_zone_same_instant(&self, zone: &Zone) -> Result<DateTime> {
        DateTime::from_instant(self.epoch_seconds(), self.nanosecond(), zone)
    }

    /// Keeps the local date-time, preferring the current offset where it stays valid.
    pub fn with_zone_same_local(&self, zone: &Zone) -> Result<DateTime> {
        DateTime::from_local(self.local, zone, Some(self.offset))
    }

    /// Replaces the local date-time, keeping the zone and, where valid, the offset (what
    /// Java's `ZonedDateTime.with…` methods do).
    pub fn with_local(&self, local: LocalDateTime) -> Result<DateTime> {
        DateTime::from_local(local, &self.zone()?, Some(self.offset))
    }

    /// Adds nanoseconds on the time line (not on the local clock).
    pub fn plus_instant_nanos(&self, nanos: i128) -> Result<DateTime> {
        let total = self.epoch_nanos() + nanos;
        let secs = i64::try_from(total.div_euclid(NANOS_PER_SECOND as i128))
            .map_err(|_| invalid("date-time out of range"))?;
        DateTime::from_instant(
            secs,
            total.rem_euclid(NANOS_PER_SECOND as i128) as i64,
            &self.zone()?,
        )
    }

    /// The time of day at this offset.
    pub fn time(&self) -> Time {
        Time::new(self.local.time, self.offset)
    }
}

impl Ord for DateTime {
    fn cmp(&self, other: &DateTime) -> Ordering {
        self.epoch_nanos()
            .cmp(&other.epoch_nanos())
            .then_with(|| self.local.cmp(&other.local))
            .then_with(|| self.zone.cmp(&other.zone))
    }
}

impl PartialOrd for DateTime {
    fn partial_cmp(&self, other: &DateTime) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `2015-07-21T21:40:32.142+01:00[Europe/London]`: local date-time, offset, and the zone
/// name in brackets when the zone is named.
impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.local, self.offset)?;
        if let Some(name) = &self.zone {
            write!(f, "[{name}]")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ldt(y: i64, mo: i64, d: i64, h: i64, mi: i64) -> LocalDateTime {
        LocalDateTime::new(
            Date::from_ymd(y, mo, d).expect("valid"),
            LocalTime::new(h, mi, 0, 0).expect("valid"),
        )
    }

    #[test]
    fn named_zone_prints_offset_and_name() {
        let z = Zone::named("Europe/Stockholm").expect("tzdb");
        let dt = DateTime::from_local(ldt(2017, 8, 8, 12, 31), &z, None).expect("ok");
        assert_eq!(dt.to_string(), "2017-08-08T12:31+02:00[Europe/Stockholm]");
        let honolulu = Zone::named("Pacific/Honolulu").expect("tzdb");
        let moved = dt.with_zone_same_instant(&honolulu).expect("ok");
        assert_eq!(
            moved.to_string(),
            "2017-08-08T00:31-10:00[Pacific/Honolulu]"
        );
        assert_eq!(moved.cmp(&dt), Ordering::Less); // same instant: local time decides
        assert_ne!(moved, dt);
    }

    #[test]
    fn gap_moves_forward() {
        let z = Zone::named("Europe/Stockholm").expect("tzdb");
        let dt = DateTime::from_local(ldt(2017, 3, 26, 2, 30), &z, None).expect("ok");
        assert_eq!(dt.to_string(), "2017-03-26T03:30+02:00[Europe/Stockholm]");
    }

    #[test]
    fn instants_and_epoch() {
        let dt = DateTime::from_instant(416_779, 999_999_999, &Zone::UTC).expect("ok");
        assert_eq!(dt.to_string(), "1970-01-05T19:46:19.999999999Z");
        assert_eq!(dt.epoch_seconds(), 416_779);
        let before = DateTime::from_instant(-1, 5, &Zone::UTC).expect("ok");
        assert_eq!(before.to_string(), "1969-12-31T23:59:59.000000005Z");
    }
}
