//! The Bolt backend: [`nereid_bolt::session::Backend`] over the engine's [`QueryManager`].
//!
//! Every auto-commit RUN goes through the manager exactly as an HTTP query does: it gets a
//! query id (a UUID), is queued, timed out (`--query-timeout-ms`, `USING QUERY:` hints), listed
//! by `GET /openCypher/status` and cancellable there (the driver then sees
//! `Neo.ClientError.Transaction.Terminated`), and `--read-only` refuses writes the same way.
//! A RUN in a read session (`mode: "r"`) that could write fails with
//! `Neo.ClientError.Statement.AccessMode` before it is queued. A client that disconnects while
//! its query runs has the query cancelled.
//!
//! Results are materialised: the whole [`QueryResult`] exists (charged to the query's memory
//! budget) before RUN is answered; it is converted to Bolt values on the worker thread and PULL
//! hands it out in batches.
//!
//! Values: a node's `element_id` is its Neptune `~id` (what `id(n)` returns over HTTP), its
//! integer `id` the store's internal node number; likewise for relationships. Byte arrays have
//! no nereid counterpart and are refused as parameters.
//!
//! With `--auth iam`, HELLO/LOGON basic-auth credentials must be the SigV4 JSON document
//! (`nereid_sigv4::verify_bolt_credentials`); the verified principal's policy authorizes each
//! query's actions as over HTTP.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use nereid_bolt::handshake::Version;
use nereid_bolt::message::Auth;
use nereid_bolt::packstream::Value as Bolt;
use nereid_bolt::session::{codes, Backend, BoltError, BoxFuture, QueryOutcome, RunRequest};
use nereid_bolt::values;
use nereid_common::{Error, ErrorCode};
use nereid_engine::manager::{Completion, Protocol, QueryManager, QueryRunner};
use nereid_engine::QueryResult;
use nereid_sigv4::{Action, IamConfig, Principal, RequestContext};
use nereid_temporal::{
    Date, DateTime, Duration, LocalDateTime, LocalTime, Offset, Temporal, Time, Zone,
};
use nereid_value::{Map, NodeId, RelId, Value};
use tokio::sync::oneshot;

/// Neo4j's code for a write attempted in a read session.
pub const ACCESS_MODE: &str = "Neo.ClientError.Statement.AccessMode";

/// The Bolt backend over a query manager.
pub struct BoltBackend<R: QueryRunner> {
    manager: Arc<QueryManager<R>>,
    iam: Option<Arc<IamConfig>>,
    query_memory_limit: usize,
    /// Longest query text accepted (as `HttpConfig::max_query_bytes`).
    max_query_bytes: usize,
    /// Whether connections arrive over TLS (`aws:SecureTransport` in IAM policies).
    secure_transport: bool,
    /// Principals verified at HELLO/LOGON, by name, for per-query authorization.
    principals: std::sync::Mutex<HashMap<String, Principal>>,
}

impl<R: QueryRunner> BoltBackend<R> {
    pub fn new(
        manager: Arc<QueryManager<R>>,
        iam: Option<Arc<IamConfig>>,
        query_memory_limit: usize,
        secure_transport: bool,
    ) -> Self {
        Self {
            manager,
            iam,
            query_memory_limit,
            secure_transport,
            max_query_bytes: crate::DEFAULT_MAX_QUERY_BYTES,
            principals: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Overrides the query-text limit ([`crate::DEFAULT_MAX_QUERY_BYTES`]).
    pub fn with_max_query_bytes(mut self, bytes: usize) -> Self {
        self.max_query_bytes = bytes;
        self
    }

    fn principal(&self, name: &str) -> Option<Principal> {
        self.principals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }
}

/// An engine error as a Bolt failure: the error table's Neo4j code, the HTTP message.
pub fn bolt_error(error: &Error) -> BoltError {
    BoltError::new(error.info().bolt, error.to_string())
}

impl<R: QueryRunner> Backend for BoltBackend<R> {
    fn authenticate(&self, auth: &Auth) -> Result<Option<String>, BoltError> {
        let Some(iam) = &self.iam else {
            // Without --auth iam every client is let in, whatever it sends (as over HTTP).
            return Ok(auth.principal.clone());
        };
        let credentials = auth.credentials.as_deref().unwrap_or("");
        let principal = nereid_sigv4::verify_bolt_credentials(iam, credentials, SystemTime::now())
            .map_err(|e| BoltError::new(codes::UNAUTHORIZED, e.to_string()))?;
        let name = principal.name().to_owned();
        self.principals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.clone(), principal);
        Ok(Some(name))
    }

    fn run(&self, request: RunRequest) -> BoxFuture<'_, Result<QueryOutcome, BoltError>> {
        Box::pin(self.run_query(request))
    }
}

impl<R: QueryRunner> BoltBackend<R> {
    async fn run_query(&self, request: RunRequest) -> Result<QueryOutcome, BoltError> {
        let coded = |e: Error| bolt_error(&e);
        if request.query.len() > self.max_query_bytes {
            return Err(coded(Error::new(
                ErrorCode::QueryTooLarge,
                format!(
                    "Query text of {} bytes exceeds the limit of {} bytes",
                    request.query.len(),
                    self.max_query_bytes
                ),
            )));
        }
        let params = params_in(&request.parameters).map_err(coded)?;
        let access =
            nereid_engine::query_access(&request.query, self.query_memory_limit).map_err(coded)?;
        if request.is_read_mode() && access.write {
            return Err(BoltError::new(
                ACCESS_MODE,
                "Writing in read access mode not allowed",
            ));
        }
        if let Some(iam) = &self.iam {
            let name = request.principal.as_deref().unwrap_or("");
            let principal = self
                .principal(name)
                .ok_or_else(|| BoltError::new(codes::UNAUTHORIZED, "not authenticated"))?;
            principal
                .authorize(
                    iam,
                    Action::for_query(access.write, access.delete),
                    &RequestContext::opencypher(self.secure_transport, SystemTime::now()),
                )
                .map_err(|e| coded(Error::from(e)))?;
        }
        let version = request.version;
        let (tx, rx) = oneshot::channel();
        let done: Completion = Box::new(move |outcome| {
            let converted = outcome.map(|result| outcome_out(&result, version));
            let _ = tx.send(converted);
        });
        let manager = self.manager.clone();
        let id = uuid::Uuid::new_v4().to_string();
        let query = request.query;
        let mut guard = CancelOnDrop {
            manager: self.manager.clone(),
            id: id.clone(),
            armed: true,
        };
        tokio::task::spawn_blocking(move || {
            manager.submit(Protocol::Bolt, id, &query, params, done)
        })
        .await
        .map_err(|e| coded(Error::internal(format!("the query submission failed: {e}"))))?
        .map_err(coded)?;
        let mut outcome = rx
            .await
            .map_err(|_| coded(Error::internal("the query finished without an answer")))?
            .map_err(coded)?;
        guard.armed = false;
        let kind = if access.write { "rw" } else { "r" };
        outcome
            .summary
            .push(("type".into(), Bolt::String(kind.into())));
        Ok(outcome)
    }
}

/// Cancels the query if its Bolt request is dropped before the outcome arrived (the client
/// disconnected mid-query).
struct CancelOnDrop<R: QueryRunner> {
    manager: Arc<QueryManager<R>>,
    id: String,
    armed: bool,
}

impl<R: QueryRunner> Drop for CancelOnDrop<R> {
    fn drop(&mut self) {
        if self.armed {
            // Unknown id = already finished (or never accepted): nothing to cancel.
            let _ = self.manager.cancel(&self.id, true);
        }
    }
}

fn params_in(parameters: &[(String, Bolt)]) -> Result<Map, Error> {
    parameters
        .iter()
        .map(|(k, v)| Ok((k.clone(), value_in(v)?)))
        .collect()
}

fn bad_param(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidParameter, message)
}

/// A Bolt parameter value as a nereid value.
pub fn value_in(value: &Bolt) -> Result<Value, Error> {
    Ok(match value {
        Bolt::Null => Value::Null,
        Bolt::Boolean(b) => Value::Bool(*b),
        Bolt::Integer(i) => Value::Int(*i),
        Bolt::Float(f) => Value::Float(*f),
        Bolt::String(s) => Value::String(s.clone()),
        Bolt::Bytes(_) => return Err(bad_param("byte array parameters are not supported")),
        Bolt::List(items) => Value::List(items.iter().map(value_in).collect::<Result<_, _>>()?),
        Bolt::Dictionary(d) => Value::Map(params_in(d)?),
        Bolt::Structure { tag, fields } => {
            Value::Temporal(Box::new(temporal_in(*tag, fields).map_err(bad_param)?))
        }
    })
}

fn temporal_in(tag: u8, fields: &[Bolt]) -> Result<Temporal, String> {
    use values::tag as t;
    let int = |i: usize| match fields.get(i) {
        Some(Bolt::Integer(v)) => Ok(*v),
        _ => Err(format!(
            "structure 0x{tag:02X}: field {i} must be an integer"
        )),
    };
    let text = |i: usize| match fields.get(i) {
        Some(Bolt::String(v)) => Ok(v.as_str()),
        _ => Err(format!("structure 0x{tag:02X}: field {i} must be a string")),
    };
    let e = |e: nereid_temporal::TemporalError| e.to_string();
    let offset = |s: i64| Offset::from_seconds(s).map_err(e);
    let local_time = |n: i64| {
        if (0..86_400_000_000_000).contains(&n) {
            Ok(LocalTime::from_nano_of_day_wrapping(n))
        } else {
            Err(format!("time of day out of range: {n} ns"))
        }
    };
    Ok(match tag {
        t::DATE => Temporal::Date(Date::from_epoch_days(int(0)?).map_err(e)?),
        t::LOCAL_TIME => Temporal::LocalTime(local_time(int(0)?)?),
        t::TIME => Temporal::Time(Time::new(local_time(int(0)?)?, offset(int(1)?)?)),
        t::LOCAL_DATE_TIME => {
            Temporal::LocalDateTime(LocalDateTime::from_local_seconds(int(0)?, int(1)?).map_err(e)?)
        }
        t::DATE_TIME => Temporal::DateTime(
            DateTime::from_instant(int(0)?, int(1)?, &Zone::Fixed(offset(int(2)?)?)).map_err(e)?,
        ),
        t::DATE_TIME_ZONE_ID => Temporal::DateTime(
            DateTime::from_instant(int(0)?, int(1)?, &Zone::parse(text(2)?).map_err(e)?)
                .map_err(e)?,
        ),
        t::LEGACY_DATE_TIME | t::LEGACY_DATE_TIME_ZONE_ID => {
            let local = LocalDateTime::from_local_seconds(int(0)?, int(1)?).map_err(e)?;
            let zone = if tag == t::LEGACY_DATE_TIME {
                Zone::Fixed(offset(int(2)?)?)
            } else {
                Zone::parse(text(2)?).map_err(e)?
            };
            Temporal::DateTime(DateTime::from_local(local, &zone, None).map_err(e)?)
        }
        t::DURATION => {
            Temporal::Duration(Duration::new(int(0)?, int(1)?, int(2)?, int(3)?).map_err(e)?)
        }
        t::NODE | t::RELATIONSHIP | t::UNBOUND_RELATIONSHIP | t::PATH => {
            return Err("nodes, relationships and paths cannot be parameters".into())
        }
        other => return Err(format!("unknown structure 0x{other:02X} in the parameters")),
    })
}

fn outcome_out(result: &QueryResult, version: Version) -> QueryOutcome {
    let out = Out { result, version };
    QueryOutcome {
        fields: result.columns.clone(),
        records: result
            .rows
            .iter()
            .map(|row| row.iter().map(|v| out.value(v)).collect())
            .collect(),
        summary: Vec::new(),
    }
}

/// Converts result values, resolving graph ids through the result.
struct Out<'a> {
    result: &'a QueryResult,
    version: Version,
}

impl Out<'_> {
    fn value(&self, value: &Value) -> Bolt {
        match value {
            Value::Null => Bolt::Null,
            Value::Bool(b) => Bolt::Boolean(*b),
            Value::Int(i) => Bolt::Integer(*i),
            Value::Float(f) => Bolt::Float(*f),
            Value::String(s) => Bolt::String(s.clone()),
            Value::List(items) => Bolt::List(items.iter().map(|v| self.value(v)).collect()),
            Value::Map(m) => Bolt::Dictionary(self.map(m)),
            Value::Node(id) => self.node(*id),
            Value::Relationship(id) => self.relationship(*id),
            Value::Path(path) => {
                let mut nodes = Vec::new();
                let mut node_index: HashMap<NodeId, i64> = HashMap::new();
                let mut rels = Vec::new();
                let mut rel_index: HashMap<RelId, i64> = HashMap::new();
                let mut indices = Vec::new();
                for (i, node) in path.nodes.iter().enumerate() {
                    let next = node_index.len() as i64;
                    let ni = *node_index.entry(*node).or_insert_with(|| {
                        nodes.push(self.node(*node));
                        next
                    });
                    if i == 0 {
                        continue;
                    }
                    let rel = path.rels[i - 1];
                    let next = rel_index.len() as i64 + 1;
                    let ri = *rel_index.entry(rel).or_insert_with(|| {
                        rels.push(self.unbound(rel));
                        next
                    });
                    // Traversed along its direction when it starts at the previous node.
                    let forward = self
                        .result
                        .rel(rel)
                        .is_none_or(|r| r.start == path.nodes[i - 1]);
                    indices.push(if forward { ri } else { -ri });
                    indices.push(ni);
                }
                values::path(nodes, rels, indices)
            }
            Value::Temporal(t) => self.temporal(t),
        }
    }

    fn map(&self, m: &Map) -> Vec<(String, Bolt)> {
        m.iter().map(|(k, v)| (k.clone(), self.value(v))).collect()
    }

    fn node(&self, id: NodeId) -> Bolt {
        match self.result.node(id) {
            Some(n) => values::node(
                self.version,
                id.0 as i64,
                &n.id,
                n.labels.clone(),
                self.map(&n.properties),
            ),
            None => values::node(self.version, id.0 as i64, "", vec![], vec![]),
        }
    }

    fn relationship(&self, id: RelId) -> Bolt {
        match self.result.rel(id) {
            Some(r) => values::relationship(
                self.version,
                &values::RelIds {
                    id: id.0 as i64,
                    element_id: &r.id,
                    start: r.start.0 as i64,
                    start_element_id: &r.start_id,
                    end: r.end.0 as i64,
                    end_element_id: &r.end_id,
                },
                &r.rel_type,
                self.map(&r.properties),
            ),
            None => values::unbound_relationship(self.version, id.0 as i64, "", "", vec![]),
        }
    }

    fn unbound(&self, id: RelId) -> Bolt {
        match self.result.rel(id) {
            Some(r) => values::unbound_relationship(
                self.version,
                id.0 as i64,
                &r.id,
                &r.rel_type,
                self.map(&r.properties),
            ),
            None => values::unbound_relationship(self.version, id.0 as i64, "", "", vec![]),
        }
    }

    fn temporal(&self, t: &Temporal) -> Bolt {
        match t {
            Temporal::Date(d) => values::date(d.epoch_days()),
            Temporal::LocalTime(t) => values::local_time(t.nano_of_day()),
            Temporal::Time(t) => values::time(t.time.nano_of_day(), i64::from(t.offset.seconds())),
            Temporal::LocalDateTime(l) => {
                values::local_date_time(l.local_seconds(), l.time.nanosecond())
            }
            Temporal::DateTime(dt) => values::date_time(
                self.version,
                dt.local().local_seconds(),
                dt.nanosecond(),
                i64::from(dt.offset().seconds()),
                dt.zone_name(),
            ),
            Temporal::Duration(d) => values::duration(d.months(), d.days(), d.seconds(), d.nanos()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nereid_engine::{NodeData, RelData};

    fn st(tag: u8, fields: Vec<Bolt>) -> Bolt {
        Bolt::Structure { tag, fields }
    }

    #[test]
    fn bytes_and_graph_structures_are_refused_as_parameters() {
        let e = value_in(&Bolt::Bytes(vec![1])).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParameter);
        let node = values::node(Version::new(5, 0), 1, "a", vec![], vec![]);
        assert!(value_in(&node).is_err());
        assert!(value_in(&st(b'Z', vec![])).is_err());
        // A field of the wrong type and a time of day past midnight.
        assert!(value_in(&st(values::tag::DATE, vec![Bolt::String("x".into())])).is_err());
        let late = st(
            values::tag::LOCAL_TIME,
            vec![Bolt::Integer(86_400_000_000_000)],
        );
        assert!(value_in(&late).is_err());
    }

    #[test]
    fn legacy_and_utc_date_times_mean_the_same_instant() {
        // 1970-01-01T02:00+02:00: local seconds 7200 (4.x), UTC seconds 0 (5.x).
        let legacy = st(
            values::tag::LEGACY_DATE_TIME,
            vec![Bolt::Integer(7200), Bolt::Integer(0), Bolt::Integer(7200)],
        );
        let utc = st(
            values::tag::DATE_TIME,
            vec![Bolt::Integer(0), Bolt::Integer(0), Bolt::Integer(7200)],
        );
        let (Value::Temporal(a), Value::Temporal(b)) =
            (value_in(&legacy).unwrap(), value_in(&utc).unwrap())
        else {
            panic!("not temporals")
        };
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "1970-01-01T02:00+02:00");
        // And back out in each version's encoding.
        let out = |v: Version| {
            let result = QueryResult::default();
            Out {
                result: &result,
                version: v,
            }
            .temporal(&a)
        };
        assert_eq!(out(Version::new(5, 4)), utc);
        assert_eq!(out(Version::new(4, 4)), legacy);
    }

    fn result_with_path() -> QueryResult {
        let mut result = QueryResult::default();
        for (n, id) in [(1, "a"), (2, "b")] {
            result.nodes.insert(
                NodeId(n),
                NodeData {
                    id: id.into(),
                    labels: vec!["L".into()],
                    properties: Map::new(),
                },
            );
        }
        result.rels.insert(
            RelId(9),
            RelData {
                id: "r".into(),
                start: NodeId(1),
                end: NodeId(2),
                start_id: "a".into(),
                end_id: "b".into(),
                rel_type: "T".into(),
                properties: Map::new(),
            },
        );
        result
    }

    #[test]
    fn a_path_read_backwards_gets_a_negative_relationship_index() {
        let result = result_with_path();
        let out = Out {
            result: &result,
            version: Version::new(5, 4),
        };
        let backwards = Value::Path(Box::new(nereid_value::Path {
            nodes: vec![NodeId(2), NodeId(1)],
            rels: vec![RelId(9)],
        }));
        let Bolt::Structure { fields, .. } = out.value(&backwards) else {
            panic!()
        };
        assert_eq!(
            fields[2],
            Bolt::List(vec![Bolt::Integer(-1), Bolt::Integer(1)])
        );
        let forwards = Value::Path(Box::new(nereid_value::Path {
            nodes: vec![NodeId(1), NodeId(2)],
            rels: vec![RelId(9)],
        }));
        let Bolt::Structure { fields, .. } = out.value(&forwards) else {
            panic!()
        };
        assert_eq!(
            fields[2],
            Bolt::List(vec![Bolt::Integer(1), Bolt::Integer(1)])
        );
    }

    #[test]
    fn relationships_name_their_ends_by_neptune_id() {
        let result = result_with_path();
        let out = Out {
            result: &result,
            version: Version::new(5, 0),
        };
        let Bolt::Structure { tag, fields } = out.value(&Value::Relationship(RelId(9))) else {
            panic!()
        };
        assert_eq!(tag, values::tag::RELATIONSHIP);
        assert_eq!(
            fields[..4],
            [
                Bolt::Integer(9),
                Bolt::Integer(1),
                Bolt::Integer(2),
                Bolt::String("T".into())
            ]
        );
        assert_eq!(
            fields[5..],
            [
                Bolt::String("r".into()),
                Bolt::String("a".into()),
                Bolt::String("b".into())
            ]
        );
    }

    #[test]
    fn engine_errors_keep_their_message_and_take_the_tables_neo4j_code() {
        let e = Error::new(
            ErrorCode::CancelledByUser,
            "Operation terminated (cancelled)",
        );
        let b = bolt_error(&e);
        assert_eq!(b.code, "Neo.ClientError.Transaction.Terminated");
        assert_eq!(b.message, e.to_string());
    }

    fn backend() -> BoltBackend<nereid_engine::Database> {
        let manager = QueryManager::new(
            nereid_engine::Database::in_memory(),
            nereid_engine::manager::ManagerConfig {
                workers: 1,
                queue_size: 4,
                query_timeout_ms: 0,
            },
        )
        .expect("manager starts");
        BoltBackend::new(Arc::new(manager), None, 1 << 20, false)
    }

    fn run_request(query: &str, extra: Vec<(String, Bolt)>) -> RunRequest {
        RunRequest {
            query: query.into(),
            parameters: vec![("p".into(), Bolt::Integer(41))],
            extra,
            version: Version::new(5, 4),
            principal: None,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn runs_through_the_manager_and_checks_limits_first() {
        let b = backend().with_max_query_bytes(64);
        let out = b
            .run(run_request("RETURN $p + 1 AS x", vec![]))
            .await
            .expect("runs");
        assert_eq!(out.fields, vec!["x".to_owned()]);
        assert_eq!(out.records, vec![vec![Bolt::Integer(42)]]);
        let long = format!("RETURN 1 // {}", "x".repeat(64));
        let e = b.run(run_request(&long, vec![])).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::QueryTooLarge.info().bolt);
        assert!(
            e.message.contains("exceeds the limit of 64 bytes"),
            "{}",
            e.message
        );
        let read = vec![("mode".into(), Bolt::String("r".into()))];
        let e = b
            .run(run_request("CREATE ()", read.clone()))
            .await
            .unwrap_err();
        assert_eq!(e.code, ACCESS_MODE);
        assert!(b.run(run_request("RETURN 1", read)).await.is_ok());
        let e = b.run(run_request("RETURN (", vec![])).await.unwrap_err();
        assert_eq!(e.code, "Neo.ClientError.Statement.SyntaxError");
    }
}
