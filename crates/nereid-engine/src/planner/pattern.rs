//! Lowering a pattern to operators in written order (see the module docs of `planner`).

use std::collections::BTreeSet;

use nereid_common::Result;
use nereid_cypher::ast::BinaryOp;

use super::Planner;
use crate::bind::{BoundPart, PNode, PartKind};
use crate::plan::{Expr, GraphFn, Op, PathHop, Var, VarKind, ID_KEY};

/// `var:L1:L2 AND var.k1 = e1 AND …` for a node that is already bound.
fn node_constraints(n: &PNode, labels: bool) -> Vec<Expr> {
    let mut out = Vec::new();
    if labels && !n.labels.is_empty() {
        out.push(Expr::HasLabels(
            Box::new(Expr::Var(n.var)),
            n.labels.clone(),
        ));
    }
    out.extend(props_equal(n.var, &n.props));
    out
}

/// `var.k = e` for each pattern property.
pub fn props_equal(var: Var, props: &[(String, Expr)]) -> Vec<Expr> {
    props
        .iter()
        .map(|(k, e)| {
            // `~id` is the Neptune element id, not a property.
            let lhs = if k == ID_KEY {
                Expr::Graph(GraphFn::Id, vec![Expr::Var(var)])
            } else {
                Expr::prop(Expr::Var(var), k)
            };
            Expr::binary(BinaryOp::Eq, lhs, e.clone())
        })
        .collect()
}

fn filter(input: Op, preds: Vec<Expr>) -> Op {
    if preds.is_empty() {
        input
    } else {
        Op::Filter {
            input: Box::new(input),
            predicate: Expr::conjunction(preds),
        }
    }
}

impl Planner<'_> {
    /// Lowers the parts of one MATCH (or a subquery's or MERGE's pattern) over `input`,
    /// whose rows hold `visible`; then filters by `predicate`.
    pub(crate) fn pattern(
        &mut self,
        input: Op,
        parts: &[BoundPart],
        predicate: Option<Expr>,
        visible: &[Var],
    ) -> Result<Op> {
        let mut bound: BTreeSet<Var> = visible.iter().copied().collect();
        // Relationships of this pattern already matched: later ones must differ.
        let mut rels_so_far: Vec<Var> = Vec::new();
        let mut op = input;
        for part in parts {
            op = match part.kind {
                PartKind::Normal => self.part(op, part, &mut bound, &mut rels_so_far),
                PartKind::Shortest | PartKind::AllShortest => self.shortest(op, part, &mut bound),
            };
            if let Some(p) = part.path {
                let hops = part
                    .rels
                    .iter()
                    .zip(&part.nodes[1..])
                    .map(|(r, n)| PathHop {
                        rel: r.var,
                        node: n.var,
                        var_length: r.length.is_some(),
                    })
                    .collect();
                op = Op::Project {
                    input: Box::new(op),
                    items: vec![(
                        p,
                        Expr::Path {
                            start: part.nodes[0].var,
                            hops,
                        },
                    )],
                };
                bound.insert(p);
            }
        }
        Ok(filter(op, predicate.into_iter().collect()))
    }

    /// Where a part starts: at a node bound already, else at the node with the fewest
    /// estimated matches (label counts, and a selectivity of 1/10 per property equality;
    /// a `~id` matches at most one node); ties go to the node written first.
    fn start_of(&self, part: &BoundPart, bound: &BTreeSet<Var>) -> usize {
        if let Some(i) = (0..part.nodes.len()).find(|i| bound.contains(&part.nodes[*i].var)) {
            return i;
        }
        let estimate = |n: &PNode| -> f64 {
            if n.props.iter().any(|(k, _)| k == ID_KEY) {
                return 1.0;
            }
            let base = n
                .labels
                .iter()
                .map(|l| self.estimates.label_count(l))
                .min()
                .unwrap_or_else(|| self.estimates.node_count()) as f64;
            base * 0.1f64.powi(n.props.len() as i32)
        };
        let mut best = (0, f64::INFINITY);
        for (i, n) in part.nodes.iter().enumerate() {
            let e = estimate(n);
            if e < best.1 {
                best = (i, e);
            }
        }
        best.0
    }

    /// Binds (or checks) one node of a part.
    fn node(&mut self, input: Op, n: &PNode, bound: &mut BTreeSet<Var>) -> Op {
        if bound.contains(&n.var) {
            return filter(input, node_constraints(n, true));
        }
        bound.insert(n.var);
        let scan = Op::NodeScan {
            input: Box::new(input),
            var: n.var,
            labels: n.labels.clone(),
        };
        filter(scan, props_equal(n.var, &n.props))
    }

    fn part(
        &mut self,
        input: Op,
        part: &BoundPart,
        bound: &mut BTreeSet<Var>,
        rels_so_far: &mut Vec<Var>,
    ) -> Op {
        let start = self.start_of(part, bound);
        let mut op = self.node(input, &part.nodes[start], bound);
        // Rightwards from the start, then leftwards.
        let order: Vec<(usize, bool)> = (start..part.rels.len())
            .map(|i| (i, false))
            .chain((0..start).rev().map(|i| (i, true)))
            .collect();
        for (i, reversed) in order {
            let rel = &part.rels[i];
            let (from_i, to_i) = if reversed { (i + 1, i) } else { (i, i + 1) };
            let dir = if reversed { rel.dir.reverse() } else { rel.dir };
            let from = part.nodes[from_i].var;
            let to_node = &part.nodes[to_i];
            // A bound target: expand to a fresh variable, then require equality.
            let to_bound = bound.contains(&to_node.var);
            let to = if to_bound {
                self.vars.hidden("into", VarKind::Node)
            } else {
                to_node.var
            };
            // A relationship variable bound before: match a fresh one equal to it.
            let rel_bound = bound.contains(&rel.var);
            let rel_var = if rel_bound {
                self.vars.hidden("rel", self.vars.kind(rel.var))
            } else {
                rel.var
            };
            let unique = rels_so_far.clone();
            op = match rel.length {
                None => Op::Expand {
                    input: Box::new(op),
                    from,
                    rel: rel_var,
                    to,
                    dir,
                    types: rel.types.clone(),
                    to_labels: to_node.labels.clone(),
                    into: false,
                    unique,
                },
                Some((min, max)) => Op::VarExpand {
                    input: Box::new(op),
                    from,
                    rel: rel_var,
                    to,
                    dir,
                    types: rel.types.clone(),
                    to_labels: to_node.labels.clone(),
                    min,
                    max,
                    into: false,
                    unique,
                    rel_props: rel.props.clone(),
                    reversed,
                },
            };
            let mut preds = Vec::new();
            if to_bound {
                preds.push(Expr::binary(
                    BinaryOp::Eq,
                    Expr::Var(to),
                    Expr::Var(to_node.var),
                ));
            }
            if rel_bound {
                preds.push(Expr::binary(
                    BinaryOp::Eq,
                    Expr::Var(rel_var),
                    Expr::Var(rel.var),
                ));
            }
            if rel.length.is_none() {
                preds.extend(props_equal(rel_var, &rel.props));
            }
            preds.extend(props_equal(to_node.var, &to_node.props));
            op = filter(op, preds);
            bound.insert(to_node.var);
            bound.insert(rel.var);
            rels_so_far.push(rel_var);
        }
        op
    }

    /// `shortestPath((a)-[r*..]->(b))`: both ends are bound (scanned first if needed).
    fn shortest(&mut self, input: Op, part: &BoundPart, bound: &mut BTreeSet<Var>) -> Op {
        let mut op = self.node(input, &part.nodes[0], bound);
        op = self.node(op, &part.nodes[1], bound);
        let rel = &part.rels[0];
        let (min, max) = rel.length.unwrap_or((1, Some(1)));
        bound.insert(rel.var);
        Op::ShortestPath {
            input: Box::new(op),
            from: part.nodes[0].var,
            rel: rel.var,
            to: part.nodes[1].var,
            dir: rel.dir,
            types: rel.types.clone(),
            min,
            max,
            all: part.kind == PartKind::AllShortest,
            rel_props: rel.props.clone(),
        }
    }
}
