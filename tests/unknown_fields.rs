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
        RecordError::UnknownField { path: "nickname".into() }
    );
}

#[test]
fn unknown_field_is_reported_when_a_required_field_is_absent() {
    let record = json!({ "famiy_name": "山田" });
    let v = engine().evaluate(&record).unwrap();
    let rules: Vec<&str> = v.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, ["schema.required", "schema.unknown_field"]);
}
