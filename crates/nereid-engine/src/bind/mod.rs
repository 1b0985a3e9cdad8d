//! Binding (semantic analysis): a parsed [`ast::Statement`] becomes a [`BoundStatement`] —
//! every name resolved to a [`Var`], every expression bound, every aggregate identified
//! structurally — or a compile-time error with the openCypher detail code and the position
//! of the offending text.
//!
//! Clauses are bound in order, threading a [`Scope`] through them. The binder checks
//! clause composition (RETURN last, WITH between an update and a read), variable rules
//! (already bound, undefined, conflicting types, relationship uniqueness of a pattern's
//! relationship variables) and the static type errors the TCK expects at compile time. It
//! decides nothing about execution: that is the planner's and the optimizer's job.

mod bound;
pub mod dialect;
mod expr;
mod pattern;
mod projection;
pub mod scope;
mod subquery;
pub mod types;
mod update;

use std::collections::BTreeSet;

use nereid_common::{ErrorCode, Result};
use nereid_cypher::ast::{self, ClauseKind};

use crate::plan::{Expr, SubqueryId, Var, VarKind, VarTable};
use crate::procedures::Procedures;
pub use bound::*;
use scope::{Errors, Kind, Scope};

/// Binds one statement.
pub struct Binder<'a> {
    pub err: Errors<'a>,
    pub vars: VarTable,
    pub params: BTreeSet<String>,
    pub procedures: &'a Procedures,
    pub subqueries: Vec<BoundSubquery>,
}

/// Binds `query` (the text is needed for column names and error positions).
pub fn bind(text: &str, query: &ast::Query, procedures: &Procedures) -> Result<BoundStatement> {
    let mut b = Binder {
        err: Errors { text },
        vars: VarTable::default(),
        params: BTreeSet::new(),
        procedures,
        subqueries: Vec::new(),
    };
    let (query, columns) = b.query(query, &Scope::default(), false)?;
    Ok(BoundStatement {
        query,
        vars: b.vars,
        subqueries: b.subqueries,
        params: b.params,
        columns,
    })
}

/// A bound CALL and, when it yields, its output columns.
type CallBinding = (BoundCall, Option<Vec<(String, Var)>>);

impl Binder<'_> {
    /// A new variable named as in the query.
    pub fn named_var(&mut self, name: &str, kind: Kind) -> Var {
        self.vars.named(name, kind.var_kind())
    }

    /// A new hidden variable.
    pub fn hidden_var(&mut self, what: &str, kind: VarKind) -> Var {
        self.vars.hidden(what, kind)
    }

    /// Registers a subquery and returns its id.
    pub fn add_subquery(&mut self, s: BoundSubquery) -> SubqueryId {
        self.subqueries.push(s);
        SubqueryId(self.subqueries.len() as u32 - 1)
    }

    fn query(
        &mut self,
        q: &ast::Query,
        outer: &Scope,
        subquery: bool,
    ) -> Result<(BoundQuery, Vec<String>)> {
        let first = self.single(&q.first, outer, subquery && q.unions.is_empty())?;
        let columns: Vec<String> = first.columns.iter().map(|(n, _)| n.clone()).collect();
        let mut branches = vec![first];
        let all = q.unions.first().is_some_and(|u| u.all);
        for u in &q.unions {
            if u.all != all {
                return Err(self.err.at(
                    ErrorCode::InvalidClauseCompositionUnion,
                    u.span,
                    "Invalid combination of UNION and UNION ALL",
                ));
            }
            let branch = self.single(&u.query, outer, false)?;
            let cols: Vec<String> = branch.columns.iter().map(|(n, _)| n.clone()).collect();
            if cols != columns {
                return Err(self.err.at(
                    ErrorCode::DifferentColumnsInUnion,
                    u.span,
                    "All sub queries in an UNION must have the same return column names",
                ));
            }
            branches.push(branch);
        }
        Ok((
            BoundQuery {
                branches,
                distinct: !q.unions.is_empty() && !all,
            },
            columns,
        ))
    }

    /// One query without UNION; `subquery`: it sees `outer` and need not end in RETURN.
    fn single(
        &mut self,
        q: &ast::SingleQuery,
        outer: &Scope,
        subquery: bool,
    ) -> Result<BoundSingle> {
        let mut scope = outer.clone();
        let mut clauses = Vec::with_capacity(q.clauses.len());
        let mut columns: Option<Vec<(String, Var)>> = None;
        let mut after_update = false;
        let n = q.clauses.len();
        for (i, clause) in q.clauses.iter().enumerate() {
            let last = i + 1 == n;
            if columns.is_some() {
                return Err(self.err.at(
                    ErrorCode::InvalidClauseComposition,
                    clause.span,
                    "RETURN can only be used at the end of the query",
                ));
            }
            let reading = matches!(
                clause.kind,
                ClauseKind::Match(_) | ClauseKind::Unwind(_) | ClauseKind::Call(_)
            );
            if reading && after_update {
                return Err(self.err.at(
                    ErrorCode::InvalidClauseComposition,
                    clause.span,
                    "WITH is required between an updating clause and a reading clause",
                ));
            }
            match &clause.kind {
                ClauseKind::Match(m) => {
                    let before: BTreeSet<Var> = scope.vars().collect();
                    let parts = self.pattern(&m.pattern.parts, &mut scope, true)?;
                    let predicate = match &m.where_ {
                        Some(w) => {
                            self.check_predicate(w, &scope)?;
                            Some(self.expr(w, &scope)?)
                        }
                        None => None,
                    };
                    let new_vars = scope.vars().filter(|v| !before.contains(v)).collect();
                    clauses.push(BoundClause::Match(BoundMatch {
                        optional: m.optional,
                        parts,
                        predicate,
                        new_vars,
                    }));
                }
                ClauseKind::Unwind(u) => {
                    let expr = self.expr(&u.expr, &scope)?;
                    if scope.contains(&u.variable.name) {
                        return Err(self.err.at(
                            ErrorCode::VariableAlreadyBound,
                            u.variable.span,
                            format!("Variable `{}` already declared", u.variable.name),
                        ));
                    }
                    let kind =
                        types::element_kind(&u.expr, &scope).map_or(Kind::Value, types::kind_of);
                    let var = self.named_var(&u.variable.name, kind);
                    scope.add(&u.variable.name, var, kind);
                    clauses.push(BoundClause::Unwind { expr, var });
                }
                ClauseKind::With(w) => {
                    let (p, mut s) =
                        self.projection(&w.projection, &scope, false, w.where_.as_ref())?;
                    // A subquery's rows keep its outer variables visible after a WITH.
                    for v in &outer.vars {
                        if !s.contains(&v.name) {
                            s.vars.insert(0, v.clone());
                        }
                    }
                    clauses.push(BoundClause::Projection(Box::new(p)));
                    scope = s;
                    after_update = false;
                }
                ClauseKind::Return(r) => {
                    let (p, _) = self.projection(&r.projection, &scope, true, None)?;
                    columns = Some(p.columns.clone());
                    clauses.push(BoundClause::Projection(Box::new(p)));
                }
                ClauseKind::Create(c) => {
                    let parts = self.create(c, &mut scope)?;
                    clauses.push(BoundClause::Create(parts));
                }
                ClauseKind::Merge(m) => {
                    let merge = self.merge(m, &mut scope)?;
                    clauses.push(BoundClause::Merge(Box::new(merge)));
                }
                ClauseKind::Set(items) => {
                    let items = self.set_items(items, &scope)?;
                    clauses.push(BoundClause::Set(items));
                }
                ClauseKind::Remove(items) => {
                    let items = self.remove_items(items, &scope)?;
                    clauses.push(BoundClause::Set(items));
                }
                ClauseKind::Delete(d) => {
                    let exprs = self.delete(d, &scope)?;
                    clauses.push(BoundClause::Delete {
                        exprs,
                        detach: d.detach,
                    });
                }
                ClauseKind::Index(ix) => {
                    if n != 1 {
                        return Err(self.err.at(
                            ErrorCode::InvalidClauseComposition,
                            clause.span,
                            "CREATE INDEX and DROP INDEX must be the only clause of a query",
                        ));
                    }
                    clauses.push(BoundClause::Index {
                        create: ix.create,
                        label: ix.label.name.clone(),
                        key: ix.key.name.clone(),
                    });
                }
                ClauseKind::CallSubquery(c) => {
                    let call = self.call_subquery(c, &mut scope)?;
                    clauses.push(BoundClause::CallSubquery(Box::new(call)));
                }
                ClauseKind::Foreach(f) => {
                    let call = self.foreach(f, &scope, clause.span)?;
                    clauses.push(BoundClause::CallSubquery(Box::new(call)));
                }
                ClauseKind::Call(c) => {
                    let standalone = n == 1;
                    let (call, cols) = self.call(c, &mut scope, standalone, clause.span)?;
                    clauses.push(BoundClause::Call(call));
                    if let Some(cols) = cols {
                        columns = Some(cols);
                    }
                }
            }
            let updating = match &clause.kind {
                // A unit subquery (one that returns nothing) may end a query.
                ClauseKind::CallSubquery(c) => !subquery_returns(&c.query),
                kind => is_updating(kind),
            };
            if updating {
                after_update = true;
            }
            if last && columns.is_none() && !subquery {
                // A procedure call may end a query too.
                if !updating && !matches!(clause.kind, ClauseKind::Call(_)) {
                    return Err(self.err.at(
                        ErrorCode::InvalidClauseComposition,
                        clause.span,
                        "Query cannot conclude with this clause (must be RETURN or an update clause)",
                    ));
                }
            }
        }
        Ok(BoundSingle {
            clauses,
            columns: columns.unwrap_or_default(),
        })
    }

    fn call(
        &mut self,
        c: &ast::Call,
        scope: &mut Scope,
        standalone: bool,
        span: ast::Span,
    ) -> Result<CallBinding> {
        let name = c
            .procedure
            .iter()
            .map(|n| n.name.as_str())
            .collect::<Vec<_>>()
            .join(".");
        let Some(proc_) = self.procedures.get(&name).cloned() else {
            return Err(self.err.at(
                ErrorCode::ProcedureNotFound,
                span,
                format!("There is no procedure with the name `{name}` registered"),
            ));
        };
        let args = match &c.args {
            Some(args) => {
                if args.len() != proc_.inputs.len() {
                    return Err(self.err.at(
                        ErrorCode::InvalidNumberOfArguments,
                        span,
                        format!(
                            "Procedure call does not provide the required number of arguments: got {} expected {}",
                            args.len(),
                            proc_.inputs.len()
                        ),
                    ));
                }
                let mut out = Vec::with_capacity(args.len());
                for (a, (_, ty)) in args.iter().zip(&proc_.inputs) {
                    let k = types::static_kind(a, scope);
                    let t = ty.trim_end_matches('?').to_ascii_uppercase();
                    use types::StaticKind as S;
                    let bad = match t.as_str() {
                        "INTEGER" => !matches!(k, S::Int | S::Null | S::Unknown),
                        "FLOAT" | "NUMBER" => {
                            !matches!(k, S::Int | S::Float | S::Null | S::Unknown)
                        }
                        "STRING" => !matches!(k, S::String | S::Null | S::Unknown),
                        "BOOLEAN" => !matches!(k, S::Bool | S::Null | S::Unknown),
                        _ => false,
                    };
                    if bad {
                        return Err(
                            self.type_error(a.span, &format!("procedure argument expects {ty}"))
                        );
                    }
                    if types::contains_aggregate(a) {
                        return Err(self.err.at(
                            ErrorCode::InvalidAggregation,
                            a.span,
                            "Aggregation in procedure arguments",
                        ));
                    }
                    out.push(self.expr(a, scope)?);
                }
                out
            }
            None => {
                if !standalone {
                    return Err(self.err.at(
                        ErrorCode::InvalidArgumentPassingMode,
                        span,
                        "Procedure call inside a query does not support passing arguments implicitly",
                    ));
                }
                proc_
                    .inputs
                    .iter()
                    .map(|(n, _)| {
                        self.params.insert(n.clone());
                        Expr::Param(n.clone())
                    })
                    .collect()
            }
        };
        let void = proc_.outputs.is_empty();
        let mut yields = Vec::new();
        let mut cols = Vec::new();
        match &c.yield_ {
            Some(y) if !y.star => {
                for item in &y.items {
                    let Some(idx) = proc_
                        .outputs
                        .iter()
                        .position(|(n, _)| *n == item.field.name)
                    else {
                        return Err(self.err.at(
                            ErrorCode::UndefinedVariable,
                            item.field.span,
                            format!("Unknown procedure output: `{}`", item.field.name),
                        ));
                    };
                    let (name, vspan) = match &item.alias {
                        Some(a) => (a.name.clone(), a.span),
                        None => (item.field.name.clone(), item.field.span),
                    };
                    if scope.contains(&name) {
                        return Err(self.err.at(
                            ErrorCode::VariableAlreadyBound,
                            vspan,
                            format!("Variable `{name}` already declared"),
                        ));
                    }
                    let var = self.named_var(&name, Kind::Value);
                    scope.add(&name, var, Kind::Value);
                    yields.push((idx, var));
                    cols.push((name, var));
                }
            }
            _ if !standalone => {
                // In a query without YIELD the outputs are not bound; each result row still
                // counts.
            }
            _ => {
                for (idx, (n, _)) in proc_.outputs.iter().enumerate() {
                    let var = self.named_var(n, Kind::Value);
                    scope.add(n, var, Kind::Value);
                    yields.push((idx, var));
                    cols.push((n.clone(), var));
                }
            }
        }
        let where_ = match c.yield_.as_ref().and_then(|y| y.where_.as_ref()) {
            Some(w) => Some(self.expr(w, scope)?),
            None => None,
        };
        let columns = standalone.then_some(cols);
        Ok((
            BoundCall {
                procedure: name,
                args,
                yields,
                void,
                where_,
            },
            columns,
        ))
    }
}

/// Whether the clause itself writes (data or the index set); a `CALL { }` may hold
/// clauses that do, see [`query_updates`].
pub fn is_updating(kind: &ClauseKind) -> bool {
    matches!(
        kind,
        ClauseKind::Index(_)
            | ClauseKind::Create(_)
            | ClauseKind::Merge(_)
            | ClauseKind::Set(_)
            | ClauseKind::Remove(_)
            | ClauseKind::Delete(_)
            | ClauseKind::Foreach(_)
    )
}

/// Whether any clause of the query writes, those nested in subqueries included.
pub fn query_updates(q: &ast::Query) -> bool {
    let mut updates = false;
    nereid_cypher::visit::walk_all(q, &mut |v| {
        if let nereid_cypher::visit::Visit::Clause(c) = v {
            updates |= is_updating(&c.kind);
        }
    });
    updates
}

/// Whether a `CALL { }` body returns rows (ends in RETURN), rather than being a unit
/// subquery.
fn subquery_returns(q: &ast::Query) -> bool {
    matches!(
        q.first.clauses.last().map(|c| &c.kind),
        Some(ClauseKind::Return(_))
    )
}
