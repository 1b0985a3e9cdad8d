//! Neptune's bulk-load file formats, read: openCypher CSV (`format: "opencypher"`) and
//! Gremlin CSV (`format: "csv"`), from plain or gzip files, into typed node and
//! relationship records.
//!
//! ```text
//!  source path ── source::list_files ─► [files] ── reader::classify ─► node files first
//!  file ── FileReader::open ─► format::Header ─► Iterator<Item = Result<Record, RecordError>>
//!                                                   record::build per row
//! ```
//!
//! Parsing only: this crate knows no engine, store or HTTP. The load job (queue, status,
//! error logs, ingestion) is built on top of it and counts [`ErrorKind::Parsing`] and
//! [`ErrorKind::DatatypeMismatch`] as Neptune's `parsingErrors` and
//! `datatypeMismatchErrors`.

pub mod format;
pub mod reader;
pub mod record;
pub mod source;

pub use format::{
    Cardinality, Column, ColumnKind, DataType, FileKind, Format, Header, HeaderError,
    PropertyColumn,
};
pub use reader::{classify, FileReader, OpenError};
pub use record::{ErrorKind, NodeRecord, Record, RecordError, RelRecord};
pub use source::list_files;
