//! The per-query memory budget (`--query-memory-mb`).
//!
//! Everything a query holds beyond a fixed, small working set is charged here: rows kept
//! by sort, top-k, aggregation and DISTINCT (and the values they hold), `collect` and other
//! aggregate state, the path and frontier state of variable-length and shortest-path
//! expansions, lists and strings being built by expressions, batches in flight that carry
//! large values, eager buffers of updating clauses, and the result. Holders keep a
//! [`Reservation`] that gives the bytes back when it is dropped or shrunk, so the budget
//! measures what is held *now*, not what was ever allocated. Past the limit the query fails
//! with `MemoryLimitExceededException` and its transaction is dropped.
//!
//! Sizes are estimates from [`value_size`] (inline size plus heap contents), not
//! allocator figures; they err on the high side.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use nereid_common::{Error, ErrorCode};
use nereid_value::Value;

/// What one query may hold, and what it holds now.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: usize,
    used: AtomicUsize,
    peak: AtomicUsize,
}

impl MemoryBudget {
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit,
            used: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        })
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// The most the query held at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    fn exceeded(&self, wanted: usize) -> Error {
        Error::new(
            ErrorCode::MemoryLimitExceeded,
            format!(
                "Query exceeded its memory limit of {} MiB: it held {} MiB and needed {} MiB more (rows kept for sorting, aggregation or DISTINCT, values being built, paths being expanded, or the result)",
                self.limit >> 20,
                self.used() >> 20,
                wanted.div_ceil(1 << 20),
            ),
        )
    }

    /// Takes `bytes` from the budget; an error (and nothing taken) past the limit.
    pub fn charge(&self, bytes: usize) -> Result<(), Error> {
        let before = self.used.fetch_add(bytes, Ordering::Relaxed);
        let now = before.saturating_add(bytes);
        if now > self.limit {
            self.used.fetch_sub(bytes, Ordering::Relaxed);
            return Err(self.exceeded(bytes));
        }
        self.peak.fetch_max(now, Ordering::Relaxed);
        Ok(())
    }

    /// Gives back bytes taken with [`charge`](Self::charge).
    pub fn release(&self, bytes: usize) {
        let _ = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                Some(u.saturating_sub(bytes))
            });
    }

    /// Fails unless `bytes` more would fit, without taking them: for a value about to be
    /// built that the caller holds only for a moment.
    pub fn check(&self, bytes: usize) -> Result<(), Error> {
        if self.used().saturating_add(bytes) > self.limit {
            return Err(self.exceeded(bytes));
        }
        Ok(())
    }
}

/// Bytes held from a budget; given back on drop.
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<MemoryBudget>,
    bytes: usize,
}

impl Reservation {
    pub fn new(budget: &Arc<MemoryBudget>) -> Self {
        Self {
            budget: Arc::clone(budget),
            bytes: 0,
        }
    }

    /// The reservation in `hold` on `budget`, made on first use. One left by an earlier run
    /// of a reused operator tree is on that run's budget: it is replaced (and what it held
    /// given back there).
    pub fn on<'h>(hold: &'h mut Option<Reservation>, budget: &Arc<MemoryBudget>) -> &'h mut Self {
        if hold
            .as_ref()
            .is_some_and(|h| !Arc::ptr_eq(&h.budget, budget))
        {
            *hold = None;
        }
        hold.get_or_insert_with(|| Reservation::new(budget))
    }

    pub fn grow(&mut self, bytes: usize) -> Result<(), Error> {
        self.budget.charge(bytes)?;
        self.bytes += bytes;
        Ok(())
    }

    pub fn shrink(&mut self, bytes: usize) {
        let b = bytes.min(self.bytes);
        self.budget.release(b);
        self.bytes -= b;
    }

    /// Holds exactly `bytes` from now on.
    pub fn resize(&mut self, bytes: usize) -> Result<(), Error> {
        if bytes > self.bytes {
            self.grow(bytes - self.bytes)
        } else {
            self.shrink(self.bytes - bytes);
            Ok(())
        }
    }

    pub fn clear(&mut self) {
        self.shrink(self.bytes);
    }

    /// Charges the capacity `v` gained since it had `before`; returns the new capacity.
    /// Holders charge each element's slot as they push it, so this counts the growth
    /// twice — on purpose: a `Vec` doubles by allocating the new buffer while the old one
    /// is still held, and up to half of the new one stays spare.
    pub fn grow_capacity<T>(&mut self, before: usize, v: &Vec<T>) -> Result<usize, Error> {
        let now = v.capacity();
        if now > before {
            self.grow((now - before) * std::mem::size_of::<T>())?;
        }
        Ok(now)
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.release(self.bytes);
    }
}

/// Heap bytes a value owns beyond its inline size.
#[inline]
pub fn heap_size(v: &Value) -> usize {
    match v {
        Value::String(s) if s.capacity() == 0 => 0,
        Value::String(s) => ALLOCATION + s.capacity(),
        Value::List(l) => {
            ALLOCATION
                + l.capacity() * std::mem::size_of::<Value>()
                + l.iter().map(heap_size).sum::<usize>()
        }
        Value::Map(m) => m
            .iter()
            .map(|(k, v)| k.capacity() + 48 + std::mem::size_of::<Value>() + heap_size(v))
            .sum(),
        Value::Path(p) => 48 + (p.nodes.capacity() + p.rels.capacity()) * 8,
        Value::Temporal(_) => 64,
        _ => 0,
    }
}

/// Estimated bytes a value takes, inline and on the heap.
pub fn value_size(v: &Value) -> usize {
    std::mem::size_of::<Value>() + heap_size(v)
}

/// The allocator's own bytes per heap allocation (glibc: a 16-byte header, sizes rounded
/// up to 16), charged with every value or row that has one.
pub const ALLOCATION: usize = 16;

/// Estimated bytes of a row of values held in a collection: its `Vec` header where it is
/// stored, the allocation, and the values.
pub fn row_size(row: &[Value]) -> usize {
    24 + ALLOCATION + row.iter().map(value_size).sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_fails_past_the_limit_and_takes_nothing() {
        let b = MemoryBudget::new(1000);
        assert!(b.charge(600).is_ok());
        let e = b.charge(600).unwrap_err();
        assert_eq!(e.code, ErrorCode::MemoryLimitExceeded);
        assert_eq!(e.info().neptune, "MemoryLimitExceededException");
        assert_eq!(b.used(), 600);
        b.release(600);
        assert_eq!(b.used(), 0);
        assert_eq!(b.peak(), 600);
    }

    #[test]
    fn reservations_give_back_on_drop() {
        let b = MemoryBudget::new(1000);
        {
            let mut r = Reservation::new(&b);
            r.grow(300).unwrap();
            r.resize(500).unwrap();
            assert_eq!(b.used(), 500);
            r.resize(100).unwrap();
            assert_eq!(b.used(), 100);
            assert!(r.grow(2000).is_err());
            assert_eq!(b.used(), 100);
        }
        assert_eq!(b.used(), 0);
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
