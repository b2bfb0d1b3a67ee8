//! `kensa dedup` and `kensa link` keep their profiles in a `ProfileStore` and their pairs as
//! positions (`Engine::dedup_store`, `Engine::link_store`): the same pairs, in the same order,
//! with the same probabilities and evidence to the last bit as the per-profile path
//! (`Engine::dedup`, `Engine::link`), on generated records with duplicates and the standard
//! rules (whose name comparison is weighed by how common the name is).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../benches/common/gen.rs"]
#[allow(dead_code, reason = "the generator has more than these tests use")]
mod generator;
#[path = "common/records.rs"]
mod records;

use kensa::{Engine, MatchProfile, Pair, ProfileStore};
use serde_json::json;

/// `n` generated records, a fifth of them another enrollment of an earlier person.
fn generated(n: usize, seed: u64) -> Vec<serde_json::Value> {
    let config = generator::Config { duplicate_rate: 0.2, ..generator::Config::default() };
    let mut g = generator::Generator::new(seed, config);
    (0..n).map(|_| g.value()).collect()
}

fn profiles(engine: &Engine, records: &[serde_json::Value]) -> Vec<MatchProfile> {
    records.iter().map(|r| engine.match_profile(r).unwrap()).collect()
}

fn store(profiles: &[MatchProfile]) -> ProfileStore {
    let mut store = ProfileStore::new();
    for p in profiles {
        store.push(p.clone());
    }
    store
}

/// Probabilities and weights compared bit for bit (`Pair`'s `==` would take NaN for unequal).
fn assert_same(got: &[Pair], want: &[Pair]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!((&g.left, &g.right), (&w.left, &w.right));
        assert_eq!(g.probability.to_bits(), w.probability.to_bits(), "{g:?} vs {w:?}");
        assert_eq!(g.to_json(), w.to_json());
        for (a, b) in g.comparisons.iter().zip(&w.comparisons) {
            assert_eq!((&a.name, &a.level), (&b.name, &b.level));
            assert_eq!(a.weight.to_bits(), b.weight.to_bits());
            assert_eq!(a.frequency_adjustment.map(f64::to_bits), b.frequency_adjustment.map(f64::to_bits));
        }
    }
}

#[test]
fn a_store_gives_back_the_profiles_pushed() {
    let engine = records::engine();
    let mut records = generated(300, 7);
    records[5]["id"] = json!(null);
    records[9]["id"] = json!("");
    let profiles = profiles(&engine, &records);
    let store = store(&profiles);
    assert_eq!(store.len(), profiles.len());
    assert!(!store.is_empty() && ProfileStore::new().is_empty());
    for (i, p) in profiles.iter().enumerate() {
        assert_eq!(store.profile(i).as_ref(), Some(p), "profile {i}");
        assert_eq!(store.id(i), p.id());
    }
    assert_eq!(store.id(5), None);
    assert_eq!(store.id(9), Some(""));
    assert!(store.profile(profiles.len()).is_none());
}

#[test]
fn dedup_of_a_store_is_dedup_of_the_profiles() {
    let engine = records::engine();
    let mut records = generated(3000, 11);
    // Two records that share an id are never paired with each other; pairs of equal ids keep
    // the scan's order.
    records[40]["id"] = records[41]["id"].clone();
    records[100]["id"] = records[7]["id"].clone();
    let mut profiles = profiles(&engine, &records);
    let mut store = store(&profiles);
    for threshold in [0.5, 0.0] {
        let want = engine.dedup(&mut profiles, threshold);
        let got = engine.dedup_store(&mut store, threshold);
        assert_eq!((got.compared, got.crowded_keys), (want.compared, want.crowded_keys));
        let pairs: Vec<Pair> = got.pairs.iter().map(|p| engine.dedup_pair_at(&store, p).unwrap()).collect();
        assert_same(&pairs, &want.pairs);
        for (scored, pair) in got.pairs.iter().zip(&pairs) {
            assert_eq!(scored.probability.to_bits(), pair.probability.to_bits());
            assert!(scored.left < scored.right);
        }
        assert!(want.pairs.len() > 300, "{} pairs", want.pairs.len());
        // The weighing by the file's own name counts is in the evidence.
        assert!(want.pairs.iter().flat_map(|p| &p.comparisons).any(|c| c.frequency_adjustment.is_some()));
    }
}

#[test]
fn link_of_stores_is_link_of_the_profiles() {
    let engine = records::engine();
    let records = generated(2400, 13);
    let (registry, rest) = records.split_at(1200);
    let registry = profiles(&engine, registry);
    let mut linked = profiles(&engine, rest);
    let (registry_store, mut linked_store) = (store(&registry), store(&linked));
    for (threshold, best) in [(0.5, false), (0.0, false), (0.0, true)] {
        let want = engine.link(&registry, &mut linked, threshold, best);
        let got = engine.link_store(&registry_store, &mut linked_store, threshold, best);
        assert_eq!((got.compared, got.crowded_keys, got.linked), (want.compared, want.crowded_keys, want.linked));
        let pairs: Vec<Pair> =
            got.pairs.iter().map(|p| engine.link_pair_at(&registry_store, &linked_store, p).unwrap()).collect();
        assert_same(&pairs, &want.pairs);
        assert!(want.linked > 100, "{} linked", want.linked);
    }
}
