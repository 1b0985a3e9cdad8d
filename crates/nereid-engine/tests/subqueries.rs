//! `CALL { }`, `FOREACH`, `COUNT { }` and `COLLECT { }` end to end (the `opencypher`
//! dialect; `tests/dialect.rs` covers what the Neptune dialect refuses).

use nereid_common::{CancelToken, ErrorCode};
use nereid_engine::Database;
use nereid_value::{Map, Value};

fn db() -> Database {
    let db = Database::in_memory();
    run(
        &db,
        "CREATE (a:P {name: 'a'})-[:K]->(b:P {name: 'b'})-[:K]->(c:P {name: 'c'}), (a)-[:K]->(c), (d:P {name: 'd'})",
    );
    db
}

fn run(db: &Database, q: &str) -> Vec<Vec<Value>> {
    db.execute(q, &Map::new(), &CancelToken::none())
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .rows
}

/// The rows as text, in the query's order.
fn text(db: &Database, q: &str) -> Vec<String> {
    run(db, q)
        .iter()
        .map(|r| {
            r.iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect()
}

fn fails(db: &Database, q: &str) -> nereid_common::Error {
    match db.execute(q, &Map::new(), &CancelToken::none()) {
        Ok(r) => panic!("{q} should fail, got {:?}", r.rows),
        Err(e) => e,
    }
}

fn count(db: &Database, q: &str) -> i64 {
    match run(db, q).as_slice() {
        [row] => match row.as_slice() {
            [Value::Int(n)] => *n,
            other => panic!("{q}: {other:?}"),
        },
        other => panic!("{q}: {other:?}"),
    }
}

#[test]
fn call_joins_each_row_to_the_rows_its_subquery_returns() {
    let db = db();
    // Importing WITH; a row without matches disappears, as in an inner join.
    assert_eq!(
        text(
            &db,
            "MATCH (n:P) CALL { WITH n MATCH (n)-[:K]->(m) RETURN m.name AS out } \
             RETURN n.name, out ORDER BY n.name, out"
        ),
        ["'a', 'b'", "'a', 'c'", "'b', 'c'"]
    );
    // The scope clause form says the same.
    assert_eq!(
        text(
            &db,
            "MATCH (n:P) CALL (n) { MATCH (n)-[:K]->(m) RETURN m.name AS out } \
             RETURN n.name, out ORDER BY n.name, out"
        ),
        ["'a', 'b'", "'a', 'c'", "'b', 'c'"]
    );
    // Aggregation runs per outer row and groups by nothing outer: a row with no
    // matches still counts 0.
    assert_eq!(
        text(
            &db,
            "MATCH (n:P) CALL { WITH n MATCH (n)-[:K]->(m) RETURN count(m) AS c } \
             RETURN n.name, c ORDER BY n.name"
        ),
        ["'a', 2", "'b', 1", "'c', 0", "'d', 0"]
    );
    // Without imports the subquery is uncorrelated: every outer row gets all its rows.
    assert_eq!(
        count(
            &db,
            "UNWIND [1, 2] AS x CALL { MATCH (p:P) RETURN p } RETURN count(*)"
        ),
        8
    );
    // UNION inside, ORDER BY and LIMIT per run.
    assert_eq!(
        text(
            &db,
            "UNWIND [1, 2] AS x CALL { WITH x RETURN x * 10 AS y UNION WITH x RETURN x * 100 AS y } \
             RETURN x, y ORDER BY x, y"
        ),
        ["1, 10", "1, 100", "2, 20", "2, 200"]
    );
    assert_eq!(
        text(
            &db,
            "MATCH (n:P) CALL { WITH n MATCH (n)-[:K]->(m) RETURN m ORDER BY m.name DESC LIMIT 1 } \
             RETURN n.name, m.name ORDER BY n.name"
        ),
        ["'a', 'c'", "'b', 'c'"]
    );
    // Nested subqueries, and the outer variables after the call.
    assert_eq!(
        text(
            &db,
            "MATCH (n:P {name: 'a'}) CALL { WITH n CALL { WITH n MATCH (n)-->(m) RETURN collect(m.name) AS l } \
             RETURN size(l) AS s } RETURN n.name, s"
        ),
        ["'a', 2"]
    );
}

#[test]
fn call_refuses_what_would_be_ambiguous() {
    let db = db();
    let e = fails(&db, "MATCH (n) CALL { MATCH (n) RETURN n } RETURN n");
    assert_eq!(e.code, ErrorCode::VariableAlreadyBound, "{e}");
    assert!(e.message.contains("outer scope"), "{e}");
    let e = fails(&db, "MATCH (n) CALL { WITH n RETURN n.name } RETURN 1");
    assert_eq!(e.code, ErrorCode::NoExpressionAlias, "{e}");
    let e = fails(&db, "MATCH (n) CALL (x) { RETURN 1 AS one } RETURN one");
    assert_eq!(e.code, ErrorCode::UndefinedVariable, "{e}");
    // A subquery sees only what it imports.
    let e = fails(&db, "MATCH (n) CALL { RETURN n.name AS x } RETURN x");
    assert_eq!(e.code, ErrorCode::UndefinedVariable, "{e}");
    // A read-only subquery must return.
    let e = fails(&db, "MATCH (n) CALL { WITH n MATCH (n)-->(m) } RETURN n");
    assert_eq!(e.code, ErrorCode::InvalidClauseComposition, "{e}");
    let e = fails(&db, "CALL { CREATE () } IN TRANSACTIONS");
    assert_eq!(e.code, ErrorCode::UnsupportedOperation, "{e}");
}

#[test]
fn unit_subqueries_write_once_per_row_and_keep_the_rows() {
    let db = db();
    // The outer MATCH does not see what the subquery creates (its rows are read first),
    // and each row passes once.
    assert_eq!(
        count(
            &db,
            "MATCH (n:P) CALL { WITH n CREATE (:P {name: n.name + '2'}) } RETURN count(*)"
        ),
        4
    );
    assert_eq!(count(&db, "MATCH (n:P) RETURN count(n)"), 8);
    // Each run sees the writes of the runs before it.
    run(
        &db,
        "UNWIND [1, 1, 2] AS i CALL { WITH i MERGE (:Q {i: i}) }",
    );
    assert_eq!(count(&db, "MATCH (q:Q) RETURN count(q)"), 2);
    // Writes and a returned column together.
    assert_eq!(
        text(
            &db,
            "UNWIND [1, 2] AS i CALL { WITH i CREATE (r:R {i: i}) RETURN r.i * 2 AS d } RETURN i, d ORDER BY i"
        ),
        ["1, 2", "2, 4"]
    );
    // A read-only database refuses a write inside a subquery before running it.
    let ro = Database::in_memory().with_read_only(true);
    let e = fails(&ro, "CALL { CREATE (:X) }");
    assert_eq!(e.code, ErrorCode::ReadOnlyViolation, "{e}");
}

#[test]
fn foreach_runs_its_updates_per_element() {
    let db = db();
    run(
        &db,
        "MATCH (a:P {name: 'a'}) FOREACH (x IN range(1, 3) | CREATE (a)-[:HAS]->(:V {x: x}))",
    );
    assert_eq!(
        text(
            &db,
            "MATCH (:P {name: 'a'})-[:HAS]->(v) RETURN v.x ORDER BY v.x"
        ),
        ["1", "2", "3"]
    );
    // Nested, with SET on outer variables, and over null (nothing happens).
    run(
        &db,
        "MATCH (p:P) FOREACH (x IN [1, 2] | FOREACH (y IN [10] | SET p.sum = coalesce(p.sum, 0) + x * y)) \
         FOREACH (z IN null | SET p.never = true)",
    );
    assert_eq!(
        text(&db, "MATCH (p:P) RETURN DISTINCT p.sum, p.never"),
        ["30, null"]
    );
    // Rows pass through: FOREACH can be followed by RETURN.
    assert_eq!(
        count(
            &db,
            "MATCH (p:P) FOREACH (x IN [1] | SET p.seen = x) RETURN count(*)"
        ),
        4
    );
    // Its variable is its own.
    let e = fails(&db, "FOREACH (x IN [1] | CREATE ({v: x})) RETURN x");
    assert_eq!(e.code, ErrorCode::UndefinedVariable, "{e}");
    let e = fails(&db, "FOREACH (x IN [1] | MATCH (n) SET n.x = x)");
    assert_eq!(e.code, ErrorCode::InvalidClauseComposition, "{e}");
}

#[test]
fn count_and_collect_subqueries() {
    let db = db();
    assert_eq!(
        text(
            &db,
            "MATCH (n:P) RETURN n.name, COUNT { (n)-[:K]->() } AS out ORDER BY n.name"
        ),
        ["'a', 2", "'b', 1", "'c', 0", "'d', 0"]
    );
    assert_eq!(
        text(
            &db,
            "MATCH (n:P) WHERE COUNT { MATCH (n)-[:K]->(m) WHERE m.name <> 'b' RETURN m } = 1 \
             RETURN n.name ORDER BY n.name"
        ),
        ["'a'", "'b'"]
    );
    assert_eq!(
        text(
            &db,
            "MATCH (n:P) RETURN n.name, COLLECT { MATCH (n)-[:K]->(m) RETURN m.name ORDER BY m.name } AS l \
             ORDER BY n.name"
        ),
        ["'a', ['b', 'c']", "'b', ['c']", "'c', []", "'d', []"]
    );
    // UNION deduplicates across the branches.
    assert_eq!(
        count(
            &db,
            "RETURN size(COLLECT { UNWIND [3, 1, 3] AS x RETURN x UNION RETURN 1 AS x }) AS n"
        ),
        2
    );
    let e = fails(
        &db,
        "RETURN COLLECT { MATCH (n) RETURN n, n.name AS x } AS l",
    );
    assert_eq!(e.code, ErrorCode::InvalidClauseComposition, "{e}");
    let e = fails(&db, "RETURN COUNT { CREATE (n) RETURN n } AS c");
    assert_eq!(e.code, ErrorCode::InvalidClauseComposition, "{e}");
    // `count {` is the subquery; count(…) is still the aggregate.
    assert_eq!(count(&db, "MATCH (n:P) RETURN count(n)"), 4);
}

#[test]
fn explain_shows_the_subquery_below_its_apply() {
    let db = db();
    let plan = match &run(
        &db,
        "EXPLAIN MATCH (n:P) CALL { WITH n MATCH (n)-[:K]->(m) RETURN count(m) AS c } RETURN n, c",
    )[0][0]
    {
        Value::String(s) => s.clone(),
        other => panic!("{other:?}"),
    };
    let apply = plan.find("Apply").unwrap_or_else(|| panic!("{plan}"));
    // The subquery's aggregate and expansion are printed under the Apply.
    let aggregate = plan.find("Aggregate").unwrap_or_else(|| panic!("{plan}"));
    assert!(aggregate > apply, "{plan}");
    let unit = match &run(&db, "EXPLAIN FOREACH (x IN [1] | CREATE ())")[0][0] {
        Value::String(s) => s.clone(),
        other => panic!("{other:?}"),
    };
    assert!(unit.contains("UnitApply"), "{unit}");
}
