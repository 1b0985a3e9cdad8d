//! Laws that tie the functions to each other and to nereid-value's comparison rules,
//! checked on pseudo-random values through the public API only (as the engine uses it).

use nereid_common::ErrorCode;
use nereid_functions::{call_scalar, new_aggregator, ops};
use nereid_value::{GroupKey, Value};

/// A small deterministic generator, so that a failure is reproducible.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 11
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn int(&mut self) -> i64 {
        match self.below(4) {
            0 => [i64::MIN, i64::MAX, 0, -1][self.below(4) as usize],
            _ => self.below(2001) as i64 - 1000,
        }
    }
    fn float(&mut self) -> f64 {
        match self.below(8) {
            0 => [f64::NAN, f64::INFINITY, -0.0, 1e300][self.below(4) as usize],
            _ => (self.below(20001) as f64 - 10000.0) / 64.0,
        }
    }
    fn value(&mut self, depth: u32) -> Value {
        match self.below(if depth == 0 { 5 } else { 6 }) {
            0 => Value::Null,
            1 => Value::Int(self.int()),
            2 => Value::Float(self.float()),
            3 => Value::String(["", "a", "b", "ab", "é"][self.below(5) as usize].to_owned()),
            4 => Value::Bool(self.below(2) == 0),
            _ => {
                let n = self.below(4);
                Value::List((0..n).map(|_| self.value(depth - 1)).collect())
            }
        }
    }
    fn ints(&mut self) -> Vec<Value> {
        let n = self.below(8);
        (0..n).map(|_| Value::Int(self.below(10) as i64)).collect()
    }
}

#[test]
fn addition_and_multiplication_commute_on_numbers() {
    let mut g = Gen(1);
    for _ in 0..5000 {
        let (a, b) = if g.below(2) == 0 {
            (Value::Int(g.int()), Value::Float(g.float()))
        } else {
            (Value::Int(g.int()), Value::Int(g.int()))
        };
        for op in [ops::add, ops::mul] {
            match (op(&a, &b), op(&b, &a)) {
                (Ok(x), Ok(y)) => assert!(x.equivalent(&y), "{a} {b}: {x} vs {y}"),
                (Err(x), Err(y)) => assert_eq!(x.code, y.code),
                (x, y) => panic!("{a} {b}: {x:?} vs {y:?}"),
            }
        }
    }
}

#[test]
fn integer_subtraction_is_antisymmetric_or_overflows() {
    let mut g = Gen(2);
    for _ in 0..5000 {
        let (a, b) = (Value::Int(g.int()), Value::Int(g.int()));
        match ops::sub(&a, &b).and_then(|d| ops::neg(&d)) {
            Ok(d) => assert_eq!(ops::sub(&b, &a).ok(), Some(d)),
            Err(e) => assert_eq!(e.code, ErrorCode::ArithmeticOverflow),
        }
    }
}

#[test]
fn in_agrees_with_equality() {
    let mut g = Gen(3);
    for _ in 0..5000 {
        let x = g.value(1);
        let list: Vec<Value> = (0..g.below(5)).map(|_| g.value(1)).collect();
        let got = ops::in_list(&x, &Value::List(list.clone())).ok();
        let any_true = list.iter().any(|y| x.cypher_eq(y) == Some(true));
        let any_null = list.iter().any(|y| x.cypher_eq(y).is_none());
        let want = if any_true {
            Value::Bool(true)
        } else if any_null {
            Value::Null
        } else {
            Value::Bool(false)
        };
        assert_eq!(got, Some(want), "{x} IN {list:?}");
    }
}

#[test]
fn indexing_agrees_with_one_element_slices() {
    let mut g = Gen(4);
    for _ in 0..5000 {
        let items = g.ints();
        let list = Value::List(items.clone());
        let i = g.below(21) as i64 - 10;
        let element = ops::index(&list, &Value::Int(i)).ok();
        let len = items.len() as i64;
        let in_range = (-len..len).contains(&i);
        if in_range {
            let end = if i == -1 {
                None
            } else {
                Some(Value::Int(i + 1))
            };
            let slice = ops::slice(&list, Some(&Value::Int(i)), end.as_ref()).ok();
            assert_eq!(slice, element.map(|e| Value::List(vec![e])), "{list}[{i}]");
        } else {
            assert_eq!(element, Some(Value::Null), "{list}[{i}]");
        }
    }
}

#[test]
fn numbers_survive_to_string_and_back() {
    let mut g = Gen(5);
    for _ in 0..5000 {
        let i = g.int();
        let s = call_scalar("toString", &[Value::Int(i)]).ok();
        assert_eq!(
            s.and_then(|s| call_scalar("toInteger", &[s]).ok()),
            Some(Value::Int(i))
        );
        let f = g.float();
        if f.is_finite() {
            let s = call_scalar("toString", &[Value::Float(f)]).ok();
            assert_eq!(
                s.and_then(|s| call_scalar("toFloat", &[s]).ok()),
                Some(Value::Float(f)),
                "{f}"
            );
        }
    }
}

#[test]
fn distinct_aggregates_see_each_value_once() {
    let mut g = Gen(6);
    for _ in 0..500 {
        let rows: Vec<Value> = (0..g.below(12)).map(|_| g.value(1)).collect();
        let (Some(mut collect), Some(mut count)) = (
            new_aggregator("collect", true),
            new_aggregator("COUNT", true),
        ) else {
            panic!("collect and count exist");
        };
        for r in &rows {
            assert!(collect.update(std::slice::from_ref(r)).is_ok());
            assert!(count.update(std::slice::from_ref(r)).is_ok());
        }
        let Ok(Value::List(distinct)) = collect.finish() else {
            panic!("collect gives a list");
        };
        let keys: std::collections::HashSet<GroupKey> =
            distinct.iter().map(|v| GroupKey(vec![v.clone()])).collect();
        assert_eq!(keys.len(), distinct.len(), "{distinct:?}");
        assert!(distinct.iter().all(|v| !v.is_null()));
        assert_eq!(count.finish().ok(), Some(Value::Int(distinct.len() as i64)));
    }
}

#[test]
fn min_and_max_are_the_ends_of_the_sorted_non_null_values() {
    let mut g = Gen(7);
    for _ in 0..500 {
        let rows: Vec<Value> = (0..g.below(12)).map(|_| g.value(1)).collect();
        let mut sorted: Vec<Value> = rows.iter().filter(|v| !v.is_null()).cloned().collect();
        sorted.sort_by(|a, b| a.order_cmp(b));
        for (name, want) in [("min", sorted.first()), ("max", sorted.last())] {
            let Some(mut agg) = new_aggregator(name, false) else {
                panic!("{name} exists");
            };
            for r in &rows {
                assert!(agg.update(std::slice::from_ref(r)).is_ok());
            }
            let got = agg.finish().ok();
            let want = want.cloned().unwrap_or(Value::Null);
            assert!(
                got.as_ref().is_some_and(|g| g.order_cmp(&want).is_eq()),
                "{name} of {rows:?}: {got:?} vs {want}"
            );
        }
    }
}
