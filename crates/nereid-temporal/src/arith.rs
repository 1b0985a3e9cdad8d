//! `+` and `-` with temporal operands: instant ± duration, duration ± duration. A
//! duration's parts apply largest first — months (clamping the day of month), then days,
//! then seconds and nanoseconds — and only the parts the value has: a date ignores time
//! below a whole day, a time ignores months and days. On a zoned date-time, months and
//! days move the local clock (the offset re-resolved, 02:30 + 1 day stays 02:30 across a
//! daylight-saving change) while seconds move along the time line.
//! Multiplication and division of durations by numbers are [`Duration::mul_int`],
//! [`Duration::mul_float`] and [`Duration::div`].

use super::calendar::{NANOS_PER_SECOND, SECONDS_PER_DAY};
use super::datetime::LocalDateTime;
use super::duration::Duration;
use super::time::Time;
use super::{wrong_type, Temporal};
use crate::error::{Result, TemporalError};

/// `a + b`.
pub fn add(a: &Temporal, b: &Temporal) -> Result<Temporal> {
    match (a, b) {
        (Temporal::Duration(x), Temporal::Duration(y)) => x.plus(y).map(Temporal::Duration),
        (t, Temporal::Duration(d)) | (Temporal::Duration(d), t) => shift(t, d, 1),
        _ => Err(wrong_type(format!(
            "cannot add a {} and a {}",
            a.type_name(),
            b.type_name()
        ))),
    }
}

/// `a - b`.
pub fn subtract(a: &Temporal, b: &Temporal) -> Result<Temporal> {
    match (a, b) {
        (Temporal::Duration(x), Temporal::Duration(y)) => x.minus(y).map(Temporal::Duration),
        (t, Temporal::Duration(d)) => shift(t, d, -1),
        _ => Err(wrong_type(format!(
            "cannot subtract a {} from a {}",
            b.type_name(),
            a.type_name()
        ))),
    }
}

/// Moves `t` by `sign` × `d`, part by part (subtraction subtracts each stored part, which
/// is not always adding the negated duration: see the module docs).
fn shift(t: &Temporal, d: &Duration, sign: i64) -> Result<Temporal> {
    let negate_err = || TemporalError::overflow("duration out of range");
    let months = d.months().checked_mul(sign).ok_or_else(negate_err)?;
    let days = d.days().checked_mul(sign).ok_or_else(negate_err)?;
    let seconds = d.seconds() as i128 * sign as i128;
    let nanos = d.nanos() as i128 * sign as i128;
    let time_nanos = seconds * NANOS_PER_SECOND as i128 + nanos;
    Ok(match t {
        Temporal::Date(date) => {
            let whole_days = (seconds / SECONDS_PER_DAY as i128) as i64;
            Temporal::Date(
                date.plus_months(months)?
                    .plus_days(days)?
                    .plus_days(whole_days)?,
            )
        }
        Temporal::LocalTime(time) => Temporal::LocalTime(time.plus_nanos_wrapping(time_nanos)),
        Temporal::Time(time) => Temporal::Time(Time::new(
            time.time.plus_nanos_wrapping(time_nanos),
            time.offset,
        )),
        Temporal::LocalDateTime(l) => {
            let date = l.date.plus_months(months)?.plus_days(days)?;
            Temporal::LocalDateTime(LocalDateTime::new(date, l.time).plus_nanos(time_nanos)?)
        }
        Temporal::DateTime(dt) => {
            let mut dt = dt.clone();
            if months != 0 {
                let l = dt.local();
                dt = dt.with_local(LocalDateTime::new(l.date.plus_months(months)?, l.time))?;
            }
            if days != 0 {
                let l = dt.local();
                dt = dt.with_local(LocalDateTime::new(l.date.plus_days(days)?, l.time))?;
            }
            Temporal::DateTime(dt.plus_instant_nanos(time_nanos)?)
        }
        Temporal::Duration(_) => return Err(wrong_type("cannot shift a duration by a duration")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;
    use crate::Kind;

    fn dur(s: &str) -> Temporal {
        parse(Kind::Duration, s).expect("duration")
    }

    #[test]
    fn each_type_takes_the_parts_it_has() {
        let d = dur("P12Y5M14DT16H13M10.000000002S");
        let date = parse(Kind::Date, "1984-10-11").expect("ok");
        assert_eq!(
            add(&date, &d).map(|v| v.to_string()),
            Ok("1997-03-25".into())
        );
        assert_eq!(
            subtract(&date, &d).map(|v| v.to_string()),
            Ok("1972-04-27".into())
        );
        let lt = parse(Kind::LocalTime, "12:31:14.000000001").expect("ok");
        assert_eq!(
            add(&lt, &d).map(|v| v.to_string()),
            Ok("04:44:24.000000003".into())
        );
        assert_eq!(
            subtract(&lt, &d).map(|v| v.to_string()),
            Ok("20:18:03.999999999".into())
        );
        let dt = parse(Kind::DateTime, "1984-10-11T12:31:14.000000001+01:00").expect("ok");
        assert_eq!(
            add(&d, &dt).map(|v| v.to_string()),
            Ok("1997-03-26T04:44:24.000000003+01:00".into())
        );
        assert!(subtract(&d, &dt).is_err());
        assert!(add(&date, &lt).is_err());
    }

    #[test]
    fn extreme_durations_are_errors_not_panics() {
        let date = parse(Kind::Date, "1984-10-11").expect("ok");
        let huge =
            Temporal::Duration(Duration::new(i64::MIN, i64::MIN, i64::MIN, 0).expect("fits"));
        assert!(subtract(&date, &huge).is_err());
        assert!(add(&date, &huge).is_err());
        let dt = parse(Kind::DateTime, "1984-10-11T12:00[Europe/Stockholm]").expect("ok");
        let secs = Temporal::Duration(Duration::new(0, 0, i64::MAX, 999_999_999).expect("fits"));
        assert!(add(&dt, &secs).is_err());
        let lt = parse(Kind::LocalTime, "12:00").expect("ok");
        assert!(add(&lt, &secs).is_ok()); // wraps around the clock
    }

    #[test]
    fn zoned_days_keep_the_wall_clock() {
        let dt = parse(Kind::DateTime, "2017-10-28T12:00[Europe/Stockholm]").expect("ok");
        assert_eq!(
            add(&dt, &dur("P1D")).map(|v| v.to_string()),
            Ok("2017-10-29T12:00+01:00[Europe/Stockholm]".into())
        );
        assert_eq!(
            add(&dt, &dur("PT24H")).map(|v| v.to_string()),
            Ok("2017-10-29T11:00+01:00[Europe/Stockholm]".into())
        );
    }
}
