//! The query manager: every query's life from acceptance to completion.
//!
//! ```text
//! submit ─► prepare (caller's thread) ─► waiting queue (bounded) ─► worker thread ─► completion
//!   │                                        │  ▲                        │
//!   │                                        │  └─ cancel removes it     └─ execute(plan, params, token)
//!   └─ registry: id → Entry (text, accepted, started, token) ◄── status / list / cancel
//! ```
//!
//! * **Ids** are chosen by the protocol layer (a UUID for HTTP) and must be unique among the
//!   queries the manager knows; a finished query is forgotten at once, so its id becomes
//!   "invalid" for status and cancel, as on Neptune.
//! * **Queue**: at most `workers` queries run at once; at most `queue_size` more wait, and
//!   one more is refused with `ThrottlingException`, never dropped silently. `workers` OS
//!   threads take waiting queries in arrival order.
//! * **Running in place**: [`QueryManager::run_or_submit`] runs the query on the caller's
//!   thread when a slot is free and nobody waits, instead of handing it to a worker. A
//!   hand-off costs two thread wake-ups (to the worker and back), about 80 µs on a VM —
//!   most of what a point lookup costs. The HTTP layer calls it inside
//!   `tokio::task::block_in_place`, so the runtime moves its other connections to another
//!   thread while the query runs; the query counts against `workers` like any other.
//! * **Timeout**: `min(query_timeout_ms, USING QUERY:TIMEOUTMILLISECONDS)`, counted from
//!   acceptance (Neptune's rule, SPEC 5), so a query can time out while it waits. The
//!   deadline lives in the query's [`CancelToken`]; a watcher thread fails waiting queries
//!   whose deadline passes, so their callers are answered on time rather than on dequeue.
//! * **Cancel** sets the token (operators stop at their next batch); a waiting query is taken
//!   out of the queue and never runs. With `silent`, the caller gets an empty result instead
//!   of `CancelledByUserException`.
//! * **Completion** is a plain callback ([`Completion`]), called exactly once for every
//!   query that [`QueryManager::submit`] accepted, on whatever thread finished it (a worker,
//!   the watcher, or the canceller's). The engine crate therefore needs no async runtime.
//!
//! * **Transactions and streaming**: [`QueryManager::submit_with`] runs a query as a statement
//!   of an open interactive transaction ([`QueryManager::begin_transaction`]; its deadline
//!   also bounds the statement) and/or hands a read-only query's rows to a [`RowSink`] as they
//!   are produced ([`RunOptions`]). Such a statement is queued, listed, timed and cancelled
//!   like any query; a streaming one keeps its worker until its consumer has taken the rows.
//!
//! * **Observer**: one [`QueryObserver`] may be set ([`QueryManager::set_observer`]); it hears
//!   of every query the manager was asked to run, accepted or refused, once, with its timings,
//!   row count and outcome (metrics and the slow-query log live in the protocol layer).
//!
//! Status, list and cancel only take the registry lock for a moment; they never wait for a
//! worker, so they answer immediately even when every worker is busy.

mod registry;
mod worker;

#[cfg(test)]
mod tests;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nereid_common::{CancelReason, CancelToken, Error, ErrorCode};
use nereid_value::Map;

use crate::admin::Admin;
use crate::{
    Database, ExplainMode, MemoryBudget, Prepared, QueryResult, RowSink, Transaction, TxnOptions,
};

use registry::{Entry, Job, Shared, State};

/// The protocol a query arrived by, for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    Http,
    Bolt,
}

impl Protocol {
    /// Lower-case name, as metrics label it.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Bolt => "bolt",
        }
    }
}

/// Receives the outcome of one accepted query. Called exactly once.
pub type Completion = Box<dyn FnOnce(Result<QueryResult, Error>) + Send + 'static>;

/// What the manager learns from preparing a query: the runnable plan plus the facts the
/// manager itself needs before running it.
#[derive(Debug, Clone)]
pub struct PreparedQuery<P> {
    pub plan: P,
    /// `USING QUERY:TIMEOUTMILLISECONDS n`, if the query gave one.
    pub timeout_ms: Option<u64>,
    /// Reported as `subqueries` in the query's status.
    pub subqueries: usize,
}

/// How long [`QueryManager::run_or_submit`] lets a query run on the caller's thread before
/// moving it to a worker. Long enough for point lookups and short traversals (tens to
/// hundreds of microseconds), short enough that the other connections of an async
/// runtime's thread wait at most about this long.
pub const INLINE_SLICE: std::time::Duration = std::time::Duration::from_millis(1);

/// Something that can prepare and run queries: the [`Database`] in production, a
/// controllable fake in the manager's tests.
pub trait QueryRunner: Send + Sync + 'static {
    /// The prepared form of a query, carried from `prepare` to a worker.
    type Plan: Send + 'static;

    /// Parses and analyses `text`. Runs on the submitting thread, so that a malformed query is
    /// answered at once and never takes a queue slot.
    fn prepare(&self, text: &str) -> Result<PreparedQuery<Self::Plan>, Error>;

    /// Runs a prepared query on a worker thread; must stop soon after `cancel` fires.
    fn execute(
        &self,
        plan: &Self::Plan,
        params: &Map,
        cancel: &CancelToken,
    ) -> Result<QueryResult, Error>;

    /// Prepares `text` for Neptune's explain: executing the plan then returns the plan
    /// report (in [`QueryResult::plan`]) instead of rows, after running the query for
    /// [`ExplainMode::Dynamic`] and [`ExplainMode::Details`].
    fn prepare_explain(
        &self,
        text: &str,
        mode: ExplainMode,
    ) -> Result<PreparedQuery<Self::Plan>, Error> {
        let _ = (text, mode);
        Err(Error::new(
            ErrorCode::UnsupportedOperation,
            "explain is not supported by this server",
        ))
    }

    /// The database-wide operations (summary, statistics, fast reset), if offered.
    fn admin(&self) -> Option<&dyn Admin> {
        None
    }

    /// Whether [`run_or_submit`](QueryManager::run_or_submit) may start `plan` on the
    /// caller's thread, in a time slice. A runner says `false` for a plan that used up
    /// its slice before (see [`slice_expired`](Self::slice_expired)).
    fn may_run_inline(&self, plan: &Self::Plan) -> bool {
        let _ = plan;
        true
    }

    /// `plan` used up its time slice on a caller's thread: it runs on a worker now, and
    /// later runs of it should go there at once.
    fn slice_expired(&self, plan: &Self::Plan) {
        let _ = plan;
    }

    /// A run of `plan` on a caller's thread ended within its time slice.
    fn fitted_slice(&self, plan: &Self::Plan) {
        let _ = plan;
    }

    /// Opens an interactive transaction, if offered.
    fn begin(&self, options: TxnOptions) -> Result<Transaction, Error> {
        let _ = options;
        Err(Error::new(
            ErrorCode::UnsupportedOperation,
            "explicit transactions are not supported by this server",
        ))
    }

    /// [`execute`](Self::execute) with [`RunOptions`]. A runner that cannot stream returns
    /// the rows in the result (which every sink's consumer accepts); one without
    /// transactions refuses a statement of one.
    fn execute_with(
        &self,
        plan: &Self::Plan,
        params: &Map,
        cancel: &CancelToken,
        options: &mut RunOptions,
    ) -> Result<QueryResult, Error> {
        if options.transaction.is_some() {
            return Err(Error::new(
                ErrorCode::UnsupportedOperation,
                "explicit transactions are not supported by this server",
            ));
        }
        self.execute(plan, params, cancel)
    }
}

/// How a query runs, beyond what [`QueryManager::submit`] does.
#[derive(Default)]
pub struct RunOptions {
    /// Run as the next statement of this open transaction (a failure rolls it back).
    pub transaction: Option<Transaction>,
    /// Hand the rows of a read-only query to this sink as they are produced; the completion
    /// then gets a result without them (a query that may write still returns its rows).
    pub sink: Option<Box<dyn RowSink>>,
    /// A deadline of the caller's (a Bolt driver's `tx_timeout`); the earliest of it, the
    /// query timeout and the transaction's deadline applies.
    pub deadline: Option<Instant>,
    /// Charge the query to this budget instead of a fresh one: the caller holds rows of it
    /// after it ended (a Bolt connection keeping them for its client) and charges them here
    /// too, so that what the query ran with and what is kept of it share one limit.
    pub memory: Option<Arc<MemoryBudget>>,
}

impl QueryRunner for Database {
    type Plan = Prepared;

    fn prepare(&self, text: &str) -> Result<PreparedQuery<Prepared>, Error> {
        let prepared = Database::prepare(self, text)?;
        Ok(PreparedQuery {
            timeout_ms: prepared.timeout_ms,
            subqueries: prepared.subqueries,
            plan: prepared,
        })
    }

    fn execute(
        &self,
        plan: &Prepared,
        params: &Map,
        cancel: &CancelToken,
    ) -> Result<QueryResult, Error> {
        self.execute_prepared(plan, params, cancel)
    }

    fn prepare_explain(
        &self,
        text: &str,
        mode: ExplainMode,
    ) -> Result<PreparedQuery<Prepared>, Error> {
        let prepared = Database::prepare_explain(self, text, mode)?;
        Ok(PreparedQuery {
            timeout_ms: prepared.timeout_ms,
            subqueries: prepared.subqueries,
            plan: prepared,
        })
    }

    fn admin(&self) -> Option<&dyn Admin> {
        Some(self)
    }

    fn may_run_inline(&self, plan: &Prepared) -> bool {
        !plan.goes_to_worker()
    }

    fn slice_expired(&self, plan: &Prepared) {
        self.note_slice_expired(plan);
    }

    fn fitted_slice(&self, plan: &Prepared) {
        plan.fitted_slice();
    }

    fn begin(&self, options: TxnOptions) -> Result<Transaction, Error> {
        self.begin_transaction(options)
    }

    fn execute_with(
        &self,
        plan: &Prepared,
        params: &Map,
        cancel: &CancelToken,
        options: &mut RunOptions,
    ) -> Result<QueryResult, Error> {
        let sink = options.sink.as_deref_mut().map(|s| s as &mut dyn RowSink);
        let memory = options.memory.as_ref();
        match &options.transaction {
            Some(txn) => self.execute_in(txn, plan, params, cancel, sink, memory),
            None => self.execute_streaming(plan, params, cancel, sink, memory),
        }
    }
}

/// Limits of the manager (the server's `--workers`, `--queue-size`, `--query-timeout-ms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManagerConfig {
    /// Worker threads, i.e. how many queries run at once (at least 1).
    pub workers: usize,
    /// How many accepted queries may wait for a worker (at least 1).
    pub queue_size: usize,
    /// Cluster-wide query timeout in ms; 0 means no limit (a query hint still applies).
    pub query_timeout_ms: u64,
}

impl Default for ManagerConfig {
    fn default() -> Self {
        Self {
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            queue_size: 8192,
            query_timeout_ms: 120_000,
        }
    }
}

/// A snapshot of one query, as `GetOpenCypherQueryStatus` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryStatus {
    pub query_id: String,
    /// The query text, truncated to [`QUERY_STRING_LIMIT`] characters.
    pub query_string: String,
    /// Milliseconds spent waiting for a worker (so far, while it still waits).
    pub waited_ms: u64,
    /// Milliseconds spent running so far (0 while waiting).
    pub elapsed_ms: u64,
    /// True once the query was cancelled or ran past its deadline.
    pub cancelled: bool,
    pub subqueries: usize,
    /// Whether a worker has picked it up.
    pub running: bool,
}

/// What `ListOpenCypherQueries` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryList {
    /// Accepted and not finished, waiting ones included.
    pub accepted: usize,
    /// Currently on a worker.
    pub running: usize,
    /// Running queries, plus waiting ones when asked, in order of acceptance.
    pub queries: Vec<QueryStatus>,
}

/// What the [`QueryObserver`] hears of one query, when it is finished or refused.
#[derive(Debug)]
pub struct QueryReport<'a> {
    pub query_id: &'a str,
    /// The protocol it arrived by.
    pub protocol: Protocol,
    /// The query text, truncated to [`QUERY_STRING_LIMIT`] characters.
    pub query_string: &'a str,
    /// How many parameters the query was given.
    pub parameters: usize,
    /// Whether the manager accepted it (a refused query never waited nor ran).
    pub accepted: bool,
    /// Time spent waiting for a worker.
    pub waited: Duration,
    /// Time spent running (zero if it never ran).
    pub elapsed: Duration,
    /// Result rows, on success.
    pub rows: Option<usize>,
    /// Most bytes the query held at once (charged to its memory budget), on success.
    pub memory_peak: Option<usize>,
    /// `None` on success; the error its caller got otherwise (a refused query included:
    /// malformed, throttled, duplicate id).
    pub error: Option<&'a Error>,
}

/// Hears of every query the manager was asked to run (see the module docs). Called on the
/// thread that finished or refused the query, before its caller is answered: keep it cheap.
pub trait QueryObserver: Send + Sync + 'static {
    fn finished(&self, report: &QueryReport<'_>);
}

/// How many queries wait and run right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    pub waiting: usize,
    pub running: usize,
}

/// Neptune truncates `queryString` in status answers to this many characters.
pub const QUERY_STRING_LIMIT: usize = 1024;

/// `text` cut to [`QUERY_STRING_LIMIT`] characters, copied in one piece (a text of at most
/// that many bytes has at most that many characters).
pub(crate) fn truncated_query_string(text: &str) -> String {
    let end = if text.len() <= QUERY_STRING_LIMIT {
        text.len()
    } else {
        text.char_indices()
            .nth(QUERY_STRING_LIMIT)
            .map_or(text.len(), |(at, _)| at)
    };
    text[..end].to_owned()
}

/// Tracks, queues, runs, times out and cancels queries. See the module docs.
pub struct QueryManager<R: QueryRunner> {
    shared: Arc<Shared<R>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl<R: QueryRunner> QueryManager<R> {
    /// Starts the worker threads and the deadline watcher.
    pub fn new(runner: R, config: ManagerConfig) -> Result<Self, Error> {
        let config = ManagerConfig {
            workers: config.workers.max(1),
            queue_size: config.queue_size.max(1),
            ..config
        };
        let shared = Arc::new(Shared::new(runner, config));
        let manager = Self {
            shared: shared.clone(),
            threads: Mutex::new(Vec::new()),
        };
        let mut threads = Vec::with_capacity(config.workers + 1);
        for n in 0..config.workers {
            let shared = shared.clone();
            threads.push(spawn(format!("nereid-worker-{n}"), move || {
                worker::run_worker(&shared)
            })?);
        }
        let watcher_shared = shared.clone();
        threads.push(spawn("nereid-deadlines".to_owned(), move || {
            worker::run_deadline_watcher(&watcher_shared)
        })?);
        *registry::lock(&manager.threads) = threads;
        Ok(manager)
    }

    /// The limits in force.
    pub fn config(&self) -> ManagerConfig {
        self.shared.config
    }

    /// Sets the observer told about every query from now on. Only the first call has an
    /// effect; it returns whether this one did.
    pub fn set_observer(&self, observer: Arc<dyn QueryObserver>) -> bool {
        self.shared.observer.set(observer).is_ok()
    }

    /// How many queries wait and run right now.
    pub fn load(&self) -> Load {
        let state = self.shared.lock();
        Load {
            waiting: state.waiting.len(),
            running: state.running,
        }
    }

    /// The runner (the database), e.g. for protocol layers that need it directly.
    pub fn runner(&self) -> &R {
        &self.shared.runner
    }

    /// Accepts a query: prepares it on this thread, then queues it for a worker.
    ///
    /// On `Ok`, `done` will be called exactly once with the outcome. On `Err` (malformed
    /// query, duplicate id, queue full, shutting down) the query was not accepted and `done`
    /// is dropped without being called.
    pub fn submit(
        &self,
        protocol: Protocol,
        id: String,
        text: &str,
        params: Map,
        done: Completion,
    ) -> Result<(), Error> {
        self.accept(
            protocol,
            id,
            text,
            params,
            done,
            false,
            RunOptions::default(),
            |r| r.prepare(text),
        )
    }

    /// [`submit`](Self::submit) with [`RunOptions`]: as a statement of an open transaction
    /// (its deadline also bounds the statement), and/or streaming rows to a sink.
    pub fn submit_with(
        &self,
        protocol: Protocol,
        id: String,
        text: &str,
        params: Map,
        options: RunOptions,
        done: Completion,
    ) -> Result<(), Error> {
        self.accept(protocol, id, text, params, done, false, options, |r| {
            r.prepare(text)
        })
    }

    /// Opens an interactive transaction of the runner; refused while the server shuts down
    /// or resets.
    pub fn begin_transaction(&self, options: TxnOptions) -> Result<Transaction, Error> {
        {
            let state = self.shared.lock();
            if state.shutting_down {
                return Err(shutdown_error());
            }
            if state.resetting {
                return Err(reset_error());
            }
        }
        self.shared.runner.begin(options)
    }

    /// Like [`submit`](Self::submit), but when fewer than `workers` queries run and none
    /// waits, starts the query on this thread, for at most [`INLINE_SLICE`]: a query that
    /// finishes within it is answered (`done` called) before this returns; one that does
    /// not is stopped (a write rolled back) and runs again from the start on a worker,
    /// keeping its slot; a runner may send later runs of a plan that keeps overrunning
    /// there at once (see [`QueryRunner::may_run_inline`]). Otherwise the query is queued. So the caller's
    /// thread (an async runtime's) blocks for about a slice at most, and a short query is
    /// answered without any hand-over between threads.
    pub fn run_or_submit(
        &self,
        protocol: Protocol,
        id: String,
        text: &str,
        params: Map,
        done: Completion,
    ) -> Result<(), Error> {
        self.accept(
            protocol,
            id,
            text,
            params,
            done,
            true,
            RunOptions::default(),
            |r| r.prepare(text),
        )
    }

    /// [`run_or_submit`](Self::run_or_submit) with [`RunOptions`]. In the time slice on the
    /// caller's thread a sink gets no rows (they come in the result: a stopped slice must not
    /// have handed any out); a statement of a transaction always goes to a worker.
    pub fn run_or_submit_with(
        &self,
        protocol: Protocol,
        id: String,
        text: &str,
        params: Map,
        options: RunOptions,
        done: Completion,
    ) -> Result<(), Error> {
        self.accept(protocol, id, text, params, done, true, options, |r| {
            r.prepare(text)
        })
    }

    /// [`submit`](Self::submit) for Neptune's explain (`explain=static|dynamic|details`):
    /// the query is queued, timed and cancellable like any other; its outcome carries the
    /// plan report.
    pub fn submit_explain(
        &self,
        protocol: Protocol,
        id: String,
        text: &str,
        mode: ExplainMode,
        params: Map,
        done: Completion,
    ) -> Result<(), Error> {
        self.accept(
            protocol,
            id,
            text,
            params,
            done,
            false,
            RunOptions::default(),
            |r| r.prepare_explain(text, mode),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn accept(
        &self,
        protocol: Protocol,
        id: String,
        text: &str,
        params: Map,
        done: Completion,
        run_here: bool,
        options: RunOptions,
        prepare: impl FnOnce(&R) -> Result<PreparedQuery<R::Plan>, Error>,
    ) -> Result<(), Error> {
        let Some(observer) = self.shared.observer.get().cloned() else {
            return self.accept_observed(
                protocol, id, text, params, done, run_here, options, prepare, None,
            );
        };
        let (id_copy, parameters) = (id.clone(), params.len());
        let result = self.accept_observed(
            protocol,
            id,
            text,
            params,
            done,
            run_here,
            options,
            prepare,
            Some(observer.clone()),
        );
        if let Err(error) = &result {
            let query_string = truncated_query_string(text);
            observer.finished(&QueryReport {
                query_id: &id_copy,
                protocol,
                query_string: &query_string,
                parameters,
                accepted: false,
                waited: Duration::ZERO,
                elapsed: Duration::ZERO,
                rows: None,
                memory_peak: None,
                error: Some(error),
            });
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn accept_observed(
        &self,
        protocol: Protocol,
        id: String,
        text: &str,
        params: Map,
        done: Completion,
        run_here: bool,
        options: RunOptions,
        prepare: impl FnOnce(&R) -> Result<PreparedQuery<R::Plan>, Error>,
        observer: Option<Arc<dyn QueryObserver>>,
    ) -> Result<(), Error> {
        // The timeout clock starts at acceptance, which includes preparing.
        let accepted = Instant::now();
        // A statement of a transaction that already ended is refused with the reason.
        if let Some(txn) = &options.transaction {
            txn.check_open()?;
        }
        let prepared = worker::guard_panics(|| prepare(&self.shared.runner))?;
        let deadline = self
            .effective_timeout_ms(prepared.timeout_ms)
            .and_then(|ms| accepted.checked_add(Duration::from_millis(ms)));
        // A statement of a transaction ends with the transaction at the latest.
        let deadline = [
            deadline,
            options.transaction.as_ref().and_then(|t| t.deadline()),
            options.deadline,
        ]
        .into_iter()
        .flatten()
        .min();
        let entry = Arc::new(Entry::new(
            id.clone(),
            text,
            accepted,
            CancelToken::new(deadline),
            prepared.subqueries,
        ));
        let done = match observer {
            None => done,
            Some(observer) => observed(done, entry.clone(), protocol, params.len(), observer),
        };

        let mut state = self.shared.lock();
        if state.shutting_down {
            return Err(shutdown_error());
        }
        if state.resetting {
            return Err(reset_error());
        }
        if state.queries.contains_key(&id) {
            return Err(Error::new(
                ErrorCode::InvalidParameter,
                format!("Supplied queryId {id} is already in use"),
            ));
        }
        // A statement of a transaction never runs in a slice: stopping it at the slice's end
        // would fail (and roll back) its transaction.
        if run_here
            && options.transaction.is_none()
            && state.waiting.is_empty()
            && state.running < self.shared.config.workers
            && self.shared.runner.may_run_inline(&prepared.plan)
        {
            state.queries.insert(id, entry.clone());
            // Under the lock, as a worker does: status never sees it neither waiting nor running.
            let started = Instant::now();
            let _ = entry.started.set(started);
            state.running += 1;
            drop(state);
            worker::run_job_in_slice(
                &self.shared,
                Job {
                    entry,
                    plan: prepared.plan,
                    params,
                    options,
                    done,
                },
                started + INLINE_SLICE,
            );
            return Ok(());
        }
        if state.waiting.len() >= self.shared.config.queue_size {
            return Err(Error::new(
                ErrorCode::Throttling,
                format!(
                    "Max number of request have breached, ConfiguredQueueCapacity={} for connId = {id}",
                    self.shared.config.queue_size
                ),
            ));
        }
        state.queries.insert(id, entry.clone());
        state.waiting.push_back(Job {
            entry,
            plan: prepared.plan,
            params,
            options,
            done,
        });
        self.shared.work.notify_one();
        if let Some(deadline) = deadline {
            // Wake the watcher only when this deadline is earlier than the one it sleeps to.
            if state.watch_target.is_none_or(|t| deadline < t) {
                self.shared.watch.notify_one();
            }
        }
        Ok(())
    }

    /// The status of one accepted, unfinished query.
    pub fn status(&self, id: &str) -> Result<QueryStatus, Error> {
        let state = self.shared.lock();
        let now = Instant::now();
        state
            .queries
            .get(id)
            .map(|e| e.status(now))
            .ok_or_else(|| invalid_query_id(id))
    }

    /// Counts and statuses of the accepted, unfinished queries.
    pub fn list(&self, include_waiting: bool) -> QueryList {
        let state = self.shared.lock();
        let now = Instant::now();
        let mut queries: Vec<QueryStatus> = Vec::new();
        let mut running = 0;
        let mut entries: Vec<&Arc<Entry>> = state.queries.values().collect();
        entries.sort_by_key(|e| e.accepted);
        for entry in entries {
            let is_running = entry.started.get().is_some();
            if is_running {
                running += 1;
            }
            if is_running || include_waiting {
                queries.push(entry.status(now));
            }
        }
        QueryList {
            accepted: state.queries.len(),
            running,
            queries,
        }
    }

    /// Cancels an accepted, unfinished query. A running query stops at its next cancel check;
    /// a waiting one is removed from the queue and its caller answered now. Cancelling twice
    /// is allowed (the operation is idempotent while the query is known).
    pub fn cancel(&self, id: &str, silent: bool) -> Result<(), Error> {
        let removed = {
            let mut state = self.shared.lock();
            let entry = state
                .queries
                .get(id)
                .cloned()
                .ok_or_else(|| invalid_query_id(id))?;
            entry.silent.store(silent, Ordering::Release);
            entry.cancel.cancel(CancelReason::User);
            if entry.started.get().is_none() {
                let pos = state.waiting.iter().position(|j| j.entry.id == id);
                let job = pos.and_then(|p| state.waiting.remove(p));
                if job.is_some() {
                    state.queries.remove(id);
                }
                job
            } else {
                None
            }
        };
        // The caller's callback runs outside the lock: it may do arbitrary work.
        if let Some(job) = removed {
            let outcome =
                worker::outcome_for(&job.entry, Err(CancelToken::error_for(CancelReason::User)));
            worker::deliver(job.done, outcome);
        }
        Ok(())
    }

    /// Neptune's fast reset: refuses new queries while it runs (`ServerShutdownException`,
    /// retryable), fails the waiting queries and stops the running ones with the same error
    /// (a long write would otherwise hold the reset up), then empties the database through
    /// the runner's [`Admin::fast_reset`].
    pub fn fast_reset(&self) -> Result<(), Error> {
        let admin = self.shared.runner.admin().ok_or_else(|| {
            Error::new(
                ErrorCode::UnsupportedOperation,
                "fast reset is not supported by this server",
            )
        })?;
        let drained: Vec<Job<R::Plan>> = {
            let mut state = self.shared.lock();
            if state.shutting_down {
                return Err(shutdown_error());
            }
            if state.resetting {
                return Err(reset_error());
            }
            state.resetting = true;
            for entry in state.queries.values() {
                entry.reset.store(true, Ordering::Release);
                entry.cancel.cancel(CancelReason::User);
            }
            let drained: Vec<Job<R::Plan>> = state.waiting.drain(..).collect();
            for job in &drained {
                state.queries.remove(&job.entry.id);
            }
            drained
        };
        for job in drained {
            worker::deliver(job.done, Err(reset_error()));
        }
        let result = worker::guard_panics(|| admin.fast_reset());
        self.shared.lock().resetting = false;
        result
    }

    /// Stops accepting queries, fails the waiting ones, cancels the running ones and waits
    /// for the workers to finish. Called by `Drop`; calling it twice is harmless.
    pub fn shutdown(&self) {
        let drained: Vec<Job<R::Plan>> = {
            let mut state = self.shared.lock();
            state.shutting_down = true;
            for entry in state.queries.values() {
                entry.shutdown.store(true, Ordering::Release);
                entry.cancel.cancel(CancelReason::User);
            }
            let drained: Vec<Job<R::Plan>> = state.waiting.drain(..).collect();
            for job in &drained {
                state.queries.remove(&job.entry.id);
            }
            self.shared.work.notify_all();
            self.shared.watch.notify_all();
            drained
        };
        for job in drained {
            worker::deliver(job.done, Err(shutdown_error()));
        }
        let threads = std::mem::take(&mut *registry::lock(&self.threads));
        for handle in threads {
            // A worker that panicked outside the guarded execution already reported nothing
            // more we could add; joining is only for an orderly exit.
            let _ = handle.join();
        }
    }

    fn effective_timeout_ms(&self, hint: Option<u64>) -> Option<u64> {
        let cluster = match self.shared.config.query_timeout_ms {
            0 => None,
            ms => Some(ms),
        };
        match (cluster, hint) {
            (Some(c), Some(h)) => Some(c.min(h)),
            (c, h) => c.or(h),
        }
    }
}

impl<R: QueryRunner> Drop for QueryManager<R> {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Wraps `done` so that the observer hears of the outcome first. A refused query's `done` is
/// dropped uncalled, so the observer hears of it only from `accept`.
fn observed(
    done: Completion,
    entry: Arc<Entry>,
    protocol: Protocol,
    parameters: usize,
    observer: Arc<dyn QueryObserver>,
) -> Completion {
    Box::new(move |outcome: Result<QueryResult, Error>| {
        let now = Instant::now();
        let (waited, elapsed) = match entry.started.get() {
            Some(&started) => (
                started - entry.accepted,
                now.saturating_duration_since(started),
            ),
            None => (
                now.saturating_duration_since(entry.accepted),
                Duration::ZERO,
            ),
        };
        observer.finished(&QueryReport {
            query_id: &entry.id,
            protocol,
            query_string: &entry.text,
            parameters,
            accepted: true,
            waited,
            elapsed,
            rows: outcome
                .as_ref()
                .ok()
                .map(|r| r.rows.len() + r.streamed_rows),
            memory_peak: outcome.as_ref().ok().map(|r| r.memory_peak),
            error: outcome.as_ref().err(),
        });
        done(outcome)
    })
}

/// Stack of every thread that runs queries (workers here; the HTTP runtime's threads,
/// which run short queries in place, get the same). Planning, optimizing, building and
/// running a plan each recurse once per operator of a chain, so a query of a few thousand
/// clauses needs far more than the default 2 MiB; the limit of [`crate::MAX_PLAN_SIZE`]
/// operators keeps every query within this. Only the pages a query touches are resident.
pub const QUERY_THREAD_STACK: usize = 64 << 20;

fn spawn(name: String, f: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>, Error> {
    std::thread::Builder::new()
        .name(name.clone())
        .stack_size(QUERY_THREAD_STACK)
        .spawn(f)
        .map_err(|e| Error::internal(format!("cannot start thread {name}: {e}")))
}

/// Neptune's answer for an unknown or finished query id.
pub fn invalid_query_id(id: &str) -> Error {
    Error::new(
        ErrorCode::InvalidParameter,
        format!("Supplied queryId {id} is invalid"),
    )
}

/// What queries get while a fast reset runs, and the queries it stopped (Neptune's text).
pub fn reset_error() -> Error {
    Error::new(
        ErrorCode::ServerShutdown,
        "Database reset is in progress. Please retry the query after the cluster is available.",
    )
}

/// What queries get when the server stops under them. Neptune's `ServerShutdownException`
/// is not in the error table, so this is the closest retryable 500.
fn shutdown_error() -> Error {
    Error::new(
        ErrorCode::InternalFailure,
        "Operation terminated (server shutting down)",
    )
}

impl<P> State<P> {
    /// The earliest deadline among waiting queries.
    fn next_waiting_deadline(&self) -> Option<Instant> {
        self.waiting
            .iter()
            .filter_map(|j| j.entry.cancel.deadline())
            .min()
    }
}
