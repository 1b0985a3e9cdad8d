//! The `nereid` binary: command line, logging and wiring.
//!
//! `nereid serve` opens the database (embedded, under `--data-dir`, or `--in-memory`), starts
//! the query manager's worker pool, and serves the Neptune REST API on `--http-addr` until
//! SIGTERM or SIGINT. Every flag can also be given as a `NEREID_*` environment variable.
//! Logs go to stderr (level from `RUST_LOG`, default `info`); the line
//! `listening on http://ADDR` (`https://` with TLS) announces readiness with the real address
//! (useful with port 0).
//!
//! Security: `--auth iam --iam-config FILE` (SigV4 + IAM policies, `nereid-sigv4`),
//! `--tls-cert`/`--tls-key` (HTTPS), `--read-only`, and `--query-memory-mb` (per-query
//! memory budget). `--streams` records every commit in the change stream served by
//! `GET /propertygraph/stream` (`--streams-expiry-days` of retention).
//! `--load-dir DIR` lets the bulk loader (`/loader`) read files under DIR;
//! its job records live in `<data-dir>/loader`. `nereid load` runs the same loader offline. A bad IAM config or TLS file stops start-up with a message naming it.

mod load;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use nereid_engine::manager::{ManagerConfig, QueryManager};
use nereid_engine::{Database, DbConfig, Dialect};
use nereid_http::HttpConfig;
use nereid_loader::{Loader, LoaderConfig};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "nereid",
    version,
    about = "An openCypher graph database that speaks the Amazon Neptune API"
)]
struct Cli {
    /// Log lines as `text` or `json` (one object per line).
    #[arg(long, global = true, env = "NEREID_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Neptune data-plane HTTP API.
    Serve(ServeArgs),
    /// Bulk-load openCypher CSV or Gremlin CSV files into a stopped database.
    Load(load::LoadArgs),
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Address (host:port) to listen on; port 0 picks a free port.
    #[arg(long, env = "NEREID_HTTP_ADDR", default_value = "127.0.0.1:8182")]
    http_addr: String,

    /// Directory holding the database files (created if missing).
    #[arg(long, env = "NEREID_DATA_DIR", default_value = "./nereid-data")]
    data_dir: PathBuf,

    /// Keep all data in memory only (nothing is written; --data-dir is ignored).
    /// The environment variable takes true/false, yes/no, on/off or 1/0.
    #[arg(long, env = "NEREID_IN_MEMORY", value_parser = clap::builder::BoolishValueParser::new())]
    in_memory: bool,

    /// Query timeout in milliseconds, counted from acceptance; 0 = no limit. A query's
    /// `USING QUERY:TIMEOUTMILLISECONDS n` can only shorten it.
    #[arg(long, env = "NEREID_QUERY_TIMEOUT_MS", default_value_t = 120_000)]
    query_timeout_ms: u64,

    /// Queries that run at once, each on its own thread [default: number of cores].
    #[arg(long, env = "NEREID_WORKERS", value_parser = clap::value_parser!(u32).range(1..))]
    workers: Option<u32>,

    /// Queries that may wait for a worker; beyond that, ThrottlingException.
    #[arg(long, env = "NEREID_QUEUE_SIZE", default_value_t = 8192, value_parser = clap::value_parser!(u32).range(1..))]
    queue_size: u32,

    /// Authentication: `none` accepts unsigned requests; `iam` requires AWS SigV4 signatures
    /// (service `neptune-db`) by a user of --iam-config whose policy allows the operation.
    #[arg(long, env = "NEREID_AUTH", value_enum, default_value_t = AuthMode::None)]
    auth: AuthMode,

    /// The users, keys and policies for --auth iam (JSON; see the README).
    #[arg(long, env = "NEREID_IAM_CONFIG", required_if_eq("auth", "iam"))]
    iam_config: Option<PathBuf>,

    /// PEM certificate chain: serve HTTPS instead of HTTP (needs --tls-key).
    #[arg(long, env = "NEREID_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,

    /// PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "NEREID_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,

    /// Reject every query that could write with ReadOnlyViolationException, before it runs.
    /// The environment variable takes true/false, yes/no, on/off or 1/0.
    #[arg(long, env = "NEREID_READ_ONLY", value_parser = clap::builder::BoolishValueParser::new())]
    read_only: bool,

    /// Memory one query may hold (rows kept for sorting, aggregation, DISTINCT, writes and
    /// the result), in MiB; beyond it the query fails with MemoryLimitExceededException.
    #[arg(long, env = "NEREID_QUERY_MEMORY_MB", default_value_t = 2048, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    query_memory_mb: u64,

    /// The openCypher served: `neptune` (Amazon Neptune's: default label `vertex`, its
    /// extra functions, and what Neptune refuses refused with Neptune's error) or
    /// `opencypher` (the full language). See the README's table of differences.
    #[arg(long, env = "NEREID_DIALECT", value_enum, default_value_t = DialectArg::Neptune)]
    dialect: DialectArg,

    /// The directory the bulk loader (`POST /loader`) may read: a load's `source` (a path or
    /// a `file://` URL) must lie inside it. Without it every load is refused.
    #[arg(long, env = "NEREID_LOAD_DIR")]
    load_dir: Option<PathBuf>,
    /// Log one structured line (target `nereid::slow_query`) for every query whose waited +
    /// elapsed time reaches this many milliseconds; 0 turns the slow-query log off.
    #[arg(long, env = "NEREID_SLOW_QUERY_MS", default_value_t = nereid_http::DEFAULT_SLOW_QUERY_MS)]
    slow_query_ms: u64,

    /// Bolt (neo4j drivers) is always served on the HTTP port; this adds a Bolt-only listener
    /// (e.g. 127.0.0.1:7687).
    #[arg(long, env = "NEREID_BOLT_ADDR")]
    bolt_addr: Option<String>,

    /// Bolt connections served at once; a new one beyond this is closed.
    #[arg(long, env = "NEREID_BOLT_MAX_CONNECTIONS", default_value_t = nereid_http::sniff::DEFAULT_BOLT_MAX_CONNECTIONS)]
    bolt_max_connections: usize,

    /// Explicit (Bolt BEGIN … COMMIT) transactions still open this many milliseconds after
    /// BEGIN are rolled back; 0 = no limit. A driver's transaction timeout can only shorten it.
    #[arg(long, env = "NEREID_TRANSACTION_TIMEOUT_MS", default_value_t = nereid_http::bolt::DEFAULT_TRANSACTION_TIMEOUT_MS)]
    transaction_timeout_ms: u64,

    /// How long a write waits for the write lock while an open explicit transaction holds it,
    /// before it fails with ConcurrentModificationException (retryable; Bolt drivers retry it).
    #[arg(long, env = "NEREID_LOCK_WAIT_MS", default_value_t = nereid_engine::transaction::DEFAULT_LOCK_WAIT.as_millis() as u64)]
    lock_wait_ms: u64,

    #[command(flatten)]
    streams: StreamArgs,
}

/// The change stream (Neptune Streams), for `serve` and `load`.
#[derive(Args, Debug, Clone, Copy)]
pub(crate) struct StreamArgs {
    /// Record every committed change in the change stream and serve it at
    /// `GET /propertygraph/stream` (Neptune's `neptune_streams`). Off: nothing is recorded
    /// and the route answers UnsupportedOperationException.
    /// The environment variable takes true/false, yes/no, on/off or 1/0.
    #[arg(long, env = "NEREID_STREAMS", value_parser = clap::builder::BoolishValueParser::new())]
    pub streams: bool,

    /// How long stream records are kept, in days (fractions allowed; Neptune's
    /// `neptune_streams_expiry_days`).
    #[arg(long, env = "NEREID_STREAMS_EXPIRY_DAYS", default_value_t = 7.0, value_parser = parse_expiry_days)]
    pub streams_expiry_days: f64,
}

impl StreamArgs {
    /// Turns the store's change stream on when asked.
    pub(crate) fn apply(&self, store: &nereid_storage::Store) -> anyhow::Result<()> {
        if self.streams {
            let expiry = std::time::Duration::from_secs_f64(self.streams_expiry_days * 86_400.0);
            store
                .enable_streams(expiry)
                .context("cannot start the change stream")?;
            tracing::info!(expiry_days = self.streams_expiry_days, "change stream on");
        }
        Ok(())
    }
}

fn parse_expiry_days(s: &str) -> Result<f64, String> {
    let days: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number of days"))?;
    if days.is_finite() && days > 0.0 && days <= 36_500.0 {
        Ok(days)
    } else {
        Err(format!(
            "'{s}' days: the retention must be more than 0 and at most 36500 days"
        ))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum DialectArg {
    /// Amazon Neptune's openCypher.
    Neptune,
    /// The full openCypher language.
    Opencypher,
}

impl From<DialectArg> for Dialect {
    fn from(d: DialectArg) -> Dialect {
        match d {
            DialectArg::Neptune => Dialect::Neptune,
            DialectArg::Opencypher => Dialect::OpenCypher,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum AuthMode {
    /// Unsigned requests are accepted (Neptune with IAM authentication off).
    None,
    /// Every request must be SigV4-signed and allowed by the signer's policy.
    Iam,
}

fn main() -> anyhow::Result<()> {
    limit_malloc_arenas();
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        // Colours only for a person at a terminal; tests and log files read plain text.
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => logs.json().with_ansi(false).init(),
    }
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Load(args) => load::load(args),
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    // Configuration errors stop the server before it opens the database or listens.
    let iam = match (args.auth, &args.iam_config) {
        (AuthMode::None, Some(_)) => {
            anyhow::bail!("--iam-config is only used with --auth iam")
        }
        (AuthMode::None, None) => None,
        (AuthMode::Iam, None) => anyhow::bail!("--auth iam needs --iam-config FILE"),
        (AuthMode::Iam, Some(path)) => {
            let config = nereid_sigv4::IamConfig::load(path)
                .with_context(|| format!("cannot use IAM config {}", path.display()))?;
            Some(Arc::new(config))
        }
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(nereid_http::tls::load_config(cert, key)?),
        (None, None) => None,
        _ => anyhow::bail!("--tls-cert and --tls-key go together"),
    };
    let memory_limit = usize::try_from(args.query_memory_mb.saturating_mul(1024 * 1024))
        .context("--query-memory-mb is too large for this machine")?;
    let database = if args.in_memory {
        tracing::info!("database in memory");
        Database::in_memory()
    } else {
        std::fs::create_dir_all(&args.data_dir)
            .with_context(|| format!("cannot create data directory {}", args.data_dir.display()))?;
        tracing::info!(data_dir = %args.data_dir.display(), "opening database");
        let database = Database::open(DbConfig {
            data_dir: Some(args.data_dir.clone()),
        })
        .with_context(|| format!("cannot open database in {}", args.data_dir.display()))?;
        // What recovery found and did (a torn log tail cut off, leftovers removed).
        let report = database.store().open_report();
        for message in &report.messages {
            tracing::warn!("{message}");
        }
        tracing::info!(
            checkpoint = ?report.checkpoint_seq,
            replayed = report.replayed,
            last_commit = report.last_seq,
            "database opened"
        );
        database
    };
    args.streams.apply(database.store())?;
    // The route reads the stream through its own handle (the manager owns the database).
    let streams = args.streams.streams.then(|| database.store().streams());
    let database = database
        .with_read_only(args.read_only)
        .with_query_memory_limit(memory_limit)
        .with_dialect(args.dialect.into())
        .with_lock_wait(std::time::Duration::from_millis(args.lock_wait_ms));
    tracing::info!(
        dialect = Dialect::from(args.dialect).as_str(),
        "openCypher dialect"
    );
    tracing::info!(
        auth = ?args.auth,
        read_only = args.read_only,
        query_memory_mb = args.query_memory_mb,
        tls = tls.is_some(),
        "security settings"
    );
    let defaults = ManagerConfig::default();
    let config = ManagerConfig {
        workers: args.workers.map_or(defaults.workers, |w| w as usize),
        queue_size: args.queue_size as usize,
        query_timeout_ms: args.query_timeout_ms,
    };
    let manager = Arc::new(QueryManager::new(database, config)?);
    let loader = Arc::new(
        Loader::new(
            Arc::new(LoadTarget(manager.clone())),
            LoaderConfig {
                load_dir: args.load_dir.clone(),
                // Job records live beside the data, so a status survives a restart.
                state_dir: (!args.in_memory).then(|| args.data_dir.join("loader")),
                read_only: args.read_only,
                batch_size: 0,
            },
        )
        .context("cannot start the bulk loader")?,
    );
    tracing::info!(
        load_dir = args.load_dir.as_ref().map(|d| d.display().to_string()),
        "bulk loader ready"
    );
    tracing::info!(
        workers = config.workers,
        queue_size = config.queue_size,
        query_timeout_ms = config.query_timeout_ms,
        "query manager ready"
    );

    // This runtime only waits for the shutdown signal and serves `--bolt-addr`: the HTTP
    // port is served by one single-threaded runtime per core (`nereid_http::per_core`).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_stack_size(nereid_engine::manager::QUERY_THREAD_STACK)
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(64));
        let listeners = bind_http(&args.http_addr, threads).await?;
        let addr = listeners[0].local_addr()?;
        let connections = Arc::new(nereid_http::metrics::Connections::default());
        let bolt = nereid_http::sniff::BoltService::new(
            Arc::new(
                nereid_http::bolt::BoltBackend::new(
                    manager.clone(),
                    iam.clone(),
                    memory_limit,
                    tls.is_some(),
                )
                .with_transaction_timeout_ms(args.transaction_timeout_ms),
            ),
            args.bolt_max_connections,
            connections.clone(),
        );
        if let Some(bolt_addr) = &args.bolt_addr {
            let bolt_listener = tokio::net::TcpListener::bind(bolt_addr)
                .await
                .with_context(|| format!("cannot listen on {bolt_addr}"))?;
            tracing::info!("listening on bolt://{}", bolt_listener.local_addr()?);
            tokio::spawn(bolt.clone().serve_listener(bolt_listener));
        }
        let http = HttpConfig {
            iam,
            secure_transport: tls.is_some(),
            query_memory_limit: memory_limit,
            loader: Some(loader.clone()),
            slow_query_ms: (args.slow_query_ms > 0).then_some(args.slow_query_ms),
            connections,
            streams,
            ..HttpConfig::default()
        };
        let router = nereid_http::router(manager.clone(), http);
        if tls.is_none() && !addr.ip().is_loopback() {
            // Allowed (containers listen on 0.0.0.0), but queries and results travel in clear.
            tracing::warn!(
                "serving plain HTTP on {addr}, beyond loopback: use --tls-cert and --tls-key"
            );
        }
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let servers = nereid_http::per_core::spawn(
            listeners,
            tls.clone(),
            router,
            Some(bolt),
            nereid_engine::manager::QUERY_THREAD_STACK,
            stopped,
        )
        .context("cannot start the HTTP threads")?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        tracing::info!(threads = servers.len(), "listening on {scheme}://{addr}");
        // Until a signal, or until a server thread ends on its own (an error).
        let mut watch_servers = tokio::task::spawn_blocking({
            let servers = servers;
            move || {
                let mut results = Vec::new();
                for s in servers {
                    results.push(s.join());
                }
                results
            }
        });
        let results = tokio::select! {
            () = shutdown_signal() => {
                tracing::info!("shutting down: cancelling queries, finishing requests");
                // Cancelling running queries lets their requests finish, which lets the
                // graceful shutdown complete; joining the workers blocks, so not here.
                let stopping = manager.clone();
                tokio::task::spawn_blocking(move || stopping.shutdown());
                let _ = stop.send(true);
                (&mut watch_servers).await
            }
            results = &mut watch_servers => {
                let _ = stop.send(true);
                results
            }
        }
        .context("HTTP threads")?;
        for r in results {
            match r {
                Ok(r) => r.context("HTTP server failed")?,
                Err(_) => anyhow::bail!("an HTTP thread panicked"),
            }
        }
        anyhow::Ok(())
    })?;
    loader.shutdown();
    manager.shutdown();
    tracing::info!("stopped");
    Ok(())
}

/// The HTTP port's listening sockets, one per server thread, on the first address
/// `http_addr` resolves to that can be bound (as `TcpListener::bind` tries them in turn).
async fn bind_http(http_addr: &str, threads: usize) -> anyhow::Result<Vec<std::net::TcpListener>> {
    let mut last = None;
    for addr in tokio::net::lookup_host(http_addr)
        .await
        .with_context(|| format!("cannot listen on {http_addr}"))?
    {
        match nereid_http::per_core::listeners(addr, threads).await {
            Ok(listeners) => return Ok(listeners),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => anyhow::Error::from(e),
        None => anyhow::anyhow!("{http_addr} resolves to no address"),
    })
    .with_context(|| format!("cannot listen on {http_addr}"))
}

/// The loader writes into the store behind the query manager's database.
struct LoadTarget(Arc<QueryManager<Database>>);

impl nereid_loader::Target for LoadTarget {
    fn store(&self) -> &nereid_storage::Store {
        self.0.runner().store()
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for SIGINT: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// Caps glibc's malloc arenas at the number of cores (at least 2), before any thread starts.
///
/// Queries run on several threads (workers, the HTTP runtime's threads when they run a short
/// query in place, parallel-scan helpers), and glibc gives each new thread its own arena up
/// to 8 per core. Memory a query freed in one arena is not reused by the next query's thread
/// in another, so the process's peak grew with the number of threads that had ever run a
/// query: the hostile-query test measured 537–624 MB against its 448 MB bound, 260–292 MB
/// with the cap (`MALLOC_ARENA_MAX` from the environment still overrides it).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn limit_malloc_arenas() {
    const M_ARENA_MAX: std::os::raw::c_int = -8;
    extern "C" {
        fn mallopt(param: std::os::raw::c_int, value: std::os::raw::c_int) -> std::os::raw::c_int;
    }
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    let cores = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(2);
    let arenas = std::os::raw::c_int::try_from(cores).unwrap_or(std::os::raw::c_int::MAX);
    // SAFETY: `mallopt` only sets a tunable of glibc's allocator; it is called once, first
    // thing in `main`, before this process starts any other thread.
    unsafe {
        mallopt(M_ARENA_MAX, arenas);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}
