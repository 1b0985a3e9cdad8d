//! OPTIONAL MATCH: a nested plan run once per outer row (an apply, or correlated nested
//! loop), with the outer row and nulls when the nested plan finds nothing.

use nereid_common::Error;
use nereid_value::Value;

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
