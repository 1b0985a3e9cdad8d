//! `--auth iam` through the router and the real engine: requests signed by AWS's own signer
//! (the aws-sigv4 crate) are verified by the middleware and authorized per route with the
//! signer's policy; the query's actions are decided before it is queued, so a denied write
//! changes nothing. Also the peer address (`aws:SourceIp`), `aws:SecureTransport`, a request
//! without a `Host` header, read-only mode and the query-length limit.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use common::{send, Reply};
use nereid_engine::manager::{ManagerConfig, QueryManager};
use nereid_engine::Database;
use nereid_http::auth::Peer;
use nereid_http::HttpConfig;
use nereid_sigv4::IamConfig;
use serde_json::{json, Value};

const HOST: &str = "127.0.0.1:8182";

fn allow(actions: &[&str]) -> Value {
    json!({"Effect": "Allow", "Action": actions, "Resource": "*"})
}

fn iam() -> Arc<IamConfig> {
    let users = [
        ("admin", vec![allow(&["neptune-db:*"])]),
        (
            "reader",
            vec![allow(&[
                "neptune-db:Read*",
                "neptune-db:Get*",
                "neptune-db:List*",
            ])],
        ),
        ("watcher", vec![allow(&["neptune-db:GetQueryStatus"])]),
        (
            "denied",
            vec![
                allow(&["neptune-db:*"]),
                json!({"Effect": "Deny", "Action": "neptune-db:DeleteDataViaQuery", "Resource": "*"}),
            ],
        ),
        (
            "office",
            vec![
                json!({"Effect": "Allow", "Action": "neptune-db:*", "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}),
            ],
        ),
        (
            "tls",
            vec![
                json!({"Effect": "Allow", "Action": "neptune-db:*", "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "true"}}}),
            ],
        ),
    ];
    let users: Vec<Value> = users
        .iter()
        .map(|(name, statements)| {
            json!({"name": name, "accessKeyId": format!("AKID{name}"),
                "secretAccessKey": format!("{name}-secret"), "sessionToken": null,
                "policy": {"Version": "2012-10-17", "Statement": statements}})
        })
        .collect();
    Arc::new(
        IamConfig::from_json(&json!({"region": "us-east-1", "users": users}).to_string()).unwrap(),
    )
}

fn router_with(database: Database, http: HttpConfig) -> Router {
    let manager = QueryManager::new(
        database,
        ManagerConfig {
            workers: 2,
            queue_size: 16,
            query_timeout_ms: 0,
        },
    )
    .unwrap();
    nereid_http::router(Arc::new(manager), http)
}

fn iam_router(secure_transport: bool) -> Router {
    router_with(
        Database::in_memory(),
        HttpConfig {
            iam: Some(iam()),
            secure_transport,
            ..HttpConfig::default()
        },
    )
}

/// A request as botocore sends it, signed by `user` (with `secret` instead of the user's
/// own when given) at `time`.
#[derive(Clone, Copy)]
struct Signed<'a> {
    method: &'a str,
    path_and_query: &'a str,
    content_type: Option<&'a str>,
    body: &'a [u8],
    time: SystemTime,
    secret: Option<&'a str>,
}

impl<'a> Signed<'a> {
    fn post(body: &'a [u8]) -> Self {
        Signed {
            method: "POST",
            path_and_query: "/openCypher",
            content_type: Some("application/x-www-form-urlencoded"),
            body,
            time: SystemTime::now(),
            secret: None,
        }
    }

    fn get(path_and_query: &'a str) -> Self {
        Signed {
            method: "GET",
            path_and_query,
            content_type: None,
            body: b"",
            time: SystemTime::now(),
            secret: None,
        }
    }

    /// Headers to send: the request's own plus the signer's.
    fn headers(&self, user: &str) -> Vec<(String, String)> {
        let secret = self
            .secret
            .map_or_else(|| format!("{user}-secret"), str::to_owned);
        let identity: Identity =
            Credentials::new(format!("AKID{user}"), secret, None, None, "test").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("neptune-db")
            .time(self.time)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let mut headers = vec![("host".to_owned(), HOST.to_owned())];
        if let Some(ct) = self.content_type {
            headers.push(("content-type".to_owned(), ct.to_owned()));
        }
        let uri = format!("http://{HOST}{}", self.path_and_query);
        let signable = SignableRequest::new(
            self.method,
            uri,
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            SignableBody::Bytes(self.body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        headers.extend(
            instructions
                .headers()
                .map(|(n, v)| (n.to_owned(), v.to_owned())),
        );
        headers
    }

    fn request(&self, user: &str) -> Request<Body> {
        self.request_with_body(user, self.body.to_vec())
    }

    /// The signed headers on another body (a request altered after signing).
    fn request_with_body(&self, user: &str, body: Vec<u8>) -> Request<Body> {
        let mut builder = Request::builder()
            .method(self.method)
            .uri(self.path_and_query);
        for (name, value) in self.headers(user) {
            builder = builder.header(name, value);
        }
        builder.body(Body::from(body)).unwrap()
    }
}

async fn run(router: &Router, user: &str, query: &str) -> Reply {
    let body = serde_urlencoded::to_string([("query", query)]).unwrap();
    send(router, Signed::post(body.as_bytes()).request(user)).await
}

async fn count(router: &Router) -> i64 {
    let reply = run(router, "admin", "MATCH (n) RETURN count(n) AS c").await;
    reply.expect_ok()["results"][0]["c"].as_i64().unwrap()
}

#[tokio::test]
async fn signed_requests_pass_and_unsigned_ones_do_not() {
    let r = iam_router(false);
    run(&r, "admin", "CREATE (:A)").await.expect_ok();
    assert_eq!(count(&r).await, 1);
    let status = send(&r, Signed::get("/status").request("admin")).await;
    assert_eq!(status.expect_ok()["status"], "healthy");

    let unsigned = Request::builder()
        .method("POST")
        .uri("/openCypher")
        .header("host", HOST)
        .body(Body::from("query=CREATE+(:B)"))
        .unwrap();
    let message = send(&r, unsigned)
        .await
        .expect_error(403, "AccessDeniedException");
    assert_eq!(message, "Missing Authentication Token");
    // Unknown routes are not revealed to unsigned callers either.
    let unsigned = Request::builder()
        .uri("/gremlin")
        .header("host", HOST)
        .body(Body::empty())
        .unwrap();
    send(&r, unsigned)
        .await
        .expect_error(403, "AccessDeniedException");
    assert_eq!(count(&r).await, 1);
}

#[tokio::test]
async fn wrong_secret_unknown_key_stale_date_and_altered_body_are_denied() {
    let r = iam_router(false);
    let body = b"query=CREATE+(:X)";
    let mut wrong = Signed::post(body);
    wrong.secret = Some("guess");
    send(&r, wrong.request("admin"))
        .await
        .expect_error(403, "AccessDeniedException");
    send(&r, Signed::post(body).request("nobody"))
        .await
        .expect_error(403, "AccessDeniedException");
    let five_minutes_and_a_second = Duration::from_secs(301);
    for time in [
        SystemTime::now() - five_minutes_and_a_second,
        SystemTime::now() + five_minutes_and_a_second,
    ] {
        let mut stale = Signed::post(body);
        stale.time = time;
        let message = send(&r, stale.request("admin"))
            .await
            .expect_error(403, "AccessDeniedException");
        assert!(message.starts_with("Signature"), "{message}");
    }
    let altered = Signed::post(body).request_with_body("admin", b"query=CREATE+(:Y)".to_vec());
    send(&r, altered)
        .await
        .expect_error(403, "AccessDeniedException");
    // A clock four minutes off is tolerated.
    let mut skewed = Signed::post(b"query=RETURN+1");
    skewed.time = SystemTime::now() - Duration::from_secs(240);
    send(&r, skewed.request("admin")).await.expect_ok();
    assert_eq!(count(&r).await, 0);
}

#[tokio::test]
async fn read_only_policy_reads_but_writes_and_deletes_change_nothing() {
    let r = iam_router(false);
    run(&r, "admin", "CREATE (:K {v: 1})").await.expect_ok();
    let rows = run(&r, "reader", "MATCH (n:K) RETURN n.v AS v").await;
    assert_eq!(rows.expect_ok()["results"], json!([{"v": 1}]));
    for (query, action) in [
        ("CREATE (:K {v: 2})", "WriteDataViaQuery"),
        ("MATCH (n:K) SET n.v = 2", "WriteDataViaQuery"),
        ("MERGE (:K {v: 3})", "WriteDataViaQuery"),
        ("MATCH (n:K) REMOVE n.v", "DeleteDataViaQuery"),
        ("MATCH (n:K) DETACH DELETE n", "DeleteDataViaQuery"),
    ] {
        let message = run(&r, "reader", query)
            .await
            .expect_error(403, "AccessDeniedException");
        assert!(
            message.contains(&format!("neptune-db:{action}")),
            "{message}"
        );
    }
    let rows = run(&r, "admin", "MATCH (n:K) RETURN n.v AS v").await;
    assert_eq!(rows.expect_ok()["results"], json!([{"v": 1}]));
    // Listing and engine status are reads too.
    send(&r, Signed::get("/openCypher/status").request("reader"))
        .await
        .expect_ok();
    // A malformed query from an authenticated caller is still reported as malformed.
    run(&r, "reader", "MATCH (n RETURN n")
        .await
        .expect_error(400, "MalformedQueryException");
}

#[tokio::test]
async fn status_only_policy_lists_but_cannot_cancel_query_or_explain() {
    let r = iam_router(false);
    let listed = send(
        &r,
        Signed::get("/openCypher/status?includeWaiting=true").request("watcher"),
    )
    .await;
    assert_eq!(listed.expect_ok()["queries"], json!([]));
    // Authorization comes before the query id is looked up: no hint whether it exists.
    let cancel = Signed {
        method: "DELETE",
        ..Signed::get("/openCypher/status/some-id")
    };
    let message = send(&r, cancel.request("watcher"))
        .await
        .expect_error(403, "AccessDeniedException");
    assert!(message.contains("neptune-db:CancelQuery"), "{message}");
    send(
        &r,
        Signed::get("/openCypher/status?queryId=q&cancelQuery").request("watcher"),
    )
    .await
    .expect_error(403, "AccessDeniedException");
    send(&r, cancel.request("admin"))
        .await
        .expect_error(400, "InvalidParameterException");
    run(&r, "watcher", "RETURN 1")
        .await
        .expect_error(403, "AccessDeniedException");
    send(&r, Signed::get("/status").request("watcher"))
        .await
        .expect_error(403, "AccessDeniedException");
    send(
        &r,
        Signed::get("/openCypher/explain?query=RETURN+1").request("watcher"),
    )
    .await
    .expect_error(403, "AccessDeniedException");
    // The reader may explain: the request gets past authorization to the missing mode.
    send(
        &r,
        Signed::get("/openCypher/explain?query=RETURN+1").request("reader"),
    )
    .await
    .expect_error(400, "MissingParameterException");
}

#[tokio::test]
async fn summary_statistics_and_reset_need_their_own_actions() {
    let r = iam_router(false);
    // A read-only policy (Read*, Get*, List*) reads the summary and the statistics status…
    for path in ["/propertygraph/statistics/summary", "/pg/statistics"] {
        send(&r, Signed::get(path).request("reader"))
            .await
            .expect_ok();
        let m = send(&r, Signed::get(path).request("watcher"))
            .await
            .expect_error(403, "AccessDeniedException");
        assert!(
            m.contains("neptune-db:GetGraphSummary")
                || m.contains("neptune-db:GetStatisticsStatus"),
            "{m}"
        );
    }
    // …but cannot manage or delete statistics, nor reset the database.
    let post = |path: &'static str, body: &'static [u8]| Signed {
        method: "POST",
        content_type: Some("application/json"),
        body,
        ..Signed::get(path)
    };
    let delete = Signed {
        method: "DELETE",
        ..Signed::get("/pg/statistics")
    };
    for (req, action) in [
        (
            post("/pg/statistics", br#"{"mode": "refresh"}"#),
            "ManageStatistics",
        ),
        (delete, "DeleteStatistics"),
        (
            post("/system", br#"{"action": "initiateDatabaseReset"}"#),
            "ResetDatabase",
        ),
    ] {
        let m = send(&r, req.request("reader"))
            .await
            .expect_error(403, "AccessDeniedException");
        assert!(m.contains(&format!("neptune-db:{action}")), "{m}");
        send(&r, req.request("admin")).await.expect_ok();
    }
}

#[tokio::test]
async fn explicit_deny_overrides_allow() {
    let r = iam_router(false);
    run(&r, "denied", "CREATE (:D)").await.expect_ok();
    let message = run(&r, "denied", "MATCH (n:D) DELETE n")
        .await
        .expect_error(403, "AccessDeniedException");
    assert!(message.contains("explicit deny"), "{message}");
    assert_eq!(count(&r).await, 1);
}

#[tokio::test]
async fn source_ip_and_secure_transport_reach_policy_conditions() {
    let r = iam_router(false);
    let from = |ip: &str| {
        let mut req = Signed::get("/status").request("office");
        let addr: SocketAddr = format!("{ip}:40000").parse().unwrap();
        req.extensions_mut().insert(ConnectInfo(Peer(addr)));
        req
    };
    send(&r, from("10.1.2.3")).await.expect_ok();
    send(&r, from("192.168.1.1"))
        .await
        .expect_error(403, "AccessDeniedException");
    // Without a known peer the IP condition cannot match.
    send(&r, Signed::get("/status").request("office"))
        .await
        .expect_error(403, "AccessDeniedException");

    send(&r, Signed::get("/status").request("tls"))
        .await
        .expect_error(403, "AccessDeniedException");
    let secure = iam_router(true);
    send(&secure, Signed::get("/status").request("tls"))
        .await
        .expect_ok();
}

#[tokio::test]
async fn host_comes_from_the_authority_when_the_header_is_absent() {
    let r = iam_router(false);
    let signed = Signed::get("/status");
    let mut builder = Request::builder().uri(format!("http://{HOST}/status"));
    for (name, value) in signed.headers("admin") {
        if name != "host" {
            builder = builder.header(name, value);
        }
    }
    send(&r, builder.body(Body::empty()).unwrap())
        .await
        .expect_ok();
}

#[tokio::test]
async fn read_only_database_rejects_writes_over_http() {
    let r = router_with(
        Database::in_memory().with_read_only(true),
        HttpConfig::default(),
    );
    let reply = send(&r, common::sdk_query("CREATE (:W)", None)).await;
    reply.expect_error(400, "ReadOnlyViolationException");
    let reply = send(
        &r,
        common::sdk_query("MATCH (n) RETURN count(n) AS c", None),
    )
    .await;
    assert_eq!(reply.expect_ok()["results"], json!([{"c": 0}]));
}

#[tokio::test]
async fn query_text_over_the_limit_is_refused() {
    let r = router_with(
        Database::in_memory(),
        HttpConfig {
            max_query_bytes: 16,
            ..HttpConfig::default()
        },
    );
    send(&r, common::sdk_query("RETURN 1 AS one", None))
        .await
        .expect_ok();
    send(&r, common::sdk_query("RETURN 12345678 AS one", None))
        .await
        .expect_error(400, "QueryTooLargeException");
}

#[tokio::test]
async fn metrics_need_get_engine_status_and_console_pages_need_no_signature() {
    use tower::ServiceExt;
    let r = iam_router(false);
    let status_of = |req: Request<Body>| {
        let r = r.clone();
        async move { r.oneshot(req).await.unwrap().status().as_u16() }
    };
    // `reader` has neptune-db:Get*, so GetEngineStatus.
    assert_eq!(
        status_of(Signed::get("/metrics").request("reader")).await,
        200
    );
    let message = send(&r, Signed::get("/metrics").request("watcher"))
        .await
        .expect_error(403, "AccessDeniedException");
    assert!(message.contains("neptune-db:GetEngineStatus"), "{message}");
    let unsigned = Request::builder()
        .uri("/metrics")
        .header("host", HOST)
        .body(Body::empty())
        .unwrap();
    send(&r, unsigned)
        .await
        .expect_error(403, "AccessDeniedException");
    // The pages hold no data; a browser cannot sign its navigation to them.
    let page = Request::builder()
        .uri("/console")
        .header("host", HOST)
        .body(Body::empty())
        .unwrap();
    assert_eq!(status_of(page).await, 200);
    // Any other method on a console path is an API request like any other: it must be signed.
    let post = Request::builder()
        .method("POST")
        .uri("/")
        .header("host", HOST)
        .body(Body::empty())
        .unwrap();
    send(&r, post)
        .await
        .expect_error(403, "AccessDeniedException");
}
