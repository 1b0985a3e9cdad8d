//! Updating operators. Each one is eager: it pulls every input row first (so a clause
//! never sees its own writes through the reads below it), then applies its writes row by
//! row (so MERGE sees what it created for earlier rows), then emits. The rows it holds
//! are charged to the memory budget.
//!
//! CREATE and MERGE work on a row of the input's columns followed by one column per
//! variable they bind; SET, REMOVE and DELETE pass their input rows through.

use std::collections::{BTreeSet, HashSet};

use nereid_common::{Error, ErrorCode};
use nereid_storage::{Dir, GraphRead, GraphWrite, KeyId};
use nereid_value::{Map, NodeId, RelId, Value};

use super::expr::{deleted_entity, graph_fn, CExpr, Frame};
use super::memory::{row_size, Reservation};
use super::{ArgCell, Batch, BoxOp, Ctx, GraphAccess, Operator};
use crate::plan::GraphFn;

/// Where a created element's properties come from, compiled.
pub enum CProps {
    None,
    Entries(Vec<(String, CExpr)>),
    Map(CExpr),
}

pub struct CCreateNode {
    pub slot: usize,
    pub existing: bool,
    pub labels: Vec<String>,
    pub props: CProps,
}

pub struct CCreateRel {
    pub slot: usize,
    pub start: usize,
    pub end: usize,
    pub rel_type: String,
    pub props: CProps,
}

/// A path to assemble: its slot, the start node's slot, `(relationship, node, is a list)`.
pub struct CPath {
    pub slot: usize,
    pub start: usize,
    pub hops: Vec<(usize, usize, bool)>,
}

pub struct CCreatePart {
    pub nodes: Vec<CCreateNode>,
    pub rels: Vec<CCreateRel>,
    pub path: Option<CPath>,
}

/// A SET / REMOVE item, compiled.
pub enum CSetItem {
    Property {
        target: CExpr,
        key: String,
        value: CExpr,
    },
    Replace {
        target: CExpr,
        value: CExpr,
    },
    MergeMap {
        target: CExpr,
        value: CExpr,
    },
    AddLabels {
        target: CExpr,
        labels: Vec<String>,
    },
    RemoveLabels {
        target: CExpr,
        labels: Vec<String>,
    },
    RemoveProperty {
        target: CExpr,
        key: String,
    },
}

/// MERGE, compiled.
pub struct CMerge {
    /// The pattern, starting at an `Argument` that reads `cell` (the input row).
    pub pattern: BoxOp,
    pub cell: ArgCell,
    /// Per variable MERGE binds (the work row's columns after the input's): its column in
    /// the pattern's output rows.
    pub pattern_cols: Vec<Option<usize>>,
    pub create: CCreatePart,
    pub on_create: Vec<CSetItem>,
    pub on_match: Vec<CSetItem>,
}

pub enum Action {
    Create(Vec<CCreatePart>),
    Merge(Box<CMerge>),
    Set(Vec<CSetItem>),
    Delete { exprs: Vec<CExpr>, detach: bool },
}

/// Runs an [`Action`] over all its input rows, then emits the rows.
pub struct EagerWrite {
    pub input: BoxOp,
    pub action: Action,
    /// Columns the action adds to each input row (CREATE and MERGE).
    pub extra: usize,
    pub frame: Frame,
    output: Option<std::vec::IntoIter<Vec<Value>>>,
    width: usize,
    hold: Option<Reservation>,
}

impl EagerWrite {
    pub fn new(input: BoxOp, action: Action, extra: usize) -> Self {
        Self {
            input,
            action,
            extra,
            frame: Frame::new(),
            output: None,
            width: 0,
            hold: None,
        }
    }

    fn run(&mut self, cx: &mut Ctx) -> Result<Vec<Vec<Value>>, Error> {
        let mut hold = Reservation::new(cx.env.memory);
        let mut rows: Vec<Vec<Value>> = Vec::new();
        let mut in_width = None;
        while let Some(batch) = self.input.next(cx)? {
            cx.check()?;
            in_width = Some(batch.width());
            for row in batch.rows() {
                hold.grow(row_size(row) + self.extra * 16)?;
                let mut r = Vec::with_capacity(row.len() + self.extra);
                r.extend_from_slice(row);
                r.resize(row.len() + self.extra, Value::Null);
                rows.push(r);
            }
        }
        self.width = in_width.unwrap_or(0) + self.extra;
        let frame = &mut self.frame;
        let out = match &mut self.action {
            Action::Create(parts) => {
                for (i, row) in rows.iter_mut().enumerate() {
                    if i % 256 == 255 {
                        cx.check()?;
                    }
                    for part in parts.iter() {
                        create_part(part, row, frame, cx)?;
                    }
                }
                rows
            }
            Action::Merge(m) => merge(m, rows, frame, cx, &mut hold)?,
            Action::Set(items) => {
                for (i, row) in rows.iter().enumerate() {
                    if i % 256 == 255 {
                        cx.check()?;
                    }
                    for item in items.iter() {
                        apply_set(item, row, frame, cx)?;
                    }
                }
                rows
            }
            Action::Delete { exprs, detach } => {
                delete(exprs, *detach, &rows, frame, cx)?;
                rows
            }
        };
        self.hold = Some(hold);
        Ok(out)
    }
}

impl Operator for EagerWrite {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        if self.output.is_none() {
            let rows = self.run(cx)?;
            self.output = Some(rows.into_iter());
        }
        let Some(rows) = self.output.as_mut() else {
            return Ok(None);
        };
        let mut out = Batch::new(self.width);
        for row in rows.by_ref() {
            out.push_row(row);
            if out.is_full() {
                break;
            }
        }
        if out.is_empty() {
            self.hold = None;
            return Ok(None);
        }
        Ok(Some(out))
    }

    fn reset(&mut self) {
        self.input.reset();
        self.output = None;
        self.hold = None;
    }
}

/// Property values as stored: null entries dropped, types checked.
fn props_of(
    src: &CProps,
    row: &[Value],
    frame: &mut Frame,
    cx: &Ctx,
) -> Result<Vec<(String, Value)>, Error> {
    let ecx = cx.eval();
    let mut out = Vec::new();
    match src {
        CProps::None => {}
        CProps::Entries(entries) => {
            for (k, e) in entries {
                let v = e.eval(row, frame, &ecx)?;
                if !v.is_null() {
                    check_storable(k, &v)?;
                    out.push((k.clone(), v));
                }
            }
        }
        CProps::Map(e) => match e.eval(row, frame, &ecx)? {
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

fn is_primitive(v: &Value) -> bool {
    matches!(
        v,
        Value::Null
            | Value::Bool(_)
            | Value::Int(_)
            | Value::Float(_)
            | Value::String(_)
            | Value::Temporal(_)
    )
}

/// Only null, booleans, numbers, strings, temporal values and lists of those can be
/// stored.
fn check_storable(key: &str, v: &Value) -> Result<(), Error> {
    let ok = match v {
        Value::List(items) => items.iter().all(is_primitive),
        other => is_primitive(other),
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

fn create_part(
    part: &CCreatePart,
    row: &mut [Value],
    frame: &mut Frame,
    cx: &mut Ctx,
) -> Result<(), Error> {
    for node in &part.nodes {
        if node.existing {
            node_of(&row[node.slot], "existing")?;
            continue;
        }
        let mut props = props_of(&node.props, row, frame, cx)?;
        let ext = take_external_id(&mut props)?;
        let g = cx.write()?;
        let labels: Vec<_> = node.labels.iter().map(|l| g.intern_label(l)).collect();
        let props = intern_props(g, props);
        let id = g.create_node(&labels, props, ext)?;
        row[node.slot] = Value::Node(id);
    }
    for rel in &part.rels {
        let mut props = props_of(&rel.props, row, frame, cx)?;
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

fn simple_path(spec: &CPath, row: &[Value]) -> Value {
    let mut nodes = Vec::new();
    let mut rels = Vec::new();
    if let Value::Node(n) = row[spec.start] {
        nodes.push(n);
    }
    for &(r, n, _) in &spec.hops {
        match &row[r] {
            Value::Relationship(r) => rels.push(*r),
            Value::List(items) => rels.extend(items.iter().filter_map(|v| match v {
                Value::Relationship(r) => Some(*r),
                _ => None,
            })),
            _ => {}
        }
        if let Value::Node(n) = row[n] {
            nodes.push(n);
        }
    }
    Value::Path(Box::new(nereid_value::Path { nodes, rels }))
}

fn merge(
    m: &mut CMerge,
    rows: Vec<Vec<Value>>,
    frame: &mut Frame,
    cx: &mut Ctx,
    hold: &mut Reservation,
) -> Result<Vec<Vec<Value>>, Error> {
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.into_iter().enumerate() {
        if i % 256 == 255 {
            cx.check()?;
        }
        // Null property values can never match and cannot be created.
        check_merge_props(&m.create, &row, frame, cx)?;
        let in_width = row.len() - m.pattern_cols.len();
        let mut matches: Vec<Vec<Value>> = Vec::new();
        {
            *m.cell.borrow_mut() = row[..in_width].to_vec();
            m.pattern.reset();
            let mut sub = Ctx {
                graph: GraphAccess::Read(cx.graph()),
                env: cx.env,
            };
            while let Some(b) = m.pattern.next(&mut sub)? {
                for r in b.rows() {
                    let mut w = row[..in_width].to_vec();
                    w.extend(
                        m.pattern_cols
                            .iter()
                            .map(|c| c.map_or(Value::Null, |c| r[c].clone())),
                    );
                    hold.grow(row_size(&w))?;
                    matches.push(w);
                }
            }
        }
        if matches.is_empty() {
            let mut r = row;
            create_part(&m.create, &mut r, frame, cx)?;
            for item in &m.on_create {
                apply_set(item, &r, frame, cx)?;
            }
            out.push(r);
        } else {
            for w in matches {
                for item in &m.on_match {
                    apply_set(item, &w, frame, cx)?;
                }
                out.push(w);
            }
        }
    }
    Ok(out)
}

fn check_merge_props(
    part: &CCreatePart,
    row: &[Value],
    frame: &mut Frame,
    cx: &Ctx,
) -> Result<(), Error> {
    let ecx = cx.eval();
    let mut check = |src: &CProps| -> Result<(), Error> {
        if let CProps::Entries(entries) = src {
            for (k, e) in entries {
                if e.eval(row, frame, &ecx)?.is_null() {
                    return Err(Error::new(
                        ErrorCode::MergeReadOwnWrites,
                        format!("Cannot merge the following node or relationship because of null property value for '{k}'"),
                    ));
                }
            }
        }
        Ok(())
    };
    for n in &part.nodes {
        check(&n.props)?;
    }
    for r in &part.rels {
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
        if unchanged(g, e, k, &v) {
            return Ok(());
        }
        return match e {
            Entity::Node(n) => g.set_node_property(*n, k, Value::Null),
            Entity::Rel(r) => g.set_rel_property(*r, k, Value::Null),
        };
    }
    check_storable(key, &v)?;
    // Setting the value a property already has changes nothing: no change to log, and a
    // transaction of such writes alone commits without a log record (an idempotent `SET`
    // repeated does not wait for the disk).
    if let Some(k) = g.key_id(key) {
        if unchanged(g, e, k, &v) {
            return Ok(());
        }
    }
    let k = g.intern_key(key);
    match e {
        Entity::Node(n) => g.set_node_property(*n, k, v),
        Entity::Rel(r) => g.set_rel_property(*r, k, v),
    }
}

/// Whether property `k` of the live element `e` already is exactly `v` (absent for null):
/// the same type and the same bits (`1` is not `1.0`, `0.0` is not `-0.0`). Lists and
/// temporal values are never taken as unchanged.
fn unchanged(g: &dyn GraphRead, e: &Entity, k: KeyId, v: &Value) -> bool {
    let current = match e {
        Entity::Node(n) => g.live_node_property(*n, k),
        Entity::Rel(r) => g.live_rel_property(*r, k),
    };
    let Some(current) = current else {
        return false;
    };
    match (current, v) {
        (None, Value::Null) => true,
        (Some(Value::Int(a)), Value::Int(b)) => a == *b,
        (Some(Value::Float(a)), Value::Float(b)) => a.to_bits() == b.to_bits(),
        (Some(Value::Bool(a)), Value::Bool(b)) => a == *b,
        (Some(Value::String(a)), Value::String(b)) => a == *b,
        _ => false,
    }
}

fn current_props(g: &dyn GraphRead, e: &Entity) -> Vec<(KeyId, Value)> {
    let mut props = Vec::new();
    match e {
        Entity::Node(n) => g.node_properties(*n, &mut props),
        Entity::Rel(r) => g.rel_properties(*r, &mut props),
    }
    props
}

/// The map a `SET n = x` / `SET n += x` copies from.
fn source_map(v: Value, g: &dyn GraphRead) -> Result<Option<Map>, Error> {
    match v {
        Value::Null => Ok(None),
        Value::Map(m) => Ok(Some(m)),
        Value::Node(_) | Value::Relationship(_) => match graph_fn(GraphFn::Properties, v, g)? {
            Value::Map(m) => Ok(Some(m)),
            _ => Ok(None),
        },
        other => Err(Error::type_error(format!(
            "Expected a map to set properties from but got {} ({other})",
            other.type_name()
        ))),
    }
}

fn eval2(
    a: &CExpr,
    b: &CExpr,
    row: &[Value],
    frame: &mut Frame,
    cx: &Ctx,
) -> Result<(Value, Value), Error> {
    let ecx = cx.eval();
    Ok((a.eval(row, frame, &ecx)?, b.eval(row, frame, &ecx)?))
}

fn apply_set(item: &CSetItem, row: &[Value], frame: &mut Frame, cx: &mut Ctx) -> Result<(), Error> {
    match item {
        CSetItem::Property { target, key, value } => {
            let (t, v) = eval2(target, value, row, frame, cx)?;
            let Some(e) = entity(&t, "SET")? else {
                return Ok(());
            };
            ensure_live(cx, &e)?;
            set_prop(cx.write()?, &e, key, v)
        }
        CSetItem::Replace { target, value } | CSetItem::MergeMap { target, value } => {
            let replace = matches!(item, CSetItem::Replace { .. });
            let (t, v) = eval2(target, value, row, frame, cx)?;
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
        CSetItem::AddLabels { target, labels } | CSetItem::RemoveLabels { target, labels } => {
            let add = matches!(item, CSetItem::AddLabels { .. });
            let t = target.eval(row, frame, &cx.eval())?;
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
        CSetItem::RemoveProperty { target, key } => {
            let t = target.eval(row, frame, &cx.eval())?;
            let Some(e) = entity(&t, "REMOVE")? else {
                return Ok(());
            };
            ensure_live(cx, &e)?;
            set_prop(cx.write()?, &e, key, Value::Null)
        }
    }
}

fn ensure_live(cx: &Ctx, e: &Entity) -> Result<(), Error> {
    let g = cx.graph();
    match e {
        Entity::Node(n) if !g.node_exists(*n) => Err(deleted_entity("node")),
        Entity::Rel(r) if !g.rel_exists(*r) => Err(deleted_entity("relationship")),
        _ => Ok(()),
    }
}

fn delete(
    exprs: &[CExpr],
    detach: bool,
    rows: &[Vec<Value>],
    frame: &mut Frame,
    cx: &mut Ctx,
) -> Result<(), Error> {
    let mut nodes: BTreeSet<NodeId> = BTreeSet::new();
    let mut rels: BTreeSet<RelId> = BTreeSet::new();
    {
        let ecx = cx.eval();
        for row in rows {
            for e in exprs {
                collect_deletable(e.eval(row, frame, &ecx)?, &mut nodes, &mut rels)?;
            }
        }
    }
    let deleted = cx.env.deleted;
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
                deleted.remember(r, info);
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
pub struct IndexOp {
    pub create: bool,
    pub label: String,
    pub key: String,
    pub done: bool,
}

impl Operator for IndexOp {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        if self.done {
            return Ok(None);
        }
        self.done = true;
        let g = cx.write()?;
        if self.create {
            let label = g.intern_label(&self.label);
            let key = g.intern_key(&self.key);
            g.create_index(label, key)?;
        } else if let (Some(label), Some(key)) = (g.label_id(&self.label), g.key_id(&self.key)) {
            g.drop_index(label, key)?;
        }
        Ok(None)
    }

    fn reset(&mut self) {
        self.done = false;
    }
}
