//! Why a rule text was not formatted.

use crate::diagnostic::Diagnostic;

/// A text the formatter gives back unchanged, and why.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The text does not parse: its syntax errors, with spans into it. A file is only
    /// formatted once it parses, so that the result can be checked.
    #[error("the rule text does not parse ({} syntax error(s))", .0.len())]
    Syntax(Vec<Diagnostic>),
    /// The formatted text would not mean the same as the original (a bug in the formatter,
    /// caught by the check after formatting); the original is kept.
    #[error("formatting would change the rules: {0}")]
    Unstable(String),
}
