//! The server registry: enrolled records in a PostgreSQL database that many enrollment
//! windows and batch jobs share.
//!
//! Input: [`Entry`]s and lookups by key, exactly as for the embedded store; the keys are
//! computed by the rules, never here. Output: candidate records.
//!
//! Tables (created and migrated by kensa, see [`MIGRATIONS`]):
//! `kensa_records(uid PRIMARY KEY, seq, json)`, `kensa_keys(block, key, seq, uid)` with the
//! primary key `(block, key, seq, uid)` as the lookup index, `kensa_meta(name, value)` (the
//! [`KeyVersion`] of the stored keys) and `kensa_schema_migrations(version, …)`. `seq` is the
//! enrollment order: a lookup returns the first [`SCAN_PER_KEY`] records of a key, in that
//! order, as the other stores do. Every table is keyed so that a distributed PostgreSQL
//! (Citus) can shard `kensa_records` by `uid` and `kensa_keys` by `key`: see docs/POSTGRES.md.
//!
//! Concurrency — the invariant that matters: two enrollments of one person never both see a
//! registry without the other. Two records of one person can only be compared when they share
//! a blocking key (that is what a lookup is), so an enrollment takes a transaction-scoped
//! advisory lock on each of its keys (and on its uid), in ascending order, before it looks
//! anything up; it then decides and inserts, and the locks are released at commit. A second
//! enrollment sharing any key waits for the first to commit, and its lookup (a new statement
//! under READ COMMITTED, so a new snapshot) sees the first's record. Enrollments with no key in
//! common run in parallel. Lock order is global (one shared lock on [`GLOBAL_LOCK`], then keys
//! ascending), so enrollments cannot deadlock. Migrations and key rebuilds hold
//! [`GLOBAL_LOCK`] exclusively, so no enrollment runs while the keys change meaning, and an
//! enrollment whose process opened the registry with other rules than the stored keys is
//! refused. SERIALIZABLE isolation would also be correct but aborts and retries under
//! contention, and Citus does not offer it across shards; the locks work on both.

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use postgres::{Client, Config, NoTls, Statement};
use rayon::prelude::*;

use super::integrity::{damaged, finding};
use super::{
    Access, Enroll, Entry, Fetched, Inserted, KeyFn, KeyVersion, Keys, Lookup, Rebuilt, Registry, RegistryError,
    SCAN_PER_KEY, Stats, Store, fnv1a, redact,
};

/// The advisory lock that migrations and key rebuilds hold exclusively and every write holds
/// shared ("kensa" and 1 in its bytes).
pub const GLOBAL_LOCK: i64 = 0x6b65_6e73_6100_0001;

/// The table layout, one step per version. A database is brought to the last version when it
/// is opened for writing; each step runs once, in one transaction, recorded in
/// `kensa_schema_migrations`. Steps are never edited once released: a change is a new step.
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "records, blocking keys and the key version",
        "CREATE TABLE kensa_meta (name text PRIMARY KEY, value text NOT NULL);
     CREATE TABLE kensa_records (
       uid text PRIMARY KEY,
       seq bigint GENERATED ALWAYS AS IDENTITY,
       json text NOT NULL
     );
     CREATE TABLE kensa_keys (
       block integer NOT NULL,
       key text NOT NULL,
       seq bigint NOT NULL,
       uid text NOT NULL,
       PRIMARY KEY (block, key, seq, uid)
     );",
    ),
    (
        2,
        "counts of the values that comparisons weigh by frequency",
        "CREATE TABLE kensa_terms (
       term integer NOT NULL,
       value text NOT NULL,
       n bigint NOT NULL,
       PRIMARY KEY (term, value)
     );
     CREATE TABLE kensa_term_totals (term integer PRIMARY KEY, n bigint NOT NULL, squares bigint NOT NULL);",
    ),
];

/// Rows per statement when a batch is imported or keys are rebuilt.
const CHUNK: usize = 5_000;

/// How a PostgreSQL registry is reached.
#[derive(Clone, Debug)]
pub struct PgOptions {
    /// Connections this process keeps open at most (lookups and enrollments run in parallel on
    /// up to this many). Default: 2 × the number of CPUs, at least 4.
    pub pool_size: u32,
    /// How long to wait for the server to accept a connection, and for a free pooled one.
    pub connect_timeout: Duration,
    /// How long a write waits for a lock held by another window before it fails.
    pub lock_timeout: Duration,
    /// The schema holding kensa's tables; `None` uses the connection's `search_path` (normally
    /// `public`). A schema that does not exist is created when the registry is opened for
    /// writing. Letters, digits and `_` only.
    pub schema: Option<String>,
}

impl Default for PgOptions {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        PgOptions {
            pool_size: u32::try_from(cpus * 2).unwrap_or(8).max(4),
            connect_timeout: Duration::from_secs(10),
            lock_timeout: Duration::from_secs(60),
            schema: None,
        }
    }
}

/// The statements of one connection, prepared when it is opened.
struct Statements {
    lock: Statement,
    check: Statement,
    candidates: Statement,
    /// The number of records sharing one key (of a key read up to the scan limit).
    count_key: Statement,
    /// The count of a term key's value, and the totals of its term.
    term: Statement,
    insert_one: Statement,
}

/// A pooled connection.
pub struct Conn {
    client: Client,
    st: Statements,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Conn")
    }
}

struct Manager {
    config: Config,
    lock_timeout: Duration,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Conn, postgres::Error> {
        let mut client = self.config.connect(NoTls)?;
        client.batch_execute(&format!("SET lock_timeout = '{}ms'", self.lock_timeout.as_millis()))?;
        let st = Statements {
            // The global lock shared, then the keys in the order given (ascending).
            lock: client.prepare(
                "SELECT (CASE WHEN i = 1 THEN pg_advisory_xact_lock_shared(k) ELSE pg_advisory_xact_lock(k) END)::text \
                 FROM unnest($1::int8[]) WITH ORDINALITY AS t(k, i)",
            )?,
            check: client.prepare(
                "SELECT EXISTS (SELECT 1 FROM kensa_records WHERE uid = $1), \
                 (SELECT string_agg(name || '=' || value, ',' ORDER BY name COLLATE \"C\") FROM kensa_meta \
                  WHERE name = ANY($2))",
            )?,
            candidates: client.prepare(
                "SELECT r.seq, r.json, q.i, r.uid FROM unnest($1::int4[], $2::text[]) WITH ORDINALITY AS q(block, key, i) \
                 CROSS JOIN LATERAL (SELECT k.seq, k.uid FROM kensa_keys k WHERE k.block = q.block AND k.key = q.key \
                                     ORDER BY k.seq LIMIT $3) AS k \
                 JOIN kensa_records r ON r.uid = k.uid",
            )?,
            count_key: client.prepare("SELECT count(*) FROM kensa_keys WHERE block = $1 AND key = $2")?,
            term: client.prepare(
                "SELECT (SELECT n FROM kensa_terms WHERE term = $1 AND value = $2), \
                        (SELECT n FROM kensa_term_totals WHERE term = $1), \
                        (SELECT squares FROM kensa_term_totals WHERE term = $1)",
            )?,
            insert_one: client.prepare(
                "WITH r AS (INSERT INTO kensa_records (uid, json) VALUES ($1, $2) ON CONFLICT (uid) DO NOTHING RETURNING seq, uid), \
                 k AS (INSERT INTO kensa_keys (block, key, seq, uid) \
                       SELECT t.block, t.key, r.seq, r.uid FROM r, unnest($3::int4[], $4::text[]) AS t(block, key) \
                       ON CONFLICT DO NOTHING) \
                 SELECT count(*) FROM r",
            )?,
        };
        Ok(Conn { client, st })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.client.is_closed()
    }
}

/// Records in a PostgreSQL database. `Send + Sync`: threads take connections from a pool.
pub struct PostgresRegistry {
    /// The URL without its password.
    shown: String,
    access: Access,
    pool: r2d2::Pool<Manager>,
    /// `name=value,…` of the key version this process computes keys with, sorted by name.
    version: String,
    /// The names of the key version's entries (what the enrollment check reads back).
    version_names: Vec<&'static str>,
    rebuilt: Option<Rebuilt>,
    /// Once the registry has a record it keeps one (kensa never deletes), so this is asked once.
    nonempty: AtomicBool,
}

impl std::fmt::Debug for PostgresRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresRegistry").field("url", &self.shown).field("access", &self.access).finish()
    }
}

/// A readable message for a client error: the server's message, code and hint (never its
/// detail line, which can quote a key value such as a My Number).
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = format!("{} (SQLSTATE {})", db.message(), db.code().code());
            if let Some(h) = db.hint() {
                s.push_str("; hint: ");
                s.push_str(h);
            }
            s
        }
        None => {
            let mut s = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(inner) = source {
                let text = inner.to_string();
                if !s.contains(&text) {
                    s.push_str(": ");
                    s.push_str(&text);
                }
                source = inner.source();
            }
            s
        }
    }
}

fn version_string(version: &KeyVersion) -> String {
    let mut entries: Vec<(&str, &str)> = version.entries().to_vec();
    entries.sort_unstable();
    entries.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join(",")
}

fn key_lock(block: u32, key: &str) -> i64 {
    let mut bytes = Vec::with_capacity(key.len() + 5);
    bytes.extend_from_slice(&block.to_le_bytes());
    bytes.push(0);
    bytes.extend_from_slice(key.as_bytes());
    fnv1a(&bytes) as i64
}

fn uid_lock(uid: &str) -> i64 {
    let mut bytes = Vec::with_capacity(uid.len() + 5);
    bytes.extend_from_slice(b"uid\0\0");
    bytes.extend_from_slice(uid.as_bytes());
    fnv1a(&bytes) as i64
}

/// The advisory locks an enrollment of `entry` takes, in the order it takes them: the global
/// lock first (shared), then one per key and one for the uid, ascending.
pub fn enrollment_locks(entry: &Entry) -> Vec<i64> {
    let mut locks: Vec<i64> = entry.keys.iter().map(|(b, k)| key_lock(*b, k)).collect();
    locks.push(uid_lock(&entry.uid));
    locks.sort_unstable();
    locks.dedup();
    locks.retain(|l| *l != GLOBAL_LOCK);
    locks.insert(0, GLOBAL_LOCK);
    locks
}

/// Text as PostgreSQL stores it: a `text` value cannot hold U+0000, which a record (and so an
/// id or a key) may contain, so it becomes U+FFFD — in every write and every lookup alike, so
/// equal keys stay equal. (Record JSON escapes it as `\u0000` and needs nothing.)
fn text(s: &str) -> Cow<'_, str> {
    if s.contains('\0') { Cow::Owned(s.replace('\0', "\u{FFFD}")) } else { Cow::Borrowed(s) }
}

/// Split keys into the two arrays the statements take.
fn key_arrays(keys: &[(u32, String)]) -> (Vec<i32>, Vec<Cow<'_, str>>) {
    keys.iter().map(|(b, k)| (i32::try_from(*b).unwrap_or(i32::MAX), text(k))).unzip()
}

fn valid_schema(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

impl PostgresRegistry {
    /// Connect for lookups only (`kensa eval --registry postgres://…`). Fails when the server
    /// cannot be reached, the database holds no kensa registry or an older layout, or its keys
    /// were built by other rules or normalization data than `version`.
    pub fn open_read(url: &str, options: &PgOptions, version: &KeyVersion) -> Result<PostgresRegistry, RegistryError> {
        let (config, shown) = config(url, options)?;
        let e = |what: &str, err: postgres::Error| RegistryError(format!("{shown}: {what}: {}", describe(&err)));
        let mut client = config.connect(NoTls).map_err(|err| connect_error(&shown, &err))?;
        let layout = layout_version(&mut client).map_err(|err| e("cannot read the registry layout", err))?;
        let latest = latest_layout();
        match layout {
            None => {
                return Err(RegistryError(format!(
                    "{shown}: no kensa registry in this database{}; create one with `kensa registry import --db {shown} RECORDS`",
                    options.schema.as_deref().map(|s| format!(" (schema `{s}`)")).unwrap_or_default()
                )));
            }
            Some(v) if v > latest => return Err(newer_layout(&shown, v)),
            Some(v) if v < latest => {
                return Err(RegistryError(format!(
                    "{shown}: the registry has layout version {v} and this kensa uses {latest}; \
                     migrate it with `kensa registry rebuild --db {shown}`"
                )));
            }
            Some(_) => {}
        }
        let meta = read_meta(&mut client).map_err(|err| e("cannot read the key version", err))?;
        if let Some(diff) = super::store::version_diff(&meta, version) {
            return Err(RegistryError(format!("{shown}: {}", super::store::stale_keys(&diff, &shown))));
        }
        drop(client);
        Self::with_pool(config, shown, options, Access::ReadOnly, version, None)
    }

    /// Connect for lookups, imports and enrollments: creates the schema and tables when
    /// missing, applies pending [`MIGRATIONS`], and rebuilds keys built by another `version`
    /// with `keys` (see [`PostgresRegistry::rebuilt`]), all in one transaction that holds the
    /// global lock, so concurrent writers wait.
    pub fn open_write(
        url: &str,
        options: &PgOptions,
        version: &KeyVersion,
        keys: KeyFn<'_>,
    ) -> Result<PostgresRegistry, RegistryError> {
        let (config, shown) = config(url, options)?;
        let mut client = config.connect(NoTls).map_err(|err| connect_error(&shown, &err))?;
        if let Some(schema) = &options.schema {
            client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")).map_err(|err| {
                RegistryError(format!("{shown}: cannot create schema `{schema}`: {}", describe(&err)))
            })?;
        }
        let rebuilt = prepare(&mut client, &shown, version, keys, false)?;
        drop(client);
        Self::with_pool(config, shown, options, Access::ReadWrite, version, rebuilt)
    }

    /// Rebuild every key from the records (`kensa registry rebuild`), under the global lock:
    /// key rows that no longer match their records, or whose record is gone, are replaced;
    /// pending migrations are applied and `version` recorded. Refused, with nothing changed,
    /// when a record is not JSON (keys cannot be built from it: restore it from a backup).
    pub fn rebuild(
        url: &str,
        options: &PgOptions,
        version: &KeyVersion,
        keys: KeyFn<'_>,
    ) -> Result<Rebuilt, RegistryError> {
        let (config, shown) = config(url, options)?;
        let mut client = config.connect(NoTls).map_err(|err| connect_error(&shown, &err))?;
        if layout_version(&mut client).map_err(|err| RegistryError(format!("{shown}: {}", describe(&err))))?.is_none() {
            return Err(RegistryError(format!("{shown}: no kensa registry in this database")));
        }
        prepare(&mut client, &shown, version, keys, true)?
            .ok_or_else(|| RegistryError(format!("{shown}: the keys were not rebuilt")))
    }

    fn with_pool(
        config: Config,
        shown: String,
        options: &PgOptions,
        access: Access,
        version: &KeyVersion,
        rebuilt: Option<Rebuilt>,
    ) -> Result<PostgresRegistry, RegistryError> {
        let manager = Manager { config, lock_timeout: options.lock_timeout };
        let pool = r2d2::Pool::builder()
            .max_size(options.pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(options.connect_timeout)
            .test_on_check_out(false)
            .build(manager)
            .map_err(|err| RegistryError(format!("{shown}: cannot open a connection pool: {err}")))?;
        Ok(PostgresRegistry {
            shown,
            access,
            pool,
            version: version_string(version),
            version_names: version.entries().iter().map(|(name, _)| *name).collect(),
            rebuilt,
            nonempty: AtomicBool::new(false),
        })
    }

    /// What a registry database holds, without checking its key version, and what is damaged
    /// between its tables (the server checks its own pages): key rows whose record is gone or
    /// has another enrollment number, records that are not JSON. Reads every record.
    pub fn stats(url: &str, options: &PgOptions) -> Result<Stats, RegistryError> {
        let (config, shown) = config(url, options)?;
        let mut client = config.connect(NoTls).map_err(|err| connect_error(&shown, &err))?;
        let e = |err: postgres::Error| RegistryError(format!("{shown}: {}", describe(&err)));
        if layout_version(&mut client).map_err(e)?.is_none() {
            return Err(RegistryError(format!("{shown}: no kensa registry in this database")));
        }
        let mut meta = read_meta(&mut client).map_err(e)?;
        let records: i64 = client.query_one("SELECT count(*) FROM kensa_records", &[]).map_err(e)?.get(0);
        let keys_per_block = client
            .query("SELECT block, count(*) FROM kensa_keys GROUP BY block ORDER BY block", &[])
            .map_err(e)?
            .iter()
            .map(|r| (u32::try_from(r.get::<_, i32>(0)).unwrap_or(0), u64::try_from(r.get::<_, i64>(1)).unwrap_or(0)))
            .collect();
        let bytes: i64 = client
            .query_one(
                "SELECT (pg_total_relation_size('kensa_records') + pg_total_relation_size('kensa_keys') \
                 + pg_total_relation_size('kensa_meta'))::int8",
                &[],
            )
            .map_err(e)?
            .get(0);
        let crowded = client
            .query(&super::store::crowded_keys_sql("kensa_keys", "key COLLATE \"C\""), &[])
            .map_err(e)?
            .iter()
            .map(|r| {
                (
                    u32::try_from(r.get::<_, i32>(0)).unwrap_or(0),
                    r.get::<_, String>(1),
                    u64::try_from(r.get::<_, i64>(2)).unwrap_or(0),
                )
            })
            .collect();
        let layout = layout_version(&mut client).map_err(e)?.unwrap_or(0);
        meta.push((String::from("schema_version"), layout.to_string()));
        meta.sort();
        let damage = verify(&mut client).map_err(e)?;
        Ok(Stats {
            records: u64::try_from(records).unwrap_or(0),
            keys_per_block,
            meta,
            file_bytes: u64::try_from(bytes).unwrap_or(0),
            crowded,
            damage,
        })
    }

    /// Drop a schema and everything in it (the temporary registries of `kensa test --store`).
    pub fn drop_schema(url: &str, options: &PgOptions, schema: &str) -> Result<(), RegistryError> {
        if !valid_schema(schema) {
            return Err(RegistryError(format!("`{schema}` is not a schema name (letters, digits and _ only)")));
        }
        let plain = PgOptions { schema: None, ..options.clone() };
        let (config, shown) = config(url, &plain)?;
        let mut client = config.connect(NoTls).map_err(|err| connect_error(&shown, &err))?;
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .map_err(|err| RegistryError(format!("{shown}: cannot drop schema `{schema}`: {}", describe(&err))))
    }

    /// The URL without its password.
    pub fn url(&self) -> &str {
        &self.shown
    }

    fn conn(&self) -> Result<r2d2::PooledConnection<Manager>, RegistryError> {
        self.pool.get().map_err(|err| RegistryError(format!("{}: no connection: {err}", self.shown)))
    }

    fn err(&self, what: &str, e: &postgres::Error) -> RegistryError {
        RegistryError(format!("{}: {what}: {}", self.shown, describe(e)))
    }

    fn lookup_err(&self, e: ReadError) -> RegistryError {
        match e {
            ReadError::Server(e) => self.err("lookup failed", &e),
            ReadError::NotJson(uid) => RegistryError(damaged(&self.shown, &format!("the record `{uid}` is not JSON"))),
        }
    }

    fn writable(&self) -> Result<(), RegistryError> {
        match self.access {
            Access::ReadWrite => Ok(()),
            Access::ReadOnly => Err(RegistryError(format!("{}: the registry is open read-only", self.shown))),
        }
    }
}

fn connect_error(shown: &str, e: &postgres::Error) -> RegistryError {
    RegistryError(format!(
        "{shown}: cannot connect: {}; check that the server is running and that the URL, user and password are right \
         (a password can also come from PGPASSWORD)",
        describe(e)
    ))
}

fn newer_layout(shown: &str, v: i32) -> RegistryError {
    RegistryError(format!(
        "{shown}: the registry has layout version {v}, made by a newer kensa (this one knows up to {}); use that kensa",
        latest_layout()
    ))
}

fn latest_layout() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// Parse the URL and apply the options; also returns the URL to show in messages.
fn config(url: &str, options: &PgOptions) -> Result<(Config, String), RegistryError> {
    let shown = redact(url);
    let mut config = Config::from_str(url).map_err(|e| {
        RegistryError(format!("`{shown}` is not a PostgreSQL URL: {e} (expected postgres://user@host:port/database)"))
    })?;
    if config.get_ssl_mode() == postgres::config::SslMode::Require {
        return Err(RegistryError(format!(
            "`{shown}` asks for TLS (sslmode=require), but kensa's PostgreSQL client has no TLS: connect over \
             loopback, a Unix socket or a TLS tunnel, and drop sslmode or set it to prefer"
        )));
    }
    if config.get_password().is_none()
        && let Ok(pw) = std::env::var("PGPASSWORD")
    {
        config.password(pw);
    }
    if config.get_application_name().is_none() {
        config.application_name("kensa");
    }
    config.connect_timeout(options.connect_timeout);
    if let Some(schema) = &options.schema {
        if !valid_schema(schema) {
            return Err(RegistryError(format!("`{schema}` is not a schema name (letters, digits and _ only)")));
        }
        let mut opts = config.get_options().map(str::to_string).unwrap_or_default();
        if !opts.is_empty() {
            opts.push(' ');
        }
        opts.push_str(&format!("-c search_path={schema}"));
        config.options(&opts);
    }
    Ok((config, shown))
}

/// The layout version, or `None` when the database has no kensa tables.
fn layout_version(client: &mut Client) -> Result<Option<i32>, postgres::Error> {
    let exists: bool = client.query_one("SELECT to_regclass('kensa_schema_migrations') IS NOT NULL", &[])?.get(0);
    if !exists {
        return Ok(None);
    }
    let v: Option<i32> = client.query_one("SELECT max(version) FROM kensa_schema_migrations", &[])?.get(0);
    Ok(v)
}

fn read_meta(client: &mut impl postgres::GenericClient) -> Result<Vec<(String, String)>, postgres::Error> {
    Ok(client
        .query("SELECT name, value FROM kensa_meta ORDER BY name", &[])?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// Migrate, record the key version of a new registry, rebuild stale keys: one transaction
/// under the global lock.
fn prepare(
    client: &mut Client,
    shown: &str,
    version: &KeyVersion,
    keys: KeyFn<'_>,
    force: bool,
) -> Result<Option<Rebuilt>, RegistryError> {
    let e = |what: &str, err: postgres::Error| RegistryError(format!("{shown}: {what}: {}", describe(&err)));
    let mut tx = client.transaction().map_err(|err| e("cannot begin", err))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&GLOBAL_LOCK]).map_err(|err| e("cannot lock", err))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS kensa_schema_migrations (
           version integer PRIMARY KEY,
           description text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .map_err(|err| e("cannot create the migrations table", err))?;
    let have: i32 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM kensa_schema_migrations", &[])
        .map_err(|err| e("cannot read the layout version", err))?
        .get(0);
    if have > latest_layout() {
        return Err(newer_layout(shown, have));
    }
    for (v, description, sql) in MIGRATIONS.iter().filter(|m| m.0 > have) {
        tx.batch_execute(sql).map_err(|err| e(&format!("migration {v} ({description}) failed"), err))?;
        tx.execute("INSERT INTO kensa_schema_migrations (version, description) VALUES ($1, $2)", &[v, description])
            .map_err(|err| e("cannot record a migration", err))?;
    }
    let meta = read_meta(&mut tx).map_err(|err| e("cannot read the key version", err))?;
    let any: bool =
        tx.query_one("SELECT EXISTS (SELECT 1 FROM kensa_records)", &[]).map_err(|err| e("cannot read", err))?.get(0);
    let diff = super::store::version_diff(&meta, version);
    let rebuilt = if force || (diff.is_some() && any) {
        let records = match rebuild(&mut tx, keys) {
            Ok(n) => n,
            Err(ReadError::Server(err)) => return Err(e("cannot rebuild the keys", err)),
            Err(ReadError::NotJson(uid)) => {
                return Err(RegistryError(format!(
                    "{shown}: the keys cannot be rebuilt: the record `{uid}` is not JSON; restore it from a backup \
                     (nothing was changed)"
                )));
            }
        };
        Some(Rebuilt { records, reason: super::store::rebuild_reason(diff) })
    } else {
        None
    };
    for (name, value) in version.entries() {
        tx.execute(
            "INSERT INTO kensa_meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            &[&name, &value],
        )
        .map_err(|err| e("cannot record the key version", err))?;
    }
    tx.commit().map_err(|err| e("cannot commit", err))?;
    Ok(rebuilt)
}

/// What is damaged between kensa's tables, one finding per entry: key rows whose record is
/// gone or has another enrollment number, and records that are not JSON (streamed).
fn verify(client: &mut Client) -> Result<Vec<String>, postgres::Error> {
    let mut damage = Vec::new();
    let row = client.query_one(
        "SELECT count(*) FILTER (WHERE r.uid IS NULL), count(*) FILTER (WHERE r.seq <> k.seq), \
                min(k.uid) FILTER (WHERE r.uid IS NULL OR r.seq <> k.seq) \
         FROM kensa_keys k LEFT JOIN kensa_records r ON r.uid = k.uid",
        &[],
    )?;
    let (gone, moved, first): (i64, i64, Option<String>) = (row.get(0), row.get(1), row.get(2));
    let first = format!("`{}`", first.unwrap_or_default());
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    if gone > 0 {
        damage.push(finding(n(gone), "key row points to no record", "key rows point to no record", &first));
    }
    if moved > 0 {
        let (one, many) = (
            "key row carries another enrollment number than its record",
            "key rows carry another enrollment number than their record",
        );
        damage.push(finding(n(moved), one, many, &first));
    }
    let mut tx = client.transaction()?;
    let portal = tx.bind("SELECT uid, json FROM kensa_records", &[])?;
    let (mut bad, mut first_bad) = (0u64, None);
    loop {
        let rows = tx.query_portal(&portal, 20_000)?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            if serde_json::from_str::<serde::de::IgnoredAny>(r.get(1)).is_err() {
                bad += 1;
                first_bad.get_or_insert_with(|| format!("`{}`", r.get::<_, String>(0)));
            }
        }
    }
    tx.commit()?;
    if bad > 0 {
        damage.push(finding(bad, "record is not JSON", "records are not JSON", &first_bad.unwrap_or_default()));
    }
    Ok(damage)
}

/// Why reading stored records failed (a lookup, a key rebuild).
enum ReadError {
    Server(postgres::Error),
    /// The uid of a stored record that is not JSON.
    NotJson(String),
}

impl From<postgres::Error> for ReadError {
    fn from(e: postgres::Error) -> ReadError {
        ReadError::Server(e)
    }
}

/// Recompute every record's keys inside the caller's transaction, streaming the records. A
/// record that is not JSON stops it (the caller's transaction is then rolled back).
fn rebuild(tx: &mut postgres::Transaction<'_>, keys: KeyFn<'_>) -> Result<u64, ReadError> {
    tx.batch_execute("DELETE FROM kensa_keys; DELETE FROM kensa_terms; DELETE FROM kensa_term_totals")?;
    let portal = tx.bind("SELECT seq, uid, json FROM kensa_records", &[])?;
    let mut total = 0u64;
    loop {
        let rows = tx.query_portal(&portal, 20_000)?;
        if rows.is_empty() {
            break;
        }
        let read: Vec<(i64, String, String)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
        let computed: Vec<(i64, &str, Keys)> = read
            .par_iter()
            .map(|(seq, uid, json)| match serde_json::from_str::<serde_json::Value>(json) {
                Ok(v) => Ok((*seq, uid.as_str(), keys(&v))),
                Err(_) => Err(ReadError::NotJson(uid.clone())),
            })
            .collect::<Result<_, _>>()?;
        let mut rows = KeyRows::default();
        for (seq, uid, ks) in &computed {
            rows.push(*seq, uid, ks);
        }
        rows.insert(tx)?;
        total += computed.len() as u64;
    }
    Ok(total)
}

/// Key rows collected for one multi-row insert.
#[derive(Default)]
struct KeyRows<'a> {
    blocks: Vec<i32>,
    keys: Vec<Cow<'a, str>>,
    seqs: Vec<i64>,
    uids: Vec<Cow<'a, str>>,
    terms: TermRows<'a>,
}

/// Term keys to count ([`super::is_term`]): records per (term, value).
#[derive(Default)]
struct TermRows<'a>(std::collections::BTreeMap<(i32, Cow<'a, str>), i64>);

impl<'a> TermRows<'a> {
    fn push(&mut self, term: u32, value: &'a str) {
        *self.0.entry((i32::try_from(term).unwrap_or(i32::MAX), text(value))).or_default() += 1;
    }

    /// Add the counts, in one statement. Rows are locked in one global order (every term row by
    /// (term, value), then the totals by term), so concurrent enrollments cannot deadlock.
    fn count(&self, tx: &mut impl postgres::GenericClient) -> Result<(), postgres::Error> {
        if self.0.is_empty() {
            return Ok(());
        }
        let terms: Vec<i32> = self.0.keys().map(|(t, _)| *t).collect();
        let values: Vec<&str> = self.0.keys().map(|(_, v)| v.as_ref()).collect();
        let adds: Vec<i64> = self.0.values().copied().collect();
        tx.execute(
            "WITH u AS (SELECT * FROM unnest($1::int4[], $2::text[], $3::int8[]) WITH ORDINALITY AS u(term, value, k, i)), \
             t AS (INSERT INTO kensa_terms (term, value, n) SELECT term, value, k FROM u ORDER BY i \
                   ON CONFLICT (term, value) DO UPDATE SET n = kensa_terms.n + excluded.n RETURNING term, value, n) \
             INSERT INTO kensa_term_totals (term, n, squares) \
             SELECT t.term, sum(u.k), sum(t.n * t.n - (t.n - u.k) * (t.n - u.k)) FROM t JOIN u USING (term, value) \
             GROUP BY t.term ORDER BY t.term \
             ON CONFLICT (term) DO UPDATE SET n = kensa_term_totals.n + excluded.n, \
                                              squares = kensa_term_totals.squares + excluded.squares",
            &[&terms, &values, &adds],
        )?;
        Ok(())
    }
}

impl<'a> KeyRows<'a> {
    fn push(&mut self, seq: i64, uid: &'a str, keys: &'a [(u32, String)]) {
        for (b, k) in keys {
            if super::is_term(*b) {
                self.terms.push(*b, k);
                continue;
            }
            self.blocks.push(i32::try_from(*b).unwrap_or(i32::MAX));
            self.keys.push(text(k));
            self.seqs.push(seq);
            self.uids.push(text(uid));
        }
    }

    fn insert(&self, tx: &mut postgres::Transaction<'_>) -> Result<(), postgres::Error> {
        let n = self.blocks.len();
        let mut at = 0;
        while at < n {
            let end = (at + CHUNK * 4).min(n);
            let r = at..end;
            tx.execute(
                "INSERT INTO kensa_keys (block, key, seq, uid) \
                 SELECT * FROM unnest($1::int4[], $2::text[], $3::int8[], $4::text[]) ON CONFLICT DO NOTHING",
                &[
                    &self.blocks.get(r.clone()).unwrap_or(&[]),
                    &self.keys.get(r.clone()).unwrap_or(&[]),
                    &self.seqs.get(r.clone()).unwrap_or(&[]),
                    &self.uids.get(r).unwrap_or(&[]),
                ],
            )?;
            at = end;
        }
        self.terms.count(tx)
    }
}

/// Candidates of `keys`: each record once, in enrollment order, with the keys it shares; at
/// most [`SCAN_PER_KEY`] per key. A key with that many is counted whole. A stored record that
/// is not JSON is an error, as on the embedded store: skipping it would change the verdict
/// silently.
fn candidates_on(
    client: &mut impl postgres::GenericClient,
    st: &Statements,
    keys: &[(u32, String)],
) -> Result<Lookup, ReadError> {
    let (terms, keys) = super::split_terms(keys);
    let terms = term_stats(client, st, &terms)?;
    if keys.is_empty() {
        return Ok(Lookup { terms, ..Lookup::default() });
    }
    let keys = &*keys;
    let (blocks, texts) = key_arrays(keys);
    let limit = i64::try_from(SCAN_PER_KEY).unwrap_or(i64::MAX);
    let result = client.query(&st.candidates, &[&blocks, &texts, &limit])?;
    let mut rows: Vec<(i64, Arc<serde_json::Value>, usize)> = Vec::with_capacity(result.len());
    let mut read: rustc_hash::FxHashMap<i64, Arc<serde_json::Value>> = rustc_hash::FxHashMap::default();
    let mut counts = vec![0u64; keys.len()];
    for row in &result {
        let seq: i64 = row.get(0);
        // `WITH ORDINALITY` counts from 1.
        let at = usize::try_from(row.get::<_, i64>(2) - 1).unwrap_or(0);
        if let Some(n) = counts.get_mut(at) {
            *n += 1;
        }
        let value = match read.get(&seq) {
            Some(v) => Arc::clone(v),
            None => {
                let text: &str = row.get(1);
                let value =
                    serde_json::from_str::<serde_json::Value>(text).map_err(|_| ReadError::NotJson(row.get(3)))?;
                let value = Arc::new(value);
                read.insert(seq, Arc::clone(&value));
                value
            }
        };
        rows.push((seq, value, at));
    }
    for ((b, k), n) in blocks.iter().zip(&texts).zip(counts.iter_mut()) {
        if *n >= SCAN_PER_KEY as u64 {
            let all: i64 = client.query_one(&st.count_key, &[b, k])?.get(0);
            *n = u64::try_from(all).unwrap_or(0);
        }
    }
    Ok(Lookup { terms, ..Lookup::from_rows(rows, keys, &counts) })
}

/// The counts of term keys.
fn term_stats(
    client: &mut impl postgres::GenericClient,
    st: &Statements,
    terms: &[(u32, String)],
) -> Result<Vec<super::TermStat>, ReadError> {
    let mut out = Vec::with_capacity(terms.len());
    for (t, v) in terms {
        let term = i32::try_from(*t).unwrap_or(i32::MAX);
        let row = client.query_one(&st.term, &[&term, &text(v)])?;
        let n = |x: Option<i64>| x.and_then(|x| u64::try_from(x).ok()).unwrap_or(0);
        out.push(super::TermStat { term: *t, count: n(row.get(0)), total: n(row.get(1)), squares: n(row.get(2)) });
    }
    Ok(out)
}

impl Registry for PostgresRegistry {
    fn candidates(&self, keys: &[(u32, String)]) -> Result<Lookup, RegistryError> {
        let mut conn = self.conn()?;
        let Conn { client, st } = &mut *conn;
        candidates_on(client, st, keys).map_err(|e| self.lookup_err(e))
    }

    fn len(&self) -> usize {
        self.conn()
            .ok()
            .and_then(|mut c| c.client.query_one("SELECT count(*) FROM kensa_records", &[]).ok())
            .and_then(|r| usize::try_from(r.get::<_, i64>(0)).ok())
            .unwrap_or(0)
    }

    fn is_empty(&self) -> bool {
        if self.nonempty.load(Ordering::Relaxed) {
            return false;
        }
        // On error, say "not empty" so that the lookup runs and reports the error.
        let any = self
            .conn()
            .ok()
            .and_then(|mut c| c.client.query_one("SELECT EXISTS (SELECT 1 FROM kensa_records)", &[]).ok())
            .is_none_or(|r| r.get::<_, bool>(0));
        if any {
            self.nonempty.store(true, Ordering::Relaxed);
        }
        !any
    }
}

impl Enroll for PostgresRegistry {
    fn enroll(
        &self,
        entry: &Entry,
        decide: &mut dyn FnMut(&dyn Registry, bool) -> bool,
    ) -> Result<bool, RegistryError> {
        self.writable()?;
        let locks = enrollment_locks(entry);
        let mut conn = self.conn()?;
        let Conn { client, st } = &mut *conn;
        let mut tx = client.transaction().map_err(|e| self.err("cannot begin", &e))?;
        // Locks first, in their own statement: the lookup after it takes a new snapshot that
        // includes every enrollment that held one of these locks before us.
        tx.query(&st.lock, &[&locks]).map_err(|e| self.err("cannot lock the record's keys", &e))?;
        let uid = text(&entry.uid);
        let row = tx.query_one(&st.check, &[&uid, &self.version_names]).map_err(|e| self.err("lookup failed", &e))?;
        let taken: bool = row.get(0);
        let stored: Option<String> = row.get(1);
        if stored.as_deref() != Some(self.version.as_str()) {
            return Err(RegistryError(format!(
                "{}: the registry's keys were rebuilt for other rules or normalization data after this process opened it; \
                 run the command again with the rules the registry now uses",
                self.shown
            )));
        }
        let found = candidates_on(&mut tx, st, &entry.keys).map_err(|e| self.lookup_err(e))?;
        let insert = decide(&Fetched(found), taken) && !taken;
        if insert {
            let json = entry.record.to_string();
            let (terms, keys) = super::split_terms(&entry.keys);
            let (blocks, texts) = key_arrays(&keys);
            let n: i64 = tx
                .query_one(&st.insert_one, &[&uid, &json, &blocks, &texts])
                .map_err(|e| self.err("cannot store the record", &e))?
                .get(0);
            if n != 1 {
                return Err(RegistryError(format!(
                    "{}: the record's id was stored by another window meanwhile",
                    self.shown
                )));
            }
            let mut counted = TermRows::default();
            for (t, v) in terms.iter() {
                counted.push(*t, v);
            }
            counted.count(&mut tx).map_err(|e| self.err("cannot count the record's values", &e))?;
        }
        tx.commit().map_err(|e| self.err("cannot commit", &e))?;
        if insert {
            self.nonempty.store(true, Ordering::Relaxed);
        }
        Ok(insert)
    }
}

impl Store for PostgresRegistry {
    fn insert_batch(&self, entries: &[Entry]) -> Result<Inserted, RegistryError> {
        self.writable()?;
        let mut conn = self.conn()?;
        let mut tx = conn.client.transaction().map_err(|e| self.err("cannot begin", &e))?;
        tx.execute("SELECT pg_advisory_xact_lock_shared($1)", &[&GLOBAL_LOCK])
            .map_err(|e| self.err("cannot lock", &e))?;
        // The first entry of a uid wins, as in the embedded store.
        let mut seen: rustc_hash::FxHashSet<&str> = rustc_hash::FxHashSet::default();
        let unique: Vec<&Entry> = entries.iter().filter(|e| seen.insert(e.uid.as_str())).collect();
        let mut n = Inserted { inserted: 0, skipped: (entries.len() - unique.len()) as u64 };
        for chunk in unique.chunks(CHUNK) {
            let uids: Vec<Cow<'_, str>> = chunk.iter().map(|e| text(&e.uid)).collect();
            let jsons: Vec<String> = chunk.iter().map(|e| e.record.to_string()).collect();
            let rows = tx
                .query(
                    "INSERT INTO kensa_records (uid, json) SELECT * FROM unnest($1::text[], $2::text[]) \
                     ON CONFLICT (uid) DO NOTHING RETURNING seq, uid",
                    &[&uids, &jsons],
                )
                .map_err(|e| self.err("cannot store records", &e))?;
            let stored: rustc_hash::FxHashMap<String, i64> =
                rows.iter().map(|r| (r.get::<_, String>(1), r.get::<_, i64>(0))).collect();
            let mut keys = KeyRows::default();
            for e in chunk {
                if let Some(seq) = stored.get(text(&e.uid).as_ref()) {
                    keys.push(*seq, &e.uid, &e.keys);
                }
            }
            keys.insert(&mut tx).map_err(|e| self.err("cannot store keys", &e))?;
            n.inserted += stored.len() as u64;
            n.skipped += (chunk.len() - stored.len()) as u64;
        }
        tx.commit().map_err(|e| self.err("cannot commit", &e))?;
        if n.inserted > 0 {
            self.nonempty.store(true, Ordering::Relaxed);
        }
        Ok(n)
    }

    fn rebuilt(&self) -> Option<&Rebuilt> {
        self.rebuilt.as_ref()
    }

    fn location(&self) -> String {
        self.shown.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_are_global_first_then_ascending_and_shared_keys_share_a_lock() {
        let a =
            Entry { uid: "id:A".into(), record: serde_json::json!({}), keys: vec![(0, "x".into()), (1, "y".into())] };
        let b =
            Entry { uid: "id:B".into(), record: serde_json::json!({}), keys: vec![(1, "y".into()), (2, "z".into())] };
        let (la, lb) = (enrollment_locks(&a), enrollment_locks(&b));
        assert_eq!(la.first(), Some(&GLOBAL_LOCK));
        assert!(la.get(1..).unwrap_or(&[]).windows(2).all(|w| w.first() < w.get(1)));
        assert_eq!(la.len(), 4);
        // The shared key (1, "y") is the one lock both take besides the global one.
        let common: Vec<&i64> = la.iter().skip(1).filter(|l| lb.contains(l)).collect();
        assert_eq!(common, [&key_lock(1, "y")]);
        // The same key text in another block is another lock.
        assert_ne!(key_lock(0, "y"), key_lock(1, "y"));
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(valid_schema("kensa_suite_12"));
        assert!(!valid_schema("1abc"));
        assert!(!valid_schema("a;DROP TABLE x"));
        assert!(!valid_schema(""));
    }
}
