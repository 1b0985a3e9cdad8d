//! `UseIndexSeek`: a node scan followed by a filter on one of the node's properties
//! becomes a seek — by Neptune id (`id(n) = x`, `{`~id`: x}`), property equality, `IN`,
//! a range (`<`, `<=`, `>`, `>=`) or `STARTS WITH` — anywhere in a plan, not only at its
//! start (a scan over an outer row seeks with the outer row's values).
//!
//! The value side may read only variables bound before the scan. The seek finds exactly
//! the nodes its conjuncts accept — from the store's property index where it has one, the
//! query's lookup table, or a scan that compares as the operators do (null and NaN match
//! nothing, values of other types never compare) — so the conjuncts it answers leave the
//! filter above it; the other conjuncts stay.

use nereid_cypher::ast::BinaryOp;

use super::{map_children, Rule};
use crate::plan::{Expr, GraphFn, Op, RangeBound, Seek, Var, VarTable, ID_KEY};

pub struct UseIndexSeek;

impl Rule for UseIndexSeek {
    fn name(&self) -> &'static str {
        "UseIndexSeek"
    }

    fn apply(&self, op: Op, _vars: &mut VarTable) -> Op {
        rewrite(op)
    }
}

fn rewrite(op: Op) -> Op {
    if !matches!(op, Op::Filter { .. }) {
        return map_children(op, &mut rewrite);
    }
    // A chain of filters (PushDownFilter leaves one per conjunct) over a scan: every
    // conjunct of the chain can pick the seek, and two range bounds on one key combine.
    let mut predicates = Vec::new();
    let mut bottom = op;
    while let Op::Filter { input, predicate } = bottom {
        predicates.push(predicate.conjuncts());
        bottom = *input;
    }
    let mut answered = Vec::new();
    let bottom = match map_children(bottom, &mut rewrite) {
        Op::NodeScan {
            input: scan_input,
            var,
            labels,
        } => {
            let bound = scan_input.output_vars();
            let candidates: Vec<Candidate> = predicates
                .iter()
                .enumerate()
                .flat_map(|(i, p)| p.iter().enumerate().map(move |(j, c)| ((i, j), c)))
                .filter_map(|(at, c)| {
                    let (key, seek) = seek_of(c, var, &|e: &Expr| e.free_vars().is_subset(&bound))?;
                    Some(Candidate { at, key, seek })
                })
                .collect();
            match best_seek(candidates) {
                Some((Candidate { key, seek, .. }, from)) => {
                    answered = from;
                    Op::NodeSeek {
                        input: scan_input,
                        var,
                        labels,
                        key,
                        seek,
                    }
                }
                None => Op::NodeScan {
                    input: scan_input,
                    var,
                    labels,
                },
            }
        }
        other => other,
    };
    // What the seek does not answer stays, in the filters it came from.
    predicates
        .into_iter()
        .enumerate()
        .rev()
        .fold(bottom, |input, (i, conjuncts)| {
            let rest: Vec<Expr> = conjuncts
                .into_iter()
                .enumerate()
                .filter(|(j, _)| !answered.contains(&(i, *j)))
                .map(|(_, c)| c)
                .collect();
            if rest.is_empty() {
                return input;
            }
            Op::Filter {
                input: Box::new(input),
                predicate: Expr::conjunction(rest),
            }
        })
}

/// A conjunct a seek can answer: where it is (filter, conjunct), and the seek.
#[derive(Clone)]
struct Candidate {
    at: (usize, usize),
    key: String,
    seek: Seek,
}

/// The most selective seek of `candidates`, with the conjuncts it answers; a one-sided
/// range takes the other side from another range on the same key (`a >= 30 AND a < 35`
/// seeks `[30, 35)`).
fn best_seek(candidates: Vec<Candidate>) -> Option<(Candidate, Vec<(usize, usize)>)> {
    let best = candidates.iter().min_by_key(|c| rank(&c.key, &c.seek))?;
    let Seek::Range {
        mut lower,
        mut upper,
    } = best.seek.clone()
    else {
        return Some((best.clone(), vec![best.at]));
    };
    let mut from = vec![best.at];
    for c in &candidates {
        if let (true, Seek::Range { lower: l, upper: u }) = (c.key == best.key, &c.seek) {
            if lower.is_none() && l.is_some() && u.is_none() {
                lower = l.clone();
                from.push(c.at);
            }
            if upper.is_none() && u.is_some() && l.is_none() {
                upper = u.clone();
                from.push(c.at);
            }
        }
    }
    let seek = Seek::Range { lower, upper };
    Some((
        Candidate {
            seek,
            ..best.clone()
        },
        from,
    ))
}

/// Lower is more selective: an id, then equality, IN, a prefix, a range.
fn rank(key: &str, seek: &Seek) -> u8 {
    match seek {
        _ if key == ID_KEY => 0,
        Seek::Eq(_) => 1,
        Seek::In(_) => 2,
        Seek::Prefix(_) => 3,
        Seek::Range { .. } => 4,
    }
}

/// The key `e` reads of `var`: `var.key`, or [`ID_KEY`] for `id(var)`.
fn key_of(e: &Expr, var: Var) -> Option<String> {
    match e {
        Expr::Prop(base, key) if **base == Expr::Var(var) => Some(key.clone()),
        Expr::Graph(GraphFn::Id, args) if args.as_slice() == [Expr::Var(var)] => {
            Some(ID_KEY.to_owned())
        }
        _ => None,
    }
}

fn flip(op: BinaryOp) -> Option<BinaryOp> {
    Some(match op {
        BinaryOp::Eq => BinaryOp::Eq,
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::Le => BinaryOp::Ge,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::Ge => BinaryOp::Le,
        _ => return None,
    })
}

/// The seek that finds every node satisfying `c` on `var` (a superset is allowed).
fn seek_of(c: &Expr, var: Var, bound: &dyn Fn(&Expr) -> bool) -> Option<(String, Seek)> {
    let (op, a, b) = match c {
        Expr::Binary(op, a, b) => (*op, &**a, &**b),
        Expr::Comparison(a, rest) if rest.len() == 1 => (rest[0].0, &**a, &rest[0].1),
        _ => return None,
    };
    let (op, key, value) = match (key_of(a, var), key_of(b, var)) {
        (Some(k), _) if bound(b) => (op, k, b),
        (None, Some(k)) if bound(a) => (flip(op)?, k, a),
        _ => return None,
    };
    let v = value.clone();
    let range = |lower: bool, inclusive: bool| {
        let b = Some(RangeBound {
            value: v.clone(),
            inclusive,
        });
        if lower {
            Seek::Range {
                lower: b,
                upper: None,
            }
        } else {
            Seek::Range {
                lower: None,
                upper: b,
            }
        }
    };
    let seek = match op {
        BinaryOp::Eq => Seek::Eq(v.clone()),
        BinaryOp::In => Seek::In(v.clone()),
        BinaryOp::StartsWith => Seek::Prefix(v.clone()),
        BinaryOp::Gt => range(true, false),
        BinaryOp::Ge => range(true, true),
        BinaryOp::Lt => range(false, false),
        BinaryOp::Le => range(false, true),
        _ => return None,
    };
    if key == ID_KEY && !matches!(seek, Seek::Eq(_) | Seek::In(_)) {
        return None;
    }
    Some((key, seek))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nereid_value::Value;

    fn scan(var: Var) -> Op {
        Op::NodeScan {
            input: Box::new(Op::Argument { vars: vec![] }),
            var,
            labels: vec!["N".into()],
        }
    }

    fn filter(input: Op, predicate: Expr) -> Op {
        Op::Filter {
            input: Box::new(input),
            predicate,
        }
    }

    #[test]
    fn range_bounds_in_a_chain_of_filters_combine_into_one_seek() {
        let n = Var(0);
        let age = || Expr::Prop(Box::new(Expr::Var(n)), "age".into());
        let ge = Expr::binary(BinaryOp::Ge, age(), Expr::lit(Value::Int(30)));
        let lt = Expr::binary(BinaryOp::Gt, Expr::lit(Value::Int(35)), age());
        let plan = filter(filter(scan(n), lt), ge);
        let got = UseIndexSeek.apply(plan, &mut VarTable::default());
        let want = Op::NodeSeek {
            input: Box::new(Op::Argument { vars: vec![] }),
            var: n,
            labels: vec!["N".into()],
            key: "age".into(),
            seek: Seek::Range {
                lower: Some(RangeBound {
                    value: Expr::lit(Value::Int(30)),
                    inclusive: true,
                }),
                upper: Some(RangeBound {
                    value: Expr::lit(Value::Int(35)),
                    inclusive: false,
                }),
            },
        };
        assert_eq!(got, want);
    }

    #[test]
    fn equality_on_a_property_becomes_a_seek_that_answers_it() {
        let n = Var(0);
        let p = Expr::binary(
            BinaryOp::Eq,
            Expr::lit(Value::Int(7)),
            Expr::prop(Expr::Var(n), "v"),
        );
        let got = UseIndexSeek.apply(filter(scan(n), p), &mut VarTable::default());
        let want = Op::NodeSeek {
            input: Box::new(Op::Argument { vars: vec![] }),
            var: n,
            labels: vec!["N".into()],
            key: "v".into(),
            seek: Seek::Eq(Expr::lit(Value::Int(7))),
        };
        assert_eq!(got, want);
    }

    #[test]
    fn a_flipped_comparison_becomes_the_matching_range() {
        let n = Var(0);
        let p = Expr::binary(
            BinaryOp::Gt,
            Expr::lit(Value::Int(10)),
            Expr::prop(Expr::Var(n), "v"),
        );
        let Op::NodeSeek { seek, .. } =
            UseIndexSeek.apply(filter(scan(n), p), &mut VarTable::default())
        else {
            panic!("seek expected");
        };
        assert_eq!(
            seek,
            Seek::Range {
                lower: None,
                upper: Some(RangeBound {
                    value: Expr::lit(Value::Int(10)),
                    inclusive: false
                })
            }
        );
    }

    #[test]
    fn a_value_that_reads_the_scanned_node_is_not_a_seek() {
        let n = Var(0);
        let p = Expr::binary(
            BinaryOp::Eq,
            Expr::prop(Expr::Var(n), "a"),
            Expr::prop(Expr::Var(n), "b"),
        );
        let plan = filter(scan(n), p);
        assert_eq!(
            UseIndexSeek.apply(plan.clone(), &mut VarTable::default()),
            plan
        );
    }

    #[test]
    fn id_equality_becomes_an_id_seek_but_an_id_range_does_not() {
        let n = Var(0);
        let id = Expr::Graph(GraphFn::Id, vec![Expr::Var(n)]);
        let eq = Expr::binary(
            BinaryOp::Eq,
            id.clone(),
            Expr::lit(Value::String("a".into())),
        );
        let got = UseIndexSeek.apply(filter(scan(n), eq), &mut VarTable::default());
        assert!(matches!(got, Op::NodeSeek { ref key, .. } if key == ID_KEY));
        let lt = Expr::binary(BinaryOp::Lt, id, Expr::lit(Value::String("a".into())));
        let plan = filter(scan(n), lt);
        assert_eq!(
            UseIndexSeek.apply(plan.clone(), &mut VarTable::default()),
            plan
        );
    }

    #[test]
    fn the_conjuncts_a_seek_does_not_answer_stay_in_their_filter() {
        let n = Var(0);
        let v = || Expr::prop(Expr::Var(n), "v");
        let w = Expr::binary(BinaryOp::Eq, Expr::prop(Expr::Var(n), "w"), v());
        let eq = Expr::binary(BinaryOp::Eq, v(), Expr::lit(Value::Int(1)));
        let ge = Expr::binary(BinaryOp::Ge, v(), Expr::lit(Value::Int(0)));
        // `v = 1` is the most selective: it is answered; `v >= 0` and `w = v` stay.
        let plan = filter(filter(scan(n), Expr::and(eq, w.clone())), ge.clone());
        let got = UseIndexSeek.apply(plan, &mut VarTable::default());
        let want = filter(
            filter(
                Op::NodeSeek {
                    input: Box::new(Op::Argument { vars: vec![] }),
                    var: n,
                    labels: vec!["N".into()],
                    key: "v".into(),
                    seek: Seek::Eq(Expr::lit(Value::Int(1))),
                },
                w,
            ),
            ge,
        );
        assert_eq!(got, want);
    }
}
