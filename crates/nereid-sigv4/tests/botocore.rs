//! nereid-sigv4 against requests signed by the real botocore (tests/data/botocore_vectors.json,
//! made by tests/data/gen_botocore_vectors.py): every captured `neptunedata` call, presigned
//! URL and Bolt credential string, and 120 random requests (reserved, non-ASCII and
//! non-canonical paths and queries, repeated and empty parameters, tabs and space runs in
//! header values, bodies) is accepted, and every single-byte alteration of a signed part is
//! rejected.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nereid_sigv4::{verify, verify_bolt_credentials, AuthError, IamConfig, RequestParts};
use serde_json::{json, Value};

const VECTORS: &str = include_str!("data/botocore_vectors.json");

struct Captured {
    name: String,
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Captured {
    fn parts<'a>(&'a self, headers: &'a [(&'a str, &'a [u8])]) -> RequestParts<'a> {
        RequestParts {
            method: &self.method,
            path: &self.path,
            query: self.query.as_deref(),
            headers,
            body: &self.body,
        }
    }

    fn verify_at(&self, config: &IamConfig, now: SystemTime) -> Result<String, AuthError> {
        let headers: Vec<(&str, &[u8])> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        verify(config, &self.parts(&headers), now).map(|p| p.name().to_string())
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }

    /// The signing time: `X-Amz-Date` from the header or the presigned query.
    fn signed_at(&self) -> SystemTime {
        let date = self.header("x-amz-date").or_else(|| {
            self.query.as_deref().and_then(|q| {
                q.split('&')
                    .find_map(|p| p.strip_prefix("X-Amz-Date=").map(str::to_string))
            })
        });
        amz_date_to_time(&date.expect("vector has a date"))
    }
}

fn amz_date_to_time(s: &str) -> SystemTime {
    // Days-from-civil for the test's own use (independent of the crate's code).
    let n = |a: usize, b: usize| s[a..b].parse::<i64>().unwrap();
    let (y, m, d) = (n(0, 4), n(4, 6), n(6, 8));
    let (y2, m2) = if m <= 2 { (y - 1, m + 12) } else { (y, m) };
    let days = 365 * y2 + y2 / 4 - y2 / 100 + y2 / 400 + (153 * (m2 - 3) + 2) / 5 + d - 719_469;
    let secs = days * 86_400 + n(9, 11) * 3600 + n(11, 13) * 60 + n(13, 15);
    UNIX_EPOCH + Duration::from_secs(secs as u64)
}

fn vectors() -> Vec<Value> {
    let doc: Value = serde_json::from_str(VECTORS).unwrap();
    doc["vectors"].as_array().unwrap().clone()
}

fn captured(v: &Value) -> Option<Captured> {
    Some(Captured {
        name: v["name"].as_str()?.to_string(),
        method: v["method"].as_str()?.to_string(),
        path: v["path"].as_str()?.to_string(),
        query: v["query"].as_str().map(str::to_string),
        headers: v["headers"]
            .as_array()?
            .iter()
            .map(|h| {
                (
                    h[0].as_str().unwrap().to_string(),
                    h[1].as_str().unwrap().as_bytes().to_vec(),
                )
            })
            .collect(),
        body: v["body"].as_str()?.as_bytes().to_vec(),
    })
}

/// A config holding both vector keys, each allowed everything; `region` as given.
fn config(region: Option<&str>) -> IamConfig {
    let allow = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "neptune-db:*", "Resource": "*"}]});
    let mut users = Vec::new();
    let mut seen = Vec::new();
    for v in vectors() {
        let key = v["accessKeyId"].as_str().unwrap().to_string();
        if seen.contains(&key) {
            continue;
        }
        seen.push(key.clone());
        users.push(json!({"name": format!("user-{key}"), "accessKeyId": key,
            "secretAccessKey": v["secretAccessKey"], "sessionToken": v["sessionToken"], "policy": allow}));
    }
    IamConfig::from_json(&json!({"region": region, "users": users}).to_string()).unwrap()
}

#[test]
fn every_botocore_request_is_accepted() {
    let config = config(None);
    let mut count = 0;
    for v in vectors() {
        let Some(req) = captured(&v) else { continue };
        let now = req.signed_at() + Duration::from_secs(30);
        let who = req
            .verify_at(&config, now)
            .unwrap_or_else(|e| panic!("{}: {e}", req.name));
        assert_eq!(who, format!("user-{}", v["accessKeyId"].as_str().unwrap()));
        count += 1;
    }
    assert!(count >= 140, "{count} vectors");
}

#[test]
fn a_configured_region_must_match_the_scope() {
    let config = config(Some("us-east-1"));
    for v in vectors() {
        let Some(req) = captured(&v) else { continue };
        let result = req.verify_at(&config, req.signed_at());
        if v["region"] == "us-east-1" {
            assert!(result.is_ok(), "{}", req.name);
        } else {
            assert_eq!(result, Err(AuthError::WrongRegion), "{}", req.name);
        }
    }
}

/// Replacement bytes that always change meaning: an alphanumeric that differs from the
/// original even ignoring case (a case change inside a query `%2f` escape is no change).
fn replacement(original: u8, salt: usize) -> u8 {
    const POOL: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzQ";
    let mut i = salt;
    loop {
        let c = POOL[i % POOL.len()];
        if !c.eq_ignore_ascii_case(&original) {
            return c;
        }
        i += 1;
    }
}

#[test]
fn any_single_byte_change_to_a_signed_part_is_rejected() {
    let config = config(None);
    let mut tampers = 0;
    for v in vectors() {
        let Some(req) = captured(&v) else { continue };
        let now = req.signed_at();
        let signed: Vec<String> = {
            let auth = req.header("authorization");
            let from_header = auth
                .as_deref()
                .and_then(|a| a.split("SignedHeaders=").nth(1))
                .map(|s| s.split(',').next().unwrap_or("").to_string());
            let list = from_header.unwrap_or_else(|| "host".into());
            list.split(';')
                .map(str::to_string)
                .chain(["authorization".into()])
                .collect()
        };
        let mut check = |altered: Captured, what: String| {
            tampers += 1;
            assert!(
                altered.verify_at(&config, now).is_err(),
                "{}: accepted after changing {what}",
                req.name
            );
        };
        for i in 0..req.method.len() {
            let mut m = req.method.clone().into_bytes();
            m[i] = replacement(m[i], i);
            check(
                Captured {
                    method: String::from_utf8(m).unwrap(),
                    ..clone(&req)
                },
                format!("method byte {i}"),
            );
        }
        for i in 0..req.path.len() {
            let mut p = req.path.clone().into_bytes();
            p[i] = replacement(p[i], i);
            check(
                Captured {
                    path: String::from_utf8(p).unwrap(),
                    ..clone(&req)
                },
                format!("path byte {i}"),
            );
        }
        if let Some(q) = &req.query {
            for i in 0..q.len() {
                let mut b = q.clone().into_bytes();
                b[i] = replacement(b[i], i);
                check(
                    Captured {
                        query: Some(String::from_utf8(b).unwrap()),
                        ..clone(&req)
                    },
                    format!("query byte {i}"),
                );
            }
        }
        for i in 0..req.body.len() {
            let mut b = req.body.clone();
            b[i] = replacement(b[i], i);
            check(
                Captured {
                    body: b,
                    ..clone(&req)
                },
                format!("body byte {i}"),
            );
        }
        for (h, (name, value)) in req.headers.iter().enumerate() {
            if !signed.iter().any(|s| s.eq_ignore_ascii_case(name)) {
                continue;
            }
            for i in 0..value.len() {
                let mut altered = clone(&req);
                let byte = &mut altered.headers[h].1[i];
                *byte = replacement(*byte, i);
                check(altered, format!("header {name} byte {i}"));
            }
        }
        // A body added to a bodiless request, or a signed header dropped.
        if req.body.is_empty() {
            check(
                Captured {
                    body: b"x".to_vec(),
                    ..clone(&req)
                },
                "an added body".into(),
            );
        }
        for s in signed.iter() {
            let mut altered = clone(&req);
            altered.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(s));
            if altered.headers.len() < req.headers.len() {
                check(altered, format!("header {s} dropped"));
            }
        }
    }
    assert!(tampers > 5_000, "{tampers} tampers");
}

fn clone(c: &Captured) -> Captured {
    Captured {
        name: c.name.clone(),
        method: c.method.clone(),
        path: c.path.clone(),
        query: c.query.clone(),
        headers: c.headers.clone(),
        body: c.body.clone(),
    }
}

#[test]
fn unsigned_headers_may_change() {
    let config = config(None);
    for v in vectors() {
        let Some(mut req) = captured(&v) else {
            continue;
        };
        for (name, value) in req.headers.iter_mut() {
            if name.eq_ignore_ascii_case("user-agent")
                || name.eq_ignore_ascii_case("amz-sdk-request")
            {
                *value = b"something else".to_vec();
            }
        }
        req.headers
            .push(("X-Forwarded-For".into(), b"10.0.0.1".to_vec()));
        assert!(
            req.verify_at(&config, req.signed_at()).is_ok(),
            "{}",
            req.name
        );
    }
}

#[test]
fn stale_and_future_dates_are_rejected_with_aws_messages() {
    let config = config(None);
    let req = vectors()
        .iter()
        .find_map(|v| captured(v).filter(|c| c.header("authorization").is_some()))
        .unwrap();
    let t = req.signed_at();
    assert!(req.verify_at(&config, t + Duration::from_secs(300)).is_ok());
    assert!(req.verify_at(&config, t - Duration::from_secs(300)).is_ok());
    let late = req
        .verify_at(&config, t + Duration::from_secs(301))
        .unwrap_err();
    assert!(matches!(late, AuthError::SignatureExpired { .. }));
    assert!(
        late.to_string().starts_with("Signature expired: "),
        "{late}"
    );
    let early = req
        .verify_at(&config, t - Duration::from_secs(301))
        .unwrap_err();
    assert!(
        early.to_string().starts_with("Signature not yet current: "),
        "{early}"
    );
}

#[test]
fn presigned_urls_expire() {
    let config = config(None);
    for v in vectors() {
        let Some(req) = captured(&v).filter(|c| c.name.starts_with("presigned")) else {
            continue;
        };
        let t = req.signed_at();
        // Signed with X-Amz-Expires=900: valid long after the 5-minute header window.
        assert!(
            req.verify_at(&config, t + Duration::from_secs(900)).is_ok(),
            "{}",
            req.name
        );
        assert_eq!(
            req.verify_at(&config, t + Duration::from_secs(901)),
            Err(AuthError::RequestExpired)
        );
        assert!(matches!(
            req.verify_at(&config, t - Duration::from_secs(400)),
            Err(AuthError::SignatureNotYetCurrent { .. })
        ));
    }
}

fn config_with(key: &str, secret: &str, token: Option<&str>) -> IamConfig {
    IamConfig::from_json(
        &json!({"users": [{"name": "u", "accessKeyId": key, "secretAccessKey": secret, "sessionToken": token,
            "policy": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]})
        .to_string(),
    )
    .unwrap()
}

#[test]
fn wrong_secret_unknown_key_and_token_mismatches_are_denied() {
    let plain = vectors()
        .into_iter()
        .find(|v| v["sessionToken"].is_null() && v["method"] == "POST")
        .unwrap();
    let temp = vectors()
        .into_iter()
        .find(|v| v["sessionToken"].is_string() && v["method"] == "POST")
        .unwrap();
    let (p, t) = (captured(&plain).unwrap(), captured(&temp).unwrap());
    let (pk, tk) = (
        plain["accessKeyId"].as_str().unwrap(),
        temp["accessKeyId"].as_str().unwrap(),
    );
    let (ps, ts) = (
        plain["secretAccessKey"].as_str().unwrap(),
        temp["secretAccessKey"].as_str().unwrap(),
    );
    let token = temp["sessionToken"].as_str().unwrap();

    let wrong_secret = config_with(pk, "not-the-secret", None);
    assert_eq!(
        p.verify_at(&wrong_secret, p.signed_at()),
        Err(AuthError::SignatureMismatch)
    );
    let unknown = config_with("AKIDOTHER", ps, None);
    assert_eq!(
        p.verify_at(&unknown, p.signed_at()),
        Err(AuthError::InvalidToken)
    );
    // The key expects a token the request does not carry.
    let expects_token = config_with(pk, ps, Some("tok"));
    assert_eq!(
        p.verify_at(&expects_token, p.signed_at()),
        Err(AuthError::InvalidToken)
    );
    // The request carries a token the key does not have, or a different one.
    let no_token = config_with(tk, ts, None);
    assert_eq!(
        t.verify_at(&no_token, t.signed_at()),
        Err(AuthError::InvalidToken)
    );
    let other_token = config_with(tk, ts, Some(&format!("{token}x")));
    assert_eq!(
        t.verify_at(&other_token, t.signed_at()),
        Err(AuthError::InvalidToken)
    );
    assert!(t
        .verify_at(&config_with(tk, ts, Some(token)), t.signed_at())
        .is_ok());
}

#[test]
fn unsigned_requests_are_missing_a_token() {
    let config = config(None);
    let req = Captured {
        name: "unsigned".into(),
        method: "GET".into(),
        path: "/status".into(),
        query: None,
        headers: vec![("host".into(), b"127.0.0.1:8182".to_vec())],
        body: vec![],
    };
    let err = req.verify_at(&config, SystemTime::now()).unwrap_err();
    assert_eq!(err, AuthError::MissingAuthentication);
    let coded: nereid_common::Error = err.into();
    assert_eq!(coded.code, nereid_common::ErrorCode::AccessDenied);
    assert_eq!(coded.message, "Missing Authentication Token");
}

#[test]
fn bolt_credentials_from_botocore_are_accepted_and_tampering_is_not() {
    let config = config(None);
    let mut count = 0;
    for v in vectors() {
        let Some(text) = v["bolt"].as_str() else {
            continue;
        };
        let creds: Value = serde_json::from_str(text).unwrap();
        let now = amz_date_to_time(creds["X-Amz-Date"].as_str().unwrap());
        let p = verify_bolt_credentials(&config, text, now)
            .unwrap_or_else(|e| panic!("{}: {e}", v["name"]));
        assert_eq!(
            p.name(),
            format!("user-{}", v["accessKeyId"].as_str().unwrap())
        );
        count += 1;
        for field in [
            "Authorization",
            "X-Amz-Date",
            "Host",
            "HttpMethod",
            "X-Amz-Security-Token",
        ] {
            let Some(original) = creds[field].as_str() else {
                continue;
            };
            for i in (0..original.len()).step_by(3) {
                let mut b = original.as_bytes().to_vec();
                b[i] = replacement(b[i], i);
                let mut altered = creds.clone();
                altered[field] = Value::String(String::from_utf8(b).unwrap());
                assert!(
                    verify_bolt_credentials(&config, &altered.to_string(), now).is_err(),
                    "{field} byte {i}"
                );
            }
        }
        let mut no_date = creds.clone();
        no_date.as_object_mut().unwrap().remove("X-Amz-Date");
        assert!(verify_bolt_credentials(&config, &no_date.to_string(), now).is_err());
        assert!(verify_bolt_credentials(&config, text, now + Duration::from_secs(301)).is_err());
    }
    assert_eq!(count, 4);
    for junk in ["", "null", "[]", "{\"Authorization\": 5}", "user:password"] {
        assert!(
            verify_bolt_credentials(&config, junk, SystemTime::now()).is_err(),
            "{junk}"
        );
    }
}
