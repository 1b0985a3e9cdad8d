//! `/sparql`: nereid holds no RDF data, but tools written for a whole Neptune cluster probe
//! this endpoint (the awslabs Neptune MCP server reads an RDF schema from it at start-up and
//! gives up entirely when the call fails). It answers as an empty RDF graph would: a `SELECT`
//! gets its projected variables and no bindings, an `ASK` gets `false`, in the SPARQL 1.1
//! JSON results format. Updates (`INSERT`, `DELETE`, `LOAD`, `CLEAR`, …) are refused with
//! `UnsupportedOperationException`: accepting them would claim data was stored.
//!
//! The query comes from the `query` field (query string or form, as Neptune's SPARQL
//! endpoint takes it) or is the whole body of an `application/sparql-query` request.

use nereid_common::{Error, ErrorCode};
use serde_json::{json, Value};

/// The query text of a `/sparql` request.
pub fn query_text(
    query_string: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<String, Error> {
    let mime = content_type
        .and_then(|c| c.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase());
    if mime.as_deref() == Some("application/sparql-query") {
        return String::from_utf8(body.to_vec())
            .map_err(|_| Error::new(ErrorCode::BadRequest, "The SPARQL query is not UTF-8"));
    }
    let form = mime.is_none() || mime.as_deref() == Some("application/x-www-form-urlencoded");
    let sources = [query_string.map(str::as_bytes), form.then_some(body)];
    for source in sources.into_iter().flatten() {
        for (name, value) in crate::request::parse_form(source)? {
            if name == "query" {
                return Ok(value);
            }
            if name == "update" {
                return Err(refused());
            }
        }
    }
    Err(Error::new(
        ErrorCode::MissingParameter,
        "Missing required parameters: [query]",
    ))
}

fn refused() -> Error {
    Error::new(
        ErrorCode::UnsupportedOperation,
        "SPARQL updates are not supported: nereid serves openCypher and holds no RDF data",
    )
}

/// The answer an empty RDF graph gives to `query`.
pub fn empty_answer(query: &str) -> Result<Value, Error> {
    let words = words(query);
    let form = words.iter().map(|w| w.to_ascii_uppercase()).find(|w| {
        [
            "SELECT",
            "ASK",
            "CONSTRUCT",
            "DESCRIBE",
            "INSERT",
            "DELETE",
            "LOAD",
            "CLEAR",
            "CREATE",
            "DROP",
            "COPY",
            "MOVE",
            "ADD",
        ]
        .contains(&w.as_str())
    });
    match form.as_deref() {
        Some("SELECT") => Ok(json!({
            "head": {"vars": select_vars(&words)},
            "results": {"bindings": []},
        })),
        Some("ASK") => Ok(json!({"head": {}, "boolean": false})),
        // An empty graph, as SPARQL JSON-LD-free JSON: no triples.
        Some("CONSTRUCT") | Some("DESCRIBE") => Ok(json!({
            "head": {"vars": ["subject", "predicate", "object"]},
            "results": {"bindings": []},
        })),
        Some(_) => Err(refused()),
        None => Err(Error::new(
            ErrorCode::UnexpectedSyntax,
            "The SPARQL query has no SELECT, ASK, CONSTRUCT or DESCRIBE form",
        )),
    }
}

/// The query's words outside comments, IRIs in `<…>` and string literals.
fn words(query: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = query.chars().peekable();
    let flush = |word: &mut String, words: &mut Vec<String>| {
        if !word.is_empty() {
            words.push(std::mem::take(word));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                flush(&mut word, &mut words);
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '<' => {
                flush(&mut word, &mut words);
                for c in chars.by_ref() {
                    if c == '>' {
                        break;
                    }
                }
            }
            '"' | '\'' => {
                flush(&mut word, &mut words);
                while let Some(d) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == c {
                        break;
                    }
                }
            }
            '{' | '}' | '(' | ')' | '*' => {
                flush(&mut word, &mut words);
                words.push(c.to_string());
            }
            c if c.is_whitespace() => flush(&mut word, &mut words),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut words);
    words
}

/// The variables a `SELECT` projects: `?x`/`$x` at the top level of the projection and the
/// names after `AS` in `(expr AS ?x)`, up to `WHERE` or the first `{`.
fn select_vars(words: &[String]) -> Vec<String> {
    let start = words
        .iter()
        .position(|w| w.eq_ignore_ascii_case("SELECT"))
        .map_or(0, |i| i + 1);
    let mut vars: Vec<String> = Vec::new();
    let mut depth = 0usize;
    let mut after_as = false;
    for w in &words[start..] {
        match w.as_str() {
            "{" => break,
            w if w.eq_ignore_ascii_case("WHERE") || w.eq_ignore_ascii_case("FROM") => break,
            "(" => depth += 1,
            ")" => depth = depth.saturating_sub(1),
            w if w.eq_ignore_ascii_case("AS") => after_as = true,
            w if w.starts_with('?') || w.starts_with('$') => {
                if depth == 0 || after_as {
                    let name = w[1..].to_string();
                    if !vars.contains(&name) {
                        vars.push(name);
                    }
                }
                after_as = false;
            }
            _ => {}
        }
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_lists_its_variables_and_no_bindings() {
        let q = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n\
                 SELECT DISTINCT ?class (COUNT(?s) AS ?n) # comment ?not\n\
                 WHERE { ?s a ?class } GROUP BY ?class";
        assert_eq!(
            empty_answer(q).unwrap(),
            json!({"head": {"vars": ["class", "n"]}, "results": {"bindings": []}})
        );
        let star = empty_answer("select * { ?s ?p ?o }").unwrap();
        assert_eq!(star["head"]["vars"], json!([]));
    }

    #[test]
    fn ask_is_false_and_updates_are_refused() {
        assert_eq!(
            empty_answer("ASK { ?s ?p 'SELECT' }").unwrap(),
            json!({"head": {}, "boolean": false})
        );
        let e = empty_answer("INSERT DATA { <a> <b> <c> }").unwrap_err();
        assert_eq!(e.code, ErrorCode::UnsupportedOperation);
        assert_eq!(
            empty_answer("hello").unwrap_err().code,
            ErrorCode::UnexpectedSyntax
        );
    }

    #[test]
    fn query_comes_from_the_query_string_a_form_or_a_raw_body() {
        let q = query_text(Some("query=ASK%20%7B%7D"), None, b"").unwrap();
        assert_eq!(q, "ASK {}");
        let q = query_text(
            None,
            Some("application/x-www-form-urlencoded"),
            b"query=SELECT+%3Fs+%7B%7D",
        )
        .unwrap();
        assert_eq!(q, "SELECT ?s {}");
        let q = query_text(None, Some("application/sparql-query"), b"ASK {}").unwrap();
        assert_eq!(q, "ASK {}");
        let e = query_text(None, None, b"update=CLEAR+ALL").unwrap_err();
        assert_eq!(e.code, ErrorCode::UnsupportedOperation);
        let e = query_text(None, None, b"").unwrap_err();
        assert_eq!(e.code, ErrorCode::MissingParameter);
    }
}
