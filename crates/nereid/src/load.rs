//! `nereid load`: the bulk loader offline, into a stopped database — the same job, ingestion
//! and status figures as `POST /loader`, with a progress line on a terminal.
//!
//! The data directory's lock keeps a running server out while the load runs (and the load
//! out while a server runs). The job record lands in `<data-dir>/loader/` like one started
//! over HTTP, so a server started later lists it and `mode=RESUME` can finish it.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use nereid_engine::{Database, DbConfig};
use nereid_loader::{list_files, Loader, LoaderConfig, Mode, Parallelism, StartRequest, Target};

#[derive(Args, Debug)]
pub struct LoadArgs {
    /// The database to load into (created if missing); no server may have it open.
    #[arg(long, env = "NEREID_DATA_DIR", default_value = "./nereid-data")]
    data_dir: PathBuf,

    /// A file or a folder of `.csv` / `.csv.gz` files.
    #[arg(long)]
    source: PathBuf,

    /// `opencypher` (openCypher CSV) or `csv` (Neptune's Gremlin CSV).
    #[arg(long, default_value = "opencypher")]
    format: String,

    /// `NEW`, `RESUME` (skip files an earlier load of this source finished) or `AUTO`.
    #[arg(long, default_value = "AUTO")]
    mode: String,

    /// Stop at the first bad record (`true`, Neptune's default) or count it and go on.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    fail_on_error: bool,

    /// Relationship files carry an `:ID` column (`true`, Neptune's default for openCypher)
    /// or not, and get generated ids.
    #[arg(long, action = clap::ArgAction::Set)]
    user_provided_edge_ids: Option<bool>,

    /// Format `csv`: a single-cardinality value for a vertex or edge already in the graph
    /// replaces the one it has (`true`) or is an error (`false`, Neptune's default).
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    update_single_cardinality_properties: bool,

    /// Load the files in source order, without first reading every header to load node
    /// files before relationship files (Neptune's `edgeOnlyLoad`).
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    edge_only_load: bool,

    /// `LOW`: the whole load on one thread, leaving the other cores alone; `MEDIUM`, `HIGH`
    /// or `OVERSUBSCRIBE`: reading, writing and waiting for fsyncs on threads of their own
    #[arg(long, default_value = "HIGH")]
    parallelism: String,

    /// Record the load's commits in the change stream (as `nereid serve --streams` does).
    #[command(flatten)]
    streams: crate::StreamArgs,
}

struct DbTarget(Database);

impl Target for DbTarget {
    fn store(&self) -> &nereid_storage::Store {
        self.0.store()
    }
}

/// Runs the load; the exit status is an error unless the job is `LOAD_COMPLETED`.
pub fn load(args: LoadArgs) -> anyhow::Result<()> {
    let mode = Mode::parse(&args.mode)
        .with_context(|| format!("--mode must be NEW, RESUME or AUTO, not '{}'", args.mode))?;
    let parallelism = Parallelism::parse(&args.parallelism).with_context(|| {
        format!(
            "--parallelism must be LOW, MEDIUM, HIGH or OVERSUBSCRIBE, not '{}'",
            args.parallelism
        )
    })?;
    let source = args
        .source
        .canonicalize()
        .with_context(|| format!("cannot read {}", args.source.display()))?;
    // The operator names the source on the command line: the folder it is in (or the
    // folder itself) is the load directory.
    let load_dir = if source.is_dir() {
        source.clone()
    } else {
        source.parent().map(PathBuf::from).unwrap_or_default()
    };
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    let database = Database::open(DbConfig {
        data_dir: Some(args.data_dir.clone()),
    })
    .with_context(|| format!("cannot open database in {}", args.data_dir.display()))?;
    args.streams.apply(database.store())?;
    let loader = Loader::new(
        Arc::new(DbTarget(database)),
        LoaderConfig {
            load_dir: Some(load_dir),
            state_dir: Some(args.data_dir.join("loader")),
            read_only: false,
            batch_size: 0,
            s3: None,
        },
    )?;
    let terminal = std::io::stderr().is_terminal();
    // Counting reads every file once more before the load (0.05-0.15 s for the 1.3M
    // records of a 0.8 s load): only for the progress line, which only a terminal shows.
    let expected = if terminal {
        count_records(&source)
    } else {
        None
    };
    let load_id = loader.start(StartRequest {
        source: source.display().to_string(),
        format: args.format.clone(),
        mode,
        fail_on_error: args.fail_on_error,
        queue_request: false,
        dependencies: Vec::new(),
        user_provided_edge_ids: args.user_provided_edge_ids,
        region: None,
        update_single_cardinality_properties: args.update_single_cardinality_properties,
        edge_only_load: args.edge_only_load,
        parallelism,
    })?;
    let started = Instant::now();
    let record = loop {
        let record = loader.record(&load_id)?;
        if terminal {
            progress(record.counts.total_records, expected, started.elapsed());
        }
        if record.is_final() {
            break record;
        }
        // Returns as soon as the job ends (a sleep here made every load look up to 0.2 s
        // longer than it was).
        loader.wait(&load_id, Duration::from_millis(200))?;
    };
    if terminal {
        eprintln!();
    }
    let seconds = started.elapsed().as_secs_f64();
    let status = loader.status(&load_id, true, true, 1, 10)?;
    loader.shutdown();
    // The same document as `GET /loader/{loadId}?details=true&errors=true`.
    let response = serde_json::json!({"status": "200 OK", "payload": status});
    println!("{}", serde_json::to_string_pretty(&response)?);
    eprintln!(
        "{}: {} records in {seconds:.2} s ({:.0} records/s)",
        record.status,
        record.counts.total_records,
        record.counts.total_records as f64 / seconds.max(1e-9)
    );
    anyhow::ensure!(
        record.status == "LOAD_COMPLETED",
        "load {load_id} ended {}",
        record.status
    );
    Ok(())
}

/// Data rows in the source's plain `.csv` files, for the ETA (a `.gz` file makes it unknown).
fn count_records(source: &std::path::Path) -> Option<u64> {
    let mut total = 0u64;
    for file in list_files(source).ok()? {
        if file.extension().is_some_and(|e| e == "gz") {
            return None;
        }
        let bytes = std::fs::read(&file).ok()?;
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        let unterminated = u64::from(bytes.last().is_some_and(|&b| b != b'\n'));
        // The header row is not a record.
        total += (lines + unterminated).saturating_sub(1);
    }
    Some(total)
}

fn progress(done: u64, expected: Option<u64>, elapsed: Duration) {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let rate = done as f64 / secs;
    let mut line = format!("\r{done} records, {rate:.0} records/s");
    if let Some(total) = expected.filter(|&t| t > 0) {
        let fraction = (done as f64 / total as f64).min(1.0);
        let width = 30;
        let filled = (fraction * width as f64) as usize;
        let eta = if rate > 0.0 {
            format!("{:.0} s", total.saturating_sub(done) as f64 / rate)
        } else {
            "?".into()
        };
        line = format!(
            "\r[{}{}] {:>3.0}% {done}/{total} records, {rate:.0} records/s, ETA {eta}   ",
            "#".repeat(filled),
            " ".repeat(width - filled),
            fraction * 100.0
        );
    }
    let mut err = std::io::stderr();
    let _ = err.write_all(line.as_bytes());
    let _ = err.flush();
}
