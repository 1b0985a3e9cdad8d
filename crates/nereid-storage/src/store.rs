//! The store: publishing versions, serialising writers, group commit, checkpoints.
//!
//! State:
//! * `published` — the newest *durable* version; [`Store::snapshot`] clones this `Arc`.
//! * `head` — the newest *committed* version, possibly still waiting for its fsync; the
//!   next writer starts from it, so writers are serialised in commit order.
//!
//! Commit of a write transaction (on disk):
//! 1. under the writer lock: frame the record, append it to the log segment, queue
//!    `(log position, version)` as pending, make the version the new `head`, release the
//!    writer lock — the next writer can start while this one waits for the disk;
//! 2. wait until the log is fsynced up to the record. The first waiter becomes the sync
//!    leader and fsyncs everything written so far; later committers that arrive meanwhile
//!    wait on a condition variable and are covered by the next fsync (group commit);
//! 3. after a successful fsync the leader publishes the newest version it covered and wakes
//!    everyone. Only then does `commit` return `Ok`.
//!
//! Any write or fsync error makes the store fail-stop: the unsynced tail of the log is cut
//! off (best effort), every waiting and future commit gets `StorageFailure`, snapshots keep
//! working on the last durable version.
//!
//! With a change stream (`stream`), a committing transaction's stream section travels
//! inside its log record and is appended to the stream right after the record (same lock,
//! so in log order); publishing a version also publishes its stream records to readers.

use std::any::Any;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use nereid_common::{CancelToken, Error, ErrorCode};

use crate::codec::Encoder;
use crate::extid::IdStrCache;
use crate::graph::Graph;
use crate::io::{StdVfs, Vfs, VfsFile};
use crate::stream::record::StreamBuf;
use crate::stream::{StreamLog, Streams};
use crate::wal::writer::WalWriter;
use crate::wal::{frame, TxnHeader};
use crate::{checkpoint, recovery};

/// How to open a store.
#[derive(Clone)]
pub struct StoreConfig {
    /// The data directory; `None` keeps everything in memory (nothing survives the process).
    pub dir: Option<PathBuf>,
    /// Write a checkpoint (and drop the log before it) in the background once the log has
    /// grown by this many bytes, or by the size of the last checkpoint if that is larger
    /// (so that checkpointing a large graph costs at most about as much as logging);
    /// `0` disables automatic checkpoints.
    pub checkpoint_bytes: u64,
    /// The file system (tests inject failures through it); `None` is the real one.
    pub vfs: Option<Arc<dyn Vfs>>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            dir: None,
            checkpoint_bytes: 64 << 20,
            vfs: None,
        }
    }
}

impl StoreConfig {
    pub fn in_memory() -> Self {
        Self::default()
    }

    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: Some(dir.into()),
            ..Self::default()
        }
    }
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field("dir", &self.dir)
            .field("checkpoint_bytes", &self.checkpoint_bytes)
            .field("vfs", &self.vfs.as_ref().map(|_| "custom"))
            .finish()
    }
}

/// What `Store::open` found and did; the binary logs `messages`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// Sequence number of the checkpoint loaded, if any.
    pub checkpoint_seq: Option<u64>,
    /// Transactions replayed from the log.
    pub replayed: u64,
    /// Sequence number of the last transaction recovered.
    pub last_seq: u64,
    /// Whether a torn (partially written, never acknowledged) tail was cut off the log.
    pub truncated_torn_tail: bool,
    /// Human-readable notes: torn tail truncated (file, offset, bytes), leftovers removed.
    pub messages: Vec<String>,
}

pub(crate) struct SyncState {
    /// The tail segment's file (fsync target).
    pub file: Arc<dyn VfsFile>,
    /// Log position (bytes ever appended since open) written and fsynced.
    pub written: u64,
    pub synced: u64,
    /// Length of the tail segment file at `written` and at `synced`.
    pub written_len: u64,
    pub synced_len: u64,
    pub syncing: bool,
    /// Set on the first I/O failure; the store then refuses writes.
    pub failed: Option<String>,
    /// Committed versions waiting for their fsync: `(log position after the record, version)`.
    pub pending: VecDeque<(u64, Arc<Graph>)>,
}

/// Figures of the durable path since the store was opened (for `/metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct IoStats {
    /// Bytes appended to the write-ahead log.
    pub wal_bytes: u64,
    /// Log fsyncs (one covers every commit waiting on it: group commit) and their total time.
    pub fsyncs: u64,
    pub fsync_seconds: f64,
    /// Checkpoints written, their total time, and the newest one's time and size.
    pub checkpoints: u64,
    pub checkpoint_seconds: f64,
    pub last_checkpoint_seconds: f64,
    pub last_checkpoint_bytes: u64,
}

/// The counters behind [`IoStats`], updated on the durable path.
#[derive(Debug, Default)]
pub(crate) struct IoCounters {
    fsyncs: AtomicU64,
    fsync_nanos: AtomicU64,
    checkpoints: AtomicU64,
    checkpoint_nanos: AtomicU64,
    last_checkpoint_nanos: AtomicU64,
}

fn nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

pub(crate) struct Durable {
    pub io: IoCounters,
    pub vfs: Arc<dyn Vfs>,
    pub dir: PathBuf,
    /// The tail segment; appended to only under the writer lock.
    pub wal: Mutex<WalWriter>,
    pub sync: Mutex<SyncState>,
    pub sync_cv: Condvar,
    /// Log bytes at which the next automatic checkpoint starts.
    pub checkpoint_bytes: u64,
    /// Size of the newest checkpoint file.
    pub last_checkpoint_size: std::sync::atomic::AtomicU64,
    /// Held by the checkpoint in progress; holds the first log segment after the newest
    /// checkpoint (`None` before the first): what recovery from it needs.
    pub checkpointing: Mutex<Option<u64>>,
    pub _lock: Box<dyn Any + Send + Sync>,
}

struct WriterSlot {
    busy: bool,
    /// Threads waiting in `begin_write` for the slot ([`Store::writers_waiting`]).
    waiting: usize,
    /// Highest node/relationship ids ever handed out (rolled-back ids are not reused).
    next_node: u64,
    next_rel: u64,
}

pub(crate) struct Inner {
    published: Mutex<Arc<Graph>>,
    head: Mutex<Arc<Graph>>,
    writer: Mutex<WriterSlot>,
    writer_cv: Condvar,
    pub durable: Option<Durable>,
    report: OpenReport,
    /// The background checkpoint thread, if one was started.
    background: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Why the last background checkpoint failed (cleared by a successful one).
    checkpoint_error: Mutex<Option<String>>,
    /// Neptune's data model: every node has a label (see [`Store::set_labelled_nodes`]).
    pub(crate) labelled_nodes: std::sync::atomic::AtomicBool,
    /// The change stream, once the store has one (found at open or enabled later).
    pub(crate) stream: OnceLock<Arc<StreamLog>>,
}

impl Inner {
    /// The newest durable version.
    pub(crate) fn published_graph(&self) -> Arc<Graph> {
        Arc::clone(&lock(&self.published))
    }
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it (every critical
/// section here leaves the state consistent before anything that could panic).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn storage_failure(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::StorageFailure, msg)
}

/// The graph store. Cheap to share: the engine keeps it in an `Arc` across worker threads.
pub struct Store {
    inner: Arc<Inner>,
}

/// A consistent, immutable view of the graph as of the moment it was taken.
pub struct Snapshot {
    pub(crate) g: Arc<Graph>,
    pub(crate) node_ids: IdStrCache,
    pub(crate) rel_ids: IdStrCache,
}

impl Snapshot {
    /// Sequence number of the last transaction this snapshot contains.
    pub fn seq(&self) -> u64 {
        self.g.seq
    }
}

impl Clone for Snapshot {
    fn clone(&self) -> Self {
        Self::of(Arc::clone(&self.g))
    }
}

impl Snapshot {
    fn of(g: Arc<Graph>) -> Self {
        Self {
            g,
            node_ids: IdStrCache::default(),
            rel_ids: IdStrCache::default(),
        }
    }
}

/// Releases the writer lock when the transaction ends (commit or drop).
pub(crate) struct WriterGuard {
    inner: Arc<Inner>,
    pub next_node: u64,
    pub next_rel: u64,
}

impl WriterGuard {
    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        let mut w = lock(&self.inner.writer);
        w.busy = false;
        w.next_node = w.next_node.max(self.next_node);
        w.next_rel = w.next_rel.max(self.next_rel);
        drop(w);
        self.inner.writer_cv.notify_one();
    }
}

/// The single write transaction. Reads see its own writes; dropping it rolls back.
pub struct WriteTxn {
    pub(crate) g: Graph,
    /// Encoded ops for the log (`None` for an in-memory store).
    pub(crate) log: Option<Encoder>,
    pub(crate) changed: bool,
    pub(crate) guard: WriterGuard,
    pub(crate) node_ids: IdStrCache,
    pub(crate) rel_ids: IdStrCache,
    /// The transaction's change records, when the store has a stream.
    pub(crate) stream: Option<StreamBuf>,
}

impl Store {
    /// Opens (creating if needed) the store described by `config`, recovering a data
    /// directory from its newest checkpoint and log.
    pub fn open(config: &StoreConfig) -> Result<Store, Error> {
        let stream = OnceLock::new();
        let (graph, durable, report) = match &config.dir {
            None => (Graph::new(random_salt()), None, OpenReport::default()),
            Some(dir) => {
                let vfs: Arc<dyn Vfs> = config.vfs.clone().unwrap_or_else(|| Arc::new(StdVfs));
                let r = recovery::recover(vfs.clone(), dir)?;
                let sync = SyncState {
                    file: Arc::clone(&r.wal.file),
                    written: 0,
                    synced: 0,
                    written_len: r.wal.len,
                    synced_len: r.wal.len,
                    syncing: false,
                    failed: None,
                    pending: VecDeque::new(),
                };
                let durable = Durable {
                    io: IoCounters::default(),
                    vfs,
                    dir: dir.clone(),
                    wal: Mutex::new(r.wal),
                    sync: Mutex::new(sync),
                    sync_cv: Condvar::new(),
                    checkpoint_bytes: config.checkpoint_bytes,
                    last_checkpoint_size: std::sync::atomic::AtomicU64::new(r.checkpoint_size),
                    checkpointing: Mutex::new(r.checkpoint_segment),
                    _lock: r.lock,
                };
                if let Some(log) = r.stream {
                    let _ = stream.set(Arc::new(log));
                }
                (r.graph, Some(durable), r.report)
            }
        };
        let g = Arc::new(graph);
        let slot = WriterSlot {
            busy: false,
            waiting: 0,
            next_node: g.nodes.len(),
            next_rel: g.rels.len(),
        };
        Ok(Store {
            inner: Arc::new(Inner {
                published: Mutex::new(Arc::clone(&g)),
                head: Mutex::new(g),
                writer: Mutex::new(slot),
                writer_cv: Condvar::new(),
                durable,
                report,
                background: Mutex::new(None),
                checkpoint_error: Mutex::new(None),
                labelled_nodes: std::sync::atomic::AtomicBool::new(false),
                stream,
            }),
        })
    }

    /// What opening found (checkpoint, replayed transactions, torn tail).
    pub fn open_report(&self) -> &OpenReport {
        &self.inner.report
    }

    /// Whether the store is backed by a data directory.
    pub fn is_durable(&self) -> bool {
        self.inner.durable.is_some()
    }

    /// The I/O failure that stopped writes, if any.
    pub fn failure(&self) -> Option<String> {
        self.inner.failure()
    }

    /// Why the last automatic (background) checkpoint failed, if it did; the log is kept
    /// in full meanwhile, so nothing is lost, but start-up gets slower.
    /// Figures of the durable path since open; `None` for an in-memory store.
    pub fn io_stats(&self) -> Option<IoStats> {
        let d = self.inner.durable.as_ref()?;
        let secs = |n: &AtomicU64| n.load(Ordering::Relaxed) as f64 / 1e9;
        Some(IoStats {
            wal_bytes: lock(&d.sync).written,
            fsyncs: d.io.fsyncs.load(Ordering::Relaxed),
            fsync_seconds: secs(&d.io.fsync_nanos),
            checkpoints: d.io.checkpoints.load(Ordering::Relaxed),
            checkpoint_seconds: secs(&d.io.checkpoint_nanos),
            last_checkpoint_seconds: secs(&d.io.last_checkpoint_nanos),
            last_checkpoint_bytes: d.last_checkpoint_size.load(Ordering::Relaxed),
        })
    }

    pub fn checkpoint_error(&self) -> Option<String> {
        lock(&self.inner.checkpoint_error).clone()
    }

    /// A consistent view of the newest durable state. Never blocks on writers.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::of(Arc::clone(&lock(&self.inner.published)))
    }

    /// Whether a thread is waiting in [`Store::begin_write`] for the current writer to
    /// finish: a writer that commits many transactions in a row (the bulk loader) lets it
    /// have the next turn.
    pub fn writers_waiting(&self) -> bool {
        lock(&self.inner.writer).waiting > 0
    }

    /// Starts the (single) write transaction, waiting for the current writer to finish;
    /// the wait checks `cancel` every few milliseconds.
    pub fn begin_write(&self, cancel: &CancelToken) -> Result<WriteTxn, Error> {
        begin_write(&self.inner, cancel)
    }

    /// [`begin_write`](Self::begin_write) that waits at most `wait` for the current writer:
    /// `Ok(None)` when the writer role was still taken then (the engine bounds the wait
    /// behind an explicit transaction this way).
    pub fn begin_write_within(
        &self,
        cancel: &CancelToken,
        wait: Duration,
    ) -> Result<Option<WriteTxn>, Error> {
        let until = std::time::Instant::now() + wait;
        begin_write_until(&self.inner, cancel, Some(until))
    }

    /// Removes all data (Neptune fast reset), durably: a logged reset followed by a
    /// checkpoint, so the old log is dropped too. Generated ids change.
    ///
    /// On disk the reset is done twice, each followed by a checkpoint: a checkpoint keeps the
    /// previous one (and the log after it) as a way back from a damaged newest checkpoint, so
    /// after one round that way back would still hold the old data; after two, both kept
    /// checkpoints are empty and every file with the old data is gone.
    pub fn reset(&self) -> Result<(), Error> {
        let rounds = if self.inner.durable.is_some() { 2 } else { 1 };
        for _ in 0..rounds {
            let mut txn = self.begin_write(&CancelToken::none())?;
            txn.reset_all()?;
            txn.guard.next_node = 0;
            txn.guard.next_rel = 0;
            {
                let mut w = lock(&self.inner.writer);
                w.next_node = 0;
                w.next_rel = 0;
            }
            txn.commit()?;
            self.checkpoint()?;
        }
        Ok(())
    }

    /// Neptune's data model (on) or openCypher's (off, the default): with it, a node created
    /// without a label gets [`DEFAULT_LABEL`], and removing a node's last label fails with
    /// `ErrorCode::LastLabel`. Nodes stored before it was switched on keep what they have.
    pub fn set_labelled_nodes(&self, on: bool) {
        self.inner
            .labelled_nodes
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Creates a property index on (`label`, `key`) by name in its own, durable transaction.
    /// Returns `false` if it already existed.
    pub fn create_index(&self, label: &str, key: &str) -> Result<bool, Error> {
        use crate::GraphWrite;
        let mut txn = self.begin_write(&CancelToken::none())?;
        let l = txn.intern_label(label);
        let k = txn.intern_key(key);
        let created = txn.create_index(l, k)?;
        txn.commit()?;
        Ok(created)
    }

    /// Creates the property index on (`label`, `key`) when both names exist, the index
    /// does not, and no write transaction is running (it never waits for one); returns
    /// whether it created it. The engine calls this for the keys queries look nodes up by,
    /// so lookups by any property take index time without DDL (Neptune has no `CREATE
    /// INDEX`); the index is logged like a `CREATE INDEX` and maintained from then on.
    pub fn try_create_index(&self, label: &str, key: &str) -> Result<bool, Error> {
        use crate::{GraphRead, GraphWrite};
        let snap = self.snapshot();
        let (Some(l), Some(k)) = (snap.label_id(label), snap.key_id(key)) else {
            return Ok(false);
        };
        if snap.g.index(l, k).is_some() {
            return Ok(false);
        }
        drop(snap);
        let Some(mut txn) = try_begin_write(&self.inner)? else {
            return Ok(false);
        };
        let created = txn.create_index(l, k)?;
        if created {
            txn.commit()?;
        }
        Ok(created)
    }

    /// Writes a checkpoint of the current state and removes the log segments and older
    /// checkpoints it makes redundant. A no-op for an in-memory store.
    pub fn checkpoint(&self) -> Result<(), Error> {
        checkpoint_now(&self.inner)
    }

    /// Records every later commit in the change stream (Neptune Streams), keeping records
    /// for `expiry`; starts the stream (`<data dir>/streams`) if the store has none. A
    /// stream found at open keeps its numbering. Without this call transactions record
    /// nothing.
    pub fn enable_streams(&self, expiry: Duration) -> Result<(), Error> {
        if let Some(log) = self.inner.stream.get() {
            log.enable(expiry);
            return Ok(());
        }
        // Holding the writer role, so no commit runs meanwhile. The first segment follows
        // the newest durable version: no log record up to it has a stream section, and one
        // still waiting for its fsync has none either.
        let txn = self.begin_write(&CancelToken::none())?;
        let head = self.inner.published_graph();
        let log = match &self.inner.durable {
            Some(d) => StreamLog::create(
                d.vfs.clone(),
                crate::stream::dir_of(&d.dir),
                true,
                head.salt,
                head.seq,
            )?,
            None => StreamLog::create(
                Arc::new(crate::stream::memfs::MemFs::default()),
                PathBuf::from("/streams"),
                false,
                head.salt,
                head.seq,
            )?,
        };
        log.enable(expiry);
        let _ = self.inner.stream.set(Arc::new(log));
        drop(txn);
        Ok(())
    }

    /// The change stream, if the store has one (for the crate's tests).
    #[cfg(test)]
    pub(crate) fn stream_log(&self) -> Option<&Arc<StreamLog>> {
        self.inner.stream.get()
    }

    /// The reader of the change stream; its reads fail with `UnsupportedOperation` unless
    /// [`enable_streams`](Self::enable_streams) was called.
    pub fn streams(&self) -> Streams {
        Streams {
            inner: Arc::downgrade(&self.inner),
        }
    }
}

fn begin_write(inner: &Arc<Inner>, cancel: &CancelToken) -> Result<WriteTxn, Error> {
    begin_write_until(inner, cancel, None)?
        .ok_or_else(|| Error::internal("an unbounded wait for the writer ended early"))
}

/// Waits for the writer role until `until` (`None`: as long as `cancel` allows).
fn begin_write_until(
    inner: &Arc<Inner>,
    cancel: &CancelToken,
    until: Option<std::time::Instant>,
) -> Result<Option<WriteTxn>, Error> {
    inner.check_writable()?;
    let mut w = lock(&inner.writer);
    let queued = w.busy;
    w.waiting += usize::from(queued);
    while w.busy {
        let mut step = Duration::from_millis(5);
        let left = until.map(|u| u.saturating_duration_since(std::time::Instant::now()));
        if let Some(left) = left {
            step = step.min(left);
        }
        if cancel.check().is_err() || left.is_some_and(|l| l.is_zero()) {
            w.waiting -= usize::from(queued);
            drop(w);
            cancel.check()?;
            return Ok(None);
        }
        w = inner
            .writer_cv
            .wait_timeout(w, step)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
    w.waiting -= usize::from(queued);
    cancel.check()?;
    start_write(inner, w).map(Some)
}

/// The write transaction if no other is running, else `None` (never waits).
fn try_begin_write(inner: &Arc<Inner>) -> Result<Option<WriteTxn>, Error> {
    inner.check_writable()?;
    let w = lock(&inner.writer);
    if w.busy {
        return Ok(None);
    }
    start_write(inner, w).map(Some)
}

/// Takes the writer role (`w` is the free writer state, locked) and starts a transaction
/// on the newest head.
fn start_write(inner: &Arc<Inner>, mut w: MutexGuard<'_, WriterSlot>) -> Result<WriteTxn, Error> {
    w.busy = true;
    let (next_node, next_rel) = (w.next_node, w.next_rel);
    drop(w);
    let guard = WriterGuard {
        inner: Arc::clone(inner),
        next_node,
        next_rel,
    };
    // Checked again under the writer lock: a failure may have happened while waiting.
    inner.check_writable()?;
    let mut g = (**lock(&inner.head)).clone();
    g.pad_nodes(next_node);
    g.pad_rels(next_rel);
    Ok(WriteTxn {
        g,
        log: inner.durable.as_ref().map(|_| Encoder::default()),
        changed: false,
        guard,
        node_ids: IdStrCache::default(),
        rel_ids: IdStrCache::default(),
        stream: inner.stream.get().map(|s| s.buffer()),
    })
}

impl Inner {
    fn failure(&self) -> Option<String> {
        let d = self.durable.as_ref()?;
        lock(&d.sync).failed.clone()
    }

    fn check_writable(&self) -> Result<(), Error> {
        match self.failure() {
            Some(f) => Err(storage_failure(format!(
                "the store refuses writes after a storage failure: {f}"
            ))),
            None => Ok(()),
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let handle = lock(&self.inner.background).take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

fn random_salt() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0
}

impl WriteTxn {
    /// The sequence number of the committed version this transaction started from; its own
    /// commit (if it changes anything) gets the next one. The bulk loader records it to tell,
    /// after a crash, whether a batch it was committing made it into the log.
    pub fn base_seq(&self) -> u64 {
        self.g.seq
    }

    /// Whether the transaction changed anything, i.e. whether its commit writes a record
    /// and makes a new version (with sequence number `base_seq() + 1`).
    pub fn has_changes(&self) -> bool {
        self.changed
    }

    /// Makes the transaction durable and visible; returns only once it is both.
    pub fn commit(self) -> Result<(), Error> {
        self.commit_started()?.wait()
    }

    /// The first half of [`WriteTxn::commit`]: the transaction is in the log (not yet
    /// synced) and the next write transaction may start from it; [`Committing::wait`]
    /// returns once it is durable (and visible to snapshots), or with the error that kept
    /// it from being so (the store then refuses writes, and a transaction started from
    /// this one cannot commit). A bulk loader builds its next batch meanwhile.
    pub fn commit_started(self) -> Result<Committing, Error> {
        let WriteTxn {
            mut g,
            log,
            changed,
            guard,
            stream,
            ..
        } = self;
        if !changed {
            return Ok(Committing { durable: None });
        }
        let inner = Arc::clone(&guard.inner);
        let head_seq = lock(&inner.head).seq;
        g.seq = head_seq + 1;
        g.committed_at = std::time::SystemTime::now();
        let stream_log = inner.stream.get();
        // Numbered while this transaction still holds the writer role (see `section`).
        let section = match (stream, stream_log) {
            (Some(buf), Some(s)) => s.section(buf, g.seq, g.committed_at),
            _ => None,
        };
        let (Some(d), Some(log)) = (&inner.durable, log) else {
            if let (Some(section), Some(s)) = (&section, stream_log) {
                s.append(section)?;
            }
            let seq = g.seq;
            let g = Arc::new(g);
            *lock(&inner.head) = Arc::clone(&g);
            *lock(&inner.published) = g;
            if let Some(s) = stream_log {
                s.publish(seq);
            }
            return Ok(Committing { durable: None });
        };
        let mut payload = Encoder::default();
        TxnHeader {
            seq: g.seq,
            next_node: g.nodes.len(),
            next_rel: g.rels.len(),
        }
        .encode(&mut payload);
        payload.bytes(section.as_ref().map_or(&[][..], |s| &s.bytes));
        payload.buf.extend_from_slice(&log.buf);
        drop(log);
        if payload.buf.len() > crate::wal::MAX_RECORD_LEN as usize {
            // Refused before anything is written: the store stays writable.
            return Err(Error::new(
                ErrorCode::MemoryLimitExceeded,
                format!(
                    "the transaction is too large to log ({} bytes; at most {} per                      transaction): split it into smaller ones",
                    payload.buf.len(),
                    crate::wal::MAX_RECORD_LEN
                ),
            ));
        }
        let mut record = Vec::with_capacity(payload.buf.len() + 8);
        frame(&payload.buf, &mut record);
        drop(payload);

        let g = Arc::new(g);
        let position = {
            let mut wal = lock(&d.wal);
            if let Some(f) = lock(&d.sync).failed.clone() {
                return Err(storage_failure(format!(
                    "the store refuses writes after a storage failure: {f}"
                )));
            }
            let before = wal.len;
            if let Err(e) = wal.append(&record) {
                // Cut the partial record off so a later open does not see half of it; the
                // records before it are complete and their committers still wait for fsync.
                let _ = wal.cut(before);
                let msg = format!("write to {} failed: {e}", wal.path().display());
                fail(d, msg.clone());
                return Err(storage_failure(msg));
            }
            if let (Some(section), Some(s)) = (&section, stream_log) {
                if let Err(e) = s.append(section) {
                    // The stream must not miss a commit the log has: undo the record.
                    let _ = wal.cut(before);
                    fail(d, e.message.clone());
                    return Err(storage_failure(e.message));
                }
            }
            let mut s = lock(&d.sync);
            s.written += record.len() as u64;
            s.written_len = wal.len;
            let position = s.written;
            s.pending.push_back((position, Arc::clone(&g)));
            position
        };
        *lock(&inner.head) = g;
        // Let the next writer start while this commit waits for the disk.
        drop(guard);
        Ok(Committing {
            durable: Some((inner, position)),
        })
    }
}

/// A commit in the log, waiting to be durable ([`WriteTxn::commit_started`]). `Send` and
/// `'static`, so another thread can do the waiting (and lead the fsync).
#[must_use = "a commit is acknowledged only once `wait` returns Ok"]
pub struct Committing {
    /// The store and the log position to be synced; `None`: nothing to wait for (no
    /// changes, or an in-memory store).
    durable: Option<(Arc<Inner>, u64)>,
}

impl Committing {
    /// Returns once the transaction is durable and visible.
    pub fn wait(self) -> Result<(), Error> {
        let Some((inner, position)) = self.durable else {
            return Ok(());
        };
        let Some(d) = &inner.durable else {
            return Ok(());
        };
        wait_durable(&inner, d, position)?;
        maybe_checkpoint(&inner, d);
        Ok(())
    }
}

/// Marks the store failed and wakes every waiting committer (they report the failure).
fn fail_locked(d: &Durable, s: &mut SyncState, msg: String) {
    if s.failed.is_none() {
        s.failed = Some(msg);
    }
    s.pending.clear();
    d.sync_cv.notify_all();
}

fn fail(d: &Durable, msg: String) {
    fail_locked(d, &mut lock(&d.sync), msg);
}

/// Waits until the log is durable up to `position`, leading an fsync if nobody is.
fn wait_durable(inner: &Inner, d: &Durable, position: u64) -> Result<(), Error> {
    let mut s = lock(&d.sync);
    loop {
        if s.synced >= position {
            return Ok(());
        }
        if let Some(f) = &s.failed {
            return Err(storage_failure(format!(
                "the transaction was not committed: {f}"
            )));
        }
        if s.syncing {
            s = d.sync_cv.wait(s).unwrap_or_else(|p| p.into_inner());
            continue;
        }
        s.syncing = true;
        let target = s.written;
        let target_len = s.written_len;
        let file = Arc::clone(&s.file);
        drop(s);
        let started = std::time::Instant::now();
        let result = file.sync();
        d.io.fsyncs.fetch_add(1, Ordering::Relaxed);
        d.io.fsync_nanos
            .fetch_add(nanos(started.elapsed()), Ordering::Relaxed);
        s = lock(&d.sync);
        s.syncing = false;
        match result {
            Ok(()) => {
                if target > s.synced {
                    s.synced = target;
                    s.synced_len = target_len;
                }
                let mut newest = None;
                while s.pending.front().is_some_and(|p| p.0 <= target) {
                    newest = s.pending.pop_front().map(|p| p.1);
                }
                if let Some(g) = newest {
                    let seq = g.seq;
                    {
                        let mut p = lock(&inner.published);
                        if g.seq > p.seq {
                            *p = g;
                        }
                    }
                    if let Some(stream) = inner.stream.get() {
                        stream.publish(seq);
                    }
                }
                d.sync_cv.notify_all();
            }
            Err(e) => {
                let msg = format!("fsync of the write-ahead log failed: {e}");
                fail_locked(d, &mut s, msg.clone());
                let keep = s.synced_len;
                drop(s);
                // What was written but not synced is not acknowledged: cut it off so that a
                // reopen does not resurrect it. No append can happen any more (`failed` is
                // checked under the log lock before appending).
                {
                    let mut wal = lock(&d.wal);
                    let _ = wal.cut(keep);
                }
                // The writer may have moved on from versions that are now void.
                let published = Arc::clone(&lock(&inner.published));
                *lock(&inner.head) = published;
                return Err(storage_failure(format!(
                    "the transaction was not committed: {msg}"
                )));
            }
        }
    }
}

fn maybe_checkpoint(inner: &Arc<Inner>, d: &Durable) {
    let last = d
        .last_checkpoint_size
        .load(std::sync::atomic::Ordering::Relaxed);
    if d.checkpoint_bytes == 0 || lock(&d.wal).len < d.checkpoint_bytes.max(last) {
        return;
    }
    let mut bg = lock(&inner.background);
    if bg.as_ref().is_some_and(|h| !h.is_finished()) {
        return;
    }
    let weak = Arc::downgrade(inner);
    // Checkpoints write the whole graph; do it off the committing thread. Failures leave
    // the log in place (nothing is lost) and are retried at the next trigger. The thread
    // holds only a weak reference between checkpoints; `Store::drop` joins it so that the
    // directory lock is released when the store is gone.
    *bg = std::thread::Builder::new()
        .name("nereid-checkpoint".into())
        .spawn(move || {
            if let Some(inner) = weak.upgrade() {
                let result = checkpoint_now(&inner).err().map(|e| e.message);
                *lock(&inner.checkpoint_error) = result;
            }
        })
        .ok();
}

/// Rotates the log to a new segment under the writer lock, writes a checkpoint of the
/// version at the rotation point without holding any lock, then deletes what it covers.
fn checkpoint_now(inner: &Arc<Inner>) -> Result<(), Error> {
    let Some(d) = &inner.durable else {
        return Ok(());
    };
    let mut newest_segment = lock(&d.checkpointing);
    let started = std::time::Instant::now();
    let txn = begin_write(inner, &CancelToken::none())?;
    // Everything committed so far must be durable before the segment is closed.
    let position = lock(&d.sync).written;
    wait_durable(inner, d, position)?;
    let base = Arc::clone(&lock(&inner.head));
    let new_segment = {
        let mut wal = lock(&d.wal);
        let next = wal.segment + 1;
        let new = WalWriter::create(&*d.vfs, &d.dir, next, base.salt)
            .map_err(|e| storage_failure(format!("cannot create log segment {next}: {e}")))?;
        *wal = new;
        let mut s = lock(&d.sync);
        s.file = Arc::clone(&wal.file);
        s.written_len = wal.len;
        s.synced_len = wal.len;
        next
    };
    drop(txn);
    let size = checkpoint::write(&*d.vfs, &d.dir, &base, new_segment)
        .map_err(|e| storage_failure(format!("checkpoint failed: {e}")))?;
    d.last_checkpoint_size
        .store(size, std::sync::atomic::Ordering::Relaxed);
    let took = nanos(started.elapsed());
    d.io.checkpoints.fetch_add(1, Ordering::Relaxed);
    d.io.checkpoint_nanos.fetch_add(took, Ordering::Relaxed);
    d.io.last_checkpoint_nanos.store(took, Ordering::Relaxed);
    // The log segments about to go are what could rebuild the stream's unsynced tail.
    if let Some(stream) = inner.stream.get() {
        stream.sync()?;
    }
    // The new checkpoint is durable. Keep the previous one and the log needed to recover
    // from it, so that a damaged newest checkpoint still leaves a way back; everything
    // older is redundant.
    let previous_segment = newest_segment.replace(new_segment);
    let names = d.vfs.list(&d.dir).unwrap_or_default();
    let mut checkpoints: Vec<u64> = names
        .iter()
        .filter_map(|n| checkpoint::parse_checkpoint_name(n))
        .collect();
    checkpoints.sort_unstable();
    let keep_from = checkpoints
        .len()
        .checked_sub(2)
        .map_or(0, |i| checkpoints[i]);
    for name in names {
        let stale = match crate::wal::writer::parse_segment_name(&name) {
            Some(s) => previous_segment.is_some_and(|p| s < p),
            None => checkpoint::parse_checkpoint_name(&name).is_some_and(|s| s < keep_from),
        };
        if stale {
            let _ = d.vfs.remove(&d.dir.join(&name));
        }
    }
    let _ = d.vfs.sync_dir(&d.dir);
    Ok(())
}
