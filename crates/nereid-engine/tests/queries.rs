//! End-to-end queries through `Database::execute` on an in-memory store.

use nereid_common::{CancelToken, ErrorCode};
use nereid_engine::{Database, QueryResult};
use nereid_value::{Map, Value};

fn run(db: &Database, q: &str) -> QueryResult {
    match db.execute(q, &Map::new(), &CancelToken::none()) {
        Ok(r) => r,
        Err(e) => panic!("query failed: {q}\n{e}"),
    }
}

/// Rows rendered as strings (nodes as their `~id`), for compact assertions.
fn rows(db: &Database, q: &str) -> Vec<String> {
    let r = run(db, q);
    r.rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| render(&r, v))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect()
}

fn render(r: &QueryResult, v: &Value) -> String {
    match v {
        Value::Node(n) => format!("({})", r.node(*n).map_or("?", |d| d.id.as_str())),
        Value::Relationship(x) => format!("[{}]", r.rel(*x).map_or("?", |d| d.rel_type.as_str())),
        Value::List(l) => format!(
            "[{}]",
            l.iter()
                .map(|x| render(r, x))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

fn error(db: &Database, q: &str) -> ErrorCode {
    match db.execute(q, &Map::new(), &CancelToken::none()) {
        Ok(_) => panic!("expected an error: {q}"),
        Err(e) => e.code,
    }
}

#[test]
fn literals_and_arithmetic() {
    let db = Database::in_memory();
    assert_eq!(
        rows(&db, "RETURN 1 + 2 AS x, 'a' + 'b' AS s, [1, 2][1] AS i"),
        ["3, 'ab', 2"]
    );
    assert_eq!(run(&db, "RETURN 1 + 2").columns, ["1 + 2"]);
}

#[test]
fn create_match_and_relationships() {
    let db = Database::in_memory();
    run(&db, "CREATE (a:Person {`~id`: 'p1', name: 'Ada'})-[:KNOWS {since: 2020}]->(b:Person {`~id`: 'p2', name: 'Bob'})");
    assert_eq!(
        rows(&db, "MATCH (n:Person) RETURN n.name ORDER BY n.name"),
        ["'Ada'", "'Bob'"]
    );
    assert_eq!(
        rows(&db, "MATCH (a)-[r:KNOWS]->(b) RETURN a, r, b"),
        ["(p1), [KNOWS], (p2)"]
    );
    assert_eq!(
        rows(&db, "MATCH (a)<-[:KNOWS]-(b) RETURN id(a), id(b)"),
        ["'p2', 'p1'"]
    );
    assert_eq!(rows(&db, "MATCH (a)--(b) RETURN count(*)"), ["2"]);
    assert_eq!(
        rows(
            &db,
            "MATCH p = (a {name: 'Ada'})-->() RETURN length(p), size(nodes(p))"
        ),
        ["1, 2"]
    );
}

#[test]
fn optional_match_gives_nulls() {
    let db = Database::in_memory();
    run(&db, "CREATE (:A {v: 1}), (:A {v: 2})-[:R]->(:B)");
    assert_eq!(
        rows(
            &db,
            "MATCH (a:A) OPTIONAL MATCH (a)-[:R]->(b) RETURN a.v, b IS NULL ORDER BY a.v"
        ),
        ["1, true", "2, false"]
    );
}

#[test]
fn aggregation_grouping_distinct_order_skip_limit() {
    let db = Database::in_memory();
    run(&db, "UNWIND range(1, 10) AS i CREATE (:N {i: i, g: i % 3})");
    assert_eq!(
        rows(
            &db,
            "MATCH (n:N) RETURN n.g AS g, count(*) AS c, sum(n.i) AS s ORDER BY g"
        ),
        ["0, 3, 18", "1, 4, 22", "2, 3, 15"]
    );
    assert_eq!(
        rows(&db, "MATCH (n:N) RETURN DISTINCT n.g ORDER BY n.g DESC"),
        ["2", "1", "0"]
    );
    assert_eq!(
        rows(&db, "MATCH (n:N) RETURN n.i ORDER BY n.i SKIP 2 LIMIT 3"),
        ["3", "4", "5"]
    );
    assert_eq!(
        rows(
            &db,
            "MATCH (n:N) WITH n.g AS g, collect(n.i) AS l WHERE g = 0 RETURN l"
        ),
        ["[3, 6, 9]"]
    );
    assert_eq!(rows(&db, "MATCH (n:Missing) RETURN count(n)"), ["0"]);
}

#[test]
fn grouping_keys_read_from_one_node_group_every_row_of_that_node() {
    // Keys read from one node are evaluated once per node (`KeyMemo`): nodes with equal keys
    // still share a group, a missing node (OPTIONAL MATCH) is its own null group, keys from
    // two nodes are not memoized.
    let db = Database::in_memory();
    run(
        &db,
        "CREATE (a:C {name: 'a', size: 1}), (a2:C {name: 'a', size: 1}), (b:C {name: 'b', size: 2}), \
         (x:C {size: 3}), (:C {name: 'lonely'}) \
         WITH [a, a2, b, x] AS cs UNWIND range(1, 12) AS i \
         WITH cs[i % 4] AS c, i CREATE (:P {i: i})-[:W]->(c)",
    );
    assert_eq!(
        rows(
            &db,
            "MATCH (c:C)<-[:W]-(p:P) RETURN c.name AS n, c.size AS s, count(*) AS k, \
             count(DISTINCT p.i % 2) AS parities ORDER BY n"
        ),
        ["'a', 1, 6, 2", "'b', 2, 3, 1", "null, 3, 3, 1"]
    );
    assert_eq!(
        rows(
            &db,
            "MATCH (c:C) OPTIONAL MATCH (c)<-[:W]-(p:P) WHERE p.i < 3 \
             RETURN c.name AS n, count(p) AS k ORDER BY n"
        ),
        ["'a', 1", "'b', 1", "'lonely', 0", "null, 0"]
    );
    assert_eq!(
        rows(
            &db,
            "MATCH (p:P) WHERE p.i <= 2 OPTIONAL MATCH (p)-[:W]->(c:C {name: 'b'}) \
             RETURN c.name AS n, count(*) AS k ORDER BY n"
        ),
        ["'b', 1", "null, 1"]
    );
    // Keys from two nodes: not one group per node.
    assert_eq!(
        rows(
            &db,
            "MATCH (c:C {name: 'a'})<-[:W]-(p:P) RETURN c.name AS n, p.i % 3 AS r, count(*) AS k \
             ORDER BY r"
        ),
        ["'a', 0, 2", "'a', 1, 2", "'a', 2, 2"]
    );
    // A statement that writes reads its keys after its writes.
    run(&db, "CREATE (:D {v: 0})");
    assert_eq!(
        rows(
            &db,
            "UNWIND [1, 2, 3] AS i MATCH (d:D) SET d.v = i RETURN d.v AS v, count(*) AS k ORDER BY v"
        ),
        ["3, 3"]
    );
}

#[test]
fn distinct_nodes_mixed_with_other_values() {
    // One node column goes through a bit set of node ids; other values beside them through
    // the hash table: each kind is still seen once.
    let db = Database::in_memory();
    run(&db, "UNWIND range(1, 5000) AS i CREATE (:N {i: i})");
    assert_eq!(
        rows(
            &db,
            "MATCH (a:N), (b:N) WHERE a.i IN [1, 4097, 5000] AND b.i <= 3 \
             WITH DISTINCT a RETURN a.i AS i ORDER BY i"
        ),
        ["1", "4097", "5000"]
    );
    assert_eq!(
        rows(
            &db,
            "MATCH (a:N) WHERE a.i IN [2, 3] WITH [a, null, a, 1, 1.0] AS xs UNWIND xs AS x \
             WITH DISTINCT x RETURN count(*) AS c"
        ),
        ["4"]
    );
}

#[test]
fn set_remove_delete() {
    let db = Database::in_memory();
    run(&db, "CREATE (:P {name: 'a'})-[:R]->(:P {name: 'b'})");
    run(
        &db,
        "MATCH (n:P {name: 'a'}) SET n.age = 3, n:Q REMOVE n.name",
    );
    assert_eq!(
        rows(&db, "MATCH (n:Q) RETURN n.age, n.name, labels(n)"),
        ["3, null, ['P', 'Q']"]
    );
    assert_eq!(
        error(&db, "MATCH (n:Q) DELETE n"),
        ErrorCode::DeleteConnectedNode
    );
    run(&db, "MATCH (n:Q) DETACH DELETE n");
    assert_eq!(rows(&db, "MATCH (n) RETURN count(n)"), ["1"]);
}

#[test]
fn merge_creates_once() {
    let db = Database::in_memory();
    run(
        &db,
        "UNWIND [1, 1, 2] AS x MERGE (n:M {x: x}) ON CREATE SET n.created = true",
    );
    assert_eq!(
        rows(&db, "MATCH (n:M) RETURN n.x, n.created ORDER BY n.x"),
        ["1, true", "2, true"]
    );
}

#[test]
fn failed_query_leaves_no_trace() {
    let db = Database::in_memory();
    assert_eq!(
        error(&db, "CREATE (:T) WITH 1 AS x RETURN 1 / 0"),
        ErrorCode::DivisionByZero
    );
    assert_eq!(rows(&db, "MATCH (n) RETURN count(n)"), ["0"]);
}

#[test]
fn compile_errors_are_coded() {
    let db = Database::in_memory();
    assert_eq!(
        error(&db, "MATCH (a) RETURN b"),
        ErrorCode::UndefinedVariable
    );
    assert_eq!(
        error(&db, "MATCH (a) CREATE (a:L)"),
        ErrorCode::VariableAlreadyBound
    );
    assert_eq!(error(&db, "RETURN foo(1)"), ErrorCode::UnknownFunction);
    assert_eq!(
        error(&db, "MATCH (n) RETURN n.x + count(*)"),
        ErrorCode::AmbiguousAggregationExpression
    );
}

#[test]
fn cancel_stops_a_huge_unwind() {
    let db = Database::in_memory();
    let token = CancelToken::new(Some(
        std::time::Instant::now() + std::time::Duration::from_millis(50),
    ));
    let started = std::time::Instant::now();
    let err = db
        .execute(
            "UNWIND range(1, 1000000000) AS x RETURN count(x)",
            &Map::new(),
            &token,
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::TimeLimitExceeded);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

/// Queries nested as deep as the parser allows plan and run on an ordinary 2 MiB thread
/// (the engine moves deep work to a thread with a large stack).
#[test]
fn deeply_nested_queries_run_on_small_stacks() {
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let db = Database::in_memory();
            let parens = format!("RETURN {}1{} AS x", "(".repeat(450), ")".repeat(450));
            assert_eq!(rows(&db, &parens), ["1"]);
            let chain = format!("RETURN 0{} AS x", " + 1".repeat(450));
            assert_eq!(rows(&db, &chain), ["450"]);
            let lists = format!("RETURN size({}1{}) AS x", "[".repeat(400), "]".repeat(400));
            assert_eq!(rows(&db, &lists), ["1"]);
        })
        .unwrap();
    handle.join().unwrap();
}

#[test]
fn a_query_holding_too_much_fails_with_memory_limit_exceeded() {
    let db = Database::in_memory().with_query_memory_limit(1 << 20);
    let q = "UNWIND range(1, 1000000) AS x RETURN collect(x) AS l";
    let err = db
        .execute(q, &Map::new(), &CancelToken::none())
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::MemoryLimitExceeded);
    let err = db
        .execute(
            "UNWIND range(1, 1000000) AS x RETURN x ORDER BY x DESC",
            &Map::new(),
            &CancelToken::none(),
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::MemoryLimitExceeded);
    // Small queries still run.
    assert_eq!(rows(&db, "UNWIND range(1, 10) AS x RETURN sum(x)"), ["55"]);
}

#[test]
fn neptune_ids_match_in_patterns_and_merge() {
    let db = Database::in_memory();
    run(
        &db,
        "CREATE (:P {`~id`: 'a', n: 1})-[:R {`~id`: 'r1'}]->(:P {`~id`: 'b', n: 2})",
    );
    assert_eq!(
        rows(
            &db,
            "MATCH (x {`~id`: 'a'})-[r]->(y) RETURN x.n, y.n, id(r)"
        ),
        ["1, 2, 'r1'"]
    );
    assert_eq!(
        rows(
            &db,
            "MATCH ()-[r {`~id`: 'r1'}]->(y:P {`~id`: 'b'}) RETURN y.n"
        ),
        ["2"]
    );
    assert_eq!(
        rows(&db, "MATCH (x:P {`~id`: 'missing'}) RETURN x"),
        Vec::<String>::new()
    );
    run(&db, "MERGE (n:P {`~id`: 'c'}) ON CREATE SET n.n = 3");
    run(&db, "MERGE (n:P {`~id`: 'c'}) ON MATCH SET n.seen = true");
    assert_eq!(
        rows(&db, "MATCH (n {`~id`: 'c'}) RETURN n.n, n.seen"),
        ["3, true"]
    );
    assert_eq!(rows(&db, "MATCH (n:P) RETURN count(n)"), ["3"]);
    assert_eq!(
        error(&db, "CREATE (:P {`~id`: 'a'})"),
        ErrorCode::DuplicateData
    );
}

#[test]
fn read_only_mode_rejects_writes_before_they_run() {
    let db = Database::in_memory().with_read_only(true);
    assert_eq!(rows(&db, "RETURN 1 AS x"), ["1"]);
    for q in [
        "CREATE (n)",
        "MATCH (n) SET n.x = 1",
        "MATCH (n) DETACH DELETE n",
        "MERGE (n:A)",
    ] {
        assert_eq!(error(&db, q), ErrorCode::ReadOnlyViolation, "{q}");
    }
}

#[test]
fn query_access_classifies_clauses_as_neptune_iam_does() {
    use nereid_engine::{query_access, QueryAccess};
    let a = |q: &str| query_access(q, usize::MAX).unwrap();
    assert_eq!(
        a("MATCH (n) RETURN n"),
        QueryAccess {
            write: false,
            delete: false
        }
    );
    assert_eq!(
        a("CREATE (n)"),
        QueryAccess {
            write: true,
            delete: false
        }
    );
    assert_eq!(
        a("MATCH (n) SET n.x = 1"),
        QueryAccess {
            write: true,
            delete: false
        }
    );
    assert_eq!(
        a("MERGE (n:A) RETURN n"),
        QueryAccess {
            write: true,
            delete: false
        }
    );
    assert_eq!(
        a("MATCH (n) REMOVE n.x"),
        QueryAccess {
            write: false,
            delete: true
        }
    );
    assert_eq!(
        a("MATCH (n) DETACH DELETE n"),
        QueryAccess {
            write: false,
            delete: true
        }
    );
    assert_eq!(
        a("MATCH (n) SET n.x = 1 WITH n DELETE n"),
        QueryAccess {
            write: true,
            delete: true
        }
    );
}

#[test]
fn repeated_unindexed_lookups_agree_with_scans_and_see_own_writes() {
    let db = Database::in_memory();
    run(
        &db,
        "UNWIND range(1, 100) AS i CREATE (:P {id: i, half: i / 2})",
    );
    assert_eq!(
        rows(
            &db,
            "UNWIND range(1, 100) AS i MATCH (p:P {id: i}) RETURN count(p)"
        ),
        ["100"]
    );
    assert_eq!(
        rows(
            &db,
            "UNWIND [1.0, 2, 3.5, null, 'x'] AS v MATCH (p:P {id: v}) RETURN count(p)"
        ),
        ["2"]
    );
    assert_eq!(
        rows(
            &db,
            "UNWIND range(0, 10) AS h MATCH (p:P {half: h}) RETURN count(p)"
        ),
        ["21"]
    );
    run(
        &db,
        "UNWIND [1, 1, 1, 1, 2, 2, 3, 3, 1] AS x MERGE (n:Q {k: x})",
    );
    assert_eq!(rows(&db, "MATCH (n:Q) RETURN count(n)"), ["3"]);
}

#[test]
fn create_and_drop_index_statements() {
    let db = Database::in_memory();
    run(&db, "UNWIND range(1, 50) AS i CREATE (:P {id: i})");
    run(&db, "CREATE INDEX FOR (p:P) ON (p.id)");
    run(&db, "CREATE INDEX IF NOT EXISTS FOR (p:P) ON (p.id)");
    run(&db, "CREATE INDEX ON :Q(name)");
    assert_eq!(rows(&db, "MATCH (p:P {id: 7}) RETURN p.id"), ["7"]);
    assert_eq!(rows(&db, "MATCH (p:P {id: 7.0}) RETURN p.id"), ["7"]);
    run(&db, "CREATE (:P {id: 51})");
    assert_eq!(rows(&db, "MATCH (p:P {id: 51}) RETURN count(p)"), ["1"]);
    run(&db, "DROP INDEX ON :P(id)");
    assert_eq!(rows(&db, "MATCH (p:P {id: 51}) RETURN count(p)"), ["1"]);
    assert_eq!(
        error(&db, "CREATE INDEX ON :P(id) RETURN 1"),
        ErrorCode::UnexpectedSyntax
    );
    // The index is really there: the store lists it.
    let snap = db.store().snapshot();
    use nereid_storage::GraphRead;
    let q = snap.label_id("Q").unwrap();
    let name = snap.key_id("name").unwrap();
    assert!(snap.property_indexes().contains(&(q, name)));
}

/// Whether the store holds an index on (`label`, `key`).
fn has_index(db: &Database, label: &str, key: &str) -> bool {
    use nereid_storage::GraphRead;
    let snap = db.store().snapshot();
    match (snap.label_id(label), snap.key_id(key)) {
        (Some(l), Some(k)) => snap.property_indexes().contains(&(l, k)),
        _ => false,
    }
}

/// Neptune has no `CREATE INDEX`: a seek by a property of a label with enough nodes
/// creates the index itself, keeps it up to date, and answers as a scan would.
#[test]
fn property_seeks_create_their_index() {
    let db = Database::in_memory();
    let n = nereid_engine::AUTO_INDEX_MIN_NODES as i64;
    run(
        &db,
        &format!("UNWIND range(1, {n}) AS i CREATE (:Person {{id: i, email: 'p' + toString(i)}}), (:Tag {{id: i}})"),
    );
    run(&db, "UNWIND range(1, 10) AS i CREATE (:Small {id: i})");
    assert!(!has_index(&db, "Person", "id"));
    assert_eq!(
        rows(&db, "MATCH (p:Person {id: 7}) RETURN p.email"),
        ["'p7'"]
    );
    assert!(has_index(&db, "Person", "id"));
    // WHERE equality; then writes (creates, SET) keep the new indexes up to date.
    assert_eq!(
        rows(&db, "MATCH (p:Person) WHERE p.email = 'p9' RETURN p.id"),
        ["9"]
    );
    assert!(has_index(&db, "Person", "email"));
    run(
        &db,
        "MATCH (a:Person {email: 'p1'}) CREATE (a)-[:T]->(:Person {id: -1, email: 'new'})",
    );
    assert_eq!(
        rows(&db, "MATCH (p:Person {email: 'new'}) RETURN p.id"),
        ["-1"]
    );
    assert_eq!(
        rows(&db, "MATCH (p:Person) WHERE p.id < 1 RETURN p.email"),
        ["'new'"]
    );
    run(&db, "MATCH (p:Person {id: 3}) SET p.id = 3000");
    assert_eq!(rows(&db, "MATCH (p:Person {id: 3}) RETURN count(*)"), ["0"]);
    assert_eq!(
        rows(&db, "MATCH (p:Person {id: 3000}) RETURN p.email"),
        ["'p3'"]
    );
    // Too few nodes to be worth an index; never by Neptune id (that is always indexed).
    assert_eq!(rows(&db, "MATCH (s:Small {id: 4}) RETURN s.id"), ["4"]);
    assert!(!has_index(&db, "Small", "id"));
    // `DROP INDEX` works on it; the next seek builds it again.
    run(&db, "DROP INDEX ON :Person(id)");
    assert!(!has_index(&db, "Person", "id"));
    assert_eq!(
        rows(&db, "MATCH (p:Person {id: 3000}) RETURN p.email"),
        ["'p3'"]
    );
    assert!(has_index(&db, "Person", "id"));
}

/// WHERE equality and range predicates give the same answers with and without an index.
#[test]
fn indexed_where_predicates_agree_with_scans() {
    let plain = Database::in_memory();
    let indexed = Database::in_memory();
    let setup =
        "UNWIND range(1, 200) AS i CREATE (:N {v: i % 50, f: toFloat(i) / 4.0, s: toString(i)})";
    run(&plain, setup);
    run(&indexed, setup);
    run(&indexed, "CREATE INDEX FOR (n:N) ON (n.v)");
    run(&indexed, "CREATE INDEX FOR (n:N) ON (n.f)");
    run(&indexed, "CREATE INDEX FOR (n:N) ON (n.s)");
    for q in [
        "MATCH (n:N) WHERE n.v = 7 RETURN count(n)",
        "MATCH (n:N) WHERE n.v = 7.0 RETURN count(n)",
        "MATCH (n:N) WHERE 7 = n.v RETURN count(n)",
        "MATCH (n:N) WHERE n.v > 45 RETURN count(n)",
        "MATCH (n:N) WHERE n.v >= 45 AND n.v < 48 RETURN count(n)",
        "MATCH (n:N) WHERE 10 > n.v RETURN count(n)",
        "MATCH (n:N) WHERE n.f <= 2.5 RETURN count(n)",
        "MATCH (n:N) WHERE n.f > 49 RETURN collect(n.f)",
        "MATCH (n:N) WHERE n.s >= '195' RETURN count(n)",
        "MATCH (n:N) WHERE n.v < 'a' RETURN count(n)",
        "MATCH (n:N) WHERE n.v = null RETURN count(n)",
        "UNWIND [3, 30] AS x MATCH (n:N) WHERE n.v = x RETURN x, count(n) ORDER BY x",
        "MATCH (n:N) WHERE n.s STARTS WITH '1' RETURN count(n)",
        "MATCH (n:N) WHERE n.s STARTS WITH '19' AND n.v > 40 RETURN collect(n.s)",
        "MATCH (n:N) WHERE n.s STARTS WITH '' RETURN count(n)",
        "MATCH (n:N) WHERE n.v STARTS WITH '1' RETURN count(n)",
        "MATCH (n:N) WHERE n.v > 10 AND n.v <= 12 AND n.f > 20 RETURN count(n)",
    ] {
        assert_eq!(rows(&plain, q), rows(&indexed, q), "{q}");
    }
    // The optimizer turns such predicates into seeks (EXPLAIN shows the plan).
    let plan = rows(&indexed, "EXPLAIN MATCH (n:N) WHERE n.v > 45 RETURN n");
    assert!(
        plan[0].contains("NodeIndexSeek (n:N) WHERE v > 45"),
        "{}",
        plan[0]
    );
    let plan = rows(
        &indexed,
        "EXPLAIN MATCH (n:N) WHERE n.v >= 45 AND n.v < 48 RETURN n",
    );
    assert!(plan[0].contains("NodeIndexSeek (n:N) WHERE"), "{}", plan[0]);
    assert!(
        plan[0].contains("v >= 45") && plan[0].contains("v < 48"),
        "{}",
        plan[0]
    );
}

/// `count(*)` over a MATCH is counted without building rows; it must agree with counting rows.
#[test]
fn counting_matches_agrees_with_counting_rows() {
    let db = Database::in_memory();
    run(&db, "UNWIND range(1, 30) AS i CREATE (:N {i: i})");
    run(
        &db,
        "MATCH (a:N), (b:N) WHERE b.i = a.i % 7 + 1 CREATE (a)-[:R]->(b)",
    );
    for (fused, plain) in [
        (
            "MATCH (a)-[:R]->(b)-[:R]->(c) RETURN count(*)",
            "MATCH (a)-[:R]->(b)-[:R]->(c) WITH c RETURN count(*)",
        ),
        (
            "MATCH (a:N) MATCH (a)--(b) RETURN count(*) AS c, count(*) + 1 AS d",
            "MATCH (a:N) MATCH (a)--(b) WITH a RETURN count(*) AS c, count(*) + 1 AS d",
        ),
        (
            "MATCH (a:Missing) RETURN count(*)",
            "MATCH (a:Missing) WITH a RETURN count(*)",
        ),
        (
            "UNWIND [1, 2, 3] AS x MATCH (n:N {i: x}) RETURN count(*)",
            "UNWIND [1, 2, 3] AS x MATCH (n:N {i: x}) WITH n RETURN count(*)",
        ),
    ] {
        assert_eq!(rows(&db, fused), rows(&db, plain), "{fused}");
    }
    assert_eq!(rows(&db, "MATCH (a:Missing) RETURN count(*)"), ["0"]);
}

/// `sum` keeps integers inline until another kind of value arrives; the answers (and
/// errors) are those of the general aggregator.
#[test]
fn sums_switch_from_integers_exactly() {
    let db = Database::in_memory();
    assert_eq!(
        rows(&db, "UNWIND [1, 2, null, 3] AS x RETURN sum(x)"),
        ["6"]
    );
    assert_eq!(rows(&db, "UNWIND [1, 2, 0.5] AS x RETURN sum(x)"), ["3.5"]);
    assert_eq!(rows(&db, "UNWIND [0.5, 1, 2] AS x RETURN sum(x)"), ["3.5"]);
    assert_eq!(rows(&db, "UNWIND [] AS x RETURN sum(x)"), ["0"]);
    assert_eq!(rows(&db, "UNWIND [null] AS x RETURN sum(x)"), ["0"]);
    assert_eq!(
        rows(
            &db,
            "UNWIND [duration('P1D'), duration('P2D')] AS x RETURN sum(x)"
        ),
        rows(&db, "RETURN duration('P3D')")
    );
    assert_eq!(
        error(&db, "UNWIND [1, duration('P1D')] AS x RETURN sum(x)"),
        error(&db, "UNWIND [1.5, duration('P1D')] AS x RETURN sum(x)")
    );
    assert_eq!(
        error(&db, "UNWIND [9223372036854775807, 1] AS x RETURN sum(x)"),
        ErrorCode::ArithmeticOverflow
    );
    assert_eq!(
        rows(
            &db,
            "UNWIND range(1, 10) AS x RETURN x % 3 AS k, sum(x) ORDER BY k"
        ),
        ["0, 18", "1, 22", "2, 15"]
    );
}

/// Renames share a row column; every result column naming it gets the value.
#[test]
fn one_variable_returned_under_several_names() {
    let db = Database::in_memory();
    assert_eq!(
        rows(&db, "WITH 'v' AS a WITH a AS b, a AS c RETURN b, c, b AS d"),
        ["'v', 'v', 'v'"]
    );
    assert_eq!(
        rows(&db, "UNWIND [1, 2] AS a RETURN a AS x, a AS y ORDER BY x"),
        ["1, 1", "2, 2"]
    );
}

/// A query of more clauses and pattern steps than the stages can recurse over is refused
/// with a coded error before any of them runs.
#[test]
fn oversized_plans_are_refused_before_planning() {
    let db = Database::in_memory();
    let q = vec!["CREATE ()"; 100_000].join(" ");
    assert_eq!(error(&db, &q), ErrorCode::QueryTooLarge);
    let hops = format!("MATCH (a){} RETURN count(*)", "-->()".repeat(6000));
    assert_eq!(error(&db, &hops), ErrorCode::QueryTooLarge);
    assert_eq!(rows(&db, "MATCH (n) RETURN count(n)"), ["0"]);
}

#[test]
fn results_report_the_most_memory_the_query_held() {
    let db = Database::in_memory();
    let small = run(&db, "RETURN 1 AS x");
    // 100,000 rows sorted at once: each row is charged while the sort holds it.
    let sorted = run(
        &db,
        "UNWIND range(1, 100000) AS x WITH x ORDER BY -x RETURN count(x) AS n",
    );
    assert!(
        sorted.memory_peak > 100_000 * 8,
        "peak {} bytes",
        sorted.memory_peak
    );
    assert!(small.memory_peak < sorted.memory_peak / 100);
}

/// The nodes a result names are held with it: a result of few, small rows whose nodes carry
/// large properties is charged for those properties too, and fails past the budget (before
/// a write's commit) rather than holding them uncounted.
#[test]
fn the_nodes_a_result_names_count_against_its_budget() {
    let db = Database::in_memory();
    run(
        &db,
        "UNWIND range(1, 40) AS i CREATE (:Wide {i: i, s: reduce(s = '', k IN range(1, 1000) | s + 'xxxxxxxxxx')})",
    );
    let db = db.with_query_memory_limit(256 << 10);
    // 40 ids, ~400 KB of properties behind them.
    assert_eq!(
        error(&db, "MATCH (n:Wide) RETURN n"),
        ErrorCode::MemoryLimitExceeded
    );
    // The same rows without the nodes fit.
    assert_eq!(rows(&db, "MATCH (n:Wide) RETURN count(n)"), ["40"]);
    let ok = run(&db, "MATCH (n:Wide) WHERE n.i <= 4 RETURN n");
    assert!(ok.memory_peak > 4 * 10_000, "peak {}", ok.memory_peak);
    // A write whose returned nodes do not fit is not committed.
    assert_eq!(
        error(&db, "MATCH (n:Wide) SET n.j = 1 RETURN n"),
        ErrorCode::MemoryLimitExceeded
    );
    assert_eq!(
        rows(&db, "MATCH (n:Wide) WHERE n.j = 1 RETURN count(n)"),
        ["0"]
    );
}
