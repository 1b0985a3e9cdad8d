//! Differential test: random transactions against the store and against a trivially correct
//! model (ordered maps), compared in full after every transaction — including across
//! checkpoints and reopens of the on-disk store.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use nereid_common::{CancelToken, ErrorCode};
use nereid_storage::{
    DegreeHistogram, Dir, EdgeStructure, GraphRead, GraphSummary, GraphWrite, NodeStructure,
    Snapshot, Store, StoreConfig,
};
use nereid_value::{NodeId, RelId, Value};

#[derive(Clone, Debug)]
struct MNode {
    labels: BTreeSet<u32>,
    props: BTreeMap<u32, Value>,
    ext: String,
}

#[derive(Clone, Debug)]
struct MRel {
    start: NodeId,
    end: NodeId,
    ty: u32,
    props: BTreeMap<u32, Value>,
    ext: String,
}

#[derive(Clone, Default)]
struct Model {
    nodes: BTreeMap<NodeId, MNode>,
    rels: BTreeMap<RelId, MRel>,
}

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
        self.next() % n.max(1)
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        if items.is_empty() {
            None
        } else {
            Some(items[self.below(items.len() as u64) as usize])
        }
    }
}

const LABELS: [&str; 3] = ["A", "B", "C"];
const TYPES: [&str; 2] = ["X", "Y"];
const KEYS: [&str; 2] = ["k", "m"];

fn value(rng: &mut Rng) -> Value {
    match rng.below(5) {
        0 => Value::Int(rng.below(5) as i64),
        1 => Value::Float(rng.below(5) as f64),
        2 => Value::String(format!("s{}", rng.below(3))),
        3 => Value::Bool(rng.below(2) == 0),
        _ => Value::Null,
    }
}

fn one_transaction(store: &Store, model: &mut Model, rng: &mut Rng, serial: &mut u64) {
    let mut t = store.begin_write(&CancelToken::none()).unwrap();
    let labels: Vec<u32> = LABELS.iter().map(|l| t.intern_label(l)).collect();
    let types: Vec<u32> = TYPES.iter().map(|l| t.intern_type(l)).collect();
    let keys: Vec<u32> = KEYS.iter().map(|l| t.intern_key(l)).collect();
    let mut m = model.clone();
    for _ in 0..rng.below(8) + 1 {
        let nodes: Vec<NodeId> = m.nodes.keys().copied().collect();
        let rels: Vec<RelId> = m.rels.keys().copied().collect();
        match rng.below(9) {
            0 | 1 => {
                let ls: BTreeSet<u32> = labels
                    .iter()
                    .copied()
                    .filter(|_| rng.below(2) == 0)
                    .collect();
                let mut props = Vec::new();
                for &k in &keys {
                    if rng.below(2) == 0 {
                        props.push((k, value(rng)));
                    }
                }
                let ext = if rng.below(3) == 0 {
                    *serial += 1;
                    Some(format!("n{}", *serial))
                } else {
                    None
                };
                let ls_vec: Vec<u32> = ls.iter().copied().collect();
                let n = t.create_node(&ls_vec, props.clone(), ext.clone()).unwrap();
                let ext = t.node_external_id(n).unwrap().to_string();
                let props = props.into_iter().filter(|(_, v)| !v.is_null()).collect();
                m.nodes.insert(
                    n,
                    MNode {
                        labels: ls,
                        props,
                        ext,
                    },
                );
            }
            2 | 3 => {
                let (Some(a), Some(b)) = (rng.pick(&nodes), rng.pick(&nodes)) else {
                    continue;
                };
                let ty = types[rng.below(2) as usize];
                let props: Vec<(u32, Value)> = if rng.below(2) == 0 {
                    vec![(keys[0], Value::Int(rng.below(9) as i64))]
                } else {
                    vec![]
                };
                let ext = if rng.below(4) == 0 {
                    *serial += 1;
                    Some(format!("r{}", *serial))
                } else {
                    None
                };
                let r = t.create_rel(a, b, ty, props.clone(), ext).unwrap();
                let ext = t.rel_external_id(r).unwrap().to_string();
                m.rels.insert(
                    r,
                    MRel {
                        start: a,
                        end: b,
                        ty,
                        props: props.into_iter().collect(),
                        ext,
                    },
                );
            }
            4 => {
                let Some(n) = rng.pick(&nodes) else { continue };
                let k = keys[rng.below(2) as usize];
                let v = value(rng);
                t.set_node_property(n, k, v.clone()).unwrap();
                let node = m.nodes.get_mut(&n).unwrap();
                if v.is_null() {
                    node.props.remove(&k);
                } else {
                    node.props.insert(k, v);
                }
            }
            5 => {
                let Some(n) = rng.pick(&nodes) else { continue };
                let l = labels[rng.below(3) as usize];
                if rng.below(2) == 0 {
                    let added = t.add_label(n, l).unwrap();
                    assert_eq!(added, m.nodes.get_mut(&n).unwrap().labels.insert(l));
                } else {
                    let removed = t.remove_label(n, l).unwrap();
                    assert_eq!(removed, m.nodes.get_mut(&n).unwrap().labels.remove(&l));
                }
            }
            6 => {
                let Some(r) = rng.pick(&rels) else { continue };
                t.delete_rel(r).unwrap();
                m.rels.remove(&r);
            }
            7 => {
                let Some(n) = rng.pick(&nodes) else { continue };
                let connected = m.rels.values().any(|r| r.start == n || r.end == n);
                match t.delete_node(n) {
                    Ok(()) => {
                        assert!(!connected);
                        m.nodes.remove(&n);
                    }
                    Err(e) => {
                        assert!(connected);
                        assert_eq!(e.code, ErrorCode::DeleteConnectedNode);
                    }
                }
            }
            _ => {
                let Some(r) = rng.pick(&rels) else { continue };
                let v = value(rng);
                t.set_rel_property(r, keys[1], v.clone()).unwrap();
                let rel = m.rels.get_mut(&r).unwrap();
                if v.is_null() {
                    rel.props.remove(&keys[1]);
                } else {
                    rel.props.insert(keys[1], v);
                }
            }
        }
    }
    // The transaction sees its own writes.
    compare(&t, &m, "inside the transaction");
    if rng.below(5) == 0 {
        drop(t); // rolled back: the model stays as it was
    } else {
        t.commit().unwrap();
        *model = m;
    }
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

fn compare(g: &impl GraphRead, m: &Model, when: &str) {
    assert_eq!(
        g.node_ids().collect::<Vec<_>>(),
        m.nodes.keys().copied().collect::<Vec<_>>(),
        "{when}"
    );
    assert_eq!(
        g.rel_ids().collect::<Vec<_>>(),
        m.rels.keys().copied().collect::<Vec<_>>(),
        "{when}"
    );
    assert_eq!(g.node_count(), m.nodes.len() as u64);
    assert_eq!(g.rel_count(), m.rels.len() as u64);
    for (&n, mn) in &m.nodes {
        let mut labels = Vec::new();
        g.node_labels(n, &mut labels);
        assert_eq!(
            labels,
            mn.labels.iter().copied().collect::<Vec<_>>(),
            "{when}"
        );
        let mut props = Vec::new();
        g.node_properties(n, &mut props);
        assert_eq!(
            props,
            mn.props.clone().into_iter().collect::<Vec<_>>(),
            "{when}"
        );
        assert_eq!(g.node_external_id(n), Some(mn.ext.as_str()));
        assert_eq!(g.node_by_external_id(&mn.ext), Some(n), "{when}");
        for dir in [Dir::Out, Dir::In, Dir::Both] {
            for types in [vec![], vec![0], vec![1], vec![0, 1]] {
                let mut got = Vec::new();
                g.expand(n, dir, &types, &mut got);
                let want: Vec<(RelId, NodeId)> = m
                    .rels
                    .iter()
                    .filter(|(_, r)| types.is_empty() || types.contains(&r.ty))
                    .filter_map(|(&id, r)| {
                        let out = r.start == n && dir != Dir::In;
                        let inc = r.end == n && dir != Dir::Out;
                        if out {
                            Some((id, r.end))
                        } else if inc {
                            Some((id, r.start))
                        } else {
                            None
                        }
                    })
                    .collect();
                assert_eq!(g.degree(n, dir, &types), want.len(), "{when} {dir:?}");
                // Expand-into (binary search) reports exactly the expansion's entries for
                // each other node, self-loops included once.
                for to in m.nodes.keys().copied().chain([NodeId(1_000_000)]) {
                    let mut into = Vec::new();
                    g.expand_to(n, dir, &types, to, &mut into);
                    let filtered: Vec<_> = got.iter().copied().filter(|e| e.1 == to).collect();
                    assert_eq!(
                        sorted(into),
                        sorted(filtered),
                        "{when}: expand_to {n:?} {to:?}"
                    );
                }
                assert_eq!(sorted(got), want, "{when}: expand {n:?} {dir:?} {types:?}");
            }
        }
    }
    // Per-type end-label counts and the relationship scan agree with the model.
    let labels: BTreeSet<u32> = m
        .nodes
        .values()
        .flat_map(|n| n.labels.iter().copied())
        .collect();
    for t in [0u32, 1] {
        for &l in &labels {
            for dir in [Dir::Out, Dir::In] {
                let want = m
                    .rels
                    .values()
                    .filter(|r| r.ty == t)
                    .filter(|r| {
                        let at = if dir == Dir::Out { r.start } else { r.end };
                        m.nodes[&at].labels.contains(&l)
                    })
                    .count() as u64;
                assert_eq!(
                    g.type_end_label_count(t, dir, l),
                    want,
                    "{when}: type {t} {dir:?} label {l}"
                );
            }
        }
        let mut scanned = Vec::new();
        let mut from = 0;
        loop {
            let next = g.scan_rels(t, from, 7, &mut scanned);
            match next {
                Some(n) => from = n,
                None => break,
            }
        }
        let want: Vec<(RelId, NodeId, NodeId)> = m
            .rels
            .iter()
            .filter(|(_, r)| r.ty == t)
            .map(|(&id, r)| (id, r.start, r.end))
            .collect();
        assert_eq!(scanned, want, "{when}: scan_rels {t}");
    }
    // Batch expansion agrees with one call per node (including unknown ids).
    let mut batch: Vec<NodeId> = m.nodes.keys().copied().collect();
    batch.push(NodeId(1_000_000));
    batch.reverse();
    for dir in [Dir::Out, Dir::In, Dir::Both] {
        for types in [vec![], vec![1]] {
            let mut got = Vec::new();
            g.expand_batch(&batch, dir, &types, &mut got);
            let mut want = Vec::new();
            for (i, &n) in batch.iter().enumerate() {
                let mut one = Vec::new();
                g.expand(n, dir, &types, &mut one);
                want.extend(one.into_iter().map(|(r, o)| (i as u32, r, o)));
            }
            assert_eq!(got, want, "{when}: expand_batch {dir:?} {types:?}");
        }
    }
    for (&r, mr) in &m.rels {
        assert_eq!(g.rel_info(r), Some((mr.start, mr.end, mr.ty)));
        let mut props = Vec::new();
        g.rel_properties(r, &mut props);
        assert_eq!(props, mr.props.clone().into_iter().collect::<Vec<_>>());
        assert_eq!(g.rel_external_id(r), Some(mr.ext.as_str()));
        assert_eq!(g.rel_by_external_id(&mr.ext), Some(r));
    }
    for l in 0..LABELS.len() as u32 {
        let want: Vec<NodeId> = m
            .nodes
            .iter()
            .filter(|(_, n)| n.labels.contains(&l))
            .map(|(&id, _)| id)
            .collect();
        assert_eq!(g.nodes_with_label(l).collect::<Vec<_>>(), want, "{when}");
        assert_eq!(g.label_count(l), want.len() as u64);
        // The index on (A, k) answers like a filter over the model.
        if l == 0 {
            for v in [
                Value::Int(1),
                Value::Float(2.0),
                Value::from("s1"),
                Value::Bool(true),
            ] {
                let want: Vec<NodeId> = m
                    .nodes
                    .iter()
                    .filter(|(_, n)| n.labels.contains(&0))
                    .filter(|(_, n)| {
                        n.props
                            .get(&0)
                            .is_some_and(|p| p.cypher_eq(&v) == Some(true))
                    })
                    .map(|(&id, _)| id)
                    .collect();
                assert_eq!(
                    g.nodes_by_property(0, 0, &v),
                    Some(want),
                    "{when}: index lookup {v:?}"
                );
            }
            let got = g
                .nodes_by_property_range(
                    0,
                    0,
                    Bound::Included(&Value::Int(1)),
                    Bound::Excluded(&Value::Float(3.5)),
                )
                .unwrap();
            let want: BTreeSet<NodeId> = m
                .nodes
                .iter()
                .filter(|(_, n)| n.labels.contains(&0))
                .filter(|(_, n)| {
                    n.props.get(&0).is_some_and(|p| {
                        p.cypher_cmp(&Value::Int(1)).is_some_and(|o| o.is_ge())
                            && p.cypher_cmp(&Value::Float(3.5)).is_some_and(|o| o.is_lt())
                    })
                })
                .map(|(&id, _)| id)
                .collect();
            assert_eq!(
                got.iter().copied().collect::<BTreeSet<_>>(),
                want,
                "{when}: range"
            );
            assert_eq!(got.len(), want.len());
        }
    }
    for t in 0..TYPES.len() as u32 {
        let of: Vec<&MRel> = m.rels.values().filter(|r| r.ty == t).collect();
        let st = g.type_stats(t);
        assert_eq!(st.relationships, of.len() as u64);
        assert_eq!(
            st.sources,
            of.iter().map(|r| r.start).collect::<BTreeSet<_>>().len() as u64
        );
        assert_eq!(
            st.targets,
            of.iter().map(|r| r.end).collect::<BTreeSet<_>>().len() as u64
        );
        assert_eq!(g.type_count(t), of.len() as u64);
        // The degree histograms, recounted: each node's degree of the type per direction.
        let histogram = |end: fn(&MRel) -> NodeId| {
            let mut degrees: BTreeMap<NodeId, u32> = BTreeMap::new();
            for r in &of {
                *degrees.entry(end(r)).or_default() += 1;
            }
            let mut h = DegreeHistogram::default();
            for d in degrees.into_values() {
                h.0[DegreeHistogram::bucket(d)] += 1;
            }
            h
        };
        assert_eq!(
            st.out_degrees,
            histogram(|r| r.start),
            "{when}: out-degrees"
        );
        assert_eq!(st.in_degrees, histogram(|r| r.end), "{when}: in-degrees");
    }
}

/// The summary the model implies, computed by brute force over every node and relationship.
fn model_summary(m: &Model) -> GraphSummary {
    let names = |ids: &mut dyn Iterator<Item = u32>, dict: &[&str]| {
        let mut v: Vec<String> = ids.map(|i| dict[i as usize].to_owned()).collect();
        v.sort();
        v.dedup();
        v
    };
    let tally = |items: Vec<String>| {
        let mut counts = BTreeMap::<String, u64>::new();
        for i in items {
            *counts.entry(i).or_default() += 1;
        }
        counts.into_iter().collect::<Vec<_>>()
    };
    let by_frequency = |mut v: Vec<(String, u64)>| {
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    };
    let mut node_structures = BTreeMap::<(Vec<String>, Vec<String>), u64>::new();
    for (&id, n) in &m.nodes {
        let keys = names(&mut n.props.keys().copied(), &KEYS);
        let out = names(
            &mut m.rels.values().filter(|r| r.start == id).map(|r| r.ty),
            &TYPES,
        );
        *node_structures.entry((keys, out)).or_default() += 1;
    }
    let mut node_structures: Vec<NodeStructure> = node_structures
        .into_iter()
        .map(|((p, o), count)| NodeStructure {
            count,
            node_properties: p,
            distinct_outgoing_edge_labels: o,
        })
        .collect();
    node_structures.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.cmp(b)));
    let mut edge_structures = BTreeMap::<Vec<String>, u64>::new();
    for r in m.rels.values() {
        *edge_structures
            .entry(names(&mut r.props.keys().copied(), &KEYS))
            .or_default() += 1;
    }
    let mut edge_structures: Vec<EdgeStructure> = edge_structures
        .into_iter()
        .map(|(p, count)| EdgeStructure {
            count,
            edge_properties: p,
        })
        .collect();
    edge_structures.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.cmp(b)));
    GraphSummary {
        num_nodes: m.nodes.len() as u64,
        num_edges: m.rels.len() as u64,
        node_labels: tally(
            m.nodes
                .values()
                .flat_map(|n| n.labels.iter().map(|&l| LABELS[l as usize].to_owned()))
                .collect(),
        ),
        edge_labels: tally(
            m.rels
                .values()
                .map(|r| TYPES[r.ty as usize].to_owned())
                .collect(),
        ),
        node_properties: by_frequency(tally(
            m.nodes
                .values()
                .flat_map(|n| n.props.keys().map(|&k| KEYS[k as usize].to_owned()))
                .collect(),
        )),
        edge_properties: by_frequency(tally(
            m.rels
                .values()
                .flat_map(|r| r.props.keys().map(|&k| KEYS[k as usize].to_owned()))
                .collect(),
        )),
        node_structures,
        edge_structures,
    }
}

fn compare_summary(s: &Snapshot, m: &Model, when: &str) {
    let got = s.summary();
    assert_eq!(got, model_summary(m), "{when}: summary");
    assert_eq!(
        got.total_node_property_values(),
        m.nodes.values().map(|n| n.props.len() as u64).sum::<u64>()
    );
}

fn run(seed: u64, dir: Option<&std::path::Path>) {
    let config = match dir {
        Some(d) => StoreConfig {
            checkpoint_bytes: 0,
            ..StoreConfig::at(d)
        },
        None => StoreConfig::in_memory(),
    };
    let mut store = Store::open(&config).unwrap();
    // The index exists from the start: (A, k).
    {
        let mut t = store.begin_write(&CancelToken::none()).unwrap();
        for l in LABELS {
            t.intern_label(l);
        }
        for ty in TYPES {
            t.intern_type(ty);
        }
        for k in KEYS {
            t.intern_key(k);
        }
        t.create_index(0, 0).unwrap();
        t.commit().unwrap();
    }
    let mut model = Model::default();
    let mut rng = Rng(seed);
    let mut serial = 0;
    for i in 0..150 {
        one_transaction(&store, &mut model, &mut rng, &mut serial);
        compare(
            &store.snapshot(),
            &model,
            &format!("seed {seed}, after transaction {i}"),
        );
        compare_summary(
            &store.snapshot(),
            &model,
            &format!("seed {seed}, after transaction {i}"),
        );
        if dir.is_some() && i % 40 == 39 {
            if i % 80 == 79 {
                store.checkpoint().unwrap();
            }
            drop(store);
            store = Store::open(&config).unwrap();
            compare(
                &store.snapshot(),
                &model,
                &format!("seed {seed}, reopened after {i}"),
            );
            compare_summary(
                &store.snapshot(),
                &model,
                &format!("seed {seed}, reopened after {i}"),
            );
        }
    }
}

#[test]
fn in_memory_store_matches_the_model() {
    for seed in 1..=3 {
        run(seed, None);
    }
}

#[test]
fn on_disk_store_matches_the_model_across_reopens() {
    for seed in 11..=12 {
        let dir = tempfile::tempdir().unwrap();
        run(seed, Some(dir.path()));
    }
}
