//! Hash aggregation: groups by the key values (Cypher equivalence: `1` and `1.0` are one
//! group, as are two nulls) and runs one aggregator per aggregate and group.
//!
//! The groups, their keys and what `collect` and the DISTINCT aggregates keep are charged
//! to the query's memory budget while they are held.

use hashbrown::{HashMap, HashSet};
use nereid_common::Error;
use nereid_functions::{self as functions, Aggregator};
use nereid_value::Value;

use std::sync::Arc;
use std::time::Instant;

use super::expr::{CExpr, Frame};
use super::keys::KeyTable;
use super::memory::{row_size, value_size, Reservation};
use super::parallel::{help_after, HelperSlot, Morsels};
use super::rel_aggregate::RelFeed;
use super::{Batch, BoxOp, Ctx, Operator, SharedRead, BATCH};
use crate::plan::{AggFunc, Op};

/// Bytes charged per group for its aggregators' own state.
const GROUP_OVERHEAD: usize = 64;

/// One aggregate, compiled.
pub struct CAgg {
    pub func: AggFunc,
    pub distinct: bool,
    /// Indexes into [`AggregateOp::args`]: an argument several aggregates share
    /// (`min(k.since), max(k.since)`) is evaluated once per row.
    pub args: Vec<usize>,
}

impl CAgg {
    fn aggregator(&self) -> Result<Box<dyn Aggregator>, Error> {
        if self.func == AggFunc::CountStar {
            return Ok(functions::count_star());
        }
        functions::new_aggregator(self.func.name(), self.distinct)
            .ok_or_else(|| Error::internal(format!("unknown aggregate {}", self.func.name())))
    }

    /// Whether the aggregator keeps the values it is given.
    fn keeps_values(&self) -> bool {
        self.distinct
            || matches!(
                self.func,
                AggFunc::Collect | AggFunc::PercentileCont | AggFunc::PercentileDisc
            )
    }
}

/// One aggregate's state in one group. Counting, the commonest aggregate, is kept inline
/// (an update touches the group's slot only), and so are `sum`, `min`, `max` and `avg`
/// while they see plain numbers; past those, `min`, `max` and `avg` are their concrete
/// aggregators (no call through a vtable per row); the others are boxed aggregators.
enum State {
    /// `count(*)`.
    Rows(i64),
    /// `count(x)`: the non-null values of its one argument.
    NonNull(i64),
    /// `sum(x)` while every value so far was an integer (or null); the first other value
    /// hands the running sum to a general aggregator, which then decides (floats,
    /// durations, type errors, overflow) exactly as if it had seen everything.
    IntSum {
        sum: i64,
        any: bool,
    },
    /// `min(x)` / `max(x)` while every value so far was an integer (or null): integers
    /// compare as `Value::order_cmp` compares them, and equal ones are the same value.
    /// The first other value hands the best so far to an [`functions::Extreme`].
    IntExtreme {
        max: bool,
        best: Option<i64>,
    },
    Extreme(functions::Extreme),
    /// `avg(x)` while every value so far was a number (or null): the same sums as
    /// [`functions::Avg`] keeps, handed to one (`Avg::of_numbers`) at the first other value.
    NumAvg {
        n: u64,
        ints: i128,
        floats: f64,
    },
    Avg(Box<functions::Avg>),
    /// `count(DISTINCT x)` while every value so far was an integer (or null): the
    /// distinct integers (two integers are equivalent only when equal). The first other
    /// value hands them to the general aggregator, which then compares by equivalence.
    DistinctInts(HashSet<i64>),
    Other(Box<dyn Aggregator>),
}

/// Bytes charged per distinct integer of `count(DISTINCT x)`: its slot in the set, and
/// what the general aggregator would keep for it after a hand-over.
const DISTINCT_INT: usize = 80;

impl State {
    /// The general form of an inline `min`/`max`/`avg` state (others unchanged).
    fn widen(self) -> Result<State, Error> {
        Ok(match self {
            State::IntExtreme { max, best } => {
                let mut agg = functions::Extreme::new(max);
                if let Some(b) = best {
                    agg.update(&[Value::Int(b)])?;
                }
                State::Extreme(agg)
            }
            State::NumAvg { n, ints, floats } => {
                State::Avg(Box::new(functions::Avg::of_numbers(n, ints, floats)))
            }
            other => other,
        })
    }
}

/// Groups being aggregated: their keys (numbered in first-seen order) and, flat, every
/// group's aggregate states (group `g` owns `states[g * n..(g + 1) * n]`).
#[derive(Default)]
struct Groups {
    index: KeyTable,
    states: Vec<State>,
    count: usize,
    dense_held: usize,
}

impl Groups {
    /// The group of `key`, created (and charged to `hold`) if new.
    fn group(
        &mut self,
        key: &[Value],
        aggs: &[CAgg],
        hold: &mut Reservation,
    ) -> Result<usize, Error> {
        let (g, new) = if key.is_empty() {
            // One group: no hashing per row.
            (0, self.count == 0)
        } else {
            self.index.insert(key)
        };
        if new {
            if key.is_empty() {
                self.index.insert(&[]);
            }
            hold.grow(2 * row_size(key) + GROUP_OVERHEAD * aggs.len())?;
            if self.index.bytes() > self.dense_held {
                hold.grow(self.index.bytes() - self.dense_held)?;
                self.dense_held = self.index.bytes();
            }
            for a in aggs {
                self.states.push(a.state()?);
            }
            self.count += 1;
        }
        Ok(g)
    }

    /// Adds one row, whose evaluated aggregate arguments are `values`, to group `g`.
    fn update(
        &mut self,
        g: usize,
        values: &[Value],
        aggs: &[CAgg],
        args: &mut Vec<Value>,
        hold: &mut Reservation,
    ) -> Result<(), Error> {
        let n = aggs.len();
        for (spec, state) in aggs.iter().zip(&mut self.states[g * n..(g + 1) * n]) {
            update_state(spec, state, values, args, hold)?;
        }
        Ok(())
    }

    /// Adds rows of `width` values each, laid out one after the other in `rows`, to group
    /// `g`: each aggregate takes the rows in order, its state matched once per run of
    /// values its inline form takes rather than once per row.
    fn update_rows(
        &mut self,
        g: usize,
        rows: &[Value],
        width: usize,
        aggs: &[CAgg],
        args: &mut Vec<Value>,
        hold: &mut Reservation,
    ) -> Result<(), Error> {
        let n = aggs.len();
        let count = rows.len() / width.max(1);
        for (spec, state) in aggs.iter().zip(&mut self.states[g * n..(g + 1) * n]) {
            let col = match spec.args.as_slice() {
                [] => {
                    if let State::Rows(c) = state {
                        *c += count as i64;
                        continue;
                    }
                    None
                }
                [a] => Some(*a),
                _ => None,
            };
            let mut r = 0;
            while r < count {
                if let Some(a) = col {
                    let value = |r: usize| &rows[r * width + a];
                    match state {
                        State::NonNull(c) => {
                            while r < count {
                                *c += i64::from(!value(r).is_null());
                                r += 1;
                            }
                        }
                        State::IntSum { sum, any } => {
                            while r < count {
                                match value(r) {
                                    Value::Null => {}
                                    Value::Int(i) => match sum.checked_add(*i) {
                                        Some(next) => {
                                            *sum = next;
                                            *any = true;
                                        }
                                        None => break,
                                    },
                                    _ => break,
                                }
                                r += 1;
                            }
                        }
                        State::IntExtreme { max, best } => {
                            while r < count {
                                match value(r) {
                                    Value::Null => {}
                                    Value::Int(i) => {
                                        let better = match best {
                                            None => true,
                                            Some(b) if *max => i > b,
                                            Some(b) => i < b,
                                        };
                                        if better {
                                            *best = Some(*i);
                                        }
                                    }
                                    _ => break,
                                }
                                r += 1;
                            }
                        }
                        State::NumAvg { n, ints, floats } => {
                            while r < count {
                                match value(r) {
                                    Value::Null => {}
                                    Value::Int(i) => {
                                        *ints += i128::from(*i);
                                        *n += 1;
                                    }
                                    Value::Float(f) => {
                                        *floats += f;
                                        *n += 1;
                                    }
                                    _ => break,
                                }
                                r += 1;
                            }
                        }
                        _ => {}
                    }
                }
                // A value the inline form does not take (or a state without one): the
                // general update, after which the loop above resumes with the new state.
                if r < count {
                    update_state(spec, state, &rows[r * width..(r + 1) * width], args, hold)?;
                    r += 1;
                }
            }
        }
        Ok(())
    }

    /// Adds the groups another thread aggregated (mergeable aggregates only).
    fn merge(&mut self, other: Groups, aggs: &[CAgg], hold: &mut Reservation) -> Result<(), Error> {
        let n = aggs.len();
        let mut theirs = other.states.into_iter();
        let keys = other.index.into_flat();
        for i in 0..keys.count() {
            let g = self.group(keys.get(i), aggs, hold)?;
            for (spec, mine) in aggs.iter().zip(&mut self.states[g * n..(g + 1) * n]) {
                let Some(other) = theirs.next() else {
                    return Err(Error::internal("a partial aggregation lost its states"));
                };
                // Inline min/max/avg states merge as they are only with their own kind.
                let other = match (&*mine, other) {
                    (State::IntExtreme { .. }, o @ State::IntExtreme { .. })
                    | (State::NumAvg { .. }, o @ State::NumAvg { .. }) => o,
                    (_, o) => {
                        if matches!(mine, State::IntExtreme { .. } | State::NumAvg { .. }) {
                            *mine = std::mem::replace(mine, State::Rows(0)).widen()?;
                        }
                        o.widen()?
                    }
                };
                match (&mut *mine, other) {
                    (
                        State::IntExtreme { max, best },
                        State::IntExtreme {
                            best: Some(theirs), ..
                        },
                    ) => {
                        let better = match best {
                            None => true,
                            Some(b) if *max => theirs > *b,
                            Some(b) => theirs < *b,
                        };
                        if better {
                            *best = Some(theirs);
                        }
                    }
                    (State::IntExtreme { .. }, State::IntExtreme { best: None, .. }) => {}
                    (
                        State::NumAvg { n, ints, floats },
                        State::NumAvg {
                            n: their_n,
                            ints: their_ints,
                            floats: their_floats,
                        },
                    ) => {
                        // As `Avg::merge` does.
                        if their_n == 0 {
                        } else if *n == 0 {
                            (*n, *ints, *floats) = (their_n, their_ints, their_floats);
                        } else {
                            *n += their_n;
                            *ints += their_ints;
                            *floats += their_floats;
                        }
                    }
                    (State::Rows(a), State::Rows(b)) | (State::NonNull(a), State::NonNull(b)) => {
                        *a += b;
                    }
                    (State::IntSum { sum, any }, State::IntSum { sum: b, any: b_any })
                        if sum.checked_add(b).is_some() =>
                    {
                        *sum += b;
                        *any |= b_any;
                    }
                    (State::Extreme(a), State::Extreme(mut b)) => merge_partial(a, &mut b)?,
                    (State::Avg(a), State::Avg(mut b)) => merge_partial(a.as_mut(), b.as_mut())?,
                    (_, other) => {
                        let mut general = match &mut *mine {
                            State::Other(_) => None,
                            state => Some(spec.general(state)?),
                        };
                        let target = match (&mut general, &mut *mine) {
                            (Some(g), _) => g,
                            (None, State::Other(a)) => a,
                            _ => return Err(Error::internal("unmergeable aggregate state")),
                        };
                        let mut theirs = match other {
                            State::Other(a) => a,
                            state => spec.general(&state)?,
                        };
                        let partial = theirs
                            .take_partial()
                            .ok_or_else(|| Error::internal("an aggregate that cannot be merged"))?;
                        target.merge(partial)?;
                        if let Some(g) = general {
                            *mine = State::Other(g);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The output rows, in batches: keys, then results (one row without keys, even over no
    /// rows). Built flat, without a vector per group.
    fn finish(mut self, aggs: &[CAgg], grouped: bool) -> Result<Vec<Batch>, Error> {
        if self.count == 0 && !grouped {
            self.index.insert(&[]);
            for a in aggs {
                self.states.push(a.state()?);
            }
            self.count = 1;
        }
        let n = aggs.len();
        let order = self.index.node_order();
        let mut keys = self.index.into_flat();
        let mut results = Vec::with_capacity(self.states.len());
        for state in self.states {
            results.push(match state {
                State::Rows(c) | State::NonNull(c) | State::IntSum { sum: c, .. } => Value::Int(c),
                State::IntExtreme { best, .. } => best.map_or(Value::Null, Value::Int),
                State::DistinctInts(set) => Value::Int(set.len() as i64),
                State::NumAvg { n: 0, .. } => Value::Null,
                State::NumAvg { n, ints, floats } => {
                    Value::Float((ints as f64 + floats) / n as f64)
                }
                State::Extreme(mut agg) => agg.finish()?,
                State::Avg(mut agg) => agg.finish()?,
                State::Other(mut agg) => agg.finish()?,
            });
        }
        let (count, width) = (self.count, keys.width() + n);
        let mut batches: Vec<Batch> = Vec::with_capacity(count.div_ceil(BATCH));
        let mut emit = |g: usize, done: usize| {
            let batch = match batches.last_mut() {
                Some(b) if !b.is_full() => b,
                _ => {
                    batches.push(Batch::with_rows(width, (count - done).min(BATCH)));
                    batches.last_mut().expect("just pushed")
                }
            };
            for v in keys.take(g) {
                batch.push(v);
            }
            for v in &mut results[g * n..(g + 1) * n] {
                batch.push(std::mem::take(v));
            }
            batch.end_row();
        };
        match order {
            Some(order) => order
                .into_iter()
                .enumerate()
                .for_each(|(done, g)| emit(g, done)),
            None => (0..count).for_each(|g| emit(g, g)),
        }
        Ok(batches)
    }
}

/// Adds one row, whose evaluated aggregate arguments are `values`, to one aggregate's
/// state.
#[inline]
fn update_state(
    spec: &CAgg,
    state: &mut State,
    values: &[Value],
    args: &mut Vec<Value>,
    hold: &mut Reservation,
) -> Result<(), Error> {
    let agg = match state {
        State::Rows(c) => {
            *c += 1;
            return Ok(());
        }
        State::NonNull(c) => {
            *c += i64::from(!values[spec.args[0]].is_null());
            return Ok(());
        }
        State::IntSum { sum, any } => {
            match &values[spec.args[0]] {
                Value::Null => return Ok(()),
                Value::Int(i) => {
                    if let Some(next) = sum.checked_add(*i) {
                        *sum = next;
                        *any = true;
                        return Ok(());
                    }
                }
                _ => {}
            }
            // Sum has one argument and keeps no values: hand over and go on.
            let mut general = spec.general(state)?;
            general.update(std::slice::from_ref(&values[spec.args[0]]))?;
            *state = State::Other(general);
            return Ok(());
        }
        State::IntExtreme { max, best } => {
            match &values[spec.args[0]] {
                Value::Null => {}
                Value::Int(i) => {
                    let better = match best {
                        None => true,
                        Some(b) if *max => i > b,
                        Some(b) => i < b,
                    };
                    if better {
                        *best = Some(*i);
                    }
                }
                other => {
                    let mut general = std::mem::replace(state, State::Rows(0)).widen()?;
                    if let State::Extreme(agg) = &mut general {
                        agg.update(std::slice::from_ref(other))?;
                    }
                    *state = general;
                }
            }
            return Ok(());
        }
        State::Extreme(agg) => {
            agg.update(std::slice::from_ref(&values[spec.args[0]]))?;
            return Ok(());
        }
        State::NumAvg { n, ints, floats } => {
            match &values[spec.args[0]] {
                Value::Null => {}
                Value::Int(i) => {
                    *ints += i128::from(*i);
                    *n += 1;
                }
                Value::Float(f) => {
                    *floats += f;
                    *n += 1;
                }
                other => {
                    let mut general = std::mem::replace(state, State::Rows(0)).widen()?;
                    if let State::Avg(agg) = &mut general {
                        agg.update(std::slice::from_ref(other))?;
                    }
                    *state = general;
                }
            }
            return Ok(());
        }
        State::Avg(agg) => {
            agg.update(std::slice::from_ref(&values[spec.args[0]]))?;
            return Ok(());
        }
        State::DistinctInts(set) => {
            match &values[spec.args[0]] {
                Value::Null => {}
                Value::Int(i) => {
                    if set.insert(*i) {
                        hold.grow(DISTINCT_INT)?;
                    }
                }
                other => {
                    let mut general = spec.general(state)?;
                    hold.grow(value_size(other))?;
                    general.update(std::slice::from_ref(other))?;
                    *state = State::Other(general);
                }
            }
            return Ok(());
        }
        State::Other(agg) => agg,
    };
    let given: &[Value] = match spec.args.as_slice() {
        [one] => std::slice::from_ref(&values[*one]),
        many => {
            args.clear();
            args.extend(many.iter().map(|&i| values[i].clone()));
            args
        }
    };
    if spec.keeps_values() {
        hold.grow(given.iter().map(value_size).sum())?;
    }
    agg.update(given)?;
    Ok(())
}

/// Merges what another thread's aggregator `theirs` holds into `mine`.
fn merge_partial(mine: &mut impl Aggregator, theirs: &mut impl Aggregator) -> Result<(), Error> {
    let partial = theirs
        .take_partial()
        .ok_or_else(|| Error::internal("an aggregate that cannot be merged"))?;
    mine.merge(partial)
}

impl CAgg {
    /// A new group's state.
    fn state(&self) -> Result<State, Error> {
        Ok(match self.func {
            AggFunc::CountStar => State::Rows(0),
            AggFunc::Count if !self.distinct && self.args.len() == 1 => State::NonNull(0),
            AggFunc::Sum if !self.distinct && self.args.len() == 1 => {
                State::IntSum { sum: 0, any: false }
            }
            AggFunc::Min | AggFunc::Max if !self.distinct && self.args.len() == 1 => {
                State::IntExtreme {
                    max: self.func == AggFunc::Max,
                    best: None,
                }
            }
            AggFunc::Count if self.distinct && self.args.len() == 1 => {
                State::DistinctInts(HashSet::new())
            }
            AggFunc::Avg if !self.distinct && self.args.len() == 1 => State::NumAvg {
                n: 0,
                ints: 0,
                floats: 0.0,
            },
            _ => State::Other(self.aggregator()?),
        })
    }

    /// A general aggregator holding what an inline state counted.
    fn general(&self, state: &State) -> Result<Box<dyn Aggregator>, Error> {
        let mut general = self.aggregator()?;
        match state {
            State::IntSum { sum, any } => {
                if *any {
                    general.update(&[Value::Int(*sum)])?;
                }
            }
            // The order of the values does not change a count.
            State::DistinctInts(set) => {
                for i in set {
                    general.update(&[Value::Int(*i)])?;
                }
            }
            // These stay inline on every thread: they never meet a general state.
            State::Rows(_)
            | State::NonNull(_)
            | State::IntExtreme { .. }
            | State::Extreme(_)
            | State::NumAvg { .. }
            | State::Avg(_) => {
                return Err(Error::internal("an inline aggregate met a general state"))
            }
            State::Other(_) => {}
        }
        Ok(general)
    }

    /// Whether per-thread states of this aggregate can be merged exactly.
    pub fn mergeable(&self) -> bool {
        self.func == AggFunc::CountStar || functions::mergeable(self.func.name(), self.distinct)
    }
}

/// How an aggregation runs its input on a second thread: the logical aggregation to build
/// again there, and the scan cursor the copies share.
pub struct ParallelPlan {
    pub op: Op,
    pub morsels: Arc<Morsels>,
}

/// The group of each node met, for an aggregation whose grouping keys are all read from
/// that node (`c.name`, `c.name, c.founded`) in a statement that writes nothing, so that
/// they cannot change while it runs: the keys are evaluated (and hashed) once per node
/// instead of once per row.
pub struct KeyMemo {
    /// The node's column in the input rows.
    pub col: usize,
    groups: HashMap<u64, u32>,
}

impl KeyMemo {
    /// Bytes charged per node remembered (its slot and the table's spare room).
    const ENTRY: usize = 32;

    pub fn new(col: usize) -> Self {
        Self {
            col,
            groups: HashMap::new(),
        }
    }
}

/// Output rows: the key values, then the aggregates.
pub struct AggregateOp {
    pub input: BoxOp,
    pub keys: Vec<CExpr>,
    /// The distinct argument expressions of all aggregates.
    pub args: Vec<CExpr>,
    pub aggs: Vec<CAgg>,
    pub frame: Frame,
    /// Set when the input may run on several threads (see [`super::parallel`]).
    pub parallel: Option<ParallelPlan>,
    /// `RelationshipTypeAggregate`: for each input row, the rows of this feed are
    /// aggregated (keys first, then the arguments: `args` is empty and the aggregates
    /// index into the feed's rows).
    pub feed: Option<RelFeed>,
    /// Set when every grouping key is read from one node of the row and the statement does
    /// not write (see [`KeyMemo`]).
    pub key_memo: Option<KeyMemo>,
    output: Option<std::vec::IntoIter<Batch>>,
    hold: Option<Reservation>,
}

impl AggregateOp {
    pub fn new(input: BoxOp, keys: Vec<CExpr>, args: Vec<CExpr>, aggs: Vec<CAgg>) -> Self {
        Self {
            input,
            keys,
            args,
            aggs,
            frame: Frame::new(),
            parallel: None,
            feed: None,
            key_memo: None,
            output: None,
            hold: None,
        }
    }

    /// How many group keys the output rows start with.
    fn key_count(&self) -> usize {
        self.feed.as_ref().map_or(self.keys.len(), |f| f.keys)
    }

    /// Aggregates the input's rows into `groups`. With `help`, calls it after each batch
    /// (it may start a helper thread).
    fn accumulate(
        &mut self,
        cx: &mut Ctx,
        groups: &mut Groups,
        hold: &mut Reservation,
        help: &mut dyn FnMut(),
    ) -> Result<(), Error> {
        let mut args = Vec::new();
        if let Some(feed) = &mut self.feed {
            let (aggs, keys) = (&self.aggs, feed.keys);
            let mut each = |rows: &[Value], width: usize| -> Result<(), Error> {
                if keys == 0 {
                    let g = groups.group(&[], aggs, hold)?;
                    return groups.update_rows(g, rows, width, aggs, &mut args, hold);
                }
                for row in rows.chunks_exact(width) {
                    let g = groups.group(&row[..keys], aggs, hold)?;
                    groups.update(g, row, aggs, &mut args, hold)?;
                }
                Ok(())
            };
            while let Some(batch) = self.input.next(cx)? {
                for _ in 0..batch.len() {
                    feed.scan(cx, &mut each, help)?;
                }
            }
            return Ok(());
        }
        let mut values = Vec::with_capacity(self.args.len());
        let mut key = Vec::with_capacity(self.keys.len());
        // With a memo the keys are evaluated once per node: reading them ahead for every row
        // would be wasted.
        let ahead = self.keys.iter().filter(|_| self.key_memo.is_none());
        let mut prefetch = super::misc::PropPrefetch::new(ahead.chain(&self.args));
        while let Some(batch) = self.input.next(cx)? {
            cx.check()?;
            prefetch.run(cx, &batch);
            let ecx = cx.eval();
            for row in batch.rows() {
                let node = match &self.key_memo {
                    Some(memo) => match row[memo.col] {
                        Value::Node(n) => Some(n.0),
                        _ => None,
                    },
                    None => None,
                };
                let known = match (&self.key_memo, node) {
                    (Some(memo), Some(n)) => memo.groups.get(&n).copied(),
                    _ => None,
                };
                let g = match known {
                    Some(g) => g as usize,
                    None => {
                        key.clear();
                        for e in &self.keys {
                            key.push(e.eval(row, &mut self.frame, &ecx)?);
                        }
                        let g = groups.group(&key, &self.aggs, hold)?;
                        if let (Some(memo), Some(n)) = (&mut self.key_memo, node) {
                            hold.grow(KeyMemo::ENTRY)?;
                            memo.groups.insert(n, g as u32);
                        }
                        g
                    }
                };
                values.clear();
                for e in &self.args {
                    values.push(e.eval(row, &mut self.frame, &ecx)?);
                }
                groups.update(g, &values, &self.aggs, &mut args, hold)?;
            }
            help();
        }
        Ok(())
    }

    fn compute(&mut self, cx: &mut Ctx) -> Result<Vec<Batch>, Error> {
        let mut hold = Reservation::new(cx.env.memory);
        let mut groups = Groups::default();
        let shared = cx.env.parallel;
        match (self.parallel.take(), shared) {
            (Some(plan), Some(shared)) => {
                let result = self.accumulate_in_parallel(cx, &plan, shared, &mut groups, &mut hold);
                self.parallel = Some(plan);
                result?
            }
            (plan, _) => {
                self.parallel = plan;
                self.accumulate(cx, &mut groups, &mut hold, &mut || {})?
            }
        }
        let out = groups.finish(&self.aggs, self.key_count() > 0)?;
        self.hold = Some(hold);
        Ok(out)
    }

    /// Aggregates on this thread and, once the scan has run for a while and a core is
    /// free, on a helper thread with its own copy of the input, then merges its groups.
    fn accumulate_in_parallel(
        &mut self,
        cx: &mut Ctx,
        plan: &ParallelPlan,
        shared: SharedRead<'_>,
        groups: &mut Groups,
        hold: &mut Reservation,
    ) -> Result<(), Error> {
        let started = Instant::now();
        let after = help_after();
        let clock = functions::current_clock();
        let (cancel, memory) = (cx.env.cancel, cx.env.memory);
        let morsels = &plan.morsels;
        std::thread::scope(|scope| {
            let mut helper = None;
            let mut help = || {
                if helper.is_none() && started.elapsed() >= after {
                    if let Some(slot) = HelperSlot::try_take() {
                        helper = Some(scope.spawn(move || {
                            let _slot = slot;
                            let _clock = functions::enter_statement(clock);
                            let result = helper_groups(&plan.op, morsels, shared, cancel, memory);
                            if result.is_err() {
                                morsels.finish();
                            }
                            result
                        }));
                    }
                }
            };
            let mine = self.accumulate(cx, groups, hold, &mut help);
            if mine.is_err() {
                // Stop the helper at its next claim.
                morsels.finish();
            }
            let theirs = match helper {
                Some(h) => h.join().unwrap_or_else(|_| {
                    Err(Error::internal("a helper thread of the query panicked"))
                }),
                None => Ok(None),
            };
            mine?;
            if let Some((other, _their_hold)) = theirs? {
                groups.merge(other, &self.aggs, hold)?;
            }
            Ok(())
        })
    }
}

/// On a helper thread: builds the aggregation's input again, scans the ranges it claims
/// and returns its groups (with the memory they hold, released once merged).
fn helper_groups(
    op: &Op,
    morsels: &Arc<Morsels>,
    shared: SharedRead<'_>,
    cancel: &nereid_common::CancelToken,
    memory: &Arc<super::memory::MemoryBudget>,
) -> Result<Option<(Groups, Reservation)>, Error> {
    let procedures = crate::procedures::Procedures::default();
    let deleted = super::Deleted::default();
    let lookups = super::lookup::LookupCache::default();
    let env = super::Env {
        params: shared.params,
        cancel,
        memory,
        procedures: &procedures,
        deleted: &deleted,
        lookups: &lookups,
        // A helper takes no helpers.
        parallel: None,
    };
    let mut cx = Ctx {
        graph: super::GraphAccess::Read(shared.graph),
        env: &env,
    };
    let mut agg =
        crate::physical::Builder::new(shared.plan).aggregate(op, Some(morsels.clone()))?;
    let mut hold = Reservation::new(memory);
    let mut groups = Groups::default();
    agg.accumulate(&mut cx, &mut groups, &mut hold, &mut || {})?;
    Ok(Some((groups, hold)))
}

impl Operator for AggregateOp {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        if self.output.is_none() {
            let batches = self.compute(cx)?;
            self.output = Some(batches.into_iter());
        }
        match self.output.as_mut().and_then(Iterator::next) {
            Some(batch) => Ok(Some(batch)),
            None => {
                self.hold = None;
                Ok(None)
            }
        }
    }

    fn reset(&mut self) {
        self.input.reset();
        self.output = None;
        self.hold = None;
        if let Some(memo) = &mut self.key_memo {
            memo.groups = HashMap::new();
        }
    }
}

#[cfg(test)]
mod tests;
