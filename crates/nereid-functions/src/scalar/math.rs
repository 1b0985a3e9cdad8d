//! Numeric functions: `abs`, `sign`, rounding, logarithms, trigonometry, constants, `rand`.
//!
//! Integers and floats are both accepted; results are Floats except for `abs` of an
//! Integer and `sign`. Null in → null out. Domain errors follow IEEE as Java does
//! (`sqrt(-1)` is NaN, `log(0)` is -Infinity) rather than raising.

use nereid_common::{Error, ErrorCode};
use nereid_value::Value;

use crate::args::{arg, integer, number, short, string, type_error};
use crate::random;

/// A one-argument Float function.
fn unary(function: &str, args: &[Value], f: fn(f64) -> f64) -> Result<Value, Error> {
    Ok(number(function, arg(function, args, 0)?)?.map_or(Value::Null, |x| Value::Float(f(x))))
}

macro_rules! float_fns {
    ($($name:ident => $cypher:literal, $f:expr;)*) => {
        $(pub(crate) fn $name(args: &[Value]) -> Result<Value, Error> {
            unary($cypher, args, $f)
        })*
    };
}

float_fns! {
    sqrt => "sqrt", f64::sqrt;
    exp => "exp", f64::exp;
    log => "log", f64::ln;
    log10 => "log10", f64::log10;
    sin => "sin", f64::sin;
    cos => "cos", f64::cos;
    tan => "tan", f64::tan;
    cot => "cot", |x| 1.0 / x.tan();
    asin => "asin", f64::asin;
    acos => "acos", f64::acos;
    atan => "atan", f64::atan;
    degrees => "degrees", f64::to_degrees;
    radians => "radians", f64::to_radians;
    haversin => "haversin", |x| (1.0 - x.cos()) / 2.0;
    ceil => "ceil", f64::ceil;
    floor => "floor", f64::floor;
    sinh => "sinh", f64::sinh;
    cosh => "cosh", f64::cosh;
    tanh => "tanh", f64::tanh;
    coth => "coth", |x| 1.0 / x.tanh();
}

pub(crate) fn atan2(args: &[Value]) -> Result<Value, Error> {
    let y = number("atan2", arg("atan2", args, 0)?)?;
    let x = number("atan2", arg("atan2", args, 1)?)?;
    Ok(match (y, x) {
        (Some(y), Some(x)) => Value::Float(y.atan2(x)),
        _ => Value::Null,
    })
}

pub(crate) fn e(_: &[Value]) -> Result<Value, Error> {
    Ok(Value::Float(std::f64::consts::E))
}

pub(crate) fn pi(_: &[Value]) -> Result<Value, Error> {
    Ok(Value::Float(std::f64::consts::PI))
}

/// `rand()`: uniform in [0, 1).
pub(crate) fn rand(_: &[Value]) -> Result<Value, Error> {
    Ok(Value::Float(random::unit_f64()))
}

/// `abs(x)`: keeps the type; `abs` of the smallest Integer overflows.
pub(crate) fn abs(args: &[Value]) -> Result<Value, Error> {
    Ok(match arg("abs", args, 0)? {
        Value::Null => Value::Null,
        Value::Int(i) => Value::Int(i.checked_abs().ok_or_else(|| {
            Error::new(
                ErrorCode::ArithmeticOverflow,
                format!("abs({i}) does not fit in a 64-bit Integer"),
            )
        })?),
        Value::Float(f) => Value::Float(f.abs()),
        other => return Err(type_error("abs", "a number", other)),
    })
}

/// `sign(x)`: -1, 0 or 1 as an Integer (0 for NaN).
pub(crate) fn sign(args: &[Value]) -> Result<Value, Error> {
    Ok(match arg("sign", args, 0)? {
        Value::Null => Value::Null,
        Value::Int(i) => Value::Int(i.signum()),
        Value::Float(f) => Value::Int(if *f > 0.0 {
            1
        } else if *f < 0.0 {
            -1
        } else {
            0
        }),
        other => return Err(type_error("sign", "a number", other)),
    })
}

/// `isNaN(x)`.
pub(crate) fn is_nan(args: &[Value]) -> Result<Value, Error> {
    Ok(match arg("isNaN", args, 0)? {
        Value::Null => Value::Null,
        Value::Int(_) => Value::Bool(false),
        Value::Float(f) => Value::Bool(f.is_nan()),
        other => return Err(type_error("isNaN", "a number", other)),
    })
}

/// The rounding modes of `round(x, precision, mode)`, as Java's `RoundingMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Up,
    Down,
    Ceiling,
    Floor,
    HalfUp,
    HalfDown,
    HalfEven,
}

impl Mode {
    fn parse(s: &str) -> Option<Mode> {
        Some(match s.to_ascii_uppercase().as_str() {
            "UP" => Mode::Up,
            "DOWN" => Mode::Down,
            "CEILING" => Mode::Ceiling,
            "FLOOR" => Mode::Floor,
            "HALF_UP" => Mode::HalfUp,
            "HALF_DOWN" => Mode::HalfDown,
            "HALF_EVEN" => Mode::HalfEven,
            _ => return None,
        })
    }
}

/// `round(x[, precision[, mode]])`, as a Float. Without a mode, precision 0 (the default)
/// rounds to the nearest integer with halves toward positive infinity (Java's `Math.round`:
/// `round(-2.5)` is -2.0). Otherwise the value's shortest decimal form is rounded to
/// `precision` decimals in `mode` (Java's `BigDecimal.valueOf(x).setScale(precision, mode)`;
/// `HALF_UP` by default, so `round(-2.5, 0, 'HALF_UP')` is -3.0). A negative precision is
/// `NumberOutOfRange`.
pub(crate) fn round(args: &[Value]) -> Result<Value, Error> {
    const F: &str = "round";
    let x = number(F, arg(F, args, 0)?)?;
    let precision = match args.get(1) {
        None => Some(0),
        Some(v) => integer(F, v)?,
    };
    if let Some(p) = precision.filter(|p| *p < 0) {
        return Err(Error::new(
            ErrorCode::NumberOutOfRange,
            format!("{F}(): the precision must not be negative, got {p}"),
        ));
    }
    let mode = match args.get(2) {
        None => Some(None),
        Some(v) => match string(F, v)? {
            None => None,
            Some(m) => Some(Some(Mode::parse(m).ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgumentValue,
                    format!(
                        "{F}(): unknown rounding mode {}; valid modes are UP, DOWN, CEILING, \
                         FLOOR, HALF_UP, HALF_DOWN and HALF_EVEN",
                        short(v)
                    ),
                )
            })?)),
        },
    };
    let (Some(x), Some(precision), Some(mode)) = (x, precision, mode) else {
        return Ok(Value::Null);
    };
    Ok(Value::Float(match mode {
        None if precision == 0 => round_half_up_java(x),
        None => round_decimal(x, precision, Mode::HalfUp),
        Some(mode) => round_decimal(x, precision, mode),
    }))
}

/// Java's `Math.round(x)` as a float: `floor(x + 0.5)` computed without the rounding error
/// of the addition.
fn round_half_up_java(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let f = x.floor();
    // x - floor(x) is exact for every finite double; adding 0.0 turns -0.0 into 0.0.
    (if x - f >= 0.5 { f + 1.0 } else { f }) + 0.0
}

fn round_decimal(x: f64, precision: i64, mode: Mode) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    // Shortest digits d1 d2 … dn and exponent e such that |x| = d1.d2…dn × 10^e.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mantissa
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    // Number of digits kept: those at or above 10^-precision.
    let keep = exp.saturating_add(1).saturating_add(precision);
    if keep >= digits.len() as i64 {
        return x;
    }
    let negative = x < 0.0;
    let (mut kept, rest): (Vec<u8>, Vec<u8>) = if keep <= 0 {
        let zeros = usize::try_from(-keep).unwrap_or(usize::MAX).min(400);
        (
            Vec::new(),
            std::iter::repeat_n(0, zeros)
                .chain(digits.iter().copied())
                .collect(),
        )
    } else {
        let k = keep as usize;
        (digits[..k].to_vec(), digits[k..].to_vec())
    };
    let nonzero_rest = rest.iter().any(|d| *d != 0);
    let first = rest.first().copied().unwrap_or(0);
    let after_first_nonzero = rest.iter().skip(1).any(|d| *d != 0);
    let last_odd = kept.last().is_some_and(|d| d % 2 == 1);
    let up = match mode {
        Mode::Down => false,
        Mode::Up => nonzero_rest,
        Mode::Ceiling => nonzero_rest && !negative,
        Mode::Floor => nonzero_rest && negative,
        Mode::HalfUp => first >= 5,
        Mode::HalfDown => first > 5 || (first == 5 && after_first_nonzero),
        Mode::HalfEven => first > 5 || (first == 5 && (after_first_nonzero || last_odd)),
    };
    if up {
        // Decimal increment of the kept digits, growing by one digit on a full carry.
        let mut i = kept.len();
        loop {
            if i == 0 {
                kept.insert(0, 1);
                break;
            }
            i -= 1;
            if kept[i] == 9 {
                kept[i] = 0;
            } else {
                kept[i] += 1;
                break;
            }
        }
    }
    if kept.iter().all(|d| *d == 0) {
        return 0.0;
    }
    let text: String = kept.iter().map(|d| char::from(b'0' + d)).collect();
    let magnitude: f64 = format!("{text}e{}", -precision).parse().unwrap_or(f64::NAN);
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: Result<Value, Error>) -> f64 {
        match v {
            Ok(Value::Float(x)) => x,
            other => panic!("expected a float, got {other:?}"),
        }
    }
    fn code(r: Result<Value, Error>) -> ErrorCode {
        match r {
            Err(e) => e.code,
            Ok(v) => panic!("expected an error, got {v}"),
        }
    }

    #[test]
    fn abs_sign_keep_integer_types() {
        assert_eq!(abs(&[(-1).into()]).ok(), Some(1.into()));
        assert_eq!(abs(&[(-1.5).into()]).ok(), Some(1.5.into()));
        assert_eq!(code(abs(&[i64::MIN.into()])), ErrorCode::ArithmeticOverflow);
        assert_eq!(abs(&[Value::Null]).ok(), Some(Value::Null));
        assert_eq!(code(abs(&["1".into()])), ErrorCode::InvalidArgumentType);
        assert_eq!(sign(&[(-7).into()]).ok(), Some((-1).into()));
        assert_eq!(sign(&[0.5.into()]).ok(), Some(1.into()));
        assert_eq!(sign(&[(-0.0).into()]).ok(), Some(0.into()));
    }

    #[test]
    fn float_functions() {
        assert_eq!(f(sqrt(&[12.96.into()])), 3.6);
        assert!(f(sqrt(&[(-1).into()])).is_nan());
        assert_eq!(f(log(&[0.into()])), f64::NEG_INFINITY);
        assert_eq!(f(log10(&[1000.into()])), 3.0);
        assert_eq!(f(exp(&[0.into()])), 1.0);
        assert_eq!(f(ceil(&[1.into()])), 1.0);
        assert_eq!(f(ceil(&[1.2.into()])), 2.0);
        assert_eq!(f(floor(&[(-1.2).into()])), -2.0);
        assert_eq!(f(degrees(&[pi(&[]).unwrap_or_default()])), 180.0);
        assert_eq!(f(radians(&[180.into()])), std::f64::consts::PI);
        assert_eq!(f(haversin(&[0.into()])), 0.0);
        assert_eq!(f(cot(&[0.into()])), f64::INFINITY);
        assert_eq!(f(atan2(&[1.into(), 1.into()])), std::f64::consts::FRAC_PI_4);
        assert_eq!(atan2(&[Value::Null, 1.into()]).ok(), Some(Value::Null));
        assert_eq!(code(sin(&[true.into()])), ErrorCode::InvalidArgumentType);
        assert_eq!(is_nan(&[f64::NAN.into()]).ok(), Some(true.into()));
        assert_eq!(is_nan(&[1.into()]).ok(), Some(false.into()));
        for _ in 0..1000 {
            let r = f(rand(&[]));
            assert!((0.0..1.0).contains(&r));
        }
    }

    #[test]
    fn round_like_java() {
        assert_eq!(f(round(&[2.5.into()])), 3.0);
        assert_eq!(f(round(&[(-2.5).into()])), -2.0);
        assert_eq!(f(round(&[(-2.51).into()])), -3.0);
        assert_eq!(f(round(&[0.49999999999999994.into()])), 0.0);
        assert_eq!(f(round(&[3.into()])), 3.0);
        let r = f(round(&[(-0.4).into()]));
        assert!(r == 0.0 && r.is_sign_positive());
        assert_eq!(f(round(&[1.234_56.into(), 3.into()])), 1.235);
        assert_eq!(f(round(&[2.675.into(), 2.into()])), 2.68);
        assert_eq!(f(round(&[(-2.5).into(), 0.into()])), -2.0);
        assert_eq!(f(round(&[(-2.5).into(), 0.into(), "HALF_UP".into()])), -3.0);
        assert_eq!(f(round(&[(-2.55).into(), 1.into()])), -2.6);
        assert_eq!(
            code(round(&[1234.5.into(), (-2).into()])),
            ErrorCode::NumberOutOfRange
        );
        assert_eq!(f(round(&[9.99.into(), 1.into()])), 10.0);
        assert_eq!(f(round(&[0.004.into(), 2.into()])), 0.0);
        assert_eq!(f(round(&[0.005.into(), 2.into()])), 0.01);
        assert_eq!(f(round(&[2.5.into(), 0.into(), "HALF_EVEN".into()])), 2.0);
        assert_eq!(f(round(&[3.5.into(), 0.into(), "HALF_EVEN".into()])), 4.0);
        assert_eq!(f(round(&[2.5.into(), 0.into(), "HALF_DOWN".into()])), 2.0);
        assert_eq!(f(round(&[2.51.into(), 0.into(), "HALF_DOWN".into()])), 3.0);
        assert_eq!(f(round(&[(-2.1).into(), 0.into(), "CEILING".into()])), -2.0);
        assert_eq!(f(round(&[(-2.1).into(), 0.into(), "FLOOR".into()])), -3.0);
        assert_eq!(f(round(&[2.1.into(), 0.into(), "UP".into()])), 3.0);
        assert_eq!(f(round(&[2.9.into(), 0.into(), "DOWN".into()])), 2.0);
        assert_eq!(f(round(&[0.001.into(), 1.into(), "UP".into()])), 0.1);
        assert_eq!(
            code(round(&[1.0.into(), 0.into(), "SIDEWAYS".into()])),
            ErrorCode::InvalidArgumentValue
        );
        assert_eq!(round(&[Value::Null, 1.into()]).ok(), Some(Value::Null));
    }
}
