//! Variable-length expansion `(a)-[r*min..max]->(b)`: a depth-first search per input row
//! that yields each relationship-unique path as soon as it is found.
//!
//! The search keeps one frame per depth (the node and its remaining relationships) and the
//! path so far; that state is charged to the query's memory budget as it grows, so an
//! unbounded `[*]` over a dense graph fails with `MemoryLimitExceededException` or stops
//! at the first LIMIT rows, instead of enumerating every path before yielding one.

use nereid_common::Error;
use nereid_storage::{Dir, TypeId};
use nereid_value::{NodeId, RelId, Value};

use super::expand::{has_labels, node_at, type_ids, used, RelType};
use super::expr::{CExpr, Frame, Key, Label};
use super::memory::Reservation;
use super::{Batch, Ctx, Input, Operator};

/// Bytes charged per expansion entry held by the search.
const ENTRY_BYTES: usize = 16;

struct Level {
    entries: Vec<(RelId, NodeId)>,
    pos: usize,
}

pub struct VarExpandOp {
    pub input: Input,
    pub from: usize,
    pub dir: Dir,
    pub types: Vec<RelType>,
    pub to_labels: Vec<Label>,
    pub min: u64,
    pub max: Option<u64>,
    pub into: Option<usize>,
    pub unique: Vec<usize>,
    pub rel_props: Vec<(Key, CExpr)>,
    pub reversed: bool,
    pub keep: Vec<usize>,
    pub emit_rel: bool,
    pub emit_to: bool,
    pub frame: Frame,
    // Search state of the current input row.
    active: bool,
    start: Option<NodeId>,
    target: Option<NodeId>,
    props: Vec<(Option<u32>, Value)>,
    stack: Vec<Level>,
    path: Vec<RelId>,
    /// The zero-length path of the current row is still to be reported.
    zero_pending: bool,
    type_buf: Vec<TypeId>,
    hold: Option<Reservation>,
    held_entries: usize,
}

impl VarExpandOp {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        input: Input,
        from: usize,
        dir: Dir,
        types: Vec<RelType>,
        to_labels: Vec<Label>,
        min: u64,
        max: Option<u64>,
        into: Option<usize>,
        unique: Vec<usize>,
        rel_props: Vec<(Key, CExpr)>,
        reversed: bool,
        keep: Vec<usize>,
        emit_rel: bool,
        emit_to: bool,
    ) -> Self {
        Self {
            input,
            from,
            dir,
            types,
            to_labels,
            min,
            max,
            into,
            unique,
            rel_props,
            reversed,
            keep,
            emit_rel,
            emit_to,
            frame: Frame::new(),
            active: false,
            start: None,
            target: None,
            props: Vec::new(),
            stack: Vec::new(),
            path: Vec::new(),
            zero_pending: false,
            type_buf: Vec::new(),
            hold: None,
            held_entries: 0,
        }
    }

    /// Prepares the search from the current input row; false when it cannot match.
    fn begin(&mut self, cx: &Ctx) -> Result<bool, Error> {
        self.stack.clear();
        self.path.clear();
        self.held_entries = 0;
        let row = self.input.row();
        let Some(n) = node_at(row, self.from)? else {
            return Ok(false);
        };
        self.start = Some(n);
        self.target = match self.into {
            Some(c) => match node_at(row, c)? {
                Some(m) => Some(m),
                None => return Ok(false),
            },
            None => None,
        };
        let g = cx.graph();
        let ecx = cx.eval();
        self.props.clear();
        for (k, e) in &self.rel_props {
            let v = e.eval(row, &mut self.frame, &ecx)?;
            if v.is_null() {
                // `{k: null}` never matches.
                return Ok(false);
            }
            self.props.push((k.id(g), v));
        }
        if self.props.iter().any(|(k, _)| k.is_none()) {
            // A key no relationship has: only the zero-length path can match.
            self.zero_pending = self.min == 0;
            return Ok(self.zero_pending);
        }
        if !type_ids(&self.types, g, &mut self.type_buf) {
            self.zero_pending = self.min == 0;
            return Ok(self.zero_pending);
        }
        self.zero_pending = self.min == 0;
        if self.max != Some(0) {
            self.push_level(cx, n)?;
        }
        Ok(true)
    }

    fn push_level(&mut self, cx: &Ctx, n: NodeId) -> Result<(), Error> {
        let mut entries = Vec::new();
        cx.graph().expand(n, self.dir, &self.type_buf, &mut entries);
        self.held_entries += entries.len();
        let bytes = self.held_entries * ENTRY_BYTES + self.path.len() * 8;
        if bytes > 1 << 16 {
            Reservation::on(&mut self.hold, cx.env.memory).resize(bytes)?;
        }
        self.stack.push(Level { entries, pos: 0 });
        Ok(())
    }

    fn pop_level(&mut self) {
        if let Some(l) = self.stack.pop() {
            self.held_entries -= l.entries.len();
        }
        self.path.pop();
    }

    fn target_ok(&self, cx: &Ctx, m: NodeId) -> bool {
        if let Some(t) = self.target {
            if t != m {
                return false;
            }
        }
        self.to_labels.is_empty() || has_labels(cx.graph(), m, &self.to_labels)
    }

    fn emit(&self, out: &mut Batch, end: NodeId) {
        let row = self.input.row();
        out.push_cols(row, &self.keep);
        if self.emit_rel {
            let mut list: Vec<Value> = self.path.iter().map(|r| Value::Relationship(*r)).collect();
            if self.reversed {
                list.reverse();
            }
            out.push(Value::List(list));
        }
        if self.emit_to {
            out.push(Value::Node(end));
        }
        out.end_row();
    }

    /// Continues the search, appending matches to `out` until it is full; false when the
    /// current row's search is exhausted.
    fn search(&mut self, cx: &Ctx, out: &mut Batch) -> Result<bool, Error> {
        let Some(start) = self.start else {
            return Ok(false);
        };
        if self.zero_pending {
            self.zero_pending = false;
            if self.target_ok(cx, start) {
                self.emit(out, start);
            }
        }
        let g = cx.graph();
        let mut ticks = 0u32;
        while !out.is_full() {
            let Some(level) = self.stack.last_mut() else {
                return Ok(false);
            };
            ticks = ticks.wrapping_add(1);
            if ticks.is_multiple_of(1024) {
                cx.check()?;
            }
            if level.pos >= level.entries.len() {
                self.pop_level();
                continue;
            }
            let (r, m) = level.entries[level.pos];
            level.pos += 1;
            if self.path.contains(&r) {
                continue;
            }
            let row = self.input.row();
            if !self.unique.is_empty() && used(row, &self.unique, r) {
                continue;
            }
            if !self.props.iter().all(|(k, v)| {
                k.and_then(|k| g.rel_property(r, k))
                    .is_some_and(|p| p.cypher_eq(v) == Some(true))
            }) {
                continue;
            }
            self.path.push(r);
            let depth = self.path.len() as u64;
            if depth >= self.min && self.target_ok(cx, m) {
                self.emit(out, m);
            }
            if self.max.is_none_or(|mx| depth < mx) {
                self.push_level(cx, m)?;
            } else {
                self.path.pop();
            }
        }
        Ok(true)
    }
}

impl Operator for VarExpandOp {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        cx.check()?;
        let width = self.keep.len() + usize::from(self.emit_rel) + usize::from(self.emit_to);
        let mut out = Batch::new(width);
        while !out.is_full() {
            if !self.active {
                if !self.input.advance(cx)? {
                    break;
                }
                if !self.begin(cx)? {
                    self.input.bump();
                    continue;
                }
                self.active = true;
            }
            if !self.search(cx, &mut out)? {
                self.active = false;
                self.stack.clear();
                self.path.clear();
                self.held_entries = 0;
                if let Some(h) = &mut self.hold {
                    h.clear();
                }
                self.input.bump();
            }
        }
        if out.is_empty() {
            return Ok(None);
        }
        out.seal(cx.env.memory)?;
        Ok(Some(out))
    }

    fn reset(&mut self) {
        self.input.reset();
        self.active = false;
        super::recycle(&mut self.stack);
        super::recycle(&mut self.path);
        self.held_entries = 0;
        if let Some(h) = &mut self.hold {
            h.clear();
        }
    }
}
