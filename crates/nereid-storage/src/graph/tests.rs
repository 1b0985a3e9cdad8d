//! Tests of [`super`] (graph.rs).

use super::*;

fn node(g: &mut Graph, id: u64) {
    g.apply(Op::CreateNode {
        id,
        labels: Vec::new().into(),
        props: Vec::new().into(),
        ext: None,
    })
    .unwrap();
}

fn rel(g: &mut Graph, id: u64, props: Vec<(u32, PVal)>) {
    g.apply(Op::CreateRel {
        id,
        start: 0,
        end: 1,
        ty: 0,
        props: props.into(),
        ext: None,
    })
    .unwrap();
}

fn same_allocation(a: &Props, b: &Props) -> bool {
    std::ptr::eq(a.as_ptr(), b.as_ptr())
}

#[test]
fn small_scalar_relationship_properties_share_one_list() {
    let mut g = Graph::new(1);
    node(&mut g, 0);
    node(&mut g, 1);
    rel(&mut g, 0, vec![(0, PVal::Int(2013))]);
    rel(&mut g, 1, vec![(0, PVal::Int(2013))]);
    rel(&mut g, 2, vec![(0, PVal::Float(2013.0))]);
    rel(&mut g, 3, vec![(0, PVal::Str("x".into()))]);
    rel(&mut g, 4, vec![(0, PVal::Str("x".into()))]);
    let props = |g: &Graph, r: u64| g.rel(r).unwrap().props.clone();
    assert!(same_allocation(&props(&g, 0), &props(&g, 1)));
    // 2013 and 2013.0 are different lists; strings are not shared.
    assert!(!same_allocation(&props(&g, 0), &props(&g, 2)));
    assert!(!same_allocation(&props(&g, 3), &props(&g, 4)));
    // Changing one relationship's list leaves the other's alone.
    g.apply(Op::SetRelProp {
        id: 1,
        key: 0,
        value: Some(PVal::Int(2014)),
    })
    .unwrap();
    assert_eq!(prop_get(&props(&g, 0), 0), Some(&PVal::Int(2013)));
    assert_eq!(prop_get(&props(&g, 1), 0), Some(&PVal::Int(2014)));
    rel(&mut g, 5, vec![(0, PVal::Int(2014))]);
    assert!(same_allocation(&props(&g, 1), &props(&g, 5)));
}

/// Everything a reader can observe that relationship creation changes.
fn observed(g: &Graph) -> String {
    let mut out = String::new();
    for n in 0..g.nodes.len() + 64 {
        assert_eq!(g.live.contains(n), g.node(n).is_some(), "live bit of {n}");
    }
    for n in 0..g.nodes.len() {
        let Some(adj) = g.adj(n) else { continue };
        let o: Vec<_> = adj.out().iter().collect();
        let i: Vec<_> = adj.inc().iter().collect();
        let types: Vec<_> = adj.out().types().collect();
        let both = g.degree(n, Dir::Both, &[]);
        out += &format!("node {n}: out {o:?} in {i:?} out types {types:?} both {both}\n");
    }
    for (r, rec) in g.rels.iter() {
        if let Some(rec) = rec {
            out += &format!("rel {r}: {:?}\n", (rec.start, rec.end, rec.ty, &rec.props));
        }
    }
    let mut structures: Vec<_> = g
        .summary
        .node_structures()
        .map(|(k, c)| (k.to_vec(), c))
        .collect();
    structures.sort();
    let mut rel_structures: Vec<_> = g
        .summary
        .rel_structures()
        .map(|(k, c)| (k.to_vec(), c))
        .collect();
    rel_structures.sort();
    let end_labels: Vec<_> = g
        .end_labels
        .iter()
        .map(|e| (e.start.clone(), e.end.clone(), e.pairs.clone()))
        .collect();
    out += &format!(
        "stats {:?}\nstructures {structures:?}\nrel structures {rel_structures:?}\nend labels {end_labels:?}\nrel keys {:?}\ncounts {} {}\n",
        g.type_stats,
        g.summary.rel_key_counts(),
        g.node_count,
        g.rel_count,
    );
    for r in 0..g.rels.len() {
        if let Some(s) = g.rel_ext_rev.get(&(r as u32)) {
            out += &format!("ext {r} {s} {:?}\n", g.rel_by_ext(s));
        }
    }
    out
}

/// A small deterministic generator (no dependency for one test).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// Applies the same ops to two graphs, one op by op and one through the bulk path
/// (`apply_deferring` + `place` per batch), and checks that they cannot be told apart:
/// adjacency contents and order, degrees, type statistics, structure counts, end-label
/// counts, ids; taken ids and missing ends fail identically and leave no trace.
#[test]
fn bulk_placement_equals_inserting_one_by_one() {
    for seed in 0..6u64 {
        let mut rng = Lcg(seed);
        let mut one = Graph::new(9);
        // Odd seeds use more labels than placement reads from the label bitmaps.
        let label_count = if seed % 2 == 0 { 4 } else { 12 };
        for kind in [DictKind::Label, DictKind::Type, DictKind::Key] {
            let names = if kind == DictKind::Label {
                label_count
            } else {
                4
            };
            for id in 0..names {
                one.apply(Op::Dict {
                    kind,
                    id,
                    name: format!("n{id}").into(),
                })
                .unwrap();
            }
        }
        let nodes = 40 + rng.next(40);
        for id in 0..nodes {
            let labels: Vec<u32> = match rng.next(3) {
                0 => vec![],
                1 => vec![rng.next(u64::from(label_count)) as u32],
                _ => vec![0, 1 + rng.next(u64::from(label_count) - 1) as u32],
            };
            let props: Vec<(u32, PVal)> = (0..rng.next(3) as u32)
                .map(|k| (k, PVal::Int(id as i64)))
                .collect();
            one.apply(Op::CreateNode {
                id,
                labels: labels.into(),
                props: props.into(),
                ext: Some(format!("n{id}").into()),
            })
            .unwrap();
        }
        let mut bulk = one.clone();
        let mut pending = Vec::new();
        // Placed in chunks of a few entries, each on two threads from 3 entries on.
        let mut split = one.clone();
        let mut split_pending = Vec::new();
        let mut rel_id = 0u64;
        // Batches: the first meets empty adjacency, the later ones merge into it.
        for batch in 0..4 {
            let size = 20 + rng.next(200);
            for _ in 0..size {
                // Some ends are missing (ids past the last node), some are loops.
                let start = rng.next(nodes + 3);
                let end = if rng.next(10) == 0 {
                    start
                } else {
                    rng.next(nodes + 3)
                };
                let ext = (rng.next(4) == 0).then(|| format!("r{}", rng.next(30)));
                let props: Vec<(u32, PVal)> = (0..rng.next(3) as u32)
                    .map(|k| (k, PVal::Int(rng.next(3) as i64)))
                    .collect();
                let op = Op::CreateRel {
                    id: rel_id,
                    start,
                    end,
                    ty: rng.next(4) as u32,
                    props: props.into(),
                    ext: ext.map(Into::into),
                };
                let a = one.apply(op.clone()).map_err(|e| e.code);
                let c = split
                    .apply_deferring(op.clone(), Some(&mut split_pending))
                    .map_err(|e| e.code);
                assert_eq!(a, c, "seed {seed} batch {batch}");
                let before = pending.len();
                let b = bulk
                    .apply_deferring(op, Some(&mut pending))
                    .map_err(|e| e.code);
                assert_eq!(a, b, "seed {seed} batch {batch}");
                if a.is_ok() {
                    assert_eq!(pending.len(), before + 2);
                    rel_id += 1;
                } else {
                    assert_eq!(pending.len(), before, "a failed op defers nothing");
                }
            }
            bulk.place(&mut pending);
            assert!(pending.is_empty());
            assert_eq!(observed(&one), observed(&bulk), "seed {seed} batch {batch}");
            assert_eq!(
                pairs_kept(&one),
                pairs_recounted(&one),
                "seed {seed} batch {batch}"
            );
            split.place_in_chunks(&mut split_pending, 1 + rng.next(12) as usize, 3);
            assert!(split_pending.is_empty());
            assert_eq!(
                observed(&one),
                observed(&split),
                "seed {seed} batch {batch} in chunks"
            );
            // What later single ops see is the same too.
            let del = rng.next(rel_id.max(1));
            let a = one.apply(Op::DeleteRel { id: del }).map_err(|e| e.code);
            let b = bulk.apply(Op::DeleteRel { id: del }).map_err(|e| e.code);
            assert_eq!(a, b);
            let c = split.apply(Op::DeleteRel { id: del }).map_err(|e| e.code);
            assert_eq!(a, c);
        }
        assert!(one.rel_count > 100, "the test made relationships");
        assert_eq!(observed(&one), observed(&bulk), "seed {seed}");
    }
}

/// `apply_bulk` (checkpoint load, log replay) places deferred entries before an op that
/// reads adjacency, so the op sees them.
#[test]
fn bulk_replay_places_before_ops_that_read_adjacency() {
    let mut g = Graph::new(3);
    let mut pending = Vec::new();
    for id in 0..2 {
        g.apply_bulk(
            Op::CreateNode {
                id,
                labels: Vec::new().into(),
                props: Vec::new().into(),
                ext: None,
            },
            &mut pending,
        )
        .unwrap();
    }
    let rel = Op::CreateRel {
        id: 0,
        start: 0,
        end: 1,
        ty: 0,
        props: Vec::new().into(),
        ext: None,
    };
    g.apply_bulk(rel, &mut pending).unwrap();
    assert_eq!(pending.len(), 2);
    // Node 0 has a relationship (once placed): deleting it must fail.
    let e = g
        .apply_bulk(Op::DeleteNode { id: 0 }, &mut pending)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::DeleteConnectedNode);
    assert!(pending.is_empty());
    g.apply_bulk(Op::DeleteRel { id: 0 }, &mut pending).unwrap();
    g.apply_bulk(Op::DeleteNode { id: 0 }, &mut pending)
        .unwrap();
    assert_eq!((g.node_count, g.rel_count), (1, 0));
    // The node is gone from the live set: a relationship to it is refused.
    assert!(!g.live.contains(0) && g.live.contains(1));
    let to_deleted = Op::CreateRel {
        id: 1,
        start: 1,
        end: 0,
        ty: 0,
        props: Vec::new().into(),
        ext: None,
    };
    let e = g.apply_bulk(to_deleted, &mut pending).unwrap_err();
    assert_eq!(e.code, ErrorCode::DeletedEntityAccess);
    assert!(pending.is_empty());
}

#[test]
fn shared_list_found_from_values_is_the_one_the_values_make() {
    use crate::pval::props_from_values;
    use nereid_value::Value;
    let cases: Vec<Vec<(u32, Value)>> = vec![
        vec![(3, Value::Int(7))],
        vec![(3, Value::Int(7)), (1, Value::Bool(true))],
        vec![(1, Value::Bool(true)), (3, Value::Int(7))],
        vec![(2, Value::Float(-0.0))],
        vec![(2, Value::Float(0.0))],
        vec![(2, Value::Int(1)), (2, Value::Int(2))],
        vec![(2, Value::Null)],
        vec![(2, Value::String("x".into()))],
        vec![],
        vec![(1, Value::Int(1)), (2, Value::Int(2)), (3, Value::Int(3))],
    ];
    let mut found = 0;
    for values in cases {
        let made = props_from_values(values.clone()).unwrap();
        match scalar_key_of_values(&values) {
            Some(key) => {
                assert_eq!(Some(key), scalar_key(&made), "{values:?}");
                found += 1;
            }
            // Repeated keys take the slow path (the last value wins there).
            None if values.len() == 2 && values[0].0 == values[1].0 => {}
            None => assert_eq!(scalar_key(&made), None, "{values:?}"),
        }
    }
    assert_eq!(found, 5);
}

/// Per type, its `((start label, end label), relationships)`.
type Pairs = Vec<(u32, Vec<((u32, u32), u64)>)>;

/// The label pairs the graph keeps per type, without empty types.
fn pairs_kept(g: &Graph) -> Pairs {
    g.end_labels
        .iter()
        .enumerate()
        .map(|(t, e)| (t as u32, e.pairs.clone()))
        .filter(|(_, p)| !p.is_empty())
        .collect()
}

/// The same, counted afresh from the relationship and node records.
fn pairs_recounted(g: &Graph) -> Pairs {
    use std::collections::BTreeMap;
    let mut by_type: BTreeMap<u32, BTreeMap<(u32, u32), u64>> = BTreeMap::new();
    for (_, rec) in g.rels.iter() {
        let Some(rec) = rec else { continue };
        let labels = |n: u32| {
            g.node(u64::from(n))
                .map(|r| r.labels.to_vec())
                .unwrap_or_default()
        };
        for a in labels(rec.start) {
            for b in labels(rec.end) {
                *by_type
                    .entry(rec.ty)
                    .or_default()
                    .entry((a, b))
                    .or_default() += 1;
            }
        }
    }
    by_type
        .into_iter()
        .map(|(t, m)| (t, m.into_iter().collect()))
        .collect()
}

/// Label pairs follow every change: relationships created and deleted, labels added and
/// removed at either end, relationships from a node to itself.
#[test]
fn label_pair_counts_follow_relationships_and_labels() {
    for seed in 0..8u64 {
        let mut rng = Lcg(seed);
        let mut g = Graph::new(9);
        for kind in [DictKind::Label, DictKind::Type] {
            for (id, name) in ["a", "b", "c"].iter().enumerate() {
                g.apply(Op::Dict {
                    kind,
                    id: id as u32,
                    name: (*name).into(),
                })
                .unwrap();
            }
        }
        for id in 0..12u64 {
            let labels: Vec<u32> = (0..3).filter(|_| rng.next(2) == 0).collect();
            g.apply(Op::CreateNode {
                id,
                labels: labels.into(),
                props: Vec::new().into(),
                ext: None,
            })
            .unwrap();
        }
        let mut rels = 0u64;
        for step in 0..300 {
            let n = rng.next(12);
            let op = match rng.next(5) {
                0 | 1 => {
                    let end = if rng.next(4) == 0 { n } else { rng.next(12) };
                    rels += 1;
                    Op::CreateRel {
                        id: rels - 1,
                        start: n,
                        end,
                        ty: rng.next(3) as u32,
                        props: Vec::new().into(),
                        ext: None,
                    }
                }
                2 => Op::AddLabel {
                    id: n,
                    label: rng.next(3) as u32,
                },
                3 => Op::RemoveLabel {
                    id: n,
                    label: rng.next(3) as u32,
                },
                _ => Op::DeleteRel {
                    id: rng.next(rels.max(1)),
                },
            };
            // Deleting a relationship already deleted fails: nothing changes then.
            let _ = g.apply(op);
            assert_eq!(
                pairs_kept(&g),
                pairs_recounted(&g),
                "seed {seed} step {step}"
            );
        }
        assert!(g.rel_count > 20, "the test made relationships");
    }
}
