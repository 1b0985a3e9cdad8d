//! Hash aggregation: groups by the key values (Cypher equivalence: `1` and `1.0` are one
//! group, as are two nulls) and runs one aggregator per aggregate and group.
//!
//! The groups, their keys and what `collect` and the DISTINCT aggregates keep are charged
//! to the query's memory budget while they are held.

use nereid_common::{Error, Value};
use nereid_functions::{self as functions, Aggregator};

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
        let mut groups: Vec<Vec<Box<dyn Aggregator>>> = Vec::new();
        let star = [Value::Bool(true)];
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
                    (0, groups.is_empty())
                } else {
                    index.insert(&key)
                };
                if new && key.is_empty() {
                    index.insert(&[]);
                }
                if new {
                    hold.grow(2 * row_size(&key) + GROUP_OVERHEAD * self.aggs.len())?;
                    groups.push(self.new_group()?);
                }
                values.clear();
                for e in &self.args {
                    values.push(e.eval(row, &mut self.frame, &ecx)?);
                }
                let aggs = &mut groups[g];
                for (spec, agg) in self.aggs.iter().zip(aggs.iter_mut()) {
                    let given: &[Value] = match spec.args.as_slice() {
                        _ if spec.func == AggFunc::CountStar => &star,
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
        if groups.is_empty() && self.keys.is_empty() {
            index.insert(&[]);
            groups.push(self.new_group()?);
        }
        let mut out = Vec::with_capacity(groups.len());
        for (mut row, mut aggs) in index.into_keys().into_iter().zip(groups) {
            for agg in aggs.iter_mut() {
                row.push(agg.finish()?);
            }
            out.push(row);
        }
        self.hold = Some(hold);
        Ok(out)
    }

    fn new_group(&self) -> Result<Vec<Box<dyn Aggregator>>, Error> {
        self.aggs.iter().map(CAgg::aggregator).collect()
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
