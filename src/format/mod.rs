//! Format: rule text → the same rule text, canonically laid out (`kensa fmt`).
//!
//! Input → output: the text of one rule file → its canonical form, or why it has none. Pure:
//! no I/O. The grammar drops comments, so formatting works on tokens and lines (`lex`,
//! `layout`), not on the AST; only whitespace changes. The AST is the referee: a text is
//! formatted only if it parses, and the result is given back only if it has the same tokens
//! and comments and parses to the same AST (spans aside). Never re-wraps long lines.

mod diff;
mod error;
mod layout;
mod lex;

pub use diff::unified_diff;
pub use error::FormatError;

use crate::diagnostic::Diagnostic;
use crate::syntax::ast::{FileId, Module};
use crate::syntax::parse_file;

/// Format the text of one rule file. Syntax errors (with spans into `text` as file
/// `FileId(0)`) leave it unformatted.
pub fn format(text: &str) -> Result<String, FormatError> {
    let (module, diags) = parse_file(FileId::default(), text);
    let errors: Vec<Diagnostic> = diags.into_iter().filter(Diagnostic::is_error).collect();
    if !errors.is_empty() {
        return Err(FormatError::Syntax(errors));
    }
    let formatted = layout::layout(text);
    verify(text, &module, &formatted)?;
    Ok(formatted)
}

/// The formatted text must hold the same tokens and comments in the same order and parse to
/// the same AST as the original.
fn verify(original: &str, module: &Module, formatted: &str) -> Result<(), FormatError> {
    if significant(original) != significant(formatted) {
        return Err(FormatError::Unstable(String::from("the tokens or comments would change")));
    }
    let (again, diags) = parse_file(FileId::default(), formatted);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(FormatError::Unstable(String::from("the formatted text would not parse")));
    }
    if without_spans(module) != without_spans(&again) {
        return Err(FormatError::Unstable(String::from("the formatted text would parse differently")));
    }
    Ok(())
}

/// Everything but whitespace: the tokens and the comments, in order.
fn significant(text: &str) -> Vec<(Option<lex::Kind>, &str)> {
    let mut out = Vec::new();
    for line in lex::lex(text) {
        out.extend(line.tokens.iter().map(|t| (Some(t.kind), t.text)));
        out.extend(line.comment.map(|c| (None, c.text)));
    }
    out
}

/// The AST as text with every span left out, so that two parses of texts that differ only
/// in layout compare equal.
fn without_spans(module: &Module) -> String {
    const SPAN: &str = "Span { file: ";
    let debug = format!("{module:?}");
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug.as_str();
    while let Some(at) = rest.find(SPAN) {
        out.push_str(rest.get(..at).unwrap_or(""));
        out.push_str("Span");
        let after = rest.get(at..).unwrap_or("");
        rest = after.find(" }").and_then(|end| after.get(end + 2..)).unwrap_or("");
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_left_out_of_the_comparison() {
        let (a, _) = parse_file(FileId::default(), "let x = f(a,b)\n");
        let (b, _) = parse_file(FileId::default(), "let   x =\n  f( a , b )\n");
        let (c, _) = parse_file(FileId::default(), "let x = f(b, a)\n");
        assert!(format!("{a:?}").contains("Span { file: "));
        assert!(!without_spans(&a).contains("start"));
        assert_eq!(without_spans(&a), without_spans(&b));
        assert_ne!(without_spans(&a), without_spans(&c));
    }

    #[test]
    fn a_result_with_other_tokens_or_meaning_is_refused() {
        let text = "let x = a ++ b\n";
        let (module, _) = parse_file(FileId::default(), text);
        assert!(verify(text, &module, "let x = a ++ b // note\n").is_err());
        assert!(verify(text, &module, "let x = a ++ c\n").is_err());
        assert!(verify(text, &module, "let  x =\n a++b").is_ok());
        // Same tokens, but a rule name is one word: spaces in it do not parse.
        let text = "rule a.b {\n  require x\n  reject\n}\n";
        let (module, _) = parse_file(FileId::default(), text);
        assert!(verify(text, &module, text).is_ok());
        assert!(verify(text, &module, "rule a . b {\n  require x\n  reject\n}\n").is_err());
    }

    #[test]
    fn a_text_that_does_not_parse_is_not_formatted() {
        assert!(matches!(format("rule x {\n  require\n}\n"), Err(FormatError::Syntax(d)) if !d.is_empty()));
    }
}
