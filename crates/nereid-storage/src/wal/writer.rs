//! Appending to the log. A new segment file is created under a temporary name with its
//! header, fsynced, renamed into place and the directory fsynced, so a segment either exists
//! with a valid header or not at all.
//!
//! Small records are written into zeros written ahead of them ([`PREALLOCATE`] at a time):
//! an `fdatasync` of data that overwrites allocated, written blocks has no file size or
//! extent to journal, which halves the cost of a small commit's sync on ext4 (measured
//! 213-272 us → 129-132 us for a 5 kB append). Zeros, not `fallocate`: writing into an
//! unwritten extent converts it, which is metadata again. A reader of the segment finds the
//! log's end at the first all-zero record header (no record has length 0).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{SegmentHeader, FORMAT_VERSION, HEADER_LEN};
use crate::io::{Vfs, VfsFile};

pub(crate) fn segment_name(segment: u64) -> String {
    format!("wal-{segment:020}.log")
}

/// The segment number of a file name, if it is a log segment.
pub(crate) fn parse_segment_name(name: &str) -> Option<u64> {
    name.strip_prefix("wal-")?
        .strip_suffix(".log")?
        .parse()
        .ok()
}

/// Creates segment `segment` durably and opens it for appending.
pub(crate) fn create_segment(
    vfs: &dyn Vfs,
    dir: &Path,
    segment: u64,
    salt: u64,
) -> io::Result<Arc<dyn VfsFile>> {
    let path = dir.join(segment_name(segment));
    let tmp = dir.join(format!("{}.tmp", segment_name(segment)));
    let header = SegmentHeader {
        version: FORMAT_VERSION,
        salt,
        segment,
    };
    {
        let f = vfs.create(&tmp)?;
        f.write_all(&header.encode())?;
        f.sync()?;
    }
    vfs.rename(&tmp, &path)?;
    vfs.sync_dir(dir)?;
    Ok(Arc::from(vfs.open_append(&path)?))
}

/// Zeros written ahead of the log's end at a time. Records of at least a quarter of it
/// (bulk loads) are appended as they come: zeros ahead of them would be overwritten by the
/// next large record anyway, and a large sync's journal entry costs little beside its data.
pub(crate) const PREALLOCATE: usize = 1 << 20;

/// In `.bss`: reading it for a write maps the kernel's zero page, so it costs no memory.
static ZEROS: [u8; PREALLOCATE] = [0; PREALLOCATE];

/// The open tail segment.
pub(crate) struct WalWriter {
    pub dir: PathBuf,
    pub file: Arc<dyn VfsFile>,
    pub segment: u64,
    /// Bytes of log in the segment file (header included): where the next record goes.
    pub len: u64,
    /// Bytes in the segment file: `len` and the zeros written ahead of it.
    pub allocated: u64,
}

impl WalWriter {
    pub fn create(vfs: &dyn Vfs, dir: &Path, segment: u64, salt: u64) -> io::Result<WalWriter> {
        Ok(WalWriter {
            dir: dir.to_path_buf(),
            file: create_segment(vfs, dir, segment, salt)?,
            segment,
            len: HEADER_LEN as u64,
            allocated: HEADER_LEN as u64,
        })
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(segment_name(self.segment))
    }

    /// Appends framed records (and, past the zeros written so far, a small record writes
    /// [`PREALLOCATE`] more after itself; the caller's sync makes them durable together).
    /// On error the segment may hold a partial record; the caller cuts it off (best effort,
    /// [`WalWriter::cut`]) and stops accepting writes.
    pub fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let end = self.len + bytes.len() as u64;
        self.file.write_at(self.len, bytes)?;
        self.len = end;
        self.allocated = self.allocated.max(end);
        if end == self.allocated && bytes.len() < PREALLOCATE / 4 {
            self.file.write_at(end, &ZEROS)?;
            self.allocated = end + PREALLOCATE as u64;
        }
        Ok(())
    }

    /// Cuts the segment file at `keep` bytes (dropping the zeros ahead too).
    pub fn cut(&mut self, keep: u64) -> io::Result<()> {
        self.file.set_len(keep)?;
        self.len = keep;
        self.allocated = keep;
        Ok(())
    }
}
