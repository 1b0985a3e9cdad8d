//! Typed records: one CSV row, already split and decoded as UTF-8, checked against its
//! [`Header`] and turned into a [`NodeRecord`] or a [`RelRecord`].
//!
//! Field rules (both formats):
//!
//! * An empty field means the property is absent, never null (Neptune stores no nulls).
//! * `Type[]` fields are lists separated by `;`, where `\;` is a literal semicolon; empty
//!   elements are skipped, and a field with no element left is absent. Labels (`:LABEL`,
//!   `~label` of a vertex) split the same way.
//! * Byte, Short, Int and Long become [`Value::Int`] after a range check for `i8`, `i16`,
//!   `i32` and `i64`; Float and Double become [`Value::Float`] (as `f64`: Float is not
//!   rounded to 32 bits); Bool is `true` or `false` in any case. Numbers, booleans and dates
//!   may be surrounded by spaces; strings are taken as written.
//! * DateTime and Date are parsed by `nereid_temporal::parse::parse(Kind::DateTime, …)`, the
//!   function behind `datetime('…')`, so a loaded value equals the one the query returns.
//!   That covers every form Neptune documents (`yyyy-MM-dd`, `yyyy-MM-ddTHH:mm`,
//!   `yyyy-MM-ddTHH:mm:ss`, with `Z` or an offset such as `+01:00`), plus fractions of a
//!   second, basic forms (`20150721T2140`), week, ordinal and quarter dates and bracketed zone
//!   names (`…[Europe/Stockholm]`). A value without an offset is in UTC.
//!
//! A field that is not valid for its column is a [`ErrorKind::DatatypeMismatch`]; a row that
//! cannot be a record at all (wrong field count, invalid UTF-8, an empty id) is a
//! [`ErrorKind::Parsing`] error.

use std::sync::Arc;

use nereid_temporal::{parse::parse, Kind};
use nereid_value::Value;

use crate::format::{ColumnKind, DataType, FileKind, Format, Header, PropertyColumn};

/// A node (Gremlin: vertex) row.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRecord {
    pub id: String,
    /// The id space of `:ID(space)`; `None` for the default space (and for Gremlin CSV).
    pub id_space: Option<String>,
    /// In file order, duplicates kept. Gremlin vertices without a label get `vertex`.
    pub labels: Vec<String>,
    /// In column order; absent (empty) fields are left out. `name:ID` adds `name` here.
    /// Names are the header's (shared, see [`crate::PropertyColumn::name`]).
    pub props: Vec<(Arc<str>, Value)>,
}

/// A relationship (Gremlin: edge) row.
#[derive(Debug, Clone, PartialEq)]
pub struct RelRecord {
    /// The `:ID` (openCypher, optional) or `~id` (Gremlin, required) field.
    pub id: Option<String>,
    /// `:TYPE`, or a Gremlin edge's `~label` (`edge` when there is none). Consecutive
    /// records of one type share one string ([`Names`]).
    pub rel_type: Arc<str>,
    pub start: String,
    pub start_space: Option<String>,
    pub end: String,
    pub end_space: Option<String>,
    pub props: Vec<(Arc<str>, Value)>,
}

/// One data row of a file.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Node(NodeRecord),
    Rel(RelRecord),
}

/// Which of Neptune's error counters a bad record adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `parsingErrors`: the row is not a record (field count, UTF-8, a missing id).
    Parsing,
    /// `datatypeMismatchErrors`: a field does not fit its column's type.
    DatatypeMismatch,
    /// The file cannot be read on (I/O or gzip error). The reader yields this once and then
    /// ends; the job should fail the file rather than count a record error.
    Io,
}

/// A record that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {record_num}: {message}")]
pub struct RecordError {
    /// The data record's number, from 1; the header is not counted (as in Neptune's error
    /// logs). A record may span several lines when a quoted field holds a newline.
    pub record_num: u64,
    pub kind: ErrorKind,
    pub message: String,
}

impl RecordError {
    pub fn new(record_num: u64, kind: ErrorKind, message: impl Into<String>) -> RecordError {
        RecordError {
            record_num,
            kind,
            message: message.into(),
        }
    }
}

/// Strings that records of one file share rather than each allocating its own: the last
/// relationship type seen (files are usually written one type at a time).
#[derive(Debug, Default)]
pub struct Names {
    rel_type: Option<Arc<str>>,
}

impl Names {
    fn rel_type(&mut self, name: &str) -> Arc<str> {
        match &self.rel_type {
            Some(last) if **last == *name => Arc::clone(last),
            _ => {
                let t: Arc<str> = name.into();
                self.rel_type = Some(Arc::clone(&t));
                t
            }
        }
    }
}

/// Builds the record for one row whose fields are `fields` (one per header column).
pub fn build(header: &Header, fields: &[&str], record_num: u64) -> Result<Record, RecordError> {
    build_sharing(header, fields, record_num, &mut Names::default())
}

/// [`build`], sharing strings with earlier records of the file through `names`.
pub fn build_sharing(
    header: &Header,
    fields: &[&str],
    record_num: u64,
    names: &mut Names,
) -> Result<Record, RecordError> {
    let mut slot = Err(RecordError::new(0, ErrorKind::Parsing, String::new()));
    build_into(header, fields, record_num, names, &mut slot);
    slot
}

/// Buffers of the record a slot held, refilled instead of allocated again: a loader's
/// reading thread reuses its chunks' records, which saves an allocation and a free per
/// string per record (a fifth of that thread's time went to malloc and free).
#[derive(Default)]
struct Spare {
    id: String,
    labels: Vec<String>,
    start: String,
    end: String,
    props: Vec<(Arc<str>, Value)>,
}

impl Spare {
    fn take(slot: &mut Result<Record, RecordError>) -> Spare {
        let empty = Err(RecordError::new(0, ErrorKind::Parsing, String::new()));
        match std::mem::replace(slot, empty) {
            Ok(Record::Node(n)) => Spare {
                id: n.id,
                labels: n.labels,
                props: n.props,
                ..Spare::default()
            },
            Ok(Record::Rel(r)) => Spare {
                id: r.id.unwrap_or_default(),
                start: r.start,
                end: r.end,
                props: r.props,
                ..Spare::default()
            },
            Err(_) => Spare::default(),
        }
    }
}

/// Sets property `*kept` of `props` to `name` = `value` (over what the slot held), then
/// counts it. The name is only cloned when it differs: the header's names are shared with the
/// writing thread, whose cache line every clone and drop would touch.
fn put(props: &mut Vec<(Arc<str>, Value)>, kept: &mut usize, name: &Arc<str>, value: Value) {
    match props.get_mut(*kept) {
        Some((k, v)) => {
            if !Arc::ptr_eq(k, name) {
                *k = Arc::clone(name);
            }
            *v = value;
        }
        None => props.push((Arc::clone(name), value)),
    }
    *kept += 1;
}

/// [`put`] of the string `text`, refilling the string the slot held there if there was one:
/// the writing thread copies what it keeps (`ingest::keep`), so that the reading thread
/// allocates nothing per record in the steady state.
fn put_string(props: &mut Vec<(Arc<str>, Value)>, kept: &mut usize, name: &Arc<str>, text: &str) {
    if let Some((k, Value::String(s))) = props.get_mut(*kept) {
        if !Arc::ptr_eq(k, name) {
            *k = Arc::clone(name);
        }
        refill_in(s, text);
        *kept += 1;
        return;
    }
    let mut s = String::new();
    refill_in(&mut s, text);
    put(props, kept, name, Value::String(s));
}

/// `s` in `buf`, reusing its allocation.
fn refill(mut buf: String, s: &str) -> String {
    refill_in(&mut buf, s);
    buf
}

/// Bytes a slot's string has room for at least once it holds one: fields of most files
/// (names, titles, ids) then fit without the slot's string growing record after record.
const SLOT_STRING: usize = 64;

/// Makes `buf` hold `s`, growing it with room to spare.
fn refill_in(buf: &mut String, s: &str) {
    buf.clear();
    if buf.capacity() < s.len() {
        buf.reserve(s.len().max(SLOT_STRING / 2) * 2);
    }
    buf.push_str(s);
}

/// [`build_sharing`] into `slot`, reusing the buffers of the record it holds.
pub fn build_into(
    header: &Header,
    fields: &[&str],
    record_num: u64,
    names: &mut Names,
    slot: &mut Result<Record, RecordError>,
) {
    let spare = Spare::take(slot);
    *slot = build_reusing(header, fields, record_num, names, spare);
}

fn build_reusing(
    header: &Header,
    fields: &[&str],
    record_num: u64,
    names: &mut Names,
    spare: Spare,
) -> Result<Record, RecordError> {
    if fields.len() != header.columns.len() {
        return Err(RecordError::new(
            record_num,
            ErrorKind::Parsing,
            format!(
                "the record has {} field{} but the header has {} column{}",
                fields.len(),
                if fields.len() == 1 { "" } else { "s" },
                header.columns.len(),
                if header.columns.len() == 1 { "" } else { "s" },
            ),
        ));
    }
    let parsing = |message: String| RecordError::new(record_num, ErrorKind::Parsing, message);
    let mut id: Option<(&str, Option<&String>)> = None;
    let mut labels = spare.labels;
    let mut labels_set = false;
    let mut rel_type: Option<&str> = None;
    let mut start: Option<(&str, Option<&String>)> = None;
    let mut end: Option<(&str, Option<&String>)> = None;
    // The previous record's properties: their string buffers are refilled in place.
    let mut props = spare.props;
    let mut kept = 0;
    for (column, &field) in header.columns.iter().zip(fields) {
        match &column.kind {
            ColumnKind::Id { space, property } => {
                id = Some((field, space.as_ref()));
                if let (Some(name), false) = (property, field.is_empty()) {
                    put_string(&mut props, &mut kept, name, field);
                }
            }
            ColumnKind::Property(p) if p.data_type == DataType::String && !p.array => {
                if !field.is_empty() {
                    put_string(&mut props, &mut kept, &p.name, field);
                }
            }
            ColumnKind::Label => {
                split_list_into(field, &mut labels);
                labels_set = true;
            }
            ColumnKind::Type => rel_type = Some(field),
            ColumnKind::StartId { space } => start = Some((field, space.as_ref())),
            ColumnKind::EndId { space } => end = Some((field, space.as_ref())),
            ColumnKind::Property(p) => {
                if let Some(value) = property_value(p, field).map_err(|message| {
                    RecordError::new(
                        record_num,
                        ErrorKind::DatatypeMismatch,
                        format!("column '{}': {message}", column.text),
                    )
                })? {
                    put(&mut props, &mut kept, &p.name, value);
                }
            }
        }
    }
    props.truncate(kept);
    if !labels_set {
        labels.clear();
    }
    let column_name = |kind: &str| -> String {
        header
            .columns
            .iter()
            .find(|c| {
                matches!(
                    (&c.kind, kind),
                    (ColumnKind::Id { .. }, "id")
                        | (ColumnKind::StartId { .. }, "start")
                        | (ColumnKind::EndId { .. }, "end")
                        | (ColumnKind::Type, "type")
                )
            })
            .map(|c| c.text.clone())
            .unwrap_or_default()
    };
    match header.kind {
        FileKind::Node => {
            let (id, id_space) = match id {
                Some((id, space)) if !id.is_empty() => (id, space),
                _ => {
                    return Err(parsing(format!(
                        "the {} field is empty; every node needs an id",
                        column_name("id")
                    )))
                }
            };
            if labels.is_empty() && header.format == Format::GremlinCsv {
                labels.push("vertex".to_string());
            }
            Ok(Record::Node(NodeRecord {
                id: refill(spare.id, id),
                id_space: id_space.cloned(),
                labels,
                props,
            }))
        }
        FileKind::Relationship => {
            let id = match id {
                Some(("", _)) if header.format == Format::GremlinCsv => {
                    return Err(parsing(
                        "the ~id field is empty; every edge needs an id".to_string(),
                    ))
                }
                Some(("", _)) | None => None,
                Some((id, _)) => Some(refill(spare.id, id)),
            };
            let rel_type = match rel_type {
                Some(t) if !t.is_empty() => names.rel_type(t),
                _ if header.format == Format::GremlinCsv => names.rel_type("edge"),
                _ => {
                    return Err(parsing(
                        "the :TYPE field is empty; every relationship needs a type".to_string(),
                    ))
                }
            };
            let endpoint =
                |which: &str, value: Option<(&str, Option<&String>)>, buf: String| match value {
                    Some((v, space)) if !v.is_empty() => Ok((refill(buf, v), space.cloned())),
                    _ => Err(parsing(format!(
                        "the {} field is empty; every relationship needs a {which} node",
                        column_name(which)
                    ))),
                };
            let (start, start_space) = endpoint("start", start, spare.start)?;
            let (end, end_space) = endpoint("end", end, spare.end)?;
            Ok(Record::Rel(RelRecord {
                id,
                rel_type,
                start,
                start_space,
                end,
                end_space,
                props,
            }))
        }
    }
}

/// The value of one property field: `Ok(None)` when the field is empty (absent).
pub fn property_value(column: &PropertyColumn, field: &str) -> Result<Option<Value>, String> {
    if field.is_empty() {
        return Ok(None);
    }
    if !column.array {
        return scalar_value(column.data_type, field).map(Some);
    }
    let items = split_list(field);
    if items.is_empty() {
        return Ok(None);
    }
    items
        .iter()
        .map(|item| scalar_value(column.data_type, item))
        .collect::<Result<Vec<_>, _>>()
        .map(|values| Some(Value::List(values)))
}

/// Splits at `;` not escaped as `\;`, unescaping `\;`; other backslashes stay as written.
/// Empty items are dropped.
pub fn split_list(field: &str) -> Vec<String> {
    let mut items = Vec::new();
    split_list_into(field, &mut items);
    items
}

/// [`split_list`] into `items`, reusing its strings.
fn split_list_into(field: &str, items: &mut Vec<String>) {
    let mut n = 0;
    // The common case, one item without escapes or separators: refilled in place.
    if !field.is_empty() && !field.contains([';', '\\']) {
        match items.first_mut() {
            Some(first) => {
                first.clear();
                first.push_str(field);
            }
            None => items.push(field.to_string()),
        }
        items.truncate(1);
        return;
    }
    for item in split_list_owned(field) {
        match items.get_mut(n) {
            Some(slot) => *slot = item,
            None => items.push(item),
        }
        n += 1;
    }
    items.truncate(n);
}

fn split_list_owned(field: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut chars = field.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&';') => {
                current.push(';');
                chars.next();
            }
            ';' => {
                if !current.is_empty() {
                    items.push(std::mem::take(&mut current));
                }
            }
            _ => current.push(c),
        }
    }
    if !current.is_empty() {
        items.push(current);
    }
    items
}

/// One non-empty value of type `ty`; the error says what was wrong, without the column.
pub fn scalar_value(ty: DataType, text: &str) -> Result<Value, String> {
    let t = text.trim();
    let int = |min: i64, max: i64| -> Result<Value, String> {
        match t.parse::<i64>() {
            Ok(v) if (min..=max).contains(&v) => Ok(Value::Int(v)),
            Ok(_) => Err(out_of_range(text, ty, min, max)),
            Err(e)
                if matches!(
                    e.kind(),
                    std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow
                ) =>
            {
                Err(out_of_range(text, ty, min, max))
            }
            Err(_) => Err(format!("'{text}' is not an integer ({})", ty.name())),
        }
    };
    match ty {
        DataType::String => Ok(Value::String(text.to_string())),
        DataType::Bool => {
            if t.eq_ignore_ascii_case("true") {
                Ok(Value::Bool(true))
            } else if t.eq_ignore_ascii_case("false") {
                Ok(Value::Bool(false))
            } else {
                Err(format!("'{text}' is not a Bool (true or false)"))
            }
        }
        DataType::Byte => int(i8::MIN.into(), i8::MAX.into()),
        DataType::Short => int(i16::MIN.into(), i16::MAX.into()),
        DataType::Int => int(i32::MIN.into(), i32::MAX.into()),
        DataType::Long => int(i64::MIN, i64::MAX),
        DataType::Float | DataType::Double => t
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| format!("'{text}' is not a number ({})", ty.name())),
        DataType::DateTime => parse(Kind::DateTime, t)
            .map(|d| Value::Temporal(Box::new(d)))
            .map_err(|_| {
                format!(
                    "'{text}' is not a date or date-time; expected e.g. 2015-07-21, 2015-07-21T21:40, 2015-07-21T21:40:32Z or 2015-07-21T21:40:32+01:00"
                )
            }),
    }
}

fn out_of_range(text: &str, ty: DataType, min: i64, max: i64) -> String {
    format!(
        "'{text}' is out of range for {} ({min} to {max})",
        ty.name()
    )
}
