//! The parser: tokens → [`ast::Statement`](crate::ast::Statement).
//!
//! Clauses and patterns are recursive descent (`clauses.rs`, `patterns.rs`); expressions
//! are a Pratt loop over binding powers (`expressions.rs`), following the openCypher 9
//! grammar (`Cypher.g4`), from loosest to tightest:
//!
//! ```text
//! OR < XOR < AND < NOT < comparison (=, <>, <, <=, >, >=; chains a < b < c)
//!    < string/list/null predicates (STARTS WITH, ENDS WITH, CONTAINS, =~, IN, IS [NOT] NULL)
//!    < + - < * / % < ^ (left-associative) < unary + - < postfix (.key, [i], [a..b], :Label)
//! ```
//!
//! Operator chains are loops (`1 + 1 + … + 1` uses no stack, though each operator counts
//! one level of tree depth); only real nesting recurses. Both are bounded by
//! [`MAX_NESTING_DEPTH`], so hostile input (100,000 `(`) gets a coded error instead of a
//! stack overflow, and a statement deeper than `INLINE_NESTING_DEPTH` (32) is re-parsed on a
//! helper thread with a stack sized for the full bound.
//!
//! Two places are ambiguous in the grammar and are resolved by trying the pattern first and
//! backtracking: `(` may open a pattern predicate (`(a)-->(b)`) or a parenthesised
//! expression, and `[` may open a pattern comprehension or a list. Pattern attempts are
//! memoised by token position so nested ambiguities stay polynomial.
//!
//! Error messages list what the parser was ready to accept at the failing token ("expected
//! ')' or a label"), like Neo4j's: every check of an optional element at the current
//! position records a description, and consuming a token clears them.

use std::collections::HashMap;

use nereid_common::{Error, ErrorCode};

use crate::ast::*;
use crate::lexer::{tokenize_at_most, Token, TokenKind};

mod clauses;
mod expressions;
mod patterns;

/// How deeply expressions and patterns may nest: parentheses, lists, maps, function
/// arguments, subqueries, chained prefix operators (`NOT NOT x`), and operator chains
/// (`a + b + c` nests the tree one level per operator). Real queries stay far below; the
/// bound keeps both the parser and every recursive consumer of the AST (analysis, drop)
/// within a predictable stack.
pub const MAX_NESTING_DEPTH: usize = 500;

/// Nesting the parser handles on the caller's stack. A statement that nests deeper is
/// parsed again on a helper thread with [`DEEP_STACK_BYTES`] of stack, so that parsing is
/// safe on any thread (a 2 MiB default thread, even in an unoptimised build) and the
/// common case costs no thread.
const INLINE_NESTING_DEPTH: usize = 32;

/// Stack for the helper thread: an unoptimised build uses up to about 40 KiB per nesting
/// level (measured), so this covers [`MAX_NESTING_DEPTH`] levels with room to spare.
const DEEP_STACK_BYTES: usize = (1 << 20) + MAX_NESTING_DEPTH * (64 << 10);

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
    "RETURN", "CALL", "FOREACH",
];

const EXPECTED_CLAUSE: &str = "a clause (MATCH, OPTIONAL MATCH, UNWIND, CREATE, MERGE, SET, REMOVE, DELETE, WITH, RETURN, CALL, FOREACH)";

const PATTERN_MISUSE: &str = "A pattern expression should only be used to test the existence of a pattern: use it in a WHERE clause, as an operand of AND/OR/XOR/NOT there, or in exists(...); use a pattern comprehension [(a)-->(b) | b] to get a list";

/// Parses a whole statement of at most `max_tokens` tokens. Errors carry line and column
/// in their message.
pub fn parse_statement(text: &str, max_tokens: usize) -> Result<Statement, Error> {
    let Some(tokens) = tokenize_at_most(text, max_tokens) else {
        return Err(Error::compile(
            ErrorCode::QueryTooLarge,
            format!(
                "The query has more than {max_tokens} tokens: its syntax tree would exceed the query memory limit of {} MB",
                max_tokens.saturating_mul(crate::PARSE_BYTES_PER_TOKEN) >> 20
            ),
        ));
    };
    // If the bound was hit anywhere, even inside an alternative that was then abandoned,
    // the inline verdict may differ from the real one: parse again with the full bound.
    let result = match run(text, &tokens, INLINE_NESTING_DEPTH) {
        (inline, true) => {
            let spawned = std::thread::scope(|scope| {
                std::thread::Builder::new()
                    .name("nereid-cypher-deep-parse".into())
                    .stack_size(DEEP_STACK_BYTES)
                    .spawn_scoped(scope, || run(text, &tokens, MAX_NESTING_DEPTH).0)
                    .map(|handle| handle.join())
            });
            match spawned {
                Ok(Ok(result)) => result,
                // Could not start the thread, or it died: keep the inline verdict.
                Ok(Err(_)) | Err(_) => inline,
            }
        }
        (inline, false) => inline,
    };
    result.map_err(|e| {
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

/// Parses with the given nesting bound; also says whether the bound was hit.
fn run(text: &str, tokens: &[Token], max_depth: usize) -> (PResult<Statement>, bool) {
    let mut parser = Parser {
        text,
        tokens,
        pos: 0,
        expected: Vec::new(),
        depth: 0,
        max_depth,
        hit_depth_limit: false,
        pattern_ctx: false,
        pattern_memo: HashMap::new(),
    };
    let result = parser.statement();
    (result, parser.hit_depth_limit)
}

struct Parser<'a> {
    text: &'a str,
    tokens: &'a [Token],
    pos: usize,
    /// Descriptions of what would have been accepted at `pos`.
    expected: Vec<&'static str>,
    depth: usize,
    /// The nesting bound for this run (see [`INLINE_NESTING_DEPTH`]).
    max_depth: usize,
    hit_depth_limit: bool,
    /// Whether a pattern predicate may stand here (a WHERE expression, an operand of the
    /// boolean operators in it, or an argument of `exists()`).
    pattern_ctx: bool,
    /// Outcomes of pattern attempts by token position: the element and the position after
    /// it, or the error.
    pattern_memo: HashMap<usize, PResult<(PatternElement, usize)>>,
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

    /// Counts one more level of tree depth without recursing (an operator in a chain such
    /// as `a + b + c`, whose left operand nests one level per operator). The caller restores
    /// `depth` when the chain ends.
    fn deepen(&mut self) -> PResult<()> {
        if self.depth >= self.max_depth {
            self.hit_depth_limit = true;
            return Err(self.too_deep());
        }
        self.depth += 1;
        Ok(())
    }

    fn too_deep(&self) -> SyntaxError {
        self.error_at(
            ErrorCode::UnexpectedSyntax,
            format!(
                "The query nests expressions or patterns more than {} levels deep",
                self.max_depth
            ),
            self.span().start,
        )
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
}

#[cfg(test)]
mod tests;
