//! Golden tests of `kensa diff`, the impact analysis of a rule change: each case runs the real
//! binary in a fresh folder and snapshots the command line, the exit code, stdout and stderr
//! together (`tests/snapshots/cli_diff__<case>.snap`). The changed rule sets are copies of
//! `rules/` with one edit each, so a case says in its own text what changed. A last test checks
//! the counts against an independent computation with the library, record by record.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;

use std::collections::BTreeMap;
use std::path::Path;

use cli::{ROOT, Run, Workdir, golden, run_in, write};

use serde_json::Value;

const TODAY: &str = "2026-11-27";

/// The report a run printed as JSON.
fn json(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", r.stdout, r.stderr))
}

/// A fresh folder holding `rules/` (a copy of the shipped rules, the base of every case) and
/// `enrollment.jsonl` (the bundled examples).
fn workdir(case: &str) -> Workdir {
    let dir = cli::workdir(&format!("diff-{case}"));
    copy_dir(&Path::new(ROOT).join("rules"), &dir.join("rules"));
    std::fs::copy(Path::new(ROOT).join("examples/enrollment.jsonl"), dir.join("enrollment.jsonl")).unwrap();
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Copy `rules/` to `to/` and apply `(old, new)` text replacements to `to/<file>`; each `old`
/// must occur exactly once, so a case cannot silently change nothing.
fn changed_rules(dir: &Path, to: &str, file: &str, edits: &[(&str, &str)]) {
    copy_dir(&dir.join("rules"), &dir.join(to));
    edit(&dir.join(to).join(file), edits);
}

/// Apply `(old, new)` text replacements to a file; each `old` must occur exactly once.
fn edit(path: &Path, edits: &[(&str, &str)]) {
    let file = path.display();
    let mut text = std::fs::read_to_string(path).unwrap();
    for (old, new) in edits {
        assert_eq!(text.matches(old).count(), 1, "`{old}` should occur once in {file}");
        text = text.replacen(old, new, 1);
    }
    std::fs::write(path, text).unwrap();
}

/// The change most cases use: the bank holder rule rejects instead of sending to review, the
/// postal code format costs 20 points instead of 30, and a new rule warns about a missing
/// bank account.
fn bank_change(dir: &Path) {
    changed_rules(
        dir,
        "new",
        "resident.kensa",
        &[
            ("  review -50 \"口座名義「", "  reject \"口座名義「"),
            ("  review -30 \"郵便番号「{postal_code}」は7桁", "  review -20 \"郵便番号「{postal_code}」は7桁"),
            (
                "// ---------------------------------------------------------------- decision",
                "rule bank.account_required \"公金受取口座を登録してください\" {\n  require present(bank)\n  warn -10 \"公金受取口座が登録されていません\"\n}\n\n// ---------------------------------------------------------------- decision",
            ),
        ],
    );
}

/// The transition counts of a JSON report that are not zero, as `from→to: n`.
fn transitions(report: &Value) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (from, row) in report["transitions"].as_object().unwrap() {
        for (to, n) in row.as_object().unwrap() {
            let n = n.as_u64().unwrap();
            if n > 0 {
                out.insert(format!("{from}→{to}"), n);
            }
        }
    }
    out
}

/// Per rule of a JSON report: (status, newly fires, stops firing, fires differently, decisions changed).
fn rules(report: &Value) -> BTreeMap<String, (String, u64, u64, u64, u64)> {
    report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let n = |k: &str| r[k].as_u64().unwrap();
            (
                r["rule"].as_str().unwrap().to_string(),
                (
                    r["status"].as_str().unwrap().to_string(),
                    n("newly_fires"),
                    n("stops_firing"),
                    n("fires_differently"),
                    n("decisions_changed"),
                ),
            )
        })
        .collect()
}

// ---------------------------------------------------------------- no change

#[test]
fn identical_rule_sets_change_nothing() {
    let dir = workdir("identical");
    // The base is the shipped rules as files, the new side the same rules compiled into kensa.
    let r = run_in(&dir, &["diff", "--base", "rules", "--today", TODAY, "--format", "table", "enrollment.jsonl"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    golden("identical", &r);

    let j = run_in(
        &dir,
        &["diff", "--base", "rules", "--rules", "rules", "--today", TODAY, "--format", "json", "enrollment.jsonl"],
        None,
    );
    assert_eq!(j.code, 0, "{}", j.stderr);
    let report = json(&j);
    assert_eq!(report["decisions"]["changed"], 0);
    assert_eq!(report["scores"]["changed"], 0);
    assert_eq!(report["records"]["evaluated"], 99);
    assert_eq!(report["rules"].as_array().unwrap().len(), 0);
    assert_eq!(report["changes"].as_array().unwrap().len(), 0);
}

#[test]
fn stdout_not_a_terminal_defaults_to_json() {
    let dir = workdir("default-json");
    let r = run_in(&dir, &["diff", "--base", "rules", "--today", TODAY], Some(""));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = json(&r);
    assert_eq!(report["records"]["in"], 0);
    assert_eq!(report["new"], "built-in");
}

// ---------------------------------------------------------------- a real change

#[test]
fn a_changed_rule_set_shows_transitions_and_the_rules_behind_them() {
    let dir = workdir("change");
    bank_change(&dir);
    let args = ["diff", "--base", "rules", "--rules", "new", "--today", TODAY, "--format", "table", "enrollment.jsonl"];
    let r = run_in(&dir, &args, None);
    assert_eq!(r.code, 1, "a changed decision exits 1: {}", r.stderr);
    golden("change_table", &r);

    let mut json_args = args;
    json_args[8] = "json";
    let j = run_in(&dir, &json_args, None);
    assert_eq!(j.code, 1);
    let report = json(&j);
    // The holder rule fires on 7 examples; all 7 go from review to reject, nothing else moves.
    assert_eq!(transitions(&report).get("review→reject"), Some(&7));
    assert_eq!(report["decisions"]["changed"], 7);
    let rules = rules(&report);
    assert_eq!(rules["bank.holder_is_registrant"], ("both".into(), 0, 0, 7, 7));
    assert_eq!(rules["postal_code.format"], ("both".into(), 0, 0, 3, 0));
    let (status, fires, stops, differs, changed) = &rules["bank.account_required"];
    assert_eq!((status.as_str(), *stops, *differs, *changed), ("added", 0, 0, 0));
    assert!(*fires > 0);
    assert_eq!(rules.len(), 3, "{rules:?}");
    // Examples: the first three records of the transition, in input order, with the rule.
    let change = &report["changes"][0];
    assert_eq!(
        (change["from"].as_str(), change["to"].as_str(), change["records"].as_u64()),
        (Some("review"), Some("reject"), Some(7))
    );
    let examples = change["examples"].as_array().unwrap();
    assert_eq!(examples.len(), 3);
    for e in examples {
        assert_eq!(e["fires_differently"], serde_json::json!(["bank.holder_is_registrant"]));
        assert_eq!((e["base"]["decision"].as_str(), e["new"]["decision"].as_str()), (Some("review"), Some("reject")));
    }
    let lines: Vec<u64> = examples.iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert!(lines.windows(2).all(|w| w[0] < w[1]), "{lines:?}");
    golden("change_json", &j);
}

#[test]
fn examples_option_limits_the_examples() {
    let dir = workdir("examples-option");
    bank_change(&dir);
    let run = |k: &str| {
        json(&run_in(
            &dir,
            &[
                "diff",
                "--base",
                "rules",
                "--rules",
                "new",
                "--today",
                TODAY,
                "--format",
                "json",
                "--examples",
                k,
                "enrollment.jsonl",
            ],
            None,
        ))
    };
    assert_eq!(run("0")["changes"][0]["examples"].as_array().unwrap().len(), 0);
    assert_eq!(run("100")["changes"][0]["examples"].as_array().unwrap().len(), 7);
}

#[test]
fn renamed_rule_shows_as_removed_and_added() {
    let dir = workdir("renamed");
    changed_rules(&dir, "new", "resident.kensa", &[("rule my_number.check_digit ", "rule my_number.check_digit_v2 ")]);
    let r = run_in(
        &dir,
        &["diff", "--base", "rules", "--rules", "new", "--today", TODAY, "--format", "json", "enrollment.jsonl"],
        None,
    );
    assert_eq!(r.code, 0, "a rename changes no decision: {}", r.stderr);
    let rules = rules(&json(&r));
    assert_eq!(rules["my_number.check_digit"], ("removed".into(), 0, 3, 0, 0));
    assert_eq!(rules["my_number.check_digit_v2"], ("added".into(), 3, 0, 0, 0));
}

#[test]
fn a_decide_block_change_is_not_blamed_on_a_rule() {
    let dir = workdir("decide");
    // Records at 50 points or less are rejected outright.
    changed_rules(
        &dir,
        "new",
        "resident.kensa",
        &[("  reject if any reject\n", "  reject if any reject or score <= 50\n")],
    );
    let r = run_in(
        &dir,
        &["diff", "--base", "rules", "--rules", "new", "--today", TODAY, "--format", "table", "enrollment.jsonl"],
        None,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    golden("decide_block", &r);
    let j = run_in(
        &dir,
        &["diff", "--base", "rules", "--rules", "new", "--today", TODAY, "--format", "json", "enrollment.jsonl"],
        None,
    );
    let report = json(&j);
    let changed = report["decisions"]["changed"].as_u64().unwrap();
    assert!(changed > 0);
    assert_eq!(report["without_rule_change"].as_u64(), Some(changed));
    assert_eq!(report["rules"].as_array().unwrap().len(), 0);
}

#[test]
fn the_registry_is_consulted_by_both_sides() {
    let dir = workdir("registry");
    std::fs::copy(Path::new(ROOT).join("examples/registry.jsonl"), dir.join("registry.jsonl")).unwrap();
    changed_rules(
        &dir,
        "new",
        "registry.kensa",
        &[(
            "  review -40 \"個人番号 {my_number} の方は既に登録されています",
            "  reject \"個人番号 {my_number} の方は既に登録されています",
        )],
    );
    let base = ["diff", "--base", "rules", "--rules", "new", "--today", TODAY, "--format", "json"];
    // Without the registry the changed rule never applies.
    let without = run_in(&dir, &[&base[..], &["enrollment.jsonl"]].concat(), None);
    assert_eq!(without.code, 0, "{}", without.stderr);
    let with = run_in(&dir, &[&base[..], &["--registry", "registry.jsonl", "enrollment.jsonl"]].concat(), None);
    assert_eq!(with.code, 1, "{}", with.stderr);
    let report = json(&with);
    let (status, fires, stops, differs, changed) = rules(&report)["registry.already_enrolled"].clone();
    assert_eq!((status.as_str(), fires, stops), ("both", 0, 0));
    assert!(differs > 0 && changed > 0, "{report}");
    assert_eq!(report["decisions"]["changed"].as_u64(), Some(changed));

    // The same through a registry database built by `kensa registry import`.
    let import = run_in(&dir, &["registry", "import", "--db", "registry.db", "--today", TODAY, "registry.jsonl"], None);
    assert_eq!(import.code, 0, "{}", import.stderr);
    let db = run_in(&dir, &[&base[..], &["--registry", "registry.db", "enrollment.jsonl"]].concat(), None);
    assert_eq!((db.code, json(&db)), (1, report));
}

#[test]
fn my_numbers_are_never_printed() {
    let dir = workdir("masking");
    bank_change(&dir);
    let records = std::fs::read_to_string(dir.join("enrollment.jsonl")).unwrap();
    let numbers: Vec<String> = records
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok()?["my_number"].as_str().map(String::from))
        .map(|n| n.chars().filter(char::is_ascii_digit).collect::<String>())
        .filter(|n| n.len() >= 8)
        .collect();
    assert!(numbers.len() > 50);
    for format in ["table", "json"] {
        let r = run_in(
            &dir,
            &[
                "diff",
                "--base",
                "rules",
                "--rules",
                "new",
                "--today",
                TODAY,
                "--format",
                format,
                "--examples",
                "100",
                "enrollment.jsonl",
            ],
            None,
        );
        let digits: String =
            format!("{}{}", r.stdout, r.stderr).chars().filter(|c| c.is_ascii_digit() || *c == '\n').collect();
        for n in &numbers {
            assert!(!digits.contains(n.as_str()), "{format}: a My Number is printed: {n}");
        }
    }
}

// ---------------------------------------------------------------- errors

#[test]
fn a_base_that_does_not_compile_exits_2() {
    let dir = workdir("broken-base");
    // The base is an older revision with a misspelt field name.
    changed_rules(&dir, "old", "resident.kensa", &[("is_katakana(given_name_kana)", "is_katakana(given_nam_kana)")]);
    let r = run_in(&dir, &["diff", "--base", "old", "--today", TODAY, "--format", "table", "enrollment.jsonl"], None);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("the base rules (`old`) do not compile"), "{}", r.stderr);
    assert!(!r.stderr.contains("the new rules"), "{}", r.stderr);
    golden("base_does_not_compile", &r);

    // Both sides broken: both are reported, each named.
    let both = run_in(&dir, &["diff", "--base", "old", "--rules", "old", "--today", TODAY, "enrollment.jsonl"], None);
    assert_eq!(both.code, 2);
    assert!(
        both.stderr.contains("the base rules (`old`)") && both.stderr.contains("the new rules (`old`)"),
        "{}",
        both.stderr
    );
}

#[test]
fn a_malformed_line_is_counted_and_reported() {
    let dir = workdir("malformed");
    let lines: Vec<&str> = include_str!("../examples/enrollment.jsonl").lines().take(4).collect();
    let text =
        format!("{}\n{{\"id\": \"E9\", \"family_name\": \n{}\n[1, 2]\n", lines[..2].join("\n"), lines[2..].join("\n"));
    write(&dir, "records.jsonl", &text);
    let r = run_in(&dir, &["diff", "--base", "rules", "--today", TODAY, "--format", "table", "records.jsonl"], None);
    assert_eq!(r.code, 0, "bad records are reported, not a change: {}", r.stderr);
    assert!(r.stderr.contains("line 3: ") && r.stderr.contains("line 6: "), "{}", r.stderr);
    golden("malformed_line", &r);
    let j = run_in(&dir, &["diff", "--base", "rules", "--today", TODAY, "--format", "json", "records.jsonl"], None);
    assert_eq!(json(&j)["records"], serde_json::json!({"in": 6, "evaluated": 4, "errors": 2}));

    // Nothing readable at all: the rule sets were not compared.
    write(&dir, "garbage.jsonl", "not json\n");
    let g = run_in(&dir, &["diff", "--base", "rules", "--today", TODAY, "--format", "json", "garbage.jsonl"], None);
    assert_eq!(g.code, 2, "{}", g.stderr);
}

#[test]
fn a_missing_input_or_registry_exits_2() {
    let dir = workdir("missing");
    let r = run_in(&dir, &["diff", "--base", "rules", "--today", TODAY, "nope.jsonl"], None);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            2,
            "rules: ./rules (the default when a `rules` folder is here; give another with --rules)\nerror: cannot open `nope.jsonl`: no such file\n"
        )
    );
    let r = run_in(
        &dir,
        &["diff", "--base", "rules", "--registry", "nope.jsonl", "--today", TODAY, "enrollment.jsonl"],
        None,
    );
    assert!(
        r.code == 2 && r.stderr.ends_with("error: cannot open registry `nope.jsonl`: no such file\n"),
        "{}",
        r.stderr
    );
}

// ---------------------------------------------------------------- the counts, independently

/// The report's counts equal a record-by-record comparison through the library, whatever the
/// batch size and the number of threads.
#[test]
fn counts_agree_with_the_library() {
    let dir = workdir("library");
    bank_change(&dir);
    // And a rename, so that some rule also stops firing.
    edit(&dir.join("new/resident.kensa"), &[("rule my_number.check_digit ", "rule my_number.check_digit_v2 ")]);
    // A second input in another format (a JSON array), with records the first does not have.
    let more = serde_json::json!([
        {"id": "Y1", "family_name": "山田", "given_name": "花子", "family_name_kana": "ヤマダ", "given_name_kana": "ハナコ",
         "birth_date": "1980-04-01", "sex": "female", "postal_code": "1000014", "address": "東京都千代田区永田町1-7-1",
         "bank": {"bank_code": "0001", "branch_code": "001", "account_type": "ordinary", "account_number": "1234567", "holder_kana": "ﾔﾏﾀﾞ ﾀﾛｳ"}},
        {"id": "Y2", "family_name": "田中"},
        {"family_name": "佐藤", "given_name": "一郎", "family_name_kana": "サトウ", "given_name_kana": "イチロウ",
         "birth_date": "1970-01-01", "sex": "male", "postal_code": "1000014", "address": "東京都千代田区永田町1-7-1",
         "bank": {"bank_code": "0001", "branch_code": "001", "account_type": "ordinary", "account_number": "7654321", "holder_kana": "ｻﾄｳ ｼﾞﾛｳ"}}
    ]);
    write(&dir, "more.json", &more.to_string());
    let today = kensa::Date::parse(TODAY).unwrap();
    let base = kensa::Engine::from_path(dir.join("rules")).unwrap().with_today(today);
    let new = kensa::Engine::from_path(dir.join("new")).unwrap().with_today(today);

    let mut records: Vec<Value> = std::fs::read_to_string(dir.join("enrollment.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    records.extend(more.as_array().unwrap().iter().cloned());
    let mut expected_transitions: BTreeMap<String, u64> = BTreeMap::new();
    let mut expected_rules: BTreeMap<String, (u64, u64, u64, u64)> = BTreeMap::new();
    let (mut changed, mut scores_changed, mut delta) = (0u64, 0u64, 0i64);
    for record in &records {
        let (b, n) = (base.evaluate(record).unwrap(), new.evaluate(record).unwrap());
        *expected_transitions.entry(format!("{}→{}", b.decision, n.decision)).or_default() += 1;
        let decision_changed = b.decision != n.decision;
        changed += u64::from(decision_changed);
        scores_changed += u64::from(b.score != n.score);
        delta += i64::from(n.score) - i64::from(b.score);
        let fired = |v: &kensa::Verdict| -> BTreeMap<String, (kensa::Severity, u32)> {
            let mut m: BTreeMap<String, (kensa::Severity, u32)> = BTreeMap::new();
            for f in &v.findings {
                let e = m.entry(f.rule.clone()).or_insert((f.severity, 0));
                e.0 = e.0.max(f.severity);
                e.1 += f.penalty;
            }
            m
        };
        let (old, now) = (fired(&b), fired(&n));
        let all: std::collections::BTreeSet<&String> = old.keys().chain(now.keys()).collect();
        for rule in all {
            let slot = match (old.get(rule), now.get(rule)) {
                (None, Some(_)) => 0,
                (Some(_), None) => 1,
                (Some(x), Some(y)) if x != y => 2,
                _ => continue,
            };
            let e = expected_rules.entry(rule.clone()).or_default();
            match slot {
                0 => e.0 += 1,
                1 => e.1 += 1,
                _ => e.2 += 1,
            }
            e.3 += u64::from(decision_changed);
        }
    }
    assert!(changed > 0, "the change should change some decision");

    let mut reports = Vec::new();
    for extra in [&[][..], &["--jobs", "1", "--batch", "7"], &["--jobs", "2", "--batch", "1"]] {
        let args = [
            &["diff", "--base", "rules", "--rules", "new", "--today", TODAY, "--format", "json"][..],
            extra,
            &["enrollment.jsonl", "more.json"],
        ]
        .concat();
        let r = run_in(&dir, &args, None);
        assert_eq!(r.code, 1, "{}", r.stderr);
        let report = json(&r);
        assert_eq!(report["records"]["evaluated"].as_u64(), Some(records.len() as u64));
        assert_eq!(report["decisions"]["changed"].as_u64(), Some(changed));
        assert_eq!(report["scores"]["changed"].as_u64(), Some(scores_changed));
        let mean = (delta as f64 / records.len() as f64 * 1000.0).round() / 1000.0;
        assert_eq!(report["scores"]["mean_change"].as_f64(), Some(mean));
        let mut got_transitions = transitions(&report);
        // `transitions` leaves out zeros; the expectation has the unchanged diagonal too.
        expected_transitions.retain(|_, n| *n > 0);
        got_transitions.retain(|_, n| *n > 0);
        assert_eq!(got_transitions, expected_transitions);
        let got_rules: BTreeMap<String, (u64, u64, u64, u64)> = rules(&report)
            .into_iter()
            .map(|(k, (_, a, b, c, d))| (k, (a, b, c, d)))
            .filter(|(_, counts)| *counts != (0, 0, 0, 0))
            .collect();
        assert_eq!(got_rules, expected_rules);
        reports.push(report);
    }
    assert!(reports.windows(2).all(|w| w[0] == w[1]), "the report does not depend on batches or threads");
}

#[test]
fn blocking_keys_that_differ_key_each_side_separately() {
    let dir = workdir("registry-keys");
    std::fs::copy(Path::new(ROOT).join("examples/registry.jsonl"), dir.join("registry.jsonl")).unwrap();
    // The new rules no longer look up enrolled records by bank account.
    changed_rules(&dir, "new", "registry.kensa", &[("  block on bank_account\n", "")]);
    let base = ["diff", "--base", "rules", "--rules", "new", "--today", TODAY, "--format", "json", "--registry"];
    let r = run_in(&dir, &[&base[..], &["registry.jsonl", "enrollment.jsonl"]].concat(), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Accounts held by someone else are found through the bank key only: that rule stops firing.
    let rules = rules(&json(&r));
    assert_eq!(
        rules.into_iter().collect::<Vec<_>>(),
        [("registry.account_held_by_other".into(), ("both".into(), 0, 3, 0, 0))]
    );

    // A database holds the keys of one rule set only: the side it does not fit is named.
    let import = run_in(&dir, &["registry", "import", "--db", "registry.db", "--today", TODAY, "registry.jsonl"], None);
    assert_eq!(import.code, 0, "{}", import.stderr);
    let db = run_in(&dir, &[&base[..], &["registry.db", "enrollment.jsonl"]].concat(), None);
    assert_eq!(db.code, 2);
    assert!(db.stdout.is_empty());
    assert!(
        db.stderr.contains("blocking keys were built by other rules") && db.stderr.ends_with("(for the new rules)\n"),
        "{}",
        db.stderr
    );
}

// ---------------------------------------------------------------- intended changes

/// `--expect`: the gate passes when every change was intended, fails on what was not and lists
/// it, and refuses an expectations file it cannot read.
#[test]
fn the_gate_fails_only_on_unintended_changes() {
    let dir = workdir("expect");
    bank_change(&dir);
    let run = |expect: &str| {
        write(&dir, "expect.yaml", expect);
        let args = ["diff", "--base", "rules", "--rules", "new", "--today", TODAY, "--format", "json"];
        run_in(&dir, &[&args[..], &["--expect", "expect.yaml", "enrollment.jsonl"]].concat(), None)
    };
    // The intended change: the holder rule rejects (7 records go from review to reject), the
    // postal format costs less, a new rule warns.
    let intended = "decisions:\n  review -> reject: 7\nrules:\n  bank.holder_is_registrant: { fires_differently: 7 }\n  postal_code.format: { fires_differently: 1..5 }\n  bank.account_required: { newly_fires: 1.. }\n";
    let r = run(intended);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json(&r)["unintended"], serde_json::json!([]));
    assert!(r.stderr.contains("every change was intended"), "{}", r.stderr);

    // Only the decisions intended: the rules are not checked, and pass.
    assert_eq!(run("decisions:\n  review -> reject: 5..10\n").code, 0);

    // A transition not intended, a count out of range, a rule not listed.
    let r =
        run("decisions:\n  review -> reject: 1..3\nrules:\n  bank.holder_is_registrant: { fires_differently: any }\n");
    assert_eq!(r.code, 1, "{}", r.stderr);
    let unintended = json(&r)["unintended"].clone();
    let lines: Vec<&str> = unintended.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(lines.contains(&"review -> reject: 7 records, expected 1..3"), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("postal_code.format changes")), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("bank.account_required changes")), "{lines:?}");
    assert!(r.stderr.contains("unintended: review -> reject: 7 records, expected 1..3"), "{}", r.stderr);

    // Nothing intended at all: the decision change is unintended.
    let r = run("decisions: {}\n");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("unintended: review -> reject: 7 records, not expected"), "{}", r.stderr);

    // A file that is not an expectation: exit 2, naming the key.
    let r = run("decisions:\n  review -> maybe: 1\n");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("`review -> maybe` is not a decision change"), "{}", r.stderr);
    let r = run("decisions:\n  review -> reject: lots\n");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("`lots` is not a count"), "{}", r.stderr);
}

/// `builtin` names the built-in rule set on either side.
#[test]
fn builtin_names_the_built_in_rules() {
    let dir = workdir("builtin-name");
    let r = run_in(
        &dir,
        &["diff", "--base", "builtin", "--rules", "rules", "--today", TODAY, "--format", "json", "enrollment.jsonl"],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json(&r)["decisions"]["changed"], 0);
}
