//! Cypher's built-in functions and operators over [`nereid_value::Value`].
//!
//! The engine evaluates arguments and calls in here; nothing in this crate sees the graph.
//! Functions that need it — `id`, `labels`, `type`, `properties`/`keys` of a node or
//! relationship, `startNode`, `endNode`, `nodes`, `relationships`, `length` of a path,
//! `exists` — are resolved by the engine before it falls back to this catalogue.
//!
//! ```text
//!  analyser ── scalar_arity / aggregate_arity / is_aggregate ──► arity checks
//!           ── scalar_accepts / aggregate_accepts (Kinds) ──► static type errors
//!           ── ScalarFunction::deterministic ──► constant folding
//!  evaluator ─ scalar_function(name) once ──► ScalarFunction::call(args) per row
//!            ─ ops::{add, and, in_list, index, slice, …} for operators
//!  aggregation ─ new_aggregator(name, distinct) per group ──► update(args)… finish()
//! ```
//!
//! * [`ops`]: operators (arithmetic with overflow and division-by-zero rules, string and
//!   list `+`, three-valued logic, `IN`, `=~`, `STARTS WITH`…, subscripts and slices).
//! * [`scalar`]: the scalar catalogue, one module per family (string, list, map, math,
//!   conversion, misc, temporal). The current-time functions read the statement clock the
//!   engine sets with [`enter_statement`].
//! * [`aggregate`]: `count`, `sum`, `avg`, `min`, `max`, `collect`, `stDev`, `stDevP`,
//!   `percentileCont`, `percentileDisc`, with `DISTINCT`.
//! * [`kinds`]: sets of value kinds for compile-time argument checks.
//! * [`format`](mod@format): how numbers print (`toString`, string concatenation).
//! * [`random`]: the generator behind `rand()` and `randomUUID()`.

pub mod aggregate;
pub(crate) mod args;
pub mod format;
pub mod kinds;
pub mod ops;
pub mod random;
pub mod scalar;

use nereid_common::{Error, ErrorCode};
use nereid_value::Value;

pub use aggregate::{
    aggregate_accepts, aggregate_arity, count_star, is_aggregate, mergeable, new_aggregator,
    Aggregator, Avg, Extreme, Partial,
};
pub use kinds::Kinds;
pub use scalar::list::{range_iter, RangeIter};
pub use scalar::temporal::{current_clock, enter_statement, StatementClock};
pub use scalar::{scalar_function, ScalarFn, ScalarFunction, SCALAR_FUNCTIONS};

/// A scalar function's argument count as `(min, max)`, `max` `None` when variadic; `None`
/// for an unknown name (any case). Aggregates are not scalar functions: see
/// [`aggregate_arity`].
pub fn scalar_arity(name: &str) -> Option<(usize, Option<usize>)> {
    scalar_function(name).map(|f| (f.min_args, f.max_args))
}

/// Whether argument `index` of scalar function `name` may be of kinds `given` (false only
/// when that is certainly a type error; true for unknown names). See [`kinds`].
pub fn scalar_accepts(name: &str, index: usize, given: Kinds) -> bool {
    scalar_function(name).is_none_or(|f| f.accepts(index, given))
}

/// Calls the scalar function `name` (any case). Prefer [`scalar_function`] once at compile
/// time and [`ScalarFunction::call`] per row: this looks the name up on every call.
pub fn call_scalar(name: &str, args: &[Value]) -> Result<Value, Error> {
    match scalar_function(name) {
        Some(f) => f.call(args),
        None => Err(Error::compile(
            ErrorCode::UnknownFunction,
            format!("unknown function '{name}'"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_entry_points() {
        assert_eq!(scalar_arity("coalesce"), Some((1, None)));
        assert_eq!(scalar_arity("range"), Some((2, Some(3))));
        assert_eq!(scalar_arity("count"), None);
        assert_eq!(
            call_scalar("toupper", &["a".into()]).ok(),
            Some(Value::from("A"))
        );
        assert_eq!(
            call_scalar("foo", &[]).err().map(|e| e.code),
            Some(ErrorCode::UnknownFunction)
        );
    }
}
