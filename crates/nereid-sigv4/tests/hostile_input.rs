//! Bounded randomized robustness tests, standing in for cargo-fuzz (not available on the
//! stable-only toolchain here): arbitrary and structure-aware inputs go to every parser a
//! remote caller or a config file reaches — the `Authorization` header and credential scope,
//! presigned query parameters, paths and queries, Bolt credential JSON, IAM config and policy
//! documents — and nothing may panic; every failure must be an error value. Iterations default
//! to a CI-friendly count; NEREID_FUZZ_ITERS raises it for a longer run.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nereid_sigv4::{verify, verify_bolt_credentials, Action, IamConfig, RequestParts};
use serde_json::json;

fn iterations(default: usize) -> usize {
    std::env::var("NEREID_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn config() -> IamConfig {
    IamConfig::from_json(
        &json!({"region": "us-east-1", "users": [
            {"name": "u", "accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "s", "policy":
                {"Statement": [{"Effect": "Allow", "Action": "neptune-db:*", "Resource": "*"}]}},
            {"name": "t", "accessKeyId": "ASIAEXAMPLE", "secretAccessKey": "s", "sessionToken": "tok", "policy":
                {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]})
        .to_string(),
    )
    .unwrap()
}

/// Fragments that steer random inputs into the deeper branches of the parsers.
const FRAGMENTS: &[&str] = &[
    "AWS4-HMAC-SHA256",
    " ",
    "  ",
    ",",
    ", ",
    "=",
    "/",
    ";",
    "&",
    "%",
    "%2F",
    "%zz",
    "+",
    "Credential=",
    "SignedHeaders=",
    "Signature=",
    "AKIDEXAMPLE",
    "ASIAEXAMPLE",
    "20261125",
    "20261125T221026Z",
    "us-east-1",
    "neptune-db",
    "aws4_request",
    "host",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "content-type",
    "X-Amz-Algorithm=",
    "X-Amz-Credential=",
    "X-Amz-Date=",
    "X-Amz-Expires=",
    "X-Amz-SignedHeaders=",
    "X-Amz-Signature=",
    "X-Amz-Security-Token=",
    "900",
    "604801",
    "-1",
    "99999999999999999999",
    "0123456789abcdef",
    "é",
    "\u{0}",
    "\t",
    "\n",
    ".",
    "..",
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    "null",
    "true",
    "Authorization",
    "X-Amz-Date",
    "Host",
    "HttpMethod",
];

fn structured(rng: &mut fastrand::Rng, max_parts: usize) -> String {
    (0..rng.usize(0..=max_parts))
        .map(|_| FRAGMENTS[rng.usize(0..FRAGMENTS.len())])
        .collect()
}

fn bytes(rng: &mut fastrand::Rng, max: usize) -> Vec<u8> {
    (0..rng.usize(0..=max)).map(|_| rng.u8(..)).collect()
}

fn text(rng: &mut fastrand::Rng, max: usize) -> String {
    if rng.bool() {
        structured(rng, max / 4)
    } else {
        String::from_utf8_lossy(&bytes(rng, max)).into_owned()
    }
}

fn now(rng: &mut fastrand::Rng) -> SystemTime {
    match rng.u8(0..4) {
        0 => UNIX_EPOCH,
        1 => UNIX_EPOCH + Duration::from_secs(u64::MAX / 4),
        _ => UNIX_EPOCH + Duration::from_secs(1_795_644_626 + rng.u64(0..1000)),
    }
}

#[test]
fn arbitrary_requests_never_panic_the_verifier() {
    let config = config();
    let mut rng = fastrand::Rng::with_seed(0xF022);
    let iters = iterations(20_000);
    for _ in 0..iters {
        let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
        for _ in 0..rng.usize(0..6) {
            let name = [
                "authorization",
                "Authorization",
                "host",
                "x-amz-date",
                "X-Amz-Security-Token",
                "x-amz-content-sha256",
                "content-type",
                "x-other",
            ][rng.usize(0..8)];
            let value = if rng.u8(0..4) == 0 {
                bytes(&mut rng, 80)
            } else {
                structured(&mut rng, 24).into_bytes()
            };
            headers.push((name.to_string(), value));
        }
        let header_refs: Vec<(&str, &[u8])> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        let path = text(&mut rng, 40);
        let query = if rng.bool() {
            Some(text(&mut rng, 200))
        } else {
            None
        };
        let body = bytes(&mut rng, 32);
        let method = text(&mut rng, 8);
        let parts = RequestParts {
            method: &method,
            path: &path,
            query: query.as_deref(),
            headers: &header_refs,
            body: &body,
        };
        let result = verify(&config, &parts, now(&mut rng));
        // Random input must never authenticate; and any error must render as a message.
        assert!(result.is_err(), "accepted {parts:?}");
        let coded: nereid_common::Error = result.unwrap_err().into();
        assert_eq!(coded.code, nereid_common::ErrorCode::AccessDenied);
    }
}

#[test]
fn arbitrary_bolt_credentials_never_panic() {
    let config = config();
    let mut rng = fastrand::Rng::with_seed(0xB017);
    for _ in 0..iterations(20_000) {
        let input = match rng.u8(0..3) {
            0 => text(&mut rng, 200),
            1 => json!({
                "Authorization": structured(&mut rng, 20), "X-Amz-Date": structured(&mut rng, 2),
                "Host": text(&mut rng, 20), "HttpMethod": text(&mut rng, 5),
                "X-Amz-Security-Token": structured(&mut rng, 2)})
            .to_string(),
            _ => {
                let mut s = json!({"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/us-east-1/neptune-db/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", "X-Amz-Date": "20261125T221026Z", "Host": "h", "HttpMethod": "GET"}).to_string().into_bytes();
                for _ in 0..rng.usize(1..4) {
                    let i = rng.usize(0..s.len());
                    s[i] = rng.u8(..);
                }
                String::from_utf8_lossy(&s).into_owned()
            }
        };
        assert!(verify_bolt_credentials(&config, &input, now(&mut rng)).is_err());
    }
}

/// A policy document built from random IAM-ish pieces.
fn random_policy(rng: &mut fastrand::Rng) -> serde_json::Value {
    let pick =
        |rng: &mut fastrand::Rng, xs: &[serde_json::Value]| xs[rng.usize(0..xs.len())].clone();
    let strings = [
        json!("*"),
        json!("neptune-db:*"),
        json!("neptune-db:Read*"),
        json!("neptune-db:connect"),
        json!("neptune-db:?et*"),
        json!(["neptune-db:Get*", "neptune-db:List*"]),
        json!([]),
        json!(5),
        json!("arn:aws:neptune-db:*:*:*"),
        json!("arn:aws:neptune-db:us-east-1:000000000000:cluster-NEREID/*"),
        json!("***?***?***"),
        json!(null),
    ];
    let ops = [
        "StringEquals",
        "StringNotEquals",
        "StringLike",
        "StringNotLike",
        "Bool",
        "Null",
        "StringEqualsIfExists",
        "ForAllValues:StringLike",
        "ForAnyValue:StringEquals",
        "NumericLessThan",
        "DateGreaterThan",
        "IpAddress",
        "NotIpAddress",
        "ArnLike",
        "BinaryEquals",
        "Bogus",
        "NullIfExists",
    ];
    let keys = [
        "neptune-db:QueryLanguage",
        "aws:SecureTransport",
        "aws:SourceIp",
        "aws:CurrentTime",
        "aws:EpochTime",
        "aws:PrincipalArn",
        "aws:Unknown",
    ];
    let values = [
        json!("OpenCypher"),
        json!("true"),
        json!(false),
        json!("10.0.0.0/8"),
        json!("2026-01-01"),
        json!(1_700_000_000),
        json!(["a*", "Open?ypher"]),
        json!({}),
        json!("::1/200"),
        json!(""),
    ];
    let mut statements = Vec::new();
    for _ in 0..rng.usize(0..4) {
        let mut s = serde_json::Map::new();
        if rng.u8(0..8) != 0 {
            s.insert(
                "Effect".into(),
                pick(rng, &[json!("Allow"), json!("Deny"), json!("allow")]),
            );
        }
        let action_key = ["Action", "NotAction", "Actions"][rng.usize(0..3)];
        s.insert(action_key.into(), pick(rng, &strings));
        let resource_key = ["Resource", "NotResource", "Principal"][rng.usize(0..3)];
        s.insert(resource_key.into(), pick(rng, &strings));
        if rng.bool() {
            let mut cond = serde_json::Map::new();
            for _ in 0..rng.usize(1..3) {
                let op = ops[rng.usize(0..ops.len())];
                let key = keys[rng.usize(0..keys.len())];
                cond.insert(op.into(), json!({ key: pick(rng, &values) }));
            }
            s.insert("Condition".into(), serde_json::Value::Object(cond));
        }
        statements.push(serde_json::Value::Object(s));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

#[test]
fn random_policies_load_or_fail_cleanly_and_evaluate_without_panic() {
    let mut rng = fastrand::Rng::with_seed(0x9011);
    let mut loaded = 0;
    for _ in 0..iterations(5_000) {
        let doc = json!({"users": [{"name": "u", "accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "s",
            "policy": random_policy(&mut rng)}]});
        let mut text = doc.to_string();
        if rng.u8(0..4) == 0 {
            // Byte-level damage on top of the structure.
            let mut b = text.into_bytes();
            let i = rng.usize(0..b.len());
            b[i] = rng.u8(..);
            text = String::from_utf8_lossy(&b).into_owned();
        }
        let Ok(config) = IamConfig::from_json(&text) else {
            continue;
        };
        loaded += 1;
        let policy = config.users()[0].policy();
        let arn = config.resource_arn("us-east-1");
        let context = [
            ("neptune-db:QueryLanguage", "OpenCypher"),
            ("aws:SecureTransport", "false"),
            ("aws:SourceIp", "10.1.2.3"),
            ("aws:CurrentTime", "2026-11-25T22:10:26Z"),
            ("aws:EpochTime", "1795644626"),
        ];
        for &action in Action::ALL {
            let k = rng.usize(0..=context.len());
            let _ = policy.decide(action, &arn, &context[..k]);
        }
    }
    assert!(loaded > 100, "only {loaded} random policies were valid");
}
