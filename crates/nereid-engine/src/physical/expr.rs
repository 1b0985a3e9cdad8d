//! Expression compilation: a bound expression becomes a [`CExpr`] over the column layout
//! of the rows it reads (variables to column or frame slots, parameters to slots of the
//! run's values, subqueries to nested operator trees built by the same [`Builder`]).

use super::*;
use nereid_cypher::ast::UnaryOp;

impl Builder<'_> {
    /// Compiles an expression over rows laid out by `s`.
    pub fn expr(&self, e: &Expr, s: &Schema) -> Result<CExpr> {
        self.compile(e, s, &mut Vec::new())
    }

    fn compile_box(&self, e: &Expr, s: &Schema, locals: &mut Vec<Var>) -> Result<Box<CExpr>> {
        Ok(Box::new(self.compile(e, s, locals)?))
    }

    fn compile_opt(
        &self,
        e: Option<&Expr>,
        s: &Schema,
        locals: &mut Vec<Var>,
    ) -> Result<Option<Box<CExpr>>> {
        e.map(|e| self.compile_box(e, s, locals)).transpose()
    }

    fn compile_all(&self, es: &[Expr], s: &Schema, locals: &mut Vec<Var>) -> Result<Vec<CExpr>> {
        es.iter().map(|e| self.compile(e, s, locals)).collect()
    }

    fn var(&self, v: Var, s: &Schema, locals: &[Var]) -> Result<CExpr> {
        if let Some(slot) = locals.iter().rposition(|l| *l == v) {
            return Ok(CExpr::Local(slot));
        }
        Ok(CExpr::Col(self.col(s, v)?))
    }

    fn compile(&self, e: &Expr, s: &Schema, locals: &mut Vec<Var>) -> Result<CExpr> {
        Ok(match e {
            Expr::Lit(l) => CExpr::Const(l.0.clone()),
            Expr::Param(name) => match self.plan.params.iter().position(|p| p == name) {
                Some(i) => CExpr::Param(i),
                None => {
                    return Err(Error::compile(
                        ErrorCode::MissingQueryParameter,
                        format!("Expected parameter(s): {name}"),
                    ))
                }
            },
            Expr::Var(v) => self.var(*v, s, locals)?,
            Expr::List(items) => CExpr::List(self.compile_all(items, s, locals)?),
            Expr::Map(entries) => CExpr::Map(
                entries
                    .iter()
                    .map(|(k, e)| Ok((k.clone(), self.compile(e, s, locals)?)))
                    .collect::<Result<_>>()?,
            ),
            Expr::Prop(base, key) => CExpr::Prop(self.compile_box(base, s, locals)?, Key::new(key)),
            Expr::Index(base, idx) => CExpr::Index(
                self.compile_box(base, s, locals)?,
                self.compile_box(idx, s, locals)?,
            ),
            Expr::Slice(base, from, to) => CExpr::Slice(
                self.compile_box(base, s, locals)?,
                self.compile_opt(from.as_deref(), s, locals)?,
                self.compile_opt(to.as_deref(), s, locals)?,
            ),
            Expr::Unary(op, a) => {
                let a = self.compile_box(a, s, locals)?;
                match op {
                    UnaryOp::Not => CExpr::Not(a),
                    UnaryOp::Neg => CExpr::Neg(a),
                    UnaryOp::Plus => CExpr::Plus(a),
                }
            }
            Expr::And(a, b) => CExpr::And(
                self.compile_box(a, s, locals)?,
                self.compile_box(b, s, locals)?,
            ),
            Expr::Or(a, b) => CExpr::Or(
                self.compile_box(a, s, locals)?,
                self.compile_box(b, s, locals)?,
            ),
            Expr::Xor(a, b) => CExpr::Xor(
                self.compile_box(a, s, locals)?,
                self.compile_box(b, s, locals)?,
            ),
            Expr::Binary(op, a, b) => CExpr::Binary(
                *op,
                self.compile_box(a, s, locals)?,
                self.compile_box(b, s, locals)?,
            ),
            Expr::Comparison(first, rest) => CExpr::Comparison(
                self.compile_box(first, s, locals)?,
                rest.iter()
                    .map(|(op, e)| Ok((*op, self.compile(e, s, locals)?)))
                    .collect::<Result<_>>()?,
            ),
            Expr::IsNull(a) => CExpr::IsNull(self.compile_box(a, s, locals)?),
            Expr::IsNotNull(a) => CExpr::IsNotNull(self.compile_box(a, s, locals)?),
            Expr::HasLabels(a, names) => {
                CExpr::HasLabels(self.compile_box(a, s, locals)?, labels(names))
            }
            Expr::Scalar(f, args) => CExpr::Scalar(f.0, self.compile_all(args, s, locals)?),
            Expr::Graph(f, args) => CExpr::Graph(*f, self.compile_all(args, s, locals)?),
            Expr::Case {
                operand,
                whens,
                else_,
            } => CExpr::Case {
                operand: self.compile_opt(operand.as_deref(), s, locals)?,
                whens: whens
                    .iter()
                    .map(|(w, t)| Ok((self.compile(w, s, locals)?, self.compile(t, s, locals)?)))
                    .collect::<Result<_>>()?,
                else_: self.compile_opt(else_.as_deref(), s, locals)?,
            },
            Expr::ListComp {
                var,
                list,
                where_,
                map,
            } => {
                let list = self.compile_box(list, s, locals)?;
                let local = locals.len();
                locals.push(*var);
                let where_ = self.compile_opt(where_.as_deref(), s, locals);
                let map = self.compile_opt(map.as_deref(), s, locals);
                locals.pop();
                CExpr::ListComp {
                    local,
                    list,
                    where_: where_?,
                    map: map?,
                }
            }
            Expr::Quantified {
                quantifier,
                var,
                list,
                where_,
            } => {
                let list = self.compile_box(list, s, locals)?;
                let local = locals.len();
                locals.push(*var);
                let where_ = self.compile_opt(where_.as_deref(), s, locals);
                locals.pop();
                CExpr::Quantified {
                    quantifier: *quantifier,
                    local,
                    list,
                    where_: where_?,
                }
            }
            Expr::Reduce {
                acc,
                init,
                var,
                list,
                expr,
            } => {
                let init = self.compile_box(init, s, locals)?;
                let list = self.compile_box(list, s, locals)?;
                let acc_slot = locals.len();
                locals.push(*acc);
                let local = locals.len();
                locals.push(*var);
                let expr = self.compile_box(expr, s, locals);
                locals.pop();
                locals.pop();
                CExpr::Reduce {
                    acc: acc_slot,
                    local,
                    init,
                    list,
                    expr: expr?,
                }
            }
            Expr::MapProjection(base, items) => CExpr::MapProjection(
                self.compile_box(base, s, locals)?,
                items
                    .iter()
                    .map(|i| {
                        Ok(match i {
                            MapItem::Property(k) => CMapItem::Property(k.clone(), Key::new(k)),
                            MapItem::Entry(k, e) => {
                                CMapItem::Entry(k.clone(), self.compile(e, s, locals)?)
                            }
                            MapItem::AllProperties => CMapItem::AllProperties,
                        })
                    })
                    .collect::<Result<_>>()?,
            ),
            Expr::Path { start, hops } => CExpr::Path(
                Box::new(self.var(*start, s, locals)?),
                hops.iter()
                    .map(|h| {
                        Ok((
                            self.var(h.rel, s, locals)?,
                            self.var(h.node, s, locals)?,
                            h.var_length,
                        ))
                    })
                    .collect::<Result<_>>()?,
            ),
            Expr::Exists { sub, .. } | Expr::Count { sub, .. }
                if self.plan.subquery(*sub).one_hop_degree().is_some() =>
            {
                let Some((node, dir, types, other_labels)) =
                    self.plan.subquery(*sub).one_hop_degree()
                else {
                    return Err(Error::internal("not a one-hop subquery"));
                };
                CExpr::Degree(Box::new(DegreeRead {
                    node: self.var(node, s, locals)?,
                    dir,
                    types: rel_types(types),
                    other_labels: labels(other_labels),
                    exists: matches!(e, Expr::Exists { .. }),
                    type_buf: RefCell::new(Vec::new()),
                    buf: RefCell::new(Vec::new()),
                }))
            }
            Expr::Exists { sub, args }
            | Expr::Count { sub, args }
            | Expr::Collect { sub, args } => {
                let subquery = self.plan.subquery(*sub);
                let cargs = args
                    .iter()
                    .map(|a| self.var(*a, s, locals))
                    .collect::<Result<Vec<_>>>()?;
                let arg = ArgCtx {
                    cell: Rc::new(RefCell::new(Vec::new())),
                    schema: Schema::of(args),
                };
                let need: BTreeSet<Var> = subquery.output.into_iter().collect();
                let (plan, ps) = self.build(&subquery.plan, &need, &arg)?;
                let output = match (e, subquery.output) {
                    (Expr::Collect { .. }, Some(v)) => SubqueryOutput::Collect(self.col(&ps, v)?),
                    (Expr::Collect { .. }, None) => {
                        return Err(Error::internal("a collecting subquery without output"))
                    }
                    (Expr::Count { .. }, _) => SubqueryOutput::Count,
                    _ => SubqueryOutput::Exists,
                };
                CExpr::Subquery(Box::new(SubqueryEval {
                    args: cargs,
                    cell: arg.cell,
                    plan: RefCell::new(plan),
                    output,
                }))
            }
        })
    }
}
