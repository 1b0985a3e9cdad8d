//! The counters behind Neptune's property-graph summary (GetPropertygraphSummary), kept
//! exact by every change, so that a summary costs a walk over the dictionaries and the
//! distinct structures — never over the nodes.
//!
//! What is counted, per graph version:
//! * per property key, the nodes (relationships) that have it — `nodeProperties`;
//! * per *node structure* — the set of a node's property keys plus the set of its outgoing
//!   relationship types — the nodes that have exactly it (`nodeStructures`; Neptune's
//!   structures carry no labels);
//! * per *edge structure* — a relationship's set of property keys — the relationships that
//!   have exactly it.
//!
//! Label and type counts already live in the graph (label index, type statistics).
//!
//! [`crate::graph::Graph::apply`] is the only writer: recovery and checkpoint loading replay
//! the same ops, so the counters are exact after a restart without being stored.
//! The structure maps are [`CountMap`]s: a write transaction that moves one node from one
//! structure to another copies one of 16 shards, not the map, and an update of an existing
//! structure hashes its key once and allocates nothing.
//!
//! Cost per change: creating a relationship bumps its type's key-set count (one hash
//! lookup) and, when it is its start node's first of that type, moves the node between two
//! structures; keys are gathered on the stack for up to [`INLINE_KEYS`] properties.

use std::sync::Arc;

/// Separates property keys from relationship types in a node structure's key (no dictionary
/// id reaches it: ids are dense from 0).
pub(crate) const SEP: u32 = u32::MAX;

/// Property lists up to this long have their keys gathered on the stack.
pub(crate) const INLINE_KEYS: usize = 16;

/// Calls `f` with the keys of a (sorted) property list.
pub(crate) fn with_keys<T, R>(props: &[(u32, T)], f: impl FnOnce(&[u32]) -> R) -> R {
    if props.len() <= INLINE_KEYS {
        let mut buf = [0u32; INLINE_KEYS];
        for (slot, (k, _)) in buf.iter_mut().zip(props) {
            *slot = *k;
        }
        f(&buf[..props.len()])
    } else {
        let keys: Vec<u32> = props.iter().map(|p| p.0).collect();
        f(&keys)
    }
}

const COUNT_SHARDS: usize = 16;

type Shard = hashbrown::HashMap<Box<[u32]>, u64>;

/// Counts by a `[u32]` key, copy-on-write in 16 shards (see the module docs).
#[derive(Clone, Default)]
pub(crate) struct CountMap {
    shards: Arc<[Arc<Shard>; COUNT_SHARDS]>,
}

impl CountMap {
    /// A fixed hash (the shard of a key must never change; the maps inside use their own,
    /// seeded hasher).
    fn shard_of(key: &[u32]) -> usize {
        let mut h: u64 = 0;
        for &x in key {
            h = (h.rotate_left(5) ^ u64::from(x)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
        (h >> 60) as usize % COUNT_SHARDS
    }

    /// Adds one to (`up`) or takes one from `key`'s count; a count of 0 is removed.
    fn bump(&mut self, key: &[u32], up: bool) {
        let shard = Arc::make_mut(&mut Arc::make_mut(&mut self.shards)[Self::shard_of(key)]);
        match shard.get_mut(key) {
            Some(c) if up => *c += 1,
            Some(c) if *c > 1 => *c -= 1,
            Some(_) => {
                shard.remove(key);
            }
            None if up => {
                shard.insert(key.into(), 1);
            }
            None => {}
        }
    }

    /// Adds `delta` to `key`'s count; a count of 0 is removed. A count never goes below 0
    /// (a caller takes away only what it counted).
    fn add(&mut self, key: &[u32], delta: i64) {
        if delta == 0 {
            return;
        }
        let shard = Arc::make_mut(&mut Arc::make_mut(&mut self.shards)[Self::shard_of(key)]);
        let now = shard
            .get(key)
            .map_or(0, |&c| c as i64)
            .saturating_add(delta)
            .max(0);
        if now == 0 {
            shard.remove(key);
        } else if let Some(c) = shard.get_mut(key) {
            *c = now as u64;
        } else {
            shard.insert(key.into(), now as u64);
        }
    }

    fn iter(&self) -> impl Iterator<Item = (&[u32], u64)> {
        self.shards
            .iter()
            .flat_map(|s| s.iter().map(|(k, v)| (&**k, *v)))
    }
}

/// The summary counters of one graph version. Cloning is shallow.
#[derive(Clone, Default)]
pub(crate) struct SummaryCounts {
    /// Nodes having each property key, by key id.
    node_keys: Arc<Vec<u64>>,
    /// Relationships having each property key, by key id.
    rel_keys: Arc<Vec<u64>>,
    /// `keys ++ [SEP] ++ outgoing types` (both sorted) → nodes.
    node_structures: CountMap,
    /// Sorted keys → relationships.
    rel_structures: CountMap,
}

fn bump_keys(counts: &mut Arc<Vec<u64>>, keys: &[u32], up: bool) {
    if keys.is_empty() {
        return;
    }
    let v = Arc::make_mut(counts);
    for &key in keys {
        if v.len() <= key as usize {
            v.resize(key as usize + 1, 0);
        }
        let c = &mut v[key as usize];
        *c = if up { *c + 1 } else { c.saturating_sub(1) };
    }
}

impl SummaryCounts {
    /// A node gained (`up`) or lost properties `keys`.
    pub fn node_keys(&mut self, keys: &[u32], up: bool) {
        bump_keys(&mut self.node_keys, keys, up);
    }

    /// A relationship gained (`up`) or lost properties `keys`.
    pub fn rel_keys(&mut self, keys: &[u32], up: bool) {
        bump_keys(&mut self.rel_keys, keys, up);
    }

    /// A node now has (`up`) or no longer has the structure `sig` (see [`node_signature`]).
    pub fn node_structure(&mut self, sig: &[u32], up: bool) {
        self.node_structures.bump(sig, up);
    }

    /// `delta` more (fewer) nodes have the structure `sig`.
    pub fn node_structure_by(&mut self, sig: &[u32], delta: i64) {
        self.node_structures.add(sig, delta);
    }

    /// A node without relationships, with properties `keys`, appeared (`up`) or went.
    pub fn lone_node(&mut self, keys: &[u32], up: bool) {
        if keys.len() < INLINE_KEYS {
            let mut buf = [0u32; INLINE_KEYS];
            buf[..keys.len()].copy_from_slice(keys);
            buf[keys.len()] = SEP;
            self.node_structures.bump(&buf[..=keys.len()], up);
        } else {
            let sig = node_signature(keys.iter().copied(), std::iter::empty());
            self.node_structures.bump(&sig, up);
        }
    }

    /// `counts[k]` more relationships have property key `k`.
    pub fn rel_keys_by(&mut self, counts: &[u64]) {
        if counts.iter().all(|&c| c == 0) {
            return;
        }
        let v = Arc::make_mut(&mut self.rel_keys);
        if v.len() < counts.len() {
            v.resize(counts.len(), 0);
        }
        for (c, &n) in v.iter_mut().zip(counts) {
            *c += n;
        }
    }

    /// `delta` more (fewer) relationships have exactly the property keys `keys` (sorted).
    pub fn rel_structure_by(&mut self, keys: &[u32], delta: i64) {
        self.rel_structures.add(keys, delta);
    }

    /// A relationship now has (`up`) or no longer has the property keys `keys` (sorted).
    pub fn rel_structure(&mut self, keys: &[u32], up: bool) {
        self.rel_structures.bump(keys, up);
    }

    pub fn node_key_counts(&self) -> &[u64] {
        &self.node_keys
    }

    pub fn rel_key_counts(&self) -> &[u64] {
        &self.rel_keys
    }

    pub fn node_structures(&self) -> impl Iterator<Item = (&[u32], u64)> {
        self.node_structures.iter()
    }

    pub fn rel_structures(&self) -> impl Iterator<Item = (&[u32], u64)> {
        self.rel_structures.iter()
    }
}

/// A structure key being built: on the stack up to 24 ids, on the heap beyond.
pub(crate) struct SigBuf {
    inline: [u32; 24],
    len: usize,
    heap: Vec<u32>,
}

impl SigBuf {
    pub fn new() -> Self {
        Self {
            inline: [0; 24],
            len: 0,
            heap: Vec::new(),
        }
    }

    pub fn push(&mut self, x: u32) {
        if self.heap.is_empty() && self.len < self.inline.len() {
            self.inline[self.len] = x;
            self.len += 1;
        } else {
            if self.heap.is_empty() {
                self.heap.extend_from_slice(&self.inline[..self.len]);
            }
            self.heap.push(x);
        }
    }

    pub fn as_slice(&self) -> &[u32] {
        if self.heap.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.heap
        }
    }
}

/// A node structure's key: its property keys (sorted), [`SEP`], its outgoing relationship
/// types (sorted).
pub(crate) fn node_signature(
    keys: impl Iterator<Item = u32>,
    out_types: impl Iterator<Item = u32>,
) -> Vec<u32> {
    let mut sig: Vec<u32> = keys.collect();
    sig.push(SEP);
    sig.extend(out_types);
    sig
}

/// A summary of the whole graph with names resolved: what GetPropertygraphSummary reports.
/// Exact for the version it was taken from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GraphSummary {
    pub num_nodes: u64,
    pub num_edges: u64,
    /// Labels carried by at least one node, with their node counts, by name.
    pub node_labels: Vec<(String, u64)>,
    /// Relationship types of at least one relationship, with their counts, by name.
    pub edge_labels: Vec<(String, u64)>,
    /// Property keys of at least one node, with the number of nodes that have them; most
    /// frequent first (ties by name).
    pub node_properties: Vec<(String, u64)>,
    /// The same for relationships.
    pub edge_properties: Vec<(String, u64)>,
    /// Most frequent first (ties by contents).
    pub node_structures: Vec<NodeStructure>,
    pub edge_structures: Vec<EdgeStructure>,
}

/// Nodes that have exactly these property keys and these outgoing relationship types.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct NodeStructure {
    pub count: u64,
    /// Sorted by name.
    pub node_properties: Vec<String>,
    /// Sorted by name.
    pub distinct_outgoing_edge_labels: Vec<String>,
}

/// Relationships that have exactly these property keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct EdgeStructure {
    pub count: u64,
    /// Sorted by name.
    pub edge_properties: Vec<String>,
}

impl GraphSummary {
    /// Property values over all nodes: every property of every node is one value (nereid
    /// has no multi-valued properties; a list is one value).
    pub fn total_node_property_values(&self) -> u64 {
        self.node_properties.iter().map(|p| p.1).sum()
    }

    pub fn total_edge_property_values(&self) -> u64 {
        self.edge_properties.iter().map(|p| p.1).sum()
    }
}

/// Sorts `(name, count)` most frequent first, ties by name.
pub(crate) fn by_frequency(v: &mut [(String, u64)]) {
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
}

impl crate::Snapshot {
    /// The summary of this version: O(labels + types + keys + distinct structures).
    pub fn summary(&self) -> GraphSummary {
        summarize(&self.g)
    }

    /// When this version was committed; for the version a store opened with, when it
    /// opened.
    pub fn committed_at(&self) -> std::time::SystemTime {
        self.g.committed_at
    }
}

fn summarize(g: &crate::graph::Graph) -> GraphSummary {
    let name = |d: &crate::graph::Dict, id: u32| d.name(id).unwrap_or("").to_owned();
    let mut node_labels: Vec<(String, u64)> = g
        .label_idx
        .iter()
        .enumerate()
        .filter(|(_, l)| l.count > 0)
        .map(|(id, l)| (name(&g.labels, id as u32), l.count))
        .collect();
    node_labels.sort();
    let mut edge_labels: Vec<(String, u64)> = g
        .type_stats
        .iter()
        .enumerate()
        .filter(|(_, t)| t.relationships > 0)
        .map(|(id, t)| (name(&g.types, id as u32), t.relationships))
        .collect();
    edge_labels.sort();
    let keyed = |counts: &[u64]| {
        let mut v: Vec<(String, u64)> = counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(id, c)| (name(&g.keys, id as u32), *c))
            .collect();
        by_frequency(&mut v);
        v
    };
    let sorted_names = |d: &crate::graph::Dict, ids: &[u32]| {
        let mut v: Vec<String> = ids.iter().map(|&id| name(d, id)).collect();
        v.sort();
        v
    };
    let mut node_structures: Vec<NodeStructure> = g
        .summary
        .node_structures()
        .map(|(sig, count)| {
            let sep = sig.iter().position(|&x| x == SEP).unwrap_or(sig.len());
            NodeStructure {
                count,
                node_properties: sorted_names(&g.keys, &sig[..sep]),
                distinct_outgoing_edge_labels: sorted_names(
                    &g.types,
                    sig.get(sep + 1..).unwrap_or(&[]),
                ),
            }
        })
        .collect();
    node_structures.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.cmp(b)));
    let mut edge_structures: Vec<EdgeStructure> = g
        .summary
        .rel_structures()
        .map(|(keys, count)| EdgeStructure {
            count,
            edge_properties: sorted_names(&g.keys, keys),
        })
        .collect();
    edge_structures.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.cmp(b)));
    GraphSummary {
        num_nodes: g.node_count,
        num_edges: g.rel_count,
        node_labels,
        edge_labels,
        node_properties: keyed(g.summary.node_key_counts()),
        edge_properties: keyed(g.summary.rel_key_counts()),
        node_structures,
        edge_structures,
    }
}
