//! `kensa link --registry A FILE`: links each record of FILE to the records of A.
//!
//! Each record of FILE is compared with the records of A that share a blocking key (on all
//! cores); pairs above the threshold are written as JSONL, `left` from FILE, `right` from A,
//! in FILE order and then by probability (highest first):
//! `{"left","right","probability","weights":{comparison:{"level","weight"}}}`. The two files
//! name their records independently, so equal ids are compared like any other pair.

use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;

use super::dedup::{MatchOptions, Pair, read_records, with_ids, write_lines};
use super::exit;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The records to link (JSONL, JSON, YAML or CSV, by extension).
    input: PathBuf,
    /// The records to link them to (JSONL, JSON, YAML or CSV, by extension).
    #[arg(long)]
    registry: PathBuf,
    /// Keep pairs whose match probability is at least this.
    #[arg(long, default_value_t = 0.5)]
    threshold: f64,
    /// Keep only the most probable link of each record (ties: the smaller registry id).
    #[arg(long)]
    best: bool,
    #[command(flatten)]
    common: MatchOptions,
}

pub fn run(args: Args) -> u8 {
    let start = Instant::now();
    let (engine, pool) = match args.common.setup() {
        Ok(x) => x,
        Err(code) => return code,
    };
    let (enrolled, bad_a) = match read_records(&args.registry, None) {
        Ok(r) => r,
        Err(msg) => {
            eprintln!("error: registry: {msg}");
            return exit::UNUSABLE;
        }
    };
    let enrolled_n = enrolled.len();
    let registry = engine.memory_registry(enrolled);
    let (records, bad) = match args.common.read(&args.input, "") {
        Ok(r) => r,
        Err(code) => return code,
    };
    let (records, ids, no_id) = with_ids(&engine, records, &args.input);
    let threshold = args.threshold;
    let best = args.best;
    let found: Vec<Result<(usize, Vec<Pair>), String>> = pool.install(|| {
        records
            .par_iter()
            .zip(ids.par_iter())
            .map(|(r, id)| {
                let matches = engine.links_in(r, &registry).map_err(|e| format!("record {id}: {e}"))?;
                let n = matches.len();
                let mut pairs: Vec<Pair> = matches
                    .into_iter()
                    .filter(|m| m.probability >= threshold)
                    .map(|m| Pair {
                        left: id.clone(),
                        right: m.id,
                        probability: m.probability,
                        comparisons: m.comparisons,
                    })
                    .collect();
                pairs.sort_by(|a, b| b.probability.total_cmp(&a.probability).then_with(|| a.right.cmp(&b.right)));
                if best {
                    pairs.truncate(1);
                }
                Ok((n, pairs))
            })
            .collect()
    });
    let mut pairs = Vec::new();
    let mut comparisons = 0;
    let mut linked = 0;
    for f in found {
        match f {
            Ok((n, p)) => {
                comparisons += n;
                linked += usize::from(!p.is_empty());
                pairs.extend(p);
            }
            Err(msg) => {
                eprintln!("error: {msg}");
                return exit::UNUSABLE;
            }
        }
    }
    if let Err(e) = write_lines(pairs.iter().map(Pair::to_json)) {
        eprintln!("error: {e}");
        return exit::UNUSABLE;
    }
    let left_out = bad + no_id + bad_a;
    eprintln!(
        "link: {} records against {} registry records, {} comparisons, {} pairs with probability >= {}, {} records linked{}, {:.2}s",
        records.len(),
        enrolled_n,
        comparisons,
        pairs.len(),
        threshold,
        linked,
        if left_out > 0 { format!(", {left_out} records left out") } else { String::new() },
        start.elapsed().as_secs_f64()
    );
    if left_out > 0 { exit::SOME_FAILED } else { exit::OK }
}
