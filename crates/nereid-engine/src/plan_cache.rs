//! The plan cache: prepared queries by their text, so a query sent again (drivers and
//! applications send the same text with new parameters) skips parsing, binding, planning
//! and optimizing — on a point lookup that is most of the engine's time.
//!
//! * **What may be reused.** A prepared query is a function of its text and of the
//!   database's fixed settings (dialect, read-only, optimizer options, procedures; the
//!   database clears the cache when any of these change). Parameters are not planned on.
//!   The store's statistics are only estimates for the planner's choices — every plan is
//!   correct for any graph — so a plan stays in use while the graph keeps roughly the size
//!   it was planned for: when the node or relationship count has more than doubled or
//!   halved since (beyond [`SLACK`]), or a property index was created or dropped (an
//!   index's distinct-value counts, and those of the indexes built on first use, change
//!   what an equality is taken to keep), the query is planned again. Fast reset clears it.
//! * **Bounded.** Texts longer than [`MAX_TEXT`] bytes are not cached; at most
//!   [`MAX_ENTRIES`] plans and [`MAX_TEXT_TOTAL`] bytes of text are kept (plans grow with
//!   their text: about 300 bytes per token, so the cache holds a few tens of MB at worst).
//!   When full, the least recently used plan goes.
//! * Only successes are cached: a text that fails to prepare fails again each time, with
//!   the same error.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::Prepared;

/// Longest text cached, in bytes.
pub const MAX_TEXT: usize = 8 * 1024;
/// Most plans kept.
pub const MAX_ENTRIES: usize = 1024;
/// Most bytes of query text kept, all plans together.
pub const MAX_TEXT_TOTAL: usize = 512 * 1024;
/// Growth below this many nodes (or relationships) never forces a new plan: estimates on
/// tiny graphs choose alike.
pub const SLACK: u64 = 1_000;

/// The graph's size when a plan was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphSize {
    pub nodes: u64,
    pub rels: u64,
    /// Property indexes.
    pub indexes: usize,
}

impl GraphSize {
    /// Whether a plan made at `self` still suits a graph of size `now`.
    fn suits(self, now: GraphSize) -> bool {
        let close = |then: u64, now: u64| {
            let (lo, hi) = (then.min(now), then.max(now));
            hi <= lo.saturating_mul(2).saturating_add(SLACK)
        };
        close(self.nodes, now.nodes) && close(self.rels, now.rels) && self.indexes == now.indexes
    }
}

struct Entry {
    prepared: Prepared,
    size: GraphSize,
    last_used: u64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Box<str>, Entry>,
    text_bytes: usize,
    clock: u64,
    /// Counts [`PlanCache::clear`]s: a plan prepared before one is not kept.
    generation: u64,
    hits: u64,
    misses: u64,
}

/// See the module docs.
#[derive(Default)]
pub struct PlanCache {
    inner: Mutex<Inner>,
}

/// Hits and misses since the cache was made, and what it holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub entries: usize,
    pub text_bytes: usize,
}

impl PlanCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The plan prepared earlier for `text`, if it still suits a graph of size `now`. A
    /// plan that no longer suits is dropped (the caller plans again and puts the new one).
    pub fn get(&self, text: &str, now: GraphSize) -> Option<Prepared> {
        let mut inner = self.lock();
        inner.clock += 1;
        let clock = inner.clock;
        let suits = match inner.entries.get_mut(text) {
            Some(entry) if entry.size.suits(now) => {
                entry.last_used = clock;
                let prepared = entry.prepared.clone();
                inner.hits += 1;
                return Some(prepared);
            }
            Some(_) => false,
            None => true,
        };
        if !suits {
            if let Some((key, _)) = inner.entries.remove_entry(text) {
                inner.text_bytes -= key.len();
            }
        }
        inner.misses += 1;
        None
    }

    /// The number of clears so far: read it before preparing and hand it to
    /// [`put`](Self::put), so a plan prepared across a clear (a procedure registered
    /// meanwhile, say) is not kept.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Keeps `prepared` (made for a graph of size `size`, after [`generation`](Self::generation)
    /// returned `generation`) for its text, unless the text is too long or the cache was
    /// cleared since; makes room by dropping the least recently used plans.
    pub fn put(&self, prepared: &Prepared, size: GraphSize, generation: u64) {
        let text = &*prepared.text;
        if text.len() > MAX_TEXT {
            return;
        }
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if let Some((key, _)) = inner.entries.remove_entry(text) {
            inner.text_bytes -= key.len();
        }
        while !inner.entries.is_empty()
            && (inner.entries.len() >= MAX_ENTRIES
                || inner.text_bytes + text.len() > MAX_TEXT_TOTAL)
        {
            let oldest = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone());
            if let Some(key) = oldest {
                inner.entries.remove(&key);
                inner.text_bytes -= key.len();
            }
        }
        inner.clock += 1;
        let last_used = inner.clock;
        inner.text_bytes += text.len();
        inner.entries.insert(
            text.into(),
            Entry {
                prepared: prepared.clone(),
                size,
                last_used,
            },
        );
    }

    /// Forgets every plan (settings or procedures changed, or the graph was reset).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.entries.clear();
        inner.text_bytes = 0;
        inner.generation += 1;
    }

    pub fn stats(&self) -> CacheStats {
        let inner = self.lock();
        CacheStats {
            hits: inner.hits,
            misses: inner.misses,
            entries: inner.entries.len(),
            text_bytes: inner.text_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Database;

    fn prepared(db: &Database, text: &str) -> Prepared {
        db.prepare_uncached(text).expect("prepares")
    }

    const SMALL: GraphSize = GraphSize {
        nodes: 10,
        rels: 10,
        indexes: 0,
    };

    #[test]
    fn a_plan_is_reused_while_the_graph_keeps_its_size() {
        let db = Database::in_memory();
        let cache = PlanCache::default();
        assert!(cache.get("RETURN 1 AS x", SMALL).is_none());
        cache.put(&prepared(&db, "RETURN 1 AS x"), SMALL, 0);
        let hit = cache.get(
            "RETURN 1 AS x",
            GraphSize {
                nodes: 900,
                rels: 0,
                indexes: 0,
            },
        );
        assert_eq!(
            hit.map(|p| p.text.to_string()),
            Some("RETURN 1 AS x".to_owned())
        );
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses, stats.entries), (1, 1, 1));
    }

    #[test]
    fn a_graph_that_grew_or_shrank_past_twice_its_size_gets_a_new_plan() {
        let db = Database::in_memory();
        let cache = PlanCache::default();
        let at = GraphSize {
            nodes: 100_000,
            rels: 500_000,
            indexes: 0,
        };
        cache.put(&prepared(&db, "RETURN 1 AS x"), at, 0);
        let grown = GraphSize {
            nodes: 100_000,
            rels: 1_001_001,
            indexes: 0,
        };
        assert!(cache.get("RETURN 1 AS x", grown).is_none());
        // The stale plan was dropped, not kept beside the new one.
        assert_eq!(cache.stats().entries, 0);
        cache.put(&prepared(&db, "RETURN 1 AS x"), at, 0);
        let shrunk = GraphSize {
            nodes: 49_000,
            rels: 500_000,
            indexes: 0,
        };
        assert!(cache.get("RETURN 1 AS x", shrunk).is_none());
        cache.put(&prepared(&db, "RETURN 1 AS x"), at, 0);
        let near = GraphSize {
            nodes: 200_000,
            rels: 251_000,
            indexes: 0,
        };
        assert!(cache.get("RETURN 1 AS x", near).is_some());
    }

    #[test]
    fn the_cache_is_bounded_and_drops_the_least_recently_used() {
        let db = Database::in_memory();
        let cache = PlanCache::default();
        let texts: Vec<String> = (0..MAX_ENTRIES + 10)
            .map(|i| format!("RETURN {i} AS x"))
            .collect();
        for t in &texts {
            cache.put(&prepared(&db, t), SMALL, 0);
            // Keeps the first one in use, so it is never the oldest.
            assert!(cache.get(&texts[0], SMALL).is_some());
        }
        let stats = cache.stats();
        assert_eq!(stats.entries, MAX_ENTRIES);
        assert!(cache.get(&texts[0], SMALL).is_some());
        assert!(cache.get(&texts[1], SMALL).is_none());
        assert!(cache.get(&texts[MAX_ENTRIES + 9], SMALL).is_some());

        let long = format!("RETURN '{}' AS x", "a".repeat(MAX_TEXT));
        cache.put(&prepared(&db, &long), SMALL, 0);
        assert!(cache.get(&long, SMALL).is_none());
    }

    #[test]
    fn text_bytes_are_bounded() {
        let db = Database::in_memory();
        let cache = PlanCache::default();
        for i in 0..200 {
            let text = format!("RETURN '{}' AS x{i}", "b".repeat(MAX_TEXT - 40));
            cache.put(&prepared(&db, &text), SMALL, 0);
            assert!(cache.stats().text_bytes <= MAX_TEXT_TOTAL);
        }
        assert!(cache.stats().entries < 200);
        cache.clear();
        assert_eq!(cache.stats().entries, 0);
        assert_eq!(cache.stats().text_bytes, 0);
    }

    #[test]
    fn a_plan_prepared_across_a_clear_is_not_kept() {
        let db = Database::in_memory();
        let cache = PlanCache::default();
        let before = cache.generation();
        let p = prepared(&db, "RETURN 1 AS x");
        cache.clear();
        cache.put(&p, SMALL, before);
        assert!(cache.get("RETURN 1 AS x", SMALL).is_none());
        cache.put(&p, SMALL, cache.generation());
        assert!(cache.get("RETURN 1 AS x", SMALL).is_some());
    }

    #[test]
    fn the_database_reuses_plans_and_plans_again_after_the_graph_grew() {
        use nereid_common::CancelToken;
        use nereid_value::{Map, Value};
        let db = Database::in_memory();
        let count = "MATCH (n:A) RETURN count(n) AS c";
        let run = |text: &str| {
            db.execute(text, &Map::new(), &CancelToken::none())
                .expect("runs")
                .rows
        };
        assert_eq!(run(count), vec![vec![Value::Int(0)]]);
        assert_eq!(run(count), vec![vec![Value::Int(0)]]);
        let after_two = db.plan_cache_stats();
        assert_eq!((after_two.hits, after_two.misses), (1, 1));
        run("UNWIND range(1, 3000) AS i CREATE (:A {i: i})");
        assert_eq!(run(count), vec![vec![Value::Int(3000)]]);
        let after_growth = db.plan_cache_stats();
        // Planned again: the graph grew from 0 to 3,000 nodes.
        assert_eq!(after_growth.misses, after_two.misses + 2);
        // Planned again once the lookup's index exists (built by its first run).
        let lookup = "MATCH (n:A {i: 7}) RETURN n.i AS i";
        assert_eq!(run(lookup), vec![vec![Value::Int(7)]]);
        assert_eq!(run(lookup), vec![vec![Value::Int(7)]]);
        let after_index = db.plan_cache_stats();
        assert_eq!(after_index.misses, after_growth.misses + 2);
        assert_eq!(run(lookup), vec![vec![Value::Int(7)]]);
        assert_eq!(db.plan_cache_stats().hits, after_index.hits + 1);
        db.fast_reset().expect("resets");
        assert_eq!(db.plan_cache_stats().entries, 0);
        assert_eq!(run(count), vec![vec![Value::Int(0)]]);
    }
}
