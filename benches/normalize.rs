//! Normalization benchmarks over generated text (`benches/common/gen.rs`):
//!
//! - `kana/kana_key`, `kana/zengin_key`, `kana/nfkc`: 1,000,000 kana names of 10–20
//!   characters (katakana, hiragana, half-width, foreign names; target ≥ 2,000,000 names/s
//!   for the kana key);
//! - `address/key`: 100,000 addresses with 丁目/番/号 in several notations (target
//!   ≥ 200,000 addresses/s).
//!
//! `cargo bench --bench normalize -- --warm-up-time 1 --measurement-time 5`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kensa::normalize::{address, kana, width, zengin};

#[path = "common/gen.rs"]
#[allow(dead_code, reason = "the other benchmarks use the rest of the generator")]
mod generator;

const NAMES: usize = 1_000_000;
const ADDRESSES: usize = 100_000;
const SEED: u64 = 1;

fn names(c: &mut Criterion) {
    let names = generator::kana_names(NAMES, SEED);
    let mut group = c.benchmark_group("kana");
    group.sample_size(10);
    group.throughput(Throughput::Elements(NAMES as u64));
    group.bench_function("kana_key", |b| {
        b.iter(|| {
            for n in &names {
                black_box(kana::kana_key(black_box(n)));
            }
        })
    });
    group.bench_function("zengin_key", |b| {
        b.iter(|| {
            for n in &names {
                black_box(zengin::zengin_key(black_box(n)));
            }
        })
    });
    group.bench_function("nfkc", |b| {
        b.iter(|| {
            for n in &names {
                black_box(width::nfkc(black_box(n)));
            }
        })
    });
    group.finish();
}

fn addresses(c: &mut Criterion) {
    let addresses = generator::addresses(ADDRESSES, SEED);
    let mut group = c.benchmark_group("address");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ADDRESSES as u64));
    group.bench_function("key", |b| {
        b.iter(|| {
            for a in &addresses {
                let _ = black_box(address::key(black_box(a)));
            }
        })
    });
    group.bench_function("parse", |b| {
        b.iter(|| {
            for a in &addresses {
                black_box(address::parse(black_box(a)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, names, addresses);
criterion_main!(benches);
