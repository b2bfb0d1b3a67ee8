//! Where enrolled records live: the storage boundary.
//!
//! A [`Registry`] answers one question for the evaluator: which enrolled records share a
//! blocking key with this one? Keys are computed by the compiled rules (the `block on …` lines
//! of the `match` block), never by the store, so any store — in memory, an embedded database,
//! a server database — sees the same keys. Nothing in the rule layer depends on how a store
//! keeps its records.

use std::borrow::Cow;
use std::sync::Arc;

mod integrity;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod store;

pub use integrity::damage_advice;
#[cfg(feature = "postgres")]
pub use postgres::{PgOptions, PostgresRegistry};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteRegistry;
pub use store::{Access, Inserted, KeyFn, Rebuilt, Stats, is_sqlite_file};

/// A store of enrolled records, indexed by blocking keys.
pub trait Registry: Send + Sync {
    /// Records that share at least one `(block index, key)` with `keys`: each record once, in
    /// enrollment order, with the keys it shares; for each key at most its first
    /// [`SCAN_PER_KEY`] records. A key shared by more than [`MAX_PER_KEY`] records is listed in
    /// [`Lookup::crowded`] (the engine then keeps the closest of them, see
    /// `Engine::evaluate_in`).
    fn candidates(&self, keys: &[(u32, String)]) -> Result<Lookup, RegistryError>;
    /// Number of records.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Keys from this block index on are *term keys*: `(TERM_BLOCK + i, value)` is the value that
/// the `i`-th `compare` line weighs by its frequency. A store counts them (how many records
/// have each value) instead of indexing records by them, and a lookup answers them with the
/// counts ([`Lookup::terms`]).
pub const TERM_BLOCK: u32 = 1 << 24;

/// Whether a key's block index is that of a term key.
pub fn is_term(block: u32) -> bool {
    block >= TERM_BLOCK
}

/// `(block index, key)` pairs: the keys of a record or of a query.
pub type Keys = Vec<(u32, String)>;

/// Keys of a query, borrowed from it or copied.
pub type KeysOf<'a> = Cow<'a, [(u32, String)]>;

/// The term keys and the blocking keys of a query, each in order. Keys as the engine computes
/// them (the blocking keys, then the term keys) are borrowed; any other order is copied.
pub fn split_terms(keys: &[(u32, String)]) -> (KeysOf<'_>, KeysOf<'_>) {
    let first_term = keys.iter().position(|(b, _)| is_term(*b)).unwrap_or(keys.len());
    match keys.split_at_checked(first_term) {
        Some((blocks, terms)) if terms.iter().all(|(b, _)| is_term(*b)) => {
            (Cow::Borrowed(terms), Cow::Borrowed(blocks))
        }
        _ => {
            let (terms, blocks): (Keys, Keys) = keys.iter().cloned().partition(|(b, _)| is_term(*b));
            (Cow::Owned(terms), Cow::Owned(blocks))
        }
    }
}

/// How common a value is in a store: what a `frequency` comparison weighs agreement by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TermStat {
    /// The term key's block index ([`TERM_BLOCK`] + the comparison's index).
    pub term: u32,
    /// Records with this value.
    pub count: u64,
    /// Records with any value for this comparison.
    pub total: u64,
    /// Σ count² over all values: `squares / total²` is the chance that two records picked at
    /// random agree.
    pub squares: u64,
}

/// A key shared by more records than this (a very common name, a large building, or someone
/// enrolling hundreds of records at one address to hide one among them) is *crowded*: of its
/// records the engine compares only the `MAX_PER_KEY` most similar to the record being judged,
/// and says so in a `registry.crowded_key` finding, so that a clerk never waits on thousands of
/// namesakes and a crowded key never hides a duplicate silently.
pub const MAX_PER_KEY: usize = 500;

/// Of a crowded key, a lookup reads this many records (the first enrolled) to choose the
/// [`MAX_PER_KEY`] closest; records of the key beyond them are not seen, and the finding says
/// how many there were.
pub const SCAN_PER_KEY: usize = 10 * MAX_PER_KEY;

/// What a lookup found: the candidates and the crowded keys.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lookup {
    /// Each record once, in enrollment order.
    pub records: Vec<Found>,
    /// The keys shared by more than [`MAX_PER_KEY`] records, in the order of the query.
    pub crowded: Vec<Crowded>,
    /// The counts of the query's term keys, in order.
    pub terms: Vec<TermStat>,
}

impl Lookup {
    /// The records alone.
    pub fn into_records(self) -> Vec<Arc<serde_json::Value>> {
        self.records.into_iter().map(|f| f.record).collect()
    }

    /// Collect a lookup from `(enrollment position, record, position of the key in the query)`
    /// rows, a record appearing once per key it shares, and the number of records of each key
    /// (only those over [`MAX_PER_KEY`] matter).
    pub fn from_rows(
        rows: impl IntoIterator<Item = (i64, Arc<serde_json::Value>, usize)>,
        keys: &[(u32, String)],
        counts: &[u64],
    ) -> Lookup {
        let mut by_seq: rustc_hash::FxHashMap<i64, usize> = rustc_hash::FxHashMap::default();
        let mut found: Vec<(i64, Found)> = Vec::new();
        for (seq, record, at) in rows {
            let bit = 1u64 << at.min(63);
            match by_seq.get(&seq) {
                Some(&i) => {
                    if let Some((_, f)) = found.get_mut(i) {
                        f.keys |= bit;
                    }
                }
                None => {
                    by_seq.insert(seq, found.len());
                    found.push((seq, Found { record, keys: bit, profile: None }));
                }
            }
        }
        found.sort_unstable_by_key(|(seq, _)| *seq);
        let crowded = keys
            .iter()
            .zip(counts)
            .filter(|(_, n)| **n > MAX_PER_KEY as u64)
            .map(|((block, _), n)| Crowded { block: *block, records: *n })
            .collect();
        Lookup { records: found.into_iter().map(|(_, f)| f).collect(), crowded, terms: Vec::new() }
    }
}

/// One candidate of a lookup. Two are equal when they are the same record found by the same
/// keys: the profile is what a store kept to save work, not part of what was found.
#[derive(Clone, Debug)]
pub struct Found {
    pub record: Arc<serde_json::Value>,
    /// Bit `i` is set when the record shares the `i`-th key of the query (the 64th bit stands
    /// for every key from the 64th on).
    pub keys: u64,
    /// What the rules' `match` block computed of the record when it was stored, when the
    /// store kept that ([`MemoryRegistry`] does): the evaluator then does not compute it again.
    pub profile: Option<Arc<crate::eval::StoredProfile>>,
}

impl PartialEq for Found {
    fn eq(&self, other: &Found) -> bool {
        self.record == other.record && self.keys == other.keys
    }
}

/// A key shared by more than [`MAX_PER_KEY`] records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crowded {
    /// The `block on …` line of the key.
    pub block: u32,
    /// How many enrolled records share it.
    pub records: u64,
}

/// A registry that could not answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("registry: {0}")]
pub struct RegistryError(pub String);

/// Which rule set and normalization data computed a store's blocking keys. A store keeps the
/// version it was built with; keys built by another version are stale and must be rebuilt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyVersion {
    /// Fingerprint of everything the `block on …` expressions depend on (`Engine::fingerprint`).
    pub rules: String,
    /// [`crate::normalize::variant::VARIANT_TABLE_VERSION`].
    pub variant_table: String,
    /// [`crate::normalize::postal::POSTAL_DATA_VERSION`].
    pub postal_data: String,
    /// The kensa version (its normalization code).
    pub kensa: String,
}

impl KeyVersion {
    /// `(name, value)` pairs, as a store records them.
    pub fn entries(&self) -> [(&'static str, &str); 4] {
        [
            ("rules_fingerprint", &self.rules),
            ("variant_table_version", &self.variant_table),
            ("postal_data_version", &self.postal_data),
            ("kensa_version", &self.kensa),
        ]
    }
}

/// A record ready to be stored: its identity, the record, and the keys the rules computed.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Unique in a store: `id:<record id>`, or `hash:<hash of the record>` without an id, so that
    /// importing the same file twice stores every record once.
    pub uid: String,
    pub record: serde_json::Value,
    pub keys: Vec<(u32, String)>,
}

/// A registry records can be enrolled into: looking up the candidates, deciding, and inserting
/// happen as one atomic step, serialized with every other enrollment into the same store (also
/// from other processes), so two enrollments of one person cannot both see an empty registry.
/// SQLite does it with a write transaction taken before the lookup; PostgreSQL with advisory
/// locks on the entry's blocking keys (`postgres.rs`). The rule layer sees only [`Registry`].
pub trait Enroll: Registry {
    /// Fetch the candidates of `entry.keys`, call `decide(candidates, uid_taken)`, and insert the
    /// entry when it returns `true` (never when the uid is already stored). Returns whether the
    /// entry was inserted. Nothing is stored when `decide` or the store fails.
    fn enroll(&self, entry: &Entry, decide: &mut dyn FnMut(&dyn Registry, bool) -> bool)
    -> Result<bool, RegistryError>;
}

/// A registry database that records are imported and enrolled into: the embedded SQLite file
/// or a PostgreSQL server. The CLI's `registry import` and `enroll` work through this trait.
pub trait Store: Enroll {
    /// Store a batch of entries in one transaction: all of them or none. An entry whose uid is
    /// already stored (or comes earlier in the batch) is skipped, so importing a file again
    /// stores every record once.
    fn insert_batch(&self, entries: &[Entry]) -> Result<Inserted, RegistryError>;
    /// The keys rebuilt when the store was opened, if they were stale.
    fn rebuilt(&self) -> Option<&Rebuilt>;
    /// Where the store is, for messages (a path, or a URL without its password).
    fn location(&self) -> String;
}

/// The uid a record is stored under: `id:<id>` when the schema's id field (`field`) holds an id,
/// `hash:<content hash>` when the record has none (the field absent or `null`), so importing
/// the same file twice stores every record once.
///
/// Ids are text and compared exactly, character for character: no trimming, no width, case or
/// Unicode folding (`8` and `８` are two ids, `P 1` and `P1` too). What would make two
/// different ids one, or store an id other than the one written, is refused with a message
/// for that record: an id that is not a string (`7` would be the same as `"7"`), a blank one,
/// one with spaces before or after it, and one with a control character (PostgreSQL text
/// cannot hold NUL, so `A\u0000B` and `A\u{FFFD}B` would be one id there). When the schema
/// declares the id field `int` (`numeric`), whole numbers are its ids, written `7` or `"7"`.
pub fn record_uid(field: Option<&str>, numeric: bool, record: &serde_json::Value) -> Result<String, String> {
    let id = field.and_then(|f| record.get(f).map(|v| (f, v)));
    let (field, id) = match id {
        None | Some((_, serde_json::Value::Null)) => {
            return Ok(format!("hash:{:016x}", fnv1a(record.to_string().as_bytes())));
        }
        Some((f, serde_json::Value::String(s))) => (f, s.as_str()),
        Some((_, serde_json::Value::Number(n))) if numeric && (n.is_i64() || n.is_u64()) => {
            return Ok(format!("id:{n}"));
        }
        Some((f, serde_json::Value::Number(n))) => {
            return Err(format!(
                "the id (field `{f}`) is the number {n}; ids are text: write it in quotes (`\"{n}\"`)"
            ));
        }
        Some((f, _)) => return Err(format!("the id (field `{f}`) is not text; write it as a string")),
    };
    if id.trim().is_empty() {
        return Err(format!(
            "the id (field `{field}`) is blank; give the record its id, or leave the field out to store the \
             record under a hash of its content"
        ));
    }
    if let Some(c) = id.chars().find(|c| c.is_control()) {
        return Err(format!(
            "the id (field `{field}`) contains the control character U+{:04X}; ids are compared exactly as text \
             and may not contain control characters: remove it",
            u32::from(c)
        ));
    }
    if id.trim() != id {
        return Err(format!(
            "the id (field `{field}`) has spaces before or after it; ids are compared exactly as text: remove the \
             spaces"
        ));
    }
    // An `int` id written as text is the number it reads as (`"0007"` is 7).
    if numeric && let Ok(n) = id.parse::<i64>() {
        return Ok(format!("id:{n}"));
    }
    Ok(format!("id:{id}"))
}

/// Whether `s` names a PostgreSQL server rather than a file: `postgres://…` or `postgresql://…`.
pub fn is_server_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// A registry location as messages show it, without any password: for a `postgres://` URL, the
/// password after `user:` (everything up to the first `@`, as the PostgreSQL client reads it)
/// and the value of every parameter whose name or value mentions `pass` (`password`,
/// `sslpassword`, `passfile`, a `password=` inside `options`; names are percent-decoded first);
/// for a libpq `key=value` string, the value of every key that mentions `pass`. Anything else
/// (a file path) is returned as it is.
pub fn redact(location: &str) -> String {
    let scheme = ["postgres://", "postgresql://"].into_iter().find(|p| location.starts_with(p));
    match scheme {
        Some(scheme) => redact_url(scheme, location.get(scheme.len()..).unwrap_or("")),
        None if is_conninfo(location) => redact_conninfo(location),
        None => location.to_string(),
    }
}

/// Whether `s` is written as a libpq connection string (`host=db user=kensa …`) rather than a
/// URL or a file name: it starts with a libpq keyword and `=`.
pub fn is_conninfo(s: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "password",
        "passfile",
        "options",
        "application_name",
        "connect_timeout",
        "sslmode",
        "sslpassword",
        "target_session_attrs",
        "service",
    ];
    s.split_once('=').is_some_and(|(key, _)| KEYWORDS.contains(&key.trim()))
}

fn mentions_password(text: &str) -> bool {
    text.to_ascii_lowercase().contains("pass")
}

fn redact_url(scheme: &str, rest: &str) -> String {
    let mut out = String::from(scheme);
    let mut rest = rest;
    if let Some((creds, after)) = rest.split_once('@') {
        match creds.split_once(':') {
            Some((user, _)) => {
                out.push_str(user);
                out.push_str(":***");
            }
            None => out.push_str(creds),
        }
        out.push('@');
        rest = after;
    }
    let Some((head, query)) = rest.split_once('?') else {
        out.push_str(rest);
        return out;
    };
    out.push_str(head);
    out.push('?');
    let params: Vec<String> = query
        .split('&')
        .map(|param| match param.split_once('=') {
            Some((name, value))
                if mentions_password(&percent_decode(name)) || mentions_password(&percent_decode(value)) =>
            {
                format!("{name}=***")
            }
            _ => param.to_string(),
        })
        .collect();
    out.push_str(&params.join("&"));
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(decoded) if b == b'%' => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn redact_conninfo(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some((before, after)) = rest.split_once('=') {
        out.push_str(before);
        out.push('=');
        let value = after.trim_start();
        out.push_str(after.get(..after.len() - value.len()).unwrap_or(""));
        let end = conninfo_value_end(value);
        let key = before.split_whitespace().last().unwrap_or("");
        if mentions_password(key) {
            out.push_str("***");
        } else {
            out.push_str(value.get(..end).unwrap_or(value));
        }
        rest = value.get(end..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// Where a libpq value ends: after its closing quote (`'…'`, `\'` escaped), or at whitespace.
fn conninfo_value_end(value: &str) -> usize {
    if !value.starts_with('\'') {
        return value.find(char::is_whitespace).unwrap_or(value.len());
    }
    let mut escaped = false;
    for (i, c) in value.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '\'' => return i + 1,
            _ => {}
        }
    }
    value.len()
}

/// Candidates already fetched, seen as a registry (the view of an enrollment in progress): it
/// answers every lookup with the same records.
#[derive(Debug, Default)]
pub struct Fetched(pub Lookup);

impl Registry for Fetched {
    fn candidates(&self, _keys: &[(u32, String)]) -> Result<Lookup, RegistryError> {
        Ok(self.0.clone())
    }
    fn len(&self) -> usize {
        self.0.records.len()
    }
}

/// The outcome of [`crate::Engine::enroll`].
#[derive(Clone, Debug)]
pub struct Enrollment {
    /// The verdict against the registry as it was when the record was checked.
    pub verdict: crate::Verdict,
    /// Whether the record was inserted (the decision was accept and the uid was new).
    pub enrolled: bool,
    /// A record with the same id (or, without an id, the same content) was already stored.
    pub already_stored: bool,
}

/// A stable 64-bit FNV-1a hash (the same in every build, unlike `DefaultHasher`).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    Fnv1a::new().write(bytes).finish()
}

/// [`fnv1a`] over several pieces, without joining them first. A change of any one byte always
/// changes the hash (each step is a bijection of the state), which is what a row checksum needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fnv1a(u64);

impl Fnv1a {
    pub(crate) fn new() -> Fnv1a {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn write(mut self, bytes: &[u8]) -> Fnv1a {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        self
    }

    pub(crate) fn finish(self) -> u64 {
        self.0
    }
}

/// Records held in memory with a hash index per blocking key (`--registry file.jsonl`).
#[derive(Debug, Default)]
pub struct MemoryRegistry {
    records: Vec<Arc<serde_json::Value>>,
    /// Per record, what the `match` block computed of it ([`MemoryRegistry::insert_profiled`]).
    profiles: Vec<Option<Arc<crate::eval::StoredProfile>>>,
    // FxHash: the keys are computed by the rules from records the registry's owner loaded, and a
    // lookup inserts nothing, so SipHash's protection against chosen keys buys nothing here.
    index: rustc_hash::FxHashMap<(u32, String), Vec<u32>>,
    /// Term keys: records per value, and per term (records, Σ count²).
    terms: rustc_hash::FxHashMap<(u32, String), u64>,
    term_totals: rustc_hash::FxHashMap<u32, (u64, u64)>,
}

impl MemoryRegistry {
    pub fn new() -> Self {
        MemoryRegistry::default()
    }

    /// Add a record with the keys the rules computed for it.
    pub fn insert(&mut self, record: serde_json::Value, keys: Vec<(u32, String)>) {
        self.insert_profiled(record, keys, None);
    }

    /// [`MemoryRegistry::insert`] with what the `match` block computed of the record
    /// (`Engine::memory_registry` computes both in one pass).
    pub fn insert_profiled(
        &mut self,
        record: serde_json::Value,
        keys: Vec<(u32, String)>,
        profile: Option<crate::eval::StoredProfile>,
    ) {
        let Ok(n) = u32::try_from(self.records.len()) else { return };
        self.records.push(Arc::new(record));
        self.profiles.push(profile.map(Arc::new));
        for k in keys {
            if is_term(k.0) {
                let term = k.0;
                let count = self.terms.entry(k).or_default();
                let total = self.term_totals.entry(term).or_default();
                total.0 += 1;
                total.1 += 2 * *count + 1;
                *count += 1;
            } else {
                self.index.entry(k).or_default().push(n);
            }
        }
    }
}

impl Registry for MemoryRegistry {
    fn candidates(&self, keys: &[(u32, String)]) -> Result<Lookup, RegistryError> {
        let (terms, keys) = split_terms(keys);
        let keys = &*keys;
        let terms = terms
            .iter()
            .map(|k| {
                let (total, squares) = self.term_totals.get(&k.0).copied().unwrap_or_default();
                TermStat { term: k.0, count: self.terms.get(k).copied().unwrap_or(0), total, squares }
            })
            .collect();
        let mut rows = Vec::new();
        let mut counts = Vec::with_capacity(keys.len());
        for (at, k) in keys.iter().enumerate() {
            let ids = self.index.get(k).map_or(&[][..], Vec::as_slice);
            counts.push(ids.len() as u64);
            for &i in ids.iter().take(SCAN_PER_KEY) {
                if let Some(r) = self.records.get(i as usize) {
                    rows.push((i64::from(i), Arc::clone(r), at));
                }
            }
        }
        // `from_rows` gives each record once, in enrollment order: the order of their positions.
        let mut positions: Vec<i64> = rows.iter().map(|(seq, _, _)| *seq).collect();
        positions.sort_unstable();
        positions.dedup();
        let mut lookup = Lookup { terms, ..Lookup::from_rows(rows, keys, &counts) };
        for (f, at) in lookup.records.iter_mut().zip(positions) {
            let profile = usize::try_from(at).ok().and_then(|i| self.profiles.get(i));
            f.profile = profile.cloned().flatten();
        }
        Ok(lookup)
    }

    fn len(&self) -> usize {
        self.records.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        let cases = [
            ("postgres://clerk:s3cret@db.example:5432/kensa", "postgres://clerk:***@db.example:5432/kensa"),
            ("postgresql://clerk@db/kensa?sslmode=disable", "postgresql://clerk@db/kensa?sslmode=disable"),
            ("postgres://db/kensa?user=a@b", "postgres://db/kensa?user=a@b"),
            ("postgres://u:p%40ss@h/d", "postgres://u:***@h/d"),
            // The client reads the credentials up to the first `@`, `/` and `?` included.
            ("postgres://u:p/ss@h/d", "postgres://u:***@h/d"),
            ("postgres://u@h/d?password=x&application_name=k", "postgres://u@h/d?password=***&application_name=k"),
            ("postgres://h/d?user=u&PassWord=x", "postgres://h/d?user=u&PassWord=***"),
            ("postgres://h/d?pass%77ord=x", "postgres://h/d?pass%77ord=***"),
            ("postgres://h/d?sslpassword=x&passfile=/p", "postgres://h/d?sslpassword=***&passfile=***"),
            ("postgres://h/d?options=-c%20password%3Dx", "postgres://h/d?options=***"),
            ("postgres://h/d?options=-csearch_path%3Dk", "postgres://h/d?options=-csearch_path%3Dk"),
            ("host=h user=u password=x port=1", "host=h user=u password=*** port=1"),
            ("host=h password = 'a b\\' c' dbname=d", "host=h password = *** dbname=d"),
            ("registry.db", "registry.db"),
            ("/data/pass.db", "/data/pass.db"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact(url), shown, "{url}");
        }
        assert!(is_conninfo("host=db dbname=kensa"));
        assert!(!is_conninfo("registry.db") && !is_conninfo("a=b.db"));
    }

    #[test]
    fn terms_split_from_blocking_keys_in_order() {
        let t = |i: u32| TERM_BLOCK + i;
        let key = |b: u32, k: &str| (b, k.to_string());
        // As the engine computes them: borrowed.
        let keys = [key(0, "a"), key(2, "b"), key(t(0), "x"), key(t(1), "y")];
        let (terms, blocks) = split_terms(&keys);
        assert!(matches!((&terms, &blocks), (Cow::Borrowed(_), Cow::Borrowed(_))));
        assert_eq!(*terms, [key(t(0), "x"), key(t(1), "y")]);
        assert_eq!(*blocks, [key(0, "a"), key(2, "b")]);
        // Mixed (a caller's own order): copied, each kind in its order.
        let keys = [key(t(1), "y"), key(0, "a"), key(t(0), "x"), key(2, "b")];
        let (terms, blocks) = split_terms(&keys);
        assert_eq!(*terms, [key(t(1), "y"), key(t(0), "x")]);
        assert_eq!(*blocks, [key(0, "a"), key(2, "b")]);
        // Only one kind, or none.
        let (terms, blocks) = split_terms(&keys[1..2]);
        assert!(terms.is_empty());
        assert_eq!(*blocks, [key(0, "a")]);
        let (terms, blocks) = split_terms(&[]);
        assert!(terms.is_empty() && blocks.is_empty());
    }

    #[test]
    fn candidates_share_a_key_and_come_once() {
        let mut r = MemoryRegistry::new();
        r.insert(serde_json::json!({"id": "P1"}), vec![(0, "a".into()), (1, "x".into())]);
        r.insert(serde_json::json!({"id": "P2"}), vec![(0, "b".into())]);
        r.insert(serde_json::json!({"id": "P3"}), vec![(0, "a".into())]);
        let ids = |keys: &[(u32, String)]| -> Vec<String> {
            r.candidates(keys).unwrap().records.iter().map(|f| f.record["id"].as_str().unwrap().to_string()).collect()
        };
        assert_eq!(ids(&[(0, "a".into()), (1, "x".into())]), ["P1", "P3"]);
        assert_eq!(ids(&[(1, "a".into())]), Vec::<String>::new());
        assert_eq!(r.len(), 3);
        let found = r.candidates(&[(0, "a".into()), (1, "x".into())]).unwrap();
        assert_eq!(found.records.iter().map(|f| f.keys).collect::<Vec<_>>(), [0b11, 0b01]);
        assert!(found.crowded.is_empty());
    }

    #[test]
    fn a_key_over_the_cap_is_crowded_and_read_up_to_the_scan_limit() {
        let mut r = MemoryRegistry::new();
        for i in 0..(SCAN_PER_KEY + 10) {
            r.insert(serde_json::json!({"id": i}), vec![(3, "same".into())]);
        }
        let found = r.candidates(&[(3, "same".into())]).unwrap();
        assert_eq!(found.records.len(), SCAN_PER_KEY);
        assert_eq!(found.crowded, [Crowded { block: 3, records: (SCAN_PER_KEY + 10) as u64 }]);
    }
}
