//! Streaming over one file: bytes (optionally gzip) → CSV rows (RFC 4180, via the `csv`
//! crate) → UTF-8 fields → [`Record`]s, one at a time.
//!
//! ```text
//!  File ─(GzDecoder if *.gz)─► csv::Reader ─ header row ─► Header::parse
//!                                   └─ each row: ByteRecord ─ UTF-8 ─► record::build ─► Result<Record, RecordError>
//! ```
//!
//! The reader keeps one row buffer, so memory is constant per record whatever the file's
//! size. A bad row is reported as a [`RecordError`] and reading goes on with the next one;
//! only an I/O or gzip error ([`ErrorKind::Io`]) ends the file.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use flate2::read::GzDecoder;

use crate::format::{FileKind, Format, Header, HeaderError};
use crate::record::{build_into, ErrorKind, Names, Record, RecordError};

/// A file could not be opened as a load file.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot read the file: {0}")]
    Io(#[from] io::Error),
    #[error("invalid header: {0}")]
    Header(#[from] HeaderError),
}

/// The records of one CSV file, in file order.
pub struct FileReader<R: Read = Box<dyn Read + Send>> {
    csv: csv::Reader<R>,
    header: Header,
    row: csv::ByteRecord,
    names: Names,
    /// Data records read so far (the header is not one).
    records: u64,
    done: bool,
}

impl FileReader {
    /// Opens `path`, decompressing it when its name ends in `.gz` (any case), and reads its
    /// header.
    pub fn open(path: &Path, format: Format) -> Result<FileReader, OpenError> {
        FileReader::new(open_bytes(path)?, format)
    }
}

/// `path`'s bytes, through a gzip decoder when the name ends in `.gz`.
fn open_bytes(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    let file = BufReader::new(File::open(path)?);
    let gz = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    Ok(if gz {
        Box::new(GzDecoder::new(file))
    } else {
        Box::new(file)
    })
}

impl<R: Read> FileReader<R> {
    /// Reads the header row from `input`; the records follow through [`Iterator::next`].
    pub fn new(input: R, format: Format) -> Result<FileReader<R>, OpenError> {
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(input);
        let mut row = csv::ByteRecord::new();
        let header = match csv.read_byte_record(&mut row) {
            Ok(true) => parse_header(format, &row)?,
            Ok(false) => return Err(HeaderError::new("the file is empty: no header row").into()),
            Err(e) => return Err(csv_io_error(e).into()),
        };
        Ok(FileReader {
            csv,
            header,
            row,
            names: Names::default(),
            records: 0,
            done: false,
        })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn kind(&self) -> FileKind {
        self.header.kind
    }

    /// The number of data records read so far, good or bad.
    pub fn records_read(&self) -> u64 {
        self.records
    }
}

impl<R: Read> Iterator for FileReader<R> {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut slot = Err(RecordError::new(0, ErrorKind::Parsing, String::new()));
        self.next_into(&mut slot).then_some(slot)
    }
}

impl<R: Read> FileReader<R> {
    /// The next record into `slot`, reusing the buffers of the record it held; `false` at
    /// the end of the file (`slot` is then unchanged).
    pub fn next_into(&mut self, slot: &mut Result<Record, RecordError>) -> bool {
        if self.done {
            return false;
        }
        match self.csv.read_byte_record(&mut self.row) {
            Ok(false) => {
                self.done = true;
                false
            }
            Err(e) => {
                self.done = true;
                *slot = Err(RecordError::new(
                    self.records + 1,
                    ErrorKind::Io,
                    format!("cannot read the file on: {}", csv_io_error(e)),
                ));
                true
            }
            Ok(true) => {
                self.records += 1;
                self.current(slot);
                true
            }
        }
    }

    fn current(&mut self, slot: &mut Result<Record, RecordError>) {
        let n = self.records;
        let line = self.row.position().map_or(0, |p| p.line());
        // The fields as text, on the stack for rows of up to `INLINE_FIELDS` (an allocation
        // per record otherwise).
        const INLINE_FIELDS: usize = 16;
        let mut inline = [""; INLINE_FIELDS];
        let mut heap = Vec::new();
        let fields: &mut [&str] = if self.row.len() <= INLINE_FIELDS {
            &mut inline[..self.row.len()]
        } else {
            heap.resize(self.row.len(), "");
            &mut heap
        };
        for (i, bytes) in self.row.iter().enumerate() {
            match std::str::from_utf8(bytes) {
                Ok(s) => fields[i] = s,
                Err(e) => {
                    let column = self
                        .header
                        .columns
                        .get(i)
                        .map_or_else(|| format!("#{}", i + 1), |c| format!("'{}'", c.text));
                    *slot = Err(RecordError::new(
                        n,
                        ErrorKind::Parsing,
                        format!(
                            "line {line}: field {} (column {column}) is not valid UTF-8 (invalid byte at offset {}); load files must be UTF-8",
                            i + 1,
                            e.valid_up_to()
                        ),
                    ));
                    return;
                }
            }
        }
        build_into(&self.header, fields, n, &mut self.names, slot);
        if let Err(e) = slot {
            e.message = format!("line {line}: {}", e.message);
        }
    }
}

fn parse_header(format: Format, row: &csv::ByteRecord) -> Result<Header, HeaderError> {
    let mut cells = Vec::with_capacity(row.len());
    for (i, bytes) in row.iter().enumerate() {
        // A UTF-8 byte-order mark is not part of the first column's name.
        let bytes = if i == 0 {
            bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
        } else {
            bytes
        };
        let cell = std::str::from_utf8(bytes).map_err(|_| {
            HeaderError::new(format!(
                "header column {} is not valid UTF-8; load files must be UTF-8",
                i + 1
            ))
        })?;
        cells.push(cell);
    }
    Header::parse(format, &cells)
}

/// With byte records and flexible rows, the `csv` crate fails only on I/O.
fn csv_io_error(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Reads only `path`'s header and says whether it is a node or a relationship file, so
/// a job can load every node file before any relationship file.
pub fn classify(path: &Path, format: Format) -> Result<FileKind, OpenError> {
    Ok(FileReader::open(path, format)?.kind())
}
