//! Type conversions: `toString`, `toInteger`, `toFloat`, `toBoolean`, their `…OrNull`
//! variants and the `…List` forms.
//!
//! A value of a type that cannot be converted at all (a list, a map, a node…) raises
//! `InvalidArgumentValue`, as the TCK requires; a string that does not parse gives null.
//! The `…OrNull` variants give null instead of any error.

use nereid_common::{Error, ErrorCode};
use nereid_value::Value;

use crate::args::{arg, short};
use crate::format::float_to_string;

fn not_convertible(function: &str, v: &Value) -> Error {
    Error::new(
        ErrorCode::InvalidArgumentValue,
        format!(
            "{function}(): cannot convert {} ({}) to the target type",
            v.type_name(),
            short(v)
        ),
    )
}

/// The text of a value for `toString`: numbers as Cypher prints them, booleans as
/// `true`/`false`, strings unchanged.
pub(crate) fn to_string_value(v: &Value) -> Result<Value, Error> {
    Ok(match v {
        Value::Null => Value::Null,
        Value::String(_) => v.clone(),
        Value::Int(i) => Value::String(i.to_string()),
        Value::Float(f) => Value::String(float_to_string(*f)),
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Temporal(t) => Value::String(t.to_string()),
        other => return Err(not_convertible("toString", other)),
    })
}

/// Whether `s` is a decimal number as Java's `BigDecimal`/`Double.parseDouble` read it:
/// sign, digits with an optional fraction (at least one digit overall), optional exponent.
fn is_decimal_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

/// A float that fits in an i64, truncated toward zero.
fn float_to_i64(f: f64) -> Option<i64> {
    // 2^63 is exactly representable; everything in [-2^63, 2^63) truncates into range.
    if f.is_finite() && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
        Some(f.trunc() as i64)
    } else {
        None
    }
}

fn too_large(function: &str, v: &Value) -> Error {
    Error::new(
        ErrorCode::NumberOutOfRange,
        format!(
            "{function}(): {} does not fit in a 64-bit Integer",
            short(v)
        ),
    )
}

/// `toInteger`: floats truncate toward zero; strings parse as an integer or, failing that,
/// as a decimal number that is then truncated (`'2.9'` → 2); booleans give 1 or 0.
pub(crate) fn to_integer_value(v: &Value) -> Result<Value, Error> {
    Ok(match v {
        Value::Null => Value::Null,
        Value::Int(_) => v.clone(),
        Value::Bool(b) => Value::Int(i64::from(*b)),
        Value::Float(f) => Value::Int(float_to_i64(*f).ok_or_else(|| too_large("toInteger", v))?),
        Value::String(s) => {
            if let Ok(i) = s.parse::<i64>() {
                Value::Int(i)
            } else if is_decimal_syntax(s) {
                let f: f64 = s.parse().map_err(|_| too_large("toInteger", v))?;
                Value::Int(float_to_i64(f).ok_or_else(|| too_large("toInteger", v))?)
            } else {
                Value::Null
            }
        }
        other => return Err(not_convertible("toInteger", other)),
    })
}

/// Parses a float as Java's `Double.parseDouble` does: surrounding whitespace ignored, an
/// optional `f`/`d` suffix, `NaN` and `Infinity` spelled exactly so.
fn parse_java_double(s: &str) -> Option<f64> {
    let t = s.trim();
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if unsigned == "NaN" {
        return Some(f64::NAN);
    }
    if unsigned == "Infinity" {
        return Some(if t.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    let body = t.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(t);
    if is_decimal_syntax(body) {
        body.parse().ok()
    } else {
        None
    }
}

/// `toFloat`: integers widen; strings parse (null when they do not); booleans are an error.
pub(crate) fn to_float_value(v: &Value) -> Result<Value, Error> {
    Ok(match v {
        Value::Null => Value::Null,
        Value::Float(_) => v.clone(),
        Value::Int(i) => Value::Float(*i as f64),
        Value::String(s) => parse_java_double(s).map_or(Value::Null, Value::Float),
        other => return Err(not_convertible("toFloat", other)),
    })
}

/// `toBoolean`: strings `true`/`false` in any case (surrounding whitespace ignored), other
/// strings null; integers are true unless 0; floats and everything else are an error.
pub(crate) fn to_boolean_value(v: &Value) -> Result<Value, Error> {
    Ok(match v {
        Value::Null => Value::Null,
        Value::Bool(_) => v.clone(),
        Value::Int(i) => Value::Bool(*i != 0),
        Value::String(s) => {
            let t = s.trim();
            if t.eq_ignore_ascii_case("true") {
                Value::Bool(true)
            } else if t.eq_ignore_ascii_case("false") {
                Value::Bool(false)
            } else {
                Value::Null
            }
        }
        other => return Err(not_convertible("toBoolean", other)),
    })
}

pub(crate) fn to_string(args: &[Value]) -> Result<Value, Error> {
    to_string_value(arg("toString", args, 0)?)
}
pub(crate) fn to_integer(args: &[Value]) -> Result<Value, Error> {
    to_integer_value(arg("toInteger", args, 0)?)
}
pub(crate) fn to_float(args: &[Value]) -> Result<Value, Error> {
    to_float_value(arg("toFloat", args, 0)?)
}
pub(crate) fn to_boolean(args: &[Value]) -> Result<Value, Error> {
    to_boolean_value(arg("toBoolean", args, 0)?)
}

fn or_null(
    function: &str,
    args: &[Value],
    f: fn(&Value) -> Result<Value, Error>,
) -> Result<Value, Error> {
    Ok(f(arg(function, args, 0)?).unwrap_or(Value::Null))
}

pub(crate) fn to_string_or_null(args: &[Value]) -> Result<Value, Error> {
    or_null("toStringOrNull", args, to_string_value)
}
pub(crate) fn to_integer_or_null(args: &[Value]) -> Result<Value, Error> {
    or_null("toIntegerOrNull", args, to_integer_value)
}
pub(crate) fn to_float_or_null(args: &[Value]) -> Result<Value, Error> {
    or_null("toFloatOrNull", args, to_float_value)
}
pub(crate) fn to_boolean_or_null(args: &[Value]) -> Result<Value, Error> {
    or_null("toBooleanOrNull", args, to_boolean_value)
}

/// `to…List(list)`: converts each element, null where an element does not convert.
fn list_of(
    function: &str,
    args: &[Value],
    f: fn(&Value) -> Result<Value, Error>,
) -> Result<Value, Error> {
    match arg(function, args, 0)? {
        Value::Null => Ok(Value::Null),
        Value::List(items) => Ok(Value::List(
            items.iter().map(|v| f(v).unwrap_or(Value::Null)).collect(),
        )),
        other => Err(crate::args::type_error(function, "a List", other)),
    }
}

pub(crate) fn to_string_list(args: &[Value]) -> Result<Value, Error> {
    list_of("toStringList", args, to_string_value)
}
pub(crate) fn to_integer_list(args: &[Value]) -> Result<Value, Error> {
    list_of("toIntegerList", args, to_integer_value)
}
pub(crate) fn to_float_list(args: &[Value]) -> Result<Value, Error> {
    list_of("toFloatList", args, to_float_value)
}
pub(crate) fn to_boolean_list(args: &[Value]) -> Result<Value, Error> {
    list_of("toBooleanList", args, to_boolean_value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nereid_value::{Map, NodeId, Path, RelId};

    fn invalid_values() -> Vec<Value> {
        vec![
            Value::List(vec![]),
            Value::Map(Map::new()),
            Value::Node(NodeId(1)),
            Value::Relationship(RelId(1)),
            Value::from(Path {
                nodes: vec![NodeId(1)],
                rels: vec![],
            }),
        ]
    }

    fn code(r: Result<Value, Error>) -> ErrorCode {
        match r {
            Err(e) => e.code,
            Ok(v) => panic!("expected an error, got {v}"),
        }
    }

    #[test]
    fn to_boolean_follows_the_tck() {
        assert_eq!(to_boolean_value(&true.into()).ok(), Some(true.into()));
        assert_eq!(to_boolean_value(&"true".into()).ok(), Some(true.into()));
        assert_eq!(to_boolean_value(&"FALSE".into()).ok(), Some(false.into()));
        for s in ["", " tru ", "f alse", "yes"] {
            assert_eq!(to_boolean_value(&s.into()).ok(), Some(Value::Null), "{s:?}");
        }
        assert_eq!(to_boolean_value(&Value::Null).ok(), Some(Value::Null));
        assert_eq!(to_boolean_value(&0.into()).ok(), Some(false.into()));
        assert_eq!(to_boolean_value(&7.into()).ok(), Some(true.into()));
        assert_eq!(
            code(to_boolean_value(&1.0.into())),
            ErrorCode::InvalidArgumentValue
        );
        for v in invalid_values() {
            assert_eq!(code(to_boolean_value(&v)), ErrorCode::InvalidArgumentValue);
        }
    }

    #[test]
    fn to_integer_follows_the_tck() {
        assert_eq!(to_integer_value(&82.9.into()).ok(), Some(82.into()));
        assert_eq!(to_integer_value(&(-2.9).into()).ok(), Some((-2).into()));
        assert_eq!(to_integer_value(&"42".into()).ok(), Some(42.into()));
        assert_eq!(to_integer_value(&"2.9".into()).ok(), Some(2.into()));
        assert_eq!(to_integer_value(&"1.7".into()).ok(), Some(1.into()));
        assert_eq!(to_integer_value(&"1e3".into()).ok(), Some(1000.into()));
        assert_eq!(
            to_integer_value(&"-9223372036854775808".into()).ok(),
            Some(i64::MIN.into())
        );
        for s in ["foo", "", "1.2.3", "e5", "0x10"] {
            assert_eq!(to_integer_value(&s.into()).ok(), Some(Value::Null), "{s:?}");
        }
        assert_eq!(to_integer_value(&true.into()).ok(), Some(1.into()));
        assert_eq!(
            code(to_integer_value(&1e19.into())),
            ErrorCode::NumberOutOfRange
        );
        assert_eq!(
            code(to_integer_value(&f64::NAN.into())),
            ErrorCode::NumberOutOfRange
        );
        assert_eq!(
            code(to_integer_value(&"9223372036854775808".into())),
            ErrorCode::NumberOutOfRange
        );
        for v in invalid_values() {
            assert_eq!(code(to_integer_value(&v)), ErrorCode::InvalidArgumentValue);
        }
    }

    #[test]
    fn to_float_follows_the_tck() {
        assert_eq!(to_float_value(&3.into()).ok(), Some(3.0.into()));
        assert_eq!(to_float_value(&3.4.into()).ok(), Some(3.4.into()));
        assert_eq!(to_float_value(&"5".into()).ok(), Some(5.0.into()));
        assert_eq!(to_float_value(&" 2.5 ".into()).ok(), Some(2.5.into()));
        assert_eq!(to_float_value(&"1e-2".into()).ok(), Some(0.01.into()));
        assert_eq!(
            to_float_value(&"-Infinity".into()).ok(),
            Some(f64::NEG_INFINITY.into())
        );
        for s in ["foo", "", "inf", "nan", "1,5"] {
            assert_eq!(to_float_value(&s.into()).ok(), Some(Value::Null), "{s:?}");
        }
        assert_eq!(
            code(to_float_value(&true.into())),
            ErrorCode::InvalidArgumentValue
        );
        for v in invalid_values() {
            assert_eq!(code(to_float_value(&v)), ErrorCode::InvalidArgumentValue);
        }
    }

    #[test]
    fn to_string_follows_the_tck() {
        assert_eq!(to_string_value(&42.into()).ok(), Some("42".into()));
        assert_eq!(to_string_value(&2.3.into()).ok(), Some("2.3".into()));
        assert_eq!(to_string_value(&4.0.into()).ok(), Some("4.0".into()));
        assert_eq!(to_string_value(&true.into()).ok(), Some("true".into()));
        assert_eq!(to_string_value(&"apa".into()).ok(), Some("apa".into()));
        assert_eq!(to_string_value(&Value::Null).ok(), Some(Value::Null));
        for v in invalid_values() {
            assert_eq!(code(to_string_value(&v)), ErrorCode::InvalidArgumentValue);
        }
    }

    #[test]
    fn or_null_variants_never_fail() {
        let list = [Value::List(vec![])];
        assert_eq!(to_integer_or_null(&list).ok(), Some(Value::Null));
        assert_eq!(to_float_or_null(&[true.into()]).ok(), Some(Value::Null));
        assert_eq!(to_boolean_or_null(&[1.5.into()]).ok(), Some(Value::Null));
        assert_eq!(to_string_or_null(&list).ok(), Some(Value::Null));
        assert_eq!(to_integer_or_null(&["7".into()]).ok(), Some(7.into()));
        assert_eq!(
            to_integer_list(&[Value::List(vec!["1".into(), "x".into(), 2.5.into()])]).ok(),
            Some(Value::List(vec![1.into(), Value::Null, 2.into()]))
        );
        assert_eq!(
            code(to_float_list(&[1.into()])),
            ErrorCode::InvalidArgumentType
        );
    }
}
