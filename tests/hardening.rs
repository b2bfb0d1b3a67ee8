//! The adversarial pass of issue 14, engine side: what an attacker or a careless user could do
//! with a record or a registry, and what kensa does instead. Each test failed before its fix
//! (docs/RELIABILITY.md, the hostile-input matrix, names each one).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;

#[allow(dead_code, unreachable_pub, reason = "the fuzz targets' oracles; this file uses their long-text rule set")]
#[path = "../fuzz/src/lib.rs"]
mod invariants;

#[path = "../benches/common/gen.rs"]
#[allow(dead_code, reason = "the bench generator; this file uses part of it")]
mod generator;

use std::time::Duration;

use kensa::{Date, Engine, Limits, RecordError, Verdict};
use serde_json::{Value, json};

use cli::{run_in, workdir, write};

const TODAY: &str = "2026-11-27";

fn builtin() -> Engine {
    Engine::builtin().unwrap().with_today(Date::parse(TODAY).unwrap())
}

/// A clean record of the standard shape (accepted on its own).
fn hanako() -> Value {
    json!({
        "id": "H1", "my_number": "528731694022", "family_name": "山田", "given_name": "花子",
        "family_name_kana": "ヤマダ", "given_name_kana": "ハナコ", "birth_date": "1985-04-01",
        "sex": "female", "postal_code": "100-0014", "address": "東京都千代田区永田町1丁目7番1号",
        "bank": {"bank_code": "0001", "branch_code": "001", "account_type": "ordinary",
                 "account_number": "1234567", "holder_kana": "ﾔﾏﾀﾞ ﾊﾅｺ"}
    })
}

fn rules_of(v: &Verdict) -> Vec<&str> {
    v.findings.iter().map(|f| f.rule.as_str()).collect()
}

/// Everything a verdict shows a person: messages and evidence.
fn shown(v: &Verdict) -> String {
    serde_json::to_string(&v.findings).unwrap()
}

// ---------------------------------------------------------------- item 2: bounded comparisons

/// The rule set of the comparator fuzz target (no length limits, every text comparator) and
/// a registry of `n` records with reading `kana`.
fn long_text_setup(n: usize, kana: &str) -> (Engine, kensa::registry::MemoryRegistry) {
    invariants::long_text_registry(n, kana)
}

#[test]
fn comparing_long_texts_is_bounded_and_charged_to_the_budget() {
    // 340,000 kana a field took 150 s a pair with Jaro-Winkler; compared on their first 128
    // characters it takes microseconds, and the duplicate is still found.
    let kana = "アイウエオカキクケコ".repeat(34_000);
    let (e, registry) = long_text_setup(20, &kana);
    let record = json!({"id": "N", "kana": kana, "city": "x"});
    let v = e.evaluate_in(&record, &registry).unwrap();
    assert_eq!(rules_of(&v), ["registry.duplicate"]);
    assert_eq!(v.findings[0].related.len(), 20);

    // The comparators' work counts against the budget: 20 candidates, three comparisons of
    // 128 × 128 characters each (65 steps a comparison), are far more than 1,000 steps.
    let small = e.clone().with_limits(Limits { eval_budget: 1_000, ..Limits::default() });
    let err = small.evaluate_in(&record, &registry).unwrap_err();
    assert!(err.to_string().contains("more than 1000 evaluation steps"), "{err}");
    // Short names cost a step a comparison, well inside the same budget.
    let (e, registry) = long_text_setup(20, "ヤマダハナコ");
    let short = e.with_limits(Limits { eval_budget: 1_000, ..Limits::default() });
    let v = short.evaluate_in(&json!({"id": "N", "kana": "ヤマダハナコ", "city": "x"}), &registry).unwrap();
    assert_eq!(rules_of(&v), ["registry.duplicate"]);
}

#[test]
fn a_record_past_its_time_limit_is_an_error_naming_the_rule() {
    let (e, registry) = long_text_setup(5, "ヤマダハナコ");
    let record = json!({"id": "N", "kana": "ヤマダハナコ", "city": "x"});
    // A deadline that has passed before the first rule runs: the error is certain.
    let timed = e.clone().with_limits(Limits { eval_time: Some(Duration::ZERO), ..Limits::default() });
    match timed.evaluate_in(&record, &registry) {
        Err(RecordError::TimeLimit(m)) => assert!(m.contains("rule `registry.duplicate`"), "{m}"),
        other => panic!("expected a time-limit error, got {other:?}"),
    }
    // A generous limit changes nothing.
    let relaxed = e.with_limits(Limits { eval_time: Some(Duration::from_secs(3600)), ..Limits::default() });
    assert_eq!(rules_of(&relaxed.evaluate_in(&record, &registry).unwrap()), ["registry.duplicate"]);
}

#[test]
fn a_name_longer_than_the_schema_allows_is_rejected_and_never_compared() {
    let e = builtin();
    let mut r = hanako();
    r["family_name_kana"] = json!("ア".repeat(340_000));
    let v = e.evaluate(&r).unwrap();
    assert_eq!(v.decision, kensa::Decision::Reject);
    let too_long: Vec<_> = v.findings.iter().filter(|f| f.rule == "schema.too_long").collect();
    assert_eq!(too_long.len(), 1, "{:?}", rules_of(&v));
    assert_eq!(too_long[0].fields, ["family_name_kana"]);
    assert!(too_long[0].message.contains("340000 文字") && too_long[0].message.contains("200 文字"));
    // The value was not read: no rule about the kana fired on it, and it is not echoed.
    assert!(!shown(&v).contains("アアアア"), "{}", shown(&v));
    // The same record against a registry holding a namesake with a long kana: no comparison
    // can take long, because neither value is read.
    let mut stored = hanako();
    stored["id"] = json!("R1");
    stored["family_name_kana"] = json!("ア".repeat(340_000));
    let registry = e.memory_registry([stored]);
    let v = e.evaluate_in(&r, &registry).unwrap();
    assert!(rules_of(&v).contains(&"schema.too_long"));
}

// ---------------------------------------------------------------- item 7: masking follows the value

#[test]
fn a_secret_group_given_as_text_is_masked() {
    let e = builtin();
    let mut r = hanako();
    r["bank"] = json!("6196-550-5892262");
    let v = e.evaluate(&r).unwrap();
    assert!(rules_of(&v).contains(&"schema.type"), "{:?}", rules_of(&v));
    let text = shown(&v);
    assert!(!text.contains("5892262") && !text.contains("6196-550"), "{text}");
    assert!(text.contains("2262"), "the last four digits are kept: {text}");
    let v = e.clone().with_show_pii(true).evaluate(&r).unwrap();
    assert!(shown(&v).contains("6196-550-5892262"));
}

#[test]
fn a_personal_number_in_the_wrong_field_is_masked_but_a_postal_code_is_not() {
    let e = builtin();
    // A CSV whose columns shifted: the My Number in the postal code, an account number in the
    // bank code, a spaced My Number in the address.
    let mut r = hanako();
    r["my_number"] = Value::Null;
    r["postal_code"] = json!("528731694022");
    r["bank"]["bank_code"] = json!("5892262");
    r["address"] = json!("5287 3169 4022");
    r["sex"] = json!("5287-3169-4022");
    r["463760444597"] = json!("a column whose header is a My Number");
    let v = e.evaluate(&r).unwrap();
    let fired = rules_of(&v);
    for rule in [
        "postal_code.format",
        "bank.bank_code_format",
        "address.prefecture_known",
        "schema.type",
        "schema.unknown_field",
    ] {
        assert!(fired.contains(&rule), "{rule} in {fired:?}");
    }
    let text = shown(&v);
    for full in ["528731694022", "5892262", "5287 3169 4022", "5287-3169-4022", "463760444597"] {
        assert!(!text.contains(full), "{full} in {text}");
    }
    assert!(text.contains("********4022") && text.contains("***2262") && text.contains("**** **** 4022"), "{text}");
    let v = e.clone().with_show_pii(true).evaluate(&r).unwrap();
    assert!(shown(&v).contains("528731694022"));

    // A well-formed postal code stays readable, written either way.
    for postal in ["1000001", "100-0001", "１０００００１"] {
        let mut r = hanako();
        r["postal_code"] = json!(postal);
        r["address"] = json!("大阪府大阪市北区梅田1丁目1番1号");
        let v = e.evaluate(&r).unwrap();
        assert!(rules_of(&v).contains(&"postal_code.matches_address"), "{:?}", rules_of(&v));
        let message = &v.findings.iter().find(|f| f.rule == "postal_code.matches_address").unwrap().message;
        assert!(message.contains(postal), "{message}");
    }
}

// ---------------------------------------------------------------- item 13: numbers in text fields

#[test]
fn a_yaml_hexadecimal_number_does_not_become_a_my_number() {
    // 0x1D2F5E7A9C is 125348772508: twelve digits, and it used to be read as that My Number.
    let dir = workdir("hardening-yaml-hex");
    let record = r#"- id: Y1
  my_number: 0x1D2F5E7A9C
  family_name: 山田
  given_name: 花子
  family_name_kana: ヤマダ
  given_name_kana: ハナコ
  birth_date: 1985-04-01
  sex: female
  postal_code: "100-0014"
  address: 東京都千代田区永田町1丁目7番1号
"#;
    write(&dir, "in.yaml", record);
    let r = run_in(&dir, &["eval", "--today", TODAY, "in.yaml"], None);
    let v: Value = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
    let types: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "schema.type")
        .map(|f| f["fields"][0].as_str().unwrap())
        .collect();
    assert_eq!(types, ["my_number"], "{}", r.stdout);
    assert_eq!(v["decision"], "reject");
    assert!(!r.stdout.contains("125348772508"), "{}", r.stdout);
}

// ---------------------------------------------------------------- item 17: yes/no evidence

#[test]
fn yes_no_evidence_computed_from_a_secret_is_not_masked() {
    let e = Engine::from_source(
        "bool.kensa",
        r#"
schema R {
  id: text
  my_number: text secret
}
let valid = check_digit.my_number(digits(my_number))
rule my_number.valid {
  require valid == true
  reject "個人番号 {my_number} が正しくありません ({valid})"
}
"#,
    )
    .unwrap();
    let v = e.evaluate(&json!({"id": "1", "my_number": "123456789019"})).unwrap();
    let f = &v.findings[0];
    assert_eq!(f.evidence, [("valid".to_string(), json!(false))]);
    assert_eq!(f.message, "個人番号 ********9019 が正しくありません (false)");
}

// ---------------------------------------------------------------- item 18: invisible characters

#[test]
fn invisible_characters_do_not_change_keys_or_comparisons() {
    let e = builtin();
    let clean = hanako();
    let mut hidden = hanako();
    // A zero-width space, a word joiner, a zero-width joiner, a byte-order mark and a soft
    // hyphen: a screen shows the same name and address.
    hidden["family_name"] = json!("山\u{200B}田");
    hidden["given_name"] = json!("花\u{2060}子");
    hidden["family_name_kana"] = json!("ヤ\u{200D}マダ");
    hidden["given_name_kana"] = json!("ハナ\u{FEFF}コ");
    hidden["address"] = json!("東京都千代田区\u{00AD}永田町1丁目7番1号");
    assert_eq!(e.blocking_keys(&hidden), e.blocking_keys(&clean));
    let same = e.compare_records(&clean, &clean).unwrap().unwrap();
    let again = e.compare_records(&clean, &hidden).unwrap().unwrap();
    assert_eq!(again.probability, same.probability);
    assert_eq!(kensa::normalize::kana::kana_key("ヤ\u{200B}マ\u{2060}ダ"), "ヤマダ");
    assert_eq!(kensa::normalize::variant::fold_variants("髙\u{200B}橋"), "高橋");
}

// ---------------------------------------------------------------- item 3: crowded keys

/// `n` different people enrolled at one address (a large housing block, or someone padding
/// it): generated clean records, moved to one address.
fn residents_of_one_building(n: usize) -> Vec<Value> {
    let config = generator::Config { defect_rate: 0.0, bank_rate: 0.0, duplicate_rate: 0.0 };
    let mut g = generator::Generator::new(14, config);
    (0..n)
        .map(|i| {
            let mut r = g.value();
            r["id"] = json!(format!("B{i:04}"));
            r["postal_code"] = json!("160-0023");
            r["address"] = json!("東京都新宿区西新宿1丁目20番13号");
            r
        })
        .collect()
}

/// The same person as `stored`, as a hurried clerk types her: another kanji for the given
/// name, a voicing mark in the last kana of its reading (トモコ → トモゴ), no My Number. Only
/// the address key is shared.
fn typed_again(stored: &Value) -> Value {
    let mut r = stored.clone();
    r["id"] = json!("NEW1");
    r["my_number"] = Value::Null;
    let given: String = std::iter::once('洋').chain(stored["given_name"].as_str().unwrap().chars().skip(1)).collect();
    r["given_name"] = json!(given);
    let mut kana: Vec<char> = stored["given_name_kana"].as_str().unwrap().chars().collect();
    let last = kana.last_mut().unwrap();
    *last = if *last == 'ゴ' { 'コ' } else { 'ゴ' };
    r["given_name_kana"] = json!(kana.into_iter().collect::<String>());
    r
}

#[test]
fn a_crowded_key_keeps_the_closest_records_and_says_so() {
    let e = builtin();
    let people = residents_of_one_building(600);
    let record = typed_again(&people[549]);
    let memory = e.memory_registry(people.clone());

    let dir = workdir("hardening-crowded");
    let db = dir.join("reg.db");
    let sqlite = kensa::registry::SqliteRegistry::open_write(&db, &e.key_version(), &|r| e.blocking_keys(r)).unwrap();
    sqlite.insert_batch(&people.iter().cloned().map(|p| e.registry_entry(p).unwrap()).collect::<Vec<_>>()).unwrap();

    for registry in [&memory as &dyn kensa::registry::Registry, &sqlite] {
        let v = e.evaluate_in(&record, registry).unwrap();
        assert_eq!(v.decision, kensa::Decision::Review, "{:?}", rules_of(&v));
        // Enrolled 550th, after the first 500 of its address: found all the same.
        let dup = v.findings.iter().find(|f| f.rule == "registry.probable_duplicate").expect("the duplicate is found");
        assert_eq!(dup.related, ["B0549"]);
        let crowded = v.findings.iter().find(|f| f.rule == "registry.crowded_key").expect("the key is reported");
        assert_eq!(crowded.severity, kensa::Severity::Review);
        let evidence: std::collections::BTreeMap<_, _> = crowded.evidence.iter().cloned().collect();
        assert_eq!(evidence["block"], "address_key");
        assert_eq!(evidence["records"], 600);
        assert_eq!(evidence["compared"], 500);
    }
    // Enrolling it does the same: a review, not an enrollment.
    let out = e.enroll(record.clone(), &sqlite).unwrap();
    assert!(!out.enrolled && rules_of(&out.verdict).contains(&"registry.crowded_key"));

    // A key under the cap is not reported.
    let few = e.memory_registry(people[..400].iter().cloned());
    let v = e.evaluate_in(&typed_again(&people[349]), &few).unwrap();
    assert!(!rules_of(&v).contains(&"registry.crowded_key"), "{:?}", rules_of(&v));
    assert_eq!(v.findings.iter().find(|f| f.rule == "registry.probable_duplicate").unwrap().related, ["B0349"]);

    // `registry stats` lists the crowded key, naming its block.
    let lines: String = people.iter().map(|p| format!("{p}\n")).collect();
    write(&dir, "people.jsonl", &lines);
    let r = run_in(&dir, &["registry", "import", "people.jsonl", "--db", "stats.db"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run_in(&dir, &["registry", "stats", "--db", "stats.db"], None);
    assert!(
        r.stdout.contains("crowded    block 3 (address_key): 600 records share `東京都新宿区西新宿一丁目20-13`"),
        "{}",
        r.stdout
    );
    let r = run_in(&dir, &["registry", "stats", "--db", "stats.db", "--json"], None);
    let stats: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(stats["crowded_keys"][0]["records"], 600);
    assert_eq!(stats["crowded_keys"].as_array().unwrap().len(), 1);
    // A batch dedup over the same file says that it compared only part of the crowded key.
    let r = run_in(&dir, &["dedup", "people.jsonl"], None);
    assert!(r.stderr.contains("note: 1 blocking keys are shared by more than 500 records"), "{}", r.stderr);
}

// ---------------------------------------------------------------- item 21: huge rule sets

/// A rule file of `n` one-line rules after a schema.
fn many_rules(n: usize, from: usize) -> String {
    let mut text = String::new();
    for i in from..from + n {
        text.push_str(&format!("rule r{i} {{ require length(name) > {} ; reject \"短すぎます {{name}}\" }}\n", i % 50));
    }
    text
}

#[test]
fn a_rule_set_of_more_than_20000_items_is_refused_before_it_is_checked() {
    let schema = "schema R {\n  id: text\n  name: text\n}\n";
    // Exactly at the limit (the schema is an item): compiles.
    let at_limit = format!("{schema}{}", many_rules(kensa::internal::MAX_ITEMS - 1, 0));
    assert!(Engine::from_source("at.kensa", &at_limit).is_ok());
    // One more: refused, pointing at the first item over the limit.
    let over = format!("{schema}{}", many_rules(kensa::internal::MAX_ITEMS, 0));
    let err = Engine::from_source("over.kensa", &over).unwrap_err();
    let codes: Vec<String> = err.diagnostics().iter().map(|d| d.code.to_string()).collect();
    assert_eq!(codes, ["kensa::syntax::too_many_items"]);
    let rendered = err.render();
    assert!(rendered.contains("rule r19999 {"), "{}", &rendered[..rendered.len().min(2000)]);
    // Across the files of a folder: the total counts.
    let dir = workdir("hardening-many-rules");
    write(&dir, "rules/a.kensa", &format!("{schema}{}", many_rules(15_000, 0)));
    write(&dir, "rules/b.kensa", &many_rules(15_000, 15_000));
    let r = run_in(&dir, &["check", "rules"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("kensa::syntax::too_many_items") && r.stderr.contains("b.kensa"), "{}", r.stderr);
}

// ---------------------------------------------------------------- item 14: ids of an `int` field

#[test]
fn an_int_id_field_takes_whole_numbers_written_either_way() {
    let e = Engine::from_source(
        "int.kensa",
        "schema R {\n  no: int id\n  name: text\n}\nrule r { require not blank(name) ; reject \"名前がありません\" }\n",
    )
    .unwrap();
    let uid = |v: Value| e.registry_entry(v).map(|x| x.uid).map_err(|err| err.to_string());
    assert_eq!(uid(json!({"no": 7, "name": "a"})), Ok(String::from("id:7")));
    // The same number written as text is the same id; a fraction or blank is refused.
    assert_eq!(uid(json!({"no": "0007", "name": "a"})), Ok(String::from("id:7")));
    assert!(uid(json!({"no": 7.5, "name": "a"})).is_err());
    assert!(uid(json!({"no": " ", "name": "a"})).is_err());
    // A text id field still refuses numbers (7 and "7" would be one id).
    assert!(builtin().registry_entry(json!({"id": 7})).is_err());
}
