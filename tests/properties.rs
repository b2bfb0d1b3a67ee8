//! Properties: no input reaches a panic, and verdicts keep their invariants.
//!
//! - the built-in rule set evaluates any JSON value without panicking; records shaped roughly
//!   like the schema (known keys, any values, hostile Unicode) get a score in 0..=100, and a
//!   reject finding always means a reject decision (the standard policy);
//! - `Engine::from_source` never panics, on arbitrary text, on token soup of the rule
//!   language, and on mutations of the shipped rule file; what compiles also evaluates.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::sync::OnceLock;

use kensa::{Date, Decision, Engine, Severity};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// 256 cases per property; `PROPTEST_CASES=5000 cargo test --test properties` searches longer.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256)
}

fn builtin() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::builtin().unwrap().with_today(Date::parse("2026-11-27").unwrap()))
}

#[path = "common/fields.rs"]
mod fields;
use fields::{BANK_FIELDS, FIELDS};

/// Pieces of text that normalizers treat specially, plus plausible field values.
const SPECIAL: &[&str] = &[
    "",
    " ",
    "\u{3000}",
    "\0",
    "\u{E0100}",
    "葛\u{E0100}",
    "\u{3099}",
    "\u{309A}",
    "か\u{3099}",
    "\u{0301}",
    "\u{200B}",
    "\u{FEFF}",
    "\u{FFFD}",
    "\u{10FFFF}",
    "\n",
    "\r\n",
    "-",
    "－",
    "ー",
    "〒",
    "丁目",
    "番地",
    "号",
    "東京都",
    "東京県",
    "北海道",
    "千代田区",
    "永田町１－７－１",
    "昭和",
    "平成元年",
    "令和",
    "年",
    "月",
    "日",
    "昭和64年1月8日",
    "H1.1.8",
    "S55.4.1",
    "1988-02-30",
    "0000-00-00",
    "9999-12-31",
    "99999999999999999999",
    "5287 3169 4022",
    "５２８７３１６９４０２２",
    "male",
    "female",
    "ordinary",
    "ﾔﾏﾀﾞ ﾀﾛｳ",
    "ｷﾞｮｳ",
    "ヴ",
    "ゐゑ",
    "髙﨑",
    "𠮷",
    "{",
    "}",
    "\\",
    "\"",
];

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(SPECIAL).prop_map(str::to_string),
        2 => any::<char>().prop_map(String::from),
        2 => "[ぁ-んァ-ヶｦ-ﾟ一-龠０-９0-9 　ー・]{1,8}",
        1 => prop::char::range('\u{0300}', '\u{036F}').prop_map(String::from),
        1 => prop::char::range('\u{E0100}', '\u{E01EF}').prop_map(String::from),
        1 => (prop::sample::select(SPECIAL), 100usize..3000).prop_map(|(s, n)| s.repeat(n.min(3000 / s.len().max(1)))),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..6).prop_map(|v| v.concat())
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        4 => text().prop_map(Value::String),
    ]
}

/// Any JSON value, with keys that are sometimes field names.
fn json() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(FIELDS).prop_map(str::to_string),
        1 => prop::sample::select(BANK_FIELDS).prop_map(str::to_string),
        1 => text(),
    ]
}

/// An object shaped like a resident record: most schema keys, values of any kind.
fn record() -> impl Strategy<Value = Value> {
    let value = prop_oneof![3 => text().prop_map(Value::String), 1 => json()];
    let bank = prop_oneof![
        3 => prop::collection::vec((prop::sample::select(BANK_FIELDS).prop_map(str::to_string), value.clone()), 0..6)
            .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        1 => json(),
    ];
    (
        prop::collection::vec((prop::sample::select(&FIELDS[..10]).prop_map(str::to_string), value), 0..14),
        prop::option::of(bank),
        prop::collection::vec((text(), json()), 0..2),
    )
        .prop_map(|(fields, bank, extra)| {
            let mut obj: Map<String, Value> = fields.into_iter().collect();
            if let Some(b) = bank {
                obj.insert("bank".into(), b);
            }
            obj.extend(extra);
            Value::Object(obj)
        })
}

/// Changes to a record that are close to valid: the first thing a fuzzer should try.
fn near_valid() -> impl Strategy<Value = Value> {
    let base: Value = serde_json::json!({
        "id": "E1", "my_number": "528731694022",
        "family_name": "山田", "given_name": "花子",
        "family_name_kana": "ヤマダ", "given_name_kana": "ハナコ",
        "birth_date": "昭和55年4月1日", "sex": "female",
        "postal_code": "100-0014", "address": "東京都千代田区永田町1-7-1",
        "bank": { "bank_code": "0001", "branch_code": "001", "account_type": "ordinary",
                  "account_number": "1234567", "holder_kana": "ﾔﾏﾀﾞ ﾊﾅｺ" }
    });
    prop::collection::vec(
        (prop::sample::select(FIELDS), prop::sample::select(BANK_FIELDS), scalar(), any::<bool>()),
        1..4,
    )
    .prop_map(move |edits| {
        let mut r = base.clone();
        for (field, bank_field, v, nested) in edits {
            if nested {
                if let Some(b) = r["bank"].as_object_mut() {
                    b.insert(bank_field.to_string(), v);
                }
            } else if v.is_null() {
                r.as_object_mut().unwrap().remove(field);
            } else {
                r[field] = v;
            }
        }
        r
    })
}

fn check_verdict(record: &Value) -> Result<(), TestCaseError> {
    let engine = builtin();
    let verdict = match engine.evaluate(record) {
        Ok(v) => v,
        Err(e) => {
            prop_assert!(!record.is_object(), "an object was refused: {e}");
            return Ok(());
        }
    };
    prop_assert!(record.is_object());
    prop_assert!(verdict.score <= 100);
    let penalties: u32 = verdict.findings.iter().map(|f| f.penalty).sum();
    prop_assert_eq!(verdict.score, 100u32.saturating_sub(penalties));
    if verdict.findings.iter().any(|f| f.severity == Severity::Reject) {
        prop_assert_eq!(verdict.decision, Decision::Reject);
    } else if verdict.findings.iter().any(|f| f.severity == Severity::Review) || verdict.score < 70 {
        prop_assert_eq!(verdict.decision, Decision::Review);
    } else {
        prop_assert_eq!(verdict.decision, Decision::Accept);
    }
    // Explaining does not change the verdict.
    let mut explained = engine.explain(record).unwrap();
    prop_assert_eq!(explained.trace.take().map(|t| t.len()), Some(engine.rule_ids().count()));
    prop_assert_eq!(explained, verdict);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn evaluating_any_json_value_never_panics(value in json()) {
        check_verdict(&value)?;
    }

    #[test]
    fn records_get_a_score_in_range_and_reject_findings_reject(record in record()) {
        check_verdict(&record)?;
    }

    #[test]
    fn near_valid_records_keep_the_invariants(record in near_valid()) {
        check_verdict(&record)?;
    }

    #[test]
    fn my_number_never_appears_in_full(digits in "[0-9]{12}", sep in prop::sample::select(&["", " ", "-"][..])) {
        let written = format!("{}{sep}{}{sep}{}", &digits[..4], &digits[4..8], &digits[8..]);
        let record = serde_json::json!({
            "id": "E1", "my_number": written,
            "family_name": "山田", "given_name": "花子",
            "family_name_kana": "ヤマダ", "given_name_kana": "ハナコ",
            "birth_date": "1980-04-01", "sex": "female",
            "postal_code": "100-0014", "address": "東京都千代田区永田町1-7-1"
        });
        let shown = serde_json::to_string(&builtin().explain(&record).unwrap()).unwrap();
        let shown_digits: String = shown.chars().filter(char::is_ascii_digit).collect();
        prop_assert!(!shown.contains(&written));
        prop_assert!(!shown_digits.contains(&digits), "{}", shown);
    }
}

// ---------------------------------------------------------------- compiling arbitrary text

fn resident() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| std::fs::read_to_string("rules/resident.kensa").unwrap())
}

/// Compile; if it compiles, it must also evaluate a record.
fn compile(text: &str) -> Result<(), TestCaseError> {
    // Named as the shipped file so that its table file resolves.
    match Engine::from_source("rules/resident.kensa", text) {
        Ok(engine) => {
            let engine = engine.with_today(Date::parse("2026-11-27").unwrap());
            let record = serde_json::json!({"id": "E1", "family_name": "山田", "birth_date": "1980-04-01"});
            let v = engine.evaluate(&record);
            if let Ok(v) = v {
                prop_assert!(v.score <= 100);
            }
        }
        Err(e) => {
            prop_assert!(!e.diagnostics().is_empty());
            prop_assert!(e.diagnostics().iter().any(|d| d.is_error()));
            // Rendering must not panic either (spans inside the text, on char boundaries).
            let _ = e.render();
        }
    }
    Ok(())
}

/// Words of the rule language, so that random text gets past the first token.
const TOKENS: &[&str] = &[
    "schema",
    "R",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ":",
    ",",
    ";",
    "?",
    "text",
    "int",
    "date",
    "bool",
    "enum",
    "list",
    "secret",
    "let",
    "set",
    "map",
    "file",
    "include",
    "rule",
    "when",
    "require",
    "reject",
    "review",
    "warn",
    "fields",
    "decide",
    "accept",
    "if",
    "otherwise",
    "any",
    "no",
    "count",
    "score",
    "fired",
    "and",
    "or",
    "not",
    "in",
    "matches",
    "today",
    "true",
    "false",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "=",
    "+",
    "-",
    "++",
    "-30",
    "100",
    "1980-04-01",
    "2023-02-30",
    "/^[0-9]{4}$/",
    "/[/",
    "\"山田\"",
    "\"{family_name}\"",
    "\"{\"",
    "\"{}\"",
    "\"\\q\"",
    "\"閉じない",
    "id",
    "family_name",
    "my_number",
    "bank",
    "bank.holder_kana",
    "kana_key",
    "digits",
    "age",
    "present",
    "absent",
    "coalesce",
    "a.b",
    "x",
    "\n",
    " ",
    "（",
    "）",
    "＝",
    "”",
    "\u{3000}",
    "//",
    "#",
    "r.x",
    "99999999999999999999",
    "\"tables/prefectures.csv\"",
    "column",
    "key",
    "value",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..60).prop_map(|t| t.join(" "))
}

#[derive(Clone, Debug)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, String),
    Duplicate(usize, usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), prop_oneof![text(), prop::sample::select(TOKENS).prop_map(str::to_string)])
            .prop_map(|(a, s)| Mutation::Insert(a, s)),
        (any::<usize>(), 1usize..200, any::<usize>()).prop_map(|(a, n, at)| Mutation::Duplicate(a, n, at)),
    ]
}

fn mutate(text: &str, ms: &[Mutation]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for m in ms {
        let len = chars.len().max(1);
        match m {
            Mutation::Delete(a, n) => {
                let a = a % len;
                let b = (a + n).min(chars.len());
                chars.drain(a.min(chars.len())..b);
            }
            Mutation::Insert(a, s) => {
                let a = (a % (chars.len() + 1)).min(chars.len());
                chars.splice(a..a, s.chars());
            }
            Mutation::Duplicate(a, n, at) => {
                let a = a % len;
                let b = (a + n).min(chars.len());
                let piece: Vec<char> = chars.get(a.min(b)..b).unwrap_or(&[]).to_vec();
                let at = at % (chars.len() + 1);
                chars.splice(at..at, piece);
            }
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn compiling_arbitrary_text_never_panics(text in any::<String>()) {
        compile(&text)?;
    }

    #[test]
    fn compiling_token_soup_never_panics(text in token_soup()) {
        compile(&text)?;
        compile(&format!("schema R {{ id: text, family_name: text }}\n{text}"))?;
    }

    #[test]
    fn compiling_mutated_shipped_rules_never_panics(ms in prop::collection::vec(mutation(), 1..4)) {
        compile(&mutate(resident(), &ms))?;
    }
}

#[test]
fn the_unmutated_shipped_rules_compile_cleanly() {
    let engine = Engine::from_source("rules/resident.kensa", resident()).unwrap();
    assert!(engine.warnings().is_empty(), "{}", engine.report().render());
}
