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

pub mod ast;
pub mod lexer;
pub mod parser;
pub mod visit;

pub use ast::Statement;
pub use parser::MAX_NESTING_DEPTH;

use nereid_common::Error;

/// Parses one openCypher statement (with optional Neptune hints and EXPLAIN/PROFILE).
pub fn parse(text: &str) -> Result<ast::Statement, Error> {
    parser::parse_statement(text)
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
/// The rule: every `UNION` branch beyond the first counts one, and every `EXISTS { ... }`
/// subquery block counts one, wherever they appear (nested ones included, and UNIONs inside
/// an `EXISTS { }` body too). A plain query counts 0; pattern predicates, pattern
/// comprehensions and `exists(...)` function calls are expressions, not subqueries.
pub fn subquery_count(stmt: &ast::Statement) -> usize {
    let mut count = stmt.query.unions.len();
    visit::walk_query(&stmt.query, &mut |expr| {
        if let ast::ExprKind::ExistsSubquery(body) = &expr.kind {
            count += 1;
            if let ast::ExistsBody::Query(q) = body.as_ref() {
                count += q.unions.len();
            }
        }
    });
    count
}
