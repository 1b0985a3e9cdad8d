//! Checkpoint files: a whole graph version written as the same [`Op`]s the log uses.
//!
//! ```text
//! "NEREIDCP" | u32 LE format version | u32 reserved | body | u32 LE crc32(everything before)
//! body = u64 LE salt, u64 LE seq, u64 LE next segment, varint next_node, varint next_rel,
//!        varint op count, ops
//! ```
//!
//! `next segment` is the first log segment written after the checkpoint: recovery from
//! this checkpoint needs that segment and the later ones.
//!
//! A checkpoint is written to `checkpoint-<seq>.nrd.tmp`, fsynced, renamed and the directory
//! fsynced, so a file with the final name is always complete; the checksum still guards
//! against media corruption, which is reported rather than skipped.

use std::io;
use std::path::Path;

use crate::codec::{Decoder, Encoder};
use crate::graph::{DictKind, Graph, Op};
use crate::io::Vfs;
use crate::wal::{newer_version_message, FORMAT_VERSION};

const MAGIC: &[u8; 8] = b"NEREIDCP";
const HEADER_LEN: usize = 16;
/// Buffered bytes before a write to the file (bounded memory while writing large graphs).
const FLUSH_AT: usize = 4 << 20;

pub(crate) fn checkpoint_name(seq: u64) -> String {
    format!("checkpoint-{seq:020}.nrd")
}

pub(crate) fn parse_checkpoint_name(name: &str) -> Option<u64> {
    name.strip_prefix("checkpoint-")?
        .strip_suffix(".nrd")?
        .parse()
        .ok()
}

/// Streams the ops that rebuild `g` into `sink`, in an order that replays cleanly:
/// dictionaries, then nodes, then relationships.
fn for_each_op(g: &Graph, mut sink: impl FnMut(&Op) -> io::Result<()>) -> io::Result<u64> {
    let mut count = 0u64;
    for kind in [DictKind::Label, DictKind::Type, DictKind::Key] {
        for (id, name) in g.dict(kind).names().enumerate() {
            sink(&Op::Dict {
                kind,
                id: id as u32,
                name: name.into(),
            })?;
            count += 1;
        }
    }
    for ix in g.indexes.iter() {
        sink(&Op::CreateIndex {
            label: ix.label,
            key: ix.key,
        })?;
        count += 1;
    }
    for (id, slot) in g.nodes.iter() {
        if let Some(n) = slot {
            sink(&Op::CreateNode {
                id,
                labels: n.labels.clone(),
                props: n.props.clone(),
                ext: n.ext.clone(),
            })?;
            count += 1;
        }
    }
    for (id, slot) in g.rels.iter() {
        if let Some(r) = slot {
            let ext = if r.user_ext {
                g.rel_ext_rev.get(&(id as u32)).cloned()
            } else {
                None
            };
            sink(&Op::CreateRel {
                id,
                start: u64::from(r.start),
                end: u64::from(r.end),
                ty: r.ty,
                props: r.props.clone(),
                ext,
            })?;
            count += 1;
        }
    }
    Ok(count)
}

/// A checkpoint read back.
pub(crate) struct Loaded {
    pub graph: Graph,
    pub next_segment: u64,
}

/// Writes a checkpoint of `g` durably; returns the file size.
pub(crate) fn write(vfs: &dyn Vfs, dir: &Path, g: &Graph, next_segment: u64) -> io::Result<u64> {
    let name = checkpoint_name(g.seq);
    let tmp = dir.join(format!("{name}.tmp"));
    let result = (|| {
        let f = vfs.create(&tmp)?;
        let mut crc = crc32fast::Hasher::new();
        let mut total = 0u64;
        let mut flush = |buf: &mut Vec<u8>, crc: &mut crc32fast::Hasher| -> io::Result<()> {
            crc.update(buf);
            f.write_all(buf)?;
            total += buf.len() as u64;
            buf.clear();
            Ok(())
        };
        // The op count comes first in the body but is only known at the end; count first.
        let count = for_each_op(g, |_| Ok(()))?;
        let mut e = Encoder::default();
        e.buf.extend_from_slice(MAGIC);
        e.u32_le(FORMAT_VERSION);
        e.u32_le(0);
        e.u64_le(g.salt);
        e.u64_le(g.seq);
        e.u64_le(next_segment);
        e.var(g.nodes.len());
        e.var(g.rels.len());
        e.var(count);
        for_each_op(g, |op| {
            op.encode(&mut e);
            if e.buf.len() >= FLUSH_AT {
                flush(&mut e.buf, &mut crc)?;
            }
            Ok(())
        })?;
        flush(&mut e.buf, &mut crc)?;
        let sum = crc.finalize().to_le_bytes();
        f.write_all(&sum)?;
        total += 4;
        f.sync()?;
        Ok(total)
    })();
    match result {
        Ok(total) => {
            vfs.rename(&tmp, &dir.join(&name))?;
            vfs.sync_dir(dir)?;
            Ok(total)
        }
        Err(e) => {
            let _ = vfs.remove(&tmp);
            Err(e)
        }
    }
}

/// Reads a checkpoint; the error says what is wrong (the caller adds the file name).
pub(crate) fn read(bytes: &[u8]) -> Result<Loaded, String> {
    if bytes.len() < HEADER_LEN + 4 || &bytes[0..8] != MAGIC {
        return Err("not a nereid checkpoint file (bad magic or truncated)".into());
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version > FORMAT_VERSION {
        return Err(newer_version_message(version));
    }
    let (data, sum) = bytes.split_at(bytes.len() - 4);
    if crc32fast::hash(data).to_le_bytes() != sum {
        return Err("checksum mismatch: the file is corrupt".into());
    }
    let mut d = Decoder::new(&data[HEADER_LEN..]);
    let err = |e: crate::codec::DecodeError| format!("malformed contents: {}", e.0);
    let salt = d.u64_le().map_err(err)?;
    let seq = d.u64_le().map_err(err)?;
    let next_segment = d.u64_le().map_err(err)?;
    let next_node = d.var().map_err(err)?;
    let next_rel = d.var().map_err(err)?;
    let count = d.var().map_err(err)?;
    let mut g = Graph::new(salt);
    // Relationships' adjacency is placed node by node in bulk, not entry by entry.
    let mut pending = Vec::new();
    for _ in 0..count {
        let op = Op::decode(&mut d).map_err(err)?;
        g.apply_bulk(op, &mut pending)
            .map_err(|e| format!("inconsistent contents: {}", e.message))?;
    }
    g.place(&mut pending);
    if !d.is_empty() {
        return Err("malformed contents: trailing data".into());
    }
    g.pad_nodes(next_node);
    g.pad_rels(next_rel);
    g.seq = seq;
    Ok(Loaded {
        graph: g,
        next_segment,
    })
}
