//! Parsing the signature elements: the `Authorization` header
//! (`AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/neptune-db/aws4_request,
//! SignedHeaders=host;x-amz-date, Signature=<64 hex>`) and the credential scope. These parsers
//! see attacker-controlled bytes first, so they are total: every input yields a value or an
//! [`AuthError`], never a panic, and allocate at most in proportion to the input.

use crate::error::AuthError;

pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The most headers a signature may cover.
pub(crate) const MAX_SIGNED_HEADERS: usize = 64;

/// The three elements of a SigV4 `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthorizationHeader<'a> {
    pub credential: &'a str,
    pub signed_headers: &'a str,
    pub signature: &'a str,
}

fn incomplete(msg: &str) -> AuthError {
    AuthError::IncompleteSignature(msg.to_string())
}

/// Parses an `Authorization` header value. Elements may come in any order, separated by `,`
/// with optional whitespace, as AWS accepts; each must appear exactly once.
pub(crate) fn parse_authorization(value: &str) -> Result<AuthorizationHeader<'_>, AuthError> {
    let value = value.trim();
    let rest = match value.split_once(|c: char| c.is_ascii_whitespace()) {
        Some((alg, rest)) if alg == ALGORITHM => rest,
        _ => return Err(incomplete("Unsupported Authorization Type")),
    };
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for element in rest.split(',') {
        let element = element.trim();
        if element.is_empty() {
            continue;
        }
        let Some((name, val)) = element.split_once('=') else {
            return Err(incomplete(&format!(
                "Authorization header requires each component to be of the form name=value (found '{}')",
                truncate(element)
            )));
        };
        let slot = match name.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => {
                return Err(incomplete(
                    "Authorization header contains an unknown component",
                ))
            }
        };
        if slot.replace(val.trim()).is_some() {
            return Err(incomplete(
                "Authorization header contains a duplicated component",
            ));
        }
    }
    match (credential, signed_headers, signature) {
        (Some(credential), Some(signed_headers), Some(signature)) => Ok(AuthorizationHeader {
            credential,
            signed_headers,
            signature,
        }),
        (None, _, _) => Err(incomplete(
            "Authorization header requires 'Credential' parameter.",
        )),
        (_, None, _) => Err(incomplete(
            "Authorization header requires 'SignedHeaders' parameter.",
        )),
        (_, _, None) => Err(incomplete(
            "Authorization header requires 'Signature' parameter.",
        )),
    }
}

/// Keeps echoed client text short in messages.
fn truncate(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// `AKID/YYYYMMDD/region/service/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CredentialScope<'a> {
    pub access_key_id: &'a str,
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

impl CredentialScope<'_> {
    /// The scope as it appears in the string to sign (without the key id).
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

pub(crate) fn parse_credential(value: &str) -> Result<CredentialScope<'_>, AuthError> {
    let parts: Vec<&str> = value.splitn(6, '/').collect();
    let [access_key_id, date, region, service, terminator] = parts.as_slice() else {
        return Err(incomplete(
            "Credential should be scoped to a valid region, service and terminator: AKID/YYYYMMDD/region/service/aws4_request.",
        ));
    };
    if *terminator != "aws4_request" {
        return Err(incomplete(&format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'.",
            truncate(terminator)
        )));
    }
    if access_key_id.is_empty()
        || date.len() != 8
        || !date.bytes().all(|b| b.is_ascii_digit())
        || region.is_empty()
    {
        return Err(incomplete("Credential should be scoped to a valid region, service and terminator: AKID/YYYYMMDD/region/service/aws4_request."));
    }
    Ok(CredentialScope {
        access_key_id,
        date,
        region,
        service,
    })
}

/// Splits `SignedHeaders` (`host;x-amz-date`). Names must be non-empty, lower-case and
/// unique, and `host` must be among them, as AWS requires.
pub(crate) fn parse_signed_headers(value: &str) -> Result<Vec<&str>, AuthError> {
    let names: Vec<&str> = value.split(';').take(MAX_SIGNED_HEADERS + 1).collect();
    if names.len() > MAX_SIGNED_HEADERS {
        // Real clients sign a handful; the cap keeps the duplicate check below cheap.
        return Err(incomplete("SignedHeaders lists too many headers."));
    }
    for (i, n) in names.iter().enumerate() {
        let valid = !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase())
            && !names[..i].contains(n);
        if !valid {
            return Err(incomplete(
                "SignedHeaders must be a ';'-separated list of distinct lower-case header names.",
            ));
        }
    }
    if !names.contains(&"host") {
        return Err(incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTOCORE: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/us-east-1/neptune-db/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";

    #[test]
    fn botocore_header_parses() {
        let h = parse_authorization(BOTOCORE).unwrap();
        assert_eq!(
            h.credential,
            "AKIDEXAMPLE/20261125/us-east-1/neptune-db/aws4_request"
        );
        assert_eq!(h.signed_headers, "content-type;host;x-amz-date");
        assert_eq!(h.signature.len(), 64);
        let scope = parse_credential(h.credential).unwrap();
        assert_eq!(scope.access_key_id, "AKIDEXAMPLE");
        assert_eq!(scope.region, "us-east-1");
        assert_eq!(scope.scope(), "20261125/us-east-1/neptune-db/aws4_request");
        assert_eq!(
            parse_signed_headers(h.signed_headers).unwrap(),
            ["content-type", "host", "x-amz-date"]
        );
    }

    #[test]
    fn element_order_and_spacing_are_free() {
        let h = parse_authorization("AWS4-HMAC-SHA256   Signature=ab,Credential=A/20260101/r/s/aws4_request ,SignedHeaders=host").unwrap();
        assert_eq!(h.signature, "ab");
        assert_eq!(h.signed_headers, "host");
    }

    #[test]
    fn malformed_headers_are_incomplete_signatures() {
        for bad in [
            "",
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA1 Credential=a, SignedHeaders=host, Signature=x",
            "Basic dXNlcjpwYXNz",
            "AWS4-HMAC-SHA256 Credential=a, SignedHeaders=host",
            "AWS4-HMAC-SHA256 Credential=a, Signature=x",
            "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=x",
            "AWS4-HMAC-SHA256 Credential=a, Credential=b, SignedHeaders=host, Signature=x",
            "AWS4-HMAC-SHA256 Credential=a, SignedHeaders=host, Signature=x, Extra=1",
            "AWS4-HMAC-SHA256 Credential, SignedHeaders=host, Signature=x",
        ] {
            assert!(
                matches!(
                    parse_authorization(bad),
                    Err(AuthError::IncompleteSignature(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn malformed_scopes_and_signed_headers() {
        for bad in [
            "AKID/20261125/us-east-1/neptune-db",
            "AKID/20261125/us-east-1/neptune-db/aws4_request/x",
            "AKID/2026112/us-east-1/neptune-db/aws4_request",
            "/20261125/us-east-1/neptune-db/aws4_request",
            "AKID/20261125//neptune-db/aws4_request",
            "AKID/20261125/us-east-1/neptune-db/aws5_request",
        ] {
            assert!(parse_credential(bad).is_err(), "{bad}");
        }
        for bad in [
            "",
            "x-amz-date",
            "host;;x-amz-date",
            "Host;x-amz-date",
            "host;host",
            "host;a b",
        ] {
            assert!(parse_signed_headers(bad).is_err(), "{bad}");
        }
    }
}
