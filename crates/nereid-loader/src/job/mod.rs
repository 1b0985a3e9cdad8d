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

mod feed;
mod record;
mod run;

use std::collections::{HashMap, VecDeque};
use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nereid_common::{Error, ErrorCode};
use nereid_storage::Store;
use serde::{Deserialize, Serialize};

use crate::format::Format;
use crate::ingest::Counts;
use crate::s3::{S3Config, S3Location};

pub use feed::resolve_source;
pub use record::{status_json, FileRecord, JobRecord, PendingBatch};

use record::{recover, write_record};
use run::run_loop;

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
    /// Records per write transaction; 0 is [`ingest::DEFAULT_BATCH_SIZE`](crate::ingest::DEFAULT_BATCH_SIZE).
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

/// `parallelism`: how many threads a load keeps busy.
///
/// `LOW` runs the whole load on the loader's one thread (read, parse, write, wait for each
/// fsync), leaving the other cores to queries, as Neptune's `LOW` uses one thread. The
/// others (the default is `HIGH`, as in the service model) run the pipeline: one thread
/// reads and parses, one writes, and a third waits for each batch's fsync while the next
/// is built. Those are the load's stages, so more threads than that would have nothing to
/// do: `MEDIUM`, `HIGH` and `OVERSUBSCRIBE` are the same here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum Parallelism {
    Low,
    Medium,
    #[default]
    High,
    Oversubscribe,
}

impl Parallelism {
    pub fn parse(s: &str) -> Option<Parallelism> {
        match s.to_ascii_uppercase().as_str() {
            "LOW" => Some(Parallelism::Low),
            "MEDIUM" => Some(Parallelism::Medium),
            "HIGH" => Some(Parallelism::High),
            "OVERSUBSCRIBE" => Some(Parallelism::Oversubscribe),
            _ => None,
        }
    }

    /// Whether the load runs as the three-thread pipeline (else on one thread).
    pub fn pipelined(self) -> bool {
        self != Parallelism::Low
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
    pub parallelism: Parallelism,
}

struct Job {
    record: Mutex<JobRecord>,
    /// Set by `cancel`; shared with the job's S3 client, whose waits end when it is set.
    cancel: Arc<AtomicBool>,
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
                        cancel: Arc::new(AtomicBool::new(false)),
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
            parallelism: req.parallelism,
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
                cancel: Arc::new(AtomicBool::new(false)),
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
