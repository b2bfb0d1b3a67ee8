//! Precision and recall of duplicate detection by the standard rules, on a labelled generated
//! stream (`generator::identity_stream`): people enrolled again under a new My Number or none,
//! after a move, under a new family name or with family and given name swapped (duplicates the
//! rules must flag), and twins, namesakes and new people (who must not be taken for an enrolled
//! resident). Run with `--nocapture` to see the table; docs/PERFORMANCE.md keeps the figures.
//!
//! The thresholds are the issue's: recall of true duplicates at least 99%, false flags on twins
//! and namesakes at most 1%.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../benches/common/gen.rs"]
#[allow(dead_code, reason = "shared with the benches")]
mod generator;

use std::collections::BTreeMap;

use generator::Identity;

/// The findings that say "this is an enrolled resident".
const SAME_PERSON: &[&str] = &[
    "registry.probable_duplicate",
    "registry.already_enrolled",
    "registry.family_name_changed",
    "registry.name_order_swapped",
];

#[test]
fn duplicates_are_flagged_and_twins_and_namesakes_are_not() {
    let engine = std::env::var("KENSA_STREAM_RULES")
        .map_or_else(|_| kensa::Engine::builtin(), kensa::Engine::from_path)
        .unwrap()
        .with_today(kensa::Date::parse("2026-11-27").unwrap());
    let (registry, stream) = generator::identity_stream(16, 3000, 4000);
    let registry = engine.memory_registry(registry);
    // kind → (records, flagged as an enrolled resident)
    let mut counts: BTreeMap<Identity, (usize, usize)> = BTreeMap::new();
    let mut missed = Vec::new();
    for (record, kind) in &stream {
        let v = engine.evaluate_in(record, &registry).unwrap();
        let flagged = v.findings.iter().any(|f| SAME_PERSON.contains(&f.rule.as_str()));
        let c = counts.entry(*kind).or_default();
        c.0 += 1;
        c.1 += usize::from(flagged);
        if flagged != kind.is_duplicate() && missed.len() < 5 {
            missed.push(format!(
                "{}: {} → {:?}",
                kind.name(),
                record,
                v.findings.iter().map(|f| &f.rule).collect::<Vec<_>>()
            ));
        }
    }
    eprintln!("{:<36} {:>7} {:>8}", "kind", "records", "flagged");
    for (kind, (n, f)) in &counts {
        eprintln!("{:<36} {n:>7} {f:>8}", kind.name());
    }
    let sum = |dup: bool| {
        counts.iter().filter(|(k, _)| k.is_duplicate() == dup).fold((0, 0), |(n, f), (_, c)| (n + c.0, f + c.1))
    };
    let (dups, found) = sum(true);
    let (_, new_flagged) = sum(false);
    let (twins, twins_flagged) = counts
        .iter()
        .filter(|(k, _)| matches!(k, Identity::Twin | Identity::Namesake))
        .fold((0, 0), |(n, f), (_, c)| (n + c.0, f + c.1));
    let recall = found as f64 / dups as f64;
    let precision = found as f64 / (found + new_flagged) as f64;
    let false_flags = twins_flagged as f64 / twins as f64;
    eprintln!("recall {recall:.4}, precision {precision:.4}, false flags on twins and namesakes {false_flags:.4}");
    for m in &missed {
        eprintln!("  {m}");
    }
    assert!(counts.len() == Identity::ALL.len() && counts.values().all(|c| c.0 >= 400), "{counts:?}");
    assert!(recall >= 0.99, "recall {recall:.4} < 0.99: {missed:#?}");
    assert!(false_flags <= 0.01, "false flags {false_flags:.4} > 0.01: {missed:#?}");
}
