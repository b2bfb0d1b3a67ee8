//! `kensa test [PATH...]`: run rule regression suites (YAML, see `suite.rs` for the format).
//!
//! Every suite under the paths (default `tests/suites` and `rules`, searched for `.yaml` and
//! `.yml` files) is read, its rules compiled once (shared between suites naming the same
//! rules), its registry built once, and its cases evaluated on all cores with the rules'
//! trace, which also feeds coverage. Failing cases are printed with what was expected, what
//! came out (decision, score, findings with their evidence); the last line is
//! `N passed, M failed, K skipped`. Exit code 1 when a case failed, a suite could not be read
//! or coverage is below `--min-coverage`.

mod html;
mod report;
mod scope;
mod store;
mod suite;

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kensa::internal::{escape_text, json_safe};
use rayon::prelude::*;

use super::exit;
use suite::{Case, RegistrySpec, Suite};

#[derive(clap::Args, Debug)]
#[command(after_help = SUITE_HELP)]
pub struct Args {
    /// Suite files or folders (default: `tests/suites` and `rules`).
    paths: Vec<PathBuf>,
    /// Run only the cases whose name (or suite file name) contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// Output: `text` for people, `json` for CI systems.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also write the results as JUnit XML to this file.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Also write the results as one self-contained HTML page to this file: the cases, the
    /// failures with their file:line, and per-rule coverage.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Report, per rule, how many cases fired it and how many passed through it.
    #[arg(long)]
    coverage: bool,
    /// Fail when less than this percentage of (rule, way) pairs is covered: each rule must
    /// fire in some case and pass in another. Implies --coverage.
    #[arg(long, value_name = "PERCENT", value_parser = super::args::parse_percent, allow_negative_numbers = true)]
    min_coverage: Option<f64>,
    /// Measure coverage (and --min-coverage) over these rules only: those whose id starts
    /// with PREFIX (`local.`), or those declared in the rule file FILE. Implies --coverage.
    #[arg(long, value_name = "PREFIX|FILE")]
    coverage_of: Option<String>,
    /// Worker threads, 1 to 1024 (default: all cores).
    #[arg(long, short = 'j', value_parser = super::args::parse_jobs, allow_negative_numbers = true)]
    jobs: Option<usize>,
    /// Put each suite's enrolled records into this kind of registry database instead of memory
    /// and look candidates up there: `sqlite` (a temporary file) or a PostgreSQL server
    /// (`postgres://…`; each suite gets a temporary schema, dropped afterwards). The verdicts
    /// must not change: this checks that a store gives the rules the same candidates.
    #[arg(long, value_name = "sqlite|postgres://…")]
    registry_store: Option<String>,
    #[command(flatten)]
    limits: super::args::EvalLimits,
}

const SUITE_HELP: &str = "\
Suite format (YAML):
  rules: ../../rules        rule file or folder, relative to the suite (default: the standard set)
  today: 2026-11-27         the date the rules see as today
  registry: registry.jsonl  enrolled records: a file (or database), or a list of records
  base: {...}               the record cases start from (optional)
  cases:
    - name: a valid resident is accepted
      record: {...}         or record_file: path (JSON or YAML); or nothing: the base
    - name: no family name
      with: {family_name: null}   the base with these changes (null removes a field)
      expect: {fires: [schema.required]}
    - name: a full case
      record: {...}
      skip: reason          (optional: do not run, say why)
      expect:
        decision: accept | review | reject
        score: 100          or {min: 60, max: 90}
        fires: [rule.id]    not_fires: [rule.id]
        findings: [{rule: rule.id, severity: review, fields: [a], related: [R1]}]
        related: [R1]       ids some finding names as related
    - name: broken rules are refused
      rules: broken.kensa   this case's own rules
      expect: {diagnostics: [kensa::check::unknown_field]}";

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

/// What became of one case.
#[derive(Debug)]
pub enum Status {
    Passed,
    /// What did not hold, one line each; and what the record got.
    Failed {
        problems: Vec<String>,
        got: Option<Got>,
    },
    Skipped(String),
}

/// What a record got: for the failure report.
#[derive(Debug)]
pub struct Got {
    pub decision: &'static str,
    pub score: u32,
    pub findings: Vec<kensa::Finding>,
}

pub struct CaseResult {
    pub name: String,
    /// The line of the case's `name:` in the suite file (0: not found).
    pub line: usize,
    pub status: Status,
    pub seconds: f64,
}

pub struct SuiteResult {
    pub path: String,
    /// The rule set's label (its path, or "the standard rule set").
    pub rules: String,
    pub cases: Vec<CaseResult>,
    /// The suite could not be run at all (unreadable, rules do not compile, registry
    /// unreadable).
    pub error: Option<String>,
    /// The suite file itself could not be read: its error was printed in full when it was
    /// read, so the text report leaves it out.
    pub unreadable: bool,
}

impl SuiteResult {
    /// `file:line` of a case, for failure messages (the file alone when the line is unknown).
    pub fn place(&self, case: &CaseResult) -> String {
        if case.line == 0 { self.path.clone() } else { format!("{}:{}", self.path, case.line) }
    }
}

/// One compiled rule set and the outcomes its rules had in the cases.
pub struct RuleSet {
    pub label: String,
    pub engine: Arc<kensa::Engine>,
    pub rule_ids: Vec<String>,
}

/// Per rule: cases that fired it, cases that passed through it.
pub type Coverage = BTreeMap<String, BTreeMap<String, (usize, usize)>>;

pub fn run(args: Args) -> u8 {
    let start = std::time::Instant::now();
    let color = std::io::stderr().is_terminal();
    let pool = match super::pool(args.jobs) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let files = match discover(&args.paths) {
        Ok(f) => f,
        Err(msg) => return super::fail(&msg),
    };
    if files.is_empty() {
        say!("error: no suites found (suites are `.yaml` files; looked in {})", looked_in(&args.paths));
        return exit::UNUSABLE;
    }

    let loaded: Vec<Result<Suite, SuiteResult>> = files.iter().map(|f| load(f, color)).collect();
    let options = RunOptions {
        filter: args.filter.as_deref(),
        store: args.registry_store.as_deref(),
        limits: args.limits.limits(),
    };
    let mut sets: HashMap<PathBuf, Result<Arc<RuleSet>, String>> = HashMap::new();
    let scope = match scope::Scope::parse(args.coverage_of.as_deref()).and_then(|scope| match scope {
        scope::Scope::All => Ok(scope),
        _ => scope.check_matches(&rules_used(&loaded, &mut sets)).map(|()| scope),
    }) {
        Ok(scope) => scope,
        Err(msg) => {
            say!("error: {msg}");
            return exit::UNUSABLE;
        }
    };
    let mut coverage: Coverage = BTreeMap::new();
    let results: Vec<SuiteResult> = loaded
        .into_iter()
        .map(|l| match l {
            Ok(s) => pool.install(|| run_suite(&s, &options, &mut sets, &mut coverage)),
            Err(unreadable) => unreadable,
        })
        .collect();
    let coverage = scope.restrict(&coverage);
    let measured = scope.describe();

    let summary = report::Summary::of(&results);
    let want_coverage = args.coverage || args.min_coverage.is_some() || args.coverage_of.is_some();
    let covered = report::covered(&coverage);
    match args.format {
        Format::Text => {
            // Case names, messages and evidence come from suites and records: escaped for the terminal.
            print!("{}", escape_text(&report::text(&results)));
            if want_coverage {
                print!("{}", escape_text(&report::coverage_text(&coverage, measured.as_deref())));
            }
            println!("{}", summary.line());
        }
        Format::Json => {
            let v = report::json(&results, &summary, want_coverage.then_some((&coverage, measured.as_deref())));
            println!("{}", json_safe(&serde_json::to_string_pretty(&v).unwrap_or_default()));
        }
    }
    say!("test: {} suites in {:.2}s", summary.suites, start.elapsed().as_secs_f64());
    if let Some(path) = &args.junit
        && let Err(e) = report::write_junit(path, &results)
    {
        say!("error: cannot write `{}`: {e}", path.display());
        return exit::UNUSABLE;
    }
    if let Some(path) = &args.html
        && let Err(e) = super::report::write(Some(path), &html::html(&results, &summary, &coverage))
    {
        say!("error: cannot write `{}`: {e}", path.display());
        return exit::UNUSABLE;
    }
    // A suite that cannot be read or run is unusable input (2), as for every command; the
    // other suites are still run and reported. Failed cases are findings (1).
    let mut code = if summary.broken > 0 {
        exit::UNUSABLE
    } else if summary.failed > 0 {
        exit::SOME_FAILED
    } else {
        exit::OK
    };
    if let Some(min) = args.min_coverage
        && covered.percent() + 1e-9 < min
    {
        let missing = report::uncovered_ways(&coverage);
        let more = if missing.len() > 10 { format!(" and {} more", missing.len() - 10) } else { String::new() };
        let of = measured.as_deref().map(|m| format!(" ({m})")).unwrap_or_default();
        say!(
            "error: coverage {:.1}%{of} is below --min-coverage {min}%: {}{more} (see --coverage)",
            covered.percent(),
            missing.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
        );
        code = code.max(exit::SOME_FAILED);
    }
    code
}

/// Read one suite file; a suite that cannot be read is printed on stderr at once and becomes
/// a result with its error (for the summary and the JUnit report).
fn load(path: &Path, color: bool) -> Result<Suite, SuiteResult> {
    suite::load(path, color).map_err(|e| {
        eprint!("{}", e.rendered);
        SuiteResult {
            path: path.display().to_string(),
            rules: String::new(),
            cases: Vec::new(),
            error: Some(e.summary),
            unreadable: true,
        }
    })
}

/// The rule sets the suites evaluate records with (compiled, and kept for the run), as
/// (label, rule ids); sets that do not compile are left out (the suites report them).
fn rules_used(
    loaded: &[Result<Suite, SuiteResult>],
    sets: &mut HashMap<PathBuf, Result<Arc<RuleSet>, String>>,
) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for s in loaded.iter().flatten() {
        if s.file.cases.iter().all(|c| c.rules.is_some()) {
            continue;
        }
        if let Ok(set) = rule_set(s.file.rules.as_deref().map(|r| s.resolve(r)), sets)
            && !out.iter().any(|(label, _)| *label == set.label)
        {
            out.push((set.label.clone(), set.rule_ids.clone()));
        }
    }
    out
}

fn looked_in(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        String::from("`tests/suites` and `rules`")
    } else {
        paths.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", ")
    }
}

/// The suite files under `paths` (files as given; folders searched recursively), sorted.
fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let defaults = [PathBuf::from("tests/suites"), PathBuf::from("rules")];
    let (paths, must_exist) = if paths.is_empty() { (&defaults[..], false) } else { (paths, true) };
    let mut out = Vec::new();
    for p in paths {
        if p.is_file() {
            out.push(p.clone());
        } else if p.is_dir() {
            walk(p, &mut out).map_err(|e| format!("cannot read `{}`: {e}", p.display()))?;
        } else if must_exist {
            return Err(format!("cannot open `{}`: no such file or folder", p.display()));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            out.push(p);
        }
    }
    Ok(())
}

/// Compile (or reuse) the rule set at `path` (`None`: the standard one).
fn rule_set(
    path: Option<PathBuf>,
    sets: &mut HashMap<PathBuf, Result<Arc<RuleSet>, String>>,
) -> Result<Arc<RuleSet>, String> {
    let key = match &path {
        Some(p) => std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()),
        None => PathBuf::new(),
    };
    if let Some(r) = sets.get(&key) {
        return r.clone();
    }
    let built = match &path {
        Some(p) => kensa::Engine::from_path(p).map(|e| (e, p.display().to_string())),
        None => kensa::Engine::builtin().map(|e| (e, String::from("the standard rule set"))),
    };
    let r = match built {
        Ok((engine, label)) => {
            let rule_ids = engine.rule_ids().map(str::to_string).collect();
            Ok(Arc::new(RuleSet { label, engine: Arc::new(engine), rule_ids }))
        }
        Err(e) => Err(format!(
            "the rules `{}` do not compile:\n{}",
            path.as_deref().map_or_else(|| String::from("(standard)"), |p| p.display().to_string()),
            e.render()
        )),
    };
    sets.insert(key, r.clone());
    r
}

fn parse_date(s: &str) -> Result<kensa::Date, String> {
    super::args::parse_today(s)
}

/// How the suites are run: the options of `kensa test` that apply to every suite.
struct RunOptions<'a> {
    /// Run only the cases whose name (or suite file name) contains this.
    filter: Option<&'a str>,
    /// The kind of registry database to put each suite's records into (`--registry-store`).
    store: Option<&'a str>,
    limits: kensa::Limits,
}

fn run_suite(
    s: &Suite,
    options: &RunOptions<'_>,
    sets: &mut HashMap<PathBuf, Result<Arc<RuleSet>, String>>,
    coverage: &mut Coverage,
) -> SuiteResult {
    let path = s.path.display().to_string();
    let chosen: Vec<&Case> =
        s.file.cases.iter().filter(|c| options.filter.is_none_or(|f| c.name.contains(f) || path.contains(f))).collect();
    let mut result =
        SuiteResult { path, rules: String::from("own rules"), cases: Vec::new(), error: None, unreadable: false };
    // Cases with their own rules (rule files that must fail to compile) need no suite rules.
    let ctx = if chosen.iter().any(|c| c.skip.is_none() && c.rules.is_none()) {
        match context(s, options, sets) {
            Ok(ctx) => Some(ctx),
            Err(msg) => {
                result.error = Some(msg);
                return result;
            }
        }
    } else {
        None
    };
    let judged: Vec<(CaseResult, Vec<(String, kensa::RuleOutcome)>)> = chosen
        .par_iter()
        .map(|c| {
            let t = std::time::Instant::now();
            let (status, trace) = match (&c.skip, &c.rules, &ctx) {
                (Some(reason), _, _) => (Status::Skipped(reason.clone()), Vec::new()),
                (None, Some(rules), _) => (judge_compile(c, &s.resolve(rules)), Vec::new()),
                (None, None, Some(ctx)) => judge(s, c, ctx),
                (None, None, None) => (Status::Skipped(String::from("no rules")), Vec::new()),
            };
            let seconds = t.elapsed().as_secs_f64();
            (CaseResult { name: c.name.clone(), line: c.line, status, seconds }, trace)
        })
        .collect();
    if let Some(ctx) = &ctx {
        result.rules = ctx.set.label.clone();
        let per_rule = coverage.entry(ctx.set.label.clone()).or_default();
        for id in &ctx.set.rule_ids {
            per_rule.entry(id.clone()).or_insert((0, 0));
        }
        for (rule, outcome) in judged.iter().flat_map(|(_, trace)| trace) {
            let slot = per_rule.entry(rule.clone()).or_insert((0, 0));
            match outcome {
                kensa::RuleOutcome::Fired => slot.0 += 1,
                kensa::RuleOutcome::Passed => slot.1 += 1,
                _ => {}
            }
        }
    }
    result.cases = judged.into_iter().map(|(c, _)| c).collect();
    result
}

/// What a suite's cases are evaluated with.
struct Context {
    set: Arc<RuleSet>,
    engine: kensa::Engine,
    registry: Option<Box<dyn kensa::registry::Registry>>,
    /// Removes the suite's temporary registry database (`--registry-store`) when dropped.
    _store: Option<store::Temporary>,
}

/// The suite's rules (compiled once per rule set), `today` and registry.
fn context(
    s: &Suite,
    options: &RunOptions<'_>,
    sets: &mut HashMap<PathBuf, Result<Arc<RuleSet>, String>>,
) -> Result<Context, String> {
    let set = rule_set(s.file.rules.as_deref().map(|r| s.resolve(r)), sets)?;
    let today = s.file.today.as_deref().map(parse_date).transpose().map_err(|msg| format!("today: {msg}"))?;
    let engine = kensa::Engine::clone(&set.engine)
        .with_today(today.unwrap_or_else(kensa::today_in_japan))
        .with_limits(options.limits);
    let store = options.store;
    let records = match (&s.file.registry, store) {
        (None, _) => None,
        (Some(RegistrySpec::Records(records)), _) => Some(records.clone()),
        (Some(RegistrySpec::File(f)), Some(_)) if !super::eval::is_database(&s.resolve(f)) => {
            let records = super::eval::read_registry_records(&s.resolve(f), &options.limits);
            Some(records.map_err(|msg| format!("registry: {msg}"))?)
        }
        (Some(RegistrySpec::File(f)), _) => {
            let registry =
                Some(super::eval::load_registry(&engine, &s.resolve(f)).map_err(|msg| format!("registry: {msg}"))?);
            return Ok(Context { set, engine, registry, _store: None });
        }
    };
    let (registry, temporary) = match (records, store) {
        (None, _) => (None, None),
        (Some(records), None) => {
            (Some(Box::new(engine.memory_registry(records)) as Box<dyn kensa::registry::Registry>), None)
        }
        (Some(records), Some(kind)) => {
            let (registry, temporary) =
                store::load(kind, &engine, records).map_err(|msg| format!("registry: {msg}"))?;
            (Some(registry), Some(temporary))
        }
    };
    Ok(Context { set, engine, registry, _store: temporary })
}

/// A case whose rules must fail to compile with exactly the expected error codes.
fn judge_compile(c: &Case, path: &Path) -> Status {
    let rules = c.rules.as_deref().unwrap_or_default();
    let report = kensa::check_path(path);
    let mut got: Vec<String> =
        report.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.code.as_str().to_string()).collect();
    got.sort();
    got.dedup();
    let mut want = c.expect.diagnostics.clone();
    want.sort();
    want.dedup();
    if got == want {
        Status::Passed
    } else if got.is_empty() {
        Status::Failed {
            problems: vec![format!("the rules `{rules}` compile, but were expected to fail with {}", want.join(", "))],
            got: None,
        }
    } else {
        Status::Failed {
            problems: vec![format!("diagnostics: expected {}, got {}", want.join(", "), got.join(", "))],
            got: None,
        }
    }
}

/// Evaluate one case's record and check every expectation.
fn judge(s: &Suite, c: &Case, ctx: &Context) -> (Status, Vec<(String, kensa::RuleOutcome)>) {
    let (engine, set, registry) = (&ctx.engine, &ctx.set, ctx.registry.as_deref());
    let fail = |msg: String| (Status::Failed { problems: vec![msg], got: None }, Vec::new());
    let record = match (c.inline_record(s.file.base.as_ref()), &c.record_file) {
        (Some(r), _) => r,
        (None, Some(f)) => match read_record(&s.resolve(f)) {
            Ok(r) => r,
            Err(msg) => return fail(msg),
        },
        (None, None) => return fail(String::from("the case has no record")),
    };
    let engine_today;
    let engine = match c.today.as_deref().map(parse_date).transpose() {
        Ok(Some(t)) => {
            engine_today = engine.clone().with_today(t);
            &engine_today
        }
        Ok(None) => engine,
        Err(msg) => return fail(format!("today: {msg}")),
    };
    let verdict = match registry {
        Some(reg) => engine.explain_in(&record, reg),
        None => engine.explain(&record),
    };
    let v = match verdict {
        Ok(v) => v,
        Err(e) => return fail(format!("the record cannot be evaluated: {e}")),
    };
    let trace: Vec<(String, kensa::RuleOutcome)> =
        v.trace.iter().flatten().map(|t| (t.rule.clone(), t.outcome)).collect();
    let problems = check_expectations(c, &v, set);
    let status = if problems.is_empty() {
        Status::Passed
    } else {
        Status::Failed {
            problems,
            got: Some(Got { decision: v.decision.as_str(), score: v.score, findings: v.findings }),
        }
    };
    (status, trace)
}

fn read_record(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    serde_saphyr::from_str::<serde_json::Value>(&text)
        .map_err(|e| format!("`{}` is not one JSON or YAML record: {}", path.display(), e.without_snippet()))
}

/// Every expectation of the case that the verdict does not meet, one line each.
fn check_expectations(c: &Case, v: &kensa::Verdict, set: &RuleSet) -> Vec<String> {
    let e = &c.expect;
    let mut problems = Vec::new();
    let known = |id: &str| id.starts_with("schema.") || set.rule_ids.iter().any(|r| r == id);
    let unknown = |id: &str| {
        let hint = kensa::internal::did_you_mean(id, set.rule_ids.iter().map(String::as_str))
            .map(|r| format!("; did you mean `{r}`?"))
            .unwrap_or_default();
        format!("`{id}` is not a rule of {}{hint}", set.label)
    };
    let fired = |id: &str| v.findings.iter().any(|f| f.rule == id);
    if let Some(d) = e.decision
        && d.as_str() != v.decision.as_str()
    {
        problems.push(format!("decision: expected {}, got {}", d.as_str(), v.decision.as_str()));
    }
    if let Some(s) = e.score
        && !s.holds(v.score)
    {
        problems.push(format!("score: expected {}, got {}", s.describe(), v.score));
    }
    for id in &e.fires {
        if !known(id) {
            problems.push(unknown(id));
        } else if !fired(id) {
            problems.push(format!("fires: expected `{id}` to fire; it did not"));
        }
    }
    for id in &e.not_fires {
        if !known(id) {
            problems.push(unknown(id));
        } else if fired(id) {
            problems.push(format!("not_fires: expected `{id}` not to fire; it did"));
        }
    }
    for spec in &e.findings {
        if !known(&spec.rule) {
            problems.push(unknown(&spec.rule));
            continue;
        }
        let Some(f) = v.findings.iter().find(|f| f.rule == spec.rule) else {
            problems.push(format!("findings: expected a finding of `{}`; there is none", spec.rule));
            continue;
        };
        if let Some(sev) = &spec.severity
            && sev != f.severity.as_str()
        {
            problems.push(format!("findings: `{}` severity: expected {sev}, got {}", spec.rule, f.severity.as_str()));
        }
        if let Some(fields) = &spec.fields {
            let (mut want, mut got) = (fields.clone(), f.fields.clone());
            want.sort();
            got.sort();
            if want != got {
                problems.push(format!(
                    "findings: `{}` fields: expected [{}], got [{}]",
                    spec.rule,
                    fields.join(", "),
                    f.fields.join(", ")
                ));
            }
        }
        if let Some(related) = &spec.related {
            let missing: Vec<&str> = related.iter().filter(|id| !f.related.contains(id)).map(String::as_str).collect();
            if !missing.is_empty() {
                problems.push(format!(
                    "findings: `{}` related: expected [{}] among [{}]",
                    spec.rule,
                    missing.join(", "),
                    f.related.join(", ")
                ));
            }
        }
    }
    for id in &e.related {
        if !v.findings.iter().any(|f| f.related.contains(id)) {
            problems.push(format!("related: expected some finding to name `{id}`; none does"));
        }
    }
    problems
}
