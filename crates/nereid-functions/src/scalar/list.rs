//! List functions (`size`, `head`, `last`, `tail`, `reverse`, `range`, `isEmpty`) and
//! Neptune's collection helpers (`collToSet`, `collSubtract`, `collIntersection`,
//! `collSort`, `collSortMaps`, `collSortMulti`; `collSortNodes` needs the graph and lives
//! in the engine, on [`sort_by_keys`]). `size` and `reverse` also take strings.

use std::collections::HashSet;

use nereid_common::{Error, ErrorCode};
use nereid_value::{GroupKey, Value};

use crate::args::{arg, list, short, type_error};

/// `size(list | string)`: elements, or characters (code points) of a string.
pub(crate) fn size(args: &[Value]) -> Result<Value, Error> {
    const F: &str = "size";
    Ok(match arg(F, args, 0)? {
        Value::Null => Value::Null,
        Value::List(l) => Value::Int(l.len() as i64),
        Value::String(s) => Value::Int(s.chars().count() as i64),
        other => return Err(type_error(F, "a List or a String", other)),
    })
}

/// `char_length(string)` / `character_length(string)`.
pub(crate) fn char_length(args: &[Value]) -> Result<Value, Error> {
    const F: &str = "char_length";
    Ok(match arg(F, args, 0)? {
        Value::Null => Value::Null,
        Value::String(s) => Value::Int(s.chars().count() as i64),
        other => return Err(type_error(F, "a String", other)),
    })
}

/// `isEmpty(list | string | map)`.
pub(crate) fn is_empty(args: &[Value]) -> Result<Value, Error> {
    const F: &str = "isEmpty";
    Ok(match arg(F, args, 0)? {
        Value::Null => Value::Null,
        Value::List(l) => Value::Bool(l.is_empty()),
        Value::String(s) => Value::Bool(s.is_empty()),
        Value::Map(m) => Value::Bool(m.is_empty()),
        other => return Err(type_error(F, "a List, a String or a Map", other)),
    })
}

pub(crate) fn head(args: &[Value]) -> Result<Value, Error> {
    Ok(list("head", arg("head", args, 0)?)?
        .and_then(|l| l.first().cloned())
        .unwrap_or(Value::Null))
}

pub(crate) fn last(args: &[Value]) -> Result<Value, Error> {
    Ok(list("last", arg("last", args, 0)?)?
        .and_then(|l| l.last().cloned())
        .unwrap_or(Value::Null))
}

/// `tail(list)`: all but the first element; `[]` for an empty list.
pub(crate) fn tail(args: &[Value]) -> Result<Value, Error> {
    Ok(
        list("tail", arg("tail", args, 0)?)?.map_or(Value::Null, |l| {
            Value::List(l.get(1..).unwrap_or_default().to_vec())
        }),
    )
}

/// `reverse(list | string)`.
pub(crate) fn reverse(args: &[Value]) -> Result<Value, Error> {
    const F: &str = "reverse";
    Ok(match arg(F, args, 0)? {
        Value::Null => Value::Null,
        Value::List(l) => Value::List(l.iter().rev().cloned().collect()),
        Value::String(s) => Value::String(s.chars().rev().collect()),
        other => return Err(type_error(F, "a List or a String", other)),
    })
}

/// The most elements `range()` builds as a list (about 600 MB of values). The engine can
/// stream larger ranges with [`range_iter`].
pub const MAX_RANGE_LIST: u64 = 10_000_000;

/// The integers of `range(start, end, step)`, produced lazily.
#[derive(Debug, Clone)]
pub struct RangeIter {
    next: i64,
    remaining: u64,
    step: i64,
}

impl Iterator for RangeIter {
    type Item = i64;
    fn next(&mut self) -> Option<i64> {
        if self.remaining == 0 {
            return None;
        }
        let v = self.next;
        self.remaining -= 1;
        // Past the last element the addition may overflow; it is then never read.
        self.next = self.next.wrapping_add(self.step);
        Some(v)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        (n, Some(n))
    }
}

impl ExactSizeIterator for RangeIter {}

/// `range(start, end, step)` as an iterator: `end` is inclusive; a step of 0 is
/// `NumberOutOfRange`; a step pointing away from `end` gives no element.
pub fn range_iter(start: i64, end: i64, step: i64) -> Result<RangeIter, Error> {
    if step == 0 {
        return Err(Error::new(
            ErrorCode::NumberOutOfRange,
            "range(): step must not be zero",
        ));
    }
    let span = i128::from(end) - i128::from(start);
    let count = if (span >= 0) == (step > 0) || span == 0 {
        span / i128::from(step) + 1
    } else {
        0
    };
    Ok(RangeIter {
        next: start,
        remaining: u64::try_from(count).unwrap_or(0),
        step,
    })
}

/// `range(start, end[, step])`: Integers only (a Float, even `0.0`, is a type error).
pub(crate) fn range(args: &[Value]) -> Result<Value, Error> {
    const F: &str = "range";
    let mut bounds = [0i64, 0, 1];
    let mut null = false;
    for (i, slot) in bounds.iter_mut().enumerate().take(args.len().min(3)) {
        match arg(F, args, i)? {
            Value::Int(v) => *slot = *v,
            Value::Null => null = true,
            other => return Err(type_error(F, "Integer arguments", other)),
        }
    }
    if null {
        return Ok(Value::Null);
    }
    let it = range_iter(bounds[0], bounds[1], bounds[2])?;
    if it.remaining > MAX_RANGE_LIST {
        return Err(Error::new(
            ErrorCode::MemoryLimitExceeded,
            format!(
                "range(): {} elements is more than the {MAX_RANGE_LIST} a list may hold",
                it.remaining
            ),
        ));
    }
    Ok(Value::List(it.map(Value::Int).collect()))
}

/// Elements of `items` without repeats (by equivalence), first occurrence kept.
fn dedup(items: &[Value]) -> Vec<Value> {
    let mut seen = HashSet::with_capacity(items.len());
    items
        .iter()
        .filter(|v| seen.insert(GroupKey(vec![(*v).clone()])))
        .cloned()
        .collect()
}

/// Neptune's `collToSet(list)`.
pub(crate) fn coll_to_set(args: &[Value]) -> Result<Value, Error> {
    Ok(list("collToSet", arg("collToSet", args, 0)?)?
        .map_or(Value::Null, |l| Value::List(dedup(l))))
}

/// Both list arguments, or `None` when either is null.
type ListPair<'a> = Option<(&'a [Value], &'a [Value])>;

fn two_lists<'a>(function: &str, args: &'a [Value]) -> Result<ListPair<'a>, Error> {
    let a = list(function, arg(function, args, 0)?)?;
    let b = list(function, arg(function, args, 1)?)?;
    Ok(a.zip(b))
}

fn key_set(items: &[Value]) -> HashSet<GroupKey> {
    items.iter().map(|v| GroupKey(vec![v.clone()])).collect()
}

/// Neptune's `collSubtract(a, b)`: the distinct elements of `a` that are not in `b`.
pub(crate) fn coll_subtract(args: &[Value]) -> Result<Value, Error> {
    Ok(match two_lists("collSubtract", args)? {
        None => Value::Null,
        Some((a, b)) => {
            let exclude = key_set(b);
            Value::List(
                dedup(a)
                    .into_iter()
                    .filter(|v| !exclude.contains(&GroupKey(vec![v.clone()])))
                    .collect(),
            )
        }
    })
}

/// Neptune's `collIntersection(a, b)`: the distinct elements of `a` that are also in `b`.
pub(crate) fn coll_intersection(args: &[Value]) -> Result<Value, Error> {
    Ok(match two_lists("collIntersection", args)? {
        None => Value::Null,
        Some((a, b)) => {
            let keep = key_set(b);
            Value::List(
                dedup(a)
                    .into_iter()
                    .filter(|v| keep.contains(&GroupKey(vec![v.clone()])))
                    .collect(),
            )
        }
    })
}

/// Neptune's `collSort(list[, {order: 'asc' | 'desc'}])`: sorted by Cypher orderability.
pub(crate) fn coll_sort(args: &[Value]) -> Result<Value, Error> {
    const F: &str = "collSort";
    let descending = match args.get(1) {
        None | Some(Value::Null) => false,
        Some(Value::Map(config)) => match config.get("order") {
            None | Some(Value::Null) => false,
            Some(Value::String(o)) if o.eq_ignore_ascii_case("asc") => false,
            Some(Value::String(o)) if o.eq_ignore_ascii_case("desc") => true,
            Some(other) => {
                return Err(Error::new(
                    ErrorCode::InvalidArgumentValue,
                    format!("{F}(): order must be 'asc' or 'desc', got {}", short(other)),
                ))
            }
        },
        Some(other) => return Err(type_error(F, "a configuration Map", other)),
    };
    Ok(list(F, arg(F, args, 0)?)?.map_or(Value::Null, |l| {
        let mut sorted = l.to_vec();
        sorted.sort_by(|a, b| a.order_cmp(b));
        if descending {
            sorted.reverse();
        }
        Value::List(sorted)
    }))
}

/// One sort criterion of `collSortMaps`/`collSortMulti`/`collSortNodes`: a key and whether
/// it sorts descending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub key: String,
    pub descending: bool,
}

fn order_of(f: &str, config: &nereid_value::Map) -> Result<bool, Error> {
    match config.get("order") {
        None | Some(Value::Null) => Ok(false),
        Some(Value::String(o)) if o.eq_ignore_ascii_case("asc") => Ok(false),
        Some(Value::String(o)) if o.eq_ignore_ascii_case("desc") => Ok(true),
        Some(other) => Err(Error::new(
            ErrorCode::InvalidArgumentValue,
            format!("{f}(): order must be 'asc' or 'desc', got {}", short(other)),
        )),
    }
}

/// Reads a `{key: 'name', order: 'asc' | 'desc'}` configuration (`key` required).
pub fn sort_key(f: &str, config: &Value) -> Result<SortKey, Error> {
    let Value::Map(m) = config else {
        return Err(type_error(f, "a configuration Map {key, order}", config));
    };
    let key = match m.get("key") {
        Some(Value::String(k)) => k.clone(),
        Some(other) => return Err(type_error(f, "a String key", other)),
        None => {
            return Err(Error::new(
                ErrorCode::InvalidArgumentValue,
                format!("{f}(): the configuration needs a 'key'"),
            ))
        }
    };
    Ok(SortKey {
        key,
        descending: order_of(f, m)?,
    })
}

/// Sorts `items` by the values `value_of(item, key)` gives for each criterion in turn
/// (Cypher orderability; a missing value sorts as null, after everything ascending).
pub fn sort_by_keys<T>(items: &mut [T], keys: &[SortKey], value_of: impl Fn(&T, &str) -> Value) {
    items.sort_by(|a, b| {
        for k in keys {
            let ord = value_of(a, &k.key).order_cmp(&value_of(b, &k.key));
            let ord = if k.descending { ord.reverse() } else { ord };
            if ord != std::cmp::Ordering::Equal {
                return ord;
            }
        }
        std::cmp::Ordering::Equal
    });
}

fn map_value(item: &Value, key: &str) -> Value {
    match item {
        Value::Map(m) => m.get(key).cloned().unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

fn maps<'a>(f: &str, v: &'a Value) -> Result<Option<&'a [Value]>, Error> {
    let Some(items) = list(f, v)? else {
        return Ok(None);
    };
    if let Some(bad) = items.iter().find(|i| !matches!(i, Value::Map(_))) {
        return Err(type_error(f, "a List of Maps", bad));
    }
    Ok(Some(items))
}

/// Neptune's `collSortMaps(maps, {key, order})`: the maps sorted by one key.
pub(crate) fn coll_sort_maps(args: &[Value]) -> Result<Value, Error> {
    const F: &str = "collSortMaps";
    let key = sort_key(F, arg(F, args, 1)?)?;
    Ok(maps(F, arg(F, args, 0)?)?.map_or(Value::Null, |items| {
        let mut sorted = items.to_vec();
        sort_by_keys(&mut sorted, std::slice::from_ref(&key), map_value);
        Value::List(sorted)
    }))
}

/// Neptune's `collSortMulti(maps, [{key, order}, …][, limit[, skip]])`: sorted by several
/// keys, then `skip` maps dropped and at most `limit` kept (`-1`: no limit).
pub(crate) fn coll_sort_multi(args: &[Value]) -> Result<Value, Error> {
    const F: &str = "collSortMulti";
    let configs = match args.get(1) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::List(l)) => l.iter().map(|c| sort_key(F, c)).collect::<Result<_, _>>()?,
        Some(other) => return Err(type_error(F, "a List of configuration Maps", other)),
    };
    let int = |i: usize, default: i64| match args.get(i) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Int(n)) => Ok(*n),
        Some(other) => Err(type_error(F, "an Integer", other)),
    };
    let (limit, skip) = (int(2, -1)?, int(3, 0)?);
    if skip < 0 {
        return Err(Error::new(
            ErrorCode::InvalidArgumentValue,
            format!("{F}(): skip must not be negative, got {skip}"),
        ));
    }
    Ok(maps(F, arg(F, args, 0)?)?.map_or(Value::Null, |items| {
        let mut sorted = items.to_vec();
        sort_by_keys(&mut sorted, &configs, map_value);
        let rest = sorted.into_iter().skip(skip as usize);
        Value::List(if limit < 0 {
            rest.collect()
        } else {
            rest.take(limit as usize).collect()
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nereid_value::Map;

    fn people() -> Value {
        let p = |name: &str, age: i64| {
            Value::Map(Map::from([
                ("name".to_owned(), Value::from(name)),
                ("age".to_owned(), Value::Int(age)),
            ]))
        };
        Value::List(vec![p("cy", 30), p("ann", 40), p("bob", 30)])
    }

    fn names(v: Value) -> Vec<String> {
        match v {
            Value::List(items) => items
                .iter()
                .map(|m| match map_value(m, "name") {
                    Value::String(s) => s,
                    other => panic!("{other}"),
                })
                .collect(),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn coll_sort_maps_and_multi() {
        let by = |key: &str, order: &str| {
            Value::Map(Map::from([
                ("key".to_owned(), Value::from(key)),
                ("order".to_owned(), Value::from(order)),
            ]))
        };
        let sorted = coll_sort_maps(&[people(), by("name", "desc")]).unwrap();
        assert_eq!(names(sorted), ["cy", "bob", "ann"]);
        let multi = coll_sort_multi(&[
            people(),
            Value::List(vec![by("age", "asc"), by("name", "asc")]),
        ])
        .unwrap();
        assert_eq!(names(multi), ["bob", "cy", "ann"]);
        let page = coll_sort_multi(&[
            people(),
            Value::List(vec![by("age", "desc")]),
            Value::Int(1),
            Value::Int(1),
        ])
        .unwrap();
        assert_eq!(names(page).len(), 1);
        assert_eq!(
            coll_sort_maps(&[Value::Null, by("x", "asc")]).unwrap(),
            Value::Null
        );
        assert_eq!(
            code(coll_sort_maps(&[ints(&[1]), by("x", "asc")])),
            ErrorCode::InvalidArgumentType
        );
        assert_eq!(
            code(coll_sort_maps(&[people(), by("x", "up")])),
            ErrorCode::InvalidArgumentValue
        );
    }

    fn ints(v: &[i64]) -> Value {
        Value::List(v.iter().map(|i| Value::Int(*i)).collect())
    }
    fn code(r: Result<Value, Error>) -> ErrorCode {
        match r {
            Err(e) => e.code,
            Ok(v) => panic!("expected an error, got {v}"),
        }
    }

    #[test]
    fn size_head_last_tail_reverse() {
        assert_eq!(size(&[ints(&[1, 2, 3])]).ok(), Some(3.into()));
        assert_eq!(size(&["héllo".into()]).ok(), Some(5.into()));
        assert_eq!(size(&[Value::Null]).ok(), Some(Value::Null));
        assert_eq!(code(size(&[1.into()])), ErrorCode::InvalidArgumentType);
        assert_eq!(head(&[ints(&[1, 2])]).ok(), Some(1.into()));
        assert_eq!(head(&[ints(&[])]).ok(), Some(Value::Null));
        assert_eq!(last(&[ints(&[1, 2])]).ok(), Some(2.into()));
        assert_eq!(last(&[Value::Null]).ok(), Some(Value::Null));
        assert_eq!(tail(&[ints(&[1, 2, 3])]).ok(), Some(ints(&[2, 3])));
        assert_eq!(tail(&[ints(&[])]).ok(), Some(ints(&[])));
        assert_eq!(code(tail(&["abc".into()])), ErrorCode::InvalidArgumentType);
        assert_eq!(reverse(&["raksO".into()]).ok(), Some("Oskar".into()));
        assert_eq!(reverse(&[ints(&[1, 2, 3])]).ok(), Some(ints(&[3, 2, 1])));
        assert_eq!(is_empty(&[ints(&[])]).ok(), Some(true.into()));
        assert_eq!(is_empty(&[Value::Map(Map::new())]).ok(), Some(true.into()));
        assert_eq!(is_empty(&["a".into()]).ok(), Some(false.into()));
    }

    #[test]
    fn range_follows_the_tck() {
        let r = |a: &[Value]| range(a).ok();
        assert_eq!(
            r(&[(-1236).into(), (-1234).into()]),
            Some(ints(&[-1236, -1235, -1234]))
        );
        assert_eq!(r(&[0.into(), (-123).into()]), Some(ints(&[])));
        assert_eq!(r(&[0.into(), 0.into()]), Some(ints(&[0])));
        assert_eq!(
            r(&[1381.into(), (-3412).into(), (-1298).into()]),
            Some(ints(&[1381, 83, -1215, -2513]))
        );
        assert_eq!(r(&[0.into(), 1.into(), (-1).into()]), Some(ints(&[])));
        assert_eq!(r(&[0.into(), 0.into(), (-1).into()]), Some(ints(&[0])));
        assert_eq!(r(&[0.into(), 1.into(), 2.into()]), Some(ints(&[0])));
        assert_eq!(
            r(&[(-10).into(), 10.into(), 3.into()]),
            Some(ints(&[-10, -7, -4, -1, 2, 5, 8]))
        );
        assert_eq!(
            r(&[(-3412).into(), 1381.into(), 1298.into()]),
            Some(ints(&[-3412, -2114, -816, 482]))
        );
        for (start, end) in [(0, 0), (2, 8), (-2, 8), (2, -8)] {
            assert_eq!(
                code(range(&[start.into(), end.into(), 0.into()])),
                ErrorCode::NumberOutOfRange
            );
        }
        for bad in [
            true.into(),
            (-0.0).into(),
            1.1.into(),
            "xyz".into(),
            ints(&[0]),
        ] {
            assert_eq!(
                code(range(&[bad.clone(), 1.into(), 1.into()])),
                ErrorCode::InvalidArgumentType
            );
            assert_eq!(
                code(range(&[0.into(), 1.into(), bad])),
                ErrorCode::InvalidArgumentType
            );
        }
        assert_eq!(
            code(range(&[0.into(), i64::MAX.into()])),
            ErrorCode::MemoryLimitExceeded
        );
        assert_eq!(r(&[Value::Null, 1.into()]), Some(Value::Null));
    }

    #[test]
    fn range_iter_reaches_the_extremes_without_overflow() {
        let v: Vec<i64> = range_iter(i64::MAX - 2, i64::MAX, 1)
            .map(Iterator::collect)
            .unwrap_or_default();
        assert_eq!(v, vec![i64::MAX - 2, i64::MAX - 1, i64::MAX]);
        let v: Vec<i64> = range_iter(i64::MIN + 1, i64::MIN, -1)
            .map(Iterator::collect)
            .unwrap_or_default();
        assert_eq!(v, vec![i64::MIN + 1, i64::MIN]);
        assert_eq!(
            range_iter(i64::MIN, i64::MAX, i64::MAX)
                .map(|r| r.count())
                .ok(),
            Some(3)
        );
        assert_eq!(
            range_iter(0, 1_000_000, 1).map(|r| r.len()).ok(),
            Some(1_000_001)
        );
    }

    #[test]
    fn neptune_collection_helpers() {
        let l = Value::List(vec![
            1.into(),
            1.0.into(),
            2.into(),
            Value::Null,
            Value::Null,
        ]);
        assert_eq!(
            coll_to_set(&[l]).ok(),
            Some(Value::List(vec![1.into(), 2.into(), Value::Null]))
        );
        assert_eq!(
            coll_subtract(&[ints(&[3, 1, 2, 3]), ints(&[2])]).ok(),
            Some(ints(&[3, 1]))
        );
        assert_eq!(
            coll_intersection(&[ints(&[3, 1, 2, 3]), ints(&[3, 2, 9])]).ok(),
            Some(ints(&[3, 2]))
        );
        assert_eq!(coll_sort(&[ints(&[3, 1, 2])]).ok(), Some(ints(&[1, 2, 3])));
        let mut desc = Map::new();
        desc.insert("order".into(), "DESC".into());
        assert_eq!(
            coll_sort(&[ints(&[3, 1, 2]), Value::Map(desc)]).ok(),
            Some(ints(&[3, 2, 1]))
        );
        assert_eq!(
            coll_subtract(&[Value::Null, ints(&[])]).ok(),
            Some(Value::Null)
        );
    }
}
