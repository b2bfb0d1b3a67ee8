//! The registry database under hostile conditions (issue 14): a SQLite file of another
//! program, a damaged file, a registry in a read-only folder, ids that would collide. Each
//! case runs the real binary where a clerk would meet it and snapshots what they read.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;

use std::path::Path;

use cli::{ROOT, Run, run_in, workdir, write};
use rusqlite::Connection;

const TODAY: &str = "2026-11-27";

/// The names of the tables, indexes and views in a SQLite file.
fn schema_names(db: &Path) -> Vec<String> {
    let conn = Connection::open(db).unwrap();
    let mut st = conn.prepare("SELECT type || ' ' || name FROM sqlite_master ORDER BY name").unwrap();
    st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

/// Snapshot `text` as `tests/snapshots/registry_hardening__<name>.snap`.
fn snap(name: &str, text: &str) {
    insta::with_settings!({ omit_expression => true, prepend_module_to_snapshot => true }, {
        insta::assert_snapshot!(name, text);
    });
}

/// What `registry stats` says about damage (its other lines change with every rule edit).
fn integrity_lines(r: &Run) -> Run {
    let keep = |l: &&str| l.starts_with("integrity") || l.starts_with("what to do");
    let stdout: String = r.stdout.lines().filter(keep).map(|l| format!("{l}\n")).collect();
    Run { args: r.args.clone(), code: r.code, stdout, stderr: r.stderr.clone() }
}

/// The golden texts of several runs, with the crate root written as `ROOT` and durations as
/// `T s`.
fn goldens(runs: &[Run]) -> String {
    let text = runs.iter().map(|r| r.golden().replace(ROOT, "ROOT")).collect::<Vec<_>>().join("\n");
    regex::Regex::new(r"\d+\.\d+ s\b").unwrap().replace_all(&text, "T s").into_owned()
}

fn no_panic(r: &Run) {
    assert!(!r.stderr.contains("panicked") && !r.stderr.contains("stopped unexpectedly"), "{}", r.stderr);
}

#[test]
fn a_database_of_another_program_is_refused_and_left_unchanged() {
    let dir = workdir("hardening-foreign");
    let db = dir.join("accounts.db");
    {
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
             INSERT INTO customers (name) VALUES ('山田');",
        )
        .unwrap();
    }
    let before = schema_names(&db);
    let bytes = std::fs::read(&db).unwrap();
    let input = format!("{ROOT}/examples/enrollment.jsonl");
    let registry = format!("{ROOT}/examples/registry.jsonl");
    let runs = [
        run_in(&dir, &["enroll", "--today", TODAY, "--db", "accounts.db", &input], None),
        run_in(&dir, &["registry", "import", &registry, "--db", "accounts.db"], None),
        run_in(&dir, &["registry", "rebuild", "--db", "accounts.db"], None),
    ];
    for r in &runs {
        no_panic(r);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stdout.is_empty(), "nothing is judged: {}", r.stdout);
        assert!(r.stderr.contains("accounts.db") && r.stderr.contains("customers"), "{}", r.stderr);
    }
    assert_eq!(schema_names(&db), before, "kensa added tables to another program's database");
    assert_eq!(std::fs::read(&db).unwrap(), bytes, "the file is untouched");
    snap("another_programs_database", &goldens(&runs[..2]));

    // An empty file (a placeholder, or made by `sqlite3 x.db ''`) and a SQLite file without
    // tables become registries.
    write(&dir, "empty.db", "");
    Connection::open(dir.join("no-tables.db")).unwrap().execute_batch("PRAGMA user_version = 1").unwrap();
    for name in ["empty.db", "no-tables.db"] {
        let r = run_in(&dir, &["registry", "import", &registry, "--db", name], None);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        assert!(schema_names(&dir.join(name)).contains(&String::from("table records")));
    }
}

/// Whether this process runs as root (a file it creates belongs to uid 0).
fn running_as_root(dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let probe = dir.join(".owner");
    std::fs::write(&probe, "").unwrap();
    let root = std::fs::metadata(&probe).unwrap().uid() == 0;
    std::fs::remove_file(probe).unwrap();
    root
}

/// `kensa args` in `dir` as a user who cannot write there: as ourselves when we are not root
/// (the folder's mode stops us), as `nobody` when we are (root ignores modes).
fn as_reader(dir: &Path, root: bool, program: &str, args: &[&str]) -> std::process::Output {
    let mut c = if root {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", program]);
        c
    } else {
        std::process::Command::new(program)
    };
    c.args(args).current_dir(dir).env("NO_COLOR", "1").stdin(std::process::Stdio::null());
    c.output().unwrap_or_else(|e| panic!("cannot run `{program}` as another user (setpriv): {e}"))
}

#[test]
fn a_registry_in_a_read_only_folder_is_read_by_eval_diff_and_stats() {
    use std::os::unix::fs::PermissionsExt;
    let work = workdir("hardening-read-only");
    let root = running_as_root(&work);
    let dir = work.join("ro");
    std::fs::create_dir(&dir).unwrap();
    // Inputs a reader who is not us can read, and a copy of the binary it can run.
    let kensa = work.join("kensa");
    std::fs::copy(cli::KENSA, &kensa).unwrap();
    std::fs::copy(format!("{ROOT}/examples/enrollment.jsonl"), work.join("enrollment.jsonl")).unwrap();
    let r =
        run_in(&dir, &["registry", "import", &format!("{ROOT}/examples/registry.jsonl"), "--db", "registry.db"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let leftovers = |d: &Path| -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    };
    assert_eq!(leftovers(&dir), ["registry.db"], "a clean close leaves no -wal or -shm");
    let wal: bool = Connection::open(dir.join("registry.db"))
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0))
        .unwrap()
        == "wal";
    assert!(wal, "the registry is in WAL mode (which needs a -shm file to read)");
    let set = |p: &Path, mode: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    set(&work, 0o755);
    set(&dir.join("registry.db"), 0o444);
    set(&dir, 0o555);
    // The reader really cannot create a file there.
    let touch = as_reader(&dir, root, "sh", &["-c", "echo > probe"]);
    assert!(!touch.status.success(), "the folder must be read-only for the reader");

    let kensa_s = kensa.to_str().unwrap();
    let eval =
        as_reader(&dir, root, kensa_s, &["eval", "--today", TODAY, "--registry", "registry.db", "../enrollment.jsonl"]);
    let stats = as_reader(&dir, root, kensa_s, &["registry", "stats", "--json", "--db", "registry.db"]);
    let diff = as_reader(
        &dir,
        root,
        kensa_s,
        &[
            "diff",
            "--base",
            &format!("{ROOT}/rules"),
            "--today",
            TODAY,
            "--registry",
            "registry.db",
            "../enrollment.jsonl",
        ],
    );
    assert_eq!(leftovers(&dir), ["registry.db"], "nothing was written in the read-only folder");
    set(&dir, 0o755);
    for (what, out) in [("eval", &eval), ("registry stats", &stats), ("diff", &diff)] {
        assert!(
            out.status.code() == Some(0) || (what == "eval" && out.status.code() == Some(1)),
            "`kensa {what}` in a read-only folder: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let eval_out = String::from_utf8(eval.stdout).unwrap();
    assert_eq!(eval_out.lines().count(), 99, "every record judged");
    assert!(eval_out.contains("registry.number_held_by_other"), "the registry was consulted");
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(stats["records"], 2206);
    // The same verdicts as with a writable folder.
    let again = run_in(&dir, &["eval", "--today", TODAY, "--registry", "registry.db", "../enrollment.jsonl"], None);
    assert_eq!(again.stdout, eval_out);

    // A write-ahead log that holds commits not yet in the file (its writer was killed): reading
    // the file alone would miss them, so the reader is told how to fold them in.
    let pending = work.join("pending");
    std::fs::create_dir(&pending).unwrap();
    let writer = Connection::open(dir.join("registry.db")).unwrap();
    writer.execute_batch("PRAGMA wal_autocheckpoint = 0; INSERT INTO meta (name, value) VALUES ('note', 'x')").unwrap();
    for f in ["registry.db", "registry.db-wal"] {
        std::fs::copy(dir.join(f), pending.join(f)).unwrap();
    }
    drop(writer);
    assert!(std::fs::metadata(pending.join("registry.db-wal")).unwrap().len() > 0);
    set(&pending, 0o555);
    let stats = as_reader(&pending, root, kensa_s, &["registry", "stats", "--db", "registry.db"]);
    set(&pending, 0o755);
    assert_eq!(stats.status.code(), Some(2));
    let text = String::from_utf8(stats.stderr).unwrap();
    assert!(text.contains("registry.db-wal") && text.contains("kensa registry import"), "{text}");
    snap("read_only_folder_with_pending_log", &text);
}

/// The first records of the example registry, with these ids (`None`: no id field).
fn records_with_ids(ids: &[Option<serde_json::Value>]) -> String {
    let text = std::fs::read_to_string(format!("{ROOT}/examples/registry.jsonl")).unwrap();
    text.lines()
        .zip(ids)
        .map(|(line, id)| {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            match id {
                Some(id) => v["id"] = id.clone(),
                None => {
                    v.as_object_mut().unwrap().remove("id");
                }
            }
            format!("{v}\n")
        })
        .collect()
}

/// Ids are text, compared exactly: what would collide or be silently changed is refused per
/// record (blank, a number, a control character such as NUL, spaces around it, not text),
/// and everything else — also ids that differ only in width or by a space inside — is
/// stored under its own id.
#[test]
fn ids_are_text_compared_exactly_and_blank_numeric_or_control_ids_are_refused() {
    use serde_json::json;
    let dir = workdir("hardening-ids");
    let ids = [
        Some(json!("")),
        Some(json!("   ")),
        Some(json!(7)),
        Some(json!("7")),
        Some(json!("A\u{0}B")),
        Some(json!("A\tB")),
        Some(json!(" 8")),
        Some(json!("8")),
        Some(json!("８")),
        Some(json!("P 1")),
        Some(json!("P1")),
        Some(json!(true)),
        Some(json!("\u{3000}")),
        Some(serde_json::Value::Null),
        None,
    ];
    write(&dir, "ids.jsonl", &records_with_ids(&ids));
    let import = run_in(&dir, &["registry", "import", "ids.jsonl", "--db", "registry.db"], None);
    let enroll = run_in(&dir, &["enroll", "--today", TODAY, "--db", "enrolled.db", "ids.jsonl"], None);
    for r in [&import, &enroll] {
        no_panic(r);
        assert_eq!(r.code, 1, "{}", r.stderr);
    }
    let uids = |db: &str| -> Vec<String> {
        let conn = Connection::open(dir.join(db)).unwrap();
        let mut st = conn.prepare("SELECT uid FROM records ORDER BY rowid").unwrap();
        st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    let stored = uids("registry.db");
    let want: Vec<&str> = vec!["id:7", "id:8", "id:８", "id:P 1", "id:P1"];
    assert_eq!(&stored[..5], want.as_slice(), "{stored:?}");
    assert_eq!(stored.len(), 7, "and the two records without an id, under their content hash: {stored:?}");
    assert!(stored[5..].iter().all(|u| u.starts_with("hash:")), "{stored:?}");
    assert!(import.stderr.contains("15 records: 7 imported"), "{}", import.stderr);
    assert!(import.stderr.contains(", 8 errors"), "{}", import.stderr);
    // enroll refuses the same records, each with an error line, and judges the others.
    let errors: Vec<serde_json::Value> = enroll
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("error").is_some())
        .collect();
    let lines: Vec<u64> = errors.iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [1, 2, 3, 5, 6, 7, 12, 13]);
    assert!(enroll.stderr.contains("15 records:") && enroll.stderr.contains(", 8 errors"), "{}", enroll.stderr);
    snap(
        "ids_refused_by_import",
        &import.stderr.lines().filter(|l| l.starts_with("error")).collect::<Vec<_>>().join("\n"),
    );
}

/// The person whose My Number `E00386` of the enrollment examples brings along: the stored
/// `P001620` holds the same number, so `registry.number_held_by_other` fires for `E00386`.
const HOLDER_NUMBER: &str = "081016287970";

/// A registry of the example residents in `dir/registry.db`, and `kensa eval` of the
/// enrollment examples against it.
fn example_registry(dir: &Path) -> String {
    let r =
        run_in(dir, &["registry", "import", &format!("{ROOT}/examples/registry.jsonl"), "--db", "registry.db"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let eval = eval_examples(dir);
    assert_eq!(eval.code, 0, "{}", eval.stderr);
    let line = eval.stdout.lines().find(|l| l.contains("\"E00386\"")).unwrap();
    assert!(line.contains("registry.number_held_by_other"), "{line}");
    eval.stdout
}

fn eval_examples(dir: &Path) -> Run {
    examples(dir, &["eval", "--today", TODAY, "--registry", "registry.db"])
}

fn enroll_examples(dir: &Path) -> Run {
    let r = examples(dir, &["enroll", "--today", TODAY, "--db", "registry.db"]);
    no_panic(&r);
    r
}

/// `kensa args… examples/enrollment.jsonl` in `dir`.
fn examples(dir: &Path, args: &[&str]) -> Run {
    let input = format!("{ROOT}/examples/enrollment.jsonl");
    let mut args = args.to_vec();
    args.push(&input);
    run_in(dir, &args, None)
}

/// The numbers of a summary line (`99 records: 48 accept, …`).
fn summary_numbers(r: &Run) -> Vec<usize> {
    let line =
        r.stderr.lines().find(|l| l.contains(" records: ")).unwrap_or_else(|| panic!("no summary: {}", r.stderr));
    line.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect()
}

/// Change the byte at `at` bytes after the one occurrence of `text` in the file that `is_it`
/// accepts (given the bytes before it), to `to`. The file must be closed (no -wal).
fn flip(db: &Path, text: &str, is_it: impl Fn(&[u8]) -> bool, at: usize, to: u8) {
    let mut bytes = std::fs::read(db).unwrap();
    let found: Vec<usize> = bytes
        .windows(text.len())
        .enumerate()
        .filter(|(i, w)| *w == text.as_bytes() && is_it(&bytes[..*i]))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(found.len(), 1, "`{text}` occurs once where wanted: {found:?}");
    assert_ne!(bytes[found[0] + at], to);
    bytes[found[0] + at] = to;
    std::fs::write(db, bytes).unwrap();
}

/// The key row of the number (a cell of the `keys` table, not the record's JSON).
fn in_key_row(before: &[u8]) -> bool {
    !before.ends_with(b"\"")
}

/// The number inside the stored record's JSON.
fn in_record(before: &[u8]) -> bool {
    before.ends_with(b"\"my_number\":\"")
}

fn integrity_check(db: &Path) -> String {
    Connection::open(db).unwrap().query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap()
}

/// A byte flipped in a stored key — invisible to `PRAGMA integrity_check` when the key stays
/// in order (the last digit), reported by it when not (the first) — made `eval` lose
/// `registry.number_held_by_other` silently and `enroll` write on. Now each key row carries a
/// checksum: `registry stats` reports the damage and what to do, `enroll` refuses to write,
/// and `registry rebuild` rebuilds the keys from the records, after which every verdict is back.
#[test]
fn a_damaged_key_row_is_reported_by_stats_refused_by_enroll_and_repaired_by_rebuild() {
    for (case, at, to, integrity_sees_it) in [("last digit", 11, b'1', false), ("first digit", 0, b'9', true)] {
        let dir = workdir("hardening-key-flip");
        let clean = example_registry(&dir);
        let db = dir.join("registry.db");
        flip(&db, HOLDER_NUMBER, in_key_row, at, to);
        assert_eq!(integrity_check(&db) != "ok", integrity_sees_it, "{case}: {}", integrity_check(&db));

        let stats = run_in(&dir, &["registry", "stats", "--db", "registry.db"], None);
        no_panic(&stats);
        assert_eq!(stats.code, 1, "{case}: stats reports the damage: {}{}", stats.stdout, stats.stderr);
        assert!(stats.stdout.contains("kensa registry rebuild --db registry.db"), "{case}: {}", stats.stdout);
        let json = run_in(&dir, &["registry", "stats", "--json", "--db", "registry.db"], None);
        let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
        assert_eq!(v["integrity"]["ok"], false, "{case}: {v}");

        let records = |db: &Path| -> i64 {
            Connection::open(db).unwrap().query_row("SELECT count(*) FROM records", [], |r| r.get(0)).unwrap()
        };
        let before = records(&db);
        let enroll = enroll_examples(&dir);
        assert_eq!(enroll.code, 2, "{case}: enroll refuses a damaged registry: {}", enroll.stderr);
        assert!(enroll.stdout.is_empty(), "{case}: nothing judged");
        assert!(enroll.stderr.contains("kensa registry rebuild --db registry.db"), "{case}: {}", enroll.stderr);
        assert_eq!(records(&db), before, "{case}: nothing written");
        if !integrity_sees_it {
            snap("damaged_key_row", &goldens(&[integrity_lines(&stats), enroll]));
        }

        let rebuild = run_in(&dir, &["registry", "rebuild", "--db", "registry.db"], None);
        assert_eq!(rebuild.code, 0, "{case}: {}", rebuild.stderr);
        assert_eq!(integrity_check(&db), "ok");
        let stats = run_in(&dir, &["registry", "stats", "--db", "registry.db"], None);
        assert_eq!(stats.code, 0, "{case}: {}", stats.stdout);
        assert_eq!(eval_examples(&dir).stdout, clean, "{case}: every verdict is back");
    }
}

/// A byte flipped in a stored record (its My Number's last digit): the record no longer
/// matches its checksum, so the lookup that reaches it is an error for the record being
/// judged — never a silently different verdict — and the summaries still add up; `stats`
/// reports it, and `rebuild` refuses to build keys from it (restore from a backup).
#[test]
fn a_damaged_record_is_an_error_for_the_lookup_that_reaches_it_and_summaries_add_up() {
    let dir = workdir("hardening-record-flip");
    let clean = example_registry(&dir);
    let db = dir.join("registry.db");
    flip(&db, HOLDER_NUMBER, in_record, 11, b'1');
    assert_eq!(integrity_check(&db), "ok", "SQLite cannot see this damage");

    // eval: the one record whose lookup reaches the damaged one is an error; the rest as before.
    let eval = eval_examples(&dir);
    no_panic(&eval);
    assert_eq!(eval.code, 1, "{}", eval.stderr);
    let lines: Vec<&str> = eval.stdout.lines().collect();
    let clean_lines: Vec<&str> = clean.lines().collect();
    assert_eq!(lines.len(), clean_lines.len());
    for (got, want) in lines.iter().zip(&clean_lines) {
        if want.contains("\"E00386\"") {
            assert!(got.contains("\"error\"") && got.contains("damaged"), "{got}");
        } else {
            assert_eq!(got, want);
        }
    }
    let n = summary_numbers(&eval);
    assert_eq!((n[0], n[1] + n[2] + n[3] + n[4], n[4]), (99, 99, 1), "{}", eval.stderr);

    // enroll: stops at that record, which is counted as an error; the summary adds up.
    let enroll = enroll_examples(&dir);
    assert_eq!(enroll.code, 2, "{}", enroll.stderr);
    let out: Vec<&str> = enroll.stdout.lines().collect();
    assert!(out.last().unwrap().contains("\"error\"") && out.last().unwrap().contains("damaged"), "{}", enroll.stdout);
    let n = summary_numbers(&enroll);
    assert_eq!(n[0], out.len(), "records in = lines out: {}", enroll.stderr);
    assert_eq!(n[0], n[2] + n[3] + n[4] + n[5], "{}", enroll.stderr);
    assert!(n[5] >= 1, "{}", enroll.stderr);
    assert!(enroll.stderr.contains("not read"), "{}", enroll.stderr);

    let stats = run_in(&dir, &["registry", "stats", "--db", "registry.db"], None);
    assert_eq!(stats.code, 1, "{}", stats.stdout);
    let rebuild = run_in(&dir, &["registry", "rebuild", "--db", "registry.db"], None);
    assert_eq!(rebuild.code, 2, "{}", rebuild.stderr);
    assert!(rebuild.stderr.contains("backup"), "{}", rebuild.stderr);
    snap("damaged_record", &goldens(&[integrity_lines(&stats), rebuild]));
}

/// Damage SQLite itself reports (`quick_check`: a key row's header byte): writing is refused
/// before anything is written, `stats` says so, `rebuild` replaces the damaged key table.
#[test]
fn a_file_sqlite_finds_malformed_is_refused_for_writing_and_repaired_by_rebuild() {
    let dir = workdir("hardening-malformed");
    let clean = example_registry(&dir);
    let db = dir.join("registry.db");
    // The byte two before the key text is the row's header size.
    let mut bytes = std::fs::read(&db).unwrap();
    let at = bytes.windows(HOLDER_NUMBER.len()).position(|w| w == HOLDER_NUMBER.as_bytes()).unwrap();
    assert!(in_key_row(&bytes[..at]));
    bytes[at - 2] = 0x09;
    std::fs::write(&db, bytes).unwrap();
    let quick: String = Connection::open(&db).unwrap().query_row("PRAGMA quick_check", [], |r| r.get(0)).unwrap();
    assert_ne!(quick, "ok");

    let enroll = run_in(&dir, &["enroll", "--today", TODAY, "--db", "registry.db", "-"], Some(""));
    assert_eq!(enroll.code, 2, "{}", enroll.stderr);
    assert!(enroll.stderr.contains("damaged"), "{}", enroll.stderr);
    let stats = run_in(&dir, &["registry", "stats", "--db", "registry.db"], None);
    assert_eq!(stats.code, 1, "{}", stats.stdout);
    let rebuild = run_in(&dir, &["registry", "rebuild", "--db", "registry.db"], None);
    assert_eq!(rebuild.code, 0, "{}", rebuild.stderr);
    assert_eq!(integrity_check(&db), "ok");
    assert_eq!(eval_examples(&dir).stdout, clean);
}

/// A registry written by an earlier kensa (layout 1: no checksums) is migrated when it is
/// opened for writing — `registry rebuild`, `enroll`, `import` — and refused for reading until
/// then, with the command that migrates it; afterwards every verdict is the same.
#[test]
fn a_layout_1_registry_is_migrated_to_checksums_by_rebuild_or_enroll() {
    let dir = workdir("hardening-migrate");
    let clean = example_registry(&dir);
    let layout_1 = |name: &str| {
        let conn = Connection::open(dir.join(name)).unwrap();
        conn.execute_batch(&format!(
            "CREATE TABLE meta (name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
             CREATE TABLE records (rowid INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, json TEXT NOT NULL);
             CREATE TABLE keys (
               block INTEGER NOT NULL, key TEXT NOT NULL, record INTEGER NOT NULL,
               PRIMARY KEY (block, key, record)
             ) WITHOUT ROWID;
             ATTACH '{}' AS v2;
             INSERT INTO records SELECT rowid, uid, json FROM v2.records;
             INSERT INTO keys SELECT block, key, record FROM v2.keys;
             INSERT INTO meta SELECT name, value FROM v2.meta;
             UPDATE meta SET value = '1' WHERE name = 'schema_version';
             DETACH v2;
             PRAGMA journal_mode = WAL;",
            dir.join("registry.db").display()
        ))
        .unwrap();
    };
    layout_1("old.db");
    layout_1("old2.db");
    let input = format!("{ROOT}/examples/enrollment.jsonl");
    let eval = |db: &str| run_in(&dir, &["eval", "--today", TODAY, "--registry", db, &input], None);

    let refused = eval("old.db");
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("kensa registry rebuild --db old.db"), "{}", refused.stderr);
    let rebuild = run_in(&dir, &["registry", "rebuild", "--db", "old.db"], None);
    assert_eq!(rebuild.code, 0, "{}", rebuild.stderr);
    assert!(rebuild.stderr.contains("layout changed from version 1 to 2"), "{}", rebuild.stderr);
    snap("layout_1", &goldens(&[refused, rebuild]));
    let layout: String = Connection::open(dir.join("old.db"))
        .unwrap()
        .query_row("SELECT value FROM meta WHERE name = 'schema_version'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(layout, "2");
    assert_eq!(run_in(&dir, &["registry", "stats", "--db", "old.db"], None).code, 0);
    assert_eq!(eval("old.db").stdout, clean);

    // Writing migrates too: enroll says so, then enrolls.
    let enroll = run_in(&dir, &["enroll", "--today", TODAY, "--db", "old2.db", &input], None);
    assert_eq!(enroll.code, 0, "{}", enroll.stderr);
    assert!(enroll.stderr.contains("layout changed from version 1 to 2"), "{}", enroll.stderr);
    assert_eq!(run_in(&dir, &["registry", "stats", "--db", "old2.db"], None).code, 0);
}

/// A libpq `key=value` connection string where a registry is named was taken for a file name
/// (`enroll` created a SQLite file called `host=… password=…`, and messages quoted it whole):
/// it is refused, with the password masked and the URL form to use.
#[test]
fn a_libpq_connection_string_is_refused_with_its_password_masked() {
    let dir = workdir("hardening-conninfo");
    let conninfo = "host=db.example user=clerk password=s3cret";
    let runs = [
        examples(&dir, &["enroll", "--db", conninfo]),
        examples(&dir, &["eval", "--registry", conninfo]),
        run_in(&dir, &["registry", "stats", "--db", conninfo], None),
    ];
    for r in &runs {
        no_panic(r);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(!r.stderr.contains("s3cret") && r.stderr.contains("password=***"), "{}", r.stderr);
    }
    assert_eq!(std::fs::read_dir(&*dir).unwrap().count(), 0, "no file was created");
    snap("conninfo_refused", &goldens(&runs[..1]));
}
