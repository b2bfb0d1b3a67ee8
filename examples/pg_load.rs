//! Load test of the PostgreSQL registry (`bench/run w6`): N concurrent clients enroll a
//! stream of records with 10% duplicates into a registry that already holds the generator's
//! residents (seed 1), and the run proves that the number of accepted records equals the number
//! of distinct people in the stream.
//!
//! The stream is built so that the truth is known. Distinct people come from another seed; a
//! person is kept only if the rules accept them against the registry and against the people
//! kept before them (checked once, before the clock starts), so each must be enrolled exactly
//! once. Each duplicate is one of them again under another id and in other notations (spaced or
//! full-width My Number, hiragana kana), placed a few records away from the original so that
//! clients race for the same person. Clients take records from one queue in stream order, each
//! on its own pooled connection, and call `Engine::enroll` like a clerk's application.
//!
//! ```sh
//! cargo run --release --example pg_load -- --url postgres://kensa@127.0.0.1:54330/kensa \
//!     --stream 100000 --clients 1,4,16
//! ```
//! After each run the stream's records are deleted again, so every run starts from the same
//! registry. Prints one JSON line per client count.
#![allow(clippy::indexing_slicing, reason = "a benchmark driver over records it generated itself")]

use std::collections::{BTreeMap, HashMap};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use clap::Parser;
use kensa::registry::{MemoryRegistry, PgOptions, PostgresRegistry, Registry};
use rayon::prelude::*;
use unicode_normalization::UnicodeNormalization;

#[path = "../benches/common/gen.rs"]
#[allow(dead_code, reason = "only the record stream is used here")]
mod generator;

#[derive(Parser, Debug)]
struct Args {
    /// The server, with a registry imported from `generate --seed 1`.
    #[arg(long)]
    url: String,
    /// Records in the stream (distinct people plus duplicates).
    #[arg(long, default_value_t = 100_000)]
    stream: usize,
    /// Share of the stream that enrolls a person of the stream again.
    #[arg(long, default_value_t = 0.10)]
    duplicates: f64,
    /// Client counts to run, comma-separated.
    #[arg(long, default_value = "1,4,16", value_delimiter = ',')]
    clients: Vec<usize>,
}

const TODAY: &str = "2026-11-27";
/// Stream ids start with this, so that a run's records can be told apart and deleted.
const PREFIX: &str = "L";

fn my_number_key(v: &serde_json::Value) -> String {
    v["my_number"].as_str().unwrap_or_default().nfkc().filter(char::is_ascii_digit).collect()
}

/// The same person under another id and in other notations.
fn written_again(person: &serde_json::Value, n: usize) -> serde_json::Value {
    let mut r = person.clone();
    r["id"] = serde_json::json!(format!("{}-again", person["id"].as_str().unwrap_or_default()));
    let digits = my_number_key(person);
    let again: String = if n.is_multiple_of(2) {
        format!("{} {} {}", &digits[..4], &digits[4..8], &digits[8..])
    } else {
        digits.chars().filter_map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32)).collect()
    };
    r["my_number"] = serde_json::json!(again);
    let kana: String = r["given_name_kana"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .map(|c| if ('ァ'..='ヶ').contains(&c) { char::from_u32(c as u32 - 0x60).unwrap_or(c) } else { c })
        .collect();
    r["given_name_kana"] = serde_json::json!(kana);
    r
}

/// The stream and the number of distinct people in it.
fn stream(
    engine: &kensa::Engine,
    registry: &PostgresRegistry,
    args: &Args,
) -> Result<(Vec<serde_json::Value>, usize), String> {
    let dups = (args.stream as f64 * args.duplicates).round() as usize;
    let people_wanted = args.stream - dups;
    let config = generator::Config { defect_rate: 0.0, bank_rate: 0.35, duplicate_rate: 0.0 };
    let mut g = generator::Generator::new(7, config);
    let mut people: Vec<serde_json::Value> = Vec::with_capacity(people_wanted);
    let mut kept = MemoryRegistry::new();
    let mut n = 0usize;
    while people.len() < people_wanted {
        // Candidates in parallel batches against the server; then, in order, against the
        // people kept so far.
        let batch: Vec<serde_json::Value> = std::iter::repeat_with(|| g.value())
            .filter(|p| my_number_key(p).len() == 12)
            .take((people_wanted - people.len()) + 64)
            .map(|mut p| {
                n += 1;
                p["id"] = serde_json::json!(format!("{PREFIX}{n:07}"));
                p
            })
            .collect();
        let alone: Vec<bool> = batch
            .par_iter()
            .map(|p| engine.evaluate_in(p, registry).map(|v| v.decision == kensa::Decision::Accept))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        for (p, ok) in batch.into_iter().zip(alone) {
            if people.len() == people_wanted {
                break;
            }
            if ok && engine.evaluate_in(&p, &kept).map_err(|e| e.to_string())?.decision == kensa::Decision::Accept {
                kept.insert(p.clone(), engine.blocking_keys(&p));
                people.push(p);
            }
        }
    }
    // Each duplicate goes a few places after its original (or before it: then it is the one
    // enrolled, and the original is the duplicate).
    let mut rng = generator::Rng::new(11);
    let mut records: Vec<(usize, u32, serde_json::Value)> =
        people.iter().enumerate().map(|(i, p)| (i * 16, 0, p.clone())).collect();
    for k in 0..dups {
        let i = rng.below(people.len());
        let Some(p) = people.get(i) else { continue };
        let mut again = written_again(p, k);
        again["id"] = serde_json::json!(format!("{}-{k}", again["id"].as_str().unwrap_or_default()));
        let offset = rng.below(64);
        let at = (i * 16 + offset).saturating_sub(32);
        records.push((at, 1 + k as u32, again));
    }
    records.sort_by_key(|(at, tie, _)| (*at, *tie));
    Ok((records.into_iter().map(|(_, _, r)| r).collect(), people.len()))
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted.get(((sorted.len().max(1) - 1) as f64 * q) as usize).copied().unwrap_or(f64::NAN)
}

fn reset(url: &str) -> Result<(), String> {
    let mut c = postgres::Client::connect(url, postgres::NoTls).map_err(|e| e.to_string())?;
    let like = format!("id:{PREFIX}%");
    c.execute("DELETE FROM kensa_keys WHERE uid LIKE $1", &[&like]).map_err(|e| e.to_string())?;
    c.execute("DELETE FROM kensa_records WHERE uid LIKE $1", &[&like]).map_err(|e| e.to_string())?;
    c.batch_execute("VACUUM ANALYZE kensa_records, kensa_keys").map_err(|e| e.to_string())?;
    Ok(())
}

/// Stored stream records per person: `(records, distinct people, people stored twice)`.
fn stored(url: &str) -> Result<(usize, usize, usize), String> {
    let mut c = postgres::Client::connect(url, postgres::NoTls).map_err(|e| e.to_string())?;
    let like = format!("id:{PREFIX}%");
    let rows = c.query("SELECT json FROM kensa_records WHERE uid LIKE $1", &[&like]).map_err(|e| e.to_string())?;
    let mut per: HashMap<String, usize> = HashMap::new();
    for r in &rows {
        let v: serde_json::Value = serde_json::from_str(r.get(0)).map_err(|e| e.to_string())?;
        *per.entry(my_number_key(&v)).or_default() += 1;
    }
    Ok((rows.len(), per.len(), per.values().filter(|n| **n > 1).count()))
}

fn run(args: &Args) -> Result<(), String> {
    let today = kensa::Date::parse(TODAY).map_err(|e| e.to_string())?;
    let engine = kensa::Engine::builtin().map_err(|e| e.to_string())?.with_today(today);
    let keys = |v: &serde_json::Value| engine.blocking_keys(v);
    reset(&args.url)?;
    let started = Instant::now();
    let reader =
        PostgresRegistry::open_read(&args.url, &PgOptions::default(), &engine.key_version()).map_err(|e| e.0)?;
    let registry_size = reader.len();
    let (records, distinct) = stream(&engine, &reader, args)?;
    drop(reader);
    eprintln!(
        "pg_load: stream of {} records ({distinct} distinct people) against {registry_size} enrolled, built in {:.0} s",
        records.len(),
        started.elapsed().as_secs_f64()
    );
    for &clients in &args.clients {
        let options = PgOptions { pool_size: u32::try_from(clients).unwrap_or(64), ..PgOptions::default() };
        let reg = PostgresRegistry::open_write(&args.url, &options, &engine.key_version(), &keys).map_err(|e| e.0)?;
        let next = AtomicUsize::new(0);
        let latencies = Mutex::new(Vec::with_capacity(records.len()));
        let decisions = Mutex::new(BTreeMap::<&'static str, usize>::new());
        let enrolled = AtomicUsize::new(0);
        let errors = Mutex::new(Vec::<String>::new());
        let t = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..clients {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    let mut seen: BTreeMap<&'static str, usize> = BTreeMap::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(r) = records.get(i) else { break };
                        let t = Instant::now();
                        match engine.enroll(r.clone(), &reg) {
                            Ok(e) => {
                                mine.push(t.elapsed().as_secs_f64() * 1e3);
                                *seen.entry(e.verdict.decision.as_str()).or_default() += 1;
                                if e.enrolled {
                                    enrolled.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            Err(e) => errors.lock().map(|mut v| v.push(e.to_string())).unwrap_or(()),
                        }
                    }
                    if let Ok(mut l) = latencies.lock() {
                        l.extend(mine);
                    }
                    if let Ok(mut d) = decisions.lock() {
                        for (k, n) in seen {
                            *d.entry(k).or_default() += n;
                        }
                    }
                });
            }
        });
        let seconds = t.elapsed().as_secs_f64();
        let errors = errors.into_inner().map_err(|e| e.to_string())?;
        if let Some(e) = errors.first() {
            return Err(format!("{} enrollments failed; the first: {e}", errors.len()));
        }
        let mut ms = latencies.into_inner().map_err(|e| e.to_string())?;
        ms.sort_by(f64::total_cmp);
        let (stored_records, stored_people, twice) = stored(&args.url)?;
        let enrolled = enrolled.into_inner();
        let proof = enrolled == distinct && stored_records == distinct && stored_people == distinct && twice == 0;
        println!(
            "{}",
            serde_json::json!({
                "clients": clients,
                "records": records.len(),
                "distinct_people": distinct,
                "registry_before": registry_size,
                "enrolled": enrolled,
                "stored_stream_records": stored_records,
                "stored_distinct_people": stored_people,
                "people_stored_twice": twice,
                "accepted_equals_distinct_people": proof,
                "decisions": decisions.into_inner().map_err(|e| e.to_string())?,
                "seconds": seconds,
                "records_per_s": records.len() as f64 / seconds,
                "p50_ms": percentile(&ms, 0.50),
                "p99_ms": percentile(&ms, 0.99),
                "max_ms": percentile(&ms, 1.0),
            })
        );
        drop(reg);
        reset(&args.url)?;
        if !proof {
            return Err(format!(
                "with {clients} clients: {enrolled} enrolled, {stored_records} stored for {stored_people} people \
                 ({twice} twice), but the stream has {distinct} distinct people"
            ));
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pg_load: {e}");
            ExitCode::FAILURE
        }
    }
}
