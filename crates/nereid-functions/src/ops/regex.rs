//! `=~`: whole-string regular-expression matching with Java-like semantics on regex-lite,
//! and a small per-thread cache of compiled patterns.

use std::cell::RefCell;

use nereid_common::{Error, ErrorCode};
use nereid_value::Value;

/// `s =~ pattern`: whether the whole string matches the regular expression; null unless
/// both are strings. The dialect is Java's as far as the regex-lite engine allows: `\w`,
/// `\d`, `\s` and `(?i)` are ASCII-only as in Java; look-around and back-references are not
/// supported and raise `InvalidArgumentValue`, as does an invalid pattern.
pub fn regex_match(s: &Value, pattern: &Value) -> Result<Value, Error> {
    match (s, pattern) {
        (Value::String(s), Value::String(p)) => with_regex(p, |re| Value::Bool(re.is_match(s))),
        _ => Ok(Value::Null),
    }
}

/// Most queries use a handful of constant patterns: keep the last few compiled per thread.
const REGEX_CACHE: usize = 16;

thread_local! {
    static REGEXES: RefCell<Vec<(String, regex_lite::Regex)>> = const { RefCell::new(Vec::new()) };
}

fn with_regex<T>(pattern: &str, f: impl FnOnce(&regex_lite::Regex) -> T) -> Result<T, Error> {
    REGEXES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(pos) = cache.iter().position(|(p, _)| p == pattern) {
            // Move to the front so that the most recently used pattern is found first.
            let entry = cache.remove(pos);
            cache.insert(0, entry);
        } else {
            // Java's `matches()` must consume the whole input.
            let anchored = format!(r"\A(?:{})\z", java_to_rust_regex(pattern));
            let re = regex_lite::Regex::new(&anchored).map_err(|e| {
                Error::new(
                    ErrorCode::InvalidArgumentValue,
                    format!("invalid regular expression '{pattern}': {e}"),
                )
            })?;
            cache.insert(0, (pattern.to_owned(), re));
            cache.truncate(REGEX_CACHE);
        }
        match cache.first() {
            Some((_, re)) => Ok(f(re)),
            None => Err(Error::internal("regex cache empty after insert")),
        }
    })
}

/// Rewrites the Java-only syntax that has an equivalent here: `\Q…\E` quoting and the
/// ASCII POSIX classes `\p{Alpha}`, `\p{Digit}`, … (negated with `\P{…}`).
fn java_to_rust_regex(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len());
    let mut class_depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match (c, chars.get(i + 1)) {
            ('\\', Some('Q')) => {
                let body: String = chars[i + 2..].iter().collect();
                let (quoted, rest_at) = match body.find("\\E") {
                    Some(end) => (&body[..end], i + 2 + body[..end].chars().count() + 2),
                    None => (body.as_str(), chars.len()),
                };
                out.push_str(&regex_lite::escape(quoted));
                i = rest_at;
                continue;
            }
            ('\\', Some(p @ ('p' | 'P'))) if chars.get(i + 2) == Some(&'{') => {
                let name: String = chars[i + 3..].iter().take_while(|c| **c != '}').collect();
                let closed = chars.get(i + 3 + name.chars().count()) == Some(&'}');
                if let Some(class) = posix_class(&name).filter(|_| closed) {
                    let negated = *p == 'P';
                    out.push_str(&match (class_depth > 0, negated) {
                        (false, false) => format!("[[:{class}:]]"),
                        (false, true) => format!("[^[:{class}:]]"),
                        (true, false) => format!("[:{class}:]"),
                        (true, true) => format!("[:^{class}:]"),
                    });
                    i += 3 + name.chars().count() + 1;
                    continue;
                }
                // Anything else (Unicode categories) is left for the engine to reject.
                out.push(c);
                out.push(*p);
                i += 2;
                continue;
            }
            ('\\', Some(next)) => {
                out.push(c);
                out.push(*next);
                i += 2;
                continue;
            }
            ('[', _) => class_depth += 1,
            (']', _) if class_depth > 0 => class_depth -= 1,
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Java's ASCII POSIX class names and the `[:name:]` class they are.
fn posix_class(name: &str) -> Option<&'static str> {
    Some(match name {
        "Lower" => "lower",
        "Upper" => "upper",
        "ASCII" => "ascii",
        "Alpha" => "alpha",
        "Digit" => "digit",
        "Alnum" => "alnum",
        "Punct" => "punct",
        "Graph" => "graph",
        "Print" => "print",
        "Blank" => "blank",
        "Cntrl" => "cntrl",
        "XDigit" => "xdigit",
        "Space" => "space",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<Value, Error>) -> ErrorCode {
        match r {
            Err(e) => e.code,
            Ok(v) => panic!("expected an error, got {v}"),
        }
    }

    #[test]
    fn regex_matches_the_whole_string() {
        assert_eq!(
            regex_match(&"ABCDEF".into(), &"AB.*".into()).ok(),
            Some(true.into())
        );
        assert_eq!(
            regex_match(&"ABCDEF".into(), &"BC".into()).ok(),
            Some(false.into())
        );
        assert_eq!(
            regex_match(&"a|b".into(), &"a|b".into()).ok(),
            Some(false.into())
        );
        assert_eq!(
            regex_match(&"b".into(), &"a|b".into()).ok(),
            Some(true.into())
        );
        assert_eq!(
            regex_match(&"abc".into(), &"(?i)ABC".into()).ok(),
            Some(true.into())
        );
        assert_eq!(regex_match(&1.into(), &"1".into()).ok(), Some(Value::Null));
        assert_eq!(
            regex_match(&"a".into(), &Value::Null).ok(),
            Some(Value::Null)
        );
        assert_eq!(
            code(regex_match(&"a".into(), &"(".into())),
            ErrorCode::InvalidArgumentValue
        );
        assert_eq!(
            regex_match(&"É".into(), &"(?i)é".into()).ok(),
            Some(false.into())
        );
        assert_eq!(
            regex_match(&"é".into(), &r"\w".into()).ok(),
            Some(false.into())
        );
        assert_eq!(
            regex_match(&"a\nb".into(), &"a.b".into()).ok(),
            Some(false.into())
        );
        assert_eq!(
            regex_match(&"a.b*".into(), &r"\Qa.b*\E".into()).ok(),
            Some(true.into())
        );
        assert_eq!(
            regex_match(&"axb".into(), &r"\Qa.b".into()).ok(),
            Some(false.into())
        );
        assert_eq!(
            regex_match(&"ab1".into(), &r"\p{Alpha}+\p{Digit}".into()).ok(),
            Some(true.into())
        );
        assert_eq!(
            regex_match(&"a-1".into(), &r"[\p{Alpha}\p{Digit}-]+".into()).ok(),
            Some(true.into())
        );
        assert_eq!(
            regex_match(&"1".into(), &r"\P{Alpha}".into()).ok(),
            Some(true.into())
        );
        for unsupported in [r"(?=a)a", r"(a)\1", r"\p{L}", r"\p{Alpha"] {
            assert_eq!(
                code(regex_match(&"a".into(), &unsupported.into())),
                ErrorCode::InvalidArgumentValue
            );
        }
        // The cache must not confuse patterns.
        for i in 0..40 {
            let p = format!("x{{{i}}}");
            let s = "x".repeat(i);
            assert_eq!(regex_match(&s.into(), &p.into()).ok(), Some(true.into()));
        }
    }
}
