//! AST expression → bound [`Expr`]: resolves variables to slots, functions to their
//! implementations, aggregates to aggregation slots, and raises the compile-time errors of
//! expressions (undefined variables, unknown functions, wrong arity, misplaced aggregates).

use nereid_common::{ErrorCode, Result, Value};
use nereid_cypher::ast::{self, ExprKind, Literal, UnaryOp};
use nereid_functions as functions;

use super::scope::{Kind, Scope};
use super::Planner;
use crate::legacy::expr::{Expr, GraphFn, MapItem};

/// One aggregate call found in a projection.
#[derive(Debug, Clone)]
pub struct AggSpec {
    /// Slot that receives the aggregate's value.
    pub slot: usize,
    /// Lower-cased function name; `count(*)` is `count` with no arguments.
    pub name: String,
    pub distinct: bool,
    pub args: Vec<Expr>,
    /// Normalised source text, so equal aggregate expressions share one slot.
    pub text: String,
}

/// Where aggregates may appear while compiling an expression.
pub enum AggMode<'a> {
    /// Not allowed here (WHERE, patterns, …).
    Forbidden,
    /// Allowed: collect them.
    Collect(&'a mut Vec<AggSpec>),
    /// Inside an aggregate's arguments: nested aggregation is an error.
    Nested,
}

pub fn is_aggregate_name(name: &str) -> bool {
    functions::is_aggregate(name)
}

/// Whether the AST expression contains an aggregate (outside nested subqueries).
pub fn contains_aggregate(e: &ast::Expr) -> bool {
    let mut found = false;
    walk(e, &mut |x| {
        if let ExprKind::CountStar = x.kind {
            found = true;
        }
        if let ExprKind::FunctionCall { name, .. } = &x.kind {
            if name.len() == 1 && is_aggregate_name(&name[0].name.to_lowercase()) {
                found = true;
            }
        }
    });
    found
}

/// Pre-order walk over an AST expression (not into patterns or subqueries).
pub fn walk(e: &ast::Expr, f: &mut dyn FnMut(&ast::Expr)) {
    f(e);
    for c in children(e) {
        walk(c, f);
    }
}

/// Direct child expressions of an AST expression (not into patterns).
pub fn children(e: &ast::Expr) -> Vec<&ast::Expr> {
    let mut out = Vec::new();
    match &e.kind {
        ExprKind::Literal(_)
        | ExprKind::Parameter(_)
        | ExprKind::Variable(_)
        | ExprKind::CountStar => {}
        ExprKind::List(v) => out.extend(v.iter()),
        ExprKind::Map(v) => out.extend(v.iter().map(|(_, x)| x)),
        ExprKind::Property(b, _) | ExprKind::HasLabels(b, _) => out.push(&**b),
        ExprKind::IsNull(b) | ExprKind::IsNotNull(b) | ExprKind::Unary(_, b) => out.push(&**b),
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
            out.push(&**a);
            out.push(&**b);
        }
        ExprKind::Slice(a, b, c) => {
            out.push(&**a);
            out.extend(b.as_deref());
            out.extend(c.as_deref());
        }
        ExprKind::Comparison(a, rest) => {
            out.push(&**a);
            out.extend(rest.iter().map(|(_, x)| x));
        }
        ExprKind::FunctionCall { args, .. } => out.extend(args.iter()),
        ExprKind::Case {
            operand,
            whens,
            else_,
        } => {
            out.extend(operand.as_deref());
            for (w, t) in whens {
                out.push(w);
                out.push(t);
            }
            out.extend(else_.as_deref());
        }
        ExprKind::ListComprehension {
            list, where_, map, ..
        } => {
            out.push(&**list);
            out.extend(where_.as_deref());
            out.extend(map.as_deref());
        }
        ExprKind::Quantified { list, where_, .. } => {
            out.push(&**list);
            out.extend(where_.as_deref());
        }
        ExprKind::Reduce {
            init, list, expr, ..
        } => {
            out.push(&**init);
            out.push(&**list);
            out.push(&**expr);
        }
        ExprKind::MapProjection { items, .. } => {
            for i in items {
                if let ast::MapProjectionItem::Literal { value, .. } = i {
                    out.push(value);
                }
            }
        }
        ExprKind::PatternComprehension { where_, map, .. } => {
            out.extend(where_.as_deref());
            out.push(&**map);
        }
        ExprKind::PatternPredicate(_) | ExprKind::ExistsSubquery(_) => {}
    }
    out
}

/// The parts of `x IN list [WHERE predicate]`.
struct ElementIteration {
    list: Box<Expr>,
    /// The element's slot.
    slot: usize,
    /// The scope that sees the element.
    inner: Scope,
    where_: Option<Box<Expr>>,
}

/// The scope kind of a value whose static kind is `k`.
pub fn kind_of(k: StaticKind) -> Kind {
    match k {
        StaticKind::Node => Kind::Node,
        StaticKind::Relationship => Kind::Relationship,
        StaticKind::Path => Kind::Path,
        StaticKind::Unknown | StaticKind::Null => Kind::Value,
        other => Kind::Typed(other),
    }
}

impl Planner<'_> {
    /// A compile-time type error at `span`.
    pub fn type_error(&self, span: ast::Span, what: &str) -> nereid_common::Error {
        self.err.at(
            ErrorCode::InvalidArgumentTypeStatic,
            span,
            format!("Type mismatch: {what}"),
        )
    }

    /// Rejects a predicate that is statically known not to be a boolean.
    pub fn check_predicate(&self, e: &ast::Expr, scope: &Scope) -> Result<()> {
        if static_kind(e, scope).not_boolean() {
            return Err(self.type_error(e.span, "expected a Boolean predicate"));
        }
        Ok(())
    }

    /// The source text of a span.
    pub fn source(&self, span: ast::Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }

    /// Normalised source text, for matching equal expressions (ORDER BY vs projection).
    pub fn norm_text(&self, span: ast::Span) -> String {
        self.source(span)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect()
    }

    pub fn expr(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        self.expr_agg(e, scope, &mut AggMode::Forbidden)
    }

    pub fn expr_agg(&mut self, e: &ast::Expr, scope: &Scope, aggs: &mut AggMode) -> Result<Expr> {
        let span = e.span;
        if !self.substitutions.is_empty() {
            let text = self.norm_text(span);
            if let Some((_, slot)) = self.substitutions.iter().find(|(t, _)| *t == text) {
                return Ok(Expr::Slot(*slot));
            }
        }
        Ok(match &e.kind {
            ExprKind::Literal(l) => Expr::Const(match l {
                Literal::Null => Value::Null,
                Literal::Bool(b) => Value::Bool(*b),
                Literal::Integer(i) => Value::Int(*i),
                Literal::Float(f) => Value::Float(*f),
                Literal::String(s) => Value::String(s.clone()),
            }),
            ExprKind::Parameter(name) => {
                self.params.insert(name.clone());
                Expr::Param(name.clone())
            }
            ExprKind::Variable(name) => match scope.get(name) {
                Some(v) => Expr::Slot(v.slot),
                None => {
                    return Err(self.err.at(
                        ErrorCode::UndefinedVariable,
                        span,
                        format!("Variable `{name}` not defined"),
                    ))
                }
            },
            ExprKind::List(items) => {
                let items = items
                    .iter()
                    .map(|x| self.expr_agg(x, scope, aggs))
                    .collect::<Result<Vec<_>>>()?;
                fold_const(Expr::List(items))
            }
            ExprKind::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    out.push((k.name.clone(), self.expr_agg(v, scope, aggs)?));
                }
                fold_const(Expr::Map(out))
            }
            ExprKind::Property(base, key) => {
                if matches!(
                    static_kind(base, scope),
                    StaticKind::Bool
                        | StaticKind::Int
                        | StaticKind::Float
                        | StaticKind::String
                        | StaticKind::List
                        | StaticKind::Path
                ) {
                    return Err(self.type_error(
                        base.span,
                        "property access on a value that has no properties",
                    ));
                }
                Expr::Property(
                    Box::new(self.expr_agg(base, scope, aggs)?),
                    key.name.clone(),
                )
            }
            ExprKind::Index(a, b) => Expr::Index(
                Box::new(self.expr_agg(a, scope, aggs)?),
                Box::new(self.expr_agg(b, scope, aggs)?),
            ),
            ExprKind::Slice(a, b, c) => Expr::Slice(
                Box::new(self.expr_agg(a, scope, aggs)?),
                match b {
                    Some(b) => Some(Box::new(self.expr_agg(b, scope, aggs)?)),
                    None => None,
                },
                match c {
                    Some(c) => Some(Box::new(self.expr_agg(c, scope, aggs)?)),
                    None => None,
                },
            ),
            ExprKind::Unary(op, x) => {
                if *op == UnaryOp::Not {
                    self.check_predicate(x, scope)?;
                }
                let inner = Box::new(self.expr_agg(x, scope, aggs)?);
                match op {
                    UnaryOp::Not => Expr::Not(inner),
                    UnaryOp::Neg => match *inner {
                        Expr::Const(Value::Int(i)) => {
                            Expr::Const(Value::Int(i.checked_neg().ok_or_else(|| {
                                self.err.at(
                                    ErrorCode::IntegerOverflow,
                                    span,
                                    "integer literal is too large",
                                )
                            })?))
                        }
                        Expr::Const(Value::Float(f)) => Expr::Const(Value::Float(-f)),
                        other => Expr::Neg(Box::new(other)),
                    },
                    UnaryOp::Plus => Expr::Plus(inner),
                }
            }
            ExprKind::Binary(op, a, b) => {
                use ast::BinaryOp as B;
                match op {
                    B::And | B::Or | B::Xor => {
                        self.check_predicate(a, scope)?;
                        self.check_predicate(b, scope)?;
                    }
                    B::Sub | B::Mul | B::Div | B::Mod | B::Pow => {
                        for x in [a, b] {
                            if static_kind(x, scope).not_numeric() {
                                return Err(self.type_error(x.span, "expected a number"));
                            }
                        }
                    }
                    B::In
                        if !matches!(
                            static_kind(b, scope),
                            StaticKind::List | StaticKind::Unknown | StaticKind::Null
                        ) =>
                    {
                        return Err(self.type_error(b.span, "IN expects a list"));
                    }
                    _ => {}
                }
                let x = Box::new(self.expr_agg(a, scope, aggs)?);
                let y = Box::new(self.expr_agg(b, scope, aggs)?);
                match op {
                    ast::BinaryOp::And => Expr::And(x, y),
                    ast::BinaryOp::Or => Expr::Or(x, y),
                    ast::BinaryOp::Xor => Expr::Xor(x, y),
                    op => Expr::Binary(*op, x, y),
                }
            }
            ExprKind::Comparison(first, rest) => {
                let f = self.expr_agg(first, scope, aggs)?;
                let mut r = Vec::with_capacity(rest.len());
                for (op, x) in rest {
                    r.push((*op, self.expr_agg(x, scope, aggs)?));
                }
                Expr::Comparison(Box::new(f), r)
            }
            ExprKind::IsNull(x) => Expr::IsNull(Box::new(self.expr_agg(x, scope, aggs)?)),
            ExprKind::IsNotNull(x) => Expr::IsNotNull(Box::new(self.expr_agg(x, scope, aggs)?)),
            ExprKind::HasLabels(x, labels) => Expr::HasLabels(
                Box::new(self.expr_agg(x, scope, aggs)?),
                labels.iter().map(|l| l.name.clone()).collect(),
            ),
            ExprKind::CountStar => self.aggregate(e, "count", false, &[], scope, aggs)?,
            ExprKind::FunctionCall {
                name,
                distinct,
                args,
            } => self.function(e, name, *distinct, args, scope, aggs)?,
            ExprKind::Case {
                operand,
                whens,
                else_,
            } => {
                let operand = match operand {
                    Some(o) => Some(Box::new(self.expr_agg(o, scope, aggs)?)),
                    None => None,
                };
                let mut ws = Vec::with_capacity(whens.len());
                for (w, t) in whens {
                    ws.push((
                        self.expr_agg(w, scope, aggs)?,
                        self.expr_agg(t, scope, aggs)?,
                    ));
                }
                let else_ = match else_ {
                    Some(x) => Some(Box::new(self.expr_agg(x, scope, aggs)?)),
                    None => None,
                };
                Expr::Case {
                    operand,
                    whens: ws,
                    else_,
                }
            }
            ExprKind::ListComprehension {
                variable,
                list,
                where_,
                map,
            } => {
                let ElementIteration {
                    list,
                    slot,
                    inner,
                    where_,
                } = self.element_iteration(variable, list, where_.as_deref(), scope, aggs)?;
                let map = match map {
                    Some(m) => Some(Box::new(self.expr(m, &inner)?)),
                    None => None,
                };
                Expr::ListComprehension {
                    slot,
                    list,
                    where_,
                    map,
                }
            }
            ExprKind::Quantified {
                quantifier,
                variable,
                list,
                where_,
            } => {
                let ElementIteration {
                    list, slot, where_, ..
                } = self.element_iteration(variable, list, where_.as_deref(), scope, aggs)?;
                Expr::Quantified {
                    quantifier: *quantifier,
                    slot,
                    list,
                    where_,
                }
            }
            ExprKind::Reduce {
                accumulator,
                init,
                variable,
                list,
                expr,
            } => {
                let init = Box::new(self.expr_agg(init, scope, aggs)?);
                let list = Box::new(self.expr_agg(list, scope, aggs)?);
                let acc = self.slots.alloc();
                let slot = self.slots.alloc();
                let mut inner = scope.clone();
                inner.add(&accumulator.name, acc, Kind::Value);
                inner.add(&variable.name, slot, Kind::Value);
                let expr = Box::new(self.expr_agg(expr, &inner, aggs)?);
                Expr::Reduce {
                    acc,
                    init,
                    slot,
                    list,
                    expr,
                }
            }
            ExprKind::MapProjection { variable, items } => {
                let base = match scope.get(&variable.name) {
                    Some(v) => Expr::Slot(v.slot),
                    None => {
                        return Err(self.err.at(
                            ErrorCode::UndefinedVariable,
                            variable.span,
                            format!("Variable `{}` not defined", variable.name),
                        ))
                    }
                };
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(match item {
                        ast::MapProjectionItem::Literal { key, value } => {
                            MapItem::Entry(key.name.clone(), self.expr_agg(value, scope, aggs)?)
                        }
                        ast::MapProjectionItem::Property(k) => MapItem::Property(k.name.clone()),
                        ast::MapProjectionItem::Variable(v) => match scope.get(&v.name) {
                            Some(var) => MapItem::Entry(v.name.clone(), Expr::Slot(var.slot)),
                            None => {
                                return Err(self.err.at(
                                    ErrorCode::UndefinedVariable,
                                    v.span,
                                    format!("Variable `{}` not defined", v.name),
                                ))
                            }
                        },
                        ast::MapProjectionItem::AllProperties => MapItem::AllProperties,
                    });
                }
                Expr::MapProjection(Box::new(base), out)
            }
            ExprKind::PatternComprehension {
                variable,
                pattern,
                where_,
                map,
            } => {
                let mut inner = scope.clone();
                let part = ast::PatternPart {
                    variable: variable.clone(),
                    kind: ast::PathKind::Normal,
                    element: (**pattern).clone(),
                    span: pattern.span,
                };
                let plan = self.pattern(std::slice::from_ref(&part), &mut inner, None, true)?;
                let where_ = match where_ {
                    Some(w) => Some(Box::new(self.expr(w, &inner)?)),
                    None => None,
                };
                let map = Box::new(self.expr_agg(map, &inner, aggs)?);
                Expr::PatternComprehension {
                    pattern: Box::new(plan),
                    where_,
                    map,
                }
            }
            ExprKind::PatternPredicate(element) => {
                let mut inner = scope.clone();
                let part = ast::PatternPart {
                    variable: None,
                    kind: ast::PathKind::Normal,
                    element: (**element).clone(),
                    span: element.span,
                };
                let plan = self.pattern(std::slice::from_ref(&part), &mut inner, None, false)?;
                Expr::PatternExists {
                    pattern: Box::new(plan),
                    where_: None,
                }
            }
            ExprKind::ExistsSubquery(body) => match &**body {
                ast::ExistsBody::Pattern { pattern, where_ } => {
                    let mut inner = scope.clone();
                    let plan = self.pattern(&pattern.parts, &mut inner, None, true)?;
                    let where_ = match where_ {
                        Some(w) => Some(Box::new(self.expr(w, &inner)?)),
                        None => None,
                    };
                    Expr::PatternExists {
                        pattern: Box::new(plan),
                        where_,
                    }
                }
                ast::ExistsBody::Query(q) => {
                    Expr::SubqueryExists(Box::new(self.subquery(q, scope)?))
                }
            },
        })
    }

    /// `x IN list [WHERE predicate]` of list comprehensions and quantifiers: the compiled
    /// list, the element's slot, the scope that sees the element, and the predicate (which
    /// may not aggregate).
    fn element_iteration(
        &mut self,
        variable: &ast::Ident,
        list: &ast::Expr,
        where_: Option<&ast::Expr>,
        scope: &Scope,
        aggs: &mut AggMode,
    ) -> Result<ElementIteration> {
        let elem = element_kind(list, scope).map_or(Kind::Value, kind_of);
        let list = Box::new(self.expr_agg(list, scope, aggs)?);
        let slot = self.slots.alloc();
        let mut inner = scope.clone();
        inner.add(&variable.name, slot, elem);
        let where_ = match where_ {
            Some(w) => {
                self.check_predicate(w, &inner)?;
                Some(Box::new(self.expr(w, &inner)?))
            }
            None => None,
        };
        Ok(ElementIteration {
            list,
            slot,
            inner,
            where_,
        })
    }

    fn function(
        &mut self,
        e: &ast::Expr,
        name: &[ast::Name],
        distinct: bool,
        args: &[ast::Expr],
        scope: &Scope,
        aggs: &mut AggMode,
    ) -> Result<Expr> {
        let full: String = name
            .iter()
            .map(|n| n.name.as_str())
            .collect::<Vec<_>>()
            .join(".")
            .to_lowercase();
        if name.len() == 1 && is_aggregate_name(&full) {
            if let Some((min, max)) = functions::aggregate_arity(&full) {
                if args.len() < min || args.len() > max {
                    return Err(self.err.at(
                        ErrorCode::InvalidNumberOfArguments,
                        e.span,
                        format!("Wrong number of arguments for {full}()"),
                    ));
                }
            }
            return self.aggregate(e, &full, distinct, args, scope, aggs);
        }
        if let Some((f, arity)) = GraphFn::lookup(&full) {
            if args.len() != arity {
                return Err(self.err.at(
                    ErrorCode::InvalidNumberOfArguments,
                    e.span,
                    format!("Wrong number of arguments for {full}()"),
                ));
            }
            if f == GraphFn::Exists {
                // exists(pattern) is a pattern predicate; exists(n.prop) a null check.
                if let ExprKind::PatternPredicate(_) = &args[0].kind {
                    return self.expr_agg(&args[0], scope, aggs);
                }
                if !matches!(args[0].kind, ExprKind::Property(..)) {
                    return Err(self.err.at(
                        ErrorCode::InvalidArgumentTypeStatic,
                        args[0].span,
                        "Argument to exists(...) is not a property or pattern",
                    ));
                }
            }
            let compiled = args
                .iter()
                .map(|a| self.expr_agg(a, scope, aggs))
                .collect::<Result<Vec<_>>>()?;
            self.check_graph_fn_arg(f, &args[0], scope)?;
            return Ok(Expr::Graph(f, compiled));
        }
        if full == "size" && args.len() == 1 && static_kind(&args[0], scope) == StaticKind::Path {
            return Err(self.type_error(args[0].span, "size() of a path (use length())"));
        }
        match functions::scalar_function(&full) {
            Some(f) => {
                if args.len() < f.min_args || f.max_args.is_some_and(|m| args.len() > m) {
                    return Err(self.err.at(
                        ErrorCode::InvalidNumberOfArguments,
                        e.span,
                        format!("Wrong number of arguments for {full}()"),
                    ));
                }
                let compiled = args
                    .iter()
                    .map(|a| self.expr_agg(a, scope, aggs))
                    .collect::<Result<Vec<_>>>()?;
                // Fold deterministic calls on constants once, here; an error is left to be
                // raised at run time, where the TCK expects it.
                if f.deterministic && compiled.iter().all(Expr::is_const) {
                    let vals: Vec<Value> = compiled
                        .iter()
                        .map(|c| match c {
                            Expr::Const(v) => v.clone(),
                            _ => Value::Null,
                        })
                        .collect();
                    if let Ok(v) = f.call(&vals) {
                        if !matches!(v, Value::List(ref l) if l.len() > 1024) {
                            return Ok(Expr::Const(v));
                        }
                    }
                }
                Ok(Expr::Scalar(f, compiled))
            }
            None => Err(self.err.at(
                ErrorCode::UnknownFunction,
                e.span,
                format!("Unknown function '{full}'"),
            )),
        }
    }

    /// Static type checks of graph-function arguments that the TCK expects at compile time.
    fn check_graph_fn_arg(&self, f: GraphFn, arg: &ast::Expr, scope: &Scope) -> Result<()> {
        let kind = static_kind(arg, scope);
        let bad = match (f, kind) {
            (_, StaticKind::Unknown) | (_, StaticKind::Null) => false,
            (GraphFn::Labels, k) => k != StaticKind::Node,
            (GraphFn::Type, k) => k != StaticKind::Relationship,
            (GraphFn::Properties, k) => !matches!(
                k,
                StaticKind::Node | StaticKind::Relationship | StaticKind::Map
            ),
            (GraphFn::Nodes | GraphFn::Relationships | GraphFn::Length, k) => k != StaticKind::Path,
            (GraphFn::StartNode | GraphFn::EndNode, k) => k != StaticKind::Relationship,
            _ => false,
        };
        if bad {
            return Err(self.err.at(
                ErrorCode::InvalidArgumentTypeStatic,
                arg.span,
                "Type mismatch: invalid argument type",
            ));
        }
        Ok(())
    }

    fn aggregate(
        &mut self,
        e: &ast::Expr,
        name: &str,
        distinct: bool,
        args: &[ast::Expr],
        scope: &Scope,
        aggs: &mut AggMode,
    ) -> Result<Expr> {
        match aggs {
            AggMode::Forbidden => Err(self.err.at(
                ErrorCode::InvalidAggregation,
                e.span,
                "Invalid use of aggregating function here",
            )),
            AggMode::Nested => Err(self.err.at(
                ErrorCode::NestedAggregation,
                e.span,
                "Can't use aggregate functions inside of aggregate functions",
            )),
            AggMode::Collect(list) => {
                let text = self.norm_text(e.span);
                if let Some(existing) = list.iter().find(|a| a.text == text) {
                    return Ok(Expr::Slot(existing.slot));
                }
                let mut compiled = Vec::with_capacity(args.len());
                for a in args {
                    let mut random = false;
                    walk(a, &mut |x| {
                        if let ExprKind::FunctionCall { name, .. } = &x.kind {
                            if name.len() == 1 && name[0].name.eq_ignore_ascii_case("rand") {
                                random = true;
                            }
                        }
                    });
                    if random {
                        return Err(self.err.at(
                            ErrorCode::NonConstantExpression,
                            a.span,
                            "Aggregating a non-deterministic expression (rand()) is not allowed",
                        ));
                    }
                    compiled.push(self.expr_agg(a, scope, &mut AggMode::Nested)?);
                }
                let slot = self.slots.alloc();
                list.push(AggSpec {
                    slot,
                    name: name.to_owned(),
                    distinct,
                    args: compiled,
                    text,
                });
                Ok(Expr::Slot(slot))
            }
        }
    }
}

/// Folds lists and maps of constants into one constant.
fn fold_const(e: Expr) -> Expr {
    match e {
        Expr::List(items) if items.iter().all(Expr::is_const) => Expr::Const(Value::List(
            items
                .into_iter()
                .map(|x| match x {
                    Expr::Const(v) => v,
                    _ => Value::Null,
                })
                .collect(),
        )),
        Expr::Map(entries) if entries.iter().all(|(_, x)| x.is_const()) => Expr::Const(Value::Map(
            entries
                .into_iter()
                .map(|(k, x)| {
                    (
                        k,
                        match x {
                            Expr::Const(v) => v,
                            _ => Value::Null,
                        },
                    )
                })
                .collect(),
        )),
        other => other,
    }
}

/// What can be known about an expression's type before running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaticKind {
    Unknown,
    Null,
    Bool,
    Int,
    Float,
    String,
    List,
    Map,
    Node,
    Relationship,
    Path,
}

pub fn static_kind(e: &ast::Expr, scope: &Scope) -> StaticKind {
    use ast::BinaryOp as B;
    match &e.kind {
        ExprKind::Literal(Literal::Null) => StaticKind::Null,
        ExprKind::Literal(Literal::Bool(_)) => StaticKind::Bool,
        ExprKind::Literal(Literal::Integer(_)) => StaticKind::Int,
        ExprKind::Literal(Literal::Float(_)) => StaticKind::Float,
        ExprKind::Literal(Literal::String(_)) => StaticKind::String,
        ExprKind::List(_)
        | ExprKind::ListComprehension { .. }
        | ExprKind::PatternComprehension { .. } => StaticKind::List,
        ExprKind::Map(_) | ExprKind::MapProjection { .. } => StaticKind::Map,
        ExprKind::Variable(v) => match scope.get(v).map(|v| v.kind) {
            Some(Kind::Node) => StaticKind::Node,
            Some(Kind::Relationship) => StaticKind::Relationship,
            Some(Kind::RelationshipList) => StaticKind::List,
            Some(Kind::Path) => StaticKind::Path,
            Some(Kind::Typed(k)) => k,
            _ => StaticKind::Unknown,
        },
        ExprKind::Binary(B::And | B::Or | B::Xor, ..)
        | ExprKind::Unary(UnaryOp::Not, _)
        | ExprKind::Comparison(..)
        | ExprKind::IsNull(_)
        | ExprKind::IsNotNull(_)
        | ExprKind::HasLabels(..)
        | ExprKind::Quantified { .. }
        | ExprKind::PatternPredicate(_)
        | ExprKind::ExistsSubquery(_)
        | ExprKind::Binary(
            B::Eq
            | B::Ne
            | B::Lt
            | B::Le
            | B::Gt
            | B::Ge
            | B::StartsWith
            | B::EndsWith
            | B::Contains
            | B::RegexMatch,
            ..,
        ) => StaticKind::Bool,
        ExprKind::Binary(B::Sub | B::Mul | B::Div | B::Mod, a, b) => {
            match (static_kind(a, scope), static_kind(b, scope)) {
                (StaticKind::Int, StaticKind::Int) => StaticKind::Int,
                (StaticKind::Float, StaticKind::Int | StaticKind::Float)
                | (StaticKind::Int, StaticKind::Float) => StaticKind::Float,
                _ => StaticKind::Unknown,
            }
        }
        ExprKind::Binary(B::Add, a, b) => match (static_kind(a, scope), static_kind(b, scope)) {
            (StaticKind::Int, StaticKind::Int) => StaticKind::Int,
            (StaticKind::Float, StaticKind::Int | StaticKind::Float)
            | (StaticKind::Int, StaticKind::Float) => StaticKind::Float,
            (StaticKind::String, StaticKind::String) => StaticKind::String,
            (StaticKind::List, _) | (_, StaticKind::List) => StaticKind::List,
            _ => StaticKind::Unknown,
        },
        _ => StaticKind::Unknown,
    }
}

/// The element kind of a list literal whose elements all have one known kind.
pub fn element_kind(e: &ast::Expr, scope: &Scope) -> Option<StaticKind> {
    let ExprKind::List(items) = &e.kind else {
        return None;
    };
    let mut kind = None;
    for i in items {
        let k = static_kind(i, scope);
        if matches!(k, StaticKind::Unknown | StaticKind::Null) {
            return None;
        }
        match kind {
            None => kind = Some(k),
            Some(x) if x == k => {}
            Some(_) => return None,
        }
    }
    kind
}

impl StaticKind {
    /// Known to be a value of a type other than boolean.
    pub fn not_boolean(self) -> bool {
        !matches!(
            self,
            StaticKind::Unknown | StaticKind::Null | StaticKind::Bool
        )
    }

    /// Known to be something arithmetic other than `+` cannot take.
    pub fn not_numeric(self) -> bool {
        !matches!(
            self,
            StaticKind::Unknown | StaticKind::Null | StaticKind::Int | StaticKind::Float
        )
    }
}
