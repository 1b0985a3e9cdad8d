//! Updating operators. Each one is eager: it pulls every input row first, then applies its
//! writes row by row (so MERGE sees what it created for earlier rows), then emits.

use std::collections::{BTreeSet, HashSet};

use nereid_common::{Error, ErrorCode, Map, NodeId, RelId, Value};
use nereid_storage::{Dir, GraphWrite, KeyId};

use super::{ExecCx, Operator, Row, BATCH};
use crate::legacy::expr::{property, EvalCx, Expr};
use crate::legacy::pattern::{MatchIter, PathSpec};
use crate::legacy::planner::{CreatePart, MergePlan, PropSource, SetOp};

pub enum Action<'p> {
    Create(&'p [CreatePart]),
    Merge(&'p MergePlan),
    Set(&'p [SetOp]),
    Delete { exprs: &'p [Expr], detach: bool },
}

pub struct Eager<'p> {
    input: Box<dyn Operator + 'p>,
    action: Action<'p>,
    output: Option<std::vec::IntoIter<Row>>,
}

impl<'p> Eager<'p> {
    pub fn new(input: Box<dyn Operator + 'p>, action: Action<'p>) -> Self {
        Self {
            input,
            action,
            output: None,
        }
    }
}

impl Operator for Eager<'_> {
    fn next(&mut self, cx: &mut ExecCx) -> Result<Option<Vec<Row>>, Error> {
        if self.output.is_none() {
            let mut rows = Vec::new();
            while let Some(batch) = self.input.next(cx)? {
                cx.cancel.check()?;
                for row in &batch {
                    cx.memory.charge_row(row)?;
                }
                rows.extend(batch);
            }
            let out = match &self.action {
                Action::Create(parts) => {
                    for (i, row) in rows.iter_mut().enumerate() {
                        if i % 256 == 255 {
                            cx.cancel.check()?;
                        }
                        for part in *parts {
                            create_part(part, row, cx)?;
                        }
                    }
                    rows
                }
                Action::Merge(plan) => merge(plan, rows, cx)?,
                Action::Set(items) => {
                    for (i, row) in rows.iter().enumerate() {
                        if i % 256 == 255 {
                            cx.cancel.check()?;
                        }
                        for item in *items {
                            apply_set(item, row, cx)?;
                        }
                    }
                    rows
                }
                Action::Delete { exprs, detach } => {
                    delete(exprs, *detach, &rows, cx)?;
                    rows
                }
            };
            self.output = Some(out.into_iter());
        }
        let Some(it) = self.output.as_mut() else {
            return Ok(None);
        };
        let batch: Vec<Row> = it.by_ref().take(BATCH).collect();
        Ok(if batch.is_empty() { None } else { Some(batch) })
    }
}

/// Property values as stored: null entries dropped, types checked.
fn props_of(src: &PropSource, row: &Row, ecx: &EvalCx) -> Result<Vec<(String, Value)>, Error> {
    let mut out = Vec::new();
    match src {
        PropSource::None => {}
        PropSource::Entries(entries) => {
            for (k, e) in entries {
                let v = e.eval(row, ecx)?;
                if !v.is_null() {
                    check_storable(k, &v)?;
                    out.push((k.clone(), v));
                }
            }
        }
        PropSource::Map(e) => match e.eval(row, ecx)? {
            Value::Map(m) => {
                for (k, v) in m {
                    if !v.is_null() {
                        check_storable(&k, &v)?;
                        out.push((k, v));
                    }
                }
            }
            Value::Null => {}
            other => {
                return Err(Error::type_error(format!(
                    "Expected a map of properties but got {} ({other})",
                    other.type_name()
                )))
            }
        },
    }
    Ok(out)
}

/// Only null, booleans, numbers, strings, temporal values and homogeneous lists of those can
/// be stored.
fn check_storable(key: &str, v: &Value) -> Result<(), Error> {
    let ok = match v {
        Value::Null
        | Value::Bool(_)
        | Value::Int(_)
        | Value::Float(_)
        | Value::String(_)
        | Value::Temporal(_) => true,
        Value::List(items) => items.iter().all(|i| {
            matches!(
                i,
                Value::Null
                    | Value::Bool(_)
                    | Value::Int(_)
                    | Value::Float(_)
                    | Value::String(_)
                    | Value::Temporal(_)
            )
        }),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::InvalidPropertyType,
            format!(
                "Property values can only be of primitive types or arrays thereof: `{key}` is a {}",
                v.type_name()
            ),
        ))
    }
}

/// Splits out the Neptune `~id` property: it sets the element's id instead.
fn take_external_id(props: &mut Vec<(String, Value)>) -> Result<Option<String>, Error> {
    let Some(i) = props.iter().position(|(k, _)| k == "~id") else {
        return Ok(None);
    };
    let (_, v) = props.remove(i);
    match v {
        Value::String(s) => Ok(Some(s)),
        Value::Int(i) => Ok(Some(i.to_string())),
        other => Err(Error::new(
            ErrorCode::InvalidArgumentType,
            format!(
                "`~id` must be a string, got {} ({other})",
                other.type_name()
            ),
        )),
    }
}

fn intern_props(g: &mut dyn GraphWrite, props: Vec<(String, Value)>) -> Vec<(KeyId, Value)> {
    props
        .into_iter()
        .map(|(k, v)| (g.intern_key(&k), v))
        .collect()
}

fn node_of(v: &Value, what: &str) -> Result<NodeId, Error> {
    match v {
        Value::Node(n) => Ok(*n),
        Value::Null => Err(Error::new(
            ErrorCode::InvalidArgumentValue,
            format!("Failed to create relationship: the {what} node is null"),
        )),
        other => Err(Error::type_error(format!(
            "Expected a node but got {} ({other})",
            other.type_name()
        ))),
    }
}

fn create_part(part: &CreatePart, row: &mut Row, cx: &mut ExecCx) -> Result<(), Error> {
    for node in &part.nodes {
        if node.existing {
            node_of(&row[node.slot], "existing")?;
            continue;
        }
        let mut props = props_of(&node.props, row, &cx.eval())?;
        let ext = take_external_id(&mut props)?;
        let g = cx.write()?;
        let labels: Vec<_> = node.labels.iter().map(|l| g.intern_label(l)).collect();
        let props = intern_props(g, props);
        let id = g.create_node(&labels, props, ext)?;
        row[node.slot] = Value::Node(id);
    }
    for rel in &part.rels {
        let mut props = props_of(&rel.props, row, &cx.eval())?;
        let ext = take_external_id(&mut props)?;
        let start = node_of(&row[rel.start], "start")?;
        let end = node_of(&row[rel.end], "end")?;
        let g = cx.write()?;
        let t = g.intern_type(&rel.rel_type);
        let props = intern_props(g, props);
        let id = g.create_rel(start, end, t, props, ext)?;
        row[rel.slot] = Value::Relationship(id);
    }
    if let Some(path) = &part.path {
        row[path.slot] = simple_path(path, row);
    }
    Ok(())
}

fn simple_path(spec: &PathSpec, row: &Row) -> Value {
    let mut nodes = Vec::new();
    let mut rels = Vec::new();
    if let Value::Node(n) = row[spec.start] {
        nodes.push(n);
    }
    for (r, n, _) in &spec.hops {
        if let Value::Relationship(r) = row[*r] {
            rels.push(r);
        }
        if let Value::Node(n) = row[*n] {
            nodes.push(n);
        }
    }
    Value::Path(Box::new(nereid_common::Path { nodes, rels }))
}

fn merge(plan: &MergePlan, rows: Vec<Row>, cx: &mut ExecCx) -> Result<Vec<Row>, Error> {
    let mut out = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        if i % 256 == 255 {
            cx.cancel.check()?;
        }
        // Null property values can never match and cannot be created.
        check_merge_props(plan, &row, &cx.eval())?;
        let matches: Vec<Row> = {
            let ecx = cx.eval();
            let mut it = MatchIter::new(&plan.pattern, row.clone());
            let mut found = Vec::new();
            while let Some(m) = it.next(&ecx)? {
                found.push(m.to_vec());
            }
            found
        };
        if matches.is_empty() {
            let mut r = row;
            create_part(&plan.create, &mut r, cx)?;
            for item in &plan.on_create {
                apply_set(item, &r, cx)?;
            }
            out.push(r);
        } else {
            for m in matches {
                for item in &plan.on_match {
                    apply_set(item, &m, cx)?;
                }
                out.push(m);
            }
        }
    }
    Ok(out)
}

fn check_merge_props(plan: &MergePlan, row: &Row, ecx: &EvalCx) -> Result<(), Error> {
    let check = |src: &PropSource| -> Result<(), Error> {
        if let PropSource::Entries(entries) = src {
            for (k, e) in entries {
                if e.eval(row, ecx)?.is_null() {
                    return Err(Error::new(
                        ErrorCode::MergeReadOwnWrites,
                        format!("Cannot merge the following node or relationship because of null property value for '{k}'"),
                    ));
                }
            }
        }
        Ok(())
    };
    for n in &plan.create.nodes {
        check(&n.props)?;
    }
    for r in &plan.create.rels {
        check(&r.props)?;
    }
    Ok(())
}

enum Entity {
    Node(NodeId),
    Rel(RelId),
}

fn entity(v: &Value, what: &str) -> Result<Option<Entity>, Error> {
    match v {
        Value::Null => Ok(None),
        Value::Node(n) => Ok(Some(Entity::Node(*n))),
        Value::Relationship(r) => Ok(Some(Entity::Rel(*r))),
        other => Err(Error::type_error(format!(
            "{what} expects a node or relationship but got {} ({other})",
            other.type_name()
        ))),
    }
}

fn set_prop(g: &mut dyn GraphWrite, e: &Entity, key: &str, v: Value) -> Result<(), Error> {
    if v.is_null() {
        let Some(k) = g.key_id(key) else {
            return Ok(());
        };
        return match e {
            Entity::Node(n) => g.set_node_property(*n, k, Value::Null),
            Entity::Rel(r) => g.set_rel_property(*r, k, Value::Null),
        };
    }
    check_storable(key, &v)?;
    let k = g.intern_key(key);
    match e {
        Entity::Node(n) => g.set_node_property(*n, k, v),
        Entity::Rel(r) => g.set_rel_property(*r, k, v),
    }
}

fn current_props(g: &dyn nereid_storage::GraphRead, e: &Entity) -> Vec<(KeyId, Value)> {
    let mut props = Vec::new();
    match e {
        Entity::Node(n) => g.node_properties(*n, &mut props),
        Entity::Rel(r) => g.rel_properties(*r, &mut props),
    }
    props
}

/// The map a `SET n = x` / `SET n += x` copies from.
fn source_map(v: Value, g: &dyn nereid_storage::GraphRead) -> Result<Option<Map>, Error> {
    match v {
        Value::Null => Ok(None),
        Value::Map(m) => Ok(Some(m)),
        Value::Node(_) | Value::Relationship(_) => match property_map(&v, g)? {
            Value::Map(m) => Ok(Some(m)),
            _ => Ok(None),
        },
        other => Err(Error::type_error(format!(
            "Expected a map to set properties from but got {} ({other})",
            other.type_name()
        ))),
    }
}

fn property_map(v: &Value, g: &dyn nereid_storage::GraphRead) -> Result<Value, Error> {
    crate::legacy::expr::graph_fn(crate::legacy::expr::GraphFn::Properties, v.clone(), g)
}

fn apply_set(item: &SetOp, row: &Row, cx: &mut ExecCx) -> Result<(), Error> {
    match item {
        SetOp::Property { target, key, value } => {
            let (t, v) = {
                let ecx = cx.eval();
                (target.eval(row, &ecx)?, value.eval(row, &ecx)?)
            };
            let Some(e) = entity(&t, "SET")? else {
                return Ok(());
            };
            ensure_live(cx, &e)?;
            set_prop(cx.write()?, &e, key, v)
        }
        SetOp::Replace { target, value } | SetOp::Merge { target, value } => {
            let replace = matches!(item, SetOp::Replace { .. });
            let (t, v) = {
                let ecx = cx.eval();
                (target.eval(row, &ecx)?, value.eval(row, &ecx)?)
            };
            let Some(e) = entity(&t, "SET")? else {
                return Ok(());
            };
            ensure_live(cx, &e)?;
            let src = source_map(v, cx.graph())?;
            let existing = current_props(cx.graph(), &e);
            let g = cx.write()?;
            if replace {
                for (k, _) in existing {
                    let name = g.key_name(k).to_owned();
                    if src.as_ref().is_some_and(|m| m.contains_key(&name)) {
                        continue;
                    }
                    set_prop(g, &e, &name, Value::Null)?;
                }
            }
            if let Some(m) = src {
                for (k, v) in m {
                    set_prop(g, &e, &k, v)?;
                }
            }
            Ok(())
        }
        SetOp::AddLabels { target, labels } | SetOp::RemoveLabels { target, labels } => {
            let add = matches!(item, SetOp::AddLabels { .. });
            let t = target.eval(row, &cx.eval())?;
            let n = match t {
                Value::Null => return Ok(()),
                Value::Node(n) => n,
                other => {
                    return Err(Error::type_error(format!(
                        "Labels can only be set on nodes, not on {} ({other})",
                        other.type_name()
                    )))
                }
            };
            ensure_live(cx, &Entity::Node(n))?;
            let g = cx.write()?;
            for l in labels {
                if add {
                    let id = g.intern_label(l);
                    g.add_label(n, id)?;
                } else if let Some(id) = g.label_id(l) {
                    g.remove_label(n, id)?;
                }
            }
            Ok(())
        }
        SetOp::RemoveProperty { target, key } => {
            let t = target.eval(row, &cx.eval())?;
            let Some(e) = entity(&t, "REMOVE")? else {
                return Ok(());
            };
            ensure_live(cx, &e)?;
            set_prop(cx.write()?, &e, key, Value::Null)
        }
    }
}

fn ensure_live(cx: &ExecCx, e: &Entity) -> Result<(), Error> {
    let g = cx.graph();
    let live = match e {
        Entity::Node(n) => g.node_exists(*n),
        Entity::Rel(r) => g.rel_exists(*r),
    };
    if live {
        Ok(())
    } else {
        // Reading through `property` yields the standard deleted-entity error.
        let v = match e {
            Entity::Node(n) => Value::Node(*n),
            Entity::Rel(r) => Value::Relationship(*r),
        };
        property(&v, "", g).map(|_| ())
    }
}

fn delete(exprs: &[Expr], detach: bool, rows: &[Row], cx: &mut ExecCx) -> Result<(), Error> {
    let mut nodes: BTreeSet<NodeId> = BTreeSet::new();
    let mut rels: BTreeSet<RelId> = BTreeSet::new();
    {
        let ecx = cx.eval();
        for row in rows {
            for e in exprs {
                collect_deletable(e.eval(row, &ecx)?, &mut nodes, &mut rels)?;
            }
        }
    }
    let lookups = cx.lookups;
    let g = cx.write()?;
    if detach {
        let mut buf = Vec::new();
        for n in &nodes {
            buf.clear();
            g.expand(*n, Dir::Both, &[], &mut buf);
            rels.extend(buf.iter().map(|(r, _)| *r));
        }
    }
    let mut done: HashSet<RelId> = HashSet::new();
    for r in rels {
        if done.insert(r) && g.rel_exists(r) {
            if let Some(info) = g.rel_info(r) {
                lookups.remember_deleted_rel(r, info);
            }
            g.delete_rel(r)?;
        }
    }
    for n in nodes {
        if g.node_exists(n) {
            g.delete_node(n)?;
        }
    }
    Ok(())
}

fn collect_deletable(
    v: Value,
    nodes: &mut BTreeSet<NodeId>,
    rels: &mut BTreeSet<RelId>,
) -> Result<(), Error> {
    match v {
        Value::Null => Ok(()),
        Value::Node(n) => {
            nodes.insert(n);
            Ok(())
        }
        Value::Relationship(r) => {
            rels.insert(r);
            Ok(())
        }
        Value::Path(p) => {
            nodes.extend(p.nodes);
            rels.extend(p.rels);
            Ok(())
        }
        Value::List(items) => {
            for i in items {
                collect_deletable(i, nodes, rels)?;
            }
            Ok(())
        }
        other => Err(Error::type_error(format!(
            "DELETE expects a node, relationship or path but got {} ({other})",
            other.type_name()
        ))),
    }
}

/// `CREATE INDEX` / `DROP INDEX`: changes the store's index set in this transaction.
pub struct IndexOp<'p> {
    pub create: bool,
    pub label: &'p str,
    pub key: &'p str,
    pub done: bool,
}

impl Operator for IndexOp<'_> {
    fn next(&mut self, cx: &mut ExecCx) -> Result<Option<Vec<Row>>, Error> {
        if self.done {
            return Ok(None);
        }
        self.done = true;
        let g = cx.write()?;
        if self.create {
            let label = g.intern_label(self.label);
            let key = g.intern_key(self.key);
            g.create_index(label, key)?;
        } else if let (Some(label), Some(key)) = (g.label_id(self.label), g.key_id(self.key)) {
            g.drop_index(label, key)?;
        }
        Ok(None)
    }
}
