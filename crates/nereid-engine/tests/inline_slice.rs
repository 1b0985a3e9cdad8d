//! Queries started on the caller's thread (`QueryManager::run_or_submit`) against the real
//! database: one that outlasts its time slice is stopped and run again on a worker, so a
//! write must take effect exactly once and a read must answer as if it ran in one go.

use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use nereid_common::Error;
use nereid_engine::manager::{Completion, ManagerConfig, Protocol, QueryManager};
use nereid_engine::{Database, QueryResult};
use nereid_value::{Map, Value};

fn run(
    manager: &QueryManager<Database>,
    id: &str,
    text: &str,
) -> Receiver<Result<QueryResult, Error>> {
    let (tx, rx) = channel();
    let done: Completion = Box::new(move |outcome| {
        let _ = tx.send(outcome);
    });
    manager
        .run_or_submit(Protocol::Http, id.to_owned(), text, Map::new(), done)
        .expect("accepted");
    rx
}

fn rows(rx: Receiver<Result<QueryResult, Error>>) -> Vec<Vec<Value>> {
    rx.recv_timeout(Duration::from_secs(60))
        .expect("answered")
        .expect("succeeds")
        .rows
}

#[test]
fn a_write_that_outlasts_its_slice_takes_effect_once_and_reads_answer_whole() {
    let manager = QueryManager::new(
        Database::in_memory(),
        ManagerConfig {
            workers: 2,
            queue_size: 8,
            query_timeout_ms: 0,
        },
    )
    .expect("starts");
    // Far more than a millisecond of work: started here, rolled back at the end of its
    // slice, then run again on a worker.
    let write = "UNWIND range(1, 50000) AS i CREATE (:W {i: i}) RETURN count(*) AS c";
    let created = rows(run(&manager, "big-write", write));
    assert_eq!(created, vec![vec![Value::Int(50_000)]]);
    // A second long write, into a graph it no longer doubles (so its plan stays cached).
    // One overrun (a first run on cold caches, say) sends the next run nowhere else; the
    // second in a row sends the next runs to workers, which shows both overran.
    let more = "UNWIND range(1, 20000) AS i CREATE (:V {i: i})";
    assert_eq!(
        rows(run(&manager, "more-1", more)),
        Vec::<Vec<Value>>::new()
    );
    let cached_more = manager.runner().prepare(more).expect("cached");
    assert!(!cached_more.goes_to_worker());
    assert_eq!(
        rows(run(&manager, "more-2", more)),
        Vec::<Vec<Value>>::new()
    );
    assert!(cached_more.goes_to_worker());
    assert_eq!(
        rows(run(&manager, "count-v", "MATCH (v:V) RETURN count(v) AS c")),
        vec![vec![Value::Int(40_000)]]
    );
    let count = "MATCH (w:W) RETURN count(w) AS c, sum(w.i) AS s";
    let expected = vec![vec![Value::Int(50_000), Value::Int(50_000 * 50_001 / 2)]];
    assert_eq!(rows(run(&manager, "count-1", count)), expected);
    // A long read (no seek, so no index to build); every run answers in full.
    let scan = "MATCH (w:W) UNWIND range(1, 20) AS k RETURN sum((w.i + k) % 7) AS s";
    let total = (1..=50_000i64)
        .flat_map(|i| (1..=20).map(move |k| (i + k) % 7))
        .sum();
    let sum = vec![vec![Value::Int(total)]];
    assert_eq!(rows(run(&manager, "scan-1", scan)), sum);
    let cached = manager.runner().prepare(scan).expect("cached");
    assert!(!cached.goes_to_worker());
    // Its second overrun in a row sends the next 16 runs to workers at once; this check
    // counts them; after them a run tries the caller's thread again (a short query
    // preempted on a busy machine keeps its fast path).
    assert_eq!(rows(run(&manager, "scan-2", scan)), sum);
    assert_eq!((0..20).take_while(|_| cached.goes_to_worker()).count(), 16);
    assert_eq!(rows(run(&manager, "scan-3", scan)), sum);
    // A short query is still answered in place, before `run_or_submit` returns.
    let rx = run(&manager, "short", "RETURN 1 AS x");
    let answer = rx.try_recv().expect("answered in place").expect("succeeds");
    assert!(!manager
        .runner()
        .prepare("RETURN 1 AS x")
        .expect("cached")
        .goes_to_worker());
    assert_eq!(answer.rows, vec![vec![Value::Int(1)]]);
    assert_eq!(rows(run(&manager, "count-2", count)), expected);
}

#[test]
fn a_lookup_that_gives_its_slice_up_to_build_an_index_keeps_the_fast_path() {
    let manager =
        QueryManager::new(Database::in_memory(), ManagerConfig::default()).expect("starts");
    rows(run(
        &manager,
        "load",
        "UNWIND range(1, 5000) AS i CREATE (:P {id: i})",
    ));
    let lookup = "MATCH (p:P {id: 4321}) RETURN p.id AS id";
    // The first run builds the automatic index on (P, id), on a worker.
    assert_eq!(
        rows(run(&manager, "first", lookup)),
        vec![vec![Value::Int(4321)]]
    );
    use nereid_storage::GraphRead;
    assert_eq!(
        manager.runner().store().snapshot().property_indexes().len(),
        1
    );
    // It is not counted as a long query: the next run is answered in place.
    let rx = run(&manager, "second", lookup);
    let answer = rx.try_recv().expect("answered in place").expect("succeeds");
    assert_eq!(answer.rows, vec![vec![Value::Int(4321)]]);
}
