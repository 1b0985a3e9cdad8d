//! The write-ahead log: file format, the encoding of changes, and reading/writing segments.
//!
//! A log is a sequence of segment files `wal-<n>.log`. Each starts with a 32-byte header
//! (magic, format version, header checksum, store salt, segment number) followed by records:
//!
//! ```text
//! u32 LE payload length | u32 LE crc32(length bytes ‖ payload) | payload
//! ```
//!
//! A payload is one committed transaction: `u64 seq, varint next_node, varint next_rel`,
//! then (format 2 on) its change-stream section as length-prefixed bytes (empty when the
//! store has no stream; see `stream`), then its [`Op`]s. Sequence numbers are consecutive
//! across segments; a checkpoint records the last sequence number it contains, and
//! recovery replays only later records. Format 1 segments (no stream section) are still
//! read; new records always go to a segment of the current format.

pub(crate) mod reader;
pub(crate) mod writer;

use std::sync::Arc;

use crate::codec::{DecodeError, DecodeResult, Decoder, Encoder};
use crate::graph::{DictKind, Op};
use crate::pval::{decode_props, encode_props, PVal};

/// Bumped whenever the on-disk format changes; a newer format is refused at open.
/// 1: the first. 2: every transaction payload carries a change-stream section.
pub(crate) const FORMAT_VERSION: u32 = 2;
/// The first format whose payloads carry a change-stream section.
pub(crate) const STREAM_SECTION_VERSION: u32 = 2;
pub(crate) const WAL_MAGIC: &[u8; 8] = b"NEREIDWL";
pub(crate) const HEADER_LEN: usize = 32;
/// Length and checksum in front of every record.
pub(crate) const RECORD_HEADER_LEN: usize = 8;
/// Refuse absurd lengths early (a corrupt length must not trigger a huge allocation).
pub(crate) const MAX_RECORD_LEN: u32 = 1 << 30;

/// Header of a log segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentHeader {
    pub version: u32,
    pub salt: u64,
    pub segment: u64,
}

impl SegmentHeader {
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..8].copy_from_slice(WAL_MAGIC);
        b[8..12].copy_from_slice(&self.version.to_le_bytes());
        b[16..24].copy_from_slice(&self.salt.to_le_bytes());
        b[24..32].copy_from_slice(&self.segment.to_le_bytes());
        let crc = header_crc(&b);
        b[12..16].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Parses a header; the error says what is wrong.
    pub fn decode(b: &[u8]) -> Result<SegmentHeader, String> {
        if b.len() < HEADER_LEN {
            return Err("the header is truncated".into());
        }
        if &b[0..8] != WAL_MAGIC {
            return Err("not a nereid log file (bad magic)".into());
        }
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let u64_at = |i: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[i..i + 8]);
            u64::from_le_bytes(a)
        };
        let version = u32_at(8);
        if version > FORMAT_VERSION {
            return Err(newer_version_message(version));
        }
        let mut copy = [0u8; HEADER_LEN];
        copy.copy_from_slice(&b[..HEADER_LEN]);
        if u32_at(12) != header_crc(&copy) {
            return Err("the header checksum does not match".into());
        }
        Ok(SegmentHeader {
            version,
            salt: u64_at(16),
            segment: u64_at(24),
        })
    }
}

pub(crate) fn newer_version_message(version: u32) -> String {
    format!(
        "written by a newer version of nereid (data format {version}; this build reads format \
         {FORMAT_VERSION} and older)"
    )
}

fn header_crc(b: &[u8; HEADER_LEN]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&b[0..12]);
    h.update(&b[16..32]);
    h.finalize()
}

/// Frames a payload as a record.
pub(crate) fn frame(payload: &[u8], out: &mut Vec<u8>) {
    let len = (payload.len() as u32).to_le_bytes();
    let mut h = crc32fast::Hasher::new();
    h.update(&len);
    h.update(payload);
    out.extend_from_slice(&len);
    out.extend_from_slice(&h.finalize().to_le_bytes());
    out.extend_from_slice(payload);
}

/// The fixed part of a transaction payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TxnHeader {
    pub seq: u64,
    pub next_node: u64,
    pub next_rel: u64,
}

impl TxnHeader {
    pub fn encode(&self, e: &mut Encoder) {
        e.u64_le(self.seq);
        e.var(self.next_node);
        e.var(self.next_rel);
    }

    pub fn decode(d: &mut Decoder<'_>) -> DecodeResult<TxnHeader> {
        Ok(TxnHeader {
            seq: d.u64_le()?,
            next_node: d.var()?,
            next_rel: d.var()?,
        })
    }

    /// The header and the stream section (empty when there is none) of a payload written
    /// in format `version`; `d` is left at the first op.
    pub fn decode_payload<'a>(
        d: &mut Decoder<'a>,
        version: u32,
    ) -> DecodeResult<(TxnHeader, &'a [u8])> {
        let h = Self::decode(d)?;
        let section = if version >= STREAM_SECTION_VERSION {
            d.bytes()?
        } else {
            &[]
        };
        Ok((h, section))
    }
}

fn encode_ext(ext: &Option<Arc<str>>, e: &mut Encoder) {
    match ext {
        None => e.u8(0),
        Some(s) => {
            e.u8(1);
            e.str(s);
        }
    }
}

fn decode_ext(d: &mut Decoder<'_>) -> DecodeResult<Option<Arc<str>>> {
    match d.u8()? {
        0 => Ok(None),
        1 => Ok(Some(d.str()?.into())),
        _ => Err(DecodeError("bad external id tag")),
    }
}

fn encode_opt_val(v: &Option<PVal>, e: &mut Encoder) {
    match v {
        None => e.u8(0),
        Some(p) => {
            e.u8(1);
            p.encode(e);
        }
    }
}

fn decode_opt_val(d: &mut Decoder<'_>) -> DecodeResult<Option<PVal>> {
    match d.u8()? {
        0 => Ok(None),
        1 => Ok(Some(PVal::decode(d)?)),
        _ => Err(DecodeError("bad value tag")),
    }
}

impl Op {
    pub fn encode(&self, e: &mut Encoder) {
        match self {
            Op::Dict { kind, id, name } => {
                e.u8(match kind {
                    DictKind::Label => 1,
                    DictKind::Type => 2,
                    DictKind::Key => 3,
                });
                e.var(u64::from(*id));
                e.str(name);
            }
            Op::CreateNode {
                id,
                labels,
                props,
                ext,
            } => {
                e.u8(4);
                e.var(*id);
                e.var(labels.len() as u64);
                for l in labels.iter() {
                    e.var(u64::from(*l));
                }
                encode_props(props, e);
                encode_ext(ext, e);
            }
            Op::CreateRel {
                id,
                start,
                end,
                ty,
                props,
                ext,
            } => {
                e.u8(5);
                e.var(*id);
                e.var(*start);
                e.var(*end);
                e.var(u64::from(*ty));
                encode_props(props, e);
                encode_ext(ext, e);
            }
            Op::SetNodeProp { id, key, value } => {
                e.u8(6);
                e.var(*id);
                e.var(u64::from(*key));
                encode_opt_val(value, e);
            }
            Op::SetRelProp { id, key, value } => {
                e.u8(7);
                e.var(*id);
                e.var(u64::from(*key));
                encode_opt_val(value, e);
            }
            Op::AddLabel { id, label } => {
                e.u8(8);
                e.var(*id);
                e.var(u64::from(*label));
            }
            Op::RemoveLabel { id, label } => {
                e.u8(9);
                e.var(*id);
                e.var(u64::from(*label));
            }
            Op::DeleteNode { id } => {
                e.u8(10);
                e.var(*id);
            }
            Op::DeleteRel { id } => {
                e.u8(11);
                e.var(*id);
            }
            Op::Reset { salt } => {
                e.u8(12);
                e.u64_le(*salt);
            }
            Op::CreateIndex { label, key } => {
                e.u8(13);
                e.var(u64::from(*label));
                e.var(u64::from(*key));
            }
            Op::DropIndex { label, key } => {
                e.u8(14);
                e.var(u64::from(*label));
                e.var(u64::from(*key));
            }
        }
    }

    pub fn decode(d: &mut Decoder<'_>) -> DecodeResult<Op> {
        let tag = d.u8()?;
        Ok(match tag {
            1..=3 => Op::Dict {
                kind: match tag {
                    1 => DictKind::Label,
                    2 => DictKind::Type,
                    _ => DictKind::Key,
                },
                id: d.var32()?,
                name: d.str()?.into(),
            },
            4 => {
                let id = d.var()?;
                let n = d.len()?;
                let mut labels = Vec::with_capacity(n);
                for _ in 0..n {
                    labels.push(d.var32()?);
                }
                labels.sort_unstable();
                labels.dedup();
                Op::CreateNode {
                    id,
                    labels: labels.into(),
                    props: decode_props(d)?,
                    ext: decode_ext(d)?,
                }
            }
            5 => Op::CreateRel {
                id: d.var()?,
                start: d.var()?,
                end: d.var()?,
                ty: d.var32()?,
                props: decode_props(d)?,
                ext: decode_ext(d)?,
            },
            6 => Op::SetNodeProp {
                id: d.var()?,
                key: d.var32()?,
                value: decode_opt_val(d)?,
            },
            7 => Op::SetRelProp {
                id: d.var()?,
                key: d.var32()?,
                value: decode_opt_val(d)?,
            },
            8 => Op::AddLabel {
                id: d.var()?,
                label: d.var32()?,
            },
            9 => Op::RemoveLabel {
                id: d.var()?,
                label: d.var32()?,
            },
            10 => Op::DeleteNode { id: d.var()? },
            11 => Op::DeleteRel { id: d.var()? },
            12 => Op::Reset { salt: d.u64_le()? },
            13 => Op::CreateIndex {
                label: d.var32()?,
                key: d.var32()?,
            },
            14 => Op::DropIndex {
                label: d.var32()?,
                key: d.var32()?,
            },
            _ => return Err(DecodeError("unknown operation tag")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_round_trip() {
        let ops = vec![
            Op::Dict {
                kind: DictKind::Type,
                id: 3,
                name: "KNOWS".into(),
            },
            Op::CreateNode {
                id: 7,
                labels: vec![1, 2].into(),
                props: vec![(0, PVal::Int(1))].into(),
                ext: Some("a".into()),
            },
            Op::CreateRel {
                id: 9,
                start: 7,
                end: 7,
                ty: 3,
                props: Default::default(),
                ext: None,
            },
            Op::SetNodeProp {
                id: 7,
                key: 0,
                value: None,
            },
            Op::SetRelProp {
                id: 9,
                key: 1,
                value: Some(PVal::Str("s".into())),
            },
            Op::AddLabel { id: 7, label: 4 },
            Op::RemoveLabel { id: 7, label: 1 },
            Op::DeleteRel { id: 9 },
            Op::DeleteNode { id: 7 },
            Op::CreateIndex { label: 1, key: 2 },
            Op::DropIndex { label: 1, key: 2 },
            Op::Reset { salt: 99 },
        ];
        let mut e = Encoder::default();
        for op in &ops {
            op.encode(&mut e);
        }
        let mut d = Decoder::new(&e.buf);
        for op in &ops {
            assert_eq!(&Op::decode(&mut d).unwrap(), op);
        }
        assert!(d.is_empty());
    }

    #[test]
    fn header_from_a_newer_version_is_refused_by_name() {
        let mut h = SegmentHeader {
            version: FORMAT_VERSION,
            salt: 5,
            segment: 2,
        };
        assert_eq!(SegmentHeader::decode(&h.encode()).unwrap(), h);
        h.version = FORMAT_VERSION + 1;
        let err = SegmentHeader::decode(&h.encode()).unwrap_err();
        assert!(err.contains("newer version"), "{err}");
        let mut bad = SegmentHeader {
            version: FORMAT_VERSION,
            salt: 5,
            segment: 2,
        }
        .encode();
        bad[20] ^= 1;
        assert!(SegmentHeader::decode(&bad)
            .unwrap_err()
            .contains("checksum"));
    }
}
