//! The two CSV formats and their header rows: which column is which, and the property
//! columns' data types.
//!
//! A header is parsed once per file into a [`Header`]: one [`Column`] per header cell, each
//! with a role ([`ColumnKind`]), and the file's [`FileKind`] (nodes or relationships). Both
//! formats map onto the same roles, so `record` builds records the same way for either:
//!
//! | role | openCypher | Gremlin CSV |
//! |---|---|---|
//! | [`ColumnKind::Id`] | `:ID`, `:ID(space)`, `name:ID`, `name:ID(space)` | `~id` |
//! | [`ColumnKind::Label`] | `:LABEL` (node files) | `~label` (vertex files) |
//! | [`ColumnKind::Type`] | `:TYPE` | `~label` (edge files) |
//! | [`ColumnKind::StartId`] | `:START_ID`, `:START_ID(space)` | `~from` |
//! | [`ColumnKind::EndId`] | `:END_ID`, `:END_ID(space)` | `~to` |
//! | [`ColumnKind::Property`] | `name`, `name:Type`, `name:Type[]` | `name`, `name:Type`, `name:Type(single)`, `name:Type(set)`, `name:Type[]` |
//!
//! System column names are case-sensitive and may appear at most once; type names are
//! case-insensitive. `\:` in a property name is a literal colon. Header names may not
//! contain whitespace (Neptune forbids spaces, CR and LF in them).

use std::fmt;
use std::sync::Arc;

/// A bulk-load format, as named by the load request's `format` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `format: "opencypher"`.
    OpenCypher,
    /// `format: "csv"`: Neptune's Gremlin CSV.
    GremlinCsv,
}

impl Format {
    /// The format for a load request's `format` value (`opencypher` or `csv`,
    /// case-insensitive); `None` for the RDF formats and anything else.
    pub fn from_request_name(name: &str) -> Option<Format> {
        if name.eq_ignore_ascii_case("opencypher") {
            Some(Format::OpenCypher)
        } else if name.eq_ignore_ascii_case("csv") {
            Some(Format::GremlinCsv)
        } else {
            None
        }
    }
}

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// Nodes (Gremlin: vertices).
    Node,
    /// Relationships (Gremlin: edges).
    Relationship,
}

/// A property column's data type. Type names are case-insensitive in headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    Bool,
    Byte,
    Short,
    Int,
    Long,
    Float,
    Double,
    String,
    /// `DateTime` (openCypher) and `Date` (Gremlin CSV; also accepted in openCypher files):
    /// parsed as `datetime('…')` parses its argument.
    DateTime,
}

impl DataType {
    /// The type for a header's type name: Bool/Boolean, Byte, Short, Int, Long, Float, Double,
    /// String, DateTime, Date, in any case.
    pub fn from_name(name: &str) -> Option<DataType> {
        let lower = name.to_ascii_lowercase();
        Some(match lower.as_str() {
            "bool" | "boolean" => DataType::Bool,
            "byte" => DataType::Byte,
            "short" => DataType::Short,
            "int" => DataType::Int,
            "long" => DataType::Long,
            "float" => DataType::Float,
            "double" => DataType::Double,
            "string" => DataType::String,
            "datetime" | "date" => DataType::DateTime,
            _ => return None,
        })
    }

    /// The name used in error messages.
    pub fn name(self) -> &'static str {
        match self {
            DataType::Bool => "Bool",
            DataType::Byte => "Byte",
            DataType::Short => "Short",
            DataType::Int => "Int",
            DataType::Long => "Long",
            DataType::Float => "Float",
            DataType::Double => "Double",
            DataType::String => "String",
            DataType::DateTime => "DateTime",
        }
    }
}

/// How many values a property may hold per element (Gremlin CSV's `(single)`/`(set)`).
///
/// openCypher columns are `Single`, and `Set` when they are arrays (`Type[]`). Gremlin vertex
/// columns default to `Set`, as Neptune's do; edge columns are always `Single`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cardinality {
    Single,
    Set,
}

/// A property column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyColumn {
    /// The property name, with `\:` unescaped. Shared: every record of the file names its
    /// properties with a clone of this (no allocation per record).
    pub name: Arc<str>,
    pub data_type: DataType,
    /// `Type[]`: the field is a `;`-separated list (`\;` escapes a semicolon).
    pub array: bool,
    pub cardinality: Cardinality,
}

/// The role of one header cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnKind {
    /// The element's id. `space` is the id space of `:ID(space)`; `property` is `name` for
    /// `name:ID`, whose value is also stored as a string property.
    Id {
        space: Option<String>,
        property: Option<Arc<str>>,
    },
    /// Node labels, `;`-separated.
    Label,
    /// The relationship type.
    Type,
    StartId {
        space: Option<String>,
    },
    EndId {
        space: Option<String>,
    },
    Property(PropertyColumn),
}

/// One header cell: its text as written and its role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub text: String,
    pub kind: ColumnKind,
}

/// A parsed header row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub format: Format,
    pub kind: FileKind,
    /// One per header cell, in file order; a record has exactly this many fields.
    pub columns: Vec<Column>,
}

/// A header row that cannot be loaded; the message says which column and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct HeaderError {
    pub message: String,
}

impl HeaderError {
    pub fn new(message: impl Into<String>) -> HeaderError {
        HeaderError {
            message: message.into(),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::OpenCypher => "opencypher",
            Format::GremlinCsv => "csv",
        })
    }
}

impl Header {
    /// Parses a header row's cells (already split by the CSV reader).
    pub fn parse<S: AsRef<str>>(format: Format, cells: &[S]) -> Result<Header, HeaderError> {
        if cells.is_empty() || (cells.len() == 1 && cells[0].as_ref().is_empty()) {
            return Err(HeaderError::new("the header row is empty"));
        }
        let mut columns = Vec::with_capacity(cells.len());
        for cell in cells {
            let text = cell.as_ref();
            if text.is_empty() {
                return Err(HeaderError::new(format!(
                    "column {} of the header is empty; every column needs a name",
                    columns.len() + 1
                )));
            }
            if let Some(c) = text.chars().find(|c| c.is_whitespace()) {
                return Err(HeaderError::new(format!(
                    "column '{text}' contains whitespace ({c:?}); header names may not contain spaces, CR or LF"
                )));
            }
            let kind = match format {
                Format::OpenCypher => parse_opencypher_cell(text)?,
                Format::GremlinCsv => parse_gremlin_cell(text)?,
            };
            columns.push(Column {
                text: text.to_string(),
                kind,
            });
        }
        let kind = match format {
            Format::OpenCypher => opencypher_file_kind(&columns)?,
            Format::GremlinCsv => gremlin_file_kind(&columns)?,
        };
        check_columns(format, kind, &mut columns)?;
        Ok(Header {
            format,
            kind,
            columns,
        })
    }
}

/// Splits `text` at its last colon not escaped as `\:`: `(name, Some(type))`, or
/// `(text, None)` without one. The name is returned unescaped.
fn split_name_type(text: &str) -> (String, Option<&str>) {
    let bytes = text.as_bytes();
    let mut split = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if bytes.get(i + 1) == Some(&b':') => i += 2,
            b':' => {
                split = Some(i);
                i += 1;
            }
            _ => i += 1,
        }
    }
    match split {
        Some(at) => (text[..at].replace("\\:", ":"), Some(&text[at + 1..])),
        None => (text.replace("\\:", ":"), None),
    }
}

/// `ID(movies)` → `("ID", Some("movies"))`; `ID` → `("ID", None)`.
fn split_space<'a>(text: &'a str, column: &str) -> Result<(&'a str, Option<&'a str>), HeaderError> {
    match text.find('(') {
        None => Ok((text, None)),
        Some(open) => {
            let inner = text[open + 1..].strip_suffix(')').ok_or_else(|| {
                HeaderError::new(format!(
                    "column '{column}': unbalanced parenthesis; expected e.g. ':ID(space)'"
                ))
            })?;
            if inner.is_empty() || inner.contains(['(', ')']) {
                return Err(HeaderError::new(format!(
                    "column '{column}': the id space in parentheses must be a non-empty name"
                )));
            }
            Ok((&text[..open], Some(inner)))
        }
    }
}

fn parse_opencypher_cell(text: &str) -> Result<ColumnKind, HeaderError> {
    let (name, ty) = split_name_type(text);
    let Some(ty) = ty else {
        return Ok(string_property(name));
    };
    if name.is_empty() {
        // A system column: `:ID`, `:LABEL`, `:START_ID(space)`, …
        let (base, space) = split_space(ty, text)?;
        let space = space.map(str::to_string);
        return match base {
            "ID" => Ok(ColumnKind::Id {
                space,
                property: None,
            }),
            "START_ID" => Ok(ColumnKind::StartId { space }),
            "END_ID" => Ok(ColumnKind::EndId { space }),
            "LABEL" | "TYPE" if space.is_some() => Err(HeaderError::new(format!(
                "column '{text}': only :ID, :START_ID and :END_ID take an id space"
            ))),
            "LABEL" => Ok(ColumnKind::Label),
            "TYPE" => Ok(ColumnKind::Type),
            _ => Err(HeaderError::new(format!(
                "unknown system column '{text}'; system columns are :ID, :LABEL, :START_ID, :END_ID and :TYPE (case-sensitive)"
            ))),
        };
    }
    let (base, space) = split_space(ty, text)?;
    if base == "ID" {
        return Ok(ColumnKind::Id {
            space: space.map(str::to_string),
            property: Some(name.into()),
        });
    }
    if space.is_some() {
        return Err(HeaderError::new(format!(
            "column '{text}': parentheses after a type are not part of the openCypher format (only name:ID(space))"
        )));
    }
    let (type_name, array) = match ty.strip_suffix("[]") {
        Some(t) => (t, true),
        None => (ty, false),
    };
    let data_type = data_type(type_name, text)?;
    Ok(ColumnKind::Property(PropertyColumn {
        name: name.into(),
        data_type,
        array,
        cardinality: if array {
            Cardinality::Set
        } else {
            Cardinality::Single
        },
    }))
}

fn parse_gremlin_cell(text: &str) -> Result<ColumnKind, HeaderError> {
    match text {
        "~id" => {
            return Ok(ColumnKind::Id {
                space: None,
                property: None,
            })
        }
        "~label" => return Ok(ColumnKind::Label),
        "~from" => return Ok(ColumnKind::StartId { space: None }),
        "~to" => return Ok(ColumnKind::EndId { space: None }),
        _ if text.starts_with('~') => {
            return Err(HeaderError::new(format!(
                "unknown system column '{text}'; system columns are ~id, ~label, ~from and ~to (case-sensitive)"
            )))
        }
        _ => {}
    }
    let (name, ty) = split_name_type(text);
    let Some(ty) = ty else {
        return Ok(ColumnKind::Property(PropertyColumn {
            name: name.into(),
            data_type: DataType::String,
            array: false,
            cardinality: Cardinality::Set,
        }));
    };
    if name.is_empty() {
        return Err(HeaderError::new(format!(
            "column '{text}' has a type but no property name"
        )));
    }
    // `Type`, `Type[]`, `Type(single)`, `Type(set)`, `Type(set)[]`.
    let (rest, array) = match ty.strip_suffix("[]") {
        Some(t) => (t, true),
        None => (ty, false),
    };
    let (type_name, cardinality) = match rest.find('(') {
        None => (rest, None),
        Some(open) => {
            let card = rest[open + 1..].strip_suffix(')').ok_or_else(|| {
                HeaderError::new(format!(
                    "column '{text}': unbalanced parenthesis; expected name:Type(single) or name:Type(set)"
                ))
            })?;
            let card = if card.eq_ignore_ascii_case("single") {
                Cardinality::Single
            } else if card.eq_ignore_ascii_case("set") {
                Cardinality::Set
            } else {
                return Err(HeaderError::new(format!(
                    "column '{text}': unknown cardinality '{card}'; expected single or set"
                )));
            };
            (&rest[..open], Some(card))
        }
    };
    let data_type = data_type(type_name, text)?;
    if array && cardinality == Some(Cardinality::Single) {
        return Err(HeaderError::new(format!(
            "column '{text}': an array column holds several values, so it cannot have single cardinality"
        )));
    }
    Ok(ColumnKind::Property(PropertyColumn {
        name: name.into(),
        data_type,
        array,
        cardinality: cardinality.unwrap_or(Cardinality::Set),
    }))
}

fn string_property(name: String) -> ColumnKind {
    ColumnKind::Property(PropertyColumn {
        name: name.into(),
        data_type: DataType::String,
        array: false,
        cardinality: Cardinality::Single,
    })
}

fn data_type(name: &str, column: &str) -> Result<DataType, HeaderError> {
    DataType::from_name(name).ok_or_else(|| {
        HeaderError::new(format!(
            "unknown type '{name}' in column '{column}'; types are Bool, Boolean, Byte, Short, Int, Long, Float, Double, String, DateTime and Date"
        ))
    })
}

fn has(columns: &[Column], pred: impl Fn(&ColumnKind) -> bool) -> bool {
    columns.iter().any(|c| pred(&c.kind))
}

fn opencypher_file_kind(columns: &[Column]) -> Result<FileKind, HeaderError> {
    let start = has(columns, |k| matches!(k, ColumnKind::StartId { .. }));
    let end = has(columns, |k| matches!(k, ColumnKind::EndId { .. }));
    let ty = has(columns, |k| matches!(k, ColumnKind::Type));
    let id = has(columns, |k| matches!(k, ColumnKind::Id { .. }));
    if start || end || ty {
        let missing: Vec<&str> = [(start, ":START_ID"), (end, ":END_ID"), (ty, ":TYPE")]
            .iter()
            .filter(|(present, _)| !present)
            .map(|(_, name)| *name)
            .collect();
        if !missing.is_empty() {
            let present: Vec<&str> = [(start, ":START_ID"), (end, ":END_ID"), (ty, ":TYPE")]
                .iter()
                .filter(|(present, _)| *present)
                .map(|(_, name)| *name)
                .collect();
            return Err(HeaderError::new(format!(
                "relationship file has {} but no {}",
                present.join(" and "),
                missing.join(" or ")
            )));
        }
        return Ok(FileKind::Relationship);
    }
    if id {
        return Ok(FileKind::Node);
    }
    Err(HeaderError::new(
        "header has no :ID column (node file) and no :START_ID, :END_ID and :TYPE columns (relationship file)",
    ))
}

fn gremlin_file_kind(columns: &[Column]) -> Result<FileKind, HeaderError> {
    let from = has(columns, |k| matches!(k, ColumnKind::StartId { .. }));
    let to = has(columns, |k| matches!(k, ColumnKind::EndId { .. }));
    let id = has(columns, |k| matches!(k, ColumnKind::Id { .. }));
    match (from, to) {
        (true, false) => Err(HeaderError::new("edge file has ~from but no ~to")),
        (false, true) => Err(HeaderError::new("edge file has ~to but no ~from")),
        (true, true) if !id => Err(HeaderError::new(
            "edge file has ~from and ~to but no ~id; Neptune requires an id for every edge",
        )),
        (true, true) => Ok(FileKind::Relationship),
        (false, false) if !id => Err(HeaderError::new(
            "vertex file has no ~id column; Neptune requires an id for every vertex (edge files have ~from and ~to)",
        )),
        (false, false) => Ok(FileKind::Node),
    }
}

/// Per-file rules that need the file kind: each system column at most once, no duplicate
/// property names, no node-only columns in relationship files (and the reverse), and
/// relationship properties single-valued. Fixes the default cardinality of Gremlin edge
/// columns to `Single`.
fn check_columns(
    format: Format,
    kind: FileKind,
    columns: &mut [Column],
) -> Result<(), HeaderError> {
    let mut seen: Vec<(&'static str, &str)> = Vec::new();
    let mut properties: Vec<&str> = Vec::new();
    for column in columns.iter() {
        let role = match (&column.kind, format, kind) {
            (ColumnKind::Id { .. }, _, _) => "id",
            (ColumnKind::Label, Format::OpenCypher, FileKind::Relationship) => {
                return Err(HeaderError::new(
                    "relationship file has a :LABEL column; relationships have a :TYPE, labels belong to node files",
                ))
            }
            (ColumnKind::Label | ColumnKind::Type, _, _) => "label",
            (ColumnKind::StartId { .. }, _, _) => "start",
            (ColumnKind::EndId { .. }, _, _) => "end",
            (ColumnKind::Property(p), _, _) => {
                if properties.contains(&&*p.name) {
                    return Err(HeaderError::new(format!(
                        "property '{}' has more than one column (second: '{}')",
                        p.name, column.text
                    )));
                }
                properties.push(&p.name);
                if kind == FileKind::Relationship && p.array {
                    return Err(HeaderError::new(format!(
                        "column '{}': relationship properties must be single-valued, so array types are not allowed in a {} file",
                        column.text,
                        if format == Format::OpenCypher { "relationship" } else { "edge" }
                    )));
                }
                if kind == FileKind::Relationship
                    && format == Format::GremlinCsv
                    && column.text.to_ascii_lowercase().ends_with("(set)")
                {
                    return Err(HeaderError::new(format!(
                        "column '{}': edge properties always have single cardinality",
                        column.text
                    )));
                }
                continue;
            }
        };
        if let Some((_, first)) = seen.iter().find(|(r, _)| *r == role) {
            return Err(HeaderError::new(format!(
                "columns '{first}' and '{}' both give the {}; each system column may appear only once",
                column.text,
                match role {
                    "id" => "id",
                    "label" if kind == FileKind::Node => "labels",
                    "label" => "type",
                    "start" => "start node",
                    _ => "end node",
                }
            )));
        }
        seen.push((role, &column.text));
    }
    // Id-as-property (`name:ID`) must not clash with a property column of the same name.
    for column in columns.iter() {
        if let ColumnKind::Id {
            property: Some(name),
            ..
        } = &column.kind
        {
            if kind == FileKind::Relationship {
                return Err(HeaderError::new(format!(
                    "column '{}': name:ID stores a node id as a property; relationship files take :ID only",
                    column.text
                )));
            }
            if properties.contains(&&**name) {
                return Err(HeaderError::new(format!(
                    "property '{name}' is both the id column '{}' and a property column",
                    column.text
                )));
            }
        }
    }
    if kind == FileKind::Relationship {
        for column in columns.iter_mut() {
            match &mut column.kind {
                ColumnKind::Property(p) => p.cardinality = Cardinality::Single,
                // A Gremlin edge's `~label` is its type.
                k @ ColumnKind::Label => *k = ColumnKind::Type,
                _ => {}
            }
        }
    }
    Ok(())
}
