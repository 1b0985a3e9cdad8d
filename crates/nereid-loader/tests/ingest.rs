//! Ingestion into a durable store: the loader's pipelined commits and other writers.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nereid_common::CancelToken;
use nereid_loader::ingest::{ingest, Batch, BatchSink, FileEnd, IngestOptions};
use nereid_loader::{FileReader, Format};
use nereid_storage::{GraphRead, GraphWrite, Store, StoreConfig};

#[derive(Default)]
struct Sink {
    batches: Vec<Batch>,
    pending: bool,
}

impl BatchSink for Sink {
    fn before_commit(&mut self, _base_seq: u64, _records_through: u64) {
        // One batch in flight at a time, as the job record assumes.
        assert!(
            !self.pending,
            "a batch was logged before the previous one was reported"
        );
        self.pending = true;
    }

    fn committed(&mut self, batch: Batch) {
        assert!(self.pending);
        self.pending = false;
        self.batches.push(batch);
    }
}

fn write_file(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    path
}

/// Many small durable batches, pipelined: every one is reported once, in order, and never
/// logged before the previous one was reported (the sink checks); the data is all there
/// after a reopen; and a query's write transaction started during the load commits before
/// the load ends.
#[test]
fn pipelined_batches_are_reported_once_in_order_and_a_query_can_write_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig::at(dir.path().join("db"))).unwrap();
    let nodes: String = std::iter::once(":ID,:LABEL\n".to_string())
        .chain((0..400).map(|i| format!("n{i},N\n")))
        .collect();
    let rels: String = std::iter::once(":START_ID,:END_ID,:TYPE\n".to_string())
        .chain((0..6000).map(|i| format!("n{},n{},R\n", i % 400, (i * 7) % 400)))
        .collect();
    let nodes = write_file(dir.path(), "nodes.csv", &nodes);
    let rels = write_file(dir.path(), "rels.csv", &rels);
    let options = IngestOptions {
        format: Format::OpenCypher,
        fail_on_error: true,
        user_provided_edge_ids: false,
        batch_size: 50,
        update_single_cardinality_properties: false,
        pipelined: true,
    };
    let cancel = AtomicBool::new(false);
    let mut sink = Sink::default();
    let reader = FileReader::open(&nodes, Format::OpenCypher).unwrap();
    let end = ingest(&store, reader, "nodes.csv", 0, &options, &cancel, &mut sink).unwrap();
    assert_eq!(end, FileEnd::Done);

    let loading = AtomicBool::new(true);
    let (end, waited) = std::thread::scope(|scope| {
        let load = scope.spawn(|| {
            let reader = FileReader::open(&rels, Format::OpenCypher).unwrap();
            let end = ingest(&store, reader, "rels.csv", 0, &options, &cancel, &mut sink);
            loading.store(false, Ordering::SeqCst);
            end
        });
        // Once the load is under way, a query writes.
        while store.snapshot().rel_count() < 500 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let started = Instant::now();
        let mut txn = store.begin_write(&CancelToken::none()).unwrap();
        let during = loading.load(Ordering::SeqCst);
        let l = txn.intern_label("Q");
        txn.create_node(&[l], vec![], Some("q".into())).unwrap();
        txn.commit().unwrap();
        (load.join().unwrap().unwrap(), (during, started.elapsed()))
    });
    assert_eq!(end, FileEnd::Done);
    assert!(
        waited.0,
        "the query's transaction had to wait for the whole load ({:?})",
        waited.1
    );
    // In order: records_through grows within each file, and every record is counted once.
    let through: Vec<u64> = sink.batches.iter().map(|b| b.records_through).collect();
    // The relationship file's batches start where records_through falls back.
    let rel_start = 1 + through.windows(2).position(|w| w[1] < w[0]).unwrap();
    assert!(through[..rel_start].windows(2).all(|w| w[0] <= w[1]));
    assert!(through[rel_start..].windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(
        (through[rel_start - 1], *through.last().unwrap()),
        (400, 6000)
    );
    let records: u64 = sink.batches.iter().map(|b| b.counts.total_records).sum();
    assert_eq!(records, 6400);
    assert!(through.len() >= 6400 / 50);
    let snap = store.snapshot();
    assert_eq!((snap.node_count(), snap.rel_count()), (401, 6000));
    drop(snap);
    drop(store);
    // Durable: the same after a reopen.
    let store = Store::open(&StoreConfig::at(dir.path().join("db"))).unwrap();
    assert_eq!(store.snapshot().rel_count(), 6000);
}

/// `parallelism` LOW reads, writes and waits on the calling thread: the same batches,
/// counts, error log and graph as the pipeline, also when resuming after `skip` records
/// and with relationships whose ends are missing.
#[test]
fn one_thread_loads_what_the_pipeline_loads() {
    let dir = tempfile::tempdir().unwrap();
    let nodes: String = std::iter::once(":ID,name:String,:LABEL\n".to_string())
        .chain((0..3000).map(|i| format!("n{i},name {i},N\n")))
        .collect();
    // Every 97th relationship names a node that does not exist.
    let rels: String = std::iter::once(":START_ID,:END_ID,:TYPE,w:Int\n".to_string())
        .chain((0..9000).map(|i| {
            let end = if i % 97 == 0 {
                "missing".to_string()
            } else {
                format!("n{}", (i * 13) % 3000)
            };
            format!("n{},{end},R,{i}\n", i % 3000)
        }))
        .collect();
    let nodes = write_file(dir.path(), "nodes.csv", &nodes);
    let rels = write_file(dir.path(), "rels.csv", &rels);
    let run = |pipelined: bool| {
        let store =
            Store::open(&StoreConfig::at(dir.path().join(format!("db-{pipelined}")))).unwrap();
        let options = IngestOptions {
            format: Format::OpenCypher,
            fail_on_error: false,
            user_provided_edge_ids: false,
            batch_size: 700,
            update_single_cardinality_properties: false,
            pipelined,
        };
        let cancel = AtomicBool::new(false);
        let mut sink = Sink::default();
        for (path, skip) in [(&nodes, 0), (&rels, 0), (&rels, 5000)] {
            let reader = FileReader::open(path, Format::OpenCypher).unwrap();
            let end = ingest(&store, reader, "f", skip, &options, &cancel, &mut sink).unwrap();
            assert_eq!(end, FileEnd::Done);
        }
        let batches: Vec<_> = sink
            .batches
            .iter()
            .map(|b| (b.records_through, b.counts, b.errors.clone()))
            .collect();
        let snap = store.snapshot();
        let mut weights = Vec::new();
        let w = snap.key_id("w").unwrap();
        for r in 0..snap.rel_count() + 100 {
            if let Some(v) = snap.rel_property(nereid_value::RelId(r), w) {
                weights.push(v);
            }
        }
        (batches, snap.node_count(), snap.rel_count(), weights)
    };
    let one = run(false);
    let pipeline = run(true);
    assert_eq!(one.1, 3000);
    // 9000 + 4000 resumed, less the 93 + 41 with a missing end.
    assert_eq!(one.2, 9000 - 93 + 4000 - 41);
    assert_eq!(one.3.len() as u64, one.2);
    let errors: usize = one.0.iter().map(|b| b.2.len()).sum();
    assert_eq!(errors, 93 + 41);
    assert_eq!(one, pipeline);
}
