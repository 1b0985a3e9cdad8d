//! `LateProjection`: the items of a projection right below a top-k that its sort keys do
//! not read are computed after the top-k, for the `skip + limit` rows it keeps instead of
//! every input row (`RETURN p.id, p.name, p.age ORDER BY p.name LIMIT 20` reads `age` of
//! 20 nodes, not of all of them).
//!
//! A projection's items never read one another, and what a top-k passes on includes its
//! input's variables, so the deferred items see the same values. Deferred items are
//! evaluated for fewer rows: an expression that would fail only on a row the top-k drops
//! no longer fails (Cypher leaves the evaluation order of a projection open).

use std::collections::BTreeSet;

use super::{map_children, Rule};
use crate::plan::{Op, Var, VarTable};

pub struct LateProjection;

impl Rule for LateProjection {
    fn name(&self) -> &'static str {
        "LateProjection"
    }

    fn apply(&self, op: Op, _vars: &mut VarTable) -> Op {
        rewrite(op)
    }
}

fn rewrite(op: Op) -> Op {
    let op = map_children(op, &mut rewrite);
    let Op::TopK {
        input,
        keys,
        skip,
        limit,
    } = op
    else {
        return op;
    };
    let Op::Project {
        input: below,
        items,
    } = *input
    else {
        return Op::TopK {
            input,
            keys,
            skip,
            limit,
        };
    };
    let read: BTreeSet<Var> = keys.iter().flat_map(|k| k.expr.free_vars()).collect();
    let (now, later): (Vec<_>, Vec<_>) = items.into_iter().partition(|(v, _)| read.contains(v));
    let below = if now.is_empty() {
        below
    } else {
        Box::new(Op::Project {
            input: below,
            items: now,
        })
    };
    let top = Op::TopK {
        input: below,
        keys,
        skip,
        limit,
    };
    if later.is_empty() {
        return top;
    }
    Op::Project {
        input: Box::new(top),
        items: later,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Expr, SortKey};
    use nereid_value::Value;

    fn top_k(input: Op, key: Var) -> Op {
        Op::TopK {
            input: Box::new(input),
            keys: vec![SortKey {
                expr: Expr::Var(key),
                descending: false,
            }],
            skip: None,
            limit: Expr::lit(Value::Int(20)),
        }
    }

    fn project(input: Op, items: Vec<(Var, Expr)>) -> Op {
        Op::Project {
            input: Box::new(input),
            items,
        }
    }

    fn prop(v: Var, key: &str) -> Expr {
        Expr::prop(Expr::Var(v), key)
    }

    #[test]
    fn items_the_sort_does_not_read_move_above_the_top_k() {
        let (p, name, age) = (Var(0), Var(1), Var(2));
        let scan = || Op::Argument { vars: vec![p] };
        let plan = top_k(
            project(scan(), vec![(name, prop(p, "name")), (age, prop(p, "age"))]),
            name,
        );
        let want = project(
            top_k(project(scan(), vec![(name, prop(p, "name"))]), name),
            vec![(age, prop(p, "age"))],
        );
        assert_eq!(LateProjection.apply(plan, &mut VarTable::default()), want);
    }

    #[test]
    fn a_sort_on_the_input_defers_the_whole_projection() {
        let (p, age) = (Var(0), Var(2));
        let scan = || Op::Argument { vars: vec![p] };
        let plan = top_k(project(scan(), vec![(age, prop(p, "age"))]), p);
        let want = project(top_k(scan(), p), vec![(age, prop(p, "age"))]);
        assert_eq!(LateProjection.apply(plan, &mut VarTable::default()), want);
    }

    #[test]
    fn a_projection_the_sort_reads_entirely_stays() {
        let (p, name) = (Var(0), Var(1));
        let plan = top_k(
            project(
                Op::Argument { vars: vec![p] },
                vec![(name, prop(p, "name"))],
            ),
            name,
        );
        assert_eq!(
            LateProjection.apply(plan.clone(), &mut VarTable::default()),
            plan
        );
    }
}
