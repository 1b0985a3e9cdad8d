//! openCypher 9 front end: text → [`ast::Statement`].
//!
//! ```text
//! text ──lexer──► tokens (byte spans) ──parser──► ast::Statement
//! ```
//!
//! [`parse`] runs the lexer ([`lexer`]) and the recursive-descent parser ([`parser`],
//! precedence levels for expressions). Syntax errors are [`nereid_common::Error`]s with code
//! `UnexpectedSyntax` (or a more precise literal code such as `InvalidNumberLiteral`,
//! `IntegerOverflow`, `FloatingPointOverflow`, `InvalidUnicodeLiteral`,
//! `InvalidUnicodeCharacter`), phase compile time, and a message that names the offending
//! token, what was expected, and the position:
//! `Invalid input 'RETURN': expected a label, a property map or ')' (line 1, column 10 (offset: 9))`.
//! Nothing here knows about scopes or types: that is the engine's semantic analysis.
//!
//! # What the parser decides, and how the AST shows it
//!
//! - Unary minus written directly on a number literal is folded into the literal
//!   (`-1` is `Literal::Integer(-1)`, its span includes the `-`): that is how
//!   `-9223372036854775808` exists, and it makes `LIMIT -1` a visible constant. `-x`,
//!   `-(1)` and `-1[0]` stay `Unary(Neg, ..)`.
//! - Parentheses leave no node; the inner expression's span covers them, so the column name
//!   of `RETURN (1 + 2)` is `(1 + 2)`.
//! - One comparison is `Binary`; two or more in a row (`a < b <= c`) are one `Comparison`.
//! - `<-[]->` is `Direction::Both`. `*` is `LengthRange { min: None, max: None }`, `*2` is
//!   `{ Some(2), Some(2) }`, `*..3` is `{ None, Some(3) }`.
//! - Pattern predicates (`(a)-->(b)` as an expression) are only accepted where a boolean is
//!   tested: a WHERE (of MATCH, WITH, YIELD, comprehensions, quantifiers, `EXISTS { }`), the
//!   operands of AND/OR/XOR/NOT there, a generic `CASE WHEN`, and the argument of
//!   `exists(...)`. Elsewhere (`RETURN (n)-->()`, `size((n)-->())`) they are
//!   `UnexpectedSyntax`, as the TCK expects; a pattern comprehension `[(n)-->(m) | m]` is
//!   the way to get a list.
//! - `YIELD *` outside a standalone `CALL` is `UnexpectedSyntax`; `CALL p` without
//!   parentheses is accepted anywhere (the engine reports `InvalidArgumentPassingMode`).
//! - openCypher's reserved words (`MATCH`, `END`, `DESC`, …) cannot be variables unless
//!   backquoted; they are fine as labels, types, property keys and function names.
//! - Nesting (brackets, subqueries, prefix operators, and operator chains such as
//!   `a + b + …`, which nest the tree) is bounded by [`MAX_NESTING_DEPTH`]: an AST is never
//!   deeper than about that many expression levels, which bounds the stack of any recursive
//!   consumer. Statements nesting deeper than a small inline bound are parsed on a helper
//!   thread with a large stack, so [`parse`] is safe on any thread.

pub mod ast;
pub mod lexer;
pub mod parser;
pub mod visit;

pub use ast::Statement;
pub use parser::MAX_NESTING_DEPTH;

use nereid_common::Error;

/// Parses one openCypher statement (with optional Neptune hints and EXPLAIN/PROFILE).
pub fn parse(text: &str) -> Result<ast::Statement, Error> {
    parser::parse_statement(text, usize::MAX)
}

/// What parsing costs per token, in bytes: the token and its share of the syntax tree
/// (measured: 100,000 `CREATE ()` clauses, 300,000 tokens, took 89 MB). Charging it lets a
/// caller refuse a text whose tree would not fit its memory budget before building it.
pub const PARSE_BYTES_PER_TOKEN: usize = 256;

/// [`parse`], refusing with `QueryTooLargeException` a text whose tokens and syntax tree
/// would take more than `memory_limit` bytes (see [`PARSE_BYTES_PER_TOKEN`]); the lexer
/// stops at the limit, before any of the tree is built.
pub fn parse_within(text: &str, memory_limit: usize) -> Result<ast::Statement, Error> {
    parser::parse_statement(text, memory_limit / PARSE_BYTES_PER_TOKEN)
}

/// The 1-based line and column of byte `offset` in `text`. Columns count characters, not
/// bytes; an offset inside a character or past the end is clamped.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// How many subqueries a statement has, for Neptune's query-status `subqueries` field.
///
/// The rule: every `UNION` branch beyond the first counts one, and every subquery block —
/// `CALL { }`, `EXISTS { }`, `COUNT { }`, `COLLECT { }` — counts one, wherever they appear
/// (nested ones included, and UNIONs inside a block too). A plain query counts 0; pattern
/// predicates, pattern comprehensions and `exists(...)` function calls are expressions, not
/// subqueries.
pub fn subquery_count(stmt: &ast::Statement) -> usize {
    let mut count = stmt.query.unions.len();
    visit::walk_all(&stmt.query, &mut |v| {
        let block = match v {
            visit::Visit::Clause(c) => match &c.kind {
                ast::ClauseKind::CallSubquery(call) => Some(Some(&call.query)),
                _ => None,
            },
            visit::Visit::Expr(e) => match &e.kind {
                ast::ExprKind::ExistsSubquery(body) | ast::ExprKind::CountSubquery(body) => {
                    Some(match body.as_ref() {
                        ast::ExistsBody::Query(q) => Some(q),
                        ast::ExistsBody::Pattern { .. } => None,
                    })
                }
                ast::ExprKind::CollectSubquery(q) => Some(Some(&**q)),
                _ => None,
            },
        };
        if let Some(query) = block {
            count += 1 + query.map_or(0, |q| q.unions.len());
        }
    });
    count
}
