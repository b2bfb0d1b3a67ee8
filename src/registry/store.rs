//! What every store shares: how a store is opened, what an import or a key rebuild did, what a
//! store holds, and the messages about stale keys. The stores themselves (`sqlite.rs`,
//! `postgres.rs`) are features; these types are not, so code that reports on a store builds
//! without any of them.

// The helpers of the stores; without a store feature only the shared types are used.
#![cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]

use std::path::Path;

use super::KeyVersion;

/// How a registry file is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Lookups only (`kensa eval --registry`); stale keys are an error.
    ReadOnly,
    /// Lookups, imports and enrollments; the file is created when missing and stale keys are
    /// rebuilt when it is opened.
    ReadWrite,
}

/// Computes the blocking keys of a stored record (the engine's `blocking_keys`).
pub type KeyFn<'a> = &'a (dyn Fn(&serde_json::Value) -> Vec<(u32, String)> + Sync);

/// Keys that were rebuilt when the registry was opened (or by [`SqliteRegistry::rebuild`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rebuilt {
    pub records: u64,
    /// Why, as a clause: `the rules or normalization data changed (rules_fingerprint 1a2b… →
    /// 3c4d…)`, `the registry layout changed …`, or that a rebuild was asked for.
    pub reason: String,
}

/// What an import batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Inserted {
    pub inserted: u64,
    /// Entries whose uid was already stored: skipped, the stored record is kept.
    pub skipped: u64,
}

/// What a registry holds (`kensa registry stats`).
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub records: u64,
    /// `(block index, number of keys)`.
    pub keys_per_block: Vec<(u32, u64)>,
    /// The stored key version entries, `(name, value)`.
    pub meta: Vec<(String, String)>,
    /// Size of the database file plus its write-ahead log, in bytes (on PostgreSQL: of
    /// kensa's tables and their indexes).
    pub file_bytes: u64,
    /// The crowded keys: `(block index, key, records sharing it)` of every key shared by more
    /// than [`super::MAX_PER_KEY`] records, most shared first. A lookup compares only the
    /// closest of their records, and says so.
    pub crowded: Vec<(u32, String, u64)>,
    /// What is damaged, one finding per entry; empty when the check found nothing. SQLite:
    /// `integrity_check`, and the checksum of every record and key row; PostgreSQL (which
    /// checks its own pages): every key row has its record, every record is JSON.
    pub damage: Vec<String>,
}

/// The query that lists crowded keys, for both stores: the key table and how its keys sort
/// bytewise (`key` in SQLite, `key COLLATE "C"` in PostgreSQL), so both list them alike.
pub(super) fn crowded_keys_sql(table: &str, key_bytewise: &str) -> String {
    format!(
        "SELECT block, key, count(*) AS n FROM {table} GROUP BY block, key HAVING count(*) > {} \
         ORDER BY n DESC, block, {key_bytewise}",
        super::MAX_PER_KEY
    )
}

impl Stats {
    /// The stored key version, if the file has one.
    pub fn key_version(&self) -> Option<KeyVersion> {
        let get = |n: &str| self.meta.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        Some(KeyVersion {
            rules: get("rules_fingerprint")?,
            variant_table: get("variant_table_version")?,
            postal_data: get("postal_data_version")?,
            kensa: get("kensa_version")?,
        })
    }
}

/// Whether a file is a SQLite database (by its first bytes).
pub fn is_sqlite_file(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 16];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && &head == b"SQLite format 3\0"
}

/// Why a registry's keys cannot be used for lookups with other rules, and how to rebuild them.
pub(super) fn stale_keys(diff: &str, db: &str) -> String {
    format!(
        "the registry's blocking keys were built by other rules or normalization data ({diff}); \
         rebuild them with `kensa registry rebuild --db {db}` (with the same --rules as this command)"
    )
}

/// Why keys were rebuilt: the stored version differed (`diff`), or a rebuild was asked for.
pub(super) fn rebuild_reason(diff: Option<String>) -> String {
    match diff {
        Some(diff) => format!("the rules or normalization data changed ({diff})"),
        None => String::from("a rebuild was asked for"),
    }
}

/// The entries of `version` that differ from the stored ones, or `None` when all agree.
pub(super) fn version_diff(stored: &[(String, String)], version: &KeyVersion) -> Option<String> {
    let diffs: Vec<String> = version
        .entries()
        .iter()
        .filter_map(|(name, want)| {
            let have = stored.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
            (have != Some(*want)).then(|| format!("{name} {} → {want}", have.unwrap_or("none")))
        })
        .collect();
    (!diffs.is_empty()).then(|| diffs.join(", "))
}
