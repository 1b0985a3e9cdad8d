//! Queries that once exhausted the machine or answered wrongly (issue 9): each must now
//! answer, or fail with a coded error, within the query's memory budget.

use std::time::{Duration, Instant};

use nereid_common::{CancelToken, ErrorCode};
use nereid_engine::Database;
use nereid_value::{Map, Value};

const MIB: usize = 1 << 20;

fn complete_graph(db: &Database, n: i64) {
    let q = format!(
        "UNWIND range(1, {n}) AS i CREATE (:K {{i: i}}) WITH count(*) AS c \
         MATCH (a:K), (b:K) WHERE a <> b CREATE (a)-[:E]->(b)"
    );
    db.execute(&q, &Map::new(), &CancelToken::none())
        .expect("setup");
}

fn first_value(db: &Database, q: &str) -> Result<Value, nereid_common::Error> {
    let r = db.execute(q, &Map::new(), &CancelToken::none())?;
    Ok(r.rows[0][0].clone())
}

#[test]
fn unbounded_var_length_on_a_complete_graph_streams_its_first_path() {
    let db = Database::in_memory().with_query_memory_limit(64 * MIB);
    complete_graph(&db, 12);
    // About 10^8 paths exist; the first one comes out without enumerating the others
    // (the deadline only keeps a regression from hanging the test run).
    let cancel = CancelToken::new(Some(Instant::now() + Duration::from_secs(60)));
    let r = db
        .execute(
            "MATCH p = (a:K {i: 1})-[*]->(b) RETURN length(p) AS l LIMIT 1",
            &Map::new(),
            &cancel,
        )
        .expect("first path");
    assert!(
        matches!(r.rows[0][0], Value::Int(l) if l >= 1),
        "{:?}",
        r.rows
    );
}

#[test]
fn counting_every_var_length_path_is_cancelled_not_fatal() {
    let db = Database::in_memory().with_query_memory_limit(64 * MIB);
    complete_graph(&db, 12);
    let cancel = CancelToken::new(Some(Instant::now() + Duration::from_millis(300)));
    let err = db
        .execute(
            "MATCH p = (a:K {i: 1})-[*]->(b) RETURN count(p)",
            &Map::new(),
            &cancel,
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::TimeLimitExceeded, "{err}");
}

#[test]
fn doubling_a_string_fails_with_memory_limit_exceeded() {
    let db = Database::in_memory().with_query_memory_limit(64 * MIB);
    let err = first_value(
        &db,
        "RETURN size(reduce(s = 'x', i IN range(1, 40) | s + s)) AS n",
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::MemoryLimitExceeded, "{err}");
    // A small one still runs.
    let v = first_value(
        &db,
        "RETURN size(reduce(s = 'x', i IN range(1, 10) | s + s)) AS n",
    )
    .unwrap();
    assert_eq!(v, Value::Int(1024));
}

#[test]
fn doubling_a_list_fails_with_memory_limit_exceeded() {
    let db = Database::in_memory().with_query_memory_limit(64 * MIB);
    let err = first_value(
        &db,
        "RETURN size(reduce(l = [1], i IN range(1, 40) | l + l)) AS n",
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::MemoryLimitExceeded, "{err}");
}

#[test]
fn a_huge_range_fails_before_it_is_built() {
    let db = Database::in_memory().with_query_memory_limit(64 * MIB);
    let err = first_value(&db, "RETURN size(range(1, 1000000000)) AS n").unwrap_err();
    assert_eq!(err.code, ErrorCode::MemoryLimitExceeded, "{err}");
}

#[test]
fn expressions_are_compared_by_structure_not_by_text() {
    let db = Database::in_memory();
    let r = db
        .execute(
            "WITH 'a b' AS s WHERE 'ab' = s RETURN s",
            &Map::new(),
            &CancelToken::none(),
        )
        .unwrap();
    assert!(r.rows.is_empty(), "{:?}", r.rows);
    let r = db
        .execute(
            "RETURN collect('a b') AS x, collect('ab') AS y",
            &Map::new(),
            &CancelToken::none(),
        )
        .unwrap();
    assert_eq!(
        r.rows,
        vec![vec![
            Value::List(vec![Value::String("a b".into())]),
            Value::List(vec![Value::String("ab".into())]),
        ]]
    );
}

/// A degree read that must check the other ends lists the node's relationships: a list
/// beyond the budget fails with the budget's error, for the subquery read and for
/// `NodeDegree` alike.
#[test]
fn a_labelled_degree_read_of_a_hub_is_checked_against_the_budget() {
    let db = Database::in_memory().with_query_memory_limit(MIB);
    let run = |q: &str| {
        db.execute(q, &Map::new(), &CancelToken::none())
            .unwrap_or_else(|e| panic!("{q}: {e}"));
    };
    run("CREATE (:H), (:B)");
    // 70,000 `A` ends (1.1 MB listed), in writes that each fit the budget.
    for _ in 0..14 {
        run("MATCH (h:H) UNWIND range(1, 5000) AS i CREATE (h)-[:T]->(:A)");
    }
    run("MATCH (h:H), (b:B) CREATE (h)-[:T]->(b)");
    for q in [
        "MATCH (h:H) RETURN COUNT { (h)-[:T]->(:A) } AS c",
        "MATCH (h:H)-[:T]->(:A) RETURN h, count(*) AS c",
    ] {
        let err = first_value(&db, q).unwrap_err();
        assert_eq!(err.code, ErrorCode::MemoryLimitExceeded, "{q}: {err}");
    }
    // Unlabelled, the count is read without listing anything.
    assert_eq!(
        first_value(&db, "MATCH (h:H) RETURN COUNT { (h)-[:T]->() } AS c").unwrap(),
        Value::Int(70_001)
    );
}
