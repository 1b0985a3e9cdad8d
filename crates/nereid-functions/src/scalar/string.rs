//! String functions: case, trimming, `replace`, `substring`, `left`, `right`, `split`,
//! and Neptune's `join` and `textIndexOf`.
//!
//! Positions and lengths count Unicode scalar values (code points), as Neo4j's text values
//! do, never bytes. Null in the string argument gives null; a null or negative position or
//! length is an error, as openCypher specifies for `substring`, `left` and `right`.

use nereid_common::{Error, ErrorCode};
use nereid_value::Value;

use crate::args::{arg, integer, list, non_negative, string, type_error};

fn map_string(
    function: &str,
    args: &[Value],
    f: impl FnOnce(&str) -> String,
) -> Result<Value, Error> {
    Ok(string(function, arg(function, args, 0)?)?.map_or(Value::Null, |s| Value::String(f(s))))
}

pub(crate) fn to_upper(args: &[Value]) -> Result<Value, Error> {
    map_string("toUpper", args, str::to_uppercase)
}
pub(crate) fn to_lower(args: &[Value]) -> Result<Value, Error> {
    map_string("toLower", args, str::to_lowercase)
}
pub(crate) fn trim(args: &[Value]) -> Result<Value, Error> {
    map_string("trim", args, |s| s.trim().to_owned())
}
pub(crate) fn ltrim(args: &[Value]) -> Result<Value, Error> {
    map_string("ltrim", args, |s| s.trim_start().to_owned())
}
pub(crate) fn rtrim(args: &[Value]) -> Result<Value, Error> {
    map_string("rtrim", args, |s| s.trim_end().to_owned())
}

/// `replace(original, search, replacement)`: every occurrence; an empty `search` inserts
/// the replacement between every character, as Java's `String.replace` does.
pub(crate) fn replace(args: &[Value]) -> Result<Value, Error> {
    const F: &str = "replace";
    let original = string(F, arg(F, args, 0)?)?;
    let search = string(F, arg(F, args, 1)?)?;
    let replacement = string(F, arg(F, args, 2)?)?;
    Ok(match (original, search, replacement) {
        (Some(o), Some(s), Some(r)) => Value::String(o.replace(s, r)),
        _ => Value::Null,
    })
}

/// The byte offset of the `n`-th character of `s`, or `s.len()` when there are fewer.
fn byte_offset(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

/// `substring(original, start[, length])`.
pub(crate) fn substring(args: &[Value]) -> Result<Value, Error> {
    const F: &str = "substring";
    let original = string(F, arg(F, args, 0)?)?;
    let start = non_negative(F, "start", arg(F, args, 1)?)?;
    let length = match args.get(2) {
        Some(v) => Some(non_negative(F, "length", v)?),
        None => None,
    };
    let Some(s) = original else {
        return Ok(Value::Null);
    };
    let from = byte_offset(s, start);
    let rest = &s[from..];
    let to = length.map_or(rest.len(), |l| byte_offset(rest, l));
    Ok(Value::String(rest[..to].to_owned()))
}

/// `left(original, length)`.
pub(crate) fn left(args: &[Value]) -> Result<Value, Error> {
    const F: &str = "left";
    let original = string(F, arg(F, args, 0)?)?;
    let n = non_negative(F, "length", arg(F, args, 1)?)?;
    Ok(original.map_or(Value::Null, |s| {
        Value::String(s[..byte_offset(s, n)].to_owned())
    }))
}

/// `right(original, length)`.
pub(crate) fn right(args: &[Value]) -> Result<Value, Error> {
    const F: &str = "right";
    let original = string(F, arg(F, args, 0)?)?;
    let n = non_negative(F, "length", arg(F, args, 1)?)?;
    Ok(original.map_or(Value::Null, |s| {
        let count = s.chars().count();
        let skip = count.saturating_sub(n);
        Value::String(s[byte_offset(s, skip)..].to_owned())
    }))
}

/// `split(original, delimiter)`: all tokens kept, empty ones included; an empty delimiter
/// splits into characters; a list of delimiters splits on any of them.
pub(crate) fn split(args: &[Value]) -> Result<Value, Error> {
    const F: &str = "split";
    let original = string(F, arg(F, args, 0)?)?;
    let delimiters: Option<Vec<&str>> = match arg(F, args, 1)? {
        Value::Null => None,
        Value::String(d) => Some(vec![d.as_str()]),
        Value::List(items) => {
            let mut ds = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(d) => ds.push(d.as_str()),
                    Value::Null => return Ok(Value::Null),
                    other => return Err(type_error(F, "String delimiters", other)),
                }
            }
            Some(ds)
        }
        other => return Err(type_error(F, "a String or a List of Strings", other)),
    };
    let (Some(s), Some(delimiters)) = (original, delimiters) else {
        return Ok(Value::Null);
    };
    let tokens: Vec<Value> = if delimiters.iter().all(|d| d.is_empty()) {
        s.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        split_any(s, &delimiters)
    };
    Ok(Value::List(tokens))
}

/// Splits on the earliest (then longest) occurrence of any non-empty delimiter.
fn split_any(s: &str, delimiters: &[&str]) -> Vec<Value> {
    let mut out = Vec::new();
    let mut token_start = 0;
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        let hit = delimiters
            .iter()
            .filter(|d| !d.is_empty() && rest.starts_with(**d))
            .map(|d| d.len())
            .max();
        match hit {
            Some(len) => {
                out.push(Value::String(s[token_start..i].to_owned()));
                i += len;
                token_start = i;
            }
            None => {
                i += rest.chars().next().map_or(1, char::len_utf8);
            }
        }
    }
    out.push(Value::String(s[token_start..].to_owned()));
    out
}

/// Neptune's `join(list, delimiter)`: the strings of the list joined; null elements are
/// skipped (they are what missing properties look like), other non-strings are an error.
pub(crate) fn join(args: &[Value]) -> Result<Value, Error> {
    const F: &str = "join";
    let items = list(F, arg(F, args, 0)?)?;
    let delimiter = string(F, arg(F, args, 1)?)?;
    let (Some(items), Some(delimiter)) = (items, delimiter) else {
        return Ok(Value::Null);
    };
    let mut out = String::new();
    let mut first = true;
    for item in items {
        match item {
            Value::Null => {}
            Value::String(s) => {
                if !first {
                    out.push_str(delimiter);
                }
                out.push_str(s);
                first = false;
            }
            other => return Err(type_error(F, "a List of Strings", other)),
        }
    }
    Ok(Value::String(out))
}

/// Neptune's `textIndexOf(text, lookup[, from[, to]])`: the character index of the first
/// occurrence of `lookup` in `text[from..to]` (`to` = -1 for the end), or -1.
pub(crate) fn text_index_of(args: &[Value]) -> Result<Value, Error> {
    const F: &str = "textIndexOf";
    let text = string(F, arg(F, args, 0)?)?;
    let lookup = string(F, arg(F, args, 1)?)?;
    let from = match args.get(2) {
        Some(v) => integer(F, v)?.unwrap_or(0),
        None => 0,
    };
    let to = match args.get(3) {
        Some(v) => integer(F, v)?.unwrap_or(-1),
        None => -1,
    };
    let (Some(text), Some(lookup)) = (text, lookup) else {
        return Ok(Value::Null);
    };
    if from < 0 || to < -1 {
        return Err(Error::new(
            ErrorCode::InvalidArgumentValue,
            format!("{F}(): from ({from}) must be >= 0 and to ({to}) >= -1"),
        ));
    }
    let count = text.chars().count();
    let from = usize::try_from(from).unwrap_or(usize::MAX).min(count);
    let to = if to == -1 {
        count
    } else {
        usize::try_from(to).unwrap_or(usize::MAX).min(count)
    };
    if from > to {
        return Ok(Value::Int(-1));
    }
    let (start, end) = (byte_offset(text, from), byte_offset(text, to));
    Ok(Value::Int(match text[start..end].find(lookup) {
        Some(pos) => (from + text[start..start + pos].chars().count()) as i64,
        None => -1,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::from(v)
    }
    fn strs(v: &[&str]) -> Value {
        Value::List(v.iter().map(|x| s(x)).collect())
    }
    fn code(r: Result<Value, Error>) -> ErrorCode {
        match r {
            Err(e) => e.code,
            Ok(v) => panic!("expected an error, got {v}"),
        }
    }

    #[test]
    fn case_and_trim() {
        assert_eq!(to_upper(&[s("aBc ß")]).ok(), Some(s("ABC SS")));
        assert_eq!(to_lower(&[s("ÅBC")]).ok(), Some(s("åbc")));
        assert_eq!(trim(&[s("  a b \n")]).ok(), Some(s("a b")));
        assert_eq!(ltrim(&[s("  a ")]).ok(), Some(s("a ")));
        assert_eq!(rtrim(&[s("  a ")]).ok(), Some(s("  a")));
        assert_eq!(to_upper(&[Value::Null]).ok(), Some(Value::Null));
        assert_eq!(code(trim(&[1.into()])), ErrorCode::InvalidArgumentType);
    }

    #[test]
    fn replace_all_occurrences() {
        assert_eq!(
            replace(&[s("hello"), s("l"), s("w")]).ok(),
            Some(s("hewwo"))
        );
        assert_eq!(replace(&[s("ab"), s(""), s("-")]).ok(), Some(s("-a-b-")));
        assert_eq!(
            replace(&[s("ab"), Value::Null, s("-")]).ok(),
            Some(Value::Null)
        );
        assert_eq!(
            code(replace(&[s("ab"), 1.into(), s("-")])),
            ErrorCode::InvalidArgumentType
        );
    }

    #[test]
    fn substring_counts_characters() {
        assert_eq!(
            substring(&[s("0123456789"), 1.into()]).ok(),
            Some(s("123456789"))
        );
        assert_eq!(
            substring(&[s("0123456789"), 1.into(), 3.into()]).ok(),
            Some(s("123"))
        );
        assert_eq!(
            substring(&[s("héllo"), 1.into(), 2.into()]).ok(),
            Some(s("él"))
        );
        assert_eq!(substring(&[s("abc"), 5.into()]).ok(), Some(s("")));
        assert_eq!(
            substring(&[s("abc"), 1.into(), 50.into()]).ok(),
            Some(s("bc"))
        );
        assert_eq!(substring(&[Value::Null, 1.into()]).ok(), Some(Value::Null));
        assert_eq!(
            code(substring(&[s("abc"), (-1).into()])),
            ErrorCode::NegativeIntegerArgumentRuntime
        );
        assert_eq!(
            code(substring(&[s("abc"), 0.into(), (-1).into()])),
            ErrorCode::NegativeIntegerArgumentRuntime
        );
        assert_eq!(
            code(substring(&[s("abc"), Value::Null])),
            ErrorCode::InvalidArgumentType
        );
        assert_eq!(
            code(substring(&[s("abc"), 1.5.into()])),
            ErrorCode::InvalidArgumentType
        );
    }

    #[test]
    fn left_and_right() {
        assert_eq!(left(&[s("hello"), 3.into()]).ok(), Some(s("hel")));
        assert_eq!(left(&[s("hé"), 10.into()]).ok(), Some(s("hé")));
        assert_eq!(right(&[s("hello"), 3.into()]).ok(), Some(s("llo")));
        assert_eq!(right(&[s("hé"), 1.into()]).ok(), Some(s("é")));
        assert_eq!(right(&[s("hé"), 0.into()]).ok(), Some(s("")));
        assert_eq!(left(&[Value::Null, 3.into()]).ok(), Some(Value::Null));
        assert_eq!(
            code(left(&[s("a"), (-1).into()])),
            ErrorCode::NegativeIntegerArgumentRuntime
        );
        assert_eq!(
            code(right(&[s("a"), Value::Null])),
            ErrorCode::InvalidArgumentType
        );
    }

    #[test]
    fn split_keeps_all_tokens() {
        assert_eq!(
            split(&[s("one1two"), s("1")]).ok(),
            Some(strs(&["one", "two"]))
        );
        assert_eq!(
            split(&[s("a,,b,"), s(",")]).ok(),
            Some(strs(&["a", "", "b", ""]))
        );
        assert_eq!(split(&[s(""), s(",")]).ok(), Some(strs(&[""])));
        assert_eq!(split(&[s("abc"), s("")]).ok(), Some(strs(&["a", "b", "c"])));
        assert_eq!(split(&[s("a::b"), s("::")]).ok(), Some(strs(&["a", "b"])));
        assert_eq!(
            split(&[s("a-b_c"), strs(&["-", "_"])]).ok(),
            Some(strs(&["a", "b", "c"]))
        );
        assert_eq!(split(&[s("a"), Value::Null]).ok(), Some(Value::Null));
        assert_eq!(
            code(split(&[s("a"), 1.into()])),
            ErrorCode::InvalidArgumentType
        );
    }

    #[test]
    fn neptune_join_and_text_index_of() {
        assert_eq!(
            join(&[strs(&["a", "b", "c"]), s(", ")]).ok(),
            Some(s("a, b, c"))
        );
        assert_eq!(
            join(&[Value::List(vec![s("a"), Value::Null, s("b")]), s("-")]).ok(),
            Some(s("a-b"))
        );
        assert_eq!(join(&[strs(&[]), s("-")]).ok(), Some(s("")));
        assert_eq!(join(&[Value::Null, s("-")]).ok(), Some(Value::Null));
        assert_eq!(
            code(join(&[Value::List(vec![1.into()]), s("-")])),
            ErrorCode::InvalidArgumentType
        );
        assert_eq!(text_index_of(&[s("héllo"), s("l")]).ok(), Some(2.into()));
        assert_eq!(
            text_index_of(&[s("hello"), s("l"), 3.into()]).ok(),
            Some(3.into())
        );
        assert_eq!(
            text_index_of(&[s("hello"), s("lo"), 0.into(), 4.into()]).ok(),
            Some((-1).into())
        );
        assert_eq!(text_index_of(&[s("hello"), s("z")]).ok(), Some((-1).into()));
        assert_eq!(
            text_index_of(&[Value::Null, s("z")]).ok(),
            Some(Value::Null)
        );
    }
}
