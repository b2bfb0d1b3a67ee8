//! Evaluate generated records with the standard rule set, single-threaded, for profilers.
//!
//! ```sh
//! cargo build --release --features profile-driver --bin profile_eval
//! valgrind --tool=callgrind --toggle-collect='*profile_eval::evaluate_all*' \
//!     target/release/profile_eval --records 5000
//! ```
//!
//! Each record is handed over as its JSON line and judged with `Engine::judge_json`, as
//! `kensa eval` judges a JSONL file (reading included, writing not); with `--values`, as a
//! `serde_json::Value` to `Engine::evaluate`, as a library caller holding values does. With
//! `--registry`, each line is judged against an in-memory registry (`Engine::memory_registry`)
//! that holds every other record again under another id, as `kensa eval --registry` judges:
//! every record is looked up by its blocking keys, and half of them find themselves enrolled.
//! Setup (generating the records, compiling the rules, loading the postal data with a first
//! evaluation) happens outside `evaluate_all`, so collecting only inside it counts the
//! evaluator's instructions per record. `bench/guard/check` runs it this way.
//! The generator lives in `benches/common/gen.rs`, so the records are the benchmarks' records.
//! It is a binary behind the `profile-driver` feature, not an example, because building an
//! example also builds every dev-dependency (a minute and a half more on a clean CI machine).

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use kensa::registry::Registry;
use kensa::{Date, Decision, Engine};

#[path = "../../benches/common/gen.rs"]
#[allow(dead_code, reason = "the benchmarks use the rest of the generator")]
mod generator;

/// Evaluate generated records with the standard rules on one thread.
#[derive(Parser, Debug)]
struct Args {
    /// How many records.
    #[arg(long, default_value_t = 5000)]
    records: usize,
    /// The seed: the same seed gives the same records.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Evaluate the records this many times (for `perf record`; the fastest pass is reported).
    #[arg(long, default_value_t = 1)]
    repeat: u32,
    /// Only parse the records' addresses (`normalize::address::parse`, in `parse_addresses`).
    #[arg(long)]
    addresses: bool,
    /// Hand each record to `Engine::evaluate` as a `serde_json::Value` instead of judging its
    /// JSON line.
    #[arg(long, conflicts_with = "registry")]
    values: bool,
    /// Judge each JSON line against a registry holding every other record again, under the
    /// id `<id>-R` (built before counting).
    #[arg(long)]
    registry: bool,
}

/// The records as the driver hands them over.
enum Records {
    Lines(Vec<String>),
    Values(Vec<serde_json::Value>),
}

fn main() -> ExitCode {
    let args = Args::parse();
    let engine = match Date::parse("2026-11-27")
        .map_err(|e| e.to_string())
        .and_then(|today| Engine::builtin().map(|e| e.with_today(today)).map_err(|e| e.to_string()))
    {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let values = generator::values(args.records, args.seed);
    if args.addresses {
        let addresses: Vec<&str> = values.iter().filter_map(|v| v.get("address")?.as_str()).collect();
        // Load the municipality and town tables before counting.
        if let Some(first) = addresses.first() {
            let _ = kensa::normalize::address::parse(first);
        }
        let municipalities = parse_addresses(&addresses);
        println!("{} addresses, {municipalities} with a municipality", addresses.len());
        return ExitCode::SUCCESS;
    }
    // Load the embedded data (postal codes, municipalities) before counting.
    if let Some(first) = values.first() {
        let _ = engine.evaluate(first);
    }
    let registry = args.registry.then(|| {
        let enrolled = values.iter().step_by(2).cloned().map(|mut v| {
            if let Some(id) = v.get_mut("id")
                && let Some(text) = id.as_str()
            {
                *id = serde_json::Value::String(format!("{text}-R"));
            }
            v
        });
        engine.memory_registry(enrolled)
    });
    let n = values.len();
    let records = if args.values {
        Records::Values(values)
    } else {
        Records::Lines(values.iter().map(|v| v.to_string()).collect())
    };
    let mut counts = [0usize; 4];
    let mut best = f64::INFINITY;
    for _ in 0..args.repeat.max(1) {
        let start = Instant::now();
        counts = evaluate_all(&engine, &records, registry.as_ref().map(|r| r as &dyn Registry));
        best = best.min(start.elapsed().as_secs_f64());
    }
    let [accept, review, reject, errors] = counts;
    println!("{n} records: {accept} accept, {review} review, {reject} reject, {errors} errors");
    // Meaningless under valgrind; the fastest of the repeats otherwise.
    println!("records/s: {:.0}", n as f64 / best.max(1e-9));
    ExitCode::SUCCESS
}

/// The measured part: evaluate every record once; counts of accept, review, reject, error.
#[inline(never)]
fn evaluate_all(engine: &Engine, records: &Records, registry: Option<&dyn Registry>) -> [usize; 4] {
    let mut counts = [0usize; 4];
    let judged: Box<dyn Iterator<Item = _>> = match records {
        Records::Lines(lines) => Box::new(lines.iter().map(|l| engine.judge_json(black_box(l), registry, false))),
        Records::Values(values) => Box::new(values.iter().map(|v| engine.evaluate(black_box(v)))),
    };
    for verdict in judged {
        let i = match black_box(verdict).map(|v| v.decision) {
            Ok(Decision::Accept) => 0,
            Ok(Decision::Review) => 1,
            Ok(Decision::Reject) => 2,
            Err(_) => 3,
        };
        if let Some(c) = counts.get_mut(i) {
            *c += 1;
        }
    }
    counts
}

/// The address parser alone: how many addresses have a municipality.
#[inline(never)]
fn parse_addresses(addresses: &[&str]) -> usize {
    addresses
        .iter()
        .filter(|a| black_box(kensa::normalize::address::parse(black_box(a))).municipality.is_some())
        .count()
}
