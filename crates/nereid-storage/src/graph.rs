//! One immutable version of the graph, and the operations that derive the next one.
//!
//! Layout (see the crate docs for why):
//! * nodes and relationships live in chunked copy-on-write vectors indexed by their dense
//!   internal id (`None` = deleted or never committed);
//! * each node has two adjacency lists (outgoing, incoming), each grouped by relationship
//!   type: `groups` holds `(type, end offset)` sorted by type, `entries` holds
//!   `(relationship, other node)` as two `u32`s — 8 bytes per direction per relationship;
//! * labels, types and property keys are dictionary-encoded; property values are [`PVal`]s;
//! * a chunked bitmap per label is the label index; counts per label and per type are kept
//!   up to date for the planner; one more bitmap holds the live nodes, which a new
//!   relationship's ends are checked against (it stays in cache, the records do not);
//! * only user-assigned external ids are stored (sharded maps); generated ones are computed
//!   (see [`crate::extid`]).
//!
//! Every change is an [`Op`]. A write transaction validates and applies ops to its private
//! copy; recovery applies the same ops from the log, so both paths share one implementation.
//! `apply` either succeeds completely or changes nothing.
//!
//! `graph/bulk.rs` applies runs of ops with adjacency placement deferred (checkpoints, log
//! replay, bulk loads); `graph/counts.rs` keeps the node-structure and end-label counts.

// hashbrown's default hasher: these maps are looked up per created element, where
// SipHash cost 4% of a bulk load.
use hashbrown::HashMap;
use std::sync::Arc;

use nereid_common::{Error, ErrorCode};

use crate::adj::{Adj, Pending};
use crate::chunked::{ChunkedBitmap, ChunkedVec, ShardedMap};
use crate::ext_index::ExtIndex;
use crate::extid::IdCodec;
use crate::index::{IKey, PropIndex};
use crate::pval::{prop_get, prop_set, ArcSlice, PVal, Props};
use crate::summary::{with_keys, SummaryCounts};
use crate::{Dir, TypeStats};

/// How many distinct label sets are shared (a graph with more gives the rest their own).
const SHARED_LABEL_SETS: usize = 4096;

/// How many distinct small property lists of relationships are shared.
const SHARED_PROP_LISTS: usize = 1 << 16;

/// A property list of at most two scalars as a hashable key: `(key, kind, bits)` with the
/// exact bits (so `1` and `1.0`, or `0.0` and `-0.0`, stay different lists).
pub(crate) type ScalarProps = [(u32, u8, u64); 2];

fn scalar_key(props: &[(u32, PVal)]) -> Option<ScalarProps> {
    if props.is_empty() || props.len() > 2 {
        return None;
    }
    let mut key = [(u32::MAX, 0, 0); 2];
    for (slot, (k, v)) in key.iter_mut().zip(props) {
        *slot = match v {
            PVal::Bool(b) => (*k, 1, u64::from(*b)),
            PVal::Int(i) => (*k, 2, *i as u64),
            PVal::Float(f) => (*k, 3, f.to_bits()),
            _ => return None,
        };
    }
    Some(key)
}

/// Deferred adjacency entries (two per relationship) placed at once at most: bounds the
/// buffer of a bulk path to 40 MB.
pub(crate) const PLACE_AT: usize = 1 << 21;

/// [`scalar_key`] of the list `props_from_values` would make of `values`, without making
/// it: `None` unless it is one or two scalars under distinct keys.
fn scalar_key_of_values(values: &[(u32, nereid_value::Value)]) -> Option<ScalarProps> {
    use nereid_value::Value;
    if values.is_empty() || values.len() > 2 {
        return None;
    }
    let mut key = [(u32::MAX, 0, 0); 2];
    for (slot, (k, v)) in key.iter_mut().zip(values) {
        *slot = match v {
            Value::Bool(b) => (*k, 1, u64::from(*b)),
            Value::Int(i) => (*k, 2, *i as u64),
            Value::Float(f) => (*k, 3, f.to_bits()),
            _ => return None,
        };
    }
    if values.len() == 2 {
        match key[0].0.cmp(&key[1].0) {
            std::cmp::Ordering::Equal => return None,
            std::cmp::Ordering::Greater => key.swap(0, 1),
            std::cmp::Ordering::Less => {}
        }
    }
    Some(key)
}

/// Internal ids are stored as `u32`: 4 billion nodes and 4 billion relationships per store.
pub(crate) const MAX_ID: u64 = u32::MAX as u64;

/// A name dictionary (labels, types or property keys).
#[derive(Clone, Default)]
pub(crate) struct Dict {
    names: Vec<Box<str>>,
    map: HashMap<Box<str>, u32>,
}

impl Dict {
    pub fn id(&self, name: &str) -> Option<u32> {
        self.map.get(name).copied()
    }

    pub fn name(&self, id: u32) -> Option<&str> {
        self.names.get(id as usize).map(|s| &**s)
    }

    pub fn len(&self) -> u32 {
        self.names.len() as u32
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|s| &**s)
    }

    fn push(&mut self, name: Box<str>) -> u32 {
        let id = self.names.len() as u32;
        self.map.insert(name.clone(), id);
        self.names.push(name);
        id
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DictKind {
    Label,
    Type,
    Key,
}

#[derive(Clone, Debug)]
pub(crate) struct NodeRec {
    /// Sorted, no duplicates.
    pub labels: ArcSlice<u32>,
    pub props: Props,
    /// A user-assigned external id; `None` means the generated one.
    pub ext: Option<Arc<str>>,
}

#[derive(Clone, Debug)]
pub(crate) struct RelRec {
    pub start: u32,
    pub end: u32,
    pub ty: u32,
    /// Whether the external id is user-assigned (stored in `rel_ext_rev`).
    pub user_ext: bool,
    pub props: Props,
}

/// Per relationship type: how many of its relationships start (end) at a node carrying
/// each label — what lets the planner scan a type's relationships instead of expanding
/// from every node of a label (when all of them join the labels a pattern asks for).
#[derive(Clone, Debug, Default)]
pub(crate) struct EndLabels {
    /// `(label, relationships)`, sorted by label.
    pub start: Vec<(u32, u64)>,
    pub end: Vec<(u32, u64)>,
    /// `((start label, end label), relationships)`, sorted by the pair: a relationship
    /// counts once under every pair of a label of its start and a label of its end.
    pub pairs: Vec<((u32, u32), u64)>,
}

#[derive(Clone, Default)]
pub(crate) struct LabelIdx {
    pub count: u64,
    pub bits: ChunkedBitmap,
}

/// A change to the graph: what the write-ahead log records and recovery replays.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    Dict {
        kind: DictKind,
        id: u32,
        name: Box<str>,
    },
    CreateNode {
        id: u64,
        labels: ArcSlice<u32>,
        props: Props,
        ext: Option<Arc<str>>,
    },
    CreateRel {
        id: u64,
        start: u64,
        end: u64,
        ty: u32,
        props: Props,
        ext: Option<Arc<str>>,
    },
    SetNodeProp {
        id: u64,
        key: u32,
        value: Option<PVal>,
    },
    SetRelProp {
        id: u64,
        key: u32,
        value: Option<PVal>,
    },
    AddLabel {
        id: u64,
        label: u32,
    },
    RemoveLabel {
        id: u64,
        label: u32,
    },
    DeleteNode {
        id: u64,
    },
    DeleteRel {
        id: u64,
    },
    /// Creates the property index on (label, key); a no-op if it exists.
    CreateIndex {
        label: u32,
        key: u32,
    },
    DropIndex {
        label: u32,
        key: u32,
    },
    /// Removes everything; generated ids change with the new salt.
    Reset {
        salt: u64,
    },
}

pub(crate) type NodeVec = ChunkedVec<Option<NodeRec>, 6>;
/// Adjacency by node id, apart from the node records: creating a relationship copies (on
/// write) the chunks of adjacency it touches, not those of the records, whose clones would
/// touch three more allocations per node.
pub(crate) type AdjVec = ChunkedVec<Option<Adj>, 6>;
pub(crate) type RelVec = ChunkedVec<Option<RelRec>, 8>;

/// One version of the whole graph. Cloning is shallow (it shares every chunk).
#[derive(Clone)]
pub(crate) struct Graph {
    /// Sequence number of the last transaction this version contains.
    pub seq: u64,
    pub salt: u64,
    pub labels: Arc<Dict>,
    pub types: Arc<Dict>,
    pub keys: Arc<Dict>,
    pub nodes: NodeVec,
    /// Both directions of every node's adjacency (`None`: no relationships yet).
    pub adjacency: AdjVec,
    pub rels: RelVec,
    pub node_count: u64,
    pub rel_count: u64,
    /// The live nodes, one bit each: what a relationship's creation checks its ends
    /// against (37 KB for 300,000 nodes, cached, where the node records are not).
    pub live: ChunkedBitmap,
    pub label_idx: Arc<Vec<LabelIdx>>,
    /// One shared copy of every label set in use (most graphs have a handful), so a node
    /// costs a reference, not an allocation, for its labels.
    pub label_sets: Arc<HashMap<Box<[u32]>, ArcSlice<u32>>>,
    /// Shared small scalar property lists of relationships, by their exact contents.
    pub prop_lists: Arc<HashMap<ScalarProps, Props>>,
    pub type_stats: Arc<Vec<TypeStats>>,
    /// Indexed by type id.
    pub end_labels: Arc<Vec<EndLabels>>,
    pub indexes: Arc<Vec<PropIndex>>,
    /// Property and structure counts for the graph summary (`summary`).
    pub summary: SummaryCounts,
    /// When this version was committed (for a recovered version: when the store opened).
    pub committed_at: std::time::SystemTime,
    pub node_ext: ExtIndex,
    pub rel_ext: ExtIndex,
    pub rel_ext_rev: ShardedMap<u32, Arc<str>>,
    pub node_codec: IdCodec,
    pub rel_codec: IdCodec,
}

fn not_found(what: &str, id: u64) -> Error {
    Error::new(
        ErrorCode::DeletedEntityAccess,
        format!("{what} {id} does not exist (it was deleted or never created)"),
    )
}

fn duplicate(what: &str, ext: &str) -> Error {
    Error::new(
        ErrorCode::DuplicateData,
        format!("{what} with id {ext} already exists"),
    )
}

fn rel_salt(salt: u64) -> u64 {
    salt ^ 0x2545_f491_4f6c_dd1d
}

impl Graph {
    pub fn new(salt: u64) -> Self {
        Self {
            seq: 0,
            salt,
            labels: Arc::default(),
            types: Arc::default(),
            keys: Arc::default(),
            nodes: NodeVec::default(),
            adjacency: AdjVec::default(),
            rels: RelVec::default(),
            node_count: 0,
            rel_count: 0,
            live: ChunkedBitmap::default(),
            label_idx: Arc::default(),
            label_sets: Arc::default(),
            prop_lists: Arc::default(),
            type_stats: Arc::default(),
            end_labels: Arc::default(),
            indexes: Arc::default(),
            summary: SummaryCounts::default(),
            committed_at: std::time::SystemTime::now(),
            node_ext: ExtIndex::default(),
            rel_ext: ExtIndex::default(),
            rel_ext_rev: ShardedMap::default(),
            node_codec: IdCodec::new(salt),
            rel_codec: IdCodec::new(rel_salt(salt)),
        }
    }

    pub fn dict(&self, kind: DictKind) -> &Dict {
        match kind {
            DictKind::Label => &self.labels,
            DictKind::Type => &self.types,
            DictKind::Key => &self.keys,
        }
    }

    fn dict_mut(&mut self, kind: DictKind) -> &mut Dict {
        Arc::make_mut(match kind {
            DictKind::Label => &mut self.labels,
            DictKind::Type => &mut self.types,
            DictKind::Key => &mut self.keys,
        })
    }

    // ---- reads ----------------------------------------------------------------------------

    pub fn node(&self, n: u64) -> Option<&NodeRec> {
        self.nodes.get(n)?.as_ref()
    }

    pub fn rel(&self, r: u64) -> Option<&RelRec> {
        self.rels.get(r)?.as_ref()
    }

    pub fn node_by_ext(&self, s: &str) -> Option<u64> {
        if let Some(n) = self.node_ext.get(s.as_bytes()) {
            return Some(u64::from(n));
        }
        let n = self.node_codec.decode(s)?;
        self.node(n).filter(|rec| rec.ext.is_none()).map(|_| n)
    }

    pub fn rel_by_ext(&self, s: &str) -> Option<u64> {
        if let Some(r) = self.rel_ext.get(s.as_bytes()) {
            return Some(u64::from(r));
        }
        let r = self.rel_codec.decode(s)?;
        self.rel(r).filter(|rec| !rec.user_ext).map(|_| r)
    }

    pub fn label_count(&self, label: u32) -> u64 {
        self.label_idx.get(label as usize).map_or(0, |l| l.count)
    }

    pub fn type_count(&self, ty: u32) -> u64 {
        self.type_stats
            .get(ty as usize)
            .map_or(0, |s| s.relationships)
    }

    /// A live node's adjacency (`None` when it has never had a relationship).
    pub fn adj(&self, n: u64) -> Option<&Adj> {
        self.adjacency.get(n)?.as_ref()
    }

    fn has_rels(&self, n: u64) -> bool {
        self.adj(n).is_some_and(|a| !a.is_empty())
    }

    /// `n`'s adjacency for writing, created empty if needed.
    fn adj_mut(&mut self, n: u64) -> Option<&mut Adj> {
        while self.adjacency.len() <= n {
            self.adjacency.push(None);
        }
        Some(self.adjacency.get_mut(n)?.get_or_insert_with(Adj::default))
    }

    pub fn degree(&self, n: u64, dir: Dir, types: &[u32]) -> usize {
        let Some(adj) = self.adj(n) else {
            return 0;
        };
        match dir {
            Dir::Out | Dir::In => adj.side(dir).count(types),
            Dir::Both => {
                let me = n as u32;
                let mut loops = 0;
                adj.inc()
                    .for_types(types, |s| loops += s.iter().filter(|e| e.1 == me).count());
                adj.out().count(types) + adj.inc().count(types) - loops
            }
        }
    }

    /// Whether a user-assigned node id `s` is free.
    pub fn check_node_ext_free(&self, s: &str) -> Result<(), Error> {
        if self.node_by_ext(s).is_some() {
            return Err(duplicate("Node", s));
        }
        Ok(())
    }

    pub fn check_rel_ext_free(&self, s: &str) -> Result<(), Error> {
        if self.rel_by_ext(s).is_some() {
            return Err(duplicate("Relationship", s));
        }
        Ok(())
    }

    // ---- changes --------------------------------------------------------------------------

    /// Pads the node vector with empty slots up to `len` (ids of rolled-back transactions
    /// are not handed out again).
    pub fn pad_nodes(&mut self, len: u64) {
        while self.nodes.len() < len {
            self.nodes.push(None);
        }
    }

    pub fn pad_rels(&mut self, len: u64) {
        while self.rels.len() < len {
            self.rels.push(None);
        }
    }

    /// Applies one change completely, or returns an error and changes nothing.
    pub fn apply(&mut self, op: Op) -> Result<(), Error> {
        self.apply_deferring(op, None)
    }

    /// [`Graph::apply`], except that with `pending` a new relationship's adjacency entries
    /// are pushed there instead of being inserted: the version is then incomplete (its
    /// adjacency, the types' source and target counts, the start nodes' structure counts,
    /// the end-label counts and the relationship key and structure counts miss those
    /// relationships) until [`Graph::place`] places them. Everything else an op validates
    /// or updates (records, ids, the node and relationship counts) is done at once, so
    /// later ops of the same batch see the relationship. A deferred relationship's
    /// properties must not change before it is placed (its keys are counted from its
    /// record then).
    pub fn apply_deferring(
        &mut self,
        op: Op,
        pending: Option<&mut Vec<Pending>>,
    ) -> Result<(), Error> {
        match op {
            Op::Dict { kind, id, name } => {
                let dict = self.dict(kind);
                if let Some(existing) = dict.id(&name) {
                    if existing == id {
                        return Ok(());
                    }
                }
                if id != dict.len() || dict.id(&name).is_some() {
                    return Err(Error::internal(format!(
                        "dictionary entry {id} ({name}) is out of sequence"
                    )));
                }
                self.dict_mut(kind).push(name);
                Ok(())
            }
            Op::CreateNode {
                id,
                labels,
                props,
                ext,
            } => {
                if id > MAX_ID {
                    return Err(Error::new(
                        ErrorCode::StorageFailure,
                        "the store holds at most 4,294,967,295 nodes",
                    ));
                }
                if self.node(id).is_some() {
                    return Err(Error::internal(format!("node {id} already exists")));
                }
                if let Some(s) = &ext {
                    self.check_node_ext_free(s)?;
                }
                self.pad_nodes(id);
                let labels = self.shared_labels(labels);
                for &l in labels.iter() {
                    self.label_index_set(l, id, true);
                }
                if let Some(s) = &ext {
                    self.node_ext.insert(s, id as u32);
                }
                if !self.indexes.is_empty() {
                    for (k, v) in props.iter() {
                        self.reindex(id, &labels, *k, None, IKey::from_pval(v));
                    }
                }
                with_keys(&props, |keys| {
                    self.summary.node_keys(keys, true);
                    self.summary.lone_node(keys, true);
                });
                let rec = Some(NodeRec { labels, props, ext });
                if self.nodes.len() == id {
                    // The usual case (ids are handed out in order): one descent, not two.
                    self.nodes.push(rec);
                } else if let Some(slot) = self.nodes.get_mut(id) {
                    *slot = rec;
                }
                self.live.set(id, true);
                self.node_count += 1;
                Ok(())
            }
            Op::CreateRel {
                id,
                start,
                end,
                ty,
                props,
                ext,
            } => {
                if id > MAX_ID {
                    return Err(Error::new(
                        ErrorCode::StorageFailure,
                        "the store holds at most 4,294,967,295 relationships",
                    ));
                }
                if self.rel(id).is_some() {
                    return Err(Error::internal(format!("relationship {id} already exists")));
                }
                if !self.live.contains(start) {
                    return Err(not_found("Node", start));
                }
                if !self.live.contains(end) {
                    return Err(not_found("Node", end));
                }
                if let Some(s) = &ext {
                    self.check_rel_ext_free(s)?;
                }
                self.pad_rels(id);
                let (r, s32, e32) = (id as u32, start as u32, end as u32);
                // Deferred: counted by `place` from the record (see `Graph::place`).
                if pending.is_none() {
                    with_keys(&props, |keys| {
                        self.summary.rel_keys(keys, true);
                        self.summary.rel_structure(keys, true);
                    });
                }
                let user_ext = ext.is_some();
                if let Some(s) = ext {
                    self.rel_ext.insert(&s, r);
                    self.rel_ext_rev.insert(r, s);
                }
                let props = self.shared_props(props);
                let rec = Some(RelRec {
                    start: s32,
                    end: e32,
                    ty,
                    user_ext,
                    props,
                });
                if self.rels.len() == id {
                    self.rels.push(rec);
                } else if let Some(slot) = self.rels.get_mut(id) {
                    *slot = rec;
                }
                let stats = Arc::make_mut(&mut self.type_stats);
                if stats.len() <= ty as usize {
                    stats.resize(ty as usize + 1, TypeStats::default());
                }
                stats[ty as usize].relationships += 1;
                self.rel_count += 1;
                // The adjacency entries, and what depends on them (the type's sources and
                // targets, the start node's structure), and the end-label counts (which
                // read both ends' records: in bulk, in node order) last: the bulk path
                // defers them.
                if let Some(pending) = pending {
                    pending.push(Pending {
                        node: s32,
                        inc: false,
                        ty,
                        rel: r,
                        other: e32,
                    });
                    pending.push(Pending {
                        node: e32,
                        inc: true,
                        ty,
                        rel: r,
                        other: s32,
                    });
                    return Ok(());
                }
                self.count_end_labels(ty, start, end, true);
                let (mut new_source, mut out_degree) = (false, 0);
                let (mut new_target, mut in_degree) = (false, 0);
                if let Some(adj) = self.adj_mut(start) {
                    new_source = adj.insert(Dir::Out, ty, r, e32);
                    out_degree = adj.out().count(&[ty]) as u32;
                }
                if let Some(adj) = self.adj_mut(end) {
                    new_target = adj.insert(Dir::In, ty, r, s32);
                    in_degree = adj.inc().count(&[ty]) as u32;
                }
                if new_source {
                    self.moved_out_type(start, ty, true);
                }
                if let Some(st) = Arc::make_mut(&mut self.type_stats).get_mut(ty as usize) {
                    st.sources += u64::from(new_source);
                    st.targets += u64::from(new_target);
                    st.out_degrees
                        .moved(out_degree.saturating_sub(1), out_degree);
                    st.in_degrees.moved(in_degree.saturating_sub(1), in_degree);
                }
                Ok(())
            }
            Op::SetNodeProp { id, key, value } => {
                let rec = self.node(id).ok_or_else(|| not_found("Node", id))?;
                let had = prop_get(&rec.props, key).is_some();
                let before = (had != value.is_some()).then(|| self.node_sig(id));
                if !self.indexes.is_empty() {
                    let old = prop_get(&rec.props, key).and_then(IKey::from_pval);
                    let new = value.as_ref().and_then(IKey::from_pval);
                    let labels = rec.labels.clone();
                    self.reindex(id, &labels, key, old, new);
                }
                if let Some(rec) = self.nodes.get_mut(id).and_then(Option::as_mut) {
                    prop_set(&mut rec.props, key, value);
                }
                if let Some(before) = before {
                    self.summary.node_keys(&[key], !had);
                    self.summary.node_structure(before.as_slice(), false);
                    let after = self.node_sig(id);
                    self.summary.node_structure(after.as_slice(), true);
                }
                Ok(())
            }
            Op::SetRelProp { id, key, value } => {
                let mut props = self
                    .rel(id)
                    .ok_or_else(|| not_found("Relationship", id))?
                    .props
                    .clone();
                let had = prop_get(&props, key).is_some();
                let before: Option<Vec<u32>> =
                    (had != value.is_some()).then(|| props.iter().map(|p| p.0).collect());
                prop_set(&mut props, key, value);
                if let Some(before) = before {
                    self.summary.rel_keys(&[key], !had);
                    self.summary.rel_structure(&before, false);
                    let after: Vec<u32> = props.iter().map(|p| p.0).collect();
                    self.summary.rel_structure(&after, true);
                }
                let props = self.shared_props(props);
                if let Some(rec) = self.rels.get_mut(id).and_then(Option::as_mut) {
                    rec.props = props;
                }
                Ok(())
            }
            Op::AddLabel { id, label } => {
                let rec = self.node(id).ok_or_else(|| not_found("Node", id))?;
                if let Err(at) = rec.labels.binary_search(&label) {
                    let mut v = rec.labels.to_vec();
                    v.insert(at, label);
                    let labels = self.shared_labels_of(&v);
                    if let Some(rec) = self.nodes.get_mut(id).and_then(Option::as_mut) {
                        rec.labels = labels;
                    }
                    self.label_index_set(label, id, true);
                    self.reindex_label(id, label, true);
                    self.relabel_ends(id, label, true);
                }
                Ok(())
            }
            Op::RemoveLabel { id, label } => {
                let rec = self.node(id).ok_or_else(|| not_found("Node", id))?;
                if let Ok(at) = rec.labels.binary_search(&label) {
                    let mut v = rec.labels.to_vec();
                    v.remove(at);
                    let labels = self.shared_labels_of(&v);
                    if let Some(rec) = self.nodes.get_mut(id).and_then(Option::as_mut) {
                        rec.labels = labels;
                    }
                    self.label_index_set(label, id, false);
                    self.reindex_label(id, label, false);
                    self.relabel_ends(id, label, false);
                }
                Ok(())
            }
            Op::DeleteNode { id } => {
                let rec = self.node(id).ok_or_else(|| not_found("Node", id))?;
                if self.has_rels(id) {
                    let ext = self.node_ext_string(id);
                    return Err(Error::new(
                        ErrorCode::DeleteConnectedNode,
                        format!(
                            "Cannot delete node<{ext}>, because it still has relationships. \
                             To delete this node, you must first delete its relationships."
                        ),
                    ));
                }
                let labels = rec.labels.clone();
                let ext = rec.ext.clone();
                let props = rec.props.clone();
                // No relationships, so no outgoing types.
                with_keys(&props, |keys| {
                    self.summary.node_keys(keys, false);
                    self.summary.lone_node(keys, false);
                });
                for l in labels.iter() {
                    self.reindex_label(id, *l, false);
                    self.label_index_set(*l, id, false);
                }
                if let Some(s) = ext {
                    self.node_ext.remove(s.as_bytes());
                }
                if let Some(slot) = self.nodes.get_mut(id) {
                    *slot = None;
                }
                if self.adj(id).is_some() {
                    if let Some(slot) = self.adjacency.get_mut(id) {
                        *slot = None;
                    }
                }
                self.live.set(id, false);
                self.node_count -= 1;
                Ok(())
            }
            Op::DeleteRel { id } => {
                let rec = self
                    .rel(id)
                    .ok_or_else(|| not_found("Relationship", id))?
                    .clone();
                let r = id as u32;
                let (mut last_out, mut out_degree) = (false, 0);
                let (mut last_in, mut in_degree) = (false, 0);
                if let Some(adj) = self.adj_mut(u64::from(rec.start)) {
                    last_out = adj.remove(Dir::Out, rec.ty, r);
                    out_degree = adj.out().count(&[rec.ty]) as u32;
                }
                if let Some(adj) = self.adj_mut(u64::from(rec.end)) {
                    last_in = adj.remove(Dir::In, rec.ty, r);
                    in_degree = adj.inc().count(&[rec.ty]) as u32;
                }
                if rec.user_ext {
                    if let Some(s) = self.rel_ext_rev.remove(&r) {
                        self.rel_ext.remove(s.as_bytes());
                    }
                }
                if let Some(slot) = self.rels.get_mut(id) {
                    *slot = None;
                }
                self.count_end_labels(rec.ty, u64::from(rec.start), u64::from(rec.end), false);
                if last_out {
                    self.moved_out_type(u64::from(rec.start), rec.ty, false);
                }
                with_keys(&rec.props, |keys| {
                    self.summary.rel_keys(keys, false);
                    self.summary.rel_structure(keys, false);
                });
                if let Some(st) = Arc::make_mut(&mut self.type_stats).get_mut(rec.ty as usize) {
                    st.relationships -= 1;
                    st.sources -= u64::from(last_out);
                    st.targets -= u64::from(last_in);
                    st.out_degrees.moved(out_degree + 1, out_degree);
                    st.in_degrees.moved(in_degree + 1, in_degree);
                }
                self.rel_count -= 1;
                Ok(())
            }
            Op::CreateIndex { label, key } => {
                if self.index(label, key).is_some() {
                    return Ok(());
                }
                let mut entries = Vec::new();
                if let Some(li) = self.label_idx.get(label as usize) {
                    for n in li.bits.iter() {
                        if let Some(k) = self.prop_of_node(n, key).and_then(IKey::from_pval) {
                            entries.push((k, n as u32));
                        }
                    }
                }
                let ix = PropIndex::build(label, key, entries);
                Arc::make_mut(&mut self.indexes).push(ix);
                Ok(())
            }
            Op::DropIndex { label, key } => {
                Arc::make_mut(&mut self.indexes).retain(|ix| (ix.label, ix.key) != (label, key));
                Ok(())
            }
            Op::Reset { salt } => {
                let seq = self.seq;
                *self = Graph::new(salt);
                self.seq = seq;
                Ok(())
            }
        }
    }

    /// The shared copy of a relationship's property list when it is small and scalar (one
    /// or two integers, floats or booleans: weights, years, flags — lists many
    /// relationships have in common), so that they cost a reference, not an allocation
    /// each; other lists, and new ones once [`SHARED_PROP_LISTS`] are shared, keep their own.
    fn shared_props(&mut self, props: Props) -> Props {
        let Some(key) = scalar_key(&props) else {
            return props;
        };
        if let Some(shared) = self.prop_lists.get(&key) {
            return shared.clone();
        }
        if self.prop_lists.len() < SHARED_PROP_LISTS {
            Arc::make_mut(&mut self.prop_lists).insert(key, props.clone());
        }
        props
    }

    /// The shared copy of the property list `values` would make when it is one already
    /// shared (see [`Graph::shared_props`]): most relationships of a bulk load get their
    /// list without an allocation.
    pub fn shared_props_of(&self, values: &[(u32, nereid_value::Value)]) -> Option<Props> {
        self.prop_lists.get(&scalar_key_of_values(values)?).cloned()
    }

    /// The shared copy of the (sorted, duplicate-free) property list `props`, when it is
    /// one already shared.
    pub(crate) fn shared_props_like(&self, props: &[(u32, PVal)]) -> Option<Props> {
        self.prop_lists.get(&scalar_key(props)?).cloned()
    }

    /// The shared copy of the (sorted) label set `labels`; sets beyond the first
    /// [`SHARED_LABEL_SETS`] get their own.
    pub(crate) fn shared_labels(&mut self, labels: ArcSlice<u32>) -> ArcSlice<u32> {
        if let Some(shared) = self.label_sets.get(&*labels) {
            return shared.clone();
        }
        if self.label_sets.len() < SHARED_LABEL_SETS {
            let key: Box<[u32]> = labels.to_vec().into();
            Arc::make_mut(&mut self.label_sets).insert(key, labels.clone());
        }
        labels
    }

    /// [`Graph::shared_labels`] of a sorted, duplicate-free set not yet in a slice: the
    /// shared copy when there is one, so most nodes of a bulk load get theirs without an
    /// allocation.
    pub(crate) fn shared_labels_of(&mut self, labels: &[u32]) -> ArcSlice<u32> {
        match self.label_sets.get(labels) {
            Some(shared) => shared.clone(),
            None => self.shared_labels(labels.to_vec().into()),
        }
    }

    pub fn index(&self, label: u32, key: u32) -> Option<&PropIndex> {
        self.indexes
            .iter()
            .find(|ix| ix.label == label && ix.key == key)
    }

    /// Moves `node`'s entries for property `key` from `old` to `new` in every index on
    /// (one of `labels`, `key`).
    fn reindex(
        &mut self,
        node: u64,
        labels: &[u32],
        key: u32,
        old: Option<IKey>,
        new: Option<IKey>,
    ) {
        let affected = |ix: &PropIndex| ix.key == key && labels.binary_search(&ix.label).is_ok();
        if !self.indexes.iter().any(affected) {
            return;
        }
        for ix in Arc::make_mut(&mut self.indexes)
            .iter_mut()
            .filter(|ix| affected(ix))
        {
            if let Some(o) = &old {
                ix.remove(o.clone(), node as u32);
            }
            if let Some(n) = &new {
                ix.insert(n.clone(), node as u32);
            }
        }
    }

    /// Adds or removes `node`'s entries in the indexes on `label` (the label was added to or
    /// removed from the node).
    fn reindex_label(&mut self, node: u64, label: u32, add: bool) {
        if !self.indexes.iter().any(|ix| ix.label == label) {
            return;
        }
        let Some(rec) = self.node(node) else { return };
        let props = rec.props.clone();
        for ix in Arc::make_mut(&mut self.indexes)
            .iter_mut()
            .filter(|ix| ix.label == label)
        {
            if let Some(k) = prop_get(&props, ix.key).and_then(IKey::from_pval) {
                if add {
                    ix.insert(k, node as u32);
                } else {
                    ix.remove(k, node as u32);
                }
            }
        }
    }

    fn label_index_set(&mut self, label: u32, node: u64, on: bool) {
        let idx = Arc::make_mut(&mut self.label_idx);
        if idx.len() <= label as usize {
            idx.resize(label as usize + 1, LabelIdx::default());
        }
        let li = &mut idx[label as usize];
        if li.bits.set(node, on) {
            if on {
                li.count += 1;
            } else {
                li.count -= 1;
            }
        }
    }

    /// The external id of a live node as an owned string.
    pub fn node_ext_string(&self, n: u64) -> String {
        match self.node(n).and_then(|r| r.ext.as_deref()) {
            Some(s) => s.to_string(),
            None => self.node_codec.encode(n),
        }
    }

    pub fn prop_of_node(&self, n: u64, key: u32) -> Option<&PVal> {
        prop_get(&self.node(n)?.props, key)
    }

    pub fn prop_of_rel(&self, r: u64, key: u32) -> Option<&PVal> {
        prop_get(&self.rel(r)?.props, key)
    }
}

mod bulk;
mod counts;

#[cfg(test)]
mod tests;
