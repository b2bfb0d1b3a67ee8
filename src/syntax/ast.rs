//! The abstract syntax tree: what a rule file says, with byte spans into the original text.
//!
//! Nothing here is resolved or typed; see `check` for that.

use std::fmt;

/// Index of a source file in a [`crate::source::SourceMap`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span { file, start: clamp(start), end: clamp(end) }
    }
    pub fn to(self, other: Span) -> Span {
        Span { file: self.file, start: self.start.min(other.start), end: self.end.max(other.end) }
    }
    pub fn len(self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }
}

/// A name with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// One parsed rule file.
#[derive(Clone, Debug, Default)]
pub struct Module {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug)]
pub enum Item {
    Include(Include),
    /// `extend builtin` / `extend "path"`.
    Extend(Extend),
    /// `extend schema Resident { … }`.
    SchemaExt(Schema),
    /// `disable RULE "why"`.
    Disable(Disable),
    /// `override RULE "why" { … }`.
    Override(Override),
    Schema(Schema),
    Let(Let),
    Table(Table),
    Rule(Rule),
    Decide(Decide),
    Match(Match),
}

/// `match { prior …; block on …; compare … }`: how a record is compared with registry records.
#[derive(Clone, Debug)]
pub struct Match {
    pub prior: Option<(f64, Span)>,
    pub blocks: Vec<Expr>,
    pub compares: Vec<Compare>,
    pub span: Span,
}

/// `compare kana = kana_name using jaro_winkler { … }`.
#[derive(Clone, Debug)]
pub struct Compare {
    pub name: Ident,
    /// The compared value. For a value of parts, the parts joined by
    /// [`crate::linkage::PART_SEPARATOR`] (each `coalesce(part, "")`), built by the parser.
    pub value: Expr,
    /// The names of the parts of `(family: …, given: …)`; empty for one value.
    pub parts: Vec<Ident>,
    pub comparator: Ident,
    /// `frequency of PART fallback MAP`.
    pub frequency: Option<Frequency>,
    pub levels: Vec<Level>,
    pub span: Span,
}

/// `frequency [of PART] [fallback MAP]`: agreement on a common value weighs less, on a rare one
/// more (term-frequency adjustment).
#[derive(Clone, Debug)]
pub struct Frequency {
    pub part: Option<Ident>,
    pub fallback: Option<Ident>,
    pub span: Span,
}

/// One agreement level of a comparison with its m and u probabilities.
#[derive(Clone, Debug)]
pub struct Level {
    pub name: Ident,
    pub test: LevelTest,
    /// The part of `same PART` ([`LevelTest::PartSame`]).
    pub part: Option<Ident>,
    pub m: f64,
    pub u: f64,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LevelTest {
    Same,
    Similarity(f64),
    Distance(u32),
    /// `difference <= x`: numbers at most x apart.
    Difference(f64),
    Swapped,
    YearTypo,
    WithinDays(u32),
    /// `same PART`: one part of a value of parts agrees (the part is [`Level::part`]).
    PartSame,
    Else,
}

/// `any candidate`, `no candidate`, `count candidates`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quant {
    Any,
    No,
    Count,
}

/// What an overlay is built on.
#[derive(Clone, Debug)]
pub enum Base {
    /// `extend builtin`: the rule set compiled into kensa.
    Builtin,
    /// `extend "../national"`: a rule folder (or file), relative to the file that says it.
    Path(StrLit),
}

/// `extend builtin` / `extend "path"`: the rule set is its base plus its own files.
#[derive(Clone, Debug)]
pub struct Extend {
    pub base: Base,
    pub span: Span,
}

/// `disable RULE "why"`: a rule of the base that does not run in this overlay.
#[derive(Clone, Debug)]
pub struct Disable {
    pub rule: Ident,
    pub reason: Option<StrLit>,
    pub span: Span,
}

/// `override RULE "why" { when …; review -10 "…" }`: a rule of the base with a narrower
/// condition (each `when` is added to the rule's own) or another outcome.
#[derive(Clone, Debug)]
pub struct Override {
    pub rule: Ident,
    pub reason: Option<StrLit>,
    pub when: Vec<Expr>,
    pub outcomes: Vec<Outcome>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Include {
    pub path: StrLit,
}

#[derive(Clone, Debug)]
pub struct Schema {
    pub name: Ident,
    pub fields: Vec<FieldDecl>,
}

#[derive(Clone, Debug)]
pub struct FieldDecl {
    pub name: Ident,
    pub ty: TypeExpr,
    pub optional: bool,
    pub secret: bool,
    /// Marked `id`: the field that names the record (in findings' `related` and in output).
    pub is_id: bool,
    /// `max(N)`: the longest value in characters, with the span of `N`.
    pub max_chars: Option<(u64, Span)>,
    /// `digits(N)`: the longest run of digits the field holds by nature, with the span of `N`.
    pub digit_runs: Option<(u64, Span)>,
}

#[derive(Clone, Debug)]
pub enum TypeExpr {
    Text,
    Int,
    Date,
    Bool,
    Enum(Vec<Ident>),
    List(Box<TypeExpr>),
    Group(Vec<FieldDecl>),
}

#[derive(Clone, Debug)]
pub struct Let {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableKind {
    Set,
    Map,
}

#[derive(Clone, Debug)]
pub struct Table {
    pub kind: TableKind,
    pub name: Ident,
    pub source: TableSource,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum TableSource {
    /// `{ "a", "b" }` or `{ "a": "x", "b": "y" }`; for sets the value is `None`.
    Inline(Vec<(Expr, Option<Expr>)>),
    /// `file("prefectures.tsv", column: "name")`.
    File { path: StrLit, options: Vec<(Ident, StrLit)> },
}

/// A string literal: the unescaped value and the span of the whole literal including quotes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

/// In JSON: `"warn"`, `"review"`, `"reject"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warn,
    Review,
    Reject,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warn => "warn",
            Severity::Review => "review",
            Severity::Reject => "reject",
        }
    }
    /// Score penalty used when a rule does not write one.
    pub fn default_penalty(self) -> u32 {
        match self {
            Severity::Warn => 10,
            Severity::Review => 30,
            Severity::Reject => 100,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub id: Ident,
    pub title: Option<StrLit>,
    pub when: Vec<Expr>,
    pub require: Vec<Expr>,
    pub outcomes: Vec<Outcome>,
    pub fields: Vec<Vec<Vec<Ident>>>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub severity: Severity,
    pub penalty: Option<(u32, Span)>,
    pub message: Option<StrLit>,
    pub span: Span,
}

/// In JSON: `"accept"`, `"review"`, `"reject"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Accept,
    Review,
    Reject,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Accept => "accept",
            Decision::Review => "review",
            Decision::Reject => "reject",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug)]
pub struct Decide {
    pub arms: Vec<DecideArm>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct DecideArm {
    pub decision: Decision,
    /// `None` for `otherwise`.
    pub cond: Option<DCond>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum DCond {
    Or(Vec<DCond>),
    And(Vec<DCond>),
    Not(Box<DCond>),
    Any(Severity),
    NoneOf(Severity),
    Count(Severity, CmpOp, i64),
    Score(CmpOp, i64),
    Fired(Ident),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Cmp(CmpOp),
    And,
    Or,
    Concat,
    Add,
    Sub,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Str(String),
    Int(i64),
    Float(f64),
    /// A date literal as written (`1900-01-01`); validated by the checker.
    Date(String),
    Bool(bool),
    Regex(String),
    Today,
    /// `a.b.c`: a binding, a table or a record field.
    Path(Vec<Ident>),
    Call {
        name: Ident,
        args: Vec<Expr>,
    },
    Not(Box<Expr>),
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    In {
        negated: bool,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Matches {
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Index {
        base: Box<Expr>,
        key: Box<Expr>,
    },
    Set(Vec<Expr>),
    /// `any candidate where (…)`: over the registry records the match block found.
    Quantifier {
        quant: Quant,
        cond: Option<Box<Expr>>,
    },
    /// `a = b` where `a == b` was meant; kept so the checker can explain it.
    SingleEq {
        lhs: Box<Expr>,
        rhs: Box<Expr>,
        eq_span: Span,
    },
}
