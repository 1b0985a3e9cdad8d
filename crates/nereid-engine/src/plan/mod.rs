//! The plan types that the planner, the optimizer and the physical planner share.
//!
//! ```text
//! bind::BoundStatement ─► planner ─► LogicalPlan ─► optimize (named rules) ─► LogicalPlan
//!                                                     └─ validate after every rule
//! ```
//!
//! * [`vars`]: [`Var`] and the statement's [`VarTable`];
//! * [`expr`]: bound expressions with structural equality and hashing;
//! * [`logical`]: the operator tree [`Op`];
//! * [`validate`]: the plan-validity check the optimizer runs after each rule;
//! * [`display`]: a one-line-per-operator rendering for tests and EXPLAIN.

pub mod display;
pub mod expr;
pub mod logical;
pub mod validate;
pub mod vars;

use std::collections::BTreeSet;

pub use expr::{AggCall, AggFunc, Expr, FnRef, GraphFn, Lit, MapItem, PathHop, SubqueryId};
pub use logical::{
    CreateNode, CreatePart, CreateRel, Leg, Op, PropSource, RangeBound, Seek, SetItem, SortKey,
    ID_KEY,
};
pub use vars::{Var, VarInfo, VarKind, VarTable};

/// A subquery of an expression, planned on its own: its plan starts at an `Argument`
/// holding the free variables of the expression that uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subquery {
    pub plan: Op,
    /// The column a pattern comprehension collects (`None` for existence tests).
    pub output: Option<Var>,
}

impl Subquery {
    /// For a subquery that only matches one relationship leaving or entering an outer
    /// node — `(n)-[:T]->(:L)`, with nothing else bound, checked or collected but the
    /// labels of the other end — that node, the direction, the types and those labels: its
    /// rows are the node's degree (towards nodes carrying the labels), which `COUNT { … }`
    /// and `EXISTS { … }` read from the adjacency without running the plan. Not for
    /// undirected patterns, where a relationship from the node to itself would count as
    /// each of its ends.
    pub fn one_hop_degree(&self) -> Option<(Var, nereid_storage::Dir, &[String], &[String])> {
        if self.output.is_some() {
            return None;
        }
        match &self.plan {
            Op::Expand {
                input,
                from,
                dir,
                types,
                to_labels,
                into: false,
                unique,
                ..
            } if unique.is_empty()
                && *dir != nereid_storage::Dir::Both
                && matches!(&**input, Op::Argument { vars } if vars.contains(from)) =>
            {
                Some((*from, *dir, types, to_labels))
            }
            _ => None,
        }
    }
}

/// A whole statement's logical plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalPlan {
    pub root: Op,
    /// Indexed by [`SubqueryId`].
    pub subqueries: Vec<Subquery>,
    pub vars: VarTable,
    /// Result column names.
    pub columns: Vec<String>,
    /// Parameters the statement reads (checked before it runs).
    pub params: BTreeSet<String>,
}

impl LogicalPlan {
    pub fn subquery(&self, id: SubqueryId) -> &Subquery {
        &self.subqueries[id.0 as usize]
    }

    /// The `(labels, key)` of every property seek in the statement (nested plans and
    /// subqueries included), excluding seeks by Neptune id: the keys that deserve an index.
    pub fn seek_keys(&self) -> Vec<(Vec<String>, String)> {
        let mut out: Vec<(Vec<String>, String)> = Vec::new();
        let mut visit = |op: &Op| {
            if let Op::NodeSeek { labels, key, .. } = op {
                let entry = (labels.clone(), key.clone());
                if key != ID_KEY && !labels.is_empty() && !out.contains(&entry) {
                    out.push(entry);
                }
            }
        };
        self.root.walk(&mut visit);
        for s in &self.subqueries {
            s.plan.walk(&mut visit);
        }
        out
    }

    /// Whether any operator of the statement (nested plans and subqueries included) writes.
    pub fn writes(&self) -> bool {
        let writes = |op: &Op| {
            matches!(
                op,
                Op::Create { .. }
                    | Op::Merge { .. }
                    | Op::Set { .. }
                    | Op::Delete { .. }
                    | Op::Index { .. }
            )
        };
        self.root.any(&mut |op| writes(op))
            || self
                .subqueries
                .iter()
                .any(|s| s.plan.any(&mut |op| writes(op)))
    }
}
