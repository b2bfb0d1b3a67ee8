//! Uses only the public API, as a clerk's application would.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/records.rs"]
mod records;
use records::{engine, hanako};

use kensa::{Decision, Engine, Severity};
use serde::Serialize;
use serde_json::json;

#[test]
fn a_clean_record_is_accepted_with_full_score() {
    let v = engine().evaluate(&hanako()).unwrap();
    assert_eq!(v.decision, Decision::Accept, "{:?}", v.findings);
    assert_eq!(v.score, 100);
    assert!(v.findings.is_empty());
    assert_eq!(v.id.as_deref(), Some("E1"));
}

#[test]
fn harmless_variants_are_accepted() {
    let mut r = hanako();
    r["my_number"] = json!("５２８７ ３１６９ ４０２２");
    r["family_name_kana"] = json!("やまだ");
    r["given_name_kana"] = json!("ﾊﾅｺ");
    r["birth_date"] = json!("昭和55年4月1日");
    r["postal_code"] = json!("〒1000014");
    r["address"] = json!("東京都千代田区永田町一丁目７－１");
    r["bank"] = json!({"bank_code": "0001", "branch_code": "001", "account_type": "ordinary",
                       "account_number": "1234567", "holder_kana": "ﾔﾏﾀﾞ ﾊﾅｺ"});
    let v = engine().evaluate(&r).unwrap();
    assert_eq!(v.decision, Decision::Accept, "{:?}", v.findings);
}

#[test]
fn a_family_members_account_goes_to_review_with_evidence() {
    let mut r = hanako();
    r["bank"] = json!({"bank_code": "0001", "branch_code": "001", "account_type": "ordinary",
                       "account_number": "1234567", "holder_kana": "ﾔﾏﾀﾞ ﾀﾛｳ"});
    let v = engine().evaluate(&r).unwrap();
    assert_eq!(v.decision, Decision::Review);
    let f = &v.findings[0];
    assert_eq!(f.rule, "bank.holder_is_registrant");
    assert_eq!(f.severity, Severity::Review);
    assert_eq!(f.fields, vec!["bank.holder_kana"]);
    assert!(f.message.contains("ﾔﾏﾀﾞ ﾀﾛｳ"), "{}", f.message);
    let values: Vec<String> = f.evidence.iter().map(|(_, v)| v.to_string()).collect();
    assert!(values.iter().any(|v| v.contains("ﾔﾏﾀﾞﾀﾛｳ")), "{values:?}");
    assert!(values.iter().any(|v| v.contains("ﾔﾏﾀﾞﾊﾅｺ")), "{values:?}");
}

#[test]
fn a_wrong_check_digit_is_rejected_and_the_number_is_masked() {
    let mut r = hanako();
    r["my_number"] = json!("123456789019");
    let v = engine().evaluate(&r).unwrap();
    assert_eq!(v.decision, Decision::Reject);
    assert_eq!(v.score, 0);
    assert_eq!(v.findings[0].rule, "my_number.check_digit");
    let out = serde_json::to_string(&v).unwrap();
    assert!(!out.contains("123456789019"), "{out}");
    assert!(out.contains("9019"), "{out}");
}

#[test]
fn verdicts_serialize_to_the_jsonl_contract() {
    let mut r = hanako();
    r["family_name_kana"] = json!("山田");
    let v = serde_json::to_value(engine().evaluate(&r).unwrap()).unwrap();
    assert_eq!(v["id"], "E1");
    assert_eq!(v["decision"], "review");
    assert_eq!(v["score"], 60);
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "kana.family_is_katakana");
    assert_eq!(f["severity"], "review");
    assert_eq!(f["fields"], json!(["family_name_kana"]));
    assert_eq!(f["evidence"]["family_name_kana"], "山田");
    assert_eq!(f["related"], json!([]));
}

#[test]
fn a_batch_is_judged_in_parallel_in_input_order() {
    let e = engine();
    let records: Vec<serde_json::Value> = (0..200)
        .map(|i| {
            let mut r = hanako();
            r["id"] = json!(format!("E{i}"));
            if i % 3 == 0 {
                r["my_number"] = json!("123456789019");
            }
            r
        })
        .collect();
    let out = e.evaluate_batch(&records);
    assert_eq!(out.len(), 200);
    for (i, v) in out.iter().enumerate() {
        let v = v.as_ref().unwrap();
        assert_eq!(v.id.as_deref(), Some(format!("E{i}").as_str()));
        assert_eq!(v.decision == Decision::Reject, i % 3 == 0);
    }
}

#[test]
fn one_engine_is_shared_by_threads() {
    let e = engine();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| assert_eq!(e.evaluate(&hanako()).unwrap().decision, Decision::Accept));
        }
    });
}

#[derive(Serialize)]
struct Applicant<'a> {
    id: &'a str,
    my_number: Option<&'a str>,
    family_name: &'a str,
    given_name: &'a str,
    family_name_kana: &'a str,
    given_name_kana: &'a str,
    birth_date: &'a str,
    sex: &'a str,
    postal_code: &'a str,
    address: &'a str,
}

#[test]
fn a_typed_record_can_be_evaluated() {
    let a = Applicant {
        id: "T1",
        my_number: None,
        family_name: "佐藤",
        given_name: "一郎",
        family_name_kana: "サトウ",
        given_name_kana: "イチロウ",
        birth_date: "平成元年1月8日",
        sex: "male",
        postal_code: "060-0001",
        address: "北海道札幌市中央区北一条西2丁目1番1号",
    };
    let v = engine().evaluate_record(&a).unwrap();
    assert_eq!(v.decision, Decision::Accept, "{:?}", v.findings);
}

#[test]
fn records_that_are_not_objects_are_errors_not_panics() {
    assert!(engine().evaluate(&json!([1, 2])).is_err());
    assert!(engine().evaluate(&json!("E1")).is_err());
}

#[test]
fn rules_that_do_not_compile_report_every_error() {
    let err = Engine::from_source(
        "bad.kensa",
        "schema R { id: text birth_date: date }\nrule a { require brith_date < today\n reject }\nrule b { require nope(id)\n reject }\n",
    )
    .unwrap_err();
    let codes: Vec<&str> = err.diagnostics().iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["kensa::check::unknown_name", "kensa::check::unknown_function"]);
    let text = err.render();
    assert!(text.contains("did you mean `birth_date`?"), "{text}");
}

#[test]
fn the_rule_folder_and_the_builtin_set_agree() {
    let from_dir = Engine::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/rules")).unwrap();
    let builtin = engine();
    assert_eq!(from_dir.rule_ids().collect::<Vec<_>>(), builtin.rule_ids().collect::<Vec<_>>());
    assert!(builtin.warnings().is_empty(), "{}", builtin.report().render());
}
