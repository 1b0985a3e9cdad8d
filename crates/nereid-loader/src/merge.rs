//! Gremlin CSV (`format: "csv"`) rows whose `~id` is already taken — by an element in the
//! graph or earlier in the load — and `updateSingleCardinalityProperties`.
//!
//! Neptune's rule: a single-cardinality property holds one value, so loading a *different*
//! value for it is an error by default, and with `updateSingleCardinalityProperties` TRUE the
//! new value replaces the old one. Single-cardinality properties are the vertex columns
//! marked `(single)` and every edge column (edge properties are always single).
//!
//! For such a row, per single-cardinality value in it:
//!
//! | the element has | FALSE (default) | TRUE |
//! |---|---|---|
//! | no value for the key | the value is added | the value is added |
//! | the same value | nothing | nothing |
//! | another value | the row is an insert error; nothing of it is applied | replaced |
//!
//! A row that changes nothing counts in `totalDuplicates`, as before; one that adds or
//! replaces a value is a loaded record. What is not merged (documented in the README):
//! labels and set-cardinality values of a taken vertex id, and an edge's ends and label —
//! the element keeps those. openCypher files are never merged (Neptune does not support the
//! option there; a taken id is a duplicate).

use nereid_common::Error;
use nereid_storage::{BulkWrite, KeyId};
use nereid_value::{NodeId, RelId, Value};

/// The element a row's id names.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Element {
    Node(NodeId),
    Rel(RelId),
}

/// What merging a row did.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Merged {
    /// Every value was already there: a duplicate.
    Unchanged,
    /// Values were added or replaced.
    Updated,
    /// A different value for a single-cardinality property, without the update option; the
    /// message says which.
    Conflict(String),
}

/// Merges `values` (the row's single-cardinality values, keys interned) into `element`.
pub(crate) fn merge(
    txn: &mut BulkWrite<'_>,
    element: Element,
    external_id: &str,
    values: &[(KeyId, Value)],
    update: bool,
) -> Result<Merged, Error> {
    let mut changes = Vec::new();
    for (key, value) in values {
        let existing = match element {
            Element::Node(n) => txn.node_property(n, *key),
            Element::Rel(r) => txn.rel_property(r, *key),
        };
        match existing {
            Some(old) if old == *value => {}
            Some(old) if !update => {
                let what = match element {
                    Element::Node(_) => "vertex",
                    Element::Rel(_) => "edge",
                };
                return Ok(Merged::Conflict(format!(
                    "{what} '{external_id}' already has {} = {old}; the new value {value} violates single cardinality (load with updateSingleCardinalityProperties TRUE to replace it)",
                    txn.key_name(*key)
                )));
            }
            _ => changes.push((*key, value.clone())),
        }
    }
    if changes.is_empty() {
        return Ok(Merged::Unchanged);
    }
    for (key, value) in changes {
        match element {
            Element::Node(n) => txn.set_node_property(n, key, value)?,
            Element::Rel(r) => txn.set_rel_property(r, key, value)?,
        }
    }
    Ok(Merged::Updated)
}
