//! Storage benchmark (issue 3 req. 6): builds a generated social graph in the in-memory
//! store and reports memory per node and per relationship (resident set size from
//! /proc/self/status), the bulk insertion rate, and the 2-hop expansion rate from random
//! start nodes on one core.
//!
//! ```text
//! cargo bench -p nereid-storage --bench storage                 # 1M nodes, 10M relationships
//! cargo bench -p nereid-storage --bench storage -- 100000 1000000   # nodes, relationships
//! ```
//!
//! Targets: at most 100 bytes per relationship (both adjacency directions included), at
//! least 20 million relationships expanded per second.

use std::time::Instant;

use nereid_common::CancelToken;
use nereid_storage::{Dir, GraphRead, GraphWrite, Store, StoreConfig};
use nereid_value::{NodeId, Value};

/// Resident set size in bytes (Linux); 0 elsewhere.
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// splitmix64: a small deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.replace('_', "").parse().ok())
        .collect();
    let nodes = args.first().copied().unwrap_or(1_000_000);
    let rels = args.get(1).copied().unwrap_or(10_000_000);
    let store = Store::open(&StoreConfig::in_memory()).expect("open");
    let none = CancelToken::none();
    let mut rng = Rng(42);

    let rss0 = rss();
    let t0 = Instant::now();
    const NODE_BATCH: u64 = 100_000;
    let mut created = 0;
    while created < nodes {
        let mut t = store.begin_write(&none).expect("begin");
        let person = t.intern_label("Person");
        let name = t.intern_key("name");
        let age = t.intern_key("age");
        for i in created..(created + NODE_BATCH).min(nodes) {
            t.create_node(
                &[person],
                vec![
                    (name, Value::String(format!("p{i}"))),
                    (age, Value::Int((i % 90) as i64)),
                ],
                None,
            )
            .expect("node");
        }
        t.commit().expect("commit");
        created = (created + NODE_BATCH).min(nodes);
    }
    let node_secs = t0.elapsed().as_secs_f64();
    let rss1 = rss();

    // A social graph: each relationship starts at a uniformly random person and ends, half of
    // the time, at a "popular" person (the first 1% of nodes), so in-degrees are skewed.
    const REL_BATCH: u64 = 1_000_000;
    let t1 = Instant::now();
    let mut made = 0;
    while made < rels {
        let mut t = store.begin_write(&none).expect("begin");
        let knows = t.intern_type("KNOWS");
        for _ in made..(made + REL_BATCH).min(rels) {
            let a = rng.below(nodes);
            let b = if rng.next() & 1 == 0 {
                rng.below((nodes / 100).max(1))
            } else {
                rng.below(nodes)
            };
            t.create_rel(NodeId(a), NodeId(b), knows, vec![], None)
                .expect("rel");
        }
        t.commit().expect("commit");
        made = (made + REL_BATCH).min(rels);
    }
    let rel_secs = t1.elapsed().as_secs_f64();
    let rss2 = rss();

    let snap = store.snapshot();
    assert_eq!(snap.node_count(), nodes);
    assert_eq!(snap.rel_count(), rels);

    // 2-hop expansion, outgoing, from random start nodes, single thread.
    let mut hop1 = Vec::new();
    let mut hop2 = Vec::new();
    let mut traversed = 0u64;
    let mut starts = 0u64;
    let expand_secs: f64 = std::env::var("EXPAND_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3.0);
    let t2 = Instant::now();
    while t2.elapsed().as_secs_f64() < expand_secs {
        for _ in 0..1000 {
            let s = NodeId(rng.below(nodes));
            hop1.clear();
            snap.expand(s, Dir::Out, &[], &mut hop1);
            traversed += hop1.len() as u64;
            for &(_, m) in &hop1 {
                hop2.clear();
                snap.expand(m, Dir::Out, &[], &mut hop2);
                traversed += hop2.len() as u64;
            }
            starts += 1;
        }
    }
    let out_secs = t2.elapsed().as_secs_f64();

    // The same with the second hop as one batch (how a batch-at-a-time operator expands).
    let mut frontier = Vec::new();
    let mut batch_out = Vec::new();
    let mut traversed_batch = 0u64;
    let t5 = Instant::now();
    while t5.elapsed().as_secs_f64() < expand_secs {
        for _ in 0..1000 {
            let s = NodeId(rng.below(nodes));
            hop1.clear();
            snap.expand(s, Dir::Out, &[], &mut hop1);
            traversed_batch += hop1.len() as u64;
            frontier.clear();
            frontier.extend(hop1.iter().map(|&(_, m)| m));
            batch_out.clear();
            snap.expand_batch(&frontier, Dir::Out, &[], &mut batch_out);
            traversed_batch += batch_out.len() as u64;
        }
    }
    let batch_secs = t5.elapsed().as_secs_f64();

    // The same in both directions (skewed in-degrees make this the heavier case).
    let mut traversed_both = 0u64;
    let t3 = Instant::now();
    while t3.elapsed().as_secs_f64() < expand_secs {
        for _ in 0..100 {
            let s = NodeId(rng.below(nodes));
            hop1.clear();
            snap.expand(s, Dir::Both, &[], &mut hop1);
            traversed_both += hop1.len() as u64;
            for &(_, m) in &hop1 {
                hop2.clear();
                snap.expand(m, Dir::Both, &[], &mut hop2);
                traversed_both += hop2.len() as u64;
            }
        }
    }
    let both_secs = t3.elapsed().as_secs_f64();

    // The graph summary (GetPropertygraphSummary) comes from counters, not a scan: its
    // time depends on the number of labels, keys and distinct structures only.
    let mut summary_ms = f64::MAX;
    for _ in 0..20 {
        let t = Instant::now();
        let summary = snap.summary();
        summary_ms = summary_ms.min(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(summary.num_nodes, nodes);
    }

    drop(snap);

    // Small write transactions on the full graph: what copy-on-write costs per commit.
    let small: u64 = std::env::var("SMALL_TXNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let t4 = Instant::now();
    for i in 0..small {
        let mut t = store.begin_write(&none).expect("begin");
        let knows = t.intern_type("KNOWS");
        let age = t.intern_key("age");
        let a = NodeId(rng.below(nodes));
        let b = NodeId(rng.below(nodes));
        t.create_rel(a, b, knows, vec![], None).expect("rel");
        t.set_node_property(a, age, Value::Int(i as i64))
            .expect("set");
        t.commit().expect("commit");
    }
    let small_secs = t4.elapsed().as_secs_f64();

    let per_node = (rss1.saturating_sub(rss0)) as f64 / nodes as f64;
    let per_rel = (rss2.saturating_sub(rss1)) as f64 / rels as f64;
    println!(
        "nereid-storage benchmark: {nodes} nodes (label + 2 properties), {rels} relationships"
    );
    println!("  memory (RSS): {per_node:.1} bytes/node, {per_rel:.1} bytes/relationship (both adjacency directions included); total {:.0} MiB", rss2 as f64 / (1 << 20) as f64);
    println!(
        "  bulk insert: {:.2} M nodes/s ({node_secs:.2} s), {:.2} M relationships/s ({rel_secs:.2} s)",
        nodes as f64 / node_secs / 1e6,
        rels as f64 / rel_secs / 1e6
    );
    println!("  graph summary (GetPropertygraphSummary counters): {summary_ms:.3} ms (best of 20)");
    println!(
        "  small write transactions (1 relationship + 1 property, in memory): {:.0} commits/s",
        small as f64 / small_secs
    );
    println!(
        "  2-hop expansion, outgoing: {:.1} M relationships/s ({traversed} from {starts} random starts in {out_secs:.2} s, 1 thread)",
        traversed as f64 / out_secs / 1e6
    );
    println!(
        "  2-hop expansion, outgoing, second hop batched: {:.1} M relationships/s ({traversed_batch} in {batch_secs:.2} s, 1 thread)",
        traversed_batch as f64 / batch_secs / 1e6
    );
    println!(
        "  2-hop expansion, both directions: {:.1} M relationships/s ({traversed_both} in {both_secs:.2} s, 1 thread)",
        traversed_both as f64 / both_secs / 1e6
    );
}
