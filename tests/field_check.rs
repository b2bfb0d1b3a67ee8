//! Checking a form as it is filled in (`Engine::check_fields`), and one finding per problem in
//! full evaluation. Public API only; `today` is fixed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/records.rs"]
mod records;
use records::{engine, hanako};

use kensa::{Decision, Engine, FieldCheck, PendingRule, RuleOutcome};
use serde_json::{Value, json};

/// A check in a few lines: the findings (rule ids) and the pending rules with what they wait for.
fn summary(c: &FieldCheck) -> String {
    let mut out = format!("decision: {}\nfindings:", c.verdict.decision);
    for f in &c.verdict.findings {
        out.push_str(&format!(" {}", f.rule));
    }
    out.push_str("\npending:\n");
    for p in &c.pending {
        out.push_str(&format!("  {} <- [{}]\n", p.rule, p.missing.join(", ")));
    }
    out
}

fn check(record: Value) -> String {
    summary(&engine().check_fields(&record).unwrap())
}

#[test]
fn an_empty_form_has_no_findings_and_every_rule_waits() {
    insta::assert_snapshot!(check(json!({})));
}

#[test]
fn a_half_filled_form_is_judged_on_what_it_has() {
    // Kana in kanji is found as soon as it is typed; the postal code is filled but wrong; the
    // rest waits. Blank text and null are not filled yet.
    insta::assert_snapshot!(check(json!({
        "family_name": "山田", "given_name": "",
        "family_name_kana": "山田", "postal_code": "100-001",
        "address": null, "bank": {"bank_code": "12A4"}
    })));
}

#[test]
fn a_complete_record_checks_as_it_evaluates() {
    let e = engine();
    let mut r = hanako();
    r["bank"] = json!({"bank_code": "0001", "branch_code": "001", "account_type": "ordinary",
                       "account_number": "1234567", "holder_kana": "ﾔﾏﾀﾞ ﾊﾅｺ"});
    let c = e.check_fields(&r).unwrap();
    // Only the registry rules wait: the registry is consulted on the whole record only. Those
    // that also read an optional field the record leaves out (former names, alias) name it.
    let optional = ["former_names", "former_names_kana", "alias"];
    assert!(
        c.pending
            .iter()
            .all(|p| p.rule.starts_with("registry.") && p.missing.iter().all(|m| optional.contains(&m.as_str()))),
        "{:?}",
        c.pending
    );
    assert!(c.pending.iter().any(|p| p.missing.is_empty()), "{:?}", c.pending);
    assert!(!c.pending.is_empty());
    assert_eq!(c.verdict, e.evaluate(&r).unwrap());
    // An optional group left out is not filled either: the rules about it wait.
    let c = e.check_fields(&hanako()).unwrap();
    assert!(c.pending.iter().any(|p| p.rule == "bank.holder_is_registrant" && p.missing == ["bank"]));
    assert_eq!(c.verdict, e.evaluate(&hanako()).unwrap());

    r["family_name_kana"] = json!("山田");
    r["my_number"] = json!("123456789019");
    let c = e.check_fields(&r).unwrap();
    assert_eq!(c.verdict, e.evaluate(&r).unwrap());
    assert_eq!(c.verdict.decision, Decision::Reject);
}

#[test]
fn a_form_value_that_cannot_be_read_is_reported_while_typing() {
    let c = engine().check_fields(&json!({"birth_date": "1980-13-01", "sexx": "female"})).unwrap();
    let rules: Vec<&str> = c.verdict.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, ["schema.type", "schema.unknown_field"]);
    // The birth date rules do not wait (the field is filled) and do not fire either.
    assert!(!c.pending.iter().any(|p| p.rule.starts_with("birth_date.")), "{:?}", c.pending);
}

#[test]
fn a_missing_group_is_named_once() {
    let c = engine().check_fields(&json!({"family_name_kana": "ヤマダ", "given_name_kana": "ハナコ"})).unwrap();
    let holder = c.pending.iter().find(|p| p.rule == "bank.holder_is_registrant").unwrap();
    assert_eq!(holder, &PendingRule { rule: "bank.holder_is_registrant".into(), missing: vec!["bank".into()] });
}

#[test]
fn explain_marks_pending_rules_not_applicable() {
    // check_fields has no trace; the verdict of the rules that ran is the same as evaluating a
    // record where the pending rules did not apply.
    let c = engine().check_fields(&json!({"given_name": "花子"})).unwrap();
    assert!(c.verdict.trace.is_none());
    assert!(c.verdict.findings.is_empty());
    assert_eq!(c.verdict.score, 100);
}

#[test]
fn field_check_json_is_the_verdict_plus_pending() {
    let c = engine().check_fields(&json!({"given_name": "花子", "postal_code": "1000014"})).unwrap();
    let text = serde_json::to_string(&c).unwrap();
    let head = r#"{"id":null,"decision":"accept","score":100,"findings":[],"pending":[{"rule":"registry.number_held_by_other","missing":["my_number"]},"#;
    assert!(text.starts_with(head), "{text}");
    let back: FieldCheck = serde_json::from_str(&text).unwrap();
    assert_eq!(back, c);
}

// ---------------------------------------------------------------- one finding per problem

fn rules_fired(record: &Value) -> Vec<String> {
    engine().evaluate(record).unwrap().findings.into_iter().map(|f| f.rule).collect()
}

#[test]
fn a_missing_name_is_one_finding() {
    let mut r = hanako();
    r.as_object_mut().unwrap().remove("given_name");
    assert_eq!(rules_fired(&r), ["schema.required"]);
    let v = engine().explain(&r).unwrap();
    let t = v.trace.unwrap();
    let given = t.iter().find(|t| t.rule == "name.given_present").unwrap();
    assert_eq!(given.outcome, RuleOutcome::NotApplicable);
    // Given but empty, it is the rule's finding (the schema has nothing to say).
    r["given_name"] = json!("");
    assert_eq!(rules_fired(&r), ["name.given_present"]);
}

#[test]
fn a_missing_postal_code_is_one_finding_and_nothing_shows_an_absent_value() {
    let mut r = hanako();
    r["postal_code"] = Value::Null;
    assert_eq!(rules_fired(&r), ["schema.required"]);
    let out = serde_json::to_string(&engine().evaluate(&r).unwrap()).unwrap();
    assert!(!out.contains("(なし)"), "{out}");
}

#[test]
fn a_value_too_long_or_unreadable_is_one_finding() {
    let mut r = hanako();
    r["address"] = json!("東".repeat(401));
    assert_eq!(rules_fired(&r), ["schema.too_long"]);
    let mut r = hanako();
    r["bank"] = json!("みずほ銀行");
    assert_eq!(rules_fired(&r), ["schema.type"]);
}

#[test]
fn a_rule_about_other_fields_too_still_fires() {
    // `fields` names fields the schema did not report: the rule's finding is another problem.
    let rules = r#"
schema R { a: text  b: text? }
rule both { require present(a) and present(b); review "a と b が必要です" fields a, b }
rule only_a { require present(a); review "a が必要です" }
"#;
    let e = Engine::from_source("r.kensa", rules).unwrap();
    let v = e.evaluate(&json!({})).unwrap();
    let fired: Vec<&str> = v.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(fired, ["schema.required", "both"]);
}
