//! `shortestPath` and `allShortestPaths` between two bound nodes.
//!
//! `shortestPath` runs a bidirectional breadth-first search: both frontiers grow one level
//! at a time, always the smaller one first, until they meet; the path is read back from
//! the parent links of both sides. `allShortestPaths` runs a breadth-first search that
//! keeps every parent link of the level a node was first reached at, stops at the level
//! where the end node is reached, and enumerates the paths back from it. Visited nodes and
//! frontiers are charged to the query's memory budget.
//!
//! Semantics follow Neo4j: the paths have between `min` and `max` relationships (when the
//! shortest connection is shorter than `min`, the shortest paths of at least `min`
//! relationships are found by an exhaustive, depth-bounded search); a start equal to the
//! end gives the empty path when `min` is 0 and no row otherwise; a null end gives no row.

use std::collections::HashMap;

use nereid_common::Error;
use nereid_storage::{Dir, GraphRead, TypeId};
use nereid_value::{NodeId, RelId, Value};

use super::expand::{node_at, type_ids, RelType};
use super::expr::{CExpr, Frame, Key};
use super::memory::Reservation;
use super::{Batch, Ctx, Env, Input, PerRow, RowRun};

/// Bytes charged per visited node.
const VISITED_BYTES: usize = 48;

pub type ShortestPathOp = PerRow<ShortestPathRun>;

/// The shortest paths between one input row's two nodes.
pub struct ShortestPathRun {
    pub from: usize,
    pub to: usize,
    pub dir: Dir,
    pub types: Vec<RelType>,
    pub min: u64,
    pub max: Option<u64>,
    pub all: bool,
    pub rel_props: Vec<(Key, CExpr)>,
    pub keep: Vec<usize>,
    pub emit_rel: bool,
    pub frame: Frame,
    pending: Vec<Vec<RelId>>,
    pos: usize,
    type_buf: Vec<TypeId>,
    hold: Option<Reservation>,
}

impl ShortestPathRun {
    #[allow(clippy::too_many_arguments)]
    pub fn op(
        input: Input,
        from: usize,
        to: usize,
        dir: Dir,
        types: Vec<RelType>,
        min: u64,
        max: Option<u64>,
        all: bool,
        rel_props: Vec<(Key, CExpr)>,
        keep: Vec<usize>,
        emit_rel: bool,
    ) -> ShortestPathOp {
        let run = Self {
            from,
            to,
            dir,
            types,
            min,
            max,
            all,
            rel_props,
            keep,
            emit_rel,
            frame: Frame::new(),
            pending: Vec::new(),
            pos: 0,
            type_buf: Vec::new(),
            hold: None,
        };
        PerRow::new(input, run)
    }
}

/// The search of one input row.
struct Search<'a> {
    g: &'a dyn GraphRead,
    env: &'a Env<'a>,
    dir: Dir,
    types: &'a [TypeId],
    props: &'a [(u32, Value)],
    hold: &'a mut Reservation,
    buf: Vec<(RelId, NodeId)>,
}

impl Search<'_> {
    fn neighbours(&mut self, n: NodeId, dir: Dir) -> Vec<(RelId, NodeId)> {
        self.buf.clear();
        self.g.expand(n, dir, self.types, &mut self.buf);
        if !self.props.is_empty() {
            let g = self.g;
            let props = self.props;
            self.buf.retain(|(r, _)| {
                props.iter().all(|(k, v)| {
                    g.rel_property(*r, *k)
                        .is_some_and(|p| p.cypher_eq(v) == Some(true))
                })
            });
        }
        std::mem::take(&mut self.buf)
    }

    fn charge(&mut self, visited: usize) -> Result<(), Error> {
        self.hold.resize(visited * VISITED_BYTES)
    }

    /// One shortest path, by bidirectional BFS.
    fn one(&mut self, a: NodeId, b: NodeId, max: Option<u64>) -> Result<Option<Vec<RelId>>, Error> {
        // parent[n] = (previous node towards the side's origin, relationship).
        let mut fwd: HashMap<NodeId, Option<(NodeId, RelId)>> = HashMap::from([(a, None)]);
        let mut bwd: HashMap<NodeId, Option<(NodeId, RelId)>> = HashMap::from([(b, None)]);
        let mut ff = vec![a];
        let mut bf = vec![b];
        let mut depth = 0u64;
        let mut ticks = 0u32;
        while !ff.is_empty() && !bf.is_empty() && max.is_none_or(|m| depth < m) {
            let forward = ff.len() <= bf.len();
            let (frontier, seen, other, dir) = if forward {
                (&mut ff, &mut fwd, &bwd, self.dir)
            } else {
                (&mut bf, &mut bwd, &fwd, self.dir.reverse())
            };
            let mut next = Vec::new();
            let mut meet = None;
            for &n in frontier.iter() {
                ticks = ticks.wrapping_add(1);
                if ticks.is_multiple_of(256) {
                    self.env.cancel.check()?;
                }
                self.buf.clear();
                let nbrs = {
                    let g = self.g;
                    let mut v = Vec::new();
                    g.expand(n, dir, self.types, &mut v);
                    let props = self.props;
                    if !props.is_empty() {
                        v.retain(|(r, _)| {
                            props.iter().all(|(k, val)| {
                                g.rel_property(*r, *k)
                                    .is_some_and(|p| p.cypher_eq(val) == Some(true))
                            })
                        });
                    }
                    v
                };
                for (r, m) in nbrs {
                    if seen.contains_key(&m) {
                        continue;
                    }
                    seen.insert(m, Some((n, r)));
                    if other.contains_key(&m) {
                        meet = Some(m);
                        break;
                    }
                    next.push(m);
                }
                if meet.is_some() {
                    break;
                }
            }
            depth += 1;
            let visited = fwd.len() + bwd.len();
            self.charge(visited)?;
            if let Some(m) = meet {
                // a … m from the forward links, m … b from the backward links.
                let mut left = Vec::new();
                let mut at = m;
                while let Some(Some((p, r))) = fwd.get(&at) {
                    left.push(*r);
                    at = *p;
                }
                left.reverse();
                let mut at = m;
                while let Some(Some((p, r))) = bwd.get(&at) {
                    left.push(*r);
                    at = *p;
                }
                return Ok(Some(left));
            }
            if forward {
                ff = next;
            } else {
                bf = next;
            }
        }
        Ok(None)
    }

    /// Every shortest path, by a layered BFS from `a` that keeps all parents per level.
    fn all(&mut self, a: NodeId, b: NodeId, max: Option<u64>) -> Result<Vec<Vec<RelId>>, Error> {
        let mut level: HashMap<NodeId, u64> = HashMap::from([(a, 0)]);
        let mut parents: HashMap<NodeId, Vec<(NodeId, RelId)>> = HashMap::new();
        let mut frontier = vec![a];
        let mut depth = 0u64;
        let mut found = false;
        let mut ticks = 0u32;
        while !frontier.is_empty() && !found && max.is_none_or(|m| depth < m) {
            depth += 1;
            let mut next = Vec::new();
            for &n in &frontier {
                ticks = ticks.wrapping_add(1);
                if ticks.is_multiple_of(256) {
                    self.env.cancel.check()?;
                }
                for (r, m) in self.neighbours(n, self.dir) {
                    match level.get(&m) {
                        Some(&l) if l < depth => continue,
                        Some(_) => {}
                        None => {
                            level.insert(m, depth);
                            next.push(m);
                        }
                    }
                    parents.entry(m).or_default().push((n, r));
                    if m == b {
                        found = true;
                    }
                }
            }
            self.charge(level.len() + parents.len())?;
            frontier = next;
        }
        if !found {
            return Ok(Vec::new());
        }
        // Enumerate back from b.
        let mut out = Vec::new();
        let mut stack: Vec<(NodeId, Vec<RelId>)> = vec![(b, Vec::new())];
        while let Some((n, rels)) = stack.pop() {
            if n == a {
                let mut p = rels;
                p.reverse();
                out.push(p);
                self.env.memory.check(out.len() * 8 * depth as usize)?;
                continue;
            }
            for (p, r) in parents.get(&n).into_iter().flatten() {
                let mut next = rels.clone();
                next.push(*r);
                stack.push((*p, next));
            }
        }
        Ok(out)
    }

    /// The shortest relationship-unique paths of at least `min` relationships, by depth
    /// bounded search, shortest length first.
    fn at_least(
        &mut self,
        a: NodeId,
        b: NodeId,
        min: u64,
        max: Option<u64>,
        all: bool,
    ) -> Result<Vec<Vec<RelId>>, Error> {
        let limit = max.unwrap_or(u64::MAX);
        let mut len = min;
        // Without an upper bound, stop once lengths exceed the relationships that exist.
        let cap = self.g.rel_count().max(1);
        while len <= limit && len <= cap {
            let mut found = Vec::new();
            let mut path = Vec::new();
            self.dfs(a, b, len, &mut path, &mut found, all)?;
            if !found.is_empty() {
                return Ok(found);
            }
            len += 1;
        }
        Ok(Vec::new())
    }

    fn dfs(
        &mut self,
        at: NodeId,
        b: NodeId,
        len: u64,
        path: &mut Vec<RelId>,
        found: &mut Vec<Vec<RelId>>,
        all: bool,
    ) -> Result<(), Error> {
        if path.len() as u64 == len {
            if at == b {
                found.push(path.clone());
                self.env.memory.check(found.len() * 8 * len as usize)?;
            }
            return Ok(());
        }
        self.env.cancel.check()?;
        for (r, m) in self.neighbours(at, self.dir) {
            if path.contains(&r) {
                continue;
            }
            path.push(r);
            self.dfs(m, b, len, path, found, all)?;
            path.pop();
            if !all && !found.is_empty() {
                return Ok(());
            }
        }
        Ok(())
    }
}

impl RowRun for ShortestPathRun {
    fn width(&self) -> usize {
        self.keep.len() + usize::from(self.emit_rel)
    }

    fn load(&mut self, cx: &Ctx, row: &[Value]) -> Result<(), Error> {
        self.pending.clear();
        self.pos = 0;
        let (Some(a), Some(b)) = (node_at(row, self.from)?, node_at(row, self.to)?) else {
            return Ok(());
        };
        if a == b {
            if self.min == 0 {
                self.pending.push(Vec::new());
            }
            return Ok(());
        }
        let g = cx.graph();
        if !type_ids(&self.types, g, &mut self.type_buf) {
            return Ok(());
        }
        let ecx = cx.eval();
        let mut props = Vec::new();
        for (k, e) in &self.rel_props {
            let v = e.eval(row, &mut self.frame, &ecx)?;
            match (k.id(g), v.is_null()) {
                (Some(k), false) => props.push((k, v)),
                _ => return Ok(()),
            }
        }
        let hold = Reservation::on(&mut self.hold, cx.env.memory);
        let mut s = Search {
            g,
            env: cx.env,
            dir: self.dir,
            types: &self.type_buf,
            props: &props,
            hold,
            buf: Vec::new(),
        };
        let paths = if self.all {
            s.all(a, b, self.max)?
        } else {
            s.one(a, b, self.max)?.into_iter().collect()
        };
        let shortest = paths.first().map_or(0, |p| p.len() as u64);
        self.pending = if !paths.is_empty() && shortest < self.min {
            s.at_least(a, b, self.min, self.max, self.all)?
        } else {
            paths
        };
        if let Some(h) = &mut self.hold {
            h.clear();
        }
        Ok(())
    }

    fn emit(&mut self, _cx: &Ctx, row: &[Value], out: &mut Batch) -> bool {
        let Some(rels) = self.pending.get(self.pos) else {
            return false;
        };
        self.pos += 1;
        out.push_cols(row, &self.keep);
        if self.emit_rel {
            out.push(Value::List(
                rels.iter().map(|r| Value::Relationship(*r)).collect(),
            ));
        }
        out.end_row();
        true
    }

    fn clear(&mut self) {
        super::recycle(&mut self.pending);
        self.pos = 0;
    }
}
