//! `/loader`: Neptune's bulk loader API over [`nereid_loader::Loader`].
//!
//! | request | operation | IAM action |
//! |---|---|---|
//! | `POST /loader` (JSON as boto3 sends it, or a form) | StartLoaderJob | `StartLoaderJob` |
//! | `GET /loader/{loadId}`, `GET /loader?loadId=` (`details`, `errors`, `page`, `errorsPerPage`) | GetLoaderJobStatus | `GetLoaderJobStatus` |
//! | `GET /loader` (`limit` 1..100, default 100; `includeQueuedLoads`, default true) | ListLoaderJobs | `ListLoaderJobs` |
//! | `DELETE /loader/{loadId}`, `DELETE /loader?loadId=` | CancelLoaderJob | `CancelLoaderJob` |
//!
//! Booleans may be JSON booleans or the strings `TRUE`/`FALSE` (any case). `region` is the
//! region S3 requests are signed for (local sources ignore it); `updateSingleCardinalityProperties`
//! `edgeOnlyLoad` and `parallelism` (`LOW`: one thread; see `nereid_loader::Parallelism`) go
//! to the job (see `nereid_loader::job`). `iamRoleArn` and `parserConfiguration` are accepted
//! and ignored: there is no role to assume, and the parser options are RDF ones.

use nereid_common::{Error, ErrorCode};
use nereid_loader::{Loader, Mode, Parallelism, StartRequest};

use crate::request::{Field, Fields};

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidParameter, message)
}

fn missing(name: &str) -> Error {
    Error::new(
        ErrorCode::MissingParameter,
        format!("Missing required parameters: [{name}]"),
    )
}

/// The start request's fields.
pub fn start_request(fields: &Fields) -> Result<StartRequest, Error> {
    let source = fields.text("source")?.ok_or_else(|| missing("source"))?;
    let format = fields.text("format")?.ok_or_else(|| missing("format"))?;
    let mode = match fields.text("mode")? {
        None => Mode::Auto,
        Some(m) => Mode::parse(&m).ok_or_else(|| {
            invalid(format!(
                "Parameter 'mode' must be RESUME, NEW or AUTO, not '{m}'"
            ))
        })?,
    };
    let parallelism = match fields.text("parallelism")? {
        None => Parallelism::default(),
        Some(p) => Parallelism::parse(&p).ok_or_else(|| {
            invalid(format!(
                "Parameter 'parallelism' must be LOW, MEDIUM, HIGH or OVERSUBSCRIBE, not '{p}'"
            ))
        })?,
    };
    Ok(StartRequest {
        parallelism,
        source,
        format,
        mode,
        fail_on_error: fields.boolean("failOnError")?.unwrap_or(true),
        queue_request: fields.boolean("queueRequest")?.unwrap_or(false),
        dependencies: dependencies(fields)?,
        user_provided_edge_ids: fields.boolean("userProvidedEdgeIds")?,
        region: fields.text("region")?.filter(|r| !r.trim().is_empty()),
        update_single_cardinality_properties: fields
            .boolean("updateSingleCardinalityProperties")?
            .unwrap_or(false),
        edge_only_load: fields.boolean("edgeOnlyLoad")?.unwrap_or(false),
    })
}

/// `dependencies`: a JSON list, or form values (repeated, a JSON list, or comma-separated).
fn dependencies(fields: &Fields) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    let bad = || invalid("Parameter 'dependencies' must be a list of load ids");
    for field in fields.all("dependencies") {
        match field {
            Field::Json(serde_json::Value::Array(items)) => {
                for item in items {
                    out.push(item.as_str().ok_or_else(bad)?.to_string());
                }
            }
            Field::Json(serde_json::Value::String(s)) | Field::Text(s) => {
                let s = s.trim();
                if s.starts_with('[') {
                    let items: Vec<String> = serde_json::from_str(s).map_err(|_| bad())?;
                    out.extend(items);
                } else {
                    out.extend(
                        s.split(',')
                            .map(str::trim)
                            .filter(|d| !d.is_empty())
                            .map(str::to_string),
                    );
                }
            }
            Field::Json(serde_json::Value::Null) => {}
            Field::Json(_) => return Err(bad()),
        }
    }
    if out.len() > 1 {
        // Neptune allows a single dependency today; more are accepted here.
        out.dedup();
    }
    Ok(out)
}

fn positive(fields: &Fields, name: &str, max: Option<u64>) -> Result<Option<u64>, Error> {
    let Some(text) = fields.text(name)? else {
        return Ok(None);
    };
    let n: u64 = text.trim().parse().map_err(|_| {
        invalid(format!(
            "Parameter '{name}' must be a positive integer, not '{text}'"
        ))
    })?;
    if n == 0 || max.is_some_and(|m| n > m) {
        return Err(invalid(match max {
            Some(m) => format!("Parameter '{name}' must be between 1 and {m}, not {n}"),
            None => format!("Parameter '{name}' must be at least 1, not {n}"),
        }));
    }
    Ok(Some(n))
}

/// The status response.
pub fn status(loader: &Loader, load_id: &str, fields: &Fields) -> Result<serde_json::Value, Error> {
    let details = fields.boolean("details")?.unwrap_or(false);
    let errors = fields.boolean("errors")?.unwrap_or(false);
    let page = positive(fields, "page", None)?.unwrap_or(1);
    let per_page = positive(fields, "errorsPerPage", None)?.unwrap_or(10);
    let payload = loader.status(load_id, details, errors, page, per_page)?;
    Ok(serde_json::json!({"status": "200 OK", "payload": payload}))
}

/// The list response.
pub fn list(loader: &Loader, fields: &Fields) -> Result<serde_json::Value, Error> {
    let limit = positive(fields, "limit", Some(100))?.unwrap_or(100);
    let include_queued = fields.boolean("includeQueuedLoads")?.unwrap_or(true);
    let ids = loader.list(limit as usize, include_queued);
    Ok(serde_json::json!({"status": "200 OK", "payload": {"loadIds": ids}}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{fields, BodyKind};

    fn json(body: &str) -> Fields {
        fields(None, Some(BodyKind::Json), body.as_bytes()).unwrap()
    }

    fn form(body: &str) -> Fields {
        fields(None, Some(BodyKind::Form), body.as_bytes()).unwrap()
    }

    #[test]
    fn boto3_json_and_documented_form_give_the_same_request() {
        // boto3 sends JSON booleans and a list; Neptune's documentation shows strings.
        let a = start_request(&json(
            r#"{"source":"/d","format":"opencypher","region":"us-east-1","iamRoleArn":"arn:x",
               "mode":"NEW","failOnError":false,"queueRequest":true,"dependencies":["j1"],
               "userProvidedEdgeIds":true,"parallelism":"HIGH"}"#,
        ))
        .unwrap();
        let b = start_request(&form(
            "source=/d&format=opencypher&mode=new&failOnError=FALSE&queueRequest=TRUE\
             &dependencies=%5B%22j1%22%5D&userProvidedEdgeIds=True",
        ))
        .unwrap();
        for r in [&a, &b] {
            assert_eq!(r.source, "/d");
            assert_eq!(r.mode, Mode::New);
            assert!(!r.fail_on_error && r.queue_request);
            assert_eq!(r.dependencies, ["j1"]);
            assert_eq!(r.user_provided_edge_ids, Some(true));
        }
        assert_eq!(a.region.as_deref(), Some("us-east-1"));
        let c = start_request(&form(
            "source=/d&format=csv&updateSingleCardinalityProperties=TRUE&edgeOnlyLoad=true&region=eu-west-1",
        ))
        .unwrap();
        assert!(c.update_single_cardinality_properties && c.edge_only_load);
        assert_eq!(c.region.as_deref(), Some("eu-west-1"));
        assert_eq!(a.parallelism, Parallelism::High);
        let low = start_request(&form("source=/d&format=csv&parallelism=low")).unwrap();
        assert_eq!(low.parallelism, Parallelism::Low);
        assert!(!low.parallelism.pipelined() && a.parallelism.pipelined());
    }

    #[test]
    fn defaults_follow_neptune() {
        let r = start_request(&json(r#"{"source":"/d","format":"csv"}"#)).unwrap();
        assert_eq!(r.mode, Mode::Auto);
        assert!(r.fail_on_error, "failOnError defaults to TRUE");
        assert!(!r.queue_request, "queueRequest defaults to FALSE");
        assert!(r.dependencies.is_empty());
        assert_eq!(r.user_provided_edge_ids, None);
        assert!(!r.update_single_cardinality_properties && !r.edge_only_load);
        assert_eq!(r.region, None);
        assert_eq!(
            r.parallelism,
            Parallelism::High,
            "the service model's default"
        );
    }

    #[test]
    fn bad_fields_are_named_in_the_error() {
        let e = start_request(&json(r#"{"format":"csv"}"#)).unwrap_err();
        assert_eq!(e.code, ErrorCode::MissingParameter);
        assert!(e.message.contains("source"), "{}", e.message);
        let e = start_request(&json(
            r#"{"source":"/d","format":"csv","mode":"SOMETIMES"}"#,
        ))
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParameter);
        assert!(e.message.contains("SOMETIMES"), "{}", e.message);
        let e = start_request(&json(
            r#"{"source":"/d","format":"csv","parallelism":"MAX"}"#,
        ))
        .unwrap_err();
        assert!(e.message.contains("parallelism"), "{}", e.message);
        let e = start_request(&json(
            r#"{"source":"/d","format":"csv","dependencies":[1]}"#,
        ))
        .unwrap_err();
        assert!(e.message.contains("dependencies"), "{}", e.message);
        let e = positive(&form("limit=101"), "limit", Some(100)).unwrap_err();
        assert!(e.message.contains("between 1 and 100"), "{}", e.message);
        assert!(positive(&form("page=0"), "page", None).is_err());
        assert_eq!(positive(&form("page=3"), "page", None).unwrap(), Some(3));
    }
}
