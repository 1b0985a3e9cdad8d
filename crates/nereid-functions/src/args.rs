//! Argument helpers shared by the function families: typed extraction with the error codes
//! the TCK expects, so that each function body reads as its specification.

use nereid_common::{Error, ErrorCode};
use nereid_value::Value;

/// A wrong-type error naming the function, the argument's position and what was expected.
pub(crate) fn type_error(function: &str, expected: &str, got: &Value) -> Error {
    Error::type_error(format!(
        "{function}(): expected {expected}, got {} ({})",
        got.type_name(),
        short(got)
    ))
}

/// A value for an error message, truncated so that a huge list does not flood the client.
pub(crate) fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        let mut t: String = s.chars().take(57).collect();
        t.push_str("...");
        t
    } else {
        s
    }
}

/// The argument at `i`; a missing one is a bug in the caller (arity is checked first).
pub(crate) fn arg<'a>(function: &str, args: &'a [Value], i: usize) -> Result<&'a Value, Error> {
    args.get(i).ok_or_else(|| {
        Error::internal(format!(
            "{function}(): argument {} missing after the arity check",
            i + 1
        ))
    })
}

/// A number as `f64` (Integer or Float); `None` for null; a type error otherwise.
pub(crate) fn number(function: &str, v: &Value) -> Result<Option<f64>, Error> {
    match v {
        Value::Null => Ok(None),
        Value::Int(i) => Ok(Some(*i as f64)),
        Value::Float(f) => Ok(Some(*f)),
        other => Err(type_error(function, "a number", other)),
    }
}

/// An Integer; `None` for null; a type error for anything else, floats included.
pub(crate) fn integer(function: &str, v: &Value) -> Result<Option<i64>, Error> {
    match v {
        Value::Null => Ok(None),
        Value::Int(i) => Ok(Some(*i)),
        other => Err(type_error(function, "an Integer", other)),
    }
}

/// A String; `None` for null; a type error otherwise.
pub(crate) fn string<'a>(function: &str, v: &'a Value) -> Result<Option<&'a str>, Error> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        other => Err(type_error(function, "a String", other)),
    }
}

/// A List; `None` for null; a type error otherwise.
pub(crate) fn list<'a>(function: &str, v: &'a Value) -> Result<Option<&'a [Value]>, Error> {
    match v {
        Value::Null => Ok(None),
        Value::List(l) => Ok(Some(l)),
        other => Err(type_error(function, "a List", other)),
    }
}

/// A length or count argument that openCypher requires to be a non-negative Integer and
/// not null (`substring`, `left`, `right`).
pub(crate) fn non_negative(function: &str, what: &str, v: &Value) -> Result<usize, Error> {
    match v {
        Value::Int(i) if *i < 0 => Err(Error::new(
            ErrorCode::NegativeIntegerArgumentRuntime,
            format!("{function}(): {what} must not be negative, got {i}"),
        )),
        Value::Int(i) => Ok(usize::try_from(*i).unwrap_or(usize::MAX)),
        other => Err(type_error(function, &format!("an Integer {what}"), other)),
    }
}
