//! Subqueries that are whole queries: `CALL { … }` (and `FOREACH`, bound as a unit `CALL`
//! over an `UNWIND`), and the `EXISTS`, `COUNT` and `COLLECT { … }` expressions.
//!
//! A `CALL` subquery sees only what it imports: the variables of a variable scope clause
//! (`CALL (a, b) { … }`, `CALL (*) { … }`), or else the plain variables of its leading
//! `WITH` (the importing WITH). Its returned names must be new in the outer scope, and
//! returned expressions must be aliased, so that every column has a name the outer query
//! can use. The expression subqueries see the whole outer scope.

use nereid_common::{ErrorCode, Result};
use nereid_cypher::ast::{self, CallImports, ClauseKind, ExprKind};

use super::scope::{Kind, Scope};
use super::{query_updates, Binder, BoundCallSubquery, BoundSubquery, SubqueryBody};
use crate::plan::{SubqueryId, Var};

/// What an expression subquery yields for each outer row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubqueryUse {
    Exists,
    Count,
    Collect,
}

impl SubqueryUse {
    fn name(self) -> &'static str {
        match self {
            SubqueryUse::Exists => "EXISTS",
            SubqueryUse::Count => "COUNT",
            SubqueryUse::Collect => "COLLECT",
        }
    }
}

impl Binder<'_> {
    /// Binds the whole query of an `EXISTS`, `COUNT` or `COLLECT { … }` expression; `args`
    /// are the outer variables it may read.
    pub fn query_subquery(
        &mut self,
        q: &ast::Query,
        outer: &Scope,
        args: Vec<Var>,
        usage: SubqueryUse,
    ) -> Result<SubqueryId> {
        if query_updates(q) {
            return Err(self.err.at(
                ErrorCode::InvalidClauseComposition,
                q.span,
                format!(
                    "A {} subquery cannot contain updating clauses",
                    usage.name()
                ),
            ));
        }
        let (query, _) = self.query(q, outer, true)?;
        let output = match usage {
            SubqueryUse::Collect => {
                let columns = &query.branches[0].columns;
                if columns.len() != 1 {
                    return Err(self.err.at(
                        ErrorCode::InvalidClauseComposition,
                        q.span,
                        "A COLLECT subquery must end with a RETURN of exactly one column",
                    ));
                }
                Some(columns[0].1)
            }
            SubqueryUse::Exists | SubqueryUse::Count => None,
        };
        Ok(self.add_subquery(BoundSubquery {
            args,
            body: SubqueryBody::Query { query, output },
        }))
    }

    /// `CALL [(imports)] { … }`: binds the subquery and adds its columns to `scope`.
    pub(super) fn call_subquery(
        &mut self,
        c: &ast::CallSubquery,
        scope: &mut Scope,
    ) -> Result<BoundCallSubquery> {
        let imports = match &c.imports {
            Some(CallImports::All) => Imports::All,
            Some(CallImports::Variables(vars)) => {
                Imports::Names(vars.iter().map(|v| (v.name.clone(), v.span)).collect())
            }
            None => importing_with(&c.query, scope),
        };
        let mut inner = Scope::default();
        match imports {
            Imports::All => inner = scope.clone(),
            Imports::Names(names) => {
                for (name, span) in names {
                    let Some(v) = scope.get(&name) else {
                        return Err(self.err.at(
                            ErrorCode::UndefinedVariable,
                            span,
                            format!("Variable `{name}` not defined"),
                        ));
                    };
                    inner.add(&v.name, v.var, v.kind);
                }
            }
        }
        for branch in std::iter::once(&c.query.first).chain(c.query.unions.iter().map(|u| &u.query))
        {
            if let Some(ClauseKind::Return(r)) = branch.clauses.last().map(|c| &c.kind) {
                for item in &r.projection.items {
                    if item.alias.is_none() && !matches!(item.expr.kind, ExprKind::Variable(_)) {
                        return Err(self.err.at(
                            ErrorCode::NoExpressionAlias,
                            item.span,
                            "Expression in CALL { RETURN ... } must be aliased (use AS)",
                        ));
                    }
                }
            }
        }
        let (query, _) = self.query(&c.query, &inner, false)?;
        let columns = query.branches[0].columns.clone();
        for (name, var) in &columns {
            if scope.contains(name) {
                return Err(self.err.at(
                    ErrorCode::VariableAlreadyBound,
                    c.query.span,
                    format!("Variable `{name}` already declared in outer scope"),
                ));
            }
            let same_kind = query
                .branches
                .iter()
                .filter_map(|b| b.columns.iter().find(|(n, _)| n == name))
                .all(|(_, v)| self.vars.kind(*v) == self.vars.kind(*var));
            let kind = if same_kind {
                Kind::of_var_kind(self.vars.kind(*var))
            } else {
                Kind::Value
            };
            scope.add(name, *var, kind);
        }
        Ok(BoundCallSubquery {
            query,
            imports: inner.vars().collect(),
            columns,
        })
    }

    /// `FOREACH (x IN list | clauses)`: a unit `CALL (*) { UNWIND list AS x clauses }`.
    pub(super) fn foreach(
        &mut self,
        f: &ast::Foreach,
        scope: &Scope,
        span: ast::Span,
    ) -> Result<BoundCallSubquery> {
        let unwind = ast::Clause {
            kind: ClauseKind::Unwind(ast::Unwind {
                expr: f.list.clone(),
                variable: f.variable.clone(),
            }),
            span,
        };
        let call = ast::CallSubquery {
            imports: Some(CallImports::All),
            query: ast::Query {
                first: ast::SingleQuery {
                    clauses: std::iter::once(unwind).chain(f.clauses.clone()).collect(),
                    span,
                },
                unions: Vec::new(),
                span,
            },
        };
        let mut scope = scope.clone();
        self.call_subquery(&call, &mut scope)
    }
}

/// What a `CALL { … }` imports.
enum Imports {
    All,
    Names(Vec<(String, ast::Span)>),
}

/// The imports of a `CALL { … }` without a scope clause: the plain variables (`WITH a`,
/// `WITH a AS a`, `WITH *`) of each branch's leading WITH that the outer scope has.
fn importing_with(q: &ast::Query, outer: &Scope) -> Imports {
    let mut out: Vec<(String, ast::Span)> = Vec::new();
    for branch in std::iter::once(&q.first).chain(q.unions.iter().map(|u| &u.query)) {
        let Some(ClauseKind::With(w)) = branch.clauses.first().map(|c| &c.kind) else {
            continue;
        };
        if w.projection.star {
            return Imports::All;
        }
        for item in &w.projection.items {
            if let ExprKind::Variable(name) = &item.expr.kind {
                let plain = item.alias.as_ref().is_none_or(|a| &a.name == name);
                if plain && outer.contains(name) && !out.iter().any(|(n, _)| n == name) {
                    out.push((name.clone(), item.span));
                }
            }
        }
    }
    Imports::Names(out)
}
