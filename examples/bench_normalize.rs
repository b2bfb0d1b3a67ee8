//! Workload W3 of the performance harness (`bench/w3_normalize/run`): kensa's side.
//!
//! ```sh
//! # the names: one per line, deterministic (benches/common/gen.rs `kana_names`)
//! cargo run --release --example bench_normalize -- names --count 1000000 --seed 1 --out /tmp/w3-names.txt
//! # time kensa's normalizers over them (in-process, one thread, file I/O excluded) and write
//! # each function's outputs (one per line) plus a JSON summary for the agreement check
//! cargo run --release --example bench_normalize -- time --input /tmp/w3-names.txt --out-dir /tmp/w3
//! # only write the outputs (the edge cases of bench/w3_normalize/peers.py)
//! cargo run --release --example bench_normalize -- apply --input /tmp/edges.txt --out-dir /tmp/w3
//! ```
//!
//! Each function is timed over the whole list `--rounds` times; the summary gives the best
//! and the median round. The outputs are computed in one further, untimed pass. `--only
//! zengin_key` times one function (handy under `perf record`).

use std::fs;
use std::hint::black_box;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use kensa::normalize::{kana, name, width, zengin};
use unicode_normalization::UnicodeNormalization;

#[path = "../benches/common/gen.rs"]
#[allow(dead_code, reason = "the benchmarks use the rest of the generator")]
mod generator;

#[derive(Parser, Debug)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write generated kana names, one per line.
    Names {
        /// How many names.
        #[arg(long, default_value_t = 1_000_000)]
        count: usize,
        /// The seed: the same seed gives the same names.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Time kensa's normalizers over a file of names (one per line).
    Time {
        /// The names, one per line (UTF-8, `\n`).
        #[arg(long)]
        input: PathBuf,
        /// Where to write `w3-kensa-<function>.txt` and `w3-kensa.json`.
        #[arg(long)]
        out_dir: PathBuf,
        /// Timed passes over the whole list per function.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Time only these functions (by name, e.g. `--only kana_key`; for profiling).
        #[arg(long)]
        only: Vec<String>,
    },
    /// Write every function's outputs for a file of strings (one per line), untimed.
    Apply {
        /// The strings, one per line (UTF-8, `\n`).
        #[arg(long)]
        input: PathBuf,
        /// Where to write `<prefix>-<function>.txt`.
        #[arg(long)]
        out_dir: PathBuf,
        /// The file name prefix.
        #[arg(long, default_value = "w3-edges")]
        prefix: String,
    },
}

/// A function under test: its name in the result files, what it is, and a call that
/// returns the output's length (so that the optimizer cannot drop the work).
struct Function {
    name: &'static str,
    what: &'static str,
    call: fn(&str) -> usize,
    output: fn(&str) -> String,
}

const FUNCTIONS: &[Function] = &[
    Function {
        name: "kana_key",
        what: "kensa::normalize::kana::kana_key (K2)",
        call: |s| black_box(kana::kana_key(black_box(s))).len(),
        output: |s| kana::kana_key(s).into_owned(),
    },
    Function {
        name: "zengin_key",
        what: "kensa::normalize::zengin::zengin_key (K3)",
        call: |s| black_box(zengin::zengin_key(black_box(s))).len(),
        output: |s| zengin::zengin_key(s).into_owned(),
    },
    Function {
        name: "to_zengin",
        what: "kensa::normalize::zengin::to_zengin (K3 without the legal-entity rewrite)",
        call: |s| black_box(zengin::to_zengin(black_box(s))).len(),
        output: |s| zengin::to_zengin(s).into_owned(),
    },
    Function {
        name: "nfkc",
        what: "kensa::normalize::width::nfkc (quick check, then unicode-normalization)",
        call: |s| black_box(width::nfkc(black_box(s))).len(),
        output: |s| width::nfkc(s).into_owned(),
    },
    Function {
        name: "nfkc_crate",
        what: "unicode-normalization `s.nfkc().collect::<String>()` (no quick check)",
        call: |s| black_box(black_box(s).nfkc().collect::<String>()).len(),
        output: |s| s.nfkc().collect(),
    },
    Function {
        name: "fold_width",
        what: "kensa::normalize::width::fold_width (the safe width fold)",
        call: |s| black_box(width::fold_width(black_box(s))).len(),
        output: |s| width::fold_width(s).into_owned(),
    },
    Function {
        name: "key_nfkc",
        what: "kensa::normalize::name::key_nfkc (K1: variation selectors, fold_width, whitespace)",
        call: |s| black_box(name::key_nfkc(black_box(s))).len(),
        output: |s| name::key_nfkc(s).into_owned(),
    },
    Function {
        name: "key_nospace",
        what: "kensa::normalize::name::key_nospace (K1 with all whitespace removed)",
        call: |s| black_box(name::key_nospace(black_box(s))).len(),
        output: |s| name::key_nospace(s).into_owned(),
    },
];

fn main() -> ExitCode {
    let args = Args::parse();
    let done = match args.command {
        Command::Names { count, seed, out } => write_names(count, seed, &out),
        Command::Time { input, out_dir, rounds, only } => time(&input, &out_dir, rounds.max(1), &only),
        Command::Apply { input, out_dir, prefix } => apply(&input, &out_dir, &prefix),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write_names(count: usize, seed: u64, out: &Path) -> io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, fs::File::create(out)?);
    for n in generator::kana_names(count, seed) {
        // A name never holds a line break (the generator writes kana and spaces only).
        w.write_all(n.as_bytes())?;
        w.write_all(b"\n")?;
    }
    w.flush()
}

/// The lines of a file (split on `\n` only, so that U+2028 or U+0085 inside a string stay).
fn lines(text: &str) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    text.strip_suffix('\n').unwrap_or(text).split('\n').collect()
}

/// Writes `f`'s output for every string, one per line.
fn write_outputs(path: &Path, f: &Function, strings: &[&str]) -> io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, fs::File::create(path)?);
    for s in strings {
        w.write_all((f.output)(s).as_bytes())?;
        w.write_all(b"\n")?;
    }
    w.flush()
}

fn apply(input: &Path, out_dir: &Path, prefix: &str) -> io::Result<()> {
    let text = fs::read_to_string(input)?;
    let strings = lines(&text);
    fs::create_dir_all(out_dir)?;
    for f in FUNCTIONS {
        write_outputs(&out_dir.join(format!("{prefix}-{}.txt", f.name)), f, &strings)?;
    }
    Ok(())
}

fn time(input: &Path, out_dir: &Path, rounds: usize, only: &[String]) -> io::Result<()> {
    let text = fs::read_to_string(input)?;
    let names = lines(&text);
    fs::create_dir_all(out_dir)?;
    let mut results = serde_json::Map::new();
    for f in FUNCTIONS.iter().filter(|f| only.is_empty() || only.iter().any(|o| o == f.name)) {
        let mut secs = Vec::with_capacity(rounds);
        let mut bytes = 0usize;
        for _ in 0..rounds {
            let start = Instant::now();
            let mut total = 0usize;
            for s in &names {
                total = total.wrapping_add((f.call)(s));
            }
            secs.push(start.elapsed().as_secs_f64());
            bytes = black_box(total);
        }
        secs.sort_by(f64::total_cmp);
        let best = secs.first().copied().unwrap_or(f64::NAN);
        let median = secs.get(secs.len() / 2).copied().unwrap_or(f64::NAN);
        let per_s = names.len() as f64 / best;
        eprintln!("kensa {:<11} {:>6.2} M strings/s (best of {rounds}; median {:.2} M)", f.name, per_s / 1e6, {
            names.len() as f64 / median / 1e6
        });

        let path = out_dir.join(format!("w3-kensa-{}.txt", f.name));
        write_outputs(&path, f, &names)?;

        results.insert(
            f.name.to_string(),
            serde_json::json!({
                "what": f.what,
                "best_s": best,
                "median_s": median,
                "rounds": secs,
                "strings_per_s": per_s,
                "output_bytes": bytes,
                "outputs": path.display().to_string(),
            }),
        );
    }
    let summary = serde_json::json!({ "strings": names.len(), "rounds": rounds, "functions": results });
    let path = out_dir.join("w3-kensa.json");
    fs::write(&path, serde_json::to_string_pretty(&summary).map_err(io::Error::from)? + "\n")
}
