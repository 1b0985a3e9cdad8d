//! Where a job's files are: [`resolve_source`] checks a local source against `--load-dir`
//! when a job is started; when it runs, `Origin` (a local directory or an S3 location) lists
//! its files as `Feed`s and opens each as a [`FileReader`], and names each in job records.

use std::path::{Component, Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use nereid_common::Error;

use crate::format::Format;
use crate::ingest::{self, ErrorLog};
use crate::reader::{FileReader, OpenError};
use crate::s3::{self, S3Client, S3Location};
use crate::source::list_files;

use super::{bad_request, JobRecord, Shared};

/// The path `source` names, inside `load_dir`: `file://` URLs and plain paths, relative ones
/// inside `load_dir`; anything leaving it (`..`, a symbolic link) is refused.
pub fn resolve_source(source: &str, load_dir: Option<&Path>) -> Result<PathBuf, Error> {
    let lower = source.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        return Err(bad_request(format!(
            "source '{source}': nereid loads from s3://bucket/prefix (with --s3-endpoint), https://s3.amazonaws.com/bucket/prefix, or a path or file:// URL inside --load-dir; not from other URLs"
        )));
    }
    let Some(load_dir) = load_dir else {
        return Err(bad_request(
            "loading from files is disabled: start the server with --load-dir DIR (or NEREID_LOAD_DIR) to allow loads from DIR",
        ));
    };
    let raw = if lower.starts_with("file://") {
        &source[7..]
    } else {
        source
    };
    if raw.is_empty() {
        return Err(bad_request("source must not be empty"));
    }
    let path = Path::new(raw);
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        load_dir.join(path)
    };
    let outside = || {
        bad_request(format!(
            "source '{source}' is outside the load directory {}",
            load_dir.display()
        ))
    };
    let canonical = match joined.canonicalize() {
        Ok(c) => c,
        Err(_) => {
            // A prefix: the parent must exist; the last component is a name prefix.
            let name = joined.file_name().ok_or_else(outside)?;
            if joined
                .components()
                .any(|c| matches!(c, Component::ParentDir))
            {
                return Err(outside());
            }
            let parent = joined.parent().ok_or_else(outside)?;
            let parent = parent.canonicalize().map_err(|e| {
                bad_request(format!("source '{source}': {}: {e}", parent.display()))
            })?;
            parent.join(name)
        }
    };
    if !canonical.starts_with(load_dir) {
        return Err(outside());
    }
    Ok(canonical)
}

/// Where a job's files are.
pub(super) enum Origin {
    Local(PathBuf),
    S3(S3Client, S3Location),
}

/// One file of a job: a local path, or an S3 object (its key).
pub(super) enum Feed {
    Local(PathBuf),
    S3(String),
}

/// A file that cannot be opened: the feed status it gets and the error log entry.
pub(super) struct OpenFailure {
    pub(super) status: &'static str,
    pub(super) log: ErrorLog,
}

impl Origin {
    /// `cancel`: the job's flag, which ends the S3 client's waits.
    pub(super) fn of(
        shared: &Shared,
        me: &JobRecord,
        cancel: &Arc<AtomicBool>,
    ) -> Result<Origin, String> {
        match S3Location::parse(&me.full_uri) {
            None => Ok(Origin::Local(PathBuf::from(
                me.full_uri.trim_start_matches("file://"),
            ))),
            Some(location) => {
                let location = location?;
                let config = shared.config.s3.as_ref().ok_or_else(|| {
                    format!(
                        "{} is an S3 source but the server has no --s3-endpoint now",
                        me.full_uri
                    )
                })?;
                Ok(Origin::S3(
                    S3Client::new(config, me.region.as_deref()).watching(Arc::clone(cancel)),
                    location,
                ))
            }
        }
    }

    /// The job's files in source order. Local ones are checked against `--load-dir` again
    /// (a symbolic link may point out of it).
    pub(super) fn list(&self, load_dir: &Path) -> Result<Vec<Feed>, (&'static str, String)> {
        match self {
            Origin::Local(root) => {
                let files = list_files(root)
                    .map_err(|e| ("LOAD_FAILED", format!("cannot list the source: {e}")))?;
                let mut out = Vec::with_capacity(files.len());
                for f in files {
                    let Ok(c) = f.canonicalize() else { continue };
                    if !c.starts_with(load_dir) {
                        return Err((
                            "LOAD_FAILED",
                            format!(
                                "{} leads outside the load directory; it was not loaded",
                                f.display()
                            ),
                        ));
                    }
                    out.push(Feed::Local(c));
                }
                Ok(out)
            }
            Origin::S3(client, location) => Ok(client
                .list(location)
                .map_err(|e| (e.status, e.message))?
                .into_iter()
                .map(|(key, _)| Feed::S3(key))
                .collect()),
        }
    }

    pub(super) fn open(&self, feed: &Feed, format: Format) -> Result<FileReader, OpenFailure> {
        let display = self.uri(feed);
        match (self, feed) {
            (_, Feed::Local(path)) => {
                ingest::open(path, format, &display).map_err(|log| OpenFailure {
                    status: "LOAD_FAILED",
                    log,
                })
            }
            (Origin::S3(client, location), Feed::S3(key)) => {
                let body = client.get(&location.bucket, key).map_err(|e| OpenFailure {
                    status: e.status,
                    log: ErrorLog {
                        error_code: e.status.trim_start_matches("LOAD_").into(),
                        error_message: e.message,
                        file_name: display.clone(),
                        record_num: 0,
                    },
                })?;
                let gz = key.to_ascii_lowercase().ends_with(".gz");
                let bytes: Box<dyn std::io::Read + Send> = if gz {
                    Box::new(flate2::read::GzDecoder::new(std::io::BufReader::new(body)))
                } else {
                    Box::new(std::io::BufReader::with_capacity(256 * 1024, body))
                };
                FileReader::new(bytes, format).map_err(|e| {
                    let (code, message) = match e {
                        OpenError::Io(e) => {
                            ("FILE_READ_ERROR", format!("cannot read the object: {e}"))
                        }
                        OpenError::Header(e) => ("PARSING_ERROR", format!("invalid header: {e}")),
                    };
                    OpenFailure {
                        status: "LOAD_FAILED",
                        log: ErrorLog {
                            error_code: code.into(),
                            error_message: message,
                            file_name: display,
                            record_num: 0,
                        },
                    }
                })
            }
            (Origin::Local(_), Feed::S3(key)) => Err(OpenFailure {
                status: "LOAD_FAILED",
                log: ErrorLog {
                    error_code: "FILE_READ_ERROR".into(),
                    error_message: format!("{key} is not a local file"),
                    file_name: display,
                    record_num: 0,
                },
            }),
        }
    }

    /// The feed's id in job records (a canonical path, or `s3://bucket/key`).
    pub(super) fn record_path(&self, feed: &Feed) -> PathBuf {
        match feed {
            Feed::Local(p) => p.clone(),
            Feed::S3(_) => PathBuf::from(self.uri(feed)),
        }
    }

    pub(super) fn uri(&self, feed: &Feed) -> String {
        match (self, feed) {
            (_, Feed::Local(p)) => format!("file://{}", p.display()),
            (Origin::S3(_, location), Feed::S3(key)) => s3::object_uri(&location.bucket, key),
            (Origin::Local(_), Feed::S3(key)) => key.clone(),
        }
    }
}

/// The `fullUri` of a file record: `s3://…` as stored, a local path as a `file://` URL.
pub(super) fn feed_uri(path: &Path) -> String {
    let text = path.to_string_lossy();
    if text.starts_with("s3://") {
        text.into_owned()
    } else {
        format!("file://{}", path.display())
    }
}
