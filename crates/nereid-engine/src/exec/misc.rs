//! Row-at-a-time operators that stream: filter, projection, UNWIND, SKIP, LIMIT,
//! DISTINCT, the result projection, UNION and procedure calls.

use nereid_common::{Error, ErrorCode};
use nereid_functions::{self as functions, RangeIter};
use nereid_value::{NodeId, Value};

use super::expr::{truth, CExpr, Frame, Key};
use super::keys::{KeyTable, NodeSet, NODE_SET_LIMIT};
use super::memory::{row_size, Reservation};
use super::{Batch, BoxOp, Ctx, Input, Operator, BATCH};

/// Keeps the rows for which the predicate is true.
pub struct FilterOp {
    pub input: BoxOp,
    pub predicate: CExpr,
    pub frame: Frame,
}

impl Operator for FilterOp {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        loop {
            let Some(mut batch) = self.input.next(cx)? else {
                return Ok(None);
            };
            let ecx = cx.eval();
            let mut mask = Vec::with_capacity(batch.len());
            for row in batch.rows() {
                let v = self.predicate.eval_ref(row, &mut self.frame, &ecx)?;
                mask.push(truth(&v)? == Some(true));
            }
            batch.retain_mask(&mask);
            if !batch.is_empty() {
                return Ok(Some(batch));
            }
            cx.check()?;
        }
    }

    fn reset(&mut self) {
        self.input.reset();
    }
}

/// `keep` input columns, then one value per item.
pub struct ProjectOp {
    pub input: BoxOp,
    pub keep: Vec<usize>,
    pub items: Vec<CExpr>,
    pub frame: Frame,
    prefetch: PropPrefetch,
}

impl ProjectOp {
    pub fn new(input: BoxOp, keep: Vec<usize>, items: Vec<CExpr>) -> Self {
        let prefetch = PropPrefetch::new(&items);
        Self {
            input,
            keep,
            items,
            frame: Frame::new(),
            prefetch,
        }
    }
}

/// Reading one property per row of a batch waits for memory on every row (node records
/// are spread over the heap); a hint for the whole batch first lets the store overlap those
/// waits ([`GraphRead::prefetch_node_property`](nereid_storage::GraphRead)). Covers the
/// expressions that are a node's property (`p.name`), the common case of projections,
/// grouping keys and aggregate arguments.
pub struct PropPrefetch {
    /// `(column, key)` of each such expression.
    reads: Vec<(usize, Key)>,
    nodes: Vec<NodeId>,
}

impl PropPrefetch {
    pub fn new<'e>(exprs: impl IntoIterator<Item = &'e CExpr>) -> Self {
        let mut reads: Vec<(usize, Key)> = Vec::new();
        for e in exprs {
            if let CExpr::Prop(base, key) = e {
                if let CExpr::Col(c) = **base {
                    if !reads.iter().any(|(c2, k)| *c2 == c && k.name == key.name) {
                        reads.push((c, key.clone()));
                    }
                }
            }
        }
        Self {
            reads,
            nodes: Vec::new(),
        }
    }

    pub fn run(&mut self, cx: &Ctx, batch: &Batch) {
        if self.reads.is_empty() || batch.len() < 8 {
            return;
        }
        let g = cx.graph();
        for (col, key) in &self.reads {
            let Some(k) = key.id(g) else { continue };
            self.nodes.clear();
            self.nodes.reserve(batch.len());
            self.nodes
                .extend(batch.rows().filter_map(|r| match r.get(*col) {
                    Some(Value::Node(n)) => Some(*n),
                    _ => None,
                }));
            if !self.nodes.is_empty() {
                g.prefetch_node_property(&self.nodes, k);
            }
        }
    }
}

impl Operator for ProjectOp {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        let Some(batch) = self.input.next(cx)? else {
            return Ok(None);
        };
        self.prefetch.run(cx, &batch);
        let ecx = cx.eval();
        let mut out = Batch::new(self.keep.len() + self.items.len());
        let mut vals = Vec::with_capacity(self.items.len());
        for row in batch.rows() {
            vals.clear();
            for e in &self.items {
                vals.push(e.eval(row, &mut self.frame, &ecx)?);
            }
            out.push_cols(row, &self.keep);
            for v in vals.drain(..) {
                out.push(v);
            }
            out.end_row();
        }
        out.seal(cx.env.memory)?;
        Ok(Some(out))
    }

    fn reset(&mut self) {
        self.input.reset();
    }
}

enum UnwindSource {
    List(std::vec::IntoIter<Value>),
    Range(RangeIter),
}

/// One row per element of the list (none for null, the value itself for a non-list).
pub struct UnwindOp {
    pub input: Input,
    pub keep: Vec<usize>,
    pub expr: CExpr,
    pub emit: bool,
    pub frame: Frame,
    current: Option<UnwindSource>,
    hold: Option<Reservation>,
}

impl UnwindOp {
    pub fn new(input: Input, keep: Vec<usize>, expr: CExpr, emit: bool) -> Self {
        Self {
            input,
            keep,
            expr,
            emit,
            frame: Frame::new(),
            current: None,
            hold: None,
        }
    }

    /// `UNWIND range(a, b[, s])` streams instead of building the list.
    fn source(&mut self, cx: &Ctx) -> Result<UnwindSource, Error> {
        let ecx = cx.eval();
        let row = self.input.row();
        if let CExpr::Scalar(f, args) = &self.expr {
            if f.name.eq_ignore_ascii_case("range") {
                let mut ints = Vec::with_capacity(args.len());
                for a in args {
                    match a.eval(row, &mut self.frame, &ecx)? {
                        Value::Int(i) => ints.push(i),
                        _ => break,
                    }
                }
                if ints.len() == args.len() {
                    let step = ints.get(2).copied().unwrap_or(1);
                    return Ok(UnwindSource::Range(functions::range_iter(
                        ints[0], ints[1], step,
                    )?));
                }
            }
        }
        let list = match self.expr.eval(row, &mut self.frame, &ecx)? {
            Value::List(l) => l,
            Value::Null => Vec::new(),
            other => vec![other],
        };
        // The list is held while its rows stream out.
        let bytes = row_size(&list);
        let hold = Reservation::on(&mut self.hold, cx.env.memory);
        hold.resize(bytes)?;
        Ok(UnwindSource::List(list.into_iter()))
    }
}

impl Operator for UnwindOp {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        cx.check()?;
        let mut out = Batch::new(self.keep.len() + usize::from(self.emit));
        loop {
            if self.current.is_none() {
                if !self.input.advance(cx)? {
                    break;
                }
                self.current = Some(self.source(cx)?);
            }
            let row = self.input.row();
            let mut exhausted = false;
            if let Some(src) = self.current.as_mut() {
                while !out.is_full() {
                    let v = match src {
                        UnwindSource::List(it) => it.next(),
                        UnwindSource::Range(it) => it.next().map(Value::Int),
                    };
                    let Some(v) = v else {
                        exhausted = true;
                        break;
                    };
                    out.push_cols(row, &self.keep);
                    if self.emit {
                        out.push(v);
                    }
                    out.end_row();
                }
            }
            if exhausted {
                self.current = None;
                self.input.bump();
            }
            if out.is_full() {
                break;
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
        self.current = None;
    }
}

/// The value of a SKIP or LIMIT count: a non-negative integer.
pub fn count_value(e: &CExpr, what: &str, cx: &Ctx) -> Result<u64, Error> {
    let v = e.eval(&[], &mut Frame::new(), &cx.eval())?;
    match v {
        Value::Int(i) if i >= 0 => Ok(i as u64),
        Value::Int(i) => Err(Error::new(
            ErrorCode::NegativeIntegerArgumentRuntime,
            format!(
                "Invalid input. '{i}' is not a valid value for {what}. Must be a non-negative integer."
            ),
        )),
        other => Err(Error::new(
            ErrorCode::InvalidSkipLimitArgument,
            format!(
                "Invalid input. '{other}' is not a valid value for {what}. Must be a non-negative integer."
            ),
        )),
    }
}

pub struct SkipOp {
    pub input: BoxOp,
    pub count: CExpr,
    pub left: Option<u64>,
}

impl Operator for SkipOp {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        if self.left.is_none() {
            self.left = Some(count_value(&self.count, "SKIP", cx)?);
        }
        loop {
            let Some(mut batch) = self.input.next(cx)? else {
                return Ok(None);
            };
            let left = self.left.unwrap_or(0);
            if left == 0 {
                return Ok(Some(batch));
            }
            let n = (left as usize).min(batch.len());
            batch.skip(n);
            self.left = Some(left - n as u64);
            if !batch.is_empty() {
                return Ok(Some(batch));
            }
        }
    }

    fn reset(&mut self) {
        self.input.reset();
        self.left = None;
    }
}

pub struct LimitOp {
    pub input: BoxOp,
    pub count: CExpr,
    pub left: Option<u64>,
    pub pulled: bool,
}

impl Operator for LimitOp {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        if self.left.is_none() {
            self.left = Some(count_value(&self.count, "LIMIT", cx)?);
        }
        let left = self.left.unwrap_or(0);
        if left == 0 {
            if !self.pulled {
                // Pull once anyway: updating clauses below run when first pulled, and their
                // side effects must happen even under LIMIT 0.
                self.pulled = true;
                let _ = self.input.next(cx)?;
            }
            return Ok(None);
        }
        self.pulled = true;
        let Some(mut batch) = self.input.next(cx)? else {
            return Ok(None);
        };
        if batch.len() as u64 > left {
            batch.truncate(left as usize);
        }
        self.left = Some(left - batch.len() as u64);
        Ok(Some(batch))
    }

    fn reset(&mut self) {
        self.input.reset();
        self.left = None;
        self.pulled = false;
    }
}

/// The rows whose values at `cols` were not seen before; the set of seen keys is charged
/// to the memory budget.
pub struct DistinctOp {
    pub input: BoxOp,
    pub cols: Vec<usize>,
    pub seen: KeyTable,
    /// With one column: the nodes seen (ids below [`NODE_SET_LIMIT`]; other values go to
    /// `seen`).
    pub nodes: NodeSet,
    pub hold: Option<Reservation>,
}

impl DistinctOp {
    pub fn new(input: BoxOp, cols: Vec<usize>) -> Self {
        Self {
            input,
            cols,
            seen: KeyTable::default(),
            nodes: NodeSet::default(),
            hold: None,
        }
    }
}

impl Operator for DistinctOp {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        loop {
            let Some(mut batch) = self.input.next(cx)? else {
                return Ok(None);
            };
            let hold = Reservation::on(&mut self.hold, cx.env.memory);
            let mut mask = Vec::with_capacity(batch.len());
            let mut key = Vec::with_capacity(self.cols.len());
            for row in batch.rows() {
                if let [c] = self.cols[..] {
                    if let Value::Node(n) = row[c] {
                        if n.0 < NODE_SET_LIMIT {
                            let before = self.nodes.bytes();
                            let new = self.nodes.insert(n.0);
                            hold.grow(self.nodes.bytes() - before)?;
                            mask.push(new);
                            continue;
                        }
                    }
                }
                key.clear();
                key.extend(self.cols.iter().map(|&c| row[c].clone()));
                let dense = self.seen.bytes();
                let (_, new) = self.seen.insert(&key);
                if new {
                    hold.grow(row_size(&key) + 16 + (self.seen.bytes() - dense))?;
                }
                mask.push(new);
            }
            batch.retain_mask(&mask);
            if !batch.is_empty() {
                return Ok(Some(batch));
            }
            cx.check()?;
        }
    }

    fn reset(&mut self) {
        self.input.reset();
        self.seen.clear();
        self.nodes.clear();
        if let Some(h) = &mut self.hold {
            h.clear();
        }
    }
}

/// The result columns, in order.
pub struct ProduceOp {
    pub input: BoxOp,
    pub cols: Vec<usize>,
}

impl Operator for ProduceOp {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        let Some(mut batch) = self.input.next(cx)? else {
            return Ok(None);
        };
        let width = batch.width();
        let identity =
            self.cols.len() == width && self.cols.iter().enumerate().all(|(i, c)| i == *c);
        if identity {
            return Ok(Some(batch));
        }
        let n = batch.len();
        let mut values = batch.take_values();
        let mut out = Batch::new(self.cols.len());
        // Two result columns may share one row column (`RETURN a AS x, a AS y`): only its
        // last use may move the value out.
        let last: Vec<bool> = (0..self.cols.len())
            .map(|i| !self.cols[i + 1..].contains(&self.cols[i]))
            .collect();
        for r in 0..n {
            for (&c, &last) in self.cols.iter().zip(&last) {
                let v = &mut values[r * width + c];
                out.push(if last { std::mem::take(v) } else { v.clone() });
            }
            out.end_row();
        }
        out.seal(cx.env.memory)?;
        Ok(Some(out))
    }

    fn reset(&mut self) {
        self.input.reset();
    }
}

/// The rows of every branch in turn, deduplicated with `seen`.
pub struct UnionOp {
    pub branches: Vec<BoxOp>,
    pub current: usize,
    pub seen: Option<KeyTable>,
    pub hold: Option<Reservation>,
}

impl Operator for UnionOp {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        loop {
            let Some(branch) = self.branches.get_mut(self.current) else {
                return Ok(None);
            };
            let Some(mut batch) = branch.next(cx)? else {
                self.current += 1;
                continue;
            };
            if let Some(seen) = &mut self.seen {
                let hold = Reservation::on(&mut self.hold, cx.env.memory);
                let mut mask = Vec::with_capacity(batch.len());
                for row in batch.rows() {
                    let dense = seen.bytes();
                    let (_, new) = seen.insert(row);
                    if new {
                        hold.grow(row_size(row) + 16 + (seen.bytes() - dense))?;
                    }
                    mask.push(new);
                }
                batch.retain_mask(&mask);
            }
            if !batch.is_empty() {
                return Ok(Some(batch));
            }
        }
    }

    fn reset(&mut self) {
        for b in &mut self.branches {
            b.reset();
        }
        self.current = 0;
        if let Some(s) = &mut self.seen {
            s.clear();
        }
        self.hold = None;
    }
}

/// `CALL procedure(args) YIELD …`: per input row, `keep` columns then the yielded outputs
/// (`yields`: the procedure's output index of each emitted column).
pub struct CallOp {
    pub input: Input,
    pub procedure: String,
    pub args: Vec<CExpr>,
    pub keep: Vec<usize>,
    pub yields: Vec<usize>,
    pub void: bool,
    pub frame: Frame,
    pending: Vec<Vec<Value>>,
    pos: usize,
    active: bool,
}

impl CallOp {
    pub fn new(
        input: Input,
        procedure: String,
        args: Vec<CExpr>,
        keep: Vec<usize>,
        yields: Vec<usize>,
        void: bool,
    ) -> Self {
        Self {
            input,
            procedure,
            args,
            keep,
            yields,
            void,
            frame: Frame::new(),
            pending: Vec::new(),
            pos: 0,
            active: false,
        }
    }
}

impl Operator for CallOp {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        let Some(proc_) = cx.env.procedures.get(&self.procedure).cloned() else {
            return Err(Error::new(
                ErrorCode::ProcedureNotFound,
                format!(
                    "There is no procedure with the name `{}` registered",
                    self.procedure
                ),
            ));
        };
        let mut out = Batch::new(self.keep.len() + self.yields.len());
        loop {
            if !self.active {
                if !self.input.advance(cx)? {
                    break;
                }
                let ecx = cx.eval();
                let row = self.input.row();
                let mut args = Vec::with_capacity(self.args.len());
                for a in &self.args {
                    args.push(a.eval(row, &mut self.frame, &ecx)?);
                }
                let results = proc_.call(&args)?;
                self.pending = if self.void { vec![Vec::new()] } else { results };
                self.pos = 0;
                self.active = true;
            }
            let row = self.input.row();
            while self.pos < self.pending.len() && !out.is_full() {
                let res = &self.pending[self.pos];
                self.pos += 1;
                out.push_cols(row, &self.keep);
                for &i in &self.yields {
                    out.push(res.get(i).cloned().unwrap_or(Value::Null));
                }
                out.end_row();
            }
            if self.pos >= self.pending.len() {
                self.active = false;
                self.input.bump();
            }
            if out.len() >= BATCH {
                break;
            }
        }
        if out.is_empty() {
            return Ok(None);
        }
        Ok(Some(out))
    }

    fn reset(&mut self) {
        self.input.reset();
        self.active = false;
        super::recycle(&mut self.pending);
    }
}
