//! `GET /metrics` in the Prometheus text format (prometheus-client), and the slow-query log.
//!
//! ```text
//! QueryManager ── QueryObserver::finished (every query, any protocol) ──► Metrics
//!                                                     │ counters, histogram  │ slow? one log line
//! listener (sniff) ── Connections::open (a guard per connection, by protocol) ──► Connections
//! GET /metrics ─► Metrics::render: gauges read now (queue, running, nodes, relationships,
//!                 connections, the store's I/O totals) + the counters ─► text/plain; version=0.0.4
//! ```
//!
//! The counters are fed by the manager's observer, so they count queries from every protocol
//! that runs through the manager, refused ones included (malformed, throttled), labelled by
//! the protocol they came by. Gauges are read at scrape time: the manager's load, the graph
//! summary's node and relationship counts, and the open connections. With `--auth iam` the route needs `neptune-db:GetEngineStatus` (Neptune has no
//! metrics action; this one already guards the other operational read, `GET /status`).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use nereid_common::ErrorCode;
use nereid_engine::admin::Admin;
use nereid_engine::manager::{Load, Protocol, QueryObserver, QueryReport};
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
    /// `http` or `bolt`.
    protocol: &'static str,
    /// `ok`, or the Neptune exception name the caller got (`CancelledByUserException`, …).
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProtocolLabels {
    /// `http` or `bolt`.
    protocol: &'static str,
}

const PROTOCOLS: [Protocol; 2] = [Protocol::Http, Protocol::Bolt];

fn protocol_labels(protocol: Protocol) -> ProtocolLabels {
    ProtocolLabels {
        protocol: protocol.as_str(),
    }
}

type HistogramFamily = Family<ProtocolLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms … ~32 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// Client connections by protocol, counted where a connection's protocol is decided
/// ([`crate::sniff`]) and read by `GET /metrics`. One is shared by the listener and the
/// router (through [`crate::HttpConfig::connections`]).
#[derive(Debug, Default)]
pub struct Connections {
    /// Open now, and accepted since the start, indexed like [`PROTOCOLS`].
    open: [AtomicI64; 2],
    accepted: [AtomicU64; 2],
}

impl Connections {
    /// Counts a new connection; it stays open until the guard is dropped.
    pub fn open(self: &Arc<Self>, protocol: Protocol) -> ConnectionGuard {
        let i = slot(protocol);
        self.open[i].fetch_add(1, Ordering::Relaxed);
        self.accepted[i].fetch_add(1, Ordering::Relaxed);
        ConnectionGuard {
            counts: self.clone(),
            protocol,
        }
    }

    /// Connections of `protocol` open now.
    pub fn open_now(&self, protocol: Protocol) -> i64 {
        self.open[slot(protocol)].load(Ordering::Relaxed)
    }

    /// Connections of `protocol` accepted since the server started.
    pub fn accepted(&self, protocol: Protocol) -> u64 {
        self.accepted[slot(protocol)].load(Ordering::Relaxed)
    }
}

fn slot(protocol: Protocol) -> usize {
    match protocol {
        Protocol::Http => 0,
        Protocol::Bolt => 1,
    }
}

/// One open connection; dropping it counts the connection closed.
#[derive(Debug)]
pub struct ConnectionGuard {
    counts: Arc<Connections>,
    protocol: Protocol,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.counts.open[slot(self.protocol)].fetch_sub(1, Ordering::Relaxed);
    }
}

/// Every metric of the server, registered once.
pub struct Metrics {
    registry: Registry,
    queries: Family<OutcomeLabels, Counter>,
    duration: HistogramFamily,
    waited: HistogramFamily,
    connections: Arc<Connections>,
    connections_open: Family<ProtocolLabels, Gauge<i64, AtomicI64>>,
    connections_accepted: Family<ProtocolLabels, Counter>,
    cancels: Counter,
    timeouts: Counter,
    memory_limit: Counter,
    waiting: Gauge<i64, AtomicI64>,
    running: Gauge<i64, AtomicI64>,
    nodes: Gauge<i64, AtomicI64>,
    relationships: Gauge<i64, AtomicI64>,
    /// Held while totals counted elsewhere (the store's, the listener's) are carried into
    /// the counters (two scrapes at once must not both add the same difference).
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
    /// logs none. `connections` is what the listener counts.
    pub fn new(slow_query_ms: Option<u64>, connections: Arc<Connections>) -> Self {
        let mut registry = Registry::default();
        let queries = Family::<OutcomeLabels, Counter>::default();
        let duration = HistogramFamily::new_with_constructor(latency_histogram);
        let waited = HistogramFamily::new_with_constructor(latency_histogram);
        let connections_open = Family::<ProtocolLabels, Gauge<i64, AtomicI64>>::default();
        let connections_accepted = Family::<ProtocolLabels, Counter>::default();
        // So that every family is exposed (at 0) for each protocol before the first query.
        for protocol in PROTOCOLS {
            let _ = queries.get_or_create(&OutcomeLabels {
                protocol: protocol.as_str(),
                outcome: "ok".to_owned(),
            });
            let labels = protocol_labels(protocol);
            let _ = duration.get_or_create(&labels);
            let _ = waited.get_or_create(&labels);
            let _ = connections_open.get_or_create(&labels);
            let _ = connections_accepted.get_or_create(&labels);
        }
        registry.register(
            "nereid_queries",
            "Queries finished or refused, by protocol and outcome (ok or the Neptune exception name)",
            queries.clone(),
        );
        registry.register(
            "nereid_query_duration_seconds",
            "Time from acceptance to completion (waited + elapsed) of accepted queries, by protocol",
            duration.clone(),
        );
        registry.register(
            "nereid_query_waited_seconds",
            "Time accepted queries spent waiting for a worker, by protocol",
            waited.clone(),
        );
        registry.register(
            "nereid_connections_open",
            "Client connections open now, by protocol (http or bolt)",
            connections_open.clone(),
        );
        registry.register(
            "nereid_connections",
            "Client connections accepted since the server started, by protocol",
            connections_accepted.clone(),
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
            connections,
            connections_open,
            connections_accepted,
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
        {
            // Two scrapes at once must not both add the same difference to a counter.
            let _one_at_a_time = self.io_catch_up.lock().unwrap_or_else(|p| p.into_inner());
            for protocol in PROTOCOLS {
                let labels = protocol_labels(protocol);
                self.connections_open
                    .get_or_create(&labels)
                    .set(self.connections.open_now(protocol));
                let accepted = self.connections_accepted.get_or_create(&labels);
                accepted.inc_by(
                    self.connections
                        .accepted(protocol)
                        .saturating_sub(accepted.get()),
                );
            }
        }
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
                protocol: report.protocol.as_str(),
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
            let labels = protocol_labels(report.protocol);
            self.duration
                .get_or_create(&labels)
                .observe((report.waited + report.elapsed).as_secs_f64());
            self.waited
                .get_or_create(&labels)
                .observe(report.waited.as_secs_f64());
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
                protocol = report.protocol.as_str(),
                query = %text,
                truncated = report.query_string.chars().count() > SLOW_QUERY_TEXT_LIMIT,
                parameters = report.parameters,
                waited_ms = millis(report.waited),
                elapsed_ms = millis(report.elapsed),
                rows = report.rows,
                memory_peak_bytes = report.memory_peak,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_open_while_their_guard_lives_and_counted_once() {
        let counts = Arc::new(Connections::default());
        let metrics = Metrics::new(None, counts.clone());
        let a = counts.open(Protocol::Bolt);
        let b = counts.open(Protocol::Http);
        let c = counts.open(Protocol::Http);
        drop(c);
        let load = Load {
            waiting: 0,
            running: 0,
        };
        let text = metrics.render(load, None);
        assert!(
            text.contains("nereid_connections_open{protocol=\"bolt\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("nereid_connections_open{protocol=\"http\"} 1\n"));
        assert!(text.contains("nereid_connections_total{protocol=\"http\"} 2\n"));
        drop((a, b));
        // A second scrape adds nothing to the totals and sees the closes.
        let text = metrics.render(load, None);
        assert!(
            text.contains("nereid_connections_open{protocol=\"bolt\"} 0\n"),
            "{text}"
        );
        assert!(text.contains("nereid_connections_total{protocol=\"http\"} 2\n"));
        assert!(text.contains("nereid_connections_total{protocol=\"bolt\"} 1\n"));
    }
}
