//! The `nereid` binary: command line, logging and wiring.
//!
//! `nereid serve` opens the database (embedded, under `--data-dir`, or `--in-memory`), starts
//! the query manager's worker pool, and serves the Neptune REST API on `--http-addr` until
//! SIGTERM or SIGINT. Every flag can also be given as a `NEREID_*` environment variable.
//! Logs go to stderr (level from `RUST_LOG`, default `info`); the line
//! `listening on http://ADDR` announces readiness with the real address (useful with port 0).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use nereid_engine::manager::{ManagerConfig, QueryManager};
use nereid_engine::{Database, DbConfig};
use nereid_http::HttpConfig;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "nereid",
    version,
    about = "An openCypher graph database that speaks the Amazon Neptune API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Neptune data-plane HTTP API.
    Serve(ServeArgs),
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
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal; tests and log files read plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match Cli::parse().command {
        Command::Serve(args) => serve(args),
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let database = if args.in_memory {
        tracing::info!("database in memory");
        Database::in_memory()
    } else {
        std::fs::create_dir_all(&args.data_dir)
            .with_context(|| format!("cannot create data directory {}", args.data_dir.display()))?;
        tracing::info!(data_dir = %args.data_dir.display(), "opening database");
        Database::open(DbConfig {
            data_dir: Some(args.data_dir.clone()),
        })
        .with_context(|| format!("cannot open database in {}", args.data_dir.display()))?
    };
    let defaults = ManagerConfig::default();
    let config = ManagerConfig {
        workers: args.workers.map_or(defaults.workers, |w| w as usize),
        queue_size: args.queue_size as usize,
        query_timeout_ms: args.query_timeout_ms,
    };
    let manager = Arc::new(QueryManager::new(database, config)?);
    tracing::info!(
        workers = config.workers,
        queue_size = config.queue_size,
        query_timeout_ms = config.query_timeout_ms,
        "query manager ready"
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.http_addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.http_addr))?;
        let addr = listener.local_addr()?;
        let router = nereid_http::router(manager.clone(), HttpConfig::default());
        tracing::info!("listening on http://{addr}");
        let stopping = manager.clone();
        nereid_http::serve(listener, router, async move {
            shutdown_signal().await;
            tracing::info!("shutting down: cancelling queries, finishing requests");
            // Cancelling running queries lets their requests finish, which lets the graceful
            // shutdown complete; joining the workers blocks, so not on the reactor.
            tokio::task::spawn_blocking(move || stopping.shutdown());
        })
        .await
        .context("HTTP server failed")
    })?;
    manager.shutdown();
    tracing::info!("stopped");
    Ok(())
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
