//! `kensa lsp`: a language server for `.kensa` rule files over stdio (JSON-RPC with
//! `Content-Length` framing), for editors.
//!
//! Each open file is checked together with the other `.kensa` files of its folder (the rule
//! set is a folder), the editor's text replacing the file on disk, on every change; the
//! diagnostics are those of `kensa check`, with the same codes, messages, help and ranges.
//! Hover, completion, go to definition, document symbols, formatting (`kensa fmt`) and a quick
//! fix for "did you mean" help come from `kensa::internal::Analysis`. Positions are in UTF-16
//! code units, as LSP counts them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use kensa::internal::{Analysis, IdeKind, Place};
use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use lsp_types as lsp;
use lsp_types::{Position, Range, Url};

use super::exit;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Accepted for editors that pass it (the server always talks over stdin and stdout).
    #[arg(long)]
    stdio: bool,
}

pub fn run(_args: Args) -> u8 {
    let (connection, io_threads) = Connection::stdio();
    let caps = capabilities();
    let caps = match serde_json::to_value(caps) {
        Ok(c) => c,
        Err(e) => return super::fail(&format!("lsp: {e}")),
    };
    if let Err(e) = connection.initialize(caps) {
        return super::fail(&format!("lsp: the editor did not initialize the server: {e}"));
    }
    let mut server = Server { docs: HashMap::new(), analyses: HashMap::new(), fixes: HashMap::new() };
    let outcome = server.main_loop(&connection);
    drop(connection);
    let joined = io_threads.join();
    match (outcome, joined) {
        (Ok(()), Ok(())) => exit::OK,
        (Err(e), _) => super::fail(&format!("lsp: {e}")),
        (_, Err(e)) => super::fail(&format!("lsp: {e}")),
    }
}

fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Kind(lsp::TextDocumentSyncKind::FULL)),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec![String::from(".")]),
            ..lsp::CompletionOptions::default()
        }),
        definition_provider: Some(lsp::OneOf::Left(true)),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Simple(true)),
        ..lsp::ServerCapabilities::default()
    }
}

/// A "did you mean" quick fix: the range of the labelled span and the name to put there.
type Fix = (Range, String);

struct Server {
    /// The texts of the open documents.
    docs: HashMap<Url, String>,
    /// The last analysis of each rule folder with an open document.
    analyses: HashMap<PathBuf, Analysis>,
    /// The quick fixes of the last diagnostics published for each document.
    fixes: HashMap<Url, Vec<Fix>>,
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

impl Server {
    fn main_loop(&mut self, connection: &Connection) -> Result<(), Failure> {
        for msg in &connection.receiver {
            match msg {
                Message::Request(req) => {
                    if connection.handle_shutdown(&req)? {
                        return Ok(());
                    }
                    let response = self.request(req);
                    connection.sender.send(Message::Response(response))?;
                }
                Message::Notification(not) => {
                    for out in self.notification(not) {
                        connection.sender.send(Message::Notification(out))?;
                    }
                }
                Message::Response(_) => {}
            }
        }
        Ok(())
    }

    fn request(&mut self, req: Request) -> Response {
        let Request { id, method, params } = req;
        let result = match method.as_str() {
            "textDocument/hover" => parse(params).map(|p| to_json(self.hover(p))),
            "textDocument/completion" => parse(params).map(|p| to_json(self.completion(p))),
            "textDocument/definition" => parse(params).map(|p| to_json(self.definition(p))),
            "textDocument/documentSymbol" => parse(params).map(|p| to_json(self.symbols(p))),
            "textDocument/formatting" => parse(params).map(|p| to_json(self.formatting(p))),
            "textDocument/codeAction" => parse(params).map(|p| to_json(self.code_actions(p))),
            _ => {
                return Response::new_err(
                    id,
                    lsp_server::ErrorCode::MethodNotFound as i32,
                    format!("unknown method {method}"),
                );
            }
        };
        respond(id, result)
    }

    fn notification(&mut self, not: Notification) -> Vec<Notification> {
        match not.method.as_str() {
            "textDocument/didOpen" => {
                let Ok(p) = serde_json::from_value::<lsp::DidOpenTextDocumentParams>(not.params) else {
                    return Vec::new();
                };
                self.docs.insert(p.text_document.uri.clone(), p.text_document.text);
                self.refresh(&p.text_document.uri)
            }
            "textDocument/didChange" => {
                let Ok(p) = serde_json::from_value::<lsp::DidChangeTextDocumentParams>(not.params) else {
                    return Vec::new();
                };
                // Full sync: the last change holds the whole text.
                if let Some(change) = p.content_changes.into_iter().last() {
                    self.docs.insert(p.text_document.uri.clone(), change.text);
                }
                self.refresh(&p.text_document.uri)
            }
            "textDocument/didSave" => {
                let Ok(p) = serde_json::from_value::<lsp::DidSaveTextDocumentParams>(not.params) else {
                    return Vec::new();
                };
                self.refresh(&p.text_document.uri)
            }
            "textDocument/didClose" => {
                let Ok(p) = serde_json::from_value::<lsp::DidCloseTextDocumentParams>(not.params) else {
                    return Vec::new();
                };
                let uri = p.text_document.uri;
                self.docs.remove(&uri);
                self.fixes.remove(&uri);
                // The other open files of the folder now see the file as it is on disk.
                let mut out = self.refresh(&uri);
                out.retain(|n| !publishes_to(n, &uri));
                out.push(publish(&uri, Vec::new()));
                out
            }
            _ => Vec::new(),
        }
    }

    /// Check the folder of `uri` again and publish the diagnostics of each of its rule files.
    fn refresh(&mut self, uri: &Url) -> Vec<Notification> {
        let Some(folder) = folder_of(uri) else { return Vec::new() };
        let overrides: Vec<(PathBuf, String)> =
            self.docs.iter().filter_map(|(u, t)| Some((u.to_file_path().ok()?, t.clone()))).collect();
        let analysis = Analysis::new(&folder, &overrides);
        let report = &analysis.report;
        // Every rule file read gets a list (an empty one clears what was shown before).
        let mut by_file: Vec<(Url, String, Vec<lsp::Diagnostic>, Vec<Fix>)> = report
            .sources
            .files()
            .filter(|(_, f)| f.name.ends_with(".kensa"))
            .filter_map(|(_, f)| Some((self.uri_for(Path::new(&f.name))?, f.text.to_string(), Vec::new(), Vec::new())))
            .collect();
        if !by_file.iter().any(|(u, ..)| u == uri) {
            by_file.push((uri.clone(), self.docs.get(uri).cloned().unwrap_or_default(), Vec::new(), Vec::new()));
        }
        for d in &report.diagnostics {
            let file = d.primary_span().and_then(|s| report.sources.get(s.file));
            let target = file.and_then(|f| self.uri_for(Path::new(&f.name))).unwrap_or_else(|| uri.clone());
            let Some((_, text, diags, fixes)) = by_file.iter_mut().find(|(u, ..)| *u == target) else { continue };
            let range =
                d.primary_span().map_or_else(Range::default, |s| range_of(text, s.start as usize, s.end as usize));
            let related: Vec<lsp::DiagnosticRelatedInformation> = d
                .labels
                .iter()
                .skip(1)
                .filter(|l| !l.text.is_empty())
                .filter_map(|l| {
                    let f = report.sources.get(l.span.file)?;
                    Some(lsp::DiagnosticRelatedInformation {
                        location: lsp::Location {
                            uri: self.uri_for(Path::new(&f.name))?,
                            range: range_of(&f.text, l.span.start as usize, l.span.end as usize),
                        },
                        message: l.text.clone(),
                    })
                })
                .collect();
            let mut message = d.message.clone();
            if let Some(label) = d.labels.first().filter(|l| !l.text.is_empty()) {
                message.push_str(&format!(" ({})", label.text));
            }
            if let Some(help) = &d.help {
                message.push_str(&format!("\nhelp: {help}"));
                if let Some(span) = d.primary_span()
                    && let Some(fix) = suggestion(help).and_then(|name| replacement(text, span.start, span.end, name))
                {
                    fixes.push((range, fix));
                }
            }
            diags.push(lsp::Diagnostic {
                range,
                severity: Some(if d.is_error() {
                    lsp::DiagnosticSeverity::ERROR
                } else {
                    lsp::DiagnosticSeverity::WARNING
                }),
                code: Some(lsp::NumberOrString::String(d.code.as_str().to_string())),
                source: Some(String::from("kensa")),
                message,
                related_information: (!related.is_empty()).then_some(related),
                ..lsp::Diagnostic::default()
            });
        }
        self.analyses.insert(folder, analysis);
        by_file
            .into_iter()
            .map(|(u, _, diags, fixes)| {
                let n = publish(&u, diags);
                self.fixes.insert(u, fixes);
                n
            })
            .collect()
    }

    /// The URI of a rule file: that of the open document at that path, else a `file:` URI.
    fn uri_for(&self, path: &Path) -> Option<Url> {
        let open = self.docs.keys().find(|u| u.to_file_path().is_ok_and(|p| same_path(&p, path)));
        open.cloned().or_else(|| Url::from_file_path(path).ok())
    }

    /// The text of a document: the editor's, else the file's.
    fn text(&self, uri: &Url) -> String {
        self.docs.get(uri).cloned().unwrap_or_else(|| {
            uri.to_file_path().ok().and_then(|p| std::fs::read_to_string(p).ok()).unwrap_or_default()
        })
    }

    /// The analysis of the folder of `uri` (made now if it has none), the file's path and the
    /// byte offset of `pos` in it.
    fn at(&mut self, uri: &Url, pos: Position) -> Option<(&Analysis, PathBuf, usize)> {
        let folder = folder_of(uri)?;
        let path = uri.to_file_path().ok()?;
        let offset = offset_of(&self.text(uri), pos);
        if !self.analyses.contains_key(&folder) {
            let _ = self.refresh(uri);
        }
        Some((self.analyses.get(&folder)?, path, offset))
    }

    fn hover(&mut self, p: lsp::HoverParams) -> Option<lsp::Hover> {
        let at = p.text_document_position_params;
        let (analysis, path, offset) = self.at(&at.text_document.uri, at.position)?;
        let text = analysis.hover(&path, offset)?;
        Some(lsp::Hover {
            contents: lsp::HoverContents::Markup(lsp::MarkupContent { kind: lsp::MarkupKind::Markdown, value: text }),
            range: None,
        })
    }

    fn completion(&mut self, p: lsp::CompletionParams) -> Option<lsp::CompletionResponse> {
        let at = p.text_document_position;
        let (analysis, path, offset) = self.at(&at.text_document.uri, at.position)?;
        let items = analysis
            .completions(&path, offset)
            .into_iter()
            .map(|c| lsp::CompletionItem {
                label: c.label,
                kind: Some(completion_kind(c.kind)),
                detail: Some(c.detail),
                ..lsp::CompletionItem::default()
            })
            .collect();
        Some(lsp::CompletionResponse::Array(items))
    }

    fn definition(&mut self, p: lsp::GotoDefinitionParams) -> Option<lsp::GotoDefinitionResponse> {
        let at = p.text_document_position_params;
        let (analysis, path, offset) = self.at(&at.text_document.uri, at.position)?;
        let place: Place = analysis.definition(&path, offset)?;
        let uri = self.uri_for(&place.path)?;
        Some(lsp::GotoDefinitionResponse::Scalar(lsp::Location {
            uri,
            range: range_of(&place.text, place.start, place.end),
        }))
    }

    fn symbols(&mut self, p: lsp::DocumentSymbolParams) -> Option<lsp::DocumentSymbolResponse> {
        let uri = p.text_document.uri;
        let text = self.text(&uri);
        let (analysis, path, _) = self.at(&uri, Position::default())?;
        #[allow(deprecated, reason = "`deprecated` is a field every DocumentSymbol must give")]
        let symbols = analysis
            .symbols(&path)
            .into_iter()
            .map(|s| lsp::DocumentSymbol {
                name: s.name,
                detail: None,
                kind: symbol_kind(s.kind),
                tags: None,
                deprecated: None,
                range: range_of(&text, s.range.0, s.range.1),
                selection_range: range_of(&text, s.name_range.0, s.name_range.1),
                children: None,
            })
            .collect();
        Some(lsp::DocumentSymbolResponse::Nested(symbols))
    }

    fn formatting(&mut self, p: lsp::DocumentFormattingParams) -> Option<Vec<lsp::TextEdit>> {
        let uri = p.text_document.uri;
        let text = self.text(&uri);
        let name = uri.to_file_path().map_or_else(|_| uri.to_string(), |p| p.display().to_string());
        let formatted = kensa::internal::format_rules(&name, &text).ok()?;
        if formatted == text {
            return Some(Vec::new());
        }
        Some(vec![lsp::TextEdit { range: range_of(&text, 0, text.len()), new_text: formatted }])
    }

    fn code_actions(&mut self, p: lsp::CodeActionParams) -> Option<lsp::CodeActionResponse> {
        let uri = p.text_document.uri;
        let fixes = self.fixes.get(&uri)?;
        let actions = fixes
            .iter()
            .filter(|(range, _)| range.start <= p.range.end && p.range.start <= range.end)
            .map(|(range, name)| {
                let edit = lsp::TextEdit { range: *range, new_text: name.clone() };
                lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                    title: format!("replace with `{name}`"),
                    kind: Some(lsp::CodeActionKind::QUICKFIX),
                    edit: Some(lsp::WorkspaceEdit {
                        changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
                        ..lsp::WorkspaceEdit::default()
                    }),
                    is_preferred: Some(true),
                    ..lsp::CodeAction::default()
                })
            })
            .collect();
        Some(actions)
    }
}

fn parse<P: serde::de::DeserializeOwned>(params: serde_json::Value) -> Result<P, String> {
    serde_json::from_value(params).map_err(|e| format!("invalid params: {e}"))
}

fn to_json<T: serde::Serialize>(value: T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

fn respond(id: RequestId, result: Result<serde_json::Value, String>) -> Response {
    match result {
        Ok(v) => Response::new_ok(id, v),
        Err(e) => Response::new_err(id, lsp_server::ErrorCode::InvalidParams as i32, e),
    }
}

fn publish(uri: &Url, diagnostics: Vec<lsp::Diagnostic>) -> Notification {
    let params = lsp::PublishDiagnosticsParams { uri: uri.clone(), diagnostics, version: None };
    Notification::new(String::from("textDocument/publishDiagnostics"), params)
}

fn publishes_to(n: &Notification, uri: &Url) -> bool {
    n.params.get("uri").and_then(serde_json::Value::as_str) == Some(uri.as_str())
}

/// The rule folder of a document: the folder of its file.
fn folder_of(uri: &Url) -> Option<PathBuf> {
    uri.to_file_path().ok()?.parent().map(Path::to_path_buf)
}

fn same_path(a: &Path, b: &Path) -> bool {
    let clean = |p: &Path| p.components().filter(|c| *c != std::path::Component::CurDir).collect::<PathBuf>();
    clean(a) == clean(b)
}

/// The "did you mean `x`?" of a help line: `x`.
fn suggestion(help: &str) -> Option<&str> {
    let rest = help.split_once("did you mean `")?.1;
    let name = rest.split_once('`')?.0;
    (!name.is_empty()).then_some(name)
}

/// What replaces the text from `start` to `end` for the suggested `name`: the name, in quotes
/// when the text is a quoted string (an enum choice, a table column). `None` for a name cut
/// short in the help (`…`).
fn replacement(text: &str, start: u32, end: u32, name: &str) -> Option<String> {
    if name.contains('…') {
        return None;
    }
    let covered = text.get(start as usize..end as usize)?;
    let quoted = covered.len() >= 2 && covered.starts_with('"') && covered.ends_with('"');
    Some(if quoted { format!("\"{name}\"") } else { name.to_string() })
}

/// The LSP position (line, UTF-16 column) of a byte offset.
fn position_of(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count();
    let column: usize = before.rsplit('\n').next().map_or(0, |l| l.encode_utf16().count());
    Position { line: u32::try_from(line).unwrap_or(u32::MAX), character: u32::try_from(column).unwrap_or(u32::MAX) }
}

fn range_of(text: &str, start: usize, end: usize) -> Range {
    Range { start: position_of(text, start), end: position_of(text, end) }
}

/// The byte offset of an LSP position (line, UTF-16 column); past the end of a line, its end.
fn offset_of(text: &str, pos: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..pos.line {
        match text.get(line_start..).and_then(|t| t.find('\n')) {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line = text.get(line_start..).unwrap_or("");
    let line = line.split('\n').next().unwrap_or("");
    let mut units = 0usize;
    for (i, c) in line.char_indices() {
        if units >= pos.character as usize {
            return line_start + i;
        }
        units += c.len_utf16();
    }
    line_start + line.len()
}

fn completion_kind(k: IdeKind) -> lsp::CompletionItemKind {
    match k {
        IdeKind::Field => lsp::CompletionItemKind::FIELD,
        IdeKind::Binding => lsp::CompletionItemKind::VARIABLE,
        IdeKind::Table => lsp::CompletionItemKind::CONSTANT,
        IdeKind::Function => lsp::CompletionItemKind::FUNCTION,
        IdeKind::Keyword => lsp::CompletionItemKind::KEYWORD,
        IdeKind::Rule | IdeKind::Schema | IdeKind::Block => lsp::CompletionItemKind::MODULE,
    }
}

fn symbol_kind(k: IdeKind) -> lsp::SymbolKind {
    match k {
        IdeKind::Rule => lsp::SymbolKind::FUNCTION,
        IdeKind::Binding => lsp::SymbolKind::VARIABLE,
        IdeKind::Table => lsp::SymbolKind::CONSTANT,
        IdeKind::Schema => lsp::SymbolKind::STRUCT,
        IdeKind::Field => lsp::SymbolKind::FIELD,
        IdeKind::Function => lsp::SymbolKind::FUNCTION,
        IdeKind::Keyword | IdeKind::Block => lsp::SymbolKind::NAMESPACE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsp_positions_count_utf16_units() {
        let text = "rule a \"氏名𠮷\" {\n  x\n}";
        // `{` is after 7 ASCII bytes, `"`, 氏, 名 (one unit each), 𠮷 (two units), `" `.
        let brace = text.find('{').unwrap_or(0);
        assert_eq!(position_of(text, brace), Position { line: 0, character: 14 });
        assert_eq!(offset_of(text, Position { line: 0, character: 14 }), brace);
        let x = text.find('x').unwrap_or(0);
        assert_eq!(position_of(text, x), Position { line: 1, character: 2 });
        assert_eq!(offset_of(text, Position { line: 1, character: 2 }), x);
        assert_eq!(offset_of(text, Position { line: 9, character: 0 }), text.len());
    }

    #[test]
    fn lsp_suggestion_is_read_from_help() {
        assert_eq!(suggestion("did you mean `birth_date`?"), Some("birth_date"));
        assert_eq!(suggestion("did you mean `male`? the choices are: male, female"), Some("male"));
        assert_eq!(suggestion("names are record fields"), None);
        assert_eq!(replacement("sex == \"mael\"", 7, 13, "male").as_deref(), Some("\"male\""));
        assert_eq!(replacement("brith_date", 0, 10, "birth_date").as_deref(), Some("birth_date"));
    }
}
