//! The manager's shared state: the registry of accepted queries (id → [`Entry`]), the
//! waiting queue of [`Job`]s, and the condition variables workers and the deadline watcher
//! sleep on. One mutex guards registry and queue together, so a query is always either
//! waiting (in both), running (registry only) or finished (in neither) — never half-moved.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use nereid_common::CancelToken;
use nereid_value::Map;

use super::{Completion, ManagerConfig, QueryObserver, QueryRunner, QueryStatus};

/// One accepted query, as status and cancel see it.
pub(super) struct Entry {
    pub(super) id: String,
    /// Truncated to [`QUERY_STRING_LIMIT`] characters: only status answers need it.
    pub(super) text: String,
    pub(super) accepted: Instant,
    /// Set (under the state lock) when a worker takes the query.
    pub(super) started: OnceLock<Instant>,
    pub(super) cancel: CancelToken,
    /// Whether the latest cancel asked for an empty result instead of an error.
    pub(super) silent: AtomicBool,
    /// Set when the server stops under the query, to report that instead of a user cancel.
    pub(super) shutdown: AtomicBool,
    /// Set when a fast reset stops the query, to report that instead of a user cancel.
    pub(super) reset: AtomicBool,
    pub(super) subqueries: usize,
}

impl Entry {
    pub(super) fn new(
        id: String,
        text: &str,
        accepted: Instant,
        cancel: CancelToken,
        subqueries: usize,
    ) -> Self {
        Self {
            id,
            text: super::truncated_query_string(text),
            accepted,
            started: OnceLock::new(),
            cancel,
            silent: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            reset: AtomicBool::new(false),
            subqueries,
        }
    }

    pub(super) fn status(&self, now: Instant) -> QueryStatus {
        let (waited, elapsed) = match self.started.get() {
            Some(&started) => (
                started - self.accepted,
                now.saturating_duration_since(started),
            ),
            None => (
                now.saturating_duration_since(self.accepted),
                Default::default(),
            ),
        };
        QueryStatus {
            query_id: self.id.clone(),
            query_string: self.text.clone(),
            waited_ms: millis(waited),
            elapsed_ms: millis(elapsed),
            cancelled: self.cancel.reason().is_some(),
            subqueries: self.subqueries,
            running: self.started.get().is_some(),
        }
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A waiting query: everything a worker needs to run it and answer its caller.
pub(super) struct Job<P> {
    pub(super) entry: Arc<Entry>,
    pub(super) plan: P,
    pub(super) params: Map,
    pub(super) options: super::RunOptions,
    pub(super) done: Completion,
}

pub(super) struct State<P> {
    /// Accepted, unfinished queries (waiting and running).
    pub(super) queries: HashMap<String, Arc<Entry>>,
    /// Waiting queries in arrival order.
    pub(super) waiting: VecDeque<Job<P>>,
    /// Queries that used up their time slice on a caller's thread: they keep the slot they
    /// hold (counted in `running`) and go to the next free worker thread before any
    /// waiting query.
    pub(super) handed_over: VecDeque<Job<P>>,
    /// Queries running now, on workers or on their callers' threads (at most `workers`).
    pub(super) running: usize,
    /// The deadline the watcher sleeps until, if any.
    pub(super) watch_target: Option<Instant>,
    pub(super) shutting_down: bool,
    /// A fast reset is in progress: new queries are refused.
    pub(super) resetting: bool,
}

pub(super) struct Shared<R: QueryRunner> {
    pub(super) runner: R,
    pub(super) config: ManagerConfig,
    state: Mutex<State<R::Plan>>,
    /// Workers wait here for a job and a free slot.
    pub(super) work: Condvar,
    /// The deadline watcher waits here for earlier deadlines or shutdown.
    pub(super) watch: Condvar,
    /// Told about every query; set at most once.
    pub(super) observer: OnceLock<Arc<dyn QueryObserver>>,
}

impl<R: QueryRunner> Shared<R> {
    pub(super) fn new(runner: R, config: ManagerConfig) -> Self {
        Self {
            runner,
            config,
            state: Mutex::new(State {
                queries: HashMap::new(),
                waiting: VecDeque::new(),
                handed_over: VecDeque::new(),
                running: 0,
                watch_target: None,
                shutting_down: false,
                resetting: false,
            }),
            work: Condvar::new(),
            watch: Condvar::new(),
            observer: OnceLock::new(),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State<R::Plan>> {
        lock(&self.state)
    }
}

/// Locks a mutex, recovering from poisoning: the state is only mutated in short sections
/// that leave it consistent, and user code (callbacks, execution) never runs under it.
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Waits on a condition variable, recovering from poisoning like [`lock`].
pub(super) fn lock_state_wait<'a, T>(cv: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    cv.wait(guard)
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
