//! Hash aggregation: groups by the key values (Cypher equivalence: `1` and `1.0` are one
//! group, as are two nulls) and runs one aggregator per aggregate and group.
//!
//! The groups, their keys and what `collect` and the DISTINCT aggregates keep are charged
//! to the query's memory budget while they are held.

use nereid_common::Error;
use nereid_functions::{self as functions, Aggregator};
use nereid_value::Value;

use super::expr::{CExpr, Frame};
use super::keys::KeyTable;
use super::memory::{row_size, value_size, Reservation};
use super::{Batch, BoxOp, Ctx, Operator};
use crate::plan::AggFunc;

/// Bytes charged per group for its aggregators' own state.
const GROUP_OVERHEAD: usize = 64;

/// One aggregate, compiled.
pub struct CAgg {
    pub func: AggFunc,
    pub distinct: bool,
    /// Indexes into [`AggregateOp::args`]: an argument several aggregates share
    /// (`min(k.since), max(k.since)`) is evaluated once per row.
    pub args: Vec<usize>,
}

impl CAgg {
    fn aggregator(&self) -> Result<Box<dyn Aggregator>, Error> {
        if self.func == AggFunc::CountStar {
            return Ok(functions::count_star());
        }
        functions::new_aggregator(self.func.name(), self.distinct)
            .ok_or_else(|| Error::internal(format!("unknown aggregate {}", self.func.name())))
    }

    /// Whether the aggregator keeps the values it is given.
    fn keeps_values(&self) -> bool {
        self.distinct
            || matches!(
                self.func,
                AggFunc::Collect | AggFunc::PercentileCont | AggFunc::PercentileDisc
            )
    }
}

/// One aggregate's state in one group. Counting, the commonest aggregate, is kept inline
/// (an update touches the group's slot only); the others are boxed aggregators.
enum State {
    /// `count(*)`.
    Rows(i64),
    /// `count(x)`: the non-null values of its one argument.
    NonNull(i64),
    /// `sum(x)` while every value so far was an integer (or null); the first other value
    /// hands the running sum to a general aggregator, which then decides (floats,
    /// durations, type errors, overflow) exactly as if it had seen everything.
    IntSum {
        sum: i64,
        any: bool,
    },
    Other(Box<dyn Aggregator>),
}

/// Output rows: the key values, then the aggregates.
pub struct AggregateOp {
    pub input: BoxOp,
    pub keys: Vec<CExpr>,
    /// The distinct argument expressions of all aggregates.
    pub args: Vec<CExpr>,
    pub aggs: Vec<CAgg>,
    pub frame: Frame,
    output: Option<std::vec::IntoIter<Vec<Value>>>,
    hold: Option<Reservation>,
}

impl AggregateOp {
    pub fn new(input: BoxOp, keys: Vec<CExpr>, args: Vec<CExpr>, aggs: Vec<CAgg>) -> Self {
        Self {
            input,
            keys,
            args,
            aggs,
            frame: Frame::new(),
            output: None,
            hold: None,
        }
    }

    fn compute(&mut self, cx: &mut Ctx) -> Result<Vec<Vec<Value>>, Error> {
        let mut hold = Reservation::new(cx.env.memory);
        let mut index = KeyTable::default();
        // Every group's states, flat: group `g` owns `states[g * n..(g + 1) * n]`.
        let n = self.aggs.len();
        let mut states: Vec<State> = Vec::new();
        let mut count = 0usize;
        let mut dense_held = 0usize;
        let mut values = Vec::with_capacity(self.args.len());
        let mut args = Vec::new();
        let mut key = Vec::with_capacity(self.keys.len());
        while let Some(batch) = self.input.next(cx)? {
            cx.check()?;
            let ecx = cx.eval();
            for row in batch.rows() {
                key.clear();
                for e in &self.keys {
                    key.push(e.eval(row, &mut self.frame, &ecx)?);
                }
                let (g, new) = if key.is_empty() {
                    // One group: no hashing per row.
                    (0, count == 0)
                } else {
                    index.insert(&key)
                };
                if new && key.is_empty() {
                    index.insert(&[]);
                }
                if new {
                    hold.grow(2 * row_size(&key) + GROUP_OVERHEAD * n)?;
                    if index.bytes() > dense_held {
                        hold.grow(index.bytes() - dense_held)?;
                        dense_held = index.bytes();
                    }
                    self.new_group(&mut states)?;
                    count += 1;
                }
                values.clear();
                for e in &self.args {
                    values.push(e.eval(row, &mut self.frame, &ecx)?);
                }
                for (spec, state) in self.aggs.iter().zip(&mut states[g * n..(g + 1) * n]) {
                    let agg = match state {
                        State::Rows(c) => {
                            *c += 1;
                            continue;
                        }
                        State::NonNull(c) => {
                            *c += i64::from(!values[spec.args[0]].is_null());
                            continue;
                        }
                        State::IntSum { sum, any } => {
                            match &values[spec.args[0]] {
                                Value::Null => continue,
                                Value::Int(i) => {
                                    if let Some(next) = sum.checked_add(*i) {
                                        *sum = next;
                                        *any = true;
                                        continue;
                                    }
                                }
                                _ => {}
                            }
                            // Sum has one argument and keeps no values: hand over and go on.
                            let mut general = spec.aggregator()?;
                            if *any {
                                general.update(&[Value::Int(*sum)])?;
                            }
                            general.update(std::slice::from_ref(&values[spec.args[0]]))?;
                            *state = State::Other(general);
                            continue;
                        }
                        State::Other(agg) => agg,
                    };
                    let given: &[Value] = match spec.args.as_slice() {
                        [one] => std::slice::from_ref(&values[*one]),
                        many => {
                            args.clear();
                            args.extend(many.iter().map(|&i| values[i].clone()));
                            &args
                        }
                    };
                    if spec.keeps_values() {
                        hold.grow(given.iter().map(value_size).sum())?;
                    }
                    agg.update(given)?;
                }
            }
        }
        if count == 0 && self.keys.is_empty() {
            index.insert(&[]);
            self.new_group(&mut states)?;
            count = 1;
        }
        let order = index.node_order();
        let mut out = Vec::with_capacity(count);
        let mut states = states.into_iter();
        for mut row in index.into_keys() {
            for state in states.by_ref().take(n) {
                row.push(match state {
                    State::Rows(c) | State::NonNull(c) | State::IntSum { sum: c, .. } => {
                        Value::Int(c)
                    }
                    State::Other(mut agg) => agg.finish()?,
                });
            }
            out.push(row);
        }
        if let Some(order) = order {
            let mut rows: Vec<Option<Vec<Value>>> = out.into_iter().map(Some).collect();
            out = order.into_iter().filter_map(|i| rows[i].take()).collect();
        }
        self.hold = Some(hold);
        Ok(out)
    }

    /// Appends a new group's states.
    fn new_group(&self, states: &mut Vec<State>) -> Result<(), Error> {
        for a in &self.aggs {
            states.push(match a.func {
                AggFunc::CountStar => State::Rows(0),
                AggFunc::Count if !a.distinct && a.args.len() == 1 => State::NonNull(0),
                AggFunc::Sum if !a.distinct && a.args.len() == 1 => {
                    State::IntSum { sum: 0, any: false }
                }
                _ => State::Other(a.aggregator()?),
            });
        }
        Ok(())
    }
}

impl Operator for AggregateOp {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        if self.output.is_none() {
            let rows = self.compute(cx)?;
            self.output = Some(rows.into_iter());
        }
        let width = self.keys.len() + self.aggs.len();
        let Some(rows) = self.output.as_mut() else {
            return Ok(None);
        };
        let mut out = Batch::new(width);
        for row in rows.by_ref() {
            out.push_row(row);
            if out.is_full() {
                break;
            }
        }
        if out.is_empty() {
            self.hold = None;
            return Ok(None);
        }
        Ok(Some(out))
    }

    fn reset(&mut self) {
        self.input.reset();
        self.output = None;
        self.hold = None;
    }
}
