//! Bulk application: a run of ops (a checkpoint, a log replay, a bulk load) with the new
//! relationships' adjacency entries deferred and placed once per node.

use std::sync::{Arc, Mutex, MutexGuard};

use nereid_common::Error;

use super::counts::add_label_count;
use super::{EndLabels, Graph, Op, PLACE_AT};
use crate::adj::{run_len, Adj, AdjMerger, Pair, Pending};
use crate::summary::{SigBuf, SEP};
use crate::{DegreeHistogram, Dir};

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

    /// Places deferred adjacency entries (see [`Graph::apply_deferring`]): grouped by node,
    /// each node's block is rebuilt once at its final size ([`AdjMerger::merge_into`])
    /// instead of being copied and grown per entry. The result equals inserting the entries
    /// one by one: entries, group order, the types' source and target counts, the end
    /// labels per type, and the node structure counts (a node that gains several types
    /// moves from its old structure to the final one; the intermediate ones would have
    /// cancelled out). Leaves `pending` empty.
    ///
    /// The nodes go in chunks of about [`PLACE_CHUNK`] entries. A chunk's blocks and its
    /// changes to the counts are worked out from the graph as it is ([`Graph::merge_nodes`]);
    /// from [`PLACE_IN_TWO`] entries on, on two threads, this one and a helper, each over
    /// half of the chunk's nodes: a bulk load's batch rebuilds the block of nearly every
    /// node it touches, and while it does, the load's reading thread has nothing to do.
    /// Then this thread allocates and installs the chunk's blocks, and at the end adds the
    /// changes to the counts. The blocks are worked out into flat buffers and allocated here
    /// because glibc's arenas are capped at the core count: a helper allocating them shared
    /// an arena, and its lock, with this thread, and merging on two threads was no faster
    /// than on one.
    pub fn place(&mut self, pending: &mut Vec<Pending>) {
        self.place_in_chunks(pending, PLACE_CHUNK, PLACE_IN_TWO);
    }

    /// [`Graph::place`] in chunks of about `chunk` entries, on two threads from `in_two`
    /// entries of a chunk on (tests make both small).
    pub(crate) fn place_in_chunks(
        &mut self,
        pending: &mut Vec<Pending>,
        chunk: usize,
        in_two: usize,
    ) {
        let runs_unsorted = Pending::group_by_node(pending);
        let mut halves = [MergedNodes::default(), MergedNodes::default()];
        let mut changes = CountChanges::default();
        let mut rest = &mut pending[..];
        while !rest.is_empty() {
            let (part, next) = rest.split_at_mut(run_end(rest, chunk.max(1)));
            rest = next;
            halves = self.merge_chunk(part, runs_unsorted, in_two, halves);
            for half in &mut halves {
                let mut from = 0;
                for &(node, end) in &half.blocks {
                    let n = u64::from(node);
                    while self.adjacency.len() <= n {
                        self.adjacency.push(None);
                    }
                    if let Some(slot) = self.adjacency.get_mut(n) {
                        *slot = Some(Adj::from_block(&half.pairs[from..end as usize]));
                    }
                    from = end as usize;
                }
                changes.add(&mut half.changes);
            }
        }
        for (sig, delta) in &changes.structures.0 {
            self.summary.node_structure_by(sig, *delta);
        }
        changes.rel_structures.flush();
        for (keys, delta) in &changes.rel_structures.counts.0 {
            self.summary.rel_structure_by(keys, *delta);
        }
        self.summary.rel_keys_by(&changes.rel_keys);
        if !changes.end_labels.is_empty() {
            add_end_labels(Arc::make_mut(&mut self.end_labels), &changes.end_labels);
        }
        if !changes.type_ends.is_empty() || !changes.type_degrees.is_empty() {
            let stats = Arc::make_mut(&mut self.type_stats);
            for (ty, &(sources, targets)) in changes.type_ends.iter().enumerate() {
                if let Some(st) = stats.get_mut(ty) {
                    st.sources += sources;
                    st.targets += targets;
                }
            }
            for (ty, [out, inc]) in changes.type_degrees.iter().enumerate() {
                if let Some(st) = stats.get_mut(ty) {
                    for (hist, deltas) in [(&mut st.out_degrees, out), (&mut st.in_degrees, inc)] {
                        for (n, d) in hist.0.iter_mut().zip(deltas) {
                            *n = n.saturating_add_signed(*d);
                        }
                    }
                }
            }
        }
        pending.clear();
    }

    /// [`Graph::merge_nodes`] of `chunk`, into `into` (emptied first, and returned): on two
    /// threads from `in_two` entries on (when a helper can be started), each over about
    /// half of its nodes.
    fn merge_chunk(
        &self,
        chunk: &mut [Pending],
        runs_unsorted: bool,
        in_two: usize,
        into: [MergedNodes; 2],
    ) -> [MergedNodes; 2] {
        let [mut low, mut high] = into;
        low.clear();
        high.clear();
        if chunk.len() < in_two {
            self.merge_nodes(chunk, runs_unsorted, &mut low);
            return [low, high];
        }
        let (first, second) = chunk.split_at_mut(balanced_split(chunk));
        // Handed to the helper through the lock, so that it is still here if the helper
        // cannot be started.
        let for_helper = Mutex::new(Some((first, low)));
        std::thread::scope(|scope| {
            let helper = std::thread::Builder::new()
                .name("nereid-place".into())
                .spawn_scoped(scope, || {
                    let (first, mut low) = lock(&for_helper).take()?;
                    self.merge_nodes(first, runs_unsorted, &mut low);
                    Some(low)
                });
            self.merge_nodes(second, runs_unsorted, &mut high);
            let helped = match helper {
                Ok(h) => h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
                Err(_) => None,
            };
            // Not started: here.
            let low = helped.unwrap_or_else(|| match lock(&for_helper).take() {
                Some((first, mut low)) => {
                    self.merge_nodes(first, runs_unsorted, &mut low);
                    low
                }
                None => MergedNodes::default(),
            });
            [low, high]
        })
    }

    /// For the entries of `grouped` (grouped by node, each node's run also sorted unless
    /// `runs_unsorted`, which sorts them here): appends each node's new block to `into`, in
    /// node order, and adds what they change in the counts. Reads the graph only.
    fn merge_nodes(&self, grouped: &mut [Pending], runs_unsorted: bool, into: &mut MergedNodes) {
        let mut merger = AdjMerger::default();
        let (mut new_out, mut new_in) = (Vec::new(), Vec::new());
        let mut rest = grouped;
        while !rest.is_empty() {
            let (run, next) = rest.split_at_mut(run_len(rest));
            rest = next;
            if runs_unsorted {
                Pending::sort_run(run);
            }
            let (out, inc) = run.split_at(run.partition_point(|p| !p.inc));
            let n = u64::from(run[0].node);
            new_out.clear();
            new_in.clear();
            let old = self.adj(n);
            merger.merge_into(old, out, inc, &mut new_out, &mut new_in, &mut into.pairs);
            into.blocks.push((run[0].node, into.pairs.len() as u32));
            let changes = &mut into.changes;
            if !new_out.is_empty() {
                // The new out types merged into the old ones: the node's record and block
                // need not be read again.
                let before = self.node_sig(n);
                let after = with_out_types(before.as_slice(), &new_out);
                changes
                    .structures
                    .moved(before.as_slice(), after.as_slice());
            }
            self.count_placed_end_labels(&mut changes.end_labels, n, out, inc);
            changes.count_degrees(old, out, inc);
            // Each relationship once, at its start: its property keys (which
            // `apply_deferring` left to be counted here, where it is done on two threads).
            for p in out {
                let Some(rel) = self.rel(u64::from(p.rel)) else {
                    continue;
                };
                changes
                    .rel_structures
                    .add_one(rel.props.iter().map(|(k, _)| *k));
                for &(k, _) in rel.props.iter() {
                    let k = k as usize;
                    if changes.rel_keys.len() <= k {
                        changes.rel_keys.resize(k + 1, 0);
                    }
                    changes.rel_keys[k] += 1;
                }
            }
            for (&ty, source) in new_out
                .iter()
                .map(|t| (t, true))
                .chain(new_in.iter().map(|t| (t, false)))
            {
                let ty = ty as usize;
                if changes.type_ends.len() <= ty {
                    changes.type_ends.resize(ty + 1, (0, 0));
                }
                let ends = &mut changes.type_ends[ty];
                if source {
                    ends.0 += 1;
                } else {
                    ends.1 += 1;
                }
            }
        }
    }
}

/// Entries [`Graph::place`] works on at a time (its buffers hold a chunk's new blocks). At
/// 65,536 the buffers' peaks stayed in the heap after a load: the process's RSS after
/// loading the 100k-person benchmark graph was 179-192 MB, against 173-181 MB at 16,384
/// (and 176-181 MB before blocks were merged in chunks).
const PLACE_CHUNK: usize = 1 << 14;

/// Entries of a chunk from which [`Graph::place`] works on two threads. Below it a thread
/// costs more than it saves (one is started per chunk, some tens of microseconds).
const PLACE_IN_TWO: usize = 1 << 13;

/// Where the first `at_least` entries of `grouped` end, moved on to the end of the node
/// run it falls in (all of `grouped` when shorter).
fn run_end(grouped: &[Pending], at_least: usize) -> usize {
    if grouped.len() <= at_least {
        return grouped.len();
    }
    let mid = at_least - 1;
    let node = grouped[mid].node;
    mid + grouped[mid..]
        .iter()
        .position(|p| p.node != node)
        .unwrap_or(grouped.len() - mid)
}

/// A node boundary in `grouped` that halves the work of merging its nodes, counted as
/// each node's entries plus [`NODE_COST`]: rebuilding a node's block costs more than an
/// entry does, and a chunk can be a few nodes with many entries each (cities that many
/// people live in) followed by many nodes with one each (those people).
fn balanced_split(grouped: &[Pending]) -> usize {
    let weight = |rest: &[Pending]| {
        let mut runs = 0;
        let mut prev = None;
        for p in rest {
            if prev != Some(p.node) {
                runs += 1;
                prev = Some(p.node);
            }
        }
        rest.len() + NODE_COST * runs
    };
    let half = weight(grouped) / 2;
    let (mut done, mut at) = (0, 0);
    while at < grouped.len() && done < half {
        let len = run_len(&grouped[at..]);
        done += len + NODE_COST;
        at += len;
    }
    at
}

/// A node's block rebuilt, in entries' worth of work (see [`balanced_split`]).
const NODE_COST: usize = 8;

/// `m` locked; a lock poisoned by a panic is taken anyway (the panic is passed on by the
/// join).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// [`Graph::merge_nodes`]' output for some nodes.
#[derive(Default)]
struct MergedNodes {
    /// Each node, by node, with where its block ends in `pairs`.
    blocks: Vec<(u32, u32)>,
    /// The blocks' pairs, one after the other (see [`Adj::from_block`]).
    pairs: Vec<Pair>,
    changes: CountChanges,
}

impl MergedNodes {
    /// Empties the blocks (the changes are taken by [`CountChanges::add`]); keeps the
    /// buffers.
    fn clear(&mut self) {
        self.blocks.clear();
        self.pairs.clear();
    }
}

/// What placing some nodes' entries changes in the counts.
#[derive(Default)]
struct CountChanges {
    structures: StructureMoves,
    /// The end labels the entries add, by type (as [`Graph::end_labels`]).
    end_labels: Vec<EndLabels>,
    /// Per type: the nodes that became a source of it, and a target.
    type_ends: Vec<(u64, u64)>,
    /// Per type: what the entries change in its out- and in-degree histograms, per
    /// bucket (a node leaves its old degree's bucket and joins its new one's).
    type_degrees: Vec<[DegreeDeltas; 2]>,
    /// The new relationships' key sets (relationship structures).
    rel_structures: KeySetCounts,
    /// Per property key: the new relationships that have it.
    rel_keys: Vec<u64>,
}

/// Changes to a [`DegreeHistogram`]'s buckets.
type DegreeDeltas = [i64; 32];

impl CountChanges {
    /// Counts the degree changes of one node whose block `old` gains the outgoing entries
    /// `out` and the incoming ones `inc` (each sorted by type).
    fn count_degrees(&mut self, old: Option<&Adj>, out: &[Pending], inc: &[Pending]) {
        for (side, dir, entries) in [(0, Dir::Out, out), (1, Dir::In, inc)] {
            for group in entries.chunk_by(|a, b| a.ty == b.ty) {
                let ty = group[0].ty;
                let before = old.map_or(0, |a| a.side(dir).count(&[ty])) as u32;
                let after = before + group.len() as u32;
                if self.type_degrees.len() <= ty as usize {
                    self.type_degrees.resize(ty as usize + 1, [[0; 32]; 2]);
                }
                let deltas = &mut self.type_degrees[ty as usize][side];
                if before > 0 {
                    deltas[DegreeHistogram::bucket(before)] -= 1;
                }
                deltas[DegreeHistogram::bucket(after)] += 1;
            }
        }
    }

    /// Adds `other`'s changes to these, leaving `other` empty.
    fn add(&mut self, other: &mut CountChanges) {
        self.structures.absorb(&mut other.structures);
        add_end_labels(&mut self.end_labels, &other.end_labels);
        other.end_labels.clear();
        if self.type_ends.len() < other.type_ends.len() {
            self.type_ends.resize(other.type_ends.len(), (0, 0));
        }
        for (a, m) in self.type_ends.iter_mut().zip(other.type_ends.drain(..)) {
            a.0 += m.0;
            a.1 += m.1;
        }
        if self.type_degrees.len() < other.type_degrees.len() {
            self.type_degrees
                .resize(other.type_degrees.len(), [[0; 32]; 2]);
        }
        for (a, m) in self
            .type_degrees
            .iter_mut()
            .zip(other.type_degrees.drain(..))
        {
            for (a, m) in a.iter_mut().zip(m) {
                for (a, m) in a.iter_mut().zip(m) {
                    *a += m;
                }
            }
        }
        other.rel_structures.flush();
        self.rel_structures
            .counts
            .absorb(&mut other.rel_structures.counts);
        if self.rel_keys.len() < other.rel_keys.len() {
            self.rel_keys.resize(other.rel_keys.len(), 0);
        }
        for (a, m) in self.rel_keys.iter_mut().zip(other.rel_keys.drain(..)) {
            *a += m;
        }
    }
}

/// Key sets counted, the last one apart: the relationships of a run of a file mostly have
/// the same keys, counted without a hash lookup each.
#[derive(Default)]
struct KeySetCounts {
    last: Vec<u32>,
    last_count: i64,
    counts: StructureMoves,
}

impl KeySetCounts {
    /// One more of the key set `keys` (sorted).
    fn add_one(&mut self, keys: impl Iterator<Item = u32> + Clone) {
        if self.last_count > 0 && self.last.iter().copied().eq(keys.clone()) {
            self.last_count += 1;
            return;
        }
        self.flush();
        self.last.clear();
        self.last.extend(keys);
        self.last_count = 1;
    }

    /// Moves the last key set's count into `counts`.
    fn flush(&mut self) {
        if self.last_count > 0 {
            *self.counts.0.entry_ref(&self.last[..]).or_insert(0) += self.last_count;
            self.last_count = 0;
        }
    }
}

/// Changes to the node structure counts: structure key → nodes gained (lost when
/// negative).
#[derive(Default)]
struct StructureMoves(hashbrown::HashMap<Box<[u32]>, i64>);

impl StructureMoves {
    /// A node moved from structure `before` to `after`.
    fn moved(&mut self, before: &[u32], after: &[u32]) {
        // By the slice: most keys are there already, and need no box.
        *self.0.entry_ref(before).or_insert(0) -= 1;
        *self.0.entry_ref(after).or_insert(0) += 1;
    }

    /// Adds `other`'s changes to these, leaving `other` empty.
    fn absorb(&mut self, other: &mut StructureMoves) {
        for (key, delta) in other.0.drain() {
            *self.0.entry(key).or_insert(0) += delta;
        }
    }
}

/// Adds the counts of `more` (by type, as [`Graph::end_labels`]) to `all`.
fn add_end_labels(all: &mut Vec<EndLabels>, more: &[EndLabels]) {
    if all.len() < more.len() {
        all.resize(more.len(), EndLabels::default());
    }
    for (e, m) in all.iter_mut().zip(more) {
        for &(l, n) in &m.start {
            add_label_count(&mut e.start, l, n);
        }
        for &(l, n) in &m.end {
            add_label_count(&mut e.end, l, n);
        }
        for &(pair, n) in &m.pairs {
            add_label_count(&mut e.pairs, pair, n);
        }
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

    /// Entries of nodes with `runs[i]` entries each, node `i`.
    fn grouped(runs: &[usize]) -> Vec<Pending> {
        runs.iter()
            .enumerate()
            .flat_map(|(node, &len)| {
                (0..len).map(move |i| Pending {
                    node: node as u32,
                    inc: false,
                    ty: 0,
                    rel: i as u32,
                    other: 0,
                })
            })
            .collect()
    }

    #[test]
    fn chunks_end_at_node_boundaries() {
        let g = grouped(&[3, 1, 4, 2]);
        assert_eq!(run_end(&g, 1), 3, "inside the first run: its end");
        assert_eq!(run_end(&g, 3), 3, "at a run's end: there");
        assert_eq!(run_end(&g, 4), 4);
        assert_eq!(run_end(&g, 5), 8);
        assert_eq!(run_end(&g, 10), 10, "the whole slice");
        assert_eq!(run_end(&g, 99), 10);
        assert_eq!(run_end(&[], 4), 0);
    }

    #[test]
    fn the_split_balances_nodes_as_well_as_entries() {
        // A few nodes with many entries, then many with one: splitting by entries alone
        // would give the second half nearly every node.
        let mut runs = vec![40; 5];
        runs.extend(std::iter::repeat_n(1, 200));
        let g = grouped(&runs);
        let at = balanced_split(&g);
        let nodes_before = g[..at]
            .windows(2)
            .filter(|w| w[0].node != w[1].node)
            .count()
            + 1;
        // Work counted as entries + NODE_COST per node: 5 * 48 + 200 * 9 = 2,040 in all.
        // Half is reached after the five big nodes and 87 small ones (240 + 87 * 9 = 1,023).
        assert_eq!(nodes_before, 5 + 87);
        assert!(at > 0 && at < g.len());
        assert!(g[at - 1].node != g[at].node, "at a node boundary");
        // One node: all of it on one side.
        let one = grouped(&[9]);
        assert_eq!(balanced_split(&one), 9);
    }

    #[test]
    fn key_sets_are_counted_with_the_last_one_apart() {
        let mut k = KeySetCounts::default();
        for keys in [&[1u32, 2][..], &[1, 2], &[], &[1, 2], &[], &[]] {
            k.add_one(keys.iter().copied());
        }
        k.flush();
        let mut got: Vec<(Vec<u32>, i64)> = k
            .counts
            .0
            .iter()
            .map(|(key, n)| (key.to_vec(), *n))
            .collect();
        got.sort();
        assert_eq!(got, vec![(vec![], 3), (vec![1, 2], 3)]);
        k.flush();
        assert_eq!(
            k.counts.0.values().sum::<i64>(),
            6,
            "a second flush adds nothing"
        );
    }
}
