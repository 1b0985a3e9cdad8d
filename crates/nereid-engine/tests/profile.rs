//! EXPLAIN and PROFILE: the operator tree with estimated rows, and after a PROFILE run the
//! real rows and time of every operator.

use nereid_common::CancelToken;
use nereid_engine::profile::{OperatorReport, PlanReport};
use nereid_engine::Database;
use nereid_value::{Map, Value};

/// 40 `P` nodes in a ring (each KNOWS the next) plus 10 `Q` nodes.
fn graph() -> Database {
    let db = Database::in_memory();
    for q in [
        "UNWIND range(0, 39) AS i CREATE (:P {id: i})",
        "UNWIND range(0, 9) AS i CREATE (:Q {id: i})",
        "MATCH (a:P), (b:P) WHERE b.id = (a.id + 1) % 40 CREATE (a)-[:KNOWS]->(b)",
    ] {
        db.execute(q, &Map::new(), &CancelToken::none()).unwrap();
    }
    db
}

fn report(db: &Database, q: &str) -> PlanReport {
    let r = db.execute(q, &Map::new(), &CancelToken::none()).unwrap();
    assert_eq!(r.columns, ["plan"]);
    let Value::String(text) = &r.rows[0][0] else {
        panic!("no plan text")
    };
    let report = r.plan.expect("a plan report");
    assert_eq!(*text, report.to_text());
    report
}

fn op<'a>(r: &'a PlanReport, name: &str) -> &'a OperatorReport {
    r.operators
        .iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("no {name} in\n{}", r.to_text()))
}

#[test]
fn explain_shows_estimates_from_the_store_and_runs_nothing() {
    let db = graph();
    let r = report(&db, "EXPLAIN MATCH (a:P)-[:KNOWS]->(b) RETURN count(b.id)");
    // Every KNOWS starts at a P: one scan of the 40 relationships.
    assert_eq!(op(&r, "RelationshipTypeScan").estimated_rows, 40.0);
    // Counted straight from the relationship records: one row.
    let r = report(&db, "EXPLAIN MATCH (a:P)-[:KNOWS]->(b) RETURN count(*)");
    assert_eq!(op(&r, "RelationshipTypeAggregate").estimated_rows, 1.0);
    let r = report(
        &db,
        "EXPLAIN MATCH (a:P) WITH a MATCH (a)-[:KNOWS]->(b) RETURN count(*)",
    );
    assert!(!r.profiled);
    assert_eq!(op(&r, "NodeByLabelScan").estimated_rows, 40.0);
    // `a` keeps its label through WITH: every one of the 40 KNOWS starts at a P, one per
    // person (without the label, 40 over all 50 nodes would give 32).
    assert_eq!(op(&r, "Expand").estimated_rows, 40.0);
    assert_eq!(op(&r, "Aggregate").estimated_rows, 1.0);
    assert!(r
        .operators
        .iter()
        .all(|o| o.rows.is_none() && o.time_ms.is_none()));
    // Children are listed by id, parents first.
    let root = &r.operators[0];
    assert_eq!(root.name, "ProduceResults");
    assert!(root.children.iter().all(|&c| c > 0));
    assert!(
        r.to_text().starts_with(" est. rows  operator"),
        "{}",
        r.to_text()
    );
    // EXPLAIN of a write changes nothing.
    report(&db, "EXPLAIN CREATE (:Z)");
    let n = db
        .execute(
            "MATCH (z:Z) RETURN count(z)",
            &Map::new(),
            &CancelToken::none(),
        )
        .unwrap();
    assert_eq!(n.rows, vec![vec![Value::Int(0)]]);
}

#[test]
fn profile_counts_the_rows_of_every_operator() {
    let db = graph();
    let r = report(
        &db,
        // The second MATCH starts at the bound `a`.
        "PROFILE MATCH (a:P) WITH a MATCH (a)-[:KNOWS]->(b) WHERE b.id < 10 \
         RETURN count(*) AS n",
    );
    assert!(r.profiled);
    assert_eq!(op(&r, "NodeByLabelScan").rows, Some(40));
    assert_eq!(op(&r, "Expand").rows, Some(40));
    assert_eq!(op(&r, "Filter").rows, Some(10));
    assert_eq!(op(&r, "Aggregate").rows, Some(1));
    assert_eq!(op(&r, "ProduceResults").rows, Some(1));
    // Time includes the inputs': never less than a child's; self times are what is left.
    for o in &r.operators {
        let Some(t) = o.time_ms else { continue };
        for &c in &o.children {
            assert!(
                t >= r.operators[c].time_ms.unwrap_or(0.0),
                "{}",
                r.to_text()
            );
        }
        assert!(o.self_time_ms(&r).unwrap() >= 0.0);
    }
    let text = r.to_text();
    assert!(text.contains("self ms"), "{text}");
}

#[test]
fn profile_sums_nested_plans_and_subqueries_over_their_runs() {
    let db = graph();
    let r = report(
        &db,
        "PROFILE MATCH (a:P) OPTIONAL MATCH (a)-[:KNOWS]->(b:P) WHERE b.id % 2 = 0 \
         RETURN count(b) AS n",
    );
    // The inner Expand runs once per person: 40 relationships in all, 20 kept.
    assert_eq!(op(&r, "Expand").rows, Some(40));
    assert_eq!(op(&r, "Optional").rows, Some(40));
    let r = report(
        &db,
        "PROFILE MATCH (n) WHERE exists((n)-[:KNOWS]->()) RETURN count(n) AS n",
    );
    let sub: Vec<&OperatorReport> = r
        .operators
        .iter()
        .filter(|o| o.subquery.is_some())
        .collect();
    assert!(!sub.is_empty(), "{}", r.to_text());
    assert!(r.to_text().contains("subquery 0"), "{}", r.to_text());
    assert_eq!(op(&r, "AllNodesScan").rows, Some(50));
}

#[test]
fn profile_runs_the_query_to_the_end_including_its_writes() {
    let db = graph();
    let r = report(&db, "PROFILE UNWIND range(1, 5) AS i CREATE (:Z {i: i})");
    assert_eq!(op(&r, "Create").rows, Some(5));
    let n = db
        .execute(
            "MATCH (z:Z) RETURN count(z)",
            &Map::new(),
            &CancelToken::none(),
        )
        .unwrap();
    assert_eq!(n.rows, vec![vec![Value::Int(5)]]);
}

#[test]
fn an_aggregation_read_from_the_relationship_records_is_one_operator() {
    let db = graph();
    let q = "MATCH (:P)-[k:KNOWS]->(b:P) RETURN b.id % 4 AS m, count(k) AS n, max(k.x) AS x";
    let r = report(&db, &format!("EXPLAIN {q}"));
    // Grouped by `b` first (40 groups estimated at most), from the 40 relationships.
    let fused = op(&r, "RelationshipTypeAggregate");
    assert!(fused.estimated_rows >= 1.0 && fused.estimated_rows <= 40.0);
    assert!(r.operators.iter().all(|o| o.name != "RelationshipTypeScan"));
    let r = report(&db, &format!("PROFILE {q}"));
    // One row per end node, then four groups.
    assert_eq!(op(&r, "RelationshipTypeAggregate").rows, Some(40));
    assert_eq!(op(&r, "Aggregate").rows, Some(4));
    assert!(op(&r, "RelationshipTypeAggregate").time_ms.is_some());
    let text = r.to_text();
    assert!(
        text.contains("RelationshipTypeAggregate (node_0:P)-[k:KNOWS]->(b:P) b AS b"),
        "{text}"
    );
}

#[test]
fn an_equality_seek_is_estimated_from_the_distinct_values_its_index_counts() {
    let db = Database::in_memory();
    for q in [
        "UNWIND range(0, 99) AS i CREATE (:R {id: i, g: i % 4})",
        "CREATE INDEX FOR (r:R) ON (r.id)",
        "CREATE INDEX FOR (r:R) ON (r.g)",
    ] {
        db.execute(q, &Map::new(), &CancelToken::none()).unwrap();
    }
    let seek = |q: &str| op(&report(&db, q), "NodeIndexSeek").estimated_rows;
    // 100 values of `id`: one node each; 4 values of `g`: 25 nodes each.
    assert_eq!(seek("EXPLAIN MATCH (r:R {id: 7}) RETURN r"), 1.0);
    assert_eq!(seek("EXPLAIN MATCH (r:R) WHERE r.g = 1 RETURN r"), 25.0);
    assert_eq!(
        seek("EXPLAIN MATCH (r:R) WHERE r.g IN [1, 2] RETURN r"),
        50.0
    );
    // The counts follow writes: a fifth value of `g` on 20 new nodes.
    db.execute(
        "UNWIND range(100, 119) AS i CREATE (:R {id: i, g: 4})",
        &Map::new(),
        &CancelToken::none(),
    )
    .unwrap();
    assert_eq!(seek("EXPLAIN MATCH (r:R) WHERE r.g = 1 RETURN r"), 24.0);
}

/// `HAS` joins persons to pets and companies to assets: its counts per pair of labels say
/// no person has an asset, where its counts per end alone would give each person half a
/// relationship to one.
#[test]
fn expansions_are_estimated_from_the_relationships_between_the_two_labels() {
    let db = Database::in_memory();
    for q in [
        "UNWIND range(1, 10) AS i CREATE (:Person {id: i})-[:HAS]->(:Pet {id: i})",
        "UNWIND range(1, 10) AS i CREATE (:Company {id: i})-[:HAS]->(:Asset {id: i})",
    ] {
        db.execute(q, &Map::new(), &CancelToken::none()).unwrap();
    }
    let expand = |q: &str| op(&report(&db, q), "Expand").estimated_rows;
    assert_eq!(
        expand("EXPLAIN MATCH (p:Person)-[:HAS]->(x:Pet) WHERE p.id > x.id RETURN p"),
        10.0
    );
    assert_eq!(
        expand("EXPLAIN MATCH (p:Person)-[:HAS]->(x:Asset) WHERE p.id > x.id RETURN p"),
        0.0
    );
    assert_eq!(
        expand("EXPLAIN MATCH (p:Person)<-[:HAS]-(x:Company) WHERE p.id > x.id RETURN p"),
        0.0
    );
}

/// 100 `U` nodes: 90 follow one other, 10 (every tenth) follow 20; the store's histogram of
/// `F` out-degrees holds 90 in its bucket of 1 and 10 in its bucket of 16 to 31.
#[test]
fn degree_predicates_are_estimated_from_the_degree_histogram() {
    let db = Database::in_memory();
    for q in [
        "UNWIND range(0, 99) AS i CREATE (:U {id: i})",
        "MATCH (a:U), (b:U) WHERE a.id % 10 <> 0 AND b.id = (a.id + 1) % 100 \
         CREATE (a)-[:F]->(b)",
        "MATCH (a:U) WHERE a.id % 10 = 0 UNWIND range(1, 20) AS j \
         MATCH (b:U {id: (a.id + j) % 100}) CREATE (a)-[:F]->(b)",
    ] {
        db.execute(q, &Map::new(), &CancelToken::none()).unwrap();
    }
    let filter = |q: &str| op(&report(&db, q), "Filter").estimated_rows;
    // Degrees 17 to 31 are 15 of the bucket's 16: 10 × 15/16 of the 100 nodes.
    assert_eq!(
        filter("EXPLAIN MATCH (u:U) WHERE COUNT { (u)-[:F]->() } > 16 RETURN u"),
        9.375
    );
    assert_eq!(
        filter("EXPLAIN MATCH (u:U) WHERE COUNT { (u)-[:F]->() } = 1 RETURN u"),
        90.0
    );
    assert_eq!(
        filter("EXPLAIN MATCH (u:U) WHERE 0 = COUNT { (u)-[:F]->() } RETURN u"),
        0.0
    );
    assert_eq!(
        filter("EXPLAIN MATCH (u:U) WHERE size([(u)-[:F]->() | 1]) < 2 RETURN u"),
        90.0
    );
    // With another predicate, that one keeps a quarter as before.
    assert_eq!(
        filter("EXPLAIN MATCH (u:U) WHERE COUNT { (u)-[:F]->() } = 1 AND u.id > u.k RETURN u"),
        22.5
    );
    // Pattern predicates test for a degree of at least 1: 3 of 10 `V` nodes have a `G`.
    db.execute(
        "UNWIND range(1, 10) AS i CREATE (v:V {id: i}) WITH v WHERE i <= 3 CREATE (v)-[:G]->(:W)",
        &Map::new(),
        &CancelToken::none(),
    )
    .unwrap();
    assert_eq!(
        filter("EXPLAIN MATCH (v:V) WHERE (v)-[:G]->() RETURN v"),
        3.0
    );
    assert_eq!(
        filter("EXPLAIN MATCH (v:V) WHERE NOT (v)-[:G]->() RETURN v"),
        7.0
    );
    assert_eq!(
        filter("EXPLAIN MATCH (v:V) WHERE EXISTS { (v)-[:G]->() } RETURN v"),
        3.0
    );
    // The count per node `CountDegrees` reads, filtered: every node has one, a tenth 16.
    let r = report(
        &db,
        "EXPLAIN MATCH (u:U)-[:F]->() WITH u, count(*) AS c WHERE c >= 16 RETURN u",
    );
    assert_eq!(op(&r, "NodeDegree").estimated_rows, 100.0);
    assert_eq!(op(&r, "Filter").estimated_rows, 10.0);
    // PROFILE's real rows match.
    let r = report(
        &db,
        "PROFILE MATCH (u:U)-[:F]->() WITH u, count(*) AS c WHERE c >= 16 RETURN u",
    );
    assert_eq!(op(&r, "Filter").rows, Some(10));
}

/// `COUNT { (n)-[:T]->() }` and `EXISTS { … }` of one hop from a bound node read the node's
/// degree: the same answers as the subquery run row by row (a predicate in it keeps it
/// from being read so), and PROFILE shows the subquery did not run.
#[test]
fn one_hop_count_subqueries_read_the_nodes_degree() {
    let db = Database::in_memory();
    db.execute(
        "CREATE (a:N {id: 1}), (b:N {id: 2}), (c:N {id: 3}), (d:M {id: 4}), (a)-[:T]->(b), \
         (a)-[:T]->(c), (a)-[:T]->(d), (a)-[:U]->(b), (b)-[:T]->(b), (c)-[:U]->(a)",
        &Map::new(),
        &CancelToken::none(),
    )
    .unwrap();
    let rows = |q: &str| {
        db.execute(q, &Map::new(), &CancelToken::none())
            .unwrap_or_else(|e| panic!("{q}: {e:?}"))
            .rows
    };
    for (read, run) in [
        (
            "MATCH (n:N) RETURN n.id, COUNT { (n)-[:T]->() } AS c ORDER BY n.id",
            "MATCH (n:N) RETURN n.id, COUNT { (n)-[:T]->(m) WHERE m IS NOT NULL } AS c ORDER BY n.id",
        ),
        (
            "MATCH (n:N) RETURN n.id, COUNT { (n)<-[:T|U]-() } AS c ORDER BY n.id",
            "MATCH (n:N) RETURN n.id, COUNT { (n)<-[:T|U]-(m) WHERE m IS NOT NULL } AS c ORDER BY n.id",
        ),
        (
            "MATCH (n:N) RETURN n.id, COUNT { (n)-->() } AS c ORDER BY n.id",
            "MATCH (n:N) RETURN n.id, COUNT { (n)-->(m) WHERE m IS NOT NULL } AS c ORDER BY n.id",
        ),
        (
            "MATCH (n:N) RETURN n.id, COUNT { (n)-[:NONE]->() } AS c ORDER BY n.id",
            "MATCH (n:N) RETURN n.id, COUNT { (n)-[:NONE]->(m) WHERE m IS NOT NULL } AS c ORDER BY n.id",
        ),
        (
            "MATCH (n:N) WHERE EXISTS { (n)<-[:U]-() } RETURN n.id ORDER BY n.id",
            "MATCH (n:N) WHERE EXISTS { (n)<-[:U]-(m) WHERE m IS NOT NULL } RETURN n.id ORDER BY n.id",
        ),
        // A label at the other end: read from the counts where every `U` ends at an `N`,
        // checked node by node where some `T` do not.
        (
            "MATCH (n:N) RETURN n.id, COUNT { (n)-[:U]->(:N) } AS c ORDER BY n.id",
            "MATCH (n:N) RETURN n.id, COUNT { (n)-[:U]->(m) WHERE m:N } AS c ORDER BY n.id",
        ),
        (
            "MATCH (n:N) RETURN n.id, COUNT { (n)-[:T]->(:N) } AS c ORDER BY n.id",
            "MATCH (n:N) RETURN n.id, COUNT { (n)-[:T]->(m) WHERE m:N } AS c ORDER BY n.id",
        ),
        (
            "MATCH (n:N) WHERE EXISTS { (n)-[:T]->(:M) } RETURN n.id",
            "MATCH (n:N) WHERE EXISTS { (n)-[:T]->(m) WHERE m:M } RETURN n.id",
        ),
        (
            "OPTIONAL MATCH (n:Missing) RETURN COUNT { (n)-->() } AS c",
            "OPTIONAL MATCH (n:Missing) RETURN COUNT { (n)-->(m) WHERE m IS NOT NULL } AS c",
        ),
    ] {
        assert_eq!(rows(read), rows(run), "{read}");
    }
    assert_eq!(
        rows("MATCH (n:N) RETURN n.id, COUNT { (n)-[:T]->() } AS c ORDER BY n.id"),
        [
            [Value::Int(1), Value::Int(3)],
            [Value::Int(2), Value::Int(1)],
            [Value::Int(3), Value::Int(0)],
        ]
    );
    assert_eq!(
        rows("MATCH (n:N) RETURN n.id, COUNT { (n)-[:T]->(:N) } AS c ORDER BY n.id"),
        [
            [Value::Int(1), Value::Int(2)],
            [Value::Int(2), Value::Int(1)],
            [Value::Int(3), Value::Int(0)],
        ]
    );
    // A write sees its own changes.
    assert_eq!(
        rows("MATCH (a:N {id: 1})-[r:T]->(:N {id: 2}) DELETE r RETURN COUNT { (a)-[:T]->() } AS c"),
        [[Value::Int(2)]]
    );
    let r = report(
        &db,
        "PROFILE MATCH (n:N) RETURN n.id, COUNT { (n)-[:U]->() } AS c",
    );
    assert_eq!(r.degree_reads, [0]);
    let r = report(
        &db,
        "PROFILE MATCH (n:N) RETURN n.id, COUNT { (n)-[:T]->(:M) } AS c",
    );
    assert_eq!(r.degree_reads, [0]);
    assert!(
        r.to_text().contains("read as the node's degree, not run"),
        "{}",
        r.to_text()
    );
    // Never built, so never measured: no rows ("-"), where a run subquery counts them.
    assert_eq!(op(&r, "Expand").rows, None);
    // With a predicate the subquery runs, once per node.
    let r = report(
        &db,
        "PROFILE MATCH (n:N) RETURN n.id, COUNT { (n)-[:U]->(m) WHERE m.id > 0 } AS c",
    );
    assert!(r.degree_reads.is_empty());
    assert_eq!(op(&r, "Expand").rows, Some(2));
}
