//! ORDER BY: a full sort, and top-k for ORDER BY … LIMIT, which keeps only the best
//! `skip + limit` rows while it reads its input.
//!
//! Both are stable (rows with equal keys keep their input order) and charge the rows they
//! hold to the query's memory budget.

use std::cmp::Ordering;

use nereid_common::Error;
use nereid_value::Value;

use super::expr::{CExpr, Frame};
use super::memory::{row_size, Reservation};
use super::misc::count_value;
use super::{Batch, BoxOp, Ctx, Operator};

/// A sort key, compiled: the expression and whether it sorts descending.
pub struct CSortKey {
    pub expr: CExpr,
    pub descending: bool,
}

type Keyed = (Vec<Value>, Vec<Value>);

fn compare(a: &[Value], b: &[Value], keys: &[CSortKey]) -> Ordering {
    for ((x, y), k) in a.iter().zip(b).zip(keys) {
        let o = x.order_cmp(y);
        let o = if k.descending { o.reverse() } else { o };
        if o.is_ne() {
            return o;
        }
    }
    Ordering::Equal
}

fn eval_keys(
    keys: &[CSortKey],
    row: &[Value],
    frame: &mut Frame,
    cx: &Ctx,
) -> Result<Vec<Value>, Error> {
    let ecx = cx.eval();
    keys.iter().map(|k| k.expr.eval(row, frame, &ecx)).collect()
}

/// Emits held rows a batch at a time.
fn emit(rows: &mut std::vec::IntoIter<Keyed>, width: usize) -> Option<Batch> {
    let mut out = Batch::new(width);
    for (_, row) in rows.by_ref() {
        out.push_row(row);
        if out.is_full() {
            break;
        }
    }
    (!out.is_empty()).then_some(out)
}

pub struct SortOp {
    pub input: BoxOp,
    pub keys: Vec<CSortKey>,
    pub width: usize,
    pub frame: Frame,
    sorted: Option<std::vec::IntoIter<Keyed>>,
    hold: Option<Reservation>,
}

impl SortOp {
    pub fn new(input: BoxOp, keys: Vec<CSortKey>, width: usize) -> Self {
        Self {
            input,
            keys,
            width,
            frame: Frame::new(),
            sorted: None,
            hold: None,
        }
    }
}

impl Operator for SortOp {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        if self.sorted.is_none() {
            let mut hold = Reservation::new(cx.env.memory);
            let mut rows: Vec<Keyed> = Vec::new();
            let mut capacity = 0;
            while let Some(batch) = self.input.next(cx)? {
                cx.check()?;
                for row in batch.rows() {
                    let k = eval_keys(&self.keys, row, &mut self.frame, cx)?;
                    hold.grow(row_size(&k) + row_size(row))?;
                    rows.push((k, row.to_vec()));
                    capacity = hold.grow_capacity(capacity, &rows)?;
                }
            }
            let keys = &self.keys;
            // The stable sort's buffer: half the rows' slots, while it sorts.
            let mut buffer = Reservation::new(cx.env.memory);
            buffer.grow(rows.len() / 2 * std::mem::size_of::<Keyed>())?;
            rows.sort_by(|a, b| compare(&a.0, &b.0, keys));
            drop(buffer);
            self.sorted = Some(rows.into_iter());
            self.hold = Some(hold);
        }
        let out = self.sorted.as_mut().and_then(|it| emit(it, self.width));
        if out.is_none() {
            self.hold = None;
        }
        Ok(out)
    }

    fn reset(&mut self) {
        self.input.reset();
        self.sorted = None;
        self.hold = None;
    }
}

/// `ORDER BY keys SKIP s LIMIT l`, holding at most `2 (s + l)` rows at any time.
pub struct TopKOp {
    pub input: BoxOp,
    pub keys: Vec<CSortKey>,
    pub skip: Option<CExpr>,
    pub limit: CExpr,
    pub width: usize,
    pub frame: Frame,
    sorted: Option<std::vec::IntoIter<Keyed>>,
    hold: Option<Reservation>,
}

impl TopKOp {
    pub fn new(
        input: BoxOp,
        keys: Vec<CSortKey>,
        skip: Option<CExpr>,
        limit: CExpr,
        width: usize,
    ) -> Self {
        Self {
            input,
            keys,
            skip,
            limit,
            width,
            frame: Frame::new(),
            sorted: None,
            hold: None,
        }
    }

    fn compute(&mut self, cx: &mut Ctx) -> Result<Vec<Keyed>, Error> {
        let skip = match &self.skip {
            Some(e) => count_value(e, "SKIP", cx)?,
            None => 0,
        };
        let limit = count_value(&self.limit, "LIMIT", cx)?;
        let k = usize::try_from(skip.saturating_add(limit)).unwrap_or(usize::MAX);
        let mut hold = Reservation::new(cx.env.memory);
        let mut rows: Vec<Keyed> = Vec::new();
        let mut held = 0usize;
        // The key of the k-th best row so far (set at each compaction): a row no better
        // than it can never be among the first k, since ties keep input order.
        let mut threshold: Option<Vec<Value>> = None;
        if k == 0 {
            // Run the input once for its side effects, as LIMIT 0 does.
            let _ = self.input.next(cx)?;
            return Ok(rows);
        }
        let keys = &self.keys;
        while let Some(batch) = self.input.next(cx)? {
            cx.check()?;
            for row in batch.rows() {
                let key = eval_keys(keys, row, &mut self.frame, cx)?;
                if let Some(worst) = &threshold {
                    if compare(&key, worst, keys) != Ordering::Less {
                        continue;
                    }
                }
                let size = row_size(&key) + row_size(row);
                hold.grow(size)?;
                held += size;
                rows.push((key, row.to_vec()));
                if rows.len() >= k.saturating_mul(2).max(k + 1) {
                    rows.sort_by(|a, b| compare(&a.0, &b.0, keys));
                    rows.truncate(k);
                    threshold = rows.last().map(|(key, _)| key.clone());
                    let now: usize = rows.iter().map(|(a, b)| row_size(a) + row_size(b)).sum();
                    hold.shrink(held - now);
                    held = now;
                }
            }
        }
        rows.sort_by(|a, b| compare(&a.0, &b.0, keys));
        rows.truncate(k);
        let skip = usize::try_from(skip).unwrap_or(usize::MAX).min(rows.len());
        rows.drain(..skip);
        self.hold = Some(hold);
        Ok(rows)
    }
}

impl Operator for TopKOp {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        if self.sorted.is_none() {
            let rows = self.compute(cx)?;
            self.sorted = Some(rows.into_iter());
        }
        let out = self.sorted.as_mut().and_then(|it| emit(it, self.width));
        if out.is_none() {
            self.hold = None;
        }
        Ok(out)
    }

    fn reset(&mut self) {
        self.input.reset();
        self.sorted = None;
        self.hold = None;
    }
}
