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
#[path = "common/people.rs"]
mod people;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};

use cli::{KENSA, workdir};
use kensa::registry::SqliteRegistry;
use kensa::{Date, Engine};
use people::{TODAY, inputs, my_number_key};
use rusqlite::{Connection, OpenFlags};

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
    people::assert_one_per_person(&people, &uids, distinct, reported);
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
    let keys = |v: &serde_json::Value| engine.blocking_keys(v);
    let open = || SqliteRegistry::open_write(db, &engine.key_version(), &keys).unwrap();
    people::run_threads(&engine, &open, files, one_registry)
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

/// Openers that start at the same moment on a file that does not exist yet: the first creates
/// it and switches it to WAL, the others wait for that (the busy timeout promises it) instead
/// of failing with "database is locked". One round rarely hits the window, so many rounds run.
#[test]
fn threads_opening_a_new_file_at_the_same_moment_wait_instead_of_failing() {
    let dir = workdir("fresh-threads");
    let engine = Engine::builtin().unwrap().with_today(Date::parse(TODAY).unwrap());
    let keys = |v: &serde_json::Value| engine.blocking_keys(v);
    let version = engine.key_version();
    const ROUNDS: usize = 200;
    const OPENERS: usize = 12;
    let mut failures = Vec::new();
    for round in 0..ROUNDS {
        let db = dir.join(format!("fresh{round}.db"));
        let start = std::sync::Barrier::new(OPENERS);
        std::thread::scope(|s| {
            let openers: Vec<_> = (0..OPENERS)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        SqliteRegistry::open_write(&db, &version, &keys).err().map(|e| e.to_string())
                    })
                })
                .collect();
            failures.extend(openers.into_iter().filter_map(|o| o.join().unwrap()));
        });
    }
    assert!(
        failures.is_empty(),
        "{} of {} opens failed, e.g. {:?}",
        failures.len(),
        ROUNDS * OPENERS,
        failures.first()
    );
}
