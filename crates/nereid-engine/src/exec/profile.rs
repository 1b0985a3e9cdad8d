//! PROFILE's instrument: a wrapper that counts the rows an operator hands up and the time
//! spent inside it (its inputs included), per logical operator of the plan.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

use nereid_common::Error;

use super::{Batch, BoxOp, Ctx, Operator};
use crate::plan::Op;

/// What one logical operator did, summed over every physical instance and every run
/// (a nested plan runs once per outer row).
#[derive(Debug, Default)]
pub struct OpStats {
    pub rows: Cell<u64>,
    pub nanos: Cell<u64>,
}

/// Stats of every operator built so far, by the address of its logical operator.
pub type Recorder = Rc<RefCell<HashMap<*const Op, Rc<OpStats>>>>;

pub struct ProfiledOp {
    pub inner: BoxOp,
    pub stats: Rc<OpStats>,
}

impl ProfiledOp {
    pub fn wrap(inner: BoxOp, op: &Op, recorder: &Recorder) -> BoxOp {
        let stats = recorder
            .borrow_mut()
            .entry(op as *const Op)
            .or_default()
            .clone();
        Box::new(ProfiledOp { inner, stats })
    }
}

impl Operator for ProfiledOp {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        let start = Instant::now();
        let out = self.inner.next(cx);
        let spent = start.elapsed().as_nanos() as u64;
        self.stats.nanos.set(self.stats.nanos.get() + spent);
        if let Ok(Some(batch)) = &out {
            self.stats
                .rows
                .set(self.stats.rows.get() + batch.len() as u64);
        }
        out
    }

    fn reset(&mut self) {
        self.inner.reset();
    }
}
