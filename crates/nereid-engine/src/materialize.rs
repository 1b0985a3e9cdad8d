//! Turns the node and relationship ids in result rows into [`NodeData`]/[`RelData`], read
//! from the transaction that produced the rows (before it commits).

use std::collections::HashMap;

use nereid_storage::GraphRead;
use nereid_value::{NodeId, RelId, Value};

use crate::result::{NodeData, RelData};

pub fn materialize(
    rows: &[Vec<Value>],
    g: &dyn GraphRead,
) -> (HashMap<NodeId, NodeData>, HashMap<RelId, RelData>) {
    let mut nodes = HashMap::new();
    let mut rels = HashMap::new();
    for row in rows {
        for v in row {
            visit(v, g, &mut nodes, &mut rels);
        }
    }
    (nodes, rels)
}

fn visit(
    v: &Value,
    g: &dyn GraphRead,
    nodes: &mut HashMap<NodeId, NodeData>,
    rels: &mut HashMap<RelId, RelData>,
) {
    match v {
        Value::Node(n) => add_node(*n, g, nodes),
        Value::Relationship(r) => add_rel(*r, g, rels),
        Value::Path(p) => {
            for n in &p.nodes {
                add_node(*n, g, nodes);
            }
            for r in &p.rels {
                add_rel(*r, g, rels);
            }
        }
        Value::List(items) => items.iter().for_each(|i| visit(i, g, nodes, rels)),
        Value::Map(m) => m.values().for_each(|i| visit(i, g, nodes, rels)),
        _ => {}
    }
}

fn add_node(n: NodeId, g: &dyn GraphRead, nodes: &mut HashMap<NodeId, NodeData>) {
    if nodes.contains_key(&n) {
        return;
    }
    let mut labels = Vec::new();
    g.node_labels(n, &mut labels);
    let mut labels: Vec<String> = labels
        .into_iter()
        .map(|l| g.label_name(l).to_owned())
        .collect();
    labels.sort();
    let mut props = Vec::new();
    g.node_properties(n, &mut props);
    nodes.insert(
        n,
        NodeData {
            // A node deleted by the query keeps no id in the store; report its internal id.
            id: g
                .node_external_id(n)
                .map_or_else(|| format!("deleted-{}", n.0), str::to_owned),
            labels,
            properties: props
                .into_iter()
                .map(|(k, v)| (g.key_name(k).to_owned(), v))
                .collect(),
        },
    );
}

fn add_rel(r: RelId, g: &dyn GraphRead, rels: &mut HashMap<RelId, RelData>) {
    if rels.contains_key(&r) {
        return;
    }
    let (start, end, rel_type) = match g.rel_info(r) {
        Some((s, e, t)) => (s, e, g.type_name(t).to_owned()),
        None => (NodeId(u64::MAX), NodeId(u64::MAX), String::new()),
    };
    let mut props = Vec::new();
    g.rel_properties(r, &mut props);
    let ext = |n: NodeId| {
        g.node_external_id(n)
            .map_or_else(|| format!("deleted-{}", n.0), str::to_owned)
    };
    rels.insert(
        r,
        RelData {
            id: g
                .rel_external_id(r)
                .map_or_else(|| format!("deleted-{}", r.0), str::to_owned),
            start,
            end,
            start_id: ext(start),
            end_id: ext(end),
            rel_type,
            properties: props
                .into_iter()
                .map(|(k, v)| (g.key_name(k).to_owned(), v))
                .collect(),
        },
    );
}
