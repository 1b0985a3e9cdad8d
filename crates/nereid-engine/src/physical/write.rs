//! Building the operators that write: CREATE, MERGE, SET/REMOVE and DELETE.

use super::*;

impl Builder<'_> {
    pub(super) fn build_write(
        &self,
        op: &Op,
        child_need: &BTreeSet<Var>,
        defines: Vec<Var>,
        arg: &ArgCtx,
    ) -> Result<Built> {
        match op {
            Op::Create { input, parts } => {
                let mut n = child_need.clone();
                for p in parts {
                    n.extend(part_refs(p));
                }
                let n = minus(&n, &defines);
                let (input, s) = self.build(input, &n, arg)?;
                let mut work = s.clone();
                for v in &defines {
                    work.push(*v);
                }
                let mut cparts = Vec::with_capacity(parts.len());
                for p in parts {
                    cparts.push(self.create_part(p, &work)?);
                }
                Ok((
                    Box::new(EagerWrite::new(
                        input,
                        Action::Create(cparts),
                        defines.len(),
                    )),
                    work,
                ))
            }
            Op::Merge {
                input,
                pattern,
                create,
                on_create,
                on_match,
            } => {
                let mut n = child_need.clone();
                n.extend(part_refs(create));
                n.extend(uses_anywhere(pattern));
                let n = minus(&n, &defines);
                let (input, s) = self.build(input, &n, arg)?;
                let mut work = s.clone();
                for v in &defines {
                    work.push(*v);
                }
                let pat_arg = ArgCtx {
                    cell: Rc::new(RefCell::new(Vec::new())),
                    schema: s.clone(),
                };
                let pat_need: BTreeSet<Var> = defines.iter().copied().collect();
                let (pat_op, s_pat) = self.build(pattern, &pat_need, &pat_arg)?;
                let merge = CMerge {
                    pattern: pat_op,
                    cell: pat_arg.cell,
                    pattern_cols: defines.iter().map(|v| s_pat.col(*v)).collect(),
                    create: self.create_part(create, &work)?,
                    on_create: self.set_items(on_create, &work)?,
                    on_match: self.set_items(on_match, &work)?,
                };
                Ok((
                    Box::new(EagerWrite::new(
                        input,
                        Action::Merge(Box::new(merge)),
                        defines.len(),
                    )),
                    work,
                ))
            }
            Op::Set { input, items } => {
                let (input, s) = self.build(input, child_need, arg)?;
                let items = self.set_items(items, &s)?;
                Ok((Box::new(EagerWrite::new(input, Action::Set(items), 0)), s))
            }
            Op::Delete {
                input,
                exprs,
                detach,
            } => {
                let (input, s) = self.build(input, child_need, arg)?;
                let mut ce = Vec::with_capacity(exprs.len());
                for e in exprs {
                    ce.push(self.expr(e, &s)?);
                }
                Ok((
                    Box::new(EagerWrite::new(
                        input,
                        Action::Delete {
                            exprs: ce,
                            detach: *detach,
                        },
                        0,
                    )),
                    s,
                ))
            }
            _ => Err(Error::internal(format!(
                "build_write: not a write operator: {}",
                op.name()
            ))),
        }
    }

    fn props(&self, p: &PropSource, s: &Schema) -> Result<CProps> {
        Ok(match p {
            PropSource::None => CProps::None,
            PropSource::Entries(entries) => CProps::Entries(
                entries
                    .iter()
                    .map(|(k, e)| Ok((k.clone(), self.expr(e, s)?)))
                    .collect::<Result<_>>()?,
            ),
            PropSource::Map(e) => CProps::Map(self.expr(e, s)?),
        })
    }

    fn create_part(&self, p: &CreatePart, work: &Schema) -> Result<CCreatePart> {
        let mut nodes = Vec::with_capacity(p.nodes.len());
        for n in &p.nodes {
            nodes.push(CCreateNode {
                slot: self.col(work, n.var)?,
                existing: n.existing,
                labels: n.labels.clone(),
                props: self.props(&n.props, work)?,
            });
        }
        let mut rels = Vec::with_capacity(p.rels.len());
        for r in &p.rels {
            rels.push(CCreateRel {
                slot: self.col(work, r.var)?,
                start: self.col(work, r.start)?,
                end: self.col(work, r.end)?,
                rel_type: r.rel_type.clone(),
                props: self.props(&r.props, work)?,
            });
        }
        let path = match &p.path {
            Some((v, start, hops)) => Some(CPath {
                slot: self.col(work, *v)?,
                start: self.col(work, *start)?,
                hops: hops
                    .iter()
                    .map(|h| {
                        Ok((
                            self.col(work, h.rel)?,
                            self.col(work, h.node)?,
                            h.var_length,
                        ))
                    })
                    .collect::<Result<_>>()?,
            }),
            None => None,
        };
        Ok(CCreatePart { nodes, rels, path })
    }

    fn set_items(&self, items: &[SetItem], s: &Schema) -> Result<Vec<CSetItem>> {
        items
            .iter()
            .map(|i| {
                Ok(match i {
                    SetItem::Property { target, key, value } => CSetItem::Property {
                        target: self.expr(target, s)?,
                        key: key.clone(),
                        value: self.expr(value, s)?,
                    },
                    SetItem::Replace { target, value } => CSetItem::Replace {
                        target: self.expr(target, s)?,
                        value: self.expr(value, s)?,
                    },
                    SetItem::MergeMap { target, value } => CSetItem::MergeMap {
                        target: self.expr(target, s)?,
                        value: self.expr(value, s)?,
                    },
                    SetItem::AddLabels { target, labels } => CSetItem::AddLabels {
                        target: self.expr(target, s)?,
                        labels: labels.clone(),
                    },
                    SetItem::RemoveLabels { target, labels } => CSetItem::RemoveLabels {
                        target: self.expr(target, s)?,
                        labels: labels.clone(),
                    },
                    SetItem::RemoveProperty { target, key } => CSetItem::RemoveProperty {
                        target: self.expr(target, s)?,
                        key: key.clone(),
                    },
                })
            })
            .collect()
    }
}

/// Variables a pattern to create refers to (bound before, or bound by it).
fn part_refs(p: &CreatePart) -> BTreeSet<Var> {
    let mut out: BTreeSet<Var> = p
        .nodes
        .iter()
        .map(|n| n.var)
        .chain(p.rels.iter().flat_map(|r| [r.start, r.end]))
        .collect();
    for e in p
        .nodes
        .iter()
        .flat_map(|n| n.props.exprs())
        .chain(p.rels.iter().flat_map(|r| r.props.exprs()))
    {
        e.collect_free_vars(&mut out);
    }
    out
}
