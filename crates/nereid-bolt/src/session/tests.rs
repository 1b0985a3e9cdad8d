//! Tests of [`super`] (session.rs).

use super::*;
use std::sync::{Arc, Mutex};

/// Answers `RETURN n` with n records of one integer each; "fail" fails with a syntax error;
/// credentials "bad" are refused. Transactions log what happens to them in `events`.
#[derive(Default)]
struct Fake {
    runs: Arc<Mutex<Vec<RunRequest>>>,
    begins: Mutex<Vec<BeginRequest>>,
    events: Arc<Mutex<Vec<String>>>,
}

/// A result whose query cannot run to its end while the client is not pulling: it
/// would hold more than its limit (as a backend with a memory budget answers).
struct TooBigToKeep(Materialized);

impl RecordStream for TooBigToKeep {
    fn fields(&self) -> Vec<String> {
        self.0.fields()
    }
    fn pull(&mut self, n: usize) -> BoxFuture<'_, Result<Pulled, BoltError>> {
        self.0.pull(n)
    }
    fn discard(&mut self) -> BoxFuture<'_, Result<Dict, BoltError>> {
        self.0.discard()
    }
    fn read_to_end(&mut self) -> BoxFuture<'_, Result<(), BoltError>> {
        Box::pin(async {
            Err(BoltError::new(
                "Neo.TransientError.General.MemoryPoolOutOfMemoryError",
                "Query exceeded its memory limit",
            ))
        })
    }
}

fn outcome(request: &RunRequest) -> Result<Box<dyn RecordStream>, BoltError> {
    if let Some(n) = request.query.strip_prefix("BIG ") {
        let n: i64 = n.parse().unwrap_or(0);
        return Ok(Box::new(TooBigToKeep(Materialized::from(QueryOutcome {
            fields: vec!["x".into()],
            records: (0..n).map(|i| vec![Value::Integer(i)]).collect(),
            summary: vec![],
        }))));
    }
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
    Ok(Box::new(Materialized::from(QueryOutcome {
        fields: vec!["x".into()],
        records: (0..n).map(|i| vec![Value::Integer(i)]).collect(),
        summary: vec![("type".into(), Value::String("r".into()))],
    })))
}

impl Backend for Fake {
    fn authenticate(&self, auth: &Auth) -> Result<Option<String>, BoltError> {
        if auth.credentials.as_deref() == Some("bad") {
            Err(BoltError::new(codes::UNAUTHORIZED, "bad credentials"))
        } else {
            Ok(auth.principal.clone())
        }
    }

    fn run(&self, request: RunRequest) -> BoxFuture<'_, Result<Box<dyn RecordStream>, BoltError>> {
        Box::pin(async move {
            self.runs.lock().unwrap().push(request.clone());
            outcome(&request)
        })
    }

    fn begin(
        &self,
        request: BeginRequest,
    ) -> BoxFuture<'_, Result<Box<dyn BackendTransaction>, BoltError>> {
        Box::pin(async move {
            if tx_timeout_ms(&request.extra)?.is_some_and(|t| t == 13) {
                return Err(BoltError::new("Neo.ClientError.Test", "unlucky"));
            }
            self.begins.lock().unwrap().push(request);
            self.events.lock().unwrap().push("begin".into());
            Ok(Box::new(FakeTx {
                runs: self.runs.clone(),
                events: self.events.clone(),
                ended: false,
            }) as Box<dyn BackendTransaction>)
        })
    }
}

struct FakeTx {
    runs: Arc<Mutex<Vec<RunRequest>>>,
    events: Arc<Mutex<Vec<String>>>,
    ended: bool,
}

impl BackendTransaction for FakeTx {
    fn run(
        &mut self,
        request: RunRequest,
    ) -> BoxFuture<'_, Result<Box<dyn RecordStream>, BoltError>> {
        Box::pin(async move {
            self.runs.lock().unwrap().push(request.clone());
            self.events
                .lock()
                .unwrap()
                .push(format!("run {}", request.query));
            outcome(&request)
        })
    }

    fn commit(&mut self) -> BoxFuture<'_, Result<Option<String>, BoltError>> {
        Box::pin(async move {
            self.ended = true;
            self.events.lock().unwrap().push("commit".into());
            Ok(Some("bm:7".into()))
        })
    }

    fn rollback(&mut self) -> BoxFuture<'_, Result<(), BoltError>> {
        Box::pin(async move {
            self.ended = true;
            self.events.lock().unwrap().push("rollback".into());
            Ok(())
        })
    }
}

impl Drop for FakeTx {
    fn drop(&mut self) {
        if !self.ended {
            self.events.lock().unwrap().push("dropped".into());
        }
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

fn begin() -> Request {
    Request::Begin { extra: vec![] }
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

fn records(r: &[Response]) -> Vec<i64> {
    r.iter()
        .filter_map(|r| match r {
            Response::Record { fields } => match fields[..] {
                [Value::Integer(i)] => Some(i),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn events(fake: &Fake) -> Vec<String> {
    fake.events.lock().unwrap().clone()
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

/// Steps a PULL (or DISCARD) through every [`Next::Resume`]; all responses and the
/// number of steps.
async fn pull_all(s: &mut Session<'_, Fake>, request: Request) -> (Vec<Response>, usize) {
    let (mut out, mut next) = s.handle(request).await;
    let mut steps = 1;
    while next == Next::Resume {
        let (more, n) = s.step(Step::Resume).await;
        out.extend(more);
        next = n;
        steps += 1;
    }
    (out, steps)
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
    assert_eq!(meta(&r[0], "qid"), None, "auto-commit results have no qid");
    assert_eq!(s.state(), State::Streaming);
    let (r, _) = s.handle(pull(2)).await;
    assert_eq!(r.len(), 3);
    assert_eq!(records(&r), vec![0, 1]);
    assert_eq!(meta(&r[2], "has_more"), Some(&Value::Boolean(true)));
    assert_eq!(s.state(), State::Streaming);
    let (r, _) = s.handle(pull(-1)).await;
    assert_eq!(r.len(), 4);
    assert_eq!(meta(&r[3], "has_more"), None);
    assert_eq!(meta(&r[3], "type"), Some(&Value::String("r".into())));
    assert_eq!(s.state(), State::Ready);
}

#[tokio::test]
async fn a_large_pull_is_answered_in_slices() {
    let fake = Fake::default();
    let mut s = ready(&fake, Version::new(5, 4)).await;
    s.handle(run(&format!("RETURN {}", 2 * PULL_SLICE + 5)))
        .await;
    let (r, next) = s.handle(pull(-1)).await;
    assert_eq!(next, Next::Resume);
    assert_eq!(records(&r).len(), PULL_SLICE);
    assert_eq!(s.state(), State::Streaming);
    let (r, next) = s.step(Step::Resume).await;
    assert_eq!((records(&r).len(), next), (PULL_SLICE, Next::Resume));
    let (r, next) = s.step(Step::Resume).await;
    assert_eq!((records(&r).len(), next), (5, Next::Continue));
    assert_eq!(
        meta(r.last().unwrap(), "type"),
        Some(&Value::String("r".into()))
    );
    assert_eq!(s.state(), State::Ready);
    // A PULL n larger than a slice stops at n with has_more.
    s.handle(run(&format!("RETURN {}", 3 * PULL_SLICE))).await;
    let (r, steps) = pull_all(&mut s, pull(PULL_SLICE as i64 + 10)).await;
    assert_eq!(steps, 2);
    assert_eq!(records(&r).len(), PULL_SLICE + 10);
    assert_eq!(
        meta(r.last().unwrap(), "has_more"),
        Some(&Value::Boolean(true))
    );
    // DISCARD of everything ends it in one step.
    let (r, steps) = pull_all(&mut s, Request::Discard { n: -1, qid: -1 }).await;
    assert_eq!((r.len(), steps), (1, 1));
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
async fn pull_zero_or_an_unknown_qid_fails() {
    let fake = Fake::default();
    let mut s = ready(&fake, Version::new(5, 4)).await;
    s.handle(run("RETURN 2")).await;
    let (r, _) = s.handle(pull(0)).await;
    assert_eq!(failure_code(&r), Some(codes::REQUEST_INVALID));
    s.handle(Request::Reset).await;
    s.handle(begin()).await;
    s.handle(run("RETURN 2")).await;
    let (r, _) = s.handle(Request::Pull { n: 1, qid: 5 }).await;
    assert_eq!(failure_code(&r), Some(codes::REQUEST_INVALID));
    assert_eq!(s.state(), State::Failed);
    assert_eq!(events(&fake), vec!["begin", "run RETURN 2", "dropped"]);
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
async fn run_while_streaming_outside_a_transaction_is_invalid() {
    let fake = Fake::default();
    let mut s = ready(&fake, Version::new(5, 4)).await;
    s.handle(run("RETURN 3")).await;
    let (r, _) = s.handle(run("RETURN 1")).await;
    assert_eq!(failure_code(&r), Some(codes::REQUEST_INVALID));
    assert_eq!(fake.runs.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn begin_run_pull_commit_walks_tx_ready_and_tx_streaming() {
    let fake = Fake::default();
    let mut s = ready(&fake, Version::new(5, 4)).await;
    let extra = vec![
        ("mode".into(), Value::String("r".into())),
        ("tx_timeout".into(), Value::Integer(500)),
        (
            "bookmarks".into(),
            Value::List(vec![Value::String("bm:1".into())]),
        ),
    ];
    let (r, _) = s.handle(Request::Begin { extra }).await;
    assert!(is_success(&r));
    assert_eq!(s.state(), State::TxReady);
    {
        let begins = fake.begins.lock().unwrap();
        assert!(begins[0].is_read_mode());
        assert_eq!(tx_timeout_ms(&begins[0].extra), Ok(Some(500)));
        assert_eq!(bookmarks(&begins[0].extra), Ok(vec!["bm:1".to_owned()]));
    }
    let (r, _) = s.handle(run("RETURN 3")).await;
    assert_eq!(meta(&r[0], "qid"), Some(&Value::Integer(0)));
    assert_eq!(s.state(), State::TxStreaming);
    let (r, _) = s.handle(pull(2)).await;
    assert_eq!(records(&r), vec![0, 1]);
    assert_eq!(s.state(), State::TxStreaming);
    let (r, _) = s.handle(pull(-1)).await;
    assert_eq!(records(&r), vec![2]);
    assert_eq!(s.state(), State::TxReady);
    let (r, _) = s.handle(run("RETURN 1")).await;
    assert_eq!(meta(&r[0], "qid"), Some(&Value::Integer(1)));
    s.handle(pull(-1)).await;
    let (r, _) = s.handle(Request::Commit).await;
    assert_eq!(meta(&r[0], "bookmark"), Some(&Value::String("bm:7".into())));
    assert_eq!(s.state(), State::Ready);
    assert_eq!(
        events(&fake),
        vec!["begin", "run RETURN 3", "run RETURN 1", "commit"]
    );
}

#[tokio::test]
async fn results_of_one_transaction_are_pulled_by_qid_after_a_later_run() {
    let fake = Fake::default();
    let mut s = ready(&fake, Version::new(5, 4)).await;
    s.handle(begin()).await;
    s.handle(run("RETURN 4")).await;
    let (r, _) = s.handle(pull(1)).await;
    assert_eq!(records(&r), vec![0]);
    // A second RUN while the first result is open: the first is read ahead.
    let (r, _) = s.handle(run("RETURN 2")).await;
    assert_eq!(meta(&r[0], "qid"), Some(&Value::Integer(1)));
    let (r, _) = s.handle(Request::Pull { n: -1, qid: 1 }).await;
    assert_eq!(records(&r), vec![0, 1]);
    assert_eq!(s.state(), State::TxStreaming, "qid 0 is still open");
    let (r, _) = s.handle(Request::Pull { n: 2, qid: 0 }).await;
    assert_eq!(records(&r), vec![1, 2]);
    assert_eq!(
        meta(r.last().unwrap(), "has_more"),
        Some(&Value::Boolean(true))
    );
    let (r, _) = s.handle(Request::Pull { n: 5, qid: 0 }).await;
    assert_eq!(records(&r), vec![3]);
    assert_eq!(s.state(), State::TxReady);
}

#[tokio::test]
async fn a_result_that_cannot_be_kept_fails_the_next_run_and_the_transaction() {
    let fake = Fake::default();
    let mut s = ready(&fake, Version::new(5, 4)).await;
    s.handle(begin()).await;
    s.handle(run("BIG 10")).await;
    let (r, _) = s.handle(pull(2)).await;
    assert_eq!(records(&r), vec![0, 1]);
    // The next statement needs the first result run to its end, which is refused.
    let (r, next) = s.handle(run("RETURN 1")).await;
    assert_eq!(
        failure_code(&r),
        Some("Neo.TransientError.General.MemoryPoolOutOfMemoryError")
    );
    assert_eq!(next, Next::Continue, "the connection stays up");
    assert_eq!(s.state(), State::Failed);
    // The statement never reached the backend, and the transaction was dropped.
    let ev = events(&fake);
    assert!(!ev.contains(&"run RETURN 1".to_owned()), "{ev:?}");
    assert_eq!(ev.last().map(String::as_str), Some("dropped"));
    assert!(is_success(&s.handle(Request::Reset).await.0));
    assert_eq!(s.state(), State::Ready);
    let (r, _) = s.handle(run("RETURN 3")).await;
    assert!(is_success(&r));
    assert_eq!(records(&s.handle(pull(-1)).await.0), vec![0, 1, 2]);
}

#[tokio::test]
async fn commit_ends_open_results_first_and_rollback_rolls_back() {
    let fake = Fake::default();
    let mut s = ready(&fake, Version::new(4, 4)).await;
    s.handle(begin()).await;
    s.handle(run("RETURN 5")).await;
    let (r, _) = s.handle(Request::Commit).await;
    assert!(is_success(&r), "{r:?}");
    assert_eq!(s.state(), State::Ready);
    s.handle(begin()).await;
    s.handle(run("RETURN 1")).await;
    s.handle(pull(-1)).await;
    let (r, _) = s.handle(Request::Rollback).await;
    assert!(is_success(&r));
    assert_eq!(s.state(), State::Ready);
    assert_eq!(
        events(&fake),
        vec![
            "begin",
            "run RETURN 5",
            "commit",
            "begin",
            "run RETURN 1",
            "rollback"
        ]
    );
}

#[tokio::test]
async fn a_failure_in_a_transaction_rolls_it_back_and_ignores_until_reset() {
    let fake = Fake::default();
    let mut s = ready(&fake, Version::new(5, 4)).await;
    s.handle(begin()).await;
    s.handle(run("RETURN 1")).await;
    s.handle(pull(-1)).await;
    let (r, _) = s.handle(run("fail")).await;
    assert_eq!(
        failure_code(&r),
        Some("Neo.ClientError.Statement.SyntaxError")
    );
    assert_eq!(s.state(), State::Failed);
    assert_eq!(events(&fake).last().map(String::as_str), Some("dropped"));
    for req in [run("RETURN 1"), Request::Commit, Request::Rollback] {
        assert_eq!(s.handle(req).await.0, vec![Response::Ignored]);
    }
    assert!(is_success(&s.handle(Request::Reset).await.0));
    assert_eq!(s.state(), State::Ready);
}

#[tokio::test]
async fn reset_and_goodbye_in_a_transaction_roll_it_back() {
    let fake = Fake::default();
    let mut s = ready(&fake, Version::new(5, 4)).await;
    s.handle(begin()).await;
    s.handle(run("RETURN 1")).await;
    assert!(is_success(&s.handle(Request::Reset).await.0));
    assert_eq!(s.state(), State::Ready);
    s.handle(begin()).await;
    let (_, next) = s.handle(Request::Goodbye).await;
    assert_eq!(next, Next::Close);
    assert_eq!(
        events(&fake),
        vec!["begin", "run RETURN 1", "dropped", "begin", "dropped"]
    );
}

#[tokio::test]
async fn messages_that_do_not_fit_the_transaction_state_are_invalid() {
    let fake = Fake::default();
    // BEGIN inside a transaction, PULL in TX_READY, ROUTE in a transaction.
    for req in [
        begin(),
        pull(-1),
        Request::Route {
            routing: vec![],
            bookmarks: vec![],
            database: None,
            impersonated_user: None,
        },
    ] {
        let mut s = ready(&fake, Version::new(5, 4)).await;
        s.handle(begin()).await;
        let (r, _) = s.handle(req).await;
        assert_eq!(failure_code(&r), Some(codes::REQUEST_INVALID), "{r:?}");
        match &r[0] {
            Response::Failure { message, .. } => {
                assert!(message.contains("TX_READY"), "{message}")
            }
            _ => unreachable!(),
        }
    }
    // A failing BEGIN leaves no transaction.
    let mut s = ready(&fake, Version::new(5, 4)).await;
    let (r, _) = s
        .handle(Request::Begin {
            extra: vec![("tx_timeout".into(), Value::Integer(13))],
        })
        .await;
    assert_eq!(failure_code(&r), Some("Neo.ClientError.Test"));
    assert_eq!(s.state(), State::Failed);
    let (r, _) = s
        .handle(Request::Begin {
            extra: vec![("tx_timeout".into(), Value::String("soon".into()))],
        })
        .await;
    assert_eq!(r, vec![Response::Ignored]);
}

#[test]
fn tx_timeout_and_bookmarks_are_validated() {
    let d = |k: &str, v: Value| vec![(k.to_owned(), v)];
    assert_eq!(tx_timeout_ms(&vec![]), Ok(None));
    assert_eq!(
        tx_timeout_ms(&d("tx_timeout", Value::Integer(5))),
        Ok(Some(5))
    );
    assert!(tx_timeout_ms(&d("tx_timeout", Value::Integer(-1))).is_err());
    assert!(tx_timeout_ms(&d("tx_timeout", Value::Float(1.0))).is_err());
    assert_eq!(bookmarks(&vec![]), Ok(vec![]));
    assert!(bookmarks(&d("bookmarks", Value::List(vec![Value::Integer(1)]))).is_err());
    assert!(bookmarks(&d("bookmarks", Value::String("x".into()))).is_err());
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
async fn a_backend_without_transactions_refuses_begin() {
    struct NoTx;
    impl Backend for NoTx {
        fn authenticate(&self, _: &Auth) -> Result<Option<String>, BoltError> {
            Ok(None)
        }
        fn run(&self, _: RunRequest) -> BoxFuture<'_, Result<Box<dyn RecordStream>, BoltError>> {
            Box::pin(async { Ok(Box::new(Materialized::from(QueryOutcome::default())) as _) })
        }
    }
    let mut s = Session::new(&NoTx, Version::new(4, 4), "c".into(), "a".into());
    s.handle(hello(None)).await;
    let (r, _) = s.handle(begin()).await;
    assert_eq!(failure_code(&r), Some(codes::TX_NOT_SUPPORTED));
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
async fn a_4_2_driver_gets_the_routing_table_from_the_routing_procedure() {
    let fake = Fake::default();
    let mut s = ready(&fake, Version::new(4, 2)).await;
    let context = Value::Dictionary(vec![(
        "address".into(),
        Value::String("db.example:8182".into()),
    )]);
    let (r, _) = s
        .handle(Request::Run {
            query: ROUTING_PROCEDURE.into(),
            parameters: vec![
                ("context".into(), context),
                ("database".into(), Value::Null),
            ],
            extra: vec![],
        })
        .await;
    assert_eq!(
        meta(&r[0], "fields"),
        Some(&Value::List(vec![
            Value::String("ttl".into()),
            Value::String("servers".into())
        ]))
    );
    let (r, _) = s.handle(pull(-1)).await;
    let Response::Record { fields } = &r[0] else {
        panic!("{r:?}")
    };
    assert_eq!(fields[0], Value::Integer(ROUTING_TTL));
    let Value::List(servers) = &fields[1] else {
        panic!("{fields:?}")
    };
    assert_eq!(servers.len(), 3);
    assert!(format!("{servers:?}").contains("db.example:8182"));
    assert_eq!(s.state(), State::Ready);
    // Answered by the session: the backend never saw it.
    assert!(fake.runs.lock().unwrap().is_empty());
    // From 4.3 on it is an ordinary query (drivers send ROUTE instead).
    let mut s = ready(&fake, Version::new(4, 4)).await;
    s.handle(run(ROUTING_PROCEDURE)).await;
    assert_eq!(fake.runs.lock().unwrap().len(), 1);
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
