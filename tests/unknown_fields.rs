//! Unknown record fields are reported (a warning finding, or an error in strict mode) whatever
//! else the record leaves out.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use kensa::{Date, Engine, RecordError};
use serde_json::json;

const RULES: &str = r#"
schema Resident {
  family_name: text
  moved_in: date?
}
rule name.present { require family_name != ""; reject "氏がありません" }
"#;

fn engine() -> Engine {
    Engine::from_source("unknown.kensa", RULES).unwrap().with_today(Date::parse("2026-11-27").unwrap())
}

#[test]
fn unknown_field_is_reported_when_an_optional_field_is_absent() {
    // 2 keys, 2 schema fields, but `nickname` is not one of them.
    let record = json!({ "family_name": "山田", "nickname": "やまちゃん" });
    let v = engine().evaluate(&record).unwrap();
    let rules: Vec<&str> = v.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, ["schema.unknown_field"]);
}

#[test]
fn strict_mode_rejects_an_unknown_field_when_an_optional_field_is_absent() {
    let record = json!({ "family_name": "山田", "nickname": "やまちゃん" });
    assert_eq!(
        engine().with_strict(true).evaluate(&record).unwrap_err(),
        RecordError::UnknownField { path: "nickname".into(), suggestion: None }
    );
}

#[test]
fn unknown_field_is_reported_when_a_required_field_is_absent() {
    let record = json!({ "famiy_name": "山田" });
    let v = engine().evaluate(&record).unwrap();
    let rules: Vec<&str> = v.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, ["schema.required", "schema.unknown_field"]);
}

#[test]
fn an_unknown_field_close_to_a_schema_field_names_it() {
    // Non-strict: the warning says which field was probably meant, in the message and params.
    let record = json!({ "famiy_name": "山田" });
    let v = engine().evaluate(&record).unwrap();
    let f = v.findings.iter().find(|f| f.rule == "schema.unknown_field").unwrap();
    assert!(f.message.contains("`family_name` のことですか"), "{}", f.message);
    assert_eq!(
        f.params,
        vec![("field".to_string(), json!("famiy_name")), ("suggestion".to_string(), json!("family_name"))]
    );
    // Strict: the error says it.
    let err = engine().with_strict(true).evaluate(&record).unwrap_err();
    assert_eq!(err, RecordError::UnknownField { path: "famiy_name".into(), suggestion: Some("family_name".into()) });
    assert_eq!(
        err.to_string(),
        "unknown field `famiy_name` (not in the schema; strict mode); did you mean `family_name`?"
    );
}

#[test]
fn an_unknown_field_far_from_every_schema_field_suggests_nothing() {
    let record = json!({ "family_name": "山田", "nickname": "やまちゃん" });
    let v = engine().evaluate(&record).unwrap();
    assert_eq!(v.findings[0].params, vec![("field".to_string(), json!("nickname"))]);
    assert_eq!(v.findings[0].message, "スキーマにない項目 `nickname` は無視されました");
}

#[test]
fn an_unknown_field_inside_a_group_is_suggested_with_its_path() {
    let engine = Engine::builtin().unwrap().with_today(Date::parse("2026-11-27").unwrap());
    let record = json!({ "bank": { "bank_cod": "0001" } });
    let v = engine.evaluate(&record).unwrap();
    let f = v.findings.iter().find(|f| f.rule == "schema.unknown_field").unwrap();
    assert_eq!(f.fields, ["bank.bank_cod"]);
    assert!(f.params.contains(&("suggestion".to_string(), json!("bank.bank_code"))), "{:?}", f.params);
}
