//! Bound expressions and their evaluation.
//!
//! The planner compiles every AST expression once into an [`Expr`] whose variables are slot
//! indices in the row; evaluation walks that tree per row. Row layout: one `Vec<Value>` per
//! row, one slot per variable of the whole query (see `planner::scope`).

use std::borrow::Cow;

use nereid_common::{Error, ErrorCode, Map, Value};
use nereid_cypher::ast::{BinaryOp, Quantifier};
use nereid_functions as functions;
use nereid_storage::GraphRead;

use crate::legacy::exec::subquery::SubqueryPlan;
use crate::legacy::pattern::{MatchIter, PatternPlan};

/// A graph-aware built-in function (everything else goes to `nereid_functions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFn {
    Id,
    Labels,
    Type,
    Properties,
    Keys,
    StartNode,
    EndNode,
    Nodes,
    Relationships,
    Length,
    Exists,
}

impl GraphFn {
    pub fn lookup(name: &str) -> Option<(GraphFn, usize)> {
        Some(match name {
            "id" => (GraphFn::Id, 1),
            "labels" => (GraphFn::Labels, 1),
            "type" => (GraphFn::Type, 1),
            "properties" => (GraphFn::Properties, 1),
            "keys" => (GraphFn::Keys, 1),
            "startnode" => (GraphFn::StartNode, 1),
            "endnode" => (GraphFn::EndNode, 1),
            "nodes" => (GraphFn::Nodes, 1),
            "relationships" => (GraphFn::Relationships, 1),
            "length" => (GraphFn::Length, 1),
            "exists" => (GraphFn::Exists, 1),
            _ => return None,
        })
    }
}

/// An item of a map projection `v { .a, b: expr, c, .* }`.
#[derive(Debug, Clone)]
pub enum MapItem {
    Property(String),
    Entry(String, Expr),
    AllProperties,
}

/// A compiled expression.
#[derive(Debug, Clone)]
pub enum Expr {
    Const(Value),
    Param(String),
    Slot(usize),
    List(Vec<Expr>),
    Map(Vec<(String, Expr)>),
    Property(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    Slice(Box<Expr>, Option<Box<Expr>>, Option<Box<Expr>>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Plus(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Xor(Box<Expr>, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `a op1 b op2 c …` evaluated as a conjunction with each operand evaluated once.
    Comparison(Box<Expr>, Vec<(BinaryOp, Expr)>),
    IsNull(Box<Expr>),
    IsNotNull(Box<Expr>),
    HasLabels(Box<Expr>, Vec<String>),
    /// A built-in function resolved at plan time.
    Scalar(&'static functions::ScalarFunction, Vec<Expr>),
    Graph(GraphFn, Vec<Expr>),
    /// The value of aggregate number `i` of the enclosing aggregation (slot in the row).
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        else_: Option<Box<Expr>>,
    },
    ListComprehension {
        slot: usize,
        list: Box<Expr>,
        where_: Option<Box<Expr>>,
        map: Option<Box<Expr>>,
    },
    Quantified {
        quantifier: Quantifier,
        slot: usize,
        list: Box<Expr>,
        where_: Option<Box<Expr>>,
    },
    Reduce {
        acc: usize,
        init: Box<Expr>,
        slot: usize,
        list: Box<Expr>,
        expr: Box<Expr>,
    },
    MapProjection(Box<Expr>, Vec<MapItem>),
    /// `[pattern WHERE pred | map]`; the pattern binds its variables into row slots.
    PatternComprehension {
        pattern: Box<PatternPlan>,
        where_: Option<Box<Expr>>,
        map: Box<Expr>,
    },
    /// A pattern predicate or `EXISTS { pattern WHERE … }`: true when a match exists.
    PatternExists {
        pattern: Box<PatternPlan>,
        where_: Option<Box<Expr>>,
    },
    /// `EXISTS { MATCH … }` with a full subquery.
    SubqueryExists(Box<SubqueryPlan>),
}

/// What evaluation needs besides the row.
pub struct EvalCx<'a> {
    pub graph: &'a dyn GraphRead,
    pub params: &'a Map,
    pub cancel: &'a nereid_common::CancelToken,
    /// Hash lookups for repeated unindexed property matches.
    pub lookups: &'a crate::legacy::exec::lookup::LookupCache,
}

fn bool_or_null(v: Option<bool>) -> Value {
    v.map_or(Value::Null, Value::Bool)
}

/// Three-valued truth of a value used as a predicate: `Some(b)` or `None` for null; a
/// non-boolean is a type error.
pub fn truth(v: &Value) -> Result<Option<bool>, Error> {
    match v {
        Value::Bool(b) => Ok(Some(*b)),
        Value::Null => Ok(None),
        other => Err(Error::type_error(format!(
            "Expected a Boolean but got {} ({})",
            other.type_name(),
            other
        ))),
    }
}

impl Expr {
    /// Whether the expression is a compile-time constant.
    pub fn is_const(&self) -> bool {
        matches!(self, Expr::Const(_))
    }

    /// Evaluates without copying when the value is already in the row or a constant:
    /// operators that only read their operands (property access, indexing, comparisons)
    /// use this, so a large list in a variable is not cloned per row.
    pub fn eval_ref<'r>(&'r self, row: &'r [Value], cx: &EvalCx) -> Result<Cow<'r, Value>, Error> {
        match self {
            Expr::Const(v) => Ok(Cow::Borrowed(v)),
            Expr::Slot(i) => Ok(row.get(*i).map_or(Cow::Owned(Value::Null), Cow::Borrowed)),
            other => other.eval(row, cx).map(Cow::Owned),
        }
    }

    pub fn eval(&self, row: &[Value], cx: &EvalCx) -> Result<Value, Error> {
        match self {
            Expr::Const(v) => Ok(v.clone()),
            Expr::Param(name) => cx.params.get(name).cloned().ok_or_else(|| {
                Error::new(
                    ErrorCode::MissingQueryParameter,
                    format!("Expected parameter(s): {name}"),
                )
            }),
            Expr::Slot(i) => Ok(row.get(*i).cloned().unwrap_or(Value::Null)),
            Expr::List(items) => items
                .iter()
                .map(|e| e.eval(row, cx))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::List),
            Expr::Map(entries) => {
                let mut m = Map::new();
                for (k, e) in entries {
                    m.insert(k.clone(), e.eval(row, cx)?);
                }
                Ok(Value::Map(m))
            }
            Expr::Property(base, key) => {
                let b = base.eval_ref(row, cx)?;
                property(&b, key, cx.graph)
            }
            Expr::Index(base, idx) => {
                let b = base.eval_ref(row, cx)?;
                let i = idx.eval_ref(row, cx)?;
                let (b, i) = (b.as_ref(), i.as_ref());
                match (&b, &i) {
                    (Value::Node(_) | Value::Relationship(_), Value::String(k)) => {
                        property(b, k, cx.graph)
                    }
                    (Value::Node(_) | Value::Relationship(_), Value::Null) => Ok(Value::Null),
                    (Value::Node(_) | Value::Relationship(_) | Value::Map(_), other)
                        if !other.is_null() && !matches!(other, Value::String(_)) =>
                    {
                        Err(Error::new(
                            ErrorCode::MapElementAccessByNonString,
                            format!("Map element access by non-string key: {other}"),
                        ))
                    }
                    _ => functions::ops::index(b, i),
                }
            }
            Expr::Slice(base, from, to) => {
                let b = base.eval_ref(row, cx)?;
                let f = match from {
                    Some(e) => e.eval(row, cx)?,
                    None => Value::Null,
                };
                let t = match to {
                    Some(e) => e.eval(row, cx)?,
                    None => Value::Null,
                };
                functions::ops::slice(&b, from.as_ref().map(|_| &f), to.as_ref().map(|_| &t))
            }
            Expr::Not(e) => Ok(bool_or_null(truth(&e.eval(row, cx)?)?.map(|b| !b))),
            Expr::Neg(e) => functions::ops::neg(&e.eval(row, cx)?),
            Expr::Plus(e) => {
                let v = e.eval(row, cx)?;
                match v {
                    Value::Int(_) | Value::Float(_) | Value::Null => Ok(v),
                    other => Err(Error::type_error(format!(
                        "Cannot apply unary plus to {}",
                        other.type_name()
                    ))),
                }
            }
            Expr::And(a, b) => {
                let x = truth(&a.eval(row, cx)?)?;
                if x == Some(false) {
                    // Still type-check the right side lazily: Cypher does not require it.
                    return Ok(Value::Bool(false));
                }
                let y = truth(&b.eval(row, cx)?)?;
                Ok(bool_or_null(match (x, y) {
                    (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                }))
            }
            Expr::Or(a, b) => {
                let x = truth(&a.eval(row, cx)?)?;
                if x == Some(true) {
                    return Ok(Value::Bool(true));
                }
                let y = truth(&b.eval(row, cx)?)?;
                Ok(bool_or_null(match (x, y) {
                    (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                }))
            }
            Expr::Xor(a, b) => {
                let x = truth(&a.eval(row, cx)?)?;
                let y = truth(&b.eval(row, cx)?)?;
                Ok(bool_or_null(match (x, y) {
                    (Some(p), Some(q)) => Some(p != q),
                    _ => None,
                }))
            }
            Expr::Binary(op, a, b) => {
                let x = a.eval_ref(row, cx)?;
                let y = b.eval_ref(row, cx)?;
                binary(*op, &x, &y)
            }
            Expr::Comparison(first, rest) => {
                let mut left = first.eval(row, cx)?;
                let mut result = Some(true);
                for (op, e) in rest {
                    let right = e.eval(row, cx)?;
                    let r = truth(&binary(*op, &left, &right)?)?;
                    result = match (result, r) {
                        (Some(false), _) | (_, Some(false)) => Some(false),
                        (Some(true), Some(true)) => Some(true),
                        _ => None,
                    };
                    left = right;
                }
                Ok(bool_or_null(result))
            }
            Expr::IsNull(e) => Ok(Value::Bool(e.eval(row, cx)?.is_null())),
            Expr::IsNotNull(e) => Ok(Value::Bool(!e.eval(row, cx)?.is_null())),
            Expr::HasLabels(e, labels) => {
                match e.eval(row, cx)? {
                    Value::Null => Ok(Value::Null),
                    Value::Node(n) => {
                        for l in labels {
                            match cx.graph.label_id(l) {
                                Some(id) if cx.graph.node_has_label(n, id) => {}
                                _ => return Ok(Value::Bool(false)),
                            }
                        }
                        Ok(Value::Bool(true))
                    }
                    // `r:T` on a relationship tests its type.
                    Value::Relationship(r) => Ok(Value::Bool(cx.graph.rel_info(r).is_some_and(
                        |(_, _, t)| labels.iter().all(|l| cx.graph.type_name(t) == l),
                    ))),
                    other => Err(Error::type_error(format!(
                        "Expected a Node to check labels but got {}",
                        other.type_name()
                    ))),
                }
            }
            Expr::Scalar(f, args) => {
                let vals = args
                    .iter()
                    .map(|e| e.eval(row, cx))
                    .collect::<Result<Vec<_>, _>>()?;
                f.call(&vals)
            }
            Expr::Graph(f, args) => {
                let v = match args.first() {
                    Some(e) => e.eval(row, cx)?,
                    None => Value::Null,
                };
                // A relationship deleted by this query keeps its type and endpoints.
                if let (
                    GraphFn::Type | GraphFn::StartNode | GraphFn::EndNode,
                    Value::Relationship(r),
                ) = (f, &v)
                {
                    if cx.graph.rel_info(*r).is_none() {
                        if let Some((s, e, t)) = cx.lookups.deleted_rel(*r) {
                            return Ok(match f {
                                GraphFn::Type => Value::String(cx.graph.type_name(t).to_owned()),
                                GraphFn::StartNode => Value::Node(s),
                                _ => Value::Node(e),
                            });
                        }
                    }
                }
                graph_fn(*f, v, cx.graph)
            }
            Expr::Case {
                operand,
                whens,
                else_,
            } => {
                match operand {
                    Some(op) => {
                        let v = op.eval(row, cx)?;
                        for (w, t) in whens {
                            let c = w.eval(row, cx)?;
                            if v.cypher_eq(&c) == Some(true) {
                                return t.eval(row, cx);
                            }
                        }
                    }
                    None => {
                        for (w, t) in whens {
                            if truth(&w.eval(row, cx)?)? == Some(true) {
                                return t.eval(row, cx);
                            }
                        }
                    }
                }
                match else_ {
                    Some(e) => e.eval(row, cx),
                    None => Ok(Value::Null),
                }
            }
            Expr::ListComprehension {
                slot,
                list,
                where_,
                map,
            } => {
                let items = match list_of(list.eval(row, cx)?, "list comprehension")? {
                    Some(l) => l,
                    None => return Ok(Value::Null),
                };
                let mut local = local_row(row, *slot);
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    local[*slot] = item;
                    if let Some(w) = where_ {
                        if truth(&w.eval(&local, cx)?)? != Some(true) {
                            continue;
                        }
                    }
                    out.push(match map {
                        Some(m) => m.eval(&local, cx)?,
                        None => local[*slot].clone(),
                    });
                }
                Ok(Value::List(out))
            }
            Expr::Quantified {
                quantifier,
                slot,
                list,
                where_,
            } => {
                let items = match list_of(list.eval(row, cx)?, "quantifier")? {
                    Some(l) => l,
                    None => return Ok(Value::Null),
                };
                let mut local = local_row(row, *slot);
                let (mut trues, mut nulls) = (0usize, 0usize);
                let total = items.len();
                for item in items {
                    local[*slot] = item;
                    let t = match where_ {
                        Some(w) => truth(&w.eval(&local, cx)?)?,
                        None => truth(&local[*slot])?,
                    };
                    match t {
                        Some(true) => trues += 1,
                        None => nulls += 1,
                        Some(false) => {}
                    }
                }
                let falses = total - trues - nulls;
                Ok(bool_or_null(match quantifier {
                    Quantifier::All => {
                        if falses > 0 {
                            Some(false)
                        } else if nulls > 0 {
                            None
                        } else {
                            Some(true)
                        }
                    }
                    Quantifier::Any => {
                        if trues > 0 {
                            Some(true)
                        } else if nulls > 0 {
                            None
                        } else {
                            Some(false)
                        }
                    }
                    Quantifier::None => {
                        if trues > 0 {
                            Some(false)
                        } else if nulls > 0 {
                            None
                        } else {
                            Some(true)
                        }
                    }
                    Quantifier::Single => {
                        if trues > 1 {
                            Some(false)
                        } else if nulls > 0 {
                            None
                        } else {
                            Some(trues == 1)
                        }
                    }
                }))
            }
            Expr::Reduce {
                acc,
                init,
                slot,
                list,
                expr,
            } => {
                let start = init.eval(row, cx)?;
                let items = match list_of(list.eval(row, cx)?, "reduce")? {
                    Some(l) => l,
                    None => return Ok(Value::Null),
                };
                let mut local = local_row(row, (*slot).max(*acc));
                local[*acc] = start;
                for item in items {
                    local[*slot] = item;
                    local[*acc] = expr.eval(&local, cx)?;
                }
                Ok(std::mem::take(&mut local[*acc]))
            }
            Expr::MapProjection(base, items) => {
                let b = base.eval(row, cx)?;
                if b.is_null() {
                    return Ok(Value::Null);
                }
                let mut m = Map::new();
                for item in items {
                    match item {
                        MapItem::Property(k) => {
                            m.insert(k.clone(), property(&b, k, cx.graph)?);
                        }
                        MapItem::Entry(k, e) => {
                            m.insert(k.clone(), e.eval(row, cx)?);
                        }
                        MapItem::AllProperties => {
                            if let Value::Map(props) =
                                graph_fn(GraphFn::Properties, b.clone(), cx.graph)?
                            {
                                m.extend(props);
                            }
                        }
                    }
                }
                Ok(Value::Map(m))
            }
            Expr::PatternComprehension {
                pattern,
                where_,
                map,
            } => {
                let mut out = Vec::new();
                let mut it = MatchIter::new(pattern, row.to_vec());
                while let Some(bound) = it.next(cx)? {
                    if let Some(w) = where_ {
                        if truth(&w.eval(bound, cx)?)? != Some(true) {
                            continue;
                        }
                    }
                    out.push(map.eval(bound, cx)?);
                }
                Ok(Value::List(out))
            }
            Expr::PatternExists { pattern, where_ } => {
                let mut it = MatchIter::new(pattern, row.to_vec());
                while let Some(bound) = it.next(cx)? {
                    if let Some(w) = where_ {
                        if truth(&w.eval(bound, cx)?)? != Some(true) {
                            continue;
                        }
                    }
                    return Ok(Value::Bool(true));
                }
                Ok(Value::Bool(false))
            }
            Expr::SubqueryExists(plan) => plan.exists(row, cx).map(Value::Bool),
        }
    }

    /// Calls `f` on every direct child expression.
    pub fn visit_children(&self, f: &mut dyn FnMut(&Expr)) {
        match self {
            Expr::Const(_) | Expr::Param(_) | Expr::Slot(_) => {}
            Expr::List(v) | Expr::Scalar(_, v) | Expr::Graph(_, v) => v.iter().for_each(f),
            Expr::Map(v) => v.iter().for_each(|(_, e)| f(e)),
            Expr::Property(e, _)
            | Expr::Not(e)
            | Expr::Neg(e)
            | Expr::Plus(e)
            | Expr::IsNull(e)
            | Expr::IsNotNull(e)
            | Expr::HasLabels(e, _) => f(e),
            Expr::Index(a, b)
            | Expr::And(a, b)
            | Expr::Or(a, b)
            | Expr::Xor(a, b)
            | Expr::Binary(_, a, b) => {
                f(a);
                f(b)
            }
            Expr::Slice(a, b, c) => {
                f(a);
                if let Some(b) = b {
                    f(b)
                }
                if let Some(c) = c {
                    f(c)
                }
            }
            Expr::Comparison(a, rest) => {
                f(a);
                rest.iter().for_each(|(_, e)| f(e))
            }
            Expr::Case {
                operand,
                whens,
                else_,
            } => {
                if let Some(o) = operand {
                    f(o)
                }
                for (w, t) in whens {
                    f(w);
                    f(t)
                }
                if let Some(e) = else_ {
                    f(e)
                }
            }
            Expr::ListComprehension {
                list, where_, map, ..
            } => {
                f(list);
                if let Some(w) = where_ {
                    f(w)
                }
                if let Some(m) = map {
                    f(m)
                }
            }
            Expr::Quantified { list, where_, .. } => {
                f(list);
                if let Some(w) = where_ {
                    f(w)
                }
            }
            Expr::Reduce {
                init, list, expr, ..
            } => {
                f(init);
                f(list);
                f(expr)
            }
            Expr::MapProjection(b, items) => {
                f(b);
                for i in items {
                    if let MapItem::Entry(_, e) = i {
                        f(e)
                    }
                }
            }
            Expr::PatternComprehension { where_, map, .. } => {
                if let Some(w) = where_ {
                    f(w)
                }
                f(map)
            }
            Expr::PatternExists { where_, .. } => {
                if let Some(w) = where_ {
                    f(w)
                }
            }
            Expr::SubqueryExists(_) => {}
        }
    }
}

fn local_row(row: &[Value], slot: usize) -> Vec<Value> {
    let mut local = row.to_vec();
    if local.len() <= slot {
        local.resize(slot + 1, Value::Null);
    }
    local
}

fn list_of(v: Value, what: &str) -> Result<Option<Vec<Value>>, Error> {
    match v {
        Value::List(l) => Ok(Some(l)),
        Value::Null => Ok(None),
        other => Err(Error::type_error(format!(
            "Expected a List in {what} but got {} ({other})",
            other.type_name()
        ))),
    }
}

/// `base.key` for nodes, relationships and maps; null for null.
pub fn property(base: &Value, key: &str, graph: &dyn GraphRead) -> Result<Value, Error> {
    match base {
        Value::Null => Ok(Value::Null),
        Value::Map(m) => Ok(m.get(key).cloned().unwrap_or(Value::Null)),
        Value::Temporal(t) => nereid_common::temporal::access::property(t, key),
        Value::Node(n) => {
            if !graph.node_exists(*n) {
                return Err(deleted_entity("node"));
            }
            Ok(graph
                .key_id(key)
                .and_then(|k| graph.node_property(*n, k))
                .unwrap_or(Value::Null))
        }
        Value::Relationship(r) => {
            if !graph.rel_exists(*r) {
                return Err(deleted_entity("relationship"));
            }
            Ok(graph
                .key_id(key)
                .and_then(|k| graph.rel_property(*r, k))
                .unwrap_or(Value::Null))
        }
        other => Err(Error::type_error(format!(
            "Type mismatch: expected a map, node or relationship but was {} ({other}) when accessing property '{key}'",
            other.type_name()
        ))),
    }
}

fn deleted_entity(what: &str) -> Error {
    Error::new(
        ErrorCode::DeletedEntityAccess,
        format!("The {what} was deleted in this transaction and its properties cannot be read"),
    )
}

/// The binary operators other than AND/OR/XOR.
pub fn binary(op: BinaryOp, a: &Value, b: &Value) -> Result<Value, Error> {
    use functions::ops;
    Ok(match op {
        BinaryOp::Add => return ops::add(a, b),
        BinaryOp::Sub => return ops::sub(a, b),
        BinaryOp::Mul => return ops::mul(a, b),
        BinaryOp::Div => return ops::div(a, b),
        BinaryOp::Mod => return ops::modulo(a, b),
        BinaryOp::Pow => return ops::pow(a, b),
        BinaryOp::Eq => bool_or_null(a.cypher_eq(b)),
        BinaryOp::Ne => bool_or_null(a.cypher_eq(b).map(|x| !x)),
        BinaryOp::Lt => cmp_op(a, b, |o| o.is_lt()),
        BinaryOp::Le => cmp_op(a, b, |o| o.is_le()),
        BinaryOp::Gt => cmp_op(a, b, |o| o.is_gt()),
        BinaryOp::Ge => cmp_op(a, b, |o| o.is_ge()),
        BinaryOp::In => return ops::in_list(a, b),
        BinaryOp::StartsWith => ops::starts_with(a, b),
        BinaryOp::EndsWith => ops::ends_with(a, b),
        BinaryOp::Contains => ops::contains(a, b),
        BinaryOp::RegexMatch => return ops::regex_match(a, b),
        BinaryOp::And | BinaryOp::Or | BinaryOp::Xor => {
            return Err(Error::internal(
                "boolean operator evaluated as a binary operator",
            ))
        }
    })
}

fn cmp_op(a: &Value, b: &Value, f: impl Fn(std::cmp::Ordering) -> bool) -> Value {
    if a.is_null() || b.is_null() {
        return Value::Null;
    }
    // NaN is a number that compares false with every number.
    let is_nan = |v: &Value| matches!(v, Value::Float(x) if x.is_nan());
    let is_num = |v: &Value| matches!(v, Value::Float(_) | Value::Int(_));
    if (is_nan(a) && is_num(b)) || (is_nan(b) && is_num(a)) {
        return Value::Bool(false);
    }
    match a.cypher_cmp(b) {
        Some(o) => Value::Bool(f(o)),
        None => Value::Null,
    }
}

/// The functions that need the graph.
pub fn graph_fn(f: GraphFn, v: Value, graph: &dyn GraphRead) -> Result<Value, Error> {
    let type_err = |v: &Value, what: &str| {
        Err(Error::new(
            ErrorCode::InvalidArgumentValue,
            format!(
                "Invalid argument: expected {what} but got {} ({v})",
                v.type_name()
            ),
        ))
    };
    if f == GraphFn::Exists {
        // exists(n.prop): the argument was already evaluated; non-null means present.
        return Ok(Value::Bool(!v.is_null()));
    }
    if v.is_null() {
        return Ok(Value::Null);
    }
    match f {
        GraphFn::Id => match v {
            Value::Node(n) => Ok(graph
                .node_external_id(n)
                .map_or(Value::Null, |s| Value::String(s.to_owned()))),
            Value::Relationship(r) => Ok(graph
                .rel_external_id(r)
                .map_or(Value::Null, |s| Value::String(s.to_owned()))),
            other => type_err(&other, "a node or relationship"),
        },
        GraphFn::Labels => match v {
            Value::Node(n) => {
                if !graph.node_exists(n) {
                    return Err(deleted_entity("node"));
                }
                let mut ids = Vec::new();
                graph.node_labels(n, &mut ids);
                let mut names: Vec<Value> = ids
                    .into_iter()
                    .map(|l| Value::String(graph.label_name(l).to_owned()))
                    .collect();
                names.sort_by(|a, b| a.order_cmp(b));
                Ok(Value::List(names))
            }
            other => type_err(&other, "a node"),
        },
        GraphFn::Type => match v {
            Value::Relationship(r) => Ok(graph.rel_info(r).map_or(Value::Null, |(_, _, t)| {
                Value::String(graph.type_name(t).to_owned())
            })),
            other => type_err(&other, "a relationship"),
        },
        GraphFn::Properties => match v {
            Value::Map(m) => Ok(Value::Map(m)),
            Value::Node(n) => {
                if !graph.node_exists(n) {
                    return Err(deleted_entity("node"));
                }
                let mut props = Vec::new();
                graph.node_properties(n, &mut props);
                Ok(Value::Map(
                    props
                        .into_iter()
                        .map(|(k, v)| (graph.key_name(k).to_owned(), v))
                        .collect(),
                ))
            }
            Value::Relationship(r) => {
                if !graph.rel_exists(r) {
                    return Err(deleted_entity("relationship"));
                }
                let mut props = Vec::new();
                graph.rel_properties(r, &mut props);
                Ok(Value::Map(
                    props
                        .into_iter()
                        .map(|(k, v)| (graph.key_name(k).to_owned(), v))
                        .collect(),
                ))
            }
            other => type_err(&other, "a map, node or relationship"),
        },
        GraphFn::Keys => match v {
            Value::Node(_) | Value::Relationship(_) => {
                match graph_fn(GraphFn::Properties, v, graph)? {
                    Value::Map(m) => Ok(Value::List(m.into_keys().map(Value::String).collect())),
                    _ => Ok(Value::Null),
                }
            }
            Value::Map(m) => Ok(Value::List(m.into_keys().map(Value::String).collect())),
            other => type_err(&other, "a map, node or relationship"),
        },
        GraphFn::StartNode | GraphFn::EndNode => match v {
            Value::Relationship(r) => Ok(graph.rel_info(r).map_or(Value::Null, |(s, e, _)| {
                Value::Node(if f == GraphFn::StartNode { s } else { e })
            })),
            other => type_err(&other, "a relationship"),
        },
        GraphFn::Nodes => match v {
            Value::Path(p) => Ok(Value::List(p.nodes.into_iter().map(Value::Node).collect())),
            other => type_err(&other, "a path"),
        },
        GraphFn::Relationships => match v {
            Value::Path(p) => Ok(Value::List(
                p.rels.into_iter().map(Value::Relationship).collect(),
            )),
            other => type_err(&other, "a path"),
        },
        GraphFn::Length => match v {
            Value::Path(p) => Ok(Value::Int(p.rels.len() as i64)),
            other => type_err(&other, "a path"),
        },
        GraphFn::Exists => Ok(Value::Bool(true)),
    }
}
