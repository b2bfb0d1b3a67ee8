//! Rule text → lines of tokens, each line with its trailing comment.
//!
//! The grammar treats comments and whitespace as silent, so the AST cannot give them back; the
//! formatter works on this token view instead. Strings (which may hold Japanese, `{…}`
//! templates and `//`) and regexes (`/…/`, which may hold `#`) are single tokens, so a comment
//! marker inside them is never taken for a comment. Whitespace, including the full-width space
//! and the byte order mark that the grammar accepts, is dropped: it is what the formatter
//! rewrites.

/// What a token is, as far as spacing and indentation care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A name or keyword: `rule`, `family_name`, `jaro_winkler`.
    Word,
    /// An integer, a decimal number or a date (`1900-01-01` is one token).
    Number,
    /// `"…"` with its quotes.
    Str,
    /// `/…/` with its slashes.
    Regex,
    /// An operator or punctuation: `{`, `==`, `++`, `,`, `?`, …
    Punct,
    /// A character the rule language does not use outside quotes (the file would not parse).
    Other,
}

/// One token: its kind and its text exactly as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token<'a> {
    pub kind: Kind,
    pub text: &'a str,
}

impl Token<'_> {
    pub fn is(&self, punct: &str) -> bool {
        self.kind == Kind::Punct && self.text == punct
    }
    pub fn is_word(&self, word: &str) -> bool {
        self.kind == Kind::Word && self.text == word
    }
    pub fn is_opener(&self) -> bool {
        self.kind == Kind::Punct && matches!(self.text, "{" | "(" | "[")
    }
    pub fn is_closer(&self) -> bool {
        self.kind == Kind::Punct && matches!(self.text, "}" | ")" | "]")
    }
}

/// A comment at the end of a line (or alone on it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Comment<'a> {
    /// From `//` or `#` to the end of the line, trailing whitespace removed.
    pub text: &'a str,
    /// Column (in characters, from 0) where it started in the original line.
    pub column: usize,
}

/// One line of the original text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Line<'a> {
    pub tokens: Vec<Token<'a>>,
    pub comment: Option<Comment<'a>>,
}

/// Whitespace as the grammar defines it (`\n` aside, which ends a line).
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\u{3000}' | '\u{FEFF}')
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

const TWO_CHAR_OPS: &[&str] = &["==", "!=", "<=", ">=", "++"];
const ONE_CHAR_OPS: &str = "{}()[],:;.?=<>+-";

/// Split a text into lines of tokens.
pub fn lex(text: &str) -> Vec<Line<'_>> {
    text.split('\n').map(lex_line).collect()
}

fn lex_line(line: &str) -> Line<'_> {
    let mut out = Line::default();
    let mut pos = 0;
    let mut column = 0;
    while let Some(rest) = line.get(pos..) {
        let Some(c) = rest.chars().next() else { break };
        let len = if is_space(c) {
            c.len_utf8()
        } else if rest.starts_with("//") || c == '#' {
            out.comment = Some(Comment { text: rest.trim_end(), column });
            break;
        } else {
            let (kind, len) = token_at(rest, c);
            out.tokens.push(Token { kind, text: rest.get(..len).unwrap_or(rest) });
            len
        };
        column += rest.get(..len).map_or(1, |t| t.chars().count());
        pos += len;
    }
    out
}

/// The kind and byte length of the token that starts `rest` (whose first character is `c`).
fn token_at(rest: &str, c: char) -> (Kind, usize) {
    match c {
        '"' => (Kind::Str, quoted_len(rest, '"')),
        '/' => (Kind::Regex, quoted_len(rest, '/')),
        '0'..='9' => (Kind::Number, number_len(rest)),
        c if c.is_ascii_alphabetic() || c == '_' => (Kind::Word, run_len(rest, is_ident_char)),
        _ => {
            if let Some(op) = TWO_CHAR_OPS.iter().find(|op| rest.starts_with(**op)) {
                (Kind::Punct, op.len())
            } else if ONE_CHAR_OPS.contains(c) {
                (Kind::Punct, 1)
            } else {
                (Kind::Other, c.len_utf8())
            }
        }
    }
}

/// Length of the leading run of characters satisfying `f`.
fn run_len(s: &str, f: impl Fn(char) -> bool) -> usize {
    s.char_indices().find(|(_, c)| !f(*c)).map_or(s.len(), |(i, _)| i)
}

/// Length of a string or regex literal, closing delimiter included; a literal not closed on
/// its line runs to the end of the line.
fn quoted_len(s: &str, delim: char) -> usize {
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            chars.next();
        } else if c == delim {
            return i + c.len_utf8();
        }
    }
    s.len()
}

/// Length of a number or date. Letters and digits glued to a number stay with it, so the
/// formatter never separates what the parser would read as one word.
fn number_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    let digit = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    let is_date = (0..4).all(digit)
        && bytes.get(4) == Some(&b'-')
        && (5..7).all(digit)
        && bytes.get(7) == Some(&b'-')
        && (8..10).all(digit);
    let mut len = if is_date { 10 } else { run_len(s, is_ident_char) };
    // A decimal point followed by digits belongs to the number.
    if !is_date && bytes.get(len) == Some(&b'.') && digit(len + 1) {
        len += 1 + s.get(len + 1..).map_or(0, |r| run_len(r, is_ident_char));
    }
    len + s.get(len..).map_or(0, |r| run_len(r, is_ident_char))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;

    fn texts(line: &str) -> Vec<&str> {
        lex_line(line).tokens.iter().map(|t| t.text).collect()
    }

    #[test]
    fn comment_markers_inside_literals_are_not_comments() {
        let l = lex_line(r#"  require x matches /^#[0-9]$/ and y == "a // b # c" // real"#);
        assert_eq!(l.comment, Some(Comment { text: "// real", column: 53 }));
        assert_eq!(
            l.tokens.iter().map(|t| t.text).collect::<Vec<_>>(),
            ["require", "x", "matches", "/^#[0-9]$/", "and", "y", "==", "\"a // b # c\""]
        );
    }

    #[test]
    fn dates_floats_and_operators_are_single_tokens() {
        assert_eq!(texts("a>=1900-01-01++0.85-2"), ["a", ">=", "1900-01-01", "++", "0.85", "-", "2"]);
        assert_eq!(texts("x.y[\"k\"]?"), ["x", ".", "y", "[", "\"k\"", "]", "?"]);
        assert_eq!(texts("12ab"), ["12ab"]);
    }

    #[test]
    fn escaped_quotes_and_japanese_stay_inside_strings() {
        let l = lex_line("review \"「{x}」\\\"は\"　# 全角");
        assert_eq!(l.tokens[1].text, "\"「{x}」\\\"は\"");
        assert_eq!(l.comment.map(|c| c.column), Some(18));
    }
}
