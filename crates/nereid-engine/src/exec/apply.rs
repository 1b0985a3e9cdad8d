//! Nested plans run once per outer row (applies, or correlated nested loops): OPTIONAL
//! MATCH, with the outer row and nulls when the nested plan finds nothing, and `CALL { }`
//! (FOREACH too), with the outer row joined to each row the subquery returns.

use nereid_common::Error;
use nereid_value::Value;

use super::memory::{row_size, Reservation};
use super::{ArgCell, Batch, BoxOp, Ctx, Input, Operator};

pub struct OptionalOp {
    pub input: Input,
    /// Starts at an `Argument` that reads `cell`.
    pub inner: BoxOp,
    pub cell: ArgCell,
    /// Per output column: the outer column it copies when the inner plan finds nothing
    /// (`None`: null).
    pub null_map: Vec<Option<usize>>,
    active: bool,
    found: bool,
    pending: Option<Batch>,
}

impl OptionalOp {
    pub fn new(input: Input, inner: BoxOp, cell: ArgCell, null_map: Vec<Option<usize>>) -> Self {
        Self {
            input,
            inner,
            cell,
            null_map,
            active: false,
            found: false,
            pending: None,
        }
    }
}

impl Operator for OptionalOp {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        let mut out = Batch::new(self.null_map.len());
        loop {
            if let Some(b) = self.pending.take() {
                return Ok(Some(b));
            }
            if !self.active {
                if !self.input.advance(cx)? {
                    break;
                }
                *self.cell.borrow_mut() = self.input.row().to_vec();
                self.inner.reset();
                self.active = true;
                self.found = false;
            }
            match self.inner.next(cx)? {
                Some(b) => {
                    self.found = true;
                    if out.is_empty() {
                        return Ok(Some(b));
                    }
                    self.pending = Some(b);
                    return Ok(Some(out));
                }
                None => {
                    if !self.found {
                        let row = self.input.row();
                        for m in &self.null_map {
                            out.push(m.map_or(Value::Null, |c| row[c].clone()));
                        }
                        out.end_row();
                    }
                    self.active = false;
                    self.input.bump();
                    if out.is_full() {
                        return Ok(Some(out));
                    }
                }
            }
        }
        Ok((!out.is_empty()).then_some(out))
    }

    fn reset(&mut self) {
        self.input.reset();
        self.active = false;
        self.pending = None;
    }
}

/// `CALL { … }`: for each outer row, the subquery's rows (their `cols`) appended to it; a
/// unit subquery (`cols` is `None`) runs to its end and the outer row passes once.
pub struct ApplyOp {
    input: Input,
    inner: BoxOp,
    /// Starts at an `Argument` that reads `cell`.
    cell: ArgCell,
    cols: Option<Vec<usize>>,
    /// The subquery writes: read (and hold) every outer row before the first run, so that
    /// the outer reads never see the subquery's writes.
    eager: bool,
    held: Option<(std::vec::IntoIter<Vec<Value>>, Reservation)>,
    /// The outer row the subquery is running for.
    current: Option<Vec<Value>>,
}

impl ApplyOp {
    pub fn new(
        input: Input,
        inner: BoxOp,
        cell: ArgCell,
        cols: Option<Vec<usize>>,
        eager: bool,
    ) -> Self {
        Self {
            input,
            inner,
            cell,
            cols,
            eager,
            held: None,
            current: None,
        }
    }

    /// The next outer row, or `None` when there are no more.
    fn next_outer(&mut self, cx: &mut Ctx) -> Result<Option<Vec<Value>>, Error> {
        if !self.eager {
            if !self.input.advance(cx)? {
                return Ok(None);
            }
            let row = self.input.row().to_vec();
            self.input.bump();
            return Ok(Some(row));
        }
        if self.held.is_none() {
            let mut hold = Reservation::new(cx.env.memory);
            let mut rows = Vec::new();
            while self.input.advance(cx)? {
                let row = self.input.row();
                hold.grow(row_size(row))?;
                rows.push(row.to_vec());
                self.input.bump();
            }
            self.held = Some((rows.into_iter(), hold));
        }
        Ok(self.held.as_mut().and_then(|(rows, _)| rows.next()))
    }
}

impl Operator for ApplyOp {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        let width = |row: &[Value], cols: &Option<Vec<usize>>| {
            row.len() + cols.as_ref().map_or(0, Vec::len)
        };
        let mut out: Option<Batch> = None;
        loop {
            if self.current.is_none() {
                match self.next_outer(cx)? {
                    Some(row) => {
                        cx.check()?;
                        *self.cell.borrow_mut() = row.clone();
                        self.inner.reset();
                        self.current = Some(row);
                    }
                    None => break,
                }
            }
            let Some(row) = &self.current else { break };
            let batch = out.get_or_insert_with(|| Batch::new(width(row, &self.cols)));
            match &self.cols {
                None => {
                    while self.inner.next(cx)?.is_some() {}
                    batch.push_row(row.iter().cloned());
                    self.current = None;
                }
                Some(cols) => match self.inner.next(cx)? {
                    Some(b) => {
                        for r in b.rows() {
                            for v in row {
                                batch.push(v.clone());
                            }
                            for c in cols {
                                batch.push(r[*c].clone());
                            }
                            batch.end_row();
                        }
                    }
                    None => self.current = None,
                },
            }
            if batch.is_full() {
                break;
            }
        }
        Ok(out.filter(|b| !b.is_empty()))
    }

    fn reset(&mut self) {
        self.input.reset();
        self.inner.reset();
        self.held = None;
        self.current = None;
    }
}
