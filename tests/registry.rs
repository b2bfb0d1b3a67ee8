//! The registry database: import, stats, lookups that agree with the in-memory registry,
//! enrollment (also two processes racing), crash safety, and stale keys after a rule change.
//! Runs the real `kensa` binary where processes matter, the public API elsewhere.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use kensa::registry::{Registry, SqliteRegistry};
use kensa::{Decision, Engine};

const KENSA: &str = env!("CARGO_BIN_EXE_kensa");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const TODAY: &str = "2026-11-27";

/// A fresh, empty folder for one test.
fn workdir(case: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kensa-registry-{}-{case}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn kensa(args: &[&str]) -> Output {
    Command::new(KENSA).args(args).output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn example(name: &str) -> String {
    format!("{ROOT}/examples/{name}")
}

fn engine() -> Engine {
    Engine::builtin().unwrap().with_today(kensa::Date::parse(TODAY).unwrap())
}

/// The records of `examples/enrollment-cases.jsonl` (without their expectations).
fn cases() -> Vec<serde_json::Value> {
    std::fs::read_to_string(example("enrollment-cases.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["record"].clone())
        .collect()
}

fn write_jsonl(path: &Path, records: &[serde_json::Value]) {
    let text: String = records.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(path, text).unwrap();
}

fn import(db: &Path, file: &str) -> String {
    let out = kensa(&["registry", "import", file, "--db", db.to_str().unwrap(), "--today", TODAY]);
    ok(&out);
    String::from_utf8(out.stderr).unwrap()
}

fn stats(db: &Path) -> serde_json::Value {
    serde_json::from_str(&ok(&kensa(&["registry", "stats", "--json", "--db", db.to_str().unwrap()]))).unwrap()
}

/// Integrity check, and every record has its keys and every key its record.
fn assert_consistent(db: &Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let q = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    let records = q("SELECT count(*) FROM records");
    let keys = q("SELECT count(*) FROM keys");
    assert_eq!(q("SELECT count(*) FROM keys WHERE record NOT IN (SELECT rowid FROM records)"), 0, "orphan keys");
    // Every test record has a name, so every stored record has keys.
    assert_eq!(
        q("SELECT count(*) FROM records WHERE rowid NOT IN (SELECT record FROM keys)"),
        0,
        "records without keys"
    );
    (records, keys)
}

#[test]
fn import_stats_and_lookups_agree_with_the_memory_registry() {
    let dir = workdir("import");
    let db = dir.join("registry.db");
    let first = import(&db, &example("registry.jsonl"));
    assert!(first.contains("2206 records: 2206 imported"), "{first}");
    // Importing again stores nothing twice.
    let again = import(&db, &example("registry.jsonl"));
    assert!(again.contains("2206 records: 0 imported") && again.contains("2206 already stored"), "{again}");

    let s = stats(&db);
    assert_eq!(s["records"], 2206);
    assert_eq!(s["keys_current"], true);
    assert_eq!(s["keys"][0]["keys"], 2206);
    assert!(s["file_bytes"].as_u64().unwrap() > 0);
    assert_consistent(&db);

    // The binary: the same output with the database as with the JSONL file.
    let input = dir.join("cases.jsonl");
    write_jsonl(&input, &cases());
    let eval =
        |registry: &str| ok(&kensa(&["eval", "--today", TODAY, "--registry", registry, input.to_str().unwrap()]));
    let from_db = eval(db.to_str().unwrap());
    assert_eq!(from_db, eval(&example("registry.jsonl")));
    assert!(from_db.contains("registry.already_enrolled") && from_db.contains("registry.number_held_by_other"));

    // The library: the same candidates and decisions.
    let engine = engine();
    let sqlite = SqliteRegistry::open_read(&db, &engine.key_version()).unwrap();
    let text = std::fs::read_to_string(example("registry.jsonl")).unwrap();
    let memory = engine.memory_registry(text.lines().map(|l| serde_json::from_str(l).unwrap()));
    assert_eq!(sqlite.len(), memory.len());
    for record in cases() {
        let keys = engine.blocking_keys(&record);
        assert_eq!(sqlite.candidates(&keys).unwrap(), memory.candidates(&keys).unwrap());
        let a = engine.evaluate_in(&record, &sqlite).unwrap();
        let b = engine.evaluate_in(&record, &memory).unwrap();
        // Whole verdicts, evidence included: the memory registry judges from the values it
        // kept beside each record (`StoredProfile`), SQLite from the records' JSON.
        assert_eq!(a, b, "{}", record["id"]);
    }
}

#[test]
fn enrolling_the_same_record_twice_accepts_it_once() {
    let dir = workdir("twice");
    let db = dir.join("registry.db");
    import(&db, &example("registry.jsonl"));
    let engine = engine();
    let keys = |v: &serde_json::Value| engine.blocking_keys(v);
    let reg = SqliteRegistry::open_write(&db, &engine.key_version(), &keys).unwrap();
    let record =
        cases().into_iter().find(|r| engine.evaluate_in(r, &reg).unwrap().decision == Decision::Accept).unwrap();

    let first = engine.enroll(record.clone(), &reg).unwrap();
    assert_eq!(first.verdict.decision, Decision::Accept);
    assert!(first.enrolled && !first.already_stored);
    let second = engine.enroll(record.clone(), &reg).unwrap();
    assert!(!second.enrolled && second.already_stored);
    assert_ne!(second.verdict.decision, Decision::Accept);
    assert!(second.verdict.findings.iter().any(|f| f.rule == "registry.already_enrolled"));

    // The same person under another application id: a duplicate, not enrolled.
    let mut other = record;
    other["id"] = serde_json::json!("X-other-window");
    let third = engine.enroll(other, &reg).unwrap();
    assert!(!third.enrolled && !third.already_stored);
    assert!(third.verdict.findings.iter().any(|f| f.rule.starts_with("registry.")));
    assert_eq!(reg.len(), 2207);
}

/// The records of the cases that the standard rules accept against the example registry.
fn accepted_cases(engine: &Engine) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(example("registry.jsonl")).unwrap();
    let memory = engine.memory_registry(text.lines().map(|l| serde_json::from_str(l).unwrap()));
    cases().into_iter().filter(|r| engine.evaluate_in(r, &memory).unwrap().decision == Decision::Accept).collect()
}

#[test]
fn two_processes_enrolling_the_same_people_enroll_each_once() {
    let dir = workdir("race");
    let db = dir.join("registry.db");
    import(&db, &example("registry.jsonl"));
    let engine = engine();
    let people = accepted_cases(&engine);
    assert!(people.len() >= 20, "{}", people.len());
    // Two clerks receive the same people, each under their own application id.
    let a: Vec<_> = people.iter().map(|r| with_id(r, "A")).collect();
    let b: Vec<_> = people.iter().map(|r| with_id(r, "B")).collect();
    write_jsonl(&dir.join("a.jsonl"), &a);
    write_jsonl(&dir.join("b.jsonl"), &b);

    let spawn = |file: &str| {
        Command::new(KENSA)
            .args(["enroll", "--today", TODAY, "--db", db.to_str().unwrap(), dir.join(file).to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (pa, pb) = (spawn("a.jsonl"), spawn("b.jsonl"));
    let (oa, ob) = (pa.wait_with_output().unwrap(), pb.wait_with_output().unwrap());
    let enrolled = |out: &Output| -> Vec<bool> {
        ok(out)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["enrolled"].as_bool().unwrap())
            .collect()
    };
    let (ea, eb) = (enrolled(&oa), enrolled(&ob));
    assert_eq!(ea.len(), people.len());
    assert_eq!(eb.len(), people.len());
    for (i, person) in people.iter().enumerate() {
        assert!(ea[i] ^ eb[i], "{}: enrolled by A {}, by B {}", person["id"], ea[i], eb[i]);
    }
    let (records, _) = assert_consistent(&db);
    assert_eq!(records, 2206 + people.len() as i64);
    // In the file: exactly one copy of each person.
    let conn = rusqlite::Connection::open(&db).unwrap();
    for person in &people {
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM records WHERE uid IN (?1, ?2)",
                [format!("id:A{}", person["id"].as_str().unwrap()), format!("id:B{}", person["id"].as_str().unwrap())],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "{}", person["id"]);
    }
}

fn with_id(record: &serde_json::Value, prefix: &str) -> serde_json::Value {
    let mut r = record.clone();
    r["id"] = serde_json::json!(format!("{prefix}{}", record["id"].as_str().unwrap()));
    r
}

/// `n` distinct residents made from the example registry (new ids and My Numbers; the number
/// check digits are not valid, which does not matter for importing).
fn many_residents(n: usize) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(example("registry.jsonl")).unwrap();
    let base: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (0..n)
        .map(|i| {
            let mut r = base[i % base.len()].clone();
            r["id"] = serde_json::json!(format!("M{i:08}"));
            r["my_number"] = serde_json::json!(format!("9{i:011}"));
            r
        })
        .collect()
}

/// Kill `child` once the database holds at least `min` records (or after a deadline).
fn kill_when(child: &mut std::process::Child, db: &Path, min: i64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        let n = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|c| c.query_row("SELECT count(*) FROM records", [], |r| r.get::<_, i64>(0)))
            .unwrap_or(0);
        if n >= min {
            child.kill().unwrap();
            child.wait().unwrap();
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the process did not reach {min} records in time");
}

#[test]
fn a_killed_import_leaves_a_consistent_database_and_a_rerun_completes_it() {
    let dir = workdir("crash-import");
    let db = dir.join("registry.db");
    let input = dir.join("many.jsonl");
    let n = 30_000;
    write_jsonl(&input, &many_residents(n));
    let mut child = Command::new(KENSA)
        .args(["registry", "import", input.to_str().unwrap(), "--db", db.to_str().unwrap(), "--batch", "1000"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let killed = kill_when(&mut child, &db, 2000);
    let (records, _) = assert_consistent(&db);
    if killed {
        assert!(records < n as i64, "{records}");
        assert_eq!(records % 1000, 0, "only whole batches are committed");
    }
    let rerun = import(&db, input.to_str().unwrap());
    assert!(rerun.contains(&format!("{} already stored", records)), "{rerun}");
    let (records, keys) = assert_consistent(&db);
    assert_eq!(records, n as i64);
    assert!(keys >= 4 * n as i64);
}

#[test]
fn a_killed_enroll_leaves_a_consistent_database_and_a_rerun_is_safe() {
    let dir = workdir("crash-enroll");
    let db = dir.join("registry.db");
    let input = PathBuf::from(example("registry.jsonl"));
    let n = 2206;
    let mut child = Command::new(KENSA)
        .args(["enroll", "--today", TODAY, input.to_str().unwrap(), "--db", db.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    kill_when(&mut child, &db, 100);
    let (before, _) = assert_consistent(&db);
    let out = kensa(&["enroll", "--today", TODAY, input.to_str().unwrap(), "--db", db.to_str().unwrap()]);
    let lines: Vec<serde_json::Value> = ok(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), n);
    // What the killed run enrolled is not enrolled again.
    let stored = lines.iter().filter(|v| v["already_stored"] == true).count();
    assert_eq!(stored as i64, before);
    assert!(lines.iter().filter(|v| v["already_stored"] == true).all(|v| v["enrolled"] == false));
    let enrolled = lines.iter().filter(|v| v["enrolled"] == true).count() as i64;
    let (after, _) = assert_consistent(&db);
    assert_eq!(after, before + enrolled);
}

use cli::rules_copy;

#[test]
fn keys_built_by_other_rules_are_detected_and_rebuilt() {
    let dir = workdir("fingerprint");
    let db = dir.join("registry.db");
    let same = rules_copy(&dir, "same", |t| t.to_string());
    let reworded = rules_copy(&dir, "reworded", |t| {
        t.replace("既に登録されています。二重登録ではありませんか", "登録済みです")
            .replace("  block on", "  block   on")
    });
    let changed =
        rules_copy(&dir, "changed", |t| t.replace("block on address_key\n", "block on address_key ++ \"/\"\n"));
    let fp = |p: &Path| Engine::from_dir(p).unwrap().fingerprint();
    assert_eq!(fp(&same), engine().fingerprint());
    assert_eq!(fp(&reworded), fp(&same), "messages and spacing do not change the keys");
    assert_ne!(fp(&changed), fp(&same));

    let db_s = db.to_str().unwrap();
    ok(&kensa(&["registry", "import", &example("registry.jsonl"), "--db", db_s, "--rules", same.to_str().unwrap()]));
    let input = dir.join("cases.jsonl");
    write_jsonl(&input, &cases());
    let eval = |rules: &Path| {
        kensa(&[
            "eval",
            "--today",
            TODAY,
            "--rules",
            rules.to_str().unwrap(),
            "--registry",
            db_s,
            input.to_str().unwrap(),
        ])
    };
    ok(&eval(&reworded));

    // Read-only: a clear error that says how to rebuild.
    let stale = eval(&changed);
    assert_eq!(stale.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&stale.stderr);
    assert!(stderr.contains("rules_fingerprint") && stderr.contains("kensa registry rebuild --db"), "{stderr}");
    let s = ok(&kensa(&["registry", "stats", "--json", "--db", db_s, "--rules", changed.to_str().unwrap()]));
    assert!(s.contains("\"keys_current\":false"), "{s}");

    // Writing: the keys are rebuilt, then lookups work with the new rules.
    let rebuilt = kensa(&["registry", "rebuild", "--db", db_s, "--rules", changed.to_str().unwrap()]);
    ok(&rebuilt);
    assert!(String::from_utf8_lossy(&rebuilt.stderr).contains("keys of 2206 records were rebuilt"));
    ok(&eval(&changed));
    let conn = rusqlite::Connection::open(&db).unwrap();
    let key: String = conn.query_row("SELECT key FROM keys WHERE block = 3 LIMIT 1", [], |r| r.get(0)).unwrap();
    assert!(key.ends_with('/'), "{key}");
    assert_consistent(&db);
}

/// The term-frequency adjustment of the `name` comparison of `record` (a copy of an enrolled
/// resident under another id) against that resident.
fn name_adjustment(engine: &Engine, registry: &dyn Registry, record: &serde_json::Value) -> f64 {
    let mut copy = record.clone();
    copy["id"] = serde_json::json!("COPY");
    let matches = engine.matches_in(&copy, registry).unwrap();
    let m = matches.iter().find(|m| m.id == record["id"].as_str().unwrap()).expect("the resident is a candidate");
    let name = m.comparisons.iter().find(|c| c.name == "name").unwrap();
    assert_eq!(name.level.as_deref(), Some("same"));
    name.frequency_adjustment.expect("the family name agrees, so it is weighed")
}

#[test]
fn family_names_are_weighed_by_how_common_they_are() {
    let dir = workdir("frequency");
    let db = dir.join("registry.db");
    import(&db, &example("registry.jsonl"));
    let engine = engine();
    let keys = |v: &serde_json::Value| engine.blocking_keys(v);
    let sqlite = SqliteRegistry::open_write(&db, &engine.key_version(), &keys).unwrap();
    let text = std::fs::read_to_string(example("registry.jsonl")).unwrap();
    let residents: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let memory = engine.memory_registry(residents.clone());

    // The most common family name of the registry, and one that only one resident has.
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for r in &residents {
        *counts.entry(r["family_name"].as_str().unwrap()).or_default() += 1;
    }
    let common = residents.iter().max_by_key(|r| counts[r["family_name"].as_str().unwrap()]).unwrap();
    let rare = residents.iter().min_by_key(|r| counts[r["family_name"].as_str().unwrap()]).unwrap();
    let rare_n = counts[rare["family_name"].as_str().unwrap()] as u64;
    assert!(counts[common["family_name"].as_str().unwrap()] >= 20 && rare_n <= 5);

    // The registry's own counts (2,206 residents, 104 family names): the common name weighs
    // less than an average one, the rare name more; the embedded store and the memory registry
    // count alike.
    for registry in [&sqlite as &dyn Registry, &memory] {
        let (c, r) = (name_adjustment(&engine, registry, common), name_adjustment(&engine, registry, rare));
        assert!(c < -0.5 && r > 2.0, "common {c}, rare {r}");
    }
    let c = name_adjustment(&engine, &sqlite, common);
    assert!((c - name_adjustment(&engine, &memory, common)).abs() < 1e-9);

    // Enrolling counts: the rare name's count goes up by one.
    let rare_keys = engine.blocking_keys(rare);
    let count = |reg: &SqliteRegistry| {
        let lookup = reg.candidates(&rare_keys).unwrap();
        assert_eq!(lookup.terms.len(), 1, "one counted value: the family name");
        (lookup.terms[0].count, lookup.terms[0].total)
    };
    assert_eq!(count(&sqlite), (rare_n, 2206));
    let mut sibling = rare.clone();
    for (field, value) in [("id", "NEW-1"), ("given_name", "新太"), ("given_name_kana", "アラタ"), ("my_number", "")]
    {
        sibling[field] = serde_json::json!(value);
    }
    sibling["birth_date"] = serde_json::json!("2001-01-01");
    engine.enroll(sibling, &sqlite).unwrap();
    assert_eq!(count(&sqlite), (rare_n + 1, 2207));
    drop(sqlite);

    // Rebuilding the keys counts the same.
    ok(&kensa(&["registry", "rebuild", "--db", db.to_str().unwrap()]));
    let reopened = SqliteRegistry::open_read(&db, &engine.key_version()).unwrap();
    assert_eq!(count(&reopened), (rare_n + 1, 2207));

    // A registry too small to count is weighed by the rules' table of common family names:
    // 佐藤 weighs less, a name the table does not list more.
    let mut sato = rare.clone();
    sato["family_name"] = serde_json::json!("佐藤");
    sato["id"] = serde_json::json!("SATO");
    let mut teshigawara = rare.clone();
    teshigawara["family_name"] = serde_json::json!("勅使河原");
    teshigawara["id"] = serde_json::json!("TESHIGAWARA");
    let small = engine.memory_registry(vec![sato.clone(), teshigawara.clone()]);
    assert!(small.len() < kensa::MIN_COUNTED as usize);
    let (s, t) = (name_adjustment(&engine, &small, &sato), name_adjustment(&engine, &small, &teshigawara));
    assert!(s < -2.0 && t > 2.0, "佐藤 {s}, 勅使河原 {t}");
}
