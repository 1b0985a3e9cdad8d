//! What `RelationshipTypeAggregate` aggregates: the rows of the store's bulk relationship
//! scan ([`GraphRead::scan_rel_rows`]), a page at a time, straight into the aggregation's
//! groups — no batch of rows, no expression evaluated per relationship.
//!
//! Each row holds the group keys first (key `i` is column `i`), then the aggregate
//! arguments that are not keys, so the aggregation hashes `row[..keys]` and its aggregates
//! index into the row. The page is charged to the query's memory budget while it is held;
//! the groups charge what they keep, as for any aggregation.

use std::sync::Arc;

use nereid_common::Error;
use nereid_storage::{Dir, GraphRead, LabelId, RelColumn, RelRowScan};
use nereid_value::Value;

use super::expand::{ends_carry, RelType};
use super::expr::{Key, Label};
use super::memory::{heap_size, Reservation};
use super::parallel::{Morsels, MORSEL};
use super::Ctx;

/// Relationships read from the store per call.
const PAGE: usize = 1024;

/// Heap bytes (strings, lists) after which a page ends: pages of large values stay small,
/// as the one value at a time the row-by-row plan holds.
const PAGE_HEAP: usize = 256 << 10;

/// One column of the rows: what the store puts there per relationship.
#[derive(Debug)]
pub enum RelCol {
    Rel,
    Start,
    End,
    Prop(Key),
}

impl RelCol {
    fn same(&self, other: &RelCol) -> bool {
        match (self, other) {
            (RelCol::Rel, RelCol::Rel)
            | (RelCol::Start, RelCol::Start)
            | (RelCol::End, RelCol::End) => true,
            (RelCol::Prop(a), RelCol::Prop(b)) => a.name == b.name,
            _ => false,
        }
    }
}

/// What takes each page of rows: the values row after row, and the row width.
pub type PageSink<'a> = dyn FnMut(&[Value], usize) -> Result<(), Error> + 'a;

/// The relationships of one type (ends carrying labels) as rows of [`RelCol`]s.
pub struct RelFeed {
    pub rel_type: RelType,
    pub start_labels: Vec<Label>,
    pub end_labels: Vec<Label>,
    pub cols: Vec<RelCol>,
    /// Group keys: the first `keys` columns.
    pub keys: usize,
    /// Set when this feed is one of several copies scanning on several threads: the shared
    /// cursor it claims ranges of relationship ids from (see [`super::parallel`]).
    pub morsels: Option<Arc<Morsels>>,
    buf: Vec<Value>,
    columns: Vec<RelColumn>,
}

impl RelFeed {
    pub fn new(
        rel_type: RelType,
        start_labels: Vec<Label>,
        end_labels: Vec<Label>,
        morsels: Option<Arc<Morsels>>,
    ) -> Self {
        Self {
            rel_type,
            start_labels,
            end_labels,
            cols: Vec::new(),
            keys: 0,
            morsels,
            buf: Vec::new(),
            columns: Vec::new(),
        }
    }

    /// The index of a column holding `col`, added if none does yet (`fresh`: always added,
    /// for a key, whose position is its index).
    pub fn column(&mut self, col: RelCol, fresh: bool) -> usize {
        if !fresh {
            if let Some(i) = self.cols.iter().position(|c| c.same(&col)) {
                return i;
            }
        }
        self.cols.push(col);
        self.cols.len() - 1
    }

    /// Scans every qualifying relationship once, handing each page of rows to `each` (the
    /// rows one after the other, and their width); calls `after_page` after each page (a
    /// parallel aggregation may start a helper there).
    pub fn scan(
        &mut self,
        cx: &Ctx,
        each: &mut PageSink<'_>,
        after_page: &mut dyn FnMut(),
    ) -> Result<(), Error> {
        let g = cx.graph();
        let Some(t) = self.rel_type.id(g) else {
            return Ok(());
        };
        let (Some(start_labels), Some(end_labels)) = (
            checked_labels(g, t, Dir::Out, &self.start_labels),
            checked_labels(g, t, Dir::In, &self.end_labels),
        ) else {
            // A label no node carries: nothing matches.
            return Ok(());
        };
        self.columns.clear();
        for c in &self.cols {
            self.columns.push(match c {
                RelCol::Rel => RelColumn::Rel,
                RelCol::Start => RelColumn::Start,
                RelCol::End => RelColumn::End,
                RelCol::Prop(k) => k.id(g).map_or(RelColumn::Null, RelColumn::Prop),
            });
        }
        // `count(*)` alone reads no column; a row still has to stand for each relationship.
        if self.columns.is_empty() {
            self.columns.push(RelColumn::Null);
        }
        let width = self.columns.len();
        let scan = RelRowScan {
            rel_type: t,
            start_labels: &start_labels,
            end_labels: &end_labels,
            columns: &self.columns,
            max_heap: PAGE_HEAP,
        };
        let mut page = Reservation::new(cx.env.memory);
        let (mut from, mut to) = match &self.morsels {
            Some(m) => {
                let c = m.claim();
                (c, c.saturating_add(MORSEL))
            }
            None => (0, u64::MAX),
        };
        loop {
            cx.check()?;
            self.buf.clear();
            let next = g.scan_rel_rows(&scan, from, to, PAGE, &mut self.buf);
            let heap: usize = if self.cols.iter().any(|c| matches!(c, RelCol::Prop(_))) {
                self.buf.iter().map(heap_size).sum()
            } else {
                0
            };
            page.resize(self.buf.capacity() * std::mem::size_of::<Value>() + heap)?;
            if !self.buf.is_empty() {
                each(&self.buf, width)?;
            }
            after_page();
            match (next, &self.morsels) {
                (None, _) => break,
                (Some(n), Some(m)) if n >= to => {
                    from = m.claim();
                    to = from.saturating_add(MORSEL);
                }
                (Some(n), _) => from = n,
            }
        }
        self.buf.clear();
        Ok(())
    }
}

/// The ids of the labels the scan must check at one end: none when the store's per-type
/// counts vouch that every relationship of the type has them there; `None` when one of
/// them does not exist (no node carries it).
fn checked_labels(g: &dyn GraphRead, t: u32, end: Dir, labels: &[Label]) -> Option<Vec<LabelId>> {
    let ids = labels.iter().map(|l| l.id(g)).collect::<Option<Vec<_>>>()?;
    if ids.is_empty() || ends_carry(g, &[t], end, labels) {
        return Some(Vec::new());
    }
    Some(ids)
}
