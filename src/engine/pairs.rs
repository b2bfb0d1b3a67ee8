//! Batch dedup and link as `kensa dedup` / `kensa link` write them, for every caller (the CLI,
//! the Python package, a Spark job): the scored pairs with their ids and weights, in one
//! order, and one JSON line per pair.

use super::{Engine, MatchProfile, PairScan};
use crate::eval::profile::{ProfileRef, ProfileStore, Profiles};
use crate::eval::{self, Comparison, TermCounts};
use crate::linkage::block::ScoredPair;

/// A pair of records at or above the threshold, with what each comparison gave.
#[derive(Clone, Debug, PartialEq)]
pub struct Pair {
    /// Dedup: the smaller id of the two; link: the record's id.
    pub left: String,
    /// Dedup: the larger id; link: the registry record's id.
    pub right: String,
    pub probability: f64,
    /// In the order of the `compare` lines.
    pub comparisons: Vec<Comparison>,
}

/// What a dedup or link run found: its pairs as [`Pair`]s, or as [`ScoredPair`]s (positions
/// in a [`ProfileStore`], [`Engine::dedup_store`] and [`Engine::link_store`]).
#[derive(Clone, Debug)]
pub struct PairRun<P = Pair> {
    pub pairs: Vec<P>,
    /// Pairs compared (sharing a blocking key).
    pub compared: u64,
    /// Blocking keys shared by more than `registry::MAX_PER_KEY` records (within them a record
    /// was compared with that many of their records only).
    pub crowded_keys: usize,
    /// Link: records with at least one pair.
    pub linked: usize,
}

impl<P> Default for PairRun<P> {
    fn default() -> Self {
        PairRun { pairs: Vec::new(), compared: 0, crowded_keys: 0, linked: 0 }
    }
}

impl Pair {
    /// One JSONL line (without the newline): `{"left","right","probability","weights":
    /// {comparison:{"level","weight","frequency_adjustment"?}}}`, comparisons in declaration
    /// order, the probability to 6 decimals and weights to 3. What JSON leaves raw in an id (C1
    /// controls, bidi overrides) is escaped too.
    pub fn to_json(&self) -> String {
        let mut out = format!(
            "{{\"left\":{},\"right\":{},\"probability\":{},\"weights\":",
            quote(&self.left),
            quote(&self.right),
            number(round(self.probability, 6))
        );
        out.push_str(&self.weights_json());
        out.push('}');
        out
    }

    /// The `weights` object of [`Pair::to_json`].
    pub fn weights_json(&self) -> String {
        let mut out = String::from("{");
        for (i, c) in self.comparisons.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let level = c.level.as_deref().map_or_else(|| String::from("null"), quote);
            out.push_str(&format!("{}:{{\"level\":{level},\"weight\":{}", quote(&c.name), number(round(c.weight, 3))));
            if let Some(a) = c.frequency_adjustment {
                out.push_str(&format!(",\"frequency_adjustment\":{}", number(round(a, 3))));
            }
            out.push('}');
        }
        out.push('}');
        out
    }
}

fn quote(s: &str) -> String {
    crate::display::json_text(&s)
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

fn number(x: f64) -> String {
    serde_json::Number::from_f64(x).map_or_else(|| String::from("null"), |n| n.to_string())
}

impl Engine {
    /// A scored pair of a dedup, ids in `left < right` order; `None` without a `match` block.
    pub fn dedup_pair(&self, a: &MatchProfile, b: &MatchProfile) -> Option<Pair> {
        self.pair_within(a.view(), b.view())
    }

    /// A scored pair of a link: `left` the record's id, `right` the registry record's.
    pub fn link_pair(&self, record: &MatchProfile, enrolled: &MatchProfile) -> Option<Pair> {
        self.pair_between(record.view(), enrolled.view())
    }

    /// [`Engine::dedup_pair`] of a pair of [`Engine::dedup_store`] (`None` also when a position
    /// is not in `profiles`).
    pub fn dedup_pair_at(&self, profiles: &ProfileStore, pair: &ScoredPair) -> Option<Pair> {
        self.pair_within(profiles.at(pair.left)?, profiles.at(pair.right)?)
    }

    /// [`Engine::link_pair`] of a pair of [`Engine::link_store`] (`None` also when a position
    /// is not in `records` or `registry`).
    pub fn link_pair_at(&self, registry: &ProfileStore, records: &ProfileStore, pair: &ScoredPair) -> Option<Pair> {
        self.pair_between(records.at(pair.left)?, registry.at(pair.right)?)
    }

    fn pair_within(&self, a: ProfileRef<'_>, b: ProfileRef<'_>) -> Option<Pair> {
        let m = eval::compare_profiles(self.program.matching.as_ref()?, a, b);
        let (x, y) = (a.id.unwrap_or_default(), b.id.unwrap_or_default());
        let (left, right) = if x < y { (x, y) } else { (y, x) };
        Some(Pair {
            left: left.to_string(),
            right: right.to_string(),
            probability: m.probability,
            comparisons: m.comparisons,
        })
    }

    fn pair_between(&self, record: ProfileRef<'_>, enrolled: ProfileRef<'_>) -> Option<Pair> {
        let m = eval::compare_profiles(self.program.matching.as_ref()?, record, enrolled);
        Some(Pair {
            left: record.id.unwrap_or_default().to_string(),
            right: m.id,
            probability: m.probability,
            comparisons: m.comparisons,
        })
    }

    /// `kensa dedup`: weigh `profiles` by how common their values are among themselves, compare
    /// every pair sharing a blocking key, keep those at or above `threshold`; each unordered
    /// pair once, `left < right` by id, sorted by `(left, right)`.
    pub fn dedup(&self, profiles: &mut [MatchProfile], threshold: f64) -> PairRun {
        let counts = self.term_counts(profiles);
        self.weigh_by_frequency(profiles, &counts);
        let profiles: &[MatchProfile] = profiles;
        let run = self.dedup_scored(profiles, threshold);
        let pairs = crate::par::map(&run.pairs, |p| self.pair_within(profiles.at(p.left)?, profiles.at(p.right)?));
        PairRun {
            pairs: pairs.into_iter().flatten().collect(),
            compared: run.compared,
            crowded_keys: run.crowded_keys,
            linked: 0,
        }
    }

    /// [`Engine::dedup`] of a [`ProfileStore`], for a batch too large to hold the evidence of
    /// every pair at once: the same pairs in the same order, as positions in `profiles` (`left`
    /// the earlier) with their probability; [`Engine::dedup_pair_at`] gives each its [`Pair`].
    pub fn dedup_store(&self, profiles: &mut ProfileStore, threshold: f64) -> PairRun<ScoredPair> {
        if let Some(m) = &self.program.matching {
            let counts = TermCounts::of_all(m, profiles);
            profiles.weigh(m, &counts);
        }
        self.dedup_scored(profiles, threshold)
    }

    /// The pairs of a dedup of weighed `profiles`, in [`Engine::dedup`]'s order.
    fn dedup_scored<P: Profiles + ?Sized>(&self, profiles: &P, threshold: f64) -> PairRun<ScoredPair> {
        let PairScan { mut pairs, compared, crowded_keys } = self.pairs_within(profiles, threshold);
        let id = |i: usize| profiles.at(i).and_then(|p| p.id).unwrap_or_default();
        let ids = |p: &ScoredPair| {
            let (x, y) = (id(p.left), id(p.right));
            if x < y { (x, y) } else { (y, x) }
        };
        // Stable: pairs of equal ids (records that share an id) stay in the scan's order.
        crate::par::sort_by(&mut pairs, |a, b| ids(a).cmp(&ids(b)));
        PairRun { pairs, compared, crowded_keys, linked: 0 }
    }

    /// `kensa link`: weigh `records` by how common their values are in `registry`, compare each
    /// with the registry records sharing a blocking key; per record (in input order) its pairs at
    /// or above `threshold`, most probable first (ties: the smaller registry id), only the first
    /// with `best`.
    pub fn link(&self, registry: &[MatchProfile], records: &mut [MatchProfile], threshold: f64, best: bool) -> PairRun {
        let counts = self.term_counts(registry);
        self.weigh_by_frequency(records, &counts);
        let records: &[MatchProfile] = records;
        let run = self.link_scored(registry, records, threshold, best);
        let pairs = crate::par::map(&run.pairs, |p| self.pair_between(records.at(p.left)?, registry.at(p.right)?));
        PairRun {
            pairs: pairs.into_iter().flatten().collect(),
            compared: run.compared,
            crowded_keys: run.crowded_keys,
            linked: run.linked,
        }
    }

    /// [`Engine::link`] of [`ProfileStore`]s: the same pairs in the same order, as positions
    /// (`left` in `records`, `right` in `registry`) with their probability;
    /// [`Engine::link_pair_at`] gives each its [`Pair`].
    pub fn link_store(
        &self,
        registry: &ProfileStore,
        records: &mut ProfileStore,
        threshold: f64,
        best: bool,
    ) -> PairRun<ScoredPair> {
        if let Some(m) = &self.program.matching {
            let counts = TermCounts::of_all(m, registry);
            records.weigh(m, &counts);
        }
        self.link_scored(registry, records, threshold, best)
    }

    /// The pairs of a link of weighed `records`, in [`Engine::link`]'s order.
    fn link_scored<P: Profiles + ?Sized>(
        &self,
        registry: &P,
        records: &P,
        threshold: f64,
        best: bool,
    ) -> PairRun<ScoredPair> {
        let PairScan { mut pairs, compared, crowded_keys } = self.pairs_between(registry, records, threshold);
        let id = |i: usize| registry.at(i).and_then(|p| p.id).unwrap_or_default();
        // The scan's pairs are in record order; stable, as records are.
        crate::par::sort_by(&mut pairs, |a, b| {
            a.left.cmp(&b.left).then(b.probability.total_cmp(&a.probability)).then_with(|| id(a.right).cmp(id(b.right)))
        });
        if best {
            pairs.dedup_by_key(|p| p.left);
        }
        let linked = pairs.chunk_by(|a, b| a.left == b.left).count();
        PairRun { pairs, compared, crowded_keys, linked }
    }
}
