//! The Bolt server state machine, over a [`Backend`] that authenticates and runs queries.
//!
//! ```text
//! CONNECTED ─HELLO─► (5.1+: AUTHENTICATION ─LOGON─►) READY ─RUN─► STREAMING ─PULL (last)─► READY
//!                                                      ▲  │ LOGOFF (5.1+) ► AUTHENTICATION
//!                    any failure ─► FAILED ─(IGNORED…)─RESET
//! ```
//!
//! The session is pure: [`Session::handle`] takes one decoded request and returns the responses
//! to send plus whether to close; the connection loop ([`crate::server`]) does the I/O. Requests
//! are handled one at a time in order. The spec's INTERRUPTED state lives in the connection
//! loop: a RESET arriving while [`Session::handle`] awaits the backend drops that future (the
//! backend cancels the query), the interrupted requests are IGNORED and the RESET is handled.
//!
//! Results are materialised by the backend before RUN is answered (see [`QueryOutcome`]); PULL
//! `n` then hands out at most `n` records per request and reports `has_more`.
//!
//! Explicit transactions (BEGIN/COMMIT/ROLLBACK) are not supported yet: BEGIN fails with
//! [`codes::TX_NOT_SUPPORTED`], and the session goes to FAILED as after any failure.

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
    /// BEGIN: explicit transactions are not implemented yet.
    pub const TX_NOT_SUPPORTED: &str = "Neo.ClientError.Statement.FeatureNotSupported";
}

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
    pub extra: Dict,
    /// The negotiated version: graph and temporal values are encoded differently in 4.x.
    pub version: Version,
    /// The authenticated principal, if any (for the backend's authorization).
    pub principal: Option<String>,
}

impl RunRequest {
    /// `mode` from RUN's extra is "r": the driver asked for a read session.
    pub fn is_read_mode(&self) -> bool {
        matches!(lookup(&self.extra, "mode"), Some(Value::String(m)) if m == "r")
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

/// A boxed future, so that [`Backend`] stays object-safe and `Send`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the Bolt server needs from the database. Implemented outside this crate (the HTTP
/// crate implements it over the engine's query manager).
pub trait Backend: Send + Sync + 'static {
    /// Checks HELLO's (≤ 5.0) or LOGON's (5.1+) credentials; `Ok` carries the principal.
    fn authenticate(&self, auth: &Auth) -> Result<Option<String>, BoltError>;

    /// Runs one auto-commit query to completion.
    fn run(&self, request: RunRequest) -> BoxFuture<'_, Result<QueryOutcome, BoltError>>;

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
    Failed,
    Defunct,
}

/// Whether the connection should go on after the responses are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Continue,
    Close,
}

/// Routing table time-to-live in seconds (the driver asks again after this).
pub const ROUTING_TTL: i64 = 300;

/// One connection's protocol state.
pub struct Session<'b, B: Backend + ?Sized> {
    backend: &'b B,
    version: Version,
    state: State,
    connection_id: String,
    /// The address to name in routing tables when the driver does not send one.
    advertised: String,
    principal: Option<String>,
    /// The open result: its remaining records and final metadata.
    records: VecDeque<Vec<Value>>,
    summary: Dict,
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
            records: VecDeque::new(),
            summary: Dict::new(),
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// LOGON exists from 5.1 on; before that HELLO carries the credentials.
    fn has_logon(&self) -> bool {
        self.version >= Version::new(5, 1)
    }

    fn fail(&mut self, error: BoltError) -> Vec<Response> {
        self.records.clear();
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
        let state = format!("{:?}", self.state).to_uppercase();
        self.fail(BoltError::new(
            codes::REQUEST_INVALID,
            format!("{what} is not valid in state {state}"),
        ))
    }

    /// Handles one request.
    pub async fn handle(&mut self, request: Request) -> (Vec<Response>, Next) {
        if matches!(request, Request::Goodbye) {
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
                Request::Pull { n, .. } => self.pull(n),
                Request::Discard { n, .. } => self.discard(n),
                Request::Reset => self.reset(),
                _ => self.invalid(name(&request)),
            },
        };
        let next = if self.state == State::Defunct {
            Next::Close
        } else {
            Next::Continue
        };
        (out, next)
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
        self.records.clear();
        self.summary.clear();
        self.state = State::Ready;
        success(vec![])
    }

    async fn ready(&mut self, request: Request) -> Vec<Response> {
        match request {
            Request::Run {
                query,
                parameters,
                extra,
            } => {
                let run = RunRequest {
                    query,
                    parameters,
                    extra,
                    version: self.version,
                    principal: self.principal.clone(),
                };
                match self.backend.run(run).await {
                    Ok(outcome) => {
                        self.records = outcome.records.into();
                        self.summary = outcome.summary;
                        self.state = State::Streaming;
                        let fields = outcome.fields.into_iter().map(Value::String).collect();
                        success(vec![
                            ("fields".into(), Value::List(fields)),
                            ("t_first".into(), Value::Integer(0)),
                        ])
                    }
                    Err(e) => self.fail(e),
                }
            }
            Request::Begin { .. } => self.fail(BoltError::new(
                codes::TX_NOT_SUPPORTED,
                "explicit transactions (BEGIN) are not supported yet by this server; \
                 use auto-commit queries (session.run)",
            )),
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

    fn route(&mut self, routing: &Dict) -> Vec<Response> {
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
        let rt = Value::Dictionary(vec![
            ("ttl".into(), Value::Integer(ROUTING_TTL)),
            ("db".into(), Value::String("neo4j".into())),
            (
                "servers".into(),
                Value::List(vec![server("ROUTE"), server("READ"), server("WRITE")]),
            ),
        ]);
        success(vec![("rt".into(), rt)])
    }

    fn pull(&mut self, n: i64) -> Vec<Response> {
        let take = if n < 0 {
            self.records.len()
        } else {
            (n as usize).min(self.records.len())
        };
        let mut out: Vec<Response> = self
            .records
            .drain(..take)
            .map(|fields| Response::Record { fields })
            .collect();
        out.push(self.stream_end());
        out
    }

    fn discard(&mut self, n: i64) -> Vec<Response> {
        let take = if n < 0 {
            self.records.len()
        } else {
            (n as usize).min(self.records.len())
        };
        self.records.drain(..take);
        vec![self.stream_end()]
    }

    /// SUCCESS after PULL/DISCARD: `has_more` while records remain, else the summary.
    fn stream_end(&mut self) -> Response {
        if !self.records.is_empty() {
            return Response::Success {
                metadata: vec![("has_more".into(), Value::Boolean(true))],
            };
        }
        self.state = State::Ready;
        let mut metadata = std::mem::take(&mut self.summary);
        metadata.push(("t_last".into(), Value::Integer(0)));
        if !metadata.iter().any(|(k, _)| k == "db") {
            metadata.push(("db".into(), Value::String("neo4j".into())));
        }
        Response::Success { metadata }
    }
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
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Answers `RETURN n` with n records of one integer each; "fail" fails with a syntax error;
    /// credentials "bad" are refused.
    #[derive(Default)]
    struct Fake {
        runs: Mutex<Vec<RunRequest>>,
    }

    impl Backend for Fake {
        fn authenticate(&self, auth: &Auth) -> Result<Option<String>, BoltError> {
            if auth.credentials.as_deref() == Some("bad") {
                Err(BoltError::new(codes::UNAUTHORIZED, "bad credentials"))
            } else {
                Ok(auth.principal.clone())
            }
        }

        fn run(&self, request: RunRequest) -> BoxFuture<'_, Result<QueryOutcome, BoltError>> {
            Box::pin(async move {
                self.runs.lock().unwrap().push(request.clone());
                if request.query == "fail" {
                    return Err(BoltError::new(
                        "Neo.ClientError.Statement.SyntaxError",
                        "Invalid input",
                    ));
                }
                let n: i64 = request
                    .query
                    .trim_start_matches("RETURN ")
                    .parse()
                    .unwrap_or(0);
                Ok(QueryOutcome {
                    fields: vec!["x".into()],
                    records: (0..n).map(|i| vec![Value::Integer(i)]).collect(),
                    summary: vec![("type".into(), Value::String("r".into()))],
                })
            })
        }
    }

    fn hello(auth: Option<Auth>) -> Request {
        Request::Hello {
            user_agent: "test/1".into(),
            auth,
            extra: vec![],
        }
    }

    fn auth(credentials: &str) -> Auth {
        Auth {
            scheme: Some("basic".into()),
            principal: Some("alice".into()),
            credentials: Some(credentials.into()),
            fields: vec![],
        }
    }

    fn run(query: &str) -> Request {
        Request::Run {
            query: query.into(),
            parameters: vec![],
            extra: vec![],
        }
    }

    fn pull(n: i64) -> Request {
        Request::Pull { n, qid: -1 }
    }

    fn meta<'a>(r: &'a Response, key: &str) -> Option<&'a Value> {
        match r {
            Response::Success { metadata } => lookup(metadata, key),
            _ => None,
        }
    }

    fn is_success(r: &[Response]) -> bool {
        matches!(r, [Response::Success { .. }])
    }

    fn failure_code(r: &[Response]) -> Option<&str> {
        match r {
            [Response::Failure { code, .. }] => Some(code),
            _ => None,
        }
    }

    async fn ready<'b>(fake: &'b Fake, version: Version) -> Session<'b, Fake> {
        let mut s = Session::new(fake, version, "bolt-1".into(), "here:1".into());
        let (r, _) = s.handle(hello(None)).await;
        assert!(is_success(&r));
        if version >= Version::new(5, 1) {
            assert_eq!(s.state(), State::Authentication);
            let (r, _) = s.handle(Request::Logon { auth: auth("ok") }).await;
            assert!(is_success(&r));
        }
        assert_eq!(s.state(), State::Ready);
        s
    }

    #[tokio::test]
    async fn hello_then_logon_reaches_ready_in_5_1_and_hello_alone_in_5_0() {
        let fake = Fake::default();
        let s = ready(&fake, Version::new(5, 4)).await;
        assert_eq!(s.principal.as_deref(), Some("alice"));
        let mut s = Session::new(&fake, Version::new(5, 0), "c".into(), "a".into());
        let (r, _) = s.handle(hello(Some(auth("ok")))).await;
        assert_eq!(
            meta(&r[0], "connection_id"),
            Some(&Value::String("c".into()))
        );
        assert_eq!(s.state(), State::Ready);
    }

    #[tokio::test]
    async fn bad_credentials_fail_and_close_the_connection() {
        let fake = Fake::default();
        let mut s = Session::new(&fake, Version::new(5, 4), "c".into(), "a".into());
        s.handle(hello(None)).await;
        let (r, next) = s.handle(Request::Logon { auth: auth("bad") }).await;
        assert_eq!(failure_code(&r), Some(codes::UNAUTHORIZED));
        assert_eq!(next, Next::Close);
        let mut s = Session::new(&fake, Version::new(4, 4), "c".into(), "a".into());
        let (r, next) = s.handle(hello(Some(auth("bad")))).await;
        assert_eq!(failure_code(&r), Some(codes::UNAUTHORIZED));
        assert_eq!(next, Next::Close);
    }

    #[tokio::test]
    async fn anything_but_hello_first_is_refused() {
        let fake = Fake::default();
        let mut s = Session::new(&fake, Version::new(5, 4), "c".into(), "a".into());
        let (r, next) = s.handle(run("RETURN 1")).await;
        assert_eq!(failure_code(&r), Some(codes::REQUEST_INVALID));
        assert_eq!(next, Next::Close);
    }

    #[tokio::test]
    async fn run_then_pull_in_batches_reports_has_more_then_the_summary() {
        let fake = Fake::default();
        let mut s = ready(&fake, Version::new(5, 4)).await;
        let (r, _) = s.handle(run("RETURN 5")).await;
        assert_eq!(
            meta(&r[0], "fields"),
            Some(&Value::List(vec![Value::String("x".into())]))
        );
        assert_eq!(s.state(), State::Streaming);
        let (r, _) = s.handle(pull(2)).await;
        assert_eq!(r.len(), 3);
        assert_eq!(
            r[0],
            Response::Record {
                fields: vec![Value::Integer(0)]
            }
        );
        assert_eq!(meta(&r[2], "has_more"), Some(&Value::Boolean(true)));
        assert_eq!(s.state(), State::Streaming);
        let (r, _) = s.handle(pull(-1)).await;
        assert_eq!(r.len(), 4);
        assert_eq!(meta(&r[3], "has_more"), None);
        assert_eq!(meta(&r[3], "type"), Some(&Value::String("r".into())));
        assert_eq!(s.state(), State::Ready);
    }

    #[tokio::test]
    async fn discard_drops_records_and_ends_the_stream() {
        let fake = Fake::default();
        let mut s = ready(&fake, Version::new(4, 4)).await;
        s.handle(run("RETURN 4")).await;
        let (r, _) = s.handle(Request::Discard { n: 1, qid: -1 }).await;
        assert_eq!(meta(&r[0], "has_more"), Some(&Value::Boolean(true)));
        let (r, _) = s.handle(Request::Discard { n: -1, qid: -1 }).await;
        assert!(is_success(&r));
        assert_eq!(meta(&r[0], "has_more"), None);
        assert_eq!(s.state(), State::Ready);
    }

    #[tokio::test]
    async fn a_failure_ignores_everything_until_reset() {
        let fake = Fake::default();
        let mut s = ready(&fake, Version::new(5, 4)).await;
        let (r, next) = s.handle(run("fail")).await;
        assert_eq!(
            failure_code(&r),
            Some("Neo.ClientError.Statement.SyntaxError")
        );
        assert_eq!(next, Next::Continue);
        assert_eq!(s.state(), State::Failed);
        for req in [pull(-1), run("RETURN 1"), Request::Commit] {
            let (r, _) = s.handle(req).await;
            assert_eq!(r, vec![Response::Ignored]);
        }
        let (r, _) = s.handle(Request::Reset).await;
        assert!(is_success(&r));
        assert_eq!(s.state(), State::Ready);
        s.handle(run("RETURN 1")).await;
        let (r, _) = s.handle(pull(-1)).await;
        assert_eq!(r.len(), 2);
    }

    #[tokio::test]
    async fn reset_while_streaming_drops_the_result() {
        let fake = Fake::default();
        let mut s = ready(&fake, Version::new(5, 4)).await;
        s.handle(run("RETURN 3")).await;
        let (r, _) = s.handle(Request::Reset).await;
        assert!(is_success(&r));
        assert_eq!(s.state(), State::Ready);
        let (r, _) = s.handle(pull(-1)).await;
        assert_eq!(failure_code(&r), Some(codes::REQUEST_INVALID));
        assert_eq!(s.state(), State::Failed);
    }

    #[tokio::test]
    async fn run_while_streaming_is_invalid() {
        let fake = Fake::default();
        let mut s = ready(&fake, Version::new(5, 4)).await;
        s.handle(run("RETURN 3")).await;
        let (r, _) = s.handle(run("RETURN 1")).await;
        assert_eq!(failure_code(&r), Some(codes::REQUEST_INVALID));
        assert_eq!(fake.runs.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn begin_fails_with_a_clear_not_supported_error() {
        let fake = Fake::default();
        let mut s = ready(&fake, Version::new(5, 4)).await;
        let (r, _) = s.handle(Request::Begin { extra: vec![] }).await;
        match &r[..] {
            [Response::Failure { code, message }] => {
                assert_eq!(code, codes::TX_NOT_SUPPORTED);
                assert!(message.contains("explicit transactions"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s.state(), State::Failed);
        let (r, _) = s.handle(Request::Commit).await;
        assert_eq!(r, vec![Response::Ignored]);
    }

    #[tokio::test]
    async fn commit_and_rollback_outside_a_transaction_are_invalid() {
        let fake = Fake::default();
        for req in [Request::Commit, Request::Rollback] {
            let mut s = ready(&fake, Version::new(5, 4)).await;
            let (r, _) = s.handle(req).await;
            assert_eq!(failure_code(&r), Some(codes::REQUEST_INVALID));
        }
    }

    #[tokio::test]
    async fn route_names_the_drivers_address_for_every_role() {
        let fake = Fake::default();
        let mut s = ready(&fake, Version::new(5, 4)).await;
        let route = |routing| Request::Route {
            routing,
            bookmarks: vec![],
            database: None,
            impersonated_user: None,
        };
        let (r, _) = s
            .handle(route(vec![(
                "address".into(),
                Value::String("db.example:7687".into()),
            )]))
            .await;
        let Some(Value::Dictionary(rt)) = meta(&r[0], "rt") else {
            panic!("{r:?}")
        };
        assert_eq!(lookup(rt, "ttl"), Some(&Value::Integer(ROUTING_TTL)));
        let Some(Value::List(servers)) = lookup(rt, "servers") else {
            panic!("{rt:?}")
        };
        let mut roles = Vec::new();
        for server in servers {
            let Value::Dictionary(d) = server else {
                panic!()
            };
            assert_eq!(
                lookup(d, "addresses"),
                Some(&Value::List(vec![Value::String("db.example:7687".into())]))
            );
            roles.push(lookup(d, "role").cloned());
        }
        assert_eq!(roles.len(), 3);
        let (r, _) = s.handle(route(vec![])).await;
        let Some(Value::Dictionary(rt)) = meta(&r[0], "rt") else {
            panic!()
        };
        assert!(format!("{rt:?}").contains("here:1"));
    }

    #[tokio::test]
    async fn logoff_returns_to_authentication_and_logon_reauthenticates() {
        let fake = Fake::default();
        let mut s = ready(&fake, Version::new(5, 4)).await;
        let (r, _) = s.handle(Request::Logoff).await;
        assert!(is_success(&r));
        assert_eq!(s.state(), State::Authentication);
        let (r, _) = s.handle(run("RETURN 1")).await;
        assert_eq!(failure_code(&r), Some(codes::REQUEST_INVALID));
        // LOGOFF does not exist in 5.0.
        let mut s = ready(&fake, Version::new(5, 0)).await;
        let (r, _) = s.handle(Request::Logoff).await;
        assert_eq!(failure_code(&r), Some(codes::REQUEST_INVALID));
    }

    #[tokio::test]
    async fn telemetry_succeeds_and_goodbye_closes() {
        let fake = Fake::default();
        let mut s = ready(&fake, Version::new(5, 4)).await;
        let (r, _) = s.handle(Request::Telemetry { api: 1 }).await;
        assert!(is_success(&r));
        let (r, next) = s.handle(Request::Goodbye).await;
        assert!(r.is_empty());
        assert_eq!(next, Next::Close);
    }

    #[tokio::test]
    async fn run_passes_mode_version_and_principal_to_the_backend() {
        let fake = Fake::default();
        let mut s = ready(&fake, Version::new(5, 2)).await;
        s.handle(Request::Run {
            query: "RETURN 0".into(),
            parameters: vec![("p".into(), Value::Integer(1))],
            extra: vec![("mode".into(), Value::String("r".into()))],
        })
        .await;
        let runs = fake.runs.lock().unwrap();
        assert!(runs[0].is_read_mode());
        assert_eq!(runs[0].version, Version::new(5, 2));
        assert_eq!(runs[0].principal.as_deref(), Some("alice"));
        assert_eq!(runs[0].parameters, vec![("p".into(), Value::Integer(1))]);
    }
}
