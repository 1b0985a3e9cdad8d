//! What a query returns: columns, rows, and the nodes and relationships the rows refer to,
//! materialised from the transaction that produced them.

use std::collections::HashMap;

use nereid_common::{CancelToken, Error};
use nereid_value::{Map, NodeId, RelId, Value};

use crate::exec::memory::{row_size, value_size, ALLOCATION};

/// A node as seen by the query that returned it.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeData {
    /// Neptune `~id`.
    pub id: String,
    pub labels: Vec<String>,
    pub properties: Map,
}

/// A relationship as seen by the query that returned it.
#[derive(Debug, Clone, PartialEq)]
pub struct RelData {
    /// Neptune `~id`.
    pub id: String,
    pub start: NodeId,
    pub end: NodeId,
    /// `~id` of the start and end nodes.
    pub start_id: String,
    pub end_id: String,
    pub rel_type: String,
    pub properties: Map,
}

/// The result of one query. `rows[i][j]` is the value of column `j`; nodes, relationships
/// and paths inside values are ids that resolve through [`QueryResult::node`] and
/// [`QueryResult::rel`].
#[derive(Debug, Clone, Default)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    pub nodes: HashMap<NodeId, NodeData>,
    pub rels: HashMap<RelId, RelData>,
    /// EXPLAIN and PROFILE: the plan report (the rows then hold its text).
    pub plan: Option<crate::profile::PlanReport>,
    /// Most bytes the query held at once, as charged to its memory budget.
    pub memory_peak: usize,
    /// Rows handed to a [`RowSink`] instead of being kept in `rows`.
    pub streamed_rows: usize,
    /// For a query that ran in its own write transaction (one that may write, outside an
    /// interactive transaction): the version its effects are part of once committed (its
    /// own if it changed anything, else the one it started from).
    pub commit_seq: Option<u64>,
}

/// Receives the rows of a read-only query as they are produced (see
/// `Database::execute_streaming`), on the thread that runs the query.
pub trait RowSink: Send {
    /// One batch of rows (`columns`, `rows`, and the `nodes` and `rels` they refer to).
    /// May block while the consumer's buffer is full, checking `cancel` meanwhile. `Ok(false)`:
    /// the consumer wants no more rows, and the query stops early and succeeds (as with a
    /// `LIMIT`); an error stops the query, which then fails with that error.
    fn rows(&mut self, batch: QueryResult, cancel: &CancelToken) -> Result<bool, Error>;
}

impl QueryResult {
    /// Estimated bytes the result holds: its rows, and the nodes and relationships they
    /// name (what the query's memory budget is charged for it).
    pub fn held_bytes(&self) -> usize {
        self.rows.iter().map(|r| row_size(r)).sum::<usize>() + self.graph_bytes()
    }

    /// Estimated bytes of the nodes and relationships the result carries (part of
    /// [`held_bytes`](Self::held_bytes)).
    pub fn graph_bytes(&self) -> usize {
        let map = |m: &Map| {
            m.iter()
                .map(|(k, v)| ALLOCATION + k.capacity() + 48 + value_size(v))
                .sum::<usize>()
        };
        let text = |s: &String| ALLOCATION + s.capacity();
        let nodes: usize = self
            .nodes
            .values()
            .map(|n| {
                // The map entry (key, value, hash table slot) and the data's heap parts.
                64 + std::mem::size_of::<NodeData>()
                    + text(&n.id)
                    + n.labels.iter().map(text).sum::<usize>()
                    + n.labels.capacity() * std::mem::size_of::<String>()
                    + map(&n.properties)
            })
            .sum();
        let rels: usize = self
            .rels
            .values()
            .map(|r| {
                64 + std::mem::size_of::<RelData>()
                    + text(&r.id)
                    + text(&r.start_id)
                    + text(&r.end_id)
                    + text(&r.rel_type)
                    + map(&r.properties)
            })
            .sum();
        nodes + rels
    }

    pub fn node(&self, id: NodeId) -> Option<&NodeData> {
        self.nodes.get(&id)
    }

    pub fn rel(&self, id: RelId) -> Option<&RelData> {
        self.rels.get(&id)
    }
}
