//! Functions outside the value families: `coalesce`, `timestamp`, `randomUUID`.

use std::time::{SystemTime, UNIX_EPOCH};

use nereid_common::Error;
use nereid_value::Value;

use crate::random;

/// `coalesce(a, b, …)`: the first argument that is not null.
pub(crate) fn coalesce(args: &[Value]) -> Result<Value, Error> {
    Ok(args
        .iter()
        .find(|v| !v.is_null())
        .cloned()
        .unwrap_or(Value::Null))
}

/// `timestamp()`: milliseconds since the Unix epoch. Cypher wants one value per query;
/// the engine should evaluate it once per statement (it is marked non-deterministic).
pub(crate) fn timestamp(_: &[Value]) -> Result<Value, Error> {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| Error::internal(format!("system clock before 1970: {e}")))?
        .as_millis();
    Ok(Value::Int(i64::try_from(ms).unwrap_or(i64::MAX)))
}

/// `randomUUID()`.
pub(crate) fn random_uuid(_: &[Value]) -> Result<Value, Error> {
    Ok(Value::String(random::uuid_v4()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalesce_takes_the_first_non_null() {
        assert_eq!(
            coalesce(&[Value::Null, Value::Null, 2.into(), 3.into()]).ok(),
            Some(2.into())
        );
        assert_eq!(coalesce(&[Value::Null]).ok(), Some(Value::Null));
    }

    #[test]
    fn timestamp_is_after_2020() {
        match timestamp(&[]) {
            Ok(Value::Int(ms)) => assert!(ms > 1_577_836_800_000),
            other => panic!("{other:?}"),
        }
    }
}
