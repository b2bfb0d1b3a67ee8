//! Message templates: `"口座名義 {bank.holder_kana} が {kana} と一致しません"`.
//!
//! `{…}` holds an expression; `{{` and `}}` are literal braces. Expressions are parsed from the
//! raw source text so that their spans point into the rule file.

use crate::diagnostic::Diagnostic;
use crate::syntax::ast::{Expr, Span};
use crate::syntax::parse_expr;

use super::error::CheckCode;

/// A piece of a message template.
#[derive(Clone, Debug)]
pub enum TemplatePart {
    Text(String),
    Expr(Expr),
}

/// Parse a template from the raw literal as written (including its quotes), which starts at `span`.
pub fn parse(raw_with_quotes: &str, span: Span) -> Result<Vec<TemplatePart>, Diagnostic> {
    let raw = raw_with_quotes.strip_prefix('"').and_then(|r| r.strip_suffix('"')).unwrap_or(raw_with_quotes);
    let base = span.start as usize + 1;
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next().map(|(_, n)| n) {
                Some('n') => text.push('\n'),
                Some('t') => text.push('\t'),
                Some(n) => text.push(n),
                None => {}
            },
            '{' if chars.peek().is_some_and(|(_, n)| *n == '{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek().is_some_and(|(_, n)| *n == '}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let start = i + 1;
                let mut end = None;
                for (j, d) in chars.by_ref() {
                    if d == '}' {
                        end = Some(j);
                        break;
                    }
                }
                let Some(end) = end else {
                    let at = Span::new(span.file, base + i, base + raw.len());
                    return Err(Diagnostic::error(CheckCode::BadTemplate, "`{` in a message is not closed")
                        .label(at, "opened here")
                        .help("close it with `}`, or write `{{` for a literal brace"));
                };
                let inner = raw.get(start..end).unwrap_or("");
                if inner.trim().is_empty() {
                    let at = Span::new(span.file, base + i, base + end + 1);
                    return Err(Diagnostic::error(CheckCode::BadTemplate, "empty `{}` in a message")
                        .label(at, "nothing between the braces")
                        .help("write a field or binding name between the braces, e.g. `{family_name}`"));
                }
                match parse_expr(span.file, inner, base + start) {
                    Ok(e) => {
                        if !text.is_empty() {
                            parts.push(TemplatePart::Text(std::mem::take(&mut text)));
                        }
                        parts.push(TemplatePart::Expr(e));
                    }
                    Err(d) => {
                        let at = Span::new(span.file, base + start, base + end);
                        // A long expression is pointed at, not repeated.
                        let shown = crate::display::shorten(inner, crate::display::QUOTED_CHARS);
                        return Err(Diagnostic::error(
                            CheckCode::BadTemplate,
                            format!("cannot read `{{{shown}}}` in a message"),
                        )
                        .label(at, d.message)
                        .help("write a field or binding name between the braces, e.g. `{family_name}`"));
                    }
                }
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        parts.push(TemplatePart::Text(text));
    }
    Ok(parts)
}
