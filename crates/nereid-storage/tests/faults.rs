//! Deterministic fault injection: a file system that fails at the N-th write or fsync.
//!
//! For every N up to the number of I/O operations the workload performs, the workload runs
//! until the failure, the store is reopened, and the recovered graph must contain exactly
//! the acknowledged transactions: every commit that returned `Ok` is there, no other one is.
//! Two failure models:
//! * **error** — the operation fails (a torn write leaves half its bytes), the process goes
//!   on: the store must fail-stop, keep serving reads, and reopen cleanly;
//! * **crash** — the machine dies at that operation: whatever was not fsynced is lost.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use nereid_common::{CancelToken, ErrorCode};
use nereid_storage::{GraphRead, GraphWrite, Store, StoreConfig, Vfs, VfsFile};
use nereid_value::Value;

#[derive(Clone, Default)]
struct FileState {
    data: Vec<u8>,
    /// Contents as of the last fsync (`None`: never synced).
    durable: Option<Vec<u8>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Error,
    Crash,
}

struct State {
    files: HashMap<PathBuf, FileState>,
    locked: HashSet<PathBuf>,
    /// Write and sync operations so far.
    ops: u64,
    fail_at: u64,
    mode: Mode,
    crashed: bool,
}

#[derive(Clone)]
struct MemFs(Arc<Mutex<State>>);

impl MemFs {
    fn new() -> MemFs {
        MemFs(Arc::new(Mutex::new(State {
            files: HashMap::new(),
            locked: HashSet::new(),
            ops: 0,
            fail_at: u64::MAX,
            mode: Mode::Error,
            crashed: false,
        })))
    }

    fn arm(&self, fail_at: u64, mode: Mode) {
        let mut s = self.0.lock().unwrap();
        s.ops = 0;
        s.fail_at = fail_at;
        s.mode = mode;
        s.crashed = false;
    }

    fn ops(&self) -> u64 {
        self.0.lock().unwrap().ops
    }

    /// After a crash: every file goes back to what was fsynced; the machine "reboots".
    fn reboot(&self) {
        let mut s = self.0.lock().unwrap();
        for f in s.files.values_mut() {
            f.data = f.durable.clone().unwrap_or_default();
        }
        s.crashed = false;
        s.fail_at = u64::MAX;
        s.locked.clear();
    }
}

fn injected() -> io::Error {
    io::Error::other("injected I/O failure")
}

fn dead() -> io::Error {
    io::Error::other("the machine crashed")
}

impl State {
    /// Counts a write/sync; `Err` if this one is to fail.
    fn tick(&mut self) -> Result<(), ()> {
        self.ops += 1;
        if self.ops == self.fail_at {
            if self.mode == Mode::Crash {
                self.crashed = true;
            }
            return Err(());
        }
        Ok(())
    }
}

struct MemFile {
    fs: MemFs,
    path: PathBuf,
}

impl VfsFile for MemFile {
    fn write_all(&self, buf: &[u8]) -> io::Result<()> {
        let mut s = self.fs.0.lock().unwrap();
        if s.crashed {
            return Err(dead());
        }
        let failed = s.tick().is_err();
        let f = s.files.entry(self.path.clone()).or_default();
        if failed {
            // A torn write: half the bytes made it.
            f.data.extend_from_slice(&buf[..buf.len() / 2]);
            return Err(injected());
        }
        f.data.extend_from_slice(buf);
        Ok(())
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> io::Result<()> {
        let mut s = self.fs.0.lock().unwrap();
        if s.crashed {
            return Err(dead());
        }
        let failed = s.tick().is_err();
        let f = s.files.entry(self.path.clone()).or_default();
        // A torn write: half the bytes made it.
        let buf = if failed { &buf[..buf.len() / 2] } else { buf };
        let at = offset as usize;
        if f.data.len() < at + buf.len() {
            f.data.resize(at + buf.len(), 0);
        }
        f.data[at..at + buf.len()].copy_from_slice(buf);
        if failed {
            return Err(injected());
        }
        Ok(())
    }

    fn sync(&self) -> io::Result<()> {
        let mut s = self.fs.0.lock().unwrap();
        if s.crashed {
            return Err(dead());
        }
        if s.tick().is_err() {
            return Err(injected());
        }
        let f = s.files.entry(self.path.clone()).or_default();
        f.durable = Some(f.data.clone());
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut s = self.fs.0.lock().unwrap();
        if s.crashed {
            return Err(dead());
        }
        let f = s.files.entry(self.path.clone()).or_default();
        f.data.resize(len as usize, 0);
        Ok(())
    }
}

struct LockGuard {
    fs: MemFs,
    path: PathBuf,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        self.fs.0.lock().unwrap().locked.remove(&self.path);
    }
}

impl Vfs for MemFs {
    fn create_dir_all(&self, _dir: &Path) -> io::Result<()> {
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let s = self.0.lock().unwrap();
        Ok(s.files
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name()?.to_str().map(String::from))
            .collect())
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let s = self.0.lock().unwrap();
        s.files
            .get(path)
            .map(|f| f.data.clone())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn VfsFile>> {
        let mut s = self.0.lock().unwrap();
        if s.crashed {
            return Err(dead());
        }
        let f = s.files.entry(path.to_path_buf()).or_default();
        f.data.clear();
        Ok(Box::new(MemFile {
            fs: self.clone(),
            path: path.to_path_buf(),
        }))
    }

    fn open_append(&self, path: &Path) -> io::Result<Box<dyn VfsFile>> {
        let s = self.0.lock().unwrap();
        if !s.files.contains_key(path) {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no such file"));
        }
        Ok(Box::new(MemFile {
            fs: self.clone(),
            path: path.to_path_buf(),
        }))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.0.lock().unwrap();
        if s.crashed {
            return Err(dead());
        }
        let f = s
            .files
            .remove(from)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))?;
        s.files.insert(to.to_path_buf(), f);
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut s = self.0.lock().unwrap();
        if s.crashed {
            return Err(dead());
        }
        s.files.remove(path);
        Ok(())
    }

    fn sync_dir(&self, _dir: &Path) -> io::Result<()> {
        let mut s = self.0.lock().unwrap();
        if s.crashed {
            return Err(dead());
        }
        if s.tick().is_err() {
            return Err(injected());
        }
        Ok(())
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn Any + Send + Sync>> {
        let mut s = self.0.lock().unwrap();
        if !s.locked.insert(path.to_path_buf()) {
            return Err(io::Error::new(io::ErrorKind::WouldBlock, "locked"));
        }
        Ok(Box::new(LockGuard {
            fs: self.clone(),
            path: path.to_path_buf(),
        }))
    }
}

fn config(fs: &MemFs) -> StoreConfig {
    StoreConfig {
        dir: Some(PathBuf::from("/data")),
        checkpoint_bytes: 0,
        vfs: Some(Arc::new(fs.clone())),
    }
}

const TXNS: usize = 12;

/// Transaction `i` creates node `t{i}`, links it to `t{i-1}`, and sets `last = i` on `t0`.
/// Transaction 6 is preceded by a checkpoint and transaction 9 deletes `t8`'s link.
/// Returns the acknowledged transactions.
fn workload(store: &Store) -> Vec<usize> {
    let mut acked = Vec::new();
    for i in 0..TXNS {
        if i == 6 {
            // A failed checkpoint loses nothing; it is not a reason to stop.
            let _ = store.checkpoint();
        }
        let mut t = match store.begin_write(&CancelToken::none()) {
            Ok(t) => t,
            Err(e) => {
                assert_eq!(e.code, ErrorCode::StorageFailure, "{e:?}");
                break;
            }
        };
        let label = t.intern_label("T");
        let last = t.intern_key("last");
        let next = t.intern_type("NEXT");
        let n = t
            .create_node(&[label], vec![], Some(format!("t{i}")))
            .unwrap();
        if i > 0 {
            let prev = t.node_by_external_id(&format!("t{}", i - 1)).unwrap();
            t.create_rel(prev, n, next, vec![], Some(format!("r{i}")))
                .unwrap();
            let t0 = t.node_by_external_id("t0").unwrap();
            t.set_node_property(t0, last, Value::Int(i as i64)).unwrap();
        }
        if i == 9 {
            let r = t.rel_by_external_id("r8").unwrap();
            t.delete_rel(r).unwrap();
        }
        match t.commit() {
            Ok(()) => acked.push(i),
            Err(e) => {
                assert_eq!(e.code, ErrorCode::StorageFailure, "{e:?}");
                // Fail-stop: no more writes, reads still work.
                let err = store
                    .begin_write(&CancelToken::none())
                    .map(|_| ())
                    .unwrap_err();
                assert_eq!(err.code, ErrorCode::StorageFailure);
                assert!(store.failure().is_some());
                let snap = store.snapshot();
                for &j in &acked {
                    assert!(snap.node_by_external_id(&format!("t{j}")).is_some());
                }
                assert!(snap.node_by_external_id(&format!("t{i}")).is_none());
                break;
            }
        }
    }
    acked
}

/// The recovered store holds exactly the acknowledged transactions.
fn check(store: &Store, acked: &[usize], context: &str) {
    let snap = store.snapshot();
    for i in 0..TXNS {
        let present = snap.node_by_external_id(&format!("t{i}")).is_some();
        assert_eq!(present, acked.contains(&i), "{context}: transaction {i}");
    }
    assert_eq!(snap.node_count(), acked.len() as u64, "{context}");
    if let Some(&last) = acked.last() {
        let t0 = snap.node_by_external_id("t0").unwrap();
        let expected = if last == 0 {
            None
        } else {
            Some(Value::Int(last as i64))
        };
        let key = snap.key_id("last");
        assert_eq!(
            key.and_then(|k| snap.node_property(t0, k)),
            expected,
            "{context}"
        );
        let rels = acked.iter().filter(|&&i| i > 0).count() - usize::from(acked.contains(&9));
        assert_eq!(snap.rel_count(), rels as u64, "{context}");
    }
}

fn run_all(mode: Mode) {
    // A dry run counts the operations.
    let fs = MemFs::new();
    let total = {
        let store = Store::open(&config(&fs)).unwrap();
        fs.arm(u64::MAX, mode);
        let acked = workload(&store);
        assert_eq!(acked.len(), TXNS);
        fs.ops()
    };
    assert!(total > 2 * TXNS as u64, "{total}");
    eprintln!("{mode:?}: injecting a failure at each of {total} operations");
    for n in 1..=total {
        let fs = MemFs::new();
        let store = Store::open(&config(&fs)).unwrap();
        fs.arm(n, mode);
        let acked = workload(&store);
        drop(store);
        reopen_and_check(
            &fs,
            mode,
            &acked,
            &format!("{mode:?} at operation {n} of {total}"),
        );
    }
}

/// Failures while creating a store (its first log segment) and while reopening one.
fn run_open_failures(mode: Mode) {
    for n in 1..=3 {
        let fs = MemFs::new();
        fs.arm(n, mode);
        let acked = match Store::open(&config(&fs)) {
            Ok(store) => workload(&store),
            Err(e) => {
                assert_eq!(e.code, ErrorCode::StorageFailure);
                Vec::new()
            }
        };
        reopen_and_check(
            &fs,
            mode,
            &acked,
            &format!("{mode:?} at open operation {n}"),
        );
    }
}

fn reopen_and_check(fs: &MemFs, mode: Mode, acked: &[usize], what: &str) {
    if mode == Mode::Crash {
        fs.reboot();
    } else {
        fs.arm(u64::MAX, mode);
    }
    let context = format!("{what}, acknowledged {acked:?}");
    let store = match Store::open(&config(fs)) {
        Ok(s) => s,
        Err(e) => panic!("{context}: reopen failed: {}", e.message),
    };
    check(&store, acked, &context);
    // The reopened store takes writes again and keeps them.
    let mut t = store.begin_write(&CancelToken::none()).unwrap();
    t.create_node(&[], vec![], Some("after".into())).unwrap();
    t.commit().unwrap();
    drop(store);
    let store = Store::open(&config(fs)).unwrap();
    assert!(
        store.snapshot().node_by_external_id("after").is_some(),
        "{context}"
    );
    check_count(&store, acked.len() + 1, &context);
}

fn check_count(store: &Store, n: usize, context: &str) {
    assert_eq!(store.snapshot().node_count(), n as u64, "{context}");
}

#[test]
fn every_io_error_stops_writes_and_loses_no_acknowledged_commit() {
    run_all(Mode::Error);
    run_open_failures(Mode::Error);
}

#[test]
fn a_crash_at_any_write_or_fsync_keeps_exactly_the_acknowledged_commits() {
    run_all(Mode::Crash);
    run_open_failures(Mode::Crash);
}

// ---- the change stream under the same failures -------------------------------------------

/// The node `~id` of each commit's first record, checking that commits are numbered 1, 2, …
fn stream_commits(store: &Store, context: &str) -> Vec<String> {
    use nereid_storage::StreamStart;
    let records = match store
        .streams()
        .read(StreamStart::TrimHorizon, 100_000, usize::MAX)
    {
        Ok(page) => page.records,
        Err(e) if e.code == ErrorCode::StreamRecordsNotFound => Vec::new(),
        Err(e) => panic!("{context}: stream read failed: {}", e.message),
    };
    let mut firsts = Vec::new();
    for r in &records {
        if r.event.op_num == 1 {
            assert_eq!(
                r.event.commit_num,
                firsts.len() as u64 + 1,
                "{context}: commit numbers have a gap"
            );
            firsts.push(r.id.clone());
        }
    }
    firsts
}

fn expected_commits(acked: &[usize]) -> Vec<String> {
    acked.iter().map(|i| format!("t{i}")).collect()
}

fn run_all_with_streams(mode: Mode) {
    let fs = MemFs::new();
    let total = {
        let store = Store::open(&config(&fs)).unwrap();
        fs.arm(u64::MAX, mode);
        store
            .enable_streams(nereid_storage::DEFAULT_STREAM_EXPIRY)
            .unwrap();
        let acked = workload(&store);
        assert_eq!(acked.len(), TXNS);
        assert_eq!(stream_commits(&store, "dry run"), expected_commits(&acked));
        fs.ops()
    };
    eprintln!("{mode:?} with streams: injecting a failure at each of {total} operations");
    let (mut restored, mut cut) = (0, 0);
    for n in 1..=total {
        let fs = MemFs::new();
        let store = Store::open(&config(&fs)).unwrap();
        fs.arm(n, mode);
        let enabled = store
            .enable_streams(nereid_storage::DEFAULT_STREAM_EXPIRY)
            .is_ok();
        let acked = workload(&store);
        drop(store);
        let what = format!("{mode:?} with streams at operation {n} of {total}");
        if mode == Mode::Crash {
            fs.reboot();
        } else {
            fs.arm(u64::MAX, mode);
        }
        let context = format!("{what}, acknowledged {acked:?}, stream enabled: {enabled}");
        let store = match Store::open(&config(&fs)) {
            Ok(s) => s,
            Err(e) => panic!("{context}: reopen failed: {}", e.message),
        };
        check(&store, &acked, &context);
        let messages = &store.open_report().messages;
        restored += usize::from(
            messages
                .iter()
                .any(|m| m.contains("section(s) from the write-ahead log")),
        );
        cut += usize::from(messages.iter().any(|m| m.contains("never acknowledged")));
        store
            .enable_streams(nereid_storage::DEFAULT_STREAM_EXPIRY)
            .unwrap();
        let want = if enabled {
            expected_commits(&acked)
        } else {
            Vec::new()
        };
        assert_eq!(stream_commits(&store, &context), want, "{context}");
        // The reopened stream takes commits again and keeps them across another reopen.
        let mut t = store.begin_write(&CancelToken::none()).unwrap();
        let label = t.intern_label("T");
        t.create_node(&[label], vec![], Some("after".into()))
            .unwrap();
        t.commit().unwrap();
        drop(store);
        let store = Store::open(&config(&fs)).unwrap();
        store
            .enable_streams(nereid_storage::DEFAULT_STREAM_EXPIRY)
            .unwrap();
        let mut want = want;
        want.push("after".into());
        assert_eq!(stream_commits(&store, &context), want, "{context}");
    }
    eprintln!("{mode:?}: {restored} reopen(s) restored stream records from the log, {cut} cut records the log lacked");
    // Both repairs were exercised: a crash loses the stream's unsynced tail (the log has
    // it), and a failed log fsync leaves stream records of unacknowledged commits.
    match mode {
        Mode::Crash => assert!(restored > 0),
        Mode::Error => assert!(cut > 0),
    }
}

#[test]
fn with_streams_every_io_error_keeps_the_stream_equal_to_the_acknowledged_commits() {
    run_all_with_streams(Mode::Error);
}

#[test]
fn with_streams_a_crash_at_any_write_or_fsync_keeps_exactly_the_acknowledged_commits() {
    run_all_with_streams(Mode::Crash);
}
