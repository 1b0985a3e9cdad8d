//! Compiled expressions: a bound [`crate::plan::Expr`] made ready to evaluate against rows
//! of one operator's schema.
//!
//! Compilation (in `physical`) resolves every variable to a column of the row or a slot of
//! the evaluation [`Frame`] (comprehension and `reduce` variables), substitutes parameters
//! by their values, resolves property keys, labels and functions once, and builds nested
//! plans for subqueries. Evaluation then walks this tree; nothing is looked up by name or
//! text per row (a key or label the store did not know when the query started is looked up
//! again until it exists, since the query itself may create it).
//!
//! Values that expressions build (string and list concatenation, `range`, comprehensions,
//! `reduce`, pattern comprehensions) are checked against the query's memory budget before
//! they are built, so a doubling `reduce` fails with `MemoryLimitExceededException` rather
//! than exhausting the machine.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::OnceLock;

use nereid_common::{Error, ErrorCode};
use nereid_cypher::ast::{BinaryOp, Quantifier};
use nereid_functions::{self as functions, ScalarFunction};
use nereid_storage::{GraphRead, KeyId, LabelId};
use nereid_value::{Map, Value};

use super::memory::{heap_size, value_size};
use super::{ArgCell, BoxOp, Ctx, EvalCx, GraphAccess};
use crate::plan::GraphFn;

/// Values of comprehension and `reduce` variables while an expression is evaluated.
pub type Frame = Vec<Value>;

/// A property key, resolved on first use.
#[derive(Debug, Clone)]
pub struct Key {
    pub name: String,
    id: OnceLock<KeyId>,
}

impl Key {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            id: OnceLock::new(),
        }
    }

    /// The key's id, `None` while the store has no such key (no element has it).
    pub fn id(&self, g: &dyn GraphRead) -> Option<KeyId> {
        if let Some(id) = self.id.get() {
            return Some(*id);
        }
        let id = g.key_id(&self.name)?;
        let _ = self.id.set(id);
        Some(id)
    }
}

/// A label, resolved on first use.
#[derive(Debug, Clone)]
pub struct Label {
    pub name: String,
    id: OnceLock<LabelId>,
}

impl Label {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            id: OnceLock::new(),
        }
    }

    pub fn id(&self, g: &dyn GraphRead) -> Option<LabelId> {
        if let Some(id) = self.id.get() {
            return Some(*id);
        }
        let id = g.label_id(&self.name)?;
        let _ = self.id.set(id);
        Some(id)
    }
}

/// An item of a compiled map projection.
#[derive(Debug)]
pub enum CMapItem {
    Property(String, Key),
    Entry(String, CExpr),
    AllProperties,
}

/// A subquery evaluated per row: its plan, rewound for each outer row.
pub struct SubqueryEval {
    /// The values of the argument row, in the order of the plan's `Argument` schema.
    pub args: Vec<CExpr>,
    pub cell: ArgCell,
    pub plan: RefCell<BoxOp>,
    pub output: SubqueryOutput,
}

/// What a subquery expression makes of its rows.
#[derive(Debug, Clone, Copy)]
pub enum SubqueryOutput {
    /// Whether there is one.
    Exists,
    /// How many there are.
    Count,
    /// The list of this column's values (pattern comprehensions, `COLLECT { }`).
    Collect(usize),
}

impl std::fmt::Debug for SubqueryEval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubqueryEval")
            .field("args", &self.args)
            .field("output", &self.output)
            .finish()
    }
}

/// A compiled expression.
#[derive(Debug)]
pub enum CExpr {
    Const(Value),
    /// The run's parameter at this index of [`Env::params`](super::Env::params): a built
    /// operator tree does not depend on its parameters' values, so a cached plan's tree is
    /// reused for the next run with other values.
    Param(usize),
    Col(usize),
    Local(usize),
    List(Vec<CExpr>),
    Map(Vec<(String, CExpr)>),
    Prop(Box<CExpr>, Key),
    Index(Box<CExpr>, Box<CExpr>),
    Slice(Box<CExpr>, Option<Box<CExpr>>, Option<Box<CExpr>>),
    Not(Box<CExpr>),
    Neg(Box<CExpr>),
    Plus(Box<CExpr>),
    And(Box<CExpr>, Box<CExpr>),
    Or(Box<CExpr>, Box<CExpr>),
    Xor(Box<CExpr>, Box<CExpr>),
    Binary(BinaryOp, Box<CExpr>, Box<CExpr>),
    Comparison(Box<CExpr>, Vec<(BinaryOp, CExpr)>),
    IsNull(Box<CExpr>),
    IsNotNull(Box<CExpr>),
    HasLabels(Box<CExpr>, Vec<Label>),
    Scalar(&'static ScalarFunction, Vec<CExpr>),
    Graph(GraphFn, Vec<CExpr>),
    Case {
        operand: Option<Box<CExpr>>,
        whens: Vec<(CExpr, CExpr)>,
        else_: Option<Box<CExpr>>,
    },
    ListComp {
        local: usize,
        list: Box<CExpr>,
        where_: Option<Box<CExpr>>,
        map: Option<Box<CExpr>>,
    },
    Quantified {
        quantifier: Quantifier,
        local: usize,
        list: Box<CExpr>,
        where_: Option<Box<CExpr>>,
    },
    Reduce {
        acc: usize,
        local: usize,
        init: Box<CExpr>,
        list: Box<CExpr>,
        expr: Box<CExpr>,
    },
    MapProjection(Box<CExpr>, Vec<CMapItem>),
    /// A path from a start node and `(relationship or list, node, is a list)` hops.
    Path(Box<CExpr>, Vec<(CExpr, CExpr, bool)>),
    Subquery(Box<SubqueryEval>),
    /// `COUNT { (n)-[:T]->() }` (or `EXISTS`, with `exists`) read as the node's degree
    /// (see [`crate::plan::Subquery::one_hop_degree`]).
    Degree(Box<DegreeRead>),
}

/// A node's number of relationships of `types` (any without types) going `dir` whose
/// other end carries `other_labels`; 0 for null, as the subquery it stands for matches
/// nothing from a null node. Read from the adjacency's counts where the store's end-label
/// counts say every such relationship ends at such a node (or no labels are asked for),
/// else by checking the other ends.
#[derive(Debug)]
pub struct DegreeRead {
    pub node: CExpr,
    pub dir: nereid_storage::Dir,
    pub types: Vec<super::expand::RelType>,
    pub other_labels: Vec<Label>,
    pub exists: bool,
    pub type_buf: RefCell<Vec<nereid_storage::TypeId>>,
    /// The node's relationships, when their other ends must be checked.
    pub buf: RefCell<Vec<(nereid_value::RelId, nereid_value::NodeId)>>,
}

impl DegreeRead {
    fn eval(&self, row: &[Value], frame: &mut Frame, cx: &EvalCx) -> Result<Value, Error> {
        let n = match self.node.eval(row, frame, cx)? {
            Value::Node(n) => Some(n),
            Value::Null => None,
            other => {
                return Err(Error::type_error(format!(
                    "Expected a node but got {} ({other})",
                    other.type_name()
                )))
            }
        };
        let g = cx.graph;
        let mut types = self.type_buf.borrow_mut();
        let degree = match n {
            Some(n) if super::expand::type_ids(&self.types, g, &mut types) => {
                if self.other_labels.is_empty()
                    || super::expand::ends_carry(g, &types, self.dir.reverse(), &self.other_labels)
                {
                    g.degree(n, self.dir, &types)
                } else {
                    let mut buf = self.buf.borrow_mut();
                    buf.clear();
                    g.expand(n, self.dir, &types, &mut buf);
                    // Held only while counted: checked against the budget, not kept on it.
                    if buf.len() > super::expand::FREE_ENTRIES {
                        cx.env.memory.check(buf.len() * 16)?;
                    }
                    let n = buf
                        .iter()
                        .filter(|(_, o)| super::expand::has_labels(g, *o, &self.other_labels))
                        .count();
                    if buf.capacity() > super::expand::FREE_ENTRIES {
                        *buf = Vec::new();
                    }
                    n
                }
            }
            _ => 0,
        };
        Ok(if self.exists {
            Value::Bool(degree > 0)
        } else {
            Value::Int(degree as i64)
        })
    }
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

/// Puts `v` into frame slot `slot`, growing the frame if needed.
fn set_local(frame: &mut Frame, slot: usize, v: Value) {
    if frame.len() <= slot {
        frame.resize(slot + 1, Value::Null);
    }
    frame[slot] = v;
}

impl CExpr {
    /// Evaluates without copying when the value is already in the row, the frame or a
    /// constant: property access, subscripts and comparisons only read their operands, so
    /// a large list in a variable is not cloned per row.
    pub fn eval_ref<'r>(
        &'r self,
        row: &'r [Value],
        frame: &mut Frame,
        cx: &EvalCx<'r>,
    ) -> Result<Cow<'r, Value>, Error> {
        match self {
            CExpr::Const(v) => Ok(Cow::Borrowed(v)),
            CExpr::Param(i) => Ok(Cow::Borrowed(cx.env.params[*i])),
            CExpr::Col(i) => Ok(row.get(*i).map_or(Cow::Owned(Value::Null), Cow::Borrowed)),
            other => other.eval(row, frame, cx).map(Cow::Owned),
        }
    }

    pub fn eval(&self, row: &[Value], frame: &mut Frame, cx: &EvalCx) -> Result<Value, Error> {
        match self {
            CExpr::Const(v) => Ok(v.clone()),
            CExpr::Param(i) => Ok(cx.env.params[*i].clone()),
            CExpr::Col(i) => Ok(row.get(*i).cloned().unwrap_or(Value::Null)),
            CExpr::Local(i) => Ok(frame.get(*i).cloned().unwrap_or(Value::Null)),
            CExpr::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for e in items {
                    out.push(e.eval(row, frame, cx)?);
                }
                Ok(Value::List(out))
            }
            CExpr::Map(entries) => {
                let mut m = Map::new();
                for (k, e) in entries {
                    m.insert(k.clone(), e.eval(row, frame, cx)?);
                }
                Ok(Value::Map(m))
            }
            CExpr::Prop(base, key) => {
                let b = base.eval_ref(row, frame, cx)?;
                property(&b, key, cx.graph)
            }
            CExpr::Index(base, idx) => {
                let b = base.eval_ref(row, frame, cx)?;
                let i = idx.eval(row, frame, cx)?;
                let b = b.as_ref();
                match (b, &i) {
                    (Value::Node(_) | Value::Relationship(_), Value::String(k)) => {
                        property(b, &Key::new(k), cx.graph)
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
                    _ => functions::ops::index(b, &i),
                }
            }
            CExpr::Slice(base, from, to) => {
                let b = base.eval_ref(row, frame, cx)?;
                let f = match from {
                    Some(e) => e.eval(row, frame, cx)?,
                    None => Value::Null,
                };
                let t = match to {
                    Some(e) => e.eval(row, frame, cx)?,
                    None => Value::Null,
                };
                functions::ops::slice(&b, from.as_ref().map(|_| &f), to.as_ref().map(|_| &t))
            }
            CExpr::Not(e) => Ok(bool_or_null(truth(&e.eval(row, frame, cx)?)?.map(|b| !b))),
            CExpr::Neg(e) => functions::ops::neg(&e.eval(row, frame, cx)?),
            CExpr::Plus(e) => {
                let v = e.eval(row, frame, cx)?;
                match v {
                    Value::Int(_) | Value::Float(_) | Value::Null => Ok(v),
                    other => Err(Error::type_error(format!(
                        "Cannot apply unary plus to {}",
                        other.type_name()
                    ))),
                }
            }
            CExpr::And(a, b) => {
                let x = truth(&a.eval(row, frame, cx)?)?;
                if x == Some(false) {
                    return Ok(Value::Bool(false));
                }
                let y = truth(&b.eval(row, frame, cx)?)?;
                Ok(bool_or_null(match (x, y) {
                    (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                }))
            }
            CExpr::Or(a, b) => {
                let x = truth(&a.eval(row, frame, cx)?)?;
                if x == Some(true) {
                    return Ok(Value::Bool(true));
                }
                let y = truth(&b.eval(row, frame, cx)?)?;
                Ok(bool_or_null(match (x, y) {
                    (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                }))
            }
            CExpr::Xor(a, b) => {
                let x = truth(&a.eval(row, frame, cx)?)?;
                let y = truth(&b.eval(row, frame, cx)?)?;
                Ok(bool_or_null(match (x, y) {
                    (Some(p), Some(q)) => Some(p != q),
                    _ => None,
                }))
            }
            CExpr::Binary(op, a, b) => {
                let x = a.eval_ref(row, frame, cx)?;
                let y = b.eval_ref(row, frame, cx)?;
                if *op == BinaryOp::Add {
                    check_concat(&x, &y, cx)?;
                }
                binary(*op, &x, &y)
            }
            CExpr::Comparison(first, rest) => {
                let mut left = first.eval(row, frame, cx)?;
                let mut result = Some(true);
                for (op, e) in rest {
                    let right = e.eval(row, frame, cx)?;
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
            CExpr::IsNull(e) => Ok(Value::Bool(e.eval_ref(row, frame, cx)?.is_null())),
            CExpr::IsNotNull(e) => Ok(Value::Bool(!e.eval_ref(row, frame, cx)?.is_null())),
            CExpr::HasLabels(e, labels) => {
                let v = e.eval_ref(row, frame, cx)?;
                has_labels(&v, labels, cx.graph)
            }
            CExpr::Scalar(f, args) => {
                let mut vals = Vec::with_capacity(args.len());
                for e in args {
                    vals.push(e.eval(row, frame, cx)?);
                }
                check_scalar(f, &vals, cx)?;
                f.call(&vals)
            }
            CExpr::Graph(GraphFn::SortNodes, args) => {
                let list = match args.first() {
                    Some(e) => e.eval(row, frame, cx)?,
                    None => Value::Null,
                };
                let config = match args.get(1) {
                    Some(e) => e.eval(row, frame, cx)?,
                    None => Value::Null,
                };
                sort_nodes(list, &config, cx.graph)
            }
            CExpr::Graph(f, args) => {
                let v = match args.first() {
                    Some(e) => e.eval(row, frame, cx)?,
                    None => Value::Null,
                };
                // A relationship deleted by this query keeps its type and endpoints.
                if let (
                    GraphFn::Type | GraphFn::StartNode | GraphFn::EndNode,
                    Value::Relationship(r),
                ) = (f, &v)
                {
                    if cx.graph.rel_info(*r).is_none() {
                        if let Some((s, e, t)) = cx.env.deleted.rel(*r) {
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
            CExpr::Case {
                operand,
                whens,
                else_,
            } => {
                match operand {
                    Some(op) => {
                        let v = op.eval(row, frame, cx)?;
                        for (w, t) in whens {
                            let c = w.eval(row, frame, cx)?;
                            if v.cypher_eq(&c) == Some(true) {
                                return t.eval(row, frame, cx);
                            }
                        }
                    }
                    None => {
                        for (w, t) in whens {
                            if truth(&w.eval(row, frame, cx)?)? == Some(true) {
                                return t.eval(row, frame, cx);
                            }
                        }
                    }
                }
                match else_ {
                    Some(e) => e.eval(row, frame, cx),
                    None => Ok(Value::Null),
                }
            }
            CExpr::ListComp {
                local,
                list,
                where_,
                map,
            } => {
                let Some(items) = list_of(list.eval(row, frame, cx)?, "list comprehension")? else {
                    return Ok(Value::Null);
                };
                let mut out = Vec::with_capacity(items.len());
                let mut held = 0usize;
                for item in items {
                    set_local(frame, *local, item);
                    if let Some(w) = where_ {
                        if truth(&w.eval(row, frame, cx)?)? != Some(true) {
                            continue;
                        }
                    }
                    let v = match map {
                        Some(m) => m.eval(row, frame, cx)?,
                        None => frame[*local].clone(),
                    };
                    held += value_size(&v);
                    if out.len() % 256 == 255 {
                        cx.env.memory.check(held)?;
                        cx.env.cancel.check()?;
                    }
                    out.push(v);
                }
                Ok(Value::List(out))
            }
            CExpr::Quantified {
                quantifier,
                local,
                list,
                where_,
            } => {
                let Some(items) = list_of(list.eval(row, frame, cx)?, "quantifier")? else {
                    return Ok(Value::Null);
                };
                let (mut trues, mut nulls) = (0usize, 0usize);
                let total = items.len();
                for item in items {
                    set_local(frame, *local, item);
                    let t = match where_ {
                        Some(w) => truth(&w.eval(row, frame, cx)?)?,
                        None => truth(&frame[*local])?,
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
            CExpr::Reduce {
                acc,
                local,
                init,
                list,
                expr,
            } => {
                let start = init.eval(row, frame, cx)?;
                let Some(items) = list_of(list.eval(row, frame, cx)?, "reduce")? else {
                    return Ok(Value::Null);
                };
                set_local(frame, *acc, start);
                for (i, item) in items.into_iter().enumerate() {
                    if i % 1024 == 1023 {
                        cx.env.cancel.check()?;
                    }
                    set_local(frame, *local, item);
                    let next = expr.eval(row, frame, cx)?;
                    frame[*acc] = next;
                }
                Ok(std::mem::take(&mut frame[*acc]))
            }
            CExpr::MapProjection(base, items) => {
                let b = base.eval(row, frame, cx)?;
                if b.is_null() {
                    return Ok(Value::Null);
                }
                let mut m = Map::new();
                for item in items {
                    match item {
                        CMapItem::Property(k, key) => {
                            m.insert(k.clone(), property(&b, key, cx.graph)?);
                        }
                        CMapItem::Entry(k, e) => {
                            m.insert(k.clone(), e.eval(row, frame, cx)?);
                        }
                        CMapItem::AllProperties => {
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
            CExpr::Path(start, hops) => build_path(start, hops, row, frame, cx),
            CExpr::Subquery(s) => s.eval(row, frame, cx),
            CExpr::Degree(d) => d.eval(row, frame, cx),
        }
    }
}

impl SubqueryEval {
    fn eval(&self, row: &[Value], frame: &mut Frame, cx: &EvalCx) -> Result<Value, Error> {
        let mut args = Vec::with_capacity(self.args.len());
        for a in &self.args {
            args.push(a.eval(row, frame, cx)?);
        }
        *self.cell.borrow_mut() = args;
        let mut plan = self
            .plan
            .try_borrow_mut()
            .map_err(|_| Error::internal("a subquery evaluated within itself"))?;
        plan.reset();
        let mut sub = Ctx {
            graph: GraphAccess::Read(cx.graph),
            env: cx.env,
        };
        match self.output {
            SubqueryOutput::Exists => {
                let found = plan.next(&mut sub)?.is_some();
                Ok(Value::Bool(found))
            }
            SubqueryOutput::Count => {
                let mut n = 0i64;
                while let Some(b) = plan.next(&mut sub)? {
                    n += b.len() as i64;
                }
                Ok(Value::Int(n))
            }
            SubqueryOutput::Collect(col) => {
                let mut out = Vec::new();
                let mut held = 0usize;
                while let Some(b) = plan.next(&mut sub)? {
                    for r in b.rows() {
                        let v = r[col].clone();
                        held += value_size(&v);
                        out.push(v);
                    }
                    cx.env.memory.check(held)?;
                }
                Ok(Value::List(out))
            }
        }
    }
}

/// `a + b` of strings or lists builds a value as large as both: check it fits first.
fn check_concat(a: &Value, b: &Value, cx: &EvalCx) -> Result<(), Error> {
    let size = |v: &Value| match v {
        Value::String(s) => s.len(),
        Value::List(l) => {
            l.len() * std::mem::size_of::<Value>() + l.iter().map(heap_size).sum::<usize>()
        }
        _ => 0,
    };
    let bytes = match (a, b) {
        (Value::String(_), _)
        | (_, Value::String(_))
        | (Value::List(_), _)
        // The result, while both operands are still held.
        | (_, Value::List(_)) => 2 * (size(a) + size(b)) + std::mem::size_of::<Value>(),
        _ => return Ok(()),
    };
    if bytes > 4096 {
        cx.env.memory.check(bytes)?;
    }
    Ok(())
}

/// Functions whose result can be much larger than their arguments are checked before
/// they run.
fn check_scalar(f: &ScalarFunction, args: &[Value], cx: &EvalCx) -> Result<(), Error> {
    let bytes = match f.name {
        "range" => {
            let int = |i: usize| match args.get(i) {
                Some(Value::Int(x)) => Some(*x),
                _ => None,
            };
            match (int(0), int(1)) {
                (Some(a), Some(b)) => {
                    let step = int(2).unwrap_or(1);
                    if step == 0 {
                        return Ok(());
                    }
                    let n = ((b as i128 - a as i128) / step as i128 + 1).max(0) as u128;
                    (n.min(usize::MAX as u128 / 64) as usize) * std::mem::size_of::<Value>()
                }
                _ => 0,
            }
        }
        "replace" => match (args.first(), args.get(1), args.get(2)) {
            (Some(Value::String(s)), Some(Value::String(from)), Some(Value::String(to))) => {
                let hits = if from.is_empty() {
                    s.chars().count() + 1
                } else {
                    s.len() / from.len()
                };
                s.len() + hits * to.len()
            }
            _ => 0,
        },
        _ => 0,
    };
    if bytes > 4096 {
        cx.env.memory.check(bytes)?;
    }
    Ok(())
}

fn has_labels(v: &Value, labels: &[Label], g: &dyn GraphRead) -> Result<Value, Error> {
    match v {
        Value::Null => Ok(Value::Null),
        Value::Node(n) => {
            for l in labels {
                match l.id(g) {
                    Some(id) if g.node_has_label(*n, id) => {}
                    _ => return Ok(Value::Bool(false)),
                }
            }
            Ok(Value::Bool(true))
        }
        // `r:T` on a relationship tests its type.
        Value::Relationship(r) => {
            Ok(Value::Bool(g.rel_info(*r).is_some_and(|(_, _, t)| {
                labels.iter().all(|l| g.type_name(t) == l.name)
            })))
        }
        other => Err(Error::type_error(format!(
            "Expected a Node to check labels but got {}",
            other.type_name()
        ))),
    }
}

fn build_path(
    start: &CExpr,
    hops: &[(CExpr, CExpr, bool)],
    row: &[Value],
    frame: &mut Frame,
    cx: &EvalCx,
) -> Result<Value, Error> {
    let g = cx.graph;
    let Value::Node(mut at) = start.eval(row, frame, cx)? else {
        return Ok(Value::Null);
    };
    let mut path = nereid_value::Path {
        nodes: vec![at],
        rels: Vec::new(),
    };
    for (rel, node, var_length) in hops {
        if *var_length {
            let Value::List(list) = rel.eval(row, frame, cx)? else {
                return Ok(Value::Null);
            };
            for v in list {
                let Value::Relationship(r) = v else {
                    return Ok(Value::Null);
                };
                let Some((s, e, _)) = g.rel_info(r) else {
                    return Ok(Value::Null);
                };
                at = if s == at { e } else { s };
                path.rels.push(r);
                path.nodes.push(at);
            }
        } else {
            let Value::Relationship(r) = rel.eval(row, frame, cx)? else {
                return Ok(Value::Null);
            };
            let Value::Node(n) = node.eval(row, frame, cx)? else {
                return Ok(Value::Null);
            };
            path.rels.push(r);
            at = n;
            path.nodes.push(at);
        }
    }
    Ok(Value::Path(Box::new(path)))
}

/// `base.key` for nodes, relationships, maps and temporal values; null for null.
pub fn property(base: &Value, key: &Key, graph: &dyn GraphRead) -> Result<Value, Error> {
    match base {
        Value::Null => Ok(Value::Null),
        Value::Map(m) => Ok(m.get(&key.name).cloned().unwrap_or(Value::Null)),
        Value::Temporal(t) => nereid_value::temporal::property(t, &key.name),
        Value::Node(n) => match key.id(graph) {
            Some(k) => match graph.live_node_property(*n, k) {
                Some(v) => Ok(v.unwrap_or(Value::Null)),
                None => Err(deleted_entity("node")),
            },
            None if graph.node_exists(*n) => Ok(Value::Null),
            None => Err(deleted_entity("node")),
        },
        Value::Relationship(r) => match key.id(graph) {
            Some(k) => match graph.live_rel_property(*r, k) {
                Some(v) => Ok(v.unwrap_or(Value::Null)),
                None => Err(deleted_entity("relationship")),
            },
            None if graph.rel_exists(*r) => Ok(Value::Null),
            None => Err(deleted_entity("relationship")),
        },
        other => Err(Error::type_error(format!(
            "Type mismatch: expected a map, node or relationship but was {} ({other}) when accessing property '{}'",
            other.type_name(),
            key.name
        ))),
    }
}

pub fn deleted_entity(what: &str) -> Error {
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
/// `collSortNodes(nodes, {key, order})`: the nodes sorted by property `key` (a node without
/// it sorts as null).
fn sort_nodes(list: Value, config: &Value, graph: &dyn GraphRead) -> Result<Value, Error> {
    const F: &str = "collSortNodes";
    let key = nereid_functions::scalar::list::sort_key(F, config)?;
    let mut nodes = match list {
        Value::Null => return Ok(Value::Null),
        Value::List(items) => items,
        other => {
            return Err(Error::type_error(format!(
                "{F}(): expected a List of Nodes, got {}",
                other.type_name()
            )))
        }
    };
    if let Some(bad) = nodes.iter().find(|v| !matches!(v, Value::Node(_))) {
        return Err(Error::type_error(format!(
            "{F}(): expected a List of Nodes, got an element of type {}",
            bad.type_name()
        )));
    }
    let k = graph.key_id(&key.key);
    nereid_functions::scalar::list::sort_by_keys(&mut nodes, &[key], |v, _| match (v, k) {
        (Value::Node(n), Some(k)) => graph.node_property(*n, k).unwrap_or(Value::Null),
        _ => Value::Null,
    });
    Ok(Value::List(nodes))
}

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
        // Two arguments: evaluated by `CExpr::Graph` itself.
        GraphFn::SortNodes => Err(Error::internal("collSortNodes() takes two arguments")),
    }
}
