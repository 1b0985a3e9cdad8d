use nereid_common::{CancelToken, Map, Value};
use nereid_engine::Database;
use std::time::Instant;

fn main() {
    let db = Database::in_memory();
    let n: i64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let deg: i64 = 10;
    let t = Instant::now();
    let mut p = Map::new();
    p.insert("n".into(), Value::Int(n));
    db.execute(
        "UNWIND range(0, $n - 1) AS i CREATE (:P {id: i, name: 'p' + toString(i)})",
        &p,
        &CancelToken::none(),
    )
    .unwrap();
    println!("nodes: {:?}", t.elapsed());
    let t = Instant::now();
    p.insert("deg".into(), Value::Int(deg));
    db.execute("MATCH (a:P) UNWIND range(1, $deg) AS k WITH a, (a.id * 7919 + k * 104729) % $n AS j MATCH (b:P {id: j}) CREATE (a)-[:KNOWS]->(b)", &p, &CancelToken::none()).unwrap();
    println!("rels: {:?}", t.elapsed());
    for q in [
        "MATCH (a)-->(b) RETURN count(*)",
        "MATCH (a)-->(b)-->(c) RETURN count(*)",
        "MATCH (a:P)-[:KNOWS]->(b) WHERE a.id < 1000 RETURN count(b)",
        "MATCH (a:P) RETURN a.name ORDER BY a.name LIMIT 5",
        "MATCH (a:P {id: 4242}) RETURN a.name",
    ] {
        let t = Instant::now();
        let r = db.execute(q, &Map::new(), &CancelToken::none()).unwrap();
        println!("{q}: {:?} -> {:?}", t.elapsed(), r.rows[0]);
    }
}
