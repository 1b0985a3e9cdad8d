//! Request decoding: the four ways a query arrives (SDK JSON, form, GET query string, raw
//! `application/opencypher` body), the status/cancel parameters, and `parameters` JSON → a
//! Cypher parameter map.

use nereid_common::{Error, ErrorCode};
use nereid_value::{Map, Value};

/// Largest `parameters` text in bytes (32 MiB). Decoded values take several times their
/// text, so this, not the 150 MiB body limit, bounds a query's parameter memory. (An object
/// sent inline in a JSON body is bounded by the body limit.)
pub const MAX_PARAMETERS_BYTES: usize = 32 * 1024 * 1024;

/// Deepest accepted nesting of lists and maps in `parameters` (the top-level object is 1).
pub const MAX_PARAMETERS_DEPTH: usize = 64;

/// One request field: form and query-string fields are text; JSON bodies keep their JSON
/// value (the SDK sends `parameters` as a string, hand-written clients often as an object).
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Text(String),
    Json(serde_json::Value),
}

/// All fields of a request, body fields first, then query-string fields; the first match
/// wins, so a body field overrides the same name in the URL.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields(Vec<(String, Field)>);

impl Fields {
    pub fn get(&self, name: &str) -> Option<&Field> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every value given for `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Field> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// How many times `name` was given (a form or query string may repeat a field).
    pub fn count(&self, name: &str) -> usize {
        self.0.iter().filter(|(k, _)| k == name).count()
    }

    /// The distinct field names, in order of first appearance.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        let mut seen = Vec::new();
        self.0.iter().filter_map(move |(k, _)| {
            if seen.contains(&k.as_str()) {
                None
            } else {
                seen.push(k.as_str());
                Some(k.as_str())
            }
        })
    }

    /// A field as text; numbers are accepted in their JSON spelling.
    pub fn text(&self, name: &str) -> Result<Option<String>, Error> {
        match self.get(name) {
            None | Some(Field::Json(serde_json::Value::Null)) => Ok(None),
            Some(Field::Text(s)) => Ok(Some(s.clone())),
            Some(Field::Json(serde_json::Value::String(s))) => Ok(Some(s.clone())),
            Some(Field::Json(v @ serde_json::Value::Number(_))) => Ok(Some(v.to_string())),
            Some(Field::Json(_)) => Err(invalid(format!("Parameter '{name}' must be a string"))),
        }
    }

    /// A boolean field: `true`/`false` in any letter case (graph-notebook sends `True`).
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, Error> {
        let text = match self.get(name) {
            Some(Field::Json(serde_json::Value::Bool(b))) => return Ok(Some(*b)),
            _ => self.text(name)?,
        };
        match text {
            None => Ok(None),
            Some(t) if t.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(t) if t.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(t) => Err(invalid(format!(
                "Parameter '{name}' must be true or false, not '{t}'"
            ))),
        }
    }

    fn extend_text(&mut self, pairs: Vec<(String, String)>) {
        self.0
            .extend(pairs.into_iter().map(|(k, v)| (k, Field::Text(v))));
    }
}

/// How a request body is encoded, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Form,
    /// `application/opencypher`: the body is the query text.
    RawQuery,
}

/// The body encoding named by a `Content-Type` header; without one, a body that looks like
/// a JSON object is JSON and anything else is a form (what `curl -d` sends).
pub fn body_kind(content_type: Option<&str>, body: &[u8]) -> Result<BodyKind, Error> {
    let Some(ct) = content_type else {
        let first = body.iter().find(|b| !b.is_ascii_whitespace());
        return Ok(if first == Some(&b'{') {
            BodyKind::Json
        } else {
            BodyKind::Form
        });
    };
    let mime = ct.split(';').next().unwrap_or_default().trim();
    if mime.eq_ignore_ascii_case("application/json")
        || mime
            .to_ascii_lowercase()
            .starts_with("application/x-amz-json")
    {
        Ok(BodyKind::Json)
    } else if mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Ok(BodyKind::Form)
    } else if mime.eq_ignore_ascii_case("application/opencypher") {
        Ok(BodyKind::RawQuery)
    } else {
        Err(Error::new(
            ErrorCode::BadRequest,
            format!("Unsupported Content-Type '{ct}': use application/json, application/x-www-form-urlencoded or application/opencypher"),
        ))
    }
}

/// Collects the fields of a request from its query string and (already read) body.
/// For a raw `application/opencypher` body the text becomes the `query` field.
pub fn fields(
    query_string: Option<&str>,
    kind: Option<BodyKind>,
    body: &[u8],
) -> Result<Fields, Error> {
    let mut fields = Fields::default();
    match kind {
        None => {}
        Some(BodyKind::Json) => {
            let Members(members) = serde_json::from_slice(body).map_err(|e| {
                let message = if e.classify() == serde_json::error::Category::Data {
                    "The JSON request body must be an object".to_owned()
                } else {
                    format!("Invalid JSON request body: {e}")
                };
                Error::new(ErrorCode::BadRequest, message)
            })?;
            fields
                .0
                .extend(members.into_iter().map(|(k, v)| (k, Field::Json(v))));
        }
        Some(BodyKind::Form) => fields.extend_text(parse_form(body)?),
        Some(BodyKind::RawQuery) => {
            let text = std::str::from_utf8(body).map_err(|_| {
                Error::new(ErrorCode::BadRequest, "The query text is not valid UTF-8")
            })?;
            fields
                .0
                .push(("query".to_owned(), Field::Text(text.to_owned())));
        }
    }
    if let Some(qs) = query_string {
        fields.extend_text(parse_form(qs.as_bytes())?);
    }
    Ok(fields)
}

/// A JSON body's members in their order, a repeated name kept each time (as a form keeps a
/// repeated field) so that it can be refused: `serde_json`'s own map keeps only the last.
struct Members(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Object;
        impl<'de> serde::de::Visitor<'de> for Object {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some(member) = m.next_entry::<String, serde_json::Value>()? {
                    out.push(member);
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(Object)
    }
}

/// Decodes `application/x-www-form-urlencoded` text (a body or a query string) strictly:
/// `+` is a space, `%XX` a byte, and every name and value must be valid UTF-8 once decoded —
/// Neptune answers `BadRequestException` rather than silently replacing bytes with U+FFFD
/// (what lenient decoders do), which would run a different query than the one sent.
pub(crate) fn parse_form(bytes: &[u8]) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    for pair in bytes.split(|&b| b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &b""[..]),
        };
        let name = form_component(name, None)?;
        let value = form_component(value, Some(&name))?;
        out.push((name, value));
    }
    Ok(out)
}

/// One decoded form component; `field` names the value's field in errors.
fn form_component(raw: &[u8], field: Option<&str>) -> Result<String, Error> {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut rest = raw;
    // Runs of plain bytes are copied whole: a query text is mostly letters.
    while let Some(i) = rest.iter().position(|&b| b == b'+' || b == b'%') {
        bytes.extend_from_slice(&rest[..i]);
        if rest[i] == b'+' {
            bytes.push(b' ');
            rest = &rest[i + 1..];
            continue;
        }
        let digit = |at: usize| rest.get(at).and_then(|&b| (b as char).to_digit(16));
        match (digit(i + 1), digit(i + 2)) {
            (Some(high), Some(low)) => {
                // Two hex digits are at most 0xFF.
                bytes.push((high * 16 + low) as u8);
                rest = &rest[i + 3..];
            }
            // As browsers and WHATWG decoders do: a `%` not followed by two hex digits
            // stands for itself.
            _ => {
                bytes.push(b'%');
                rest = &rest[i + 1..];
            }
        }
    }
    bytes.extend_from_slice(rest);
    String::from_utf8(bytes).map_err(|e| {
        let what = match field {
            Some(name) => format!("The value of parameter '{name}'"),
            None => "A parameter name".to_owned(),
        };
        Error::new(
            ErrorCode::BadRequest,
            format!(
                "{what} is not valid UTF-8 (invalid byte at offset {} after decoding)",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// A query request: the text and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryRequest {
    pub query: String,
    pub parameters: Map,
}

/// Reads `query` and `parameters` (the route reads `explain`).
pub fn query_request(fields: &Fields) -> Result<QueryRequest, Error> {
    let query = fields.text("query")?.ok_or_else(|| {
        Error::new(
            ErrorCode::MissingParameter,
            "Missing required parameter 'query'",
        )
    })?;
    let parameters = match fields.get("parameters") {
        None => Map::new(),
        Some(Field::Text(text)) => parse_parameters(text)?,
        Some(Field::Json(serde_json::Value::String(text))) => parse_parameters(text)?,
        Some(Field::Json(serde_json::Value::Null)) => Map::new(),
        Some(Field::Json(serde_json::Value::Object(object))) => {
            check_depth(object)?;
            object_to_map(object.clone())
        }
        Some(Field::Json(_)) => {
            return Err(invalid(
                "'parameters' must be a JSON object (or a string containing one)",
            ))
        }
    };
    Ok(QueryRequest { query, parameters })
}

/// Decodes the `parameters` text: a JSON object whose members become `$name` values. An
/// empty text means no parameters.
pub fn parse_parameters(text: &str) -> Result<Map, Error> {
    if text.len() > MAX_PARAMETERS_BYTES {
        return Err(invalid(format!(
            "'parameters' of {} bytes exceeds the limit of {MAX_PARAMETERS_BYTES} bytes",
            text.len()
        )));
    }
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    // serde_json itself refuses nesting beyond 128 levels, so nothing here recurses deeper.
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(object)) => {
            check_depth(&object)?;
            Ok(object_to_map(object))
        }
        Ok(_) => Err(invalid("'parameters' must be a JSON object")),
        Err(e) => Err(invalid(format!("Invalid 'parameters' JSON: {e}"))),
    }
}

/// Refuses `parameters` nested deeper than [`MAX_PARAMETERS_DEPTH`].
fn check_depth(object: &serde_json::Map<String, serde_json::Value>) -> Result<(), Error> {
    // Iterative, so the check itself cannot overflow the stack whatever it is given.
    let mut stack: Vec<(&serde_json::Value, usize)> = object.values().map(|v| (v, 2)).collect();
    while let Some((value, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &serde_json::Value>> = match value {
            serde_json::Value::Array(items) => Box::new(items.iter()),
            serde_json::Value::Object(members) => Box::new(members.values()),
            _ => continue,
        };
        if depth > MAX_PARAMETERS_DEPTH {
            return Err(invalid(format!(
                "'parameters' are nested deeper than {MAX_PARAMETERS_DEPTH} levels"
            )));
        }
        stack.extend(children.map(|v| (v, depth + 1)));
    }
    Ok(())
}

fn object_to_map(object: serde_json::Map<String, serde_json::Value>) -> Map {
    object
        .into_iter()
        .map(|(k, v)| (k, json_to_value(v)))
        .collect()
}

/// JSON → Cypher value. Integers stay integers when they fit in 64 bits; larger ones and
/// fractions become floats.
pub fn json_to_value(json: serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            // Every JSON number serde_json accepts has an f64 reading.
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::String(s),
        serde_json::Value::Array(items) => {
            Value::List(items.into_iter().map(json_to_value).collect())
        }
        serde_json::Value::Object(object) => Value::Map(object_to_map(object)),
    }
}

/// What `/openCypher/status` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusRequest {
    List { include_waiting: bool },
    Status { query_id: String },
    Cancel { query_id: String, silent: bool },
}

/// Reads the raw status API's fields (SPEC 4.4). `cancel` is true for DELETE, which always
/// cancels; for GET and POST the presence of `cancelQuery` (any value) asks for a cancel.
pub fn status_request(fields: &Fields, cancel: bool) -> Result<StatusRequest, Error> {
    let query_id = fields.text("queryId")?;
    let silent = fields.boolean("silent")?.unwrap_or(false);
    let include_waiting = fields.boolean("includeWaiting")?.unwrap_or(false);
    let cancel = cancel || fields.contains("cancelQuery");
    match (query_id, cancel) {
        (Some(query_id), true) => Ok(StatusRequest::Cancel { query_id, silent }),
        (None, true) => Err(Error::new(
            ErrorCode::MissingParameter,
            "Missing required parameter 'queryId' for a cancel request",
        )),
        (Some(query_id), false) => Ok(StatusRequest::Status { query_id }),
        (None, false) => Ok(StatusRequest::List { include_waiting }),
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidParameter, message)
}

/// Decodes `%XX` escapes of a URL path segment (`+` stays a plus, unlike in forms).
pub fn percent_decode(segment: &str) -> Result<String, Error> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                None => {
                    return Err(Error::new(
                        ErrorCode::BadRequest,
                        format!("Invalid percent-encoding in path segment '{segment}'"),
                    ))
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| {
        Error::new(
            ErrorCode::BadRequest,
            format!("Path segment '{segment}' is not valid UTF-8"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_json_with_string_parameters() {
        let body = br#"{"query": "RETURN $x", "parameters": "{\"x\": 1, \"big\": 18446744073709551615, \"f\": 2.5, \"l\": [true, null], \"m\": {\"k\": \"v\"}}"}"#;
        let kind = body_kind(Some("application/json"), body).unwrap();
        let req = query_request(&fields(None, Some(kind), body).unwrap()).unwrap();
        assert_eq!(req.query, "RETURN $x");
        assert_eq!(req.parameters["x"], Value::Int(1));
        assert_eq!(req.parameters["big"], Value::Float(18446744073709551615.0));
        assert_eq!(req.parameters["f"], Value::Float(2.5));
        assert_eq!(
            req.parameters["l"],
            Value::List(vec![Value::Bool(true), Value::Null])
        );
        let m = Map::from([("k".to_owned(), Value::from("v"))]);
        assert_eq!(req.parameters["m"], Value::Map(m));
    }

    #[test]
    fn a_json_member_given_twice_is_seen_twice() {
        let f = fields(
            None,
            Some(BodyKind::Json),
            br#"{"action": "initiateDatabaseReset", "action": "performDatabaseReset"}"#,
        )
        .unwrap();
        assert_eq!(f.count("action"), 2);
        let e = crate::system::system_action(&f).unwrap_err();
        assert!(
            e.message.contains("Too many values supplied for: action"),
            "{e}"
        );
        for body in [&b"[1]"[..], b"\"x\"", b"7"] {
            let e = fields(None, Some(BodyKind::Json), body).unwrap_err();
            assert_eq!(e.message, "The JSON request body must be an object");
        }
        let e = fields(None, Some(BodyKind::Json), b"{\"a\": ").unwrap_err();
        assert!(e.message.starts_with("Invalid JSON request body"), "{e}");
    }

    #[test]
    fn json_object_parameters_are_accepted_too() {
        let body = br#"{"query": "RETURN $x", "parameters": {"x": -3}}"#;
        let req = query_request(&fields(None, Some(BodyKind::Json), body).unwrap()).unwrap();
        assert_eq!(req.parameters["x"], Value::Int(-3));
    }

    #[test]
    fn form_body_and_query_string() {
        let body = b"query=RETURN+%24a&parameters=%7B%22a%22%3A%22x%22%7D";
        let kind = body_kind(
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            body,
        )
        .unwrap();
        let req = query_request(&fields(None, Some(kind), body).unwrap()).unwrap();
        assert_eq!(req.query, "RETURN $a");
        assert_eq!(req.parameters["a"], Value::from("x"));

        let req = query_request(&fields(Some("query=RETURN%201"), None, b"").unwrap()).unwrap();
        assert_eq!(req.query, "RETURN 1");
    }

    #[test]
    fn raw_opencypher_body_takes_parameters_from_the_url() {
        let body = b"RETURN $n";
        let kind = body_kind(Some("application/opencypher"), body).unwrap();
        let f = fields(Some("parameters=%7B%22n%22%3A7%7D"), Some(kind), body).unwrap();
        let req = query_request(&f).unwrap();
        assert_eq!(req.query, "RETURN $n");
        assert_eq!(req.parameters["n"], Value::Int(7));
    }

    #[test]
    fn missing_query_and_bad_parameters_are_coded() {
        let f = fields(Some("parameters=%7B%7D"), None, b"").unwrap();
        assert_eq!(
            query_request(&f).unwrap_err().code,
            ErrorCode::MissingParameter
        );
        for bad in ["{", "[1]", "1", "{\"x\": 1e999}"] {
            let err = parse_parameters(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidParameter, "{bad}");
        }
        assert!(parse_parameters("  ").unwrap().is_empty());
    }

    #[test]
    fn content_type_sniffing_and_refusal() {
        assert_eq!(body_kind(None, b" {\"query\":1}").unwrap(), BodyKind::Json);
        assert_eq!(body_kind(None, b"query=x").unwrap(), BodyKind::Form);
        assert_eq!(
            body_kind(Some("text/plain"), b"x").unwrap_err().code,
            ErrorCode::BadRequest
        );
        assert_eq!(
            body_kind(Some("application/x-amz-json-1.1"), b"{}").unwrap(),
            BodyKind::Json
        );
    }

    #[test]
    fn status_parameters() {
        let f = fields(Some("queryId=q&cancelQuery&silent=True"), None, b"").unwrap();
        assert_eq!(
            status_request(&f, false).unwrap(),
            StatusRequest::Cancel {
                query_id: "q".into(),
                silent: true
            }
        );
        let f = fields(Some("queryId=q"), None, b"").unwrap();
        assert_eq!(
            status_request(&f, false).unwrap(),
            StatusRequest::Status {
                query_id: "q".into()
            }
        );
        assert_eq!(
            status_request(&f, true).unwrap(),
            StatusRequest::Cancel {
                query_id: "q".into(),
                silent: false
            }
        );
        let f = fields(Some("includeWaiting=TRUE"), None, b"").unwrap();
        assert_eq!(
            status_request(&f, false).unwrap(),
            StatusRequest::List {
                include_waiting: true
            }
        );
        let f = fields(Some("includeWaiting=yes"), None, b"").unwrap();
        assert_eq!(
            status_request(&f, false).unwrap_err().code,
            ErrorCode::InvalidParameter
        );
        let f = fields(None, None, b"").unwrap();
        assert_eq!(
            status_request(&f, true).unwrap_err().code,
            ErrorCode::MissingParameter
        );
    }

    #[test]
    fn form_values_that_are_not_utf8_are_bad_requests_not_replaced() {
        // What `query=RETURN%20%27%FF%27` used to run: a string holding U+FFFD.
        let err = fields(Some("query=RETURN%20%27%FF%27"), None, b"").unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest);
        assert!(err.message.contains("'query'"), "{}", err.message);
        let err = fields(None, Some(BodyKind::Form), b"query=RETURN%20%27%C3%27").unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest);
        // Raw (not percent-encoded) bytes in a form body are checked the same way.
        let err = fields(None, Some(BodyKind::Form), b"query=RETURN '\xff'").unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest);
        let err = fields(None, Some(BodyKind::Form), b"%FF=1").unwrap_err();
        assert!(err.message.contains("parameter name"), "{}", err.message);
        let err = fields(None, Some(BodyKind::RawQuery), b"RETURN '\xfe'").unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest);
        let err = fields(None, Some(BodyKind::Json), b"{\"query\": \"\xff\"}").unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest);
    }

    #[test]
    fn form_decoding_keeps_valid_text_exactly() {
        let f = fields(
            Some("query=RETURN+%27%C3%A9%27&x=a%2Bb%3D%25&empty=&flag&bad=%zz"),
            None,
            b"",
        )
        .unwrap();
        assert_eq!(f.text("query").unwrap().as_deref(), Some("RETURN 'é'"));
        assert_eq!(f.text("x").unwrap().as_deref(), Some("a+b=%"));
        assert_eq!(f.text("empty").unwrap().as_deref(), Some(""));
        assert_eq!(f.text("flag").unwrap().as_deref(), Some(""));
        assert_eq!(f.text("bad").unwrap().as_deref(), Some("%zz"));
        // Only hex digits follow a `%` (no sign), and a `%` at the end stands for itself.
        let f = fields(Some("a=%+5&b=%4&c=100%&d=%41%42c+%c3%a9t%C3%A9"), None, b"").unwrap();
        assert_eq!(f.text("a").unwrap().as_deref(), Some("% 5"));
        assert_eq!(f.text("b").unwrap().as_deref(), Some("%4"));
        assert_eq!(f.text("c").unwrap().as_deref(), Some("100%"));
        assert_eq!(f.text("d").unwrap().as_deref(), Some("ABc été"));
    }

    #[test]
    fn path_segments_are_percent_decoded() {
        assert_eq!(percent_decode("a%2Fb%20c%3Fd+e").unwrap(), "a/b c?d+e");
        assert!(percent_decode("bad%2").is_err());
        assert!(percent_decode("%ff").is_err());
    }
}
