//! The binder's output: a statement whose names are resolved to [`Var`]s, whose expressions
//! are bound [`Expr`]s, and whose clauses passed every compile-time check. The planner turns
//! it into a logical plan; nothing here decides how the query runs.

use std::collections::BTreeSet;

use nereid_storage::Dir;

use crate::plan::{AggCall, CreatePart, Expr, SetItem, SortKey, Var, VarTable};

/// A bound statement.
#[derive(Debug, Clone)]
pub struct BoundStatement {
    pub query: BoundQuery,
    pub vars: VarTable,
    /// Subqueries of expressions, indexed by `SubqueryId`.
    pub subqueries: Vec<BoundSubquery>,
    pub params: BTreeSet<String>,
    pub columns: Vec<String>,
}

/// One query or a UNION of several.
#[derive(Debug, Clone)]
pub struct BoundQuery {
    pub branches: Vec<BoundSingle>,
    /// `UNION` (deduplicating) rather than `UNION ALL`.
    pub distinct: bool,
}

/// A query without UNION.
#[derive(Debug, Clone)]
pub struct BoundSingle {
    pub clauses: Vec<BoundClause>,
    /// The result columns (empty for a query that ends in an update).
    pub columns: Vec<(String, Var)>,
}

#[derive(Debug, Clone)]
pub enum BoundClause {
    Match(BoundMatch),
    Unwind {
        expr: Expr,
        var: Var,
    },
    /// `WITH` and `RETURN`.
    Projection(Box<BoundProjection>),
    Create(Vec<CreatePart>),
    Merge(Box<BoundMerge>),
    /// `SET` and `REMOVE`.
    Set(Vec<SetItem>),
    Delete {
        exprs: Vec<Expr>,
        detach: bool,
    },
    Call(BoundCall),
    /// `CALL { … }` and `FOREACH`.
    CallSubquery(Box<BoundCallSubquery>),
    Index {
        create: bool,
        label: String,
        key: String,
    },
}

/// A pattern node.
#[derive(Debug, Clone)]
pub struct PNode {
    pub var: Var,
    pub labels: Vec<String>,
    pub props: Vec<(String, Expr)>,
}

/// A pattern relationship between `nodes[i]` and `nodes[i + 1]` of its part.
#[derive(Debug, Clone)]
pub struct PRel {
    pub var: Var,
    /// As written, from `nodes[i]` towards `nodes[i + 1]`.
    pub dir: Dir,
    pub types: Vec<String>,
    pub props: Vec<(String, Expr)>,
    /// `Some((min, max))` for a variable-length relationship (bound to a list).
    pub length: Option<(u64, Option<u64>)>,
}

/// `shortestPath(…)`, `allShortestPaths(…)` or an ordinary pattern part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartKind {
    Normal,
    Shortest,
    AllShortest,
}

/// One comma-separated part of a pattern.
#[derive(Debug, Clone)]
pub struct BoundPart {
    pub path: Option<Var>,
    pub kind: PartKind,
    pub nodes: Vec<PNode>,
    pub rels: Vec<PRel>,
}

/// A MATCH (or the pattern of a subquery or MERGE).
#[derive(Debug, Clone)]
pub struct BoundMatch {
    pub optional: bool,
    pub parts: Vec<BoundPart>,
    pub predicate: Option<Expr>,
    /// Variables this MATCH introduces (nulled by an OPTIONAL MATCH that finds nothing).
    pub new_vars: Vec<Var>,
}

/// What a projection computes.
#[derive(Debug, Clone)]
pub enum ProjectionBody {
    Plain(Vec<(Var, Expr)>),
    Aggregate {
        /// Grouping keys over the input.
        keys: Vec<(Var, Expr)>,
        /// Aggregates over the input, including those ORDER BY uses.
        aggs: Vec<(Var, AggCall)>,
        /// Aggregating items: expressions over keys and aggregates.
        post: Vec<(Var, Expr)>,
    },
}

/// `WITH` / `RETURN`.
#[derive(Debug, Clone)]
pub struct BoundProjection {
    pub body: ProjectionBody,
    pub distinct: bool,
    /// Over the projected variables (and, when neither aggregating nor distinct, the
    /// variables from before).
    pub order_by: Vec<SortKey>,
    pub skip: Option<Expr>,
    pub limit: Option<Expr>,
    /// The WHERE of a WITH.
    pub where_: Option<Expr>,
    /// Output columns in written order.
    pub columns: Vec<(String, Var)>,
}

#[derive(Debug, Clone)]
pub struct BoundMerge {
    pub part: BoundPart,
    pub create: CreatePart,
    pub on_create: Vec<SetItem>,
    pub on_match: Vec<SetItem>,
}

#[derive(Debug, Clone)]
pub struct BoundCall {
    pub procedure: String,
    pub args: Vec<Expr>,
    pub yields: Vec<(usize, Var)>,
    pub void: bool,
    pub where_: Option<Expr>,
}

/// A subquery inside an expression: what it computes, and the outer variables it reads.
/// `CALL { … }`: `query` runs once per input row, starting from a row of `imports`; its
/// `columns` are added to the row. A unit subquery (no columns: it ends in an update, as
/// FOREACH always does) leaves the rows as they are.
#[derive(Debug, Clone)]
pub struct BoundCallSubquery {
    pub query: BoundQuery,
    pub imports: Vec<Var>,
    pub columns: Vec<(String, Var)>,
}

#[derive(Debug, Clone)]
pub struct BoundSubquery {
    pub args: Vec<Var>,
    pub body: SubqueryBody,
}

#[derive(Debug, Clone)]
pub enum SubqueryBody {
    /// A pattern predicate, pattern comprehension or `EXISTS { pattern WHERE … }`: the
    /// pattern's matches for the outer row, filtered by `predicate`; a comprehension
    /// collects `output`.
    Pattern {
        parts: Vec<BoundPart>,
        predicate: Option<Expr>,
        output: Option<(Var, Expr)>,
    },
    /// `EXISTS`, `COUNT` or `COLLECT { MATCH … }` with a whole query; a collecting one
    /// collects `output` (its single column).
    Query {
        query: BoundQuery,
        output: Option<Var>,
    },
}
