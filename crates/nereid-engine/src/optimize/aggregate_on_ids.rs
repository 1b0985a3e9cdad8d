//! `AggregateOnIds`: grouping by properties of nodes or relationships first groups by the
//! elements themselves, so each property is read once per element instead of once per row.
//!
//! ```text
//! Aggregate [p.id AS id] [count(*) AS n]          Aggregate [p.id AS id] [sum(c) AS n]
//!   Expand (x)-[:KNOWS]->(p)              ==>       Aggregate [p] [count(*) AS c]
//!                                                     Expand (x)-[:KNOWS]->(p)
//! ```
//!
//! The inner aggregation keys on internal ids (cheap to hash, no property read); the outer
//! one reads `p.id` once per `p` and merges the groups of elements with equal keys. Valid
//! because equivalent elements are identical (so a key computed from elements is a function
//! of the element group), and only for aggregates that can be split into partials and
//! combined exactly: `count(*)`, `count(x)` (combined with `sum`), `min` and `max`. Not
//! `sum` or `avg`, whose float results would depend on the order of additions; not
//! DISTINCT aggregates or `collect`.
//!
//! Applied only where rows can repeat an element, i.e. when the input expands a pattern
//! or scans relationships (a bare node scan yields each element once, and the extra
//! grouping would be pure cost).

use super::{map_children, Rule};
use crate::plan::{AggCall, AggFunc, Expr, Op, Var, VarKind, VarTable};

pub struct AggregateOnIds;

impl Rule for AggregateOnIds {
    fn name(&self) -> &'static str {
        "AggregateOnIds"
    }

    fn apply(&self, op: Op, vars: &mut VarTable) -> Op {
        rewrite(op, vars)
    }
}

fn rewrite(op: Op, vars: &mut VarTable) -> Op {
    let op = map_children(op, &mut |c| rewrite(c, vars));
    let Op::Aggregate { input, keys, aggs } = op else {
        return op;
    };
    let Some(elements) = element_keys(&keys, vars) else {
        return Op::Aggregate { input, keys, aggs };
    };
    let splittable = aggs
        .iter()
        .all(|(_, a)| !a.distinct && combiner(a.func).is_some());
    let repeats = input.any(&mut |o| {
        matches!(
            o,
            Op::Expand { .. } | Op::VarExpand { .. } | Op::RelScan { .. }
        )
    });
    if !splittable || !repeats {
        return Op::Aggregate { input, keys, aggs };
    }
    let mut partials = Vec::with_capacity(aggs.len());
    let mut combined = Vec::with_capacity(aggs.len());
    for (v, a) in aggs {
        let p = vars.hidden("partial", VarKind::Value);
        let func = combiner(a.func).unwrap_or(a.func);
        combined.push((
            v,
            AggCall {
                func,
                distinct: false,
                args: vec![Expr::Var(p)],
            },
        ));
        partials.push((p, a));
    }
    let inner = Op::Aggregate {
        input,
        keys: elements.into_iter().map(|e| (e, Expr::Var(e))).collect(),
        aggs: partials,
    };
    Op::Aggregate {
        input: Box::new(inner),
        keys,
        aggs: combined,
    }
}

/// How the partial results of `func` combine, if they can (exactly).
fn combiner(func: AggFunc) -> Option<AggFunc> {
    match func {
        AggFunc::CountStar | AggFunc::Count => Some(AggFunc::Sum),
        AggFunc::Min => Some(AggFunc::Min),
        AggFunc::Max => Some(AggFunc::Max),
        _ => None,
    }
}

/// The node and relationship variables the keys are computed from, when every key is a
/// deterministic expression of such variables only and at least one is more than the bare
/// variable (else there is nothing to gain).
fn element_keys(keys: &[(Var, Expr)], vars: &VarTable) -> Option<Vec<Var>> {
    let mut elements: Vec<Var> = Vec::new();
    let mut computed = false;
    for (_, e) in keys {
        let subquery = e.any(&mut |x| {
            matches!(
                x,
                Expr::Exists { .. } | Expr::Count { .. } | Expr::Collect { .. }
            )
        });
        if subquery || e.is_nondeterministic() {
            return None;
        }
        let free = e.free_vars();
        if free.is_empty() {
            return None;
        }
        for v in free {
            if !matches!(vars.kind(v), VarKind::Node | VarKind::Relationship) {
                return None;
            }
            if !elements.contains(&v) {
                elements.push(v);
            }
        }
        computed |= !matches!(e, Expr::Var(_));
    }
    computed.then_some(elements)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nereid_storage::Dir;

    fn expand(from: Var, rel: Var, to: Var) -> Op {
        Op::Expand {
            input: Box::new(Op::NodeScan {
                input: Box::new(Op::Argument { vars: vec![] }),
                var: from,
                labels: vec![],
            }),
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

    fn call(func: AggFunc, args: Vec<Expr>) -> AggCall {
        AggCall {
            func,
            distinct: false,
            args,
        }
    }

    fn prop(v: Var, key: &str) -> Expr {
        Expr::Prop(Box::new(Expr::Var(v)), key.into())
    }

    #[test]
    fn a_count_per_node_property_counts_per_node_first() {
        let mut vars = VarTable::default();
        let x = vars.named("x", VarKind::Node);
        let r = vars.named("r", VarKind::Relationship);
        let p = vars.named("p", VarKind::Node);
        let (id, n, low) = (
            vars.named("id", VarKind::Value),
            vars.named("n", VarKind::Value),
            vars.named("low", VarKind::Value),
        );
        let plan = Op::Aggregate {
            input: Box::new(expand(x, r, p)),
            keys: vec![(id, prop(p, "id"))],
            aggs: vec![
                (n, call(AggFunc::CountStar, vec![])),
                (low, call(AggFunc::Min, vec![prop(r, "since")])),
            ],
        };
        let got = AggregateOnIds.apply(plan, &mut vars);
        let Op::Aggregate { input, keys, aggs } = got else {
            panic!("not an aggregate: {got:?}")
        };
        assert_eq!(keys, vec![(id, prop(p, "id"))]);
        let (c, m) = (aggs[0].1.args[0].clone(), aggs[1].1.args[0].clone());
        assert_eq!(aggs[0].1.func, AggFunc::Sum);
        assert_eq!(aggs[1].1.func, AggFunc::Min);
        let Op::Aggregate { input, keys, aggs } = *input else {
            panic!("no inner aggregate")
        };
        assert_eq!(keys, vec![(p, Expr::Var(p))]);
        assert_eq!(aggs.len(), 2);
        assert_eq!(Expr::Var(aggs[0].0), c);
        assert_eq!(Expr::Var(aggs[1].0), m);
        assert_eq!(aggs[0].1, call(AggFunc::CountStar, vec![]));
        assert_eq!(*input, expand(x, r, p));
    }

    #[test]
    fn plans_it_cannot_split_or_would_not_gain_from_are_left_alone() {
        let mut vars = VarTable::default();
        let x = vars.named("x", VarKind::Node);
        let r = vars.named("r", VarKind::Relationship);
        let p = vars.named("p", VarKind::Node);
        let v = vars.named("v", VarKind::Value);
        let (k, n) = (
            vars.named("k", VarKind::Value),
            vars.named("n", VarKind::Value),
        );
        let agg = |input: Op, key: Expr, a: AggCall| Op::Aggregate {
            input: Box::new(input),
            keys: vec![(k, key)],
            aggs: vec![(n, a)],
        };
        let count = call(AggFunc::CountStar, vec![]);
        let cases = [
            // sum and avg of floats depend on the order of additions; collect keeps order.
            agg(
                expand(x, r, p),
                prop(p, "id"),
                call(AggFunc::Sum, vec![prop(r, "w")]),
            ),
            agg(
                expand(x, r, p),
                prop(p, "id"),
                call(AggFunc::Avg, vec![prop(r, "w")]),
            ),
            agg(
                expand(x, r, p),
                prop(p, "id"),
                call(AggFunc::Collect, vec![prop(r, "w")]),
            ),
            agg(
                expand(x, r, p),
                prop(p, "id"),
                AggCall {
                    distinct: true,
                    ..call(AggFunc::Count, vec![prop(r, "w")])
                },
            ),
            // A key of a plain value: 1 and 1.0 are one group but may map to two keys.
            agg(expand(x, r, p), prop(v, "id"), count.clone()),
            // Already grouped by the node itself.
            agg(expand(x, r, p), Expr::Var(p), count.clone()),
            // No expansion: each node appears once.
            agg(
                Op::NodeScan {
                    input: Box::new(Op::Argument { vars: vec![] }),
                    var: p,
                    labels: vec![],
                },
                prop(p, "id"),
                count,
            ),
        ];
        for plan in cases {
            assert_eq!(AggregateOnIds.apply(plan.clone(), &mut vars), plan);
        }
    }
}
