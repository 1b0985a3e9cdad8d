//! Why a request was turned away. Every [`AuthError`] becomes Neptune's
//! `AccessDeniedException` (HTTP 403); the messages are AWS's own wording and say no more than
//! AWS does, so a caller probing with forged requests learns nothing AWS would not tell it.

use nereid_common::{Error, ErrorCode};

/// A failed authentication (bad or missing signature) or authorization (policy denial).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Neither an `Authorization` header nor presigned query parameters.
    #[error("Missing Authentication Token")]
    MissingAuthentication,
    /// The `Authorization` header or presigned parameters are malformed; the text says which
    /// element, as AWS's `IncompleteSignatureException` does.
    #[error("{0}")]
    IncompleteSignature(String),
    /// Both an `Authorization` header and `X-Amz-Algorithm` in the query.
    #[error("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")]
    AmbiguousAuthentication,
    /// Unknown access key id, or a session token that is missing, unexpected or wrong.
    #[error("The security token included in the request is invalid.")]
    InvalidToken,
    /// The signature does not match the request (wrong secret or an altered request).
    #[error("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")]
    SignatureMismatch,
    /// `X-Amz-Date` is more than five minutes in the past.
    #[error("Signature expired: {signed} is now earlier than {limit} ({now} - 5 min.)")]
    SignatureExpired {
        signed: String,
        limit: String,
        now: String,
    },
    /// `X-Amz-Date` is more than five minutes in the future.
    #[error("Signature not yet current: {signed} is still later than {limit} ({now} + 5 min.)")]
    SignatureNotYetCurrent {
        signed: String,
        limit: String,
        now: String,
    },
    /// A presigned URL used after `X-Amz-Date + X-Amz-Expires`.
    #[error("Request has expired")]
    RequestExpired,
    /// The credential scope names another service than `neptune-db`.
    #[error("Credential should be scoped to correct service: 'neptune-db'.")]
    WrongService,
    /// The credential scope names a region other than the configured one.
    #[error("Credential should be scoped to a valid region.")]
    WrongRegion,
    /// The credential scope date is not the date of `X-Amz-Date`.
    #[error("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope}' != '{date}', from '{amz_date}'.")]
    ScopeDateMismatch {
        scope: String,
        date: String,
        amz_date: String,
    },
    /// The policy does not allow the action (implicitly or by an explicit Deny).
    #[error(
        "User: {principal} is not authorized to perform: {action} on resource: {resource} {reason}"
    )]
    NotAuthorized {
        principal: String,
        action: String,
        resource: String,
        reason: &'static str,
    },
}

impl From<AuthError> for Error {
    fn from(e: AuthError) -> Self {
        Error::new(ErrorCode::AccessDenied, e.to_string())
    }
}

/// Why an IAM configuration file could not be used. Raised at startup, never per request.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read IAM config {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("IAM config is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A structural problem; the text names the user and element.
    #[error("IAM config: {0}")]
    Invalid(String),
    /// A policy document IAM itself would reject (`MalformedPolicyDocument`).
    #[error("IAM config: policy of user {user:?}: {message}")]
    Policy { user: String, message: String },
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::new(ErrorCode::InvalidParameter, e.to_string())
    }
}
