//! The parser: tokens → [`ast::Statement`](crate::ast::Statement).
//!
//! Clauses and patterns are recursive descent; expressions use one function per binding
//! level, following the openCypher 9 grammar (`Cypher.g4`), from loosest to tightest:
//!
//! ```text
//! OR < XOR < AND < NOT < comparison (=, <>, <, <=, >, >=; chains a < b < c)
//!    < string/list/null predicates (STARTS WITH, ENDS WITH, CONTAINS, =~, IN, IS [NOT] NULL)
//!    < + - < * / % < ^ (left-associative) < unary + - < postfix (.key, [i], [a..b], :Label)
//! ```
//!
//! Binary levels are loops (long chains such as `1 + 1 + … + 1` use no stack); only real
//! nesting recurses, and that is bounded by [`MAX_NESTING_DEPTH`] so that hostile input
//! (100,000 `(`) gets a coded error instead of a stack overflow.
//!
//! Two places are ambiguous in the grammar and are resolved by trying the pattern first and
//! backtracking: `(` may open a pattern predicate (`(a)-->(b)`) or a parenthesised
//! expression, and `[` may open a pattern comprehension or a list. Failed pattern attempts
//! are memoised by token position so nested ambiguities stay polynomial.
//!
//! Error messages list what the parser was ready to accept at the failing token ("expected
//! ')' or a label"), like Neo4j's: every check of an optional element at the current
//! position records a description, and consuming a token clears them.

use std::collections::HashMap;

use nereid_common::{Error, ErrorCode};

use crate::ast::*;
use crate::lexer::{tokenize, Token, TokenKind};

/// How deeply expressions and patterns may nest (parentheses, lists, maps, subqueries,
/// chained unary operators). Real queries stay far below; the bound keeps the recursive
/// descent within a 2 MiB thread stack even in a debug build.
pub const MAX_NESTING_DEPTH: usize = 250;

/// A syntax error before its position is turned into line and column.
#[derive(Debug, Clone)]
struct SyntaxError {
    code: ErrorCode,
    message: String,
    offset: usize,
}

type PResult<T> = Result<T, SyntaxError>;

/// Words that cannot be variable names (openCypher's reserved words). They remain valid as
/// labels, relationship types, property keys and function names.
const RESERVED: &[&str] = &[
    "ALL",
    "ASC",
    "ASCENDING",
    "BY",
    "CREATE",
    "DELETE",
    "DESC",
    "DESCENDING",
    "DETACH",
    "EXISTS",
    "LIMIT",
    "MATCH",
    "MERGE",
    "ON",
    "OPTIONAL",
    "ORDER",
    "REMOVE",
    "RETURN",
    "SET",
    "SKIP",
    "WHERE",
    "WITH",
    "UNION",
    "UNWIND",
    "AND",
    "AS",
    "CONTAINS",
    "DISTINCT",
    "ENDS",
    "IN",
    "IS",
    "NOT",
    "OR",
    "STARTS",
    "XOR",
    "CASE",
    "ELSE",
    "END",
    "THEN",
    "WHEN",
    "NULL",
    "TRUE",
    "FALSE",
    "CALL",
    "YIELD",
];

/// Keywords that begin a clause; a single query is a run of these.
const CLAUSE_STARTS: &[&str] = &[
    "MATCH", "OPTIONAL", "UNWIND", "CREATE", "MERGE", "SET", "REMOVE", "DELETE", "DETACH", "WITH",
    "RETURN", "CALL",
];

const EXPECTED_CLAUSE: &str = "a clause (MATCH, OPTIONAL MATCH, UNWIND, CREATE, MERGE, SET, REMOVE, DELETE, WITH, RETURN, CALL)";

const PATTERN_MISUSE: &str = "A pattern expression should only be used to test the existence of a pattern: use it in a WHERE clause, as an operand of AND/OR/XOR/NOT there, or in exists(...); use a pattern comprehension [(a)-->(b) | b] to get a list";

/// Parses a whole statement. Errors carry line and column in their message.
pub fn parse_statement(text: &str) -> Result<Statement, Error> {
    let mut parser = Parser {
        text,
        tokens: tokenize(text),
        pos: 0,
        expected: Vec::new(),
        depth: 0,
        pattern_ctx: false,
        failed_patterns: HashMap::new(),
    };
    parser.statement().map_err(|e| {
        let (line, column) = crate::line_col(text, e.offset);
        Error::compile(
            e.code,
            format!(
                "{} (line {line}, column {column} (offset: {}))",
                e.message, e.offset
            ),
        )
    })
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    /// Descriptions of what would have been accepted at `pos`.
    expected: Vec<&'static str>,
    depth: usize,
    /// Whether a pattern predicate may stand here (a WHERE expression, an operand of the
    /// boolean operators in it, or an argument of `exists()`).
    pattern_ctx: bool,
    /// Token positions where a pattern (predicate or comprehension) was tried and failed.
    failed_patterns: HashMap<usize, SyntaxError>,
}

/// Parser position for backtracking.
struct Mark {
    pos: usize,
    expected: Vec<&'static str>,
    depth: usize,
    pattern_ctx: bool,
}

fn punct_desc(kind: &TokenKind) -> &'static str {
    use TokenKind as T;
    match kind {
        T::LParen => "'('",
        T::RParen => "')'",
        T::LBracket => "'['",
        T::RBracket => "']'",
        T::LBrace => "'{'",
        T::RBrace => "'}'",
        T::Comma => "','",
        T::Dot => "'.'",
        T::DotDot => "'..'",
        T::Colon => "':'",
        T::Semicolon => "';'",
        T::Pipe => "'|'",
        T::Plus => "'+'",
        T::PlusEq => "'+='",
        T::Minus => "'-'",
        T::Star => "'*'",
        T::Slash => "'/'",
        T::Percent => "'%'",
        T::Caret => "'^'",
        T::Eq => "'='",
        T::Ne => "'<>'",
        T::Lt => "'<'",
        T::Le => "'<='",
        T::Gt => "'>'",
        T::Ge => "'>='",
        T::RegexEq => "'=~'",
        T::Eof => "end of input",
        _ => "a token",
    }
}

fn same_kind(a: &TokenKind, b: &TokenKind) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

fn is_reserved(word: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}

fn comparison_op(kind: &TokenKind) -> Option<BinaryOp> {
    Some(match kind {
        TokenKind::Eq => BinaryOp::Eq,
        TokenKind::Ne => BinaryOp::Ne,
        TokenKind::Lt => BinaryOp::Lt,
        TokenKind::Le => BinaryOp::Le,
        TokenKind::Gt => BinaryOp::Gt,
        TokenKind::Ge => BinaryOp::Ge,
        _ => return None,
    })
}

impl<'a> Parser<'a> {
    // ---- token access ----------------------------------------------------------------------

    fn peek(&self) -> &TokenKind {
        &self.tokens[self.pos].kind
    }

    fn peek_at(&self, n: usize) -> &TokenKind {
        let i = (self.pos + n).min(self.tokens.len() - 1);
        &self.tokens[i].kind
    }

    fn span(&self) -> Span {
        self.tokens[self.pos].span
    }

    fn prev_end(&self) -> usize {
        if self.pos == 0 {
            0
        } else {
            self.tokens[self.pos - 1].span.end
        }
    }

    fn since(&self, start: usize) -> Span {
        Span::new(start, self.prev_end().max(start))
    }

    fn bump(&mut self) -> Token {
        let token = self.tokens[self.pos].clone();
        if !matches!(token.kind, TokenKind::Eof | TokenKind::Error(..)) {
            self.pos += 1;
        }
        self.expected.clear();
        token
    }

    fn note(&mut self, desc: &'static str) {
        if !self.expected.contains(&desc) {
            self.expected.push(desc);
        }
    }

    fn is_kw_at(&self, n: usize, kw: &str) -> bool {
        matches!(self.peek_at(n), TokenKind::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    fn is_kw(&self, kw: &str) -> bool {
        self.is_kw_at(0, kw)
    }

    /// Checks for a keyword, recording it as expected if absent.
    fn at_kw(&mut self, kw: &'static str) -> bool {
        let found = self.is_kw(kw);
        if !found {
            self.note(kw);
        }
        found
    }

    fn eat_kw(&mut self, kw: &'static str) -> bool {
        let found = self.at_kw(kw);
        if found {
            self.bump();
        }
        found
    }

    fn expect_kw(&mut self, kw: &'static str) -> PResult<Span> {
        if self.at_kw(kw) {
            Ok(self.bump().span)
        } else {
            Err(self.error_here())
        }
    }

    fn is(&self, kind: &TokenKind) -> bool {
        same_kind(self.peek(), kind)
    }

    /// Checks for a punctuation token, recording it as expected if absent.
    fn at(&mut self, kind: &TokenKind) -> bool {
        self.at_as(kind, punct_desc(kind))
    }

    fn at_as(&mut self, kind: &TokenKind, desc: &'static str) -> bool {
        let found = self.is(kind);
        if !found {
            self.note(desc);
        }
        found
    }

    fn eat(&mut self, kind: &TokenKind) -> bool {
        let found = self.at(kind);
        if found {
            self.bump();
        }
        found
    }

    fn expect(&mut self, kind: &TokenKind) -> PResult<Span> {
        if self.at(kind) {
            Ok(self.bump().span)
        } else {
            Err(self.error_here())
        }
    }

    fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            expected: self.expected.clone(),
            depth: self.depth,
            pattern_ctx: self.pattern_ctx,
        }
    }

    fn reset(&mut self, mark: Mark) {
        self.pos = mark.pos;
        self.expected = mark.expected;
        self.depth = mark.depth;
        self.pattern_ctx = mark.pattern_ctx;
    }

    // ---- errors ----------------------------------------------------------------------------

    fn error_at(&self, code: ErrorCode, message: impl Into<String>, offset: usize) -> SyntaxError {
        SyntaxError {
            code,
            message: message.into(),
            offset,
        }
    }

    fn expected_suffix(&self) -> String {
        match self.expected.as_slice() {
            [] => String::new(),
            [one] => format!(": expected {one}"),
            [init @ .., last] => format!(": expected {} or {last}", init.join(", ")),
        }
    }

    /// The error for the current token, naming what was expected there.
    fn error_here(&self) -> SyntaxError {
        let token = &self.tokens[self.pos];
        match &token.kind {
            TokenKind::Error(code, message) => {
                self.error_at(*code, message.clone(), token.span.start)
            }
            TokenKind::Eof => self.error_at(
                ErrorCode::UnexpectedSyntax,
                format!("Unexpected end of input{}", self.expected_suffix()),
                token.span.start,
            ),
            _ => {
                let text = &self.text[token.span.start..token.span.end];
                let shown: String = if text.chars().count() > 40 {
                    text.chars().take(40).chain("…".chars()).collect()
                } else {
                    text.to_string()
                };
                self.error_at(
                    ErrorCode::UnexpectedSyntax,
                    format!("Invalid input '{shown}'{}", self.expected_suffix()),
                    token.span.start,
                )
            }
        }
    }

    /// Runs `f` one nesting level deeper, failing cleanly past [`MAX_NESTING_DEPTH`].
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_NESTING_DEPTH {
            return Err(self.error_at(
                ErrorCode::UnexpectedSyntax,
                format!(
                    "The query nests expressions or patterns more than {MAX_NESTING_DEPTH} levels deep"
                ),
                self.span().start,
            ));
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    // ---- names -----------------------------------------------------------------------------

    fn is_variable_at(&self, n: usize) -> bool {
        match self.peek_at(n) {
            TokenKind::Word(w) => !is_reserved(w),
            TokenKind::Quoted(_) => true,
            _ => false,
        }
    }

    fn variable(&mut self) -> PResult<Ident> {
        if self.is_variable_at(0) {
            let token = self.bump();
            let name = match token.kind {
                TokenKind::Word(w) | TokenKind::Quoted(w) => w,
                _ => String::new(),
            };
            Ok(Ident {
                name,
                span: token.span,
            })
        } else {
            self.note("a variable name");
            Err(self.error_here())
        }
    }

    /// A label, relationship type, property key or procedure name segment: any word,
    /// keywords included, or a backquoted name.
    fn schema_name(&mut self, desc: &'static str) -> PResult<Name> {
        match self.peek() {
            TokenKind::Word(_) | TokenKind::Quoted(_) => {
                let token = self.bump();
                let name = match token.kind {
                    TokenKind::Word(w) | TokenKind::Quoted(w) => w,
                    _ => String::new(),
                };
                Ok(Name {
                    name,
                    span: token.span,
                })
            }
            _ => {
                self.note(desc);
                Err(self.error_here())
            }
        }
    }

    fn is_name_at(&self, n: usize) -> bool {
        matches!(self.peek_at(n), TokenKind::Word(_) | TokenKind::Quoted(_))
    }

    // ---- statement and clauses -------------------------------------------------------------

    fn statement(&mut self) -> PResult<Statement> {
        if self.is(&TokenKind::Eof) {
            return Err(self.error_at(
                ErrorCode::UnexpectedSyntax,
                "Empty query: the request contains no Cypher statement",
                0,
            ));
        }
        let mut hints = Vec::new();
        while self.at_kw("USING") {
            hints.push(self.hint()?);
        }
        let mode = if self.eat_kw("EXPLAIN") {
            StatementMode::Explain
        } else if self.eat_kw("PROFILE") {
            StatementMode::Profile
        } else {
            StatementMode::Execute
        };
        let query = self.query()?;
        self.eat(&TokenKind::Semicolon);
        if !self.at(&TokenKind::Eof) {
            return Err(self.error_here());
        }
        Ok(Statement { hints, mode, query })
    }

    /// `USING QUERY:NAME value` (a Neptune query hint).
    fn hint(&mut self) -> PResult<QueryHint> {
        let start = self.bump().span.start;
        self.expect_kw("QUERY")?;
        self.expect(&TokenKind::Colon)?;
        let name = match self.peek() {
            TokenKind::Word(_) => self.schema_name("a query hint name")?.name,
            _ => {
                self.note("a query hint name");
                return Err(self.error_here());
            }
        };
        let value = match self.peek().clone() {
            TokenKind::Integer(v) => {
                let token = self.bump();
                match v.and_then(|v| i64::try_from(v).ok()) {
                    Some(v) => HintValue::Integer(v),
                    None => {
                        return Err(self.error_at(
                            ErrorCode::IntegerOverflow,
                            "The query hint value is too large for a 64-bit integer",
                            token.span.start,
                        ))
                    }
                }
            }
            TokenKind::Str(s) => {
                self.bump();
                HintValue::String(s)
            }
            TokenKind::Word(w) | TokenKind::Quoted(w) => {
                self.bump();
                HintValue::Identifier(w)
            }
            _ => {
                self.note("a query hint value (an integer, a string or a name)");
                return Err(self.error_here());
            }
        };
        Ok(QueryHint {
            name,
            value,
            span: self.since(start),
        })
    }

    fn query(&mut self) -> PResult<Query> {
        let start = self.span().start;
        let first = self.single_query()?;
        let mut unions = Vec::new();
        while self.at_kw("UNION") {
            let union_start = self.bump().span.start;
            let all = self.eat_kw("ALL");
            let span = self.since(union_start);
            let query = self.single_query()?;
            unions.push(Union { all, query, span });
        }
        Ok(Query {
            first,
            unions,
            span: self.since(start),
        })
    }

    fn at_clause_start(&self) -> bool {
        CLAUSE_STARTS.iter().any(|kw| self.is_kw(kw))
    }

    fn single_query(&mut self) -> PResult<SingleQuery> {
        let start = self.span().start;
        let mut clauses = Vec::new();
        // Where a `YIELD *` was written, to reject it outside a standalone CALL.
        let mut yield_star_at = None;
        while self.at_clause_start() {
            let (clause, star) = self.clause()?;
            if star.is_some() {
                yield_star_at = star;
            }
            clauses.push(clause);
        }
        self.note(EXPECTED_CLAUSE);
        if clauses.is_empty() {
            return Err(self.error_here());
        }
        if let Some(offset) = yield_star_at {
            if clauses.len() > 1 {
                return Err(self.error_at(
                    ErrorCode::UnexpectedSyntax,
                    "YIELD * is only allowed in a standalone procedure call (a query that is only CALL ... YIELD *)",
                    offset,
                ));
            }
        }
        Ok(SingleQuery {
            clauses,
            span: self.since(start),
        })
    }

    /// One clause; also returns the offset of a `YIELD *` in a CALL.
    fn clause(&mut self) -> PResult<(Clause, Option<usize>)> {
        let start = self.span().start;
        let mut yield_star = None;
        let kind = if self.is_kw("MATCH") || self.is_kw("OPTIONAL") {
            ClauseKind::Match(self.match_clause()?)
        } else if self.is_kw("UNWIND") {
            self.bump();
            let expr = self.expr()?;
            self.expect_kw("AS")?;
            let variable = self.variable()?;
            ClauseKind::Unwind(Unwind { expr, variable })
        } else if self.is_kw("CREATE") {
            self.bump();
            ClauseKind::Create(Create {
                pattern: self.pattern()?,
            })
        } else if self.is_kw("MERGE") {
            ClauseKind::Merge(self.merge_clause()?)
        } else if self.is_kw("SET") {
            self.bump();
            ClauseKind::Set(self.set_items()?)
        } else if self.is_kw("REMOVE") {
            self.bump();
            let mut items = vec![self.remove_item()?];
            while self.eat(&TokenKind::Comma) {
                items.push(self.remove_item()?);
            }
            ClauseKind::Remove(items)
        } else if self.is_kw("DELETE") || self.is_kw("DETACH") {
            let detach = self.is_kw("DETACH");
            if detach {
                self.bump();
            }
            self.expect_kw("DELETE")?;
            let mut exprs = vec![self.expr()?];
            while self.eat(&TokenKind::Comma) {
                exprs.push(self.expr()?);
            }
            ClauseKind::Delete(Delete { detach, exprs })
        } else if self.is_kw("WITH") {
            self.bump();
            let projection = self.projection()?;
            let where_ = self.opt_where()?;
            ClauseKind::With(With { projection, where_ })
        } else if self.is_kw("RETURN") {
            self.bump();
            ClauseKind::Return(Return {
                projection: self.projection()?,
            })
        } else if self.is_kw("CALL") {
            let (call, star) = self.call_clause()?;
            yield_star = star;
            ClauseKind::Call(call)
        } else {
            self.note(EXPECTED_CLAUSE);
            return Err(self.error_here());
        };
        Ok((
            Clause {
                kind,
                span: self.since(start),
            },
            yield_star,
        ))
    }

    fn opt_where(&mut self) -> PResult<Option<Expr>> {
        if self.eat_kw("WHERE") {
            Ok(Some(self.predicate_expr()?))
        } else {
            Ok(None)
        }
    }

    fn match_clause(&mut self) -> PResult<Match> {
        let optional = self.eat_kw("OPTIONAL");
        self.expect_kw("MATCH")?;
        let pattern = self.pattern()?;
        let where_ = self.opt_where()?;
        Ok(Match {
            optional,
            pattern,
            where_,
        })
    }

    fn merge_clause(&mut self) -> PResult<Merge> {
        self.bump();
        let pattern = self.pattern_part()?;
        let mut actions = Vec::new();
        while self.at_kw("ON") {
            let start = self.bump().span.start;
            let on_create = if self.eat_kw("CREATE") {
                true
            } else if self.eat_kw("MATCH") {
                false
            } else {
                return Err(self.error_here());
            };
            self.expect_kw("SET")?;
            let items = self.set_items()?;
            actions.push(MergeAction {
                on_create,
                items,
                span: self.since(start),
            });
        }
        Ok(Merge { pattern, actions })
    }

    fn set_items(&mut self) -> PResult<Vec<SetItem>> {
        let mut items = vec![self.set_item()?];
        while self.eat(&TokenKind::Comma) {
            items.push(self.set_item()?);
        }
        Ok(items)
    }

    fn set_item(&mut self) -> PResult<SetItem> {
        let start = self.span().start;
        if self.is_variable_at(0)
            && matches!(
                self.peek_at(1),
                TokenKind::Eq | TokenKind::PlusEq | TokenKind::Colon
            )
        {
            let variable = self.variable()?;
            return Ok(match self.peek() {
                TokenKind::Colon => {
                    let labels = self.labels()?;
                    SetItem::Labels {
                        variable,
                        labels,
                        span: self.since(start),
                    }
                }
                kind => {
                    let merge = matches!(kind, TokenKind::PlusEq);
                    self.bump();
                    let value = self.expr()?;
                    SetItem::Variable {
                        variable,
                        value,
                        merge,
                        span: self.since(start),
                    }
                }
            });
        }
        let target = self.property_target()?;
        self.expect(&TokenKind::Eq)?;
        let value = self.expr()?;
        Ok(SetItem::Property {
            target,
            value,
            span: self.since(start),
        })
    }

    fn remove_item(&mut self) -> PResult<RemoveItem> {
        let start = self.span().start;
        if self.is_variable_at(0) && matches!(self.peek_at(1), TokenKind::Colon) {
            let variable = self.variable()?;
            let labels = self.labels()?;
            return Ok(RemoveItem::Labels {
                variable,
                labels,
                span: self.since(start),
            });
        }
        let target = self.property_target()?;
        Ok(RemoveItem::Property {
            target,
            span: self.since(start),
        })
    }

    /// `atom.key(.key)*`: the target of `SET x.k = v` and `REMOVE x.k`.
    fn property_target(&mut self) -> PResult<Expr> {
        let mut expr = self.atom()?;
        let mut lookups = 0;
        while self.at(&TokenKind::Dot) {
            self.bump();
            let key = self.schema_name("a property key name")?;
            let span = expr.span.to(key.span);
            expr = Expr::new(ExprKind::Property(Box::new(expr), key), span);
            lookups += 1;
        }
        if lookups == 0 {
            return Err(self.error_here());
        }
        Ok(expr)
    }

    fn projection(&mut self) -> PResult<Projection> {
        let distinct = self.eat_kw("DISTINCT");
        let mut star = false;
        let mut items = Vec::new();
        if self.at(&TokenKind::Star) {
            self.bump();
            star = true;
            while self.eat(&TokenKind::Comma) {
                items.push(self.projection_item()?);
            }
        } else {
            items.push(self.projection_item()?);
            while self.eat(&TokenKind::Comma) {
                items.push(self.projection_item()?);
            }
        }
        let mut order_by = Vec::new();
        if self.at_kw("ORDER") {
            self.bump();
            self.expect_kw("BY")?;
            order_by.push(self.sort_item()?);
            while self.eat(&TokenKind::Comma) {
                order_by.push(self.sort_item()?);
            }
        }
        let skip = if self.eat_kw("SKIP") {
            Some(self.expr()?)
        } else {
            None
        };
        let limit = if self.eat_kw("LIMIT") {
            Some(self.expr()?)
        } else {
            None
        };
        Ok(Projection {
            distinct,
            star,
            items,
            order_by,
            skip,
            limit,
        })
    }

    fn projection_item(&mut self) -> PResult<ProjectionItem> {
        let expr = self.expr()?;
        let text = self.text[expr.span.start..expr.span.end].to_string();
        let alias = if self.eat_kw("AS") {
            Some(self.variable()?)
        } else {
            None
        };
        let span = self.since(expr.span.start);
        Ok(ProjectionItem {
            expr,
            alias,
            text,
            span,
        })
    }

    fn sort_item(&mut self) -> PResult<SortItem> {
        let expr = self.expr()?;
        let descending = if self.eat_kw("DESC") || self.eat_kw("DESCENDING") {
            true
        } else {
            // ASC is the default; accept it explicitly.
            let _ = self.eat_kw("ASC") || self.eat_kw("ASCENDING");
            false
        };
        let span = self.since(expr.span.start);
        Ok(SortItem {
            expr,
            descending,
            span,
        })
    }

    fn call_clause(&mut self) -> PResult<(Call, Option<usize>)> {
        self.bump();
        let mut procedure = vec![self.schema_name("a procedure name")?];
        while self.at(&TokenKind::Dot) {
            self.bump();
            procedure.push(self.schema_name("a procedure name")?);
        }
        let args = if self.at(&TokenKind::LParen) {
            self.bump();
            let mut args = Vec::new();
            if !self.at(&TokenKind::RParen) {
                args.push(self.expr()?);
                while self.eat(&TokenKind::Comma) {
                    args.push(self.expr()?);
                }
            }
            self.expect(&TokenKind::RParen)?;
            Some(args)
        } else {
            None
        };
        let mut star_at = None;
        let yield_ = if self.eat_kw("YIELD") {
            if self.at(&TokenKind::Star) {
                star_at = Some(self.bump().span.start);
                Some(YieldSpec {
                    star: true,
                    items: Vec::new(),
                    where_: None,
                })
            } else {
                let mut items = vec![self.yield_item()?];
                while self.eat(&TokenKind::Comma) {
                    items.push(self.yield_item()?);
                }
                let where_ = self.opt_where()?;
                Some(YieldSpec {
                    star: false,
                    items,
                    where_,
                })
            }
        } else {
            None
        };
        Ok((
            Call {
                procedure,
                args,
                yield_,
            },
            star_at,
        ))
    }

    fn yield_item(&mut self) -> PResult<YieldItem> {
        let field = self.schema_name("a procedure output name")?;
        let alias = if self.eat_kw("AS") {
            Some(self.variable()?)
        } else {
            None
        };
        Ok(YieldItem { field, alias })
    }

    // ---- patterns --------------------------------------------------------------------------

    fn pattern(&mut self) -> PResult<Pattern> {
        let start = self.span().start;
        let mut parts = vec![self.pattern_part()?];
        while self.eat(&TokenKind::Comma) {
            parts.push(self.pattern_part()?);
        }
        Ok(Pattern {
            parts,
            span: self.since(start),
        })
    }

    fn pattern_part(&mut self) -> PResult<PatternPart> {
        let start = self.span().start;
        let variable = if self.is_variable_at(0) && matches!(self.peek_at(1), TokenKind::Eq) {
            let v = self.variable()?;
            self.bump();
            Some(v)
        } else {
            None
        };
        let shortest = if self.is_kw("shortestPath") {
            Some(PathKind::ShortestPath)
        } else if self.is_kw("allShortestPaths") {
            Some(PathKind::AllShortestPaths)
        } else {
            None
        };
        let (kind, element) = match shortest {
            Some(kind) if matches!(self.peek_at(1), TokenKind::LParen) => {
                self.bump();
                self.bump();
                let element = self.pattern_element()?;
                self.expect(&TokenKind::RParen)?;
                (kind, element)
            }
            _ => (PathKind::Normal, self.pattern_element()?),
        };
        Ok(PatternPart {
            variable,
            kind,
            element,
            span: self.since(start),
        })
    }

    fn pattern_element(&mut self) -> PResult<PatternElement> {
        // `((a)-->(b))`: a node pattern cannot start with `(`, so this is a parenthesised
        // element.
        if self.is(&TokenKind::LParen) && matches!(self.peek_at(1), TokenKind::LParen) {
            let start = self.bump().span.start;
            let mut element = self.nested(|p| p.pattern_element())?;
            self.expect(&TokenKind::RParen)?;
            element.span = self.since(start);
            return Ok(element);
        }
        let start = self.span().start;
        let first = self.node_pattern()?;
        let mut chain = Vec::new();
        while self.is(&TokenKind::Minus) || self.is(&TokenKind::Lt) {
            let rel = self.rel_pattern()?;
            let node = self.node_pattern()?;
            chain.push((rel, node));
        }
        self.note("a relationship pattern");
        Ok(PatternElement {
            start: first,
            chain,
            span: self.since(start),
        })
    }

    fn labels(&mut self) -> PResult<Vec<Name>> {
        let mut labels = Vec::new();
        while self.at_as(&TokenKind::Colon, "a label") {
            self.bump();
            labels.push(self.schema_name("a label name")?);
        }
        Ok(labels)
    }

    /// A map literal or a parameter, in a node or relationship pattern.
    fn pattern_properties(&mut self) -> PResult<Option<Expr>> {
        match self.peek() {
            TokenKind::LBrace => Ok(Some(self.map_literal()?)),
            TokenKind::Parameter(_) => Ok(Some(self.atom()?)),
            _ => {
                self.note("a property map");
                Ok(None)
            }
        }
    }

    fn node_pattern(&mut self) -> PResult<NodePattern> {
        let start = self.expect(&TokenKind::LParen)?.start;
        let variable = if self.is_variable_at(0) {
            Some(self.variable()?)
        } else {
            self.note("a variable name");
            None
        };
        let labels = self.labels()?;
        let properties = self.pattern_properties()?;
        self.expect(&TokenKind::RParen)?;
        Ok(NodePattern {
            variable,
            labels,
            properties,
            span: self.since(start),
        })
    }

    fn rel_pattern(&mut self) -> PResult<RelPattern> {
        let start = self.span().start;
        let left = self.eat(&TokenKind::Lt);
        self.expect(&TokenKind::Minus)?;
        let mut variable = None;
        let mut types = Vec::new();
        let mut length = None;
        let mut properties = None;
        if self.at(&TokenKind::LBracket) {
            self.bump();
            if self.is_variable_at(0) {
                variable = Some(self.variable()?);
            } else {
                self.note("a variable name");
            }
            if self.at_as(&TokenKind::Colon, "a relationship type") {
                self.bump();
                types.push(self.schema_name("a relationship type name")?);
                while self.at(&TokenKind::Pipe) {
                    self.bump();
                    self.eat(&TokenKind::Colon);
                    types.push(self.schema_name("a relationship type name")?);
                }
            }
            if self.is(&TokenKind::DotDot) {
                return Err(self.error_at(
                    ErrorCode::InvalidRelationshipPattern,
                    "A variable-length relationship range must start with '*', as in [*1..3]",
                    self.span().start,
                ));
            }
            if self.at_as(&TokenKind::Star, "a length range ('*')") {
                self.bump();
                let min = self.range_bound()?;
                let max = if self.at(&TokenKind::DotDot) {
                    self.bump();
                    self.range_bound()?
                } else {
                    min
                };
                length = Some(LengthRange { min, max });
            }
            properties = self.pattern_properties()?;
            self.expect(&TokenKind::RBracket)?;
        }
        self.expect(&TokenKind::Minus)?;
        let right = self.eat(&TokenKind::Gt);
        let direction = match (left, right) {
            (true, false) => Direction::Incoming,
            (false, true) => Direction::Outgoing,
            _ => Direction::Both,
        };
        Ok(RelPattern {
            variable,
            direction,
            types,
            length,
            properties,
            span: self.since(start),
        })
    }

    fn range_bound(&mut self) -> PResult<Option<u64>> {
        match self.peek() {
            TokenKind::Minus => Err(self.error_at(
                ErrorCode::InvalidRelationshipPattern,
                "A relationship length bound cannot be negative",
                self.span().start,
            )),
            TokenKind::Integer(Some(v)) => {
                let v = *v;
                self.bump();
                Ok(Some(v))
            }
            TokenKind::Integer(None) => Err(self.error_at(
                ErrorCode::IntegerOverflow,
                "The relationship length bound is too large",
                self.span().start,
            )),
            _ => {
                self.note("an integer");
                Ok(None)
            }
        }
    }

    /// Tries to parse a pattern element with at least one relationship at the current `(`.
    /// On failure the position is restored and the error returned (and memoised).
    fn try_relationship_pattern(&mut self) -> Result<PatternElement, SyntaxError> {
        let at = self.pos;
        if let Some(err) = self.failed_patterns.get(&at) {
            return Err(err.clone());
        }
        let mark = self.mark();
        let result = self.nested(|p| p.pattern_element());
        match result {
            Ok(element) if !element.chain.is_empty() => Ok(element),
            other => {
                let err = match other {
                    Err(e) => e,
                    Ok(_) => self.error_at(
                        ErrorCode::UnexpectedSyntax,
                        "not a relationship pattern",
                        self.tokens[at].span.start,
                    ),
                };
                self.reset(mark);
                self.failed_patterns.insert(at, err.clone());
                Err(err)
            }
        }
    }

    // ---- expressions -----------------------------------------------------------------------

    /// An expression where a pattern predicate may not stand.
    fn expr(&mut self) -> PResult<Expr> {
        self.expr_in(false)
    }

    /// A WHERE-like expression: pattern predicates allowed at its boolean top level.
    fn predicate_expr(&mut self) -> PResult<Expr> {
        self.expr_in(true)
    }

    fn expr_in(&mut self, pattern_ctx: bool) -> PResult<Expr> {
        let saved = std::mem::replace(&mut self.pattern_ctx, pattern_ctx);
        let result = self.nested(|p| p.or_expr());
        self.pattern_ctx = saved;
        result
    }

    /// Parses an operand of a non-boolean operator: no pattern predicate there.
    fn operand<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        let saved = std::mem::replace(&mut self.pattern_ctx, false);
        let result = f(self);
        self.pattern_ctx = saved;
        result
    }

    fn binary(op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
        let span = lhs.span.to(rhs.span);
        Expr::new(ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span)
    }

    fn or_expr(&mut self) -> PResult<Expr> {
        let mut lhs = self.xor_expr()?;
        while self.is_kw("OR") {
            self.bump();
            let rhs = self.xor_expr()?;
            lhs = Self::binary(BinaryOp::Or, lhs, rhs);
        }
        Ok(lhs)
    }

    fn xor_expr(&mut self) -> PResult<Expr> {
        let mut lhs = self.and_expr()?;
        while self.is_kw("XOR") {
            self.bump();
            let rhs = self.and_expr()?;
            lhs = Self::binary(BinaryOp::Xor, lhs, rhs);
        }
        Ok(lhs)
    }

    fn and_expr(&mut self) -> PResult<Expr> {
        let mut lhs = self.not_expr()?;
        while self.is_kw("AND") {
            self.bump();
            let rhs = self.not_expr()?;
            lhs = Self::binary(BinaryOp::And, lhs, rhs);
        }
        Ok(lhs)
    }

    fn not_expr(&mut self) -> PResult<Expr> {
        if self.is_kw("NOT") {
            let start = self.bump().span.start;
            let operand = self.nested(|p| p.not_expr())?;
            let span = Span::new(start, operand.span.end);
            return Ok(Expr::new(
                ExprKind::Unary(UnaryOp::Not, Box::new(operand)),
                span,
            ));
        }
        self.comparison_expr()
    }

    fn comparison_expr(&mut self) -> PResult<Expr> {
        let first = self.predicate_level()?;
        let mut rest = Vec::new();
        while let Some(op) = comparison_op(self.peek()) {
            self.bump();
            let rhs = self.operand(|p| p.predicate_level())?;
            rest.push((op, rhs));
        }
        if rest.len() == 1 {
            if let Some((op, rhs)) = rest.pop() {
                return Ok(Self::binary(op, first, rhs));
            }
        }
        Ok(match rest.len() {
            0 => first,
            _ => {
                let end = rest.last().map_or(first.span.end, |(_, e)| e.span.end);
                let span = Span::new(first.span.start, end);
                Expr::new(ExprKind::Comparison(Box::new(first), rest), span)
            }
        })
    }

    /// String, list and null predicates: `STARTS WITH`, `ENDS WITH`, `CONTAINS`, `=~`, `IN`,
    /// `IS [NOT] NULL`.
    fn predicate_level(&mut self) -> PResult<Expr> {
        let mut lhs = self.add_expr()?;
        loop {
            let op = if self.is_kw("STARTS") && self.is_kw_at(1, "WITH") {
                self.bump();
                self.bump();
                BinaryOp::StartsWith
            } else if self.is_kw("ENDS") && self.is_kw_at(1, "WITH") {
                self.bump();
                self.bump();
                BinaryOp::EndsWith
            } else if self.is_kw("CONTAINS") {
                self.bump();
                BinaryOp::Contains
            } else if self.is_kw("IN") {
                self.bump();
                BinaryOp::In
            } else if self.is(&TokenKind::RegexEq) {
                self.bump();
                BinaryOp::RegexMatch
            } else if self.is_kw("IS") {
                self.bump();
                let not = self.eat_kw("NOT");
                let end = self.expect_kw("NULL")?.end;
                let span = Span::new(lhs.span.start, end);
                let kind = if not {
                    ExprKind::IsNotNull(Box::new(lhs))
                } else {
                    ExprKind::IsNull(Box::new(lhs))
                };
                lhs = Expr::new(kind, span);
                continue;
            } else {
                break;
            };
            let rhs = self.operand(|p| p.add_expr())?;
            lhs = Self::binary(op, lhs, rhs);
        }
        Ok(lhs)
    }

    fn add_expr(&mut self) -> PResult<Expr> {
        let mut lhs = self.mul_expr()?;
        loop {
            let op = match self.peek() {
                TokenKind::Plus => BinaryOp::Add,
                TokenKind::Minus => BinaryOp::Sub,
                _ => break,
            };
            self.bump();
            let rhs = self.operand(|p| p.mul_expr())?;
            lhs = Self::binary(op, lhs, rhs);
        }
        Ok(lhs)
    }

    fn mul_expr(&mut self) -> PResult<Expr> {
        let mut lhs = self.pow_expr()?;
        loop {
            let op = match self.peek() {
                TokenKind::Star => BinaryOp::Mul,
                TokenKind::Slash => BinaryOp::Div,
                TokenKind::Percent => BinaryOp::Mod,
                _ => break,
            };
            self.bump();
            let rhs = self.operand(|p| p.pow_expr())?;
            lhs = Self::binary(op, lhs, rhs);
        }
        Ok(lhs)
    }

    /// `^` is left-associative in openCypher: `2 ^ 3 ^ 2` is `(2 ^ 3) ^ 2`.
    fn pow_expr(&mut self) -> PResult<Expr> {
        let mut lhs = self.unary_expr()?;
        while self.is(&TokenKind::Caret) {
            self.bump();
            let rhs = self.operand(|p| p.unary_expr())?;
            lhs = Self::binary(BinaryOp::Pow, lhs, rhs);
        }
        Ok(lhs)
    }

    fn unary_expr(&mut self) -> PResult<Expr> {
        let op = match self.peek() {
            TokenKind::Minus => UnaryOp::Neg,
            TokenKind::Plus => UnaryOp::Plus,
            _ => return self.postfix_expr(),
        };
        let start = self.bump().span.start;
        // `-` directly on a number literal is folded into a negative literal: that is the
        // only way to write i64::MIN (`-9223372036854775808`), and it lets the engine see
        // `LIMIT -1` as a constant. Not when a postfix follows: `-1[0]` is `-(1[0])`.
        let postfix_follows = matches!(
            self.peek_at(1),
            TokenKind::Dot | TokenKind::LBracket | TokenKind::Colon
        );
        if op == UnaryOp::Neg && !postfix_follows {
            match self.peek().clone() {
                TokenKind::Integer(value) => {
                    let token = self.bump();
                    let span = Span::new(start, token.span.end);
                    return match value {
                        Some(v) if v <= 1u64 << 63 => {
                            let n = (-i128::from(v)) as i64;
                            Ok(Expr::new(ExprKind::Literal(Literal::Integer(n)), span))
                        }
                        _ => Err(self.integer_overflow(span)),
                    };
                }
                TokenKind::Float(v) => {
                    let token = self.bump();
                    let span = Span::new(start, token.span.end);
                    if v.is_infinite() {
                        return Err(self.float_overflow(span));
                    }
                    return Ok(Expr::new(ExprKind::Literal(Literal::Float(-v)), span));
                }
                _ => {}
            }
        }
        let operand = self.nested(|p| p.operand(|p| p.unary_expr()))?;
        let span = Span::new(start, operand.span.end);
        Ok(Expr::new(ExprKind::Unary(op, Box::new(operand)), span))
    }

    fn integer_overflow(&self, span: Span) -> SyntaxError {
        self.error_at(
            ErrorCode::IntegerOverflow,
            format!(
                "Integer literal '{}' is too large for a 64-bit integer",
                &self.text[span.start..span.end]
            ),
            span.start,
        )
    }

    fn float_overflow(&self, span: Span) -> SyntaxError {
        self.error_at(
            ErrorCode::FloatingPointOverflow,
            format!(
                "Float literal '{}' is too large for a 64-bit float",
                &self.text[span.start..span.end]
            ),
            span.start,
        )
    }

    fn postfix_expr(&mut self) -> PResult<Expr> {
        let mut expr = self.atom()?;
        loop {
            match self.peek() {
                TokenKind::Dot => {
                    self.bump();
                    let key = self.schema_name("a property key name")?;
                    let span = expr.span.to(key.span);
                    expr = Expr::new(ExprKind::Property(Box::new(expr), key), span);
                }
                TokenKind::LBracket => {
                    self.bump();
                    let kind = self.operand(|p| p.index_or_slice(expr))?;
                    let end = self.expect(&TokenKind::RBracket)?.end;
                    let span = Span::new(kind.1, end);
                    expr = Expr::new(kind.0, span);
                }
                TokenKind::Colon => {
                    let labels = self.labels()?;
                    let span = Span::new(expr.span.start, self.prev_end());
                    expr = Expr::new(ExprKind::HasLabels(Box::new(expr), labels), span);
                    // openCypher allows labels only at the end of a postfix chain.
                    break;
                }
                _ => break,
            }
        }
        Ok(expr)
    }

    /// After `[`: `index]`, `from..to]`, `..to]`, `from..]`. Returns the kind and the start
    /// offset of the whole expression.
    fn index_or_slice(&mut self, target: Expr) -> PResult<(ExprKind, usize)> {
        let start = target.span.start;
        let target = Box::new(target);
        if self.eat(&TokenKind::DotDot) {
            let to = self.opt_slice_bound()?;
            return Ok((ExprKind::Slice(target, None, to), start));
        }
        let index = self.expr()?;
        if self.eat(&TokenKind::DotDot) {
            let to = self.opt_slice_bound()?;
            return Ok((ExprKind::Slice(target, Some(Box::new(index)), to), start));
        }
        Ok((ExprKind::Index(target, Box::new(index)), start))
    }

    fn opt_slice_bound(&mut self) -> PResult<Option<Box<Expr>>> {
        if self.at(&TokenKind::RBracket) {
            Ok(None)
        } else {
            Ok(Some(Box::new(self.expr()?)))
        }
    }

    fn atom(&mut self) -> PResult<Expr> {
        let start = self.span().start;
        let literal = |kind, p: &Self| Ok(Expr::new(ExprKind::Literal(kind), p.since(start)));
        match self.peek().clone() {
            TokenKind::Integer(value) => {
                let token = self.bump();
                match value.and_then(|v| i64::try_from(v).ok()) {
                    Some(v) => literal(Literal::Integer(v), self),
                    None => Err(self.integer_overflow(token.span)),
                }
            }
            TokenKind::Float(v) => {
                let token = self.bump();
                if v.is_infinite() {
                    return Err(self.float_overflow(token.span));
                }
                literal(Literal::Float(v), self)
            }
            TokenKind::BadNumber => {
                let span = self.span();
                Err(self.error_at(
                    ErrorCode::InvalidNumberLiteral,
                    format!(
                        "Invalid number literal '{}'",
                        &self.text[span.start..span.end]
                    ),
                    span.start,
                ))
            }
            TokenKind::Str(s) => {
                self.bump();
                literal(Literal::String(s), self)
            }
            TokenKind::Parameter(name) => {
                self.bump();
                Ok(Expr::new(ExprKind::Parameter(name), self.since(start)))
            }
            TokenKind::LBracket => self.nested(|p| p.list_like()),
            TokenKind::LBrace => self.nested(|p| p.map_literal()),
            TokenKind::LParen => self.nested(|p| p.paren_or_pattern()),
            TokenKind::Word(word) => self.word_atom(&word),
            TokenKind::Quoted(_) => {
                if self.is_function_call_ahead() {
                    return self.function_call();
                }
                if matches!(self.peek_at(1), TokenKind::LBrace) {
                    return self.nested(|p| p.map_projection());
                }
                let v = self.variable()?;
                Ok(Expr::new(ExprKind::Variable(v.name), v.span))
            }
            _ => {
                self.note("an expression");
                Err(self.error_here())
            }
        }
    }

    fn word_atom(&mut self, word: &str) -> PResult<Expr> {
        let start = self.span().start;
        let upper = word.to_ascii_uppercase();
        let next = self.peek_at(1).clone();
        match upper.as_str() {
            "TRUE" | "FALSE" | "NULL" => {
                self.bump();
                let lit = match upper.as_str() {
                    "TRUE" => Literal::Bool(true),
                    "FALSE" => Literal::Bool(false),
                    _ => Literal::Null,
                };
                return Ok(Expr::new(ExprKind::Literal(lit), self.since(start)));
            }
            "CASE" => return self.nested(|p| p.case_expr()),
            "COUNT"
                if matches!(next, TokenKind::LParen)
                    && matches!(self.peek_at(2), TokenKind::Star)
                    && matches!(self.peek_at(3), TokenKind::RParen) =>
            {
                for _ in 0..4 {
                    self.bump();
                }
                return Ok(Expr::new(ExprKind::CountStar, self.since(start)));
            }
            "ALL" | "ANY" | "NONE" | "SINGLE"
                if matches!(next, TokenKind::LParen)
                    && self.is_variable_at(2)
                    && self.is_kw_at(3, "IN") =>
            {
                let quantifier = match upper.as_str() {
                    "ALL" => Quantifier::All,
                    "ANY" => Quantifier::Any,
                    "NONE" => Quantifier::None,
                    _ => Quantifier::Single,
                };
                return self.nested(|p| p.quantified(quantifier));
            }
            "REDUCE" if matches!(next, TokenKind::LParen) => {
                return self.nested(|p| p.reduce());
            }
            "EXISTS" if matches!(next, TokenKind::LBrace) => {
                return self.nested(|p| p.exists_subquery());
            }
            _ => {}
        }
        if self.is_function_call_ahead() {
            return self.nested(|p| p.function_call());
        }
        if matches!(next, TokenKind::LBrace) && !is_reserved(word) {
            return self.nested(|p| p.map_projection());
        }
        if is_reserved(word) {
            self.note("an expression");
            return Err(self.error_here());
        }
        let v = self.variable()?;
        Ok(Expr::new(ExprKind::Variable(v.name), v.span))
    }

    /// `name(.name)* (` ahead?
    fn is_function_call_ahead(&self) -> bool {
        let mut n = 0;
        loop {
            if !self.is_name_at(n) {
                return false;
            }
            match self.peek_at(n + 1) {
                TokenKind::LParen => return true,
                TokenKind::Dot => n += 2,
                _ => return false,
            }
        }
    }

    fn function_call(&mut self) -> PResult<Expr> {
        let start = self.span().start;
        let mut name = vec![self.schema_name("a function name")?];
        while self.eat(&TokenKind::Dot) {
            name.push(self.schema_name("a function name")?);
        }
        self.expect(&TokenKind::LParen)?;
        let distinct = self.eat_kw("DISTINCT");
        // exists(pattern) tests a pattern: the one call whose argument may be a pattern
        // predicate.
        let pattern_arg = name.len() == 1 && name[0].name.eq_ignore_ascii_case("exists");
        let mut args = Vec::new();
        if !self.at(&TokenKind::RParen) {
            loop {
                args.push(self.expr_in(pattern_arg)?);
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        self.expect(&TokenKind::RParen)?;
        Ok(Expr::new(
            ExprKind::FunctionCall {
                name,
                distinct,
                args,
            },
            self.since(start),
        ))
    }

    fn case_expr(&mut self) -> PResult<Expr> {
        let start = self.bump().span.start;
        let operand = if self.is_kw("WHEN") {
            None
        } else {
            Some(Box::new(self.expr()?))
        };
        let mut whens = Vec::new();
        while self.eat_kw("WHEN") {
            let condition = self.expr()?;
            self.expect_kw("THEN")?;
            let value = self.expr()?;
            whens.push((condition, value));
        }
        if whens.is_empty() {
            return Err(self.error_here());
        }
        let else_ = if self.eat_kw("ELSE") {
            Some(Box::new(self.expr()?))
        } else {
            None
        };
        self.expect_kw("END")?;
        Ok(Expr::new(
            ExprKind::Case {
                operand,
                whens,
                else_,
            },
            self.since(start),
        ))
    }

    fn quantified(&mut self, quantifier: Quantifier) -> PResult<Expr> {
        let start = self.bump().span.start;
        self.bump(); // (
        let variable = self.variable()?;
        self.expect_kw("IN")?;
        let list = Box::new(self.expr()?);
        let where_ = self.opt_where()?.map(Box::new);
        self.expect(&TokenKind::RParen)?;
        Ok(Expr::new(
            ExprKind::Quantified {
                quantifier,
                variable,
                list,
                where_,
            },
            self.since(start),
        ))
    }

    fn reduce(&mut self) -> PResult<Expr> {
        let start = self.bump().span.start;
        self.bump(); // (
        let accumulator = self.variable()?;
        self.expect(&TokenKind::Eq)?;
        let init = Box::new(self.expr()?);
        self.expect(&TokenKind::Comma)?;
        let variable = self.variable()?;
        self.expect_kw("IN")?;
        let list = Box::new(self.expr()?);
        self.expect(&TokenKind::Pipe)?;
        let expr = Box::new(self.expr()?);
        self.expect(&TokenKind::RParen)?;
        Ok(Expr::new(
            ExprKind::Reduce {
                accumulator,
                init,
                variable,
                list,
                expr,
            },
            self.since(start),
        ))
    }

    fn exists_subquery(&mut self) -> PResult<Expr> {
        let start = self.bump().span.start;
        self.bump(); // {
        let body = if self.at_clause_start() {
            ExistsBody::Query(self.query()?)
        } else {
            let pattern = self.pattern()?;
            let where_ = self.opt_where()?;
            ExistsBody::Pattern { pattern, where_ }
        };
        self.expect(&TokenKind::RBrace)?;
        Ok(Expr::new(
            ExprKind::ExistsSubquery(Box::new(body)),
            self.since(start),
        ))
    }

    fn map_projection(&mut self) -> PResult<Expr> {
        let start = self.span().start;
        let variable = self.variable()?;
        self.expect(&TokenKind::LBrace)?;
        let mut items = Vec::new();
        if !self.at(&TokenKind::RBrace) {
            loop {
                if self.eat(&TokenKind::Dot) {
                    if self.eat(&TokenKind::Star) {
                        items.push(MapProjectionItem::AllProperties);
                    } else {
                        items.push(MapProjectionItem::Property(
                            self.schema_name("a property key name")?,
                        ));
                    }
                } else if self.is_name_at(0) && matches!(self.peek_at(1), TokenKind::Colon) {
                    let key = self.schema_name("a property key name")?;
                    self.bump();
                    let value = self.expr()?;
                    items.push(MapProjectionItem::Literal { key, value });
                } else {
                    items.push(MapProjectionItem::Variable(self.variable()?));
                }
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        self.expect(&TokenKind::RBrace)?;
        Ok(Expr::new(
            ExprKind::MapProjection { variable, items },
            self.since(start),
        ))
    }

    fn map_literal(&mut self) -> PResult<Expr> {
        let start = self.expect(&TokenKind::LBrace)?.start;
        let mut entries = Vec::new();
        if !self.at(&TokenKind::RBrace) {
            loop {
                let key = self.schema_name("a property key name")?;
                self.expect(&TokenKind::Colon)?;
                let value = self.expr()?;
                entries.push((key, value));
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        self.expect(&TokenKind::RBrace)?;
        Ok(Expr::new(ExprKind::Map(entries), self.since(start)))
    }

    /// After `(`: a pattern predicate `(a)-->(b)` or a parenthesised expression.
    fn paren_or_pattern(&mut self) -> PResult<Expr> {
        let start = self.span().start;
        let pattern_error = match self.try_relationship_pattern() {
            Ok(element) => {
                let span = element.span;
                // A pattern predicate is a boolean test: it may not be the operand of a
                // non-boolean operator or stand where a value is produced.
                if !self.pattern_ctx || self.operator_follows() {
                    return Err(self.error_at(ErrorCode::UnexpectedSyntax, PATTERN_MISUSE, start));
                }
                return Ok(Expr::new(
                    ExprKind::PatternPredicate(Box::new(element)),
                    span,
                ));
            }
            Err(e) => e,
        };
        // The parenthesised expression keeps the boolean context: `WHERE ((a)-->())`.
        let result = self.paren_expr(start);
        // Report whichever reading got further into the text.
        result.map_err(|e| {
            if pattern_error.offset > e.offset {
                pattern_error
            } else {
                e
            }
        })
    }

    fn paren_expr(&mut self, start: usize) -> PResult<Expr> {
        self.bump();
        let mut inner = self.nested(|p| p.or_expr())?;
        let end = self.expect(&TokenKind::RParen)?.end;
        // The span covers the parentheses: it is the column name of `RETURN (1 + 2)`.
        inner.span = Span::new(start, end);
        Ok(inner)
    }

    fn operator_follows(&self) -> bool {
        use TokenKind as T;
        match self.peek() {
            T::Dot
            | T::LBracket
            | T::Colon
            | T::Plus
            | T::Minus
            | T::Star
            | T::Slash
            | T::Percent
            | T::Caret
            | T::Eq
            | T::Ne
            | T::Lt
            | T::Le
            | T::Gt
            | T::Ge
            | T::RegexEq => true,
            T::Word(w) => ["STARTS", "ENDS", "CONTAINS", "IN", "IS"]
                .iter()
                .any(|k| k.eq_ignore_ascii_case(w)),
            _ => false,
        }
    }

    /// After `[`: list comprehension, pattern comprehension or list literal.
    fn list_like(&mut self) -> PResult<Expr> {
        let start = self.span().start;
        if self.is_variable_at(1) && self.is_kw_at(2, "IN") {
            self.bump();
            let variable = self.variable()?;
            self.bump(); // IN
            let list = Box::new(self.expr()?);
            let where_ = self.opt_where()?.map(Box::new);
            let map = if self.eat(&TokenKind::Pipe) {
                Some(Box::new(self.expr()?))
            } else {
                None
            };
            self.expect(&TokenKind::RBracket)?;
            return Ok(Expr::new(
                ExprKind::ListComprehension {
                    variable,
                    list,
                    where_,
                    map,
                },
                self.since(start),
            ));
        }
        let named = self.is_variable_at(1)
            && matches!(self.peek_at(2), TokenKind::Eq)
            && matches!(self.peek_at(3), TokenKind::LParen);
        if named || matches!(self.peek_at(1), TokenKind::LParen) {
            let mark = self.mark();
            self.bump();
            let variable = if named {
                let v = self.variable()?;
                self.bump();
                Some(v)
            } else {
                None
            };
            let element = self.try_relationship_pattern();
            match element {
                Ok(element) if self.is_kw("WHERE") || self.is(&TokenKind::Pipe) => {
                    let where_ = self.opt_where()?.map(Box::new);
                    self.expect(&TokenKind::Pipe)?;
                    let map = Box::new(self.expr()?);
                    self.expect(&TokenKind::RBracket)?;
                    return Ok(Expr::new(
                        ExprKind::PatternComprehension {
                            variable,
                            pattern: Box::new(element),
                            where_,
                            map,
                        },
                        self.since(start),
                    ));
                }
                _ => self.reset(mark),
            }
        }
        self.bump();
        let mut items = Vec::new();
        if !self.at(&TokenKind::RBracket) {
            loop {
                items.push(self.expr()?);
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        self.expect(&TokenKind::RBracket)?;
        Ok(Expr::new(ExprKind::List(items), self.since(start)))
    }
}
