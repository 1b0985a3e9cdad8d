//! The file system of an in-memory store's change stream: files are byte vectors in a map,
//! nothing survives the process (like the rest of an in-memory store).

use std::any::Any;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::io::{Vfs, VfsFile};
use crate::store::lock;

type Files = Arc<Mutex<HashMap<PathBuf, Arc<Mutex<Vec<u8>>>>>>;

#[derive(Default, Clone)]
pub(crate) struct MemFs {
    files: Files,
}

struct MemFile(Arc<Mutex<Vec<u8>>>);

impl VfsFile for MemFile {
    fn write_all(&self, buf: &[u8]) -> io::Result<()> {
        lock(&self.0).extend_from_slice(buf);
        Ok(())
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> io::Result<()> {
        let at = usize::try_from(offset).map_err(|_| io::Error::other("offset out of range"))?;
        let mut data = lock(&self.0);
        if data.len() < at + buf.len() {
            data.resize(at + buf.len(), 0);
        }
        data[at..at + buf.len()].copy_from_slice(buf);
        Ok(())
    }

    fn sync(&self) -> io::Result<()> {
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let len = usize::try_from(len).map_err(|_| io::Error::other("length out of range"))?;
        lock(&self.0).resize(len, 0);
        Ok(())
    }
}

fn not_found() -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, "no such file")
}

impl MemFs {
    fn file(&self, path: &Path) -> io::Result<Arc<Mutex<Vec<u8>>>> {
        lock(&self.files).get(path).cloned().ok_or_else(not_found)
    }
}

impl Vfs for MemFs {
    fn create_dir_all(&self, _dir: &Path) -> io::Result<()> {
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        Ok(lock(&self.files)
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name()?.to_str().map(String::from))
            .collect())
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let file = self.file(path)?;
        let bytes = lock(&file).clone();
        Ok(bytes)
    }

    fn read_range(&self, path: &Path, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let file = self.file(path)?;
        let bytes = lock(&file);
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let end = start.saturating_add(len).min(bytes.len());
        Ok(bytes[start..end].to_vec())
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn VfsFile>> {
        let file = Arc::new(Mutex::new(Vec::new()));
        lock(&self.files).insert(path.to_path_buf(), Arc::clone(&file));
        Ok(Box::new(MemFile(file)))
    }

    fn open_append(&self, path: &Path) -> io::Result<Box<dyn VfsFile>> {
        Ok(Box::new(MemFile(self.file(path)?)))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut files = lock(&self.files);
        let f = files.remove(from).ok_or_else(not_found)?;
        files.insert(to.to_path_buf(), f);
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        lock(&self.files).remove(path);
        Ok(())
    }

    fn sync_dir(&self, _dir: &Path) -> io::Result<()> {
        Ok(())
    }

    fn lock(&self, _path: &Path) -> io::Result<Box<dyn Any + Send + Sync>> {
        Ok(Box::new(()))
    }
}
