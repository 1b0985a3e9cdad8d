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
//!
//! Queries run on the manager's worker threads, never on the async reactor: the handler
//! submits the query from a blocking thread (preparing may parse a large text) and awaits a
//! oneshot that the worker fills with the already-serialised body.

pub mod engine_status;
pub mod request;
pub mod response;
pub mod routes;

use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use nereid_engine::manager::{QueryManager, QueryRunner};

/// Neptune's request-size limit (SPEC 5): 150 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 157_286_400;

/// Settings of the HTTP layer.
#[derive(Debug, Clone, Copy)]
pub struct HttpConfig {
    /// Largest accepted request body in bytes; larger requests get `BadRequestException`.
    pub body_limit: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }
}

/// What every handler shares.
pub struct App<R: QueryRunner> {
    pub manager: Arc<QueryManager<R>>,
    pub config: HttpConfig,
    /// When the server started, for `GET /status`.
    pub started: SystemTime,
}

/// The complete API as an axum router.
pub fn router<R: QueryRunner>(manager: Arc<QueryManager<R>>, config: HttpConfig) -> Router {
    let app = Arc::new(App {
        manager,
        config,
        started: SystemTime::now(),
    });
    // One fallback handler does the routing: axum's router matches paths case-sensitively,
    // and the openCypher paths must not be; it also lets every miss carry an error code.
    Router::new()
        .fallback(routes::dispatch::<R>)
        .with_state(app)
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets in-flight requests
/// finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
