//! Overlays: a rule folder that `extend`s the national set (by name or by path), adds schema
//! fields and rules, disables and overrides rules with a reason; and the example overlay
//! `examples/overlay-foreign-residents/` with its suite and its intended diff.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;

use cli::{ROOT, rules_copy, run, run_in, workdir, write};
use serde_json::json;

const EXAMPLE: &str = "examples/overlay-foreign-residents";

/// A foreign resident in the standard shape, with the overlay's two fields.
fn foreign_resident() -> serde_json::Value {
    json!({"id": "F0001", "my_number": "463760444596", "family_name": "SMITH", "given_name": "JOHN",
           "family_name_kana": "SMITH", "given_name_kana": "JOHN", "birth_date": "1988-05-14", "sex": "male",
           "postal_code": "260-0855", "address": "千葉県千葉市中央区市場町22番8号",
           "residence_card_number": "AB12345678CD", "nationality": "アメリカ合衆国"})
}

fn fired(v: &kensa::Verdict) -> Vec<&str> {
    v.findings.iter().map(|f| f.rule.as_str()).collect()
}

fn today() -> kensa::Date {
    kensa::Date::parse("2026-11-27").unwrap()
}

#[test]
fn the_example_overlay_adds_fields_and_rules_and_changes_the_national_ones() {
    let overlay = kensa::Engine::from_path(format!("{ROOT}/{EXAMPLE}")).unwrap().with_today(today());
    let national = kensa::Engine::builtin().unwrap().with_today(today());
    let record = foreign_resident();

    let v = overlay.evaluate(&record).unwrap();
    // The added fields are known; the national kana rules do not apply to a foreign resident;
    // the overlay's own reading rule warns.
    assert_eq!(fired(&v), ["foreign.reading_is_katakana"], "{v:?}");
    assert_eq!(v.decision, kensa::Decision::Accept);

    let v = national.evaluate(&record).unwrap();
    let rules = fired(&v);
    assert!(rules.contains(&"schema.unknown_field"), "{rules:?}");
    assert!(rules.contains(&"kana.family_is_katakana"), "{rules:?}");

    // A disabled rule is gone; an added one is there.
    let ids: Vec<&str> = overlay.rule_ids().collect();
    assert!(!ids.contains(&"name.given_present"));
    assert!(ids.contains(&"name.given_present_unless_single"));
    assert!(ids.contains(&"kana.family_is_katakana"), "an overridden rule is still a rule");
    // The schema has the overlay's fields.
    let schema = overlay.json_schema();
    assert!(schema["properties"]["residence_card_number"].is_object(), "{schema}");
}

#[test]
fn an_outcome_override_keeps_the_message_and_takes_the_new_severity_and_penalty() {
    let overlay = kensa::Engine::from_path(format!("{ROOT}/{EXAMPLE}")).unwrap().with_today(today());
    let mut record = foreign_resident();
    record["family_name_kana"] = json!("スミス");
    record["given_name_kana"] = json!("ジョン");
    record["address"] = json!("千葉県千葉市中央区新緑町1番2号");
    let v = overlay.evaluate(&record).unwrap();
    let f = v.findings.iter().find(|f| f.rule == "address.town_known").unwrap();
    assert_eq!((f.severity, f.penalty), (kensa::Severity::Warn, 10));
    assert!(f.message.contains("新緑町"), "the national message stays: {}", f.message);
    assert_eq!((v.decision, v.score), (kensa::Decision::Accept, 90));
}

#[test]
fn check_shows_the_effective_rule_set_with_reasons() {
    let r = run(&["check", EXAMPLE]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with(&format!("{EXAMPLE}: an overlay of the built-in rule set\n")), "{}", r.stdout);
    assert!(r.stdout.contains("schema: +2 field(s): residence_card_number, nationality"), "{}", r.stdout);
    assert!(r.stdout.contains("1 disabled, 4 overridden, 6 added"), "{}", r.stdout);
    let line = |start: &str| r.stdout.lines().find(|l| l.trim_start().starts_with(start)).unwrap_or("").to_string();
    assert!(line("disabled").contains("name.given_present") && line("disabled").contains("単一名"), "{}", r.stdout);
    assert!(line("overridden (outcome)").contains("address.town_known"), "{}", r.stdout);
    assert!(r.stderr.ends_with(&format!("{EXAMPLE}: ok\n")), "{}", r.stderr);
}

#[test]
fn the_example_overlay_passes_its_suite_with_full_coverage_of_its_rules() {
    let suite = format!("{EXAMPLE}/suite.yaml");
    let file = format!("{EXAMPLE}/foreign-residents.kensa");
    let r = run(&["test", &suite, "--coverage-of", &file, "--min-coverage", "100"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("0 failed"), "{}", r.stdout);
    // From inside the overlay's folder, as its author runs it.
    let r = run_in(&std::path::Path::new(ROOT).join(EXAMPLE), &["test", "suite.yaml"], None);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
}

#[test]
fn diff_against_the_base_reports_exactly_the_intended_changes() {
    let records = [format!("{EXAMPLE}/records.jsonl"), String::from("examples/enrollment.jsonl")];
    let expect = format!("{EXAMPLE}/intended.yaml");
    let args = |extra: &[&str]| {
        let mut a: Vec<String> =
            ["diff", "--base", "builtin", "--rules", EXAMPLE, "--today", "2026-11-27", "--format", "json"]
                .iter()
                .map(|s| (*s).to_string())
                .collect();
        a.extend(records.iter().cloned());
        a.extend(extra.iter().map(|s| (*s).to_string()));
        a
    };
    let call = |extra: &[&str]| {
        let a = args(extra);
        run(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    // Without the expectations the decision changes fail the gate.
    let r = call(&[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // With them, every change was intended.
    let r = call(&["--expect", &expect]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["unintended"], json!([]), "{report}");
    assert_eq!(report["decisions"]["changed"], 5, "{report}");

    // One expectation off by one is named.
    let dir = workdir("overlay-diff-expect");
    let text = std::fs::read_to_string(format!("{ROOT}/{expect}")).unwrap();
    write(&dir, "intended.yaml", &text.replace("reject -> accept: 1", "reject -> accept: 2"));
    let wrong = dir.join("intended.yaml").display().to_string();
    let r = call(&["--expect", &wrong]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("reject -> accept") || r.stderr.contains("reject -> accept"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
}

#[test]
fn an_overlay_of_a_folder_warns_when_the_base_no_longer_has_a_rule_it_names() {
    let dir = workdir("overlay-of-a-folder");
    // The national set, as a folder of its own.
    let national = rules_copy(&dir, "national", |t| t.to_string());
    std::fs::create_dir_all(dir.join("city")).unwrap();
    write(
        &dir,
        "city/local.kensa",
        "extend \"../national\"\n\n\
         disable kana.given_is_katakana \"市の方針\"\n\n\
         rule local.address_in_city {\n  require contains(address, \"千葉市\")\n  review -20 \"市外の住所です\"\n}\n",
    );
    let r = run_in(&dir, &["check", "city"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("city: an overlay of `national`"), "{}", r.stdout);
    // The base folder's tables and includes resolve inside the base, from any working folder.
    let r = run_in(&dir.join("city"), &["check", "."], None);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // The national set renames the rule in an update: the overlay is told, and still works.
    let resident = std::fs::read_to_string(national.join("resident.kensa")).unwrap();
    std::fs::write(national.join("resident.kensa"), resident.replace("kana.given_is_katakana", "kana.given_reading"))
        .unwrap();
    let r = run_in(&dir, &["check", "city"], None);
    assert_eq!(r.code, 0, "a warning does not fail check: {}", r.stderr);
    assert!(r.stderr.contains("kensa::overlay::unknown_rule"), "{}", r.stderr);
    assert!(r.stderr.contains("`disable kana.given_is_katakana`: the base has no rule of that name"), "{}", r.stderr);
    let r = run_in(&dir, &["check", "--deny-warnings", "city"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
}

#[test]
fn overlays_that_extend_each_other_are_refused() {
    let dir = workdir("overlay-cycle");
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::create_dir_all(dir.join("b")).unwrap();
    write(&dir, "a/a.kensa", "extend \"../b\"\n");
    write(&dir, "b/b.kensa", "extend \"../a\"\n");
    let r = run_in(&dir, &["check", "a"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("kensa::overlay::cycle"), "{}", r.stderr);
    // Named by another path (`./a/../a`), it is the same folder.
    let r = run_in(&dir, &["check", "./b/../a"], None);
    assert!(r.stderr.contains("kensa::overlay::cycle"), "{}", r.stderr);
}

#[test]
fn an_overlay_condition_may_use_the_overlays_own_fields_and_bindings() {
    let text = "extend builtin\n\
                extend schema Resident { visa_expiry: date? }\n\
                let expired = present(visa_expiry) and visa_expiry < today\n\
                override address.present \"在留期限切れの方は住所確認を窓口で行う\" { when not expired }\n";
    let engine = kensa::Engine::from_source("local.kensa", text).unwrap().with_today(today());
    let mut record = foreign_resident();
    record["address"] = json!("");
    record["family_name_kana"] = json!("スミス");
    record["given_name_kana"] = json!("ジョン");
    record.as_object_mut().unwrap().remove("residence_card_number");
    record.as_object_mut().unwrap().remove("nationality");
    let v = engine.evaluate(&record).unwrap();
    assert!(fired(&v).contains(&"address.present"), "{v:?}");
    record["visa_expiry"] = json!("2025-01-31");
    let v = engine.evaluate(&record).unwrap();
    assert!(!fired(&v).contains(&"address.present"), "{v:?}");
}

#[test]
fn an_overlay_may_replace_the_decision_policy() {
    let lenient = "extend builtin\n\
                   override address.town_known \"新しい町名\" { warn -15 }\n";
    let strict = format!(
        "{lenient}decide {{\n  reject if any reject\n  review if any review or score < 90\n  accept otherwise\n}}\n"
    );
    let mut record = foreign_resident();
    record.as_object_mut().unwrap().remove("residence_card_number");
    record.as_object_mut().unwrap().remove("nationality");
    record["family_name_kana"] = json!("スミス");
    record["given_name_kana"] = json!("ジョン");
    record["address"] = json!("千葉県千葉市中央区新緑町1番2号");
    let judge = |text: &str| {
        let engine = kensa::Engine::from_source("local.kensa", text).unwrap().with_today(today());
        assert!(engine.warnings().is_empty(), "{:?}", engine.warnings());
        let v = engine.evaluate(&record).unwrap();
        (v.decision, v.score)
    };
    // The national policy accepts a score of 85; the overlay's own reviews it.
    assert_eq!(judge(lenient), (kensa::Decision::Accept, 85));
    assert_eq!(judge(&strict), (kensa::Decision::Review, 85));
    let report = kensa::Engine::from_source("local.kensa", &strict).unwrap();
    let layering = report.report().layering.as_ref().expect("an overlay has layers");
    assert!(layering.changes.iter().any(|c| c.kind == kensa::ChangeKind::Replaced && c.target == "decide"));
}

#[test]
fn a_base_is_a_rule_folder_or_a_rule_file_never_another_file() {
    let dir = workdir("overlay-base-kind");
    write(&dir, "secret.txt", "My Number 463760444596\n");
    write(&dir, "local.kensa", "extend \"secret.txt\"\n");
    let r = run_in(&dir, &["check", "local.kensa"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("is not a rule folder or a `.kensa` file"), "{}", r.stderr);
    assert!(!r.stderr.contains("463760444596") && !r.stderr.contains("My Number"), "{}", r.stderr);
}

#[test]
fn an_extend_in_an_included_file_names_its_base_relative_to_that_file() {
    let dir = workdir("overlay-extend-in-include");
    rules_copy(&dir, "national", |t| t.to_string());
    std::fs::create_dir_all(dir.join("city/local")).unwrap();
    write(&dir, "city/main.kensa", "include \"local/base.kensa\"\n");
    // From `city/local/`, the national set is two folders up.
    write(&dir, "city/local/base.kensa", "extend \"../../national\"\n");
    let r = run_in(&dir, &["check", "city"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("city: an overlay of `national`"), "{}", r.stdout);
}
