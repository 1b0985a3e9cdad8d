//! The SigV4 canonical request, built from the request as received.
//!
//! The signer (botocore for `neptune-db`, a non-S3 service) computes the canonical URI as
//! `quote(remove_dot_segments(path), safe='/~')` over the path *as it appears in the URL* —
//! already percent-encoded — so every `%` is encoded again: `/opencypher/status/a%2Fb%20c`
//! is signed as `/opencypher/status/a%252Fb%2520c`. The canonical query is the URL's own
//! `key=value` pairs sorted (botocore does not re-encode them; they are already in canonical
//! form). Header values are trimmed with runs of whitespace folded to one space; repeated
//! headers are joined with `,`.
//!
//! Other SigV4 signers differ from botocore in corners that never arise from botocore's own
//! requests: the AWS SDKs' normaliser keeps a trailing `/` of `/a/.`, decodes `+` in the
//! query as a space and re-encodes every pair, and folds only spaces (not tabs) in header
//! values. Each function here therefore returns the botocore form first and, when the request
//! has such a corner, the SDK form as well; the verifier accepts a signature over either.
//! Both are deterministic functions of the received bytes, so accepting both lets no one
//! change what a signed request means.

/// Appends `bytes` percent-encoded as SigV4 requires: everything but `A-Z a-z 0-9 - . _ ~`
/// (and `/` when `keep_slash`) becomes `%XX` with upper-case hex.
fn uri_encode_into(out: &mut String, bytes: &[u8], keep_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

pub(crate) fn uri_encode(bytes: &[u8], keep_slash: bool) -> String {
    let mut out = String::with_capacity(bytes.len() * 3 / 2);
    uri_encode_into(&mut out, bytes, keep_slash);
    out
}

/// Decodes `%XX` escapes (a malformed escape stays literal, as in form decoding) and, when
/// `plus_is_space`, `+` as a space. Invalid UTF-8 becomes U+FFFD, as the SDKs' parser does.
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let hex = |c: u8| char::from(c).to_digit(16);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                // Two hex digits make at most 0xFF, so the cast cannot truncate.
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(if plus_is_space && b[i] == b'+' {
            b' '
        } else {
            b[i]
        });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// botocore's `remove_dot_segments`: drops empty and `.` segments, resolves `..`, keeps a
/// trailing `/` only if the path ends in `/` and something remains.
fn normalize_botocore(path: &str) -> String {
    if path.is_empty() {
        return "/".into();
    }
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let first = if path.starts_with('/') { "/" } else { "" };
    let last = if path.ends_with('/') && !out.is_empty() {
        "/"
    } else {
        ""
    };
    format!("{first}{}{last}", out.join("/"))
}

/// The AWS SDKs' normaliser (RFC 3986 5.2.4 plus empty-segment removal): always absolute, and
/// a path ending in `/`, `/.` or `/..` keeps a trailing slash.
fn normalize_sdk(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut result = format!("/{}", out.join("/"));
    let slash_end = ["/", "/.", "/./", "/..", "/../"]
        .iter()
        .any(|e| path.ends_with(e));
    if slash_end && !result.ends_with('/') {
        result.push('/');
    }
    result
}

/// Canonical URI candidates for a raw (percent-encoded, as received) path: botocore's first.
pub(crate) fn canonical_uris(raw_path: &str) -> Vec<String> {
    let mut out = vec![uri_encode(normalize_botocore(raw_path).as_bytes(), true)];
    let sdk = uri_encode(normalize_sdk(raw_path).as_bytes(), true);
    if !out.contains(&sdk) {
        out.push(sdk);
    }
    out
}

/// Canonical query string candidates for a raw query, leaving out the pair named `exclude`
/// (`X-Amz-Signature` for presigned URLs): botocore's (raw pairs sorted) first, then the
/// SDKs' (decoded, `+` as space, re-encoded, sorted) if different.
pub(crate) fn canonical_queries(raw_query: Option<&str>, exclude: Option<&str>) -> Vec<String> {
    let raw_query = raw_query.unwrap_or("");
    // botocore: `query.split('&')`, `partition('=')`, sort, join — no decoding.
    let mut raw_pairs: Vec<(&str, &str)> = Vec::new();
    if !raw_query.is_empty() {
        for pair in raw_query.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if Some(k) != exclude {
                raw_pairs.push((k, v));
            }
        }
    }
    raw_pairs.sort_unstable();
    let botocore = join_pairs(raw_pairs.iter().map(|(k, v)| (*k, *v)));

    let mut sdk_pairs: Vec<(String, String)> = Vec::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (percent_decode(k, true), percent_decode(v, true));
        if Some(k.as_str()) != exclude {
            sdk_pairs.push((
                uri_encode(k.as_bytes(), false),
                uri_encode(v.as_bytes(), false),
            ));
        }
    }
    sdk_pairs.sort_unstable();
    let sdk = join_pairs(sdk_pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));

    if sdk == botocore {
        vec![botocore]
    } else {
        vec![botocore, sdk]
    }
}

fn join_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Python's `' '.join(value.split())` on ASCII: trims and folds every run of whitespace.
fn fold_all_whitespace(v: &str) -> String {
    let is_ws = |c: char| {
        matches!(
            c,
            ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c' | '\x1c'..='\x1f'
        )
    };
    v.split(is_ws)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The SDKs' `trim_all`: trims and folds spaces only.
fn fold_spaces(v: &str) -> String {
    v.split(' ')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The canonical header block (one `name:value\n` line per signed header, in the order of
/// `SignedHeaders`) candidates, or `None` if a signed header is absent from the request.
/// `values_of` yields every value of a header, in the order received.
pub(crate) fn canonical_header_blocks<'h>(
    signed: &[&str],
    values_of: &dyn Fn(&str) -> Vec<&'h [u8]>,
) -> Option<Vec<String>> {
    let mut botocore = String::new();
    let mut sdk = String::new();
    for name in signed {
        let values = values_of(name);
        if values.is_empty() {
            return None;
        }
        let texts: Vec<String> = values
            .iter()
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect();
        let line = |fold: fn(&str) -> String| {
            let folded: Vec<String> = texts.iter().map(|t| fold(t)).collect();
            format!("{name}:{}\n", folded.join(","))
        };
        botocore.push_str(&line(fold_all_whitespace));
        sdk.push_str(&line(fold_spaces));
    }
    Some(if sdk == botocore {
        vec![botocore]
    } else {
        vec![botocore, sdk]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded_a_second_time_as_botocore_does() {
        assert_eq!(
            canonical_uris("/opencypher/status/a%2Fb%20c%3Fd"),
            ["/opencypher/status/a%252Fb%2520c%253Fd"]
        );
        assert_eq!(canonical_uris("/opencypher"), ["/opencypher"]);
        assert_eq!(canonical_uris(""), ["/"]);
        assert_eq!(canonical_uris("/"), ["/"]);
        assert_eq!(canonical_uris("/a//b/./c/../d/"), ["/a/b/d/"]);
        assert_eq!(canonical_uris("/a/b/~x-y_z.w"), ["/a/b/~x-y_z.w"]);
        assert_eq!(canonical_uris("/a b*"), ["/a%20b%2A"]);
    }

    #[test]
    fn a_trailing_dot_segment_has_two_readings() {
        assert_eq!(canonical_uris("/a/b/."), ["/a/b", "/a/b/"]);
        assert_eq!(canonical_uris("/.."), ["/"]);
    }

    #[test]
    fn query_pairs_are_sorted_by_key_then_value() {
        assert_eq!(
            canonical_queries(Some("silent=true&includeWaiting=false"), None),
            ["includeWaiting=false&silent=true"]
        );
        assert_eq!(
            canonical_queries(Some("b=2&a=2&a=1&c"), None),
            ["a=1&a=2&b=2&c="]
        );
        assert_eq!(canonical_queries(Some(""), None), [""]);
        assert_eq!(canonical_queries(None, None), [""]);
        assert_eq!(
            canonical_queries(
                Some("X-Amz-Signature=abc&X-Amz-Date=1"),
                Some("X-Amz-Signature")
            ),
            ["X-Amz-Date=1"]
        );
    }

    #[test]
    fn non_canonical_queries_also_get_the_sdk_reading() {
        assert_eq!(canonical_queries(Some("q=a+b"), None), ["q=a+b", "q=a%20b"]);
        assert_eq!(
            canonical_queries(Some("q=%2f*"), None),
            ["q=%2f*", "q=%2F%2A"]
        );
        assert_eq!(
            canonical_queries(Some("a=1&&b=2"), None),
            ["=&a=1&b=2", "a=1&b=2"]
        );
    }

    #[test]
    fn percent_decoding_tolerates_malformed_escapes() {
        assert_eq!(percent_decode("a%2", false), "a%2");
        assert_eq!(percent_decode("%zz%41", false), "%zzA");
        assert_eq!(percent_decode("%", true), "%");
        assert_eq!(percent_decode("%ff", false), "\u{fffd}");
    }

    #[test]
    fn header_values_are_trimmed_and_joined() {
        let headers: Vec<(&str, &[u8])> = vec![
            ("Host", b"127.0.0.1:8182"),
            ("x-amz-date", b"20261125T221026Z"),
            ("x-multi", b"  a   b "),
            ("X-Multi", b"c"),
            ("x-tab", b"a\t b"),
        ];
        let values_of = |n: &str| -> Vec<&[u8]> {
            headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| *v)
                .collect()
        };
        assert_eq!(
            canonical_header_blocks(&["host", "x-amz-date", "x-multi"], &values_of).unwrap(),
            ["host:127.0.0.1:8182\nx-amz-date:20261125T221026Z\nx-multi:a b,c\n"]
        );
        assert_eq!(
            canonical_header_blocks(&["x-tab"], &values_of).unwrap(),
            ["x-tab:a b\n", "x-tab:a\t b\n"]
        );
        assert!(canonical_header_blocks(&["host", "content-type"], &values_of).is_none());
    }
}
