//! Cypher's temporal values: [`Date`], [`LocalTime`], [`Time`], [`LocalDateTime`],
//! [`DateTime`] and [`Duration`], joined in [`Temporal`].
//!
//! ```text
//!  'ISO 8601 text' ── parse::parse ──────────┐
//!  {year: …, week: …} ── build::construct ───┤
//!  other temporal ── build::select ──────────┼─► Temporal ── access::property ─► Component
//!  clock ── clock::now ──────────────────────┤       │ ─ arith::{add, subtract} ─► Temporal
//!  unit + temporal ── truncate::truncate ────┘       │ ─ between::between ─► Duration
//!                                                    └ Display ─► '2015-07-21T21:40+01:00'
//! ```
//!
//! Semantics follow Neo4j (and through it Java's `java.time`), which is what the openCypher
//! TCK's expected values encode: field adjusters, month clamping, the average month for
//! fractional durations, `duration.between` splitting, the printed forms. Dates span years
//! −999,999,999 to +999,999,999 ([`calendar`]); time-zone rules come from jiff's bundled
//! tz database ([`zone`]).
//!
//! This crate knows nothing of the Cypher value or of nereid's error table, so that it
//! depends on jiff alone and only the crates that handle temporal values link the tz
//! database. Functions take typed arguments; decoding Cypher values (what is a string, what
//! is a map) is the caller's: map arguments arrive as [`Fields`] of [`FieldValue`]s, and
//! components leave as [`access::Component`]s. Every failure is a [`TemporalError`] whose
//! [`TemporalErrorKind`] the caller maps to its own error code (`nereid-value` does, for
//! the engine).

pub mod access;
pub mod arith;
pub mod between;
pub mod build;
pub mod calendar;
pub mod clock;
mod date;
mod datetime;
mod duration;
mod error;
pub mod parse;
mod time;
pub mod truncate;
pub mod zone;

use std::cmp::Ordering;
use std::fmt;

pub use build::{construct, select, FieldValue, Fields};
pub use clock::{now, Clock, ClockSource, Instant};
pub use date::Date;
pub use datetime::{DateTime, LocalDateTime};
pub use duration::{Duration, Num};
pub use error::{TemporalError, TemporalErrorKind};
pub use time::{LocalTime, Time};
pub use zone::{Offset, Zone};

/// A value of one of the six temporal types.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Temporal {
    Date(Date),
    LocalTime(LocalTime),
    Time(Time),
    LocalDateTime(LocalDateTime),
    DateTime(DateTime),
    Duration(Duration),
}

/// The six temporal types, named as their constructor functions are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Date,
    LocalTime,
    Time,
    LocalDateTime,
    DateTime,
    Duration,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Date,
        Kind::LocalTime,
        Kind::Time,
        Kind::LocalDateTime,
        Kind::DateTime,
        Kind::Duration,
    ];

    /// The Cypher function that builds this type (`date`, `localtime`, …).
    pub fn function_name(self) -> &'static str {
        match self {
            Kind::Date => "date",
            Kind::LocalTime => "localtime",
            Kind::Time => "time",
            Kind::LocalDateTime => "localdatetime",
            Kind::DateTime => "datetime",
            Kind::Duration => "duration",
        }
    }

    /// The kind whose constructor is `name` (any case).
    pub fn from_function_name(name: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.function_name().eq_ignore_ascii_case(name))
    }

    /// A stable one-byte code (for storage formats): 0 date, 1 local time, 2 time, 3 local
    /// date-time, 4 date-time, 5 duration.
    pub fn code(self) -> u8 {
        match self {
            Kind::Date => 0,
            Kind::LocalTime => 1,
            Kind::Time => 2,
            Kind::LocalDateTime => 3,
            Kind::DateTime => 4,
            Kind::Duration => 5,
        }
    }

    pub fn from_code(code: u8) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The type name used in messages (`Date`, `LocalDateTime`, …).
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::Date => "Date",
            Kind::LocalTime => "LocalTime",
            Kind::Time => "Time",
            Kind::LocalDateTime => "LocalDateTime",
            Kind::DateTime => "DateTime",
            Kind::Duration => "Duration",
        }
    }

    pub fn has_date(self) -> bool {
        matches!(self, Kind::Date | Kind::LocalDateTime | Kind::DateTime)
    }

    pub fn has_time(self) -> bool {
        matches!(
            self,
            Kind::LocalTime | Kind::Time | Kind::LocalDateTime | Kind::DateTime
        )
    }

    pub fn has_zone(self) -> bool {
        matches!(self, Kind::Time | Kind::DateTime)
    }

    /// Position in the `ORDER BY` order across temporal types: date-times, local
    /// date-times, dates, times, local times, durations (Neo4j's order).
    pub fn order_rank(self) -> u8 {
        match self {
            Kind::DateTime => 0,
            Kind::LocalDateTime => 1,
            Kind::Date => 2,
            Kind::Time => 3,
            Kind::LocalTime => 4,
            Kind::Duration => 5,
        }
    }
}

impl Temporal {
    pub fn kind(&self) -> Kind {
        match self {
            Temporal::Date(_) => Kind::Date,
            Temporal::LocalTime(_) => Kind::LocalTime,
            Temporal::Time(_) => Kind::Time,
            Temporal::LocalDateTime(_) => Kind::LocalDateTime,
            Temporal::DateTime(_) => Kind::DateTime,
            Temporal::Duration(_) => Kind::Duration,
        }
    }

    pub fn type_name(&self) -> &'static str {
        self.kind().type_name()
    }

    /// `<` and friends: values of the same type compare (date-times by instant, times by
    /// their UTC time of day); durations and mixed types are not comparable (`None`).
    pub fn cypher_cmp(&self, other: &Temporal) -> Option<Ordering> {
        use Temporal::*;
        match (self, other) {
            (Date(a), Date(b)) => Some(a.cmp(b)),
            (LocalTime(a), LocalTime(b)) => Some(a.cmp(b)),
            (Time(a), Time(b)) => Some(a.cmp(b)),
            (LocalDateTime(a), LocalDateTime(b)) => Some(a.cmp(b)),
            (DateTime(a), DateTime(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// A total order: by [`Kind::order_rank`] across types, chronologically within one
    /// (durations by approximate length); consistent with `==`.
    pub fn order_cmp(&self, other: &Temporal) -> Ordering {
        match (self, other) {
            (Temporal::Duration(a), Temporal::Duration(b)) => a.order_cmp(b),
            _ => self
                .cypher_cmp(other)
                .unwrap_or_else(|| self.kind().order_rank().cmp(&other.kind().order_rank())),
        }
    }

    /// The date part of a value that has one.
    pub fn date_part(&self) -> Option<Date> {
        match self {
            Temporal::Date(d) => Some(*d),
            Temporal::LocalDateTime(l) => Some(l.date),
            Temporal::DateTime(dt) => Some(dt.local().date),
            _ => None,
        }
    }

    /// The local time of day of a value that has one.
    pub fn local_time_part(&self) -> Option<LocalTime> {
        match self {
            Temporal::LocalTime(t) => Some(*t),
            Temporal::Time(t) => Some(t.time),
            Temporal::LocalDateTime(l) => Some(l.time),
            Temporal::DateTime(dt) => Some(dt.local().time),
            _ => None,
        }
    }

    /// The zone of a value that has one (a time's offset is a fixed zone).
    pub fn zone(&self) -> Option<error::Result<Zone>> {
        match self {
            Temporal::Time(t) => Some(Ok(Zone::Fixed(t.offset))),
            Temporal::DateTime(dt) => Some(dt.zone()),
            _ => None,
        }
    }

    /// The offset in force, for values with a zone.
    pub fn offset(&self) -> Option<Offset> {
        match self {
            Temporal::Time(t) => Some(t.offset),
            Temporal::DateTime(dt) => Some(dt.offset()),
            _ => None,
        }
    }
}

/// The ISO 8601 form the TCK expects (`toString`, HTTP results).
impl fmt::Display for Temporal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Temporal::Date(v) => v.fmt(f),
            Temporal::LocalTime(v) => v.fmt(f),
            Temporal::Time(v) => v.fmt(f),
            Temporal::LocalDateTime(v) => v.fmt(f),
            Temporal::DateTime(v) => v.fmt(f),
            Temporal::Duration(v) => v.fmt(f),
        }
    }
}

/// A value of the right type outside its domain.
pub(crate) fn invalid(message: impl Into<String>) -> TemporalError {
    TemporalError::new(TemporalErrorKind::InvalidValue, message)
}

/// A value of the wrong type.
pub(crate) fn wrong_type(message: impl Into<String>) -> TemporalError {
    TemporalError::new(TemporalErrorKind::WrongType, message)
}

#[cfg(test)]
mod tests {
    use super::calendar::{max_days, min_days, NANOS_PER_DAY};
    use super::*;

    /// A small deterministic generator (xorshift) for broad, repeatable samples.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn range(&mut self, lo: i64, hi: i64) -> i64 {
            lo + (self.next() % ((hi - lo) as u64 + 1)) as i64
        }

        /// Nanoseconds with a bias towards round millis, micros and whole seconds.
        fn nanos(&mut self, max: i64) -> i64 {
            let n = self.range(0, max - 1);
            match self.next() % 4 {
                0 => n - n % 1_000_000_000,
                1 => n - n % 1_000_000,
                2 => n - n % 1_000,
                _ => n,
            }
        }
    }

    fn samples(g: &mut Gen) -> Vec<Temporal> {
        let zones = [
            "Europe/Stockholm",
            "America/New_York",
            "Australia/Eucla",
            "Asia/Kolkata",
            "Pacific/Honolulu",
            "UTC",
        ];
        let mut out = Vec::new();
        for _ in 0..400 {
            let days = if g.next().is_multiple_of(2) {
                g.range(min_days(), max_days())
            } else {
                g.range(-80_000, 50_000)
            };
            let date = Date::from_epoch_days(days).expect("in range");
            let time = LocalTime::from_nano_of_day_wrapping(g.nanos(NANOS_PER_DAY));
            let offset = Offset::from_seconds(g.range(-18 * 3600, 18 * 3600)).expect("in range");
            out.push(Temporal::Date(date));
            out.push(Temporal::LocalTime(time));
            out.push(Temporal::Time(Time::new(time, offset)));
            out.push(Temporal::LocalDateTime(LocalDateTime::new(date, time)));
            let zone = if g.next().is_multiple_of(3) {
                Zone::Fixed(offset)
            } else {
                Zone::named(zones[(g.next() % zones.len() as u64) as usize]).expect("tzdb")
            };
            let recent = Date::from_epoch_days(g.range(-60_000, 50_000)).expect("in range");
            if let Ok(dt) = DateTime::from_local(LocalDateTime::new(recent, time), &zone, None) {
                out.push(Temporal::DateTime(dt));
            }
            let sign = if g.next().is_multiple_of(2) { 1 } else { -1 };
            let d = Duration::new(
                sign * g.range(0, 100_000),
                g.range(-1000, 1000),
                sign * g.range(0, 10_000_000),
                g.nanos(1_000_000_000) * sign,
            )
            .expect("in range");
            out.push(Temporal::Duration(d));
        }
        out
    }

    /// Hostile input: random text and random field maps never panic (errors are fine).
    #[test]
    fn hostile_input_gives_errors_not_panics() {
        let mut g = Gen(7);
        let alphabet: Vec<char> = "0123456789-+:.,TWQZPYMDHS[]/ _Eaeurop".chars().collect();
        let clock = Clock::fixed(Instant {
            epoch_seconds: 0,
            nanos: 0,
        });
        for _ in 0..20_000 {
            let len = g.range(0, 30) as usize;
            let text: String = (0..len)
                .map(|_| alphabet[(g.next() % alphabet.len() as u64) as usize])
                .collect();
            for kind in Kind::ALL {
                let _ = parse::parse(kind, &text);
            }
        }
        let keys = [
            "year",
            "quarter",
            "month",
            "week",
            "ordinalDay",
            "dayOfQuarter",
            "dayOfWeek",
            "day",
            "hour",
            "minute",
            "second",
            "millisecond",
            "microsecond",
            "nanosecond",
            "epochSeconds",
            "epochMillis",
            "timezone",
            "years",
            "months",
            "days",
            "seconds",
            "nanoseconds",
        ];
        let ints = [
            i64::MIN,
            i64::MAX,
            -1,
            0,
            1,
            7,
            53,
            999_999_999,
            1_000_000_000,
        ];
        let base = parse::parse(Kind::DateTime, "2017-10-29T02:30+01:00[Europe/Stockholm]")
            .expect("parses");
        for _ in 0..20_000 {
            let mut fields = Fields::new();
            for _ in 0..g.range(1, 4) {
                let key = keys[(g.next() % keys.len() as u64) as usize];
                let value = match g.next() % 5 {
                    0 => FieldValue::String("Europe/Stockholm"),
                    1 => FieldValue::Float(g.range(-1000, 1000) as f64 / 7.0),
                    2 => FieldValue::Int(g.range(-100_000, 100_000)),
                    _ => FieldValue::Int(ints[(g.next() % ints.len() as u64) as usize]),
                };
                fields.insert(key, value);
            }
            for kind in Kind::ALL {
                let _ = construct(kind, &fields, &clock);
                let _ = truncate::truncate(kind, "weekYear", &base, &fields, &clock);
            }
        }
        let values = samples(&mut g);
        for pair in values.windows(2) {
            for unit in [
                between::Unit::Between,
                between::Unit::Months,
                between::Unit::Days,
                between::Unit::Seconds,
            ] {
                let _ = between::between(unit, &pair[0], &pair[1]);
            }
            let _ = arith::add(&pair[0], &pair[1]);
            let _ = arith::subtract(&pair[0], &pair[1]);
            for name in ["year", "epochMillis", "timezone", "nanoseconds", "weekYear"] {
                let _ = access::property(&pair[0], name);
            }
        }
    }

    #[test]
    fn printed_forms_parse_back_to_the_same_value() {
        let mut g = Gen(0x9e37_79b9_7f4a_7c15);
        for t in samples(&mut g) {
            let text = t.to_string();
            assert_eq!(parse::parse(t.kind(), &text).as_ref(), Ok(&t), "{text}");
        }
    }

    #[test]
    fn order_is_total_and_agrees_with_equality() {
        let mut g = Gen(42);
        let values = samples(&mut g);
        for pair in values.windows(3) {
            let (a, b, c) = (&pair[0], &pair[1], &pair[2]);
            assert_eq!(a.order_cmp(b), b.order_cmp(a).reverse());
            assert_eq!(a.order_cmp(b) == Ordering::Equal, a == b);
            if a.order_cmp(b) != Ordering::Greater && b.order_cmp(c) != Ordering::Greater {
                assert_ne!(a.order_cmp(c), Ordering::Greater);
            }
            assert_eq!(a.order_cmp(a), Ordering::Equal);
        }
        let mut sorted = values.clone();
        sorted.sort_by(|a, b| a.order_cmp(b));
        for w in sorted.windows(2) {
            assert_ne!(w[0].order_cmp(&w[1]), Ordering::Greater);
            if w[0].kind() == w[1].kind() && w[0].kind() != Kind::Duration {
                assert_ne!(w[0].cypher_cmp(&w[1]), Some(Ordering::Greater));
            }
        }
    }
}
