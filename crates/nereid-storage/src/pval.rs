//! Compact stored property values.
//!
//! The engine's [`Value`] is large (it can hold maps, paths, …); a stored property is only a
//! boolean, integer, float, string or a list of those, so the store keeps a 24-byte
//! [`PVal`] and converts at the trait boundary.

use nereid_common::{Error, ErrorCode, Value};

use crate::codec::{DecodeError, DecodeResult, Decoder, Encoder};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PVal {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Box<str>),
    List(Box<[PVal]>),
}

impl PVal {
    /// Converts an engine value for storage. `Ok(None)` for null (which removes a property).
    pub fn from_value(v: Value) -> Result<Option<PVal>, Error> {
        Ok(Some(match v {
            Value::Null => return Ok(None),
            Value::Bool(b) => PVal::Bool(b),
            Value::Int(i) => PVal::Int(i),
            Value::Float(f) => PVal::Float(f),
            Value::String(s) => PVal::Str(s.into_boxed_str()),
            Value::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match PVal::from_value(item)? {
                        Some(p) => out.push(p),
                        None => return Err(Error::new(
                            ErrorCode::InvalidPropertyType,
                            "Collections containing null values can not be stored in properties.",
                        )),
                    }
                }
                PVal::List(out.into_boxed_slice())
            }
            other => {
                return Err(Error::new(
                    ErrorCode::InvalidPropertyType,
                    format!(
                        "Property values can only be of primitive types or arrays thereof, not {}",
                        other.type_name()
                    ),
                ))
            }
        }))
    }

    pub fn to_value(&self) -> Value {
        match self {
            PVal::Bool(b) => Value::Bool(*b),
            PVal::Int(i) => Value::Int(*i),
            PVal::Float(f) => Value::Float(*f),
            PVal::Str(s) => Value::String(s.to_string()),
            PVal::List(items) => Value::List(items.iter().map(PVal::to_value).collect()),
        }
    }

    pub fn encode(&self, e: &mut Encoder) {
        match self {
            PVal::Bool(false) => e.u8(0),
            PVal::Bool(true) => e.u8(1),
            PVal::Int(i) => {
                e.u8(2);
                e.ivar(*i);
            }
            PVal::Float(f) => {
                e.u8(3);
                e.u64_le(f.to_bits());
            }
            PVal::Str(s) => {
                e.u8(4);
                e.str(s);
            }
            PVal::List(items) => {
                e.u8(5);
                e.var(items.len() as u64);
                for i in items.iter() {
                    i.encode(e);
                }
            }
        }
    }

    pub fn decode(d: &mut Decoder<'_>) -> DecodeResult<PVal> {
        Self::decode_depth(d, 0)
    }

    fn decode_depth(d: &mut Decoder<'_>, depth: u32) -> DecodeResult<PVal> {
        if depth > 64 {
            return Err(DecodeError("list nesting too deep"));
        }
        Ok(match d.u8()? {
            0 => PVal::Bool(false),
            1 => PVal::Bool(true),
            2 => PVal::Int(d.ivar()?),
            3 => PVal::Float(f64::from_bits(d.u64_le()?)),
            4 => PVal::Str(d.str()?.into()),
            5 => {
                let n = d.len()?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(Self::decode_depth(d, depth + 1)?);
                }
                PVal::List(items.into_boxed_slice())
            }
            _ => return Err(DecodeError("unknown value tag")),
        })
    }
}

/// A property list: sorted by key, no duplicates. Kept as a boxed slice (no spare capacity)
/// because properties change far less often than they are read.
pub(crate) type Props = Box<[(u32, PVal)]>;

/// Builds a property list from engine values; later duplicates win, nulls are dropped.
pub(crate) fn props_from_values(props: Vec<(u32, Value)>) -> Result<Props, Error> {
    let mut out: Vec<(u32, PVal)> = Vec::with_capacity(props.len());
    for (k, v) in props {
        let pv = PVal::from_value(v)?;
        match out.binary_search_by_key(&k, |e| e.0) {
            Ok(i) => match pv {
                Some(p) => out[i].1 = p,
                None => {
                    out.remove(i);
                }
            },
            Err(i) => {
                if let Some(p) = pv {
                    out.insert(i, (k, p));
                }
            }
        }
    }
    Ok(out.into_boxed_slice())
}

pub(crate) fn prop_get(props: &Props, key: u32) -> Option<&PVal> {
    props
        .binary_search_by_key(&key, |e| e.0)
        .ok()
        .map(|i| &props[i].1)
}

/// Sets (`Some`) or removes (`None`) one property; returns the new list.
pub(crate) fn prop_set(props: &mut Props, key: u32, value: Option<PVal>) {
    let mut v = std::mem::take(props).into_vec();
    match (v.binary_search_by_key(&key, |e| e.0), value) {
        (Ok(i), Some(p)) => v[i].1 = p,
        (Ok(i), None) => {
            v.remove(i);
        }
        (Err(i), Some(p)) => v.insert(i, (key, p)),
        (Err(_), None) => {}
    }
    *props = v.into_boxed_slice();
}

pub(crate) fn encode_props(props: &[(u32, PVal)], e: &mut Encoder) {
    e.var(props.len() as u64);
    for (k, v) in props {
        e.var(u64::from(*k));
        v.encode(e);
    }
}

pub(crate) fn decode_props(d: &mut Decoder<'_>) -> DecodeResult<Props> {
    let n = d.len()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let k = d.var32()?;
        let v = PVal::decode(d)?;
        out.push((k, v));
    }
    out.sort_by_key(|e| e.0);
    out.dedup_by_key(|e| e.0);
    Ok(out.into_boxed_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_the_codec() {
        let vals = [
            PVal::Bool(true),
            PVal::Int(-5),
            PVal::Float(1.5),
            PVal::Str("x".into()),
            PVal::List(vec![PVal::Int(1), PVal::List(vec![PVal::Str("y".into())].into())].into()),
        ];
        let mut e = Encoder::default();
        for v in &vals {
            v.encode(&mut e);
        }
        let mut d = Decoder::new(&e.buf);
        for v in &vals {
            assert_eq!(&PVal::decode(&mut d).unwrap(), v);
        }
    }

    #[test]
    fn maps_and_lists_with_null_are_not_storable() {
        assert_eq!(
            PVal::from_value(Value::Map(Default::default()))
                .unwrap_err()
                .code,
            ErrorCode::InvalidPropertyType
        );
        assert!(PVal::from_value(Value::List(vec![Value::Null])).is_err());
        assert_eq!(PVal::from_value(Value::Null).unwrap(), None);
    }

    #[test]
    fn later_duplicate_keys_win_and_nulls_drop() {
        let p = props_from_values(vec![
            (2, Value::Int(1)),
            (1, Value::Int(2)),
            (2, Value::Int(3)),
            (3, Value::Null),
        ])
        .unwrap();
        assert_eq!(&*p, &[(1, PVal::Int(2)), (2, PVal::Int(3))]);
    }
}
