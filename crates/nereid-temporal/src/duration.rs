//! [`Duration`]: months, days, seconds and nanoseconds, kept apart because a month and a
//! day have no fixed length in seconds (Cypher's and Neo4j's model). Only seconds and
//! nanoseconds normalise into each other: `nanos` is always in `0..1_000_000_000`, the
//! sign living in `seconds` (so −1.5 s is seconds −2, nanos 500,000,000).
//!
//! Fractional inputs (`{months: 0.75}`, `'P2.5W'`, `duration * 0.5`) spill into the smaller
//! units through an average month of 30.436875 days (the Gregorian average), exactly as
//! Neo4j's `DurationValue.approximate` does, so the TCK's expected strings come out.

use std::cmp::Ordering;
use std::fmt;

use super::calendar::{NANOS_PER_DAY, NANOS_PER_SECOND, SECONDS_PER_DAY};
use super::invalid;
use crate::error::{Result, TemporalError, TemporalErrorKind};

/// Seconds in the average Gregorian month (365.2425 / 12 days).
pub const AVG_SECONDS_PER_MONTH: i64 = 2_629_746;

/// A Cypher duration. Equality is component-wise (after seconds/nanoseconds
/// normalisation): `P1M` ≠ `P30D`, `PT70S` = `PT1M10S`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Duration {
    months: i64,
    days: i64,
    seconds: i64,
    nanos: i32,
}

/// A number given for a duration component.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

fn overflow() -> TemporalError {
    TemporalError::overflow("duration out of range")
}

/// Java's `(long) x` with a range check.
fn to_i64(x: f64) -> Result<i64> {
    if !x.is_finite() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&x) {
        return Err(overflow());
    }
    Ok(x.trunc() as i64)
}

impl Duration {
    pub const ZERO: Duration = Duration {
        months: 0,
        days: 0,
        seconds: 0,
        nanos: 0,
    };

    /// Builds a duration, carrying whole seconds out of `nanos`.
    pub fn new(months: i64, days: i64, seconds: i64, nanos: i64) -> Result<Duration> {
        Duration::from_wide(months.into(), days.into(), seconds.into(), nanos.into())
    }

    pub(crate) fn from_wide(
        months: i128,
        days: i128,
        seconds: i128,
        nanos: i128,
    ) -> Result<Duration> {
        let ns = NANOS_PER_SECOND as i128;
        let seconds = seconds + nanos.div_euclid(ns);
        Ok(Duration {
            months: i64::try_from(months).map_err(|_| overflow())?,
            days: i64::try_from(days).map_err(|_| overflow())?,
            seconds: i64::try_from(seconds).map_err(|_| overflow())?,
            nanos: nanos.rem_euclid(ns) as i32,
        })
    }

    /// Whole units from fractional ones: the fraction of each unit moves down into the
    /// next (months → days through the average month, days → seconds, seconds → nanos).
    pub fn approximate(months: f64, days: f64, seconds: f64, nanos: f64) -> Result<Duration> {
        let avg_month_nanos = (AVG_SECONDS_PER_MONTH * NANOS_PER_SECOND) as f64;
        let day_nanos = NANOS_PER_DAY as f64;
        let ns = NANOS_PER_SECOND as f64;
        let whole_months = to_i64(months)?;
        let days =
            days + (avg_month_nanos * months - avg_month_nanos * whole_months as f64) / day_nanos;
        let whole_days = to_i64(days)?;
        let seconds = seconds + (day_nanos * days - day_nanos * whole_days as f64) / ns;
        let whole_seconds = to_i64(seconds)?;
        let nanos = nanos + (ns * seconds - ns * whole_seconds as f64);
        // Truncate like Neo4j, but do not let binary rounding (x.9999999) cost a nanosecond.
        let rounded = nanos.round();
        let nanos = if (nanos - rounded).abs() < 1e-4 {
            rounded
        } else {
            nanos
        };
        Duration::new(whole_months, whole_days, whole_seconds, to_i64(nanos)?)
    }

    /// From `(unit, amount)` pairs as in `duration({years: 1, days: 2.5})`; unit names are
    /// matched without regard to case. Exact when every amount is an integer.
    pub fn from_units(items: &[(&str, Num)]) -> Result<Duration> {
        let all_int = items.iter().all(|(_, n)| matches!(n, Num::Int(_)));
        let mut exact = [0i128; 4];
        let mut approx = [0f64; 4];
        for (unit, n) in items {
            let (slot, factor): (usize, i64) = match unit.to_ascii_lowercase().as_str() {
                "years" => (0, 12),
                "quarters" => (0, 3),
                "months" => (0, 1),
                "weeks" => (1, 7),
                "days" => (1, 1),
                "hours" => (2, 3600),
                "minutes" => (2, 60),
                "seconds" => (2, 1),
                "milliseconds" => (3, 1_000_000),
                "microseconds" => (3, 1_000),
                "nanoseconds" => (3, 1),
                _ => return Err(invalid(format!("no such field for a duration: '{unit}'"))),
            };
            match n {
                Num::Int(i) => exact[slot] += *i as i128 * factor as i128,
                Num::Float(_) => {}
            }
            approx[slot] += n.as_f64() * factor as f64;
        }
        if all_int {
            Duration::from_wide(exact[0], exact[1], exact[2], exact[3])
        } else {
            Duration::approximate(approx[0], approx[1], approx[2], approx[3])
        }
    }

    pub fn months(&self) -> i64 {
        self.months
    }

    pub fn days(&self) -> i64 {
        self.days
    }

    /// Whole seconds (floored: −1.5 s has −2 here and 500,000,000 in [`Self::nanos`]).
    pub fn seconds(&self) -> i64 {
        self.seconds
    }

    /// Nanoseconds of the second, `0..1_000_000_000`.
    pub fn nanos(&self) -> i64 {
        self.nanos.into()
    }

    /// The seconds part as one number of nanoseconds.
    pub fn total_nanos(&self) -> i128 {
        self.seconds as i128 * NANOS_PER_SECOND as i128 + self.nanos as i128
    }

    pub fn plus(&self, other: &Duration) -> Result<Duration> {
        Duration::from_wide(
            self.months as i128 + other.months as i128,
            self.days as i128 + other.days as i128,
            self.seconds as i128 + other.seconds as i128,
            self.nanos as i128 + other.nanos as i128,
        )
    }

    pub fn negate(&self) -> Result<Duration> {
        Duration::from_wide(
            -(self.months as i128),
            -(self.days as i128),
            -(self.seconds as i128),
            -(self.nanos as i128),
        )
    }

    pub fn minus(&self, other: &Duration) -> Result<Duration> {
        self.plus(&other.negate()?)
    }

    pub fn mul_int(&self, n: i64) -> Result<Duration> {
        let n = n as i128;
        Duration::from_wide(
            self.months as i128 * n,
            self.days as i128 * n,
            self.seconds as i128 * n,
            self.nanos as i128 * n,
        )
    }

    pub fn mul_float(&self, f: f64) -> Result<Duration> {
        Duration::approximate(
            self.months as f64 * f,
            self.days as f64 * f,
            self.seconds as f64 * f,
            self.nanos as f64 * f,
        )
    }

    /// Division (by an integer or a float alike, through floating point, as in Neo4j).
    pub fn div(&self, divisor: f64) -> Result<Duration> {
        if divisor == 0.0 {
            return Err(TemporalError::new(
                TemporalErrorKind::DivisionByZero,
                "division of a duration by zero",
            ));
        }
        Duration::approximate(
            self.months as f64 / divisor,
            self.days as f64 / divisor,
            self.seconds as f64 / divisor,
            self.nanos as f64 / divisor,
        )
    }

    /// The total order `ORDER BY` uses: by approximate length (a month as the average
    /// month, a day as 86,400 s), then component-wise so that only equal durations tie.
    pub fn order_cmp(&self, other: &Duration) -> Ordering {
        let len = |d: &Duration| {
            (d.months as i128 * AVG_SECONDS_PER_MONTH as i128
                + d.days as i128 * SECONDS_PER_DAY as i128
                + d.seconds as i128)
                * NANOS_PER_SECOND as i128
                + d.nanos as i128
        };
        len(self)
            .cmp(&len(other))
            .then_with(|| self.months.cmp(&other.months))
            .then_with(|| self.days.cmp(&other.days))
            .then_with(|| self.seconds.cmp(&other.seconds))
            .then_with(|| self.nanos.cmp(&other.nanos))
    }

    /// Parses ISO 8601 durations: `P[nY][nM][nW][nD][T[nH][nM][n[.f]S]]` with optional
    /// signs on the whole and on each component and fractions on any component, or the
    /// date-time form `PYYYY-MM-DDThh:mm:ss[.f]` (also basic: `PYYYYMMDDThhmmss`).
    pub fn parse(text: &str) -> Result<Duration> {
        parse_duration(text)
            .ok_or_else(|| invalid(format!("text cannot be parsed to a duration: '{text}'")))?
    }
}

/// One parsed component: its integer part and fraction, both carrying the sign.
#[derive(Clone, Copy, Default)]
struct Component {
    whole: i64,
    /// Fraction as nanoseconds of the unit (signed).
    frac_nanos: i64,
    has_frac: bool,
}

impl Component {
    fn as_f64(self) -> f64 {
        self.whole as f64 + self.frac_nanos as f64 / NANOS_PER_SECOND as f64
    }
}

/// `None`: not a duration at all; `Some(Err)`: a duration whose value is out of range.
fn parse_duration(text: &str) -> Option<Result<Duration>> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let rest = rest.strip_prefix(['P', 'p'])?;
    let result = if let Some(d) = parse_date_time_form(rest) {
        d
    } else {
        parse_component_form(rest)?
    };
    Some(if negative {
        result.and_then(|d| d.negate())
    } else {
        result
    })
}

fn parse_component_form(rest: &str) -> Option<Result<Duration>> {
    let (date_part, time_part) = match rest.find(['T', 't']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let mut c = [Component::default(); 7]; // Y M W D H M S
    let mut any = false;
    let mut read = |part: &str, units: &[(u8, usize)]| -> Option<()> {
        let mut s = part;
        let mut next_unit = 0;
        while !s.is_empty() {
            let end = s.find(|ch: char| ch.is_ascii_alphabetic())?;
            let (number, after) = s.split_at(end);
            let unit = after.as_bytes()[0].to_ascii_uppercase();
            let pos = units[next_unit..].iter().position(|(u, _)| *u == unit)?;
            let slot = units[next_unit + pos].1;
            next_unit += pos + 1;
            c[slot] = parse_number(number)?;
            any = true;
            s = &after[1..];
        }
        Some(())
    };
    read(date_part, &[(b'Y', 0), (b'M', 1), (b'W', 2), (b'D', 3)])?;
    if let Some(t) = time_part {
        if t.is_empty() {
            return None;
        }
        read(t, &[(b'H', 4), (b'M', 5), (b'S', 6)])?;
    }
    if !any {
        return None;
    }
    let [y, mo, w, d, h, mi, s] = c;
    if [y, mo, w, d, h, mi].iter().any(|x| x.has_frac) {
        return Some(Duration::approximate(
            y.as_f64() * 12.0 + mo.as_f64(),
            w.as_f64() * 7.0 + d.as_f64(),
            h.as_f64() * 3600.0 + mi.as_f64() * 60.0 + s.whole as f64,
            s.frac_nanos as f64,
        ));
    }
    Some(Duration::from_wide(
        y.whole as i128 * 12 + mo.whole as i128,
        w.whole as i128 * 7 + d.whole as i128,
        h.whole as i128 * 3600 + mi.whole as i128 * 60 + s.whole as i128,
        s.frac_nanos as i128,
    ))
}

/// `[+-]digits[(.|,)digits]`; the fraction keeps at most nine digits (nanoseconds).
fn parse_number(s: &str) -> Option<Component> {
    let (negative, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = match body.find(['.', ',']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = int.parse().ok()?;
    let mut frac_nanos = 0i64;
    if let Some(f) = frac {
        if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        frac_nanos = f.parse::<i64>().ok()? * 10i64.pow(9 - f.len() as u32);
    }
    let sign = if negative { -1 } else { 1 };
    Some(Component {
        whole: sign * whole,
        frac_nanos: sign * frac_nanos,
        has_frac: frac.is_some(),
    })
}

/// `YYYY-MM-DDThh:mm:ss[.f]` or `YYYYMMDDThhmmss[.f]` after the `P`.
fn parse_date_time_form(s: &str) -> Option<Result<Duration>> {
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    let (date, time) = match s.find(['T', 't']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (y, mo, d) = if date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-'
    {
        (&date[0..4], &date[5..7], &date[8..10])
    } else if date.len() == 8 && digits(date) {
        (&date[0..4], &date[4..6], &date[6..8])
    } else {
        return None;
    };
    if !(digits(y) && digits(mo) && digits(d)) {
        return None;
    }
    let (mut h, mut mi, mut sec, mut nanos) = ("0", "0", "0", 0i64);
    if let Some(t) = time {
        let (clock, frac) = match t.find(['.', ',']) {
            Some(i) => (&t[..i], Some(&t[i + 1..])),
            None => (t, None),
        };
        if clock.len() == 8 && clock.as_bytes()[2] == b':' && clock.as_bytes()[5] == b':' {
            (h, mi, sec) = (&clock[0..2], &clock[3..5], &clock[6..8]);
        } else if clock.len() == 6 {
            (h, mi, sec) = (&clock[0..2], &clock[2..4], &clock[4..6]);
        } else {
            return None;
        }
        if !(digits(h) && digits(mi) && digits(sec)) {
            return None;
        }
        if let Some(f) = frac {
            if f.is_empty() || f.len() > 9 || !digits(f) {
                return None;
            }
            nanos = f.parse::<i64>().ok()? * 10i64.pow(9 - f.len() as u32);
        }
    }
    let n = |x: &str| x.parse::<i128>().unwrap_or(0);
    Some(Duration::from_wide(
        n(y) * 12 + n(mo),
        n(d),
        n(h) * 3600 + n(mi) * 60 + n(sec),
        nanos.into(),
    ))
}

/// ISO 8601 as Neo4j prints it: `P12Y5M14DT16H13M10.000000001S`, `PT0S` when zero; each
/// component carries its own sign (`P-6M-15DT-17H-45M-3.500000002S`).
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::from("P");
        let put = |q: i64, unit: char, out: &mut String| {
            if q != 0 {
                out.push_str(&q.to_string());
                out.push(unit);
            }
        };
        put(self.months / 12, 'Y', &mut out);
        put(self.months % 12, 'M', &mut out);
        put(self.days, 'D', &mut out);
        if self.seconds != 0 || self.nanos != 0 {
            let (mut s, mut n) = (self.seconds, i64::from(self.nanos));
            // Print −1.5 s as "-1.5", not as "-2" plus half a second.
            if s < 0 && n != 0 {
                s += 1;
                n -= NANOS_PER_SECOND;
            }
            out.push('T');
            put(s / 3600, 'H', &mut out);
            s %= 3600;
            put(s / 60, 'M', &mut out);
            s %= 60;
            if s != 0 || n != 0 {
                if s == 0 && n < 0 {
                    out.push('-');
                }
                out.push_str(&s.to_string());
                if n != 0 {
                    let digits = format!("{:09}", n.abs());
                    out.push('.');
                    out.push_str(digits.trim_end_matches('0'));
                }
                out.push('S');
            }
        }
        if out.len() == 1 {
            out.push_str("T0S");
        }
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(items: &[(&str, Num)]) -> String {
        Duration::from_units(items).expect("valid").to_string()
    }

    #[test]
    fn prints_like_neo4j() {
        use Num::Int;
        assert_eq!(Duration::ZERO.to_string(), "PT0S");
        assert_eq!(
            units(&[("seconds", Int(-2)), ("milliseconds", Int(1))]),
            "PT-1.999S"
        );
        assert_eq!(
            units(&[("seconds", Int(-60)), ("milliseconds", Int(-1))]),
            "PT-1M-0.001S"
        );
        assert_eq!(
            units(&[("days", Int(1)), ("milliseconds", Int(-1))]),
            "P1DT-0.001S"
        );
        assert_eq!(
            units(&[("minutes", Int(12)), ("seconds", Int(-60))]),
            "PT11M"
        );
        assert_eq!(
            units(&[
                ("years", Int(12)),
                ("months", Int(5)),
                ("days", Int(-14)),
                ("hours", Int(16))
            ]),
            "P12Y5M-14DT16H"
        );
    }

    #[test]
    fn fractions_spill_into_smaller_units() {
        use Num::{Float, Int};
        assert_eq!(units(&[("months", Float(0.75))]), "P22DT19H51M49.5S");
        assert_eq!(units(&[("weeks", Float(2.5))]), "P17DT12H");
        assert_eq!(
            units(&[("minutes", Float(1.5)), ("seconds", Int(1))]),
            "PT1M31S"
        );
        let d = Duration::from_units(&[
            ("years", Int(12)),
            ("months", Int(5)),
            ("days", Int(14)),
            ("hours", Int(16)),
            ("minutes", Int(12)),
            ("seconds", Int(70)),
            ("nanoseconds", Int(1)),
        ])
        .expect("valid");
        assert_eq!(
            d.div(2.0).map(|d| d.to_string()),
            Ok("P6Y2M22DT13H21M8S".into())
        );
        assert_eq!(d.mul_float(0.5), d.div(2.0));
        assert_eq!(
            d.mul_int(2).map(|d| d.to_string()),
            Ok("P24Y10M28DT32H26M20.000000002S".into())
        );
    }

    #[test]
    fn parses_every_form_and_round_trips() {
        let p = |s: &str| Duration::parse(s).map(|d| d.to_string());
        assert_eq!(p("P5M1.5D"), Ok("P5M1DT12H".into()));
        assert_eq!(p("PT0.75M"), Ok("PT45S".into()));
        assert_eq!(
            p("P2012-02-02T14:37:21.545"),
            Ok("P2012Y2M2DT14H37M21.545S".into())
        );
        assert_eq!(p("-P1D"), Ok("P-1D".into()));
        for s in [
            "PT-1.999S",
            "PT-1M-0.001S",
            "P1DT-0.001S",
            "PT-0.4S",
            "P-6M-15DT-17H-45M-3.500000002S",
        ] {
            assert_eq!(p(s), Ok(s.to_string()));
        }
        for bad in [
            "P",
            "PT",
            "P1S",
            "PT1D",
            "1D",
            "P1.D",
            "P1Y2Y",
            "PT1.0000000001S",
            "",
        ] {
            assert!(Duration::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overflow_is_an_error() {
        let big = Duration::new(i64::MAX, 0, 0, 0).expect("fits");
        assert_eq!(
            big.plus(&big).unwrap_err().kind,
            TemporalErrorKind::Overflow
        );
        assert!(Duration::from_units(&[("years", Num::Float(1e30))]).is_err());
        assert_eq!(
            big.div(0.0).unwrap_err().kind,
            TemporalErrorKind::DivisionByZero
        );
    }
}
