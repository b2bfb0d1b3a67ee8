//! Whether a registry can still be trusted: row checksums of the embedded store, and the one
//! message that says a registry is damaged and what to do about it.
//!
//! Input: stored rows. Output: checksums and messages. It reads nothing itself: each store
//! checks its own rows (`sqlite.rs` on every lookup and in [`super::SqliteRegistry::stats`],
//! `postgres.rs` in its own checks) and reports what it found here.

// The helpers of the stores; without a store feature only the shared types are used.
#![cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]

use super::Fnv1a;

/// The checksum of a stored record: its uid and its JSON text, as stored.
pub(crate) fn record_sum(uid: &str, json: &str) -> i64 {
    Fnv1a::new().write(b"record\0").write(uid.as_bytes()).write(b"\0").write(json.as_bytes()).finish() as i64
}

/// The checksum of a stored key row: the block, the key text and the row id of its record.
pub(crate) fn key_sum(block: i64, key: &str, record: i64) -> i64 {
    Fnv1a::new()
        .write(b"key\0")
        .write(&block.to_le_bytes())
        .write(key.as_bytes())
        .write(b"\0")
        .write(&record.to_le_bytes())
        .finish() as i64
}

/// The message of a registry found damaged while it was used: where, what, and what to do.
pub(crate) fn damaged(location: &str, what: &str) -> String {
    format!(
        "`{location}`: the registry is damaged: {what}; check all of it with `kensa registry stats --db {location}`, \
         then {}",
        damage_advice(location)
    )
}

/// What to do about a damaged registry at `location` (a path, or a URL without its password).
pub fn damage_advice(location: &str) -> String {
    format!(
        "rebuild its keys from the records with `kensa registry rebuild --db {location}`; when records are damaged \
         (rebuild says so), restore the registry from a backup"
    )
}

/// A finding: `1 key row does not … (block 0 of …)`, `2 key rows do not … (the first: …)`.
pub(crate) fn finding(n: u64, one: &str, many: &str, first: &str) -> String {
    if n == 1 { format!("1 {one} ({first})") } else { format!("{n} {many} (the first: {first})") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_changed_byte_changes_a_checksum() {
        let json = r#"{"id":"P1","my_number":"081016287970"}"#;
        let sum = record_sum("id:P1", json);
        for i in 0..json.len() {
            let mut bytes = json.as_bytes().to_vec();
            if let Some(b) = bytes.get_mut(i) {
                *b ^= 1;
            }
            let changed = String::from_utf8_lossy(&bytes);
            assert_ne!(record_sum("id:P1", &changed), sum, "byte {i}");
        }
        assert_ne!(record_sum("id:P2", json), sum);
        let key = key_sum(0, "081016287970", 1620);
        assert_ne!(key_sum(0, "081016287971", 1620), key);
        assert_ne!(key_sum(1, "081016287970", 1620), key);
        assert_ne!(key_sum(0, "081016287970", 1621), key);
    }
}
