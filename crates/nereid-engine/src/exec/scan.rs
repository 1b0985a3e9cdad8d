//! Leaf access paths: node scans (all nodes, or by label) and index seeks, each run once
//! per input row and streamed a batch at a time.

use std::sync::Arc;

use nereid_common::Error;
use nereid_storage::{Dir, GraphRead};
use nereid_value::{NodeId, RelId, Value};

use super::expand::{ends_carry, has_labels, RelType};
use super::expr::{CExpr, Frame, Key, Label};
use super::parallel::{Morsels, MORSEL};
use super::{Batch, Ctx, Input, Operator, PerRow, RowRun, BATCH};
use crate::plan::ID_KEY;

/// Nodes fetched from the store per call.
const SCAN_CHUNK: usize = 1024;

/// Binds a variable to every node carrying `labels` (all nodes when empty), for each input
/// row: `keep` input columns, then the node when `emit`.
/// What a paged scan reads for each input row: a resumable source of items (nodes or
/// relationships), a page at a time, and how an item extends the input row.
pub trait Pages {
    type Item: Copy;
    /// Appends up to one page of items from position `from`; the position to continue
    /// from, `None` when done.
    fn fetch(&self, g: &dyn GraphRead, from: u64, out: &mut Vec<Self::Item>) -> Option<u64>;
    /// The item's position, as `fetch` counts them (its id).
    fn pos(item: &Self::Item) -> u64;
    /// Values the item adds to a row.
    fn width(&self) -> usize;
    fn push(&self, item: Self::Item, out: &mut Batch);
}

/// For each input row, every item of a [`Pages`] source (the input row's kept columns, then
/// the item's values): streams, one page of items held at a time.
pub struct PagedScan<P: Pages> {
    pub input: Input,
    pub source: P,
    pub keep: Vec<usize>,
    /// The current input row's scan position: `None` = take the next input row.
    cursor: Option<u64>,
    buf: Vec<P::Item>,
    buf_pos: usize,
    /// When this scan is one of several copies of a pipeline running on several threads:
    /// the shared cursor it claims ranges of positions from (see [`super::parallel`]).
    morsels: Option<Arc<Morsels>>,
    /// The end of the claimed range.
    end: u64,
}

impl<P: Pages> PagedScan<P> {
    pub fn new(input: Input, source: P, keep: Vec<usize>) -> Self {
        Self {
            input,
            source,
            keep,
            cursor: None,
            buf: Vec::new(),
            buf_pos: 0,
            morsels: None,
            end: u64::MAX,
        }
    }

    /// Scans only the ranges it claims from `morsels`.
    pub fn with_morsels(mut self, morsels: Option<Arc<Morsels>>) -> Self {
        self.morsels = morsels;
        self
    }

    /// Where the scan of a new input row starts.
    fn start(&mut self) -> u64 {
        match &self.morsels {
            Some(m) => {
                let c = m.claim();
                self.end = c.saturating_add(MORSEL);
                c
            }
            None => 0,
        }
    }

    /// Fetches the page at `from` into the buffer; the position to continue from.
    fn fetch(&mut self, g: &dyn GraphRead, from: u64) -> Option<u64> {
        self.buf.clear();
        self.buf_pos = 0;
        let next = self.source.fetch(g, from, &mut self.buf);
        let Some(m) = &self.morsels else {
            return next;
        };
        let end = self.end;
        let fetched = self.buf.len();
        self.buf.retain(|i| P::pos(i) < end);
        let beyond = self.buf.len() < fetched;
        match next {
            Some(n) if n < end && !beyond => Some(n),
            // Nothing at or after `from` beyond what was fetched, all of it in range: no
            // later range holds anything either.
            None if !beyond => None,
            // The page reached past the range: its rest belongs to later claims.
            _ => {
                let c = m.claim();
                self.end = c.saturating_add(MORSEL);
                Some(c)
            }
        }
    }
}

impl<P: Pages> Operator for PagedScan<P> {
    fn next(&mut self, cx: &mut Ctx) -> Result<Option<Batch>, Error> {
        cx.check()?;
        let mut out = Batch::new(self.keep.len() + self.source.width());
        loop {
            if self.cursor.is_none() && self.buf_pos >= self.buf.len() {
                if !self.input.advance(cx)? {
                    break;
                }
                self.cursor = Some(self.start());
                self.buf.clear();
                self.buf_pos = 0;
            }
            if self.buf_pos >= self.buf.len() {
                let Some(from) = self.cursor else {
                    // This row's scan is done.
                    self.input.bump();
                    continue;
                };
                self.cursor = self.fetch(cx.graph(), from);
                if self.buf.is_empty() && self.cursor.is_none() {
                    self.input.bump();
                    continue;
                }
            }
            let row = self.input.row();
            while self.buf_pos < self.buf.len() && !out.is_full() {
                let item = self.buf[self.buf_pos];
                self.buf_pos += 1;
                out.push_cols(row, &self.keep);
                self.source.push(item, &mut out);
                out.end_row();
            }
            if self.buf_pos >= self.buf.len() && self.cursor.is_none() {
                self.input.bump();
            }
            if out.is_full() {
                break;
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
        self.cursor = None;
        super::recycle(&mut self.buf);
        self.buf_pos = 0;
    }
}

/// The nodes carrying every label (every node without labels), in id order.
pub struct NodePages {
    pub labels: Vec<Label>,
    /// Whether rows carry the node.
    pub emit: bool,
}

/// Every node carrying `labels`, per input row.
pub type ScanOp = PagedScan<NodePages>;

impl Pages for NodePages {
    type Item = NodeId;

    fn fetch(&self, g: &dyn GraphRead, from: u64, out: &mut Vec<NodeId>) -> Option<u64> {
        let label = scan_label(&self.labels, g).ok()?;
        let next = g.scan_nodes(label, from, SCAN_CHUNK, out);
        if self.labels.len() > 1 {
            out.retain(|n| has_labels(g, *n, &self.labels));
        }
        next
    }

    fn pos(n: &NodeId) -> u64 {
        n.0
    }

    fn width(&self) -> usize {
        usize::from(self.emit)
    }

    fn push(&self, n: NodeId, out: &mut Batch) {
        if self.emit {
            out.push(Value::Node(n));
        }
    }
}

/// The relationships of one type with their two nodes, in relationship id order; the ends'
/// labels are checked per relationship.
pub struct RelPages {
    pub rel_type: RelType,
    pub start_labels: Vec<Label>,
    pub end_labels: Vec<Label>,
    /// Which of start, relationship, end the rows carry (in that order).
    pub emit: [bool; 3],
}

/// Every relationship of a type with its nodes, per input row (`RelationshipTypeScan`).
pub type RelScanOp = PagedScan<RelPages>;

impl Pages for RelPages {
    type Item = (RelId, NodeId, NodeId);

    fn fetch(&self, g: &dyn GraphRead, from: u64, out: &mut Vec<Self::Item>) -> Option<u64> {
        let t = self.rel_type.id(g)?;
        let next = g.scan_rels(t, from, SCAN_CHUNK, out);
        // Not when the per-type end-label counts say every relationship's ends carry them
        // (`(:Person)-[:KNOWS]->(:Person)` when all KNOWS join persons).
        let must_check =
            |end, labels: &[Label]| !labels.is_empty() && !ends_carry(g, &[t], end, labels);
        let (check_start, check_end) = (
            must_check(Dir::Out, &self.start_labels),
            must_check(Dir::In, &self.end_labels),
        );
        if check_start || check_end {
            let (sl, el) = (&self.start_labels, &self.end_labels);
            out.retain(|(_, a, b)| {
                (!check_start || has_labels(g, *a, sl)) && (!check_end || has_labels(g, *b, el))
            });
        }
        next
    }

    fn pos(item: &Self::Item) -> u64 {
        item.0 .0
    }

    fn width(&self) -> usize {
        self.emit.iter().filter(|e| **e).count()
    }

    fn push(&self, (r, a, b): Self::Item, out: &mut Batch) {
        let values = [Value::Node(a), Value::Relationship(r), Value::Node(b)];
        for (on, v) in self.emit.iter().zip(values) {
            if *on {
                out.push(v);
            }
        }
    }
}

/// The label of `labels` with the fewest nodes (the others are checked per node); `None`
/// for "every node", `Err(())` when some label does not exist (nothing matches).
fn scan_label(labels: &[Label], g: &dyn GraphRead) -> Result<Option<u32>, ()> {
    let mut best: Option<(u32, u64)> = None;
    for l in labels {
        let id = l.id(g).ok_or(())?;
        let n = g.label_count(id);
        if best.is_none_or(|(_, c)| n < c) {
            best = Some((id, n));
        }
    }
    Ok(best.map(|(id, _)| id))
}

/// One end of a range seek.
pub enum SeekBound {
    Included(Value),
    Excluded(Value),
    Unbounded,
}

/// How a seek finds its nodes, compiled.
pub enum CSeek {
    Eq(CExpr),
    In(CExpr),
    Range {
        lower: Option<(CExpr, bool)>,
        upper: Option<(CExpr, bool)>,
    },
    Prefix(CExpr),
}

/// Nodes found by property value (or `~id`) for each input row.
pub type SeekOp = PerRow<SeekRun>;

/// The nodes one input row's seek values find.
pub struct SeekRun {
    pub labels: Vec<Label>,
    pub key: Key,
    pub seek: CSeek,
    pub keep: Vec<usize>,
    pub emit: bool,
    pub width: usize,
    pub frame: Frame,
    pub found: Vec<NodeId>,
    pub pos: usize,
}

impl SeekRun {
    pub fn op(
        input: Input,
        labels: Vec<Label>,
        key: &str,
        seek: CSeek,
        keep: Vec<usize>,
        emit: bool,
    ) -> SeekOp {
        let width = keep.len() + usize::from(emit);
        let run = Self {
            labels,
            key: Key::new(key),
            seek,
            keep,
            emit,
            width,
            frame: Frame::new(),
            found: Vec::new(),
            pos: 0,
        };
        PerRow::new(input, run)
    }

    /// The nodes of `row`.
    fn lookup(&mut self, cx: &Ctx, row: &[Value]) -> Result<(), Error> {
        self.found.clear();
        self.pos = 0;
        let ecx = cx.eval();
        let g = cx.graph();
        let mut label_ids = Vec::with_capacity(self.labels.len());
        for l in &self.labels {
            match l.id(g) {
                Some(id) => label_ids.push(id),
                None => return Ok(()),
            }
        }
        let first = label_ids.iter().copied().min_by_key(|l| g.label_count(*l));
        let values: Vec<Value> = match &self.seek {
            CSeek::Eq(e) => vec![e.eval(row, &mut self.frame, &ecx)?],
            CSeek::In(e) => match e.eval(row, &mut self.frame, &ecx)? {
                Value::List(items) => items,
                Value::Null => Vec::new(),
                other => {
                    return Err(Error::type_error(format!(
                        "IN expects a list but got {} ({other})",
                        other.type_name()
                    )))
                }
            },
            CSeek::Range { lower, upper } => {
                let mut bound = |b: &Option<(CExpr, bool)>| -> Result<_, Error> {
                    Ok(match b {
                        Some((e, inc)) => Some((e.eval(row, &mut self.frame, &ecx)?, *inc)),
                        None => None,
                    })
                };
                let lo = bound(lower)?;
                let hi = bound(upper)?;
                if lo.as_ref().is_some_and(|(v, _)| v.is_null())
                    || hi.as_ref().is_some_and(|(v, _)| v.is_null())
                {
                    return Ok(());
                }
                if let Some(k) = self.key.id(g) {
                    let to_bound = |b: &Option<(Value, bool)>| match b {
                        Some((v, true)) => SeekBound::Included(v.clone()),
                        Some((v, false)) => SeekBound::Excluded(v.clone()),
                        None => SeekBound::Unbounded,
                    };
                    crate::exec::scan::range_seek(
                        g,
                        first,
                        k,
                        to_bound(&lo),
                        to_bound(&hi),
                        &mut self.found,
                    );
                }
                self.finish(g, &label_ids);
                return Ok(());
            }
            CSeek::Prefix(e) => {
                let v = e.eval(row, &mut self.frame, &ecx)?;
                if let (Value::String(p), Some(k)) = (&v, self.key.id(g)) {
                    crate::exec::scan::prefix_seek(g, first, k, p, &mut self.found);
                }
                self.finish(g, &label_ids);
                return Ok(());
            }
        };
        for v in values {
            if self.key.name == ID_KEY {
                if let Value::String(s) = &v {
                    if let Some(n) = g.node_by_external_id(s) {
                        self.found.push(n);
                    }
                }
                continue;
            }
            // Null and NaN equal nothing (the filter this seek replaced would say so).
            if v.is_null() || matches!(v, Value::Float(f) if f.is_nan()) {
                continue;
            }
            if let Some(k) = self.key.id(g) {
                let indexed = first.and_then(|l| g.nodes_by_property(l, k, &v));
                let found = indexed.or_else(|| {
                    first.and_then(|l| cx.env.lookups.lookup(g, l, k, &v, cx.env.memory))
                });
                match found {
                    Some(found) => self.found.extend(found),
                    None => eq_seek(g, first, k, &v, &mut self.found),
                }
            }
        }
        if matches!(self.seek, CSeek::In(_)) {
            self.found.sort_unstable();
            self.found.dedup();
        }
        self.finish(g, &label_ids);
        Ok(())
    }

    /// Keeps the nodes that carry every label.
    fn finish(&mut self, g: &dyn GraphRead, labels: &[u32]) {
        if !labels.is_empty() {
            self.found
                .retain(|n| labels.iter().all(|l| g.node_has_label(*n, *l)));
        }
    }
}

impl RowRun for SeekRun {
    fn width(&self) -> usize {
        self.width
    }

    fn load(&mut self, cx: &Ctx, row: &[Value]) -> Result<(), Error> {
        self.lookup(cx, row)
    }

    fn emit(&mut self, _cx: &Ctx, row: &[Value], out: &mut Batch) -> bool {
        let Some(&n) = self.found.get(self.pos) else {
            return false;
        };
        self.pos += 1;
        out.push_cols(row, &self.keep);
        if self.emit {
            out.push(Value::Node(n));
        }
        out.end_row();
        true
    }

    fn clear(&mut self) {
        super::recycle(&mut self.found);
        self.pos = 0;
    }
}

/// Nodes whose `key` equals `v` (and carry `label`), from the store's property index when
/// it has one for the key, else by scanning.
pub fn eq_seek(g: &dyn GraphRead, label: Option<u32>, key: u32, v: &Value, out: &mut Vec<NodeId>) {
    if let Some(l) = label {
        if let Some(found) = g.nodes_by_property(l, key, v) {
            out.extend(found);
            return;
        }
    }
    scan_filter(g, label, key, out, |p| p.cypher_eq(v) == Some(true));
}

/// Nodes whose `key` lies within the bounds.
pub fn range_seek(
    g: &dyn GraphRead,
    label: Option<u32>,
    key: u32,
    lower: SeekBound,
    upper: SeekBound,
    out: &mut Vec<NodeId>,
) {
    use std::ops::Bound;
    fn conv(b: &SeekBound) -> Bound<&Value> {
        match b {
            SeekBound::Included(v) => Bound::Included(v),
            SeekBound::Excluded(v) => Bound::Excluded(v),
            SeekBound::Unbounded => Bound::Unbounded,
        }
    }
    if let Some(l) = label {
        if let Some(found) = g.nodes_by_property_range(l, key, conv(&lower), conv(&upper)) {
            out.extend(found);
            out.sort_unstable();
            return;
        }
    }
    let ok = |p: &Value, b: &SeekBound, below: bool| -> bool {
        let (v, inclusive) = match b {
            SeekBound::Unbounded => return true,
            SeekBound::Included(v) => (v, true),
            SeekBound::Excluded(v) => (v, false),
        };
        match p.cypher_cmp(v) {
            Some(o) if below => o.is_lt() || (inclusive && o.is_eq()),
            Some(o) => o.is_gt() || (inclusive && o.is_eq()),
            None => false,
        }
    };
    scan_filter(g, label, key, out, |p| {
        !matches!(p, Value::Float(f) if f.is_nan()) && ok(p, &lower, false) && ok(p, &upper, true)
    });
}

/// Nodes whose string `key` starts with `prefix`.
pub fn prefix_seek(
    g: &dyn GraphRead,
    label: Option<u32>,
    key: u32,
    prefix: &str,
    out: &mut Vec<NodeId>,
) {
    if let Some(found) = label.and_then(|l| g.nodes_by_property_prefix(l, key, prefix)) {
        out.extend(found);
        return;
    }
    scan_filter(
        g,
        label,
        key,
        out,
        |p| matches!(p, Value::String(s) if s.starts_with(prefix)),
    );
}

fn scan_filter(
    g: &dyn GraphRead,
    label: Option<u32>,
    key: u32,
    out: &mut Vec<NodeId>,
    keep: impl Fn(&Value) -> bool,
) {
    let mut from = 0;
    let mut buf = Vec::with_capacity(BATCH);
    loop {
        buf.clear();
        let next = g.scan_nodes(label, from, BATCH, &mut buf);
        for &n in &buf {
            if g.node_property(n, key).is_some_and(|p| keep(&p)) {
                out.push(n);
            }
        }
        match next {
            Some(n) => from = n,
            None => break,
        }
    }
}
