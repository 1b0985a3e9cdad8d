//! Pattern matching: a compiled pattern is a list of [`Step`]s; [`MatchIter`] enumerates the
//! matches of one input row by an explicit depth-first search, so that it can stop after any
//! match (LIMIT, EXISTS) and check the cancel token while it runs.
//!
//! Every pattern element has its own row slot (anonymous ones get hidden slots), which makes
//! named paths and relationship uniqueness plain slot lookups.

use std::ops::Bound;

use nereid_common::{Error, NodeId, Path, RelId, Value};
use nereid_cypher::ast::BinaryOp;
use nereid_storage::{Dir, GraphRead, TypeId};

use crate::legacy::expr::{truth, EvalCx, Expr};

/// Label and property constraints on a node.
#[derive(Debug, Clone, Default)]
pub struct NodeCheck {
    pub labels: Vec<String>,
    pub props: Vec<(String, Expr)>,
    /// `n.key <op> bound` predicates from WHERE that a property index may answer (scans
    /// only; the predicates are still applied as filters).
    pub index_hints: Vec<IndexHint>,
}

/// A WHERE predicate on a scanned node's property, usable to pick an index.
#[derive(Debug, Clone)]
pub struct IndexHint {
    pub key: String,
    /// `Eq`, `Lt`, `Le`, `Gt` or `Ge`, with the property on the left.
    pub op: BinaryOp,
    /// Evaluated before the scan; reads no slot the pattern binds.
    pub bound: Expr,
}

impl NodeCheck {
    fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.props.is_empty()
    }
}

/// One hop (or a variable-length run of hops).
#[derive(Debug, Clone)]
pub struct Hop {
    pub from: usize,
    pub rel: usize,
    pub to: usize,
    /// Direction as traversed (from `from` to `to`).
    pub dir: Dir,
    pub types: Vec<String>,
    pub rel_props: Vec<(String, Expr)>,
    /// `Some((min, max))` for a variable-length relationship (bound to a list).
    pub var_length: Option<(u64, Option<u64>)>,
    /// The relationship slot was bound before this step: only that relationship matches.
    pub rel_bound: bool,
    /// The target node slot was bound before this step: the hop must end there.
    pub to_bound: bool,
    pub to_check: NodeCheck,
    /// Relationship slots bound earlier in the same MATCH that this one must differ from.
    pub unique_against: Vec<usize>,
    /// The traversal runs against the pattern's written order: reverse var-length lists.
    pub reversed: bool,
}

/// How a named path is assembled from slots, in the pattern's written order.
#[derive(Debug, Clone)]
pub struct PathSpec {
    pub slot: usize,
    pub start: usize,
    /// `(relationship slot, node slot, is variable length)` per hop.
    pub hops: Vec<(usize, usize, bool)>,
}

#[derive(Debug, Clone)]
pub enum Step {
    /// Bind `slot` to every node passing `check`.
    Scan {
        slot: usize,
        check: NodeCheck,
    },
    /// `slot` is already bound: keep the row only if it holds a node passing `check`.
    Check {
        slot: usize,
        check: NodeCheck,
    },
    Expand(Box<Hop>),
    /// A pushed-down predicate.
    Filter(Expr),
    BuildPath(PathSpec),
}

/// A compiled pattern.
#[derive(Debug, Clone, Default)]
pub struct PatternPlan {
    pub steps: Vec<Step>,
}

/// A node being expanded by a variable-length search: its relationships and the next one to try.
type Frontier = (NodeId, Vec<(RelId, NodeId)>, usize);

enum Cand {
    Node(NodeId),
    Rel(RelId, NodeId),
    Var(Vec<RelId>, NodeId),
    Unit,
}

struct Frame {
    cands: Vec<Cand>,
    pos: usize,
}

/// Depth-first enumeration of the matches of a pattern for one starting row.
///
/// `frames[i]` holds the candidates of step `i`; frames above `depth` are kept (empty) so
/// their buffers are reused by the next row instead of being allocated again.
pub struct MatchIter<'p> {
    plan: &'p PatternPlan,
    row: Vec<Value>,
    frames: Vec<Frame>,
    depth: usize,
    started: bool,
    done: bool,
    ticks: u32,
}

impl<'p> MatchIter<'p> {
    pub fn new(plan: &'p PatternPlan, row: Vec<Value>) -> Self {
        Self {
            plan,
            row,
            frames: Vec::new(),
            depth: 0,
            started: false,
            done: false,
            ticks: 0,
        }
    }

    /// Starts over on a new input row, keeping the buffers.
    pub fn reset(&mut self, row: Vec<Value>) {
        self.row = row;
        self.depth = 0;
        self.started = false;
        self.done = false;
    }

    /// Takes the current row out (the iterator must be reset before further use).
    pub fn take_row(&mut self) -> Vec<Value> {
        self.done = true;
        std::mem::take(&mut self.row)
    }

    /// Fills frame `index` with the candidates of step `index` and makes it the top.
    fn push_frame(&mut self, index: usize, cx: &EvalCx) -> Result<(), Error> {
        if self.frames.len() <= index {
            self.frames.push(Frame {
                cands: Vec::new(),
                pos: 0,
            });
        }
        let mut cands = std::mem::take(&mut self.frames[index].cands);
        cands.clear();
        let result = self.candidates(index, cx, &mut cands);
        self.frames[index] = Frame { cands, pos: 0 };
        self.depth = index + 1;
        result
    }

    /// The next match: the input row with the pattern's slots bound.
    pub fn next(&mut self, cx: &EvalCx) -> Result<Option<&[Value]>, Error> {
        if self.done {
            return Ok(None);
        }
        if !self.started {
            self.started = true;
            if self.plan.steps.is_empty() {
                self.done = true;
                return Ok(Some(&self.row));
            }
            self.push_frame(0, cx)?;
        }
        loop {
            self.ticks = self.ticks.wrapping_add(1);
            if self.ticks.is_multiple_of(1024) {
                cx.cancel.check()?;
            }
            let depth = self.depth;
            if depth == 0 {
                self.done = true;
                return Ok(None);
            }
            let frame = &mut self.frames[depth - 1];
            if frame.pos >= frame.cands.len() {
                self.depth -= 1;
                continue;
            }
            let i = frame.pos;
            frame.pos += 1;
            let step = &self.plan.steps[depth - 1];
            match (&frame.cands[i], step) {
                (Cand::Node(n), Step::Scan { slot, .. }) => self.row[*slot] = Value::Node(*n),
                (Cand::Rel(r, m), Step::Expand(h)) => {
                    self.row[h.rel] = Value::Relationship(*r);
                    self.row[h.to] = Value::Node(*m);
                }
                (Cand::Var(rels, m), Step::Expand(h)) => {
                    let mut list: Vec<Value> =
                        rels.iter().map(|r| Value::Relationship(*r)).collect();
                    if h.reversed {
                        list.reverse();
                    }
                    self.row[h.rel] = Value::List(list);
                    self.row[h.to] = Value::Node(*m);
                }
                (Cand::Unit, Step::BuildPath(spec)) => {
                    let path = build_path(spec, &self.row, cx.graph)?;
                    self.row[spec.slot] = path;
                }
                _ => {}
            }
            if depth == self.plan.steps.len() {
                return Ok(Some(&self.row));
            }
            self.push_frame(depth, cx)?;
        }
    }

    fn candidates(&self, index: usize, cx: &EvalCx, out: &mut Vec<Cand>) -> Result<(), Error> {
        let row = &self.row;
        let g = cx.graph;
        match &self.plan.steps[index] {
            Step::Scan { slot: _, check } => {
                let props = eval_props(&check.props, row, cx)?;
                let Some(props) = props else {
                    return Ok(());
                };
                let mut label_ids = Vec::with_capacity(check.labels.len());
                for l in &check.labels {
                    match g.label_id(l) {
                        Some(id) => label_ids.push(id),
                        None => return Ok(()),
                    }
                }
                // `~id` is the Neptune element id, not a property: it selects one node.
                let mut by_id: Option<Option<NodeId>> = None;
                let mut key_ids = Vec::with_capacity(props.len());
                for (k, v) in &props {
                    if k == EXTERNAL_ID {
                        by_id = Some(match v {
                            Value::String(id) => g.node_by_external_id(id),
                            _ => None,
                        });
                        continue;
                    }
                    match g.key_id(k) {
                        Some(id) => key_ids.push((id, v)),
                        None => return Ok(()),
                    }
                }
                // Choose the access path: the id, a property index, the smallest label, or all.
                let mut seed: Option<Vec<NodeId>> = by_id.map(|n| n.into_iter().collect());
                if seed.is_none() {
                    'idx: for &l in &label_ids {
                        for (k, v) in &key_ids {
                            if let Some(found) = g.nodes_by_property(l, *k, v) {
                                seed = Some(found);
                                break 'idx;
                            }
                        }
                    }
                }
                if seed.is_none() && !check.index_hints.is_empty() {
                    match index_seed(check, &label_ids, row, cx)? {
                        IndexSeed::Nodes(found) => seed = Some(found),
                        IndexSeed::Empty => return Ok(()),
                        IndexSeed::NoIndex => {}
                    }
                }
                if seed.is_none() {
                    if let (Some(&l), Some((k, v))) = (label_ids.first(), key_ids.first()) {
                        seed = cx.lookups.lookup(g, l, *k, v);
                    }
                }
                let iter: Box<dyn Iterator<Item = NodeId> + '_> = match seed {
                    Some(v) => Box::new(v.into_iter()),
                    None => match label_ids.iter().min_by_key(|l| g.label_count(**l)) {
                        Some(&l) => g.nodes_with_label(l),
                        None => g.node_ids(),
                    },
                };
                for (i, n) in iter.enumerate() {
                    if i % 4096 == 4095 {
                        cx.cancel.check()?;
                    }
                    if label_ids.iter().all(|l| g.node_has_label(n, *l))
                        && key_ids.iter().all(|(k, v)| {
                            g.node_property(n, *k)
                                .is_some_and(|p| p.cypher_eq(v) == Some(true))
                        })
                    {
                        out.push(Cand::Node(n));
                    }
                }
            }
            Step::Check { slot, check } => match &row[*slot] {
                Value::Node(n) => {
                    if node_passes(*n, check, row, cx)? {
                        out.push(Cand::Unit);
                    }
                }
                Value::Null => {}
                other => {
                    return Err(Error::type_error(format!(
                        "Expected a node but got {} ({other})",
                        other.type_name()
                    )))
                }
            },
            Step::Filter(e) => {
                if truth(&e.eval(row, cx)?)? == Some(true) {
                    out.push(Cand::Unit);
                }
            }
            Step::BuildPath(_) => out.push(Cand::Unit),
            Step::Expand(h) => self.expand(h, cx, out)?,
        }
        Ok(())
    }

    fn expand(&self, h: &Hop, cx: &EvalCx, out: &mut Vec<Cand>) -> Result<(), Error> {
        let row = &self.row;
        let g = cx.graph;
        let start = match &row[h.from] {
            Value::Node(n) => *n,
            Value::Null => return Ok(()),
            other => {
                return Err(Error::type_error(format!(
                    "Expected a node but got {} ({other})",
                    other.type_name()
                )))
            }
        };
        let mut type_ids: Vec<TypeId> = Vec::with_capacity(h.types.len());
        for t in &h.types {
            if let Some(id) = g.type_id(t) {
                type_ids.push(id);
            }
        }
        if !h.types.is_empty() && type_ids.is_empty() {
            return Ok(());
        }
        let rel_props = match eval_props(&h.rel_props, row, cx)? {
            Some(p) => p,
            None => return Ok(()),
        };
        let rel_ok =
            |r: RelId| -> bool { rel_props.iter().all(|(k, v)| rel_prop_matches(g, r, k, v)) };
        let used = |r: RelId| -> bool {
            h.unique_against.iter().any(|s| match &row[*s] {
                Value::Relationship(x) => *x == r,
                Value::List(l) => l
                    .iter()
                    .any(|v| matches!(v, Value::Relationship(x) if *x == r)),
                _ => false,
            })
        };
        let target_ok = |m: NodeId| -> Result<bool, Error> {
            if h.to_bound {
                Ok(matches!(&row[h.to], Value::Node(x) if *x == m))
            } else if h.to_check.is_empty() {
                Ok(true)
            } else {
                node_passes(m, &h.to_check, row, cx)
            }
        };
        let mut buf = Vec::new();
        match h.var_length {
            None => {
                g.expand(start, h.dir, &type_ids, &mut buf);
                for (r, m) in buf {
                    if h.rel_bound && !matches!(&row[h.rel], Value::Relationship(x) if *x == r) {
                        continue;
                    }
                    if used(r) || !rel_ok(r) || !target_ok(m)? {
                        continue;
                    }
                    out.push(Cand::Rel(r, m));
                }
            }
            Some((min, max)) => {
                if h.rel_bound {
                    // A bound relationship list: follow exactly those relationships.
                    return self.follow_bound_list(h, start, cx, out);
                }
                // Depth-first enumeration of relationship-unique paths.
                let mut path: Vec<RelId> = Vec::new();
                let mut stack: Vec<Frontier> = Vec::new();
                if min == 0 && target_ok(start)? {
                    out.push(Cand::Var(Vec::new(), start));
                }
                if max != Some(0) {
                    let mut first = Vec::new();
                    g.expand(start, h.dir, &type_ids, &mut first);
                    stack.push((start, first, 0));
                }
                let mut ticks = 0u32;
                while let Some((_, nexts, pos)) = stack.last_mut() {
                    ticks = ticks.wrapping_add(1);
                    if ticks.is_multiple_of(1024) {
                        cx.cancel.check()?;
                    }
                    if *pos >= nexts.len() {
                        stack.pop();
                        path.pop();
                        continue;
                    }
                    let (r, m) = nexts[*pos];
                    *pos += 1;
                    if path.contains(&r) || used(r) || !rel_ok(r) {
                        continue;
                    }
                    path.push(r);
                    let depth = path.len() as u64;
                    if depth >= min && target_ok(m)? {
                        out.push(Cand::Var(path.clone(), m));
                    }
                    if max.is_none_or(|mx| depth < mx) {
                        let mut more = Vec::new();
                        g.expand(m, h.dir, &type_ids, &mut more);
                        stack.push((m, more, 0));
                    } else {
                        path.pop();
                    }
                }
            }
        }
        Ok(())
    }

    fn follow_bound_list(
        &self,
        h: &Hop,
        start: NodeId,
        cx: &EvalCx,
        out: &mut Vec<Cand>,
    ) -> Result<(), Error> {
        let g = cx.graph;
        let Value::List(list) = &self.row[h.rel] else {
            return Ok(());
        };
        let mut rels: Vec<RelId> = Vec::new();
        for v in list {
            match v {
                Value::Relationship(r) => rels.push(*r),
                _ => return Ok(()),
            }
        }
        if h.reversed {
            rels.reverse();
        }
        let mut at = start;
        for r in &rels {
            let Some((s, e, _)) = g.rel_info(*r) else {
                return Ok(());
            };
            at = match h.dir {
                Dir::Out if s == at => e,
                Dir::In if e == at => s,
                Dir::Both if s == at => e,
                Dir::Both if e == at => s,
                _ => return Ok(()),
            };
        }
        let (min, max) = h.var_length.unwrap_or((1, Some(1)));
        let n = rels.len() as u64;
        if n < min || max.is_some_and(|m| n > m) {
            return Ok(());
        }
        if h.to_bound && !matches!(&self.row[h.to], Value::Node(x) if *x == at) {
            return Ok(());
        }
        out.push(Cand::Var(rels, at));
        Ok(())
    }
}

enum IndexSeed {
    Nodes(Vec<NodeId>),
    /// A bound is null: the predicate can never hold.
    Empty,
    NoIndex,
}

/// Answers a scan's WHERE equality or range predicates from a property index, if one
/// covers (label, key).
fn index_seed(
    check: &NodeCheck,
    labels: &[nereid_storage::LabelId],
    row: &[Value],
    cx: &EvalCx,
) -> Result<IndexSeed, Error> {
    let g = cx.graph;
    for hint in &check.index_hints {
        let Some(key) = g.key_id(&hint.key) else {
            continue;
        };
        let bound = hint.bound.eval(row, cx)?;
        if bound.is_null() {
            return Ok(IndexSeed::Empty);
        }
        for &l in labels {
            let found = match hint.op {
                BinaryOp::Eq => g.nodes_by_property(l, key, &bound),
                _ => {
                    // Combine every range hint on the same key into one interval.
                    let mut lower = Bound::Unbounded;
                    let mut upper = Bound::Unbounded;
                    let mut values = Vec::new();
                    for h in check
                        .index_hints
                        .iter()
                        .filter(|h| h.key == hint.key && h.op != BinaryOp::Eq)
                    {
                        let v = if std::ptr::eq(h, hint) {
                            bound.clone()
                        } else {
                            h.bound.eval(row, cx)?
                        };
                        if v.is_null() {
                            return Ok(IndexSeed::Empty);
                        }
                        values.push((h.op, v));
                    }
                    for (op, v) in &values {
                        match op {
                            BinaryOp::Gt => lower = Bound::Excluded(v),
                            BinaryOp::Ge => lower = Bound::Included(v),
                            BinaryOp::Lt => upper = Bound::Excluded(v),
                            BinaryOp::Le => upper = Bound::Included(v),
                            _ => {}
                        }
                    }
                    g.nodes_by_property_range(l, key, lower, upper)
                }
            };
            if let Some(nodes) = found {
                return Ok(IndexSeed::Nodes(nodes));
            }
        }
    }
    Ok(IndexSeed::NoIndex)
}

fn eval_props(
    props: &[(String, Expr)],
    row: &[Value],
    cx: &EvalCx,
) -> Result<Option<Vec<(String, Value)>>, Error> {
    let mut out = Vec::with_capacity(props.len());
    for (k, e) in props {
        let v = e.eval(row, cx)?;
        if v.is_null() {
            // `{k: null}` never matches (null = null is not true).
            return Ok(None);
        }
        out.push((k.clone(), v));
    }
    Ok(Some(out))
}

fn node_passes(n: NodeId, check: &NodeCheck, row: &[Value], cx: &EvalCx) -> Result<bool, Error> {
    let g = cx.graph;
    for l in &check.labels {
        match g.label_id(l) {
            Some(id) if g.node_has_label(n, id) => {}
            _ => return Ok(false),
        }
    }
    for (k, e) in &check.props {
        let v = e.eval(row, cx)?;
        if !node_prop_matches(g, n, k, &v) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The reserved key that names an element's Neptune id in patterns.
pub const EXTERNAL_ID: &str = "~id";

/// Whether node `n` has `key = v` (`~id` compares the element id).
fn node_prop_matches(g: &dyn GraphRead, n: NodeId, key: &str, v: &Value) -> bool {
    if key == EXTERNAL_ID {
        return matches!(v, Value::String(id) if g.node_external_id(n) == Some(id.as_str()));
    }
    g.key_id(key)
        .and_then(|k| g.node_property(n, k))
        .is_some_and(|p| p.cypher_eq(v) == Some(true))
}

/// Whether relationship `r` has `key = v` (`~id` compares the element id).
fn rel_prop_matches(g: &dyn GraphRead, r: RelId, key: &str, v: &Value) -> bool {
    if key == EXTERNAL_ID {
        return matches!(v, Value::String(id) if g.rel_external_id(r) == Some(id.as_str()));
    }
    g.key_id(key)
        .and_then(|k| g.rel_property(r, k))
        .is_some_and(|p| p.cypher_eq(v) == Some(true))
}

fn build_path(spec: &PathSpec, row: &[Value], g: &dyn GraphRead) -> Result<Value, Error> {
    let node_at = |slot: usize| -> Option<NodeId> {
        match &row[slot] {
            Value::Node(n) => Some(*n),
            _ => None,
        }
    };
    let Some(mut at) = node_at(spec.start) else {
        return Ok(Value::Null);
    };
    let mut path = Path {
        nodes: vec![at],
        rels: Vec::new(),
    };
    for (rel_slot, node_slot, var) in &spec.hops {
        if *var {
            let Value::List(list) = &row[*rel_slot] else {
                return Ok(Value::Null);
            };
            for v in list {
                let Value::Relationship(r) = v else {
                    return Ok(Value::Null);
                };
                let Some((s, e, _)) = g.rel_info(*r) else {
                    return Ok(Value::Null);
                };
                at = if s == at { e } else { s };
                path.rels.push(*r);
                path.nodes.push(at);
            }
        } else {
            let Value::Relationship(r) = &row[*rel_slot] else {
                return Ok(Value::Null);
            };
            path.rels.push(*r);
            let Some(n) = node_at(*node_slot) else {
                return Ok(Value::Null);
            };
            at = n;
            path.nodes.push(at);
        }
    }
    Ok(Value::Path(Box::new(path)))
}
