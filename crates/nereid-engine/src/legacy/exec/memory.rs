//! A per-query memory budget. Operators that hold rows (sort, aggregation, DISTINCT,
//! updating clauses, the result itself) charge an estimate of what they keep; past the
//! limit the query fails with `MemoryLimitExceededException` instead of exhausting the
//! server's memory.

use std::cell::Cell;

use nereid_common::{Error, ErrorCode, Value};

/// Tracks the estimated bytes a query holds.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: usize,
    used: Cell<usize>,
}

impl MemoryBudget {
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            used: Cell::new(0),
        }
    }

    /// Adds `bytes`; an error once the total passes the limit.
    pub fn charge(&self, bytes: usize) -> Result<(), Error> {
        let used = self.used.get().saturating_add(bytes);
        self.used.set(used);
        if used > self.limit {
            return Err(Error::new(
                ErrorCode::MemoryLimitExceeded,
                format!(
                    "Query exceeded its memory limit of {} MiB (rows held by sorting, aggregation, DISTINCT, updates or the result)",
                    self.limit >> 20
                ),
            ));
        }
        Ok(())
    }

    pub fn charge_row(&self, row: &[Value]) -> Result<(), Error> {
        self.charge(row_size(row))
    }
}

/// Estimated heap and inline size of a value.
pub fn value_size(v: &Value) -> usize {
    let inline = std::mem::size_of::<Value>();
    inline
        + match v {
            Value::String(s) => s.len(),
            Value::List(l) => l.iter().map(value_size).sum(),
            Value::Map(m) => m.iter().map(|(k, v)| k.len() + 32 + value_size(v)).sum(),
            Value::Path(p) => (p.nodes.len() + p.rels.len()) * 8,
            _ => 0,
        }
}

pub fn row_size(row: &[Value]) -> usize {
    24 + row.iter().map(value_size).sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_fails_past_the_limit() {
        let b = MemoryBudget::new(1000);
        assert!(b.charge(600).is_ok());
        let e = b.charge(600).unwrap_err();
        assert_eq!(e.code, ErrorCode::MemoryLimitExceeded);
        assert_eq!(e.info().neptune, "MemoryLimitExceededException");
    }

    #[test]
    fn sizes_grow_with_content() {
        let small = value_size(&Value::from("a"));
        let big = value_size(&Value::from("a".repeat(1000)));
        assert!(big >= small + 999);
        let list = Value::List(vec![Value::Int(1); 10]);
        assert!(value_size(&list) > 10 * std::mem::size_of::<Value>());
    }
}
