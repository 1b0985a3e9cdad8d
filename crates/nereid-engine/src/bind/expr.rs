//! AST expression → bound [`Expr`]: resolves variables to [`Var`]s, functions to their
//! implementations, aggregates to the variables that receive them (equal aggregate calls
//! share one), subqueries to [`SubqueryId`]s, and raises the compile-time errors of
//! expressions (undefined variables, unknown functions, wrong arity, misplaced aggregates,
//! static type errors).

use std::collections::BTreeSet;

use nereid_common::{ErrorCode, Result};
use nereid_cypher::ast::{self, ExprKind, Literal, UnaryOp};
use nereid_functions as functions;
use nereid_value::Value;

use super::scope::{Kind, Scope};
use super::subquery::SubqueryUse;
use super::types::{
    contains_aggregate, element_kind, is_aggregate_name, kind_of, static_kind, walk, StaticKind,
};
use super::{Binder, BoundSubquery, PartKind, SubqueryBody};
use crate::plan::{AggCall, AggFunc, Expr, FnRef, GraphFn, Lit, MapItem, Var, VarKind};

/// Where aggregates may appear while binding an expression.
pub enum AggMode<'a> {
    /// Not allowed here (WHERE, patterns, …).
    Forbidden,
    /// Allowed: collect them; an aggregate equal to one already collected reuses its var.
    Collect(&'a mut Vec<(Var, AggCall)>),
    /// Inside an aggregate's arguments: nested aggregation is an error.
    Nested,
}

/// The parts of `x IN list [WHERE predicate]`.
struct ElementIteration {
    list: Box<Expr>,
    var: Var,
    /// The scope that sees the element.
    inner: Scope,
    where_: Option<Box<Expr>>,
}

impl Binder<'_> {
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

    fn undefined(&self, name: &str, span: ast::Span) -> nereid_common::Error {
        self.err.at(
            ErrorCode::UndefinedVariable,
            span,
            format!("Variable `{name}` not defined"),
        )
    }

    pub fn expr(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        self.expr_agg(e, scope, &mut AggMode::Forbidden)
    }

    fn boxed(&mut self, e: &ast::Expr, scope: &Scope, aggs: &mut AggMode) -> Result<Box<Expr>> {
        Ok(Box::new(self.expr_agg(e, scope, aggs)?))
    }

    fn opt_boxed(
        &mut self,
        e: Option<&ast::Expr>,
        scope: &Scope,
        aggs: &mut AggMode,
    ) -> Result<Option<Box<Expr>>> {
        match e {
            Some(e) => Ok(Some(self.boxed(e, scope, aggs)?)),
            None => Ok(None),
        }
    }

    pub fn expr_agg(&mut self, e: &ast::Expr, scope: &Scope, aggs: &mut AggMode) -> Result<Expr> {
        let span = e.span;
        Ok(match &e.kind {
            ExprKind::Literal(l) => Expr::lit(match l {
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
                Some(v) => Expr::Var(v.var),
                None => return Err(self.undefined(name, span)),
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
                Expr::Prop(self.boxed(base, scope, aggs)?, key.name.clone())
            }
            ExprKind::Index(a, b) => {
                Expr::Index(self.boxed(a, scope, aggs)?, self.boxed(b, scope, aggs)?)
            }
            ExprKind::Slice(a, b, c) => Expr::Slice(
                self.boxed(a, scope, aggs)?,
                self.opt_boxed(b.as_deref(), scope, aggs)?,
                self.opt_boxed(c.as_deref(), scope, aggs)?,
            ),
            ExprKind::Unary(op, x) => {
                if *op == UnaryOp::Not {
                    self.check_predicate(x, scope)?;
                }
                let inner = self.boxed(x, scope, aggs)?;
                match (op, *inner) {
                    (UnaryOp::Neg, Expr::Lit(Lit(Value::Int(i)))) => {
                        Expr::lit(Value::Int(i.checked_neg().ok_or_else(|| {
                            self.err.at(
                                ErrorCode::IntegerOverflow,
                                span,
                                "integer literal is too large",
                            )
                        })?))
                    }
                    (UnaryOp::Neg, Expr::Lit(Lit(Value::Float(f)))) => Expr::lit(Value::Float(-f)),
                    (op, other) => Expr::Unary(*op, Box::new(other)),
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
                let x = self.boxed(a, scope, aggs)?;
                let y = self.boxed(b, scope, aggs)?;
                match op {
                    B::And => Expr::And(x, y),
                    B::Or => Expr::Or(x, y),
                    B::Xor => Expr::Xor(x, y),
                    op => Expr::Binary(*op, x, y),
                }
            }
            ExprKind::Comparison(first, rest) => {
                let f = self.boxed(first, scope, aggs)?;
                let mut r = Vec::with_capacity(rest.len());
                for (op, x) in rest {
                    r.push((*op, self.expr_agg(x, scope, aggs)?));
                }
                Expr::Comparison(f, r)
            }
            ExprKind::IsNull(x) => Expr::IsNull(self.boxed(x, scope, aggs)?),
            ExprKind::IsNotNull(x) => Expr::IsNotNull(self.boxed(x, scope, aggs)?),
            ExprKind::HasLabels(x, labels) => Expr::HasLabels(
                self.boxed(x, scope, aggs)?,
                labels.iter().map(|l| l.name.clone()).collect(),
            ),
            ExprKind::CountStar => {
                self.aggregate(e, AggFunc::CountStar, false, &[], scope, aggs)?
            }
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
                let operand = self.opt_boxed(operand.as_deref(), scope, aggs)?;
                let mut ws = Vec::with_capacity(whens.len());
                for (w, t) in whens {
                    ws.push((
                        self.expr_agg(w, scope, aggs)?,
                        self.expr_agg(t, scope, aggs)?,
                    ));
                }
                let else_ = self.opt_boxed(else_.as_deref(), scope, aggs)?;
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
                    var,
                    inner,
                    where_,
                } = self.element_iteration(variable, list, where_.as_deref(), scope, aggs)?;
                let map = match map {
                    Some(m) => Some(Box::new(self.expr(m, &inner)?)),
                    None => None,
                };
                Expr::ListComp {
                    var,
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
                    list, var, where_, ..
                } = self.element_iteration(variable, list, where_.as_deref(), scope, aggs)?;
                Expr::Quantified {
                    quantifier: *quantifier,
                    var,
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
                let init = self.boxed(init, scope, aggs)?;
                let list = self.boxed(list, scope, aggs)?;
                let acc = self.named_var(&accumulator.name, Kind::Value);
                let var = self.named_var(&variable.name, Kind::Value);
                let mut inner = scope.clone();
                inner.add(&accumulator.name, acc, Kind::Value);
                inner.add(&variable.name, var, Kind::Value);
                let expr = self.boxed(expr, &inner, aggs)?;
                Expr::Reduce {
                    acc,
                    init,
                    var,
                    list,
                    expr,
                }
            }
            ExprKind::MapProjection { variable, items } => {
                let base = match scope.get(&variable.name) {
                    Some(v) => Expr::Var(v.var),
                    None => return Err(self.undefined(&variable.name, variable.span)),
                };
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(match item {
                        ast::MapProjectionItem::Literal { key, value } => {
                            MapItem::Entry(key.name.clone(), self.expr_agg(value, scope, aggs)?)
                        }
                        ast::MapProjectionItem::Property(k) => MapItem::Property(k.name.clone()),
                        ast::MapProjectionItem::Variable(v) => match scope.get(&v.name) {
                            Some(var) => MapItem::Entry(v.name.clone(), Expr::Var(var.var)),
                            None => return Err(self.undefined(&v.name, v.span)),
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
                let parts = self.pattern(std::slice::from_ref(&part), &mut inner, true)?;
                let predicate = match where_ {
                    Some(w) => Some(self.expr(w, &inner)?),
                    None => None,
                };
                let map = self.expr_agg(map, &inner, aggs)?;
                let out = self.hidden_var("collect", VarKind::Value);
                let args = subquery_args(scope, &parts, predicate.iter().chain([&map]));
                let sub = self.add_subquery(BoundSubquery {
                    args: args.clone(),
                    body: SubqueryBody::Pattern {
                        parts,
                        predicate,
                        output: Some((out, map)),
                    },
                });
                Expr::Collect { sub, args }
            }
            ExprKind::PatternPredicate(element) => {
                let mut inner = scope.clone();
                let part = ast::PatternPart {
                    variable: None,
                    kind: ast::PathKind::Normal,
                    element: (**element).clone(),
                    span: element.span,
                };
                let parts = self.pattern(std::slice::from_ref(&part), &mut inner, false)?;
                let args = subquery_args(scope, &parts, std::iter::empty());
                let sub = self.add_subquery(BoundSubquery {
                    args: args.clone(),
                    body: SubqueryBody::Pattern {
                        parts,
                        predicate: None,
                        output: None,
                    },
                });
                Expr::Exists { sub, args }
            }
            ExprKind::ExistsSubquery(body) => match &**body {
                ast::ExistsBody::Pattern { pattern, where_ } => {
                    let mut inner = scope.clone();
                    let parts = self.pattern(&pattern.parts, &mut inner, true)?;
                    let predicate = match where_ {
                        Some(w) => Some(self.expr(w, &inner)?),
                        None => None,
                    };
                    let args = subquery_args(scope, &parts, predicate.iter());
                    let sub = self.add_subquery(BoundSubquery {
                        args: args.clone(),
                        body: SubqueryBody::Pattern {
                            parts,
                            predicate,
                            output: None,
                        },
                    });
                    Expr::Exists { sub, args }
                }
                ast::ExistsBody::Query(q) => {
                    // A whole query may read any outer variable; pass them all.
                    let args: Vec<Var> = scope.vars().collect();
                    let sub = self.query_subquery(q, scope, args.clone(), SubqueryUse::Exists)?;
                    Expr::Exists { sub, args }
                }
            },
            ExprKind::CountSubquery(body) => match &**body {
                ast::ExistsBody::Pattern { pattern, where_ } => {
                    let mut inner = scope.clone();
                    let parts = self.pattern(&pattern.parts, &mut inner, true)?;
                    let predicate = match where_ {
                        Some(w) => Some(self.expr(w, &inner)?),
                        None => None,
                    };
                    let args = subquery_args(scope, &parts, predicate.iter());
                    let sub = self.add_subquery(BoundSubquery {
                        args: args.clone(),
                        body: SubqueryBody::Pattern {
                            parts,
                            predicate,
                            output: None,
                        },
                    });
                    Expr::Count { sub, args }
                }
                ast::ExistsBody::Query(q) => {
                    let args: Vec<Var> = scope.vars().collect();
                    let sub = self.query_subquery(q, scope, args.clone(), SubqueryUse::Count)?;
                    Expr::Count { sub, args }
                }
            },
            ExprKind::CollectSubquery(q) => {
                let args: Vec<Var> = scope.vars().collect();
                let sub = self.query_subquery(q, scope, args.clone(), SubqueryUse::Collect)?;
                Expr::Collect { sub, args }
            }
        })
    }

    /// `x IN list [WHERE predicate]` of list comprehensions and quantifiers: the bound
    /// list, the element's variable, the scope that sees it, and the predicate (which may
    /// not aggregate).
    fn element_iteration(
        &mut self,
        variable: &ast::Ident,
        list: &ast::Expr,
        where_: Option<&ast::Expr>,
        scope: &Scope,
        aggs: &mut AggMode,
    ) -> Result<ElementIteration> {
        let elem = element_kind(list, scope).map_or(Kind::Value, kind_of);
        let list = self.boxed(list, scope, aggs)?;
        let var = self.named_var(&variable.name, elem);
        let mut inner = scope.clone();
        inner.add(&variable.name, var, elem);
        let where_ = match where_ {
            Some(w) => {
                self.check_predicate(w, &inner)?;
                Some(Box::new(self.expr(w, &inner)?))
            }
            None => None,
        };
        Ok(ElementIteration {
            list,
            var,
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
            let func = AggFunc::lookup(&full).ok_or_else(|| {
                nereid_common::Error::internal(format!("aggregate {full} has no AggFunc"))
            })?;
            return self.aggregate(e, func, distinct, args, scope, aggs);
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
            let bound = args
                .iter()
                .map(|a| self.expr_agg(a, scope, aggs))
                .collect::<Result<Vec<_>>>()?;
            self.check_graph_fn_arg(f, &args[0], scope)?;
            return Ok(Expr::Graph(f, bound));
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
                let bound = args
                    .iter()
                    .map(|a| self.expr_agg(a, scope, aggs))
                    .collect::<Result<Vec<_>>>()?;
                // Fold deterministic calls on constants once, here; an error is left to be
                // raised at run time, where the TCK expects it. Large results (a
                // `range(1, 1e9)`) are not folded: they are built, and charged, when run.
                if f.deterministic && bound.iter().all(Expr::is_lit) {
                    let vals: Vec<Value> =
                        bound.iter().filter_map(|c| c.as_lit().cloned()).collect();
                    if let Ok(v) = f.call(&vals) {
                        if !matches!(v, Value::List(ref l) if l.len() > 1024)
                            && !matches!(v, Value::String(ref s) if s.len() > 65536)
                        {
                            return Ok(Expr::lit(v));
                        }
                    }
                }
                Ok(Expr::Scalar(FnRef(f), bound))
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
        func: AggFunc,
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
                let mut bound = Vec::with_capacity(args.len());
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
                    bound.push(self.expr_agg(a, scope, &mut AggMode::Nested)?);
                }
                let call = AggCall {
                    func,
                    distinct,
                    args: bound,
                };
                // Equal aggregate calls (by bound structure) share one value.
                if let Some((var, _)) = list.iter().find(|(_, c)| *c == call) {
                    return Ok(Expr::Var(*var));
                }
                let var = self.hidden_var("agg", VarKind::Value);
                list.push((var, call));
                Ok(Expr::Var(var))
            }
        }
    }
}

/// The outer variables a pattern subquery reads: its pattern's nodes and relationships
/// bound outside, and the free variables of its expressions that are in `outer`.
fn subquery_args<'e>(
    outer: &Scope,
    parts: &[super::BoundPart],
    exprs: impl Iterator<Item = &'e Expr>,
) -> Vec<Var> {
    let mut used = BTreeSet::new();
    for p in parts {
        used.extend(p.nodes.iter().map(|n| n.var));
        used.extend(p.rels.iter().map(|r| r.var));
        for n in &p.nodes {
            for (_, e) in &n.props {
                e.collect_free_vars(&mut used);
            }
        }
        for r in &p.rels {
            for (_, e) in &r.props {
                e.collect_free_vars(&mut used);
            }
        }
        if p.kind != PartKind::Normal {
            // Shortest paths are not allowed in subqueries, but keep this total.
            used.extend(p.path);
        }
    }
    for e in exprs {
        e.collect_free_vars(&mut used);
    }
    outer.vars().filter(|v| used.contains(v)).collect()
}

/// Folds lists and maps of constants into one constant.
fn fold_const(e: Expr) -> Expr {
    match e {
        Expr::List(items) if items.iter().all(Expr::is_lit) => Expr::lit(Value::List(
            items
                .into_iter()
                .map(|x| match x {
                    Expr::Lit(Lit(v)) => v,
                    _ => Value::Null,
                })
                .collect(),
        )),
        Expr::Map(entries) if entries.iter().all(|(_, x)| x.is_lit()) => Expr::lit(Value::Map(
            entries
                .into_iter()
                .map(|(k, x)| {
                    (
                        k,
                        match x {
                            Expr::Lit(Lit(v)) => v,
                            _ => Value::Null,
                        },
                    )
                })
                .collect(),
        )),
        other => other,
    }
}

/// Whether the AST contains an aggregate; re-exported for the projection binder.
pub fn has_aggregate(e: &ast::Expr) -> bool {
    contains_aggregate(e)
}
