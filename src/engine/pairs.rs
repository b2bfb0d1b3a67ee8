//! Batch dedup and link as `kensa dedup` / `kensa link` write them, for every caller (the CLI,
//! the Python package, a Spark job): the scored pairs with their ids and weights, in one
//! order, and one JSON line per pair.

use super::{Engine, MatchProfile, PairScan};
use crate::eval::Comparison;

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

/// What a dedup or link run found.
#[derive(Clone, Debug, Default)]
pub struct PairRun {
    pub pairs: Vec<Pair>,
    /// Pairs compared (sharing a blocking key).
    pub compared: u64,
    /// Blocking keys shared by more than `registry::MAX_PER_KEY` records (within them a record
    /// was compared with that many of their records only).
    pub crowded_keys: usize,
    /// Link: records with at least one pair.
    pub linked: usize,
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
        let m = self.compare_profiles(a, b)?;
        let (x, y) = (a.id().unwrap_or_default(), b.id().unwrap_or_default());
        let (left, right) = if x < y { (x, y) } else { (y, x) };
        Some(Pair {
            left: left.to_string(),
            right: right.to_string(),
            probability: m.probability,
            comparisons: m.comparisons,
        })
    }

    /// A scored pair of a link: `left` the record's id, `right` the registry record's.
    pub fn link_pair(&self, record: &MatchProfile, enrolled: &MatchProfile) -> Option<Pair> {
        let m = self.compare_profiles(record, enrolled)?;
        Some(Pair {
            left: record.id().unwrap_or_default().to_string(),
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
        let PairScan { pairs, compared, crowded_keys } = self.duplicate_pairs(profiles, threshold);
        let mut out: Vec<Pair> =
            crate::par::map(&pairs, |p| self.dedup_pair(profiles.get(p.left)?, profiles.get(p.right)?))
                .into_iter()
                .flatten()
                .collect();
        crate::par::sort_by(&mut out, |a, b| (&a.left, &a.right).cmp(&(&b.left, &b.right)));
        PairRun { pairs: out, compared, crowded_keys, linked: 0 }
    }

    /// `kensa link`: weigh `records` by how common their values are in `registry`, compare each
    /// with the registry records sharing a blocking key; per record (in input order) its pairs at
    /// or above `threshold`, most probable first (ties: the smaller registry id), only the first
    /// with `best`.
    pub fn link(&self, registry: &[MatchProfile], records: &mut [MatchProfile], threshold: f64, best: bool) -> PairRun {
        let counts = self.term_counts(registry);
        self.weigh_by_frequency(records, &counts);
        let scan = self.link_pairs(registry, records, threshold);
        let mut pairs: Vec<Pair> = Vec::with_capacity(scan.pairs.len());
        let mut linked = 0;
        for group in scan.pairs.chunk_by(|a, b| a.left == b.left) {
            let Some(record) = group.first().and_then(|p| records.get(p.left)) else { continue };
            let mut links: Vec<Pair> =
                group.iter().filter_map(|p| self.link_pair(record, registry.get(p.right)?)).collect();
            links.sort_by(|a, b| b.probability.total_cmp(&a.probability).then_with(|| a.right.cmp(&b.right)));
            if best {
                links.truncate(1);
            }
            linked += usize::from(!links.is_empty());
            pairs.extend(links);
        }
        PairRun { pairs, compared: scan.compared, crowded_keys: scan.crowded_keys, linked }
    }
}
