//! Editor support (`kensa lsp`): a rule set checked with some files' texts given, and what an
//! editor asks about a position in one file — hover, completion, definition, symbols.
//!
//! Input → output: a folder, the texts of open files, a file and a byte offset → plain data
//! with byte offsets; the language server turns them into LSP positions. Pure but for reading
//! the folder's files once, in [`Analysis::new`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::engine::Report;
use crate::source::normalize_path;
use crate::syntax::ast::{FieldDecl, FileId, Item, Module, TableKind, TableSource, TypeExpr};

/// The words of the language offered by completion.
pub const KEYWORDS: &[&str] = &[
    "include",
    "extend",
    "builtin",
    "disable",
    "override",
    "schema",
    "let",
    "set",
    "map",
    "rule",
    "decide",
    "match",
    "when",
    "require",
    "fields",
    "reject",
    "review",
    "warn",
    "accept",
    "if",
    "otherwise",
    "and",
    "or",
    "not",
    "in",
    "matches",
    "true",
    "false",
    "today",
    "file",
    "secret",
    "max",
    "digits",
    "text",
    "int",
    "date",
    "bool",
    "enum",
    "list",
    "any",
    "no",
    "count",
    "candidate",
    "candidates",
    "where",
    "score",
    "fired",
    "prior",
    "block",
    "on",
    "compare",
    "using",
    "frequency",
];

/// A rule set as an editor sees it: its diagnostics and every rule file parsed.
#[derive(Debug)]
pub struct Analysis {
    pub report: Report,
    /// Every rule file read (folder files and includes): its path, text and items.
    files: Vec<(PathBuf, Arc<str>, Module)>,
}

/// A place in a file: its path, its text (for turning offsets into positions) and a byte range.
#[derive(Clone, Debug)]
pub struct Place {
    pub path: PathBuf,
    pub text: Arc<str>,
    pub start: usize,
    pub end: usize,
}

/// What kind of thing a completion or symbol is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Field,
    Binding,
    Table,
    Function,
    Keyword,
    Rule,
    Schema,
    Block,
}

/// One completion: the word to insert, its kind and a short detail (a type, a signature).
#[derive(Clone, Debug)]
pub struct Completion {
    pub label: String,
    pub kind: Kind,
    pub detail: String,
}

/// One item of a file: its name, kind, whole range and the range of its name.
#[derive(Clone, Debug)]
pub struct Symbol {
    pub name: String,
    pub kind: Kind,
    pub range: (usize, usize),
    pub name_range: (usize, usize),
}

impl Analysis {
    /// Check the rule folder `folder` with the texts of `overrides` in place of the files on
    /// disk (a given `.kensa` file of the folder is read even if not saved yet).
    pub fn new(folder: &Path, overrides: &[(PathBuf, String)]) -> Analysis {
        let report = crate::engine::check_path_with(folder, overrides);
        let files = report
            .sources
            .files()
            .filter(|(_, f)| f.name.ends_with(".kensa"))
            .map(|(_, f)| {
                let (module, _) = crate::syntax::parse_file(FileId(0), &f.text);
                (normalize_path(Path::new(&f.name)), Arc::clone(&f.text), module)
            })
            .collect();
        Analysis { report, files }
    }

    fn file(&self, path: &Path) -> Option<&(PathBuf, Arc<str>, Module)> {
        let path = normalize_path(path);
        self.files.iter().find(|(p, _, _)| *p == path)
    }

    fn items(&self) -> impl Iterator<Item = (&PathBuf, &Arc<str>, &Item)> {
        self.files.iter().flat_map(|(p, t, m)| m.items.iter().map(move |i| (p, t, i)))
    }

    /// The top-level fields of the record schema (of every `schema` of the rule set).
    fn schema_roots(&self) -> Vec<&FieldDecl> {
        self.items()
            .filter_map(|(_, _, i)| match i {
                // An overlay's `extend schema` adds to the base's.
                Item::Schema(s) | Item::SchemaExt(s) => Some(s.fields.iter()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// The field at a dotted path from the record root.
    fn field(&self, path: &[&str]) -> Option<&FieldDecl> {
        let mut fields = self.schema_roots();
        let mut found = None;
        for seg in path {
            let f = fields.iter().copied().find(|f| f.name.name == *seg)?;
            fields = group_fields(&f.ty).map(|g| g.iter().collect()).unwrap_or_default();
            found = Some(f);
        }
        found
    }

    /// Where the field at a dotted path is declared.
    fn field_place(&self, path: &[&str]) -> Option<Place> {
        self.items().find_map(|(p, t, i)| {
            let (Item::Schema(schema) | Item::SchemaExt(schema)) = i else { return None };
            let mut fields: &[FieldDecl] = &schema.fields;
            let mut found = None;
            for seg in path {
                let f = fields.iter().find(|f| f.name.name == *seg)?;
                fields = group_fields(&f.ty).unwrap_or_default();
                found = Some(f);
            }
            found.map(|f| Place {
                path: p.clone(),
                text: Arc::clone(t),
                start: f.name.span.start as usize,
                end: f.name.span.end as usize,
            })
        })
    }

    /// Where the rule `id` is declared.
    fn rule_place(&self, id: &str) -> Option<Place> {
        self.items().find_map(|(p, t, i)| match i {
            Item::Rule(r) if r.id.name == id => Some(Place {
                path: p.clone(),
                text: Arc::clone(t),
                start: r.id.span.start as usize,
                end: r.id.span.end as usize,
            }),
            _ => None,
        })
    }

    /// The `let`, `set` or `map` called `name`: where its name is, and its whole text.
    fn binding(&self, name: &str) -> Option<(Place, String)> {
        self.items().find_map(|(p, t, i)| {
            let (ident, span) = match i {
                Item::Let(l) if l.name.name == name => (&l.name, l.span),
                Item::Table(tb) if tb.name.name == name => (&tb.name, tb.span),
                _ => return None,
            };
            let text = t.get(span.start as usize..span.end as usize).unwrap_or("").to_string();
            let place = Place {
                path: p.clone(),
                text: Arc::clone(t),
                start: ident.span.start as usize,
                end: ident.span.end as usize,
            };
            Some((place, text))
        })
    }

    /// Markdown about the word at `offset` of `path`: a builtin's signature, doc and example;
    /// a schema field's type; a binding's definition.
    pub fn hover(&self, path: &Path, offset: usize) -> Option<String> {
        let (_, text, _) = self.file(path)?;
        let w = word_at(text, offset)?;
        if let Some(b) = crate::builtins::all().iter().find(|b| b.name == w.whole) {
            return Some(builtin_markdown(b));
        }
        let upto: Vec<&str> = w.upto.split('.').collect();
        if upto.len() == 1
            && let Some((_, def)) = self.binding(w.upto)
        {
            return Some(format!("```kensa\n{def}\n```"));
        }
        if let Some(f) = self.field(&upto) {
            let opt = if f.optional { "?" } else { "" };
            let secret = if f.secret { " secret" } else { "" };
            return Some(format!("field `{}`: `{}{opt}`{secret}", w.upto, type_text(&f.ty)));
        }
        // A builtin whose dotted name starts here (`address` of `address.prefecture`).
        crate::builtins::all().iter().find(|b| b.name == w.upto).map(builtin_markdown)
    }

    /// What may be written at `offset` of `path`: after `group.`, the group's fields (and the
    /// builtins named `group.…`); else the record's fields, the bindings and tables, the
    /// builtins and the keywords.
    pub fn completions(&self, path: &Path, offset: usize) -> Vec<Completion> {
        let text = self.file(path).map(|(_, t, _)| Arc::clone(t)).unwrap_or_else(|| Arc::from(""));
        let before = text.get(..offset.min(text.len())).unwrap_or("");
        let start = before.rfind(|c: char| !is_word_char(c)).map_or(0, |i| i + 1);
        let typed = before.get(start..).unwrap_or("");
        let mut out = Vec::new();
        // A rule's name: after `fired`, and after an overlay's `disable` and `override` (the
        // base's rules are among the items).
        let word_before = before.get(..start).unwrap_or("").trim_end();
        if ["fired", "disable", "override"].iter().any(|k| ends_with_word(word_before, k)) {
            for (_, _, i) in self.items() {
                if let Item::Rule(r) = i {
                    let detail = r.title.as_ref().map_or_else(String::new, |t| t.value.clone());
                    out.push(Completion { label: r.id.name.clone(), kind: Kind::Rule, detail });
                }
            }
            return out;
        }
        if let Some((qualifier, _)) = typed.rsplit_once('.') {
            let segs: Vec<&str> = qualifier.split('.').collect();
            if let Some(fields) = self.field(&segs).and_then(|f| group_fields(&f.ty)) {
                out.extend(fields.iter().map(field_completion));
            }
            let prefix = format!("{qualifier}.");
            for b in crate::builtins::all() {
                if let Some(rest) = b.name.strip_prefix(&prefix) {
                    out.push(Completion { label: rest.to_string(), kind: Kind::Function, detail: signature(b) });
                }
            }
            return out;
        }
        out.extend(self.schema_roots().into_iter().map(field_completion));
        for (_, t, i) in self.items() {
            match i {
                Item::Let(l) => out.push(Completion {
                    label: l.name.name.clone(),
                    kind: Kind::Binding,
                    detail: t.get(l.span.start as usize..l.span.end as usize).unwrap_or("").to_string(),
                }),
                Item::Table(tb) => out.push(Completion {
                    label: tb.name.name.clone(),
                    kind: Kind::Table,
                    detail: String::from(if tb.kind == TableKind::Set { "set" } else { "map" }),
                }),
                _ => {}
            }
        }
        out.extend(crate::builtins::all().iter().map(|b| Completion {
            label: b.name.to_string(),
            kind: Kind::Function,
            detail: signature(b),
        }));
        out.extend(KEYWORDS.iter().map(|k| Completion {
            label: (*k).to_string(),
            kind: Kind::Keyword,
            detail: String::from("keyword"),
        }));
        out
    }

    /// Where the name at `offset` of `path` is declared (a `let`, `set` or `map`, a schema
    /// field, a rule named in `decide`), or the file an `include "…"` or `file("…")` names.
    pub fn definition(&self, path: &Path, offset: usize) -> Option<Place> {
        let (file_path, text, module) = self.file(path)?;
        for item in &module.items {
            if let Item::Include(inc) = item {
                let span = inc.path.span;
                if (span.start as usize..=span.end as usize).contains(&offset) {
                    let dir = file_path.parent().unwrap_or(Path::new(""));
                    let target = normalize_path(&dir.join(&inc.path.value));
                    let text = self.file(&target).map_or_else(|| Arc::from(""), |(_, t, _)| Arc::clone(t));
                    return Some(Place { path: target, text, start: 0, end: 0 });
                }
            }
            if let Item::Table(tb) = item
                && let TableSource::File { path: p, .. } = &tb.source
                && (p.span.start as usize..=p.span.end as usize).contains(&offset)
            {
                let dir = file_path.parent().unwrap_or(Path::new(""));
                let target = normalize_path(&dir.join(&p.value));
                return Some(Place { path: target, text: Arc::from(""), start: 0, end: 0 });
            }
        }
        let w = word_at(text, offset)?;
        // A binding is one word: in `a.b`, only `a` may be one.
        let binding = if w.upto.contains('.') { None } else { self.binding(w.upto).map(|(place, _)| place) };
        let segs: Vec<&str> = w.upto.split('.').collect();
        // A field; a rule (`fired name.present`), named by the whole dotted word.
        binding.or_else(|| self.field_place(&segs)).or_else(|| self.rule_place(w.whole))
    }

    /// The items of `path`: rules, bindings, tables, the schema, `decide` and `match`.
    pub fn symbols(&self, path: &Path) -> Vec<Symbol> {
        let Some((_, _, module)) = self.file(path) else { return Vec::new() };
        let r = |s: crate::syntax::ast::Span| (s.start as usize, s.end as usize);
        module
            .items
            .iter()
            .filter_map(|item| {
                Some(match item {
                    Item::Rule(x) => {
                        Symbol { name: x.id.name.clone(), kind: Kind::Rule, range: r(x.span), name_range: r(x.id.span) }
                    }
                    Item::Let(x) => Symbol {
                        name: x.name.name.clone(),
                        kind: Kind::Binding,
                        range: r(x.span),
                        name_range: r(x.name.span),
                    },
                    Item::Table(x) => Symbol {
                        name: x.name.name.clone(),
                        kind: Kind::Table,
                        range: r(x.span),
                        name_range: r(x.name.span),
                    },
                    Item::Schema(x) => {
                        let end = x.fields.last().map_or(x.name.span.end, |f| f.name.span.end);
                        Symbol {
                            name: x.name.name.clone(),
                            kind: Kind::Schema,
                            range: (x.name.span.start as usize, end as usize),
                            name_range: r(x.name.span),
                        }
                    }
                    Item::Decide(x) => Symbol {
                        name: String::from("decide"),
                        kind: Kind::Block,
                        range: r(x.span),
                        name_range: r(x.span),
                    },
                    Item::Match(x) => Symbol {
                        name: String::from("match"),
                        kind: Kind::Block,
                        range: r(x.span),
                        name_range: r(x.span),
                    },
                    Item::SchemaExt(x) => {
                        let end = x.fields.last().map_or(x.name.span.end, |f| f.name.span.end);
                        Symbol {
                            name: format!("extend schema {}", x.name.name),
                            kind: Kind::Schema,
                            range: (x.name.span.start as usize, end as usize),
                            name_range: r(x.name.span),
                        }
                    }
                    Item::Disable(x) => Symbol {
                        name: format!("disable {}", x.rule.name),
                        kind: Kind::Rule,
                        range: r(x.span),
                        name_range: r(x.rule.span),
                    },
                    Item::Override(x) => Symbol {
                        name: format!("override {}", x.rule.name),
                        kind: Kind::Rule,
                        range: r(x.span),
                        name_range: r(x.rule.span),
                    },
                    Item::Include(_) | Item::Extend(_) => return None,
                })
            })
            .collect()
    }
}

/// Whether `text` ends with the word `k` (not with a longer word that ends so).
fn ends_with_word(text: &str, k: &str) -> bool {
    text.strip_suffix(k).is_some_and(|rest| rest.chars().next_back().is_none_or(|c| !is_word_char(c)))
}

/// The fields of a group type (also of a list of groups).
fn group_fields(ty: &TypeExpr) -> Option<&[FieldDecl]> {
    match ty {
        TypeExpr::Group(fields) => Some(fields),
        TypeExpr::List(inner) => group_fields(inner),
        _ => None,
    }
}

fn field_completion(f: &FieldDecl) -> Completion {
    Completion { label: f.name.name.clone(), kind: Kind::Field, detail: type_text(&f.ty) }
}

/// A type as written in a schema (a group as `{ a, b }`).
fn type_text(ty: &TypeExpr) -> String {
    match ty {
        TypeExpr::Text => String::from("text"),
        TypeExpr::Int => String::from("int"),
        TypeExpr::Date => String::from("date"),
        TypeExpr::Bool => String::from("bool"),
        TypeExpr::Enum(v) => format!("enum({})", v.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ")),
        TypeExpr::List(inner) => format!("list({})", type_text(inner)),
        TypeExpr::Group(fields) => format!(
            "{{ {} }}",
            fields.iter().map(|f| format!("{}: {}", f.name.name, type_text(&f.ty))).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn signature(b: &crate::builtins::Builtin) -> String {
    let params: Vec<String> = b.params.iter().map(|(n, t)| format!("{n}: {}", t.as_str())).collect();
    format!("{}({}) -> {}", b.name, params.join(", "), b.ret.as_str())
}

/// A builtin as docs/BUILTINS.md shows it: signature, meaning, example.
fn builtin_markdown(b: &crate::builtins::Builtin) -> String {
    format!("```kensa\n{}\n```\n\n{}\n\nExample:\n\n```kensa\n{}\n```", signature(b), b.doc, b.example)
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// The dotted word around an offset: all of it, and up to the end of the segment at the offset.
struct Word<'a> {
    whole: &'a str,
    upto: &'a str,
}

fn word_at(text: &str, offset: usize) -> Option<Word<'_>> {
    let offset = offset.min(text.len());
    let before = text.get(..offset)?;
    let after = text.get(offset..)?;
    let start = before.rfind(|c: char| !is_word_char(c)).map_or(0, |i| i + 1);
    let end = offset + after.find(|c: char| !is_word_char(c)).unwrap_or(after.len());
    let seg_end = offset + after.find(|c: char| !is_word_char(c) || c == '.').unwrap_or(after.len());
    let whole = text.get(start..end)?.trim_matches('.');
    let upto = text.get(start..seg_end)?.trim_matches('.');
    if upto.is_empty() || upto.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some(Word { whole, upto })
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, reason = "tests may index")]
mod tests {
    use super::*;

    #[test]
    fn the_word_at_an_offset_stops_at_its_segment() {
        let w = word_at("x = address.prefecture(a)", 13).map(|w| (w.whole, w.upto));
        assert_eq!(w, Some(("address.prefecture", "address.prefecture")));
        let w = word_at("bank.bank_code", 2).map(|w| (w.whole, w.upto));
        assert_eq!(w, Some(("bank.bank_code", "bank")));
    }
}
