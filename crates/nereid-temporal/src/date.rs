//! [`Date`]: a calendar date, stored as an epoch day, with the field adjusters that map
//! construction and selection use (`with_year`, `with_week`, …). Their rules follow Java's
//! `LocalDate` and `IsoFields`, which is what Neo4j's results (and so the TCK) reflect:
//! changing the year or month clamps the day to the month's length; changing the quarter
//! keeps the day of the month; changing the week keeps the day of the week.

use std::fmt;

use super::calendar::{self as cal, MAX_YEAR, MIN_YEAR};
use super::invalid;
use crate::error::{Result, TemporalError};

/// A date without time or zone. Ordered chronologically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    days: i64,
}

fn check_range(what: &str, value: i64, min: i64, max: i64) -> Result<i64> {
    if value < min || value > max {
        Err(invalid(format!(
            "invalid value for {what} (valid values {min} - {max}): {value}"
        )))
    } else {
        Ok(value)
    }
}

impl Date {
    /// The date `days` after 1970-01-01.
    pub fn from_epoch_days(days: i64) -> Result<Date> {
        if days < cal::min_days() || days > cal::max_days() {
            return Err(invalid(format!(
                "date out of range: epoch day {days} (years {MIN_YEAR} to {MAX_YEAR})"
            )));
        }
        Ok(Date { days })
    }

    pub fn from_ymd(year: i64, month: i64, day: i64) -> Result<Date> {
        check_range("Year", year, MIN_YEAR, MAX_YEAR)?;
        check_range("MonthOfYear", month, 1, 12)?;
        check_range("DayOfMonth", day, 1, 31)?;
        if day > cal::days_in_month(year, month) {
            return Err(invalid(format!(
                "invalid date: {year}-{month:02}-{day:02} does not exist"
            )));
        }
        Ok(Date {
            days: cal::days_from_civil(year, month, day),
        })
    }

    /// Day `ordinal` (1-based) of `year`.
    pub fn from_ordinal(year: i64, ordinal: i64) -> Result<Date> {
        Date::from_ymd(year, 1, 1)?.with_ordinal_day(ordinal)
    }

    /// Day `day_of_week` (Monday = 1) of ISO week `week` of `week_year`.
    pub fn from_week_date(week_year: i64, week: i64, day_of_week: i64) -> Result<Date> {
        check_range("WeekBasedYear", week_year, MIN_YEAR, MAX_YEAR)?;
        check_range(
            "WeekOfWeekBasedYear",
            week,
            1,
            cal::weeks_in_week_year(week_year),
        )?;
        check_range("DayOfWeek", day_of_week, 1, 7)?;
        Date::from_epoch_days(cal::week_year_start(week_year) + (week - 1) * 7 + day_of_week - 1)
    }

    /// Day `day_of_quarter` (1-based) of `quarter` of `year`.
    pub fn from_quarter_date(year: i64, quarter: i64, day_of_quarter: i64) -> Result<Date> {
        check_range("QuarterOfYear", quarter, 1, 4)?;
        Date::from_ymd(year, (quarter - 1) * 3 + 1, 1)?.with_day_of_quarter(day_of_quarter)
    }

    pub fn epoch_days(self) -> i64 {
        self.days
    }

    pub fn ymd(self) -> (i64, i64, i64) {
        cal::civil_from_days(self.days)
    }

    pub fn year(self) -> i64 {
        self.ymd().0
    }

    pub fn month(self) -> i64 {
        self.ymd().1
    }

    pub fn day(self) -> i64 {
        self.ymd().2
    }

    pub fn ordinal_day(self) -> i64 {
        self.days - cal::days_from_civil(self.year(), 1, 1) + 1
    }

    /// ISO day of week, Monday = 1.
    pub fn day_of_week(self) -> i64 {
        cal::weekday(self.days)
    }

    /// (week-based year, ISO week).
    pub fn iso_week(self) -> (i64, i64) {
        let (y, w, _) = cal::iso_week(self.days);
        (y, w)
    }

    pub fn quarter(self) -> i64 {
        cal::quarter_of_month(self.month())
    }

    pub fn day_of_quarter(self) -> i64 {
        let (y, m, _) = self.ymd();
        let first_month = (cal::quarter_of_month(m) - 1) * 3 + 1;
        self.days - cal::days_from_civil(y, first_month, 1) + 1
    }

    pub fn with_year(self, year: i64) -> Result<Date> {
        check_range("Year", year, MIN_YEAR, MAX_YEAR)?;
        let (_, m, d) = self.ymd();
        Date::from_ymd(year, m, d.min(cal::days_in_month(year, m)))
    }

    pub fn with_month(self, month: i64) -> Result<Date> {
        check_range("MonthOfYear", month, 1, 12)?;
        let (y, _, d) = self.ymd();
        Date::from_ymd(y, month, d.min(cal::days_in_month(y, month)))
    }

    pub fn with_day(self, day: i64) -> Result<Date> {
        let (y, m, _) = self.ymd();
        Date::from_ymd(y, m, day)
    }

    pub fn with_ordinal_day(self, ordinal: i64) -> Result<Date> {
        let y = self.year();
        check_range("DayOfYear", ordinal, 1, cal::days_in_year(y))?;
        Date::from_epoch_days(cal::days_from_civil(y, 1, 1) + ordinal - 1)
    }

    /// Moves to the same week and day of week in `week_year` (week 53 becomes 52 when the
    /// target year has only 52 weeks).
    pub fn with_week_year(self, week_year: i64) -> Result<Date> {
        check_range("WeekBasedYear", week_year, MIN_YEAR, MAX_YEAR)?;
        let (_, week, dow) = cal::iso_week(self.days);
        let week = week.min(cal::weeks_in_week_year(week_year));
        Date::from_epoch_days(cal::week_year_start(week_year) + (week - 1) * 7 + dow - 1)
    }

    pub fn with_week(self, week: i64) -> Result<Date> {
        let (wy, current, _) = cal::iso_week(self.days);
        check_range("WeekOfWeekBasedYear", week, 1, cal::weeks_in_week_year(wy))?;
        Date::from_epoch_days(self.days + (week - current) * 7)
    }

    pub fn with_day_of_week(self, dow: i64) -> Result<Date> {
        check_range("DayOfWeek", dow, 1, 7)?;
        Date::from_epoch_days(self.days + dow - self.day_of_week())
    }

    /// Moves to the same month of `quarter` (the day clamped to the month's length).
    pub fn with_quarter(self, quarter: i64) -> Result<Date> {
        check_range("QuarterOfYear", quarter, 1, 4)?;
        let m = self.month();
        self.with_month(m + (quarter - cal::quarter_of_month(m)) * 3)
    }

    pub fn with_day_of_quarter(self, day: i64) -> Result<Date> {
        let (y, m, _) = self.ymd();
        let q = cal::quarter_of_month(m);
        check_range("DayOfQuarter", day, 1, cal::days_in_quarter(y, q))?;
        Date::from_epoch_days(self.days - self.day_of_quarter() + day)
    }

    /// Adds months, clamping the day to the target month's length (Java's `plusMonths`).
    pub fn plus_months(self, months: i64) -> Result<Date> {
        if months == 0 {
            return Ok(self);
        }
        let (y, m, d) = self.ymd();
        let total = (y as i128) * 12 + (m as i128 - 1) + months as i128;
        let year = total.div_euclid(12);
        if year < MIN_YEAR as i128 || year > MAX_YEAR as i128 {
            return Err(out_of_range());
        }
        let year = year as i64;
        let month = total.rem_euclid(12) as i64 + 1;
        Date::from_ymd(year, month, d.min(cal::days_in_month(year, month)))
    }

    pub fn plus_days(self, days: i64) -> Result<Date> {
        let d = self.days.checked_add(days).ok_or_else(out_of_range)?;
        Date::from_epoch_days(d)
    }
}

fn out_of_range() -> TemporalError {
    invalid("date out of range")
}

/// `YYYY-MM-DD`; years beyond four digits get a sign (`+12345-01-01`), as in ISO 8601 and
/// Java.
impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        fmt_year(y, f)?;
        write!(f, "-{m:02}-{d:02}")
    }
}

pub(crate) fn fmt_year(y: i64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if y.abs() < 10_000 {
        if y < 0 {
            write!(f, "-{:04}", -y)
        } else {
            write!(f, "{y:04}")
        }
    } else if y > 0 {
        write!(f, "+{y}")
    } else {
        write!(f, "{y}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i64, m: i64, day: i64) -> Date {
        Date::from_ymd(y, m, day).expect("valid")
    }

    #[test]
    fn prints_like_iso_8601() {
        assert_eq!(d(28, 11, 11).to_string(), "0028-11-11");
        assert_eq!(d(-1, 1, 1).to_string(), "-0001-01-01");
        assert_eq!(d(999_999_999, 12, 31).to_string(), "+999999999-12-31");
        assert_eq!(d(-999_999_999, 1, 1).to_string(), "-999999999-01-01");
    }

    #[test]
    fn adjusters_follow_java_rules() {
        let x = d(1984, 11, 11);
        assert_eq!(
            x.with_week(1).map(|v| v.to_string()),
            Ok("1984-01-08".into())
        );
        assert_eq!(
            x.with_quarter(3).map(|v| v.to_string()),
            Ok("1984-08-11".into())
        );
        assert_eq!(
            x.with_ordinal_day(28).map(|v| v.to_string()),
            Ok("1984-01-28".into())
        );
        assert_eq!(d(2016, 2, 29).with_year(2017), Ok(d(2017, 2, 28)));
        assert_eq!(d(1984, 1, 31).plus_months(1), Ok(d(1984, 2, 29)));
        assert_eq!(d(1984, 3, 31).plus_months(-13), Ok(d(1983, 2, 28)));
        assert!(d(1984, 2, 1).with_day(30).is_err());
        assert!(Date::from_week_date(1817, 53, 1).is_err());
        assert_eq!(Date::from_week_date(1818, 53, 1), Ok(d(1818, 12, 28)));
        assert_eq!(Date::from_quarter_date(1984, 3, 45), Ok(d(1984, 8, 14)));
        assert!(Date::from_quarter_date(1984, 1, 92).is_err());
    }

    #[test]
    fn accessors() {
        let x = d(1984, 10, 11);
        assert_eq!(
            (
                x.quarter(),
                x.iso_week(),
                x.ordinal_day(),
                x.day_of_week(),
                x.day_of_quarter()
            ),
            (4, (1984, 41), 285, 4, 11)
        );
        assert_eq!(d(1984, 1, 1).iso_week(), (1983, 52));
    }

    #[test]
    fn range_is_enforced() {
        assert!(d(999_999_999, 12, 31).plus_days(1).is_err());
        assert!(d(-999_999_999, 1, 1).plus_months(-1).is_err());
        assert!(Date::from_ymd(1_000_000_000, 1, 1).is_err());
    }
}
