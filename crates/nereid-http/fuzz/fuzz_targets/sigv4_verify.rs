//! SigV4 verification on arbitrary requests: the `Authorization` header parser, the
//! credential scope, the presigned query parameters and the canonical request builder. The
//! input is split at 0xFF into Authorization header / X-Amz-Date / query / path / body.
//! Nothing may panic, and nothing random may authenticate.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use nereid_sigv4::{verify, IamConfig, RequestParts};

fuzz_target!(|data: &[u8]| {
    static CONFIG: std::sync::OnceLock<IamConfig> = std::sync::OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        IamConfig::from_json(
            r#"{"users": [{"name": "u", "accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "s",
                "policy": {"Statement": [{"Effect": "Allow", "Action": "neptune-db:*", "Resource": "*"}]}},
                {"name": "t", "accessKeyId": "ASIAEXAMPLE", "secretAccessKey": "s", "sessionToken": "tok",
                "policy": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]}"#,
        )
        .expect("the fuzz config is valid")
    });
    let mut parts = data.split(|&b| b == 0xFF);
    let authorization = parts.next().unwrap_or_default();
    let date = parts.next().unwrap_or_default();
    let query = parts.next().map(String::from_utf8_lossy);
    let path = String::from_utf8_lossy(parts.next().unwrap_or(b"/openCypher"));
    let body = parts.next().unwrap_or_default();
    let headers: Vec<(&str, &[u8])> = vec![
        ("host", b"127.0.0.1:8182"),
        ("authorization", authorization),
        ("x-amz-date", date),
        ("x-amz-security-token", b"tok"),
    ];
    let request = RequestParts {
        method: "POST",
        path: &path,
        query: query.as_deref(),
        headers: &headers,
        body,
    };
    let now = UNIX_EPOCH + Duration::from_secs(1_795_644_626);
    assert!(verify(config, &request, now).is_err(), "a random request authenticated");
});
