//! Patterns (of MATCH, subqueries and MERGE): declares their variables in scope, binds
//! their property maps, and checks the variable rules — a node variable must not hold a
//! non-node, a relationship variable may appear only once in a pattern, patterns used as
//! expressions cannot introduce variables.

use std::collections::BTreeSet;

use nereid_common::{ErrorCode, Result};
use nereid_cypher::ast::{self, Direction, ExprKind};
use nereid_storage::Dir;

use super::scope::{Kind, Scope};
use super::types::StaticKind;
use super::{Binder, BoundPart, PNode, PRel, PartKind};
use crate::plan::{Expr, VarKind};

impl Binder<'_> {
    /// Binds `parts` in `scope`, adding the pattern's variables to `scope`. `allow_new` is
    /// false for pattern predicates, which may not introduce variables.
    pub fn pattern(
        &mut self,
        parts: &[ast::PatternPart],
        scope: &mut Scope,
        allow_new: bool,
    ) -> Result<Vec<BoundPart>> {
        let before: BTreeSet<_> = scope.vars().collect();
        let mut declared_rels: BTreeSet<String> = BTreeSet::new();
        // 1. Declare every variable (left to right), so that property maps may refer to
        //    any of them.
        let mut declared = Vec::with_capacity(parts.len());
        for part in parts {
            let kind = match part.kind {
                ast::PathKind::Normal => PartKind::Normal,
                ast::PathKind::ShortestPath => PartKind::Shortest,
                ast::PathKind::AllShortestPaths => PartKind::AllShortest,
            };
            if kind != PartKind::Normal && part.element.chain.len() != 1 {
                return Err(self.err.at(
                    ErrorCode::UnsupportedOperation,
                    part.span,
                    "shortestPath(...) requires a pattern containing a single relationship",
                ));
            }
            let mut nodes = vec![self.declare_node(&part.element.start, scope, allow_new)?];
            let mut rels = Vec::new();
            for (rel, node) in &part.element.chain {
                rels.push(self.declare_rel(rel, scope, allow_new, &mut declared_rels, &before)?);
                nodes.push(self.declare_node(node, scope, allow_new)?);
            }
            let path = match &part.variable {
                Some(p) => {
                    if scope.contains(&p.name) {
                        return Err(self.err.at(
                            ErrorCode::VariableAlreadyBound,
                            p.span,
                            format!("Variable `{}` already declared", p.name),
                        ));
                    }
                    let var = self.named_var(&p.name, Kind::Path);
                    scope.add(&p.name, var, Kind::Path);
                    Some(var)
                }
                None => None,
            };
            declared.push((kind, nodes, rels, path));
        }
        // 2. Labels, types and property maps.
        let mut out = Vec::with_capacity(parts.len());
        for (part, (kind, node_vars, rel_vars, path)) in parts.iter().zip(declared) {
            let el = &part.element;
            let node_patterns = std::iter::once(&el.start).chain(el.chain.iter().map(|(_, n)| n));
            let mut nodes = Vec::with_capacity(node_vars.len());
            for (np, var) in node_patterns.zip(node_vars) {
                nodes.push(PNode {
                    var,
                    labels: np.labels.iter().map(|l| l.name.clone()).collect(),
                    props: self.prop_map(np.properties.as_ref(), scope)?,
                });
            }
            let mut rels = Vec::with_capacity(rel_vars.len());
            for ((rp, _), var) in el.chain.iter().zip(rel_vars) {
                let mut length = rp.length.map(|l| (l.min.unwrap_or(1), l.max));
                if kind != PartKind::Normal && length.is_none() {
                    length = Some((1, Some(1)));
                }
                rels.push(PRel {
                    var,
                    dir: match rp.direction {
                        Direction::Outgoing => Dir::Out,
                        Direction::Incoming => Dir::In,
                        Direction::Both => Dir::Both,
                    },
                    types: rp.types.iter().map(|t| t.name.clone()).collect(),
                    props: self.prop_map(rp.properties.as_ref(), scope)?,
                    length,
                });
            }
            out.push(BoundPart {
                path,
                kind,
                nodes,
                rels,
            });
        }
        Ok(out)
    }

    fn declare_node(
        &mut self,
        n: &ast::NodePattern,
        scope: &mut Scope,
        allow_new: bool,
    ) -> Result<crate::plan::Var> {
        match &n.variable {
            Some(v) => match scope.get(&v.name) {
                Some(var) => {
                    if !matches!(var.kind, Kind::Node | Kind::Value) {
                        return Err(self.err.at(
                            ErrorCode::VariableTypeConflict,
                            v.span,
                            format!(
                                "Type mismatch: `{}` defined with conflicting type {} (expected Node)",
                                v.name,
                                var.kind.describe()
                            ),
                        ));
                    }
                    Ok(var.var)
                }
                None => {
                    if !allow_new {
                        return Err(self.err.at(
                            ErrorCode::UndefinedVariable,
                            v.span,
                            format!(
                                "Variable `{}` not defined (patterns used as expressions cannot introduce variables)",
                                v.name
                            ),
                        ));
                    }
                    let var = self.named_var(&v.name, Kind::Node);
                    scope.add(&v.name, var, Kind::Node);
                    Ok(var)
                }
            },
            None => Ok(self.hidden_var("node", VarKind::Node)),
        }
    }

    fn declare_rel(
        &mut self,
        r: &ast::RelPattern,
        scope: &mut Scope,
        allow_new: bool,
        declared: &mut BTreeSet<String>,
        before: &BTreeSet<crate::plan::Var>,
    ) -> Result<crate::plan::Var> {
        let want = if r.length.is_some() {
            Kind::RelationshipList
        } else {
            Kind::Relationship
        };
        let Some(v) = &r.variable else {
            return Ok(self.hidden_var("rel", want.var_kind()));
        };
        if let Some(var) = scope.get(&v.name) {
            let list_ok =
                want == Kind::RelationshipList && var.kind == Kind::Typed(StaticKind::List);
            let conflict = || {
                self.err.at(
                    ErrorCode::VariableTypeConflict,
                    v.span,
                    format!(
                        "Type mismatch: `{}` defined with conflicting type {} (expected {})",
                        v.name,
                        var.kind.describe(),
                        want.describe()
                    ),
                )
            };
            if !list_ok
                && !matches!(
                    var.kind,
                    Kind::Relationship | Kind::RelationshipList | Kind::Value
                )
            {
                return Err(conflict());
            }
            if !before.contains(&var.var) || declared.contains(&v.name) {
                return Err(self.err.at(
                    ErrorCode::RelationshipUniquenessViolation,
                    v.span,
                    format!(
                        "Cannot use the same relationship variable '{}' for multiple relationships",
                        v.name
                    ),
                ));
            }
            if !(var.kind == want || var.kind == Kind::Value || list_ok) {
                return Err(conflict());
            }
            declared.insert(v.name.clone());
            return Ok(var.var);
        }
        if !allow_new {
            return Err(self.err.at(
                ErrorCode::UndefinedVariable,
                v.span,
                format!(
                    "Variable `{}` not defined (patterns used as expressions cannot introduce variables)",
                    v.name
                ),
            ));
        }
        let var = self.named_var(&v.name, want);
        scope.add(&v.name, var, want);
        declared.insert(v.name.clone());
        Ok(var)
    }

    /// A pattern property map: a map literal (a parameter is not allowed in MATCH).
    pub fn prop_map(
        &mut self,
        props: Option<&ast::Expr>,
        scope: &Scope,
    ) -> Result<Vec<(String, Expr)>> {
        let Some(p) = props else {
            return Ok(Vec::new());
        };
        match &p.kind {
            ExprKind::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    out.push((k.name.clone(), self.expr(v, scope)?));
                }
                Ok(out)
            }
            ExprKind::Parameter(_) => Err(self.err.at(
                ErrorCode::InvalidParameterUse,
                p.span,
                "Parameter maps cannot be used in MATCH patterns (use a literal map, e.g. {id: $param})",
            )),
            _ => Err(self.err.at(
                ErrorCode::UnexpectedSyntax,
                p.span,
                "Expected a map of properties",
            )),
        }
    }
}
