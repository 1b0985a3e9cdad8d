//! The summary, statistics, explain and fast-reset routes over the real engine (an
//! in-memory or on-disk [`Database`]): Neptune's shapes, aliases, errors and methods.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use axum::Router;
use common::{get, request, sdk_query, send, send_raw, wait_running, with_body};
use nereid_engine::manager::{ManagerConfig, QueryManager};
use nereid_engine::{Database, DbConfig};
use nereid_http::HttpConfig;
use serde_json::{json, Value};

fn router_of(db: Database, http: HttpConfig) -> Router {
    let manager = QueryManager::new(
        db,
        ManagerConfig {
            workers: 2,
            queue_size: 64,
            query_timeout_ms: 0,
        },
    )
    .unwrap();
    nereid_http::router(Arc::new(manager), http)
}

fn engine() -> Router {
    router_of(Database::in_memory(), HttpConfig::default())
}

async fn run(r: &Router, query: &str) -> Value {
    send(r, sdk_query(query, None)).await.expect_ok()["results"].clone()
}

fn json_post(uri: &str, body: Value) -> axum::http::Request<axum::body::Body> {
    with_body(Method::POST, uri, "application/json", body.to_string())
}

fn form_post(uri: &str, body: &str) -> axum::http::Request<axum::body::Body> {
    with_body(
        Method::POST,
        uri,
        "application/x-www-form-urlencoded",
        body.to_owned(),
    )
}

const GRAPH: &str = "CREATE (a:Person:Admin {name: 'ann', age: 41}), (b:Person {name: 'bob'}), \
     (c:City {name: 'x', pop: 5}), (a)-[:KNOWS {since: 2020}]->(b), (a)-[:LIVES_IN]->(c), \
     (b)-[:LIVES_IN]->(c)";

#[tokio::test]
async fn summary_has_neptunes_shape_and_exact_counts() {
    let r = engine();
    run(&r, GRAPH).await;
    let basic = get(&r, "/propertygraph/statistics/summary").await;
    let body = basic.expect_ok();
    assert_eq!(body["status"], "200 OK");
    assert_eq!(body["payload"]["version"], "v1");
    let date = body["payload"]["lastStatisticsComputationTime"]
        .as_str()
        .unwrap();
    assert!(date.ends_with('Z') && date.len() == 24, "{date}");
    assert_eq!(
        body["payload"]["graphSummary"],
        json!({
            "numNodes": 3, "numEdges": 3, "numNodeLabels": 3, "numEdgeLabels": 2,
            "nodeLabels": ["Admin", "City", "Person"],
            "edgeLabels": ["KNOWS", "LIVES_IN"],
            "numNodeProperties": 3, "numEdgeProperties": 1,
            "nodeProperties": [{"name": 3}, {"age": 1}, {"pop": 1}],
            "edgeProperties": [{"since": 1}],
            "totalNodePropertyValues": 5, "totalEdgePropertyValues": 1,
        })
    );
    // The alias, mode=detailed: structures (no labels in them), most frequent first.
    let detailed = get(&r, "/pg/statistics/summary?mode=detailed").await;
    let graph = &detailed.expect_ok()["payload"]["graphSummary"];
    assert_eq!(
        graph["nodeStructures"],
        json!([
            {"count": 1, "nodeProperties": ["age", "name"], "distinctOutgoingEdgeLabels": ["KNOWS", "LIVES_IN"]},
            {"count": 1, "nodeProperties": ["name"], "distinctOutgoingEdgeLabels": ["LIVES_IN"]},
            {"count": 1, "nodeProperties": ["name", "pop"], "distinctOutgoingEdgeLabels": []},
        ])
    );
    assert_eq!(
        graph["edgeStructures"],
        json!([{"count": 2, "edgeProperties": []}, {"count": 1, "edgeProperties": ["since"]}])
    );
    let basic_again = get(&r, "/pg/statistics/summary?mode=basic").await;
    assert!(basic_again.expect_ok()["payload"]["graphSummary"]
        .get("nodeStructures")
        .is_none());
}

#[tokio::test]
async fn summary_follows_deletes_label_changes_and_property_changes() {
    let r = engine();
    run(&r, GRAPH).await;
    run(
        &r,
        "MATCH (a:Admin) REMOVE a:Admin SET a:Boss, a.age = null",
    )
    .await;
    run(&r, "MATCH (c:City) DETACH DELETE c").await;
    let s = get(&r, "/pg/statistics/summary?mode=detailed").await;
    let g = &s.expect_ok()["payload"]["graphSummary"];
    assert_eq!(g["numNodes"], 2);
    assert_eq!(g["numEdges"], 1);
    assert_eq!(g["nodeLabels"], json!(["Boss", "Person"]));
    assert_eq!(g["edgeLabels"], json!(["KNOWS"]));
    assert_eq!(g["nodeProperties"], json!([{"name": 2}]));
    assert_eq!(
        g["nodeStructures"],
        json!([
            {"count": 1, "nodeProperties": ["name"], "distinctOutgoingEdgeLabels": []},
            {"count": 1, "nodeProperties": ["name"], "distinctOutgoingEdgeLabels": ["KNOWS"]},
        ])
    );
    run(&r, "MATCH (n) DETACH DELETE n").await;
    let g = get(&r, "/pg/statistics/summary").await;
    assert_eq!(
        g.expect_ok()["payload"]["graphSummary"],
        json!({
            "numNodes": 0, "numEdges": 0, "numNodeLabels": 0, "numEdgeLabels": 0,
            "nodeLabels": [], "edgeLabels": [], "numNodeProperties": 0, "numEdgeProperties": 0,
            "nodeProperties": [], "edgeProperties": [],
            "totalNodePropertyValues": 0, "totalEdgePropertyValues": 0,
        })
    );
}

#[tokio::test]
async fn summary_survives_a_restart_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        Database::open(DbConfig {
            data_dir: Some(dir.path().to_owned()),
        })
        .unwrap()
    };
    let before = {
        let r = router_of(open(), HttpConfig::default());
        run(&r, GRAPH).await;
        run(
            &r,
            "MATCH (b {name: 'bob'}) SET b.nick = 'b' REMOVE b:Person SET b:Guest",
        )
        .await;
        get(&r, "/pg/statistics/summary?mode=detailed").await.json["payload"]["graphSummary"]
            .clone()
    };
    let r = router_of(open(), HttpConfig::default());
    let after = get(&r, "/pg/statistics/summary?mode=detailed").await;
    assert_eq!(after.expect_ok()["payload"]["graphSummary"], before);
    assert_eq!(
        before["nodeLabels"],
        json!(["Admin", "City", "Guest", "Person"])
    );
}

#[tokio::test]
async fn summary_request_errors_are_neptunes() {
    let r = engine();
    let m = get(&r, "/pg/statistics/summary?mode=full")
        .await
        .expect_error(400, "InvalidParameterException");
    assert_eq!(m, "URI query parameter 'mode' has unsupported value 'full'");
    let m = get(&r, "/pg/statistics/summary?mode=basic&x=1&y=2")
        .await
        .expect_error(400, "InvalidParameterException");
    assert_eq!(m, "Request contains unknown parameters: 'x', 'y'");
    for method in [Method::POST, Method::DELETE, Method::PUT] {
        send(&r, request(method, "/propertygraph/statistics/summary"))
            .await
            .expect_error(405, "MethodNotAllowedException");
    }
}

#[tokio::test]
async fn statistics_life_cycle() {
    let r = engine();
    run(&r, GRAPH).await;
    let status = get(&r, "/propertygraph/statistics").await;
    let p = status.expect_ok()["payload"].clone();
    assert_eq!(status.json["status"], "200 OK");
    assert_eq!(p["autoCompute"], true);
    assert_eq!(p["active"], true);
    assert!(p["statisticsId"].as_i64().unwrap() > 0);
    assert!(p["date"].as_str().unwrap().ends_with('Z'));
    // 6 structures (3 node, 2 edge... counted), 6 instances, predicates: keys and types.
    assert_eq!(
        p["signatureInfo"],
        json!({"signatureCount": 5, "instanceCount": 6, "predicateCount": 6})
    );

    // Auto-compute off: the summary stays as of then until a refresh.
    let off = send(
        &r,
        json_post("/pg/statistics", json!({"mode": "disableAutoCompute"})),
    )
    .await;
    assert_eq!(off.expect_ok(), &json!({"status": "200 OK"}));
    run(&r, "CREATE (:Late)").await;
    let summary = |r: Router| async move {
        get(&r, "/pg/statistics/summary").await.json["payload"]["graphSummary"]["numNodes"].clone()
    };
    assert_eq!(summary(r.clone()).await, 3);
    assert_eq!(
        get(&r, "/pg/statistics").await.json["payload"]["autoCompute"],
        false
    );
    let refreshed = send(&r, form_post("/pg/statistics", "mode=refresh")).await;
    assert!(refreshed.expect_ok()["payload"]["statisticsId"].is_i64());
    assert_eq!(summary(r.clone()).await, 4);
    send(
        &r,
        json_post("/pg/statistics", json!({"mode": "enableAutoCompute"})),
    )
    .await
    .expect_ok();
    run(&r, "CREATE (:Later)").await;
    assert_eq!(summary(r.clone()).await, 5);

    // Delete: 200 with Neptune's payload, then 204 with an empty body.
    let deleted = send(&r, request(Method::DELETE, "/propertygraph/statistics")).await;
    assert_eq!(
        deleted.expect_ok(),
        &json!({"status": "200 OK", "payload": {"active": false, "statisticsId": -1}})
    );
    let again = send_raw(&r, request(Method::DELETE, "/pg/statistics")).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    assert!(again.body.is_empty());
    assert!(again.headers.contains_key("x-amzn-RequestId"));
    assert_eq!(
        get(&r, "/pg/statistics").await.json["payload"],
        json!({"autoCompute": true, "active": false, "statisticsId": -1})
    );
    let m = get(&r, "/pg/statistics/summary")
        .await
        .expect_error(400, "StatisticsNotAvailableException");
    assert!(m.starts_with("Statistics are not computed yet"), "{m}");
    // With auto-compute on, the next change computes them again.
    run(&r, "CREATE (:Again)").await;
    assert_eq!(summary(r.clone()).await, 6);
}

#[tokio::test]
async fn statistics_request_errors() {
    let r = engine();
    let m = send(
        &r,
        json_post("/pg/statistics", json!({"mode": "recompute"})),
    )
    .await
    .expect_error(400, "InvalidParameterException");
    assert_eq!(
        m,
        "Statistics command parameter 'mode' has unsupported value 'recompute'"
    );
    send(&r, json_post("/pg/statistics", json!({})))
        .await
        .expect_error(400, "MissingParameterException");
    // graph-notebook posts the JSON without a Content-Type: accepted.
    let untyped = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/pg/statistics")
        .body(axum::body::Body::from(r#"{"mode": "refresh"}"#))
        .unwrap();
    send(&r, untyped).await.expect_ok();
    send(&r, request(Method::PUT, "/pg/statistics"))
        .await
        .expect_error(405, "MethodNotAllowedException");
    // A read-only server reports statistics but does not change them.
    let ro = router_of(
        Database::in_memory().with_read_only(true),
        HttpConfig::default(),
    );
    get(&ro, "/pg/statistics").await.expect_ok();
    send(&ro, json_post("/pg/statistics", json!({"mode": "refresh"})))
        .await
        .expect_error(400, "ReadOnlyViolationException");
    send(&ro, request(Method::DELETE, "/pg/statistics"))
        .await
        .expect_error(400, "ReadOnlyViolationException");
}

async fn reset_token(r: &Router) -> String {
    let reply = send(
        r,
        json_post("/system", json!({"action": "initiateDatabaseReset"})),
    )
    .await;
    let body = reply.expect_ok();
    assert_eq!(body["status"], "200 OK");
    body["payload"]["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn fast_reset_empties_a_durable_database_for_good() {
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        Database::open(DbConfig {
            data_dir: Some(dir.path().to_owned()),
        })
        .unwrap()
    };
    {
        let r = router_of(open(), HttpConfig::default());
        run(&r, GRAPH).await;
        let stale = reset_token(&r).await;
        let token = reset_token(&r).await;
        let m = send(
            &r,
            json_post(
                "/system",
                json!({"action": "performDatabaseReset", "token": stale}),
            ),
        )
        .await
        .expect_error(400, "InvalidParameterException");
        assert_eq!(
            m,
            format!(
                "System command parameter 'token' : '{stale}' does not match database reset token"
            )
        );
        assert_eq!(
            run(&r, "MATCH (n) RETURN count(n) AS n").await,
            json!([{"n": 3}])
        );
        // graph-notebook's %db_reset posts a form.
        let done = send(
            &r,
            form_post(
                "/system",
                &format!("action=performDatabaseReset&token={token}"),
            ),
        )
        .await;
        assert_eq!(done.expect_ok(), &json!({"status": "200 OK"}));
        assert_eq!(
            run(&r, "MATCH (n) RETURN count(n) AS n").await,
            json!([{"n": 0}])
        );
        // The token is used up.
        send(
            &r,
            form_post(
                "/system",
                &format!("action=performDatabaseReset&token={token}"),
            ),
        )
        .await
        .expect_error(400, "InvalidParameterException");
        run(&r, "CREATE (:After {`~id`: 'after'})").await;
    }
    let r = router_of(open(), HttpConfig::default());
    assert_eq!(
        run(&r, "MATCH (n) RETURN id(n) AS id, labels(n) AS l").await,
        json!([{"id": "after", "l": ["After"]}])
    );
    let g = get(&r, "/pg/statistics/summary").await;
    assert_eq!(
        g.expect_ok()["payload"]["graphSummary"]["nodeLabels"],
        json!(["After"])
    );
}

#[tokio::test]
async fn fast_reset_stops_a_running_query_and_tokens_expire() {
    let r = router_of(
        Database::in_memory(),
        HttpConfig {
            reset_token_ttl: Duration::from_millis(50),
            ..HttpConfig::default()
        },
    );
    let expired = reset_token(&r).await;
    tokio::time::sleep(Duration::from_millis(80)).await;
    send(
        &r,
        json_post(
            "/system",
            json!({"action": "performDatabaseReset", "token": expired}),
        ),
    )
    .await
    .expect_error(400, "InvalidParameterException");

    let long = {
        let r = r.clone();
        tokio::spawn(async move {
            send(
                &r,
                sdk_query("UNWIND range(1, 1000000000) AS x RETURN count(x)", None),
            )
            .await
        })
    };
    wait_running(&r, 1).await;
    let token = reset_token(&r).await;
    send(
        &r,
        json_post(
            "/system",
            json!({"action": "performDatabaseReset", "token": token}),
        ),
    )
    .await
    .expect_ok();
    let m = long
        .await
        .unwrap()
        .expect_error(500, "ServerShutdownException");
    assert_eq!(
        m,
        "Database reset is in progress. Please retry the query after the cluster is available."
    );
}

#[tokio::test]
async fn system_request_errors() {
    let r = engine();
    let cases = [
        (
            json!({}),
            "MissingParameterException",
            "Missing required parameters: [action]",
        ),
        (
            json!({"action": "XXX"}),
            "InvalidParameterException",
            "System command parameter 'action' has unsupported value 'XXX'",
        ),
        (
            json!({"action": "performDatabaseReset"}),
            "MissingParameterException",
            "Missing required parameters: [token]",
        ),
    ];
    for (body, code, message) in cases {
        let m = send(&r, json_post("/system", body))
            .await
            .expect_error(400, code);
        assert_eq!(m, message);
    }
    let m = send(
        &r,
        form_post(
            "/system",
            "action=initiateDatabaseReset&action=initiateDatabaseReset",
        ),
    )
    .await
    .expect_error(400, "InvalidParameterException");
    assert_eq!(m, "Too many values supplied for: action");
    get(&r, "/system")
        .await
        .expect_error(405, "MethodNotAllowedException");
    let ro = router_of(
        Database::in_memory().with_read_only(true),
        HttpConfig::default(),
    );
    let token = reset_token(&ro).await;
    send(
        &ro,
        json_post(
            "/system",
            json!({"action": "performDatabaseReset", "token": token}),
        ),
    )
    .await
    .expect_error(400, "ReadOnlyViolationException");
}

/// The rows of the first table of an explain text, as cells.
fn explain_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip_while(|l| !l.starts_with('╠'))
        .skip(1)
        .take_while(|l| !l.starts_with('╚'))
        .filter(|l| l.starts_with('║'))
        .map(|l| {
            l.trim_matches('║')
                .split('│')
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn explain_modes_and_their_counts_match_profile() {
    let r = engine();
    run(&r, "UNWIND range(1, 50) AS i CREATE (:P {i: i})").await;
    let query = "MATCH (p:P) WHERE p.i > 10 RETURN p.i AS i";
    let sdk = |mode: &str| {
        json_post(
            "/opencypher/explain",
            json!({"query": query, "explain": mode}),
        )
    };
    let reply = send_raw(&r, sdk("dynamic")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["content-type"], "text/plain; charset=UTF-8");
    let text = reply.text();
    assert!(text.starts_with("╔════╤════════╤════════╤"), "{text}");
    assert!(text.contains("║ ID │ Out #1 │ Out #2 │ Name"));
    let rows = explain_rows(&text);
    // PROFILE of the same query: the operators and their rows, in the same plan.
    let profile = run(&r, &format!("PROFILE {query}")).await;
    let profile_text = profile[0]["plan"].as_str().unwrap().to_owned();
    let last = rows.last().unwrap();
    assert_eq!(last[1], "-", "the last operator feeds nothing: {text}");
    assert_eq!(last[3], "ProduceResults", "{text}");
    assert_eq!(last[7], "40", "{text}");
    for row in &rows {
        let (name, out) = (&row[3], &row[7]);
        if out != "-" {
            assert!(
                profile_text.lines().any(|l| l.contains(name.as_str())
                    && l.split_whitespace().nth(1) == Some(out.as_str())),
                "{name} with {out} rows is not in PROFILE:\n{profile_text}\n{text}"
            );
        }
    }
    // Each row's output flows into the row named by Out #1, which lists it as input.
    for row in &rows[..rows.len() - 1] {
        let to: usize = row[1].parse().unwrap();
        assert!(to > row[0].parse::<usize>().unwrap());
    }

    let stat = send_raw(&r, sdk("static")).await.text();
    assert!(
        explain_rows(&stat)
            .iter()
            .all(|r| r[6..] == ["-", "-", "-", "-"]),
        "{stat}"
    );
    let details = send_raw(&r, sdk("details")).await.text();
    assert!(
        details.starts_with(&format!("Query:\n{query}\n\n╔")),
        "{details}"
    );
    assert!(details.contains("estimatedRows="), "{details}");

    // The form and GET spellings on /openCypher, and HTML for graph-notebook.
    let form = send_raw(
        &r,
        form_post(
            "/openCypher",
            &format!(
                "query={}&explain=static",
                query.replace(' ', "+").replace('>', "%3E")
            ),
        ),
    )
    .await;
    assert_eq!(form.text(), stat);
    let html = send_raw(
        &r,
        axum::http::Request::builder()
            .uri("/openCypher?query=RETURN+1&explain=dynamic")
            .header("accept", "text/html")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(html.headers["content-type"], "text/html; charset=UTF-8");
    assert!(html.text().contains("<table>") && html.text().contains("<th>Units In</th>"));
}

#[tokio::test]
async fn explain_refuses_writes_and_bad_modes() {
    let r = engine();
    for q in [
        "CREATE (:X)",
        "MATCH (n) SET n.a = 1",
        "MATCH (n) DETACH DELETE n",
        "MERGE (:X)",
    ] {
        let m = send(
            &r,
            json_post(
                "/opencypher/explain",
                json!({"query": q, "explain": "static"}),
            ),
        )
        .await
        .expect_error(400, "UnsupportedOperationException");
        assert!(m.contains("read-only"), "{m}");
    }
    assert_eq!(
        run(&r, "MATCH (n) RETURN count(n) AS n").await,
        json!([{"n": 0}])
    );
    let m = send(
        &r,
        json_post(
            "/opencypher/explain",
            json!({"query": "RETURN 1", "explain": "verbose"}),
        ),
    )
    .await
    .expect_error(400, "InvalidParameterException");
    assert!(m.contains("'verbose'"), "{m}");
    send(
        &r,
        json_post("/opencypher/explain", json!({"query": "RETURN 1"})),
    )
    .await
    .expect_error(400, "MissingParameterException");
    send(
        &r,
        json_post(
            "/opencypher/explain",
            json!({"query": "RETURN (", "explain": "static"}),
        ),
    )
    .await
    .expect_error(400, "MalformedQueryException");
    // Parameters are passed as for a query; a missing one is the query's error.
    let with = send_raw(
        &r,
        json_post(
            "/opencypher/explain",
            json!({"query": "RETURN $x AS x", "explain": "dynamic", "parameters": "{\"x\": 1}"}),
        ),
    )
    .await;
    assert_eq!(with.status, StatusCode::OK);
    assert!(with.text().contains("ProduceResults"), "{}", with.text());
    send(
        &r,
        json_post(
            "/opencypher/explain",
            json!({"query": "RETURN $x AS x", "explain": "dynamic"}),
        ),
    )
    .await
    .expect_error(400, "MalformedQueryException");
}

#[tokio::test]
async fn random_admin_requests_get_coded_answers() {
    let r = engine();
    run(&r, GRAPH).await;
    let mut rng = fastrand::Rng::with_seed(7);
    let paths = [
        "/pg/statistics",
        "/propertygraph/statistics/summary",
        "/system",
        "/opencypher/explain",
    ];
    let words = [
        "mode",
        "detailed",
        "basic",
        "refresh",
        "action",
        "token",
        "explain",
        "static",
        "query",
        "RETURN 1",
        "CREATE ()",
        "=",
        "&",
        "%FF",
        "%C3",
        "{",
        "\"",
        "}",
        ":",
        "[",
        "initiateDatabaseReset",
        "performDatabaseReset",
        "enableAutoCompute",
    ];
    let methods = [Method::GET, Method::POST, Method::DELETE, Method::PUT];
    for _ in 0..400 {
        let text = |rng: &mut fastrand::Rng| -> String {
            (0..rng.usize(0..8))
                .map(|_| words[rng.usize(0..words.len())])
                .collect()
        };
        let query: String = text(&mut rng)
            .chars()
            .map(|c| if c == ' ' { '+' } else { c })
            .collect();
        let uri = format!("{}?{query}", paths[rng.usize(0..paths.len())]);
        let Ok(uri) = uri.parse::<axum::http::Uri>() else {
            continue;
        };
        let mut b = axum::http::Request::builder()
            .method(methods[rng.usize(0..methods.len())].clone())
            .uri(uri);
        if rng.bool() {
            let ct = ["application/json", "application/x-www-form-urlencoded"][rng.usize(0..2)];
            b = b.header("content-type", ct);
        }
        let reply = send_raw(&r, b.body(axum::body::Body::from(text(&mut rng))).unwrap()).await;
        match reply.status.as_u16() {
            200 | 204 => {}
            400 | 405 | 500 => {
                let body: Value = serde_json::from_slice(&reply.body).unwrap();
                assert!(body["code"].is_string(), "{body}");
                assert_eq!(
                    reply.headers["x-amzn-ErrorType"],
                    body["code"].as_str().unwrap()
                );
            }
            other => panic!("{other}: {}", String::from_utf8_lossy(&reply.body)),
        }
    }
}
