//! openCypher 9 front end: text → [`ast::Statement`].
//!
//! [`parse`] runs the lexer and the recursive-descent parser (Pratt parsing for
//! expressions). Syntax errors are [`nereid_common::Error`]s with code
//! `UnexpectedSyntax` (or a more precise literal code such as `InvalidNumberLiteral`), phase
//! compile time, and a message that names the line, the column and the offending token.
//! Nothing here knows about scopes or types: that is the engine's semantic analysis.

pub mod ast;
pub mod lexer;

pub use ast::Statement;
