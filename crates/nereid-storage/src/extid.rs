//! Generated external ids (Neptune `~id`) without storing them.
//!
//! A generated id is a canonical lowercase UUID (version 4 layout) computed from the element's
//! internal id and a 58-bit random salt chosen when the store was created: 48 + 10 salt bits
//! around the version nibble, then a keyed, invertible 64-bit mix of the internal id in the
//! remaining bits. Looking a string up therefore needs no hash table for generated ids: parse,
//! check the salt, un-mix. Only user-assigned ids live in a map. This saves a 36-byte string
//! and a hash-table entry per element (the dominant cost for relationships, which Neptune
//! also identifies by generated UUIDs).
//!
//! Ids differ from random v4 UUIDs only in that one store's ids share the salt bits; they are
//! unique per store and stable across restarts (the salt and internal ids are persisted).
//!
//! User-assigned ids are the keys of the id maps as [`ExtKey`]s: inline when short.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

/// Bytes of an external id kept inside the map entry itself.
const INLINE: usize = 22;

/// A user-assigned external id as a key of the id maps. An id of up to 22 bytes (`p12345`,
/// `airport-JFK`, …) is held in the entry itself, so a lookup compares it without following
/// a pointer: with the id behind an `Arc<str>`, every lookup paid a cache miss on the
/// string, which was most of the time a bulk load spends resolving relationship ends. Longer
/// ids share the node's or relationship's `Arc`. Looked up by the id's bytes.
#[derive(Clone)]
pub(crate) enum ExtKey {
    Inline { len: u8, bytes: [u8; INLINE] },
    Shared(Arc<str>),
}

impl ExtKey {
    pub(crate) fn new(s: &Arc<str>) -> ExtKey {
        if s.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            ExtKey::Inline {
                len: s.len() as u8,
                bytes,
            }
        } else {
            ExtKey::Shared(Arc::clone(s))
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            ExtKey::Inline { len, bytes } => &bytes[..usize::from(*len)],
            ExtKey::Shared(s) => s.as_bytes(),
        }
    }
}

impl Borrow<[u8]> for ExtKey {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

// Hash and equality are those of the bytes, as `Borrow<[u8]>` requires.
impl Hash for ExtKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialEq for ExtKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for ExtKey {}

const C1: u64 = 0xbf58_476d_1ce4_e5b9;
const C2: u64 = 0x94d0_49bb_1331_11eb;

/// Multiplicative inverse modulo 2^64 (Newton's iteration; `a` must be odd).
const fn inverse(a: u64) -> u64 {
    let mut x = a;
    let mut i = 0;
    while i < 6 {
        x = x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x)));
        i += 1;
    }
    x
}

const C1_INV: u64 = inverse(C1);
const C2_INV: u64 = inverse(C2);

/// Inverse of `x ^= x >> s`.
fn unxorshift(y: u64, s: u32) -> u64 {
    let mut x = y;
    // The top `s` bits are already right; each round recovers `s` more.
    let mut i = s;
    while i < 64 {
        x = y ^ (x >> s);
        i += s;
    }
    x
}

fn mix(key: u64, x: u64) -> u64 {
    let mut z = x ^ key;
    z ^= z >> 30;
    z = z.wrapping_mul(C1);
    z ^= z >> 27;
    z = z.wrapping_mul(C2);
    z ^= z >> 31;
    z
}

fn unmix(key: u64, z: u64) -> u64 {
    let mut x = unxorshift(z, 31);
    x = x.wrapping_mul(C2_INV);
    x = unxorshift(x, 27);
    x = x.wrapping_mul(C1_INV);
    x = unxorshift(x, 30);
    x ^ key
}

/// Encodes and decodes generated ids for one kind of element (nodes or relationships).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IdCodec {
    salt: u64,
}

const SALT_MASK: u64 = (1 << 58) - 1;

impl IdCodec {
    pub fn new(salt: u64) -> Self {
        Self {
            salt: salt & SALT_MASK,
        }
    }

    fn key(&self) -> u64 {
        self.salt.wrapping_mul(C1) ^ 0x5851_f42d_4c95_7f2d
    }

    fn bits(&self, internal: u64) -> (u64, u64) {
        let y = mix(self.key(), internal);
        let hi = ((self.salt >> 10) << 16) | (0x4 << 12) | ((self.salt & 0x3ff) << 2) | (y >> 62);
        let lo = (0b10 << 62) | (y & ((1 << 62) - 1));
        (hi, lo)
    }

    pub fn encode(&self, internal: u64) -> String {
        let (hi, lo) = self.bits(internal);
        uuid::Uuid::from_u64_pair(hi, lo).hyphenated().to_string()
    }

    /// The internal id whose generated id is `s`, if `s` is exactly such an id.
    pub fn decode(&self, s: &str) -> Option<u64> {
        if s.len() != 36 {
            return None;
        }
        let u = uuid::Uuid::try_parse(s).ok()?;
        let (hi, lo) = u.as_u64_pair();
        if (hi >> 12) & 0xf != 4 || lo >> 62 != 0b10 {
            return None;
        }
        let salt = ((hi >> 16) << 10) | ((hi >> 2) & 0x3ff);
        if salt != self.salt {
            return None;
        }
        let y = ((hi & 0b11) << 62) | (lo & ((1 << 62) - 1));
        let internal = unmix(self.key(), y);
        // Only the canonical (lowercase, hyphenated) spelling is the id.
        (self.encode(internal) == s).then_some(internal)
    }
}

type Leaf = Box<[OnceLock<Box<str>>]>;
type Level<T> = Box<[OnceLock<T>]>;

fn level<T>() -> Box<[OnceLock<T>]> {
    (0..256).map(|_| OnceLock::new()).collect()
}

/// A lazily filled, append-only cache of generated id strings, owned by one snapshot or
/// transaction, so that `node_external_id` can return `&str` for ids that are not stored.
/// A four-level 256-ary trie of `OnceLock`s: safe, lock-free, and it only allocates the
/// paths that are used.
#[derive(Default)]
pub(crate) struct IdStrCache {
    root: OnceLock<Level<Level<Level<Leaf>>>>,
}

impl IdStrCache {
    /// The cached string for `internal` (a `u32`-range id), computing it with `make` once.
    pub fn get_or(&self, internal: u64, make: impl FnOnce() -> String) -> Option<&str> {
        if internal > u64::from(u32::MAX) {
            return None;
        }
        let b = |shift: u32| ((internal >> shift) & 0xff) as usize;
        let l1 = self.root.get_or_init(level);
        let l2 = l1[b(24)].get_or_init(level);
        let l3 = l2[b(16)].get_or_init(level);
        let leaf = l3[b(8)].get_or_init(level);
        Some(leaf[b(0)].get_or_init(|| make().into_boxed_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ext_keys_are_found_by_their_bytes_inline_or_shared() {
        use std::collections::hash_map::RandomState;
        use std::hash::BuildHasher;
        let ids = [
            "",
            "p1",
            "exactly-22-bytes-long!",
            "23-bytes-long-and-more!",
            "é-ü",
        ];
        let mut map = hashbrown::HashMap::new();
        for (i, id) in ids.iter().enumerate() {
            let key = ExtKey::new(&Arc::from(*id));
            assert_eq!(
                matches!(key, ExtKey::Inline { .. }),
                id.len() <= INLINE,
                "{id}"
            );
            let h = RandomState::new();
            assert_eq!(h.hash_one(&key), h.hash_one(id.as_bytes()), "{id}");
            map.insert(key, i);
        }
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(map.get(id.as_bytes()), Some(&i), "{id}");
        }
        assert_eq!(map.get("p2".as_bytes()), None);
        assert_eq!(map.get("exactly-22-bytes-long?".as_bytes()), None);
    }

    #[test]
    fn generated_ids_round_trip_and_look_like_v4_uuids() {
        let c = IdCodec::new(0x1234_5678_9abc_def0);
        for i in [0u64, 1, 2, 1000, u32::MAX as u64, u64::MAX] {
            let s = c.encode(i);
            let u = uuid::Uuid::try_parse(&s).unwrap();
            assert_eq!(u.get_version_num(), 4);
            assert_eq!(u.get_variant(), uuid::Variant::RFC4122);
            assert_eq!(c.decode(&s), Some(i), "{s}");
        }
        assert_ne!(c.encode(1), c.encode(2));
    }

    #[test]
    fn foreign_and_non_canonical_strings_do_not_decode() {
        let c = IdCodec::new(7);
        let other = IdCodec::new(8);
        let s = c.encode(42);
        assert_eq!(other.decode(&s), None);
        assert_eq!(c.decode(&s.to_uppercase()), None);
        assert_eq!(c.decode("42"), None);
        assert_eq!(c.decode(&uuid::Uuid::new_v4().to_string()), None);
    }

    #[test]
    fn cache_returns_the_same_string() {
        let cache = IdStrCache::default();
        let a = cache.get_or(70_000, || "x".to_string()).unwrap();
        let b = cache.get_or(70_000, || "y".to_string()).unwrap();
        assert_eq!((a, b), ("x", "x"));
    }
}
