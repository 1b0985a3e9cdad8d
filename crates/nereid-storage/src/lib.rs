//! The nereid graph store.
//!
//! The engine sees the store only through [`GraphRead`] (a consistent snapshot, or a write
//! transaction that sees its own writes) and [`GraphWrite`]. The store owns the in-memory
//! representation, durability (WAL, snapshots, recovery) and indexes.
//!
//! Ids: [`NodeId`]/[`RelId`] are dense internal ids, never reused within a process run;
//! every node and relationship also has a unique external string id (Neptune `~id`).
//!
//! # Entry points
//!
//! [`Store::open`] with a [`StoreConfig`] (`dir: None` = in memory), [`Store::snapshot`]
//! (a [`Snapshot`]: `GraphRead + Send + Sync + 'static`, an `Arc` clone), and
//! [`Store::begin_write`] (a [`WriteTxn`]: `GraphWrite + Send + 'static`).
//!
//! # Design
//!
//! * **Versions, not locks.** The graph is an immutable `graph::Graph` version shared through an
//!   `Arc`. Its big parts are chunked copy-on-write vectors (`chunked`): the writer clones
//!   the version shallowly and copies only the chunks it modifies; commit publishes the new
//!   version by swapping one pointer. A snapshot is that pointer: readers never block
//!   writers and are never blocked by them, and a snapshot never changes.
//! * **Serialised writers, snapshot isolation.** One write transaction at a time (others
//!   wait in [`Store::begin_write`], checking their cancel token every few milliseconds), so
//!   there are no write-write conflicts and the store never reports
//!   `ConcurrentModificationException`. A write transaction starts from the newest
//!   committed version and sees its own writes; dropping it discards everything.
//! * **Traversal layout.** Dense `u32` internal ids; per node one adjacency block holding the
//!   outgoing and the incoming list, each grouped by relationship type, 8 bytes per entry
//!   (`adj`); labels, types and keys
//!   are dictionary-encoded; property values are compact `pval::PVal`s; a chunked bitmap per
//!   label; counts per label and type.
//! * **External ids.** User-assigned `~id`s are kept in sharded maps; generated ones are
//!   UUID-shaped strings computed from the internal id and a per-store salt (`extid`) and
//!   cost no memory.
//! * **Durability** (`wal`, `checkpoint`, `recovery`, `store` modules). Every commit is a
//!   checksummed log record, fsynced before `commit` returns, with group commit across
//!   concurrent committers; checkpoints bound the log; recovery = newest checkpoint + log
//!   replay, a torn tail is cut off and reported, a corrupt record is an error naming file
//!   and offset. A `LOCK` file keeps a second process out; after an I/O error the store
//!   refuses writes (fail-stop) and keeps serving reads.
//! * **Change stream** (`stream` module, Neptune Streams): with
//!   [`Store::enable_streams`], every committed transaction's changes are recorded as
//!   `vl`/`vp`/`e`/`ep` records under one commit number, carried in the transaction's log
//!   record (durable iff the commit is) and kept in stream segments after checkpoints;
//!   [`Store::streams`] reads them by position.

mod adj;
mod checkpoint;
mod chunked;
mod codec;
mod ext_index;
mod extid;
mod graph;
mod index;
pub mod io;
mod pval;
mod read;
mod recovery;
mod store;
mod stream;
mod summary;
mod txn;
mod wal;

pub use io::{StdVfs, Vfs, VfsFile};
pub use store::{Committing, IoStats, OpenReport, Snapshot, Store, StoreConfig, WriteTxn};
pub use stream::{
    ChangeKind, ChangeOp, ChangeRecord, EventId, StreamPage, StreamStart, Streams,
    DEFAULT_EXPIRY as DEFAULT_STREAM_EXPIRY,
};
pub use summary::{EdgeStructure, GraphSummary, NodeStructure};
pub use txn::BulkWrite;

use nereid_common::Error;
use nereid_value::{NodeId, RelId, Value};

use std::ops::Bound;

/// The label Neptune gives a node created without one (see [`Store::set_labelled_nodes`]).
pub const DEFAULT_LABEL: &str = "vertex";

/// Dictionary-encoded label.
pub type LabelId = u32;
/// Dictionary-encoded relationship type.
pub type TypeId = u32;
/// Dictionary-encoded property key.
pub type KeyId = u32;

/// What one property index holds (planner input): `entries / distinct` nodes share a value
/// on average.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexStats {
    /// Nodes with the label and an indexable value of the key.
    pub entries: u64,
    /// Distinct values among them (`1` and `1.0` are one value, as Cypher compares them).
    pub distinct: u64,
}

/// Statistics of one relationship type, exact at every version (planner input).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TypeStats {
    /// Live relationships of this type.
    pub relationships: u64,
    /// Nodes with at least one outgoing relationship of this type.
    pub sources: u64,
    /// Nodes with at least one incoming relationship of this type.
    pub targets: u64,
    /// The sources by their number of outgoing relationships of this type.
    pub out_degrees: DegreeHistogram,
    /// The targets by their number of incoming relationships of this type.
    pub in_degrees: DegreeHistogram,
}

/// Nodes by their degree (relationships of one type in one direction), in powers of two:
/// bucket `b` counts the nodes whose degree lies in `2^b ..= 2^(b+1) - 1`. Nodes of degree
/// 0 are not counted, so the buckets add up to the type's sources (or targets). Exact at
/// every version; what the planner reads the selectivity of degree predicates from
/// (`COUNT { (p)-[:KNOWS]->() } > 10`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DegreeHistogram(pub [u64; 32]);

impl DegreeHistogram {
    /// The bucket of a degree of at least 1.
    pub fn bucket(degree: u32) -> usize {
        31 - degree.leading_zeros() as usize
    }

    /// Counts one node whose degree changed `from` → `to` (0 for none).
    pub(crate) fn moved(&mut self, from: u32, to: u32) {
        if from > 0 {
            let n = &mut self.0[Self::bucket(from)];
            *n = n.saturating_sub(1);
        }
        if to > 0 {
            self.0[Self::bucket(to)] += 1;
        }
    }

    /// Nodes counted (of degree 1 or more).
    pub fn nodes(&self) -> u64 {
        self.0.iter().sum()
    }

    /// Of the nodes counted, the estimated share whose degree is at least `k`: whole
    /// buckets at and above `k`'s, and of `k`'s own bucket the part from `k` up, taking
    /// its degrees as evenly spread. 1 for `k <= 1`; 0 with no nodes.
    pub fn share_at_least(&self, k: f64) -> f64 {
        let total = self.nodes();
        if total == 0 {
            return 0.0;
        }
        if k <= 1.0 {
            return 1.0;
        }
        let mut above = 0.0;
        for (b, &n) in self.0.iter().enumerate() {
            let lo = (1u64 << b) as f64;
            let hi = lo * 2.0; // exclusive
            if k <= lo {
                above += n as f64;
            } else if k < hi {
                above += n as f64 * (hi - k.ceil()) / lo;
            }
        }
        above / total as f64
    }
}

impl TypeStats {
    /// Average outgoing degree over the nodes that have at least one such relationship.
    pub fn avg_out_degree(&self) -> f64 {
        if self.sources == 0 {
            0.0
        } else {
            self.relationships as f64 / self.sources as f64
        }
    }

    /// Average incoming degree over the nodes that have at least one such relationship.
    pub fn avg_in_degree(&self) -> f64 {
        if self.targets == 0 {
            0.0
        } else {
            self.relationships as f64 / self.targets as f64
        }
    }
}

/// What each row of a bulk relationship scan holds, column by column
/// ([`GraphRead::scan_rel_rows`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelColumn {
    /// The relationship itself.
    Rel,
    /// Its start node.
    Start,
    /// Its end node.
    End,
    /// The value of one of its properties (null when it has none).
    Prop(KeyId),
    /// Always null: a property key the store does not know (yet).
    Null,
}

/// A bulk scan of one relationship type: which relationships qualify and what their rows
/// hold ([`GraphRead::scan_rel_rows`]).
#[derive(Debug, Clone, Copy)]
pub struct RelRowScan<'a> {
    pub rel_type: TypeId,
    /// Labels the start node must carry (all of them).
    pub start_labels: &'a [LabelId],
    /// Labels the end node must carry.
    pub end_labels: &'a [LabelId],
    pub columns: &'a [RelColumn],
    /// A page ends once the values appended own about this many heap bytes (strings,
    /// lists), so that large values are not read a thousand at a time; it holds at least
    /// one row.
    pub max_heap: usize,
}

/// About the heap bytes a value owns (its strings and list elements).
pub fn value_heap_estimate(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len(),
        Value::List(items) => items
            .iter()
            .map(|i| std::mem::size_of::<Value>() + value_heap_estimate(i))
            .sum(),
        Value::Map(m) => m
            .iter()
            .map(|(k, v)| k.len() + std::mem::size_of::<Value>() + value_heap_estimate(v))
            .sum(),
        Value::Temporal(_) => 64,
        _ => 0,
    }
}

/// Direction of an expansion, seen from the node being expanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dir {
    Out,
    In,
    Both,
}

impl Dir {
    /// The direction seen from the other end.
    pub fn reverse(self) -> Dir {
        match self {
            Dir::Out => Dir::In,
            Dir::In => Dir::Out,
            Dir::Both => Dir::Both,
        }
    }
}

/// Read access to one consistent state of the graph.
///
/// Every method on a deleted or unknown id returns an empty/false/`None` answer rather than
/// panicking. Batch methods append to a caller-provided buffer so operators can reuse
/// allocations.
pub trait GraphRead {
    // --- dictionaries (names are case-sensitive) ---
    fn label_id(&self, name: &str) -> Option<LabelId>;
    fn label_name(&self, id: LabelId) -> &str;
    fn type_id(&self, name: &str) -> Option<TypeId>;
    fn type_name(&self, id: TypeId) -> &str;
    fn key_id(&self, name: &str) -> Option<KeyId>;
    fn key_name(&self, id: KeyId) -> &str;

    // --- nodes ---
    /// Number of live nodes.
    fn node_count(&self) -> u64;
    /// All live nodes in id order.
    fn node_ids(&self) -> Box<dyn Iterator<Item = NodeId> + '_>;
    /// Live nodes carrying `label`, in id order (label index).
    fn nodes_with_label(&self, label: LabelId) -> Box<dyn Iterator<Item = NodeId> + '_>;
    /// Number of live nodes carrying `label` (statistics).
    fn label_count(&self, label: LabelId) -> u64;
    fn node_exists(&self, n: NodeId) -> bool;
    fn node_by_external_id(&self, id: &str) -> Option<NodeId>;
    fn node_external_id(&self, n: NodeId) -> Option<&str>;
    fn node_labels(&self, n: NodeId, out: &mut Vec<LabelId>);
    fn node_has_label(&self, n: NodeId, label: LabelId) -> bool;
    fn node_property(&self, n: NodeId, key: KeyId) -> Option<Value>;
    fn node_properties(&self, n: NodeId, out: &mut Vec<(KeyId, Value)>);
    /// `None` when the node does not exist, else its property (one record lookup where
    /// `node_exists` + `node_property` take two).
    fn live_node_property(&self, n: NodeId, key: KeyId) -> Option<Option<Value>> {
        self.node_exists(n).then(|| self.node_property(n, key))
    }
    /// Nodes with `label` whose property `key` equals `value` (Cypher equality), using a
    /// property index when one exists; `None` when there is no index for (label, key).
    fn nodes_by_property(&self, label: LabelId, key: KeyId, value: &Value) -> Option<Vec<NodeId>>;

    // --- relationships ---
    fn rel_count(&self) -> u64;
    fn rel_ids(&self) -> Box<dyn Iterator<Item = RelId> + '_>;
    /// Number of live relationships of type `t` (statistics).
    fn type_count(&self, t: TypeId) -> u64;
    fn rel_exists(&self, r: RelId) -> bool;
    fn rel_by_external_id(&self, id: &str) -> Option<RelId>;
    fn rel_external_id(&self, r: RelId) -> Option<&str>;
    /// `(start, end, type)`.
    fn rel_info(&self, r: RelId) -> Option<(NodeId, NodeId, TypeId)>;
    fn rel_property(&self, r: RelId, key: KeyId) -> Option<Value>;
    fn rel_properties(&self, r: RelId, out: &mut Vec<(KeyId, Value)>);
    /// `None` when the relationship does not exist, else its property.
    fn live_rel_property(&self, r: RelId, key: KeyId) -> Option<Option<Value>> {
        self.rel_exists(r).then(|| self.rel_property(r, key))
    }

    /// Appends `(relationship, other node)` for every relationship of `n` in direction
    /// `dir` whose type is in `types` (all types when `types` is empty). With `Dir::Both`
    /// a self-loop is reported once.
    fn expand(&self, n: NodeId, dir: Dir, types: &[TypeId], out: &mut Vec<(RelId, NodeId)>);
    /// Number of relationships `expand` would report.
    fn degree(&self, n: NodeId, dir: Dir, types: &[TypeId]) -> usize;
    /// What [`expand`](GraphRead::expand) reports whose other node is `to` (expand-into).
    /// Stores keep adjacency sorted by other node and override this with a binary search.
    fn expand_to(
        &self,
        n: NodeId,
        dir: Dir,
        types: &[TypeId],
        to: NodeId,
        out: &mut Vec<(RelId, NodeId)>,
    ) {
        let start = out.len();
        self.expand(n, dir, types, out);
        let mut i = start;
        while i < out.len() {
            if out[i].1 == to {
                i += 1;
            } else {
                out.swap_remove(i);
            }
        }
    }

    /// A hint that the adjacency of `nodes` is about to be read (an expansion's next batch
    /// of rows): the store may fetch it into the cache now, all at once, so that the reads
    /// that follow one by one do not each wait for memory. Changes nothing.
    fn prefetch_adjacency(&self, nodes: &[NodeId]) {
        let _ = nodes;
    }

    /// A hint that property `key` of `nodes` is about to be read (a projection's next batch
    /// of rows), like [`prefetch_adjacency`](GraphRead::prefetch_adjacency). Changes nothing.
    fn prefetch_node_property(&self, nodes: &[NodeId], key: KeyId) {
        let _ = (nodes, key);
    }

    /// [`expand`](GraphRead::expand) for a batch of nodes: appends `(index into nodes,
    /// relationship, other node)`, in the order of `nodes`. Stores may overlap the memory
    /// accesses of the whole batch, which makes this faster than one call per node.
    fn expand_batch(
        &self,
        nodes: &[NodeId],
        dir: Dir,
        types: &[TypeId],
        out: &mut Vec<(u32, RelId, NodeId)>,
    ) {
        let mut one = Vec::new();
        for (i, &n) in nodes.iter().enumerate() {
            one.clear();
            self.expand(n, dir, types, &mut one);
            out.extend(one.iter().map(|&(r, m)| (i as u32, r, m)));
        }
    }

    // --- additions (default implementations keep other implementors compiling) ---

    /// A resumable scan: appends up to `max` live nodes (carrying `label`, when given) with
    /// ids `>= from`, in id order; returns the id to continue from, `None` when done.
    fn scan_nodes(
        &self,
        label: Option<LabelId>,
        from: u64,
        max: usize,
        out: &mut Vec<NodeId>,
    ) -> Option<u64> {
        let it: Box<dyn Iterator<Item = NodeId> + '_> = match label {
            Some(l) => self.nodes_with_label(l),
            None => self.node_ids(),
        };
        let mut it = it.skip_while(|n| n.0 < from);
        for _ in 0..max {
            match it.next() {
                Some(n) => out.push(n),
                None => return None,
            }
        }
        it.next().map(|n| n.0)
    }

    /// Relationships of type `t` whose start (`Dir::Out`) or end (`Dir::In`) node carries
    /// `label` (statistics, exact at every version).
    fn type_end_label_count(&self, t: TypeId, dir: Dir, label: LabelId) -> u64 {
        let _ = (t, dir, label);
        0
    }

    /// Relationships of type `t` from a node carrying `start` to a node carrying `end`
    /// (statistics, exact at every version).
    fn type_label_pair_count(&self, t: TypeId, start: LabelId, end: LabelId) -> u64 {
        let _ = (t, start, end);
        0
    }

    /// A resumable scan of the relationships of type `t`: appends up to `max` of them with
    /// ids `>= from` as `(relationship, start, end)`, in id order; returns the id to
    /// continue from, `None` when done.
    fn scan_rels(
        &self,
        t: TypeId,
        from: u64,
        max: usize,
        out: &mut Vec<(RelId, NodeId, NodeId)>,
    ) -> Option<u64> {
        let _ = (t, from, max, out);
        None
    }

    /// A resumable bulk scan of the relationships of `scan.rel_type` with ids in
    /// `from..to` whose ends carry the scan's labels, in id order: appends one row of
    /// `scan.columns.len()` values per relationship to `out` (row after row, no separators),
    /// at most `max` rows. Returns the id to continue from — `to` itself when the range is
    /// done but the store holds ids beyond it — and `None` when no relationship id at or
    /// after the place it stopped exists. What aggregations over a whole relationship type
    /// read: one pass over the records, no lookup per relationship and property.
    fn scan_rel_rows(
        &self,
        scan: &RelRowScan<'_>,
        from: u64,
        to: u64,
        max: usize,
        out: &mut Vec<Value>,
    ) -> Option<u64> {
        let mut found = Vec::new();
        let next = self.scan_rels(scan.rel_type, from, max, &mut found);
        let carries =
            |n: NodeId, labels: &[LabelId]| labels.iter().all(|&l| self.node_has_label(n, l));
        let mut heap = 0;
        for (r, a, b) in found {
            if r.0 >= to {
                return Some(to);
            }
            if !carries(a, scan.start_labels) || !carries(b, scan.end_labels) {
                continue;
            }
            if heap >= scan.max_heap {
                return Some(r.0);
            }
            for c in scan.columns {
                let v = match *c {
                    RelColumn::Rel => Value::Relationship(r),
                    RelColumn::Start => Value::Node(a),
                    RelColumn::End => Value::Node(b),
                    RelColumn::Prop(k) => self.rel_property(r, k).unwrap_or(Value::Null),
                    RelColumn::Null => Value::Null,
                };
                heap += value_heap_estimate(&v);
                out.push(v);
            }
        }
        match next {
            Some(n) if n > to => Some(to),
            other => other,
        }
    }

    /// Nodes with `label` whose property `key` lies within the bounds, by Cypher
    /// comparison (only values comparable with the bounds qualify; a null bound matches
    /// nothing), in node id order, using a property index. `None` when (label, key) has no
    /// index or the bounds are not indexable (lists): the caller then scans.
    fn nodes_by_property_range(
        &self,
        label: LabelId,
        key: KeyId,
        lower: Bound<&Value>,
        upper: Bound<&Value>,
    ) -> Option<Vec<NodeId>> {
        let _ = (label, key, lower, upper);
        None
    }

    /// Nodes with `label` whose string property `key` starts with `prefix`, from a
    /// property index; `None` when (label, key) has no index.
    fn nodes_by_property_prefix(
        &self,
        label: LabelId,
        key: KeyId,
        prefix: &str,
    ) -> Option<Vec<NodeId>> {
        let _ = (label, key, prefix);
        None
    }

    /// The property indexes, as `(label, key)`; `~id` is always indexed (see
    /// [`node_by_external_id`](GraphRead::node_by_external_id)) and not listed.
    fn property_indexes(&self) -> Vec<(LabelId, KeyId)> {
        Vec::new()
    }

    /// How many property indexes there are (as [`property_indexes`](GraphRead::property_indexes)
    /// lists, without the list).
    fn index_count(&self) -> usize {
        self.property_indexes().len()
    }

    /// What the property index on (`label`, `key`) holds, if there is one (statistics, exact
    /// at every version).
    fn index_stats(&self, label: LabelId, key: KeyId) -> Option<IndexStats> {
        let _ = (label, key);
        None
    }

    /// Statistics of relationship type `t`.
    fn type_stats(&self, t: TypeId) -> TypeStats {
        TypeStats {
            relationships: self.type_count(t),
            ..TypeStats::default()
        }
    }
}

/// A write transaction: reads see the transaction's own writes. Dropping it without
/// [`commit`](GraphWrite::commit) rolls everything back.
pub trait GraphWrite: GraphRead {
    fn intern_label(&mut self, name: &str) -> LabelId;
    fn intern_type(&mut self, name: &str) -> TypeId;
    fn intern_key(&mut self, name: &str) -> KeyId;

    /// Creates a node; `external_id` `None` generates a UUID. A taken id →
    /// `ErrorCode::DuplicateData`.
    fn create_node(
        &mut self,
        labels: &[LabelId],
        properties: Vec<(KeyId, Value)>,
        external_id: Option<String>,
    ) -> Result<NodeId, Error>;
    fn create_rel(
        &mut self,
        start: NodeId,
        end: NodeId,
        rel_type: TypeId,
        properties: Vec<(KeyId, Value)>,
        external_id: Option<String>,
    ) -> Result<RelId, Error>;
    /// Sets (or with `Value::Null` removes) a property. Only storable values (null, bool,
    /// int, float, string, lists of those) reach the store; the engine checks types.
    fn set_node_property(&mut self, n: NodeId, key: KeyId, value: Value) -> Result<(), Error>;
    fn set_rel_property(&mut self, r: RelId, key: KeyId, value: Value) -> Result<(), Error>;
    /// Returns whether the label was added (false if already there).
    fn add_label(&mut self, n: NodeId, label: LabelId) -> Result<bool, Error>;
    /// Returns whether the label was removed.
    fn remove_label(&mut self, n: NodeId, label: LabelId) -> Result<bool, Error>;
    /// Deletes a node that has no relationships (else `ErrorCode::DeleteConnectedNode`).
    fn delete_node(&mut self, n: NodeId) -> Result<(), Error>;
    fn delete_rel(&mut self, r: RelId) -> Result<(), Error>;

    /// Makes the transaction durable (WAL fsync) and visible; only then is it acknowledged.
    fn commit(self: Box<Self>) -> Result<(), Error>;

    // --- additions ---

    /// Creates a property index on (label, key), filled from existing data, maintained by
    /// every later change, persisted. Returns `false` if it already existed.
    fn create_index(&mut self, label: LabelId, key: KeyId) -> Result<bool, Error> {
        let _ = (label, key);
        Err(Error::new(
            nereid_common::ErrorCode::UnsupportedOperation,
            "property indexes are not supported by this store",
        ))
    }

    /// Drops the property index on (label, key). Returns `false` if there was none.
    fn drop_index(&mut self, label: LabelId, key: KeyId) -> Result<bool, Error> {
        let _ = (label, key);
        Err(Error::new(
            nereid_common::ErrorCode::UnsupportedOperation,
            "property indexes are not supported by this store",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::DegreeHistogram;

    #[test]
    fn degree_buckets_are_powers_of_two() {
        let buckets: Vec<usize> = [1, 2, 3, 4, 7, 8, u32::MAX]
            .into_iter()
            .map(DegreeHistogram::bucket)
            .collect();
        assert_eq!(buckets, [0, 1, 1, 2, 2, 3, 31]);
    }

    #[test]
    fn the_share_at_least_k_spreads_a_bucket_evenly() {
        let mut h = DegreeHistogram::default();
        // 10 nodes of degree 1, 10 in 2..=3, 20 in 8..=15.
        h.0[0] = 10;
        h.0[1] = 10;
        h.0[3] = 20;
        assert_eq!(h.nodes(), 40);
        assert_eq!(h.share_at_least(0.0), 1.0);
        assert_eq!(h.share_at_least(1.0), 1.0);
        assert_eq!(h.share_at_least(2.0), 0.75);
        // Half of 2..=3 is 3 or more.
        assert_eq!(h.share_at_least(3.0), 0.625);
        assert_eq!(h.share_at_least(8.0), 0.5);
        // 12..=15 is half of 8..=15; 11.5 rounds up to 12.
        assert_eq!(h.share_at_least(12.0), 0.25);
        assert_eq!(h.share_at_least(11.5), 0.25);
        assert_eq!(h.share_at_least(16.0), 0.0);
        assert_eq!(DegreeHistogram::default().share_at_least(2.0), 0.0);
        h.moved(3, 8);
        h.moved(1, 0);
        assert_eq!((h.0[0], h.0[1], h.0[3]), (9, 9, 21));
    }
}
