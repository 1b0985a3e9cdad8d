//! The change stream (Neptune Streams): the changes of every committed write transaction as
//! records — node labels (`vl`), node properties (`vp`), relationships (`e`) and their
//! properties (`ep`), each `ADD` or `REMOVE` — with one commit number per transaction, in
//! commit order, op numbers from 1, and the commit's timestamp.
//!
//! ```text
//! WriteTxn::exec(op) ─► record::StreamBuf (records from the op and the state before it)
//! WriteTxn::commit  ─► section (commit number, timestamp, records)
//!      ├─► inside the log record: the same fsync makes both durable, so a commit is in the
//!      │   stream iff it is durable, and a rolled-back transaction never is
//!      └─► appended to the tail stream segment (no fsync of its own)
//! publish (after the fsync) ─► readers serve commits up to the newest durable one
//! checkpoint ─► fsync the tail segment before the log segments backing it are deleted
//! Store::open ─► open::open: cut what the log does not have, append what only the log has
//! ```
//!
//! Only a store with streams enabled ([`crate::Store::enable_streams`]) records; otherwise
//! a transaction carries no stream buffer and pays nothing. Once a data directory has a
//! stream (`streams/`), the store keeps it consistent across restarts and fast resets even
//! while recording is off (commit numbers keep counting from where they were).
//!
//! Retention: commits older than the expiry are not served ([`ErrorCode::ExpiredStream`]);
//! whole segments of them are deleted (never the newest). A fast reset removes every record
//! (the next commit number continues the old numbering, so a consumer polling
//! `AFTER_SEQUENCE_NUMBER` sees the new graph's changes instead of skipping them).

pub(crate) mod memfs;
mod open;
mod read;
pub(crate) mod record;
pub(crate) mod segment;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

use nereid_common::{Error, ErrorCode};
use nereid_value::Value;

use crate::io::{Vfs, VfsFile};
use crate::store::{lock, Inner};
use record::{op_marks_of, Section, SectionHeader, StreamBuf};
use segment::{Prev, SegmentHeader};

pub(crate) use open::{dir_of, open};

/// A new segment starts once the tail holds this many bytes.
const SEGMENT_BYTES: u64 = 64 << 20;
/// A segment's index notes a commit at least every this many bytes.
const MARK_BYTES: u64 = 64 << 10;
/// Neptune's default retention (`neptune_streams_expiry_days`).
pub const DEFAULT_EXPIRY: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// A position in the stream: a commit and an op within it (both from 1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId {
    pub commit_num: u64,
    pub op_num: u64,
}

/// Where a read starts (Neptune's `iteratorType` with `commitNum`/`opNum`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamStart {
    /// At this event, or the first one after it.
    At(EventId),
    /// At the first event after this one.
    After(EventId),
    /// At the oldest record that has not expired.
    TrimHorizon,
    /// The newest record (at most one is returned).
    Latest,
}

/// What a record describes (Neptune's `data.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// `vl`: a node label.
    NodeLabel,
    /// `vp`: a node property value.
    NodeProperty,
    /// `e`: a relationship with its type and ends.
    Relationship,
    /// `ep`: a relationship property value.
    RelationshipProperty,
}

impl ChangeKind {
    /// Neptune's code: `vl`, `vp`, `e`, `ep`.
    pub fn code(self) -> &'static str {
        match self {
            ChangeKind::NodeLabel => "vl",
            ChangeKind::NodeProperty => "vp",
            ChangeKind::Relationship => "e",
            ChangeKind::RelationshipProperty => "ep",
        }
    }
}

/// Whether a record adds or removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOp {
    Add,
    Remove,
}

impl ChangeOp {
    /// `ADD` or `REMOVE`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOp::Add => "ADD",
            ChangeOp::Remove => "REMOVE",
        }
    }
}

/// One change record.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRecord {
    pub event: EventId,
    /// When the transaction committed, in milliseconds since the Unix epoch (never
    /// decreasing along the stream).
    pub commit_timestamp_ms: i64,
    /// Whether this is the transaction's last record.
    pub is_last_op: bool,
    pub op: ChangeOp,
    pub kind: ChangeKind,
    /// The node's or relationship's `~id`.
    pub id: String,
    /// The property name; `label` for `vl` and `e` records.
    pub key: String,
    /// The label, the relationship type, or one property value (a list property has one
    /// record per element).
    pub value: Value,
    /// The start and end node `~id`s of an `e` record.
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The answer to a read.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamPage {
    /// At least one record.
    pub records: Vec<ChangeRecord>,
    /// The last record's event.
    pub last_event: EventId,
    /// The last record's commit timestamp.
    pub last_commit_timestamp_ms: i64,
}

/// A commit as the index knows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CommitInfo {
    pub commit: u64,
    pub seq: u64,
    pub ts_ms: i64,
    /// Records in the commit.
    pub ops: u64,
}

impl CommitInfo {
    fn of(h: &SectionHeader) -> Self {
        Self {
            commit: h.commit,
            seq: h.seq,
            ts_ms: h.ts_ms,
            ops: h.ops,
        }
    }

    fn from_prev(p: &Prev) -> Self {
        Self {
            commit: p.commit,
            seq: p.seq,
            ts_ms: p.ts_ms,
            ops: p.op,
        }
    }

    fn as_prev(&self) -> Prev {
        Prev {
            seq: self.seq,
            commit: self.commit,
            op: self.ops,
            ts_ms: self.ts_ms,
        }
    }

    fn last_event(&self) -> EventId {
        EventId {
            commit_num: self.commit,
            op_num: self.ops,
        }
    }
}

/// A sparse index entry: a commit and where its frame starts.
#[derive(Debug, Clone)]
pub(crate) struct Mark {
    pub info: CommitInfo,
    pub offset: u64,
    /// Offsets of every `OP_MARK_EVERY`-th record, relative to the commit's first record.
    pub op_marks: Arc<[u64]>,
}

pub(crate) struct Segment {
    pub path: PathBuf,
    pub header: SegmentHeader,
    /// Bytes in the file, header included.
    pub len: u64,
    pub marks: Vec<Mark>,
    /// The newest commit in the segment.
    pub last: Option<CommitInfo>,
}

impl Segment {
    fn new(path: PathBuf, header: SegmentHeader) -> Self {
        Self {
            path,
            header,
            len: segment::HEADER_LEN as u64,
            marks: Vec::new(),
            last: None,
        }
    }

    /// Adds a commit written at `offset` to the index.
    fn index(&mut self, info: CommitInfo, offset: u64, op_marks: Vec<u64>) {
        let far = self
            .marks
            .last()
            .is_none_or(|m| offset - m.offset >= MARK_BYTES);
        if far || !op_marks.is_empty() {
            self.marks.push(Mark {
                info,
                offset,
                op_marks: op_marks.into(),
            });
        }
        self.last = Some(info);
    }

    /// The first commit number this segment can hold.
    fn first_commit(&self) -> u64 {
        self.header.prev.commit + 1
    }
}

pub(crate) struct State {
    /// The current generation, oldest first; never empty (the last one is the tail).
    pub segments: Vec<Segment>,
    pub tail: Arc<dyn VfsFile>,
    /// Segments of generations before a fast reset: `(the reset's sequence number, file)`,
    /// deleted once the reset is durable.
    retired: Vec<(u64, PathBuf)>,
    pub next_segment: u64,
    /// The newest commit written (possibly not durable yet).
    pub last: CommitInfo,
    /// Commits written but not yet durable, oldest first.
    pending: VecDeque<CommitInfo>,
    /// The newest durable commit.
    pub last_visible: CommitInfo,
}

/// The change stream of one store.
pub(crate) struct StreamLog {
    vfs: Arc<dyn Vfs>,
    /// The `streams` directory.
    dir: PathBuf,
    /// Whether the files need fsyncs (not for an in-memory store).
    durable: bool,
    recording: AtomicBool,
    expiry_ms: AtomicU64,
    /// Commits with a log sequence number up to this one are durable and may be served.
    visible_seq: AtomicU64,
    /// A new segment starts once the tail holds this many bytes ([`SEGMENT_BYTES`];
    /// smaller in tests).
    segment_bytes: AtomicU64,
    state: Mutex<State>,
}

fn io_failure(what: &str, e: io::Error) -> Error {
    Error::new(
        ErrorCode::StorageFailure,
        format!("change stream: {what}: {e}"),
    )
}

pub(crate) fn millis(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

impl StreamLog {
    /// Starts a stream in `dir` whose first segment follows the graph at `seq` (no commit
    /// yet). `durable`: on a real data directory.
    pub fn create(
        vfs: Arc<dyn Vfs>,
        dir: PathBuf,
        durable: bool,
        salt: u64,
        seq: u64,
    ) -> Result<StreamLog, Error> {
        vfs.create_dir_all(&dir)
            .map_err(|e| io_failure(&format!("cannot create {}", dir.display()), e))?;
        if let (true, Some(parent)) = (durable, dir.parent()) {
            vfs.sync_dir(parent)
                .map_err(|e| io_failure(&format!("fsync of {}", parent.display()), e))?;
        }
        let header = SegmentHeader {
            salt,
            segment: 1,
            generation_seq: 0,
            prev: Prev {
                seq,
                ..Prev::default()
            },
        };
        let tail = segment::create(&*vfs, &dir, &header, durable)
            .map_err(|e| io_failure("cannot create the first segment", e))?;
        let path = dir.join(segment::segment_name(1));
        let last = CommitInfo::from_prev(&header.prev);
        Ok(StreamLog::with_state(
            vfs,
            dir,
            durable,
            seq,
            State {
                segments: vec![Segment::new(path, header)],
                tail,
                retired: Vec::new(),
                next_segment: 2,
                last,
                pending: VecDeque::new(),
                last_visible: last,
            },
        ))
    }

    fn with_state(
        vfs: Arc<dyn Vfs>,
        dir: PathBuf,
        durable: bool,
        visible_seq: u64,
        state: State,
    ) -> StreamLog {
        StreamLog {
            vfs,
            dir,
            durable,
            recording: AtomicBool::new(false),
            expiry_ms: AtomicU64::new(DEFAULT_EXPIRY.as_millis() as u64),
            visible_seq: AtomicU64::new(visible_seq),
            segment_bytes: AtomicU64::new(SEGMENT_BYTES),
            state: Mutex::new(state),
        }
    }

    /// Turns recording on with this retention.
    pub fn enable(&self, expiry: Duration) {
        let ms = u64::try_from(expiry.as_millis()).unwrap_or(u64::MAX).max(1);
        self.expiry_ms.store(ms, Ordering::Relaxed);
        self.recording.store(true, Ordering::Relaxed);
    }

    pub fn is_recording(&self) -> bool {
        self.recording.load(Ordering::Relaxed)
    }

    /// The buffer a new write transaction records into.
    pub fn buffer(&self) -> StreamBuf {
        StreamBuf::new(self.is_recording())
    }

    /// The committing transaction's section: the next commit number and a timestamp no
    /// earlier than the previous commit's. Called while the transaction holds the writer
    /// role, so no other commit takes a number before this one is appended.
    pub fn section(&self, buf: StreamBuf, seq: u64, at: SystemTime) -> Option<Section> {
        if buf.is_empty() {
            return None;
        }
        let st = lock(&self.state);
        let ts = millis(at).max(st.last.ts_ms);
        buf.into_section(st.last.commit + 1, seq, ts)
    }

    /// Appends a committed transaction's section (its log record is written: the caller
    /// holds the log's lock, so sections are appended in log order).
    pub fn append(&self, s: &Section) -> Result<(), Error> {
        let mut st = lock(&self.state);
        if let Some(salt) = s.header.reset {
            self.new_generation(&mut st, salt, s.header.seq)?;
        }
        if s.header.ops > 0 {
            self.append_commit(&mut st, &s.header, &s.bytes, s.op_marks.clone())?;
            st.pending.push_back(CommitInfo::of(&s.header));
        }
        let retired = if self.durable {
            Vec::new()
        } else {
            // Nothing to wait for: an in-memory store's commits are "durable" at once.
            std::mem::take(&mut st.retired)
        };
        drop(st);
        for (_, path) in retired {
            let _ = self.vfs.remove(&path);
        }
        Ok(())
    }

    /// Starts a new generation after a fast reset at `seq`: the old segments are retired
    /// (deleted once the reset is durable), numbering continues.
    fn new_generation(&self, st: &mut State, salt: u64, seq: u64) -> Result<(), Error> {
        let header = SegmentHeader {
            salt,
            segment: st.next_segment,
            generation_seq: seq,
            prev: st.last.as_prev(),
        };
        let tail = segment::create(&*self.vfs, &self.dir, &header, self.durable)
            .map_err(|e| io_failure("cannot start a segment after the fast reset", e))?;
        st.next_segment += 1;
        let path = self.dir.join(segment::segment_name(header.segment));
        let old = std::mem::replace(&mut st.segments, vec![Segment::new(path, header)]);
        st.retired.extend(old.into_iter().map(|s| (seq, s.path)));
        st.tail = tail;
        Ok(())
    }

    /// Writes one commit's frame to the tail (starting a new segment when the tail is full)
    /// and indexes it.
    fn append_commit(
        &self,
        st: &mut State,
        h: &SectionHeader,
        bytes: &[u8],
        op_marks: Vec<u64>,
    ) -> Result<(), Error> {
        let full = st.segments.last().is_some_and(|t| {
            t.len >= self.segment_bytes.load(Ordering::Relaxed) && t.last.is_some()
        });
        if full {
            self.roll(st)?;
            // A good moment to drop what has expired (reads do it too).
            for path in self.expired_segments(st, millis(SystemTime::now())) {
                let _ = self.vfs.remove(&path);
            }
        }
        let mut framed = Vec::with_capacity(bytes.len() + crate::wal::RECORD_HEADER_LEN);
        crate::wal::frame(bytes, &mut framed);
        let Some(tail) = st.segments.last_mut() else {
            return Err(Error::internal("the change stream has no segment"));
        };
        let offset = tail.len;
        if let Err(e) = st.tail.write_all(&framed) {
            let _ = st.tail.set_len(offset);
            return Err(io_failure(
                &format!("write to {} failed", tail.path.display()),
                e,
            ));
        }
        tail.len += framed.len() as u64;
        let info = CommitInfo::of(h);
        tail.index(info, offset, op_marks);
        st.last = info;
        Ok(())
    }

    /// Seals the tail (fsynced: from here on only the tail can lose a suffix in a crash)
    /// and starts the next segment.
    fn roll(&self, st: &mut State) -> Result<(), Error> {
        let Some(tail) = st.segments.last() else {
            return Err(Error::internal("the change stream has no segment"));
        };
        if self.durable {
            st.tail
                .sync()
                .map_err(|e| io_failure(&format!("fsync of {}", tail.path.display()), e))?;
        }
        let header = SegmentHeader {
            salt: tail.header.salt,
            segment: st.next_segment,
            generation_seq: tail.header.generation_seq,
            prev: st.last.as_prev(),
        };
        let file = segment::create(&*self.vfs, &self.dir, &header, self.durable)
            .map_err(|e| io_failure("cannot start the next segment", e))?;
        st.next_segment += 1;
        let path = self.dir.join(segment::segment_name(header.segment));
        st.segments.push(Segment::new(path, header));
        st.tail = file;
        Ok(())
    }

    /// Commits up to `seq` are durable: readers may serve them.
    pub fn publish(&self, seq: u64) {
        self.visible_seq.fetch_max(seq, Ordering::AcqRel);
        let mut st = lock(&self.state);
        while st.pending.front().is_some_and(|p| p.seq <= seq) {
            if let Some(p) = st.pending.pop_front() {
                st.last_visible = p;
            }
        }
    }

    /// Makes the stream durable up to what is written (before the log segments that could
    /// rebuild it are deleted) and deletes the segments of durable fast resets.
    pub fn sync(&self) -> Result<(), Error> {
        let visible = self.visible_seq.load(Ordering::Acquire);
        let (tail, path, retired) = {
            let mut st = lock(&self.state);
            let (done, keep): (Vec<_>, Vec<_>) =
                st.retired.drain(..).partition(|(seq, _)| *seq <= visible);
            st.retired = keep;
            let path = st.segments.last().map(|s| s.path.clone());
            (Arc::clone(&st.tail), path, done)
        };
        if self.durable {
            tail.sync().map_err(|e| {
                let shown = path.map(|p| p.display().to_string()).unwrap_or_default();
                io_failure(&format!("fsync of {shown}"), e)
            })?;
        }
        if !retired.is_empty() {
            for (_, path) in retired {
                let _ = self.vfs.remove(&path);
            }
            if self.durable {
                self.vfs
                    .sync_dir(&self.dir)
                    .map_err(|e| io_failure("fsync of the streams directory", e))?;
            }
        }
        Ok(())
    }

    fn cutoff(&self, now_ms: i64) -> i64 {
        let expiry = i64::try_from(self.expiry_ms.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
        now_ms.saturating_sub(expiry)
    }

    /// Deletes whole segments whose every commit has expired (never the tail).
    fn purge(&self, now_ms: i64) {
        let expired = self.expired_segments(&mut lock(&self.state), now_ms);
        for path in expired {
            let _ = self.vfs.remove(&path);
        }
    }

    /// Takes the expired segments out of the index; the caller deletes the files.
    fn expired_segments(&self, st: &mut State, now_ms: i64) -> Vec<PathBuf> {
        let cutoff = self.cutoff(now_ms);
        let n = st
            .segments
            .iter()
            .take(st.segments.len().saturating_sub(1))
            .take_while(|s| s.last.is_none_or(|l| l.ts_ms < cutoff))
            .count();
        st.segments.drain(..n).map(|s| s.path).collect()
    }

    /// Replays a section found only in the write-ahead log (recovery).
    fn catch_up(&self, seq: u64, section: &[u8]) -> Result<(), String> {
        let mut d = crate::codec::Decoder::new(section);
        let h = SectionHeader::decode(&mut d).map_err(|e| e.0.to_string())?;
        if h.seq != seq {
            return Err(format!(
                "the stream section of log record {seq} names transaction {}",
                h.seq
            ));
        }
        let records = &section[d.position()..];
        let op_marks = op_marks_of(records, h.ops).map_err(|e| e.0.to_string())?;
        let mut st = lock(&self.state);
        if let Some(salt) = h.reset {
            self.new_generation(&mut st, salt, seq)
                .map_err(|e| e.message)?;
            // The reset is in the log: the old generation is gone for good.
            for (_, path) in std::mem::take(&mut st.retired) {
                let _ = self.vfs.remove(&path);
            }
        }
        if h.ops > 0 {
            self.append_commit(&mut st, &h, section, op_marks)
                .map_err(|e| e.message)?;
            st.last_visible = st.last;
        }
        Ok(())
    }
}

/// Reads a store's change stream; cheap to clone, usable from any thread. Answers
/// `StorageFailure` once the store is gone.
#[derive(Clone)]
pub struct Streams {
    pub(crate) inner: Weak<Inner>,
}

impl std::fmt::Debug for Streams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streams").finish_non_exhaustive()
    }
}

impl Streams {
    /// Up to `limit` records from `start`, stopping after the record that takes the
    /// answer past about `max_bytes` (Neptune's 10 MB cap). Errors:
    /// `StreamRecordsNotFound` (nothing at or after the position: past the end or an empty
    /// stream; the message names the last event, as Neptune's does),
    /// `ExpiredStream` (the position is older than the retention or was removed by a fast
    /// reset), `UnsupportedOperation` (recording is off), `StorageFailure`.
    pub fn read(
        &self,
        start: StreamStart,
        limit: usize,
        max_bytes: usize,
    ) -> Result<StreamPage, Error> {
        let inner = self
            .inner
            .upgrade()
            .ok_or_else(|| Error::new(ErrorCode::StorageFailure, "the store has been closed"))?;
        let log = inner
            .stream
            .get()
            .filter(|l| l.is_recording())
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::UnsupportedOperation,
                    "Streams are not enabled on this server: start it with --streams",
                )
            })?;
        let now = millis(SystemTime::now());
        log.read(start, limit.max(1), max_bytes, now, &|| {
            inner.published_graph()
        })
    }

    /// The retention period in force.
    pub fn expiry(&self) -> Option<Duration> {
        let inner = self.inner.upgrade()?;
        let log = inner.stream.get()?;
        Some(Duration::from_millis(log.expiry_ms.load(Ordering::Relaxed)))
    }
}
