//! FEBRL dedup accuracy: pairwise precision / recall / F1 against the ground truth in the ids
//! (`rec-N-org` and `rec-N-dup-K` are the same person N), with the rule set in
//! examples/febrl/. Also `kensa train` from rough values, `kensa dedup --clusters` and
//! `kensa link` through the binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use rayon::prelude::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn febrl(name: &str) -> PathBuf {
    root().join("examples/febrl").join(name)
}

/// A FEBRL CSV as records: header names (trimmed) become keys, cells are trimmed, empty
/// cells are absent (as `kensa` reads CSV).
fn read_csv(path: &Path) -> Vec<serde_json::Value> {
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_path(path).unwrap();
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(|h| h.trim().to_string()).collect();
    rdr.records()
        .map(|row| {
            let row = row.unwrap();
            let obj: serde_json::Map<String, serde_json::Value> = headers
                .iter()
                .zip(row.iter())
                .filter(|(_, v)| !v.is_empty())
                .map(|(h, v)| (h.clone(), serde_json::Value::String(v.to_string())))
                .collect();
            serde_json::Value::Object(obj)
        })
        .collect()
}

fn person(id: &str) -> &str {
    id.split('-').nth(1).unwrap()
}

/// Every true duplicate pair of the file, (smaller id, larger id).
fn truth(records: &[serde_json::Value]) -> BTreeSet<(String, String)> {
    let mut by_person: HashMap<&str, Vec<&str>> = HashMap::new();
    for r in records {
        let id = r["rec_id"].as_str().unwrap();
        by_person.entry(person(id)).or_default().push(id);
    }
    let mut pairs = BTreeSet::new();
    for ids in by_person.values() {
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                pairs.insert(if a < b { (a.to_string(), b.to_string()) } else { (b.to_string(), a.to_string()) });
            }
        }
    }
    pairs
}

struct Score {
    precision: f64,
    recall: f64,
    f1: f64,
}

fn score(found: &BTreeSet<(String, String)>, truth: &BTreeSet<(String, String)>) -> Score {
    let tp = found.intersection(truth).count() as f64;
    let precision = if found.is_empty() { 0.0 } else { tp / found.len() as f64 };
    let recall = tp / truth.len() as f64;
    let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
    Score { precision, recall, f1 }
}

/// Every record against a registry of the whole file: the pairs with probability >= 0.5, as
/// (smaller id, larger id, probability), sorted.
fn registry_pairs(engine: &kensa::Engine, records: &[serde_json::Value]) -> Vec<(String, String, f64)> {
    let registry = engine.memory_registry(records.iter().cloned());
    let mut found: Vec<(String, String, f64)> = records
        .par_iter()
        .flat_map_iter(|r| {
            let id = r["rec_id"].as_str().unwrap().to_string();
            engine
                .matches_in(r, &registry)
                .unwrap()
                .into_iter()
                .filter(|m| m.probability >= 0.5)
                .filter_map(move |m| (id < m.id).then(|| (id.clone(), m.id, m.probability)))
        })
        .collect();
    found.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    found
}

/// Dedup through the library: every record against a registry of the whole file.
fn dedup_with_library(rules: &Path, data: &str) -> (Score, usize) {
    let engine = kensa::Engine::from_path(rules).unwrap();
    let records = read_csv(&febrl(data));
    let found: BTreeSet<(String, String)> =
        registry_pairs(&engine, &records).into_iter().map(|(a, b, _)| (a, b)).collect();
    let truth = truth(&records);
    (score(&found, &truth), truth.len())
}

/// The batch path (`match_profile` + `duplicate_pairs`, what `kensa dedup` runs) finds the
/// same pairs with the same probabilities as comparing each record with a registry.
#[test]
fn batch_dedup_agrees_with_the_registry_path() {
    let engine = kensa::Engine::from_path(febrl("febrl.kensa")).unwrap();
    let records = read_csv(&febrl("dataset3.csv"));
    let by_registry = registry_pairs(&engine, &records);

    let profiles: Vec<kensa::MatchProfile> = records.iter().map(|r| engine.match_profile(r).unwrap()).collect();
    let scan = engine.duplicate_pairs(&profiles, 0.5);
    let mut batch: Vec<(String, String, f64)> = scan
        .pairs
        .iter()
        .map(|p| {
            let (a, b) = (profiles[p.left].id().unwrap(), profiles[p.right].id().unwrap());
            let (a, b) = if a < b { (a, b) } else { (b, a) };
            (a.to_string(), b.to_string(), p.probability)
        })
        .collect();
    batch.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    assert_eq!(batch.len(), by_registry.len());
    for (x, y) in batch.iter().zip(&by_registry) {
        assert_eq!((&x.0, &x.1), (&y.0, &y.1));
        assert!((x.2 - y.2).abs() < 1e-12, "{x:?} vs {y:?}");
    }
    // Every pair sharing a key was compared once: at least as many as were kept.
    assert!(scan.compared >= scan.pairs.len() as u64 && scan.pairs.len() > 6000);
    // The evidence of a pair is the one the registry path gives.
    let p = scan.pairs[0];
    let m = engine.compare_profiles(&profiles[p.left], &profiles[p.right]).unwrap();
    assert_eq!(m.id, profiles[p.right].id().unwrap());
    assert!((m.probability - p.probability).abs() < 1e-12);
    assert!(m.comparisons.iter().any(|c| c.level.is_some()));
}

fn pairs_from_jsonl(text: &str) -> BTreeSet<(String, String)> {
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("left").is_some())
        .map(|v| (v["left"].as_str().unwrap().to_string(), v["right"].as_str().unwrap().to_string()))
        .collect()
}

fn kensa(args: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kensa")).args(args).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "kensa {args:?} failed:\n{stderr}");
    (stdout, stderr)
}

#[test]
fn dataset3_dedup_reaches_f1_0_995() {
    let (s, n) = dedup_with_library(&febrl("febrl.kensa"), "dataset3.csv");
    assert_eq!(n, 6538, "the ground truth of dataset3 has 6,538 pairs");
    eprintln!("dataset3: P {:.4} R {:.4} F1 {:.4}", s.precision, s.recall, s.f1);
    assert!(s.f1 >= 0.995, "F1 {:.4} (P {:.4} R {:.4})", s.f1, s.precision, s.recall);
    assert!(s.precision >= 0.995, "P {:.4}", s.precision);
}

#[test]
fn dataset1_dedup_is_near_perfect() {
    let (s, n) = dedup_with_library(&febrl("febrl.kensa"), "dataset1.csv");
    assert_eq!(n, 500);
    eprintln!("dataset1: P {:.4} R {:.4} F1 {:.4}", s.precision, s.recall, s.f1);
    assert!(s.f1 >= 0.995, "F1 {:.4} (P {:.4} R {:.4})", s.f1, s.precision, s.recall);
}

#[test]
fn training_from_rough_values_reaches_f1_0_995() {
    let dir = std::env::temp_dir().join(format!("kensa-febrl-train-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trained = dir.join("febrl.kensa");
    let rough = febrl("rough/febrl.kensa");
    let data = febrl("dataset3.csv");
    // Before training, the rough numbers fall short.
    let (before, _) = dedup_with_library(&rough, "dataset3.csv");
    let (_, log) = kensa(&[
        "train",
        "--rules",
        rough.to_str().unwrap(),
        "--random-pairs",
        "2000",
        "--out",
        trained.to_str().unwrap(),
        data.to_str().unwrap(),
    ]);
    assert!(log.contains("converged"), "{log}");
    // Only the numbers changed.
    let old = std::fs::read_to_string(&rough).unwrap();
    let new = std::fs::read_to_string(&trained).unwrap();
    let strip = |s: &str| s.chars().filter(|c| !c.is_ascii_digit() && *c != '.').collect::<String>();
    assert_eq!(strip(&old), strip(&new));
    let (after, _) = dedup_with_library(&trained, "dataset3.csv");
    eprintln!("rough: F1 {:.4}; trained: P {:.4} R {:.4} F1 {:.4}", before.f1, after.precision, after.recall, after.f1);
    assert!(after.f1 >= 0.995, "trained F1 {:.4}", after.f1);
    assert!(after.f1 > before.f1);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn dedup_command_writes_pairs_and_clusters() {
    let data = febrl("dataset1.csv");
    let (out, log) =
        kensa(&["dedup", "--rules", febrl("febrl.kensa").to_str().unwrap(), "--clusters", data.to_str().unwrap()]);
    assert!(log.contains("1000 records"), "{log}");
    let pairs = pairs_from_jsonl(&out);
    let records = read_csv(&data);
    let s = score(&pairs, &truth(&records));
    assert!(s.f1 >= 0.995, "F1 {:.4}", s.f1);
    // Pairs: left < right, sorted, once each; weights per comparison.
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let first = &lines[0];
    assert!(first["left"].as_str() < first["right"].as_str());
    assert!(first["probability"].as_f64().unwrap() >= 0.5);
    assert!(first["weights"]["soc_sec_id"]["weight"].is_number());
    let keys: Vec<(String, String)> = lines
        .iter()
        .filter(|v| v.get("left").is_some())
        .map(|v| (v["left"].as_str().unwrap().into(), v["right"].as_str().unwrap().into()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted);
    // Clusters follow the pairs: in dataset1 each original has one duplicate.
    let clusters: Vec<Vec<String>> = lines
        .iter()
        .filter_map(|v| v.get("cluster"))
        .map(|c| c.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .collect();
    assert_eq!(clusters.len(), 500);
    for c in &clusters {
        assert_eq!(c.len(), 2);
        assert_eq!(person(&c[0]), person(&c[1]));
    }
}

#[test]
fn link_command_links_duplicates_to_originals() {
    let dir = std::env::temp_dir().join(format!("kensa-febrl-link-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let records = read_csv(&febrl("dataset1.csv"));
    let (orgs, dups): (Vec<_>, Vec<_>) = records.iter().partition(|r| r["rec_id"].as_str().unwrap().ends_with("-org"));
    let write = |name: &str, rs: &[&serde_json::Value]| {
        let path = dir.join(name);
        let text: String = rs.iter().map(|r| format!("{r}\n")).collect();
        std::fs::write(&path, text).unwrap();
        path
    };
    let registry = write("orgs.jsonl", &orgs);
    let input = write("dups.jsonl", &dups);
    let (out, log) = kensa(&[
        "link",
        "--rules",
        febrl("febrl.kensa").to_str().unwrap(),
        "--registry",
        registry.to_str().unwrap(),
        "--best",
        input.to_str().unwrap(),
    ]);
    assert!(log.contains("500 records: 500 compared, 0 errors; against 500 registry records"), "{log}");
    let pairs = pairs_from_jsonl(&out);
    let right = pairs.iter().filter(|(l, r)| person(l) == person(r) && r.ends_with("-org")).count();
    assert!(right >= 495, "{right} of 500 duplicates linked to their original\n{log}");
    assert_eq!(right, pairs.len(), "every link is right");
    std::fs::remove_dir_all(&dir).ok();
}
