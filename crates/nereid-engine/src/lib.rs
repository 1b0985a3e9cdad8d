//! The nereid query engine: semantic analysis, planning, execution, transactions and the
//! query manager.
//!
//! ```text
//! text ─► nereid_cypher::parse ─► analyze ─► plan ─► exec (operators) ─► QueryResult
//!                                                     │
//!                                   nereid_storage (snapshot / write transaction)
//! ```
//!
//! [`Database`] is the entry point for every protocol; [`manager::QueryManager`] wraps it
//! with query ids, the waiting queue, the worker pool, status and cancellation.

pub mod manager;
mod result;

pub use result::{NodeData, QueryResult, RelData};

use nereid_common::{CancelToken, Error, ErrorCode, Map};

/// Where and how the database keeps its data.
#[derive(Debug, Clone, Default)]
pub struct DbConfig {
    /// `None` = in memory only.
    pub data_dir: Option<std::path::PathBuf>,
}

/// A test procedure defined by a table (what the TCK's `there exists a procedure` declares):
/// each row gives input values then output values; a call yields the output part of every
/// row whose inputs equal the arguments.
#[derive(Debug, Clone)]
pub struct TableProcedure {
    /// Qualified name, e.g. `test.my.proc`.
    pub name: String,
    /// Input names and declared types (`INTEGER?`, `STRING?`, `NUMBER?`, `FLOAT?`, …).
    pub inputs: Vec<(String, String)>,
    pub outputs: Vec<(String, String)>,
    pub rows: Vec<Vec<nereid_common::Value>>,
}

/// A parsed, analysed query, ready to run any number of times.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The query text as submitted.
    pub text: String,
    /// `USING QUERY:TIMEOUTMILLISECONDS n`, if given.
    pub timeout_ms: Option<u64>,
    /// Number of subqueries: UNION branches beyond the first plus `EXISTS { }` blocks
    /// (see `nereid_cypher::subquery_count`).
    pub subqueries: usize,
    /// Whether the query may write (CREATE, MERGE, SET, REMOVE, DELETE).
    pub writes: bool,
}

/// The database: storage plus everything needed to run a query.
pub struct Database {
    _config: DbConfig,
}

impl Database {
    /// Opens (or creates) the database described by `config`.
    pub fn open(config: DbConfig) -> Result<Database, Error> {
        Ok(Database { _config: config })
    }

    /// A fresh in-memory database.
    pub fn in_memory() -> Database {
        Database {
            _config: DbConfig::default(),
        }
    }

    /// Parses, plans and runs `query` in one transaction. A failure (error, cancel,
    /// timeout) leaves no trace in the graph.
    pub fn execute(
        &self,
        query: &str,
        params: &Map,
        cancel: &CancelToken,
    ) -> Result<QueryResult, Error> {
        let _ = (query, params, cancel);
        Err(Error::new(
            ErrorCode::UnsupportedOperation,
            "the query engine is being built",
        ))
    }

    /// Registers a procedure callable with `CALL`.
    pub fn register_procedure(&self, procedure: TableProcedure) {
        let _ = procedure;
    }
}
