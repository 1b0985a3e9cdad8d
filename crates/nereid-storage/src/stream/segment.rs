//! Stream segment files: `streams/stream-<n>.log`, an 80-byte header followed by commit
//! sections framed like log records (`u32 length | u32 crc32 | section`, see `wal`).
//!
//! ```text
//! "NEREIDST" | u32 version | u32 crc32 of the rest of the header | u64 salt | u64 segment
//! | u64 generation seq | u64 prev seq | u64 prev commit | u64 prev op | i64 prev timestamp
//! | u64 reserved
//! ```
//!
//! * `salt` — the graph's id salt while this segment's records were written: generated
//!   `~id`s are computed from it when records are read. A fast reset changes the salt and
//!   starts a new *generation* of segments.
//! * `generation seq` — the log sequence number of the fast reset that began the
//!   generation (0 for the first): recovery keeps a newer generation only if the log
//!   holds that reset, and then drops the older ones.
//! * `prev …` — the last commit before this segment: its log sequence number, event id and
//!   timestamp. Commit numbers, timestamps and "which records were removed" (by expiry or
//!   a reset) continue from there even when every older segment is gone.
//!
//! Segments are created like log segments (temporary name, fsync, rename, directory fsync)
//! so that one either exists with a valid header or not at all.

use std::io;
use std::path::Path;
use std::sync::Arc;

use crate::io::{Vfs, VfsFile};

pub(crate) const MAGIC: &[u8; 8] = b"NEREIDST";
pub(crate) const VERSION: u32 = 1;
pub(crate) const HEADER_LEN: usize = 80;

pub(crate) fn segment_name(segment: u64) -> String {
    format!("stream-{segment:020}.log")
}

pub(crate) fn parse_segment_name(name: &str) -> Option<u64> {
    name.strip_prefix("stream-")?
        .strip_suffix(".log")?
        .parse()
        .ok()
}

/// The stream as it stood before a segment (see the module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Prev {
    pub seq: u64,
    pub commit: u64,
    pub op: u64,
    pub ts_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentHeader {
    pub salt: u64,
    pub segment: u64,
    pub generation_seq: u64,
    pub prev: Prev,
}

impl SegmentHeader {
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..8].copy_from_slice(MAGIC);
        b[8..12].copy_from_slice(&VERSION.to_le_bytes());
        let fields = [
            self.salt,
            self.segment,
            self.generation_seq,
            self.prev.seq,
            self.prev.commit,
            self.prev.op,
            self.prev.ts_ms as u64,
            0,
        ];
        for (i, f) in fields.iter().enumerate() {
            b[16 + 8 * i..24 + 8 * i].copy_from_slice(&f.to_le_bytes());
        }
        let crc = crc32fast::hash(&b[16..]);
        b[12..16].copy_from_slice(&crc.to_le_bytes());
        b
    }

    pub fn decode(b: &[u8]) -> Result<SegmentHeader, String> {
        if b.len() < HEADER_LEN {
            return Err("the header is truncated".into());
        }
        if &b[0..8] != MAGIC {
            return Err("not a nereid stream segment (bad magic)".into());
        }
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let u64_at = |i: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[i..i + 8]);
            u64::from_le_bytes(a)
        };
        let version = u32_at(8);
        if version > VERSION {
            return Err(format!(
                "written by a newer version of nereid (stream format {version}; this build reads \
                 format {VERSION})"
            ));
        }
        if u32_at(12) != crc32fast::hash(&b[16..HEADER_LEN]) {
            return Err("the header checksum does not match".into());
        }
        Ok(SegmentHeader {
            salt: u64_at(16),
            segment: u64_at(24),
            generation_seq: u64_at(32),
            prev: Prev {
                seq: u64_at(40),
                commit: u64_at(48),
                op: u64_at(56),
                ts_ms: u64_at(64) as i64,
            },
        })
    }
}

/// Creates a segment durably and opens it for appending.
pub(crate) fn create(
    vfs: &dyn Vfs,
    dir: &Path,
    header: &SegmentHeader,
    durable: bool,
) -> io::Result<Arc<dyn VfsFile>> {
    let name = segment_name(header.segment);
    let path = dir.join(&name);
    let tmp = dir.join(format!("{name}.tmp"));
    {
        let f = vfs.create(&tmp)?;
        f.write_all(&header.encode())?;
        if durable {
            f.sync()?;
        }
    }
    vfs.rename(&tmp, &path)?;
    if durable {
        vfs.sync_dir(dir)?;
    }
    Ok(Arc::from(vfs.open_append(&path)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_and_damage_is_named() {
        let h = SegmentHeader {
            salt: 0xabcdef,
            segment: 7,
            generation_seq: 12,
            prev: Prev {
                seq: 40,
                commit: 33,
                op: 4,
                ts_ms: 1_700_000_000_000,
            },
        };
        let b = h.encode();
        assert_eq!(SegmentHeader::decode(&b).unwrap(), h);
        let mut bad = b;
        bad[50] ^= 1;
        assert!(SegmentHeader::decode(&bad)
            .unwrap_err()
            .contains("checksum"));
        let mut newer = b;
        newer[8] = 9;
        assert!(SegmentHeader::decode(&newer)
            .unwrap_err()
            .contains("newer version"));
        assert!(SegmentHeader::decode(&b[..40])
            .unwrap_err()
            .contains("truncated"));
        assert_eq!(parse_segment_name(&segment_name(42)), Some(42));
        assert_eq!(parse_segment_name("wal-1.log"), None);
    }
}
