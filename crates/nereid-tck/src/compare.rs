//! Strict comparison of a query result with an expected table.
//!
//! Actual values are first resolved into [`TckValue`]s through the [`QueryResult`] that
//! produced them (nodes and relationships are ids there), then compared with the TCK's rules:
//! `1` ≠ `1.0`; floats exactly, NaN = NaN; nodes by label set and properties; relationships by
//! type and properties; paths hop by hop with direction; map key order never matters; column
//! names exactly and in order; rows as a bag (`in any order`) or a sequence (`in order`); under
//! `ignoring element order for lists` every list, nested ones too, is a bag.

use std::collections::BTreeMap;

use nereid_engine::QueryResult;
use nereid_value::{Map, NodeId, RelId, Value};

use crate::notation::{Direction, Hop, TckNode, TckPath, TckRel, TckValue};

/// How rows and lists are matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ordering {
    /// Rows must appear in the expected order.
    pub ordered_rows: bool,
    /// Lists (at any depth) compare as multisets.
    pub unordered_lists: bool,
}

/// Resolves one actual value through the result it came from.
///
/// Temporal values: the TCK writes dates, times and durations as their ISO-8601 strings
/// (`'1984-10-11'`, `'P12Y5M14DT16H13M10S'`), so they resolve to
/// `TckValue::String(<ISO-8601 rendering>)`.
pub fn resolve(value: &Value, result: &QueryResult) -> Result<TckValue, String> {
    resolve_in(value, Some(result))
}

/// Resolves a value that holds no node, relationship or path (those are ids that only the
/// result they came from can resolve), such as one computed without a graph.
pub fn resolve_plain(value: &Value) -> Result<TckValue, String> {
    resolve_in(value, None)
}

fn resolve_in(value: &Value, result: Option<&QueryResult>) -> Result<TckValue, String> {
    let graph_element = |what: &str| format!("a {what} outside a query result");
    Ok(match value {
        Value::Null => TckValue::Null,
        Value::Bool(b) => TckValue::Bool(*b),
        Value::Int(i) => TckValue::Int(*i),
        Value::Float(f) => TckValue::Float(*f),
        Value::String(s) => TckValue::String(s.clone()),
        Value::List(items) => TckValue::List(
            items
                .iter()
                .map(|v| resolve_in(v, result))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(map) => TckValue::Map(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), resolve_in(v, result)?)))
                .collect::<Result<_, String>>()?,
        ),
        Value::Node(id) => {
            let result = result.ok_or_else(|| graph_element("node"))?;
            TckValue::Node(resolve_node(*id, result)?)
        }
        Value::Relationship(id) => {
            let result = result.ok_or_else(|| graph_element("relationship"))?;
            TckValue::Rel(resolve_rel(*id, result)?)
        }
        Value::Path(path) => {
            let result = result.ok_or_else(|| graph_element("path"))?;
            if path.nodes.len() != path.rels.len() + 1 {
                return Err(format!(
                    "malformed path: {} nodes, {} relationships",
                    path.nodes.len(),
                    path.rels.len()
                ));
            }
            let start = resolve_node(path.nodes[0], result)?;
            let mut hops = Vec::with_capacity(path.rels.len());
            for (i, rel_id) in path.rels.iter().enumerate() {
                let (from, to) = (path.nodes[i], path.nodes[i + 1]);
                let data = result
                    .rel(*rel_id)
                    .ok_or_else(|| format!("relationship {} missing from the result", rel_id.0))?;
                let direction = if data.start == from && data.end == to {
                    if from == to {
                        Direction::Loop
                    } else {
                        Direction::Forward
                    }
                } else if data.start == to && data.end == from {
                    Direction::Backward
                } else {
                    return Err(format!(
                        "path hop {i}: relationship {} does not join nodes {} and {}",
                        rel_id.0, from.0, to.0
                    ));
                };
                hops.push(Hop {
                    rel: resolve_rel(*rel_id, result)?,
                    direction,
                    node: resolve_node(to, result)?,
                });
            }
            TckValue::Path(TckPath { start, hops })
        }
        Value::Temporal(t) => TckValue::String(t.to_string()),
    })
}

fn resolve_map(map: &Map, result: &QueryResult) -> Result<BTreeMap<String, TckValue>, String> {
    map.iter()
        .map(|(k, v)| Ok((k.clone(), resolve(v, result)?)))
        .collect()
}

fn resolve_node(id: NodeId, result: &QueryResult) -> Result<TckNode, String> {
    let data = result
        .node(id)
        .ok_or_else(|| format!("node {} missing from the result", id.0))?;
    Ok(TckNode {
        labels: data.labels.iter().cloned().collect(),
        properties: resolve_map(&data.properties, result)?,
    })
}

fn resolve_rel(id: RelId, result: &QueryResult) -> Result<TckRel, String> {
    let data = result
        .rel(id)
        .ok_or_else(|| format!("relationship {} missing from the result", id.0))?;
    Ok(TckRel {
        rel_type: data.rel_type.clone(),
        properties: resolve_map(&data.properties, result)?,
    })
}

/// The TCK's value equality. `expected` comes from the feature file, `actual` from the engine.
pub fn values_match(expected: &TckValue, actual: &TckValue, unordered_lists: bool) -> bool {
    use TckValue as T;
    match (expected, actual) {
        (T::Null, T::Null) => true,
        (T::Bool(a), T::Bool(b)) => a == b,
        (T::Int(a), T::Int(b)) => a == b,
        (T::Float(a), T::Float(b)) => a == b || (a.is_nan() && b.is_nan()),
        (T::String(a), T::String(b)) => a == b,
        (T::List(a), T::List(b)) => {
            if unordered_lists {
                bag_match(a, b, |x, y| values_match(x, y, true)).is_ok()
            } else {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| values_match(x, y, false))
            }
        }
        (T::Map(a), T::Map(b)) => maps_match(a, b, unordered_lists),
        (T::Node(a), T::Node(b)) => nodes_match(a, b, unordered_lists),
        (T::Rel(a), T::Rel(b)) => rels_match(a, b, unordered_lists),
        (T::Path(a), T::Path(b)) => {
            nodes_match(&a.start, &b.start, unordered_lists)
                && a.hops.len() == b.hops.len()
                && a.hops.iter().zip(&b.hops).all(|(x, y)| {
                    directions_match(x.direction, y.direction)
                        && rels_match(&x.rel, &y.rel, unordered_lists)
                        && nodes_match(&x.node, &y.node, unordered_lists)
                })
        }
        _ => false,
    }
}

fn directions_match(expected: Direction, actual: Direction) -> bool {
    expected == actual || expected == Direction::Loop || actual == Direction::Loop
}

fn maps_match(
    a: &BTreeMap<String, TckValue>,
    b: &BTreeMap<String, TckValue>,
    unordered_lists: bool,
) -> bool {
    a.len() == b.len()
        && a.iter().all(|(k, v)| {
            b.get(k)
                .is_some_and(|w| values_match(v, w, unordered_lists))
        })
}

fn nodes_match(a: &TckNode, b: &TckNode, unordered_lists: bool) -> bool {
    a.labels == b.labels && maps_match(&a.properties, &b.properties, unordered_lists)
}

fn rels_match(a: &TckRel, b: &TckRel, unordered_lists: bool) -> bool {
    a.rel_type == b.rel_type && maps_match(&a.properties, &b.properties, unordered_lists)
}

/// Matches two multisets. The match relation is an equivalence, so greedy pairing is exact.
/// On failure returns the indices of unmatched expected and unmatched actual items.
fn bag_match<T>(
    expected: &[T],
    actual: &[T],
    eq: impl Fn(&T, &T) -> bool,
) -> Result<(), (Vec<usize>, Vec<usize>)> {
    let mut used = vec![false; actual.len()];
    let mut missing = Vec::new();
    for (i, e) in expected.iter().enumerate() {
        match (0..actual.len()).find(|&j| !used[j] && eq(e, &actual[j])) {
            Some(j) => used[j] = true,
            None => missing.push(i),
        }
    }
    let extra: Vec<usize> = (0..actual.len()).filter(|&j| !used[j]).collect();
    if missing.is_empty() && extra.is_empty() {
        Ok(())
    } else {
        Err((missing, extra))
    }
}

fn rows_match(expected: &[TckValue], actual: &[TckValue], unordered_lists: bool) -> bool {
    expected.len() == actual.len()
        && expected
            .iter()
            .zip(actual)
            .all(|(e, a)| values_match(e, a, unordered_lists))
}

fn fmt_row(row: &[TckValue]) -> String {
    let cells: Vec<String> = row.iter().map(ToString::to_string).collect();
    format!("| {} |", cells.join(" | "))
}

/// At most this many characters of a row in a message.
const MAX_ROW_TEXT: usize = 160;

fn short(text: String) -> String {
    if text.chars().count() <= MAX_ROW_TEXT {
        text
    } else {
        let cut: String = text.chars().take(MAX_ROW_TEXT).collect();
        format!("{cut}…")
    }
}

/// Compares an actual table with the expected one. The error is a one-line summary (what
/// differs first), followed by detail lines.
pub fn compare_tables(
    expected_columns: &[String],
    expected_rows: &[Vec<TckValue>],
    actual_columns: &[String],
    actual_rows: &[Vec<TckValue>],
    ordering: Ordering,
) -> Result<(), String> {
    if expected_columns != actual_columns {
        return Err(format!(
            "wrong columns: expected {expected_columns:?}, got {actual_columns:?}"
        ));
    }
    if ordering.ordered_rows {
        if expected_rows.len() != actual_rows.len() {
            return Err(format!(
                "wrong row count: expected {}, got {}\n  first actual rows: {}",
                expected_rows.len(),
                actual_rows.len(),
                short(
                    actual_rows
                        .iter()
                        .take(3)
                        .map(|r| fmt_row(r))
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            ));
        }
        for (i, (e, a)) in expected_rows.iter().zip(actual_rows).enumerate() {
            if !rows_match(e, a, ordering.unordered_lists) {
                return Err(format!(
                    "wrong row {} (in order)\n  expected {}\n  actual   {}",
                    i + 1,
                    short(fmt_row(e)),
                    short(fmt_row(a))
                ));
            }
        }
        return Ok(());
    }
    bag_match(expected_rows, actual_rows, |e, a| {
        rows_match(e, a, ordering.unordered_lists)
    })
    .map_err(|(missing, extra)| {
        let mut msg = if expected_rows.len() != actual_rows.len() {
            format!(
                "wrong row count: expected {}, got {}",
                expected_rows.len(),
                actual_rows.len()
            )
        } else {
            format!(
                "wrong rows: {} of {} differ",
                missing.len(),
                expected_rows.len()
            )
        };
        for i in missing.iter().take(3) {
            msg.push_str(&format!(
                "\n  missing    {}",
                short(fmt_row(&expected_rows[*i]))
            ));
        }
        for j in extra.iter().take(3) {
            msg.push_str(&format!(
                "\n  unexpected {}",
                short(fmt_row(&actual_rows[*j]))
            ));
        }
        msg
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notation::parse_value;
    use nereid_engine::{NodeData, RelData};
    use nereid_value::Path;

    fn p(s: &str) -> TckValue {
        parse_value(s).unwrap()
    }

    fn m(expected: &str, actual: &str, unordered: bool) -> bool {
        values_match(&p(expected), &p(actual), unordered)
    }

    #[test]
    fn plain_values_resolve_without_a_result() {
        let date = nereid_temporal::parse::parse(nereid_temporal::Kind::Date, "1984-10-11");
        let mut map = Map::new();
        map.insert(
            "d".into(),
            Value::List(vec![Value::from(date.unwrap()), Value::Int(1)]),
        );
        assert_eq!(
            resolve_plain(&Value::Map(map)),
            Ok(p("{d: ['1984-10-11', 1]}"))
        );
        assert!(resolve_plain(&Value::List(vec![Value::Node(NodeId(0))])).is_err());
    }

    #[test]
    fn integers_and_floats_never_mix() {
        assert!(!m("1", "1.0", false));
        assert!(!m("1.0", "1", false));
        assert!(m("1.0", "1.0", false));
        assert!(!m("0.1", "0.10000000000000002", false));
        assert!(m("NaN", "NaN", false));
        assert!(!m("NaN", "0.0", false));
        assert!(!m("null", "'null'", false));
        assert!(!m("[1]", "[1.0]", false));
    }

    #[test]
    fn lists_are_ordered_unless_asked_otherwise() {
        assert!(!m("[1, 2]", "[2, 1]", false));
        assert!(m("[1, 2]", "[2, 1]", true));
        assert!(m("[[1, 2], [3]]", "[[3], [2, 1]]", true));
        assert!(!m("[1, 1, 2]", "[1, 2, 2]", true));
        assert!(!m("[1, 2]", "[1, 2, 3]", true));
        assert!(m("{a: [1, 2]}", "{a: [2, 1]}", true));
        assert!(!m("{a: [1, 2]}", "{a: [2, 1]}", false));
    }

    #[test]
    fn maps_ignore_key_order_but_not_keys() {
        assert!(m("{a: 1, b: 2}", "{b: 2, a: 1}", false));
        assert!(!m("{a: 1}", "{a: 1, b: null}", false));
    }

    #[test]
    fn nodes_relationships_and_paths() {
        assert!(m("(:A:B {x: 1})", "(:B:A {x: 1})", false));
        assert!(!m("(:A)", "(:A:B)", false));
        assert!(!m("(:A {x: 1})", "(:A {x: 1.0})", false));
        assert!(m("[:T {k: 'v'}]", "[:T {k: 'v'}]", false));
        assert!(!m("[:T]", "[:U]", false));
        assert!(!m("[:T]", "[1]", false));
        assert!(m("<(:A)-[:T]->(:B)>", "<(:A)-[:T]->(:B)>", false));
        assert!(!m("<(:A)-[:T]->(:B)>", "<(:A)<-[:T]-(:B)>", false));
        assert!(!m("<(:A)-[:T]->(:B)>", "<(:A)>", false));
    }

    fn result_with_graph() -> QueryResult {
        let mut r = QueryResult::default();
        let node = |labels: &[&str], props: Map| NodeData {
            id: String::new(),
            labels: labels.iter().map(|s| s.to_string()).collect(),
            properties: props,
        };
        r.nodes.insert(
            NodeId(1),
            node(&["A"], Map::from([("n".into(), Value::Int(1))])),
        );
        r.nodes.insert(NodeId(2), node(&["B"], Map::new()));
        r.rels.insert(
            RelId(7),
            RelData {
                id: String::new(),
                start: NodeId(2),
                end: NodeId(1),
                start_id: String::new(),
                end_id: String::new(),
                rel_type: "T".into(),
                properties: Map::new(),
            },
        );
        r
    }

    #[test]
    fn actual_paths_take_their_direction_from_the_relationship() {
        let r = result_with_graph();
        let path = Value::from(Path {
            nodes: vec![NodeId(1), NodeId(2)],
            rels: vec![RelId(7)],
        });
        let v = resolve(&path, &r).unwrap();
        assert!(values_match(&p("<(:A {n: 1})<-[:T]-(:B)>"), &v, false));
        assert!(!values_match(&p("<(:A {n: 1})-[:T]->(:B)>"), &v, false));
        let reversed = Value::from(Path {
            nodes: vec![NodeId(2), NodeId(1)],
            rels: vec![RelId(7)],
        });
        let v = resolve(&reversed, &r).unwrap();
        assert!(values_match(&p("<(:B)-[:T]->(:A {n: 1})>"), &v, false));
        let dangling = Value::from(Path {
            nodes: vec![NodeId(1), NodeId(1)],
            rels: vec![RelId(7)],
        });
        assert!(resolve(&dangling, &r).is_err());
        assert!(resolve(&Value::Node(NodeId(9)), &r).is_err());
    }

    fn table(rows: &[&[&str]]) -> Vec<Vec<TckValue>> {
        rows.iter()
            .map(|r| r.iter().map(|c| p(c)).collect())
            .collect()
    }

    const BAG: Ordering = Ordering {
        ordered_rows: false,
        unordered_lists: false,
    };
    const SEQ: Ordering = Ordering {
        ordered_rows: true,
        unordered_lists: false,
    };

    #[test]
    fn rows_as_bag_or_sequence() {
        let cols = vec!["a".to_owned(), "b".to_owned()];
        let e = table(&[&["1", "'x'"], &["2", "'y'"], &["1", "'x'"]]);
        let a = table(&[&["2", "'y'"], &["1", "'x'"], &["1", "'x'"]]);
        assert!(compare_tables(&cols, &e, &cols, &a, BAG).is_ok());
        assert!(compare_tables(&cols, &e, &cols, &a, SEQ).is_err());
        assert!(compare_tables(&cols, &e, &cols, &e, SEQ).is_ok());
        // Multiplicity counts.
        let a2 = table(&[&["2", "'y'"], &["2", "'y'"], &["1", "'x'"]]);
        let err = compare_tables(&cols, &e, &cols, &a2, BAG).unwrap_err();
        assert!(err.starts_with("wrong rows: 1 of 3 differ"), "{err}");
        assert!(err.contains("missing    | 1 | 'x' |"), "{err}");
    }

    #[test]
    fn columns_must_match_exactly_and_in_order() {
        let e = table(&[&["1", "2"]]);
        let ab = vec!["a".to_owned(), "b".to_owned()];
        let ba = vec!["b".to_owned(), "a".to_owned()];
        assert!(compare_tables(&ab, &e, &ba, &e, BAG).is_err());
        let upper = vec!["A".to_owned(), "b".to_owned()];
        assert!(compare_tables(&ab, &e, &upper, &e, BAG).is_err());
        let none: Vec<Vec<TckValue>> = vec![];
        assert!(compare_tables(&ab, &none, &ab, &none, BAG).is_ok());
        assert!(compare_tables(&ab, &none, &ab, &e, BAG).is_err());
    }
}
