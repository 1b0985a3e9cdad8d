//! Which files a load's `source` names: a file, a folder, or a name prefix (as an S3 key
//! prefix would), always in a deterministic order.
//!
//! * A file is itself.
//! * A folder is every regular file under it, recursively, sorted by path.
//! * Anything else is a prefix: every entry of the parent folder whose name starts with the
//!   last path component, a file as itself and a folder as its files (as `s3://b/data/part`
//!   also matches the key `data/part-2/x.csv`), sorted by path.
//!
//! Hidden files and folders (names starting with `.`) are skipped. Symbolic links to files
//! are followed; links to folders are not, so a link cycle cannot loop.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The files `source` names, sorted by path. A prefix that matches nothing gives an empty
/// list; a prefix whose parent folder does not exist is an error.
pub fn list_files(source: &Path) -> io::Result<Vec<PathBuf>> {
    let meta = fs::metadata(source);
    let mut files = Vec::new();
    match meta {
        Ok(m) if m.is_file() => return Ok(vec![source.to_path_buf()]),
        Ok(m) if m.is_dir() => walk(source, &mut files)?,
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is neither a file nor a folder", source.display()),
            ))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let prefix = source.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{} does not exist", source.display()),
                )
            })?;
            let parent = match source.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            for entry in fs::read_dir(parent)? {
                let entry = entry?;
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                if name.starts_with('.') || !name.starts_with(prefix) {
                    continue;
                }
                add_entry(&entry.path(), &mut files)?;
            }
        }
        Err(e) => return Err(e),
    }
    files.sort();
    Ok(files)
}

/// Adds the regular files under `dir`, recursively.
fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        add_entry(&entry.path(), files)?;
    }
    Ok(())
}

fn add_entry(path: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    let link = fs::symlink_metadata(path)?;
    if link.is_dir() {
        walk(path, files)?;
    } else if link.is_file() || (link.file_type().is_symlink() && path.is_file()) {
        files.push(path.to_path_buf());
    }
    Ok(())
}
