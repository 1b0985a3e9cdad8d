//! A node's adjacency: both directions, grouped by relationship type, in one allocation.
//!
//! ```text
//! data = [out group headers | out entries | in group headers | in entries]
//! ```
//!
//! A group header is `(type, end)`: the group's entries run from the previous header's end
//! (0 for the first) to `end`, counted from the start of that direction's entries; headers
//! are sorted by type. An entry is `(relationship, other node)`: 8 bytes per direction per
//! relationship. Expanding one type reads one contiguous run after a binary search over the
//! (few) headers; expanding all types reads one contiguous run.
//!
//! The vector grows by a quarter rather than doubling: adjacency is most of the store's
//! memory, and inserts are rare compared with reads.

use crate::Dir;

type Pair = (u32, u32);

#[derive(Clone, Default, Debug)]
pub(crate) struct Adj {
    /// Number of outgoing group headers.
    og: u32,
    /// Outgoing headers + outgoing entries (where the incoming part starts).
    ol: u32,
    /// Number of incoming group headers.
    ig: u32,
    data: Vec<Pair>,
}

/// One direction's headers and entries.
#[derive(Clone, Copy)]
pub(crate) struct Side<'a> {
    groups: &'a [Pair],
    entries: &'a [Pair],
}

impl<'a> Side<'a> {
    fn group_range(&self, g: usize) -> std::ops::Range<usize> {
        let start = if g == 0 {
            0
        } else {
            self.groups[g - 1].1 as usize
        };
        start..self.groups[g].1 as usize
    }

    /// Calls `f` on every run of entries whose type is in `types` (all when empty).
    #[inline]
    pub fn for_types(&self, types: &[u32], mut f: impl FnMut(&'a [Pair])) {
        if types.is_empty() {
            f(self.entries);
            return;
        }
        if types.len() == 1 {
            if let Ok(g) = self.groups.binary_search_by_key(&types[0], |g| g.0) {
                f(&self.entries[self.group_range(g)]);
            }
            return;
        }
        for g in 0..self.groups.len() {
            if types.contains(&self.groups[g].0) {
                f(&self.entries[self.group_range(g)]);
            }
        }
    }

    pub fn count(&self, types: &[u32]) -> usize {
        let mut n = 0;
        self.for_types(types, |s| n += s.len());
        n
    }

    /// Every `(type, relationship, other)`.
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = (u32, u32, u32)> + 'a {
        let s = *self;
        (0..s.groups.len()).flat_map(move |g| {
            let ty = s.groups[g].0;
            s.entries[s.group_range(g)]
                .iter()
                .map(move |&(r, o)| (ty, r, o))
        })
    }
}

impl Adj {
    pub fn out(&self) -> Side<'_> {
        let (og, ol) = (self.og as usize, self.ol as usize);
        Side {
            groups: &self.data[..og],
            entries: &self.data[og..ol],
        }
    }

    pub fn inc(&self) -> Side<'_> {
        let (ol, ig) = (self.ol as usize, self.ig as usize);
        Side {
            groups: &self.data[ol..ol + ig],
            entries: &self.data[ol + ig..],
        }
    }

    pub fn side(&self, dir: Dir) -> Side<'_> {
        match dir {
            Dir::In => self.inc(),
            _ => self.out(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// `(first header index, header count, first entry index)` of a direction.
    fn layout(&self, dir: Dir) -> (usize, usize, usize) {
        match dir {
            Dir::In => {
                let (ol, ig) = (self.ol as usize, self.ig as usize);
                (ol, ig, ol + ig)
            }
            _ => (0, self.og as usize, self.og as usize),
        }
    }

    fn insert_at(&mut self, at: usize, v: Pair) {
        if self.data.len() == self.data.capacity() {
            self.data.reserve_exact((self.data.len() / 4).max(2));
        }
        self.data.insert(at, v);
    }

    /// Adds an entry; returns whether it is the first of its type in this direction.
    pub fn insert(&mut self, dir: Dir, ty: u32, rel: u32, other: u32) -> bool {
        let (g0, gn, mut e0) = self.layout(dir);
        let (g, new_group) = match self.data[g0..g0 + gn].binary_search_by_key(&ty, |h| h.0) {
            Ok(g) => (g, false),
            Err(g) => {
                let start = if g == 0 { 0 } else { self.data[g0 + g - 1].1 };
                self.insert_at(g0 + g, (ty, start));
                e0 += 1;
                match dir {
                    Dir::In => self.ig += 1,
                    _ => {
                        self.og += 1;
                        self.ol += 1;
                    }
                }
                (g, true)
            }
        };
        let gn = gn + usize::from(new_group);
        let at = e0 + self.data[g0 + g].1 as usize;
        self.insert_at(at, (rel, other));
        for h in &mut self.data[g0 + g..g0 + gn] {
            h.1 += 1;
        }
        if dir != Dir::In {
            self.ol += 1;
        }
        new_group
    }

    /// Removes an entry; returns whether it was the last of its type in this direction.
    pub fn remove(&mut self, dir: Dir, ty: u32, rel: u32) -> bool {
        let (g0, gn, e0) = self.layout(dir);
        let Ok(g) = self.data[g0..g0 + gn].binary_search_by_key(&ty, |h| h.0) else {
            return false;
        };
        let start = if g == 0 {
            0
        } else {
            self.data[g0 + g - 1].1 as usize
        };
        let end = self.data[g0 + g].1 as usize;
        let Some(pos) = self.data[e0 + start..e0 + end]
            .iter()
            .position(|e| e.0 == rel)
        else {
            return false;
        };
        self.data.remove(e0 + start + pos);
        for h in &mut self.data[g0 + g..g0 + gn] {
            h.1 -= 1;
        }
        if dir != Dir::In {
            self.ol -= 1;
        }
        let emptied = end - start == 1;
        if emptied {
            self.data.remove(g0 + g);
            match dir {
                Dir::In => self.ig -= 1,
                _ => {
                    self.og -= 1;
                    self.ol -= 1;
                }
            }
        }
        if self.data.capacity() > 2 * self.data.len() + 8 {
            self.data.shrink_to_fit();
        }
        emptied
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_and_types_stay_separate_and_sorted() {
        let mut a = Adj::default();
        assert!(a.insert(Dir::Out, 5, 1, 10));
        assert!(a.insert(Dir::In, 5, 2, 11));
        assert!(a.insert(Dir::Out, 2, 3, 12));
        assert!(!a.insert(Dir::Out, 5, 4, 13));
        assert!(a.insert(Dir::In, 9, 5, 14));
        assert!(!a.insert(Dir::Out, 2, 6, 15));
        assert_eq!(
            a.out().iter().collect::<Vec<_>>(),
            vec![(2, 3, 12), (2, 6, 15), (5, 1, 10), (5, 4, 13)]
        );
        assert_eq!(
            a.inc().iter().collect::<Vec<_>>(),
            vec![(5, 2, 11), (9, 5, 14)]
        );
        assert_eq!(a.out().count(&[5]), 2);
        assert_eq!(a.out().count(&[2, 9]), 2);
        assert_eq!(a.inc().count(&[2, 9]), 1);
        assert_eq!(a.out().count(&[]), 4);

        assert!(!a.remove(Dir::Out, 5, 1), "type 5 still has an entry");
        assert!(!a.remove(Dir::Out, 5, 1), "already gone");
        assert!(a.remove(Dir::In, 9, 5), "last of type 9");
        assert!(a.remove(Dir::Out, 5, 4));
        assert_eq!(
            a.out().iter().collect::<Vec<_>>(),
            vec![(2, 3, 12), (2, 6, 15)]
        );
        assert_eq!(a.inc().iter().collect::<Vec<_>>(), vec![(5, 2, 11)]);
        a.remove(Dir::Out, 2, 3);
        a.remove(Dir::Out, 2, 6);
        a.remove(Dir::In, 5, 2);
        assert!(a.is_empty());
        assert_eq!((a.og, a.ol, a.ig), (0, 0, 0));
    }

    #[test]
    fn many_inserts_match_a_simple_model() {
        let mut a = Adj::default();
        let mut model: Vec<(Dir, u32, u32)> = Vec::new();
        let mut x = 7u32;
        for rel in 0..400u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let dir = if x & 1 == 0 { Dir::Out } else { Dir::In };
            let ty = (x >> 8) % 5;
            a.insert(dir, ty, rel, rel + 1000);
            model.push((dir, ty, rel));
            if rel % 3 == 0 {
                let (d, t, r) = model.remove((x >> 16) as usize % model.len());
                a.remove(d, t, r);
            }
        }
        for dir in [Dir::Out, Dir::In] {
            let mut got: Vec<_> = a.side(dir).iter().map(|(t, r, _)| (t, r)).collect();
            let mut want: Vec<_> = model
                .iter()
                .filter(|m| m.0 == dir)
                .map(|m| (m.1, m.2))
                .collect();
            got.sort_unstable();
            want.sort_unstable();
            assert_eq!(got, want);
            for ty in 0..5 {
                assert_eq!(
                    a.side(dir).count(&[ty]),
                    model.iter().filter(|m| m.0 == dir && m.1 == ty).count()
                );
            }
        }
    }
}
