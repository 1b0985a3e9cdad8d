//! Tests of [`super`] (bolt.rs).

use super::*;
use nereid_engine::{NodeData, RelData};

fn st(tag: u8, fields: Vec<Bolt>) -> Bolt {
    Bolt::Structure { tag, fields }
}

#[test]
fn bytes_and_graph_structures_are_refused_as_parameters() {
    let e = value_in(&Bolt::Bytes(vec![1])).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidParameter);
    let node = values::node(Version::new(5, 0), 1, "a", vec![], vec![]);
    assert!(value_in(&node).is_err());
    assert!(value_in(&st(b'Z', vec![])).is_err());
    // A field of the wrong type and a time of day past midnight.
    assert!(value_in(&st(values::tag::DATE, vec![Bolt::String("x".into())])).is_err());
    let late = st(
        values::tag::LOCAL_TIME,
        vec![Bolt::Integer(86_400_000_000_000)],
    );
    assert!(value_in(&late).is_err());
}

#[test]
fn legacy_and_utc_date_times_mean_the_same_instant() {
    // 1970-01-01T02:00+02:00: local seconds 7200 (4.x), UTC seconds 0 (5.x).
    let legacy = st(
        values::tag::LEGACY_DATE_TIME,
        vec![Bolt::Integer(7200), Bolt::Integer(0), Bolt::Integer(7200)],
    );
    let utc = st(
        values::tag::DATE_TIME,
        vec![Bolt::Integer(0), Bolt::Integer(0), Bolt::Integer(7200)],
    );
    let (Value::Temporal(a), Value::Temporal(b)) =
        (value_in(&legacy).unwrap(), value_in(&utc).unwrap())
    else {
        panic!("not temporals")
    };
    assert_eq!(a, b);
    assert_eq!(a.to_string(), "1970-01-01T02:00+02:00");
    // And back out in each version's encoding.
    let out = |v: Version| {
        let result = QueryResult::default();
        Out {
            result: &result,
            version: v,
        }
        .temporal(&a)
    };
    assert_eq!(out(Version::new(5, 4)), utc);
    assert_eq!(out(Version::new(4, 4)), legacy);
}

fn result_with_path() -> QueryResult {
    let mut result = QueryResult::default();
    for (n, id) in [(1, "a"), (2, "b")] {
        result.nodes.insert(
            NodeId(n),
            NodeData {
                id: id.into(),
                labels: vec!["L".into()],
                properties: Map::new(),
            },
        );
    }
    result.rels.insert(
        RelId(9),
        RelData {
            id: "r".into(),
            start: NodeId(1),
            end: NodeId(2),
            start_id: "a".into(),
            end_id: "b".into(),
            rel_type: "T".into(),
            properties: Map::new(),
        },
    );
    result
}

#[test]
fn a_path_read_backwards_gets_a_negative_relationship_index() {
    let result = result_with_path();
    let out = Out {
        result: &result,
        version: Version::new(5, 4),
    };
    let backwards = Value::Path(Box::new(nereid_value::Path {
        nodes: vec![NodeId(2), NodeId(1)],
        rels: vec![RelId(9)],
    }));
    let Bolt::Structure { fields, .. } = out.value(&backwards) else {
        panic!()
    };
    assert_eq!(
        fields[2],
        Bolt::List(vec![Bolt::Integer(-1), Bolt::Integer(1)])
    );
    let forwards = Value::Path(Box::new(nereid_value::Path {
        nodes: vec![NodeId(1), NodeId(2)],
        rels: vec![RelId(9)],
    }));
    let Bolt::Structure { fields, .. } = out.value(&forwards) else {
        panic!()
    };
    assert_eq!(
        fields[2],
        Bolt::List(vec![Bolt::Integer(1), Bolt::Integer(1)])
    );
}

#[test]
fn relationships_name_their_ends_by_neptune_id() {
    let result = result_with_path();
    let out = Out {
        result: &result,
        version: Version::new(5, 0),
    };
    let Bolt::Structure { tag, fields } = out.value(&Value::Relationship(RelId(9))) else {
        panic!()
    };
    assert_eq!(tag, values::tag::RELATIONSHIP);
    assert_eq!(
        fields[..4],
        [
            Bolt::Integer(9),
            Bolt::Integer(1),
            Bolt::Integer(2),
            Bolt::String("T".into())
        ]
    );
    assert_eq!(
        fields[5..],
        [
            Bolt::String("r".into()),
            Bolt::String("a".into()),
            Bolt::String("b".into())
        ]
    );
}

#[test]
fn engine_errors_keep_their_message_and_take_the_tables_neo4j_code() {
    let e = Error::new(
        ErrorCode::CancelledByUser,
        "Operation terminated (cancelled)",
    );
    let b = bolt_error(&e);
    assert_eq!(b.code, "Neo.ClientError.Transaction.Terminated");
    assert_eq!(b.message, e.to_string());
}

fn backend() -> BoltBackend<nereid_engine::Database> {
    let manager = QueryManager::new(
        nereid_engine::Database::in_memory(),
        nereid_engine::manager::ManagerConfig {
            workers: 1,
            queue_size: 4,
            query_timeout_ms: 0,
        },
    )
    .expect("manager starts");
    BoltBackend::new(Arc::new(manager), None, 1 << 20, false)
}

fn run_request(query: &str, extra: Vec<(String, Bolt)>) -> RunRequest {
    RunRequest {
        query: query.into(),
        parameters: vec![("p".into(), Bolt::Integer(41))],
        extra,
        version: Version::new(5, 4),
        principal: None,
    }
}

/// Everything a stream hands out.
async fn drain(mut stream: Box<dyn RecordStream>) -> Result<(Vec<Vec<Bolt>>, Dict), BoltError> {
    let mut records = Vec::new();
    loop {
        let p = stream.pull(100).await?;
        records.extend(p.records);
        if let Some(summary) = p.summary {
            return Ok((records, summary));
        }
    }
}

async fn run_err(b: &BoltBackend<nereid_engine::Database>, r: RunRequest) -> BoltError {
    match b.run(r).await {
        Ok(_) => panic!("expected a failure"),
        Err(e) => e,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_through_the_manager_and_checks_limits_first() {
    let b = backend().with_max_query_bytes(64);
    let stream = b
        .run(run_request("RETURN $p + 1 AS x", vec![]))
        .await
        .expect("runs");
    assert_eq!(stream.fields(), vec!["x".to_owned()]);
    let (records, summary) = drain(stream).await.unwrap();
    assert_eq!(records, vec![vec![Bolt::Integer(42)]]);
    assert_eq!(summary, vec![("type".into(), Bolt::String("r".into()))]);
    let long = format!("RETURN 1 // {}", "x".repeat(64));
    let e = run_err(&b, run_request(&long, vec![])).await;
    assert_eq!(e.code, ErrorCode::QueryTooLarge.info().bolt);
    assert!(
        e.message.contains("exceeds the limit of 64 bytes"),
        "{}",
        e.message
    );
    let read = vec![("mode".into(), Bolt::String("r".into()))];
    let e = run_err(&b, run_request("CREATE ()", read.clone())).await;
    assert_eq!(e.code, ACCESS_MODE);
    assert!(b.run(run_request("RETURN 1", read)).await.is_ok());
    let e = run_err(&b, run_request("RETURN (", vec![])).await;
    assert_eq!(e.code, "Neo.ClientError.Statement.SyntaxError");
    let bad = vec![("bookmarks".into(), Bolt::Integer(1))];
    let e = run_err(&b, run_request("RETURN 1", bad)).await;
    assert_eq!(e.code, codes::REQUEST_INVALID);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_read_streams_with_a_bounded_feed_and_discard_stops_it() {
    let b = backend();
    let mut stream = b
        .run(run_request(
            "UNWIND range(1, 100000000) AS x RETURN x",
            vec![],
        ))
        .await
        .expect("runs");
    let first = stream.pull(10).await.unwrap();
    assert_eq!(first.records.len(), 10);
    assert!(first.summary.is_none());
    // The query waits for the client: it is still running, holding few batches.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let manager = &b.inner.manager;
    assert_eq!(manager.list(false).running, 1);
    let list = manager.list(false);
    assert!(list.queries[0].query_string.starts_with("UNWIND"));
    assert!(list.queries[0].elapsed_ms > 0);
    let summary = stream.discard().await.unwrap();
    assert_eq!(summary, vec![("type".into(), Bolt::String("r".into()))]);
    assert_eq!(manager.list(true).accepted, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_transactions_commit_with_a_bookmark_and_roll_back() {
    let b = backend();
    let begin = |extra| BeginRequest {
        extra,
        version: Version::new(5, 4),
        principal: None,
    };
    let mut tx = b.begin(begin(vec![])).await.unwrap();
    let stream = tx
        .run(run_request("CREATE (n:Tx) RETURN n", vec![]))
        .await
        .unwrap();
    let (records, summary) = drain(stream).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(summary, vec![("type".into(), Bolt::String("rw".into()))]);
    let count = |b: &BoltBackend<nereid_engine::Database>| {
        let r = b
            .inner
            .manager
            .runner()
            .execute(
                "MATCH (n:Tx) RETURN count(n)",
                &Map::new(),
                &CancelToken::none(),
            )
            .unwrap();
        r.rows[0][0].clone()
    };
    assert_eq!(count(&b), Value::Int(0));
    let bookmark = tx.commit().await.unwrap().unwrap();
    assert!(bookmark.starts_with("nereid:"), "{bookmark}");
    assert_eq!(count(&b), Value::Int(1));
    drop(tx);
    assert_eq!(count(&b), Value::Int(1));

    let mut tx = b
        .begin(begin(vec![(
            "bookmarks".into(),
            Bolt::List(vec![Bolt::String(bookmark)]),
        )]))
        .await
        .unwrap();
    drain(tx.run(run_request("CREATE (:Tx)", vec![])).await.unwrap())
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(count(&b), Value::Int(1));

    // Dropped without COMMIT (RESET, a closed connection): rolled back.
    let mut tx = b.begin(begin(vec![])).await.unwrap();
    drain(tx.run(run_request("CREATE (:Tx)", vec![])).await.unwrap())
        .await
        .unwrap();
    drop(tx);
    assert_eq!(count(&b), Value::Int(1));

    // A read transaction refuses writes before they are queued.
    let mut tx = b
        .begin(begin(vec![("mode".into(), Bolt::String("r".into()))]))
        .await
        .unwrap();
    let e = match tx.run(run_request("CREATE (:Tx)", vec![])).await {
        Ok(_) => panic!("a write ran in a read transaction"),
        Err(e) => e,
    };
    assert_eq!(e.code, ACCESS_MODE);
}

const MEMORY_CODE: &str = "Neo.TransientError.General.MemoryPoolOutOfMemoryError";

fn count_of(b: &BoltBackend<nereid_engine::Database>, query: &str) -> Value {
    let r = b
        .inner
        .manager
        .runner()
        .execute(query, &Map::new(), &CancelToken::none())
        .unwrap();
    r.rows[0][0].clone()
}

fn begin_request() -> BeginRequest {
    BeginRequest {
        extra: vec![],
        version: Version::new(5, 4),
        principal: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_kept_for_the_next_statement_is_charged_and_fails_past_the_budget() {
    // 1 MiB per query (backend()); 200,000 integers held at once take ~14 MB.
    let b = backend();
    let mut tx = b.begin(begin_request()).await.unwrap();
    let mut big = tx
        .run(run_request("UNWIND range(1, 200000) AS x RETURN x", vec![]))
        .await
        .unwrap();
    assert_eq!(big.pull(10).await.unwrap().records.len(), 10);
    // What the session does before the transaction's next RUN.
    let e = big.read_to_end().await.unwrap_err();
    assert_eq!(e.code, MEMORY_CODE);
    // The same text as HTTP's MemoryLimitExceededException.
    assert!(
        e.message
            .starts_with("Query exceeded its memory limit of 1 MiB"),
        "{}",
        e.message
    );
    // The failure ended the transaction.
    let e = tx.commit().await.unwrap_err();
    assert!(
        e.message.contains("rolled back after a statement failed"),
        "{}",
        e.message
    );
    // The server goes on: a result that fits is kept whole and pulled later.
    let mut tx = b.begin(begin_request()).await.unwrap();
    let mut first = tx
        .run(run_request("UNWIND range(1, 5000) AS x RETURN x", vec![]))
        .await
        .unwrap();
    first.read_to_end().await.unwrap();
    let second = tx
        .run(run_request("CREATE (:Kept) RETURN 1 AS one", vec![]))
        .await
        .unwrap();
    drain(second).await.unwrap();
    let (records, _) = drain(first).await.unwrap();
    assert_eq!(records.len(), 5000);
    assert_eq!(records[4999], vec![Bolt::Integer(5000)]);
    tx.commit().await.unwrap();
    assert_eq!(
        count_of(&b, "MATCH (n:Kept) RETURN count(n)"),
        Value::Int(1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_charges_what_it_holds_and_gives_it_back_as_it_is_pulled() {
    let memory = MemoryBudget::new(1 << 20);
    let feed = Feed::new(Arc::clone(&memory), Version::new(5, 4));
    let result = QueryResult {
        columns: vec!["s".into()],
        rows: (0..100)
            .map(|i| vec![Value::String(format!("row {i} {}", "x".repeat(100)))])
            .collect(),
        ..QueryResult::default()
    };
    let bytes = result.held_bytes();
    assert!(bytes > 100 * 100, "{bytes}");
    feed.finish(Ok(result));
    assert_eq!(memory.used(), bytes);
    {
        let mut state = lock(&feed.state);
        let mut records = Vec::new();
        take_records(&mut state, 60, &mut records, feed.version);
        assert_eq!(records.len(), 60);
        // Held until the last row is handed out.
        assert_eq!(memory.used(), bytes);
        take_records(&mut state, 120, &mut records, feed.version);
        assert_eq!(records.len(), 100);
        assert_eq!(memory.used(), 0);
    }

    // A result larger than the budget is refused, not kept.
    let feed = Feed::new(Arc::clone(&memory), Version::new(5, 4));
    let huge = QueryResult {
        columns: vec!["s".into()],
        rows: vec![vec![Value::String("x".repeat(2 << 20))]],
        ..QueryResult::default()
    };
    feed.finish(Ok(huge));
    let e = feed.end().await.unwrap_err();
    assert_eq!(e.code, MEMORY_CODE);
    assert!(lock(&feed.state).rest.is_none());
    assert_eq!(memory.used(), 0);

    // Streamed batches are charged while they wait for the client.
    let feed = Arc::new(Feed::new(Arc::clone(&memory), Version::new(5, 4)));
    let mut sink = FeedSink {
        feed: Arc::clone(&feed),
    };
    let batch = QueryResult {
        columns: vec!["x".into()],
        rows: (0..1000).map(|i| vec![Value::Int(i)]).collect(),
        ..QueryResult::default()
    };
    assert!(sink.rows(batch, &CancelToken::none()).unwrap());
    let held = memory.used();
    assert!(held >= 1000 * std::mem::size_of::<Bolt>(), "{held}");
    let mut state = lock(&feed.state);
    let mut records = Vec::new();
    take_records(&mut state, 400, &mut records, feed.version);
    assert!(memory.used() < held && memory.used() > 0);
    take_records(&mut state, 1000, &mut records, feed.version);
    assert_eq!(records.len(), 1000);
    assert_eq!(memory.used(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auto_commit_write_returns_its_bookmark_and_one_too_large_does_not_commit() {
    let b = backend();
    let stream = b
        .run(run_request("CREATE (n:Marked) RETURN n", vec![]))
        .await
        .unwrap();
    let (records, summary) = drain(stream).await.unwrap();
    assert_eq!(records.len(), 1);
    let seq = b.inner.manager.runner().store().snapshot().seq();
    assert_eq!(
        summary,
        vec![
            ("type".into(), Bolt::String("rw".into())),
            ("bookmark".into(), Bolt::String(bookmark(seq))),
        ]
    );
    // DISCARD ends a write with its bookmark too.
    let mut stream = b
        .run(run_request("CREATE (n:Marked) RETURN n", vec![]))
        .await
        .unwrap();
    let summary = stream.discard().await.unwrap();
    let seq = b.inner.manager.runner().store().snapshot().seq();
    assert_eq!(summary[1], ("bookmark".into(), Bolt::String(bookmark(seq))));
    // Reads carry none.
    let (_, summary) = drain(b.run(run_request("RETURN 1", vec![])).await.unwrap())
        .await
        .unwrap();
    assert_eq!(summary, vec![("type".into(), Bolt::String("r".into()))]);
    // Rows of a write beyond the budget: the query fails before its commit.
    let e = run_err(
        &b,
        run_request(
            "UNWIND range(1, 3000) AS i CREATE (n:Huge {s: 'padding padding padding padding padding padding padding padding padding padding'}) RETURN n",
            vec![],
        ),
    )
    .await;
    assert_eq!(e.code, MEMORY_CODE);
    assert_eq!(
        count_of(&b, "MATCH (n:Huge) RETURN count(n)"),
        Value::Int(0)
    );
    assert_eq!(
        count_of(&b, "MATCH (n:Marked) RETURN count(n)"),
        Value::Int(2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transaction_timeout_is_the_smaller_of_the_flag_and_the_driver() {
    let b = backend().with_transaction_timeout_ms(5_000);
    let begin = |ms: i64| BeginRequest {
        extra: vec![("tx_timeout".into(), Bolt::Integer(ms))],
        version: Version::new(5, 4),
        principal: None,
    };
    let mut tx = b.begin(begin(100)).await.unwrap();
    drain(tx.run(run_request("CREATE (:Late)", vec![])).await.unwrap())
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let e = tx.commit().await.unwrap_err();
    assert_eq!(e.code, "Neo.ClientError.Transaction.TransactionTimedOut");
    assert!(e.message.contains("timeout of 100 ms"), "{}", e.message);
    let e = match b.begin(begin(-5)).await {
        Ok(_) => panic!("a negative timeout was accepted"),
        Err(e) => e,
    };
    assert_eq!(e.code, codes::REQUEST_INVALID);
}
