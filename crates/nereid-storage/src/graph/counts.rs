//! The counts kept alongside the graph for the planner and the property-graph summary:
//! node structures (property keys and outgoing types of each node) and the labels at each
//! end of every relationship type.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{EndLabels, Graph};
use crate::adj::Pending;
use crate::summary::{SigBuf, SEP};
use crate::Dir;

impl Graph {
    /// The structure key of live node `n` (see [`crate::summary::node_signature`]); empty for a missing
    /// node.
    pub(super) fn node_sig(&self, n: u64) -> SigBuf {
        let mut sig = SigBuf::new();
        let Some(rec) = self.node(n) else {
            return sig;
        };
        for (k, _) in rec.props.iter() {
            sig.push(*k);
        }
        sig.push(SEP);
        if let Some(adj) = self.adj(n) {
            for t in adj.out().types() {
                sig.push(t);
            }
        }
        sig
    }

    /// Node `n` just gained (`added`) its first, or lost its last, outgoing relationship of
    /// type `ty`: it moves from one node structure to another. Both keys are built on the
    /// stack: this runs for most relationships of a bulk load (each start node's first of
    /// its type).
    pub(super) fn moved_out_type(&mut self, n: u64, ty: u32, added: bool) {
        let (mut now, mut before) = (SigBuf::new(), SigBuf::new());
        {
            let Some(rec) = self.node(n) else { return };
            for (k, _) in rec.props.iter() {
                now.push(*k);
                before.push(*k);
            }
            now.push(SEP);
            before.push(SEP);
            let mut placed = added;
            if let Some(adj) = self.adj(n) {
                for t in adj.out().types() {
                    now.push(t);
                    if added {
                        if t != ty {
                            before.push(t);
                        }
                    } else {
                        if !placed && ty < t {
                            before.push(ty);
                            placed = true;
                        }
                        before.push(t);
                    }
                }
            }
            if !placed {
                before.push(ty);
            }
        }
        self.summary.node_structure(before.as_slice(), false);
        self.summary.node_structure(now.as_slice(), true);
    }

    /// Counts (or uncounts) relationship `ty` from `start` to `end` under their labels.
    pub(super) fn count_end_labels(&mut self, ty: u32, start: u64, end: u64, up: bool) {
        let start_labels = self
            .node(start)
            .map(|r| r.labels.clone())
            .unwrap_or_default();
        let end_labels = self.node(end).map(|r| r.labels.clone()).unwrap_or_default();
        let all = Arc::make_mut(&mut self.end_labels);
        if all.len() <= ty as usize {
            all.resize(ty as usize + 1, EndLabels::default());
        }
        let e = &mut all[ty as usize];
        for &l in start_labels.iter() {
            bump(&mut e.start, l, up);
        }
        for &l in end_labels.iter() {
            bump(&mut e.end, l, up);
        }
        for &a in start_labels.iter() {
            for &b in end_labels.iter() {
                bump(&mut e.pairs, (a, b), up);
            }
        }
    }

    /// [`Graph::count_end_labels`] for the deferred entries of node `n`: its labels count
    /// once per outgoing entry (as a start) and once per incoming one (as an end).
    pub(super) fn count_placed_end_labels(
        &self,
        all: &mut Vec<EndLabels>,
        n: u64,
        out: &[Pending],
        inc: &[Pending],
    ) {
        let Some(labels) = self.node(n).map(|r| &r.labels) else {
            return;
        };
        if labels.is_empty() {
            return;
        }
        for (mut entries, start) in [(out, true), (inc, false)] {
            // The entries are sorted by type: one count per run of a type.
            while let Some(first) = entries.first() {
                let ty = first.ty;
                let run = entries.partition_point(|p| p.ty == ty);
                let (this, rest) = entries.split_at(run);
                entries = rest;
                if all.len() <= ty as usize {
                    all.resize(ty as usize + 1, EndLabels::default());
                }
                let e = &mut all[ty as usize];
                for &l in labels.iter() {
                    add_label_count(if start { &mut e.start } else { &mut e.end }, l, run as u64);
                }
                if start {
                    self.count_placed_pairs(&mut e.pairs, labels, this);
                }
            }
        }
    }

    /// The label pairs of the outgoing entries `out` (of one type) of a node carrying
    /// `labels`: each relationship once, at its start, under every pair of a start label
    /// and a label of its end. With few labels in the graph, the end's labels are read from
    /// the label bitmaps, which stay in cache, rather than from the end's record, a cache
    /// miss per relationship of a bulk load (that cost the benchmark's load 5%).
    fn count_placed_pairs(
        &self,
        pairs: &mut Vec<((u32, u32), u64)>,
        labels: &[u32],
        out: &[Pending],
    ) {
        const FEW_LABELS: usize = 8;
        if self.label_idx.len() <= FEW_LABELS {
            let mut ends = [0u64; FEW_LABELS];
            for p in out {
                for (b, idx) in self.label_idx.iter().enumerate() {
                    ends[b] += u64::from(idx.bits.contains(u64::from(p.other)));
                }
            }
            for &a in labels {
                for (b, &n) in ends.iter().enumerate().take(self.label_idx.len()) {
                    if n > 0 {
                        add_label_count(pairs, (a, b as u32), n);
                    }
                }
            }
            return;
        }
        for p in out {
            let Some(other) = self.node(u64::from(p.other)) else {
                continue;
            };
            for &a in labels {
                for &b in other.labels.iter() {
                    add_label_count(pairs, (a, b), 1);
                }
            }
        }
    }

    /// `label` was added to (removed from) `node`, whose record already says so: every
    /// relationship at it moves. Its label pairs gain (lose) `label` at that end, paired
    /// with each label of the other end; a relationship from `node` to itself has both
    /// ends changing, and its `(label, label)` pair is counted from its outgoing entry
    /// only.
    pub(super) fn relabel_ends(&mut self, node: u64, label: u32, up: bool) {
        let Some(adj) = self.adj(node).cloned() else {
            return;
        };
        let own: Vec<u32> = self
            .node(node)
            .map(|r| r.labels.iter().copied().filter(|&l| l != label).collect())
            .unwrap_or_default();
        // Per type: the entries at this end, and the pairs they move (a hub's relationships
        // are read once, without an allocation per relationship).
        let mut ends: BTreeMap<(bool, u32), u64> = BTreeMap::new();
        let mut pairs: BTreeMap<(u32, (u32, u32)), u64> = BTreeMap::new();
        for (start, side) in [(true, adj.out()), (false, adj.inc())] {
            for (ty, _, o) in side.iter() {
                *ends.entry((start, ty)).or_default() += 1;
                let mut pair = |other: u32| {
                    let key = if start {
                        (label, other)
                    } else {
                        (other, label)
                    };
                    *pairs.entry((ty, key)).or_default() += 1;
                };
                if u64::from(o) == node {
                    // Both ends are this node: its other labels, and `label` itself once.
                    own.iter().for_each(|&l| pair(l));
                    if start {
                        pair(label);
                    }
                } else if let Some(r) = self.node(u64::from(o)) {
                    r.labels.iter().for_each(|&l| pair(l));
                }
            }
        }
        let all = Arc::make_mut(&mut self.end_labels);
        for ((start, ty), n) in ends {
            if let Some(e) = all.get_mut(ty as usize) {
                shift(if start { &mut e.start } else { &mut e.end }, label, n, up);
            }
        }
        for ((ty, pair), n) in pairs {
            if let Some(e) = all.get_mut(ty as usize) {
                shift(&mut e.pairs, pair, n, up);
            }
        }
    }

    /// Relationships of type `ty` from a node carrying `start` to one carrying `end`.
    pub fn label_pair_count(&self, ty: u32, start: u32, end: u32) -> u64 {
        let Some(e) = self.end_labels.get(ty as usize) else {
            return 0;
        };
        e.pairs
            .binary_search_by_key(&(start, end), |x| x.0)
            .map_or(0, |i| e.pairs[i].1)
    }

    /// Relationships of type `ty` whose start (`Dir::Out`) or end (`Dir::In`) carries
    /// `label`.
    pub fn end_label_count(&self, ty: u32, dir: Dir, label: u32) -> u64 {
        let Some(e) = self.end_labels.get(ty as usize) else {
            return 0;
        };
        let side = if dir == Dir::In { &e.end } else { &e.start };
        side.binary_search_by_key(&label, |x| x.0)
            .map_or(0, |i| side[i].1)
    }
}

/// Adds `n` to `label`'s count in the sorted `counts` (a label, or a pair of labels).
pub(super) fn add_label_count<K: Ord + Copy>(counts: &mut Vec<(K, u64)>, label: K, n: u64) {
    match counts.binary_search_by_key(&label, |e| e.0) {
        Ok(i) => counts[i].1 += n,
        Err(i) => counts.insert(i, (label, n)),
    }
}

/// Adds `n` to (`up`) or takes `n` from `label`'s count in the sorted `counts`; a count
/// that reaches zero is removed.
fn shift<K: Ord + Copy>(counts: &mut Vec<(K, u64)>, label: K, n: u64, up: bool) {
    match counts.binary_search_by_key(&label, |e| e.0) {
        Ok(i) if up => counts[i].1 += n,
        Ok(i) => {
            debug_assert!(counts[i].1 >= n, "a count taken below zero");
            counts[i].1 = counts[i].1.saturating_sub(n);
            if counts[i].1 == 0 {
                counts.remove(i);
            }
        }
        Err(i) if up => counts.insert(i, (label, n)),
        Err(_) => {}
    }
}

/// Adds one to (`up`) or takes one from `label`'s count in the sorted `counts`.
fn bump<K: Ord + Copy>(counts: &mut Vec<(K, u64)>, label: K, up: bool) {
    shift(counts, label, 1, up);
}
