//! Bounded randomized robustness tests of the request decoders and the whole router, run on
//! stable in CI alongside the cargo-fuzz targets in `../fuzz` (nightly, run by hand): random and structure-aware form bodies, JSON bodies, raw
//! `application/opencypher` bodies, query strings, booleans, status parameters, path segments,
//! methods, content types and `Authorization` headers. Nothing may panic; every failure is a
//! coded error; with `--auth iam` no random request gets through. Iterations default to a
//! CI-friendly count; NEREID_FUZZ_ITERS multiplies them for a longer run.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use common::{send, server_with};
use nereid_common::ErrorCode;
use nereid_http::request::{
    body_kind, fields, parse_parameters, percent_decode, query_request, status_request, BodyKind,
};
use nereid_http::HttpConfig;
use nereid_sigv4::IamConfig;

fn iterations(default: usize) -> usize {
    let factor = std::env::var("NEREID_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(1);
    default * factor.max(1)
}

/// Pieces that steer random inputs into the decoders' branches.
const FRAGMENTS: &[&str] = &[
    "query",
    "parameters",
    "queryId",
    "cancelQuery",
    "silent",
    "includeWaiting",
    "explain",
    "=",
    "&",
    "%",
    "%2",
    "%zz",
    "%ff",
    "%C3%A9",
    "+",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "\\",
    "\\u",
    "\\ud800",
    "1e999",
    "-0",
    "18446744073709551616",
    "null",
    "true",
    "TRUE",
    "false",
    "yes",
    "{\"x\": ",
    "RETURN $x",
    "MATCH (n) RETURN n",
    "/",
    "opencypher",
    "status",
    "\u{0}",
    "é",
    "\u{FFFF}",
    " ",
    "\t",
    "\n",
    ";",
];

fn random_text(rng: &mut fastrand::Rng, max_parts: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.usize(0..=max_parts) {
        match rng.u8(0..4) {
            0 => out.push(rng.u8(..)),
            1 => out.extend(std::iter::repeat_n(
                b"[{("[rng.usize(0..3)],
                rng.usize(0..300),
            )),
            _ => out.extend_from_slice(FRAGMENTS[rng.usize(0..FRAGMENTS.len())].as_bytes()),
        }
    }
    out
}

fn expected_decode_error(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::BadRequest
            | ErrorCode::InvalidParameter
            | ErrorCode::MissingParameter
            | ErrorCode::UnsupportedOperation
    )
}

#[test]
fn decoders_never_panic_and_fail_with_request_codes() {
    let mut rng = fastrand::Rng::with_seed(0x6e65_7265_6964);
    let kinds = [
        None,
        Some(BodyKind::Json),
        Some(BodyKind::Form),
        Some(BodyKind::RawQuery),
    ];
    let content_types = [
        None,
        Some("application/json"),
        Some("application/x-www-form-urlencoded; charset=utf-8"),
        Some("application/opencypher"),
        Some("text/plain"),
        Some(""),
        Some(";;;"),
    ];
    let (mut accepted, mut refused) = (0usize, 0usize);
    for _ in 0..iterations(20_000) {
        let body = random_text(&mut rng, 12);
        let qs = String::from_utf8_lossy(&random_text(&mut rng, 6)).into_owned();
        let ct = content_types[rng.usize(0..content_types.len())];
        if let Err(e) = body_kind(ct, &body) {
            assert!(expected_decode_error(e.code), "{e:?}");
        }
        let kind = kinds[rng.usize(0..kinds.len())];
        match fields(Some(&qs), kind, &body) {
            Ok(f) => {
                for result in [
                    query_request(&f).map(|_| ()),
                    status_request(&f, rng.bool()).map(|_| ()),
                    f.boolean("silent").map(|_| ()),
                    f.text("queryId").map(|_| ()),
                ] {
                    match result {
                        Ok(()) => accepted += 1,
                        Err(e) => {
                            assert!(expected_decode_error(e.code), "{e:?}");
                            refused += 1;
                        }
                    }
                }
            }
            Err(e) => assert!(expected_decode_error(e.code), "{e:?}"),
        }
        if let Err(e) = parse_parameters(&String::from_utf8_lossy(&body)) {
            assert_eq!(e.code, ErrorCode::InvalidParameter, "{e:?}");
        }
        if let Err(e) = percent_decode(&qs) {
            assert_eq!(e.code, ErrorCode::BadRequest);
        }
    }
    // The generator reaches both outcomes, or the test would prove little.
    assert!(accepted > 1000 && refused > 1000, "{accepted} {refused}");
}

#[test]
fn structured_parameters_at_every_depth() {
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..iterations(2_000) {
        let depth = rng.usize(1..200);
        let mut text = String::new();
        for _ in 1..depth {
            text.push(if rng.bool() { '[' } else { '{' });
            if text.ends_with('{') {
                text.push_str("\"k\": ");
            }
        }
        text.push('1');
        for c in text.clone().chars().rev() {
            match c {
                '[' => text.push(']'),
                '{' => text.push('}'),
                _ => {}
            }
        }
        let result = parse_parameters(&format!("{{\"p\": {text}}}"));
        // The top-level object is level 1, `p`'s outermost container level 2.
        if depth < 64 {
            assert!(result.is_ok(), "depth {depth}: {result:?}");
        } else if depth > 64 {
            assert_eq!(result.unwrap_err().code, ErrorCode::InvalidParameter);
        }
    }
}

#[tokio::test]
async fn random_requests_through_the_router_get_coded_answers() {
    let iam = IamConfig::from_json(
        r#"{"users": [{"name": "u", "accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "s",
            "policy": {"Statement": [{"Effect": "Allow", "Action": "neptune-db:*", "Resource": "*"}]}}]}"#,
    )
    .unwrap();
    let open = server_with(2, 64, 1000, HttpConfig::default());
    let closed = server_with(
        2,
        64,
        1000,
        HttpConfig {
            iam: Some(Arc::new(iam)),
            ..HttpConfig::default()
        },
    );
    let mut rng = fastrand::Rng::with_seed(42);
    // (HEAD answers carry no body, so there is no envelope to check.)
    let methods = ["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS"];
    let paths = [
        "/openCypher",
        "/opencypher/status",
        "/openCypher/status/",
        "/openCypher/explain",
        "/status",
        "/",
        "/gremlin",
    ];
    let content_types = [
        "application/json",
        "application/x-www-form-urlencoded",
        "application/opencypher",
        "text/html",
    ];
    let authorizations = [
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/neptune-db/aws4_request, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/",
        "AWS4-HMAC-SHA256",
        "Basic dTpz",
        "",
    ];
    let mut ok = 0;
    for i in 0..iterations(1_500) {
        let method = methods[rng.usize(0..methods.len())];
        let mut path = paths[rng.usize(0..paths.len())].to_owned();
        if path.ends_with('/') || rng.u8(0..8) == 0 {
            let segment = random_text(&mut rng, 3);
            path.push_str(&percent_encode(&segment));
        }
        let mut uri = path;
        if rng.bool() {
            uri.push('?');
            uri.push_str(&percent_encode_query(&random_text(&mut rng, 6)));
        }
        let body = if rng.u8(0..4) == 0 {
            // Scripted queries with random parameters, so that some requests succeed.
            format!(
                "query=echo&parameters={}",
                percent_encode(&random_text(&mut rng, 4))
            )
            .into_bytes()
        } else {
            random_text(&mut rng, 10)
        };
        let mut builder = Request::builder().method(method).uri(&uri);
        if rng.bool() {
            builder = builder.header("content-type", content_types[rng.usize(0..4)]);
        }
        if rng.bool() {
            builder = builder.header("authorization", authorizations[rng.usize(0..5)]);
        }
        let request = |b: axum::http::request::Builder| b.body(Body::from(body.clone())).unwrap();
        let Ok(template) = builder.body(()) else {
            continue; // the http crate refused the URI: nothing reaches the server
        };
        let (parts, ()) = template.into_parts();
        let rebuild = || {
            let mut b = Request::builder()
                .method(parts.method.clone())
                .uri(parts.uri.clone());
            for (n, v) in &parts.headers {
                b = b.header(n, v);
            }
            request(b)
        };
        // The console's static pages are served to anyone (they hold no data; a browser
        // cannot sign a navigation): they are checked in tests/metrics.rs, not here.
        if nereid_http::console::is_console_path(parts.uri.path())
            && matches!(parts.method.as_str(), "GET" | "HEAD")
        {
            continue;
        }
        for (server, guarded) in [(&open, false), (&closed, true)] {
            let reply = send(&server.router, rebuild()).await;
            let status = reply.status.as_u16();
            if status == 200 {
                assert!(!guarded, "request {i} passed --auth iam: {method} {uri}");
                ok += 1;
            } else {
                assert!(
                    matches!(status, 400 | 403 | 405 | 500),
                    "{status} {}",
                    reply.json
                );
                assert!(reply.headers.contains_key("x-amzn-ErrorType"));
                assert!(reply.json["code"].is_string());
                if guarded {
                    assert_eq!(status, 403, "{method} {uri}: {}", reply.json);
                }
            }
        }
    }
    assert!(ok > 50, "only {ok} random requests succeeded");
}

fn percent_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02X}")).collect()
}

/// Keeps `=` and `&` so that query strings have structure; encodes everything else.
fn percent_encode_query(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'=' | b'&' | b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
