//! `WITH` and `RETURN`: projection, aggregation, DISTINCT, ORDER BY, SKIP, LIMIT and the
//! WHERE of a WITH, with their scoping rules.
//!
//! Every projected item gets a new variable. ORDER BY and WHERE are bound in the scope
//! the rules allow (the projected names, plus the earlier variables when the projection
//! neither aggregates nor deduplicates), after which every subexpression *structurally
//! equal* to a projected expression is replaced by that item's variable — so
//! `RETURN n.name, count(*) ORDER BY n.name` sorts by the projected column.

use std::collections::{BTreeSet, HashSet};

use nereid_common::{ErrorCode, Result};
use nereid_cypher::ast::{self, ExprKind, Literal};
use nereid_value::Value;

use super::expr::{has_aggregate, AggMode};
use super::scope::{Kind, Scope};
use super::types::{kind_of, static_kind, walk};
use super::{Binder, BoundProjection, ProjectionBody};
use crate::plan::{AggCall, Expr, SortKey, Var};

struct Item<'e> {
    name: String,
    expr: Option<&'e ast::Expr>,
    /// For `*` items: the variable.
    star_var: Option<Var>,
    kind: Kind,
    span: ast::Span,
}

/// Replaces every subexpression equal to one of `items`' expressions by its variable.
fn substitute(e: &mut Expr, items: &[(Var, Expr)]) {
    if items.is_empty() {
        return;
    }
    e.replace(&mut |x| {
        items
            .iter()
            .find(|(_, item)| item == x)
            .map(|(v, _)| Expr::Var(*v))
    });
}

impl Binder<'_> {
    /// Binds a projection; returns it and the scope after it.
    pub(super) fn projection(
        &mut self,
        p: &ast::Projection,
        scope: &Scope,
        is_return: bool,
        where_: Option<&ast::Expr>,
    ) -> Result<(BoundProjection, Scope)> {
        let mut items: Vec<Item> = Vec::new();
        if p.star {
            let mut vars: Vec<_> = scope.vars.clone();
            vars.sort_by(|a, b| a.name.cmp(&b.name));
            if vars.is_empty() && is_return {
                return Err(self.err.at(
                    ErrorCode::NoVariablesInScope,
                    ast::Span::default(),
                    "RETURN * is not allowed when there are no variables in scope",
                ));
            }
            for v in vars {
                items.push(Item {
                    name: v.name.clone(),
                    expr: None,
                    star_var: Some(v.var),
                    kind: v.kind,
                    span: ast::Span::default(),
                });
            }
        }
        for it in &p.items {
            let name = match (&it.alias, &it.expr.kind) {
                (Some(a), _) => a.name.clone(),
                (None, ExprKind::Variable(v)) => v.clone(),
                (None, _) => {
                    if !is_return {
                        return Err(self.err.at(
                            ErrorCode::NoExpressionAlias,
                            it.span,
                            "Expression in WITH must be aliased (use AS)",
                        ));
                    }
                    it.text.clone()
                }
            };
            let kind = match &it.expr.kind {
                ExprKind::Variable(v) => scope.get(v).map_or(Kind::Value, |v| v.kind),
                _ => kind_of(static_kind(&it.expr, scope)),
            };
            items.push(Item {
                name,
                expr: Some(&it.expr),
                star_var: None,
                kind,
                span: it.span,
            });
        }
        let mut seen = HashSet::new();
        for it in &items {
            if !seen.insert(it.name.clone()) {
                return Err(self.err.at(
                    ErrorCode::ColumnNameConflict,
                    it.span,
                    format!(
                        "Multiple result columns with the same name `{}` are not supported",
                        it.name
                    ),
                ));
            }
        }

        let aggregating = items.iter().any(|i| i.expr.is_some_and(has_aggregate));
        let restricted = aggregating || p.distinct;
        let mut new_scope = Scope::default();
        // (item variable, bound expression) in written order, for ORDER BY/WHERE.
        let mut bound_items: Vec<(Var, Expr)> = Vec::new();
        let mut columns: Vec<(String, Var)> = Vec::new();
        // Set by each of the two long branches below; one `if` expression would bury it.
        #[allow(clippy::needless_late_init)]
        let body;
        let mut order_by = Vec::new();
        if aggregating {
            let mut keys = Vec::new();
            // Grouping keys that aggregating items may reuse: openCypher allows only
            // variables and property accesses, even if a complex key is projected.
            let mut simple_keys: Vec<(Var, Expr)> = Vec::new();
            for it in &items {
                if it.expr.is_some_and(has_aggregate) {
                    continue;
                }
                let e = match (it.expr, it.star_var) {
                    (Some(e), _) => self.expr(e, scope)?,
                    (None, Some(v)) => Expr::Var(v),
                    _ => Expr::lit(Value::Null),
                };
                let var = self.named_var(&it.name, it.kind);
                let simple = it.expr.is_none_or(|e| {
                    matches!(e.kind, ExprKind::Variable(_) | ExprKind::Property(..))
                });
                if simple {
                    simple_keys.push((var, e.clone()));
                }
                keys.push((var, e.clone()));
                bound_items.push((var, e));
                new_scope.add(&it.name, var, it.kind);
            }
            let key_vars: BTreeSet<Var> = keys.iter().map(|(v, _)| *v).collect();
            let mut aggs: Vec<(Var, AggCall)> = Vec::new();
            let mut post = Vec::new();
            for it in &items {
                let Some(e) = it.expr.filter(|e| has_aggregate(e)) else {
                    continue;
                };
                let mut bound = self.expr_agg(e, scope, &mut AggMode::Collect(&mut aggs))?;
                substitute(&mut bound, &simple_keys);
                let agg_vars: BTreeSet<Var> = aggs.iter().map(|(v, _)| *v).collect();
                self.check_grouping(&bound, &key_vars, &agg_vars, it.span)?;
                let var = self.named_var(&it.name, Kind::Value);
                post.push((var, bound.clone()));
                bound_items.push((var, bound));
                new_scope.add(&it.name, var, Kind::Value);
            }
            // ORDER BY after aggregation may aggregate too (computed by the same
            // aggregation); it sees the projected names and the projected expressions.
            if !p.order_by.is_empty() {
                let mut overlay = scope.clone();
                for v in &new_scope.vars {
                    overlay.add(&v.name, v.var, v.kind);
                }
                for s in &p.order_by {
                    let projected_aggs = aggs.len();
                    let mut bound =
                        self.expr_agg(&s.expr, &overlay, &mut AggMode::Collect(&mut aggs))?;
                    let agg_vars: BTreeSet<Var> = aggs.iter().map(|(v, _)| *v).collect();
                    let allowed: BTreeSet<Var> =
                        new_scope.vars().chain(agg_vars.iter().copied()).collect();
                    if has_aggregate(&s.expr) {
                        // An ORDER BY item that aggregates may use projected variables,
                        // the projected aggregates, and grouping keys that are variables
                        // or property accesses; a new aggregate reads projected variables
                        // only.
                        let projected: BTreeSet<Var> = new_scope.vars().collect();
                        for (_, a) in &aggs[projected_aggs..] {
                            let mut free = BTreeSet::new();
                            for e in &a.args {
                                e.collect_free_vars(&mut free);
                            }
                            if let Some(v) = free.into_iter().find(|v| !projected.contains(v)) {
                                return Err(self.undefined_var(v, s.expr.span));
                            }
                        }
                        substitute(&mut bound, &simple_keys);
                        if let Some(v) =
                            bound.free_vars().into_iter().find(|v| !allowed.contains(v))
                        {
                            let complex_key = bound_items.iter().any(|(kv, ke)| {
                                key_vars.contains(kv)
                                    && !simple_keys.iter().any(|(sv, _)| sv == kv)
                                    && bound.any(&mut |x| x == ke)
                            });
                            return Err(if complex_key {
                                self.err.at(
                                    ErrorCode::AmbiguousAggregationExpression,
                                    s.expr.span,
                                    format!("Aggregation column contains implicit grouping expressions: `{}` is not a grouping key", self.vars.display(v)),
                                )
                            } else {
                                self.undefined_var(v, s.expr.span)
                            });
                        }
                    } else {
                        substitute(&mut bound, &bound_items);
                        substitute(&mut bound, &simple_keys);
                        if let Some(v) =
                            bound.free_vars().into_iter().find(|v| !allowed.contains(v))
                        {
                            return Err(self.undefined_var(v, s.expr.span));
                        }
                    }
                    order_by.push(SortKey {
                        expr: bound,
                        descending: s.descending,
                    });
                }
            }
            body = ProjectionBody::Aggregate { keys, aggs, post };
        } else {
            let mut proj = Vec::with_capacity(items.len());
            for it in &items {
                let e = match (it.expr, it.star_var) {
                    (Some(e), _) => self.expr(e, scope)?,
                    (None, Some(v)) => Expr::Var(v),
                    _ => Expr::lit(Value::Null),
                };
                let var = self.named_var(&it.name, it.kind);
                proj.push((var, e.clone()));
                bound_items.push((var, e));
                new_scope.add(&it.name, var, it.kind);
            }
            body = ProjectionBody::Plain(proj);
        }
        // Columns in written order.
        for it in &items {
            if let Some(v) = new_scope.get(&it.name) {
                columns.push((it.name.clone(), v.var));
            }
        }

        // ORDER BY (of a projection that does not aggregate) and the WHERE of a WITH see
        // the projected names; without DISTINCT or aggregation also the earlier
        // variables (shadowed by the new names).
        let mut late_scope = if restricted {
            Scope::default()
        } else {
            scope.clone()
        };
        let mut overlay = scope.clone();
        for v in &new_scope.vars {
            late_scope.add(&v.name, v.var, v.kind);
            overlay.add(&v.name, v.var, v.kind);
        }
        let visible: BTreeSet<Var> = late_scope.vars().collect();
        if !aggregating {
            for s in &p.order_by {
                if has_aggregate(&s.expr) {
                    return Err(self.err.at(
                        ErrorCode::InvalidAggregation,
                        s.expr.span,
                        "Aggregation in ORDER BY of a projection that does not aggregate",
                    ));
                }
                let bound = self.late_expr(&s.expr, &overlay, &bound_items, &visible)?;
                order_by.push(SortKey {
                    expr: bound,
                    descending: s.descending,
                });
            }
        }
        let skip = match &p.skip {
            Some(s) => Some(self.constant_count(s, "SKIP")?),
            None => None,
        };
        let limit = match &p.limit {
            Some(l) => Some(self.constant_count(l, "LIMIT")?),
            None => None,
        };
        let where_ = match where_ {
            Some(w) => {
                self.check_predicate(w, &late_scope)?;
                Some(self.late_expr(w, &overlay, &bound_items, &visible)?)
            }
            None => None,
        };
        Ok((
            BoundProjection {
                body,
                distinct: p.distinct,
                order_by,
                skip,
                limit,
                where_,
                columns,
            },
            new_scope,
        ))
    }

    /// An ORDER BY or WHERE expression of a projection: bound where both the earlier and
    /// the projected names resolve, projected expressions replaced by their variables, and
    /// then only `visible` variables may remain.
    fn late_expr(
        &mut self,
        e: &ast::Expr,
        overlay: &Scope,
        items: &[(Var, Expr)],
        visible: &BTreeSet<Var>,
    ) -> Result<Expr> {
        let mut bound = self.expr(e, overlay)?;
        substitute(&mut bound, items);
        if let Some(v) = bound.free_vars().into_iter().find(|v| !visible.contains(v)) {
            return Err(self.err.at(
                ErrorCode::UndefinedVariable,
                e.span,
                format!("Variable `{}` not defined", self.vars.display(v)),
            ));
        }
        Ok(bound)
    }

    /// Every non-aggregated part of an aggregating item must be a grouping key: after the
    /// keys and aggregates were replaced by their variables, no other variable may remain.
    fn undefined_var(&self, v: Var, span: ast::Span) -> nereid_common::Error {
        self.err.at(
            ErrorCode::UndefinedVariable,
            span,
            format!("Variable `{}` not defined", self.vars.display(v)),
        )
    }

    fn check_grouping(
        &self,
        bound: &Expr,
        keys: &BTreeSet<Var>,
        aggs: &BTreeSet<Var>,
        span: ast::Span,
    ) -> Result<()> {
        match bound
            .free_vars()
            .into_iter()
            .find(|v| !keys.contains(v) && !aggs.contains(v))
        {
            Some(v) => Err(self.err.at(
                ErrorCode::AmbiguousAggregationExpression,
                span,
                format!(
                    "Aggregation column contains implicit grouping expressions: `{}` is not a grouping key",
                    self.vars.display(v)
                ),
            )),
            None => Ok(()),
        }
    }

    /// SKIP and LIMIT take a constant: a literal or a parameter expression.
    fn constant_count(&mut self, e: &ast::Expr, what: &str) -> Result<Expr> {
        let mut non_const = false;
        walk(e, &mut |x| {
            if matches!(
                x.kind,
                ExprKind::Variable(_) | ExprKind::PatternPredicate(_) | ExprKind::ExistsSubquery(_)
            ) {
                non_const = true;
            }
        });
        if non_const {
            return Err(self.err.at(
                ErrorCode::NonConstantExpression,
                e.span,
                format!("It is not allowed to refer to variables in {what}"),
            ));
        }
        let bound = self.expr(e, &Scope::default())?;
        if let Some(v) = bound.as_lit() {
            match v {
                Value::Int(i) if *i < 0 => {
                    return Err(self.err.at(
                        ErrorCode::NegativeIntegerArgument,
                        e.span,
                        format!("Invalid input. '{i}' is not a valid value. Must be a non-negative integer."),
                    ))
                }
                Value::Int(_) => {}
                other => {
                    return Err(self.err.at(
                        ErrorCode::InvalidArgumentTypeStatic,
                        e.span,
                        format!("Invalid input. '{other}' is not a valid value. Must be a non-negative integer."),
                    ))
                }
            }
        }
        if let ExprKind::Literal(Literal::Float(_)) = e.kind {
            return Err(self.err.at(
                ErrorCode::InvalidArgumentTypeStatic,
                e.span,
                format!("{what} must be an integer"),
            ));
        }
        Ok(bound)
    }
}
