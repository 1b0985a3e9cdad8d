//! Ingestion of one file into the store: records in batches, one write transaction per
//! batch, each committed durably before the next begins.
//!
//! ```text
//!  FileReader ─ record ─► create_node / create_rel in the batch's WriteTxn
//!       │ bad row, bad type, missing end ─► an ErrorLog, counted
//!       └ every `batch_size` records (or at the end, at the first error with failOnError,
//!         at a cancel): commit, then `on_batch` with the batch's figures
//! ```
//!
//! * A node whose `~id` is taken (already in the graph, or earlier in the load) is a
//!   duplicate: the existing node is kept and `totalDuplicates` counts it. Likewise a
//!   relationship whose user-provided id is taken.
//! * A relationship whose start or end node does not exist is an insert error.
//! * With `failOnError`, the first error ends the file: the records before it (in the file)
//!   are committed, nothing after it is read.
//! * Cancelling takes effect between batches: the batch being built is still committed.
//!
//! Memory: one batch's write set plus the reader's row buffer; files are streamed.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use nereid_common::{CancelToken, Error, ErrorCode};
use nereid_storage::{GraphRead, GraphWrite, KeyId, LabelId, Store, TypeId, WriteTxn};
use serde::{Deserialize, Serialize};

use crate::format::{ColumnKind, FileKind, Format};
use crate::reader::{FileReader, OpenError};
use crate::record::{ErrorKind, NodeRecord, Record, RelRecord};

/// Records per write transaction unless configured otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 50_000;

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
    mut reader: FileReader,
    display: &str,
    skip: u64,
    options: &IngestOptions,
    cancel: &AtomicBool,
    sink: &mut dyn BatchSink,
) -> Result<FileEnd, Error> {
    let kind = reader.kind();
    if kind == FileKind::Relationship && options.format == Format::OpenCypher {
        let has_id = reader
            .header()
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
            return Ok(FileEnd::Failed);
        }
    }
    for _ in 0..skip {
        if reader.next().is_none() {
            break;
        }
    }
    let batch_size = options.batch_size.max(1);
    let mut names = Names::default();
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Ok(FileEnd::Cancelled);
        }
        let mut txn = store.begin_write(&CancelToken::none())?;
        names.clear();
        let mut batch = Batch::default();
        let mut end = None;
        let mut in_batch = 0;
        while in_batch < batch_size {
            let Some(item) = reader.next() else {
                end = Some(FileEnd::Done);
                break;
            };
            in_batch += 1;
            batch.counts.total_records += 1;
            let failed = match item {
                Ok(Record::Node(node)) => load_node(&mut txn, &mut names, node, &mut batch)?,
                Ok(Record::Rel(rel)) => {
                    let n = reader.records_read();
                    load_rel(&mut txn, &mut names, rel, display, n, &mut batch)?
                }
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
                            ("FILE_READ_ERROR", true)
                        }
                    };
                    batch
                        .errors
                        .push(file_error(code, e.message, display, e.record_num));
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
        batch.records_through = reader.records_read();
        sink.before_commit(txn.base_seq(), batch.records_through);
        txn.commit()?;
        sink.committed(batch);
        if let Some(end) = end {
            return Ok(end);
        }
    }
}

/// Dictionary ids of the batch (interning again per record would hash every name).
#[derive(Default)]
struct Names {
    labels: HashMap<String, LabelId>,
    types: HashMap<String, TypeId>,
    keys: HashMap<String, KeyId>,
}

impl Names {
    fn clear(&mut self) {
        // Ids are stable once interned, but a batch that was never committed would leave
        // ids the next transaction does not know; so per batch.
        self.labels.clear();
        self.types.clear();
        self.keys.clear();
    }

    fn label(&mut self, txn: &mut WriteTxn, name: &str) -> LabelId {
        if let Some(&id) = self.labels.get(name) {
            return id;
        }
        let id = txn.intern_label(name);
        self.labels.insert(name.to_string(), id);
        id
    }

    fn rel_type(&mut self, txn: &mut WriteTxn, name: &str) -> TypeId {
        if let Some(&id) = self.types.get(name) {
            return id;
        }
        let id = txn.intern_type(name);
        self.types.insert(name.to_string(), id);
        id
    }

    fn key(&mut self, txn: &mut WriteTxn, name: &str) -> KeyId {
        if let Some(&id) = self.keys.get(name) {
            return id;
        }
        let id = txn.intern_key(name);
        self.keys.insert(name.to_string(), id);
        id
    }
}

/// Whether the record was an error (a duplicate is not one).
fn load_node(
    txn: &mut WriteTxn,
    names: &mut Names,
    node: NodeRecord,
    batch: &mut Batch,
) -> Result<bool, Error> {
    if txn.node_by_external_id(&node.id).is_some() {
        batch.counts.total_duplicates += 1;
        return Ok(false);
    }
    let labels: Vec<LabelId> = node.labels.iter().map(|l| names.label(txn, l)).collect();
    let props = node
        .props
        .into_iter()
        .map(|(k, v)| (names.key(txn, &k), v))
        .collect();
    match txn.create_node(&labels, props, Some(node.id)) {
        Ok(_) => Ok(false),
        Err(e) if e.code == ErrorCode::DuplicateData => {
            batch.counts.total_duplicates += 1;
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

fn load_rel(
    txn: &mut WriteTxn,
    names: &mut Names,
    rel: RelRecord,
    display: &str,
    record_num: u64,
    batch: &mut Batch,
) -> Result<bool, Error> {
    let start = txn.node_by_external_id(&rel.start);
    let end = txn.node_by_external_id(&rel.end);
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
        if txn.rel_by_external_id(id).is_some() {
            batch.counts.total_duplicates += 1;
            return Ok(false);
        }
    }
    let ty = names.rel_type(txn, &rel.rel_type);
    let props = rel
        .props
        .into_iter()
        .map(|(k, v)| (names.key(txn, &k), v))
        .collect();
    match txn.create_rel(start, end, ty, props, rel.id) {
        Ok(_) => Ok(false),
        Err(e) if e.code == ErrorCode::DuplicateData => {
            batch.counts.total_duplicates += 1;
            Ok(false)
        }
        Err(e) => Err(e),
    }
}
