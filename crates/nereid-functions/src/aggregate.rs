//! Aggregate functions: `count`, `sum`, `avg`, `min`, `max`, `collect`, `stDev`, `stDevP`,
//! `percentileCont`, `percentileDisc`, each optionally `DISTINCT`.
//!
//! The engine creates one [`Aggregator`] per group with [`new_aggregator`], feeds it the
//! evaluated arguments of each row with [`Aggregator::update`] and reads the result with
//! [`Aggregator::finish`]. Every aggregate ignores null values (so an all-null or empty
//! group gives `0` for `count` and `sum`, `[]` for `collect`, `0.0` for the standard
//! deviations and null for the others). `DISTINCT` keeps the first occurrence of each value
//! under Cypher equivalence ([`GroupKey`]), so `1` and `1.0` count once.
//!
//! `count(*)` counts rows, nulls included: use [`count_star`] (a `count` aggregator given
//! no arguments does the same).

use std::collections::HashSet;

use nereid_common::{Error, ErrorCode};
use nereid_temporal::{Duration, Temporal};
use nereid_value::temporal::coded;
use nereid_value::{GroupKey, Value};

use crate::args::{short, type_error};
use crate::kinds::{may_accept, Kinds};

/// The running state of one aggregate over one group.
pub trait Aggregator: Send {
    /// Adds one row's evaluated arguments.
    fn update(&mut self, args: &[Value]) -> Result<(), Error>;
    /// The result, called once after the last update (an aggregator may hand over its
    /// state rather than copy it, so a second call need not give the same value).
    fn finish(&mut self) -> Result<Value, Error>;
    /// Hands over the state for [`merge`](Aggregator::merge) into another aggregator of the
    /// same function (partial aggregation on several threads); `None` when the function
    /// cannot be merged exactly (`collect` keeps order, DISTINCT keeps values, standard
    /// deviations and percentiles keep more than a sum). The default is `None`.
    fn take_partial(&mut self) -> Option<Partial> {
        None
    }
    /// Adds the rows another aggregator of the same function saw, as if this one had seen
    /// them after its own (for sums of floats, up to the order of additions).
    fn merge(&mut self, partial: Partial) -> Result<(), Error> {
        let _ = partial;
        Err(Error::internal("this aggregate cannot be merged"))
    }
}

/// The state of a mergeable aggregator (see [`Aggregator::take_partial`]).
pub struct Partial(PartialState);

enum PartialState {
    Count(i64),
    Sum(Sum),
    Avg(Avg),
    Extreme(Option<Value>),
}

/// Whether aggregators of `name` (any case) can hand over and merge their state.
pub fn mergeable(name: &str, distinct: bool) -> bool {
    !distinct
        && find(name)
            .is_some_and(|(n, _, _, _)| matches!(*n, "count" | "sum" | "avg" | "min" | "max"))
}

fn wrong_partial() -> Error {
    Error::internal("merged the state of a different aggregate")
}

/// Name (lower case), minimum and maximum argument count, accepted kinds per argument.
type Signature = (&'static str, usize, usize, &'static [Kinds]);

const AGGREGATES: &[Signature] = &[
    ("count", 1, 1, &[Kinds::ANY]),
    ("sum", 1, 1, &[Kinds::NUMBER.union(Kinds::TEMPORAL)]),
    ("avg", 1, 1, &[Kinds::NUMBER.union(Kinds::TEMPORAL)]),
    ("min", 1, 1, &[Kinds::ANY]),
    ("max", 1, 1, &[Kinds::ANY]),
    ("collect", 1, 1, &[Kinds::ANY]),
    ("stdev", 1, 1, &[Kinds::NUMBER]),
    ("stdevp", 1, 1, &[Kinds::NUMBER]),
    ("percentilecont", 2, 2, &[Kinds::NUMBER, Kinds::NUMBER]),
    ("percentiledisc", 2, 2, &[Kinds::NUMBER, Kinds::NUMBER]),
];

fn find(name: &str) -> Option<&'static Signature> {
    AGGREGATES
        .iter()
        .find(|(n, _, _, _)| n.eq_ignore_ascii_case(name))
}

/// Whether `name` (any case) is an aggregate function.
pub fn is_aggregate(name: &str) -> bool {
    find(name).is_some()
}

/// An aggregate's argument count `(min, max)`; `None` if `name` is not an aggregate.
/// `count(*)` is not counted here: it has no argument expression at all.
pub fn aggregate_arity(name: &str) -> Option<(usize, usize)> {
    find(name).map(|(_, min, max, _)| (*min, *max))
}

/// Whether argument `index` of aggregate `name` may be of kinds `given`: false only when
/// that is certainly a type error (`sum('a')`); true for unknown names.
pub fn aggregate_accepts(name: &str, index: usize, given: Kinds) -> bool {
    match find(name).and_then(|(_, _, _, params)| params.get(index)) {
        Some(accepted) => may_accept(*accepted, given),
        None => true,
    }
}

/// A fresh aggregator for `name` (any case), deduplicating its values when `distinct`.
pub fn new_aggregator(name: &str, distinct: bool) -> Option<Box<dyn Aggregator>> {
    let (canonical, _, _, _) = find(name)?;
    let inner: Box<dyn Aggregator> = match *canonical {
        "count" => Box::new(Count::default()),
        "sum" => Box::new(Sum::default()),
        "avg" => Box::new(Avg::default()),
        "min" => Box::new(Extreme::new(false)),
        "max" => Box::new(Extreme::new(true)),
        "collect" => Box::new(Collect::default()),
        "stdev" => Box::new(StDev::new(true)),
        "stdevp" => Box::new(StDev::new(false)),
        "percentilecont" => Box::new(Percentile::new(true)),
        "percentiledisc" => Box::new(Percentile::new(false)),
        _ => return None,
    };
    Some(if distinct {
        Box::new(Distinct {
            seen: HashSet::new(),
            inner,
        })
    } else {
        inner
    })
}

/// `count(*)`: counts every row.
pub fn count_star() -> Box<dyn Aggregator> {
    Box::new(Count::default())
}

/// The duration inside a temporal value, if it is one.
fn duration_of(v: &Value) -> Option<Duration> {
    match v {
        Value::Temporal(t) => match **t {
            Temporal::Duration(d) => Some(d),
            _ => None,
        },
        _ => None,
    }
}

/// The first argument: the aggregated value.
fn value(args: &[Value]) -> &Value {
    args.first().unwrap_or(&Value::Null)
}

/// Forwards only the first occurrence of each value (by equivalence) to `inner`.
struct Distinct {
    seen: HashSet<GroupKey>,
    inner: Box<dyn Aggregator>,
}

impl Aggregator for Distinct {
    fn update(&mut self, args: &[Value]) -> Result<(), Error> {
        let v = value(args);
        if v.is_null() {
            // Still forwarded: percentile arguments are validated on every row.
            return self.inner.update(args);
        }
        if self.seen.insert(GroupKey(vec![v.clone()])) {
            self.inner.update(args)
        } else {
            Ok(())
        }
    }
    fn finish(&mut self) -> Result<Value, Error> {
        self.inner.finish()
    }
}

#[derive(Default)]
struct Count {
    n: i64,
}

impl Aggregator for Count {
    fn update(&mut self, args: &[Value]) -> Result<(), Error> {
        // No argument: count(*), every row counts.
        if args.first().is_none_or(|v| !v.is_null()) {
            self.n += 1;
        }
        Ok(())
    }
    fn finish(&mut self) -> Result<Value, Error> {
        Ok(Value::Int(self.n))
    }
    fn take_partial(&mut self) -> Option<Partial> {
        Some(Partial(PartialState::Count(std::mem::take(&mut self.n))))
    }
    fn merge(&mut self, partial: Partial) -> Result<(), Error> {
        let PartialState::Count(n) = partial.0 else {
            return Err(wrong_partial());
        };
        self.n += n;
        Ok(())
    }
}

/// `sum`: an Integer while every value is an Integer (overflow is an error), a Float from
/// the first Float on; a Duration when the values are durations (numbers and durations do
/// not mix).
enum SumState {
    Int(i64),
    Float(f64),
    Duration(Duration),
}

struct Sum {
    state: SumState,
    /// Non-null values seen (a first duration switches the state from the numeric zero).
    n: u64,
}

impl Default for Sum {
    fn default() -> Self {
        Sum {
            state: SumState::Int(0),
            n: 0,
        }
    }
}

impl Aggregator for Sum {
    fn update(&mut self, args: &[Value]) -> Result<(), Error> {
        let v = value(args);
        let first = self.n == 0;
        if !v.is_null() {
            self.n += 1;
        }
        let duration = duration_of(v);
        self.state = match (&self.state, v) {
            (_, Value::Null) => return Ok(()),
            (_, _) if first && duration.is_some() => match duration {
                Some(d) => SumState::Duration(d),
                None => return Ok(()),
            },
            (SumState::Duration(s), other) => match duration {
                Some(d) => SumState::Duration(s.plus(&d).map_err(coded)?),
                None => return Err(type_error("sum", "durations only", other)),
            },
            (SumState::Int(s), Value::Int(i)) => {
                SumState::Int(s.checked_add(*i).ok_or_else(|| {
                    Error::new(
                        ErrorCode::ArithmeticOverflow,
                        format!("sum(): integer overflow adding {i} to {s}"),
                    )
                })?)
            }
            (SumState::Int(s), Value::Float(f)) => SumState::Float(*s as f64 + f),
            (SumState::Float(s), Value::Int(i)) => SumState::Float(s + *i as f64),
            (SumState::Float(s), Value::Float(f)) => SumState::Float(s + f),
            (_, other) => return Err(type_error("sum", "numbers", other)),
        };
        Ok(())
    }
    fn finish(&mut self) -> Result<Value, Error> {
        Ok(match self.state {
            SumState::Int(i) => Value::Int(i),
            SumState::Float(f) => Value::Float(f),
            SumState::Duration(d) => Value::from(Temporal::Duration(d)),
        })
    }
    fn take_partial(&mut self) -> Option<Partial> {
        Some(Partial(PartialState::Sum(std::mem::take(self))))
    }
    fn merge(&mut self, partial: Partial) -> Result<(), Error> {
        let PartialState::Sum(other) = partial.0 else {
            return Err(wrong_partial());
        };
        if other.n == 0 {
            return Ok(());
        }
        if self.n == 0 {
            *self = other;
            return Ok(());
        }
        self.n += other.n;
        self.state = match (&self.state, other.state) {
            (SumState::Int(a), SumState::Int(b)) => {
                SumState::Int(a.checked_add(b).ok_or_else(|| {
                    Error::new(
                        ErrorCode::ArithmeticOverflow,
                        format!("sum(): integer overflow adding {b} to {a}"),
                    )
                })?)
            }
            (SumState::Int(a), SumState::Float(b)) => SumState::Float(*a as f64 + b),
            (SumState::Float(a), SumState::Int(b)) => SumState::Float(a + b as f64),
            (SumState::Float(a), SumState::Float(b)) => SumState::Float(a + b),
            (SumState::Duration(a), SumState::Duration(b)) => {
                SumState::Duration(a.plus(&b).map_err(coded)?)
            }
            (SumState::Duration(_), _) => {
                return Err(Error::type_error(
                    "sum(): expected durations only, got a number",
                ))
            }
            (_, SumState::Duration(_)) => {
                return Err(Error::type_error("sum(): expected numbers, got a duration"))
            }
        };
        Ok(())
    }
}

/// `avg`: a Float; integers are summed exactly so that large ones do not overflow. Of
/// durations, a Duration (their sum divided by the count, fractions spilling into smaller
/// units as in `duration / n`).
#[derive(Default)]
pub struct Avg {
    n: u64,
    ints: i128,
    floats: f64,
    durations: Option<Duration>,
}

impl Avg {
    /// The state after `n` numbers whose integers sum to `ints` and whose floats, added in
    /// order, to `floats`: for a caller that summed plain numbers itself and hands over at
    /// the first other value.
    pub fn of_numbers(n: u64, ints: i128, floats: f64) -> Self {
        Avg {
            n,
            ints,
            floats,
            durations: None,
        }
    }
}

impl Aggregator for Avg {
    fn update(&mut self, args: &[Value]) -> Result<(), Error> {
        let duration = duration_of(value(args));
        match (value(args), self.durations) {
            (Value::Null, _) => return Ok(()),
            (_, Some(sum)) if duration.is_some() => {
                if let Some(d) = duration {
                    self.durations = Some(sum.plus(&d).map_err(coded)?)
                }
            }
            (_, None) if self.n == 0 && duration.is_some() => self.durations = duration,
            (Value::Int(i), None) => self.ints += i128::from(*i),
            (Value::Float(f), None) => self.floats += f,
            (other, Some(_)) => return Err(type_error("avg", "durations only", other)),
            (other, None) => return Err(type_error("avg", "numbers or durations", other)),
        }
        self.n += 1;
        Ok(())
    }
    fn finish(&mut self) -> Result<Value, Error> {
        Ok(match (self.n, self.durations) {
            (0, _) => Value::Null,
            (n, Some(sum)) => Value::from(Temporal::Duration(sum.div(n as f64).map_err(coded)?)),
            (n, None) => Value::Float((self.ints as f64 + self.floats) / n as f64),
        })
    }
    fn take_partial(&mut self) -> Option<Partial> {
        Some(Partial(PartialState::Avg(std::mem::take(self))))
    }
    fn merge(&mut self, partial: Partial) -> Result<(), Error> {
        let PartialState::Avg(other) = partial.0 else {
            return Err(wrong_partial());
        };
        if other.n == 0 {
            return Ok(());
        }
        if self.n == 0 {
            *self = other;
            return Ok(());
        }
        self.durations = match (self.durations, other.durations) {
            (Some(a), Some(b)) => Some(a.plus(&b).map_err(coded)?),
            (None, None) => None,
            _ => {
                return Err(Error::type_error(
                    "avg(): expected numbers or durations, not both",
                ))
            }
        };
        self.n += other.n;
        self.ints += other.ints;
        self.floats += other.floats;
        Ok(())
    }
}

/// `min` / `max` under Cypher orderability, so mixed types work: lists < strings <
/// booleans < numbers.
pub struct Extreme {
    max: bool,
    best: Option<Value>,
}

impl Extreme {
    /// `max` when `max`, else `min`.
    pub fn new(max: bool) -> Self {
        Extreme { max, best: None }
    }
}

impl Aggregator for Extreme {
    fn update(&mut self, args: &[Value]) -> Result<(), Error> {
        let v = value(args);
        if v.is_null() {
            return Ok(());
        }
        let better = match &self.best {
            None => true,
            Some(b) => {
                let o = v.order_cmp(b);
                if self.max {
                    o.is_gt()
                } else {
                    o.is_lt()
                }
            }
        };
        if better {
            self.best = Some(v.clone());
        }
        Ok(())
    }
    fn finish(&mut self) -> Result<Value, Error> {
        Ok(self.best.clone().unwrap_or(Value::Null))
    }
    fn take_partial(&mut self) -> Option<Partial> {
        Some(Partial(PartialState::Extreme(self.best.take())))
    }
    fn merge(&mut self, partial: Partial) -> Result<(), Error> {
        let PartialState::Extreme(best) = partial.0 else {
            return Err(wrong_partial());
        };
        match best {
            Some(v) => self.update(std::slice::from_ref(&v)),
            None => Ok(()),
        }
    }
}

#[derive(Default)]
struct Collect {
    items: Vec<Value>,
}

impl Aggregator for Collect {
    fn update(&mut self, args: &[Value]) -> Result<(), Error> {
        let v = value(args);
        if !v.is_null() {
            self.items.push(v.clone());
        }
        Ok(())
    }
    fn finish(&mut self) -> Result<Value, Error> {
        // Hand the list over: collect() of a large group would otherwise be copied.
        Ok(Value::List(std::mem::take(&mut self.items)))
    }
}

/// `stDev` (sample) and `stDevP` (population), by Welford's numerically stable update.
struct StDev {
    sample: bool,
    n: u64,
    mean: f64,
    m2: f64,
}

impl StDev {
    fn new(sample: bool) -> Self {
        StDev {
            sample,
            n: 0,
            mean: 0.0,
            m2: 0.0,
        }
    }
}

impl Aggregator for StDev {
    fn update(&mut self, args: &[Value]) -> Result<(), Error> {
        let x = match value(args) {
            Value::Null => return Ok(()),
            Value::Int(i) => *i as f64,
            Value::Float(f) => *f,
            other => {
                let name = if self.sample { "stDev" } else { "stDevP" };
                return Err(type_error(name, "numbers", other));
            }
        };
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
        Ok(())
    }
    fn finish(&mut self) -> Result<Value, Error> {
        let divisor = if self.sample {
            self.n.saturating_sub(1)
        } else {
            self.n
        };
        Ok(Value::Float(if divisor == 0 {
            0.0
        } else {
            (self.m2 / divisor as f64).sqrt()
        }))
    }
}

/// `percentileCont(value, p)` (linear interpolation, a Float) and `percentileDisc(value,
/// p)` (the smallest value at or above the percentile, as it was). `p` must be a number
/// in [0, 1] on every row; the first row's `p` is the one used.
struct Percentile {
    continuous: bool,
    percentile: Option<f64>,
    values: Vec<Value>,
}

impl Percentile {
    fn new(continuous: bool) -> Self {
        Percentile {
            continuous,
            percentile: None,
            values: Vec::new(),
        }
    }
    fn name(&self) -> &'static str {
        if self.continuous {
            "percentileCont"
        } else {
            "percentileDisc"
        }
    }
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => f64::NAN,
    }
}

impl Aggregator for Percentile {
    fn update(&mut self, args: &[Value]) -> Result<(), Error> {
        let p_arg = args.get(1).unwrap_or(&Value::Null);
        let p = match p_arg {
            Value::Int(i) => *i as f64,
            Value::Float(f) => *f,
            Value::Null => f64::NAN,
            other => return Err(type_error(self.name(), "a number percentile", other)),
        };
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::new(
                ErrorCode::NumberOutOfRange,
                format!(
                    "{}(): the percentile must be a number between 0.0 and 1.0, got {}",
                    self.name(),
                    short(p_arg)
                ),
            ));
        }
        self.percentile.get_or_insert(p);
        match value(args) {
            Value::Null => {}
            v @ (Value::Int(_) | Value::Float(_)) => self.values.push(v.clone()),
            other => return Err(type_error(self.name(), "numbers", other)),
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<Value, Error> {
        let (Some(p), false) = (self.percentile, self.values.is_empty()) else {
            return Ok(Value::Null);
        };
        self.values.sort_by(|a, b| a.order_cmp(b));
        let n = self.values.len();
        let last = n - 1;
        if self.continuous {
            let pos = p * last as f64;
            let lo = (pos.floor() as usize).min(last);
            let hi = (pos.ceil() as usize).min(last);
            let (a, b) = (as_f64(&self.values[lo]), as_f64(&self.values[hi]));
            Ok(Value::Float(if lo == hi {
                a
            } else {
                a + (b - a) * (pos - lo as f64)
            }))
        } else {
            // The smallest value whose cumulative share reaches p: index ceil(p·n) - 1.
            let idx = ((p * n as f64).ceil() as usize).saturating_sub(1).min(last);
            Ok(self.values[idx].clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, distinct: bool, rows: &[Vec<Value>]) -> Result<Value, Error> {
        let mut a = new_aggregator(name, distinct)
            .ok_or_else(|| Error::internal(format!("no aggregate {name}")))?;
        for r in rows {
            a.update(r)?;
        }
        a.finish()
    }
    fn col(vals: &[Value]) -> Vec<Vec<Value>> {
        vals.iter().map(|v| vec![v.clone()]).collect()
    }
    fn with_p(vals: &[Value], p: Value) -> Vec<Vec<Value>> {
        vals.iter().map(|v| vec![v.clone(), p.clone()]).collect()
    }
    fn code(r: Result<Value, Error>) -> ErrorCode {
        match r {
            Err(e) => e.code,
            Ok(v) => panic!("expected an error, got {v}"),
        }
    }
    const N: Value = Value::Null;

    #[test]
    fn catalogue() {
        assert!(is_aggregate("COLLECT"));
        assert!(is_aggregate("stDevP"));
        assert!(!is_aggregate("size"));
        assert_eq!(aggregate_arity("percentileDisc"), Some((2, 2)));
        assert_eq!(aggregate_arity("count"), Some((1, 1)));
        assert!(new_aggregator("nope", false).is_none());
        assert!(!aggregate_accepts("sum", 0, Kinds::STRING));
        assert!(aggregate_accepts("sum", 0, Kinds::FLOAT));
        assert!(aggregate_accepts("collect", 0, Kinds::PATH));
        assert!(!aggregate_accepts("percentileCont", 1, Kinds::LIST));
    }

    #[test]
    fn count_skips_nulls_and_count_star_does_not() {
        assert_eq!(
            run("count", false, &col(&[1.into(), N, 2.into()])).ok(),
            Some(2.into())
        );
        assert_eq!(run("count", false, &[]).ok(), Some(0.into()));
        let mut star = count_star();
        for _ in 0..3 {
            assert!(star.update(&[]).is_ok());
        }
        assert_eq!(star.finish().ok(), Some(3.into()));
        assert_eq!(
            run(
                "count",
                true,
                &col(&[1.into(), 1.0.into(), N, 2.into(), 2.into()])
            )
            .ok(),
            Some(2.into())
        );
        assert_eq!(run("count", true, &col(&[N, N])).ok(), Some(0.into()));
    }

    #[test]
    fn sum_stays_integer_until_a_float_and_checks_overflow() {
        assert_eq!(
            run("sum", false, &col(&[33.into(), N, 42.into()])).ok(),
            Some(75.into())
        );
        let big: Vec<Value> = (1_000_000..1_003_000).map(Value::Int).collect();
        assert_eq!(
            run("sum", false, &col(&big)).ok(),
            Some(3_004_498_500i64.into())
        );
        assert_eq!(
            run("sum", false, &col(&[1.into(), 0.5.into()])).ok(),
            Some(1.5.into())
        );
        assert_eq!(run("sum", false, &[]).ok(), Some(0.into()));
        assert_eq!(
            code(run("sum", false, &col(&[i64::MAX.into(), 1.into()]))),
            ErrorCode::ArithmeticOverflow
        );
        assert_eq!(
            code(run("sum", false, &col(&["a".into()]))),
            ErrorCode::InvalidArgumentType
        );
        assert_eq!(
            run("sum", true, &col(&[2.into(), 2.into(), 3.into()])).ok(),
            Some(5.into())
        );
    }

    #[test]
    fn avg_is_float_and_null_when_empty() {
        assert_eq!(
            run("avg", false, &col(&[1.into(), 2.into(), N])).ok(),
            Some(1.5.into())
        );
        assert_eq!(
            run("avg", false, &col(&[i64::MAX.into(), i64::MAX.into()])).ok(),
            Some((i64::MAX as f64).into())
        );
        assert_eq!(run("avg", false, &col(&[N])).ok(), Some(N));
        assert_eq!(
            code(run("avg", false, &col(&[true.into()]))),
            ErrorCode::InvalidArgumentType
        );
    }

    #[test]
    fn sum_and_avg_of_durations() {
        let d = |s: &str| Value::from(Temporal::Duration(Duration::parse(s).unwrap()));
        let durations = [d("P1M"), Value::Null, d("PT1H"), d("P1D")];
        assert_eq!(
            run("sum", false, &col(&durations)).ok(),
            Some(d("P1M1DT1H"))
        );
        assert_eq!(
            run("avg", false, &col(&[d("PT1H"), d("PT2H")])).ok(),
            Some(d("PT1H30M"))
        );
        assert!(run("sum", false, &col(&[d("PT1H"), Value::Int(1)])).is_err());
        assert!(run("avg", false, &col(&[Value::Int(1), d("PT1H")])).is_err());
        assert_eq!(
            run("sum", false, &col(&[Value::Null])).ok(),
            Some(Value::Int(0))
        );
    }

    #[test]
    fn min_and_max_follow_the_tck() {
        let ints = col(&[1.into(), 2.into(), 0.into(), N, (-1).into()]);
        assert_eq!(run("max", false, &ints).ok(), Some(2.into()));
        assert_eq!(run("min", false, &ints).ok(), Some((-1).into()));
        let mixed_num = col(&[1.into(), 2.0.into(), 5.into(), N, 3.2.into(), 0.1.into()]);
        assert_eq!(run("max", false, &mixed_num).ok(), Some(5.into()));
        assert_eq!(run("min", false, &mixed_num).ok(), Some(0.1.into()));
        let strs = col(&[
            "a".into(),
            "b".into(),
            "B".into(),
            N,
            "abc".into(),
            "abc1".into(),
        ]);
        assert_eq!(run("max", false, &strs).ok(), Some("b".into()));
        assert_eq!(run("min", false, &strs).ok(), Some("B".into()));
        let l = |v: &[i64]| Value::List(v.iter().map(|i| Value::Int(*i)).collect());
        let lists = col(&[l(&[1]), l(&[2]), l(&[2, 1])]);
        assert_eq!(run("max", false, &lists).ok(), Some(l(&[2, 1])));
        assert_eq!(run("min", false, &lists).ok(), Some(l(&[1])));
        let mixed = col(&[1.into(), "a".into(), N, l(&[1, 2]), 0.2.into(), "b".into()]);
        assert_eq!(run("max", false, &mixed).ok(), Some(1.into()));
        assert_eq!(run("min", false, &mixed).ok(), Some(l(&[1, 2])));
        assert_eq!(run("min", false, &col(&[N])).ok(), Some(N));
    }

    #[test]
    fn collect_skips_nulls_and_dedups_when_distinct() {
        assert_eq!(
            run("collect", false, &col(&[1.into(), N, 1.into()])).ok(),
            Some(Value::List(vec![1.into(), 1.into()]))
        );
        assert_eq!(
            run("collect", true, &col(&[N, N])).ok(),
            Some(Value::List(vec![]))
        );
        assert_eq!(
            run("collect", true, &col(&[N, 1.into(), N])).ok(),
            Some(Value::List(vec![1.into()]))
        );
        assert_eq!(run("collect", false, &[]).ok(), Some(Value::List(vec![])));
    }

    #[test]
    fn standard_deviations() {
        let vals = col(&[
            2.into(),
            4.into(),
            4.into(),
            4.into(),
            5.into(),
            5.into(),
            7.into(),
            9.into(),
        ]);
        assert_eq!(run("stDevP", false, &vals).ok(), Some(2.0.into()));
        match run("stDev", false, &vals) {
            Ok(Value::Float(s)) => assert!((s - 2.138_089_935_299_395).abs() < 1e-12),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            run("stDev", false, &col(&[1.into()])).ok(),
            Some(0.0.into())
        );
        assert_eq!(run("stDevP", false, &[]).ok(), Some(0.0.into()));
        assert_eq!(
            code(run("stDev", false, &col(&["x".into()]))),
            ErrorCode::InvalidArgumentType
        );
    }

    #[test]
    fn percentiles_follow_the_tck() {
        let prices = [10.0.into(), 20.0.into(), 30.0.into()];
        for (p, want) in [(0.0, 10.0), (0.5, 20.0), (1.0, 30.0)] {
            assert_eq!(
                run("percentileDisc", false, &with_p(&prices, p.into())).ok(),
                Some(want.into())
            );
            assert_eq!(
                run("percentileCont", false, &with_p(&prices, p.into())).ok(),
                Some(want.into())
            );
        }
        let ints: Vec<Value> = (1..=4).map(Value::Int).collect();
        assert_eq!(
            run("percentileCont", false, &with_p(&ints, 0.5.into())).ok(),
            Some(2.5.into())
        );
        assert_eq!(
            run("percentileDisc", false, &with_p(&ints, 0.5.into())).ok(),
            Some(2.into())
        );
        assert_eq!(
            run("percentileDisc", false, &with_p(&ints, 0.51.into())).ok(),
            Some(3.into())
        );
        for bad in [Value::from(1000), (-1).into(), 1.1.into(), N] {
            for name in ["percentileCont", "percentileDisc"] {
                assert_eq!(
                    code(run(name, false, &with_p(&[10.0.into()], bad.clone()))),
                    ErrorCode::NumberOutOfRange
                );
            }
        }
        // percentileDisc(0.90, deg) with deg > 2: the percentile argument is out of range.
        assert_eq!(
            code(run("percentileDisc", false, &[vec![0.9.into(), 3.into()]])),
            ErrorCode::NumberOutOfRange
        );
        assert_eq!(
            run("percentileCont", false, &with_p(&[N], 0.5.into())).ok(),
            Some(N)
        );
        assert_eq!(
            code(run(
                "percentileCont",
                false,
                &with_p(&["a".into()], 0.5.into())
            )),
            ErrorCode::InvalidArgumentType
        );
    }

    #[test]
    fn aggregators_are_send() {
        fn assert_send<T: Send>(_: T) {}
        if let Some(a) = new_aggregator("collect", true) {
            assert_send(a);
        }
    }

    /// Runs `name` over `values` in one aggregator, and split at every point into two whose
    /// states are merged: the same result (or error) either way.
    fn check_merge_law(name: &str, values: &[Value]) {
        let run = |vals: &[Value]| {
            let mut a = new_aggregator(name, false).unwrap();
            for v in vals {
                a.update(std::slice::from_ref(v))?;
            }
            Ok::<_, Error>(a)
        };
        let whole = run(values).and_then(|mut a| a.finish());
        for cut in 0..=values.len() {
            let merged = run(&values[..cut]).and_then(|mut first| {
                let mut second = run(&values[cut..])?;
                first.merge(second.take_partial().expect("mergeable"))?;
                first.finish()
            });
            match (&whole, &merged) {
                (Ok(w), Ok(m)) => assert!(w.equivalent(m), "{name} cut {cut}: {w} vs {m}"),
                (Err(w), Err(m)) => assert_eq!(w.code, m.code, "{name} cut {cut}"),
                _ => panic!("{name} cut {cut}: {whole:?} vs {merged:?}"),
            }
        }
    }

    #[test]
    fn merged_partial_states_give_the_sequential_result() {
        let ints: Vec<Value> = [3, -1, 7, 0, 12].map(Value::Int).to_vec();
        let mut with_null = ints.clone();
        with_null.insert(2, Value::Null);
        let mixed = vec![Value::Int(1), Value::Float(0.5), Value::Null, Value::Int(2)];
        let day =
            |d: i64| crate::call_scalar("duration", &[Value::from(format!("P{d}D"))]).unwrap();
        let durations = vec![day(1), Value::Null, day(2), day(4)];
        let strings = vec![Value::from("b"), Value::from("a"), Value::Int(3)];
        for name in ["count", "sum", "avg", "min", "max"] {
            assert!(mergeable(name, false));
            assert!(!mergeable(name, true));
            for values in [&ints, &with_null, &mixed, &vec![], &vec![Value::Null]] {
                check_merge_law(name, values);
            }
        }
        for name in ["sum", "avg", "min", "max", "count"] {
            check_merge_law(name, &durations);
        }
        for name in ["min", "max", "count"] {
            check_merge_law(name, &strings);
        }
        // A number after durations is a type error, merged or not.
        let bad = vec![day(1), Value::Int(1)];
        check_merge_law("sum", &bad);
        check_merge_law("avg", &bad);
        for name in ["collect", "stdev", "stdevp", "percentilecont"] {
            assert!(!mergeable(name, false));
        }
        assert!(new_aggregator("collect", false)
            .unwrap()
            .take_partial()
            .is_none());
    }
}
