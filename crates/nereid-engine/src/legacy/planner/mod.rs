//! Semantic analysis and planning: a parsed [`ast::Statement`] becomes a [`Plan`], a tree of
//! [`Op`]s over bound expressions, or a compile-time error with the TCK's detail code.
//!
//! Clauses are planned in order, threading a [`Scope`] through them. Reading clauses
//! stream; updating clauses are pipeline breakers (they consume all input rows before
//! emitting any), which gives Cypher's clause-at-a-time semantics: a clause never sees rows
//! that a later clause wrote, and a reading clause after a write sees all of its writes.

pub mod expr;
mod pattern;
mod projection;
pub mod scope;
mod update;

use std::collections::HashSet;

use nereid_common::{ErrorCode, Result};
use nereid_cypher::ast::{self, ClauseKind};

use crate::legacy::exec::subquery::SubqueryPlan;
use crate::legacy::expr::Expr;
use crate::legacy::pattern::PatternPlan;
use crate::procedures::Procedures;
pub use expr::AggSpec;
use scope::{Errors, Kind, Scope, Slots};
pub use update::{CreatePart, MergePlan, PropSource, SetOp};

/// Column names and their slots, as a query's result declares them.
type NamedColumns = (Vec<String>, Vec<usize>);

/// A physical operator of the plan.
#[derive(Debug, Clone)]
pub enum Op {
    /// One row: the argument row (empty at the top level, the outer row in a subquery).
    Unit,
    Match {
        input: Box<Op>,
        pattern: PatternPlan,
        optional: bool,
        /// Slots set to null when an OPTIONAL MATCH finds nothing.
        nulls: Vec<usize>,
    },
    Filter {
        input: Box<Op>,
        predicate: Expr,
    },
    Unwind {
        input: Box<Op>,
        expr: Expr,
        slot: usize,
    },
    Project {
        input: Box<Op>,
        items: Vec<(usize, Expr)>,
    },
    Aggregate {
        input: Box<Op>,
        keys: Vec<(usize, Expr)>,
        aggs: Vec<AggSpec>,
        /// Aggregating items, evaluated per group after the aggregates are known.
        post: Vec<(usize, Expr)>,
    },
    Distinct {
        input: Box<Op>,
        slots: Vec<usize>,
    },
    Sort {
        input: Box<Op>,
        keys: Vec<(Expr, bool)>,
    },
    Skip {
        input: Box<Op>,
        count: Expr,
    },
    Limit {
        input: Box<Op>,
        count: Expr,
    },
    Create {
        input: Box<Op>,
        parts: Vec<CreatePart>,
    },
    Merge {
        input: Box<Op>,
        merge: Box<MergePlan>,
    },
    Set {
        input: Box<Op>,
        items: Vec<SetOp>,
    },
    Delete {
        input: Box<Op>,
        exprs: Vec<Expr>,
        detach: bool,
    },
    Call {
        input: Box<Op>,
        procedure: String,
        args: Vec<Expr>,
        /// `(output column index, slot)`.
        yields: Vec<(usize, usize)>,
        /// The procedure has no outputs: rows pass through unchanged.
        void: bool,
    },
    /// Clears every slot except `slots`: after a WITH, values that went out of scope are
    /// dropped instead of being carried (and copied) along.
    Keep {
        input: Box<Op>,
        slots: Vec<usize>,
    },
    /// `CREATE INDEX` / `DROP INDEX` on (label, key).
    Index {
        create: bool,
        label: String,
        key: String,
    },
    /// Keeps only the column slots, in order: rows become result rows.
    Produce {
        input: Box<Op>,
        slots: Vec<usize>,
    },
    /// Concatenation of result rows of the branches, deduplicated unless ALL.
    Union {
        branches: Vec<Op>,
        distinct: bool,
    },
}

/// The output of planning.
#[derive(Debug, Clone)]
pub struct Plan {
    pub root: Op,
    pub columns: Vec<String>,
    /// Row width: every slot of the query.
    pub width: usize,
    /// Parameters the query reads (checked before it runs).
    pub params: HashSet<String>,
}

/// Plans one statement.
pub struct Planner<'a> {
    pub text: &'a str,
    pub err: Errors<'a>,
    pub slots: Slots,
    pub params: HashSet<String>,
    pub procedures: &'a Procedures,
    /// While compiling ORDER BY or WHERE of a projection: expressions (by normalised
    /// text) that stand for a projected column.
    pub substitutions: Vec<(String, usize)>,
}

/// Plans `query` (the text is needed for column names and error positions).
pub fn plan(text: &str, query: &ast::Query, procedures: &Procedures) -> Result<Plan> {
    let mut p = Planner {
        text,
        err: Errors { text },
        slots: Slots::default(),
        params: HashSet::new(),
        procedures,
        substitutions: Vec::new(),
    };
    let (root, columns) = p.query(query, &Scope::default())?;
    Ok(Plan {
        root,
        columns,
        width: p.slots.width(),
        params: p.params,
    })
}

impl Planner<'_> {
    fn query(&mut self, q: &ast::Query, outer: &Scope) -> Result<(Op, Vec<String>)> {
        let (first, columns) = self.single(&q.first, outer)?;
        if q.unions.is_empty() {
            return Ok((first, columns));
        }
        let all = q.unions[0].all;
        let mut branches = vec![first];
        for u in &q.unions {
            if u.all != all {
                return Err(self.err.at(
                    ErrorCode::InvalidClauseCompositionUnion,
                    u.span,
                    "Invalid combination of UNION and UNION ALL",
                ));
            }
            let (op, cols) = self.single(&u.query, outer)?;
            if cols != columns {
                return Err(self.err.at(
                    ErrorCode::DifferentColumnsInUnion,
                    u.span,
                    "All sub queries in an UNION must have the same return column names",
                ));
            }
            branches.push(op);
        }
        Ok((
            Op::Union {
                branches,
                distinct: !all,
            },
            columns,
        ))
    }

    /// Plans an `EXISTS { … }` subquery that sees the outer scope.
    pub fn subquery(&mut self, q: &ast::Query, outer: &Scope) -> Result<SubqueryPlan> {
        if query_updates(q) {
            return Err(self.err.at(
                ErrorCode::InvalidClauseComposition,
                q.span,
                "An EXISTS subquery cannot contain updating clauses",
            ));
        }
        let (root, _) = self.query_allow_no_return(q, outer)?;
        Ok(SubqueryPlan { root })
    }

    fn query_allow_no_return(
        &mut self,
        q: &ast::Query,
        outer: &Scope,
    ) -> Result<(Op, Vec<String>)> {
        if q.unions.is_empty() {
            return self.single_inner(&q.first, outer, true);
        }
        self.query(q, outer)
    }

    fn single(&mut self, q: &ast::SingleQuery, outer: &Scope) -> Result<(Op, Vec<String>)> {
        self.single_inner(q, outer, false)
    }

    fn single_inner(
        &mut self,
        q: &ast::SingleQuery,
        outer: &Scope,
        subquery: bool,
    ) -> Result<(Op, Vec<String>)> {
        let mut scope = outer.clone();
        let mut op = Op::Unit;
        let mut columns: Option<(Vec<String>, Vec<usize>)> = None;
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
                    if !m.optional {
                        // A MATCH after an OPTIONAL MATCH is fine; nothing to check here.
                    }
                    let before: HashSet<usize> = scope.vars.iter().map(|v| v.slot).collect();
                    let pattern =
                        self.pattern(&m.pattern.parts, &mut scope, m.where_.as_ref(), true)?;
                    let nulls = scope
                        .vars
                        .iter()
                        .map(|v| v.slot)
                        .filter(|s| !before.contains(s))
                        .collect();
                    op = Op::Match {
                        input: Box::new(op),
                        pattern,
                        optional: m.optional,
                        nulls,
                    };
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
                    let slot = self.slots.alloc();
                    let kind =
                        expr::element_kind(&u.expr, &scope).map_or(Kind::Value, expr::kind_of);
                    scope.add(&u.variable.name, slot, kind);
                    op = Op::Unwind {
                        input: Box::new(op),
                        expr,
                        slot,
                    };
                }
                ClauseKind::With(w) => {
                    let (o, s, _) =
                        self.projection(op, &w.projection, &scope, false, w.where_.as_ref())?;
                    // Outer variables of a subquery stay bound in its rows.
                    let slots = s.vars.iter().chain(&outer.vars).map(|v| v.slot).collect();
                    op = Op::Keep {
                        input: Box::new(o),
                        slots,
                    };
                    scope = s;
                    after_update = false;
                }
                ClauseKind::Return(r) => {
                    let (o, _, cols) = self.projection(op, &r.projection, &scope, true, None)?;
                    op = o;
                    columns = Some(cols.into_iter().unzip());
                }
                ClauseKind::Create(c) => op = self.create(op, c, &mut scope)?,
                ClauseKind::Merge(m) => op = self.merge(op, m, &mut scope)?,
                ClauseKind::Set(items) => {
                    let items = self.set_items(items, &scope)?;
                    op = Op::Set {
                        input: Box::new(op),
                        items,
                    };
                }
                ClauseKind::Remove(items) => {
                    let items = self.remove_items(items, &scope)?;
                    op = Op::Set {
                        input: Box::new(op),
                        items,
                    };
                }
                ClauseKind::Delete(d) => op = self.delete(op, d, &scope)?,
                ClauseKind::Index(ix) => {
                    if n != 1 {
                        return Err(self.err.at(
                            ErrorCode::InvalidClauseComposition,
                            clause.span,
                            "CREATE INDEX and DROP INDEX must be the only clause of a query",
                        ));
                    }
                    op = Op::Index {
                        create: ix.create,
                        label: ix.label.name.clone(),
                        key: ix.key.name.clone(),
                    };
                }
                ClauseKind::Call(c) => {
                    let standalone = n == 1;
                    let (o, cols) = self.call(op, c, &mut scope, standalone, clause.span)?;
                    op = o;
                    if let Some(cols) = cols {
                        columns = Some(cols);
                    }
                }
            }
            let updating = is_updating(&clause.kind);
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
        let (names, slots) = columns.unwrap_or_default();
        Ok((
            Op::Produce {
                input: Box::new(op),
                slots,
            },
            names,
        ))
    }

    fn call(
        &mut self,
        input: Op,
        c: &ast::Call,
        scope: &mut Scope,
        standalone: bool,
        span: ast::Span,
    ) -> Result<(Op, Option<NamedColumns>)> {
        let name = c
            .procedure
            .iter()
            .map(|n| n.name.as_str())
            .collect::<Vec<_>>()
            .join(".");
        let Some(proc_) = self.procedures.get(&name) else {
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
                    let k = expr::static_kind(a, scope);
                    let t = ty.trim_end_matches('?').to_ascii_uppercase();
                    use expr::StaticKind as S;
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
                    if expr::contains_aggregate(a) {
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
                    let (var, vspan) = match &item.alias {
                        Some(a) => (a.name.clone(), a.span),
                        None => (item.field.name.clone(), item.field.span),
                    };
                    if scope.contains(&var) {
                        return Err(self.err.at(
                            ErrorCode::VariableAlreadyBound,
                            vspan,
                            format!("Variable `{var}` already declared"),
                        ));
                    }
                    let slot = self.slots.alloc();
                    scope.add(&var, slot, Kind::Value);
                    yields.push((idx, slot));
                    cols.push((var, slot));
                }
            }
            _ if !standalone => {
                // In a query without YIELD the outputs are not bound; each result row still
                // counts.
            }
            _ => {
                for (idx, (n, _)) in proc_.outputs.iter().enumerate() {
                    let slot = self.slots.alloc();
                    scope.add(n, slot, Kind::Value);
                    yields.push((idx, slot));
                    cols.push((n.clone(), slot));
                }
            }
        }
        let mut op = Op::Call {
            input: Box::new(input),
            procedure: name,
            args,
            yields,
            void,
        };
        if let Some(y) = &c.yield_ {
            if let Some(w) = &y.where_ {
                let predicate = self.expr(w, scope)?;
                op = Op::Filter {
                    input: Box::new(op),
                    predicate,
                };
            }
        }
        let columns = if standalone {
            Some(cols.into_iter().unzip())
        } else {
            None
        };
        Ok((op, columns))
    }
}

/// Every clause of every UNION branch of `q` (not inside subqueries).
pub fn clauses(q: &ast::Query) -> impl Iterator<Item = &ast::Clause> {
    std::iter::once(&q.first)
        .chain(q.unions.iter().map(|u| &u.query))
        .flat_map(|s| &s.clauses)
}

/// Whether the clause writes (data or the index set).
fn is_updating(kind: &ClauseKind) -> bool {
    matches!(
        kind,
        ClauseKind::Index(_)
            | ClauseKind::Create(_)
            | ClauseKind::Merge(_)
            | ClauseKind::Set(_)
            | ClauseKind::Remove(_)
            | ClauseKind::Delete(_)
    )
}

/// Whether any clause of the query writes.
pub fn query_updates(q: &ast::Query) -> bool {
    clauses(q).any(|c| is_updating(&c.kind))
}
