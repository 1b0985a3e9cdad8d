//! The threads of the manager: workers that run queries, and the deadline watcher that fails
//! waiting queries whose timeout passes before a worker is free.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use nereid_common::{CancelReason, CancelToken, Error, ErrorCode};

use super::registry::{lock_state_wait, Entry, Job, Shared};
use super::{reset_error, shutdown_error, Completion, QueryRunner};
use crate::QueryResult;

/// A worker: takes the oldest waiting query once a slot is free, runs it, answers its
/// caller, repeats.
pub(super) fn run_worker<R: QueryRunner>(shared: &Shared<R>) {
    loop {
        let job = {
            let mut state = shared.lock();
            loop {
                // Already started and counted in `running`: no slot to wait for. There is
                // always a worker thread for it, as a query on a caller's thread holds a
                // slot but no worker.
                if let Some(job) = state.handed_over.pop_front() {
                    break job;
                }
                if state.running < shared.config.workers {
                    if let Some(job) = state.waiting.pop_front() {
                        // Under the lock, so status never sees a query neither waiting nor
                        // running.
                        let _ = job.entry.started.set(Instant::now());
                        state.running += 1;
                        break job;
                    }
                }
                if state.shutting_down {
                    return;
                }
                state = lock_state_wait(&shared.work, state);
            }
        };
        run_job(shared, job);
    }
}

/// Runs a query that holds a slot (`running` counts it) on the caller's thread until
/// `until`: if it finishes by then, like [`run_job`]; if not, it is stopped (a write rolls
/// back, nothing was answered) and handed, slot and all, to a worker thread, which runs it
/// again from the start. Within the slice a sink gets nothing (the rows stay in the result):
/// a run that is stopped and started again must not have handed out rows twice.
pub(super) fn run_job_in_slice<R: QueryRunner>(
    shared: &Shared<R>,
    mut job: Job<R::Plan>,
    until: Instant,
) {
    if let Err(e) = job.entry.cancel.check() {
        return finish(shared, job, Err(e));
    }
    let sliced = job.entry.cancel.with_slice(until);
    let sink = job.options.sink.take();
    let result = guard_panics(|| {
        shared
            .runner
            .execute_with(&job.plan, &job.params, &sliced, &mut job.options)
    });
    job.options.sink = sink;
    match result {
        Err(e) if e.code == ErrorCode::SliceExpired => {
            shared.runner.slice_expired(&job.plan);
            let mut state = shared.lock();
            state.handed_over.push_back(job);
            // Every sleeping worker waits on `work`; any of them takes it.
            shared.work.notify_one();
        }
        result => {
            shared.runner.fitted_slice(&job.plan);
            finish(shared, job, result)
        }
    }
}

/// Runs a query that holds a slot (`running` counts it), answers its caller and frees the
/// slot.
pub(super) fn run_job<R: QueryRunner>(shared: &Shared<R>, mut job: Job<R::Plan>) {
    // A query whose deadline passed while it waited (or that was cancelled between being
    // dequeued and now) does not start.
    let result = match job.entry.cancel.check() {
        Err(e) => Err(e),
        Ok(()) => guard_panics(|| {
            shared
                .runner
                .execute_with(&job.plan, &job.params, &job.entry.cancel, &mut job.options)
        }),
    };
    finish(shared, job, result);
}

/// Frees the slot of a query that ran, then answers its caller.
fn finish<R: QueryRunner>(
    shared: &Shared<R>,
    job: Job<R::Plan>,
    result: Result<QueryResult, Error>,
) {
    let Job {
        entry,
        plan,
        params,
        options,
        done,
    } = job;
    // Free the memory of the plan and parameters, and let go of the transaction and the
    // sink, before answering.
    drop((plan, params, options));
    let outcome = outcome_for(&entry, result);
    {
        let mut state = shared.lock();
        state.queries.remove(&entry.id);
        state.running -= 1;
        if !state.waiting.is_empty() {
            // The slot this query held may be the one a sleeping worker waits for.
            shared.work.notify_one();
        }
    }
    deliver(done, outcome);
}

/// Fails waiting queries once their deadline passes; sleeps until the earliest deadline.
pub(super) fn run_deadline_watcher<R: QueryRunner>(shared: &Shared<R>) {
    loop {
        let expired: Vec<Job<R::Plan>> = {
            let mut state = shared.lock();
            loop {
                if state.shutting_down {
                    return;
                }
                let now = Instant::now();
                let any_expired = state
                    .waiting
                    .iter()
                    .any(|j| j.entry.cancel.deadline().is_some_and(|d| d <= now));
                if any_expired {
                    let (expired, kept): (Vec<_>, Vec<_>) = state
                        .waiting
                        .drain(..)
                        .partition(|j| j.entry.cancel.deadline().is_some_and(|d| d <= now));
                    state.waiting.extend(kept);
                    for job in &expired {
                        state.queries.remove(&job.entry.id);
                    }
                    state.watch_target = None;
                    break expired;
                }
                let next = state.next_waiting_deadline();
                state.watch_target = next;
                state = match next {
                    Some(deadline) => {
                        let wait = deadline.saturating_duration_since(now);
                        match shared.watch.wait_timeout(state, wait) {
                            Ok((guard, _)) => guard,
                            Err(poisoned) => poisoned.into_inner().0,
                        }
                    }
                    None => lock_state_wait(&shared.watch, state),
                };
            }
        };
        for job in expired {
            job.entry.cancel.cancel(CancelReason::Timeout);
            let outcome = outcome_for(
                &job.entry,
                Err(CancelToken::error_for(CancelReason::Timeout)),
            );
            deliver(job.done, outcome);
        }
    }
}

/// Hands a query's outcome to its caller. A panicking callback is contained: it must not
/// take down the worker (or watcher) thread that serves every other query.
pub(super) fn deliver(done: Completion, outcome: Result<QueryResult, Error>) {
    if catch_unwind(AssertUnwindSafe(|| done(outcome))).is_err() {
        // Nothing more can be told to that caller; the panic message went to stderr.
    }
}

/// Runs `f`, turning a panic into an `InternalFailureException` so that a bug in one query
/// never takes a worker (or the server) down.
pub(super) fn guard_panics<T>(f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        Err(Error::internal(format!(
            "internal error while running the query: {what}"
        )))
    })
}

/// What the caller of a finished query gets: a silent cancel becomes an empty result, and a
/// query stopped by a shutdown says so.
pub(super) fn outcome_for(
    entry: &Arc<Entry>,
    result: Result<QueryResult, Error>,
) -> Result<QueryResult, Error> {
    match result {
        Err(e) if e.code == ErrorCode::CancelledByUser => {
            if entry.reset.load(Ordering::Acquire) {
                Err(reset_error())
            } else if entry.shutdown.load(Ordering::Acquire) {
                Err(shutdown_error())
            } else if entry.silent.load(Ordering::Acquire) {
                Ok(QueryResult::default())
            } else {
                Err(e)
            }
        }
        other => other,
    }
}
