//! Registry lookups: one record looked up in a SQLite registry and judged against its
//! candidates (what `kensa enroll` does per record, without the insert), at 10k and 100k
//! generated residents, and at 1M when `KENSA_BENCH_1M=1` (or `KENSA_BENCH_DB=path` names a
//! registry already built with `kensa registry import` from the generator's records, seed 1).
//!
//! Besides criterion's mean, prints p50/p99 over a fixed set of probe records, since a clerk
//! waits for the slow lookups, not the average.
//!
//! Also batch dedup, single-threaded parts at 10k and 100k records: `dedup/profiles` (the
//! match profile of every generated record) and `dedup/scan` (every blocked pair compared).
//! The 1M figure is the whole command on generated records:
//! `cargo run --release --example generate -- --records 1000000 > /tmp/r1m.jsonl &&
//! kensa dedup /tmp/r1m.jsonl > /dev/null`.
//!
//! ```sh
//! cargo bench --bench registry
//! KENSA_BENCH_DB=/tmp/reg1m.db cargo bench --bench registry
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/gen.rs"]
#[allow(dead_code, reason = "only the record stream is used here")]
mod generator;
#[path = "common/lookup.rs"]
mod lookup;

use std::path::{Path, PathBuf};
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use kensa::Engine;
use kensa::registry::SqliteRegistry;

const PROBES: usize = 2000;

fn engine() -> Engine {
    Engine::builtin().unwrap().with_today(kensa::Date::parse("2026-11-27").unwrap())
}

/// A registry of `n` residents (seed 1), built once and kept in the temp folder.
fn registry(engine: &Engine, n: usize) -> PathBuf {
    let path = std::env::temp_dir().join(format!("kensa-bench-registry-{n}.db"));
    let keys = |v: &serde_json::Value| engine.blocking_keys(v);
    if let Ok(reg) = SqliteRegistry::open_write(&path, &engine.key_version(), &keys) {
        use kensa::registry::Registry;
        if reg.len() == n {
            return path;
        }
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let reg = SqliteRegistry::open_write(&path, &engine.key_version(), &keys).unwrap();
    let mut g = generator::Generator::new(1, generator::Config::default());
    let started = Instant::now();
    let mut left = n;
    while left > 0 {
        let take = left.min(10_000);
        let entries: Vec<_> = (0..take).map(|_| engine.registry_entry(g.value()).unwrap()).collect();
        reg.insert_batch(&entries).unwrap();
        left -= take;
    }
    eprintln!("built {} ({n} residents) in {:.1} s", path.display(), started.elapsed().as_secs_f64());
    path
}

fn percentiles(engine: &Engine, path: &Path, label: &str, probes: &[serde_json::Value]) {
    let reg = SqliteRegistry::open_read(path, &engine.key_version()).unwrap();
    let t = lookup::times(engine, &reg, probes);
    eprintln!(
        "registry {label}: lookup+evaluate over {} probes: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms, mean {:.3} ms",
        probes.len(),
        t.p50,
        t.p99,
        t.max,
        t.mean
    );
}

fn lookups(c: &mut Criterion) {
    let engine = engine();
    let probes = lookup::probes(PROBES);
    let mut sizes: Vec<(String, PathBuf)> =
        [10_000, 100_000].iter().map(|&n| (format!("{n}"), registry(&engine, n))).collect();
    if let Ok(db) = std::env::var("KENSA_BENCH_DB") {
        sizes.push((String::from("file"), PathBuf::from(db)));
    } else if std::env::var_os("KENSA_BENCH_1M").is_some() {
        sizes.push((String::from("1000000"), registry(&engine, 1_000_000)));
    }
    let mut group = c.benchmark_group("registry_lookup_evaluate");
    for (label, path) in &sizes {
        percentiles(&engine, path, label, &probes);
        let reg = SqliteRegistry::open_read(path, &engine.key_version()).unwrap();
        let mut i = 0;
        group.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| {
                i = (i + 1) % probes.len();
                engine.evaluate_in(&probes[i], &reg).unwrap()
            })
        });
    }
    group.finish();
}

fn dedup(c: &mut Criterion) {
    let engine = engine();
    let mut group = c.benchmark_group("dedup");
    group.sample_size(10);
    for n in [10_000usize, 100_000] {
        let records = generator::values(n, 1);
        group.bench_with_input(BenchmarkId::new("profiles", n), &records, |b, records| {
            b.iter(|| records.iter().filter_map(|r| engine.match_profile(r).ok()).count())
        });
        let profiles: Vec<kensa::MatchProfile> = records.iter().filter_map(|r| engine.match_profile(r).ok()).collect();
        group.bench_with_input(BenchmarkId::new("scan", n), &profiles, |b, profiles| {
            b.iter(|| engine.duplicate_pairs(profiles, 0.5).compared)
        });
    }
    group.finish();
}

criterion_group!(benches, lookups, dedup);
criterion_main!(benches);
