//! The Bolt server state machine, over a [`Backend`] that authenticates, runs queries and
//! opens transactions.
//!
//! ```text
//! CONNECTED ─HELLO─► (5.1+: AUTHENTICATION ─LOGON─►) READY ─RUN─► STREAMING ─PULL (last)─► READY
//!                                                      │  ▲ LOGOFF (5.1+) ► AUTHENTICATION
//!                                                      │  └──── COMMIT / ROLLBACK ───┐
//!                                                   BEGIN                            │
//!                                                      ▼                             │
//!                                   TX_READY ◄─PULL (last of the last)─ TX_STREAMING
//!                                      └──────────── RUN ─────────────►
//!                    any failure ─► FAILED ─(IGNORED…)─RESET ─► READY
//! ```
//!
//! The session is pure: [`Session::step`] takes one decoded request (or resumes a PULL that
//! is handing out many records) and returns the responses to send plus what to do next; the
//! connection loop ([`crate::server`]) does the I/O. Requests are handled one at a time in
//! order. The spec's INTERRUPTED state lives in the connection loop: a RESET arriving while
//! [`Session::step`] awaits the backend drops that future (the backend cancels the query),
//! the interrupted requests are IGNORED and the RESET is handled.
//!
//! **Results stream.** RUN answers once the backend's [`RecordStream`] exists; PULL `n` asks
//! the stream for at most `n` records, which the backend produces as the query runs. A PULL
//! for more than [`PULL_SLICE`] records (or all, `n = -1`) is answered in slices: each slice's
//! RECORDs are written before the next is asked for ([`Next::Resume`]), so neither the
//! session nor the connection holds a whole large result.
//!
//! **Routing.** ROUTE (4.3+) and, before it, the auto-commit call [`ROUTING_PROCEDURE`] that
//! 4.0–4.2 drivers run for `neo4j://` are answered here with a table naming this one server
//! for every role.
//!
//! **Explicit transactions.** BEGIN opens a [`BackendTransaction`]; RUN in it gets a `qid`
//! (counted from 0 per transaction) and PULL/DISCARD name a result by `qid` (`-1`: the
//! latest). A transaction runs one statement at a time, so a RUN while earlier results are
//! still open first has the backend run those to their end ([`RecordStream::read_to_end`]),
//! keeping their records for the driver to pull later: the backend holds them, charged to
//! its memory budget, and a failure there (the budget exceeded) fails the RUN and so the
//! transaction. COMMIT (after ending any open result) returns the backend's bookmark;
//! ROLLBACK, RESET, a failure and a dropped connection drop the transaction, which rolls it
//! back. An auto-commit result's final SUCCESS carries whatever the backend put in its
//! summary (a `bookmark` after a write).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;

use crate::handshake::Version;
use crate::message::{Auth, Dict, Request, Response};
use crate::packstream::Value;

/// Neo4j status codes this crate produces itself (the backend brings its own for queries).
pub mod codes {
    /// A message that is not valid in the current state (PULL with nothing to pull, …).
    pub const REQUEST_INVALID: &str = "Neo.ClientError.Request.Invalid";
    /// A message that could not be decoded.
    pub const PROTOCOL: &str = "Neo.ClientError.Request.InvalidFormat";
    /// Authentication failed.
    pub const UNAUTHORIZED: &str = "Neo.ClientError.Security.Unauthorized";
    /// The backend offers no explicit transactions.
    pub const TX_NOT_SUPPORTED: &str = "Neo.ClientError.Statement.FeatureNotSupported";
}

/// Records handed out per slice of a large PULL.
pub const PULL_SLICE: usize = 1000;

/// A failure to report to the client: a Neo4j status code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoltError {
    pub code: String,
    pub message: String,
}

impl BoltError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// What RUN asks the backend to do.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRequest {
    pub query: String,
    pub parameters: Dict,
    /// RUN's `extra`: `mode` ("r" for read sessions), `db`, `tx_timeout`, `bookmarks`, …
    /// (empty inside an explicit transaction, where BEGIN carried them).
    pub extra: Dict,
    /// The negotiated version: graph and temporal values are encoded differently in 4.x.
    pub version: Version,
    /// The authenticated principal, if any (for the backend's authorization).
    pub principal: Option<String>,
}

impl RunRequest {
    /// `mode` from RUN's extra is "r": the driver asked for a read session.
    pub fn is_read_mode(&self) -> bool {
        is_read_mode(&self.extra)
    }
}

/// What BEGIN asks the backend to do.
#[derive(Debug, Clone, PartialEq)]
pub struct BeginRequest {
    /// BEGIN's `extra`: `mode`, `tx_timeout` (ms), `bookmarks`, `tx_metadata`, `db`, …
    pub extra: Dict,
    pub version: Version,
    pub principal: Option<String>,
}

impl BeginRequest {
    /// `mode` is "r": a read transaction.
    pub fn is_read_mode(&self) -> bool {
        is_read_mode(&self.extra)
    }
}

fn is_read_mode(extra: &Dict) -> bool {
    matches!(lookup(extra, "mode"), Some(Value::String(m)) if m == "r")
}

/// The driver's transaction timeout (`tx_timeout`, in ms) from RUN's or BEGIN's `extra`:
/// `Ok(None)` when absent, an error when it is not a non-negative integer.
pub fn tx_timeout_ms(extra: &Dict) -> Result<Option<u64>, BoltError> {
    match lookup(extra, "tx_timeout") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Integer(ms)) if *ms >= 0 => Ok(Some(*ms as u64)),
        Some(other) => Err(BoltError::new(
            codes::REQUEST_INVALID,
            format!("tx_timeout must be a non-negative integer (milliseconds), got {other:?}"),
        )),
    }
}

/// The bookmarks of RUN's or BEGIN's `extra` (strings; anything else is refused).
pub fn bookmarks(extra: &Dict) -> Result<Vec<String>, BoltError> {
    match lookup(extra, "bookmarks") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::List(items)) => items
            .iter()
            .map(|b| match b {
                Value::String(s) => Ok(s.clone()),
                other => Err(BoltError::new(
                    codes::REQUEST_INVALID,
                    format!("bookmarks must be strings, got {other:?}"),
                )),
            })
            .collect(),
        Some(other) => Err(BoltError::new(
            codes::REQUEST_INVALID,
            format!("bookmarks must be a list of strings, got {other:?}"),
        )),
    }
}

/// The complete outcome of one query: its column names, every record, and the metadata of the
/// final SUCCESS (e.g. `type`, `stats`). Records are already encoded for `version`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryOutcome {
    pub fields: Vec<String>,
    pub records: Vec<Vec<Value>>,
    /// Added to the SUCCESS that ends the stream.
    pub summary: Dict,
}

/// What one [`RecordStream::pull`] produced.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pulled {
    pub records: Vec<Vec<Value>>,
    /// Set when the stream ended with these records: the final SUCCESS's metadata.
    pub summary: Option<Dict>,
}

/// A boxed future, so that the backend traits stay object-safe and `Send`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The records of one RUN, produced while the client pulls them. Dropping a stream before
/// its end stops the query behind it.
pub trait RecordStream: Send {
    /// The column names (RUN's `fields`).
    fn fields(&self) -> Vec<String>;
    /// At most `n` (≥ 1) further records, waiting until `n` are there or the stream ended; a
    /// query failure after RUN succeeded is reported here.
    fn pull(&mut self, n: usize) -> BoxFuture<'_, Result<Pulled, BoltError>>;
    /// Ends the stream without its remaining records (a query that writes still runs to
    /// its end); the final SUCCESS's metadata.
    fn discard(&mut self) -> BoxFuture<'_, Result<Dict, BoltError>>;
    /// Lets the query run to its end without waiting for the client, keeping the records
    /// not pulled yet for later PULLs (a transaction's next statement is about to run).
    /// The backend holds them, within its memory limits; a failure (a limit, the query's
    /// own) is reported here and ends the stream.
    fn read_to_end(&mut self) -> BoxFuture<'_, Result<(), BoltError>>;
}

/// A [`RecordStream`] over a complete [`QueryOutcome`].
pub struct Materialized {
    fields: Vec<String>,
    records: VecDeque<Vec<Value>>,
    summary: Dict,
}

impl From<QueryOutcome> for Materialized {
    fn from(o: QueryOutcome) -> Self {
        Self {
            fields: o.fields,
            records: o.records.into(),
            summary: o.summary,
        }
    }
}

impl RecordStream for Materialized {
    fn fields(&self) -> Vec<String> {
        self.fields.clone()
    }

    fn pull(&mut self, n: usize) -> BoxFuture<'_, Result<Pulled, BoltError>> {
        let take = n.min(self.records.len());
        let records: Vec<_> = self.records.drain(..take).collect();
        let summary = self
            .records
            .is_empty()
            .then(|| std::mem::take(&mut self.summary));
        Box::pin(async move { Ok(Pulled { records, summary }) })
    }

    fn discard(&mut self) -> BoxFuture<'_, Result<Dict, BoltError>> {
        self.records.clear();
        let summary = std::mem::take(&mut self.summary);
        Box::pin(async move { Ok(summary) })
    }

    fn read_to_end(&mut self) -> BoxFuture<'_, Result<(), BoltError>> {
        // Complete already.
        Box::pin(async { Ok(()) })
    }
}

/// An open explicit transaction of the backend. Dropping it without COMMIT rolls it back.
pub trait BackendTransaction: Send {
    /// Runs the next statement.
    fn run(
        &mut self,
        request: RunRequest,
    ) -> BoxFuture<'_, Result<Box<dyn RecordStream>, BoltError>>;
    /// Commits; `Ok` carries the bookmark to return, if any.
    fn commit(&mut self) -> BoxFuture<'_, Result<Option<String>, BoltError>>;
    /// Rolls back.
    fn rollback(&mut self) -> BoxFuture<'_, Result<(), BoltError>>;
}

/// What the Bolt server needs from the database. Implemented outside this crate (the HTTP
/// crate implements it over the engine's query manager).
pub trait Backend: Send + Sync + 'static {
    /// Checks HELLO's (≤ 5.0) or LOGON's (5.1+) credentials; `Ok` carries the principal.
    fn authenticate(&self, auth: &Auth) -> Result<Option<String>, BoltError>;

    /// Runs one auto-commit query; its records stream from the returned [`RecordStream`].
    fn run(&self, request: RunRequest) -> BoxFuture<'_, Result<Box<dyn RecordStream>, BoltError>>;

    /// Opens an explicit transaction.
    fn begin(
        &self,
        request: BeginRequest,
    ) -> BoxFuture<'_, Result<Box<dyn BackendTransaction>, BoltError>> {
        let _ = request;
        Box::pin(async {
            Err(BoltError::new(
                codes::TX_NOT_SUPPORTED,
                "explicit transactions (BEGIN) are not supported by this server",
            ))
        })
    }

    /// `server` in HELLO's SUCCESS; drivers parse the "Neo4j/x.y" form.
    fn server_agent(&self) -> String {
        "Neo4j/5.23.0".to_owned()
    }
}

/// The states of the Bolt server state machine (Bolt 5.4 spec).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Connected,
    Authentication,
    Ready,
    Streaming,
    TxReady,
    TxStreaming,
    Failed,
    Defunct,
}

/// What the connection loop does after writing the responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Continue,
    /// A PULL is not done: write (and flush) what was produced, then call
    /// [`Session::step`] with [`Step::Resume`] before the next request.
    Resume,
    Close,
}

/// What [`Session::step`] works on.
#[derive(Debug)]
pub enum Step {
    Request(Request),
    /// The rest of the PULL or DISCARD that answered [`Next::Resume`].
    Resume,
}

/// Routing table time-to-live in seconds (the driver asks again after this).
pub const ROUTING_TTL: i64 = 300;

/// An open result.
struct Open {
    qid: i64,
    stream: Box<dyn RecordStream>,
}

/// A PULL or DISCARD answered in slices.
#[derive(Debug, Clone, Copy)]
struct Pending {
    qid: i64,
    /// Records still wanted; `None`: all.
    left: Option<usize>,
    discard: bool,
}

/// One connection's protocol state.
pub struct Session<'b, B: Backend + ?Sized> {
    backend: &'b B,
    version: Version,
    state: State,
    connection_id: String,
    /// The address to name in routing tables when the driver does not send one.
    advertised: String,
    principal: Option<String>,
    /// The explicit transaction, in TX_READY and TX_STREAMING.
    tx: Option<Box<dyn BackendTransaction>>,
    /// Open results, oldest first (one at most outside a transaction).
    open: Vec<Open>,
    /// The qid of the next RUN in the transaction.
    next_qid: i64,
    pending: Option<Pending>,
}

impl<'b, B: Backend + ?Sized> Session<'b, B> {
    pub fn new(
        backend: &'b B,
        version: Version,
        connection_id: String,
        advertised: String,
    ) -> Self {
        Self {
            backend,
            version,
            state: State::Connected,
            connection_id,
            advertised,
            principal: None,
            tx: None,
            open: Vec::new(),
            next_qid: 0,
            pending: None,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// LOGON exists from 5.1 on; before that HELLO carries the credentials.
    fn has_logon(&self) -> bool {
        self.version >= Version::new(5, 1)
    }

    /// Drops every result and the transaction (which rolls it back).
    fn clear(&mut self) {
        self.open.clear();
        self.pending = None;
        self.tx = None;
        self.next_qid = 0;
    }

    fn fail(&mut self, error: BoltError) -> Vec<Response> {
        self.clear();
        self.state = if self.state == State::Connected || self.state == State::Authentication {
            State::Defunct
        } else {
            State::Failed
        };
        vec![Response::Failure {
            code: error.code,
            message: error.message,
        }]
    }

    /// A message that could not be decoded: the connection cannot be trusted any more.
    pub fn protocol_error(&mut self, message: String) -> (Vec<Response>, Next) {
        self.clear();
        self.state = State::Defunct;
        (
            vec![Response::Failure {
                code: codes::PROTOCOL.to_owned(),
                message,
            }],
            Next::Close,
        )
    }

    fn invalid(&mut self, what: &str) -> Vec<Response> {
        let state = match self.state {
            State::TxReady => "TX_READY".to_owned(),
            State::TxStreaming => "TX_STREAMING".to_owned(),
            other => format!("{other:?}").to_uppercase(),
        };
        self.fail(BoltError::new(
            codes::REQUEST_INVALID,
            format!("{what} is not valid in state {state}"),
        ))
    }

    /// Handles one request.
    pub async fn handle(&mut self, request: Request) -> (Vec<Response>, Next) {
        self.step(Step::Request(request)).await
    }

    /// Handles one request, or resumes the PULL that answered [`Next::Resume`].
    pub async fn step(&mut self, step: Step) -> (Vec<Response>, Next) {
        let request = match step {
            Step::Resume => {
                let out = self.resume().await;
                return (out, self.next());
            }
            Step::Request(r) => r,
        };
        if matches!(request, Request::Goodbye) {
            self.clear();
            return (vec![], Next::Close);
        }
        let out = match self.state {
            State::Defunct => return (vec![], Next::Close),
            State::Failed => match request {
                Request::Reset => self.reset(),
                _ => vec![Response::Ignored],
            },
            State::Connected => match request {
                Request::Hello { auth, .. } => self.hello(auth),
                _ => self.invalid(name(&request)),
            },
            State::Authentication => match request {
                Request::Logon { auth } => self.logon(&auth),
                _ => self.invalid(name(&request)),
            },
            State::Ready => self.ready(request).await,
            State::Streaming => match request {
                Request::Pull { n, qid } => self.start_pull(n, qid, false).await,
                Request::Discard { n, qid } => self.start_pull(n, qid, true).await,
                Request::Reset => self.reset(),
                _ => self.invalid(name(&request)),
            },
            State::TxReady | State::TxStreaming => self.in_transaction(request).await,
        };
        (out, self.next())
    }

    fn next(&self) -> Next {
        if self.state == State::Defunct {
            Next::Close
        } else if self.pending.is_some() {
            Next::Resume
        } else {
            Next::Continue
        }
    }

    fn hello(&mut self, auth: Option<Auth>) -> Vec<Response> {
        if !self.has_logon() {
            if let Err(e) = self.authenticate(&auth.unwrap_or_default()) {
                return self.fail(e);
            }
        }
        self.state = if self.has_logon() {
            State::Authentication
        } else {
            State::Ready
        };
        let mut metadata = vec![
            ("server".into(), Value::String(self.backend.server_agent())),
            (
                "connection_id".into(),
                Value::String(self.connection_id.clone()),
            ),
        ];
        if self.version >= Version::new(4, 3) {
            metadata.push(("hints".into(), Value::Dictionary(vec![])));
        }
        vec![Response::Success { metadata }]
    }

    fn authenticate(&mut self, auth: &Auth) -> Result<(), BoltError> {
        self.principal = self.backend.authenticate(auth)?;
        Ok(())
    }

    fn logon(&mut self, auth: &Auth) -> Vec<Response> {
        match self.authenticate(auth) {
            Ok(()) => {
                self.state = State::Ready;
                success(vec![])
            }
            Err(e) => self.fail(e),
        }
    }

    fn reset(&mut self) -> Vec<Response> {
        self.clear();
        self.state = State::Ready;
        success(vec![])
    }

    fn run_request(&self, query: String, parameters: Dict, extra: Dict) -> RunRequest {
        RunRequest {
            query,
            parameters,
            extra,
            version: self.version,
            principal: self.principal.clone(),
        }
    }

    async fn ready(&mut self, request: Request) -> Vec<Response> {
        match request {
            Request::Run {
                query,
                parameters,
                extra,
            } => {
                if self.version < Version::new(4, 3) && is_routing_procedure(&query) {
                    // Before ROUTE (4.3), drivers ask for the routing table with this call.
                    let stream = self.routing_procedure(&parameters);
                    let fields = stream.fields();
                    self.open.push(Open { qid: 0, stream });
                    self.state = State::Streaming;
                    return success(run_metadata(fields, None));
                }
                let run = self.run_request(query, parameters, extra);
                match self.backend.run(run).await {
                    Ok(stream) => {
                        let fields = stream.fields();
                        self.open.push(Open { qid: 0, stream });
                        self.state = State::Streaming;
                        success(run_metadata(fields, None))
                    }
                    Err(e) => self.fail(e),
                }
            }
            Request::Begin { extra } => {
                let begin = BeginRequest {
                    extra,
                    version: self.version,
                    principal: self.principal.clone(),
                };
                match self.backend.begin(begin).await {
                    Ok(tx) => {
                        self.tx = Some(tx);
                        self.next_qid = 0;
                        self.state = State::TxReady;
                        success(vec![])
                    }
                    Err(e) => self.fail(e),
                }
            }
            Request::Reset => self.reset(),
            Request::Logoff if self.has_logon() => {
                self.principal = None;
                self.state = State::Authentication;
                success(vec![])
            }
            Request::Route { routing, .. } => self.route(&routing),
            Request::Telemetry { .. } => success(vec![]),
            other => self.invalid(name(&other)),
        }
    }

    async fn in_transaction(&mut self, request: Request) -> Vec<Response> {
        match request {
            Request::Run {
                query,
                parameters,
                extra,
            } => {
                // One statement at a time: earlier results run to their end first.
                for open in &mut self.open {
                    if let Err(e) = open.stream.read_to_end().await {
                        return self.fail(e);
                    }
                }
                let run = self.run_request(query, parameters, extra);
                let Some(tx) = self.tx.as_mut() else {
                    return self.fail(BoltError::new(
                        codes::REQUEST_INVALID,
                        "no transaction is open",
                    ));
                };
                match tx.run(run).await {
                    Ok(stream) => {
                        let qid = self.next_qid;
                        self.next_qid += 1;
                        let fields = stream.fields();
                        self.open.push(Open { qid, stream });
                        self.state = State::TxStreaming;
                        success(run_metadata(fields, Some(qid)))
                    }
                    Err(e) => self.fail(e),
                }
            }
            Request::Pull { n, qid } if self.state == State::TxStreaming => {
                self.start_pull(n, qid, false).await
            }
            Request::Discard { n, qid } if self.state == State::TxStreaming => {
                self.start_pull(n, qid, true).await
            }
            Request::Commit => {
                // Results the driver did not read to their end are ended first.
                let mut open = std::mem::take(&mut self.open);
                for o in &mut open {
                    if let Err(e) = o.stream.discard().await {
                        return self.fail(e);
                    }
                }
                drop(open);
                let Some(mut tx) = self.tx.take() else {
                    return self.fail(BoltError::new(
                        codes::REQUEST_INVALID,
                        "no transaction is open",
                    ));
                };
                match tx.commit().await {
                    Ok(bookmark) => {
                        self.clear();
                        self.state = State::Ready;
                        let mut metadata = Dict::new();
                        if let Some(b) = bookmark {
                            metadata.push(("bookmark".into(), Value::String(b)));
                        }
                        success(metadata)
                    }
                    Err(e) => self.fail(e),
                }
            }
            Request::Rollback => {
                self.open.clear();
                let result = match self.tx.take() {
                    Some(mut tx) => tx.rollback().await,
                    None => Ok(()),
                };
                match result {
                    Ok(()) => {
                        self.clear();
                        self.state = State::Ready;
                        success(vec![])
                    }
                    Err(e) => self.fail(e),
                }
            }
            Request::Reset => self.reset(),
            other => self.invalid(name(&other)),
        }
    }

    /// The open result `qid` names (-1: the latest).
    fn find(&self, qid: i64) -> Option<usize> {
        if qid == -1 {
            self.open.len().checked_sub(1)
        } else {
            self.open.iter().position(|o| o.qid == qid)
        }
    }

    async fn start_pull(&mut self, n: i64, qid: i64, discard: bool) -> Vec<Response> {
        let what = if discard { "DISCARD" } else { "PULL" };
        let left = match n {
            -1 => None,
            n if n > 0 => Some(n as usize),
            _ => {
                return self.fail(BoltError::new(
                    codes::REQUEST_INVALID,
                    format!("{what}: n must be -1 (all) or a positive number, got {n}"),
                ))
            }
        };
        let Some(index) = self.find(qid) else {
            return self.fail(BoltError::new(
                codes::REQUEST_INVALID,
                format!("{what}: no open result has qid {qid}"),
            ));
        };
        self.pending = Some(Pending {
            qid: self.open[index].qid,
            left,
            discard,
        });
        self.resume().await
    }

    /// Hands out the next slice of the pending PULL (or DISCARD).
    async fn resume(&mut self) -> Vec<Response> {
        let Some(p) = self.pending.take() else {
            return vec![];
        };
        let Some(index) = self.open.iter().position(|o| o.qid == p.qid) else {
            return self.fail(BoltError::new(
                codes::REQUEST_INVALID,
                "the result being pulled is gone",
            ));
        };
        let open = &mut self.open[index];
        if p.discard && p.left.is_none() {
            return match open.stream.discard().await {
                Ok(summary) => {
                    self.open.remove(index);
                    vec![self.stream_end(summary)]
                }
                Err(e) => self.fail(e),
            };
        }
        let slice = p.left.unwrap_or(usize::MAX).min(PULL_SLICE);
        let pulled = match open.stream.pull(slice).await {
            Ok(p) => p,
            Err(e) => return self.fail(e),
        };
        let got = pulled.records.len();
        let mut out: Vec<Response> = if p.discard {
            Vec::new()
        } else {
            pulled
                .records
                .into_iter()
                .map(|fields| Response::Record { fields })
                .collect()
        };
        if let Some(summary) = pulled.summary {
            self.open.remove(index);
            out.push(self.stream_end(summary));
            return out;
        }
        let left = p.left.map(|l| l.saturating_sub(got));
        if left == Some(0) {
            out.push(Response::Success {
                metadata: vec![("has_more".into(), Value::Boolean(true))],
            });
        } else {
            self.pending = Some(Pending { left, ..p });
        }
        out
    }

    /// SUCCESS after the last record of a result, and the state after it.
    fn stream_end(&mut self, mut metadata: Dict) -> Response {
        self.state = match self.state {
            State::TxStreaming if self.open.is_empty() => State::TxReady,
            State::Streaming => State::Ready,
            other => other,
        };
        metadata.push(("t_last".into(), Value::Integer(0)));
        if !metadata.iter().any(|(k, _)| k == "db") {
            metadata.push(("db".into(), Value::String("neo4j".into())));
        }
        Response::Success { metadata }
    }

    /// The answer to [`ROUTING_PROCEDURE`]: one record `(ttl, servers)`, as Neo4j 4.x's
    /// procedure gives it, from the routing context in `$context`.
    fn routing_procedure(&self, parameters: &Dict) -> Box<dyn RecordStream> {
        let empty = Dict::new();
        let context = match lookup(parameters, "context") {
            Some(Value::Dictionary(d)) => d,
            _ => &empty,
        };
        let table = self.routing_table(context);
        let field = |key: &str| lookup(&table, key).cloned().unwrap_or(Value::Null);
        Box::new(Materialized::from(QueryOutcome {
            fields: vec!["ttl".into(), "servers".into()],
            records: vec![vec![field("ttl"), field("servers")]],
            summary: vec![("type".into(), Value::String("r".into()))],
        }))
    }

    fn route(&mut self, routing: &Dict) -> Vec<Response> {
        let rt = Value::Dictionary(self.routing_table(routing));
        success(vec![("rt".into(), rt)])
    }

    /// This one server for every role, at the address the driver connected to (its routing
    /// context's `address`) or the advertised one.
    fn routing_table(&self, routing: &Dict) -> Dict {
        let address = match lookup(routing, "address") {
            Some(Value::String(a)) if !a.is_empty() => a.clone(),
            _ => self.advertised.clone(),
        };
        let server = |role: &str| {
            Value::Dictionary(vec![
                (
                    "addresses".into(),
                    Value::List(vec![Value::String(address.clone())]),
                ),
                ("role".into(), Value::String(role.into())),
            ])
        };
        vec![
            ("ttl".into(), Value::Integer(ROUTING_TTL)),
            ("db".into(), Value::String("neo4j".into())),
            (
                "servers".into(),
                Value::List(vec![server("ROUTE"), server("READ"), server("WRITE")]),
            ),
        ]
    }
}

/// The call Bolt 4.0–4.2 drivers (neo4j Java `BoltProtocolV4.MULTI_DB_GET_ROUTING_TABLE`,
/// Python 4.x) run, in an auto-commit RUN, to get the routing table for `neo4j://`.
pub const ROUTING_PROCEDURE: &str = "CALL dbms.routing.getRoutingTable($context, $database)";

fn is_routing_procedure(query: &str) -> bool {
    query.trim().eq_ignore_ascii_case(ROUTING_PROCEDURE)
}

/// RUN's SUCCESS: the fields, and the qid inside a transaction.
fn run_metadata(fields: Vec<String>, qid: Option<i64>) -> Dict {
    let mut metadata = vec![
        (
            "fields".into(),
            Value::List(fields.into_iter().map(Value::String).collect()),
        ),
        ("t_first".into(), Value::Integer(0)),
    ];
    if let Some(qid) = qid {
        metadata.push(("qid".into(), Value::Integer(qid)));
    }
    metadata
}

fn success(metadata: Dict) -> Vec<Response> {
    vec![Response::Success { metadata }]
}

fn lookup<'a>(d: &'a Dict, key: &str) -> Option<&'a Value> {
    d.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn name(request: &Request) -> &'static str {
    match request {
        Request::Hello { .. } => "HELLO",
        Request::Logon { .. } => "LOGON",
        Request::Logoff => "LOGOFF",
        Request::Goodbye => "GOODBYE",
        Request::Reset => "RESET",
        Request::Run { .. } => "RUN",
        Request::Begin { .. } => "BEGIN",
        Request::Commit => "COMMIT",
        Request::Rollback => "ROLLBACK",
        Request::Discard { .. } => "DISCARD",
        Request::Pull { .. } => "PULL",
        Request::Route { .. } => "ROUTE",
        Request::Telemetry { .. } => "TELEMETRY",
    }
}

#[cfg(test)]
mod tests;
