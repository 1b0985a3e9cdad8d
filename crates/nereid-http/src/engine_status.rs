//! `GET /status` (GetEngineStatus): the Neptune shape, with nereid's facts.
//!
//! `dbEngineVersion` is the Neptune engine release whose API nereid follows, in the
//! `<a>.<b>.<c>.<d>.<suffix>` form tools such as graph-notebook parse (they enable
//! `USING QUERY:` hints and the Bolt IAM path from 1.2/1.3 on); nereid's own version is
//! reported beside it as `nereidVersion`, and the openCypher dialect served (`neptune` or
//! `opencypher`, see `--dialect`) as `dialect`: members SDKs ignore.
//!
//! The engine version is 1.4.1.0: the first release with everything the Neptune dialect
//! serves (the `coll*` and `textIndexOf` functions; `USING QUERY:` hints are from 1.3.2.0,
//! the summary API from 1.2.1.0, custom `~id` from 1.2.0.2).

use std::time::{SystemTime, UNIX_EPOCH};

/// The Neptune engine release whose data-plane API nereid implements.
pub const NEPTUNE_ENGINE_VERSION: &str = "1.4.1.0.R1";
/// The openCypher dialect Neptune reports.
pub const OPENCYPHER_VERSION: &str = "Neptune-9.0.20190305-1.0";

/// The GetEngineStatus body.
pub fn engine_status(
    started: SystemTime,
    query_timeout_ms: u64,
    dialect: Option<&str>,
) -> serde_json::Value {
    serde_json::json!({
        "status": "healthy",
        "startTime": java_date(started),
        "dbEngineVersion": NEPTUNE_ENGINE_VERSION,
        "nereidVersion": env!("CARGO_PKG_VERSION"),
        "dialect": dialect,
        "role": "writer",
        "dfeQueryEngine": "viaQueryHint",
        "opencypher": {"version": OPENCYPHER_VERSION},
        "labMode": {},
        "features": {},
        "settings": {"clusterQueryTimeoutInMs": query_timeout_ms.to_string()},
    })
}

/// Formats a time as Java's `Date.toString()` in UTC, which is what Neptune's `startTime`
/// is: `Wed Nov 04 23:24:44 UTC 2020`.
pub fn java_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        WEEKDAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        day,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        year
    )
}

/// Formats a time as ISO 8601 in UTC with milliseconds, as Neptune's statistics dates are
/// (`2023-01-24T00:47:43.319Z`; botocore parses it as a timestamp).
pub fn iso8601_millis(t: SystemTime) -> String {
    let ms = t
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

/// Days since 1970-01-01 → (year, month 1-12, day 1-31), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn start_time_reads_like_neptune() {
        let t = UNIX_EPOCH + Duration::from_secs(1_604_532_284);
        assert_eq!(java_date(t), "Wed Nov 04 23:24:44 UTC 2020");
        assert_eq!(java_date(UNIX_EPOCH), "Thu Jan 01 00:00:00 UTC 1970");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(java_date(leap), "Tue Feb 29 00:00:00 UTC 2000");
    }

    #[test]
    fn statistics_dates_are_iso_with_milliseconds() {
        let t = UNIX_EPOCH + Duration::from_millis(1_674_521_263_319);
        assert_eq!(iso8601_millis(t), "2023-01-24T00:47:43.319Z");
        assert_eq!(iso8601_millis(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn engine_version_has_five_dotted_parts() {
        let parts: Vec<&str> = NEPTUNE_ENGINE_VERSION.split('.').collect();
        assert_eq!(parts.len(), 5);
        assert!(parts[..4].iter().all(|p| p.parse::<u32>().is_ok()));
    }
}
