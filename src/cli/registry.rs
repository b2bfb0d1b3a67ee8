//! `kensa registry import|stats|rebuild`: build and inspect a registry database file.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use kensa::internal::escape_controls;
use kensa::registry::{Entry, SqliteRegistry, Store, is_server_url};
use rayon::prelude::*;

use super::args::{ReadLimits, count_in, parse_today};
use super::exit;
use super::input::{self, Format, Pos, Raw};

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Add enrolled records (JSONL, JSON, YAML or CSV) to a registry database, creating it when
    /// missing. A record whose id is already stored is skipped (the stored one is kept), so an
    /// interrupted import can simply be run again.
    Import(ImportArgs),
    /// Show what a registry database holds, whether its keys match the rules, and whether it is
    /// damaged (this reads all of it; exit 1 when it is damaged, with what to do).
    Stats(StatsArgs),
    /// Recompute every blocking key from the records with the current rules: repairs damaged
    /// key rows and migrates an older layout (done automatically by `import` and `enroll` when
    /// the rules changed).
    Rebuild(RebuildArgs),
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// Record files; `-` reads standard input (JSONL).
    #[arg(required = true)]
    inputs: Vec<String>,
    /// The registry: a database file, or a PostgreSQL server (`postgres://user@host/database`).
    #[arg(long)]
    db: String,
    /// Rule file or folder whose `match` block defines the keys (default: the standard rules).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Input format when it cannot be told from the file name.
    #[arg(long, value_enum)]
    input_format: Option<Format>,
    /// The date to use as today for keys that depend on it.
    #[arg(long, value_parser = parse_today)]
    today: Option<kensa::Date>,
    /// Records per transaction (1 to 1,000,000).
    #[arg(long, default_value_t = 50_000, value_parser = count_in(1..=1_000_000))]
    batch: usize,
    /// Memory for database pages, in MiB (a database file only): the key index of a million
    /// records fits in 512 (1 to 65,536).
    #[arg(long, default_value_t = 512, value_parser = count_in(1..=65_536))]
    cache_mib: usize,
    #[command(flatten)]
    limits: ReadLimits,
}

#[derive(clap::Args, Debug)]
pub struct StatsArgs {
    /// The registry: a database file, or a PostgreSQL server (`postgres://user@host/database`).
    #[arg(long)]
    db: String,
    /// Compare the stored key version with these rules (default: the standard rules).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
pub struct RebuildArgs {
    /// The registry: a database file, or a PostgreSQL server (`postgres://user@host/database`).
    /// On a server this also applies pending layout migrations.
    #[arg(long)]
    db: String,
    /// Rule file or folder (default: the standard rules).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// The date to use as today for keys that depend on it.
    #[arg(long, value_parser = parse_today)]
    today: Option<kensa::Date>,
}

pub fn run(command: Command) -> u8 {
    match command {
        Command::Import(a) => import(a),
        Command::Stats(a) => stats(a),
        Command::Rebuild(a) => rebuild(a),
    }
}

/// Load the rules; `None` (after printing why) when they do not compile.
pub fn engine(rules: &super::RulesPath, today: Option<kensa::Date>) -> Option<kensa::Engine> {
    match super::load_engine(rules) {
        Ok(e) => Some(e.with_today(today.unwrap_or_else(kensa::today_in_japan))),
        Err(e) => {
            super::print_report(e.report());
            say!("error: the rules do not compile; fix the errors above (`kensa check` lists them)");
            None
        }
    }
}

/// Open (or create) a registry for writing — a database file, or a PostgreSQL server when `db`
/// is a `postgres://` URL — rebuilding stale keys; prints what it did. `cache_mib` sets the
/// page cache of a database file.
pub fn open_write(engine: &kensa::Engine, db: &str, cache_mib: Option<u32>) -> Result<Box<dyn Store>, String> {
    refuse_conninfo(db)?;
    if !engine.uses_registry() {
        return Err(String::from("the rules have no `match` block, so they define no registry keys"));
    }
    let keys = |v: &serde_json::Value| engine.blocking_keys(v);
    let started = Instant::now();
    let reg: Box<dyn Store> = if is_server_url(db) {
        open_server_write(db, engine, &keys)?
    } else {
        let reg = SqliteRegistry::open_write(Path::new(db), &engine.key_version(), &keys).map_err(|e| e.to_string())?;
        if let Some(mib) = cache_mib {
            reg.set_cache_size(mib).map_err(|e| e.to_string())?;
        }
        Box::new(reg)
    };
    if let Some(r) = reg.rebuilt() {
        say!("note: {}", rebuilt_note(r, started));
    }
    Ok(reg)
}

/// `the keys of N records were rebuilt in T s because …`.
fn rebuilt_note(r: &kensa::registry::Rebuilt, started: Instant) -> String {
    format!(
        "the keys of {} records were rebuilt in {:.1} s because {}",
        r.records,
        started.elapsed().as_secs_f64(),
        r.reason
    )
}

#[cfg(feature = "postgres")]
fn open_server_write(
    db: &str,
    engine: &kensa::Engine,
    keys: kensa::registry::KeyFn<'_>,
) -> Result<Box<dyn Store>, String> {
    let options = kensa::registry::PgOptions::default();
    kensa::registry::PostgresRegistry::open_write(db, &options, &engine.key_version(), keys)
        .map(|r| Box::new(r) as Box<dyn Store>)
        .map_err(|e| e.to_string())
}

#[cfg(not(feature = "postgres"))]
fn open_server_write(_: &str, _: &kensa::Engine, _: kensa::registry::KeyFn<'_>) -> Result<Box<dyn Store>, String> {
    Err(no_server_support())
}

/// The message when a `postgres://` URL is given to a kensa built without the backend.
#[cfg(not(feature = "postgres"))]
pub fn no_server_support() -> String {
    String::from(
        "this kensa was built without PostgreSQL support; build it with the `postgres` feature (on by default)",
    )
}

fn import(args: ImportArgs) -> u8 {
    let Some(engine) = engine(&args.rules, args.today) else { return exit::UNUSABLE };
    let limits = args.limits.limits();
    let cache_mib = u32::try_from(args.cache_mib).unwrap_or(u32::MAX);
    let reg = match open_write(&engine, &args.db, Some(cache_mib)) {
        Ok(r) => r,
        Err(e) => {
            say!("error: {e}");
            return exit::UNUSABLE;
        }
    };
    let started = Instant::now();
    let batch_size = args.batch.max(1);
    let mut total = kensa::registry::Inserted::default();
    let mut bad = 0u64;
    let mut batch: Vec<(Pos, Raw)> = Vec::with_capacity(batch_size);
    let show_file = args.inputs.len() > 1;

    let flush = |batch: &mut Vec<(Pos, Raw)>, total: &mut kensa::registry::Inserted, bad: &mut u64| -> io::Result<()> {
        let parsed: Vec<Result<Entry, (Pos, String)>> = batch
            .par_drain(..)
            .map(|(pos, raw)| {
                let value = match raw.into_value() {
                    Ok(v) => v,
                    Err(msg) => return Err((pos, msg)),
                };
                if !value.is_object() {
                    return Err((pos, String::from("a record must be a JSON object")));
                }
                // Stored records are judged later: they are held to the same limits now.
                limits.check_record(&value).map_err(|e| (pos.clone(), e.to_string()))?;
                engine.registry_entry(value).map_err(|e| (pos, e.to_string()))
            })
            .collect();
        let mut entries = Vec::with_capacity(parsed.len());
        for p in parsed {
            match p {
                Ok(e) => entries.push(e),
                Err((pos, msg)) => {
                    *bad += 1;
                    say!("error: {}: {msg}", where_(&pos));
                }
            }
        }
        let n = reg.insert_batch(&entries).map_err(|e| io::Error::other(e.to_string()))?;
        total.inserted += n.inserted;
        total.skipped += n.skipped;
        Ok(())
    };

    let plan = match input::plan(&args.inputs, args.input_format) {
        Ok(p) => p,
        Err(msg) => return super::fail(&msg),
    };
    for (path, format) in &plan {
        let format = *format;
        let mut sink = |pos: Pos, raw: Raw| -> io::Result<()> {
            batch.push((pos, raw));
            if batch.len() >= batch_size {
                flush(&mut batch, &mut total, &mut bad)?;
            }
            Ok(())
        };
        if let Err(e) = input::read(path, format, show_file, &limits, &mut sink) {
            say!("error: `{path}`: {e}");
            say!("{} records imported before the error (committed)", total.inserted);
            return exit::UNUSABLE;
        }
        if let Err(e) = flush(&mut batch, &mut total, &mut bad) {
            say!("error: {e}");
            return exit::UNUSABLE;
        }
    }
    // The counts reconcile: records read = imported + already stored + errors.
    say!(
        "{} records: {} imported into `{}`, {} already stored (skipped, the stored record is kept), {} errors; {:.1} s",
        total.inserted + total.skipped + bad,
        total.inserted,
        reg.location(),
        total.skipped,
        bad,
        started.elapsed().as_secs_f64(),
    );
    if bad > 0 { exit::SOME_FAILED } else { exit::OK }
}

fn where_(pos: &Pos) -> String {
    let unit = match pos.unit {
        input::Unit::Line => "line",
        input::Unit::Record => "record",
    };
    match &pos.file {
        Some(f) => format!("`{f}` {unit} {}", pos.n),
        None => format!("{unit} {}", pos.n),
    }
}

fn stats(args: StatsArgs) -> u8 {
    let Some(engine) = engine(&args.rules, None) else { return exit::UNUSABLE };
    let stats = match registry_stats(&args.db) {
        Ok(s) => s,
        Err(e) => {
            say!("error: {e}");
            return exit::UNUSABLE;
        }
    };
    let want = engine.key_version();
    let have = stats.key_version();
    let current = have.as_ref() == Some(&want);
    let advice = kensa::registry::damage_advice(&shown(&args.db));
    if args.json {
        let obj = serde_json::json!({
            "db": shown(&args.db),
            "records": stats.records,
            "keys": stats.keys_per_block.iter().map(|(b, n)| serde_json::json!({"block": b, "keys": n})).collect::<Vec<_>>(),
            "file_bytes": stats.file_bytes,
            "meta": stats.meta.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
            "keys_current": current,
            "crowded_keys": stats.crowded.iter().map(|(b, k, n)| serde_json::json!({
                "block": b, "on": engine.block_label(*b), "key": shown_key(k), "records": n,
            })).collect::<Vec<_>>(),
            "integrity": if stats.damage.is_empty() {
                serde_json::json!({"ok": true, "damage": []})
            } else {
                serde_json::json!({"ok": false, "damage": stats.damage, "what_to_do": advice})
            },
        });
        println!("{}", kensa::internal::json_safe(&obj.to_string()));
    } else {
        println!("registry   {}", escape_controls(&shown(&args.db)));
        let what = if is_server_url(&args.db) { "table size" } else { "file size " };
        println!("{what} {} bytes ({:.1} MiB)", stats.file_bytes, stats.file_bytes as f64 / 1_048_576.0);
        println!("records    {}", stats.records);
        for (b, n) in &stats.keys_per_block {
            println!("keys       block {b}: {n}");
        }
        for (k, v) in &stats.meta {
            println!("meta       {} = {}", escape_controls(k), escape_controls(v));
        }
        // Keys shared by so many records that a lookup compares only the closest of them.
        const LISTED: usize = 20;
        for (b, k, n) in stats.crowded.iter().take(LISTED) {
            let on = engine.block_label(*b).unwrap_or("?");
            println!("crowded    block {b} ({on}): {n} records share `{}`", shown_key(k));
        }
        if stats.crowded.len() > LISTED {
            println!("crowded    … and {} more keys (`--json` lists them all)", stats.crowded.len() - LISTED);
        }
        if !stats.crowded.is_empty() {
            println!(
                "{} keys are shared by more than {} records: a record with one of them is compared with the closest {} and sent to review (registry.crowded_key)",
                stats.crowded.len(),
                kensa::registry::MAX_PER_KEY,
                kensa::registry::MAX_PER_KEY
            );
        }
        if current {
            println!("keys are current for these rules");
        } else {
            println!(
                "keys are STALE for these rules (rules_fingerprint {}); `kensa registry rebuild --db {}` rebuilds them",
                want.rules,
                shown(&args.db)
            );
        }
        if stats.damage.is_empty() {
            println!("integrity  ok");
        }
        for d in &stats.damage {
            println!("integrity  DAMAGED: {d}");
        }
        if !stats.damage.is_empty() {
            println!("what to do: {advice}");
        }
    }
    if stats.damage.is_empty() { exit::OK } else { exit::SOME_FAILED }
}

fn rebuild(args: RebuildArgs) -> u8 {
    let Some(engine) = engine(&args.rules, args.today) else { return exit::UNUSABLE };
    if let Err(e) = refuse_conninfo(&args.db) {
        say!("error: {e}");
        return exit::UNUSABLE;
    }
    if !is_server_url(&args.db) && !Path::new(&args.db).is_file() {
        say!("error: `{}`: no such registry file", args.db);
        return exit::UNUSABLE;
    }
    if !engine.uses_registry() {
        say!("error: the rules have no `match` block, so they define no registry keys");
        return exit::UNUSABLE;
    }
    let keys = |v: &serde_json::Value| engine.blocking_keys(v);
    let started = Instant::now();
    let rebuilt = if is_server_url(&args.db) {
        rebuild_server(&args.db, &engine, &keys)
    } else {
        SqliteRegistry::rebuild(Path::new(&args.db), &engine.key_version(), &keys).map_err(|e| e.to_string())
    };
    match rebuilt {
        Ok(r) => {
            say!("`{}`: {}", shown(&args.db), rebuilt_note(&r, started));
            exit::OK
        }
        Err(e) => {
            say!("error: {e}");
            exit::UNUSABLE
        }
    }
}

/// A stored key as `registry stats` shows it: a key can hold a My Number or an account
/// number, so long digit runs are masked (unless `--show-pii`).
fn shown_key(key: &str) -> String {
    if super::show_pii() {
        return key.to_string();
    }
    use kensa::normalize::digits::{DigitRuns, mask_digit_runs};
    mask_digit_runs(key, DigitRuns::longer_than(6)).into_owned()
}

#[cfg(feature = "postgres")]
fn rebuild_server(
    db: &str,
    engine: &kensa::Engine,
    keys: kensa::registry::KeyFn<'_>,
) -> Result<kensa::registry::Rebuilt, String> {
    let options = kensa::registry::PgOptions::default();
    kensa::registry::PostgresRegistry::rebuild(db, &options, &engine.key_version(), keys).map_err(|e| e.to_string())
}

#[cfg(not(feature = "postgres"))]
fn rebuild_server(
    _: &str,
    _: &kensa::Engine,
    _: kensa::registry::KeyFn<'_>,
) -> Result<kensa::registry::Rebuilt, String> {
    Err(no_server_support())
}

/// A registry location for messages: a path, or a URL without its password.
pub fn shown(db: &str) -> String {
    kensa::registry::redact(db)
}

/// Refuse a libpq connection string (`host=db password=…`) where a registry is named: it would
/// be taken for a file name (and `enroll` would create that file).
pub fn refuse_conninfo(db: &str) -> Result<(), String> {
    if kensa::registry::is_conninfo(db) && !Path::new(db).exists() {
        return Err(format!(
            "`{}` is a PostgreSQL connection string, but kensa takes a URL: \
             postgres://user@host:port/database (with the password in PGPASSWORD)",
            shown(db)
        ));
    }
    Ok(())
}

fn registry_stats(db: &str) -> Result<kensa::registry::Stats, String> {
    refuse_conninfo(db)?;
    if is_server_url(db) {
        #[cfg(feature = "postgres")]
        return kensa::registry::PostgresRegistry::stats(db, &kensa::registry::PgOptions::default())
            .map_err(|e| e.to_string());
        #[cfg(not(feature = "postgres"))]
        return Err(no_server_support());
    }
    SqliteRegistry::stats(Path::new(db)).map_err(|e| e.to_string())
}
