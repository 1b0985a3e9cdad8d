//! Estimated row counts per operator, for EXPLAIN and PROFILE (and, as the statistics
//! grow, for the planner's choices).
//!
//! A textbook model over the store's counts: scans yield the label's node count, an
//! expansion multiplies by the relationships per node of its types between the labels known
//! at its two ends (see [`degree`]), a filter keeps a
//! quarter, an equality seek the nodes per value of its key where an index counts the key's
//! distinct values and else a tenth of the label (the planner's own figures), an
//! aggregation a tenth of its input (one row without keys). Nested plans (OPTIONAL MATCH,
//! MERGE) are estimated per outer row. The figures are guesses, labelled as such in the
//! output; PROFILE shows the real counts next to them.

use std::collections::HashMap;

use super::Estimates;
use crate::plan::{Expr, LogicalPlan, Op, Seek, Subquery, SubqueryId, Var, ID_KEY};
use nereid_cypher::ast::{BinaryOp, UnaryOp};
use nereid_storage::Dir;
use nereid_value::Value;

/// Estimated output rows of every operator of `plan` (subquery plans included, each per
/// run), keyed by the operator's address in `plan`.
pub fn estimate(plan: &LogicalPlan, est: &dyn Estimates) -> HashMap<*const Op, f64> {
    let mut out = HashMap::new();
    let mut model = Model::new(est, &mut out, &plan.subqueries);
    model.rows(&plan.root);
    for s in &plan.subqueries {
        model.rows(&s.plan);
    }
    out
}

struct Model<'a> {
    est: &'a dyn Estimates,
    out: &'a mut HashMap<*const Op, f64>,
    /// The labels a node variable is known to carry, from the scan, seek or expansion that
    /// bound it (filled as the input side is estimated, before the expansions from it).
    labels: HashMap<Var, Vec<String>>,
    subqueries: &'a [Subquery],
    /// The variables holding a node's degree (`NodeDegree`'s, and their aliases): what a
    /// filter on them compares.
    degrees: HashMap<Var, DegreeVar>,
}

/// A degree a variable holds: of a node carrying `labels`, along `types`, `dir`, `other`.
#[derive(Clone)]
struct DegreeVar {
    labels: Vec<String>,
    types: Vec<String>,
    dir: Dir,
    other: Vec<String>,
}

const FILTER: f64 = 0.25;
/// The share of a label's nodes an equality on a property keeps when no index counts the
/// property's distinct values (the planner's figure too).
pub(super) const EQUALITY: f64 = 0.1;
const RANGE: f64 = 0.3;
const GROUPS: f64 = 0.1;
const UNWIND: f64 = 10.0;

/// A literal integer (`LIMIT 10`), else `None`.
fn literal_count(e: &Expr) -> Option<f64> {
    match e {
        Expr::Lit(l) => match &l.0 {
            Value::Int(i) => Some((*i).max(0) as f64),
            _ => None,
        },
        _ => None,
    }
}

/// The share of the nodes carrying `labels` with one given value of `key`: from the
/// distinct values an index on one of the labels counts (the smallest share when several
/// do), else [`EQUALITY`]. The planner's selectivities and EXPLAIN's seek estimates both
/// use it.
pub(super) fn equal_share(est: &dyn Estimates, labels: &[String], key: &str) -> f64 {
    labels
        .iter()
        .filter_map(|l| {
            let (entries, distinct) = est.key_values(l, key)?;
            let nodes = est.label_count(l).max(1) as f64;
            Some(entries as f64 / distinct.max(1) as f64 / nodes)
        })
        .reduce(f64::min)
        .unwrap_or(EQUALITY)
}

/// Relationships of one of `types` per node carrying `from` (labels), traversed in
/// direction `dir`, whose other end carries `to`. With types, from the store's counts of
/// each type's relationships: with labels at both ends, the relationships between the two
/// labels (counted per pair of labels); with a label at one end only, by the label at
/// that end (a `from` label contributes its nodes' share of the type's `dir` ends, a `to`
/// label the share of the other ends carrying it); with several labels, the smallest.
/// Without types, every relationship counts, spread over the `from` nodes. The planner's
/// chain costs and EXPLAIN's estimates both use it.
pub(super) fn degree(
    est: &dyn Estimates,
    types: &[String],
    dir: Dir,
    from: &[String],
    to: &[String],
) -> f64 {
    let sides: &[Dir] = match dir {
        Dir::Both => &[Dir::Out, Dir::In],
        Dir::Out => &[Dir::Out],
        Dir::In => &[Dir::In],
    };
    let nodes = est.node_count().max(1) as f64;
    let label_nodes = |labels: &[String]| {
        labels
            .iter()
            .map(|l| est.label_count(l))
            .min()
            .map_or(nodes, |n| n as f64)
    };
    if types.is_empty() {
        let degree = est.rel_count() as f64 / label_nodes(from).max(1.0) * sides.len() as f64;
        return degree * label_nodes(to) / nodes;
    }
    let mut degree = 0.0;
    for t in types {
        let count = est.type_count(t) as f64;
        if count == 0.0 {
            continue;
        }
        for &side in sides {
            // Counted per pair of labels where the store keeps them: the relationships
            // from the `from` label to the `to` label, over the `from` nodes.
            let pairs = from
                .iter()
                .flat_map(|a| to.iter().map(move |b| (a, b)))
                .map(|(a, b)| {
                    let (start, end) = if side == Dir::In { (b, a) } else { (a, b) };
                    let n = est.label_pair_count(t, start, end)?;
                    Some(n as f64 / est.label_count(a).max(1) as f64)
                })
                .collect::<Option<Vec<f64>>>()
                .and_then(|v| v.into_iter().reduce(f64::min));
            if let Some(per_from) = pairs {
                degree += per_from;
                continue;
            }
            let per_from = from
                .iter()
                .map(|l| {
                    est.type_end_label_count(t, side, l) as f64 / est.label_count(l).max(1) as f64
                })
                .reduce(f64::min)
                .unwrap_or(count / nodes);
            let to_share = to
                .iter()
                .map(|l| est.type_end_label_count(t, side.reverse(), l) as f64 / count)
                .reduce(f64::min)
                .unwrap_or(1.0);
            degree += per_from * to_share;
        }
    }
    degree
}

/// One hop counted per node, as a degree predicate compares it (`COUNT { (p)-[:T]->(:L) }`,
/// `size((p)-[:T]->())`, or the count `NodeDegree` binds): relationships of `types` going
/// `dir` from the node whose other end carries `other`.
pub(super) struct Hop<'a> {
    pub types: &'a [String],
    pub dir: Dir,
    pub other: &'a [String],
}

/// A comparison of an expression with a number written in the query, the number on the
/// right: `3 < x` gives `(x, Gt, 3)`.
pub(super) fn compared_with_number(c: &Expr) -> Option<(&Expr, BinaryOp, f64)> {
    let (op, a, b) = match c {
        Expr::Binary(op, a, b) => (*op, &**a, &**b),
        Expr::Comparison(a, rest) if rest.len() == 1 => (rest[0].0, &**a, &rest[0].1),
        _ => return None,
    };
    let number = |e: &Expr| match e.as_lit()? {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    };
    let flipped = match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::Le => BinaryOp::Ge,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::Ge => BinaryOp::Le,
        BinaryOp::Eq | BinaryOp::Ne => op,
        _ => return None,
    };
    match (number(a), number(b)) {
        (None, Some(k)) => Some((a, op, k)),
        (Some(k), None) => Some((b, flipped, k)),
        _ => None,
    }
}

/// A condition a node's degree may meet, as `(e, op, k)`: `e` compares `op` with `k`.
/// A comparison of an expression with a number ([`compared_with_number`]), `EXISTS { … }`
/// or a pattern predicate (its matches at least 1) and its negation (fewer than 1).
pub(super) fn degree_condition(c: &Expr) -> Option<(&Expr, BinaryOp, f64)> {
    match c {
        Expr::Exists { .. } => Some((c, BinaryOp::Ge, 1.0)),
        Expr::Unary(UnaryOp::Not, e) if matches!(**e, Expr::Exists { .. }) => {
            Some((e, BinaryOp::Lt, 1.0))
        }
        _ => compared_with_number(c),
    }
}

/// The subquery whose rows `e` counts or tests: `COUNT { … }`, `size()` of a pattern
/// comprehension, `EXISTS { … }` or a pattern predicate.
pub(super) fn counted_subquery(e: &Expr) -> Option<SubqueryId> {
    match e {
        Expr::Count { sub, .. } | Expr::Exists { sub, .. } => Some(*sub),
        Expr::Scalar(f, args) if f.0.name.eq_ignore_ascii_case("size") => match args.as_slice() {
            [Expr::Collect { sub, .. }] => Some(*sub),
            _ => None,
        },
        _ => None,
    }
}

/// Of the nodes carrying `labels` (all nodes without), the share whose degree along `hop`
/// compares `op` with `k`, from the store's degree histogram of the hop's type and
/// direction; `None` where there is none (several types, either direction, a store that
/// keeps none).
///
/// The model: the `labels` nodes with at least one such relationship are a share of them
/// that makes their average degree the histogram's (the relationships leaving the label,
/// counted per end label, over the histogram's average), and their degrees are spread as
/// the histogram's. A label at the other end is read only when the store's counts say
/// every such relationship ends at one (the histogram holds) or none does (no degree
/// above 0); otherwise `None`.
pub(super) fn degree_share(
    est: &dyn Estimates,
    labels: &[String],
    hop: &Hop,
    op: BinaryOp,
    k: f64,
) -> Option<f64> {
    let [ty] = hop.types else {
        return None;
    };
    if hop.dir == Dir::Both {
        return None;
    }
    let histogram = est.degree_histogram(ty, hop.dir)?;
    let count = est.type_count(ty) as f64;
    let counted = histogram.nodes() as f64;
    let has_one = if counted == 0.0 {
        0.0
    } else {
        let average = count / counted;
        labels
            .iter()
            .map(|l| {
                let per_node = est.type_end_label_count(ty, hop.dir, l) as f64
                    / est.label_count(l).max(1) as f64;
                (per_node / average).min(1.0)
            })
            .reduce(f64::min)
            .unwrap_or(counted / est.node_count().max(1) as f64)
    };
    let to_share = hop
        .other
        .iter()
        .map(|l| est.type_end_label_count(ty, hop.dir.reverse(), l) as f64 / count.max(1.0))
        .reduce(f64::min)
        .unwrap_or(1.0);
    if to_share > 0.0 && to_share < 1.0 {
        return None;
    }
    let at_least = |k: f64| {
        if k <= 0.0 {
            1.0
        } else if to_share == 0.0 {
            0.0
        } else {
            has_one * histogram.share_at_least(k)
        }
    };
    let equal = |k: f64| {
        if k.fract() != 0.0 {
            0.0
        } else {
            at_least(k) - at_least(k + 1.0)
        }
    };
    let share = match op {
        BinaryOp::Gt => at_least(k.floor() + 1.0),
        BinaryOp::Ge => at_least(k.ceil()),
        BinaryOp::Lt => 1.0 - at_least(k.ceil()),
        BinaryOp::Le => 1.0 - at_least(k.floor() + 1.0),
        BinaryOp::Eq => equal(k),
        BinaryOp::Ne => 1.0 - equal(k),
        _ => return None,
    };
    Some(share.clamp(0.0, 1.0))
}

/// The number of values of a list written in the query (`[1, 2]`, folded or not), else
/// `None` (a parameter, an expression).
pub(super) fn list_len(e: &Expr) -> Option<usize> {
    match e {
        Expr::List(items) => Some(items.len()),
        Expr::Lit(l) => match &l.0 {
            Value::List(items) => Some(items.len()),
            _ => None,
        },
        _ => None,
    }
}

impl<'a> Model<'a> {
    fn new(
        est: &'a dyn Estimates,
        out: &'a mut HashMap<*const Op, f64>,
        subqueries: &'a [Subquery],
    ) -> Self {
        Model {
            est,
            out,
            subqueries,
            labels: HashMap::new(),
            degrees: HashMap::new(),
        }
    }

    fn nodes(&self, labels: &[String]) -> f64 {
        if labels.is_empty() {
            return self.est.node_count() as f64;
        }
        labels
            .iter()
            .map(|l| self.est.label_count(l))
            .min()
            .unwrap_or(0) as f64
    }

    /// Of all nodes, the share carrying `labels` (1 without labels).
    fn label_share(&self, labels: &[String]) -> f64 {
        if labels.is_empty() {
            return 1.0;
        }
        self.nodes(labels) / (self.est.node_count().max(1) as f64)
    }

    /// The share of rows `predicate` keeps: for each conjunct comparing a node's degree
    /// with a number, the degree histogram's share ([`degree_share`]); [`FILTER`] once for
    /// all other conjuncts.
    fn filter_share(&self, predicate: &Expr) -> f64 {
        let mut share = 1.0;
        let mut others = false;
        for c in predicate.clone().conjuncts() {
            match self.degree_conjunct(&c) {
                Some(s) => share *= s,
                None => others = true,
            }
        }
        if others {
            share * FILTER
        } else {
            share
        }
    }

    /// The share a degree predicate keeps: a comparison of a number with a variable
    /// holding a degree, or with the count of a one-hop subquery from a bound node.
    fn degree_conjunct(&self, c: &Expr) -> Option<f64> {
        let (side, op, k) = degree_condition(c)?;
        if let Expr::Var(v) = side {
            let d = self.degrees.get(v)?;
            let hop = Hop {
                types: &d.types,
                dir: d.dir,
                other: &d.other,
            };
            return degree_share(self.est, &d.labels, &hop, op, k);
        }
        let sub = self.subqueries.get(counted_subquery(side)?.0 as usize)?;
        // A pattern comprehension projects its output from each match.
        let plan = match &sub.plan {
            Op::Project { input, .. } => input,
            plan => plan,
        };
        let Op::Expand {
            input,
            from,
            types,
            dir,
            to_labels,
            into: false,
            ..
        } = plan
        else {
            return None;
        };
        if !matches!(**input, Op::Argument { .. }) {
            return None;
        }
        let hop = Hop {
            types,
            dir: *dir,
            other: to_labels,
        };
        degree_share(self.est, &self.labels_of(from), &hop, op, k)
    }

    /// The labels `var` is known to carry (none when unknown).
    fn labels_of(&self, var: &Var) -> Vec<String> {
        self.labels.get(var).cloned().unwrap_or_default()
    }

    fn rows(&mut self, op: &Op) -> f64 {
        let input = |m: &mut Self| op.input().map_or(1.0, |i| m.rows(i));
        let n = match op {
            Op::Argument { .. } => 1.0,
            Op::NodeScan { labels, var, .. } => {
                self.labels.insert(*var, labels.clone());
                input(self) * self.nodes(labels)
            }
            Op::RelScan { rel_type, .. } => input(self) * self.est.type_count(rel_type) as f64,
            Op::NodeSeek {
                labels,
                key,
                seek,
                var,
                ..
            } => {
                self.labels.insert(*var, labels.clone());
                let one = equal_share(self.est, labels, key);
                let share = match seek {
                    _ if key == ID_KEY => 1.0 / self.nodes(labels).max(1.0),
                    Seek::Eq(_) => one,
                    Seek::Prefix(_) => EQUALITY,
                    Seek::In(list) => one * list_len(list).unwrap_or(3) as f64,
                    Seek::Range { .. } => RANGE,
                };
                input(self) * (self.nodes(labels) * share.min(1.0)).max(1.0)
            }
            Op::Expand {
                from,
                to,
                types,
                dir,
                to_labels,
                into,
                ..
            } => {
                let i = input(self);
                let from_labels = self.labels_of(from);
                let mut per = degree(self.est, types, *dir, &from_labels, to_labels);
                if *into {
                    per /= self.est.node_count().max(1) as f64;
                } else {
                    self.labels.insert(*to, to_labels.clone());
                }
                i * per
            }
            Op::VarExpand {
                from,
                to,
                types,
                dir,
                to_labels,
                min,
                max,
                into,
                ..
            } => {
                let i = input(self);
                // The first hop leaves a node of `from`'s labels; the nodes a path passes
                // through are taken to be like its end (any node when the end has no
                // label), and every hop ends at one.
                let first = degree(self.est, types, *dir, &self.labels_of(from), to_labels);
                let next = degree(self.est, types, *dir, to_labels, to_labels);
                let top = max.unwrap_or(3).min(*min + 3).max(*min);
                let paths: f64 = (*min..=top)
                    .map(|k| match k {
                        0 => 1.0,
                        k => first * next.powi(k as i32 - 1),
                    })
                    .sum();
                let mut per = paths;
                if *into {
                    per /= self.est.node_count().max(1) as f64;
                } else {
                    self.labels.insert(*to, to_labels.clone());
                }
                i * per
            }
            Op::ShortestPath { .. } => input(self),
            Op::Intersect {
                legs, to_labels, ..
            } => {
                let nodes = self.est.node_count().max(1) as f64;
                let per = legs.iter().fold(nodes, |acc, l| {
                    acc * degree(self.est, &l.types, l.dir, &[], &[]) / nodes
                });
                input(self) * per * self.label_share(to_labels)
            }
            Op::Degree {
                node,
                var,
                types,
                dir,
                other_labels,
                ..
            } => {
                let i = input(self);
                let labels = self.labels_of(node);
                let hop = Hop {
                    types,
                    dir: *dir,
                    other: other_labels,
                };
                // A node without such relationships gives no row.
                let share = degree_share(self.est, &labels, &hop, BinaryOp::Ge, 1.0)
                    .unwrap_or_else(|| degree(self.est, types, *dir, &labels, &[]).min(1.0));
                self.degrees.insert(
                    *var,
                    DegreeVar {
                        labels,
                        types: types.clone(),
                        dir: *dir,
                        other: other_labels.clone(),
                    },
                );
                i * share
            }
            Op::Filter { predicate, .. } => {
                let i = input(self);
                i * self.filter_share(predicate)
            }
            Op::Unwind { expr, .. } => {
                let per = match expr {
                    Expr::List(items) => items.len() as f64,
                    _ => UNWIND,
                };
                input(self) * per
            }
            Op::Aggregate { keys, .. } => {
                let i = input(self);
                if keys.is_empty() {
                    1.0
                } else {
                    (i * GROUPS).max(1.0).min(i)
                }
            }
            // The relationships it reads per input row, then grouped as `Aggregate` does.
            Op::RelAggregate { keys, rel_type, .. } => {
                let i = input(self) * self.est.type_count(rel_type) as f64;
                if keys.is_empty() {
                    1.0
                } else {
                    (i * GROUPS).max(1.0).min(i)
                }
            }
            Op::Distinct { .. } => input(self) * 0.5,
            Op::TopK { limit, .. } => {
                let i = input(self);
                literal_count(limit).map_or(i, |l| l.min(i))
            }
            Op::Limit { count, .. } => {
                let i = input(self);
                literal_count(count).map_or(i, |l| l.min(i))
            }
            Op::Skip { count, .. } => {
                let i = input(self);
                literal_count(count).map_or(i, |s| (i - s).max(0.0))
            }
            Op::Optional { inner, .. } => {
                let i = input(self);
                i * self.rows(inner).max(1.0)
            }
            Op::Apply { inner, vars, .. } => {
                let i = input(self);
                if vars.is_empty() {
                    i
                } else {
                    i * self.rows(inner)
                }
            }
            Op::Merge { pattern, .. } => {
                let i = input(self);
                i * self.rows(pattern).max(1.0)
            }
            Op::Union { branches, distinct } => {
                let total: f64 = branches.iter().map(|b| self.rows(b)).sum();
                if *distinct {
                    total * 0.5
                } else {
                    total
                }
            }
            Op::Call { .. } => input(self) * UNWIND,
            Op::Index { .. } => 0.0,
            Op::Project { items, .. } => {
                let i = input(self);
                // Aliases keep what is known of the variable they copy.
                for (v, e) in items {
                    if let Expr::Var(w) = e {
                        if let Some(l) = self.labels.get(w).cloned() {
                            self.labels.insert(*v, l);
                        }
                        if let Some(d) = self.degrees.get(w).cloned() {
                            self.degrees.insert(*v, d);
                        }
                    }
                }
                i
            }
            Op::Sort { .. }
            | Op::Create { .. }
            | Op::Set { .. }
            | Op::Delete { .. }
            | Op::Produce { .. } => input(self),
        };
        self.out.insert(op as *const Op, n);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counts;
    impl Estimates for Counts {
        fn label_count(&self, label: &str) -> u64 {
            if label == "P" {
                100
            } else {
                0
            }
        }
        fn node_count(&self) -> u64 {
            1000
        }
        fn type_count(&self, _: &str) -> u64 {
            5000
        }
        fn rel_count(&self) -> u64 {
            8000
        }
        /// 300 of the 5,000 relationships start at a `P` (5 per node on average, 3 per `P`).
        fn type_end_label_count(&self, _: &str, dir: Dir, label: &str) -> u64 {
            if label == "P" && dir == Dir::Out {
                300
            } else {
                0
            }
        }
    }

    /// A scan of the `P` nodes into `Var(0)`.
    fn scan_p() -> Op {
        Op::NodeScan {
            input: Box::new(Op::Argument { vars: vec![] }),
            var: Var(0),
            labels: vec!["P".into()],
        }
    }

    #[test]
    fn scans_expansions_filters_and_limits_compose() {
        let scan = scan_p();
        let expand = Op::Expand {
            input: Box::new(scan),
            from: Var(0),
            rel: Var(1),
            to: Var(2),
            dir: Dir::Out,
            types: vec!["T".into()],
            to_labels: vec![],
            into: false,
            unique: vec![],
        };
        let filter = Op::Filter {
            input: Box::new(expand),
            predicate: Expr::var(Var(2)),
        };
        let limit = Op::Limit {
            input: Box::new(filter),
            count: Expr::lit(Value::Int(7)),
        };
        let mut out = HashMap::new();
        let n = Model::new(&Counts, &mut out, &[]).rows(&limit);
        // 100 persons × 3 relationships each (300 start at a P) × a quarter kept = 75,
        // limited to 7.
        assert_eq!(n, 7.0);
        let Op::Limit { input, .. } = &limit else {
            unreachable!()
        };
        assert_eq!(out[&(&**input as *const Op)], 75.0);
        assert_eq!(out.len(), 5);
    }

    /// `P.k` indexed: 100 entries over 4 distinct values.
    struct Indexed;
    impl Estimates for Indexed {
        fn label_count(&self, label: &str) -> u64 {
            Counts.label_count(label)
        }
        fn node_count(&self) -> u64 {
            Counts.node_count()
        }
        fn type_count(&self, ty: &str) -> u64 {
            Counts.type_count(ty)
        }
        fn rel_count(&self) -> u64 {
            Counts.rel_count()
        }
        fn type_end_label_count(&self, _: &str, _: Dir, _: &str) -> u64 {
            0
        }
        fn key_values(&self, label: &str, key: &str) -> Option<(u64, u64)> {
            (label == "P" && key == "k").then_some((100, 4))
        }
    }

    #[test]
    fn an_equality_seek_yields_the_nodes_per_distinct_value_of_its_key() {
        let seek = |key: &str, seek: Seek| Op::NodeSeek {
            input: Box::new(Op::Argument { vars: vec![] }),
            var: Var(0),
            labels: vec!["P".into()],
            key: key.into(),
            seek,
        };
        let rows =
            |op: &Op, est: &dyn Estimates| Model::new(est, &mut HashMap::new(), &[]).rows(op);
        let eq = seek("k", Seek::Eq(Expr::lit(Value::Int(1))));
        // 100 entries over 4 values: 25 per value; without the index's counts, a tenth.
        assert_eq!(rows(&eq, &Indexed), 25.0);
        assert_eq!(rows(&eq, &Counts), 10.0);
        let two = Expr::List(vec![Expr::lit(Value::Int(1)), Expr::lit(Value::Int(2))]);
        assert_eq!(rows(&seek("k", Seek::In(two)), &Indexed), 50.0);
        // Another key of the label has no counts.
        let other = seek("j", Seek::Eq(Expr::lit(Value::Int(1))));
        assert_eq!(rows(&other, &Indexed), 10.0);
    }

    #[test]
    fn a_variable_length_expansion_starts_from_its_first_nodes_labels() {
        let scan = scan_p();
        let var_expand = Op::VarExpand {
            input: Box::new(scan),
            from: Var(0),
            rel: Var(1),
            to: Var(2),
            dir: Dir::Out,
            types: vec!["T".into()],
            to_labels: vec![],
            min: 1,
            max: Some(2),
            into: false,
            unique: vec![],
            rel_props: vec![],
            reversed: false,
        };
        let n = Model::new(&Counts, &mut HashMap::new(), &[]).rows(&var_expand);
        // 100 persons; the first hop 3 per P (300 of T start at a P), the second 5 per node
        // (5,000 over 1,000 nodes): 3 + 3 × 5 paths each.
        assert_eq!(n, 1800.0);
    }

    /// `HAS`: 1,000 from a `Person` to a `Pet`, 1,000 from a `Company` to an `Asset`; 1,000
    /// nodes of each label.
    struct Mixed {
        pairs: bool,
    }
    impl Estimates for Mixed {
        fn label_count(&self, _: &str) -> u64 {
            1000
        }
        fn node_count(&self) -> u64 {
            4000
        }
        fn type_count(&self, _: &str) -> u64 {
            2000
        }
        fn rel_count(&self) -> u64 {
            2000
        }
        fn type_end_label_count(&self, _: &str, dir: Dir, label: &str) -> u64 {
            match (dir, label) {
                (Dir::Out, "Person" | "Company") | (Dir::In, "Pet" | "Asset") => 1000,
                _ => 0,
            }
        }
        fn label_pair_count(&self, _: &str, start: &str, end: &str) -> Option<u64> {
            self.pairs.then_some(match (start, end) {
                ("Person", "Pet") | ("Company", "Asset") => 1000,
                _ => 0,
            })
        }
    }

    #[test]
    fn counts_per_label_pair_tell_which_ends_a_type_joins() {
        let has = ["HAS".to_owned()];
        let of = |l: &str| vec![l.to_owned()];
        let d = |e: &Mixed, dir, from: &str, to: &str| degree(e, &has, dir, &of(from), &of(to));
        let exact = Mixed { pairs: true };
        assert_eq!(d(&exact, Dir::Out, "Person", "Pet"), 1.0);
        assert_eq!(d(&exact, Dir::Out, "Person", "Asset"), 0.0);
        assert_eq!(d(&exact, Dir::In, "Asset", "Company"), 1.0);
        assert_eq!(d(&exact, Dir::In, "Asset", "Person"), 0.0);
        assert_eq!(d(&exact, Dir::Both, "Pet", "Person"), 1.0);
        // Taking the two ends as independent, half of a person's relationships end at an
        // asset.
        let independent = Mixed { pairs: false };
        assert_eq!(d(&independent, Dir::Out, "Person", "Asset"), 0.5);
        // One labelled end: the counts by that end.
        assert_eq!(degree(&exact, &has, Dir::Out, &of("Person"), &[]), 1.0);
    }

    /// 100 `A` nodes and 1,000 `B`; 1,000 `T` relationships, 500 from `A` nodes and 500
    /// from `B` ones, all ending at `B` nodes; 200 sources, each with 4 to 7.
    struct Hubs;
    impl Estimates for Hubs {
        fn label_count(&self, label: &str) -> u64 {
            match label {
                "A" => 100,
                "B" => 1_000,
                _ => 0,
            }
        }
        fn node_count(&self) -> u64 {
            1_100
        }
        fn type_count(&self, ty: &str) -> u64 {
            if ty == "T" {
                1_000
            } else {
                0
            }
        }
        fn rel_count(&self) -> u64 {
            1_000
        }
        fn type_end_label_count(&self, _: &str, dir: Dir, label: &str) -> u64 {
            match (dir, label) {
                (Dir::Out, "A" | "B") => 500,
                (Dir::In, "B") => 1_000,
                _ => 0,
            }
        }
        fn degree_histogram(&self, ty: &str, dir: Dir) -> Option<nereid_storage::DegreeHistogram> {
            let mut h = nereid_storage::DegreeHistogram::default();
            if (ty, dir) == ("T", Dir::Out) {
                h.0[2] = 200;
            }
            Some(h)
        }
    }

    #[test]
    fn degree_shares_follow_the_histogram_and_the_labels_at_both_ends() {
        let t = vec!["T".to_owned()];
        let share = |labels: &[&str], other: &[&str], op: BinaryOp, k: f64| {
            let labels: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
            let other: Vec<String> = other.iter().map(|l| l.to_string()).collect();
            let hop = Hop {
                types: &t,
                dir: Dir::Out,
                other: &other,
            };
            degree_share(&Hubs, &labels, &hop, op, k)
        };
        // Every A has 5 on average, as the histogram's sources: all are sources. 6 and 7
        // are half of the bucket 4..=7.
        assert_eq!(share(&["A"], &[], BinaryOp::Ge, 1.0), Some(1.0));
        assert_eq!(share(&["A"], &[], BinaryOp::Gt, 5.0), Some(0.5));
        assert_eq!(share(&["A"], &[], BinaryOp::Ge, 5.5), Some(0.5));
        assert_eq!(share(&["A"], &[], BinaryOp::Lt, 6.0), Some(0.5));
        assert_eq!(share(&["A"], &[], BinaryOp::Le, 3.0), Some(0.0));
        assert_eq!(share(&["A"], &[], BinaryOp::Eq, 4.0), Some(0.25));
        assert_eq!(share(&["A"], &[], BinaryOp::Ne, 4.0), Some(0.75));
        assert_eq!(share(&["A"], &[], BinaryOp::Eq, 4.5), Some(0.0));
        // B nodes have 0.5 on average: a tenth of them are sources.
        assert_eq!(share(&["B"], &[], BinaryOp::Ge, 6.0), Some(0.05));
        assert_eq!(share(&["B"], &[], BinaryOp::Eq, 0.0), Some(0.9));
        // All nodes: 200 of 1,100 are sources.
        assert_eq!(share(&[], &[], BinaryOp::Gt, 0.0), Some(200.0 / 1_100.0));
        // Every T ends at a B; none at an A; no histogram for part of the ends.
        assert_eq!(share(&["A"], &["B"], BinaryOp::Gt, 5.0), Some(0.5));
        assert_eq!(share(&["A"], &["A"], BinaryOp::Ge, 1.0), Some(0.0));
        assert_eq!(share(&["A"], &["A"], BinaryOp::Ge, 0.0), Some(1.0));
        // Neither several types nor both directions have a histogram.
        let two = vec!["T".to_owned(), "U".to_owned()];
        let hop = Hop {
            types: &two,
            dir: Dir::Out,
            other: &[],
        };
        assert_eq!(degree_share(&Hubs, &[], &hop, BinaryOp::Gt, 1.0), None);
        let hop = Hop {
            types: &t,
            dir: Dir::Both,
            other: &[],
        };
        assert_eq!(degree_share(&Hubs, &[], &hop, BinaryOp::Gt, 1.0), None);
    }

    #[test]
    fn comparisons_with_a_number_put_the_number_on_the_right() {
        let x = Expr::var(Var(0));
        let n = Expr::lit(Value::Int(3));
        let c = Expr::binary(BinaryOp::Lt, n.clone(), x.clone());
        assert_eq!(compared_with_number(&c), Some((&x, BinaryOp::Gt, 3.0)));
        let c = Expr::binary(BinaryOp::Le, x.clone(), Expr::lit(Value::Float(2.5)));
        assert_eq!(compared_with_number(&c), Some((&x, BinaryOp::Le, 2.5)));
        let c = Expr::binary(BinaryOp::Add, x.clone(), n.clone());
        assert_eq!(compared_with_number(&c), None);
        let c = Expr::binary(
            BinaryOp::Eq,
            x.clone(),
            Expr::lit(Value::String("3".into())),
        );
        assert_eq!(compared_with_number(&c), None);
        // An existence test asks for a degree of at least 1; its negation for less.
        let exists = Expr::Exists {
            sub: SubqueryId(0),
            args: vec![Var(0)],
        };
        assert_eq!(
            degree_condition(&exists),
            Some((&exists, BinaryOp::Ge, 1.0))
        );
        let not = Expr::Unary(UnaryOp::Not, Box::new(exists.clone()));
        assert_eq!(degree_condition(&not), Some((&exists, BinaryOp::Lt, 1.0)));
        assert_eq!(counted_subquery(&exists), Some(SubqueryId(0)));
    }
}
