//! The TCK's value notation (README "Expected-value notation"): the [`TckValue`] tree that
//! both expected cells and actual results are brought to, its parser, and its printer.
//!
//! Cells arrive already unescaped by the feature parser (`\|` → `|`), so this parser only
//! handles the notation itself: `null`, booleans, 64-bit integers, floats (`NaN` included),
//! single-quoted strings (`\'` and `\\` escapes, anything else literal), lists, maps with
//! bare keys, nodes `(:A:B {k: v})`, relationships `[:T {k: v}]` and paths
//! `<(:A)-[:T]->(:B)<-[:U]-()>`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use nereid_value::{Map, Value};

/// A node as the TCK compares it: label set and properties, never identity.
#[derive(Debug, Clone, PartialEq)]
pub struct TckNode {
    pub labels: BTreeSet<String>,
    pub properties: BTreeMap<String, TckValue>,
}

/// A relationship as the TCK compares it: type and properties.
#[derive(Debug, Clone, PartialEq)]
pub struct TckRel {
    pub rel_type: String,
    pub properties: BTreeMap<String, TckValue>,
}

/// The direction of one hop of a path, relative to the path's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `-[r]->`
    Forward,
    /// `<-[r]-`
    Backward,
    /// A self-loop in an actual path: either notation describes it.
    Loop,
}

/// One hop: the relationship, its direction, the node reached.
#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    pub rel: TckRel,
    pub direction: Direction,
    pub node: TckNode,
}

/// A path: a start node and the hops after it.
#[derive(Debug, Clone, PartialEq)]
pub struct TckPath {
    pub start: TckNode,
    pub hops: Vec<Hop>,
}

/// A value in the TCK's terms. `PartialEq` is structural (NaN ≠ NaN there); the TCK's
/// comparison lives in [`crate::compare`].
#[derive(Debug, Clone, PartialEq)]
pub enum TckValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    List(Vec<TckValue>),
    Map(BTreeMap<String, TckValue>),
    Node(TckNode),
    Rel(TckRel),
    Path(TckPath),
}

/// Parses one cell of a result, parameter or procedure table.
pub fn parse_value(text: &str) -> Result<TckValue, String> {
    let mut p = Parser { src: text, pos: 0 };
    let value = p.value()?;
    p.skip_ws();
    if p.pos != p.src.len() {
        return Err(p.error("unexpected text after the value"));
    }
    Ok(value)
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        let rest: String = self.src[self.pos..].chars().take(20).collect();
        format!(
            "{what} at offset {} (near {rest:?}) in {:?}",
            self.pos, self.src
        )
    }

    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_ws();
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &str) -> Result<(), String> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.error(&format!("expected {token:?}")))
        }
    }

    fn word(&self) -> &str {
        let end = self
            .rest()
            .find(|c: char| !is_name_char(c))
            .unwrap_or(self.rest().len());
        &self.rest()[..end]
    }

    fn value(&mut self) -> Result<TckValue, String> {
        self.skip_ws();
        let Some(c) = self.peek() else {
            return Err(self.error("expected a value"));
        };
        match c {
            '\'' => self.string().map(TckValue::String),
            '[' => {
                // `[:` starts a relationship; a list never starts with a colon.
                let save = self.pos;
                self.pos += 1;
                if self.eat(":") {
                    self.pos = save;
                    self.rel().map(TckValue::Rel)
                } else {
                    self.pos = save;
                    self.list()
                }
            }
            '{' => self.map().map(TckValue::Map),
            '(' => self.node().map(TckValue::Node),
            '<' => self.path().map(TckValue::Path),
            '-' | '.' | '0'..='9' => self.number(),
            _ => {
                let word = self.word().to_owned();
                let value = match word.as_str() {
                    "null" => TckValue::Null,
                    "true" => TckValue::Bool(true),
                    "false" => TckValue::Bool(false),
                    "NaN" => TckValue::Float(f64::NAN),
                    _ => return Err(self.error("expected a value")),
                };
                self.pos += word.len();
                Ok(value)
            }
        }
    }

    fn number(&mut self) -> Result<TckValue, String> {
        let start = self.pos;
        let bytes = self.src.as_bytes();
        let mut i = self.pos;
        if bytes.get(i) == Some(&b'-') {
            i += 1;
        }
        let digits_start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let mut is_float = false;
        if bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            is_float = true;
            i += 1;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        if i == digits_start {
            return Err(self.error("expected a number"));
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(bytes.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if bytes.get(j).is_some_and(u8::is_ascii_digit) {
                is_float = true;
                i = j;
                while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
        }
        let text = &self.src[start..i];
        self.pos = i;
        if is_float {
            text.parse::<f64>()
                .map(TckValue::Float)
                .map_err(|e| format!("bad float {text:?}: {e}"))
        } else {
            text.parse::<i64>()
                .map(TckValue::Int)
                .map_err(|e| format!("bad integer {text:?}: {e}"))
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect("'")?;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\'' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, '\'')) => out.push('\''),
                    Some((_, '\\')) => out.push('\\'),
                    Some((_, other)) => {
                        out.push('\\');
                        out.push(other);
                    }
                    None => out.push('\\'),
                },
                c => out.push(c),
            }
        }
        Err(self.error("unterminated string"))
    }

    fn list(&mut self) -> Result<TckValue, String> {
        self.expect("[")?;
        let mut items = Vec::new();
        if self.eat("]") {
            return Ok(TckValue::List(items));
        }
        loop {
            items.push(self.value()?);
            if self.eat("]") {
                return Ok(TckValue::List(items));
            }
            self.expect(",")?;
        }
    }

    fn key(&mut self) -> Result<String, String> {
        self.skip_ws();
        let word = self.word().to_owned();
        if word.is_empty() {
            return Err(self.error("expected a key"));
        }
        self.pos += word.len();
        Ok(word)
    }

    fn map(&mut self) -> Result<BTreeMap<String, TckValue>, String> {
        self.expect("{")?;
        let mut map = BTreeMap::new();
        if self.eat("}") {
            return Ok(map);
        }
        loop {
            let key = self.key()?;
            self.expect(":")?;
            let value = self.value()?;
            if map.insert(key.clone(), value).is_some() {
                return Err(self.error(&format!("duplicate key {key:?}")));
            }
            if self.eat("}") {
                return Ok(map);
            }
            self.expect(",")?;
        }
    }

    fn properties(&mut self) -> Result<BTreeMap<String, TckValue>, String> {
        self.skip_ws();
        if self.peek() == Some('{') {
            self.map()
        } else {
            Ok(BTreeMap::new())
        }
    }

    fn node(&mut self) -> Result<TckNode, String> {
        self.expect("(")?;
        let mut labels = BTreeSet::new();
        while self.eat(":") {
            labels.insert(self.key()?);
        }
        let properties = self.properties()?;
        self.expect(")")?;
        Ok(TckNode { labels, properties })
    }

    fn rel(&mut self) -> Result<TckRel, String> {
        self.expect("[")?;
        self.expect(":")?;
        let rel_type = self.key()?;
        let properties = self.properties()?;
        self.expect("]")?;
        Ok(TckRel {
            rel_type,
            properties,
        })
    }

    fn path(&mut self) -> Result<TckPath, String> {
        self.expect("<")?;
        let start = self.node()?;
        let mut hops = Vec::new();
        loop {
            if self.eat(">") {
                return Ok(TckPath { start, hops });
            }
            let (rel, direction) = if self.eat("<-") {
                let rel = self.rel()?;
                self.expect("-")?;
                (rel, Direction::Backward)
            } else {
                self.expect("-")?;
                let rel = self.rel()?;
                self.expect("->")?;
                (rel, Direction::Forward)
            };
            let node = self.node()?;
            hops.push(Hop {
                rel,
                direction,
                node,
            });
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

impl TckValue {
    /// The engine value for a parameter or a procedure table cell. Graph elements have no
    /// meaning outside a graph, so they are refused.
    pub fn to_value(&self) -> Result<Value, String> {
        Ok(match self {
            TckValue::Null => Value::Null,
            TckValue::Bool(b) => Value::Bool(*b),
            TckValue::Int(i) => Value::Int(*i),
            TckValue::Float(f) => Value::Float(*f),
            TckValue::String(s) => Value::String(s.clone()),
            TckValue::List(items) => Value::List(
                items
                    .iter()
                    .map(TckValue::to_value)
                    .collect::<Result<_, _>>()?,
            ),
            TckValue::Map(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), v.to_value()?)))
                    .collect::<Result<Map, String>>()?,
            ),
            TckValue::Node(_) | TckValue::Rel(_) | TckValue::Path(_) => {
                return Err(format!("{self} cannot be passed as a value"))
            }
        })
    }
}

fn fmt_props(props: &BTreeMap<String, TckValue>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("{")?;
    for (i, (k, v)) in props.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{k}: {v}")?;
    }
    f.write_str("}")
}

impl fmt::Display for TckNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for label in &self.labels {
            write!(f, ":{label}")?;
        }
        if !self.properties.is_empty() {
            if !self.labels.is_empty() {
                f.write_str(" ")?;
            }
            fmt_props(&self.properties, f)?;
        }
        f.write_str(")")
    }
}

impl fmt::Display for TckRel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[:{}", self.rel_type)?;
        if !self.properties.is_empty() {
            f.write_str(" ")?;
            fmt_props(&self.properties, f)?;
        }
        f.write_str("]")
    }
}

/// Prints in the notation, so a failure message can be pasted into a feature file.
impl fmt::Display for TckValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TckValue::Null => f.write_str("null"),
            TckValue::Bool(b) => write!(f, "{b}"),
            TckValue::Int(i) => write!(f, "{i}"),
            TckValue::Float(x) => {
                if x.is_nan() {
                    f.write_str("NaN")
                } else if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e16 {
                    write!(f, "{x:.1}")
                } else {
                    write!(f, "{x:?}")
                }
            }
            TckValue::String(s) => {
                write!(f, "'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
            }
            TckValue::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            TckValue::Map(map) => fmt_props(map, f),
            TckValue::Node(n) => write!(f, "{n}"),
            TckValue::Rel(r) => write!(f, "{r}"),
            TckValue::Path(p) => {
                write!(f, "<{}", p.start)?;
                for hop in &p.hops {
                    match hop.direction {
                        Direction::Forward => write!(f, "-{}->{}", hop.rel, hop.node)?,
                        Direction::Backward => write!(f, "<-{}-{}", hop.rel, hop.node)?,
                        Direction::Loop => write!(f, "-{}-{}", hop.rel, hop.node)?,
                    }
                }
                f.write_str(">")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> TckValue {
        parse_value(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn scalars() {
        assert_eq!(p("null"), TckValue::Null);
        assert_eq!(p(" true "), TckValue::Bool(true));
        assert_eq!(p("false"), TckValue::Bool(false));
        assert_eq!(p("1"), TckValue::Int(1));
        assert_eq!(p("-9223372036854775808"), TckValue::Int(i64::MIN));
        assert_eq!(p("1.0"), TckValue::Float(1.0));
        assert_eq!(p("-0.5"), TckValue::Float(-0.5));
        assert_eq!(p(".5"), TckValue::Float(0.5));
        assert_eq!(p("1e-305"), TckValue::Float(1e-305));
        assert_eq!(
            p("1.2635418652381264e305"),
            TckValue::Float(1.2635418652381264e305)
        );
        assert!(matches!(p("NaN"), TckValue::Float(x) if x.is_nan()));
        assert!(parse_value("9223372036854775808").is_err());
    }

    #[test]
    fn strings_unescape_only_quote_and_backslash() {
        // The README's example, after Gherkin's own unescaping.
        assert_eq!(
            p(r#"'a\\bcn5t\'"\\//\\"\''"#),
            TckValue::String(r#"a\bcn5t'"\//\"'"#.into())
        );
        assert_eq!(p(r"'\n'"), TckValue::String(r"\n".into()));
        assert_eq!(p("''"), TckValue::String(String::new()));
        assert_eq!(p("'🧐🍌'"), TckValue::String("🧐🍌".into()));
        assert!(parse_value("'abc").is_err());
    }

    #[test]
    fn lists_maps_and_nesting() {
        assert_eq!(p("[]"), TckValue::List(vec![]));
        assert_eq!(
            p("[1, [2.0, 'x'], {a: null}]"),
            TckValue::List(vec![
                TckValue::Int(1),
                TckValue::List(vec![TckValue::Float(2.0), TckValue::String("x".into())]),
                TckValue::Map(BTreeMap::from([("a".into(), TckValue::Null)])),
            ])
        );
        assert_eq!(
            p("{k1: 1, k_$2: 'b: c, d'}"),
            TckValue::Map(BTreeMap::from([
                ("k1".into(), TckValue::Int(1)),
                ("k_$2".into(), TckValue::String("b: c, d".into())),
            ]))
        );
        assert!(parse_value("[1, 2").is_err());
        assert!(parse_value("{a: 1, a: 2}").is_err());
        assert!(parse_value("1 2").is_err());
    }

    #[test]
    fn graph_elements() {
        let TckValue::Node(n) = p("(:A:B {name: 'x', num: 1})") else {
            panic!("not a node")
        };
        assert_eq!(n.labels, BTreeSet::from(["A".into(), "B".into()]));
        assert_eq!(n.properties.len(), 2);
        assert_eq!(
            p("( )"),
            TckValue::Node(TckNode {
                labels: BTreeSet::new(),
                properties: BTreeMap::new()
            })
        );
        let TckValue::Rel(r) = p("[:T {k: 1}]") else {
            panic!("not a relationship")
        };
        assert_eq!(r.rel_type, "T");
        let TckValue::Path(path) = p("<(:A)-[:T]->(:B)<-[:U {x: 2}]-()>") else {
            panic!("not a path")
        };
        assert_eq!(path.hops.len(), 2);
        assert_eq!(path.hops[0].direction, Direction::Forward);
        assert_eq!(path.hops[1].direction, Direction::Backward);
        assert_eq!(path.hops[1].rel.rel_type, "U");
        assert!(matches!(p("<()>"), TckValue::Path(p) if p.hops.is_empty()));
        assert!(parse_value("[:T").is_err());
    }

    #[test]
    fn printing_round_trips() {
        for s in [
            "null",
            "[1, 2.5, 'it\\'s', NaN, -0.0]",
            "{a: [], b: {c: true}}",
            "<(:A {n: 1})-[:T]->(:B)<-[:U]-()>",
            "[:T {k: 1.0}]",
            "1.0E300",
        ] {
            let v = p(s);
            let printed = v.to_string();
            let again = p(&printed);
            assert_eq!(printed, again.to_string(), "{s}");
        }
    }

    #[test]
    fn parameters_convert_to_engine_values() {
        assert_eq!(
            p("[1, 'a', {k: 2.0}]").to_value().unwrap(),
            Value::List(vec![
                Value::Int(1),
                Value::String("a".into()),
                Value::Map(Map::from([("k".into(), Value::Float(2.0))])),
            ])
        );
        assert!(p("(:A)").to_value().is_err());
    }
}
