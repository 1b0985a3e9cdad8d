//! Read-only traversal of the AST: every expression of a query, in source order, including
//! those inside patterns (property maps), projections, subqueries and nested expressions.
//!
//! The engine can use it for whole-query checks; [`crate::subquery_count`] is built on it.

use crate::ast::*;

/// What [`walk_all`] visits.
#[derive(Clone, Copy)]
pub enum Visit<'a> {
    Clause(&'a Clause),
    Expr(&'a Expr),
}

/// Calls `f` on every expression node of `query`, parents before children.
pub fn walk_query(query: &Query, f: &mut dyn FnMut(&Expr)) {
    walk_all(query, &mut |v| {
        if let Visit::Expr(e) = v {
            f(e)
        }
    });
}

/// Calls `f` on every clause and every expression node of `query`, parents before
/// children, nested subqueries (`CALL { }`, `EXISTS { }`, …) included.
pub fn walk_all(query: &Query, f: &mut dyn FnMut(Visit)) {
    walk_single(&query.first, f);
    for union in &query.unions {
        walk_single(&union.query, f);
    }
}

fn walk_single(query: &SingleQuery, f: &mut dyn FnMut(Visit)) {
    for clause in &query.clauses {
        walk_clause(clause, f);
    }
}

fn walk_clause(clause: &Clause, f: &mut dyn FnMut(Visit)) {
    f(Visit::Clause(clause));
    match &clause.kind {
        ClauseKind::CallSubquery(c) => walk_all(&c.query, f),
        ClauseKind::Foreach(fe) => {
            walk_expr(&fe.list, f);
            for c in &fe.clauses {
                walk_clause(c, f);
            }
        }
        ClauseKind::Match(m) => {
            walk_pattern(&m.pattern, f);
            walk_opt(m.where_.as_ref(), f);
        }
        ClauseKind::Unwind(u) => walk_expr(&u.expr, f),
        ClauseKind::Create(c) => walk_pattern(&c.pattern, f),
        ClauseKind::Merge(m) => {
            walk_element(&m.pattern.element, f);
            for action in &m.actions {
                walk_set_items(&action.items, f);
            }
        }
        ClauseKind::Set(items) => walk_set_items(items, f),
        ClauseKind::Remove(items) => {
            for item in items {
                if let RemoveItem::Property { target, .. } = item {
                    walk_expr(target, f);
                }
            }
        }
        ClauseKind::Delete(d) => d.exprs.iter().for_each(|e| walk_expr(e, f)),
        ClauseKind::With(w) => {
            walk_projection(&w.projection, f);
            walk_opt(w.where_.as_ref(), f);
        }
        ClauseKind::Return(r) => walk_projection(&r.projection, f),
        ClauseKind::Index(_) => {}
        ClauseKind::Call(c) => {
            for arg in c.args.iter().flatten() {
                walk_expr(arg, f);
            }
            if let Some(y) = &c.yield_ {
                walk_opt(y.where_.as_ref(), f);
            }
        }
    }
}

fn walk_opt(expr: Option<&Expr>, f: &mut dyn FnMut(Visit)) {
    if let Some(e) = expr {
        walk_expr(e, f);
    }
}

fn walk_set_items(items: &[SetItem], f: &mut dyn FnMut(Visit)) {
    for item in items {
        match item {
            SetItem::Property { target, value, .. } => {
                walk_expr(target, f);
                walk_expr(value, f);
            }
            SetItem::Variable { value, .. } => walk_expr(value, f),
            SetItem::Labels { .. } => {}
        }
    }
}

fn walk_projection(p: &Projection, f: &mut dyn FnMut(Visit)) {
    for item in &p.items {
        walk_expr(&item.expr, f);
    }
    for sort in &p.order_by {
        walk_expr(&sort.expr, f);
    }
    walk_opt(p.skip.as_ref(), f);
    walk_opt(p.limit.as_ref(), f);
}

/// Calls `f` on the property-map expressions of a pattern.
pub fn walk_pattern(pattern: &Pattern, f: &mut dyn FnMut(Visit)) {
    for part in &pattern.parts {
        walk_element(&part.element, f);
    }
}

fn walk_element(element: &PatternElement, f: &mut dyn FnMut(Visit)) {
    walk_opt(element.start.properties.as_ref(), f);
    for (rel, node) in &element.chain {
        walk_opt(rel.properties.as_ref(), f);
        walk_opt(node.properties.as_ref(), f);
    }
}

/// Calls `f` on `expr` and then on every expression nested in it, subqueries included.
pub fn walk_expr(expr: &Expr, f: &mut dyn FnMut(Visit)) {
    f(Visit::Expr(expr));
    match &expr.kind {
        ExprKind::Literal(_)
        | ExprKind::Parameter(_)
        | ExprKind::Variable(_)
        | ExprKind::CountStar => {}
        ExprKind::List(items) => items.iter().for_each(|e| walk_expr(e, f)),
        ExprKind::Map(entries) => entries.iter().for_each(|(_, e)| walk_expr(e, f)),
        ExprKind::Property(e, _)
        | ExprKind::Unary(_, e)
        | ExprKind::IsNull(e)
        | ExprKind::IsNotNull(e)
        | ExprKind::HasLabels(e, _) => walk_expr(e, f),
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
            walk_expr(a, f);
            walk_expr(b, f);
        }
        ExprKind::Slice(e, from, to) => {
            walk_expr(e, f);
            walk_opt(from.as_deref(), f);
            walk_opt(to.as_deref(), f);
        }
        ExprKind::Comparison(first, rest) => {
            walk_expr(first, f);
            rest.iter().for_each(|(_, e)| walk_expr(e, f));
        }
        ExprKind::FunctionCall { args, .. } => args.iter().for_each(|e| walk_expr(e, f)),
        ExprKind::Case {
            operand,
            whens,
            else_,
        } => {
            walk_opt(operand.as_deref(), f);
            for (w, t) in whens {
                walk_expr(w, f);
                walk_expr(t, f);
            }
            walk_opt(else_.as_deref(), f);
        }
        ExprKind::ListComprehension {
            list, where_, map, ..
        } => {
            walk_expr(list, f);
            walk_opt(where_.as_deref(), f);
            walk_opt(map.as_deref(), f);
        }
        ExprKind::PatternComprehension {
            pattern,
            where_,
            map,
            ..
        } => {
            walk_element(pattern, f);
            walk_opt(where_.as_deref(), f);
            walk_expr(map, f);
        }
        ExprKind::Quantified { list, where_, .. } => {
            walk_expr(list, f);
            walk_opt(where_.as_deref(), f);
        }
        ExprKind::Reduce {
            init, list, expr, ..
        } => {
            walk_expr(init, f);
            walk_expr(list, f);
            walk_expr(expr, f);
        }
        ExprKind::MapProjection { items, .. } => {
            for item in items {
                if let MapProjectionItem::Literal { value, .. } = item {
                    walk_expr(value, f);
                }
            }
        }
        ExprKind::PatternPredicate(element) => walk_element(element, f),
        ExprKind::ExistsSubquery(body) | ExprKind::CountSubquery(body) => match body.as_ref() {
            ExistsBody::Pattern { pattern, where_ } => {
                walk_pattern(pattern, f);
                walk_opt(where_.as_ref(), f);
            }
            ExistsBody::Query(q) => walk_all(q, f),
        },
        ExprKind::CollectSubquery(q) => walk_all(q, f),
    }
}
