//! Opening a data directory's stream at store open, after the log has been replayed (so the
//! newest durable transaction, `last_seq`, is known).
//!
//! 1. Generations: a newer generation whose fast reset is not in the log (the reset never
//!    became durable) is deleted; the newest remaining one is kept and older ones, which a
//!    durable reset superseded, are deleted.
//! 2. The kept segments are scanned (checksums, the sparse index). A commit the log does
//!    not have (`seq > last_seq`: written to the stream, never acknowledged) is cut off
//!    with everything after it, and so is a torn or damaged tail.
//! 3. The caller then appends the sections that only the log has (the stream's unsynced
//!    tail, lost in a machine crash): those with a sequence number above
//!    [`Opened::covered_seq`].
//!
//! A damaged segment header is reported and the file set aside (`.corrupt`); the store
//! still opens: the stream is secondary to the graph.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

use nereid_common::{Error, ErrorCode};

use super::record::{op_marks_of, SectionHeader};
use super::segment::{parse_segment_name, segment_name, SegmentHeader, HEADER_LEN};
use super::{CommitInfo, Segment, State, StreamLog};
use crate::codec::Decoder;
use crate::io::Vfs;
use crate::store::OpenReport;
use crate::wal::reader::{scan, Tail};

/// The directory of the stream inside a data directory.
pub(crate) const DIR: &str = "streams";

pub(crate) struct Opened {
    pub log: StreamLog,
    /// Log transactions up to this sequence number are in the stream (or had no section).
    pub covered_seq: u64,
}

fn open_error(msg: String) -> Error {
    Error::new(ErrorCode::StorageFailure, msg)
}

/// Opens the stream of `data_dir`; `None` when it has none.
pub(crate) fn open(
    vfs: Arc<dyn Vfs>,
    data_dir: &Path,
    last_seq: u64,
    report: &mut OpenReport,
) -> Result<Option<Opened>, Error> {
    let dir = data_dir.join(DIR);
    let shown = dir.display();
    let names = match vfs.list(&dir) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(open_error(format!("cannot list {shown}: {e}"))),
    };
    let mut numbers = Vec::new();
    for name in names {
        if name.ends_with(".tmp") {
            let _ = vfs.remove(&dir.join(&name));
        } else if let Some(n) = parse_segment_name(&name) {
            numbers.push(n);
        }
    }
    numbers.sort_unstable();
    let Some(&newest) = numbers.last() else {
        return Ok(None);
    };
    let next_segment = newest + 1;

    let mut headers: Vec<SegmentHeader> = Vec::new();
    for &n in &numbers {
        let path = dir.join(segment_name(n));
        let header = vfs
            .read_range(&path, 0, HEADER_LEN)
            .map_err(|e| e.to_string())
            .and_then(|b| SegmentHeader::decode(&b));
        match header {
            Ok(h) => headers.push(h),
            Err(e) => {
                let mut aside = path.clone().into_os_string();
                aside.push(".corrupt");
                let _ = vfs.rename(&path, Path::new(&aside));
                report.messages.push(format!(
                    "change stream segment {} is unusable ({e}); it was renamed to {} and its \
                     records are not served",
                    path.display(),
                    Path::new(&aside).display()
                ));
            }
        }
    }

    // Generations, oldest first: runs of segments sharing salt and reset.
    let mut generations: Vec<Vec<SegmentHeader>> = Vec::new();
    for h in headers {
        match generations.last_mut() {
            Some(g) if g[0].salt == h.salt && g[0].generation_seq == h.generation_seq => g.push(h),
            _ => generations.push(vec![h]),
        }
    }
    let remove_all = |gen: &[SegmentHeader]| {
        for h in gen {
            let _ = vfs.remove(&dir.join(segment_name(h.segment)));
        }
    };
    while generations
        .last()
        .is_some_and(|g| g[0].generation_seq > last_seq)
    {
        if let Some(g) = generations.pop() {
            report.messages.push(format!(
                "removed {} change stream segment(s) started by a fast reset (transaction {}) \
                 that did not commit",
                g.len(),
                g[0].generation_seq
            ));
            remove_all(&g);
        }
    }
    let Some(kept) = generations.pop() else {
        return Ok(None);
    };
    for g in &generations {
        remove_all(g);
    }

    let mut segments: Vec<Segment> = Vec::new();
    let mut cut = false;
    for h in kept {
        let path = dir.join(segment_name(h.segment));
        if cut {
            let _ = vfs.remove(&path);
            continue;
        }
        let bytes = vfs
            .read(&path)
            .map_err(|e| open_error(format!("cannot read {}: {e}", path.display())))?;
        let mut seg = Segment::new(path.clone(), h);
        let s = scan(&bytes[HEADER_LEN.min(bytes.len())..], HEADER_LEN as u64);
        let mut keep = bytes.len() as u64;
        let mut why: Option<String> = match s.tail {
            Tail::Clean => None,
            // Stream segments are not written ahead; zeros are what a crash left.
            Tail::Padded { offset } => {
                keep = offset;
                Some("zeros after the last record".to_string())
            }
            Tail::Torn { offset, reason } | Tail::Corrupt { offset, reason } => {
                keep = offset;
                Some(reason.to_string())
            }
        };
        for (offset, payload) in &s.records {
            let mut d = Decoder::new(payload);
            let h = match SectionHeader::decode(&mut d) {
                Ok(h) => h,
                Err(e) => {
                    keep = *offset;
                    why = Some(e.0.to_string());
                    break;
                }
            };
            if h.seq > last_seq {
                // Written before its log record was durable and lost with it: never
                // acknowledged.
                keep = *offset;
                why = Some(format!(
                    "commit {} belongs to transaction {}, which the write-ahead log does not                      have: it was never acknowledged",
                    h.commit, h.seq
                ));
                break;
            }
            let marks = match op_marks_of(&payload[d.position()..], h.ops) {
                Ok(m) => m,
                Err(e) => {
                    keep = *offset;
                    why = Some(e.0.to_string());
                    break;
                }
            };
            seg.index(CommitInfo::of(&h), *offset, marks);
        }
        if keep < bytes.len() as u64 {
            let f = vfs
                .open_append(&path)
                .and_then(|f| f.set_len(keep).and_then(|_| f.sync()))
                .map_err(|e| open_error(format!("cannot truncate {}: {e}", path.display())));
            f?;
            if let Some(reason) = why {
                report.messages.push(format!(
                    "change stream segment {}: cut at byte offset {keep} ({reason}); what the \
                     write-ahead log holds is restored from it",
                    path.display()
                ));
            }
            cut = true;
        }
        seg.len = keep;
        segments.push(seg);
    }
    let Some(tail_seg) = segments.last() else {
        return Ok(None);
    };
    let last = tail_seg
        .last
        .unwrap_or_else(|| CommitInfo::from_prev(&tail_seg.header.prev));
    let covered_seq = last
        .seq
        .max(tail_seg.header.prev.seq)
        .max(tail_seg.header.generation_seq);
    let tail = vfs
        .open_append(&tail_seg.path)
        .map_err(|e| open_error(format!("cannot open {}: {e}", tail_seg.path.display())))?;
    let state = State {
        segments,
        tail: Arc::from(tail),
        retired: Vec::new(),
        next_segment,
        last,
        pending: VecDeque::new(),
        last_visible: last,
    };
    Ok(Some(Opened {
        log: StreamLog::with_state(vfs, dir, true, last_seq, state),
        covered_seq,
    }))
}

impl StreamLog {
    /// Recovery: appends the section of log record `seq`, which the stream files lack.
    pub(crate) fn restore(&self, seq: u64, section: &[u8]) -> Result<(), Error> {
        self.catch_up(seq, section).map_err(|e| {
            open_error(format!(
                "cannot restore the change stream from log record {seq}: {e}"
            ))
        })
    }
}

/// Where a new stream goes.
pub(crate) fn dir_of(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join(DIR)
}
