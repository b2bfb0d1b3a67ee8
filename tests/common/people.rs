//! Overlapping enrollment inputs whose truth is known, for the concurrency tests of every
//! store (tests/concurrency.rs on SQLite, tests/postgres.rs on PostgreSQL): distinct synthetic
//! people (clean records, each with its own My Number), half of every worker's records shared
//! with all other workers, and some people enrolled again by a neighbour under another id and
//! in another notation (spaced or full-width My Number, hiragana kana). Whatever the
//! interleaving, a registry must end with exactly one record per person. Include with
//! `#[path = "common/people.rs"] mod people;` next to `mod generator;`.
#![allow(dead_code, reason = "each test file uses part of it")]

use std::collections::{BTreeMap, BTreeSet};

use unicode_normalization::UnicodeNormalization;

use super::generator;

pub const TODAY: &str = "2026-11-27";
pub const WORKERS: usize = 4;
pub const SHARED: usize = 200;
const OWN: usize = 200;
/// Every how many of a worker's own people its neighbour enrolls again, written differently.
const AGAIN_EVERY: usize = 8;

pub fn my_number_key(v: &serde_json::Value) -> String {
    v["my_number"].as_str().unwrap_or_default().nfkc().filter(char::is_ascii_digit).collect()
}

/// The same person under another id and in other notations.
pub fn written_again(person: &serde_json::Value, n: usize, by: usize) -> serde_json::Value {
    let mut r = person.clone();
    r["id"] = serde_json::json!(format!("{}-again{by}", person["id"].as_str().unwrap()));
    let digits = my_number_key(person);
    let again = if n.is_multiple_of(2) {
        // Spaced as on the card.
        format!("{} {} {}", &digits[..4], &digits[4..8], &digits[8..])
    } else {
        // Full-width.
        digits.chars().map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap()).collect()
    };
    r["my_number"] = serde_json::json!(again);
    let kana: String = r["given_name_kana"]
        .as_str()
        .unwrap()
        .chars()
        .map(|c| if ('ァ'..='ヶ').contains(&c) { char::from_u32(c as u32 - 0x60).unwrap() } else { c })
        .collect();
    r["given_name_kana"] = serde_json::json!(kana);
    r
}

/// Each worker's records (shuffled) and the number of distinct people in all of them.
pub fn inputs(seed: u64) -> (Vec<Vec<serde_json::Value>>, usize) {
    let config = generator::Config { defect_rate: 0.0, bank_rate: 0.35, duplicate_rate: 0.0 };
    let mut g = generator::Generator::new(seed, config);
    // People with a My Number (the generator leaves it out of some records): it tells people apart.
    let people: Vec<serde_json::Value> = std::iter::repeat_with(|| g.value())
        .filter(|p| my_number_key(p).len() == 12)
        .take(SHARED + WORKERS * OWN)
        .collect();
    let distinct: BTreeSet<String> = people.iter().map(my_number_key).collect();
    assert_eq!(distinct.len(), people.len(), "every generated person has their own My Number");
    let (shared, own) = people.split_at(SHARED);
    let own: Vec<&[serde_json::Value]> = own.chunks(OWN).collect();
    let mut rng = generator::Rng::new(seed);
    let files = (0..WORKERS)
        .map(|w| {
            let mut rest: Vec<serde_json::Value> = own[w].to_vec();
            // The previous worker's people, enrolled again here under other ids.
            let neighbour = own[(w + WORKERS - 1) % WORKERS];
            rest.extend(neighbour.iter().step_by(AGAIN_EVERY).enumerate().map(|(n, p)| written_again(p, n, w)));
            for i in (1..rest.len()).rev() {
                rest.swap(i, rng.below(i + 1));
            }
            // The shared people first and in the same order everywhere, so that the workers
            // race for the same person; every other worker writes each of them differently.
            let mut records: Vec<serde_json::Value> = shared
                .iter()
                .enumerate()
                .map(|(i, p)| if (i + w) % 2 == 0 { p.clone() } else { written_again(p, i, w) })
                .collect();
            records.extend(rest);
            records
        })
        .collect();
    (files, people.len())
}

/// Each file's records enrolled by its own thread through `Engine::enroll`: into one registry
/// that all threads share (`one_registry`), or into one each thread opens itself with `open`.
/// Returns the ids reported enrolled.
pub fn run_threads<R: kensa::registry::Enroll>(
    engine: &kensa::Engine,
    open: &(dyn Fn() -> R + Sync),
    files: Vec<Vec<serde_json::Value>>,
    one_registry: bool,
) -> Vec<String> {
    let shared = if one_registry { Some(open()) } else { None };
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .into_iter()
            .map(|records| {
                let shared = shared.as_ref();
                s.spawn(move || {
                    // Without a shared registry, each thread opens (maybe creates) its own.
                    let own = if shared.is_none() { Some(open()) } else { None };
                    let reg = shared.or(own.as_ref()).unwrap();
                    let mut enrolled = Vec::new();
                    for r in records {
                        let id = r["id"].as_str().unwrap().to_string();
                        let e = engine.enroll(r, reg).unwrap();
                        if e.enrolled {
                            enrolled.push(id);
                        }
                    }
                    enrolled
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    })
}

/// One record per person, every person present, and every reported enrollment stored, given
/// what a store holds: how many records hold each (normalized) My Number, and the stored uids.
pub fn assert_one_per_person(
    people: &BTreeMap<String, usize>,
    uids: &BTreeSet<String>,
    distinct: usize,
    reported: &[String],
) {
    let twice: Vec<_> =
        people.iter().filter(|(_, n)| **n > 1).map(|(k, _)| kensa::normalize::digits::mask(k)).collect();
    assert!(twice.is_empty(), "people enrolled more than once: {twice:?}");
    assert_eq!(people.len(), distinct, "every distinct person is enrolled once");
    assert_eq!(uids.len(), distinct);
    let unique: BTreeSet<&String> = reported.iter().collect();
    assert_eq!(unique.len(), reported.len(), "a record was reported enrolled twice");
    for id in reported {
        assert!(uids.contains(&format!("id:{id}")), "`{id}` was reported enrolled but is not stored");
    }
    assert_eq!(reported.len(), uids.len(), "every stored record was reported enrolled by some worker");
}
