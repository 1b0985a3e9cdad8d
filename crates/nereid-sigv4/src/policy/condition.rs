//! The `Condition` element: parsing every operator IAM defines (so a policy IAM accepts is
//! accepted here, and one IAM rejects is rejected here at load time) and evaluating it against
//! the request context.
//!
//! Semantics follow IAM's documentation: operators are ANDed, keys under one operator are
//! ANDed, the values of one key are ORed. A key absent from the request context makes a
//! positive operator false and a negated one (`StringNotEquals`, `StringNotLike`,
//! `NotIpAddress`, `ArnNotLike`, …) true; `…IfExists` makes any operator true on an absent
//! key; `Null` tests presence. `ForAnyValue:`/`ForAllValues:` are accepted; every key nereid
//! provides is single-valued, so they differ from the plain operator only on an absent key
//! (`ForAllValues` is then true, `ForAnyValue` false). Key names compare case-insensitively,
//! values case-sensitively except in the `…IgnoreCase` and `Bool` operators.

use std::net::IpAddr;

use serde_json::Value;

use super::glob::glob_match;
use super::resource::arn_match;
use crate::time::parse_iso8601;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(NumCmp),
    Date(NumCmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumCmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl NumCmp {
    fn holds(self, lhs: f64, rhs: f64) -> bool {
        match self {
            NumCmp::Eq => lhs == rhs,
            NumCmp::Lt => lhs < rhs,
            NumCmp::Le => lhs <= rhs,
            NumCmp::Gt => lhs > rhs,
            NumCmp::Ge => lhs >= rhs,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetQualifier {
    None,
    ForAnyValue,
    ForAllValues,
}

/// A policy value, converted once at load time to the form its operator compares.
#[derive(Debug, Clone)]
enum Operand {
    Text(String),
    Number(f64),
    Seconds(i64),
    Flag(bool),
    Net(IpAddr, u8),
}

/// One `"Operator": {"key": values}` entry, for one key.
#[derive(Debug, Clone)]
pub(crate) struct Condition {
    kind: Kind,
    negated: bool,
    if_exists: bool,
    qualifier: SetQualifier,
    /// Lower-cased, since IAM key names are case-insensitive.
    key: String,
    values: Vec<Operand>,
}

fn parse_operator(name: &str) -> Option<(Kind, bool, bool, SetQualifier)> {
    let (qualifier, rest) = if let Some(r) = name.strip_prefix("ForAnyValue:") {
        (SetQualifier::ForAnyValue, r)
    } else if let Some(r) = name.strip_prefix("ForAllValues:") {
        (SetQualifier::ForAllValues, r)
    } else {
        (SetQualifier::None, name)
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (rest, false),
    };
    use NumCmp::*;
    let (kind, negated) = match base {
        "StringEquals" => (Kind::StringEquals, false),
        "StringNotEquals" => (Kind::StringEquals, true),
        "StringEqualsIgnoreCase" => (Kind::StringEqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (Kind::StringEqualsIgnoreCase, true),
        "StringLike" => (Kind::StringLike, false),
        "StringNotLike" => (Kind::StringLike, true),
        "NumericEquals" => (Kind::Numeric(Eq), false),
        "NumericNotEquals" => (Kind::Numeric(Eq), true),
        "NumericLessThan" => (Kind::Numeric(Lt), false),
        "NumericLessThanEquals" => (Kind::Numeric(Le), false),
        "NumericGreaterThan" => (Kind::Numeric(Gt), false),
        "NumericGreaterThanEquals" => (Kind::Numeric(Ge), false),
        "DateEquals" => (Kind::Date(Eq), false),
        "DateNotEquals" => (Kind::Date(Eq), true),
        "DateLessThan" => (Kind::Date(Lt), false),
        "DateLessThanEquals" => (Kind::Date(Le), false),
        "DateGreaterThan" => (Kind::Date(Gt), false),
        "DateGreaterThanEquals" => (Kind::Date(Ge), false),
        "Bool" => (Kind::Bool, false),
        "BinaryEquals" => (Kind::Binary, false),
        "IpAddress" => (Kind::Ip, false),
        "NotIpAddress" => (Kind::Ip, true),
        "ArnEquals" | "ArnLike" => (Kind::Arn, false),
        "ArnNotEquals" | "ArnNotLike" => (Kind::Arn, true),
        "Null" if !if_exists => (Kind::Null, false),
        _ => return None,
    };
    Some((kind, negated, if_exists, qualifier))
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let ip: IpAddr = addr.trim().parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        Some(b) => b.trim().parse::<u8>().ok().filter(|b| *b <= max)?,
        None => max,
    };
    Some((ip, bits))
}

fn cidr_contains(net: IpAddr, bits: u8, ip: IpAddr) -> bool {
    let (net, ip, width) = match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => (u128::from(u32::from(n)), u128::from(u32::from(i)), 32),
        (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), 128),
        (IpAddr::V4(n), IpAddr::V6(i)) => match i.to_ipv4_mapped() {
            Some(i) => (u128::from(u32::from(n)), u128::from(u32::from(i)), 32),
            None => return false,
        },
        (IpAddr::V6(_), IpAddr::V4(_)) => return false,
    };
    if bits == 0 {
        return true;
    }
    let shift = width - u32::from(bits);
    (net >> shift) == (ip >> shift)
}

fn convert(kind: Kind, text: &str) -> Result<Operand, String> {
    let bad = |what: &str| format!("{what} expected in condition, found {text:?}");
    Ok(match kind {
        Kind::Numeric(_) => Operand::Number(text.trim().parse().map_err(|_| bad("a number"))?),
        Kind::Date(_) => Operand::Seconds(parse_iso8601(text).ok_or_else(|| bad("a date"))?),
        Kind::Bool | Kind::Null => match text.to_ascii_lowercase().as_str() {
            "true" => Operand::Flag(true),
            "false" => Operand::Flag(false),
            _ => return Err(bad("true or false")),
        },
        Kind::Ip => {
            let (ip, bits) = parse_cidr(text).ok_or_else(|| bad("an IP address or CIDR block"))?;
            Operand::Net(ip, bits)
        }
        _ => Operand::Text(text.to_string()),
    })
}

/// Parses a whole `Condition` element into its per-key conditions.
pub(crate) fn parse_conditions(v: &Value) -> Result<Vec<Condition>, String> {
    let Value::Object(ops) = v else {
        return Err("Condition must be an object".into());
    };
    let mut out = Vec::new();
    for (op, keys) in ops {
        let Some((kind, negated, if_exists, qualifier)) = parse_operator(op) else {
            // IAM rejects such a policy ("Invalid Condition type"), so no statement with it
            // can exist on AWS; refusing it here keeps a typo from silently widening or
            // narrowing access.
            return Err(format!("Invalid Condition type : {op}"));
        };
        let Value::Object(keys) = keys else {
            return Err(format!("condition {op} must map keys to values"));
        };
        for (key, vals) in keys {
            let texts: Vec<String> = match vals {
                Value::Array(items) => items.iter().map(scalar_text).collect::<Option<_>>(),
                other => scalar_text(other).map(|t| vec![t]),
            }
            .ok_or_else(|| {
                format!("condition {op} {key}: values must be strings, numbers or booleans")
            })?;
            if texts.is_empty() {
                return Err(format!("condition {op} {key}: no values"));
            }
            let values = texts
                .iter()
                .map(|t| convert(kind, t))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("condition {op} {key}: {e}"))?;
            out.push(Condition {
                kind,
                negated,
                if_exists,
                qualifier,
                key: key.to_ascii_lowercase(),
                values,
            });
        }
    }
    Ok(out)
}

impl Condition {
    /// Whether the condition holds, given how to look up a (lower-cased) context key.
    pub(crate) fn holds<'a>(&self, lookup: &dyn Fn(&str) -> Option<&'a str>) -> bool {
        let Some(actual) = lookup(&self.key) else {
            return match self.kind {
                Kind::Null => matches!(self.values.first(), Some(Operand::Flag(true))),
                _ if self.if_exists => true,
                _ if self.qualifier == SetQualifier::ForAllValues => true,
                _ if self.qualifier == SetQualifier::ForAnyValue => false,
                _ => self.negated,
            };
        };
        if self.kind == Kind::Null {
            return matches!(self.values.first(), Some(Operand::Flag(false)));
        }
        let any = self.values.iter().any(|v| self.matches(v, actual));
        any != self.negated
    }

    fn matches(&self, expected: &Operand, actual: &str) -> bool {
        match (self.kind, expected) {
            (Kind::StringEquals, Operand::Text(e)) => e == actual,
            (Kind::StringEqualsIgnoreCase, Operand::Text(e)) => e.eq_ignore_ascii_case(actual),
            (Kind::StringLike, Operand::Text(e)) => glob_match(e, actual, false),
            (Kind::Binary, Operand::Text(e)) => e == actual,
            (Kind::Arn, Operand::Text(e)) => arn_match(e, actual),
            (Kind::Numeric(cmp), Operand::Number(e)) => {
                actual.trim().parse::<f64>().is_ok_and(|a| cmp.holds(a, *e))
            }
            (Kind::Date(cmp), Operand::Seconds(e)) => {
                parse_iso8601(actual).is_some_and(|a| cmp.holds(a as f64, *e as f64))
            }
            (Kind::Bool, Operand::Flag(e)) => match actual.to_ascii_lowercase().as_str() {
                "true" => *e,
                "false" => !*e,
                _ => false,
            },
            (Kind::Ip, Operand::Net(net, bits)) => actual
                .parse::<IpAddr>()
                .is_ok_and(|ip| cidr_contains(*net, *bits, ip)),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(cond: Value, ctx: &[(&str, &str)]) -> bool {
        let conds = parse_conditions(&cond).unwrap();
        let lookup = |k: &str| {
            ctx.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| *v)
        };
        conds.iter().all(|c| c.holds(&lookup))
    }

    const CYPHER: &[(&str, &str)] = &[
        ("neptune-db:QueryLanguage", "OpenCypher"),
        ("aws:SecureTransport", "true"),
        ("aws:SourceIp", "10.1.2.3"),
        ("aws:CurrentTime", "2026-11-25T22:10:26Z"),
        ("aws:EpochTime", "1795644626"),
    ];

    #[test]
    fn string_operators_on_query_language() {
        assert!(eval(
            json!({"StringEquals": {"neptune-db:QueryLanguage": "OpenCypher"}}),
            CYPHER
        ));
        assert!(!eval(
            json!({"StringEquals": {"neptune-db:QueryLanguage": "opencypher"}}),
            CYPHER
        ));
        assert!(eval(
            json!({"StringEqualsIgnoreCase": {"NEPTUNE-DB:querylanguage": "opencypher"}}),
            CYPHER
        ));
        assert!(eval(
            json!({"StringEquals": {"neptune-db:QueryLanguage": ["Gremlin", "OpenCypher"]}}),
            CYPHER
        ));
        assert!(!eval(
            json!({"StringNotEquals": {"neptune-db:QueryLanguage": "OpenCypher"}}),
            CYPHER
        ));
        assert!(eval(
            json!({"StringLike": {"neptune-db:QueryLanguage": "Open*"}}),
            CYPHER
        ));
        assert!(!eval(
            json!({"StringNotLike": {"neptune-db:QueryLanguage": "*Cypher"}}),
            CYPHER
        ));
    }

    #[test]
    fn absent_keys_follow_iam_rules() {
        let none: &[(&str, &str)] = &[];
        assert!(!eval(
            json!({"StringEquals": {"neptune-db:QueryLanguage": "OpenCypher"}}),
            none
        ));
        assert!(eval(
            json!({"StringNotEquals": {"neptune-db:QueryLanguage": "Gremlin"}}),
            none
        ));
        assert!(eval(
            json!({"StringEqualsIfExists": {"neptune-db:QueryLanguage": "Gremlin"}}),
            none
        ));
        assert!(!eval(
            json!({"StringEqualsIfExists": {"neptune-db:QueryLanguage": "Gremlin"}}),
            CYPHER
        ));
        assert!(eval(
            json!({"Null": {"neptune-db:QueryLanguage": "true"}}),
            none
        ));
        assert!(!eval(
            json!({"Null": {"neptune-db:QueryLanguage": "true"}}),
            CYPHER
        ));
        assert!(eval(
            json!({"ForAllValues:StringEquals": {"aws:TagKeys": "x"}}),
            none
        ));
        assert!(!eval(
            json!({"ForAnyValue:StringEquals": {"aws:TagKeys": "x"}}),
            none
        ));
        assert!(!eval(
            json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
            none
        ));
    }

    #[test]
    fn bool_numeric_date_and_ip_operators() {
        assert!(eval(
            json!({"Bool": {"aws:SecureTransport": "true"}}),
            CYPHER
        ));
        assert!(eval(json!({"Bool": {"aws:SecureTransport": true}}), CYPHER));
        assert!(!eval(
            json!({"Bool": {"aws:SecureTransport": "false"}}),
            CYPHER
        ));
        assert!(eval(
            json!({"NumericGreaterThan": {"aws:EpochTime": 1_700_000_000}}),
            CYPHER
        ));
        assert!(!eval(
            json!({"NumericLessThan": {"aws:EpochTime": "1700000000"}}),
            CYPHER
        ));
        assert!(eval(
            json!({"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}),
            CYPHER
        ));
        assert!(!eval(
            json!({"DateGreaterThan": {"aws:CurrentTime": "2027-01-01"}}),
            CYPHER
        ));
        assert!(eval(
            json!({"IpAddress": {"aws:SourceIp": ["192.168.0.0/16", "10.0.0.0/8"]}}),
            CYPHER
        ));
        assert!(!eval(
            json!({"IpAddress": {"aws:SourceIp": "10.1.2.4"}}),
            CYPHER
        ));
        assert!(eval(
            json!({"NotIpAddress": {"aws:SourceIp": "172.16.0.0/12"}}),
            CYPHER
        ));
    }

    #[test]
    fn operators_and_keys_are_anded_values_ored() {
        let both = json!({
            "StringEquals": {"neptune-db:QueryLanguage": "OpenCypher"},
            "Bool": {"aws:SecureTransport": "false"}
        });
        assert!(!eval(both, CYPHER));
    }

    #[test]
    fn policies_iam_would_reject_are_rejected() {
        for bad in [
            json!({"StringEqualz": {"k": "v"}}),
            json!({"NullIfExists": {"k": "true"}}),
            json!({"Bool": {"aws:SecureTransport": "yes"}}),
            json!({"NumericEquals": {"aws:EpochTime": "soon"}}),
            json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}}),
            json!({"StringEquals": {"k": []}}),
            json!({"StringEquals": {"k": {"nested": 1}}}),
            json!(["StringEquals"]),
        ] {
            assert!(parse_conditions(&bad).is_err(), "{bad}");
        }
    }
}
