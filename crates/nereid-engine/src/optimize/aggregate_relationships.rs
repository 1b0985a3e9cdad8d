//! `AggregateRelationships`: an aggregation straight over a relationship-type scan whose
//! keys and aggregate arguments read only the relationships' properties (or the bare
//! relationship and its ends) reads those from the store's records in bulk and aggregates
//! them in place, with no row per relationship.
//!
//! ```text
//! Aggregate [] [count(k) AS n, min(k.since) AS lo]         RelationshipTypeAggregate
//!   RelationshipTypeScan (:Person)-[k:KNOWS]->(:Person)  ==>   (:Person)-[k:KNOWS]->(:Person)
//!                                                               count(k) AS n, min(k.since) AS lo
//! ```
//!
//! Valid for every aggregate function (the fused operator feeds the same aggregators the
//! same values in the same order), as long as each key and each argument is `r.key`, `r`,
//! or one of the two end nodes: what the store's bulk scan
//! (`GraphRead::scan_rel_rows`) hands out per relationship. Anything else — a
//! computed expression, a property of an end node, a constant argument (`percentileCont(r.x,
//! 0.5)`), a variable of the input rows — leaves the plan alone. The scan's input may be any
//! plan: the fused operator scans once per input row, as the scan did, so writes earlier
//! in the statement are seen. Runs after `AggregateOnIds` (whose inner aggregation, grouped
//! by an end node, qualifies) and `CountDegrees` (which answers `count(*)` per end node
//! from the adjacency, cheaper still).

use super::{map_children, Rule};
use crate::plan::{Expr, Op, Var, VarTable, ID_KEY};

pub struct AggregateRelationships;

impl Rule for AggregateRelationships {
    fn name(&self) -> &'static str {
        "AggregateRelationships"
    }

    fn apply(&self, op: Op, _vars: &mut VarTable) -> Op {
        rewrite(op)
    }
}

fn rewrite(op: Op) -> Op {
    let op = map_children(op, &mut rewrite);
    let Op::Aggregate { input, keys, aggs } = op else {
        return op;
    };
    let fusable = match &*input {
        Op::RelScan {
            rel, start, end, ..
        } => {
            let reads = |e: &Expr| column_of(e, *rel, *start, *end);
            start != end
                && keys.iter().all(|(_, e)| reads(e))
                && aggs.iter().all(|(_, a)| a.args.iter().all(reads))
        }
        _ => false,
    };
    if !fusable {
        return Op::Aggregate { input, keys, aggs };
    }
    let Op::RelScan {
        input: scan_input,
        rel,
        start,
        end,
        rel_type,
        start_labels,
        end_labels,
    } = *input
    else {
        return Op::Aggregate { input, keys, aggs };
    };
    Op::RelAggregate {
        input: scan_input,
        rel,
        start,
        end,
        rel_type,
        start_labels,
        end_labels,
        keys,
        aggs,
    }
}

/// Whether `e` is something the bulk scan gives per relationship: a property of `rel`,
/// `rel` itself, or one of its ends.
fn column_of(e: &Expr, rel: Var, start: Var, end: Var) -> bool {
    match e {
        Expr::Var(v) => *v == rel || *v == start || *v == end,
        Expr::Prop(base, key) => key != ID_KEY && matches!(&**base, Expr::Var(v) if *v == rel),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{AggCall, AggFunc, Lit, VarKind};
    use nereid_storage::Dir;
    use nereid_value::Value;

    struct Vars {
        table: VarTable,
        a: Var,
        r: Var,
        b: Var,
        n: Var,
        m: Var,
    }

    fn vars() -> Vars {
        let mut table = VarTable::default();
        let a = table.named("a", VarKind::Node);
        let r = table.named("r", VarKind::Relationship);
        let b = table.named("b", VarKind::Node);
        let n = table.named("n", VarKind::Value);
        let m = table.named("m", VarKind::Value);
        Vars {
            table,
            a,
            r,
            b,
            n,
            m,
        }
    }

    fn leaf() -> Box<Op> {
        Box::new(Op::Argument { vars: vec![] })
    }

    fn rel_scan(v: &Vars, input: Box<Op>) -> Op {
        Op::RelScan {
            input,
            rel: v.r,
            start: v.a,
            end: v.b,
            rel_type: "KNOWS".into(),
            start_labels: vec!["Person".into()],
            end_labels: vec![],
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
    fn an_aggregation_of_relationship_properties_reads_them_in_bulk() {
        let mut v = vars();
        let keys = vec![];
        let aggs = vec![
            (v.n, call(AggFunc::Count, vec![Expr::Var(v.r)])),
            (v.m, call(AggFunc::Avg, vec![prop(v.r, "since")])),
        ];
        let plan = Op::Aggregate {
            input: Box::new(rel_scan(&v, leaf())),
            keys: keys.clone(),
            aggs: aggs.clone(),
        };
        let got = AggregateRelationships.apply(plan, &mut v.table);
        assert_eq!(
            got,
            Op::RelAggregate {
                input: leaf(),
                rel: v.r,
                start: v.a,
                end: v.b,
                rel_type: "KNOWS".into(),
                start_labels: vec!["Person".into()],
                end_labels: vec![],
                keys,
                aggs,
            }
        );
        assert_eq!(got.name(), "RelationshipTypeAggregate");
        // Only its own outputs are visible above, and it reads nothing of its input.
        assert_eq!(got.output_vars(), [v.n, v.m].into_iter().collect());
        assert!(got.uses().is_empty());
    }

    #[test]
    fn keys_of_relationship_properties_or_ends_and_any_input_qualify() {
        let mut v = vars();
        let outer = v.table.named("x", VarKind::Node);
        let over = Op::NodeScan {
            input: leaf(),
            var: outer,
            labels: vec![],
        };
        for (key, input) in [
            (prop(v.r, "kind"), leaf()),
            (Expr::Var(v.b), leaf()),
            (Expr::Var(v.a), Box::new(over.clone())),
        ] {
            let plan = Op::Aggregate {
                input: Box::new(rel_scan(&v, input.clone())),
                keys: vec![(v.n, key.clone())],
                aggs: vec![(
                    v.m,
                    AggCall {
                        func: AggFunc::Count,
                        distinct: true,
                        args: vec![prop(v.r, "w")],
                    },
                )],
            };
            let got = AggregateRelationships.apply(plan, &mut v.table);
            let Op::RelAggregate {
                input: got_input,
                keys,
                ..
            } = got
            else {
                panic!("not fused: {got:?}")
            };
            assert_eq!(keys, vec![(v.n, key)]);
            assert_eq!(got_input, input);
        }
    }

    #[test]
    fn aggregations_reading_anything_else_are_left_alone() {
        let mut v = vars();
        let outer = v.table.named("x", VarKind::Value);
        let agg = |input: Op, key: Option<Expr>, arg: Vec<Expr>| Op::Aggregate {
            input: Box::new(input),
            keys: key.into_iter().map(|k| (v.n, k)).collect(),
            aggs: vec![(v.m, call(AggFunc::Max, arg))],
        };
        let plus_one = Expr::Binary(
            nereid_cypher::ast::BinaryOp::Add,
            Box::new(prop(v.r, "w")),
            Box::new(Expr::Lit(Lit(Value::Int(1)))),
        );
        let cases = [
            // A property of an end node, a computed value, a variable of the input rows.
            agg(rel_scan(&v, leaf()), None, vec![prop(v.a, "age")]),
            agg(rel_scan(&v, leaf()), None, vec![plus_one]),
            agg(
                rel_scan(&v, leaf()),
                Some(Expr::Var(outer)),
                vec![prop(v.r, "w")],
            ),
            agg(
                rel_scan(&v, leaf()),
                Some(prop(v.b, "id")),
                vec![prop(v.r, "w")],
            ),
            // The Neptune id is not a property.
            agg(rel_scan(&v, leaf()), None, vec![prop(v.r, ID_KEY)]),
            // A filter between the aggregation and the scan.
            agg(
                Op::Filter {
                    input: Box::new(rel_scan(&v, leaf())),
                    predicate: Expr::IsNotNull(Box::new(prop(v.r, "w"))),
                },
                None,
                vec![prop(v.r, "w")],
            ),
            // Not a relationship-type scan.
            agg(
                Op::Expand {
                    input: Box::new(Op::NodeScan {
                        input: leaf(),
                        var: v.a,
                        labels: vec![],
                    }),
                    from: v.a,
                    rel: v.r,
                    to: v.b,
                    dir: Dir::Out,
                    types: vec!["KNOWS".into()],
                    to_labels: vec![],
                    into: false,
                    unique: vec![],
                },
                None,
                vec![prop(v.r, "w")],
            ),
        ];
        for plan in cases {
            assert_eq!(
                AggregateRelationships.apply(plan.clone(), &mut v.table),
                plan
            );
        }
        // A constant argument (percentiles) is not a column of the scan.
        let percentile = Op::Aggregate {
            input: Box::new(rel_scan(&v, leaf())),
            keys: vec![],
            aggs: vec![(
                v.m,
                call(
                    AggFunc::PercentileCont,
                    vec![prop(v.r, "w"), Expr::Lit(Lit(Value::Float(0.5)))],
                ),
            )],
        };
        assert_eq!(
            AggregateRelationships.apply(percentile.clone(), &mut v.table),
            percentile
        );
    }

    #[test]
    fn nested_aggregations_fuse_at_the_bottom() {
        let mut v = vars();
        let k = v.table.named("k", VarKind::Value);
        // What `AggregateOnIds` makes of `RETURN b.id, max(r.w)`.
        let inner = Op::Aggregate {
            input: Box::new(rel_scan(&v, leaf())),
            keys: vec![(v.b, Expr::Var(v.b))],
            aggs: vec![(v.m, call(AggFunc::Max, vec![prop(v.r, "w")]))],
        };
        let outer = Op::Aggregate {
            input: Box::new(inner),
            keys: vec![(k, prop(v.b, "id"))],
            aggs: vec![(v.n, call(AggFunc::Max, vec![Expr::Var(v.m)]))],
        };
        let got = AggregateRelationships.apply(outer, &mut v.table);
        let Op::Aggregate { input, .. } = &got else {
            panic!("{got:?}")
        };
        assert!(matches!(&**input, Op::RelAggregate { .. }), "{got:?}");
    }
}
