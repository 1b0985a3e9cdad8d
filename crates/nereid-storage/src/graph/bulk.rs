//! Bulk application: a run of ops (a checkpoint, a log replay, a bulk load) with the new
//! relationships' adjacency entries deferred and placed once per node.

use nereid_common::Error;

use super::{Graph, Op, PLACE_AT};
use crate::adj::{AdjMerger, Pending};
use std::sync::Arc;

impl Graph {
    /// [`Graph::apply`] for a run of ops (a checkpoint, a log replay): a new relationship's
    /// adjacency entries are deferred into `pending`, and placed before any op that could
    /// read adjacency, and whenever [`PLACE_AT`] entries wait. The caller places the rest
    /// with [`Graph::place`] at the end.
    pub fn apply_bulk(&mut self, op: Op, pending: &mut Vec<Pending>) -> Result<(), Error> {
        match op {
            Op::CreateRel { .. } => {
                self.apply_deferring(op, Some(pending))?;
                if pending.len() >= PLACE_AT {
                    self.place(pending);
                }
                Ok(())
            }
            // Neither reads nor writes adjacency.
            Op::CreateNode { .. } | Op::Dict { .. } => self.apply(op),
            _ => {
                self.place(pending);
                self.apply(op)
            }
        }
    }

    /// Places deferred adjacency entries (see [`Graph::apply_deferring`]): sorted by node,
    /// each node's block is rebuilt once at its final size ([`AdjMerger::merged`]) instead
    /// of being copied and grown per entry. The result equals inserting the entries one by
    /// one: entries, group order, the types' source and target counts, and the node
    /// structure counts (a node that gains several types moves from its old structure to
    /// the final one; the intermediate ones would have cancelled out). Leaves `pending`
    /// empty.
    pub fn place(&mut self, pending: &mut Vec<Pending>) {
        Pending::sort(pending);
        let mut merger = AdjMerger::default();
        let (mut new_out, mut new_in) = (Vec::new(), Vec::new());
        let mut rest = &pending[..];
        while let Some(first) = rest.first() {
            let node = first.node;
            let len = rest.partition_point(|p| p.node == node);
            let (run, next) = rest.split_at(len);
            rest = next;
            let (out, inc) = run.split_at(run.partition_point(|p| !p.inc));
            let n = u64::from(node);
            new_out.clear();
            new_in.clear();
            let merged = merger.merged(self.adj(n), out, inc, &mut new_out, &mut new_in);
            let before = (!new_out.is_empty()).then(|| self.node_sig(n));
            while self.adjacency.len() <= n {
                self.adjacency.push(None);
            }
            if let Some(slot) = self.adjacency.get_mut(n) {
                *slot = Some(merged);
            }
            if let Some(before) = before {
                let after = self.node_sig(n);
                self.summary.node_structure(before.as_slice(), false);
                self.summary.node_structure(after.as_slice(), true);
            }
            self.count_placed_end_labels(n, out, inc);
            let stats = Arc::make_mut(&mut self.type_stats);
            for &ty in &new_out {
                if let Some(st) = stats.get_mut(ty as usize) {
                    st.sources += 1;
                }
            }
            for &ty in &new_in {
                if let Some(st) = stats.get_mut(ty as usize) {
                    st.targets += 1;
                }
            }
        }
        pending.clear();
    }
}
