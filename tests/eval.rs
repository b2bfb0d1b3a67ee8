//! Evaluation, data-driven: rule text + a record → the verdict as pretty JSON (the `jsonl`
//! contract), snapshotted. Everything goes through the public API; `today` is fixed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use kensa::{Date, Decision, Engine, RecordError, RuleOutcome, Verdict};
use serde_json::{Value, json};

const TODAY: &str = "2026-11-27";

/// The record shape used by most cases: the standard one, trimmed, plus a few optional fields.
const SCHEMA: &str = r#"
schema Resident {
  id: text
  my_number: text? secret
  family_name: text
  given_name: text
  family_name_kana: text
  given_name_kana: text
  birth_date: date
  moved_in: date?
  sex: enum(male, female)
  household_size: int?
  address: text
  bank: {
    bank_code: text
    holder_kana: text
  }?
}
"#;

fn engine(rules: &str) -> Engine {
    let text = format!("{SCHEMA}\n{rules}");
    Engine::from_source("eval.kensa", &text)
        .unwrap_or_else(|e| panic!("rules do not compile:\n{}", e.render()))
        .with_today(Date::parse(TODAY).unwrap())
}

fn json_of(v: &Verdict) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

/// Compile `rules` (after the shared schema), evaluate `record`, render the verdict.
fn eval(rules: &str, record: Value) -> String {
    json_of(&engine(rules).evaluate(&record).unwrap())
}

/// Same, with the trace of what every rule did.
fn explain(rules: &str, record: Value) -> String {
    json_of(&engine(rules).explain(&record).unwrap())
}

fn outcomes(rules: &str, record: Value) -> Vec<(String, RuleOutcome)> {
    let v = engine(rules).explain(&record).unwrap();
    v.trace.unwrap().into_iter().map(|t| (t.rule, t.outcome)).collect()
}

/// A good record: every rule below passes on it unless a case changes a field.
fn hanako() -> Value {
    json!({
        "id": "E1",
        "my_number": "528731694022",
        "family_name": "山田",
        "given_name": "花子",
        "family_name_kana": "ヤマダ",
        "given_name_kana": "ハナコ",
        "birth_date": "昭和55年4月1日",
        "sex": "female",
        "address": "東京都千代田区永田町1-7-1",
        "bank": { "bank_code": "0001", "holder_kana": "ﾔﾏﾀﾞ ﾊﾅｺ" }
    })
}

fn with(mut record: Value, key: &str, value: Value) -> Value {
    let obj = record.as_object_mut().unwrap();
    if value.is_null() {
        obj.remove(key);
    } else {
        obj.insert(key.to_string(), value);
    }
    record
}

// ---------------------------------------------------------------- three-valued logic

const THREE_VALUED: &str = r#"
rule moved_in.not_future {
  require moved_in <= today
  reject "転入日 {moved_in} が未来の日付です"
}
rule bank.code_digits {
  when present(bank)
  require is_digits(bank.bank_code)
  review "金融機関コード「{bank.bank_code}」に数字以外があります"
}
rule household.or_known {
  require household_size >= 1 or family_name != ""
  warn "世帯人数も氏もありません"
}
rule household.and_false {
  require household_size >= 1 and family_name == ""
  warn "世帯人数がなく、氏が空ではありません"
}
rule household.not_absent {
  require not (household_size > 10)
  warn "世帯人数 {household_size} 人"
}
rule moved_in.after_birth {
  when moved_in >= birth_date
  require moved_in - birth_date >= 0
  warn "転入日が生年月日より前です"
}
"#;

#[test]
fn absent_optional_field_makes_a_rule_not_applicable() {
    let record = with(with(hanako(), "bank", Value::Null), "moved_in", Value::Null);
    assert_eq!(
        outcomes(THREE_VALUED, record.clone()),
        [
            // absent <= today: unknown, so the rule does not apply (it is not failed)
            ("moved_in.not_future".to_string(), RuleOutcome::NotApplicable),
            // `when present(bank)` is false: skipped
            ("bank.code_digits".to_string(), RuleOutcome::Skipped),
            // unknown or true = true
            ("household.or_known".to_string(), RuleOutcome::Passed),
            // unknown and false = false
            ("household.and_false".to_string(), RuleOutcome::Fired),
            // not unknown = unknown
            ("household.not_absent".to_string(), RuleOutcome::NotApplicable),
            // unknown `when`: not applicable, not skipped
            ("moved_in.after_birth".to_string(), RuleOutcome::NotApplicable),
        ]
    );
    insta::assert_snapshot!(explain(THREE_VALUED, record), @r#"
    {
      "id": "E1",
      "decision": "accept",
      "score": 90,
      "findings": [
        {
          "rule": "household.and_false",
          "severity": "warn",
          "penalty": 10,
          "message": "世帯人数がなく、氏が空ではありません",
          "params": {},
          "fields": [
            "household_size",
            "family_name"
          ],
          "evidence": {
            "household_size": null,
            "family_name": "山田"
          },
          "related": []
        }
      ],
      "trace": [
        {
          "rule": "moved_in.not_future",
          "outcome": "not_applicable"
        },
        {
          "rule": "bank.code_digits",
          "outcome": "skipped"
        },
        {
          "rule": "household.or_known",
          "outcome": "passed"
        },
        {
          "rule": "household.and_false",
          "outcome": "fired"
        },
        {
          "rule": "household.not_absent",
          "outcome": "not_applicable"
        },
        {
          "rule": "moved_in.after_birth",
          "outcome": "not_applicable"
        }
      ]
    }
    "#);
}

#[test]
fn present_values_give_definite_outcomes() {
    let record = with(with(hanako(), "moved_in", json!("2030-01-01")), "household_size", json!(12));
    assert_eq!(
        outcomes(THREE_VALUED, record),
        [
            ("moved_in.not_future".to_string(), RuleOutcome::Fired),
            ("bank.code_digits".to_string(), RuleOutcome::Passed),
            ("household.or_known".to_string(), RuleOutcome::Passed),
            ("household.and_false".to_string(), RuleOutcome::Fired),
            ("household.not_absent".to_string(), RuleOutcome::Fired),
            ("moved_in.after_birth".to_string(), RuleOutcome::Passed),
        ]
    );
}

#[test]
fn explain_and_evaluate_agree_on_the_verdict() {
    let e = engine(THREE_VALUED);
    for record in [hanako(), with(hanako(), "moved_in", json!("2027-01-01")), with(hanako(), "bank", Value::Null)] {
        let mut explained = e.explain(&record).unwrap();
        let plain = e.evaluate(&record).unwrap();
        assert!(plain.trace.is_none());
        let trace = explained.trace.take().unwrap();
        assert_eq!(explained, plain);
        let fired: Vec<&str> =
            trace.iter().filter(|t| t.outcome == RuleOutcome::Fired).map(|t| t.rule.as_str()).collect();
        let found: Vec<&str> = plain.findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(fired, found);
    }
}

// ---------------------------------------------------------------- bindings

const BINDINGS: &str = r#"
let kana_name = kana_key(family_name_kana ++ " " ++ given_name_kana)
let holder = kana_key(bank.holder_kana)
let same_holder = remove_spaces(zengin_key(holder)) == remove_spaces(zengin_key(kana_name))

rule bank.holder_is_registrant "口座名義が本人と一致しません" {
  when present(bank)
  require same_holder
  review -50 "口座名義「{bank.holder_kana}」が本人のフリガナ「{kana_name}」と一致しません"
}
rule bank.holder_is_registrant_again {
  when present(bank)
  require same_holder
  warn "同じ判定をもう一度: {holder}"
}
rule kana.not_blank {
  require not blank(kana_name)
  review "フリガナがありません"
}
"#;

#[test]
fn bindings_use_other_bindings_and_give_the_same_value_to_every_rule() {
    let e = engine(BINDINGS);
    // Bank form is lossy: ﾊﾅｺ in hiragana, half-width and without the space all agree.
    for holder in ["ﾔﾏﾀﾞ ﾊﾅｺ", "やまだ　はなこ", "ﾔﾏﾀﾞﾊﾅｺ"] {
        let mut r = hanako();
        r["bank"]["holder_kana"] = json!(holder);
        let v = e.evaluate(&r).unwrap();
        assert_eq!(v.decision, Decision::Accept, "{holder}: {:?}", v.findings);
    }
    let mut r = hanako();
    r["bank"]["holder_kana"] = json!("ﾔﾏﾀﾞ ﾀﾛｳ");
    insta::assert_snapshot!(json_of(&e.evaluate(&r).unwrap()), @r#"
    {
      "id": "E1",
      "decision": "review",
      "score": 40,
      "findings": [
        {
          "rule": "bank.holder_is_registrant",
          "severity": "review",
          "penalty": 50,
          "message": "口座名義「ﾔﾏﾀﾞ ﾀﾛｳ」が本人のフリガナ「ヤマダ ハナコ」と一致しません",
          "params": {
            "bank.holder_kana": "ﾔﾏﾀﾞ ﾀﾛｳ",
            "kana_name": "ヤマダ ハナコ"
          },
          "fields": [
            "bank.holder_kana",
            "family_name_kana",
            "given_name_kana"
          ],
          "evidence": {
            "same_holder": false
          },
          "related": []
        },
        {
          "rule": "bank.holder_is_registrant_again",
          "severity": "warn",
          "penalty": 10,
          "message": "同じ判定をもう一度: ヤマダ タロウ",
          "params": {
            "holder": "ヤマダ タロウ"
          },
          "fields": [
            "bank.holder_kana",
            "family_name_kana",
            "given_name_kana"
          ],
          "evidence": {
            "same_holder": false
          },
          "related": []
        }
      ]
    }
    "#);
    // Without a bank account the binding over `bank` is absent; rules guarded by `when` skip.
    let v = e.explain(&with(hanako(), "bank", Value::Null)).unwrap();
    let t: Vec<RuleOutcome> = v.trace.unwrap().iter().map(|t| t.outcome).collect();
    assert_eq!(t, [RuleOutcome::Skipped, RuleOutcome::Skipped, RuleOutcome::Passed]);
}

// ---------------------------------------------------------------- messages and My Number masking

const MY_NUMBER: &str = r#"
let number = digits(my_number)

rule my_number.check_digit "個人番号の検査用数字が一致しません" {
  when present(my_number)
  require check_digit.my_number(number)
  reject "個人番号 {my_number} の検査用数字が一致しません（数字のみ: {number}、連結: {family_name ++ my_number}、桁数: {length(number)}、明示: {mask(my_number)}）"
}
rule my_number.not_family_name {
  when present(my_number)
  require my_number != family_name
  warn "個人番号 {my_number} が氏と同じです"
}
"#;

#[test]
fn my_number_is_masked_in_messages_and_evidence() {
    let record = with(hanako(), "my_number", json!("123456789019"));
    let out = eval(MY_NUMBER, record);
    assert!(!out.contains("123456789019"), "{out}");
    assert!(!out.contains("12345678901"), "a prefix of the number leaks: {out}");
    insta::assert_snapshot!(out, @r#"
    {
      "id": "E1",
      "decision": "reject",
      "score": 0,
      "findings": [
        {
          "rule": "my_number.check_digit",
          "severity": "reject",
          "penalty": 100,
          "message": "個人番号 ********9019 の検査用数字が一致しません（数字のみ: ********9019、連結: **********9019、桁数: **、明示: ********9019）",
          "params": {
            "my_number": "********9019",
            "number": "********9019",
            "family_name ++ my_number": "**********9019",
            "length(number)": "**",
            "mask(my_number)": "********9019"
          },
          "fields": [
            "my_number"
          ],
          "evidence": {
            "number": "********9019"
          },
          "related": []
        }
      ]
    }
    "#);
}

#[test]
fn my_number_written_as_on_the_card_is_masked_too() {
    // Card spacing, full-width digits, hyphens: the digits are the same number.
    for written in ["1234 5678 9019", "１２３４５６７８９０１９", "1234-5678-9019", "  123456789019"] {
        let record = with(hanako(), "my_number", json!(written));
        let out = eval(MY_NUMBER, record);
        let digits_only: String = out.chars().filter(char::is_ascii_digit).collect();
        assert!(!out.contains(written.trim()), "{written}: {out}");
        assert!(!digits_only.contains("12345678"), "{written}: {out}");
        assert!(out.contains("9019"), "the last four digits are shown: {out}");
    }
}

#[test]
fn secret_values_are_masked_in_schema_findings() {
    let rules = r#"
schema Pension {
  id: text
  basic_pension_number: int secret   // 基礎年金番号
}
rule pension.positive {
  require basic_pension_number > 0
  review "基礎年金番号 {basic_pension_number} が正しくありません"
}
"#;
    let e = Engine::from_source("pension.kensa", rules).unwrap().with_today(Date::parse(TODAY).unwrap());
    let v = e.evaluate(&json!({"id": "P1", "basic_pension_number": "番号1234-567890"})).unwrap();
    let out = json_of(&v);
    assert!(!out.contains("1234-567890") && !out.contains("1234567890"), "{out}");
    insta::assert_snapshot!(out, @r#"
    {
      "id": "P1",
      "decision": "reject",
      "score": 0,
      "findings": [
        {
          "rule": "schema.type",
          "severity": "reject",
          "penalty": 100,
          "message": "`basic_pension_number` の値 `*********7890` を整数として読めません",
          "params": {
            "field": "basic_pension_number",
            "expected": "int",
            "value": "*********7890"
          },
          "fields": [
            "basic_pension_number"
          ],
          "evidence": {
            "basic_pension_number": "*********7890"
          },
          "related": []
        }
      ]
    }
    "#);
}

#[test]
fn message_interpolation_formats_every_kind_of_value() {
    let rules = r#"
map sex_label = { "male": "男性", "female": "女性" }
rule show.everything {
  require false or birth_date > today
  warn "{family_name}{given_name}（{sex_label[sex]}、{age(birth_date)}歳、{birth_date} 生、転入 {moved_in}、{{括弧}}）"
}
"#;
    let v = engine(rules).evaluate(&hanako()).unwrap();
    assert_eq!(v.findings[0].message, "山田花子（女性、46歳、1980-04-01 生、転入 (なし)、{括弧}）");
}

// ---------------------------------------------------------------- evidence and fields

#[test]
fn evidence_is_labelled_with_the_expression_as_written() {
    let rules = r#"
let kana_name = kana_key(family_name_kana ++ " " ++ given_name_kana)
rule bank.holder_is_registrant {
  when present(bank)
  require zengin_key(bank.holder_kana)   ==
          zengin_key( kana_name )
  review -50 "口座名義が本人と一致しません"
  fields bank.holder_kana
}
rule birth_date.after_move {
  require birth_date <= today - 365 and household_size in {1, 2, 3}
  review "生年月日と世帯人数"
}
rule postal.address {
  require address matches /^(東京都|大阪府)/ and not (sex in {"male"})
  warn "住所"
}
"#;
    let mut r = with(hanako(), "household_size", json!(4));
    r["bank"]["holder_kana"] = json!("ﾔﾏﾀﾞ ﾀﾛｳ");
    r["address"] = json!("神奈川県横浜市中区日本大通1");
    insta::assert_snapshot!(eval(rules, r), @r#"
    {
      "id": "E1",
      "decision": "review",
      "score": 10,
      "findings": [
        {
          "rule": "bank.holder_is_registrant",
          "severity": "review",
          "penalty": 50,
          "message": "口座名義が本人と一致しません",
          "params": {},
          "fields": [
            "bank.holder_kana"
          ],
          "evidence": {
            "zengin_key(bank.holder_kana)": "ﾔﾏﾀﾞ ﾀﾛｳ",
            "zengin_key( kana_name )": "ﾔﾏﾀﾞ ﾊﾅｺ"
          },
          "related": []
        },
        {
          "rule": "birth_date.after_move",
          "severity": "review",
          "penalty": 30,
          "message": "生年月日と世帯人数",
          "params": {},
          "fields": [
            "birth_date",
            "household_size"
          ],
          "evidence": {
            "birth_date": "1980-04-01",
            "today - 365": "2025-11-27",
            "household_size": 4
          },
          "related": []
        },
        {
          "rule": "postal.address",
          "severity": "warn",
          "penalty": 10,
          "message": "住所",
          "params": {},
          "fields": [
            "address",
            "sex"
          ],
          "evidence": {
            "address": "神奈川県横浜市中区日本大通1",
            "sex": "female"
          },
          "related": []
        }
      ]
    }
    "#);
}

#[test]
fn fields_are_inferred_through_bindings_unless_written() {
    let rules = r#"
let kana_name = kana_key(family_name_kana ++ given_name_kana)
let holder = bank.holder_kana
rule inferred {
  require zengin_key(holder) == zengin_key(kana_name)
  review "推定"
}
rule written {
  require zengin_key(holder) == zengin_key(kana_name)
  review "明記"
  fields bank.holder_kana, address
}
"#;
    let mut r = hanako();
    r["bank"]["holder_kana"] = json!("ｽｽﾞｷ ｲﾁﾛｳ");
    let v = engine(rules).evaluate(&r).unwrap();
    assert_eq!(v.findings[0].fields, ["bank.holder_kana", "family_name_kana", "given_name_kana"]);
    assert_eq!(v.findings[1].fields, ["bank.holder_kana", "address"]);
}

// ---------------------------------------------------------------- score and decisions

#[test]
fn score_is_100_minus_penalties_and_never_below_0() {
    let rules = r#"
rule a { require family_name == "佐藤"; review -40 "氏が佐藤ではありません" }
rule b { require given_name == "太郎"; review -35 "名が太郎ではありません" }
rule c { require sex == "male"; warn "男性ではありません" }
rule d { require household_size > 0; warn -0 "世帯人数がありません" }
rule e { require address != ""; reject "住所がありません" }
"#;
    let e = engine(rules);
    let v = e.evaluate(&hanako()).unwrap();
    // 40 + 35 + 10 (warn default); d is not applicable; e passes.
    assert_eq!((v.score, v.decision), (15, Decision::Review));
    let v = e.evaluate(&with(hanako(), "household_size", json!(0))).unwrap();
    // warn -0 fires but costs nothing.
    assert_eq!((v.score, v.findings.len()), (15, 4));
    let v = e.evaluate(&with(hanako(), "address", json!(""))).unwrap();
    // 40 + 35 + 10 + 100 (reject default) clamps at 0.
    assert_eq!((v.score, v.decision), (0, Decision::Reject));
    let v = e
        .evaluate(&with(
            with(with(hanako(), "family_name", json!("佐藤")), "given_name", json!("太郎")),
            "sex",
            json!("male"),
        ))
        .unwrap();
    assert_eq!((v.score, v.decision, v.findings.len()), (100, Decision::Accept, 0));
}

/// Five rules with known penalties; each case says which fire (by flipping the field they check).
const POLICY_RULES: &str = r#"
rule r.reject { require family_name != "却下"; reject -10 "却下" }
rule r.review1 { require given_name != "要確認"; review -20 "確認1" }
rule r.review2 { require address != "要確認"; review -20 "確認2" }
rule r.warn { require family_name_kana != "ケイコク"; warn -5 "警告" }
rule r.big { require given_name_kana != "オオキイ"; warn -60 "大きな減点" }
"#;

fn decide(policy: &str, fire: &[&str]) -> Decision {
    let mut r = hanako();
    for f in fire {
        match *f {
            "reject" => r["family_name"] = json!("却下"),
            "review1" => r["given_name"] = json!("要確認"),
            "review2" => r["address"] = json!("要確認"),
            "warn" => r["family_name_kana"] = json!("ケイコク"),
            "big" => r["given_name_kana"] = json!("オオキイ"),
            other => panic!("{other}"),
        }
    }
    let v = engine(&format!("{POLICY_RULES}\n{policy}")).evaluate(&r).unwrap();
    assert_eq!(v.findings.len(), fire.len());
    v.decision
}

#[test]
fn default_policy_without_decide() {
    use Decision::*;
    assert_eq!(decide("", &[]), Accept);
    assert_eq!(decide("", &["warn", "big"]), Accept, "warnings alone never review, whatever the score");
    assert_eq!(decide("", &["review1"]), Review);
    assert_eq!(decide("", &["review1", "reject"]), Reject);
}

#[test]
fn decide_policies() {
    use Decision::*;
    let count = "decide { review if count review >= 2; accept otherwise }";
    assert_eq!(decide(count, &["review1"]), Accept);
    assert_eq!(decide(count, &["review1", "review2"]), Review);

    let score = "decide { reject if score < 50; review if score <= 80; accept otherwise }";
    assert_eq!(decide(score, &["warn"]), Accept); // 95
    assert_eq!(decide(score, &["review1"]), Review); // 80
    assert_eq!(decide(score, &["big"]), Reject); // 40

    let fired = "decide { reject if fired r.warn and not fired r.big; accept otherwise }";
    assert_eq!(decide(fired, &["warn"]), Reject);
    assert_eq!(decide(fired, &["warn", "big"]), Accept);

    let no = "decide { accept if no review and no reject; review otherwise }";
    assert_eq!(decide(no, &["warn", "big"]), Accept);
    assert_eq!(decide(no, &["review2"]), Review);

    let nested = "decide { review if (any warn or any reject) and not (score < 50); accept otherwise }";
    assert_eq!(decide(nested, &["warn"]), Review);
    assert_eq!(decide(nested, &["reject"]), Review);
    assert_eq!(decide(nested, &["warn", "big"]), Accept);
    assert_eq!(decide(nested, &["review1"]), Accept);

    // Arms are tried in order; the first that holds decides.
    let order = "decide { accept if any reject; reject if any reject; review otherwise }";
    assert_eq!(decide(order, &["reject"]), Accept);
    assert_eq!(decide(order, &[]), Review);

    // No arm holds and there is no `otherwise`: accept.
    let partial = "decide { reject if any reject }";
    assert_eq!(decide(partial, &["review1"]), Accept);
}

// ---------------------------------------------------------------- reading the record

#[test]
fn schema_findings() {
    let e = engine("");
    let mut r = hanako();
    let obj = r.as_object_mut().unwrap();
    obj.insert("family_name".into(), Value::Null); // null counts as absent
    obj.remove("given_name");
    obj.insert("旧姓".into(), json!("佐藤"));
    obj.insert("moved_in".into(), json!("2026-04-01"));
    obj.insert("birth_date".into(), json!("1988-02-30"));
    obj.insert("sex".into(), json!("女"));
    obj.insert("household_size".into(), json!("３人"));
    obj.insert("nickname".into(), json!("はなちゃん"));
    r["bank"]["branch_name"] = json!("本店");
    r["bank"]["bank_code"] = json!(1);
    insta::assert_snapshot!(json_of(&e.evaluate(&r).unwrap()), @r#"
    {
      "id": "E1",
      "decision": "reject",
      "score": 0,
      "findings": [
        {
          "rule": "schema.required",
          "severity": "reject",
          "penalty": 100,
          "message": "必須項目 `family_name` がありません",
          "params": {
            "field": "family_name"
          },
          "fields": [
            "family_name"
          ],
          "evidence": {},
          "related": []
        },
        {
          "rule": "schema.required",
          "severity": "reject",
          "penalty": 100,
          "message": "必須項目 `given_name` がありません",
          "params": {
            "field": "given_name"
          },
          "fields": [
            "given_name"
          ],
          "evidence": {},
          "related": []
        },
        {
          "rule": "schema.type",
          "severity": "reject",
          "penalty": 100,
          "message": "`birth_date` の値 `1988-02-30` を日付として読めません: 1988年2月は29日までです（30日はありません）",
          "params": {
            "field": "birth_date",
            "expected": "date",
            "value": "1988-02-30",
            "reason": "1988年2月は29日までです（30日はありません）",
            "reason_code": "day_out_of_range"
          },
          "fields": [
            "birth_date"
          ],
          "evidence": {
            "birth_date": "1988-02-30"
          },
          "related": []
        },
        {
          "rule": "schema.type",
          "severity": "reject",
          "penalty": 100,
          "message": "`sex` の値 `女` を選択肢として読めません: 選択肢は male, female です",
          "params": {
            "field": "sex",
            "expected": "choice",
            "value": "女",
            "reason": "選択肢は male, female です",
            "reason_code": "not_a_choice"
          },
          "fields": [
            "sex"
          ],
          "evidence": {
            "sex": "女"
          },
          "related": []
        },
        {
          "rule": "schema.type",
          "severity": "reject",
          "penalty": 100,
          "message": "`household_size` の値 `３人` を整数として読めません",
          "params": {
            "field": "household_size",
            "expected": "int",
            "value": "３人"
          },
          "fields": [
            "household_size"
          ],
          "evidence": {
            "household_size": "３人"
          },
          "related": []
        },
        {
          "rule": "schema.type",
          "severity": "reject",
          "penalty": 100,
          "message": "`bank.bank_code` の値 `1` を文字列として読めません: 数値ではなく文字列として、引用符で囲んで書いてください（例: \"0005\"）",
          "params": {
            "field": "bank.bank_code",
            "expected": "text",
            "value": "1",
            "reason": "数値ではなく文字列として、引用符で囲んで書いてください（例: \"0005\"）",
            "reason_code": "number_for_text"
          },
          "fields": [
            "bank.bank_code"
          ],
          "evidence": {
            "bank.bank_code": "1"
          },
          "related": []
        },
        {
          "rule": "schema.unknown_field",
          "severity": "warn",
          "penalty": 0,
          "message": "スキーマにない項目 `bank.branch_name` は無視されました",
          "params": {
            "field": "bank.branch_name"
          },
          "fields": [
            "bank.branch_name"
          ],
          "evidence": {},
          "related": []
        },
        {
          "rule": "schema.unknown_field",
          "severity": "warn",
          "penalty": 0,
          "message": "スキーマにない項目 `nickname` は無視されました",
          "params": {
            "field": "nickname"
          },
          "fields": [
            "nickname"
          ],
          "evidence": {},
          "related": []
        },
        {
          "rule": "schema.unknown_field",
          "severity": "warn",
          "penalty": 0,
          "message": "スキーマにない項目 `旧姓` は無視されました",
          "params": {
            "field": "旧姓"
          },
          "fields": [
            "旧姓"
          ],
          "evidence": {},
          "related": []
        }
      ]
    }
    "#);
}

#[test]
fn unknown_fields_cost_nothing_unless_strict() {
    let e = engine("");
    // Every field of the schema is given (see tests/pending/ for the case where optional
    // fields are left out).
    let r = with(
        with(with(hanako(), "moved_in", json!("2026-04-01")), "household_size", json!(2)),
        "nickname",
        json!("はなちゃん"),
    );
    let v = e.evaluate(&r).unwrap();
    assert_eq!((v.decision, v.score), (Decision::Accept, 100));
    assert_eq!(v.findings.len(), 1);
    assert_eq!(v.findings[0].rule, "schema.unknown_field");
    assert_eq!(v.findings[0].penalty, 0);

    let strict = engine("").with_strict(true);
    let err = strict.evaluate(&r).unwrap_err();
    assert_eq!(err, RecordError::UnknownField { path: "nickname".into(), suggestion: None });
    assert_eq!(err.to_string(), "unknown field `nickname` (not in the schema; strict mode)");
    let mut nested = with(with(hanako(), "moved_in", json!("2026-04-01")), "household_size", json!(2));
    nested["bank"]["branch_name"] = json!("本店");
    assert_eq!(
        strict.evaluate(&nested).unwrap_err(),
        RecordError::UnknownField { path: "bank.branch_name".into(), suggestion: None }
    );
    // A record without unknown fields is judged the same either way.
    assert_eq!(strict.evaluate(&hanako()).unwrap(), e.evaluate(&hanako()).unwrap());
}

#[test]
fn record_that_is_not_an_object_is_an_error() {
    let e = engine("");
    for (value, found) in [
        (json!(["山田", "花子"]), "a list"),
        (json!("山田花子"), "text"),
        (json!(null), "null"),
        (json!(42), "a number"),
        (json!(true), "true/false"),
    ] {
        let err = e.evaluate(&value).unwrap_err();
        assert_eq!(err, RecordError::NotAnObject { found }, "{value}");
        assert_eq!(err.to_string(), format!("a record must be a JSON object, but this is {found}"));
    }
}

#[test]
fn dates_are_read_in_every_written_form() {
    let rules = r#"rule born { require birth_date == 1980-04-01; reject "生年月日 {birth_date}" }"#;
    let e = engine(rules);
    for written in ["1980-04-01", "昭和55年4月1日", "S55.4.1", "1980/4/1", "１９８０年４月１日"] {
        let v = e.evaluate(&with(hanako(), "birth_date", json!(written))).unwrap();
        assert_eq!(v.decision, Decision::Accept, "{written}: {:?}", v.findings);
    }
}

#[test]
fn batch_results_are_in_input_order() {
    let e = engine(POLICY_RULES);
    let records: Vec<Value> = (0..50)
        .map(|i| {
            let r = with(hanako(), "id", json!(format!("E{i}")));
            if i % 3 == 0 { with(r, "family_name", json!("却下")) } else { r }
        })
        .collect();
    let out = e.evaluate_batch(&records);
    for (i, v) in out.iter().enumerate() {
        let v = v.as_ref().unwrap();
        assert_eq!(v.id.as_deref(), Some(format!("E{i}").as_str()));
        assert_eq!(v.decision == Decision::Reject, i % 3 == 0);
    }
}

#[test]
fn typed_records_are_evaluated_like_json() {
    #[derive(serde::Serialize)]
    struct Bank {
        bank_code: &'static str,
        holder_kana: &'static str,
    }
    #[derive(serde::Serialize)]
    struct Resident {
        id: &'static str,
        family_name: &'static str,
        given_name: &'static str,
        family_name_kana: &'static str,
        given_name_kana: &'static str,
        birth_date: &'static str,
        sex: &'static str,
        address: &'static str,
        bank: Option<Bank>,
    }
    let r = Resident {
        id: "E1",
        family_name: "山田",
        given_name: "花子",
        family_name_kana: "ヤマダ",
        given_name_kana: "ハナコ",
        birth_date: "昭和55年4月1日",
        sex: "female",
        address: "東京都千代田区永田町1-7-1",
        bank: None,
    };
    let e = engine(BINDINGS);
    let typed = e.evaluate_record(&r).unwrap();
    let json = e.evaluate(&with(with(hanako(), "bank", Value::Null), "my_number", Value::Null)).unwrap();
    assert_eq!(typed, json);
}

#[test]
fn trim_of_a_computed_value_and_signed_numbers_in_text() {
    let e = Engine::from_source(
        "values.kensa",
        r#"
schema R {
  id: text
  name: text
  n: int?
  code: text?
}
let padded = " " ++ name ++ " "
rule name.trimmed { require trim(padded) == name; reject "trim gave [{trim(padded)}]" }
rule n.positive { when present(n) require n > 0; reject "n must be positive" }
"#,
    )
    .unwrap();
    let v = e.evaluate(&json!({"id": "1", "name": "山田"})).unwrap();
    assert!(v.findings.is_empty(), "{:?}", v.findings);
    for n in ["-5", "−５", " -5 "] {
        let v = e.evaluate(&json!({"id": "1", "name": "山田", "n": n})).unwrap();
        let rules: Vec<&str> = v.findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(rules, ["n.positive"], "{n}");
    }
    let v = e.evaluate(&json!({"id": "1", "name": "山田", "n": "+7"})).unwrap();
    assert!(v.findings.is_empty(), "{:?}", v.findings);
    // A fraction where text is expected is a type problem, not the text "12.5".
    let v = e.evaluate(&json!({"id": "1", "name": "山田", "code": 12.5})).unwrap();
    assert_eq!(v.findings[0].rule, "schema.type");
    // So is a whole number: a code written without quotes has lost its leading zeros, and a
    // YAML `0x1D2F5E7A9C` would become a twelve-digit number (issue 14, item 13).
    let v = e.evaluate(&json!({"id": "1", "name": "山田", "code": 1000014})).unwrap();
    let rules: Vec<&str> = v.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, ["schema.type"]);
    assert!(v.findings[0].message.contains("引用符で囲んで"), "{}", v.findings[0].message);
}

/// `present`, `absent` and `blank` (and `not` of each, which the compiler turns round into one
/// test) on a given, a missing, a blank and a full-width-blank value, in conditions and as
/// values, with `not` of an unknown kept apart.
#[test]
fn presence_and_blankness_with_and_without_not() {
    let rules = r#"
rule p.present { require present(household_size)  warn "p" }
rule p.not_present { require not present(household_size)  warn "p" }
rule p.absent { require absent(household_size)  warn "p" }
rule p.not_absent { require not absent(household_size)  warn "p" }
rule p.not_not_present { require not not present(household_size)  warn "p" }
rule b.blank { require blank(given_name)  warn "b" }
rule b.not_blank { require not blank(given_name)  warn "b" }
rule b.not_not_blank { require not (not blank(given_name))  warn "b" }
rule b.blank_number { require blank(household_size)  warn "b" }
rule b.not_blank_in_and { require not blank(given_name) and not absent(household_size)  warn "b" }
rule b.shown { require family_name == "x"  warn "{blank(given_name)} {not blank(given_name)} {not present(household_size)}" }
rule u.not_unknown { require not (household_size > 1)  warn "u" }
"#;
    let fired = |record: Value| -> Vec<String> {
        let v = engine(rules).explain(&record).unwrap();
        v.trace.unwrap().into_iter().filter(|t| t.outcome == RuleOutcome::Fired).map(|t| t.rule).collect()
    };
    let message = |record: Value| -> String {
        let v = engine(rules).evaluate(&record).unwrap();
        v.findings.iter().find(|f| f.rule == "b.shown").map(|f| f.message.clone()).unwrap()
    };
    let given = with(with(hanako(), "household_size", json!(3)), "given_name", json!("花子"));
    assert_eq!(
        fired(given.clone()),
        ["p.not_present", "p.absent", "b.blank", "b.not_not_blank", "b.blank_number", "b.shown", "u.not_unknown"]
    );
    assert_eq!(message(given), "false true false");

    // Missing household size, blank given name (full-width and ASCII spaces).
    let blank = with(with(hanako(), "household_size", Value::Null), "given_name", json!(" \u{3000} "));
    assert_eq!(
        fired(blank.clone()),
        // `not` of an unknown stays unknown: `u.not_unknown` is not applicable, not fired.
        ["p.present", "p.not_absent", "p.not_not_present", "b.not_blank", "b.not_blank_in_and", "b.shown"]
    );
    assert_eq!(message(blank), "true false true");
}
