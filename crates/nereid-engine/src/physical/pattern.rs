//! Building the operators that match patterns: scans, seeks, expansions (single-hop,
//! variable-length, shortest paths) and multiway intersections.

use super::*;

impl Builder<'_> {
    pub(super) fn build_pattern(
        &self,
        op: &Op,
        need: &BTreeSet<Var>,
        child_need: &BTreeSet<Var>,
        defines: Vec<Var>,
        arg: &ArgCtx,
    ) -> Result<Built> {
        match op {
            Op::NodeScan {
                input: op_input,
                var,
                labels: names,
                ..
            } => {
                let (input, s) = self.input(op_input, child_need, arg)?;
                let (keep, mut out) = s.keep(&minus(need, &[*var]));
                let emit = need.contains(var);
                if emit {
                    out.push(*var);
                }
                let source = NodePages {
                    labels: labels(names),
                    emit,
                };
                let morsels = self.take_morsels(op_input);
                let scan = ScanOp::new(input, source, keep).with_morsels(morsels);
                Ok((Box::new(scan), out))
            }
            Op::RelScan {
                input: op_input,
                rel,
                start,
                end,
                rel_type,
                start_labels,
                end_labels,
            } => {
                let morsels = self.take_morsels(op_input);
                let (input, s) = self.input(op_input, child_need, arg)?;
                let (keep, mut out) = s.keep(&minus(need, &[*start, *rel, *end]));
                let emit = [*start, *rel, *end].map(|v| need.contains(&v));
                for (v, on) in [*start, *rel, *end].iter().zip(emit) {
                    if on {
                        out.push(*v);
                    }
                }
                Ok((
                    Box::new(
                        RelScanOp::new(
                            input,
                            RelPages {
                                rel_type: RelType::new(rel_type),
                                start_labels: labels(start_labels),
                                end_labels: labels(end_labels),
                                emit,
                            },
                            keep,
                        )
                        .with_morsels(morsels),
                    ),
                    out,
                ))
            }
            Op::NodeSeek {
                input,
                var,
                labels: names,
                key,
                seek,
            } => {
                let (input, s) = self.input(input, child_need, arg)?;
                let seek = self.seek(seek, &s)?;
                let (keep, mut out) = s.keep(&minus(need, &[*var]));
                let emit = need.contains(var);
                if emit {
                    out.push(*var);
                }
                Ok((
                    Box::new(SeekRun::op(input, labels(names), key, seek, keep, emit)),
                    out,
                ))
            }
            Op::Expand {
                input,
                from,
                rel,
                to,
                dir,
                types,
                to_labels,
                into,
                unique,
            } => {
                let (input, s) = self.input(input, child_need, arg)?;
                let from = self.col(&s, *from)?;
                let into_col = if *into {
                    Some(self.col(&s, *to)?)
                } else {
                    None
                };
                let unique = self.cols(&s, unique)?;
                let (keep, mut out) = s.keep(&minus(need, &defines));
                let emit_rel = need.contains(rel);
                let emit_to = !*into && need.contains(to);
                if emit_rel {
                    out.push(*rel);
                }
                if emit_to {
                    out.push(*to);
                }
                Ok((
                    Box::new(ExpandOp::new(
                        input,
                        ExpandRun {
                            from,
                            dir: *dir,
                            types: rel_types(types),
                            to_labels: labels(to_labels),
                            into: into_col,
                            unique,
                            keep,
                            emit_rel,
                            emit_to,
                            buf: Vec::new(),
                            pos: 0,
                            type_buf: Vec::new(),
                            hold: None,
                            check_to: None,
                            batch_nodes: Vec::new(),
                        },
                    )),
                    out,
                ))
            }
            Op::VarExpand {
                input,
                from,
                rel,
                to,
                dir,
                types,
                to_labels,
                min,
                max,
                into,
                unique,
                rel_props,
                reversed,
            } => {
                let (input, s) = self.input(input, child_need, arg)?;
                let from = self.col(&s, *from)?;
                let into_col = if *into {
                    Some(self.col(&s, *to)?)
                } else {
                    None
                };
                let unique = self.cols(&s, unique)?;
                let props = self.rel_props(rel_props, &s)?;
                let (keep, mut out) = s.keep(&minus(need, &defines));
                let emit_rel = need.contains(rel);
                let emit_to = !*into && need.contains(to);
                if emit_rel {
                    out.push(*rel);
                }
                if emit_to {
                    out.push(*to);
                }
                Ok((
                    Box::new(VarExpandOp::new(
                        input,
                        from,
                        *dir,
                        rel_types(types),
                        labels(to_labels),
                        *min,
                        *max,
                        into_col,
                        unique,
                        props,
                        *reversed,
                        keep,
                        emit_rel,
                        emit_to,
                    )),
                    out,
                ))
            }
            Op::ShortestPath {
                input,
                from,
                rel,
                to,
                dir,
                types,
                min,
                max,
                all,
                rel_props,
            } => {
                let (input, s) = self.input(input, child_need, arg)?;
                let from = self.col(&s, *from)?;
                let to = self.col(&s, *to)?;
                let props = self.rel_props(rel_props, &s)?;
                let (keep, mut out) = s.keep(&minus(need, &defines));
                let emit_rel = need.contains(rel);
                if emit_rel {
                    out.push(*rel);
                }
                Ok((
                    Box::new(ShortestPathRun::op(
                        input,
                        from,
                        to,
                        *dir,
                        rel_types(types),
                        *min,
                        *max,
                        *all,
                        props,
                        keep,
                        emit_rel,
                    )),
                    out,
                ))
            }
            Op::Intersect {
                input,
                to,
                to_labels,
                legs,
                unique,
            } => {
                let (input, s) = self.input(input, child_need, arg)?;
                let mut cl = Vec::with_capacity(legs.len());
                for l in legs {
                    cl.push(CLeg {
                        from: self.col(&s, l.from)?,
                        dir: l.dir,
                        types: rel_types(&l.types),
                        emit_rel: need.contains(&l.rel),
                    });
                }
                let unique = self.cols(&s, unique)?;
                let (keep, mut out) = s.keep(&minus(need, &defines));
                let emit_to = need.contains(to);
                if emit_to {
                    out.push(*to);
                }
                for l in legs {
                    if need.contains(&l.rel) {
                        out.push(l.rel);
                    }
                }
                Ok((
                    Box::new(IntersectOp::new(
                        input,
                        IntersectRun {
                            legs: cl,
                            to_labels: labels(to_labels),
                            unique,
                            keep,
                            emit_to,
                            lists: Vec::new(),
                            listed: Vec::new(),
                            pending: Vec::new(),
                            pos: 0,
                            type_buf: Vec::new(),
                            raw: Vec::new(),
                        },
                    )),
                    out,
                ))
            }
            _ => Err(Error::internal(format!(
                "build_pattern: not a pattern operator: {}",
                op.name()
            ))),
        }
    }
}
