//! The catalogue of scalar functions: one [`ScalarFunction`] row per name, with its arity
//! and whether it is deterministic (safe to constant-fold). Lookup ignores ASCII case, as
//! Cypher function names do. Each family lives in its own module.

pub(crate) mod convert;
pub mod list;
pub(crate) mod map;
pub(crate) mod math;
pub(crate) mod misc;
pub(crate) mod string;
pub mod temporal;

use nereid_common::{Error, ErrorCode};
use nereid_value::Value;

use crate::kinds::{may_accept, Kinds};

const TO_STRING: Kinds = Kinds::BOOLEAN
    .union(Kinds::NUMBER)
    .union(Kinds::STRING)
    .union(Kinds::TEMPORAL);
const TO_INTEGER: Kinds = Kinds::BOOLEAN.union(Kinds::NUMBER).union(Kinds::STRING);
const TO_FLOAT: Kinds = Kinds::NUMBER.union(Kinds::STRING);
const TO_BOOLEAN: Kinds = Kinds::BOOLEAN.union(Kinds::INTEGER).union(Kinds::STRING);

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
    /// What each parameter accepts in Cypher (the kinds the engine resolves itself, such as
    /// nodes for `keys`, included); a variadic function repeats its last entry.
    pub params: &'static [Kinds],
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

    /// Whether an argument of kinds `given` at position `index` may be accepted; false only
    /// when it certainly raises a type error. See [`crate::kinds`].
    pub fn accepts(&self, index: usize, given: Kinds) -> bool {
        match self.params.get(index).or(self.params.last()) {
            Some(accepted) => may_accept(*accepted, given),
            None => true,
        }
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

const fn f(
    name: &'static str,
    min_args: usize,
    params: &'static [Kinds],
    f: ScalarFn,
) -> ScalarFunction {
    ScalarFunction {
        name,
        min_args,
        max_args: Some(params.len()),
        deterministic: true,
        params,
        f,
    }
}

/// A function that may read the clock: never constant-folded.
const fn clock_reader(
    name: &'static str,
    min_args: usize,
    params: &'static [Kinds],
    body: ScalarFn,
) -> ScalarFunction {
    ScalarFunction {
        deterministic: false,
        ..f(name, min_args, params, body)
    }
}

const fn volatile(name: &'static str, f: ScalarFn) -> ScalarFunction {
    ScalarFunction {
        name,
        min_args: 0,
        max_args: Some(0),
        deterministic: false,
        params: &[],
        f,
    }
}

// Parameter kinds, named for the table below.
const ANY: Kinds = Kinds::ANY;
const NUM: Kinds = Kinds::NUMBER;
const INT: Kinds = Kinds::INTEGER;
const STR: Kinds = Kinds::STRING;
const LIST: Kinds = Kinds::LIST;
const MAP: Kinds = Kinds::MAP;
const STR_OR_LIST: Kinds = Kinds::STRING.union(Kinds::LIST);
const ENTITY_OR_MAP: Kinds = Kinds::MAP.union(Kinds::NODE).union(Kinds::RELATIONSHIP);
const TEMPORAL: Kinds = Kinds::TEMPORAL;
const TEMPORAL_SOURCE: Kinds = Kinds::STRING.union(Kinds::MAP).union(Kinds::TEMPORAL);
const ZONE: Kinds = Kinds::STRING.union(Kinds::MAP);

/// Every scalar function this crate implements.
pub static SCALAR_FUNCTIONS: &[ScalarFunction] = &[
    // General.
    ScalarFunction {
        name: "coalesce",
        min_args: 1,
        max_args: None,
        deterministic: true,
        params: &[ANY],
        f: misc::coalesce,
    },
    volatile("timestamp", misc::timestamp),
    volatile("randomUUID", misc::random_uuid),
    // Lists (and strings for size/reverse).
    f("size", 1, &[STR_OR_LIST], list::size),
    f("char_length", 1, &[STR], list::char_length),
    f("character_length", 1, &[STR], list::char_length),
    f("isEmpty", 1, &[STR_OR_LIST.union(MAP)], list::is_empty),
    f("head", 1, &[LIST], list::head),
    f("last", 1, &[LIST], list::last),
    f("tail", 1, &[LIST], list::tail),
    f("reverse", 1, &[STR_OR_LIST], list::reverse),
    f("range", 2, &[INT, INT, INT], list::range),
    f("collToSet", 1, &[LIST], list::coll_to_set),
    f("collSubtract", 2, &[LIST, LIST], list::coll_subtract),
    f(
        "collIntersection",
        2,
        &[LIST, LIST],
        list::coll_intersection,
    ),
    f("collSort", 1, &[LIST, MAP], list::coll_sort),
    f("collSortMaps", 2, &[LIST, MAP], list::coll_sort_maps),
    f(
        "collSortMulti",
        1,
        &[LIST, LIST, INT, INT],
        list::coll_sort_multi,
    ),
    // Maps.
    f("keys", 1, &[ENTITY_OR_MAP], map::keys),
    f("properties", 1, &[ENTITY_OR_MAP], map::properties),
    f("removeKeyFromMap", 2, &[MAP, STR], map::remove_key_from_map),
    // Conversions.
    f("toString", 1, &[TO_STRING], convert::to_string),
    f("toInteger", 1, &[TO_INTEGER], convert::to_integer),
    f("toFloat", 1, &[TO_FLOAT], convert::to_float),
    f("toBoolean", 1, &[TO_BOOLEAN], convert::to_boolean),
    f("toStringOrNull", 1, &[ANY], convert::to_string_or_null),
    f("toIntegerOrNull", 1, &[ANY], convert::to_integer_or_null),
    f("toFloatOrNull", 1, &[ANY], convert::to_float_or_null),
    f("toBooleanOrNull", 1, &[ANY], convert::to_boolean_or_null),
    f("toStringList", 1, &[LIST], convert::to_string_list),
    f("toIntegerList", 1, &[LIST], convert::to_integer_list),
    f("toFloatList", 1, &[LIST], convert::to_float_list),
    f("toBooleanList", 1, &[LIST], convert::to_boolean_list),
    // Strings.
    f("toUpper", 1, &[STR], string::to_upper),
    f("toLower", 1, &[STR], string::to_lower),
    f("upper", 1, &[STR], string::to_upper),
    f("lower", 1, &[STR], string::to_lower),
    f("trim", 1, &[STR], string::trim),
    f("ltrim", 1, &[STR], string::ltrim),
    f("rtrim", 1, &[STR], string::rtrim),
    f("replace", 3, &[STR, STR, STR], string::replace),
    f("substring", 2, &[STR, INT, INT], string::substring),
    f("left", 2, &[STR, INT], string::left),
    f("right", 2, &[STR, INT], string::right),
    f("split", 2, &[STR, STR_OR_LIST], string::split),
    f("join", 2, &[LIST, STR], string::join),
    f(
        "textIndexOf",
        2,
        &[STR, STR, INT, INT],
        string::text_index_of,
    ),
    // Numbers.
    f("abs", 1, &[NUM], math::abs),
    f("ceil", 1, &[NUM], math::ceil),
    f("floor", 1, &[NUM], math::floor),
    f("round", 1, &[NUM, INT, STR], math::round),
    f("sign", 1, &[NUM], math::sign),
    f("isNaN", 1, &[NUM], math::is_nan),
    f("sqrt", 1, &[NUM], math::sqrt),
    f("exp", 1, &[NUM], math::exp),
    f("log", 1, &[NUM], math::log),
    f("log10", 1, &[NUM], math::log10),
    f("e", 0, &[], math::e),
    f("pi", 0, &[], math::pi),
    volatile("rand", math::rand),
    f("sin", 1, &[NUM], math::sin),
    f("cos", 1, &[NUM], math::cos),
    f("tan", 1, &[NUM], math::tan),
    f("cot", 1, &[NUM], math::cot),
    f("asin", 1, &[NUM], math::asin),
    f("acos", 1, &[NUM], math::acos),
    f("atan", 1, &[NUM], math::atan),
    f("atan2", 2, &[NUM, NUM], math::atan2),
    f("sinh", 1, &[NUM], math::sinh),
    f("cosh", 1, &[NUM], math::cosh),
    f("tanh", 1, &[NUM], math::tanh),
    f("coth", 1, &[NUM], math::coth),
    f("degrees", 1, &[NUM], math::degrees),
    f("radians", 1, &[NUM], math::radians),
    f("haversin", 1, &[NUM], math::haversin),
    // Temporal values. Constructors read the statement clock when given no argument (or
    // only a time zone), so they are never constant-folded.
    clock_reader("date", 0, &[TEMPORAL_SOURCE], temporal::date),
    clock_reader("date.transaction", 0, &[ZONE], temporal::date_transaction),
    clock_reader("date.statement", 0, &[ZONE], temporal::date_statement),
    clock_reader("date.realtime", 0, &[ZONE], temporal::date_realtime),
    f(
        "date.truncate",
        2,
        &[STR, TEMPORAL, MAP],
        temporal::date_truncate,
    ),
    clock_reader("localtime", 0, &[TEMPORAL_SOURCE], temporal::localtime),
    clock_reader(
        "localtime.transaction",
        0,
        &[ZONE],
        temporal::localtime_transaction,
    ),
    clock_reader(
        "localtime.statement",
        0,
        &[ZONE],
        temporal::localtime_statement,
    ),
    clock_reader(
        "localtime.realtime",
        0,
        &[ZONE],
        temporal::localtime_realtime,
    ),
    f(
        "localtime.truncate",
        2,
        &[STR, TEMPORAL, MAP],
        temporal::localtime_truncate,
    ),
    clock_reader("time", 0, &[TEMPORAL_SOURCE], temporal::time),
    clock_reader("time.transaction", 0, &[ZONE], temporal::time_transaction),
    clock_reader("time.statement", 0, &[ZONE], temporal::time_statement),
    clock_reader("time.realtime", 0, &[ZONE], temporal::time_realtime),
    // A named zone in the map takes its offset from the statement clock.
    clock_reader(
        "time.truncate",
        2,
        &[STR, TEMPORAL, MAP],
        temporal::time_truncate,
    ),
    clock_reader(
        "localdatetime",
        0,
        &[TEMPORAL_SOURCE],
        temporal::localdatetime,
    ),
    clock_reader(
        "localdatetime.transaction",
        0,
        &[ZONE],
        temporal::localdatetime_transaction,
    ),
    clock_reader(
        "localdatetime.statement",
        0,
        &[ZONE],
        temporal::localdatetime_statement,
    ),
    clock_reader(
        "localdatetime.realtime",
        0,
        &[ZONE],
        temporal::localdatetime_realtime,
    ),
    f(
        "localdatetime.truncate",
        2,
        &[STR, TEMPORAL, MAP],
        temporal::localdatetime_truncate,
    ),
    clock_reader("datetime", 0, &[TEMPORAL_SOURCE], temporal::datetime),
    clock_reader(
        "datetime.transaction",
        0,
        &[ZONE],
        temporal::datetime_transaction,
    ),
    clock_reader(
        "datetime.statement",
        0,
        &[ZONE],
        temporal::datetime_statement,
    ),
    clock_reader("datetime.realtime", 0, &[ZONE], temporal::datetime_realtime),
    f(
        "datetime.truncate",
        2,
        &[STR, TEMPORAL, MAP],
        temporal::datetime_truncate,
    ),
    f("datetime.fromepoch", 2, &[INT, INT], temporal::from_epoch),
    f(
        "datetime.fromepochmillis",
        1,
        &[INT],
        temporal::from_epoch_millis,
    ),
    f(
        "duration",
        1,
        &[STR.union(MAP).union(TEMPORAL)],
        temporal::duration,
    ),
    f(
        "duration.between",
        2,
        &[TEMPORAL, TEMPORAL],
        temporal::duration_between,
    ),
    f(
        "duration.inMonths",
        2,
        &[TEMPORAL, TEMPORAL],
        temporal::duration_in_months,
    ),
    f(
        "duration.inDays",
        2,
        &[TEMPORAL, TEMPORAL],
        temporal::duration_in_days,
    ),
    f(
        "duration.inSeconds",
        2,
        &[TEMPORAL, TEMPORAL],
        temporal::duration_in_seconds,
    ),
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
    fn static_kinds_reject_only_certain_type_errors() {
        let accepts =
            |name: &str, i: usize, k: Kinds| scalar_function(name).is_some_and(|f| f.accepts(i, k));
        assert!(!accepts("size", 0, Kinds::PATH));
        assert!(accepts("size", 0, Kinds::STRING));
        assert!(accepts("size", 0, Kinds::ANY));
        assert!(!accepts("properties", 0, Kinds::INTEGER));
        assert!(!accepts("properties", 0, Kinds::LIST));
        assert!(accepts("properties", 0, Kinds::NODE));
        assert!(accepts("coalesce", 7, Kinds::PATH));
        assert!(!accepts("toBoolean", 0, Kinds::FLOAT));
        assert!(!accepts("range", 2, Kinds::FLOAT));
        assert!(accepts("substring", 1, Kinds::NULL));
    }

    #[test]
    fn static_kinds_agree_with_the_implementations() {
        // A value of a kind the table rejects must raise a type error (or, for the
        // conversions, InvalidArgumentValue) when the other arguments are well typed.
        let samples = [
            Value::Bool(true),
            Value::Int(1),
            Value::Float(0.5),
            Value::String("1".into()),
            Value::List(vec![]),
            Value::Map(Default::default()),
            Value::from(nereid_temporal::Temporal::Date(
                nereid_temporal::Date::from_ymd(2000, 1, 1).expect("valid date"),
            )),
        ];
        let good = |k: Kinds| samples.iter().find(|v| k.contains(Kinds::of(v))).cloned();
        for f in SCALAR_FUNCTIONS {
            for (i, accepted) in f.params.iter().enumerate() {
                for bad in samples
                    .iter()
                    .filter(|v| !accepted.intersects(Kinds::of(v)))
                {
                    let mut args: Vec<Value> = f
                        .params
                        .iter()
                        .map(|k| good(*k).unwrap_or(Value::Null))
                        .collect();
                    args[i] = bad.clone();
                    match f.call(&args) {
                        Err(e) => assert!(
                            matches!(
                                e.code,
                                ErrorCode::InvalidArgumentType | ErrorCode::InvalidArgumentValue
                            ),
                            "{}({args:?}): {e}",
                            f.name
                        ),
                        Ok(v) => panic!("{}({args:?}) accepted {bad}: {v}", f.name),
                    }
                }
                // And a kind the table accepts is never a type error.
                for ok in samples.iter().filter(|v| accepted.contains(Kinds::of(v))) {
                    let mut args: Vec<Value> = f
                        .params
                        .iter()
                        .map(|k| good(*k).unwrap_or(Value::Null))
                        .collect();
                    args[i] = ok.clone();
                    if let Err(e) = f.call(&args) {
                        assert_ne!(
                            e.code,
                            ErrorCode::InvalidArgumentType,
                            "{}({args:?}): {e}",
                            f.name
                        );
                    }
                }
            }
        }
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
