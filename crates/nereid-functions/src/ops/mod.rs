//! Cypher's operators over values, shared by the engine's evaluator and the functions so
//! that both agree on arithmetic, string, list and three-valued boolean semantics.
//!
//! * Arithmetic (`+ - * / % ^`, unary `-`): null in → null out. Integer arithmetic is
//!   checked (`ArithmeticOverflow`); integer `/` and `%` by zero raise `DivisionByZero`;
//!   float arithmetic is IEEE (`1.0 / 0` is `Infinity`, `0.0 / 0` is `NaN`). An Integer
//!   meeting a Float is widened to Float. `^` always yields a Float.
//! * `+` also concatenates strings (a number or boolean added to a String prints as
//!   `toString` would) and lists (list + list concatenates, list + x appends, x + list
//!   prepends; this takes precedence, so `'a' + [1]` is `['a', 1]`).
//! * `AND`, `OR`, `XOR`, `NOT`: Kleene logic on Boolean and null; any other type is a type
//!   error, even when the other operand alone would decide the answer.
//! * `STARTS WITH`, `ENDS WITH`, `CONTAINS`: null unless both operands are strings.
//! * `IN`: three-valued membership using `=`.
//! * `all`/`any`/`none`/`single(x IN list WHERE p)`: [`quantify`] combines the predicate
//!   results three-valued, stopping at the first deciding one.
//! * `=~`: whole-string regular-expression match, see [`regex_match`].
//! * Subscripts: [`index`] (`list[i]`, `map[key]`), [`slice`](fn@slice) (`list[a..b]`) and
//!   [`property`] (`map.key`).
//!
//! * Comparisons (`=`, `<>`, `<`, `<=`, `>`, `>=`): thin wrappers over `Value::cypher_eq`
//!   and `Value::cypher_cmp` from nereid-value that turn "unknown" into null.

mod arith;
mod logic;
mod regex;
mod subscript;
#[cfg(test)]
mod test_support;

pub use arith::{add, div, modulo, mul, neg, pos, pow, sub};
pub use logic::{
    and, contains, ends_with, eq, ge, gt, in_list, le, lt, neq, not, or, quantify, starts_with,
    xor, Quantifier,
};
pub use regex::regex_match;
pub use subscript::{index, property, slice};
