//! Side effects, measured the way the reference harness does: a snapshot of the graph just
//! before `When executing query` and another at the side-effect step, then set differences.
//!
//! * nodes and relationships: their ids;
//! * labels: the distinct label names present in the graph (not label assignments);
//! * properties: (entity, key, value) triples over nodes and relationships, so changing a value
//!   is one `-` and one `+`, and deleting an entity removes its properties.
//!
//! Snapshots are taken through the engine itself with `MATCH (n) RETURN n` and
//! `MATCH ()-[r]->() RETURN r`, reading labels, types and properties from the result.

use std::collections::BTreeSet;
use std::fmt;

use nereid_common::CancelToken;
use nereid_engine::{Database, QueryResult};
use nereid_value::{Map, Value};

/// The graph's state in the terms side effects are counted in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub nodes: BTreeSet<u64>,
    pub rels: BTreeSet<u64>,
    pub labels: BTreeSet<String>,
    /// (is relationship, id, key, canonical value text).
    pub properties: BTreeSet<(bool, u64, String, String)>,
}

/// The 8 counters, in the README's order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SideEffects {
    pub nodes_created: u64,
    pub nodes_deleted: u64,
    pub rels_created: u64,
    pub rels_deleted: u64,
    pub props_set: u64,
    pub props_removed: u64,
    pub labels_added: u64,
    pub labels_removed: u64,
}

/// The counter keys as written in feature files.
pub const KEYS: [&str; 8] = [
    "+nodes",
    "-nodes",
    "+relationships",
    "-relationships",
    "+properties",
    "-properties",
    "+labels",
    "-labels",
];

impl SideEffects {
    fn slot(&mut self, key: &str) -> Option<&mut u64> {
        Some(match key {
            "+nodes" => &mut self.nodes_created,
            "-nodes" => &mut self.nodes_deleted,
            "+relationships" => &mut self.rels_created,
            "-relationships" => &mut self.rels_deleted,
            "+properties" => &mut self.props_set,
            "-properties" => &mut self.props_removed,
            "+labels" => &mut self.labels_added,
            "-labels" => &mut self.labels_removed,
            _ => return None,
        })
    }

    fn values(&self) -> [u64; 8] {
        [
            self.nodes_created,
            self.nodes_deleted,
            self.rels_created,
            self.rels_deleted,
            self.props_set,
            self.props_removed,
            self.labels_added,
            self.labels_removed,
        ]
    }

    /// The expectation of `the side effects should be:`: listed keys as given, others 0.
    pub fn from_table(rows: &[Vec<String>]) -> Result<SideEffects, String> {
        let mut out = SideEffects::default();
        let mut seen = BTreeSet::new();
        for row in rows {
            let [key, count] = row.as_slice() else {
                return Err(format!("side-effect row needs 2 cells, got {row:?}"));
            };
            if !seen.insert(key.clone()) {
                return Err(format!("side-effect key {key} listed twice"));
            }
            let count: u64 = count
                .parse()
                .map_err(|_| format!("bad side-effect count {count:?}"))?;
            *out.slot(key)
                .ok_or_else(|| format!("unknown side-effect key {key:?}"))? = count;
        }
        Ok(out)
    }

    /// The difference between two snapshots.
    pub fn between(before: &Snapshot, after: &Snapshot) -> SideEffects {
        fn added<T: Ord>(from: &BTreeSet<T>, to: &BTreeSet<T>) -> u64 {
            to.difference(from).count() as u64
        }
        SideEffects {
            nodes_created: added(&before.nodes, &after.nodes),
            nodes_deleted: added(&after.nodes, &before.nodes),
            rels_created: added(&before.rels, &after.rels),
            rels_deleted: added(&after.rels, &before.rels),
            props_set: added(&before.properties, &after.properties),
            props_removed: added(&after.properties, &before.properties),
            labels_added: added(&before.labels, &after.labels),
            labels_removed: added(&after.labels, &before.labels),
        }
    }
}

/// Prints only the non-zero counters, like the feature files list them.
impl fmt::Display for SideEffects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = KEYS
            .iter()
            .zip(self.values())
            .filter(|(_, v)| *v != 0)
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        if parts.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// A canonical, type-exact text for a property value: `1` and `1.0` differ, NaN is stable.
fn value_key(value: &Value) -> String {
    format!("{value:?}")
}

fn add_properties(snapshot: &mut Snapshot, is_rel: bool, id: u64, properties: &Map) {
    for (key, value) in properties {
        // A null-valued property does not exist; an engine should not report one, but if it
        // did it must not count as a property.
        if !value.is_null() {
            snapshot
                .properties
                .insert((is_rel, id, key.clone(), value_key(value)));
        }
    }
}

impl Snapshot {
    /// Builds a snapshot from the results of the node and relationship queries.
    pub fn from_results(nodes: &QueryResult, rels: &QueryResult) -> Result<Snapshot, String> {
        let mut snapshot = Snapshot::default();
        for row in &nodes.rows {
            let Some(Value::Node(id)) = row.first() else {
                return Err(format!("node snapshot: expected a node, got {row:?}"));
            };
            let data = nodes
                .node(*id)
                .ok_or_else(|| format!("node snapshot: node {} not in the result", id.0))?;
            snapshot.nodes.insert(id.0);
            snapshot.labels.extend(data.labels.iter().cloned());
            add_properties(&mut snapshot, false, id.0, &data.properties);
        }
        for row in &rels.rows {
            let Some(Value::Relationship(id)) = row.first() else {
                return Err(format!(
                    "relationship snapshot: expected a relationship, got {row:?}"
                ));
            };
            let data = rels.rel(*id).ok_or_else(|| {
                format!(
                    "relationship snapshot: relationship {} not in the result",
                    id.0
                )
            })?;
            snapshot.rels.insert(id.0);
            add_properties(&mut snapshot, true, id.0, &data.properties);
        }
        Ok(snapshot)
    }

    /// Reads the whole graph through the engine.
    pub fn take(db: &Database, cancel: &CancelToken) -> Result<Snapshot, String> {
        let params = Map::new();
        let nodes = db
            .execute("MATCH (n) RETURN n", &params, cancel)
            .map_err(|e| format!("snapshot query `MATCH (n) RETURN n` failed: {e}"))?;
        let rels = db
            .execute("MATCH ()-[r]->() RETURN r", &params, cancel)
            .map_err(|e| format!("snapshot query `MATCH ()-[r]->() RETURN r` failed: {e}"))?;
        Snapshot::from_results(&nodes, &rels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Props<'a> = &'a [(&'a str, Value)];

    fn snap(nodes: &[(u64, &[&str], Props)], rels: &[(u64, Props)]) -> Snapshot {
        let mut s = Snapshot::default();
        for (id, labels, props) in nodes {
            s.nodes.insert(*id);
            s.labels.extend(labels.iter().map(|l| l.to_string()));
            let map: Map = props
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            add_properties(&mut s, false, *id, &map);
        }
        for (id, props) in rels {
            s.rels.insert(*id);
            let map: Map = props
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            add_properties(&mut s, true, *id, &map);
        }
        s
    }

    #[test]
    fn changing_a_value_is_one_minus_and_one_plus() {
        let before = snap(&[(1, &["A"], &[("name", "Andres".into())])], &[]);
        let after = snap(&[(1, &["A"], &[("name", "Michael".into())])], &[]);
        let fx = SideEffects::between(&before, &after);
        assert_eq!(fx.to_string(), "+properties 1, -properties 1");
    }

    #[test]
    fn writing_the_same_value_counts_nothing_but_int_to_float_counts() {
        let before = snap(&[(1, &[], &[("x", Value::Int(1))])], &[]);
        assert_eq!(
            SideEffects::between(&before, &before.clone()),
            SideEffects::default()
        );
        let after = snap(&[(1, &[], &[("x", Value::Float(1.0))])], &[]);
        assert_eq!(
            SideEffects::between(&before, &after).to_string(),
            "+properties 1, -properties 1"
        );
    }

    #[test]
    fn labels_count_distinct_names_not_assignments() {
        let before = snap(&[(1, &[], &[]), (2, &[], &[]), (3, &["Bar"], &[])], &[]);
        let after = snap(
            &[
                (1, &["Foo"], &[]),
                (2, &["Foo"], &[]),
                (3, &["Foo", "Bar"], &[]),
            ],
            &[],
        );
        let fx = SideEffects::between(&before, &after);
        assert_eq!(fx.labels_added, 1);
        assert_eq!(fx.labels_removed, 0);
        let fx = SideEffects::between(&after, &before);
        assert_eq!(fx.to_string(), "-labels 1");
    }

    #[test]
    fn deleting_an_entity_removes_its_properties() {
        let before = snap(
            &[(1, &["A"], &[]), (2, &[], &[])],
            &[(5, &[("w", Value::Int(2))])],
        );
        let after = snap(&[(1, &["A"], &[]), (2, &[], &[])], &[]);
        assert_eq!(
            SideEffects::between(&before, &after).to_string(),
            "-relationships 1, -properties 1"
        );
        let after = snap(&[(2, &[], &[])], &[]);
        assert_eq!(
            SideEffects::between(&before, &after).to_string(),
            "-nodes 1, -relationships 1, -properties 1, -labels 1"
        );
    }

    #[test]
    fn same_key_and_value_on_different_entities_are_different_properties() {
        let before = snap(&[(1, &[], &[("k", Value::Int(1))])], &[]);
        let after = snap(
            &[
                (1, &[], &[("k", Value::Int(1))]),
                (2, &[], &[("k", Value::Int(1))]),
            ],
            &[(1, &[("k", Value::Int(1))])],
        );
        assert_eq!(
            SideEffects::between(&before, &after).to_string(),
            "+nodes 1, +relationships 1, +properties 2"
        );
    }

    #[test]
    fn expectations_default_to_zero_and_reject_unknown_keys() {
        let rows = vec![
            vec!["+nodes".to_owned(), "2".to_owned()],
            vec!["-labels".to_owned(), "1".to_owned()],
        ];
        let fx = SideEffects::from_table(&rows).unwrap();
        assert_eq!(fx.to_string(), "+nodes 2, -labels 1");
        assert!(SideEffects::from_table(&[vec!["+edges".into(), "1".into()]]).is_err());
        assert!(SideEffects::from_table(&[vec!["+nodes".into(), "x".into()]]).is_err());
        assert!(SideEffects::from_table(&[vec!["+nodes".into()]]).is_err());
    }
}
