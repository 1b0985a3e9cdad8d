//! The physical planner: a logical plan becomes a tree of operators with row layouts.
//!
//! Layouts are chosen by liveness, top-down: each operator is asked for the variables its
//! parent needs, asks its input for those plus what it reads itself, and keeps in its
//! output rows only the columns still needed above (projection pushdown at the physical
//! level: a scan's node that nothing above reads is never copied along). A projection
//! item that renames a variable (`WITH a AS b`) shares the column instead of copying it.
//!
//! Expressions are compiled against the layout of the rows they read ([`expr`]);
//! parameters become slots read from the run's values, so a tree does not depend on them
//! and a cached plan's tree serves its next run; subqueries are built here as nested
//! operator trees. The operators that match patterns are built in [`pattern`], those that
//! write in [`write`].

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::Arc;

use hashbrown::HashMap;

use nereid_common::{Error, ErrorCode, Result};

use crate::exec::aggregate::{AggregateOp, CAgg, KeyMemo, ParallelPlan};
use crate::exec::apply::{ApplyOp, OptionalOp};
use crate::exec::expand::{
    CLeg, DegreeRun, ExpandOp, ExpandRun, IntersectOp, IntersectRun, RelType,
};
use crate::exec::expr::{
    CExpr, CMapItem, DegreeRead, Frame, Key, Label, SubqueryEval, SubqueryOutput,
};
use crate::exec::misc::{
    CallOp, DistinctOp, FilterOp, LimitOp, ProduceOp, ProjectOp, SkipOp, UnionOp, UnwindOp,
};
use crate::exec::parallel::Morsels;
use crate::exec::profile::{ProfiledOp, Recorder};
use crate::exec::rel_aggregate::{RelCol, RelFeed};
use crate::exec::scan::{CSeek, NodePages, RelPages, RelScanOp, ScanOp, SeekRun};
use crate::exec::shortest::ShortestPathRun;
use crate::exec::sort::{CSortKey, SortOp, TopKOp};
use crate::exec::varlength::VarExpandOp;
use crate::exec::write::{
    Action, CCreateNode, CCreatePart, CCreateRel, CMerge, CPath, CProps, CSetItem, EagerWrite,
    IndexOp,
};
use crate::exec::{ArgCell, ArgumentOp, BoxOp, Input};
use crate::plan::{
    AggFunc, CreatePart, Expr, LogicalPlan, MapItem, Op, PropSource, Seek, SetItem, SortKey, Var,
};

mod expr;
mod pattern;
mod write;

/// Where each variable of an operator's output rows is: a variable may share a column with
/// another (a rename).
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub width: usize,
    /// hashbrown's hasher, not SipHash: layouts are built for every operator of every
    /// query, and their hashing was about a tenth of building the operators.
    cols: HashMap<Var, usize>,
}

impl Schema {
    pub fn col(&self, v: Var) -> Option<usize> {
        self.cols.get(&v).copied()
    }

    fn contains(&self, v: Var) -> bool {
        self.cols.contains_key(&v)
    }

    /// A new column for `v`.
    fn push(&mut self, v: Var) -> usize {
        let c = self.width;
        self.cols.insert(v, c);
        self.width += 1;
        c
    }

    fn vars_at(&self, c: usize) -> impl Iterator<Item = Var> + '_ {
        self.cols
            .iter()
            .filter(move |(_, col)| **col == c)
            .map(|(v, _)| *v)
    }

    /// The columns holding a variable of `want`, in order, and the schema of a row made of
    /// just those columns.
    fn keep(&self, want: &BTreeSet<Var>) -> (Vec<usize>, Schema) {
        // Where each kept column goes (`usize::MAX`: dropped); kept columns stay in order.
        let mut new_at = vec![usize::MAX; self.width];
        for (v, c) in &self.cols {
            if want.contains(v) {
                new_at[*c] = 0;
            }
        }
        let mut keep = Vec::new();
        for (c, at) in new_at.iter_mut().enumerate() {
            if *at != usize::MAX {
                *at = keep.len();
                keep.push(c);
            }
        }
        let mut out = Schema {
            width: keep.len(),
            cols: HashMap::with_capacity(self.cols.len()),
        };
        for (v, c) in &self.cols {
            if new_at[*c] != usize::MAX && want.contains(v) {
                out.cols.insert(*v, new_at[*c]);
            }
        }
        (keep, out)
    }

    /// `vars` at columns `0..`.
    fn of(vars: &[Var]) -> Schema {
        let mut s = Schema::default();
        for v in vars {
            s.push(*v);
        }
        s
    }
}

/// The `Argument` leaf a plan starts at: the cell holding its row and that row's layout.
#[derive(Clone)]
struct ArgCtx {
    cell: ArgCell,
    schema: Schema,
}

/// Every variable that some operator of `op`'s tree reads.
fn uses_anywhere(op: &Op) -> BTreeSet<Var> {
    let mut out = BTreeSet::new();
    op.walk(&mut |o| out.extend(o.uses()));
    out
}

fn free_of<'e>(exprs: impl IntoIterator<Item = &'e Expr>) -> BTreeSet<Var> {
    let mut out = BTreeSet::new();
    for e in exprs {
        e.collect_free_vars(&mut out);
    }
    out
}

fn minus(a: &BTreeSet<Var>, b: &[Var]) -> BTreeSet<Var> {
    a.iter().filter(|v| !b.contains(v)).copied().collect()
}

fn labels(names: &[String]) -> Vec<Label> {
    names.iter().map(|n| Label::new(n)).collect()
}

fn rel_types(names: &[String]) -> Vec<RelType> {
    names.iter().map(|n| RelType::new(n)).collect()
}

/// Builds the operators of a logical plan.
pub struct Builder<'a> {
    plan: &'a LogicalPlan,
    /// PROFILE: every operator is wrapped to count its rows and time.
    profile: Option<Recorder>,
    /// While the input of a parallel aggregation is built: the cursor its bottom scan
    /// takes.
    morsels: RefCell<Option<Arc<Morsels>>>,
    /// Cleared when an operator that cannot be rewound for another run is built (a
    /// parallel aggregation, whose helper threads share its cursor); see
    /// [`reusable`](Self::reusable).
    reusable: std::cell::Cell<bool>,
}

/// A built operator and the layout of its rows.
type Built = (BoxOp, Schema);

impl<'a> Builder<'a> {
    pub fn new(plan: &'a LogicalPlan) -> Self {
        Self {
            plan,
            profile: None,
            morsels: RefCell::new(None),
            reusable: std::cell::Cell::new(true),
        }
    }

    /// Builds operators that record their rows and time in `recorder` (PROFILE).
    pub fn profiled(mut self, recorder: Recorder) -> Self {
        self.profile = Some(recorder);
        self
    }

    /// Whether the built tree may be kept for another run of the plan, rewound
    /// (`exec::trees`): not with PROFILE's recorders, nor with helper threads.
    pub fn reusable(&self) -> bool {
        self.reusable.get() && self.profile.is_none()
    }

    /// The root operator; its rows are the result columns.
    pub fn build_root(&self) -> Result<BoxOp> {
        let arg = ArgCtx {
            cell: Rc::new(RefCell::new(Vec::new())),
            schema: Schema::default(),
        };
        let need: BTreeSet<Var> = self.plan.root.output_vars();
        Ok(self.build(&self.plan.root, &need, &arg)?.0)
    }

    /// The aggregation `op` at the top of a plan, its input's bottom scan claiming its
    /// ranges from `morsels` (a helper thread's copy of a parallel aggregation).
    pub fn aggregate(&self, op: &Op, morsels: Option<Arc<Morsels>>) -> Result<AggregateOp> {
        let arg = ArgCtx {
            cell: Rc::new(RefCell::new(Vec::new())),
            schema: Schema::default(),
        };
        self.aggregate_at(op, &arg, morsels)
    }

    // The arms below are kept out of `build_op`, which recurses once per operator: its
    // frame (the largest of its arms) must stay small for plans of a thousand clauses.
    #[inline(never)]
    fn build_aggregate(&self, op: &Op, arg: &ArgCtx) -> Result<Built> {
        let (Op::Aggregate { keys, aggs, .. } | Op::RelAggregate { keys, aggs, .. }) = op else {
            return Err(Error::internal("not an aggregation"));
        };
        let parallel = self.profile.is_none() && parallel_aggregation(op, self.plan);
        let morsels = parallel.then(|| Arc::new(Morsels::default()));
        if parallel {
            self.reusable.set(false);
        }
        let mut agg = self.aggregate_at(op, arg, morsels.clone())?;
        agg.parallel = morsels.map(|morsels| ParallelPlan {
            op: op.clone(),
            morsels,
        });
        let out_vars: Vec<Var> = keys
            .iter()
            .map(|(v, _)| *v)
            .chain(aggs.iter().map(|(v, _)| *v))
            .collect();
        Ok((Box::new(agg), Schema::of(&out_vars)))
    }

    #[inline(never)]
    fn build_degree(
        &self,
        op: &Op,
        need: &BTreeSet<Var>,
        child_need: &BTreeSet<Var>,
        arg: &ArgCtx,
    ) -> Result<Built> {
        let Op::Degree {
            input,
            node,
            var,
            dir,
            types,
            other_labels,
        } = op
        else {
            return Err(Error::internal("not a degree"));
        };
        let (input, s) = self.input(input, child_need, arg)?;
        let node = self.col(&s, *node)?;
        let (keep, mut out) = s.keep(&minus(need, &[*var]));
        let emit = need.contains(var);
        if emit {
            out.push(*var);
        }
        Ok((
            Box::new(DegreeRun::op(
                input,
                node,
                *dir,
                rel_types(types),
                labels(other_labels),
                keep,
                emit,
            )),
            out,
        ))
    }

    #[inline(never)]
    fn aggregate_at(
        &self,
        op: &Op,
        arg: &ArgCtx,
        morsels: Option<Arc<Morsels>>,
    ) -> Result<AggregateOp> {
        if let Op::RelAggregate { .. } = op {
            return self.rel_aggregate(op, arg, morsels);
        }
        let Op::Aggregate { input, keys, aggs } = op else {
            return Err(Error::internal("not an aggregation"));
        };
        *self.morsels.borrow_mut() = morsels;
        let built = self.build(input, &op.uses(), arg);
        // A scan that did not take the cursor must not hand it to a later one.
        self.morsels.borrow_mut().take();
        let (input, s) = built?;
        let mut ckeys = Vec::with_capacity(keys.len());
        for (_, e) in keys {
            ckeys.push(self.expr(e, &s)?);
        }
        let mut caggs = Vec::with_capacity(aggs.len());
        let mut shared: Vec<&Expr> = Vec::new();
        let mut cargs = Vec::new();
        for (_, a) in aggs {
            let mut args = Vec::with_capacity(a.args.len());
            for e in &a.args {
                // Shared when equal (structurally) and deterministic.
                let reuse = (!e.is_nondeterministic())
                    .then(|| shared.iter().position(|x| *x == e))
                    .flatten();
                let i = match reuse {
                    Some(i) => i,
                    None => {
                        shared.push(e);
                        cargs.push(self.expr(e, &s)?);
                        cargs.len() - 1
                    }
                };
                args.push(i);
            }
            caggs.push(CAgg {
                func: a.func,
                distinct: a.distinct,
                args,
            });
        }
        let mut agg = AggregateOp::new(input, ckeys, cargs, caggs);
        agg.key_memo = self.key_memo_col(keys, &s).map(KeyMemo::new);
        Ok(agg)
    }

    /// The column of the one node every grouping key is read from, when the keys are worth
    /// remembering per node ([`KeyMemo`]): deterministic, not just the node itself (a node
    /// key is cheap already), and in a statement that writes nothing.
    fn key_memo_col(&self, keys: &[(Var, Expr)], s: &Schema) -> Option<usize> {
        let mut node = None;
        for (_, e) in keys {
            let free = e.free_vars();
            let [v] = free.iter().copied().collect::<Vec<_>>()[..] else {
                return None;
            };
            if e.is_nondeterministic() || node.replace(v).is_some_and(|n| n != v) {
                return None;
            }
        }
        if keys.iter().all(|(_, e)| matches!(e, Expr::Var(_))) || self.plan.writes() {
            return None;
        }
        s.col(node?)
    }

    /// `RelationshipTypeAggregate`: an aggregation fed by the store's bulk scan of the
    /// relationship type, once per input row (`morsels`: this copy's share of a parallel
    /// scan).
    fn rel_aggregate(
        &self,
        op: &Op,
        arg: &ArgCtx,
        morsels: Option<Arc<Morsels>>,
    ) -> Result<AggregateOp> {
        let Op::RelAggregate {
            input,
            rel,
            start,
            end,
            rel_type,
            start_labels,
            end_labels,
            keys,
            aggs,
        } = op
        else {
            return Err(Error::internal("not a relationship aggregation"));
        };
        let (input, _) = self.build(input, &BTreeSet::new(), arg)?;
        let mut feed = RelFeed::new(
            RelType::new(rel_type),
            labels(start_labels),
            labels(end_labels),
            morsels,
        );
        let column = |e: &Expr| -> Result<RelCol> {
            Ok(match e {
                Expr::Var(v) if v == rel => RelCol::Rel,
                Expr::Var(v) if v == start => RelCol::Start,
                Expr::Var(v) if v == end => RelCol::End,
                Expr::Prop(base, key) if **base == Expr::Var(*rel) => RelCol::Prop(Key::new(key)),
                _ => {
                    return Err(Error::internal(
                        "a relationship aggregation reads something its scan does not give",
                    ))
                }
            })
        };
        for (_, e) in keys {
            feed.column(column(e)?, true);
        }
        feed.keys = keys.len();
        let mut caggs = Vec::with_capacity(aggs.len());
        for (_, a) in aggs {
            let cols = a.args.iter().map(column).collect::<Result<Vec<_>>>()?;
            // `count(r)` of the relationship or an end node, never null, counts rows: no
            // column to read.
            if a.func == AggFunc::Count
                && !a.distinct
                && matches!(cols.as_slice(), [RelCol::Rel | RelCol::Start | RelCol::End])
            {
                caggs.push(CAgg {
                    func: AggFunc::CountStar,
                    distinct: false,
                    args: Vec::new(),
                });
                continue;
            }
            let args = cols.into_iter().map(|c| feed.column(c, false)).collect();
            caggs.push(CAgg {
                func: a.func,
                distinct: a.distinct,
                args,
            });
        }
        let mut agg = AggregateOp::new(input, Vec::new(), Vec::new(), caggs);
        agg.feed = Some(feed);
        Ok(agg)
    }

    /// The shared scan cursor, for the bottom scan of a parallel aggregation's input.
    fn take_morsels(&self, input: &Op) -> Option<Arc<Morsels>> {
        if matches!(input, Op::Argument { vars } if vars.is_empty()) {
            self.morsels.borrow_mut().take()
        } else {
            None
        }
    }

    fn col(&self, s: &Schema, v: Var) -> Result<usize> {
        s.col(v).ok_or_else(|| {
            Error::internal(format!(
                "variable {} is not in the row layout",
                self.plan.vars.display(v)
            ))
        })
    }

    fn input(&self, op: &Op, need: &BTreeSet<Var>, arg: &ArgCtx) -> Result<(Input, Schema)> {
        let (b, s) = self.build(op, need, arg)?;
        Ok((Input::new(b), s))
    }

    fn build(&self, op: &Op, need: &BTreeSet<Var>, arg: &ArgCtx) -> Result<Built> {
        let (built, schema) = self.build_op(op, need, arg)?;
        match &self.profile {
            Some(recorder) => Ok((ProfiledOp::wrap(built, op, recorder), schema)),
            None => Ok((built, schema)),
        }
    }

    fn build_op(&self, op: &Op, need: &BTreeSet<Var>, arg: &ArgCtx) -> Result<Built> {
        // What the input must carry when this operator keeps its input's rows as they are
        // and adds what it defines: only some arms ask (the others work out their input's
        // needs themselves), and building the sets is a good part of building a plan.
        let child_need = || {
            let defines = op.defines();
            let mut child_need = minus(need, &defines);
            child_need.extend(op.uses());
            (child_need, defines)
        };
        match op {
            Op::Argument { .. } => Ok((
                Box::new(ArgumentOp {
                    cell: arg.cell.clone(),
                    done: false,
                }),
                arg.schema.clone(),
            )),
            Op::NodeScan { .. }
            | Op::RelScan { .. }
            | Op::NodeSeek { .. }
            | Op::Expand { .. }
            | Op::VarExpand { .. }
            | Op::ShortestPath { .. }
            | Op::Intersect { .. } => {
                let (child_need, defines) = child_need();
                self.build_pattern(op, need, &child_need, defines, arg)
            }
            Op::Degree { .. } => self.build_degree(op, need, &child_need().0, arg),
            Op::Filter { input, predicate } => {
                let mut n = need.clone();
                predicate.collect_free_vars(&mut n);
                let (input, s) = self.build(input, &n, arg)?;
                let predicate = self.expr(predicate, &s)?;
                Ok((
                    Box::new(FilterOp {
                        input,
                        predicate,
                        frame: Frame::new(),
                    }),
                    s,
                ))
            }
            Op::Project { input, items } => {
                let live: Vec<&(Var, Expr)> =
                    items.iter().filter(|(v, _)| need.contains(v)).collect();
                let item_vars: Vec<Var> = items.iter().map(|(v, _)| *v).collect();
                let mut n = minus(need, &item_vars);
                for (_, e) in &live {
                    e.collect_free_vars(&mut n);
                }
                let (input, s) = self.build(input, &n, arg)?;
                let mut want = minus(need, &item_vars);
                let mut aliases = Vec::new();
                let mut computed = Vec::new();
                for (v, e) in live {
                    match e {
                        Expr::Var(x) if s.contains(*x) => {
                            want.insert(*x);
                            aliases.push((*v, *x));
                        }
                        _ => computed.push((*v, e)),
                    }
                }
                let (keep, mut out) = s.keep(&want);
                for (v, x) in aliases {
                    if let Some(c) = out.col(x) {
                        out.cols.insert(v, c);
                    }
                }
                let mut exprs = Vec::with_capacity(computed.len());
                for (v, e) in computed {
                    exprs.push(self.expr(e, &s)?);
                    out.push(v);
                }
                Ok((Box::new(ProjectOp::new(input, keep, exprs)), out))
            }
            Op::Unwind { input, expr, var } => {
                let (input, s) = self.input(input, &child_need().0, arg)?;
                let e = self.expr(expr, &s)?;
                let (keep, mut out) = s.keep(&minus(need, &[*var]));
                let emit = need.contains(var);
                if emit {
                    out.push(*var);
                }
                Ok((Box::new(UnwindOp::new(input, keep, e, emit)), out))
            }
            Op::Aggregate { .. } | Op::RelAggregate { .. } => self.build_aggregate(op, arg),
            Op::Distinct { input, vars } => {
                let mut n = need.clone();
                n.extend(vars.iter().copied());
                let (input, s) = self.build(input, &n, arg)?;
                let cols = self.cols(&s, vars)?;
                Ok((Box::new(DistinctOp::new(input, cols)), s))
            }
            Op::Sort { input, keys } => {
                let mut n = need.clone();
                n.extend(free_of(keys.iter().map(|k| &k.expr)));
                let (input, s) = self.build(input, &n, arg)?;
                let keys = self.sort_keys(keys, &s)?;
                let width = s.width;
                Ok((Box::new(SortOp::new(input, keys, width)), s))
            }
            Op::TopK {
                input,
                keys,
                skip,
                limit,
            } => {
                let mut n = need.clone();
                n.extend(free_of(keys.iter().map(|k| &k.expr)));
                let (input, s) = self.build(input, &n, arg)?;
                let keys = self.sort_keys(keys, &s)?;
                let skip = skip
                    .as_ref()
                    .map(|e| self.expr(e, &Schema::default()))
                    .transpose()?;
                let limit = self.expr(limit, &Schema::default())?;
                let width = s.width;
                Ok((Box::new(TopKOp::new(input, keys, skip, limit, width)), s))
            }
            Op::Skip { input, count } => {
                let (input, s) = self.build(input, need, arg)?;
                let count = self.expr(count, &Schema::default())?;
                Ok((
                    Box::new(SkipOp {
                        input,
                        count,
                        left: None,
                    }),
                    s,
                ))
            }
            Op::Limit { input, count } => {
                let (input, s) = self.build(input, need, arg)?;
                let count = self.expr(count, &Schema::default())?;
                Ok((
                    Box::new(LimitOp {
                        input,
                        count,
                        left: None,
                        pulled: false,
                    }),
                    s,
                ))
            }
            Op::Optional { input, inner, vars } => {
                let mut n = minus(need, vars);
                n.extend(uses_anywhere(inner));
                let (input, s_in) = self.input(input, &n, arg)?;
                let inner_arg = ArgCtx {
                    cell: Rc::new(RefCell::new(Vec::new())),
                    schema: s_in.clone(),
                };
                let (inner_op, s_inner) = self.build(inner, need, &inner_arg)?;
                let null_map = (0..s_inner.width)
                    .map(|c| s_inner.vars_at(c).find_map(|v| s_in.col(v)))
                    .collect();
                Ok((
                    Box::new(OptionalOp::new(input, inner_op, inner_arg.cell, null_map)),
                    s_inner,
                ))
            }
            Op::Apply { input, inner, vars } => {
                let mut n = minus(need, vars);
                n.extend(uses_anywhere(inner));
                let (input, s_in) = self.input(input, &n, arg)?;
                let inner_arg = ArgCtx {
                    cell: Rc::new(RefCell::new(Vec::new())),
                    schema: s_in.clone(),
                };
                let returned: BTreeSet<Var> = vars.iter().copied().collect();
                let (inner_op, s_inner) = self.build(inner, &returned, &inner_arg)?;
                let mut out = s_in.clone();
                let mut cols = Vec::with_capacity(vars.len());
                for v in vars {
                    cols.push(self.col(&s_inner, *v)?);
                    out.push(*v);
                }
                let writes = inner.any(&mut |op| {
                    matches!(
                        op,
                        Op::Create { .. } | Op::Merge { .. } | Op::Set { .. } | Op::Delete { .. }
                    )
                });
                let unit = vars.is_empty();
                Ok((
                    Box::new(ApplyOp::new(
                        input,
                        inner_op,
                        inner_arg.cell,
                        (!unit).then_some(cols),
                        writes,
                    )),
                    out,
                ))
            }
            Op::Union { branches, distinct } => {
                let mut built = Vec::with_capacity(branches.len());
                let mut schema = None;
                for b in branches {
                    let (op, s) = self.build(b, &b.output_vars(), arg)?;
                    schema.get_or_insert(s);
                    built.push(op);
                }
                Ok((
                    Box::new(UnionOp {
                        branches: built,
                        current: 0,
                        seen: distinct.then(Default::default),
                        hold: None,
                    }),
                    schema.unwrap_or_default(),
                ))
            }
            Op::Create { .. } | Op::Merge { .. } | Op::Set { .. } | Op::Delete { .. } => {
                let (child_need, defines) = child_need();
                self.build_write(op, &child_need, defines, arg)
            }
            Op::Call {
                input,
                procedure,
                args,
                yields,
                void,
            } => {
                let (child_need, defines) = child_need();
                let (input, s) = self.input(input, &child_need, arg)?;
                let mut cargs = Vec::with_capacity(args.len());
                for a in args {
                    cargs.push(self.expr(a, &s)?);
                }
                let (keep, mut out) = s.keep(&minus(need, &defines));
                let mut ys = Vec::new();
                if !*void {
                    for (i, v) in yields {
                        ys.push(*i);
                        out.push(*v);
                    }
                }
                Ok((
                    Box::new(CallOp::new(
                        input,
                        procedure.clone(),
                        cargs,
                        keep,
                        ys,
                        *void,
                    )),
                    out,
                ))
            }
            Op::Index { create, label, key } => Ok((
                Box::new(IndexOp {
                    create: *create,
                    label: label.clone(),
                    key: key.clone(),
                    done: false,
                }),
                Schema::default(),
            )),
            Op::Produce { input, columns } => {
                let vars: Vec<Var> = columns.iter().map(|(_, v)| *v).collect();
                let n: BTreeSet<Var> = vars.iter().copied().collect();
                let (input, s) = self.build(input, &n, arg)?;
                let cols = self.cols(&s, &vars)?;
                Ok((Box::new(ProduceOp { input, cols }), Schema::of(&vars)))
            }
        }
    }

    fn cols(&self, s: &Schema, vars: &[Var]) -> Result<Vec<usize>> {
        vars.iter().map(|v| self.col(s, *v)).collect()
    }

    fn rel_props(&self, props: &[(String, Expr)], s: &Schema) -> Result<Vec<(Key, CExpr)>> {
        props
            .iter()
            .map(|(k, e)| Ok((Key::new(k), self.expr(e, s)?)))
            .collect()
    }

    fn sort_keys(&self, keys: &[SortKey], s: &Schema) -> Result<Vec<CSortKey>> {
        keys.iter()
            .map(|k| {
                Ok(CSortKey {
                    expr: self.expr(&k.expr, s)?,
                    descending: k.descending,
                })
            })
            .collect()
    }

    fn seek(&self, seek: &Seek, s: &Schema) -> Result<CSeek> {
        Ok(match seek {
            Seek::Eq(e) => CSeek::Eq(self.expr(e, s)?),
            Seek::In(e) => CSeek::In(self.expr(e, s)?),
            Seek::Prefix(e) => CSeek::Prefix(self.expr(e, s)?),
            Seek::Range { lower, upper } => CSeek::Range {
                lower: lower
                    .as_ref()
                    .map(|b| Ok::<_, Error>((self.expr(&b.value, s)?, b.inclusive)))
                    .transpose()?,
                upper: upper
                    .as_ref()
                    .map(|b| Ok::<_, Error>((self.expr(&b.value, s)?, b.inclusive)))
                    .transpose()?,
            },
        })
    }
}

/// Whether the aggregation `op` may run its input on several threads: every aggregate
/// mergeable, and the input a chain of streaming operators (expansions, filters,
/// projections, degrees, nested scans) over one whole-graph scan at the plan's top-level
/// leaf, with no subquery (other than one read as a degree) and nothing nondeterministic
/// in any expression.
fn parallel_aggregation(op: &Op, plan: &LogicalPlan) -> bool {
    let (Op::Aggregate { aggs, .. } | Op::RelAggregate { aggs, .. }) = op else {
        return false;
    };
    let mergeable = aggs.iter().all(|(_, a)| {
        a.func == crate::plan::AggFunc::CountStar
            || nereid_functions::mergeable(a.func.name(), a.distinct)
    });
    let pipeline = match op {
        // Its own scan is the whole-graph scan, over the plan's top-level leaf.
        Op::RelAggregate { input, .. } => {
            matches!(&**input, Op::Argument { vars } if vars.is_empty())
        }
        Op::Aggregate { input, .. } => scan_pipeline(input, plan),
        _ => false,
    };
    mergeable && plain_exprs(op, plan) && pipeline
}

/// Whether `op`'s expressions are deterministic and run no subquery: a subquery read as
/// a node's degree ([`crate::plan::Subquery::one_hop_degree`]) runs none.
fn plain_exprs(op: &Op, plan: &LogicalPlan) -> bool {
    op.exprs().iter().all(|e| {
        !e.is_nondeterministic()
            && !e.any(&mut |x| match x {
                Expr::Exists { sub, .. } | Expr::Count { sub, .. } => {
                    plan.subquery(*sub).one_hop_degree().is_none()
                }
                Expr::Collect { .. } => true,
                _ => false,
            })
    })
}

fn scan_pipeline(op: &Op, plan: &LogicalPlan) -> bool {
    if !plain_exprs(op, plan) {
        return false;
    }
    match op {
        Op::NodeScan { input, .. } | Op::RelScan { input, .. } if matches!(&**input, Op::Argument { vars } if vars.is_empty()) => {
            true
        }
        Op::NodeScan { input, .. }
        | Op::Expand { input, .. }
        | Op::Intersect { input, .. }
        | Op::Degree { input, .. }
        | Op::Filter { input, .. }
        | Op::Project { input, .. } => scan_pipeline(input, plan),
        _ => false,
    }
}
