//! The HTTP API over the real engine (an in-memory [`Database`]): result encoding of real
//! nodes, relationships and paths, error codes of real parse and runtime errors, and
//! cancellation and timeouts of real long-running operators.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::Method;
use axum::Router;
use common::{get, request, sdk_query, send, wait_running};
use nereid_engine::manager::{ManagerConfig, QueryManager};
use nereid_engine::Database;
use nereid_http::HttpConfig;

const LONG: &str = "UNWIND range(1, 1000000000) AS x RETURN count(x)";

fn engine(workers: usize, query_timeout_ms: u64) -> Router {
    let manager = QueryManager::new(
        Database::in_memory(),
        ManagerConfig {
            workers,
            queue_size: 64,
            query_timeout_ms,
        },
    )
    .unwrap();
    nereid_http::router(Arc::new(manager), HttpConfig::default())
}

async fn results(router: &Router, query: &str, parameters: Option<&str>) -> serde_json::Value {
    send(router, sdk_query(query, parameters)).await.expect_ok()["results"].clone()
}

#[tokio::test]
async fn create_and_read_back_with_parameters() {
    let r = engine(2, 0);
    let created = results(
        &r,
        "CREATE (n:Person {`~id`: 'p1', name: $name}) RETURN n",
        Some(r#"{"name": "Ada"}"#),
    )
    .await;
    assert_eq!(
        created,
        serde_json::json!([{"n": {"~id": "p1", "~entityType": "node", "~labels": ["Person"], "~properties": {"name": "Ada"}}}])
    );
    let found = results(
        &r,
        "MATCH (n:Person {name: $name}) RETURN n.name AS name, id(n) AS id",
        Some(r#"{"name": "Ada"}"#),
    )
    .await;
    assert_eq!(found, serde_json::json!([{"name": "Ada", "id": "p1"}]));
}

#[tokio::test]
async fn relationships_and_paths() {
    let r = engine(2, 0);
    results(
        &r,
        "CREATE (:P {`~id`: 'a'})-[:KNOWS {since: 2020}]->(:P {`~id`: 'b'})",
        None,
    )
    .await;
    let rows = results(&r, "MATCH p=(a:P)-[r:KNOWS]->(b) RETURN r, p", None).await;
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
    let rel = &rows[0]["r"];
    assert_eq!(rel["~entityType"], "relationship");
    assert_eq!(rel["~start"], "a");
    assert_eq!(rel["~end"], "b");
    assert_eq!(rel["~type"], "KNOWS");
    assert_eq!(rel["~properties"], serde_json::json!({"since": 2020}));
    assert!(rel["~id"].is_string());
    let path = rows[0]["p"].as_array().unwrap();
    assert_eq!(path.len(), 3);
    assert_eq!(path[0]["~id"], "a");
    assert_eq!(&path[1], rel);
    assert_eq!(path[2]["~id"], "b");
}

#[tokio::test]
async fn scalars_and_aggregation() {
    let r = engine(1, 0);
    let rows = results(
        &r,
        "RETURN 1 AS one, 2.5 AS f, 'x' AS s, true AS b, null AS z, [1,2] AS l, {k: 1} AS m",
        None,
    )
    .await;
    assert_eq!(
        rows,
        serde_json::json!([{"one": 1, "f": 2.5, "s": "x", "b": true, "z": null, "l": [1, 2], "m": {"k": 1}}])
    );
    let rows = results(&r, "MATCH (n) RETURN count(n)", None).await;
    assert_eq!(rows, serde_json::json!([{"count(n)": 0}]));
}

#[tokio::test]
async fn parse_and_runtime_errors_are_coded() {
    let r = engine(1, 0);
    let reply = send(&r, sdk_query("MATCH (n RETURN n", None)).await;
    let msg = reply.expect_error(400, "MalformedQueryException");
    assert!(msg.contains("line") && msg.contains("column"), "{msg}");
    let reply = send(&r, sdk_query("MATCH (n), (n) RETURN n AS x, n AS x", None)).await;
    reply.expect_error(400, "MalformedQueryException");
    let reply = send(&r, sdk_query("RETURN $x - 1 AS y", Some(r#"{"x": "a"}"#))).await;
    assert_eq!(reply.status.as_u16(), 400, "{}", reply.json);
    assert!(reply.json["code"].as_str().unwrap().ends_with("Exception"));
}

#[tokio::test]
async fn cancel_stops_a_billion_row_unwind() {
    let r = engine(2, 0);
    let caller = {
        let r = r.clone();
        tokio::spawn(async move {
            let reply = send(&r, sdk_query(LONG, None)).await;
            (reply, Instant::now())
        })
    };
    let id = wait_running(&r, 1).await.remove(0);
    let first = get(&r, &format!("/opencypher/status/{id}")).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let second = get(&r, &format!("/opencypher/status/{id}")).await;
    let e1 = first.expect_ok()["queryEvalStats"]["elapsed"]
        .as_u64()
        .unwrap();
    let e2 = second.expect_ok()["queryEvalStats"]["elapsed"]
        .as_u64()
        .unwrap();
    assert!(e2 >= e1 + 50, "{e1} then {e2}");

    let sent = Instant::now();
    send(
        &r,
        request(Method::DELETE, &format!("/opencypher/status/{id}")),
    )
    .await
    .expect_ok();
    let (reply, answered) = caller.await.unwrap();
    let latency = answered - sent;
    println!("cancel latency of the real engine (router level): {latency:?}");
    reply.expect_error(500, "CancelledByUserException");
    assert!(latency < Duration::from_millis(100), "{latency:?}");
}

#[tokio::test]
async fn timeouts_stop_long_operators() {
    let r = engine(2, 200);
    let t = Instant::now();
    let reply = send(&r, sdk_query(LONG, None)).await;
    reply.expect_error(500, "TimeLimitExceededException");
    let took = t.elapsed();
    println!("--query-timeout-ms 200 answered after {took:?}");
    assert!(took < Duration::from_millis(300), "{took:?}");

    results(&r, "UNWIND range(1, 300) AS i CREATE (:T {i: i})", None).await;
    let reply = send(
        &r,
        sdk_query(
            "USING QUERY:TIMEOUTMILLISECONDS 1 MATCH (a),(b),(c) RETURN count(*)",
            None,
        ),
    )
    .await;
    reply.expect_error(500, "TimeLimitExceededException");
}

#[tokio::test]
async fn cancel_stops_a_large_cartesian_product() {
    let r = engine(2, 0);
    results(&r, "UNWIND range(1, 400) AS i CREATE (:T {i: i})", None).await;
    let caller = {
        let r = r.clone();
        tokio::spawn(async move {
            let reply = send(
                &r,
                sdk_query("MATCH (a:T), (b:T), (c:T) RETURN count(*) AS n", None),
            )
            .await;
            (reply, Instant::now())
        })
    };
    let id = wait_running(&r, 1).await.remove(0);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let sent = Instant::now();
    send(
        &r,
        request(Method::DELETE, &format!("/opencypher/status/{id}")),
    )
    .await
    .expect_ok();
    let (reply, answered) = caller.await.unwrap();
    let latency = answered - sent;
    println!("cancel latency of a 64M-row cartesian product (router level): {latency:?}");
    reply.expect_error(500, "CancelledByUserException");
    assert!(latency < Duration::from_millis(100), "{latency:?}");
}
