//! `WITH` and `RETURN`: projection, aggregation, DISTINCT, ORDER BY, SKIP, LIMIT and the
//! WHERE of a WITH, with their scoping rules.

use std::collections::HashSet;

use nereid_common::{ErrorCode, Result, Value};
use nereid_cypher::ast::{self, ExprKind, Literal};

use super::expr::{children, contains_aggregate, is_aggregate_name, walk, AggMode, AggSpec};
use super::scope::{Kind, Scope};
use super::{Op, Planner};
use crate::legacy::expr::Expr;

/// Named output columns and their slots.
pub(super) type Columns = Vec<(String, usize)>;

struct Item<'e> {
    name: String,
    expr: Option<&'e ast::Expr>,
    /// For `*` items: the variable's slot.
    star_slot: Option<usize>,
    kind: Kind,
    text: String,
    span: ast::Span,
}

impl Planner<'_> {
    /// Plans a projection; returns the operator, the new scope and the named columns.
    pub(super) fn projection(
        &mut self,
        input: Op,
        p: &ast::Projection,
        scope: &Scope,
        is_return: bool,
        where_: Option<&ast::Expr>,
    ) -> Result<(Op, Scope, Columns)> {
        let mut items: Vec<Item> = Vec::new();
        if p.star {
            let mut vars: Vec<_> = scope.visible().cloned().collect();
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
                    star_slot: Some(v.slot),
                    kind: v.kind,
                    text: v.name.clone(),
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
                _ => super::expr::kind_of(super::expr::static_kind(&it.expr, scope)),
            };
            items.push(Item {
                name,
                expr: Some(&it.expr),
                star_slot: None,
                kind,
                text: self.norm_text(it.expr.span),
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

        let aggregating = items.iter().any(|i| i.expr.is_some_and(contains_aggregate));
        let mut agg_order: Option<Vec<(Expr, bool)>> = None;
        let mut new_scope = Scope::default();
        let mut columns = Vec::with_capacity(items.len());
        let mut op;
        if aggregating {
            let mut keys = Vec::new();
            let mut key_texts = HashSet::new();
            let mut key_vars = HashSet::new();
            for it in &items {
                if it.expr.is_some_and(contains_aggregate) {
                    continue;
                }
                let e = match (it.expr, it.star_slot) {
                    (Some(e), _) => {
                        // Only simple grouping keys may be reused inside aggregating
                        // expressions (openCypher forbids complex ones, even if projected).
                        if matches!(e.kind, ExprKind::Variable(_) | ExprKind::Property(..)) {
                            key_texts.insert(it.text.clone());
                        }
                        if let ExprKind::Variable(v) = &e.kind {
                            key_vars.insert(v.clone());
                        }
                        self.expr(e, scope)?
                    }
                    (None, Some(s)) => {
                        key_vars.insert(it.name.clone());
                        Expr::Slot(s)
                    }
                    _ => Expr::Const(Value::Null),
                };
                let slot = self.slots.alloc();
                keys.push((slot, e));
                new_scope.add(&it.name, slot, it.kind);
                columns.push((it.name.clone(), slot));
            }
            let mut aggs: Vec<AggSpec> = Vec::new();
            let mut post = Vec::new();
            for it in &items {
                let Some(e) = it.expr.filter(|e| contains_aggregate(e)) else {
                    continue;
                };
                let compiled = self.expr_agg(e, scope, &mut AggMode::Collect(&mut aggs))?;
                self.check_ambiguous(e, &key_texts, &key_vars)?;
                let slot = self.slots.alloc();
                post.push((slot, compiled));
                new_scope.add(&it.name, slot, Kind::Value);
                columns.push((it.name.clone(), slot));
            }
            // Keep the written column order.
            let order: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
            columns.sort_by_key(|(n, _)| order.iter().position(|o| o == n));
            // ORDER BY after aggregation may aggregate too: its aggregates are computed by
            // the same operator. It sees the projected names and, by text, the projected
            // expressions.
            if !p.order_by.is_empty() {
                self.substitutions = items
                    .iter()
                    .zip(&columns)
                    .filter(|(it, _)| it.expr.is_some())
                    .map(|(it, (_, slot))| (it.text.clone(), *slot))
                    .collect();
                let mut alias_vars = key_vars.clone();
                alias_vars.extend(items.iter().map(|i| i.name.clone()));
                let mut keys_out = Vec::with_capacity(p.order_by.len());
                for s in &p.order_by {
                    let compiled =
                        self.expr_agg(&s.expr, &new_scope, &mut AggMode::Collect(&mut aggs));
                    let compiled = match compiled {
                        Ok(c) => c,
                        Err(e) => {
                            self.substitutions.clear();
                            return Err(e);
                        }
                    };
                    if contains_aggregate(&s.expr) {
                        if let Err(e) = self.check_ambiguous(&s.expr, &key_texts, &alias_vars) {
                            self.substitutions.clear();
                            return Err(e);
                        }
                    }
                    keys_out.push((compiled, s.descending));
                }
                self.substitutions.clear();
                agg_order = Some(keys_out);
            }
            op = Op::Aggregate {
                input: Box::new(input),
                keys,
                aggs,
                post,
            };
        } else {
            let mut proj = Vec::with_capacity(items.len());
            for it in &items {
                let e = match (it.expr, it.star_slot) {
                    (Some(e), _) => self.expr(e, scope)?,
                    (None, Some(s)) => Expr::Slot(s),
                    _ => Expr::Const(Value::Null),
                };
                let slot = self.slots.alloc();
                proj.push((slot, e));
                new_scope.add(&it.name, slot, it.kind);
                columns.push((it.name.clone(), slot));
            }
            op = Op::Project {
                input: Box::new(input),
                items: proj,
            };
        }
        let item_slots: Vec<usize> = columns.iter().map(|(_, s)| *s).collect();
        if p.distinct {
            op = Op::Distinct {
                input: Box::new(op),
                slots: item_slots.clone(),
            };
        }

        // ORDER BY and the WHERE of a WITH see the projected names; without DISTINCT or
        // aggregation also the variables from before (shadowed by the new names); and
        // projected expressions by their text.
        let restricted = aggregating || p.distinct;
        let mut late_scope = if restricted {
            Scope::default()
        } else {
            scope.clone()
        };
        for v in &new_scope.vars {
            late_scope.add(&v.name, v.slot, v.kind);
        }
        let substitutions: Vec<(String, usize)> = items
            .iter()
            .zip(&columns)
            .filter(|(it, _)| it.expr.is_some())
            .map(|(it, (_, slot))| (it.text.clone(), *slot))
            .collect();
        if let Some(keys) = agg_order {
            op = Op::Sort {
                input: Box::new(op),
                keys,
            };
        } else if !p.order_by.is_empty() {
            let mut keys = Vec::with_capacity(p.order_by.len());
            for s in &p.order_by {
                if contains_aggregate(&s.expr) {
                    return Err(self.err.at(
                        ErrorCode::InvalidAggregation,
                        s.expr.span,
                        "Aggregation in ORDER BY of a projection that does not aggregate",
                    ));
                }
                self.substitutions = substitutions.clone();
                let compiled = self.expr(&s.expr, &late_scope);
                self.substitutions.clear();
                keys.push((compiled?, s.descending));
            }
            op = Op::Sort {
                input: Box::new(op),
                keys,
            };
        }
        if let Some(s) = &p.skip {
            let count = self.constant_count(s, "SKIP")?;
            op = Op::Skip {
                input: Box::new(op),
                count,
            };
        }
        if let Some(l) = &p.limit {
            let count = self.constant_count(l, "LIMIT")?;
            op = Op::Limit {
                input: Box::new(op),
                count,
            };
        }
        if let Some(w) = where_ {
            self.check_predicate(w, &late_scope)?;
            self.substitutions = substitutions;
            let predicate = self.expr(w, &late_scope);
            self.substitutions.clear();
            let predicate = predicate?;
            op = Op::Filter {
                input: Box::new(op),
                predicate,
            };
        }
        Ok((op, new_scope, columns))
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
        let compiled = self.expr(e, &Scope::default())?;
        if let Expr::Const(v) = &compiled {
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
        Ok(compiled)
    }

    /// Every non-aggregated part of an aggregating item must be a grouping key.
    fn check_ambiguous(
        &self,
        e: &ast::Expr,
        key_texts: &HashSet<String>,
        key_vars: &HashSet<String>,
    ) -> Result<()> {
        let mut locals = HashSet::new();
        walk(e, &mut |x| match &x.kind {
            ExprKind::ListComprehension { variable, .. }
            | ExprKind::Quantified { variable, .. } => {
                locals.insert(variable.name.clone());
            }
            ExprKind::Reduce {
                accumulator,
                variable,
                ..
            } => {
                locals.insert(accumulator.name.clone());
                locals.insert(variable.name.clone());
            }
            _ => {}
        });
        self.ambiguous_walk(e, key_texts, key_vars, &locals)
    }

    fn ambiguous_walk(
        &self,
        e: &ast::Expr,
        key_texts: &HashSet<String>,
        key_vars: &HashSet<String>,
        locals: &HashSet<String>,
    ) -> Result<()> {
        if key_texts.contains(&self.norm_text(e.span)) {
            return Ok(());
        }
        match &e.kind {
            ExprKind::CountStar => return Ok(()),
            ExprKind::FunctionCall { name, .. }
                if name.len() == 1 && is_aggregate_name(&name[0].name.to_lowercase()) =>
            {
                return Ok(())
            }
            ExprKind::Variable(v) => {
                if key_vars.contains(v) || locals.contains(v) {
                    return Ok(());
                }
                return Err(self.err.at(
                    ErrorCode::AmbiguousAggregationExpression,
                    e.span,
                    format!("Aggregation column contains implicit grouping expressions: `{v}` is not a grouping key"),
                ));
            }
            _ => {}
        }
        let mut result = Ok(());
        for child in children(e) {
            if result.is_ok() {
                result = self.ambiguous_walk(child, key_texts, key_vars, locals);
            }
        }
        result
    }
}
