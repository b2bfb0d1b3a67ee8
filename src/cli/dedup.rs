//! `kensa dedup FILE`: duplicate pairs within one file, by the rules' `match` block.
//!
//! Every record is compared with the records of the same file that share a blocking key (on
//! all cores). Each unordered pair is written once, `left` < `right` by id, sorted by
//! (left, right): `{"left","right","probability","weights":{comparison:{"level","weight"}}}` (and
//! `"frequency_adjustment"`, the part of the weight a `frequency` comparison adds or takes).
//! With `--clusters`, the connected components of those pairs follow in the same stream, one
//! `{"cluster":[ids…]}` line each (ids sorted, clusters sorted by their first id). Records
//! without an id, or that cannot be read, are reported on stderr and left out (exit code 1).
//! `--format html` writes one self-contained page instead: the pairs, each with its waterfall of
//! weights, and the clusters (always, in the page).
//! Also holds what `kensa link` and `kensa train` share: reading a file of records, a pool of
//! workers, a pair as JSON.
//!
//! Memory: the profiles are kept in a [`kensa::ProfileStore`] (a few shared buffers), the pairs
//! as positions and probabilities; each pair's evidence is computed and written a chunk of pairs
//! at a time, so a million records need a few hundred bytes each.

use std::collections::HashMap;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub use kensa::Pair;
use kensa::{MatchProfile, ProfileStore, ScoredPair};
use rayon::prelude::*;

use super::args::{ReadLimits, parse_jobs, parse_probability, parse_today};
use super::exit;
use super::input::{self, Format, Pos, Raw};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The records (JSONL, JSON, YAML or CSV, by extension).
    input: PathBuf,
    /// Keep pairs whose match probability is at least this (0 to 1).
    #[arg(long, default_value_t = 0.5, value_parser = parse_probability, allow_negative_numbers = true)]
    threshold: f64,
    /// Also write the clusters (connected components of the pairs) as `{"cluster":[ids…]}` lines
    /// after the pairs.
    #[arg(long)]
    clusters: bool,
    /// Output: JSONL lines, or one self-contained HTML page (pairs with their waterfall of
    /// weights, and the clusters).
    #[arg(long, value_enum, default_value = "jsonl")]
    format: PairFormat,
    #[command(flatten)]
    common: MatchOptions,
}

/// What `dedup` and `link` write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PairFormat {
    Jsonl,
    // One self-contained HTML page.
    Html,
}

/// Pairs whose evidence is computed and written together (in parallel): the rest of the run's
/// pairs stay positions and probabilities.
const CHUNK: usize = 4096;

/// Write the pairs as `format` asks: JSONL lines (`extra` follow the pairs), or the HTML page
/// of `run`. `pair` gives a pair its evidence; JSONL is computed and written a chunk at a time.
pub fn write_pairs(
    format: PairFormat,
    pairs: &[ScoredPair],
    pair: impl Fn(&ScoredPair) -> Option<Pair> + Sync,
    extra: impl Iterator<Item = String>,
    run: &super::report::pairs::Run<'_>,
) -> io::Result<()> {
    match format {
        PairFormat::Jsonl => {
            let chunks = pairs
                .chunks(CHUNK)
                .flat_map(|chunk| chunk.par_iter().filter_map(&pair).map(|p| p.to_json()).collect::<Vec<String>>());
            write_lines(chunks.chain(extra))
        }
        PairFormat::Html => {
            let all: Vec<Pair> = pairs.par_iter().filter_map(&pair).collect();
            super::report::write(None, &super::report::pairs::page(run, &all))
        }
    }
}

/// The prior of the rules' `match` block (where a waterfall starts); `None` when the rule text
/// holds no `match` block to read it from.
pub fn prior(engine: &kensa::Engine) -> Option<f64> {
    engine.match_parameters().map(|m| m.prior)
}

/// The options `dedup`, `link` and `train` share.
#[derive(clap::Args, Debug)]
pub struct MatchOptions {
    /// Rule file or folder with a `match` block (default: the standard rule set).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Input format of the records when it cannot be told from the file name.
    #[arg(long, value_enum)]
    pub input_format: Option<Format>,
    /// Worker threads, 1 to 1024 (default: all cores).
    #[arg(long, short = 'j', value_parser = parse_jobs, allow_negative_numbers = true)]
    pub jobs: Option<usize>,
    /// The date to use as today, e.g. 2026-11-27 (default: today in Japan).
    #[arg(long, value_parser = parse_today)]
    pub today: Option<kensa::Date>,
    #[command(flatten)]
    pub limits: ReadLimits,
}

impl MatchOptions {
    /// The engine (rules with a `match` block) and the worker pool; on failure the message is
    /// printed and the exit code returned.
    pub fn setup(&self) -> Result<(kensa::Engine, rayon::ThreadPool), u8> {
        let engine = load_matching_engine(&self.rules, self.today)?.with_limits(self.limits.limits());
        Ok((engine, super::pool(self.jobs)?))
    }

    /// The match profiles of the records of `path` (see [`read_profiles`]), printing the error
    /// on failure; `what` prefixes the message. `--input-format` applies to the main input only.
    pub fn read<S: Collect>(
        &self,
        engine: &kensa::Engine,
        pool: &rayon::ThreadPool,
        path: &Path,
        what: &str,
    ) -> Result<Profiles<S>, u8> {
        let format = if what.is_empty() { self.input_format } else { None };
        pool.install(|| read_profiles(engine, path, format)).map_err(|msg| {
            say!("error: {what}{msg}");
            exit::UNUSABLE
        })
    }
}

/// Load the rules and check that they have a `match` block; the message says what is wrong.
fn load_matching_engine(rules: &Option<PathBuf>, today: Option<kensa::Date>) -> Result<kensa::Engine, u8> {
    let engine = match super::load_engine(rules) {
        Ok(e) => e,
        Err(e) => {
            super::print_report(e.report());
            say!("error: the rules do not compile; fix the errors above (`kensa check` lists them)");
            return Err(exit::UNUSABLE);
        }
    };
    if !engine.uses_registry() {
        say!("error: the rules have no `match` block, so there is nothing to compare records with");
        return Err(exit::UNUSABLE);
    }
    Ok(engine.with_today(today.unwrap_or_else(kensa::today_in_japan)))
}

/// The match profiles of a file's records, in file order, and how many records were left out.
pub struct Profiles<S = ProfileStore> {
    pub profiles: S,
    pub left_out: usize,
}

/// What [`read_profiles`] keeps the profiles in: a [`ProfileStore`] (`dedup`, `link`), or a
/// `Vec` of them (`train`).
pub trait Collect: Default + Send {
    fn add(&mut self, profile: MatchProfile);
}

impl Collect for ProfileStore {
    fn add(&mut self, profile: MatchProfile) {
        self.push(profile);
    }
}

impl Collect for Vec<MatchProfile> {
    fn add(&mut self, profile: MatchProfile) {
        self.push(profile);
    }
}

/// Records read before their profiles are computed together on all cores.
const BATCH: usize = 4096;

/// Read a file within the engine's limits and compute each record's match profile on the
/// current pool, batch by batch (the records themselves are not kept). A record that cannot be read, or has no id (the
/// schema field marked `id`), is reported on stderr and left out.
pub fn read_profiles<S: Collect>(
    engine: &kensa::Engine,
    path: &Path,
    format: Option<Format>,
) -> Result<Profiles<S>, String> {
    let name = path.display().to_string();
    let format = input::format_of(&name, format)?;
    let mut out = Profiles { profiles: S::default(), left_out: 0 };
    let mut batch: Vec<(Pos, Raw)> = Vec::with_capacity(BATCH);
    let flush = |batch: &mut Vec<(Pos, Raw)>, out: &mut Profiles<S>| {
        let done: Vec<(Pos, Result<MatchProfile, String>)> = std::mem::take(batch)
            .into_par_iter()
            .map(|(pos, raw)| {
                let profile = match raw {
                    // A line is read borrowing its text, as `kensa eval` reads it.
                    Raw::Json(line) => input::json_line(&line)
                        .and_then(|text| engine.match_profile_json(text).map_err(|e| e.to_string())),
                    raw => raw.into_value().and_then(|v| engine.match_profile(&v).map_err(|e| e.to_string())),
                };
                (pos, profile)
            })
            .collect();
        for (pos, profile) in done {
            let unit = if pos.unit == input::Unit::Line { "line" } else { "record" };
            match profile {
                Ok(p) if p.id().is_some_and(|id| !id.is_empty()) => out.profiles.add(p),
                Ok(_) => {
                    out.left_out += 1;
                    report(out.left_out, || {
                        format!("`{name}` {unit} {}: no id (the schema field marked `id`); left out", pos.n)
                    });
                }
                Err(msg) => {
                    out.left_out += 1;
                    report(out.left_out, || format!("`{name}` {unit} {}: {msg}", pos.n));
                }
            }
        }
    };
    let mut sink = |pos: Pos, raw: Raw| -> io::Result<()> {
        batch.push((pos, raw));
        if batch.len() >= BATCH {
            flush(&mut batch, &mut out);
        }
        Ok(())
    };
    input::read(&name, format, false, &engine.limits(), &mut sink).map_err(|e| format!("cannot read `{name}`: {e}"))?;
    flush(&mut batch, &mut out);
    if out.left_out > MAX_REPORTED {
        say!("error: `{name}`: {} records left out in all", out.left_out);
    }
    Ok(out)
}

/// Records left out are reported one by one up to this many.
const MAX_REPORTED: usize = 20;

fn report(nth: usize, msg: impl FnOnce() -> String) {
    if nth <= MAX_REPORTED {
        say!("error: {}", msg());
    } else if nth == MAX_REPORTED + 1 {
        say!("error: … more records left out (the count follows)");
    }
}

/// Write lines to stdout; a closed pipe is not an error.
pub fn write_lines(lines: impl Iterator<Item = String>) -> io::Result<()> {
    let stdout = io::stdout();
    let mut w = BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = (|| {
        for l in lines {
            w.write_all(l.as_bytes())?;
            w.write_all(b"\n")?;
        }
        w.flush()
    })();
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}

/// Say that some blocking keys were crowded, so that a pair never compared is not mistaken
/// for a pair that was compared and did not match.
pub fn crowded_note(crowded: usize, which: &str) {
    if crowded > 0 {
        let cap = kensa::registry::MAX_PER_KEY;
        say!(
            "note: {crowded} blocking keys are shared by more than {cap} records; within them each record was compared with {which} {cap} of their records only (`kensa registry stats` lists such keys of a registry)"
        );
    }
}

/// Connected components of the pairs (of ids) with two or more ids: ids sorted, clusters sorted.
pub fn clusters<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<Vec<String>> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut names: Vec<&str> = Vec::new();
    let mut parent: Vec<usize> = Vec::new();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while let Some(&p) = parent.get(x) {
            if p == x {
                break;
            }
            let gp = parent.get(p).copied().unwrap_or(p);
            if let Some(slot) = parent.get_mut(x) {
                *slot = gp;
            }
            x = gp;
        }
        x
    }
    let mut edges = Vec::new();
    for (left, right) in pairs {
        let mut ends = [0usize; 2];
        for (slot, s) in ends.iter_mut().zip([left, right]) {
            *slot = *index.entry(s).or_insert_with(|| {
                names.push(s);
                parent.push(parent.len());
                parent.len() - 1
            });
        }
        edges.push((ends[0], ends[1]));
    }
    for (a, b) in edges {
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra != rb
            && let Some(slot) = parent.get_mut(ra.max(rb))
        {
            *slot = ra.min(rb);
        }
    }
    let mut groups: HashMap<usize, Vec<String>> = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push((*name).to_string());
    }
    let mut out: Vec<Vec<String>> = groups.into_values().filter(|g| g.len() >= 2).collect();
    for g in &mut out {
        g.sort();
    }
    out.sort();
    out
}

pub fn run(args: Args) -> u8 {
    let start = Instant::now();
    let (engine, pool) = match args.common.setup() {
        Ok(x) => x,
        Err(code) => return code,
    };
    let mut read = match args.common.read(&engine, &pool, &args.input, "") {
        Ok(r) => r,
        Err(code) => return code,
    };
    // Agreement on a common value weighs less: counted over the file itself.
    let found = pool.install(|| engine.dedup_store(&mut read.profiles, args.threshold));
    crowded_note(found.crowded_keys, "the next");
    let (pairs, comparisons, profiles) = (found.pairs, found.compared, &read.profiles);
    let html = args.format == PairFormat::Html;
    let groups = if args.clusters || html {
        let id = |i: usize| profiles.id(i).unwrap_or_default();
        clusters(pairs.iter().map(|p| (id(p.left), id(p.right))))
    } else {
        Vec::new()
    };
    let cluster_lines = groups.iter().filter(|_| args.clusters).map(|g| {
        let ids: Vec<String> = g.iter().map(super::output::json).collect();
        format!("{{\"cluster\":[{}]}}", ids.join(","))
    });
    let run = super::report::pairs::Run {
        command: "dedup",
        facts: vec![
            ("records", (read.profiles.len() + read.left_out).to_string()),
            ("compared", read.profiles.len().to_string()),
            ("errors", read.left_out.to_string()),
            ("comparisons", comparisons.to_string()),
            ("threshold", args.threshold.to_string()),
            ("pairs", pairs.len().to_string()),
            ("clusters", groups.len().to_string()),
        ],
        prior: prior(&engine),
        clusters: Some(&groups),
    };
    let pair = |p: &ScoredPair| engine.dedup_pair_at(profiles, p);
    if let Err(e) = pool.install(|| write_pairs(args.format, &pairs, pair, cluster_lines, &run)) {
        say!("error: {e}");
        return exit::UNUSABLE;
    }
    let clustered = if args.clusters || html {
        format!(", {} clusters of {} records", groups.len(), groups.iter().map(Vec::len).sum::<usize>())
    } else {
        String::new()
    };
    // The counts reconcile: records read = records compared + errors (left out).
    say!(
        "dedup: {} records: {} compared, {} errors; {} comparisons, {} pairs with probability >= {}{clustered}, {:.2}s",
        read.profiles.len() + read.left_out,
        read.profiles.len(),
        read.left_out,
        comparisons,
        pairs.len(),
        args.threshold,
        start.elapsed().as_secs_f64()
    );
    if read.left_out > 0 { exit::SOME_FAILED } else { exit::OK }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn clusters_are_connected_components() {
        let pairs = [("a", "b"), ("c", "d"), ("b", "e"), ("f", "e")];
        assert_eq!(clusters(pairs.into_iter()), vec![vec!["a", "b", "e", "f"], vec!["c", "d"]]);
    }

    #[test]
    fn pair_json_keeps_comparison_order() {
        let p = Pair {
            left: "x".into(),
            right: "y".into(),
            probability: 0.123_456_78,
            comparisons: vec![
                kensa::Comparison {
                    name: "z".into(),
                    level: Some("same".into()),
                    weight: 1.23456,
                    frequency_adjustment: Some(-2.5),
                },
                kensa::Comparison { name: "a".into(), level: None, weight: 0.0, frequency_adjustment: None },
            ],
        };
        assert_eq!(
            p.to_json(),
            r#"{"left":"x","right":"y","probability":0.123457,"weights":{"z":{"level":"same","weight":1.235,"frequency_adjustment":-2.5},"a":{"level":null,"weight":0.0}}}"#
        );
    }
}
