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

/// The golden texts of several runs, with the crate root written as `ROOT`.
fn goldens(runs: &[Run]) -> String {
    runs.iter().map(|r| r.golden().replace(ROOT, "ROOT")).collect::<Vec<_>>().join("\n")
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
