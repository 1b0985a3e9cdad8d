//! Updating clauses: CREATE, MERGE, SET, REMOVE, DELETE — what they create or change, and
//! the compile-time rules about which variables they may bind or reuse.

use std::collections::BTreeSet;

use nereid_common::{ErrorCode, Result};
use nereid_cypher::ast::{self, Direction, ExprKind};
use nereid_storage::Dir;

use super::scope::{Kind, Scope};
use super::types::{static_kind, StaticKind};
use super::{Binder, BoundMerge, BoundPart};
use crate::plan::{CreateNode, CreatePart, CreateRel, Expr, PathHop, PropSource, SetItem, VarKind};

impl Binder<'_> {
    pub(super) fn create(&mut self, c: &ast::Create, scope: &mut Scope) -> Result<Vec<CreatePart>> {
        let mut parts = Vec::with_capacity(c.pattern.parts.len());
        for part in &c.pattern.parts {
            parts.push(self.create_part(part, scope, false)?);
        }
        Ok(parts)
    }

    /// Binds the creation of one part; adds its new variables to `scope`.
    fn create_part(
        &mut self,
        part: &ast::PatternPart,
        scope: &mut Scope,
        merge: bool,
    ) -> Result<CreatePart> {
        if part.kind != ast::PathKind::Normal {
            return Err(self.err.at(
                ErrorCode::UnexpectedSyntax,
                part.span,
                "shortestPath(...) cannot be used in CREATE or MERGE",
            ));
        }
        let el = &part.element;
        let mut nodes = Vec::new();
        for np in std::iter::once(&el.start).chain(el.chain.iter().map(|(_, n)| n)) {
            nodes.push(self.create_node(np, scope, merge, el.chain.is_empty())?);
        }
        let mut rels = Vec::new();
        for (i, (rp, _)) in el.chain.iter().enumerate() {
            if let Some(v) = &rp.variable {
                if scope.contains(&v.name) {
                    return Err(self.err.at(
                        ErrorCode::VariableAlreadyBound,
                        v.span,
                        format!("Variable `{}` already declared", v.name),
                    ));
                }
            }
            if rp.length.is_some() {
                return Err(self.err.at(
                    ErrorCode::CreatingVarLength,
                    rp.span,
                    "Variable length relationships cannot be used in CREATE or MERGE",
                ));
            }
            if rp.types.len() != 1 {
                return Err(self.err.at(
                    ErrorCode::NoSingleRelationshipType,
                    rp.span,
                    "A single relationship type must be specified for CREATE and MERGE",
                ));
            }
            if rp.direction == Direction::Both && !merge {
                return Err(self.err.at(
                    ErrorCode::RequiresDirectedRelationship,
                    rp.span,
                    "Only directed relationships are supported in CREATE",
                ));
            }
            if let Some(props) = &rp.properties {
                if merge && matches!(props.kind, ExprKind::Parameter(_)) {
                    return Err(self.err.at(
                        ErrorCode::InvalidParameterUse,
                        props.span,
                        "Parameter maps cannot be used in MERGE patterns (use a literal map, e.g. {id: $param})",
                    ));
                }
            }
            let var = match &rp.variable {
                Some(v) => {
                    let var = self.named_var(&v.name, Kind::Relationship);
                    scope.add(&v.name, var, Kind::Relationship);
                    var
                }
                None => self.hidden_var("rel", VarKind::Relationship),
            };
            let props = self.prop_source(rp.properties.as_ref(), scope)?;
            let (start, end) = match rp.direction {
                Direction::Incoming => (nodes[i + 1].var, nodes[i].var),
                _ => (nodes[i].var, nodes[i + 1].var),
            };
            rels.push(CreateRel {
                var,
                start,
                end,
                rel_type: rp.types[0].name.clone(),
                props,
            });
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
                Some((var, nodes[0].var, hops(&nodes, &rels)))
            }
            None => None,
        };
        Ok(CreatePart { nodes, rels, path })
    }

    fn create_node(
        &mut self,
        np: &ast::NodePattern,
        scope: &mut Scope,
        merge: bool,
        alone: bool,
    ) -> Result<CreateNode> {
        if let Some(props) = &np.properties {
            if merge && matches!(props.kind, ExprKind::Parameter(_)) {
                return Err(self.err.at(
                    ErrorCode::InvalidParameterUse,
                    props.span,
                    "Parameter maps cannot be used in MERGE patterns (use a literal map, e.g. {id: $param})",
                ));
            }
        }
        let labels: Vec<String> = np.labels.iter().map(|l| l.name.clone()).collect();
        if let Some(v) = &np.variable {
            if let Some(existing) = scope.get(&v.name) {
                let (var, kind) = (existing.var, existing.kind);
                if !matches!(kind, Kind::Node | Kind::Value) {
                    return Err(self.err.at(
                        ErrorCode::VariableTypeConflict,
                        v.span,
                        format!(
                            "Type mismatch: `{}` defined with conflicting type {} (expected Node)",
                            v.name,
                            kind.describe()
                        ),
                    ));
                }
                // A bound node may be referenced, but not re-declared with labels or
                // properties, nor created alone again.
                if !np.labels.is_empty() || np.properties.is_some() || alone {
                    return Err(self.err.at(
                        ErrorCode::VariableAlreadyBound,
                        v.span,
                        format!("Variable `{}` already declared", v.name),
                    ));
                }
                return Ok(CreateNode {
                    var,
                    existing: true,
                    labels: Vec::new(),
                    props: PropSource::None,
                });
            }
            let props = self.prop_source(np.properties.as_ref(), scope)?;
            let var = self.named_var(&v.name, Kind::Node);
            scope.add(&v.name, var, Kind::Node);
            return Ok(CreateNode {
                var,
                existing: false,
                labels,
                props,
            });
        }
        let props = self.prop_source(np.properties.as_ref(), scope)?;
        Ok(CreateNode {
            var: self.hidden_var("node", VarKind::Node),
            existing: false,
            labels,
            props,
        })
    }

    fn prop_source(&mut self, props: Option<&ast::Expr>, scope: &Scope) -> Result<PropSource> {
        let Some(p) = props else {
            return Ok(PropSource::None);
        };
        match &p.kind {
            ExprKind::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    out.push((k.name.clone(), self.expr(v, scope)?));
                }
                Ok(PropSource::Entries(out))
            }
            _ => Ok(PropSource::Map(self.expr(p, scope)?)),
        }
    }

    pub(super) fn merge(&mut self, m: &ast::Merge, scope: &mut Scope) -> Result<BoundMerge> {
        // The creation rules first, against a copy of the scope, so their errors win.
        let mut probe = scope.clone();
        self.create_part(&m.pattern, &mut probe, true)?;
        let before: BTreeSet<_> = scope.vars().collect();
        let mut parts = self.pattern(std::slice::from_ref(&m.pattern), scope, true)?;
        let part: BoundPart = parts.remove(0);
        // What to create when nothing matches: the same variables.
        let mut nodes = Vec::with_capacity(part.nodes.len());
        let mut seen = before.clone();
        for n in &part.nodes {
            let existing = !seen.insert(n.var);
            nodes.push(CreateNode {
                var: n.var,
                existing,
                labels: if existing {
                    Vec::new()
                } else {
                    n.labels.clone()
                },
                props: if existing || n.props.is_empty() {
                    PropSource::None
                } else {
                    PropSource::Entries(n.props.clone())
                },
            });
        }
        let mut rels = Vec::with_capacity(part.rels.len());
        for (i, r) in part.rels.iter().enumerate() {
            let (a, b) = (part.nodes[i].var, part.nodes[i + 1].var);
            let (start, end) = if r.dir == Dir::In { (b, a) } else { (a, b) };
            rels.push(CreateRel {
                var: r.var,
                start,
                end,
                rel_type: r.types.first().cloned().unwrap_or_default(),
                props: if r.props.is_empty() {
                    PropSource::None
                } else {
                    PropSource::Entries(r.props.clone())
                },
            });
        }
        let path = part.path.map(|p| (p, nodes[0].var, hops(&nodes, &rels)));
        let create = CreatePart { nodes, rels, path };
        let mut on_create = Vec::new();
        let mut on_match = Vec::new();
        for a in &m.actions {
            let items = self.set_items(&a.items, scope)?;
            if a.on_create {
                on_create.extend(items);
            } else {
                on_match.extend(items);
            }
        }
        Ok(BoundMerge {
            part,
            create,
            on_create,
            on_match,
        })
    }

    fn var_target(&self, v: &ast::Ident, scope: &Scope) -> Result<Expr> {
        match scope.get(&v.name) {
            Some(var) => Ok(Expr::Var(var.var)),
            None => Err(self.err.at(
                ErrorCode::UndefinedVariable,
                v.span,
                format!("Variable `{}` not defined", v.name),
            )),
        }
    }

    pub(super) fn set_items(
        &mut self,
        items: &[ast::SetItem],
        scope: &Scope,
    ) -> Result<Vec<SetItem>> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(match item {
                ast::SetItem::Property {
                    target,
                    value,
                    span,
                } => {
                    let ExprKind::Property(base, key) = &target.kind else {
                        return Err(self.err.at(
                            ErrorCode::UnexpectedSyntax,
                            *span,
                            "Expected a property to SET",
                        ));
                    };
                    SetItem::Property {
                        target: self.expr(base, scope)?,
                        key: key.name.clone(),
                        value: self.expr(value, scope)?,
                    }
                }
                ast::SetItem::Variable {
                    variable,
                    value,
                    merge,
                    ..
                } => {
                    let target = self.var_target(variable, scope)?;
                    let value = self.expr(value, scope)?;
                    if *merge {
                        SetItem::MergeMap { target, value }
                    } else {
                        SetItem::Replace { target, value }
                    }
                }
                ast::SetItem::Labels {
                    variable, labels, ..
                } => SetItem::AddLabels {
                    target: self.var_target(variable, scope)?,
                    labels: labels.iter().map(|l| l.name.clone()).collect(),
                },
            });
        }
        Ok(out)
    }

    pub(super) fn remove_items(
        &mut self,
        items: &[ast::RemoveItem],
        scope: &Scope,
    ) -> Result<Vec<SetItem>> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(match item {
                ast::RemoveItem::Labels {
                    variable, labels, ..
                } => SetItem::RemoveLabels {
                    target: self.var_target(variable, scope)?,
                    labels: labels.iter().map(|l| l.name.clone()).collect(),
                },
                ast::RemoveItem::Property { target, span } => {
                    let ExprKind::Property(base, key) = &target.kind else {
                        return Err(self.err.at(
                            ErrorCode::UnexpectedSyntax,
                            *span,
                            "Expected a property to REMOVE",
                        ));
                    };
                    SetItem::RemoveProperty {
                        target: self.expr(base, scope)?,
                        key: key.name.clone(),
                    }
                }
            });
        }
        Ok(out)
    }

    pub(super) fn delete(&mut self, d: &ast::Delete, scope: &Scope) -> Result<Vec<Expr>> {
        let mut exprs = Vec::with_capacity(d.exprs.len());
        for e in &d.exprs {
            if let ExprKind::HasLabels(..) = e.kind {
                return Err(self.err.at(
                    ErrorCode::InvalidDelete,
                    e.span,
                    "DELETE expects a node, relationship or path, not a label expression (use REMOVE)",
                ));
            }
            if matches!(
                static_kind(e, scope),
                StaticKind::Bool
                    | StaticKind::Int
                    | StaticKind::Float
                    | StaticKind::String
                    | StaticKind::Map
            ) {
                return Err(self.type_error(e.span, "DELETE expects a node, relationship or path"));
            }
            exprs.push(self.expr(e, scope)?);
        }
        Ok(exprs)
    }
}

/// The hops of a path over created nodes and relationships, in written order.
fn hops(nodes: &[CreateNode], rels: &[CreateRel]) -> Vec<PathHop> {
    rels.iter()
        .zip(&nodes[1..])
        .map(|(r, n)| PathHop {
            rel: r.var,
            node: n.var,
            var_length: false,
        })
        .collect()
}
