//! A framework-neutral view of an HTTP request, borrowed from whatever server holds it.

/// The parts of a request that SigV4 signs, exactly as received.
///
/// From axum/`http`: `method: req.method().as_str()`, `path: req.uri().path()` (raw, still
/// percent-encoded), `query: req.uri().query()`, `headers` collected as
/// `req.headers().iter().map(|(n, v)| (n.as_str(), v.as_bytes()))`, and the buffered body.
/// Under HTTP/2 there is no `Host` header: add `("host", authority)` from the URI.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// The path as received: percent-encoded, not normalised.
    pub path: &'a str,
    /// The raw query string without `?`, if any.
    pub query: Option<&'a str>,
    /// Every header, in the order received; names compare case-insensitively.
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The exact body bytes.
    pub body: &'a [u8],
}

impl<'a> RequestParts<'a> {
    /// Every value of header `name` (case-insensitive), in the order received.
    pub fn header_values(&self, name: &str) -> Vec<&'a [u8]> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
            .collect()
    }

    /// The single value of header `name`, or `None` if absent or repeated.
    pub(crate) fn single_header(&self, name: &str) -> Result<Option<&'a [u8]>, ()> {
        match self.header_values(name).as_slice() {
            [] => Ok(None),
            [v] => Ok(Some(v)),
            _ => Err(()),
        }
    }

    /// The decoded value of query parameter `name`, if present exactly once.
    pub(crate) fn query_param(&self, name: &str) -> Result<Option<String>, ()> {
        let mut found = None;
        for pair in self.query.unwrap_or("").split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if crate::sigv4::canonical::percent_decode(k, true) == name {
                if found.is_some() {
                    return Err(());
                }
                found = Some(crate::sigv4::canonical::percent_decode(v, true));
            }
        }
        Ok(found)
    }
}
