//! Tests of [`super`] (aggregate.rs).

use super::*;
use crate::exec::memory::MemoryBudget;
use nereid_temporal::{Duration, Temporal};

fn spec(func: AggFunc) -> CAgg {
    CAgg {
        func,
        distinct: false,
        args: vec![0],
    }
}

/// `count(DISTINCT x)` through the inline state and through the general aggregator.
#[test]
fn distinct_counts_of_integers_answer_as_the_general_aggregator() {
    let s = |x: &str| Value::String(x.into());
    let sequences: Vec<Vec<Value>> = vec![
        vec![],
        vec![Value::Null, Value::Null],
        vec![Value::Int(3), Value::Int(3), Value::Null, Value::Int(-3)],
        vec![Value::Int(2), Value::Float(2.0), Value::Int(5)],
        vec![Value::Int(0), Value::Float(-0.0), Value::Float(0.0)],
        vec![
            Value::Int(1),
            Value::Float(f64::NAN),
            Value::Float(f64::NAN),
        ],
        vec![
            Value::Int(1),
            s("1"),
            Value::Int(1),
            s("1"),
            Value::Bool(true),
        ],
        vec![
            Value::Int(1),
            Value::List(vec![Value::Int(1)]),
            Value::Int(2),
        ],
    ];
    let spec = || CAgg {
        func: AggFunc::Count,
        distinct: true,
        args: vec![0],
    };
    for values in &sequences {
        let budget = MemoryBudget::new(1 << 30);
        let mut hold = Reservation::new(&budget);
        let aggs = [spec()];
        let mut groups = Groups::default();
        let g = groups.group(&[], &aggs, &mut hold).unwrap();
        for v in values {
            groups
                .update(
                    g,
                    std::slice::from_ref(v),
                    &aggs,
                    &mut Vec::new(),
                    &mut hold,
                )
                .unwrap();
        }
        let got = output_rows(groups.finish(&aggs, false).unwrap());
        let mut general = functions::new_aggregator("count", true).unwrap();
        for v in values {
            general.update(std::slice::from_ref(v)).unwrap();
        }
        assert_eq!(got, [[general.finish().unwrap()]], "{values:?}");
    }
    // What it keeps is charged.
    let budget = MemoryBudget::new(10_000);
    let mut hold = Reservation::new(&budget);
    let aggs = [spec()];
    let mut groups = Groups::default();
    let g = groups.group(&[], &aggs, &mut hold).unwrap();
    let err = (0..1000)
        .try_for_each(|i| groups.update(g, &[Value::Int(i)], &aggs, &mut Vec::new(), &mut hold))
        .unwrap_err();
    assert_eq!(err.code, nereid_common::ErrorCode::MemoryLimitExceeded);
}

/// How the rows reach the groups.
#[derive(Clone, Copy, Debug)]
enum Feed {
    /// `Groups::update`, row by row.
    Rows,
    /// `Groups::update_rows`, the argument the second of two columns.
    Page,
}

/// What the inline states give for `values`, split between two partial aggregations
/// at `split` (merged) when given.
fn inline(
    func: AggFunc,
    values: &[Value],
    split: Option<usize>,
    feed: Feed,
) -> Result<Value, String> {
    let budget = MemoryBudget::new(1 << 30);
    let mut hold = Reservation::new(&budget);
    let mut one = spec(func);
    if let Feed::Page = feed {
        one.args = vec![1];
    }
    let aggs = [one];
    let run = |part: &[Value], hold: &mut Reservation| -> Result<Groups, Error> {
        let mut groups = Groups::default();
        let g = groups.group(&[], &aggs, hold)?;
        match feed {
            Feed::Rows => {
                for v in part {
                    groups.update(g, std::slice::from_ref(v), &aggs, &mut Vec::new(), hold)?;
                }
            }
            Feed::Page => {
                let rows: Vec<Value> = part
                    .iter()
                    .flat_map(|v| [Value::Int(7), v.clone()])
                    .collect();
                groups.update_rows(g, &rows, 2, &aggs, &mut Vec::new(), hold)?;
            }
        }
        Ok(groups)
    };
    let result = (|| {
        let groups = match split {
            None => run(values, &mut hold)?,
            Some(at) => {
                let mut mine = run(&values[..at], &mut hold)?;
                let theirs = run(&values[at..], &mut hold)?;
                mine.merge(theirs, &aggs, &mut hold)?;
                mine
            }
        };
        let mut rows = output_rows(groups.finish(&aggs, false)?);
        Ok::<_, Error>(rows.remove(0).remove(0))
    })();
    result.map_err(|e| e.message)
}

/// What the general aggregator of `nereid_functions` gives.
fn general(func: AggFunc, values: &[Value], split: Option<usize>) -> Result<Value, String> {
    let new = || functions::new_aggregator(func.name(), false).unwrap();
    let result = (|| {
        let mut agg = new();
        match split {
            None => {
                for v in values {
                    agg.update(std::slice::from_ref(v))?;
                }
            }
            Some(at) => {
                let mut theirs = new();
                for v in &values[..at] {
                    agg.update(std::slice::from_ref(v))?;
                }
                for v in &values[at..] {
                    theirs.update(std::slice::from_ref(v))?;
                }
                agg.merge(theirs.take_partial().unwrap())?;
            }
        }
        agg.finish()
    })();
    result.map_err(|e| e.message)
}

/// The inline `min`, `max`, `avg`, `sum` and `count` states answer as the general
/// aggregators do, errors included, over plain numbers and whatever follows them, row by
/// row or a page at a time, whole or merged from two partial aggregations.
#[test]
fn inline_states_answer_as_the_general_aggregators() {
    let dur = |s: i64| Value::from(Temporal::Duration(Duration::new(0, 0, s, 0).unwrap()));
    let s = |x: &str| Value::String(x.into());
    let sequences: Vec<Vec<Value>> = vec![
        vec![],
        vec![Value::Null],
        vec![Value::Int(3), Value::Null, Value::Int(-7), Value::Int(3)],
        vec![Value::Int(i64::MAX), Value::Int(i64::MAX), Value::Int(1)],
        vec![
            Value::Int(2),
            Value::Float(2.0),
            Value::Float(-0.0),
            Value::Int(0),
        ],
        vec![Value::Float(0.0), Value::Int(0), Value::Float(-0.0)],
        vec![Value::Int(1), Value::Float(f64::NAN), Value::Int(5)],
        vec![Value::Float(f64::NAN), Value::Int(1)],
        vec![Value::Int(1), s("a"), Value::Int(2)],
        vec![s("b"), Value::Int(1), s("a")],
        vec![
            Value::Int(4),
            Value::Bool(true),
            Value::List(vec![Value::Int(9)]),
        ],
        vec![dur(5), dur(7)],
        vec![Value::Int(1), dur(5)],
        vec![dur(5), Value::Int(1)],
        vec![Value::Null, dur(3), Value::Null],
    ];
    let funcs = [
        AggFunc::Min,
        AggFunc::Max,
        AggFunc::Avg,
        AggFunc::Sum,
        AggFunc::Count,
    ];
    for values in &sequences {
        for func in funcs {
            for feed in [Feed::Rows, Feed::Page] {
                let want = general(func, values, None);
                let got = inline(func, values, None, feed);
                assert_eq!(
                    format!("{got:?}"),
                    format!("{want:?}"),
                    "{func:?} {feed:?} {values:?}"
                );
                for at in 0..=values.len() {
                    let want = general(func, values, Some(at));
                    let got = inline(func, values, Some(at), feed);
                    assert_eq!(
                        format!("{got:?}"),
                        format!("{want:?}"),
                        "{func:?} {feed:?} {values:?} split at {at}"
                    );
                }
            }
        }
    }
    // `count(*)` over a page counts its rows.
    let budget = MemoryBudget::new(1 << 30);
    let mut hold = Reservation::new(&budget);
    let star = [CAgg {
        func: AggFunc::CountStar,
        distinct: false,
        args: vec![],
    }];
    let mut groups = Groups::default();
    let g = groups.group(&[], &star, &mut hold).unwrap();
    let rows = vec![Value::Null; 6];
    groups
        .update_rows(g, &rows, 2, &star, &mut Vec::new(), &mut hold)
        .unwrap();
    groups
        .update_rows(g, &rows, 1, &star, &mut Vec::new(), &mut hold)
        .unwrap();
    assert_eq!(
        output_rows(groups.finish(&star, false).unwrap()),
        [[Value::Int(9)]]
    );
}

/// The rows of an aggregation's output batches, in order.
fn output_rows(batches: Vec<Batch>) -> Vec<Vec<Value>> {
    batches.into_iter().flat_map(Batch::into_rows).collect()
}

#[test]
fn output_batches_hold_every_group_once_in_order() {
    use nereid_value::NodeId;
    let budget = MemoryBudget::new(1 << 30);
    let mut hold = Reservation::new(&budget);
    let count = [CAgg {
        func: AggFunc::CountStar,
        distinct: false,
        args: vec![],
    }];
    // Integer keys: insertion order, split into full batches, each key with its count.
    let mut groups = Groups::default();
    for i in 0..3000i64 {
        for _ in 0..=(i % 3) {
            let g = groups.group(&[Value::Int(i)], &count, &mut hold).unwrap();
            groups
                .update(g, &[], &count, &mut Vec::new(), &mut hold)
                .unwrap();
        }
    }
    let batches = groups.finish(&count, true).unwrap();
    assert_eq!(
        batches.iter().map(Batch::len).collect::<Vec<_>>(),
        [BATCH, BATCH, 3000 - 2 * BATCH]
    );
    let rows = output_rows(batches);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row, &[Value::Int(i as i64), Value::Int(i as i64 % 3 + 1)]);
    }
    // Node keys come out in id order, still with their own counts.
    let mut groups = Groups::default();
    for n in [7u64, 3, 9, 3, 7, 3] {
        let g = groups
            .group(&[Value::Node(NodeId(n))], &count, &mut hold)
            .unwrap();
        groups
            .update(g, &[], &count, &mut Vec::new(), &mut hold)
            .unwrap();
    }
    assert_eq!(
        output_rows(groups.finish(&count, true).unwrap()),
        [
            [Value::Node(NodeId(3)), Value::Int(3)],
            [Value::Node(NodeId(7)), Value::Int(2)],
            [Value::Node(NodeId(9)), Value::Int(1)],
        ]
    );
}
