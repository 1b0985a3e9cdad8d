//! Change records as a write transaction builds them, and a commit's stream section.
//!
//! A [`StreamBuf`] turns each [`Op`] into records *before* the op is applied (a removal
//! needs the value, labels and ends that are about to go) and drops them again if the op
//! fails. Records are compact: dictionary ids and internal ids, plus the `~id` string only
//! when it is user-assigned. Names and generated `~id`s are resolved when the records are
//! read, from the dictionaries and the id salt of the graph (both stable between fast
//! resets, and a reset empties the stream).
//!
//! ```text
//! record  = u8 tag (kind | REMOVE) | id | body
//! id      = varint (internal << 1 | user) [| string when user]
//! body    = vl: varint label | vp, ep: varint key, value | e: varint type, id from, id to
//! section = varint commit | varint seq | ivarint timestamp ms | varint ops | u8 flags
//!           [| u64 LE salt when RESET] | records
//! ```
//!
//! A list property value becomes one record per element (Neptune reports a multi-valued
//! property that way); an empty list has no record.

use crate::codec::{DecodeError, DecodeResult, Decoder, Encoder};
use crate::graph::{Graph, Op};
use crate::pval::PVal;

pub(crate) const VL: u8 = 0;
pub(crate) const VP: u8 = 1;
pub(crate) const E: u8 = 2;
pub(crate) const EP: u8 = 3;
const KIND_MASK: u8 = 3;
const REMOVE: u8 = 4;

/// Section flag: the transaction was a fast reset (the stream starts over after it).
const RESET: u8 = 1;

/// Every this many records of one commit, the byte offset of the next record is noted, so
/// that a reader can start at an op number inside a large commit without decoding all the
/// records before it.
pub(crate) const OP_MARK_EVERY: u64 = 1024;

/// The change records of one write transaction.
pub(crate) struct StreamBuf {
    /// Whether changes are recorded (a reset is noted either way).
    recording: bool,
    records: Encoder,
    count: u64,
    /// Offset in `records` of record `k * OP_MARK_EVERY`, for `k = 1, 2, …`.
    marks: Vec<u64>,
    /// The new id salt when the transaction reset the graph.
    reset: Option<u64>,
}

/// Where a [`StreamBuf`] stood before an op, to drop the op's records if it fails.
#[derive(Clone, Copy)]
pub(crate) struct BufMark {
    len: usize,
    count: u64,
    marks: usize,
}

impl StreamBuf {
    pub fn new(recording: bool) -> Self {
        Self {
            recording,
            records: Encoder::default(),
            count: 0,
            marks: Vec::new(),
            reset: None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0 && self.reset.is_none()
    }

    pub fn mark(&self) -> BufMark {
        BufMark {
            len: self.records.buf.len(),
            count: self.count,
            marks: self.marks.len(),
        }
    }

    pub fn rollback(&mut self, m: BufMark) {
        self.records.buf.truncate(m.len);
        self.count = m.count;
        self.marks.truncate(m.marks);
    }

    fn tag(&mut self, kind: u8, remove: bool) {
        if self.count > 0 && self.count.is_multiple_of(OP_MARK_EVERY) {
            self.marks.push(self.records.buf.len() as u64);
        }
        self.count += 1;
        self.records.u8(kind | if remove { REMOVE } else { 0 });
    }

    fn id(&mut self, internal: u64, ext: Option<&str>) {
        self.records.var(internal << 1 | u64::from(ext.is_some()));
        if let Some(s) = ext {
            self.records.str(s);
        }
    }

    fn label(&mut self, remove: bool, node: u64, ext: Option<&str>, label: u32) {
        self.tag(VL, remove);
        self.id(node, ext);
        self.records.var(u64::from(label));
    }

    fn property(&mut self, kind: u8, remove: bool, id: u64, ext: Option<&str>, key: u32, v: &PVal) {
        match v {
            PVal::List(items) => {
                for item in items.iter() {
                    self.one_property(kind, remove, id, ext, key, item);
                }
            }
            _ => self.one_property(kind, remove, id, ext, key, v),
        }
    }

    fn one_property(
        &mut self,
        kind: u8,
        remove: bool,
        id: u64,
        ext: Option<&str>,
        key: u32,
        v: &PVal,
    ) {
        self.tag(kind, remove);
        self.id(id, ext);
        self.records.var(u64::from(key));
        v.encode(&mut self.records);
    }

    fn edge(
        &mut self,
        remove: bool,
        g: &Graph,
        rel: u64,
        ext: Option<&str>,
        ends: (u64, u64),
        ty: u32,
    ) {
        self.tag(E, remove);
        self.id(rel, ext);
        self.records.var(u64::from(ty));
        for n in [ends.0, ends.1] {
            let ext = g.node(n).and_then(|r| r.ext.as_deref());
            self.id(n, ext);
        }
    }

    fn set_property(
        &mut self,
        kind: u8,
        id: u64,
        ext: Option<&str>,
        key: u32,
        old: Option<&PVal>,
        new: Option<&PVal>,
    ) {
        if old == new {
            return;
        }
        if let Some(old) = old {
            self.property(kind, true, id, ext, key, old);
        }
        if let Some(new) = new {
            self.property(kind, false, id, ext, key, new);
        }
    }

    /// Records what `op` changes in `g` (the state before it is applied).
    pub fn record(&mut self, op: &Op, g: &Graph) {
        if let Op::Reset { salt } = op {
            // Whatever came before in this transaction is gone with the graph.
            self.records.buf.clear();
            self.count = 0;
            self.marks.clear();
            self.reset = Some(*salt);
            return;
        }
        if !self.recording {
            return;
        }
        match op {
            Op::Dict { .. } | Op::CreateIndex { .. } | Op::DropIndex { .. } | Op::Reset { .. } => {}
            Op::CreateNode {
                id,
                labels,
                props,
                ext,
            } => {
                let ext = ext.as_deref();
                for &l in labels.iter() {
                    self.label(false, *id, ext, l);
                }
                for (k, v) in props.iter() {
                    self.property(VP, false, *id, ext, *k, v);
                }
            }
            Op::CreateRel {
                id,
                start,
                end,
                ty,
                props,
                ext,
            } => {
                let ext = ext.as_deref();
                self.edge(false, g, *id, ext, (*start, *end), *ty);
                for (k, v) in props.iter() {
                    self.property(EP, false, *id, ext, *k, v);
                }
            }
            Op::SetNodeProp { id, key, value } => {
                if let Some(rec) = g.node(*id) {
                    let old = crate::pval::prop_get(&rec.props, *key);
                    self.set_property(VP, *id, rec.ext.as_deref(), *key, old, value.as_ref());
                }
            }
            Op::SetRelProp { id, key, value } => {
                if let Some(rec) = g.rel(*id) {
                    let ext = rel_ext(g, *id);
                    let old = crate::pval::prop_get(&rec.props, *key);
                    self.set_property(EP, *id, ext, *key, old, value.as_ref());
                }
            }
            Op::AddLabel { id, label } => {
                if let Some(rec) = g.node(*id) {
                    if rec.labels.binary_search(label).is_err() {
                        self.label(false, *id, rec.ext.as_deref(), *label);
                    }
                }
            }
            Op::RemoveLabel { id, label } => {
                if let Some(rec) = g.node(*id) {
                    if rec.labels.binary_search(label).is_ok() {
                        self.label(true, *id, rec.ext.as_deref(), *label);
                    }
                }
            }
            Op::DeleteNode { id } => {
                if let Some(rec) = g.node(*id) {
                    let ext = rec.ext.as_deref();
                    for (k, v) in rec.props.iter() {
                        self.property(VP, true, *id, ext, *k, v);
                    }
                    for &l in rec.labels.iter() {
                        self.label(true, *id, ext, l);
                    }
                }
            }
            Op::DeleteRel { id } => {
                if let Some(rec) = g.rel(*id) {
                    let ext = rel_ext(g, *id);
                    for (k, v) in rec.props.iter() {
                        self.property(EP, true, *id, ext, *k, v);
                    }
                    let ends = (u64::from(rec.start), u64::from(rec.end));
                    self.edge(true, g, *id, ext, ends, rec.ty);
                }
            }
        }
    }

    /// The transaction's stream section, or `None` when it changed nothing the stream
    /// reports. `commit` is ignored (0) for a section without records.
    pub fn into_section(self, commit: u64, seq: u64, ts_ms: i64) -> Option<Section> {
        if self.is_empty() {
            return None;
        }
        let header = SectionHeader {
            commit: if self.count > 0 { commit } else { 0 },
            seq,
            ts_ms,
            ops: self.count,
            reset: self.reset,
        };
        let mut e = Encoder::default();
        header.encode(&mut e);
        e.buf.extend_from_slice(&self.records.buf);
        Some(Section {
            header,
            bytes: e.buf,
            op_marks: self.marks,
        })
    }
}

fn rel_ext(g: &Graph, rel: u64) -> Option<&str> {
    let rec = g.rel(rel)?;
    if !rec.user_ext {
        return None;
    }
    let id = u32::try_from(rel).ok()?;
    g.rel_ext_rev.get(&id).map(|s| &**s)
}

/// A commit's stream section, encoded.
pub(crate) struct Section {
    pub header: SectionHeader,
    pub bytes: Vec<u8>,
    /// See [`StreamBuf`]: offsets relative to the first record.
    pub op_marks: Vec<u64>,
}

/// The fixed part of a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SectionHeader {
    /// The commit number (0 for a section without records).
    pub commit: u64,
    /// The write-ahead log sequence number of the transaction.
    pub seq: u64,
    pub ts_ms: i64,
    /// Records in the section.
    pub ops: u64,
    /// The new id salt of a fast reset.
    pub reset: Option<u64>,
}

impl SectionHeader {
    pub fn encode(&self, e: &mut Encoder) {
        e.var(self.commit);
        e.var(self.seq);
        e.ivar(self.ts_ms);
        e.var(self.ops);
        match self.reset {
            None => e.u8(0),
            Some(salt) => {
                e.u8(RESET);
                e.u64_le(salt);
            }
        }
    }

    pub fn decode(d: &mut Decoder<'_>) -> DecodeResult<SectionHeader> {
        let commit = d.var()?;
        let seq = d.var()?;
        let ts_ms = d.ivar()?;
        let ops = d.var()?;
        let reset = match d.u8()? {
            0 => None,
            RESET => Some(d.u64_le()?),
            _ => return Err(DecodeError("unknown stream section flags")),
        };
        Ok(SectionHeader {
            commit,
            seq,
            ts_ms,
            ops,
            reset,
        })
    }
}

/// An element id as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawId {
    pub internal: u64,
    /// The user-assigned `~id`; `None`: the generated one.
    pub ext: Option<Box<str>>,
}

fn decode_id(d: &mut Decoder<'_>) -> DecodeResult<RawId> {
    let v = d.var()?;
    let ext = if v & 1 == 1 {
        Some(d.str()?.into())
    } else {
        None
    };
    Ok(RawId {
        internal: v >> 1,
        ext,
    })
}

/// One record as decoded, before names and ids are resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawRecord {
    /// [`VL`], [`VP`], [`E`] or [`EP`].
    pub kind: u8,
    pub remove: bool,
    pub id: RawId,
    /// Label, property key or relationship type id.
    pub name: u32,
    /// The value of a `vp`/`ep` record.
    pub value: Option<PVal>,
    /// The ends of an `e` record.
    pub ends: Option<(RawId, RawId)>,
}

impl RawRecord {
    pub fn decode(d: &mut Decoder<'_>) -> DecodeResult<RawRecord> {
        let tag = d.u8()?;
        if tag & !(KIND_MASK | REMOVE) != 0 {
            return Err(DecodeError("unknown stream record tag"));
        }
        let kind = tag & KIND_MASK;
        let id = decode_id(d)?;
        let name = d.var32()?;
        let (value, ends) = match kind {
            VL => (None, None),
            VP | EP => (Some(PVal::decode(d)?), None),
            _ => (None, Some((decode_id(d)?, decode_id(d)?))),
        };
        Ok(RawRecord {
            kind,
            remove: tag & REMOVE != 0,
            id,
            name,
            value,
            ends,
        })
    }
}

/// The offsets (relative to the start of `records`) of every [`OP_MARK_EVERY`]-th record,
/// as [`StreamBuf`] notes them while building; for sections read back from a file.
pub(crate) fn op_marks_of(records: &[u8], ops: u64) -> DecodeResult<Vec<u64>> {
    let mut marks = Vec::new();
    if ops <= OP_MARK_EVERY {
        return Ok(marks);
    }
    let mut d = Decoder::new(records);
    for i in 0..ops {
        if i > 0 && i.is_multiple_of(OP_MARK_EVERY) {
            marks.push(d.position() as u64);
        }
        RawRecord::decode(&mut d)?;
    }
    Ok(marks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(section: &Section) -> (SectionHeader, Vec<RawRecord>) {
        let mut d = Decoder::new(&section.bytes);
        let h = SectionHeader::decode(&mut d).unwrap();
        let mut out = Vec::new();
        for _ in 0..h.ops {
            out.push(RawRecord::decode(&mut d).unwrap());
        }
        assert!(d.is_empty());
        (h, out)
    }

    #[test]
    fn a_created_node_is_one_label_record_per_label_and_one_property_record_per_value() {
        let g = Graph::new(7);
        let mut b = StreamBuf::new(true);
        b.record(
            &Op::CreateNode {
                id: 3,
                labels: vec![0, 2].into(),
                props: vec![
                    (1, PVal::Int(5)),
                    (
                        4,
                        PVal::List(vec![PVal::Str("a".into()), PVal::Str("b".into())].into()),
                    ),
                ]
                .into(),
                ext: Some("n3".into()),
            },
            &g,
        );
        let s = b.into_section(9, 12, 1000).unwrap();
        let (h, recs) = decode_all(&s);
        assert_eq!(
            h,
            SectionHeader {
                commit: 9,
                seq: 12,
                ts_ms: 1000,
                ops: 5,
                reset: None
            }
        );
        let kinds: Vec<(u8, bool, u32)> = recs.iter().map(|r| (r.kind, r.remove, r.name)).collect();
        assert_eq!(
            kinds,
            vec![
                (VL, false, 0),
                (VL, false, 2),
                (VP, false, 1),
                (VP, false, 4),
                (VP, false, 4)
            ]
        );
        assert_eq!(recs[0].id.ext.as_deref(), Some("n3"));
        assert_eq!(recs[4].value, Some(PVal::Str("b".into())));
    }

    #[test]
    fn a_failed_op_leaves_no_records_and_a_reset_drops_earlier_ones() {
        let g = Graph::new(1);
        let mut b = StreamBuf::new(true);
        let m = b.mark();
        b.record(
            &Op::CreateNode {
                id: 0,
                labels: vec![0].into(),
                props: Default::default(),
                ext: None,
            },
            &g,
        );
        b.rollback(m);
        assert!(b.is_empty());
        b.record(
            &Op::CreateNode {
                id: 0,
                labels: vec![0].into(),
                props: Default::default(),
                ext: None,
            },
            &g,
        );
        b.record(&Op::Reset { salt: 42 }, &g);
        let s = b.into_section(5, 6, 0).unwrap();
        assert_eq!(s.header.reset, Some(42));
        assert_eq!(s.header.ops, 0);
        assert_eq!(s.header.commit, 0);
    }

    #[test]
    fn without_recording_only_a_reset_makes_a_section() {
        let g = Graph::new(1);
        let mut b = StreamBuf::new(false);
        b.record(
            &Op::CreateNode {
                id: 0,
                labels: vec![0].into(),
                props: Default::default(),
                ext: None,
            },
            &g,
        );
        assert!(b.into_section(1, 1, 0).is_none());
    }

    #[test]
    fn op_marks_found_by_decoding_match_the_builders() {
        let g = Graph::new(1);
        let mut b = StreamBuf::new(true);
        for i in 0..3000u64 {
            b.record(
                &Op::CreateNode {
                    id: i,
                    labels: vec![0].into(),
                    props: vec![(0, PVal::Str("x".repeat((i % 7) as usize).into()))].into(),
                    ext: None,
                },
                &g,
            );
        }
        let s = b.into_section(1, 1, 0).unwrap();
        assert_eq!(s.op_marks.len(), 5);
        let mut d = Decoder::new(&s.bytes);
        SectionHeader::decode(&mut d).unwrap();
        let found = op_marks_of(&s.bytes[d.position()..], s.header.ops).unwrap();
        assert_eq!(found, s.op_marks);
    }

    #[test]
    fn truncated_records_are_errors() {
        let g = Graph::new(1);
        let mut b = StreamBuf::new(true);
        b.record(
            &Op::CreateNode {
                id: 1,
                labels: vec![3].into(),
                props: vec![(2, PVal::Str("hello".into()))].into(),
                ext: Some("abc".into()),
            },
            &g,
        );
        let s = b.into_section(1, 1, 0).unwrap();
        let mut d = Decoder::new(&s.bytes);
        SectionHeader::decode(&mut d).unwrap();
        let records = &s.bytes[d.position()..];
        for cut in 0..records.len() {
            let mut d = Decoder::new(&records[..cut]);
            let ok = RawRecord::decode(&mut d).and_then(|_| RawRecord::decode(&mut d));
            assert!(ok.is_err(), "cut {cut}");
        }
    }
}
