//! Estimated row counts per operator, for EXPLAIN and PROFILE (and, as the statistics
//! grow, for the planner's choices).
//!
//! A textbook model over the store's counts: scans yield the label's node count, an
//! expansion multiplies by the average degree of its relationship types, a filter keeps a
//! quarter, an equality seek a tenth of the label (the planner's own figure), an
//! aggregation a tenth of its input (one row without keys). Nested plans (OPTIONAL MATCH,
//! MERGE) are estimated per outer row. The figures are guesses, labelled as such in the
//! output; PROFILE shows the real counts next to them.

use std::collections::HashMap;

use super::Estimates;
use crate::plan::{Expr, LogicalPlan, Op, Seek, ID_KEY};
use nereid_storage::Dir;
use nereid_value::Value;

/// Estimated output rows of every operator of `plan` (subquery plans included, each per
/// run), keyed by the operator's address in `plan`.
pub fn estimate(plan: &LogicalPlan, est: &dyn Estimates) -> HashMap<*const Op, f64> {
    let mut out = HashMap::new();
    let mut model = Model { est, out: &mut out };
    model.rows(&plan.root);
    for s in &plan.subqueries {
        model.rows(&s.plan);
    }
    out
}

struct Model<'a> {
    est: &'a dyn Estimates,
    out: &'a mut HashMap<*const Op, f64>,
}

const FILTER: f64 = 0.25;
const EQUALITY: f64 = 0.1;
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

    /// Relationships per node in direction `dir` with one of `types`.
    fn degree(&self, types: &[String], dir: Dir) -> f64 {
        let rels = if types.is_empty() {
            self.est.rel_count()
        } else {
            types.iter().map(|t| self.est.type_count(t)).sum()
        };
        let per_node = rels as f64 / (self.est.node_count().max(1) as f64);
        if dir == Dir::Both {
            2.0 * per_node
        } else {
            per_node
        }
    }

    fn rows(&mut self, op: &Op) -> f64 {
        let input = |m: &mut Self| op.input().map_or(1.0, |i| m.rows(i));
        let n = match op {
            Op::Argument { .. } => 1.0,
            Op::NodeScan { labels, .. } => input(self) * self.nodes(labels),
            Op::RelScan { rel_type, .. } => input(self) * self.est.type_count(rel_type) as f64,
            Op::NodeSeek {
                labels, key, seek, ..
            } => {
                let share = match seek {
                    _ if key == ID_KEY => 1.0 / self.nodes(labels).max(1.0),
                    Seek::Eq(_) | Seek::Prefix(_) => EQUALITY,
                    Seek::In(list) => match list {
                        Expr::List(items) => EQUALITY * items.len() as f64,
                        _ => EQUALITY * 3.0,
                    },
                    Seek::Range { .. } => RANGE,
                };
                input(self) * (self.nodes(labels) * share).max(1.0)
            }
            Op::Expand {
                types,
                dir,
                to_labels,
                into,
                ..
            } => {
                let mut per = self.degree(types, *dir) * self.label_share(to_labels);
                if *into {
                    per /= self.est.node_count().max(1) as f64;
                }
                input(self) * per
            }
            Op::VarExpand {
                types,
                dir,
                to_labels,
                min,
                max,
                into,
                ..
            } => {
                let d = self.degree(types, *dir);
                let top = max.unwrap_or(3).min(*min + 3).max(*min);
                let paths: f64 = (*min..=top).map(|k| d.powi(k as i32)).sum();
                let mut per = paths * self.label_share(to_labels);
                if *into {
                    per /= self.est.node_count().max(1) as f64;
                }
                input(self) * per
            }
            Op::ShortestPath { .. } => input(self),
            Op::Intersect {
                legs, to_labels, ..
            } => {
                let nodes = self.est.node_count().max(1) as f64;
                let per = legs
                    .iter()
                    .fold(nodes, |acc, l| acc * self.degree(&l.types, l.dir) / nodes);
                input(self) * per * self.label_share(to_labels)
            }
            Op::Degree { types, dir, .. } => input(self) * self.degree(types, *dir).min(1.0),
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
    use crate::plan::Var;

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
        fn type_end_label_count(&self, _: &str, _: Dir, _: &str) -> u64 {
            0
        }
    }

    #[test]
    fn scans_expansions_filters_and_limits_compose() {
        let scan = Op::NodeScan {
            input: Box::new(Op::Argument { vars: vec![] }),
            var: Var(0),
            labels: vec!["P".into()],
        };
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
        }
        .rows(&limit);
        // 100 persons × 5 relationships each × a quarter kept = 125, limited to 7.
        assert_eq!(n, 7.0);
        let Op::Limit { input, .. } = &limit else {
            unreachable!()
        };
        assert_eq!(out[&(&**input as *const Op)], 125.0);
        assert_eq!(out.len(), 5);
    }
}
