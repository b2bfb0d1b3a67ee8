//! Several processes (`kensa enroll`) and several threads (`Engine::enroll`) enrolling
//! overlapping records into one registry file at once never store two copies of one person and
//! never lose a record they reported as enrolled.
//!
//! The input is built so that the truth is known: distinct synthetic people (clean records, each
//! with its own My Number), half of every worker's records shared with all other workers, and
//! some people enrolled again by a neighbour under another id and in another notation (spaced or
//! full-width My Number, hiragana kana). Whatever the interleaving, the registry must end with
//! exactly one record per person.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;

#[path = "../benches/common/gen.rs"]
#[allow(dead_code, reason = "the generator has more than these tests use")]
mod generator;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};

use cli::{KENSA, workdir};
use kensa::registry::SqliteRegistry;
use kensa::{Date, Engine};
use rusqlite::{Connection, OpenFlags};
use unicode_normalization::UnicodeNormalization;

const TODAY: &str = "2026-11-27";
const WORKERS: usize = 4;
const SHARED: usize = 200;
const OWN: usize = 200;
/// Every how many of a worker's own people its neighbour enrolls again, written differently.
const AGAIN_EVERY: usize = 8;

fn my_number_key(v: &serde_json::Value) -> String {
    v["my_number"].as_str().unwrap_or_default().nfkc().filter(char::is_ascii_digit).collect()
}

/// The same person under another id and in other notations.
fn written_again(person: &serde_json::Value, n: usize, by: usize) -> serde_json::Value {
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
fn inputs(seed: u64) -> (Vec<Vec<serde_json::Value>>, usize) {
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

/// The stored records' My Numbers (normalized), with how many records hold each.
fn stored_people(db: &Path) -> (BTreeMap<String, usize>, BTreeSet<String>) {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
    let mut people: BTreeMap<String, usize> = BTreeMap::new();
    let mut uids = BTreeSet::new();
    let mut st = conn.prepare("SELECT uid, json FROM records").unwrap();
    for row in st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).unwrap() {
        let (uid, json) = row.unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        *people.entry(my_number_key(&v)).or_default() += 1;
        uids.insert(uid);
    }
    (people, uids)
}

/// One record per person, every person present, and every reported enrollment stored.
fn assert_one_per_person(db: &Path, distinct: usize, reported: &[String]) {
    let (people, uids) = stored_people(db);
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

#[test]
fn processes_enrolling_overlapping_files_at_once_store_each_person_once() {
    let dir = workdir("processes");
    let (files, distinct) = inputs(21);
    let db = dir.join("shared.db");
    let children: Vec<_> = files
        .iter()
        .enumerate()
        .map(|(w, records)| {
            let path = dir.join(format!("clerk{w}.jsonl"));
            let text: String = records.iter().map(|r| format!("{r}\n")).collect();
            std::fs::write(&path, text).unwrap();
            // All start on a registry file that does not exist yet.
            Command::new(KENSA)
                .args(["enroll", "--today", TODAY, "--db"])
                .arg(&db)
                .arg(&path)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut reported = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "a clerk's enroll failed: {stderr}");
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(v.get("error").is_none(), "{line}");
            if v["enrolled"] == serde_json::json!(true) {
                reported.push(v["id"].as_str().unwrap().to_string());
            }
        }
    }
    assert_one_per_person(&db, distinct, &reported);
}

fn run_threads(db: &Path, files: Vec<Vec<serde_json::Value>>, one_registry: bool) -> Vec<String> {
    let engine = Engine::builtin().unwrap().with_today(Date::parse(TODAY).unwrap());
    let open = || {
        let keys = |v: &serde_json::Value| engine.blocking_keys(v);
        SqliteRegistry::open_write(db, &engine.key_version(), &keys).unwrap()
    };
    let shared = if one_registry { Some(open()) } else { None };
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .into_iter()
            .map(|records| {
                let (engine, shared, open) = (&engine, shared.as_ref(), &open);
                s.spawn(move || {
                    // Without a shared registry, each thread opens (maybe creates) the file itself.
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

#[test]
fn threads_sharing_one_registry_store_each_person_once() {
    let dir = workdir("threads-shared");
    let (files, distinct) = inputs(22);
    let db = dir.join("shared.db");
    let reported = run_threads(&db, files, true);
    assert_one_per_person(&db, distinct, &reported);
}

#[test]
fn threads_each_opening_the_file_store_each_person_once() {
    let dir = workdir("threads-own");
    let (files, distinct) = inputs(23);
    let db = dir.join("shared.db");
    let reported = run_threads(&db, files, false);
    assert_one_per_person(&db, distinct, &reported);
}
