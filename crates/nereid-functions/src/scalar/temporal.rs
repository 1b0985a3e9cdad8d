//! The temporal functions: `date`, `localtime`, `time`, `localdatetime`, `datetime`,
//! `duration`, their `.transaction()`, `.statement()`, `.realtime()` and `.truncate()`
//! forms, `datetime.fromepoch(millis)` and `duration.between`/`inMonths`/`inDays`/
//! `inSeconds`. Argument decoding lives here; the semantics in [`nereid_temporal`], whose
//! errors [`coded`] turns into coded ones.
//!
//! `date()` and `X.statement()` read the statement clock, `X.transaction()` the transaction
//! clock, `X.realtime()` the system clock. The engine fixes the first two per statement
//! with [`enter_statement`]; without it they read the system clock at each call.

use std::cell::Cell;

use nereid_common::Error;
use nereid_temporal::between::{between, Unit as BetweenUnit};
use nereid_temporal::{
    construct, now, parse::parse, select, truncate::truncate, Clock, ClockSource, FieldValue,
    Fields, Kind, Temporal, Zone,
};
use nereid_value::temporal::{coded, fields};
use nereid_value::Value;

use crate::args::short;

thread_local! {
    static STATEMENT_CLOCK: Cell<Option<Clock>> = const { Cell::new(None) };
}

/// While alive, the current-time functions on this thread read `clock`; dropping it
/// restores what was there before (statements may nest, as subqueries do).
#[must_use = "the statement clock is reset when this guard is dropped"]
pub struct StatementClock {
    previous: Option<Clock>,
}

/// Fixes the transaction and statement times for the statement about to run on this
/// thread.
pub fn enter_statement(clock: Clock) -> StatementClock {
    StatementClock {
        previous: STATEMENT_CLOCK.with(|c| c.replace(Some(clock))),
    }
}

impl Drop for StatementClock {
    fn drop(&mut self) {
        STATEMENT_CLOCK.with(|c| c.set(self.previous));
    }
}

/// The clock of the running statement, or the system clock now when none was entered.
pub fn current_clock() -> Clock {
    STATEMENT_CLOCK.with(Cell::get).unwrap_or_else(Clock::start)
}

fn type_error(function: &str, what: &str, v: &Value) -> Error {
    Error::type_error(format!(
        "{function}(): expected {what}, got {} ({})",
        v.type_name(),
        short(v)
    ))
}

/// `kind()`, `kind(text)`, `kind(map)`, `kind(temporal)`.
fn build(kind: Kind, args: &[Value]) -> Result<Value, Error> {
    let clock = current_clock();
    let t = match args {
        [] => now(kind, ClockSource::Statement, None, &clock),
        [Value::Null] => return Ok(Value::Null),
        [Value::String(s)] => parse(kind, s),
        [Value::Map(m)] => construct(kind, &fields(m), &clock),
        [Value::Temporal(t)] => select(kind, t, &clock),
        [other, ..] => {
            return Err(type_error(
                kind.function_name(),
                "a string, a map or a temporal value",
                other,
            ))
        }
    };
    t.map(Value::from).map_err(coded)
}

/// `kind.transaction()`, `kind.statement('Europe/Paris')`, `kind.realtime({timezone: …})`.
fn current(kind: Kind, source: ClockSource, args: &[Value]) -> Result<Value, Error> {
    let name = kind.function_name();
    let zone = match args {
        [] => None,
        [Value::Null] => return Ok(Value::Null),
        [Value::String(s)] => Some(Zone::parse(s).map_err(coded)?),
        [Value::Map(m)] => {
            let mut zone = None;
            for (k, v) in m {
                match (k.to_ascii_lowercase().as_str(), v) {
                    ("timezone", Value::String(s)) => zone = Some(Zone::parse(s).map_err(coded)?),
                    ("timezone", other) => {
                        return Err(type_error(name, "a time zone string", other))
                    }
                    _ => {
                        return Err(Error::new(
                            nereid_common::ErrorCode::InvalidArgumentValue,
                            format!("{name}(): the current time takes only a timezone, not '{k}'"),
                        ))
                    }
                }
            }
            zone
        }
        [other, ..] => return Err(type_error(name, "a time zone", other)),
    };
    now(kind, source, zone.as_ref(), &current_clock())
        .map(Value::from)
        .map_err(coded)
}

/// `kind.truncate(unit, temporal[, map])`. Arguments of the wrong type are errors even
/// when another argument is null; a null unit or value gives null.
fn truncate_fn(kind: Kind, args: &[Value]) -> Result<Value, Error> {
    let name = kind.function_name();
    let unit = match args.first() {
        Some(Value::String(u)) => Some(u),
        Some(Value::Null) | None => None,
        Some(other) => return Err(type_error(name, "a unit name", other)),
    };
    let input = match args.get(1) {
        Some(Value::Temporal(t)) => Some(t),
        Some(Value::Null) | None => None,
        Some(other) => return Err(type_error(name, "a temporal value", other)),
    };
    let fields = match args.get(2) {
        Some(Value::Map(m)) => fields(m),
        Some(Value::Null) | None => Fields::new(),
        Some(other) => return Err(type_error(name, "a map", other)),
    };
    match (unit, input) {
        (Some(unit), Some(input)) => truncate(kind, unit, input, &fields, &current_clock())
            .map(Value::from)
            .map_err(coded),
        _ => Ok(Value::Null),
    }
}

/// `duration.between(a, b)` and the `in…` forms.
fn measure(unit: BetweenUnit, args: &[Value]) -> Result<Value, Error> {
    if let Some(bad) = args
        .iter()
        .find(|v| !matches!(v, Value::Null | Value::Temporal(_)))
    {
        return Err(type_error("duration.between", "a temporal value", bad));
    }
    match args {
        [Value::Temporal(a), Value::Temporal(b)] => between(unit, a, b)
            .map(|d| Value::from(Temporal::Duration(d)))
            .map_err(coded),
        _ => Ok(Value::Null),
    }
}

fn epoch(entries: &[(&str, i64)]) -> Result<Value, Error> {
    let fields: Fields<'_> = entries
        .iter()
        .map(|(k, v)| (*k, FieldValue::Int(*v)))
        .collect();
    construct(Kind::DateTime, &fields, &current_clock())
        .map(Value::from)
        .map_err(coded)
}

/// `datetime.fromepoch(seconds, nanoseconds)`.
pub(crate) fn from_epoch(args: &[Value]) -> Result<Value, Error> {
    if let Some(bad) = args
        .iter()
        .find(|v| !matches!(v, Value::Null | Value::Int(_)))
    {
        return Err(type_error("datetime.fromepoch", "an integer", bad));
    }
    match args {
        [Value::Int(s), Value::Int(n)] => epoch(&[("epochSeconds", *s), ("nanosecond", *n)]),
        _ => Ok(Value::Null),
    }
}

/// `datetime.fromepochmillis(milliseconds)`.
pub(crate) fn from_epoch_millis(args: &[Value]) -> Result<Value, Error> {
    match args {
        [Value::Null] => Ok(Value::Null),
        [Value::Int(ms)] => epoch(&[("epochMillis", *ms)]),
        [other, ..] => Err(type_error("datetime.fromepochmillis", "an integer", other)),
        [] => Err(Error::internal(
            "datetime.fromepochmillis needs an argument",
        )),
    }
}

/// `duration(text)`, `duration(map)`.
pub(crate) fn duration(args: &[Value]) -> Result<Value, Error> {
    match args {
        [Value::Null] => Ok(Value::Null),
        [Value::String(_) | Value::Map(_) | Value::Temporal(_)] => build(Kind::Duration, args),
        [other, ..] => Err(type_error(
            "duration",
            "a string, a map or a duration",
            other,
        )),
        [] => Err(Error::internal("duration needs an argument")),
    }
}

macro_rules! kind_functions {
    ($($kind:ident: $build:ident, $tx:ident, $st:ident, $rt:ident, $tr:ident;)*) => {$(
        pub(crate) fn $build(args: &[Value]) -> Result<Value, Error> {
            build(Kind::$kind, args)
        }
        pub(crate) fn $tx(args: &[Value]) -> Result<Value, Error> {
            current(Kind::$kind, ClockSource::Transaction, args)
        }
        pub(crate) fn $st(args: &[Value]) -> Result<Value, Error> {
            current(Kind::$kind, ClockSource::Statement, args)
        }
        pub(crate) fn $rt(args: &[Value]) -> Result<Value, Error> {
            current(Kind::$kind, ClockSource::Realtime, args)
        }
        pub(crate) fn $tr(args: &[Value]) -> Result<Value, Error> {
            truncate_fn(Kind::$kind, args)
        }
    )*};
}

kind_functions! {
    Date: date, date_transaction, date_statement, date_realtime, date_truncate;
    LocalTime: localtime, localtime_transaction, localtime_statement, localtime_realtime, localtime_truncate;
    Time: time, time_transaction, time_statement, time_realtime, time_truncate;
    LocalDateTime: localdatetime, localdatetime_transaction, localdatetime_statement, localdatetime_realtime, localdatetime_truncate;
    DateTime: datetime, datetime_transaction, datetime_statement, datetime_realtime, datetime_truncate;
}

pub(crate) fn duration_between(args: &[Value]) -> Result<Value, Error> {
    measure(BetweenUnit::Between, args)
}

pub(crate) fn duration_in_months(args: &[Value]) -> Result<Value, Error> {
    measure(BetweenUnit::Months, args)
}

pub(crate) fn duration_in_days(args: &[Value]) -> Result<Value, Error> {
    measure(BetweenUnit::Days, args)
}

pub(crate) fn duration_in_seconds(args: &[Value]) -> Result<Value, Error> {
    measure(BetweenUnit::Seconds, args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nereid_common::ErrorCode;
    use nereid_temporal::Instant;
    use nereid_value::Map;

    fn s(v: &str) -> Value {
        Value::from(v)
    }

    fn text(r: Result<Value, Error>) -> String {
        match r {
            Ok(Value::Temporal(t)) => t.to_string(),
            Ok(other) => format!("{other}"),
            Err(e) => format!("{:?}", e.code),
        }
    }

    #[test]
    fn statement_clock_makes_calls_agree() {
        let clock = Clock::fixed(Instant {
            epoch_seconds: 1_500_000_000,
            nanos: 7,
        });
        {
            let _guard = enter_statement(clock);
            assert_eq!(text(datetime(&[])), "2017-07-14T02:40:00.000000007Z");
            assert_eq!(localtime(&[]), localtime(&[]));
            assert_eq!(
                text(date_transaction(&[s("Pacific/Kiritimati")])),
                "2017-07-14"
            );
            let a = localtime(&[]).expect("ok");
            assert_eq!(text(duration_in_seconds(&[a.clone(), a])), "PT0S");
        }
        // The guard restored "no statement clock": the system clock is read again.
        assert_ne!(text(datetime(&[])), "2017-07-14T02:40:00.000000007Z");
    }

    #[test]
    fn arguments_decode() {
        assert_eq!(text(date(&[s("2015-W30-2")])), "2015-07-21");
        let mut m = Map::new();
        m.insert("year".into(), Value::Int(1984));
        m.insert("ordinalDay".into(), Value::Int(202));
        assert_eq!(text(date(&[Value::Map(m.clone())])), "1984-07-20");
        let d = date(&[Value::Map(m)]).expect("ok");
        assert_eq!(
            text(localdatetime(std::slice::from_ref(&d))),
            "1984-07-20T00:00"
        );
        assert_eq!(text(date_truncate(&[s("month"), d.clone()])), "1984-07-01");
        assert_eq!(date(&[Value::Null]), Ok(Value::Null));
        assert_eq!(date_realtime(&[Value::Null]), Ok(Value::Null));
        assert_eq!(text(date(&[Value::Int(1)])), "InvalidArgumentType");
        assert_eq!(text(date(&[s("nonsense")])), "InvalidArgumentValue");
        assert_eq!(
            text(from_epoch(&[Value::Int(416_779), Value::Int(999_999_999)])),
            "1970-01-05T19:46:19.999999999Z"
        );
        assert_eq!(
            text(from_epoch_millis(&[Value::Int(237_821_673_987)])),
            "1977-07-15T13:34:33.987Z"
        );
        assert_eq!(text(duration(&[s("P1.5D")])), "P1DT12H");
        assert_eq!(
            text(duration_between(&[
                d,
                date(&[s("2015-06-24")]).expect("ok")
            ])),
            "P30Y11M4D"
        );
        assert_eq!(
            duration_between(&[Value::Null, Value::Null]),
            Ok(Value::Null)
        );
        let mut only_zone = Map::new();
        only_zone.insert("zone".into(), s("UTC"));
        assert_eq!(
            date_statement(&[Value::Map(only_zone)]).map_err(|e| e.code),
            Err(ErrorCode::InvalidArgumentValue)
        );
    }
}
