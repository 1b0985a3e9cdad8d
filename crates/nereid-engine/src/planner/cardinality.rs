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
use crate::plan::{Expr, LogicalPlan, Op, Seek, Var, ID_KEY};
use nereid_storage::Dir;
use nereid_value::Value;

/// Estimated output rows of every operator of `plan` (subquery plans included, each per
/// run), keyed by the operator's address in `plan`.
pub fn estimate(plan: &LogicalPlan, est: &dyn Estimates) -> HashMap<*const Op, f64> {
    let mut out = HashMap::new();
    let mut model = Model {
        est,
        out: &mut out,
        labels: HashMap::new(),
    };
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

impl Model<'_> {
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
                node, types, dir, ..
            } => {
                let i = input(self);
                i * degree(self.est, types, *dir, &self.labels_of(node), &[]).min(1.0)
            }
            Op::Filter { .. } => input(self) * FILTER,
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
            Op::Project { .. }
            | Op::Sort { .. }
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
            predicate: Expr::lit(Value::Bool(true)),
        };
        let limit = Op::Limit {
            input: Box::new(filter),
            count: Expr::lit(Value::Int(7)),
        };
        let mut out = HashMap::new();
        let n = Model {
            est: &Counts,
            out: &mut out,
            labels: HashMap::new(),
        }
        .rows(&limit);
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
        let rows = |op: &Op, est: &dyn Estimates| {
            Model {
                est,
                out: &mut HashMap::new(),
                labels: HashMap::new(),
            }
            .rows(op)
        };
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
        let n = Model {
            est: &Counts,
            out: &mut HashMap::new(),
            labels: HashMap::new(),
        }
        .rows(&var_expand);
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
}
