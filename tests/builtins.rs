//! Every builtin's documented example is a condition that must hold: the docs cannot drift
//! from the implementation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use kensa::{Date, Engine, RuleOutcome};

#[test]
fn every_builtin_example_holds() {
    let mut failures = Vec::new();
    for b in kensa::internal::builtins() {
        let rules = format!("schema R {{ id: text }}\nrule example {{\n  require {}\n  reject\n}}\n", b.example);
        let engine = match Engine::from_source("example.kensa", &rules) {
            Ok(e) => e.with_today(Date::parse("2026-11-27").unwrap()),
            Err(e) => {
                failures.push(format!("{}: example does not compile:\n{}", b.name, e.render()));
                continue;
            }
        };
        let verdict = engine.explain(&serde_json::json!({"id": "x"})).unwrap();
        let outcome = verdict.trace.as_ref().unwrap()[0].outcome;
        if outcome != RuleOutcome::Passed {
            failures.push(format!("{}: `{}` is {:?}: {:?}", b.name, b.example, outcome, verdict.findings));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_builtin_example_uses_its_builtin() {
    for b in kensa::internal::builtins() {
        assert!(b.example.contains(&format!("{}(", b.name)), "{}: example `{}` does not call it", b.name, b.example);
    }
}
