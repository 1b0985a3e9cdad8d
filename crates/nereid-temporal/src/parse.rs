//! ISO 8601 text to temporal values, in the forms Cypher accepts.
//!
//! Dates: `2015-07-21`, `20150721`, `2015-07`, `201507`, week dates `2015-W30-2`,
//! `2015W302`, `2015-W30`, `2015W30`, quarter dates `2015-Q3-21`, `2015Q321`, `2015-Q3`,
//! ordinal dates `2015-202`, `2015202`, a bare year `2015`, and signed years of up to nine
//! digits in the extended forms (`-999999999-01-01`, `+12345-06`).
//! Times: `21:40:32.142`, `214032.142`, `21:40:32`, `214032`, `21:40`, `2140`, `21`, the
//! fraction after `.` or `,` with up to nine digits.
//! Offsets: `Z`, `+01:00`, `+0100`, `+01`, `+02:05:59`; zone names in brackets after the
//! offset (or instead of it): `2015-07-21T21:40:32.142+02:00[Europe/Stockholm]`.
//! Date-times are a date, then optionally `T` and a time. Values without an offset get the
//! default zone, UTC.

use super::date::Date;
use super::datetime::{DateTime, LocalDateTime};
use super::duration::Duration;
use super::time::{LocalTime, Time};
use super::zone::{Offset, Zone};
use super::{invalid, Kind, Temporal};
use crate::error::Result;

/// Parses `text` as a value of `kind`.
pub fn parse(kind: Kind, text: &str) -> Result<Temporal> {
    let fail = || {
        invalid(format!(
            "text cannot be parsed to a {}: '{text}'",
            kind.type_name()
        ))
    };
    if kind == Kind::Duration {
        return Duration::parse(text).map(Temporal::Duration);
    }
    let mut c = Cursor {
        s: text.as_bytes(),
        pos: 0,
    };
    let value = match kind {
        Kind::Date => Temporal::Date(c.date()?.ok_or_else(fail)?),
        Kind::LocalTime => Temporal::LocalTime(c.time()?.ok_or_else(fail)?),
        Kind::Time => {
            let time = c.time()?.ok_or_else(fail)?;
            let offset = c.offset()?.unwrap_or(Offset::UTC);
            Temporal::Time(Time::new(time, offset))
        }
        Kind::LocalDateTime | Kind::DateTime => {
            let date = c.date()?.ok_or_else(fail)?;
            let time = if c.eat(b'T') || c.eat(b't') {
                c.time()?.ok_or_else(fail)?
            } else {
                LocalTime::MIDNIGHT
            };
            let local = LocalDateTime::new(date, time);
            if kind == Kind::LocalDateTime {
                Temporal::LocalDateTime(local)
            } else {
                let offset = c.offset()?;
                let zone = match c.bracketed() {
                    Some(name) => Zone::named(name.ok_or_else(fail)?)?,
                    None => Zone::Fixed(offset.unwrap_or(Offset::UTC)),
                };
                Temporal::DateTime(DateTime::from_local(local, &zone, offset)?)
            }
        }
        Kind::Duration => return Err(fail()),
    };
    if c.pos != c.s.len() {
        return Err(fail());
    }
    Ok(value)
}

struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Number of consecutive ASCII digits from the cursor.
    fn digit_run(&self) -> usize {
        self.s[self.pos..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    }

    /// Exactly `n` digits as a number.
    fn digits(&mut self, n: usize) -> Option<i64> {
        if self.digit_run() < n {
            return None;
        }
        let v = self.s[self.pos..self.pos + n]
            .iter()
            .fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0'));
        self.pos += n;
        Some(v)
    }

    /// Between `min` and `max` digits, greedily.
    fn digits_between(&mut self, min: usize, max: usize) -> Option<i64> {
        let n = self.digit_run().min(max);
        if n < min {
            return None;
        }
        self.digits(n)
    }

    /// A date; `Ok(None)` when the text is not one, `Err` when it names an invalid date.
    fn date(&mut self) -> Result<Option<Date>> {
        let sign = match self.peek() {
            Some(b'+') => Some(1),
            Some(b'-') => Some(-1),
            _ => None,
        };
        let year = match sign {
            Some(sign) => {
                self.pos += 1;
                match self.digits_between(1, 9) {
                    Some(y) => sign * y,
                    None => return Ok(None),
                }
            }
            None => match self.digits(4) {
                Some(y) => y,
                None => return Ok(None),
            },
        };
        if self.at_date_end() {
            return Date::from_ymd(year, 1, 1).map(Some);
        }
        let extended = self.eat(b'-');
        if !extended && sign.is_some() && self.peek().is_some_and(|b| b.is_ascii_digit()) {
            // Basic format after a signed, variable-length year is ambiguous.
            return Ok(None);
        }
        if self.eat(b'W') {
            let Some(week) = self.digits(2) else {
                return Ok(None);
            };
            let dow = if extended {
                if self.eat(b'-') {
                    match self.digits(1) {
                        Some(d) => d,
                        None => return Ok(None),
                    }
                } else {
                    1
                }
            } else {
                self.digits(1).unwrap_or(1)
            };
            return Date::from_week_date(year, week, dow).map(Some);
        }
        if self.eat(b'Q') {
            let Some(quarter) = self.digits(1) else {
                return Ok(None);
            };
            let day = if extended {
                if self.eat(b'-') {
                    match self.digits_between(1, 2) {
                        Some(d) => d,
                        None => return Ok(None),
                    }
                } else {
                    1
                }
            } else if self.digit_run() >= 2 {
                self.digits(2).unwrap_or(1)
            } else {
                1
            };
            return Date::from_quarter_date(year, quarter, day).map(Some);
        }
        let run = self.digit_run();
        if run == 3 {
            let Some(ordinal) = self.digits(3) else {
                return Ok(None);
            };
            return Date::from_ordinal(year, ordinal).map(Some);
        }
        if extended {
            if !(1..=2).contains(&run) {
                return Ok(None);
            }
            let Some(month) = self.digits(run) else {
                return Ok(None);
            };
            let day = if self.eat(b'-') {
                match self.digits_between(1, 2) {
                    Some(d) => d,
                    None => return Ok(None),
                }
            } else {
                1
            };
            return Date::from_ymd(year, month, day).map(Some);
        }
        match run {
            2 | 4 => {
                let month = self.digits(2).unwrap_or(0);
                let day = if run == 4 {
                    self.digits(2).unwrap_or(0)
                } else {
                    1
                };
                Date::from_ymd(year, month, day).map(Some)
            }
            _ => Ok(None),
        }
    }

    fn at_date_end(&self) -> bool {
        matches!(self.peek(), None | Some(b'T') | Some(b't'))
    }

    /// A time of day; `Ok(None)` when the text is not one.
    fn time(&mut self) -> Result<Option<LocalTime>> {
        let Some(hour) = self.digits(2) else {
            return Ok(None);
        };
        let (mut minute, mut second, mut nanos) = (0, 0, 0);
        if self.eat(b':') {
            let Some(m) = self.digits(2) else {
                return Ok(None);
            };
            minute = m;
            if self.eat(b':') {
                let Some(s) = self.digits(2) else {
                    return Ok(None);
                };
                second = s;
                match self.fraction() {
                    Some(n) => nanos = n,
                    None => return Ok(None),
                }
            }
        } else if self.digit_run() >= 2 {
            minute = self.digits(2).unwrap_or(0);
            if self.digit_run() >= 2 {
                second = self.digits(2).unwrap_or(0);
                match self.fraction() {
                    Some(n) => nanos = n,
                    None => return Ok(None),
                }
            }
        }
        LocalTime::new(hour, minute, second, nanos).map(Some)
    }

    /// An optional `.f` / `,f` fraction of up to nine digits, as nanoseconds; `None` when
    /// malformed, `Some(0)` when absent.
    fn fraction(&mut self) -> Option<i64> {
        if !(self.eat(b'.') || self.eat(b',')) {
            return Some(0);
        }
        let n = self.digit_run();
        if n == 0 || n > 9 {
            return None;
        }
        let v = self.digits(n)?;
        Some(v * 10i64.pow(9 - n as u32))
    }

    /// An optional offset (`Z`, `±hh[[:]mm[[:]ss]]`).
    fn offset(&mut self) -> Result<Option<Offset>> {
        let start = self.pos;
        match self.peek() {
            Some(b'Z') | Some(b'z') => {
                self.pos += 1;
                Ok(Some(Offset::UTC))
            }
            Some(b'+') | Some(b'-') => {
                self.pos += 1;
                while self.peek().is_some_and(|b| b.is_ascii_digit() || b == b':') {
                    self.pos += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.pos])
                    .map_err(|_| invalid("invalid time zone offset"))?;
                match Offset::parse(text) {
                    Some(r) => r.map(Some),
                    None => Err(invalid(format!("invalid time zone offset '{text}'"))),
                }
            }
            _ => Ok(None),
        }
    }

    /// `[Zone/Name]`: `None` when absent, `Some(None)` when malformed.
    fn bracketed(&mut self) -> Option<Option<&'a str>> {
        if !self.eat(b'[') {
            return None;
        }
        let rest = &self.s[self.pos..];
        let Some(end) = rest.iter().position(|&b| b == b']') else {
            return Some(None);
        };
        let name = std::str::from_utf8(&rest[..end]).ok();
        self.pos += end + 1;
        Some(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(kind: Kind, s: &str) -> String {
        match parse(kind, s) {
            Ok(v) => v.to_string(),
            Err(e) => format!("error: {}", e.message),
        }
    }

    #[test]
    fn dates_in_every_form() {
        for (s, want) in [
            ("2015-07-21", "2015-07-21"),
            ("20150721", "2015-07-21"),
            ("2015-07", "2015-07-01"),
            ("201507", "2015-07-01"),
            ("2015-W30-2", "2015-07-21"),
            ("2015W302", "2015-07-21"),
            ("2015-W30", "2015-07-20"),
            ("2015W30", "2015-07-20"),
            ("2015-202", "2015-07-21"),
            ("2015202", "2015-07-21"),
            ("2015", "2015-01-01"),
            ("2015-Q3-21", "2015-07-21"),
            ("2015Q321", "2015-07-21"),
            ("2015-Q3", "2015-07-01"),
            ("-999999999-01-01", "-999999999-01-01"),
            ("+999999999-12-31", "+999999999-12-31"),
        ] {
            assert_eq!(p(Kind::Date, s), want, "{s}");
        }
        for bad in [
            "2015-13-01",
            "2015-02-30",
            "15-07-21",
            "2015-07-21T",
            "2015/07/21",
            "",
            "2015-W54",
        ] {
            assert!(p(Kind::Date, bad).starts_with("error"), "{bad}");
        }
    }

    #[test]
    fn times_and_offsets() {
        assert_eq!(p(Kind::LocalTime, "214032.142"), "21:40:32.142");
        assert_eq!(p(Kind::LocalTime, "21"), "21:00");
        assert_eq!(p(Kind::Time, "21:40:32.142+0100"), "21:40:32.142+01:00");
        assert_eq!(p(Kind::Time, "2140-00:00"), "21:40Z");
        assert_eq!(p(Kind::Time, "2140-02"), "21:40-02:00");
        assert_eq!(p(Kind::Time, "22+18:00"), "22:00+18:00");
        assert_eq!(p(Kind::Time, "14:30"), "14:30Z");
        assert!(p(Kind::LocalTime, "12:00+01:00").starts_with("error"));
        assert!(p(Kind::Time, "25:00").starts_with("error"));
        assert!(p(Kind::Time, "12:00:00.1234567891").starts_with("error"));
    }

    #[test]
    fn date_times_with_zones() {
        assert_eq!(
            p(Kind::DateTime, "2015-07-21T21:40:32.142[Europe/London]"),
            "2015-07-21T21:40:32.142+01:00[Europe/London]"
        );
        assert_eq!(
            p(Kind::DateTime, "1818-07-21T21:40:32.142[Europe/Stockholm]"),
            "1818-07-21T21:40:32.142+00:53:28[Europe/Stockholm]"
        );
        assert_eq!(
            p(
                Kind::DateTime,
                "2015-07-21T21:40:32.142+0845[Australia/Eucla]"
            ),
            "2015-07-21T21:40:32.142+08:45[Australia/Eucla]"
        );
        assert_eq!(
            p(Kind::DateTime, "2015-W30T2140-02"),
            "2015-07-20T21:40-02:00"
        );
        assert_eq!(p(Kind::LocalDateTime, "2015T214032"), "2015-01-01T21:40:32");
        assert_eq!(
            p(Kind::LocalDateTime, "-999999999-01-01"),
            "-999999999-01-01T00:00"
        );
        assert!(p(Kind::DateTime, "2015-07-21T21:40[Nowhere/City]").starts_with("error"));
        assert!(p(Kind::DateTime, "2015-07-21T21:40[Europe/London").starts_with("error"));
    }
}
