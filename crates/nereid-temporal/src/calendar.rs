//! Proleptic Gregorian calendar arithmetic on epoch days (day 0 = 1970-01-01), over the
//! whole range Cypher allows: years −999,999,999 to +999,999,999, as in Neo4j (Java's
//! `LocalDate`). jiff's civil types stop at ±9,999, which the TCK exceeds (`duration.between`
//! of `-999999999-01-01` and `+999999999-12-31`), so the conversions between epoch days and
//! year/month/day live here; jiff supplies the time-zone rules (see [`super::zone`]).
//!
//! The year/month/day conversions are Howard Hinnant's `days_from_civil` /
//! `civil_from_days`; every other calendar notion (ISO weeks, quarters, ordinal days) is
//! derived from them. A differential test checks them against jiff over jiff's range.

/// Smallest and largest supported year.
pub const MIN_YEAR: i64 = -999_999_999;
pub const MAX_YEAR: i64 = 999_999_999;

/// Days in a 400-year Gregorian cycle (the calendar repeats exactly, weekdays included).
pub const DAYS_PER_400_YEARS: i64 = 146_097;

pub const NANOS_PER_SECOND: i64 = 1_000_000_000;
pub const SECONDS_PER_DAY: i64 = 86_400;
pub const NANOS_PER_DAY: i64 = SECONDS_PER_DAY * NANOS_PER_SECOND;

pub fn is_leap(year: i64) -> bool {
    year.rem_euclid(4) == 0 && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0)
}

pub fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if is_leap(year) {
                29
            } else {
                28
            }
        }
    }
}

pub fn days_in_year(year: i64) -> i64 {
    if is_leap(year) {
        366
    } else {
        365
    }
}

/// Epoch day of a valid (year, month, day).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * DAYS_PER_400_YEARS + doe - 719_468
}

/// (year, month, day) of an epoch day.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(DAYS_PER_400_YEARS);
    let doe = z - era * DAYS_PER_400_YEARS;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// ISO day of week, Monday = 1 … Sunday = 7.
pub fn weekday(days: i64) -> i64 {
    (days + 3).rem_euclid(7) + 1
}

/// Epoch day of the Monday that starts ISO week 1 of `week_year`.
pub fn week_year_start(week_year: i64) -> i64 {
    let jan4 = days_from_civil(week_year, 1, 4);
    jan4 - (weekday(jan4) - 1)
}

/// Number of ISO weeks (52 or 53) in `week_year`.
pub fn weeks_in_week_year(week_year: i64) -> i64 {
    (week_year_start(week_year + 1) - week_year_start(week_year)) / 7
}

/// (week-based year, week of that year, day of week) of an epoch day.
pub fn iso_week(days: i64) -> (i64, i64, i64) {
    let dow = weekday(days);
    // The week belongs to the year that holds its Thursday.
    let thursday = days - (dow - 1) + 3;
    let (week_year, _, _) = civil_from_days(thursday);
    let week = (thursday - days_from_civil(week_year, 1, 1)) / 7 + 1;
    (week_year, week, dow)
}

/// Quarter (1–4) of a month.
pub fn quarter_of_month(month: i64) -> i64 {
    (month - 1) / 3 + 1
}

/// Days in `quarter` of `year`.
pub fn days_in_quarter(year: i64, quarter: i64) -> i64 {
    let first = (quarter - 1) * 3 + 1;
    (first..first + 3).map(|m| days_in_month(year, m)).sum()
}

/// Epoch days of the first and last supported dates.
pub fn min_days() -> i64 {
    days_from_civil(MIN_YEAR, 1, 1)
}

pub fn max_days() -> i64 {
    days_from_civil(MAX_YEAR, 12, 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips_across_the_whole_range() {
        for days in (min_days()..=max_days()).step_by(7_777_777) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(min_days()), (MIN_YEAR, 1, 1));
        assert_eq!(civil_from_days(max_days()), (MAX_YEAR, 12, 31));
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn agrees_with_jiff_over_jiffs_range() {
        let mut days = days_from_civil(-9999, 1, 1);
        let end = days_from_civil(9999, 12, 31);
        while days <= end {
            let (y, m, d) = civil_from_days(days);
            let j = jiff::civil::Date::new(y as i16, m as i8, d as i8).expect("valid date");
            assert_eq!(
                i64::from(j.day_of_year()),
                days - days_from_civil(y, 1, 1) + 1
            );
            assert_eq!(
                i64::from(j.weekday().to_monday_one_offset()),
                weekday(days),
                "{y}-{m}-{d}"
            );
            let w = j.iso_week_date();
            assert_eq!(
                (i64::from(w.year()), i64::from(w.week())),
                {
                    let (wy, wk, _) = iso_week(days);
                    (wy, wk)
                },
                "{y}-{m}-{d}"
            );
            days += 997;
        }
    }

    #[test]
    fn iso_weeks_at_year_boundaries() {
        // 1984-01-01 is a Sunday in week 52 of 1983.
        assert_eq!(iso_week(days_from_civil(1984, 1, 1)), (1983, 52, 7));
        assert_eq!(iso_week(days_from_civil(1816, 12, 30)), (1817, 1, 1));
        assert_eq!(weeks_in_week_year(1818), 53);
        assert_eq!(weeks_in_week_year(1817), 52);
        assert_eq!(civil_from_days(week_year_start(1819)), (1819, 1, 4));
    }
}
