//! Pattern compilation: MATCH patterns (and pattern predicates, comprehensions, MERGE
//! lookups) become a [`PatternPlan`] — a scan or check of a start node per pattern part,
//! then expansions outwards from it, with the WHERE conjuncts placed right after the step
//! that binds the last variable they need.

use std::collections::HashSet;

use nereid_common::{ErrorCode, Result};
use nereid_cypher::ast::{self, Direction, ExprKind};
use nereid_storage::Dir;

use super::scope::{Kind, Scope};
use super::Planner;
use crate::legacy::expr::Expr;
use crate::legacy::pattern::{Hop, IndexHint, NodeCheck, PathSpec, PatternPlan, Step};

/// The slots one pattern part uses, in written order.
pub(super) struct PartSlots {
    pub nodes: Vec<usize>,
    pub rels: Vec<usize>,
    pub path: Option<usize>,
}

impl Planner<'_> {
    /// Compiles `parts` in `scope`, adding the pattern's variables to `scope`.
    /// `allow_new` is false for pattern predicates, which may not introduce variables.
    pub fn pattern(
        &mut self,
        parts: &[ast::PatternPart],
        scope: &mut Scope,
        where_: Option<&ast::Expr>,
        allow_new: bool,
    ) -> Result<PatternPlan> {
        self.pattern_full(parts, scope, where_, allow_new)
            .map(|(p, _)| p)
    }

    /// [`Planner::pattern`], also returning the slots of each part's elements.
    pub(super) fn pattern_full(
        &mut self,
        parts: &[ast::PatternPart],
        scope: &mut Scope,
        where_: Option<&ast::Expr>,
        allow_new: bool,
    ) -> Result<(PatternPlan, Vec<PartSlots>)> {
        let before: HashSet<usize> = scope.vars.iter().map(|v| v.slot).collect();
        // 1. Declare variables (left to right), so that properties can refer to any of them.
        let mut declared_rels: HashSet<String> = HashSet::new();
        let mut all: Vec<PartSlots> = Vec::with_capacity(parts.len());
        for part in parts {
            if part.kind != ast::PathKind::Normal {
                return Err(self.err.at(
                    ErrorCode::UnsupportedOperation,
                    part.span,
                    "shortestPath() and allShortestPaths() are not supported",
                ));
            }
            let mut ps = PartSlots {
                nodes: Vec::new(),
                rels: Vec::new(),
                path: None,
            };
            ps.nodes
                .push(self.declare_node(&part.element.start, scope, allow_new)?);
            for (rel, node) in &part.element.chain {
                ps.rels.push(self.declare_rel(
                    rel,
                    scope,
                    allow_new,
                    &mut declared_rels,
                    &before,
                )?);
                ps.nodes.push(self.declare_node(node, scope, allow_new)?);
            }
            if let Some(p) = &part.variable {
                if scope.contains(&p.name) {
                    return Err(self.err.at(
                        ErrorCode::VariableAlreadyBound,
                        p.span,
                        format!("Variable `{}` already declared", p.name),
                    ));
                }
                let slot = self.slots.alloc();
                scope.add(&p.name, slot, Kind::Path);
                ps.path = Some(slot);
            }
            all.push(ps);
        }

        // 2. Steps.
        let mut steps = Vec::new();
        let mut bound: HashSet<usize> = before.clone();
        let mut match_rels: Vec<usize> = Vec::new();
        for (part, ps) in parts.iter().zip(&all) {
            let el = &part.element;
            let nodes: Vec<&ast::NodePattern> = std::iter::once(&el.start)
                .chain(el.chain.iter().map(|(_, n)| n))
                .collect();
            // Start from a bound node if there is one, else from the first node.
            let start = (0..nodes.len())
                .find(|i| bound.contains(&ps.nodes[*i]))
                .unwrap_or(0);
            let check = self.node_check(nodes[start], scope)?;
            if bound.contains(&ps.nodes[start]) {
                steps.push(Step::Check {
                    slot: ps.nodes[start],
                    check,
                });
            } else {
                steps.push(Step::Scan {
                    slot: ps.nodes[start],
                    check,
                });
                bound.insert(ps.nodes[start]);
            }
            // Rightwards from start, then leftwards.
            let order: Vec<(usize, bool)> = (start..el.chain.len())
                .map(|i| (i, false))
                .chain((0..start).rev().map(|i| (i, true)))
                .collect();
            for (i, reversed) in order {
                let (rel, _) = &el.chain[i];
                let (from_i, to_i) = if reversed { (i + 1, i) } else { (i, i + 1) };
                let mut dir = match rel.direction {
                    Direction::Outgoing => Dir::Out,
                    Direction::Incoming => Dir::In,
                    Direction::Both => Dir::Both,
                };
                if reversed {
                    dir = match dir {
                        Dir::Out => Dir::In,
                        Dir::In => Dir::Out,
                        Dir::Both => Dir::Both,
                    };
                }
                let rel_slot = ps.rels[i];
                let to_slot = ps.nodes[to_i];
                let to_bound = bound.contains(&to_slot);
                let to_check = self.node_check(nodes[to_i], scope)?;
                let rel_props = self.prop_map(rel.properties.as_ref(), scope)?;
                let hop = Hop {
                    from: ps.nodes[from_i],
                    rel: rel_slot,
                    to: to_slot,
                    dir,
                    types: rel.types.iter().map(|t| t.name.clone()).collect(),
                    rel_props,
                    var_length: rel.length.map(|l| (l.min.unwrap_or(1), l.max)),
                    rel_bound: bound.contains(&rel_slot),
                    to_bound,
                    to_check: if to_bound {
                        NodeCheck::default()
                    } else {
                        to_check.clone()
                    },
                    unique_against: match_rels.clone(),
                    reversed,
                };
                steps.push(Step::Expand(Box::new(hop)));
                if to_bound && (!to_check.labels.is_empty() || !to_check.props.is_empty()) {
                    steps.push(Step::Check {
                        slot: to_slot,
                        check: to_check,
                    });
                }
                bound.insert(to_slot);
                bound.insert(rel_slot);
                // Uniqueness covers every relationship of the pattern, bound or not.
                match_rels.push(rel_slot);
            }
            if let Some(path) = ps.path {
                steps.push(Step::BuildPath(PathSpec {
                    slot: path,
                    start: ps.nodes[0],
                    hops: el
                        .chain
                        .iter()
                        .enumerate()
                        .map(|(i, (r, _))| (ps.rels[i], ps.nodes[i + 1], r.length.is_some()))
                        .collect(),
                }));
                bound.insert(path);
            }
        }

        // 3. WHERE conjuncts, each right after the step that binds the last slot it reads.
        if let Some(w) = where_ {
            self.check_predicate(w, scope)?;
            let mut conjuncts = Vec::new();
            split_and(w, &mut conjuncts);
            let pattern_slots: HashSet<usize> = steps.iter().flat_map(step_binds).collect();
            for c in conjuncts {
                let compiled = self.expr(c, scope)?;
                let needs = slots_read(&compiled);
                if !has_opaque(&compiled) {
                    self.add_index_hint(c, &compiled, &pattern_slots, &mut steps);
                }
                let opaque = has_opaque(&compiled);
                let mut pos = steps.len();
                if !opaque {
                    pos = 0;
                    for (i, s) in steps.iter().enumerate() {
                        if step_binds(s).iter().any(|b| needs.contains(b)) {
                            pos = i + 1;
                        }
                    }
                    // Never before the first step (the start scan binds the row).
                    pos = pos.max(1).min(steps.len());
                }
                steps.insert(pos, Step::Filter(compiled));
            }
        }
        Ok((PatternPlan { steps }, all))
    }

    /// If `c` is `n.key <op> bound` (or mirrored) for a scanned node `n`, with a bound that
    /// reads nothing the pattern binds, records it on the scan so an index can answer it.
    fn add_index_hint(
        &mut self,
        c: &ast::Expr,
        compiled: &Expr,
        pattern_slots: &HashSet<usize>,
        steps: &mut [Step],
    ) {
        use ast::BinaryOp as B;
        let (op, left, right) = match (&c.kind, compiled) {
            (
                ExprKind::Binary(op @ (B::Eq | B::Lt | B::Le | B::Gt | B::Ge), _, _),
                Expr::Binary(_, l, r),
            ) => (*op, &**l, &**r),
            _ => return,
        };
        let flip = |op: B| match op {
            B::Lt => B::Gt,
            B::Le => B::Ge,
            B::Gt => B::Lt,
            B::Ge => B::Le,
            other => other,
        };
        let (op, slot, key, bound) = match (left, right) {
            (Expr::Property(base, key), other) if matches!(**base, Expr::Slot(_)) => {
                let Expr::Slot(s) = **base else { return };
                (op, s, key.clone(), other.clone())
            }
            (other, Expr::Property(base, key)) if matches!(**base, Expr::Slot(_)) => {
                let Expr::Slot(s) = **base else { return };
                (flip(op), s, key.clone(), other.clone())
            }
            _ => return,
        };
        if slots_read(&bound).iter().any(|s| pattern_slots.contains(s)) || has_opaque(&bound) {
            return;
        }
        for step in steps.iter_mut() {
            if let Step::Scan { slot: s, check } = step {
                if *s == slot && !check.labels.is_empty() {
                    check.index_hints.push(IndexHint { key, op, bound });
                    return;
                }
            }
        }
    }

    fn declare_node(
        &mut self,
        n: &ast::NodePattern,
        scope: &mut Scope,
        allow_new: bool,
    ) -> Result<usize> {
        match &n.variable {
            Some(v) => match scope.get(&v.name) {
                Some(var) => {
                    if !matches!(var.kind, Kind::Node | Kind::Value) {
                        return Err(self.err.at(
                            ErrorCode::VariableTypeConflict,
                            v.span,
                            format!("Type mismatch: `{}` defined with conflicting type {} (expected Node)", v.name, var.kind.describe()),
                        ));
                    }
                    Ok(var.slot)
                }
                None => {
                    if !allow_new {
                        return Err(self.err.at(
                            ErrorCode::UndefinedVariable,
                            v.span,
                            format!("Variable `{}` not defined (patterns used as expressions cannot introduce variables)", v.name),
                        ));
                    }
                    let slot = self.slots.alloc();
                    scope.add(&v.name, slot, Kind::Node);
                    Ok(slot)
                }
            },
            None => Ok(self.slots.alloc()),
        }
    }

    fn declare_rel(
        &mut self,
        r: &ast::RelPattern,
        scope: &mut Scope,
        allow_new: bool,
        declared: &mut HashSet<String>,
        before: &HashSet<usize>,
    ) -> Result<usize> {
        let want = if r.length.is_some() {
            Kind::RelationshipList
        } else {
            Kind::Relationship
        };
        match &r.variable {
            Some(v) => {
                if let Some(var) = scope.get(&v.name) {
                    let list_ok = want == Kind::RelationshipList
                        && var.kind == Kind::Typed(super::expr::StaticKind::List);
                    if !list_ok
                        && !matches!(
                            var.kind,
                            Kind::Relationship | Kind::RelationshipList | Kind::Value
                        )
                    {
                        return Err(self.err.at(
                            ErrorCode::VariableTypeConflict,
                            v.span,
                            format!("Type mismatch: `{}` defined with conflicting type {} (expected {})", v.name, var.kind.describe(), want.describe()),
                        ));
                    }
                    if !before.contains(&var.slot) || declared.contains(&v.name) {
                        return Err(self.err.at(
                            ErrorCode::RelationshipUniquenessViolation,
                            v.span,
                            format!("Cannot use the same relationship variable '{}' for multiple relationships", v.name),
                        ));
                    }
                    let ok = var.kind == want || var.kind == Kind::Value || list_ok;
                    if !ok {
                        return Err(self.err.at(
                            ErrorCode::VariableTypeConflict,
                            v.span,
                            format!("Type mismatch: `{}` defined with conflicting type {} (expected {})", v.name, var.kind.describe(), want.describe()),
                        ));
                    }
                    declared.insert(v.name.clone());
                    return Ok(var.slot);
                }
                if !allow_new {
                    return Err(self.err.at(
                        ErrorCode::UndefinedVariable,
                        v.span,
                        format!("Variable `{}` not defined (patterns used as expressions cannot introduce variables)", v.name),
                    ));
                }
                let slot = self.slots.alloc();
                scope.add(&v.name, slot, want);
                declared.insert(v.name.clone());
                Ok(slot)
            }
            None => Ok(self.slots.alloc()),
        }
    }

    fn node_check(&mut self, n: &ast::NodePattern, scope: &Scope) -> Result<NodeCheck> {
        Ok(NodeCheck {
            labels: n.labels.iter().map(|l| l.name.clone()).collect(),
            props: self.prop_map(n.properties.as_ref(), scope)?,
            index_hints: Vec::new(),
        })
    }

    /// A pattern property map: a map literal (a parameter is not allowed in MATCH).
    pub fn prop_map(
        &mut self,
        props: Option<&ast::Expr>,
        scope: &Scope,
    ) -> Result<Vec<(String, Expr)>> {
        let Some(p) = props else {
            return Ok(Vec::new());
        };
        match &p.kind {
            ExprKind::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    out.push((k.name.clone(), self.expr(v, scope)?));
                }
                Ok(out)
            }
            ExprKind::Parameter(_) => Err(self.err.at(
                ErrorCode::InvalidParameterUse,
                p.span,
                "Parameter maps cannot be used in MATCH patterns (use a literal map, e.g. {id: $param})",
            )),
            _ => Err(self.err.at(ErrorCode::UnexpectedSyntax, p.span, "Expected a map of properties")),
        }
    }
}

/// Splits `a AND b AND c` into its conjuncts.
pub fn split_and<'a>(e: &'a ast::Expr, out: &mut Vec<&'a ast::Expr>) {
    match &e.kind {
        ExprKind::Binary(ast::BinaryOp::And, a, b) => {
            split_and(a, out);
            split_and(b, out);
        }
        _ => out.push(e),
    }
}

/// Slots a compiled expression reads (not looking inside nested patterns).
pub fn slots_read(e: &Expr) -> HashSet<usize> {
    fn go(e: &Expr, out: &mut HashSet<usize>) {
        if let Expr::Slot(s) = e {
            out.insert(*s);
        }
        e.visit_children(&mut |c| go(c, out));
    }
    let mut out = HashSet::new();
    go(e, &mut out);
    out
}

/// Whether the expression contains a nested pattern or subquery, whose slot use is not
/// visible to [`slots_read`].
pub fn has_opaque(e: &Expr) -> bool {
    fn go(e: &Expr, found: &mut bool) {
        if matches!(
            e,
            Expr::PatternComprehension { .. }
                | Expr::PatternExists { .. }
                | Expr::SubqueryExists(_)
        ) {
            *found = true;
        }
        e.visit_children(&mut |c| go(c, found));
    }
    let mut found = false;
    go(e, &mut found);
    found
}

fn step_binds(s: &Step) -> Vec<usize> {
    match s {
        Step::Scan { slot, .. } | Step::Check { slot, .. } => vec![*slot],
        Step::Expand(h) => vec![h.rel, h.to],
        Step::BuildPath(p) => vec![p.slot],
        Step::Filter(_) => Vec::new(),
    }
}
