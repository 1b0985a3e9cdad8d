//! The nereid query engine: binding, planning, optimization, execution, transactions and
//! the query manager.
//!
//! ```text
//! text ─► nereid_cypher::parse ─► bind ─► planner ─► optimize ─► physical ─► exec ─► QueryResult
//!          (AST)          (BoundStatement) (LogicalPlan) (named rules) (operators)   │
//!                                                       nereid_storage (snapshot / write txn)
//! ```
//!
//! * `bind`: scopes and variables; every expression and aggregate identified
//!   structurally (never by text); pattern predicates and comprehensions become subqueries.
//! * `planner`: the written-order [`plan::LogicalPlan`] (types in [`plan`], shared by
//!   every later stage).
//! * [`optimize`]: named rules run in order, each switchable, the plan checked after each.
//! * [`physical`]: operators with liveness-based row layouts; expressions compiled.
//! * `exec`: pull-based streaming operators over batches, bounded by the query's memory
//!   budget.
//!
//! [`Database`] is the entry point for every protocol; [`manager::QueryManager`] wraps it
//! with query ids, the waiting queue, the worker pool, status and cancellation.
//!
//! Transactions: a query that may write (it has CREATE, MERGE, SET, REMOVE or DELETE)
//! runs in one write transaction, committed only when the whole query succeeded; any error,
//! cancel or timeout drops the transaction, leaving no trace. Read-only queries run on a
//! snapshot and never wait for writers. [`transaction`] adds interactive transactions that
//! span many statements ([`Database::begin_transaction`], [`Database::execute_in`]).
//! Read-only queries can stream their rows to a [`RowSink`] as they are produced
//! ([`Database::execute_streaming`]).

pub mod admin;
mod bind;
mod exec;
/// The knobs of parallel execution (tests force the parallel path on small graphs).
pub use exec::parallel;
pub mod manager;
mod materialize;
pub mod optimize;
pub mod physical;
pub mod plan;
pub mod plan_cache;
mod planner;
mod procedures;
pub mod profile;
mod result;
pub mod statistics;
pub mod transaction;

use std::sync::{Arc, RwLock};

pub use exec::memory::{MemoryBudget, Reservation};
pub use result::{NodeData, QueryResult, RelData, RowSink};
pub use transaction::{CommitInfo, Transaction, TxnMode, TxnOptions};

use exec::profile::Recorder;
use profile::PlanReport;

use nereid_common::{CancelToken, Error, ErrorCode, Phase};
use nereid_cypher::ast::{self, ClauseKind, HintValue, StatementMode};
use nereid_storage::{Store, StoreConfig};
use nereid_value::{Map, Value};

pub use bind::dialect::Dialect;
use exec::memory::row_size;
use exec::{Ctx, Deleted, Env, GraphAccess};
use plan::LogicalPlan;
use procedures::Procedures;
use statistics::{Statistics, StatisticsMode, StatisticsStatus, SummaryReport};

/// Default per-query memory limit: 2 GiB of rows held at once.
pub const DEFAULT_QUERY_MEMORY: usize = 2 << 30;

/// Where and how the database keeps its data.
#[derive(Debug, Clone, Default)]
pub struct DbConfig {
    /// `None` = in memory only.
    pub data_dir: Option<std::path::PathBuf>,
}

/// A test procedure defined by a table (what the TCK's `there exists a procedure` declares):
/// each row gives input values then output values; a call yields the output part of every
/// row whose inputs equal the arguments.
#[derive(Debug, Clone)]
pub struct TableProcedure {
    /// Qualified name, e.g. `test.my.proc`.
    pub name: String,
    /// Input names and declared types (`INTEGER?`, `STRING?`, `NUMBER?`, `FLOAT?`, …).
    pub inputs: Vec<(String, String)>,
    pub outputs: Vec<(String, String)>,
    pub rows: Vec<Vec<Value>>,
}

/// A parsed, analysed query, ready to run any number of times.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The query text as submitted.
    pub text: Arc<str>,
    /// `USING QUERY:TIMEOUTMILLISECONDS n`, if given.
    pub timeout_ms: Option<u64>,
    /// Number of subqueries: UNION branches beyond the first plus `EXISTS { }` blocks
    /// (see `nereid_cypher::subquery_count`).
    pub subqueries: usize,
    /// Whether the query may write (CREATE, MERGE, SET, REMOVE, DELETE).
    pub writes: bool,
    /// Which kinds of data access the query could perform (for IAM authorization).
    pub access: QueryAccess,
    /// `EXPLAIN`: return the plan (with estimated rows) instead of running.
    pub explain: bool,
    /// `PROFILE`: run, then return the plan with the rows and time of every operator
    /// instead of the result.
    pub profile: bool,
    plan: Arc<LogicalPlan>,
    /// `(labels, key)` the plan seeks nodes by (see [`Database::ensure_indexes`]).
    seek_keys: Arc<[(Vec<String>, String)]>,
    /// How runs of this plan fared in time slices on callers' threads (see
    /// [`Prepared::goes_to_worker`]); shared by the copies the plan cache hands out.
    slices: Arc<SliceHistory>,
    /// Whether runs keep their operator tree for the next run (`exec::trees`): for plans
    /// from the plan cache, which come back; not for one-off preparations.
    keep_trees: bool,
}

#[derive(Debug, Default)]
struct SliceHistory {
    /// Runs still to send straight to a worker.
    worker_runs: std::sync::atomic::AtomicU32,
    /// Slices outlasted in a row.
    strikes: std::sync::atomic::AtomicU32,
}

/// After two runs in a row outlast their slices, this many runs go to a worker at once
/// before one tries the caller's thread again. One overrun alone (a first run on cold
/// caches) sends nothing away; and a slice measures wall time, so a short query preempted
/// on a busy machine must not lose the fast path for good.
const LONG_RUNS_ON_WORKERS: u32 = 16;

impl Prepared {
    /// Whether this run should go to a worker at once, because a recent run of the plan
    /// outlasted its time slice on a caller's thread. Counts the run.
    pub fn goes_to_worker(&self) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        self.slices
            .worker_runs
            .fetch_update(Relaxed, Relaxed, |left| left.checked_sub(1))
            .is_ok()
    }

    /// A run outlasted its time slice: after two in a row, send the next runs to a worker.
    pub fn outlasted_slice(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        if self.slices.strikes.fetch_add(1, Relaxed) >= 1 {
            self.slices.worker_runs.store(LONG_RUNS_ON_WORKERS, Relaxed);
        }
    }

    /// A run finished within its time slice.
    pub fn fitted_slice(&self) {
        self.slices
            .strikes
            .store(0, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Neptune's explain modes (`explain=` on `/openCypher`, `explain` on
/// `/opencypher/explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExplainMode {
    /// The plan only; the query does not run.
    Static,
    /// Runs the query and reports rows and time per operator.
    Dynamic,
    /// `Dynamic` plus the query text and the planner's estimates.
    Details,
}

impl ExplainMode {
    /// Parses the wire value (lower case, as Neptune's enum).
    pub fn parse(mode: &str) -> Result<ExplainMode, Error> {
        match mode {
            "static" => Ok(ExplainMode::Static),
            "dynamic" => Ok(ExplainMode::Dynamic),
            "details" => Ok(ExplainMode::Details),
            other => Err(Error::new(
                ErrorCode::InvalidParameter,
                format!("Invalid explain mode '{other}': expected one of static, dynamic, details"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExplainMode::Static => "static",
            ExplainMode::Dynamic => "dynamic",
            ExplainMode::Details => "details",
        }
    }
}

/// The data access a query could perform, decided from its clauses before it runs (as
/// Neptune's IAM authorization does, SPEC 6.3): every query reads; CREATE, MERGE and SET
/// write; REMOVE, DELETE and DETACH DELETE delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueryAccess {
    pub write: bool,
    pub delete: bool,
}

impl QueryAccess {
    fn of(q: &ast::Query) -> QueryAccess {
        let mut access = QueryAccess::default();
        // Clauses nested in CALL { } and FOREACH count too.
        nereid_cypher::visit::walk_all(q, &mut |v| {
            if let nereid_cypher::visit::Visit::Clause(c) = v {
                match c.kind {
                    ClauseKind::Create(_)
                    | ClauseKind::Merge(_)
                    | ClauseKind::Set(_)
                    | ClauseKind::Index(_) => access.write = true,
                    ClauseKind::Remove(_) | ClauseKind::Delete(_) => access.delete = true,
                    _ => {}
                }
            }
        });
        access
    }
}

/// The access `text` would need, from parsing alone (no planning, no data touched); a text
/// whose syntax tree would exceed `memory_limit` bytes is refused unparsed.
pub fn query_access(text: &str, memory_limit: usize) -> Result<QueryAccess, Error> {
    Ok(QueryAccess::of(
        &nereid_cypher::parse_within(text, memory_limit)?.query,
    ))
}

/// Neptune's `ReadOnlyViolationException` message.
const READ_ONLY_MESSAGE: &str = "The request is rejected because it violates some read-only restriction, such as a designation of a replica as read-only.";

/// Labels with fewer nodes than this get no automatic index: scanning (or the per-query
/// hash lookup) them costs about what an index would.
pub const AUTO_INDEX_MIN_NODES: u64 = 1_000;

/// The database: storage plus everything needed to run a query.
pub struct Database {
    store: Store,
    procedures: RwLock<Arc<Procedures>>,
    query_memory_limit: usize,
    read_only: bool,
    optimizer: optimize::Options,
    statistics: Statistics,
    dialect: Dialect,
    plans: plan_cache::PlanCache,
    transactions: transaction::Registry,
    /// How long a writer waits for the writer role held by an explicit transaction.
    lock_wait: std::time::Duration,
}

impl Database {
    /// Opens (or creates) the database described by `config`.
    pub fn open(config: DbConfig) -> Result<Database, Error> {
        let store_config = match &config.data_dir {
            Some(dir) => StoreConfig::at(dir.clone()),
            None => StoreConfig::in_memory(),
        };
        Ok(Database {
            store: Store::open(&store_config)?,
            procedures: RwLock::new(Arc::new(Procedures::default())),
            query_memory_limit: DEFAULT_QUERY_MEMORY,
            read_only: false,
            optimizer: optimize::Options::default(),
            statistics: Statistics::default(),
            dialect: Dialect::default(),
            plans: plan_cache::PlanCache::default(),
            transactions: transaction::Registry::default(),
            lock_wait: transaction::DEFAULT_LOCK_WAIT,
        })
    }

    /// A fresh in-memory database.
    pub fn in_memory() -> Database {
        match Store::open(&StoreConfig::in_memory()) {
            Ok(store) => Database {
                store,
                procedures: RwLock::new(Arc::new(Procedures::default())),
                query_memory_limit: DEFAULT_QUERY_MEMORY,
                read_only: false,
                optimizer: optimize::Options::default(),
                statistics: Statistics::default(),
                dialect: Dialect::default(),
                plans: plan_cache::PlanCache::default(),
                transactions: transaction::Registry::default(),
                lock_wait: transaction::DEFAULT_LOCK_WAIT,
            },
            // Opening an in-memory store touches no file system and cannot fail.
            Err(e) => unreachable!("in-memory store failed to open: {e}"),
        }
    }

    /// Sets the estimated bytes one query may hold (rows kept by sorting, aggregation,
    /// DISTINCT, updating clauses and the result) before it fails with
    /// `MemoryLimitExceededException`.
    pub fn with_query_memory_limit(mut self, bytes: usize) -> Self {
        self.query_memory_limit = bytes;
        self.plans.clear();
        self
    }

    /// Read-only mode: every query that could write is rejected before it runs with
    /// `ReadOnlyViolationException`.
    pub fn with_read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self.plans.clear();
        self
    }

    /// The openCypher dialect: [`Dialect::OpenCypher`] (the default here) or Neptune's
    /// (the server's default), which switches the store to Neptune's data model (default
    /// label `vertex`, no node without a label) and refuses what Neptune refuses (see
    /// `bind::dialect`).
    pub fn with_dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self.store.set_labelled_nodes(dialect == Dialect::Neptune);
        self.plans.clear();
        self
    }

    /// How long a writer (an auto-commit write or another transaction's first write) waits
    /// for the writer role while an explicit transaction holds it, before it fails with
    /// `ConcurrentModificationException` (default [`transaction::DEFAULT_LOCK_WAIT`]).
    pub fn with_lock_wait(mut self, wait: std::time::Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// The dialect in force.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Optimizer settings (tests switch rules off to compare answers).
    pub fn with_optimizer_options(mut self, options: optimize::Options) -> Self {
        self.optimizer = options;
        self.plans.clear();
        self
    }

    /// The underlying store (statistics, checkpoints, reset).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Parses, plans and runs `query` in one transaction. A failure (error, cancel,
    /// timeout) leaves no trace in the graph.
    pub fn execute(
        &self,
        query: &str,
        params: &Map,
        cancel: &CancelToken,
    ) -> Result<QueryResult, Error> {
        let prepared = self.prepare(query)?;
        self.execute_prepared(&prepared, params, cancel)
    }

    /// Parses and checks `query` without running it: syntax and semantic errors surface
    /// here, and the query manager reads the hints and the subquery count before queueing.
    /// A text prepared before comes from the plan cache (see [`plan_cache`]).
    pub fn prepare(&self, query: &str) -> Result<Prepared, Error> {
        let size = {
            use nereid_storage::GraphRead;
            let snapshot = self.store.snapshot();
            plan_cache::GraphSize {
                nodes: snapshot.node_count(),
                rels: snapshot.rel_count(),
                indexes: snapshot.index_count(),
            }
        };
        let generation = self.plans.generation();
        if let Some(prepared) = self.plans.get(query, size) {
            return Ok(prepared);
        }
        let mut prepared = self.prepare_uncached(query)?;
        prepared.keep_trees = query.len() <= plan_cache::MAX_TEXT;
        self.plans.put(&prepared, size, generation);
        Ok(prepared)
    }

    /// The plan cache's figures.
    pub fn plan_cache_stats(&self) -> plan_cache::CacheStats {
        self.plans.stats()
    }

    /// [`prepare`](Self::prepare) without the plan cache.
    pub fn prepare_uncached(&self, query: &str) -> Result<Prepared, Error> {
        // The syntax tree counts against the query's memory budget: a text too large for
        // it is refused before the tree is built.
        let statement =
            nereid_cypher::parse_within(query, self.query_memory_limit).map_err(|e| {
                match e.code {
                    // Looking for unsupported syntax would tokenize the whole text.
                    ErrorCode::QueryTooLarge => e,
                    _ => bind::dialect::unsupported_syntax(query, self.dialect).unwrap_or(e),
                }
            })?;
        check_plan_size(&statement.query)?;
        if self.dialect == Dialect::Neptune {
            bind::dialect::check_neptune(query, &statement)?;
        }
        if self.read_only && bind::query_updates(&statement.query) {
            return Err(Error::compile(
                ErrorCode::ReadOnlyViolation,
                READ_ONLY_MESSAGE,
            ));
        }
        let procedures = self.procedures();
        let bound = bind::bind(query, &statement.query, &procedures)?;
        // The pattern start points are chosen from the store's label counts now.
        let snapshot = self.store.snapshot();
        let logical = planner::plan(bound, &StoreEstimates(&snapshot))?;
        let plan = optimize::optimize(logical, &self.optimizer)?;
        let mut timeout_ms = None;
        for h in &statement.hints {
            if h.name.eq_ignore_ascii_case("TIMEOUTMILLISECONDS") {
                match &h.value {
                    HintValue::Integer(n) if *n >= 0 => timeout_ms = Some(*n as u64),
                    _ => {
                        return Err(Error::compile(
                            ErrorCode::InvalidParameter,
                            "QUERY:TIMEOUTMILLISECONDS expects a non-negative integer",
                        ))
                    }
                }
            }
        }
        Ok(Prepared {
            text: query.into(),
            timeout_ms,
            subqueries: nereid_cypher::subquery_count(&statement),
            writes: plan.writes(),
            access: QueryAccess::of(&statement.query),
            explain: statement.mode == StatementMode::Explain,
            profile: statement.mode == StatementMode::Profile,
            seek_keys: plan.seek_keys().into(),
            plan: Arc::new(plan),
            slices: Arc::default(),
            keep_trees: false,
        })
    }

    /// Prepares `query` for Neptune's explain: the statement's own `EXPLAIN`/`PROFILE`
    /// prefix is overridden by `mode`. Neptune explains read-only queries only, so a query
    /// that could write is refused before anything runs.
    pub fn prepare_explain(&self, query: &str, mode: ExplainMode) -> Result<Prepared, Error> {
        let mut prepared = self.prepare(query)?;
        if prepared.writes || prepared.access.write || prepared.access.delete {
            return Err(Error::compile(
                ErrorCode::UnsupportedOperation,
                "Explain is only supported for read-only queries; this query contains an \
                 updating clause (CREATE, MERGE, SET, REMOVE or DELETE)",
            ));
        }
        prepared.explain = mode == ExplainMode::Static;
        prepared.profile = mode != ExplainMode::Static;
        Ok(prepared)
    }

    /// Runs a prepared query in one transaction.
    pub fn execute_prepared(
        &self,
        prepared: &Prepared,
        params: &Map,
        cancel: &CancelToken,
    ) -> Result<QueryResult, Error> {
        self.execute_on(prepared, params, cancel, None, None, None)
    }

    /// [`execute_prepared`](Self::execute_prepared), handing the rows of a read-only query
    /// to `sink` batch by batch as they are produced instead of collecting them: the result
    /// then has no rows ([`QueryResult::streamed_rows`] counts them). A query that may write
    /// commits before anyone sees a row, so its rows are in the result as usual.
    ///
    /// `memory`: the budget to charge instead of a fresh one of the database's limit, for a
    /// caller that goes on holding rows of the query (a Bolt connection buffering them
    /// for its client) and charges them to the same budget.
    pub fn execute_streaming(
        &self,
        prepared: &Prepared,
        params: &Map,
        cancel: &CancelToken,
        sink: Option<&mut dyn RowSink>,
        memory: Option<&Arc<MemoryBudget>>,
    ) -> Result<QueryResult, Error> {
        self.execute_on(prepared, params, cancel, None, sink, memory)
    }

    /// Runs a prepared query in its own transaction (`txn` `None`) or as a statement of an
    /// interactive one, charged to `memory` (or a fresh budget of the database's limit).
    fn execute_on(
        &self,
        prepared: &Prepared,
        params: &Map,
        cancel: &CancelToken,
        txn: Option<(&mut transaction::Data, TxnMode)>,
        sink: Option<&mut dyn RowSink>,
        memory: Option<&Arc<MemoryBudget>>,
    ) -> Result<QueryResult, Error> {
        let plan = &*prepared.plan;
        let mut missing: Vec<&String> = plan
            .params
            .iter()
            .filter(|p| !params.contains_key(*p))
            .collect();
        if !missing.is_empty() {
            missing.sort();
            return Err(Error::compile(
                ErrorCode::MissingQueryParameter,
                format!(
                    "Expected parameter(s): {}",
                    missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if prepared.explain {
            let snapshot = self.store.snapshot();
            let report = PlanReport::new(plan, &StoreEstimates(&snapshot), None);
            return Ok(report_result(report));
        }
        cancel.check()?;
        // One statement time for every current-time function of this query (it runs on this
        // thread).
        let _clock = nereid_functions::enter_statement(nereid_temporal::Clock::start());
        let procedures = self.procedures();
        let memory = memory
            .cloned()
            .unwrap_or_else(|| MemoryBudget::new(self.query_memory_limit));
        let deleted = Deleted::default();
        let lookups = exec::lookup::LookupCache::default();
        // Taken before the environment that may lend it to helper threads.
        let read_snapshot = (!prepared.writes && txn.is_none()).then(|| self.store.snapshot());
        // Rows reach a sink only when nothing is left to commit after them, and never for
        // PROFILE, which answers with the plan instead of its rows.
        let sink = if prepared.writes || prepared.profile {
            None
        } else {
            sink
        };
        // In the order of `plan.params`, which the compiled plan's parameter slots index
        // (each one is there: checked above).
        static NULL: Value = Value::Null;
        let param_values: Vec<&Value> = plan
            .params
            .iter()
            .map(|p| params.get(p).unwrap_or(&NULL))
            .collect();
        let env = Env {
            params: &param_values,
            cancel,
            memory: &memory,
            procedures: &procedures,
            deleted: &deleted,
            lookups: &lookups,
            parallel: None,
        };
        self.ensure_indexes(&prepared.seek_keys, cancel)?;
        let recorder: Option<Recorder> = prepared.profile.then(Recorder::default);
        let _running = exec::parallel::Running::start();
        let result = if let Some((data, mode)) = txn {
            match data.access(self, mode, prepared.writes, cancel)? {
                transaction::Access::Write(w) => run(
                    plan,
                    GraphAccess::Write(w),
                    &env,
                    recorder.as_ref(),
                    sink,
                    None,
                )?,
                transaction::Access::Read(snapshot) => {
                    run_read(plan, snapshot, &env, recorder.as_ref(), sink, None)?
                }
            }
        } else if prepared.writes {
            let mut txn = self.acquire_write(cancel)?;
            let result = run(
                plan,
                GraphAccess::Write(&mut txn),
                &env,
                recorder.as_ref(),
                None,
                None,
            )?;
            cancel.check()?;
            // The version this query's effects are part of: what a Bolt bookmark carries.
            let seq = txn.base_seq() + u64::from(txn.has_changes());
            txn.commit()?;
            QueryResult {
                commit_seq: Some(seq),
                ..result
            }
        } else {
            let snapshot = read_snapshot
                .as_ref()
                .ok_or_else(|| Error::internal("no snapshot for a read"))?;
            // An auto-commit read keeps its operators for the plan's next run on this thread.
            let reuse = (prepared.keep_trees && recorder.is_none())
                .then(|| (&prepared.plan, self.plans.generation()));
            run_read(plan, snapshot, &env, recorder.as_ref(), sink, reuse)?
        };
        let mut result = match &recorder {
            Some(recorder) => {
                let snapshot = self.store.snapshot();
                let estimates = StoreEstimates(&snapshot);
                report_result(PlanReport::new(plan, &estimates, Some(recorder)))
            }
            None => result,
        };
        result.memory_peak = memory.peak();
        Ok(result)
    }

    /// Automatic property indexing (Neptune users never write `CREATE INDEX`): before a
    /// query that seeks nodes by (label, key) runs, the index on that key for the label the
    /// seek uses (the one with the fewest nodes) is created if it does not exist, the label
    /// has at least [`AUTO_INDEX_MIN_NODES`] nodes and no write transaction is running. The
    /// index is then durable and maintained like one made by `CREATE INDEX`; the first
    /// query pays for building it (one sort), later ones take index time. Below the
    /// threshold, or while a writer is busy, seeks use the per-query hash lookup instead.
    ///
    /// Building an index takes long on a big label: a query running in a time slice (on a
    /// connection's thread, see `CancelToken::with_slice`) that would build one gives its
    /// slice up at once instead, so the index is built on a worker.
    fn ensure_indexes(
        &self,
        seek_keys: &[(Vec<String>, String)],
        cancel: &CancelToken,
    ) -> Result<(), Error> {
        let missing = self.indexes_to_build(seek_keys);
        if !missing.is_empty() && cancel.sliced() {
            return Err(Error::new(
                ErrorCode::SliceExpired,
                "building an index does not fit in a time slice",
            ));
        }
        for (label, key) in missing {
            // A failure here is a storage failure, which the store keeps and reports to
            // the next write; this query can still answer without the index.
            let _ = self.store.try_create_index(label, key);
        }
        Ok(())
    }

    /// The `(label, key)` indexes [`ensure_indexes`](Self::ensure_indexes) would build for
    /// these seeks now.
    fn indexes_to_build<'k>(
        &self,
        seek_keys: &'k [(Vec<String>, String)],
    ) -> Vec<(&'k str, &'k str)> {
        use nereid_storage::GraphRead;
        if seek_keys.is_empty() {
            return Vec::new();
        }
        let snap = self.store.snapshot();
        let mut missing = Vec::new();
        for (labels, key) in seek_keys {
            let Some(k) = snap.key_id(key) else { continue };
            let smallest = labels
                .iter()
                .filter_map(|l| Some((l, snap.label_id(l)?)))
                .min_by_key(|(_, id)| snap.label_count(*id));
            let Some((name, l)) = smallest else { continue };
            if snap.label_count(l) >= AUTO_INDEX_MIN_NODES
                && !snap.property_indexes().contains(&(l, k))
            {
                missing.push((name.as_str(), key.as_str()));
            }
        }
        missing
    }

    /// A run of `prepared` outlasted its time slice on a caller's thread (see
    /// `QueryManager::run_or_submit`): unless it gave the slice up to build an index, which
    /// later runs will not need, its next runs go to a worker at once.
    fn note_slice_expired(&self, prepared: &Prepared) {
        if self.indexes_to_build(&prepared.seek_keys).is_empty() {
            prepared.outlasted_slice();
        }
    }

    /// The property-graph summary (GetPropertygraphSummary) from the store's exact counters,
    /// or `StatisticsNotAvailableException` after the statistics were deleted.
    pub fn graph_summary(&self) -> Result<SummaryReport, Error> {
        self.statistics.summary(&self.store)
    }

    /// GetPropertygraphStatistics.
    pub fn statistics_status(&self) -> StatisticsStatus {
        self.statistics.status(&self.store)
    }

    /// ManagePropertygraphStatistics; `refresh` returns the new statistics id.
    pub fn manage_statistics(&self, mode: StatisticsMode) -> Result<Option<i64>, Error> {
        self.check_writable()?;
        let answer = self.statistics.manage(&self.store, mode);
        // Fresh statistics: let every query be planned again from them.
        self.plans.clear();
        Ok(answer)
    }

    /// Forgets every cached plan: the next run of each query is planned from the store's
    /// statistics as they are now.
    pub fn clear_plan_cache(&self) {
        self.plans.clear();
    }

    /// DeletePropertygraphStatistics; `false` when there was nothing to delete.
    pub fn delete_statistics(&self) -> Result<bool, Error> {
        self.check_writable()?;
        Ok(self.statistics.delete(&self.store))
    }

    /// Neptune's fast reset: removes every node, relationship, index and dictionary entry,
    /// durably (a logged reset, then checkpoints that drop the old files), in time
    /// independent of the graph's size apart from freeing its memory. Waits for a running
    /// write transaction; callers cancel queries first (the query manager does).
    pub fn fast_reset(&self) -> Result<(), Error> {
        self.check_writable()?;
        // An idle open transaction holds the writer role the reset waits for.
        self.transactions
            .abort_all("the database was reset (fast reset)");
        self.store.reset()?;
        self.statistics.reset();
        self.plans.clear();
        Ok(())
    }

    fn check_writable(&self) -> Result<(), Error> {
        if self.read_only {
            return Err(Error::new(ErrorCode::ReadOnlyViolation, READ_ONLY_MESSAGE));
        }
        Ok(())
    }

    /// Registers a procedure callable with `CALL`.
    pub fn register_procedure(&self, procedure: TableProcedure) {
        let mut guard = self.procedures.write().unwrap_or_else(|p| p.into_inner());
        let mut next = (**guard).clone();
        next.insert(procedure);
        *guard = Arc::new(next);
        self.plans.clear();
    }

    fn procedures(&self) -> Arc<Procedures> {
        self.procedures
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// At most this many clauses and pattern steps in one query. Binding, planning, optimizing,
/// building and running recurse once per operator of a chain, within the query threads'
/// stack (`manager::QUERY_THREAD_STACK`): a server with 64 MiB stacks ran 20,000 `CREATE ()`
/// clauses and died of a stack overflow at 50,000, so this keeps a wide margin while no
/// real query comes near it.
pub const MAX_PLAN_SIZE: usize = 5_000;

/// Refuses a query whose plan would be deeper than [`MAX_PLAN_SIZE`] operators, before any
/// stage recurses over it.
fn check_plan_size(query: &nereid_cypher::ast::Query) -> Result<(), Error> {
    use nereid_cypher::ast::ClauseKind;
    let steps = |p: &nereid_cypher::ast::PatternPart| 1 + p.element.chain.len();
    let size: usize = std::iter::once(&query.first)
        .chain(query.unions.iter().map(|u| &u.query))
        .flat_map(|q| &q.clauses)
        .map(|c| match &c.kind {
            ClauseKind::Match(m) => 1 + m.pattern.parts.iter().map(steps).sum::<usize>(),
            ClauseKind::Create(c) => 1 + c.pattern.parts.iter().map(steps).sum::<usize>(),
            ClauseKind::Merge(m) => 1 + steps(&m.pattern),
            _ => 1,
        })
        .sum();
    if size > MAX_PLAN_SIZE {
        return Err(Error::compile(
            ErrorCode::QueryTooLarge,
            format!(
                "The query has {size} clauses and pattern steps; at most {MAX_PLAN_SIZE} are supported in one query"
            ),
        ));
    }
    Ok(())
}

/// The planner's estimates, read off a snapshot.
struct StoreEstimates<'a>(&'a dyn nereid_storage::GraphRead);

impl planner::Estimates for StoreEstimates<'_> {
    fn label_count(&self, label: &str) -> u64 {
        self.0.label_id(label).map_or(0, |l| self.0.label_count(l))
    }

    fn node_count(&self) -> u64 {
        self.0.node_count()
    }

    fn type_count(&self, ty: &str) -> u64 {
        self.0.type_id(ty).map_or(0, |t| self.0.type_count(t))
    }

    fn rel_count(&self) -> u64 {
        self.0.rel_count()
    }

    fn type_end_label_count(&self, ty: &str, dir: nereid_storage::Dir, label: &str) -> u64 {
        match (self.0.type_id(ty), self.0.label_id(label)) {
            (Some(t), Some(l)) => self.0.type_end_label_count(t, dir, l),
            _ => 0,
        }
    }

    fn label_pair_count(&self, ty: &str, start: &str, end: &str) -> Option<u64> {
        // A name the store does not know has no relationships: 0, not "unknown".
        match (
            self.0.type_id(ty),
            self.0.label_id(start),
            self.0.label_id(end),
        ) {
            (Some(t), Some(a), Some(b)) => Some(self.0.type_label_pair_count(t, a, b)),
            _ => Some(0),
        }
    }

    fn key_values(&self, label: &str, key: &str) -> Option<(u64, u64)> {
        let stats = self
            .0
            .index_stats(self.0.label_id(label)?, self.0.key_id(key)?)?;
        Some((stats.entries, stats.distinct))
    }

    fn degree_histogram(
        &self,
        ty: &str,
        dir: nereid_storage::Dir,
    ) -> Option<nereid_storage::DegreeHistogram> {
        let Some(t) = self.0.type_id(ty) else {
            // A type the store does not know: no node has such a relationship.
            return Some(Default::default());
        };
        let stats = self.0.type_stats(t);
        let histogram = match dir {
            nereid_storage::Dir::Out => stats.out_degrees,
            nereid_storage::Dir::In => stats.in_degrees,
            nereid_storage::Dir::Both => return None,
        };
        // Relationships without counted nodes: a store that keeps no histograms.
        (histogram.nodes() > 0 || stats.relationships == 0).then_some(histogram)
    }
}

/// The result of EXPLAIN and PROFILE: the report's text in one `plan` column.
fn report_result(report: PlanReport) -> QueryResult {
    QueryResult {
        columns: vec!["plan".to_owned()],
        rows: vec![vec![Value::String(report.to_text())]],
        plan: Some(report),
        ..Default::default()
    }
}

/// Runs a read-only plan on `snapshot`, lending the snapshot to helper threads, except
/// for PROFILE, which counts rows per operator on one thread.
fn run_read<'a>(
    plan: &'a LogicalPlan,
    snapshot: &'a nereid_storage::Snapshot,
    env: &Env<'a>,
    recorder: Option<&Recorder>,
    sink: Option<&mut dyn RowSink>,
    reuse: Option<(&Arc<LogicalPlan>, u64)>,
) -> Result<QueryResult, Error> {
    let parallel = recorder.is_none().then_some(exec::SharedRead {
        graph: snapshot,
        plan,
        params: env.params,
    });
    let env = Env { parallel, ..*env };
    run(
        plan,
        GraphAccess::Read(snapshot),
        &env,
        recorder,
        sink,
        reuse,
    )
}

/// Runs `plan`'s operators. With `reuse` (the plan's `Arc` and the plan generation), the
/// operators come from and go back to this thread's kept trees (`exec::trees`).
fn run<'a>(
    plan: &LogicalPlan,
    graph: GraphAccess<'a>,
    env: &'a Env<'a>,
    recorder: Option<&Recorder>,
    mut sink: Option<&mut dyn RowSink>,
    reuse: Option<(&Arc<LogicalPlan>, u64)>,
) -> Result<QueryResult, Error> {
    let mut cx = Ctx { graph, env };
    let runtime = |mut e: Error| {
        // Errors raised while running are runtime errors, except a missing parameter.
        if e.code != ErrorCode::MissingQueryParameter && e.phase == Phase::CompileTime {
            e.phase = Phase::Runtime;
        }
        e
    };
    let kept = reuse.and_then(|(p, generation)| exec::trees::take(p, generation));
    let (mut root, reusable) = match kept {
        Some(tree) => (tree, true),
        None => {
            let mut builder = physical::Builder::new(plan);
            if let Some(r) = recorder {
                builder = builder.profiled(r.clone());
            }
            let root = builder.build_root()?;
            (root, builder.reusable())
        }
    };
    // The result is held until it is returned: it counts against the budget too.
    let mut held = Reservation::new(env.memory);
    let mut rows = Vec::new();
    let mut streamed_rows = 0;
    loop {
        let batch = root.next(&mut cx).map_err(runtime)?;
        let Some(batch) = batch else { break };
        cx.check()?;
        if let Some(sink) = sink.as_mut() {
            if plan.columns.is_empty() {
                continue;
            }
            // Each batch leaves with the nodes and relationships it names, read now from
            // the graph that produced it.
            let rows = batch.into_rows();
            let (nodes, rels) = materialize::materialize(&rows, cx.graph());
            streamed_rows += rows.len();
            let more = sink.rows(
                QueryResult {
                    columns: plan.columns.clone(),
                    rows,
                    nodes,
                    rels,
                    ..QueryResult::default()
                },
                env.cancel,
            )?;
            if !more {
                break;
            }
            continue;
        }
        for row in batch.rows() {
            held.grow(row_size(row)).map_err(runtime)?;
        }
        rows.extend(batch.into_rows());
    }
    match reuse {
        Some((p, generation)) if reusable && env.memory.peak() <= exec::trees::MAX_PEAK_BYTES => {
            exec::trees::keep(p, generation, root)
        }
        _ => drop(root),
    }
    let rows = if plan.columns.is_empty() {
        Vec::new()
    } else {
        rows
    };
    let (nodes, rels) = materialize::materialize(&rows, cx.graph());
    let result = QueryResult {
        columns: plan.columns.clone(),
        rows,
        nodes,
        rels,
        plan: None,
        // Set by the caller, which owns the budget.
        memory_peak: 0,
        streamed_rows,
        commit_seq: None,
    };
    // The nodes and relationships the rows name are held with them (and, for a write,
    // before its commit: a result too large to hand out fails the query, not after it).
    // (`held` has the rows already, charged as `held_bytes` charges them.)
    held.grow(result.graph_bytes()).map_err(runtime)?;
    Ok(result)
}
