//! What protocol layers can do to a database besides running queries: the summary, the
//! statistics life cycle and fast reset (Neptune's GetPropertygraphSummary,
//! Get/Manage/DeletePropertygraphStatistics and ExecuteFastReset).
//!
//! The HTTP layer is generic over [`crate::manager::QueryRunner`] (its tests drive the
//! query life cycle with a scripted runner); a runner offers these operations through
//! [`crate::manager::QueryRunner::admin`], which [`crate::Database`] answers with itself.

use nereid_common::Error;
pub use nereid_storage::IoStats;

use crate::statistics::{StatisticsMode, StatisticsStatus, SummaryReport};

/// Database-wide operations (see the module docs).
pub trait Admin: Send + Sync {
    /// GetPropertygraphSummary.
    fn summary(&self) -> Result<SummaryReport, Error>;
    /// GetPropertygraphStatistics.
    fn statistics_status(&self) -> StatisticsStatus;
    /// ManagePropertygraphStatistics; `refresh` returns the new statistics id.
    fn manage_statistics(&self, mode: StatisticsMode) -> Result<Option<i64>, Error>;
    /// DeletePropertygraphStatistics; `false` when there was nothing to delete.
    fn delete_statistics(&self) -> Result<bool, Error>;
    /// Empties the database durably. Callers stop running queries first
    /// ([`crate::manager::QueryManager::fast_reset`] does).
    fn fast_reset(&self) -> Result<(), Error>;
    /// The openCypher dialect served.
    fn dialect(&self) -> crate::Dialect;
    /// Figures of the store's durable path (WAL, fsync, checkpoints); `None` in memory.
    fn io_stats(&self) -> Option<IoStats> {
        None
    }
}

impl Admin for crate::Database {
    fn io_stats(&self) -> Option<IoStats> {
        self.store().io_stats()
    }

    fn summary(&self) -> Result<SummaryReport, Error> {
        self.graph_summary()
    }

    fn statistics_status(&self) -> StatisticsStatus {
        crate::Database::statistics_status(self)
    }

    fn manage_statistics(&self, mode: StatisticsMode) -> Result<Option<i64>, Error> {
        crate::Database::manage_statistics(self, mode)
    }

    fn delete_statistics(&self) -> Result<bool, Error> {
        crate::Database::delete_statistics(self)
    }

    fn fast_reset(&self) -> Result<(), Error> {
        crate::Database::fast_reset(self)
    }

    fn dialect(&self) -> crate::Dialect {
        crate::Database::dialect(self)
    }
}
