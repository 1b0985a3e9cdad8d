//! `IntersectCycles`: a step to a fresh node followed by an expand-into that closes a
//! cycle back to a bound node becomes one multiway intersection (a worst-case-optimal join
//! step over the sorted adjacency).
//!
//! ```text
//! ExpandInto (c)-[r3]->(a)                ExpandIntersect c: (b)-[r2]->(c), (a)<-[r3]-(c)
//!   Expand (b)-[r2]->(c:L)         ==>      …
//!     …
//! ```
//!
//! Before, every path `b → c` costs a random lookup of `c`'s adjacency to test `c → a`;
//! after, the neighbour lists of `b` and `a` (both already at hand) are merged, and only
//! their common neighbours become rows. For a triangle count this replaces one lookup per
//! two-step path with one merge per relationship.
//!
//! Applied only when relationship uniqueness allows: the closing relationship must differ
//! from exactly what the first must differ from plus the first itself (both are in one
//! MATCH), which is what the intersection enforces (legs pairwise distinct, each distinct
//! from `unique`).

use super::{map_children, Rule};
use crate::plan::{Leg, Op, Var, VarTable};

pub struct IntersectCycles;

impl Rule for IntersectCycles {
    fn name(&self) -> &'static str {
        "IntersectCycles"
    }

    fn apply(&self, op: Op, _vars: &mut VarTable) -> Op {
        rewrite(op)
    }
}

fn rewrite(op: Op) -> Op {
    let op = map_children(op, &mut rewrite);
    let Op::Expand {
        input,
        from: c,
        rel: r3,
        to: a,
        dir: d3,
        types: t3,
        to_labels: l3,
        into: true,
        unique: u3,
    } = op
    else {
        return op;
    };
    match *input {
        Op::Expand {
            input: below,
            from: b,
            rel: r2,
            to,
            dir: d2,
            types: t2,
            to_labels: l2,
            into: false,
            unique: u2,
        } if to == c && c != a && b != c && l3.is_empty() && closes(&u2, r2, &u3) => {
            Op::Intersect {
                input: below,
                to: c,
                to_labels: l2,
                legs: vec![
                    Leg {
                        from: b,
                        rel: r2,
                        dir: d2,
                        types: t2,
                    },
                    Leg {
                        from: a,
                        rel: r3,
                        dir: d3.reverse(),
                        types: t3,
                    },
                ],
                unique: u2,
            }
        }
        other => Op::Expand {
            input: Box::new(other),
            from: c,
            rel: r3,
            to: a,
            dir: d3,
            types: t3,
            to_labels: l3,
            into: true,
            unique: u3,
        },
    }
}

/// Whether the closing relationship must differ from exactly what the step's relationship
/// `r2` must differ from (`u2`) plus `r2` itself — the uniqueness the intersection enforces.
fn closes(u2: &[Var], r2: Var, u3: &[Var]) -> bool {
    let mut want: Vec<Var> = u2.iter().copied().chain([r2]).collect();
    let mut have = u3.to_vec();
    want.sort();
    want.dedup();
    have.sort();
    have.dedup();
    want == have
}

#[cfg(test)]
mod tests {
    use super::*;
    use nereid_storage::Dir;

    fn expand(input: Op, from: Var, rel: Var, to: Var, into: bool, unique: Vec<Var>) -> Op {
        Op::Expand {
            input: Box::new(input),
            from,
            rel,
            to,
            dir: Dir::Out,
            types: vec!["KNOWS".into()],
            to_labels: if into { vec![] } else { vec!["P".into()] },
            into,
            unique,
        }
    }

    #[test]
    fn a_step_closing_a_triangle_becomes_an_intersection() {
        let (a, b, c) = (Var(0), Var(1), Var(2));
        let (r1, r2, r3) = (Var(3), Var(4), Var(5));
        let scan = Op::Argument { vars: vec![a] };
        let ab = expand(scan, a, r1, b, false, vec![]);
        let plan = expand(
            expand(ab.clone(), b, r2, c, false, vec![r1]),
            c,
            r3,
            a,
            true,
            vec![r1, r2],
        );
        let want = Op::Intersect {
            input: Box::new(ab),
            to: c,
            to_labels: vec!["P".into()],
            legs: vec![
                Leg {
                    from: b,
                    rel: r2,
                    dir: Dir::Out,
                    types: vec!["KNOWS".into()],
                },
                Leg {
                    from: a,
                    rel: r3,
                    dir: Dir::In,
                    types: vec!["KNOWS".into()],
                },
            ],
            unique: vec![r1],
        };
        assert_eq!(IntersectCycles.apply(plan, &mut VarTable::default()), want);
    }

    #[test]
    fn a_closing_step_of_another_match_clause_is_left_alone() {
        // `MATCH (a)-[r1]->(b)-[r2]->(c) MATCH (c)-[r3]->(a)`: r3 may equal r2.
        let (a, b, c) = (Var(0), Var(1), Var(2));
        let (r1, r2, r3) = (Var(3), Var(4), Var(5));
        let ab = expand(Op::Argument { vars: vec![a] }, a, r1, b, false, vec![]);
        let plan = expand(
            expand(ab, b, r2, c, false, vec![r1]),
            c,
            r3,
            a,
            true,
            vec![],
        );
        assert_eq!(
            IntersectCycles.apply(plan.clone(), &mut VarTable::default()),
            plan
        );
    }
}
