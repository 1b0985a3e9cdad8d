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
//!        actions of the operation (SPEC 6.1) / of the query (SPEC 6.3) ─► principal.authorize(&actions, &ctx)
//! ```
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

mod bolt;
mod config;
mod error;
pub mod policy;
mod principal;
mod request;
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
