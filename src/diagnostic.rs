//! Diagnostics about rule files: one shape for every phase, rendered with miette.
//!
//! Each phase owns its codes (`syntax::error::SyntaxCode`, `check::error::CheckCode`,
//! `source::LoadCode`); a [`Diagnostic`] carries one of them, a message, labelled spans and
//! an optional help line. Rendering needs the [`SourceMap`] the spans point into. What is
//! rendered is safe for a terminal: control characters and bidi overrides in the rule text, the
//! file name, the message or the help are shown escaped (`crate::display`), spans still point
//! at the same characters, and columns are those of the original text.

use std::fmt;
use std::sync::Arc;

use miette::{LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::check::error::CheckCode;
use crate::display::{EscapeMap, escape_controls, escape_text, escape_text_mapped};
use crate::overlay::error::OverlayCode;
use crate::source::{LoadCode, SourceMap};
use crate::syntax::ast::Span;
use crate::syntax::error::SyntaxCode;

/// How bad a diagnostic is: errors stop compilation, warnings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Warning,
    Error,
}

/// A stable diagnostic code such as `kensa::check::unknown_field`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    Load(LoadCode),
    Syntax(SyntaxCode),
    Check(CheckCode),
    Overlay(OverlayCode),
}

impl Code {
    /// The stable code string, e.g. `kensa::check::unknown_field`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Load(c) => c.as_str(),
            Code::Syntax(c) => c.as_str(),
            Code::Check(c) => c.as_str(),
            Code::Overlay(c) => c.as_str(),
        }
    }
    /// What the diagnostic means and how to fix it (used by the generated docs).
    pub fn explanation(self) -> &'static str {
        match self {
            Code::Load(c) => c.explanation(),
            Code::Syntax(c) => c.explanation(),
            Code::Check(c) => c.explanation(),
            Code::Overlay(c) => c.explanation(),
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One labelled span of a diagnostic.
#[derive(Clone, Debug)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// A problem found in a rule set.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub code: Code,
    pub level: Level,
    pub message: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: impl Into<Code>, message: impl Into<String>) -> Self {
        Diagnostic { code: code.into(), level: Level::Error, message: message.into(), labels: Vec::new(), help: None }
    }
    pub fn warning(code: impl Into<Code>, message: impl Into<String>) -> Self {
        Diagnostic { code: code.into(), level: Level::Warning, message: message.into(), labels: Vec::new(), help: None }
    }
    pub fn label(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push(Label { span, text: text.into() });
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }
    /// The first labelled span, used to sort diagnostics by position.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }
    /// Attach the source text so that miette can render this diagnostic.
    pub fn with_source(&self, sources: &SourceMap) -> RenderedDiagnostic {
        let file = self.primary_span().map(|s| s.file);
        let (name, text) = match file.and_then(|f| sources.get(f)) {
            Some(sf) => (sf.name.clone(), sf.text.clone()),
            None => (String::from("<rules>"), Arc::from("")),
        };
        let source = Source::new(&name, &text);
        let labels = self
            .labels
            .iter()
            .filter(|l| Some(l.span.file) == file)
            .map(|l| {
                let label = if l.text.is_empty() { None } else { Some(escape_controls(&l.text).into_owned()) };
                let (start, end) = (source.map.offset(l.span.start as usize), source.map.offset(l.span.end as usize));
                LabeledSpan::new_with_span(label, SourceSpan::new(start.into(), end.saturating_sub(start)))
            })
            .collect();
        let mut diag = self.clone();
        diag.message = escape_controls(&diag.message).into_owned();
        diag.help = diag.help.map(|h| escape_text(&h).into_owned());
        // miette cannot draw a line of more than 65,535 columns (it panics): for a label on a
        // very long line (a generated rule file), give the position in words instead.
        let long = self.labels.iter().filter(|l| Some(l.span.file) == file).find_map(|l| {
            let start = l.span.start as usize;
            let line_start = text.get(..start).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
            let line_end = text.get(start..).and_then(|t| t.find('\n')).map_or(text.len(), |i| start + i);
            (line_end.saturating_sub(line_start) > MAX_SHOWN_LINE).then(|| {
                let line = text.get(..start).map_or(0, |t| t.matches('\n').count()) + 1;
                let column = text.get(line_start..start).map_or(0, |t| t.chars().count()) + 1;
                (line, column)
            })
        });
        if let Some((line, column)) = long {
            diag.message = format!("{} (line {line}, column {column}; the line is too long to show)", diag.message);
            return RenderedDiagnostic { diag, source, labels: Vec::new() };
        }
        RenderedDiagnostic { diag, source, labels }
    }
}

impl From<LoadCode> for Code {
    fn from(c: LoadCode) -> Self {
        Code::Load(c)
    }
}
impl From<SyntaxCode> for Code {
    fn from(c: SyntaxCode) -> Self {
        Code::Syntax(c)
    }
}
impl From<CheckCode> for Code {
    fn from(c: CheckCode) -> Self {
        Code::Check(c)
    }
}

impl From<OverlayCode> for Code {
    fn from(c: OverlayCode) -> Self {
        Code::Overlay(c)
    }
}

/// A [`Diagnostic`] together with the source text it points into; implements [`miette::Diagnostic`].
#[derive(Debug)]
pub struct RenderedDiagnostic {
    diag: Diagnostic,
    source: Source,
    labels: Vec<LabeledSpan>,
}

/// A named rule text. Unlike miette's `NamedSource`, the column it reports for a position
/// counts characters, not bytes (`氏「{nmae}」` is at column 4, not 8), so `file:line:column`
/// agrees with `kensa check --format json` and with editors. The name and the text are held
/// escaped for a terminal; `map` says where the original's offsets went, and columns are
/// counted in the original's characters.
#[derive(Debug)]
struct Source {
    name: String,
    text: Arc<str>,
    map: EscapeMap,
}

impl Source {
    fn new(name: &str, text: &Arc<str>) -> Source {
        let (shown, map) = escape_text_mapped(text);
        let text = match shown {
            std::borrow::Cow::Borrowed(_) => Arc::clone(text),
            std::borrow::Cow::Owned(s) => Arc::from(s),
        };
        Source { name: escape_controls(name).into_owned(), text, map }
    }
}

impl SourceCode for Source {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.read_span(span, context_lines_before, context_lines_after)?;
        let column = if context_lines_before == 0 {
            let before = self.text.get(..span.offset()).unwrap_or("");
            let line = before.rsplit('\n').next().unwrap_or("");
            let chars = line.chars().count();
            chars.saturating_sub(self.map.extra_chars(before.len() - line.len(), span.offset()))
        } else {
            inner.column()
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            column,
            inner.line_count(),
        )))
    }
}

impl fmt::Display for RenderedDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for RenderedDiagnostic {}

impl miette::Diagnostic for RenderedDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.diag.code.as_str()))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.level {
            Level::Error => miette::Severity::Error,
            Level::Warning => miette::Severity::Warning,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diag.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        if self.labels.is_empty() { None } else { Some(&self.source) }
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() { None } else { Some(Box::new(self.labels.iter().cloned())) }
    }
}

/// Drop every diagnostic that repeats an earlier one word for word at the same places (the
/// same mistake found twice, e.g. by two ways of reading a broken item), keeping the order.
pub fn dedup_identical(diags: &mut Vec<Diagnostic>) {
    let keep: Vec<bool> = {
        let mut seen = std::collections::HashSet::new();
        diags.iter().map(|d| seen.insert(d.key())).collect()
    };
    let mut keep = keep.into_iter();
    diags.retain(|_| keep.next().unwrap_or(true));
}

/// What makes two diagnostics the same: code, level, words and places.
type DiagnosticKey<'a> = (Code, Level, &'a str, Option<&'a str>, Vec<(Span, &'a str)>);

impl Diagnostic {
    fn key(&self) -> DiagnosticKey<'_> {
        let labels = self.labels.iter().map(|l| (l.span, l.text.as_str())).collect();
        (self.code, self.level, &self.message, self.help.as_deref(), labels)
    }
}

/// Render diagnostics as plain text (no colour, fixed width), as `kensa check` prints them
/// when not on a terminal and as the snapshot tests record them.
/// The longest source line a rendered diagnostic shows, in bytes.
const MAX_SHOWN_LINE: usize = 4096;

pub fn render_plain(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    for d in diags {
        let rendered = d.with_source(sources);
        // Writing into a String cannot fail.
        let _ = handler.render_report(&mut out, &rendered);
    }
    out
}

/// Fuzzy "did you mean" helper: the closest candidate within a small edit distance.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(name, c);
        let limit = (name.chars().count().max(c.chars().count()) / 3).max(1);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and transpositions
/// of neighbours each count one (`mael` → `male` is 1).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    let at = |i: usize, j: usize| i * w + j;
    for i in 0..=a.len() {
        if let Some(x) = d.get_mut(at(i, 0)) {
            *x = i;
        }
    }
    for j in 0..=b.len() {
        if let Some(x) = d.get_mut(at(0, j)) {
            *x = j;
        }
    }
    let get = |d: &Vec<usize>, i: usize, j: usize| d.get(at(i, j)).copied().unwrap_or(usize::MAX / 2);
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let (ca, cb) = (a.get(i - 1), b.get(j - 1));
            let cost = usize::from(ca != cb);
            let mut v = (get(&d, i - 1, j) + 1).min(get(&d, i, j - 1) + 1).min(get(&d, i - 1, j - 1) + cost);
            if i > 1 && j > 1 && ca == b.get(j - 2) && a.get(i - 2) == cb {
                v = v.min(get(&d, i - 2, j - 2) + 1);
            }
            if let Some(x) = d.get_mut(at(i, j)) {
                *x = v;
            }
        }
    }
    get(&d, a.len(), b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names() {
        let fields = ["birth_date", "family_name", "given_name"];
        assert_eq!(did_you_mean("birth_dat", fields), Some("birth_date"));
        assert_eq!(did_you_mean("brith_date", fields), Some("birth_date"));
        assert_eq!(did_you_mean("zzz", fields), None);
        assert_eq!(did_you_mean("mael", ["male", "female"]), Some("male"));
    }

    #[test]
    fn identical_diagnostics_are_kept_once() {
        let span = Span::new(crate::syntax::ast::FileId(0), 3, 7);
        let d = |msg: &str| Diagnostic::error(SyntaxCode::Unexpected, msg).label(span, "here");
        let mut diags = vec![d("a"), d("b"), d("a"), d("a").help("other help"), d("b")];
        dedup_identical(&mut diags);
        let kept: Vec<(&str, Option<&str>)> = diags.iter().map(|d| (d.message.as_str(), d.help.as_deref())).collect();
        assert_eq!(kept, [("a", None), ("b", None), ("a", Some("other help"))]);
    }
}

/// One error about a text that is not a rule file (a test suite), rendered like rule
/// diagnostics: same look, columns counted in characters.
#[derive(Debug)]
struct Snippet {
    code: &'static str,
    message: String,
    help: Option<String>,
    source: Source,
    label: LabeledSpan,
}

impl fmt::Display for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Snippet {}

impl miette::Diagnostic for Snippet {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(self.label.clone())))
    }
}

/// Where an error in a text is and what it says (see [`render_snippet`]).
pub struct SnippetError<'a> {
    pub code: &'static str,
    pub message: &'a str,
    /// Byte range in the text; clamped to it.
    pub at: std::ops::Range<usize>,
    pub label: &'a str,
    pub help: Option<&'a str>,
}

/// Render an error pointing into `text` (named `name`), coloured or plain.
pub fn render_snippet(name: &str, text: &str, e: &SnippetError<'_>, color: bool) -> String {
    let mut start = e.at.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = e.at.end.clamp(start, text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    let label = if e.label.is_empty() { None } else { Some(escape_controls(e.label).into_owned()) };
    let source = Source::new(name, &Arc::from(text));
    let (start, end) = (source.map.offset(start), source.map.offset(end));
    let snippet = Snippet {
        code: e.code,
        message: escape_controls(e.message).into_owned(),
        help: e.help.map(|h| escape_text(h).into_owned()),
        source,
        label: LabeledSpan::new_with_span(label, SourceSpan::new(start.into(), end.saturating_sub(start))),
    };
    let handler = if color {
        miette::GraphicalReportHandler::new()
    } else {
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_links(false)
    };
    let mut out = String::new();
    let _ = handler.render_report(&mut out, &snippet);
    out
}
