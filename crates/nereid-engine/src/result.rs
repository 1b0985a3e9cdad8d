//! What a query returns: columns, rows, and the nodes and relationships the rows refer to,
//! materialised from the transaction that produced them.

use std::collections::HashMap;

use nereid_common::{CancelToken, Error};
use nereid_value::{Map, NodeId, RelId, Value};

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
    pub fn node(&self, id: NodeId) -> Option<&NodeData> {
        self.nodes.get(&id)
    }

    pub fn rel(&self, id: RelId) -> Option<&RelData> {
        self.rels.get(&id)
    }
}
