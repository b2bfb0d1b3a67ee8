//! The bundled sample cases (`examples/enrollment-cases.jsonl`): the standard rule set, with
//! the bundled registry, must judge every case as its `expect` says (`flag` = review or
//! reject), through the public API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use kensa::{Date, Decision, Engine};

fn lines(name: &str) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn every_sample_case_is_judged_as_expected() {
    let engine = Engine::builtin().unwrap().with_today(Date::parse("2026-11-27").unwrap());
    let registry = engine.memory_registry(lines("registry.jsonl"));
    let mut wrong = Vec::new();
    let cases = lines("enrollment-cases.jsonl");
    for case in &cases {
        let category = case["category"].as_str().unwrap();
        let expect = case["expect"].as_str().unwrap();
        let verdict = engine.evaluate_in(&case["record"], &registry).unwrap();
        let ok = match expect {
            "accept" => verdict.decision == Decision::Accept,
            "reject" => verdict.decision == Decision::Reject,
            "flag" => verdict.decision != Decision::Accept,
            other => panic!("unknown expectation {other}"),
        };
        if !ok {
            let rules: Vec<&str> = verdict.findings.iter().map(|f| f.rule.as_str()).collect();
            wrong.push(format!(
                "{category} {} expected {expect}, got {} {rules:?}",
                verdict.id.unwrap_or_default(),
                verdict.decision
            ));
        }
    }
    assert_eq!(cases.len(), 99);
    assert!(wrong.is_empty(), "{} case(s) judged wrongly:\n{}", wrong.len(), wrong.join("\n"));
}

/// Registry findings name the enrolled records they are about.
#[test]
fn registry_findings_name_the_related_records() {
    let engine = Engine::builtin().unwrap().with_today(Date::parse("2026-11-27").unwrap());
    let registry = engine.memory_registry(lines("registry.jsonl"));
    let cases = lines("enrollment-cases.jsonl");
    let find = |id: &str| cases.iter().find(|c| c["record"]["id"] == id).unwrap()["record"].clone();

    // E00386's number belongs to P001620, a different person.
    let v = engine.evaluate_in(&find("E00386"), &registry).unwrap();
    let f = v.findings.iter().find(|f| f.rule == "registry.number_held_by_other").unwrap();
    assert_eq!(f.related, ["P001620"]);
    let text = serde_json::to_string(&v).unwrap();
    assert!(!text.contains("081016287970"), "My Number leaked: {text}");

    // E00431 (no number) matches two enrolled 福田 洋子 born 1965-06-05.
    let v = engine.evaluate_in(&find("E00431"), &registry).unwrap();
    let f = v.findings.iter().find(|f| f.rule == "registry.ambiguous_link").unwrap();
    let mut related = f.related.clone();
    related.sort();
    assert_eq!(related, ["P001427", "P002167"]);
    let (_, candidates) = f.evidence.iter().find(|(k, _)| k == "candidates").unwrap();
    assert_eq!(candidates.as_array().unwrap().len(), 2);
    assert!(candidates[0]["weights"]["birth"]["level"] == "same", "{candidates}");

    // A duplicate with the day and month swapped is found, and says so in its weights.
    let v = engine.evaluate_in(&find("E00371"), &registry).unwrap();
    let f = v.findings.iter().find(|f| f.rule == "registry.probable_duplicate").unwrap();
    assert_eq!(f.related, ["P000502"]);
    let (_, candidates) = f.evidence.iter().find(|(k, _)| k == "candidates").unwrap();
    assert_eq!(candidates[0]["weights"]["birth"]["level"], "swapped");
    assert!(candidates[0]["probability"].as_f64().unwrap() >= 0.9);

    // Namesakes (same name, other birth date and address) are other people: accepted.
    let v = engine.evaluate_in(&find("E00487"), &registry).unwrap();
    assert_eq!(v.decision, Decision::Accept, "{:?}", v.findings);
}

/// Without a registry the record-only rules still judge the categories that do not need one.
#[test]
fn record_only_categories_are_judged_without_a_registry() {
    const NEEDS_REGISTRY: &[&str] = &[
        "already_enrolled",
        "ambiguous_link",
        "duplicate_address_variant",
        "duplicate_dob_swapped",
        "duplicate_kana_typo",
        "duplicate_variant_kanji",
        "number_held_by_other",
    ];
    let engine = Engine::builtin().unwrap().with_today(Date::parse("2026-11-27").unwrap());
    for case in lines("enrollment-cases.jsonl") {
        let category = case["category"].as_str().unwrap();
        if NEEDS_REGISTRY.contains(&category) {
            continue;
        }
        let v = engine.evaluate(&case["record"]).unwrap();
        let ok = match case["expect"].as_str().unwrap() {
            "accept" => v.decision == Decision::Accept,
            "reject" => v.decision == Decision::Reject,
            _ => v.decision != Decision::Accept,
        };
        assert!(ok, "{category}: {} {:?}", v.decision, v.findings);
    }
}
