//! `kensa link --registry A FILE`: links each record of FILE to the records of A.
//!
//! Each record of FILE is compared with the records of A that share a blocking key (on all
//! cores); pairs above the threshold are written as JSONL, `left` from FILE, `right` from A,
//! in FILE order and then by probability (highest first):
//! `{"left","right","probability","weights":{comparison:{"level","weight"}}}`. The two files
//! name their records independently, so equal ids are compared like any other pair.
//! `--format html` writes one self-contained page instead, each pair with its waterfall.

use std::path::PathBuf;
use std::time::Instant;

use super::args::parse_probability;
use super::dedup::{MatchOptions, PairFormat};
use super::exit;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The records to link (JSONL, JSON, YAML or CSV, by extension).
    input: PathBuf,
    /// The records to link them to (JSONL, JSON, YAML or CSV, by extension).
    #[arg(long)]
    registry: PathBuf,
    /// Keep pairs whose match probability is at least this (0 to 1).
    #[arg(long, default_value_t = 0.5, value_parser = parse_probability, allow_negative_numbers = true)]
    threshold: f64,
    /// Keep only the most probable link of each record (ties: the smaller registry id).
    #[arg(long)]
    best: bool,
    /// Output: JSONL lines, or one self-contained HTML page (pairs with their waterfall of
    /// weights).
    #[arg(long, value_enum, default_value = "jsonl")]
    format: PairFormat,
    #[command(flatten)]
    common: MatchOptions,
}

pub fn run(args: Args) -> u8 {
    let start = Instant::now();
    let (engine, pool) = match args.common.setup() {
        Ok(x) => x,
        Err(code) => return code,
    };
    let enrolled = match args.common.read(&engine, &pool, &args.registry, "registry: ") {
        Ok(r) => r,
        Err(code) => return code,
    };
    let mut read = match args.common.read(&engine, &pool, &args.input, "") {
        Ok(r) => r,
        Err(code) => return code,
    };
    // Agreement on a common value weighs less: counted over the registry file.
    let found = pool.install(|| engine.link_store(&enrolled.profiles, &mut read.profiles, args.threshold, args.best));
    super::dedup::crowded_note(found.crowded_keys, "the first");
    let (records, registry, linked) = (&read.profiles, &enrolled.profiles, found.linked);
    let (scan, pairs) = (&found, &found.pairs);
    let run = super::report::pairs::Run {
        command: "link",
        facts: vec![
            ("records", (records.len() + read.left_out).to_string()),
            ("compared", records.len().to_string()),
            ("errors", read.left_out.to_string()),
            ("registry records", registry.len().to_string()),
            ("registry errors", enrolled.left_out.to_string()),
            ("comparisons", scan.compared.to_string()),
            ("threshold", args.threshold.to_string()),
            ("pairs", pairs.len().to_string()),
            ("records linked", linked.to_string()),
        ],
        prior: super::dedup::prior(&engine),
        clusters: None,
    };
    let pair = |p: &kensa::ScoredPair| engine.link_pair_at(registry, records, p);
    if let Err(e) = pool.install(|| super::dedup::write_pairs(args.format, pairs, pair, std::iter::empty(), &run)) {
        say!("error: {e}");
        return exit::UNUSABLE;
    }
    let left_out = read.left_out + enrolled.left_out;
    // The counts reconcile: records read = records compared + errors (left out), for the
    // records and for the registry.
    say!(
        "link: {} records: {} compared, {} errors; against {} registry records ({} errors); {} comparisons, {} pairs with probability >= {}, {} records linked, {:.2}s",
        records.len() + read.left_out,
        records.len(),
        read.left_out,
        registry.len(),
        enrolled.left_out,
        scan.compared,
        pairs.len(),
        args.threshold,
        linked,
        start.elapsed().as_secs_f64()
    );
    if left_out > 0 { exit::SOME_FAILED } else { exit::OK }
}
