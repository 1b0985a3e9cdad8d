//! The hash table behind grouping and `DISTINCT`: rows of key values under Cypher
//! equivalence (`1` ≡ `1.0`, null ≡ null), each stored once and numbered in insertion order.
//!
//! A probe hashes the caller's key slice in place and compares it with the stored keys, so
//! finding an existing group allocates nothing; only a new key is copied in. (A
//! `HashMap<GroupKey, _>` needs an owned `Vec` per probe: one allocation per input row.)
//!
//! A single node key — grouping by a node, `DISTINCT` of one node column — skips hashing
//! once there are enough of them: a dense array indexed by the node's id holds its number
//! (4 bytes per id up to the largest seen, below [`DENSE_LIMIT`]; what it costs is reported
//! by [`KeyTable::bytes`] so that the holder charges it). The array is only made while it
//! stays within [`DENSE_SPREAD`] slots per key: a query that meets a few hundred nodes with
//! ids spread over a large graph would otherwise zero megabytes to hold them (a three-hop
//! count over 300k nodes spent more time in that `memset` than in its expansions).

use std::hash::{BuildHasher, Hasher};

use hashbrown::{DefaultHashBuilder, HashTable};
use nereid_value::Value;

pub struct KeyTable {
    /// Key numbers, hashed by the key they stand for.
    table: HashTable<u32>,
    /// The keys, flat: key `i` is `keys[i * width..(i + 1) * width]` (one allocation for
    /// all keys, and a probe reads the stored key without a second pointer chase).
    keys: Vec<Value>,
    /// Values per key; fixed by the first key inserted.
    width: usize,
    count: usize,
    hasher: DefaultHashBuilder,
    /// For one-node keys with `id < dense.len()`: `dense[id]` is the key number + 1
    /// (0 = absent). Node keys with larger ids are in `table`.
    dense: Vec<u32>,
    /// Whether every key so far is one node below [`DENSE_LIMIT`] (in `dense` or not).
    all_nodes: bool,
}

/// Keys a table has room for before it first grows: a DISTINCT or grouping over a few
/// hundred rows would otherwise rehash six or seven times.
const INITIAL_KEYS: usize = 32;

impl Default for KeyTable {
    fn default() -> Self {
        KeyTable {
            table: HashTable::with_capacity(INITIAL_KEYS),
            keys: Vec::new(),
            width: 0,
            count: 0,
            hasher: DefaultHashBuilder::default(),
            dense: Vec::new(),
            all_nodes: true,
        }
    }
}

/// Node ids from this one on go through the hash table (a dense array for larger ids
/// would cost more than the hashing saves).
pub const DENSE_LIMIT: u64 = 1 << 24;

/// The dense array may have this many slots per key (64 bytes, about what a hashed key
/// costs), or [`DENSE_MIN_SLOTS`] whatever the count.
pub const DENSE_SPREAD: usize = 16;
/// Slots the dense array may always have (16 KiB).
pub const DENSE_MIN_SLOTS: usize = 4096;

fn hash_key(hasher: &DefaultHashBuilder, key: &[Value]) -> u64 {
    let mut h = hasher.build_hasher();
    for v in key {
        v.hash_equivalence(&mut h);
    }
    h.finish()
}

fn equivalent(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.equivalent(y))
}

impl KeyTable {
    /// The number of `key`, and whether it is new (then a copy is stored). Every key of
    /// one table has the same length.
    pub fn insert(&mut self, key: &[Value]) -> (usize, bool) {
        if self.count == 0 {
            self.width = key.len();
        }
        match key {
            [Value::Node(n)] if n.0 < DENSE_LIMIT => {
                let at = n.0 as usize;
                if at >= self.dense.len() {
                    self.grow_dense(at);
                }
                if at < self.dense.len() {
                    if self.dense[at] > 0 {
                        return (self.dense[at] as usize - 1, false);
                    }
                    let i = self.count;
                    self.count += 1;
                    self.keys.extend_from_slice(key);
                    self.dense[at] = i as u32 + 1;
                    return (i, true);
                }
            }
            _ => self.all_nodes = false,
        }
        debug_assert_eq!(key.len(), self.width, "keys of one table have one width");
        let h = hash_key(&self.hasher, key);
        let (keys, w) = (&self.keys, self.width);
        let stored = |i: u32| &keys[i as usize * w..(i as usize + 1) * w];
        if let Some(&i) = self.table.find(h, |&i| equivalent(stored(i), key)) {
            return (i as usize, false);
        }
        let i = self.count;
        self.count += 1;
        self.keys.extend_from_slice(key);
        let (keys, hasher) = (&self.keys, &self.hasher);
        self.table.insert_unique(h, i as u32, |&j| {
            hash_key(hasher, &keys[j as usize * w..(j as usize + 1) * w])
        });
        (i, true)
    }

    pub fn clear(&mut self) {
        if self.keys.capacity() > 1024 {
            // A large table's memory goes back (see `exec::recycle`).
            *self = Self::default();
            return;
        }
        self.table.clear();
        self.keys.clear();
        self.dense = Vec::new();
        self.count = 0;
        self.all_nodes = true;
    }

    /// Makes the dense array reach node id `at` if that keeps it within its bound
    /// ([`DENSE_SPREAD`] slots per key), moving the node keys the hash table holds that
    /// the larger array now covers. Doubling keeps the moves linear overall.
    fn grow_dense(&mut self, at: usize) {
        let len = (at + 1).next_power_of_two();
        if len > DENSE_MIN_SLOTS.max(DENSE_SPREAD.saturating_mul(self.count + 1)) {
            return;
        }
        self.dense.resize(len, 0);
        if self.table.is_empty() {
            return;
        }
        // Rebuild the hash table from the keys the array does not cover.
        self.table.clear();
        let w = self.width;
        for i in 0..self.count {
            let key = &self.keys[i * w..(i + 1) * w];
            match key {
                [Value::Node(n)] if (n.0 as usize) < len => self.dense[n.0 as usize] = i as u32 + 1,
                _ => {
                    let h = hash_key(&self.hasher, key);
                    let (keys, hasher) = (&self.keys, &self.hasher);
                    self.table.insert_unique(h, i as u32, |&j| {
                        hash_key(hasher, &keys[j as usize * w..(j as usize + 1) * w])
                    });
                }
            }
        }
    }

    /// When every key is one node in the dense index: the key numbers in node-id order
    /// (emitting groups in that order lets whoever reads their nodes' properties next walk
    /// the store in order instead of at random).
    pub fn node_order(&self) -> Option<Vec<usize>> {
        if !self.all_nodes || self.count == 0 || self.width != 1 {
            return None;
        }
        if self.table.is_empty() {
            // All in the dense array, which is in id order already.
            return Some(
                self.dense
                    .iter()
                    .filter(|&&d| d > 0)
                    .map(|&d| d as usize - 1)
                    .collect(),
            );
        }
        let mut by_id: Vec<(u64, usize)> = (self.keys.iter().enumerate())
            .filter_map(|(i, k)| match k {
                Value::Node(n) => Some((n.0, i)),
                _ => None,
            })
            .collect();
        by_id.sort_unstable();
        Some(by_id.into_iter().map(|(_, i)| i).collect())
    }

    /// Bytes of the dense node index (the keys themselves are charged by the holder as
    /// they are inserted).
    pub fn bytes(&self) -> usize {
        self.dense.capacity() * std::mem::size_of::<u32>()
    }

    /// The stored keys, in insertion order, without a vector per key.
    pub fn into_flat(self) -> FlatKeys {
        FlatKeys {
            values: self.keys,
            width: self.width,
            count: self.count,
        }
    }

    /// The stored keys, in insertion order, one vector each.
    #[cfg(test)]
    pub fn into_keys(self) -> Vec<Vec<Value>> {
        let flat = self.into_flat();
        (0..flat.count).map(|i| flat.get(i).to_vec()).collect()
    }
}

/// A set of node ids, as pages of bits (4,096 ids a page) allocated as ids are met:
/// `DISTINCT` of one node column tests and sets a bit, with no hashing, however far apart
/// the ids are. It costs 512 bytes per page touched and 8 bytes per page of the id range up
/// to the largest id (below [`NODE_SET_LIMIT`]: 32 KiB of directory at the limit).
#[derive(Default)]
pub struct NodeSet {
    pages: Vec<Option<Box<[u64; 64]>>>,
    allocated: usize,
}

/// Node ids from this one on are kept elsewhere (a [`KeyTable`]).
pub const NODE_SET_LIMIT: u64 = 1 << 24;

impl NodeSet {
    const PAGE_SHIFT: u32 = 12;

    /// Adds `id` (below [`NODE_SET_LIMIT`]); whether it is new.
    pub fn insert(&mut self, id: u64) -> bool {
        debug_assert!(id < NODE_SET_LIMIT);
        let page = (id >> Self::PAGE_SHIFT) as usize;
        if page >= self.pages.len() {
            self.pages.resize(page + 1, None);
        }
        let bits = self.pages[page].get_or_insert_with(|| {
            self.allocated += 1;
            Box::new([0; 64])
        });
        let at = (id & ((1 << Self::PAGE_SHIFT) - 1)) as usize;
        let (word, bit) = (at / 64, 1u64 << (at % 64));
        let new = bits[word] & bit == 0;
        bits[word] |= bit;
        new
    }

    /// Bytes held (the holder charges them).
    pub fn bytes(&self) -> usize {
        self.pages.capacity() * std::mem::size_of::<Option<Box<[u64; 64]>>>() + self.allocated * 512
    }

    pub fn clear(&mut self) {
        self.pages = Vec::new();
        self.allocated = 0;
    }
}

/// The keys of a [`KeyTable`], flat: key `i` is `values[i * width..(i + 1) * width]`.
pub struct FlatKeys {
    values: Vec<Value>,
    width: usize,
    count: usize,
}

impl FlatKeys {
    pub fn width(&self) -> usize {
        self.width
    }

    /// How many keys there are.
    pub fn count(&self) -> usize {
        self.count
    }

    pub fn get(&self, i: usize) -> &[Value] {
        &self.values[i * self.width..(i + 1) * self.width]
    }

    /// Key `i`'s values, moved out (leaving nulls behind).
    pub fn take(&mut self, i: usize) -> impl Iterator<Item = Value> + '_ {
        let w = self.width;
        self.values[i * w..(i + 1) * w]
            .iter_mut()
            .map(std::mem::take)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_by_equivalence_and_numbered_in_order() {
        let mut t = KeyTable::default();
        assert_eq!(t.insert(&[Value::Int(1), Value::Null]), (0, true));
        assert_eq!(t.insert(&[Value::Float(1.0), Value::Null]), (0, false));
        assert_eq!(t.insert(&[Value::Float(f64::NAN), Value::Null]), (1, true));
        assert_eq!(t.insert(&[Value::Float(f64::NAN), Value::Null]), (1, false));
        assert_eq!(t.insert(&[Value::from("a b"), Value::Int(1)]), (2, true));
        assert_eq!(t.insert(&[Value::from("ab"), Value::Int(1)]), (3, true));
        assert_eq!(t.insert(&[Value::from("ab"), Value::Int(2)]), (4, true));
        for i in 0..10_000 {
            t.insert(&[Value::Int(i % 5000 + 100), Value::Null]);
        }
        let keys = t.into_keys();
        assert_eq!(keys.len(), 5005);
        assert_eq!(keys[3], vec![Value::from("ab"), Value::Int(1)]);
        assert_eq!(keys[5], vec![Value::Int(100), Value::Null]);
        assert_eq!(keys[5004], vec![Value::Int(5099), Value::Null]);
    }

    #[test]
    fn node_keys_use_the_dense_index_and_agree_with_other_keys() {
        use nereid_value::NodeId;
        let mut t = KeyTable::default();
        assert_eq!(t.insert(&[Value::Node(NodeId(5))]), (0, true));
        assert_eq!(t.insert(&[Value::Null]), (1, true));
        assert_eq!(t.insert(&[Value::Node(NodeId(5))]), (0, false));
        assert_eq!(t.insert(&[Value::Node(NodeId(DENSE_LIMIT + 3))]), (2, true));
        assert_eq!(
            t.insert(&[Value::Node(NodeId(DENSE_LIMIT + 3))]),
            (2, false)
        );
        assert_eq!(t.insert(&[Value::Node(NodeId(0))]), (3, true));
        assert_eq!(t.insert(&[Value::Null]), (1, false));
        assert!(t.bytes() >= 6 * 4);
        // Not every key is a dense node: no node order.
        assert_eq!(t.node_order(), None);
        let mut only_nodes = KeyTable::default();
        for n in [9, 2, 7, 2] {
            only_nodes.insert(&[Value::Node(NodeId(n))]);
        }
        assert_eq!(only_nodes.node_order(), Some(vec![1, 2, 0]));
        assert_eq!(
            t.into_keys(),
            vec![
                vec![Value::Node(NodeId(5))],
                vec![Value::Null],
                vec![Value::Node(NodeId(DENSE_LIMIT + 3))],
                vec![Value::Node(NodeId(0))],
            ]
        );
    }

    #[test]
    fn a_few_far_apart_nodes_stay_hashed_until_the_dense_array_pays() {
        use nereid_value::NodeId;
        let mut t = KeyTable::default();
        // Three nodes with ids near 300k: no 1 MiB array for them.
        for (i, n) in [300_000u64, 5, 299_999].into_iter().enumerate() {
            assert_eq!(t.insert(&[Value::Node(NodeId(n))]), (i, true));
        }
        assert!(t.bytes() <= DENSE_MIN_SLOTS * 4, "{} bytes", t.bytes());
        assert_eq!(t.insert(&[Value::Node(NodeId(300_000))]), (0, false));
        assert_eq!(t.node_order(), Some(vec![1, 2, 0]));
        // Enough keys for the ids' range: they move into the array, keeping their numbers.
        for n in 0..40_000u64 {
            t.insert(&[Value::Node(NodeId(n * 8))]);
        }
        let count = 3 + 40_000 - 1; // 300_000 = 37_500 * 8 was there already
        assert_eq!(t.insert(&[Value::Node(NodeId(300_000))]), (0, false));
        assert_eq!(t.insert(&[Value::Node(NodeId(5))]), (1, false));
        assert_eq!(t.insert(&[Value::Node(NodeId(299_999))]), (2, false));
        assert_eq!(t.insert(&[Value::Node(NodeId(8))]), (4, false));
        assert!(t.table.is_empty(), "every key is in the dense array now");
        assert!(t.bytes() >= 300_001 * 4);
        let order = t.node_order().unwrap();
        assert_eq!(order.len(), count);
        assert_eq!(&order[..3], &[3, 1, 4]); // nodes 0, 5, 8
                                             // A key other than a node ends the node order but not the numbering.
        assert_eq!(t.insert(&[Value::Int(5)]), (count, true));
        assert_eq!(t.insert(&[Value::Int(5)]), (count, false));
        assert_eq!(t.node_order(), None);
    }

    #[test]
    fn node_sets_see_each_id_once_however_far_apart() {
        let mut s = NodeSet::default();
        let ids = [0u64, 4095, 4096, 5, NODE_SET_LIMIT - 1, 300_000, 5, 4096, 0];
        let new: Vec<bool> = ids.iter().map(|&i| s.insert(i)).collect();
        assert_eq!(
            new,
            [true, true, true, true, true, true, false, false, false]
        );
        // Four pages touched: ids 0-4095, 4096-, 300,000 and the last.
        assert_eq!(s.allocated, 4);
        assert!(s.bytes() >= 4 * 512 + 4096 * 8, "{}", s.bytes());
        s.clear();
        assert_eq!(s.bytes(), 0);
        assert!(s.insert(4095));
    }

    #[test]
    fn the_empty_key_is_one_group() {
        let mut t = KeyTable::default();
        assert_eq!(t.insert(&[]), (0, true));
        assert_eq!(t.insert(&[]), (0, false));
        assert_eq!(t.into_keys(), vec![Vec::<Value>::new()]);
    }
}
