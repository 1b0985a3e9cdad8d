//! SigV4 verification: recompute the signature of the request as received and compare it,
//! in constant time, with the one it carries.
//!
//! Two forms are accepted, as on AWS: the `Authorization` header (botocore's form for every
//! `neptunedata` call) and query-string presigning (`X-Amz-Algorithm`, `X-Amz-Credential`,
//! `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Signature`, optional
//! `X-Amz-Security-Token`). The steps, in order: parse the elements; check the credential
//! scope (service `neptune-db`, the configured region if any, the date of `X-Amz-Date`);
//! check the clock (header form: within 5 minutes either way; presigned: not more than 5
//! minutes early and not past `X-Amz-Expires`); find the access key; check the session token;
//! if `x-amz-content-sha256` is signed, check it is the SHA-256 of the body; then compare the
//! signature over the canonical request (see `canonical.rs`). The payload hash is always the
//! SHA-256 of the exact body bytes, so a body altered after signing is caught.

pub(crate) mod canonical;
pub(crate) mod parse;

use std::time::SystemTime;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{IamConfig, User};
use crate::error::AuthError;
use crate::principal::Principal;
use crate::request::RequestParts;
use crate::time::{epoch_seconds, format_amz_date, parse_amz_date};
use canonical::{canonical_header_blocks, canonical_queries, canonical_uris};
use parse::{parse_authorization, parse_credential, parse_signed_headers, ALGORITHM};

/// The signing name of the Neptune data plane.
pub const SERVICE: &str = "neptune-db";
/// How far `X-Amz-Date` may be from the server clock, in seconds (AWS: 5 minutes).
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;
/// The longest `X-Amz-Expires` AWS accepts for a presigned URL (7 days).
pub const MAX_PRESIGN_EXPIRES_SECS: i64 = 604_800;

/// The signature elements of a request, whichever form carried them.
struct Elements {
    credential: String,
    signed_headers: String,
    signature: String,
    amz_date: String,
    token: Option<String>,
    /// `Some(seconds)` for a presigned URL.
    expires: Option<i64>,
}

fn incomplete(msg: &str) -> AuthError {
    AuthError::IncompleteSignature(msg.to_string())
}

fn header_text<'a>(req: &RequestParts<'a>, name: &str) -> Result<Option<&'a str>, AuthError> {
    match req.single_header(name) {
        Ok(None) => Ok(None),
        Ok(Some(v)) => std::str::from_utf8(v)
            .map(Some)
            .map_err(|_| incomplete(&format!("The {name} header is not valid text."))),
        Err(()) => Err(incomplete(&format!(
            "The {name} header must appear only once."
        ))),
    }
}

fn query_text(req: &RequestParts<'_>, name: &str) -> Result<Option<String>, AuthError> {
    req.query_param(name).map_err(|_| {
        incomplete(&format!(
            "The {name} query parameter must appear only once."
        ))
    })
}

fn extract(req: &RequestParts<'_>) -> Result<Elements, AuthError> {
    let authorization = header_text(req, "authorization")?;
    let algorithm = query_text(req, "X-Amz-Algorithm")?;
    match (authorization, algorithm) {
        (Some(_), Some(_)) => Err(AuthError::AmbiguousAuthentication),
        (None, None) => Err(AuthError::MissingAuthentication),
        (Some(value), None) => {
            let h = parse_authorization(value)?;
            let amz_date = header_text(req, "x-amz-date")?.ok_or_else(|| {
                incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
            })?;
            Ok(Elements {
                credential: h.credential.to_string(),
                signed_headers: h.signed_headers.to_string(),
                signature: h.signature.to_string(),
                amz_date: amz_date.to_string(),
                token: header_text(req, "x-amz-security-token")?.map(str::to_string),
                expires: None,
            })
        }
        (None, Some(algorithm)) => {
            if algorithm != ALGORITHM {
                return Err(incomplete(
                    "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
                ));
            }
            let required = |name: &str| -> Result<String, AuthError> {
                query_text(req, name)?.ok_or_else(|| {
                    incomplete(&format!("AWS query-string parameters must include '{name}'. Re-examine the query-string parameters."))
                })
            };
            let expires_text = required("X-Amz-Expires")?;
            let expires = expires_text
                .parse::<i64>()
                .ok()
                .filter(|e| (1..=MAX_PRESIGN_EXPIRES_SECS).contains(e))
                .ok_or_else(|| {
                    incomplete("X-Amz-Expires must be a positive number of seconds no greater than 604800 (one week).")
                })?;
            Ok(Elements {
                credential: required("X-Amz-Credential")?,
                signed_headers: required("X-Amz-SignedHeaders")?,
                signature: required("X-Amz-Signature")?,
                amz_date: required("X-Amz-Date")?,
                token: query_text(req, "X-Amz-Security-Token")?,
                expires: Some(expires),
            })
        }
    }
}

fn check_clock(
    amz_date: &str,
    signed: i64,
    now: i64,
    expires: Option<i64>,
) -> Result<(), AuthError> {
    // Saturating: `now` comes from the host clock, which may be absurd.
    let (earliest, latest) = (
        now.saturating_sub(MAX_CLOCK_SKEW_SECS),
        now.saturating_add(MAX_CLOCK_SKEW_SECS),
    );
    if signed > latest {
        return Err(AuthError::SignatureNotYetCurrent {
            signed: amz_date.to_string(),
            limit: format_amz_date(latest),
            now: format_amz_date(now),
        });
    }
    match expires {
        Some(expires) if now > signed.saturating_add(expires) => Err(AuthError::RequestExpired),
        Some(_) => Ok(()),
        None if signed < earliest => Err(AuthError::SignatureExpired {
            signed: amz_date.to_string(),
            limit: format_amz_date(earliest),
            now: format_amz_date(now),
        }),
        None => Ok(()),
    }
}

pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so construction cannot fail; a zero key would only
    // produce a signature no client can match.
    match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0; 32],
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// The SigV4 signing key for a secret and scope.
pub(crate) fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// Verifies the SigV4 signature of `req` against `config` at time `now`.
///
/// On success returns the [`Principal`] whose key signed the request; authorize it with
/// [`Principal::authorize`]. Every failure is an [`AuthError`] (→ `AccessDeniedException`).
pub fn verify(
    config: &IamConfig,
    req: &RequestParts<'_>,
    now: SystemTime,
) -> Result<Principal, AuthError> {
    let el = extract(req)?;
    let scope = parse_credential(&el.credential)?;
    if scope.service != SERVICE {
        return Err(AuthError::WrongService);
    }
    if config.region().is_some_and(|r| r != scope.region) {
        return Err(AuthError::WrongRegion);
    }
    let signed = parse_amz_date(&el.amz_date).ok_or_else(|| {
        incomplete("Date must be in ISO-8601 'basic format'. Got an invalid value for X-Amz-Date.")
    })?;
    if !el.amz_date.starts_with(scope.date) {
        return Err(AuthError::ScopeDateMismatch {
            scope: scope.date.to_string(),
            date: el.amz_date.get(..8).unwrap_or_default().to_string(),
            amz_date: el.amz_date.clone(),
        });
    }
    let signed_headers = parse_signed_headers(&el.signed_headers)?;
    check_clock(&el.amz_date, signed, epoch_seconds(now), el.expires)?;

    let user = config
        .user_by_access_key(scope.access_key_id)
        .ok_or(AuthError::InvalidToken)?;
    check_token(user, el.token.as_deref())?;

    let payload_hash = sha256_hex(req.body);
    if signed_headers.contains(&"x-amz-content-sha256") {
        let declared = header_text(req, "x-amz-content-sha256")?.unwrap_or_default();
        if !bool::from(declared.as_bytes().ct_eq(payload_hash.as_bytes())) {
            return Err(AuthError::SignatureMismatch);
        }
    }

    let values_of = |name: &str| req.header_values(name);
    let header_blocks =
        canonical_header_blocks(&signed_headers, &values_of).ok_or(AuthError::SignatureMismatch)?;
    let exclude = el.expires.map(|_| "X-Amz-Signature");
    let queries = canonical_queries(req.query, exclude);
    let uris = canonical_uris(req.path);

    let key = signing_key(
        user.secret_access_key(),
        scope.date,
        scope.region,
        scope.service,
    );
    let scope_text = scope.scope();
    let mut matched = subtle::Choice::from(0);
    for uri in &uris {
        for query in &queries {
            for headers in &header_blocks {
                let canonical_request = format!(
                    "{}\n{uri}\n{query}\n{headers}\n{}\n{payload_hash}",
                    req.method, el.signed_headers
                );
                let string_to_sign = format!(
                    "{ALGORITHM}\n{}\n{scope_text}\n{}",
                    el.amz_date,
                    sha256_hex(canonical_request.as_bytes())
                );
                let expected = hex(&hmac_sha256(&key, string_to_sign.as_bytes()));
                matched |= expected.as_bytes().ct_eq(el.signature.as_bytes());
            }
        }
    }
    if !bool::from(matched) {
        return Err(AuthError::SignatureMismatch);
    }
    Ok(Principal::new(user, scope.region.to_string()))
}

/// A key with a session token must present it; a key without one must not present any.
fn check_token(user: &User, presented: Option<&str>) -> Result<(), AuthError> {
    match (user.session_token(), presented) {
        (None, None) => Ok(()),
        (Some(expected), Some(given))
            if bool::from(expected.as_bytes().ct_eq(given.as_bytes())) =>
        {
            Ok(())
        }
        _ => Err(AuthError::InvalidToken),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of AWS's SigV4 documentation ("GET https://iam.amazonaws.com/
    /// ?Action=ListUsers&Version=2010-05-08"), signed for `iam`: checks the key derivation,
    /// string to sign and canonical request layout independently of any SDK.
    #[test]
    fn aws_documentation_example_signature() {
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex(&key),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
        let creq = "GET\n/\nAction=ListUsers&Version=2010-05-08\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\nhost:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(
            sha256_hex(creq.as_bytes()),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
        let sts = format!(
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n{}",
            sha256_hex(creq.as_bytes())
        );
        assert_eq!(
            hex(&hmac_sha256(&key, sts.as_bytes())),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    #[test]
    fn clock_rules() {
        let t = 1_795_644_626;
        assert!(check_clock("d", t, t + 300, None).is_ok());
        assert!(matches!(
            check_clock("d", t, t + 301, None),
            Err(AuthError::SignatureExpired { .. })
        ));
        assert!(check_clock("d", t, t - 300, None).is_ok());
        assert!(matches!(
            check_clock("d", t, t - 301, None),
            Err(AuthError::SignatureNotYetCurrent { .. })
        ));
        assert!(check_clock("d", t, t + 3600, Some(3600)).is_ok());
        assert_eq!(
            check_clock("d", t, t + 3601, Some(3600)),
            Err(AuthError::RequestExpired)
        );
        assert!(matches!(
            check_clock("d", t, t - 301, Some(3600)),
            Err(AuthError::SignatureNotYetCurrent { .. })
        ));
    }
}
