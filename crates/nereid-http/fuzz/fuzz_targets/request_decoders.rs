//! The request decoders on arbitrary input: the first byte picks the body encoding and the
//! operation flags, the rest is split at the first 0xFF into a query string and a body.
//! Every failure must be an error value with a request error code.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nereid_http::request::{
    body_kind, fields, parse_parameters, percent_decode, query_request, status_request, BodyKind,
};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (qs, body) = match rest.iter().position(|&b| b == 0xFF) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&rest[..0], rest),
    };
    let qs = String::from_utf8_lossy(qs);
    let content_type = match selector & 7 {
        0 => None,
        1 => Some("application/json"),
        2 => Some("application/x-www-form-urlencoded"),
        3 => Some("application/opencypher"),
        4 => Some("application/x-amz-json-1.1"),
        5 => Some("text/plain"),
        _ => std::str::from_utf8(body).ok(),
    };
    let _ = body_kind(content_type, body);
    let kind = match (selector >> 3) & 3 {
        0 => None,
        1 => Some(BodyKind::Json),
        2 => Some(BodyKind::Form),
        _ => Some(BodyKind::RawQuery),
    };
    if let Ok(f) = fields(Some(&qs), kind, body) {
        let _ = query_request(&f);
        let _ = status_request(&f, selector & 0x20 != 0);
        let _ = f.boolean("silent");
        let _ = f.boolean("includeWaiting");
    }
    let _ = parse_parameters(&String::from_utf8_lossy(body));
    let _ = percent_decode(&qs);
});
