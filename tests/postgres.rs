//! The PostgreSQL registry against a real server: layout migrations, the same verdicts as the
//! embedded store (the standard suites and the bundled examples through both), enrollment from
//! several processes and threads at once that never stores a person twice, stale keys, and
//! clear errors.
//!
//! The server comes from `KENSA_TEST_POSTGRES` (a URL whose user may create schemas), which
//! `.ci/run` sets after starting one with `scripts/pg-server start`. Without it the tests that
//! need a server say so and pass — except in CI (`CI` or `KENSA_REQUIRE_POSTGRES` set), where
//! they fail. Each test works in its own schema, dropped at the end.
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;
#[path = "../benches/common/gen.rs"]
#[allow(dead_code, reason = "the generator has more than these tests use")]
mod generator;
#[path = "common/people.rs"]
mod people;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};

use cli::{KENSA, ROOT, rules_copy, workdir};
use kensa::registry::{Enroll, PgOptions, PostgresRegistry, Registry, SqliteRegistry, Store};
use kensa::{Date, Engine};
use people::{TODAY, inputs, my_number_key};

/// The test server's URL, or `None` (after saying why) when there is none outside CI.
fn server() -> Option<String> {
    match std::env::var("KENSA_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() || std::env::var_os("KENSA_REQUIRE_POSTGRES").is_some() => panic!(
            "no PostgreSQL server for the tests: set KENSA_TEST_POSTGRES (.ci/run starts one with `scripts/pg-server start`)"
        ),
        _ => {
            eprintln!(
                "SKIPPED: no PostgreSQL server (KENSA_TEST_POSTGRES is not set); \
                 run `eval \"$(scripts/pg-server start)\"` first to run this test"
            );
            None
        }
    }
}

/// A schema of its own for one test, dropped when the test ends.
struct Schema {
    base: String,
    name: String,
}

impl Schema {
    fn new(base: &str, tag: &str) -> Schema {
        let name = format!("kensa_t_{}_{tag}", std::process::id());
        let mut c = postgres::Client::connect(base, postgres::NoTls).unwrap();
        c.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}")).unwrap();
        Schema { base: base.to_string(), name }
    }

    /// The URL that puts kensa's tables in this schema (for the CLI).
    fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}options=-csearch_path%3D{}", self.base, self.name)
    }

    fn options(&self) -> PgOptions {
        PgOptions { schema: Some(self.name.clone()), ..PgOptions::default() }
    }

    fn client(&self) -> postgres::Client {
        let mut c = postgres::Client::connect(&self.base, postgres::NoTls).unwrap();
        c.batch_execute(&format!("SET search_path = {}", self.name)).unwrap();
        c
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        match postgres::Client::connect(&self.base, postgres::NoTls) {
            Err(e) => eprintln!("cannot connect to drop schema {}: {e}", self.name),
            Ok(mut c) => {
                if let Err(e) = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name)) {
                    eprintln!("cannot drop schema {}: {e}", self.name);
                }
            }
        }
    }
}

fn kensa(args: &[&str]) -> Output {
    Command::new(KENSA).args(args).current_dir(ROOT).stdin(Stdio::null()).output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "kensa failed ({:?}): {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn engine() -> Engine {
    Engine::builtin().unwrap().with_today(Date::parse(TODAY).unwrap())
}

fn keys_of(engine: &Engine) -> impl Fn(&serde_json::Value) -> Vec<(u32, String)> + Sync + '_ {
    |v| engine.blocking_keys(v)
}

#[test]
fn an_unreachable_server_is_a_clear_error_that_hides_the_password() {
    for args in [
        vec!["eval", "--registry", "postgres://clerk:s3cret@127.0.0.1:1/kensa", "examples/enrollment.jsonl"],
        vec!["registry", "stats", "--db", "postgres://clerk:s3cret@127.0.0.1:1/kensa"],
        vec!["enroll", "--db", "postgresql://clerk:s3cret@127.0.0.1:1/kensa", "examples/enrollment.jsonl"],
    ] {
        let out = kensa(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("cannot connect") && stderr.contains("clerk:***@127.0.0.1:1"), "{stderr}");
        assert!(!stderr.contains("s3cret"), "the password was printed: {stderr}");
        assert!(out.stdout.is_empty(), "nothing is judged without the registry");
    }
    let out = kensa(&["registry", "stats", "--db", "postgres://clerk@[::1/kensa"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a PostgreSQL URL"));
    let out = kensa(&["registry", "stats", "--db", "postgres://clerk@127.0.0.1:1/kensa?sslmode=require"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no TLS"));
}

#[test]
fn migrations_create_the_layout_once_and_a_newer_layout_is_refused() {
    let Some(base) = server() else { return };
    let s = Schema::new(&base, "migrate");
    let engine = engine();
    let keys = keys_of(&engine);

    // Read-only on an empty database: says how to create a registry.
    let e = PostgresRegistry::open_read(&base, &s.options(), &engine.key_version()).unwrap_err().to_string();
    assert!(e.contains("no kensa registry") && e.contains("kensa registry import --db"), "{e}");

    for _ in 0..3 {
        let reg = PostgresRegistry::open_write(&base, &s.options(), &engine.key_version(), &keys).unwrap();
        assert!(reg.rebuilt().is_none());
    }
    let mut c = s.client();
    let applied: Vec<(i32, String)> = c
        .query("SELECT version, description FROM kensa_schema_migrations ORDER BY version", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let want: Vec<(i32, String)> =
        kensa::registry::postgres::MIGRATIONS.iter().map(|(v, d, _)| (*v, (*d).to_string())).collect();
    assert_eq!(applied, want, "each migration is applied once, in order");
    let tables: BTreeSet<String> = c
        .query("SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1", &[&s.name])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        tables,
        ["kensa_keys", "kensa_meta", "kensa_records", "kensa_schema_migrations", "kensa_term_totals", "kensa_terms"]
            .map(String::from)
            .into()
    );
    PostgresRegistry::open_read(&base, &s.options(), &engine.key_version()).unwrap();

    // A layout from a newer kensa: refused for reading and writing, and left untouched.
    c.execute("INSERT INTO kensa_schema_migrations (version, description) VALUES (99, 'future')", &[]).unwrap();
    let read = PostgresRegistry::open_read(&base, &s.options(), &engine.key_version()).unwrap_err().to_string();
    let write =
        PostgresRegistry::open_write(&base, &s.options(), &engine.key_version(), &keys).unwrap_err().to_string();
    for e in [read, write] {
        assert!(e.contains("layout version 99") && e.contains("newer kensa"), "{e}");
    }
}

/// `kensa test --format json` case outcomes: `(suite, case) → status`, and the summary.
fn suite_outcomes(extra: &[&str]) -> (BTreeMap<(String, String), String>, serde_json::Value) {
    let mut args = vec!["test", "--format", "json"];
    args.extend_from_slice(extra);
    let out = kensa(&args);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no JSON from kensa test: {}", String::from_utf8_lossy(&out.stderr)));
    let mut cases = BTreeMap::new();
    for suite in v["suites"].as_array().unwrap() {
        assert!(suite["error"].is_null(), "suite error: {}", suite["error"]);
        for c in suite["cases"].as_array().unwrap() {
            let key = (suite["file"].as_str().unwrap().to_string(), c["name"].as_str().unwrap().to_string());
            cases.insert(key, c["status"].as_str().unwrap().to_string());
        }
    }
    (cases, serde_json::json!({"passed": v["passed"], "failed": v["failed"], "skipped": v["skipped"]}))
}

#[test]
fn the_standard_suites_pass_the_same_on_memory_sqlite_and_postgres() {
    let Some(base) = server() else { return };
    let (memory, summary) = suite_outcomes(&[]);
    assert!(memory.len() > 100, "the standard suites were found: {summary}");
    assert!(memory.values().all(|s| s == "passed"), "{summary}");
    let (sqlite, _) = suite_outcomes(&["--registry-store", "sqlite"]);
    let (server_side, _) = suite_outcomes(&["--registry-store", &base]);
    assert_eq!(sqlite, memory, "the suites on the embedded store");
    assert_eq!(server_side, memory, "the suites on PostgreSQL");

    // The store is really used: an unreachable server fails the suite that has a registry.
    let out = kensa(&["test", "--registry-store", "postgres://kensa@127.0.0.1:1/kensa"]);
    assert_eq!(out.status.code(), Some(2), "a suite that cannot run is unusable input");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("cannot connect"), "{text}");

    // The temporary schemas are gone.
    let mut c = postgres::Client::connect(&base, postgres::NoTls).unwrap();
    let left: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE $1",
            &[&format!("kensa_suite_{}%", std::process::id())],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
}

#[test]
fn eval_and_enroll_give_the_same_output_on_sqlite_and_postgres() {
    let Some(base) = server() else { return };
    let s = Schema::new(&base, "verdicts");
    let dir = workdir("pg-verdicts");
    let db = dir.join("registry.db");
    let (db, url) = (db.to_str().unwrap(), s.url());
    let import = |target: &str| {
        let out = kensa(&["registry", "import", "examples/registry.jsonl", "--db", target]);
        ok(&out);
        // Without the line that says which rules were used (the default `./rules`).
        without_rules_line(&String::from_utf8_lossy(&out.stderr))
    };
    let (a, b) = (import(db), import(&url));
    assert!(a.starts_with("2206 records: 2206 imported") && b.starts_with("2206 records: 2206 imported"), "{a}{b}");
    assert!(import(&url).starts_with("2206 records: 0 imported"), "a second import stores nothing");

    for input in ["examples/enrollment.jsonl", "examples/enrollment-cases.jsonl"] {
        let eval = |registry: &str| ok(&kensa(&["eval", "--today", TODAY, "--registry", registry, input]));
        let memory = eval("examples/registry.jsonl");
        assert!(memory.lines().count() > 50, "{input}");
        assert_eq!(eval(db), memory, "{input} on SQLite");
        assert_eq!(eval(&url), memory, "{input} on PostgreSQL");
    }
    // Enrollment, twice: the second time every accepted record of the first is a duplicate.
    for round in 0..2 {
        let enroll =
            |registry: &str| ok(&kensa(&["enroll", "--today", TODAY, "--db", registry, "examples/enrollment.jsonl"]));
        let (on_file, on_server) = (enroll(db), enroll(&url));
        assert_eq!(on_server, on_file, "round {round}");
        let enrolled = on_server.lines().filter(|l| l.contains("\"enrolled\":true")).count();
        assert_eq!(enrolled == 0, round == 1, "round {round}: {enrolled} enrolled");
    }
    let stats = |target: &str| -> serde_json::Value {
        serde_json::from_str(&ok(&kensa(&["registry", "stats", "--json", "--db", target]))).unwrap()
    };
    let (mut f, mut p) = (stats(db), stats(&url));
    assert_eq!(p["records"], f["records"]);
    assert_eq!(p["keys"], f["keys"]);
    // Each store numbers its own table layout (SQLite 2: row checksums; PostgreSQL: its
    // migrations); the key version is the same.
    let layout = |v: &mut serde_json::Value| v["meta"].as_object_mut().unwrap().remove("schema_version").unwrap();
    assert_eq!((layout(&mut f), layout(&mut p)), (serde_json::json!("2"), serde_json::json!("2")));
    assert_eq!(p["meta"], f["meta"]);
    assert_eq!(p["keys_current"], true);
    assert_eq!((&p["integrity"]["ok"], &f["integrity"]["ok"]), (&serde_json::json!(true), &serde_json::json!(true)));
}

/// The stored records' My Numbers (normalized), with how many records hold each; and the uids.
fn stored_people(s: &Schema) -> (BTreeMap<String, usize>, BTreeSet<String>) {
    let mut c = s.client();
    let mut people: BTreeMap<String, usize> = BTreeMap::new();
    let mut uids = BTreeSet::new();
    for row in c.query("SELECT uid, json FROM kensa_records", &[]).unwrap() {
        let v: serde_json::Value = serde_json::from_str(row.get(1)).unwrap();
        *people.entry(my_number_key(&v)).or_default() += 1;
        uids.insert(row.get::<_, String>(0));
    }
    // Every record has its keys, and no key points at a missing record.
    let orphans: i64 = c
        .query_one(
            "SELECT count(*) FROM kensa_keys k WHERE NOT EXISTS (SELECT 1 FROM kensa_records r WHERE r.uid = k.uid)",
            &[],
        )
        .unwrap()
        .get(0);
    let keyless: i64 = c
        .query_one(
            "SELECT count(*) FROM kensa_records r WHERE NOT EXISTS (SELECT 1 FROM kensa_keys k WHERE k.uid = r.uid)",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!((orphans, keyless), (0, 0));
    (people, uids)
}

/// One record per person, every person present, and every reported enrollment stored.
fn assert_one_per_person(s: &Schema, distinct: usize, reported: &[String]) {
    let (people, uids) = stored_people(s);
    people::assert_one_per_person(&people, &uids, distinct, reported);
}

#[test]
fn processes_enrolling_overlapping_files_at_once_store_each_person_once() {
    let Some(base) = server() else { return };
    let s = Schema::new(&base, "processes");
    let (files, distinct) = inputs(31);
    let url = s.url();
    // All start on a schema without tables: the first creates them, the others wait for it.
    let mut clerks: Vec<_> = (0..files.len())
        .map(|_| {
            let mut child = Command::new(KENSA)
                .args(["enroll", "--today", TODAY, "--db", &url, "-"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let stdin = child.stdin.take().unwrap();
            let stdout = BufReader::new(child.stdout.take().unwrap());
            (child, stdin, stdout)
        })
        .collect();
    let mut reported = Vec::new();
    let read_line = |out: &mut BufReader<std::process::ChildStdout>, reported: &mut Vec<String>| {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "a clerk stopped early");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        if v["enrolled"] == serde_json::json!(true) {
            reported.push(v["id"].as_str().unwrap().to_string());
        }
        v
    };
    // A line that is not a record: its answer says the clerk has opened the registry.
    for (_, stdin, out) in &mut clerks {
        writeln!(stdin, "not a record").unwrap();
        stdin.flush().unwrap();
        assert!(read_line(out, &mut reported).get("error").is_some());
    }
    // The shared people in lockstep: every clerk gets person i at the same moment, so each of
    // them is a four-way race.
    for i in 0..people::SHARED {
        for ((_, stdin, _), records) in clerks.iter_mut().zip(&files) {
            writeln!(stdin, "{}", records[i]).unwrap();
            stdin.flush().unwrap();
        }
        for (_, _, out) in &mut clerks {
            let v = read_line(out, &mut reported);
            assert!(v.get("error").is_none(), "{v}");
        }
    }
    // The rest at each clerk's own pace.
    for ((child, mut stdin, mut out), records) in clerks.into_iter().zip(&files) {
        for r in &records[people::SHARED..] {
            writeln!(stdin, "{r}").unwrap();
        }
        drop(stdin);
        let mut line = String::new();
        loop {
            line.clear();
            if out.read_line(&mut line).unwrap() == 0 {
                break;
            }
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert!(v.get("error").is_none(), "{line}");
            if v["enrolled"] == serde_json::json!(true) {
                reported.push(v["id"].as_str().unwrap().to_string());
            }
        }
        let done = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert_eq!(done.status.code(), Some(1), "one error line (the opener), the rest judged: {stderr}");
        assert!(stderr.contains(", 1 errors"), "{stderr}");
    }
    assert_one_per_person(&s, distinct, &reported);
}

fn run_threads(base: &str, s: &Schema, files: Vec<Vec<serde_json::Value>>, one_pool: bool) -> Vec<String> {
    let engine = engine();
    let keys = keys_of(&engine);
    let open = || PostgresRegistry::open_write(base, &s.options(), &engine.key_version(), &keys).unwrap();
    people::run_threads(&engine, &open, files, one_pool)
}

#[test]
fn threads_sharing_one_pool_store_each_person_once() {
    let Some(base) = server() else { return };
    let s = Schema::new(&base, "threads_shared");
    let (files, distinct) = inputs(32);
    let reported = run_threads(&base, &s, files, true);
    assert_one_per_person(&s, distinct, &reported);
}

#[test]
fn threads_each_with_their_own_pool_store_each_person_once() {
    let Some(base) = server() else { return };
    let s = Schema::new(&base, "threads_own");
    let (files, distinct) = inputs(33);
    let reported = run_threads(&base, &s, files, false);
    assert_one_per_person(&s, distinct, &reported);
}

#[test]
fn stale_keys_are_refused_for_lookups_rebuilt_for_writes_and_stop_older_enrollments() {
    let Some(base) = server() else { return };
    let s = Schema::new(&base, "stale");
    let dir = workdir("pg-stale");
    let changed =
        rules_copy(&dir, "changed", |t| t.replace("block on address_key\n", "block on address_key ++ \"/\"\n"));
    let (url, changed_s) = (s.url(), changed.to_str().unwrap());
    ok(&kensa(&["registry", "import", "examples/registry.jsonl", "--db", &url]));

    // A window that opened the registry with the standard rules.
    let standard = engine();
    let keys = keys_of(&standard);
    let window = PostgresRegistry::open_write(&base, &s.options(), &standard.key_version(), &keys).unwrap();

    // Lookups with other rules: a clear error that says how to rebuild.
    let eval = kensa(&["eval", "--rules", changed_s, "--registry", &url, "examples/enrollment.jsonl"]);
    assert_eq!(eval.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&eval.stderr);
    assert!(stderr.contains("rules_fingerprint") && stderr.contains("kensa registry rebuild --db"), "{stderr}");
    let st = ok(&kensa(&["registry", "stats", "--json", "--db", &url, "--rules", changed_s]));
    assert!(st.contains("\"keys_current\":false"), "{st}");

    // Writing with other rules rebuilds every key.
    let rebuilt = kensa(&["registry", "rebuild", "--db", &url, "--rules", changed_s]);
    ok(&rebuilt);
    assert!(String::from_utf8_lossy(&rebuilt.stderr).contains("keys of 2206 records were rebuilt"));
    let key: String = s.client().query_one("SELECT key FROM kensa_keys WHERE block = 3 LIMIT 1", &[]).unwrap().get(0);
    assert!(key.ends_with('/'), "{key}");
    ok(&kensa(&["eval", "--rules", changed_s, "--registry", &url, "examples/enrollment.jsonl"]));

    // The window still computes the old keys: its next enrollment is refused, nothing stored.
    let record: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(format!("{ROOT}/examples/enrollment.jsonl")).unwrap().lines().next().unwrap(),
    )
    .unwrap();
    let before = window.len();
    let e = standard.enroll(record, &window).unwrap_err().to_string();
    assert!(e.contains("rebuilt for other rules"), "{e}");
    assert_eq!(window.len(), before);
}

#[test]
fn a_batch_import_stores_the_first_of_each_id_and_every_key() {
    let Some(base) = server() else { return };
    let s = Schema::new(&base, "batch");
    let engine = engine();
    let keys = keys_of(&engine);
    let reg = PostgresRegistry::open_write(&base, &s.options(), &engine.key_version(), &keys).unwrap();
    let file = SqliteRegistry::open_write(&workdir("pg-batch").join("r.db"), &engine.key_version(), &keys).unwrap();
    let text = std::fs::read_to_string(format!("{ROOT}/examples/registry.jsonl")).unwrap();
    let mut records: Vec<serde_json::Value> =
        text.lines().take(300).map(|l| serde_json::from_str(l).unwrap()).collect();
    // The same id twice in one batch, with other contents: the first is kept.
    let mut again = records[0].clone();
    again["family_name"] = serde_json::json!("別人");
    records.push(again);
    let entries: Vec<_> = records.into_iter().map(|r| engine.registry_entry(r).unwrap()).collect();
    let n = Store::insert_batch(&reg, &entries).unwrap();
    assert_eq!((n.inserted, n.skipped), (300, 1));
    assert_eq!(Store::insert_batch(&file, &entries).unwrap(), n);
    let again = Store::insert_batch(&reg, &entries).unwrap();
    assert_eq!((again.inserted, again.skipped), (0, 301));
    assert_eq!(reg.len(), 300);
    // Every lookup answers what the embedded store answers, in the same order.
    for e in &entries {
        assert_eq!(reg.candidates(&e.keys).unwrap(), file.candidates(&e.keys).unwrap());
    }
    assert_eq!(reg.candidates(&[]).unwrap(), kensa::registry::Lookup::default());
    let first = &reg.candidates(&entries[0].keys).unwrap().records[0];
    assert_ne!(first.record["family_name"], "別人");
    // Enroll through the trait object, as a clerk's application does.
    let store: &dyn Enroll = &reg;
    let out = engine.enroll(entries[0].record.clone(), store).unwrap();
    assert!(out.already_stored && !out.enrolled);
}

#[test]
fn records_with_nul_characters_are_stored_and_found_as_on_sqlite() {
    let Some(base) = server() else { return };
    let s = Schema::new(&base, "nul");
    let dir = workdir("pg-nul");
    let text = std::fs::read_to_string(format!("{ROOT}/examples/registry.jsonl")).unwrap();
    // PostgreSQL text cannot hold U+0000; records (and so keys) can. (Ids cannot: see
    // `an_id_with_nul_is_refused_on_both_stores_instead_of_colliding_on_postgres`.)
    let records: Vec<serde_json::Value> = text
        .lines()
        .take(50)
        .enumerate()
        .map(|(i, l)| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            if i % 2 == 0 {
                v["family_name"] = serde_json::json!(format!("{}\u{0}", v["family_name"].as_str().unwrap()));
                v["address"] = serde_json::json!(format!("{}\u{0}x", v["address"].as_str().unwrap()));
            }
            v
        })
        .collect();
    let file = dir.join("nul.jsonl");
    std::fs::write(&file, records.iter().map(|r| format!("{r}\n")).collect::<String>()).unwrap();
    let (file, db, url) = (file.to_str().unwrap(), dir.join("r.db"), s.url());
    let db = db.to_str().unwrap();
    for target in [db, url.as_str()] {
        let out = kensa(&["registry", "import", file, "--db", target]);
        ok(&out);
        assert!(
            without_rules_line(&String::from_utf8_lossy(&out.stderr)).starts_with("50 records: 50 imported"),
            "{target}"
        );
    }
    // The same people under other ids: each must find their stored twin, NUL and all.
    let probes = dir.join("probes.jsonl");
    let again: String = records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r["id"] = serde_json::json!(format!("Q{}", r["id"].as_str().unwrap()));
            format!("{r}\n")
        })
        .collect();
    std::fs::write(&probes, again).unwrap();
    let probes = probes.to_str().unwrap();
    let eval = |registry: &str| ok(&kensa(&["eval", "--today", TODAY, "--registry", registry, probes]));
    let on_file = eval(db);
    assert!(on_file.lines().all(|l| l.contains("\"registry.")), "every probe finds its twin: {on_file}");
    assert_eq!(eval(&url), on_file);
    let enroll = |registry: &str| ok(&kensa(&["enroll", "--today", TODAY, "--db", registry, probes]));
    let enrolled = enroll(db);
    assert!(!enrolled.contains("\"enrolled\":true"), "{enrolled}");
    assert_eq!(enroll(&url), enrolled);
}

/// Every way a URL can carry a password — `user:password@` (also with a `/` in the password),
/// `?password=`, a percent-encoded parameter name, `sslpassword`, a `password=` inside
/// `options`, and a libpq `key=value` string — and every output that names the registry
/// (errors of every command, the import summary, `stats` in text and JSON, `rebuild`, the
/// stale-keys advice, `kensa test --registry-store`): the password is never printed.
#[test]
fn a_password_anywhere_in_the_url_is_never_printed() {
    const SECRET: &str = "s3cret";
    let shows_secret = |out: &Output| {
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        text.contains(SECRET).then_some(text)
    };
    let dir = workdir("pg-passwords");
    let dir_s = dir.to_str().unwrap().to_string();
    let in_dir = |args: &[&str]| -> Output {
        Command::new(KENSA).args(args).current_dir(&*dir).stdin(Stdio::null()).output().unwrap()
    };
    let input = format!("{ROOT}/examples/enrollment.jsonl");
    let rules = format!("{ROOT}/rules");
    let suite = format!("{ROOT}/tests/suites/enrollment.yaml");
    let commands = |url: &str| -> Vec<Vec<String>> {
        [
            vec!["eval", "--registry", url, &input],
            vec!["diff", "--base", &rules, "--registry", url, &input],
            vec!["enroll", "--db", url, &input],
            vec!["registry", "import", &input, "--db", url],
            vec!["registry", "stats", "--db", url],
            vec!["registry", "stats", "--json", "--db", url],
            vec!["registry", "rebuild", "--db", url],
            vec!["test", &suite, "--registry-store", url],
        ]
        .into_iter()
        .map(|c| c.into_iter().map(String::from).collect())
        .collect()
    };

    // No server behind these: every command fails, and says where without the password.
    let unreachable = [
        "postgres://clerk:s3cret@127.0.0.1:1/kensa",
        "postgres://clerk:s3/cret@127.0.0.1:1/kensa",
        "postgres://clerk@127.0.0.1:1/kensa?password=s3cret",
        "postgresql://127.0.0.1:1/kensa?user=clerk&password=s3cret&application_name=kensa",
        "postgres://clerk@127.0.0.1:1/kensa?pass%77ord=s3cret",
        "postgres://clerk@127.0.0.1:1/kensa?sslpassword=s3cret",
        "postgres://clerk@127.0.0.1:1/kensa?options=-c%20password%3Ds3cret",
        "host=127.0.0.1 port=1 user=clerk password=s3cret",
        "host=127.0.0.1 port=1 password='s3cret with spaces'",
    ];
    for url in unreachable {
        let secret = if url.contains("s3/cret") { "s3/cret" } else { SECRET };
        for args in commands(url) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = in_dir(&args);
            let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert!(!text.contains(secret), "`kensa {}` printed the password:\n{text}", args.join(" "));
            assert_ne!(out.status.code(), Some(0), "`kensa {}` worked without a server:\n{text}", args.join(" "));
        }
    }
    // A libpq key=value string is not taken for a file name (enroll and import would create it).
    let left: Vec<_> =
        std::fs::read_dir(&*dir).unwrap().map(|e| e.unwrap().file_name()).filter(|n| n != "changed").collect();
    assert!(left.is_empty(), "files created in {dir_s}: {left:?}");

    // With a server (trust authentication ignores the password): what succeeds must not show it either.
    let Some(base) = server() else { return };
    let s = Schema::new(&base, "passwords");
    let with_param = format!("{}&password={SECRET}&application_name=kensa", s.url());
    let mut urls = vec![with_param.clone()];
    // `user:password@` with a `/` in the password, when the base URL names a user.
    let creds = base.find("://").unwrap() + 3;
    if let Some(at) = base[creds..].find('@').map(|at| creds + at).filter(|&at| !base[creds..at].contains(':')) {
        let (head, tail) = base.split_at(at);
        let sep = if tail.contains('?') { '&' } else { '?' };
        urls.push(format!("{head}:s3/cret{tail}{sep}options=-csearch_path%3D{}", s.name));
    }
    for url in &urls {
        for args in commands(url) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = in_dir(&args);
            if let Some(text) = shows_secret(&out) {
                panic!("`kensa {}` printed the password:\n{text}", args.join(" "));
            }
            let text = String::from_utf8_lossy(&out.stderr);
            assert!(!text.contains("s3/cret"), "`kensa {}` printed the password:\n{text}", args.join(" "));
        }
    }
    // The import summary and stats name the registry, masked.
    let stats = kensa(&["registry", "stats", "--db", &with_param]);
    let text = ok(&stats);
    assert!(text.contains("password=***"), "{text}");
    // The stale-keys advice quotes the URL: masked too.
    let changed =
        rules_copy(&dir, "changed", |t| t.replace("block on address_key\n", "block on address_key ++ \"/\"\n"));
    let stale = kensa(&["eval", "--rules", changed.to_str().unwrap(), "--registry", &with_param, &input]);
    let text = String::from_utf8_lossy(&stale.stderr);
    assert!(text.contains("kensa registry rebuild --db") && !text.contains(SECRET), "{text}");
}

/// PostgreSQL text cannot hold U+0000, so an id `A<NUL>B` was stored as `A\u{FFFD}B` and
/// collided with that id (the second record silently skipped), where SQLite kept both. Ids with
/// a control character are now refused on both stores, blank ids and number ids too, and both
/// stores keep exactly the same uids and report the same errors.
#[test]
fn an_id_with_nul_is_refused_on_both_stores_instead_of_colliding_on_postgres() {
    let Some(base) = server() else { return };
    let s = Schema::new(&base, "ids");
    let dir = workdir("pg-ids");
    let text = std::fs::read_to_string(format!("{ROOT}/examples/registry.jsonl")).unwrap();
    let ids = [
        serde_json::json!("A\u{0}B"),
        serde_json::json!("A\u{FFFD}B"),
        serde_json::json!(""),
        serde_json::json!("   "),
        serde_json::json!(7),
        serde_json::json!("7"),
    ];
    let records: String = text
        .lines()
        .zip(&ids)
        .map(|(l, id)| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["id"] = id.clone();
            format!("{v}\n")
        })
        .collect();
    let file = dir.join("ids.jsonl");
    std::fs::write(&file, records).unwrap();
    let (file, db, url) = (file.to_str().unwrap(), dir.join("r.db"), s.url());
    let db = db.to_str().unwrap();
    let mut reports = Vec::new();
    for target in [db, url.as_str()] {
        let out = kensa(&["registry", "import", file, "--db", target]);
        assert_eq!(out.status.code(), Some(1), "{target}");
        let stderr = without_rules_line(&String::from_utf8_lossy(&out.stderr)).replace(target, "DB");
        reports.push(stderr.lines().filter(|l| !l.contains(" s")).map(str::to_string).collect::<Vec<_>>());
        assert!(
            stderr.starts_with("error: line 1: the id (field `id`) contains the control character U+0000"),
            "{stderr}"
        );
        assert!(stderr.contains("6 records: 2 imported"), "{stderr}");
    }
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut st = conn.prepare("SELECT uid FROM records").unwrap();
    let on_file: BTreeSet<String> = st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    let on_server: BTreeSet<String> =
        s.client().query("SELECT uid FROM kensa_records", &[]).unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(on_server, on_file);
    assert_eq!(on_server, ["id:A\u{FFFD}B", "id:7"].map(String::from).into());
    assert_eq!(reports[0], reports[1], "the same errors on both stores");
}

/// PostgreSQL checks its own pages; what it cannot know is whether kensa's two tables still
/// agree, and whether a stored record can still be read. A hand-edited or half-restored
/// registry: `registry stats` reports key rows without their record (or with another
/// enrollment number) and records that are not JSON, says what to do and exits 1; a lookup
/// that reaches an unreadable record is an error for that record (it used to be skipped, so
/// `registry.number_held_by_other` was silently lost); `registry rebuild` rebuilds the keys
/// from the records, and refuses while a record cannot be read.
#[test]
fn damage_between_the_tables_is_reported_by_stats_and_repaired_by_rebuild() {
    let Some(base) = server() else { return };
    let s = Schema::new(&base, "damage");
    let url = s.url();
    ok(&kensa(&["registry", "import", "examples/registry.jsonl", "--db", &url]));
    let eval = || kensa(&["eval", "--today", TODAY, "--registry", &url, "examples/enrollment.jsonl"]);
    let clean = ok(&eval());
    assert!(clean.lines().any(|l| l.contains("\"E00386\"") && l.contains("registry.number_held_by_other")));
    let stats = || kensa(&["registry", "stats", "--db", &url]);
    let text = ok(&stats());
    assert!(text.contains("integrity  ok"), "{text}");

    // Key rows that do not belong to their records.
    let mut c = s.client();
    c.batch_execute(
        "INSERT INTO kensa_keys (block, key, seq, uid) VALUES (0, '000000000000', 999999, 'id:GONE');
         UPDATE kensa_keys SET seq = seq + 100000 WHERE uid = 'id:P000001' AND block = 1;",
    )
    .unwrap();
    let damaged = stats();
    assert_eq!(damaged.status.code(), Some(1));
    let text = String::from_utf8_lossy(&damaged.stdout);
    assert!(text.contains("1 key row points to no record (`id:GONE`)"), "{text}");
    assert!(text.contains("1 key row carries another enrollment number than its record"), "{text}");
    assert!(text.contains("kensa registry rebuild --db"), "{text}");
    let rebuilt = kensa(&["registry", "rebuild", "--db", &url]);
    ok(&rebuilt);
    assert!(String::from_utf8_lossy(&rebuilt.stderr).contains("keys of 2206 records were rebuilt"));
    assert!(ok(&stats()).contains("integrity  ok"));
    assert_eq!(ok(&eval()), clean);

    // A record that cannot be read: the lookup that reaches it fails, the others are judged.
    let json: String = c.query_one("SELECT json FROM kensa_records WHERE uid = 'id:P001620'", &[]).unwrap().get(0);
    c.execute("UPDATE kensa_records SET json = left(json, 40) WHERE uid = 'id:P001620'", &[]).unwrap();
    let out = eval();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for (got, want) in stdout.lines().zip(clean.lines()) {
        if want.contains("\"E00386\"") {
            assert!(got.contains("\"error\"") && got.contains("is damaged") && got.contains("id:P001620"), "{got}");
        } else {
            assert_eq!(got, want);
        }
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("99 records: ") && stderr.contains(", 1 errors"), "the summary adds up: {stderr}");
    let damaged = stats();
    assert_eq!(damaged.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&damaged.stdout).contains("1 record is not JSON (`id:P001620`)"));
    let refused = kensa(&["registry", "rebuild", "--db", &url]);
    assert_eq!(refused.status.code(), Some(2));
    let text = String::from_utf8_lossy(&refused.stderr);
    assert!(text.contains("`id:P001620` is not JSON") && text.contains("backup"), "{text}");

    // Restored from a backup: all is well again.
    c.execute("UPDATE kensa_records SET json = $1 WHERE uid = 'id:P001620'", &[&json]).unwrap();
    assert!(ok(&stats()).contains("integrity  ok"));
    assert_eq!(ok(&eval()), clean);
}

/// Stderr without the line that says which rules a command used (`rules: ./rules …`).
fn without_rules_line(stderr: &str) -> String {
    stderr.lines().filter(|l| !l.starts_with("rules: ")).map(|l| format!("{l}\n")).collect()
}
