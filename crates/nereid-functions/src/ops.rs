//! Cypher's operators over values, shared by the engine's evaluator and the functions so
//! that both agree on arithmetic, string, list and three-valued boolean semantics.
//!
//! * Arithmetic (`+ - * / % ^`, unary `-`): null in → null out. Integer arithmetic is
//!   checked (`ArithmeticOverflow`); integer `/` and `%` by zero raise `DivisionByZero`;
//!   float arithmetic is IEEE (`1.0 / 0` is `Infinity`, `0.0 / 0` is `NaN`). An Integer
//!   meeting a Float is widened to Float. `^` always yields a Float.
//! * `+` also concatenates strings (a number or boolean added to a String prints as
//!   `toString` would) and lists (list + list concatenates, list + x appends, x + list
//!   prepends; this takes precedence, so `'a' + [1]` is `['a', 1]`).
//! * `AND`, `OR`, `XOR`, `NOT`: Kleene logic on Boolean and null; any other type is a type
//!   error, even when the other operand alone would decide the answer.
//! * `STARTS WITH`, `ENDS WITH`, `CONTAINS`: null unless both operands are strings.
//! * `IN`: three-valued membership using `=`.
//! * `=~`: whole-string regular-expression match, see [`regex_match`].
//! * Subscripts: [`index`] (`list[i]`, `map[key]`) and [`slice`] (`list[a..b]`).
//!
//! * Comparisons (`=`, `<>`, `<`, `<=`, `>`, `>=`): thin wrappers over `Value::cypher_eq`
//!   and `Value::cypher_cmp` from nereid-common that turn "unknown" into null.

use std::cell::RefCell;
use std::cmp::Ordering;

use nereid_common::{Error, ErrorCode, Value};

use crate::args::short;
use crate::format::float_to_string;

fn operand_error(op: &str, a: &Value, b: &Value) -> Error {
    Error::type_error(format!(
        "cannot apply `{op}` to {} ({}) and {} ({})",
        a.type_name(),
        short(a),
        b.type_name(),
        short(b)
    ))
}

fn overflow(op: &str, a: i64, b: i64) -> Error {
    Error::new(
        ErrorCode::ArithmeticOverflow,
        format!("integer overflow: {a} {op} {b} does not fit in 64 bits"),
    )
}

/// The text a value contributes to a string concatenation: numbers and booleans print as
/// `toString` would; maps and graph elements do not concatenate.
fn concat_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(float_to_string(*f)),
        _ => None,
    }
}

/// `a + b`.
pub fn add(a: &Value, b: &Value) -> Result<Value, Error> {
    use Value::*;
    match (a, b) {
        (Null, _) | (_, Null) => Ok(Null),
        (Int(x), Int(y)) => x
            .checked_add(*y)
            .map(Int)
            .ok_or_else(|| overflow("+", *x, *y)),
        (Int(x), Float(y)) => Ok(Float(*x as f64 + y)),
        (Float(x), Int(y)) => Ok(Float(x + *y as f64)),
        (Float(x), Float(y)) => Ok(Float(x + y)),
        (List(x), List(y)) => {
            let mut out = Vec::with_capacity(x.len() + y.len());
            out.extend_from_slice(x);
            out.extend_from_slice(y);
            Ok(List(out))
        }
        (List(x), y) => {
            let mut out = Vec::with_capacity(x.len() + 1);
            out.extend_from_slice(x);
            out.push(y.clone());
            Ok(List(out))
        }
        (x, List(y)) => {
            let mut out = Vec::with_capacity(y.len() + 1);
            out.push(x.clone());
            out.extend_from_slice(y);
            Ok(List(out))
        }
        (String(_), _) | (_, String(_)) => match (concat_text(a), concat_text(b)) {
            (Some(x), Some(y)) => Ok(String(x + &y)),
            _ => Err(operand_error("+", a, b)),
        },
        _ => Err(operand_error("+", a, b)),
    }
}

/// Applies a numeric binary operator: checked integer op, float op, Integer widened to Float
/// when the other side is a Float.
fn numeric(
    op: &str,
    a: &Value,
    b: &Value,
    int: impl FnOnce(i64, i64) -> Result<i64, Error>,
    float: impl FnOnce(f64, f64) -> f64,
) -> Result<Value, Error> {
    use Value::*;
    match (a, b) {
        (Null, _) | (_, Null) => Ok(Null),
        (Int(x), Int(y)) => int(*x, *y).map(Int),
        (Int(x), Float(y)) => Ok(Float(float(*x as f64, *y))),
        (Float(x), Int(y)) => Ok(Float(float(*x, *y as f64))),
        (Float(x), Float(y)) => Ok(Float(float(*x, *y))),
        _ => Err(operand_error(op, a, b)),
    }
}

/// `a - b`.
pub fn sub(a: &Value, b: &Value) -> Result<Value, Error> {
    numeric(
        "-",
        a,
        b,
        |x, y| x.checked_sub(y).ok_or_else(|| overflow("-", x, y)),
        |x, y| x - y,
    )
}

/// `a * b`.
pub fn mul(a: &Value, b: &Value) -> Result<Value, Error> {
    numeric(
        "*",
        a,
        b,
        |x, y| x.checked_mul(y).ok_or_else(|| overflow("*", x, y)),
        |x, y| x * y,
    )
}

fn division_by_zero(op: &str, x: i64) -> Error {
    Error::new(
        ErrorCode::DivisionByZero,
        format!("division by zero: {x} {op} 0"),
    )
}

/// `a / b`: integer division truncates toward zero.
pub fn div(a: &Value, b: &Value) -> Result<Value, Error> {
    numeric(
        "/",
        a,
        b,
        |x, y| {
            if y == 0 {
                Err(division_by_zero("/", x))
            } else {
                x.checked_div(y).ok_or_else(|| overflow("/", x, y))
            }
        },
        |x, y| x / y,
    )
}

/// `a % b`: the sign follows the dividend, as in Java and Rust.
pub fn modulo(a: &Value, b: &Value) -> Result<Value, Error> {
    numeric(
        "%",
        a,
        b,
        |x, y| {
            if y == 0 {
                Err(division_by_zero("%", x))
            } else {
                // i64::MIN % -1 is mathematically 0; only the hardware instruction overflows.
                Ok(x.checked_rem(y).unwrap_or(0))
            }
        },
        |x, y| x % y,
    )
}

/// `a ^ b`: always a Float.
pub fn pow(a: &Value, b: &Value) -> Result<Value, Error> {
    let f = |v: &Value| match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(x) => Some(*x),
        _ => None,
    };
    match (a, b) {
        (Value::Null, _) | (_, Value::Null) => Ok(Value::Null),
        _ => match (f(a), f(b)) {
            (Some(x), Some(y)) => Ok(Value::Float(x.powf(y))),
            _ => Err(operand_error("^", a, b)),
        },
    }
}

/// Unary `-a`.
pub fn neg(a: &Value) -> Result<Value, Error> {
    match a {
        Value::Null => Ok(Value::Null),
        Value::Int(i) => i.checked_neg().map(Value::Int).ok_or_else(|| {
            Error::new(
                ErrorCode::ArithmeticOverflow,
                format!("integer overflow: -({i}) does not fit in 64 bits"),
            )
        }),
        Value::Float(f) => Ok(Value::Float(-f)),
        other => Err(Error::type_error(format!(
            "cannot negate {} ({})",
            other.type_name(),
            short(other)
        ))),
    }
}

/// Unary `+a`: the identity on numbers.
pub fn pos(a: &Value) -> Result<Value, Error> {
    match a {
        Value::Null | Value::Int(_) | Value::Float(_) => Ok(a.clone()),
        other => Err(Error::type_error(format!(
            "unary `+` expects a number, got {} ({})",
            other.type_name(),
            short(other)
        ))),
    }
}

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

/// `s =~ pattern`: whether the whole string matches the regular expression; null unless
/// both are strings. The dialect is Java's as far as the regex-lite engine allows: `\w`,
/// `\d`, `\s` and `(?i)` are ASCII-only as in Java; look-around and back-references are not
/// supported and raise `InvalidArgumentValue`, as does an invalid pattern.
pub fn regex_match(s: &Value, pattern: &Value) -> Result<Value, Error> {
    match (s, pattern) {
        (Value::String(s), Value::String(p)) => with_regex(p, |re| Value::Bool(re.is_match(s))),
        _ => Ok(Value::Null),
    }
}

/// Most queries use a handful of constant patterns: keep the last few compiled per thread.
const REGEX_CACHE: usize = 16;

thread_local! {
    static REGEXES: RefCell<Vec<(String, regex_lite::Regex)>> = const { RefCell::new(Vec::new()) };
}

fn with_regex<T>(pattern: &str, f: impl FnOnce(&regex_lite::Regex) -> T) -> Result<T, Error> {
    REGEXES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(pos) = cache.iter().position(|(p, _)| p == pattern) {
            // Move to the front so that the most recently used pattern is found first.
            let entry = cache.remove(pos);
            cache.insert(0, entry);
        } else {
            // Java's `matches()` must consume the whole input.
            let anchored = format!(r"\A(?:{})\z", java_to_rust_regex(pattern));
            let re = regex_lite::Regex::new(&anchored).map_err(|e| {
                Error::new(
                    ErrorCode::InvalidArgumentValue,
                    format!("invalid regular expression '{pattern}': {e}"),
                )
            })?;
            cache.insert(0, (pattern.to_owned(), re));
            cache.truncate(REGEX_CACHE);
        }
        match cache.first() {
            Some((_, re)) => Ok(f(re)),
            None => Err(Error::internal("regex cache empty after insert")),
        }
    })
}

/// Rewrites the Java-only syntax that has an equivalent here: `\Q…\E` quoting and the
/// ASCII POSIX classes `\p{Alpha}`, `\p{Digit}`, … (negated with `\P{…}`).
fn java_to_rust_regex(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len());
    let mut class_depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match (c, chars.get(i + 1)) {
            ('\\', Some('Q')) => {
                let body: String = chars[i + 2..].iter().collect();
                let (quoted, rest_at) = match body.find("\\E") {
                    Some(end) => (&body[..end], i + 2 + body[..end].chars().count() + 2),
                    None => (body.as_str(), chars.len()),
                };
                out.push_str(&regex_lite::escape(quoted));
                i = rest_at;
                continue;
            }
            ('\\', Some(p @ ('p' | 'P'))) if chars.get(i + 2) == Some(&'{') => {
                let name: String = chars[i + 3..].iter().take_while(|c| **c != '}').collect();
                if let Some(class) = posix_class(&name) {
                    let negated = *p == 'P';
                    out.push_str(&match (class_depth > 0, negated) {
                        (false, false) => format!("[[:{class}:]]"),
                        (false, true) => format!("[^[:{class}:]]"),
                        (true, false) => format!("[:{class}:]"),
                        (true, true) => format!("[:^{class}:]"),
                    });
                    i += 3 + name.chars().count() + 1;
                    continue;
                }
                // Anything else (Unicode categories) is left for the engine to reject.
                out.push(c);
                out.push(*p);
                i += 2;
                continue;
            }
            ('\\', Some(next)) => {
                out.push(c);
                out.push(*next);
                i += 2;
                continue;
            }
            ('[', _) => class_depth += 1,
            (']', _) if class_depth > 0 => class_depth -= 1,
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Java's ASCII POSIX class names and the `[:name:]` class they are.
fn posix_class(name: &str) -> Option<&'static str> {
    Some(match name {
        "Lower" => "lower",
        "Upper" => "upper",
        "ASCII" => "ascii",
        "Alpha" => "alpha",
        "Digit" => "digit",
        "Alnum" => "alnum",
        "Punct" => "punct",
        "Graph" => "graph",
        "Print" => "print",
        "Blank" => "blank",
        "Cntrl" => "cntrl",
        "XDigit" => "xdigit",
        "Space" => "space",
        _ => return None,
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use nereid_common::Map;

    fn list(v: Vec<Value>) -> Value {
        Value::List(v)
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
    fn integer_arithmetic_is_checked() {
        assert_eq!(add(&1.into(), &2.into()).ok(), Some(Value::Int(3)));
        assert_eq!(
            code(add(&i64::MAX.into(), &1.into())),
            ErrorCode::ArithmeticOverflow
        );
        assert_eq!(
            code(sub(&i64::MIN.into(), &1.into())),
            ErrorCode::ArithmeticOverflow
        );
        assert_eq!(
            code(mul(&i64::MAX.into(), &2.into())),
            ErrorCode::ArithmeticOverflow
        );
        assert_eq!(
            code(div(&i64::MIN.into(), &(-1).into())),
            ErrorCode::ArithmeticOverflow
        );
        assert_eq!(code(neg(&i64::MIN.into())), ErrorCode::ArithmeticOverflow);
        assert_eq!(
            modulo(&i64::MIN.into(), &(-1).into()).ok(),
            Some(Value::Int(0))
        );
        assert_eq!(sub(&12.into(), &(2 * 4).into()).ok(), Some(Value::Int(4)));
    }

    #[test]
    fn division_truncates_and_rejects_integer_zero() {
        assert_eq!(div(&7.into(), &2.into()).ok(), Some(Value::Int(3)));
        assert_eq!(div(&(-7).into(), &2.into()).ok(), Some(Value::Int(-3)));
        assert_eq!(modulo(&(-7).into(), &2.into()).ok(), Some(Value::Int(-1)));
        assert_eq!(code(div(&1.into(), &0.into())), ErrorCode::DivisionByZero);
        assert_eq!(
            code(modulo(&1.into(), &0.into())),
            ErrorCode::DivisionByZero
        );
        assert_eq!(
            div(&1.0.into(), &0.into()).ok(),
            Some(Value::Float(f64::INFINITY))
        );
        assert_eq!(
            div(&(-1).into(), &0.0.into()).ok(),
            Some(Value::Float(f64::NEG_INFINITY))
        );
        match div(&0.0.into(), &0.into()) {
            Ok(Value::Float(f)) => assert!(f.is_nan()),
            other => panic!("{other:?}"),
        }
        assert_eq!(modulo(&7.5.into(), &2.into()).ok(), Some(Value::Float(1.5)));
    }

    #[test]
    fn mixed_numbers_widen_to_float_and_pow_is_float() {
        assert_eq!(add(&1.into(), &0.5.into()).ok(), Some(Value::Float(1.5)));
        assert_eq!(mul(&2.into(), &1.5.into()).ok(), Some(Value::Float(3.0)));
        assert_eq!(pow(&2.into(), &10.into()).ok(), Some(Value::Float(1024.0)));
        assert_eq!(pow(&2.into(), &(-1).into()).ok(), Some(Value::Float(0.5)));
    }

    #[test]
    fn null_operands_give_null() {
        for f in [add, sub, mul, div, modulo, pow] {
            assert_eq!(f(&Value::Null, &1.into()).ok(), Some(Value::Null));
            assert_eq!(f(&ints(&[1]), &Value::Null).ok(), Some(Value::Null));
        }
        assert_eq!(neg(&Value::Null).ok(), Some(Value::Null));
    }

    #[test]
    fn plus_concatenates_strings_and_lists() {
        assert_eq!(add(&"a".into(), &"b".into()).ok(), Some("ab".into()));
        assert_eq!(add(&"a".into(), &1.into()).ok(), Some("a1".into()));
        assert_eq!(add(&1.5.into(), &"a".into()).ok(), Some("1.5a".into()));
        assert_eq!(add(&"a".into(), &true.into()).ok(), Some("atrue".into()));
        assert_eq!(
            add(&"a".into(), &ints(&[1])).ok(),
            Some(list(vec!["a".into(), 1.into()]))
        );
        assert_eq!(
            code(add(&"a".into(), &Value::Map(Map::new()))),
            ErrorCode::InvalidArgumentType
        );
        assert_eq!(
            add(&ints(&[1, 10, 100]), &ints(&[4, 5])).ok(),
            Some(ints(&[1, 10, 100, 4, 5]))
        );
        assert_eq!(
            add(&list(vec![false.into(), true.into()]), &false.into()).ok(),
            Some(list(vec![false.into(), true.into(), false.into()]))
        );
        assert_eq!(add(&0.into(), &ints(&[1])).ok(), Some(ints(&[0, 1])));
    }

    #[test]
    fn arithmetic_type_errors() {
        assert_eq!(
            code(sub(&"a".into(), &1.into())),
            ErrorCode::InvalidArgumentType
        );
        assert_eq!(
            code(modulo(&"Clara".into(), &2.into())),
            ErrorCode::InvalidArgumentType
        );
        assert_eq!(
            code(add(&true.into(), &1.into())),
            ErrorCode::InvalidArgumentType
        );
        assert_eq!(code(neg(&"x".into())), ErrorCode::InvalidArgumentType);
        assert_eq!(
            code(pow(&ints(&[]), &1.into())),
            ErrorCode::InvalidArgumentType
        );
    }

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

    #[test]
    fn regex_matches_the_whole_string() {
        assert_eq!(
            regex_match(&"ABCDEF".into(), &"AB.*".into()).ok(),
            Some(true.into())
        );
        assert_eq!(
            regex_match(&"ABCDEF".into(), &"BC".into()).ok(),
            Some(false.into())
        );
        assert_eq!(
            regex_match(&"a|b".into(), &"a|b".into()).ok(),
            Some(false.into())
        );
        assert_eq!(
            regex_match(&"b".into(), &"a|b".into()).ok(),
            Some(true.into())
        );
        assert_eq!(
            regex_match(&"abc".into(), &"(?i)ABC".into()).ok(),
            Some(true.into())
        );
        assert_eq!(regex_match(&1.into(), &"1".into()).ok(), Some(Value::Null));
        assert_eq!(
            regex_match(&"a".into(), &Value::Null).ok(),
            Some(Value::Null)
        );
        assert_eq!(
            code(regex_match(&"a".into(), &"(".into())),
            ErrorCode::InvalidArgumentValue
        );
        assert_eq!(
            regex_match(&"É".into(), &"(?i)é".into()).ok(),
            Some(false.into())
        );
        assert_eq!(
            regex_match(&"é".into(), &r"\w".into()).ok(),
            Some(false.into())
        );
        assert_eq!(
            regex_match(&"a\nb".into(), &"a.b".into()).ok(),
            Some(false.into())
        );
        assert_eq!(
            regex_match(&"a.b*".into(), &r"\Qa.b*\E".into()).ok(),
            Some(true.into())
        );
        assert_eq!(
            regex_match(&"axb".into(), &r"\Qa.b".into()).ok(),
            Some(false.into())
        );
        assert_eq!(
            regex_match(&"ab1".into(), &r"\p{Alpha}+\p{Digit}".into()).ok(),
            Some(true.into())
        );
        assert_eq!(
            regex_match(&"a-1".into(), &r"[\p{Alpha}\p{Digit}-]+".into()).ok(),
            Some(true.into())
        );
        assert_eq!(
            regex_match(&"1".into(), &r"\P{Alpha}".into()).ok(),
            Some(true.into())
        );
        for unsupported in [r"(?=a)a", r"(a)\1", r"\p{L}"] {
            assert_eq!(
                code(regex_match(&"a".into(), &unsupported.into())),
                ErrorCode::InvalidArgumentValue
            );
        }
        // The cache must not confuse patterns.
        for i in 0..40 {
            let p = format!("x{{{i}}}");
            let s = "x".repeat(i);
            assert_eq!(regex_match(&s.into(), &p.into()).ok(), Some(true.into()));
        }
    }

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
