//! Evaluate: compiled [`Program`] + one record → [`Verdict`].
//!
//! Pure: no I/O, no global state; `today` comes in through [`EvalOptions`]. The record's fields
//! are read once into slots (typed by the schema), `let` bindings are computed lazily and at
//! most once per record, and a rule whose values are absent is "not applicable" rather than
//! failed (three-valued logic: `and`/`or`/`not` follow Kleene's rules).

pub(crate) mod profile;
mod verdict;

use std::borrow::Cow;
use std::cmp::Ordering;
use std::rc::Rc;

use crate::builtins::{Ctx, Imp};
use crate::check::FieldTy;
use crate::compile::{CRule, DCond, MsgPart, Node, NodeId, Privacy, Program, SetTable, id_text};
use crate::linkage;
use crate::normalize::date::Date;
use crate::record_json::Json;
use crate::syntax::ast::{CmpOp, Decision, Quant, Severity};
use crate::value::{Txt, Value};

pub use profile::{MIN_COUNTED, TermCounts};
pub use profile::{MatchProfile, StoredProfile};
pub(crate) use profile::{compare as compare_profiles, probability as profile_probability, profile, weigh};
pub use verdict::{
    CandidateMatch, Comparison, FieldCheck, Finding, PendingRule, RecordError, RuleOutcome, TraceEntry, Verdict,
};

/// Per-evaluation settings.
#[derive(Clone, Copy, Debug)]
pub struct EvalOptions {
    /// The date used for `today` and `age(…)`.
    pub today: Date,
    /// Unknown record fields are an error instead of a warning finding.
    pub strict: bool,
    /// Record, for every rule, whether it passed, fired or did not apply.
    pub explain: bool,
    /// Show `secret` values in full instead of masked (`--show-pii`).
    pub show_secrets: bool,
    /// Evaluation steps the record may take (`Limits::eval_budget`; `CRule::cost` per rule).
    pub budget: u64,
    /// When judging the record must have ended (`Limits::eval_time`), checked between rules
    /// and between registry candidates.
    pub deadline: Option<std::time::Instant>,
    /// Judge the fields a form has filled so far (`Engine::check_fields`): a field that is
    /// absent, null or blank text is not filled yet, is not `schema.required`, and a rule that
    /// reads it waits (a [`PendingRule`]).
    pub partial: bool,
}

impl EvalOptions {
    /// Options for reading a record's values only (blocking keys, compared values): no
    /// findings are kept, nothing is shown, no limit applies.
    fn reading(today: Date) -> EvalOptions {
        EvalOptions {
            today,
            strict: false,
            explain: false,
            show_secrets: false,
            budget: u64::MAX,
            deadline: None,
            partial: false,
        }
    }
}

/// Rule ids of the findings the evaluator itself produces while reading a record.
pub const SCHEMA_REQUIRED: &str = "schema.required";
pub const SCHEMA_TYPE: &str = "schema.type";
pub const SCHEMA_UNKNOWN_FIELD: &str = "schema.unknown_field";
pub const SCHEMA_TOO_LONG: &str = "schema.too_long";
/// The rule id of the finding about a blocking key shared by too many registry records.
pub const REGISTRY_CROWDED_KEY: &str = "registry.crowded_key";

/// A blocking key of the record that more registry records share than were compared with it
/// (`registry::MAX_PER_KEY`): only the closest were. Judging the record says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrowdedKey {
    /// The `block on …` line of the key.
    pub block: u32,
    /// How many registry records share the key.
    pub records: u64,
    /// How many of them were compared with the record (the closest).
    pub compared: usize,
    /// How many were read to choose them (the first enrolled, `registry::SCAN_PER_KEY`).
    pub read: usize,
}

/// A registry record the `match` block found for the record being evaluated.
#[derive(Clone, Debug)]
pub struct Candidate<'c> {
    /// The record as the evaluator reads it.
    doc: Json<'c>,
    /// What the `match` block computed of it when it was stored, if the registry kept that.
    profile: Option<&'c StoredProfile>,
}

impl<'c> Candidate<'c> {
    pub fn new(record: &'c serde_json::Value) -> Candidate<'c> {
        Candidate { doc: Json::from_value(record), profile: None }
    }

    /// A record a registry lookup found, with its stored profile when it has one.
    pub fn found(found: &'c crate::registry::Found) -> Candidate<'c> {
        Candidate { doc: Json::from_value(&found.record), profile: found.profile.as_deref() }
    }
}

/// The blocking keys of a record: (index of the `block on …` line, key text). Absent keys are
/// left out. The registry stores the same keys for its records.
/// With them, the term keys of the values its `frequency` comparisons count
/// ([`crate::registry::TERM_BLOCK`]): a store counts those instead of indexing by them.
pub fn blocking_keys(program: &Program, record: &Json<'_>, today: Date) -> Vec<(u32, String)> {
    let Some(m) = &program.matching else { return Vec::new() };
    let Json::Object(obj) = record else { return Vec::new() };
    let mut frame = Frame::new(program, Ctx { today }, &[]);
    let opts = EvalOptions::reading(today);
    if frame.load_record(obj, &opts, &mut Vec::new()).is_err() {
        return Vec::new();
    }
    lookup_keys(&mut frame, m)
}

/// The blocking keys and term keys of the record loaded into `frame` (see [`blocking_keys`]).
fn lookup_keys<'p: 'r, 'r>(frame: &mut Frame<'p, 'r>, m: &crate::compile::CMatch) -> Vec<(u32, String)> {
    let counted = m.compares.iter().filter(|c| c.frequency.is_some()).count();
    let mut keys = keys_of(frame, m, counted);
    if counted > 0 {
        let values: Vec<Value<'_>> = m.compares.iter().map(|c| frame.eval(c.value)).collect();
        keys.extend(profile::term_keys(m, &values));
    }
    keys
}

/// The registry records a record is judged against, as the engine chose them from a lookup of
/// its keys.
pub struct Chosen {
    pub records: Vec<crate::registry::Found>,
    /// The record's crowded keys, of which only the closest records were kept.
    pub crowded: Vec<CrowdedKey>,
    /// The counts of the record's term keys.
    pub terms: Vec<crate::registry::TermStat>,
}

/// Finds a record's candidates from its blocking keys (and term keys).
pub type Lookup<'a> = dyn FnMut(&[(u32, String)]) -> Result<Chosen, RecordError> + 'a;

/// What a record is judged against.
enum Against<'a, 'c> {
    /// No registry: rules about candidates are not applicable.
    Nothing,
    /// These candidates; `crowded` are the record's keys of which only the closest candidates
    /// were chosen, `terms` the counts of its term keys.
    Candidates(&'a [Candidate<'c>], &'a [CrowdedKey], &'a [crate::registry::TermStat]),
    /// The candidates a lookup finds for the keys computed in the very frame the rules then run
    /// in: the record is read once, and what the keys and the rules share is computed once.
    Lookup(&'a mut Lookup<'a>),
}

/// The blocking keys of the record loaded into `frame`.
/// `room`: how many more keys the caller adds.
fn keys_of<'p: 'r, 'r>(frame: &mut Frame<'p, 'r>, m: &crate::compile::CMatch, room: usize) -> Vec<(u32, String)> {
    let mut keys = Vec::with_capacity(m.blocks.len() + room);
    for (i, b) in m.blocks.iter().enumerate() {
        match frame.eval(*b) {
            Value::Null => {}
            Value::Text(t) if t.as_str().is_empty() => {}
            // Text as it is, without the formatting machinery of `to_string`.
            Value::Text(t) => keys.push((u32::try_from(i).unwrap_or(u32::MAX), t.as_str().to_string())),
            v => keys.push((u32::try_from(i).unwrap_or(u32::MAX), v.to_string())),
        }
    }
    keys
}

/// How a record compares with each candidate: the evidence behind `probability`.
pub fn compare_candidates(
    program: &Program,
    record: &Json<'_>,
    today: Date,
    candidates: &[Candidate<'_>],
    terms: &[crate::registry::TermStat],
) -> Result<Vec<CandidateMatch>, RecordError> {
    let Json::Object(obj) = record else {
        return Err(RecordError::NotAnObject { found: json_kind(record) });
    };
    let mut frame = Frame::new(program, Ctx { today }, candidates);
    frame.terms = terms.to_vec();
    let opts = EvalOptions::reading(today);
    frame.load_record(obj, &opts, &mut Vec::new())?;
    frame.ensure_candidates();
    let Some(m) = &program.matching else { return Ok(Vec::new()) };
    let frames = frame.cand_frames.take().unwrap_or_default();
    Ok(frames
        .into_iter()
        .map(|c| CandidateMatch {
            id: c.id,
            probability: c.probability,
            comparisons: profile::comparisons(m, &c.levels, &c.weights, &c.adjusted),
        })
        .collect())
}

/// The match probability of each candidate with the record, in order (0 for a candidate that
/// cannot be read): how the engine chooses the closest records of a crowded key.
pub fn probabilities(
    program: &Program,
    record: &Json<'_>,
    today: Date,
    candidates: &[Candidate<'_>],
) -> Result<Vec<f64>, RecordError> {
    let Json::Object(obj) = record else {
        return Err(RecordError::NotAnObject { found: json_kind(record) });
    };
    let Some(m) = &program.matching else { return Ok(vec![0.0; candidates.len()]) };
    let mut frame = Frame::new(program, Ctx { today }, &[]);
    frame.load_record(obj, &EvalOptions::reading(today), &mut Vec::new())?;
    let mine: Vec<Value<'_>> = m.compares.iter().map(|c| frame.eval(c.value)).collect();
    let adjust = frame.adjustments(m, &mine);
    Ok(candidates.iter().map(|c| frame.read_candidate(m, &mine, &adjust, c).map_or(0.0, |f| f.probability)).collect())
}

/// Evaluate one record without a registry: rules about candidates are not applicable.
pub fn evaluate(program: &Program, record: &Json<'_>, opts: &EvalOptions) -> Result<Verdict, RecordError> {
    run(program, record, opts, Against::Nothing, None)
}

/// Judge the fields of a partly filled record (`opts.partial`): the rules whose fields are all
/// filled run, the others wait; rules about registry candidates always wait (they are judged
/// on the whole record).
pub fn check_fields(program: &Program, record: &Json<'_>, opts: &EvalOptions) -> Result<FieldCheck, RecordError> {
    let opts = EvalOptions { partial: true, ..*opts };
    let mut pending = Vec::new();
    let verdict = run(program, record, &opts, Against::Nothing, Some(&mut pending))?;
    Ok(FieldCheck { verdict, pending })
}

/// Evaluate one record against registry candidates (found with [`blocking_keys`]); `crowded`
/// are its keys of which only the closest candidates were chosen.
pub fn evaluate_with(
    program: &Program,
    record: &Json<'_>,
    opts: &EvalOptions,
    candidates: &[Candidate<'_>],
    crowded: &[CrowdedKey],
    terms: &[crate::registry::TermStat],
) -> Result<Verdict, RecordError> {
    run(program, record, opts, Against::Candidates(candidates, crowded, terms), None)
}

/// Evaluate one record against the registry records `lookup` finds for its keys.
pub fn evaluate_looking_up(
    program: &Program,
    record: &Json<'_>,
    opts: &EvalOptions,
    lookup: &mut Lookup<'_>,
) -> Result<Verdict, RecordError> {
    run(program, record, opts, Against::Lookup(lookup), None)
}

/// Evaluate a record; with `pending` (checking a partly filled form, `opts.partial`), a rule
/// that reads a field not filled yet, or registry candidates, is not run but listed there.
fn run(
    program: &Program,
    record: &Json<'_>,
    opts: &EvalOptions,
    against: Against<'_, '_>,
    mut pending: Option<&mut Vec<PendingRule>>,
) -> Result<Verdict, RecordError> {
    let Json::Object(obj) = record else {
        return Err(RecordError::NotAnObject { found: json_kind(record) });
    };
    // What a lookup finds, kept here for the frame to borrow.
    let chosen: Chosen;
    let looked_up: Vec<Candidate<'_>>;
    let registry = !matches!(against, Against::Nothing);
    let mut crowded: &[CrowdedKey] = &[];
    let mut frame = Frame::new(program, Ctx { today: opts.today }, &[]);
    frame.registry = registry;
    if let Against::Candidates(c, cr, t) = &against {
        frame.candidates = c;
        frame.terms = t.to_vec();
        crowded = cr;
    }
    frame.show_secrets = opts.show_secrets;
    frame.budget = opts.budget;
    frame.deadline = opts.deadline;
    if opts.partial {
        frame.filled = vec![false; program.fields.len()];
    }
    let mut findings = Vec::new();
    let mut penalty_sum: u32 = 0;
    // Which rules fired, for a `decide` that names rules.
    let mut fired = if program.decide_reads_fired { vec![false; program.rules.len()] } else { Vec::new() };
    frame.load_record(obj, opts, &mut findings)?;
    if let (Against::Lookup(lookup), Some(m)) = (against, &program.matching) {
        let keys = lookup_keys(&mut frame, m);
        chosen = lookup(&keys)?;
        looked_up = chosen.records.iter().map(Candidate::found).collect();
        frame.candidates = &looked_up;
        frame.terms.clone_from(&chosen.terms);
        crowded = &chosen.crowded;
    }
    // The findings about fields the record lacks or that cannot be read.
    let schema_findings = findings.len();
    if let Some(m) = &program.matching {
        findings.extend(crowded.iter().map(|c| crowded_finding(m, c)));
    }
    for f in &findings {
        penalty_sum = penalty_sum.saturating_add(f.penalty);
    }

    let mut trace = if opts.explain { Some(Vec::with_capacity(program.rules.len())) } else { None };
    // One comparison a rule on the common path: with a deadline every rule takes the slow path,
    // which also reads the clock.
    let check_above = if opts.deadline.is_some() { 0 } else { opts.budget };
    for (i, rule) in program.rules.iter().enumerate() {
        if let Some(waiting) = pending.as_deref_mut()
            && let Some(p) = frame.pending(rule)
        {
            waiting.push(p);
            if let Some(t) = trace.as_mut() {
                t.push(TraceEntry { rule: rule.id.to_string(), outcome: RuleOutcome::NotApplicable });
            }
            continue;
        }
        frame.rule_cost = u64::from(rule.cost);
        frame.steps = frame.steps.saturating_add(frame.rule_cost);
        // Without a registry, a rule about candidates cannot be judged: it is not applicable
        // whatever its `when` says, and is not evaluated at all.
        let mut outcome =
            if !registry && rule.reads_candidates { RuleOutcome::NotApplicable } else { frame.run_rule(rule) };
        if frame.steps > check_above {
            if frame.steps > opts.budget {
                return Err(over_budget(rule, opts.budget));
            }
            if frame.past_deadline() {
                return Err(over_time(rule));
            }
        }
        if outcome == RuleOutcome::Fired && reported(rule, findings.get(..schema_findings).unwrap_or(&[])) {
            outcome = RuleOutcome::NotApplicable;
        }
        if let RuleOutcome::Fired = outcome {
            if let Some(slot) = fired.get_mut(i) {
                *slot = true;
            }
            penalty_sum = penalty_sum.saturating_add(rule.penalty);
            findings.push(frame.finding(rule));
        }
        if let Some(t) = trace.as_mut() {
            t.push(TraceEntry { rule: rule.id.to_string(), outcome });
        }
    }

    let score = 100u32.saturating_sub(penalty_sum);
    let decision = decide(program, &findings, &fired, score);
    // The id field's value was found while reading the record (`Program::record_id`).
    let id = frame.id_value.and_then(id_text);
    Ok(Verdict { id, decision, score, findings, trace })
}

/// Whether the schema has already reported every field `rule` is about (`CRule::fields`): the
/// field is absent (`schema.required`), cannot be read (`schema.type`) or is too long
/// (`schema.too_long`), it or a group holding it. Then the rules see no value there, and a rule
/// that fires on that (`require not blank(given_name)`, `require present(postal)`) says the
/// same thing again, or shows the absent value as 「(なし)」: the schema finding is the
/// record's one finding for that problem, and the rule is not applicable.
fn reported(rule: &CRule, schema: &[Finding]) -> bool {
    !rule.fields.is_empty()
        && !schema.is_empty()
        && rule.fields.iter().all(|field| {
            schema.iter().any(|f| {
                matches!(f.rule.as_str(), SCHEMA_REQUIRED | SCHEMA_TYPE | SCHEMA_TOO_LONG)
                    && f.fields.first().is_some_and(|at| {
                        field.strip_prefix(at.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
                    })
            })
        })
}

/// The error of a record whose evaluation needs more than `budget` steps, naming the rule.
#[cold]
fn over_budget(rule: &CRule, budget: u64) -> RecordError {
    RecordError::Malformed(format!(
        "judging this record needs more than {budget} evaluation steps (reached in rule `{}`): \
         the record brings too many registry candidates, or the rule is too large; \
         raise the budget (--eval-budget, Limits::eval_budget) or simplify the rule",
        rule.id
    ))
}

/// The finding about a crowded key: the registry could not compare the record with everyone
/// who shares it, so a person must look.
fn crowded_finding(m: &crate::compile::CMatch, c: &CrowdedKey) -> Finding {
    let label = m.block_labels.get(c.block as usize).map_or("?", |l| &**l);
    let read = if (c.read as u64) < c.records {
        format!("（最初に登録された {} 人のうち）", c.read)
    } else {
        String::new()
    };
    let message = format!(
        "照合キー `{label}` を共有する登録者が {} 人いて上限の {} 人を超えるため、{read}類似度の高い {} 人とだけ照合しました。\
         残りの登録者に同一人物がいないか確認してください",
        c.records,
        crate::registry::MAX_PER_KEY,
        c.compared
    );
    let evidence = vec![
        (String::from("block"), serde_json::Value::String(label.to_string())),
        (String::from("records"), serde_json::json!(c.records)),
        (String::from("compared"), serde_json::json!(c.compared)),
    ];
    let params = vec![
        (String::from("block"), serde_json::Value::String(label.to_string())),
        (String::from("records"), serde_json::json!(c.records)),
        (String::from("limit"), serde_json::json!(crate::registry::MAX_PER_KEY)),
        (String::from("compared"), serde_json::json!(c.compared)),
        (String::from("read"), serde_json::json!(c.read)),
    ];
    let mut f = schema_finding(REGISTRY_CROWDED_KEY, Severity::Review, message, "", evidence, params);
    f.fields = Vec::new();
    f
}

/// The error of a record still being judged at its deadline, naming the rule.
#[cold]
fn over_time(rule: &CRule) -> RecordError {
    RecordError::TimeLimit(format!(
        "judging this record took longer than its time limit (reached in rule `{}`): \
         the record brings too many registry candidates, or the machine is overloaded; \
         raise the limit (--eval-time, Limits::eval_time) or try again",
        rule.id
    ))
}

fn decide(program: &Program, findings: &[Finding], fired: &[bool], score: u32) -> Decision {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    for (decision, cond) in program.decide.iter() {
        match cond {
            None => return *decision,
            Some(c) => {
                if dcond(c, &count, fired, score) {
                    return *decision;
                }
            }
        }
    }
    Decision::Accept
}

fn dcond(c: &DCond, count: &dyn Fn(Severity) -> usize, fired: &[bool], score: u32) -> bool {
    match c {
        DCond::Or(v) => v.iter().any(|x| dcond(x, count, fired, score)),
        DCond::And(v) => v.iter().all(|x| dcond(x, count, fired, score)),
        DCond::Not(x) => !dcond(x, count, fired, score),
        DCond::Any(s) => count(*s) > 0,
        DCond::NoneOf(s) => count(*s) == 0,
        DCond::Count(s, op, n) => cmp_i64(i64::try_from(count(*s)).unwrap_or(i64::MAX), *op, *n),
        DCond::Score(op, n) => cmp_i64(i64::from(score), *op, *n),
        DCond::Fired(i) => fired.get(*i as usize).copied().unwrap_or(false),
    }
}

fn cmp_i64(a: i64, op: CmpOp, b: i64) -> bool {
    ord_holds(a.cmp(&b), op)
}

fn ord_holds(o: Ordering, op: CmpOp) -> bool {
    match op {
        CmpOp::Eq => o == Ordering::Equal,
        CmpOp::Ne => o != Ordering::Equal,
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::Le => o != Ordering::Greater,
        CmpOp::Gt => o == Ordering::Greater,
        CmpOp::Ge => o != Ordering::Less,
    }
}

/// What kind of JSON value `v` is, for a [`RecordError`] (in English, as errors are).
pub(crate) fn json_kind(v: &Json<'_>) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "true/false",
        Json::Number(_) => "a number",
        Json::String(_) => "text",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

/// What kind of JSON value `v` is: a code for a finding's params, and the words of its message.
fn json_kind_ja(v: &Json<'_>) -> (&'static str, &'static str) {
    match v {
        Json::Null => ("null", "null"),
        Json::Bool(_) => ("bool", "真偽値"),
        Json::Number(_) => ("number", "数値"),
        Json::String(_) => ("text", "文字列"),
        Json::Array(_) => ("list", "リスト"),
        Json::Object(_) => ("object", "オブジェクト"),
    }
}

struct Frame<'p, 'r> {
    program: &'p Program,
    slots: Vec<Value<'r>>,
    /// The values of `let` bindings and cached nodes computed so far (`Program::memo_slots`).
    lets: Vec<Option<Value<'r>>>,
    ctx: Ctx,
    /// Registry records to compare with; read into frames on first use.
    candidates: &'r [Candidate<'r>],
    cand_frames: Option<Vec<CandFrame<'p, 'r>>>,
    /// The candidate a quantifier is looking at.
    current: Option<usize>,
    /// Candidates that satisfied a quantifier's condition (the `related` of a finding).
    matched: Vec<usize>,
    /// A registry was consulted; without one, conditions about candidates are unknown.
    registry: bool,
    /// The record's value of the id field (filled while reading the record).
    id_value: Option<&'r Json<'r>>,
    /// Show `secret` values in messages and evidence in full (`EvalOptions::show_secrets`).
    show_secrets: bool,
    /// Evaluation steps taken so far, and the cost of the rule being evaluated (a quantifier
    /// costs it once more per candidate).
    steps: u64,
    rule_cost: u64,
    /// The record's budget of steps and deadline ([`EvalOptions`]): reading candidates stops
    /// when either is spent, and the rule loop reports it.
    budget: u64,
    deadline: Option<std::time::Instant>,
    /// Checking a partly filled form: which field slots are filled (empty otherwise).
    filled: Vec<bool>,
    /// The registry's counts of the record's term keys (`frequency` comparisons).
    terms: Vec<crate::registry::TermStat>,
}

/// One registry candidate: its fields, and how it compares with the record.
struct CandFrame<'p, 'r> {
    id: String,
    /// The candidate's fields, read on first use (a rule about a candidate's field or
    /// binding): with a stored profile, comparing needs none of them.
    frame: Option<Frame<'p, 'r>>,
    /// The candidate as the registry gave it, for reading `frame`.
    doc: &'r [(Cow<'r, str>, Json<'r>)],
    /// What the registry kept of it for this program (`StoredProfile::covers`): its fields
    /// and bindings are read from there, and `frame` only for a value it did not keep.
    stored: Option<&'r StoredProfile>,
    levels: Vec<Option<usize>>,
    weights: Vec<f64>,
    /// The term-frequency adjustment included in each weight.
    adjusted: Vec<Option<f64>>,
    probability: f64,
}

thread_local! {
    /// The value vectors of frames this thread has finished, kept with their capacity for the
    /// next record's frame (a record's frame, and the frames of the candidates it reads).
    static SPARE_SLOTS: std::cell::RefCell<Vec<SpareSlots>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A finished frame's `slots` and `lets`, emptied.
type SpareSlots = (Vec<Value<'static>>, Vec<Option<Value<'static>>>);

/// How many [`SpareSlots`] a thread keeps: enough for a record and the candidates it reads.
const SPARE_KEPT: usize = 16;

/// `v`'s allocation, emptied, for elements of the same type with another lifetime. Collecting
/// from a vector's own iterator into a vector of the same layout reuses its allocation (the
/// standard library collects in place; `recycle_keeps_the_allocation` checks it still does).
fn recycle<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
}

impl Drop for Frame<'_, '_> {
    fn drop(&mut self) {
        let slots = recycle(std::mem::take(&mut self.slots));
        let lets = recycle(std::mem::take(&mut self.lets));
        // `try_with`: during thread teardown the vectors are simply freed.
        let _ = SPARE_SLOTS.try_with(|s| {
            let mut s = s.borrow_mut();
            if s.len() < SPARE_KEPT {
                s.push((slots, lets));
            }
        });
    }
}

impl<'p: 'r, 'r> Frame<'p, 'r> {
    fn new(program: &'p Program, ctx: Ctx, candidates: &'r [Candidate<'r>]) -> Self {
        // The vectors of a frame this thread finished, when there is one: no allocation.
        let (slots, lets) = SPARE_SLOTS.try_with(|s| s.borrow_mut().pop()).ok().flatten().unwrap_or_default();
        let mut slots: Vec<Value<'r>> = recycle(slots);
        slots.resize_with(program.fields.len(), Value::default);
        let mut lets: Vec<Option<Value<'r>>> = recycle(lets);
        lets.resize_with(program.memo_slots, || None);
        Frame {
            program,
            slots,
            lets,
            ctx,
            candidates,
            cand_frames: None,
            current: None,
            matched: Vec::new(),
            registry: true,
            id_value: None,
            steps: 0,
            rule_cost: 0,
            show_secrets: false,
            budget: u64::MAX,
            deadline: None,
            filled: Vec::new(),
            terms: Vec::new(),
        }
    }

    /// The term-frequency adjustment of each compare line for the record's compared values.
    fn adjustments(&self, m: &crate::compile::CMatch, mine: &[Value<'r>]) -> Vec<Option<f64>> {
        m.compares
            .iter()
            .zip(mine)
            .enumerate()
            .map(|(i, (c, v))| {
                c.frequency.as_ref()?;
                let block = profile::term_block(i);
                let stat = self.terms.iter().find(|t| t.term == block).copied();
                profile::adjustment(c, comparable(v), stat)
            })
            .collect()
    }

    /// Whether the record's deadline has passed (never without one).
    fn past_deadline(&self) -> bool {
        self.deadline.is_some_and(|d| std::time::Instant::now() >= d)
    }

    /// Read the candidates and compare each with the record (once per record).
    fn ensure_candidates(&mut self) {
        if self.cand_frames.is_some() {
            return;
        }
        let program = self.program;
        let Some(m) = &program.matching else {
            self.cand_frames = Some(Vec::new());
            return;
        };
        let mine: Vec<Value<'r>> = m.compares.iter().map(|c| self.eval(c.value)).collect();
        let adjust = self.adjustments(m, &mine);
        let mut frames = Vec::with_capacity(self.candidates.len());
        for cand in self.candidates {
            // Each candidate costs its compared values and the comparators' work; when the
            // budget or the time is spent, the rest are not read (the rule loop reports it).
            self.steps = self.steps.saturating_add(u64::from(m.cost));
            if self.steps > self.budget || self.past_deadline() {
                break;
            }
            if let Some(c) = self.read_candidate(m, &mine, &adjust, cand) {
                frames.push(c);
            }
        }
        self.cand_frames = Some(frames);
    }

    /// One candidate read and compared with the record's compared values `mine`; `None` when
    /// it is not a record (not an object, or fields that cannot be read at all). Charges the
    /// comparators' work to the steps.
    fn read_candidate(
        &mut self,
        m: &'p crate::compile::CMatch,
        mine: &[Value<'r>],
        adjust: &[Option<f64>],
        cand: &'r Candidate<'r>,
    ) -> Option<CandFrame<'p, 'r>> {
        let program = self.program;
        let Json::Object(obj) = &cand.doc else { return None };
        // A stored profile holds the compared values and the id, computed from a record that
        // was read without error (`profile::stored`): the record is read now only without one.
        let stored = cand.profile.filter(|p| p.covers(program, self.ctx.today));
        let mut frame = None;
        let id = match stored {
            Some(p) => p.id().map(str::to_string),
            None => {
                let loaded = frame.insert(self.load_candidate(obj)?);
                loaded.id_value.and_then(id_text)
            }
        };
        let id = id.unwrap_or_default();
        let mut levels = Vec::with_capacity(m.compares.len());
        let mut weights = Vec::with_capacity(m.compares.len());
        let mut adjusted = Vec::with_capacity(m.compares.len());
        let mut total = 0.0;
        for (i, (c, a)) in m.compares.iter().zip(mine).enumerate() {
            // The value computed when the record was stored, or computed now.
            let evaluated;
            let b = match (stored.and_then(|p| p.value(program, self.ctx.today, i)), frame.as_mut()) {
                (Some(stored), _) => stored,
                (None, Some(frame)) => {
                    evaluated = frame.eval(c.value);
                    comparable(&evaluated)
                }
                (None, None) => None,
            };
            let a = comparable(a);
            if let (Some(x), Some(y)) = (a, b) {
                self.steps = self.steps.saturating_add(linkage::work(c.comparator, x, y));
            }
            let (level, w, adj) = profile::score(c, a, b, adjust.get(i).copied().flatten());
            total += w;
            levels.push(level);
            weights.push(w);
            adjusted.push(adj);
        }
        let probability = linkage::probability(m.prior, total);
        Some(CandFrame { id, frame, doc: obj, stored, levels, weights, adjusted, probability })
    }

    /// A candidate's fields read into a frame of their own; `None` when they cannot be read.
    fn load_candidate(&self, obj: &'r [(Cow<'r, str>, Json<'r>)]) -> Option<Frame<'p, 'r>> {
        let mut frame = Frame::new(self.program, self.ctx, &[]);
        frame.load_record(obj, &EvalOptions::reading(self.ctx.today), &mut Vec::new()).ok()?;
        Some(frame)
    }

    /// What the registry kept of the candidate a quantifier is looking at.
    fn current_stored(&self) -> Option<&'r StoredProfile> {
        self.cand_frames.as_ref()?.get(self.current?)?.stored
    }

    /// The frame of the candidate a quantifier is looking at, its fields read on first use.
    fn current_candidate_frame(&mut self) -> Option<&mut Frame<'p, 'r>> {
        let i = self.current?;
        let doc = self.cand_frames.as_ref()?.get(i)?.doc;
        let unread = self.cand_frames.as_ref()?.get(i)?.frame.is_none();
        // Read without error when its profile was stored, so this always succeeds; a frame
        // with no fields (every value absent) stands in if it ever did not.
        let loaded = if unread {
            Some(self.load_candidate(doc).unwrap_or_else(|| Frame::new(self.program, self.ctx, &[])))
        } else {
            None
        };
        let c = self.cand_frames.as_mut()?.get_mut(i)?;
        if let Some(f) = loaded {
            c.frame = Some(f);
        }
        c.frame.as_mut()
    }

    fn quantify(&mut self, quant: Quant, cond: Option<NodeId>) -> Value<'r> {
        if self.current.is_some() || !self.registry {
            return Value::Null;
        }
        self.ensure_candidates();
        let n = self.cand_frames.as_ref().map_or(0, Vec::len);
        self.steps = self.steps.saturating_add(self.rule_cost.saturating_mul(n as u64));
        let mut count = 0i64;
        for i in 0..n {
            self.current = Some(i);
            let hit = match cond {
                None => true,
                Some(c) => matches!(self.eval(c), Value::Bool(true)),
            };
            self.current = None;
            if hit {
                count += 1;
                if !self.matched.contains(&i) {
                    self.matched.push(i);
                }
            }
        }
        match quant {
            Quant::Any => Value::Bool(count > 0),
            Quant::No => Value::Bool(count == 0),
            Quant::Count => Value::Int(count),
        }
    }

    fn current_candidate(&mut self) -> Option<&mut CandFrame<'p, 'r>> {
        let i = self.current?;
        self.cand_frames.as_mut()?.get_mut(i)
    }

    // ------------------------------------------------------------------ reading the record

    /// Read a record (the schema's root fields) into the slots.
    fn load_record(
        &mut self,
        obj: &'r [(Cow<'r, str>, Json<'r>)],
        opts: &EvalOptions,
        findings: &mut Vec<Finding>,
    ) -> Result<(), RecordError> {
        let program = self.program;
        self.load_object(obj, &program.roots, &program.root_keys, "", opts, findings)
    }

    /// Read the fields `slots` (JSON keys `keys`, same order) of one object of the record.
    fn load_object(
        &mut self,
        obj: &'r [(Cow<'r, str>, Json<'r>)],
        slots: &'p [u32],
        keys: &'p [Box<str>],
        prefix: &str,
        opts: &EvalOptions,
        findings: &mut Vec<Finding>,
    ) -> Result<(), RecordError> {
        let program = self.program;
        // The record's value for each of `slots`, by position: one pass over the record's keys
        // instead of one map lookup per schema field (comparing lengths first, so it is cheap).
        let mut inline: [Option<&'r Json<'r>>; 32] = [None; 32];
        let mut spilled: Vec<Option<&'r Json<'r>>>;
        let given: &mut [Option<&'r Json<'r>>] = match inline.get_mut(..slots.len()) {
            Some(g) => g,
            None => {
                spilled = vec![None; slots.len()];
                &mut spilled
            }
        };
        // Keys of `obj` that are schema fields; fewer than `obj.len()` means unknown keys.
        let mut known_keys = 0;
        // Records mostly list their fields in the schema's order: the field after the last one
        // found is tried first.
        let mut next = 0;
        for (key, v) in obj {
            let at = if keys.get(next).is_some_and(|k| same_name(k, key)) {
                Some(next)
            } else {
                keys.iter().position(|k| same_name(k, key))
            };
            next = at.map_or(next, |i| i + 1);
            if let Some(given) = at.and_then(|i| given.get_mut(i)) {
                *given = Some(v);
                known_keys += 1;
            }
        }
        for (&slot, &value) in slots.iter().zip(given.iter()) {
            let Some(field) = program.fields.get(slot as usize) else { continue };
            if program.id_slot == Some(slot) {
                self.id_value = value;
            }
            match value {
                None | Some(Json::Null) => {
                    // Checking part of a form, a field not filled in yet is no problem.
                    if !field.optional && !opts.partial {
                        findings.push(schema_finding(
                            SCHEMA_REQUIRED,
                            Severity::Reject,
                            format!("必須項目 `{}` がありません", field.path),
                            &field.path,
                            Vec::new(),
                            vec![(String::from("field"), serde_json::Value::String(field.path.to_string()))],
                        ));
                    }
                }
                // … and a blank text is a field not filled in yet.
                Some(Json::String(t)) if opts.partial && t.trim().is_empty() => {}
                Some(v) => {
                    if let Some(filled) = self.filled.get_mut(slot as usize) {
                        *filled = true;
                    }
                    if let FieldTy::Group = field.ty {
                        match v {
                            Json::Object(inner) => {
                                self.set(slot, Value::Group);
                                self.load_object(
                                    inner,
                                    &field.children,
                                    &field.child_keys,
                                    &field.path,
                                    opts,
                                    findings,
                                )?;
                            }
                            other => {
                                findings.push(type_finding(field, other, shown_as(field.privacy, opts), None));
                            }
                        }
                        continue;
                    }
                    match convert(v, &field.ty) {
                        Ok(value) => match field.max_chars.and_then(|max| too_long(v, max)) {
                            None => self.set(slot, value),
                            Some(chars) => findings.push(too_long_finding(field, chars)),
                        },
                        Err(why) => findings.push(type_finding(field, v, shown_as(field.privacy, opts), why)),
                    }
                }
            }
        }
        // Fields the schema does not know.
        if known_keys < obj.len() {
            // In the order of their names, as they have always been reported.
            let mut unknown: Vec<&str> =
                obj.iter().map(|(k, _)| &**k).filter(|k| !keys.iter().any(|s| **s == **k)).collect();
            unknown.sort_unstable();
            for key in unknown {
                let path = if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") };
                // A field name is no number either (a CSV whose header row is a record).
                let path = if opts.show_secrets {
                    path
                } else {
                    Privacy::DigitRuns(Privacy::DEFAULT_DIGITS).apply(&path).into_owned()
                };
                // A schema field of a similar name is probably what was meant (`givn_name`).
                let suggestion = crate::diagnostic::did_you_mean(key, keys.iter().map(|k| &**k))
                    .map(|k| if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") });
                if opts.strict {
                    return Err(RecordError::UnknownField { path, suggestion });
                }
                let mut params = vec![(String::from("field"), serde_json::Value::String(path.clone()))];
                let message = match &suggestion {
                    Some(s) => {
                        params.push((String::from("suggestion"), serde_json::Value::String(s.clone())));
                        format!("スキーマにない項目 `{path}` は無視されました。`{s}` のことですか")
                    }
                    None => format!("スキーマにない項目 `{path}` は無視されました"),
                };
                let mut f = schema_finding(SCHEMA_UNKNOWN_FIELD, Severity::Warn, message, &path, Vec::new(), params);
                f.penalty = 0;
                findings.push(f);
            }
        }
        Ok(())
    }

    /// A `let` binding, computed at most once per record.
    fn eval_let(&mut self, i: usize) -> Value<'r> {
        if let Some(Some(v)) = self.lets.get(i) {
            return v.clone();
        }
        let root = self.program.lets.get(i).copied();
        let v = root.map_or(Value::Null, |r| self.eval(r));
        if let Some(slot) = self.lets.get_mut(i) {
            *slot = Some(v.clone());
        }
        v
    }

    fn set(&mut self, slot: u32, v: Value<'r>) {
        if let Some(s) = self.slots.get_mut(slot as usize) {
            *s = v;
        }
    }

    // ------------------------------------------------------------------ rules

    /// Checking a partly filled form: `rule` waits when it reads a field not filled yet (named
    /// in `missing`, a group's fields only by the group when it is missing as a whole) or
    /// registry candidates (then `missing` may be empty).
    fn pending(&self, rule: &CRule) -> Option<PendingRule> {
        let program = self.program;
        let unfilled = |slot: u32| !self.filled.get(slot as usize).copied().unwrap_or(false);
        if !rule.reads_candidates && !rule.reads.iter().any(|&s| unfilled(s)) {
            return None;
        }
        let paths: Vec<&str> = rule
            .reads
            .iter()
            .filter(|&&s| unfilled(s))
            .filter_map(|&s| program.fields.get(s as usize))
            .map(|f| &*f.path)
            .collect();
        let missing = paths
            .iter()
            .filter(|p| !paths.iter().any(|group| p.strip_prefix(group).is_some_and(|rest| rest.starts_with('.'))))
            .map(|p| p.to_string())
            .collect();
        Some(PendingRule { rule: rule.id.to_string(), missing })
    }

    fn run_rule(&mut self, rule: &'p CRule) -> RuleOutcome {
        if let Some(w) = rule.when {
            match self.eval(w) {
                Value::Bool(true) => {}
                Value::Bool(false) => return RuleOutcome::Skipped,
                _ => return RuleOutcome::NotApplicable,
            }
        }
        let mut outcome = RuleOutcome::Passed;
        for &q in rule.require.iter() {
            match self.eval(q) {
                Value::Bool(true) => {}
                Value::Bool(false) => return RuleOutcome::Fired,
                _ => outcome = RuleOutcome::NotApplicable,
            }
        }
        outcome
    }

    fn finding(&mut self, rule: &'p CRule) -> Finding {
        let mut message = String::new();
        let mut params: Vec<(String, serde_json::Value)> = Vec::new();
        for part in rule.message.iter() {
            match part {
                MsgPart::Text(t) => message.push_str(t),
                MsgPart::Value { node, privacy, label } => {
                    let v = self.eval(*node);
                    let privacy = if self.show_secrets { Privacy::Plain } else { *privacy };
                    message.push_str(&show(&v, privacy));
                    // A placeholder written twice is one parameter.
                    if !params.iter().any(|(k, _)| **k == **label) {
                        params.push((String::from(&**label), to_json(&v, privacy)));
                    }
                }
            }
        }
        // Evidence of the first failing `require`, and the candidates its quantifiers matched.
        let mut evidence = Vec::new();
        let mut related = Vec::new();
        for (i, &q) in rule.require.iter().enumerate() {
            self.matched.clear();
            if let Value::Bool(false) = self.eval(q) {
                for e in rule.evidence.get(i).map(|b| &b[..]).unwrap_or(&[]) {
                    let v = self.eval(e.node);
                    let privacy = if self.show_secrets { Privacy::Plain } else { e.privacy };
                    evidence.push((String::from(&*e.label), to_json(&v, privacy)));
                }
                related = self.related_evidence(&mut evidence);
                break;
            }
        }
        Finding {
            rule: String::from(&*rule.id),
            severity: rule.severity,
            penalty: rule.penalty,
            message,
            params,
            fields: rule.fields.iter().map(|f| String::from(&**f)).collect(),
            evidence,
            related,
        }
    }

    /// Ids of the matched candidates; adds their probabilities and weights to the evidence.
    fn related_evidence(&mut self, evidence: &mut Vec<(String, serde_json::Value)>) -> Vec<String> {
        let program = self.program;
        let (Some(frames), Some(m)) = (self.cand_frames.as_ref(), program.matching.as_ref()) else { return Vec::new() };
        let mut ids = Vec::new();
        let mut items = Vec::new();
        for &i in &self.matched {
            let Some(c) = frames.get(i) else { continue };
            ids.push(c.id.clone());
            // Built as maps directly: `json!` would serialize `weights` into a copy of itself.
            let mut weights = serde_json::Map::new();
            for (((cmp, level), w), adj) in m.compares.iter().zip(&c.levels).zip(&c.weights).zip(&c.adjusted) {
                let level = level.and_then(|l| cmp.levels.get(l)).map_or("absent", |n| &**n);
                let mut item = serde_json::Map::new();
                item.insert(String::from("level"), serde_json::Value::from(level));
                item.insert(String::from("weight"), serde_json::Value::from(round3(*w)));
                if let Some(a) = adj {
                    item.insert(String::from("frequency_adjustment"), serde_json::Value::from(round3(*a)));
                }
                weights.insert(String::from(&*cmp.name), serde_json::Value::Object(item));
            }
            let mut item = serde_json::Map::new();
            item.insert(String::from("id"), serde_json::Value::from(c.id.as_str()));
            item.insert(String::from("probability"), serde_json::Value::from(round3(c.probability)));
            item.insert(String::from("weights"), serde_json::Value::Object(weights));
            items.push(serde_json::Value::Object(item));
        }
        if !items.is_empty() {
            evidence.push((String::from("candidates"), serde_json::Value::Array(items)));
        }
        ids
    }

    // ------------------------------------------------------------------ expressions

    /// The value of a node. Fields and values computed before, the most frequent operands,
    /// are read here without the call to [`Frame::eval_node`].
    #[inline(always)]
    fn eval(&mut self, id: NodeId) -> Value<'r> {
        match self.program.node(id) {
            Some(Node::Field(slot)) => self.slots.get(*slot as usize).cloned().unwrap_or_default(),
            Some(Node::Let(i)) => match self.lets.get(*i as usize) {
                Some(Some(v)) => v.clone(),
                // Straight to the binding's expression, not through `eval_node`'s dispatch.
                _ => self.eval_let(*i as usize),
            },
            Some(Node::Cached { slot, node }) => match self.lets.get(*slot as usize) {
                Some(Some(v)) => v.clone(),
                _ => self.eval_cached(*slot, *node),
            },
            _ => self.eval_node(id),
        }
    }

    /// A shared subexpression computed the first time it is needed, and kept.
    #[inline(never)]
    fn eval_cached(&mut self, slot: u32, node: NodeId) -> Value<'r> {
        let v = self.eval_node(node);
        if let Some(memo) = self.lets.get_mut(slot as usize) {
            *memo = Some(v.clone());
        }
        v
    }

    fn eval_node(&mut self, id: NodeId) -> Value<'r> {
        let program = self.program;
        let Some(node) = program.node(id) else { return Value::Null };
        match node {
            Node::Cached { slot, node } => match self.lets.get(*slot as usize) {
                Some(Some(v)) => v.clone(),
                _ => self.eval_cached(*slot, *node),
            },
            Node::Const(c) => c.value(),
            Node::Field(slot) => self.slots.get(*slot as usize).cloned().unwrap_or_default(),
            Node::Let(i) => self.eval_let(*i as usize),
            Node::Today => Value::Date(self.ctx.today),
            Node::Call1 { f, sees_absent, arg } => {
                let a = self.eval(*arg);
                if a.is_null() && !*sees_absent {
                    return Value::Null;
                }
                match f {
                    Imp::F1(f) => f(&self.ctx, &a),
                    Imp::F2(_) => Value::Null,
                }
            }
            Node::Call2 { f, sees_absent, a, b } => {
                let a = self.eval(*a);
                if a.is_null() && !*sees_absent {
                    return Value::Null;
                }
                let b = self.eval(*b);
                if b.is_null() && !*sees_absent {
                    return Value::Null;
                }
                match f {
                    Imp::F2(f) => f(&self.ctx, &a, &b),
                    Imp::F1(_) => Value::Null,
                }
            }
            Node::Not(x) => match self.eval(*x) {
                Value::Bool(b) => Value::Bool(!b),
                _ => Value::Null,
            },
            Node::Is { test, value, negated } => Value::Bool(test.holds(&self.eval(*value)) != *negated),
            Node::And(a, b) => match self.eval(*a) {
                Value::Bool(false) => Value::Bool(false),
                Value::Bool(true) => match self.eval(*b) {
                    Value::Bool(x) => Value::Bool(x),
                    _ => Value::Null,
                },
                _ => match self.eval(*b) {
                    Value::Bool(false) => Value::Bool(false),
                    _ => Value::Null,
                },
            },
            Node::Or(a, b) => match self.eval(*a) {
                Value::Bool(true) => Value::Bool(true),
                Value::Bool(false) => match self.eval(*b) {
                    Value::Bool(x) => Value::Bool(x),
                    _ => Value::Null,
                },
                _ => match self.eval(*b) {
                    Value::Bool(true) => Value::Bool(true),
                    _ => Value::Null,
                },
            },
            Node::Cmp(op, a, b) => {
                let a = self.eval(*a);
                let b = self.eval(*b);
                compare(&a, &b, *op)
            }
            Node::InSet { value, set, negated } => {
                let v = self.eval(*value);
                let found = match (program.sets.get(*set as usize), &v) {
                    (_, Value::Null) => return Value::Null,
                    (Some(SetTable::Text(s)), Value::Text(t)) => s.contains(t.as_str()),
                    (Some(SetTable::Int(s)), Value::Int(n)) => s.contains(n),
                    _ => false,
                };
                Value::Bool(found != *negated)
            }
            Node::Matches(value, re) => match (self.eval(*value), program.regexes.get(*re as usize)) {
                (Value::Text(t), Some(pattern)) => Value::Bool(pattern.is_match(t.as_str())),
                _ => Value::Null,
            },
            _ => self.eval_rare(node),
        }
    }

    /// The nodes the standard rules rarely evaluate, apart so that [`Frame::eval_node`] stays
    /// small.
    #[inline(never)]
    fn eval_rare(&mut self, node: &'p Node) -> Value<'r> {
        let program = self.program;
        match node {
            Node::InList { value, list, negated } => {
                let v = self.eval(*value);
                let l = self.eval(*list);
                match (&v, &l) {
                    (Value::Null, _) | (_, Value::Null) => Value::Null,
                    (_, Value::List(items)) => Value::Bool(items.contains(&v) != *negated),
                    _ => Value::Null,
                }
            }
            Node::Concat(parts) => {
                // Written into a buffer kept between records, so the text costs one allocation
                // (its `Rc`).
                let mut out = ConcatBuffer::take();
                for p in parts.iter() {
                    match self.eval(*p) {
                        Value::Null => return Value::Null,
                        Value::Text(t) => out.push_str(t.as_str()),
                        // A year or a date in a blocking key: written without a String of its own.
                        Value::Int(n) => out.push_str(itoa::Buffer::new().format(n)),
                        other => {
                            use std::fmt::Write as _;
                            let _ = write!(out, "{other}");
                        }
                    }
                }
                Value::Text(Txt::Shared(Rc::from(out.as_str())))
            }
            Node::Add(a, b) => {
                let (a, b) = (self.eval(*a), self.eval(*b));
                match (a, b) {
                    (Value::Int(x), Value::Int(y)) => Value::Int(x.saturating_add(y)),
                    (Value::Date(d), Value::Int(n)) => add_days(d, n),
                    _ => Value::Null,
                }
            }
            Node::Sub(a, b) => {
                let (a, b) = (self.eval(*a), self.eval(*b));
                match (a, b) {
                    (Value::Int(x), Value::Int(y)) => Value::Int(x.saturating_sub(y)),
                    (Value::Date(d), Value::Int(n)) => add_days(d, n.saturating_neg()),
                    (Value::Date(x), Value::Date(y)) => Value::Int(i64::from(x.to_days()) - i64::from(y.to_days())),
                    _ => Value::Null,
                }
            }
            Node::Index { map, key } => match (self.eval(*key), program.maps.get(*map as usize)) {
                (Value::Text(k), Some(m)) => m.get(k.as_str()).map_or(Value::Null, |v| Value::Text(Txt::Borrowed(v))),
                _ => Value::Null,
            },
            Node::Quant { quant, cond } => self.quantify(*quant, *cond),
            Node::CandField(slot) => {
                if let Some(v) = self.current_stored().and_then(|p| p.field(*slot)) {
                    return v;
                }
                self.current_candidate_frame().and_then(|f| f.slots.get(*slot as usize).cloned()).unwrap_or_default()
            }
            Node::CandLet(i) => match self.current_stored().and_then(|p| p.binding(*i)) {
                Some(v) => v,
                None => match (program.lets.get(*i as usize), self.current_candidate_frame()) {
                    (Some(_), Some(f)) => f.eval_let(*i as usize),
                    _ => Value::Null,
                },
            },
            Node::CandProbability => self.current_candidate().map_or(Value::Null, |c| Value::Float(c.probability)),
            Node::CandLevel(i) => {
                let level = self.current_candidate().and_then(|c| c.levels.get(*i as usize).copied().flatten());
                let name = program
                    .matching
                    .as_ref()
                    .and_then(|m| m.compares.get(*i as usize))
                    .and_then(|c| level.and_then(|l| c.levels.get(l)));
                name.map_or(Value::Null, |n| Value::Text(Txt::Borrowed(n)))
            }
            Node::CandWeight(i) => self
                .current_candidate()
                .and_then(|c| c.weights.get(*i as usize).copied())
                .map_or(Value::Null, Value::Float),
            // Handled by `eval_node`.
            Node::Const(_)
            | Node::Field(_)
            | Node::Let(_)
            | Node::Today
            | Node::Call1 { .. }
            | Node::Call2 { .. }
            | Node::Not(_)
            | Node::Is { .. }
            | Node::And(..)
            | Node::Or(..)
            | Node::Cmp(..)
            | Node::InSet { .. }
            | Node::Matches(..)
            | Node::Cached { .. } => Value::Null,
        }
    }
}

thread_local! {
    /// The buffers of [`ConcatBuffer`]: one per level of concatenations inside concatenations.
    static CONCAT_BUFFERS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Where `++` writes its text before the text is shared: a buffer of this thread, kept with
/// its capacity between records and handed back when dropped (on every path out).
struct ConcatBuffer(String);

impl ConcatBuffer {
    /// Longer buffers are not kept: one huge field must not hold its memory for good.
    const KEPT: usize = 4096;

    fn take() -> ConcatBuffer {
        ConcatBuffer(CONCAT_BUFFERS.with(|b| b.borrow_mut().pop()).unwrap_or_default())
    }
}

impl std::ops::Deref for ConcatBuffer {
    type Target = String;
    fn deref(&self) -> &String {
        &self.0
    }
}

impl std::ops::DerefMut for ConcatBuffer {
    fn deref_mut(&mut self) -> &mut String {
        &mut self.0
    }
}

impl Drop for ConcatBuffer {
    fn drop(&mut self) {
        let mut s = std::mem::take(&mut self.0);
        if s.capacity() <= Self::KEPT {
            s.clear();
            // `try_with`: during thread teardown the buffer is simply freed.
            let _ = CONCAT_BUFFERS.try_with(|b| b.borrow_mut().push(s));
        }
    }
}

/// Whether two field names are the same, without a call to `memcmp` for the usual names of 4
/// to 16 bytes: a record's keys are compared with the schema's for every field.
#[inline]
fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    // Two words, the first and the last (overlapping when shorter than two words).
    fn word<const W: usize>(s: &[u8], at: usize) -> Option<[u8; W]> {
        s.get(at..at + W).and_then(|w| w.try_into().ok())
    }
    match n {
        8..=16 => word::<8>(a, 0) == word::<8>(b, 0) && word::<8>(a, n - 8) == word::<8>(b, n - 8),
        4..=7 => word::<4>(a, 0) == word::<4>(b, 0) && word::<4>(a, n - 4) == word::<4>(b, n - 4),
        _ => a == b,
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A value as the comparators see it: text (numbers and choices as text) or a date.
fn comparable<'v>(v: &'v Value<'_>) -> Option<linkage::Cmp<'v>> {
    match v {
        Value::Text(t) => Some(linkage::Cmp::Text(t.as_str())),
        Value::Date(d) => Some(linkage::Cmp::Date(*d)),
        Value::Int(n) => Some(linkage::Cmp::Number(*n as f64)),
        Value::Float(x) => Some(linkage::Cmp::Number(*x)),
        _ => None,
    }
}

fn add_days(d: Date, n: i64) -> Value<'static> {
    match i32::try_from(n).ok().and_then(|n| d.to_days().checked_add(n)) {
        Some(days) => Value::Date(Date::from_days(days)),
        None => Value::Null,
    }
}

fn compare(a: &Value<'_>, b: &Value<'_>, op: CmpOp) -> Value<'static> {
    let ord = match (a, b) {
        (Value::Null, _) | (_, Value::Null) => return Value::Null,
        (Value::Text(x), Value::Text(y)) => x.as_str().cmp(y.as_str()),
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Float(_) | Value::Int(_), Value::Float(_) | Value::Int(_)) => {
            let f = |v: &Value<'_>| match v {
                Value::Float(x) => *x,
                Value::Int(n) => *n as f64,
                _ => 0.0,
            };
            match f(a).partial_cmp(&f(b)) {
                Some(o) => o,
                None => return Value::Null,
            }
        }
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (x, y) => {
            return match op {
                CmpOp::Eq => Value::Bool(x == y),
                CmpOp::Ne => Value::Bool(x != y),
                _ => Value::Null,
            };
        }
    };
    Value::Bool(ord_holds(ord, op))
}

/// Why a value cannot be read as its field's type, when more can be said than the type.
struct Why {
    /// In Japanese, for the message.
    reason: String,
    /// A stable code for the params (`month_out_of_range`, `not_a_choice`, …).
    code: &'static str,
}

/// Convert a JSON value to the field's declared type; `Err(Some(why))` when it cannot be and
/// more can be said than the type.
fn convert<'r>(v: &'r Json<'r>, ty: &FieldTy) -> Result<Value<'r>, Option<Why>> {
    use Json as J;
    match (ty, v) {
        (FieldTy::Text, J::String(s)) => Ok(Value::text(s)),
        // A number where text is expected is refused, not turned into text: a code written
        // without quotes has lost its leading zeros (`0005` → `5`), and a YAML `0x1D2F5E7A9C`
        // would silently become a twelve-digit number.
        (FieldTy::Text, J::Number(_)) => Err(Some(Why {
            reason: String::from("数値ではなく文字列として、引用符で囲んで書いてください（例: \"0005\"）"),
            code: "number_for_text",
        })),
        (FieldTy::Enum(variants), J::String(s)) => {
            if variants.iter().any(|x| x == s) {
                Ok(Value::text(s))
            } else {
                // The value itself is shown (masked as its field says) by the finding.
                Err(Some(Why { reason: format!("選択肢は {} です", variants.join(", ")), code: "not_a_choice" }))
            }
        }
        (FieldTy::Int, J::Number(n)) => n.as_i64().map(Value::Int).ok_or(None),
        (FieldTy::Int, J::String(s)) => {
            // Full-width digits and a sign (`-5`, `−５`) as a form may write them.
            let folded = crate::normalize::width::fold_width(s);
            let t = folded.trim();
            let (negative, digits) = match t.chars().next() {
                Some(c) if crate::normalize::width::is_hyphen(c) => (true, t.get(c.len_utf8()..).unwrap_or("")),
                Some('+') => (false, t.get(1..).unwrap_or("")),
                _ => (false, t),
            };
            let n = digits.parse::<i64>().map_err(|_| None)?;
            Ok(Value::Int(if negative { -n } else { n }))
        }
        (FieldTy::Bool, J::Bool(b)) => Ok(Value::Bool(*b)),
        (FieldTy::Date, J::String(s)) => Date::parse(s)
            .map(Value::Date)
            .map_err(|e| Some(Why { reason: e.reason_ja().to_string(), code: e.kind().as_str() })),
        (FieldTy::List(inner), J::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(convert(item, inner)?);
            }
            Ok(Value::List(Rc::new(out)))
        }
        _ => Err(None),
    }
}

fn schema_finding(
    rule: &str,
    severity: Severity,
    message: String,
    path: &str,
    evidence: Vec<(String, serde_json::Value)>,
    params: Vec<(String, serde_json::Value)>,
) -> Finding {
    Finding {
        rule: rule.to_string(),
        severity,
        penalty: severity.default_penalty(),
        message,
        params,
        fields: vec![path.to_string()],
        evidence,
        related: Vec::new(),
    }
}

/// How values of a field are shown in this evaluation: `None` with `--show-pii`, which shows
/// everything.
fn shown_as(privacy: Privacy, opts: &EvalOptions) -> Option<Privacy> {
    if opts.show_secrets { None } else { Some(privacy) }
}

/// A `schema.type` finding: `v` cannot be read as `field`'s type. The message shows the value
/// (masked as `privacy` says), or the kind of value it is; params: `field`, `expected` (the
/// type), `value` or `found` (the kind: `list`, `object`, …), and with `why` its `reason` and
/// `reason_code`.
fn type_finding(field: &crate::compile::Field, v: &Json<'_>, privacy: Option<Privacy>, why: Option<Why>) -> Finding {
    let path = &*field.path;
    let text = match v {
        Json::String(s) => Some(crate::display::shorten(s, crate::display::QUOTED_CHARS).into_owned()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let mut params = vec![
        (String::from("field"), serde_json::Value::String(path.to_string())),
        (String::from("expected"), serde_json::Value::String(ty_code(&field.ty).to_string())),
    ];
    let mut evidence = Vec::new();
    let mut message = match text {
        Some(text) => {
            // A value that does not fit its field's type is not explained by it: a number field
            // or a choice given text shows it as any text field would.
            let privacy = match privacy {
                None => Privacy::Plain,
                Some(Privacy::Plain) => Privacy::DigitRuns(Privacy::DEFAULT_DIGITS),
                Some(p) => p,
            };
            let shown = privacy.apply(&text);
            params.push((String::from("value"), serde_json::Value::String(shown.to_string())));
            evidence.push((path.to_string(), serde_json::Value::String(shown.to_string())));
            format!("`{path}` の値 `{shown}` を{}として読めません", ty_ja(&field.ty))
        }
        None => {
            let (code, words) = json_kind_ja(v);
            params.push((String::from("found"), serde_json::Value::String(code.to_string())));
            evidence.push((path.to_string(), serde_json::Value::String(words.to_string())));
            format!("`{path}` の値（{words}）を{}として読めません", ty_ja(&field.ty))
        }
    };
    if let Some(why) = why {
        message.push_str(": ");
        message.push_str(&why.reason);
        params.push((String::from("reason"), serde_json::Value::String(why.reason)));
        params.push((String::from("reason_code"), serde_json::Value::String(why.code.to_string())));
    }
    schema_finding(SCHEMA_TYPE, Severity::Reject, message, path, evidence, params)
}

/// The type of a field as a code, for params (`date`, `choice`, …).
fn ty_code(ty: &FieldTy) -> &'static str {
    match ty {
        FieldTy::Text => "text",
        FieldTy::Int => "int",
        FieldTy::Date => "date",
        FieldTy::Bool => "bool",
        FieldTy::Enum(_) => "choice",
        FieldTy::List(_) => "list",
        FieldTy::Group => "group",
    }
}

fn ty_ja(ty: &FieldTy) -> &'static str {
    match ty {
        FieldTy::Text => "文字列",
        FieldTy::Int => "整数",
        FieldTy::Date => "日付",
        FieldTy::Bool => "真偽値",
        FieldTy::Enum(_) => "選択肢",
        FieldTy::List(_) => "リスト",
        FieldTy::Group => "項目のまとまり",
    }
}

/// A value as a message shows it, masked as `privacy` says. Yes/no answers and dates say
/// nothing of a number and are shown as they are, also when computed from a secret.
fn show(v: &Value<'_>, privacy: Privacy) -> String {
    match v {
        Value::Null | Value::Bool(_) | Value::Date(_) | Value::Group => v.to_string(),
        Value::Text(t) => privacy.apply(t.as_str()).into_owned(),
        other => privacy.apply(&other.to_string()).into_owned(),
    }
}

/// A value as evidence, masked as [`show`] masks it.
fn to_json(v: &Value<'_>, privacy: Privacy) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Date(d) => J::String(d.to_string()),
        Value::Group => J::String(String::from("{…}")),
        _ if privacy != Privacy::Plain => J::String(show(v, privacy)),
        Value::Int(n) => J::from(*n),
        Value::Float(x) => J::from(round3(*x)),
        Value::Text(t) => J::String(t.as_str().to_string()),
        Value::List(items) => J::Array(items.iter().map(|x| to_json(x, Privacy::Plain)).collect()),
    }
}

/// The length in characters of a JSON text (or the longest text of a list) when it is longer
/// than `max`. Characters are never more than bytes, so most values are decided by their
/// length in bytes, without counting.
fn too_long(v: &Json<'_>, max: u32) -> Option<usize> {
    let max = max as usize;
    let over = |t: &str| (t.len() > max).then(|| t.chars().count()).filter(|&n| n > max);
    match v {
        Json::String(s) => over(s),
        Json::Array(items) => items.iter().filter_map(|x| x.as_str().and_then(over)).max(),
        _ => None,
    }
}

/// A value longer than its field's `max(N)`: not read (the rules see the field as absent, so
/// no comparison spends time on it), and the record is rejected.
fn too_long_finding(field: &crate::compile::Field, chars: usize) -> Finding {
    let max = field.max_chars.unwrap_or(0);
    schema_finding(
        SCHEMA_TOO_LONG,
        Severity::Reject,
        format!("`{}` が {chars} 文字あり、上限の {max} 文字を超えています。入力を確かめてください", field.path),
        &field.path,
        vec![(String::from("length"), serde_json::json!(chars)), (String::from("max"), serde_json::json!(max))],
        vec![
            (String::from("field"), serde_json::Value::String(field.path.to_string())),
            (String::from("length"), serde_json::json!(chars)),
            (String::from("max"), serde_json::json!(max)),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_name_is_equality() {
        let names = [
            "",
            "a",
            "id",
            "sex",
            "bank",
            "postal",
            "address",
            "my_number",
            "birth_date",
            "family_name",
            "account_number",
            "family_name_kana",
            "family_name_kana2",
            "氏名",
            "フリガナ",
            "account_numbes",
            "xccount_number",
        ];
        for a in names {
            for b in names {
                assert_eq!(same_name(a, b), a == b, "{a} {b}");
            }
            // Every one-byte change, at every position.
            for i in 0..a.len() {
                let mut c = a.as_bytes().to_vec();
                if let Some(byte) = c.get_mut(i) {
                    *byte ^= 1;
                }
                if let Ok(c) = std::str::from_utf8(&c) {
                    assert!(!same_name(a, c), "{a} {c}");
                }
            }
        }
    }

    #[test]
    fn recycle_keeps_the_allocation() {
        // A frame's vectors are handed from record to record through `recycle`: if the standard
        // library stopped collecting in place, every frame would allocate again.
        let text = String::from("山田");
        let mut v: Vec<Value<'_>> = Vec::with_capacity(40);
        v.extend([Value::text(&text), Value::shared("太郎"), Value::Int(1)]);
        let at = v.as_ptr() as usize;
        let kept: Vec<Value<'static>> = recycle(v);
        assert!(kept.is_empty());
        assert_eq!((kept.as_ptr() as usize, kept.capacity()), (at, 40));
        let lets: Vec<Option<Value<'static>>> = Vec::with_capacity(7);
        let at = lets.as_ptr() as usize;
        let back: Vec<Option<Value<'_>>> = recycle(lets);
        assert_eq!((back.as_ptr() as usize, back.capacity()), (at, 7));
    }
}
