//! `updateSingleCardinalityProperties` and `edgeOnlyLoad` through load jobs on local files:
//! a Gremlin CSV row for a taken `~id` merges its single-cardinality values (a different
//! value is an insert error unless the option replaces it), openCypher refuses the option,
//! and `edgeOnlyLoad` keeps the source order.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use nereid_common::ErrorCode;
use nereid_loader::{Loader, LoaderConfig, Mode, StartRequest, Store};
use nereid_storage::{GraphRead, StoreConfig};
use nereid_value::Value;

fn setup(dir: &Path) -> (Arc<Store>, Loader) {
    let store = Arc::new(Store::open(&StoreConfig::in_memory()).unwrap());
    let loader = Loader::new(
        Arc::clone(&store) as Arc<dyn nereid_loader::Target>,
        LoaderConfig {
            load_dir: Some(dir.to_path_buf()),
            ..LoaderConfig::default()
        },
    )
    .unwrap();
    (store, loader)
}

fn run(l: &Loader, source: &Path, format: &str, update: bool) -> nereid_loader::JobRecord {
    let id = l
        .start(StartRequest {
            source: source.display().to_string(),
            format: format.into(),
            mode: Mode::New,
            fail_on_error: false,
            update_single_cardinality_properties: update,
            ..StartRequest::default()
        })
        .unwrap();
    l.wait(&id, Duration::from_secs(20)).unwrap();
    l.record(&id).unwrap()
}

fn node_prop(store: &Store, id: &str, key: &str) -> Option<Value> {
    let snap = store.snapshot();
    let n = snap.node_by_external_id(id)?;
    snap.node_property(n, snap.key_id(key)?)
}

#[test]
fn taken_ids_merge_single_cardinality_values_per_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.csv");
    let second = dir.path().join("second.csv");
    std::fs::write(
        &first,
        "~id,name:String(single),age:Int(single),tag:String\nv1,Ann,40,a\nv2,Bob,,b\n",
    )
    .unwrap();
    // v1: another name (a conflict by default); v2: a new age (added) and another tag (a
    // set-cardinality column: not merged).
    std::fs::write(
        &second,
        "~id,name:String(single),age:Int(single),tag:String\nv1,Anna,40,x\nv2,Bob,31,y\n",
    )
    .unwrap();
    let (store, l) = setup(dir.path());
    assert_eq!(run(&l, &first, "csv", false).status, "LOAD_COMPLETED");

    let r = run(&l, &second, "csv", false);
    assert_eq!(r.status, "LOAD_FAILED");
    assert_eq!((r.counts.insert_errors, r.counts.total_duplicates), (1, 0));
    assert_eq!(r.errors[0].error_code, "INSERT_ERROR");
    assert_eq!(r.errors[0].record_num, 1);
    assert!(
        r.errors[0]
            .error_message
            .contains("vertex 'v1' already has name"),
        "{}",
        r.errors[0].error_message
    );
    assert_eq!(node_prop(&store, "v1", "name"), Some(Value::from("Ann")));
    assert_eq!(node_prop(&store, "v2", "age"), Some(Value::Int(31)));
    assert_eq!(node_prop(&store, "v2", "tag"), Some(Value::from("b")));

    let r = run(&l, &second, "csv", true);
    assert_eq!(r.status, "LOAD_COMPLETED");
    assert_eq!(
        (r.counts.insert_errors, r.counts.total_duplicates),
        (0, 1),
        "v2 changes nothing now"
    );
    assert_eq!(node_prop(&store, "v1", "name"), Some(Value::from("Anna")));
    assert_eq!(store.snapshot().node_count(), 2);
}

#[test]
fn opencypher_refuses_the_option_and_keeps_taken_ids_as_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("n.csv");
    std::fs::write(&file, ":ID,name:String\nn1,a\n").unwrap();
    let (store, l) = setup(dir.path());
    let e = l
        .start(StartRequest {
            source: file.display().to_string(),
            format: "opencypher".into(),
            update_single_cardinality_properties: true,
            ..StartRequest::default()
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::BadRequest);
    assert_eq!(run(&l, &file, "opencypher", false).status, "LOAD_COMPLETED");
    std::fs::write(&file, ":ID,name:String\nn1,b\n").unwrap();
    let r = run(&l, &file, "opencypher", false);
    assert_eq!(
        (r.status.as_str(), r.counts.total_duplicates),
        ("LOAD_COMPLETED", 1)
    );
    assert_eq!(node_prop(&store, "n1", "name"), Some(Value::from("a")));
}

#[test]
fn edge_only_load_keeps_the_source_order() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("g");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(
        src.join("a-rels.csv"),
        ":ID,:START_ID,:END_ID,:TYPE\nr1,n1,n2,K\n",
    )
    .unwrap();
    std::fs::write(src.join("b-nodes.csv"), ":ID\nn1\nn2\n").unwrap();
    for (edge_only, rels, insert_errors) in [(false, 1, 0), (true, 0, 1)] {
        let (store, l) = setup(dir.path());
        let id = l
            .start(StartRequest {
                source: src.display().to_string(),
                format: "opencypher".into(),
                edge_only_load: edge_only,
                ..StartRequest::default()
            })
            .unwrap();
        l.wait(&id, Duration::from_secs(20)).unwrap();
        let r = l.record(&id).unwrap();
        let order: Vec<String> = r
            .files
            .iter()
            .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        let expected = if edge_only {
            ["a-rels.csv", "b-nodes.csv"]
        } else {
            ["b-nodes.csv", "a-rels.csv"]
        };
        assert_eq!(order, expected);
        assert_eq!(r.counts.insert_errors, insert_errors);
        assert_eq!(store.snapshot().rel_count(), rels);
    }
}
