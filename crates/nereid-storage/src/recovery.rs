//! Opening a data directory: lock it, load the newest checkpoint, replay the log after it.
//!
//! Directory layout:
//! * `LOCK` — held exclusively (advisory `flock`) while a store has the directory open;
//! * `checkpoint-<seq>.nrd` — the graph as of transaction `seq`;
//! * `wal-<segment>.log` — log segments, replayed in segment order;
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
use crate::wal::reader::{scan, Tail};
use crate::wal::writer::{parse_segment_name, segment_name, WalWriter};
use crate::wal::{SegmentHeader, TxnHeader, HEADER_LEN};

pub(crate) struct Recovered {
    pub graph: Graph,
    pub wal: WalWriter,
    pub lock: Box<dyn Any + Send + Sync>,
    pub report: OpenReport,
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

    let mut graph = match checkpoints.last() {
        Some(&seq) => {
            let path = dir.join(checkpoint::checkpoint_name(seq));
            let bytes = vfs
                .read(&path)
                .map_err(|e| open_error(format!("cannot read {}: {e}", path.display())))?;
            let g = checkpoint::read(&bytes)
                .map_err(|e| open_error(format!("checkpoint {}: {e}", path.display())))?;
            report.checkpoint_seq = Some(seq);
            g
        }
        None => Graph::new(0),
    };
    let fresh = checkpoints.is_empty();

    let mut tail_len = None;
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
            // No checkpoint yet: the first segment carries the store's salt.
            graph = Graph::new(header.salt);
        }
        let s = scan(&bytes[HEADER_LEN..], HEADER_LEN as u64);
        for (offset, payload) in &s.records {
            let at = || format!("{file} at byte offset {offset}");
            let mut d = Decoder::new(payload);
            let h = TxnHeader::decode(&mut d)
                .map_err(|e| open_error(format!("malformed log record in {}: {}", at(), e.0)))?;
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
                graph.apply(op).map_err(|e| {
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
        match s.tail {
            Tail::Clean => {
                if last {
                    tail_len = Some(bytes.len() as u64);
                }
            }
            Tail::Torn { offset, reason } if last => {
                let f = vfs
                    .open_append(&path)
                    .and_then(|f| f.set_len(offset).and_then(|_| f.sync()))
                    .map_err(|e| open_error(format!("cannot truncate torn tail of {file}: {e}")));
                f?;
                report.truncated_torn_tail = true;
                report.messages.push(format!(
                    "truncated a torn write at the end of {file}: {} bytes from byte offset \
                     {offset} ({reason}); it was never acknowledged",
                    bytes.len() as u64 - offset
                ));
                tail_len = Some(offset);
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
    report.last_seq = graph.seq;
    if fresh && segments.is_empty() {
        graph = Graph::new(uuid::Uuid::new_v4().as_u64_pair().0);
    }

    let wal = match (segments.last(), tail_len) {
        (Some(&seg), Some(len)) => {
            let path = dir.join(segment_name(seg));
            let file = vfs
                .open_append(&path)
                .map_err(|e| open_error(format!("cannot open {}: {e}", path.display())))?;
            WalWriter {
                dir: dir.to_path_buf(),
                file: Arc::from(file),
                segment: seg,
                len,
            }
        }
        _ => {
            let seg = segments.last().map_or(1, |s| s + 1);
            WalWriter::create(&*vfs, dir, seg, graph.salt)
                .map_err(|e| open_error(format!("cannot create log segment in {shown}: {e}")))?
        }
    };
    Ok(Recovered {
        graph,
        wal,
        lock,
        report,
    })
}
