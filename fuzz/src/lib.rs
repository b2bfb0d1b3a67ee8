//! The invariants the fuzz targets check, one function per target: each takes one input, runs
//! one part of kensa on it and panics (the fuzzer's "crash") when an invariant does not hold.
//!
//! The same file is compiled into `tests/fuzz_properties.rs` (`#[path]`), so `cargo test`
//! checks exactly these invariants with proptest inputs, and a fuzzer finding turns into a
//! regression test by pasting its input there.
//!
//! Never prints a record: the panic messages name the invariant, not the values (records hold
//! My Numbers, even synthetic ones).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "a fuzz oracle panics"
)]

use std::borrow::Cow;
use std::path::Path;
use std::sync::OnceLock;

use kensa::normalize::{address, date, digits, kana, name, postal, variant, width, zengin};
use kensa::registry::MemoryRegistry;
use kensa::{Date, Decision, Engine, Severity, Verdict};
use serde_json::Value;

/// The suite loader of `kensa test`, compiled from the binary's source (it is not part of the
/// library): `suite::parse` reads a suite from text.
#[allow(dead_code, unreachable_pub, reason = "only the parser is used here")]
#[path = "../../src/cli/test/suite.rs"]
mod suite;

/// The date evaluation uses as today, so results do not depend on the clock.
pub const TODAY: &str = "2026-11-27";

fn today() -> Date {
    Date::parse(TODAY).unwrap()
}

/// The repository root (this file is compiled both from `fuzz/` and from the root crate).
fn repo() -> &'static Path {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    if dir.join("rules").is_dir() { dir } else { dir.parent().unwrap() }
}

/// The standard rule set, compiled once.
pub fn builtin() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::builtin().unwrap().with_today(today()))
}

/// A small registry (the first 200 records of `examples/registry.jsonl`), so the registry
/// rules and the match block run too.
fn registry() -> &'static MemoryRegistry {
    static REGISTRY: OnceLock<MemoryRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let text = include_str!("../../examples/registry.jsonl");
        let records = text.lines().take(200).map(|l| serde_json::from_str::<Value>(l).unwrap());
        builtin().memory_registry(records)
    })
}

/// The records of `examples/enrollment-cases.jsonl`: valid starting points for mutation.
pub fn example_records() -> &'static [Value] {
    static RECORDS: OnceLock<Vec<Value>> = OnceLock::new();
    RECORDS.get_or_init(|| {
        include_str!("../../examples/enrollment-cases.jsonl")
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["record"].clone())
            .collect()
    })
}

// ------------------------------------------------------------------------------ rule text

/// Rule text: compile it (named as a file of `rules/`, so `file "tables/…"` resolves); a rule
/// set that compiles evaluates a record; one that does not has error diagnostics whose spans
/// lie inside the text on character boundaries, and renders. Text that parses is formatted;
/// the formatted text is a fixed point of the formatter and compiles exactly when the
/// original does. True when the rules compiled.
pub fn rules(text: &str) -> bool {
    static NAME: OnceLock<String> = OnceLock::new();
    let name = NAME.get_or_init(|| repo().join("rules/fuzz.kensa").display().to_string());
    let compiled = compile(name, text);
    match kensa::internal::format(text) {
        Ok(formatted) => {
            let again = kensa::internal::format(&formatted);
            assert_eq!(again.as_deref().ok(), Some(formatted.as_str()), "formatting is not idempotent");
            if formatted != text {
                assert_eq!(compile(name, &formatted), compiled, "formatting changed whether the rules compile");
            }
        }
        Err(kensa::internal::FormatError::Syntax(diagnostics)) => {
            assert!(diagnostics.iter().any(kensa::Diagnostic::is_error), "a syntax failure without an error");
            for d in &diagnostics {
                check_diagnostic(d, |f| (f == 0).then_some(text));
            }
        }
        Err(e @ kensa::internal::FormatError::Unstable(_)) => panic!("the formatter refused its own output: {e}"),
    }
    compiled
}

/// Compile and check the outcome; true when the rules compiled.
fn compile(name: &str, text: &str) -> bool {
    match Engine::from_source(name, text) {
        Ok(engine) => {
            let report = engine.report();
            for d in engine.warnings() {
                assert!(!d.is_error(), "an engine with an error diagnostic");
                check_diagnostic(d, |f| report.sources.files().find(|(id, _)| id.0 == f).map(|(_, s)| &*s.text));
            }
            let engine = engine.with_today(today());
            let record = serde_json::json!({
                "id": "F1", "family_name": "山田", "given_name": "花子", "family_name_kana": "ヤマダ",
                "birth_date": "1980-04-01", "my_number": "123456789018", "bank": {"holder_kana": "ﾔﾏﾀﾞ ﾊﾅｺ"}
            });
            if let Ok(v) = engine.evaluate(&record) {
                check_score(&v);
                let mut explained = engine.explain(&record).expect("explain refused what evaluate took");
                assert_eq!(explained.trace.take().map(|t| t.len()), Some(engine.rule_ids().count()));
                assert_eq!(explained, v, "explain changed the verdict");
                let _ = serde_json::to_string(&v).unwrap();
            }
            let _ = engine.match_profile(&record);
            true
        }
        Err(e) => {
            let report = e.report();
            assert!(e.diagnostics().iter().any(kensa::Diagnostic::is_error), "a failed compile without an error");
            for d in e.diagnostics() {
                check_diagnostic(d, |f| report.sources.files().find(|(id, _)| id.0 == f).map(|(_, s)| &*s.text));
            }
            let _ = e.render();
            let _ = e.to_string();
            false
        }
    }
}

/// A diagnostic has a stable code, a message, and spans inside the text they point into, on
/// character boundaries. `text_of` gives the text of a file id.
fn check_diagnostic<'a>(d: &kensa::Diagnostic, text_of: impl Fn(u32) -> Option<&'a str>) {
    assert!(d.code.as_str().starts_with("kensa::"), "code {}", d.code);
    assert!(!d.message.is_empty(), "{} has no message", d.code);
    for l in &d.labels {
        let (start, end) = (l.span.start as usize, l.span.end as usize);
        let Some(text) = text_of(l.span.file.0) else { panic!("{}: a span into an unknown file", d.code) };
        assert!(start <= end && end <= text.len(), "{}: span {start}..{end} outside the text", d.code);
        assert!(
            text.is_char_boundary(start) && text.is_char_boundary(end),
            "{}: span {start}..{end} not on character boundaries",
            d.code
        );
    }
}

// ------------------------------------------------------------------------------ records

/// Bytes: when they are JSON, the standard rules judge them (see [`record`]).
pub fn eval(data: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        record(&value);
    }
}

/// UTF-8 text as a record line: the reader of `kensa eval`'s lines reads it as serde_json does
/// (or leaves it to serde_json), and `Engine::judge_json` judges it as `Engine::evaluate` judges
/// the strict reading of it (`parse_record`), or refuses it with that reading's message.
pub fn json(text: &str) {
    if let Err(e) = kensa::internal::json_reader_agrees(text) {
        panic!("the record reader disagrees with serde_json: {e}");
    }
    let engine = builtin();
    let judged = engine.judge_json(text, None, false);
    match kensa::internal::parse_record(text) {
        Ok(value) => assert_eq!(judged, engine.evaluate(&value), "judge_json and evaluate differ"),
        Err(message) => assert_eq!(judged, Err(kensa::RecordError::Malformed(message))),
    }
}

/// One JSON value against the standard rules: an object gets a verdict (a non-object a
/// `RecordError`), with and without the registry; the score is 100 minus the penalties, the
/// decision follows the standard policy, `explain` only adds the trace, the serialized verdict
/// never shows the record's My Number in full, and the match profile compares with itself
/// with a probability in 0..=1.
pub fn record(value: &Value) {
    let engine = builtin();
    let verdict = match engine.evaluate(value) {
        Ok(v) => v,
        Err(_) => {
            assert!(!value.is_object(), "an object was refused");
            assert!(engine.explain(value).is_err());
            assert!(engine.match_profile(value).is_err());
            return;
        }
    };
    assert!(value.is_object(), "a non-object got a verdict");
    check_standard_verdict(&verdict);
    let mut explained = engine.explain(value).expect("explain refused what evaluate took");
    assert_eq!(explained.trace.take().map(|t| t.len()), Some(engine.rule_ids().count()));
    assert_eq!(explained, verdict, "explain changed the verdict");

    let with_registry = engine.explain_in(value, registry()).expect("the registry refused a record");
    check_standard_verdict(&with_registry);

    let shown = serde_json::to_string(&with_registry).unwrap();
    if let Some(n) = value.get("my_number").and_then(Value::as_str) {
        let d = digits::digits(n);
        // Unless the same digits are written elsewhere in the record too (a key named
        // `211937508809branch_code` is echoed in its unknown-field finding).
        let mut rest = value.clone();
        rest.as_object_mut().map(|o| o.remove("my_number"));
        let elsewhere = serde_json::to_string(&rest).unwrap().contains(&*d);
        if d.chars().count() >= 12 && d.chars().all(|c| c.is_ascii_digit()) && !elsewhere {
            assert!(!shown.contains(&*d), "a My Number was shown in full");
        }
    }

    let profile = engine.match_profile(value).expect("an object has a match profile");
    if let Some(m) = engine.compare_profiles(&profile, &profile) {
        assert!((0.0..=1.0).contains(&m.probability), "probability {}", m.probability);
    }
    let _ = engine.blocking_keys(value);
}

fn check_score(v: &Verdict) {
    let penalties: u32 = v.findings.iter().map(|f| f.penalty).fold(0, u32::saturating_add);
    assert_eq!(v.score, 100u32.saturating_sub(penalties), "score is not 100 minus the penalties");
}

/// The standard rule set's `decide` block: any reject finding rejects; a review finding or a
/// score under 70 reviews.
fn check_standard_verdict(v: &Verdict) {
    check_score(v);
    let expected = if v.findings.iter().any(|f| f.severity == Severity::Reject) {
        Decision::Reject
    } else if v.findings.iter().any(|f| f.severity == Severity::Review) || v.score < 70 {
        Decision::Review
    } else {
        Decision::Accept
    };
    assert_eq!(v.decision, expected, "the decision does not follow the findings");
}

#[path = "../../tests/common/fields.rs"]
mod fields;
pub use fields::{BANK_FIELDS, FIELDS};

/// One change to a valid record: which field (a top-level one, or one of `bank`), and its new
/// value (`None` removes it).
#[derive(Clone, Debug)]
pub struct Edit {
    pub field: usize,
    pub in_bank: bool,
    pub value: Option<Value>,
}

/// A valid example record with some field values replaced; checked like [`record`].
pub fn mutated_record(base: usize, edits: &[Edit]) {
    let records = example_records();
    let mut r = records[base % records.len()].clone();
    for e in edits {
        let obj = if e.in_bank { r.get_mut("bank").and_then(Value::as_object_mut) } else { r.as_object_mut() };
        let Some(obj) = obj else { continue };
        let field = if e.in_bank { BANK_FIELDS[e.field % BANK_FIELDS.len()] } else { FIELDS[e.field % FIELDS.len()] };
        match &e.value {
            Some(v) => obj.insert(field.to_string(), v.clone()),
            None => obj.remove(field),
        };
    }
    record(&r);
}

// ------------------------------------------------------------------------------ normalizers

fn idempotent(name: &str, f: impl Fn(&str) -> Cow<'_, str>, s: &str) -> String {
    let once = f(s);
    let borrowed = matches!(once, Cow::Borrowed(_));
    let once = once.into_owned();
    if borrowed {
        assert_eq!(once, s, "{name} borrowed a changed text");
    }
    assert_eq!(f(&once), once, "{name} is not idempotent");
    once
}

/// Every public normalizer on one string: total, idempotent, and the documented facts about
/// its output.
pub fn normalize(s: &str) {
    for (name, f) in [
        ("nfkc", width::nfkc as fn(&str) -> Cow<'_, str>),
        ("fold_width", width::fold_width),
        ("fold_dashes", width::fold_dashes),
        ("strip_invisible", width::strip_invisible),
        ("to_katakana", kana::to_katakana),
        ("to_hiragana", kana::to_hiragana),
        ("fold_variants", variant::fold_variants),
        ("fold_variants_with_sai", variant::fold_variants_with_sai),
        ("digits", digits::digits),
    ] {
        idempotent(name, f, s);
    }
    let collapsed = idempotent("collapse_whitespace", width::collapse_whitespace, s);
    assert!(!collapsed.contains("  "), "collapse_whitespace left two spaces");
    let removed = idempotent("remove_whitespace", width::remove_whitespace, s);
    assert!(!removed.chars().any(char::is_whitespace), "remove_whitespace left whitespace");
    let stripped = width::strip_invisible(s);
    assert!(!stripped.chars().any(width::is_invisible), "an invisible character survived");

    // K1–K4.
    let k1 = idempotent("key_nfkc", name::key_nfkc, s);
    assert!(!k1.chars().any(width::is_invisible), "K1 holds an invisible character");
    assert_eq!(k1.trim(), k1, "K1 is not trimmed");
    let k1n = idempotent("key_nospace", name::key_nospace, s);
    assert!(!k1n.chars().any(char::is_whitespace), "K1' holds whitespace");
    let k2 = idempotent("key_kana", name::key_kana, s);
    assert_eq!(k2, kana::kana_key(s), "K2 is not kana_key");
    assert!(!k2.chars().any(|c| matches!(c, '\u{3041}'..='\u{3096}')), "K2 holds hiragana");
    assert!(!k2.chars().any(|c| matches!(c, '\u{FF61}'..='\u{FF9F}')), "K2 holds half-width kana");
    let _ = kana::is_katakana_name(s);
    let k3 = idempotent("key_zengin", name::key_zengin, s);
    assert_eq!(k3, zengin::zengin_key(s), "K3 is not zengin_key");
    idempotent("to_zengin", zengin::to_zengin, s);
    let _ = zengin::is_zengin(s);
    idempotent("key_variant", name::key_variant, s);

    // Number hygiene.
    let d = digits::digits(s);
    let _ = (digits::is_ascii_digits(s), digits::is_valid_my_number(s), digits::is_valid_corporate_number(s));
    let _ = (digits::luhn_valid(s), digits::is_valid_insurer_number(s), digits::is_valid_medical_institution_code(s));
    if digits::is_valid_my_number(&d) {
        let base: String = d.chars().take(11).collect();
        let check = digits::my_number_check_digit(&base).map(|c| char::from(b'0' + c));
        assert_eq!(check, d.chars().nth(11), "check digit disagrees with is_valid_my_number");
    }
    let masked = digits::mask(s);
    let n = s.chars().count();
    assert_eq!(masked.chars().count(), n, "mask changed the length");
    if n > 4 {
        assert!(masked.chars().take(n - 4).all(|c| c == '*'), "mask shows more than 4 characters");
        assert!(masked.ends_with(s.chars().skip(n - 4).collect::<String>().as_str()));
    } else {
        assert!(masked.chars().all(|c| c == '*'));
    }

    // Dates: a parsed date prints as ISO and parses back to itself.
    if let Ok(d) = date::parse(s) {
        assert_eq!(date::parse(&d.to_string()), Ok(d), "a parsed date does not round-trip");
        assert_eq!(Date::from_ymd(d.year(), d.month(), d.day()), Ok(d));
        assert_eq!(Date::from_days(d.to_days()), d);
        let _ = date::years_between(d, today());
    }

    // Postal codes: seven ASCII digits that parse back, with or without the hyphen.
    if let Ok(c) = postal::parse_code(s) {
        assert!(c.as_str().len() == 7 && c.as_str().bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(postal::parse_code(c.as_str()), Ok(c));
        assert_eq!(postal::parse_code(&c.hyphenated()), Ok(c));
        let _ = postal::exists_code(c);
    }

    // The CLI's `kensa normalize` entry points.
    for kind in ["kana", "zengin", "name", "variant", "digits", "date", "postal"] {
        let _ = kensa::internal::normalize(kind, s);
    }
}

// ------------------------------------------------------------------------------ addresses

/// An address: parsing is total; the key is idempotent and the same through `parse(s).key()`;
/// postal consistency checks run on what was parsed.
pub fn address(s: &str) {
    let a = address::parse(s);
    let k = address::key(s);
    // The same key; the reasons may differ (`Address` does not record that the text was blank).
    assert_eq!(a.key().ok(), k.as_ref().ok().cloned(), "parse(s).key() and key(s) disagree");
    if let Ok(k) = &k {
        assert_eq!(address::key(k).as_ref(), Ok(k), "the address key is not idempotent");
    }
    let _ = address::prefecture_of(s);
    let _ = postal::consistent_with("1000014", &a);
    let _ = kensa::internal::normalize_json("address", s);
}

/// Pieces an address is made of, for the token form of the `address` target.
pub const ADDRESS_TOKENS: &[&str] = &[
    "東京都",
    "北海道",
    "京都府",
    "大阪府",
    "沖縄県",
    "東京県",
    "千代田区",
    "札幌市",
    "中央区",
    "北一条西",
    "永田町",
    "大字",
    "字",
    "丁目",
    "番地",
    "番",
    "号",
    "の",
    "地割",
    "一",
    "二",
    "三",
    "四",
    "五",
    "六",
    "七",
    "八",
    "九",
    "十",
    "百",
    "千",
    "〇",
    "壱",
    "弐",
    "0",
    "1",
    "2",
    "7",
    "9",
    "99999",
    "１",
    "７",
    "－",
    "-",
    "ー",
    "‐",
    "―",
    "ｰ",
    " ",
    "　",
    "〒",
    "100-0014",
    "ヶ",
    "ケ",
    "ｶﾞ",
    "\u{3099}",
    "\u{301}",
    "\u{E0100}",
    "\0",
    "(",
    ")",
    "（",
    "号室",
    "F",
    "階",
    "ビル",
];

/// The token form of the `address` target: each byte picks a piece.
pub fn address_from_tokens(data: &[u8]) -> String {
    data.iter().map(|&b| ADDRESS_TOKENS[usize::from(b) % ADDRESS_TOKENS.len()]).collect()
}

// ------------------------------------------------------------------------------ comparators

/// Two texts from fuzz bytes: the input split at its first `|`, each side repeated up to a
/// count taken from the first two bytes, so that texts of hundreds of thousands of characters
/// (the 150-second pair of issue 14) are tried as often as short ones.
pub fn texts_to_compare(data: &[u8]) -> Option<(String, String)> {
    let (&[hi, lo], rest) = data.split_first_chunk::<2>()?;
    let text = std::str::from_utf8(rest).ok()?;
    let (a, b) = text.split_once('|').unwrap_or((text, text));
    // Up to about 400,000 characters a side.
    let times = usize::from(u16::from_be_bytes([hi, lo])) % 2_048 + 1;
    let times_for = |s: &str| if s.chars().count() * times > 400_000 { 1 } else { times };
    Some((a.repeat(times_for(a)), b.repeat(times_for(b))))
}

/// The text comparators on two texts of any length: bounded work (they read at most
/// `MAX_COMPARED_CHARS` of each, and charge at most 65 steps), similarities in `0..=1`, 1 for
/// equal texts, symmetric distances with Damerau ≤ Levenshtein, both at most the longer
/// compared length; and the match block on such texts against a registry gives a verdict or
/// a budget or size error (never a hang).
pub fn compare(a: &str, b: &str) {
    use kensa::internal::comparators::{MAX_COMPARED_CHARS, bounded, damerau, jaro_winkler, levenshtein, work};
    let jw = jaro_winkler(a, b);
    assert!((0.0..=1.0).contains(&jw), "Jaro-Winkler out of 0..=1");
    assert!((jw - jaro_winkler(b, a)).abs() < 1e-9, "Jaro-Winkler not symmetric");
    assert!((jaro_winkler(a, a) - 1.0).abs() < 1e-9, "a text not equal to itself");
    let (lev, dam) = (levenshtein(a, b), damerau(a, b));
    assert_eq!(lev, levenshtein(b, a), "Levenshtein not symmetric");
    assert!(dam <= lev, "Damerau above Levenshtein");
    let longest = bounded(a).chars().count().max(bounded(b).chars().count());
    assert!(longest <= MAX_COMPARED_CHARS && lev <= longest, "a distance above the compared length");
    assert_eq!(lev == 0, bounded(a) == bounded(b), "distance 0 for different compared texts");
    let cost = work(a, b);
    assert!((1..=1 + (MAX_COMPARED_CHARS * MAX_COMPARED_CHARS / 256) as u64).contains(&cost), "unbounded work");

    let (engine, registry) = long_text_registry(20, b);
    let engine = engine.with_limits(kensa::Limits { eval_budget: 5_000, ..kensa::Limits::default() });
    let record = serde_json::json!({"id": "N", "kana": a, "city": "x"});
    match engine.evaluate_in(&record, &registry) {
        Ok(v) => check_score(&v),
        // Out of budget, or a field over `max_field_bytes` (1 MiB: 340,000 kana are 1 MB).
        Err(e) => {
            let e = e.to_string();
            assert!(e.contains("evaluation steps") || e.contains("bytes long"), "neither a budget nor a size error");
        }
    }
}

/// A rule set whose match block compares `kana` (no length limit) with every text comparator,
/// and flags a candidate with probability 0.9 or more.
pub const LONG_TEXT_RULES: &str = r#"
schema R {
  id: text
  kana: text
  city: text
}
match {
  block on city
  compare jw = kana using jaro_winkler { same: similarity >= 0.95 m 0.9 u 0.01, other: else m 0.1 u 0.99 }
  compare lev = kana using levenshtein { same: distance <= 1 m 0.9 u 0.01, other: else m 0.1 u 0.99 }
  compare dam = kana using damerau { same: distance <= 2 m 0.9 u 0.01, other: else m 0.1 u 0.99 }
}
rule registry.duplicate {
  require no candidate where (candidate.probability >= 0.9)
  review "同一人物の可能性があります"
}
"#;

/// [`LONG_TEXT_RULES`] compiled, and a registry of `n` records (ids `P0`…, city `x`) whose
/// `kana` is `kana`.
pub fn long_text_registry(n: usize, kana: &str) -> (Engine, MemoryRegistry) {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    let engine = ENGINE.get_or_init(|| Engine::from_source("compare.kensa", LONG_TEXT_RULES).unwrap()).clone();
    let records = (0..n).map(|i| serde_json::json!({"id": format!("P{i}"), "kana": kana, "city": "x"}));
    let registry = engine.memory_registry(records);
    (engine, registry)
}

// ------------------------------------------------------------------------------ suites

/// Suite text: `kensa test`'s loader reads it or says why not (an error naming the suite file
/// and, for problems it can place, a `kensa::test::` code); inline records of a suite that
/// reads are judged by the standard rules without panicking. True when the suite was read.
pub fn suite(text: &str) -> bool {
    match suite::parse("fuzz.yaml", text, false) {
        Ok(file) => {
            let _ = file.today.as_deref().map(Date::parse);
            for case in &file.cases {
                if let Some(score) = case.expect.score {
                    let _ = (score.describe(), score.holds(50));
                }
                if let Some(r) = &case.record {
                    let _ = builtin().explain(r);
                }
            }
            true
        }
        Err(suite::SuiteError { rendered: message, summary }) => {
            assert!(summary.contains("fuzz.yaml"), "a suite error summary that does not name the file");
            assert!(!message.is_empty(), "an empty suite error");
            assert!(message.contains("fuzz.yaml"), "a suite error that does not name the file");
            false
        }
    }
}
