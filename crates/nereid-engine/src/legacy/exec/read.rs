//! Reading operators: streaming (match, filter, unwind, project, limit) and blocking
//! (aggregate, sort, distinct keeps a set but streams).

use std::collections::{HashMap, HashSet};

use nereid_common::value::GroupKey;
use nereid_common::{Error, ErrorCode, Value};
use nereid_functions::{self as functions, Aggregator};

use super::{ExecCx, Operator, Row, BATCH};
use crate::legacy::expr::{truth, Expr};
use crate::legacy::pattern::{MatchIter, PatternPlan};
use crate::legacy::planner::AggSpec;

pub struct Unit {
    pub done: bool,
}

impl Operator for Unit {
    fn next(&mut self, cx: &mut ExecCx) -> Result<Option<Vec<Row>>, Error> {
        if self.done {
            return Ok(None);
        }
        self.done = true;
        let mut row = match cx.argument {
            Some(a) => a.to_vec(),
            None => Vec::new(),
        };
        if row.len() < cx.width {
            row.resize(cx.width, Value::Null);
        }
        Ok(Some(vec![row]))
    }
}

/// Pulls input rows one at a time from batches.
struct Input<'p> {
    op: Box<dyn Operator + 'p>,
    batch: std::vec::IntoIter<Row>,
    done: bool,
}

impl<'p> Input<'p> {
    fn new(op: Box<dyn Operator + 'p>) -> Self {
        Self {
            op,
            batch: Vec::new().into_iter(),
            done: false,
        }
    }

    fn next_row(&mut self, cx: &mut ExecCx) -> Result<Option<Row>, Error> {
        loop {
            if let Some(r) = self.batch.next() {
                return Ok(Some(r));
            }
            if self.done {
                return Ok(None);
            }
            match self.op.next(cx)? {
                Some(b) => self.batch = b.into_iter(),
                None => self.done = true,
            }
        }
    }
}

pub struct MatchOp<'p> {
    input: Input<'p>,
    optional: bool,
    nulls: &'p [usize],
    /// One iterator reused for every input row (it keeps its buffers).
    iter: MatchIter<'p>,
    active: bool,
    found: bool,
}

impl<'p> MatchOp<'p> {
    pub fn new(
        input: Box<dyn Operator + 'p>,
        pattern: &'p PatternPlan,
        optional: bool,
        nulls: &'p [usize],
    ) -> Self {
        Self {
            input: Input::new(input),
            optional,
            nulls,
            iter: MatchIter::new(pattern, Vec::new()),
            active: false,
            found: false,
        }
    }
}

impl Operator for MatchOp<'_> {
    fn next(&mut self, cx: &mut ExecCx) -> Result<Option<Vec<Row>>, Error> {
        cx.cancel.check()?;
        let mut out = Vec::new();
        loop {
            if !self.active {
                match self.input.next_row(cx)? {
                    Some(row) => {
                        self.iter.reset(row);
                        self.active = true;
                        self.found = false;
                    }
                    None => return Ok(if out.is_empty() { None } else { Some(out) }),
                }
            }
            let ecx = cx.eval();
            while let Some(m) = self.iter.next(&ecx)? {
                self.found = true;
                out.push(m.to_vec());
                if out.len() >= BATCH {
                    return Ok(Some(out));
                }
            }
            if self.optional && !self.found {
                // The iterator's row is the input row with the pattern's new slots possibly
                // half-bound: null them all.
                let mut r = self.iter.take_row();
                for s in self.nulls {
                    r[*s] = Value::Null;
                }
                out.push(r);
            }
            self.active = false;
            if out.len() >= BATCH {
                return Ok(Some(out));
            }
        }
    }
}

/// `count(*)` (and only that, without grouping) directly over a MATCH: each match is
/// counted where it is found instead of being copied into a row first.
pub struct CountMatchesOp<'p> {
    input: Input<'p>,
    iter: MatchIter<'p>,
    aggs: &'p [AggSpec],
    post: &'p [(usize, Expr)],
    done: bool,
}

impl<'p> CountMatchesOp<'p> {
    pub fn new(
        input: Box<dyn Operator + 'p>,
        pattern: &'p PatternPlan,
        aggs: &'p [AggSpec],
        post: &'p [(usize, Expr)],
    ) -> Self {
        Self {
            input: Input::new(input),
            iter: MatchIter::new(pattern, Vec::new()),
            aggs,
            post,
            done: false,
        }
    }
}

impl Operator for CountMatchesOp<'_> {
    fn next(&mut self, cx: &mut ExecCx) -> Result<Option<Vec<Row>>, Error> {
        if self.done {
            return Ok(None);
        }
        self.done = true;
        let mut count: i64 = 0;
        while let Some(row) = self.input.next_row(cx)? {
            cx.cancel.check()?;
            self.iter.reset(row);
            let ecx = cx.eval();
            while self.iter.next(&ecx)?.is_some() {
                count += 1;
            }
        }
        // One output row, as an aggregation without grouping keys always produces.
        let mut row = cx.argument.map(|a| a.to_vec()).unwrap_or_default();
        row.resize(cx.width.max(row.len()), Value::Null);
        for spec in self.aggs {
            row[spec.slot] = Value::Int(count);
        }
        let ecx = cx.eval();
        let mut vals = Vec::with_capacity(self.post.len());
        for (_, e) in self.post {
            vals.push(e.eval(&row, &ecx)?);
        }
        for ((slot, _), v) in self.post.iter().zip(vals) {
            row[*slot] = v;
        }
        Ok(Some(vec![row]))
    }
}

pub struct FilterOp<'p> {
    pub input: Box<dyn Operator + 'p>,
    pub predicate: &'p Expr,
}

impl Operator for FilterOp<'_> {
    fn next(&mut self, cx: &mut ExecCx) -> Result<Option<Vec<Row>>, Error> {
        loop {
            let Some(batch) = self.input.next(cx)? else {
                return Ok(None);
            };
            let ecx = cx.eval();
            let mut out = Vec::with_capacity(batch.len());
            for row in batch {
                if truth(&self.predicate.eval(&row, &ecx)?)? == Some(true) {
                    out.push(row);
                }
            }
            if !out.is_empty() {
                return Ok(Some(out));
            }
        }
    }
}

enum UnwindSource {
    List(std::vec::IntoIter<Value>),
    Range(functions::RangeIter),
}

pub struct UnwindOp<'p> {
    input: Input<'p>,
    expr: &'p Expr,
    slot: usize,
    current: Option<(Row, UnwindSource)>,
}

impl<'p> UnwindOp<'p> {
    pub fn new(input: Box<dyn Operator + 'p>, expr: &'p Expr, slot: usize) -> Self {
        Self {
            input: Input::new(input),
            expr,
            slot,
            current: None,
        }
    }

    /// `UNWIND range(a, b[, s])` streams instead of building the list.
    fn source(&self, row: &Row, cx: &ExecCx) -> Result<UnwindSource, Error> {
        let ecx = cx.eval();
        if let Expr::Scalar(f, args) = self.expr {
            if f.name.eq_ignore_ascii_case("range") {
                let vals = args
                    .iter()
                    .map(|a| a.eval(row, &ecx))
                    .collect::<Result<Vec<_>, _>>()?;
                let ints: Option<Vec<i64>> = vals
                    .iter()
                    .map(|v| match v {
                        Value::Int(i) => Some(*i),
                        _ => None,
                    })
                    .collect();
                if let Some(ints) = ints {
                    let step = ints.get(2).copied().unwrap_or(1);
                    return Ok(UnwindSource::Range(functions::range_iter(
                        ints[0], ints[1], step,
                    )?));
                }
            }
        }
        Ok(match self.expr.eval(row, &ecx)? {
            Value::List(l) => UnwindSource::List(l.into_iter()),
            Value::Null => UnwindSource::List(Vec::new().into_iter()),
            other => UnwindSource::List(vec![other].into_iter()),
        })
    }
}

impl Operator for UnwindOp<'_> {
    fn next(&mut self, cx: &mut ExecCx) -> Result<Option<Vec<Row>>, Error> {
        cx.cancel.check()?;
        let mut out = Vec::new();
        loop {
            if self.current.is_none() {
                match self.input.next_row(cx)? {
                    Some(row) => {
                        let src = self.source(&row, cx)?;
                        self.current = Some((row, src));
                    }
                    None => return Ok(if out.is_empty() { None } else { Some(out) }),
                }
            }
            let Some((row, src)) = self.current.as_mut() else {
                continue;
            };
            loop {
                let v = match src {
                    UnwindSource::List(it) => it.next(),
                    UnwindSource::Range(it) => it.next().map(Value::Int),
                };
                let Some(v) = v else { break };
                let mut r = row.clone();
                r[self.slot] = v;
                out.push(r);
                if out.len() >= BATCH {
                    return Ok(Some(out));
                }
            }
            self.current = None;
        }
    }
}

pub struct ProjectOp<'p> {
    pub input: Box<dyn Operator + 'p>,
    pub items: &'p [(usize, Expr)],
}

impl Operator for ProjectOp<'_> {
    fn next(&mut self, cx: &mut ExecCx) -> Result<Option<Vec<Row>>, Error> {
        let Some(mut batch) = self.input.next(cx)? else {
            return Ok(None);
        };
        let ecx = cx.eval();
        for row in &mut batch {
            let mut vals = Vec::with_capacity(self.items.len());
            for (_, e) in self.items {
                vals.push(e.eval(row, &ecx)?);
            }
            for ((slot, _), v) in self.items.iter().zip(vals) {
                row[*slot] = v;
            }
        }
        Ok(Some(batch))
    }
}

pub struct AggregateOp<'p> {
    input: Box<dyn Operator + 'p>,
    keys: &'p [(usize, Expr)],
    aggs: &'p [AggSpec],
    post: &'p [(usize, Expr)],
    output: Option<std::vec::IntoIter<Row>>,
}

impl<'p> AggregateOp<'p> {
    pub fn new(
        input: Box<dyn Operator + 'p>,
        keys: &'p [(usize, Expr)],
        aggs: &'p [AggSpec],
        post: &'p [(usize, Expr)],
    ) -> Self {
        Self {
            input,
            keys,
            aggs,
            post,
            output: None,
        }
    }

    fn new_group(&self) -> Result<Vec<Box<dyn Aggregator>>, Error> {
        self.aggs
            .iter()
            .map(|a| {
                if a.name == "count" && a.args.is_empty() {
                    Ok(functions::count_star())
                } else {
                    functions::new_aggregator(&a.name, a.distinct)
                        .ok_or_else(|| Error::internal(format!("unknown aggregate {}", a.name)))
                }
            })
            .collect()
    }

    fn compute(&mut self, cx: &mut ExecCx) -> Result<Vec<Row>, Error> {
        let mut index: HashMap<GroupKey, usize> = HashMap::new();
        let mut groups: Vec<(Row, Vec<Box<dyn Aggregator>>)> = Vec::new();
        let star = [Value::Bool(true)];
        while let Some(batch) = self.input.next(cx)? {
            cx.cancel.check()?;
            let ecx = cx.eval();
            for mut row in batch {
                let mut key = Vec::with_capacity(self.keys.len());
                for (_, e) in self.keys {
                    key.push(e.eval(&row, &ecx)?);
                }
                let gk = GroupKey(key);
                // Without grouping keys there is one group: skip hashing.
                let known = if self.keys.is_empty() && !groups.is_empty() {
                    Some(0)
                } else {
                    index.get(&gk).copied()
                };
                let g = match known {
                    Some(i) => i,
                    None => {
                        for ((slot, _), v) in self.keys.iter().zip(&gk.0) {
                            row[*slot] = v.clone();
                        }
                        let aggs = self.new_group()?;
                        cx.memory.charge_row(&row)?;
                        groups.push((row.clone(), aggs));
                        index.insert(gk, groups.len() - 1);
                        groups.len() - 1
                    }
                };
                let (_, aggs) = &mut groups[g];
                for (spec, agg) in self.aggs.iter().zip(aggs.iter_mut()) {
                    if spec.args.is_empty() {
                        agg.update(&star)?;
                    } else {
                        let args = spec
                            .args
                            .iter()
                            .map(|a| a.eval(&row, &ecx))
                            .collect::<Result<Vec<_>, _>>()?;
                        if spec.name == "collect" {
                            // collect() keeps what it is given.
                            cx.memory
                                .charge(args.iter().map(super::memory::value_size).sum())?;
                        }
                        agg.update(&args)?;
                    }
                }
            }
        }
        if groups.is_empty() && self.keys.is_empty() {
            let mut row = cx.argument.map(|a| a.to_vec()).unwrap_or_default();
            row.resize(cx.width.max(row.len()), Value::Null);
            groups.push((row, self.new_group()?));
        }
        let ecx = cx.eval();
        let mut out = Vec::with_capacity(groups.len());
        for (mut row, mut aggs) in groups {
            for (spec, agg) in self.aggs.iter().zip(aggs.iter_mut()) {
                row[spec.slot] = agg.finish()?;
            }
            let mut vals = Vec::with_capacity(self.post.len());
            for (_, e) in self.post {
                vals.push(e.eval(&row, &ecx)?);
            }
            for ((slot, _), v) in self.post.iter().zip(vals) {
                row[*slot] = v;
            }
            out.push(row);
        }
        Ok(out)
    }
}

impl Operator for AggregateOp<'_> {
    fn next(&mut self, cx: &mut ExecCx) -> Result<Option<Vec<Row>>, Error> {
        if self.output.is_none() {
            let rows = self.compute(cx)?;
            self.output = Some(rows.into_iter());
        }
        let Some(out) = self.output.as_mut() else {
            return Ok(None);
        };
        let batch: Vec<Row> = out.by_ref().take(BATCH).collect();
        Ok(if batch.is_empty() { None } else { Some(batch) })
    }
}

pub struct DistinctOp<'p> {
    pub input: Box<dyn Operator + 'p>,
    pub slots: &'p [usize],
    pub seen: HashSet<GroupKey>,
}

impl Operator for DistinctOp<'_> {
    fn next(&mut self, cx: &mut ExecCx) -> Result<Option<Vec<Row>>, Error> {
        loop {
            let Some(batch) = self.input.next(cx)? else {
                return Ok(None);
            };
            let mut out = Vec::with_capacity(batch.len());
            for row in batch {
                let key = GroupKey(self.slots.iter().map(|s| row[*s].clone()).collect());
                if !self.seen.contains(&key) {
                    cx.memory.charge_row(&key.0)?;
                    self.seen.insert(key);
                    out.push(row);
                }
            }
            if !out.is_empty() {
                return Ok(Some(out));
            }
        }
    }
}

pub struct SortOp<'p> {
    pub input: Box<dyn Operator + 'p>,
    pub keys: &'p [(Expr, bool)],
    pub sorted: Option<std::vec::IntoIter<Row>>,
}

impl Operator for SortOp<'_> {
    fn next(&mut self, cx: &mut ExecCx) -> Result<Option<Vec<Row>>, Error> {
        if self.sorted.is_none() {
            let mut keyed: Vec<(Vec<Value>, Row)> = Vec::new();
            while let Some(batch) = self.input.next(cx)? {
                cx.cancel.check()?;
                let ecx = cx.eval();
                for row in batch {
                    let mut k = Vec::with_capacity(self.keys.len());
                    for (e, _) in self.keys {
                        k.push(e.eval(&row, &ecx)?);
                    }
                    cx.memory
                        .charge(super::memory::row_size(&k) + super::memory::row_size(&row))?;
                    keyed.push((k, row));
                }
            }
            let keys = self.keys;
            keyed.sort_by(|(a, _), (b, _)| {
                for ((x, y), (_, desc)) in a.iter().zip(b).zip(keys) {
                    let o = x.order_cmp(y);
                    let o = if *desc { o.reverse() } else { o };
                    if o.is_ne() {
                        return o;
                    }
                }
                std::cmp::Ordering::Equal
            });
            self.sorted = Some(
                keyed
                    .into_iter()
                    .map(|(_, r)| r)
                    .collect::<Vec<_>>()
                    .into_iter(),
            );
        }
        let Some(it) = self.sorted.as_mut() else {
            return Ok(None);
        };
        let batch: Vec<Row> = it.by_ref().take(BATCH).collect();
        Ok(if batch.is_empty() { None } else { Some(batch) })
    }
}

pub struct SkipLimitOp<'p> {
    input: Box<dyn Operator + 'p>,
    count: &'p Expr,
    skip: bool,
    remaining: Option<u64>,
    pulled: bool,
}

impl<'p> SkipLimitOp<'p> {
    pub fn new(input: Box<dyn Operator + 'p>, count: &'p Expr, skip: bool) -> Self {
        Self {
            input,
            count,
            skip,
            remaining: None,
            pulled: false,
        }
    }
}

impl Operator for SkipLimitOp<'_> {
    fn next(&mut self, cx: &mut ExecCx) -> Result<Option<Vec<Row>>, Error> {
        if self.remaining.is_none() {
            let what = if self.skip { "SKIP" } else { "LIMIT" };
            let v = self.count.eval(&[], &cx.eval())?;
            self.remaining = Some(match v {
                Value::Int(i) if i >= 0 => i as u64,
                Value::Int(i) => {
                    return Err(Error::new(
                        ErrorCode::NegativeIntegerArgumentRuntime,
                        format!("Invalid input. '{i}' is not a valid value for {what}. Must be a non-negative integer."),
                    ))
                }
                other => {
                    return Err(Error::new(
                        ErrorCode::InvalidSkipLimitArgument,
                        format!("Invalid input. '{other}' is not a valid value for {what}. Must be a non-negative integer."),
                    ))
                }
            });
        }
        let remaining = self.remaining.unwrap_or(0);
        if self.skip {
            let mut left = remaining;
            loop {
                let Some(mut batch) = self.input.next(cx)? else {
                    self.remaining = Some(left);
                    return Ok(None);
                };
                if left == 0 {
                    return Ok(Some(batch));
                }
                let n = (left as usize).min(batch.len());
                batch.drain(..n);
                left -= n as u64;
                self.remaining = Some(left);
                if !batch.is_empty() {
                    return Ok(Some(batch));
                }
            }
        } else {
            if remaining == 0 {
                if !self.pulled {
                    // Pull once anyway: updating clauses below run when first pulled, and
                    // their side effects must happen even under LIMIT 0.
                    self.pulled = true;
                    let _ = self.input.next(cx)?;
                }
                return Ok(None);
            }
            self.pulled = true;
            let Some(mut batch) = self.input.next(cx)? else {
                return Ok(None);
            };
            if batch.len() as u64 > remaining {
                batch.truncate(remaining as usize);
            }
            self.remaining = Some(remaining - batch.len() as u64);
            Ok(Some(batch))
        }
    }
}

pub struct CallOp<'p> {
    pub input: Box<dyn Operator + 'p>,
    pub procedure: &'p str,
    pub args: &'p [Expr],
    pub yields: &'p [(usize, usize)],
    pub void: bool,
}

impl Operator for CallOp<'_> {
    fn next(&mut self, cx: &mut ExecCx) -> Result<Option<Vec<Row>>, Error> {
        let Some(proc_) = cx.procedures.get(self.procedure).cloned() else {
            return Err(Error::new(
                ErrorCode::ProcedureNotFound,
                format!(
                    "There is no procedure with the name `{}` registered",
                    self.procedure
                ),
            ));
        };
        loop {
            let Some(batch) = self.input.next(cx)? else {
                return Ok(None);
            };
            let ecx = cx.eval();
            let mut out = Vec::new();
            for row in batch {
                let mut args = Vec::with_capacity(self.args.len());
                for a in self.args {
                    args.push(a.eval(&row, &ecx)?);
                }
                let results = proc_.call(&args)?;
                if self.void {
                    out.push(row);
                    continue;
                }
                for res in results {
                    let mut r = row.clone();
                    for (idx, slot) in self.yields {
                        r[*slot] = res.get(*idx).cloned().unwrap_or(Value::Null);
                    }
                    out.push(r);
                }
            }
            if !out.is_empty() {
                return Ok(Some(out));
            }
        }
    }
}

pub struct KeepOp<'p> {
    pub input: Box<dyn Operator + 'p>,
    pub slots: &'p [usize],
}

impl Operator for KeepOp<'_> {
    fn next(&mut self, cx: &mut ExecCx) -> Result<Option<Vec<Row>>, Error> {
        let Some(batch) = self.input.next(cx)? else {
            return Ok(None);
        };
        let width = cx.width;
        Ok(Some(
            batch
                .into_iter()
                .map(|mut row| {
                    let mut kept = vec![Value::Null; width.max(row.len())];
                    for s in self.slots {
                        kept[*s] = std::mem::take(&mut row[*s]);
                    }
                    kept
                })
                .collect(),
        ))
    }
}

pub struct ProduceOp<'p> {
    pub input: Box<dyn Operator + 'p>,
    pub slots: &'p [usize],
}

impl Operator for ProduceOp<'_> {
    fn next(&mut self, cx: &mut ExecCx) -> Result<Option<Vec<Row>>, Error> {
        let Some(batch) = self.input.next(cx)? else {
            return Ok(None);
        };
        Ok(Some(
            batch
                .into_iter()
                .map(|mut row| {
                    self.slots
                        .iter()
                        .map(|s| std::mem::take(&mut row[*s]))
                        .collect()
                })
                .collect(),
        ))
    }
}

pub struct UnionOp<'p> {
    pub branches: Vec<Box<dyn Operator + 'p>>,
    pub current: usize,
    pub seen: Option<HashSet<GroupKey>>,
}

impl Operator for UnionOp<'_> {
    fn next(&mut self, cx: &mut ExecCx) -> Result<Option<Vec<Row>>, Error> {
        loop {
            let Some(branch) = self.branches.get_mut(self.current) else {
                return Ok(None);
            };
            match branch.next(cx)? {
                None => self.current += 1,
                Some(batch) => {
                    let out: Vec<Row> = match &mut self.seen {
                        None => batch,
                        Some(seen) => {
                            let mut kept = Vec::with_capacity(batch.len());
                            for r in batch {
                                let key = GroupKey(r.clone());
                                if !seen.contains(&key) {
                                    cx.memory.charge_row(&r)?;
                                    seen.insert(key);
                                    kept.push(r);
                                }
                            }
                            kept
                        }
                    };
                    if !out.is_empty() {
                        return Ok(Some(out));
                    }
                }
            }
        }
    }
}
