//! Helpers shared by the operator tests.

use nereid_common::{Error, ErrorCode};
use nereid_value::Value;

pub fn list(v: Vec<Value>) -> Value {
    Value::List(v)
}

pub fn ints(v: &[i64]) -> Value {
    Value::List(v.iter().map(|i| Value::Int(*i)).collect())
}

/// The error code of a result that must be an error.
pub fn code(r: Result<Value, Error>) -> ErrorCode {
    match r {
        Err(e) => e.code,
        Ok(v) => panic!("expected an error, got {v}"),
    }
}
