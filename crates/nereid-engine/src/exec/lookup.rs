//! Per-query hash lookups for repeated property matches without an index.
//!
//! `UNWIND $rows AS r MATCH (b:P {id: r.to})` seeks once per input row; when (P, id) has no
//! property index each seek would scan every `:P` node. After the same (label, key) has
//! been sought a few times in one query, [`LookupCache`] builds a hash map from value to
//! nodes with one scan and answers the rest from it — a hash join. The map is charged to
//! the query's memory budget; when it does not fit, seeks keep scanning. Writes made by the
//! query itself invalidate the maps (every write bumps the query's write counter).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;

use nereid_storage::{GraphRead, KeyId, LabelId};
use nereid_value::{GroupKey, NodeId, Value};

use super::memory::{value_size, MemoryBudget, Reservation};

/// Seeks of one (label, key) before a map is built: scanning is cheaper for a few.
const BUILD_AFTER: u32 = 3;

/// Bytes per map entry besides its value (hash slot, node id, vector header).
const ENTRY_OVERHEAD: usize = 64;

#[derive(Default)]
struct Entry {
    uses: u32,
    /// The map, the write counter it was built at, and the memory it holds.
    map: Option<(u64, HashMap<GroupKey, Vec<NodeId>>, Reservation)>,
    /// The map did not fit in the budget: do not try again.
    too_big: bool,
}

#[derive(Default)]
pub struct LookupCache {
    entries: RefCell<HashMap<(LabelId, KeyId), Entry>>,
    /// Incremented by every write of the query.
    pub writes: Cell<u64>,
}

impl LookupCache {
    /// Nodes with `label` whose `key` equals `value`, when a map exists or is worth
    /// building; `None` tells the caller to scan.
    pub fn lookup(
        &self,
        g: &dyn GraphRead,
        label: LabelId,
        key: KeyId,
        value: &Value,
        budget: &Arc<MemoryBudget>,
    ) -> Option<Vec<NodeId>> {
        let writes = self.writes.get();
        let mut entries = self.entries.borrow_mut();
        let entry = entries.entry((label, key)).or_default();
        if let Some((at, map, _)) = &entry.map {
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
        if entry.uses < BUILD_AFTER || entry.too_big {
            return None;
        }
        let mut hold = Reservation::new(budget);
        let mut map: HashMap<GroupKey, Vec<NodeId>> = HashMap::new();
        for n in g.nodes_with_label(label) {
            let Some(v) = g.node_property(n, key) else {
                continue;
            };
            // Integers and floats that are equal must meet: equivalence hashing does that;
            // NaN and null never equal anything, so they are not indexed.
            if matches!(v, Value::Float(f) if f.is_nan()) {
                continue;
            }
            if hold.grow(value_size(&v) + ENTRY_OVERHEAD).is_err() {
                entry.too_big = true;
                return None;
            }
            map.entry(GroupKey(vec![v])).or_default().push(n);
        }
        let found = map
            .get(&GroupKey(vec![value.clone()]))
            .cloned()
            .unwrap_or_default();
        entry.map = Some((writes, map, hold));
        Some(found)
    }
}
