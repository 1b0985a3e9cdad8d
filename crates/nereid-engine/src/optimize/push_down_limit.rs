//! `PushDownLimit`: a LIMIT (and a SKIP) moves below the operators that turn each input
//! row into exactly one row, and is copied below those that turn it into at least one, so
//! that the work above the cut is done only for the rows kept.
//!
//! * `Limit(Project(x))` → `Project(Limit(x))`, and the same for `Skip`: a projection maps
//!   row to row, so its items are computed for the kept rows only. Operators hand out
//!   batches of up to [`crate::exec::BATCH`] rows, so without this `MATCH (p:Person) RETURN
//!   p.name LIMIT 10` read the names of a whole batch of persons to keep ten.
//! * `Limit(Optional(x))` → `Limit(Optional(Limit(x)))`: OPTIONAL MATCH yields at least one
//!   row per input row, so `n` input rows give the first `n` rows.
//! * `Limit(Union all(a, b, …))` → `Limit(Union all(Limit(a), Limit(b), …))`: a branch
//!   never contributes more than `n` rows to the first `n`. Not for `UNION` (distinct),
//!   whose duplicates a branch's own limit could not see.
//!
//! Nothing moves past an operator that may drop rows (filters, expansions, DISTINCT), one
//! that needs all of its input (sort, aggregation: `UseTopK` handles ORDER BY … LIMIT), or
//! a write (a write clause runs for every row before any is returned). Projected items are
//! evaluated for fewer rows: an expression that would fail only on a dropped row no longer
//! fails, as with `LateProjection` (Cypher leaves the evaluation order open).

use super::{map_children, Rule};
use crate::plan::{Op, VarTable};

pub struct PushDownLimit;

impl Rule for PushDownLimit {
    fn name(&self) -> &'static str {
        "PushDownLimit"
    }

    fn apply(&self, op: Op, _vars: &mut VarTable) -> Op {
        rewrite(op)
    }
}

fn rewrite(op: Op) -> Op {
    let op = map_children(op, &mut rewrite);
    match op {
        Op::Limit { input, count } => push_limit(*input, count),
        Op::Skip { input, count } => push_skip(*input, count),
        op => op,
    }
}

/// `Limit(input)`, pushed as far down as it goes.
fn push_limit(input: Op, count: crate::plan::Expr) -> Op {
    match input {
        Op::Project { input, items } => Op::Project {
            input: Box::new(push_limit(*input, count)),
            items,
        },
        Op::Optional { input, inner, vars } => Op::Limit {
            input: Box::new(Op::Optional {
                input: Box::new(push_limit(*input, count.clone())),
                inner,
                vars,
            }),
            count,
        },
        Op::Union {
            branches,
            distinct: false,
        } => Op::Limit {
            input: Box::new(Op::Union {
                branches: branches
                    .into_iter()
                    .map(|b| push_limit(b, count.clone()))
                    .collect(),
                distinct: false,
            }),
            count,
        },
        input => Op::Limit {
            input: Box::new(input),
            count,
        },
    }
}

/// `Skip(input)`, below the projections right under it.
fn push_skip(input: Op, count: crate::plan::Expr) -> Op {
    match input {
        Op::Project { input, items } => Op::Project {
            input: Box::new(push_skip(*input, count)),
            items,
        },
        input => Op::Skip {
            input: Box::new(input),
            count,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Expr, Var};
    use nereid_value::Value;

    fn scan(var: u32) -> Op {
        Op::NodeScan {
            input: Box::new(Op::Argument { vars: vec![] }),
            var: Var(var),
            labels: vec!["P".into()],
        }
    }

    fn project(input: Op, var: u32) -> Op {
        Op::Project {
            input: Box::new(input),
            items: vec![(Var(var), Expr::Var(Var(0)))],
        }
    }

    fn limit(input: Op, n: i64) -> Op {
        Op::Limit {
            input: Box::new(input),
            count: Expr::lit(Value::Int(n)),
        }
    }

    fn shape(op: &Op) -> String {
        let name = match op {
            Op::Limit { .. } => "Limit",
            Op::Skip { .. } => "Skip",
            Op::Project { .. } => "Project",
            Op::Optional { .. } => "Optional",
            Op::Union { .. } => "Union",
            Op::Filter { .. } => "Filter",
            Op::NodeScan { .. } => "Scan",
            Op::Argument { .. } => return String::new(),
            _ => "?",
        };
        let children: Vec<String> = op
            .children()
            .into_iter()
            .map(shape)
            .filter(|c| !c.is_empty())
            .collect();
        if children.is_empty() {
            name.to_owned()
        } else {
            format!("{name}({})", children.join(", "))
        }
    }

    #[test]
    fn limits_and_skips_move_below_projections() {
        let op = limit(
            Op::Skip {
                input: Box::new(project(project(scan(0), 1), 2)),
                count: Expr::lit(Value::Int(3)),
            },
            5,
        );
        assert_eq!(shape(&rewrite(op)), "Project(Project(Limit(Skip(Scan))))");
    }

    #[test]
    fn a_limit_is_copied_below_optional_match_and_union_all_branches() {
        let optional = Op::Optional {
            input: Box::new(project(scan(0), 1)),
            inner: Box::new(Op::Argument { vars: vec![Var(0)] }),
            vars: vec![],
        };
        assert_eq!(
            shape(&rewrite(limit(optional, 2))),
            "Limit(Optional(Project(Limit(Scan))))"
        );
        let union = |distinct| Op::Union {
            branches: vec![project(scan(0), 1), scan(0)],
            distinct,
        };
        assert_eq!(
            shape(&rewrite(limit(union(false), 2))),
            "Limit(Union(Project(Limit(Scan)), Limit(Scan)))"
        );
        // UNION's duplicates are removed across branches: nothing moves.
        assert_eq!(
            shape(&rewrite(limit(union(true), 2))),
            "Limit(Union(Project(Scan), Scan))"
        );
    }

    #[test]
    fn nothing_moves_past_an_operator_that_may_drop_rows() {
        let filter = Op::Filter {
            input: Box::new(scan(0)),
            predicate: Expr::lit(Value::Bool(true)),
        };
        assert_eq!(
            shape(&rewrite(limit(project(filter, 1), 4))),
            "Project(Limit(Filter(Scan)))"
        );
    }
}
