//! SigV4 signing of outgoing requests: the client side of the same algorithm the verifier
//! checks, used by the bulk loader to call an S3-compatible endpoint.
//!
//! The caller gives the path already percent-encoded once, as it goes on the wire, and the
//! query as decoded pairs. S3 signs the path as sent (no second encoding, no dot-segment
//! normalisation — unlike `neptune-db`, see `sigv4/canonical.rs`), and the query as its
//! pairs encoded with SigV4's rules and sorted; [`Signed::query`] is that same string, so
//! the request carries exactly what was signed. Signed headers: `host`, `x-amz-content-sha256`
//! (S3 requires it), `x-amz-date` and, with temporary credentials, `x-amz-security-token`.

use std::time::SystemTime;

use crate::sigv4::canonical::uri_encode;
use crate::sigv4::parse::ALGORITHM;
use crate::sigv4::{hex, hmac_sha256, sha256_hex, signing_key};
use crate::time::{epoch_seconds, format_amz_date};

/// The SHA-256 of an empty payload, the `x-amz-content-sha256` of every GET.
pub const EMPTY_PAYLOAD_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// An access key pair, with the session token of temporary credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    // The secret and the token never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("session_token", &self.session_token.as_ref().map(|_| "…"))
            .finish_non_exhaustive()
    }
}

/// What to sign.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub method: &'a str,
    /// `host` or `host:port`, as the `Host` header will carry it.
    pub host: &'a str,
    /// The path as sent, percent-encoded once (see [`encode_path`]).
    pub path: &'a str,
    /// Query parameters, not encoded.
    pub query: &'a [(&'a str, &'a str)],
    /// Hex SHA-256 of the body ([`EMPTY_PAYLOAD_SHA256`] for none).
    pub payload_sha256: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

/// The result: the query string to send and the headers to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The canonical query string (empty for none), to put after `?` as is.
    pub query: String,
    /// `(name, value)` pairs: `x-amz-date`, `x-amz-content-sha256`, the session token if
    /// any, and `authorization`. `Host` is the caller's to send, with the value signed.
    pub headers: Vec<(&'static str, String)>,
}

/// Percent-encodes a path for the wire and for signing: every byte but `A-Z a-z 0-9 - . _ ~`
/// and `/` becomes `%XX`.
pub fn encode_path(path: &str) -> String {
    uri_encode(path.as_bytes(), true)
}

/// The query string of `pairs` in SigV4's canonical form: each name and value
/// percent-encoded (all but `A-Z a-z 0-9 - . _ ~`), sorted, joined with `&`. It is also what
/// an unsigned request sends.
pub fn canonical_query(pairs: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| {
            (
                uri_encode(k.as_bytes(), false),
                uri_encode(v.as_bytes(), false),
            )
        })
        .collect();
    pairs.sort_unstable();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Signs `req` with `creds` at `now`.
pub fn sign(req: &Request<'_>, creds: &Credentials, now: SystemTime) -> Signed {
    let amz_date = format_amz_date(epoch_seconds(now));
    let date = &amz_date[..8];
    let query = canonical_query(req.query);
    // Sorted by name, as SignedHeaders must be.
    let mut headers: Vec<(&'static str, String)> = vec![
        ("host", req.host.trim().to_string()),
        ("x-amz-content-sha256", req.payload_sha256.to_string()),
        ("x-amz-date", amz_date.clone()),
    ];
    if let Some(token) = &creds.session_token {
        headers.push(("x-amz-security-token", token.clone()));
    }
    let signed_headers = headers
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(";");
    let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let canonical_request = format!(
        "{}\n{}\n{query}\n{canonical_headers}\n{signed_headers}\n{}",
        req.method, req.path, req.payload_sha256
    );
    let scope = format!("{date}/{}/{}/aws4_request", req.region, req.service);
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let key = signing_key(&creds.secret_access_key, date, req.region, req.service);
    let signature = hex(&hmac_sha256(&key, string_to_sign.as_bytes()));
    headers.remove(0); // `host`: sent by the caller.
    headers.push((
        "authorization",
        format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            creds.access_key_id
        ),
    ));
    Signed { query, headers }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    /// The query and header layout S3 expects (the signature itself is checked against
    /// AWS's own signer in `tests/sign_s3.rs`).
    #[test]
    fn list_request_query_is_sorted_and_encoded_once() {
        let creds = Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        let now = UNIX_EPOCH + Duration::from_secs(1_369_353_600); // 2013-05-24T00:00:00Z
        let signed = sign(
            &Request {
                method: "GET",
                host: "examplebucket.s3.amazonaws.com",
                path: "/",
                query: &[("prefix", "J/a b"), ("max-keys", "2")],
                payload_sha256: EMPTY_PAYLOAD_SHA256,
                region: "us-east-1",
                service: "s3",
            },
            &creds,
            now,
        );
        assert_eq!(signed.query, "max-keys=2&prefix=J%2Fa%20b");
        let auth = &signed.headers.last().unwrap().1;
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature="), "{auth}");
        assert_eq!(signed.headers[1], ("x-amz-date", "20130524T000000Z".into()));
    }

    #[test]
    fn session_tokens_are_signed_and_secrets_never_printed() {
        let creds = Credentials {
            access_key_id: "ASIAX".into(),
            secret_access_key: "very-secret".into(),
            session_token: Some("tok".into()),
        };
        let signed = sign(
            &Request {
                method: "GET",
                host: "h:9000",
                path: &encode_path("/b/a key+x.csv"),
                query: &[],
                payload_sha256: EMPTY_PAYLOAD_SHA256,
                region: "eu-west-1",
                service: "s3",
            },
            &creds,
            SystemTime::now(),
        );
        assert_eq!(signed.query, "");
        assert!(signed
            .headers
            .iter()
            .any(|(n, v)| *n == "x-amz-security-token" && v == "tok"));
        assert!(signed
            .headers
            .last()
            .unwrap()
            .1
            .contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token"));
        assert_eq!(encode_path("/b/a key+x.csv"), "/b/a%20key%2Bx.csv");
        let shown = format!("{creds:?}");
        assert!(
            !shown.contains("very-secret") && !shown.contains("tok\""),
            "{shown}"
        );
    }
}
