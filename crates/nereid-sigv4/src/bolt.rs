//! Bolt IAM authentication (SPEC 7): the driver sends, as the basic-auth credentials, a JSON
//! string `{"Authorization": …, "X-Amz-Date": …, "X-Amz-Security-Token": … (optional),
//! "Host": …, "HttpMethod": "GET"}` — the headers of a SigV4 `neptune-db` signature of an
//! empty-body `GET https://<host>:8182/opencypher`. We rebuild that request and run the same
//! verifier. Engines before 1.2.0.0 signed the URL without a path, so a signature over `/`
//! is accepted too. The `Host` is whatever the client signed (graph-notebook leaves out the
//! port); it is not compared with the connection's address.

use std::time::SystemTime;

use serde_json::Value;

use crate::config::IamConfig;
use crate::error::AuthError;
use crate::principal::Principal;
use crate::request::RequestParts;
use crate::sigv4::verify;

/// Longest credentials string considered; real ones are well under 4 KiB.
const MAX_CREDENTIALS_LEN: usize = 64 * 1024;

fn field<'v>(
    obj: &'v serde_json::Map<String, Value>,
    name: &str,
) -> Result<Option<&'v str>, AuthError> {
    let mut found = None;
    for (k, v) in obj {
        if k.eq_ignore_ascii_case(name) {
            if found.is_some() {
                return Err(bad(&format!("the {name} field appears twice")));
            }
            found = Some(
                v.as_str()
                    .ok_or_else(|| bad(&format!("the {name} field must be a string")))?,
            );
        }
    }
    Ok(found)
}

fn bad(msg: &str) -> AuthError {
    AuthError::IncompleteSignature(format!("Invalid IAM credentials for Bolt: {msg}."))
}

/// Verifies Bolt IAM credentials (the basic-auth `credentials` string) at time `now`.
pub fn verify_bolt_credentials(
    config: &IamConfig,
    credentials: &str,
    now: SystemTime,
) -> Result<Principal, AuthError> {
    if credentials.len() > MAX_CREDENTIALS_LEN {
        return Err(bad("too long"));
    }
    let doc: Value =
        serde_json::from_str(credentials).map_err(|_| bad("expected a JSON object"))?;
    let Value::Object(obj) = &doc else {
        return Err(bad("expected a JSON object"));
    };
    let authorization = field(obj, "Authorization")?.ok_or(AuthError::MissingAuthentication)?;
    let date = field(obj, "X-Amz-Date")?.ok_or_else(|| bad("X-Amz-Date is required"))?;
    let host = field(obj, "Host")?.ok_or_else(|| bad("Host is required"))?;
    let method = field(obj, "HttpMethod")?.unwrap_or("GET");
    let token = field(obj, "X-Amz-Security-Token")?;

    let mut headers: Vec<(&str, &[u8])> = vec![
        ("authorization", authorization.as_bytes()),
        ("host", host.as_bytes()),
        ("x-amz-date", date.as_bytes()),
    ];
    if let Some(token) = token {
        headers.push(("x-amz-security-token", token.as_bytes()));
    }
    let request = |path| RequestParts {
        method,
        path,
        query: None,
        headers: &headers,
        body: b"",
    };
    match verify(config, &request("/opencypher"), now) {
        Err(AuthError::SignatureMismatch) => verify(config, &request("/"), now),
        other => other,
    }
}
