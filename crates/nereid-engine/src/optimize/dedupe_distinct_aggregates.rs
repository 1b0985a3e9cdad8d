//! `DedupeForDistinctAggregates`: an aggregation whose every aggregate ignores duplicate
//! rows (DISTINCT aggregates, `min`, `max`) over a traversal from a start node first keeps
//! one row per combination of the nodes it reads, deduplicated on internal ids.
//!
//! ```text
//! Aggregate [] [count(DISTINCT f.id) AS n]        Aggregate [] [count(DISTINCT f.id) AS n]
//!   Expand (m)-[:KNOWS]->(f)               ==>      Distinct [f]
//!     Expand (p)-[:KNOWS]->(m)                        Expand (m)-[:KNOWS]->(f)
//!       NodeSeek (p:Person {id: $id})                   …
//! ```
//!
//! A multi-hop traversal reaches the same node along many paths; without the rule the
//! aggregation reads `f.id` and hashes the value once per path, with it once per node
//! (hashing an id is cheaper than reading and hashing a property). Valid because the rows
//! the `Distinct` drops agree on every variable the aggregation reads, so they give the same
//! keys and the same aggregate arguments, and these aggregates do not count repeats
//! (`collect(DISTINCT …)` keeps first occurrences in order, and so does `Distinct`).
//!
//! Applied only where it pays and is safe: every variable the aggregation reads is a node
//! variable; the input expands from a seek (a whole-graph aggregation keeps its parallel
//! scan, which a `Distinct` would end); nothing in the input writes (a property read per
//! row could otherwise see different values for one node); keys and arguments are
//! deterministic and have no subqueries.

use super::{map_children, Rule};
use crate::plan::{AggFunc, Expr, Op, Var, VarKind, VarTable};

pub struct DedupeForDistinctAggregates;

impl Rule for DedupeForDistinctAggregates {
    fn name(&self) -> &'static str {
        "DedupeForDistinctAggregates"
    }

    fn apply(&self, op: Op, vars: &mut VarTable) -> Op {
        rewrite(op, vars)
    }
}

fn rewrite(op: Op, vars: &VarTable) -> Op {
    let op = map_children(op, &mut |c| rewrite(c, vars));
    let Op::Aggregate { input, keys, aggs } = op else {
        return op;
    };
    match dedupe_vars(&input, &keys, &aggs, vars) {
        Some(read) => Op::Aggregate {
            input: Box::new(Op::Distinct { input, vars: read }),
            keys,
            aggs,
        },
        None => Op::Aggregate { input, keys, aggs },
    }
}

/// The node variables to deduplicate on, when the rule applies.
fn dedupe_vars(
    input: &Op,
    keys: &[(Var, Expr)],
    aggs: &[(Var, crate::plan::AggCall)],
    vars: &VarTable,
) -> Option<Vec<Var>> {
    let insensitive = aggs
        .iter()
        .all(|(_, a)| a.distinct || matches!(a.func, AggFunc::Min | AggFunc::Max));
    if aggs.is_empty() || !insensitive {
        return None;
    }
    let exprs = keys
        .iter()
        .map(|(_, e)| e)
        .chain(aggs.iter().flat_map(|(_, a)| a.args.iter()));
    let mut read: Vec<Var> = Vec::new();
    for e in exprs {
        let subquery = e.any(&mut |x| {
            matches!(
                x,
                Expr::Exists { .. } | Expr::Count { .. } | Expr::Collect { .. }
            )
        });
        if subquery || e.is_nondeterministic() {
            return None;
        }
        for v in e.free_vars() {
            if vars.kind(v) != VarKind::Node {
                return None;
            }
            if !read.contains(&v) {
                read.push(v);
            }
        }
    }
    let mut seeks = false;
    let mut expands = false;
    let mut writes = false;
    input.any(&mut |o| {
        seeks |= matches!(o, Op::NodeSeek { .. });
        expands |= matches!(o, Op::Expand { .. } | Op::VarExpand { .. });
        writes |= matches!(
            o,
            Op::Create { .. } | Op::Merge { .. } | Op::Set { .. } | Op::Delete { .. }
        );
        false
    });
    (!read.is_empty() && seeks && expands && !writes).then_some(read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{AggCall, Seek};
    use nereid_storage::Dir;

    struct Vars {
        table: VarTable,
        p: Var,
        r: Var,
        f: Var,
        n: Var,
    }

    fn vars() -> Vars {
        let mut table = VarTable::default();
        let p = table.named("p", VarKind::Node);
        let r = table.named("r", VarKind::Relationship);
        let f = table.named("f", VarKind::Node);
        let n = table.named("n", VarKind::Value);
        Vars { table, p, r, f, n }
    }

    fn seek_expand(v: &Vars) -> Op {
        Op::Expand {
            input: Box::new(Op::NodeSeek {
                input: Box::new(Op::Argument { vars: vec![] }),
                var: v.p,
                labels: vec!["Person".into()],
                key: "id".into(),
                seek: Seek::Eq(Expr::lit(nereid_value::Value::Int(1))),
            }),
            from: v.p,
            rel: v.r,
            to: v.f,
            dir: Dir::Out,
            types: vec![],
            to_labels: vec![],
            into: false,
            unique: vec![],
        }
    }

    fn prop(v: Var, key: &str) -> Expr {
        Expr::Prop(Box::new(Expr::Var(v)), key.into())
    }

    fn call(func: AggFunc, distinct: bool, args: Vec<Expr>) -> AggCall {
        AggCall {
            func,
            distinct,
            args,
        }
    }

    #[test]
    fn distinct_counts_over_a_traversal_dedupe_on_the_nodes_first() {
        let mut v = vars();
        let plan = Op::Aggregate {
            input: Box::new(seek_expand(&v)),
            keys: vec![],
            aggs: vec![(v.n, call(AggFunc::Count, true, vec![prop(v.f, "id")]))],
        };
        let got = DedupeForDistinctAggregates.apply(plan.clone(), &mut v.table);
        let Op::Aggregate { input, keys, aggs } = got else {
            panic!("not an aggregate: {got:?}")
        };
        let Op::Aggregate {
            keys: k0, aggs: a0, ..
        } = plan
        else {
            unreachable!()
        };
        assert_eq!((keys, aggs), (k0, a0));
        assert_eq!(
            *input,
            Op::Distinct {
                input: Box::new(seek_expand(&v)),
                vars: vec![v.f],
            }
        );
    }

    #[test]
    fn keys_and_min_max_are_read_from_the_deduplicated_nodes_too() {
        let mut v = vars();
        let k = v.table.named("k", VarKind::Value);
        let plan = Op::Aggregate {
            input: Box::new(seek_expand(&v)),
            keys: vec![(k, prop(v.p, "name"))],
            aggs: vec![
                (v.n, call(AggFunc::Max, false, vec![prop(v.f, "age")])),
                (
                    v.table.named("c", VarKind::Value),
                    call(AggFunc::Collect, true, vec![Expr::Var(v.f)]),
                ),
            ],
        };
        let got = DedupeForDistinctAggregates.apply(plan, &mut v.table);
        let Op::Aggregate { input, .. } = got else {
            panic!("not an aggregate")
        };
        assert!(
            matches!(&*input, Op::Distinct { vars, .. } if vars == &vec![v.p, v.f]),
            "{input:?}"
        );
    }

    #[test]
    fn plans_where_repeats_count_or_it_would_not_pay_are_left_alone() {
        let mut v = vars();
        let agg = |input: Op, a: AggCall| Op::Aggregate {
            input: Box::new(input),
            keys: vec![],
            aggs: vec![(v.n, a)],
        };
        let distinct_f = call(AggFunc::Count, true, vec![prop(v.f, "id")]);
        let scan_expand = {
            let Op::Expand {
                from, rel, to, dir, ..
            } = seek_expand(&v)
            else {
                unreachable!()
            };
            Op::Expand {
                input: Box::new(Op::NodeScan {
                    input: Box::new(Op::Argument { vars: vec![] }),
                    var: from,
                    labels: vec![],
                }),
                from,
                rel,
                to,
                dir,
                types: vec![],
                to_labels: vec![],
                into: false,
                unique: vec![],
            }
        };
        let cases = [
            // Repeats count: count(*), a plain count, sum.
            agg(seek_expand(&v), call(AggFunc::CountStar, false, vec![])),
            agg(
                seek_expand(&v),
                call(AggFunc::Count, false, vec![prop(v.f, "id")]),
            ),
            agg(
                seek_expand(&v),
                call(AggFunc::Sum, false, vec![prop(v.f, "id")]),
            ),
            // A relationship read (each row has its own relationship: nothing to drop).
            agg(
                seek_expand(&v),
                call(AggFunc::Count, true, vec![prop(v.r, "w")]),
            ),
            // Whole-graph: keeps its parallel scan.
            agg(scan_expand, distinct_f.clone()),
            // No expansion.
            agg(
                Op::NodeSeek {
                    input: Box::new(Op::Argument { vars: vec![] }),
                    var: v.f,
                    labels: vec![],
                    key: "id".into(),
                    seek: Seek::Eq(Expr::lit(nereid_value::Value::Int(1))),
                },
                distinct_f.clone(),
            ),
        ];
        for plan in cases {
            assert_eq!(
                DedupeForDistinctAggregates.apply(plan.clone(), &mut v.table),
                plan
            );
        }
    }
}
