//! Random request and query ids (UUID v4), drawn from a per-thread buffer of the operating
//! system's random bytes: one `getrandom` system call per [`BATCH`] ids instead of one per
//! request (it was one of the four system calls of every query over HTTP). The bytes are
//! the same the `uuid` crate would ask for, only fetched ahead.

use std::cell::RefCell;

/// Ids per refill of a thread's buffer.
const BATCH: usize = 32;

struct Pool {
    bytes: [u8; 16 * BATCH],
    /// Ids of `bytes` already handed out.
    used: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool { bytes: [0; 16 * BATCH], used: BATCH })
    };
}

/// A new random id, as `8-4-4-4-12` lowercase hex.
pub fn random_id() -> String {
    random_uuid().to_string()
}

fn random_uuid() -> uuid::Uuid {
    let bytes = POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.used == BATCH {
            if getrandom::fill(&mut pool.bytes).is_err() {
                // The OS gave no random bytes (not seen on Linux): ask as before.
                return None;
            }
            pool.used = 0;
        }
        let at = pool.used * 16;
        pool.used += 1;
        let mut id = [0u8; 16];
        id.copy_from_slice(&pool.bytes[at..at + 16]);
        Some(id)
    });
    match bytes {
        Some(b) => uuid::Builder::from_random_bytes(b).into_uuid(),
        None => uuid::Uuid::new_v4(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_distinct_v4_uuids_across_refills_and_threads() {
        let mine: Vec<String> = (0..BATCH * 3 + 5).map(|_| random_id()).collect();
        let theirs: Vec<String> =
            std::thread::spawn(|| (0..BATCH * 2).map(|_| random_id()).collect())
                .join()
                .unwrap();
        let mut seen = HashSet::new();
        for id in mine.iter().chain(&theirs) {
            let u = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(u.get_version_num(), 4, "{id}");
            assert_eq!(u.get_variant(), uuid::Variant::RFC4122, "{id}");
            assert_eq!(id.len(), 36);
            assert!(seen.insert(id.clone()), "{id} handed out twice");
        }
    }
}
