//! Appending to the log. A new segment file is created under a temporary name with its
//! header, fsynced, renamed into place and the directory fsynced, so a segment either exists
//! with a valid header or not at all.

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

/// The open tail segment.
pub(crate) struct WalWriter {
    pub dir: PathBuf,
    pub file: Arc<dyn VfsFile>,
    pub segment: u64,
    /// Bytes in the segment file (header included).
    pub len: u64,
}

impl WalWriter {
    pub fn create(vfs: &dyn Vfs, dir: &Path, segment: u64, salt: u64) -> io::Result<WalWriter> {
        Ok(WalWriter {
            dir: dir.to_path_buf(),
            file: create_segment(vfs, dir, segment, salt)?,
            segment,
            len: HEADER_LEN as u64,
        })
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(segment_name(self.segment))
    }

    /// Appends framed records. On error the segment may hold a partial record; the caller
    /// cuts it off (best effort) and stops accepting writes.
    pub fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)?;
        self.len += bytes.len() as u64;
        Ok(())
    }
}
