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
//! On top of the readers, [`job`] is Neptune's `/loader` service ([`Loader`]: start, status,
//! list, cancel; queue, dependencies, job records under the data directory) and [`ingest`]
//! loads one file into the store in batches of write transactions. It counts
//! [`ErrorKind::Parsing`] and [`ErrorKind::DatatypeMismatch`] as Neptune's `parsingErrors`
//! and `datatypeMismatchErrors`, relationships with a missing end as `insertErrors`, and
//! taken ids as `totalDuplicates`. The HTTP routes are in `nereid-http`.

pub mod format;
pub mod ingest;
pub mod job;
mod merge;
pub mod reader;
pub mod record;
pub mod s3;
pub mod source;

pub use format::{
    Cardinality, Column, ColumnKind, DataType, FileKind, Format, Header, HeaderError,
    PropertyColumn,
};
pub use ingest::{Counts, ErrorLog};
pub use job::{JobRecord, Loader, LoaderConfig, Mode, Parallelism, StartRequest, Target};
pub use nereid_storage::Store;
pub use reader::{classify, FileReader, OpenError};
pub use record::{ErrorKind, NodeRecord, Record, RecordError, RelRecord};
pub use source::list_files;
