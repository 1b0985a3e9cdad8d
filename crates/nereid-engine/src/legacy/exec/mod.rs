//! Physical operators: pull-based, batch at a time.
//!
//! [`build`] turns a plan's [`Op`] tree into operators; [`Operator::next`] returns the next
//! batch of rows (up to [`BATCH`]) or `None` when exhausted. Every operator checks the
//! query's cancel token once per batch, and long loops inside one batch (pattern
//! expansion, large UNWINDs) check it too, so a cancel or timeout stops a query within
//! milliseconds.

pub mod lookup;
pub mod memory;
mod read;
pub mod subquery;
mod write;

use nereid_common::{CancelToken, Error, Map, Value};
use nereid_storage::{GraphRead, GraphWrite};

use crate::legacy::expr::EvalCx;
use crate::legacy::planner::Op;
use crate::procedures::Procedures;

/// Rows per batch.
pub const BATCH: usize = 1024;

pub type Row = Vec<Value>;

/// How the running query reaches the graph.
pub enum GraphAccess<'a> {
    Read(&'a dyn GraphRead),
    Write(&'a mut dyn GraphWrite),
}

/// Everything an operator needs besides its own state.
pub struct ExecCx<'a> {
    pub graph: GraphAccess<'a>,
    pub params: &'a Map,
    pub cancel: &'a CancelToken,
    pub procedures: &'a Procedures,
    /// Row width of the plan.
    pub width: usize,
    /// The row that `Op::Unit` produces (the outer row of a subquery).
    pub argument: Option<&'a [Value]>,
    /// What the query may hold in memory.
    pub memory: &'a memory::MemoryBudget,
    pub lookups: &'a lookup::LookupCache,
}

impl<'a> ExecCx<'a> {
    pub fn graph(&self) -> &dyn GraphRead {
        match &self.graph {
            GraphAccess::Read(g) => *g,
            GraphAccess::Write(w) => &**w,
        }
    }

    pub fn eval(&self) -> EvalCx<'_> {
        EvalCx {
            graph: self.graph(),
            params: self.params,
            cancel: self.cancel,
            lookups: self.lookups,
        }
    }

    pub fn write(&mut self) -> Result<&mut dyn GraphWrite, Error> {
        self.lookups.writes.set(self.lookups.writes.get() + 1);
        match &mut self.graph {
            GraphAccess::Write(w) => Ok(&mut **w),
            GraphAccess::Read(_) => Err(Error::internal("a write in a read-only transaction")),
        }
    }
}

/// A pull-based operator.
pub trait Operator {
    fn next(&mut self, cx: &mut ExecCx) -> Result<Option<Vec<Row>>, Error>;
}

/// Builds the operator tree of `op`.
pub fn build(op: &Op) -> Box<dyn Operator + '_> {
    match op {
        Op::Unit => Box::new(read::Unit { done: false }),
        Op::Match {
            input,
            pattern,
            optional,
            nulls,
        } => Box::new(read::MatchOp::new(build(input), pattern, *optional, nulls)),
        Op::Filter { input, predicate } => Box::new(read::FilterOp {
            input: build(input),
            predicate,
        }),
        Op::Unwind { input, expr, slot } => {
            Box::new(read::UnwindOp::new(build(input), expr, *slot))
        }
        Op::Project { input, items } => Box::new(read::ProjectOp {
            input: build(input),
            items,
        }),
        Op::Aggregate {
            input,
            keys,
            aggs,
            post,
        } => match &**input {
            // `MATCH … RETURN count(*)`: count the matches without building their rows.
            Op::Match {
                input: below,
                pattern,
                optional: false,
                ..
            } if keys.is_empty()
                && !aggs.is_empty()
                && aggs.iter().all(|a| a.name == "count" && a.args.is_empty()) =>
            {
                Box::new(read::CountMatchesOp::new(build(below), pattern, aggs, post))
            }
            _ => Box::new(read::AggregateOp::new(build(input), keys, aggs, post)),
        },
        Op::Distinct { input, slots } => Box::new(read::DistinctOp {
            input: build(input),
            slots,
            seen: Default::default(),
        }),
        Op::Sort { input, keys } => Box::new(read::SortOp {
            input: build(input),
            keys,
            sorted: None,
        }),
        Op::Skip { input, count } => Box::new(read::SkipLimitOp::new(build(input), count, true)),
        Op::Limit { input, count } => Box::new(read::SkipLimitOp::new(build(input), count, false)),
        Op::Create { input, parts } => Box::new(write::Eager::new(
            build(input),
            write::Action::Create(parts),
        )),
        Op::Merge { input, merge } => {
            Box::new(write::Eager::new(build(input), write::Action::Merge(merge)))
        }
        Op::Set { input, items } => {
            Box::new(write::Eager::new(build(input), write::Action::Set(items)))
        }
        Op::Delete {
            input,
            exprs,
            detach,
        } => Box::new(write::Eager::new(
            build(input),
            write::Action::Delete {
                exprs,
                detach: *detach,
            },
        )),
        Op::Call {
            input,
            procedure,
            args,
            yields,
            void,
        } => Box::new(read::CallOp {
            input: build(input),
            procedure,
            args,
            yields,
            void: *void,
        }),
        Op::Index { create, label, key } => Box::new(write::IndexOp {
            create: *create,
            label,
            key,
            done: false,
        }),
        Op::Keep { input, slots } => Box::new(read::KeepOp {
            input: build(input),
            slots,
        }),
        Op::Produce { input, slots } => Box::new(read::ProduceOp {
            input: build(input),
            slots,
        }),
        Op::Union { branches, distinct } => Box::new(read::UnionOp {
            branches: branches.iter().map(build).collect(),
            current: 0,
            seen: if *distinct {
                Some(Default::default())
            } else {
                None
            },
        }),
    }
}

/// Runs an operator tree to completion, collecting its rows.
pub fn collect(op: &mut dyn Operator, cx: &mut ExecCx) -> Result<Vec<Row>, Error> {
    let mut rows = Vec::new();
    while let Some(batch) = op.next(cx)? {
        cx.cancel.check()?;
        for row in &batch {
            cx.memory.charge_row(row)?;
        }
        rows.extend(batch);
    }
    Ok(rows)
}
