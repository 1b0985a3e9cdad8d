//! Compact stored property values.
//!
//! The engine's [`Value`] is large (it can hold maps, paths, …); a stored property is only a
//! boolean, integer, float, string, temporal value (boxed) or a list of those, so the store
//! keeps a 24-byte [`PVal`] and converts at the trait boundary. A temporal value is encoded
//! as its kind and its ISO 8601 text, which parses back to the identical value.

use std::ops::Deref;
use std::sync::Arc;

use nereid_common::{Error, ErrorCode};
use nereid_temporal::{parse::parse, Kind, Temporal};
use nereid_value::Value;

use crate::codec::{DecodeError, DecodeResult, Decoder, Encoder};

/// The deepest list nesting a property value may have.
const MAX_LIST_DEPTH: u32 = 32;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PVal {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Box<str>),
    List(Box<[PVal]>),
    Temporal(Box<Temporal>),
}

impl PVal {
    /// Converts an engine value for storage. `Ok(None)` for null (which removes a property).
    pub fn from_value(v: Value) -> Result<Option<PVal>, Error> {
        Self::from_value_at(v, 0)
    }

    fn from_value_at(v: Value, depth: u32) -> Result<Option<PVal>, Error> {
        Ok(Some(match v {
            Value::Null => return Ok(None),
            Value::Bool(b) => PVal::Bool(b),
            Value::Int(i) => PVal::Int(i),
            Value::Float(f) => PVal::Float(f),
            Value::String(s) => PVal::Str(s.into_boxed_str()),
            Value::Temporal(t) => PVal::Temporal(t),
            Value::List(items) => {
                if depth >= MAX_LIST_DEPTH {
                    // The log reader bounds nesting too; refusing here keeps every stored
                    // value readable at recovery.
                    return Err(Error::new(
                        ErrorCode::InvalidPropertyType,
                        format!(
                            "Lists nested more than {MAX_LIST_DEPTH} deep can not be stored in \
                             properties."
                        ),
                    ));
                }
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match PVal::from_value_at(item, depth + 1)? {
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
            PVal::Temporal(t) => Value::Temporal(t.clone()),
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
            PVal::Temporal(t) => {
                e.u8(6);
                e.u8(t.kind().code());
                e.str(&t.to_string());
            }
        }
    }

    pub fn decode(d: &mut Decoder<'_>) -> DecodeResult<PVal> {
        Self::decode_depth(d, 0)
    }

    fn decode_depth(d: &mut Decoder<'_>, depth: u32) -> DecodeResult<PVal> {
        if depth > MAX_LIST_DEPTH {
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
            6 => {
                let kind = Kind::from_code(d.u8()?).ok_or(DecodeError("unknown temporal kind"))?;
                let t = parse(kind, d.str()?).map_err(|_| DecodeError("invalid temporal value"))?;
                PVal::Temporal(Box::new(t))
            }
            _ => return Err(DecodeError("unknown value tag")),
        })
    }
}

/// An immutable shared slice; an empty one allocates nothing. Cloning is a reference-count
/// increment, so copying a chunk of records on write (see `chunked`) stays cheap; changing
/// the slice builds a new one (lists of labels and properties are short and change far less
/// often than they are read).
#[derive(Debug, PartialEq)]
pub(crate) struct ArcSlice<T>(Option<Arc<[T]>>);

impl<T> Clone for ArcSlice<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Default for ArcSlice<T> {
    fn default() -> Self {
        Self(None)
    }
}

impl<T> Deref for ArcSlice<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.0.as_deref().unwrap_or(&[])
    }
}

impl<T> ArcSlice<T> {
    /// Moves the elements of `v` into a new slice (one allocation, none when `v` is
    /// empty), leaving `v` empty with its capacity for the next one.
    pub(crate) fn take_from(v: &mut Vec<T>) -> Self {
        if v.is_empty() {
            Self(None)
        } else {
            Self(Some(v.drain(..).collect()))
        }
    }
}

impl<T> From<Vec<T>> for ArcSlice<T> {
    fn from(v: Vec<T>) -> Self {
        if v.is_empty() {
            Self(None)
        } else {
            Self(Some(Arc::from(v)))
        }
    }
}

/// A property list: sorted by key, no duplicates.
pub(crate) type Props = ArcSlice<(u32, PVal)>;

/// Builds a property list from engine values; later duplicates win, nulls are dropped.
pub(crate) fn props_from_values(props: Vec<(u32, Value)>) -> Result<Props, Error> {
    let mut out: Vec<(u32, PVal)> = Vec::with_capacity(props.len());
    for (k, v) in props {
        put_prop(&mut out, k, v)?;
    }
    Ok(out.into())
}

/// Adds `k: v` to the sorted list `out` as the latest entry (what [`props_from_values`]
/// does per value): it replaces an earlier value of `k`, and a null removes it.
pub(crate) fn put_prop(out: &mut Vec<(u32, PVal)>, k: u32, v: Value) -> Result<(), Error> {
    let pv = PVal::from_value(v)?;
    // Keys usually come in order (a file's columns are interned in order): appended.
    if out.last().is_none_or(|last| last.0 < k) {
        if let Some(p) = pv {
            out.push((k, p));
        }
        return Ok(());
    }
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
    Ok(())
}

pub(crate) fn prop_get(props: &[(u32, PVal)], key: u32) -> Option<&PVal> {
    props
        .binary_search_by_key(&key, |e| e.0)
        .ok()
        .map(|i| &props[i].1)
}

/// Sets (`Some`) or removes (`None`) one property; returns the new list.
pub(crate) fn prop_set(props: &mut Props, key: u32, value: Option<PVal>) {
    let mut v = props.to_vec();
    match (v.binary_search_by_key(&key, |e| e.0), value) {
        (Ok(i), Some(p)) => v[i].1 = p,
        (Ok(i), None) => {
            v.remove(i);
        }
        (Err(i), Some(p)) => v.insert(i, (key, p)),
        (Err(_), None) => {}
    }
    *props = v.into();
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
    Ok(out.into())
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
            temporal(
                Kind::DateTime,
                "1818-07-21T21:40:32.142+00:53:28[Europe/Stockholm]",
            ),
            temporal(Kind::Date, "-999999999-01-01"),
            temporal(Kind::Time, "12:34:56.000000001-02:05:07"),
            temporal(Kind::Duration, "P-6M-15DT-17H-45M-3.500000002S"),
            PVal::List(
                vec![
                    temporal(Kind::LocalTime, "13:00"),
                    temporal(Kind::LocalDateTime, "2015-07-21T21:40"),
                ]
                .into(),
            ),
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

    fn temporal(kind: Kind, text: &str) -> PVal {
        PVal::Temporal(Box::new(parse(kind, text).unwrap()))
    }

    #[test]
    fn temporal_values_survive_storage() {
        let t = parse(Kind::DateTime, "2017-10-29T02:30+01:00[Europe/Stockholm]").unwrap();
        let stored = PVal::from_value(Value::from(t.clone())).unwrap().unwrap();
        let mut e = Encoder::default();
        stored.encode(&mut e);
        let back = PVal::decode(&mut Decoder::new(&e.buf)).unwrap();
        assert_eq!(back.to_value(), Value::from(t));
        let mut bad = Encoder::default();
        bad.u8(6);
        bad.u8(0);
        bad.str("2015-13-45");
        assert!(PVal::decode(&mut Decoder::new(&bad.buf)).is_err());
    }

    #[test]
    fn lists_nested_beyond_the_limit_are_refused_not_stored_unreadably() {
        let mut v = Value::Int(1);
        for _ in 0..MAX_LIST_DEPTH {
            v = Value::List(vec![v]);
        }
        let ok = PVal::from_value(v.clone()).unwrap().unwrap();
        let mut e = Encoder::default();
        ok.encode(&mut e);
        assert_eq!(PVal::decode(&mut Decoder::new(&e.buf)).unwrap(), ok);
        let err = PVal::from_value(Value::List(vec![v])).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidPropertyType);
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
