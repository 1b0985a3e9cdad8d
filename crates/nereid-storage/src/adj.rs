//! A node's adjacency: both directions, grouped by relationship type, in one allocation.
//!
//! ```text
//! [(og, ol), (ig, used) | out group headers | out entries | in group headers | in entries | spare]
//! ```
//!
//! The two header pairs hold the layout: `og` outgoing group headers, `ol` outgoing headers
//! and entries together (where the incoming part starts), `ig` incoming group headers, and
//! `used` pairs in use. A group header is `(type, end)`: the group's entries run from the previous header's
//! end (0 for the first) to `end`, counted from the start of that direction's entries;
//! headers are sorted by type. An entry is `(relationship, other node)`: 8 bytes per
//! direction per relationship. Within a group, entries are sorted by `(other node,
//! relationship)`, so the relationships between two nodes are found by binary search
//! (expand-into) and neighbour lists intersect in one merge pass (cycles, triangles).
//!
//! Everything lives in one `Arc<[_]>`: expanding a node costs one pointer hop from the node
//! record, and copy-on-write shares the block between versions until a writer changes it
//! (`Arc::make_mut`). Spare room at the end lets a writer that owns the block insert in
//! place; the block grows by a quarter (at least 4 pairs) rather than doubling, since adjacency is most of the
//! store's memory and inserts are rare compared with reads.

use std::sync::Arc;

use crate::Dir;

pub(crate) type Pair = (u32, u32);

/// The two layout pairs in front of the data.
const H: usize = 2;

#[derive(Clone, Debug)]
pub(crate) struct Adj(Arc<[Pair]>);

impl Default for Adj {
    fn default() -> Self {
        Self::with_capacity(0, &[(0, 0), (0, 0)])
    }
}

/// One direction's headers and entries.
#[derive(Clone, Copy)]
pub(crate) struct Side<'a> {
    groups: &'a [Pair],
    entries: &'a [Pair],
}

impl<'a> Side<'a> {
    fn group_range(&self, g: usize) -> std::ops::Range<usize> {
        let start = if g == 0 {
            0
        } else {
            self.groups[g - 1].1 as usize
        };
        start..self.groups[g].1 as usize
    }

    /// Calls `f` on every run of entries whose type is in `types` (all when empty).
    #[inline]
    pub fn for_types(&self, types: &[u32], mut f: impl FnMut(&'a [Pair])) {
        if types.is_empty() {
            f(self.entries);
            return;
        }
        if types.len() == 1 {
            if let Ok(g) = self.groups.binary_search_by_key(&types[0], |g| g.0) {
                f(&self.entries[self.group_range(g)]);
            }
            return;
        }
        for g in 0..self.groups.len() {
            if types.contains(&self.groups[g].0) {
                f(&self.entries[self.group_range(g)]);
            }
        }
    }

    /// Calls `f` on the entries whose other node is `other`, for every type in `types`
    /// (all when empty): a binary search per type group.
    #[inline]
    pub fn find(&self, types: &[u32], other: u32, mut f: impl FnMut(&'a [Pair])) {
        let mut search = |run: &'a [Pair]| {
            let start = run.partition_point(|e| e.1 < other);
            let len = run[start..].partition_point(|e| e.1 == other);
            if len > 0 {
                f(&run[start..start + len]);
            }
        };
        if types.is_empty() {
            for g in 0..self.groups.len() {
                search(&self.entries[self.group_range(g)]);
            }
            return;
        }
        self.for_types(types, search);
    }

    /// The relationship types present in this direction, ascending (a type's group exists
    /// only while it has entries).
    pub fn types(&self) -> impl Iterator<Item = u32> + 'a {
        self.groups.iter().map(|g| g.0)
    }

    pub fn count(&self, types: &[u32]) -> usize {
        let mut n = 0;
        self.for_types(types, |s| n += s.len());
        n
    }

    /// Every `(type, relationship, other)`.
    pub fn iter(&self) -> impl Iterator<Item = (u32, u32, u32)> + 'a {
        let s = *self;
        (0..s.groups.len()).flat_map(move |g| {
            let ty = s.groups[g].0;
            s.entries[s.group_range(g)]
                .iter()
                .map(move |&(r, o)| (ty, r, o))
        })
    }
}

impl Adj {
    /// The block whose pairs (layout pairs and data) [`AdjMerger::merge_into`] wrote.
    pub(crate) fn from_block(pairs: &[Pair]) -> Self {
        Adj(Arc::from(pairs))
    }

    /// A block holding `prefix` (layout pairs and data) and `spare` unused pairs.
    fn with_capacity(spare: usize, prefix: &[Pair]) -> Self {
        Adj(prefix
            .iter()
            .copied()
            .chain(std::iter::repeat_n((0, 0), spare))
            .collect())
    }

    fn og(&self) -> usize {
        self.0[0].0 as usize
    }
    fn ol(&self) -> usize {
        self.0[0].1 as usize
    }
    fn ig(&self) -> usize {
        self.0[1].0 as usize
    }
    fn used(&self) -> usize {
        self.0[1].1 as usize
    }

    fn data(&self) -> &[Pair] {
        &self.0[H..H + self.used()]
    }

    #[inline]
    pub fn out(&self) -> Side<'_> {
        let d = self.data();
        let (og, ol) = (self.og(), self.ol());
        Side {
            groups: &d[..og],
            entries: &d[og..ol],
        }
    }

    #[inline]
    pub fn inc(&self) -> Side<'_> {
        let d = self.data();
        let (ol, ig) = (self.ol(), self.ig());
        Side {
            groups: &d[ol..ol + ig],
            entries: &d[ol + ig..],
        }
    }

    #[inline]
    pub fn side(&self, dir: Dir) -> Side<'_> {
        match dir {
            Dir::In => self.inc(),
            _ => self.out(),
        }
    }

    /// Reads a word from the start, the middle and the end of the block, whose addresses
    /// do not depend on its contents: a loop calling this over many nodes has the CPU fetch
    /// their blocks in parallel (see [`crate::GraphRead::prefetch_adjacency`]).
    #[inline]
    pub fn touch(&self) -> u32 {
        let s = &self.0;
        match s.len() {
            0 => 0,
            n => s[0].0 ^ s[n / 2].1 ^ s[n - 1].0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.used() == 0
    }

    /// `(first header index, header count, first entry index)` of a direction, within data.
    fn layout(&self, dir: Dir) -> (usize, usize, usize) {
        match dir {
            Dir::In => (self.ol(), self.ig(), self.ol() + self.ig()),
            _ => (0, self.og(), self.og()),
        }
    }

    /// The whole block, writable, with room for `extra` more pairs: copied if shared
    /// (copy-on-write), reallocated if full.
    fn writable(&mut self, extra: usize) -> &mut [Pair] {
        let used = self.used();
        let cap = self.0.len() - H;
        if used + extra > cap {
            // A quarter more, but at least 4 pairs: small lists would otherwise be
            // reallocated on almost every insert.
            let grown = (used + extra).max(used + (used / 4).max(4));
            *self = Self::with_capacity(grown - used, &self.0[..H + used]);
        }
        Arc::make_mut(&mut self.0)
    }

    /// Inserts `v` at data index `at`, shifting the rest right.
    fn insert_at(&mut self, at: usize, v: Pair) {
        let used = self.used();
        let s = self.writable(1);
        s.copy_within(H + at..H + used, H + at + 1);
        s[H + at] = v;
        s[1].1 += 1;
    }

    fn remove_at(&mut self, at: usize) {
        let used = self.used();
        let s = self.writable(0);
        s.copy_within(H + at + 1..H + used, H + at);
        s[1].1 -= 1;
    }

    /// Adds an entry; returns whether it is the first of its type in this direction.
    pub fn insert(&mut self, dir: Dir, ty: u32, rel: u32, other: u32) -> bool {
        let (g0, gn, mut e0) = self.layout(dir);
        let data = self.data();
        let (g, new_group) = match data[g0..g0 + gn].binary_search_by_key(&ty, |h| h.0) {
            Ok(g) => (g, false),
            Err(g) => {
                let start = if g == 0 { 0 } else { data[g0 + g - 1].1 };
                self.insert_at(g0 + g, (ty, start));
                e0 += 1;
                let s = self.writable(0);
                match dir {
                    Dir::In => s[1].0 += 1,
                    _ => {
                        s[0].0 += 1;
                        s[0].1 += 1;
                    }
                }
                (g, true)
            }
        };
        let gn = gn + usize::from(new_group);
        let data = self.data();
        let start = if g == 0 {
            0
        } else {
            data[g0 + g - 1].1 as usize
        };
        let end = data[g0 + g].1 as usize;
        // Keep the group sorted by (other node, relationship).
        let offset = data[e0 + start..e0 + end].partition_point(|e| (e.1, e.0) < (other, rel));
        self.insert_at(e0 + start + offset, (rel, other));
        let s = self.writable(0);
        for h in &mut s[H + g0 + g..H + g0 + gn] {
            h.1 += 1;
        }
        if dir != Dir::In {
            s[0].1 += 1;
        }
        new_group
    }

    /// Removes an entry; returns whether it was the last of its type in this direction.
    pub fn remove(&mut self, dir: Dir, ty: u32, rel: u32) -> bool {
        let (g0, gn, e0) = self.layout(dir);
        let data = self.data();
        let Ok(g) = data[g0..g0 + gn].binary_search_by_key(&ty, |h| h.0) else {
            return false;
        };
        let start = if g == 0 {
            0
        } else {
            data[g0 + g - 1].1 as usize
        };
        let end = data[g0 + g].1 as usize;
        let Some(pos) = data[e0 + start..e0 + end].iter().position(|e| e.0 == rel) else {
            return false;
        };
        self.remove_at(e0 + start + pos);
        let s = self.writable(0);
        for h in &mut s[H + g0 + g..H + g0 + gn] {
            h.1 -= 1;
        }
        if dir != Dir::In {
            s[0].1 -= 1;
        }
        let emptied = end - start == 1;
        if emptied {
            self.remove_at(g0 + g);
            let s = self.writable(0);
            match dir {
                Dir::In => s[1].0 -= 1,
                _ => {
                    s[0].0 -= 1;
                    s[0].1 -= 1;
                }
            }
        }
        let used = self.used();
        if self.0.len() - H > 2 * used + 8 {
            *self = Self::with_capacity(used / 4, &self.0[..H + used]);
        }
        emptied
    }
}

/// One direction of one relationship whose adjacency entry has not been placed yet (the
/// bulk path: [`AdjMerger::merge_into`] places a node's entries of a whole batch at once).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pending {
    pub node: u32,
    /// `true`: an incoming entry of `node`; `false`: an outgoing one.
    pub inc: bool,
    pub ty: u32,
    pub rel: u32,
    pub other: u32,
}

impl Pending {
    /// The order [`AdjMerger::merge_into`] needs: by node, direction, type, then as entries
    /// are kept within a group (other node, relationship).
    pub fn sort_key(&self) -> (u32, bool, u32, u32, u32) {
        (self.node, self.inc, self.ty, self.other, self.rel)
    }

    /// Sorts by [`Pending::sort_key`] (as [`crate::graph::Graph::place`] does, in parts):
    /// [`Pending::group_by_node`], then each node's run by the rest of the key
    /// ([`Pending::sort_run`]).
    #[cfg(test)]
    pub fn sort(pending: &mut Vec<Pending>) {
        if Self::group_by_node(pending) {
            let mut rest = &mut pending[..];
            while !rest.is_empty() {
                let len = run_len(rest);
                let (run, next) = rest.split_at_mut(len);
                Self::sort_run(run);
                rest = next;
            }
        }
    }

    /// Orders `pending` by node, in the cheapest way the entries allow; `true` when each
    /// node's run still needs [`Pending::sort_run`]. A bulk load sorts two entries per
    /// relationship:
    ///
    /// * nodes within a span of a few times the number of entries (a batch of a load):
    ///   a counting sort by node (`true`) — with the runs sorted after, about a quarter of
    ///   the instructions of a comparison sort;
    /// * otherwise, when every type id fits in 31 bits (always, short of two billion
    ///   relationship types), each entry packs into one `u128` that orders as its key, and
    ///   the packed keys are sorted as plain integers;
    /// * otherwise by the key itself.
    pub fn group_by_node(pending: &mut Vec<Pending>) -> bool {
        if Self::counting_sort(pending) {
            return true;
        }
        if pending.iter().all(|p| p.ty < 1 << 31) {
            let mut packed: Vec<u128> = pending.iter().map(Pending::pack).collect();
            packed.sort_unstable();
            for (p, &k) in pending.iter_mut().zip(&packed) {
                *p = Pending::unpack(k);
            }
        } else {
            pending.sort_unstable_by_key(Pending::sort_key);
        }
        false
    }

    /// Sorts one node's entries by [`Pending::sort_key`].
    pub fn sort_run(run: &mut [Pending]) {
        if run.len() > 1 {
            run.sort_unstable_by_key(|p| (p.inc, p.ty, p.other, p.rel));
        }
    }

    /// The counting sort by node of [`Pending::group_by_node`]; `false` (nothing done) when
    /// the nodes are too spread out for it to pay.
    fn counting_sort(pending: &mut Vec<Pending>) -> bool {
        let (Some(lo), Some(hi)) = (
            pending.iter().map(|p| p.node).min(),
            pending.iter().map(|p| p.node).max(),
        ) else {
            return true;
        };
        let span = (hi - lo) as usize + 1;
        if pending.len() < 64 || span > 4 * pending.len() {
            return false;
        }
        // at[n]: where node lo + n's run begins in the sorted order, then where its next
        // entry goes.
        let mut at = vec![0u32; span + 1];
        for p in pending.iter() {
            at[(p.node - lo) as usize + 1] += 1;
        }
        for i in 1..at.len() {
            at[i] += at[i - 1];
        }
        let mut sorted = vec![pending[0]; pending.len()];
        for p in pending.iter() {
            let slot = &mut at[(p.node - lo) as usize];
            sorted[*slot as usize] = *p;
            *slot += 1;
        }
        *pending = sorted;
        true
    }

    fn pack(&self) -> u128 {
        (u128::from(self.node) << 96)
            | (u128::from(self.inc) << 95)
            | (u128::from(self.ty) << 64)
            | (u128::from(self.other) << 32)
            | u128::from(self.rel)
    }

    /// The entry [`Pending::pack`] packed (its type id in 31 bits).
    fn unpack(k: u128) -> Pending {
        Pending {
            node: (k >> 96) as u32,
            inc: (k >> 95) & 1 == 1,
            ty: ((k >> 64) as u32) & !(1 << 31),
            other: (k >> 32) as u32,
            rel: k as u32,
        }
    }
}

/// The length of the run of entries of `sorted`'s first node (grouped by node). A node has a
/// few entries in a batch: a scan, not a binary search over the rest (which misses the cache
/// at every probe).
pub(crate) fn run_len(sorted: &[Pending]) -> usize {
    let Some(first) = sorted.first() else {
        return 0;
    };
    sorted
        .iter()
        .position(|p| p.node != first.node)
        .unwrap_or(sorted.len())
}

/// Builds merged adjacency blocks ([`AdjMerger::merge_into`]), reusing its buffer from one
/// node to the next.
#[derive(Default)]
pub(crate) struct AdjMerger {
    /// Per type of one direction: the type, its old group, its run of new entries.
    groups: Vec<(u32, Option<usize>, std::ops::Range<usize>)>,
}

impl AdjMerger {
    /// `old` (or an empty block) with the entries `out` and `inc` added, appended to `block`
    /// as one block's pairs (for [`Adj::from_block`]) at exactly the final size: the same
    /// contents as inserting them one by one with [`Adj::insert`], without a copy or a
    /// reallocation per entry. Both slices must be sorted by [`Pending::sort_key`] and hold
    /// one direction each. The types that were not present before in each direction are
    /// pushed to `new_out` and `new_in`, ascending.
    pub fn merge_into(
        &mut self,
        old: Option<&Adj>,
        out: &[Pending],
        inc: &[Pending],
        new_out: &mut Vec<u32>,
        new_in: &mut Vec<u32>,
        block: &mut Vec<Pair>,
    ) {
        // A node without a block merges into empty sides (no empty block allocated).
        let none = Side {
            groups: &[],
            entries: &[],
        };
        let (old_out, old_inc) = old.map_or((none, none), |a| (a.out(), a.inc()));
        let base = block.len();
        block.extend_from_slice(&[(0, 0), (0, 0)]);
        let (og, oe) = self.merge_side(old_out, out, new_out, block);
        let (ig, ie) = self.merge_side(old_inc, inc, new_in, block);
        let ol = og + oe;
        block[base] = (og as u32, ol as u32);
        block[base + 1] = (ig as u32, (ol + ig + ie) as u32);
    }

    /// Appends one direction to `block`, `old` merged with `new` (sorted, one direction):
    /// group headers, then entries. Returns (headers, entries) written.
    fn merge_side(
        &mut self,
        old: Side<'_>,
        new: &[Pending],
        new_types: &mut Vec<u32>,
        block: &mut Vec<Pair>,
    ) -> (usize, usize) {
        self.groups.clear();
        let (mut g, mut n) = (0, 0);
        loop {
            let old_ty = old.groups.get(g).map(|h| h.0);
            let new_ty = new.get(n).map(|p| p.ty);
            let ty = match (old_ty, new_ty) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (None, None) => break,
            };
            let from_old = (old_ty == Some(ty)).then_some(g);
            if from_old.is_some() {
                g += 1;
            } else {
                new_types.push(ty);
            }
            let start = n;
            while n < new.len() && new[n].ty == ty {
                n += 1;
            }
            self.groups.push((ty, from_old, start..n));
        }
        let mut end = 0u32;
        for (ty, from_old, run) in &self.groups {
            end += (old_run(&old, *from_old).len() + run.len()) as u32;
            block.push((*ty, end));
        }
        for (_, from_old, run) in &self.groups {
            let a = old_run(&old, *from_old);
            let b = &new[run.clone()];
            let (mut i, mut j) = (0, 0);
            while i < a.len() && j < b.len() {
                if (a[i].1, a[i].0) < (b[j].other, b[j].rel) {
                    block.push(a[i]);
                    i += 1;
                } else {
                    block.push((b[j].rel, b[j].other));
                    j += 1;
                }
            }
            block.extend_from_slice(&a[i..]);
            block.extend(b[j..].iter().map(|p| (p.rel, p.other)));
        }
        (self.groups.len(), end as usize)
    }
}

/// The entries of `side`'s group `g`, or none.
fn old_run<'a>(side: &Side<'a>, g: Option<usize>) -> &'a [Pair] {
    match g {
        Some(g) => &side.entries[side.group_range(g)],
        None => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_and_types_stay_separate_and_sorted() {
        let mut a = Adj::default();
        assert!(a.insert(Dir::Out, 5, 1, 10));
        assert!(a.insert(Dir::In, 5, 2, 11));
        assert!(a.insert(Dir::Out, 2, 3, 12));
        assert!(!a.insert(Dir::Out, 5, 4, 13));
        assert!(a.insert(Dir::In, 9, 5, 14));
        assert!(!a.insert(Dir::Out, 2, 6, 15));
        assert_eq!(
            a.out().iter().collect::<Vec<_>>(),
            vec![(2, 3, 12), (2, 6, 15), (5, 1, 10), (5, 4, 13)]
        );
        assert_eq!(
            a.inc().iter().collect::<Vec<_>>(),
            vec![(5, 2, 11), (9, 5, 14)]
        );
        assert_eq!(a.out().count(&[5]), 2);
        assert_eq!(a.out().count(&[2, 9]), 2);
        assert_eq!(a.inc().count(&[2, 9]), 1);
        assert_eq!(a.out().count(&[]), 4);

        assert!(!a.remove(Dir::Out, 5, 1), "type 5 still has an entry");
        assert!(!a.remove(Dir::Out, 5, 1), "already gone");
        assert!(a.remove(Dir::In, 9, 5), "last of type 9");
        assert!(a.remove(Dir::Out, 5, 4));
        assert_eq!(
            a.out().iter().collect::<Vec<_>>(),
            vec![(2, 3, 12), (2, 6, 15)]
        );
        assert_eq!(a.inc().iter().collect::<Vec<_>>(), vec![(5, 2, 11)]);
        a.remove(Dir::Out, 2, 3);
        a.remove(Dir::Out, 2, 6);
        a.remove(Dir::In, 5, 2);
        assert!(a.is_empty());
        assert_eq!((a.og(), a.ol(), a.ig(), a.used()), (0, 0, 0, 0));
    }

    #[test]
    fn a_group_is_sorted_by_other_node_and_found_by_it() {
        let mut a = Adj::default();
        for (rel, other) in [(1, 30), (2, 10), (3, 20), (4, 10), (5, 40)] {
            a.insert(Dir::Out, 7, rel, other);
        }
        a.insert(Dir::Out, 3, 6, 10);
        a.insert(Dir::In, 7, 7, 10);
        assert_eq!(
            a.out().iter().collect::<Vec<_>>(),
            vec![
                (3, 6, 10),
                (7, 2, 10),
                (7, 4, 10),
                (7, 3, 20),
                (7, 1, 30),
                (7, 5, 40)
            ]
        );
        fn found(a: &Adj, types: &[u32], other: u32) -> Vec<Pair> {
            let mut v = Vec::new();
            a.out().find(types, other, |run| v.extend_from_slice(run));
            v
        }
        assert_eq!(found(&a, &[7], 10), vec![(2, 10), (4, 10)]);
        assert_eq!(found(&a, &[], 10), vec![(6, 10), (2, 10), (4, 10)]);
        assert_eq!(found(&a, &[3, 7], 20), vec![(3, 20)]);
        assert_eq!(found(&a, &[7], 25), vec![]);
        assert_eq!(found(&a, &[9], 10), vec![]);
        a.remove(Dir::Out, 7, 2);
        assert_eq!(found(&a, &[7], 10), vec![(4, 10)]);
    }

    #[test]
    fn each_way_of_sorting_orders_as_the_key_does() {
        let mut x = 99u32;
        let mut next = |n: u32| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 8) % n
        };
        let mut v: Vec<Pending> = (0..500)
            .map(|i| Pending {
                node: next(20),
                inc: next(2) == 1,
                ty: next(4),
                rel: i,
                other: next(20),
            })
            .collect();
        let check = |v: &mut Vec<Pending>| {
            let mut want = v.clone();
            want.sort_unstable_by_key(Pending::sort_key);
            Pending::sort(v);
            assert_eq!(*v, want);
        };
        // Nodes close together: the counting sort (any type id).
        v[3].ty = u32::MAX;
        check(&mut v);
        v[3].ty = 1;
        // Every field at its largest packable value comes back unpacked as it was (the
        // nodes are too far apart for the counting sort).
        for inc in [false, true] {
            v.push(Pending {
                node: u32::MAX,
                inc,
                ty: (1 << 31) - 1,
                rel: u32::MAX,
                other: u32::MAX,
            });
        }
        let mut want = v.clone();
        want.sort_unstable_by_key(Pending::sort_key);
        Pending::sort(&mut v);
        assert_eq!(v, want);
        // A type id past 31 bits takes the plain sort.
        v[0].ty = u32::MAX;
        let mut want = v.clone();
        want.sort_unstable_by_key(Pending::sort_key);
        Pending::sort(&mut v);
        assert_eq!(v, want);
    }

    #[test]
    fn copies_share_until_written() {
        let mut a = Adj::default();
        a.insert(Dir::Out, 1, 1, 1);
        let b = a.clone();
        a.insert(Dir::Out, 1, 2, 2);
        a.remove(Dir::Out, 1, 1);
        assert_eq!(b.out().iter().collect::<Vec<_>>(), vec![(1, 1, 1)]);
        assert_eq!(a.out().iter().collect::<Vec<_>>(), vec![(1, 2, 2)]);
    }

    #[test]
    fn many_inserts_match_a_simple_model() {
        let mut a = Adj::default();
        let mut model: Vec<(Dir, u32, u32)> = Vec::new();
        let mut x = 7u32;
        for rel in 0..400u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let dir = if x & 1 == 0 { Dir::Out } else { Dir::In };
            let ty = (x >> 8) % 5;
            a.insert(dir, ty, rel, rel + 1000);
            model.push((dir, ty, rel));
            if rel % 3 == 0 {
                let (d, t, r) = model.remove((x >> 16) as usize % model.len());
                a.remove(d, t, r);
            }
        }
        for dir in [Dir::Out, Dir::In] {
            let mut got: Vec<_> = a.side(dir).iter().map(|(t, r, _)| (t, r)).collect();
            let mut want: Vec<_> = model
                .iter()
                .filter(|m| m.0 == dir)
                .map(|m| (m.1, m.2))
                .collect();
            got.sort_unstable();
            want.sort_unstable();
            assert_eq!(got, want);
            let side = a.side(dir);
            for g in 0..side.groups.len() {
                let run = &side.entries[side.group_range(g)];
                assert!(run.windows(2).all(|w| (w[0].1, w[0].0) < (w[1].1, w[1].0)));
            }
            for ty in 0..5 {
                assert_eq!(
                    a.side(dir).count(&[ty]),
                    model.iter().filter(|m| m.0 == dir && m.1 == ty).count()
                );
            }
        }
    }
}
