//! What a rule set tells an application about itself (`GET /v1/rules`): the record schema as a
//! JSON Schema (`Engine::json_schema`) and the rules (`Engine::rules_info`). Public API only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/records.rs"]
mod records;
use records::{engine, lines};

use kensa::{Engine, RuleInfo, Severity};
use serde_json::{Value, json};

/// Whether the engine reads `record` without a `schema.*` finding (unknown keys aside: the
/// JSON Schema allows other keys, as the engine does outside strict mode).
fn reads_cleanly(e: &Engine, record: &Value) -> bool {
    e.evaluate(record)
        .is_ok_and(|v| v.findings.iter().all(|f| !f.rule.starts_with("schema.") || f.rule == "schema.unknown_field"))
}

/// The records of the examples and the test fixtures, with variants that break them.
fn corpus() -> Vec<Value> {
    let mut records: Vec<Value> =
        lines("examples/enrollment-cases.jsonl").into_iter().map(|c| c["record"].clone()).collect();
    records.extend(lines("examples/registry.jsonl"));
    records.extend(lines("examples/enrollment.jsonl").into_iter().take(500));
    let base = records[0].clone();
    let variants = [
        ("birth_date", json!("1980-13-01")),
        ("birth_date", json!(19800401)),
        ("sex", json!("女")),
        ("sex", Value::Null),
        ("my_number", Value::Null),
        ("my_number", json!(528731694022u64)),
        ("family_name", json!("山".repeat(101))),
        ("bank", json!([])),
        ("bank", Value::Null),
        ("bank", json!({"bank_code": "0001"})),
        ("nickname", json!("x")),
    ];
    for (key, value) in variants {
        let mut r = base.clone();
        r[key] = value;
        records.push(r);
    }
    let mut r = base.clone();
    r.as_object_mut().unwrap().remove("given_name");
    records.push(r);
    records
}

#[test]
fn every_record_read_without_schema_findings_validates() {
    let e = engine();
    let schema = e.json_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let (mut clean, mut refused) = (0, 0);
    for record in corpus() {
        let valid = validator.is_valid(&record);
        if reads_cleanly(&e, &record) {
            clean += 1;
            assert!(valid, "read without schema findings but not valid: {record}");
        } else if !valid {
            refused += 1;
        }
    }
    // The corpus exercises both sides.
    assert!(clean > 100, "{clean}");
    assert!(refused >= 6, "{refused}");
}

#[test]
fn whole_numbers_as_the_engine_reads_them_validate() {
    let e = Engine::from_source("n.kensa", "schema R { n: int  tags: list(text) max(3) }").unwrap();
    let validator = jsonschema::validator_for(&e.json_schema()).unwrap();
    for n in [json!(7), json!("42"), json!(" ４２ "), json!("−３"), json!("+5"), json!("ー１")] {
        let record = json!({"n": n, "tags": ["abc"]});
        assert!(reads_cleanly(&e, &record), "{record}");
        assert!(validator.is_valid(&record), "{record}");
    }
    for n in [json!("３人"), json!("1-2"), json!(true)] {
        let record = json!({"n": n, "tags": []});
        assert!(!reads_cleanly(&e, &record), "{record}");
        assert!(!validator.is_valid(&record), "{record}");
    }
    let long = json!({"n": 1, "tags": ["abcd"]});
    assert!(!reads_cleanly(&e, &long));
    assert!(!validator.is_valid(&long));
}

#[test]
fn the_standard_schema() {
    insta::assert_json_snapshot!(engine().json_schema());
}

#[test]
fn the_standard_rules() {
    let rules = engine().rules_info();
    let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, engine().rule_ids().collect::<Vec<_>>());
    let holder = rules.iter().find(|r| r.id == "bank.holder_is_registrant").unwrap();
    assert_eq!(
        holder,
        &RuleInfo {
            id: "bank.holder_is_registrant".into(),
            title: Some("口座名義が本人と一致しません".into()),
            severity: Some(Severity::Review),
            fields: vec!["bank.holder_kana".into()],
        }
    );
    let text = serde_json::to_string(&rules).unwrap();
    let back: Vec<RuleInfo> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, rules);
    insta::assert_json_snapshot!(rules);
}
