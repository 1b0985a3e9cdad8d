//! The Amazon Neptune data-plane REST API for openCypher, on axum (HTTP/1.1 only).
//!
//! ```text
//! request ─► routes::dispatch ─► request::decode_* ─► QueryManager (engine crate)
//!                 │                                        │ completion callback (worker thread)
//!                 │                                        ▼
//!                 └──────────── response::{results_json, error_response} ◄─ oneshot
//! ```
//!
//! * [`routes`] matches method and path (the `/openCypher` family case-insensitively) and
//!   answers every request, including unknown routes and wrong methods, with a coded answer.
//! * [`request`] turns JSON, form, query-string and `application/opencypher` requests into a
//!   query text plus a parameter map.
//! * [`response`] writes results exactly as Neptune does (SPEC 4.2) and errors as the
//!   `{"requestId","code","detailedMessage","message"}` envelope with `x-amzn-ErrorType`.
//! * [`engine_status`] answers `GET /status` (GetEngineStatus).
//! * [`admin`] answers the summary and statistics routes (`/propertygraph/statistics…`,
//!   alias `/pg/…`), [`system`] the fast reset (`POST /system`), [`explain`] renders
//!   Neptune's explain tables.
//! * [`loader`] answers the bulk loader's `/loader` routes (StartLoaderJob,
//!   GetLoaderJobStatus, ListLoaderJobs, CancelLoaderJob) from `nereid_loader::Loader`.
//! * [`streams`] answers `/propertygraph/stream` and `/pg/stream` (GetPropertygraphStream)
//!   from the store's change stream (`nereid_storage::Streams`).
//! * [`auth`] checks SigV4 signatures and IAM policies (`--auth iam`): the body is read once,
//!   within the size limit, and the same bytes are both hashed for the signature and decoded.
//! * [`console`] serves the built-in web console (`/`, `/console`, `/assets/…`), embedded
//!   at build time; [`metrics`] answers `GET /metrics` (Prometheus) and logs slow queries.
//! * [`tls`] serves HTTPS with rustls (`--tls-cert`, `--tls-key`).
//! * [`per_core`] runs the server on one single-threaded runtime per core, all accepting on
//!   the one listening socket.
//! * [`sniff`] serves Bolt on the same port: a connection whose first 4 bytes (after TLS) are
//!   the Bolt magic goes to `nereid_bolt`, any other to axum; [`bolt`] is the Bolt backend
//!   over the query manager (auto-commit queries, Neo4j error codes, graph values).
//!
//! Hostile input meets a limit with a coded error before it can cost unbounded memory: the
//! body ([`HttpConfig::body_limit`], `BadRequestException`), the query text
//! ([`HttpConfig::max_query_bytes`], `QueryTooLargeException`), the `parameters` document
//! ([`request::MAX_PARAMETERS_BYTES`], [`request::MAX_PARAMETERS_DEPTH`],
//! `InvalidParameterException`), the parser's nesting depth (`MalformedQueryException`) and
//! the engine's per-query memory budget (`MemoryLimitExceededException`).
//!
//! A short query (≤ 2 KiB of text) is prepared on the handler's thread (from the plan cache
//! when it was seen before) and, when a worker slot is free, starts there too, for a time
//! slice of at most `nereid_engine::manager::INLINE_SLICE` (1 ms): a hand-off to a worker
//! and back costs thread wake-ups, more than a point lookup itself. A query that outlasts
//! its slice is stopped and run again on a worker (and later runs of it go there at once),
//! so the thread's other connections wait about a slice at most. Otherwise the handler
//! submits the query (a long text from a blocking thread: preparing parses it) and awaits
//! a oneshot that a worker fills with the already-serialised body.

pub mod admin;
pub mod auth;
pub mod bolt;
pub mod console;
pub mod engine_status;
pub mod explain;
pub mod ids;
pub mod loader;
pub mod metrics;
pub mod per_core;
pub mod request;
pub mod response;
pub mod routes;
pub mod sniff;
pub mod sparql;
pub mod streams;
pub mod system;
pub mod tls;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use nereid_engine::manager::{QueryManager, QueryRunner};

/// Neptune's request-size limit (SPEC 5): 150 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 157_286_400;

/// Longest accepted query text in bytes (16 MiB): far beyond any hand-written query, and
/// small enough that parsing it stays cheap; data belongs in `parameters`.
pub const DEFAULT_MAX_QUERY_BYTES: usize = 16 * 1024 * 1024;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest accepted request body in bytes; larger requests get `BadRequestException`.
    pub body_limit: usize,
    /// Longest accepted query text in bytes; longer ones get `QueryTooLargeException`.
    pub max_query_bytes: usize,
    /// `Some` with `--auth iam`: every request must be signed and allowed by its policy.
    pub iam: Option<Arc<nereid_sigv4::IamConfig>>,
    /// Whether requests arrive over TLS (`aws:SecureTransport` in policy conditions).
    pub secure_transport: bool,
    /// How long a fast-reset token stays valid (Neptune: 60 minutes).
    pub reset_token_ttl: Duration,
    /// The engine's per-query memory budget: the IAM check parses the query text before
    /// the engine does, within the same budget.
    pub query_memory_limit: usize,
    /// The bulk loader behind `/loader`; `None` answers those routes with
    /// `BadRequestException`.
    pub loader: Option<Arc<nereid_loader::Loader>>,
    /// Queries taking at least this many ms (waited + elapsed) are logged; `None`: none.
    pub slow_query_ms: Option<u64>,
    /// Connections by protocol, counted by the listener and reported by `GET /metrics`:
    /// give the same one to [`sniff::BoltService::new`].
    pub connections: Arc<metrics::Connections>,
    /// The change stream behind `/propertygraph/stream` (`--streams`); `None` answers it
    /// with `UnsupportedOperationException`, as Neptune does with streams off.
    pub streams: Option<nereid_storage::Streams>,
}

/// `--slow-query-ms`' default.
pub const DEFAULT_SLOW_QUERY_MS: u64 = 5000;

/// Neptune's fast-reset token lifetime.
pub const DEFAULT_RESET_TOKEN_TTL: Duration = Duration::from_secs(60 * 60);

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            body_limit: DEFAULT_BODY_LIMIT,
            max_query_bytes: DEFAULT_MAX_QUERY_BYTES,
            iam: None,
            secure_transport: false,
            reset_token_ttl: DEFAULT_RESET_TOKEN_TTL,
            query_memory_limit: nereid_engine::DEFAULT_QUERY_MEMORY,
            loader: None,
            slow_query_ms: Some(DEFAULT_SLOW_QUERY_MS),
            connections: Arc::default(),
            streams: None,
        }
    }
}

/// What every handler shares.
pub struct App<R: QueryRunner> {
    pub manager: Arc<QueryManager<R>>,
    pub config: HttpConfig,
    /// When the server started, for `GET /status`.
    pub started: SystemTime,
    /// The newest fast-reset token.
    pub reset_tokens: system::ResetTokens,
    /// What `GET /metrics` reports; also the manager's query observer.
    pub metrics: Arc<metrics::Metrics>,
}

/// The complete API as an axum router.
pub fn router<R: QueryRunner>(manager: Arc<QueryManager<R>>, config: HttpConfig) -> Router {
    let metrics = Arc::new(metrics::Metrics::new(
        config.slow_query_ms,
        config.connections.clone(),
    ));
    // A manager shared by several routers reports its queries to the first one's metrics.
    manager.set_observer(Arc::new(metrics::Observer(metrics.clone())));
    let app = Arc::new(App {
        metrics,
        manager,
        config,
        started: SystemTime::now(),
        reset_tokens: system::ResetTokens::default(),
    });
    // One fallback handler does the routing: axum's router matches paths case-sensitively,
    // and the openCypher paths must not be; it also lets every miss carry an error code.
    Router::new()
        .fallback(routes::dispatch::<R>)
        .with_state(app)
}

/// Serves `router` on `listener` (over TLS when `tls` is given) until `shutdown` resolves,
/// then lets in-flight requests finish. Each request carries its peer address as
/// `ConnectInfo<`[`auth::Peer`]`>`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_bolt(listener, tls, router, None, shutdown).await
}

/// [`serve`], and with `bolt` also Bolt on the same port: each connection's first bytes
/// (after TLS) pick the protocol ([`sniff`]).
pub async fn serve_with_bolt(
    listener: tokio::net::TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    router: Router,
    bolt: Option<sniff::BoltService>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = router.into_make_service_with_connect_info::<auth::Peer>();
    match (tls, bolt) {
        (None, None) => {
            axum::serve(listener, service)
                .with_graceful_shutdown(shutdown)
                .await
        }
        (Some(config), None) => {
            axum::serve(tls::TlsListener::new(listener, config)?, service)
                .with_graceful_shutdown(shutdown)
                .await
        }
        (None, Some(bolt)) => {
            use axum::serve::ListenerExt;
            // Bolt answers a request in more than one write (RUN's SUCCESS goes out before
            // the query runs): without TCP_NODELAY the next write waits for the client's
            // delayed ACK, 40 ms.
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(sniff::SniffListener::new(listener, bolt)?, service)
                .with_graceful_shutdown(shutdown)
                .await
        }
        (Some(config), Some(bolt)) => {
            let tls = tls::TlsListener::new(listener, config)?;
            axum::serve(sniff::SniffListener::new(tls, bolt)?, service)
                .with_graceful_shutdown(shutdown)
                .await
        }
    }
}
