//! Pattern matching: a compiled pattern is a list of [`Step`]s; [`MatchIter`] enumerates the
//! matches of one input row by an explicit depth-first search, so that it can stop after any
//! match (LIMIT, EXISTS) and check the cancel token while it runs.
//!
//! Every pattern element has its own row slot (anonymous ones get hidden slots), which makes
//! named paths and relationship uniqueness plain slot lookups.

use nereid_common::{Error, NodeId, Path, RelId, Value};
use nereid_storage::{Dir, GraphRead, TypeId};

use crate::expr::{truth, EvalCx, Expr};

/// Label and property constraints on a node.
#[derive(Debug, Clone, Default)]
pub struct NodeCheck {
    pub labels: Vec<String>,
    pub props: Vec<(String, Expr)>,
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
pub struct MatchIter<'p> {
    plan: &'p PatternPlan,
    row: Vec<Value>,
    frames: Vec<Frame>,
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
            started: false,
            done: false,
            ticks: 0,
        }
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
            let cands = self.candidates(0, cx)?;
            self.frames.push(Frame { cands, pos: 0 });
        }
        loop {
            self.ticks = self.ticks.wrapping_add(1);
            if self.ticks.is_multiple_of(1024) {
                cx.cancel.check()?;
            }
            let depth = self.frames.len();
            let Some(frame) = self.frames.last_mut() else {
                self.done = true;
                return Ok(None);
            };
            if frame.pos >= frame.cands.len() {
                self.frames.pop();
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
            let cands = self.candidates(depth, cx)?;
            self.frames.push(Frame { cands, pos: 0 });
        }
    }

    fn candidates(&self, index: usize, cx: &EvalCx) -> Result<Vec<Cand>, Error> {
        let row = &self.row;
        let g = cx.graph;
        Ok(match &self.plan.steps[index] {
            Step::Scan { slot: _, check } => {
                let props = eval_props(&check.props, row, cx)?;
                let Some(props) = props else {
                    return Ok(Vec::new());
                };
                let mut label_ids = Vec::with_capacity(check.labels.len());
                for l in &check.labels {
                    match g.label_id(l) {
                        Some(id) => label_ids.push(id),
                        None => return Ok(Vec::new()),
                    }
                }
                let mut key_ids = Vec::with_capacity(props.len());
                for (k, v) in &props {
                    match g.key_id(k) {
                        Some(id) => key_ids.push((id, v)),
                        None => return Ok(Vec::new()),
                    }
                }
                // Choose the access path: a property index, else the smallest label, else all.
                let mut seed: Option<Vec<NodeId>> = None;
                'idx: for &l in &label_ids {
                    for (k, v) in &key_ids {
                        if let Some(found) = g.nodes_by_property(l, *k, v) {
                            seed = Some(found);
                            break 'idx;
                        }
                    }
                }
                let iter: Box<dyn Iterator<Item = NodeId> + '_> = match seed {
                    Some(v) => Box::new(v.into_iter()),
                    None => match label_ids.iter().min_by_key(|l| g.label_count(**l)) {
                        Some(&l) => g.nodes_with_label(l),
                        None => g.node_ids(),
                    },
                };
                let mut out = Vec::new();
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
                out
            }
            Step::Check { slot, check } => match &row[*slot] {
                Value::Node(n) => {
                    if node_passes(*n, check, row, cx)? {
                        vec![Cand::Unit]
                    } else {
                        Vec::new()
                    }
                }
                Value::Null => Vec::new(),
                other => {
                    return Err(Error::type_error(format!(
                        "Expected a node but got {} ({other})",
                        other.type_name()
                    )))
                }
            },
            Step::Filter(e) => {
                if truth(&e.eval(row, cx)?)? == Some(true) {
                    vec![Cand::Unit]
                } else {
                    Vec::new()
                }
            }
            Step::BuildPath(_) => vec![Cand::Unit],
            Step::Expand(h) => self.expand(h, cx)?,
        })
    }

    fn expand(&self, h: &Hop, cx: &EvalCx) -> Result<Vec<Cand>, Error> {
        let row = &self.row;
        let g = cx.graph;
        let start = match &row[h.from] {
            Value::Node(n) => *n,
            Value::Null => return Ok(Vec::new()),
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
            return Ok(Vec::new());
        }
        let rel_props = match eval_props(&h.rel_props, row, cx)? {
            Some(p) => p,
            None => return Ok(Vec::new()),
        };
        let rel_ok = |r: RelId| -> bool {
            rel_props.iter().all(|(k, v)| {
                g.key_id(k)
                    .and_then(|k| g.rel_property(r, k))
                    .is_some_and(|p| p.cypher_eq(v) == Some(true))
            })
        };
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
        let mut out = Vec::new();
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
                    return self.follow_bound_list(h, start, cx);
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
        Ok(out)
    }

    fn follow_bound_list(&self, h: &Hop, start: NodeId, cx: &EvalCx) -> Result<Vec<Cand>, Error> {
        let g = cx.graph;
        let Value::List(list) = &self.row[h.rel] else {
            return Ok(Vec::new());
        };
        let mut rels: Vec<RelId> = Vec::new();
        for v in list {
            match v {
                Value::Relationship(r) => rels.push(*r),
                _ => return Ok(Vec::new()),
            }
        }
        if h.reversed {
            rels.reverse();
        }
        let mut at = start;
        for r in &rels {
            let Some((s, e, _)) = g.rel_info(*r) else {
                return Ok(Vec::new());
            };
            at = match h.dir {
                Dir::Out if s == at => e,
                Dir::In if e == at => s,
                Dir::Both if s == at => e,
                Dir::Both if e == at => s,
                _ => return Ok(Vec::new()),
            };
        }
        let (min, max) = h.var_length.unwrap_or((1, Some(1)));
        let n = rels.len() as u64;
        if n < min || max.is_some_and(|m| n > m) {
            return Ok(Vec::new());
        }
        if h.to_bound && !matches!(&self.row[h.to], Value::Node(x) if *x == at) {
            return Ok(Vec::new());
        }
        Ok(vec![Cand::Var(rels, at)])
    }
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
        let ok = g
            .key_id(k)
            .and_then(|k| g.node_property(n, k))
            .is_some_and(|p| p.cypher_eq(&v) == Some(true));
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
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
    Ok(Value::Path(path))
}
