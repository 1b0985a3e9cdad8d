//! Bulk application: a run of ops (a checkpoint, a log replay, a bulk load) with the new
//! relationships' adjacency entries deferred and placed once per node.

use nereid_common::Error;

use super::{Graph, Op, PLACE_AT};
use crate::adj::{AdjMerger, Pending};
use crate::summary::{SigBuf, SEP};
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
                // The new out types merged into the old ones: the node's record and block
                // need not be read again.
                let after = with_out_types(before.as_slice(), &new_out);
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

/// The node structure key `sig` (keys, [`SEP`], sorted out types) with the out types `new`
/// (sorted, none of them in `sig`) added.
fn with_out_types(sig: &[u32], new: &[u32]) -> SigBuf {
    let mut out = SigBuf::new();
    let sep = sig
        .iter()
        .position(|&x| x == SEP)
        .map_or(sig.len(), |i| i + 1);
    for &k in &sig[..sep] {
        out.push(k);
    }
    let (mut old, mut new) = (sig[sep..].iter().peekable(), new.iter().peekable());
    loop {
        let next = match (old.peek(), new.peek()) {
            (Some(&&a), Some(&&b)) if a < b => old.next(),
            (Some(_), Some(_)) => new.next(),
            (Some(_), None) => old.next(),
            (None, Some(_)) => new.next(),
            (None, None) => break,
        };
        if let Some(&t) = next {
            out.push(t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_out_types_merge_in_order_after_the_keys() {
        let sig = [1, 4, SEP, 2, 7];
        assert_eq!(
            with_out_types(&sig, &[0, 5, 9]).as_slice(),
            [1, 4, SEP, 0, 2, 5, 7, 9]
        );
        assert_eq!(with_out_types(&[SEP], &[3]).as_slice(), [SEP, 3]);
        assert_eq!(with_out_types(&[2, SEP, 1], &[]).as_slice(), [2, SEP, 1]);
    }
}
