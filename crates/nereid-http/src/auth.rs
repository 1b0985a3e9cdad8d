//! IAM authentication and authorization of requests (`--auth iam`), on top of `nereid-sigv4`.
//!
//! ```text
//! buffered request (method, raw path and query, headers, exact body bytes)
//!     │ authenticate: SigV4 signature, clock skew, session token   ─► AccessDeniedException
//!     ▼
//! Caller { principal, context: SecureTransport, SourceIp, now }
//!     │ Caller::require(actions of the operation, SPEC 6.1/6.3)   ─► AccessDeniedException
//!     ▼
//! the operation runs
//! ```
//!
//! The signature is checked before anything else looks at the request (an unsigned request to
//! an unknown route is refused like any other unsigned request, as AWS does). The actions are
//! checked per route once the operation is known; for a query, after parsing and before it is
//! queued, so a denied write never runs. With `--auth none` there is no caller and every
//! operation is allowed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use axum::http::request::Parts;
use nereid_common::Error;
use nereid_sigv4::{verify, Action, IamConfig, Principal, RequestContext, RequestParts};

/// The address of the peer of a connection, put in each request's extensions by
/// [`crate::serve`] (axum's `ConnectInfo`); it becomes `aws:SourceIp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub SocketAddr);

/// A caller whose signature has been verified, with the facts its policy's conditions see.
#[derive(Debug, Clone)]
pub struct Caller {
    config: Arc<IamConfig>,
    principal: Principal,
    context: RequestContext,
}

impl Caller {
    /// The verified principal.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// Allows the operation only if the policy allows every one of `actions`.
    pub fn require(&self, actions: &[Action]) -> Result<(), Error> {
        self.principal
            .authorize(&self.config, actions, &self.context)
            .map_err(|e| {
                tracing::info!(user = self.principal.name(), "denied: {e}");
                Error::from(e)
            })
    }
}

/// Checks that `parts` and `body` are signed by a known key. `secure_transport` says whether
/// the connection is TLS (`aws:SecureTransport`).
pub fn authenticate(
    config: &Arc<IamConfig>,
    parts: &Parts,
    body: &[u8],
    secure_transport: bool,
    peer: Option<Peer>,
) -> Result<Caller, Error> {
    let mut headers: Vec<(&str, &[u8])> = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect();
    // botocore always signs `host`; HTTP/2 carries it as the URI authority instead.
    let authority = parts.uri.authority().map(|a| a.as_str().to_owned());
    if !parts.headers.contains_key(axum::http::header::HOST) {
        if let Some(authority) = &authority {
            headers.push(("host", authority.as_bytes()));
        }
    }
    let request = RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &headers,
        body,
    };
    let now = SystemTime::now();
    let principal = verify(config, &request, now).map_err(|e| {
        tracing::info!(
            method = %parts.method,
            path = parts.uri.path(),
            peer = ?peer.map(|p| p.0),
            "authentication failed: {e}"
        );
        Error::from(e)
    })?;
    let mut context = RequestContext::opencypher(secure_transport, now);
    context.source_ip = peer.map(|p| p.0.ip());
    Ok(Caller {
        config: config.clone(),
        principal,
        context,
    })
}

/// Requires `actions` of the caller, if there is one (`--auth iam`).
pub fn require(caller: Option<&Caller>, actions: &[Action]) -> Result<(), Error> {
    caller.map_or(Ok(()), |c| c.require(actions))
}
