//! `kensa diff`: what a rule change would do before it ships. A corpus of records is judged by
//! two rule sets (the old one from `--base`, the new one from `--rules` or the standard set);
//! the report counts how many decisions and scores change (a transition matrix), which rules
//! cause it (per rule: records it newly fires on, stops firing on, or fires on with another
//! severity or penalty), and shows a few example records per transition.
//!
//! Records stream in batches and are judged on all cores; only counts and the examples are kept.
//! Output is a table for people, one JSON object for CI (`--format json`), or one
//! self-contained HTML page (`--format html`, see `diff/html.rs`). Exit code: 0 when
//! no decision changed, 1 when some did, 2 when the rules or the inputs cannot be used. The
//! report never prints record fields: only ids, decisions, scores and rule ids.

mod html;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kensa::registry::Registry;
use kensa::{Decision, Severity, Verdict};
use rayon::prelude::*;
use serde::Serialize;

use super::args::{EvalLimits, count_in, parse_jobs, parse_today};
use super::exit;
use super::input::{self, Format, Pos, Raw, Unit};
use super::output::{lpad, pad};

#[derive(clap::Args, Debug)]
#[command(after_help = "Exit status: 0 when no decision changed (with --expect: when every change was \
intended), 1 when some decision changed (with --expect: some change was not intended), \
2 when the rules do not compile or the inputs cannot be read. Records that cannot be evaluated are \
reported on stderr and counted, and do not change the exit status unless none could be evaluated.")]
pub struct Args {
    /// Record files (JSONL, JSON, YAML or CSV, by extension); `-` or nothing reads standard input.
    inputs: Vec<String>,
    /// The rules as they are now (file or folder): the side the change starts from.
    #[arg(long)]
    base: PathBuf,
    /// The changed rules, file or folder (default: `./rules` when it exists, else the standard
    /// rule set compiled into kensa; `builtin` names the standard set on either side).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// The intended changes (YAML: decision transitions and rule changes with counts or ranges):
    /// the gate then fails only on what was not intended, and lists it.
    #[arg(long, value_name = "FILE")]
    expect: Option<PathBuf>,
    /// Records already enrolled, judged against by both rule sets: a registry database
    /// (`kensa registry import`), a PostgreSQL server (`postgres://…`), or a JSONL, JSON, YAML or
    /// CSV file loaded into memory.
    #[arg(long)]
    registry: Option<PathBuf>,
    /// Output: a table for people, one JSON object for CI, or one self-contained HTML page
    /// (default: table when standard output is a terminal, JSON otherwise).
    #[arg(long, value_enum)]
    format: Option<DiffFormat>,
    /// Input format when it cannot be told from the file name (standard input is JSONL by default).
    #[arg(long, value_enum)]
    input_format: Option<Format>,
    /// Example records shown per decision transition.
    #[arg(long, default_value_t = 3)]
    examples: usize,
    /// Worker threads, 1 to 1024 (default: all cores).
    #[arg(long, short = 'j', value_parser = parse_jobs, allow_negative_numbers = true)]
    jobs: Option<usize>,
    /// The date to use as today, e.g. 2026-11-27 (default: today in Japan).
    #[arg(long, value_parser = parse_today)]
    today: Option<kensa::Date>,
    #[command(flatten)]
    limits: EvalLimits,
    /// Records per batch handed to the worker threads.
    #[arg(long, default_value_t = 4096, hide = true, value_parser = count_in(1..=1_000_000))]
    batch: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Table,
    Json,
    // One self-contained HTML page.
    Html,
}

/// Bad records are reported one by one up to this many; the count is always in the summary.
const MAX_REPORTED: usize = 20;

pub fn run(args: Args) -> u8 {
    let today = args.today.unwrap_or_else(kensa::today_in_japan);
    let new_name = args.rules.as_ref().map_or_else(|| String::from("built-in"), |p| p.display().to_string());
    let base_name = args.base.display().to_string();

    // Both sides are compiled before either failure is reported, so one run shows every error.
    let expect = match args.expect.as_deref().map(super::diff_expect::load).transpose() {
        Ok(e) => e,
        Err(msg) => return super::fail(&msg),
    };
    let base = super::load_engine(&Some(args.base.clone()));
    let new = super::load_engine(&args.rules);
    let (base, new) = match (base, new) {
        (Ok(b), Ok(n)) => {
            let limits = args.limits.limits();
            (b.with_today(today).with_limits(limits), n.with_today(today).with_limits(limits))
        }
        (b, n) => {
            for (side, name, result) in [("base", &base_name, b.err()), ("new", &new_name, n.err())] {
                if let Some(e) = result {
                    super::print_report(e.report());
                    say!(
                        "error: the {side} rules (`{name}`) do not compile; fix the errors above (`kensa check` lists them)"
                    );
                }
            }
            return exit::UNUSABLE;
        }
    };

    let plan = match input::plan(&args.inputs, args.input_format) {
        Ok(p) => p,
        Err(msg) => return super::fail(&msg),
    };
    let registries = match &args.registry {
        None => {
            if base.uses_registry() || new.uses_registry() {
                say!(
                    "note: no --registry given: rules about enrolled residents (duplicates, numbers or accounts held by others, ambiguous links) are not applicable"
                );
            }
            Registries::default()
        }
        Some(path) => match Registries::open(&base, &new, path) {
            Ok(r) => r,
            Err(msg) => return super::fail(&msg),
        },
    };

    let pool = match super::pool(args.jobs) {
        Ok(p) => p,
        Err(code) => return code,
    };

    let sides = Sides { base: &base, new: &new, registries: &registries };
    let mut tally = Tally::new(&base, &new, args.examples);
    let read = std::thread::scope(|scope| {
        // One thread reads the next batch while the workers judge this one; two batches at most
        // wait, so memory does not grow with the input.
        let (send, batches) = std::sync::mpsc::sync_channel::<Vec<(Pos, Raw)>>(2);
        let limits = args.limits.limits();
        let reader = scope.spawn(move || read_batches(&plan, args.batch, &limits, send));
        for mut batch in batches {
            let done: Vec<Outcome> =
                pool.install(|| batch.par_drain(..).map(|(pos, raw)| sides.compare(pos, raw)).collect());
            for outcome in done {
                tally.add(outcome);
            }
        }
        reader.join().unwrap_or_else(|_| Err(io::Error::other("the input reader stopped")))
    });
    if let Err(e) = read {
        say!("error: {e}");
        return exit::UNUSABLE;
    }
    if tally.errors > MAX_REPORTED {
        say!("error: {} records could not be evaluated in all", tally.errors);
    }

    let mut report = tally.report(base_name, new_name);
    if let Some(expect) = &expect {
        report.unintended = Some(super::diff_expect::unintended(expect, &report.found()));
    }
    let format = args.format.unwrap_or_else(|| {
        if io::IsTerminal::is_terminal(&io::stdout()) { DiffFormat::Table } else { DiffFormat::Json }
    });
    // Ids and file names are escaped for the terminal: in the table as they are shown, in JSON
    // as JSON escapes (the same values for a reader).
    let text = match format {
        DiffFormat::Json => {
            kensa::internal::json_safe(&serde_json::to_string_pretty(&report).unwrap_or_default()).into_owned() + "\n"
        }
        DiffFormat::Table => kensa::internal::escape_text(&report.table()).into_owned(),
        DiffFormat::Html => report.html(),
    };
    let mut stdout = io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            say!("error: {e}");
            return exit::UNUSABLE;
        }
        _ => {}
    }
    say!("{}", report.summary());
    if report.records.evaluated == 0 && report.records.errors > 0 {
        say!("error: no record could be evaluated, so the rule sets were not compared");
        return exit::UNUSABLE;
    }
    if let Some(unintended) = &report.unintended {
        for line in unintended {
            say!("unintended: {line}");
        }
        return if unintended.is_empty() {
            say!("every change was intended (--expect)");
            exit::OK
        } else {
            exit::SOME_FAILED
        };
    }
    if report.decisions.changed > 0 { exit::SOME_FAILED } else { exit::OK }
}

/// Read every input and send its records on in batches of `size`.
fn read_batches(
    plan: &[(String, Format)],
    size: usize,
    limits: &kensa::Limits,
    send: std::sync::mpsc::SyncSender<Vec<(Pos, Raw)>>,
) -> io::Result<()> {
    let show_file = plan.len() > 1;
    let stopped = || io::Error::other("the workers stopped");
    let mut batch: Vec<(Pos, Raw)> = Vec::with_capacity(size);
    for (path, fmt) in plan {
        let mut sink = |pos: Pos, raw: Raw| -> io::Result<()> {
            batch.push((pos, raw));
            if batch.len() >= size {
                send.send(std::mem::replace(&mut batch, Vec::with_capacity(size))).map_err(|_| stopped())?;
            }
            Ok(())
        };
        input::read(path, *fmt, show_file, limits, &mut sink)
            .map_err(|e| io::Error::new(e.kind(), format!("`{path}`: {e}")))?;
    }
    if !batch.is_empty() {
        send.send(batch).map_err(|_| stopped())?;
    }
    Ok(())
}

// ---------------------------------------------------------------- judging one record twice

/// The registries of both sides. One in-memory registry is shared when both rule sets compute
/// the same blocking keys.
#[derive(Default)]
struct Registries {
    base: Option<Arc<dyn Registry>>,
    new: Option<Arc<dyn Registry>>,
}

impl Registries {
    /// Open a registry database read-only for each side (its keys must have been built by that
    /// side's rules), or read a file of enrolled records once and key it by each side's rules.
    fn open(base: &kensa::Engine, new: &kensa::Engine, path: &Path) -> Result<Registries, String> {
        if !base.uses_registry() && !new.uses_registry() {
            say!("note: neither rule set has a `match` block, so the registry is not consulted");
        }
        super::registry::refuse_conninfo(&path.to_string_lossy())?;
        if super::eval::is_database(path) {
            let open = |engine: &kensa::Engine, side: &str| -> Result<Arc<dyn Registry>, String> {
                super::eval::open_database_read(engine, path)
                    .map(Arc::from)
                    .map_err(|e| format!("{e} (for the {side} rules)"))
            };
            return Ok(Registries { base: Some(open(base, "base")?), new: Some(open(new, "new")?) });
        }
        let records = super::eval::read_registry_records(path, &new.limits())?;
        if base.fingerprint() == new.fingerprint() {
            let shared: Arc<dyn Registry> = Arc::new(new.memory_registry(records));
            return Ok(Registries { base: Some(Arc::clone(&shared)), new: Some(shared) });
        }
        let base_reg: Arc<dyn Registry> = Arc::new(base.memory_registry(records.iter().cloned()));
        let new_reg: Arc<dyn Registry> = Arc::new(new.memory_registry(records));
        Ok(Registries { base: Some(base_reg), new: Some(new_reg) })
    }
}

struct Sides<'a> {
    base: &'a kensa::Engine,
    new: &'a kensa::Engine,
    registries: &'a Registries,
}

/// What happened to one record.
enum Outcome {
    Compared(Compared),
    /// The record could not be read, or one side could not evaluate it.
    Failed {
        pos: Pos,
        message: String,
    },
}

struct Compared {
    pos: Pos,
    id: Option<String>,
    base: (Decision, u32),
    new: (Decision, u32),
    /// The rules that fire differently, by rule id.
    changes: Vec<(String, Change)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    /// Fires under the new rules only.
    Fires,
    /// Fires under the base rules only.
    Stops,
    /// Fires under both, with another severity or penalty.
    Differs,
}

impl Sides<'_> {
    fn compare(&self, pos: Pos, raw: Raw) -> Outcome {
        let value = match raw.into_value() {
            Ok(v) => v,
            Err(message) => return Outcome::Failed { pos, message },
        };
        let judge = |engine: &kensa::Engine, registry: &Option<Arc<dyn Registry>>| match registry {
            Some(r) => engine.evaluate_in(&value, r.as_ref()),
            None => engine.evaluate(&value),
        };
        let (base, new) = (judge(self.base, &self.registries.base), judge(self.new, &self.registries.new));
        let (base, new) = match (base, new) {
            (Ok(b), Ok(n)) => (b, n),
            (Err(b), Err(n)) if b == n => return Outcome::Failed { pos, message: b.to_string() },
            (Err(b), Err(n)) => return Outcome::Failed { pos, message: format!("base rules: {b}; new rules: {n}") },
            (Err(b), Ok(_)) => return Outcome::Failed { pos, message: format!("base rules: {b}") },
            (Ok(_), Err(n)) => return Outcome::Failed { pos, message: format!("new rules: {n}") },
        };
        let changes = rule_changes(&base, &new);
        Outcome::Compared(Compared {
            pos,
            id: new.id.or(base.id),
            base: (base.decision, base.score),
            new: (new.decision, new.score),
            changes,
        })
    }
}

/// The rules a verdict's findings name, each once (sorted by id), with the highest severity
/// and the summed penalty of its findings.
fn fired(v: &Verdict) -> Vec<(&str, Severity, u32)> {
    let mut out: Vec<(&str, Severity, u32)> = Vec::with_capacity(v.findings.len());
    for f in &v.findings {
        match out.iter_mut().find(|(rule, ..)| *rule == f.rule) {
            Some(seen) => {
                seen.1 = seen.1.max(f.severity);
                seen.2 = seen.2.saturating_add(f.penalty);
            }
            None => out.push((&f.rule, f.severity, f.penalty)),
        }
    }
    out.sort_unstable_by(|a, b| a.0.cmp(b.0));
    out
}

/// The rules that fire differently under the new rules than under the base rules, by id.
fn rule_changes(base: &Verdict, new: &Verdict) -> Vec<(String, Change)> {
    let (old, now) = (fired(base), fired(new));
    let mut out = Vec::new();
    let (mut i, mut j) = (old.iter().peekable(), now.iter().peekable());
    loop {
        let step = match (i.peek(), j.peek()) {
            (None, None) => break,
            (Some(a), Some(b)) => a.0.cmp(b.0),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
        };
        match step {
            std::cmp::Ordering::Less => {
                if let Some(a) = i.next() {
                    out.push((a.0.to_string(), Change::Stops));
                }
            }
            std::cmp::Ordering::Greater => {
                if let Some(b) = j.next() {
                    out.push((b.0.to_string(), Change::Fires));
                }
            }
            std::cmp::Ordering::Equal => {
                if let (Some(a), Some(b)) = (i.next(), j.next())
                    && (a.1, a.2) != (b.1, b.2)
                {
                    out.push((a.0.to_string(), Change::Differs));
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------- counting

/// One count (or anything else) per decision, serialized as `{"accept","review","reject"}`.
#[derive(Clone, Debug, Default, Serialize)]
struct PerDecision<T> {
    accept: T,
    review: T,
    reject: T,
}

impl<T> PerDecision<T> {
    fn get(&self, d: Decision) -> &T {
        match d {
            Decision::Accept => &self.accept,
            Decision::Review => &self.review,
            Decision::Reject => &self.reject,
        }
    }

    fn get_mut(&mut self, d: Decision) -> &mut T {
        match d {
            Decision::Accept => &mut self.accept,
            Decision::Review => &mut self.review,
            Decision::Reject => &mut self.reject,
        }
    }
}

const DECISIONS: [Decision; 3] = [Decision::Accept, Decision::Review, Decision::Reject];

#[derive(Default)]
struct RuleTally {
    fires: usize,
    stops: usize,
    differs: usize,
    decisions_changed: usize,
}

/// Counts over the records seen so far, and the first examples of each transition.
struct Tally {
    base_rules: Vec<String>,
    new_rules: Vec<String>,
    max_examples: usize,
    errors: usize,
    evaluated: usize,
    matrix: PerDecision<PerDecision<usize>>,
    scores_raised: usize,
    scores_lowered: usize,
    score_delta: i64,
    rules: HashMap<String, RuleTally>,
    without_rule_change: usize,
    examples: PerDecision<PerDecision<Vec<Example>>>,
}

impl Tally {
    fn new(base: &kensa::Engine, new: &kensa::Engine, max_examples: usize) -> Tally {
        Tally {
            base_rules: base.rule_ids().map(String::from).collect(),
            new_rules: new.rule_ids().map(String::from).collect(),
            max_examples,
            errors: 0,
            evaluated: 0,
            matrix: PerDecision::default(),
            scores_raised: 0,
            scores_lowered: 0,
            score_delta: 0,
            rules: HashMap::new(),
            without_rule_change: 0,
            examples: PerDecision::default(),
        }
    }

    /// Count one record; records are added in input order, so the examples are the first ones.
    fn add(&mut self, outcome: Outcome) {
        let c = match outcome {
            Outcome::Compared(c) => c,
            Outcome::Failed { pos, message } => {
                self.errors += 1;
                if self.errors <= MAX_REPORTED {
                    say!("error: {}: {message}", position(&pos));
                } else if self.errors == MAX_REPORTED + 1 {
                    say!("error: … more records could not be evaluated (the count follows)");
                }
                return;
            }
        };
        self.evaluated += 1;
        let ((b, b_score), (n, n_score)) = (c.base, c.new);
        *self.matrix.get_mut(b).get_mut(n) += 1;
        match n_score.cmp(&b_score) {
            std::cmp::Ordering::Greater => self.scores_raised += 1,
            std::cmp::Ordering::Less => self.scores_lowered += 1,
            std::cmp::Ordering::Equal => {}
        }
        self.score_delta += i64::from(n_score) - i64::from(b_score);
        let changed = b != n;
        for (rule, change) in &c.changes {
            let t = match self.rules.get_mut(rule.as_str()) {
                Some(t) => t,
                None => self.rules.entry(rule.clone()).or_default(),
            };
            match change {
                Change::Fires => t.fires += 1,
                Change::Stops => t.stops += 1,
                Change::Differs => t.differs += 1,
            }
            if changed {
                t.decisions_changed += 1;
            }
        }
        if !changed {
            return;
        }
        if c.changes.is_empty() {
            self.without_rule_change += 1;
        }
        let examples = self.examples.get_mut(b).get_mut(n);
        if examples.len() < self.max_examples {
            let names = |which: Change| -> Vec<String> {
                c.changes.iter().filter(|(_, ch)| *ch == which).map(|(r, _)| r.clone()).collect()
            };
            examples.push(Example {
                file: c.pos.file.clone(),
                line: (c.pos.unit == Unit::Line).then_some(c.pos.n),
                record: (c.pos.unit == Unit::Record).then_some(c.pos.n),
                id: c.id,
                base: Judged { decision: b.as_str(), score: b_score },
                new: Judged { decision: n.as_str(), score: n_score },
                newly_fires: names(Change::Fires),
                stops_firing: names(Change::Stops),
                fires_differently: names(Change::Differs),
            });
        }
    }

    fn report(self, base: String, new: String) -> Report {
        let changed: usize = DECISIONS
            .iter()
            .flat_map(|&b| DECISIONS.iter().map(move |&n| (b, n)))
            .filter(|(b, n)| b != n)
            .map(|(b, n)| *self.matrix.get(b).get(n))
            .sum();
        let per_side = |pick: &dyn Fn(Decision, Decision) -> Decision| {
            let mut out = PerDecision::<usize>::default();
            for &b in &DECISIONS {
                for &n in &DECISIONS {
                    *out.get_mut(pick(b, n)) += *self.matrix.get(b).get(n);
                }
            }
            out
        };
        let base_counts = per_side(&|b, _| b);
        let new_counts = per_side(&|_, n| n);

        let status = |rule: &str| {
            let (in_base, in_new) =
                (self.base_rules.iter().any(|r| r == rule), self.new_rules.iter().any(|r| r == rule));
            match (in_base, in_new) {
                (true, true) => "both",
                (false, true) => "added",
                (true, false) => "removed",
                (false, false) => "schema",
            }
        };
        let mut rules: Vec<RuleRow> = self
            .rules
            .iter()
            .map(|(rule, t)| RuleRow {
                rule: rule.clone(),
                status: status(rule),
                newly_fires: t.fires,
                stops_firing: t.stops,
                fires_differently: t.differs,
                records: t.fires + t.stops + t.differs,
                decisions_changed: t.decisions_changed,
            })
            .collect();
        // Rules added or removed are listed even when they change nothing.
        let silent = self
            .new_rules
            .iter()
            .filter(|r| !self.base_rules.contains(r))
            .chain(self.base_rules.iter().filter(|r| !self.new_rules.contains(r)))
            .filter(|r| !self.rules.contains_key(r.as_str()));
        for r in silent {
            rules.push(RuleRow {
                rule: r.clone(),
                status: status(r),
                newly_fires: 0,
                stops_firing: 0,
                fires_differently: 0,
                records: 0,
                decisions_changed: 0,
            });
        }
        rules.sort_by(|a, b| {
            (b.records, b.decisions_changed).cmp(&(a.records, a.decisions_changed)).then_with(|| a.rule.cmp(&b.rule))
        });

        let mut changes = Vec::new();
        let mut examples = self.examples;
        for &b in &DECISIONS {
            for &n in &DECISIONS {
                let count = *self.matrix.get(b).get(n);
                if b != n && count > 0 {
                    changes.push(Transition {
                        from: b.as_str(),
                        to: n.as_str(),
                        records: count,
                        examples: std::mem::take(examples.get_mut(b).get_mut(n)),
                    });
                }
            }
        }
        let mean_change = if self.evaluated == 0 { 0.0 } else { self.score_delta as f64 / self.evaluated as f64 };
        Report {
            base,
            new,
            records: Records { input: self.evaluated + self.errors, evaluated: self.evaluated, errors: self.errors },
            decisions: Decisions { changed, base: base_counts, new: new_counts },
            transitions: self.matrix,
            scores: Scores {
                changed: self.scores_raised + self.scores_lowered,
                raised: self.scores_raised,
                lowered: self.scores_lowered,
                mean_change: (mean_change * 1000.0).round() / 1000.0,
            },
            rules,
            without_rule_change: self.without_rule_change,
            changes,
            unintended: None,
        }
    }
}

// ---------------------------------------------------------------- the report

/// The report, as `--format json` writes it (keys in this order, always present).
#[derive(Serialize)]
struct Report {
    /// The base rules as named on the command line.
    base: String,
    /// The new rules as named on the command line, or `built-in`.
    new: String,
    records: Records,
    decisions: Decisions,
    /// Rows: the base decision; columns: the new one.
    transitions: PerDecision<PerDecision<usize>>,
    scores: Scores,
    /// Every rule that fires differently on some record, and every rule added or removed;
    /// most records affected first.
    rules: Vec<RuleRow>,
    /// Decisions that changed although no rule fired differently (the `decide` block changed).
    without_rule_change: usize,
    /// Each decision transition that happened, with its first example records.
    changes: Vec<Transition>,
    /// With `--expect`: the changes that were not intended (empty: all as expected).
    #[serde(skip_serializing_if = "Option::is_none")]
    unintended: Option<Vec<String>>,
}

impl Report {
    /// What the expectations are checked against.
    fn found(&self) -> super::diff_expect::Found<'_> {
        let mut transitions = Vec::new();
        for &b in &DECISIONS {
            for &n in &DECISIONS {
                if b != n {
                    transitions.push((b.as_str(), n.as_str(), *self.transitions.get(b).get(n)));
                }
            }
        }
        let rules =
            self.rules.iter().map(|r| (r.rule.as_str(), r.newly_fires, r.stops_firing, r.fires_differently)).collect();
        super::diff_expect::Found { transitions, rules }
    }
}

#[derive(Serialize)]
struct Records {
    /// Records read: evaluated + errors.
    #[serde(rename = "in")]
    input: usize,
    evaluated: usize,
    /// Records that could not be read, or that a rule set could not evaluate.
    errors: usize,
}

#[derive(Serialize)]
struct Decisions {
    changed: usize,
    base: PerDecision<usize>,
    new: PerDecision<usize>,
}

#[derive(Serialize)]
struct Scores {
    changed: usize,
    raised: usize,
    lowered: usize,
    /// The mean of (new score − base score) over the evaluated records, to 3 decimals.
    mean_change: f64,
}

#[derive(Serialize)]
struct RuleRow {
    rule: String,
    /// `both`, `added` (new rules only), `removed` (base rules only), or `schema` (findings
    /// made while reading the record, not by a rule).
    status: &'static str,
    newly_fires: usize,
    stops_firing: usize,
    /// Fires under both with another severity or penalty.
    fires_differently: usize,
    /// Records affected: the sum of the three counts before.
    records: usize,
    /// Of those, records whose decision changed.
    decisions_changed: usize,
}

#[derive(Serialize)]
struct Transition {
    from: &'static str,
    to: &'static str,
    records: usize,
    examples: Vec<Example>,
}

#[derive(Serialize)]
struct Example {
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<usize>,
    id: Option<String>,
    base: Judged,
    new: Judged,
    newly_fires: Vec<String>,
    stops_firing: Vec<String>,
    fires_differently: Vec<String>,
}

#[derive(Serialize)]
struct Judged {
    decision: &'static str,
    score: u32,
}

/// `line 12`, `record 3`, or `` `a.jsonl` line 12 `` when several inputs are read.
fn position(pos: &Pos) -> String {
    let unit = if pos.unit == Unit::Line { "line" } else { "record" };
    match &pos.file {
        Some(f) => format!("`{f}` {unit} {}", pos.n),
        None => format!("{unit} {}", pos.n),
    }
}

impl Example {
    fn position(&self) -> String {
        let (unit, n) = match (self.line, self.record) {
            (Some(n), _) => ("line", n),
            (None, Some(n)) => ("record", n),
            (None, None) => ("record", 0),
        };
        match &self.file {
            Some(f) => format!("{}:{n}", kensa::internal::escape_controls(f)),
            None if unit == "line" => n.to_string(),
            None => format!("#{n}"),
        }
    }
}

impl Report {
    /// The closing line on stderr.
    fn summary(&self) -> String {
        let r = &self.records;
        format!(
            "{} records: {} evaluated, {} could not be evaluated; {} decisions changed",
            r.input, r.evaluated, r.errors, self.decisions.changed
        )
    }

    /// The report for people. Widths are display widths (Japanese ids count double).
    fn table(&self) -> String {
        let mut out = String::new();
        let r = &self.records;
        let _ = writeln!(out, "base rules  {}", kensa::internal::escape_controls(&self.base));
        let _ = writeln!(out, "new rules   {}", kensa::internal::escape_controls(&self.new));
        let _ = writeln!(out, "records     {} in = {} evaluated + {} errors", r.input, r.evaluated, r.errors);
        let moves: Vec<String> = self.changes.iter().map(|t| format!("{} → {} {}", t.from, t.to, t.records)).collect();
        let moves = if moves.is_empty() { String::new() } else { format!(" ({})", moves.join(", ")) };
        let _ = writeln!(out, "decisions   {} of {} changed{moves}", self.decisions.changed, r.evaluated);
        let s = &self.scores;
        let _ = writeln!(
            out,
            "scores      {} changed ({} raised, {} lowered), mean change {:+.2}",
            s.changed, s.raised, s.lowered, s.mean_change
        );

        let _ = writeln!(out, "\ntransitions (rows: base decision, columns: new decision)");
        let _ = writeln!(out, "  {}  accept  review  reject   total", pad("", 6));
        for &b in &DECISIONS {
            let row = self.transitions.get(b);
            let cells: Vec<String> = DECISIONS.iter().map(|&n| lpad(&row.get(n).to_string(), 6)).collect();
            let _ = writeln!(
                out,
                "  {}  {}  {}",
                pad(b.as_str(), 6),
                cells.join("  "),
                lpad(&self.decisions.base.get(b).to_string(), 6)
            );
        }
        let cells: Vec<String> = DECISIONS.iter().map(|&n| lpad(&self.decisions.new.get(n).to_string(), 6)).collect();
        let _ = writeln!(out, "  {}  {}  {}", pad("total", 6), cells.join("  "), lpad(&r.evaluated.to_string(), 6));

        out.push('\n');
        if self.rules.is_empty() {
            let _ = writeln!(out, "rules: none fires differently, none added or removed");
        } else {
            let heads = ["RULE", "STATUS", "NEWLY FIRES", "STOPS FIRING", "FIRES DIFFERENTLY", "DECISIONS CHANGED"];
            let w_rule = self.rules.iter().map(|r| unicode_width::UnicodeWidthStr::width(r.rule.as_str())).max();
            let w_rule = w_rule.unwrap_or(0).max(4);
            let [h_rule, h_status, rest @ ..] = heads;
            let _ = writeln!(out, "rules that fire differently, most records first");
            let _ = writeln!(out, "  {}  {}  {}", pad(h_rule, w_rule), pad(h_status, 7), rest.join("  "));
            for row in &self.rules {
                let nums = [row.newly_fires, row.stops_firing, row.fires_differently, row.decisions_changed];
                let cells: Vec<String> = rest.iter().zip(nums).map(|(h, n)| lpad(&n.to_string(), h.len())).collect();
                let _ = writeln!(out, "  {}  {}  {}", pad(&row.rule, w_rule), pad(row.status, 7), cells.join("  "));
            }
        }
        if self.without_rule_change > 0 {
            let _ = writeln!(
                out,
                "  {} decisions changed with no rule firing differently (the decide block)",
                self.without_rule_change
            );
        }

        if !self.changes.is_empty() {
            let _ = writeln!(
                out,
                "\nexamples (rules: + newly fires, - stops firing, ~ fires with another severity or penalty)"
            );
        }
        for t in &self.changes {
            let _ = writeln!(out, "{} → {}: {} records", t.from, t.to, t.records);
            if t.examples.is_empty() {
                continue;
            }
            let w_pos = t.examples.iter().map(|e| width(&e.position())).max().unwrap_or(0).max(4);
            let ids: Vec<String> = t
                .examples
                .iter()
                .map(|e| kensa::internal::escape_controls(e.id.as_deref().unwrap_or("")).into_owned())
                .collect();
            let w_id = ids.iter().map(|id| width(id)).max().unwrap_or(0).max(2);
            let _ = writeln!(out, "  {}  {}  BASE        NEW         RULES", pad("LINE", w_pos), pad("ID", w_id));
            for (e, id) in t.examples.iter().zip(ids) {
                let judged = |j: &Judged| format!("{} {}", pad(j.decision, 6), lpad(&j.score.to_string(), 3));
                let marked = e
                    .newly_fires
                    .iter()
                    .map(|r| format!("+{r}"))
                    .chain(e.stops_firing.iter().map(|r| format!("-{r}")))
                    .chain(e.fires_differently.iter().map(|r| format!("~{r}")));
                let rules: Vec<String> = marked.collect();
                let rules = if rules.is_empty() { String::from("(no rule changed)") } else { rules.join(" ") };
                let _ = writeln!(
                    out,
                    "  {}  {}  {}  {}  {}",
                    pad(&e.position(), w_pos),
                    pad(&id, w_id),
                    judged(&e.base),
                    judged(&e.new),
                    rules
                );
            }
        }
        out
    }
}

fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn verdict(findings: &[(&str, Severity, u32)]) -> Verdict {
        Verdict {
            id: None,
            decision: Decision::Accept,
            score: 100,
            findings: findings
                .iter()
                .map(|&(rule, severity, penalty)| kensa::Finding {
                    rule: rule.to_string(),
                    severity,
                    penalty,
                    message: String::new(),
                    params: Vec::new(),
                    fields: Vec::new(),
                    evidence: Vec::new(),
                    related: Vec::new(),
                })
                .collect(),
            trace: None,
        }
    }

    #[test]
    fn rule_changes_name_what_fires_stops_and_differs() {
        let base = verdict(&[("b", Severity::Review, 40), ("a", Severity::Review, 30), ("c", Severity::Warn, 10)]);
        let new = verdict(&[("c", Severity::Warn, 10), ("a", Severity::Reject, 30), ("d", Severity::Review, 30)]);
        assert_eq!(
            rule_changes(&base, &new),
            vec![
                (String::from("a"), Change::Differs),
                (String::from("b"), Change::Stops),
                (String::from("d"), Change::Fires)
            ]
        );
    }

    #[test]
    fn findings_of_one_rule_are_summed() {
        let base = verdict(&[("schema.required", Severity::Review, 30)]);
        let new = verdict(&[("schema.required", Severity::Review, 30), ("schema.required", Severity::Review, 30)]);
        assert_eq!(rule_changes(&base, &new), vec![(String::from("schema.required"), Change::Differs)]);
        assert!(rule_changes(&new, &new).is_empty());
    }
}
