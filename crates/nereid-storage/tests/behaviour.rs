//! The store's behaviour, written once and run on the in-memory and the on-disk store.

use std::ops::Bound;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nereid_common::{CancelReason, CancelToken, ErrorCode};
use nereid_storage::{Dir, GraphRead, GraphWrite, Store, StoreConfig};
use nereid_value::{NodeId, RelId, Value};

struct Env {
    store: Store,
    _dir: Option<tempfile::TempDir>,
}

impl Env {
    fn memory() -> Env {
        Env {
            store: Store::open(&StoreConfig::in_memory()).unwrap(),
            _dir: None,
        }
    }

    fn disk() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&StoreConfig::at(dir.path())).unwrap();
        Env {
            store,
            _dir: Some(dir),
        }
    }
}

fn w(s: &Store) -> nereid_storage::WriteTxn {
    s.begin_write(&CancelToken::none()).unwrap()
}

/// Creates `(:Person {name})` nodes and returns their ids.
fn people(s: &Store, names: &[&str]) -> Vec<NodeId> {
    let mut t = w(s);
    let person = t.intern_label("Person");
    let name = t.intern_key("name");
    let ids = names
        .iter()
        .map(|n| {
            t.create_node(&[person], vec![(name, Value::from(*n))], None)
                .unwrap()
        })
        .collect();
    t.commit().unwrap();
    ids
}

fn create_and_read_back(env: &mut Env) {
    let s = &env.store;
    let mut t = w(s);
    let a = t.intern_label("A");
    let b = t.intern_label("B");
    let k = t.intern_key("k");
    let l = t.intern_key("l");
    let n = t
        .create_node(
            &[b, a, b],
            vec![
                (k, Value::Int(1)),
                (l, Value::List(vec![Value::from("x"), Value::Float(2.5)])),
            ],
            None,
        )
        .unwrap();
    t.commit().unwrap();
    let snap = s.snapshot();
    assert_eq!(snap.node_count(), 1);
    let mut labels = Vec::new();
    snap.node_labels(n, &mut labels);
    assert_eq!(labels, vec![a, b]);
    assert_eq!(snap.label_name(a), "A");
    assert_eq!(snap.label_id("B"), Some(b));
    assert_eq!(snap.label_id("b"), None, "names are case-sensitive");
    assert_eq!(snap.node_property(n, k), Some(Value::Int(1)));
    let mut props = Vec::new();
    snap.node_properties(n, &mut props);
    assert_eq!(props.len(), 2);
    let ext = snap.node_external_id(n).unwrap().to_string();
    let parsed = uuid::Uuid::try_parse(&ext).unwrap();
    assert_eq!(parsed.get_version_num(), 4, "{ext}");
    assert_eq!(snap.node_by_external_id(&ext), Some(n));
    assert_eq!(snap.node_by_external_id("nope"), None);
    assert!(snap.node_exists(n));
    assert!(!snap.node_exists(NodeId(999)));
    assert_eq!(snap.node_property(NodeId(999), k), None);
}

fn external_ids_are_unique(env: &mut Env) {
    let s = &env.store;
    let mut t = w(s);
    let ty = t.intern_type("T");
    let a = t.create_node(&[], vec![], Some("a".into())).unwrap();
    let b = t.create_node(&[], vec![], None).unwrap();
    let err = t.create_node(&[], vec![], Some("a".into())).unwrap_err();
    assert_eq!(err.code, ErrorCode::DuplicateData);
    // A generated id cannot be claimed by a user either.
    let b_ext = t.node_external_id(b).unwrap().to_string();
    let err = t.create_node(&[], vec![], Some(b_ext)).unwrap_err();
    assert_eq!(err.code, ErrorCode::DuplicateData);
    let r = t.create_rel(a, b, ty, vec![], Some("r1".into())).unwrap();
    let err = t
        .create_rel(a, b, ty, vec![], Some("r1".into()))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::DuplicateData);
    let r2 = t.create_rel(b, a, ty, vec![], None).unwrap();
    assert_ne!(
        t.rel_external_id(r2).unwrap(),
        t.node_external_id(b).unwrap()
    );
    t.commit().unwrap();
    let snap = s.snapshot();
    assert_eq!(snap.node_count(), 2, "failed creates leave no trace");
    assert_eq!(snap.rel_count(), 2);
    assert_eq!(snap.node_by_external_id("a"), Some(a));
    assert_eq!(snap.rel_by_external_id("r1"), Some(r));
    assert_eq!(snap.rel_external_id(r), Some("r1"));
    let r2_ext = snap.rel_external_id(r2).unwrap().to_string();
    assert_eq!(snap.rel_by_external_id(&r2_ext), Some(r2));
    assert_eq!(snap.node_by_external_id(&r2_ext), None);
    // After deleting, the id is free again.
    let mut t = w(s);
    t.delete_rel(r).unwrap();
    t.delete_rel(r2).unwrap();
    t.delete_node(a).unwrap();
    let a2 = t.create_node(&[], vec![], Some("a".into())).unwrap();
    assert_ne!(a, a2, "internal ids are not reused");
    let r3 = t.create_rel(a2, b, ty, vec![], Some("r1".into())).unwrap();
    t.commit().unwrap();
    let snap = s.snapshot();
    assert_eq!(snap.node_by_external_id("a"), Some(a2));
    assert_eq!(snap.rel_by_external_id("r1"), Some(r3));
    assert_eq!(snap.rel_by_external_id(&r2_ext), None);
}

fn snapshots_never_change(env: &mut Env) {
    let s = &env.store;
    let ids = people(s, &["ann", "bob"]);
    let before = s.snapshot();
    let mut t = w(s);
    let name = t.key_id("name").unwrap();
    t.set_node_property(ids[0], name, Value::from("ANN"))
        .unwrap();
    t.delete_node(ids[1]).unwrap();
    let c = t.create_node(&[], vec![], None).unwrap();
    // The transaction sees its own writes...
    assert_eq!(t.node_property(ids[0], name), Some(Value::from("ANN")));
    assert!(!t.node_exists(ids[1]));
    assert!(t.node_exists(c));
    // ...nobody else does yet.
    assert_eq!(
        s.snapshot().node_property(ids[0], name),
        Some(Value::from("ann"))
    );
    t.commit().unwrap();
    assert_eq!(before.node_property(ids[0], name), Some(Value::from("ann")));
    assert!(before.node_exists(ids[1]));
    assert!(!before.node_exists(c));
    assert_eq!(before.node_count(), 2);
    let after = s.snapshot();
    assert_eq!(after.node_property(ids[0], name), Some(Value::from("ANN")));
    assert_eq!(after.node_count(), 2);
    assert!(!after.node_exists(ids[1]));
    assert_eq!(
        after.node_ids().collect::<Vec<_>>(),
        vec![ids[0], c],
        "node_ids lists live nodes in id order"
    );
}

fn dropped_transaction_leaves_no_trace(env: &mut Env) {
    let s = &env.store;
    let ids = people(s, &["ann"]);
    {
        let mut t = w(s);
        let x = t.intern_label("X");
        let ty = t.intern_type("T");
        let k = t.intern_key("name");
        t.set_node_property(ids[0], k, Value::from("changed"))
            .unwrap();
        let n = t.create_node(&[x], vec![], Some("gone".into())).unwrap();
        t.create_rel(n, ids[0], ty, vec![], None).unwrap();
        t.add_label(ids[0], x).unwrap();
        // dropped here
    }
    let snap = s.snapshot();
    assert_eq!(snap.node_count(), 1);
    assert_eq!(snap.rel_count(), 0);
    assert_eq!(snap.label_id("X"), None);
    assert_eq!(snap.type_id("T"), None);
    assert_eq!(snap.node_by_external_id("gone"), None);
    let k = snap.key_id("name").unwrap();
    assert_eq!(snap.node_property(ids[0], k), Some(Value::from("ann")));
    // The writer lock was released: a new transaction can start and reuse the names.
    let mut t = w(s);
    let n = t.create_node(&[], vec![], Some("gone".into())).unwrap();
    assert!(
        n.0 > ids[0].0 + 1,
        "ids of the rolled-back node are not handed out again"
    );
    t.commit().unwrap();
}

fn writers_are_serialised_and_waiting_honours_cancel(env: &mut Env) {
    let s = &env.store;
    let t = w(s);
    let cancel = CancelToken::none();
    let c2 = cancel.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        c2.cancel(CancelReason::User);
    });
    let started = Instant::now();
    let err = s.begin_write(&cancel).map(|_| ()).unwrap_err();
    assert_eq!(err.code, ErrorCode::CancelledByUser);
    assert!(started.elapsed() < Duration::from_secs(2));
    canceller.join().unwrap();
    let timeout = CancelToken::new(Some(Instant::now() + Duration::from_millis(20)));
    let err = s.begin_write(&timeout).map(|_| ()).unwrap_err();
    assert_eq!(err.code, ErrorCode::TimeLimitExceeded);
    drop(t);
    assert!(s.begin_write(&CancelToken::none()).is_ok());
}

fn concurrent_increments_lose_no_update(env: &mut Env) {
    let s = Arc::new(std::mem::replace(
        &mut env.store,
        Store::open(&StoreConfig::in_memory()).unwrap(),
    ));
    let n = {
        let mut t = w(&s);
        let k = t.intern_key("count");
        let n = t.create_node(&[], vec![(k, Value::Int(0))], None).unwrap();
        t.commit().unwrap();
        n
    };
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                for _ in 0..25 {
                    let mut t = s.begin_write(&CancelToken::none()).unwrap();
                    let k = t.key_id("count").unwrap();
                    let Some(Value::Int(v)) = t.node_property(n, k) else {
                        panic!("counter missing")
                    };
                    t.set_node_property(n, k, Value::Int(v + 1)).unwrap();
                    t.commit().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let snap = s.snapshot();
    let k = snap.key_id("count").unwrap();
    assert_eq!(snap.node_property(n, k), Some(Value::Int(100)));
}

fn label_index_and_counts(env: &mut Env) {
    let s = &env.store;
    let mut t = w(s);
    let a = t.intern_label("A");
    let b = t.intern_label("B");
    let ty = t.intern_type("T");
    let u = t.intern_type("U");
    let mut ids = Vec::new();
    for i in 0..600 {
        let labels: Vec<_> = if i % 3 == 0 { vec![a, b] } else { vec![a] };
        ids.push(t.create_node(&labels, vec![], None).unwrap());
    }
    for i in 0..100 {
        t.create_rel(
            ids[i],
            ids[i + 1],
            if i % 2 == 0 { ty } else { u },
            vec![],
            None,
        )
        .unwrap();
    }
    t.commit().unwrap();
    let snap = s.snapshot();
    assert_eq!(snap.label_count(a), 600);
    assert_eq!(snap.label_count(b), 200);
    let with_b: Vec<_> = snap.nodes_with_label(b).collect();
    assert_eq!(with_b, ids.iter().copied().step_by(3).collect::<Vec<_>>());
    assert_eq!((snap.type_count(ty), snap.type_count(u)), (50, 50));
    assert_eq!(snap.label_count(99), 0);
    assert_eq!(snap.nodes_with_label(99).count(), 0);

    let mut t = w(s);
    assert!(t.remove_label(ids[0], b).unwrap());
    assert!(!t.remove_label(ids[0], b).unwrap());
    assert!(t.add_label(ids[1], b).unwrap());
    assert!(!t.add_label(ids[1], b).unwrap());
    t.delete_node(ids[599]).unwrap();
    t.delete_rel(RelId(0)).unwrap();
    assert!(!t.node_has_label(ids[0], b));
    t.commit().unwrap();
    let snap = s.snapshot();
    assert_eq!(snap.label_count(a), 599);
    assert_eq!(snap.label_count(b), 200);
    assert_eq!(snap.nodes_with_label(b).next(), Some(ids[1]));
    assert!(!snap.nodes_with_label(a).any(|n| n == ids[599]));
    assert_eq!(snap.type_count(ty), 49);
    assert_eq!(snap.rel_count(), 99);
    assert_eq!(snap.rel_ids().next(), Some(RelId(1)));
}

fn expand_groups_by_direction_and_type(env: &mut Env) {
    let s = &env.store;
    let mut t = w(s);
    let knows = t.intern_type("KNOWS");
    let likes = t.intern_type("LIKES");
    let a = t.create_node(&[], vec![], None).unwrap();
    let b = t.create_node(&[], vec![], None).unwrap();
    let c = t.create_node(&[], vec![], None).unwrap();
    let ab = t.create_rel(a, b, knows, vec![], None).unwrap();
    let ac = t.create_rel(a, c, likes, vec![], None).unwrap();
    let ca = t.create_rel(c, a, knows, vec![], None).unwrap();
    let aa = t.create_rel(a, a, likes, vec![], None).unwrap();
    t.commit().unwrap();
    let snap = s.snapshot();
    let ex = |dir, types: &[u32]| {
        let mut out = Vec::new();
        snap.expand(a, dir, types, &mut out);
        out.sort();
        assert_eq!(snap.degree(a, dir, types), out.len(), "{dir:?} {types:?}");
        out
    };
    assert_eq!(ex(Dir::Out, &[]), vec![(ab, b), (ac, c), (aa, a)]);
    assert_eq!(ex(Dir::In, &[]), vec![(ca, c), (aa, a)]);
    assert_eq!(ex(Dir::Both, &[]), vec![(ab, b), (ac, c), (ca, c), (aa, a)]);
    assert_eq!(ex(Dir::Out, &[knows]), vec![(ab, b)]);
    assert_eq!(ex(Dir::Both, &[likes]), vec![(ac, c), (aa, a)]);
    assert_eq!(ex(Dir::Both, &[knows, likes]).len(), 4);
    assert_eq!(ex(Dir::Both, &[42]), vec![]);
    assert_eq!(snap.rel_info(ca), Some((c, a, knows)));
    assert_eq!(snap.degree(NodeId(77), Dir::Both, &[]), 0);
    let mut out = Vec::new();
    snap.expand(NodeId(77), Dir::Both, &[], &mut out);
    assert!(out.is_empty());
}

fn connected_node_cannot_be_deleted(env: &mut Env) {
    let s = &env.store;
    let mut t = w(s);
    let ty = t.intern_type("T");
    let a = t.create_node(&[], vec![], Some("n1".into())).unwrap();
    let b = t.create_node(&[], vec![], None).unwrap();
    let r = t.create_rel(a, b, ty, vec![], None).unwrap();
    let err = t.delete_node(a).unwrap_err();
    assert_eq!(err.code, ErrorCode::DeleteConnectedNode);
    assert!(
        err.message
            .starts_with("Cannot delete node<n1>, because it still has relationships."),
        "{}",
        err.message
    );
    assert!(err
        .message
        .contains("you must first delete its relationships"));
    assert_eq!(
        t.delete_node(b).unwrap_err().code,
        ErrorCode::DeleteConnectedNode
    );
    t.delete_rel(r).unwrap();
    t.delete_rel(r).unwrap();
    t.delete_node(a).unwrap();
    t.delete_node(a).unwrap();
    assert_eq!(t.node_count(), 1);
    assert_eq!(t.rel_count(), 0);
    let err = t.create_rel(a, b, ty, vec![], None).unwrap_err();
    assert_eq!(err.code, ErrorCode::DeletedEntityAccess);
    let k = t.intern_key("k");
    let err = t.set_node_property(a, k, Value::Int(1)).unwrap_err();
    assert_eq!(err.code, ErrorCode::DeletedEntityAccess);
    t.commit().unwrap();
    assert_eq!(s.snapshot().node_count(), 1);
}

fn properties_set_remove_and_reject_bad_types(env: &mut Env) {
    let s = &env.store;
    let mut t = w(s);
    let k = t.intern_key("k");
    let m = t.intern_key("m");
    let ty = t.intern_type("T");
    let a = t
        .create_node(&[], vec![(k, Value::Int(1)), (m, Value::Null)], None)
        .unwrap();
    let r = t
        .create_rel(a, a, ty, vec![(k, Value::Bool(true))], None)
        .unwrap();
    let mut props = Vec::new();
    t.node_properties(a, &mut props);
    assert_eq!(
        props,
        vec![(k, Value::Int(1))],
        "null properties are not stored"
    );
    t.set_node_property(a, m, Value::from("x")).unwrap();
    t.set_node_property(a, k, Value::Null).unwrap();
    t.set_rel_property(r, m, Value::Float(0.5)).unwrap();
    let err = t
        .set_node_property(a, k, Value::Map(Default::default()))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidPropertyType);
    let err = t.set_node_property(a, 999, Value::Int(1)).unwrap_err();
    assert_eq!(err.code, ErrorCode::InternalFailure);
    t.commit().unwrap();
    let snap = s.snapshot();
    assert_eq!(snap.node_property(a, k), None);
    assert_eq!(snap.node_property(a, m), Some(Value::from("x")));
    assert_eq!(snap.rel_property(r, k), Some(Value::Bool(true)));
    let mut props = Vec::new();
    snap.rel_properties(r, &mut props);
    assert_eq!(props, vec![(k, Value::Bool(true)), (m, Value::Float(0.5))]);
}

fn reset_removes_everything(env: &mut Env) {
    let s = &env.store;
    let ids = people(s, &["a", "b"]);
    let old_ext = s.snapshot().node_external_id(ids[0]).unwrap().to_string();
    let old = s.snapshot();
    s.reset().unwrap();
    assert_eq!(
        old.node_count(),
        2,
        "snapshots taken before a reset keep their data"
    );
    let snap = s.snapshot();
    assert_eq!(snap.node_count(), 0);
    assert_eq!(snap.label_id("Person"), None);
    assert_eq!(snap.node_by_external_id(&old_ext), None);
    let again = people(s, &["c"]);
    let snap = s.snapshot();
    assert_eq!(snap.node_count(), 1);
    assert!(snap.node_exists(again[0]));
}

fn property_index_follows_every_change(env: &mut Env) {
    let s = &env.store;
    let ids = people(s, &["ann", "bob", "cy"]);
    let snap = s.snapshot();
    let person = snap.label_id("Person").unwrap();
    let name = snap.key_id("name").unwrap();
    assert_eq!(
        snap.nodes_by_property(person, name, &Value::from("ann")),
        None
    );
    assert!(s.create_index("Person", "name").unwrap());
    assert!(!s.create_index("Person", "name").unwrap());
    assert_eq!(
        snap.nodes_by_property(person, name, &Value::from("ann")),
        None,
        "old snapshot"
    );
    let snap = s.snapshot();
    assert_eq!(snap.property_indexes(), vec![(person, name)]);
    assert_eq!(
        snap.nodes_by_property(person, name, &Value::from("ann")),
        Some(vec![ids[0]]),
        "existing data is indexed"
    );
    assert_eq!(
        snap.nodes_by_property(person, name, &Value::from("zed")),
        Some(vec![])
    );
    assert_eq!(
        snap.nodes_by_property(person, name, &Value::Null),
        Some(vec![])
    );

    let mut t = w(s);
    let other = t.intern_label("Other");
    let age = t.intern_key("age");
    t.create_index(person, age).unwrap();
    let d = t
        .create_node(
            &[person],
            vec![(name, Value::from("ann")), (age, Value::Int(30))],
            None,
        )
        .unwrap();
    let e = t
        .create_node(&[other], vec![(name, Value::from("ann"))], None)
        .unwrap();
    t.set_node_property(ids[1], name, Value::from("ann"))
        .unwrap();
    t.set_node_property(ids[2], name, Value::Null).unwrap();
    t.set_node_property(ids[0], age, Value::Float(30.0))
        .unwrap();
    t.set_node_property(ids[1], age, Value::Float(30.5))
        .unwrap();
    t.set_node_property(ids[2], age, Value::from("thirty"))
        .unwrap();
    // The transaction's own reads use the index too.
    assert_eq!(
        t.nodes_by_property(person, name, &Value::from("ann")),
        Some(vec![ids[0], ids[1], d])
    );
    t.commit().unwrap();
    let snap = s.snapshot();
    assert_eq!(
        snap.nodes_by_property(person, age, &Value::Int(30)),
        Some(vec![ids[0], d]),
        "30 = 30.0"
    );
    assert_eq!(
        snap.nodes_by_property_range(
            person,
            age,
            Bound::Included(&Value::Int(30)),
            Bound::Unbounded
        ),
        Some({
            let mut found = vec![ids[0], d, ids[1]];
            found.sort();
            found
        }),
        "numbers only, in node order"
    );
    assert_eq!(
        snap.nodes_by_property_range(
            person,
            age,
            Bound::Excluded(&Value::Float(30.0)),
            Bound::Excluded(&Value::Int(31))
        ),
        Some(vec![ids[1]])
    );
    assert_eq!(
        snap.nodes_by_property_range(
            person,
            age,
            Bound::Unbounded,
            Bound::Included(&Value::from("z"))
        ),
        Some(vec![ids[2]])
    );
    assert_eq!(
        snap.nodes_by_property_range(
            person,
            age,
            Bound::Included(&Value::Int(1)),
            Bound::Included(&Value::from("z"))
        ),
        Some(vec![])
    );
    assert_eq!(
        snap.nodes_by_property_range(person, age, Bound::Included(&Value::Null), Bound::Unbounded),
        Some(vec![])
    );
    assert_eq!(
        snap.nodes_by_property_range(
            person,
            name,
            Bound::Included(&Value::List(vec![])),
            Bound::Unbounded
        ),
        None
    );
    assert_eq!(
        snap.nodes_by_property_range(other, name, Bound::Unbounded, Bound::Unbounded),
        None
    );
    // Values that are stored but not indexed (lists, temporal values) are still found.
    let mut t = w(s);
    let list = Value::List(vec![Value::Int(1), Value::from("a")]);
    let when = Value::from(
        nereid_temporal::parse::parse(nereid_temporal::Kind::Date, "2024-02-29").unwrap(),
    );
    let f = t
        .create_node(
            &[person],
            vec![(age, list.clone()), (name, when.clone())],
            None,
        )
        .unwrap();
    t.commit().unwrap();
    let snap = s.snapshot();
    assert_eq!(snap.nodes_by_property(person, age, &list), Some(vec![f]));
    assert_eq!(snap.nodes_by_property(person, name, &when), Some(vec![f]));
    assert_eq!(
        snap.nodes_by_property(person, age, &Value::Float(f64::NAN)),
        Some(vec![])
    );
    let mut t = w(s);
    t.delete_node(f).unwrap();
    t.commit().unwrap();
    let _ = e;

    let mut t = w(s);
    t.remove_label(ids[0], person).unwrap();
    t.add_label(e, person).unwrap();
    t.delete_node(d).unwrap();
    t.commit().unwrap();
    let snap = s.snapshot();
    assert_eq!(
        snap.nodes_by_property(person, name, &Value::from("ann")),
        Some(vec![ids[1], e])
    );
    assert_eq!(
        snap.nodes_by_property(person, age, &Value::Int(30)),
        Some(vec![])
    );

    let mut t = w(s);
    assert!(t.drop_index(person, age).unwrap());
    assert!(!t.drop_index(person, age).unwrap());
    t.commit().unwrap();
    assert_eq!(
        s.snapshot().nodes_by_property(person, age, &Value::Int(30)),
        None
    );
}

fn temporal_values_are_indexed_for_equality_and_ranges(env: &mut Env) {
    use nereid_temporal::{parse::parse, Kind};
    let date = |s: &str| Value::from(parse(Kind::Date, s).unwrap());
    let s = &env.store;
    assert!(s.create_index("E", "at").unwrap());
    let mut t = w(s);
    let e = t.intern_label("E");
    let at = t.intern_key("at");
    let d1 = t
        .create_node(&[e], vec![(at, date("2024-01-01"))], None)
        .unwrap();
    let d2 = t
        .create_node(&[e], vec![(at, date("2024-03-01"))], None)
        .unwrap();
    let d3 = t
        .create_node(&[e], vec![(at, date("2025-01-01"))], None)
        .unwrap();
    let lt = Value::from(parse(Kind::LocalTime, "12:00").unwrap());
    let n4 = t.create_node(&[e], vec![(at, lt.clone())], None).unwrap();
    let dur = Value::from(parse(Kind::Duration, "P1D").unwrap());
    let n5 = t.create_node(&[e], vec![(at, dur.clone())], None).unwrap();
    let n6 = t
        .create_node(&[e], vec![(at, Value::from("2024-02-01"))], None)
        .unwrap();
    t.commit().unwrap();
    let snap = s.snapshot();
    assert_eq!(
        snap.nodes_by_property(e, at, &date("2024-03-01")),
        Some(vec![d2])
    );
    assert_eq!(snap.nodes_by_property(e, at, &lt), Some(vec![n4]));
    assert_eq!(
        snap.nodes_by_property(e, at, &dur),
        Some(vec![n5]),
        "durations: scanned"
    );
    assert_eq!(
        snap.nodes_by_property_range(
            e,
            at,
            Bound::Excluded(&date("2024-01-01")),
            Bound::Unbounded
        ),
        Some(vec![d2, d3]),
        "only dates, in order"
    );
    assert_eq!(
        snap.nodes_by_property_range(
            e,
            at,
            Bound::Unbounded,
            Bound::Included(&date("2024-03-01"))
        ),
        Some(vec![d1, d2])
    );
    assert_eq!(
        snap.nodes_by_property_range(e, at, Bound::Included(&dur), Bound::Unbounded),
        None,
        "durations have no order: the caller scans"
    );
    let _ = n6;
}

fn tilde_id_is_always_indexed(env: &mut Env) {
    let s = &env.store;
    let mut t = w(s);
    let a = t.intern_label("A");
    let b = t.intern_label("B");
    let tid = t.intern_key("~id");
    let n = t.create_node(&[a], vec![], Some("x1".into())).unwrap();
    t.commit().unwrap();
    let snap = s.snapshot();
    assert_eq!(
        snap.nodes_by_property(a, tid, &Value::from("x1")),
        Some(vec![n])
    );
    assert_eq!(
        snap.nodes_by_property(b, tid, &Value::from("x1")),
        Some(vec![])
    );
    assert_eq!(snap.nodes_by_property(a, tid, &Value::Int(1)), Some(vec![]));
}

fn relationship_type_statistics(env: &mut Env) {
    let s = &env.store;
    let mut t = w(s);
    let knows = t.intern_type("KNOWS");
    let n: Vec<_> = (0..4)
        .map(|_| t.create_node(&[], vec![], None).unwrap())
        .collect();
    let r01 = t.create_rel(n[0], n[1], knows, vec![], None).unwrap();
    t.create_rel(n[0], n[2], knows, vec![], None).unwrap();
    t.create_rel(n[0], n[3], knows, vec![], None).unwrap();
    t.create_rel(n[1], n[3], knows, vec![], None).unwrap();
    t.commit().unwrap();
    let st = s.snapshot().type_stats(knows);
    assert_eq!((st.relationships, st.sources, st.targets), (4, 2, 3));
    assert_eq!(st.avg_out_degree(), 2.0);
    let mut t = w(s);
    t.delete_rel(r01).unwrap();
    t.commit().unwrap();
    let st = s.snapshot().type_stats(knows);
    assert_eq!((st.relationships, st.sources, st.targets), (3, 2, 2));
    assert_eq!(s.snapshot().type_stats(99), Default::default());
}

/// Rows of the bulk scan of `t` over `from..to`, `max` at a time, resumed until done or
/// the range ends; with where it stopped.
fn rel_rows(
    g: &dyn GraphRead,
    scan: &nereid_storage::RelRowScan<'_>,
    from: u64,
    to: u64,
    max: usize,
) -> (Vec<Vec<Value>>, Option<u64>) {
    let mut rows = Vec::new();
    let mut at = from;
    loop {
        let mut out = Vec::new();
        let next = g.scan_rel_rows(scan, at, to, max, &mut out);
        assert!(out.len() <= max * scan.columns.len());
        rows.extend(out.chunks(scan.columns.len()).map(<[Value]>::to_vec));
        match next {
            Some(n) if n < to => at = n,
            other => return (rows, other),
        }
    }
}

fn bulk_relationship_scans_read_rows_of_columns(env: &mut Env) {
    use nereid_storage::{RelColumn, RelRowScan};
    let s = &env.store;
    let mut t = w(s);
    let (a, b) = (t.intern_label("A"), t.intern_label("B"));
    let (knows, likes) = (t.intern_type("KNOWS"), t.intern_type("LIKES"));
    let (x, y) = (t.intern_key("x"), t.intern_key("y"));
    let n: Vec<NodeId> = (0..6)
        .map(|i| {
            let labels = if i % 2 == 0 { vec![a] } else { vec![a, b] };
            t.create_node(&labels, vec![], None).unwrap()
        })
        .collect();
    let mut knows_rels = Vec::new();
    for i in 0..600u64 {
        let (from, to) = (n[(i % 6) as usize], n[((i + 1) % 6) as usize]);
        // LIKES in between, so that the KNOWS are not contiguous.
        t.create_rel(from, to, likes, vec![(x, Value::Int(-1))], None)
            .unwrap();
        let props = match i % 3 {
            0 => vec![(x, Value::Int(i as i64)), (y, Value::from("s"))],
            1 => vec![(x, Value::Float(i as f64 / 2.0))],
            _ => vec![],
        };
        let r = t.create_rel(from, to, knows, props, None).unwrap();
        knows_rels.push((r, from, to, i));
    }
    t.delete_rel(knows_rels[5].0).unwrap();
    knows_rels.remove(5);
    // The same through the transaction (its own writes) and the committed snapshot.
    let expected = |knows_rels: &[(RelId, NodeId, NodeId, u64)], end_b: bool| {
        knows_rels
            .iter()
            .filter(|(_, _, to, _)| !end_b || (to.0 % 2 == 1))
            .map(|(r, from, to, i)| {
                let x = match i % 3 {
                    0 => Value::Int(*i as i64),
                    1 => Value::Float(*i as f64 / 2.0),
                    _ => Value::Null,
                };
                vec![
                    x,
                    Value::Relationship(*r),
                    Value::Node(*from),
                    Value::Null,
                    Value::Node(*to),
                ]
            })
            .collect::<Vec<_>>()
    };
    let columns = [
        RelColumn::Prop(x),
        RelColumn::Rel,
        RelColumn::Start,
        RelColumn::Null,
        RelColumn::End,
    ];
    let all = RelRowScan {
        rel_type: knows,
        start_labels: &[],
        end_labels: &[],
        columns: &columns,
        max_heap: usize::MAX,
    };
    let to_b = RelRowScan {
        end_labels: &[b],
        start_labels: &[a],
        ..all
    };
    {
        let (rows, next) = rel_rows(&t, &all, 0, u64::MAX, 7);
        assert_eq!(rows, expected(&knows_rels, false));
        assert_eq!(next, None);
    }
    t.commit().unwrap();
    let snap = s.snapshot();
    for max in [1, 64, 5000] {
        let (rows, next) = rel_rows(&snap, &all, 0, u64::MAX, max);
        assert_eq!(rows, expected(&knows_rels, false), "max {max}");
        assert_eq!(next, None);
        let (rows, _) = rel_rows(&snap, &to_b, 0, u64::MAX, max);
        assert_eq!(rows, expected(&knows_rels, true), "max {max}");
    }
    // Ranges: each range gives the relationships with ids in it, and says where to go on.
    let mut pieces = Vec::new();
    let mut from = 0;
    loop {
        let (rows, next) = rel_rows(&snap, &all, from, from + 100, 8);
        pieces.extend(rows);
        match next {
            Some(n) => {
                assert_eq!(n, from + 100);
                from = n;
            }
            None => break,
        }
    }
    assert_eq!(pieces, expected(&knows_rels, false));
    // A range past the end, a type without relationships, a label no node has.
    assert_eq!(rel_rows(&snap, &all, 5000, 6000, 8), (vec![], None));
    let none = RelRowScan {
        rel_type: 77,
        ..all
    };
    assert_eq!(rel_rows(&snap, &none, 0, u64::MAX, 8), (vec![], None));
    let nobody = RelRowScan {
        start_labels: &[42],
        ..all
    };
    assert_eq!(
        rel_rows(&snap, &nobody, 0, u64::MAX, 8).0,
        Vec::<Vec<Value>>::new()
    );
    // Pages of large values end early, after at least one row.
    let mut t = w(s);
    let big = t.intern_type("BIG");
    for i in 0..10 {
        t.create_rel(
            n[0],
            n[1],
            big,
            vec![(x, Value::from("x".repeat(1000 + i)))],
            None,
        )
        .unwrap();
    }
    t.commit().unwrap();
    let snap = s.snapshot();
    let just_x = [RelColumn::Prop(x)];
    for (max_heap, per_page) in [(2500, 3), (1, 1), (usize::MAX, 10)] {
        let scan = RelRowScan {
            rel_type: big,
            start_labels: &[],
            end_labels: &[],
            columns: &just_x,
            max_heap,
        };
        let mut out = Vec::new();
        let mut at = Some(0);
        let mut pages = 0;
        while let Some(from) = at {
            let before = out.len();
            at = snap.scan_rel_rows(&scan, from, u64::MAX, 100, &mut out);
            assert!(out.len() - before <= per_page, "max_heap {max_heap}");
            pages += 1;
        }
        assert_eq!(out.len(), 10);
        assert!(pages >= 10 / per_page, "max_heap {max_heap}");
    }
    // `scan_rels` agrees on which relationships there are.
    let snap = s.snapshot();
    // A prefetch hint accepts any ids, live or not.
    snap.prefetch_adjacency(&[n[0], NodeId(u64::MAX), n[5], NodeId(12345)]);
    let mut listed = Vec::new();
    let mut at = Some(0);
    while let Some(from) = at {
        at = snap.scan_rels(knows, from, 3, &mut listed);
    }
    assert_eq!(
        listed,
        knows_rels
            .iter()
            .map(|(r, a, b, _)| (*r, *a, *b))
            .collect::<Vec<_>>()
    );
}

#[test]
fn store_snapshot_and_transaction_can_cross_threads() {
    fn send_sync_static<T: Send + Sync + 'static>() {}
    fn send_static<T: Send + 'static>() {}
    send_sync_static::<Store>();
    send_sync_static::<nereid_storage::Snapshot>();
    send_static::<nereid_storage::WriteTxn>();
    // Through the trait objects the engine uses.
    send_static::<Box<dyn GraphWrite + Send>>();
}

fn readers_see_whole_transactions_while_writers_run(env: &mut Env) {
    let s = Arc::new(std::mem::replace(
        &mut env.store,
        Store::open(&StoreConfig::in_memory()).unwrap(),
    ));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let s = Arc::clone(&s);
        std::thread::spawn(move || {
            for i in 0..150 {
                let mut t = s.begin_write(&CancelToken::none()).unwrap();
                let l = t.intern_label("Pair");
                let ty = t.intern_type("P");
                let a = t.create_node(&[l], vec![], None).unwrap();
                let b = t.create_node(&[l], vec![], None).unwrap();
                t.create_rel(a, b, ty, vec![], None).unwrap();
                if i % 3 == 0 {
                    // Every third one is rolled back: never visible.
                    drop(t);
                } else {
                    t.commit().unwrap();
                }
            }
        })
    };
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let s = Arc::clone(&s);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut seen = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let snap = s.snapshot();
                    let nodes = snap.node_count();
                    assert_eq!(nodes, 2 * snap.rel_count(), "a half-visible transaction");
                    assert_eq!(snap.node_ids().count() as u64, nodes);
                    if let Some(l) = snap.label_id("Pair") {
                        assert_eq!(snap.label_count(l), nodes);
                        assert_eq!(snap.nodes_with_label(l).count() as u64, nodes);
                    }
                    seen = seen.max(nodes);
                }
                seen
            })
        })
        .collect();
    writer.join().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        assert!(r.join().unwrap() <= 200);
    }
    assert_eq!(s.snapshot().rel_count(), 100);
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod in_memory {
            $( #[test] fn $name() { super::$name(&mut super::Env::memory()) } )*
        }
        mod on_disk {
            $( #[test] fn $name() { super::$name(&mut super::Env::disk()) } )*
        }
    };
}

fn neptune_data_model_keeps_every_node_labelled(env: &mut Env) {
    let s = &env.store;
    s.set_labelled_nodes(true);
    let mut t = w(s);
    let person = t.intern_label("Person");
    let bare = t.create_node(&[], vec![], None).unwrap();
    let one = t.create_node(&[person], vec![], None).unwrap();
    let vertex = t.label_id(nereid_storage::DEFAULT_LABEL).unwrap();
    let mut labels = Vec::new();
    t.node_labels(bare, &mut labels);
    assert_eq!(labels, vec![vertex]);
    let err = t.remove_label(one, person).unwrap_err();
    assert_eq!(err.code, ErrorCode::LastLabel);
    assert!(
        err.message.contains("at least one label"),
        "{}",
        err.message
    );
    // With a second label, one may go.
    let admin = t.intern_label("Admin");
    t.add_label(one, admin).unwrap();
    assert!(t.remove_label(one, person).unwrap());
    t.commit().unwrap();
    s.set_labelled_nodes(false);
    let mut t = w(s);
    assert!(t.remove_label(one, admin).unwrap());
    let unlabelled = t.create_node(&[], vec![], None).unwrap();
    labels.clear();
    t.node_labels(unlabelled, &mut labels);
    assert!(labels.is_empty());
}

suite!(
    neptune_data_model_keeps_every_node_labelled,
    create_and_read_back,
    external_ids_are_unique,
    snapshots_never_change,
    dropped_transaction_leaves_no_trace,
    writers_are_serialised_and_waiting_honours_cancel,
    concurrent_increments_lose_no_update,
    label_index_and_counts,
    expand_groups_by_direction_and_type,
    connected_node_cannot_be_deleted,
    properties_set_remove_and_reject_bad_types,
    reset_removes_everything,
    property_index_follows_every_change,
    tilde_id_is_always_indexed,
    temporal_values_are_indexed_for_equality_and_ranges,
    relationship_type_statistics,
    bulk_relationship_scans_read_rows_of_columns,
    readers_see_whole_transactions_while_writers_run,
);
