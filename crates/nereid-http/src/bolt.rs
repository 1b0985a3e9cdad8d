//! The Bolt backend: [`nereid_bolt::session::Backend`] over the engine's [`QueryManager`].
//!
//! Every RUN, auto-commit or inside an explicit transaction, goes through the manager exactly
//! as an HTTP query does: it gets a query id (a UUID), is queued, timed out
//! (`--query-timeout-ms`, `USING QUERY:` hints, the driver's `tx_timeout`, the transaction's
//! deadline), listed by `GET /openCypher/status` and cancellable there (the driver then sees
//! `Neo.ClientError.Transaction.Terminated`), and `--read-only` refuses writes the same way.
//! A RUN in a read session or read transaction (`mode: "r"`) that could write fails with
//! `Neo.ClientError.Statement.AccessMode` before it is queued. A client that disconnects while
//! its query runs has the query cancelled.
//!
//! **Streaming.** A read-only query hands its rows to a [`Feed`] as the engine produces them
//! (batch by batch, converted to Bolt values on the worker thread); PULL takes them from it.
//! The feed holds at most [`FEED_BATCHES`] batches: a client that stops pulling stops the
//! query at that point (the worker waits, still cancellable and bound by its timeout). A
//! DISCARD tells the query to stop producing, and it ends successfully. A query that may write
//! runs to its commit first and its rows are then handed out from memory, so no client ever
//! sees a row of a write that did not commit.
//!
//! **Memory.** Every row the backend holds for a client is charged to the query's memory
//! budget (`--query-memory-mb`), the very budget the engine runs the query with
//! ([`RunOptions::memory`]): the feed's batches, converted to Bolt values, while they wait
//! for PULL; a finished result's rows (a write's, a short read's), kept in the engine's form
//! with the nodes and relationships they name ([`QueryResult::held_bytes`]) and converted as
//! they are pulled. The engine charges a result the same way before a write commits, so a
//! write whose rows would not fit fails before its commit. A transaction runs one statement
//! at a time: a RUN while an earlier result is still open first lets that query run to its
//! end with every remaining row kept ([`RecordStream::read_to_end`]). The statements of one
//! transaction share one budget, so what earlier results keep and what the running
//! statement holds stay under one `--query-memory-mb` together. Past it the query fails with
//! the HTTP error, `MemoryLimitExceededException`'s message and
//! `Neo.TransientError.General.MemoryPoolOutOfMemoryError`; the transaction is rolled back,
//! the connection and the server carry on.
//!
//! **Bookmarks.** An auto-commit query that may write returns `bookmark` (`nereid:<version>`,
//! the version it committed as) in its final PULL or DISCARD SUCCESS, as COMMIT does.
//!
//! **Explicit transactions** ([`BoltTransaction`]) are the engine's interactive transactions
//! (`nereid_engine::transaction`): BEGIN opens one (read-only for `mode: "r"`), with a timeout
//! of the smaller of `--transaction-timeout-ms` and the driver's `tx_timeout`; each RUN is a
//! statement of it; COMMIT makes it durable and returns a bookmark `nereid:<version>`;
//! ROLLBACK, RESET, a failure, the timeout or a dropped connection roll it back. A second
//! writer waits for an open write transaction up to the lock wait, then gets the transient
//! `Neo.TransientError.Transaction.DeadlockDetected`, which drivers' managed transactions
//! retry. Bookmarks sent with BEGIN or RUN must be strings; every one this server hands out is
//! already satisfied when it is handed out (one server, commits visible once acknowledged),
//! so they are accepted without waiting.
//!
//! Values: a node's `element_id` is its Neptune `~id` (what `id(n)` returns over HTTP), its
//! integer `id` the store's internal node number; likewise for relationships. Byte arrays have
//! no nereid counterpart and are refused as parameters.
//!
//! With `--auth iam`, HELLO/LOGON basic-auth credentials must be the SigV4 JSON document
//! (`nereid_sigv4::verify_bolt_credentials`); the verified principal's policy authorizes each
//! query's actions as over HTTP.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration as StdDuration, Instant, SystemTime};

use nereid_bolt::handshake::Version;
use nereid_bolt::message::{Auth, Dict};
use nereid_bolt::packstream::{record_size, Value as Bolt};
use nereid_bolt::session::{
    self, codes, Backend, BackendTransaction, BeginRequest, BoltError, BoxFuture, Pulled,
    RecordStream, RunRequest,
};
use nereid_bolt::values;
use nereid_common::{CancelToken, Error, ErrorCode};
use nereid_engine::manager::{Completion, Protocol, QueryManager, QueryRunner, RunOptions};
use nereid_engine::{
    MemoryBudget, QueryAccess, QueryResult, Reservation, RowSink, Transaction, TxnMode, TxnOptions,
};
use nereid_sigv4::{Action, IamConfig, Principal, RequestContext};
use nereid_temporal::{
    Date, DateTime, Duration, LocalDateTime, LocalTime, Offset, Temporal, Time, Zone,
};
use nereid_value::{Map, NodeId, RelId, Value};
use tokio::sync::Notify;

/// Neo4j's code for a write attempted in a read session.
pub const ACCESS_MODE: &str = "Neo.ClientError.Statement.AccessMode";

/// Batches of rows a streaming query may have produced ahead of its client (an engine batch
/// is at most 1,024 rows).
pub const FEED_BATCHES: usize = 4;

/// Query texts up to this size are prepared on the connection's thread (as over HTTP).
const INLINE_PREPARE_BYTES: usize = 2048;

/// Default of `--transaction-timeout-ms`.
pub const DEFAULT_TRANSACTION_TIMEOUT_MS: u64 = 120_000;

/// The Bolt backend over a query manager.
pub struct BoltBackend<R: QueryRunner> {
    inner: Arc<Inner<R>>,
}

struct Inner<R: QueryRunner> {
    manager: Arc<QueryManager<R>>,
    iam: Option<Arc<IamConfig>>,
    query_memory_limit: usize,
    /// Longest query text accepted (as `HttpConfig::max_query_bytes`).
    max_query_bytes: usize,
    /// Whether connections arrive over TLS (`aws:SecureTransport` in IAM policies).
    secure_transport: bool,
    /// Longest an explicit transaction stays open; `None`: no limit.
    transaction_timeout: Option<StdDuration>,
    /// Principals verified at HELLO/LOGON, by name, for per-query authorization.
    principals: Mutex<HashMap<String, Principal>>,
}

impl<R: QueryRunner> BoltBackend<R> {
    pub fn new(
        manager: Arc<QueryManager<R>>,
        iam: Option<Arc<IamConfig>>,
        query_memory_limit: usize,
        secure_transport: bool,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                manager,
                iam,
                query_memory_limit,
                secure_transport,
                max_query_bytes: crate::DEFAULT_MAX_QUERY_BYTES,
                transaction_timeout: Some(StdDuration::from_millis(DEFAULT_TRANSACTION_TIMEOUT_MS)),
                principals: Mutex::new(HashMap::new()),
            }),
        }
    }

    fn inner_mut(&mut self) -> &mut Inner<R> {
        // Configured before it is shared, so this copies nothing.
        Arc::make_mut(&mut self.inner)
    }

    /// Overrides the query-text limit ([`crate::DEFAULT_MAX_QUERY_BYTES`]).
    pub fn with_max_query_bytes(mut self, bytes: usize) -> Self {
        self.inner_mut().max_query_bytes = bytes;
        self
    }

    /// `--transaction-timeout-ms`: explicit transactions still open this long after BEGIN
    /// are rolled back; 0 = no limit (the driver's `tx_timeout` still applies). A driver's
    /// `tx_timeout` can only shorten it.
    pub fn with_transaction_timeout_ms(mut self, ms: u64) -> Self {
        self.inner_mut().transaction_timeout = (ms > 0).then(|| StdDuration::from_millis(ms));
        self
    }
}

/// An engine error as a Bolt failure: the error table's Neo4j code, the HTTP message.
pub fn bolt_error(error: &Error) -> BoltError {
    BoltError::new(error.info().bolt, error.to_string())
}

fn coded(e: Error) -> BoltError {
    bolt_error(&e)
}

impl<R: QueryRunner> Backend for BoltBackend<R> {
    fn authenticate(&self, auth: &Auth) -> Result<Option<String>, BoltError> {
        let Some(iam) = &self.inner.iam else {
            // Without --auth iam every client is let in, whatever it sends (as over HTTP).
            return Ok(auth.principal.clone());
        };
        let credentials = auth.credentials.as_deref().unwrap_or("");
        let principal = nereid_sigv4::verify_bolt_credentials(iam, credentials, SystemTime::now())
            .map_err(|e| BoltError::new(codes::UNAUTHORIZED, e.to_string()))?;
        let name = principal.name().to_owned();
        lock(&self.inner.principals).insert(name.clone(), principal);
        Ok(Some(name))
    }

    fn run(&self, request: RunRequest) -> BoxFuture<'_, Result<Box<dyn RecordStream>, BoltError>> {
        Box::pin(async move {
            session::bookmarks(&request.extra)?;
            let deadline = session::tx_timeout_ms(&request.extra)?
                .filter(|ms| *ms > 0)
                .and_then(|ms| Instant::now().checked_add(StdDuration::from_millis(ms)));
            let read = request.is_read_mode();
            let memory = MemoryBudget::new(self.inner.query_memory_limit);
            self.inner.run(request, read, None, deadline, memory).await
        })
    }

    fn begin(
        &self,
        request: BeginRequest,
    ) -> BoxFuture<'_, Result<Box<dyn BackendTransaction>, BoltError>> {
        Box::pin(async move {
            session::bookmarks(&request.extra)?;
            let driver = session::tx_timeout_ms(&request.extra)?
                .filter(|ms| *ms > 0)
                .map(StdDuration::from_millis);
            let timeout = match (self.inner.transaction_timeout, driver) {
                (Some(server), Some(driver)) => Some(server.min(driver)),
                (server, driver) => server.or(driver),
            };
            let read = request.is_read_mode();
            let options = TxnOptions {
                mode: if read { TxnMode::Read } else { TxnMode::Write },
                timeout,
            };
            let txn = self
                .inner
                .manager
                .begin_transaction(options)
                .map_err(coded)?;
            Ok(Box::new(BoltTransaction {
                inner: Arc::clone(&self.inner),
                txn,
                read,
                memory: MemoryBudget::new(self.inner.query_memory_limit),
            }) as Box<dyn BackendTransaction>)
        })
    }
}

impl<R: QueryRunner> Clone for Inner<R> {
    fn clone(&self) -> Self {
        Self {
            manager: Arc::clone(&self.manager),
            iam: self.iam.clone(),
            query_memory_limit: self.query_memory_limit,
            max_query_bytes: self.max_query_bytes,
            secure_transport: self.secure_transport,
            transaction_timeout: self.transaction_timeout,
            principals: Mutex::new(lock(&self.principals).clone()),
        }
    }
}

impl<R: QueryRunner> Inner<R> {
    fn principal(&self, name: &str) -> Option<Principal> {
        lock(&self.principals).get(name).cloned()
    }

    /// What every RUN is checked for before it is queued: text size, parameters, read mode,
    /// IAM authorization.
    fn check(&self, request: &RunRequest, read: bool) -> Result<(Map, QueryAccess), BoltError> {
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
        if read && (access.write || access.delete) {
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
        Ok((params, access))
    }

    /// Submits one RUN (auto-commit, or a statement of `transaction`) and waits for its first
    /// rows or its end.
    async fn run(
        self: &Arc<Self>,
        request: RunRequest,
        read: bool,
        transaction: Option<Transaction>,
        deadline: Option<Instant>,
        memory: Arc<MemoryBudget>,
    ) -> Result<Box<dyn RecordStream>, BoltError> {
        let (params, access) = self.check(&request, read)?;
        let feed = Arc::new(Feed::new(Arc::clone(&memory), request.version));
        let done: Completion = {
            let feed = Arc::clone(&feed);
            Box::new(move |outcome| feed.finish(outcome))
        };
        let options = RunOptions {
            transaction,
            sink: Some(Box::new(FeedSink {
                feed: Arc::clone(&feed),
            })),
            deadline,
            memory: Some(memory),
        };
        let id = crate::ids::random_id();
        let mut guard = CancelOnDrop {
            manager: self.manager.clone(),
            id: id.clone(),
            armed: true,
        };
        let manager = self.manager.clone();
        let query = request.query;
        let inline = query.len() <= INLINE_PREPARE_BYTES;
        if inline {
            // A short text parses and plans in microseconds, and an auto-commit query may then
            // run on this thread for a short time slice (`QueryManager::run_or_submit`): a
            // hand-over to a worker and back would cost more than a point lookup.
            manager
                .run_or_submit_with(Protocol::Bolt, id, &query, params, options, done)
                .map_err(coded)?;
        } else {
            let submit =
                move || manager.submit_with(Protocol::Bolt, id, &query, params, options, done);
            // Preparing a long text takes a while: not on the reactor.
            tokio::task::spawn_blocking(submit)
                .await
                .map_err(|e| coded(Error::internal(format!("the query submission failed: {e}"))))?
                .map_err(coded)?;
        }
        let fields = feed.first().await?;
        let finished = lock(&feed.state).end.is_some();
        // Once the query finished there is nothing left to cancel.
        guard.armed = !finished;
        Ok(Box::new(EngineStream {
            feed,
            fields,
            kind: if access.write || access.delete {
                "rw"
            } else {
                "r"
            },
            guard,
        }))
    }
}

/// Where a running query leaves its rows for the Bolt connection, and its outcome.
///
/// Everything a feed holds is charged to the query's memory budget, the one the engine ran
/// the query with: the batches a streaming read produced ahead of its client, and the rows
/// of a query that returned them in its result. Past the limit the query fails with
/// `MemoryLimitExceededException` (Bolt `Neo.TransientError.General.MemoryPoolOutOfMemoryError`).
struct Feed {
    state: Mutex<FeedState>,
    /// The producer waits here for room.
    room: Condvar,
    /// The consumer waits here for rows or the end.
    ready: Notify,
    memory: Arc<MemoryBudget>,
    version: Version,
}

struct FeedState {
    fields: Option<Vec<String>>,
    /// Records a streaming read produced ahead of the client, each batch with its charge.
    batches: VecDeque<(Vec<Vec<Bolt>>, Reservation)>,
    /// The rows of a query that returned them in its result: a query that may write (it
    /// commits before a row is handed out) or a short read that ran in a time slice. Kept
    /// in the engine's form, where a node named by many rows is held once, and converted
    /// as they are pulled.
    rest: Option<Rest>,
    /// The query's outcome: success, or its failure.
    end: Option<Result<(), BoltError>>,
    /// The version an auto-commit query that may write committed: its bookmark.
    commit_seq: Option<u64>,
    /// The consumer wants no more rows (DISCARD, or the stream was dropped).
    closed: bool,
    /// The consumer wants the whole result kept (the transaction's next statement is about
    /// to run): the producer no longer waits for room, only for the budget.
    unbounded: bool,
}

/// The rows of a finished query's result, handed out from `next` on.
struct Rest {
    result: QueryResult,
    next: usize,
    /// The result's charge ([`QueryResult::held_bytes`]), given back when it is dropped.
    _held: Reservation,
}

impl Feed {
    fn new(memory: Arc<MemoryBudget>, version: Version) -> Self {
        Self {
            state: Mutex::new(FeedState {
                fields: None,
                batches: VecDeque::new(),
                rest: None,
                end: None,
                commit_seq: None,
                closed: false,
                unbounded: false,
            }),
            room: Condvar::new(),
            ready: Notify::new(),
            memory,
            version,
        }
    }

    /// Called exactly once by the query manager with the query's outcome.
    fn finish(&self, outcome: Result<QueryResult, Error>) {
        let mut state = lock(&self.state);
        match outcome {
            Ok(result) => {
                if state.fields.is_none() {
                    state.fields = Some(result.columns.clone());
                }
                state.commit_seq = result.commit_seq;
                state.end = Some(Ok(()));
                // A result that was not streamed carries its rows. The engine charged the
                // same estimate to this budget while it built the result (before a write's
                // commit) and gave it back when it returned, so this fits unless the client
                // holds more of the transaction's results meanwhile.
                if !result.rows.is_empty() && !state.closed {
                    let mut held = Reservation::new(&self.memory);
                    match held.grow(result.held_bytes()) {
                        Ok(()) => {
                            state.rest = Some(Rest {
                                result,
                                next: 0,
                                _held: held,
                            })
                        }
                        Err(e) => state.end = Some(Err(bolt_error(&e))),
                    }
                }
            }
            Err(e) => state.end = Some(Err(bolt_error(&e))),
        }
        drop(state);
        self.room.notify_all();
        self.ready.notify_one();
    }

    /// Waits for the first rows or the end: the fields, or the failure of a query that
    /// failed before producing a row.
    async fn first(&self) -> Result<Vec<String>, BoltError> {
        loop {
            {
                let state = lock(&self.state);
                if !state.batches.is_empty() {
                    return Ok(state.fields.clone().unwrap_or_default());
                }
                match &state.end {
                    Some(Ok(())) => return Ok(state.fields.clone().unwrap_or_default()),
                    Some(Err(e)) => return Err(e.clone()),
                    None => {}
                }
            }
            self.ready.notified().await;
        }
    }

    /// Waits for the query's end.
    async fn end(&self) -> Result<(), BoltError> {
        loop {
            if let Some(end) = lock(&self.state).end.clone() {
                return end;
            }
            self.ready.notified().await;
        }
    }

    /// Tells the producer to stop and waits for the query's end.
    async fn close(&self) -> Result<(), BoltError> {
        {
            let mut state = lock(&self.state);
            state.closed = true;
            state.batches.clear();
            state.rest = None;
        }
        self.room.notify_all();
        self.end().await
    }

    /// Lets the producer run to the end, keeping everything (within the budget).
    async fn read_to_end(&self) -> Result<(), BoltError> {
        lock(&self.state).unbounded = true;
        self.room.notify_all();
        self.end().await
    }
}

/// The producer's side of a [`Feed`], run on the worker thread.
struct FeedSink {
    feed: Arc<Feed>,
}

impl RowSink for FeedSink {
    fn rows(&mut self, batch: QueryResult, cancel: &CancelToken) -> Result<bool, Error> {
        let records = records_out(&batch, self.feed.version);
        let columns = batch.columns;
        // Charged as soon as it exists, before waiting for room: the records are held
        // while the client is slow too.
        let mut held = Reservation::new(&self.feed.memory);
        held.grow(records.iter().map(|r| record_size(r)).sum())?;
        let mut state = lock(&self.feed.state);
        if state.fields.is_none() {
            state.fields = Some(columns);
        }
        while state.batches.len() >= FEED_BATCHES && !state.closed && !state.unbounded {
            cancel.check()?;
            state = self
                .feed
                .room
                .wait_timeout(state, StdDuration::from_millis(20))
                .map_or_else(|p| p.into_inner().0, |(s, _)| s);
        }
        if state.closed {
            return Ok(false);
        }
        state.batches.push_back((records, held));
        drop(state);
        self.feed.ready.notify_one();
        Ok(true)
    }
}

/// The consumer's side of a [`Feed`]: the records of one RUN as PULL asks for them.
struct EngineStream<R: QueryRunner> {
    feed: Arc<Feed>,
    fields: Vec<String>,
    /// `type` in the summary.
    kind: &'static str,
    guard: CancelOnDrop<R>,
}

impl<R: QueryRunner> EngineStream<R> {
    /// The final SUCCESS's metadata: the query type, and an auto-commit write's bookmark.
    fn summary(&mut self) -> Dict {
        self.guard.armed = false;
        let mut summary = vec![("type".into(), Bolt::String(self.kind.into()))];
        if let Some(seq) = lock(&self.feed.state).commit_seq {
            summary.push(("bookmark".into(), Bolt::String(bookmark(seq))));
        }
        summary
    }

    async fn take(&mut self, n: usize) -> Result<Pulled, BoltError> {
        let mut records = Vec::new();
        loop {
            {
                let mut state = lock(&self.feed.state);
                take_records(&mut state, n, &mut records, self.feed.version);
                // Room for the producer again.
                self.feed.room.notify_all();
                let drained = state.batches.is_empty() && state.rest.is_none();
                match &state.end {
                    Some(Ok(())) if drained => {
                        drop(state);
                        let summary = self.summary();
                        return Ok(Pulled {
                            records,
                            summary: Some(summary),
                        });
                    }
                    Some(Err(e)) => {
                        let e = e.clone();
                        self.guard.armed = false;
                        return Err(e);
                    }
                    _ => {}
                }
                if records.len() >= n {
                    return Ok(Pulled {
                        records,
                        summary: None,
                    });
                }
            }
            self.feed.ready.notified().await;
        }
    }
}

/// Moves up to `n` records in all from the feed to `records`: streamed batches first, then
/// the finished result's rows, converted now.
fn take_records(state: &mut FeedState, n: usize, records: &mut Vec<Vec<Bolt>>, version: Version) {
    while records.len() < n {
        let want = n - records.len();
        if let Some((front, held)) = state.batches.front_mut() {
            if front.len() <= want {
                if let Some((batch, _held)) = state.batches.pop_front() {
                    records.extend(batch);
                }
            } else {
                let taken: Vec<_> = front.drain(..want).collect();
                held.shrink(taken.iter().map(|r| record_size(r)).sum());
                records.extend(taken);
            }
            continue;
        }
        let Some(rest) = state.rest.as_mut() else {
            break;
        };
        let to = rest.result.rows.len().min(rest.next + want);
        let out = Out {
            result: &rest.result,
            version,
        };
        records.extend(
            rest.result.rows[rest.next..to]
                .iter()
                .map(|row| row.iter().map(|v| out.value(v)).collect()),
        );
        rest.next = to;
        if rest.next >= rest.result.rows.len() {
            // Handed out: the result and its charge go.
            state.rest = None;
        }
    }
}

impl<R: QueryRunner> RecordStream for EngineStream<R> {
    fn fields(&self) -> Vec<String> {
        self.fields.clone()
    }

    fn pull(&mut self, n: usize) -> BoxFuture<'_, Result<Pulled, BoltError>> {
        Box::pin(self.take(n))
    }

    fn discard(&mut self) -> BoxFuture<'_, Result<Dict, BoltError>> {
        Box::pin(async move {
            // A read stops at its next batch and ends successfully; a write already ran.
            self.feed.close().await?;
            Ok(self.summary())
        })
    }

    fn read_to_end(&mut self) -> BoxFuture<'_, Result<(), BoltError>> {
        Box::pin(async move {
            let end = self.feed.read_to_end().await;
            // Once the query finished there is nothing left to cancel.
            self.guard.armed = false;
            end
        })
    }
}

/// An explicit transaction over the engine's interactive transactions.
pub struct BoltTransaction<R: QueryRunner> {
    inner: Arc<Inner<R>>,
    txn: Transaction,
    read: bool,
    /// One budget for the whole transaction: the statement running and the results of
    /// earlier ones still held for the client share `--query-memory-mb` (as a Neo4j
    /// transaction's memory limit), so unpulled results cannot pile up without bound.
    memory: Arc<MemoryBudget>,
}

impl<R: QueryRunner> BackendTransaction for BoltTransaction<R> {
    fn run(
        &mut self,
        request: RunRequest,
    ) -> BoxFuture<'_, Result<Box<dyn RecordStream>, BoltError>> {
        Box::pin(async move {
            let memory = Arc::clone(&self.memory);
            self.inner
                .run(request, self.read, Some(self.txn.clone()), None, memory)
                .await
        })
    }

    fn commit(&mut self) -> BoxFuture<'_, Result<Option<String>, BoltError>> {
        let txn = self.txn.clone();
        Box::pin(async move {
            // Waits for the log's fsync: not on the reactor.
            let info = tokio::task::spawn_blocking(move || txn.commit())
                .await
                .map_err(|e| coded(Error::internal(format!("the commit failed: {e}"))))?
                .map_err(coded)?;
            Ok(Some(bookmark(info.seq)))
        })
    }

    fn rollback(&mut self) -> BoxFuture<'_, Result<(), BoltError>> {
        self.txn.rollback();
        Box::pin(async { Ok(()) })
    }
}

impl<R: QueryRunner> Drop for BoltTransaction<R> {
    fn drop(&mut self) {
        // ROLLBACK, RESET, a failure or a dropped connection; a no-op after COMMIT.
        self.txn.rollback();
    }
}

/// The bookmark of a database version.
pub fn bookmark(seq: u64) -> String {
    format!("nereid:{seq}")
}

/// Cancels the query if its Bolt request or stream is dropped before the query finished
/// (the client disconnected, RESET).
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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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

/// The rows of `result` as Bolt records.
fn records_out(result: &QueryResult, version: Version) -> Vec<Vec<Bolt>> {
    let out = Out { result, version };
    result
        .rows
        .iter()
        .map(|row| row.iter().map(|v| out.value(v)).collect())
        .collect()
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
mod tests;
