//! The lexer: statement text → [`Token`]s with byte spans.
//!
//! Keywords are not distinguished here: every unquoted word is a [`TokenKind::Word`] and the
//! parser compares it case-insensitively, because most openCypher keywords are also valid
//! label, property and function names depending on where they appear.
//!
//! Malformed input does not stop the lexer with an error. It yields a token that records the
//! problem ([`TokenKind::BadNumber`], [`TokenKind::Error`]) and, for `Error`, ends the token
//! stream there. The parser decides what to report: the first syntax error in text order is
//! the one the user sees, so a bad token later in the text never hides an earlier mistake,
//! and a malformed number is an `InvalidNumberLiteral` only where a number could stand (in
//! a map key position the TCK expects plain `UnexpectedSyntax`).

use crate::ast::Span;
use nereid_common::ErrorCode;

#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// An unquoted identifier or keyword, as written.
    Word(String),
    /// A `` `backquoted` `` name, unescaped.
    Quoted(String),
    /// `$name` or `$0`: the name without the `$`.
    Parameter(String),
    /// A string literal, unescaped.
    Str(String),
    /// An integer literal's magnitude; `None` if it does not fit in 64 unsigned bits. The
    /// parser decides about `i64` overflow because `-9223372036854775808` is valid.
    Integer(Option<u64>),
    /// A float literal (may be infinite: the parser reports `FloatingPointOverflow`).
    Float(f64),
    /// Text that starts like a number but is not one (`0x`, `12ab`).
    BadNumber,
    /// A lexical error; the token stream ends after it.
    Error(ErrorCode, String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Dot,
    DotDot,
    Colon,
    Semicolon,
    Pipe,
    Plus,
    PlusEq,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    Eq,
    /// `<>`
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `=~`
    RegexEq,
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

/// Splits `text` into tokens; the last token is always `Eof` (after an `Error` token, which
/// ends the stream).
pub fn tokenize(text: &str) -> Vec<Token> {
    tokenize_at_most(text, usize::MAX).unwrap_or_default()
}

/// [`tokenize`], giving up (`None`) as soon as `text` has more than `max` tokens besides
/// the final `Eof`, so a text too large to parse costs no more than `max` tokens.
pub fn tokenize_at_most(text: &str, max: usize) -> Option<Vec<Token>> {
    let mut lexer = Lexer { text, pos: 0 };
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token();
        let stop = matches!(token.kind, TokenKind::Eof | TokenKind::Error(..));
        if !stop && tokens.len() == max {
            return None;
        }
        tokens.push(token);
        if stop {
            break;
        }
    }
    if !matches!(tokens.last().map(|t| &t.kind), Some(TokenKind::Eof)) {
        let end = text.len();
        tokens.push(Token {
            kind: TokenKind::Eof,
            span: Span::new(end, end),
        });
    }
    Some(tokens)
}

struct Lexer<'a> {
    text: &'a str,
    pos: usize,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.text[self.pos..].chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn token(&self, kind: TokenKind, start: usize) -> Token {
        Token {
            kind,
            span: Span::new(start, self.pos),
        }
    }

    /// Skips whitespace and comments; returns an error token for an unterminated block
    /// comment.
    fn skip_trivia(&mut self) -> Option<Token> {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() => {
                    self.bump();
                }
                Some('/') if self.peek_at(1) == Some('/') => {
                    while let Some(c) = self.bump() {
                        if c == '\n' {
                            break;
                        }
                    }
                }
                Some('/') if self.peek_at(1) == Some('*') => {
                    let start = self.pos;
                    self.pos += 2;
                    match self.text[self.pos..].find("*/") {
                        Some(i) => self.pos += i + 2,
                        None => {
                            self.pos = self.text.len();
                            return Some(self.token(
                                TokenKind::Error(
                                    ErrorCode::UnexpectedSyntax,
                                    "Unterminated comment".into(),
                                ),
                                start,
                            ));
                        }
                    }
                }
                _ => return None,
            }
        }
    }

    fn next_token(&mut self) -> Token {
        if let Some(err) = self.skip_trivia() {
            return err;
        }
        let start = self.pos;
        let Some(c) = self.bump() else {
            return self.token(TokenKind::Eof, start);
        };
        use TokenKind as T;
        let kind = match c {
            '(' => T::LParen,
            ')' => T::RParen,
            '[' => T::LBracket,
            ']' => T::RBracket,
            '{' => T::LBrace,
            '}' => T::RBrace,
            ',' => T::Comma,
            ':' => T::Colon,
            ';' => T::Semicolon,
            '|' => T::Pipe,
            '*' => T::Star,
            '/' => T::Slash,
            '%' => T::Percent,
            '^' => T::Caret,
            '-' => T::Minus,
            '+' => {
                if self.peek() == Some('=') {
                    self.bump();
                    T::PlusEq
                } else {
                    T::Plus
                }
            }
            '=' => {
                if self.peek() == Some('~') {
                    self.bump();
                    T::RegexEq
                } else {
                    T::Eq
                }
            }
            '<' => match self.peek() {
                Some('=') => {
                    self.bump();
                    T::Le
                }
                Some('>') => {
                    self.bump();
                    T::Ne
                }
                _ => T::Lt,
            },
            '>' => {
                if self.peek() == Some('=') {
                    self.bump();
                    T::Ge
                } else {
                    T::Gt
                }
            }
            '.' => {
                if self.peek() == Some('.') {
                    self.bump();
                    T::DotDot
                } else if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos = start;
                    return self.number(start);
                } else {
                    T::Dot
                }
            }
            '0'..='9' => {
                self.pos = start;
                return self.number(start);
            }
            '\'' | '"' => return self.string(start, c),
            '`' => return self.quoted(start),
            '$' => return self.parameter(start),
            c if is_ident_start(c) => {
                while self.peek().is_some_and(is_ident_continue) {
                    self.bump();
                }
                T::Word(self.text[start..self.pos].to_string())
            }
            c if !c.is_ascii() => T::Error(
                ErrorCode::InvalidUnicodeCharacter,
                format!("Invalid input '{c}' (U+{:04X}): this character is not part of the Cypher syntax", c as u32),
            ),
            c => T::Error(
                ErrorCode::UnexpectedSyntax,
                format!("Invalid input '{c}'"),
            ),
        };
        self.token(kind, start)
    }

    fn number(&mut self, start: usize) -> Token {
        let rest = &self.text[start..];
        let bytes = rest.as_bytes();
        // Radix-prefixed integers.
        if bytes.len() >= 2 && bytes[0] == b'0' && matches!(bytes[1], b'x' | b'X' | b'o' | b'O') {
            let radix = if matches!(bytes[1], b'x' | b'X') {
                16
            } else {
                8
            };
            self.pos = start + 2;
            let digits_start = self.pos;
            while self.peek().is_some_and(is_ident_continue) {
                self.bump();
            }
            let digits = &self.text[digits_start..self.pos];
            if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
                return self.token(TokenKind::BadNumber, start);
            }
            let value = u64::from_str_radix(digits, radix).ok();
            return self.token(TokenKind::Integer(value), start);
        }
        let mut is_float = false;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
        // A fraction needs a digit after the dot: `1..3` is a range, `n.1` is not a thing.
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            is_float = true;
            self.bump();
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
            }
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            let save = self.pos;
            self.bump();
            if matches!(self.peek(), Some('+' | '-')) {
                self.bump();
            }
            if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                is_float = true;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.bump();
                }
            } else {
                // `1e`, `1ex`: letters glued to a number.
                self.pos = save;
            }
        }
        // A number glued to letters (`12ab`, `9223372h54775808`) is one malformed literal.
        if self.peek().is_some_and(is_ident_continue) {
            while self.peek().is_some_and(is_ident_continue) {
                self.bump();
            }
            return self.token(TokenKind::BadNumber, start);
        }
        let text = &self.text[start..self.pos];
        let kind = if is_float {
            match text.parse::<f64>() {
                Ok(v) => TokenKind::Float(v),
                Err(_) => TokenKind::BadNumber,
            }
        } else {
            TokenKind::Integer(text.parse::<u64>().ok())
        };
        self.token(kind, start)
    }

    fn string(&mut self, start: usize, quote: char) -> Token {
        let mut out = String::new();
        loop {
            let Some(c) = self.bump() else {
                return self.token(
                    TokenKind::Error(
                        ErrorCode::UnexpectedSyntax,
                        "Unterminated string literal".into(),
                    ),
                    start,
                );
            };
            if c == quote {
                return self.token(TokenKind::Str(out), start);
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let esc_start = self.pos - 1;
            let Some(e) = self.bump() else { continue };
            let decoded = match e {
                '\\' => '\\',
                '\'' => '\'',
                '"' => '"',
                'b' | 'B' => '\u{8}',
                'f' | 'F' => '\u{c}',
                'n' | 'N' => '\n',
                'r' | 'R' => '\r',
                't' | 'T' => '\t',
                'u' | 'U' => match self.unicode_escape(e == 'U') {
                    Ok(ch) => ch,
                    Err(msg) => {
                        return Token {
                            kind: TokenKind::Error(ErrorCode::InvalidUnicodeLiteral, msg),
                            span: Span::new(esc_start, self.pos),
                        }
                    }
                },
                other => {
                    return Token {
                        kind: TokenKind::Error(
                            ErrorCode::UnexpectedSyntax,
                            format!("Invalid escape sequence '\\{other}' in string literal"),
                        ),
                        span: Span::new(esc_start, self.pos),
                    }
                }
            };
            out.push(decoded);
        }
    }

    /// Reads the hex digits after `\u` (4) or `\U` (8). A UTF-16 surrogate pair written as
    /// two `\u` escapes (as Java and JSON do) decodes to one character.
    fn unicode_escape(&mut self, long: bool) -> Result<char, String> {
        let value = self.hex_digits(if long { 8 } else { 4 })?;
        if (0xD800..0xDC00).contains(&value) && !long {
            let rest = &self.text[self.pos..];
            if rest.starts_with("\\u") {
                let save = self.pos;
                self.pos += 2;
                if let Ok(low) = self.hex_digits(4) {
                    if (0xDC00..0xE000).contains(&low) {
                        let cp = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00);
                        if let Some(c) = char::from_u32(cp) {
                            return Ok(c);
                        }
                    }
                }
                self.pos = save;
            }
        }
        char::from_u32(value)
            .ok_or_else(|| format!("Invalid unicode literal: U+{value:04X} is not a character"))
    }

    fn hex_digits(&mut self, n: usize) -> Result<u32, String> {
        let rest = &self.text[self.pos..];
        let digits: String = rest.chars().take(n).collect();
        if digits.chars().count() != n || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!(
                "Invalid unicode literal: expected {n} hexadecimal digits after the escape, got '{}'",
                digits
                    .chars()
                    .take_while(|c| !matches!(c, '\'' | '"'))
                    .collect::<String>()
            ));
        }
        self.pos += digits.len();
        u32::from_str_radix(&digits, 16).map_err(|e| format!("Invalid unicode literal: {e}"))
    }

    fn quoted(&mut self, start: usize) -> Token {
        let mut out = String::new();
        loop {
            match self.bump() {
                None => {
                    return self.token(
                        TokenKind::Error(
                            ErrorCode::UnexpectedSyntax,
                            "Unterminated backquoted name".into(),
                        ),
                        start,
                    )
                }
                Some('`') => {
                    if self.peek() == Some('`') {
                        self.bump();
                        out.push('`');
                    } else {
                        return self.token(TokenKind::Quoted(out), start);
                    }
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn parameter(&mut self, start: usize) -> Token {
        match self.peek() {
            Some('`') => {
                let quote_start = self.pos;
                self.bump();
                let inner = self.quoted(quote_start);
                let kind = match inner.kind {
                    TokenKind::Quoted(name) => TokenKind::Parameter(name),
                    other => other,
                };
                self.token(kind, start)
            }
            Some(c) if is_ident_continue(c) => {
                let name_start = self.pos;
                while self.peek().is_some_and(is_ident_continue) {
                    self.bump();
                }
                self.token(
                    TokenKind::Parameter(self.text[name_start..self.pos].to_string()),
                    start,
                )
            }
            _ => self.token(
                TokenKind::Error(
                    ErrorCode::UnexpectedSyntax,
                    "Invalid input '$': expected a parameter name".into(),
                ),
                start,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TokenKind as T;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text).into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn punctuation_and_arrows() {
        assert_eq!(
            kinds("(a)<-[:T]->(b) <> <= >= =~ += .."),
            vec![
                T::LParen,
                T::Word("a".into()),
                T::RParen,
                T::Lt,
                T::Minus,
                T::LBracket,
                T::Colon,
                T::Word("T".into()),
                T::RBracket,
                T::Minus,
                T::Gt,
                T::LParen,
                T::Word("b".into()),
                T::RParen,
                T::Ne,
                T::Le,
                T::Ge,
                T::RegexEq,
                T::PlusEq,
                T::DotDot,
                T::Eof
            ]
        );
    }

    #[test]
    fn spans_are_byte_ranges() {
        let toks = tokenize("RETURN 'é' AS x");
        assert_eq!(toks[0].span, Span::new(0, 6));
        assert_eq!(toks[1].span, Span::new(7, 11));
        assert_eq!(toks[2].span, Span::new(12, 14));
    }

    #[test]
    fn integers_in_three_radixes() {
        assert_eq!(kinds("0x1F")[0], T::Integer(Some(31)));
        assert_eq!(kinds("0o17")[0], T::Integer(Some(15)));
        assert_eq!(kinds("42")[0], T::Integer(Some(42)));
        assert_eq!(
            kinds("9223372036854775808")[0],
            T::Integer(Some(9_223_372_036_854_775_808))
        );
        assert_eq!(kinds("99999999999999999999999")[0], T::Integer(None));
    }

    #[test]
    fn malformed_numbers_are_one_bad_token() {
        assert_eq!(
            kinds("0x AS"),
            vec![T::BadNumber, T::Word("AS".into()), T::Eof]
        );
        assert_eq!(kinds("0x1A2b3j4")[0], T::BadNumber);
        assert_eq!(kinds("9223372h54775808"), vec![T::BadNumber, T::Eof]);
        assert_eq!(kinds("0o8")[0], T::BadNumber);
        assert_eq!(kinds("1B2c3e67")[0], T::BadNumber);
    }

    #[test]
    fn floats_with_exponent_and_leading_dot() {
        assert_eq!(kinds(".5")[0], T::Float(0.5));
        assert_eq!(kinds("1e10")[0], T::Float(1e10));
        assert_eq!(kinds("1.5E-3")[0], T::Float(1.5e-3));
        assert_eq!(kinds("1.34E999")[0], T::Float(f64::INFINITY));
        // A range is not a float.
        assert_eq!(
            kinds("1..3"),
            vec![T::Integer(Some(1)), T::DotDot, T::Integer(Some(3)), T::Eof]
        );
    }

    #[test]
    fn string_escapes() {
        assert_eq!(
            kinds(r#"'a\\b\'c\"d\n\t\u00e9\U0001F600' "x'y""#),
            vec![
                T::Str("a\\b'c\"d\n\té😀".into()),
                T::Str("x'y".into()),
                T::Eof
            ]
        );
        assert_eq!(kinds(r"'\uD83D\uDE00'")[0], T::Str("😀".into()));
    }

    #[test]
    fn bad_unicode_escape_is_coded() {
        match &kinds(r"RETURN '\uH'")[1] {
            T::Error(code, _) => assert_eq!(*code, ErrorCode::InvalidUnicodeLiteral),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unicode_dash_is_an_invalid_character() {
        match &kinds("42 — 41")[1] {
            T::Error(code, _) => assert_eq!(*code, ErrorCode::InvalidUnicodeCharacter),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn comments_and_quoted_names() {
        assert_eq!(
            kinds("a // x\n /* y \n z */ `we``ird` $p $0 $`q q`"),
            vec![
                T::Word("a".into()),
                T::Quoted("we`ird".into()),
                T::Parameter("p".into()),
                T::Parameter("0".into()),
                T::Parameter("q q".into()),
                T::Eof
            ]
        );
    }

    #[test]
    fn unterminated_things_end_the_stream() {
        for text in ["'abc", "`abc", "/* abc", "$"] {
            let toks = kinds(text);
            assert!(
                matches!(toks[0], T::Error(ErrorCode::UnexpectedSyntax, _)),
                "{text}"
            );
            assert_eq!(toks[1], T::Eof);
        }
    }

    #[test]
    fn unicode_identifiers() {
        assert_eq!(kinds("straße")[0], T::Word("straße".into()));
    }
}
