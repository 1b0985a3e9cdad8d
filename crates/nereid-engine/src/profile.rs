//! EXPLAIN and PROFILE reports: the operator tree of a plan with each operator's estimated
//! rows, and after a PROFILE run the rows it produced and the time spent in it.
//!
//! The report is structured ([`PlanReport`]: one [`OperatorReport`] per operator, with
//! ids and child ids) so that other formats — Neptune's explain table — can be built on
//! it; [`PlanReport::to_text`] is nereid's own rendering, returned by the `EXPLAIN` and
//! `PROFILE` prefixes.

use std::collections::HashMap;
use std::fmt::Write;

use crate::exec::profile::Recorder;
use crate::plan::display::details;
use crate::plan::{LogicalPlan, Op};
use crate::planner::cardinality;
use crate::planner::Estimates;

/// One operator of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorReport {
    /// Position in [`PlanReport::operators`].
    pub id: usize,
    /// `None` for the statement's own tree, else the subquery's number (pattern
    /// predicates, pattern comprehensions, `EXISTS {}`), each a tree of its own.
    pub subquery: Option<usize>,
    /// Nesting depth within its tree (0 for the tree's root).
    pub depth: usize,
    pub name: &'static str,
    /// The operator's arguments in a Cypher-like notation.
    pub details: String,
    /// Ids of the operators it reads from (inputs, nested plans, union branches).
    pub children: Vec<usize>,
    pub estimated_rows: f64,
    /// PROFILE only: rows handed to the parent, over all runs.
    pub rows: Option<u64>,
    /// PROFILE only: time inside the operator, its inputs included, in milliseconds.
    pub time_ms: Option<f64>,
}

impl OperatorReport {
    /// PROFILE only: time spent in this operator itself (its inputs' time subtracted).
    pub fn self_time_ms(&self, report: &PlanReport) -> Option<f64> {
        let own = self.time_ms?;
        let inputs: f64 = self
            .children
            .iter()
            .filter_map(|&c| report.operators[c].time_ms)
            .sum();
        Some((own - inputs).max(0.0))
    }
}

/// The operator trees of a statement, each in pre-order (parents before children).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanReport {
    pub operators: Vec<OperatorReport>,
    /// Whether the statement ran (PROFILE), so `rows` and `time_ms` are filled.
    pub profiled: bool,
    /// The subqueries read as a node's degree instead of being run
    /// ([`crate::plan::Subquery::one_hop_degree`]): their operators show no rows.
    pub degree_reads: Vec<usize>,
}

impl PlanReport {
    /// The report of `plan`; `recorder` holds what a PROFILE run measured.
    pub(crate) fn new(
        plan: &LogicalPlan,
        estimates: &dyn Estimates,
        recorder: Option<&Recorder>,
    ) -> PlanReport {
        let est = cardinality::estimate(plan, estimates);
        let stats = recorder.map(|r| r.borrow().clone()).unwrap_or_default();
        let mut b = ReportBuilder {
            plan,
            est: &est,
            stats: &stats,
            profiled: recorder.is_some(),
            operators: Vec::new(),
        };
        b.add(&plan.root, None, 0);
        for (i, s) in plan.subqueries.iter().enumerate() {
            b.add(&s.plan, Some(i), 0);
        }
        PlanReport {
            operators: b.operators,
            profiled: recorder.is_some(),
            degree_reads: (plan.subqueries.iter().enumerate())
                .filter(|(_, s)| s.one_hop_degree().is_some())
                .map(|(i, _)| i)
                .collect(),
        }
    }

    /// nereid's text form: one line per operator with its figures, then the tree.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if self.profiled {
            let _ = writeln!(
                out,
                "{:>10} {:>10} {:>10} {:>10}  operator",
                "est. rows", "rows", "ms", "self ms"
            );
        } else {
            let _ = writeln!(out, "{:>10}  operator", "est. rows");
        }
        let mut section = None;
        for op in &self.operators {
            if op.subquery != section {
                section = op.subquery;
                match section {
                    Some(s) if self.degree_reads.contains(&s) => {
                        let _ = writeln!(out, "subquery {s} (read as the node's degree, not run):");
                    }
                    Some(s) => {
                        let _ = writeln!(out, "subquery {s} (per run):");
                    }
                    None => {}
                }
            }
            let est = format_rows(op.estimated_rows);
            if self.profiled {
                let rows = op.rows.map_or(String::from("-"), |r| r.to_string());
                let ms = op.time_ms.map_or(String::from("-"), |t| format!("{t:.3}"));
                let own = op
                    .self_time_ms(self)
                    .map_or(String::from("-"), |t| format!("{t:.3}"));
                let _ = write!(out, "{est:>10} {rows:>10} {ms:>10} {own:>10}  ");
            } else {
                let _ = write!(out, "{est:>10}  ");
            }
            let _ = writeln!(out, "{}{} {}", "  ".repeat(op.depth), op.name, op.details);
        }
        out
    }
}

fn format_rows(n: f64) -> String {
    if n >= 1e7 {
        format!("{n:.2e}")
    } else if n >= 10.0 || n == 0.0 {
        format!("{n:.0}")
    } else {
        format!("{n:.1}")
    }
}

struct ReportBuilder<'a> {
    plan: &'a LogicalPlan,
    est: &'a HashMap<*const Op, f64>,
    stats: &'a HashMap<*const Op, std::rc::Rc<crate::exec::profile::OpStats>>,
    profiled: bool,
    operators: Vec<OperatorReport>,
}

impl ReportBuilder<'_> {
    fn add(&mut self, op: &Op, subquery: Option<usize>, depth: usize) -> usize {
        let key = op as *const Op;
        let id = self.operators.len();
        let stats = self.stats.get(&key);
        // An operator the physical plan folded away (a rename) has no stats of its own.
        let (rows, time_ms) = match (self.profiled, stats) {
            (true, Some(s)) => (Some(s.rows.get()), Some(s.nanos.get() as f64 / 1e6)),
            _ => (None, None),
        };
        self.operators.push(OperatorReport {
            id,
            subquery,
            depth,
            name: op.name(),
            details: details(op, &self.plan.vars),
            children: Vec::new(),
            estimated_rows: self.est.get(&key).copied().unwrap_or(0.0),
            rows,
            time_ms,
        });
        let children: Vec<usize> = op
            .children()
            .into_iter()
            .map(|c| self.add(c, subquery, depth + 1))
            .collect();
        self.operators[id].children = children;
        id
    }
}
