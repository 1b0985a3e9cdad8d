//! The openCypher TCK's temporal scenarios, evaluated through the temporal library alone.
//!
//! The TCK's temporal features mostly compute values from function calls and compare the
//! rendered results, so a small evaluator covers most of them without the engine: it
//! understands `WITH`/`RETURN` projections, `UNWIND` with `ORDER BY`/`LIMIT`, and
//! `MATCH (v:Label)` over nodes created by a `CREATE (:Label {…})` setup, with expressions
//! over literals, maps, lists, property access, `+ - * /`, comparisons and the temporal
//! functions. Every case (a scenario, or one example row of an outline) is counted as
//! passed, failed, or not evaluable (with the reason); any failure fails the test.
//! The features are read from `../shared/tck/features` relative to the workspace; the
//! test fails when they are missing rather than passing vacuously.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nereid_temporal::between::{between, Unit as BetweenUnit};
use nereid_temporal::{
    access, arith, construct, now, parse, select, truncate, Clock, ClockSource, FieldValue, Fields,
    Instant, Kind, Temporal, TemporalError, Zone,
};
use nereid_value::Value;

// ---- Gherkin ------------------------------------------------------------------------------

#[derive(Debug, Default, Clone)]
struct Step {
    text: String,
    doc: Option<String>,
    table: Vec<Vec<String>>,
}

#[derive(Debug, Default)]
struct Scenario {
    name: String,
    line: usize,
    steps: Vec<Step>,
    examples: Option<Vec<Vec<String>>>,
}

fn split_row(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '\'' => {
                quoted = !quoted;
                cur.push(c);
            }
            '|' if !quoted => cells.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
    }
    cells.push(cur.trim().to_string());
    cells
}

fn parse_feature(text: &str) -> Vec<Scenario> {
    let mut out: Vec<Scenario> = Vec::new();
    let mut in_doc = false;
    let mut doc = String::new();
    let mut in_examples = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if in_doc {
            if line == "\"\"\"" {
                in_doc = false;
                if let Some(step) = out.last_mut().and_then(|s| s.steps.last_mut()) {
                    step.doc = Some(std::mem::take(&mut doc));
                }
            } else {
                doc.push_str(line);
                doc.push('\n');
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') || line.starts_with('@') {
            continue;
        }
        if line.starts_with("Scenario:") || line.starts_with("Scenario Outline:") {
            out.push(Scenario {
                name: line.to_string(),
                line: i + 1,
                ..Scenario::default()
            });
            in_examples = false;
        } else if line.starts_with("Examples:") {
            in_examples = true;
            if let Some(s) = out.last_mut() {
                s.examples = Some(Vec::new());
            }
        } else if line == "\"\"\"" {
            in_doc = true;
        } else if line.starts_with('|') {
            let row = split_row(line);
            if let Some(s) = out.last_mut() {
                if in_examples {
                    if let Some(ex) = s.examples.as_mut() {
                        ex.push(row);
                    }
                } else if let Some(step) = s.steps.last_mut() {
                    step.table.push(row);
                }
            }
        } else if let Some(s) = out.last_mut() {
            for kw in ["Given ", "When ", "Then ", "And ", "But "] {
                if let Some(rest) = line.strip_prefix(kw) {
                    s.steps.push(Step {
                        text: rest.to_string(),
                        ..Step::default()
                    });
                }
            }
        }
    }
    out
}

fn substitute(s: &str, names: &[String], values: &[String]) -> String {
    let mut out = s.to_string();
    for (n, v) in names.iter().zip(values) {
        out = out.replace(&format!("<{n}>"), v);
    }
    out
}

/// The cases of a scenario: itself, or one per example row with placeholders filled in.
fn cases(s: &Scenario) -> Vec<(String, Vec<Step>)> {
    match &s.examples {
        None => vec![(format!("{} (line {})", s.name, s.line), s.steps.clone())],
        Some(rows) if rows.len() > 1 => rows[1..]
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let steps = s
                    .steps
                    .iter()
                    .map(|st| Step {
                        text: substitute(&st.text, &rows[0], row),
                        doc: st.doc.as_ref().map(|d| substitute(d, &rows[0], row)),
                        table: st
                            .table
                            .iter()
                            .map(|r| r.iter().map(|c| substitute(c, &rows[0], row)).collect())
                            .collect(),
                    })
                    .collect();
                (
                    format!("{} (line {}, example {})", s.name, s.line, i + 1),
                    steps,
                )
            })
            .collect(),
        Some(_) => Vec::new(),
    }
}

// ---- Values and expressions ---------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum V {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<V>),
    Map(BTreeMap<String, V>),
    T(Temporal),
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Int(i64),
    Float(f64),
    Str(String),
    Punct(&'static str),
}

fn tokenize(src: &str) -> Result<Vec<(Tok, usize, usize)>, String> {
    let b = src.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push((Tok::Ident(src[start..i].to_string()), start, i));
        } else if c.is_ascii_digit() {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let is_float = i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit();
            if is_float {
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                let f = src[start..i].parse().map_err(|e| format!("{e}"))?;
                out.push((Tok::Float(f), start, i));
            } else {
                let n = src[start..i].parse().map_err(|e| format!("{e}"))?;
                out.push((Tok::Int(n), start, i));
            }
        } else if c == b'\'' {
            i += 1;
            let mut s = String::new();
            while i < b.len() && b[i] != b'\'' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                let ch = src[i..].chars().next().ok_or("bad string")?;
                s.push(ch);
                i += ch.len_utf8();
            }
            i += 1;
            out.push((Tok::Str(s), start, i));
        } else {
            let two = src.get(i..i + 2).unwrap_or("");
            let p: &'static str = match two {
                "<=" => "<=",
                ">=" => ">=",
                "<>" => "<>",
                _ => match c {
                    b'(' => "(",
                    b')' => ")",
                    b'{' => "{",
                    b'}' => "}",
                    b'[' => "[",
                    b']' => "]",
                    b',' => ",",
                    b':' => ":",
                    b'.' => ".",
                    b'+' => "+",
                    b'-' => "-",
                    b'*' => "*",
                    b'/' => "/",
                    b'=' => "=",
                    b'<' => "<",
                    b'>' => ">",
                    _ => return Err(format!("unexpected character '{}'", c as char)),
                },
            };
            i += p.len();
            out.push((Tok::Punct(p), start, i));
        }
    }
    Ok(out)
}

#[derive(Clone, Debug)]
enum Expr {
    Lit(V),
    Var(String),
    Prop(Box<Expr>, String),
    Call(String, Vec<Expr>),
    List(Vec<Expr>),
    Map(Vec<(String, Expr)>),
    Neg(Box<Expr>),
    Bin(&'static str, Box<Expr>, Box<Expr>),
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<(Tok, usize, usize)>,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Tok::Punct(q)) if *q == p)
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(kw))
    }

    fn expect_punct(&mut self, p: &str) -> Result<(), String> {
        if self.is_punct(p) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected '{p}' at token {}", self.pos))
        }
    }

    fn ident(&mut self) -> Result<String, String> {
        match self.peek() {
            Some(Tok::Ident(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            other => Err(format!("expected a name, got {other:?}")),
        }
    }

    fn expr(&mut self) -> Result<Expr, String> {
        let lhs = self.additive()?;
        for op in ["<=", ">=", "<>", "=", "<", ">"] {
            if self.is_punct(op) {
                self.pos += 1;
                let rhs = self.additive()?;
                return Ok(Expr::Bin(op, Box::new(lhs), Box::new(rhs)));
            }
        }
        Ok(lhs)
    }

    fn additive(&mut self) -> Result<Expr, String> {
        let mut lhs = self.multiplicative()?;
        loop {
            let op = if self.is_punct("+") {
                "+"
            } else if self.is_punct("-") {
                "-"
            } else {
                return Ok(lhs);
            };
            self.pos += 1;
            let rhs = self.multiplicative()?;
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, String> {
        let mut lhs = self.unary()?;
        loop {
            let op = if self.is_punct("*") {
                "*"
            } else if self.is_punct("/") {
                "/"
            } else {
                return Ok(lhs);
            };
            self.pos += 1;
            let rhs = self.unary()?;
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.is_punct("-") {
            self.pos += 1;
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        let mut e = self.primary()?;
        while self.is_punct(".") {
            self.pos += 1;
            e = Expr::Prop(Box::new(e), self.ident()?);
        }
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let tok = self.peek().cloned().ok_or("unexpected end")?;
        match tok {
            Tok::Int(i) => {
                self.pos += 1;
                Ok(Expr::Lit(V::Int(i)))
            }
            Tok::Float(f) => {
                self.pos += 1;
                Ok(Expr::Lit(V::Float(f)))
            }
            Tok::Str(s) => {
                self.pos += 1;
                Ok(Expr::Lit(V::Str(s)))
            }
            Tok::Punct("(") => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect_punct(")")?;
                Ok(e)
            }
            Tok::Punct("[") => {
                self.pos += 1;
                let mut items = Vec::new();
                while !self.is_punct("]") {
                    items.push(self.expr()?);
                    if !self.is_punct("]") {
                        self.expect_punct(",")?;
                    }
                }
                self.pos += 1;
                Ok(Expr::List(items))
            }
            Tok::Punct("{") => {
                self.pos += 1;
                let mut entries = Vec::new();
                while !self.is_punct("}") {
                    let k = self.ident()?;
                    self.expect_punct(":")?;
                    entries.push((k, self.expr()?));
                    if !self.is_punct("}") {
                        self.expect_punct(",")?;
                    }
                }
                self.pos += 1;
                Ok(Expr::Map(entries))
            }
            Tok::Ident(name) => {
                self.pos += 1;
                match name.to_ascii_lowercase().as_str() {
                    "null" => return Ok(Expr::Lit(V::Null)),
                    "true" => return Ok(Expr::Lit(V::Bool(true))),
                    "false" => return Ok(Expr::Lit(V::Bool(false))),
                    _ => {}
                }
                // A dotted name followed by '(' is a namespaced function; otherwise the
                // dots are property accesses.
                let save = self.pos;
                let mut parts = vec![name.clone()];
                while self.is_punct(".") {
                    self.pos += 1;
                    parts.push(self.ident()?);
                }
                if self.is_punct("(") {
                    self.pos += 1;
                    let mut args = Vec::new();
                    while !self.is_punct(")") {
                        args.push(self.expr()?);
                        if !self.is_punct(")") {
                            self.expect_punct(",")?;
                        }
                    }
                    self.pos += 1;
                    return Ok(Expr::Call(parts.join(".").to_ascii_lowercase(), args));
                }
                self.pos = save;
                Ok(Expr::Var(name))
            }
            other => Err(format!("unexpected token {other:?}")),
        }
    }

    /// Source text from token `from` up to the current token.
    fn text_since(&self, from: usize) -> String {
        let start = self.toks[from].1;
        let end = self.toks[self.pos - 1].2;
        self.src[start..end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

type Row = BTreeMap<String, V>;

struct Eval {
    clock: Clock,
}

fn from_value(v: Value) -> V {
    match v {
        Value::Null => V::Null,
        Value::Bool(b) => V::Bool(b),
        Value::Int(i) => V::Int(i),
        Value::Float(f) => V::Float(f),
        Value::String(s) => V::Str(s),
        Value::List(l) => V::List(l.into_iter().map(from_value).collect()),
        Value::Map(m) => V::Map(m.into_iter().map(|(k, v)| (k, from_value(v))).collect()),
        other => V::Str(format!("unsupported {other}")),
    }
}

/// Runs `f` with `map` as [`Fields`] (temporal entries as selectors).
fn with_fields<R>(
    map: &BTreeMap<String, V>,
    f: impl FnOnce(&Fields<'_>) -> R,
) -> Result<R, String> {
    let fields: Fields<'_> = map
        .iter()
        .map(|(k, v)| {
            let v = match v {
                V::Int(i) => FieldValue::Int(*i),
                V::Float(x) => FieldValue::Float(*x),
                V::Str(s) => FieldValue::String(s),
                V::T(t) => FieldValue::Temporal(t),
                V::Null => FieldValue::Other("Null"),
                V::Bool(_) => FieldValue::Other("Boolean"),
                V::List(_) => FieldValue::Other("List"),
                V::Map(_) => FieldValue::Other("Map"),
            };
            (k.as_str(), v)
        })
        .collect();
    Ok(f(&fields))
}

fn err(e: TemporalError) -> String {
    format!("{:?}: {}", e.kind, e.message)
}

impl Eval {
    fn eval(&self, e: &Expr, row: &Row) -> Result<V, String> {
        Ok(match e {
            Expr::Lit(v) => v.clone(),
            Expr::Var(n) => row.get(n).cloned().ok_or(format!("unknown variable {n}"))?,
            Expr::Prop(inner, key) => match self.eval(inner, row)? {
                V::Null => V::Null,
                V::Map(m) => m.get(key).cloned().unwrap_or(V::Null),
                V::T(t) => from_value(Value::from(access::property(&t, key).map_err(err)?)),
                other => return Err(format!("property {key} of {other:?}")),
            },
            Expr::List(items) => V::List(
                items
                    .iter()
                    .map(|i| self.eval(i, row))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Map(entries) => V::Map(
                entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), self.eval(v, row)?)))
                    .collect::<Result<_, String>>()?,
            ),
            Expr::Neg(inner) => match self.eval(inner, row)? {
                V::Int(i) => V::Int(-i),
                V::Float(f) => V::Float(-f),
                other => return Err(format!("cannot negate {other:?}")),
            },
            Expr::Bin(op, a, b) => self.binary(op, self.eval(a, row)?, self.eval(b, row)?)?,
            Expr::Call(name, args) => {
                let args = args
                    .iter()
                    .map(|a| self.eval(a, row))
                    .collect::<Result<Vec<_>, _>>()?;
                self.call(name, &args)?
            }
        })
    }

    fn binary(&self, op: &str, a: V, b: V) -> Result<V, String> {
        use std::cmp::Ordering::*;
        if a == V::Null || b == V::Null {
            return Ok(V::Null);
        }
        let cmp = |a: &V, b: &V| match (a, b) {
            (V::T(x), V::T(y)) => x.cypher_cmp(y),
            (V::Int(x), V::Int(y)) => Some(x.cmp(y)),
            _ => None,
        };
        Ok(match op {
            "=" | "<>" => {
                let eq = match (&a, &b) {
                    (V::T(x), V::T(y)) => x == y,
                    _ => a == b,
                };
                V::Bool(eq == (op == "="))
            }
            "<" | ">" | "<=" | ">=" => match cmp(&a, &b) {
                None => V::Null,
                Some(o) => V::Bool(match op {
                    "<" => o == Less,
                    ">" => o == Greater,
                    "<=" => o != Greater,
                    _ => o != Less,
                }),
            },
            "+" | "-" => match (&a, &b) {
                (V::T(x), V::T(y)) => {
                    let r = if op == "+" {
                        arith::add(x, y)
                    } else {
                        arith::subtract(x, y)
                    };
                    V::T(r.map_err(err)?)
                }
                (V::Int(x), V::Int(y)) => V::Int(if op == "+" { x + y } else { x - y }),
                _ => return Err(format!("{op} on {a:?} and {b:?}")),
            },
            "*" | "/" => match (&a, &b) {
                (V::T(Temporal::Duration(d)), n) | (n, V::T(Temporal::Duration(d)))
                    if op == "*" =>
                {
                    V::T(Temporal::Duration(
                        match n {
                            V::Int(i) => d.mul_int(*i),
                            V::Float(f) => d.mul_float(*f),
                            _ => return Err("duration times a non-number".into()),
                        }
                        .map_err(err)?,
                    ))
                }
                (V::T(Temporal::Duration(d)), n) => V::T(Temporal::Duration(
                    match n {
                        V::Int(i) => d.div(*i as f64),
                        V::Float(f) => d.div(*f),
                        _ => return Err("duration divided by a non-number".into()),
                    }
                    .map_err(err)?,
                )),
                (V::Float(x), V::Float(y)) => V::Float(if op == "*" { x * y } else { x / y }),
                _ => return Err(format!("{op} on {a:?} and {b:?}")),
            },
            _ => return Err(format!("operator {op}")),
        })
    }

    fn call(&self, name: &str, args: &[V]) -> Result<V, String> {
        if name == "tostring" {
            return match args {
                [V::T(t)] => Ok(V::Str(t.to_string())),
                [V::Null] => Ok(V::Null),
                other => Err(format!("toString({other:?})")),
            };
        }
        let (base, suffix) = match name.split_once('.') {
            Some((b, s)) => (b, Some(s)),
            None => (name, None),
        };
        let kind = Kind::from_function_name(base).ok_or(format!("unknown function {name}"))?;
        let c = &self.clock;
        let t = match (kind, suffix) {
            (Kind::Duration, Some(unit)) => {
                let unit = BetweenUnit::from_function_name(unit)
                    .ok_or(format!("unknown function {name}"))?;
                match args {
                    [V::Null, _] | [_, V::Null] => return Ok(V::Null),
                    [V::T(a), V::T(b)] => Temporal::Duration(between(unit, a, b).map_err(err)?),
                    other => return Err(format!("{name}{other:?}")),
                }
            }
            (_, Some("truncate")) => match args {
                [V::Str(unit), V::T(t)] => {
                    truncate::truncate(kind, unit, t, &Fields::new(), c).map_err(err)?
                }
                [V::Str(unit), V::T(t), V::Map(m)] => {
                    with_fields(m, |f| truncate::truncate(kind, unit, t, f, c))?.map_err(err)?
                }
                other => return Err(format!("{name}{other:?}")),
            },
            (Kind::DateTime, Some("fromepoch")) => match args {
                [V::Int(s), V::Int(n)] => construct_epoch(*s, *n, c)?,
                other => return Err(format!("{name}{other:?}")),
            },
            (Kind::DateTime, Some("fromepochmillis")) => match args {
                [V::Int(ms)] => {
                    let mut m = BTreeMap::new();
                    m.insert("epochMillis".to_string(), V::Int(*ms));
                    with_fields(&m, |f| construct(Kind::DateTime, f, c))?.map_err(err)?
                }
                other => return Err(format!("{name}{other:?}")),
            },
            (_, Some(clock_name)) => {
                let source = ClockSource::from_suffix(clock_name)
                    .ok_or(format!("unknown function {name}"))?;
                match args {
                    [] => now(kind, source, None, c).map_err(err)?,
                    [V::Null] => return Ok(V::Null),
                    [V::Str(tz)] => {
                        let zone = Zone::parse(tz).map_err(err)?;
                        now(kind, source, Some(&zone), c).map_err(err)?
                    }
                    other => return Err(format!("{name}{other:?}")),
                }
            }
            (_, None) => match args {
                [] => now(kind, ClockSource::Statement, None, c).map_err(err)?,
                [V::Null] => return Ok(V::Null),
                [V::Str(s)] => parse::parse(kind, s).map_err(err)?,
                [V::T(t)] => select(kind, t, c).map_err(err)?,
                [V::Map(m)] => with_fields(m, |f| construct(kind, f, c))?.map_err(err)?,
                other => return Err(format!("{name}{other:?}")),
            },
        };
        Ok(V::T(t))
    }
}

fn construct_epoch(seconds: i64, nanos: i64, c: &Clock) -> Result<Temporal, String> {
    let mut m = BTreeMap::new();
    m.insert("epochSeconds".to_string(), V::Int(seconds));
    m.insert("nanosecond".to_string(), V::Int(nanos));
    with_fields(&m, |f| construct(Kind::DateTime, f, c))?.map_err(err)
}

// ---- Queries --------------------------------------------------------------------------------

struct Node {
    label: String,
    props: BTreeMap<String, V>,
}

/// `CREATE (:Label {k: v, …})` statements, one node each.
fn run_setup(ev: &Eval, src: &str, graph: &mut Vec<Node>) -> Result<(), String> {
    let mut p = Parser {
        src,
        toks: tokenize(src)?,
        pos: 0,
    };
    while p.peek().is_some() {
        if !p.is_kw("CREATE") {
            return Err("setup other than CREATE".into());
        }
        p.pos += 1;
        loop {
            p.expect_punct("(")?;
            p.expect_punct(":")?;
            let label = p.ident()?;
            let props = match p.primary()? {
                Expr::Map(entries) => {
                    let mut m = BTreeMap::new();
                    for (k, e) in entries {
                        m.insert(k, ev.eval(&e, &Row::new())?);
                    }
                    m
                }
                _ => return Err("node without a property map".into()),
            };
            p.expect_punct(")")?;
            graph.push(Node { label, props });
            if p.is_punct(",") {
                p.pos += 1;
            } else {
                break;
            }
        }
    }
    Ok(())
}

enum Clause {
    /// `MATCH (v:Label), …`
    Match(Vec<(String, String)>),
    /// `UNWIND expr AS v`
    Unwind(Expr, String),
    /// `WITH`/`RETURN` items, then `ORDER BY expr [DESC]` and `LIMIT n`.
    Project {
        is_return: bool,
        items: Vec<(String, Expr)>,
        order: Option<(Expr, bool)>,
        limit: Option<usize>,
    },
}

/// Parses the query shapes the evaluator supports; an error means "not evaluable".
fn parse_query(src: &str) -> Result<Vec<Clause>, String> {
    let mut p = Parser {
        src,
        toks: tokenize(src)?,
        pos: 0,
    };
    let mut clauses = Vec::new();
    while p.peek().is_some() {
        if p.is_kw("MATCH") {
            p.pos += 1;
            let mut patterns = Vec::new();
            loop {
                p.expect_punct("(")?;
                let var = p.ident()?;
                p.expect_punct(":")?;
                let label = p.ident()?;
                p.expect_punct(")")?;
                patterns.push((var, label));
                if !p.is_punct(",") {
                    break;
                }
                p.pos += 1;
            }
            clauses.push(Clause::Match(patterns));
        } else if p.is_kw("UNWIND") {
            p.pos += 1;
            let e = p.expr()?;
            if !p.is_kw("AS") {
                return Err("UNWIND without AS".into());
            }
            p.pos += 1;
            clauses.push(Clause::Unwind(e, p.ident()?));
        } else if p.is_kw("WITH") || p.is_kw("RETURN") {
            let is_return = p.is_kw("RETURN");
            p.pos += 1;
            let mut items = Vec::new();
            loop {
                let start = p.pos;
                let e = p.expr()?;
                let name = if p.is_kw("AS") {
                    p.pos += 1;
                    p.ident()?
                } else {
                    p.text_since(start)
                };
                items.push((name, e));
                if !p.is_punct(",") {
                    break;
                }
                p.pos += 1;
            }
            let mut order = None;
            if p.is_kw("ORDER") {
                p.pos += 1;
                if !p.is_kw("BY") {
                    return Err("ORDER without BY".into());
                }
                p.pos += 1;
                let e = p.expr()?;
                let desc = p.is_kw("DESC") || p.is_kw("DESCENDING");
                if desc || p.is_kw("ASC") || p.is_kw("ASCENDING") {
                    p.pos += 1;
                }
                order = Some((e, desc));
            }
            let mut limit = None;
            if p.is_kw("LIMIT") {
                p.pos += 1;
                match p.primary()? {
                    Expr::Lit(V::Int(n)) if n >= 0 => limit = Some(n as usize),
                    _ => return Err("LIMIT of a non-integer".into()),
                }
            }
            clauses.push(Clause::Project {
                is_return,
                items,
                order,
                limit,
            });
            if is_return && p.peek().is_some() {
                return Err("text after RETURN".into());
            }
        } else {
            return Err(format!("clause at {:?}", p.peek()));
        }
    }
    match clauses.last() {
        Some(Clause::Project {
            is_return: true, ..
        }) => Ok(clauses),
        _ => Err("no RETURN".into()),
    }
}

/// Runs parsed clauses; returns the column names and rows.
fn run_query(
    ev: &Eval,
    clauses: &[Clause],
    graph: &[Node],
) -> Result<(Vec<String>, Vec<Vec<V>>), String> {
    let mut rows: Vec<Row> = vec![Row::new()];
    for clause in clauses {
        match clause {
            Clause::Match(patterns) => {
                for (var, label) in patterns {
                    let mut next = Vec::new();
                    for row in &rows {
                        for n in graph.iter().filter(|n| &n.label == label) {
                            let mut r = row.clone();
                            r.insert(var.clone(), V::Map(n.props.clone()));
                            next.push(r);
                        }
                    }
                    rows = next;
                }
            }
            Clause::Unwind(e, var) => {
                let mut next = Vec::new();
                for row in &rows {
                    match ev.eval(e, row)? {
                        V::List(items) => {
                            for item in items {
                                let mut r = row.clone();
                                r.insert(var.clone(), item);
                                next.push(r);
                            }
                        }
                        other => return Err(format!("UNWIND of {other:?}")),
                    }
                }
                rows = next;
            }
            Clause::Project {
                is_return,
                items,
                order,
                limit,
            } => {
                let mut projected = Vec::new();
                for row in &rows {
                    let mut r = Row::new();
                    for (name, e) in items {
                        r.insert(name.clone(), ev.eval(e, row)?);
                    }
                    projected.push(r);
                }
                rows = projected;
                if let Some((e, desc)) = order {
                    let mut keyed = Vec::new();
                    for r in rows {
                        match ev.eval(e, &r)? {
                            V::T(t) => keyed.push((t, r)),
                            other => return Err(format!("ORDER BY a non-temporal {other:?}")),
                        }
                    }
                    keyed.sort_by(|a, b| {
                        let o = a.0.order_cmp(&b.0);
                        if *desc {
                            o.reverse()
                        } else {
                            o
                        }
                    });
                    rows = keyed.into_iter().map(|(_, r)| r).collect();
                }
                if let Some(n) = limit {
                    rows.truncate(*n);
                }
                if *is_return {
                    let names: Vec<String> = items.iter().map(|(n, _)| n.clone()).collect();
                    let out = rows
                        .into_iter()
                        .map(|mut r| {
                            names
                                .iter()
                                .map(|n| r.remove(n).unwrap_or(V::Null))
                                .collect()
                        })
                        .collect();
                    return Ok((names, out));
                }
            }
        }
    }
    Err("no RETURN".into())
}

// ---- Expected values ------------------------------------------------------------------------

/// A TCK table cell (`'text'`, `12`, `1.5`, `true`, `null`, `[…]`) as a value to compare.
fn expected_value(cell: &str) -> Result<V, String> {
    let mut p = Parser {
        src: cell,
        toks: tokenize(cell)?,
        pos: 0,
    };
    let e = p.expr()?;
    if p.peek().is_some() {
        return Err(format!("cannot read expected cell {cell}"));
    }
    Eval {
        clock: Clock::fixed(Instant {
            epoch_seconds: 0,
            nanos: 0,
        }),
    }
    .eval(&e, &Row::new())
}

/// Temporal values compare as the TCK writes them: their string form.
fn rendered(v: &V) -> V {
    match v {
        V::T(t) => V::Str(t.to_string()),
        V::List(l) => V::List(l.iter().map(rendered).collect()),
        V::Map(m) => V::Map(m.iter().map(|(k, v)| (k.clone(), rendered(v))).collect()),
        other => other.clone(),
    }
}

// ---- Driver ---------------------------------------------------------------------------------

enum Outcome {
    Pass,
    Fail(String),
    NotEvaluable(String),
}

fn run_case(steps: &[Step], clock: Clock) -> Outcome {
    let ev = Eval { clock };
    let mut graph = Vec::new();
    let mut result = None;
    let mut expected: Option<(bool, Vec<Vec<String>>)> = None;
    for step in steps {
        let t = step.text.as_str();
        let doc = step.doc.as_deref().unwrap_or("");
        if t == "any graph" || t == "an empty graph" || t.starts_with("no side effects") {
            continue;
        } else if t == "having executed:" {
            if let Err(e) = run_setup(&ev, doc, &mut graph) {
                return Outcome::NotEvaluable(format!("setup: {e}"));
            }
        } else if t == "executing query:" {
            if doc.to_ascii_uppercase().contains("CREATE") {
                return Outcome::NotEvaluable("the query writes (storage)".into());
            }
            match parse_query(doc) {
                Ok(clauses) => result = Some(run_query(&ev, &clauses, &graph)),
                Err(e) => return Outcome::NotEvaluable(format!("query shape: {e}")),
            }
        } else if t == "the result should be, in any order:"
            || t == "the result should be, in order:"
        {
            expected = Some((t.ends_with("in order:"), step.table.clone()));
        } else if t == "the side effects should be:" {
            continue;
        } else {
            return Outcome::NotEvaluable(format!("step '{t}'"));
        }
    }
    let (Some(result), Some((ordered, table))) = (result, expected) else {
        return Outcome::NotEvaluable("no query or no expected table".into());
    };
    let (names, rows) = match result {
        Ok(r) => r,
        Err(e) => return Outcome::Fail(e),
    };
    if table.first() != Some(&names) {
        return Outcome::Fail(format!("columns {names:?}, expected {:?}", table.first()));
    }
    let mut want = Vec::new();
    for row in &table[1..] {
        match row
            .iter()
            .map(|c| expected_value(c))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(r) => want.push(r),
            Err(e) => return Outcome::NotEvaluable(format!("expected value: {e}")),
        }
    }
    let mut got: Vec<Vec<V>> = rows
        .iter()
        .map(|r| r.iter().map(rendered).collect())
        .collect();
    if !ordered {
        let key = |r: &Vec<V>| format!("{r:?}");
        got.sort_by_key(key);
        want.sort_by_key(key);
    }
    if got == want {
        Outcome::Pass
    } else {
        Outcome::Fail(format!("got {got:?}, expected {want:?}"))
    }
}

fn features_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tck/features")
}

#[test]
fn tck_temporal_scenarios_evaluate_through_the_library() {
    let root = features_dir();
    assert!(
        root.is_dir(),
        "TCK features not found at {} (expected ../shared/tck next to the workspace)",
        root.display()
    );
    let mut files: Vec<PathBuf> = (1..=10)
        .map(|i| root.join(format!("expressions/temporal/Temporal{i}.feature")))
        .collect();
    files.push(root.join("clauses/with-orderBy/WithOrderBy1.feature"));
    let clock = Clock::fixed(Instant {
        epoch_seconds: 1_700_000_000,
        nanos: 123_456_789,
    });
    let (mut pass, mut fail, mut skipped, mut temporal_total) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    let mut skip_reasons: BTreeMap<String, usize> = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        let is_temporal = file.to_string_lossy().contains("temporal");
        let (mut p, mut f, mut s) = (0, 0, 0);
        for scenario in parse_feature(&text) {
            for (name, steps) in cases(&scenario) {
                // Outside the temporal folder only the temporal sorting scenarios count.
                let query = steps
                    .iter()
                    .filter_map(|s| s.doc.as_deref())
                    .collect::<String>();
                if !is_temporal
                    && !["date(", "time(", "duration("]
                        .iter()
                        .any(|f| query.contains(f))
                {
                    continue;
                }
                if is_temporal {
                    temporal_total += 1;
                }
                match run_case(&steps, clock) {
                    Outcome::Pass => p += 1,
                    Outcome::Fail(why) => {
                        f += 1;
                        failures.push(format!("{}: {name}: {why}", file.display()));
                    }
                    Outcome::NotEvaluable(why) => {
                        s += 1;
                        *skip_reasons.entry(why).or_default() += 1;
                    }
                }
            }
        }
        println!(
            "{:<28} passed {p:>4}  failed {f:>3}  not evaluable {s:>3}",
            file.file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default()
        );
        pass += p;
        fail += f;
        skipped += s;
    }
    println!("total: passed {pass}, failed {fail}, not evaluable {skipped}");
    println!("temporal cases seen: {temporal_total} (the TCK counts 1,004)");
    for (why, n) in &skip_reasons {
        println!("  not evaluable ({n}): {why}");
    }
    assert_eq!(
        temporal_total, 1004,
        "the temporal features changed or were misread"
    );
    assert!(pass >= 900, "only {pass} cases evaluated and passed");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
