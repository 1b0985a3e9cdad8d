//! Interactive (explicit) transactions: BEGIN, any number of statements, COMMIT or ROLLBACK,
//! spread over many requests (Bolt's explicit transactions, the embedded API).
//!
//! ```text
//! Database::begin_transaction ─► Transaction (Open) ─► execute_in … ─► commit ─► Committed
//!                                      │                    │ error        └─► (one WAL record)
//!                                      │                    └─► Failed (rolled back)
//!                                      ├─ rollback / drop ──► RolledBack
//!                                      └─ timeout (reaper) ─► TimedOut (rolled back)
//! ```
//!
//! * **Reads** run on one snapshot, taken by the transaction's first statement; readers never
//!   wait for writers and never see uncommitted data, since a snapshot is an immutable version.
//! * **Writes.** The store has one writer at a time. A write transaction takes the writer role
//!   at its first statement that may write and keeps it until it ends; from then on every
//!   statement runs on the transaction's private version and sees its own writes. Commit logs
//!   all of the transaction's changes as one WAL record (fsynced before `commit` returns), so
//!   they become durable and visible together; anything else (rollback, a failed statement,
//!   the timeout, dropping the last handle) discards the private version: nothing remains.
//! * **Snapshot isolation across the switch.** If statements already read the snapshot before
//!   the first write, the write starts from the newest committed version; when that is not
//!   the version they read (another transaction committed meanwhile), the write fails with
//!   `ConcurrentModificationException` (retryable) instead of silently mixing two versions.
//! * **A second writer** (an auto-commit write, or another transaction's first write) waits
//!   for the writer role. While an explicit transaction holds it, the wait is bounded by the
//!   database's lock wait ([`crate::Database::with_lock_wait`]): the waiter then fails with
//!   `ConcurrentModificationException`, which drivers treat as transient and retry (Bolt
//!   `Neo.TransientError.Transaction.DeadlockDetected`). Behind an auto-commit query, a writer
//!   waits as long as its own deadline allows, as before explicit transactions existed.
//! * **One statement at a time.** A statement holds the transaction while it runs (a second
//!   one at the same time is refused, as Neptune does).
//! * **Timeout**: a transaction opened with a timeout is rolled back when it passes, whether a
//!   statement runs (its cancel token is fired) or it sits idle holding the writer role (a
//!   reaper thread, started with the first such transaction, wakes at the earliest deadline).
//!
//! Every statement of a transaction can go through the query manager like any query (see
//! `manager::RunOptions`), which gives it a query id, status, cancellation and the query
//! timeout.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, TryLockError, Weak};
use std::time::{Duration, Instant};

use nereid_common::{CancelReason, CancelToken, Error, ErrorCode};
use nereid_storage::{Snapshot, WriteTxn};
use nereid_value::Map;

use crate::result::RowSink;
use crate::{Database, MemoryBudget, Prepared, QueryResult};

/// What a transaction may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnMode {
    /// Read-only: every statement reads the same snapshot; a statement that may write fails.
    Read,
    /// May write (the default of Bolt sessions).
    Write,
}

/// How to open a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxnOptions {
    pub mode: TxnMode,
    /// Rolled back this long after it began if it is still open; `None`: no limit.
    pub timeout: Option<Duration>,
}

impl Default for TxnOptions {
    fn default() -> Self {
        Self {
            mode: TxnMode::Write,
            timeout: None,
        }
    }
}

/// What a successful commit reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitInfo {
    /// Sequence number of the newest version the transaction's effects are part of (its own
    /// when it wrote, else the version it read or the newest one): what bookmarks carry.
    pub seq: u64,
    /// Whether the commit wrote anything.
    pub wrote: bool,
}

/// Default bound on waiting for the writer role held by an explicit transaction.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(5);

/// Neptune's text for a conflict, followed by what happened.
const CONFLICT: &str = "Operation failed due to conflicting concurrent operations (please retry)";

/// Why a transaction is no longer open.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    Open,
    Committed,
    RolledBack,
    TimedOut,
    /// A statement failed (its message).
    Failed(String),
    /// Rolled back from outside (fast reset): the reason.
    Aborted(String),
}

/// The transaction's data: what its statements read and write.
#[derive(Default)]
pub(crate) struct Data {
    snapshot: Option<Snapshot>,
    write: Option<HeldWrite>,
    /// A statement read `snapshot`: a later first write must start from that same version.
    read_snapshot: bool,
}

/// The writer role held by an explicit transaction; while it exists, writers waiting for the
/// role wait at most the lock wait.
struct HeldWrite {
    txn: WriteTxn,
    flag: Arc<AtomicBool>,
}

impl Data {
    fn discard(&mut self) {
        self.snapshot = None;
        // Dropping the write transaction rolls it back and frees the writer role.
        if let Some(held) = self.write.take() {
            drop(held.txn);
            held.flag.store(false, Ordering::Release);
        }
    }
}

impl Drop for Data {
    fn drop(&mut self) {
        self.discard();
    }
}

/// Where a statement of a transaction reads and writes.
pub(crate) enum Access<'a> {
    Read(&'a Snapshot),
    Write(&'a mut WriteTxn),
}

impl Data {
    /// The graph for the next statement; takes the writer role for a statement that may
    /// write (see the module docs).
    pub(crate) fn access(
        &mut self,
        db: &Database,
        mode: TxnMode,
        writes: bool,
        cancel: &CancelToken,
    ) -> Result<Access<'_>, Error> {
        if self.write.is_none() && writes {
            if mode == TxnMode::Read {
                return Err(read_mode_error());
            }
            let txn = db.acquire_write(cancel)?;
            if self.read_snapshot {
                let read = self.snapshot.as_ref().map_or(0, Snapshot::seq);
                if read != txn.base_seq() {
                    return Err(Error::new(
                        ErrorCode::ConcurrentModification,
                        format!(
                            "{CONFLICT}: another transaction committed after this one read the \
                             graph (version {read}, now {}), so it cannot write on what it read",
                            txn.base_seq()
                        ),
                    ));
                }
            }
            let flag = Arc::clone(&db.transactions.inner.writer_held);
            flag.store(true, Ordering::Release);
            self.write = Some(HeldWrite { txn, flag });
            self.snapshot = None;
        }
        if let Some(w) = &mut self.write {
            return Ok(Access::Write(&mut w.txn));
        }
        self.read_snapshot = true;
        Ok(Access::Read(
            self.snapshot.get_or_insert_with(|| db.store.snapshot()),
        ))
    }
}

fn read_mode_error() -> Error {
    Error::new(
        ErrorCode::ReadOnlyViolation,
        "Writing in read access mode not allowed: this transaction is read-only",
    )
}

struct Shared {
    id: u64,
    mode: TxnMode,
    /// The newest durable version when the transaction began (what a commit that neither
    /// read nor wrote reports).
    begun_seq: u64,
    timeout: Option<Duration>,
    deadline: Option<Instant>,
    status: Mutex<Status>,
    /// Held by the statement that runs (or by commit).
    data: Mutex<Data>,
    /// The running statement's token, fired by rollback and the timeout.
    running: Mutex<Option<CancelToken>>,
}

impl Shared {
    fn status(&self) -> Status {
        lock(&self.status).clone()
    }

    /// Ends the transaction with `status` unless it already ended; stops the statement that
    /// runs and discards the data now, or leaves that to the statement when it holds it.
    fn close(&self, status: Status) -> bool {
        {
            let mut s = lock(&self.status);
            if *s != Status::Open {
                return false;
            }
            *s = status.clone();
        }
        if let Some(token) = lock(&self.running).as_ref() {
            let reason = if status == Status::TimedOut {
                CancelReason::Timeout
            } else {
                CancelReason::User
            };
            token.cancel(reason);
        }
        self.discard_if_closed();
        true
    }

    /// Whoever can take the data while the transaction is closed discards it. Called after
    /// every release of `data`, so a close that found the data busy is never missed.
    fn discard_if_closed(&self) {
        if lock(&self.status).clone() == Status::Open {
            return;
        }
        match self.data.try_lock() {
            Ok(mut data) => data.discard(),
            Err(TryLockError::Poisoned(p)) => p.into_inner().discard(),
            // The holder checks the status after releasing the data.
            Err(TryLockError::WouldBlock) => {}
        }
    }

    fn closed_error(&self, status: &Status) -> Error {
        match status {
            Status::Open => Error::internal("the transaction is open"),
            Status::Committed => Error::new(
                ErrorCode::InvalidParameter,
                format!("Transaction {} was already committed", self.id),
            ),
            Status::RolledBack => Error::new(
                ErrorCode::InvalidParameter,
                format!("Transaction {} was rolled back", self.id),
            ),
            Status::TimedOut => self.timeout_error(),
            Status::Failed(message) => Error::new(
                ErrorCode::InvalidParameter,
                format!(
                    "Transaction {} was rolled back after a statement failed: {message}",
                    self.id
                ),
            ),
            Status::Aborted(reason) => Error::new(
                ErrorCode::CancelledByUser,
                format!("Transaction {} was rolled back: {reason}", self.id),
            ),
        }
    }

    fn timeout_error(&self) -> Error {
        let ms = self.timeout.map_or(0, |t| t.as_millis());
        Error::new(
            ErrorCode::TimeLimitExceeded,
            format!(
                "Transaction {} ran past its timeout of {ms} ms and was rolled back",
                self.id
            ),
        )
    }

    fn expired(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Takes the data for a statement or commit: refused while another statement runs, and
    /// once the transaction ended.
    fn take(&self) -> Result<MutexGuard<'_, Data>, Error> {
        let data = match self.data.try_lock() {
            Ok(d) => d,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => {
                // Held while the transaction is being rolled back: say why it ended.
                let status = self.status();
                if status != Status::Open {
                    return Err(self.closed_error(&status));
                }
                return Err(Error::new(
                    ErrorCode::InvalidParameter,
                    format!(
                        "Transaction {} is running another statement: a transaction runs one \
                         statement at a time (consume each result before the next)",
                        self.id
                    ),
                ));
            }
        };
        if self.expired() {
            self.close(Status::TimedOut);
        }
        let status = self.status();
        if status != Status::Open {
            let mut data = data;
            data.discard();
            return Err(self.closed_error(&status));
        }
        Ok(data)
    }
}

/// A handle on an open transaction; clones share it. Dropping the last handle of a
/// transaction that was not committed rolls it back.
#[derive(Clone)]
pub struct Transaction {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("id", &self.shared.id)
            .field("mode", &self.shared.mode)
            .field("status", &self.shared.status())
            .finish()
    }
}

impl Transaction {
    /// Unique among the transactions of this database.
    pub fn id(&self) -> u64 {
        self.shared.id
    }

    pub fn mode(&self) -> TxnMode {
        self.shared.mode
    }

    /// When the transaction times out, if it has a timeout.
    pub fn deadline(&self) -> Option<Instant> {
        self.shared.deadline
    }

    /// True until commit, rollback, a failed statement or the timeout ended it.
    pub fn is_open(&self) -> bool {
        if self.shared.expired() {
            self.shared.close(Status::TimedOut);
        }
        self.shared.status() == Status::Open
    }

    /// `Ok` while the transaction is open, else why it ended (a timed-out transaction
    /// reports the timeout).
    pub fn check_open(&self) -> Result<(), Error> {
        if self.is_open() {
            return Ok(());
        }
        Err(self.shared.closed_error(&self.shared.status()))
    }

    /// Makes every change of the transaction durable and visible at once (one log record,
    /// fsynced), and ends it. Fails if it already ended (a timed-out transaction reports the
    /// timeout) or a statement is still running.
    pub fn commit(&self) -> Result<CommitInfo, Error> {
        let shared = &self.shared;
        let mut data = shared.take()?;
        {
            let mut s = lock(&shared.status);
            if *s != Status::Open {
                let status = s.clone();
                drop(s);
                data.discard();
                return Err(shared.closed_error(&status));
            }
            // From here on the reaper and rollback leave the data to this commit.
            *s = Status::Committed;
        }
        let read_seq = data.snapshot.take().map(|s| s.seq());
        let result = match data.write.take() {
            Some(held) => {
                let HeldWrite { txn, flag } = held;
                let wrote = txn.has_changes();
                let seq = txn.base_seq() + u64::from(wrote);
                let result = txn.commit();
                flag.store(false, Ordering::Release);
                result.map(|()| CommitInfo { seq, wrote })
            }
            None => Ok(CommitInfo {
                seq: read_seq.unwrap_or(shared.begun_seq),
                wrote: false,
            }),
        };
        drop(data);
        result
    }

    /// Discards every change and ends the transaction; a statement still running is stopped.
    /// Rolling back an ended transaction does nothing.
    pub fn rollback(&self) {
        self.shared.close(Status::RolledBack);
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        // The last handle: nobody can commit any more.
        if Arc::strong_count(&self.shared) == 1 {
            self.shared.close(Status::RolledBack);
        }
    }
}

impl Database {
    /// Opens an interactive transaction (see the module docs). Nothing is locked yet: a
    /// write transaction takes the writer role at its first statement that may write.
    pub fn begin_transaction(&self, options: TxnOptions) -> Result<Transaction, Error> {
        self.transactions
            .begin(options, self.store.snapshot().seq())
    }

    /// Runs `prepared` as the next statement of `txn`. A failure (error, cancel, timeout)
    /// rolls the whole transaction back. With a `sink`, a read-only statement hands its rows
    /// to it as they are produced (see [`Database::execute_streaming`], also for `memory`).
    pub fn execute_in(
        &self,
        txn: &Transaction,
        prepared: &Prepared,
        params: &Map,
        cancel: &CancelToken,
        sink: Option<&mut dyn RowSink>,
        memory: Option<&Arc<MemoryBudget>>,
    ) -> Result<QueryResult, Error> {
        let shared = &txn.shared;
        if shared.mode == TxnMode::Read
            && (prepared.writes || prepared.access.write || prepared.access.delete)
        {
            // Refused before it runs: the transaction stays usable.
            return Err(read_mode_error());
        }
        let mut data = shared.take()?;
        *lock(&shared.running) = Some(cancel.clone());
        let result = self.execute_on(
            prepared,
            params,
            cancel,
            Some((&mut data, shared.mode)),
            sink,
            memory,
        );
        *lock(&shared.running) = None;
        let result = match result {
            Ok(r) => Ok(r),
            Err(e) => {
                let status = shared.status();
                // A statement stopped because the transaction ended reports why it ended.
                let e = if status == Status::TimedOut || shared.expired() {
                    shared.timeout_error()
                } else if status != Status::Open {
                    shared.closed_error(&status)
                } else {
                    e
                };
                shared.close(Status::Failed(e.message.clone()));
                data.discard();
                Err(e)
            }
        };
        drop(data);
        shared.discard_if_closed();
        result
    }

    /// Waits for the writer role: while an explicit transaction holds it, at most the lock
    /// wait, then `ConcurrentModificationException`; behind anything else, as long as
    /// `cancel` allows.
    pub(crate) fn acquire_write(&self, cancel: &CancelToken) -> Result<WriteTxn, Error> {
        const STEP: Duration = Duration::from_millis(10);
        let held = &self.transactions.inner.writer_held;
        let mut behind_txn = Duration::ZERO;
        loop {
            let started = Instant::now();
            if let Some(txn) = self.store.begin_write_within(cancel, STEP)? {
                return Ok(txn);
            }
            if held.load(Ordering::Acquire) {
                behind_txn += started.elapsed();
                if behind_txn >= self.lock_wait {
                    return Err(Error::new(
                        ErrorCode::ConcurrentModification,
                        format!(
                            "{CONFLICT}: an open transaction held the write lock for more than \
                             {} ms",
                            self.lock_wait.as_millis()
                        ),
                    ));
                }
            }
        }
    }
}

/// The database's open transactions, for ids, timeouts and fast reset.
pub(crate) struct Registry {
    pub(crate) inner: Arc<RegistryInner>,
}

pub(crate) struct RegistryInner {
    state: Mutex<RegistryState>,
    /// Wakes the reaper for an earlier deadline or shutdown.
    wake: Condvar,
    next_id: AtomicU64,
    /// An explicit transaction holds the writer role.
    pub(crate) writer_held: Arc<AtomicBool>,
}

#[derive(Default)]
struct RegistryState {
    open: Vec<Weak<Shared>>,
    reaper_started: bool,
    stop: bool,
}

impl Default for Registry {
    fn default() -> Self {
        Self {
            inner: Arc::new(RegistryInner {
                state: Mutex::new(RegistryState::default()),
                wake: Condvar::new(),
                next_id: AtomicU64::new(1),
                writer_held: Arc::new(AtomicBool::new(false)),
            }),
        }
    }
}

impl Registry {
    fn begin(&self, options: TxnOptions, begun_seq: u64) -> Result<Transaction, Error> {
        let now = Instant::now();
        let shared = Arc::new(Shared {
            id: self.inner.next_id.fetch_add(1, Ordering::Relaxed),
            mode: options.mode,
            begun_seq,
            timeout: options.timeout,
            deadline: options.timeout.and_then(|t| now.checked_add(t)),
            status: Mutex::new(Status::Open),
            data: Mutex::new(Data::default()),
            running: Mutex::new(None),
        });
        let mut state = lock(&self.inner.state);
        state.open.retain(|w| w.strong_count() > 0);
        state.open.push(Arc::downgrade(&shared));
        if shared.deadline.is_some() {
            if !state.reaper_started {
                let inner = Arc::clone(&self.inner);
                std::thread::Builder::new()
                    .name("nereid-txn-reaper".into())
                    .spawn(move || reap(&inner))
                    .map_err(|e| {
                        Error::internal(format!("cannot start the transaction reaper: {e}"))
                    })?;
                state.reaper_started = true;
            }
            self.inner.wake.notify_all();
        }
        Ok(Transaction { shared })
    }

    /// Rolls back every open transaction (fast reset), stopping their statements.
    pub(crate) fn abort_all(&self, reason: &str) {
        let open: Vec<Arc<Shared>> = lock(&self.inner.state)
            .open
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for shared in open {
            shared.close(Status::Aborted(reason.to_owned()));
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        lock(&self.inner.state).stop = true;
        self.inner.wake.notify_all();
    }
}

/// The reaper: rolls back transactions whose deadline passed, sleeping until the earliest.
fn reap(inner: &RegistryInner) {
    let mut state = lock(&inner.state);
    loop {
        if state.stop {
            return;
        }
        let now = Instant::now();
        let mut expired = Vec::new();
        let mut next: Option<Instant> = None;
        state.open.retain(|w| {
            let Some(shared) = w.upgrade() else {
                return false;
            };
            if *lock(&shared.status) != Status::Open {
                return false;
            }
            match shared.deadline {
                Some(d) if d <= now => expired.push(shared),
                Some(d) => next = Some(next.map_or(d, |n| n.min(d))),
                None => {}
            }
            true
        });
        if !expired.is_empty() {
            drop(state);
            for shared in expired {
                shared.close(Status::TimedOut);
            }
            state = lock(&inner.state);
            continue;
        }
        state = match next {
            Some(d) => {
                let wait = d.saturating_duration_since(now);
                match inner.wake.wait_timeout(state, wait) {
                    Ok((guard, _)) => guard,
                    Err(p) => p.into_inner().0,
                }
            }
            None => inner.wake.wait(state).unwrap_or_else(|p| p.into_inner()),
        };
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests;
