//! `GET /metrics` in the Prometheus text format (prometheus-client), and the slow-query log.
//!
//! ```text
//! QueryManager ── QueryObserver::finished (every query, any protocol) ──► Metrics
//!                                                     │ counters, histogram  │ slow? one log line
//! GET /metrics ─► Metrics::render: gauges read now (queue, running, nodes, relationships)
//!                 + the counters ─► text/plain; version=0.0.4
//! ```
//!
//! The counters are fed by the manager's observer, so they count queries from every protocol
//! that runs through the manager, refused ones included (malformed, throttled). Gauges are
//! read at scrape time: the manager's load and the graph summary's node and relationship
//! counts. With `--auth iam` the route needs `neptune-db:GetEngineStatus` (Neptune has no
//! metrics action; this one already guards the other operational read, `GET /status`).

use std::sync::atomic::{AtomicI64, AtomicU64};
use std::sync::Arc;

use nereid_common::ErrorCode;
use nereid_engine::admin::Admin;
use nereid_engine::manager::{Load, QueryObserver, QueryReport};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The content type Prometheus expects of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Characters of a query's text kept in its slow-query log line.
pub const SLOW_QUERY_TEXT_LIMIT: usize = 200;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    /// `ok`, or the Neptune exception name the caller got (`CancelledByUserException`, …).
    outcome: String,
}

/// Every metric of the server, registered once.
pub struct Metrics {
    registry: Registry,
    queries: Family<OutcomeLabels, Counter>,
    duration: Histogram,
    waited: Histogram,
    cancels: Counter,
    timeouts: Counter,
    memory_limit: Counter,
    waiting: Gauge<i64, AtomicI64>,
    running: Gauge<i64, AtomicI64>,
    nodes: Gauge<i64, AtomicI64>,
    relationships: Gauge<i64, AtomicI64>,
    /// Held while the store's totals are carried into the counters (two scrapes at once
    /// must not both add the same difference).
    io_catch_up: std::sync::Mutex<()>,
    wal_bytes: Counter,
    fsyncs: Counter,
    fsync_seconds: Counter<f64, AtomicU64>,
    checkpoints: Counter,
    checkpoint_seconds: Counter<f64, AtomicU64>,
    last_checkpoint_seconds: Gauge<f64, AtomicU64>,
    last_checkpoint_bytes: Gauge<i64, AtomicI64>,
    slow_query_ms: Option<u64>,
    /// How many slow queries were logged.
    slow: Counter<u64, AtomicU64>,
}

impl Metrics {
    /// `slow_query_ms`: queries whose waited + elapsed time reaches it are logged; `None`
    /// logs none.
    pub fn new(slow_query_ms: Option<u64>) -> Self {
        let mut registry = Registry::default();
        let queries = Family::<OutcomeLabels, Counter>::default();
        // So that the family is exposed (at 0) before the first query.
        let _ = queries.get_or_create(&OutcomeLabels {
            outcome: "ok".to_owned(),
        });
        registry.register(
            "nereid_queries",
            "Queries finished or refused, by outcome (ok or the Neptune exception name)",
            queries.clone(),
        );
        // 1 ms … ~32 s.
        let duration = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        registry.register(
            "nereid_query_duration_seconds",
            "Time from acceptance to completion (waited + elapsed) of accepted queries",
            duration.clone(),
        );
        let waited = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        registry.register(
            "nereid_query_waited_seconds",
            "Time accepted queries spent waiting for a worker",
            waited.clone(),
        );
        let cancels = Counter::default();
        registry.register(
            "nereid_query_cancels",
            "Queries that ended cancelled by a user (CancelledByUserException)",
            cancels.clone(),
        );
        let timeouts = Counter::default();
        registry.register(
            "nereid_query_timeouts",
            "Queries that ran past their deadline (TimeLimitExceededException)",
            timeouts.clone(),
        );
        let memory_limit = Counter::default();
        registry.register(
            "nereid_query_memory_limit_failures",
            "Queries stopped by the per-query memory budget (MemoryLimitExceededException)",
            memory_limit.clone(),
        );
        let slow = Counter::default();
        registry.register(
            "nereid_slow_queries",
            "Queries at or over --slow-query-ms (each also logged)",
            slow.clone(),
        );
        let waiting = Gauge::default();
        registry.register(
            "nereid_queries_waiting",
            "Accepted queries waiting for a worker (queue depth)",
            waiting.clone(),
        );
        let running = Gauge::default();
        registry.register(
            "nereid_queries_running",
            "Queries running now",
            running.clone(),
        );
        let nodes = Gauge::default();
        registry.register(
            "nereid_graph_nodes",
            "Nodes in the graph (from the graph summary)",
            nodes.clone(),
        );
        let relationships = Gauge::default();
        registry.register(
            "nereid_graph_relationships",
            "Relationships in the graph (from the graph summary)",
            relationships.clone(),
        );
        // The store's durable path: counted in the store, carried over here at scrape time.
        let wal_bytes = Counter::default();
        registry.register(
            "nereid_wal_bytes",
            "Bytes appended to the write-ahead log since the server started",
            wal_bytes.clone(),
        );
        let fsyncs = Counter::default();
        registry.register(
            "nereid_wal_fsyncs",
            "fsyncs of the write-ahead log (one covers every commit waiting on it)",
            fsyncs.clone(),
        );
        let fsync_seconds = Counter::<f64, AtomicU64>::default();
        registry.register(
            "nereid_wal_fsync_seconds",
            "Total time spent in write-ahead log fsyncs (divide by nereid_wal_fsyncs for the mean latency)",
            fsync_seconds.clone(),
        );
        let checkpoints = Counter::default();
        registry.register(
            "nereid_checkpoints",
            "Checkpoints written since the server started",
            checkpoints.clone(),
        );
        let checkpoint_seconds = Counter::<f64, AtomicU64>::default();
        registry.register(
            "nereid_checkpoint_seconds",
            "Total time spent writing checkpoints",
            checkpoint_seconds.clone(),
        );
        let last_checkpoint_seconds = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "nereid_last_checkpoint_duration_seconds",
            "How long the newest checkpoint took",
            last_checkpoint_seconds.clone(),
        );
        let last_checkpoint_bytes = Gauge::default();
        registry.register(
            "nereid_last_checkpoint_bytes",
            "Size of the newest checkpoint file",
            last_checkpoint_bytes.clone(),
        );
        Self {
            io_catch_up: std::sync::Mutex::new(()),
            wal_bytes,
            fsyncs,
            fsync_seconds,
            checkpoints,
            checkpoint_seconds,
            last_checkpoint_seconds,
            last_checkpoint_bytes,
            registry,
            queries,
            duration,
            waited,
            cancels,
            timeouts,
            memory_limit,
            waiting,
            running,
            nodes,
            relationships,
            slow_query_ms,
            slow,
        }
    }

    /// The text exposition, after reading the gauges from `load` and `admin`.
    pub fn render(&self, load: Load, admin: Option<&dyn Admin>) -> String {
        self.waiting.set(to_i64(load.waiting));
        self.running.set(to_i64(load.running));
        if let Some(summary) = admin.and_then(|a| a.summary().ok()) {
            self.nodes.set(to_i64(summary.summary.num_nodes));
            self.relationships.set(to_i64(summary.summary.num_edges));
        }
        if let Some(io) = admin.and_then(|a| a.io_stats()) {
            let _one_at_a_time = self.io_catch_up.lock().unwrap_or_else(|p| p.into_inner());
            // Counters only move forward: add what the store counted since the last scrape.
            let catch_up = |c: &Counter, total: u64| {
                c.inc_by(total.saturating_sub(c.get()));
            };
            catch_up(&self.wal_bytes, io.wal_bytes);
            catch_up(&self.fsyncs, io.fsyncs);
            catch_up(&self.checkpoints, io.checkpoints);
            let catch_up_f = |c: &Counter<f64, AtomicU64>, total: f64| {
                let delta = total - c.get();
                if delta > 0.0 {
                    c.inc_by(delta);
                }
            };
            catch_up_f(&self.fsync_seconds, io.fsync_seconds);
            catch_up_f(&self.checkpoint_seconds, io.checkpoint_seconds);
            self.last_checkpoint_seconds.set(io.last_checkpoint_seconds);
            self.last_checkpoint_bytes
                .set(to_i64(io.last_checkpoint_bytes));
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

fn to_i64(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

impl QueryObserver for Metrics {
    fn finished(&self, report: &QueryReport<'_>) {
        let code = report.error.map(|e| e.code);
        let outcome = match code {
            None => "ok".to_owned(),
            Some(code) => code.info().neptune.to_owned(),
        };
        self.queries
            .get_or_create(&OutcomeLabels {
                outcome: outcome.clone(),
            })
            .inc();
        match code {
            Some(ErrorCode::CancelledByUser) => {
                self.cancels.inc();
            }
            Some(ErrorCode::TimeLimitExceeded) => {
                self.timeouts.inc();
            }
            Some(ErrorCode::MemoryLimitExceeded) => {
                self.memory_limit.inc();
            }
            _ => {}
        }
        if report.accepted {
            self.duration
                .observe((report.waited + report.elapsed).as_secs_f64());
            self.waited.observe(report.waited.as_secs_f64());
        }
        let total_ms = millis(report.waited + report.elapsed);
        if self.slow_query_ms.is_some_and(|limit| total_ms >= limit) {
            self.slow.inc();
            let text: String = report
                .query_string
                .chars()
                .take(SLOW_QUERY_TEXT_LIMIT)
                .collect();
            tracing::warn!(
                target: "nereid::slow_query",
                query_id = report.query_id,
                query = %text,
                truncated = report.query_string.chars().count() > SLOW_QUERY_TEXT_LIMIT,
                parameters = report.parameters,
                waited_ms = millis(report.waited),
                elapsed_ms = millis(report.elapsed),
                rows = report.rows,
                outcome = %outcome,
                "slow query"
            );
        }
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Shares one [`Metrics`] as the manager's observer.
pub struct Observer(pub Arc<Metrics>);

impl QueryObserver for Observer {
    fn finished(&self, report: &QueryReport<'_>) {
        self.0.finished(report);
    }
}
