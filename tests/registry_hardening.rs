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
