//! The catalogue of scalar functions: one [`ScalarFunction`] row per name, with its arity
//! and whether it is deterministic (safe to constant-fold). Lookup ignores ASCII case, as
//! Cypher function names do. Each family lives in its own module.

pub(crate) mod convert;
pub(crate) mod list;
pub(crate) mod map;
pub(crate) mod math;
pub(crate) mod misc;
pub(crate) mod string;

use nereid_common::{Error, ErrorCode, Value};

/// The implementation of a scalar function; the arguments are already evaluated and their
/// count is within the function's arity.
pub type ScalarFn = fn(&[Value]) -> Result<Value, Error>;

/// One built-in scalar function.
#[derive(Debug, Clone, Copy)]
pub struct ScalarFunction {
    /// The name as documented (`toInteger`); lookup is case-insensitive.
    pub name: &'static str,
    pub min_args: usize,
    /// `None` for variadic functions (`coalesce`).
    pub max_args: Option<usize>,
    /// False for `rand`, `randomUUID`, `timestamp`: never constant-fold these.
    pub deterministic: bool,
    f: ScalarFn,
}

impl ScalarFunction {
    /// Calls the function, checking the argument count first.
    pub fn call(&self, args: &[Value]) -> Result<Value, Error> {
        let n = args.len();
        if n < self.min_args || self.max_args.is_some_and(|max| n > max) {
            return Err(Error::compile(
                ErrorCode::InvalidNumberOfArguments,
                format!(
                    "{}() takes {}, got {n}",
                    self.name,
                    arity_text(self.min_args, self.max_args)
                ),
            ));
        }
        (self.f)(args)
    }

    /// The raw implementation, for an evaluator that has checked the arity at compile time.
    pub fn implementation(&self) -> ScalarFn {
        self.f
    }
}

fn arity_text(min: usize, max: Option<usize>) -> String {
    match max {
        Some(max) if max == min => format!("{min} argument(s)"),
        Some(max) => format!("{min} to {max} arguments"),
        None => format!("at least {min} argument(s)"),
    }
}

const fn f(name: &'static str, min_args: usize, max_args: usize, f: ScalarFn) -> ScalarFunction {
    ScalarFunction {
        name,
        min_args,
        max_args: Some(max_args),
        deterministic: true,
        f,
    }
}

const fn volatile(name: &'static str, f: ScalarFn) -> ScalarFunction {
    ScalarFunction {
        name,
        min_args: 0,
        max_args: Some(0),
        deterministic: false,
        f,
    }
}

/// Every scalar function this crate implements.
pub static SCALAR_FUNCTIONS: &[ScalarFunction] = &[
    // General.
    ScalarFunction {
        name: "coalesce",
        min_args: 1,
        max_args: None,
        deterministic: true,
        f: misc::coalesce,
    },
    volatile("timestamp", misc::timestamp),
    volatile("randomUUID", misc::random_uuid),
    // Lists (and strings for size/reverse).
    f("size", 1, 1, list::size),
    f("char_length", 1, 1, list::char_length),
    f("character_length", 1, 1, list::char_length),
    f("isEmpty", 1, 1, list::is_empty),
    f("head", 1, 1, list::head),
    f("last", 1, 1, list::last),
    f("tail", 1, 1, list::tail),
    f("reverse", 1, 1, list::reverse),
    f("range", 2, 3, list::range),
    f("collToSet", 1, 1, list::coll_to_set),
    f("collSubtract", 2, 2, list::coll_subtract),
    f("collIntersection", 2, 2, list::coll_intersection),
    f("collSort", 1, 2, list::coll_sort),
    // Maps.
    f("keys", 1, 1, map::keys),
    f("properties", 1, 1, map::properties),
    f("removeKeyFromMap", 2, 2, map::remove_key_from_map),
    // Conversions.
    f("toString", 1, 1, convert::to_string),
    f("toInteger", 1, 1, convert::to_integer),
    f("toFloat", 1, 1, convert::to_float),
    f("toBoolean", 1, 1, convert::to_boolean),
    f("toStringOrNull", 1, 1, convert::to_string_or_null),
    f("toIntegerOrNull", 1, 1, convert::to_integer_or_null),
    f("toFloatOrNull", 1, 1, convert::to_float_or_null),
    f("toBooleanOrNull", 1, 1, convert::to_boolean_or_null),
    f("toStringList", 1, 1, convert::to_string_list),
    f("toIntegerList", 1, 1, convert::to_integer_list),
    f("toFloatList", 1, 1, convert::to_float_list),
    f("toBooleanList", 1, 1, convert::to_boolean_list),
    // Strings.
    f("toUpper", 1, 1, string::to_upper),
    f("toLower", 1, 1, string::to_lower),
    f("upper", 1, 1, string::to_upper),
    f("lower", 1, 1, string::to_lower),
    f("trim", 1, 1, string::trim),
    f("ltrim", 1, 1, string::ltrim),
    f("rtrim", 1, 1, string::rtrim),
    f("replace", 3, 3, string::replace),
    f("substring", 2, 3, string::substring),
    f("left", 2, 2, string::left),
    f("right", 2, 2, string::right),
    f("split", 2, 2, string::split),
    f("join", 2, 2, string::join),
    f("textIndexOf", 2, 4, string::text_index_of),
    // Numbers.
    f("abs", 1, 1, math::abs),
    f("ceil", 1, 1, math::ceil),
    f("floor", 1, 1, math::floor),
    f("round", 1, 3, math::round),
    f("sign", 1, 1, math::sign),
    f("isNaN", 1, 1, math::is_nan),
    f("sqrt", 1, 1, math::sqrt),
    f("exp", 1, 1, math::exp),
    f("log", 1, 1, math::log),
    f("log10", 1, 1, math::log10),
    f("e", 0, 0, math::e),
    f("pi", 0, 0, math::pi),
    volatile("rand", math::rand),
    f("sin", 1, 1, math::sin),
    f("cos", 1, 1, math::cos),
    f("tan", 1, 1, math::tan),
    f("cot", 1, 1, math::cot),
    f("asin", 1, 1, math::asin),
    f("acos", 1, 1, math::acos),
    f("atan", 1, 1, math::atan),
    f("atan2", 2, 2, math::atan2),
    f("sinh", 1, 1, math::sinh),
    f("cosh", 1, 1, math::cosh),
    f("tanh", 1, 1, math::tanh),
    f("coth", 1, 1, math::coth),
    f("degrees", 1, 1, math::degrees),
    f("radians", 1, 1, math::radians),
    f("haversin", 1, 1, math::haversin),
];

/// The scalar function called `name` (any case), if there is one.
pub fn scalar_function(name: &str) -> Option<&'static ScalarFunction> {
    SCALAR_FUNCTIONS
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_ignoring_case() {
        let mut seen = HashSet::new();
        for f in SCALAR_FUNCTIONS {
            assert!(seen.insert(f.name.to_ascii_lowercase()), "{}", f.name);
            assert!(f.max_args.is_none_or(|m| m >= f.min_args), "{}", f.name);
        }
    }

    #[test]
    fn lookup_ignores_case_and_checks_arity() {
        let f = scalar_function("TOINTEGER");
        assert_eq!(f.map(|f| f.name), Some("toInteger"));
        assert!(scalar_function("nosuchfunction").is_none());
        let err = scalar_function("substring").map(|f| f.call(&["a".into()]));
        assert_eq!(
            err.and_then(|r| r.err()).map(|e| e.code),
            Some(ErrorCode::InvalidNumberOfArguments)
        );
        let coalesce = scalar_function("coalesce").map(|f| f.call(&vec![Value::Null; 10]));
        assert_eq!(coalesce.and_then(|r| r.ok()), Some(Value::Null));
    }

    #[test]
    fn every_function_handles_null_arguments_without_panicking() {
        // Null everywhere must give null or a coded error, never a panic.
        for f in SCALAR_FUNCTIONS {
            let n = f.max_args.unwrap_or(f.min_args + 2);
            for k in f.min_args..=n {
                let _ = f.call(&vec![Value::Null; k]);
            }
        }
    }
}
