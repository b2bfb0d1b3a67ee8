//! W1 (`bench/w1_rules`): rule throughput. Generated records (`benches/common/gen.rs`) are
//! loaded into memory as `serde_json::Value` (not timed); then, for each size and thread count,
//! these are timed (one warm-up pass, then the best and the median of `--runs` runs, each at
//! least `--min-run` seconds long: a small input is passed over several times per run):
//!
//! - `jsonschema iter_errors`: the `jsonschema` crate with the structural subset as a JSON
//!   Schema (`bench/w1_rules/structural.schema.json`), collecting every error of every record;
//! - `jsonschema is_valid`: the same validator, yes/no only (for reference);
//! - `kensa structural`: the same checks as a kensa rule file (`bench/w1_rules/structural.kensa`),
//!   full verdicts with every finding;
//! - `kensa full`: the standard rules compiled into kensa (`Engine::builtin`), no registry;
//! - end to end from JSONL text (`… (JSONL)`): the same records as one line of JSON text each,
//!   and per record everything a command-line job does but the file I/O: `jsonschema`'s line
//!   parsed into a `serde_json::Value`, its errors listed and written as one JSON line (instance
//!   path and message of each); kensa's line judged by `Engine::judge_json` (read borrowing the
//!   text) and its verdict written as the JSON line `kensa eval` writes.
//!
//! It also checks that both structural versions decide alike on every record of the largest size
//! and on hand-written edge cases, and prints everything as one JSON object on standard output.
//!
//! ```sh
//! cargo run --release --example bench_rules -- --sizes 10000,100000 --threads 1,2
//! perf record -g target/release/examples/bench_rules --profile 10 --sizes 100000
//! ```

use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use kensa::{Date, Decision, Engine, Severity};
use rayon::prelude::*;
use serde_json::{Value, json};

#[path = "../benches/common/gen.rs"]
#[allow(dead_code, reason = "the benchmarks use the rest of the generator")]
mod generator;

use generator::Defect;

/// Time the structural subset (jsonschema crate and kensa) and the full standard rules.
#[derive(Parser, Debug)]
struct Args {
    /// Numbers of records to time (each a prefix of the same generated stream).
    #[arg(long, value_delimiter = ',', default_values_t = [10_000, 100_000, 1_000_000])]
    sizes: Vec<usize>,
    /// Thread counts (a rayon pool of exactly this many threads each).
    #[arg(long, value_delimiter = ',', default_values_t = [1, 2])]
    threads: Vec<usize>,
    /// Timed runs per measurement, after one warm-up pass.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Minimum duration of a timed run, in seconds: a run passes over small inputs several times.
    #[arg(long, default_value_t = 0.5)]
    min_run: f64,
    /// Only these tools (`schema-errors`, `schema-valid`, `structural`, `full`; default: all).
    #[arg(long, value_delimiter = ',')]
    tools: Vec<String>,
    /// Generator seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The structural subset as a JSON Schema.
    #[arg(long, default_value = "bench/w1_rules/structural.schema.json")]
    schema: PathBuf,
    /// The structural subset as kensa rules.
    #[arg(long, default_value = "bench/w1_rules/structural.kensa")]
    rules: PathBuf,
    /// The date used as today (ages, dates in the future).
    #[arg(long, default_value = "2026-11-27")]
    today: String,
    /// Only evaluate one rule set (`--profile-rules`), on one thread, over the records of the
    /// largest size, again and again for this many seconds, and print nothing (for `perf record`).
    #[arg(long)]
    profile: Option<f64>,
    /// The rule set `--profile` evaluates: `full` (the standard rules) or `structural`.
    #[arg(long, default_value = "full")]
    profile_rules: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tool {
    SchemaErrors,
    SchemaValid,
    KensaStructural,
    KensaFull,
    SchemaErrorsJsonl,
    KensaStructuralJsonl,
}

impl Tool {
    const ALL: [Tool; 6] = [
        Tool::SchemaErrors,
        Tool::SchemaValid,
        Tool::KensaStructural,
        Tool::KensaFull,
        Tool::SchemaErrorsJsonl,
        Tool::KensaStructuralJsonl,
    ];

    /// Whether the tool reads JSONL text (else `serde_json::Value` records).
    fn reads_text(self) -> bool {
        matches!(self, Tool::SchemaErrorsJsonl | Tool::KensaStructuralJsonl)
    }

    fn key(self) -> &'static str {
        match self {
            Tool::SchemaErrors => "schema-errors",
            Tool::SchemaValid => "schema-valid",
            Tool::KensaStructural => "structural",
            Tool::KensaFull => "full",
            Tool::SchemaErrorsJsonl => "schema-errors-jsonl",
            Tool::KensaStructuralJsonl => "structural-jsonl",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Tool::SchemaErrors => "jsonschema iter_errors",
            Tool::SchemaValid => "jsonschema is_valid",
            Tool::KensaStructural => "kensa structural",
            Tool::KensaFull => "kensa full",
            Tool::SchemaErrorsJsonl => "jsonschema iter_errors (JSONL)",
            Tool::KensaStructuralJsonl => "kensa structural (JSONL)",
        }
    }
}

/// The three validators, built once.
struct Tools {
    schema: jsonschema::Validator,
    structural: Engine,
    full: Engine,
}

impl Tools {
    /// The work a tool does on one record; the result only keeps the optimizer honest.
    fn run(&self, tool: Tool, record: &Value) -> usize {
        match tool {
            Tool::SchemaErrors => self.schema.iter_errors(record).collect::<Vec<_>>().len(),
            Tool::SchemaValid => usize::from(self.schema.is_valid(record)),
            Tool::KensaStructural => self.structural.evaluate(record).map_or(1, |v| v.findings.len()),
            Tool::KensaFull => self.full.evaluate(record).map_or(1, |v| v.findings.len()),
            Tool::SchemaErrorsJsonl | Tool::KensaStructuralJsonl => 0,
        }
    }

    /// The work of a JSONL tool on one line, its output written to `out`; the bytes written.
    fn run_line(&self, tool: Tool, line: &str, out: &mut Vec<u8>) -> usize {
        out.clear();
        match tool {
            Tool::SchemaErrorsJsonl => match serde_json::from_str::<Value>(line) {
                Ok(record) => {
                    let errors: Vec<Value> = self
                        .schema
                        .iter_errors(&record)
                        .map(|e| json!({"path": e.instance_path().as_str(), "message": e.to_string()}))
                        .collect();
                    let _ = serde_json::to_writer(&mut *out, &json!({"valid": errors.is_empty(), "errors": errors}));
                }
                Err(e) => out.extend_from_slice(e.to_string().as_bytes()),
            },
            Tool::KensaStructuralJsonl => match self.structural.judge_json(line, None, false) {
                Ok(v) => v.write_json(out),
                Err(e) => out.extend_from_slice(e.to_string().as_bytes()),
            },
            _ => {}
        }
        out.push(b'\n');
        out.len()
    }

    /// Schema errors of a record.
    fn schema_errors(&self, record: &Value) -> usize {
        self.schema.iter_errors(record).count()
    }

    /// kensa's structural decision and the number of its rejecting findings (`None`: the record
    /// could not be read at all, which is not an accept).
    fn structural(&self, record: &Value) -> (bool, usize) {
        match self.structural.evaluate(record) {
            Ok(v) => {
                (v.decision == Decision::Accept, v.findings.iter().filter(|f| f.severity == Severity::Reject).count())
            }
            Err(_) => (false, 1),
        }
    }
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_rules: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let today = Date::parse(&args.today).map_err(|e| format!("--today: {e}"))?;
    let schema_text = std::fs::read_to_string(&args.schema).map_err(|e| format!("{}: {e}", args.schema.display()))?;
    let schema: Value = serde_json::from_str(&schema_text).map_err(|e| format!("{}: {e}", args.schema.display()))?;
    let rules_text = std::fs::read_to_string(&args.rules).map_err(|e| format!("{}: {e}", args.rules.display()))?;
    let tools = Tools {
        schema: jsonschema::validator_for(&schema).map_err(|e| format!("{}: {e}", args.schema.display()))?,
        structural: Engine::from_source(&args.rules.display().to_string(), &rules_text)
            .map_err(|e| e.render())?
            .with_today(today),
        full: Engine::builtin().map_err(|e| e.render())?.with_today(today),
    };

    let largest = args.sizes.iter().copied().max().unwrap_or(0);
    let started = Instant::now();
    let mut g = generator::Generator::new(args.seed, generator::Config::default());
    let mut records = Vec::with_capacity(largest);
    let mut defects = Vec::with_capacity(largest);
    for _ in 0..largest {
        let r = g.record();
        defects.push(r.defect);
        records.push(serde_json::to_value(&r).map_err(|e| e.to_string())?);
    }
    // The same records as JSONL text, for the end-to-end tools.
    let lines: Vec<String> = records.iter().map(Value::to_string).collect();
    eprintln!("bench_rules: {largest} records generated in {:.1} s", started.elapsed().as_secs_f64());

    if let Some(seconds) = args.profile {
        let tool = match args.profile_rules.as_str() {
            "full" => Tool::KensaFull,
            "structural" => Tool::KensaStructural,
            other => return Err(format!("--profile-rules: `{other}` is neither `full` nor `structural`")),
        };
        let end = Instant::now() + Duration::from_secs_f64(seconds);
        let mut total = 0usize;
        while Instant::now() < end {
            for r in &records {
                total += tools.run(tool, r);
            }
        }
        black_box(total);
        return Ok(());
    }

    let mut throughput = Vec::new();
    for &threads in &args.threads {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| e.to_string())?;
        for &n in &args.sizes {
            let slice = records.get(..n).unwrap_or(&records);
            let text = lines.get(..n).unwrap_or(&lines);
            let tools_here: Vec<Tool> = Tool::ALL
                .into_iter()
                .filter(|t| args.tools.is_empty() || args.tools.iter().any(|k| k == t.key()))
                .collect();
            // One pass of `tool` over the records; a timed run makes several.
            let pass = |tool: Tool| {
                let total: usize = if tool.reads_text() {
                    pool.install(|| {
                        text.par_iter()
                            .map_init(|| Vec::with_capacity(1024), |out, l| tools.run_line(tool, l, out))
                            .sum()
                    })
                } else {
                    pool.install(|| slice.par_iter().map(|r| tools.run(tool, r)).sum())
                };
                black_box(total);
            };
            // A warm-up pass of each tool, which also sets how many passes its runs make: small
            // inputs are passed over several times so that a run lasts at least `--min-run`
            // seconds (a 10k-record pass takes milliseconds).
            let passes: Vec<usize> = tools_here
                .iter()
                .map(|&tool| {
                    let start = Instant::now();
                    pass(tool);
                    let warm_up = start.elapsed().as_secs_f64();
                    (args.min_run / warm_up.max(1e-6)).ceil().clamp(1.0, 10_000.0) as usize
                })
                .collect();
            // The timed runs, in rounds of one run of each tool: the VM runs faster and slower
            // for minutes at a time, and interleaved rounds put a slow phase on every tool alike
            // instead of on whichever tool ran in it.
            let mut runs: Vec<Vec<f64>> = vec![Vec::new(); tools_here.len()];
            for _ in 0..args.runs.max(1) {
                for ((&tool, &passes), times) in tools_here.iter().zip(&passes).zip(runs.iter_mut()) {
                    let start = Instant::now();
                    (0..passes).for_each(|_| pass(tool));
                    times.push(start.elapsed().as_secs_f64() / passes as f64);
                }
            }
            for ((tool, passes), mut runs) in tools_here.into_iter().zip(passes).zip(runs) {
                runs.sort_by(f64::total_cmp);
                let best = runs.first().copied().unwrap_or(f64::NAN);
                let median = runs.get(runs.len() / 2).copied().unwrap_or(f64::NAN);
                eprintln!(
                    "bench_rules: {:<24} {threads} thread(s) {n:>8} records: {:>12.0} records/s (best of {}, {passes} pass(es) per run)",
                    tool.name(),
                    n as f64 / best,
                    runs.len()
                );
                throughput.push(json!({
                    "tool": tool.name(), "threads": threads, "records": n, "passes_per_run": passes,
                    "best_s": best, "median_s": median, "runs_s": runs,
                    "records_per_s": n as f64 / best, "median_records_per_s": n as f64 / median,
                }));
            }
        }
    }

    let out = json!({
        "seed": args.seed,
        "today": args.today,
        "runs": args.runs,
        "throughput": throughput,
        "agreement": agreement(&tools, &records, &defects),
        "edge_cases": edge_cases(&tools),
    });
    println!("{out}");
    Ok(())
}

/// What each tool says about one record (not timed).
#[derive(Clone, Copy, Default)]
struct Judged {
    schema_errors: usize,
    schema_valid: bool,
    kensa_accept: bool,
    kensa_findings: usize,
    full: Option<Decision>,
}

fn judge(tools: &Tools, record: &Value) -> Judged {
    let (kensa_accept, kensa_findings) = tools.structural(record);
    Judged {
        schema_errors: tools.schema_errors(record),
        schema_valid: tools.schema.is_valid(record),
        kensa_accept,
        kensa_findings,
        full: tools.full.evaluate(record).ok().map(|v| v.decision),
    }
}

/// Decisions of the two structural versions on every record, and what the subset and the full
/// rules make of each kind of generated defect.
fn agreement(tools: &Tools, records: &[Value], defects: &[Defect]) -> Value {
    let judged: Vec<Judged> = records.par_iter().map(|r| judge(tools, r)).collect();
    let count = |f: &dyn Fn(&Judged) -> bool| judged.iter().filter(|j| f(j)).count();
    let disagreements: Vec<Value> = records
        .iter()
        .zip(&judged)
        .filter(|(_, j)| (j.schema_errors == 0) != j.kensa_accept)
        .take(5)
        .map(|(r, j)| {
            json!({"record": r, "schema_errors": j.schema_errors, "kensa_accept": j.kensa_accept,
                   "kensa_findings": j.kensa_findings})
        })
        .collect();
    let mut by_defect = Vec::new();
    for (name, defect) in [
        ("none", Defect::None),
        ("wrong check digit", Defect::CheckDigit),
        ("kanji in kana", Defect::KanjiInKana),
        ("bad postal code", Defect::PostalCode),
        ("family member's account", Defect::FamilyHolder),
    ] {
        let of: Vec<&Judged> = judged.iter().zip(defects).filter(|(_, d)| **d == defect).map(|(j, _)| j).collect();
        by_defect.push(json!({
            "defect": name,
            "records": of.len(),
            "schema_invalid": of.iter().filter(|j| j.schema_errors > 0).count(),
            "kensa_structural_reject": of.iter().filter(|j| !j.kensa_accept).count(),
            "full_not_accept": of.iter().filter(|j| j.full != Some(Decision::Accept)).count(),
        }));
    }
    json!({
        "records": records.len(),
        "both_accept": count(&|j| j.schema_errors == 0 && j.kensa_accept),
        "both_reject": count(&|j| j.schema_errors > 0 && !j.kensa_accept),
        "schema_only_valid": count(&|j| j.schema_errors == 0 && !j.kensa_accept),
        "kensa_only_accept": count(&|j| j.schema_errors > 0 && j.kensa_accept),
        "same_error_count": count(&|j| j.schema_errors == j.kensa_findings),
        "is_valid_consistent": count(&|j| j.schema_valid == (j.schema_errors == 0)),
        "schema_errors_total": judged.iter().map(|j| j.schema_errors).sum::<usize>(),
        "kensa_findings_total": judged.iter().map(|j| j.kensa_findings).sum::<usize>(),
        "full_decisions": {
            "accept": count(&|j| j.full == Some(Decision::Accept)),
            "review": count(&|j| j.full == Some(Decision::Review)),
            "reject": count(&|j| j.full == Some(Decision::Reject)),
            "unreadable": count(&|j| j.full.is_none()),
        },
        "by_defect": by_defect,
        "disagreements": disagreements,
    })
}

/// Hand-written records at the edges of the two languages' semantics.
fn edge_cases(tools: &Tools) -> Vec<Value> {
    let base = json!({
        "id": "E1", "my_number": "528731694022", "family_name": "山田", "given_name": "太郎",
        "family_name_kana": "ヤマダ", "given_name_kana": "タロウ", "birth_date": "1980-04-01", "sex": "male",
        "postal_code": "100-0014", "address": "東京都千代田区永田町1丁目7番1号",
        "bank": {"bank_code": "0001", "branch_code": "001", "account_type": "ordinary",
                 "account_number": "1234567", "holder_kana": "ﾔﾏﾀﾞ ﾀﾛｳ"}
    });
    let with = |path: &[&str], v: Option<Value>| -> Value {
        let mut r = base.clone();
        let (last, parents) = match path.split_last() {
            Some(x) => x,
            None => return r,
        };
        let mut obj = &mut r;
        for p in parents {
            obj = match obj.get_mut(*p) {
                Some(o) => o,
                None => return r,
            };
        }
        if let Some(map) = obj.as_object_mut() {
            match v {
                Some(v) => map.insert((*last).to_string(), v),
                None => map.remove(*last),
            };
        }
        r
    };
    let cases: Vec<(&str, Value)> = vec![
        ("a clean record", base.clone()),
        ("hiragana and half-width kana, 和暦 date, spaced full-width My Number, 〒 postal code", {
            let mut r = with(&["family_name_kana"], Some(json!("やまだ")));
            if let Some(m) = r.as_object_mut() {
                m.insert("given_name_kana".into(), json!("ﾀﾛｳ"));
                m.insert("birth_date".into(), json!("昭和55年4月1日"));
                m.insert("my_number".into(), json!("１２３４　５６７８　９０１８"));
                m.insert("postal_code".into(), json!("〒１００－００１４"));
            }
            r
        }),
        ("my_number null", with(&["my_number"], Some(Value::Null))),
        ("my_number missing", with(&["my_number"], None)),
        ("bank null", with(&["bank"], Some(Value::Null))),
        ("an unknown field", with(&["nickname"], Some(json!("タロちゃん")))),
        ("address missing", with(&["address"], None)),
        ("family_name null", with(&["family_name"], Some(Value::Null))),
        ("family_name empty", with(&["family_name"], Some(json!("")))),
        ("family_name of 30 astral characters (𠮷)", with(&["family_name"], Some(json!("𠮷".repeat(30))))),
        ("family_name of 31 astral characters (𠮷)", with(&["family_name"], Some(json!("𠮷".repeat(31))))),
        ("kanji in the kana", with(&["family_name_kana"], Some(json!("山田")))),
        ("sex \"Male\"", with(&["sex"], Some(json!("Male")))),
        ("sex 1 (a number)", with(&["sex"], Some(json!(1)))),
        ("My Number with hyphens", with(&["my_number"], Some(json!("5287-3169-4022")))),
        ("My Number with a wrong check digit", with(&["my_number"], Some(json!("123456789012")))),
        ("birth date 1988-02-30", with(&["birth_date"], Some(json!("1988-02-30")))),
        ("birth date 1988/02/03", with(&["birth_date"], Some(json!("1988/02/03")))),
        ("bank_code 1234 as a JSON number", with(&["bank", "bank_code"], Some(json!(1234)))),
        ("bank_code 12 as a JSON number", with(&["bank", "bank_code"], Some(json!(12)))),
        ("bank_code 12.5", with(&["bank", "bank_code"], Some(json!(12.5)))),
        ("id 42 as a JSON number", with(&["id"], Some(json!(42)))),
        ("bank without holder_kana", with(&["bank", "holder_kana"], None)),
        ("bank a string", with(&["bank"], Some(json!("みずほ銀行")))),
        ("several errors at once", {
            let mut r = with(&["family_name_kana"], Some(json!("山田")));
            if let Some(m) = r.as_object_mut() {
                m.insert("postal_code".into(), json!("100-001"));
                m.insert("sex".into(), json!("m"));
                m.remove("given_name");
            }
            r
        }),
        ("not an object", json!(["山田", "太郎"])),
    ];
    cases
        .into_iter()
        .map(|(name, r)| {
            let j = judge(tools, &r);
            json!({
                "case": name,
                "schema_errors": j.schema_errors,
                "kensa_decision": if j.kensa_accept { "accept" } else { "reject" },
                "kensa_findings": j.kensa_findings,
                "full_decision": j.full.map(|d| d.as_str()),
                "agree": (j.schema_errors == 0) == j.kensa_accept,
            })
        })
        .collect()
}
