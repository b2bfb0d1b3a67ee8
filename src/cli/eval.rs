//! `kensa eval`: judge records with a rule set, streaming, in input order, on all cores.
//!
//! A file is read in batches of `--batch` records, each judged in parallel. A live input — a
//! pipe, FIFO, socket or terminal, as when another program runs kensa as a helper and writes
//! one record at a time — is answered as it arrives: every record read so far is judged and
//! its output written and flushed before kensa waits for the next one.

use std::io::{self, BufWriter};
use std::path::PathBuf;

use rayon::prelude::*;

use super::args::{EvalLimits, count_in, parse_jobs, parse_today};
use super::exit;
use super::input::{self, Batch, Format, Pos, Raw};
use super::output::{OutFormat, Rendered, Writer};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Record files (JSONL, JSON, YAML or CSV, by extension); `-` or nothing reads standard input.
    /// A pipe, FIFO, socket or terminal is answered record by record: each output line is written
    /// and flushed as soon as its record has been read (with `--format json`, as an element of
    /// the array that closes when the input ends; YAML input is read whole). A regular file is
    /// judged in parallel batches.
    inputs: Vec<String>,
    /// Rule file or folder (default: the standard rule set compiled into kensa).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Records already enrolled, for duplicate and conflict rules: a registry database
    /// (`kensa registry import`; `.db`, `.sqlite` or any SQLite file), a PostgreSQL server
    /// (`postgres://user@host/database`), or a JSONL, JSON, YAML or CSV file loaded into memory.
    #[arg(long)]
    registry: Option<PathBuf>,
    /// Output format: `html` is one self-contained report page (counts, findings per rule, each
    /// record), written when the input ends.
    #[arg(long, value_enum, default_value = "jsonl")]
    format: OutFormat,
    /// Input format when it cannot be told from the file name (standard input is JSONL by default).
    #[arg(long, value_enum)]
    input_format: Option<Format>,
    /// Add, for every record, what each rule did (passed, fired, skipped, not applicable).
    #[arg(long)]
    explain: bool,
    /// Worker threads, 1 to 1024 (default: all cores).
    #[arg(long, short = 'j', value_parser = parse_jobs, allow_negative_numbers = true)]
    jobs: Option<usize>,
    /// The date to use as today, e.g. 2026-11-27 (default: today in Japan).
    #[arg(long, value_parser = parse_today)]
    today: Option<kensa::Date>,
    /// Record fields that the schema does not know make the record an error.
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    limits: EvalLimits,
    /// Records per batch handed to the worker threads.
    #[arg(long, default_value_t = 4096, hide = true, value_parser = count_in(1..=1_000_000))]
    batch: usize,
}

pub fn run(args: Args) -> u8 {
    let engine = match super::load_engine(&args.rules) {
        Ok(e) => e,
        Err(e) => {
            super::print_report(e.report());
            say!("error: the rules do not compile; fix the errors above (`kensa check` lists them)");
            return exit::UNUSABLE;
        }
    };
    let limits = args.limits.limits();
    let engine = engine
        .with_today(args.today.unwrap_or_else(kensa::today_in_japan))
        .with_strict(args.strict)
        .with_limits(limits);

    let registry = match &args.registry {
        None => None,
        Some(path) => match load_registry(&engine, path) {
            Ok(r) => {
                if !engine.uses_registry() {
                    say!("note: the rules have no `match` block, so the registry is not consulted");
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
        say!(
            "note: no --registry given: rules about enrolled residents (duplicates, numbers or accounts held by others, ambiguous links) are not applicable"
        );
    }
    let stdout = io::stdout();
    let colour = args.format == OutFormat::Table && std::io::IsTerminal::is_terminal(&stdout);
    let mut writer = Writer::new(BufWriter::with_capacity(1 << 16, stdout.lock()), args.format, colour);
    let mut batch: Batch = Vec::with_capacity(args.batch.max(1));
    let show_file = plan.len() > 1;
    let batch_size = args.batch.max(1);
    let explain = args.explain;
    let format = args.format;

    let judge = |batch: Batch| -> Vec<Rendered> {
        let judged = |(pos, raw): (Pos, Raw)| (judge_raw(&engine, registry.as_deref(), raw, explain), pos);
        if format == OutFormat::Jsonl {
            // Each worker writes a run of records into one buffer, not a buffer per record.
            return batch
                .into_par_iter()
                .with_min_len(LINES_PER_BLOCK)
                .fold(Rendered::lines, |mut block, record| {
                    let (verdict, pos) = judged(record);
                    block.push_line(pos, verdict);
                    block
                })
                .collect();
        }
        batch
            .into_par_iter()
            .map(|record| {
                let (verdict, pos) = judged(record);
                match verdict {
                    Ok(v) => Rendered::verdict(pos, &v, format),
                    Err(msg) => Rendered::error(pos, msg, format),
                }
            })
            .collect()
    };

    // Reading, judging and writing overlap: the calling thread reads the next batch and writes
    // the finished ones, in order, while the pool judges (at most `IN_FLIGHT` batches held).
    let result: io::Result<()> = pool.in_place_scope(|scope| {
        let (done_tx, done_rx) = std::sync::mpsc::channel::<(u64, Option<Vec<Rendered>>)>();
        let mut pipe = Pipeline { sent: 0, written: 0, finished: std::collections::BTreeMap::new(), done: done_rx };
        let submit = |batch: Batch, pipe: &mut Pipeline, writer: &mut Writer<_>| -> io::Result<()> {
            if batch.is_empty() {
                return Ok(());
            }
            let (seq, tx, judge) = (pipe.sent, done_tx.clone(), &judge);
            pipe.sent += 1;
            scope.spawn(move |_| {
                // A batch that panicked (a bug) still answers, so the writer does not wait for
                // it forever. The receiver is gone only when writing failed, which is reported.
                let judged = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| judge(batch)));
                let _ = tx.send((seq, judged.ok()));
            });
            pipe.write_until(IN_FLIGHT - 1, writer)
        };
        writer.begin()?;
        for (path, fmt) in &plan {
            let read = if input::is_live(path) {
                // Answer what has arrived before waiting for more: the records of the files
                // before this one, then each record (or each run of records already there).
                submit(std::mem::take(&mut batch), &mut pipe, &mut writer)?;
                pipe.write_until(0, &mut writer)?;
                writer.flush()?;
                input::read_live(path, *fmt, show_file, &limits, batch_size, &mut |records| {
                    submit(std::mem::take(records), &mut pipe, &mut writer)?;
                    pipe.write_until(0, &mut writer)?;
                    writer.flush()
                })
            } else {
                let mut sink = |pos: Pos, raw: Raw| -> io::Result<()> {
                    batch.push((pos, raw));
                    if batch.len() >= batch_size {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
                        submit(full, &mut pipe, &mut writer)?;
                    }
                    Ok(())
                };
                input::read(path, *fmt, show_file, &limits, &mut sink)
            };
            if let Err(e) = read {
                // What was read before the error is judged and written all the same.
                submit(std::mem::take(&mut batch), &mut pipe, &mut writer)?;
                pipe.write_until(0, &mut writer)?;
                return Err(io::Error::new(e.kind(), format!("`{path}`: {e}")));
            }
        }
        submit(std::mem::take(&mut batch), &mut pipe, &mut writer)?;
        pipe.write_until(0, &mut writer)?;
        writer.end()
    });

    let stats = writer.stats();
    if let Err(e) = result {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return exit::OK;
        }
        say!("error: {e}");
        say!("{}", stats.summary());
        return exit::UNUSABLE;
    }
    say!("{}", stats.summary());
    if stats.errors > 0 { exit::SOME_FAILED } else { exit::OK }
}

/// Batches being judged or judged and not yet written, at most: one being read, the others
/// judged in the meantime.
const IN_FLIGHT: u64 = 3;

/// The batches handed to the pool and the order their results are written in.
struct Pipeline {
    /// Batches handed over so far, and written so far (each numbered in reading order).
    sent: u64,
    written: u64,
    /// Results that came back before an earlier batch's.
    finished: std::collections::BTreeMap<u64, Vec<Rendered>>,
    /// Judged batches (`None`: judging it failed).
    done: std::sync::mpsc::Receiver<(u64, Option<Vec<Rendered>>)>,
}

impl Pipeline {
    /// Write finished batches, in order, until at most `pending` are still out.
    fn write_until<W: io::Write>(&mut self, pending: u64, writer: &mut Writer<W>) -> io::Result<()> {
        while self.sent - self.written > pending {
            let next = match self.finished.remove(&self.written) {
                Some(r) => r,
                None => {
                    let (seq, r) = self.done.recv().map_err(|_| io::Error::other("a worker thread stopped"))?;
                    let r = r.ok_or_else(|| io::Error::other("a worker thread failed while judging records"))?;
                    self.finished.insert(seq, r);
                    continue;
                }
            };
            writer.write_all(next)?;
            self.written += 1;
        }
        Ok(())
    }
}

/// Records a worker writes into one buffer at least (JSONL output).
const LINES_PER_BLOCK: usize = 64;

/// The verdict on one record as read, or what is wrong with it.
fn judge_raw(
    engine: &kensa::Engine,
    registry: Option<&dyn kensa::registry::Registry>,
    raw: Raw,
    explain: bool,
) -> Result<kensa::Verdict, String> {
    match raw {
        // A line is read borrowing its text, not into a `serde_json::Value`.
        Raw::Json(line) => input::json_line(&line)
            .and_then(|text| engine.judge_json(text, registry, explain).map_err(|e| e.to_string())),
        raw => raw.into_value().and_then(|value| judge(engine, registry, &value, explain).map_err(|e| e.to_string())),
    }
}

/// Judge one record, against `registry` when there is one, with what every rule did when
/// `explain`: what `kensa eval` and `kensa serve` do with each record.
pub fn judge(
    engine: &kensa::Engine,
    registry: Option<&dyn kensa::registry::Registry>,
    record: &serde_json::Value,
    explain: bool,
) -> Result<kensa::Verdict, kensa::RecordError> {
    engine.judge(record, registry, explain)
}

/// Open a registry database read-only, or read the enrolled records (JSONL, JSON, YAML or CSV)
/// into memory, keyed by the rules; a file is read within the engine's limits.
pub fn load_registry(
    engine: &kensa::Engine,
    path: &std::path::Path,
) -> Result<Box<dyn kensa::registry::Registry>, String> {
    super::registry::refuse_conninfo(&path.to_string_lossy())?;
    if is_database(path) {
        return open_database_read(engine, path);
    }
    Ok(Box::new(engine.memory_registry(read_registry_records(path, &engine.limits())?)))
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

/// The enrolled records of a JSONL, JSON, YAML or CSV file; the first unreadable one, or one
/// over `limits`, is an error.
pub fn read_registry_records(path: &std::path::Path, limits: &kensa::Limits) -> Result<Vec<serde_json::Value>, String> {
    let name = path.display().to_string();
    // Any file that is not JSON, YAML or CSV by its name is read as JSONL.
    let format = Format::from_path(path).unwrap_or(Format::Jsonl);
    input::is_stream(&name, "registry ")?;
    let mut records = Vec::new();
    let mut problem = None;
    let mut sink = |pos: Pos, raw: Raw| -> io::Result<()> {
        match raw.into_value().and_then(|v| limits.check_record(&v).map(|()| v).map_err(|e| e.to_string())) {
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
    input::read(&name, format, false, limits, &mut sink).map_err(|e| format!("cannot read registry `{name}`: {e}"))?;
    match problem {
        Some(p) => Err(p),
        None => Ok(records),
    }
}
