//! Opening a data directory: lock it, load the newest checkpoint, replay the log after it.
//!
//! Directory layout:
//! * `LOCK` — held exclusively (advisory `flock`) while a store has the directory open;
//! * `checkpoint-<seq>.nrd` — the graph as of transaction `seq`;
//! * `wal-<segment>.log` — log segments, replayed in segment order;
//! * `streams/` — the change stream, if the store has one (see `stream`), reconciled with
//!   the log after the replay;
//! * `*.tmp` — leftovers of an interrupted checkpoint or segment creation, removed.
//!
//! Errors name the file and, for log records, the byte offset.

use std::any::Any;
use std::path::Path;
use std::sync::Arc;

use nereid_common::{Error, ErrorCode};

use crate::checkpoint::{self, parse_checkpoint_name};
use crate::codec::Decoder;
use crate::graph::{Graph, Op};
use crate::io::Vfs;
use crate::store::OpenReport;
use crate::stream::StreamLog;
use crate::wal::reader::{scan, Tail};
use crate::wal::writer::{parse_segment_name, segment_name, WalWriter};
use crate::wal::{SegmentHeader, TxnHeader, FORMAT_VERSION, HEADER_LEN};

pub(crate) struct Recovered {
    pub graph: Graph,
    pub wal: WalWriter,
    pub lock: Box<dyn Any + Send + Sync>,
    pub report: OpenReport,
    /// The first log segment after the loaded checkpoint.
    pub checkpoint_segment: Option<u64>,
    /// Size of the loaded checkpoint file (0 without one).
    pub checkpoint_size: u64,
    /// The change stream, when the directory has one.
    pub stream: Option<StreamLog>,
}

/// What the replay found.
struct Replayed {
    /// Where the log ends in the last segment, after cutting off a torn tail, and the
    /// file's length (larger by the zeros written ahead) (`None`: no segment).
    tail_len: Option<(u64, u64)>,
    /// Format version of the last segment.
    tail_version: u32,
    /// The highest sequence number of a record with a change-stream section (0: none).
    max_section_seq: u64,
}

fn open_error(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::StorageFailure, msg)
}

pub(crate) fn recover(vfs: Arc<dyn Vfs>, dir: &Path) -> Result<Recovered, Error> {
    let shown = dir.display();
    vfs.create_dir_all(dir)
        .map_err(|e| open_error(format!("cannot create data directory {shown}: {e}")))?;
    let lock_path = dir.join("LOCK");
    let lock = vfs.lock(&lock_path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::WouldBlock {
            open_error(format!(
                "data directory {shown} is in use by another nereid process (lock file {} is held)",
                lock_path.display()
            ))
        } else {
            open_error(format!("cannot lock {}: {e}", lock_path.display()))
        }
    })?;
    let mut report = OpenReport::default();
    let names = vfs
        .list(dir)
        .map_err(|e| open_error(format!("cannot list data directory {shown}: {e}")))?;
    let mut checkpoints = Vec::new();
    let mut segments = Vec::new();
    for name in names {
        if name.ends_with(".tmp") {
            if vfs.remove(&dir.join(&name)).is_ok() {
                report.messages.push(format!(
                    "removed {name}, left over from an interrupted write"
                ));
            }
        } else if let Some(seq) = parse_checkpoint_name(&name) {
            checkpoints.push(seq);
        } else if let Some(seg) = parse_segment_name(&name) {
            segments.push(seg);
        }
    }
    checkpoints.sort_unstable();
    segments.sort_unstable();

    // The newest checkpoint that reads back; a damaged one is reported and the previous
    // one (kept for this purpose, with the log after it) is used instead.
    let mut unusable: Vec<(std::path::PathBuf, String)> = Vec::new();
    let mut unusable_seq = 0;
    let mut loaded = None;
    for &seq in checkpoints.iter().rev() {
        let path = dir.join(checkpoint::checkpoint_name(seq));
        let result = vfs
            .read(&path)
            .map_err(|e| format!("cannot read it: {e}"))
            .and_then(|bytes| checkpoint::read(&bytes).map(|l| (l, bytes.len() as u64)));
        match result {
            Ok(l) => {
                loaded = Some((seq, l));
                break;
            }
            Err(e) => {
                let msg = format!("checkpoint {} is unusable: {e}", path.display());
                unusable.push((path, msg));
                unusable_seq = unusable_seq.max(seq);
            }
        }
    }
    let mut checkpoint_segment = None;
    let mut checkpoint_size = 0;
    let mut graph = match loaded {
        Some((seq, (l, size))) => {
            report.checkpoint_seq = Some(seq);
            checkpoint_segment = Some(l.next_segment);
            checkpoint_size = size;
            l.graph
        }
        None => Graph::new(0),
    };
    let fresh = report.checkpoint_seq.is_none();

    let replayed = match replay(&*vfs, dir, &segments, fresh, &mut graph, &mut report) {
        Ok(r) => r,
        Err(e) if !unusable.is_empty() => {
            let notes: Vec<&str> = unusable.iter().map(|u| u.1.as_str()).collect();
            return Err(open_error(format!(
                "{}; recovering without it failed too: {}",
                notes.join("; "),
                e.message
            )));
        }
        Err(e) => return Err(e),
    };
    if graph.seq < unusable_seq {
        // The log does not reach as far as the damaged checkpoint did: starting would
        // silently lose committed transactions.
        let notes: Vec<&str> = unusable.iter().map(|u| u.1.as_str()).collect();
        return Err(open_error(format!(
            "{}; the older checkpoints and the log only reach transaction {} of {}: \
             restore the file from a backup",
            notes.join("; "),
            graph.seq,
            unusable_seq
        )));
    }
    for (path, msg) in unusable {
        // Keep the damaged file for inspection, out of the way of later checkpoints.
        let mut aside = path.clone().into_os_string();
        aside.push(".corrupt");
        let _ = vfs.rename(&path, std::path::Path::new(&aside));
        report.messages.push(format!(
            "{msg}; recovered from the previous checkpoint and the log instead (the file was \
             renamed to {})",
            std::path::Path::new(&aside).display()
        ));
    }
    report.last_seq = graph.seq;
    if fresh && segments.is_empty() {
        graph = Graph::new(uuid::Uuid::new_v4().as_u64_pair().0);
    }

    let wal = match (segments.last(), replayed.tail_len) {
        // Appending to a segment of an older format would mix formats in one file.
        (Some(&seg), Some((len, allocated))) if replayed.tail_version == FORMAT_VERSION => {
            let path = dir.join(segment_name(seg));
            let file = vfs
                .open_append(&path)
                .map_err(|e| open_error(format!("cannot open {}: {e}", path.display())))?;
            WalWriter {
                dir: dir.to_path_buf(),
                file: Arc::from(file),
                segment: seg,
                len,
                allocated,
            }
        }
        _ => {
            let seg = segments.last().map_or(1, |s| s + 1);
            WalWriter::create(&*vfs, dir, seg, graph.salt)
                .map_err(|e| open_error(format!("cannot create log segment in {shown}: {e}")))?
        }
    };
    let stream = match crate::stream::open(vfs.clone(), dir, graph.seq, &mut report)? {
        None => None,
        Some(opened) => {
            if replayed.max_section_seq > opened.covered_seq {
                let restored = restore_stream(
                    &*vfs,
                    dir,
                    &segments,
                    &opened.log,
                    opened.covered_seq,
                    graph.seq,
                )?;
                report.messages.push(format!(
                    "restored {restored} change stream section(s) from the write-ahead log"
                ));
            }
            Some(opened.log)
        }
    };
    Ok(Recovered {
        graph,
        wal,
        lock,
        report,
        checkpoint_segment,
        checkpoint_size,
        stream,
    })
}

/// Appends to the stream the sections of log records after `covered` (up to `last`),
/// which the stream files lack; returns how many.
fn restore_stream(
    vfs: &dyn Vfs,
    dir: &Path,
    segments: &[u64],
    log: &StreamLog,
    covered: u64,
    last: u64,
) -> Result<u64, Error> {
    let mut restored = 0;
    for &seg in segments {
        let path = dir.join(segment_name(seg));
        let file = path.display();
        let bytes = vfs
            .read(&path)
            .map_err(|e| open_error(format!("cannot read {file}: {e}")))?;
        let header = SegmentHeader::decode(&bytes)
            .map_err(|e| open_error(format!("log segment {file}: {e}")))?;
        for (offset, payload) in scan(&bytes[HEADER_LEN..], HEADER_LEN as u64).records {
            let mut d = Decoder::new(payload);
            let (h, section) = TxnHeader::decode_payload(&mut d, header.version).map_err(|e| {
                open_error(format!(
                    "malformed log record in {file} at byte offset {offset}: {}",
                    e.0
                ))
            })?;
            if h.seq > covered && h.seq <= last && !section.is_empty() {
                log.restore(h.seq, section)?;
                restored += 1;
            }
        }
    }
    Ok(restored)
}

/// Replays the log segments onto `graph`.
fn replay(
    vfs: &dyn Vfs,
    dir: &Path,
    segments: &[u64],
    fresh: bool,
    graph: &mut Graph,
    report: &mut OpenReport,
) -> Result<Replayed, Error> {
    let mut tail_len = None;
    let mut tail_version = FORMAT_VERSION;
    let mut max_section_seq = 0;
    for (i, &seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let path = dir.join(segment_name(seg));
        let file = path.display();
        let bytes = vfs
            .read(&path)
            .map_err(|e| open_error(format!("cannot read {file}: {e}")))?;
        let header = SegmentHeader::decode(&bytes)
            .map_err(|e| open_error(format!("log segment {file}: {e}")))?;
        if fresh && i == 0 {
            // No checkpoint: the first segment carries the store's salt.
            *graph = Graph::new(header.salt);
        }
        let s = scan(&bytes[HEADER_LEN..], HEADER_LEN as u64);
        // Relationships' adjacency is placed in bulk (see `Graph::apply_bulk`), at the
        // latest at the end of each segment.
        let mut pending = Vec::new();
        for (offset, payload) in &s.records {
            let at = || format!("{file} at byte offset {offset}");
            let mut d = Decoder::new(payload);
            let (h, section) = TxnHeader::decode_payload(&mut d, header.version)
                .map_err(|e| open_error(format!("malformed log record in {}: {}", at(), e.0)))?;
            if !section.is_empty() {
                max_section_seq = max_section_seq.max(h.seq);
            }
            if h.seq <= graph.seq {
                continue; // already in the checkpoint
            }
            if h.seq != graph.seq + 1 {
                return Err(open_error(format!(
                    "log record in {} has sequence number {} but {} was expected: \
                     transactions are missing",
                    at(),
                    h.seq,
                    graph.seq + 1
                )));
            }
            while !d.is_empty() {
                let op = Op::decode(&mut d).map_err(|e| {
                    open_error(format!("malformed log record in {}: {}", at(), e.0))
                })?;
                graph.apply_bulk(op, &mut pending).map_err(|e| {
                    open_error(format!(
                        "log record in {} cannot be replayed: {}",
                        at(),
                        e.message
                    ))
                })?;
            }
            graph.pad_nodes(h.next_node);
            graph.pad_rels(h.next_rel);
            graph.seq = h.seq;
            report.replayed += 1;
        }
        graph.place(&mut pending);
        if last {
            tail_version = header.version;
        }
        match s.tail {
            Tail::Clean => {
                if last {
                    tail_len = Some((bytes.len() as u64, bytes.len() as u64));
                }
            }
            // A closed segment may end in zeros too: it was rotated before they were used.
            Tail::Padded { offset } => {
                if last {
                    tail_len = Some((offset, bytes.len() as u64));
                }
            }
            Tail::Torn { offset, reason } if last => {
                vfs.open_append(&path)
                    .and_then(|f| f.set_len(offset).and_then(|_| f.sync()))
                    .map_err(|e| open_error(format!("cannot truncate torn tail of {file}: {e}")))?;
                report.truncated_torn_tail = true;
                report.messages.push(format!(
                    "truncated a torn write at the end of {file}: {} bytes from byte offset \
                     {offset} ({reason}); it was never acknowledged",
                    bytes.len() as u64 - offset
                ));
                tail_len = Some((offset, offset));
            }
            Tail::Torn { offset, reason } | Tail::Corrupt { offset, reason } => {
                return Err(open_error(format!(
                    "corrupt write-ahead log: {file} at byte offset {offset}: {reason}; \
                     refusing to start rather than lose committed transactions (restore \
                     the file from a backup, or truncate it at this offset to discard \
                     everything from there on)"
                )));
            }
        }
    }
    Ok(Replayed {
        tail_len,
        tail_version,
        max_section_seq,
    })
}
