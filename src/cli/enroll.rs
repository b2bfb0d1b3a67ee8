//! `kensa enroll`: judge each record against a registry database and enroll the accepted ones.
//!
//! Records are taken one at a time, in input order: each is looked up, judged and (when
//! accepted) inserted in one write transaction, so the next record — or another clerk's
//! `kensa enroll` on the same file at the same time — sees it. Each answer is flushed after its
//! commit, and a record is taken as soon as its line has been read, so a program that writes
//! one record to `kensa enroll -` and waits gets its answer.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use super::args::{EvalLimits, parse_today};
use super::exit;
use super::input::{self, Format, Pos, Raw};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Record files (JSONL, JSON, YAML or CSV, by extension); `-` or nothing reads standard input.
    /// Each record's line is written and flushed as soon as its transaction has committed, so a
    /// program can write one record to standard input and wait for its answer.
    inputs: Vec<String>,
    /// The registry: a database file (created when missing), or a PostgreSQL server
    /// (`postgres://user@host/database`; its tables are created when missing).
    #[arg(long)]
    db: String,
    /// Rule file or folder (default: the standard rule set compiled into kensa).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Input format when it cannot be told from the file name.
    #[arg(long, value_enum)]
    input_format: Option<Format>,
    /// The date to use as today, e.g. 2026-11-27 (default: today in Japan).
    #[arg(long, value_parser = parse_today)]
    today: Option<kensa::Date>,
    /// Record fields that the schema does not know make the record an error.
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    limits: EvalLimits,
}

#[derive(Default)]
struct Counts {
    enrolled: u64,
    /// Accepted, but a record with the same id was already stored.
    id_taken: u64,
    accept: u64,
    review: u64,
    reject: u64,
    errors: u64,
    /// Where a registry error stopped the run (the records after it were not read).
    stopped_at: Option<String>,
}

pub fn run(args: Args) -> u8 {
    let Some(engine) = super::registry::engine(&args.rules, args.today) else { return exit::UNUSABLE };
    let limits = args.limits.limits();
    let engine = engine.with_strict(args.strict).with_limits(limits);
    let reg = match super::registry::open_write(&engine, &args.db, None) {
        Ok(r) => r,
        Err(e) => {
            say!("error: {e}");
            return exit::UNUSABLE;
        }
    };

    let plan = match input::plan(&args.inputs, args.input_format) {
        Ok(p) => p,
        Err(msg) => return super::fail(&msg),
    };

    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut counts = Counts::default();
    let show_file = plan.len() > 1;
    let result: io::Result<()> = (|| {
        for (path, format) in &plan {
            let mut sink = |pos: Pos, raw: Raw| -> io::Result<()> {
                let (line, stop) = one(&engine, reg.as_ref(), &pos, raw, &mut counts);
                writeln!(out, "{}", line?)?;
                // A clerk (or a second process) watching the output sees each decision as it is made.
                out.flush()?;
                match stop {
                    // The registry failed: this record is an error line like any other, and
                    // nothing more is enrolled into a registry that cannot answer.
                    Some(msg) => Err(io::Error::other(msg)),
                    None => Ok(()),
                }
            };
            let read = input::read(path, *format, show_file, &limits, &mut sink);
            // A registry error is about the registry, not about this input file.
            if counts.stopped_at.is_none() {
                read.map_err(|e| io::Error::new(e.kind(), format!("`{path}`: {e}")))?;
            } else {
                read?;
            }
        }
        out.flush()
    })();
    let summary = format!(
        "{} records: {} enrolled, {} accept, {} review, {} reject, {} errors{}{}",
        counts.accept + counts.review + counts.reject + counts.errors,
        counts.enrolled,
        counts.accept,
        counts.review,
        counts.reject,
        counts.errors,
        if counts.id_taken > 0 {
            format!("; {} accepted records not enrolled because their id is already stored", counts.id_taken)
        } else {
            String::new()
        },
        counts
            .stopped_at
            .as_ref()
            .map(|at| format!("; stopped at {at}: the records after it were not read"))
            .unwrap_or_default(),
    );
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => exit::OK,
        Err(e) => {
            say!("error: {e}");
            say!("{summary}");
            exit::UNUSABLE
        }
        Ok(()) => {
            say!("{summary}");
            if counts.errors > 0 { exit::SOME_FAILED } else { exit::OK }
        }
    }
}

/// Enroll one record; the output line (a verdict with `enrolled`, or an error object), and the
/// registry's error when it failed (the run stops after this record's line).
fn one(
    engine: &kensa::Engine,
    reg: &dyn kensa::registry::Store,
    pos: &Pos,
    raw: Raw,
    counts: &mut Counts,
) -> (io::Result<String>, Option<String>) {
    let error = |msg: String, counts: &mut Counts| {
        counts.errors += 1;
        let mut obj = serde_json::Map::new();
        if let Some(f) = &pos.file {
            obj.insert(String::from("file"), serde_json::Value::String(f.clone()));
        }
        obj.insert(String::from(unit_name(pos)), serde_json::Value::from(pos.n));
        obj.insert(String::from("error"), serde_json::Value::String(msg));
        super::output::json(&serde_json::Value::Object(obj))
    };
    let value = match raw.into_value() {
        Ok(v) => v,
        Err(msg) => return (Ok(error(msg, counts)), None),
    };
    if !value.is_object() {
        return (Ok(error(String::from("a record must be a JSON object"), counts)), None);
    }
    let verdict = match engine.enroll(value, reg) {
        Ok(e) => {
            match e.verdict.decision {
                kensa::Decision::Accept => counts.accept += 1,
                kensa::Decision::Review => counts.review += 1,
                kensa::Decision::Reject => counts.reject += 1,
            }
            if e.enrolled {
                counts.enrolled += 1;
            } else if e.already_stored && e.verdict.decision == kensa::Decision::Accept {
                counts.id_taken += 1;
            }
            // The verdict as `kensa eval` writes it (same key order), then what was done with it.
            let mut done = vec![("enrolled", serde_json::Value::from(e.enrolled))];
            if e.already_stored {
                done.push(("already_stored", serde_json::Value::from(true)));
            }
            let line = super::output::json_with(&e.verdict, &done);
            Ok(line)
        }
        Err(kensa::RecordError::Registry(msg)) => {
            counts.stopped_at = Some(match &pos.file {
                Some(f) => format!("`{f}` {} {}", unit_name(pos), pos.n),
                None => format!("{} {}", unit_name(pos), pos.n),
            });
            return (Ok(error(msg.clone(), counts)), Some(msg));
        }
        Err(e) => Ok(error(e.to_string(), counts)),
    };
    (verdict, None)
}

fn unit_name(pos: &Pos) -> &'static str {
    if pos.unit == input::Unit::Line { "line" } else { "record" }
}
