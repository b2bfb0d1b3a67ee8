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

/// About how many keys [`BlockIndex::build`] sorts at a time (16 MB of entries).
const PART: usize = 1 << 20;

/// Which of `parts` parts of the build a key hash belongs to (the hash's bits mixed, so that
/// the parts are about equal whatever bits of the hash vary most).
fn part_of(hash: u64, parts: u64) -> u64 {
    (hash.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % parts
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
    pub fn new<'k, I>(keys: I) -> BlockIndex
    where
        I: IntoIterator<Item = &'k [u64]>,
        I::IntoIter: Clone,
    {
        BlockIndex::build(keys, 1)
    }

    /// [`BlockIndex::new`] for pairs within the indexed records (dedup): a key that only one
    /// record has pairs it with nobody and is not kept (most keys, as most people are unique).
    pub fn shared<'k, I>(keys: I) -> BlockIndex
    where
        I: IntoIterator<Item = &'k [u64]>,
        I::IntoIter: Clone,
    {
        BlockIndex::build(keys, 2)
    }

    /// An index of the keys that at least `min` records have.
    fn build<'k, I>(keys: I, min: usize) -> BlockIndex
    where
        I: IntoIterator<Item = &'k [u64]>,
        I::IntoIter: Clone,
    {
        BlockIndex::build_in_parts(keys, min, PART)
    }

    /// [`BlockIndex::build`], sorting the keys a part at a time (each part the keys whose hash
    /// falls in it, about `part` of them), so that beyond the index itself only one part is
    /// held: `keys` is walked once to count them and once a part.
    fn build_in_parts<'k, I>(keys: I, min: usize, part: usize) -> BlockIndex
    where
        I: IntoIterator<Item = &'k [u64]>,
        I::IntoIter: Clone,
    {
        let keys = keys.into_iter();
        let total: usize = keys.clone().map(<[u64]>::len).sum();
        let parts = u64::try_from(total.div_ceil(part.max(1))).unwrap_or(u64::MAX).max(1);
        let mut entries: Vec<(u64, u32)> = Vec::new();
        let mut runs: Vec<(u64, (u32, u32))> = Vec::new();
        let mut members = Vec::new();
        for part in 0..parts {
            entries.clear();
            for (i, ks) in keys.clone().enumerate() {
                let Ok(i) = u32::try_from(i) else { break };
                entries.extend(ks.iter().filter(|&&hash| part_of(hash, parts) == part).map(|&hash| (hash, i)));
            }
            crate::par::sort_unstable(&mut entries);
            // A record with the same key twice is listed once.
            entries.dedup();
            for run in entries.chunk_by(|a, b| a.0 == b.0).filter(|run| run.len() >= min) {
                let (Some(first), Ok(start), Ok(len)) =
                    (run.first(), u32::try_from(members.len()), u32::try_from(run.len()))
                else {
                    break;
                };
                runs.push((first.0, (start, len)));
                members.extend(run.iter().map(|(_, i)| *i));
            }
        }
        let mut index = HashMap::with_capacity_and_hasher(runs.len(), BuildHasherDefault::default());
        index.extend(runs);
        members.shrink_to_fit();
        BlockIndex { runs: index, members, cap: usize::MAX }
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

    #[test]
    fn an_index_built_in_parts_finds_what_one_part_finds() {
        // 300 records with 3 keys each out of 40 texts: many shared keys, some twice in a record.
        let keys: Vec<Vec<u64>> = (0..300u32)
            .map(|i| k(&[(0, &(i % 40).to_string()), (1, &(i * 7 % 40).to_string()), (0, &(i % 13).to_string())]))
            .collect();
        for min in [1, 2] {
            let whole = BlockIndex::build_in_parts(keys.iter().map(Vec::as_slice), min, usize::MAX);
            let parts = BlockIndex::build_in_parts(keys.iter().map(Vec::as_slice), min, 7);
            assert_eq!(parts.runs.len(), whole.runs.len());
            assert_eq!(parts.members.len(), whole.members.len());
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for (i, ks) in keys.iter().enumerate() {
                for after in [None, Some(i as u32)] {
                    whole.candidates(ks, after, &mut a);
                    parts.candidates(ks, after, &mut b);
                    assert_eq!(a, b);
                }
            }
        }
        // The parts are about equal.
        let sizes = (0..8).map(|p| (0..8000u64).filter(|&h| part_of(key_hash(0, &h.to_string()), 8) == p).count());
        assert!(sizes.clone().all(|n| (800..1200).contains(&n)), "{:?}", sizes.collect::<Vec<_>>());
    }
}
