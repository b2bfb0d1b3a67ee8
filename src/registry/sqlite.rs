//! The embedded registry: enrolled records in a SQLite database file.
//!
//! Input: [`Entry`]s (a record with the keys the engine computed) and lookups by key. Output:
//! candidate records. It never evaluates rules and never computes a key itself; when the rules
//! or the normalization data that built the stored keys change, the caller's key function
//! rebuilds them.
//!
//! Tables (layout version 2): `records(rowid, uid UNIQUE, json, sum)`, `keys(block, key,
//! record, sum)` (its primary key `(block, key, record)` is the lookup index), `meta(name,
//! value)` (layout version and the [`KeyVersion`] of the stored keys). `sum` is a checksum of
//! the row (`integrity.rs`): every row a lookup reads is checked, so a byte flipped on disk is
//! an error, never a silently different candidate. Opening for writing first runs SQLite's
//! `quick_check` and checks every key row (a damaged key row is never read by a lookup: its
//! record would silently go missing); `stats` checks everything (`integrity_check`, every
//! row); `rebuild` rebuilds the key table from the records. Layout 1 (no checksums) is
//! migrated when opened for writing. The file is in WAL mode: readers never wait for the
//! writer; writers (import, enroll, rebuild) take the write lock with `BEGIN IMMEDIATE`, wait
//! for each other up to a busy timeout, and commit whole batches, so a killed process leaves
//! the last committed state. Opening for writing refuses a SQLite file of another program
//! (tables, and no kensa layout version) before touching it; an empty file becomes a registry.
//! Reading needs the WAL's `-shm` file; in a folder where it cannot be created (read-only
//! folder or file system), a reader opens the file `immutable` instead, unless a `-wal` file
//! holds commits not yet in the file (then it says how to fold them in).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rayon::prelude::*;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use super::integrity::{damaged, finding, key_sum, record_sum};
use super::store::{
    Access, Inserted, KeyFn, Rebuilt, Stats, crowded_keys_sql, rebuild_reason, stale_keys, version_diff,
};
use super::{Enroll, Entry, Fetched, KeyVersion, Lookup, Registry, RegistryError, SCAN_PER_KEY};

/// How long a writer waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);
/// The table layout this kensa writes. Version 1 (no checksums) is migrated when a file is
/// opened for writing and refused for reading; a later version (a newer kensa) is refused.
const SCHEMA_VERSION: &str = "2";
/// Records read per step when keys are rebuilt or checksums computed.
const REBUILD_BATCH: i64 = 20_000;

/// The tables of a new registry, but the key table ([`KEYS_TABLE`]). `sum` has a default only
/// because layout 1 gets the column by `ALTER TABLE`, which needs one; every insert sets it.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
  rowid INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, json TEXT NOT NULL, sum INTEGER NOT NULL DEFAULT 0
);
";

/// The key table, created with a new registry and again whenever keys are rebuilt.
/// With it, the counts of the values the `frequency` comparisons weigh (term keys,
/// [`super::is_term`]): how many records have each value, and per comparison the number of
/// records counted and the sum of the squared counts.
const KEYS_TABLE: &str = "
CREATE TABLE IF NOT EXISTS keys (
  block INTEGER NOT NULL, key TEXT NOT NULL, record INTEGER NOT NULL, sum INTEGER NOT NULL,
  PRIMARY KEY (block, key, record)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS terms (
  term INTEGER NOT NULL, value TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (term, value)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS term_totals (term INTEGER PRIMARY KEY, n INTEGER NOT NULL, squares INTEGER NOT NULL);
";

/// Records in a SQLite file. `Send + Sync`: every thread borrows its own connection from a
/// small pool, so lookups run in parallel.
#[derive(Debug)]
pub struct SqliteRegistry {
    path: PathBuf,
    access: Access,
    pool: Mutex<Vec<Connection>>,
    rebuilt: Option<Rebuilt>,
}

fn err(path: &Path, e: impl std::fmt::Display) -> RegistryError {
    RegistryError(format!("`{}`: {e}", path.display()))
}

/// A database error as a message: damage (SQLite's own "malformed", or a checksum that does
/// not match) says what to do about it.
fn fail(path: &Path, e: &rusqlite::Error) -> RegistryError {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseCorrupt) {
        return RegistryError(damaged(&path.display().to_string(), &e.to_string()));
    }
    err(path, e)
}

/// Damage found by kensa itself (a row that does not match its checksum).
fn corrupt(what: String) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT), Some(what))
}

impl SqliteRegistry {
    /// Open a registry for lookups. Fails when the file is missing, is not a registry, or its
    /// keys were built by other rules or normalization data than `version` (the message says
    /// how to rebuild them).
    pub fn open_read(path: &Path, version: &KeyVersion) -> Result<SqliteRegistry, RegistryError> {
        if !path.is_file() {
            return Err(err(path, "no such registry file"));
        }
        let conn = connect(path, Access::ReadOnly)?;
        let stored = read_meta(&conn).map_err(|e| err(path, format!("not a kensa registry ({e})")))?;
        check_layout(path, &stored)?;
        if let Some(diff) = version_diff(&stored, version) {
            return Err(err(path, stale_keys(&diff, &path.display().to_string())));
        }
        Ok(SqliteRegistry {
            path: path.to_path_buf(),
            access: Access::ReadOnly,
            pool: Mutex::new(vec![conn]),
            rebuilt: None,
        })
    }

    /// Open (or create) a registry for writing. A damaged file (SQLite's `quick_check`, or a
    /// key row that does not match its checksum) is refused before anything is written. A
    /// file of layout 1 is migrated, and keys built by another `version` are rebuilt with
    /// `keys`, in one transaction, before this returns (see [`SqliteRegistry::rebuilt`]).
    pub fn open_write(path: &Path, version: &KeyVersion, keys: KeyFn<'_>) -> Result<SqliteRegistry, RegistryError> {
        let mut conn = connect(path, Access::ReadWrite)?;
        let damage = verify(&conn, false);
        if !damage.is_empty() {
            return Err(RegistryError(damaged(&path.display().to_string(), &damage.join("; "))));
        }
        let rebuilt = prepare(&mut conn, path, version, keys, false, &|e| fail(path, &e))?;
        Ok(SqliteRegistry {
            path: path.to_path_buf(),
            access: Access::ReadWrite,
            pool: Mutex::new(vec![conn]),
            rebuilt,
        })
    }

    /// Rebuild every key of a registry file from its records (`kensa registry rebuild`): the
    /// key table is dropped and made again, which repairs damaged or missing key rows; an
    /// older layout is migrated and `version` recorded. Refused, with nothing changed, when a
    /// record itself is damaged (keys cannot be rebuilt from it: restore the file from a
    /// backup), and an error when SQLite still finds the file damaged afterwards.
    pub fn rebuild(path: &Path, version: &KeyVersion, keys: KeyFn<'_>) -> Result<Rebuilt, RegistryError> {
        if !path.is_file() {
            return Err(err(path, "no such registry file"));
        }
        let cannot = |what: &dyn std::fmt::Display| {
            err(
                path,
                format!(
                    "the keys cannot be rebuilt: {what}; restore the registry from a backup (keep a copy of this \
                     file to look into); nothing was changed"
                ),
            )
        };
        let mut conn = connect(path, Access::ReadWrite)?;
        let rebuilt = prepare(&mut conn, path, version, keys, true, &|e| cannot(&e))?;
        let damage = verify(&conn, false);
        if !damage.is_empty() {
            let what = format!("the file is still damaged after the keys were rebuilt ({})", damage.join("; "));
            return Err(cannot(&what));
        }
        rebuilt.ok_or_else(|| err(path, "the keys were not rebuilt"))
    }

    /// What a registry file holds, without checking its key version, and whether it is
    /// damaged (`integrity_check`, the checksum of every row: this reads the whole file).
    pub fn stats(path: &Path) -> Result<Stats, RegistryError> {
        if !path.is_file() {
            return Err(err(path, "no such registry file"));
        }
        let conn = connect(path, Access::ReadOnly)?;
        let meta = read_meta(&conn).map_err(|e| err(path, format!("not a kensa registry ({e})")))?;
        let q = || -> rusqlite::Result<Stats> {
            let records: i64 = conn.query_row("SELECT count(*) FROM records", [], |r| r.get(0))?;
            let mut st = conn.prepare("SELECT block, count(*) FROM keys GROUP BY block ORDER BY block")?;
            let keys_per_block = st
                .query_map([], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, i64>(1)?)))?
                .map(|r| r.map(|(b, n)| (b, u64::try_from(n).unwrap_or(0))))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut st = conn.prepare(&crowded_keys_sql("keys", "key"))?;
            let crowded = st
                .query_map([], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?
                .map(|r| r.map(|(b, k, n)| (b, k, u64::try_from(n).unwrap_or(0))))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Stats {
                records: u64::try_from(records).unwrap_or(0),
                keys_per_block,
                meta,
                file_bytes: 0,
                crowded,
                damage: verify(&conn, true),
            })
        };
        let mut stats = q().map_err(|e| fail(path, &e))?;
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        stats.file_bytes = size(path) + size(&wal_path(path));
        Ok(stats)
    }

    /// The keys rebuilt when the registry was opened, if they were stale.
    pub fn rebuilt(&self) -> Option<&Rebuilt> {
        self.rebuilt.as_ref()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Store a batch of entries in one transaction: all of them or (on error or when the
    /// process dies) none. An entry whose uid is already stored is skipped, so importing a file
    /// again, or again after an interrupted import, stores every record once.
    pub fn insert_batch(&self, entries: &[Entry]) -> Result<Inserted, RegistryError> {
        self.write(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut n = Inserted::default();
            for e in entries {
                if insert_entry(&tx, e)? {
                    n.inserted += 1;
                } else {
                    n.skipped += 1;
                }
            }
            tx.commit()?;
            Ok(n)
        })
    }

    /// Let this process keep up to `mib` MiB of database pages in memory (default 64). A bulk
    /// import that touches most of the key index in every batch writes far less with a cache
    /// that holds the index.
    pub fn set_cache_size(&self, mib: u32) -> Result<(), RegistryError> {
        self.with_conn(|c| c.pragma_update(None, "cache_size", -1024 * i64::from(mib)))
    }

    /// Run `f` on a pooled connection (opened on demand).
    fn with_conn<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T, RegistryError> {
        let taken = self.pool.lock().map_err(|_| err(&self.path, "connection pool poisoned"))?.pop();
        let mut conn = match taken {
            Some(c) => c,
            None => connect(&self.path, self.access)?,
        };
        let result = f(&mut conn).map_err(|e| fail(&self.path, &e));
        if let Ok(mut pool) = self.pool.lock() {
            pool.push(conn);
        }
        result
    }

    fn write<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T, RegistryError> {
        if self.access == Access::ReadOnly {
            return Err(err(&self.path, "the registry is open read-only"));
        }
        self.with_conn(f)
    }
}

impl Registry for SqliteRegistry {
    fn candidates(&self, keys: &[(u32, String)]) -> Result<Lookup, RegistryError> {
        self.with_conn(|conn| candidates_on(conn, keys))
    }

    fn len(&self) -> usize {
        self.with_conn(|c| c.query_row("SELECT count(*) FROM records", [], |r| r.get::<_, i64>(0)))
            .ok()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0)
    }

    fn is_empty(&self) -> bool {
        // Counting a million rows per lookup would cost milliseconds; this costs one page read.
        // On error, say "not empty" so that the lookup runs and reports the error.
        self.with_conn(|c| c.query_row("SELECT EXISTS (SELECT 1 FROM records)", [], |r| r.get::<_, bool>(0)))
            .map(|any| !any)
            .unwrap_or(false)
    }
}

impl super::Store for SqliteRegistry {
    fn insert_batch(&self, entries: &[Entry]) -> Result<Inserted, RegistryError> {
        SqliteRegistry::insert_batch(self, entries)
    }

    fn rebuilt(&self) -> Option<&Rebuilt> {
        SqliteRegistry::rebuilt(self)
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }
}

impl Enroll for SqliteRegistry {
    fn enroll(
        &self,
        entry: &Entry,
        decide: &mut dyn FnMut(&dyn Registry, bool) -> bool,
    ) -> Result<bool, RegistryError> {
        self.write(|conn| {
            // The write lock is taken before the lookup: a second enrollment (in this process or
            // another) waits here until this one has committed, then sees it.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found = candidates_on(&tx, &entry.keys)?;
            let taken: bool =
                tx.query_row("SELECT EXISTS (SELECT 1 FROM records WHERE uid = ?1)", [&entry.uid], |r| r.get(0))?;
            let insert = decide(&Fetched(found), taken) && !taken;
            if insert {
                insert_entry(&tx, entry)?;
            }
            tx.commit()?;
            Ok(insert)
        })
    }
}

fn wal_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push("-wal");
    PathBuf::from(s)
}

fn connect(path: &Path, access: Access) -> Result<Connection, RegistryError> {
    let shown = |e: rusqlite::Error| match e {
        rusqlite::Error::SqliteFailure(f, Some(m)) if f.extended_code == FOREIGN => err(path, m),
        e => err(path, format!("cannot open: {e}")),
    };
    match open(path, access, false) {
        // Reading a WAL file needs its -shm file; where it cannot be created (a read-only
        // folder or file system), read the file as it is, which is all of it when no
        // write-ahead log holds changes that are not in the file yet.
        Err(e) if access == Access::ReadOnly && cannot_create_side_files(&e) => {
            let wal = wal_path(path);
            if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
                return Err(err(
                    path,
                    format!(
                        "cannot open: {e}; the folder cannot be written and the write-ahead log `{}` holds \
                         changes that are not in the file yet: let the registry's owner open it for writing \
                         once, which moves them into the file (`kensa registry import --input-format jsonl \
                         /dev/null --db {}` adds nothing)",
                        wal.display(),
                        path.display()
                    ),
                ));
            }
            open(path, access, true).map_err(shown)
        }
        r => r.map_err(shown),
    }
}

/// Whether opening failed because SQLite could not create or write the -shm/-wal files.
fn cannot_create_side_files(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen))
}

/// Open a connection and set it up; `immutable` reads the file without locks or side files
/// (only for a file nobody can write).
fn open(path: &Path, access: Access, immutable: bool) -> rusqlite::Result<Connection> {
    let mut flags = match access {
        Access::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        Access::ReadWrite => {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX
        }
    };
    let conn = if immutable {
        flags |= OpenFlags::SQLITE_OPEN_URI;
        Connection::open_with_flags(format!("{}?immutable=1", file_uri(path)), flags)?
    } else {
        Connection::open_with_flags(path, flags)?
    };
    conn.busy_timeout(BUSY_TIMEOUT)?;
    if access == Access::ReadWrite {
        // Before anything is written: a file of another program is left as it is.
        refuse_foreign(&conn)?;
        // WAL: readers do not block the writer nor the writer the readers. NORMAL sync in
        // WAL mode keeps the file consistent when a process dies; FULL would also survive a
        // power cut without losing the last commits, at one fsync per commit.
        wal(&conn)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
    }
    // Lookups read records at random: map the file instead of copying each page through
    // read() (the OS page cache keeps a warm registry in memory), and cache 64 MiB of pages.
    conn.pragma_update(None, "mmap_size", 1_i64 << 31)?;
    conn.pragma_update(None, "cache_size", -65_536)?;
    if access == Access::ReadOnly {
        // Reading begins here: a file that cannot be read fails now, not at the first lookup.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))?;
    }
    Ok(conn)
}

/// `path` as a SQLite URI (`file:` and the path, percent-encoded).
fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-' | b'~') {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

/// The error code [`refuse_foreign`] answers with (SQLITE_NOTADB).
const FOREIGN: i32 = 26;

/// Refuse a SQLite database that holds tables, indexes or views but is not a kensa registry
/// (no `meta` table with a layout version): it belongs to another program, and writing would
/// add kensa's tables to it. An empty file, or a database without any table, is fine.
fn refuse_foreign(conn: &Connection) -> rusqlite::Result<()> {
    let mut st = conn.prepare("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")?;
    let names: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    if names.is_empty() || (names.iter().any(|n| n == "meta") && read_layout(conn).is_some()) {
        return Ok(());
    }
    let mut listed: Vec<String> = names.iter().take(5).map(|n| format!("`{n}`")).collect();
    if names.len() > 5 {
        listed.push(format!("and {} more", names.len() - 5));
    }
    Err(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error { code: rusqlite::ErrorCode::NotADatabase, extended_code: FOREIGN },
        Some(format!(
            "this is a database of another program (it holds {}), not a kensa registry; kensa left it unchanged: \
             name a new file for the registry (`--db registry.db`), or the file of an existing registry",
            listed.join(", ")
        )),
    ))
}

/// The layout version recorded in `meta`, if there is one.
fn read_layout(conn: &Connection) -> Option<String> {
    conn.query_row("SELECT value FROM meta WHERE name = 'schema_version'", [], |r| r.get(0)).ok()
}

/// Switch the file to WAL mode. The switch is a read followed by a write outside any
/// transaction, so SQLite answers "database is locked" at once, without calling the busy
/// handler, when another connection switches (or creates) the same new file at that moment
/// (waiting could deadlock both). Retry until the busy timeout: the other connection finishes
/// within milliseconds, and the file is then already in WAL mode.
fn wal(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    let mut pause = Duration::from_millis(1);
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0)) {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
            // Another connection holds a lock that keeps the mode from changing: as busy.
            Ok(_) if std::time::Instant::now() < deadline => {}
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && std::time::Instant::now() < deadline => {}
            Ok(mode) => {
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                    Some(format!("cannot switch the journal from `{mode}` to WAL: the file stays locked")),
                ));
            }
            Err(e) => return Err(e),
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

fn read_meta(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut st = conn.prepare("SELECT name, value FROM meta ORDER BY name")?;
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
}

/// A registry of this kensa's layout can be read; layout 1 must be migrated first, and a later
/// one is a newer kensa's.
fn check_layout(path: &Path, meta: &[(String, String)]) -> Result<(), RegistryError> {
    match meta.iter().find(|(k, _)| k == "schema_version").map(|(_, v)| v.as_str()) {
        Some(SCHEMA_VERSION) => Ok(()),
        Some("1") => Err(err(
            path,
            format!(
                "the registry has layout version 1 and this kensa uses {SCHEMA_VERSION} (a checksum per record and \
                 key); migrate it with `kensa registry rebuild --db {}`",
                path.display()
            ),
        )),
        Some(v) => Err(err(path, unknown_layout(v))),
        None => Err(err(path, "not a kensa registry (no layout version)")),
    }
}

fn unknown_layout(v: &str) -> String {
    format!("registry layout version {v} is not supported (this kensa knows 1 and {SCHEMA_VERSION}); use a newer kensa")
}

/// In one transaction: create the tables of a new registry, or migrate layout 1; rebuild the
/// keys when they are stale (or always, with `force`); record the key version.
fn prepare(
    conn: &mut Connection,
    path: &Path,
    version: &KeyVersion,
    keys: KeyFn<'_>,
    force: bool,
    e: &dyn Fn(rusqlite::Error) -> RegistryError,
) -> Result<Option<Rebuilt>, RegistryError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(e)?;
    let mut rebuilt = None;
    match read_layout(&tx).as_deref() {
        None => {
            tx.execute_batch(SCHEMA).map_err(e)?;
            tx.execute_batch(KEYS_TABLE).map_err(e)?;
            put_meta(&tx, "schema_version", SCHEMA_VERSION).map_err(e)?;
        }
        Some("1") => {
            let records = migrate_from_1(&tx, keys).map_err(e)?;
            let reason = format!(
                "the registry layout changed from version 1 to {SCHEMA_VERSION} (a checksum per record and key)"
            );
            rebuilt = Some(Rebuilt { records, reason });
        }
        Some(SCHEMA_VERSION) => {}
        Some(v) => return Err(err(path, unknown_layout(v))),
    }
    let meta = read_meta(&tx).map_err(e)?;
    let diff = version_diff(&meta, version);
    let any: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM records)", [], |r| r.get(0)).map_err(e)?;
    if rebuilt.is_none() && (force || (diff.is_some() && any)) {
        rebuilt = Some(Rebuilt { records: rebuild_keys(&tx, keys).map_err(e)?, reason: rebuild_reason(diff) });
    }
    for (name, value) in version.entries() {
        put_meta(&tx, name, value).map_err(e)?;
    }
    tx.commit().map_err(e)?;
    Ok(rebuilt)
}

fn put_meta(conn: &Connection, name: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )?;
    Ok(())
}

/// Layout 1 → 2 (inside the caller's transaction): a checksum for every record, and the keys
/// rebuilt from the records with theirs. Returns the number of records.
fn migrate_from_1(conn: &Connection, keys: KeyFn<'_>) -> rusqlite::Result<u64> {
    conn.execute_batch("ALTER TABLE records ADD COLUMN sum INTEGER NOT NULL DEFAULT 0")?;
    let mut read = conn.prepare("SELECT rowid, uid, json FROM records WHERE rowid > ?1 ORDER BY rowid LIMIT ?2")?;
    let mut update = conn.prepare("UPDATE records SET sum = ?2 WHERE rowid = ?1")?;
    let mut last = 0i64;
    loop {
        let rows: Vec<(i64, String, String)> = read
            .query_map(params![last, REBUILD_BATCH], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let Some((end, _, _)) = rows.last() else { break };
        last = *end;
        for (id, uid, json) in &rows {
            update.execute(params![id, record_sum(uid, json)])?;
        }
    }
    put_meta(conn, "schema_version", SCHEMA_VERSION)?;
    rebuild_keys(conn, keys)
}

/// Make the key table again and fill it from the records (inside the caller's transaction):
/// dropping it also discards key rows that are damaged beyond reading. A record that does not
/// match its checksum, or is not JSON, stops the rebuild: no keys are built from damage.
fn rebuild_keys(conn: &Connection, keys: KeyFn<'_>) -> rusqlite::Result<u64> {
    conn.execute_batch("DROP TABLE IF EXISTS keys; DROP TABLE IF EXISTS terms; DROP TABLE IF EXISTS term_totals")?;
    conn.execute_batch(KEYS_TABLE)?;
    let mut read =
        conn.prepare("SELECT rowid, uid, json, sum FROM records WHERE rowid > ?1 ORDER BY rowid LIMIT ?2")?;
    let mut ins = conn.prepare("INSERT OR IGNORE INTO keys (block, key, record, sum) VALUES (?1, ?2, ?3, ?4)")?;
    let mut last = 0i64;
    let mut total = 0u64;
    loop {
        let rows: Vec<(i64, String, String, i64)> = read
            .query_map(params![last, REBUILD_BATCH], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?;
        let Some(&(end, _, _, _)) = rows.last() else { break };
        let computed = rows
            .par_iter()
            .map(|(id, uid, json, sum)| Ok((*id, keys(&stored_record(*id, uid, json, *sum)?))))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (id, ks) in &computed {
            for (b, k) in ks {
                if super::is_term(*b) {
                    count_term(conn, *b, k)?;
                } else {
                    ins.execute(params![b, k, id, key_sum(i64::from(*b), k, *id)])?;
                }
            }
        }
        total += rows.len() as u64;
        last = end;
    }
    Ok(total)
}

/// A stored record read back: checked against its checksum, then parsed.
fn stored_record(id: i64, uid: &str, json: &str, sum: i64) -> rusqlite::Result<serde_json::Value> {
    if record_sum(uid, json) != sum {
        return Err(corrupt(format!("record row {id} does not match its checksum")));
    }
    serde_json::from_str(json).map_err(|_| corrupt(format!("record row {id} is not JSON")))
}

/// Insert one entry and its keys; `false` when its uid is already stored.
fn insert_entry(conn: &Connection, e: &Entry) -> rusqlite::Result<bool> {
    let json = e.record.to_string();
    let mut ins =
        conn.prepare_cached("INSERT INTO records (uid, json, sum) VALUES (?1, ?2, ?3) ON CONFLICT (uid) DO NOTHING")?;
    if ins.execute(params![e.uid, json, record_sum(&e.uid, &json)])? == 0 {
        return Ok(false);
    }
    let id = conn.last_insert_rowid();
    let mut key =
        conn.prepare_cached("INSERT OR IGNORE INTO keys (block, key, record, sum) VALUES (?1, ?2, ?3, ?4)")?;
    for (b, k) in &e.keys {
        if super::is_term(*b) {
            count_term(conn, *b, k)?;
        } else {
            key.execute(params![b, k, id, key_sum(i64::from(*b), k, id)])?;
        }
    }
    Ok(true)
}

/// Count one more record with value `value` of term `term`.
fn count_term(conn: &Connection, term: u32, value: &str) -> rusqlite::Result<()> {
    let before: i64 = conn
        .prepare_cached("SELECT n FROM terms WHERE term = ?1 AND value = ?2")?
        .query_row(params![term, value], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    conn.prepare_cached(
        "INSERT INTO terms (term, value, n) VALUES (?1, ?2, 1) ON CONFLICT (term, value) DO UPDATE SET n = n + 1",
    )?
    .execute(params![term, value])?;
    conn.prepare_cached(
        "INSERT INTO term_totals (term, n, squares) VALUES (?1, 1, 1) \
         ON CONFLICT (term) DO UPDATE SET n = n + 1, squares = squares + ?2",
    )?
    .execute(params![term, 2 * before + 1])?;
    Ok(())
}

/// The counts of the term keys of a lookup.
fn term_stats(conn: &Connection, terms: &[(u32, String)]) -> rusqlite::Result<Vec<super::TermStat>> {
    let mut out = Vec::with_capacity(terms.len());
    for (t, v) in terms {
        let count: i64 = conn
            .prepare_cached("SELECT n FROM terms WHERE term = ?1 AND value = ?2")?
            .query_row(params![t, v], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        let (total, squares): (i64, i64) = conn
            .prepare_cached("SELECT n, squares FROM term_totals WHERE term = ?1")?
            .query_row(params![t], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .unwrap_or((0, 0));
        let n = |x: i64| u64::try_from(x).unwrap_or(0);
        out.push(super::TermStat { term: *t, count: n(count), total: n(total), squares: n(squares) });
    }
    Ok(out)
}

/// The records sharing a key, each once, in insertion order, with the keys they share; at most
/// [`SCAN_PER_KEY`] per key (the first enrolled), as [`super::MemoryRegistry`] answers. A key
/// with that many is counted whole, for the crowded-key finding. Every key row and record read
/// is checked against its checksum: damage is an error, not a different set of candidates.
fn candidates_on(conn: &Connection, keys: &[(u32, String)]) -> rusqlite::Result<Lookup> {
    let (terms, keys) = super::split_terms(keys);
    let terms = if terms.is_empty() { Vec::new() } else { term_stats(conn, &terms)? };
    let keys = &*keys;
    let limit = i64::try_from(SCAN_PER_KEY).unwrap_or(i64::MAX);
    let mut rows: Vec<(i64, Arc<serde_json::Value>, usize)> = Vec::new();
    let mut read: rustc_hash::FxHashMap<i64, Arc<serde_json::Value>> = rustc_hash::FxHashMap::default();
    let mut counts = Vec::with_capacity(keys.len());
    let mut st = conn.prepare_cached(
        "SELECT k.record, k.sum, r.uid, r.json, r.sum FROM keys k LEFT JOIN records r ON r.rowid = k.record \
         WHERE k.block = ?1 AND k.key = ?2 ORDER BY k.record LIMIT ?3",
    )?;
    for (at, (b, k)) in keys.iter().enumerate() {
        let mut n = 0u64;
        let mut found = st.query(params![b, k, limit])?;
        while let Some(row) = found.next()? {
            n += 1;
            let id: i64 = row.get(0)?;
            if row.get::<_, i64>(1)? != key_sum(i64::from(*b), k, id) {
                return Err(corrupt(format!("a key row of block {b} does not match its checksum (record row {id})")));
            }
            let value = match read.get(&id) {
                Some(v) => Arc::clone(v),
                None => {
                    let Some(uid) = row.get_ref(2)?.as_str_or_null()? else {
                        return Err(corrupt(format!(
                            "a key row of block {b} points to record row {id}, which is not there"
                        )));
                    };
                    let value = Arc::new(stored_record(id, uid, row.get_ref(3)?.as_str()?, row.get(4)?)?);
                    read.insert(id, Arc::clone(&value));
                    value
                }
            };
            rows.push((id, value, at));
        }
        if n >= SCAN_PER_KEY as u64 {
            n = conn.query_row("SELECT count(*) FROM keys WHERE block = ?1 AND key = ?2", params![b, k], |r| {
                r.get::<_, i64>(0)
            })? as u64;
        }
        counts.push(n);
    }
    Ok(Lookup { terms, ..Lookup::from_rows(rows, keys, &counts) })
}

/// What is damaged in the file, one finding per entry (empty: nothing found). SQLite's own
/// check (`integrity_check` when `thorough`, else `quick_check`), then the checksum of every
/// key row; when `thorough` also of every record, and key rows without a record. Reads the
/// whole file.
fn verify(conn: &Connection, thorough: bool) -> Vec<String> {
    let mut damage = Vec::new();
    let check = if thorough { "integrity_check" } else { "quick_check" };
    let lines = conn
        .prepare(&format!("PRAGMA {check}(5)"))
        .and_then(|mut st| st.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>());
    match lines {
        Ok(lines) if lines.iter().all(|l| l == "ok") => {}
        Ok(lines) => damage.push(format!("SQLite's {check} reports: {}", lines.join("; "))),
        Err(e) => damage.push(format!("SQLite's {check} stopped: {e}")),
    }
    if read_layout(conn).as_deref() != Some(SCHEMA_VERSION) {
        return damage;
    }
    // `what`: (one row is bad, several are, the rows in general).
    let mut scan =
        |what: (&str, &str, &str), sql: &str, bad: &dyn Fn(&rusqlite::Row<'_>) -> rusqlite::Result<Option<String>>| {
            let result = conn.prepare(sql).and_then(|mut st| {
                let mut rows = st.query([])?;
                let (mut n, mut first) = (0u64, None);
                while let Some(row) = rows.next()? {
                    if let Some(which) = bad(row)? {
                        n += 1;
                        first.get_or_insert(which);
                    }
                }
                Ok((n, first))
            });
            match result {
                Ok((0, _)) => {}
                Ok((n, first)) => damage.push(finding(n, what.0, what.1, &first.unwrap_or_default())),
                Err(e) => damage.push(format!("the {} cannot be read: {e}", what.2)),
            }
        };
    let bad_keys = ("key row does not match its checksum", "key rows do not match their checksum", "key rows");
    scan(bad_keys, "SELECT block, key, record, sum FROM keys", &|r| {
        let (block, record): (i64, i64) = (r.get(0)?, r.get(2)?);
        let key = r.get_ref(1)?.as_str().unwrap_or("");
        Ok((r.get::<_, i64>(3)? != key_sum(block, key, record))
            .then(|| format!("block {block} of record row {record}")))
    });
    if thorough {
        let bad_records = ("record does not match its checksum", "records do not match their checksum", "records");
        scan(bad_records, "SELECT rowid, uid, json, sum FROM records", &|r| {
            let id: i64 = r.get(0)?;
            let (uid, json) = (r.get_ref(1)?.as_str().unwrap_or(""), r.get_ref(2)?.as_str().unwrap_or(""));
            Ok((r.get::<_, i64>(3)? != record_sum(uid, json)).then(|| format!("record row {id}")))
        });
        scan(
            ("key row points to no record", "key rows point to no record", "key rows"),
            "SELECT block, record FROM keys WHERE record NOT IN (SELECT rowid FROM records)",
            &|r| Ok(Some(format!("block {} of record row {}", r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))),
        );
    }
    damage
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_becomes_a_uri_that_means_the_same_file() {
        assert_eq!(file_uri(Path::new("/data/registry.db")), "file:/data/registry.db");
        assert_eq!(file_uri(Path::new("a b/c?d#e%.db")), "file:a%20b/c%3Fd%23e%25.db");
        assert_eq!(file_uri(Path::new("登録.db")), "file:%E7%99%BB%E9%8C%B2.db");
    }
}
