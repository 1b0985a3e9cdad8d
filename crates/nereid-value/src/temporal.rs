//! Where [`Value`] meets `nereid_temporal`, which knows neither values nor error codes: a map
//! argument becomes constructor [`Fields`], a component becomes a value, and a
//! [`TemporalError`] becomes the coded [`Error`] the rest of nereid reports.
//!
//! The error conversion is a function, [`coded`], not a `From` impl: the orphan rule allows
//! `impl From<TemporalError> for Error` only in the crate of one of the two types, and
//! neither may depend on the other (`nereid-common` stays free of jiff so that the parser
//! and SigV4 do not link the tz database; `nereid-temporal` stays free of the error table).
//! Callers write `.map_err(coded)`.

use nereid_common::{Error, ErrorCode};
use nereid_temporal::access::{self, Component};
use nereid_temporal::{FieldValue, Fields, Temporal, TemporalError, TemporalErrorKind};

use crate::{Map, Value};

/// The code each kind of temporal failure is reported with.
pub fn error_code(kind: TemporalErrorKind) -> ErrorCode {
    match kind {
        TemporalErrorKind::InvalidValue => ErrorCode::InvalidArgumentValue,
        TemporalErrorKind::WrongType => ErrorCode::InvalidArgumentType,
        TemporalErrorKind::Overflow => ErrorCode::ArithmeticOverflow,
        TemporalErrorKind::DivisionByZero => ErrorCode::DivisionByZero,
        TemporalErrorKind::Internal => ErrorCode::InternalFailure,
    }
}

/// The coded runtime error for a temporal one; the message is kept as it is.
pub fn coded(e: TemporalError) -> Error {
    Error::new(error_code(e.kind), e.message)
}

/// A map argument (`date({year: 1984, week: 10})`, `datetime({date: d, timezone: 'UTC'})`)
/// as constructor fields, entry for entry.
pub fn fields(map: &Map) -> Fields<'_> {
    map.iter().map(|(k, v)| (k.as_str(), field(v))).collect()
}

fn field(v: &Value) -> FieldValue<'_> {
    match v {
        Value::Int(i) => FieldValue::Int(*i),
        Value::Float(f) => FieldValue::Float(*f),
        Value::String(s) => FieldValue::String(s),
        Value::Temporal(t) => FieldValue::Temporal(t),
        other => FieldValue::Other(other.type_name()),
    }
}

/// `t.name` (`d.year`, `dt.timezone`, `dur.monthsOfYear`), as a value.
pub fn property(t: &Temporal, name: &str) -> Result<Value, Error> {
    access::property(t, name).map(Value::from).map_err(coded)
}

impl From<Component> for Value {
    fn from(c: Component) -> Self {
        match c {
            Component::Int(i) => Value::Int(i),
            Component::String(s) => Value::String(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nereid_temporal::{construct, parse::parse, Clock, Duration, Instant, Kind};

    #[test]
    fn temporal_errors_keep_their_codes_and_messages() {
        let invalid = parse(Kind::Date, "2015-13-01").map_err(coded).unwrap_err();
        assert_eq!(invalid.code, ErrorCode::InvalidArgumentValue);
        assert_eq!(
            invalid.message,
            parse(Kind::Date, "2015-13-01").unwrap_err().message
        );

        let mut map = Map::new();
        map.insert("year".into(), Value::from("1984"));
        let clock = Clock::fixed(Instant {
            epoch_seconds: 0,
            nanos: 0,
        });
        let wrong = construct(Kind::Date, &fields(&map), &clock)
            .map_err(coded)
            .unwrap_err();
        assert_eq!(wrong.code, ErrorCode::InvalidArgumentType);
        assert_eq!(wrong.message, "field 'year' must be an integer, got String");

        let max = Duration::new(i64::MAX, 0, 0, 0).expect("in range");
        let overflow = max.plus(&max).map_err(coded).unwrap_err();
        assert_eq!(overflow.code, ErrorCode::ArithmeticOverflow);
        assert_eq!(overflow.message, "duration out of range");

        let by_zero = max.div(0.0).map_err(coded).unwrap_err();
        assert_eq!(by_zero.code, ErrorCode::DivisionByZero);
        assert_eq!(by_zero.message, "division of a duration by zero");
        assert_eq!(
            error_code(TemporalErrorKind::Internal),
            ErrorCode::InternalFailure
        );
    }

    #[test]
    fn map_arguments_and_components_cross_as_values() {
        let mut map = Map::new();
        map.insert("year".into(), Value::Int(1984));
        map.insert("ordinalDay".into(), Value::Int(202));
        map.insert("list".into(), Value::List(vec![]));
        let clock = Clock::fixed(Instant {
            epoch_seconds: 0,
            nanos: 0,
        });
        let e = construct(Kind::Date, &fields(&map), &clock).unwrap_err();
        assert_eq!(e.message, "no such field for a Date: 'list'");
        map.remove("list");
        let d = construct(Kind::Date, &fields(&map), &clock).expect("a date");
        assert_eq!(d.to_string(), "1984-07-20");
        assert_eq!(property(&d, "month"), Ok(Value::Int(7)));
        let t = parse(Kind::Time, "12:00+01:00").expect("a time");
        assert_eq!(property(&t, "offset"), Ok(Value::from("+01:00")));
        assert_eq!(
            property(&t, "year").map_err(|e| e.code),
            Err(ErrorCode::InvalidArgumentValue)
        );
    }
}
