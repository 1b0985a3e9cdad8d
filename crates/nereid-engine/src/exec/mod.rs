//! Physical operators: pull-based, a batch of rows at a time.
//!
//! An [`Operator`] hands out [`Batch`]es of at most [`BATCH`] rows; a row is a slice of
//! values laid out by the operator's schema, which the physical planner chose so that a row
//! carries only the variables still needed above it. Non-blocking operators (scans,
//! expansions, filters, projections, UNWIND, OPTIONAL MATCH) produce their first batch
//! without consuming their whole input and keep their position between calls, so
//! `… LIMIT 1` stops a traversal after its first match. Blocking ones (sort, aggregation)
//! charge what they hold to the query's [`memory::MemoryBudget`]. Every operator checks the
//! query's cancel token at least once per batch, and long loops inside one batch check it
//! too, so a cancel or timeout stops a query within milliseconds.

pub mod aggregate;
pub mod apply;
pub mod expand;
pub mod expr;
pub mod keys;
pub mod lookup;
pub mod memory;
pub mod misc;
pub mod parallel;
pub mod profile;
pub mod rel_aggregate;
pub mod scan;
pub mod shortest;
pub mod sort;
pub mod trees;
pub mod varlength;
pub mod write;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use nereid_common::{CancelToken, Error};
use nereid_storage::{GraphRead, GraphWrite, TypeId};
use nereid_value::{NodeId, RelId, Value};

use crate::procedures::Procedures;
use memory::{heap_size, MemoryBudget, Reservation};

/// Rows per batch.
pub const BATCH: usize = 1024;

/// Buffer bytes an operator keeps when it is rewound; see [`recycle`].
const KEEP_BUFFER_BYTES: usize = 16 << 10;

/// Empties `v`, giving its buffer back when it is large. Operators are rewound for each
/// outer row of a nested plan, and a cached plan's tree is kept between runs (see
/// `exec::trees`): neither may go on holding a past run's big buffer uncharged.
pub fn recycle<T>(v: &mut Vec<T>) {
    if v.capacity() * std::mem::size_of::<T>() > KEEP_BUFFER_BYTES {
        *v = Vec::new();
    } else {
        v.clear();
    }
}

/// Heap bytes a batch may carry without being charged to the budget: batches of plain
/// values (ids, numbers, short strings) cost nothing to track.
const FREE_BATCH_HEAP: usize = 256 << 10;

/// Rows laid out one after the other, `width` values each.
#[derive(Debug)]
pub struct Batch {
    width: usize,
    len: usize,
    data: Vec<Value>,
    /// Heap bytes of the values held.
    heap: usize,
    hold: Option<Reservation>,
}

impl Batch {
    pub fn new(width: usize) -> Self {
        Self {
            width,
            len: 0,
            data: Vec::with_capacity(width * 64),
            heap: 0,
            hold: None,
        }
    }

    /// An empty batch with room for `rows` rows.
    pub fn with_rows(width: usize, rows: usize) -> Self {
        Self {
            width,
            len: 0,
            data: Vec::with_capacity(width * rows),
            heap: 0,
            hold: None,
        }
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_full(&self) -> bool {
        self.len >= BATCH
    }

    pub fn row(&self, i: usize) -> &[Value] {
        &self.data[i * self.width..(i + 1) * self.width]
    }

    /// Every row, in order.
    pub fn rows(&self) -> impl Iterator<Item = &[Value]> {
        (0..self.len).map(move |i| self.row(i))
    }

    /// Appends a value of the row being built; call [`end_row`](Self::end_row) after the
    /// row's last value.
    pub fn push(&mut self, v: Value) {
        self.heap += heap_size(&v);
        self.data.push(v);
    }

    pub fn end_row(&mut self) {
        self.len += 1;
        debug_assert_eq!(self.data.len(), self.len * self.width);
    }

    /// Appends a whole row.
    pub fn push_row(&mut self, row: impl IntoIterator<Item = Value>) {
        for v in row {
            self.push(v);
        }
        self.end_row();
    }

    /// Appends copies of `row`'s values at `cols` to the row being built (the columns an
    /// operator keeps from its input row).
    pub fn push_cols(&mut self, row: &[Value], cols: &[usize]) {
        for &c in cols {
            self.push(row[c].clone());
        }
    }

    /// Charges the batch's heap to `budget` when it carries large values, until the batch
    /// is dropped.
    pub fn seal(&mut self, budget: &Arc<MemoryBudget>) -> Result<(), Error> {
        if self.heap > FREE_BATCH_HEAP && self.hold.is_none() {
            let mut r = Reservation::new(budget);
            r.grow(self.heap)?;
            self.hold = Some(r);
        }
        Ok(())
    }

    /// The rows as separate vectors.
    pub fn into_rows(self) -> Vec<Vec<Value>> {
        if self.width == 0 {
            return vec![Vec::new(); self.len];
        }
        let width = self.width;
        let mut out = Vec::with_capacity(self.len);
        let mut it = self.data.into_iter();
        for _ in 0..self.len {
            out.push(it.by_ref().take(width).collect());
        }
        out
    }

    /// Keeps the rows whose `mask` entry is true.
    pub fn retain_mask(&mut self, mask: &[bool]) {
        if mask.iter().all(|k| *k) {
            return;
        }
        // In place: the kept values move down in the same buffer (a new vector grown value
        // by value cost several reallocations per batch).
        let width = self.width;
        let mut at = 0;
        self.data.retain(|_| {
            let keep = mask[at / width];
            at += 1;
            keep
        });
        self.len = mask.iter().take(self.len).filter(|k| **k).count();
        self.heap = self.data.iter().map(heap_size).sum();
    }

    /// Keeps the first `n` rows.
    pub fn truncate(&mut self, n: usize) {
        if n < self.len {
            self.len = n;
            self.data.truncate(n * self.width);
            self.heap = self.data.iter().map(heap_size).sum();
        }
    }

    /// Drops the first `n` rows.
    pub fn skip(&mut self, n: usize) {
        let n = n.min(self.len);
        self.data.drain(..n * self.width);
        self.len -= n;
        self.heap = self.data.iter().map(heap_size).sum();
    }

    /// Takes the values out, leaving an empty batch of the same width.
    pub fn take_values(&mut self) -> Vec<Value> {
        self.len = 0;
        self.heap = 0;
        self.hold = None;
        std::mem::take(&mut self.data)
    }
}

/// How the running query reaches the graph.
pub enum GraphAccess<'a> {
    Read(&'a dyn GraphRead),
    Write(&'a mut dyn GraphWrite),
}

/// Relationships the query deleted, remembered so that `type(r)`, `startNode(r)` and
/// `endNode(r)` still answer for them.
#[derive(Default)]
pub struct Deleted {
    rels: RefCell<HashMap<RelId, (NodeId, NodeId, TypeId)>>,
}

impl Deleted {
    pub fn remember(&self, r: RelId, info: (NodeId, NodeId, TypeId)) {
        self.rels.borrow_mut().insert(r, info);
    }

    pub fn rel(&self, r: RelId) -> Option<(NodeId, NodeId, TypeId)> {
        self.rels.borrow().get(&r).copied()
    }
}

/// What every operator and expression of one query run shares, besides the graph.
pub struct Env<'a> {
    /// The run's parameter values, in the order of the plan's
    /// [`params`](crate::plan::LogicalPlan::params) ([`CExpr::Param`](expr::CExpr::Param)).
    pub params: &'a [&'a nereid_value::Value],
    pub cancel: &'a CancelToken,
    pub memory: &'a Arc<MemoryBudget>,
    pub procedures: &'a Procedures,
    pub deleted: &'a Deleted,
    pub lookups: &'a lookup::LookupCache,
    /// Set for a read-only run that may use helper threads ([`parallel`]).
    pub parallel: Option<SharedRead<'a>>,
}

/// What a helper thread of a read-only query needs to build and run its copy of a
/// pipeline.
#[derive(Clone, Copy)]
pub struct SharedRead<'a> {
    pub graph: &'a (dyn GraphRead + Sync),
    pub plan: &'a crate::plan::LogicalPlan,
    pub params: &'a [&'a nereid_value::Value],
}

/// What an operator needs besides its own state.
pub struct Ctx<'a> {
    pub graph: GraphAccess<'a>,
    pub env: &'a Env<'a>,
}

/// What expression evaluation needs.
#[derive(Clone, Copy)]
pub struct EvalCx<'a> {
    pub graph: &'a dyn GraphRead,
    pub env: &'a Env<'a>,
}

impl<'a> Ctx<'a> {
    pub fn graph(&self) -> &dyn GraphRead {
        match &self.graph {
            GraphAccess::Read(g) => *g,
            GraphAccess::Write(w) => &**w,
        }
    }

    pub fn eval(&self) -> EvalCx<'_> {
        EvalCx {
            graph: self.graph(),
            env: self.env,
        }
    }

    pub fn write(&mut self) -> Result<&mut dyn GraphWrite, Error> {
        let writes = &self.env.lookups.writes;
        writes.set(writes.get() + 1);
        match &mut self.graph {
            GraphAccess::Write(w) => Ok(&mut **w),
            GraphAccess::Read(_) => Err(Error::internal("a write in a read-only transaction")),
        }
    }

    pub fn check(&self) -> Result<(), Error> {
        self.env.cancel.check()
    }
}

/// A pull-based physical operator.
pub trait Operator {
    /// The next batch (never an empty one), or `None` once exhausted.
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error>;
    /// Rewinds, so that the operator runs again from the start (for the next outer row of
    /// a nested plan); its `Argument` leaf will then hold the new outer row.
    fn reset(&mut self);
}

pub type BoxOp = Box<dyn Operator>;

/// Pulls rows one at a time out of an operator's batches.
pub struct Input {
    pub op: BoxOp,
    batch: Option<Batch>,
    pos: usize,
    done: bool,
    /// Batches taken from `op` so far (an operator notices a new one by it).
    loads: u64,
}

impl Input {
    pub fn new(op: BoxOp) -> Self {
        Self {
            op,
            batch: None,
            pos: 0,
            done: false,
            loads: 0,
        }
    }

    /// Makes sure a current row exists; false when the input is exhausted.
    pub fn advance(&mut self, cx: &mut Ctx) -> Result<bool, Error> {
        loop {
            if let Some(b) = &self.batch {
                if self.pos < b.len() {
                    return Ok(true);
                }
            }
            if self.done {
                return Ok(false);
            }
            match self.op.next(cx)? {
                Some(b) => {
                    self.batch = Some(b);
                    self.pos = 0;
                    self.loads += 1;
                }
                None => {
                    self.batch = None;
                    self.done = true;
                }
            }
        }
    }

    /// The current row (after `advance` returned true).
    pub fn row(&self) -> &[Value] {
        match &self.batch {
            Some(b) => b.row(self.pos),
            None => &[],
        }
    }

    /// The batch the current row is in, and how many batches were taken before it.
    pub fn batch(&self) -> Option<(&Batch, u64)> {
        self.batch.as_ref().map(|b| (b, self.loads))
    }

    /// Moves past the current row.
    pub fn bump(&mut self) {
        self.pos += 1;
    }

    pub fn reset(&mut self) {
        self.op.reset();
        self.batch = None;
        self.pos = 0;
        self.done = false;
    }
}

/// The work of an operator that turns each input row into a run of output rows (an
/// expansion's relationships, a seek's nodes, the shortest paths between two nodes): [`PerRow`]
/// drives it.
pub trait RowRun {
    /// Values each output row has beyond the input's kept columns.
    fn width(&self) -> usize;
    /// Prepares the run of `row` (once per input row).
    fn load(&mut self, cx: &Ctx, row: &[Value]) -> Result<(), Error>;
    /// Appends the run's next output row to `out`; `false` once the run is over.
    fn emit(&mut self, cx: &Ctx, row: &[Value], out: &mut Batch) -> bool;
    /// Drops the current run (the operator is rewound).
    fn clear(&mut self);
    /// Called once per input batch, before its first row is loaded: a run may ask the
    /// store to fetch what the batch's rows will read (see
    /// `GraphRead::prefetch_adjacency`).
    fn prefetch(&mut self, cx: &Ctx, rows: &Batch) {
        let _ = (cx, rows);
    }
}

/// An operator made of a [`RowRun`]: takes input rows one at a time, loads each one's run
/// and hands out its rows in batches, resuming a run across calls.
pub struct PerRow<R: RowRun> {
    pub input: Input,
    pub run: R,
    /// Whether the current input row's run is under way.
    active: bool,
    /// The input batch the run was last told about ([`RowRun::prefetch`]).
    prefetched: u64,
}

impl<R: RowRun> PerRow<R> {
    pub fn new(input: Input, run: R) -> Self {
        Self {
            input,
            run,
            active: false,
            prefetched: 0,
        }
    }
}

impl<R: RowRun> Operator for PerRow<R> {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        cx.check()?;
        let mut out = Batch::new(self.run.width());
        while !out.is_full() {
            if !self.active {
                if !self.input.advance(cx)? {
                    break;
                }
                if let Some((batch, n)) = self.input.batch() {
                    if n != self.prefetched {
                        self.prefetched = n;
                        self.run.prefetch(cx, batch);
                    }
                }
                self.run.load(cx, self.input.row())?;
                self.active = true;
            }
            let row = self.input.row();
            while !out.is_full() {
                if !self.run.emit(cx, row, &mut out) {
                    self.active = false;
                    break;
                }
            }
            if !self.active {
                self.input.bump();
            }
        }
        if out.is_empty() {
            return Ok(None);
        }
        out.seal(cx.env.memory)?;
        Ok(Some(out))
    }

    fn reset(&mut self) {
        self.input.reset();
        self.active = false;
        self.run.clear();
    }
}

/// The row an `Argument` leaf hands out: set by the operator that runs the nested plan.
pub type ArgCell = std::rc::Rc<RefCell<Vec<Value>>>;

/// The leaf of every plan: one row, the current outer row.
pub struct ArgumentOp {
    pub cell: ArgCell,
    pub done: bool,
}

impl Operator for ArgumentOp {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        if self.done {
            return Ok(None);
        }
        cx.check()?;
        self.done = true;
        let row = self.cell.borrow();
        let mut b = Batch::new(row.len());
        b.push_row(row.iter().cloned());
        Ok(Some(b))
    }

    fn reset(&mut self) {
        self.done = false;
    }
}

#[cfg(test)]
mod batch_tests {
    use super::*;

    #[test]
    fn retain_mask_keeps_the_marked_rows_in_order_and_their_heap() {
        let s = |t: &str| Value::String(t.to_string());
        let mut b = Batch::new(2);
        for (i, t) in ["a", "bb", "ccc", "dddd"].into_iter().enumerate() {
            b.push_row([Value::Int(i as i64), s(t)]);
        }
        b.retain_mask(&[true, false, false, true]);
        let rows: Vec<Vec<Value>> = b.rows().map(<[Value]>::to_vec).collect();
        assert_eq!(
            rows,
            [vec![Value::Int(0), s("a")], vec![Value::Int(3), s("dddd")]]
        );
        assert_eq!(b.heap, heap_size(&s("a")) + heap_size(&s("dddd")));
        b.retain_mask(&[false, true]);
        assert_eq!(b.len(), 1);
        assert_eq!(b.row(0), [Value::Int(3), s("dddd")]);
        // Rows without columns are counted all the same.
        let mut empty = Batch::new(0);
        for _ in 0..3 {
            empty.end_row();
        }
        empty.retain_mask(&[true, false, true]);
        assert_eq!(empty.len(), 2);
    }
}
