//! `GET /metrics` over the real engine: Prometheus names and types, counters that move when
//! queries succeed, fail, are cancelled or time out; and the console's pages (html, js, css
//! with their content types and cache headers).

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use common::{request, sdk_query, send, wait_running};
use http_body_util::BodyExt;
use nereid_engine::manager::{ManagerConfig, QueryManager};
use nereid_engine::Database;
use nereid_http::HttpConfig;
use tower::ServiceExt;

const LONG: &str = "UNWIND range(1, 1000000000) AS x RETURN count(x)";

fn engine(query_timeout_ms: u64) -> Router {
    let manager = QueryManager::new(
        Database::in_memory(),
        ManagerConfig {
            workers: 2,
            queue_size: 64,
            query_timeout_ms,
        },
    )
    .unwrap();
    nereid_http::router(Arc::new(manager), HttpConfig::default())
}

struct Raw {
    status: StatusCode,
    content_type: String,
    cache_control: String,
    body: Vec<u8>,
}

async fn raw(router: &Router, method: Method, uri: &str) -> Raw {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(req).await.unwrap();
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &axum::http::HeaderValue| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let content_type = header(header::CONTENT_TYPE);
    let cache_control = header(header::CACHE_CONTROL);
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Raw {
        status,
        content_type,
        cache_control,
        body: body.to_vec(),
    }
}

async fn scrape(router: &Router) -> String {
    let reply = raw(router, Method::GET, "/metrics").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.content_type.starts_with("text/plain; version=0.0.4"),
        "{}",
        reply.content_type
    );
    String::from_utf8(reply.body).unwrap()
}

/// The value of the sample `name{labels}` (exactly as written), or 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn metrics_have_prometheus_names_and_types() {
    let router = engine(0);
    let text = scrape(&router).await;
    for (name, kind) in [
        ("nereid_queries", "counter"),
        ("nereid_query_duration_seconds", "histogram"),
        ("nereid_query_waited_seconds", "histogram"),
        ("nereid_query_cancels", "counter"),
        ("nereid_query_timeouts", "counter"),
        ("nereid_query_memory_limit_failures", "counter"),
        ("nereid_slow_queries", "counter"),
        ("nereid_queries_waiting", "gauge"),
        ("nereid_queries_running", "gauge"),
        ("nereid_graph_nodes", "gauge"),
        ("nereid_graph_relationships", "gauge"),
        ("nereid_connections_open", "gauge"),
        ("nereid_connections", "counter"),
    ] {
        assert!(
            text.contains(&format!("# TYPE {name} {kind}\n")),
            "no {kind} {name} in:\n{text}"
        );
    }
    assert!(text.ends_with("# EOF\n"), "{text}");
}

#[tokio::test]
async fn counters_move_when_queries_run() {
    let router = engine(0);
    let before = scrape(&router).await;
    assert_eq!(
        sample(
            &before,
            "nereid_queries_total{protocol=\"http\",outcome=\"ok\"}"
        ),
        0.0
    );
    assert_eq!(sample(&before, "nereid_graph_nodes"), 0.0);

    send(
        &router,
        sdk_query("CREATE (:P {name: 'a'})-[:K]->(:P {name: 'b'})", None),
    )
    .await
    .expect_ok();
    send(&router, sdk_query("MATCH (n) RETURN n", None))
        .await
        .expect_ok();
    send(&router, sdk_query("MATCH (n RETURN n", None))
        .await
        .expect_error(400, "MalformedQueryException");

    let after = scrape(&router).await;
    assert_eq!(
        sample(
            &after,
            "nereid_queries_total{protocol=\"http\",outcome=\"ok\"}"
        ),
        2.0
    );
    assert_eq!(
        sample(
            &after,
            "nereid_queries_total{protocol=\"http\",outcome=\"MalformedQueryException\"}"
        ),
        1.0
    );
    // Only accepted queries have a duration.
    assert_eq!(
        sample(
            &after,
            "nereid_query_duration_seconds_count{protocol=\"http\"}"
        ),
        2.0
    );
    assert_eq!(sample(&after, "nereid_graph_nodes"), 2.0);
    assert_eq!(sample(&after, "nereid_graph_relationships"), 1.0);
    assert_eq!(sample(&after, "nereid_queries_running"), 0.0);
    // No query came by Bolt, but its series are there from the start.
    assert_eq!(
        sample(
            &after,
            "nereid_queries_total{protocol=\"bolt\",outcome=\"ok\"}"
        ),
        0.0
    );
    assert!(after.contains("nereid_query_duration_seconds_count{protocol=\"bolt\"} 0\n"));
}

#[tokio::test]
async fn running_cancelled_and_timed_out_queries_are_counted() {
    let router = engine(0);
    let caller = {
        let router = router.clone();
        tokio::spawn(async move { send(&router, sdk_query(LONG, None)).await })
    };
    let ids = wait_running(&router, 1).await;
    let during = scrape(&router).await;
    assert_eq!(sample(&during, "nereid_queries_running"), 1.0);
    send(
        &router,
        request(Method::DELETE, &format!("/opencypher/status/{}", ids[0])),
    )
    .await
    .expect_ok();
    caller
        .await
        .unwrap()
        .expect_error(500, "CancelledByUserException");

    let timed = format!("USING QUERY:TIMEOUTMILLISECONDS 50 {LONG}");
    send(&router, sdk_query(&timed, None))
        .await
        .expect_error(500, "TimeLimitExceededException");

    let after = scrape(&router).await;
    assert_eq!(sample(&after, "nereid_query_cancels_total"), 1.0);
    assert_eq!(sample(&after, "nereid_query_timeouts_total"), 1.0);
    assert_eq!(
        sample(
            &after,
            "nereid_queries_total{protocol=\"http\",outcome=\"CancelledByUserException\"}"
        ),
        1.0
    );
    assert_eq!(sample(&after, "nereid_queries_running"), 0.0);
    // The timed-out query ran for at least its 50 ms.
    assert!(
        sample(
            &after,
            "nereid_query_duration_seconds_sum{protocol=\"http\"}"
        ) >= 0.05
    );
}

#[tokio::test]
async fn slow_queries_are_counted_at_the_threshold() {
    let manager = QueryManager::new(Database::in_memory(), ManagerConfig::default()).unwrap();
    let router = nereid_http::router(
        Arc::new(manager),
        HttpConfig {
            slow_query_ms: Some(30),
            ..HttpConfig::default()
        },
    );
    send(&router, sdk_query("RETURN 1", None)).await.expect_ok();
    let timed = format!("USING QUERY:TIMEOUTMILLISECONDS 60 {LONG}");
    send(&router, sdk_query(&timed, None))
        .await
        .expect_error(500, "TimeLimitExceededException");
    tokio::time::sleep(Duration::from_millis(5)).await;
    let text = scrape(&router).await;
    assert_eq!(sample(&text, "nereid_slow_queries_total"), 1.0);
}

#[tokio::test]
async fn console_pages_are_served_with_their_content_types() {
    let router = engine(0);
    for path in ["/", "/console"] {
        let page = raw(&router, Method::GET, path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(page.content_type, "text/html; charset=utf-8");
        assert_eq!(page.cache_control, "no-cache");
        let html = String::from_utf8(page.body).unwrap();
        assert!(html.contains("<title>nereid console</title>"), "{html}");
    }
    let assets = nereid_http::console::assets();
    let script = assets
        .iter()
        .find(|(p, _)| p.starts_with("/assets/") && p.ends_with(".js"))
        .expect("the built console has a script");
    let style = assets
        .iter()
        .find(|(p, _)| p.ends_with(".css"))
        .expect("the built console has a stylesheet");
    let index = String::from_utf8(raw(&router, Method::GET, "/").await.body).unwrap();
    assert!(index.contains(script.0), "index.html loads {}", script.0);
    let js = raw(&router, Method::GET, script.0).await;
    assert_eq!(js.status, StatusCode::OK);
    assert_eq!(js.content_type, "text/javascript; charset=utf-8");
    assert!(js.cache_control.contains("immutable"));
    assert_eq!(js.body, script.1);
    let css = raw(&router, Method::GET, style.0).await;
    assert_eq!(css.content_type, "text/css; charset=utf-8");
    let missing = raw(&router, Method::GET, "/assets/nope.js").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // Other methods get the API's coded answer for an unknown route.
    let post = raw(&router, Method::POST, "/").await;
    assert_eq!(post.status, StatusCode::BAD_REQUEST);
}

/// Every asset the embedded index.html loads is embedded too. (That the committed
/// `console/dist` is what the sources build to needs npm: `tests/browser/run.sh` rebuilds
/// the console into a temporary folder and compares.)
#[test]
fn embedded_index_references_only_embedded_assets() {
    let assets = nereid_http::console::assets();
    let index = assets
        .iter()
        .find(|(p, _)| *p == "/index.html")
        .expect("console/dist/index.html is committed");
    let html = std::str::from_utf8(index.1).unwrap();
    for piece in html.split("\"/assets/").skip(1) {
        let name = piece.split('"').next().unwrap();
        let path = format!("/assets/{name}");
        assert!(
            assets.iter().any(|(p, _)| *p == path),
            "index.html references {path}, which is not embedded"
        );
    }
}
