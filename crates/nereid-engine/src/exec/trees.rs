//! Operator trees kept between runs of a plan, so that a query sent again (the plan cache
//! hands out the same plan for the same text) skips building its operators.
//!
//! Building a small query's operators (row layouts, compiled expressions, a few dozen
//! allocations) was about a fifth of the server's work for a two-hop lookup. A built tree
//! depends on neither the parameters' values (read from the run's
//! [`Env::params`](super::Env::params)) nor the graph: operators decide what depends on
//! the snapshot when they run (rewinding drops such decisions, as an expansion's label
//! check), and the dictionary ids they resolve names to stay valid, since a committed
//! name's id never changes (fast reset, which empties the dictionaries, bumps the plan
//! generation below). So after a run the tree is rewound
//! ([`Operator::reset`](super::Operator::reset), the same rewind a nested plan gets for
//! each outer row) and kept for the plan's next run.
//!
//! * **Per thread.** Trees hold `Rc`s (the `Argument` cells of nested plans) and a query
//!   runs on one thread; each thread keeps its own few trees.
//! * **Keyed by the plan itself**: the `Arc` of the plan (a `Weak` is kept, so its address
//!   is not reused while the entry lives) and the database's plan generation, which fast
//!   reset and every change of settings bump, as they clear the plan cache.
//! * **Only plans that come back**: those of the plan cache, not one-off preparations.
//! * **Only what is safe and small.** The caller keeps a tree only after a read-only run
//!   (no PROFILE, no helper threads) that succeeded and charged at most
//!   [`MAX_PEAK_BYTES`] to its budget; rewinding gives large buffers back
//!   ([`recycle`](super::recycle)), so a kept tree holds a few kilobytes.
//! * **Bounded**: at most [`MAX_TREES`] per thread, the least recently used dropped first,
//!   and trees of plans no longer in use dropped whenever one is kept.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use super::BoxOp;
use crate::plan::LogicalPlan;

/// Trees kept per thread.
pub const MAX_TREES: usize = 64;

/// A run that charged more than this to its budget does not leave its tree behind.
pub const MAX_PEAK_BYTES: usize = 1 << 20;

struct Kept {
    plan: Weak<LogicalPlan>,
    generation: u64,
    tree: BoxOp,
}

thread_local! {
    /// Least recently used first.
    static KEPT: RefCell<Vec<Kept>> = const { RefCell::new(Vec::new()) };
}

#[cfg(test)]
thread_local! {
    /// Trees taken for a run on this thread.
    static TAKEN: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The tree kept for `plan` (at plan generation `generation`), if this thread has one.
pub fn take(plan: &Arc<LogicalPlan>, generation: u64) -> Option<BoxOp> {
    KEPT.with(|kept| {
        let mut kept = kept.borrow_mut();
        let at = kept.iter().rposition(|k| {
            k.generation == generation && Weak::as_ptr(&k.plan) == Arc::as_ptr(plan)
        })?;
        #[cfg(test)]
        TAKEN.with(|t| t.set(t.get() + 1));
        Some(kept.remove(at).tree)
    })
}

/// Keeps `tree`, rewound, for the next run of `plan` on this thread.
pub fn keep(plan: &Arc<LogicalPlan>, generation: u64, mut tree: BoxOp) {
    tree.reset();
    let dropped = KEPT.with(|kept| {
        let mut kept = kept.borrow_mut();
        let mut dropped: Vec<Kept> = Vec::new();
        let mut i = 0;
        while i < kept.len() {
            if kept[i].plan.strong_count() == 0 {
                dropped.push(kept.remove(i));
            } else {
                i += 1;
            }
        }
        if kept.len() >= MAX_TREES {
            dropped.push(kept.remove(0));
        }
        kept.push(Kept {
            plan: Arc::downgrade(plan),
            generation,
            tree,
        });
        dropped
    });
    // Dropped outside the borrow: an operator's drop must not find the cell borrowed.
    drop(dropped);
}

/// Trees kept on this thread (for tests).
#[cfg(test)]
pub fn kept_count() -> usize {
    KEPT.with(|kept| kept.borrow().len())
}

/// Trees taken for a run on this thread so far (for tests).
#[cfg(test)]
pub fn taken_count() -> u64 {
    TAKEN.with(|t| t.get())
}

#[cfg(test)]
mod tests {
    use nereid_common::CancelToken;
    use nereid_value::{Map, Value};

    use crate::{Database, Dialect, QueryResult};

    /// A row set in a form that compares across runs: nodes and relationships by their
    /// Neptune id, rows sorted unless the query orders them.
    fn render(r: &QueryResult, ordered: bool) -> Vec<String> {
        fn value(r: &QueryResult, v: &Value) -> String {
            match v {
                Value::Node(n) => format!("({})", r.node(*n).map_or("?", |d| d.id.as_str())),
                Value::Relationship(x) => {
                    format!("[{}]", r.rel(*x).map_or("?", |d| d.rel_type.as_str()))
                }
                Value::List(l) => {
                    let items: Vec<String> = l.iter().map(|x| value(r, x)).collect();
                    format!("[{}]", items.join(","))
                }
                other => other.to_string(),
            }
        }
        let mut rows: Vec<String> = r
            .rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|v| value(r, v))
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect();
        if !ordered {
            rows.sort();
        }
        rows
    }

    fn params(pairs: &[(&str, Value)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    /// Every shape of operator a read can have, run again and again through the plan
    /// cache (so from a kept, rewound tree) with new parameters and between writes that
    /// change what the operators decide per snapshot: each answer must equal that of a
    /// tree built afresh for the run.
    #[test]
    fn a_kept_tree_answers_as_a_fresh_one() {
        let db = Database::in_memory().with_dialect(Dialect::OpenCypher);
        let none = CancelToken::none();
        db.execute(
            "UNWIND range(1, 40) AS i CREATE (:P {id: i, name: 'p' + toString(i), g: i % 4})",
            &Map::new(),
            &none,
        )
        .unwrap();
        db.execute(
            "MATCH (a:P), (b:P) WHERE b.id = a.id % 40 + 1 OR b.id = (a.id * 7) % 40 + 1 \
             CREATE (a)-[:K {w: a.id}]->(b)",
            &Map::new(),
            &none,
        )
        .unwrap();
        let queries: &[(&str, bool)] = &[
            ("MATCH (p:P {id: $id}) RETURN p.name", false),
            ("MATCH (p:P {id: $id})-[:K]->(f:P) RETURN f.id", false),
            ("MATCH (p:P {id: $id})-[:K]->()-[:K]->(f:P) WHERE f.id <> p.id RETURN count(DISTINCT f.id)", false),
            ("MATCH (p:P {id: $id})-[:K*1..3]->(f) RETURN count(*), count(DISTINCT f)", false),
            ("MATCH (p:P {id: $id})-[:K]->(f) RETURN DISTINCT f.g", false),
            ("MATCH (p:P) WHERE p.id > $id RETURN p.id ORDER BY p.id DESC SKIP $skip LIMIT $n", true),
            ("MATCH (p:P) RETURN p.g, count(*) AS c, collect(p.id)[0..2] ORDER BY c DESC, p.g", true),
            ("MATCH (p:P) WHERE p.id <= $id OPTIONAL MATCH (p)-[:K]->(q:P {g: 0}) RETURN p.id, q.id", false),
            ("UNWIND $list AS x MATCH (p:P {id: x}) RETURN x, p.g", false),
            ("MATCH (p:P {id: $id}) RETURN [(p)-[:K]->(q) | q.id] AS out, exists { (p)<-[:K]-() } AS e", false),
            ("MATCH (p:P {id: $id}) CALL { WITH p MATCH (p)-[:K]->(q) RETURN count(q) AS c } RETURN c", false),
            ("MATCH (p:P {id: $id}) RETURN p.id AS x UNION MATCH (p:P {id: $id})-[:K]->(q) RETURN q.id AS x", false),
            ("MATCH (a:P {id: $id}), (b:P {id: $skip}) MATCH s = shortestPath((a)-[:K*]->(b)) RETURN length(s)", false),
            ("MATCH (a:P {id: $id})-[:K]->(b)-[:K]->(c)-[:K]->(a) RETURN b.id, c.id", false),
            ("MATCH (a:P {id: $id})-[r:K]->(b) WHERE r.w > $n RETURN b.id, r.w", false),
            ("MATCH (p:P {id: $id}) RETURN reduce(s = 0, x IN [(p)-[:K]->(q) | q.id] | s + x) AS s", false),
            ("MATCH (n) WHERE n.id = $id RETURN labels(n), n.name", false),
            ("MATCH ()-[:K]->(b:P) RETURN count(b)", false),
        ];
        let (mut checked, mut reused) = (0, 0);
        for round in 0..6i64 {
            for i in 0..5i64 {
                let id = (round * 7 + i * 3) % 40 + 1;
                let p = params(&[
                    ("id", Value::Int(id)),
                    ("skip", Value::Int((id * 5) % 40 + 1)),
                    ("n", Value::Int(i * 4)),
                    (
                        "list",
                        Value::List(vec![Value::Int(id), Value::Int(41 - id)]),
                    ),
                ]);
                for &(q, ordered) in queries {
                    let taken = super::taken_count();
                    let cached = db
                        .execute(q, &p, &none)
                        .unwrap_or_else(|e| panic!("{q}: {e}"));
                    let fresh = db.prepare_uncached(q).unwrap();
                    let fresh = db.execute_prepared(&fresh, &p, &none).unwrap();
                    assert_eq!(
                        render(&cached, ordered),
                        render(&fresh, ordered),
                        "round {round}, params {p:?}: {q}"
                    );
                    if round > 0 || i > 0 {
                        reused += super::taken_count() - taken;
                    }
                    checked += 1;
                }
            }
            assert!(super::kept_count() > 0, "no tree was kept");
            // Writes between rounds: new nodes without the label that relationships now
            // reach (an expansion's label check can no longer be skipped), new
            // relationships, a deleted one.
            let w = params(&[("r", Value::Int(round))]);
            db.execute(
                "MATCH (a:P) WHERE a.id % 6 = $r CREATE (a)-[:K {w: 100}]->(:Q {id: a.id + 100, g: 0})",
                &w,
                &none,
            )
            .unwrap();
            db.execute(
                "MATCH (a:P {id: $r + 1})-[k:K]->() WITH k LIMIT 1 DELETE k",
                &w,
                &none,
            )
            .unwrap();
        }
        assert_eq!(checked, 6 * 5 * queries.len());
        // Most runs took a kept tree (not all: a few shapes run with helper threads or
        // hold more than a kept tree may).
        assert!(
            reused * 4 > checked as u64 * 3,
            "{reused} of {checked} runs reused a tree"
        );
        assert!(db.plan_cache_stats().hits > 0);
    }

    /// A plan held across a fast reset (which empties the dictionaries, so names get new
    /// ids) does not run on a tree that resolved its names before.
    #[test]
    fn a_tree_from_before_a_fast_reset_is_not_reused() {
        let db = Database::in_memory();
        let none = CancelToken::none();
        let run = |q: &str| db.execute(q, &Map::new(), &none).unwrap();
        run("CREATE (:A), (:B), (:B)");
        // Rows, not `count(n)`: a whole-label count runs on helper threads, whose tree is
        // not kept.
        let of_a = db.prepare("MATCH (n:A) RETURN 1 AS one").unwrap();
        let count = || {
            let taken = super::taken_count();
            let rows = db.execute_prepared(&of_a, &Map::new(), &none).unwrap().rows;
            (rows.len(), super::taken_count() - taken)
        };
        assert_eq!(count(), (1, 0));
        assert_eq!(count(), (1, 1), "the second run takes the kept tree");
        db.fast_reset().unwrap();
        // `B` is interned first now, with the id `A` had.
        run("CREATE (:B), (:B), (:B), (:A), (:A)");
        assert_eq!(count(), (2, 0));
        assert_eq!(count(), (2, 1));
    }

    /// A run that charges much to its budget, or fails, leaves no tree behind.
    #[test]
    fn only_small_successful_runs_keep_their_tree() {
        let db = Database::in_memory();
        let none = CancelToken::none();
        let before = super::kept_count();
        db.execute(
            "UNWIND range(1, 200000) AS i RETURN count(DISTINCT i)",
            &Map::new(),
            &none,
        )
        .unwrap();
        assert_eq!(super::kept_count(), before, "a large run kept its tree");
        let q = "UNWIND [1, 0] AS x RETURN 10 / x";
        assert!(db.execute(q, &Map::new(), &none).is_err());
        assert_eq!(super::kept_count(), before, "a failed run kept its tree");
        db.execute("RETURN 1 AS x", &Map::new(), &none).unwrap();
        assert_eq!(super::kept_count(), before + 1);
    }
}
