//! `kensa test` on a suite of 5,000 cases (generated residents, each with its expected
//! decision and score), the whole command as CI runs it. Target: under 2 s.
//!
//! ```sh
//! cargo bench --bench suite
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/gen.rs"]
#[allow(dead_code, reason = "only the record stream is used here")]
mod generator;

use std::fmt::Write as _;
use std::process::Command;

use criterion::{Criterion, criterion_group, criterion_main};

const CASES: usize = 5000;

/// A suite of `n` cases in a fresh folder; the expectations are what the engine decides today.
fn write_suite(n: usize) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kensa-bench-suite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let today = kensa::Date::parse("2026-11-27").unwrap();
    let engine = kensa::Engine::builtin().unwrap().with_today(today);
    let mut text = String::from("today: 2026-11-27\ncases:\n");
    for (i, record) in generator::values(n, 7).into_iter().enumerate() {
        let v = engine.evaluate(&record).unwrap();
        let fired: Vec<&str> = v.findings.iter().map(|f| f.rule.as_str()).collect();
        let _ = write!(
            text,
            "  - name: case {i}\n    record: {record}\n    expect:\n      decision: {}\n      score: {}\n      fires: [{}]\n",
            v.decision.as_str(),
            v.score,
            fired.join(", ")
        );
    }
    let path = dir.join("suite.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn suite(c: &mut Criterion) {
    let path = write_suite(CASES);
    let mut group = c.benchmark_group("kensa_test");
    group.sample_size(10);
    group.bench_function("5000_cases", |b| {
        b.iter(|| {
            let out = Command::new(env!("CARGO_BIN_EXE_kensa")).arg("test").arg(&path).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
        })
    });
    group.finish();
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

criterion_group!(benches, suite);
criterion_main!(benches);
