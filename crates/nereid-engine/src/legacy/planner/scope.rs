//! Variable scopes and row slots.
//!
//! Every variable of the query (and every anonymous pattern element and comprehension
//! variable) gets its own slot in the row; a [`Scope`] maps the names visible at one point
//! of the query to their slots and static kinds.

use nereid_common::{Error, ErrorCode};
use nereid_cypher::ast::Span;

/// What the analyser knows statically about a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Node,
    Relationship,
    /// A variable-length relationship: a list of relationships.
    RelationshipList,
    Path,
    /// Anything else (or unknown).
    Value,
    /// A value whose type is known not to be a graph element (from a literal, say).
    Typed(super::expr::StaticKind),
}

impl Kind {
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Node => "Node",
            Kind::Relationship => "Relationship",
            Kind::RelationshipList => "List<Relationship>",
            Kind::Path => "Path",
            Kind::Value => "Any",
            Kind::Typed(_) => "a non-graph value",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Var {
    pub name: String,
    pub slot: usize,
    pub kind: Kind,
}

/// The variables in scope, in the order they were introduced.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub vars: Vec<Var>,
}

impl Scope {
    pub fn get(&self, name: &str) -> Option<&Var> {
        self.vars.iter().rev().find(|v| v.name == name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn add(&mut self, name: &str, slot: usize, kind: Kind) {
        self.vars.retain(|v| v.name != name);
        self.vars.push(Var {
            name: name.to_owned(),
            slot,
            kind,
        });
    }

    /// User-visible variables (hidden ones start with a space).
    pub fn visible(&self) -> impl Iterator<Item = &Var> {
        self.vars.iter().filter(|v| !v.name.starts_with(' '))
    }
}

/// Allocates slots for one query.
#[derive(Debug, Default)]
pub struct Slots {
    next: usize,
}

impl Slots {
    pub fn alloc(&mut self) -> usize {
        self.next += 1;
        self.next - 1
    }

    pub fn width(&self) -> usize {
        self.next
    }
}

/// Builds compile-time errors with the position of the offending text.
pub struct Errors<'a> {
    pub text: &'a str,
}

impl Errors<'_> {
    pub fn at(&self, code: ErrorCode, span: Span, message: impl Into<String>) -> Error {
        let (line, col) = line_col(self.text, span.start);
        Error::compile(
            code,
            format!(
                "{} (line {line}, column {col} (offset: {}))",
                message.into(),
                span.start
            ),
        )
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}
