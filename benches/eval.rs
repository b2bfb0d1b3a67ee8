//! Rule-engine benchmarks over generated records (`benches/common/gen.rs`), standard rules,
//! no registry:
//!
//! - `compile/builtin`: parse, check and compile the standard rule set (target < 50 ms);
//! - `eval/evaluate`: single-thread `Engine::evaluate` over 100,000 pre-parsed records
//!   (target ≥ 300,000 records/s);
//! - `eval/parse_and_evaluate`: the same records as JSON lines, parsed and then evaluated.
//!
//! `cargo bench --bench eval -- --warm-up-time 1 --measurement-time 5`

#![allow(clippy::expect_used, reason = "a benchmark that cannot set up should fail loudly")]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kensa::{Date, Decision, Engine};

#[path = "common/gen.rs"]
#[allow(dead_code, reason = "the other benchmarks use the rest of the generator")]
mod generator;

const RECORDS: usize = 100_000;
const SEED: u64 = 1;

fn engine() -> Engine {
    let today = Date::parse("2026-11-27").expect("a valid date");
    Engine::builtin().expect("the standard rules compile").with_today(today)
}

fn compile(c: &mut Criterion) {
    c.bench_function("compile/builtin", |b| b.iter(|| black_box(Engine::builtin().is_ok())));
}

fn evaluate(c: &mut Criterion) {
    let engine = engine();
    let values = generator::values(RECORDS, SEED);
    let lines = generator::lines(RECORDS, SEED);
    report_decisions(&engine, &values);

    let mut group = c.benchmark_group("eval");
    group.sample_size(10);
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.bench_function("evaluate", |b| {
        b.iter(|| {
            for record in &values {
                let _ = black_box(engine.evaluate(black_box(record)));
            }
        })
    });
    group.bench_function("parse_and_evaluate", |b| {
        b.iter(|| {
            for line in &lines {
                if let Ok(record) = serde_json::from_str::<serde_json::Value>(black_box(line)) {
                    let _ = black_box(engine.evaluate(&record));
                }
            }
        })
    });
    group.finish();
}

/// Print the decision mix once, so that a run shows the corpus is the intended one
/// (about 90% accept with the default defect rate).
fn report_decisions(engine: &Engine, values: &[serde_json::Value]) {
    let (mut accept, mut review, mut reject, mut errors) = (0, 0, 0, 0);
    for v in values {
        match engine.evaluate(v).map(|v| v.decision) {
            Ok(Decision::Accept) => accept += 1,
            Ok(Decision::Review) => review += 1,
            Ok(Decision::Reject) => reject += 1,
            Err(_) => errors += 1,
        }
    }
    eprintln!("corpus: {} records: {accept} accept, {review} review, {reject} reject, {errors} errors", values.len());
}

criterion_group!(benches, compile, evaluate);
criterion_main!(benches);
