//! `kensa registry import` and `kensa enroll` killed with SIGKILL at random points leave a
//! consistent registry, and running the same command again converges to the contents of an
//! uninterrupted run.
//!
//! After every kill: `PRAGMA integrity_check` is ok; every key row points to a record; every
//! record has exactly the keys the rules compute for it; the stored key version is complete
//! and current whenever records are stored; an import has committed whole batches only. Then
//! the command runs again to its end and the registry (uids, records, keys, meta) must equal
//! the one an uninterrupted run built.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;

#[path = "../benches/common/gen.rs"]
#[allow(dead_code, reason = "the generator has more than these tests use")]
mod generator;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cli::{KENSA, workdir};
use kensa::{Date, Engine};
use rusqlite::{Connection, OpenFlags};

const TODAY: &str = "2026-11-27";
const BATCH: usize = 100;

/// `n` synthetic records (some with defects, some enrolling an earlier person again) as JSONL.
fn records(dir: &Path, n: usize, seed: u64) -> PathBuf {
    let config = generator::Config { defect_rate: 0.1, bank_rate: 0.35, duplicate_rate: 0.1 };
    let mut g = generator::Generator::new(seed, config);
    let text: String = (0..n).map(|_| g.line() + "\n").collect();
    let path = dir.join("records.jsonl");
    std::fs::write(&path, text).unwrap();
    path
}

fn remove_db(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

fn command(which: &str, input: &Path, db: &Path) -> Command {
    let mut c = Command::new(KENSA);
    match which {
        "import" => c.args(["registry", "import", "--batch", &BATCH.to_string()]),
        _ => c.args(["enroll"]),
    };
    c.arg("--db").arg(db).args(["--today", TODAY]).arg(input);
    c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

/// Run to the end; how long it took.
fn run_to_end(which: &str, input: &Path, db: &Path) -> Duration {
    let started = Instant::now();
    let out = command(which, input, db).output().unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "`kensa {which}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    started.elapsed()
}

/// Records committed so far (0 while the file or its tables do not exist yet).
fn stored(db: &Path) -> usize {
    let Ok(conn) = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY) else { return 0 };
    conn.query_row("SELECT count(*) FROM records", [], |r| r.get::<_, i64>(0)).map_or(0, |n| n as usize)
}

/// Start the command, wait until it has committed `target` records (or has ended), wait `extra`
/// more, and kill it (SIGKILL). Whether it was still running when killed.
fn run_and_kill(which: &str, input: &Path, db: &Path, target: usize, extra: Duration) -> bool {
    let mut child = command(which, input, db).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while target > 0 && stored(db) < target && child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(extra);
    let running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    running
}

/// What a registry holds, independent of row ids: records by uid, keys by uid, meta.
#[derive(Debug, PartialEq, Eq)]
struct Contents {
    records: BTreeMap<String, String>,
    keys: BTreeMap<String, BTreeSet<(u32, String)>>,
    meta: BTreeMap<String, String>,
}

impl Contents {
    fn hash(&self) -> u64 {
        kensa::registry::fnv1a(format!("{self:?}").as_bytes())
    }
}

/// Check a registry left by a killed process and read its contents (`None`: no tables yet).
fn check_consistent(db: &Path, engine: &Engine, what: &str) -> Option<Contents> {
    if !db.exists() {
        return None;
    }
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_WRITE).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok", "{what}: integrity_check");
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master WHERE name IN ('records', 'keys', 'meta')", [], |r| r.get(0))
        .unwrap();
    if tables == 0 {
        return None;
    }
    assert_eq!(tables, 3, "{what}: the tables are created together");
    let orphans: i64 = conn
        .query_row("SELECT count(*) FROM keys WHERE record NOT IN (SELECT rowid FROM records)", [], |r| r.get(0))
        .unwrap();
    assert_eq!(orphans, 0, "{what}: key rows that point to no record");

    let mut records = BTreeMap::new();
    let mut by_rowid = BTreeMap::new();
    let mut st = conn.prepare("SELECT rowid, uid, json FROM records").unwrap();
    for row in st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))).unwrap()
    {
        let (rowid, uid, json) = row.unwrap();
        by_rowid.insert(rowid, uid.clone());
        records.insert(uid, json);
    }
    let mut keys: BTreeMap<String, BTreeSet<(u32, String)>> = BTreeMap::new();
    let mut st = conn.prepare("SELECT block, key, record FROM keys").unwrap();
    for row in st.query_map([], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))).unwrap() {
        let (block, key, rowid) = row.unwrap();
        keys.entry(by_rowid[&rowid].clone()).or_default().insert((block, key));
    }
    // Every record has exactly the keys the rules compute for it, and the counts of the values
    // that comparisons weigh by frequency (term keys) are the counts of the stored records.
    let mut want_terms: BTreeMap<(u32, String), i64> = BTreeMap::new();
    for (uid, json) in &records {
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        let (terms, blocks): (Vec<_>, Vec<_>) =
            engine.blocking_keys(&value).into_iter().partition(|(b, _)| kensa::registry::is_term(*b));
        let want: BTreeSet<(u32, String)> = blocks.into_iter().collect();
        let have = keys.get(uid).cloned().unwrap_or_default();
        assert_eq!(have, want, "{what}: the keys of `{uid}`");
        for t in terms {
            *want_terms.entry(t).or_default() += 1;
        }
    }
    let have_terms: BTreeMap<(u32, String), i64> = conn
        .prepare("SELECT term, value, n FROM terms")
        .unwrap()
        .query_map([], |r| Ok(((r.get::<_, u32>(0)?, r.get::<_, String>(1)?), r.get::<_, i64>(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(have_terms, want_terms, "{what}: the term counts");
    let totals: Vec<(u32, i64, i64)> = conn
        .prepare("SELECT term, n, squares FROM term_totals ORDER BY term")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut want_totals: BTreeMap<u32, (i64, i64)> = BTreeMap::new();
    for ((term, _), n) in &want_terms {
        let t = want_totals.entry(*term).or_default();
        t.0 += n;
        t.1 += n * n;
    }
    let want_totals: Vec<(u32, i64, i64)> = want_totals.into_iter().map(|(t, (n, s))| (t, n, s)).collect();
    assert_eq!(totals, want_totals, "{what}: the term totals");
    let meta: BTreeMap<String, String> = conn
        .prepare("SELECT name, value FROM meta")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    if !records.is_empty() || !meta.is_empty() {
        assert_eq!(meta.get("schema_version").map(String::as_str), Some("2"), "{what}: meta {meta:?}");
        for (name, value) in engine.key_version().entries() {
            assert_eq!(meta.get(name).map(String::as_str), Some(value), "{what}: meta `{name}`");
        }
    }
    Some(Contents { records, keys, meta })
}

fn engine() -> Engine {
    Engine::builtin().unwrap().with_today(Date::parse(TODAY).unwrap())
}

/// Kill `which` at `iterations` seeded random points, check, re-run, compare with a clean run.
fn killed_and_rerun(which: &str, n: usize, iterations: usize, seed: u64) {
    let dir = workdir(which);
    let input = records(&dir, n, seed);
    let engine = engine();

    let reference_db = dir.join("reference.db");
    run_to_end(which, &input, &reference_db);
    let reference = check_consistent(&reference_db, &engine, "uninterrupted run").unwrap();
    assert!(reference.records.len() > n / 2, "the reference run stored records: {}", reference.records.len());

    let mut rng = generator::Rng::new(seed);
    let db = dir.join("killed.db");
    let mut killed_midway = 0;
    let mut partial_sizes = Vec::new();
    for i in 0..iterations {
        remove_db(&db);
        // Anywhere from before the database exists to near the end of the run: after a random
        // share of the records is committed, and a random few milliseconds more.
        let target = reference.records.len() * rng.below(95) / 100;
        let extra = Duration::from_millis(rng.range(0, 15).into());
        let was_running = run_and_kill(which, &input, &db, target, extra);
        let what = format!("{which} killed after {target} records + {extra:?} (iteration {i})");
        let partial = check_consistent(&db, &engine, &what);
        let kept = partial.as_ref().map_or(0, |c| c.records.len());
        if which == "import" {
            // Batches are transactions: a whole number of them is stored.
            assert!(kept.is_multiple_of(BATCH) || kept == reference.records.len(), "{what}: {kept} records stored");
        }
        if was_running && kept < reference.records.len() {
            killed_midway += 1;
        }
        partial_sizes.push(kept);
        // A second kill during the re-run, then the re-run to the end.
        if i == 1 {
            run_and_kill(which, &input, &db, stored(&db) + reference.records.len() / 10, extra);
            check_consistent(&db, &engine, &format!("{what}, killed again"));
        }
        run_to_end(which, &input, &db);
        let after = check_consistent(&db, &engine, &format!("{what}, re-run")).unwrap();
        assert_eq!(after.records.len(), reference.records.len(), "{what}: re-run record count");
        assert!(after == reference, "{what}: the re-run differs from an uninterrupted run");
        assert_eq!(after.hash(), reference.hash());
    }
    eprintln!("{which}: {} records stored when killed: {partial_sizes:?}", reference.records.len());
    // The kills really landed in the middle of writing.
    assert!(killed_midway * 2 >= iterations, "only {killed_midway} kills hit a running {which}: {partial_sizes:?}");
    assert!(partial_sizes.iter().any(|&s| s > 0), "no kill left a partly written registry: {partial_sizes:?}");
}

#[test]
fn registry_import_killed_at_random_points_stays_consistent_and_converges() {
    killed_and_rerun("import", 1000, 8, 11);
}

#[test]
fn enroll_killed_at_random_points_stays_consistent_and_converges() {
    killed_and_rerun("enroll", 300, 7, 12);
}
