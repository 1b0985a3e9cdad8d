//! `PushDownFilter`: each conjunct of a filter moves down to just above the operator
//! that binds the last variable it reads, so that rows are dropped as early as possible
//! (a WHERE on the start node of a long pattern filters before the expansions).
//!
//! A conjunct moves only through operators that pass their input rows through unchanged
//! and in a way a filter commutes with: scans, seeks, expansions, projections, UNWIND,
//! OPTIONAL MATCH (into its input, never into the optional part) and other filters. It
//! never moves through aggregation, DISTINCT, ORDER BY, SKIP, LIMIT, updating clauses
//! (a predicate may read what they change), procedure calls or UNION.

use std::collections::BTreeSet;

use super::{map_children, Rule};
use crate::plan::{Expr, Op, Var, VarTable};

pub struct PushDownFilter;

impl Rule for PushDownFilter {
    fn name(&self) -> &'static str {
        "PushDownFilter"
    }

    fn apply(&self, op: Op, _vars: &mut VarTable) -> Op {
        push(op)
    }
}

fn push(op: Op) -> Op {
    let op = map_children(op, &mut push);
    match op {
        Op::Filter { input, predicate } => {
            let mut out = *input;
            for c in predicate.conjuncts() {
                out = sink(out, c);
            }
            out
        }
        other => other,
    }
}

/// Whether a filter commutes with `op` when it reads only `op`'s input variables.
fn passes_through(op: &Op) -> bool {
    matches!(
        op,
        Op::NodeScan { .. }
            | Op::NodeSeek { .. }
            | Op::Expand { .. }
            | Op::VarExpand { .. }
            | Op::ShortestPath { .. }
            | Op::Intersect { .. }
            | Op::Degree { .. }
            | Op::Project { .. }
            | Op::Unwind { .. }
            | Op::Optional { .. }
            | Op::Filter { .. }
    )
}

/// Places `conjunct` as deep below `op` as it may go.
fn sink(mut op: Op, conjunct: Expr) -> Op {
    let free: BTreeSet<Var> = conjunct.free_vars();
    let below = passes_through(&op) && op.input().is_some_and(|i| free.is_subset(&i.output_vars()));
    if below {
        if let Some(input) = op.input_mut() {
            let i = std::mem::replace(&mut **input, Op::Argument { vars: Vec::new() });
            **input = sink(i, conjunct);
            return op;
        }
    }
    match op {
        // Conjuncts that stop at the same place form one filter.
        Op::Filter { input, predicate } => Op::Filter {
            input,
            predicate: Expr::and(predicate, conjunct),
        },
        other => Op::Filter {
            input: Box::new(other),
            predicate: conjunct,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nereid_cypher::ast::BinaryOp;
    use nereid_storage::Dir;
    use nereid_value::Value;

    fn arg() -> Box<Op> {
        Box::new(Op::Argument { vars: vec![] })
    }

    fn eq(v: Var, key: &str, x: i64) -> Expr {
        Expr::binary(
            BinaryOp::Eq,
            Expr::prop(Expr::Var(v), key),
            Expr::lit(Value::Int(x)),
        )
    }

    fn expand(input: Op, from: Var, rel: Var, to: Var) -> Op {
        Op::Expand {
            input: Box::new(input),
            from,
            rel,
            to,
            dir: Dir::Out,
            types: vec![],
            to_labels: vec![],
            into: false,
            unique: vec![],
        }
    }

    #[test]
    fn where_on_the_start_node_moves_below_the_expansion() {
        let (a, r, b) = (Var(0), Var(1), Var(2));
        let scan = Op::NodeScan {
            input: arg(),
            var: a,
            labels: vec!["A".into()],
        };
        let plan = Op::Filter {
            input: Box::new(expand(scan.clone(), a, r, b)),
            predicate: Expr::and(eq(a, "x", 1), eq(b, "y", 2)),
        };
        let want = Op::Filter {
            input: Box::new(expand(
                Op::Filter {
                    input: Box::new(scan),
                    predicate: eq(a, "x", 1),
                },
                a,
                r,
                b,
            )),
            predicate: eq(b, "y", 2),
        };
        assert_eq!(PushDownFilter.apply(plan, &mut VarTable::default()), want);
    }

    #[test]
    fn filters_never_move_below_limit_or_aggregation() {
        let a = Var(0);
        let scan = Op::NodeScan {
            input: arg(),
            var: a,
            labels: vec![],
        };
        let limited = Op::Limit {
            input: Box::new(scan),
            count: Expr::lit(Value::Int(1)),
        };
        let plan = Op::Filter {
            input: Box::new(limited),
            predicate: eq(a, "x", 1),
        };
        assert_eq!(
            PushDownFilter.apply(plan.clone(), &mut VarTable::default()),
            plan
        );
    }

    #[test]
    fn a_filter_on_outer_variables_moves_out_of_optional_match_input_only() {
        let (a, r, b) = (Var(0), Var(1), Var(2));
        let scan = Op::NodeScan {
            input: arg(),
            var: a,
            labels: vec![],
        };
        let inner = expand(Op::Argument { vars: vec![a] }, a, r, b);
        let opt = |input: Op| Op::Optional {
            input: Box::new(input),
            inner: Box::new(inner.clone()),
            vars: vec![r, b],
        };
        // On `a`: below the OPTIONAL MATCH. On `b` (nullable): stays above it.
        let plan = Op::Filter {
            input: Box::new(opt(scan.clone())),
            predicate: Expr::and(eq(a, "x", 1), eq(b, "y", 2)),
        };
        let want = Op::Filter {
            input: Box::new(opt(Op::Filter {
                input: Box::new(scan),
                predicate: eq(a, "x", 1),
            })),
            predicate: eq(b, "y", 2),
        };
        assert_eq!(PushDownFilter.apply(plan, &mut VarTable::default()), want);
    }
}
