//! Swapping a compiled rule set while evaluations run (`kensa::SharedEngine`): evaluations
//! never fail or mix two rule sets, one that holds the old engine finishes on it, and a rule set
//! that does not compile never replaces a good one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use cli::{Workdir, workdir};
use kensa::{Engine, SharedEngine, Verdict};
use serde_json::json;

const SCHEMA: &str = "schema Person { id: text, family_name: text }\n";

/// Two rule sets over one schema: each fires both of its own rules on every record, so a
/// verdict names exactly the rules of the set that judged it.
fn rule_set(name: &str) -> String {
    format!(
        "{SCHEMA}\nrule {name}.one {{\n  require blank(family_name)\n  review -10 \"{name} one\"\n}}\n\
         rule {name}.two {{\n  require blank(family_name)\n  review -10 \"{name} two\"\n}}\n"
    )
}

/// `a.kensa`, `b.kensa` and `broken.kensa` (a syntax error and an unknown field) in a fresh folder.
fn rule_files(case: &str) -> Workdir {
    let dir = workdir(&format!("reload-{case}"));
    std::fs::write(dir.join("a.kensa"), rule_set("a")).unwrap();
    std::fs::write(dir.join("b.kensa"), rule_set("b")).unwrap();
    std::fs::write(
        dir.join("broken.kensa"),
        format!("{SCHEMA}\nrule c.one {{\n  require blank(no_such_field)\n  review -10\n}}\nrule c.two {{ require (\n"),
    )
    .unwrap();
    dir
}

fn record() -> serde_json::Value {
    json!({"id": "R1", "family_name": "山田"})
}

/// Which rule set judged a verdict; panics when the verdict is not exactly one set's.
fn judged_by(v: &Verdict) -> &'static str {
    let rules: Vec<&str> = v.findings.iter().map(|f| f.rule.as_str()).collect();
    match rules.as_slice() {
        ["a.one", "a.two"] => "a",
        ["b.one", "b.two"] => "b",
        other => panic!("a verdict from no single rule set: {other:?}"),
    }
}

fn set_of(engine: &Engine) -> &'static str {
    judged_by(&engine.evaluate(&record()).unwrap())
}

fn path(dir: &Workdir, name: &str) -> PathBuf {
    dir.join(name)
}

#[test]
fn evaluations_running_while_another_thread_reloads_never_fail_or_mix_rule_sets() {
    let dir = rule_files("race");
    let shared = Arc::new(SharedEngine::new(Engine::from_path(path(&dir, "a.kensa")).unwrap()));
    let done = Arc::new(AtomicBool::new(false));
    // Evaluations since the last swap: the reloader waits for some before swapping again, so
    // both rule sets are really used by the evaluating threads.
    let since_swap = Arc::new(AtomicUsize::new(0));
    const RELOADS: usize = 60;

    let evaluators: Vec<_> = (0..3)
        .map(|_| {
            let (shared, done, since_swap) = (Arc::clone(&shared), Arc::clone(&done), Arc::clone(&since_swap));
            std::thread::spawn(move || {
                let mut seen = [0usize; 2];
                while !done.load(Ordering::Acquire) {
                    let engine = shared.load();
                    let v = engine.evaluate(&record()).expect("an evaluation failed during a reload");
                    seen[usize::from(judged_by(&v) == "b")] += 1;
                    since_swap.fetch_add(1, Ordering::AcqRel);
                }
                seen
            })
        })
        .collect();

    let reloader = {
        let (shared, done, since_swap) = (Arc::clone(&shared), Arc::clone(&done), Arc::clone(&since_swap));
        let (a, b, broken) = (path(&dir, "a.kensa"), path(&dir, "b.kensa"), path(&dir, "broken.kensa"));
        std::thread::spawn(move || {
            for i in 0..RELOADS {
                while since_swap.load(Ordering::Acquire) < 20 {
                    std::thread::yield_now();
                }
                if i % 3 == 2 {
                    let before = shared.load();
                    assert!(shared.reload_from_path(&broken).is_err(), "a broken rule file compiled");
                    assert!(Arc::ptr_eq(&before, &shared.load()), "a broken rule file replaced the rule set");
                } else {
                    let next = if i % 2 == 0 { &b } else { &a };
                    shared.reload_from_path(next).unwrap();
                }
                since_swap.store(0, Ordering::Release);
            }
            done.store(true, Ordering::Release);
        })
    };

    reloader.join().unwrap();
    let mut total = [0usize; 2];
    for e in evaluators {
        let seen = e.join().unwrap();
        total[0] += seen[0];
        total[1] += seen[1];
    }
    assert!(total[0] > 0 && total[1] > 0, "both rule sets judged records: {total:?}");
    // The last reload (i = 59) was of the broken file; the one before (i = 58, even) loaded b.
    assert_eq!(set_of(&shared.load()), "b");
}

#[test]
fn an_evaluation_holding_the_old_engine_finishes_on_it() {
    let dir = rule_files("inflight");
    let shared = Arc::new(SharedEngine::new(Engine::from_path(path(&dir, "a.kensa")).unwrap()));
    let taken = Arc::new(Barrier::new(2));
    let swapped = Arc::new(Barrier::new(2));
    let worker = {
        let (shared, taken, swapped) = (Arc::clone(&shared), Arc::clone(&taken), Arc::clone(&swapped));
        std::thread::spawn(move || {
            let engine = shared.load(); // the evaluation starts
            taken.wait();
            swapped.wait(); // the rule set is replaced meanwhile
            let records: Vec<_> = (0..50).map(|_| record()).collect();
            engine.evaluate_batch(&records).into_iter().map(|v| judged_by(&v.unwrap())).collect::<Vec<_>>()
        })
    };
    taken.wait();
    let replaced = shared.reload_from_path(path(&dir, "b.kensa")).unwrap();
    assert_eq!(set_of(&replaced), "a", "reload returns the engine it replaced");
    swapped.wait();
    let judged = worker.join().unwrap();
    assert!(judged.iter().all(|s| *s == "a"), "the in-flight evaluation used the new rules: {judged:?}");
    assert_eq!(set_of(&shared.load()), "b", "new evaluations use the new rules");
}

#[test]
fn a_rule_set_that_does_not_compile_never_replaces_the_good_one() {
    let dir = rule_files("broken");
    let shared = SharedEngine::new(Engine::from_path(path(&dir, "a.kensa")).unwrap());
    let good = shared.load();

    let err = shared.reload_from_path(path(&dir, "broken.kensa")).unwrap_err();
    let codes: Vec<String> = err.diagnostics().iter().map(|d| d.code.to_string()).collect();
    assert!(!codes.is_empty(), "the error carries the diagnostics");
    assert!(err.render().contains("broken.kensa"), "the diagnostics name the file: {}", err.render());
    assert!(Arc::ptr_eq(&good, &shared.load()));

    let missing = shared.reload_from_path(dir.join("missing.kensa"));
    assert!(missing.is_err(), "a missing file is an error");
    assert!(Arc::ptr_eq(&good, &shared.load()));

    assert!(shared.replace_with(Engine::from_source("inline.kensa", "rule x {")).is_err());
    assert_eq!(set_of(&shared.load()), "a");
}

#[test]
fn a_reload_keeps_the_engine_settings() {
    let dir = rule_files("settings");
    let shared = SharedEngine::new(Engine::from_path(path(&dir, "a.kensa")).unwrap().with_strict(true));
    let unknown = json!({"id": "R1", "family_name": "山田", "nickname": "はな"});
    assert!(shared.load().evaluate(&unknown).is_err(), "strict: an unknown field is an error");
    shared.reload_from_path(path(&dir, "b.kensa")).unwrap();
    assert!(shared.load().evaluate(&unknown).is_err(), "the reloaded engine is still strict");
    assert_eq!(set_of(&shared.load()), "b");
    // `store` takes an engine as it is, with its own settings.
    shared.store(Engine::from_path(path(&dir, "a.kensa")).unwrap());
    assert!(shared.load().evaluate(&unknown).is_ok());
}
