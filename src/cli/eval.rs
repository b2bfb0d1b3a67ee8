//! `kensa eval`: judge records with a rule set, streaming, in input order, on all cores.

use std::io::{self, BufWriter};
use std::path::PathBuf;

use rayon::prelude::*;

use super::input::{self, Format, Pos, Raw};
use super::output::{OutFormat, Rendered, Writer};
use super::{exit, parse_today};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Record files (JSONL, JSON, YAML or CSV, by extension); `-` or nothing reads standard input.
    inputs: Vec<String>,
    /// Rule file or folder (default: the standard rule set compiled into kensa).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Records already enrolled, for duplicate and conflict rules: a registry database
    /// (`kensa registry import`; `.db`, `.sqlite` or any SQLite file), a PostgreSQL server
    /// (`postgres://user@host/database`), or a JSONL, JSON, YAML or CSV file loaded into memory.
    #[arg(long)]
    registry: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    format: OutFormat,
    /// Input format when it cannot be told from the file name (standard input is JSONL by default).
    #[arg(long, value_enum)]
    input_format: Option<Format>,
    /// Add, for every record, what each rule did (passed, fired, skipped, not applicable).
    #[arg(long)]
    explain: bool,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// The date to use as today, e.g. 2026-11-27 (default: today in Japan).
    #[arg(long, value_parser = parse_today)]
    today: Option<kensa::Date>,
    /// Record fields that the schema does not know make the record an error.
    #[arg(long)]
    strict: bool,
    /// The largest record accepted, in bytes (`K`, `M`, `G` suffixes: 16M): a JSONL line, a CSV
    /// row, an element of a JSON array, a YAML file (read whole). A longer JSONL line is skipped
    /// without being read into memory and reported as an error for that line.
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes, default_value = "16M")]
    max_record_bytes: usize,
    /// The longest text value or field name of a record, in bytes (`K`, `M` suffixes); a longer
    /// one makes the record an error naming the field.
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes, default_value = "1M")]
    max_field_bytes: usize,
    /// Evaluation steps one record may take (each rule costs the nodes of its conditions, once
    /// more per registry candidate it looks at); a record that needs more is an error naming the rule.
    #[arg(long, value_name = "STEPS", default_value_t = kensa::Limits::default().eval_budget)]
    eval_budget: u64,
    /// Records per batch handed to the worker threads.
    #[arg(long, default_value_t = 4096, hide = true)]
    batch: usize,
}

pub fn run(args: Args) -> u8 {
    let engine = match super::load_engine(&args.rules) {
        Ok(e) => e,
        Err(e) => {
            super::print_report(e.report());
            eprintln!("error: the rules do not compile; fix the errors above (`kensa check` lists them)");
            return exit::UNUSABLE;
        }
    };
    let limits = kensa::Limits {
        max_record_bytes: args.max_record_bytes,
        max_field_bytes: args.max_field_bytes,
        eval_budget: args.eval_budget,
    };
    let engine = engine
        .with_today(args.today.unwrap_or_else(kensa::today_in_japan))
        .with_strict(args.strict)
        .with_limits(limits);

    let registry = match &args.registry {
        None => None,
        Some(path) => match load_registry(&engine, path) {
            Ok(r) => {
                if !engine.uses_registry() {
                    eprintln!("note: the rules have no `match` block, so the registry is not consulted");
                }
                Some(r)
            }
            Err(msg) => return super::fail(&msg),
        },
    };

    let pool = match super::pool(args.jobs) {
        Ok(p) => p,
        Err(code) => return code,
    };

    let plan = match input::plan(&args.inputs, args.input_format) {
        Ok(p) => p,
        Err(msg) => return super::fail(&msg),
    };

    if registry.is_none() && engine.uses_registry() {
        eprintln!(
            "note: no --registry given: rules about enrolled residents (duplicates, numbers or accounts held by others, ambiguous links) are not applicable"
        );
    }
    let stdout = io::stdout();
    let colour = args.format == OutFormat::Table && std::io::IsTerminal::is_terminal(&stdout);
    let mut writer = Writer::new(BufWriter::with_capacity(1 << 16, stdout.lock()), args.format, colour);
    let mut batch: Vec<(Pos, Raw)> = Vec::with_capacity(args.batch.max(1));
    let show_file = plan.len() > 1;
    let batch_size = args.batch.max(1);
    let explain = args.explain;
    let format = args.format;

    let flush = |batch: &mut Vec<(Pos, Raw)>, writer: &mut Writer<_>| -> io::Result<()> {
        let rendered: Vec<Rendered> = pool.install(|| {
            batch
                .par_drain(..)
                .map(|(pos, raw)| process(&engine, registry.as_deref(), pos, raw, explain, format))
                .collect()
        });
        writer.write_all(rendered)
    };

    let result: io::Result<()> = (|| {
        writer.begin()?;
        for (path, fmt) in &plan {
            let mut sink = |pos: Pos, raw: Raw| -> io::Result<()> {
                batch.push((pos, raw));
                if batch.len() >= batch_size {
                    flush(&mut batch, &mut writer)?;
                }
                Ok(())
            };
            input::read_with(path, *fmt, show_file, &limits, &mut sink)
                .map_err(|e| io::Error::new(e.kind(), format!("`{path}`: {e}")))?;
        }
        flush(&mut batch, &mut writer)?;
        writer.end()
    })();

    let stats = writer.stats();
    if let Err(e) = result {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return exit::OK;
        }
        eprintln!("error: {e}");
        eprintln!("{}", stats.summary());
        return exit::UNUSABLE;
    }
    eprintln!("{}", stats.summary());
    if stats.errors > 0 { exit::SOME_FAILED } else { exit::OK }
}

/// A size in bytes: `1048576`, `1024K`, `16M`, `1G` (also `KiB`, `MiB`, `GiB`; powers of 1024).
pub fn parse_bytes(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err(format!("`{s}` is not a size: write bytes, e.g. `1048576`, `1024K` or `16M`")),
    };
    let n: usize = digits.parse().map_err(|_| format!("`{s}` is not a size: write bytes, e.g. `1048576` or `16M`"))?;
    if n == 0 {
        return Err(String::from("a size limit must be at least 1 byte"));
    }
    n.checked_mul(1usize << shift).ok_or_else(|| format!("`{s}` is too large"))
}

fn process(
    engine: &kensa::Engine,
    registry: Option<&dyn kensa::registry::Registry>,
    pos: Pos,
    raw: Raw,
    explain: bool,
    format: OutFormat,
) -> Rendered {
    let value = match raw.into_value() {
        Ok(v) => v,
        Err(msg) => return Rendered::error(pos, msg, format),
    };
    let verdict = match (registry, explain) {
        (Some(r), true) => engine.explain_in(&value, r),
        (Some(r), false) => engine.evaluate_in(&value, r),
        (None, true) => engine.explain(&value),
        (None, false) => engine.evaluate(&value),
    };
    match verdict {
        Ok(v) => Rendered::verdict(pos, &v, format),
        Err(e) => Rendered::error(pos, e.to_string(), format),
    }
}

/// Open a registry database read-only, or read the enrolled records (JSONL, JSON, YAML or CSV)
/// into memory, keyed by the rules.
pub fn load_registry(
    engine: &kensa::Engine,
    path: &std::path::Path,
) -> Result<Box<dyn kensa::registry::Registry>, String> {
    super::registry::refuse_conninfo(&path.to_string_lossy())?;
    if is_database(path) {
        return open_database_read(engine, path);
    }
    Ok(Box::new(engine.memory_registry(read_registry_records(path)?)))
}

/// Whether a registry argument names a database — a PostgreSQL URL, or a SQLite file (by its
/// extension or its first bytes) — rather than a file of records.
pub fn is_database(path: &std::path::Path) -> bool {
    if path.to_str().is_some_and(kensa::registry::is_server_url) {
        return true;
    }
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    matches!(ext.as_deref(), Some("db" | "sqlite" | "sqlite3")) || kensa::registry::is_sqlite_file(path)
}

/// Open a registry database (see [`is_database`]) for lookups; its keys must have been built by
/// these rules.
pub fn open_database_read(
    engine: &kensa::Engine,
    path: &std::path::Path,
) -> Result<Box<dyn kensa::registry::Registry>, String> {
    let Some(url) = path.to_str().filter(|p| kensa::registry::is_server_url(p)) else {
        let reg = kensa::registry::SqliteRegistry::open_read(path, &engine.key_version()).map_err(|e| e.to_string())?;
        return Ok(Box::new(reg));
    };
    #[cfg(feature = "postgres")]
    return kensa::registry::PostgresRegistry::open_read(
        url,
        &kensa::registry::PgOptions::default(),
        &engine.key_version(),
    )
    .map(|r| Box::new(r) as Box<dyn kensa::registry::Registry>)
    .map_err(|e| e.to_string());
    #[cfg(not(feature = "postgres"))]
    {
        let _ = url;
        Err(super::registry::no_server_support())
    }
}

/// The enrolled records of a JSONL, JSON, YAML or CSV file; the first unreadable one is an error.
pub fn read_registry_records(path: &std::path::Path) -> Result<Vec<serde_json::Value>, String> {
    let name = path.display().to_string();
    let format = Format::from_path(path).unwrap_or(Format::Jsonl);
    if !path.is_file() {
        return Err(format!("cannot open registry `{name}`: no such file"));
    }
    let mut records = Vec::new();
    let mut problem = None;
    let mut sink = |pos: Pos, raw: Raw| -> io::Result<()> {
        match raw.into_value() {
            Ok(v) => records.push(v),
            Err(msg) => {
                if problem.is_none() {
                    let unit = if pos.unit == input::Unit::Line { "line" } else { "record" };
                    problem = Some(format!("registry `{name}` {unit} {}: {msg}", pos.n));
                }
            }
        }
        Ok(())
    };
    input::read(&name, format, false, &mut sink).map_err(|e| format!("cannot read registry `{name}`: {e}"))?;
    match problem {
        Some(p) => Err(p),
        None => Ok(records),
    }
}
