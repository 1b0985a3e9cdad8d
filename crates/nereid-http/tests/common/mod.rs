//! Shared helpers of the HTTP tests: a scripted query runner (so that the query lifecycle can
//! be driven precisely without a real engine) and request/response plumbing over the axum
//! router with `tower::ServiceExt::oneshot`.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use nereid_common::{CancelToken, Error, ErrorCode};
use nereid_engine::manager::{ManagerConfig, PreparedQuery, QueryManager, QueryRunner};
use nereid_engine::{NodeData, QueryResult};
use nereid_http::HttpConfig;
use nereid_value::{Map, NodeId, Value};
use tower::ServiceExt;

/// Scripted queries:
/// * `[hint <ms>] sleep <ms>` — runs that long, polling the cancel token every millisecond;
/// * `echo` — one row whose columns are the parameters;
/// * `node` — one row with a node;
/// * `panic` — panics while running;
/// * anything else — a syntax error (`VariableAlreadyBound`, to check the detail code).
#[derive(Default)]
pub struct Scripted {
    pub executed: Mutex<Vec<String>>,
}

pub enum Script {
    Sleep(u64),
    Echo,
    Node,
    Panic,
}

impl QueryRunner for Scripted {
    type Plan = (String, Script);

    fn prepare(&self, text: &str) -> Result<PreparedQuery<Self::Plan>, Error> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let (timeout_ms, rest) = match words.as_slice() {
            ["hint", ms, rest @ ..] => (ms.parse().ok(), rest),
            rest => (None, rest),
        };
        let script = match rest {
            ["sleep", ms] => Script::Sleep(ms.parse().unwrap_or(0)),
            ["echo"] => Script::Echo,
            ["node"] => Script::Node,
            ["panic"] => Script::Panic,
            _ => {
                return Err(Error::compile(
                    ErrorCode::VariableAlreadyBound,
                    format!("cannot run {text:?} at line 1, column 1"),
                ))
            }
        };
        Ok(PreparedQuery {
            plan: (text.to_owned(), script),
            timeout_ms,
            subqueries: 1,
        })
    }

    fn execute(
        &self,
        plan: &Self::Plan,
        params: &Map,
        cancel: &CancelToken,
    ) -> Result<QueryResult, Error> {
        self.executed.lock().unwrap().push(plan.0.clone());
        match plan.1 {
            Script::Sleep(ms) => {
                let start = Instant::now();
                while start.elapsed() < Duration::from_millis(ms) {
                    cancel.check()?;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Ok(QueryResult {
                    columns: vec!["slept".into()],
                    rows: vec![vec![Value::Int(ms as i64)]],
                    ..Default::default()
                })
            }
            Script::Echo => Ok(QueryResult {
                columns: params.keys().cloned().collect(),
                rows: vec![params.values().cloned().collect()],
                ..Default::default()
            }),
            Script::Node => {
                let mut result = QueryResult {
                    columns: vec!["n".into()],
                    rows: vec![vec![Value::Node(NodeId(7))]],
                    ..Default::default()
                };
                result.nodes.insert(
                    NodeId(7),
                    NodeData {
                        id: "p1".into(),
                        labels: vec!["Person".into()],
                        properties: Map::from([("name".to_owned(), Value::from("Ada"))]),
                    },
                );
                Ok(result)
            }
            Script::Panic => panic!("scripted panic"),
        }
    }
}

pub struct Server {
    pub router: Router,
    pub manager: Arc<QueryManager<Scripted>>,
}

impl Server {
    /// Texts of the queries that started executing.
    pub fn executed(&self) -> Vec<String> {
        self.manager.runner().executed.lock().unwrap().clone()
    }
}

pub fn server(workers: usize, queue_size: usize, query_timeout_ms: u64) -> Server {
    server_with(workers, queue_size, query_timeout_ms, HttpConfig::default())
}

pub fn server_with(
    workers: usize,
    queue_size: usize,
    query_timeout_ms: u64,
    http: HttpConfig,
) -> Server {
    let manager = Arc::new(
        QueryManager::new(
            Scripted::default(),
            ManagerConfig {
                workers,
                queue_size,
                query_timeout_ms,
            },
        )
        .unwrap(),
    );
    Server {
        router: nereid_http::router(manager.clone(), http),
        manager,
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: serde_json::Value,
}

impl Reply {
    /// Asserts the Neptune error envelope and returns `detailedMessage`.
    pub fn expect_error(&self, status: u16, code: &str) -> String {
        assert_eq!(self.status.as_u16(), status, "{}", self.json);
        assert_eq!(self.headers["x-amzn-ErrorType"], code);
        assert_eq!(self.json["code"], code);
        let request_id = self.json["requestId"].as_str().unwrap();
        assert!(!request_id.is_empty());
        assert_eq!(self.headers["x-amzn-RequestId"], request_id);
        assert_eq!(self.json["message"], self.json["detailedMessage"]);
        self.json["detailedMessage"].as_str().unwrap().to_owned()
    }

    pub fn expect_ok(&self) -> &serde_json::Value {
        assert_eq!(self.status, StatusCode::OK, "{}", self.json);
        assert!(self.headers.contains_key("x-amzn-RequestId"));
        &self.json
    }
}

pub async fn send(router: &Router, req: Request<Body>) -> Reply {
    let response = router.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    Reply {
        status,
        headers,
        json,
    }
}

pub fn request(method: Method, uri: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap()
}

pub fn with_body(
    method: Method,
    uri: &str,
    content_type: &str,
    body: impl Into<Body>,
) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .body(body.into())
        .unwrap()
}

/// The SDK's ExecuteOpenCypherQuery request.
pub fn sdk_query(query: &str, parameters: Option<&str>) -> Request<Body> {
    let mut body = serde_json::json!({ "query": query });
    if let Some(p) = parameters {
        body["parameters"] = p.into();
    }
    with_body(
        Method::POST,
        "/opencypher",
        "application/json",
        body.to_string(),
    )
}

pub async fn get(router: &Router, uri: &str) -> Reply {
    send(router, request(Method::GET, uri)).await
}

/// Polls the list until `n` queries run; returns their ids.
pub async fn wait_running(router: &Router, n: usize) -> Vec<String> {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let list = get(router, "/opencypher/status").await;
        let queries = list.json["queries"].as_array().unwrap();
        if queries.len() >= n {
            return queries
                .iter()
                .map(|q| q["queryId"].as_str().unwrap().to_owned())
                .collect();
        }
        assert!(
            Instant::now() < until,
            "queries never started: {}",
            list.json
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// A response whose body is not (necessarily) JSON: explain text, an empty 204.
pub struct RawReply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl RawReply {
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("a UTF-8 body")
    }
}

pub async fn send_raw(router: &Router, req: Request<Body>) -> RawReply {
    let response = router.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    RawReply {
        status,
        headers,
        body,
    }
}
