//! The property-graph summary and statistics routes (GetPropertygraphSummary,
//! Get/Manage/DeletePropertygraphStatistics), under `/propertygraph/…` and `/pg/…`:
//! request checks and Neptune's response shapes (SPEC 2, NEPTUNE-NOTES 3a/3b).
//!
//! Every answer is wrapped as `{"status": "200 OK", "payload": {…}}`; property counts are
//! lists of one-key maps; `nodeStructures`/`edgeStructures` appear only with
//! `mode=detailed`; dates are ISO 8601 with milliseconds and statistics ids are numbers
//! (epoch milliseconds of the computation, `-1` for none), as Neptune sends them.

use nereid_common::{Error, ErrorCode};
use nereid_engine::statistics::{StatisticsMode, StatisticsStatus, SummaryReport};
use serde_json::{json, Value};

use crate::engine_status::iso8601_millis;
use crate::request::{Field, Fields};

/// `mode` of GetPropertygraphSummary: `true` for `detailed`.
pub fn summary_mode(fields: &Fields) -> Result<bool, Error> {
    let unknown: Vec<&str> = fields.names().filter(|n| *n != "mode").collect();
    if !unknown.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidParameter,
            format!(
                "Request contains unknown parameters: '{}'",
                unknown.join("', '")
            ),
        ));
    }
    match fields.text("mode")?.as_deref() {
        None | Some("basic") => Ok(false),
        Some("detailed") => Ok(true),
        Some(other) => Err(Error::new(
            ErrorCode::InvalidParameter,
            format!("URI query parameter 'mode' has unsupported value '{other}'"),
        )),
    }
}

fn counts(items: &[(String, u64)]) -> Value {
    Value::Array(items.iter().map(|(k, c)| json!({ k: c })).collect())
}

/// The GetPropertygraphSummary body.
pub fn summary_json(report: &SummaryReport, detailed: bool) -> Value {
    let s = &report.summary;
    let mut graph = json!({
        "numNodes": s.num_nodes,
        "numEdges": s.num_edges,
        "numNodeLabels": s.node_labels.len(),
        "numEdgeLabels": s.edge_labels.len(),
        "nodeLabels": s.node_labels.iter().map(|l| &l.0).collect::<Vec<_>>(),
        "edgeLabels": s.edge_labels.iter().map(|l| &l.0).collect::<Vec<_>>(),
        "numNodeProperties": s.node_properties.len(),
        "numEdgeProperties": s.edge_properties.len(),
        "nodeProperties": counts(&s.node_properties),
        "edgeProperties": counts(&s.edge_properties),
        "totalNodePropertyValues": s.total_node_property_values(),
        "totalEdgePropertyValues": s.total_edge_property_values(),
    });
    if detailed {
        graph["nodeStructures"] = s
            .node_structures
            .iter()
            .map(|n| {
                json!({
                    "count": n.count,
                    "nodeProperties": n.node_properties,
                    "distinctOutgoingEdgeLabels": n.distinct_outgoing_edge_labels,
                })
            })
            .collect();
        graph["edgeStructures"] = s
            .edge_structures
            .iter()
            .map(|e| json!({"count": e.count, "edgeProperties": e.edge_properties}))
            .collect();
    }
    json!({
        "status": "200 OK",
        "payload": {
            "version": "v1",
            "lastStatisticsComputationTime": iso8601_millis(report.computed_at),
            "graphSummary": graph,
        },
    })
}

/// The GetPropertygraphStatistics body.
pub fn statistics_json(status: &StatisticsStatus) -> Value {
    let mut payload = json!({
        "autoCompute": status.auto_compute,
        "active": status.active,
        "statisticsId": status.statistics_id.unwrap_or(-1),
    });
    if let Some(date) = status.date {
        payload["date"] = json!(iso8601_millis(date));
    }
    if let Some(info) = status.signature_info {
        payload["signatureInfo"] = json!({
            "signatureCount": info.signature_count,
            "instanceCount": info.instance_count,
            "predicateCount": info.predicate_count,
        });
    }
    json!({"status": "200 OK", "payload": payload})
}

/// The `mode` of ManagePropertygraphStatistics (JSON body, form or query string).
pub fn manage_mode(fields: &Fields) -> Result<StatisticsMode, Error> {
    let mode = match fields.get("mode") {
        None | Some(Field::Json(Value::Null)) => {
            return Err(Error::new(
                ErrorCode::MissingParameter,
                "Missing required parameters: [mode]",
            ))
        }
        Some(_) => fields.text("mode")?.unwrap_or_default(),
    };
    StatisticsMode::parse(&mode)
}

/// The ManagePropertygraphStatistics answer: `refresh` carries the new statistics id.
pub fn manage_json(statistics_id: Option<i64>) -> Value {
    match statistics_id {
        Some(id) => json!({"status": "200 OK", "payload": {"statisticsId": id}}),
        None => json!({"status": "200 OK"}),
    }
}

/// What DeletePropertygraphStatistics answers when it deleted statistics (with nothing to
/// delete it is 204 with an empty body).
pub fn deleted_json() -> Value {
    json!({"status": "200 OK", "payload": {"active": false, "statisticsId": -1}})
}
