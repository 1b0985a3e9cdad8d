//! Variable scopes: which names are visible at one point of a query, the [`Var`] each
//! stands for, and what is statically known of its type.

use nereid_common::{Error, ErrorCode};
use nereid_cypher::ast::Span;

use super::types::StaticKind;
use crate::plan::{Var, VarKind};

/// What the binder knows statically about a variable.
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
    Typed(StaticKind),
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

    /// What a plan-level kind tells the binder.
    pub fn of_var_kind(kind: VarKind) -> Kind {
        match kind {
            VarKind::Node => Kind::Node,
            VarKind::Relationship => Kind::Relationship,
            VarKind::RelationshipList => Kind::RelationshipList,
            VarKind::Path => Kind::Path,
            VarKind::Value => Kind::Value,
        }
    }

    /// The plan-level kind.
    pub fn var_kind(self) -> VarKind {
        match self {
            Kind::Node => VarKind::Node,
            Kind::Relationship => VarKind::Relationship,
            Kind::RelationshipList => VarKind::RelationshipList,
            Kind::Path => VarKind::Path,
            Kind::Value | Kind::Typed(_) => VarKind::Value,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ScopeVar {
    pub name: String,
    pub var: Var,
    pub kind: Kind,
}

/// The variables in scope, in the order they were introduced.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub vars: Vec<ScopeVar>,
}

impl Scope {
    pub fn get(&self, name: &str) -> Option<&ScopeVar> {
        self.vars.iter().rev().find(|v| v.name == name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn add(&mut self, name: &str, var: Var, kind: Kind) {
        self.vars.retain(|v| v.name != name);
        self.vars.push(ScopeVar {
            name: name.to_owned(),
            var,
            kind,
        });
    }

    pub fn vars(&self) -> impl Iterator<Item = Var> + '_ {
        self.vars.iter().map(|v| v.var)
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
