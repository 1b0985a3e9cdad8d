//! Neptune's statistics management (Get/Manage/DeletePropertygraphStatistics) and the graph
//! summary, over the counters the store keeps exact at every commit.
//!
//! Neptune computes its DFE statistics in the background, so they lag writes; nereid's
//! store keeps its counters (labels, types, property keys, structures) exact in every
//! version, and those same counters feed the planner's estimates. What this module adds is
//! Neptune's life cycle on top of them:
//!
//! ```text
//!            disableAutoCompute                    DELETE
//!   Live ─────────────────────────► Frozen ───────────────────► Deleted
//!    ▲  ◄─────────────────────────  │  ▲ refresh                   │
//!    │       enableAutoCompute      └──┘ (new snapshot of counts)  │
//!    └──── refresh, or (auto-compute on) the next commit ◄─────────┘
//! ```
//!
//! * **Live** (auto-compute on, the start state): the summary is the newest committed
//!   version's, and its computation time is that commit's time (Neptune recomputes after
//!   enough change; nereid's counters change with every commit).
//! * **Frozen** (auto-compute off): the summary as of the last refresh, as on Neptune where
//!   statistics stop following the data until refreshed.
//! * **Deleted**: no statistics; the summary answers `StatisticsNotAvailableException` until
//!   a refresh, or with auto-compute on, until the data changes.
//!
//! The state lives in memory: a restart starts Live with auto-compute on (Neptune's
//! default). The planner always reads the store's counters, whatever this state says.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use nereid_common::{Error, ErrorCode};
use nereid_storage::{GraphSummary, Store};

/// Neptune's message when statistics do not exist.
pub const NOT_AVAILABLE: &str = "Statistics are not computed yet, graph summary will be available after statistics computation is complete.";

/// A summary and when the statistics it comes from were computed.
#[derive(Debug, Clone)]
pub struct SummaryReport {
    pub summary: Arc<GraphSummary>,
    pub computed_at: SystemTime,
}

/// Neptune's `signatureInfo`: how big the statistics are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureInfo {
    /// Distinct structures (node structures plus edge structures).
    pub signature_count: u64,
    /// Instances described: nodes plus relationships.
    pub instance_count: u64,
    /// Distinct predicates: node property keys, relationship property keys and
    /// relationship types.
    pub predicate_count: u64,
}

/// What GetPropertygraphStatistics reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatisticsStatus {
    pub auto_compute: bool,
    pub active: bool,
    /// `None` when there are no statistics (Neptune reports `-1`).
    pub statistics_id: Option<i64>,
    pub date: Option<SystemTime>,
    pub signature_info: Option<SignatureInfo>,
}

/// A ManagePropertygraphStatistics `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatisticsMode {
    DisableAutoCompute,
    EnableAutoCompute,
    Refresh,
}

impl StatisticsMode {
    /// Parses the wire value (Neptune's enum: `disableAutoCompute` | `enableAutoCompute` |
    /// `refresh`).
    pub fn parse(mode: &str) -> Result<StatisticsMode, Error> {
        match mode {
            "disableAutoCompute" => Ok(StatisticsMode::DisableAutoCompute),
            "enableAutoCompute" => Ok(StatisticsMode::EnableAutoCompute),
            "refresh" => Ok(StatisticsMode::Refresh),
            other => Err(Error::new(
                ErrorCode::InvalidParameter,
                format!("Statistics command parameter 'mode' has unsupported value '{other}'"),
            )),
        }
    }
}

#[derive(Debug, Clone)]
enum Computed {
    Live,
    Frozen(SummaryReport),
    /// Deleted while the newest commit was `seq`.
    Deleted {
        seq: u64,
    },
}

#[derive(Debug)]
struct State {
    auto_compute: bool,
    computed: Computed,
}

/// The statistics life cycle of one database (see the module docs).
#[derive(Debug)]
pub struct Statistics {
    state: Mutex<State>,
}

impl Default for Statistics {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                auto_compute: true,
                computed: Computed::Live,
            }),
        }
    }
}

fn live(store: &Store) -> SummaryReport {
    let snapshot = store.snapshot();
    SummaryReport {
        summary: Arc::new(snapshot.summary()),
        computed_at: snapshot.committed_at(),
    }
}

/// Neptune's statistics ids are epoch milliseconds of the computation.
fn id_of(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn signature_info(s: &GraphSummary) -> SignatureInfo {
    SignatureInfo {
        signature_count: (s.node_structures.len() + s.edge_structures.len()) as u64,
        instance_count: s.num_nodes + s.num_edges,
        predicate_count: (s.node_properties.len() + s.edge_properties.len() + s.edge_labels.len())
            as u64,
    }
}

impl Statistics {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Deleted statistics come back (Live) once the data changed, if auto-compute is on.
    fn settle(state: &mut State, store: &Store) {
        if let Computed::Deleted { seq } = state.computed {
            if state.auto_compute && store.snapshot().seq() != seq {
                state.computed = Computed::Live;
            }
        }
    }

    /// The statistics in force, or `None` when deleted.
    fn current(&self, store: &Store) -> Option<SummaryReport> {
        let mut state = self.lock();
        Self::settle(&mut state, store);
        match &state.computed {
            Computed::Live => Some(live(store)),
            Computed::Frozen(report) => Some(report.clone()),
            Computed::Deleted { .. } => None,
        }
    }

    /// The graph summary (GetPropertygraphSummary).
    pub fn summary(&self, store: &Store) -> Result<SummaryReport, Error> {
        self.current(store)
            .ok_or_else(|| Error::new(ErrorCode::StatisticsNotAvailable, NOT_AVAILABLE))
    }

    /// GetPropertygraphStatistics.
    pub fn status(&self, store: &Store) -> StatisticsStatus {
        let auto_compute = self.lock().auto_compute;
        match self.current(store) {
            Some(report) => StatisticsStatus {
                auto_compute,
                active: true,
                statistics_id: Some(id_of(report.computed_at)),
                date: Some(report.computed_at),
                signature_info: Some(signature_info(&report.summary)),
            },
            None => StatisticsStatus {
                auto_compute,
                active: false,
                statistics_id: None,
                date: None,
                signature_info: None,
            },
        }
    }

    /// ManagePropertygraphStatistics; `refresh` returns the new statistics' id.
    pub fn manage(&self, store: &Store, mode: StatisticsMode) -> Option<i64> {
        let mut state = self.lock();
        Self::settle(&mut state, store);
        match mode {
            StatisticsMode::DisableAutoCompute => {
                state.auto_compute = false;
                if let Computed::Live = state.computed {
                    state.computed = Computed::Frozen(live(store));
                }
                None
            }
            StatisticsMode::EnableAutoCompute => {
                state.auto_compute = true;
                if let Computed::Frozen(_) = state.computed {
                    state.computed = Computed::Live;
                }
                None
            }
            StatisticsMode::Refresh => {
                let report = live(store);
                let id = id_of(report.computed_at);
                state.computed = if state.auto_compute {
                    Computed::Live
                } else {
                    Computed::Frozen(report)
                };
                Some(id)
            }
        }
    }

    /// DeletePropertygraphStatistics: `false` when there was nothing to delete.
    pub fn delete(&self, store: &Store) -> bool {
        let mut state = self.lock();
        Self::settle(&mut state, store);
        if let Computed::Deleted { .. } = state.computed {
            return false;
        }
        state.computed = Computed::Deleted {
            seq: store.snapshot().seq(),
        };
        true
    }

    /// Back to the start state (after a fast reset the statistics describe the empty graph).
    pub fn reset(&self) {
        let mut state = self.lock();
        state.computed = if state.auto_compute {
            Computed::Live
        } else {
            Computed::Deleted { seq: u64::MAX }
        };
    }
}
