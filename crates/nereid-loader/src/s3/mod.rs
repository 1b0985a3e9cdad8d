//! Loading from an S3-compatible endpoint (MinIO, LocalStack, moto, Ceph, …) configured with
//! `--s3-endpoint`: `source: "s3://bucket/prefix"` names every object whose key starts with
//! the prefix, as Neptune's loader does (the prefix of ListObjectsV2).
//!
//! ```text
//!  s3://bucket/prefix ─ S3Location::parse ─► S3Client::list: GET /bucket?list-type=2&prefix=…
//!        (path-style, SigV4-signed, NextContinuationToken until the last page) ─► keys, sorted
//!  each key ─ S3Client::get: GET /bucket/key ─► Body (std::io::Read, gzip-decoded if *.gz)
//!        ─► the same FileReader as a local file
//! ```
//!
//! * Requests are signed with SigV4 (`nereid_sigv4::sign`) with the server's
//!   `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, for the request's
//!   `region` or else `AWS_REGION` (else `us-east-1`). Without a key pair the requests go
//!   unsigned (a public bucket, an endpoint without authentication).
//! * Keys are loaded in byte order (S3's listing order), skipping "folder" placeholders (keys
//!   ending in `/`) and hidden names (a path component starting with `.` below the prefix),
//!   as the local source rules skip hidden files.
//! * Every failure is an [`S3Error`] with the Neptune feed status it maps to
//!   (`LOAD_S3_ACCESS_DENIED_ERROR`, `LOAD_S3_READ_ERROR`,
//!   `LOAD_DATA_FAILED_DUE_TO_FEED_MODIFIED_OR_DELETED`) and a message that says what to fix.
//!   Connecting, each response and each read of a body time out (`--s3-timeout-secs`).
//! * `https://` endpoints are verified against a CA bundle: `AWS_CA_BUNDLE`, else
//!   `SSL_CERT_FILE`, else the system's ([`SYSTEM_CA_BUNDLE`]).

mod http;
mod xml;

use std::io;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

use nereid_sigv4::sign::{self, Credentials, Request, EMPTY_PAYLOAD_SHA256};

/// The largest listing a load takes (Neptune has no documented cap; this bounds memory).
pub const MAX_OBJECTS: usize = 1_000_000;
/// An XML answer larger than this is not an S3 answer.
const MAX_XML_BYTES: usize = 16 << 20;
/// The region signed when neither the request nor `AWS_REGION` gives one.
pub const DEFAULT_REGION: &str = "us-east-1";
/// The CA bundle of Debian and its derivatives, when no other is named.
pub const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// `--s3-timeout-secs` default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Feed statuses of S3 failures (Neptune's names).
pub const ACCESS_DENIED: &str = "LOAD_S3_ACCESS_DENIED_ERROR";
pub const READ_ERROR: &str = "LOAD_S3_READ_ERROR";
pub const FEED_DELETED: &str = "LOAD_DATA_FAILED_DUE_TO_FEED_MODIFIED_OR_DELETED";

/// The configured endpoint.
#[derive(Clone)]
pub struct S3Config {
    /// The endpoint as given (for messages).
    pub endpoint: String,
    host: String,
    port: Option<u16>,
    /// A path the endpoint is served under (`http://h/s3` → `/s3`), without a trailing `/`.
    base_path: String,
    pub credentials: Option<Credentials>,
    /// The region signed when the request names none.
    pub region: String,
    pub timeout: Duration,
    /// For an `https://` endpoint: the TLS configuration and the certificate's name.
    tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("credentials", &self.credentials)
            .field("region", &self.region)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A TLS client configuration trusting the certificates of the PEM file `ca`.
fn tls_config(ca: &Path) -> Result<Arc<rustls::ClientConfig>, String> {
    let certs = CertificateDer::pem_file_iter(ca)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read the CA bundle {}: {e}", ca.display()))?;
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(format!(
            "the CA bundle {} holds no usable certificate",
            ca.display()
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

impl S3Config {
    /// Checks the endpoint URL (`http://host[:port][/path]` or `https://…`, whose
    /// certificate is checked against the PEM bundle `ca`, default [`SYSTEM_CA_BUNDLE`]).
    pub fn new(
        endpoint: &str,
        credentials: Option<Credentials>,
        region: Option<String>,
        timeout: Duration,
        ca: Option<&Path>,
    ) -> Result<S3Config, String> {
        let bad = |why: &str| format!("--s3-endpoint '{endpoint}': {why}");
        let trimmed = endpoint.trim();
        let lower = trimmed.to_ascii_lowercase();
        let (rest, https) = if lower.starts_with("http://") {
            (&trimmed[7..], false)
        } else if lower.starts_with("https://") {
            (&trimmed[8..], true)
        } else {
            return Err(bad("expected http://host[:port] or https://host[:port]"));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.is_empty() || authority.contains('@') || path.contains(['?', '#']) {
            return Err(bad("expected http://host[:port][/path]"));
        }
        // `[v6]:port`, `host:port` or a bare host.
        let (host, port) = match authority.rfind(':') {
            Some(i) if !authority[i..].contains(']') => {
                let port: u16 = authority[i + 1..]
                    .parse()
                    .map_err(|_| bad("the port is not a number from 1 to 65535"))?;
                (&authority[..i], Some(port))
            }
            _ => (authority, None),
        };
        if host.is_empty() || port == Some(0) {
            return Err(bad("expected http://host[:port]"));
        }
        let tls = if https {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            let name = ServerName::try_from(bare.to_string()).map_err(|e| {
                bad(&format!(
                    "'{bare}' cannot be checked against a certificate: {e}"
                ))
            })?;
            let ca = ca.unwrap_or(Path::new(SYSTEM_CA_BUNDLE));
            Some((tls_config(ca).map_err(|e| bad(&e))?, name))
        } else {
            None
        };
        Ok(S3Config {
            endpoint: trimmed.to_string(),
            host: host.to_string(),
            port,
            base_path: path.trim_end_matches('/').to_string(),
            credentials,
            region: region
                .filter(|r| !r.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_REGION.to_string()),
            timeout,
            tls,
        })
    }

    /// [`S3Config::new`] with the credentials and region of the process environment:
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` (or
    /// `AWS_DEFAULT_REGION`), and for `https://` the CA bundle `AWS_CA_BUNDLE` or
    /// `SSL_CERT_FILE`. A key id without a secret (or the reverse) is an error.
    pub fn from_env(endpoint: &str, timeout: Duration) -> Result<S3Config, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let credentials = match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            (Some(access_key_id), Some(secret_access_key)) => Some(Credentials {
                access_key_id,
                secret_access_key,
                session_token: var("AWS_SESSION_TOKEN"),
            }),
            (None, None) => None,
            _ => {
                return Err(
                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together (or neither, for unsigned S3 requests)"
                        .into(),
                )
            }
        };
        let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"));
        let ca = var("AWS_CA_BUNDLE").or_else(|| var("SSL_CERT_FILE"));
        S3Config::new(
            endpoint,
            credentials,
            region,
            timeout,
            ca.as_deref().map(Path::new),
        )
    }
}

/// A bucket and key prefix, from `s3://bucket/prefix` (or Neptune's other accepted forms,
/// `https://s3.amazonaws.com/bucket/prefix` and `https://s3.<region>.amazonaws.com/…`, which
/// are read from the configured endpoint all the same).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    pub prefix: String,
}

impl S3Location {
    /// `None` if `source` is not an S3 URI; else the location, or why it is malformed.
    pub fn parse(source: &str) -> Option<Result<S3Location, String>> {
        let lower = source.to_ascii_lowercase();
        let rest = if lower.starts_with("s3://") {
            &source[5..]
        } else if let Some(r) = ["https://", "http://"]
            .iter()
            .find(|p| lower.starts_with(*p))
            .map(|p| &source[p.len()..])
        {
            let (host, path) = r.split_once('/').unwrap_or((r, ""));
            let host = host.to_ascii_lowercase();
            let aws = host == "s3.amazonaws.com"
                || (host.starts_with("s3.") && host.ends_with(".amazonaws.com"));
            if !aws {
                return None;
            }
            path
        } else {
            return None;
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        Some(if bucket.is_empty() {
            Err(format!(
                "source '{source}' names no bucket: expected s3://bucket/prefix"
            ))
        } else if !bucket.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'_')
        }) {
            Err(format!(
                "source '{source}': '{bucket}' is not a bucket name (lower-case letters, digits, '.', '-')"
            ))
        } else {
            Ok(S3Location {
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
            })
        })
    }

    /// `s3://bucket/prefix`.
    pub fn uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
}

/// `s3://bucket/key` of one object.
pub fn object_uri(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

/// An S3 call that failed, with the Neptune feed status it maps to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct S3Error {
    /// [`ACCESS_DENIED`], [`READ_ERROR`] or [`FEED_DELETED`].
    pub status: &'static str,
    pub message: String,
}

/// A client for one job: the endpoint, the credentials and the region to sign for.
#[derive(Debug, Clone)]
pub struct S3Client {
    config: S3Config,
    http: http::Client,
    region: String,
}

/// An object's bytes, read as they arrive.
pub struct ObjectBody(http::Body);

impl io::Read for ObjectBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::TimedOut {
                io::Error::new(
                    e.kind(),
                    format!("{e} (the S3 endpoint stopped sending; --s3-timeout-secs)"),
                )
            } else {
                e
            }
        })
    }
}

impl S3Client {
    /// `region`: the request's, if it named one.
    pub fn new(config: &S3Config, region: Option<&str>) -> S3Client {
        S3Client {
            http: http::Client::new(
                &config.host,
                config.port,
                config.timeout,
                config.tls.clone(),
            ),
            region: region
                .filter(|r| !r.trim().is_empty())
                .unwrap_or(&config.region)
                .to_string(),
            config: config.clone(),
        }
    }

    /// The same client, every wait of it (connecting, each response, each read of a body)
    /// ended within 50 ms once `cancel` is set, with an error whose message says the load
    /// was cancelled: a job's cancel does not wait out a stalled endpoint's timeout.
    pub fn watching(mut self, cancel: Arc<AtomicBool>) -> S3Client {
        self.http = self.http.watching(cancel);
        self
    }

    /// The objects under `loc`, in key order (see the module docs for what is skipped).
    pub fn list(&self, loc: &S3Location) -> Result<Vec<(String, u64)>, S3Error> {
        let mut objects = Vec::new();
        let mut token: Option<String> = None;
        let path = format!("{}/{}", self.config.base_path, loc.bucket);
        loop {
            let mut query: Vec<(&str, &str)> = vec![("list-type", "2"), ("prefix", &loc.prefix)];
            if let Some(t) = &token {
                query.push(("continuation-token", t));
            }
            let what = format!("listing {}", loc.uri());
            let mut response = self.send(&path, &query, &what)?;
            let body = response
                .body
                .read_limited(MAX_XML_BYTES)
                .map_err(|e| self.io_error(&what, &e))?;
            if response.status != 200 {
                return Err(self.status_error(&what, response.status, &body, Some(&loc.bucket)));
            }
            let text = String::from_utf8_lossy(&body);
            let page = xml::list_page(&text).map_err(|e| S3Error {
                status: READ_ERROR,
                message: format!(
                    "{what} at {}: the answer is not an S3 listing ({e}); is --s3-endpoint an S3 endpoint?",
                    self.config.endpoint
                ),
            })?;
            objects.extend(
                page.objects
                    .into_iter()
                    .filter(|(k, _)| keep(&loc.prefix, k)),
            );
            if objects.len() > MAX_OBJECTS {
                return Err(S3Error {
                    status: READ_ERROR,
                    message: format!(
                        "{} names more than {MAX_OBJECTS} objects; load it in parts (narrower prefixes)",
                        loc.uri()
                    ),
                });
            }
            match page.next {
                Some(t) if Some(&t) != token.as_ref() => token = Some(t),
                Some(_) => {
                    return Err(S3Error {
                        status: READ_ERROR,
                        message: format!(
                            "{what} at {}: the endpoint returned the same continuation token twice",
                            self.config.endpoint
                        ),
                    })
                }
                None => break,
            }
        }
        objects.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        objects.dedup_by(|a, b| a.0 == b.0);
        Ok(objects)
    }

    /// Starts reading `bucket/key`.
    pub fn get(&self, bucket: &str, key: &str) -> Result<ObjectBody, S3Error> {
        let path = format!("{}/{bucket}/{key}", self.config.base_path);
        let what = format!("reading {}", object_uri(bucket, key));
        let mut response = self.send(&path, &[], &what)?;
        if response.status != 200 {
            let body = response
                .body
                .read_limited(MAX_XML_BYTES)
                .unwrap_or_default();
            return Err(self.status_error(&what, response.status, &body, Some(bucket)));
        }
        Ok(ObjectBody(response.body))
    }

    fn send(
        &self,
        path: &str,
        query: &[(&str, &str)],
        what: &str,
    ) -> Result<http::Response, S3Error> {
        let wire_path = sign::encode_path(path);
        let (query_text, headers) = match &self.config.credentials {
            Some(creds) => {
                let signed = sign::sign(
                    &Request {
                        method: "GET",
                        host: &self.http.host_header,
                        path: &wire_path,
                        query,
                        payload_sha256: EMPTY_PAYLOAD_SHA256,
                        region: &self.region,
                        service: "s3",
                    },
                    creds,
                    SystemTime::now(),
                );
                (signed.query, signed.headers)
            }
            None => (sign::canonical_query(query), Vec::new()),
        };
        let target = if query_text.is_empty() {
            wire_path
        } else {
            format!("{wire_path}?{query_text}")
        };
        self.http
            .get(&target, &headers)
            .map_err(|e| self.io_error(what, &e))
    }

    fn io_error(&self, what: &str, e: &io::Error) -> S3Error {
        let hint = match e.kind() {
            io::ErrorKind::ConnectionRefused => {
                " (connection refused: is the S3 endpoint running? check --s3-endpoint / NEREID_S3_ENDPOINT)"
            }
            io::ErrorKind::TimedOut => {
                " (the endpoint did not answer in time: check it, or raise --s3-timeout-secs)"
            }
            _ => "",
        };
        S3Error {
            status: READ_ERROR,
            message: format!("{what} at {}: {e}{hint}", self.config.endpoint),
        }
    }

    fn status_error(&self, what: &str, status: u16, body: &[u8], bucket: Option<&str>) -> S3Error {
        let parsed = xml::error_body(&String::from_utf8_lossy(body)).unwrap_or_default();
        let code = parsed.code.as_str();
        let said = if parsed.code.is_empty() {
            format!("HTTP {status}")
        } else if parsed.message.is_empty() {
            format!("HTTP {status} {code}")
        } else {
            format!("HTTP {status} {code}: {}", parsed.message)
        };
        let key_id = self
            .config
            .credentials
            .as_ref()
            .map_or("(none: requests are unsigned)".to_string(), |c| {
                c.access_key_id.clone()
            });
        let (feed, hint) = match code {
            "NoSuchBucket" => (
                READ_ERROR,
                format!(
                    "bucket '{}' does not exist at this endpoint: create it or correct the source",
                    bucket.unwrap_or("")
                ),
            ),
            "NoSuchKey" => (
                FEED_DELETED,
                "the object was listed but is gone: it was deleted or renamed during the load".into(),
            ),
            "InvalidAccessKeyId" => (
                ACCESS_DENIED,
                format!("the endpoint does not know the access key id {key_id} (AWS_ACCESS_KEY_ID of the nereid server)"),
            ),
            "SignatureDoesNotMatch" => (
                ACCESS_DENIED,
                format!(
                    "the signature was refused: check AWS_SECRET_ACCESS_KEY for key {key_id}, and the region signed ({}; the request's region or AWS_REGION)",
                    self.region
                ),
            ),
            "ExpiredToken" | "InvalidToken" | "TokenRefreshRequired" => (
                ACCESS_DENIED,
                "the session token (AWS_SESSION_TOKEN of the nereid server) is expired or invalid".into(),
            ),
            "AuthorizationHeaderMalformed" => (
                ACCESS_DENIED,
                format!("the endpoint refused the signing scope (region {}): set the request's region or AWS_REGION to the bucket's region", self.region),
            ),
            _ if status == 403 || code == "AccessDenied" => (
                ACCESS_DENIED,
                format!("access denied for key {key_id}: grant it s3:ListBucket and s3:GetObject on the bucket, or set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN of the nereid server"),
            ),
            _ if status == 404 => (
                READ_ERROR,
                "not found: check the bucket name and that --s3-endpoint is the S3 endpoint (path-style addressing is used)".into(),
            ),
            _ if status >= 500 => (
                READ_ERROR,
                "the endpoint failed: try the load again (mode RESUME continues it)".into(),
            ),
            _ => (READ_ERROR, "the endpoint refused the request".into()),
        };
        S3Error {
            status: feed,
            message: format!("{what} at {}: {said}; {hint}", self.config.endpoint),
        }
    }
}

/// Whether a listed key is loaded: not a folder placeholder, no hidden name below the prefix.
fn keep(prefix: &str, key: &str) -> bool {
    if key.ends_with('/') {
        return false;
    }
    let rest = key.strip_prefix(prefix).unwrap_or(key);
    let mut parts = rest.split('/');
    // Unless the prefix ends at a `/`, the first part finishes a name the prefix began,
    // and the user named that beginning.
    if !(prefix.is_empty() || prefix.ends_with('/')) {
        parts.next();
    }
    !parts.any(|p| p.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_in_neptunes_forms_are_parsed() {
        let loc = |s: &str| S3Location::parse(s).unwrap().unwrap();
        assert_eq!(
            loc("s3://bucket/data/part"),
            S3Location {
                bucket: "bucket".into(),
                prefix: "data/part".into()
            }
        );
        assert_eq!(loc("S3://b").prefix, "");
        assert_eq!(loc("https://s3.amazonaws.com/b/k.csv").prefix, "k.csv");
        assert_eq!(loc("https://s3.eu-west-1.amazonaws.com/b/x/").bucket, "b");
        assert!(S3Location::parse("/data/x.csv").is_none());
        assert!(S3Location::parse("file:///data").is_none());
        assert!(S3Location::parse("https://example.com/b/k").is_none());
        assert!(S3Location::parse("s3:///k").unwrap().is_err());
        assert!(S3Location::parse("s3://Bad_Bucket!/k").unwrap().is_err());
        assert_eq!(loc("s3://b/a b").uri(), "s3://b/a b");
    }

    #[test]
    fn endpoints_are_checked() {
        let ok = |e: &str| S3Config::new(e, None, None, DEFAULT_TIMEOUT, None).unwrap();
        let c = ok("http://127.0.0.1:9000");
        assert_eq!(
            (c.host.as_str(), c.port, c.base_path.as_str()),
            ("127.0.0.1", Some(9000), "")
        );
        let c = ok("http://minio.local/s3/");
        assert_eq!(
            (c.host.as_str(), c.port, c.base_path.as_str()),
            ("minio.local", None, "/s3")
        );
        let c = ok("http://[::1]:9000");
        assert_eq!((c.host.as_str(), c.port), ("[::1]", Some(9000)));
        assert_eq!(c.region, DEFAULT_REGION);
        for bad in [
            "ftp://x",
            "http://",
            "http://h:0",
            "http://h:x",
            "http://u@h",
            "http://h/?q",
        ] {
            let e = S3Config::new(bad, None, None, DEFAULT_TIMEOUT, None).unwrap_err();
            assert!(e.contains("--s3-endpoint"), "{bad}: {e}");
        }
        let e = S3Config::new(
            "https://minio.local",
            None,
            None,
            DEFAULT_TIMEOUT,
            Some(Path::new("/no/such/ca.pem")),
        )
        .unwrap_err();
        assert!(
            e.contains("cannot read the CA bundle /no/such/ca.pem"),
            "{e}"
        );
    }

    #[test]
    fn placeholders_and_hidden_names_are_skipped() {
        assert!(keep("data/", "data/nodes.csv"));
        assert!(!keep("data/", "data/sub/"));
        assert!(!keep("data/", "data/.hidden.csv"));
        assert!(!keep("data/", "data/.git/x.csv"));
        assert!(keep("data/part", "data/part-2/x.csv"));
        assert!(keep("data/.p", "data/.part.csv"), "the user named it");
        assert!(!keep("", ".x/y.csv"));
        assert!(keep("", "y.csv"));
    }
}
