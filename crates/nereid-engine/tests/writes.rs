//! A `SET` of the value a property already has changes nothing: it logs nothing (a
//! transaction of such writes commits without a log record or an fsync), and every other
//! `SET` — another value, another type of the same number, a removal — is logged and
//! survives a restart.

use nereid_common::CancelToken;
use nereid_engine::{Database, DbConfig};
use nereid_value::{Map, Value};

fn rows(db: &Database, q: &str) -> Vec<Vec<Value>> {
    match db.execute(q, &Map::new(), &CancelToken::none()) {
        Ok(r) => r.rows,
        Err(e) => panic!("{q}: {e}"),
    }
}

/// A data directory removed when dropped.
struct Dir(std::path::PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn open(dir: &Dir) -> Database {
    Database::open(DbConfig {
        data_dir: Some(dir.0.clone()),
    })
    .unwrap()
}

#[test]
fn setting_the_same_value_logs_nothing_and_other_values_are_durable() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir =
        Dir(std::env::temp_dir().join(format!("nereid-writes-{}-{nanos}", std::process::id())));
    let db = open(&dir);
    rows(
        &db,
        "CREATE (:P {id: 1, age: 42, w: 1.5, z: 0.0, s: 'a', b: true})-[:R {k: 7}]->(:P {id: 2})",
    );
    let fsyncs = |db: &Database| db.store().io_stats().unwrap().fsyncs;
    let before = fsyncs(&db);
    for q in [
        "MATCH (p:P {id: 1}) SET p.age = 42 RETURN p.age",
        "MATCH (p:P {id: 1}) SET p.w = 1.5, p.s = 'a', p.b = true, p.gone = null",
        "MATCH (p:P {id: 1}) SET p += {age: 42, z: 0.0}",
        "MATCH ()-[r:R]->() SET r.k = 7",
        "MATCH (p:P {id: 2}) REMOVE p.nothing",
        // A key the store knows, absent on this node.
        "MATCH (p:P {id: 2}) SET p.age = null",
    ] {
        rows(&db, q);
        assert_eq!(fsyncs(&db), before, "{q} logged a change");
    }
    // Changes: another value, an integer for a float of the same number, -0.0 for 0.0,
    // a removal, a relationship's property.
    for q in [
        "MATCH (p:P {id: 1}) SET p.age = 43",
        "MATCH (p:P {id: 1}) SET p.w = 2",
        "MATCH (p:P {id: 1}) SET p.z = -0.0",
        "MATCH (p:P {id: 1}) SET p.s = null",
        "MATCH ()-[r:R]->() SET r.k = 8",
    ] {
        let n = fsyncs(&db);
        rows(&db, q);
        assert!(fsyncs(&db) > n, "{q} was not logged");
    }
    let read = "MATCH (p:P {id: 1})-[r:R]->() \
                RETURN p.age, p.w, toString(p.z), p.s, p.b, r.k";
    let want = vec![vec![
        Value::Int(43),
        Value::Int(2),
        Value::from("-0.0"),
        Value::Null,
        Value::Bool(true),
        Value::Int(8),
    ]];
    assert_eq!(rows(&db, read), want);
    drop(db);
    let db = open(&dir);
    assert_eq!(rows(&db, read), want);
}
