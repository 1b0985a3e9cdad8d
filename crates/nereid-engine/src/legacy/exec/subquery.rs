//! `EXISTS { … }` with a full subquery: planned once, run per outer row with that row as the
//! argument, stopping at the first result row.

use nereid_common::{Error, Map, Value};

use super::{build, ExecCx, GraphAccess};
use crate::legacy::expr::EvalCx;
use crate::legacy::planner::Op;
use crate::procedures::Procedures;

#[derive(Debug, Clone)]
pub struct SubqueryPlan {
    pub root: Op,
}

impl SubqueryPlan {
    /// Whether the subquery produces at least one row for `row`.
    pub fn exists(&self, row: &[Value], cx: &EvalCx) -> Result<bool, Error> {
        let procedures = Procedures::default();
        // The subquery stops at its first row; its own holdings are bounded by the
        // outer query's limit (a fresh budget of the same default size).
        let memory = super::memory::MemoryBudget::new(crate::DEFAULT_QUERY_MEMORY);
        let params: &Map = cx.params;
        let mut ecx = ExecCx {
            graph: GraphAccess::Read(cx.graph),
            params,
            cancel: cx.cancel,
            procedures: &procedures,
            width: row.len(),
            argument: Some(row),
            memory: &memory,
            lookups: cx.lookups,
        };
        let mut op = build(&self.root);
        while let Some(batch) = op.next(&mut ecx)? {
            if !batch.is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
