//! The library façade: load → parse → check → compile once, then evaluate many records.

mod pairs;
mod review;
pub use pairs::{Pair, PairRun};
pub use review::{ComparedPair, PairView};
mod service;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use crate::compile::{self, Program, squash};
use crate::diagnostic::{Diagnostic, render_plain};
use crate::eval::profile::Profiles;
use crate::eval::{
    self, Candidate, CandidateMatch, Chosen, EvalOptions, FieldCheck, MatchProfile, RecordError, Verdict,
};
use crate::limits::Limits;
use crate::linkage::block::{BlockIndex, ScoredPair};
use crate::normalize::date::Date;
use crate::record_json::Json;
use crate::registry::{Enroll, Enrollment, Entry, KeyVersion, Lookup, MAX_PER_KEY, MemoryRegistry, Registry, fnv1a};
use crate::source::{LoadCode, SourceMap};
use crate::syntax::ast::{Base, FileId, Item, Module};
use crate::{check, overlay, syntax};
use std::collections::HashMap;

/// The result of a batch dedup or link ([`Engine::duplicate_pairs`], [`Engine::link_pairs`]).
#[derive(Clone, Debug, Default)]
pub struct PairScan {
    /// The pairs at or above the threshold, sorted by (left, right).
    pub pairs: Vec<ScoredPair>,
    /// How many pairs were compared.
    pub compared: u64,
    /// How many blocking keys were shared by more than [`MAX_PER_KEY`] records: within them,
    /// each record was compared with [`MAX_PER_KEY`] of their records only.
    pub crowded_keys: usize,
}

/// The standard rule set compiled into the binary: (path relative to `rules/`, text).
pub static BUILTIN_RULES: &[(&str, &str)] = &[
    ("registry.kensa", include_str!("../rules/registry.kensa")),
    ("resident.kensa", include_str!("../rules/resident.kensa")),
    ("tables/prefectures.csv", include_str!("../rules/tables/prefectures.csv")),
    ("tables/family-name-share.csv", include_str!("../rules/tables/family-name-share.csv")),
];

/// A rule set that failed to compile, with every diagnostic found.
#[derive(Debug)]
pub struct CompileError {
    report: Report,
}

impl CompileError {
    /// All diagnostics (errors and warnings), in source order.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.report.diagnostics
    }
    /// The diagnostics rendered as plain text, as a person reads them.
    pub fn render(&self) -> String {
        self.report.render()
    }
    /// The diagnostics together with the rule texts they point into.
    pub fn report(&self) -> &Report {
        &self.report
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.report.diagnostics.iter().filter(|d| d.is_error()).count();
        write!(f, "the rule set has {n} error(s)")?;
        for d in self.report.diagnostics.iter().filter(|d| d.is_error()) {
            write!(f, "\n{}: {}", d.code, d.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for CompileError {}

/// Diagnostics of a rule set with the source texts they point into.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
    pub sources: SourceMap,
    /// For an overlay (a rule set that `extend`s another): its layers and what each changed.
    pub layering: Option<Box<crate::overlay::Layering>>,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
    pub fn render(&self) -> String {
        render_plain(&self.diagnostics, &self.sources)
    }

    /// Each diagnostic as JSON (`kensa check --format json`, the Python package): `code`,
    /// `level`, `message`, `file`, `line`, `column` (1-based, columns in characters, 0 when the
    /// file is unknown), `start`/`end` of the first label, every `labels` entry, `help`.
    pub fn diagnostics_json(&self) -> Vec<serde_json::Value> {
        self.diagnostics
            .iter()
            .map(|d| {
                let span = d.primary_span();
                let file = span.and_then(|s| self.sources.get(s.file)).map(|f| f.name.clone());
                let (line, column) = match (span, span.and_then(|s| self.sources.get(s.file))) {
                    (Some(s), Some(f)) => line_col(&f.text, s.start as usize),
                    _ => (0, 0),
                };
                serde_json::json!({
                    "code": d.code.as_str(),
                    "level": if d.is_error() { "error" } else { "warning" },
                    "message": d.message,
                    "file": file,
                    "line": line,
                    "column": column,
                    "start": d.labels.first().map(|l| label_range(self, l).1),
                    "end": d.labels.first().map(|l| label_range(self, l).2),
                    "labels": d.labels.iter().map(|l| label_json(self, l)).collect::<Vec<_>>(),
                    "help": d.help,
                })
            })
            .collect()
    }
}

/// One label of a diagnostic as JSON: its text, file, and where it starts and ends (the end is
/// just past the last character marked, as in editors' ranges).
fn label_json(report: &Report, l: &crate::Label) -> serde_json::Value {
    let (file, start, end) = label_range(report, l);
    serde_json::json!({ "message": l.text, "file": file, "start": start, "end": end })
}

/// The file of a label and its start and end as `{"line": …, "column": …}` (1-based, columns
/// in characters; 0 when the file is unknown).
fn label_range(report: &Report, l: &crate::Label) -> (Option<String>, serde_json::Value, serde_json::Value) {
    let file = report.sources.get(l.span.file);
    let at = |offset: u32| {
        let (line, column) = file.map_or((0, 0), |f| line_col(&f.text, offset as usize));
        serde_json::json!({ "line": line, "column": column })
    };
    (file.map(|f| f.name.clone()), at(l.span.start), at(l.span.end))
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// A compiled rule set, ready to evaluate records. Cheap to share across threads (`&Engine`).
/// Cloning is cheap: the compiled program and its report are shared.
#[derive(Clone, Debug)]
pub struct Engine {
    program: Arc<Program>,
    report: Arc<Report>,
    /// [`Engine::revision`], computed once.
    revision: Arc<str>,
    today: Option<Date>,
    strict: bool,
    show_pii: bool,
    limits: Limits,
}

impl Engine {
    /// The standard rule set for resident enrollment, compiled into the binary.
    pub fn builtin() -> Result<Engine, CompileError> {
        let (sources, roots) = SourceMap::load_embedded(BUILTIN_RULES);
        Engine::build(sources, roots)
    }

    /// Compile a rule file, or every `.kensa` file of a folder.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Engine, CompileError> {
        match SourceMap::load_path(path.as_ref()) {
            Ok((sources, roots)) => Engine::build(sources, roots),
            Err(d) => Err(CompileError { report: Report { diagnostics: vec![d], ..Report::default() } }),
        }
    }

    /// Same as [`Engine::from_path`]; reads well when the rules are a folder.
    pub fn from_dir(path: impl AsRef<Path>) -> Result<Engine, CompileError> {
        Engine::from_path(path)
    }

    /// Compile rule text held in memory. `name` is shown in diagnostics; `include` and table
    /// files are resolved relative to it.
    pub fn from_source(name: &str, text: &str) -> Result<Engine, CompileError> {
        let mut sources = SourceMap::default();
        let root = sources.add_text(name, text);
        Engine::build(sources, vec![root])
    }

    /// Use this date as "today" instead of the current date in Japan.
    #[must_use]
    pub fn with_today(mut self, today: Date) -> Engine {
        self.today = Some(today);
        self
    }

    /// Make record fields that the schema does not know an error instead of a warning.
    #[must_use]
    pub fn with_strict(mut self, strict: bool) -> Engine {
        self.strict = strict;
        self
    }

    /// Show `secret` fields (My Numbers, account numbers) in full in messages and evidence
    /// instead of masking all but their last four characters (`kensa --show-pii`).
    #[must_use]
    pub fn with_show_pii(mut self, show: bool) -> Engine {
        self.show_pii = show;
        self
    }

    /// Limits on records: the longest text value, the evaluation steps per record
    /// ([`Limits`]; the defaults protect a server without bothering a user).
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Engine {
        self.limits = limits;
        self
    }

    /// The limits in force ([`Engine::with_limits`]).
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// This engine's settings (today, strict, show-pii) given to `other`, a newly compiled rule
    /// set that replaces it ([`crate::SharedEngine`]).
    pub(crate) fn settings_to(&self, mut other: Engine) -> Engine {
        other.today = self.today;
        other.strict = self.strict;
        other.show_pii = self.show_pii;
        other.limits = self.limits;
        other
    }

    /// Warnings found while compiling (unused bindings, duplicate rule ids, …).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.report.diagnostics
    }

    /// The warnings with the rule texts they point into.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The record schema as a JSON Schema (draft 2020-12), for forms and API clients: fields
    /// with their types (`int` as a whole number or text of digits, `date` as text, choices as
    /// `enum`, groups as nested objects), `maxLength` from `max(N)`, the required fields, and
    /// other keys allowed. Every record this engine reads without a `schema.*` finding
    /// validates against it.
    pub fn json_schema(&self) -> serde_json::Value {
        crate::describe::json_schema(&self.program)
    }

    /// The rules in evaluation order: id, title, the outcome when it fires, the fields its
    /// findings name (`kensa rules list`).
    pub fn rules_info(&self) -> Vec<crate::describe::RuleInfo> {
        crate::describe::rules_info(&self.program)
    }

    /// Ids of the rules, in evaluation order.
    pub fn rule_ids(&self) -> impl Iterator<Item = &str> {
        self.program.rules.iter().map(|r| &*r.id)
    }

    fn options(&self, explain: bool) -> EvalOptions {
        EvalOptions {
            today: self.today.unwrap_or_else(today_in_japan),
            strict: self.strict,
            explain,
            show_secrets: self.show_pii,
            budget: self.limits.eval_budget,
            deadline: self.limits.eval_time.and_then(|t| std::time::Instant::now().checked_add(t)),
            partial: false,
        }
    }

    /// Judge the fields a form has filled so far, as the person types (a record in the
    /// schema's shape, with fields left out). A field is filled when its key is there with a
    /// value that is not null and not blank text (empty or only spaces). The rules whose
    /// fields (those their `when`, `require` and message read) are all filled run as in
    /// [`Engine::evaluate`]; the others are not yet applicable and are listed in
    /// [`FieldCheck::pending`] with the fields they wait for, not as findings. A field not
    /// filled is no `schema.required` finding. Rules about registry candidates are always
    /// pending: the registry is consulted only on the whole record ([`Engine::evaluate_in`]).
    pub fn check_fields(&self, record: &serde_json::Value) -> Result<FieldCheck, RecordError> {
        let record = Json::from_value(record);
        self.limits.check_json(&record)?;
        eval::check_fields(&self.program, &record, &self.options(false))
    }

    /// Evaluate one record (a JSON object in the schema's shape) without a registry: rules
    /// about registry candidates are not applicable (see [`Engine::evaluate_in`]).
    pub fn evaluate(&self, record: &serde_json::Value) -> Result<Verdict, RecordError> {
        self.judge_doc(&Json::from_value(record), None, false)
    }

    /// Evaluate one record and explain what every rule did (`Verdict::trace`).
    pub fn explain(&self, record: &serde_json::Value) -> Result<Verdict, RecordError> {
        self.judge_doc(&Json::from_value(record), None, true)
    }

    /// Evaluate one record against the enrolled records of a registry: duplicate, conflict and
    /// ambiguity rules see the candidates that share a blocking key with it. A stored record
    /// that *is* this record (the same id and the same content: a registry re-checked against
    /// itself) is left out; a stored record with the same id and other content is a candidate
    /// like any other, so an id cannot hide a person. Of a key shared by more than
    /// [`MAX_PER_KEY`] records only the closest are compared, and a `registry.crowded_key`
    /// finding says so.
    pub fn evaluate_in(&self, record: &serde_json::Value, registry: &dyn Registry) -> Result<Verdict, RecordError> {
        self.judge_doc(&Json::from_value(record), Some(registry), false)
    }

    /// [`Engine::evaluate_in`] with an explanation of every rule.
    pub fn explain_in(&self, record: &serde_json::Value, registry: &dyn Registry) -> Result<Verdict, RecordError> {
        self.judge_doc(&Json::from_value(record), Some(registry), true)
    }

    /// Judge one record as [`Engine::judge`] does, given as JSON text (a JSONL line): the
    /// record is read borrowing its text, with the checks of the `kensa` command's reader (an
    /// object naming a field twice is an error, [`RecordError::Malformed`], whose message
    /// never quotes the record). The fastest way to judge records that arrive as JSON.
    pub fn judge_json(
        &self,
        text: &str,
        registry: Option<&dyn Registry>,
        explain: bool,
    ) -> Result<Verdict, RecordError> {
        let record = crate::record_json::parse_doc(text).map_err(RecordError::Malformed)?;
        self.judge_doc(&record, registry, explain)
    }

    /// Every judgement of one record: limits, registry candidates, rules.
    fn judge_doc(
        &self,
        record: &Json<'_>,
        registry: Option<&dyn Registry>,
        explain: bool,
    ) -> Result<Verdict, RecordError> {
        self.limits.check_json(record)?;
        let opts = self.options(explain);
        let Some(registry) = registry.filter(|_| self.program.matching.is_some()) else {
            return eval::evaluate(&self.program, record, &opts);
        };
        let mut lookup = |keys: &[(u32, String)]| {
            let found = registry.candidates(keys).map_err(|e| RecordError::Registry(e.to_string()))?;
            self.choose(record, keys, found, opts.today, true)
        };
        eval::evaluate_looking_up(&self.program, record, &opts, &mut lookup)
    }

    /// How a record compares with every registry record that shares a blocking key with it
    /// (a stored record that is this record, same id and content, is left out): probability
    /// and per-comparison levels and weights. Used by `kensa dedup` and `kensa link`.
    pub fn matches_in(
        &self,
        record: &serde_json::Value,
        registry: &dyn Registry,
    ) -> Result<Vec<CandidateMatch>, RecordError> {
        self.compare_in(&Json::from_value(record), registry, true)
    }

    /// `matches_in` and `links_in`: compare with the candidates, leaving out the record itself
    /// when `skip_itself`.
    fn compare_in(
        &self,
        record: &Json<'_>,
        registry: &dyn Registry,
        skip_itself: bool,
    ) -> Result<Vec<CandidateMatch>, RecordError> {
        let today = self.today.unwrap_or_else(today_in_japan);
        if self.program.matching.is_none() || registry.is_empty() {
            return Ok(Vec::new());
        }
        let chosen = self.find_candidates(record, registry, today, skip_itself)?;
        let candidates: Vec<Candidate<'_>> = chosen.records.iter().map(Candidate::found).collect();
        eval::compare_candidates(&self.program, record, today, &candidates, &chosen.terms)
    }

    /// The registry records sharing a blocking key with `record`, of crowded keys the closest
    /// ([`Engine::choose`]); with `skip_itself`, without the stored copy of the record itself.
    fn find_candidates(
        &self,
        record: &Json<'_>,
        registry: &dyn Registry,
        today: Date,
        skip_itself: bool,
    ) -> Result<Chosen, RecordError> {
        let keys = eval::blocking_keys(&self.program, record, today);
        let lookup = registry.candidates(&keys).map_err(|e| RecordError::Registry(e.to_string()))?;
        self.choose(record, &keys, lookup, today, skip_itself)
    }

    /// The candidates a record is judged against, from what a lookup of its `keys` found. With
    /// `skip_itself`, a stored record with the same content (so the same id) is the record
    /// itself and is left out; one that merely carries the id stays. Of a crowded key (more than
    /// [`MAX_PER_KEY`] records) the [`MAX_PER_KEY`] with the highest match probability are kept,
    /// whatever their enrollment order, so that enrolling hundreds of records at one address
    /// cannot push a duplicate out of sight; the key is reported as crowded.
    fn choose(
        &self,
        record: &Json<'_>,
        keys: &[(u32, String)],
        mut lookup: Lookup,
        today: Date,
        skip_itself: bool,
    ) -> Result<Chosen, RecordError> {
        if skip_itself {
            // Equal content is equal id too; a record that only carries the id stays.
            lookup.records.retain(|f| !record.same_as(&f.record));
        }
        let terms = std::mem::take(&mut lookup.terms);
        if lookup.crowded.is_empty() {
            return Ok(Chosen { records: lookup.records, crowded: Vec::new(), terms });
        }
        let candidates: Vec<Candidate<'_>> = lookup.records.iter().map(Candidate::found).collect();
        let probability = eval::probabilities(&self.program, record, today, &candidates)?;
        let mut keep = vec![false; lookup.records.len()];
        let mut crowded_bits = 0u64;
        let mut notes = Vec::with_capacity(lookup.crowded.len());
        for c in &lookup.crowded {
            let Some(at) = keys.iter().position(|(b, _)| *b == c.block) else { continue };
            let bit = 1u64 << at.min(63);
            crowded_bits |= bit;
            let mut members: Vec<usize> = (0..lookup.records.len())
                .filter(|&i| lookup.records.get(i).is_some_and(|f| f.keys & bit != 0))
                .collect();
            let read = members.len();
            // Most probable first; a stable sort keeps enrollment order among equals.
            members.sort_by(|&a, &b| {
                let p = |i: usize| probability.get(i).copied().unwrap_or(0.0);
                p(b).total_cmp(&p(a))
            });
            members.truncate(MAX_PER_KEY);
            for &i in &members {
                if let Some(k) = keep.get_mut(i) {
                    *k = true;
                }
            }
            notes.push(eval::CrowdedKey { block: c.block, records: c.records, compared: members.len(), read });
        }
        let records = lookup
            .records
            .into_iter()
            .zip(keep)
            .filter(|(f, kept)| *kept || f.keys & !crowded_bits != 0)
            .map(|(f, _)| f)
            .collect();
        Ok(Chosen { records, crowded: notes, terms })
    }

    /// Like [`Engine::matches_in`], but a candidate with the record's own `id` is kept: for
    /// linking a file to a registry whose records are named independently (`kensa link`).
    pub fn links_in(
        &self,
        record: &serde_json::Value,
        registry: &dyn Registry,
    ) -> Result<Vec<CandidateMatch>, RecordError> {
        self.compare_in(&Json::from_value(record), registry, false)
    }

    /// How the `match` block compares two given records, whether or not they share a blocking
    /// key (`None` without a `match` block). Used to estimate u from random pairs.
    pub fn compare_records(
        &self,
        record: &serde_json::Value,
        other: &serde_json::Value,
    ) -> Result<Option<CandidateMatch>, RecordError> {
        let today = self.today.unwrap_or_else(today_in_japan);
        if self.program.matching.is_none() {
            return Ok(None);
        }
        let candidates = [Candidate::new(other)];
        Ok(eval::compare_candidates(&self.program, &Json::from_value(record), today, &candidates, &[])?
            .into_iter()
            .next())
    }

    /// What the `match` block needs of `record` (id, blocking keys, compared values), computed
    /// once: batch jobs hold profiles instead of records and compare pairs of them.
    pub fn match_profile(&self, record: &serde_json::Value) -> Result<MatchProfile, RecordError> {
        self.profile_doc(&Json::from_value(record))
    }

    /// [`Engine::match_profile`] of a record given as JSON text (a JSONL line), read as
    /// [`Engine::judge_json`] reads it.
    pub fn match_profile_json(&self, text: &str) -> Result<MatchProfile, RecordError> {
        self.profile_doc(&crate::record_json::parse_doc(text).map_err(RecordError::Malformed)?)
    }

    fn profile_doc(&self, record: &Json<'_>) -> Result<MatchProfile, RecordError> {
        self.limits.check_json(record)?;
        eval::profile(&self.program, record, self.today.unwrap_or_else(today_in_japan))
    }

    /// How profile `other` compares with `profile`: probability, levels and weights (`id` is
    /// `other`'s); `None` without a `match` block.
    pub fn compare_profiles(&self, profile: &MatchProfile, other: &MatchProfile) -> Option<CandidateMatch> {
        Some(eval::compare_profiles(self.program.matching.as_ref()?, profile.view(), other.view()))
    }

    /// How many of `population` have each value that the `frequency` comparisons count (the
    /// records of the batch, for `kensa dedup`; of the registry file, for `kensa link`).
    pub fn term_counts(&self, population: &[MatchProfile]) -> eval::TermCounts {
        self.program.matching.as_ref().map(|m| eval::TermCounts::of(m, population)).unwrap_or_default()
    }

    /// The values of `profile` that the `frequency` comparisons count, `(compare line, value)`:
    /// what a distributed job counts per value and hands to [`eval::TermCounts::from_counts`].
    pub fn counted_terms(&self, profile: &MatchProfile) -> Vec<(usize, String)> {
        self.program.matching.as_ref().map(|m| eval::profile::counted_terms(m, profile)).unwrap_or_default()
    }

    /// Weigh the profiles' values by how common they are in `counts`: their comparisons then
    /// carry the term-frequency adjustment, as against a registry that keeps the counts. A
    /// population smaller than [`eval::MIN_COUNTED`] is weighed by the rules' fallback shares.
    pub fn weigh_by_frequency(&self, profiles: &mut [MatchProfile], counts: &eval::TermCounts) {
        if let Some(m) = &self.program.matching {
            eval::weigh(m, profiles, counts);
        }
    }

    /// Batch dedup: every pair of `profiles` that shares a blocking key is compared once (two
    /// profiles with the same id are not compared), on the current rayon pool (feature `parallel`). Returns the pairs
    /// whose match probability is at least `threshold` (`left < right`, positions in
    /// `profiles`, sorted) and how many pairs were compared. A key shared by very many records
    /// contributes only the next [`MAX_PER_KEY`] after each record.
    pub fn duplicate_pairs(&self, profiles: &[MatchProfile], threshold: f64) -> PairScan {
        self.pairs_within(profiles, threshold)
    }

    /// [`Engine::duplicate_pairs`] of a slice of profiles or a [`ProfileStore`].
    fn pairs_within<P: Profiles + ?Sized>(&self, profiles: &P, threshold: f64) -> PairScan {
        let index = BlockIndex::shared(key_hashes(profiles)).with_cap(MAX_PER_KEY);
        PairScan { crowded_keys: index.crowded(), ..self.scan(profiles, profiles, &index, true, threshold) }
    }

    /// Batch link: every profile of `records` is compared with the profiles of `registry` that
    /// share a blocking key with it. Returns the pairs whose match probability is at least
    /// `threshold` (`left` in `records`, `right` in `registry`, sorted) and how many pairs were
    /// compared.
    pub fn link_pairs(&self, registry: &[MatchProfile], records: &[MatchProfile], threshold: f64) -> PairScan {
        self.pairs_between(registry, records, threshold)
    }

    /// [`Engine::link_pairs`] of slices of profiles or [`ProfileStore`]s.
    fn pairs_between<P: Profiles + ?Sized>(&self, registry: &P, records: &P, threshold: f64) -> PairScan {
        let index = BlockIndex::new(key_hashes(registry)).with_cap(MAX_PER_KEY);
        PairScan { crowded_keys: index.crowded(), ..self.scan(records, registry, &index, false, threshold) }
    }

    /// Compare each of `left` with the profiles of `right` that `index` (over `right`) gives;
    /// `within`: `left` and `right` are one file, so each unordered pair is compared once.
    fn scan<P: Profiles + ?Sized>(
        &self,
        left: &P,
        right: &P,
        index: &BlockIndex,
        within: bool,
        threshold: f64,
    ) -> PairScan {
        let Some(m) = &self.program.matching else { return PairScan::default() };
        let (mut pairs, compared, _) = crate::par::fold_range(
            left.count(),
            64,
            || (Vec::new(), 0u64, Vec::new()),
            |(mut pairs, mut compared, mut buf): (Vec<ScoredPair>, u64, Vec<u32>), i| {
                let Some(a) = left.at(i) else { return (pairs, compared, buf) };
                let after = if within { Some(u32::try_from(i).unwrap_or(u32::MAX)) } else { None };
                index.candidates(left.keys(i), after, &mut buf);
                for &j in &buf {
                    let Some(b) = right.at(j as usize) else { continue };
                    if within && a.id.is_some() && a.id == b.id {
                        continue;
                    }
                    compared += 1;
                    let probability = eval::profile_probability(m, a, b);
                    if probability >= threshold {
                        pairs.push(ScoredPair { left: i, right: j as usize, probability });
                    }
                }
                (pairs, compared, buf)
            },
            |(mut a, n, buf), (b, k, _)| {
                a.extend(b);
                (a, n + k, buf)
            },
        );
        crate::par::sort_unstable_by_key(&mut pairs, |p| (p.left, p.right));
        PairScan { pairs, compared, crowded_keys: 0 }
    }

    /// Whether the schema declares the id field `int` (its ids are whole numbers).
    fn id_is_int(&self) -> bool {
        let field = self.program.id_slot.and_then(|slot| self.program.fields.get(slot as usize));
        field.is_some_and(|f| f.ty == crate::check::FieldTy::Int)
    }

    /// The id of a record as the rules name it (the schema field marked `id`).
    pub fn record_id(&self, record: &serde_json::Value) -> Option<String> {
        self.program.record_id(record)
    }

    /// The prior and the m/u numbers of the `match` block as written, with where each number
    /// stands in the rule text, so `kensa train` can write estimated numbers back.
    pub fn match_parameters(&self) -> Option<crate::linkage::em::MatchParameters> {
        use crate::linkage::em::{CompareParameters, LevelParameters, MatchParameters, TextRange, find_m_u};
        self.program.matching.as_ref()?;
        for (file, source) in self.report.sources.files() {
            let (module, _) = syntax::parse_file(file, &source.text);
            let Some(m) = module.items.iter().find_map(|i| if let Item::Match(m) = i { Some(m) } else { None }) else {
                continue;
            };
            let range = |start: u32, end: u32| TextRange {
                file: source.name.clone(),
                start: start as usize,
                end: end as usize,
            };
            let compares = m
                .compares
                .iter()
                .map(|c| CompareParameters {
                    name: c.name.name.clone(),
                    levels: c
                        .levels
                        .iter()
                        .map(|l| {
                            let text = source.text.get(l.span.start as usize..l.span.end as usize).unwrap_or("");
                            let at = find_m_u(text);
                            let off = l.span.start as usize;
                            let abs = |(a, b): (usize, usize)| TextRange {
                                file: source.name.clone(),
                                start: off + a,
                                end: off + b,
                            };
                            LevelParameters {
                                name: l.name.name.clone(),
                                m: l.m,
                                u: l.u,
                                m_at: at.map(|(x, _)| abs(x)),
                                u_at: at.map(|(_, y)| abs(y)),
                            }
                        })
                        .collect(),
                })
                .collect();
            return Some(MatchParameters {
                prior: self.program.matching.as_ref().map_or(0.001, |p| p.prior),
                prior_at: m.prior.map(|(_, s)| range(s.start, s.end)),
                block_at: range(m.span.start, m.span.end),
                compares,
            });
        }
        None
    }

    /// The source text of a `block on …` line (`address_key`), by its index in the `match`
    /// block: what a registry's keys of that block are made of.
    pub fn block_label(&self, block: u32) -> Option<&str> {
        self.program.matching.as_ref()?.block_labels.get(block as usize).map(|l| &**l)
    }

    /// Whether the rules compare records with a registry (they have a `match` block).
    pub fn uses_registry(&self) -> bool {
        self.program.matching.is_some()
    }

    /// The blocking keys the rules compute for a record; a registry indexes its records by them.
    pub fn blocking_keys(&self, record: &serde_json::Value) -> Vec<(u32, String)> {
        eval::blocking_keys(&self.program, &Json::from_value(record), self.today.unwrap_or_else(today_in_japan))
    }

    /// A record ready to be stored in a registry: its uid (`id:<id>`, or `hash:<content hash>`
    /// without an id) and its blocking keys. An id that is not text, is blank, has spaces
    /// around it or holds a control character is an error: ids are compared exactly as text
    /// (see [`crate::registry::record_uid`]).
    pub fn registry_entry(&self, record: serde_json::Value) -> Result<Entry, RecordError> {
        let uid = crate::registry::record_uid(self.program.id_key.as_deref(), self.id_is_int(), &record)
            .map_err(RecordError::Malformed)?;
        let keys = self.blocking_keys(&record);
        Ok(Entry { uid, record, keys })
    }

    /// A stable fingerprint of everything the blocking keys depend on: the `block on …`
    /// expressions, the `let` bindings and tables they use (transitively), and the record
    /// schema. Whitespace and comments outside those texts do not change it; editing a rule,
    /// a message or a comparison does not either. A registry built with another fingerprint
    /// has stale keys.
    pub fn fingerprint(&self) -> String {
        let sources = &self.report.sources;
        let mut blocks: Vec<String> = Vec::new();
        let mut lets: HashMap<String, String> = HashMap::new();
        let mut tables: HashMap<String, String> = HashMap::new();
        let mut schema = String::new();
        for (id, file) in sources.files() {
            if !file.name.ends_with(".kensa") {
                continue;
            }
            let (module, _) = syntax::parse_file(id, &file.text);
            for item in &module.items {
                match item {
                    Item::Match(m) => {
                        blocks.extend(m.blocks.iter().map(|b| squash(sources.slice(b.span))));
                        // The values a `frequency` comparison counts are term keys, kept by the
                        // store like blocking keys.
                        blocks.extend(m.compares.iter().enumerate().filter(|(_, c)| c.frequency.is_some()).map(
                            |(i, c)| {
                                let part =
                                    c.frequency.as_ref().and_then(|f| f.part.as_ref()).map_or("", |p| p.name.as_str());
                                format!("term {i} of {part}: {}", squash(sources.slice(c.value.span)))
                            },
                        ));
                    }
                    Item::Let(l) => {
                        lets.insert(l.name.name.clone(), squash(sources.slice(l.value.span)));
                    }
                    Item::Table(t) => {
                        let mut text = squash(sources.slice(t.span));
                        if let crate::syntax::ast::TableSource::File { path, .. } = &t.source {
                            for (_, f) in sources.files() {
                                if f.name.ends_with(path.value.as_str()) {
                                    text.push('\n');
                                    text.push_str(&f.text);
                                }
                            }
                        }
                        tables.insert(t.name.name.clone(), text);
                    }
                    Item::Schema(sc) => {
                        schema.push_str(&sc.name.name);
                        schema_text(&sc.fields, &mut schema);
                    }
                    _ => {}
                }
            }
        }
        // Follow the names the blocks use to the bindings and tables behind them.
        let mut used: Vec<String> = Vec::new();
        let mut queue: Vec<String> = blocks.clone();
        while let Some(text) = queue.pop() {
            for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()) {
                if used.iter().any(|u| u == word) {
                    continue;
                }
                if let Some(t) = lets.get(word).or_else(|| tables.get(word)) {
                    used.push(word.to_string());
                    queue.push(t.clone());
                }
            }
        }
        used.sort();
        // The generation of the key code: raised when normalization changes what a key holds
        // (2: invisible characters such as U+200B are removed from name keys; 3: a bare number
        // that cannot be a 丁目 is a 番 in address keys, 巿/區/縣 are folded), so that stored
        // keys are rebuilt.
        let mut all = String::from("kensa-keys-3\n");
        for b in &blocks {
            all.push_str("block ");
            all.push_str(b);
            all.push('\n');
        }
        for u in &used {
            let text = lets.get(u).or_else(|| tables.get(u)).map_or("", String::as_str);
            all.push_str(&format!("def {u} = {text}\n"));
        }
        all.push_str("schema ");
        all.push_str(&schema);
        format!("{:016x}", fnv1a(all.as_bytes()))
    }

    /// The version a registry built with these rules records for its keys.
    pub fn key_version(&self) -> KeyVersion {
        KeyVersion {
            rules: self.fingerprint(),
            variant_table: crate::normalize::variant::VARIANT_TABLE_VERSION.to_string(),
            postal_data: crate::normalize::postal::POSTAL_DATA_VERSION.to_string(),
            kensa: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    /// Check a record against a registry and enroll it when it is accepted, atomically: the
    /// store serializes enrollments, so of two enrollments of one person (also from two
    /// processes at the same time) the second sees the first. Unlike [`Engine::evaluate_in`],
    /// a stored record with the same id is a candidate too: enrolling a record twice makes the
    /// second a duplicate, not an accept.
    pub fn enroll(&self, record: serde_json::Value, store: &dyn Enroll) -> Result<Enrollment, RecordError> {
        self.limits.check_record(&record)?;
        let entry = self.registry_entry(record)?;
        let doc = Json::from_value(&entry.record);
        let opts = self.options(false);
        let mut outcome: Option<Result<Verdict, RecordError>> = None;
        let mut taken = false;
        let inserted = store
            .enroll(&entry, &mut |found, uid_taken| {
                taken = uid_taken;
                let chosen = match found
                    .candidates(&entry.keys)
                    .map_err(|e| RecordError::Registry(e.to_string()))
                    .and_then(|lookup| self.choose(&doc, &entry.keys, lookup, opts.today, false))
                {
                    Ok(c) => c,
                    Err(e) => {
                        outcome = Some(Err(e));
                        return false;
                    }
                };
                let candidates: Vec<Candidate<'_>> = chosen.records.iter().map(Candidate::found).collect();
                let verdict =
                    eval::evaluate_with(&self.program, &doc, &opts, &candidates, &chosen.crowded, &chosen.terms);
                let accept = matches!(&verdict, Ok(v) if v.decision == crate::Decision::Accept);
                outcome = Some(verdict);
                accept && !uid_taken
            })
            .map_err(|e| RecordError::Registry(e.to_string()))?;
        match outcome {
            Some(Ok(verdict)) => Ok(Enrollment { verdict, enrolled: inserted, already_stored: taken }),
            Some(Err(e)) => Err(e),
            None => Err(RecordError::Registry(String::from("the registry did not check the record"))),
        }
    }

    /// Build an in-memory registry from enrolled records, keyed by these rules.
    pub fn memory_registry(&self, records: impl IntoIterator<Item = serde_json::Value>) -> MemoryRegistry {
        let mut reg = MemoryRegistry::new();
        let today = self.today.unwrap_or_else(today_in_japan);
        for r in records {
            // Keys and compared values in one pass: candidates found later are not read again.
            let (keys, profile) = eval::profile::stored(&self.program, &Json::from_value(&r), today);
            reg.insert_profiled(r, keys, profile);
        }
        reg
    }

    /// Judge one record, against `registry` when there is one, with what every rule did when
    /// `explain`: what `kensa eval`, `kensa serve` and the Python package do with each record.
    pub fn judge(
        &self,
        record: &serde_json::Value,
        registry: Option<&dyn Registry>,
        explain: bool,
    ) -> Result<Verdict, RecordError> {
        self.judge_doc(&Json::from_value(record), registry, explain)
    }

    /// Evaluate a typed record (any `Serialize` type whose shape matches the schema).
    pub fn evaluate_record<T: serde::Serialize>(&self, record: &T) -> Result<Verdict, RecordError> {
        let value = serde_json::to_value(record).map_err(|e| RecordError::Malformed(e.to_string()))?;
        self.evaluate(&value)
    }

    /// Evaluate many records in parallel; results are in input order.
    pub fn evaluate_batch(&self, records: &[serde_json::Value]) -> Vec<Result<Verdict, RecordError>> {
        let opts = self.options(false);
        crate::par::map(records, |r| {
            let r = Json::from_value(r);
            self.limits.check_json(&r)?;
            eval::evaluate(&self.program, &r, &opts)
        })
    }

    fn build(sources: SourceMap, roots: Vec<FileId>) -> Result<Engine, CompileError> {
        let (program, report) = build(sources, roots);
        match program {
            Some(program) => Ok(Engine {
                program: Arc::new(program),
                revision: Arc::from(service::revision_of(&report.sources)),
                report: Arc::new(report),
                today: None,
                strict: false,
                show_pii: false,
                limits: Limits::default(),
            }),
            None => Err(CompileError { report }),
        }
    }
}

/// The blocking keys of each profile, in order: what a [`BlockIndex`] is built from.
fn key_hashes<P: Profiles + ?Sized>(profiles: &P) -> impl Iterator<Item = &[u64]> + Clone {
    (0..profiles.count()).map(move |i| profiles.keys(i))
}

/// Check a rule set without keeping the program: every diagnostic, errors and warnings.
pub fn check_path(path: &Path) -> Report {
    match SourceMap::load_path(path) {
        Ok((sources, roots)) => build(sources, roots).1,
        Err(d) => Report { diagnostics: vec![d], ..Report::default() },
    }
}

/// [`check_path`] with the texts of some files given in place of the files on disk (an
/// editor's unsaved buffers).
pub(crate) fn check_path_with(path: &Path, overrides: &[(std::path::PathBuf, String)]) -> Report {
    match SourceMap::load_path_with(path, overrides) {
        Ok((sources, roots)) => build(sources, roots).1,
        Err(d) => Report { diagnostics: vec![d], ..Report::default() },
    }
}

/// Check the built-in rule set.
pub fn check_builtin() -> Report {
    let (sources, roots) = SourceMap::load_embedded(BUILTIN_RULES);
    build(sources, roots).1
}

/// The whole pipeline: parse every file (following `include`), read the bases of an overlay
/// (following `extend`), merge the layers, check, compile.
fn build(mut sources: SourceMap, roots: Vec<FileId>) -> (Option<Program>, Report) {
    let mut diagnostics = Vec::new();
    // Items read so far in all files: a rule set holds at most `syntax::MAX_ITEMS`.
    let mut items = 0;
    let mut layers: Vec<Vec<(FileId, Module)>> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    // The folders (canonical) or `builtin` of the layers read, to refuse a circle.
    let mut seen: Vec<String> = Vec::new();
    let mut roots = roots;
    loop {
        let (layer, full) = parse_layer(&mut sources, roots, &mut items, &mut diagnostics);
        names.push(match sources.layer_path(layers.len()) {
            None => String::from("built-in"),
            Some(p) if p.as_os_str().is_empty() => String::from("."),
            Some(p) => p.display().to_string(),
        });
        seen.push(sources.layer_path(layers.len()).map_or_else(|| String::from("builtin"), canonical));
        let next = if full { None } else { overlay::extend_of(&layer, &mut diagnostics).cloned() };
        layers.push(layer);
        let Some(ext) = next else { break };
        if layers.len() >= overlay::MAX_LAYERS {
            diagnostics.push(
                Diagnostic::error(overlay::error::OverlayCode::TooDeep, "overlays are stacked more than 8 deep")
                    .label(ext.span, "one base too many")
                    .help("merge some of the overlays into one"),
            );
            break;
        }
        let next_roots = match &ext.base {
            Base::Builtin => {
                if seen.iter().any(|s| s == "builtin") {
                    diagnostics.push(cycle(&ext));
                    break;
                }
                sources.add_layer_embedded(BUILTIN_RULES)
            }
            Base::Path(p) => {
                // Relative to the file that says `extend` (which may be an included one).
                let Some(path) = sources.resolve_dir_of(ext.span.file, &p.value) else {
                    diagnostics.push(
                        Diagnostic::error(
                            overlay::error::OverlayCode::BaseNotFound,
                            format!("the built-in rule set cannot extend `{}`", p.value),
                        )
                        .label(p.span, "this base"),
                    );
                    break;
                };
                if seen.contains(&canonical(&path)) {
                    diagnostics.push(cycle(&ext));
                    break;
                }
                // A base is a rule set: a folder (of which only `.kensa` files are read) or a
                // `.kensa` file, never any other file (whose text the syntax errors would quote).
                if path.exists() && !path.is_dir() && path.extension().is_none_or(|e| e != "kensa") {
                    diagnostics.push(
                        Diagnostic::error(
                            overlay::error::OverlayCode::BaseNotFound,
                            format!("the base `{}` is not a rule folder or a `.kensa` file", p.value),
                        )
                        .label(p.span, "this base")
                        .help("name the folder of the rule set to build on (`extend \"../national\"`), or `extend builtin`"),
                    );
                    break;
                }
                match sources.add_layer_path(&path) {
                    Ok(r) => r,
                    Err(d) => {
                        diagnostics.push(
                            Diagnostic::error(
                                overlay::error::OverlayCode::BaseNotFound,
                                format!("cannot read the base `{}`: {}", p.value, d.message),
                            )
                            .label(p.span, "this base")
                            .help("name the base's folder relative to the file that says `extend` (`extend \"../national\"`); `extend builtin` names the rule set compiled into kensa"),
                        );
                        break;
                    }
                }
            }
        };
        roots = next_roots;
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        crate::diagnostic::dedup_identical(&mut diagnostics);
        return (None, Report { diagnostics, sources, layering: None });
    }
    let (modules, layering) = overlay::merge(layers, names, &mut diagnostics);
    let layering = layering.map(Box::new);
    // Warnings of the overlay (a rule the base no longer has) and the checker's, in file order.
    let by_place = |d: &Diagnostic| d.primary_span().map(|s| (s.file, s.start));
    if diagnostics.iter().any(Diagnostic::is_error) {
        diagnostics.sort_by_key(by_place);
        crate::diagnostic::dedup_identical(&mut diagnostics);
        return (None, Report { diagnostics, sources, layering });
    }
    let (env, diags) = check::check(&mut sources, &modules);
    // A warning inside a base (a binding no rule uses once the overlay disabled the rule) is
    // for the base's own check, not the overlay's: errors are kept wherever they are.
    let in_base = |d: &Diagnostic| d.primary_span().is_some_and(|s| sources.layer_of(s.file) > 0);
    diagnostics.extend(diags.into_iter().filter(|d| d.is_error() || !in_base(d)));
    diagnostics.sort_by_key(by_place);
    crate::diagnostic::dedup_identical(&mut diagnostics);
    let program = env.map(|env| compile::compile(&env, &sources));
    (program, Report { diagnostics, sources, layering })
}

/// The error for a base that is already one of the layers above it.
fn cycle(ext: &crate::syntax::ast::Extend) -> Diagnostic {
    Diagnostic::error(
        overlay::error::OverlayCode::Cycle,
        format!("`extend {}` goes round in a circle", overlay::base_name(&ext.base)),
    )
    .label(ext.span, "this base is already a layer above")
    .help("one of the rule sets must extend another base, or none")
}

/// A folder as one string, the same however it was named (`../x`, a link).
fn canonical(path: &Path) -> String {
    let dir = if path.as_os_str().is_empty() { Path::new(".") } else { path };
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()).display().to_string()
}

/// Parse the files of one layer, following `include`. Returns the modules and whether the
/// rule set holds too many items (the rest is not read).
fn parse_layer(
    sources: &mut SourceMap,
    roots: Vec<FileId>,
    items: &mut usize,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Vec<(FileId, Module)>, bool) {
    let mut modules: Vec<(FileId, Module)> = Vec::new();
    let mut queue = roots;
    let mut i = 0;
    while let Some(&file) = queue.get(i) {
        i += 1;
        let text = sources.get(file).map(|f| f.text.clone()).unwrap_or_else(|| std::sync::Arc::from(""));
        let (module, diags) = syntax::parse_file_within(file, &text, syntax::MAX_ITEMS.saturating_sub(*items));
        *items += module.items.len();
        let full = diags.iter().any(|d| d.code == syntax::error::SyntaxCode::TooManyItems.into());
        diagnostics.extend(diags);
        if full {
            // The rest of the rule set is not read: the error says so.
            modules.push((file, module));
            return (modules, true);
        }
        for item in &module.items {
            if let Item::Include(inc) = item {
                match sources.load_relative(file, &inc.path.value) {
                    Ok((id, true)) => queue.push(id),
                    Ok((_, false)) => {}
                    Err(e) if e.code == LoadCode::Outside => diagnostics.push(
                        Diagnostic::error(LoadCode::Outside, format!("cannot include {e}"))
                            .label(inc.path.span, "outside the rule folder")
                            .help("copy the file into the rule folder (or a folder below it) and include it by a relative path"),
                    ),
                    Err(reason) => diagnostics.push(
                        Diagnostic::error(reason.code, format!("cannot include {reason}"))
                            .label(inc.path.span, "this file")
                            .help(reason.help().unwrap_or("the path is relative to the file that contains the `include`")),
                    ),
                }
            }
        }
        modules.push((file, module));
    }
    (modules, false)
}

/// Today's date in Japan (UTC+9), from the system clock.
pub fn today_in_japan() -> Date {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let days = (secs + 9 * 3600) / 86_400;
    Date::from_days(i32::try_from(days).unwrap_or(0))
}

/// The record schema as text, for the fingerprint.
fn schema_text(fields: &[crate::syntax::ast::FieldDecl], out: &mut String) {
    use crate::syntax::ast::TypeExpr;
    fn ty(t: &TypeExpr, out: &mut String) {
        match t {
            TypeExpr::Text => out.push_str("text"),
            TypeExpr::Int => out.push_str("int"),
            TypeExpr::Date => out.push_str("date"),
            TypeExpr::Bool => out.push_str("bool"),
            TypeExpr::Enum(v) => {
                out.push_str("enum(");
                for i in v {
                    out.push_str(&i.name);
                    out.push(',');
                }
                out.push(')');
            }
            TypeExpr::List(t) => {
                out.push_str("list(");
                ty(t, out);
                out.push(')');
            }
            TypeExpr::Group(f) => schema_text(f, out),
        }
    }
    out.push('{');
    for f in fields {
        out.push_str(&f.name.name);
        out.push(':');
        ty(&f.ty, out);
        for (flag, c) in [(f.optional, '?'), (f.secret, '*'), (f.is_id, '#')] {
            if flag {
                out.push(c);
            }
        }
        // A value over `max(N)` is not read, so the limit changes keys; `digits(N)` does not.
        if let Some((n, _)) = f.max_chars {
            out.push_str(&format!("<={n}"));
        }
        out.push(';');
    }
    out.push('}');
}
