//! The optimizer: named rewrite rules over the logical plan, run in a fixed order.
//!
//! Each rule is its own type with a [`Rule::name`]; [`optimize`] runs the enabled rules in
//! [`RULES`] order over the statement's plan and every subquery plan, and checks the plan
//! with [`crate::plan::validate::validate`] after each rule, so a rule that breaks the
//! plan is caught where it happened (an internal error naming the rule, never a wrong
//! answer). Rules can be switched off by name ([`Options::disabled`]) so that tests can
//! compare plans with and without a rule and check both give the same rows.
//!
//! Order: filters are pushed down first (so that predicates of a WHERE sit right above the
//! operator that binds their variables); expansions filtered to an already bound node then
//! become expand-into, and an expand-into that closes a cycle right after a step joins that
//! step as a multiway intersection; scans followed by a filter on an index-shaped predicate become
//! seeks; aggregations grouped by element properties group by the elements first, and a
//! count per node of a one-hop pattern then reads degrees, and any other aggregation right
//! over a relationship-type scan that reads only relationship properties reads them in bulk;
//! an aggregation of DISTINCT aggregates over a traversal from a seek keeps one row per node
//! it reads first; ORDER BY … LIMIT becomes top-k, and what the top-k's sort keys do not read is projected
//! after it; last, the LIMITs and SKIPs left move below projections (and a LIMIT is copied
//! below OPTIONAL MATCH and the branches of UNION ALL).

mod aggregate_on_ids;
mod aggregate_relationships;
mod count_degrees;
mod dedupe_distinct_aggregates;
mod expand_into;
mod index_seek;
mod intersect_cycles;
mod late_projection;
mod push_down_filter;
mod push_down_limit;
mod top_k;

use nereid_common::{Error, Result};

use crate::plan::validate::validate;
use crate::plan::{LogicalPlan, Op, VarTable};

pub use aggregate_on_ids::AggregateOnIds;
pub use aggregate_relationships::AggregateRelationships;
pub use count_degrees::CountDegrees;
pub use dedupe_distinct_aggregates::DedupeForDistinctAggregates;
pub use expand_into::ExpandInto;
pub use index_seek::UseIndexSeek;
pub use intersect_cycles::IntersectCycles;
pub use late_projection::LateProjection;
pub use push_down_filter::PushDownFilter;
pub use push_down_limit::PushDownLimit;
pub use top_k::UseTopK;

/// A rewrite rule of the logical plan.
pub trait Rule: Sync {
    /// The rule's name, as `Options::disabled` and EXPLAIN name it.
    fn name(&self) -> &'static str;
    /// Rewrites one operator tree (a statement's root or a subquery plan).
    fn apply(&self, op: Op, vars: &mut VarTable) -> Op;
}

/// Every rule, in the order they run.
pub static RULES: &[&dyn Rule] = &[
    &PushDownFilter,
    &ExpandInto,
    &IntersectCycles,
    &UseIndexSeek,
    &AggregateOnIds,
    &CountDegrees,
    &AggregateRelationships,
    &DedupeForDistinctAggregates,
    &UseTopK,
    &LateProjection,
    &PushDownLimit,
];

/// Which rules to skip.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub disabled: Vec<String>,
}

/// Runs the enabled rules over `plan`.
pub fn optimize(mut plan: LogicalPlan, options: &Options) -> Result<LogicalPlan> {
    for rule in RULES {
        if options.disabled.iter().any(|d| d == rule.name()) {
            continue;
        }
        let root = std::mem::replace(&mut plan.root, Op::Argument { vars: Vec::new() });
        plan.root = rule.apply(root, &mut plan.vars);
        for s in &mut plan.subqueries {
            let p = std::mem::replace(&mut s.plan, Op::Argument { vars: Vec::new() });
            s.plan = rule.apply(p, &mut plan.vars);
        }
        validate(&plan).map_err(|e| {
            Error::internal(format!(
                "optimizer rule {} broke the plan: {e}",
                rule.name()
            ))
        })?;
    }
    Ok(plan)
}

/// Applies `f` to every child of `op` (input, nested plans, union branches), bottom-up.
pub(crate) fn map_children(mut op: Op, f: &mut dyn FnMut(Op) -> Op) -> Op {
    for child in op.children_mut() {
        let c = std::mem::replace(child, Op::Argument { vars: Vec::new() });
        *child = f(c);
    }
    op
}
