//! Sets of value kinds, for checking function arguments before running the query.
//!
//! The analyser knows the kind of some argument expressions (a literal, a variable bound to
//! a node or a path). When that kind can never be accepted by the function — `size(p)` of a
//! path, `properties(1)` — openCypher wants a compile-time `InvalidArgumentType`.
//! [`crate::scalar_accepts`] and [`crate::aggregate_accepts`] answer "could a value of one of
//! these kinds be accepted here?"; they never reject what might succeed at runtime.

use std::fmt;
use std::ops::BitOr;

use nereid_value::Value;

/// A set of value kinds (a bit set).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Kinds(u16);

impl Kinds {
    pub const NONE: Kinds = Kinds(0);
    pub const NULL: Kinds = Kinds(1);
    pub const BOOLEAN: Kinds = Kinds(1 << 1);
    pub const INTEGER: Kinds = Kinds(1 << 2);
    pub const FLOAT: Kinds = Kinds(1 << 3);
    pub const STRING: Kinds = Kinds(1 << 4);
    pub const LIST: Kinds = Kinds(1 << 5);
    pub const MAP: Kinds = Kinds(1 << 6);
    pub const NODE: Kinds = Kinds(1 << 7);
    pub const RELATIONSHIP: Kinds = Kinds(1 << 8);
    pub const PATH: Kinds = Kinds(1 << 9);
    /// Any of the six temporal types (date, times, date-times, duration).
    pub const TEMPORAL: Kinds = Kinds(1 << 10);
    pub const NUMBER: Kinds = Kinds(Self::INTEGER.0 | Self::FLOAT.0);
    pub const ANY: Kinds = Kinds((1 << 11) - 1);

    const NAMES: [&'static str; 11] = [
        "Null",
        "Boolean",
        "Integer",
        "Float",
        "String",
        "List",
        "Map",
        "Node",
        "Relationship",
        "Path",
        "Temporal",
    ];

    /// The kind of one value.
    pub fn of(v: &Value) -> Kinds {
        match v {
            Value::Null => Kinds::NULL,
            Value::Bool(_) => Kinds::BOOLEAN,
            Value::Int(_) => Kinds::INTEGER,
            Value::Float(_) => Kinds::FLOAT,
            Value::String(_) => Kinds::STRING,
            Value::List(_) => Kinds::LIST,
            Value::Map(_) => Kinds::MAP,
            Value::Node(_) => Kinds::NODE,
            Value::Relationship(_) => Kinds::RELATIONSHIP,
            Value::Path(_) => Kinds::PATH,
            Value::Temporal(_) => Kinds::TEMPORAL,
        }
    }

    pub const fn union(self, other: Kinds) -> Kinds {
        Kinds(self.0 | other.0)
    }

    pub const fn intersects(self, other: Kinds) -> bool {
        self.0 & other.0 != 0
    }

    pub const fn contains(self, other: Kinds) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Kinds {
    type Output = Kinds;
    fn bitor(self, rhs: Kinds) -> Kinds {
        self.union(rhs)
    }
}

impl fmt::Debug for Kinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Kinds::ANY {
            return f.write_str("Any");
        }
        let names: Vec<&str> = Kinds::NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, n)| *n)
            .collect();
        f.write_str(&names.join("|"))
    }
}

/// Whether an argument of kinds `given` may be accepted by a parameter that takes
/// `accepted`. Null is accepted everywhere: whether it gives null or an error is a runtime
/// matter.
pub(crate) fn may_accept(accepted: Kinds, given: Kinds) -> bool {
    accepted.union(Kinds::NULL).intersects(given) || given == Kinds::NONE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_of_values_and_sets() {
        assert_eq!(Kinds::of(&1.into()), Kinds::INTEGER);
        assert!(Kinds::NUMBER.contains(Kinds::FLOAT));
        assert!(!Kinds::NUMBER.intersects(Kinds::STRING));
        assert_eq!(format!("{:?}", Kinds::STRING | Kinds::LIST), "String|List");
        assert_eq!(format!("{:?}", Kinds::ANY), "Any");
        assert!(may_accept(Kinds::STRING, Kinds::NULL));
        assert!(may_accept(Kinds::STRING, Kinds::ANY));
        assert!(!may_accept(Kinds::STRING | Kinds::LIST, Kinds::PATH));
    }
}
