//! The two dialects end to end: Neptune's data model, functions and refusals, and the full
//! language of the `opencypher` dialect on the same queries.

use nereid_common::{CancelToken, ErrorCode};
use nereid_engine::{Database, Dialect};
use nereid_value::{Map, Value};

fn neptune() -> Database {
    Database::in_memory().with_dialect(Dialect::Neptune)
}

fn opencypher() -> Database {
    Database::in_memory().with_dialect(Dialect::OpenCypher)
}

/// The single value of a one-row, one-column answer.
fn one(db: &Database, q: &str) -> Value {
    let r = db
        .execute(q, &Map::new(), &CancelToken::none())
        .unwrap_or_else(|e| panic!("{q}: {e}"));
    assert_eq!(r.rows.len(), 1, "{q}");
    r.rows[0][0].clone()
}

fn fails(db: &Database, q: &str) -> nereid_common::Error {
    match db.execute(q, &Map::new(), &CancelToken::none()) {
        Ok(r) => panic!("{q} should fail, got {:?}", r.rows),
        Err(e) => e,
    }
}

fn strings(v: &[&str]) -> Value {
    Value::List(v.iter().map(|s| Value::from(*s)).collect())
}

#[test]
fn neptune_nodes_always_have_a_label() {
    let db = neptune();
    assert_eq!(
        one(&db, "CREATE (n {x: 1}) RETURN labels(n)"),
        strings(&["vertex"])
    );
    assert_eq!(
        one(&db, "MERGE (n {y: 2}) RETURN labels(n)"),
        strings(&["vertex"])
    );
    assert_eq!(
        one(&db, "CREATE (n:Person) RETURN labels(n)"),
        strings(&["Person"])
    );
    // MERGE without a label still matches a labelled node.
    assert_eq!(
        one(
            &db,
            "CREATE (:P {k: 1}) WITH 1 AS x MERGE (n {k: 1}) RETURN labels(n)"
        ),
        strings(&["P"])
    );
    let e = fails(&db, "MATCH (n:Person) REMOVE n:Person");
    assert_eq!(e.code, ErrorCode::LastLabel);
    assert_eq!(e.info().neptune, "BadRequestException");
    assert!(e
        .message
        .starts_with("Invalid operation: attempting to remove the last label"));
    // The failed query left the label in place; with a second label, one may go.
    assert_eq!(
        one(
            &db,
            "MATCH (n:Person) SET n:Admin REMOVE n:Person RETURN labels(n)"
        ),
        strings(&["Admin"])
    );
}

#[test]
fn opencypher_nodes_may_have_no_label() {
    let db = opencypher();
    assert_eq!(one(&db, "CREATE (n) RETURN labels(n)"), strings(&[]));
    assert_eq!(
        one(&db, "CREATE (n:P) REMOVE n:P RETURN labels(n)"),
        strings(&[])
    );
}

#[test]
fn neptune_refuses_what_neptune_refuses_and_opencypher_runs_it() {
    let queries = [
        "CREATE (a:S)-[:R]->(b:S) WITH a, b MATCH p = shortestPath((a)-[*]-(b)) RETURN length(p)",
        "RETURN 2 ^ 3 AS x",
        "UNWIND [1, 2, 3] AS x RETURN x LIMIT toInteger(rand() * 2) + 1",
    ];
    for q in queries {
        let e = fails(&neptune(), q);
        assert_eq!(e.code, ErrorCode::UnsupportedOperation, "{q}: {e}");
        assert!(
            e.message.contains("is not supported in this release."),
            "{e}"
        );
        let db = opencypher();
        db.execute(q, &Map::new(), &CancelToken::none())
            .unwrap_or_else(|e| panic!("opencypher: {q}: {e}"));
    }
    let e = fails(&neptune(), "CALL db.labels()");
    assert_eq!(e.code, ErrorCode::UnsupportedOperation);
    let e = fails(
        &neptune(),
        "MATCH (a) RETURN a.x AS x UNION CREATE (b) RETURN b.x AS x",
    );
    assert_eq!(e.code, ErrorCode::UnsupportedOperation);
    // Neptune refuses these; the full language runs them.
    for q in [
        "FOREACH (x IN [1] | CREATE ())",
        "UNWIND [1, 2] AS i CALL { WITH i CREATE ({i: i}) }",
        "RETURN COUNT { MATCH (n) RETURN n } AS c",
        "RETURN COLLECT { UNWIND [1] AS x RETURN x } AS c",
    ] {
        let e = fails(&neptune(), q);
        assert_eq!(e.info().neptune, "UnsupportedOperationException", "{q}");
        opencypher()
            .execute(q, &Map::new(), &CancelToken::none())
            .unwrap_or_else(|e| panic!("opencypher: {q}: {e}"));
    }
    // A read-only CALL { } runs in both (Neptune 1.4.1.0+).
    for db in [neptune(), opencypher()] {
        let q = "UNWIND [1, 2] AS i CALL { WITH i RETURN i * 2 AS d } RETURN sum(d) AS s";
        assert_eq!(one(&db, q), Value::Int(6));
    }
    // Nothing was written by the refused queries.
    let db = neptune();
    let _ = db.execute("CREATE (x) RETURN 2 ^ 2", &Map::new(), &CancelToken::none());
    assert_eq!(one(&db, "MATCH (n) RETURN count(n)"), Value::Int(0));
}

#[test]
fn neptune_functions() {
    let db = neptune();
    let cases = [
        ("RETURN join(['a', 'b', 'c'], '-')", Value::from("a-b-c")),
        (
            "RETURN keys(removeKeyFromMap({a: 1, b: 2}, 'a'))",
            strings(&["b"]),
        ),
        ("RETURN textIndexOf('hello world', 'o')", Value::Int(4)),
        ("RETURN textIndexOf('hello world', 'o', 5)", Value::Int(7)),
        (
            "RETURN collToSet([1, 2, 1, 3, 2])",
            Value::List(vec![1.into(), 2.into(), 3.into()]),
        ),
        (
            "RETURN collSubtract([1, 2, 3, 2], [2])",
            Value::List(vec![1.into(), 3.into()]),
        ),
        (
            "RETURN collIntersection([1, 2, 3], [3, 2, 5])",
            Value::List(vec![2.into(), 3.into()]),
        ),
        (
            "RETURN collSort([3, 1, 2], {order: 'desc'})",
            Value::List(vec![3.into(), 2.into(), 1.into()]),
        ),
        (
            "RETURN [m IN collSortMaps([{n: 'b'}, {n: 'a'}], {key: 'n', order: 'asc'}) | m.n]",
            strings(&["a", "b"]),
        ),
        (
            "RETURN [m IN collSortMulti([{a: 1, n: 'y'}, {a: 0, n: 'z'}, {a: 1, n: 'x'}], \
             [{key: 'a', order: 'desc'}, {key: 'n'}], 2) | m.n]",
            strings(&["x", "y"]),
        ),
    ];
    for (q, want) in cases {
        assert_eq!(one(&db, q), want, "{q}");
    }
    assert_eq!(
        one(
            &db,
            "CREATE (:C {n: 'b'}), (:C {n: 'c'}), (:C {n: 'a'}) WITH 1 AS one \
             MATCH (c:C) WITH collect(c) AS cs \
             RETURN [c IN collSortNodes(cs, {key: 'n', order: 'desc'}) | c.n]"
        ),
        strings(&["c", "b", "a"])
    );
    let e = fails(&db, "RETURN collSortNodes([1], {key: 'n'})");
    assert_eq!(e.code, ErrorCode::InvalidArgumentType);
}
