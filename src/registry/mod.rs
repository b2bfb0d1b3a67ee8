//! Where enrolled records live: the storage boundary.
//!
//! A [`Registry`] answers one question for the evaluator: which enrolled records share a
//! blocking key with this one? Keys are computed by the compiled rules (the `block on …` lines
//! of the `match` block), never by the store, so any store — in memory, an embedded database,
//! a server database — sees the same keys. Nothing in the rule layer depends on how a store
//! keeps its records.

use std::collections::HashMap;
use std::sync::Arc;

/// A store of enrolled records, indexed by blocking keys.
pub trait Registry: Send + Sync {
    /// Records that share at least one `(block index, key)` with `keys`, each at most once,
    /// in a stable order. At most [`MAX_PER_KEY`] records are taken from one key.
    fn candidates(&self, keys: &[(u32, String)]) -> Result<Vec<Arc<serde_json::Value>>, RegistryError>;
    /// Number of records.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A key shared by more records than this (a very common name) contributes only its first
/// records: comparing thousands of namesakes per record would make a clerk wait.
pub const MAX_PER_KEY: usize = 500;

/// A registry that could not answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("registry: {0}")]
pub struct RegistryError(pub String);

/// Records held in memory with a hash index per blocking key (`--registry file.jsonl`).
#[derive(Debug, Default)]
pub struct MemoryRegistry {
    records: Vec<Arc<serde_json::Value>>,
    index: HashMap<(u32, String), Vec<u32>>,
}

impl MemoryRegistry {
    pub fn new() -> Self {
        MemoryRegistry::default()
    }

    /// Add a record with the keys the rules computed for it.
    pub fn insert(&mut self, record: serde_json::Value, keys: Vec<(u32, String)>) {
        let Ok(n) = u32::try_from(self.records.len()) else { return };
        self.records.push(Arc::new(record));
        for k in keys {
            self.index.entry(k).or_default().push(n);
        }
    }
}

impl Registry for MemoryRegistry {
    fn candidates(&self, keys: &[(u32, String)]) -> Result<Vec<Arc<serde_json::Value>>, RegistryError> {
        let mut seen: Vec<u32> = Vec::new();
        for k in keys {
            if let Some(ids) = self.index.get(k) {
                for &i in ids.iter().take(MAX_PER_KEY) {
                    if !seen.contains(&i) {
                        seen.push(i);
                    }
                }
            }
        }
        seen.sort_unstable();
        Ok(seen.into_iter().filter_map(|i| self.records.get(i as usize).cloned()).collect())
    }

    fn len(&self) -> usize {
        self.records.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn candidates_share_a_key_and_come_once() {
        let mut r = MemoryRegistry::new();
        r.insert(serde_json::json!({"id": "P1"}), vec![(0, "a".into()), (1, "x".into())]);
        r.insert(serde_json::json!({"id": "P2"}), vec![(0, "b".into())]);
        r.insert(serde_json::json!({"id": "P3"}), vec![(0, "a".into())]);
        let ids = |keys: &[(u32, String)]| -> Vec<String> {
            r.candidates(keys).unwrap().iter().map(|v| v["id"].as_str().unwrap().to_string()).collect()
        };
        assert_eq!(ids(&[(0, "a".into()), (1, "x".into())]), ["P1", "P3"]);
        assert_eq!(ids(&[(1, "a".into())]), Vec::<String>::new());
        assert_eq!(r.len(), 3);
    }
}
