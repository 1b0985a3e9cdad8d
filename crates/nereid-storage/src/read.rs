//! [`GraphRead`] for [`Snapshot`] and [`WriteTxn`]: both are a [`Graph`] plus caches for
//! generated id strings, so one macro implements both.

use nereid_value::{NodeId, RelId, Value};

use crate::graph::Graph;
use crate::store::{Snapshot, WriteTxn};
use std::ops::Bound;

use crate::index::IKey;
use crate::pval::{prop_get, PVal};
use crate::{Dir, GraphRead, KeyId, LabelId, RelColumn, RelRowScan, TypeId, TypeStats};

macro_rules! impl_graph_read {
    ($ty:ty) => {
        impl GraphRead for $ty {
            fn label_id(&self, name: &str) -> Option<LabelId> {
                self.g.labels.id(name)
            }
            fn label_name(&self, id: LabelId) -> &str {
                self.g.labels.name(id).unwrap_or("")
            }
            fn type_id(&self, name: &str) -> Option<TypeId> {
                self.g.types.id(name)
            }
            fn type_name(&self, id: TypeId) -> &str {
                self.g.types.name(id).unwrap_or("")
            }
            fn key_id(&self, name: &str) -> Option<KeyId> {
                self.g.keys.id(name)
            }
            fn key_name(&self, id: KeyId) -> &str {
                self.g.keys.name(id).unwrap_or("")
            }

            fn node_count(&self) -> u64 {
                self.g.node_count
            }
            fn node_ids(&self) -> Box<dyn Iterator<Item = NodeId> + '_> {
                Box::new(
                    self.g
                        .nodes
                        .iter()
                        .filter(|(_, n)| n.is_some())
                        .map(|(i, _)| NodeId(i)),
                )
            }
            fn nodes_with_label(&self, label: LabelId) -> Box<dyn Iterator<Item = NodeId> + '_> {
                match self.g.label_idx.get(label as usize) {
                    Some(idx) => Box::new(idx.bits.iter().map(NodeId)),
                    None => Box::new(std::iter::empty()),
                }
            }
            fn label_count(&self, label: LabelId) -> u64 {
                self.g.label_count(label)
            }
            fn scan_nodes(
                &self,
                label: Option<LabelId>,
                from: u64,
                max: usize,
                out: &mut Vec<NodeId>,
            ) -> Option<u64> {
                crate::read::scan_nodes(&self.g, label, from, max, out)
            }
            fn type_end_label_count(&self, t: TypeId, dir: Dir, label: LabelId) -> u64 {
                self.g.end_label_count(t, dir, label)
            }
            fn type_label_pair_count(&self, t: TypeId, start: LabelId, end: LabelId) -> u64 {
                self.g.label_pair_count(t, start, end)
            }
            fn scan_rels(
                &self,
                t: TypeId,
                from: u64,
                max: usize,
                out: &mut Vec<(RelId, NodeId, NodeId)>,
            ) -> Option<u64> {
                crate::read::scan_rels(&self.g, t, from, max, out)
            }
            fn scan_rel_rows(
                &self,
                scan: &RelRowScan<'_>,
                from: u64,
                to: u64,
                max: usize,
                out: &mut Vec<Value>,
            ) -> Option<u64> {
                crate::read::scan_rel_rows(&self.g, scan, from, to, max, out)
            }
            fn node_exists(&self, n: NodeId) -> bool {
                self.g.node(n.0).is_some()
            }
            fn node_by_external_id(&self, id: &str) -> Option<NodeId> {
                self.g.node_by_ext(id).map(NodeId)
            }
            fn node_external_id(&self, n: NodeId) -> Option<&str> {
                let rec = self.g.node(n.0)?;
                match &rec.ext {
                    Some(s) => Some(s),
                    None => self.node_ids.get_or(n.0, || self.g.node_codec.encode(n.0)),
                }
            }
            fn node_labels(&self, n: NodeId, out: &mut Vec<LabelId>) {
                if let Some(rec) = self.g.node(n.0) {
                    out.extend_from_slice(&rec.labels);
                }
            }
            fn node_has_label(&self, n: NodeId, label: LabelId) -> bool {
                // The label's bitmap (a few KiB per 100k nodes, cache-resident), not the
                // node record (a cache miss per node when expansions check end labels).
                self.g
                    .label_idx
                    .get(label as usize)
                    .is_some_and(|li| li.bits.contains(n.0))
            }
            fn node_property(&self, n: NodeId, key: KeyId) -> Option<Value> {
                self.g.prop_of_node(n.0, key).map(|p| p.to_value())
            }
            fn node_properties(&self, n: NodeId, out: &mut Vec<(KeyId, Value)>) {
                if let Some(rec) = self.g.node(n.0) {
                    out.extend(rec.props.iter().map(|(k, v)| (*k, v.to_value())));
                }
            }
            fn nodes_by_property(
                &self,
                label: LabelId,
                key: KeyId,
                value: &Value,
            ) -> Option<Vec<NodeId>> {
                crate::read::nodes_by_property(&self.g, label, key, value)
            }

            fn rel_count(&self) -> u64 {
                self.g.rel_count
            }
            fn rel_ids(&self) -> Box<dyn Iterator<Item = RelId> + '_> {
                Box::new(
                    self.g
                        .rels
                        .iter()
                        .filter(|(_, r)| r.is_some())
                        .map(|(i, _)| RelId(i)),
                )
            }
            fn type_count(&self, t: TypeId) -> u64 {
                self.g.type_count(t)
            }
            fn rel_exists(&self, r: RelId) -> bool {
                self.g.rel(r.0).is_some()
            }
            fn rel_by_external_id(&self, id: &str) -> Option<RelId> {
                self.g.rel_by_ext(id).map(RelId)
            }
            fn rel_external_id(&self, r: RelId) -> Option<&str> {
                let rec = self.g.rel(r.0)?;
                if rec.user_ext {
                    self.g.rel_ext_rev.get(&(r.0 as u32)).map(|s| &**s)
                } else {
                    self.rel_ids.get_or(r.0, || self.g.rel_codec.encode(r.0))
                }
            }
            fn rel_info(&self, r: RelId) -> Option<(NodeId, NodeId, TypeId)> {
                let rec = self.g.rel(r.0)?;
                Some((
                    NodeId(u64::from(rec.start)),
                    NodeId(u64::from(rec.end)),
                    rec.ty,
                ))
            }
            fn rel_property(&self, r: RelId, key: KeyId) -> Option<Value> {
                self.g.prop_of_rel(r.0, key).map(|p| p.to_value())
            }
            fn live_node_property(&self, n: NodeId, key: KeyId) -> Option<Option<Value>> {
                let rec = self.g.node(n.0)?;
                Some(crate::pval::prop_get(&rec.props, key).map(|p| p.to_value()))
            }
            fn live_rel_property(&self, r: RelId, key: KeyId) -> Option<Option<Value>> {
                let rec = self.g.rel(r.0)?;
                Some(crate::pval::prop_get(&rec.props, key).map(|p| p.to_value()))
            }
            fn rel_properties(&self, r: RelId, out: &mut Vec<(KeyId, Value)>) {
                if let Some(rec) = self.g.rel(r.0) {
                    out.extend(rec.props.iter().map(|(k, v)| (*k, v.to_value())));
                }
            }

            fn expand(
                &self,
                n: NodeId,
                dir: Dir,
                types: &[TypeId],
                out: &mut Vec<(RelId, NodeId)>,
            ) {
                crate::read::expand(&self.g, n, dir, types, out)
            }
            fn degree(&self, n: NodeId, dir: Dir, types: &[TypeId]) -> usize {
                self.g.degree(n.0, dir, types)
            }
            fn expand_to(
                &self,
                n: NodeId,
                dir: Dir,
                types: &[TypeId],
                to: NodeId,
                out: &mut Vec<(RelId, NodeId)>,
            ) {
                crate::read::expand_to(&self.g, n, dir, types, to, out)
            }

            fn prefetch_adjacency(&self, nodes: &[NodeId]) {
                crate::read::prefetch_adjacency(&self.g, nodes)
            }

            fn prefetch_node_property(&self, nodes: &[NodeId], key: KeyId) {
                crate::read::prefetch_node_property(&self.g, nodes, key)
            }

            fn expand_batch(
                &self,
                nodes: &[NodeId],
                dir: Dir,
                types: &[TypeId],
                out: &mut Vec<(u32, RelId, NodeId)>,
            ) {
                crate::read::expand_batch(&self.g, nodes, dir, types, out)
            }

            fn nodes_by_property_range(
                &self,
                label: LabelId,
                key: KeyId,
                lower: Bound<&Value>,
                upper: Bound<&Value>,
            ) -> Option<Vec<NodeId>> {
                crate::read::nodes_by_property_range(&self.g, label, key, lower, upper)
            }

            fn nodes_by_property_prefix(
                &self,
                label: LabelId,
                key: KeyId,
                prefix: &str,
            ) -> Option<Vec<NodeId>> {
                let ix = self.g.index(label, key)?;
                let mut out = Vec::new();
                ix.lookup_prefix(prefix, &mut out);
                let mut out: Vec<NodeId> = out.into_iter().map(|n| NodeId(u64::from(n))).collect();
                out.sort_unstable();
                Some(out)
            }

            fn property_indexes(&self) -> Vec<(LabelId, KeyId)> {
                self.g.indexes.iter().map(|ix| (ix.label, ix.key)).collect()
            }

            fn index_count(&self) -> usize {
                self.g.indexes.len()
            }

            fn index_stats(&self, label: LabelId, key: KeyId) -> Option<crate::IndexStats> {
                self.g.index(label, key).map(|ix| crate::IndexStats {
                    entries: ix.len as u64,
                    distinct: ix.distinct as u64,
                })
            }

            fn type_stats(&self, t: TypeId) -> TypeStats {
                self.g
                    .type_stats
                    .get(t as usize)
                    .copied()
                    .unwrap_or_default()
            }
        }
    };
}

impl_graph_read!(Snapshot);
impl_graph_read!(WriteTxn);

pub(crate) fn scan_nodes(
    g: &Graph,
    label: Option<LabelId>,
    from: u64,
    max: usize,
    out: &mut Vec<NodeId>,
) -> Option<u64> {
    match label {
        Some(l) => {
            let idx = g.label_idx.get(l as usize)?;
            let mut ids = Vec::with_capacity(max.min(4096));
            let next = idx.bits.fill_from(from, max, &mut ids);
            out.extend(ids.into_iter().map(NodeId));
            next
        }
        None => {
            let end = g.nodes.len();
            let mut i = from;
            let mut taken = 0;
            while i < end {
                if g.node(i).is_some() {
                    if taken == max {
                        return Some(i);
                    }
                    out.push(NodeId(i));
                    taken += 1;
                }
                i += 1;
            }
            None
        }
    }
}

pub(crate) fn expand(
    g: &Graph,
    n: NodeId,
    dir: Dir,
    types: &[TypeId],
    out: &mut Vec<(RelId, NodeId)>,
) {
    let Some(adj) = g.adj(n.0) else {
        return;
    };
    let conv = |&(r, o): &(u32, u32)| (RelId(u64::from(r)), NodeId(u64::from(o)));
    match dir {
        Dir::Out | Dir::In => adj
            .side(dir)
            .for_types(types, |s| out.extend(s.iter().map(conv))),
        Dir::Both => {
            adj.out()
                .for_types(types, |s| out.extend(s.iter().map(conv)));
            // A self-loop is in both lists; report it from the outgoing one only.
            let me = n.0 as u32;
            adj.inc().for_types(types, |s| {
                out.extend(s.iter().filter(|e| e.1 != me).map(conv))
            });
        }
    }
}

/// [`GraphRead::scan_rels`]: the relationship vector in id order, a chunk at a time.
pub(crate) fn scan_rels(
    g: &Graph,
    t: TypeId,
    from: u64,
    max: usize,
    out: &mut Vec<(RelId, NodeId, NodeId)>,
) -> Option<u64> {
    let mut found = 0;
    let mut r = from;
    while let Some(run) = g.rels.run_from(r) {
        for (j, slot) in run.iter().enumerate() {
            let Some(rec) = slot.as_ref().filter(|rec| rec.ty == t) else {
                continue;
            };
            if found == max {
                return Some(r + j as u64);
            }
            out.push((
                RelId(r + j as u64),
                NodeId(u64::from(rec.start)),
                NodeId(u64::from(rec.end)),
            ));
            found += 1;
        }
        r += run.len() as u64;
    }
    None
}

/// [`GraphRead::scan_rel_rows`]: one pass over the relationship records, a chunk at a
/// time; the ends' labels are checked in the label bitmaps.
pub(crate) fn scan_rel_rows(
    g: &Graph,
    scan: &RelRowScan<'_>,
    from: u64,
    to: u64,
    max: usize,
    out: &mut Vec<Value>,
) -> Option<u64> {
    let carries = |n: u32, labels: &[LabelId]| {
        labels.iter().all(|&l| {
            g.label_idx
                .get(l as usize)
                .is_some_and(|li| li.bits.contains(u64::from(n)))
        })
    };
    let mut taken = 0;
    let mut heap = 0;
    let mut r = from;
    while r < to {
        // Past the end of the store: no relationship at or after `r`.
        let run = g.rels.run_from(r)?;
        let run = &run[..run.len().min(usize::try_from(to - r).unwrap_or(usize::MAX))];
        for (j, slot) in run.iter().enumerate() {
            let Some(rec) = slot.as_ref().filter(|rec| rec.ty == scan.rel_type) else {
                continue;
            };
            if !carries(rec.start, scan.start_labels) || !carries(rec.end, scan.end_labels) {
                continue;
            }
            let id = r + j as u64;
            if taken == max || heap >= scan.max_heap {
                return Some(id);
            }
            for c in scan.columns {
                out.push(match *c {
                    RelColumn::Rel => Value::Relationship(RelId(id)),
                    RelColumn::Start => Value::Node(NodeId(u64::from(rec.start))),
                    RelColumn::End => Value::Node(NodeId(u64::from(rec.end))),
                    RelColumn::Prop(k) => match prop_get(&rec.props, k) {
                        None => Value::Null,
                        Some(PVal::Int(i)) => Value::Int(*i),
                        Some(PVal::Float(f)) => Value::Float(*f),
                        Some(p) => {
                            let v = p.to_value();
                            heap += crate::value_heap_estimate(&v);
                            v
                        }
                    },
                    RelColumn::Null => Value::Null,
                });
            }
            taken += 1;
        }
        r += run.len() as u64;
    }
    (r < g.rels.len()).then_some(r)
}

/// [`GraphRead::expand_to`]: binary searches in the sorted adjacency groups.
pub(crate) fn expand_to(
    g: &Graph,
    n: NodeId,
    dir: Dir,
    types: &[TypeId],
    to: NodeId,
    out: &mut Vec<(RelId, NodeId)>,
) {
    let Some(adj) = g.adj(n.0) else {
        return;
    };
    let Ok(other) = u32::try_from(to.0) else {
        return;
    };
    let conv = |&(r, o): &(u32, u32)| (RelId(u64::from(r)), NodeId(u64::from(o)));
    let mut emit = |run: &[(u32, u32)]| out.extend(run.iter().map(conv));
    match dir {
        Dir::Out | Dir::In => adj.side(dir).find(types, other, &mut emit),
        Dir::Both => {
            adj.out().find(types, other, &mut emit);
            // A self-loop is in both lists; `expand` reports it from the outgoing one.
            if to != n {
                adj.inc().find(types, other, &mut emit);
            }
        }
    }
}

/// [`GraphRead::prefetch_adjacency`]: independent loads from every node's block, which
/// the CPU overlaps (the blocks are scattered over the heap; one at a time, each read
/// would wait for memory in turn).
/// Touches each node's record, its property list and, for a string, the string's first
/// byte: the loads of different nodes do not depend on each other, so the processor
/// overlaps their cache misses, where the projection's reads one node at a time would wait
/// for each in turn.
pub(crate) fn prefetch_node_property(g: &Graph, nodes: &[NodeId], key: KeyId) {
    let mut sink = 0u64;
    for n in nodes {
        if let Some(p) = g.node(n.0).and_then(|rec| prop_get(&rec.props, key)) {
            sink ^= match p {
                PVal::Str(s) => u64::from(s.as_bytes().first().copied().unwrap_or(0)),
                PVal::Int(i) => *i as u64,
                _ => 1,
            };
        }
    }
    std::hint::black_box(sink);
}

pub(crate) fn prefetch_adjacency(g: &Graph, nodes: &[NodeId]) {
    let mut sink = 0u32;
    for n in nodes {
        if let Some(adj) = g.adj(n.0) {
            sink ^= adj.touch();
        }
    }
    std::hint::black_box(sink);
}

/// Two passes: first find every node's adjacency block (independent loads the CPU can
/// overlap), then read the blocks.
pub(crate) fn expand_batch(
    g: &Graph,
    nodes: &[NodeId],
    dir: Dir,
    types: &[TypeId],
    out: &mut Vec<(u32, RelId, NodeId)>,
) {
    const STEP: usize = 64;
    let mut blocks: Vec<Option<&crate::adj::Adj>> = Vec::with_capacity(STEP.min(nodes.len()));
    for (base, batch) in nodes.chunks(STEP).enumerate() {
        blocks.clear();
        blocks.extend(batch.iter().map(|n| g.adj(n.0)));
        for (j, adj) in blocks.iter().enumerate() {
            let Some(adj) = adj else { continue };
            let i = (base * STEP + j) as u32;
            let conv = |&(r, o): &(u32, u32)| (i, RelId(u64::from(r)), NodeId(u64::from(o)));
            match dir {
                Dir::Out | Dir::In => adj
                    .side(dir)
                    .for_types(types, |s| out.extend(s.iter().map(conv))),
                Dir::Both => {
                    adj.out()
                        .for_types(types, |s| out.extend(s.iter().map(conv)));
                    let me = batch[j].0 as u32;
                    adj.inc().for_types(types, |s| {
                        out.extend(s.iter().filter(|e| e.1 != me).map(conv))
                    });
                }
            }
        }
    }
}

/// Property-index equality lookup; `None` when (label, key) has no index. The key named
/// `~id` is always indexed: it is the external id.
pub(crate) fn nodes_by_property(
    g: &Graph,
    label: LabelId,
    key: KeyId,
    value: &Value,
) -> Option<Vec<NodeId>> {
    if g.keys.name(key) == Some("~id") {
        let Value::String(s) = value else {
            return Some(Vec::new());
        };
        let hit = g.node_by_ext(s).filter(|n| {
            g.node(*n)
                .is_some_and(|r| r.labels.binary_search(&label).is_ok())
        });
        return Some(hit.map(NodeId).into_iter().collect());
    }
    let ix = g.index(label, key)?;
    let mut out = Vec::new();
    match IKey::from_value(value) {
        Some(k) => ix.lookup_eq(&k, &mut out),
        None => {
            let never_equal = match value {
                Value::Null => true,
                Value::Float(f) => f.is_nan(),
                _ => false,
            };
            if never_equal {
                return Some(Vec::new());
            }
            // Lists and durations are stored but not indexed; the label scan is
            // still exact.
            let Some(li) = g.label_idx.get(label as usize) else {
                return Some(Vec::new());
            };
            return Some(
                li.bits
                    .iter()
                    .filter(|n| {
                        g.prop_of_node(*n, key)
                            .is_some_and(|p| p.to_value().cypher_eq(value) == Some(true))
                    })
                    .map(NodeId)
                    .collect(),
            );
        }
    }
    out.sort_unstable();
    Some(out.into_iter().map(|n| NodeId(u64::from(n))).collect())
}

/// Property-index range lookup, see [`GraphRead::nodes_by_property_range`].
pub(crate) fn nodes_by_property_range(
    g: &Graph,
    label: LabelId,
    key: KeyId,
    lower: Bound<&Value>,
    upper: Bound<&Value>,
) -> Option<Vec<NodeId>> {
    let ix = g.index(label, key)?;
    fn conv(b: Bound<&Value>) -> Result<Bound<IKey>, Option<()>> {
        match b {
            Bound::Unbounded => Ok(Bound::Unbounded),
            Bound::Included(v) | Bound::Excluded(v) => {
                let k = match v {
                    Value::Null => return Err(Some(())),
                    Value::Float(f) if f.is_nan() => return Err(Some(())),
                    _ => IKey::from_value(v).ok_or(None)?,
                };
                Ok(match b {
                    Bound::Included(_) => Bound::Included(k),
                    _ => Bound::Excluded(k),
                })
            }
        }
    }
    // Err(Some) = matches nothing (null/NaN bound); Err(None) = not indexable.
    let (lower, upper) = match (conv(lower), conv(upper)) {
        (Ok(l), Ok(u)) => (l, u),
        (Err(None), _) | (_, Err(None)) => return None,
        _ => return Some(Vec::new()),
    };
    let key_of = |b: &Bound<IKey>| match b {
        Bound::Included(k) | Bound::Excluded(k) => Some(k.clone()),
        Bound::Unbounded => None,
    };
    if let (Some(l), Some(u)) = (key_of(&lower), key_of(&upper)) {
        if !l.same_class(&u) {
            return Some(Vec::new());
        }
    }
    let mut out = Vec::new();
    ix.lookup_range(lower.as_ref(), upper.as_ref(), &mut out);
    // In node order, as the other lookups: whatever reads the nodes next (their properties,
    // their relationships) then walks the store forward instead of at random.
    out.sort_unstable();
    Some(out.into_iter().map(|n| NodeId(u64::from(n))).collect())
}
