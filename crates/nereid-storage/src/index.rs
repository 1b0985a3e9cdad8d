//! Property indexes on (label, property key): equality and range lookups.
//!
//! An index is a sorted sequence of `(key, node)` entries kept in copy-on-write chunks of at
//! most [`CHUNK`] entries (a B-tree of height two, in effect): a write transaction copies
//! only the chunks it changes, so snapshots stay cheap, and lookups are two binary searches.
//!
//! Keys follow Cypher semantics: integers and floats compare numerically across the two
//! types (`1 = 1.0`), so they share one ordered class; strings, booleans and each temporal
//! type (date, time, local time, date-time, local date-time) are classes of their own;
//! `NaN` is never equal or comparable to anything, and lists and durations have no order
//! usable for ranges, so none of these are stored (lookups for them fall back to a label
//! scan, see `read.rs`).

use std::cmp::Ordering;
use std::ops::Bound;
use std::sync::Arc;

use nereid_temporal::{Kind, Temporal};
use nereid_value::Value;

use crate::pval::PVal;

const CHUNK: usize = 512;

/// An indexable value with a total order that agrees with Cypher comparison within a class.
#[derive(Debug, Clone)]
pub(crate) enum IKey {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Box<str>),
    /// Never a duration.
    Temporal(Box<Temporal>),
}

fn temporal_key(t: &Temporal) -> Option<IKey> {
    (t.kind() != Kind::Duration).then(|| IKey::Temporal(Box::new(t.clone())))
}

impl IKey {
    pub fn from_pval(v: &PVal) -> Option<IKey> {
        match v {
            PVal::Bool(b) => Some(IKey::Bool(*b)),
            PVal::Int(i) => Some(IKey::Int(*i)),
            PVal::Float(f) if f.is_nan() => None,
            PVal::Float(f) => Some(IKey::Float(*f)),
            PVal::Str(s) => Some(IKey::Str(s.clone())),
            PVal::Temporal(t) => temporal_key(t),
            PVal::List(_) => None,
        }
    }

    /// `None` when `v` cannot be in an index (null, NaN, lists, maps, graph elements).
    pub fn from_value(v: &Value) -> Option<IKey> {
        match v {
            Value::Bool(b) => Some(IKey::Bool(*b)),
            Value::Int(i) => Some(IKey::Int(*i)),
            Value::Float(f) if f.is_nan() => None,
            Value::Float(f) => Some(IKey::Float(*f)),
            Value::String(s) => Some(IKey::Str(s.as_str().into())),
            Value::Temporal(t) => temporal_key(t),
            _ => None,
        }
    }

    fn class(&self) -> u8 {
        match self {
            IKey::Bool(_) => 0,
            IKey::Int(_) | IKey::Float(_) => 1,
            IKey::Str(_) => 2,
            IKey::Temporal(t) => 3 + t.kind().code(),
        }
    }

    /// Whether `v` is a value this key class can hold (a lookup value of another class
    /// matches nothing).
    pub fn same_class(&self, other: &IKey) -> bool {
        self.class() == other.class()
    }
}

/// Exact comparison of an integer with a (non-NaN) float.
fn cmp_int_float(i: i64, f: f64) -> Ordering {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if f >= TWO63 {
        return Ordering::Less;
    }
    if f < -TWO63 {
        return Ordering::Greater;
    }
    let t = f.trunc();
    match i.cmp(&(t as i64)) {
        Ordering::Equal => {
            if f > t {
                Ordering::Less
            } else if f < t {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }
        o => o,
    }
}

impl Ord for IKey {
    fn cmp(&self, other: &Self) -> Ordering {
        use IKey::*;
        match (self, other) {
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int(a), Int(b)) => a.cmp(b),
            (Float(a), Float(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
            (Int(a), Float(b)) => cmp_int_float(*a, *b),
            (Float(a), Int(b)) => cmp_int_float(*b, *a).reverse(),
            (Str(a), Str(b)) => a.cmp(b),
            // Same kind: a total order consistent with equality; other kinds: by class.
            (Temporal(a), Temporal(b)) => a
                .cypher_cmp(b)
                .unwrap_or_else(|| self.class().cmp(&other.class())),
            _ => self.class().cmp(&other.class()),
        }
    }
}

impl PartialOrd for IKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for IKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for IKey {}

/// One entry: the value and the node holding it.
type Entry = (IKey, u32);
type Chunks = Arc<Vec<Arc<Vec<Entry>>>>;

/// One property index.
#[derive(Clone)]
pub(crate) struct PropIndex {
    pub label: u32,
    pub key: u32,
    /// `(key, node)`, sorted; each chunk non-empty.
    chunks: Chunks,
    pub len: usize,
    /// Distinct keys among the entries (Cypher equality: `1` and `1.0` are one key), kept
    /// exact by every insert and removal: the planner's equality selectivity is
    /// `len / distinct` nodes per value.
    pub distinct: usize,
}

impl PropIndex {
    /// An index of `entries` (any order), built by one sort rather than entry by entry;
    /// chunks start three-quarters full so that inserts do not split them at once.
    pub fn build(label: u32, key: u32, mut entries: Vec<Entry>) -> Self {
        entries.sort_unstable();
        entries.dedup();
        let len = entries.len();
        let distinct = len - entries.windows(2).filter(|w| w[0].0 == w[1].0).count();
        let chunks = entries
            .chunks(CHUNK * 3 / 4)
            .map(|c| Arc::new(c.to_vec()))
            .collect();
        Self {
            label,
            key,
            chunks: Arc::new(chunks),
            len,
            distinct,
        }
    }

    /// Whether an entry next to position `pos` of chunk `ci` (the one before it and the one
    /// at `pos`, across chunk boundaries) has key `key`: entries of one key are adjacent.
    fn key_beside(&self, ci: usize, pos: usize, key: &IKey) -> bool {
        let before = match pos.checked_sub(1) {
            Some(p) => self.chunks[ci].get(p),
            None => ci.checked_sub(1).and_then(|c| self.chunks[c].last()),
        };
        let at = match self.chunks[ci].get(pos) {
            Some(e) => Some(e),
            None => self.chunks.get(ci + 1).and_then(|c| c.first()),
        };
        [before, at].into_iter().flatten().any(|e| e.0 == *key)
    }

    /// The chunk that holds (or would hold) `e`.
    fn chunk_of(&self, e: &(IKey, u32)) -> usize {
        // First chunk whose last entry is >= e; else the last chunk.
        let i = self
            .chunks
            .partition_point(|c| c.last().is_some_and(|last| last < e));
        i.min(self.chunks.len().saturating_sub(1))
    }

    pub fn insert(&mut self, key: IKey, node: u32) {
        let e = (key, node);
        let spine = Arc::make_mut(&mut self.chunks);
        if spine.is_empty() {
            spine.push(Arc::new(vec![e]));
            self.len += 1;
            self.distinct += 1;
            return;
        }
        let ci = {
            let i = spine.partition_point(|c| c.last().is_some_and(|last| *last < e));
            i.min(spine.len() - 1)
        };
        let Err(pos) = spine[ci].binary_search(&e) else {
            return;
        };
        if !self.key_beside(ci, pos, &e.0) {
            self.distinct += 1;
        }
        let spine = Arc::make_mut(&mut self.chunks);
        let chunk = Arc::make_mut(&mut spine[ci]);
        chunk.insert(pos, e);
        self.len += 1;
        if chunk.len() > CHUNK {
            let tail = chunk.split_off(chunk.len() / 2);
            spine.insert(ci + 1, Arc::new(tail));
        }
    }

    pub fn remove(&mut self, key: IKey, node: u32) {
        let e = (key, node);
        if self.chunks.is_empty() {
            return;
        }
        let ci = self.chunk_of(&e);
        let Ok(pos) = self.chunks[ci].binary_search(&e) else {
            return;
        };
        Arc::make_mut(&mut Arc::make_mut(&mut self.chunks)[ci]).remove(pos);
        self.len -= 1;
        if !self.key_beside(ci, pos, &e.0) {
            self.distinct -= 1;
        }
        if self.chunks[ci].is_empty() {
            Arc::make_mut(&mut self.chunks).remove(ci);
        }
    }

    /// Entries from the first one not below `lower`, in order.
    fn iter_from<'a>(
        &'a self,
        before: impl Fn(&(IKey, u32)) -> bool + Copy + 'a,
    ) -> impl Iterator<Item = &'a (IKey, u32)> + 'a {
        let ci = self
            .chunks
            .partition_point(|c| c.last().is_some_and(before));
        let first = self
            .chunks
            .get(ci)
            .map_or(0, |c| c.partition_point(|e| before(e)));
        self.chunks
            .iter()
            .skip(ci)
            .enumerate()
            .flat_map(move |(i, c)| c.iter().skip(if i == 0 { first } else { 0 }))
    }

    /// Nodes whose value equals `key` (Cypher equality).
    pub fn lookup_eq(&self, key: &IKey, out: &mut Vec<u32>) {
        for (k, n) in self.iter_from(|e| e.0 < *key) {
            if k != key {
                break;
            }
            out.push(*n);
        }
    }

    /// Nodes whose string value starts with `prefix` (they sort together, right from
    /// `prefix` itself).
    pub fn lookup_prefix(&self, prefix: &str, out: &mut Vec<u32>) {
        let from = IKey::Str(prefix.into());
        for (k, n) in self.iter_from(|e| e.0 < from) {
            match k {
                IKey::Str(s) if s.starts_with(prefix) => out.push(*n),
                _ => break,
            }
        }
    }

    /// Nodes whose value lies within the bounds, which must be of one class (the caller
    /// checks); with no bounds, every indexed node.
    pub fn lookup_range(&self, lower: Bound<&IKey>, upper: Bound<&IKey>, out: &mut Vec<u32>) {
        let class = match (lower, upper) {
            (Bound::Included(k) | Bound::Excluded(k), _) => Some(k.class()),
            (_, Bound::Included(k) | Bound::Excluded(k)) => Some(k.class()),
            _ => None,
        };
        let start = |e: &(IKey, u32)| match (lower, class) {
            (Bound::Included(k), _) => e.0 < *k,
            (Bound::Excluded(k), _) => e.0 <= *k,
            (Bound::Unbounded, Some(c)) => e.0.class() < c,
            (Bound::Unbounded, None) => false,
        };
        for (k, n) in self.iter_from(start) {
            let past = match upper {
                Bound::Included(u) => k > u,
                Bound::Excluded(u) => k >= u,
                Bound::Unbounded => class.is_some_and(|c| k.class() > c),
            };
            if past {
                break;
            }
            out.push(*n);
        }
    }

    #[cfg(test)]
    fn entries(&self) -> Vec<(IKey, u32)> {
        self.chunks.iter().flat_map(|c| c.iter().cloned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_floats_compare_numerically() {
        assert_eq!(IKey::Int(1), IKey::Float(1.0));
        assert!(IKey::Int(1) < IKey::Float(1.5));
        assert!(IKey::Float(-0.5) < IKey::Int(0));
        assert!(IKey::Int(i64::MAX) < IKey::Float(1e19));
        assert!(IKey::Int(i64::MIN) > IKey::Float(-1e19));
        assert!(IKey::Int(9_007_199_254_740_993) > IKey::Float(9_007_199_254_740_992.0));
        assert!(IKey::Int(5) < IKey::Str("a".into()));
    }

    #[test]
    fn many_entries_split_into_chunks_and_stay_sorted() {
        let mut idx = PropIndex::build(0, 0, Vec::new());
        // Pseudo-random order, duplicates of keys on different nodes.
        for i in 0..5000u32 {
            let k = (i.wrapping_mul(7919) % 1000) as i64;
            idx.insert(IKey::Int(k), i);
        }
        assert!(idx.chunks.len() > 5);
        let e = idx.entries();
        assert_eq!(e.len(), 5000);
        assert!(e.windows(2).all(|w| w[0] < w[1]));
        let mut out = Vec::new();
        idx.lookup_eq(&IKey::Float(17.0), &mut out);
        assert_eq!(out.len(), 5);
        out.clear();
        idx.lookup_range(
            Bound::Included(&IKey::Int(10)),
            Bound::Excluded(&IKey::Float(20.0)),
            &mut out,
        );
        assert_eq!(out.len(), 50);
        for i in 0..5000u32 {
            let k = (i.wrapping_mul(7919) % 1000) as i64;
            if k % 2 == 0 {
                idx.remove(IKey::Int(k), i);
            }
        }
        assert_eq!(idx.len, 2500);
        assert_eq!(idx.entries().len(), 2500);
        assert_eq!(idx.distinct, 500);
        out.clear();
        idx.lookup_eq(&IKey::Int(18), &mut out);
        assert!(out.is_empty());
    }

    /// The distinct-key count equals a count over the entries after every insert and
    /// removal, with keys spread over many chunks (so runs of a key cross chunk ends) and
    /// `1` and `1.0` counted as one key.
    #[test]
    fn the_distinct_count_follows_inserts_and_removals() {
        fn counted(idx: &PropIndex) -> usize {
            let e = idx.entries();
            e.len() - e.windows(2).filter(|w| w[0].0 == w[1].0).count()
        }
        let key = |i: u32| -> IKey {
            let k = i64::from(i.wrapping_mul(2_654_435_761) % 97);
            if i.is_multiple_of(3) {
                IKey::Float(k as f64)
            } else {
                IKey::Int(k)
            }
        };
        let mut idx = PropIndex::build(0, 0, Vec::new());
        for i in 0..3000u32 {
            idx.insert(key(i), i);
            if i.is_multiple_of(250) {
                assert_eq!(idx.distinct, counted(&idx), "after inserting {i}");
            }
        }
        // A second insert of an entry changes nothing.
        idx.insert(key(5), 5);
        assert!(idx.chunks.len() > 5);
        assert_eq!(idx.distinct, 97);
        assert_eq!(PropIndex::build(0, 0, idx.entries()).distinct, 97);
        for i in (0..3000u32).filter(|i| !i.is_multiple_of(7)) {
            idx.remove(key(i), i);
            // An entry that is not there changes nothing either.
            idx.remove(key(i), i);
            if i % 200 == 1 {
                assert_eq!(idx.distinct, counted(&idx), "after removing {i}");
            }
        }
        assert_eq!(idx.distinct, counted(&idx));
        for i in (0..3000u32).filter(|i| i.is_multiple_of(7)) {
            idx.remove(key(i), i);
        }
        assert_eq!((idx.len, idx.distinct), (0, 0));
    }

    #[test]
    fn a_built_index_equals_one_filled_entry_by_entry() {
        let keys = |i: u32| IKey::Int(i64::from(i.wrapping_mul(7919) % 3001));
        let mut one_by_one = PropIndex::build(0, 0, Vec::new());
        let mut entries = Vec::new();
        for i in 0..4000u32 {
            one_by_one.insert(keys(i), i);
            entries.push((keys(i), i));
        }
        entries.push((keys(7), 7));
        let built = PropIndex::build(0, 0, entries);
        assert_eq!(built.len, 4000);
        assert_eq!(built.entries(), one_by_one.entries());
        let mut built = built;
        built.insert(IKey::Int(-1), 9999);
        built.remove(keys(5), 5);
        let mut out = Vec::new();
        built.lookup_range(Bound::Unbounded, Bound::Included(&IKey::Int(0)), &mut out);
        assert_eq!(out, vec![9999, 0, 3001]);
    }

    #[test]
    fn a_prefix_finds_exactly_the_strings_starting_with_it() {
        let words = [
            "ab",
            "abc",
            "abd",
            "ac",
            "a",
            "b",
            "ab\u{10FFFF}",
            "aa\u{FF}",
        ];
        let entries = words
            .iter()
            .enumerate()
            .map(|(i, w)| (IKey::Str((*w).into()), i as u32))
            .chain([(IKey::Int(1), 99)])
            .collect();
        let idx = PropIndex::build(0, 0, entries);
        for prefix in ["", "a", "ab", "abc", "aa", "z", "b"] {
            let mut got = Vec::new();
            idx.lookup_prefix(prefix, &mut got);
            got.sort_unstable();
            let want: Vec<u32> = (0..words.len() as u32)
                .filter(|&i| words[i as usize].starts_with(prefix))
                .collect();
            assert_eq!(got, want, "prefix {prefix:?}");
        }
    }

    #[test]
    fn ranges_stay_within_one_class() {
        let mut idx = PropIndex::build(0, 0, Vec::new());
        idx.insert(IKey::Bool(true), 1);
        idx.insert(IKey::Int(3), 2);
        idx.insert(IKey::Float(4.5), 3);
        idx.insert(IKey::Str("a".into()), 4);
        idx.insert(IKey::Str("b".into()), 5);
        let mut out = Vec::new();
        idx.lookup_range(Bound::Excluded(&IKey::Int(3)), Bound::Unbounded, &mut out);
        assert_eq!(out, vec![3]);
        out.clear();
        idx.lookup_range(
            Bound::Unbounded,
            Bound::Included(&IKey::Str("a".into())),
            &mut out,
        );
        assert_eq!(out, vec![4]);
        out.clear();
        idx.lookup_range(Bound::Unbounded, Bound::Unbounded, &mut out);
        assert_eq!(out.len(), 5);
    }
}
