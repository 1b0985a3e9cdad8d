//! The clocks behind `date()`, `datetime.transaction()`, `localtime.statement()`,
//! `time.realtime()` and friends. The engine fixes a transaction time and a statement time
//! and passes them in a [`Clock`], so that every `datetime()` of one statement agrees;
//! `.realtime()` reads the system clock at the call.

use std::time::{SystemTime, UNIX_EPOCH};

use super::datetime::DateTime;
use super::time::Time;
use super::zone::Zone;
use super::{invalid, Kind, Temporal};
use crate::error::Result;

/// A point on the UTC time line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Instant {
    pub epoch_seconds: i64,
    /// Nanoseconds of the second, `0..1_000_000_000`.
    pub nanos: u32,
}

impl Instant {
    /// The system clock now (the epoch if the clock reads before 1970).
    pub fn now() -> Instant {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => Instant {
                epoch_seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                nanos: d.subsec_nanos(),
            },
            Err(_) => Instant {
                epoch_seconds: 0,
                nanos: 0,
            },
        }
    }
}

/// The fixed times of one statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    pub transaction: Instant,
    pub statement: Instant,
}

impl Clock {
    /// Both times at `at` (a single-statement transaction, or a test).
    pub fn fixed(at: Instant) -> Clock {
        Clock {
            transaction: at,
            statement: at,
        }
    }

    /// Both times now.
    pub fn start() -> Clock {
        Clock::fixed(Instant::now())
    }
}

/// Which clock a current-time function reads: `date()` is `date.statement()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockSource {
    Transaction,
    Statement,
    Realtime,
}

impl ClockSource {
    /// From a function-name suffix: `transaction`, `statement`, `realtime` (any case).
    pub fn from_suffix(suffix: &str) -> Option<ClockSource> {
        match suffix.to_ascii_lowercase().as_str() {
            "transaction" => Some(ClockSource::Transaction),
            "statement" => Some(ClockSource::Statement),
            "realtime" => Some(ClockSource::Realtime),
            _ => None,
        }
    }

    pub fn instant(self, clock: &Clock) -> Instant {
        match self {
            ClockSource::Transaction => clock.transaction,
            ClockSource::Statement => clock.statement,
            ClockSource::Realtime => Instant::now(),
        }
    }
}

/// The current value of `kind` in `zone` (default UTC).
pub fn now(
    kind: Kind,
    source: ClockSource,
    zone: Option<&Zone>,
    clock: &Clock,
) -> Result<Temporal> {
    let at = source.instant(clock);
    let zone = zone.unwrap_or(&Zone::UTC);
    let dt = DateTime::from_instant(at.epoch_seconds, at.nanos.into(), zone)?;
    Ok(match kind {
        Kind::Date => Temporal::Date(dt.local().date),
        Kind::LocalTime => Temporal::LocalTime(dt.local().time),
        Kind::Time => Temporal::Time(Time::new(dt.local().time, dt.offset())),
        Kind::LocalDateTime => Temporal::LocalDateTime(dt.local()),
        Kind::DateTime => Temporal::DateTime(dt),
        Kind::Duration => return Err(invalid("there is no current duration")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_clock_is_fixed_and_zone_aware() {
        let clock = Clock::fixed(Instant {
            epoch_seconds: 1_500_000_000,
            nanos: 5,
        });
        let a = now(Kind::DateTime, ClockSource::Statement, None, &clock).expect("ok");
        let b = now(Kind::DateTime, ClockSource::Statement, None, &clock).expect("ok");
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "2017-07-14T02:40:00.000000005Z");
        let z = Zone::named("Europe/Stockholm").expect("tzdb");
        let t = now(Kind::Time, ClockSource::Transaction, Some(&z), &clock).expect("ok");
        assert_eq!(t.to_string(), "04:40:00.000000005+02:00");
        assert!(now(Kind::Duration, ClockSource::Realtime, None, &clock).is_err());
        let real = now(Kind::Date, ClockSource::Realtime, None, &clock).expect("ok");
        assert!(
            real.cypher_cmp(&now(Kind::Date, ClockSource::Statement, None, &clock).expect("ok"))
                == Some(std::cmp::Ordering::Greater)
        );
    }
}
