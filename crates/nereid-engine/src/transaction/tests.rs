//! Interactive transactions against the real store: visibility, atomicity, durability,
//! isolation, failure and timeout.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nereid_common::{CancelToken, ErrorCode};
use nereid_value::{Map, Value};

use super::*;
use crate::DbConfig;

fn db() -> Database {
    Database::in_memory()
}

fn run(db: &Database, txn: &Transaction, query: &str) -> Result<QueryResult, Error> {
    let prepared = db.prepare(query)?;
    db.execute_in(
        txn,
        &prepared,
        &Map::new(),
        &CancelToken::none(),
        None,
        None,
    )
}

fn count(db: &Database, label: &str) -> i64 {
    let r = db
        .execute(
            &format!("MATCH (n:{label}) RETURN count(n) AS c"),
            &Map::new(),
            &CancelToken::none(),
        )
        .expect("count runs");
    match r.rows[0][0] {
        Value::Int(c) => c,
        ref other => panic!("count is {other:?}"),
    }
}

fn count_in(db: &Database, txn: &Transaction, label: &str) -> i64 {
    let r = run(db, txn, &format!("MATCH (n:{label}) RETURN count(n) AS c")).expect("runs");
    match r.rows[0][0] {
        Value::Int(c) => c,
        ref other => panic!("count is {other:?}"),
    }
}

fn write_txn(db: &Database) -> Transaction {
    db.begin_transaction(TxnOptions::default()).expect("begins")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "nereid-txn-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn own_writes_are_visible_inside_and_nothing_outside_until_commit() {
    let db = db();
    let txn = write_txn(&db);
    run(&db, &txn, "CREATE (:A {v: 1})").unwrap();
    run(&db, &txn, "MATCH (a:A) CREATE (a)-[:R]->(:B)").unwrap();
    assert_eq!(count_in(&db, &txn, "A"), 1);
    assert_eq!(count_in(&db, &txn, "B"), 1);
    // Readers outside see nothing, and are not blocked by the open writer.
    assert_eq!(count(&db, "A"), 0);
    let info = txn.commit().unwrap();
    assert!(info.wrote);
    assert_eq!(info.seq, db.store().snapshot().seq());
    assert_eq!(count(&db, "A"), 1);
    assert_eq!(count(&db, "B"), 1);
    assert!(!txn.is_open());
}

#[test]
fn rollback_and_dropping_the_last_handle_leave_nothing() {
    let db = db();
    let txn = write_txn(&db);
    run(&db, &txn, "CREATE (:A), (:A)").unwrap();
    txn.rollback();
    assert_eq!(count(&db, "A"), 0);
    let e = run(&db, &txn, "RETURN 1").unwrap_err();
    assert!(e.message.contains("rolled back"), "{}", e.message);
    assert!(txn.commit().is_err());

    let txn = write_txn(&db);
    run(&db, &txn, "CREATE (:A)").unwrap();
    drop(txn);
    assert_eq!(count(&db, "A"), 0);
    // The writer role was given back: an auto-commit write goes through at once.
    db.execute("CREATE (:A)", &Map::new(), &CancelToken::none())
        .unwrap();
    assert_eq!(count(&db, "A"), 1);
}

#[test]
fn commit_is_one_durable_log_record_found_after_reopen() {
    let dir = temp_dir("durable");
    {
        let db = Database::open(DbConfig {
            data_dir: Some(dir.clone()),
        })
        .unwrap();
        let txn = write_txn(&db);
        for i in 0..5 {
            run(&db, &txn, &format!("CREATE (:D {{i: {i}}})")).unwrap();
        }
        let before = db.store().io_stats().unwrap().wal_bytes;
        assert_eq!(before, 0, "nothing is logged before commit");
        txn.commit().unwrap();
        assert!(db.store().io_stats().unwrap().wal_bytes > 0);
    }
    let db = Database::open(DbConfig {
        data_dir: Some(dir.clone()),
    })
    .unwrap();
    assert_eq!(db.store().open_report().replayed, 1);
    assert_eq!(count(&db, "D"), 5);
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn readers_see_one_snapshot_and_never_uncommitted_data() {
    let db = db();
    db.execute("CREATE (:A)", &Map::new(), &CancelToken::none())
        .unwrap();
    let reader = db
        .begin_transaction(TxnOptions {
            mode: TxnMode::Read,
            timeout: None,
        })
        .unwrap();
    assert_eq!(count_in(&db, &reader, "A"), 1);
    let writer = write_txn(&db);
    run(&db, &writer, "CREATE (:A)").unwrap();
    assert_eq!(count_in(&db, &reader, "A"), 1);
    writer.commit().unwrap();
    // Committed meanwhile, but the read transaction keeps the version it started on.
    assert_eq!(count_in(&db, &reader, "A"), 1);
    assert_eq!(count(&db, "A"), 2);
    assert!(!reader.commit().unwrap().wrote);
    // A transaction that did nothing reports the version it began on.
    let idle = write_txn(&db);
    let seq = db.store().snapshot().seq();
    assert_eq!(idle.commit().unwrap(), CommitInfo { seq, wrote: false });
}

#[test]
fn a_read_transaction_refuses_writes_and_stays_usable() {
    let db = db();
    let reader = db
        .begin_transaction(TxnOptions {
            mode: TxnMode::Read,
            timeout: None,
        })
        .unwrap();
    let e = run(&db, &reader, "CREATE (:A)").unwrap_err();
    assert_eq!(e.code, ErrorCode::ReadOnlyViolation);
    assert!(reader.is_open());
    assert_eq!(count_in(&db, &reader, "A"), 0);
}

#[test]
fn a_failed_statement_rolls_the_whole_transaction_back() {
    let db = db();
    let txn = write_txn(&db);
    run(&db, &txn, "CREATE (:A)").unwrap();
    let e = run(&db, &txn, "UNWIND [1, 0] AS x RETURN 1 / x").unwrap_err();
    assert!(e.message.to_lowercase().contains("zero"), "{e}");
    assert!(!txn.is_open());
    let e = run(&db, &txn, "RETURN 1").unwrap_err();
    assert!(
        e.message.contains("after a statement failed"),
        "{}",
        e.message
    );
    assert!(txn.commit().is_err());
    assert_eq!(count(&db, "A"), 0);
    db.execute("CREATE (:A)", &Map::new(), &CancelToken::none())
        .unwrap();
}

#[test]
fn the_timeout_rolls_back_an_idle_transaction_and_frees_the_writer_role() {
    let db = db();
    let txn = db
        .begin_transaction(TxnOptions {
            mode: TxnMode::Write,
            timeout: Some(Duration::from_millis(150)),
        })
        .unwrap();
    run(&db, &txn, "CREATE (:A)").unwrap();
    let started = Instant::now();
    // Waits for the writer role, which the reaper frees at the deadline.
    db.execute("CREATE (:B)", &Map::new(), &CancelToken::none())
        .unwrap();
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");
    assert!(!txn.is_open());
    let e = txn.commit().unwrap_err();
    assert_eq!(e.code, ErrorCode::TimeLimitExceeded, "{e}");
    assert!(e.message.contains("timeout of 150 ms"), "{}", e.message);
    assert_eq!(count(&db, "A"), 0);
    assert_eq!(count(&db, "B"), 1);
}

#[test]
fn the_timeout_stops_a_running_statement() {
    let db = db();
    let txn = db
        .begin_transaction(TxnOptions {
            mode: TxnMode::Write,
            timeout: Some(Duration::from_millis(200)),
        })
        .unwrap();
    run(&db, &txn, "CREATE (:A)").unwrap();
    let started = Instant::now();
    let e = run(
        &db,
        &txn,
        "UNWIND range(1, 2000000000) AS x RETURN count(x)",
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::TimeLimitExceeded, "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(count(&db, "A"), 0);
}

#[test]
fn a_second_writer_fails_with_a_retryable_conflict_after_the_lock_wait() {
    let db = db().with_lock_wait(Duration::from_millis(100));
    let holder = write_txn(&db);
    run(&db, &holder, "CREATE (:A)").unwrap();
    let started = Instant::now();
    let e = db
        .execute("CREATE (:B)", &Map::new(), &CancelToken::none())
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ConcurrentModification);
    assert!(e.code.info().retryable);
    assert!(e.code.info().bolt.starts_with("Neo.TransientError."));
    assert!(started.elapsed() >= Duration::from_millis(100));
    // Another transaction's first write too; its failure rolls it back.
    let other = write_txn(&db);
    let e = run(&db, &other, "CREATE (:C)").unwrap_err();
    assert_eq!(e.code, ErrorCode::ConcurrentModification);
    assert!(!other.is_open());
    // Reads are not blocked.
    assert_eq!(count(&db, "A"), 0);
    holder.commit().unwrap();
    // The retry succeeds once the holder committed.
    db.execute("CREATE (:B)", &Map::new(), &CancelToken::none())
        .unwrap();
    assert_eq!((count(&db, "A"), count(&db, "B")), (1, 1));
}

#[test]
fn a_writer_waiting_behind_the_transaction_gets_the_role_when_it_commits() {
    let db = std::sync::Arc::new(db());
    let holder = write_txn(&db);
    run(&db, &holder, "CREATE (:A)").unwrap();
    let (tx, rx) = mpsc::channel();
    let waiter = {
        let db = db.clone();
        std::thread::spawn(move || {
            let r = db.execute("MATCH (a:A) CREATE (:B)", &Map::new(), &CancelToken::none());
            tx.send(r.map(|_| ())).unwrap();
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    assert!(rx.try_recv().is_err(), "the second writer did not wait");
    holder.commit().unwrap();
    rx.recv_timeout(Duration::from_secs(5)).unwrap().unwrap();
    waiter.join().unwrap();
    // It ran after the commit, on the committed data.
    assert_eq!(count(&db, "B"), 1);
}

#[test]
fn writing_on_a_snapshot_another_commit_changed_is_a_conflict() {
    let db = db();
    let txn = write_txn(&db);
    assert_eq!(count_in(&db, &txn, "A"), 0);
    db.execute("CREATE (:A)", &Map::new(), &CancelToken::none())
        .unwrap();
    let e = run(&db, &txn, "CREATE (:A)").unwrap_err();
    assert_eq!(e.code, ErrorCode::ConcurrentModification);
    assert!(
        e.message.contains("committed after this one read"),
        "{}",
        e.message
    );
    assert_eq!(count(&db, "A"), 1);
    // Without an earlier read, the first write starts from the newest version.
    let txn = write_txn(&db);
    run(&db, &txn, "MATCH (a:A) SET a.seen = true").unwrap();
    txn.commit().unwrap();
    let r = db
        .execute(
            "MATCH (a:A) RETURN a.seen AS s",
            &Map::new(),
            &CancelToken::none(),
        )
        .unwrap();
    assert_eq!(r.rows, vec![vec![Value::Bool(true)]]);
}

#[test]
fn fast_reset_rolls_back_open_transactions() {
    let db = db();
    let txn = write_txn(&db);
    run(&db, &txn, "CREATE (:A)").unwrap();
    db.fast_reset().unwrap();
    let e = txn.commit().unwrap_err();
    assert_eq!(e.code, ErrorCode::CancelledByUser);
    assert_eq!(count(&db, "A"), 0);
}

#[test]
fn a_cancelled_statement_rolls_back() {
    let db = std::sync::Arc::new(db());
    let txn = write_txn(&db);
    run(&db, &txn, "CREATE (:A)").unwrap();
    let token = CancelToken::none();
    let canceller = {
        let token = token.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            token.cancel(nereid_common::CancelReason::User);
        })
    };
    let prepared = db
        .prepare("UNWIND range(1, 2000000000) AS x RETURN count(x)")
        .unwrap();
    let e = db
        .execute_in(&txn, &prepared, &Map::new(), &token, None, None)
        .unwrap_err();
    canceller.join().unwrap();
    assert_eq!(e.code, ErrorCode::CancelledByUser);
    assert!(!txn.is_open());
    assert_eq!(count(&db, "A"), 0);
}

struct Collect(mpsc::SyncSender<QueryResult>);

impl RowSink for Collect {
    fn rows(&mut self, batch: QueryResult, _cancel: &CancelToken) -> Result<bool, Error> {
        // A consumer that went away wants no more rows.
        Ok(self.0.send(batch).is_ok())
    }
}

#[test]
fn a_streamed_read_hands_out_batches_as_produced() {
    let db = std::sync::Arc::new(db());
    db.execute(
        "UNWIND range(1, 5000) AS i CREATE (:S {i: i})",
        &Map::new(),
        &CancelToken::none(),
    )
    .unwrap();
    // A channel of one batch: the query cannot run ahead of its consumer.
    let (tx, rx) = mpsc::sync_channel(1);
    let producer = {
        let db = db.clone();
        std::thread::spawn(move || {
            let prepared = db.prepare("MATCH (s:S) RETURN s").unwrap();
            let mut sink = Collect(tx);
            db.execute_streaming(
                &prepared,
                &Map::new(),
                &CancelToken::none(),
                Some(&mut sink),
                None,
            )
        })
    };
    let first = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(!first.rows.is_empty() && first.rows.len() < 5000);
    assert_eq!(first.columns, vec!["s".to_owned()]);
    // Nodes come with the batch that names them.
    let Value::Node(n) = first.rows[0][0] else {
        panic!()
    };
    assert!(first.node(n).is_some());
    std::thread::sleep(Duration::from_millis(50));
    assert!(
        !producer.is_finished(),
        "the producer did not wait for its consumer"
    );
    let mut total = first.rows.len();
    while let Ok(batch) = rx.recv_timeout(Duration::from_secs(10)) {
        total += batch.rows.len();
    }
    let result = producer.join().unwrap().unwrap();
    assert_eq!(total, 5000);
    assert!(result.rows.is_empty());
    assert_eq!(result.streamed_rows, 5000);
    // PROFILE answers with its plan, not with the rows it counted.
    let (tx, rx) = mpsc::sync_channel(8);
    let prepared = db.prepare("PROFILE MATCH (s:S) RETURN s").unwrap();
    let result = db
        .execute_streaming(
            &prepared,
            &Map::new(),
            &CancelToken::none(),
            Some(&mut Collect(tx)),
            None,
        )
        .unwrap();
    assert_eq!(result.columns, vec!["plan".to_owned()]);
    assert!(rx.try_recv().is_err());
    // Writes are not streamed: their rows come back in the result after the commit.
    let (tx, rx) = mpsc::sync_channel(8);
    let prepared = db.prepare("CREATE (n:W) RETURN n").unwrap();
    let result = db
        .execute_streaming(
            &prepared,
            &Map::new(),
            &CancelToken::none(),
            Some(&mut Collect(tx)),
            None,
        )
        .unwrap();
    assert_eq!(result.rows.len(), 1);
    assert!(rx.try_recv().is_err());
}

/// Takes one batch, then wants no more.
struct FirstOnly(usize);

impl RowSink for FirstOnly {
    fn rows(&mut self, batch: QueryResult, _cancel: &CancelToken) -> Result<bool, Error> {
        self.0 += batch.rows.len();
        Ok(false)
    }
}

#[test]
fn a_sink_that_stops_early_ends_the_statement_successfully_and_keeps_the_transaction() {
    let db = db();
    let txn = write_txn(&db);
    run(&db, &txn, "UNWIND range(1, 5000) AS i CREATE (:S {i: i})").unwrap();
    let prepared = db.prepare("MATCH (s:S) RETURN s.i").unwrap();
    let mut sink = FirstOnly(0);
    let result = db
        .execute_in(
            &txn,
            &prepared,
            &Map::new(),
            &CancelToken::none(),
            Some(&mut sink),
            None,
        )
        .unwrap();
    assert!(sink.0 > 0 && sink.0 < 5000, "{}", sink.0);
    assert_eq!(result.streamed_rows, sink.0);
    assert!(txn.is_open());
    assert_eq!(count_in(&db, &txn, "S"), 5000);
    txn.commit().unwrap();
    assert_eq!(count(&db, "S"), 5000);
}
