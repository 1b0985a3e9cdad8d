//! Subscripts and property access on values: `list[i]`, `map[key]`, `list[from..to]` and
//! `map.key`.

use nereid_common::{Error, ErrorCode};
use nereid_value::Value;

use crate::args::short;

/// `container[idx]`: list element (negative counts from the end, out of range is null) or
/// map entry (missing key is null). Nodes and relationships are the engine's (they need
/// the graph); here they are a type error.
pub fn index(container: &Value, idx: &Value) -> Result<Value, Error> {
    match (container, idx) {
        (Value::Null, _) => Ok(Value::Null),
        (Value::List(items), Value::Int(i)) => Ok(list_get(items, *i)),
        (Value::List(_), Value::Null) => Ok(Value::Null),
        (Value::List(_), other) => Err(Error::type_error(format!(
            "a list index must be an Integer, got {} ({})",
            other.type_name(),
            short(other)
        ))),
        (Value::Map(m), Value::String(k)) => Ok(m.get(k).cloned().unwrap_or(Value::Null)),
        (Value::Map(_), Value::Null) => Ok(Value::Null),
        (Value::Map(_), other) => Err(Error::new(
            ErrorCode::MapElementAccessByNonString,
            format!(
                "a map key must be a String, got {} ({})",
                other.type_name(),
                short(other)
            ),
        )),
        (other, _) => Err(Error::type_error(format!(
            "cannot index into {} ({}): expected a List or a Map",
            other.type_name(),
            short(other)
        ))),
    }
}

fn list_get(items: &[Value], i: i64) -> Value {
    let len = items.len() as i64;
    let pos = if i < 0 { len.checked_add(i) } else { Some(i) };
    match pos {
        Some(p) if (0..len).contains(&p) => items[p as usize].clone(),
        _ => Value::Null,
    }
}

/// `list[from..to]`: `None` is an omitted bound, `Some(Value::Null)` a null one (which makes
/// the result null). Negative bounds count from the end; bounds are clamped; an empty or
/// inverted range gives `[]`.
pub fn slice(list: &Value, from: Option<&Value>, to: Option<&Value>) -> Result<Value, Error> {
    let items = match list {
        Value::Null => return Ok(Value::Null),
        Value::List(items) => items,
        other => {
            return Err(Error::type_error(format!(
                "cannot slice {} ({}): expected a List",
                other.type_name(),
                short(other)
            )))
        }
    };
    let len = items.len() as i64;
    let bound = |b: Option<&Value>, default: i64| -> Result<Option<i64>, Error> {
        match b {
            None => Ok(Some(default)),
            Some(Value::Null) => Ok(None),
            Some(Value::Int(i)) => {
                let i = if *i < 0 { len.saturating_add(*i) } else { *i };
                Ok(Some(i.clamp(0, len)))
            }
            Some(other) => Err(Error::type_error(format!(
                "a list slice bound must be an Integer, got {} ({})",
                other.type_name(),
                short(other)
            ))),
        }
    };
    let (start, end) = match (bound(from, 0)?, bound(to, len)?) {
        (Some(s), Some(e)) => (s, e),
        _ => return Ok(Value::Null),
    };
    if start >= end {
        return Ok(Value::List(Vec::new()));
    }
    Ok(Value::List(items[start as usize..end as usize].to_vec()))
}

/// `container.key` on a value: a map entry (null when missing), null on null. Nodes and
/// relationships are the engine's (it reads their properties); any other value is a type
/// error.
pub fn property(container: &Value, key: &str) -> Result<Value, Error> {
    match container {
        Value::Null => Ok(Value::Null),
        Value::Map(m) => Ok(m.get(key).cloned().unwrap_or(Value::Null)),
        Value::Temporal(t) => nereid_value::temporal::property(t, key),
        other => Err(Error::type_error(format!(
            "cannot read property `{key}` of {} ({}): expected a Map, Node or Relationship",
            other.type_name(),
            short(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::{code, ints};
    use nereid_value::Map;

    #[test]
    fn indexing_lists_and_maps() {
        let l = ints(&[1, 2, 3]);
        assert_eq!(index(&l, &0.into()).ok(), Some(1.into()));
        assert_eq!(index(&l, &(-1).into()).ok(), Some(3.into()));
        assert_eq!(index(&l, &3.into()).ok(), Some(Value::Null));
        assert_eq!(index(&l, &(-4).into()).ok(), Some(Value::Null));
        assert_eq!(index(&l, &i64::MIN.into()).ok(), Some(Value::Null));
        assert_eq!(index(&l, &Value::Null).ok(), Some(Value::Null));
        assert_eq!(index(&Value::Null, &0.into()).ok(), Some(Value::Null));
        assert_eq!(code(index(&l, &4.7.into())), ErrorCode::InvalidArgumentType);
        assert_eq!(
            code(index(&"1".into(), &0.into())),
            ErrorCode::InvalidArgumentType
        );
        assert_eq!(
            code(index(&123.into(), &0.into())),
            ErrorCode::InvalidArgumentType
        );
        let mut m = Map::new();
        m.insert("name".into(), "Apa".into());
        let m = Value::Map(m);
        assert_eq!(index(&m, &"name".into()).ok(), Some("Apa".into()));
        assert_eq!(index(&m, &"Name".into()).ok(), Some(Value::Null));
        assert_eq!(index(&m, &Value::Null).ok(), Some(Value::Null));
        assert_eq!(
            code(index(&m, &0.into())),
            ErrorCode::MapElementAccessByNonString
        );
        assert_eq!(
            code(index(&m, &12.3.into())),
            ErrorCode::MapElementAccessByNonString
        );
    }

    #[test]
    fn property_access_on_maps() {
        let mut m = Map::new();
        m.insert("existing".into(), 42.into());
        m.insert("notMissing".into(), Value::Null);
        let m = Value::Map(m);
        assert_eq!(property(&m, "existing").ok(), Some(42.into()));
        assert_eq!(property(&m, "notMissing").ok(), Some(Value::Null));
        assert_eq!(property(&m, "missing").ok(), Some(Value::Null));
        assert_eq!(property(&m, "Existing").ok(), Some(Value::Null));
        assert_eq!(property(&Value::Null, "x").ok(), Some(Value::Null));
        for bad in [
            Value::from(123),
            42.45.into(),
            true.into(),
            "s".into(),
            ints(&[1]),
        ] {
            assert_eq!(code(property(&bad, "num")), ErrorCode::InvalidArgumentType);
        }
    }

    #[test]
    fn slicing_follows_the_tck() {
        let l5 = ints(&[1, 2, 3, 4, 5]);
        let l3 = ints(&[1, 2, 3]);
        let s =
            |l: &Value, a: Option<Value>, b: Option<Value>| slice(l, a.as_ref(), b.as_ref()).ok();
        assert_eq!(s(&l5, Some(1.into()), Some(3.into())), Some(ints(&[2, 3])));
        assert_eq!(s(&l3, Some(1.into()), None), Some(ints(&[2, 3])));
        assert_eq!(s(&l3, None, Some(2.into())), Some(ints(&[1, 2])));
        assert_eq!(s(&l3, Some(0.into()), Some(0.into())), Some(ints(&[])));
        assert_eq!(
            s(&l3, Some((-3).into()), Some((-1).into())),
            Some(ints(&[1, 2]))
        );
        assert_eq!(s(&l3, Some(3.into()), Some(1.into())), Some(ints(&[])));
        assert_eq!(s(&l3, Some((-5).into()), Some(5.into())), Some(l3.clone()));
        assert_eq!(s(&l3, Some(1.into()), Some(Value::Null)), Some(Value::Null));
        assert_eq!(s(&l3, None, Some(Value::Null)), Some(Value::Null));
        assert_eq!(s(&l3, Some(Value::Null), None), Some(Value::Null));
        assert_eq!(s(&Value::Null, Some(1.into()), None), Some(Value::Null));
        assert_eq!(
            code(slice(&l3, Some(&1.5.into()), None)),
            ErrorCode::InvalidArgumentType
        );
        assert_eq!(
            code(slice(&"abc".into(), None, None)),
            ErrorCode::InvalidArgumentType
        );
    }
}
