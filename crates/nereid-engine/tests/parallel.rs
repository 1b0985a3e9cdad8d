//! Parallel aggregation gives the answers of a sequential run: the same queries with a
//! helper thread forced from the first batch and with none, on a graph whose labels and
//! relationship types are spread over many scan ranges (morsels) of the id space, some
//! ranges holding none.

use std::time::Duration;

use nereid_common::CancelToken;
use nereid_engine::parallel::{helpers_started, set_help_after, MORSEL};
use nereid_engine::Database;
use nereid_value::{Map, Value};

fn rows(db: &Database, q: &str) -> Vec<Vec<Value>> {
    match db.execute(q, &Map::new(), &CancelToken::none()) {
        Ok(r) => r.rows,
        Err(e) => panic!("{q}: {e}"),
    }
}

/// Runs `q` and sorts the rows (parallel runs may emit groups in another order).
fn sorted(db: &Database, q: &str) -> Vec<String> {
    let mut out: Vec<String> = rows(db, q).iter().map(|r| format!("{r:?}")).collect();
    out.sort();
    out
}

const QUERIES: &[&str] = &[
    "MATCH (c:City) RETURN count(*)",
    "MATCH (p:Person)-[:LIVES_IN]->(c:City) RETURN c.name AS city, count(*) AS n",
    "MATCH (:Person)-[k:KNOWS]->(:Person) \
     RETURN count(k), min(k.since), max(k.since), avg(k.since), sum(k.w), sum(k.since)",
    "MATCH (:Person)-[:KNOWS]->(p:Person) RETURN p.id AS id, count(*) AS deg",
    "MATCH (p:Person)-[:KNOWS]->(q:Person) WHERE q.age > 40 RETURN p.age % 5 AS k, count(q), max(q.id)",
    "MATCH (p:Person)-[:KNOWS]->()-[:KNOWS]->(q:Person) RETURN count(*), sum(q.age)",
    "MATCH (a:Person), (c:City) WHERE a.id < 30 RETURN count(*), min(c.name)",
    "MATCH (n) RETURN labels(n) AS l, count(*), avg(n.age)",
    "MATCH ()-[r]->() RETURN type(r) AS t, count(r), min(r.since)",
    "MATCH (p:Person) WHERE p.age IS NULL RETURN count(*)",
    "MATCH (p:Nobody) RETURN count(*), max(p.x)",
    "MATCH (:Person)-[k:KNOWS]->(:Person) RETURN k.since AS s, count(*), max(k.w), min(k.w)",
    "MATCH (:Person)-[k:KNOWS]->(b:Person) RETURN b.id % 7 AS m, min(k.since), count(k)",
    // Subqueries read as degrees run in parallel too.
    "MATCH (p:Person) WHERE COUNT { (p)<-[:KNOWS]-() } > 2 RETURN count(*), sum(p.id)",
    "MATCH (f:Filler) WHERE COUNT { (f)-[:F]->() } = 1 AND f.i % 3 = 0 RETURN count(*)",
    "MATCH (p:Person) RETURN COUNT { (p)-[:LIVES_IN]->() } AS c, count(*), \
     sum(CASE WHEN EXISTS { (p)<-[:KNOWS]-() } THEN 1 ELSE 0 END)",
];

#[test]
fn parallel_and_sequential_runs_agree() {
    let db = Database::in_memory();
    // Fillers first and in between, so that the labelled nodes start far beyond the first
    // scan range and some ranges hold none of a label.
    let fillers = format!(
        "UNWIND range(1, {}) AS i CREATE (:Filler {{i: i}})",
        MORSEL + 500
    );
    rows(&db, &fillers);
    rows(
        &db,
        "UNWIND range(1, 3000) AS i CREATE (:Person {id: i, age: CASE WHEN i % 17 = 0 THEN null ELSE i % 70 END})",
    );
    rows(&db, &fillers);
    rows(
        &db,
        "UNWIND range(1, 40) AS i CREATE (:City {id: i, name: 'c' + toString(i)})",
    );
    rows(
        &db,
        "MATCH (p:Person) MATCH (c:City {id: p.id % 40 + 1}) CREATE (p)-[:LIVES_IN]->(c)",
    );
    // Filler relationships first, so that the KNOWS span several scan ranges of the
    // relationship ids, not the first.
    rows(&db, "MATCH (f:Filler) CREATE (f)-[:F]->(f)");
    rows(
        &db,
        "MATCH (p:Person) UNWIND [7, 13] AS m MATCH (q:Person {id: (p.id * m) % 3000 + 1}) \
         CREATE (p)-[:KNOWS {since: 1990 + p.id % 30, w: toFloat(p.id % 8) / 4}]->(q)",
    );

    let mut sequential = Vec::new();
    set_help_after(Duration::from_secs(3600));
    for q in QUERIES {
        sequential.push(sorted(&db, q));
    }
    assert_eq!(sequential[0], ["[Int(40)]"]);
    assert!(sequential[3].len() > 2000, "{:?}", &sequential[3][..3]);

    set_help_after(Duration::ZERO);
    let before = helpers_started();
    for _ in 0..3 {
        for (q, expected) in QUERIES.iter().zip(&sequential) {
            assert_eq!(&sorted(&db, q), expected, "parallel: {q}");
        }
    }
    if std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2) {
        assert!(helpers_started() > before, "no query took a helper thread");
        // The aggregation read from the relationship records in bulk takes one too.
        let q = QUERIES[2];
        let plan = rows(&db, &format!("EXPLAIN {q}"));
        assert!(
            format!("{plan:?}").contains("RelationshipTypeAggregate"),
            "{plan:?}"
        );
        let before = helpers_started();
        assert_eq!(sorted(&db, q), sequential[2]);
        assert!(helpers_started() > before, "{q} took no helper thread");
        // So does one whose filter reads degrees (the fillers span several scan ranges).
        let before = helpers_started();
        let q = QUERIES[QUERIES.len() - 2];
        assert_eq!(sorted(&db, q), sequential[QUERIES.len() - 2]);
        assert!(helpers_started() > before, "{q} took no helper thread");
    }
    // Each filler has its one relationship: of twice MORSEL + 500 fillers, those whose `i`
    // is a multiple of 3. Some persons are known by more than two.
    let third = (MORSEL + 500) / 3;
    assert_eq!(
        sequential[QUERIES.len() - 2],
        [format!("[Int({})]", 2 * third)]
    );
    assert!(sequential[QUERIES.len() - 3][0] != "[Int(0), Null]");
}
