//! The Cypher value and its three comparison relations.
//!
//! * **Equality** ([`Value::cypher_eq`]): the `=` operator, three-valued (`None` = null).
//! * **Comparability** ([`Value::cypher_cmp`]): `<`, `<=`, `>`, `>=`; `None` when the two
//!   values are not comparable (different types, null, NaN).
//! * **Orderability** ([`Value::order_cmp`]): the total order `ORDER BY` uses, across types.
//! * **Equivalence** ([`Value::equivalent`], and [`GroupKey`] for hashing): what `DISTINCT`,
//!   grouping and `IN`-style deduplication use; like equality but null ≡ null and NaN ≡ NaN.
//!
//! Nodes and relationships are held by id; the engine resolves their labels, type and
//! properties through the transaction that produced them. Temporal values (dates, times,
//! date-times, durations) are one variant holding a [`Temporal`]; their rules live in
//! `nereid-temporal`, and [`temporal`] is where the two meet (map arguments, components,
//! error codes).

pub mod temporal;

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};

use nereid_temporal::Temporal;

/// A map value; keys are ordered so output is deterministic.
pub type Map = BTreeMap<String, Value>;

/// Internal dense id of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u64);

/// Internal dense id of a relationship.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelId(pub u64);

/// A path: `nodes.len() == rels.len() + 1`; `rels[i]` joins `nodes[i]` and `nodes[i + 1]`
/// in either direction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Path {
    pub nodes: Vec<NodeId>,
    pub rels: Vec<RelId>,
}

/// A Cypher value.
#[derive(Debug, Clone, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    List(Vec<Value>),
    Map(Map),
    Node(NodeId),
    Relationship(RelId),
    Path(Box<Path>),
    /// A date, time, date-time or duration.
    Temporal(Box<Temporal>),
}

impl Value {
    /// The Cypher type name, as used in error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "Null",
            Value::Bool(_) => "Boolean",
            Value::Int(_) => "Integer",
            Value::Float(_) => "Float",
            Value::String(_) => "String",
            Value::List(_) => "List",
            Value::Map(_) => "Map",
            Value::Node(_) => "Node",
            Value::Relationship(_) => "Relationship",
            Value::Path(_) => "Path",
            Value::Temporal(t) => t.type_name(),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// `=`: `Some(true|false)`, or `None` when the answer is null.
    pub fn cypher_eq(&self, other: &Value) -> Option<bool> {
        use Value::*;
        match (self, other) {
            (Null, _) | (_, Null) => None,
            (Bool(a), Bool(b)) => Some(a == b),
            (Int(a), Int(b)) => Some(a == b),
            (Float(a), Float(b)) => Some(a == b),
            (Int(a), Float(b)) | (Float(b), Int(a)) => {
                Some(int_float_cmp(*a, *b) == Some(Ordering::Equal))
            }
            (String(a), String(b)) => Some(a == b),
            (List(a), List(b)) => {
                if a.len() != b.len() {
                    return Some(false);
                }
                let mut unknown = false;
                for (x, y) in a.iter().zip(b) {
                    match x.cypher_eq(y) {
                        Some(false) => return Some(false),
                        None => unknown = true,
                        Some(true) => {}
                    }
                }
                if unknown {
                    None
                } else {
                    Some(true)
                }
            }
            (Map(a), Map(b)) => {
                if a.len() != b.len() || a.keys().ne(b.keys()) {
                    return Some(false);
                }
                let mut unknown = false;
                for (x, y) in a.values().zip(b.values()) {
                    match x.cypher_eq(y) {
                        Some(false) => return Some(false),
                        None => unknown = true,
                        Some(true) => {}
                    }
                }
                if unknown {
                    None
                } else {
                    Some(true)
                }
            }
            (Node(a), Node(b)) => Some(a == b),
            (Relationship(a), Relationship(b)) => Some(a == b),
            (Path(a), Path(b)) => Some(a == b),
            (Temporal(a), Temporal(b)) => Some(a == b),
            _ => Some(false),
        }
    }

    /// `<` and friends: the ordering when the two values are comparable, else `None`
    /// (which the operators turn into null).
    pub fn cypher_cmp(&self, other: &Value) -> Option<Ordering> {
        use Value::*;
        match (self, other) {
            (Int(a), Int(b)) => Some(a.cmp(b)),
            (Float(a), Float(b)) => a.partial_cmp(b),
            (Int(a), Float(b)) => int_float_cmp(*a, *b),
            (Float(a), Int(b)) => int_float_cmp(*b, *a).map(Ordering::reverse),
            (String(a), String(b)) => Some(a.cmp(b)),
            (Bool(a), Bool(b)) => Some(a.cmp(b)),
            (Temporal(a), Temporal(b)) => a.cypher_cmp(b),
            (List(a), List(b)) => {
                for (x, y) in a.iter().zip(b) {
                    match x.cypher_cmp(y)? {
                        Ordering::Equal => {}
                        o => return Some(o),
                    }
                }
                Some(a.len().cmp(&b.len()))
            }
            _ => None,
        }
    }

    /// Rank of the type in the global sort order (ascending).
    fn order_rank(&self) -> u8 {
        match self {
            Value::Map(_) => 0,
            Value::Node(_) => 1,
            Value::Relationship(_) => 2,
            Value::List(_) => 3,
            Value::Path(_) => 4,
            Value::Temporal(_) => 5,
            Value::String(_) => 6,
            Value::Bool(_) => 7,
            Value::Int(_) | Value::Float(_) => 8,
            Value::Null => 9,
        }
    }

    /// The total order of `ORDER BY`: maps < nodes < relationships < lists < paths <
    /// temporal values (date-times < local date-times < dates < times < local times <
    /// durations, chronological within each) < strings < booleans < numbers (NaN last among
    /// them) < null.
    pub fn order_cmp(&self, other: &Value) -> Ordering {
        use Value::*;
        let (ra, rb) = (self.order_rank(), other.order_rank());
        if ra != rb {
            return ra.cmp(&rb);
        }
        match (self, other) {
            (Map(a), Map(b)) => {
                // Compare as sorted (key, value) sequences.
                for ((ka, va), (kb, vb)) in a.iter().zip(b.iter()) {
                    match ka.cmp(kb).then_with(|| va.order_cmp(vb)) {
                        Ordering::Equal => {}
                        o => return o,
                    }
                }
                a.len().cmp(&b.len())
            }
            (Node(a), Node(b)) => a.cmp(b),
            (Relationship(a), Relationship(b)) => a.cmp(b),
            (List(a), List(b)) => list_order(a, b),
            (Path(a), Path(b)) => a.nodes.cmp(&b.nodes).then_with(|| a.rels.cmp(&b.rels)),
            (Temporal(a), Temporal(b)) => a.order_cmp(b),
            (String(a), String(b)) => a.cmp(b),
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int(a), Int(b)) => a.cmp(b),
            (Float(a), Float(b)) => float_order(*a, *b),
            (Int(a), Float(b)) => {
                if b.is_nan() {
                    Ordering::Less
                } else {
                    int_float_cmp(*a, *b)
                        .unwrap_or(Ordering::Equal)
                        .then(Ordering::Less)
                }
            }
            (Float(a), Int(b)) => {
                if a.is_nan() {
                    Ordering::Greater
                } else {
                    int_float_cmp(*b, *a)
                        .map(Ordering::reverse)
                        .unwrap_or(Ordering::Equal)
                        .then(Ordering::Greater)
                }
            }
            _ => Ordering::Equal,
        }
    }

    /// Equivalence: equality where null ≡ null and NaN ≡ NaN, never null itself.
    pub fn equivalent(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            // The common grouping keys first, without the general comparison.
            (Int(a), Int(b)) => a == b,
            (Node(a), Node(b)) => a == b,
            (Relationship(a), Relationship(b)) => a == b,
            (String(a), String(b)) => a == b,
            (Null, Null) => true,
            (Null, _) | (_, Null) => false,
            (Float(a), Float(b)) if a.is_nan() && b.is_nan() => true,
            (List(a), List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.equivalent(y))
            }
            (Map(a), Map(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b.iter())
                        .all(|((ka, va), (kb, vb))| ka == kb && va.equivalent(vb))
            }
            _ => self.cypher_eq(other) == Some(true),
        }
    }

    pub fn hash_equivalence<H: Hasher>(&self, state: &mut H) {
        use Value::*;
        match self {
            Null => 0u8.hash(state),
            Bool(b) => {
                1u8.hash(state);
                b.hash(state)
            }
            Int(i) => hash_number(*i as f64, state),
            Float(f) => hash_number(*f, state),
            String(s) => {
                3u8.hash(state);
                s.hash(state)
            }
            List(l) => {
                4u8.hash(state);
                l.len().hash(state);
                for v in l {
                    v.hash_equivalence(state);
                }
            }
            Map(m) => {
                5u8.hash(state);
                m.len().hash(state);
                for (k, v) in m {
                    k.hash(state);
                    v.hash_equivalence(state);
                }
            }
            Node(n) => {
                6u8.hash(state);
                n.hash(state)
            }
            Relationship(r) => {
                7u8.hash(state);
                r.hash(state)
            }
            Path(p) => {
                8u8.hash(state);
                p.hash(state)
            }
            Temporal(t) => {
                9u8.hash(state);
                t.hash(state)
            }
        }
    }
}

fn hash_number<H: Hasher>(f: f64, state: &mut H) {
    2u8.hash(state);
    if f.is_nan() {
        u64::MAX.hash(state)
    } else if f == 0.0 {
        0u64.hash(state) // 0.0 and -0.0 are equal
    } else {
        // Integers and floats of the same value must hash alike: hash the f64 bits. Two
        // distinct i64 that round to the same f64 collide, which is harmless.
        f.to_bits().hash(state)
    }
}

/// Compares an integer with a float exactly (no precision loss for large integers).
fn int_float_cmp(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f >= 9.223_372_036_854_776e18 {
        return Some(Ordering::Less);
    }
    if f < -9.223_372_036_854_776e18 {
        return Some(Ordering::Greater);
    }
    let t = f.trunc();
    match i.cmp(&(t as i64)) {
        Ordering::Equal => {
            let frac = f - t;
            Some(if frac > 0.0 {
                Ordering::Less
            } else if frac < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            })
        }
        o => Some(o),
    }
}

fn float_order(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

fn list_order(a: &[Value], b: &[Value]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        match x.order_cmp(y) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    a.len().cmp(&b.len())
}

/// A value wrapped so that `Eq` and `Hash` follow Cypher equivalence; use it as a hash-map
/// key for grouping and `DISTINCT`.
#[derive(Debug, Clone)]
pub struct GroupKey(pub Vec<Value>);

impl PartialEq for GroupKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && self.0.iter().zip(&other.0).all(|(a, b)| a.equivalent(b))
    }
}
impl Eq for GroupKey {}
impl Hash for GroupKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for v in &self.0 {
            v.hash_equivalence(state);
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<Temporal> for Value {
    fn from(t: Temporal) -> Self {
        Value::Temporal(Box::new(t))
    }
}
impl From<Path> for Value {
    fn from(p: Path) -> Self {
        Value::Path(Box::new(p))
    }
}
impl From<Option<bool>> for Value {
    fn from(b: Option<bool>) -> Self {
        b.map_or(Value::Null, Value::Bool)
    }
}

/// Cypher literal syntax, used in messages and plans.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => fmt_float(*x, f),
            Value::String(s) => write!(f, "'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            Value::List(l) => {
                f.write_str("[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Map(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
            Value::Node(n) => write!(f, "node#{}", n.0),
            Value::Relationship(r) => write!(f, "rel#{}", r.0),
            Value::Path(p) => write!(f, "path({} nodes)", p.nodes.len()),
            Value::Temporal(t) => write!(f, "{}('{t}')", t.kind().function_name()),
        }
    }
}

/// Floats print with a decimal point or exponent so that they never read as integers.
pub fn fmt_float(x: f64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if x.is_nan() {
        f.write_str("NaN")
    } else if x.is_infinite() {
        f.write_str(if x > 0.0 { "Infinity" } else { "-Infinity" })
    } else if x == x.trunc() && x.abs() < 1e16 {
        write!(f, "{x:.1}")
    } else {
        write!(f, "{x}")
    }
}

/// Structural identity (used by tests and caches, not by Cypher operators): `1` and `1.0`
/// differ, NaN equals NaN, and types never mix. Cypher `=` is [`Value::cypher_eq`].
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a.to_bits() == b.to_bits() || a == b,
            (String(a), String(b)) => a == b,
            (List(a), List(b)) => a == b,
            (Map(a), Map(b)) => a == b,
            (Node(a), Node(b)) => a == b,
            (Relationship(a), Relationship(b)) => a == b,
            (Path(a), Path(b)) => a == b,
            (Temporal(a), Temporal(b)) => a == b,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn l(v: Vec<Value>) -> Value {
        Value::List(v)
    }

    #[test]
    fn equality_is_three_valued() {
        assert_eq!(Value::Null.cypher_eq(&Value::Null), None);
        assert_eq!(Value::Int(1).cypher_eq(&Value::Float(1.0)), Some(true));
        assert_eq!(Value::Int(1).cypher_eq(&Value::from("1")), Some(false));
        assert_eq!(
            l(vec![1.into(), Value::Null]).cypher_eq(&l(vec![1.into(), 2.into()])),
            None
        );
        assert_eq!(
            l(vec![3.into(), Value::Null]).cypher_eq(&l(vec![1.into(), 2.into()])),
            Some(false)
        );
        assert_eq!(
            Value::Float(f64::NAN).cypher_eq(&Value::Float(f64::NAN)),
            Some(false)
        );
    }

    #[test]
    fn large_integers_compare_exactly_with_floats() {
        let big = i64::MAX;
        assert_eq!(
            Value::Int(big).cypher_cmp(&Value::Float(9.223372036854776e18)),
            Some(Ordering::Less)
        );
        assert_eq!(
            Value::Int(2).cypher_cmp(&Value::Float(2.5)),
            Some(Ordering::Less)
        );
        assert_eq!(
            Value::Float(-2.5).cypher_cmp(&Value::Int(-2)),
            Some(Ordering::Less)
        );
    }

    #[test]
    fn incomparable_types_give_none() {
        assert_eq!(Value::Int(1).cypher_cmp(&Value::from("a")), None);
        assert_eq!(Value::Float(f64::NAN).cypher_cmp(&Value::Int(1)), None);
    }

    #[test]
    fn global_order_puts_null_last_and_nan_after_numbers() {
        let mut v = [
            Value::Null,
            Value::Float(f64::NAN),
            Value::Int(3),
            Value::Float(1.5),
            Value::from("a"),
            Value::Bool(false),
            l(vec![]),
            Value::Map(Map::new()),
        ];
        v.sort_by(|a, b| a.order_cmp(b));
        let names: Vec<_> = v.iter().map(|x| x.to_string()).collect();
        assert_eq!(
            names,
            ["{}", "[]", "'a'", "false", "1.5", "3", "NaN", "null"]
        );
    }

    #[test]
    fn temporal_values_sort_between_paths_and_strings() {
        use nereid_temporal::{parse::parse, Kind};
        let t = |k: Kind, s: &str| Value::from(parse(k, s).expect("parses"));
        let mut v = [
            Value::from("a"),
            t(Kind::Duration, "P1D"),
            t(Kind::LocalTime, "12:00"),
            t(Kind::Time, "12:00Z"),
            t(Kind::Date, "2015-01-01"),
            t(Kind::Date, "2014-01-01"),
            t(Kind::LocalDateTime, "2015-01-01T00:00"),
            t(Kind::DateTime, "2015-01-01T00:00Z"),
            l(vec![]),
        ];
        v.sort_by(|a, b| a.order_cmp(b));
        let names: Vec<_> = v.iter().map(|x| x.to_string()).collect();
        assert_eq!(
            names,
            [
                "[]",
                "datetime('2015-01-01T00:00Z')",
                "localdatetime('2015-01-01T00:00')",
                "date('2014-01-01')",
                "date('2015-01-01')",
                "time('12:00Z')",
                "localtime('12:00')",
                "duration('P1D')",
                "'a'"
            ]
        );
        let d1 = t(Kind::Duration, "PT70S");
        assert_eq!(d1.cypher_eq(&t(Kind::Duration, "PT1M10S")), Some(true));
        assert_eq!(d1.cypher_cmp(&t(Kind::Duration, "PT1M")), None);
        assert_eq!(d1.cypher_eq(&t(Kind::Date, "2015-01-01")), Some(false));
        assert_eq!(
            t(Kind::Date, "2014-01-01").cypher_cmp(&t(Kind::Date, "2015-01-01")),
            Some(Ordering::Less)
        );
        let mut set = HashSet::new();
        set.insert(GroupKey(vec![t(Kind::Date, "2015-01-01")]));
        set.insert(GroupKey(vec![t(Kind::Date, "2015-001")]));
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn equivalence_groups_null_nan_and_mixed_numbers() {
        let mut set = HashSet::new();
        set.insert(GroupKey(vec![Value::Null]));
        set.insert(GroupKey(vec![Value::Null]));
        set.insert(GroupKey(vec![Value::Float(f64::NAN)]));
        set.insert(GroupKey(vec![Value::Float(f64::NAN)]));
        set.insert(GroupKey(vec![Value::Int(1)]));
        set.insert(GroupKey(vec![Value::Float(1.0)]));
        assert_eq!(set.len(), 3);
    }
}
