//! `ExpandInto`: an expansion to a fresh node that a filter then requires to equal an
//! already bound node (how the planner lowers `(a)-->(b)` when `b` is bound) becomes an
//! expand-into: only the relationships between the two bound nodes are enumerated, rather
//! than every neighbour of `a` then a comparison.
//!
//! The fresh variable stays defined (as a rename of the bound one, which costs nothing in
//! the physical plan), so nothing above has to change.

use nereid_cypher::ast::BinaryOp;

use super::{map_children, Rule};
use crate::plan::{Expr, Op, Var, VarTable};

pub struct ExpandInto;

impl Rule for ExpandInto {
    fn name(&self) -> &'static str {
        "ExpandInto"
    }

    fn apply(&self, op: Op, _vars: &mut VarTable) -> Op {
        rewrite(op)
    }
}

/// `Var(t) = Var(b)` in either order, with `t` the expansion's target.
fn equal_to(c: &Expr, t: Var) -> Option<Var> {
    let Expr::Binary(BinaryOp::Eq, a, b) = c else {
        return None;
    };
    match (&**a, &**b) {
        (Expr::Var(x), Expr::Var(y)) if *x == t && *y != t => Some(*y),
        (Expr::Var(y), Expr::Var(x)) if *x == t && *y != t => Some(*y),
        _ => None,
    }
}

fn rewrite(op: Op) -> Op {
    let op = map_children(op, &mut rewrite);
    let Op::Filter {
        mut input,
        predicate,
    } = op
    else {
        return op;
    };
    let (target, bound_vars) = match &*input {
        Op::Expand {
            to,
            into: false,
            input: below,
            ..
        }
        | Op::VarExpand {
            to,
            into: false,
            input: below,
            ..
        } => (*to, below.output_vars()),
        _ => return Op::Filter { input, predicate },
    };
    let mut conjuncts = predicate.conjuncts();
    let Some(i) = conjuncts
        .iter()
        .position(|c| equal_to(c, target).is_some_and(|b| bound_vars.contains(&b)))
    else {
        return Op::Filter {
            input,
            predicate: Expr::conjunction(conjuncts),
        };
    };
    let Some(b) = equal_to(&conjuncts.remove(i), target) else {
        unreachable!("position() found an equality");
    };
    match &mut *input {
        Op::Expand { to, into, .. } | Op::VarExpand { to, into, .. } => {
            *to = b;
            *into = true;
        }
        _ => unreachable!("matched an expansion above"),
    }
    let renamed = Op::Project {
        input,
        items: vec![(target, Expr::Var(b))],
    };
    if conjuncts.is_empty() {
        renamed
    } else {
        Op::Filter {
            input: Box::new(renamed),
            predicate: Expr::conjunction(conjuncts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nereid_storage::Dir;

    fn expand(input: Op, to: Var, into: bool) -> Op {
        Op::Expand {
            input: Box::new(input),
            from: Var(0),
            rel: Var(2),
            to,
            dir: Dir::Out,
            types: vec![],
            to_labels: vec![],
            into,
            unique: vec![],
        }
    }

    #[test]
    fn an_expansion_filtered_to_a_bound_node_expands_into_it() {
        let (a, b, t) = (Var(0), Var(1), Var(3));
        let scans = Op::Argument { vars: vec![a, b] };
        let plan = Op::Filter {
            input: Box::new(expand(scans.clone(), t, false)),
            predicate: Expr::binary(BinaryOp::Eq, Expr::Var(t), Expr::Var(b)),
        };
        let want = Op::Project {
            input: Box::new(expand(scans, b, true)),
            items: vec![(t, Expr::Var(b))],
        };
        assert_eq!(ExpandInto.apply(plan, &mut VarTable::default()), want);
    }

    #[test]
    fn an_equality_with_a_node_bound_later_is_left_alone() {
        let (a, t, c) = (Var(0), Var(3), Var(4));
        let plan = Op::Filter {
            input: Box::new(expand(Op::Argument { vars: vec![a] }, t, false)),
            predicate: Expr::binary(BinaryOp::Eq, Expr::Var(c), Expr::Var(t)),
        };
        assert_eq!(
            ExpandInto.apply(plan.clone(), &mut VarTable::default()),
            plan
        );
    }
}
