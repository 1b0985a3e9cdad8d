//! Load jobs: Neptune's `/loader` service (start, status, list, cancel), one job at a time
//! on the loader's own thread, a FIFO queue of up to 64, dependencies, and job records kept
//! as JSON under the data directory so that a status survives a restart.
//!
//! ```text
//!  start ─ validate (format, source inside --load-dir, mode, dependencies) ─► queue (FIFO ≤ 64)
//!  loader thread: first queued job whose dependencies are done ─► run:
//!     list files ─ classify ─ node files, then relationship files ─► ingest::ingest per file
//!     after each committed batch: counts and the file's progress into the job, JSON to disk
//! ```
//!
//! Job records: `<data-dir>/loader/<loadId>.json`, rewritten (write, fsync, rename) after
//! each committed batch. Before a batch commits, the record notes the store sequence number
//! the batch started from; after a restart a job that was running is `LOAD_FAILED`, and if
//! the store's last committed sequence number shows that the noted batch made it, its
//! records are added — so the counts are exactly what the graph holds. Jobs that were queued
//! are `LOAD_FAILED` too (not restarted). `RESUME`/`AUTO` then continues such a load: files
//! completed by an earlier job of the same source are skipped, and a file cut short is read
//! on after the records already committed.

use std::collections::{HashMap, VecDeque};
use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nereid_common::{Error, ErrorCode};
use nereid_storage::Store;
use serde::{Deserialize, Serialize};

use crate::format::{FileKind, Format};
use crate::ingest::{self, BatchSink, Counts, ErrorLog, FileEnd, IngestOptions};
use crate::reader::{FileReader, OpenError};
use crate::s3::{self, S3Client, S3Config, S3Location};
use crate::source::list_files;

/// Neptune's queue limit (`queueRequest`).
pub const MAX_QUEUE: usize = 64;
/// Error log entries a job keeps (the counters stay exact beyond it).
pub const MAX_ERROR_LOGS: usize = 10_000;

/// Neptune's `ReadOnlyViolationException` message (as a write query gets it).
const READ_ONLY_MESSAGE: &str = "The request is rejected because it violates some read-only restriction, such as a designation of a replica as read-only.";

/// Where the loader writes: the server hands it the store behind its query manager.
pub trait Target: Send + Sync + 'static {
    fn store(&self) -> &Store;
}

impl Target for Store {
    fn store(&self) -> &Store {
        self
    }
}

/// How the loader is set up.
#[derive(Debug, Clone, Default)]
pub struct LoaderConfig {
    /// `--load-dir`: the only directory sources may name; `None` refuses every load.
    pub load_dir: Option<PathBuf>,
    /// Where job records live (`<data-dir>/loader`); `None` keeps them in memory only.
    pub state_dir: Option<PathBuf>,
    /// `--read-only`: every start is refused with `ReadOnlyViolationException`.
    pub read_only: bool,
    /// Records per write transaction; 0 is [`ingest::DEFAULT_BATCH_SIZE`].
    pub batch_size: usize,
    /// `--s3-endpoint`: where `s3://` sources are read; `None` refuses them.
    pub s3: Option<S3Config>,
}

/// `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum Mode {
    New,
    Resume,
    #[default]
    Auto,
}

impl Mode {
    pub fn parse(s: &str) -> Option<Mode> {
        match s.to_ascii_uppercase().as_str() {
            "NEW" => Some(Mode::New),
            "RESUME" => Some(Mode::Resume),
            "AUTO" => Some(Mode::Auto),
            _ => None,
        }
    }
}

/// A start request, as `StartLoaderJob` sends it (already decoded from JSON or a form).
#[derive(Debug, Clone, Default)]
pub struct StartRequest {
    pub source: String,
    pub format: String,
    pub mode: Mode,
    pub fail_on_error: bool,
    pub queue_request: bool,
    pub dependencies: Vec<String>,
    pub user_provided_edge_ids: Option<bool>,
    /// `region`: the region S3 requests are signed for (`None`: the configured one).
    pub region: Option<String>,
    /// `updateSingleCardinalityProperties` (format `csv` only).
    pub update_single_cardinality_properties: bool,
    /// `edgeOnlyLoad`: no first pass reading every file's header to load node files first.
    pub edge_only_load: bool,
}

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

    fn push_error(&mut self, e: ErrorLog) {
        if self.errors.len() < MAX_ERROR_LOGS {
            self.errors.push(e);
        } else {
            self.errors_dropped += 1;
        }
    }
}

struct Job {
    record: Mutex<JobRecord>,
    cancel: AtomicBool,
}

#[derive(Default)]
struct State {
    jobs: HashMap<String, Arc<Job>>,
    queue: VecDeque<String>,
    running: Option<String>,
    next_seq: u64,
    shutdown: bool,
}

struct Shared {
    target: Arc<dyn Target>,
    config: LoaderConfig,
    /// The canonical `--load-dir`.
    load_dir: Option<PathBuf>,
    state: Mutex<State>,
    cv: Condvar,
}

/// The bulk loader service.
pub struct Loader {
    shared: Arc<Shared>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Loader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loader")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn bad_request(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::BadRequest, message)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Loader {
    /// Starts the loader thread, after reading the job records of `config.state_dir` (jobs
    /// that were running or queued when the server stopped become `LOAD_FAILED`).
    pub fn new(target: Arc<dyn Target>, config: LoaderConfig) -> Result<Loader, Error> {
        let load_dir = match &config.load_dir {
            None => None,
            Some(d) => Some(d.canonicalize().map_err(|e| {
                Error::new(
                    ErrorCode::InvalidParameter,
                    format!("--load-dir {}: {e}", d.display()),
                )
            })?),
        };
        let mut state = State::default();
        if let Some(dir) = &config.state_dir {
            fs::create_dir_all(dir).map_err(|e| {
                Error::new(
                    ErrorCode::StorageFailure,
                    format!("cannot create {}: {e}", dir.display()),
                )
            })?;
            let last_seq = target.store().snapshot().seq();
            let mut records = Vec::new();
            for entry in fs::read_dir(dir).map_err(|e| Error::internal(e.to_string()))? {
                let Ok(entry) = entry else { continue };
                let path = entry.path();
                if path.extension().and_then(|e| e.to_str()) != Some("json") {
                    continue;
                }
                match fs::read(&path).map_err(|e| e.to_string()).and_then(|b| {
                    serde_json::from_slice::<JobRecord>(&b).map_err(|e| e.to_string())
                }) {
                    Ok(r) => records.push(r),
                    Err(e) => tracing::warn!("ignoring load job record {}: {e}", path.display()),
                }
            }
            records.sort_by_key(|r| r.seq);
            for mut r in records {
                if !r.is_final() {
                    recover(&mut r, last_seq);
                    write_record(dir, &r);
                }
                state.next_seq = state.next_seq.max(r.seq + 1);
                state.jobs.insert(
                    r.load_id.clone(),
                    Arc::new(Job {
                        record: Mutex::new(r),
                        cancel: AtomicBool::new(false),
                    }),
                );
            }
        }
        let shared = Arc::new(Shared {
            target,
            config,
            load_dir,
            state: Mutex::new(state),
            cv: Condvar::new(),
        });
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("nereid-loader".into())
            .spawn(move || run_loop(&worker))
            .map_err(|e| Error::internal(format!("cannot start the loader thread: {e}")))?;
        Ok(Loader {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// `StartLoaderJob`: validates the request and queues the job; returns its `loadId`.
    pub fn start(&self, req: StartRequest) -> Result<String, Error> {
        let shared = &self.shared;
        if shared.config.read_only {
            return Err(Error::new(ErrorCode::ReadOnlyViolation, READ_ONLY_MESSAGE));
        }
        let format = Format::from_request_name(&req.format).ok_or_else(|| {
            bad_request(format!(
                "format '{}' is not supported: nereid loads 'opencypher' (openCypher CSV) and 'csv' (Gremlin CSV)",
                req.format
            ))
        })?;
        let full_uri = match S3Location::parse(&req.source) {
            Some(location) => {
                let location = location.map_err(bad_request)?;
                if shared.config.s3.is_none() {
                    return Err(bad_request(format!(
                        "source '{}': S3 sources need an S3-compatible endpoint: start the server with --s3-endpoint http://HOST:PORT (or NEREID_S3_ENDPOINT) and the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of that endpoint; or put the files under the server's --load-dir and give their path or a file:// URL",
                        req.source
                    )));
                }
                location.uri()
            }
            None => {
                let path = resolve_source(&req.source, shared.load_dir.as_deref())?;
                format!("file://{}", path.display())
            }
        };
        if req.update_single_cardinality_properties && format != Format::GremlinCsv {
            return Err(bad_request(
                "updateSingleCardinalityProperties is not supported for openCypher data (Neptune supports it for format 'csv' only)",
            ));
        }
        let mut state = lock(&shared.state);
        if state.shutdown {
            return Err(Error::new(
                ErrorCode::ServerShutdown,
                "the server is shutting down",
            ));
        }
        for d in &req.dependencies {
            if !state.jobs.contains_key(d) {
                return Err(bad_request(format!(
                    "dependency '{d}' is not a known load id"
                )));
            }
        }
        let busy = state.running.is_some() || !state.queue.is_empty();
        if busy && !req.queue_request {
            return Err(bad_request("Max concurrent load limit breached"));
        }
        if state.queue.len() >= MAX_QUEUE {
            return Err(bad_request("Max load task queue size limit breached"));
        }
        if req.mode == Mode::Resume {
            let previous = state.jobs.values().any(|j| {
                let r = lock(&j.record);
                r.full_uri == full_uri && r.format.eq_ignore_ascii_case(&req.format)
            });
            if !previous {
                return Err(bad_request(format!(
                    "mode RESUME: there is no previous load of {full_uri} to resume; use NEW or AUTO"
                )));
            }
        }
        let load_id = uuid::Uuid::new_v4().to_string();
        let seq = state.next_seq;
        state.next_seq += 1;
        let record = JobRecord {
            load_id: load_id.clone(),
            source: req.source.clone(),
            full_uri,
            format: if format == Format::OpenCypher {
                "opencypher".into()
            } else {
                "csv".into()
            },
            mode: req.mode,
            fail_on_error: req.fail_on_error,
            user_provided_edge_ids: req.user_provided_edge_ids.unwrap_or(true),
            region: req.region.clone(),
            update_single_cardinality_properties: req.update_single_cardinality_properties,
            edge_only_load: req.edge_only_load,
            dependencies: req.dependencies.clone(),
            status: "LOAD_IN_QUEUE".into(),
            start_time: now_secs(),
            total_time_spent: 0,
            counts: Counts::default(),
            files: Vec::new(),
            errors: Vec::new(),
            errors_dropped: 0,
            pending: None,
            message: None,
            seq,
        };
        if let Some(dir) = &shared.config.state_dir {
            write_record(dir, &record);
        }
        state.jobs.insert(
            load_id.clone(),
            Arc::new(Job {
                record: Mutex::new(record),
                cancel: AtomicBool::new(false),
            }),
        );
        state.queue.push_back(load_id.clone());
        drop(state);
        shared.cv.notify_all();
        tracing::info!(load_id = %load_id, source = %req.source, "load job accepted");
        Ok(load_id)
    }

    /// A copy of a job's record.
    pub fn record(&self, load_id: &str) -> Result<JobRecord, Error> {
        let job = self.job(load_id)?;
        let mut r = lock(&job.record).clone();
        if r.status == "LOAD_IN_PROGRESS" {
            r.total_time_spent = now_secs().saturating_sub(r.start_time);
        }
        Ok(r)
    }

    fn job(&self, load_id: &str) -> Result<Arc<Job>, Error> {
        lock(&self.shared.state)
            .jobs
            .get(load_id)
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::BulkLoadIdNotFound,
                    format!("The load with id = {load_id} does not exist or not active"),
                )
            })
    }

    /// `GetLoaderJobStatus`'s payload.
    pub fn status(
        &self,
        load_id: &str,
        details: bool,
        errors: bool,
        page: u64,
        errors_per_page: u64,
    ) -> Result<serde_json::Value, Error> {
        let r = self.record(load_id)?;
        Ok(status_json(&r, details, errors, page, errors_per_page))
    }

    /// `ListLoaderJobs`: queued loads first, then the others, newest first.
    pub fn list(&self, limit: usize, include_queued: bool) -> Vec<String> {
        let state = lock(&self.shared.state);
        let mut queued: Vec<(u64, String)> = Vec::new();
        let mut others: Vec<(u64, String)> = Vec::new();
        for (id, job) in &state.jobs {
            let r = lock(&job.record);
            if r.status == "LOAD_IN_QUEUE" {
                if include_queued {
                    queued.push((r.seq, id.clone()));
                }
            } else {
                others.push((r.seq, id.clone()));
            }
        }
        queued.sort_by_key(|e| std::cmp::Reverse(e.0));
        others.sort_by_key(|e| std::cmp::Reverse(e.0));
        queued
            .into_iter()
            .chain(others)
            .take(limit)
            .map(|(_, id)| id)
            .collect()
    }

    /// `CancelLoaderJob`: a queued job is cancelled at once, a running one between batches
    /// (what was committed stays). A finished job is not active: like an unknown id it gets
    /// `BulkLoadIdNotFoundException`, whose Neptune wording says "does not exist or not active".
    pub fn cancel(&self, load_id: &str) -> Result<(), Error> {
        let shared = &self.shared;
        let mut state = lock(&shared.state);
        let not_active = || {
            Error::new(
                ErrorCode::BulkLoadIdNotFound,
                format!("The load with id = {load_id} does not exist or not active"),
            )
        };
        let job = state.jobs.get(load_id).cloned().ok_or_else(not_active)?;
        if lock(&job.record).is_final() {
            return Err(not_active());
        }
        if let Some(i) = state.queue.iter().position(|q| q == load_id) {
            state.queue.remove(i);
            let mut r = lock(&job.record);
            r.status = "LOAD_CANCELLED_BY_USER".into();
            if let Some(dir) = &shared.config.state_dir {
                write_record(dir, &r);
            }
        } else if state.running.as_deref() == Some(load_id) {
            job.cancel.store(true, Ordering::Relaxed);
        }
        drop(state);
        shared.cv.notify_all();
        Ok(())
    }

    /// Waits until the job has a final status or `timeout` passes; returns the status.
    pub fn wait(&self, load_id: &str, timeout: Duration) -> Result<String, Error> {
        let job = self.job(load_id)?;
        let deadline = Instant::now() + timeout;
        loop {
            {
                let r = lock(&job.record);
                if r.is_final() || Instant::now() >= deadline {
                    return Ok(r.status.clone());
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stops the loader: a running job is cancelled between batches (and recorded as
    /// cancelled); queued jobs stay queued on disk and are failed at the next start.
    pub fn shutdown(&self) {
        {
            let mut state = lock(&self.shared.state);
            state.shutdown = true;
            if let Some(id) = &state.running {
                if let Some(job) = state.jobs.get(id) {
                    job.cancel.store(true, Ordering::Relaxed);
                }
            }
        }
        self.shared.cv.notify_all();
        if let Some(t) = lock(&self.thread).take() {
            let _ = t.join();
        }
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A job found unfinished at start-up: counts what the store shows was committed.
fn recover(r: &mut JobRecord, last_seq: u64) {
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
fn write_record(dir: &Path, r: &JobRecord) {
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

/// The loader thread: one job at a time, FIFO, after its dependencies.
fn run_loop(shared: &Arc<Shared>) {
    loop {
        let job = {
            let mut state = lock(&shared.state);
            loop {
                if state.shutdown {
                    return;
                }
                if let Some(job) = next_job(shared, &mut state) {
                    break job;
                }
                state = shared
                    .cv
                    .wait_timeout(state, Duration::from_millis(200))
                    .map(|(s, _)| s)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
        };
        run_job(shared, &job);
        let mut state = lock(&shared.state);
        state.running = None;
        drop(state);
        shared.cv.notify_all();
    }
}

/// Takes the first queued job whose dependencies have all completed; fails those with a
/// dependency that did not.
fn next_job(shared: &Shared, state: &mut State) -> Option<Arc<Job>> {
    let mut i = 0;
    while i < state.queue.len() {
        let id = state.queue[i].clone();
        let Some(job) = state.jobs.get(&id).cloned() else {
            state.queue.remove(i);
            continue;
        };
        let deps = lock(&job.record).dependencies.clone();
        let mut ready = true;
        let mut failed = None;
        for d in &deps {
            let status = state
                .jobs
                .get(d)
                .map(|j| lock(&j.record).status.clone())
                .unwrap_or_default();
            match status.as_str() {
                "LOAD_COMPLETED" => {}
                "LOAD_IN_QUEUE" | "LOAD_IN_PROGRESS" | "LOAD_NOT_STARTED" => ready = false,
                _ => failed = Some((d.clone(), status)),
            }
        }
        if let Some((d, status)) = failed {
            state.queue.remove(i);
            let mut r = lock(&job.record);
            r.status = "LOAD_FAILED_BECAUSE_DEPENDENCY_NOT_SATISFIED".into();
            r.message = Some(format!("dependency {d} ended as {status}"));
            if let Some(dir) = &shared.config.state_dir {
                write_record(dir, &r);
            }
            tracing::info!(load_id = %id, dependency = %d, "load job failed: dependency not satisfied");
            continue;
        }
        if ready {
            state.queue.remove(i);
            state.running = Some(id);
            lock(&job.record).status = "LOAD_NOT_STARTED".into();
            return Some(job);
        }
        i += 1;
    }
    None
}

/// Files of earlier loads of the same source: path → records committed, and whether the
/// file was completed.
fn previous_progress(shared: &Shared, me: &JobRecord) -> HashMap<PathBuf, (u64, bool)> {
    let mut out: HashMap<PathBuf, (u64, bool)> = HashMap::new();
    let state = lock(&shared.state);
    let mut earlier: Vec<JobRecord> = state
        .jobs
        .values()
        .filter_map(|j| {
            let r = lock(&j.record);
            (r.load_id != me.load_id && r.full_uri == me.full_uri && r.format == me.format)
                .then(|| r.clone())
        })
        .collect();
    drop(state);
    earlier.sort_by_key(|r| r.seq);
    for r in earlier {
        for f in r.files {
            let e = out.entry(f.path.clone()).or_insert((0, false));
            if f.status == "LOAD_COMPLETED" {
                *e = (f.records_committed, true);
            } else if !e.1 {
                e.0 = e.0.max(f.records_committed);
            }
        }
    }
    out
}

struct Sink<'a> {
    shared: &'a Shared,
    job: &'a Job,
    file: usize,
}

impl BatchSink for Sink<'_> {
    fn before_commit(&mut self, base_seq: u64, records_through: u64) {
        let mut r = lock(&self.job.record);
        r.pending = Some(PendingBatch {
            file: self.file,
            base_seq,
            records_through,
        });
        if let Some(dir) = &self.shared.config.state_dir {
            write_record(dir, &r);
        }
    }

    fn committed(&mut self, batch: ingest::Batch) {
        let mut r = lock(&self.job.record);
        r.pending = None;
        r.counts.add(&batch.counts);
        let f = &mut r.files[self.file];
        f.counts.add(&batch.counts);
        f.records_committed = f.records_committed.max(batch.records_through);
        for e in batch.errors {
            r.push_error(e);
        }
        if let Some(dir) = &self.shared.config.state_dir {
            write_record(dir, &r);
        }
    }
}

fn run_job(shared: &Shared, job: &Job) {
    let started = Instant::now();
    let snapshot = {
        let mut r = lock(&job.record);
        r.status = "LOAD_IN_PROGRESS".into();
        r.start_time = now_secs();
        r.clone()
    };
    let outcome = run_files(shared, job, &snapshot);
    let mut r = lock(&job.record);
    r.total_time_spent = started.elapsed().as_secs();
    r.status = match outcome {
        Ok(status) => status.into(),
        Err(e) => {
            r.message = Some(e.message.clone());
            "LOAD_UNEXPECTED_ERROR".into()
        }
    };
    if let Some(dir) = &shared.config.state_dir {
        write_record(dir, &r);
    }
    let secs = started.elapsed().as_secs_f64();
    tracing::info!(
        load_id = %r.load_id,
        source = %r.full_uri,
        status = %r.status,
        files = r.files.len(),
        total_records = r.counts.total_records,
        total_duplicates = r.counts.total_duplicates,
        parsing_errors = r.counts.parsing_errors,
        datatype_mismatch_errors = r.counts.datatype_mismatch_errors,
        insert_errors = r.counts.insert_errors,
        seconds = format!("{secs:.2}"),
        records_per_second = (r.counts.total_records as f64 / secs.max(1e-9)) as u64,
        "load job finished"
    );
}

/// Where a job's files are.
enum Origin {
    Local(PathBuf),
    S3(S3Client, S3Location),
}

/// One file of a job: a local path, or an S3 object (its key).
enum Feed {
    Local(PathBuf),
    S3(String),
}

/// A file that cannot be opened: the feed status it gets and the error log entry.
struct OpenFailure {
    status: &'static str,
    log: ErrorLog,
}

impl Origin {
    fn of(shared: &Shared, me: &JobRecord) -> Result<Origin, String> {
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
                    S3Client::new(config, me.region.as_deref()),
                    location,
                ))
            }
        }
    }

    /// The job's files in source order. Local ones are checked against `--load-dir` again
    /// (a symbolic link may point out of it).
    fn list(&self, load_dir: &Path) -> Result<Vec<Feed>, (&'static str, String)> {
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

    fn open(&self, feed: &Feed, format: Format) -> Result<FileReader, OpenFailure> {
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
    fn record_path(&self, feed: &Feed) -> PathBuf {
        match feed {
            Feed::Local(p) => p.clone(),
            Feed::S3(_) => PathBuf::from(self.uri(feed)),
        }
    }

    fn uri(&self, feed: &Feed) -> String {
        match (self, feed) {
            (_, Feed::Local(p)) => format!("file://{}", p.display()),
            (Origin::S3(_, location), Feed::S3(key)) => s3::object_uri(&location.bucket, key),
            (Origin::Local(_), Feed::S3(key)) => key.clone(),
        }
    }
}

/// The `fullUri` of a file record: `s3://…` as stored, a local path as a `file://` URL.
fn feed_uri(path: &Path) -> String {
    let text = path.to_string_lossy();
    if text.starts_with("s3://") {
        text.into_owned()
    } else {
        format!("file://{}", path.display())
    }
}

fn run_files(shared: &Shared, job: &Job, me: &JobRecord) -> Result<&'static str, Error> {
    let format = Format::from_request_name(&me.format).unwrap_or(Format::OpenCypher);
    let fail = |message: String| {
        let mut r = lock(&job.record);
        let file_name = r.full_uri.clone();
        r.push_error(ErrorLog {
            error_code: "FILE_READ_ERROR".into(),
            error_message: message.clone(),
            file_name,
            record_num: 0,
        });
        r.message = Some(message);
    };
    let origin = match Origin::of(shared, me) {
        Ok(o) => o,
        Err(message) => {
            fail(message);
            return Ok("LOAD_FAILED");
        }
    };
    let load_dir = shared.load_dir.clone().unwrap_or_default();
    let files = match origin.list(&load_dir) {
        Ok(f) => f,
        Err((status, message)) => {
            let mut r = lock(&job.record);
            let file_name = r.full_uri.clone();
            r.push_error(ErrorLog {
                error_code: status.trim_start_matches("LOAD_").into(),
                error_message: message.clone(),
                file_name,
                record_num: 0,
            });
            r.message = Some(message);
            return Ok("LOAD_FAILED");
        }
    };
    if files.is_empty() {
        fail(format!("the source {} names no files", me.full_uri));
        return Ok("LOAD_FAILED");
    }
    // Neptune reads every file first to load the node files before the relationship files;
    // `edgeOnlyLoad` skips that pass and loads the files in source order.
    let ordered: Vec<Feed> = if me.edge_only_load {
        files
    } else {
        let mut nodes = Vec::new();
        let mut rels = Vec::new();
        for f in files {
            match origin.open(&f, format).map(|r| r.kind()) {
                Ok(FileKind::Relationship) => rels.push(f),
                // A file that cannot be opened fails when its turn comes.
                _ => nodes.push(f),
            }
        }
        nodes.extend(rels);
        nodes
    };
    let previous = if me.mode == Mode::New {
        HashMap::new()
    } else {
        previous_progress(shared, me)
    };
    {
        let mut r = lock(&job.record);
        r.files = ordered
            .iter()
            .map(|f| FileRecord {
                path: origin.record_path(f),
                status: "LOAD_NOT_STARTED".into(),
                counts: Counts::default(),
                records_committed: 0,
                time_spent: 0,
            })
            .collect();
    }
    let options = IngestOptions {
        format,
        fail_on_error: me.fail_on_error,
        user_provided_edge_ids: me.user_provided_edge_ids,
        batch_size: if shared.config.batch_size == 0 {
            ingest::DEFAULT_BATCH_SIZE
        } else {
            shared.config.batch_size
        },
        update_single_cardinality_properties: me.update_single_cardinality_properties,
    };
    let store = shared.target.store();
    let mut any_failed = false;
    for (i, feed) in ordered.iter().enumerate() {
        if job.cancel.load(Ordering::Relaxed) {
            return Ok("LOAD_CANCELLED_BY_USER");
        }
        let display = origin.uri(feed);
        let path = origin.record_path(feed);
        let (skip, done) = previous.get(&path).copied().unwrap_or((0, false));
        if done {
            let mut r = lock(&job.record);
            r.files[i].status = "LOAD_COMPLETED".into();
            r.files[i].records_committed = skip;
            continue;
        }
        let file_started = Instant::now();
        lock(&job.record).files[i].status = "LOAD_IN_PROGRESS".into();
        let mut open_status = None;
        let end = match origin.open(feed, format) {
            Err(failure) => {
                open_status = Some(failure.status);
                lock(&job.record).push_error(failure.log);
                FileEnd::Failed
            }
            Ok(reader) => {
                {
                    let mut r = lock(&job.record);
                    r.files[i].records_committed = skip;
                }
                let mut sink = Sink {
                    shared,
                    job,
                    file: i,
                };
                ingest::ingest(
                    store,
                    reader,
                    &display,
                    skip,
                    &options,
                    &job.cancel,
                    &mut sink,
                )?
            }
        };
        let mut r = lock(&job.record);
        r.files[i].time_spent = file_started.elapsed().as_secs();
        let had_errors = r.files[i].counts.errors() > 0;
        r.files[i].status = match end {
            FileEnd::Done if !had_errors => "LOAD_COMPLETED",
            FileEnd::Cancelled => "LOAD_CANCELLED_BY_USER",
            _ => open_status.unwrap_or("LOAD_FAILED"),
        }
        .into();
        drop(r);
        match end {
            FileEnd::Cancelled => return Ok("LOAD_CANCELLED_BY_USER"),
            FileEnd::Failed if me.fail_on_error => return Ok("LOAD_FAILED"),
            FileEnd::Failed => any_failed = true,
            FileEnd::Done => any_failed |= had_errors,
        }
    }
    Ok(if any_failed {
        "LOAD_FAILED"
    } else {
        "LOAD_COMPLETED"
    })
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
