//! On-disk behaviour: what survives a reopen, recovery from torn and corrupt logs, the lock
//! file, format versions, checkpoints.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use nereid_common::{CancelToken, ErrorCode};
use nereid_storage::{
    Dir, GraphRead, GraphWrite, LabelId, StdVfs, Store, StoreConfig, Vfs, VfsFile,
};
use nereid_value::{NodeId, Value};

fn open(dir: &Path) -> Store {
    Store::open(&StoreConfig::at(dir)).unwrap()
}

fn open_err(dir: &Path) -> String {
    match Store::open(&StoreConfig::at(dir)) {
        Ok(_) => panic!("open should fail"),
        Err(e) => {
            assert_eq!(e.code, ErrorCode::StorageFailure);
            e.message
        }
    }
}

fn files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    v.sort();
    v
}

fn add_node(s: &Store, ext: &str) -> NodeId {
    let mut t = s.begin_write(&CancelToken::none()).unwrap();
    let l = t.intern_label("L");
    let k = t.intern_key("k");
    let n = t
        .create_node(&[l], vec![(k, Value::from(ext))], Some(ext.to_string()))
        .unwrap();
    t.commit().unwrap();
    n
}

#[test]
fn committed_transactions_survive_reopen_and_rolled_back_ones_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, gen_ext, rel_ext) = {
        let s = open(dir.path());
        let mut t = s.begin_write(&CancelToken::none()).unwrap();
        let person = t.intern_label("Person");
        let extra = t.intern_label("Extra");
        let knows = t.intern_type("KNOWS");
        let name = t.intern_key("name");
        let tags = t.intern_key("tags");
        let a = t
            .create_node(&[person], vec![(name, Value::from("ann"))], None)
            .unwrap();
        let b = t
            .create_node(
                &[person],
                vec![(tags, Value::List(vec![Value::Int(1)]))],
                Some("b".into()),
            )
            .unwrap();
        let r = t
            .create_rel(a, b, knows, vec![(name, Value::Float(1.5))], None)
            .unwrap();
        t.create_rel(b, b, knows, vec![], Some("loop".into()))
            .unwrap();
        t.add_label(a, extra).unwrap();
        t.commit().unwrap();
        let snap = s.snapshot();
        let gen_ext = snap.node_external_id(a).unwrap().to_string();
        let rel_ext = snap.rel_external_id(r).unwrap().to_string();

        let mut t = s.begin_write(&CancelToken::none()).unwrap();
        t.set_node_property(a, name, Value::from("ANN")).unwrap();
        t.remove_label(b, person).unwrap();
        t.commit().unwrap();

        let mut t = s.begin_write(&CancelToken::none()).unwrap();
        t.create_node(&[person], vec![], Some("rolled-back".into()))
            .unwrap();
        t.set_node_property(a, name, Value::from("not this"))
            .unwrap();
        drop(t);
        (a, b, gen_ext, rel_ext)
    };
    let s = open(dir.path());
    assert_eq!(s.open_report().replayed, 2);
    assert!(!s.open_report().truncated_torn_tail);
    let snap = s.snapshot();
    assert_eq!(snap.node_count(), 2);
    assert_eq!(snap.rel_count(), 2);
    let person = snap.label_id("Person").unwrap();
    let name = snap.key_id("name").unwrap();
    assert_eq!(snap.node_property(a, name), Some(Value::from("ANN")));
    assert_eq!(
        snap.node_by_external_id(&gen_ext),
        Some(a),
        "generated ids are stable"
    );
    assert_eq!(snap.node_by_external_id("b"), Some(b));
    assert_eq!(snap.node_by_external_id("rolled-back"), None);
    assert_eq!(snap.nodes_with_label(person).collect::<Vec<_>>(), vec![a]);
    assert_eq!(snap.label_count(snap.label_id("Extra").unwrap()), 1);
    let r = snap.rel_by_external_id(&rel_ext).unwrap();
    assert_eq!(snap.rel_property(r, name), Some(Value::Float(1.5)));
    assert!(snap.rel_by_external_id("loop").is_some());
    assert_eq!(snap.degree(b, Dir::Both, &[]), 2);
    // Writing after a reopen continues the log.
    add_node(&s, "after");
    drop(s);
    let s = open(dir.path());
    assert_eq!(s.snapshot().node_count(), 3);
}

#[test]
fn a_second_store_cannot_open_the_same_directory() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let msg = open_err(dir.path());
    assert!(msg.contains("in use by another nereid process"), "{msg}");
    assert!(msg.contains("LOCK"), "{msg}");
    drop(s);
    open(dir.path());
}

/// Where the log of segment file `bytes` ends: the first all-zero record header (or the
/// end of the file).
fn log_end(bytes: &[u8]) -> usize {
    let mut pos = 32;
    while pos + 8 <= bytes.len() && bytes[pos..pos + 8] != [0; 8] {
        pos += 8 + u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
    }
    pos
}

#[test]
fn torn_wal_tail_is_truncated_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(dir.path());
        add_node(&s, "one");
        add_node(&s, "two");
    }
    let wal = files(dir.path(), "wal-").pop().unwrap();
    // A crash in the middle of writing a third record into the zeros ahead of the log: its
    // length says 100 bytes, only a few made it to disk.
    let mut bytes = std::fs::read(&wal).unwrap();
    let good_len = log_end(&bytes);
    assert!(bytes.len() > good_len + 16, "the writer wrote zeros ahead");
    bytes[good_len..good_len + 4].copy_from_slice(&100u32.to_le_bytes());
    bytes[good_len + 4..good_len + 10].copy_from_slice(&[1, 2, 3, 4, 5, 6]);
    std::fs::write(&wal, &bytes).unwrap();
    let s = open(dir.path());
    let report = s.open_report().clone();
    assert!(report.truncated_torn_tail);
    assert!(
        report.messages.iter().any(|m| m.contains("torn write")
            && m.contains(&format!("byte offset {good_len}"))
            && m.contains("wal-")),
        "{report:?}"
    );
    assert_eq!(std::fs::metadata(&wal).unwrap().len(), good_len as u64);
    assert_eq!(s.snapshot().node_count(), 2);
    add_node(&s, "three");
    drop(s);
    let s = open(dir.path());
    assert!(!s.open_report().truncated_torn_tail);
    assert_eq!(s.snapshot().node_count(), 3);
}

#[test]
fn corrupt_record_in_the_middle_is_an_error_naming_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(dir.path());
        add_node(&s, "one");
        add_node(&s, "two");
        add_node(&s, "three");
    }
    let wal = files(dir.path(), "wal-").pop().unwrap();
    let mut bytes = std::fs::read(&wal).unwrap();
    // Header is 32 bytes; the first record starts there. Flip a payload bit of record one.
    let first_len = u32::from_le_bytes([bytes[32], bytes[33], bytes[34], bytes[35]]) as usize;
    bytes[32 + 8 + first_len / 2] ^= 0x10;
    std::fs::write(&wal, &bytes).unwrap();
    let msg = open_err(dir.path());
    assert!(msg.contains("corrupt write-ahead log"), "{msg}");
    assert!(msg.contains(&wal.display().to_string()), "{msg}");
    assert!(msg.contains("byte offset 32"), "{msg}");
    // Nothing was changed by the failed open.
    assert_eq!(std::fs::read(&wal).unwrap(), bytes);
}

#[test]
fn a_directory_written_by_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        open(dir.path());
    }
    let wal = files(dir.path(), "wal-").pop().unwrap();
    let mut bytes = std::fs::read(&wal).unwrap();
    bytes[8..12].copy_from_slice(&99u32.to_le_bytes());
    std::fs::write(&wal, &bytes).unwrap();
    let msg = open_err(dir.path());
    assert!(msg.contains("newer version of nereid"), "{msg}");
    assert!(msg.contains("format 99"), "{msg}");
}

#[test]
fn checkpoint_and_log_recover_together_and_old_files_are_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let exts: Vec<String> = (0..50).map(|i| format!("n{i}")).collect();
    {
        let s = open(dir.path());
        for e in &exts[..30] {
            add_node(&s, e);
        }
        let mut t = s.begin_write(&CancelToken::none()).unwrap();
        let ty = t.intern_type("NEXT");
        for i in 0..29u64 {
            t.create_rel(NodeId(i), NodeId(i + 1), ty, vec![], None)
                .unwrap();
        }
        t.commit().unwrap();
        let first = files(dir.path(), "wal-");
        s.checkpoint().unwrap();
        // The log before the first checkpoint stays: it is the way back if the checkpoint
        // is ever damaged.
        let after_one = files(dir.path(), "wal-");
        assert_eq!(
            after_one.len(),
            first.len() + 1,
            "a new segment was started"
        );
        assert_eq!(files(dir.path(), "checkpoint-").len(), 1);
        for e in &exts[30..40] {
            add_node(&s, e);
        }
        s.checkpoint().unwrap();
        // Two checkpoints kept; the log from the first one's segment on.
        assert_eq!(files(dir.path(), "checkpoint-").len(), 2);
        let after_two = files(dir.path(), "wal-");
        assert_eq!(after_two.len(), 2);
        assert_eq!(after_two[0], after_one[after_one.len() - 1]);
        for e in &exts[40..] {
            add_node(&s, e);
        }
        s.checkpoint().unwrap();
        assert_eq!(files(dir.path(), "checkpoint-").len(), 2);
        assert_eq!(files(dir.path(), "wal-").len(), 2);
        add_node(&s, "last");
    }
    let s = open(dir.path());
    let r = s.open_report();
    assert_eq!(r.checkpoint_seq, Some(51));
    assert_eq!(r.replayed, 1);
    let snap = s.snapshot();
    assert_eq!(snap.node_count(), 51);
    assert_eq!(snap.rel_count(), 29);
    for e in &exts {
        assert!(snap.node_by_external_id(e).is_some(), "{e}");
    }
    assert_eq!(snap.degree(NodeId(5), Dir::Both, &[]), 2);
}

#[test]
fn a_damaged_newest_checkpoint_falls_back_to_the_previous_one() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(dir.path());
        add_node(&s, "a");
        s.checkpoint().unwrap();
        add_node(&s, "b");
        s.checkpoint().unwrap();
        add_node(&s, "c");
    }
    let newest = files(dir.path(), "checkpoint-").pop().unwrap();
    let mut bytes = std::fs::read(&newest).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&newest, &bytes).unwrap();
    {
        let s = open(dir.path());
        let r = s.open_report().clone();
        assert_eq!(r.checkpoint_seq, Some(1));
        assert!(
            r.messages.iter().any(|m| m.contains("is unusable")
                && m.contains(&newest.display().to_string())
                && m.contains("checksum")),
            "{r:?}"
        );
        let snap = s.snapshot();
        assert_eq!(snap.node_count(), 3);
        for e in ["a", "b", "c"] {
            assert!(snap.node_by_external_id(e).is_some());
        }
    }
    assert!(!newest.exists());
    let mut aside = newest.clone().into_os_string();
    aside.push(".corrupt");
    assert!(Path::new(&aside).exists(), "kept for inspection");
    // With no way back, the open fails and says why.
    let only: Vec<PathBuf> = files(dir.path(), "checkpoint-")
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "nrd"))
        .collect();
    assert_eq!(only.len(), 1);
    for seg in files(dir.path(), "wal-") {
        std::fs::remove_file(seg).unwrap();
    }
    let mut bytes = std::fs::read(&only[0]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&only[0], &bytes).unwrap();
    let _ = open_err_allowing_any(dir.path(), &only[0]);
}

fn open_err_allowing_any(dir: &Path, named: &Path) -> String {
    let msg = open_err(dir);
    assert!(msg.contains(&named.display().to_string()), "{msg}");
    msg
}

#[test]
fn automatic_checkpoints_keep_the_log_small() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        checkpoint_bytes: 4096,
        ..StoreConfig::at(dir.path())
    };
    {
        let s = Store::open(&config).unwrap();
        for i in 0..300 {
            add_node(&s, &format!("node-{i}"));
        }
        // Checkpoints run in the background; one more explicit one waits for it.
        s.checkpoint().unwrap();
    }
    assert_eq!(files(dir.path(), "checkpoint-").len(), 2);
    assert!(files(dir.path(), "wal-").len() <= 3);
    let s = Store::open(&config).unwrap();
    assert_eq!(s.snapshot().node_count(), 300);
    assert!(s.open_report().checkpoint_seq.is_some());
}

#[test]
fn property_indexes_are_persisted_in_the_log_and_in_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(dir.path());
        add_node(&s, "a");
        s.create_index("L", "k").unwrap();
        add_node(&s, "b");
    }
    let check = |s: &Store| {
        let snap = s.snapshot();
        let l = snap.label_id("L").unwrap();
        let k = snap.key_id("k").unwrap();
        assert_eq!(snap.property_indexes(), vec![(l, k)]);
        let b = snap.node_by_external_id("b").unwrap();
        assert_eq!(
            snap.nodes_by_property(l, k, &Value::from("b")),
            Some(vec![b])
        );
    };
    let s = open(dir.path());
    check(&s);
    s.checkpoint().unwrap();
    drop(s);
    let s = open(dir.path());
    assert_eq!(s.open_report().replayed, 0);
    check(&s);
}

#[test]
fn reset_is_durable() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(dir.path());
        add_node(&s, "a");
        s.reset().unwrap();
        add_node(&s, "b");
    }
    let s = open(dir.path());
    let snap = s.snapshot();
    assert_eq!(snap.node_count(), 1);
    assert!(snap.node_by_external_id("a").is_none());
    assert!(snap.node_by_external_id("b").is_some());
}

#[test]
fn reset_leaves_no_file_holding_the_old_data() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "old-data-that-must-go";
    let write = |s: &Store, n: usize| {
        let mut t = s.begin_write(&CancelToken::none()).unwrap();
        let k = t.intern_key("note");
        for _ in 0..n {
            t.create_node(&[], vec![(k, Value::from(secret))], None)
                .unwrap();
        }
        t.commit().unwrap();
    };
    {
        let s = open(dir.path());
        write(&s, 50);
        s.checkpoint().unwrap();
        write(&s, 50); // in the log after the checkpoint
        s.reset().unwrap();
        assert_eq!(
            s.snapshot().summary(),
            nereid_storage::GraphSummary::default()
        );
    }
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{} still holds data from before the reset",
            path.display()
        );
    }
    let s = open(dir.path());
    assert_eq!(s.snapshot().node_count(), 0);
    assert_eq!(
        s.snapshot().summary(),
        nereid_storage::GraphSummary::default()
    );
}

#[test]
fn concurrent_committers_are_all_durable() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Arc::new(open(dir.path()));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let s = Arc::clone(&s);
                std::thread::spawn(move || {
                    for i in 0..20 {
                        add_node(&s, &format!("t{t}-{i}"));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }
    let s = open(dir.path());
    let snap = s.snapshot();
    assert_eq!(snap.node_count(), 160);
    for t in 0..8 {
        for i in 0..20 {
            assert!(snap.node_by_external_id(&format!("t{t}-{i}")).is_some());
        }
    }
}

/// The real file system with a slow, counted fsync.
struct SlowSync {
    syncs: Arc<AtomicU64>,
}

struct SlowFile {
    inner: Box<dyn VfsFile>,
    syncs: Arc<AtomicU64>,
}

impl VfsFile for SlowFile {
    fn write_all(&self, buf: &[u8]) -> std::io::Result<()> {
        self.inner.write_all(buf)
    }
    fn write_at(&self, offset: u64, buf: &[u8]) -> std::io::Result<()> {
        self.inner.write_at(offset, buf)
    }
    fn sync(&self) -> std::io::Result<()> {
        self.syncs.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(5));
        self.inner.sync()
    }
    fn set_len(&self, len: u64) -> std::io::Result<()> {
        self.inner.set_len(len)
    }
}

impl Vfs for SlowSync {
    fn create_dir_all(&self, dir: &Path) -> std::io::Result<()> {
        StdVfs.create_dir_all(dir)
    }
    fn list(&self, dir: &Path) -> std::io::Result<Vec<String>> {
        StdVfs.list(dir)
    }
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        StdVfs.read(path)
    }
    fn create(&self, path: &Path) -> std::io::Result<Box<dyn VfsFile>> {
        Ok(Box::new(SlowFile {
            inner: StdVfs.create(path)?,
            syncs: Arc::clone(&self.syncs),
        }))
    }
    fn open_append(&self, path: &Path) -> std::io::Result<Box<dyn VfsFile>> {
        Ok(Box::new(SlowFile {
            inner: StdVfs.open_append(path)?,
            syncs: Arc::clone(&self.syncs),
        }))
    }
    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        StdVfs.rename(from, to)
    }
    fn remove(&self, path: &Path) -> std::io::Result<()> {
        StdVfs.remove(path)
    }
    fn sync_dir(&self, dir: &Path) -> std::io::Result<()> {
        StdVfs.sync_dir(dir)
    }
    fn lock(&self, path: &Path) -> std::io::Result<Box<dyn std::any::Any + Send + Sync>> {
        StdVfs.lock(path)
    }
}

#[test]
fn group_commit_shares_fsyncs_between_concurrent_committers() {
    let dir = tempfile::tempdir().unwrap();
    let syncs = Arc::new(AtomicU64::new(0));
    let config = StoreConfig {
        vfs: Some(Arc::new(SlowSync {
            syncs: Arc::clone(&syncs),
        })),
        ..StoreConfig::at(dir.path())
    };
    let s = Arc::new(Store::open(&config).unwrap());
    let before = syncs.load(Ordering::SeqCst);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                for i in 0..10 {
                    add_node(&s, &format!("t{t}-{i}"));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let used = syncs.load(Ordering::SeqCst) - before;
    // 80 commits; with a 5 ms fsync, committers that arrive meanwhile share the next one.
    assert!(used < 60, "{used} fsyncs for 80 commits");
    drop(s);
    let s = Store::open(&config).unwrap();
    assert_eq!(s.snapshot().node_count(), 80);
}

#[test]
fn io_stats_count_log_bytes_fsyncs_and_checkpoints() {
    assert!(Store::open(&StoreConfig::default())
        .unwrap()
        .io_stats()
        .is_none());
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let start = s.io_stats().unwrap();
    add_node(&s, "a");
    add_node(&s, "b");
    let after = s.io_stats().unwrap();
    assert!(after.wal_bytes > start.wal_bytes);
    assert!(after.fsyncs >= start.fsyncs + 2, "{after:?}");
    assert_eq!(after.checkpoints, 0);
    s.checkpoint().unwrap();
    let done = s.io_stats().unwrap();
    assert_eq!(done.checkpoints, 1);
    assert!(
        done.last_checkpoint_seconds > 0.0
            && done.checkpoint_seconds >= done.last_checkpoint_seconds
    );
    assert!(done.last_checkpoint_bytes > 0);
}

/// What a reader sees of a graph: every node's labels, properties and id, its expansion in
/// each direction (in the store's order) and degrees, type statistics, relationship ends,
/// properties and ids.
fn observed(s: &Store) -> String {
    let snap = s.snapshot();
    let mut out = format!("{} nodes, {} rels\n", snap.node_count(), snap.rel_count());
    let mut nodes: Vec<NodeId> = snap.node_ids().collect();
    nodes.sort_unstable();
    let mut buf = Vec::new();
    let (mut labels, mut props) = (Vec::new(), Vec::new());
    for n in nodes {
        snap.node_labels(n, &mut labels);
        snap.node_properties(n, &mut props);
        let ext = snap.node_external_id(n).filter(|e| e.len() != 36);
        out += &format!("{n:?} {labels:?} {props:?} {ext:?}\n");
        for dir in [Dir::Out, Dir::In, Dir::Both] {
            buf.clear();
            snap.expand(n, dir, &[], &mut buf);
            let degree = snap.degree(n, dir, &[]);
            out += &format!("{n:?} {dir:?} {degree} {buf:?}\n");
        }
    }
    let mut rels: Vec<_> = snap.rel_ids().collect();
    rels.sort_unstable();
    for r in rels {
        // Generated ids differ between stores (each has its own salt); user ids do not.
        let ext = snap
            .rel_external_id(r)
            .filter(|e| e.len() != 36)
            .unwrap_or("generated");
        snap.rel_properties(r, &mut props);
        out += &format!("{r:?} {:?} {props:?} {ext}\n", snap.rel_info(r));
    }
    for t in 0..3 {
        out += &format!("type {t}: {:?}\n", snap.type_stats(t));
    }
    out += &format!("{:?}\n", snap.summary());
    out
}

/// The same nodes and relationships created one by one and through `WriteTxn::bulk` give
/// stores that cannot be told apart, before a reopen, after one (log replay) and after a
/// checkpoint (checkpoint load), both of which place adjacency in bulk.
#[test]
fn bulk_writes_equal_single_writes_and_survive_replay_and_checkpoint() {
    let one_dir = tempfile::tempdir().unwrap();
    let bulk_dir = tempfile::tempdir().unwrap();
    let stores = [open(one_dir.path()), open(bulk_dir.path())];
    for (i, s) in stores.iter().enumerate() {
        let mut t = s.begin_write(&CancelToken::none()).unwrap();
        let (l, m) = (t.intern_label("L"), t.intern_label("M"));
        let (a, b) = (t.intern_key("a"), t.intern_key("b"));
        let mut results = Vec::new();
        for n in 0..32 {
            // Label sets unsorted and repeated; properties out of key order, a key given
            // twice (the later wins), a null (no value), strings and a list.
            let labels: &[LabelId] = match n % 3 {
                0 => &[l],
                1 => &[m, l, m],
                _ => &[],
            };
            let props = vec![
                (b, Value::Int(n)),
                (a, Value::String(format!("s{n}"))),
                (
                    b,
                    if n % 4 == 0 {
                        Value::Null
                    } else {
                        Value::Int(-n)
                    },
                ),
                (a, Value::List(vec![Value::Int(n), Value::Bool(true)])),
            ];
            // n30 twice: a duplicate id; "" is no valid id.
            let id = match n {
                31 => Some("n30".to_owned()),
                7 => Some(String::new()),
                _ => Some(format!("n{n}")),
            };
            results.push(if i == 1 {
                t.bulk()
                    .create_node(labels, props, id.as_deref())
                    .map_err(|e| e.code)
            } else {
                t.create_node(labels, props, id).map_err(|e| e.code)
            });
        }
        assert!(
            results.iter().filter(|r| r.is_err()).count() == 2,
            "{results:?}"
        );
        t.commit().unwrap();
    }
    assert_eq!(observed(&stores[0]), observed(&stores[1]));
    let mut x = 5u64;
    let mut next = |n: u64| {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (x >> 33) % n
    };
    for _batch in 0..3 {
        // Start, end (ids past 29 are missing), type, user id (some repeat: duplicates).
        let rels: Vec<(u64, u64, u64, Option<String>)> = (0..60)
            .map(|_| {
                let id = (next(5) == 0).then(|| format!("r{}", next(20)));
                (next(33), next(33), next(3), id)
            })
            .collect();
        let mut results = Vec::new();
        for (i, s) in stores.iter().enumerate() {
            let mut txn = s.begin_write(&CancelToken::none()).unwrap();
            let types: Vec<_> = ["A", "B", "C"].iter().map(|t| txn.intern_type(t)).collect();
            let k = txn.intern_key("w");
            let args = |(start, end, ty, id): &(u64, u64, u64, Option<String>)| {
                let props = vec![(k, Value::Int(*ty as i64))];
                (
                    NodeId(*start),
                    NodeId(*end),
                    types[*ty as usize],
                    props,
                    id.clone(),
                )
            };
            // Every fourth relationship made gets another property in the same batch
            // (as a Gremlin CSV row that updates an edge does): in bulk, before its keys
            // were counted.
            let v = txn.intern_key("v");
            let got: Vec<_> = if i == 1 {
                let mut bulk = txn.bulk();
                let got: Vec<_> = rels
                    .iter()
                    .map(|r| {
                        let (a, b, ty, props, id) = args(r);
                        bulk.create_rel(a, b, ty, props, id.as_deref())
                            .map_err(|e| e.code)
                    })
                    .collect();
                for r in got.iter().flatten().step_by(4) {
                    bulk.set_rel_property(*r, v, Value::Int(1)).unwrap();
                }
                got
            } else {
                let got: Vec<_> = rels
                    .iter()
                    .map(|r| {
                        let (a, b, ty, props, id) = args(r);
                        txn.create_rel(a, b, ty, props, id).map_err(|e| e.code)
                    })
                    .collect();
                for r in got.iter().flatten().step_by(4) {
                    txn.set_rel_property(*r, v, Value::Int(1)).unwrap();
                }
                got
            };
            txn.commit().unwrap();
            results.push(got);
        }
        assert_eq!(results[0], results[1]);
        assert!(
            results[0].iter().any(|r| r.is_err()),
            "some ends are missing"
        );
        assert_eq!(observed(&stores[0]), observed(&stores[1]));
    }
    let before = observed(&stores[0]);
    assert!(stores[0].snapshot().rel_count() > 100);
    drop(stores);
    let stores = [open(one_dir.path()), open(bulk_dir.path())];
    assert_eq!(observed(&stores[0]), before, "after log replay");
    assert_eq!(observed(&stores[1]), before, "after log replay");
    for s in &stores {
        s.checkpoint().unwrap();
    }
    drop(stores);
    let stores = [open(one_dir.path()), open(bulk_dir.path())];
    assert_eq!(observed(&stores[0]), before, "after a checkpoint");
    assert_eq!(observed(&stores[1]), before, "after a checkpoint");
}
