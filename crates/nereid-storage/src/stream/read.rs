//! Serving reads: find where a request starts (segment, sparse index, op marks within a
//! large commit), scan frames forward up to the newest durable commit, then resolve
//! dictionary ids and generated `~id`s against the newest durable graph.
//!
//! The plan is taken under the stream's lock; files are read without it, so commits go on
//! meanwhile. A segment that disappears during the read (expired, or a fast reset) makes
//! the read start over from a new plan.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use nereid_common::{Error, ErrorCode};
use nereid_value::Value;

use super::record::{RawRecord, SectionHeader, E, EP, OP_MARK_EVERY, VL, VP};
use super::segment::HEADER_LEN;
use super::{
    ChangeKind, ChangeOp, ChangeRecord, CommitInfo, EventId, StreamLog, StreamPage, StreamStart,
};
use crate::codec::{DecodeResult, Decoder};
use crate::graph::{DictKind, Graph};
use crate::io::Vfs;
use crate::pval::PVal;
use crate::store::lock;
use crate::wal::RECORD_HEADER_LEN;

/// Bytes read from a segment at a time.
const WINDOW: usize = 256 << 10;
/// Plans tried before giving up on a stream that keeps changing under the read.
const ATTEMPTS: usize = 5;

#[derive(Clone, Copy)]
enum Target {
    /// The first record at or after this event.
    At(EventId),
    /// The oldest unexpired record.
    Horizon,
    /// Exactly this event, the newest one.
    Latest(EventId),
}

struct SegPlan {
    path: PathBuf,
    len: u64,
    start: u64,
}

struct Plan {
    salt: u64,
    segments: Vec<SegPlan>,
    /// `(commit, op number, offset from the commit's first record)`: where to start
    /// decoding inside the commit the request starts in.
    jump: Option<(u64, u64, u64)>,
    visible: u64,
    last_visible: CommitInfo,
}

struct Found {
    raw: RawRecord,
    event: EventId,
    ts_ms: i64,
    ops: u64,
}

enum ScanError {
    /// The stream changed under the read: plan again.
    Retry,
    Fail(Error),
}

impl From<Error> for ScanError {
    fn from(e: Error) -> Self {
        ScanError::Fail(e)
    }
}

pub(crate) fn not_found(last: CommitInfo) -> Error {
    // Neptune's words; tools (graph-notebook, neptune-export) take the last commit number
    // from the first number in this message.
    Error::new(
        ErrorCode::StreamRecordsNotFound,
        format!(
            "Requested startEventId is from the future. Last valid eventId is [commitNum = {}, \
             opNum = {}]",
            last.commit, last.ops
        ),
    )
}

fn expired(removed: EventId) -> Error {
    Error::new(
        ErrorCode::ExpiredStream,
        format!(
            "All of the requested records exceed the maximum age allowed and have expired. \
             Records up to [commitNum = {}, opNum = {}] are no longer available; start from \
             TRIM_HORIZON.",
            removed.commit_num, removed.op_num
        ),
    )
}

fn corrupt(path: &Path, offset: u64, what: &str) -> ScanError {
    ScanError::Fail(Error::new(
        ErrorCode::StorageFailure,
        format!(
            "change stream segment {} is damaged at byte offset {offset}: {what}",
            path.display()
        ),
    ))
}

/// Reads a segment through a window, so that small commits cost no system call each.
struct SegReader<'a> {
    vfs: &'a dyn Vfs,
    path: &'a Path,
    window: Vec<u8>,
    at: u64,
}

impl<'a> SegReader<'a> {
    fn new(vfs: &'a dyn Vfs, path: &'a Path) -> Self {
        Self {
            vfs,
            path,
            window: Vec::new(),
            at: 0,
        }
    }

    /// At least `min` bytes from `pos` (and as many more as the window holds, up to
    /// `limit`).
    fn slice(&mut self, pos: u64, min: usize, limit: u64) -> Result<&[u8], ScanError> {
        if pos.saturating_add(min as u64) > limit {
            return Err(corrupt(
                self.path,
                pos,
                "a record runs past the end of its frame",
            ));
        }
        let end = self.at + self.window.len() as u64;
        if pos < self.at || pos + min as u64 > end {
            let want = min
                .max(WINDOW)
                .min(usize::try_from(limit - pos).unwrap_or(usize::MAX));
            self.window = match self.vfs.read_range(self.path, pos, want) {
                Ok(w) => w,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ScanError::Retry),
                Err(e) => {
                    return Err(ScanError::Fail(Error::new(
                        ErrorCode::StorageFailure,
                        format!("cannot read {}: {e}", self.path.display()),
                    )))
                }
            };
            self.at = pos;
            if self.window.len() < min {
                return Err(corrupt(
                    self.path,
                    pos,
                    "the file is shorter than its index",
                ));
            }
        }
        let from = (pos - self.at) as usize;
        let to = self
            .window
            .len()
            .min(usize::try_from(limit - self.at).unwrap_or(usize::MAX));
        Ok(&self.window[from..to])
    }

    /// Decodes one item starting at `pos` and ending by `limit`; returns it and where the
    /// next one starts.
    fn decode<T>(
        &mut self,
        pos: u64,
        limit: u64,
        f: impl Fn(&mut Decoder<'_>) -> DecodeResult<T>,
    ) -> Result<(T, u64), ScanError> {
        let room = usize::try_from(limit.saturating_sub(pos)).unwrap_or(usize::MAX);
        let mut min = room.min(64);
        loop {
            let bytes = self.slice(pos, min, limit)?;
            let got = bytes.len();
            let mut d = Decoder::new(bytes);
            match f(&mut d) {
                Ok(v) => return Ok((v, pos + d.position() as u64)),
                // Cut by the window: read more of the file and try again.
                Err(_) if got < room => min = (got.max(64) * 4).min(room),
                Err(e) => return Err(corrupt(self.path, pos, e.0)),
            }
        }
    }
}

fn approx_size(raw: &RawRecord) -> usize {
    fn value(v: &PVal) -> usize {
        match v {
            PVal::Str(s) => s.len() + 2,
            PVal::List(items) => items.iter().map(value).sum::<usize>() + 2,
            _ => 24,
        }
    }
    // About what the record takes as Neptune's JSON: ~170 bytes of member names, event id,
    // timestamp and type, plus a name of ~8, the id and the value (measured on a bulk load:
    // 181 bytes a record on average).
    let id = |r: &super::record::RawId| r.ext.as_ref().map_or(36, |s| s.len());
    let mut n = 176 + id(&raw.id);
    if let Some(v) = &raw.value {
        n += value(v);
    }
    if let Some((a, b)) = &raw.ends {
        n += 32 + id(a) + id(b);
    }
    n
}

impl StreamLog {
    pub(super) fn read(
        &self,
        start: StreamStart,
        limit: usize,
        max_bytes: usize,
        now_ms: i64,
        graph: &dyn Fn() -> Arc<Graph>,
    ) -> Result<StreamPage, Error> {
        self.purge(now_ms);
        let cutoff = self.cutoff(now_ms);
        for _ in 0..ATTEMPTS {
            let (plan, target) = self.plan(start, cutoff)?;
            let found = match self.scan(&plan, target, cutoff, limit, max_bytes) {
                Ok(found) => found,
                Err(ScanError::Retry) => continue,
                Err(ScanError::Fail(e)) => return Err(e),
            };
            if found.is_empty() {
                return Err(not_found(plan.last_visible));
            }
            let g = graph();
            if g.salt != plan.salt {
                // A fast reset between the scan and now: its names and ids are not these.
                continue;
            }
            return resolve(found, &g);
        }
        Err(Error::new(
            ErrorCode::Throttling,
            "the change stream changed while it was read (a fast reset); retry the request",
        ))
    }

    fn plan(&self, start: StreamStart, cutoff: i64) -> Result<(Plan, Target), Error> {
        let st = lock(&self.state);
        let visible = self.visible_seq.load(Ordering::Acquire);
        let lv = st.last_visible;
        let Some(first) = st.segments.first() else {
            return Err(Error::internal("the change stream has no segment"));
        };
        // Everything up to this event was removed (expired segments, a fast reset).
        let removed = EventId {
            commit_num: first.header.prev.commit,
            op_num: first.header.prev.op,
        };
        let target = match start {
            StreamStart::TrimHorizon => Target::Horizon,
            StreamStart::Latest => {
                if lv.commit == 0 || lv.commit <= removed.commit_num {
                    return Err(not_found(lv));
                }
                Target::Latest(lv.last_event())
            }
            StreamStart::At(e) => Target::At(e),
            StreamStart::After(e) => Target::At(EventId {
                commit_num: e.commit_num,
                op_num: e.op_num.saturating_add(1),
            }),
        };
        if let Target::At(t) = target {
            if removed.commit_num > 0 && t <= removed {
                return Err(expired(removed));
            }
        }
        let header_len = HEADER_LEN as u64;
        let (idx, offset, jump) = match target {
            Target::At(t) | Target::Latest(t) => {
                let idx = st
                    .segments
                    .partition_point(|s| s.first_commit() <= t.commit_num)
                    .saturating_sub(1);
                let seg = &st.segments[idx];
                let m = seg.marks.partition_point(|m| m.info.commit <= t.commit_num);
                match m.checked_sub(1).map(|i| &seg.marks[i]) {
                    None => (idx, header_len, None),
                    Some(mark) => {
                        let mut jump = None;
                        if mark.info.commit == t.commit_num && t.op_num > 1 {
                            let k =
                                ((t.op_num - 1) / OP_MARK_EVERY).min(mark.op_marks.len() as u64);
                            if k > 0 {
                                let offset = mark.op_marks[(k - 1) as usize];
                                jump = Some((mark.info.commit, k * OP_MARK_EVERY + 1, offset));
                            }
                        }
                        (idx, mark.offset, jump)
                    }
                }
            }
            Target::Horizon => {
                let idx = st
                    .segments
                    .iter()
                    .position(|s| s.last.is_some_and(|l| l.ts_ms >= cutoff))
                    .unwrap_or(st.segments.len() - 1);
                let seg = &st.segments[idx];
                // Timestamps never decrease along the stream.
                let m = seg.marks.partition_point(|m| m.info.ts_ms < cutoff);
                let offset = m.checked_sub(1).map_or(header_len, |i| seg.marks[i].offset);
                (idx, offset, None)
            }
        };
        let segments = st.segments[idx..]
            .iter()
            .enumerate()
            .map(|(i, s)| SegPlan {
                path: s.path.clone(),
                len: s.len,
                start: if i == 0 { offset } else { header_len },
            })
            .collect();
        let plan = Plan {
            salt: first.header.salt,
            segments,
            jump,
            visible,
            last_visible: lv,
        };
        Ok((plan, target))
    }

    fn scan(
        &self,
        plan: &Plan,
        target: Target,
        cutoff: i64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<Found>, ScanError> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        for seg in &plan.segments {
            let mut r = SegReader::new(&*self.vfs, &seg.path);
            let mut pos = seg.start;
            while pos < seg.len {
                let frame = r.slice(pos, RECORD_HEADER_LEN, seg.len)?;
                let len = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]);
                let frame_end = pos + RECORD_HEADER_LEN as u64 + u64::from(len);
                if frame_end > seg.len {
                    return Err(corrupt(&seg.path, pos, "a frame runs past the end"));
                }
                let body = pos + RECORD_HEADER_LEN as u64;
                let (h, records) = r.decode(body, frame_end, SectionHeader::decode)?;
                if h.seq > plan.visible {
                    // Not durable yet, and neither is anything after it.
                    return Ok(out);
                }
                let first_op = match target {
                    Target::At(t) | Target::Latest(t) => {
                        if h.commit < t.commit_num {
                            u64::MAX
                        } else if h.commit == t.commit_num {
                            t.op_num.max(1)
                        } else {
                            1
                        }
                    }
                    Target::Horizon if h.ts_ms < cutoff => u64::MAX,
                    Target::Horizon => 1,
                };
                if first_op > h.ops {
                    pos = frame_end;
                    continue;
                }
                if out.is_empty() && h.ts_ms < cutoff {
                    match target {
                        Target::At(_) => return Err(ScanError::Fail(expired_at(&h))),
                        // The newest record has expired: there is no unexpired one.
                        Target::Latest(_) => return Ok(out),
                        Target::Horizon => {}
                    }
                }
                let (mut op, mut rpos) = (1, records);
                if let Some((commit, at_op, offset)) = plan.jump {
                    if commit == h.commit && at_op <= first_op {
                        (op, rpos) = (at_op, records + offset);
                    }
                }
                while op <= h.ops {
                    let (raw, next) = r.decode(rpos, frame_end, RawRecord::decode)?;
                    rpos = next;
                    if op >= first_op {
                        bytes += approx_size(&raw);
                        out.push(Found {
                            raw,
                            event: EventId {
                                commit_num: h.commit,
                                op_num: op,
                            },
                            ts_ms: h.ts_ms,
                            ops: h.ops,
                        });
                        if out.len() >= limit || bytes >= max_bytes {
                            return Ok(out);
                        }
                    }
                    op += 1;
                }
                pos = frame_end;
            }
        }
        Ok(out)
    }
}

fn expired_at(h: &SectionHeader) -> Error {
    expired(EventId {
        commit_num: h.commit,
        op_num: h.ops,
    })
}

/// Names and `~id`s for the records, from the graph of the same generation.
fn resolve(found: Vec<Found>, g: &Graph) -> Result<StreamPage, Error> {
    let mut records = Vec::with_capacity(found.len());
    for f in found {
        let (kind, dict, node) = match f.raw.kind {
            VL => (ChangeKind::NodeLabel, DictKind::Label, true),
            VP => (ChangeKind::NodeProperty, DictKind::Key, true),
            E => (ChangeKind::Relationship, DictKind::Type, false),
            EP => (ChangeKind::RelationshipProperty, DictKind::Key, false),
            other => {
                return Err(Error::internal(format!(
                    "unknown stream record kind {other}"
                )))
            }
        };
        let name = g.dict(dict).name(f.raw.name).ok_or_else(|| {
            Error::internal(format!(
                "stream record {}/{} names unknown dictionary entry {}",
                f.event.commit_num, f.event.op_num, f.raw.name
            ))
        })?;
        let node_id = |r: &super::record::RawId| match &r.ext {
            Some(s) => s.to_string(),
            None => g.node_codec.encode(r.internal),
        };
        let id = if node {
            node_id(&f.raw.id)
        } else {
            match &f.raw.id.ext {
                Some(s) => s.to_string(),
                None => g.rel_codec.encode(f.raw.id.internal),
            }
        };
        let (key, value) = match (&f.raw.value, f.raw.kind) {
            (Some(v), _) => (name.to_string(), v.to_value()),
            _ => ("label".to_string(), Value::String(name.to_string())),
        };
        let (from, to) = match &f.raw.ends {
            Some((a, b)) => (Some(node_id(a)), Some(node_id(b))),
            None => (None, None),
        };
        records.push(ChangeRecord {
            event: f.event,
            commit_timestamp_ms: f.ts_ms,
            is_last_op: f.event.op_num == f.ops,
            op: if f.raw.remove {
                ChangeOp::Remove
            } else {
                ChangeOp::Add
            },
            kind,
            id,
            key,
            value,
            from,
            to,
        });
    }
    let Some(last) = records.last() else {
        return Err(Error::internal("a stream page without records"));
    };
    Ok(StreamPage {
        last_event: last.event,
        last_commit_timestamp_ms: last.commit_timestamp_ms,
        records,
    })
}
