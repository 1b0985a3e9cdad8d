//! Response bodies: query results in Neptune's JSON (SPEC 4.2) and the error envelope every
//! failure uses (SPEC 3.1/3.3).
//!
//! Result encoding:
//! * null, booleans, integers, strings, lists and maps are native JSON;
//! * finite floats are JSON numbers; **NaN and ±Infinity, which JSON cannot express as
//!   numbers, are the strings `"NaN"`, `"Infinity"` and `"-Infinity"`** so that every client
//!   (not only Python's lenient parser) can read the response;
//! * a node is `{"~id","~entityType":"node","~labels","~properties"}`, a relationship
//!   `{"~id","~entityType":"relationship","~start","~end","~type","~properties"}`, ids always
//!   strings; a path is the flat array `[node, rel, node, …]`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use nereid_common::{Error, ErrorCode};
use nereid_engine::QueryResult;
use nereid_value::Value;
use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// Serialises a query result as `{"results": [ {column: value, …}, … ]}`.
pub fn results_json(result: &QueryResult) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(&Results(result))
        .map_err(|e| Error::internal(format!("cannot serialise the result: {e}")))
}

struct Results<'a>(&'a QueryResult);

impl Serialize for Results<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry("results", &Rows(self.0))?;
        map.end()
    }
}

struct Rows<'a>(&'a QueryResult);

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let result = self.0;
        let mut seq = s.serialize_seq(Some(result.rows.len()))?;
        for row in &result.rows {
            seq.serialize_element(&Row { result, row })?;
        }
        seq.end()
    }
}

struct Row<'a> {
    result: &'a QueryResult,
    row: &'a [Value],
}

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.row.len() != self.result.columns.len() {
            return Err(S::Error::custom(format!(
                "row has {} values for {} columns",
                self.row.len(),
                self.result.columns.len()
            )));
        }
        let mut map = s.serialize_map(Some(self.row.len()))?;
        for (column, value) in self.result.columns.iter().zip(self.row) {
            map.serialize_entry(
                column,
                &Json {
                    result: self.result,
                    value,
                },
            )?;
        }
        map.end()
    }
}

/// A value together with the result that resolves its node and relationship ids.
struct Json<'a> {
    result: &'a QueryResult,
    value: &'a Value,
}

impl<'a> Json<'a> {
    fn of(&self, value: &'a Value) -> Json<'a> {
        Json {
            result: self.result,
            value,
        }
    }
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.value {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(x) if x.is_nan() => s.serialize_str("NaN"),
            Value::Float(x) if x.is_infinite() => {
                s.serialize_str(if *x > 0.0 { "Infinity" } else { "-Infinity" })
            }
            Value::Float(x) => s.serialize_f64(*x),
            Value::String(text) => s.serialize_str(text),
            Value::List(items) => s.collect_seq(items.iter().map(|v| self.of(v))),
            Value::Map(map) => s.collect_map(map.iter().map(|(k, v)| (k, self.of(v)))),
            Value::Node(id) => {
                let node = self.result.node(*id).ok_or_else(|| {
                    S::Error::custom(format!("node {} is not in the result", id.0))
                })?;
                let mut map = s.serialize_map(Some(4))?;
                map.serialize_entry("~id", &node.id)?;
                map.serialize_entry("~entityType", "node")?;
                map.serialize_entry("~labels", &node.labels)?;
                map.serialize_entry("~properties", &Properties(self, &node.properties))?;
                map.end()
            }
            Value::Relationship(id) => {
                let rel = self.result.rel(*id).ok_or_else(|| {
                    S::Error::custom(format!("relationship {} is not in the result", id.0))
                })?;
                let mut map = s.serialize_map(Some(6))?;
                map.serialize_entry("~id", &rel.id)?;
                map.serialize_entry("~entityType", "relationship")?;
                map.serialize_entry("~start", &rel.start_id)?;
                map.serialize_entry("~end", &rel.end_id)?;
                map.serialize_entry("~type", &rel.rel_type)?;
                map.serialize_entry("~properties", &Properties(self, &rel.properties))?;
                map.end()
            }
            Value::Path(path) => {
                if path.nodes.len() != path.rels.len() + 1 {
                    return Err(S::Error::custom("malformed path"));
                }
                let mut seq = s.serialize_seq(Some(path.nodes.len() + path.rels.len()))?;
                for (i, node) in path.nodes.iter().enumerate() {
                    if i > 0 {
                        let rel = Value::Relationship(path.rels[i - 1]);
                        seq.serialize_element(&self.of(&rel))?;
                    }
                    seq.serialize_element(&self.of(&Value::Node(*node)))?;
                }
                seq.end()
            }
            // Neptune has no temporal JSON type: ISO 8601 text, as `toString` gives.
            Value::Temporal(t) => s.serialize_str(&t.to_string()),
        }
    }
}

struct Properties<'a, 'b>(&'b Json<'a>, &'a nereid_value::Map);

impl Serialize for Properties<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.1.iter().map(|(k, v)| (k, self.0.of(v))))
    }
}

/// A 200 response with a JSON body.
pub fn json_response(body: Vec<u8>, request_id: &str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", id);
    }
    response
}

/// A 200 response serialising `value`.
pub fn json_value_response(value: &serde_json::Value, request_id: &str) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => json_response(body, request_id),
        Err(e) => error_response(&Error::internal(e.to_string()), request_id),
    }
}

/// The error envelope: HTTP status and exception name from the error table, the name in
/// `x-amzn-ErrorType` (what botocore reads first) and in `code`, the message in both
/// `detailedMessage` (Neptune's member) and `message` (what botocore shows in `str(e)`).
pub fn error_response(error: &Error, request_id: &str) -> Response {
    let info = error.info();
    let status =
        StatusCode::from_u16(info.http_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = error.to_string();
    if error.code == ErrorCode::InternalFailure || error.code == ErrorCode::StorageFailure {
        tracing::error!(request_id, code = info.neptune, "{message}");
    } else {
        tracing::debug!(request_id, code = info.neptune, "{message}");
    }
    let body = serde_json::json!({
        "requestId": request_id,
        "code": info.neptune,
        "detailedMessage": message,
        "message": message,
    });
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("x-amzn-ErrorType", HeaderValue::from_static(info.neptune));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", id);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use nereid_engine::{NodeData, RelData};
    use nereid_value::{Map, NodeId, Path, RelId};

    fn graph() -> QueryResult {
        let mut r = QueryResult::default();
        r.nodes.insert(
            NodeId(1),
            NodeData {
                id: "p1".into(),
                labels: vec!["Person".into()],
                properties: Map::from([("name".to_owned(), Value::from("Ada"))]),
            },
        );
        r.nodes.insert(
            NodeId(2),
            NodeData {
                id: "22".into(),
                labels: vec![],
                properties: Map::new(),
            },
        );
        r.rels.insert(
            RelId(5),
            RelData {
                id: "r1".into(),
                start: NodeId(1),
                end: NodeId(2),
                start_id: "p1".into(),
                end_id: "22".into(),
                rel_type: "KNOWS".into(),
                properties: Map::from([("since".to_owned(), Value::Int(1999))]),
            },
        );
        r
    }

    fn render(columns: &[&str], row: Vec<Value>) -> serde_json::Value {
        let mut r = graph();
        r.columns = columns.iter().map(|c| (*c).to_owned()).collect();
        r.rows = vec![row];
        serde_json::from_slice(&results_json(&r).unwrap()).unwrap()
    }

    #[test]
    fn scalars_lists_and_maps_are_native_json() {
        let json = render(
            &["one", "f", "s", "b", "z", "l", "m"],
            vec![
                Value::Int(1),
                Value::Float(2.5),
                Value::from("x"),
                Value::Bool(true),
                Value::Null,
                Value::List(vec![Value::Int(1), Value::Int(2)]),
                Value::Map(Map::from([("k".to_owned(), Value::Int(1))])),
            ],
        );
        assert_eq!(
            json,
            serde_json::json!({"results": [{"one": 1, "f": 2.5, "s": "x", "b": true, "z": null, "l": [1, 2], "m": {"k": 1}}]})
        );
    }

    #[test]
    fn temporal_values_are_iso_8601_strings() {
        use nereid_temporal::{parse::parse, Kind};
        let t = |k: Kind, s: &str| Value::from(parse(k, s).unwrap());
        let json = render(
            &["d", "dt", "dur", "l"],
            vec![
                t(Kind::Date, "2015-W30-2"),
                t(Kind::DateTime, "2015-07-21T21:40:32.142[Europe/London]"),
                t(Kind::Duration, "P14DT16H12M"),
                Value::List(vec![t(Kind::LocalTime, "2140")]),
            ],
        );
        assert_eq!(
            json["results"][0],
            serde_json::json!({
                "d": "2015-07-21",
                "dt": "2015-07-21T21:40:32.142+01:00[Europe/London]",
                "dur": "P14DT16H12M",
                "l": ["21:40"]
            })
        );
    }

    #[test]
    fn columns_keep_their_order() {
        let mut r = QueryResult {
            columns: vec!["b".into(), "a".into()],
            ..Default::default()
        };
        r.rows = vec![vec![Value::Int(1), Value::Int(2)]];
        let text = String::from_utf8(results_json(&r).unwrap()).unwrap();
        assert_eq!(text, r#"{"results":[{"b":1,"a":2}]}"#);
    }

    #[test]
    fn non_finite_floats_are_strings() {
        let json = render(
            &["a", "b", "c", "d"],
            vec![
                Value::Float(f64::NAN),
                Value::Float(f64::INFINITY),
                Value::Float(f64::NEG_INFINITY),
                Value::Float(1.0),
            ],
        );
        assert_eq!(
            json["results"][0],
            serde_json::json!({"a": "NaN", "b": "Infinity", "c": "-Infinity", "d": 1.0})
        );
    }

    #[test]
    fn nodes_relationships_and_paths_as_neptune_writes_them() {
        let path = Path {
            nodes: vec![NodeId(1), NodeId(2)],
            rels: vec![RelId(5)],
        };
        let json = render(
            &["n", "r", "p"],
            vec![
                Value::Node(NodeId(1)),
                Value::Relationship(RelId(5)),
                Value::from(path),
            ],
        );
        let node = serde_json::json!({"~id": "p1", "~entityType": "node", "~labels": ["Person"], "~properties": {"name": "Ada"}});
        let rel = serde_json::json!({"~id": "r1", "~entityType": "relationship", "~start": "p1", "~end": "22", "~type": "KNOWS", "~properties": {"since": 1999}});
        let other = serde_json::json!({"~id": "22", "~entityType": "node", "~labels": [], "~properties": {}});
        assert_eq!(
            json["results"][0],
            serde_json::json!({"n": node, "r": rel, "p": [node, rel, other]})
        );
    }

    #[test]
    fn dangling_ids_are_internal_failures_not_panics() {
        let r = QueryResult {
            columns: vec!["n".into()],
            rows: vec![vec![Value::Node(NodeId(99))]],
            ..Default::default()
        };
        assert_eq!(
            results_json(&r).unwrap_err().code,
            ErrorCode::InternalFailure
        );
    }

    #[test]
    fn error_envelope() {
        let err = Error::compile(ErrorCode::VariableAlreadyBound, "`n` already declared");
        let response = error_response(&err, "req-1");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response.headers()["x-amzn-ErrorType"],
            "MalformedQueryException"
        );
        assert_eq!(response.headers()["x-amzn-RequestId"], "req-1");
    }
}
