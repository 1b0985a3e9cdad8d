//! Ingestion of one file into the store: records in batches, one write transaction per
//! batch, each committed durably before the batch after it is logged.
//!
//! ```text
//!  reading thread: FileReader ─ record (+ relationship ends looked up in the newest
//!       committed version) ─ chunks of 2,048 over a bounded channel ─►
//!  this thread: create_node / create_rel through the batch's BulkWrite
//!       │ bad row, bad type, missing end ─► an ErrorLog, counted
//!       │ (relationships' adjacency is merged per node when the batch ends)
//!       └ every `batch_size` records (or at the end, at the first error with failOnError,
//!         at a cancel): commit to the log ─► sync thread: fsync
//!         meanwhile the next batch is built; before it is logged, `on_batch` gets the
//!         previous one's figures (it is durable then)
//! ```
//!
//! * A node whose `~id` is taken (already in the graph, or earlier in the load) is a
//!   duplicate: the existing node is kept and `totalDuplicates` counts it. Likewise a
//!   relationship whose user-provided id is taken. In Gremlin CSV such a row's
//!   single-cardinality values are merged instead (`updateSingleCardinalityProperties`,
//!   see `merge.rs`).
//! * A relationship whose start or end node does not exist is an insert error.
//! * With `failOnError`, the first error ends the file: the records before it (in the file)
//!   are committed, nothing after it is read.
//! * Cancelling takes effect between batches: the batch being built is still committed.
//!   A read that fails because the cancel ended its wait (the S3 client watches the job's
//!   flag) ends the file as cancelled, not as a read error.
//!
//! Memory: the write sets of two batches (the one being synced and the one being built)
//! plus at most six chunks of records read ahead for each of two files (the one being
//! written and the next, see [`Readers`]); files are streamed.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

use nereid_common::{CancelToken, Error, ErrorCode};
use nereid_storage::{BulkWrite, Committing, GraphRead, KeyId, LabelId, Store, TypeId, WriteTxn};
use nereid_value::{NodeId, Value};
use serde::{Deserialize, Serialize};

use crate::format::{Cardinality, ColumnKind, FileKind, Format, Header};
use crate::merge::{merge, Element, Merged};
use crate::reader::{FileReader, OpenError};
use crate::record::{ErrorKind, NodeRecord, Record, RecordError, RelRecord};

/// Records per write transaction unless configured otherwise. Each batch re-merges the
/// adjacency block of every node it adds a relationship to, and a file sorted by start
/// node touches most end nodes in every batch: 200,000 loaded the 100k-person benchmark
/// graph (1.28 M records) in a median 1.06 s against 1.45 s at 50,000 (five interleaved
/// runs each, `nereid load`, job seconds), for 11 MB more peak RSS (166 against 155 MB);
/// 400,000 gained nothing more. A crash loses at most one batch, which RESUME redoes.
pub const DEFAULT_BATCH_SIZE: usize = 200_000;

/// Neptune's error counters (and the record total) of a load, a file or a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Records read and dealt with: loaded, duplicates and errors alike.
    pub total_records: u64,
    pub total_duplicates: u64,
    pub parsing_errors: u64,
    pub datatype_mismatch_errors: u64,
    pub insert_errors: u64,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.total_records += other.total_records;
        self.total_duplicates += other.total_duplicates;
        self.parsing_errors += other.parsing_errors;
        self.datatype_mismatch_errors += other.datatype_mismatch_errors;
        self.insert_errors += other.insert_errors;
    }

    pub fn errors(&self) -> u64 {
        self.parsing_errors + self.datatype_mismatch_errors + self.insert_errors
    }
}

/// One entry of a job's error log (Neptune's `errorLogs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorLog {
    pub error_code: String,
    pub error_message: String,
    pub file_name: String,
    /// The data record's number in its file, from 1 (0: the file as a whole).
    pub record_num: u64,
}

/// How to load.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub format: Format,
    pub fail_on_error: bool,
    /// openCypher relationship files: `true` (Neptune's default) needs `:ID` on every
    /// relationship file; `false` forbids it and generates ids.
    pub user_provided_edge_ids: bool,
    pub batch_size: usize,
    /// `updateSingleCardinalityProperties` (Gremlin CSV; see [`crate::merge`]).
    pub update_single_cardinality_properties: bool,
    /// Reading and fsync waits on threads of their own (`parallelism` other than `LOW`),
    /// or everything on the calling thread.
    pub pipelined: bool,
}

/// What one committed batch did.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub counts: Counts,
    pub errors: Vec<ErrorLog>,
    /// Records of the file committed so far, this batch included.
    pub records_through: u64,
}

/// How a file ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileEnd {
    /// Every record was read (some may have been errors, without `failOnError`).
    Done,
    /// `failOnError` stopped the file at an error, or the file could not be read on.
    Failed,
    Cancelled,
}

/// Called before each commit with the sequence number the batch started from (so a crash
/// during the commit can be told apart from one before it), then after it with the batch.
pub trait BatchSink {
    fn before_commit(&mut self, base_seq: u64, records_through: u64);
    fn committed(&mut self, batch: Batch);
}

fn file_error(code: &str, message: String, file: &str, record_num: u64) -> ErrorLog {
    ErrorLog {
        error_code: code.into(),
        error_message: message,
        file_name: file.into(),
        record_num,
    }
}

/// Opens `path` and reports its kind, or the error log entry saying why it cannot be loaded.
pub fn open(path: &Path, format: Format, display: &str) -> Result<FileReader, ErrorLog> {
    FileReader::open(path, format).map_err(|e| match e {
        OpenError::Io(e) => file_error(
            "FILE_READ_ERROR",
            format!("cannot read the file: {e}"),
            display,
            0,
        ),
        OpenError::Header(e) => {
            file_error("PARSING_ERROR", format!("invalid header: {e}"), display, 0)
        }
    })
}

/// Loads the records of `reader` after the first `skip` (already loaded by an earlier run
/// of the same source) into `store`, in batches.
pub fn ingest(
    store: &Store,
    reader: FileReader,
    display: &str,
    skip: u64,
    options: &IngestOptions,
    cancel: &AtomicBool,
    sink: &mut dyn BatchSink,
) -> Result<FileEnd, Error> {
    if !options.pipelined {
        // `parallelism` LOW: read, write and wait for each fsync on this one thread.
        let Some(single) = check_file(reader.header(), display, options, sink) else {
            return Ok(FileEnd::Failed);
        };
        let incoming = Incoming {
            source: Source::Inline(Chunks::new(store, reader, skip)),
            chunk: Vec::new(),
            pos: 0,
        };
        return pipelined(
            store, incoming, display, options, &single, cancel, sink, None,
        );
    }
    std::thread::scope(|scope| {
        let ahead = Readers::start(scope)?.read(store, reader, skip);
        ingest_read_ahead(store, ahead, display, options, cancel, sink)
    })
}

/// The reading thread of a load: reads, parses and resolves its files one after the
/// other, each handed to the writer through its own [`ReadAhead`]. A file queued before
/// its turn is read as soon as the one before it ends: while the writer finishes one file
/// (its last batch, its fsync, the job record), the next one's first chunks are read, where
/// the writer used to wait ~40 ms per file for them. Relationship ends a chunk read early
/// does not find (their nodes were not committed yet) are looked up again by the writer.
///
/// One thread for all files, not one per file: glibc's arenas are capped at the core
/// count, and a second reading thread alive at once shared the writer's arena (and its
/// lock) — a load ran 25% slower with one reading thread per file started ahead.
pub struct Readers<'a> {
    queue: mpsc::Sender<Queued<'a>>,
}

/// A file for the reading thread, and the channels to the writer.
struct Queued<'a> {
    chunks: Chunks<'a>,
    tx: mpsc::SyncSender<Vec<Read>>,
    returned: mpsc::Receiver<Vec<Read>>,
    finished: Arc<AtomicBool>,
}

/// A file queued for (or being read by) the reading thread: the writer's end.
pub struct ReadAhead {
    header: Header,
    rx: mpsc::Receiver<Vec<Read>>,
    back: mpsc::Sender<Vec<Read>>,
    /// Set by the reading thread when it finished the file normally (not by a panic).
    finished: Arc<AtomicBool>,
}

impl<'a> Readers<'a> {
    /// Starts the reading thread on `scope`; it ends when the `Readers` is dropped and the
    /// files queued are done (a file is done early when its `ReadAhead` is dropped).
    pub fn start<'scope>(scope: &'scope std::thread::Scope<'scope, 'a>) -> Result<Self, Error> {
        let (queue, files) = mpsc::channel::<Queued<'a>>();
        std::thread::Builder::new()
            .name("nereid-loader-read".into())
            .spawn_scoped(scope, move || {
                // Emptied chunks, kept to be refilled (for every file: a chunk is a few
                // hundred kilobytes, which the allocator would otherwise map and unmap).
                let mut spare: Vec<Vec<Read>> = Vec::new();
                for file in files {
                    read_ahead(file.chunks, &file.tx, file.returned, &mut spare);
                    // Before the hang-up (dropping `tx`), which the writer then reads as the
                    // end.
                    file.finished.store(true, Ordering::Release);
                    drop(file.tx);
                }
            })
            .map_err(|e| {
                Error::internal(format!("cannot start the loader's reading thread: {e}"))
            })?;
        Ok(Readers { queue })
    }

    /// Queues `reader` (after its first `skip` records) to be read after the files queued
    /// before it.
    pub fn read(&self, store: &'a Store, reader: FileReader, skip: u64) -> ReadAhead {
        let header = reader.header().clone();
        let (tx, rx) = mpsc::sync_channel::<Vec<Read>>(READ_AHEAD_CHUNKS);
        let (back, returned) = mpsc::channel::<Vec<Read>>();
        let finished = Arc::new(AtomicBool::new(false));
        // If the thread is gone (it panicked), `tx` is dropped with the message and the
        // writer sees a hang-up without `finished`: an internal error.
        let _ = self.queue.send(Queued {
            chunks: Chunks::new(store, reader, skip),
            tx,
            returned,
            finished: Arc::clone(&finished),
        });
        ReadAhead {
            header,
            rx,
            back,
            finished,
        }
    }
}

/// [`ingest`] of a file whose reading has started.
pub fn ingest_read_ahead(
    store: &Store,
    ahead: ReadAhead,
    display: &str,
    options: &IngestOptions,
    cancel: &AtomicBool,
    sink: &mut dyn BatchSink,
) -> Result<FileEnd, Error> {
    let Some(single) = check_file(&ahead.header, display, options, sink) else {
        return Ok(FileEnd::Failed);
    };
    let incoming = Incoming {
        source: Source::Thread {
            rx: ahead.rx,
            back: ahead.back,
            finished: ahead.finished,
        },
        chunk: Vec::new(),
        pos: 0,
    };
    write_batches(store, incoming, display, options, &single, cancel, sink)
}

/// Checks what the header allows before any record is read: `None` (after reporting the
/// error to `sink`) when the file cannot be loaded with these options; else the Gremlin
/// CSV single-cardinality property names (rows for a taken id are merged, see
/// crate::merge; edge columns are all single).
fn check_file(
    header: &Header,
    display: &str,
    options: &IngestOptions,
    sink: &mut dyn BatchSink,
) -> Option<Vec<Arc<str>>> {
    if header.kind == FileKind::Relationship && options.format == Format::OpenCypher {
        let has_id = header
            .columns
            .iter()
            .any(|c| matches!(c.kind, ColumnKind::Id { .. }));
        let problem = match (options.user_provided_edge_ids, has_id) {
            (true, false) => Some(
                "the relationship file has no :ID column, which userProvidedEdgeIds (default TRUE) requires; add one or load with userProvidedEdgeIds FALSE",
            ),
            (false, true) => Some(
                "the relationship file has an :ID column but userProvidedEdgeIds is FALSE; remove the column or load with userProvidedEdgeIds TRUE",
            ),
            _ => None,
        };
        if let Some(message) = problem {
            let mut batch = Batch::default();
            batch
                .errors
                .push(file_error("PARSING_ERROR", message.into(), display, 0));
            sink.committed(batch);
            return None;
        }
    }
    if options.format != Format::GremlinCsv {
        return Some(Vec::new());
    }
    Some(
        header
            .columns
            .iter()
            .filter_map(|c| match &c.kind {
                ColumnKind::Property(p) if p.cardinality == Cardinality::Single => {
                    Some(p.name.clone())
                }
                _ => None,
            })
            .collect(),
    )
}

/// The writer's end of the hand-over.
struct Incoming<'a> {
    source: Source<'a>,
    chunk: Vec<Read>,
    pos: usize,
}

/// Where the writer's records come from.
enum Source<'a> {
    /// The reading thread. Used chunks go back to it to be freed and refilled there:
    /// memory allocated by one thread and freed by another costs glibc's allocator an
    /// arena lock per free, which made a first two-thread loader slower than one thread.
    /// The writer copies what it keeps.
    Thread {
        rx: mpsc::Receiver<Vec<Read>>,
        back: mpsc::Sender<Vec<Read>>,
        /// Set by the reading thread when it returns normally (not by a panic).
        finished: Arc<AtomicBool>,
    },
    /// Read here, a chunk at a time (`parallelism` LOW).
    Inline(Chunks<'a>),
}

impl Incoming<'_> {
    /// The next record; `Ok(None)` at the end of the file.
    fn next(&mut self) -> Result<Option<&mut Read>, Error> {
        while self.pos == self.chunk.len() {
            match &mut self.source {
                Source::Thread { rx, back, finished } => {
                    let Ok(next) = rx.recv() else {
                        // The reader hangs up only after it set `finished`, unless it
                        // panicked.
                        if finished.load(Ordering::Acquire) {
                            return Ok(None);
                        }
                        return Err(Error::internal("the loader's reading thread failed"));
                    };
                    let used = std::mem::replace(&mut self.chunk, next);
                    // The reader may have ended: then the chunk is freed here, once.
                    let _ = back.send(used);
                }
                Source::Inline(chunks) => {
                    chunks.fill(&mut self.chunk);
                    if self.chunk.is_empty() {
                        return Ok(None);
                    }
                }
            }
            self.pos = 0;
        }
        self.pos += 1;
        Ok(self.chunk.get_mut(self.pos - 1))
    }
}

/// Records handed from the reading thread to the writing one at a time.
const READ_CHUNK: usize = 2048;
/// Chunks in flight: bounds the records read ahead of the writer.
const READ_AHEAD_CHUNKS: usize = 4;

/// One record as the reading thread hands it over.
struct Read {
    item: Result<Record, RecordError>,
    /// A relationship's start and end, where the newest committed version had them.
    ends: Ends,
    /// `records_read` of the reader after this record.
    records_read: u64,
}

#[derive(Default, Clone, Copy)]
struct Ends {
    start: Option<NodeId>,
    end: Option<NodeId>,
}

/// The last relationship start id looked up and its node: relationship files are usually
/// grouped by start node (an export walks each node's relationships in turn), so one
/// remembered lookup saves most of the start-id lookups.
#[derive(Default)]
struct LastStart(Option<(String, NodeId)>);

impl LastStart {
    /// The node of `id`: the remembered one, or `lookup`'s (then remembered, reusing the
    /// string's buffer).
    fn find(&mut self, id: &str, lookup: impl FnOnce(&str) -> Option<NodeId>) -> Option<NodeId> {
        if let Some((last, node)) = &self.0 {
            if last == id {
                return Some(*node);
            }
        }
        let node = lookup(id)?;
        match &mut self.0 {
            Some((last, n)) => {
                last.clear();
                last.push_str(id);
                *n = node;
            }
            None => self.0 = Some((id.to_owned(), node)),
        }
        Some(node)
    }

    /// Forgets the remembered node unless `still` holds for it (a query may have deleted
    /// it since).
    fn keep_if(&mut self, still: impl FnOnce(NodeId) -> bool) {
        if self.0.as_ref().is_some_and(|(_, n)| !still(*n)) {
            self.0 = None;
        }
    }
}

/// Records of a file in chunks, after skipping the first `skip`, with each relationship's
/// ends looked up in the newest committed version (refreshed per chunk, so nodes that
/// earlier files or batches committed are found).
struct Chunks<'a> {
    store: &'a Store,
    reader: FileReader,
    /// Records still to skip before the first chunk.
    skip: u64,
    last_start: LastStart,
    ended: bool,
}

impl<'a> Chunks<'a> {
    fn new(store: &'a Store, reader: FileReader, skip: u64) -> Self {
        Chunks {
            store,
            reader,
            skip,
            last_start: LastStart::default(),
            ended: false,
        }
    }

    /// Replaces `chunk`'s records with the next [`READ_CHUNK`] (fewer only at the end of
    /// the file), refilling the records it holds in place (their strings and vectors are
    /// reused, see [`crate::record::build_into`]).
    fn fill(&mut self, chunk: &mut Vec<Read>) {
        if self.ended {
            chunk.clear();
            return;
        }
        while self.skip > 0 {
            self.skip -= 1;
            if self.reader.next().is_none() {
                self.ended = true;
                chunk.clear();
                return;
            }
        }
        let snapshot = self.store.snapshot();
        self.last_start.keep_if(|n| snapshot.node_exists(n));
        let mut n = 0;
        while n < READ_CHUNK {
            if n == chunk.len() {
                chunk.push(Read {
                    item: Err(RecordError::new(0, ErrorKind::Parsing, String::new())),
                    ends: Ends::default(),
                    records_read: 0,
                });
            }
            let read = &mut chunk[n];
            if !self.reader.next_into(&mut read.item) {
                self.ended = true;
                break;
            }
            n += 1;
            read.ends = Ends::default();
            if let Ok(Record::Rel(rel)) = &read.item {
                read.ends.start = self
                    .last_start
                    .find(&rel.start, |id| snapshot.node_by_external_id(id));
                read.ends.end = snapshot.node_by_external_id(&rel.end);
            }
            read.records_read = self.reader.records_read();
        }
        chunk.truncate(n);
    }
}

/// The reading thread's work on one file: sends its records in chunks. Stops when the
/// writer hangs up.
fn read_ahead(
    mut chunks: Chunks<'_>,
    tx: &mpsc::SyncSender<Vec<Read>>,
    returned: mpsc::Receiver<Vec<Read>>,
    spare: &mut Vec<Vec<Read>>,
) {
    loop {
        // Chunks the writer is done with come back here, to be refilled (their records
        // were allocated here).
        spare.extend(returned.try_iter());
        let mut chunk = spare.pop().unwrap_or_default();
        chunks.fill(&mut chunk);
        let last = chunks.ended;
        if chunk.is_empty() || tx.send(chunk).is_err() || last {
            return;
        }
    }
}

/// The writing side of [`ingest`]: records in batches, one transaction each.
///
/// Commits are pipelined: a batch is written to the log, and while a second thread waits
/// for it to be synced (leading the fsync), this one builds the next batch, in a
/// transaction that starts from the one being synced. The next batch is logged only after
/// the previous one is durable and reported to `sink`, so the sink sees one batch in
/// flight at a time, as without pipelining: a crash leaves whole batches, described by the
/// job record. If the thread cannot be started, each commit is waited for here; so it is
/// when another writer waits, which then has the next turn.
fn write_batches(
    store: &Store,
    records: Incoming<'_>,
    display: &str,
    options: &IngestOptions,
    single: &[Arc<str>],
    cancel: &AtomicBool,
    sink: &mut dyn BatchSink,
) -> Result<FileEnd, Error> {
    std::thread::scope(|scope| {
        let (to_sync, commits) = mpsc::channel::<Committing>();
        let (done, synced) = mpsc::channel::<Result<(), Error>>();
        let syncer = std::thread::Builder::new()
            .name("nereid-loader-sync".into())
            .spawn_scoped(scope, move || {
                for commit in commits {
                    if done.send(commit.wait()).is_err() {
                        break;
                    }
                }
            });
        let sync = syncer.ok().map(|_| (to_sync, synced));
        // `sync` is dropped on return, and with its sender the thread ends.
        pipelined(store, records, display, options, single, cancel, sink, sync)
    })
}

type SyncChannels = (mpsc::Sender<Committing>, mpsc::Receiver<Result<(), Error>>);

fn pipelined(
    store: &Store,
    mut records: Incoming<'_>,
    display: &str,
    options: &IngestOptions,
    single: &[Arc<str>],
    cancel: &AtomicBool,
    sink: &mut dyn BatchSink,
    sync: Option<SyncChannels>,
) -> Result<FileEnd, Error> {
    let merging = (options.format == Format::GremlinCsv).then_some(Merging {
        single,
        update: options.update_single_cardinality_properties,
        display,
    });
    let mut names = Names::default();
    let mut records_read = 0;
    // The batch whose commit the sync thread is waiting for.
    let mut in_flight: Option<Batch> = None;
    // Waits for the batch in flight and reports it.
    let finish = |in_flight: &mut Option<Batch>, sink: &mut dyn BatchSink| -> Result<(), Error> {
        let Some(batch) = in_flight.take() else {
            return Ok(());
        };
        if let Some((_, synced)) = &sync {
            synced
                .recv()
                .unwrap_or_else(|_| Err(Error::internal("the loader's sync thread failed")))?;
        }
        sink.committed(batch);
        Ok(())
    };
    loop {
        if cancel.load(Ordering::Relaxed) {
            finish(&mut in_flight, sink)?;
            return Ok(FileEnd::Cancelled);
        }
        let built = build_batch(
            store,
            &mut records,
            display,
            options,
            &mut names,
            &mut records_read,
            merging.as_ref(),
            cancel,
        );
        // Also when building failed: the batch in flight is committed, so it is reported.
        finish(&mut in_flight, sink)?;
        let (txn, batch, end) = built?;
        sink.before_commit(txn.base_seq(), batch.records_through);
        let committing = txn.commit_started()?;
        // Waited for here (not pipelined) at the end, and when another writer waits: it
        // gets the writer's turn while this commit syncs, as a query should during a load.
        let inline = end.is_some() || store.writers_waiting();
        let committing = match (&sync, inline) {
            (Some((to_sync, _)), false) => match to_sync.send(committing) {
                Ok(()) => {
                    in_flight = Some(batch);
                    continue;
                }
                Err(mpsc::SendError(c)) => c,
            },
            _ => committing,
        };
        committing.wait()?;
        sink.committed(batch);
        if let Some(end) = end {
            return Ok(end);
        }
    }
}

/// Reads and applies the next batch of records in a new write transaction: the
/// transaction (not committed), the batch's figures, and how the file ended if it did.
fn build_batch(
    store: &Store,
    records: &mut Incoming<'_>,
    display: &str,
    options: &IngestOptions,
    names: &mut Names,
    records_read: &mut u64,
    merging: Option<&Merging<'_>>,
    cancel: &AtomicBool,
) -> Result<(WriteTxn, Batch, Option<FileEnd>), Error> {
    let batch_size = options.batch_size.max(1);
    let mut txn = store.begin_write(&CancelToken::none())?;
    // The batch is private until it commits: its relationships' adjacency is merged
    // into each node's block once, when `bulk` is dropped, not entry by entry.
    let mut bulk = txn.bulk();
    names.clear();
    let mut batch = Batch::default();
    let mut end = None;
    let mut in_batch = 0;
    while in_batch < batch_size {
        let Some(read) = records.next()? else {
            end = Some(FileEnd::Done);
            break;
        };
        *records_read = read.records_read;
        in_batch += 1;
        batch.counts.total_records += 1;
        let failed = match &mut read.item {
            Ok(Record::Node(node)) => {
                load_node(&mut bulk, names, node, merging, *records_read, &mut batch)?
            }
            Ok(Record::Rel(rel)) => load_rel(
                &mut bulk,
                names,
                rel,
                read.ends,
                display,
                *records_read,
                merging,
                &mut batch,
            )?,
            Err(e) => {
                let (code, io) = match e.kind {
                    ErrorKind::Parsing => {
                        batch.counts.parsing_errors += 1;
                        ("PARSING_ERROR", false)
                    }
                    ErrorKind::DatatypeMismatch => {
                        batch.counts.datatype_mismatch_errors += 1;
                        ("DATATYPE_MISMATCH", false)
                    }
                    ErrorKind::Io => {
                        // Not a record: the file cannot be read on.
                        batch.counts.total_records -= 1;
                        if cancel.load(Ordering::Relaxed) {
                            // The S3 client's wait was ended by the cancel: not an error.
                            end = Some(FileEnd::Cancelled);
                            break;
                        }
                        ("FILE_READ_ERROR", true)
                    }
                };
                batch
                    .errors
                    .push(file_error(code, e.message.clone(), display, e.record_num));
                if io {
                    end = Some(FileEnd::Failed);
                    break;
                }
                true
            }
        };
        if failed && options.fail_on_error {
            end = Some(FileEnd::Failed);
            break;
        }
    }
    drop(bulk);
    batch.records_through = *records_read;
    Ok((txn, batch, end))
}

/// Dictionary ids of the batch (interning again per record would hash every name), and the
/// start node of the batch's last relationship.
#[derive(Default)]
struct Names {
    labels: Seen,
    types: Seen,
    keys: Seen,
    /// For the starts the reading thread could not resolve.
    last_start: LastStart,
    /// The record's label and key ids, reused from record to record.
    label_ids: Vec<LabelId>,
    key_ids: Vec<KeyId>,
}

/// Names already interned in this batch: a file has a handful of labels, types and keys,
/// found fastest by a scan; past [`Seen::FEW`] of them a hash map takes over. Property
/// names and types are shared strings (one per header column, one per run of a type), so
/// the scan compares pointers before it compares text.
#[derive(Default)]
struct Seen {
    few: Vec<(Arc<str>, u32)>,
    many: HashMap<Arc<str>, u32>,
}

impl Seen {
    const FEW: usize = 16;

    fn get_shared(&mut self, name: &Arc<str>, intern: impl FnOnce() -> u32) -> u32 {
        if let Some((_, id)) = self.few.iter().find(|(n, _)| Arc::ptr_eq(n, name)) {
            return *id;
        }
        // Found by its text (an earlier file's header spelled it): keep this file's
        // pointer, which the records share, so the next lookups compare pointers only.
        if let Some((n, id)) = self.few.iter_mut().find(|(n, _)| **n == **name) {
            *n = Arc::clone(name);
            return *id;
        }
        self.get_past_few(name, || Arc::clone(name), intern)
    }

    fn get_or_intern(&mut self, name: &str, intern: impl FnOnce() -> u32) -> u32 {
        if let Some((_, id)) = self.few.iter().find(|(n, _)| **n == *name) {
            return *id;
        }
        self.get_past_few(name, || name.into(), intern)
    }

    /// `name`'s id from the map, or a new one from `intern`, kept under `owned()` (in the
    /// scanned few while there is room).
    fn get_past_few(
        &mut self,
        name: &str,
        owned: impl FnOnce() -> Arc<str>,
        intern: impl FnOnce() -> u32,
    ) -> u32 {
        if let Some(&id) = self.many.get(name) {
            return id;
        }
        let id = intern();
        if self.few.len() < Self::FEW {
            self.few.push((owned(), id));
        } else {
            self.many.insert(owned(), id);
        }
        id
    }

    fn clear(&mut self) {
        self.few.clear();
        self.many.clear();
    }
}

impl Names {
    fn clear(&mut self) {
        // Ids are stable once interned, but a batch that was never committed would leave
        // ids the next transaction does not know; so per batch. The same holds for the
        // remembered start node (a concurrent query may delete it between batches).
        self.labels.clear();
        self.types.clear();
        self.keys.clear();
        self.last_start = LastStart::default();
    }

    /// The node whose `~id` is `id`, remembering it as the last start node.
    fn start_node(&mut self, txn: &BulkWrite<'_>, id: &str) -> Option<NodeId> {
        self.last_start.find(id, |id| txn.node_by_external_id(id))
    }

    fn label(&mut self, txn: &mut BulkWrite<'_>, name: &str) -> LabelId {
        self.labels.get_or_intern(name, || txn.intern_label(name))
    }

    fn rel_type(&mut self, txn: &mut BulkWrite<'_>, name: &Arc<str>) -> TypeId {
        self.types.get_shared(name, || txn.intern_type(name))
    }

    fn key(&mut self, txn: &mut BulkWrite<'_>, name: &Arc<str>) -> KeyId {
        self.keys.get_shared(name, || txn.intern_key(name))
    }

    /// The ids of `labels` in `self.label_ids`.
    fn label_ids(&mut self, txn: &mut BulkWrite<'_>, labels: &[String]) {
        let mut ids = std::mem::take(&mut self.label_ids);
        ids.clear();
        ids.extend(labels.iter().map(|l| self.label(txn, l)));
        self.label_ids = ids;
    }

    /// The key ids of `props` in `self.key_ids`.
    fn key_ids(&mut self, txn: &mut BulkWrite<'_>, props: &[(Arc<str>, Value)]) {
        let mut ids = std::mem::take(&mut self.key_ids);
        ids.clear();
        ids.extend(props.iter().map(|(k, _)| self.key(txn, k)));
        self.key_ids = ids;
    }
}

/// A record's properties as the store takes them: their interned `keys` (in order), the
/// values taken out of the record (see [`keep`]).
fn store_props<'r>(
    keys: &'r [KeyId],
    props: &'r mut [(Arc<str>, Value)],
) -> impl Iterator<Item = (KeyId, Value)> + 'r {
    keys.iter()
        .zip(props.iter_mut())
        .map(|(k, (_, v))| (*k, keep(v)))
}

/// A record's value for the store, copied for strings and lists: the reading thread then
/// refills its strings in place and allocates nothing per record. (Taking them made it
/// allocate every string property anew, and when the two threads shared one of the
/// process's malloc arenas, which happens in about half the loads, both waited on its lock:
/// those loads took 25% longer.) Other values are taken.
fn keep(v: &mut Value) -> Value {
    match v {
        Value::List(_) | Value::String(_) => v.clone(),
        _ => std::mem::replace(v, Value::Null),
    }
}

/// How rows for a taken id are merged (Gremlin CSV only).
struct Merging<'a> {
    /// Single-cardinality property names of the file.
    single: &'a [Arc<str>],
    update: bool,
    display: &'a str,
}

impl Merging<'_> {
    /// Merges the row's single-cardinality values into `element`; whether it was an error.
    fn apply(
        &self,
        txn: &mut BulkWrite<'_>,
        names: &mut Names,
        element: Element,
        external_id: &str,
        props: &[(Arc<str>, Value)],
        record_num: u64,
        batch: &mut Batch,
    ) -> Result<bool, Error> {
        let values: Vec<(KeyId, Value)> = props
            .iter()
            .filter(|(k, _)| self.single.iter().any(|s| s == k))
            .map(|(k, v)| (names.key(txn, k), v.clone()))
            .collect();
        match merge(txn, element, external_id, &values, self.update)? {
            Merged::Unchanged => batch.counts.total_duplicates += 1,
            Merged::Updated => {}
            Merged::Conflict(message) => {
                batch.counts.insert_errors += 1;
                batch.errors.push(file_error(
                    "INSERT_ERROR",
                    message,
                    self.display,
                    record_num,
                ));
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Whether the record was an error (a duplicate is not one).
fn load_node(
    txn: &mut BulkWrite<'_>,
    names: &mut Names,
    node: &mut NodeRecord,
    merging: Option<&Merging<'_>>,
    record_num: u64,
    batch: &mut Batch,
) -> Result<bool, Error> {
    // Merging reads the row's values, which `keep` below takes: a taken id is looked up
    // first. Otherwise `create_node` finds a taken id itself (DuplicateData): no lookup.
    if let Some(m) = merging {
        if let Some(n) = txn.node_by_external_id(&node.id) {
            return m.apply(
                txn,
                names,
                Element::Node(n),
                &node.id,
                &node.props,
                record_num,
                batch,
            );
        }
    }
    names.label_ids(txn, &node.labels);
    names.key_ids(txn, &node.props);
    let props = store_props(&names.key_ids, &mut node.props);
    match txn.create_node(&names.label_ids, props, Some(&node.id)) {
        Ok(_) => Ok(false),
        Err(e) if e.code == ErrorCode::DuplicateData => {
            batch.counts.total_duplicates += 1;
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

fn load_rel(
    txn: &mut BulkWrite<'_>,
    names: &mut Names,
    rel: &mut RelRecord,
    ends: Ends,
    display: &str,
    record_num: u64,
    merging: Option<&Merging<'_>>,
    batch: &mut Batch,
) -> Result<bool, Error> {
    // Found by the reader in a committed version: still there unless a query deleted it
    // since (ids are never reused). Not found there: perhaps created since, so look again.
    let start = match ends.start {
        Some(n) if txn.node_exists(n) => Some(n),
        _ => names.start_node(txn, &rel.start),
    };
    let end = match ends.end {
        Some(n) if txn.node_exists(n) => Some(n),
        _ => txn.node_by_external_id(&rel.end),
    };
    let (Some(start), Some(end)) = (start, end) else {
        let missing: Vec<String> = [(&rel.start, start), (&rel.end, end)]
            .iter()
            .filter(|(_, n)| n.is_none())
            .map(|(id, _)| format!("'{id}'"))
            .collect();
        batch.counts.insert_errors += 1;
        batch.errors.push(file_error(
            "INSERT_ERROR",
            format!(
                "the relationship's {} node{} {} not exist (ids are matched against ~id of the nodes already loaded)",
                if missing.len() == 2 { "start and end" } else if start.is_none() { "start" } else { "end" },
                if missing.len() == 2 { "s" } else { "" },
                if missing.len() == 2 {
                    format!("{} do", missing.join(" and "))
                } else {
                    format!("{} does", missing[0])
                },
            ),
            display,
            record_num,
        ));
        return Ok(true);
    };
    if let Some(id) = &rel.id {
        if let Some(r) = txn.rel_by_external_id(id) {
            return match merging {
                Some(m) => m.apply(
                    txn,
                    names,
                    Element::Rel(r),
                    id,
                    &rel.props,
                    record_num,
                    batch,
                ),
                None => {
                    batch.counts.total_duplicates += 1;
                    Ok(false)
                }
            };
        }
    }
    let ty = names.rel_type(txn, &rel.rel_type);
    names.key_ids(txn, &rel.props);
    let props = store_props(&names.key_ids, &mut rel.props);
    match txn.create_rel(start, end, ty, props, rel.id.as_deref()) {
        Ok(_) => Ok(false),
        Err(e) if e.code == ErrorCode::DuplicateData => {
            batch.counts.total_duplicates += 1;
            Ok(false)
        }
        Err(e) => Err(e),
    }
}
