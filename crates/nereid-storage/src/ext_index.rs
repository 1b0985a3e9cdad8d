//! The index of user-assigned external ids (Neptune `~id`, openCypher CSV `:ID`): the string
//! an element was created with → its internal id.
//!
//! Most loaded datasets number their elements: `p1 … p100000`, `airport-17`, `42`. Such an
//! id (a short prefix, then a decimal number with no leading zero) is kept in a dense array
//! per prefix, indexed by the number: a lookup parses the digits and reads one `u32`, where
//! a hash table paid a cache miss or two per lookup (at ~280 ns each that was the largest
//! single cost of resolving relationship ends in a bulk load, two lookups per relationship),
//! and it takes 4 bytes per id instead of a 32-byte table entry. Every other id, and a
//! numbered id too far beyond its prefix's count (the array stays at most a few times
//! larger than the ids it holds), goes to the hash map. Both parts are copied on write, as
//! the rest of a [`crate::graph::Graph`] is.

use std::sync::Arc;

use crate::chunked::{ChunkedVec, ShardedMap};
use crate::extid::ExtKey;

/// Most prefixes with a dense array; later ones use the map.
const MAX_PREFIXES: usize = 8;
/// Longest prefix with a dense array.
const MAX_PREFIX: usize = 16;
/// Most digits of a dense number (below 10^9, so within `u32`).
const MAX_DIGITS: usize = 9;
/// A dense array may grow to cover `SLACK + GROWTH × ids held` numbers.
const SLACK: u64 = 1 << 16;
const GROWTH: u64 = 4;
/// An empty slot of a dense array.
const EMPTY: u32 = u32::MAX;

/// The ids of one prefix by number.
#[derive(Clone)]
struct Dense {
    prefix: Arc<[u8]>,
    slots: ChunkedVec<u32, 10>,
    /// Ids held in `slots`.
    count: u64,
    /// Whether some id of this prefix went to the map (then a dense miss is not final).
    spilled: bool,
}

/// See the module documentation.
#[derive(Clone, Default)]
pub(crate) struct ExtIndex {
    dense: Arc<Vec<Dense>>,
    map: ShardedMap<ExtKey, u32>,
    len: usize,
}

/// `s` as a prefix and a dense-eligible number, if it is one.
fn split(s: &[u8]) -> Option<(&[u8], u64)> {
    let digits = s.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    let (prefix, number) = s.split_at(s.len() - digits);
    if digits == 0 || digits > MAX_DIGITS || prefix.len() > MAX_PREFIX {
        return None;
    }
    if number[0] == b'0' && digits > 1 {
        // `p007` is not `p7`: only the canonical spelling has a slot.
        return None;
    }
    let n = number
        .iter()
        .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    Some((prefix, n))
}

impl ExtIndex {
    /// Ids held.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn get(&self, s: &[u8]) -> Option<u32> {
        if let Some((prefix, n)) = split(s) {
            if let Some(d) = self.dense.iter().find(|d| *d.prefix == *prefix) {
                match d.slots.get(n).copied() {
                    Some(id) if id != EMPTY => return Some(id),
                    _ if !d.spilled => return None,
                    _ => {}
                }
            }
        }
        self.map.get(s).copied()
    }

    /// Adds `s → id`; the caller has checked that `s` is not held.
    pub fn insert(&mut self, s: &Arc<str>, id: u32) {
        self.len += 1;
        if let Some((prefix, n)) = split(s.as_bytes()) {
            if self.insert_dense(prefix, n, id) {
                return;
            }
        }
        self.map.insert(ExtKey::new(s), id);
    }

    /// Puts `id` in `prefix`'s array (made if there is room for one more) when `n` is
    /// within the array's bound; otherwise `false`, and the array notes that an id of its
    /// prefix is in the map.
    fn insert_dense(&mut self, prefix: &[u8], n: u64, id: u32) -> bool {
        let at = match self.dense.iter().position(|d| *d.prefix == *prefix) {
            Some(at) => at,
            None if self.dense.len() < MAX_PREFIXES => {
                Arc::make_mut(&mut self.dense).push(Dense {
                    prefix: Arc::from(prefix),
                    slots: ChunkedVec::default(),
                    count: 0,
                    spilled: false,
                });
                self.dense.len() - 1
            }
            None => return false,
        };
        let d = &mut Arc::make_mut(&mut self.dense)[at];
        if id == EMPTY || (n >= d.slots.len() && n >= SLACK + GROWTH * d.count) {
            d.spilled = true;
            return false;
        }
        while d.slots.len() <= n {
            d.slots.push(EMPTY);
        }
        match d.slots.get_mut(n) {
            Some(slot) if *slot == EMPTY => {
                *slot = id;
                d.count += 1;
                true
            }
            // Taken (the caller's check failed): the map keeps it.
            _ => {
                d.spilled = true;
                false
            }
        }
    }

    pub fn remove(&mut self, s: &[u8]) -> Option<u32> {
        if let Some((prefix, n)) = split(s) {
            if let Some(at) = self.dense.iter().position(|d| *d.prefix == *prefix) {
                if self.dense[at].slots.get(n).is_some_and(|&id| id != EMPTY) {
                    let d = &mut Arc::make_mut(&mut self.dense)[at];
                    let slot = d.slots.get_mut(n)?;
                    let id = std::mem::replace(slot, EMPTY);
                    d.count -= 1;
                    self.len -= 1;
                    return Some(id);
                }
            }
        }
        let id = self.map.remove(s)?;
        self.len -= 1;
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_short_numbered_ids_split() {
        assert_eq!(split(b"p12"), Some((&b"p"[..], 12)));
        assert_eq!(split(b"42"), Some((&b""[..], 42)));
        assert_eq!(split(b"p0"), Some((&b"p"[..], 0)));
        assert_eq!(
            split(b"airport-999999999"),
            Some((&b"airport-"[..], 999_999_999))
        );
        for s in [
            "p",
            "",
            "p07",
            "00",
            "p1234567890",
            "a-much-longer-prefix-1",
            "p1x",
        ] {
            assert_eq!(split(s.as_bytes()), None, "{s}");
        }
    }

    /// Every id is found as inserted, whether dense or mapped; removed ids are gone; a
    /// clone does not see later changes.
    #[test]
    fn ids_are_found_in_either_part_and_clones_are_isolated() {
        let mut ix = ExtIndex::default();
        let mut ids: Vec<String> = Vec::new();
        // Dense: p0..p2999 out of order; spilled: a far number of the same prefix;
        // mapped: non-canonical and non-numbered ids, and more prefixes than fit.
        ids.extend((0..3000).rev().map(|i| format!("p{i}")));
        ids.push("p900000000".into());
        ids.extend(["p007", "x", "", "ä1", "p1x"].map(String::from));
        ids.extend((0..12).map(|k| format!("pre{k}-5")));
        for (i, s) in ids.iter().enumerate() {
            ix.insert(&Arc::from(s.as_str()), i as u32);
        }
        assert_eq!(ix.len(), ids.len());
        assert!(ix.dense.len() <= MAX_PREFIXES);
        assert!(ix.dense.iter().any(|d| *d.prefix == *b"p" && d.spilled));
        // p900000000, p007, x, "", p1x, and the prefixes beyond the eighth.
        let dense: u64 = ix.dense.iter().map(|d| d.count).sum();
        assert_eq!(ix.len() - dense as usize, 5 + 12 - (MAX_PREFIXES - 2));
        for (i, s) in ids.iter().enumerate() {
            assert_eq!(ix.get(s.as_bytes()), Some(i as u32), "{s}");
        }
        for s in ["p3000", "p7", "p00", "q1", "pre12-5", "p900000001"] {
            if !ids.iter().any(|i| i == s) {
                assert_eq!(ix.get(s.as_bytes()), None, "{s}");
            }
        }
        let before = ix.clone();
        assert_eq!(ix.remove(b"p5"), Some(2994));
        assert_eq!(ix.remove(b"x"), Some(3002));
        assert_eq!(ix.remove(b"p5"), None);
        assert_eq!((ix.get(b"p5"), ix.get(b"x")), (None, None));
        assert_eq!(ix.len(), ids.len() - 2);
        assert_eq!(
            (before.get(b"p5"), before.get(b"x")),
            (Some(2994), Some(3002))
        );
        // A removed dense id can be taken again.
        ix.insert(&Arc::from("p5"), 77);
        assert_eq!((ix.get(b"p5"), before.get(b"p5")), (Some(77), Some(2994)));
    }

    /// An id too far for its prefix's array, inserted before the array existed, is still
    /// found once the array holds others.
    #[test]
    fn a_far_first_id_is_found_after_nearer_ones() {
        let mut ix = ExtIndex::default();
        ix.insert(&Arc::from("n5000000"), 1);
        ix.insert(&Arc::from("n1"), 2);
        assert_eq!(
            (ix.get(b"n5000000"), ix.get(b"n1"), ix.get(b"n2")),
            (Some(1), Some(2), None)
        );
        ix.insert(&Arc::from("n3"), u32::MAX);
        assert_eq!(ix.get(b"n3"), Some(u32::MAX));
    }

    #[test]
    fn sparse_numbers_do_not_grow_the_array() {
        let mut ix = ExtIndex::default();
        for i in 0..100u32 {
            let s = format!("u{}", u64::from(i) * 10_000_000);
            ix.insert(&Arc::from(s.as_str()), i);
        }
        let slots: u64 = ix.dense.iter().map(|d| d.slots.len()).sum();
        assert!(slots <= SLACK, "{slots}");
        for i in 0..100u32 {
            let s = format!("u{}", u64::from(i) * 10_000_000);
            assert_eq!(ix.get(s.as_bytes()), Some(i));
        }
    }
}
