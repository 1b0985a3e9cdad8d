//! The runner against the real engine on small inline scenarios: each correct expectation
//! passes and each near miss (a float for an integer, another column name, the wrong order,
//! direction, side-effect count, error phase or detail) fails. This guards the runner itself:
//! a comparison that is too lenient would let the TCK pass for the wrong reasons.

use std::collections::BTreeMap;
use std::path::PathBuf;

use nereid_tck::feature::parse_feature;
use nereid_tck::runner::{run_case, RunConfig, Tck};

/// Runs a one-scenario feature: `given` (setup lines, already indented steps), the query,
/// and the `Then` part.
fn run(setup: &str, query: &str, then: &str) -> Result<(), String> {
    let text = format!(
        "Feature: Strictness\n\n  Scenario: [1] inline\n    Given an empty graph\n{setup}    When executing query:\n      \"\"\"\n      {query}\n      \"\"\"\n{then}"
    );
    let feature = parse_feature("features/inline/Strictness.feature", &text)
        .map_err(|e| format!("bad inline feature: {e}\n{text}"))?;
    let tck = Tck {
        root: PathBuf::new(),
        features: vec![feature],
        graphs: BTreeMap::new(),
    };
    let cases = tck.cases();
    assert_eq!(cases.len(), 1);
    run_case(&cases[0], &tck, &RunConfig::default()).result
}

fn table_then(kind: &str, rows: &[&str], effects: &str) -> String {
    let mut out = format!("    Then the result should be{kind}\n");
    for row in rows {
        out.push_str(&format!("      {row}\n"));
    }
    out.push_str(effects);
    out
}

const NONE: &str = "    And no side effects\n";

fn pass(setup: &str, query: &str, then: &str) {
    if let Err(e) = run(setup, query, then) {
        panic!("expected a pass for `{query}` with\n{then}\ngot: {e}");
    }
}

fn fail(setup: &str, query: &str, then: &str) {
    assert!(
        run(setup, query, then).is_err(),
        "expected a failure for `{query}` with\n{then}"
    );
}

#[test]
fn integers_floats_strings_and_nan_compare_exactly() {
    let any = ", in any order:";
    pass(
        "",
        "RETURN 1 AS a",
        &table_then(any, &["| a |", "| 1 |"], NONE),
    );
    fail(
        "",
        "RETURN 1 AS a",
        &table_then(any, &["| a |", "| 1.0 |"], NONE),
    );
    fail(
        "",
        "RETURN 1.0 AS a",
        &table_then(any, &["| a |", "| 1 |"], NONE),
    );
    pass(
        "",
        "RETURN 0.5 AS a",
        &table_then(any, &["| a |", "| 0.5 |"], NONE),
    );
    fail(
        "",
        "RETURN 'a' AS s",
        &table_then(any, &["| s |", "| 'b' |"], NONE),
    );
    fail(
        "",
        "RETURN 'a' AS s",
        &table_then(any, &["| s |", "| null |"], NONE),
    );
    pass(
        "",
        "RETURN 0.0 / 0.0 AS n",
        &table_then(any, &["| n |", "| NaN |"], NONE),
    );
}

#[test]
fn columns_are_exact_and_ordered() {
    let any = ", in any order:";
    fail(
        "",
        "RETURN 1 AS a",
        &table_then(any, &["| A |", "| 1 |"], NONE),
    );
    pass(
        "",
        "RETURN 1 AS a, 2 AS b",
        &table_then(any, &["| a | b |", "| 1 | 2 |"], NONE),
    );
    fail(
        "",
        "RETURN 1 AS a, 2 AS b",
        &table_then(any, &["| b | a |", "| 2 | 1 |"], NONE),
    );
    pass(
        "",
        "RETURN 1 + 2",
        &table_then(any, &["| 1 + 2 |", "| 3 |"], NONE),
    );
    fail(
        "",
        "RETURN 1 + 2",
        &table_then(any, &["| 1+2 |", "| 3 |"], NONE),
    );
}

#[test]
fn rows_as_bags_or_sequences_and_lists_ordered_unless_told() {
    let q = "UNWIND [2, 1, 1] AS x RETURN x ORDER BY x";
    pass(
        "",
        q,
        &table_then(", in order:", &["| x |", "| 1 |", "| 1 |", "| 2 |"], NONE),
    );
    fail(
        "",
        q,
        &table_then(", in order:", &["| x |", "| 2 |", "| 1 |", "| 1 |"], NONE),
    );
    pass(
        "",
        q,
        &table_then(
            ", in any order:",
            &["| x |", "| 2 |", "| 1 |", "| 1 |"],
            NONE,
        ),
    );
    fail(
        "",
        q,
        &table_then(
            ", in any order:",
            &["| x |", "| 2 |", "| 2 |", "| 1 |"],
            NONE,
        ),
    );
    fail(
        "",
        q,
        &table_then(", in any order:", &["| x |", "| 2 |", "| 1 |"], NONE),
    );

    let l = "RETURN [1, [2, 3]] AS l";
    pass(
        "",
        l,
        &table_then(", in any order:", &["| l |", "| [1, [2, 3]] |"], NONE),
    );
    fail(
        "",
        l,
        &table_then(", in any order:", &["| l |", "| [[2, 3], 1] |"], NONE),
    );
    pass(
        "",
        l,
        &table_then(
            " (ignoring element order for lists):",
            &["| l |", "| [[3, 2], 1] |"],
            NONE,
        ),
    );
}

#[test]
fn nodes_relationships_and_paths_compare_by_content_and_direction() {
    let any = ", in any order:";
    let created = "    And the side effects should be:\n      | +nodes | 1 |\n      | +labels | 1 |\n      | +properties | 1 |\n";
    let q = "CREATE (n:A {x: 1}) RETURN n";
    pass(
        "",
        q,
        &table_then(any, &["| n |", "| (:A {x: 1}) |"], created),
    );
    fail(
        "",
        q,
        &table_then(any, &["| n |", "| (:B {x: 1}) |"], created),
    );
    fail(
        "",
        q,
        &table_then(any, &["| n |", "| (:A {x: 1.0}) |"], created),
    );
    fail("", q, &table_then(any, &["| n |", "| (:A) |"], created));

    let setup = "    And having executed:\n      \"\"\"\n      CREATE (:A)-[:T {w: 2}]->(:B)\n      \"\"\"\n";
    let r = "MATCH ()-[r]->() RETURN r";
    pass(
        setup,
        r,
        &table_then(any, &["| r |", "| [:T {w: 2}] |"], NONE),
    );
    fail(
        setup,
        r,
        &table_then(any, &["| r |", "| [:U {w: 2}] |"], NONE),
    );
    fail(setup, r, &table_then(any, &["| r |", "| [:T] |"], NONE));

    let forward = "MATCH p = (:A)-[:T]->(:B) RETURN p";
    pass(
        setup,
        forward,
        &table_then(any, &["| p |", "| <(:A)-[:T {w: 2}]->(:B)> |"], NONE),
    );
    fail(
        setup,
        forward,
        &table_then(any, &["| p |", "| <(:A)<-[:T {w: 2}]-(:B)> |"], NONE),
    );
    fail(
        setup,
        forward,
        &table_then(any, &["| p |", "| <(:B)-[:T {w: 2}]->(:A)> |"], NONE),
    );
    let backward = "MATCH p = (:B)<-[:T]-(:A) RETURN p";
    pass(
        setup,
        backward,
        &table_then(any, &["| p |", "| <(:B)<-[:T {w: 2}]-(:A)> |"], NONE),
    );
    fail(
        setup,
        backward,
        &table_then(any, &["| p |", "| <(:B)-[:T {w: 2}]->(:A)> |"], NONE),
    );
}

#[test]
fn side_effects_follow_the_readme_arithmetic() {
    let setup = "    And having executed:\n      \"\"\"\n      CREATE (:A {name: 'x'}), (), ()\n      \"\"\"\n";
    let changed = "    And the side effects should be:\n      | +properties | 1 |\n      | -properties | 1 |\n";
    pass(
        setup,
        "MATCH (n:A) SET n.name = 'y'",
        &format!("    Then the result should be empty\n{changed}"),
    );
    fail(
        setup,
        "MATCH (n:A) SET n.name = 'y'",
        "    Then the result should be empty\n    And no side effects\n",
    );
    // Writing the same value again is not a side effect.
    pass(
        setup,
        "MATCH (n:A) SET n.name = 'x'",
        "    Then the result should be empty\n    And no side effects\n",
    );
    // Three label assignments of a new label count once.
    let labelled = "    And the side effects should be:\n      | +labels | 1 |\n";
    pass(
        setup,
        "MATCH (n) SET n:Foo",
        &format!("    Then the result should be empty\n{labelled}"),
    );
    let three = "    And the side effects should be:\n      | +labels | 3 |\n";
    fail(
        setup,
        "MATCH (n) SET n:Foo",
        &format!("    Then the result should be empty\n{three}"),
    );
    // Deleting a node removes its properties and, as the last :A, its label.
    let deleted = "    And the side effects should be:\n      | -nodes | 1 |\n      | -properties | 1 |\n      | -labels | 1 |\n";
    pass(
        setup,
        "MATCH (n:A) DELETE n",
        &format!("    Then the result should be empty\n{deleted}"),
    );
    // An empty result is not a header-only table.
    fail(
        "",
        "RETURN 1 AS a",
        "    Then the result should be empty\n    And no side effects\n",
    );
}

#[test]
fn errors_need_type_phase_and_detail() {
    let q = "RETURN x";
    let err = |t: &str| format!("    Then {t}\n");
    pass(
        "",
        q,
        &err("a SyntaxError should be raised at compile time: UndefinedVariable"),
    );
    pass("", q, &err("an Error should be raised at any time: *"));
    fail(
        "",
        q,
        &err("a SyntaxError should be raised at runtime: UndefinedVariable"),
    );
    fail(
        "",
        q,
        &err("a SyntaxError should be raised at compile time: VariableAlreadyBound"),
    );
    fail(
        "",
        q,
        &err("a TypeError should be raised at compile time: UndefinedVariable"),
    );
    fail(
        "",
        "RETURN 1 AS x",
        &err("an Error should be raised at any time: *"),
    );
}

#[test]
fn any_graph_is_empty_by_default_and_a_named_graph_on_request() {
    let root = nereid_tck::default_tck_dir();
    let graphs = Tck::load(&root)
        .unwrap_or_else(|e| panic!("TCK at {}: {e}", root.display()))
        .graphs;
    let text = "Feature: AnyGraph\n\n  Scenario: [1] count\n    Given any graph\n    When executing query:\n      \"\"\"\n      MATCH (n) RETURN count(n) AS c\n      \"\"\"\n    Then the result should be, in any order:\n      | c |\n      | 13 |\n    And no side effects\n";
    let tck = Tck {
        root: PathBuf::new(),
        features: vec![parse_feature("features/inline/AnyGraph.feature", text).unwrap()],
        graphs,
    };
    let case = &tck.cases()[0];
    let empty = run_case(case, &tck, &RunConfig::default());
    assert!(empty.result.is_err(), "an empty graph has no 13 nodes");
    let config = RunConfig {
        any_graph: Some("binary-tree-1".into()),
        ..RunConfig::default()
    };
    let loaded = run_case(case, &tck, &config);
    assert!(loaded.result.is_ok(), "{:?}", loaded.result);
}
