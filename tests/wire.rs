//! The JSON that leaves the library reads back into the same values (serialize → deserialize →
//! equal, and the text written again is the same text), and findings carry their message's
//! values as `params`. Public API only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/records.rs"]
mod records;
use records::{engine, hanako, lines};

use kensa::{
    CandidateMatch, Comparison, Decision, FieldCheck, Finding, PendingRule, RuleOutcome, Severity, TraceEntry, Verdict,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// `value` written, read back equal, and written again to the same text.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) -> String {
    let text = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(&back, value, "{text}");
    assert_eq!(serde_json::to_string(&back).unwrap(), text);
    text
}

#[test]
fn verdicts_with_evidence_related_records_and_trace_round_trip() {
    let e = engine();
    let registry = e.memory_registry(lines("examples/registry.jsonl"));
    let mut with_related = 0;
    for case in lines("examples/enrollment-cases.jsonl") {
        let v = e.explain_in(&case["record"], &registry).unwrap();
        assert!(v.trace.is_some());
        with_related += usize::from(v.findings.iter().any(|f| !f.related.is_empty()));
        round_trip(&v);
        let plain = e.evaluate(&case["record"]).unwrap();
        let text = round_trip(&plain);
        assert!(!text.contains("\"trace\""), "{text}");
        for m in e.matches_in(&case["record"], &registry).unwrap() {
            round_trip(&m);
        }
    }
    assert!(with_related > 0, "no case has related registry records");
}

#[test]
fn the_small_types_round_trip_as_their_names() {
    for (s, text) in [(Severity::Warn, "\"warn\""), (Severity::Review, "\"review\""), (Severity::Reject, "\"reject\"")]
    {
        assert_eq!(round_trip(&s), text);
    }
    for (d, text) in
        [(Decision::Accept, "\"accept\""), (Decision::Review, "\"review\""), (Decision::Reject, "\"reject\"")]
    {
        assert_eq!(round_trip(&d), text);
    }
    for o in [RuleOutcome::Passed, RuleOutcome::Fired, RuleOutcome::Skipped, RuleOutcome::NotApplicable] {
        assert_eq!(round_trip(&o), format!("\"{}\"", o.as_str()));
        let t = TraceEntry { rule: "a.b".into(), outcome: o };
        assert_eq!(round_trip(&t), format!("{{\"rule\":\"a.b\",\"outcome\":\"{}\"}}", o.as_str()));
    }
    let m = CandidateMatch {
        id: "P1".into(),
        probability: 0.25,
        comparisons: vec![
            Comparison {
                name: "name".into(),
                level: Some("exact".into()),
                weight: 3.5,
                frequency_adjustment: Some(-1.25),
            },
            Comparison { name: "dob".into(), level: None, weight: 0.0, frequency_adjustment: None },
        ],
    };
    assert_eq!(
        round_trip(&m),
        r#"{"id":"P1","probability":0.25,"comparisons":[{"name":"name","level":"exact","weight":3.5,"frequency_adjustment":-1.25},{"name":"dob","level":null,"weight":0.0}]}"#
    );
    let c = FieldCheck {
        verdict: Verdict { id: None, decision: Decision::Accept, score: 100, findings: Vec::new(), trace: None },
        pending: vec![PendingRule { rule: "name.given_present".into(), missing: vec!["given_name".into()] }],
    };
    assert_eq!(
        round_trip(&c),
        r#"{"id":null,"decision":"accept","score":100,"findings":[],"pending":[{"rule":"name.given_present","missing":["given_name"]}]}"#
    );
}

#[test]
fn a_finding_keeps_the_order_of_its_params_and_evidence() {
    let f = Finding {
        rule: "r".into(),
        severity: Severity::Review,
        penalty: 30,
        message: "m".into(),
        params: vec![("z".into(), json!(1)), ("a".into(), json!("x"))],
        fields: vec!["f".into()],
        evidence: vec![("y".into(), json!(null)), ("b".into(), json!([1]))],
        related: vec!["P1".into()],
    };
    assert_eq!(
        round_trip(&f),
        r#"{"rule":"r","severity":"review","penalty":30,"message":"m","params":{"z":1,"a":"x"},"fields":["f"],"evidence":{"y":null,"b":[1]},"related":["P1"]}"#
    );
    // JSON written before `params` existed still reads.
    let old = r#"{"rule":"r","severity":"warn","penalty":10,"message":"m","fields":[],"evidence":{},"related":[]}"#;
    let f: Finding = serde_json::from_str(old).unwrap();
    assert!(f.params.is_empty());
}

// ---------------------------------------------------------------- params

fn finding(record: &Value, rule: &str) -> Finding {
    let v = engine().evaluate(record).unwrap();
    v.findings.into_iter().find(|f| f.rule == rule).unwrap_or_else(|| panic!("{rule} did not fire"))
}

#[test]
fn params_are_the_values_of_the_message_placeholders() {
    let mut r = hanako();
    r["birth_date"] = json!("1890-01-01");
    let f = finding(&r, "birth_date.plausible_age");
    assert_eq!(f.params, vec![("birth_date".into(), json!("1890-01-01")), ("age(birth_date)".into(), json!(136))]);
    assert!(f.message.contains("136"), "{}", f.message);
}

#[test]
fn params_are_masked_as_the_message_is() {
    let mut r = hanako();
    r["my_number"] = json!("123456789019");
    let f = finding(&r, "my_number.check_digit");
    assert_eq!(f.params, vec![("my_number".into(), json!("********9019"))]);
    let shown = engine().with_show_pii(true).evaluate(&r).unwrap();
    let f = shown.findings.iter().find(|f| f.rule == "my_number.check_digit").unwrap();
    assert_eq!(f.params, vec![("my_number".into(), json!("123456789019"))]);
}

#[test]
fn engine_findings_carry_their_details_and_japanese_messages() {
    let mut r = hanako();
    r["birth_date"] = json!("1980-13-01");
    r["bank"] = json!(["0001"]);
    r.as_object_mut().unwrap().remove("given_name");
    let v = engine().evaluate(&r).unwrap();
    let got: Vec<(String, Value)> =
        v.findings.iter().map(|f| (f.message.clone(), serde_json::to_value(Ordered(&f.params)).unwrap())).collect();
    insta::assert_json_snapshot!(got);
    // No English: outside the quoted names and values (in backticks), no Latin letters.
    for f in &v.findings {
        let unquoted: String = f.message.split('`').step_by(2).collect();
        assert!(!unquoted.chars().any(|c| c.is_ascii_alphabetic()), "{}", f.message);
    }
}

/// Params as a JSON object in their order, for the snapshot.
struct Ordered<'a>(&'a [(String, Value)]);

impl Serialize for Ordered<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}
