//! Lowering a pattern to operators in written order (see the module docs of `planner`).

use std::collections::BTreeSet;

use nereid_common::Result;
use nereid_cypher::ast::BinaryOp;
use nereid_storage::Dir;

use super::Planner;
use crate::bind::{BoundPart, PNode, PartKind, SubqueryBody};
use crate::plan::{Expr, GraphFn, Op, PathHop, Var, VarKind, ID_KEY};

use super::cardinality::{self, equal_share, EQUALITY};

/// How much cheaper (as a share) another start must look than the best one so far to be
/// taken instead: estimates closer than this are a tie.
const TIE: f64 = 0.1;

/// The plan of a one-hop part as a scan of its relationship type (see
/// `Planner::scans_relationships`), its inline properties checked after.
fn rel_scan(
    input: Op,
    part: &BoundPart,
    bound: &mut BTreeSet<Var>,
    rels_so_far: &mut Vec<Var>,
) -> Op {
    let (a, b, rel) = (&part.nodes[0], &part.nodes[1], &part.rels[0]);
    let (start, end) = if rel.dir == Dir::In { (b, a) } else { (a, b) };
    let scan = Op::RelScan {
        input: Box::new(input),
        rel: rel.var,
        start: start.var,
        end: end.var,
        rel_type: rel.types[0].clone(),
        start_labels: start.labels.clone(),
        end_labels: end.labels.clone(),
    };
    let mut preds = props_equal(a.var, &a.props);
    preds.extend(props_equal(rel.var, &rel.props));
    preds.extend(props_equal(b.var, &b.props));
    bound.extend([a.var, b.var, rel.var]);
    rels_so_far.push(rel.var);
    filter(scan, preds)
}

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
        let conjuncts: Vec<Expr> = predicate.clone().map(Expr::conjuncts).unwrap_or_default();
        for part in parts {
            op = match part.kind {
                PartKind::Normal => self.part(op, part, &mut bound, &mut rels_so_far, &conjuncts),
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

    /// Where a part starts: at a node bound already, else where the estimated work of the
    /// whole chain is least. The work of a start is the rows it yields (its label's count
    /// times, per property equality, the share of one value — from the distinct values an
    /// index counts, else a tenth —, three tenths per range; `~id`: one node) — or the
    /// whole label when no predicate can seek — plus the rows every following expansion
    /// produces (see [`super::cardinality::degree`]), with the WHERE predicates on each node applied
    /// as it is reached. Estimates within [`TIE`] of each other are a tie, which goes to
    /// the node written first: the counts of the two ends of a type differ a little in most
    /// graphs, and such a difference must not turn a pattern around (the query's own order
    /// is what rules such as `CountDegrees` recognise).
    fn start_of(&self, part: &BoundPart, bound: &BTreeSet<Var>, conjuncts: &[Expr]) -> usize {
        if let Some(i) = (0..part.nodes.len()).find(|i| bound.contains(&part.nodes[*i].var)) {
            return i;
        }
        let mut best = (0, f64::INFINITY);
        for start in 0..part.nodes.len() {
            let cost = self.chain_cost(part, start, conjuncts);
            if cost < best.1 * (1.0 - TIE) {
                best = (start, cost);
            }
        }
        best.0
    }

    /// Whether a one-hop part `(a:A)-[r:T]->(b:B)` with nothing bound is best matched by
    /// one scan of the `T` relationships: the statistics say every `T` relationship starts
    /// at an `A` and ends at a `B`, and expanding from the cheapest end would cost at least
    /// as much.
    fn scans_relationships(
        &self,
        part: &BoundPart,
        bound: &BTreeSet<Var>,
        rels_so_far: &[Var],
        conjuncts: &[Expr],
    ) -> bool {
        let [rel] = part.rels.as_slice() else {
            return false;
        };
        let [ty] = rel.types.as_slice() else {
            return false;
        };
        let (a, b) = (&part.nodes[0], &part.nodes[1]);
        let free = [a.var, b.var, rel.var].iter().all(|v| !bound.contains(v));
        if !free || a.var == b.var || rel.length.is_some() || rel.dir == Dir::Both {
            return false;
        }
        if !rels_so_far.is_empty() {
            return false;
        }
        let (start, end) = if rel.dir == Dir::In { (b, a) } else { (a, b) };
        let count = self.estimates.type_count(ty);
        let covers = |n: &PNode, dir: Dir| {
            n.labels
                .iter()
                .all(|l| self.estimates.type_end_label_count(ty, dir, l) == count)
        };
        if count == 0 || !covers(start, Dir::Out) || !covers(end, Dir::In) {
            return false;
        }
        let cheapest = (0..part.nodes.len())
            .map(|i| self.chain_cost(part, i, conjuncts))
            .fold(f64::INFINITY, f64::min);
        count as f64 <= cheapest
    }

    /// Nodes a pattern node's labels allow (every node without labels).
    fn label_nodes(&self, n: &PNode) -> f64 {
        n.labels
            .iter()
            .map(|l| self.estimates.label_count(l))
            .min()
            .unwrap_or_else(|| self.estimates.node_count()) as f64
    }

    /// The share of `n`'s matches its inline properties and the single-variable WHERE
    /// conjuncts on it keep, and whether one of them can seek an index.
    fn selectivity(&self, n: &PNode, conjuncts: &[Expr]) -> (f64, bool) {
        if n.props.iter().any(|(k, _)| k == ID_KEY) {
            return (1.0 / self.label_nodes(n).max(1.0), true);
        }
        let mut share: f64 = n
            .props
            .iter()
            .map(|(k, _)| equal_share(self.estimates, &n.labels, k))
            .product();
        // Property indexes are per label: a node without one is scanned whatever its
        // predicates.
        let indexable = !n.labels.is_empty();
        let mut seekable = indexable && !n.props.is_empty();
        for c in conjuncts {
            if c.free_vars().into_iter().collect::<Vec<_>>() != [n.var] {
                continue;
            }
            // An index answers `n.key <op> value` with the property itself on one side.
            let on_key = |a: &Expr, b: &Expr| {
                [a, b]
                    .iter()
                    .any(|e| matches!(e, Expr::Prop(base, _) if **base == Expr::Var(n.var)))
            };
            // The key compared, when the property itself is one side of the comparison.
            let key_of = |a: &Expr, b: &Expr| {
                [a, b].into_iter().find_map(|e| match e {
                    Expr::Prop(base, k) if **base == Expr::Var(n.var) => Some(k.clone()),
                    _ => None,
                })
            };
            if let Some(s) = self.degree_selectivity(n, c) {
                share *= s;
                continue;
            }
            let (s, seeks) = match c {
                Expr::Binary(BinaryOp::Eq, a, b) => match key_of(a, b) {
                    Some(k) => (equal_share(self.estimates, &n.labels, &k), on_key(a, b)),
                    None => (EQUALITY, false),
                },
                Expr::Binary(BinaryOp::In, a, b) => {
                    let one = key_of(a, b)
                        .map_or(EQUALITY, |k| equal_share(self.estimates, &n.labels, &k));
                    let values = super::cardinality::list_len(b).unwrap_or(3) as f64;
                    ((one * values).min(1.0), on_key(a, b))
                }
                Expr::Binary(BinaryOp::StartsWith, a, b) => (EQUALITY, on_key(a, b)),
                Expr::Binary(BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge, a, b) => {
                    (0.3, on_key(a, b))
                }
                Expr::Comparison(a, rest) if rest.len() == 1 => (0.3, on_key(a, &rest[0].1)),
                _ => (0.5, false),
            };
            share *= s;
            seekable |= seeks && indexable;
        }
        (share, seekable)
    }

    /// The share of `n`'s matches a conjunct on `n`'s degree keeps (`COUNT { (n)-[:T]->() }
    /// > 10`, `size([(n)<-[:T]-() | 1]) = 0`, `(n)-[:T]->()`, `NOT (n)<-[:T]-()`), from the
    /// store's degree histogram; `None` for any other conjunct.
    fn degree_selectivity(&self, n: &PNode, c: &Expr) -> Option<f64> {
        let (side, op, k) = cardinality::degree_condition(c)?;
        let sub = self
            .subqueries
            .get(cardinality::counted_subquery(side)?.0 as usize)?;
        let SubqueryBody::Pattern {
            parts,
            predicate: None,
            ..
        } = &sub.body
        else {
            return None;
        };
        // One hop from `n` to a node of its own, counted per row of `n`.
        let [part] = parts.as_slice() else {
            return None;
        };
        let ([a, b], [rel]) = (part.nodes.as_slice(), part.rels.as_slice()) else {
            return None;
        };
        let (other, dir) = if a.var == n.var {
            (b, rel.dir)
        } else if b.var == n.var {
            (a, rel.dir.reverse())
        } else {
            return None;
        };
        let plain = part.kind == PartKind::Normal && rel.length.is_none() && rel.props.is_empty();
        let fresh = |v: &Var| *v != n.var && !sub.args.contains(v);
        if !plain || !fresh(&other.var) || !fresh(&rel.var) || !other.props.is_empty() {
            return None;
        }
        let hop = cardinality::Hop {
            types: &rel.types,
            dir,
            other: &other.labels,
        };
        cardinality::degree_share(self.estimates, &n.labels, &hop, op, k)
    }

    /// The estimated rows produced by planning `part` from `nodes[start]`.
    fn chain_cost(&self, part: &BoundPart, start: usize, conjuncts: &[Expr]) -> f64 {
        let first = &part.nodes[start];
        let (share, seekable) = self.selectivity(first, conjuncts);
        let all = self.label_nodes(first);
        let mut rows = all * share;
        let mut cost = if seekable { rows } else { all };
        let order = (start..part.rels.len())
            .map(|i| (i, false))
            .chain((0..start).rev().map(|i| (i, true)));
        for (i, reversed) in order {
            let rel = &part.rels[i];
            let (from, to) = if reversed {
                (&part.nodes[i + 1], &part.nodes[i])
            } else {
                (&part.nodes[i], &part.nodes[i + 1])
            };
            let dir = if reversed { rel.dir.reverse() } else { rel.dir };
            let degree = super::cardinality::degree(
                self.estimates,
                &rel.types,
                dir,
                &from.labels,
                &to.labels,
            );
            let per_row = match rel.length {
                None => degree,
                Some((min, max)) => {
                    let top = max.unwrap_or(min + 2).min(min + 2).max(min);
                    (min..=top).map(|k| degree.powi(k as i32)).sum()
                }
            };
            rows *= per_row;
            cost += rows;
            rows *= self.selectivity(to, conjuncts).0;
        }
        cost
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
        conjuncts: &[Expr],
    ) -> Op {
        if self.scans_relationships(part, bound, rels_so_far, conjuncts) {
            return rel_scan(input, part, bound, rels_so_far);
        }
        let start = self.start_of(part, bound, conjuncts);
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
