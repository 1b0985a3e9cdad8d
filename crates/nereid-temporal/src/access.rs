//! Component accessors: `d.year`, `t.offsetSeconds`, `dt.epochMillis`, `dur.monthsOfYear`, ….
//! Names match without regard to case. Duration components follow Neo4j: `years`,
//! `months`, `days`, `hours`, `minutes`, `seconds`, … are the whole duration in that unit
//! within its group (months, days, or seconds), while `monthsOfYear`, `minutesOfHour`,
//! `nanosecondsOfSecond`, … are the remainders.

use super::calendar::NANOS_PER_SECOND;
use super::duration::Duration;
use super::{invalid, Temporal};
use crate::error::{Result, TemporalError};

/// The value of one component: an integer, or text for `timezone` and `offset`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Component {
    Int(i64),
    String(String),
}

/// The value of component `name` of `t`; an error when the type has no such component.
pub fn property(t: &Temporal, name: &str) -> Result<Component> {
    let key = name.to_ascii_lowercase();
    if let Temporal::Duration(d) = t {
        return duration_component(d, &key)
            .map(Component::Int)
            .ok_or_else(|| no_such(t, name));
    }
    if let Some(d) = t.date_part() {
        let (y, m, day) = d.ymd();
        let v = match key.as_str() {
            "year" => Some(y),
            "quarter" => Some(d.quarter()),
            "month" => Some(m),
            "week" => Some(d.iso_week().1),
            "weekyear" => Some(d.iso_week().0),
            "dayofquarter" | "quarterday" => Some(d.day_of_quarter()),
            "day" => Some(day),
            "ordinalday" => Some(d.ordinal_day()),
            "dayofweek" | "weekday" => Some(d.day_of_week()),
            _ => None,
        };
        if let Some(v) = v {
            return Ok(Component::Int(v));
        }
    }
    if let Some(time) = t.local_time_part() {
        let n = time.nanosecond();
        let v = match key.as_str() {
            "hour" => Some(time.hour()),
            "minute" => Some(time.minute()),
            "second" => Some(time.second()),
            "millisecond" => Some(n / 1_000_000),
            "microsecond" => Some(n / 1_000),
            "nanosecond" => Some(n),
            _ => None,
        };
        if let Some(v) = v {
            return Ok(Component::Int(v));
        }
    }
    if let Some(offset) = t.offset() {
        match key.as_str() {
            "timezone" => {
                return Ok(Component::String(match t {
                    Temporal::DateTime(dt) => dt.zone_id(),
                    _ => offset.to_string(),
                }))
            }
            "offset" => return Ok(Component::String(offset.to_string())),
            "offsetminutes" => return Ok(Component::Int(i64::from(offset.seconds() / 60))),
            "offsetseconds" => return Ok(Component::Int(offset.seconds().into())),
            _ => {}
        }
    }
    if let Temporal::DateTime(dt) = t {
        match key.as_str() {
            "epochseconds" => return Ok(Component::Int(dt.epoch_seconds())),
            "epochmillis" => {
                let ms = dt.epoch_nanos().div_euclid(1_000_000);
                return i64::try_from(ms)
                    .map(Component::Int)
                    .map_err(|_| invalid("epochMillis out of range"));
            }
            _ => {}
        }
    }
    Err(no_such(t, name))
}

fn no_such(t: &Temporal, name: &str) -> TemporalError {
    invalid(format!("a {} has no component '{name}'", t.type_name()))
}

fn duration_component(d: &Duration, key: &str) -> Option<i64> {
    let (months, days, seconds, nanos) = (d.months(), d.days(), d.seconds(), d.nanos());
    let sub = |unit: i64| -> Option<i64> {
        seconds
            .checked_mul(NANOS_PER_SECOND / unit)
            .and_then(|s| s.checked_add(nanos / unit))
    };
    Some(match key {
        "years" => months / 12,
        "quarters" => months / 3,
        "months" => months,
        "weeks" => days / 7,
        "days" => days,
        "hours" => seconds / 3600,
        "minutes" => seconds / 60,
        "seconds" => seconds,
        "milliseconds" => sub(1_000_000)?,
        "microseconds" => sub(1_000)?,
        "nanoseconds" => sub(1)?,
        "quartersofyear" => months % 12 / 3,
        "monthsofquarter" => months % 3,
        "monthsofyear" => months % 12,
        "daysofweek" => days % 7,
        "minutesofhour" => seconds / 60 % 60,
        "secondsofminute" => seconds % 60,
        "millisecondsofsecond" => nanos / 1_000_000,
        "microsecondsofsecond" => nanos / 1_000,
        "nanosecondsofsecond" => nanos,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;
    use crate::Kind;

    fn get(kind: Kind, text: &str, names: &[&str]) -> Vec<Component> {
        let t = parse(kind, text).expect("parses");
        names.iter().map(|n| property(&t, n).expect(n)).collect()
    }

    #[test]
    fn date_time_components() {
        let v = get(
            Kind::DateTime,
            "1984-11-11T12:31:14.645876123[Europe/Stockholm]",
            &[
                "year",
                "quarter",
                "week",
                "weekYear",
                "ordinalDay",
                "weekDay",
                "dayOfQuarter",
                "millisecond",
                "timezone",
                "offset",
                "offsetMinutes",
                "epochSeconds",
                "epochMillis",
            ],
        );
        let want: Vec<Component> = vec![
            Component::Int(1984),
            Component::Int(4),
            Component::Int(45),
            Component::Int(1984),
            Component::Int(316),
            Component::Int(7),
            Component::Int(42),
            Component::Int(645),
            Component::String("Europe/Stockholm".into()),
            Component::String("+01:00".into()),
            Component::Int(60),
            Component::Int(469_020_674),
            Component::Int(469_020_674_645),
        ];
        assert_eq!(v, want);
        let t = parse(Kind::Time, "12:00+01:00").expect("ok");
        assert_eq!(
            property(&t, "timezone"),
            Ok(Component::String("+01:00".into()))
        );
        assert!(property(&t, "year").is_err());
        let d = parse(Kind::Date, "1984-10-11").expect("ok");
        assert!(property(&d, "hour").is_err());
    }

    #[test]
    fn duration_components() {
        let d = Temporal::Duration(Duration::new(16, 10, 3661, 111_111_111).expect("ok"));
        let names = [
            "years",
            "quarters",
            "months",
            "weeks",
            "days",
            "hours",
            "minutes",
            "seconds",
            "milliseconds",
            "nanoseconds",
            "quartersOfYear",
            "monthsOfQuarter",
            "monthsOfYear",
            "daysOfWeek",
            "minutesOfHour",
            "secondsOfMinute",
            "microsecondsOfSecond",
        ];
        let got: Vec<i64> = names
            .iter()
            .map(|n| match property(&d, n) {
                Ok(Component::Int(i)) => i,
                other => panic!("{n}: {other:?}"),
            })
            .collect();
        assert_eq!(
            got,
            [
                1,
                5,
                16,
                1,
                10,
                1,
                61,
                3661,
                3_661_111,
                3_661_111_111_111,
                1,
                1,
                4,
                3,
                1,
                1,
                111_111
            ]
        );
        let neg = Temporal::Duration(Duration::new(0, 0, -86_400, 100_000_000).expect("ok"));
        assert_eq!(property(&neg, "seconds"), Ok(Component::Int(-86_400)));
        assert_eq!(
            property(&neg, "nanosecondsOfSecond"),
            Ok(Component::Int(100_000_000))
        );
    }
}
