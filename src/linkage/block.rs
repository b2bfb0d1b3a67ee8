//! Blocking for batch jobs: which pairs of records to compare.
//!
//! Input → output: the blocking keys of every record → for one record, the records that share
//! a key with it. Pure; knows nothing about what the keys mean (the rules' `block on …` lines
//! compute them).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Records indexed by their blocking keys (`(index of the block line, key text)`).
///
/// Each key is reduced to a 64-bit hash; the records of one hash are a sorted run of
/// `members`. Two different keys with the same hash (about one chance in 10^6 for 5 million
/// keys) would only add candidates, which are then compared like any other: never a missed
/// pair, never a wrong probability.
pub struct BlockIndex {
    runs: HashMap<u64, (u32, u32), BuildHasherDefault<Prehashed>>,
    members: Vec<u32>,
    /// A key contributes at most this many records to one query (a very common name would
    /// otherwise make every query compare thousands of namesakes).
    cap: usize,
}

/// The keys of [`BlockIndex::runs`] are hashes already.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// FNV-1a over the block index and the key text: two records share a key when these agree
/// (a distributed job joins on it to form the same candidate pairs as [`BlockIndex`]).
pub fn key_hash(block: u32, key: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in block.to_le_bytes().iter().chain(key.as_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A pair of records and its match probability: `left` and `right` are positions in the
/// caller's slices.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoredPair {
    pub left: usize,
    pub right: usize,
    pub probability: f64,
}

impl BlockIndex {
    /// Index records `0..` by their keys (sorted on the current rayon pool).
    pub fn new<'k>(keys: impl IntoIterator<Item = &'k [u64]>) -> BlockIndex {
        BlockIndex::build(keys, 1)
    }

    /// [`BlockIndex::new`] for pairs within the indexed records (dedup): a key that only one
    /// record has pairs it with nobody and is not kept (most keys, as most people are unique).
    pub fn shared<'k>(keys: impl IntoIterator<Item = &'k [u64]>) -> BlockIndex {
        BlockIndex::build(keys, 2)
    }

    /// An index of the keys that at least `min` records have.
    fn build<'k>(keys: impl IntoIterator<Item = &'k [u64]>, min: usize) -> BlockIndex {
        let mut entries: Vec<(u64, u32)> = Vec::new();
        for (i, ks) in keys.into_iter().enumerate() {
            let Ok(i) = u32::try_from(i) else { break };
            entries.extend(ks.iter().map(|&hash| (hash, i)));
        }
        crate::par::sort_unstable(&mut entries);
        // A record with the same key twice is listed once.
        entries.dedup();
        let kept = |run: &&[(u64, u32)]| run.len() >= min;
        let keys = entries.chunk_by(|a, b| a.0 == b.0).filter(kept).count();
        let mut runs = HashMap::with_capacity_and_hasher(keys, BuildHasherDefault::default());
        let mut members = Vec::with_capacity(entries.len());
        for run in entries.chunk_by(|a, b| a.0 == b.0).filter(kept) {
            let (Some(first), Ok(start), Ok(len)) =
                (run.first(), u32::try_from(members.len()), u32::try_from(run.len()))
            else {
                break;
            };
            runs.insert(first.0, (start, len));
            members.extend(run.iter().map(|(_, i)| *i));
        }
        members.shrink_to_fit();
        BlockIndex { runs, members, cap: usize::MAX }
    }

    /// Each key contributes at most `cap` records to a query.
    pub fn with_cap(mut self, cap: usize) -> BlockIndex {
        self.cap = cap;
        self
    }

    /// How many keys are shared by more records than the cap: within them a query sees only
    /// part of the key's records.
    pub fn crowded(&self) -> usize {
        self.runs.values().filter(|(_, len)| *len as usize > self.cap).count()
    }

    /// The records sharing a key with `keys`, each once, ascending, into `out` (cleared first).
    /// With `after`, only records after that position (each unordered pair of one file is
    /// then seen once); each key contributes at most `cap` records.
    pub fn candidates(&self, keys: &[u64], after: Option<u32>, out: &mut Vec<u32>) {
        out.clear();
        for hash in keys {
            let Some(&(start, len)) = self.runs.get(hash) else { continue };
            let run = self.members.get(start as usize..(start as usize).saturating_add(len as usize)).unwrap_or(&[]);
            let from = after.map_or(0, |a| run.partition_point(|&j| j <= a));
            out.extend(run.get(from..).unwrap_or(&[]).iter().take(self.cap));
        }
        out.sort_unstable();
        out.dedup();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(list: &[(u32, &str)]) -> Vec<u64> {
        list.iter().map(|(b, s)| key_hash(*b, s)).collect()
    }

    #[test]
    fn each_pair_once_and_capped() {
        let keys = [k(&[(0, "a"), (1, "x")]), k(&[(0, "a")]), k(&[(1, "x"), (0, "b")]), k(&[(0, "a"), (1, "x")])];
        let index = BlockIndex::new(keys.iter().map(Vec::as_slice));
        let mut out = Vec::new();
        index.candidates(&keys[0], Some(0), &mut out);
        assert_eq!(out, [1, 2, 3]);
        index.candidates(&keys[1], Some(1), &mut out);
        assert_eq!(out, [3]);
        index.candidates(&keys[3], Some(3), &mut out);
        assert!(out.is_empty());
        // The same key text under another block line is another key.
        index.candidates(&k(&[(1, "a")]), None, &mut out);
        assert!(out.is_empty());
        let capped = BlockIndex::new(keys.iter().map(Vec::as_slice)).with_cap(1);
        capped.candidates(&keys[0], Some(0), &mut out);
        assert_eq!(out, [1, 2]);
        // Within one file, a key only one record has finds nobody, and is not kept.
        let shared = BlockIndex::shared(keys.iter().map(Vec::as_slice));
        shared.candidates(&keys[0], Some(0), &mut out);
        assert_eq!(out, [1, 2, 3]);
        shared.candidates(&k(&[(0, "b")]), None, &mut out);
        assert!(out.is_empty());
        assert_eq!(shared.runs.len(), 2);
    }
}
