//! Copy-on-write containers that make snapshots cheap.
//!
//! A published graph version is immutable and shared by every reader through an `Arc`. The
//! single writer starts from a shallow clone (a handful of `Arc` increments) and calls
//! `Arc::make_mut` only on the chunks it touches, so a transaction costs in proportion to
//! what it changes, not to the size of the graph, and readers are never disturbed.
//!
//! * [`ChunkedVec`]: nodes and relationships by dense id — chunks under a persistent radix
//!   tree of fan-out 64 (path copying);
//! * [`ChunkedBitmap`]: a label's node set — 4,096-bit chunks, empty ones absent;
//! * [`ShardedMap`]: user-assigned external ids — 256 hash-map shards.

use std::hash::{BuildHasher, Hash};

use hashbrown::{DefaultHashBuilder, HashMap};
use std::sync::Arc;

/// Fan-out of the directory levels above the chunks.
const FAN_BITS: u32 = 6;
const FAN: usize = 1 << FAN_BITS;

/// A node of the directory tree: a full-size chunk of elements (slots past `len` hold
/// `T::default()`), or up to [`FAN`] children.
enum Node<T> {
    Leaf(Arc<[T]>),
    /// Always [`FAN`] slots, filled from the left: one pointer hop per level.
    Inner(Arc<[Option<Node<T>>]>),
}

impl<T> Clone for Node<T> {
    fn clone(&self) -> Self {
        match self {
            Node::Leaf(l) => Node::Leaf(Arc::clone(l)),
            Node::Inner(i) => Node::Inner(Arc::clone(i)),
        }
    }
}

/// A vector of fixed-size chunks of `1 << BITS` elements under a persistent radix tree of
/// fan-out 64. Cloning is one `Arc` clone; a write copies the path to its chunk (a few
/// levels of 64 pointers) and the chunk itself, so a small transaction costs the same on a
/// graph of ten thousand or ten million elements.
pub(crate) struct ChunkedVec<T, const BITS: u32> {
    root: Option<Node<T>>,
    /// Directory levels above the chunks.
    height: u32,
    len: u64,
}

impl<T, const BITS: u32> Clone for ChunkedVec<T, BITS> {
    fn clone(&self) -> Self {
        Self {
            root: self.root.clone(),
            height: self.height,
            len: self.len,
        }
    }
}

impl<T: Clone + Default, const BITS: u32> Default for ChunkedVec<T, BITS> {
    fn default() -> Self {
        Self {
            root: None,
            height: 0,
            len: 0,
        }
    }
}

impl<T: Clone + Default, const BITS: u32> ChunkedVec<T, BITS> {
    const MASK: u64 = (1 << BITS) - 1;

    pub fn len(&self) -> u64 {
        self.len
    }

    fn capacity(&self) -> u64 {
        if self.root.is_none() {
            0
        } else {
            1u64 << (BITS + FAN_BITS * self.height)
        }
    }

    fn child_index(i: u64, level: u32) -> usize {
        ((i >> (BITS + FAN_BITS * level)) as usize) & (FAN - 1)
    }

    #[inline]
    pub fn get(&self, i: u64) -> Option<&T> {
        if i >= self.len {
            return None;
        }
        let mut node = self.root.as_ref()?;
        for level in (0..self.height).rev() {
            match node {
                Node::Inner(children) => {
                    node = children.get(Self::child_index(i, level))?.as_ref()?
                }
                Node::Leaf(_) => return None,
            }
        }
        match node {
            Node::Leaf(chunk) => chunk.get((i & Self::MASK) as usize),
            Node::Inner(_) => None,
        }
    }

    /// The elements from `i` to the end of `i`'s chunk (or to `len`): a sequential scan
    /// descends the tree once per chunk instead of once per element.
    pub fn run_from(&self, i: u64) -> Option<&[T]> {
        if i >= self.len {
            return None;
        }
        let mut node = self.root.as_ref()?;
        for level in (0..self.height).rev() {
            match node {
                Node::Inner(children) => {
                    node = children.get(Self::child_index(i, level))?.as_ref()?
                }
                Node::Leaf(_) => return None,
            }
        }
        let Node::Leaf(chunk) = node else {
            return None;
        };
        let at = (i & Self::MASK) as usize;
        let left = usize::try_from(self.len - i).unwrap_or(usize::MAX);
        let end = chunk.len().min(at.saturating_add(left));
        chunk.get(at..end)
    }

    /// Mutable access, copying the path to the element's chunk and the chunk if shared.
    pub fn get_mut(&mut self, i: u64) -> Option<&mut T> {
        if i >= self.len {
            return None;
        }
        self.slot_mut(i)
    }

    fn slot_mut(&mut self, i: u64) -> Option<&mut T> {
        let mut node = self.root.as_mut()?;
        for level in (0..self.height).rev() {
            match node {
                Node::Inner(children) => {
                    node = Arc::make_mut(children)
                        .get_mut(Self::child_index(i, level))?
                        .as_mut()?
                }
                Node::Leaf(_) => return None,
            }
        }
        match node {
            Node::Leaf(chunk) => Arc::make_mut(chunk).get_mut((i & Self::MASK) as usize),
            Node::Inner(_) => None,
        }
    }

    fn fresh_leaf() -> Node<T> {
        Node::Leaf((0..1usize << BITS).map(|_| T::default()).collect())
    }

    /// An empty subtree of `height` directory levels.
    fn fresh(height: u32) -> Node<T> {
        if height == 0 {
            Self::fresh_leaf()
        } else {
            Self::inner(None)
        }
    }

    /// An inner node whose first child is `first`.
    fn inner(first: Option<Node<T>>) -> Node<T> {
        let mut first = first;
        Node::Inner((0..FAN).map(|_| first.take()).collect())
    }

    pub fn push(&mut self, v: T) {
        let i = self.len;
        if self.root.is_none() {
            self.root = Some(Self::fresh_leaf());
            self.height = 0;
        } else if i == self.capacity() {
            // Full: a new root above the old one.
            if let Some(old) = self.root.take() {
                self.root = Some(Self::inner(Some(old)));
                self.height += 1;
            }
        }
        // One descent to slot `i`, creating the missing nodes on the way (a bulk load
        // pushes millions of elements).
        let Some(mut node) = self.root.as_mut() else {
            return;
        };
        for level in (0..self.height).rev() {
            let Node::Inner(children) = node else { return };
            let Some(slot) = Arc::make_mut(children).get_mut(Self::child_index(i, level)) else {
                return;
            };
            node = slot.get_or_insert_with(|| Self::fresh(level));
        }
        if let Node::Leaf(chunk) = node {
            if let Some(slot) = Arc::make_mut(chunk).get_mut((i & Self::MASK) as usize) {
                *slot = v;
                self.len += 1;
            }
        }
    }

    /// Iterates `(index, element)` in index order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &T)> + '_ {
        let mut leaves: Vec<&Arc<[T]>> = Vec::new();
        fn collect<'a, T>(node: &'a Node<T>, out: &mut Vec<&'a Arc<[T]>>) {
            match node {
                Node::Leaf(l) => out.push(l),
                Node::Inner(children) => {
                    for c in children.iter().flatten() {
                        collect(c, out);
                    }
                }
            }
        }
        if let Some(root) = &self.root {
            collect(root, &mut leaves);
        }
        leaves
            .into_iter()
            .flat_map(|l| l.iter())
            .take(self.len as usize)
            .enumerate()
            .map(|(i, v)| (i as u64, v))
    }
}

const BITMAP_CHUNK_WORDS: usize = 64;
const BITMAP_CHUNK_BITS: u64 = (BITMAP_CHUNK_WORDS * 64) as u64;

/// A set of `u64` ids as a chunked bitmap (4,096 ids per chunk; empty chunks take no space)
/// whose chunks sit in a [`ChunkedVec`], so a write copies one path and one chunk.
/// Iteration is in id order, which is what a label scan must produce.
#[derive(Clone, Default)]
pub(crate) struct ChunkedBitmap {
    chunks: ChunkedVec<Option<Arc<[u64; BITMAP_CHUNK_WORDS]>>, 6>,
}

impl ChunkedBitmap {
    pub fn contains(&self, i: u64) -> bool {
        let bit = i % BITMAP_CHUNK_BITS;
        match self.chunks.get(i / BITMAP_CHUNK_BITS) {
            Some(Some(words)) => words[(bit / 64) as usize] & (1 << (bit % 64)) != 0,
            _ => false,
        }
    }

    /// Sets or clears bit `i`; returns whether it changed.
    pub fn set(&mut self, i: u64, on: bool) -> bool {
        if self.contains(i) == on {
            return false;
        }
        let c = i / BITMAP_CHUNK_BITS;
        let bit = i % BITMAP_CHUNK_BITS;
        while self.chunks.len() <= c {
            self.chunks.push(None);
        }
        let Some(slot) = self.chunks.get_mut(c) else {
            return false;
        };
        let words = Arc::make_mut(slot.get_or_insert_with(|| Arc::new([0; BITMAP_CHUNK_WORDS])));
        let w = &mut words[(bit / 64) as usize];
        if on {
            *w |= 1 << (bit % 64);
        } else {
            *w &= !(1 << (bit % 64));
        }
        true
    }

    /// Appends the set ids `>= from` in order, at most `max` of them; returns where the
    /// next call should start, `None` when no id is left.
    pub fn fill_from(&self, from: u64, max: usize, out: &mut Vec<u64>) -> Option<u64> {
        let mut c = from / BITMAP_CHUNK_BITS;
        let mut taken = 0;
        while c < self.chunks.len() {
            if let Some(Some(words)) = self.chunks.get(c) {
                let base = c * BITMAP_CHUNK_BITS;
                let first = from.saturating_sub(base);
                for wi in (first / 64) as usize..BITMAP_CHUNK_WORDS {
                    let mut w = words[wi];
                    if wi == (first / 64) as usize {
                        w &= u64::MAX << (first % 64);
                    }
                    for b in BitIter(w) {
                        if taken == max {
                            return Some(base + wi as u64 * 64 + b);
                        }
                        out.push(base + wi as u64 * 64 + b);
                        taken += 1;
                    }
                }
            }
            c += 1;
        }
        None
    }

    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.chunks.iter().flat_map(|(ci, chunk)| {
            let words: &[u64] = match chunk {
                Some(w) => &w[..],
                None => &[],
            };
            words.iter().enumerate().flat_map(move |(wi, &w)| {
                let base = ci * BITMAP_CHUNK_BITS + wi as u64 * 64;
                BitIter(w).map(move |b| base + b)
            })
        })
    }
}

struct BitIter(u64);

impl Iterator for BitIter {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        if self.0 == 0 {
            return None;
        }
        let b = self.0.trailing_zeros();
        self.0 &= self.0 - 1;
        Some(u64::from(b))
    }
}

const SHARDS: usize = 256;

/// A hash map split into 256 shards, each copied only when written: a write transaction that
/// adds one key copies 1/256 of the map instead of all of it.
///
/// Hashing is foldhash (hashbrown's default), seeded per map: external ids are looked up
/// twice per relationship a bulk load creates, and SipHash (std's) computed twice per lookup
/// (shard, then bucket) was a tenth of the load's time. The seed keeps the keys a client
/// chooses from being aimed at one bucket.
pub(crate) struct ShardedMap<K, V> {
    shards: Arc<Vec<Arc<HashMap<K, V>>>>,
    /// Picks the shard; the shards' own hashers (seeded apart) pick the bucket.
    selector: DefaultHashBuilder,
}

impl<K, V> Clone for ShardedMap<K, V> {
    fn clone(&self) -> Self {
        Self {
            shards: Arc::clone(&self.shards),
            selector: self.selector,
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Default for ShardedMap<K, V> {
    fn default() -> Self {
        Self {
            shards: Arc::new((0..SHARDS).map(|_| Arc::new(HashMap::new())).collect()),
            selector: DefaultHashBuilder::default(),
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> ShardedMap<K, V> {
    fn shard_of<Q: Hash + ?Sized>(&self, k: &Q) -> usize {
        (self.selector.hash_one(k) as usize) % SHARDS
    }

    pub fn get<Q>(&self, k: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.shards[self.shard_of(k)].get(k)
    }

    pub fn insert(&mut self, k: K, v: V) -> Option<V> {
        let s = self.shard_of(&k);
        Arc::make_mut(&mut Arc::make_mut(&mut self.shards)[s]).insert(k, v)
    }

    pub fn remove<Q>(&mut self, k: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let s = self.shard_of(k);
        if !self.shards[s].contains_key(k) {
            return None;
        }
        Arc::make_mut(&mut Arc::make_mut(&mut self.shards)[s]).remove(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_cover_the_vector_chunk_by_chunk() {
        let mut v: ChunkedVec<u32, 2> = ChunkedVec::default();
        assert!(v.run_from(0).is_none());
        for i in 0..23 {
            v.push(i);
        }
        let mut seen = Vec::new();
        let mut i = 0;
        while let Some(run) = v.run_from(i) {
            // A run never crosses a chunk (4 elements here) or the end.
            assert!(!run.is_empty() && run.len() <= 4 - (i as usize % 4));
            seen.extend_from_slice(run);
            i += run.len() as u64;
        }
        assert_eq!(seen, (0..23).collect::<Vec<_>>());
        assert_eq!(v.run_from(21), Some(&[21, 22][..]));
        assert_eq!(v.run_from(5), Some(&[5, 6, 7][..]));
        assert!(v.run_from(23).is_none());
    }

    #[test]
    fn chunked_vec_clone_is_isolated_from_later_writes() {
        let mut a: ChunkedVec<u32, 2> = ChunkedVec::default();
        for i in 0..10 {
            a.push(i);
        }
        let b = a.clone();
        *a.get_mut(5).unwrap() = 99;
        a.push(10);
        assert_eq!(b.get(5), Some(&5));
        assert_eq!(b.len(), 10);
        assert_eq!(b.get(10), None);
        assert_eq!(a.get(5), Some(&99));
        assert_eq!(
            a.iter().map(|(i, _)| i).collect::<Vec<_>>(),
            (0..11).collect::<Vec<_>>()
        );
    }

    #[test]
    fn chunked_vec_grows_through_several_directory_levels() {
        // Chunks of 2 elements, so 300 elements need 3 directory levels above them.
        let mut a: ChunkedVec<u32, 1> = ChunkedVec::default();
        let mut snapshots = Vec::new();
        for i in 0..300u32 {
            a.push(i);
            if i % 97 == 0 {
                snapshots.push((i, a.clone()));
            }
        }
        assert!(a.height >= 2);
        for i in 0..300u64 {
            assert_eq!(a.get(i), Some(&(i as u32)));
        }
        for i in (0..300u64).step_by(7) {
            *a.get_mut(i).unwrap() += 1000;
        }
        for (n, snap) in &snapshots {
            assert_eq!(snap.len(), u64::from(*n) + 1);
            for i in 0..=u64::from(*n) {
                assert_eq!(snap.get(i), Some(&(i as u32)), "snapshot at {n}");
            }
        }
        let all: Vec<u32> = a.iter().map(|(_, v)| *v).collect();
        assert_eq!(all.len(), 300);
        assert_eq!(all[7], 1007);
        assert_eq!(all[8], 8);
        assert_eq!(a.get(300), None);
    }

    #[test]
    fn bitmap_iterates_in_order_and_clones_are_isolated() {
        let mut a = ChunkedBitmap::default();
        for i in [5000u64, 3, 64, 4095, 4096, 100_000] {
            assert!(a.set(i, true));
        }
        assert!(!a.set(3, true));
        let b = a.clone();
        a.set(64, false);
        assert_eq!(
            b.iter().collect::<Vec<_>>(),
            vec![3, 64, 4095, 4096, 5000, 100_000]
        );
        assert_eq!(
            a.iter().collect::<Vec<_>>(),
            vec![3, 4095, 4096, 5000, 100_000]
        );
        assert!(!a.contains(64) && b.contains(64));
    }

    #[test]
    fn sharded_map_clone_is_isolated() {
        let mut a: ShardedMap<Box<str>, u32> = ShardedMap::default();
        a.insert("x".into(), 1);
        let b = a.clone();
        a.insert("y".into(), 2);
        a.remove("x");
        assert_eq!(b.get("x"), Some(&1));
        assert_eq!(b.get("y"), None);
        assert_eq!((a.get("x"), a.get("y")), (None, Some(&2)));
    }
}
