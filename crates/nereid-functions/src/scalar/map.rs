//! Map functions. `keys` and `properties` of a node or relationship need the graph and are
//! the engine's; here they take maps.

use nereid_common::Error;
use nereid_value::Value;

use crate::args::{arg, string, type_error};

/// `keys(map)`: the keys, in the map's (sorted) order.
pub(crate) fn keys(args: &[Value]) -> Result<Value, Error> {
    Ok(match arg("keys", args, 0)? {
        Value::Null => Value::Null,
        Value::Map(m) => Value::List(m.keys().map(|k| Value::String(k.clone())).collect()),
        other => return Err(type_error("keys", "a Map", other)),
    })
}

/// `properties(map)`: the map itself.
pub(crate) fn properties(args: &[Value]) -> Result<Value, Error> {
    Ok(match arg("properties", args, 0)? {
        v @ (Value::Null | Value::Map(_)) => v.clone(),
        other => return Err(type_error("properties", "a Map", other)),
    })
}

/// Neptune's `removeKeyFromMap(map, key)`: the map without `key` (unchanged when absent).
pub(crate) fn remove_key_from_map(args: &[Value]) -> Result<Value, Error> {
    const F: &str = "removeKeyFromMap";
    let key = string(F, arg(F, args, 1)?)?;
    Ok(match arg(F, args, 0)? {
        Value::Null => Value::Null,
        Value::Map(m) => {
            let mut m = m.clone();
            if let Some(k) = key {
                m.remove(k);
            }
            Value::Map(m)
        }
        other => return Err(type_error(F, "a Map", other)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nereid_common::ErrorCode;
    use nereid_value::Map;

    #[test]
    fn map_functions() {
        let mut m = Map::new();
        m.insert("b".into(), 1.into());
        m.insert("a".into(), Value::Null);
        m.insert("~id".into(), "x".into());
        let mv = Value::Map(m.clone());
        assert_eq!(
            keys(std::slice::from_ref(&mv)).ok(),
            Some(Value::List(vec!["a".into(), "b".into(), "~id".into()]))
        );
        assert_eq!(keys(&[Value::Null]).ok(), Some(Value::Null));
        assert_eq!(
            keys(&[1.into()]).err().map(|e| e.code),
            Some(ErrorCode::InvalidArgumentType)
        );
        assert_eq!(properties(std::slice::from_ref(&mv)).ok(), Some(mv.clone()));
        let mut without = m.clone();
        without.remove("~id");
        assert_eq!(
            remove_key_from_map(&[mv.clone(), "~id".into()]).ok(),
            Some(Value::Map(without))
        );
        assert_eq!(
            remove_key_from_map(&[mv.clone(), "zz".into()]).ok(),
            Some(mv.clone())
        );
    }
}
