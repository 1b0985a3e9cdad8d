//! Segment-level behaviour with small segments: rolling, reading across segments, reopening
//! many segments, expiry deleting whole segments, and visibility before durability.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use nereid_common::{CancelToken, ErrorCode};
use nereid_value::Value;

use super::memfs::MemFs;
use super::record::StreamBuf;
use super::{EventId, StreamLog, StreamStart, DEFAULT_EXPIRY};
use crate::graph::{DictKind, Graph, Op};
use crate::{GraphWrite, Store, StoreConfig};

fn write_nodes(store: &Store, from: usize, n: usize) {
    for i in from..from + n {
        let mut t = store.begin_write(&CancelToken::none()).unwrap();
        let l = t.intern_label("L");
        let k = t.intern_key("pad");
        t.create_node(
            &[l],
            vec![(k, Value::String("x".repeat(200)))],
            Some(format!("n{i}")),
        )
        .unwrap();
        t.commit().unwrap();
    }
}

fn small_segments(store: &Store) {
    store
        .stream_log()
        .unwrap()
        .segment_bytes
        .store(2048, Ordering::Relaxed);
}

fn ids(store: &Store, start: StreamStart) -> Vec<String> {
    let page = store.streams().read(start, 100_000, usize::MAX).unwrap();
    page.records
        .iter()
        .filter(|r| r.key == "label")
        .map(|r| r.id.clone())
        .collect()
}

fn segments(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir.join("streams"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".log")
        })
        .count()
}

#[test]
fn many_segments_read_as_one_stream_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let expected: Vec<String> = (0..60).map(|i| format!("n{i}")).collect();
    {
        let store = Store::open(&StoreConfig::at(dir.path())).unwrap();
        store.enable_streams(DEFAULT_EXPIRY).unwrap();
        small_segments(&store);
        write_nodes(&store, 0, 60);
        assert!(segments(dir.path()) > 5);
        assert_eq!(ids(&store, StreamStart::TrimHorizon), expected);
        // Starting in any segment finds the right commit.
        for c in [1u64, 17, 33, 60] {
            let got = ids(
                &store,
                StreamStart::At(EventId {
                    commit_num: c,
                    op_num: 1,
                }),
            );
            assert_eq!(got[0], format!("n{}", c - 1));
            assert_eq!(got.len(), 61 - c as usize);
        }
        store.checkpoint().unwrap();
        store.checkpoint().unwrap();
    }
    let store = Store::open(&StoreConfig::at(dir.path())).unwrap();
    store.enable_streams(DEFAULT_EXPIRY).unwrap();
    assert_eq!(ids(&store, StreamStart::TrimHorizon), expected);
    assert_eq!(
        ids(
            &store,
            StreamStart::At(EventId {
                commit_num: 45,
                op_num: 2
            })
        )[0],
        "n45"
    );
}

#[test]
fn expiry_deletes_whole_old_segments_and_the_numbering_survives_it() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(&StoreConfig::at(dir.path())).unwrap();
        store.enable_streams(Duration::from_millis(200)).unwrap();
        small_segments(&store);
        write_nodes(&store, 0, 30);
        let before = segments(dir.path());
        assert!(before > 3);
        std::thread::sleep(Duration::from_millis(300));
        // Everything has expired: reads say so, and all but the newest segment go.
        let err = store
            .streams()
            .read(StreamStart::TrimHorizon, 10, usize::MAX)
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::StreamRecordsNotFound);
        assert_eq!(segments(dir.path()), 1);
        let err = store
            .streams()
            .read(
                StreamStart::At(EventId {
                    commit_num: 2,
                    op_num: 1,
                }),
                10,
                usize::MAX,
            )
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::ExpiredStream, "{err:?}");
    }
    let store = Store::open(&StoreConfig::at(dir.path())).unwrap();
    store.enable_streams(Duration::from_secs(3600)).unwrap();
    write_nodes(&store, 30, 1);
    let page = store
        .streams()
        .read(StreamStart::TrimHorizon, 100, usize::MAX)
        .unwrap();
    // The commits of the surviving (newest) segment are unexpired again under the longer
    // retention; numbering continued after them.
    let last = page.records.last().unwrap();
    assert_eq!(last.id, "n30");
    assert_eq!(last.event.commit_num, 31);
}

fn log_with_label() -> (StreamLog, Arc<Graph>) {
    let mut g = Graph::new(99);
    g.apply(Op::Dict {
        kind: DictKind::Label,
        id: 0,
        name: "L".into(),
    })
    .unwrap();
    let log =
        StreamLog::create(Arc::new(MemFs::default()), "/streams".into(), false, 99, 0).unwrap();
    log.enable(DEFAULT_EXPIRY);
    (log, Arc::new(g))
}

fn section_for(log: &StreamLog, g: &Graph, id: u64, seq: u64) -> super::record::Section {
    let mut buf: StreamBuf = log.buffer();
    buf.record(
        &Op::CreateNode {
            id,
            labels: vec![0].into(),
            props: Default::default(),
            ext: None,
        },
        g,
    );
    log.section(buf, seq, SystemTime::now()).unwrap()
}

#[test]
fn a_commit_is_served_only_once_it_is_published() {
    let (log, g) = log_with_label();
    let s1 = section_for(&log, &g, 0, 1);
    log.append(&s1).unwrap();
    let s2 = section_for(&log, &g, 1, 2);
    log.append(&s2).unwrap();
    let read = |start| {
        log.read(
            start,
            10,
            usize::MAX,
            super::millis(SystemTime::now()),
            &|| Arc::clone(&g),
        )
    };
    let err = read(StreamStart::TrimHorizon).unwrap_err();
    assert_eq!(err.code, ErrorCode::StreamRecordsNotFound);
    assert_eq!(
        read(StreamStart::Latest).unwrap_err().code,
        ErrorCode::StreamRecordsNotFound
    );
    log.publish(1);
    let page = read(StreamStart::TrimHorizon).unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(read(StreamStart::Latest).unwrap().last_event.commit_num, 1);
    log.publish(2);
    assert_eq!(read(StreamStart::TrimHorizon).unwrap().records.len(), 2);
    assert_eq!(read(StreamStart::Latest).unwrap().last_event.commit_num, 2);
    // Generated ids come from the graph's salt.
    assert_eq!(page.records[0].id, g.node_codec.encode(0));
}

#[test]
fn a_graph_of_another_generation_is_not_used_to_name_records() {
    let (log, g) = log_with_label();
    let s = section_for(&log, &g, 0, 1);
    log.append(&s).unwrap();
    log.publish(1);
    let other = Arc::new(Graph::new(7));
    let err = log
        .read(
            StreamStart::TrimHorizon,
            10,
            usize::MAX,
            super::millis(SystemTime::now()),
            &|| Arc::clone(&other),
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Throttling);
}
