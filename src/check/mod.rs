//! Check: parsed modules → a resolved, typed rule set ([`Env`]) and every diagnostic found.
//!
//! Every name is resolved (fields, `let` bindings, tables, builtins) and every expression typed
//! before anything runs. The checker collects: it reports all problems of a rule set in one
//! run, then returns `None` for the environment if any of them is an error.
//! Table files are read here (through the [`SourceMap`], never directly).

pub mod error;
mod template;
mod types;

use std::collections::{HashMap, HashSet};

pub use template::TemplatePart;
pub use types::{FieldTy, Ty};

use crate::builtins::{self, PTy};
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::display::{QUOTED_CHARS, shorten};
use crate::linkage::{Comparator, Test};
use crate::normalize::date::Date;
use crate::source::SourceMap;
use crate::syntax::ast::{self, BinOp, CmpOp, DCond, Expr, ExprKind, FileId, Ident, Severity, Span, TableKind};
use error::CheckCode;

/// One field of the record schema, flattened: nested group fields get their own slot.
#[derive(Clone, Debug)]
pub struct FieldInfo {
    /// The key in the record object (`holder_kana`).
    pub key: String,
    /// The dotted path from the record root (`bank.holder_kana`).
    pub path: String,
    pub ty: FieldTy,
    /// Declared with `?`.
    pub optional: bool,
    /// Declared `secret`, inside a secret group, or a group with a `secret` field somewhere
    /// inside (text given in place of the group is masked too): values are masked in messages
    /// and evidence.
    pub secret: bool,
    /// `max(N)`: the longest value in characters; a longer one is a `schema.too_long` finding.
    pub max_chars: Option<u32>,
    /// `digits(N)`: runs of up to N digits are this field's nature (a postal code) and are shown
    /// in messages; longer runs are masked (without it, runs of 7 or more).
    pub digit_runs: Option<u8>,
    pub children: Vec<usize>,
}

/// The record schema with field slots.
#[derive(Clone, Debug, Default)]
pub struct SchemaInfo {
    pub name: String,
    pub fields: Vec<FieldInfo>,
    pub roots: Vec<usize>,
    /// The top-level field that names a record: the one marked `id`, else a field called `id`.
    pub id_field: Option<usize>,
}

impl SchemaInfo {
    fn child(&self, parent: Option<usize>, name: &str) -> Option<usize> {
        let list = match parent {
            None => &self.roots,
            Some(p) => &self.fields.get(p)?.children,
        };
        list.iter().copied().find(|&i| self.fields.get(i).is_some_and(|f| f.key == name))
    }
    fn child_names(&self, parent: Option<usize>) -> Vec<&str> {
        let list = match parent {
            None => &self.roots,
            Some(p) => match self.fields.get(p) {
                Some(f) => &f.children,
                None => return Vec::new(),
            },
        };
        list.iter().filter_map(|&i| self.fields.get(i)).map(|f| f.key.as_str()).collect()
    }
}

/// A `let` binding.
#[derive(Clone, Debug)]
pub struct LetInfo {
    pub name: String,
    pub value: Expr,
    pub ty: Ty,
    pub span: Span,
}

/// The data of a table.
#[derive(Clone, Debug)]
pub enum TableData {
    TextSet(Vec<String>),
    IntSet(Vec<i64>),
    Map(Vec<(String, String)>),
}

#[derive(Clone, Debug)]
pub struct TableInfo {
    pub name: String,
    pub data: TableData,
    pub span: Span,
}

/// A checked rule.
#[derive(Clone, Debug)]
pub struct RuleInfo {
    pub id: String,
    /// The title written after the id (`rule x "…" { … }`).
    pub title: Option<String>,
    pub when: Vec<Expr>,
    pub require: Vec<Expr>,
    pub severity: Severity,
    pub penalty: u32,
    pub message: Vec<TemplatePart>,
    /// Field slots the finding concerns (written with `fields`, or inferred from `require`).
    pub fields: Vec<usize>,
}

/// The resolved and typed rule set, ready to compile.
#[derive(Clone, Debug, Default)]
pub struct Env {
    pub schema: SchemaInfo,
    pub lets: Vec<LetInfo>,
    pub tables: Vec<TableInfo>,
    pub rules: Vec<RuleInfo>,
    pub decide: Option<ast::Decide>,
    pub matching: Option<MatchInfo>,
}

/// The checked `match` block.
#[derive(Clone, Debug)]
pub struct MatchInfo {
    pub prior: f64,
    pub blocks: Vec<Expr>,
    pub compares: Vec<CompareInfo>,
}

#[derive(Clone, Debug)]
pub struct CompareInfo {
    pub name: String,
    pub value: Expr,
    pub comparator: Comparator,
    pub levels: Vec<LevelInfo>,
    /// The part names of a comparison of parts (empty for one value).
    pub parts: Vec<String>,
    pub frequency: Option<FrequencyInfo>,
}

/// A checked `frequency …` clause.
#[derive(Clone, Debug)]
pub struct FrequencyInfo {
    /// The part whose value is counted (0 for a comparison of one value).
    pub part: usize,
    /// The fallback map: value → share of the population.
    pub fallback: Vec<(String, f64)>,
}

#[derive(Clone, Debug)]
pub struct LevelInfo {
    pub name: String,
    pub test: Test,
    pub m: f64,
    pub u: f64,
}

/// What `candidate.…` refers to inside a quantifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CandRef {
    Field(usize),
    Let(usize),
    Probability,
    Level(usize),
    Weight(usize),
}

/// What a name in an expression refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolved {
    Field(usize),
    Let(usize),
    Table(usize),
}

impl Env {
    /// Resolve the part after `candidate.` the way the checker did.
    pub fn resolve_candidate(&self, rest: &[Ident]) -> Option<CandRef> {
        let names: Vec<&str> = rest.iter().map(|i| i.name.as_str()).collect();
        let compare = |n: &str| self.matching.as_ref().and_then(|m| m.compares.iter().position(|c| c.name == n));
        match names.as_slice() {
            ["probability"] => return Some(CandRef::Probability),
            ["level", c] => return compare(c).map(CandRef::Level),
            ["weight", c] => return compare(c).map(CandRef::Weight),
            _ => {}
        }
        match self.resolve(rest)? {
            Resolved::Field(s) => Some(CandRef::Field(s)),
            Resolved::Let(i) => Some(CandRef::Let(i)),
            Resolved::Table(_) => None,
        }
    }

    /// Resolve a dotted path the way the checker did.
    pub fn resolve(&self, path: &[Ident]) -> Option<Resolved> {
        let first = path.first()?;
        if path.len() == 1 {
            if let Some(i) = self.lets.iter().position(|l| l.name == first.name) {
                return Some(Resolved::Let(i));
            }
            if let Some(i) = self.tables.iter().position(|t| t.name == first.name) {
                return Some(Resolved::Table(i));
            }
        }
        let mut cur = None;
        for seg in path {
            cur = Some(self.schema.child(cur, &seg.name)?);
        }
        cur.map(Resolved::Field)
    }
}

/// Check parsed modules. Returns the environment when there is no error, and every diagnostic.
pub fn check(sources: &mut SourceMap, modules: &[(FileId, ast::Module)]) -> (Option<Env>, Vec<Diagnostic>) {
    let mut cx = Checker {
        sources,
        env: Env::default(),
        diags: Vec::new(),
        let_state: Vec::new(),
        used: HashSet::new(),
        in_quantifier: false,
    };
    cx.run(modules);
    let has_error = cx.diags.iter().any(Diagnostic::is_error);
    let mut diags = cx.diags;
    diags.sort_by_key(|d| d.primary_span().map(|s| (s.file, s.start)));
    (if has_error { None } else { Some(cx.env) }, diags)
}

#[derive(Clone, Debug)]
enum LetState {
    Todo,
    InProgress,
    Done(Ty),
}

struct Checker<'s> {
    sources: &'s mut SourceMap,
    env: Env,
    diags: Vec<Diagnostic>,
    let_state: Vec<LetState>,
    /// Names of bindings and tables that are referenced.
    used: HashSet<String>,
    /// Checking the condition of `any candidate where (…)`.
    in_quantifier: bool,
}

impl Checker<'_> {
    fn push(&mut self, d: Diagnostic) -> &mut Diagnostic {
        self.diags.push(d);
        let last = self.diags.len() - 1;
        #[expect(clippy::indexing_slicing, reason = "the element was pushed just above")]
        &mut self.diags[last]
    }

    fn err(
        &mut self,
        code: CheckCode,
        span: Span,
        msg: impl Into<String>,
        label: impl Into<String>,
    ) -> &mut Diagnostic {
        self.push(Diagnostic::error(code, msg).label(span, label))
    }

    fn warn(
        &mut self,
        code: CheckCode,
        span: Span,
        msg: impl Into<String>,
        label: impl Into<String>,
    ) -> &mut Diagnostic {
        self.push(Diagnostic::warning(code, msg).label(span, label))
    }

    fn run(&mut self, modules: &[(FileId, ast::Module)]) {
        let items: Vec<&ast::Item> = modules.iter().flat_map(|(_, m)| m.items.iter()).collect();

        // Schema first: everything else is checked against it.
        let schemas: Vec<&ast::Schema> = items
            .iter()
            .filter_map(|i| match i {
                ast::Item::Schema(s) => Some(s),
                _ => None,
            })
            .collect();
        match schemas.as_slice() {
            [] => {
                let span = modules.first().map_or(Span::new(FileId(0), 0, 0), |(f, _)| Span::new(*f, 0, 0));
                self.diags.push(
                    Diagnostic::error(CheckCode::NoSchema, "the rule set has no `schema`")
                        .label(span, "no schema in this rule set")
                        .help("add `schema Resident { id: text … }` listing the fields of a record"),
                );
            }
            [first, rest @ ..] => {
                self.schema(first);
                for s in rest {
                    self.err(CheckCode::DuplicateSchema, s.name.span, "a second `schema`", "second schema here").help =
                        Some(format!("keep one schema; the first is `{}`", first.name.name));
                }
            }
        }

        // Names of bindings and tables.
        let mut names: HashMap<String, Span> = HashMap::new();
        for item in &items {
            let (name, span) = match item {
                ast::Item::Let(l) => (&l.name, l.span),
                ast::Item::Table(t) => (&t.name, t.span),
                _ => continue,
            };
            if let Some(prev) = names.get(&name.name) {
                let prev = *prev;
                self.err(
                    CheckCode::DuplicateName,
                    name.span,
                    format!("`{}` is defined twice", name.name),
                    "defined again here",
                )
                .labels
                .push(crate::diagnostic::Label { span: prev, text: String::from("first defined here") });
                continue;
            }
            names.insert(name.name.clone(), span);
            match item {
                ast::Item::Let(l) => {
                    if self.env.schema.child(None, &l.name.name).is_some() {
                        self.warn(
                            CheckCode::Shadowing,
                            l.name.span,
                            format!("`{}` hides the record field of the same name", l.name.name),
                            "this binding",
                        )
                        .help = Some(String::from("rename the binding, e.g. add `_key` or `_norm`"));
                    }
                    self.env.lets.push(LetInfo {
                        name: l.name.name.clone(),
                        value: l.value.clone(),
                        ty: Ty::Any,
                        span: l.span,
                    });
                    self.let_state.push(LetState::Todo);
                }
                ast::Item::Table(t) => {
                    if let Some(data) = self.table(t) {
                        self.env.tables.push(TableInfo { name: t.name.name.clone(), data, span: t.span });
                    } else {
                        // Keep the name resolvable so that one bad file does not cascade.
                        let data = match t.kind {
                            TableKind::Map => TableData::Map(Vec::new()),
                            TableKind::Set => TableData::TextSet(Vec::new()),
                        };
                        self.env.tables.push(TableInfo { name: t.name.name.clone(), data, span: t.span });
                    }
                }
                _ => {}
            }
        }

        for i in 0..self.env.lets.len() {
            self.let_ty(i);
        }

        // How records are compared with the registry.
        let matches: Vec<&ast::Match> = items
            .iter()
            .filter_map(|i| match i {
                ast::Item::Match(m) => Some(m),
                _ => None,
            })
            .collect();
        if let Some((first, rest)) = matches.split_first() {
            for m in rest {
                self.err(CheckCode::DuplicateMatch, m.span, "a second `match` block", "second match here");
            }
            let info = self.match_block(first);
            self.env.matching = Some(info);
        }

        // Rules.
        let mut seen: HashMap<String, Span> = HashMap::new();
        for item in &items {
            if let ast::Item::Rule(r) = item {
                if let Some(prev) = seen.get(&r.id.name) {
                    let prev = *prev;
                    let d = self.err(
                        CheckCode::DuplicateRule,
                        r.id.span,
                        format!("rule `{}` is defined twice", r.id.name),
                        "defined again here",
                    );
                    d.labels.push(crate::diagnostic::Label { span: prev, text: String::from("first defined here") });
                    d.help = Some(String::from(
                        "give one of the rules another name: findings are reported by rule name, so two rules under one name cannot be told apart",
                    ));
                } else {
                    seen.insert(r.id.name.clone(), r.id.span);
                }
                if let Some(info) = self.rule(r) {
                    self.env.rules.push(info);
                }
            }
        }

        // Decision policy.
        let decides: Vec<&ast::Decide> = items
            .iter()
            .filter_map(|i| match i {
                ast::Item::Decide(d) => Some(d),
                _ => None,
            })
            .collect();
        if let Some((first, rest)) = decides.split_first() {
            for d in rest {
                self.err(CheckCode::DuplicateDecide, d.span, "a second `decide` block", "second decide here");
            }
            self.decide(first);
            self.env.decide = Some((*first).clone());
        }

        // Unused bindings and tables.
        let unused: Vec<(String, Span)> = self
            .env
            .lets
            .iter()
            .map(|l| (l.name.clone(), l.span))
            .chain(self.env.tables.iter().map(|t| (t.name.clone(), t.span)))
            .filter(|(n, _)| !self.used.contains(n))
            .collect();
        for (name, span) in unused {
            self.warn(CheckCode::UnusedBinding, span, format!("`{name}` is never used"), "defined here").help =
                Some(String::from("remove it, or use it in a rule"));
        }
    }

    // ------------------------------------------------------------------ schema

    fn schema(&mut self, s: &ast::Schema) {
        self.env.schema.name = s.name.name.clone();
        let roots = self.fields(&s.fields, "", false);
        let marked: Vec<&ast::FieldDecl> = s.fields.iter().filter(|f| f.is_id).collect();
        for extra in marked.iter().skip(1) {
            self.err(CheckCode::DuplicateField, extra.name.span, "only one field can be marked `id`", "second `id`");
        }
        let id_name = marked.first().map_or("id", |f| f.name.name.as_str());
        self.env.schema.id_field =
            roots.iter().copied().find(|&i| self.env.schema.fields.get(i).is_some_and(|f| f.key == id_name));
        self.env.schema.roots = roots;
    }

    fn fields(&mut self, decls: &[ast::FieldDecl], prefix: &str, secret: bool) -> Vec<usize> {
        let mut slots = Vec::new();
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for d in decls {
            if let Some(prev) = seen.get(d.name.name.as_str()) {
                let prev = *prev;
                self.err(
                    CheckCode::DuplicateField,
                    d.name.span,
                    format!("field `{}` is declared twice", d.name.name),
                    "declared again here",
                )
                .labels
                .push(crate::diagnostic::Label { span: prev, text: String::from("first declared here") });
                continue;
            }
            seen.insert(&d.name.name, d.name.span);
            let path = if prefix.is_empty() { d.name.name.clone() } else { format!("{prefix}.{}", d.name.name) };
            let slot = self.env.schema.fields.len();
            let secret = secret || d.secret;
            let ty = match &d.ty {
                ast::TypeExpr::Group(_) => FieldTy::Group,
                other => FieldTy::from_ast(other),
            };
            let (max_chars, digit_runs) = self.field_options(d, &ty);
            self.env.schema.fields.push(FieldInfo {
                key: d.name.name.clone(),
                path: path.clone(),
                ty,
                optional: d.optional,
                secret,
                max_chars,
                digit_runs,
                children: Vec::new(),
            });
            if let ast::TypeExpr::Enum(variants) = &d.ty {
                let mut seen_v = HashSet::new();
                for v in variants {
                    if !seen_v.insert(v.name.as_str()) {
                        self.err(
                            CheckCode::DuplicateField,
                            v.span,
                            format!("choice `{}` is listed twice", v.name),
                            "listed again",
                        );
                    }
                }
            }
            if d.is_id && (!prefix.is_empty() || !matches!(d.ty, ast::TypeExpr::Text | ast::TypeExpr::Int)) {
                self.err(
                    CheckCode::TypeMismatch,
                    d.name.span,
                    "the `id` field must be a top-level text or int field",
                    "here",
                );
            }
            if let ast::TypeExpr::Group(children) = &d.ty {
                let kids = self.fields(children, &path, secret);
                let inner_secret = kids.iter().any(|&k| self.env.schema.fields.get(k).is_some_and(|f| f.secret));
                if let Some(f) = self.env.schema.fields.get_mut(slot) {
                    f.children = kids;
                    f.secret |= inner_secret;
                }
            }
            slots.push(slot);
        }
        slots
    }

    /// `max(N)` and `digits(N)` of a field declaration (the last of each), checked: text fields (or lists of text)
    /// only, within range.
    fn field_options(&mut self, d: &ast::FieldDecl, ty: &FieldTy) -> (Option<u32>, Option<u8>) {
        let texty = ty.is_text();
        let mut option = |what: &str, given: Option<(u64, Span)>, max: u64| -> Option<u64> {
            let (n, span) = given?;
            if !texty {
                self.err(
                    CheckCode::FieldOption,
                    span,
                    format!("`{what}(…)` is for text fields, and `{}` is not text", d.name.name),
                    "not a text field",
                );
                return None;
            }
            if n == 0 || n > max {
                self.err(
                    CheckCode::FieldOption,
                    span,
                    format!(
                        "`{what}({n})` is out of range: write a number from 1 to {}",
                        crate::display::thousands(max)
                    ),
                    "out of range",
                );
                return None;
            }
            Some(n)
        };
        let max_chars = option("max", d.max_chars, 1_000_000).and_then(|n| u32::try_from(n).ok());
        let digit_runs = option("digits", d.digit_runs, 64).and_then(|n| u8::try_from(n).ok());
        (max_chars, digit_runs)
    }

    // ------------------------------------------------------------------ tables

    fn table(&mut self, t: &ast::Table) -> Option<TableData> {
        match &t.source {
            ast::TableSource::Inline(entries) => {
                if t.kind == TableKind::Map {
                    let mut out = Vec::new();
                    for (k, v) in entries {
                        match (&k.kind, v.as_ref().map(|v| &v.kind)) {
                            (ExprKind::Str(k), Some(ExprKind::Str(v))) => out.push((k.clone(), v.clone())),
                            _ => {
                                self.err(CheckCode::TypeMismatch, k.span, "map entries must be text: text", "not text");
                            }
                        }
                    }
                    Some(TableData::Map(out))
                } else {
                    self.set_literal(entries.iter().map(|(k, _)| k), t.span)
                }
            }
            ast::TableSource::File { path, options } => self.table_file(t, path, options),
        }
    }

    fn set_literal<'e>(&mut self, items: impl Iterator<Item = &'e Expr>, span: Span) -> Option<TableData> {
        let mut texts = Vec::new();
        let mut ints = Vec::new();
        for e in items {
            match &e.kind {
                ExprKind::Str(s) => texts.push(s.clone()),
                ExprKind::Int(n) => ints.push(*n),
                _ => {
                    self.err(CheckCode::TypeMismatch, e.span, "a set holds text or numbers", "not text or a number");
                }
            }
        }
        if !texts.is_empty() && !ints.is_empty() {
            self.err(CheckCode::TypeMismatch, span, "a set mixes text and numbers", "mixed set").help =
                Some(String::from("write numbers in quotes if they are codes, e.g. `\"01\"`"));
            return None;
        }
        Some(if ints.is_empty() { TableData::TextSet(texts) } else { TableData::IntSet(ints) })
    }

    fn table_file(
        &mut self,
        t: &ast::Table,
        path: &ast::StrLit,
        options: &[(Ident, ast::StrLit)],
    ) -> Option<TableData> {
        let (file, _) = match self.sources.load_table(path.span.file, &path.value) {
            Ok(x) => x,
            Err(reason) => {
                let help = match reason.code {
                    crate::source::LoadCode::Outside => {
                        "copy the table into the rule folder (or a folder below it) and name it by a relative path"
                    }
                    _ => reason.help().unwrap_or(
                        "the path is relative to the rule file; the file must be UTF-8 CSV or TSV with a header line",
                    ),
                };
                self.err(CheckCode::TableFile, path.span, format!("cannot read table file {reason}"), "this file")
                    .help = Some(String::from(help));
                return None;
            }
        };
        let text = self.sources.get(file).map(|f| f.text.clone()).unwrap_or_else(|| std::sync::Arc::from(""));
        let delimiter = if path.value.ends_with(".tsv") { b'\t' } else { b',' };
        let mut reader =
            csv::ReaderBuilder::new().delimiter(delimiter).comment(Some(b'#')).from_reader(text.as_bytes());
        let headers: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
            Err(e) => {
                self.err(
                    CheckCode::TableFile,
                    path.span,
                    format!("cannot read the header line of `{}`: {e}", shorten(&path.value, 100)),
                    "this file",
                );
                return None;
            }
        };
        let column = |key: &str, default: usize| -> Result<usize, Diagnostic> {
            match options.iter().find(|(k, _)| k.name == key) {
                None => Ok(default),
                Some((_, v)) => match headers.iter().position(|h| *h == v.value) {
                    Some(i) => Ok(i),
                    None => {
                        // A header line may be anything: its columns are listed, cut, not repeated.
                        let columns = crate::display::list(headers.iter().map(String::as_str), 20);
                        let help = match did_you_mean(&v.value, headers.iter().map(String::as_str)) {
                            Some(s) => {
                                format!("did you mean `{}`? the columns are: {columns}", shorten(s, QUOTED_CHARS))
                            }
                            None => format!("the columns are: {columns}"),
                        };
                        Err(Diagnostic::error(
                            CheckCode::TableFile,
                            format!(
                                "`{}` has no column `{}`",
                                shorten(&path.value, 100),
                                shorten(&v.value, QUOTED_CHARS)
                            ),
                        )
                        .label(v.span, "no such column")
                        .help(help))
                    }
                },
            }
        };
        for (k, _) in options {
            let allowed: &[&str] = if t.kind == TableKind::Set { &["column"] } else { &["key", "value"] };
            if !allowed.contains(&k.name.as_str()) {
                self.err(
                    CheckCode::TableFile,
                    k.span,
                    format!("unknown table option `{}`", k.name),
                    "unknown option",
                )
                .help = Some(format!(
                    "a {} takes: {}",
                    if t.kind == TableKind::Set { "set" } else { "map" },
                    allowed.join(", ")
                ));
            }
        }
        let columns = if t.kind == TableKind::Set {
            column("column", 0).map(|c| (c, None))
        } else {
            column("key", 0).and_then(|k| column("value", 1).map(|v| (k, Some(v))))
        };
        let (kc, vc) = match columns {
            Ok(c) => c,
            Err(d) => {
                self.diags.push(d);
                return None;
            }
        };
        let mut set = Vec::new();
        let mut map = Vec::new();
        for (n, rec) in reader.records().enumerate() {
            match rec {
                Ok(r) => {
                    let k = r.get(kc).unwrap_or("").trim().to_string();
                    match vc {
                        None => set.push(k),
                        Some(vc) => map.push((k, r.get(vc).unwrap_or("").trim().to_string())),
                    }
                }
                Err(e) => {
                    self.err(
                        CheckCode::TableFile,
                        path.span,
                        format!("`{}` line {}: {e}", shorten(&path.value, 100), n + 2),
                        "in this file",
                    );
                    return None;
                }
            }
        }
        Some(if t.kind == TableKind::Set { TableData::TextSet(set) } else { TableData::Map(map) })
    }

    // ------------------------------------------------------------------ bindings

    fn let_ty(&mut self, i: usize) -> Ty {
        match self.let_state.get(i) {
            Some(LetState::Done(t)) => return t.clone(),
            Some(LetState::InProgress) => {
                let (name, span) = self.env.lets.get(i).map(|l| (l.name.clone(), l.span)).unwrap_or_default();
                self.err(
                    CheckCode::BindingCycle,
                    span,
                    format!("`{name}` is defined in terms of itself"),
                    "this binding",
                )
                .help = Some(String::from("a binding can use fields and other bindings, but not itself"));
                return Ty::Any;
            }
            _ => {}
        }
        if let Some(s) = self.let_state.get_mut(i) {
            *s = LetState::InProgress;
        }
        let value = self.env.lets.get(i).map(|l| l.value.clone());
        let ty = value.map_or(Ty::Any, |v| self.expr(&v));
        if let Some(s) = self.let_state.get_mut(i) {
            *s = LetState::Done(ty.clone());
        }
        if let Some(l) = self.env.lets.get_mut(i) {
            l.ty = ty.clone();
        }
        ty
    }

    // ------------------------------------------------------------------ rules

    fn rule(&mut self, r: &ast::Rule) -> Option<RuleInfo> {
        let mut ok = true;
        for w in &r.when {
            let t = self.expr(w);
            ok &= self.expect_bool(&t, w.span, "`when` needs a condition");
            if matches!(w.kind, ExprKind::Bool(false)) {
                self.warn(
                    CheckCode::UnreachableRule,
                    w.span,
                    format!("rule `{}` can never run", r.id.name),
                    "this is always false",
                );
            }
        }
        if r.require.is_empty() {
            self.err(
                CheckCode::MissingRequire,
                r.id.span,
                format!("rule `{}` has no `require`", r.id.name),
                "this rule",
            )
            .help = Some(String::from("add `require <condition that a good record meets>`"));
            ok = false;
        }
        for q in &r.require {
            let t = self.expr(q);
            ok &= self.expect_bool(&t, q.span, "`require` needs a condition");
            if matches!(q.kind, ExprKind::Bool(true)) {
                self.warn(
                    CheckCode::NeverFires,
                    q.span,
                    format!("rule `{}` can never fire", r.id.name),
                    "this is always true",
                );
            }
        }
        let outcome = match r.outcomes.as_slice() {
            [] => {
                self.err(
                    CheckCode::MissingOutcome,
                    r.id.span,
                    format!("rule `{}` has no outcome", r.id.name),
                    "this rule",
                )
                .help = Some(String::from("add `reject`, `review` or `warn`, e.g. `review -30 \"…\"`"));
                return None;
            }
            [one] => one,
            [first, rest @ ..] => {
                for o in rest {
                    self.err(
                        CheckCode::DuplicateOutcome,
                        o.span,
                        format!("rule `{}` has a second outcome", r.id.name),
                        "second outcome",
                    )
                    .labels
                    .push(crate::diagnostic::Label { span: first.span, text: String::from("first outcome") });
                }
                first
            }
        };
        let penalty = match outcome.penalty {
            Some((p, span)) if p > 100 => {
                self.err(CheckCode::PenaltyRange, span, format!("penalty {p} is larger than 100"), "too large");
                100
            }
            Some((p, _)) => p,
            None => outcome.severity.default_penalty(),
        };
        let message_lit = outcome.message.as_ref().or(r.title.as_ref());
        let message = match message_lit {
            Some(lit) => {
                let raw = self.sources.slice(lit.span).to_string();
                match template::parse(&raw, lit.span) {
                    Ok(parts) => {
                        for p in &parts {
                            if let TemplatePart::Expr(e) = p {
                                self.expr(e);
                            }
                        }
                        parts
                    }
                    Err(d) => {
                        self.diags.push(d);
                        ok = false;
                        Vec::new()
                    }
                }
            }
            // A clerk reads the message: the title when there is one, else the rule named in Japanese.
            None => vec![TemplatePart::Text(match &r.title {
                Some(t) => t.value.clone(),
                None => format!("規則 `{}` の条件を満たしていません", r.id.name),
            })],
        };
        let mut fields = Vec::new();
        if r.fields.is_empty() {
            for q in &r.require {
                self.collect_fields(q, &mut fields, &mut HashSet::new());
            }
        } else {
            for path in r.fields.iter().flatten() {
                match self.env.resolve(path) {
                    Some(Resolved::Field(slot)) => fields.push(slot),
                    _ => {
                        let span = path.first().map_or(r.span, |f| f.span);
                        self.unknown_path(path, span);
                        ok = false;
                    }
                }
            }
        }
        fields.dedup();
        if !ok {
            return None;
        }
        Some(RuleInfo {
            id: r.id.name.clone(),
            title: r.title.as_ref().map(|t| t.value.clone()),
            when: r.when.clone(),
            require: r.require.clone(),
            severity: outcome.severity,
            penalty,
            message,
            fields,
        })
    }

    /// Field slots an expression reads, through `let` bindings.
    fn collect_fields(&self, e: &Expr, out: &mut Vec<usize>, seen_lets: &mut HashSet<usize>) {
        match &e.kind {
            ExprKind::Path(p) => match self.env.resolve(p) {
                Some(Resolved::Field(slot)) if !out.contains(&slot) => out.push(slot),
                Some(Resolved::Let(i)) => {
                    if seen_lets.insert(i)
                        && let Some(l) = self.env.lets.get(i)
                    {
                        self.collect_fields(&l.value, out, seen_lets);
                    }
                }
                _ => {}
            },
            _ => visit_children(e, |c| self.collect_fields(c, out, seen_lets)),
        }
    }

    fn expect_bool(&mut self, t: &Ty, span: Span, what: &str) -> bool {
        if matches!(t, Ty::Bool | Ty::Any) {
            return true;
        }
        self.err(
            CheckCode::TypeMismatch,
            span,
            format!("{what}, but this is {}", t.describe()),
            format!("this is {}", t.describe()),
        )
        .help = Some(String::from("compare it with something, e.g. `== \"…\"`, or use a function that answers yes/no"));
        false
    }

    // ------------------------------------------------------------------ match

    fn match_block(&mut self, m: &ast::Match) -> MatchInfo {
        let prior = match m.prior {
            None => 0.001,
            Some((p, span)) => {
                if !(p > 0.0 && p < 1.0) {
                    self.err(
                        CheckCode::BadProbability,
                        span,
                        format!("prior {p} is not between 0 and 1"),
                        "not a probability",
                    );
                }
                p
            }
        };
        for b in &m.blocks {
            let t = self.expr(b);
            if !matches!(t, Ty::Text | Ty::Int | Ty::Date | Ty::Enum(_) | Ty::Any) {
                self.err(
                    CheckCode::TypeMismatch,
                    b.span,
                    format!("a blocking key must be text, but this is {}", t.describe()),
                    "here",
                );
            }
        }
        let mut compares: Vec<CompareInfo> = Vec::new();
        for c in &m.compares {
            if compares.iter().any(|x| x.name == c.name.name) {
                self.err(
                    CheckCode::DuplicateName,
                    c.name.span,
                    format!("comparison `{}` is declared twice", c.name.name),
                    "again",
                );
            }
            let t = self.expr(&c.value);
            let parts: Vec<String> = c.parts.iter().map(|p| p.name.clone()).collect();
            for (i, p) in c.parts.iter().enumerate() {
                if parts.get(..i).is_some_and(|before| before.contains(&p.name)) {
                    self.err(CheckCode::DuplicateName, p.span, format!("part `{}` is named twice", p.name), "again");
                }
            }
            let comparator = match Comparator::from_name(&c.comparator.name) {
                Some(Comparator::Exact) if !parts.is_empty() => Comparator::Parts,
                Some(_) if !parts.is_empty() => {
                    self.err(
                        CheckCode::BadComparator,
                        c.comparator.span,
                        "a value of parts is compared part by part with `exact`",
                        "use `exact`",
                    )
                    .help = Some(String::from(
                        "compare the parts with `exact` (fold how they are written first, e.g. `key.fold(family_name)`), or compare one value with this comparator",
                    ));
                    Comparator::Parts
                }
                Some(k) => k,
                None => {
                    let help = did_you_mean(&c.comparator.name, Comparator::NAMES.iter().copied())
                        .map(|s| format!("did you mean `{s}`?"))
                        .unwrap_or_else(|| format!("comparators: {}", Comparator::NAMES.join(", ")));
                    self.err(
                        CheckCode::BadComparator,
                        c.comparator.span,
                        format!("unknown comparator `{}`", c.comparator.name),
                        "unknown",
                    )
                    .help = Some(help);
                    Comparator::Exact
                }
            };
            let fits = match comparator {
                Comparator::Date => matches!(t, Ty::Date | Ty::Any),
                Comparator::Number => matches!(t, Ty::Int | Ty::Float | Ty::Any),
                Comparator::Exact | Comparator::Parts => true,
                _ => matches!(t, Ty::Text | Ty::Enum(_) | Ty::Any),
            };
            if !fits {
                self.err(
                    CheckCode::BadComparator,
                    c.value.span,
                    format!("`{}` cannot compare {}", c.comparator.name, t.describe()),
                    format!("this is {}", t.describe()),
                );
            }
            let mut levels = Vec::new();
            for l in &c.levels {
                let test = match l.test {
                    ast::LevelTest::Same => Test::Same,
                    ast::LevelTest::Similarity(x) => Test::Similarity(x),
                    ast::LevelTest::Distance(n) => Test::Distance(n),
                    ast::LevelTest::Difference(x) => Test::Difference(x),
                    ast::LevelTest::Swapped => Test::Swapped,
                    ast::LevelTest::YearTypo => Test::YearTypo,
                    ast::LevelTest::WithinDays(n) => Test::WithinDays(n),
                    ast::LevelTest::PartSame => {
                        let part = l.part.as_ref();
                        match part.and_then(|p| parts.iter().position(|x| *x == p.name)) {
                            Some(i) => Test::PartSame(u8::try_from(i).unwrap_or(u8::MAX)),
                            None => {
                                let span = part.map_or(l.span, |p| p.span);
                                let name = part.map_or("", |p| p.name.as_str());
                                let d = self.err(
                                    CheckCode::BadLevel,
                                    span,
                                    format!("`same {name}`: this comparison has no part `{name}`"),
                                    "no such part",
                                );
                                d.help = Some(if parts.is_empty() {
                                    String::from(
                                        "`same PART` is for a value of parts: `compare name = (family: …, given: …) using exact`",
                                    )
                                } else {
                                    format!("its parts: {}", parts.join(", "))
                                });
                                Test::Else
                            }
                        }
                    }
                    ast::LevelTest::Else => Test::Else,
                };
                if !test.fits(comparator) {
                    self.err(
                        CheckCode::BadLevel,
                        l.span,
                        format!("this level test does not fit `{}`", c.comparator.name),
                        "does not fit",
                    )
                    .help = Some(String::from(
                        "`similarity >= …` is for jaro_winkler; `distance <= …` for levenshtein and damerau; `difference <= …` for number; `swapped`, `year_typo`, `within N days` for date; `same PART` and `swapped` for a value of parts",
                    ));
                }
                for (what, p) in [("m", l.m), ("u", l.u)] {
                    if !(p > 0.0 && p <= 1.0) {
                        self.err(
                            CheckCode::BadProbability,
                            l.span,
                            format!("{what} = {p} is not a probability"),
                            "between 0 and 1",
                        );
                    }
                }
                levels.push(LevelInfo { name: l.name.name.clone(), test, m: l.m, u: l.u });
            }
            if !matches!(levels.last(), Some(LevelInfo { test: Test::Else, .. })) {
                self.err(
                    CheckCode::BadLevel,
                    c.span,
                    format!("comparison `{}` must end with an `else` level", c.name.name),
                    "no `else` level",
                )
                .help = Some(String::from("add e.g. `other: else m 0.05 u 0.95` as the last level"));
            }
            let frequency = c.frequency.as_ref().map(|f| self.frequency(f, &parts));
            if let Some(f) = &c.frequency
                && !matches!(t, Ty::Text | Ty::Enum(_) | Ty::Any)
            {
                self.err(
                    CheckCode::BadFrequency,
                    f.span,
                    format!("`frequency` counts text, and this comparison compares {}", t.describe()),
                    "nothing to count",
                )
                .help =
                    Some(String::from("weigh a name, a reading or another text by frequency; remove `frequency` here"));
            }
            compares.push(CompareInfo {
                name: c.name.name.clone(),
                value: c.value.clone(),
                comparator,
                levels,
                parts,
                frequency,
            });
        }
        MatchInfo { prior, blocks: m.blocks.clone(), compares }
    }

    /// A `frequency [of PART] [fallback MAP]` clause.
    fn frequency(&mut self, f: &ast::Frequency, parts: &[String]) -> FrequencyInfo {
        let part = match (&f.part, parts.is_empty()) {
            (None, true) => 0,
            (Some(p), false) => match parts.iter().position(|x| *x == p.name) {
                Some(i) => i,
                None => {
                    self.err(
                        CheckCode::BadFrequency,
                        p.span,
                        format!("this comparison has no part `{}`", p.name),
                        "no such part",
                    )
                    .help = Some(format!("its parts: {}", parts.join(", ")));
                    0
                }
            },
            (None, false) => {
                self.err(CheckCode::BadFrequency, f.span, "say which part is counted", "which part?").help =
                    Some(format!("e.g. `frequency of {}`", parts.first().map_or("family", String::as_str)));
                0
            }
            (Some(p), true) => {
                self.err(CheckCode::BadFrequency, p.span, "this comparison has one value, not parts", "no parts")
                    .help =
                    Some(String::from("write `frequency` alone, or compare a value of parts: `(family: …, given: …)`"));
                0
            }
        };
        let mut fallback = Vec::new();
        if let Some(name) = &f.fallback {
            self.used.insert(name.name.clone());
            let table = self.env.tables.iter().find(|t| t.name == name.name).map(|t| t.data.clone());
            match table {
                Some(TableData::Map(entries)) => {
                    for (value, share) in entries {
                        match share.trim().parse::<f64>() {
                            Ok(x) if x > 0.0 && x <= 1.0 => fallback.push((value, x)),
                            _ => {
                                self.err(
                                    CheckCode::BadFrequency,
                                    name.span,
                                    format!("in map `{}`, the share of `{value}` is `{share}`, not a number between 0 and 1", name.name),
                                    "this map",
                                );
                                break;
                            }
                        }
                    }
                }
                _ => {
                    self.err(
                        CheckCode::BadFrequency,
                        name.span,
                        format!("`{}` is not a map", name.name),
                        "not a map",
                    )
                    .help = Some(String::from(
                        "declare the shares first: `map family_name_share = file(\"family-name-share.tsv\")` (value, tab, share)",
                    ));
                }
            }
        }
        FrequencyInfo { part, fallback }
    }

    // ------------------------------------------------------------------ decide

    fn decide(&mut self, d: &ast::Decide) {
        let mut after_otherwise = false;
        for arm in &d.arms {
            if after_otherwise {
                self.warn(
                    CheckCode::UnreachableArm,
                    arm.span,
                    "this line comes after `otherwise` and is never chosen",
                    "unreachable",
                );
            }
            match &arm.cond {
                None => after_otherwise = true,
                Some(c) => self.dcond(c),
            }
        }
    }

    fn dcond(&mut self, c: &DCond) {
        match c {
            DCond::Or(v) | DCond::And(v) => v.iter().for_each(|x| self.dcond(x)),
            DCond::Not(x) => self.dcond(x),
            DCond::Fired(id) => {
                if !self.env.rules.iter().any(|r| r.id == id.name) {
                    let help = did_you_mean(&id.name, self.env.rules.iter().map(|r| r.id.as_str()))
                        .map(|s| format!("did you mean `{s}`?"));
                    self.err(
                        CheckCode::UnknownRule,
                        id.span,
                        format!("there is no rule `{}`", id.name),
                        "unknown rule",
                    )
                    .help = help;
                }
            }
            DCond::Any(_) | DCond::NoneOf(_) | DCond::Count(..) | DCond::Score(..) => {}
        }
    }

    // ------------------------------------------------------------------ expressions

    fn unknown_path(&mut self, path: &[Ident], span: Span) {
        // Find the first segment that does not resolve.
        let mut cur = None;
        for (i, seg) in path.iter().enumerate() {
            if i == 0 && path.len() == 1 {
                break;
            }
            match self.env.schema.child(cur, &seg.name) {
                Some(slot) => cur = Some(slot),
                None => {
                    let names: Vec<String> = self.env.schema.child_names(cur).into_iter().map(str::to_string).collect();
                    let help = did_you_mean(&seg.name, names.iter().map(String::as_str))
                        .map(|s| format!("did you mean `{s}`?"));
                    let owner = cur
                        .and_then(|c| self.env.schema.fields.get(c))
                        .map_or_else(|| String::from("the record"), |f| format!("`{}`", f.path));
                    let d = self.err(
                        CheckCode::UnknownField,
                        seg.span,
                        format!("{owner} has no field `{}`", seg.name),
                        "unknown field",
                    );
                    d.help = help.or_else(|| Some(format!("the fields are: {}", names.join(", "))));
                    return;
                }
            }
        }
        let name = path.first().map(|p| p.name.as_str()).unwrap_or("");
        let candidates: Vec<String> = self
            .env
            .schema
            .roots
            .iter()
            .filter_map(|&i| self.env.schema.fields.get(i).map(|f| f.key.clone()))
            .chain(self.env.lets.iter().map(|l| l.name.clone()))
            .chain(self.env.tables.iter().map(|t| t.name.clone()))
            .collect();
        let help = did_you_mean(name, candidates.iter().map(String::as_str))
            .map(|s| format!("did you mean `{s}`?"))
            .unwrap_or_else(|| String::from("names are record fields, `let` bindings or tables"));
        self.err(CheckCode::UnknownName, span, format!("unknown name `{name}`"), "not a field, binding or table")
            .help = Some(help);
    }

    fn path_ty(&mut self, path: &[Ident], span: Span) -> Ty {
        if let [first, rest @ ..] = path
            && first.name == "candidate"
            && self.env.resolve(path).is_none()
        {
            return self.candidate_ty(rest, span);
        }
        match self.env.resolve(path) {
            Some(Resolved::Field(slot)) => self.env.schema.fields.get(slot).map_or(Ty::Any, |f| f.ty.to_ty()),
            Some(Resolved::Let(i)) => {
                if let Some(l) = self.env.lets.get(i) {
                    self.used.insert(l.name.clone());
                }
                self.let_ty(i)
            }
            Some(Resolved::Table(i)) => {
                let Some(t) = self.env.tables.get(i) else { return Ty::Any };
                self.used.insert(t.name.clone());
                match t.data {
                    TableData::TextSet(_) => Ty::Set(Box::new(Ty::Text)),
                    TableData::IntSet(_) => Ty::Set(Box::new(Ty::Int)),
                    TableData::Map(_) => Ty::Map,
                }
            }
            None => {
                self.unknown_path(path, span);
                Ty::Any
            }
        }
    }

    fn candidate_ty(&mut self, rest: &[Ident], span: Span) -> Ty {
        if !self.in_quantifier {
            self.err(
                CheckCode::CandidateOutside,
                span,
                "`candidate` is only known inside a condition about candidates",
                "here",
            )
            .help = Some(String::from(
                "write it inside `any candidate where (…)`, `no candidate where (…)` or `count candidates where (…)`",
            ));
            return Ty::Any;
        }
        match self.env.resolve_candidate(rest) {
            Some(CandRef::Probability | CandRef::Weight(_)) => Ty::Float,
            Some(CandRef::Level(_)) => Ty::Text,
            Some(CandRef::Field(_) | CandRef::Let(_)) => self.path_ty(rest, span),
            None if rest.first().is_some_and(|r| r.name == "level" || r.name == "weight") => {
                let compares: Vec<String> =
                    self.env.matching.iter().flat_map(|m| m.compares.iter().map(|c| c.name.clone())).collect();
                self.err(CheckCode::UnknownName, span, "unknown comparison", "no such comparison").help =
                    Some(format!("the comparisons are: {}", compares.join(", ")));
                Ty::Any
            }
            None if rest.is_empty() => {
                self.err(CheckCode::UnknownField, span, "`candidate` needs a field after it", "e.g. `candidate.id`");
                Ty::Any
            }
            None => self.path_ty(rest, span),
        }
    }

    fn expr(&mut self, e: &Expr) -> Ty {
        match &e.kind {
            ExprKind::Str(_) => Ty::Text,
            ExprKind::Int(_) => Ty::Int,
            ExprKind::Float(_) => Ty::Float,
            ExprKind::Bool(_) => Ty::Bool,
            ExprKind::Today => Ty::Date,
            ExprKind::Date(s) => {
                if let Err(reason) = Date::parse(s) {
                    self.err(CheckCode::InvalidDate, e.span, format!("`{s}` is not a date: {reason}"), "no such date");
                }
                Ty::Date
            }
            ExprKind::Regex(r) => {
                if let Err(err) = build_regex(r) {
                    self.regex_error(e.span, &err);
                }
                Ty::Regex
            }
            ExprKind::Path(p) => self.path_ty(p, e.span),
            ExprKind::Set(items) => match self.set_literal(items.iter(), e.span) {
                Some(TableData::IntSet(_)) => Ty::Set(Box::new(Ty::Int)),
                _ => Ty::Set(Box::new(Ty::Text)),
            },
            ExprKind::Call { name, args } => self.call(name, args, e.span),
            ExprKind::Quantifier { quant, cond } => {
                if self.env.matching.is_none() {
                    self.err(
                        CheckCode::NoMatchBlock,
                        e.span,
                        "there is no `match` block, so there are no candidates",
                        "here",
                    )
                    .help = Some(String::from(
                        "add `match { block on …; compare … }` to say how records are compared with the registry",
                    ));
                }
                if self.in_quantifier {
                    self.err(
                        CheckCode::NestedQuantifier,
                        e.span,
                        "a condition about candidates inside another one",
                        "nested",
                    );
                }
                if let Some(c) = cond {
                    let was = std::mem::replace(&mut self.in_quantifier, true);
                    let t = self.expr(c);
                    self.in_quantifier = was;
                    self.expect_bool(&t, c.span, "`where` needs a condition");
                }
                if *quant == ast::Quant::Count { Ty::Int } else { Ty::Bool }
            }
            ExprKind::Not(x) => {
                let t = self.expr(x);
                self.expect_bool(&t, x.span, "`not` needs a condition");
                Ty::Bool
            }
            ExprKind::SingleEq { lhs, rhs, eq_span } => {
                self.expr(lhs);
                self.expr(rhs);
                self.err(CheckCode::SingleEquals, *eq_span, "`=` is not a comparison", "write `==` here").help =
                    Some(String::from("to compare two values write `==`; a single `=` only gives a name in `let`"));
                Ty::Bool
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let lt = self.expr(lhs);
                let rt = self.expr(rhs);
                self.binary(*op, (lhs, lt), (rhs, rt), e.span)
            }
            ExprKind::In { lhs, rhs, .. } => {
                let lt = self.expr(lhs);
                let rt = self.expr(rhs);
                match &rt {
                    Ty::Set(elem) | Ty::List(elem) => {
                        if !lt.compatible(elem) {
                            self.err(
                                CheckCode::TypeMismatch,
                                lhs.span,
                                format!("{} is looked up in a set of {}", lt.describe(), elem.describe()),
                                format!("this is {}", lt.describe()),
                            );
                        }
                    }
                    Ty::Any => {}
                    other => {
                        self.err(
                            CheckCode::TypeMismatch,
                            rhs.span,
                            format!("`in` needs a set, a table or a list, but this is {}", other.describe()),
                            "not a set",
                        )
                        .help = Some(String::from("write a set as `{\"a\", \"b\"}` or name a `set` table"));
                    }
                }
                Ty::Bool
            }
            ExprKind::Matches { lhs, rhs } => {
                let lt = self.expr(lhs);
                if !lt.compatible(&Ty::Text) {
                    self.err(
                        CheckCode::TypeMismatch,
                        lhs.span,
                        format!("`matches` needs text, but this is {}", lt.describe()),
                        "not text",
                    );
                }
                match &rhs.kind {
                    ExprKind::Regex(_) => {
                        self.expr(rhs);
                    }
                    ExprKind::Str(s) => {
                        if let Err(err) = build_regex(s) {
                            self.regex_error(rhs.span, &err);
                        }
                    }
                    _ => {
                        self.err(
                            CheckCode::TypeMismatch,
                            rhs.span,
                            "`matches` needs a pattern written in the rule",
                            "not a pattern",
                        )
                        .help = Some(String::from("write the pattern between slashes, e.g. `matches /^[0-9]{7}$/`"));
                    }
                }
                Ty::Bool
            }
            ExprKind::Index { base, key } => {
                let bt = self.expr(base);
                let kt = self.expr(key);
                if !matches!(bt, Ty::Map | Ty::Any) {
                    self.err(
                        CheckCode::TypeMismatch,
                        base.span,
                        format!("`[…]` looks up a `map`, but this is {}", bt.describe()),
                        "not a map",
                    );
                }
                if !kt.compatible(&Ty::Text) {
                    self.err(
                        CheckCode::TypeMismatch,
                        key.span,
                        format!("map keys are text, but this is {}", kt.describe()),
                        "not text",
                    );
                }
                Ty::Text
            }
        }
    }

    fn regex_error(&mut self, span: Span, err: &regex::Error) {
        if let regex::Error::CompiledTooBig(limit) = err {
            self.err(
                CheckCode::PatternTooLarge,
                span,
                format!("the pattern is too large: compiled, it needs more than {} KiB", limit / 1024),
                "this pattern",
            )
            .help = Some(String::from(
                "repetitions multiply: `(a{1000}){1000}` is a million `a`s; write a smaller count, or check the length with `length(…)` instead",
            ));
            return;
        }
        let reason = err.to_string();
        let reason =
            reason.lines().last().unwrap_or("invalid pattern").trim().trim_start_matches("error: ").to_string();
        self.err(CheckCode::InvalidRegex, span, format!("invalid pattern: {reason}"), "this pattern");
    }

    fn binary(&mut self, op: BinOp, (l, lt): (&Expr, Ty), (r, rt): (&Expr, Ty), span: Span) -> Ty {
        match op {
            BinOp::And | BinOp::Or => {
                let word = if op == BinOp::And { "`and`" } else { "`or`" };
                self.expect_bool(&lt, l.span, &format!("{word} joins conditions"));
                self.expect_bool(&rt, r.span, &format!("{word} joins conditions"));
                Ty::Bool
            }
            BinOp::Concat => {
                for (e, t) in [(l, &lt), (r, &rt)] {
                    if !matches!(t, Ty::Text | Ty::Int | Ty::Date | Ty::Enum(_) | Ty::Any) {
                        self.err(
                            CheckCode::TypeMismatch,
                            e.span,
                            format!("`++` joins text, but this is {}", t.describe()),
                            "not text",
                        );
                    }
                }
                Ty::Text
            }
            BinOp::Add | BinOp::Sub => match (&lt, &rt) {
                (Ty::Int, Ty::Int) => Ty::Int,
                (Ty::Date, Ty::Int) => Ty::Date,
                (Ty::Date, Ty::Date) if op == BinOp::Sub => Ty::Int,
                (Ty::Any, _) | (_, Ty::Any) => Ty::Any,
                _ => {
                    let sym = if op == BinOp::Add { "+" } else { "-" };
                    self.err(
                        CheckCode::TypeMismatch,
                        span,
                        format!("cannot compute {} {sym} {}", lt.describe(), rt.describe()),
                        "here",
                    )
                    .help = Some(String::from(
                        "`+` and `-` work on numbers, and on a date plus or minus a number of days; use `++` to join text",
                    ));
                    Ty::Any
                }
            },
            BinOp::Cmp(cmp) => {
                // Enum fields compared with text: the text must be one of the choices.
                for (a, at, b) in [(l, &lt, r), (r, &rt, l)] {
                    let _ = a;
                    if let (Ty::Enum(variants), ExprKind::Str(s)) = (at, &b.kind)
                        && !variants.iter().any(|v| v == s)
                    {
                        let help = did_you_mean(s, variants.iter().map(String::as_str))
                            .map(|x| format!("did you mean `{x}`? the choices are: {}", variants.join(", ")))
                            .unwrap_or_else(|| format!("the choices are: {}", variants.join(", ")));
                        self.err(
                            CheckCode::UnknownVariant,
                            b.span,
                            format!("`{s}` is not one of the choices"),
                            "never equal",
                        )
                        .help = Some(help);
                    }
                }
                let ordered = !matches!(cmp, CmpOp::Eq | CmpOp::Ne);
                let ok = lt.compatible(&rt)
                    && (!ordered || matches!(lt, Ty::Int | Ty::Float | Ty::Date | Ty::Text | Ty::Any));
                if !ok {
                    let help = if matches!((&lt, &rt), (Ty::Date, Ty::Text) | (Ty::Text, Ty::Date)) {
                        "write dates as `YYYY-MM-DD` without quotes, or use `parse_date(…)`"
                    } else if matches!((&lt, &rt), (Ty::Int, Ty::Text) | (Ty::Text, Ty::Int)) {
                        "numbers in quotes are text; remove the quotes, or use `length(…)` to count characters"
                    } else {
                        "both sides of a comparison must be the same kind of value"
                    };
                    self.err(
                        CheckCode::TypeMismatch,
                        span,
                        format!("cannot compare {} with {} using `{}`", lt.describe(), rt.describe(), cmp.as_str()),
                        "here",
                    )
                    .help = Some(String::from(help));
                }
                Ty::Bool
            }
        }
    }

    fn call(&mut self, name: &Ident, args: &[Expr], span: Span) -> Ty {
        let arg_tys: Vec<Ty> = args.iter().map(|a| self.expr(a)).collect();
        let Some(b) = builtins::lookup(&name.name) else {
            let help = did_you_mean(&name.name, builtins::all().iter().map(|b| b.name))
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| String::from("`kensa doc` lists every function"));
            self.err(
                CheckCode::UnknownFunction,
                name.span,
                format!("unknown function `{}`", name.name),
                "not a builtin",
            )
            .help = Some(help);
            return Ty::Any;
        };
        if b.params.len() != args.len() {
            let sig: Vec<String> = b.params.iter().map(|(n, t)| format!("{n}: {}", t.as_str())).collect();
            self.err(
                CheckCode::WrongArgCount,
                span,
                format!("`{}` takes {} value(s), but {} were given", b.name, b.params.len(), args.len()),
                "here",
            )
            .help = Some(format!("write `{}({})`", b.name, sig.join(", ")));
            return ptype(b.ret, &arg_tys);
        }
        // A text function marked `each` given a list of text maps the list.
        if b.each
            && let [Ty::List(inner)] = arg_tys.as_slice()
            && inner.compatible(&Ty::Text)
        {
            return Ty::List(Box::new(Ty::Text));
        }
        for ((pname, pty), (arg, aty)) in b.params.iter().zip(args.iter().zip(&arg_tys)) {
            let ok = match pty {
                PTy::Any => true,
                PTy::Text => aty.compatible(&Ty::Text),
                PTy::Int => aty.compatible(&Ty::Int),
                PTy::Date => aty.compatible(&Ty::Date),
                PTy::Bool => aty.compatible(&Ty::Bool),
                PTy::TextOrList => matches!(aty, Ty::Text | Ty::Enum(_) | Ty::List(_) | Ty::Any),
            };
            if !ok {
                let help = if *pty == PTy::Text && matches!(aty, Ty::Date) {
                    String::from("a date field is already read as a date; pass it to a date function instead")
                } else {
                    format!("`{}` expects {} for `{pname}`", b.name, pty.as_str())
                };
                self.err(
                    CheckCode::TypeMismatch,
                    arg.span,
                    format!("`{}` needs {} here, but this is {}", b.name, pty.as_str(), aty.describe()),
                    format!("this is {}", aty.describe()),
                )
                .help = Some(help);
            }
        }
        ptype(b.ret, &arg_tys)
    }
}

fn ptype(p: PTy, args: &[Ty]) -> Ty {
    match p {
        PTy::Text => Ty::Text,
        PTy::Int => Ty::Int,
        PTy::Date => Ty::Date,
        PTy::Bool => Ty::Bool,
        // `coalesce` returns the kind of its first argument.
        PTy::Any | PTy::TextOrList => args.first().cloned().unwrap_or(Ty::Any),
    }
}

/// Call `f` on each direct sub-expression.
pub fn visit_children(e: &Expr, mut f: impl FnMut(&Expr)) {
    match &e.kind {
        ExprKind::Str(_)
        | ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Date(_)
        | ExprKind::Bool(_)
        | ExprKind::Regex(_)
        | ExprKind::Today
        | ExprKind::Path(_) => {}
        ExprKind::Call { args, .. } => args.iter().for_each(f),
        ExprKind::Not(x) => f(x),
        ExprKind::Binary { lhs, rhs, .. }
        | ExprKind::In { lhs, rhs, .. }
        | ExprKind::Matches { lhs, rhs }
        | ExprKind::SingleEq { lhs, rhs, .. } => {
            f(lhs);
            f(rhs);
        }
        ExprKind::Index { base, key } => {
            f(base);
            f(key);
        }
        ExprKind::Set(items) => items.iter().for_each(f),
        ExprKind::Quantifier { cond, .. } => {
            if let Some(c) = cond {
                f(c);
            }
        }
    }
}

/// Compiled size limit of a rule's pattern: far above any pattern a rule needs, far below
/// what would let one pattern exhaust a server's memory or time (`(a{1000}){1000}`).
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Build a rule's `matches` pattern with size limits; the checker and the compiler both use it,
/// so a pattern that passes the check also compiles.
pub fn build_regex(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(2 * REGEX_SIZE_LIMIT)
        .nest_limit(64)
        .build()
}
