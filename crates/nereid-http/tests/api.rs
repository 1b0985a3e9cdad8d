//! Every route and every error of the HTTP API, over the real router, with a scripted runner
//! that makes the query lifecycle (running, waiting, cancel, timeout, queue full, panic)
//! deterministic.

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request};
use common::*;
use nereid_http::HttpConfig;

#[tokio::test]
async fn engine_status_has_the_neptune_shape() {
    let s = server(2, 8, 120_000);
    let reply = get(&s.router, "/status").await;
    let json = reply.expect_ok();
    assert_eq!(json["status"], "healthy");
    assert_eq!(json["role"], "writer");
    let version = json["dbEngineVersion"].as_str().unwrap();
    assert_eq!(version.split('.').count(), 5, "{version}");
    assert!(json["opencypher"]["version"].is_string());
    assert_eq!(json["settings"]["clusterQueryTimeoutInMs"], "120000");
    assert!(json["startTime"].as_str().unwrap().contains("UTC"));
    let reply = send(&s.router, request(Method::POST, "/status")).await;
    reply.expect_error(405, "MethodNotAllowedException");
}

#[tokio::test]
async fn sdk_json_query_with_string_parameters() {
    let s = server(2, 8, 0);
    let req = sdk_query(
        "echo",
        Some(
            r#"{"name": "Ada", "n": 9007199254740993, "f": 2.5, "big": 1e300, "l": [1, "x"], "m": {"k": null}}"#,
        ),
    );
    let reply = send(&s.router, req).await;
    assert_eq!(
        reply.expect_ok(),
        &serde_json::json!({"results": [{"big": 1e300, "f": 2.5, "l": [1, "x"], "m": {"k": null}, "n": 9007199254740993_i64, "name": "Ada"}]})
    );
    assert_eq!(reply.headers["content-type"], "application/json");
}

#[tokio::test]
async fn every_query_encoding_is_accepted() {
    let s = server(2, 8, 0);
    let expected = serde_json::json!({"results": [{"a": 1}]});
    // JSON with an object for parameters (hand-written clients).
    let req = with_body(
        Method::POST,
        "/openCypher",
        "application/json",
        r#"{"query": "echo", "parameters": {"a": 1}}"#,
    );
    assert_eq!(send(&s.router, req).await.expect_ok(), &expected);
    // Form body, as `curl -d` sends it.
    let req = with_body(
        Method::POST,
        "/openCypher",
        "application/x-www-form-urlencoded",
        "query=echo&parameters=%7B%22a%22%3A1%7D",
    );
    assert_eq!(send(&s.router, req).await.expect_ok(), &expected);
    // GET with a query string, path in another letter case.
    let reply = get(
        &s.router,
        "/OpenCypher?query=echo&parameters=%7B%22a%22%3A1%7D",
    )
    .await;
    assert_eq!(reply.expect_ok(), &expected);
    // DIRECT POST: the body is the query, parameters in the URL.
    let req = with_body(
        Method::POST,
        "/openCypher?parameters=%7B%22a%22%3A1%7D",
        "application/opencypher",
        "echo",
    );
    assert_eq!(send(&s.router, req).await.expect_ok(), &expected);
    // No Content-Type, form-looking body.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/opencypher")
        .body(Body::from("query=echo&parameters=%7B%22a%22%3A1%7D"))
        .unwrap();
    assert_eq!(send(&s.router, req).await.expect_ok(), &expected);
}

#[tokio::test]
async fn nodes_are_serialised_as_neptune_does() {
    let s = server(1, 8, 0);
    let reply = send(&s.router, sdk_query("node", None)).await;
    assert_eq!(
        reply.expect_ok(),
        &serde_json::json!({"results": [{"n": {"~id": "p1", "~entityType": "node", "~labels": ["Person"], "~properties": {"name": "Ada"}}}]})
    );
}

#[tokio::test]
async fn request_errors_are_coded() {
    let s = server(1, 8, 0);
    let r = &s.router;

    let reply = send(
        r,
        with_body(Method::POST, "/opencypher", "application/json", "{}"),
    )
    .await;
    reply.expect_error(400, "MissingParameterException");
    get(r, "/openCypher")
        .await
        .expect_error(400, "MissingParameterException");

    let reply = send(r, sdk_query("echo", Some("{not json"))).await;
    let msg = reply.expect_error(400, "InvalidParameterException");
    assert!(msg.contains("parameters"), "{msg}");
    let reply = send(r, sdk_query("echo", Some("[1, 2]"))).await;
    reply.expect_error(400, "InvalidParameterException");

    let reply = send(
        r,
        with_body(
            Method::POST,
            "/opencypher",
            "application/json",
            "{\"query\": ",
        ),
    )
    .await;
    reply.expect_error(400, "BadRequestException");
    let reply = send(
        r,
        with_body(Method::POST, "/opencypher", "text/plain", "RETURN 1"),
    )
    .await;
    reply.expect_error(400, "BadRequestException");

    let reply = send(r, sdk_query("MATCH (n RETURN n", None)).await;
    let msg = reply.expect_error(400, "MalformedQueryException");
    assert!(
        msg.contains("(VariableAlreadyBound)") && msg.contains("line 1, column 1"),
        "{msg}"
    );

    for method in [Method::PUT, Method::DELETE, Method::PATCH] {
        let reply = send(r, request(method, "/openCypher")).await;
        reply.expect_error(405, "MethodNotAllowedException");
    }
    send(r, request(Method::POST, "/opencypher/status/x"))
        .await
        .expect_error(405, "MethodNotAllowedException");

    for path in ["/gremlin", "/opencypher/status/a/b"] {
        get(r, path).await.expect_error(400, "BadRequestException");
    }
    // `/sparql` answers as an empty RDF graph; a text with no query form is malformed.
    get(r, "/sparql?query=x")
        .await
        .expect_error(400, "MalformedQueryException");
    get(r, "/sparql?query=ASK%20%7B%7D").await.expect_ok();
    // `GET /` is the console's page (tests/metrics.rs); other methods are an unknown route.
    send(r, request(Method::POST, "/"))
        .await
        .expect_error(400, "BadRequestException");
    let reply = send(r, sdk_query("echo", None)).await;
    reply.expect_ok();
    let reply = get(r, "/opencypher?query=echo&explain=static").await;
    reply.expect_error(400, "UnsupportedOperationException");
}

#[tokio::test]
async fn text_that_is_not_utf8_is_a_bad_request() {
    let s = server(1, 8, 0);
    let r = &s.router;
    let m = get(r, "/openCypher?query=RETURN%20%27%FF%27")
        .await
        .expect_error(400, "BadRequestException");
    assert!(m.contains("not valid UTF-8"), "{m}");
    for (ct, body) in [
        (
            "application/x-www-form-urlencoded",
            &b"query=RETURN+%27%C3%28%27"[..],
        ),
        (
            "application/x-www-form-urlencoded",
            &b"query=RETURN '\xe9'"[..],
        ),
        ("application/opencypher", &b"RETURN '\xe9'"[..]),
        ("application/json", &b"{\"query\": \"RETURN '\xe9'\"}"[..]),
    ] {
        send(r, with_body(Method::POST, "/openCypher", ct, body.to_vec()))
            .await
            .expect_error(400, "BadRequestException");
    }
    send(
        r,
        with_body(
            Method::POST,
            "/openCypher?parameters=%7B%22x%22%3A%22%FF%22%7D",
            "application/opencypher",
            "echo",
        ),
    )
    .await
    .expect_error(400, "BadRequestException");
    assert!(s.executed().is_empty(), "nothing ran");
}

#[tokio::test]
async fn oversized_bodies_are_bad_requests() {
    let s = server_with(
        1,
        8,
        0,
        HttpConfig {
            body_limit: 64,
            ..HttpConfig::default()
        },
    );
    let big = format!(r#"{{"query": "echo", "pad": "{}"}}"#, "x".repeat(100));
    // Declared length over the limit.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/opencypher")
        .header("content-type", "application/json")
        .header("content-length", big.len())
        .body(Body::from(big.clone()))
        .unwrap();
    let msg = send(&s.router, req)
        .await
        .expect_error(400, "BadRequestException");
    assert_eq!(msg, "Request size exceeds max allowed value of 64 bytes.");
    // No declared length: the limit applies while reading.
    let req = with_body(Method::POST, "/opencypher", "application/json", big);
    send(&s.router, req)
        .await
        .expect_error(400, "BadRequestException");
    // Within the limit is fine.
    let req = sdk_query("echo", None);
    send(&s.router, req).await.expect_ok();
}

#[tokio::test]
async fn unknown_query_id_is_invalid_everywhere() {
    let s = server(1, 8, 0);
    let id = "ac7d5a03-00cf-4280-b464-edbcbf51ffce";
    let expected = format!("Supplied queryId {id} is invalid");
    let reply = get(&s.router, &format!("/opencypher/status/{id}")).await;
    assert_eq!(
        reply.expect_error(400, "InvalidParameterException"),
        expected
    );
    let reply = send(
        &s.router,
        request(Method::DELETE, &format!("/opencypher/status/{id}")),
    )
    .await;
    assert_eq!(
        reply.expect_error(400, "InvalidParameterException"),
        expected
    );
    let reply = get(&s.router, &format!("/openCypher/status?queryId={id}")).await;
    assert_eq!(
        reply.expect_error(400, "InvalidParameterException"),
        expected
    );
    let reply = send(&s.router, request(Method::DELETE, "/openCypher/status")).await;
    reply.expect_error(400, "MissingParameterException");
    let reply = get(&s.router, "/openCypher/status?includeWaiting=maybe").await;
    reply.expect_error(400, "InvalidParameterException");
}

#[tokio::test]
async fn finished_query_id_becomes_invalid() {
    let s = server(1, 8, 0);
    let reply = send(&s.router, sdk_query("sleep 0", None)).await;
    reply.expect_ok();
    let id = reply.headers["x-amzn-RequestId"]
        .to_str()
        .unwrap()
        .to_owned();
    let reply = get(&s.router, &format!("/opencypher/status/{id}")).await;
    reply.expect_error(400, "InvalidParameterException");
}

#[tokio::test]
async fn running_query_is_listed_polled_and_cancelled() {
    let s = server(2, 8, 0);
    let router = s.router.clone();
    let t0 = Instant::now();
    let caller = tokio::spawn(async move {
        let reply = send(&router, sdk_query("sleep 600000", None)).await;
        (reply, Instant::now())
    });
    let ids = wait_running(&s.router, 1).await;
    let id = &ids[0];

    let list = get(&s.router, "/opencypher/status?includeWaiting=true").await;
    let json = list.expect_ok();
    assert_eq!(json["acceptedQueryCount"], 1);
    assert_eq!(json["runningQueryCount"], 1);
    assert_eq!(json["queries"][0]["queryString"], "sleep 600000");
    assert_eq!(json["queries"][0]["queryEvalStats"]["cancelled"], false);
    assert_eq!(json["queries"][0]["queryEvalStats"]["subqueries"], 1);

    let first = get(&s.router, &format!("/opencypher/status/{id}")).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    let second = get(&s.router, &format!("/openCypher/status?queryId={id}")).await;
    let e1 = first.expect_ok()["queryEvalStats"]["elapsed"]
        .as_u64()
        .unwrap();
    let e2 = second.expect_ok()["queryEvalStats"]["elapsed"]
        .as_u64()
        .unwrap();
    assert!(e2 >= e1 + 30, "elapsed {e1} then {e2}");
    let wall = t0.elapsed().as_millis() as u64;
    let waited = second.json["queryEvalStats"]["waited"].as_u64().unwrap();
    assert!(
        waited + e2 <= wall,
        "waited {waited} + elapsed {e2} > wall {wall}"
    );

    let cancel_sent = Instant::now();
    let reply = send(
        &s.router,
        request(Method::DELETE, &format!("/opencypher/status/{id}")),
    )
    .await;
    assert_eq!(reply.expect_ok(), &serde_json::json!({"status": "200 OK"}));
    let (reply, answered) = caller.await.unwrap();
    let latency = answered - cancel_sent;
    println!("cancel latency (router level): {latency:?}");
    assert!(latency < Duration::from_millis(100), "{latency:?}");
    let msg = reply.expect_error(500, "CancelledByUserException");
    assert_eq!(msg, "Operation terminated (cancelled by user)");
    // The cancelled query's request id is its query id.
    assert_eq!(reply.json["requestId"], id.as_str());
}

#[tokio::test]
async fn silent_cancel_through_the_raw_status_api_returns_empty_results() {
    let s = server(1, 8, 0);
    let router = s.router.clone();
    let caller = tokio::spawn(async move { send(&router, sdk_query("sleep 600000", None)).await });
    let id = wait_running(&s.router, 1).await.remove(0);
    // graph-notebook's form: POST with cancelQuery and a capitalised True.
    let req = with_body(
        Method::POST,
        "/openCypher/status",
        "application/x-www-form-urlencoded",
        format!("queryId={id}&cancelQuery=True&silent=True"),
    );
    assert_eq!(send(&s.router, req).await.expect_ok()["status"], "200 OK");
    let reply = caller.await.unwrap();
    assert_eq!(reply.expect_ok(), &serde_json::json!({"results": []}));
}

#[tokio::test]
async fn waiting_query_is_listed_only_on_request_and_cancelled_before_it_runs() {
    let s = server(1, 8, 0);
    let r1 = s.router.clone();
    let first = tokio::spawn(async move { send(&r1, sdk_query("sleep 600000", None)).await });
    let running = wait_running(&s.router, 1).await.remove(0);
    let r2 = s.router.clone();
    let second = tokio::spawn(async move { send(&r2, sdk_query("sleep 1", None)).await });

    let waiting = loop {
        let list = get(&s.router, "/opencypher/status?includeWaiting=True").await;
        let queries = list.json["queries"].as_array().unwrap().clone();
        if queries.len() == 2 {
            assert_eq!(list.json["acceptedQueryCount"], 2);
            assert_eq!(list.json["runningQueryCount"], 1);
            break queries[1]["queryId"].as_str().unwrap().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    let status = get(&s.router, &format!("/opencypher/status/{waiting}")).await;
    assert_eq!(status.expect_ok()["queryEvalStats"]["elapsed"], 0);
    let list = get(&s.router, "/opencypher/status?includeWaiting=false").await;
    assert_eq!(list.json["queries"].as_array().unwrap().len(), 1);
    assert_eq!(list.json["acceptedQueryCount"], 2);

    let reply = send(
        &s.router,
        request(
            Method::DELETE,
            &format!("/openCypher/status?queryId={waiting}"),
        ),
    )
    .await;
    reply.expect_ok();
    second
        .await
        .unwrap()
        .expect_error(500, "CancelledByUserException");
    let reply = send(
        &s.router,
        request(
            Method::DELETE,
            &format!("/opencypher/status/{running}?silent=false"),
        ),
    )
    .await;
    reply.expect_ok();
    first
        .await
        .unwrap()
        .expect_error(500, "CancelledByUserException");
    // The long query started twice: for its time slice on the connection's thread, then
    // again on a worker; the cancelled waiting one never started.
    assert_eq!(s.executed(), ["sleep 600000", "sleep 600000"]);
}

#[tokio::test]
async fn timeouts_from_the_server_and_from_the_query_hint() {
    let s = server(2, 8, 100);
    let t = Instant::now();
    let reply = send(&s.router, sdk_query("sleep 600000", None)).await;
    let msg = reply.expect_error(500, "TimeLimitExceededException");
    assert_eq!(msg, "Operation terminated (deadline exceeded)");
    assert!(t.elapsed() < Duration::from_secs(2));
    let t = Instant::now();
    let reply = send(&s.router, sdk_query("hint 10 sleep 600000", None)).await;
    reply.expect_error(500, "TimeLimitExceededException");
    assert!(t.elapsed() < Duration::from_millis(90), "{:?}", t.elapsed());
}

#[tokio::test]
async fn full_queue_throttles() {
    let s = server(1, 1, 0);
    let r1 = s.router.clone();
    let first = tokio::spawn(async move { send(&r1, sdk_query("sleep 600000", None)).await });
    let running = wait_running(&s.router, 1).await.remove(0);
    let r2 = s.router.clone();
    let second = tokio::spawn(async move { send(&r2, sdk_query("sleep 0", None)).await });
    loop {
        let list = get(&s.router, "/opencypher/status").await;
        if list.json["acceptedQueryCount"] == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let reply = send(&s.router, sdk_query("sleep 0", None)).await;
    let msg = reply.expect_error(500, "ThrottlingException");
    assert!(
        msg.starts_with("Max number of request have breached, ConfiguredQueueCapacity=1"),
        "{msg}"
    );
    send(
        &s.router,
        request(
            Method::DELETE,
            &format!("/opencypher/status/{running}?silent=true"),
        ),
    )
    .await
    .expect_ok();
    assert_eq!(
        first.await.unwrap().expect_ok()["results"],
        serde_json::json!([])
    );
    second.await.unwrap().expect_ok();
}

#[tokio::test]
async fn a_panicking_query_is_an_internal_failure() {
    let s = server(1, 8, 0);
    let reply = send(&s.router, sdk_query("panic", None)).await;
    reply.expect_error(500, "InternalFailureException");
    send(&s.router, sdk_query("echo", None)).await.expect_ok();
}
