//! The spanned abstract syntax tree of an openCypher 9 statement.
//!
//! The parser produces it and checks nothing beyond syntax; scoping, typing and clause
//! composition rules are the engine's semantic analysis. Every expression carries the byte
//! span of its source text: the analyser reports positions from it, and `RETURN` items
//! without an alias take their column name from it.

/// Byte range `[start, end)` in the statement text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// A whole request: optional Neptune query hints, an optional EXPLAIN/PROFILE prefix, and
/// the query.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// `USING QUERY:NAME value` prefixes (Neptune query hints), in order.
    pub hints: Vec<QueryHint>,
    pub mode: StatementMode,
    pub query: Query,
}

/// A Neptune query hint, e.g. `USING QUERY:TIMEOUTMILLISECONDS 500`.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryHint {
    /// The hint name as written after `QUERY:` (compare case-insensitively).
    pub name: String,
    pub value: HintValue,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HintValue {
    Integer(i64),
    String(String),
    Identifier(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatementMode {
    #[default]
    Execute,
    Explain,
    Profile,
}

/// `single (UNION [ALL] single)*`, or a standalone `CALL`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub first: SingleQuery,
    pub unions: Vec<Union>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Union {
    pub all: bool,
    pub query: SingleQuery,
    /// Span of the `UNION [ALL]` keywords.
    pub span: Span,
}

/// A sequence of clauses without UNION.
#[derive(Debug, Clone, PartialEq)]
pub struct SingleQuery {
    pub clauses: Vec<Clause>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub kind: ClauseKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClauseKind {
    Match(Match),
    Unwind(Unwind),
    Create(Create),
    Merge(Merge),
    Set(Vec<SetItem>),
    Remove(Vec<RemoveItem>),
    Delete(Delete),
    With(With),
    Return(Return),
    Call(Call),
    /// `CALL { … }`: a subquery run once per input row.
    CallSubquery(CallSubquery),
    /// `FOREACH (x IN list | updating clauses)`.
    Foreach(Foreach),
    /// `CREATE INDEX …` / `DROP INDEX …`: a property index definition (always alone in its
    /// query). Not openCypher 9; the Neo4j forms are accepted so that users can index
    /// properties they look up by value.
    Index(IndexCommand),
}

/// `CREATE INDEX [name] [IF NOT EXISTS] FOR (n:Label) ON (n.key)`, the legacy
/// `CREATE INDEX ON :Label(key)`, and `DROP INDEX ON :Label(key)`.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexCommand {
    pub create: bool,
    pub label: Name,
    pub key: Name,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub optional: bool,
    pub pattern: Pattern,
    pub where_: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Unwind {
    pub expr: Expr,
    pub variable: Ident,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Create {
    pub pattern: Pattern,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Merge {
    /// MERGE takes exactly one pattern part.
    pub pattern: PatternPart,
    pub actions: Vec<MergeAction>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MergeAction {
    /// `ON CREATE` (true) or `ON MATCH` (false).
    pub on_create: bool,
    pub items: Vec<SetItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SetItem {
    /// `n.key = expr` (the target is a property expression, possibly nested: `(n).key`).
    Property {
        target: Expr,
        value: Expr,
        span: Span,
    },
    /// `n = expr` (replace all properties) or `n += expr` (merge).
    Variable {
        variable: Ident,
        value: Expr,
        merge: bool,
        span: Span,
    },
    /// `n:A:B`.
    Labels {
        variable: Ident,
        labels: Vec<Name>,
        span: Span,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum RemoveItem {
    /// `n:A:B`.
    Labels {
        variable: Ident,
        labels: Vec<Name>,
        span: Span,
    },
    /// `n.key` (a property expression).
    Property { target: Expr, span: Span },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    pub detach: bool,
    pub exprs: Vec<Expr>,
}

/// `WITH` and `RETURN` share the projection body.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub distinct: bool,
    /// `*` was written first.
    pub star: bool,
    pub items: Vec<ProjectionItem>,
    pub order_by: Vec<SortItem>,
    pub skip: Option<Expr>,
    pub limit: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionItem {
    pub expr: Expr,
    pub alias: Option<Ident>,
    /// The expression's source text exactly as written: the column name when there is no
    /// alias.
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortItem {
    pub expr: Expr,
    pub descending: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct With {
    pub projection: Projection,
    pub where_: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Return {
    pub projection: Projection,
}

/// `CALL ns.name(args) YIELD ...`; `args` is `None` for the implicit-argument form
/// `CALL ns.name` (only allowed standalone).
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub procedure: Vec<Name>,
    pub args: Option<Vec<Expr>>,
    pub yield_: Option<YieldSpec>,
}

/// `CALL [(imports)] { query }`.
#[derive(Debug, Clone, PartialEq)]
pub struct CallSubquery {
    /// The variable scope clause `CALL (a, b) { … }` / `CALL (*) { … }`; `None`: the
    /// subquery imports through a leading `WITH` of plain variables.
    pub imports: Option<CallImports>,
    pub query: Query,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Foreach {
    pub variable: Ident,
    pub list: Expr,
    /// Updating clauses only (CREATE, MERGE, SET, REMOVE, DELETE, FOREACH).
    pub clauses: Vec<Clause>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CallImports {
    All,
    Variables(Vec<Ident>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct YieldSpec {
    /// `YIELD *` (standalone calls only); then `items` is empty.
    pub star: bool,
    pub items: Vec<YieldItem>,
    pub where_: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct YieldItem {
    /// The procedure's output column.
    pub field: Name,
    /// `AS alias`.
    pub alias: Option<Ident>,
}

/// Comma-separated pattern parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub parts: Vec<PatternPart>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatternPart {
    /// `p = ...`
    pub variable: Option<Ident>,
    pub kind: PathKind,
    pub element: PatternElement,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    Normal,
    ShortestPath,
    AllShortestPaths,
}

/// `(a)-[r]->(b)<-[s]-(c)`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternElement {
    pub start: NodePattern,
    pub chain: Vec<(RelPattern, NodePattern)>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodePattern {
    pub variable: Option<Ident>,
    pub labels: Vec<Name>,
    /// A map literal or a parameter.
    pub properties: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `-[]->`
    Outgoing,
    /// `<-[]-`
    Incoming,
    /// `-[]-` (or `<-[]->`, which openCypher treats as undirected)
    Both,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RelPattern {
    pub variable: Option<Ident>,
    pub direction: Direction,
    /// `:A|B|:C`; empty = any type.
    pub types: Vec<Name>,
    /// `*`, `*2`, `*1..3`, `*..3`, `*2..`: `Some(range)`; a single hop: `None`.
    pub length: Option<LengthRange>,
    pub properties: Option<Expr>,
    pub span: Span,
}

/// Bounds of a variable-length relationship; `None` = unbounded (min defaults to 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LengthRange {
    pub min: Option<u64>,
    pub max: Option<u64>,
}

/// A variable name with its position.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A label, relationship type, property key, function or procedure name segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Self { kind, span }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Integer(i64),
    Float(f64),
    String(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Not,
    Neg,
    Plus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    Xor,
    And,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    StartsWith,
    EndsWith,
    Contains,
    /// `=~` regular-expression match.
    RegexMatch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quantifier {
    All,
    Any,
    None,
    Single,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MapProjectionItem {
    /// `key: expr`
    Literal { key: Name, value: Expr },
    /// `.key`
    Property(Name),
    /// `var` (adds `var: value`)
    Variable(Ident),
    /// `.*`
    AllProperties,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    /// `$name` or `$0`.
    Parameter(String),
    Variable(String),
    List(Vec<Expr>),
    Map(Vec<(Name, Expr)>),
    /// `expr.key`
    Property(Box<Expr>, Name),
    /// `expr[index]`
    Index(Box<Expr>, Box<Expr>),
    /// `expr[from..to]`
    Slice(Box<Expr>, Option<Box<Expr>>, Option<Box<Expr>>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `a < b <= c`: a chain of comparisons, meaning `a < b AND b <= c` with `b` evaluated
    /// once. Only built for chains of two or more comparison operators.
    Comparison(Box<Expr>, Vec<(BinaryOp, Expr)>),
    IsNull(Box<Expr>),
    IsNotNull(Box<Expr>),
    /// `expr:A:B`
    HasLabels(Box<Expr>, Vec<Name>),
    /// `ns.name(DISTINCT? args)`; `name` holds the namespace segments and the name.
    FunctionCall {
        name: Vec<Name>,
        distinct: bool,
        args: Vec<Expr>,
    },
    /// `count(*)`
    CountStar,
    /// `CASE [operand] WHEN .. THEN .. [ELSE ..] END`
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        else_: Option<Box<Expr>>,
    },
    /// `[x IN list WHERE pred | map]`
    ListComprehension {
        variable: Ident,
        list: Box<Expr>,
        where_: Option<Box<Expr>>,
        map: Option<Box<Expr>>,
    },
    /// `[p = (a)-->(b) WHERE pred | map]`
    PatternComprehension {
        variable: Option<Ident>,
        pattern: Box<PatternElement>,
        where_: Option<Box<Expr>>,
        map: Box<Expr>,
    },
    /// `all(x IN list WHERE pred)` and friends.
    Quantified {
        quantifier: Quantifier,
        variable: Ident,
        list: Box<Expr>,
        where_: Option<Box<Expr>>,
    },
    /// `reduce(acc = init, x IN list | expr)`
    Reduce {
        accumulator: Ident,
        init: Box<Expr>,
        variable: Ident,
        list: Box<Expr>,
        expr: Box<Expr>,
    },
    /// `var { .key, key: expr, var2, .* }`
    MapProjection {
        variable: Ident,
        items: Vec<MapProjectionItem>,
    },
    /// A relationship pattern used as a predicate: `(a)-[:T]->()`.
    PatternPredicate(Box<PatternElement>),
    /// `EXISTS { MATCH ... [WHERE ...] }` or `EXISTS { (a)-->(b) [WHERE ...] }`.
    ExistsSubquery(Box<ExistsBody>),
    /// `COUNT { … }`: the number of rows (or matches) of the subquery.
    CountSubquery(Box<ExistsBody>),
    /// `COLLECT { … RETURN x }`: the list of the subquery's one column.
    CollectSubquery(Box<Query>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExistsBody {
    /// A pattern with an optional WHERE.
    Pattern {
        pattern: Pattern,
        where_: Option<Expr>,
    },
    /// A full query (must end without RETURN in openCypher 9 uses; RETURN allowed).
    Query(Query),
}
