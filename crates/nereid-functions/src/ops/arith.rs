//! Arithmetic operators: `+ - * / % ^` and unary `-`/`+`, including string and list `+`,
//! and temporal arithmetic (instant ± duration, duration ± duration, duration × and ÷
//! number; see [`nereid_temporal::arith`]).

use nereid_common::{Error, ErrorCode};
use nereid_temporal::{arith as temporal_arith, Temporal};
use nereid_value::temporal::coded;
use nereid_value::Value;

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
        (Temporal(x), Temporal(y)) => temporal_arith::add(x, y).map(Value::from).map_err(coded),
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
    if let (Value::Temporal(x), Value::Temporal(y)) = (a, b) {
        return temporal_arith::subtract(x, y)
            .map(Value::from)
            .map_err(coded);
    }
    numeric(
        "-",
        a,
        b,
        |x, y| x.checked_sub(y).ok_or_else(|| overflow("-", x, y)),
        |x, y| x - y,
    )
}

/// A duration scaled by a number (`None` when the operands are not a duration and a
/// number).
fn scale_duration(a: &Value, b: &Value, divide: bool) -> Option<Result<Value, Error>> {
    let duration = |v: &Value| match v {
        Value::Temporal(t) => match &**t {
            Temporal::Duration(d) => Some(*d),
            _ => None,
        },
        _ => None,
    };
    let (d, n) = match (duration(a), duration(b)) {
        (Some(d), _) => (d, b),
        (None, Some(d)) if !divide => (d, a),
        _ => return None,
    };
    let result = match (n, divide) {
        (Value::Int(i), false) => d.mul_int(*i),
        (Value::Float(f), false) => d.mul_float(*f),
        (Value::Int(i), true) => d.div(*i as f64),
        (Value::Float(f), true) => d.div(*f),
        _ => return None,
    };
    Some(
        result
            .map(|d| Value::from(Temporal::Duration(d)))
            .map_err(coded),
    )
}

/// `a * b`.
pub fn mul(a: &Value, b: &Value) -> Result<Value, Error> {
    if let Some(r) = scale_duration(a, b, false) {
        return r;
    }
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
    if let Some(r) = scale_duration(a, b, true) {
        return r;
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::{code, ints, list};
    use nereid_value::Map;

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
}
