//! Job records: the JSON of a job's file under `<data-dir>/loader` ([`JobRecord`], a
//! [`FileRecord`] per file, the [`PendingBatch`] being committed), how it is written (write,
//! fsync, rename), how a job found unfinished at start-up is recovered, and the
//! `GetLoaderJobStatus` payload made from a record ([`status_json`]).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ingest::{Counts, ErrorLog};
use crate::s3;

use super::feed::feed_uri;
use super::{Mode, Parallelism, MAX_ERROR_LOGS};

/// Per-file state in a job record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileRecord {
    /// Canonical path.
    pub path: PathBuf,
    pub status: String,
    pub counts: Counts,
    /// Records of the file whose batches are committed (the reader's count, errors included).
    pub records_committed: u64,
    /// Seconds spent on the file.
    pub time_spent: u64,
}

/// A batch being committed when the record was written: `(file index, store sequence number
/// it started from, records through the batch's end)`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingBatch {
    pub file: usize,
    pub base_seq: u64,
    pub records_through: u64,
}

/// Everything known about one job; the JSON of the job file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRecord {
    pub load_id: String,
    pub source: String,
    /// `file://` and the canonical path.
    pub full_uri: String,
    pub format: String,
    pub mode: Mode,
    pub fail_on_error: bool,
    pub user_provided_edge_ids: bool,
    /// The request's `region` (S3 sources are signed for it).
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub update_single_cardinality_properties: bool,
    #[serde(default)]
    pub edge_only_load: bool,
    #[serde(default)]
    pub parallelism: Parallelism,
    pub dependencies: Vec<String>,
    pub status: String,
    /// When the job was accepted, epoch seconds.
    pub start_time: u64,
    /// Seconds the job ran (while running: so far).
    pub total_time_spent: u64,
    pub counts: Counts,
    pub files: Vec<FileRecord>,
    pub errors: Vec<ErrorLog>,
    /// Error log entries dropped beyond [`MAX_ERROR_LOGS`].
    #[serde(default)]
    pub errors_dropped: u64,
    #[serde(default)]
    pub pending: Option<PendingBatch>,
    /// A message about the job as a whole (why it failed).
    #[serde(default)]
    pub message: Option<String>,
    /// Order of acceptance (for listing, and FIFO after a restart).
    pub seq: u64,
}

impl JobRecord {
    pub fn is_final(&self) -> bool {
        !matches!(
            self.status.as_str(),
            "LOAD_NOT_STARTED" | "LOAD_IN_PROGRESS" | "LOAD_IN_QUEUE"
        )
    }

    pub(super) fn push_error(&mut self, e: ErrorLog) {
        if self.errors.len() < MAX_ERROR_LOGS {
            self.errors.push(e);
        } else {
            self.errors_dropped += 1;
        }
    }
}

/// A job found unfinished at start-up: counts what the store shows was committed.
pub(super) fn recover(r: &mut JobRecord, last_seq: u64) {
    if let Some(p) = r.pending.take() {
        if last_seq > p.base_seq {
            // The batch made it into the log: its records are in the graph, but its exact
            // counters were not saved; they are counted as loaded records.
            if let Some(f) = r.files.get_mut(p.file) {
                let added = p.records_through.saturating_sub(f.records_committed);
                f.records_committed = p.records_through;
                f.counts.total_records += added;
                r.counts.total_records += added;
            }
        }
    }
    let was = r.status.clone();
    r.status = "LOAD_FAILED".into();
    for f in &mut r.files {
        if f.status == "LOAD_IN_PROGRESS" {
            f.status = "LOAD_FAILED".into();
        }
    }
    r.message = Some(format!(
        "the server stopped while the load was {was}; committed records are kept: load the same source again with mode RESUME or AUTO to finish it"
    ));
}

/// Writes `r` as `<dir>/<loadId>.json` (write, fsync, rename).
pub(super) fn write_record(dir: &Path, r: &JobRecord) {
    let path = dir.join(format!("{}.json", r.load_id));
    let tmp = dir.join(format!("{}.json.tmp", r.load_id));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec(r).map_err(std::io::Error::other)?)?;
        f.sync_all()?;
        fs::rename(&tmp, &path)
    })();
    if let Err(e) = result {
        tracing::warn!("cannot write load job record {}: {e}", path.display());
    }
}

fn counts_json(
    full_uri: &str,
    status: &str,
    time: u64,
    start: u64,
    c: &Counts,
) -> serde_json::Value {
    serde_json::json!({
        "fullUri": full_uri,
        "runNumber": 1,
        "retryNumber": 0,
        "status": status,
        "totalTimeSpent": time,
        "startTime": start,
        "totalRecords": c.total_records,
        "totalDuplicates": c.total_duplicates,
        "parsingErrors": c.parsing_errors,
        "datatypeMismatchErrors": c.datatype_mismatch_errors,
        "insertErrors": c.insert_errors,
    })
}

/// The status payload (NEPTUNE-NOTES §4).
pub fn status_json(
    r: &JobRecord,
    details: bool,
    errors: bool,
    page: u64,
    errors_per_page: u64,
) -> serde_json::Value {
    let mut feed: Vec<(String, u64)> = Vec::new();
    for f in &r.files {
        match feed.iter_mut().find(|(s, _)| *s == f.status) {
            Some(e) => e.1 += 1,
            None => feed.push((f.status.clone(), 1)),
        }
    }
    let feed_count: Vec<serde_json::Value> = feed
        .into_iter()
        .map(|(s, n)| serde_json::json!({ s: n }))
        .collect();
    let mut payload = serde_json::json!({
        "feedCount": feed_count,
        "overallStatus": counts_json(&r.full_uri, &r.status, r.total_time_spent, r.start_time, &r.counts),
    });
    if details {
        let failed: Vec<serde_json::Value> = r
            .files
            .iter()
            .filter(|f| {
                f.status.starts_with("LOAD_FAILED")
                    || [s3::ACCESS_DENIED, s3::READ_ERROR, s3::FEED_DELETED]
                        .contains(&f.status.as_str())
            })
            .map(|f| {
                counts_json(
                    &feed_uri(&f.path),
                    &f.status,
                    f.time_spent,
                    r.start_time,
                    &f.counts,
                )
            })
            .collect();
        payload["failedFeeds"] = serde_json::Value::Array(failed);
    }
    if errors {
        let per = errors_per_page.max(1) as usize;
        let start = (page.max(1) as usize - 1).saturating_mul(per);
        let logs: Vec<&ErrorLog> = r.errors.iter().skip(start).take(per).collect();
        let end = start + logs.len();
        payload["errors"] = serde_json::json!({
            "startIndex": if logs.is_empty() { 0 } else { start + 1 },
            "endIndex": end,
            "loadId": r.load_id,
            "errorLogs": logs,
        });
    }
    if let Some(m) = &r.message {
        payload["message"] = serde_json::Value::String(m.clone());
    }
    payload
}
