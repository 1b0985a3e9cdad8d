//! Boolean, comparison, string-predicate, `IN` and quantifier (`all`, `any`, `none`,
//! `single`) operators: all three-valued.

use std::cmp::Ordering;

use nereid_common::Error;
use nereid_value::Value;

use crate::args::short;

/// A boolean operand: `Some(b)`, `None` for null, a type error otherwise.
fn truth(op: &str, v: &Value) -> Result<Option<bool>, Error> {
    match v {
        Value::Bool(b) => Ok(Some(*b)),
        Value::Null => Ok(None),
        other => Err(Error::type_error(format!(
            "`{op}` expects Boolean operands, got {} ({})",
            other.type_name(),
            short(other)
        ))),
    }
}

/// `a AND b` (Kleene).
pub fn and(a: &Value, b: &Value) -> Result<Value, Error> {
    let (x, y) = (truth("AND", a)?, truth("AND", b)?);
    Ok(match (x, y) {
        (Some(false), _) | (_, Some(false)) => Value::Bool(false),
        (Some(true), Some(true)) => Value::Bool(true),
        _ => Value::Null,
    })
}

/// `a OR b` (Kleene).
pub fn or(a: &Value, b: &Value) -> Result<Value, Error> {
    let (x, y) = (truth("OR", a)?, truth("OR", b)?);
    Ok(match (x, y) {
        (Some(true), _) | (_, Some(true)) => Value::Bool(true),
        (Some(false), Some(false)) => Value::Bool(false),
        _ => Value::Null,
    })
}

/// `a XOR b`: null if either is null.
pub fn xor(a: &Value, b: &Value) -> Result<Value, Error> {
    let (x, y) = (truth("XOR", a)?, truth("XOR", b)?);
    Ok(match (x, y) {
        (Some(x), Some(y)) => Value::Bool(x != y),
        _ => Value::Null,
    })
}

/// `NOT a`.
pub fn not(a: &Value) -> Result<Value, Error> {
    Ok(truth("NOT", a)?.map_or(Value::Null, |b| Value::Bool(!b)))
}

/// `a = b`.
pub fn eq(a: &Value, b: &Value) -> Value {
    Value::from(a.cypher_eq(b))
}

/// `a <> b`.
pub fn neq(a: &Value, b: &Value) -> Value {
    Value::from(a.cypher_eq(b).map(|e| !e))
}

fn compare(a: &Value, b: &Value, f: fn(Ordering) -> bool) -> Value {
    Value::from(a.cypher_cmp(b).map(f))
}

/// `a < b`: null when the two are not comparable (different types, null, NaN).
pub fn lt(a: &Value, b: &Value) -> Value {
    compare(a, b, Ordering::is_lt)
}

/// `a <= b`.
pub fn le(a: &Value, b: &Value) -> Value {
    compare(a, b, Ordering::is_le)
}

/// `a > b`.
pub fn gt(a: &Value, b: &Value) -> Value {
    compare(a, b, Ordering::is_gt)
}

/// `a >= b`.
pub fn ge(a: &Value, b: &Value) -> Value {
    compare(a, b, Ordering::is_ge)
}

fn string_predicate(a: &Value, b: &Value, f: impl FnOnce(&str, &str) -> bool) -> Value {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Value::Bool(f(x, y)),
        _ => Value::Null,
    }
}

/// `a STARTS WITH b`.
pub fn starts_with(a: &Value, b: &Value) -> Value {
    string_predicate(a, b, |x, y| x.starts_with(y))
}

/// `a ENDS WITH b`.
pub fn ends_with(a: &Value, b: &Value) -> Value {
    string_predicate(a, b, |x, y| x.ends_with(y))
}

/// `a CONTAINS b`.
pub fn contains(a: &Value, b: &Value) -> Value {
    string_predicate(a, b, |x, y| x.contains(y))
}

/// `x IN list`: true if some element equals `x`; otherwise null if some comparison was
/// null (or `x` is null and the list is not empty); otherwise false.
pub fn in_list(x: &Value, list: &Value) -> Result<Value, Error> {
    let items = match list {
        Value::Null => return Ok(Value::Null),
        Value::List(items) => items,
        other => {
            return Err(Error::type_error(format!(
                "`IN` expects a List on the right, got {} ({})",
                other.type_name(),
                short(other)
            )))
        }
    };
    let mut unknown = false;
    for item in items {
        match x.cypher_eq(item) {
            Some(true) => return Ok(Value::Bool(true)),
            Some(false) => {}
            None => unknown = true,
        }
    }
    Ok(if unknown {
        Value::Null
    } else {
        Value::Bool(false)
    })
}

/// The list quantifiers `all`, `any`, `none` and `single`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    All,
    Any,
    None,
    Single,
}

/// Combines the predicate results of a quantifier over a list, three-valued: a null
/// result makes the answer null unless the non-null results already decide it. The
/// results are pulled lazily and the first deciding one stops the iteration (`all` at the
/// first false, `any` and `none` at the first true, `single` at the second true), so the
/// engine can pass an iterator that evaluates the predicate per element. A result that is
/// neither Boolean nor null is a type error.
pub fn quantify<I>(quantifier: Quantifier, results: I) -> Result<Value, Error>
where
    I: IntoIterator<Item = Result<Value, Error>>,
{
    let mut trues = 0usize;
    let mut unknown = false;
    for r in results {
        match truth("WHERE", &r?)? {
            Some(true) => {
                trues += 1;
                match quantifier {
                    Quantifier::Any => return Ok(Value::Bool(true)),
                    Quantifier::None => return Ok(Value::Bool(false)),
                    Quantifier::Single if trues > 1 => return Ok(Value::Bool(false)),
                    _ => {}
                }
            }
            Some(false) => {
                if quantifier == Quantifier::All {
                    return Ok(Value::Bool(false));
                }
            }
            None => unknown = true,
        }
    }
    Ok(if unknown {
        Value::Null
    } else {
        Value::Bool(match quantifier {
            Quantifier::All | Quantifier::None => true,
            Quantifier::Any => false,
            Quantifier::Single => trues == 1,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::{code, ints, list};
    use nereid_common::ErrorCode;

    #[test]
    fn boolean_operators_are_three_valued() {
        let (t, f, n) = (Value::Bool(true), Value::Bool(false), Value::Null);
        assert_eq!(and(&f, &n).ok(), Some(f.clone()));
        assert_eq!(and(&t, &n).ok(), Some(n.clone()));
        assert_eq!(and(&t, &t).ok(), Some(t.clone()));
        assert_eq!(or(&t, &n).ok(), Some(t.clone()));
        assert_eq!(or(&f, &n).ok(), Some(n.clone()));
        assert_eq!(or(&f, &f).ok(), Some(f.clone()));
        assert_eq!(xor(&t, &n).ok(), Some(n.clone()));
        assert_eq!(xor(&t, &f).ok(), Some(t.clone()));
        assert_eq!(not(&n).ok(), Some(n.clone()));
        assert_eq!(not(&f).ok(), Some(t.clone()));
        assert_eq!(code(and(&f, &1.into())), ErrorCode::InvalidArgumentType);
        assert_eq!(code(not(&"true".into())), ErrorCode::InvalidArgumentType);
    }

    #[test]
    fn comparisons_turn_unknown_into_null() {
        assert_eq!(eq(&1.into(), &1.0.into()), Value::Bool(true));
        assert_eq!(neq(&1.into(), &"1".into()), Value::Bool(true));
        assert_eq!(eq(&Value::Null, &Value::Null), Value::Null);
        assert_eq!(neq(&Value::Null, &1.into()), Value::Null);
        assert_eq!(lt(&1.into(), &1.5.into()), Value::Bool(true));
        assert_eq!(le(&"a".into(), &"a".into()), Value::Bool(true));
        assert_eq!(gt(&1.into(), &"a".into()), Value::Null);
        assert_eq!(ge(&ints(&[1, 2]), &ints(&[1])), Value::Bool(true));
    }

    #[test]
    fn string_predicates_are_null_for_non_strings() {
        assert_eq!(
            starts_with(&"ABCDEF".into(), &"ABC".into()),
            Value::Bool(true)
        );
        assert_eq!(
            ends_with(&"ABCDEF".into(), &"ABC".into()),
            Value::Bool(false)
        );
        assert_eq!(contains(&"ABCDEF".into(), &"".into()), Value::Bool(true));
        assert_eq!(contains(&"a".into(), &Value::Null), Value::Null);
        assert_eq!(starts_with(&1.into(), &1.into()), Value::Null);
        assert_eq!(ends_with(&ints(&[]), &"".into()), Value::Null);
    }

    #[test]
    fn quantifiers_follow_the_tck() {
        use Quantifier as Q;
        let q = |quantifier, xs: &[Option<bool>]| {
            quantify(quantifier, xs.iter().map(|x| Ok(Value::from(*x)))).ok()
        };
        let (t, f, n) = (Some(true), Some(false), Option::<bool>::None);
        let (yes, no, null) = (
            Some(Value::Bool(true)),
            Some(Value::Bool(false)),
            Some(Value::Null),
        );
        for quantifier in [Q::All, Q::Any, Q::None, Q::Single] {
            let want = if matches!(quantifier, Q::All | Q::None) {
                &yes
            } else {
                &no
            };
            assert_eq!(&q(quantifier, &[]), want, "{quantifier:?} of []");
        }
        assert_eq!(q(Q::Single, &[t]), yes);
        assert_eq!(q(Q::Single, &[t, f]), yes);
        assert_eq!(q(Q::Single, &[f, n]), null);
        assert_eq!(q(Q::Single, &[t, n]), null);
        assert_eq!(q(Q::Single, &[f, t, n, t, f]), no);
        assert_eq!(q(Q::All, &[t, n]), null);
        assert_eq!(q(Q::All, &[n, f]), no);
        assert_eq!(q(Q::Any, &[f, n]), null);
        assert_eq!(q(Q::Any, &[n, t]), yes);
        assert_eq!(q(Q::None, &[f, n]), null);
        assert_eq!(q(Q::None, &[n, t]), no);
        let bad = quantify(Q::All, [Ok(Value::Int(1))]);
        assert_eq!(
            bad.err().map(|e| e.code),
            Some(ErrorCode::InvalidArgumentType)
        );
        // Stops at the deciding element: the error after it is never evaluated.
        let results = [Ok(Value::Bool(false)), Err(Error::internal("not reached"))];
        assert_eq!(quantify(Q::All, results).ok(), no);
    }

    #[test]
    fn in_follows_the_tck() {
        let null = Value::Null;
        let cases: Vec<(Value, Value, Value)> = vec![
            (
                3.into(),
                list(vec![1.into(), null.clone(), 3.into()]),
                true.into(),
            ),
            (
                4.into(),
                list(vec![1.into(), null.clone(), 3.into()]),
                null.clone(),
            ),
            (null.clone(), list(vec![]), false.into()),
            (null.clone(), ints(&[1, 2, 3]), null.clone()),
            (1.into(), list(vec!["1".into(), 2.into()]), false.into()),
            (
                ints(&[1]),
                list(vec![list(vec![1.into(), null.clone()])]),
                false.into(),
            ),
            (
                ints(&[1, 2]),
                list(vec![list(vec![null.clone(), "foo".into()])]),
                false.into(),
            ),
            (
                ints(&[1, 2]),
                list(vec![list(vec![null.clone(), 2.into()])]),
                null.clone(),
            ),
            (
                ints(&[]),
                list(vec![1.into(), 2.into(), null.clone()]),
                null.clone(),
            ),
            (ints(&[]), list(vec![]), false.into()),
            (ints(&[]), list(vec![ints(&[])]), true.into()),
            (
                ints(&[1, 2]),
                list(vec![1.into(), ints(&[2, 1])]),
                false.into(),
            ),
        ];
        for (x, l, want) in cases {
            assert_eq!(in_list(&x, &l).ok(), Some(want.clone()), "{x} IN {l}");
        }
        assert_eq!(in_list(&1.into(), &null).ok(), Some(Value::Null));
        assert_eq!(
            code(in_list(&1.into(), &"foo".into())),
            ErrorCode::InvalidArgumentType
        );
    }
}
