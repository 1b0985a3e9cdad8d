//! Both cores for one big read: morsel-driven scans under a partial aggregation.
//!
//! An aggregation over a pipeline of streaming operators (scan, expansions, filters,
//! projections) that starts at a whole-graph node or relationship scan can run that
//! pipeline on several threads: each thread has its own copy of the operators, built from
//! the same logical plan, and the copies' scans take their ids from one shared
//! [`Morsels`] cursor, a range at a time, so every id is scanned exactly once. Each thread
//! aggregates what its copy produces; the query's thread then merges the groups (exactly:
//! only mergeable aggregates qualify, see `nereid_functions::mergeable`).
//!
//! It starts on the query's thread alone and takes a helper only once the scan has run for
//! [`help_after`] (4 ms) and is not done, so small queries never pay for a thread; and only while
//! fewer queries run than there are cores ([`Running`]) and a helper slot is free
//! ([`HelperSlot`]), so concurrent small queries keep their cores.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// Ids a scan claims at a time.
pub const MORSEL: u64 = 16 * 1024;

/// How long the query's thread scans alone before asking for a helper, by default.
pub const HELP_AFTER: Duration = Duration::from_millis(4);

static HELP_AFTER_US: AtomicU64 = AtomicU64::new(HELP_AFTER.as_micros() as u64);
static HELPERS_STARTED: AtomicU64 = AtomicU64::new(0);

/// How long the query's thread scans alone before asking for a helper.
pub fn help_after() -> Duration {
    Duration::from_micros(HELP_AFTER_US.load(Ordering::Relaxed))
}

/// Changes [`help_after`] for the whole process: tests set zero so that small graphs take
/// the parallel path too.
pub fn set_help_after(after: Duration) {
    HELP_AFTER_US.store(after.as_micros() as u64, Ordering::Relaxed);
}

/// Helper threads started since the process began (tests check the path was taken).
pub fn helpers_started() -> u64 {
    HELPERS_STARTED.load(Ordering::Relaxed)
}

/// The next unclaimed id of a scan shared by several copies of one pipeline.
#[derive(Debug, Default)]
pub struct Morsels {
    next: AtomicU64,
}

impl Morsels {
    /// Claims the next range of ids: `start..start + MORSEL`.
    pub fn claim(&self) -> u64 {
        self.next.fetch_add(MORSEL, Ordering::Relaxed)
    }

    /// Ends the scan for every copy (a copy failed: the others stop at their next claim).
    pub fn finish(&self) {
        self.next.store(u64::MAX / 2, Ordering::Relaxed);
    }
}

fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

static RUNNING: AtomicUsize = AtomicUsize::new(0);
static HELPERS: AtomicUsize = AtomicUsize::new(0);

/// Counts a running query for as long as it lives.
pub struct Running(());

impl Running {
    pub fn start() -> Self {
        RUNNING.fetch_add(1, Ordering::Relaxed);
        Running(())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One helper thread's permission to run, held while it runs.
pub struct HelperSlot(());

impl HelperSlot {
    /// A slot when fewer queries run than there are cores and fewer helpers than spare
    /// cores are out.
    pub fn try_take() -> Option<Self> {
        let cores = cores();
        if cores < 2 || RUNNING.load(Ordering::Relaxed) >= cores {
            return None;
        }
        HELPERS
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |h| {
                (h + 1 < cores).then_some(h + 1)
            })
            .ok()
            .map(|_| {
                HELPERS_STARTED.fetch_add(1, Ordering::Relaxed);
                HelperSlot(())
            })
    }
}

impl Drop for HelperSlot {
    fn drop(&mut self) {
        HELPERS.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_disjoint_and_finish_ends_them() {
        let m = Morsels::default();
        assert_eq!(m.claim(), 0);
        assert_eq!(m.claim(), MORSEL);
        m.finish();
        assert!(m.claim() >= u64::MAX / 2);
    }
}
