//! The hash table behind grouping and `DISTINCT`: rows of key values under Cypher
//! equivalence (`1` ≡ `1.0`, null ≡ null), each stored once and numbered in insertion order.
//!
//! A probe hashes the caller's key slice in place and compares it with the stored keys, so
//! finding an existing group allocates nothing; only a new key is copied in. (A
//! `HashMap<GroupKey, _>` needs an owned `Vec` per probe: one allocation per input row.)

use std::hash::{BuildHasher, Hasher};

use hashbrown::{DefaultHashBuilder, HashTable};
use nereid_common::Value;

#[derive(Default)]
pub struct KeyTable {
    /// Indexes into `keys`, hashed by the key they point to.
    table: HashTable<u32>,
    keys: Vec<Vec<Value>>,
    hasher: DefaultHashBuilder,
}

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
    /// The number of `key`, and whether it is new (then a copy is stored).
    pub fn insert(&mut self, key: &[Value]) -> (usize, bool) {
        let h = hash_key(&self.hasher, key);
        let keys = &self.keys;
        if let Some(&i) = self.table.find(h, |&i| equivalent(&keys[i as usize], key)) {
            return (i as usize, false);
        }
        let i = self.keys.len();
        self.keys.push(key.to_vec());
        let (keys, hasher) = (&self.keys, &self.hasher);
        self.table
            .insert_unique(h, i as u32, |&j| hash_key(hasher, &keys[j as usize]));
        (i, true)
    }

    pub fn clear(&mut self) {
        self.table.clear();
        self.keys.clear();
    }

    /// The stored keys, in insertion order.
    pub fn into_keys(self) -> Vec<Vec<Value>> {
        self.keys
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
        assert_eq!(t.insert(&[Value::Float(f64::NAN)]), (1, true));
        assert_eq!(t.insert(&[Value::Float(f64::NAN)]), (1, false));
        assert_eq!(t.insert(&[Value::from("a b")]), (2, true));
        assert_eq!(t.insert(&[Value::from("ab")]), (3, true));
        for i in 0..10_000 {
            t.insert(&[Value::Int(i % 5000 + 100)]);
        }
        let keys = t.into_keys();
        assert_eq!(keys[4], vec![Value::Int(100)]);
        assert_eq!(keys.len(), 5004);
    }
}
