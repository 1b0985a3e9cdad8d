//! `UseTopK`: `ORDER BY … [SKIP s] LIMIT l` sorts keeping only the best `s + l` rows
//! (memory `O(s + l)` instead of the whole input, and `O(n log (s + l))` time).

use super::{map_children, Rule};
use crate::plan::{Op, VarTable};

pub struct UseTopK;

impl Rule for UseTopK {
    fn name(&self) -> &'static str {
        "UseTopK"
    }

    fn apply(&self, op: Op, _vars: &mut VarTable) -> Op {
        rewrite(op)
    }
}

fn rewrite(op: Op) -> Op {
    let op = map_children(op, &mut rewrite);
    let Op::Limit { input, count } = op else {
        return op;
    };
    match *input {
        Op::Sort { input, keys } => Op::TopK {
            input,
            keys,
            skip: None,
            limit: count,
        },
        Op::Skip {
            input: skip_input,
            count: skip,
        } => match *skip_input {
            Op::Sort { input, keys } => Op::TopK {
                input,
                keys,
                skip: Some(skip),
                limit: count,
            },
            other => Op::Limit {
                input: Box::new(Op::Skip {
                    input: Box::new(other),
                    count: skip,
                }),
                count,
            },
        },
        other => Op::Limit {
            input: Box::new(other),
            count,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Expr, SortKey, Var};
    use nereid_value::Value;

    fn sort() -> Op {
        Op::Sort {
            input: Box::new(Op::Argument { vars: vec![Var(0)] }),
            keys: vec![SortKey {
                expr: Expr::Var(Var(0)),
                descending: true,
            }],
        }
    }

    fn int(i: i64) -> Expr {
        Expr::lit(Value::Int(i))
    }

    #[test]
    fn order_by_skip_limit_becomes_top_k() {
        let plan = Op::Limit {
            input: Box::new(Op::Skip {
                input: Box::new(sort()),
                count: int(5),
            }),
            count: int(10),
        };
        let Op::Sort { input, keys } = sort() else {
            unreachable!()
        };
        let want = Op::TopK {
            input,
            keys,
            skip: Some(int(5)),
            limit: int(10),
        };
        assert_eq!(UseTopK.apply(plan, &mut VarTable::default()), want);
    }

    #[test]
    fn a_limit_without_a_sort_stays() {
        let plan = Op::Limit {
            input: Box::new(Op::Argument { vars: vec![] }),
            count: int(1),
        };
        assert_eq!(UseTopK.apply(plan.clone(), &mut VarTable::default()), plan);
    }
}
