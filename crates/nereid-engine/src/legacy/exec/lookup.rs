//! Per-query hash lookups for repeated property matches without an index.
//!
//! `MATCH (b:P {id: x})` executed once per input row scans every `:P` node each time when
//! (P, id) has no property index. After the same (label, key) lookup has run a few times in
//! one query, [`LookupCache`] builds a hash map from value to nodes with one scan and
//! answers the rest from it — a hash join. Writes made by the query itself invalidate the
//! maps (each write bumps the query's write counter).
//!
//! It also remembers the relationships the query deleted, for functions that may still
//! read their type and endpoints.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use nereid_common::value::GroupKey;
use nereid_common::{NodeId, RelId, Value};
use nereid_storage::{GraphRead, KeyId, LabelId, TypeId};

/// Lookups of one (label, key) before a map is built: scanning is cheaper for a few.
const BUILD_AFTER: u32 = 3;

/// Estimated bytes per indexed node in a map, and the most one map may take: beyond that
/// the query keeps scanning rather than hold a large table outside its memory budget.
const BYTES_PER_ENTRY: u64 = 96;
const MAX_MAP_BYTES: u64 = 256 << 20;

#[derive(Default)]
struct Entry {
    uses: u32,
    /// The map and the write counter it was built at.
    map: Option<(u64, HashMap<GroupKey, Vec<NodeId>>)>,
}

#[derive(Default)]
pub struct LookupCache {
    entries: RefCell<HashMap<(LabelId, KeyId), Entry>>,
    /// Incremented by every write of the query.
    pub writes: Cell<u64>,
    /// Relationships this query deleted, with their endpoints and type: `type(r)`,
    /// `startNode(r)` and `endNode(r)` of a deleted relationship still answer.
    deleted_rels: RefCell<HashMap<RelId, (NodeId, NodeId, TypeId)>>,
}

impl LookupCache {
    pub fn remember_deleted_rel(&self, r: RelId, info: (NodeId, NodeId, TypeId)) {
        self.deleted_rels.borrow_mut().insert(r, info);
    }

    pub fn deleted_rel(&self, r: RelId) -> Option<(NodeId, NodeId, TypeId)> {
        self.deleted_rels.borrow().get(&r).copied()
    }

    /// Nodes with `label` whose `key` equals `value`, when a map exists or is worth building;
    /// `None` tells the caller to scan.
    pub fn lookup(
        &self,
        g: &dyn GraphRead,
        label: LabelId,
        key: KeyId,
        value: &Value,
    ) -> Option<Vec<NodeId>> {
        let writes = self.writes.get();
        let mut entries = self.entries.borrow_mut();
        let entry = entries.entry((label, key)).or_default();
        if let Some((at, map)) = &entry.map {
            if *at == writes {
                return Some(
                    map.get(&GroupKey(vec![value.clone()]))
                        .cloned()
                        .unwrap_or_default(),
                );
            }
            entry.map = None;
        }
        entry.uses += 1;
        if entry.uses < BUILD_AFTER || g.label_count(label) * BYTES_PER_ENTRY > MAX_MAP_BYTES {
            return None;
        }
        let mut map: HashMap<GroupKey, Vec<NodeId>> = HashMap::new();
        for n in g.nodes_with_label(label) {
            if let Some(v) = g.node_property(n, key) {
                // Integers and floats that are equal must meet: equivalence hashing does
                // that; NaN and null never equal anything, so they are not indexed.
                if matches!(v, Value::Float(f) if f.is_nan()) {
                    continue;
                }
                map.entry(GroupKey(vec![v])).or_default().push(n);
            }
        }
        let found = map
            .get(&GroupKey(vec![value.clone()]))
            .cloned()
            .unwrap_or_default();
        entry.map = Some((writes, map));
        Some(found)
    }
}
