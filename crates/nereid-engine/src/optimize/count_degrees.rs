//! `CountDegrees`: counting the rows of a one-hop pattern per node reads the node's degree
//! from the adjacency instead of producing a row per relationship.
//!
//! ```text
//! Aggregate [p] [count(*) AS c]                       Project [c AS c]
//!   RelationshipTypeScan (:Person)-[r:KNOWS]->(p:Person)   NodeDegree count((p)<-[:KNOWS]-(:Person)) AS c
//!                                               ==>       NodeByLabelScan p:Person
//! Aggregate [p] [count(*) AS c]                       Project [c AS c]
//!   Expand (p)-[r:KNOWS]->(f:Person)            ==>     NodeDegree count((p)-[:KNOWS]->(:Person)) AS c
//!     NodeByLabelScan p:Person                             NodeByLabelScan p:Person
//! ```
//!
//! `NodeDegree` gives no row for a node without such relationships, exactly as the
//! aggregation has no group for it. Valid when the aggregation groups by the node alone,
//! every aggregate is `count(*)` or a non-DISTINCT `count` of the relationship or the other
//! node (never null in a match), nothing else is read from the pattern's other variables,
//! and the pattern is the whole input (a scan over the `Argument` leaf, one row): with more
//! input rows a node's count would add up over them. Runs after `AggregateOnIds`, which
//! turns `count(*)` grouped by `p.id` into a count grouped by `p` first.

use super::{map_children, Rule};
use crate::plan::{AggCall, AggFunc, Expr, Op, Var, VarKind, VarTable};
use nereid_storage::Dir;

pub struct CountDegrees;

impl Rule for CountDegrees {
    fn name(&self) -> &'static str {
        "CountDegrees"
    }

    fn apply(&self, op: Op, vars: &mut VarTable) -> Op {
        rewrite(op, vars)
    }
}

fn rewrite(op: Op, vars: &mut VarTable) -> Op {
    let op = map_children(op, &mut |c| rewrite(c, vars));
    match op {
        Op::Aggregate { input, keys, aggs } => match degree_of(&input, &keys, &aggs) {
            Some(shape) => degrees(*input, shape, keys, aggs, vars),
            None => Op::Aggregate { input, keys, aggs },
        },
        other => other,
    }
}

/// What the pattern under the aggregation counts per node.
struct Shape {
    node: Var,
    node_labels: Vec<String>,
    dir: Dir,
    rel_type: Vec<String>,
    other_labels: Vec<String>,
}

fn is_leaf(op: &Op) -> bool {
    matches!(op, Op::Argument { .. })
}

fn degree_of(input: &Op, keys: &[(Var, Expr)], aggs: &[(Var, AggCall)]) -> Option<Shape> {
    let [(_, Expr::Var(node))] = keys else {
        return None;
    };
    let node = *node;
    let (shape, rel, other) = match input {
        Op::RelScan {
            input,
            rel,
            start,
            end,
            rel_type,
            start_labels,
            end_labels,
        } if is_leaf(input) && start != end => {
            let (dir, other, node_labels, other_labels) = if node == *start {
                (Dir::Out, *end, start_labels, end_labels)
            } else if node == *end {
                (Dir::In, *start, end_labels, start_labels)
            } else {
                return None;
            };
            let shape = Shape {
                node,
                node_labels: node_labels.clone(),
                dir,
                rel_type: vec![rel_type.clone()],
                other_labels: other_labels.clone(),
            };
            (shape, *rel, other)
        }
        Op::Expand {
            input,
            from,
            rel,
            to,
            dir,
            types,
            to_labels,
            into: false,
            unique,
        } if *from == node && *to != node && unique.is_empty() => {
            let Op::NodeScan {
                input: leaf,
                var,
                labels,
            } = &**input
            else {
                return None;
            };
            if *var != node || !is_leaf(leaf) {
                return None;
            }
            let shape = Shape {
                node,
                node_labels: labels.clone(),
                dir: *dir,
                rel_type: types.clone(),
                other_labels: to_labels.clone(),
            };
            (shape, *rel, *to)
        }
        _ => return None,
    };
    let counts_rows = |a: &AggCall| {
        !a.distinct
            && match a.func {
                AggFunc::CountStar => true,
                AggFunc::Count => {
                    matches!(a.args.as_slice(), [Expr::Var(v)] if *v == rel || *v == other)
                }
                _ => false,
            }
    };
    aggs.iter().all(|(_, a)| counts_rows(a)).then_some(shape)
}

fn degrees(
    input: Op,
    shape: Shape,
    keys: Vec<(Var, Expr)>,
    aggs: Vec<(Var, AggCall)>,
    vars: &mut VarTable,
) -> Op {
    let leaf = match input {
        Op::RelScan { input, .. } => *input,
        Op::Expand { mut input, .. } => input.take_input().unwrap_or(Op::Argument { vars: vec![] }),
        other => other,
    };
    let count = vars.hidden("degree", VarKind::Value);
    let scan = Op::NodeScan {
        input: Box::new(leaf),
        var: shape.node,
        labels: shape.node_labels,
    };
    let degree = Op::Degree {
        input: Box::new(scan),
        node: shape.node,
        var: count,
        dir: shape.dir,
        types: shape.rel_type,
        other_labels: shape.other_labels,
    };
    let mut items: Vec<(Var, Expr)> = keys.into_iter().filter(|(k, _)| *k != shape.node).collect();
    items.extend(aggs.into_iter().map(|(v, _)| (v, Expr::Var(count))));
    Op::Project {
        input: Box::new(degree),
        items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf() -> Box<Op> {
        Box::new(Op::Argument { vars: vec![] })
    }

    fn count_star() -> AggCall {
        AggCall {
            func: AggFunc::CountStar,
            distinct: false,
            args: vec![],
        }
    }

    struct Vars {
        table: VarTable,
        a: Var,
        r: Var,
        p: Var,
        n: Var,
    }

    fn vars() -> Vars {
        let mut table = VarTable::default();
        let a = table.named("a", VarKind::Node);
        let r = table.named("r", VarKind::Relationship);
        let p = table.named("p", VarKind::Node);
        let n = table.named("n", VarKind::Value);
        Vars { table, a, r, p, n }
    }

    fn rel_scan(v: &Vars) -> Op {
        Op::RelScan {
            input: leaf(),
            rel: v.r,
            start: v.a,
            end: v.p,
            rel_type: "KNOWS".into(),
            start_labels: vec!["Person".into()],
            end_labels: vec!["City".into()],
        }
    }

    fn expand(v: &Vars, input: Op) -> Op {
        Op::Expand {
            input: Box::new(input),
            from: v.p,
            rel: v.r,
            to: v.a,
            dir: Dir::Both,
            types: vec!["KNOWS".into()],
            to_labels: vec!["Person".into()],
            into: false,
            unique: vec![],
        }
    }

    fn scan(var: Var, input: Box<Op>) -> Op {
        Op::NodeScan {
            input,
            var,
            labels: vec!["City".into()],
        }
    }

    /// The `Degree` the rewrite produced, and the items projected above it.
    fn parts(op: Op) -> (Op, Vec<(Var, Expr)>) {
        let Op::Project { input, items } = op else {
            panic!("not a projection: {op:?}")
        };
        (*input, items)
    }

    #[test]
    fn a_count_per_end_node_of_a_relationship_scan_reads_degrees() {
        let mut v = vars();
        let plan = Op::Aggregate {
            input: Box::new(rel_scan(&v)),
            keys: vec![(v.p, Expr::Var(v.p))],
            aggs: vec![(v.n, count_star())],
        };
        let (degree, items) = parts(CountDegrees.apply(plan, &mut v.table));
        let Op::Degree {
            input,
            node,
            var,
            dir,
            types,
            other_labels,
        } = degree
        else {
            panic!("no degree: {degree:?}")
        };
        assert_eq!((node, dir), (v.p, Dir::In));
        assert_eq!(types, vec!["KNOWS".to_owned()]);
        assert_eq!(other_labels, vec!["Person".to_owned()]);
        assert_eq!(*input, scan(v.p, leaf()));
        // The group key is the scanned node itself: only the count is projected.
        assert_eq!(items, vec![(v.n, Expr::Var(var))]);
    }

    #[test]
    fn a_count_per_start_node_of_an_expansion_reads_degrees() {
        let mut v = vars();
        let key = v.table.named("key", VarKind::Node);
        let m = v.table.named("m", VarKind::Value);
        let count_rel = AggCall {
            func: AggFunc::Count,
            distinct: false,
            args: vec![Expr::Var(v.r)],
        };
        let plan = Op::Aggregate {
            input: Box::new(expand(&v, scan(v.p, leaf()))),
            keys: vec![(key, Expr::Var(v.p))],
            aggs: vec![(v.n, count_star()), (m, count_rel)],
        };
        let (degree, items) = parts(CountDegrees.apply(plan, &mut v.table));
        let Op::Degree {
            input, var, dir, ..
        } = degree
        else {
            panic!("no degree: {degree:?}")
        };
        assert_eq!(dir, Dir::Both);
        assert_eq!(*input, scan(v.p, leaf()));
        assert_eq!(
            items,
            vec![
                (key, Expr::Var(v.p)),
                (v.n, Expr::Var(var)),
                (m, Expr::Var(var))
            ]
        );
    }

    #[test]
    fn counts_it_cannot_read_from_degrees_are_left_alone() {
        let mut v = vars();
        let other = v.table.named("other", VarKind::Node);
        let agg = |input: Op, key: Var, a: AggCall| Op::Aggregate {
            input: Box::new(input),
            keys: vec![(key, Expr::Var(key))],
            aggs: vec![(v.n, a)],
        };
        let distinct = AggCall {
            distinct: true,
            ..count_star()
        };
        let count_prop = AggCall {
            func: AggFunc::Count,
            distinct: false,
            args: vec![Expr::Prop(Box::new(Expr::Var(v.r)), "w".into())],
        };
        let cases = [
            // DISTINCT, or a count of something that may be null.
            agg(rel_scan(&v), v.p, distinct),
            agg(rel_scan(&v), v.p, count_prop),
            // Grouped by something else than an end of the pattern.
            agg(rel_scan(&v), other, count_star()),
            // More than one input row: counts would add up across them.
            agg(
                {
                    let mut over_rows = rel_scan(&v);
                    **over_rows.input_mut().unwrap() = scan(other, leaf());
                    over_rows
                },
                v.p,
                count_star(),
            ),
            agg(
                expand(&v, scan(v.p, Box::new(scan(other, leaf())))),
                v.p,
                count_star(),
            ),
            // Grouped by the far end of an expansion.
            agg(expand(&v, scan(v.p, leaf())), v.a, count_star()),
        ];
        for plan in cases {
            assert_eq!(CountDegrees.apply(plan.clone(), &mut v.table), plan);
        }
        // Two keys.
        let two = Op::Aggregate {
            input: Box::new(rel_scan(&v)),
            keys: vec![(v.p, Expr::Var(v.p)), (v.a, Expr::Var(v.a))],
            aggs: vec![(v.n, count_star())],
        };
        assert_eq!(CountDegrees.apply(two.clone(), &mut v.table), two);
    }
}
