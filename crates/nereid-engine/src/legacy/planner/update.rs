//! Updating clauses: CREATE, MERGE, SET, REMOVE, DELETE — their plans and the compile-time
//! rules about which variables they may bind or reuse.

use std::collections::HashSet;

use nereid_common::{ErrorCode, Result};
use nereid_cypher::ast::{self, Direction, ExprKind};

use super::scope::{Kind, Scope};
use super::{Op, Planner};
use crate::legacy::expr::Expr;
use crate::legacy::pattern::{PathSpec, PatternPlan};

/// Where the properties of a created element come from.
#[derive(Debug, Clone)]
pub enum PropSource {
    None,
    /// A map literal: entries evaluated one by one.
    Entries(Vec<(String, Expr)>),
    /// A parameter holding a map.
    Map(Expr),
}

#[derive(Debug, Clone)]
pub struct CreateNode {
    pub slot: usize,
    /// Bound before (or earlier in the same clause): reuse, do not create.
    pub existing: bool,
    pub labels: Vec<String>,
    pub props: PropSource,
}

#[derive(Debug, Clone)]
pub struct CreateRel {
    pub slot: usize,
    pub start: usize,
    pub end: usize,
    pub rel_type: String,
    pub props: PropSource,
}

/// One pattern part to create, in order: nodes first, then relationships, then the path.
#[derive(Debug, Clone)]
pub struct CreatePart {
    pub nodes: Vec<CreateNode>,
    pub rels: Vec<CreateRel>,
    pub path: Option<PathSpec>,
}

#[derive(Debug, Clone)]
pub struct MergePlan {
    /// Finds existing matches.
    pub pattern: PatternPlan,
    /// Creates the pattern when there is none.
    pub create: CreatePart,
    pub on_create: Vec<SetOp>,
    pub on_match: Vec<SetOp>,
}

#[derive(Debug, Clone)]
pub enum SetOp {
    Property {
        target: Expr,
        key: String,
        value: Expr,
    },
    /// `n = map`
    Replace {
        target: Expr,
        value: Expr,
    },
    /// `n += map`
    Merge {
        target: Expr,
        value: Expr,
    },
    AddLabels {
        target: Expr,
        labels: Vec<String>,
    },
    RemoveLabels {
        target: Expr,
        labels: Vec<String>,
    },
    RemoveProperty {
        target: Expr,
        key: String,
    },
}

impl Planner<'_> {
    pub(super) fn create(&mut self, input: Op, c: &ast::Create, scope: &mut Scope) -> Result<Op> {
        let mut parts = Vec::with_capacity(c.pattern.parts.len());
        let mut created: HashSet<String> = HashSet::new();
        for part in &c.pattern.parts {
            parts.push(self.create_part(part, scope, &mut created, false)?);
        }
        Ok(Op::Create {
            input: Box::new(input),
            parts,
        })
    }

    /// Plans the creation of one part; adds its new variables to `scope`.
    fn create_part(
        &mut self,
        part: &ast::PatternPart,
        scope: &mut Scope,
        created: &mut HashSet<String>,
        merge: bool,
    ) -> Result<CreatePart> {
        let el = &part.element;
        let mut nodes = Vec::new();
        let mut node_slots = Vec::new();
        for np in std::iter::once(&el.start).chain(el.chain.iter().map(|(_, n)| n)) {
            let node = self.create_node(np, scope, created, merge, el.chain.is_empty())?;
            node_slots.push(node.slot);
            nodes.push(node);
        }
        let mut rels = Vec::new();
        let mut rel_slots = Vec::new();
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
            let slot = match &rp.variable {
                Some(v) => {
                    let slot = self.slots.alloc();
                    scope.add(&v.name, slot, Kind::Relationship);
                    created.insert(v.name.clone());
                    slot
                }
                None => self.slots.alloc(),
            };
            let props = self.prop_source(rp.properties.as_ref(), scope)?;
            let (start, end) = match rp.direction {
                Direction::Incoming => (node_slots[i + 1], node_slots[i]),
                _ => (node_slots[i], node_slots[i + 1]),
            };
            rel_slots.push(slot);
            rels.push(CreateRel {
                slot,
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
                let slot = self.slots.alloc();
                scope.add(&p.name, slot, Kind::Path);
                Some(PathSpec {
                    slot,
                    start: node_slots[0],
                    hops: rel_slots
                        .iter()
                        .zip(&node_slots[1..])
                        .map(|(r, n)| (*r, *n, false))
                        .collect(),
                })
            }
            None => None,
        };
        Ok(CreatePart { nodes, rels, path })
    }

    fn create_node(
        &mut self,
        np: &ast::NodePattern,
        scope: &mut Scope,
        created: &mut HashSet<String>,
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
        if let Some(v) = &np.variable {
            if let Some(var) = scope.get(&v.name) {
                let (slot, kind) = (var.slot, var.kind);
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
                    slot,
                    existing: true,
                    labels: Vec::new(),
                    props: PropSource::None,
                });
            }
            let slot = self.slots.alloc();
            let props = self.prop_source(np.properties.as_ref(), scope)?;
            scope.add(&v.name, slot, Kind::Node);
            created.insert(v.name.clone());
            return Ok(CreateNode {
                slot,
                existing: false,
                labels: np.labels.iter().map(|l| l.name.clone()).collect(),
                props,
            });
        }
        let slot = self.slots.alloc();
        Ok(CreateNode {
            slot,
            existing: false,
            labels: np.labels.iter().map(|l| l.name.clone()).collect(),
            props: self.prop_source(np.properties.as_ref(), scope)?,
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

    pub(super) fn merge(&mut self, input: Op, m: &ast::Merge, scope: &mut Scope) -> Result<Op> {
        // Compile-time checks and the create part, against a copy of the scope.
        let mut create_scope = scope.clone();
        let mut created = HashSet::new();
        let create_probe = self.create_part(&m.pattern, &mut create_scope, &mut created, true)?;
        // The lookup binds the same variables; build it, then align the create part's slots
        // to the lookup's slots so both paths fill the same row positions.
        let before: HashSet<usize> = scope.vars.iter().map(|v| v.slot).collect();
        let (pattern, slots) =
            self.pattern_full(std::slice::from_ref(&m.pattern), scope, None, true)?;
        let part_slots = &slots[0];
        let mut create = create_probe;
        for (node, slot) in create.nodes.iter_mut().zip(&part_slots.nodes) {
            node.slot = *slot;
            node.existing = before.contains(slot);
        }
        for (i, rel) in create.rels.iter_mut().enumerate() {
            rel.slot = part_slots.rels[i];
            let (a, b) = (part_slots.nodes[i], part_slots.nodes[i + 1]);
            let incoming = m.pattern.element.chain[i].0.direction == Direction::Incoming;
            (rel.start, rel.end) = if incoming { (b, a) } else { (a, b) };
        }
        if let (Some(path), Some(slot)) = (create.path.as_mut(), part_slots.path) {
            path.slot = slot;
            path.start = part_slots.nodes[0];
            path.hops = part_slots
                .rels
                .iter()
                .zip(&part_slots.nodes[1..])
                .map(|(r, n)| (*r, *n, false))
                .collect();
        }
        // Re-evaluating property expressions in the lookup scope: recompile them there.
        let el = &m.pattern.element;
        for (node, np) in create
            .nodes
            .iter_mut()
            .zip(std::iter::once(&el.start).chain(el.chain.iter().map(|(_, n)| n)))
        {
            if !node.existing {
                node.props = self.prop_source(np.properties.as_ref(), scope)?;
            }
        }
        for (rel, (rp, _)) in create.rels.iter_mut().zip(&el.chain) {
            rel.props = self.prop_source(rp.properties.as_ref(), scope)?;
        }
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
        Ok(Op::Merge {
            input: Box::new(input),
            merge: Box::new(MergePlan {
                pattern,
                create,
                on_create,
                on_match,
            }),
        })
    }

    fn var_target(&self, v: &ast::Ident, scope: &Scope) -> Result<Expr> {
        match scope.get(&v.name) {
            Some(var) => Ok(Expr::Slot(var.slot)),
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
    ) -> Result<Vec<SetOp>> {
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
                    SetOp::Property {
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
                        SetOp::Merge { target, value }
                    } else {
                        SetOp::Replace { target, value }
                    }
                }
                ast::SetItem::Labels {
                    variable, labels, ..
                } => SetOp::AddLabels {
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
    ) -> Result<Vec<SetOp>> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(match item {
                ast::RemoveItem::Labels {
                    variable, labels, ..
                } => SetOp::RemoveLabels {
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
                    SetOp::RemoveProperty {
                        target: self.expr(base, scope)?,
                        key: key.name.clone(),
                    }
                }
            });
        }
        Ok(out)
    }

    pub(super) fn delete(&mut self, input: Op, d: &ast::Delete, scope: &Scope) -> Result<Op> {
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
                super::expr::static_kind(e, scope),
                super::expr::StaticKind::Bool
                    | super::expr::StaticKind::Int
                    | super::expr::StaticKind::Float
                    | super::expr::StaticKind::String
                    | super::expr::StaticKind::Map
            ) {
                return Err(self.type_error(e.span, "DELETE expects a node, relationship or path"));
            }
            exprs.push(self.expr(e, scope)?);
        }
        Ok(Op::Delete {
            input: Box::new(input),
            exprs,
            detach: d.detach,
        })
    }
}
