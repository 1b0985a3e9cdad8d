//! SigV4 request verification and `neptune-db` IAM policy evaluation — the security check
//! of `nereid serve --auth iam --iam-config FILE`. A pure library: no I/O except
//! [`IamConfig::load`], no HTTP framework.
//!
//! ```text
//!  IamConfig::load(FILE)            (users, keys, policies; checked at startup)
//!        │
//!  request ─► RequestParts ─► verify(&config, &parts, now) ─► Principal
//!  Bolt credentials JSON ─► verify_bolt_credentials(&config, text, now) ─┘   │
//!                                                                             ▼
//!        actions of the operation (SPEC 6.1) / of the query (SPEC 6.3) ─► principal.authorize(&config, &actions, &ctx)
//! ```
//!
//! [`sign`] is the other direction: it signs requests the bulk loader sends to an
//! S3-compatible endpoint, with the same canonical-request and key-derivation code.
//!
//! Every [`AuthError`] converts to a [`nereid_common::Error`] with
//! `ErrorCode::AccessDenied` (`AccessDeniedException`, 403) and AWS's wording.
//!
//! * [`sigv4`] recomputes the signature exactly as botocore makes it for `neptune-db` (path
//!   encoded a second time, sorted query, folded header values, SHA-256 of the exact body),
//!   from the `Authorization` header or presigned query parameters; the clock may be off by
//!   at most 5 minutes; session tokens must match; signatures compare in constant time.
//! * [`policy`] parses identity policies strictly (what IAM rejects is rejected at load) and
//!   evaluates them: explicit Deny wins, default deny, wildcards in actions and ARNs,
//!   `NotAction`/`NotResource`, every IAM condition operator.
//! * The resource a request acts on is `arn:aws:neptune-db:<region>:<account>:<cluster>/*`,
//!   with `<region>` the configured region (or the signed one when none is configured) and
//!   `<account>`/`<cluster>` from the config (defaults [`DEFAULT_ACCOUNT_ID`],
//!   [`DEFAULT_CLUSTER_RESOURCE_ID`]).
//!
//! # Wiring it into a server
//!
//! ```
//! use std::time::SystemTime;
//! use nereid_sigv4::{verify, Action, AuthError, IamConfig, RequestContext, RequestParts};
//!
//! let config = IamConfig::from_json(r#"{"region": "us-east-1", "users": [{"name": "app",
//!     "accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "secret", "sessionToken": null,
//!     "policy": {"Version": "2012-10-17", "Statement": [
//!         {"Effect": "Allow", "Action": "neptune-db:*", "Resource": "*"}]}}]}"#)?;
//!
//! // In a middleware: borrow the request as received (raw path and query, every header,
//! // the buffered body)…
//! let headers: Vec<(&str, &[u8])> = vec![("host", b"127.0.0.1:8182")];
//! let parts = RequestParts { method: "GET", path: "/status", query: None, headers: &headers, body: b"" };
//! // …verify the signature, then authorize the operation's actions (a query: the union its
//! // clauses need, known after parsing and before running it).
//! match verify(&config, &parts, SystemTime::now()) {
//!     Ok(principal) => principal.authorize(&config, &[Action::GetEngineStatus], &RequestContext::opencypher(false, SystemTime::now()))?,
//!     Err(e) => {
//!         assert_eq!(e, AuthError::MissingAuthentication);
//!         let coded: nereid_common::Error = e.into(); // AccessDeniedException, 403
//!         assert_eq!(coded.message, "Missing Authentication Token");
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Choices where AWS is silent or this crate differs
//!
//! * Unknown condition operators, unknown statement or policy elements, `Principal` in an
//!   identity policy, a missing `Resource`: the config is refused at load, as IAM refuses to
//!   store such a policy (`MalformedPolicyDocument`) — a statement is never silently ignored.
//! * A resource pattern with fewer than six ARN parts (other than `*`) matches nothing.
//! * Policy variables (`${aws:username}`) are not substituted; they match literally.
//! * `UNSIGNED-PAYLOAD` and streaming payload hashes are not accepted (botocore never uses
//!   them for `neptune-db`); a signed `x-amz-content-sha256` must equal the body's SHA-256.
//! * Only `X-Amz-Date` carries the signing time (not the HTTP `Date` header), as with botocore.

mod bolt;
mod config;
mod error;
pub mod policy;
mod principal;
mod request;
pub mod sign;
pub mod sigv4;
mod time;

pub use bolt::verify_bolt_credentials;
pub use config::{IamConfig, User, DEFAULT_ACCOUNT_ID, DEFAULT_CLUSTER_RESOURCE_ID};
pub use error::{AuthError, ConfigError};
pub use policy::action::{Action, QueryLanguage};
pub use policy::{Decision, Policy};
pub use principal::{Principal, RequestContext};
pub use request::RequestParts;
pub use sigv4::verify;
