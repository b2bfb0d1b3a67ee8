//! Write synthetic enrollment records as JSONL to standard output, deterministically.
//!
//! ```sh
//! cargo run --release --example generate -- --records 1000000 --seed 1 > /tmp/records.jsonl
//! ```
//!
//! A labelled identity stream (duplicates under a new number or none, moved, renamed, with
//! swapped names; twins, namesakes and new people) against a registry written beside it:
//!
//! ```sh
//! cargo run --release --example generate -- --identity /tmp/registry.jsonl --records 4000 > /tmp/stream.jsonl
//! ```
//!
//! Each stream line is `{"record": {…}, "label": "twin", "duplicate": false}`.
//!
//! The generator lives in `benches/common/gen.rs` so that the benchmarks judge the same records.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use clap::Parser;

#[path = "../benches/common/gen.rs"]
#[allow(dead_code, reason = "the benchmarks use the rest of the generator")]
mod generator;

/// Write synthetic enrollment records (JSONL) to standard output.
#[derive(Parser, Debug)]
struct Args {
    /// How many records.
    #[arg(long, default_value_t = 1000)]
    records: u64,
    /// The seed: the same seed gives the same records.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Share of records with one defect the standard rules must flag (0.0–1.0).
    #[arg(long, default_value_t = 0.10)]
    defects: f64,
    /// Share of records with a bank account.
    #[arg(long, default_value_t = 0.35)]
    banks: f64,
    /// Share of records that enroll an earlier person again, written differently (variant
    /// kanji, another address notation, a kana typo, day and month swapped; half without a
    /// My Number). Their id names the original: `G00000456-dup-G00000123`.
    #[arg(long, default_value_t = 0.0)]
    duplicates: f64,
    /// Write a labelled identity stream instead (`--records` records), and the registry it is
    /// labelled against (`--registry-size` residents) to this file.
    #[arg(long, value_name = "REGISTRY_FILE")]
    identity: Option<std::path::PathBuf>,
    /// Residents in the registry of `--identity`.
    #[arg(long, default_value_t = 3000)]
    registry_size: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(path) = &args.identity {
        return identity(path, &args);
    }
    let config = generator::Config {
        defect_rate: args.defects.clamp(0.0, 1.0),
        bank_rate: args.banks.clamp(0.0, 1.0),
        duplicate_rate: args.duplicates.clamp(0.0, 1.0),
    };
    let mut g = generator::Generator::new(args.seed, config);
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    for _ in 0..args.records {
        let record = g.record();
        let written =
            serde_json::to_writer(&mut out, &record).map_err(io::Error::from).and_then(|()| out.write_all(b"\n"));
        if let Err(e) = written {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    match out.flush() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--identity`: the registry to `path`, the labelled stream to standard output.
fn identity(path: &std::path::Path, args: &Args) -> ExitCode {
    let (registry, stream) =
        generator::identity_stream(args.seed, args.registry_size, usize::try_from(args.records).unwrap_or(usize::MAX));
    let written = (|| -> io::Result<()> {
        let mut reg = BufWriter::new(std::fs::File::create(path)?);
        for r in &registry {
            serde_json::to_writer(&mut reg, r)?;
            reg.write_all(b"\n")?;
        }
        reg.flush()?;
        let mut out = BufWriter::new(io::stdout().lock());
        for (record, kind) in &stream {
            let line = serde_json::json!({"record": record, "label": kind.label(), "duplicate": kind.is_duplicate()});
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        }
        out.flush()
    })();
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
