//! Single-hop expansions: `Expand` (optionally into a bound node) and the multiway
//! intersection `ExpandIntersect` that closes cycles such as triangles.

use std::sync::OnceLock;

use nereid_common::Error;
use nereid_storage::{Dir, GraphRead, TypeId};
use nereid_value::{NodeId, RelId, Value};

use super::expr::Label;
use super::memory::Reservation;
use super::{Batch, Ctx, PerRow, RowRun};

/// A relationship type, resolved on first use.
#[derive(Debug, Clone)]
pub struct RelType {
    pub name: String,
    id: OnceLock<TypeId>,
}

impl RelType {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            id: OnceLock::new(),
        }
    }

    pub fn id(&self, g: &dyn GraphRead) -> Option<TypeId> {
        if let Some(id) = self.id.get() {
            return Some(*id);
        }
        let id = g.type_id(&self.name)?;
        let _ = self.id.set(id);
        Some(id)
    }
}

/// The ids of `types`; `None` when none of them exists (nothing can match). An empty
/// list means every type.
pub fn type_ids(types: &[RelType], g: &dyn GraphRead, out: &mut Vec<TypeId>) -> bool {
    out.clear();
    out.extend(types.iter().filter_map(|t| t.id(g)));
    types.is_empty() || !out.is_empty()
}

/// The node in column `c` of `row`: `Ok(None)` for null, a type error for anything else.
pub fn node_at(row: &[Value], c: usize) -> Result<Option<NodeId>, Error> {
    match &row[c] {
        Value::Node(n) => Ok(Some(*n)),
        Value::Null => Ok(None),
        other => Err(Error::type_error(format!(
            "Expected a node but got {} ({other})",
            other.type_name()
        ))),
    }
}

/// Whether relationship `r` is held by one of `cols` of `row` (relationship uniqueness).
pub fn used(row: &[Value], cols: &[usize], r: RelId) -> bool {
    cols.iter().any(|c| match &row[*c] {
        Value::Relationship(x) => *x == r,
        Value::List(l) => l
            .iter()
            .any(|v| matches!(v, Value::Relationship(x) if *x == r)),
        _ => false,
    })
}

pub fn has_labels(g: &dyn GraphRead, n: NodeId, labels: &[Label]) -> bool {
    labels
        .iter()
        .all(|l| l.id(g).is_some_and(|id| g.node_has_label(n, id)))
}

/// Whether every relationship of `types` has, at its `end` (`Dir::Out`: its start node,
/// `Dir::In`: its end node), a node carrying all of `labels` — then checking them row by
/// row is redundant. Decided from the store's per-type end-label counts; `false` for any
/// type (`types` empty) or either direction.
pub fn ends_carry(g: &dyn GraphRead, types: &[TypeId], end: Dir, labels: &[Label]) -> bool {
    end != Dir::Both
        && !types.is_empty()
        && labels.iter().all(|l| {
            l.id(g).is_some_and(|id| {
                types
                    .iter()
                    .all(|&t| g.type_end_label_count(t, end, id) == g.type_count(t))
            })
        })
}

/// Entries of an expansion buffer held beyond which the buffer is charged to the budget.
pub(crate) const FREE_ENTRIES: usize = 1 << 16;

/// `(from)-[rel]->(to)` for each input row.
pub type ExpandOp = PerRow<ExpandRun>;

/// The relationships of one input row's `from` node (to the node in `into`, if given).
pub struct ExpandRun {
    pub from: usize,
    pub dir: Dir,
    pub types: Vec<RelType>,
    pub to_labels: Vec<Label>,
    /// Expand into the node in this column.
    pub into: Option<usize>,
    pub unique: Vec<usize>,
    pub keep: Vec<usize>,
    pub emit_rel: bool,
    pub emit_to: bool,
    pub buf: Vec<(RelId, NodeId)>,
    pub pos: usize,
    pub type_buf: Vec<TypeId>,
    pub hold: Option<Reservation>,
    /// Whether `to_labels` must be checked per relationship; decided on the first row
    /// (see [`ends_carry`]) and kept for a read, whose counts cannot change.
    pub check_to: Option<bool>,
    /// The `from` nodes of the input batch, handed to the store to prefetch.
    pub batch_nodes: Vec<NodeId>,
}

impl RowRun for ExpandRun {
    fn width(&self) -> usize {
        self.keep.len() + usize::from(self.emit_rel) + usize::from(self.emit_to)
    }

    fn load(&mut self, cx: &Ctx, row: &[Value]) -> Result<(), Error> {
        self.buf.clear();
        self.pos = 0;
        let g = cx.graph();
        let Some(n) = node_at(row, self.from)? else {
            return Ok(());
        };
        let target = match self.into {
            Some(c) => match node_at(row, c)? {
                Some(m) => Some(m),
                None => return Ok(()),
            },
            None => None,
        };
        if !type_ids(&self.types, g, &mut self.type_buf) {
            return Ok(());
        }
        // A write may change the counts between rows: it decides again for each row.
        if self.check_to.is_none() || !matches!(cx.graph, super::GraphAccess::Read(_)) {
            self.check_to = Some(
                !self.to_labels.is_empty()
                    && !ends_carry(g, &self.type_buf, self.dir.reverse(), &self.to_labels),
            );
        }
        match target {
            Some(m) => g.expand_to(n, self.dir, &self.type_buf, m, &mut self.buf),
            None => g.expand(n, self.dir, &self.type_buf, &mut self.buf),
        }
        if self.buf.len() > FREE_ENTRIES {
            let hold = Reservation::on(&mut self.hold, cx.env.memory);
            hold.resize(self.buf.len() * 16)?;
        }
        Ok(())
    }

    fn emit(&mut self, cx: &Ctx, row: &[Value], out: &mut Batch) -> bool {
        let g = cx.graph();
        while self.pos < self.buf.len() {
            let (r, m) = self.buf[self.pos];
            self.pos += 1;
            if !self.unique.is_empty() && used(row, &self.unique, r) {
                continue;
            }
            if self.check_to != Some(false) && !has_labels(g, m, &self.to_labels) {
                continue;
            }
            out.push_cols(row, &self.keep);
            if self.emit_rel {
                out.push(Value::Relationship(r));
            }
            if self.emit_to {
                out.push(Value::Node(m));
            }
            out.end_row();
            return true;
        }
        false
    }

    fn clear(&mut self) {
        super::recycle(&mut self.buf);
        super::recycle(&mut self.batch_nodes);
        self.pos = 0;
        // Decided again on the next run: a reused tree's next run may read a newer
        // snapshot, whose counts differ.
        self.check_to = None;
    }

    fn prefetch(&mut self, cx: &Ctx, rows: &Batch) {
        batch_nodes(rows, self.from, &mut self.batch_nodes);
        if self.batch_nodes.len() > 1 {
            cx.graph().prefetch_adjacency(&self.batch_nodes);
        }
    }
}

/// The nodes in column `col` of `rows` (a batch big enough to gain from a prefetch).
fn batch_nodes(rows: &Batch, col: usize, out: &mut Vec<NodeId>) {
    out.clear();
    if rows.len() < 2 {
        return;
    }
    out.extend(rows.rows().filter_map(|r| match r.get(col) {
        Some(Value::Node(n)) => Some(*n),
        _ => None,
    }));
}

/// One leg of an intersection, compiled.
pub struct CLeg {
    pub from: usize,
    pub dir: Dir,
    pub types: Vec<RelType>,
    pub emit_rel: bool,
}

/// Binds a node adjacent to every leg's `from` node: the legs' neighbour lists, sorted by
/// neighbour, are intersected in one merge pass (a worst-case-optimal join step), and
/// each common neighbour is emitted once per combination of joining relationships.
pub type IntersectOp = PerRow<IntersectRun>;

/// The common neighbours of one input row's leg nodes.
pub struct IntersectRun {
    pub legs: Vec<CLeg>,
    pub to_labels: Vec<Label>,
    pub unique: Vec<usize>,
    pub keep: Vec<usize>,
    pub emit_to: bool,
    /// Per leg: `(neighbour, relationship)` sorted.
    pub lists: Vec<Vec<(NodeId, RelId)>>,
    /// Per leg: the node whose list `lists` holds (reused while it stays the same).
    pub listed: Vec<Option<NodeId>>,
    /// Matches of the current input row: the node and one relationship per leg.
    pub pending: Vec<(NodeId, Vec<RelId>)>,
    pub pos: usize,
    pub type_buf: Vec<TypeId>,
    pub raw: Vec<(RelId, NodeId)>,
}

impl RowRun for IntersectRun {
    fn width(&self) -> usize {
        let emit_rels = self.legs.iter().filter(|l| l.emit_rel).count();
        self.keep.len() + usize::from(self.emit_to) + emit_rels
    }

    fn load(&mut self, cx: &Ctx, row: &[Value]) -> Result<(), Error> {
        self.pending.clear();
        self.pos = 0;
        let g = cx.graph();
        self.lists.resize_with(self.legs.len(), Vec::new);
        self.listed.resize(self.legs.len(), None);
        for (i, leg) in self.legs.iter().enumerate() {
            let Some(n) = node_at(row, leg.from)? else {
                self.listed[i] = None;
                return Ok(());
            };
            // Consecutive rows often share a leg's node (all the neighbours of one `a`).
            if self.listed[i] == Some(n) {
                continue;
            }
            let list = &mut self.lists[i];
            list.clear();
            self.listed[i] = None;
            if !type_ids(&leg.types, g, &mut self.type_buf) {
                return Ok(());
            }
            self.raw.clear();
            g.expand(n, leg.dir, &self.type_buf, &mut self.raw);
            list.extend(self.raw.iter().map(|&(r, m)| (m, r)));
            list.sort_unstable();
            self.listed[i] = Some(n);
        }
        // Merge-intersect on the neighbour.
        let k = self.lists.len();
        let mut idx = vec![0usize; k];
        'outer: loop {
            let mut max = None;
            for (i, l) in self.lists.iter().enumerate() {
                let Some(&(m, _)) = l.get(idx[i]) else {
                    break 'outer;
                };
                if max.is_none_or(|x| m > x) {
                    max = Some(m);
                }
            }
            let Some(target) = max else { break };
            let mut all = true;
            for (i, l) in self.lists.iter().enumerate() {
                // Gallop forward to the first entry >= target.
                let rest = &l[idx[i]..];
                let skip = rest.partition_point(|(m, _)| *m < target);
                idx[i] += skip;
                match l.get(idx[i]) {
                    Some(&(m, _)) if m == target => {}
                    Some(_) => all = false,
                    None => break 'outer,
                }
            }
            if !all {
                continue;
            }
            // Every leg's run of relationships to `target`.
            let runs: Vec<&[(NodeId, RelId)]> = self
                .lists
                .iter()
                .zip(&idx)
                .map(|(l, &i)| {
                    let end = i + l[i..].partition_point(|(m, _)| *m == target);
                    &l[i..end]
                })
                .collect();
            if self.to_labels.is_empty() || has_labels(g, target, &self.to_labels) {
                let mut choice = vec![0usize; k];
                loop {
                    let rels: Vec<RelId> = (0..k).map(|j| runs[j][choice[j]].1).collect();
                    let distinct = (0..k).all(|a| (a + 1..k).all(|b| rels[a] != rels[b]));
                    if distinct && !rels.iter().any(|r| used(row, &self.unique, *r)) {
                        self.pending.push((target, rels));
                    }
                    // Next combination.
                    let mut j = 0;
                    loop {
                        if j == k {
                            break;
                        }
                        choice[j] += 1;
                        if choice[j] < runs[j].len() {
                            break;
                        }
                        choice[j] = 0;
                        j += 1;
                    }
                    if j == k {
                        break;
                    }
                }
            }
            for (i, r) in runs.iter().enumerate() {
                idx[i] += r.len();
            }
        }
        if self.pending.len() > FREE_ENTRIES {
            cx.env.memory.check(self.pending.len() * (24 + 8 * k))?;
        }
        Ok(())
    }

    fn emit(&mut self, _cx: &Ctx, row: &[Value], out: &mut Batch) -> bool {
        let Some((m, rels)) = self.pending.get(self.pos) else {
            return false;
        };
        self.pos += 1;
        out.push_cols(row, &self.keep);
        if self.emit_to {
            out.push(Value::Node(*m));
        }
        for (leg, r) in self.legs.iter().zip(rels) {
            if leg.emit_rel {
                out.push(Value::Relationship(*r));
            }
        }
        out.end_row();
        true
    }

    fn clear(&mut self) {
        super::recycle(&mut self.pending);
        self.pos = 0;
        super::recycle(&mut self.listed);
    }
}

/// `NodeDegree`: per input row, the number of relationships of its node (the count of a
/// one-hop pattern, without a row per relationship); no row when it is zero.
pub type DegreeOp = PerRow<DegreeRun>;

pub struct DegreeRun {
    pub node: usize,
    pub dir: Dir,
    pub types: Vec<RelType>,
    pub other_labels: Vec<Label>,
    pub keep: Vec<usize>,
    /// Whether the count is part of the output rows.
    pub emit: bool,
    /// Whether the other ends' labels must be checked one by one: decided on the first
    /// row from the store's per-type end-label counts (when every relationship of the
    /// types ends at such a node, the stored degree is the answer).
    check_labels: Option<bool>,
    type_buf: Vec<TypeId>,
    buf: Vec<(RelId, NodeId)>,
    /// The current row's count; 0 once emitted.
    count: usize,
    /// The nodes of the input batch, handed to the store to prefetch.
    batch_nodes: Vec<NodeId>,
}

impl DegreeRun {
    pub fn op(
        input: super::Input,
        node: usize,
        dir: Dir,
        types: Vec<RelType>,
        other_labels: Vec<Label>,
        keep: Vec<usize>,
        emit: bool,
    ) -> DegreeOp {
        PerRow::new(
            input,
            DegreeRun {
                node,
                dir,
                types,
                other_labels,
                keep,
                emit,
                check_labels: None,
                type_buf: Vec::new(),
                buf: Vec::new(),
                count: 0,
                batch_nodes: Vec::new(),
            },
        )
    }

    fn needs_label_check(&self, g: &dyn GraphRead) -> bool {
        !self.other_labels.is_empty()
            && !ends_carry(g, &self.type_buf, self.dir.reverse(), &self.other_labels)
    }
}

impl RowRun for DegreeRun {
    fn width(&self) -> usize {
        self.keep.len() + usize::from(self.emit)
    }

    /// Degrees of a whole batch of nodes read each node's adjacency block once: touching
    /// them all first lets the cache misses overlap (the degree loop would wait for each).
    fn prefetch(&mut self, cx: &Ctx, rows: &Batch) {
        batch_nodes(rows, self.node, &mut self.batch_nodes);
        if self.batch_nodes.len() > 1 {
            cx.graph().prefetch_adjacency(&self.batch_nodes);
        }
    }

    fn load(&mut self, cx: &Ctx, row: &[Value]) -> Result<(), Error> {
        self.count = 0;
        let g = cx.graph();
        let Some(n) = node_at(row, self.node)? else {
            return Ok(());
        };
        if !type_ids(&self.types, g, &mut self.type_buf) {
            return Ok(());
        }
        let check = match self.check_labels {
            Some(c) => c,
            None => {
                let c = self.needs_label_check(g);
                // A write may change the counts between rows; a read's snapshot cannot.
                if matches!(cx.graph, super::GraphAccess::Read(_)) {
                    self.check_labels = Some(c);
                }
                c
            }
        };
        self.count = if check {
            self.buf.clear();
            g.expand(n, self.dir, &self.type_buf, &mut self.buf);
            // Held only while counted: checked against the budget, not kept on it.
            if self.buf.len() > FREE_ENTRIES {
                cx.env.memory.check(self.buf.len() * 16)?;
            }
            self.buf
                .iter()
                .filter(|(_, o)| has_labels(g, *o, &self.other_labels))
                .count()
        } else {
            g.degree(n, self.dir, &self.type_buf)
        };
        Ok(())
    }

    fn emit(&mut self, _cx: &Ctx, row: &[Value], out: &mut Batch) -> bool {
        if self.count == 0 {
            return false;
        }
        out.push_cols(row, &self.keep);
        if self.emit {
            out.push(Value::Int(self.count as i64));
        }
        out.end_row();
        self.count = 0;
        true
    }

    fn clear(&mut self) {
        self.count = 0;
        self.check_labels = None;
    }
}
