//! The change stream through the public API: what each change records, numbering and
//! order, rollbacks, restarts, checkpoints, retention, fast reset, paging, and a data
//! directory of the format before streams.

use std::path::Path;
use std::time::Duration;

use nereid_common::{CancelToken, ErrorCode};
use nereid_storage::{
    ChangeKind, ChangeOp, ChangeRecord, EventId, GraphRead, GraphWrite, Store, StoreConfig,
    StreamStart, WriteTxn, DEFAULT_STREAM_EXPIRY,
};
use nereid_value::Value;

const ALL: usize = 1_000_000;
const NO_CAP: usize = usize::MAX;

fn durable(dir: &Path) -> Store {
    let store = Store::open(&StoreConfig::at(dir)).unwrap();
    store.enable_streams(DEFAULT_STREAM_EXPIRY).unwrap();
    store
}

fn write(store: &Store, f: impl FnOnce(&mut WriteTxn)) {
    let mut t = store.begin_write(&CancelToken::none()).unwrap();
    f(&mut t);
    t.commit().unwrap();
}

fn node(t: &mut WriteTxn, id: &str, labels: &[&str], props: &[(&str, Value)]) {
    let labels: Vec<u32> = labels.iter().map(|l| t.intern_label(l)).collect();
    let props = props
        .iter()
        .map(|(k, v)| (t.intern_key(k), v.clone()))
        .collect();
    t.create_node(&labels, props, Some(id.into())).unwrap();
}

fn rel(t: &mut WriteTxn, id: &str, from: &str, to: &str, ty: &str, props: &[(&str, Value)]) {
    let a = t.node_by_external_id(from).unwrap();
    let b = t.node_by_external_id(to).unwrap();
    let ty = t.intern_type(ty);
    let props = props
        .iter()
        .map(|(k, v)| (t.intern_key(k), v.clone()))
        .collect();
    t.create_rel(a, b, ty, props, Some(id.into())).unwrap();
}

fn all(store: &Store) -> Vec<ChangeRecord> {
    match store.streams().read(StreamStart::TrimHorizon, ALL, NO_CAP) {
        Ok(page) => page.records,
        Err(e) if e.code == ErrorCode::StreamRecordsNotFound => Vec::new(),
        Err(e) => panic!("{e:?}"),
    }
}

/// `(commit, op, "op kind id key value")` of each record, for compact assertions.
fn lines(records: &[ChangeRecord]) -> Vec<(u64, u64, String)> {
    records
        .iter()
        .map(|r| {
            let value = match &r.value {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            let mut s = format!(
                "{} {} {} {} {value}",
                r.op.as_str(),
                r.kind.code(),
                r.id,
                r.key,
            );
            if let (Some(f), Some(t)) = (&r.from, &r.to) {
                s.push_str(&format!(" {f}->{t}"));
            }
            (r.event.commit_num, r.event.op_num, s)
        })
        .collect()
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

#[test]
fn every_kind_of_change_is_recorded_with_what_it_removed() {
    let dir = tempfile::tempdir().unwrap();
    let store = durable(dir.path());
    write(&store, |t| {
        node(
            t,
            "a",
            &["Person", "Admin"],
            &[
                ("name", s("Ann")),
                ("tags", Value::List(vec![s("x"), s("y")])),
            ],
        );
        node(t, "b", &["Person"], &[]);
        rel(t, "r", "a", "b", "KNOWS", &[("since", Value::Int(2020))]);
    });
    write(&store, |t| {
        let a = t.node_by_external_id("a").unwrap();
        let name = t.intern_key("name");
        t.set_node_property(a, name, s("Anna")).unwrap();
        // Setting the same value again changes nothing and records nothing.
        t.set_node_property(a, name, s("Anna")).unwrap();
        let admin = t.label_id("Admin").unwrap();
        t.remove_label(a, admin).unwrap();
        let vip = t.intern_label("Vip");
        t.add_label(a, vip).unwrap();
        let r = t.rel_by_external_id("r").unwrap();
        let since = t.intern_key("since");
        t.set_rel_property(r, since, Value::Null).unwrap();
        let w = t.intern_key("weight");
        t.set_rel_property(r, w, Value::Float(0.5)).unwrap();
    });
    write(&store, |t| {
        let r = t.rel_by_external_id("r").unwrap();
        t.delete_rel(r).unwrap();
        let a = t.node_by_external_id("a").unwrap();
        t.delete_node(a).unwrap();
    });
    let recs = all(&store);
    // Labels come in dictionary order (Person was interned first).
    let expected: Vec<(u64, u64, &str)> = vec![
        (1, 1, "ADD vl a label Person"),
        (1, 2, "ADD vl a label Admin"),
        (1, 3, "ADD vp a name Ann"),
        (1, 4, "ADD vp a tags x"),
        (1, 5, "ADD vp a tags y"),
        (1, 6, "ADD vl b label Person"),
        (1, 7, "ADD e r label KNOWS a->b"),
        (1, 8, "ADD ep r since 2020"),
        (2, 1, "REMOVE vp a name Ann"),
        (2, 2, "ADD vp a name Anna"),
        (2, 3, "REMOVE vl a label Admin"),
        (2, 4, "ADD vl a label Vip"),
        (2, 5, "REMOVE ep r since 2020"),
        (2, 6, "ADD ep r weight 0.5"),
        (3, 1, "REMOVE ep r weight 0.5"),
        (3, 2, "REMOVE e r label KNOWS a->b"),
        (3, 3, "REMOVE vp a name Anna"),
        (3, 4, "REMOVE vp a tags x"),
        (3, 5, "REMOVE vp a tags y"),
        (3, 6, "REMOVE vl a label Person"),
        (3, 7, "REMOVE vl a label Vip"),
    ];
    let want: Vec<(u64, u64, String)> = expected
        .iter()
        .map(|(c, o, s)| (*c, *o, s.to_string()))
        .collect();
    assert_eq!(lines(&recs), want);
    // isLastOp exactly on each transaction's last record; one timestamp per commit.
    let last: Vec<(u64, u64)> = recs
        .iter()
        .filter(|r| r.is_last_op)
        .map(|r| (r.event.commit_num, r.event.op_num))
        .collect();
    assert_eq!(last, vec![(1, 8), (2, 6), (3, 7)]);
    for w in recs.windows(2) {
        assert!(w[0].commit_timestamp_ms <= w[1].commit_timestamp_ms);
        if w[0].event.commit_num == w[1].event.commit_num {
            assert_eq!(w[0].commit_timestamp_ms, w[1].commit_timestamp_ms);
        }
    }
    let e = &recs[6];
    assert_eq!((e.kind, e.op), (ChangeKind::Relationship, ChangeOp::Add));
    assert_eq!(e.value, s("KNOWS"));
}

#[test]
fn generated_ids_are_the_ids_queries_see_even_after_a_delete() {
    let store = Store::open(&StoreConfig::in_memory()).unwrap();
    store.enable_streams(DEFAULT_STREAM_EXPIRY).unwrap();
    let mut ids = (String::new(), String::new());
    write(&store, |t| {
        let l = t.intern_label("L");
        let ty = t.intern_type("T");
        let a = t.create_node(&[l], vec![], None).unwrap();
        let r = t.create_rel(a, a, ty, vec![], None).unwrap();
        ids = (
            t.node_external_id(a).unwrap().to_string(),
            t.rel_external_id(r).unwrap().to_string(),
        );
    });
    write(&store, |t| {
        let r = t.rel_by_external_id(&ids.1).unwrap();
        t.delete_rel(r).unwrap();
        let a = t.node_by_external_id(&ids.0).unwrap();
        t.delete_node(a).unwrap();
    });
    let recs = all(&store);
    assert_eq!(recs.len(), 4);
    assert_eq!(recs[0].id, ids.0);
    assert_eq!(recs[1].id, ids.1);
    assert_eq!(recs[1].from.as_deref(), Some(ids.0.as_str()));
    assert_eq!(recs[2].id, ids.1);
    assert_eq!(recs[3].id, ids.0);
}

#[test]
fn rolled_back_transactions_and_failed_changes_never_appear() {
    let store = Store::open(&StoreConfig::in_memory()).unwrap();
    store.enable_streams(DEFAULT_STREAM_EXPIRY).unwrap();
    write(&store, |t| node(t, "a", &["A"], &[]));
    {
        let mut t = store.begin_write(&CancelToken::none()).unwrap();
        node(&mut t, "gone", &["A"], &[("x", Value::Int(1))]);
        // Dropped: rolled back.
    }
    write(&store, |t| {
        let l = t.intern_label("A");
        // A duplicate id fails and leaves nothing behind; the transaction goes on.
        assert!(t.create_node(&[l], vec![], Some("a".into())).is_err());
        node(t, "b", &["A"], &[]);
    });
    // A transaction that only interns names or creates an index has no commit number.
    write(&store, |t| {
        let l = t.intern_label("Other");
        let k = t.intern_key("k");
        t.create_index(l, k).unwrap();
    });
    write(&store, |t| node(t, "c", &["A"], &[]));
    assert_eq!(
        lines(&all(&store)),
        vec![
            (1, 1, "ADD vl a label A".to_string()),
            (2, 1, "ADD vl b label A".to_string()),
            (3, 1, "ADD vl c label A".to_string()),
        ]
    );
}

#[test]
fn without_streams_nothing_is_recorded_and_reads_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig::at(dir.path())).unwrap();
    write(&store, |t| node(t, "a", &["A"], &[]));
    let err = store
        .streams()
        .read(StreamStart::TrimHorizon, 10, NO_CAP)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::UnsupportedOperation);
    assert!(!dir.path().join("streams").exists());
    // Enabled later: the stream starts with the next commit.
    store.enable_streams(DEFAULT_STREAM_EXPIRY).unwrap();
    write(&store, |t| node(t, "b", &["A"], &[]));
    assert_eq!(
        lines(&all(&store)),
        vec![(1, 1, "ADD vl b label A".to_string())]
    );
}

#[test]
fn records_survive_restarts_and_checkpoints_and_numbering_continues() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = durable(dir.path());
        write(&store, |t| node(t, "a", &["A"], &[("v", Value::Int(1))]));
        store.checkpoint().unwrap();
        write(&store, |t| node(t, "b", &["A"], &[]));
        store.checkpoint().unwrap();
        store.checkpoint().unwrap(); // the log of the first two commits is gone now
        write(&store, |t| node(t, "c", &["A"], &[]));
    }
    let store = durable(dir.path());
    let before = lines(&all(&store));
    assert_eq!(
        before,
        vec![
            (1, 1, "ADD vl a label A".to_string()),
            (1, 2, "ADD vp a v 1".to_string()),
            (2, 1, "ADD vl b label A".to_string()),
            (3, 1, "ADD vl c label A".to_string()),
        ]
    );
    write(&store, |t| node(t, "d", &["A"], &[]));
    drop(store);
    // Reopened without enabling: the stream is kept (not served, not recorded) ...
    {
        let store = Store::open(&StoreConfig::at(dir.path())).unwrap();
        write(&store, |t| node(t, "unrecorded", &["A"], &[]));
    }
    // ... and enabled again it continues the numbering.
    let store = durable(dir.path());
    write(&store, |t| node(t, "e", &["A"], &[]));
    let after = lines(&all(&store));
    assert_eq!(after.len(), 6);
    assert_eq!(after[4], (4, 1, "ADD vl d label A".to_string()));
    assert_eq!(after[5], (5, 1, "ADD vl e label A".to_string()));
}

fn stream_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir.join("streams"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    v.sort();
    v
}

#[test]
fn a_stream_tail_lost_in_a_crash_is_restored_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let header_only;
    {
        let store = durable(dir.path());
        header_only = std::fs::metadata(&stream_files(dir.path())[0])
            .unwrap()
            .len();
        for i in 0..5 {
            write(&store, |t| node(t, &format!("n{i}"), &["A"], &[]));
        }
    }
    let full = lines(&{
        let store = durable(dir.path());
        all(&store)
    });
    assert_eq!(full.len(), 5);
    // A machine crash can lose the unsynced tail of the stream file; the log has it.
    for cut in [header_only, header_only + 3] {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(&stream_files(dir.path())[0])
            .unwrap();
        f.set_len(cut).unwrap();
        drop(f);
        let store = durable(dir.path());
        assert!(
            store
                .open_report()
                .messages
                .iter()
                .any(|m| m.contains("restored")),
            "{:?}",
            store.open_report()
        );
        assert_eq!(lines(&all(&store)), full);
    }
}

#[test]
fn stream_records_of_commits_the_log_lost_are_cut() {
    let dir = tempfile::tempdir().unwrap();
    let early = tempfile::tempdir().unwrap();
    {
        let store = durable(dir.path());
        for i in 0..3 {
            write(&store, |t| node(t, &format!("n{i}"), &["A"], &[]));
        }
    }
    copy_dir(dir.path(), early.path());
    {
        let store = durable(dir.path());
        for i in 3..6 {
            write(&store, |t| node(t, &format!("n{i}"), &["A"], &[]));
        }
    }
    // The early log with the later stream: as if the last three log records had not
    // reached the disk while the stream's had.
    let later = stream_files(dir.path());
    std::fs::copy(
        &later[0],
        early
            .path()
            .join("streams")
            .join(later[0].file_name().unwrap()),
    )
    .unwrap();
    let store = durable(early.path());
    let recs = lines(&all(&store));
    assert_eq!(recs.len(), 3, "{recs:?}");
    write(&store, |t| node(t, "x", &["A"], &[]));
    assert_eq!(
        lines(&all(&store))[3],
        (4, 1, "ADD vl x label A".to_string())
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else if e.file_name() != "LOCK" {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn expired_records_are_refused_and_trim_horizon_skips_them() {
    let store = Store::open(&StoreConfig::in_memory()).unwrap();
    store.enable_streams(Duration::from_millis(300)).unwrap();
    write(&store, |t| node(t, "old", &["A"], &[]));
    std::thread::sleep(Duration::from_millis(400));
    write(&store, |t| node(t, "new", &["A"], &[]));
    let err = store
        .streams()
        .read(
            StreamStart::At(EventId {
                commit_num: 1,
                op_num: 1,
            }),
            10,
            NO_CAP,
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ExpiredStream, "{err:?}");
    let page = store
        .streams()
        .read(StreamStart::TrimHorizon, 10, NO_CAP)
        .unwrap();
    assert_eq!(
        lines(&page.records),
        vec![(2, 1, "ADD vl new label A".to_string())]
    );
    // After the expired record, nothing is missing: reading on from it works.
    let after = store
        .streams()
        .read(
            StreamStart::After(EventId {
                commit_num: 1,
                op_num: 1,
            }),
            10,
            NO_CAP,
        )
        .unwrap();
    assert_eq!(after.records.len(), 1);
    std::thread::sleep(Duration::from_millis(400));
    let err = store
        .streams()
        .read(StreamStart::Latest, 10, NO_CAP)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::StreamRecordsNotFound);
    let err = store
        .streams()
        .read(StreamStart::TrimHorizon, 10, NO_CAP)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::StreamRecordsNotFound);
}

#[test]
fn a_fast_reset_clears_the_stream_and_the_numbering_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = durable(dir.path());
        write(&store, |t| node(t, "a", &["A"], &[("p", Value::Int(1))]));
        store.reset().unwrap();
        let err = store
            .streams()
            .read(StreamStart::TrimHorizon, 10, NO_CAP)
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::StreamRecordsNotFound);
        assert!(
            err.message.contains("commitNum = 1, opNum = 2"),
            "{}",
            err.message
        );
        let err = store
            .streams()
            .read(
                StreamStart::At(EventId {
                    commit_num: 1,
                    op_num: 1,
                }),
                10,
                NO_CAP,
            )
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::ExpiredStream);
        assert_eq!(
            store
                .streams()
                .read(StreamStart::Latest, 1, NO_CAP)
                .unwrap_err()
                .code,
            ErrorCode::StreamRecordsNotFound
        );
        write(&store, |t| node(t, "b", &["B"], &[]));
        // A consumer that had read everything sees the new graph's first change next.
        let next = store
            .streams()
            .read(
                StreamStart::After(EventId {
                    commit_num: 1,
                    op_num: 2,
                }),
                10,
                NO_CAP,
            )
            .unwrap();
        assert_eq!(
            lines(&next.records),
            vec![(2, 1, "ADD vl b label B".to_string())]
        );
    }
    // Only the new generation's segment is left.
    assert_eq!(stream_files(dir.path()).len(), 1);
    let store = durable(dir.path());
    assert_eq!(
        lines(&all(&store)),
        vec![(2, 1, "ADD vl b label B".to_string())]
    );
    // An in-memory store too.
    let mem = Store::open(&StoreConfig::in_memory()).unwrap();
    mem.enable_streams(DEFAULT_STREAM_EXPIRY).unwrap();
    write(&mem, |t| node(t, "a", &["A"], &[]));
    mem.reset().unwrap();
    assert!(all(&mem).is_empty());
    write(&mem, |t| node(t, "b", &["A"], &[]));
    assert_eq!(
        lines(&all(&mem)),
        vec![(2, 1, "ADD vl b label A".to_string())]
    );
}

#[test]
fn paging_by_position_reads_every_record_once_even_inside_a_large_commit() {
    let store = Store::open(&StoreConfig::in_memory()).unwrap();
    store.enable_streams(DEFAULT_STREAM_EXPIRY).unwrap();
    for c in 0..5 {
        write(&store, |t| {
            // Commit 3 has 2,500 records: readers jump inside it by op number.
            let n = if c == 2 { 2500 } else { 3 };
            for i in 0..n {
                node(t, &format!("c{c}n{i}"), &["A"], &[]);
            }
        });
    }
    let everything = all(&store);
    assert_eq!(everything.len(), 2512);
    for limit in [1, 7, 1000] {
        let mut got = Vec::new();
        let mut at = store
            .streams()
            .read(StreamStart::TrimHorizon, limit, NO_CAP)
            .unwrap();
        loop {
            got.extend(at.records.iter().cloned());
            match store
                .streams()
                .read(StreamStart::After(at.last_event), limit, NO_CAP)
            {
                Ok(p) => at = p,
                Err(e) => {
                    assert_eq!(e.code, ErrorCode::StreamRecordsNotFound);
                    assert!(
                        e.message.contains("commitNum = 5, opNum = 3"),
                        "{}",
                        e.message
                    );
                    break;
                }
            }
        }
        assert_eq!(got, everything, "limit {limit}");
    }
    for op in [1, 1024, 1025, 2049, 2500] {
        let p = store
            .streams()
            .read(
                StreamStart::At(EventId {
                    commit_num: 3,
                    op_num: op,
                }),
                2,
                NO_CAP,
            )
            .unwrap();
        assert_eq!(
            p.records[0].event,
            EventId {
                commit_num: 3,
                op_num: op
            }
        );
        assert_eq!(p.records[0].id, format!("c2n{}", op - 1));
    }
    // Past a commit's last op: the next commit.
    let p = store
        .streams()
        .read(
            StreamStart::At(EventId {
                commit_num: 3,
                op_num: 9999,
            }),
            1,
            NO_CAP,
        )
        .unwrap();
    assert_eq!(
        p.records[0].event,
        EventId {
            commit_num: 4,
            op_num: 1
        }
    );
    // The size cap stops after the record that crosses it.
    let p = store
        .streams()
        .read(StreamStart::TrimHorizon, 100, 1)
        .unwrap();
    assert_eq!(p.records.len(), 1);
    // LATEST: exactly the newest record.
    let p = store
        .streams()
        .read(StreamStart::Latest, 100, NO_CAP)
        .unwrap();
    assert_eq!(p.records.len(), 1);
    assert_eq!(
        p.last_event,
        EventId {
            commit_num: 5,
            op_num: 3
        }
    );
    assert!(p.records[0].is_last_op);
    // Commit 0 is before the first commit: reading starts at the beginning.
    let p = store
        .streams()
        .read(
            StreamStart::At(EventId {
                commit_num: 0,
                op_num: 1,
            }),
            1,
            NO_CAP,
        )
        .unwrap();
    assert_eq!(
        p.last_event,
        EventId {
            commit_num: 1,
            op_num: 1
        }
    );
}

#[test]
fn a_concurrent_reader_sees_each_commit_once_in_order_while_writers_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(durable(dir.path()));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    write(&store, |t| {
                        node(t, &format!("w{w}i{i}"), &["A"], &[("i", Value::Int(i))]);
                    });
                }
            })
        })
        .collect();
    let mut seen = Vec::new();
    let mut last = EventId::default();
    let mut done = false;
    while !done {
        done = writers.iter().all(|w| w.is_finished());
        loop {
            match store.streams().read(StreamStart::After(last), 37, NO_CAP) {
                Ok(p) => {
                    last = p.last_event;
                    seen.extend(p.records);
                }
                Err(e) => {
                    assert_eq!(e.code, ErrorCode::StreamRecordsNotFound);
                    break;
                }
            }
        }
    }
    for w in writers {
        w.join().unwrap();
    }
    assert_eq!(seen.len(), 400);
    for (i, pair) in seen.chunks(2).enumerate() {
        assert_eq!(
            pair[0].event,
            EventId {
                commit_num: i as u64 + 1,
                op_num: 1
            }
        );
        assert_eq!(pair[1].event.op_num, 2);
        assert_eq!(pair[0].id, pair[1].id);
    }
    // The stream rebuilds the graph: one node per commit, every one present.
    let snap = store.snapshot();
    for pair in seen.chunks(2) {
        assert!(snap.node_by_external_id(&pair[0].id).is_some());
    }
    assert_eq!(snap.node_count(), 200);
}

#[test]
fn a_data_directory_of_format_1_opens_and_moves_on_to_format_2() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/format-1");
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&fixture).unwrap() {
        let e = e.unwrap();
        if e.file_name() != "README.md" {
            std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
        }
    }
    let check = |store: &Store, nodes: u64| {
        let snap = store.snapshot();
        assert_eq!(snap.node_count(), nodes);
        assert_eq!(snap.rel_count(), 1);
        let p2 = snap.node_by_external_id("p2").unwrap();
        let age = snap.key_id("age").unwrap();
        assert_eq!(snap.node_property(p2, age), Some(Value::Int(40)));
        let employee = snap.label_id("Employee").unwrap();
        assert!(snap.node_has_label(p2, employee));
    };
    {
        let store = durable(dir.path());
        check(&store, 3);
        write(&store, |t| node(t, "new", &["A"], &[]));
        assert_eq!(
            lines(&all(&store)),
            vec![(1, 1, "ADD vl new label A".to_string())]
        );
    }
    // The old segment is kept as it was; new records went to a new one.
    let wal: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("wal-"))
        .collect();
    assert!(
        wal.contains(&"wal-00000000000000000004.log".to_string()),
        "{wal:?}"
    );
    let old = std::fs::read(dir.path().join("wal-00000000000000000003.log")).unwrap();
    assert_eq!(
        old,
        std::fs::read(fixture.join("wal-00000000000000000003.log")).unwrap()
    );
    let store = durable(dir.path());
    check(&store, 4);
    assert!(store.snapshot().node_by_external_id("new").is_some());
    assert_eq!(all(&store).len(), 1);
}
