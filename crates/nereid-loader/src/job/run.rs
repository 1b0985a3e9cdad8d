//! The loader thread: one job at a time, the first queued one whose dependencies are done.
//! A run lists the job's files, puts node files before relationship files (unless
//! `edgeOnlyLoad`), skips what earlier loads of the same source committed, ingests each file,
//! and after each committed batch writes the counts and the file's progress into the job
//! record (`Sink`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nereid_common::Error;

use crate::format::{FileKind, Format};
use crate::ingest::{self, BatchSink, Counts, ErrorLog, FileEnd, IngestOptions};
use crate::reader::FileReader;

use super::feed::{Feed, Origin};
use super::record::write_record;
use super::{lock, now_secs, FileRecord, Job, JobRecord, Mode, PendingBatch, Shared, State};

/// The loader thread: one job at a time, FIFO, after its dependencies.
pub(super) fn run_loop(shared: &Arc<Shared>) {
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

/// A file in its turn: opened now, or already being read (started in the turn before).
enum Opened {
    File(FileReader),
    Reading(ingest::ReadAhead),
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
    // A cancel ends the S3 client's waits with an error: a failure seen after it is the
    // cancel's doing, and the job is cancelled, with nothing of it in the error log.
    let cancelled = || job.cancel.load(Ordering::Relaxed);
    let origin = match Origin::of(shared, me, &job.cancel) {
        Ok(o) => o,
        Err(message) => {
            fail(message);
            return Ok("LOAD_FAILED");
        }
    };
    let load_dir = shared.load_dir.clone().unwrap_or_default();
    let files = match origin.list(&load_dir) {
        Ok(f) => f,
        Err(_) if cancelled() => return Ok("LOAD_CANCELLED_BY_USER"),
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
            if cancelled() {
                return Ok("LOAD_CANCELLED_BY_USER");
            }
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
        pipelined: me.parallelism.pipelined(),
    };
    let store = shared.target.store();
    let mut any_failed = false;
    // Files already done by an earlier run of a RESUME, and where the others start.
    let progress: Vec<(u64, bool)> = ordered
        .iter()
        .map(|f| {
            previous
                .get(&origin.record_path(f))
                .copied()
                .unwrap_or((0, false))
        })
        .collect();
    let outcome = std::thread::scope(|scope| -> Result<Option<&'static str>, Error> {
        // The next file, queued for reading when a file's writing starts (see Readers).
        let readers = if options.pipelined {
            Some(ingest::Readers::start(scope)?)
        } else {
            None
        };
        let mut next: Option<(usize, ingest::ReadAhead)> = None;
        for (i, feed) in ordered.iter().enumerate() {
            if cancelled() {
                return Ok(Some("LOAD_CANCELLED_BY_USER"));
            }
            let display = origin.uri(feed);
            let (skip, done) = progress[i];
            if done {
                let mut r = lock(&job.record);
                r.files[i].status = "LOAD_COMPLETED".into();
                r.files[i].records_committed = skip;
                continue;
            }
            let file_started = Instant::now();
            lock(&job.record).files[i].status = "LOAD_IN_PROGRESS".into();
            let ahead = match next.take() {
                Some((j, ahead)) if j == i => Some(ahead),
                _ => None,
            };
            let opened = match (ahead, &readers) {
                (Some(ahead), _) => Ok(Opened::Reading(ahead)),
                (None, Some(readers)) => origin
                    .open(feed, format)
                    .map(|reader| Opened::Reading(readers.read(store, reader, skip))),
                (None, None) => origin.open(feed, format).map(Opened::File),
            };
            if let (Ok(_), Some(readers)) = (&opened, &readers) {
                // A file that cannot be opened now is opened again (and fails) in its turn.
                next = (i + 1..ordered.len())
                    .find(|&j| !progress[j].1)
                    .and_then(|j| {
                        let reader = origin.open(&ordered[j], format).ok()?;
                        Some((j, readers.read(store, reader, progress[j].0)))
                    });
            }
            let mut open_status = None;
            let end = match opened {
                Err(_) if cancelled() => FileEnd::Cancelled,
                Err(failure) => {
                    open_status = Some(failure.status);
                    lock(&job.record).push_error(failure.log);
                    FileEnd::Failed
                }
                Ok(opened) => {
                    {
                        let mut r = lock(&job.record);
                        r.files[i].records_committed = skip;
                    }
                    let mut sink = Sink {
                        shared,
                        job,
                        file: i,
                    };
                    match opened {
                        Opened::File(reader) => ingest::ingest(
                            store,
                            reader,
                            &display,
                            skip,
                            &options,
                            &job.cancel,
                            &mut sink,
                        )?,
                        Opened::Reading(ahead) => ingest::ingest_read_ahead(
                            store,
                            ahead,
                            &display,
                            &options,
                            &job.cancel,
                            &mut sink,
                        )?,
                    }
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
                FileEnd::Cancelled => return Ok(Some("LOAD_CANCELLED_BY_USER")),
                FileEnd::Failed if me.fail_on_error => return Ok(Some("LOAD_FAILED")),
                FileEnd::Failed => any_failed = true,
                FileEnd::Done => any_failed |= had_errors,
            }
        }
        Ok(None)
    })?;
    if let Some(status) = outcome {
        return Ok(status);
    }
    Ok(if any_failed {
        "LOAD_FAILED"
    } else {
        "LOAD_COMPLETED"
    })
}
