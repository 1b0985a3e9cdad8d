//! [`GraphWrite`] for [`WriteTxn`]: validate, log, apply.
//!
//! Each change becomes one [`Op`]: it is encoded into the transaction's log buffer first and
//! then applied to the transaction's private graph version; if applying fails (a duplicate
//! id, a missing node) the encoded bytes are cut off again, so the log holds exactly the
//! changes that took effect. The change-stream records of the op (when the store has a
//! stream) are built the same way, from the state before the op.

use nereid_common::Error;
use nereid_value::{NodeId, RelId, Value};
use std::sync::Arc;

use crate::adj::Pending;
use crate::graph::{DictKind, Op, MAX_ID, PLACE_AT};
use crate::pval::{props_from_values, put_prop, ArcSlice, PVal, Props};
use crate::store::WriteTxn;
use crate::{GraphRead, GraphWrite, KeyId, LabelId, TypeId};

impl WriteTxn {
    fn exec(&mut self, op: Op) -> Result<(), Error> {
        self.exec_deferring(op, None)
    }

    /// [`WriteTxn::exec`]; with `pending`, a new relationship's adjacency is deferred there
    /// (see [`crate::graph::Graph::apply_deferring`]; only [`BulkWrite`] passes one).
    fn exec_deferring(&mut self, op: Op, pending: Option<&mut Vec<Pending>>) -> Result<(), Error> {
        let mark = self.log.as_ref().map(|l| l.buf.len());
        if let Some(log) = &mut self.log {
            op.encode(log);
        }
        // Change records need the state before the op (a removal reports what goes).
        let stream_mark = self.stream.as_mut().map(|s| {
            let m = s.mark();
            s.record(&op, &self.g);
            m
        });
        match self.g.apply_deferring(op, pending) {
            Ok(()) => {
                self.changed = true;
                Ok(())
            }
            Err(e) => {
                if let (Some(log), Some(mark)) = (&mut self.log, mark) {
                    log.buf.truncate(mark);
                }
                if let (Some(s), Some(m)) = (&mut self.stream, stream_mark) {
                    s.rollback(m);
                }
                Err(e)
            }
        }
    }

    fn intern(&mut self, kind: DictKind, name: &str) -> u32 {
        if let Some(id) = self.g.dict(kind).id(name) {
            return id;
        }
        let id = self.g.dict(kind).len();
        // Cannot fail: the id is the next one and the name is new.
        let _ = self.exec(Op::Dict {
            kind,
            id,
            name: name.into(),
        });
        id
    }

    fn check_dict(&self, kind: DictKind, id: u32, what: &str) -> Result<(), Error> {
        if id < self.g.dict(kind).len() {
            Ok(())
        } else {
            Err(Error::internal(format!("unknown {what} id {id}")))
        }
    }

    /// The next free node id whose generated external id is not taken by a user-assigned
    /// one (ids are skipped in that unlikely case; see `extid`).
    fn alloc_node(&mut self, generated: bool) -> u64 {
        let mut id = self.g.nodes.len();
        if generated && self.g.node_ext.len() > 0 {
            while self
                .g
                .node_ext
                .get(self.g.node_codec.encode(id).as_bytes())
                .is_some()
            {
                id += 1;
            }
        }
        id
    }

    fn alloc_rel(&mut self, generated: bool) -> u64 {
        let mut id = self.g.rels.len();
        if generated && self.g.rel_ext.len() > 0 {
            while self
                .g
                .rel_ext
                .get(self.g.rel_codec.encode(id).as_bytes())
                .is_some()
            {
                id += 1;
            }
        }
        id
    }

    /// Logs and applies a reset (removes everything, new id salt).
    pub(crate) fn reset_all(&mut self) -> Result<(), Error> {
        let salt = uuid::Uuid::new_v4().as_u64_pair().0;
        self.exec(Op::Reset { salt })
    }

    fn labelled_nodes(&self) -> bool {
        self.guard
            .inner()
            .labelled_nodes
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn check_value_key(&self, key: KeyId) -> Result<(), Error> {
        self.check_dict(DictKind::Key, key, "property key")
    }
}

fn ext_id(external_id: Option<String>) -> Result<Option<Arc<str>>, Error> {
    match external_id {
        Some(s) if s.is_empty() => Err(empty_ext_id()),
        other => Ok(other.map(Arc::from)),
    }
}

fn ext_id_of(external_id: Option<&str>) -> Result<Option<Arc<str>>, Error> {
    match external_id {
        Some("") => Err(empty_ext_id()),
        other => Ok(other.map(Arc::from)),
    }
}

fn empty_ext_id() -> Error {
    Error::new(
        nereid_common::ErrorCode::InvalidArgumentValue,
        "~id must not be an empty string",
    )
}

impl WriteTxn {
    /// A new node's label set: validated, sorted, without duplicates, the default label
    /// when it has none and the store labels nodes; the shared copy when there is one.
    /// Built in `scratch`.
    fn new_node_labels(
        &mut self,
        labels: &[LabelId],
        scratch: &mut Vec<u32>,
    ) -> Result<ArcSlice<u32>, Error> {
        for &l in labels {
            self.check_dict(DictKind::Label, l, "label")?;
        }
        scratch.clear();
        scratch.extend_from_slice(labels);
        if scratch.is_empty() && self.labelled_nodes() {
            scratch.push(self.intern(DictKind::Label, crate::DEFAULT_LABEL));
        }
        scratch.sort_unstable();
        scratch.dedup();
        Ok(self.g.shared_labels_of(scratch))
    }

    /// A new element's property list, validated, in `out` (as [`props_from_values`]
    /// builds it).
    fn new_props(
        &self,
        properties: impl IntoIterator<Item = (KeyId, Value)>,
        out: &mut Vec<(u32, PVal)>,
    ) -> Result<(), Error> {
        out.clear();
        for (k, v) in properties {
            self.check_value_key(k)?;
            put_prop(out, k, v)?;
        }
        Ok(())
    }

    fn create_node_from(
        &mut self,
        labels: ArcSlice<u32>,
        props: Props,
        ext: Option<Arc<str>>,
    ) -> Result<NodeId, Error> {
        let id = self.alloc_node(ext.is_none());
        if id > MAX_ID {
            return Err(Error::new(
                nereid_common::ErrorCode::StorageFailure,
                "the store holds at most 4,294,967,295 nodes",
            ));
        }
        self.exec(Op::CreateNode {
            id,
            labels,
            props,
            ext,
        })?;
        self.guard.next_node = self.guard.next_node.max(id + 1);
        Ok(NodeId(id))
    }

    fn create_rel_from(
        &mut self,
        (start, end, rel_type): (NodeId, NodeId, TypeId),
        props: Props,
        ext: Option<Arc<str>>,
        pending: Option<&mut Vec<Pending>>,
    ) -> Result<RelId, Error> {
        let id = self.alloc_rel(ext.is_none());
        self.exec_deferring(
            Op::CreateRel {
                id,
                start: start.0,
                end: end.0,
                ty: rel_type,
                props,
                ext,
            },
            pending,
        )?;
        self.guard.next_rel = self.guard.next_rel.max(id + 1);
        Ok(RelId(id))
    }

    /// A bulk writer over this transaction: relationships it creates have their adjacency
    /// placed node by node when it is dropped (or every [`PLACE_AT`] entries), not one
    /// entry at a time. While it lives, the transaction is borrowed, so nothing can read
    /// the incomplete adjacency.
    pub fn bulk(&mut self) -> BulkWrite<'_> {
        BulkWrite {
            txn: self,
            pending: Vec::new(),
            deferred_from: None,
            labels: Vec::new(),
            props: Vec::new(),
        }
    }
}

/// Creates nodes and relationships in one [`WriteTxn`] the way a bulk load does, with the
/// same results as [`GraphWrite::create_node`] and [`GraphWrite::create_rel`] one by one:
/// every op is validated, logged and applied at once (ids, records, counts, change-stream
/// records), except that relationships' adjacency entries are collected and merged into
/// each node's block once ([`crate::graph::Graph::place`]), at its final size, when the
/// writer is dropped. Only reads that do not involve adjacency are offered.
pub struct BulkWrite<'a> {
    txn: &'a mut WriteTxn,
    pending: Vec<Pending>,
    /// The first relationship whose entries are in `pending` (ids only grow).
    deferred_from: Option<u64>,
    /// The label set and the property list of the element being created, reused from one
    /// to the next: a load creates millions, and the allocator's work per temporary
    /// (and glibc's consolidation of freed blocks) was a fifth of the writer's time.
    labels: Vec<u32>,
    props: Vec<(u32, PVal)>,
}

impl BulkWrite<'_> {
    pub fn intern_label(&mut self, name: &str) -> LabelId {
        self.txn.intern_label(name)
    }

    pub fn intern_type(&mut self, name: &str) -> TypeId {
        self.txn.intern_type(name)
    }

    pub fn intern_key(&mut self, name: &str) -> KeyId {
        self.txn.intern_key(name)
    }

    pub fn node_exists(&self, n: NodeId) -> bool {
        // The live-node bitmap, not the record: a relationship's ends are in no order, and
        // the bitmap stays in cache where the records do not.
        self.txn.g.live.contains(n.0)
    }

    pub fn node_by_external_id(&self, id: &str) -> Option<NodeId> {
        self.txn.node_by_external_id(id)
    }

    pub fn rel_by_external_id(&self, id: &str) -> Option<RelId> {
        self.txn.rel_by_external_id(id)
    }

    /// A property of a node: records only, no adjacency.
    pub fn node_property(&self, n: NodeId, key: KeyId) -> Option<Value> {
        self.txn.node_property(n, key)
    }

    pub fn rel_property(&self, r: RelId, key: KeyId) -> Option<Value> {
        self.txn.rel_property(r, key)
    }

    pub fn key_name(&self, id: KeyId) -> &str {
        self.txn.key_name(id)
    }

    /// [`GraphWrite::set_node_property`] (records only, no adjacency).
    pub fn set_node_property(&mut self, n: NodeId, key: KeyId, value: Value) -> Result<(), Error> {
        self.txn.set_node_property(n, key, value)
    }

    pub fn set_rel_property(&mut self, r: RelId, key: KeyId, value: Value) -> Result<(), Error> {
        // A relationship created by this writer and not placed yet has its keys counted
        // when it is placed, from its record: placed first, so that the change moves it
        // from the structure it was counted in.
        if self.deferred_from.is_some_and(|first| r.0 >= first) {
            self.place();
        }
        self.txn.set_rel_property(r, key, value)
    }

    /// Places the deferred adjacency entries now (see [`crate::graph::Graph::place`]).
    fn place(&mut self) {
        self.txn.g.place(&mut self.pending);
        self.deferred_from = None;
    }

    /// [`GraphWrite::create_node`]. The node's label set and property list are its only
    /// allocations (none for a label set already in use).
    pub fn create_node(
        &mut self,
        labels: &[LabelId],
        properties: impl IntoIterator<Item = (KeyId, Value)>,
        external_id: Option<&str>,
    ) -> Result<NodeId, Error> {
        // A node creation neither reads nor writes adjacency.
        let labels = self.txn.new_node_labels(labels, &mut self.labels)?;
        self.txn.new_props(properties, &mut self.props)?;
        let ext = ext_id_of(external_id)?;
        let props = ArcSlice::take_from(&mut self.props);
        self.txn.create_node_from(labels, props, ext)
    }

    /// [`GraphWrite::create_rel`], its adjacency deferred. A property list that is one of
    /// the shared ones (see `Graph::shared_props`) costs no allocation.
    pub fn create_rel(
        &mut self,
        start: NodeId,
        end: NodeId,
        rel_type: TypeId,
        properties: impl IntoIterator<Item = (KeyId, Value)>,
        external_id: Option<&str>,
    ) -> Result<RelId, Error> {
        self.txn
            .check_dict(DictKind::Type, rel_type, "relationship type")?;
        self.txn.new_props(properties, &mut self.props)?;
        let ext = ext_id_of(external_id)?;
        let props = match self.txn.g.shared_props_like(&self.props) {
            Some(shared) => {
                // Scalars only: nothing the reading thread allocated is freed here.
                self.props.clear();
                shared
            }
            None => ArcSlice::take_from(&mut self.props),
        };
        let id = self.txn.create_rel_from(
            (start, end, rel_type),
            props,
            ext,
            Some(&mut self.pending),
        )?;
        self.deferred_from.get_or_insert(id.0);
        if self.pending.len() >= PLACE_AT {
            self.place();
        }
        Ok(id)
    }
}

impl Drop for BulkWrite<'_> {
    fn drop(&mut self) {
        self.place();
    }
}

impl GraphWrite for WriteTxn {
    fn intern_label(&mut self, name: &str) -> LabelId {
        self.intern(DictKind::Label, name)
    }

    fn intern_type(&mut self, name: &str) -> TypeId {
        self.intern(DictKind::Type, name)
    }

    fn intern_key(&mut self, name: &str) -> KeyId {
        self.intern(DictKind::Key, name)
    }

    fn create_node(
        &mut self,
        labels: &[LabelId],
        properties: Vec<(KeyId, Value)>,
        external_id: Option<String>,
    ) -> Result<NodeId, Error> {
        let labels = self.new_node_labels(labels, &mut Vec::new())?;
        for (k, _) in &properties {
            self.check_value_key(*k)?;
        }
        let props = props_from_values(properties)?;
        let ext = ext_id(external_id)?;
        self.create_node_from(labels, props, ext)
    }

    fn create_rel(
        &mut self,
        start: NodeId,
        end: NodeId,
        rel_type: TypeId,
        properties: Vec<(KeyId, Value)>,
        external_id: Option<String>,
    ) -> Result<RelId, Error> {
        self.check_dict(DictKind::Type, rel_type, "relationship type")?;
        for (k, _) in &properties {
            self.check_value_key(*k)?;
        }
        let props = match self.g.shared_props_of(&properties) {
            Some(shared) => shared,
            None => props_from_values(properties)?,
        };
        let ext = ext_id(external_id)?;
        self.create_rel_from((start, end, rel_type), props, ext, None)
    }

    fn set_node_property(&mut self, n: NodeId, key: KeyId, value: Value) -> Result<(), Error> {
        self.check_value_key(key)?;
        let value = PVal::from_value(value)?;
        self.exec(Op::SetNodeProp {
            id: n.0,
            key,
            value,
        })
    }

    fn set_rel_property(&mut self, r: RelId, key: KeyId, value: Value) -> Result<(), Error> {
        self.check_value_key(key)?;
        let value = PVal::from_value(value)?;
        self.exec(Op::SetRelProp {
            id: r.0,
            key,
            value,
        })
    }

    fn add_label(&mut self, n: NodeId, label: LabelId) -> Result<bool, Error> {
        self.check_dict(DictKind::Label, label, "label")?;
        let has = crate::GraphRead::node_has_label(self, n, label);
        if has {
            return Ok(false);
        }
        self.exec(Op::AddLabel { id: n.0, label })?;
        Ok(true)
    }

    fn remove_label(&mut self, n: NodeId, label: LabelId) -> Result<bool, Error> {
        if self.g.node(n.0).is_none() {
            return self.exec(Op::RemoveLabel { id: n.0, label }).map(|_| false);
        }
        if !crate::GraphRead::node_has_label(self, n, label) {
            return Ok(false);
        }
        if self.labelled_nodes() && self.g.node(n.0).is_some_and(|r| r.labels.len() == 1) {
            return Err(Error::new(
                nereid_common::ErrorCode::LastLabel,
                "Invalid operation: attempting to remove the last label of a node. A node must have at least one label.",
            ));
        }
        self.exec(Op::RemoveLabel { id: n.0, label })?;
        Ok(true)
    }

    /// Deleting a node that is already gone is a no-op (Cypher allows deleting the same
    /// node twice in one query).
    fn delete_node(&mut self, n: NodeId) -> Result<(), Error> {
        if self.g.node(n.0).is_none() {
            return Ok(());
        }
        self.exec(Op::DeleteNode { id: n.0 })
    }

    /// Deleting a relationship that is already gone is a no-op.
    fn delete_rel(&mut self, r: RelId) -> Result<(), Error> {
        if self.g.rel(r.0).is_none() {
            return Ok(());
        }
        self.exec(Op::DeleteRel { id: r.0 })
    }

    fn commit(self: Box<Self>) -> Result<(), Error> {
        WriteTxn::commit(*self)
    }

    fn create_index(&mut self, label: LabelId, key: KeyId) -> Result<bool, Error> {
        self.check_dict(DictKind::Label, label, "label")?;
        self.check_value_key(key)?;
        if self.g.index(label, key).is_some() {
            return Ok(false);
        }
        self.exec(Op::CreateIndex { label, key })?;
        Ok(true)
    }

    fn drop_index(&mut self, label: LabelId, key: KeyId) -> Result<bool, Error> {
        if self.g.index(label, key).is_none() {
            return Ok(false);
        }
        self.exec(Op::DropIndex { label, key })?;
        Ok(true)
    }
}
