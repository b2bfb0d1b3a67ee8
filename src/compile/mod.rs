//! Compile: checked rule set ([`Env`]) → flat IR ([`Program`]).
//!
//! Names become slots (fields), indices (bindings, tables) and function pointers (builtins);
//! patterns are compiled once; sets become hash sets. The program is immutable and
//! `Send + Sync`: one compiled program is shared by reference across threads.
//! Never: reads files, evaluates records.

mod fold;
mod share;

use std::collections::{HashMap, HashSet};

use regex::Regex;

use crate::builtins::{self, Imp};
use crate::check::{CandRef, Env, FieldTy, Resolved, TableData, TemplatePart};
use crate::linkage::{self, Comparator, Test};
use crate::normalize::date::Date;
use crate::record_json::Json;
use crate::source::SourceMap;
use crate::syntax::ast::{self, BinOp, CmpOp, Decision, Expr, ExprKind, Quant, Severity};
use crate::value::Value;

/// Index of a node in [`Program::nodes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeId(pub u32);

/// A constant of the program.
#[derive(Clone, Debug)]
pub enum Const {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Date(Date),
    Text(Box<str>),
}

impl Const {
    /// The constant as a value (text borrowed).
    pub fn value(&self) -> Value<'_> {
        match self {
            Const::Null => Value::Null,
            Const::Bool(b) => Value::Bool(*b),
            Const::Int(n) => Value::Int(*n),
            Const::Float(x) => Value::Float(*x),
            Const::Date(d) => Value::Date(*d),
            Const::Text(t) => Value::text(t),
        }
    }
}

/// What a [`Node::Is`] tests: the commonest calls of the rules (`when present(postal)`,
/// `when not blank(my_number)`), answered without a call through a function pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Is {
    /// `present(…)`; negated, `absent(…)`.
    Present,
    /// `blank(…)`: missing, or text made only of whitespace.
    Blank,
}

impl Is {
    /// The test of a builtin, for those that have one.
    fn of(builtin: &str) -> Option<(Is, bool)> {
        match builtin {
            "present" => Some((Is::Present, false)),
            "absent" => Some((Is::Present, true)),
            "blank" => Some((Is::Blank, false)),
            _ => None,
        }
    }

    /// Whether `v` passes the test (as the builtin answers: never unknown).
    pub fn holds(self, v: &Value<'_>) -> bool {
        match self {
            Is::Present => !v.is_null(),
            Is::Blank => builtins::is_blank(v),
        }
    }
}

/// One IR node; children are other nodes of the same program.
#[derive(Clone, Debug)]
pub enum Node {
    Const(Const),
    Field(u32),
    Let(u32),
    Today,
    Call1 {
        f: Imp,
        sees_absent: bool,
        arg: NodeId,
    },
    Call2 {
        f: Imp,
        sees_absent: bool,
        a: NodeId,
        b: NodeId,
    },
    Not(NodeId),
    /// `test` of `value`, or its opposite when `negated` (`absent`, `not blank`).
    Is {
        test: Is,
        value: NodeId,
        negated: bool,
    },
    And(NodeId, NodeId),
    Or(NodeId, NodeId),
    Cmp(CmpOp, NodeId, NodeId),
    InSet {
        value: NodeId,
        set: u32,
        negated: bool,
    },
    InList {
        value: NodeId,
        list: NodeId,
        negated: bool,
    },
    Matches(NodeId, u32),
    Concat(Box<[NodeId]>),
    Add(NodeId, NodeId),
    Sub(NodeId, NodeId),
    Index {
        map: u32,
        key: NodeId,
    },
    /// `any candidate where (…)` and friends.
    Quant {
        quant: Quant,
        cond: Option<NodeId>,
    },
    /// Inside a quantifier: a field or binding of the current candidate.
    CandField(u32),
    CandLet(u32),
    CandProbability,
    CandLevel(u32),
    CandWeight(u32),
    /// `node`, used in several places: computed once per record and kept in cache `slot`
    /// (numbered after the `let` bindings).
    Cached {
        slot: u32,
        node: NodeId,
    },
}

/// One compiled comparison of the `match` block.
#[derive(Clone, Debug)]
pub struct CCompare {
    pub name: Box<str>,
    pub value: NodeId,
    pub comparator: Comparator,
    pub tests: Box<[Test]>,
    pub levels: Box<[Box<str>]>,
    /// log2(m/u) per level.
    pub weights: Box<[f64]>,
    /// `frequency …`: agreement is weighed by how common the value is.
    pub frequency: Option<CFrequency>,
}

/// A compiled `frequency [of PART] [fallback MAP]`.
#[derive(Clone, Debug)]
pub struct CFrequency {
    /// The counted part (0 for a comparison of one value).
    pub part: usize,
    /// Per level: whether the level asserts that the counted value agrees (`same`, or
    /// `same PART` of the counted part), so that its weight is adjusted.
    pub adjusts: Box<[bool]>,
    /// The fallback shares, value → share.
    pub fallback: rustc_hash::FxHashMap<Box<str>, f64>,
    /// Σ share² of the fallback: the chance that two people picked at random agree.
    pub fallback_agreement: f64,
    /// The share of a value the fallback does not list: its `*` row, else the smallest listed
    /// share (a value left out of a list of the most common is at most that common).
    pub fallback_floor: f64,
}

impl CFrequency {
    /// The value counted, of a compared text (the part, for a comparison of parts).
    pub fn counted<'t>(&self, parts: bool, text: &'t str) -> Option<&'t str> {
        let v = if parts { text.split(linkage::PART_SEPARATOR).nth(self.part)? } else { text };
        (!v.is_empty()).then_some(v)
    }
}

/// The compiled `match` block.
#[derive(Clone, Debug)]
pub struct CMatch {
    pub prior: f64,
    pub blocks: Box<[NodeId]>,
    /// The source text of each `block on …` expression (`address_key`), for messages.
    pub block_labels: Box<[Box<str>]>,
    pub compares: Box<[CCompare]>,
    /// Evaluation steps reading one candidate costs: the distinct nodes of the compared values
    /// (through `let` bindings). The comparators add their own work ([`linkage::work`]).
    pub cost: u32,
}

/// A compiled `matches` pattern. The anchored digit patterns rules write for codes
/// (`^[0-9]{4}$`, `^[0-9]{3,4}$`, `^[0-9]+$`) are a length check and a scan; any other
/// pattern is a regex.
#[derive(Clone, Debug)]
pub enum Pattern {
    /// `^[0-9]{min,max}$`: between `min` and `max` ASCII digits and nothing else.
    Digits {
        min: usize,
        max: usize,
    },
    Regex(Regex),
}

impl Pattern {
    fn new(re: Regex) -> Pattern {
        match digits_pattern(re.as_str()) {
            Some((min, max)) => Pattern::Digits { min, max },
            None => Pattern::Regex(re),
        }
    }

    /// Whether the pattern matches somewhere in `s`, as [`Regex::is_match`].
    pub fn is_match(&self, s: &str) -> bool {
        match self {
            Pattern::Digits { min, max } => (*min..=*max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()),
            Pattern::Regex(re) => re.is_match(s),
        }
    }
}

/// `^[0-9]{n}$`, `^[0-9]{n,m}$`, `^[0-9]{n,}$`, `^[0-9]+$` or `^[0-9]*$` → (min, max) digits.
/// (`$` is the end of the text in Rust regexes, never before a final newline; `\d` is not
/// recognised: it is any Unicode digit.)
fn digits_pattern(p: &str) -> Option<(usize, usize)> {
    let q = p.strip_prefix("^[0-9]")?.strip_suffix('$')?;
    let (min, max) = match q {
        "+" => (1, usize::MAX),
        "*" => (0, usize::MAX),
        _ => {
            let inner = q.strip_prefix('{')?.strip_suffix('}')?;
            let number = |t: &str| t.bytes().all(|b| b.is_ascii_digit()).then(|| t.parse::<usize>().ok()).flatten();
            match inner.split_once(',') {
                None => {
                    let n = number(inner)?;
                    (n, n)
                }
                Some((a, "")) => (number(a)?, usize::MAX),
                Some((a, b)) => (number(a)?, number(b)?),
            }
        }
    };
    (min <= max && min <= 1000).then_some((min, max))
}

/// A compiled set table.
#[derive(Clone, Debug)]
pub enum SetTable {
    Text(HashSet<Box<str>>),
    Int(HashSet<i64>),
}

/// One field slot of the record schema.
#[derive(Clone, Debug)]
pub struct Field {
    pub path: Box<str>,
    pub ty: FieldTy,
    pub optional: bool,
    /// `max(N)`: the longest value in characters.
    pub max_chars: Option<u32>,
    /// How this field's own value is shown (in a type finding when it cannot be read).
    pub privacy: Privacy,
    pub children: Box<[u32]>,
    /// The JSON keys of `children`, in the same order (for reading a record).
    pub child_keys: Box<[Box<str>]>,
}

/// How a value is shown in messages and evidence, from the fields it derives from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Privacy {
    /// From no text field (numbers, dates, choices, constants): shown as it is.
    Plain,
    /// From text fields: a run of more digits than they hold by nature (`digits(N)`, else 6)
    /// may be a personal number typed into the wrong field, and is masked to its last four.
    DigitRuns(u8),
    /// From a `secret` field: masked to its last four characters.
    Secret,
}

impl Privacy {
    /// The digits a text field shows in a run when it does not say (`digits(N)`): fewer than an
    /// account number (7) or a My Number (12).
    pub const DEFAULT_DIGITS: u8 = 6;

    /// The stricter of two.
    pub fn and(self, other: Privacy) -> Privacy {
        match (self, other) {
            (Privacy::Secret, _) | (_, Privacy::Secret) => Privacy::Secret,
            (Privacy::DigitRuns(a), Privacy::DigitRuns(b)) => Privacy::DigitRuns(a.min(b)),
            (Privacy::DigitRuns(a), Privacy::Plain) | (Privacy::Plain, Privacy::DigitRuns(a)) => Privacy::DigitRuns(a),
            (Privacy::Plain, Privacy::Plain) => Privacy::Plain,
        }
    }

    /// `text` as this privacy shows it: a secret masked to its last four characters, a run of
    /// more digits than the fields hold masked to its last four, plain text as it is.
    pub fn apply(self, text: &str) -> std::borrow::Cow<'_, str> {
        use crate::normalize::digits::{DigitRuns, mask, mask_digit_runs};
        match self {
            Privacy::Plain => std::borrow::Cow::Borrowed(text),
            Privacy::Secret => std::borrow::Cow::Owned(mask(text)),
            Privacy::DigitRuns(n) => mask_digit_runs(text, DigitRuns::longer_than(usize::from(n))),
        }
    }

    /// How a field's value is shown: secret, text (with its `digits(N)`), or plain. The id
    /// field is shown as it is: it names the record in every output anyway.
    pub fn of_field(f: &crate::check::FieldInfo, is_id: bool) -> Privacy {
        if f.secret {
            return Privacy::Secret;
        }
        if is_id {
            return Privacy::Plain;
        }
        if f.ty.is_text() {
            Privacy::DigitRuns(f.digit_runs.unwrap_or(Privacy::DEFAULT_DIGITS))
        } else {
            Privacy::Plain
        }
    }
}

/// A piece of a compiled message.
#[derive(Clone, Debug)]
pub enum MsgPart {
    Text(Box<str>),
    /// A `{…}` placeholder: `label` is its text as written (whitespace squashed), the key of
    /// the value in `Finding::params`.
    Value {
        node: NodeId,
        privacy: Privacy,
        label: Box<str>,
    },
}

/// One evidence item: the source text of a sub-expression and the node computing it.
#[derive(Clone, Debug)]
pub struct Evidence {
    pub label: Box<str>,
    pub node: NodeId,
    pub privacy: Privacy,
}

/// A compiled rule.
#[derive(Clone, Debug)]
pub struct CRule {
    pub id: Box<str>,
    /// The title written after the id, if any.
    pub title: Option<Box<str>>,
    pub severity: Severity,
    pub penalty: u32,
    pub when: Option<NodeId>,
    pub require: Box<[NodeId]>,
    pub message: Box<[MsgPart]>,
    pub fields: Box<[Box<str>]>,
    /// Evidence per `require` condition (same order as `require`).
    pub evidence: Box<[Box<[Evidence]>]>,
    /// Evaluation steps the rule costs (its share of `Limits::eval_budget`): the distinct
    /// nodes its conditions, message and evidence reach, through `let` bindings.
    pub cost: u32,
    /// The field slots its `when`, `require` and message read (through `let` bindings), in
    /// slot order: what a partly filled form must have for the rule to be judged.
    pub reads: Box<[u32]>,
    /// It asks about registry candidates (`any candidate …`): judged on whole records only.
    pub reads_candidates: bool,
}

/// A compiled decision condition.
#[derive(Clone, Debug)]
pub enum DCond {
    Or(Box<[DCond]>),
    And(Box<[DCond]>),
    Not(Box<DCond>),
    Any(Severity),
    NoneOf(Severity),
    Count(Severity, CmpOp, i64),
    Score(CmpOp, i64),
    Fired(u32),
}

/// The compiled program: immutable, `Send + Sync`.
#[derive(Debug)]
pub struct Program {
    pub fields: Box<[Field]>,
    pub roots: Box<[u32]>,
    /// The JSON keys of `roots`, in the same order.
    pub root_keys: Box<[Box<str>]>,
    pub nodes: Box<[Node]>,
    pub lets: Box<[NodeId]>,
    /// How many values a record keeps: the `let` bindings, then the [`Node::Cached`] ones.
    pub memo_slots: usize,
    pub sets: Box<[SetTable]>,
    pub maps: Box<[HashMap<Box<str>, Box<str>>]>,
    pub regexes: Box<[Pattern]>,
    pub rules: Box<[CRule]>,
    pub decide: Box<[(Decision, Option<DCond>)]>,
    /// `decide` asks whether a particular rule fired (`DCond::Fired`).
    pub decide_reads_fired: bool,
    pub matching: Option<CMatch>,
    /// The JSON key of the field that names a record.
    pub id_key: Option<Box<str>>,
    /// The slot of that field (one of `roots`).
    pub id_slot: Option<u32>,
    /// Unique in the process: what a value computed by this program (a registry's
    /// [`crate::eval::StoredProfile`]) is checked against before it is used.
    pub uid: u64,
    /// What rules about candidates read of a candidate: field slots (`candidate.field`) and
    /// `let` bindings, sorted. A registry keeps their values beside each record it holds.
    pub cand_fields: Box<[u32]>,
    pub cand_lets: Box<[u32]>,
}

/// The next [`Program::uid`].
fn next_uid() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Program {
    /// The id of a record, as text (`None` without an id field or value).
    pub fn record_id(&self, record: &serde_json::Value) -> Option<String> {
        record.get(self.id_key.as_deref()?).and_then(|v| id_text(&Json::from_value(v)))
    }

    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id.0 as usize)
    }
}

/// The value of a record's id field as text (see [`Program::record_id`]).
pub fn id_text(v: &Json<'_>) -> Option<String> {
    match v {
        Json::String(s) => Some(s.trim().to_string()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Lower a checked rule set. The environment has been checked, so names resolve; a name that
/// does not (which would be a checker bug) compiles to an absent value rather than panicking.
pub fn compile(env: &Env, sources: &SourceMap) -> Program {
    let fields: Box<[Field]> = env
        .schema
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| Field {
            path: f.path.as_str().into(),
            ty: f.ty.clone(),
            optional: f.optional,
            max_chars: f.max_chars,
            privacy: Privacy::of_field(f, Some(i) == env.schema.id_field),
            children: f.children.iter().map(|&c| to_u32(c)).collect(),
            child_keys: f.children.iter().map(|&c| key_of(env, c)).collect(),
        })
        .collect();
    let roots = env.schema.roots.iter().map(|&c| to_u32(c)).collect();
    let root_keys = env.schema.roots.iter().map(|&c| key_of(env, c)).collect();

    // Tables are named by their index in `env.tables`; `table_slots` maps that index to the
    // slot in `sets` or `maps`.
    let mut sets = Vec::new();
    let mut maps = Vec::new();
    let mut table_slots = Vec::new();
    for t in &env.tables {
        match &t.data {
            TableData::TextSet(v) => {
                table_slots.push(to_u32(sets.len()));
                sets.push(SetTable::Text(v.iter().map(|s| s.as_str().into()).collect()));
            }
            TableData::IntSet(v) => {
                table_slots.push(to_u32(sets.len()));
                sets.push(SetTable::Int(v.iter().copied().collect()));
            }
            TableData::Map(v) => {
                table_slots.push(to_u32(maps.len()));
                maps.push(v.iter().map(|(k, v)| (k.as_str().into(), v.as_str().into())).collect());
            }
        }
    }
    let mut cx = Lower {
        env,
        sources,
        nodes: Vec::new(),
        regexes: Vec::new(),
        regex_ids: HashMap::new(),
        sets,
        table_slots,
        in_quantifier: false,
    };

    let mut lets: Vec<NodeId> = env.lets.iter().map(|l| cx.expr(&l.value)).collect();

    let mut matching = env.matching.as_ref().map(|m| CMatch {
        prior: m.prior,
        blocks: m.blocks.iter().map(|b| cx.expr(b)).collect(),
        block_labels: m.blocks.iter().map(|b| squash(sources.slice(b.span)).into()).collect(),
        cost: 0,
        compares: m
            .compares
            .iter()
            .map(|c| CCompare {
                name: c.name.as_str().into(),
                value: cx.expr(&c.value),
                comparator: c.comparator,
                tests: c.levels.iter().map(|l| l.test).collect(),
                levels: c.levels.iter().map(|l| l.name.as_str().into()).collect(),
                weights: c.levels.iter().map(|l| linkage::weight(l.m, l.u)).collect(),
                frequency: c.frequency.as_ref().map(|f| {
                    let parts = c.parts.len().max(1);
                    let bit = 1u64 << f.part.min(63);
                    // `*`: the share of a value the map does not list.
                    let other = f.fallback.iter().find(|(k, _)| k == "*").map(|(_, v)| *v);
                    let fallback: rustc_hash::FxHashMap<Box<str>, f64> =
                        f.fallback.iter().filter(|(k, _)| k != "*").map(|(k, v)| (k.as_str().into(), *v)).collect();
                    CFrequency {
                        part: f.part,
                        adjusts: c.levels.iter().map(|l| linkage::agreeing_parts(l.test, parts) & bit != 0).collect(),
                        fallback_agreement: fallback.values().map(|x| x * x).sum(),
                        fallback_floor: other
                            .unwrap_or_else(|| fallback.values().copied().fold(f64::INFINITY, f64::min)),
                        fallback,
                    }
                }),
            })
            .collect(),
    });

    let mut rules: Vec<CRule> = env
        .rules
        .iter()
        .map(|r| {
            let mut when = None;
            for w in &r.when {
                let id = cx.expr(w);
                when = Some(match when {
                    None => id,
                    Some(prev) => cx.push(Node::And(prev, id)),
                });
            }
            let require: Box<[NodeId]> = r.require.iter().map(|q| cx.expr(q)).collect();
            let evidence = r
                .require
                .iter()
                .map(|q| {
                    let mut items = Vec::new();
                    cx.evidence(q, &mut items);
                    items.into_boxed_slice()
                })
                .collect();
            let message = r
                .message
                .iter()
                .map(|p| match p {
                    TemplatePart::Text(t) => MsgPart::Text(t.as_str().into()),
                    TemplatePart::Expr(e) => MsgPart::Value {
                        node: cx.expr(e),
                        privacy: cx.privacy(e),
                        label: squash(sources.slice(e.span)).into(),
                    },
                })
                .collect();
            let fields = r
                .fields
                .iter()
                .filter_map(|&slot| env.schema.fields.get(slot))
                .map(|f| f.path.as_str().into())
                .collect();
            CRule {
                id: r.id.as_str().into(),
                title: r.title.as_deref().map(Into::into),
                severity: r.severity,
                penalty: r.penalty,
                when,
                require,
                message,
                fields,
                evidence,
                cost: 0,
                reads: Box::new([]),
                reads_candidates: false,
            }
        })
        .collect();

    let decide = match &env.decide {
        Some(d) => d.arms.iter().map(|a| (a.decision, a.cond.as_ref().map(|c| lower_dcond(c, &rules)))).collect(),
        None => default_decide(),
    };

    fold::fold(&mut cx.nodes);
    let first_cache = to_u32(lets.len());
    let arena_roots = share::Roots { lets: &mut lets, rules: &mut rules, matching: matching.as_mut() };
    let caches = share::share(&mut cx.nodes, arena_roots, first_cache);
    costs(&cx.nodes, &lets, &mut rules, matching.as_mut());
    let cand_reads = |pick: fn(&Node) -> Option<u32>| -> Box<[u32]> {
        let mut v: Vec<u32> = cx.nodes.iter().filter_map(pick).collect();
        v.sort_unstable();
        v.dedup();
        v.into_boxed_slice()
    };
    let cand_fields = cand_reads(|n| if let Node::CandField(s) = n { Some(*s) } else { None });
    let cand_lets = cand_reads(|n| if let Node::CandLet(i) = n { Some(*i) } else { None });
    Program {
        uid: next_uid(),
        cand_fields,
        cand_lets,
        fields,
        roots,
        root_keys,
        nodes: cx.nodes.into_boxed_slice(),
        memo_slots: lets.len() + caches as usize,
        lets: lets.into_boxed_slice(),
        sets: cx.sets.into_boxed_slice(),
        maps: maps.into_boxed_slice(),
        regexes: cx.regexes.into_boxed_slice(),
        rules: rules.into_boxed_slice(),
        decide_reads_fired: decide.iter().any(|(_, c)| c.as_ref().is_some_and(reads_fired)),
        decide,
        matching,
        id_key: env.schema.id_field.and_then(|i| env.schema.fields.get(i)).map(|f| f.key.as_str().into()),
        id_slot: env.schema.id_field.map(to_u32),
    }
}

/// The JSON key of field `slot`.
fn key_of(env: &Env, slot: usize) -> Box<str> {
    env.schema.fields.get(slot).map_or("", |f| f.key.as_str()).into()
}

/// The policy used when a rule set has no `decide`:
/// reject if any reject; review if any review; accept otherwise.
fn default_decide() -> Box<[(Decision, Option<DCond>)]> {
    Box::new([
        (Decision::Reject, Some(DCond::Any(Severity::Reject))),
        (Decision::Review, Some(DCond::Any(Severity::Review))),
        (Decision::Accept, None),
    ])
}

fn lower_dcond(c: &ast::DCond, rules: &[CRule]) -> DCond {
    match c {
        ast::DCond::Or(v) => DCond::Or(v.iter().map(|x| lower_dcond(x, rules)).collect()),
        ast::DCond::And(v) => DCond::And(v.iter().map(|x| lower_dcond(x, rules)).collect()),
        ast::DCond::Not(x) => DCond::Not(Box::new(lower_dcond(x, rules))),
        ast::DCond::Any(s) => DCond::Any(*s),
        ast::DCond::NoneOf(s) => DCond::NoneOf(*s),
        ast::DCond::Count(s, op, n) => DCond::Count(*s, *op, *n),
        ast::DCond::Score(op, n) => DCond::Score(*op, *n),
        ast::DCond::Fired(id) => DCond::Fired(rules.iter().position(|r| *r.id == *id.name).map_or(u32::MAX, to_u32)),
    }
}

fn reads_fired(c: &DCond) -> bool {
    match c {
        DCond::Or(v) | DCond::And(v) => v.iter().any(reads_fired),
        DCond::Not(x) => reads_fired(x),
        DCond::Fired(_) => true,
        DCond::Any(_) | DCond::NoneOf(_) | DCond::Count(..) | DCond::Score(..) => false,
    }
}

/// Set each rule's [`CRule::cost`] (the distinct nodes reachable from its conditions, message
/// and evidence, following `let` bindings: an upper bound of what one evaluation computes), and
/// the match block's [`CMatch::cost`] (the nodes of its compared values).
fn costs(nodes: &[Node], lets: &[NodeId], rules: &mut [CRule], matching: Option<&mut CMatch>) {
    // `seen[node]` is the stamp of the last root set that counted the node.
    let mut seen = vec![u32::MAX; nodes.len()];
    let mut stack: Vec<NodeId> = Vec::new();
    for (i, rule) in rules.iter_mut().enumerate() {
        stack.clear();
        stack.extend(rule.when.iter().chain(rule.require.iter()).copied());
        stack.extend(rule.message.iter().filter_map(|p| match p {
            MsgPart::Value { node, .. } => Some(*node),
            MsgPart::Text(_) => None,
        }));
        stack.extend(rule.evidence.iter().flat_map(|e| e.iter().map(|x| x.node)));
        rule.cost = reach(nodes, lets, &mut stack, &mut seen, to_u32(i));
        stack.clear();
        stack.extend(rule.when.iter().chain(rule.require.iter()).copied());
        stack.extend(rule.message.iter().filter_map(|p| match p {
            MsgPart::Value { node, .. } => Some(*node),
            MsgPart::Text(_) => None,
        }));
        let (reads, candidates) = reads(nodes, lets, &mut stack);
        rule.reads = reads;
        rule.reads_candidates = candidates;
    }
    if let Some(m) = matching {
        stack.clear();
        stack.extend(m.compares.iter().map(|c| c.value));
        m.cost = reach(nodes, lets, &mut stack, &mut seen, u32::MAX - 1);
    }
}

/// The field slots reachable from `stack` (through `let` bindings), sorted, and whether a
/// registry candidate is reachable.
fn reads(nodes: &[Node], lets: &[NodeId], stack: &mut Vec<NodeId>) -> (Box<[u32]>, bool) {
    let mut seen = HashSet::new();
    let mut slots = Vec::new();
    let mut candidates = false;
    while let Some(id) = stack.pop() {
        if !seen.insert(id.0) {
            continue;
        }
        let node = nodes.get(id.0 as usize);
        match node {
            Some(Node::Field(slot)) => slots.push(*slot),
            Some(Node::Let(l)) => stack.extend(lets.get(*l as usize).copied()),
            Some(
                Node::Quant { .. }
                | Node::CandField(_)
                | Node::CandLet(_)
                | Node::CandProbability
                | Node::CandLevel(_)
                | Node::CandWeight(_),
            ) => candidates = true,
            _ => {}
        }
        stack.extend(share::children(node));
    }
    slots.sort_unstable();
    slots.dedup();
    (slots.into_boxed_slice(), candidates)
}

/// The number of distinct nodes reachable from `stack`, marking them with `stamp`.
fn reach(nodes: &[Node], lets: &[NodeId], stack: &mut Vec<NodeId>, seen: &mut [u32], stamp: u32) -> u32 {
    let mut cost = 0u32;
    while let Some(id) = stack.pop() {
        let Some(mark) = seen.get_mut(id.0 as usize) else { continue };
        if *mark == stamp {
            continue;
        }
        *mark = stamp;
        cost = cost.saturating_add(1);
        let node = nodes.get(id.0 as usize);
        if let Some(Node::Let(l) | Node::CandLet(l)) = node {
            stack.extend(lets.get(*l as usize).copied());
        }
        stack.extend(share::children(node));
    }
    cost
}

/// Text with its runs of whitespace made one space (a label, or text to fingerprint, that a
/// reformatting does not change).
pub(crate) fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

struct Lower<'e> {
    env: &'e Env,
    sources: &'e SourceMap,
    nodes: Vec<Node>,
    regexes: Vec<Pattern>,
    regex_ids: HashMap<String, u32>,
    sets: Vec<SetTable>,
    table_slots: Vec<u32>,
    in_quantifier: bool,
}

impl Lower<'_> {
    fn table_slot(&self, i: usize) -> u32 {
        self.table_slots.get(i).copied().unwrap_or(u32::MAX)
    }

    fn push(&mut self, n: Node) -> NodeId {
        let id = NodeId(to_u32(self.nodes.len()));
        self.nodes.push(n);
        id
    }

    fn konst(&mut self, c: Const) -> NodeId {
        self.push(Node::Const(c))
    }

    fn regex(&mut self, pattern: &str) -> u32 {
        if let Some(id) = self.regex_ids.get(pattern) {
            return *id;
        }
        // The checker validated the pattern (with the same size limits); an impossible failure
        // compiles to a never-matching pattern.
        let re = crate::check::build_regex(pattern).or_else(|_| Regex::new(r"[^\s\S]"));
        let id = to_u32(self.regexes.len());
        if let Ok(re) = re {
            self.regexes.push(Pattern::new(re));
        }
        self.regex_ids.insert(pattern.to_string(), id);
        id
    }

    fn expr(&mut self, e: &Expr) -> NodeId {
        match &e.kind {
            ExprKind::Str(s) => self.konst(Const::Text(s.as_str().into())),
            ExprKind::Int(n) => self.konst(Const::Int(*n)),
            ExprKind::Float(x) => self.konst(Const::Float(*x)),
            ExprKind::Quantifier { quant, cond } => {
                let was = std::mem::replace(&mut self.in_quantifier, true);
                let cond = cond.as_ref().map(|c| self.expr(c));
                self.in_quantifier = was;
                self.push(Node::Quant { quant: *quant, cond })
            }
            ExprKind::Bool(b) => self.konst(Const::Bool(*b)),
            ExprKind::Date(s) => match Date::parse(s) {
                Ok(d) => self.konst(Const::Date(d)),
                Err(_) => self.konst(Const::Null),
            },
            ExprKind::Regex(_) => self.konst(Const::Null),
            ExprKind::Today => self.push(Node::Today),
            ExprKind::Path(p)
                if self.in_quantifier
                    && self.env.resolve(p).is_none()
                    && p.first().is_some_and(|f| f.name == "candidate") =>
            {
                let rest = p.get(1..).unwrap_or(&[]);
                match self.env.resolve_candidate(rest) {
                    Some(CandRef::Field(slot)) => self.push(Node::CandField(to_u32(slot))),
                    Some(CandRef::Let(i)) => self.push(Node::CandLet(to_u32(i))),
                    Some(CandRef::Probability) => self.push(Node::CandProbability),
                    Some(CandRef::Level(i)) => self.push(Node::CandLevel(to_u32(i))),
                    Some(CandRef::Weight(i)) => self.push(Node::CandWeight(to_u32(i))),
                    None => self.konst(Const::Null),
                }
            }
            ExprKind::Path(p) => match self.env.resolve(p) {
                Some(Resolved::Field(slot)) => self.push(Node::Field(to_u32(slot))),
                Some(Resolved::Let(i)) => self.push(Node::Let(to_u32(i))),
                Some(Resolved::Table(_)) | None => self.konst(Const::Null),
            },
            ExprKind::Set(_) => self.konst(Const::Null),
            ExprKind::Call { name, args } => {
                let Some(b) = builtins::lookup(&name.name) else { return self.konst(Const::Null) };
                let ids: Vec<NodeId> = args.iter().map(|a| self.expr(a)).collect();
                match (b.imp, ids.as_slice()) {
                    (Imp::F1(_), [a]) if let Some((test, negated)) = Is::of(b.name) => {
                        self.push(Node::Is { test, value: *a, negated })
                    }
                    (Imp::F1(_), [a]) => self.push(Node::Call1 { f: b.imp, sees_absent: b.sees_absent, arg: *a }),
                    (Imp::F2(_), [a, c]) => {
                        self.push(Node::Call2 { f: b.imp, sees_absent: b.sees_absent, a: *a, b: *c })
                    }
                    _ => self.konst(Const::Null),
                }
            }
            ExprKind::Not(x) => {
                let x = self.expr(x);
                // `not present(…)`, `not blank(…)`: one node with the test turned round (a test
                // is always true or false, never unknown, so `not` is exact).
                match self.nodes.get(x.0 as usize) {
                    Some(&Node::Is { test, value, negated }) => self.push(Node::Is { test, value, negated: !negated }),
                    _ => self.push(Node::Not(x)),
                }
            }
            ExprKind::SingleEq { lhs, rhs, .. } => {
                let (a, b) = (self.expr(lhs), self.expr(rhs));
                self.push(Node::Cmp(CmpOp::Eq, a, b))
            }
            ExprKind::Binary { op, lhs, rhs } => {
                if *op == BinOp::Concat {
                    let mut parts = Vec::new();
                    self.concat_parts(e, &mut parts);
                    return self.push(Node::Concat(parts.into_boxed_slice()));
                }
                let (a, b) = (self.expr(lhs), self.expr(rhs));
                self.push(match op {
                    BinOp::And => Node::And(a, b),
                    BinOp::Or => Node::Or(a, b),
                    BinOp::Add => Node::Add(a, b),
                    BinOp::Sub => Node::Sub(a, b),
                    BinOp::Cmp(c) => Node::Cmp(*c, a, b),
                    BinOp::Concat => Node::Concat(Box::new([a, b])),
                })
            }
            ExprKind::In { negated, lhs, rhs } => {
                let value = self.expr(lhs);
                match &rhs.kind {
                    ExprKind::Set(items) => {
                        let texts: HashSet<Box<str>> = items
                            .iter()
                            .filter_map(|i| match &i.kind {
                                ExprKind::Str(s) => Some(s.as_str().into()),
                                _ => None,
                            })
                            .collect();
                        let ints: HashSet<i64> = items
                            .iter()
                            .filter_map(|i| match &i.kind {
                                ExprKind::Int(n) => Some(*n),
                                _ => None,
                            })
                            .collect();
                        let set = to_u32(self.sets.len());
                        self.sets.push(if ints.is_empty() { SetTable::Text(texts) } else { SetTable::Int(ints) });
                        self.push(Node::InSet { value, set, negated: *negated })
                    }
                    ExprKind::Path(p) => match self.env.resolve(p) {
                        Some(Resolved::Table(i)) => {
                            self.push(Node::InSet { value, set: self.table_slot(i), negated: *negated })
                        }
                        _ => {
                            let list = self.expr(rhs);
                            self.push(Node::InList { value, list, negated: *negated })
                        }
                    },
                    _ => {
                        let list = self.expr(rhs);
                        self.push(Node::InList { value, list, negated: *negated })
                    }
                }
            }
            ExprKind::Matches { lhs, rhs } => {
                let value = self.expr(lhs);
                let re = match &rhs.kind {
                    ExprKind::Regex(r) | ExprKind::Str(r) => self.regex(r),
                    _ => self.regex(r"[^\s\S]"),
                };
                self.push(Node::Matches(value, re))
            }
            ExprKind::Index { base, key } => {
                let key = self.expr(key);
                let map = match &base.kind {
                    ExprKind::Path(p) => match self.env.resolve(p) {
                        Some(Resolved::Table(i)) => self.table_slot(i),
                        _ => u32::MAX,
                    },
                    _ => u32::MAX,
                };
                self.push(Node::Index { map, key })
            }
        }
    }

    fn concat_parts(&mut self, e: &Expr, out: &mut Vec<NodeId>) {
        match &e.kind {
            ExprKind::Binary { op: BinOp::Concat, lhs, rhs } => {
                self.concat_parts(lhs, out);
                self.concat_parts(rhs, out);
            }
            _ => out.push(self.expr(e)),
        }
    }

    /// How the value of an expression is shown: the strictest [`Privacy`] of the fields it
    /// derives from (through `let` bindings and `candidate.…`).
    fn privacy(&self, e: &Expr) -> Privacy {
        let mut privacy = Privacy::Plain;
        self.privacy_walk(e, &mut privacy, &mut HashSet::new());
        privacy
    }

    /// `candidate.x` as the field or binding `x` it reads (for [`Privacy`]).
    fn candidate_path(&self, p: &[ast::Ident]) -> Option<Resolved> {
        let (first, rest) = p.split_first()?;
        if first.name != "candidate" {
            return None;
        }
        match self.env.resolve_candidate(rest)? {
            CandRef::Field(slot) => Some(Resolved::Field(slot)),
            CandRef::Let(i) => Some(Resolved::Let(i)),
            _ => None,
        }
    }

    fn privacy_walk(&self, e: &Expr, out: &mut Privacy, seen: &mut HashSet<usize>) {
        if *out == Privacy::Secret {
            return;
        }
        match &e.kind {
            // `mask(…)` makes a secret safe to show.
            ExprKind::Call { name, .. } if name.name == "mask" => {}
            ExprKind::Path(p) => match self.env.resolve(p).or_else(|| self.candidate_path(p)) {
                Some(Resolved::Field(slot)) => {
                    if let Some(f) = self.env.schema.fields.get(slot) {
                        *out = out.and(Privacy::of_field(f, Some(slot) == self.env.schema.id_field));
                    }
                }
                Some(Resolved::Let(i)) => {
                    if seen.insert(i)
                        && let Some(l) = self.env.lets.get(i)
                    {
                        self.privacy_walk(&l.value, out, seen);
                    }
                }
                _ => {}
            },
            _ => crate::check::visit_children(e, |c| self.privacy_walk(c, out, seen)),
        }
    }

    /// The values worth showing when a `require` fails: the operands of its comparisons and
    /// the arguments of its predicates, labelled with their source text.
    fn evidence(&mut self, e: &Expr, out: &mut Vec<Evidence>) {
        match &e.kind {
            ExprKind::Not(x) => self.evidence(x, out),
            ExprKind::Binary { op: BinOp::And | BinOp::Or, lhs, rhs } => {
                self.evidence(lhs, out);
                self.evidence(rhs, out);
            }
            ExprKind::Binary { op: BinOp::Cmp(_), lhs, rhs } | ExprKind::SingleEq { lhs, rhs, .. } => {
                self.evidence_item(lhs, out);
                self.evidence_item(rhs, out);
            }
            ExprKind::In { lhs, .. } | ExprKind::Matches { lhs, .. } => self.evidence_item(lhs, out),
            ExprKind::Call { args, .. } => {
                for a in args {
                    self.evidence_item(a, out);
                }
            }
            _ => self.evidence_item(e, out),
        }
    }

    fn evidence_item(&mut self, e: &Expr, out: &mut Vec<Evidence>) {
        if matches!(
            e.kind,
            ExprKind::Str(_)
                | ExprKind::Int(_)
                | ExprKind::Float(_)
                | ExprKind::Bool(_)
                | ExprKind::Date(_)
                | ExprKind::Regex(_)
                | ExprKind::Set(_)
        ) {
            return;
        }
        let label = squash(self.sources.slice(e.span));
        if out.iter().any(|x| *x.label == *label) {
            return;
        }
        let node = self.expr(e);
        let privacy = self.privacy(e);
        out.push(Evidence { label: label.into(), node, privacy });
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a failing test may panic")]
mod tests {
    use super::*;

    #[test]
    fn digit_patterns_match_as_their_regex() {
        let patterns = [
            "^[0-9]{4}$",
            "^[0-9]{3}$",
            "^[0-9]{7}$",
            "^[0-9]{0}$",
            "^[0-9]{2,4}$",
            "^[0-9]{2,}$",
            "^[0-9]+$",
            "^[0-9]*$",
            "^[0-9]{4}",
            "[0-9]{4}$",
            "^[0-9]{4,2}$",
            "^\\d{4}$",
            "^[0-9]{+4}$",
        ];
        let texts =
            ["", "1", "12", "123", "1234", "12345", "0000000", "12a4", "１２３４", "1234\n", "\n1234", " 123", "١٢٣٤"];
        for p in patterns {
            let Ok(re) = Regex::new(p) else { continue };
            let compiled = Pattern::new(re.clone());
            for t in texts {
                assert_eq!(compiled.is_match(t), re.is_match(t), "{p} on {t:?}");
            }
        }
        assert!(matches!(Pattern::new(Regex::new("^[0-9]{4}$").unwrap()), Pattern::Digits { min: 4, max: 4 }));
        assert!(matches!(Pattern::new(Regex::new("^\\d{4}$").unwrap()), Pattern::Regex(_)));
    }

    #[test]
    fn program_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Program>();
    }
}
