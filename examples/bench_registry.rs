//! Lookup latency against a registry database, for the harness (`bench/w5_registry`): judges
//! probe records one at a time (as a clerk's window does) and prints one JSON line with
//! p50/p99/max/mean in milliseconds and the peak RSS.
//!
//! ```sh
//! cargo run --release --example bench_registry -- --db /tmp/reg.db --probes 2000
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[path = "../benches/common/gen.rs"]
#[allow(dead_code, reason = "only the record stream is used here")]
mod generator;
#[path = "../benches/common/lookup.rs"]
mod lookup;

#[derive(Parser, Debug)]
struct Args {
    /// A registry built by `kensa registry import` from the generator's records (seed 1).
    #[arg(long)]
    db: PathBuf,
    /// How many probe records (half new residents, half already enrolled).
    #[arg(long, default_value_t = 2000)]
    probes: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let run = || -> Result<String, String> {
        let today = kensa::Date::parse("2026-11-27").map_err(|e| e.to_string())?;
        let engine = kensa::Engine::builtin().map_err(|e| e.to_string())?.with_today(today);
        let reg =
            kensa::registry::SqliteRegistry::open_read(&args.db, &engine.key_version()).map_err(|e| e.to_string())?;
        let probes = lookup::probes(args.probes);
        let t = lookup::times(&engine, &reg, &probes);
        Ok(serde_json::json!({
            "probes": probes.len(),
            "p50_ms": t.p50, "p99_ms": t.p99, "max_ms": t.max, "mean_ms": t.mean,
            "peak_rss_mb": peak_rss_mb(),
        })
        .to_string())
    };
    match run() {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Peak resident memory of this process (Linux `VmHWM`), in MB.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
