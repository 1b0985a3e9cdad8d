//! `GET /propertygraph/stream` and its alias `/pg/stream` (GetPropertygraphStream, Neptune
//! Streams; also the deprecated `/gremlin/stream`, which graph-notebook's stream viewer
//! reads): request parameters, Neptune's `PG_JSON` records, gzip.
//!
//! ```text
//! ?limit=1..100000 (10) &iteratorType=AT_SEQUENCE_NUMBER (default) | AFTER_SEQUENCE_NUMBER
//!  | TRIM_HORIZON | LATEST &commitNum= (AT/AFTER: required) &opNum= (1)
//!     ─► nereid_storage::Streams::read (blocking pool) ─► records JSON (≤ ~10 MB)
//! ```
//!
//! Answer: `{"lastEventId": {"commitNum", "opNum"}, "lastTrxTimestamp", "format": "PG_JSON",
//! "records": [{"commitTimestamp", "eventId", "data": {"id", "type", "key", "value":
//! {"value", "dataType"}, "from"?, "to"?}, "op", "isLastOp"?}], "totalRecords"}` — event ids
//! as JSON numbers, timestamps in epoch milliseconds, `isLastOp: true` only on a
//! transaction's last record. Errors: streams off → `UnsupportedOperationException`; bad
//! parameters → `InvalidParameterException`; nothing at or after the position → 404
//! `StreamRecordsNotFoundException`; expired → `ExpiredStreamException`.
//!
//! `Accept-Encoding: gzip` gets a gzip body, as from Neptune, except for botocore, which
//! asks for it (`encoding="gzip"`) but cannot decode it (SPEC 1.2).

use std::io::Write;

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use nereid_common::{Error, ErrorCode};
use nereid_storage::{ChangeRecord, EventId, StreamPage, StreamStart, Streams};
use nereid_temporal::Kind;
use nereid_value::Value;
use serde_json::{json, Map, Value as Json};

use crate::request::Fields;
use crate::response::json_response;

/// Neptune's default `limit`.
pub const DEFAULT_LIMIT: u64 = 10;
/// Neptune's largest `limit`.
pub const MAX_LIMIT: u64 = 100_000;
/// Neptune's response cap: the record that crosses it is still included.
pub const MAX_RESPONSE_BYTES: usize = 10 * 1024 * 1024;

const PARAMETERS: [&str; 4] = ["limit", "iteratorType", "commitNum", "opNum"];

/// A parsed GetPropertygraphStream request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamRequest {
    pub start: StreamStart,
    pub limit: usize,
}

fn invalid(msg: String) -> Error {
    Error::new(ErrorCode::InvalidParameter, msg)
}

fn number(fields: &Fields, name: &str, min: u64, max: u64) -> Result<Option<u64>, Error> {
    let Some(text) = fields.text(name)? else {
        return Ok(None);
    };
    match text.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ if max == u64::MAX => Err(invalid(format!(
            "Invalid value for parameter '{name}': '{text}' (expected a whole number of at \
             least {min})"
        ))),
        _ => Err(invalid(format!(
            "Invalid value for parameter '{name}': '{text}' (expected a whole number from \
             {min} to {max})"
        ))),
    }
}

/// Parses the query string of a stream request.
pub fn stream_request(fields: &Fields) -> Result<StreamRequest, Error> {
    let unknown: Vec<&str> = fields.names().filter(|n| !PARAMETERS.contains(n)).collect();
    if !unknown.is_empty() {
        return Err(invalid(format!(
            "Request contains unknown parameters: '{}'",
            unknown.join("', '")
        )));
    }
    let limit = number(fields, "limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
    // Checked even where they are ignored (TRIM_HORIZON, LATEST): a malformed number is a
    // mistake either way.
    let commit = number(fields, "commitNum", 0, u64::MAX)?;
    let op = number(fields, "opNum", 0, u64::MAX)?.unwrap_or(1);
    let iterator = fields.text("iteratorType")?;
    let at = |after: bool| -> Result<StreamStart, Error> {
        let name = if after {
            "AFTER_SEQUENCE_NUMBER"
        } else {
            "AT_SEQUENCE_NUMBER"
        };
        let commit_num = commit.ok_or_else(|| {
            invalid(format!(
                "Parameter 'commitNum' is required when iteratorType is {name}"
            ))
        })?;
        let event = EventId {
            commit_num,
            op_num: op,
        };
        Ok(if after {
            StreamStart::After(event)
        } else {
            StreamStart::At(event)
        })
    };
    let start = match iterator.as_deref() {
        None | Some("AT_SEQUENCE_NUMBER") => at(false)?,
        Some("AFTER_SEQUENCE_NUMBER") => at(true)?,
        Some("TRIM_HORIZON") => StreamStart::TrimHorizon,
        Some("LATEST") => StreamStart::Latest,
        Some(other) => {
            return Err(invalid(format!(
                "Invalid value for parameter 'iteratorType': '{other}' (expected \
                 AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON or LATEST)"
            )))
        }
    };
    Ok(StreamRequest {
        start,
        limit: limit as usize,
    })
}

/// Whether the client takes a gzip body: `gzip` listed in `Accept-Encoding` with a
/// non-zero weight, and not botocore (it sends the header for `encoding="gzip"` but
/// parses the raw bytes as text).
pub fn wants_gzip(headers: &HeaderMap) -> bool {
    let botocore = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        // boto3 ("… Botocore/1.x") and the AWS CLI v1 ("aws-cli/1.x … botocore/1.x").
        .is_some_and(|ua| ua.to_ascii_lowercase().contains("botocore/"));
    if botocore {
        return false;
    }
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let zero = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            name.eq_ignore_ascii_case("gzip") && !zero
        })
}

fn event_json(e: EventId) -> Json {
    json!({"commitNum": e.commit_num, "opNum": e.op_num})
}

/// `{"value", "dataType"}` of a record: Neptune's type names (`String`, `Long`, `Double`,
/// `Boolean`, `Date`); other temporal kinds by their Cypher name, a nested list as `List`.
fn typed_value(v: &Value) -> Json {
    let (value, data_type) = match v {
        Value::Bool(b) => (json!(b), "Boolean"),
        Value::Int(i) => (json!(i), "Long"),
        Value::Float(x) => (plain(v).unwrap_or_else(|| json!(x.to_string())), "Double"),
        Value::String(s) => (json!(s), "String"),
        Value::Temporal(t) => {
            let name = match t.kind() {
                Kind::Date | Kind::DateTime => "Date",
                k => k.type_name(),
            };
            (json!(t.to_string()), name)
        }
        Value::List(_) => (plain(v).unwrap_or(Json::Null), "List"),
        other => (json!(other.to_string()), "String"),
    };
    json!({"value": value, "dataType": data_type})
}

/// A stored value as plain JSON (non-finite floats as strings, as in query results).
fn plain(v: &Value) -> Option<Json> {
    Some(match v {
        Value::Null => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!(i),
        Value::Float(x) if x.is_nan() => json!("NaN"),
        Value::Float(x) if x.is_infinite() => {
            json!(if *x > 0.0 { "Infinity" } else { "-Infinity" })
        }
        Value::Float(x) => json!(x),
        Value::String(s) => json!(s),
        Value::Temporal(t) => json!(t.to_string()),
        Value::List(items) => Json::Array(items.iter().map(plain).collect::<Option<_>>()?),
        _ => return None,
    })
}

fn record_json(r: &ChangeRecord) -> Json {
    let mut data = Map::new();
    data.insert("id".into(), json!(r.id));
    data.insert("type".into(), json!(r.kind.code()));
    data.insert("key".into(), json!(r.key));
    data.insert("value".into(), typed_value(&r.value));
    if let Some(from) = &r.from {
        data.insert("from".into(), json!(from));
    }
    if let Some(to) = &r.to {
        data.insert("to".into(), json!(to));
    }
    let mut rec = Map::new();
    rec.insert("commitTimestamp".into(), json!(r.commit_timestamp_ms));
    rec.insert("eventId".into(), event_json(r.event));
    rec.insert("data".into(), Json::Object(data));
    rec.insert("op".into(), json!(r.op.as_str()));
    if r.is_last_op {
        rec.insert("isLastOp".into(), json!(true));
    }
    Json::Object(rec)
}

/// The GetPropertygraphStream body.
pub fn page_json(page: &StreamPage, format: &str) -> Json {
    json!({
        "lastEventId": event_json(page.last_event),
        "lastTrxTimestamp": page.last_commit_timestamp_ms,
        "format": format,
        "records": page.records.iter().map(record_json).collect::<Vec<_>>(),
        "totalRecords": page.records.len(),
    })
}

/// Answers a stream request: reads (off the reactor: it touches files), renders, and
/// compresses when the client takes gzip.
pub async fn answer(
    streams: Option<&Streams>,
    headers: &HeaderMap,
    fields: &Fields,
    format: &'static str,
    request_id: &str,
) -> Result<Response, Error> {
    let streams = streams.cloned().ok_or_else(|| {
        Error::new(
            ErrorCode::UnsupportedOperation,
            "Streams are not enabled on this server (Neptune's neptune_streams parameter): \
             start nereid with --streams",
        )
    })?;
    let request = stream_request(fields)?;
    let gzip = wants_gzip(headers);
    let body = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, Error> {
        let page = streams.read(request.start, request.limit, MAX_RESPONSE_BYTES)?;
        let body = serde_json::to_vec(&page_json(&page, format))
            .map_err(|e| Error::internal(format!("cannot serialise the stream page: {e}")))?;
        if !gzip {
            return Ok(body);
        }
        let mut z = flate2::write::GzEncoder::new(
            Vec::with_capacity(body.len() / 4),
            flate2::Compression::fast(),
        );
        z.write_all(&body)
            .and_then(|_| z.finish())
            .map_err(|e| Error::internal(format!("cannot compress the stream page: {e}")))
    })
    .await
    .map_err(|e| Error::internal(format!("the stream read failed: {e}")))??;
    let mut response = json_response(body, request_id);
    let h = response.headers_mut();
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nereid_storage::{ChangeKind, ChangeOp};

    fn fields(q: &str) -> Fields {
        crate::request::fields(Some(q), None, b"").unwrap()
    }

    fn parse(q: &str) -> Result<StreamRequest, Error> {
        stream_request(&fields(q))
    }

    fn at(c: u64, o: u64) -> EventId {
        EventId {
            commit_num: c,
            op_num: o,
        }
    }

    #[test]
    fn parameters_default_as_neptune_documents_them() {
        assert_eq!(
            parse("commitNum=5").unwrap(),
            StreamRequest {
                start: StreamStart::At(at(5, 1)),
                limit: 10
            }
        );
        assert_eq!(
            parse("iteratorType=AFTER_SEQUENCE_NUMBER&commitNum=5&opNum=3&limit=100000").unwrap(),
            StreamRequest {
                start: StreamStart::After(at(5, 3)),
                limit: 100_000
            }
        );
        assert_eq!(
            parse("iteratorType=TRIM_HORIZON").unwrap().start,
            StreamStart::TrimHorizon
        );
        // neptune-python-utils sends commitNum/opNum with TRIM_HORIZON: ignored.
        assert_eq!(
            parse("iteratorType=TRIM_HORIZON&commitNum=1&opNum=1&limit=1").unwrap(),
            StreamRequest {
                start: StreamStart::TrimHorizon,
                limit: 1
            }
        );
        assert_eq!(
            parse("iteratorType=LATEST").unwrap().start,
            StreamStart::Latest
        );
    }

    #[test]
    fn bad_parameters_are_invalid_parameter_errors_naming_the_problem() {
        for (q, needle) in [
            ("limit=0&commitNum=1", "'limit': '0'"),
            ("limit=100001&commitNum=1", "from 1 to 100000"),
            ("limit=ten&commitNum=1", "'limit': 'ten'"),
            ("commitNum=-1", "'commitNum': '-1'"),
            ("commitNum=1&opNum=x", "'opNum'"),
            ("", "required when iteratorType is AT_SEQUENCE_NUMBER"),
            (
                "iteratorType=AFTER_SEQUENCE_NUMBER",
                "required when iteratorType is AFTER",
            ),
            ("iteratorType=FIRST", "'iteratorType': 'FIRST'"),
            ("iteratorType=trim_horizon", "expected AT_SEQUENCE_NUMBER"),
            ("iteratorType=LATEST&since=3", "unknown parameters: 'since'"),
        ] {
            let e = parse(q).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidParameter, "{q}");
            assert!(e.message.contains(needle), "{q}: {}", e.message);
        }
    }

    #[test]
    fn gzip_when_asked_except_for_botocore() {
        let mut h = HeaderMap::new();
        assert!(!wants_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate"),
        );
        assert!(wants_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br;q=1, GZIP;q=0.5"),
        );
        assert!(wants_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0"),
        );
        assert!(!wants_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        assert!(!wants_gzip(&h));
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        h.insert(
            header::USER_AGENT,
            HeaderValue::from_static("Boto3/1.44.5 md/Botocore#1.44.5 ua/2.1 Botocore/1.44.5"),
        );
        assert!(!wants_gzip(&h));
        h.insert(
            header::USER_AGENT,
            HeaderValue::from_static("aws-cli/1.46.3 Python/3.11.7 Linux botocore/1.44.5"),
        );
        assert!(!wants_gzip(&h));
        h.insert(
            header::USER_AGENT,
            HeaderValue::from_static("python-requests/2.32.2"),
        );
        assert!(wants_gzip(&h));
    }

    #[test]
    fn records_have_neptunes_shape() {
        let rec = |kind, op, key: &str, value, ends: Option<(&str, &str)>, last| ChangeRecord {
            event: at(3, 2),
            commit_timestamp_ms: 1_700_000_000_123,
            is_last_op: last,
            op,
            kind,
            id: "n1".into(),
            key: key.into(),
            value,
            from: ends.map(|e| e.0.to_string()),
            to: ends.map(|e| e.1.to_string()),
        };
        let page = StreamPage {
            records: vec![
                rec(
                    ChangeKind::NodeLabel,
                    ChangeOp::Add,
                    "label",
                    Value::String("Person".into()),
                    None,
                    false,
                ),
                rec(
                    ChangeKind::NodeProperty,
                    ChangeOp::Remove,
                    "age",
                    Value::Int(7),
                    None,
                    false,
                ),
                rec(
                    ChangeKind::Relationship,
                    ChangeOp::Add,
                    "label",
                    Value::String("KNOWS".into()),
                    Some(("a", "b")),
                    false,
                ),
                rec(
                    ChangeKind::RelationshipProperty,
                    ChangeOp::Add,
                    "w",
                    Value::Float(f64::NAN),
                    None,
                    true,
                ),
            ],
            last_event: at(3, 2),
            last_commit_timestamp_ms: 1_700_000_000_123,
        };
        let j = page_json(&page, "PG_JSON");
        assert_eq!(j["lastEventId"], json!({"commitNum": 3, "opNum": 2}));
        assert_eq!(j["lastTrxTimestamp"], json!(1_700_000_000_123i64));
        assert_eq!(j["format"], "PG_JSON");
        assert_eq!(j["totalRecords"], 4);
        let r = &j["records"];
        assert_eq!(
            r[0],
            json!({"commitTimestamp": 1_700_000_000_123i64, "eventId": {"commitNum": 3, "opNum": 2},
                   "data": {"id": "n1", "type": "vl", "key": "label",
                            "value": {"value": "Person", "dataType": "String"}},
                   "op": "ADD"})
        );
        assert_eq!(r[1]["op"], "REMOVE");
        assert_eq!(
            r[1]["data"]["value"],
            json!({"value": 7, "dataType": "Long"})
        );
        assert_eq!(r[2]["data"]["from"], "a");
        assert_eq!(r[2]["data"]["to"], "b");
        assert_eq!(r[2]["data"]["type"], "e");
        assert_eq!(
            r[3]["data"]["value"],
            json!({"value": "NaN", "dataType": "Double"})
        );
        assert_eq!(r[3]["isLastOp"], true);
        assert!(r[0].get("isLastOp").is_none());
    }
}
