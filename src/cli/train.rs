//! `kensa train FILE`: estimate the prior and the m/u probabilities of the `match` block by
//! expectation-maximisation, and write the rule file back with the new numbers.
//!
//! The pairs are those the blocking keys produce within FILE (each unordered pair once). u
//! starts from random pairs of FILE (almost all of them different people) unless
//! `--random-pairs 0`, m from the rule file; then classic two-class Fellegi-Sunter EM over the
//! agreement patterns runs until no number moves (comparisons with an absent value are left
//! out of a pair's likelihood). The prior becomes the estimated share of matches among the
//! compared pairs, which is what the engine applies it to. The rule file that holds the
//! `match` block is written to `--out` (or stdout) with only the numbers replaced.

use std::path::PathBuf;
use std::time::Instant;

use kensa::em::{self, EmOptions, MatchParameters, Patterns};
use rayon::prelude::*;

use kensa::MatchProfile;

use super::args::{count_in, parse_tolerance};
use super::dedup::MatchOptions;
use super::exit;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The records to learn from (JSONL, JSON, YAML or CSV, by extension).
    input: PathBuf,
    /// Where to write the rule file with the new numbers (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Random pairs to start u from, up to 10,000,000 (0: start from the rule file's u).
    #[arg(long, default_value_t = 20_000, value_parser = count_in(0..=10_000_000))]
    random_pairs: usize,
    /// Keep u as started (from random pairs or the rule file); estimate only m and the prior.
    #[arg(long)]
    fix_u: bool,
    /// Most EM iterations (1 to 1,000,000).
    #[arg(long, default_value_t = 500, value_parser = count_in(1..=1_000_000))]
    max_iterations: usize,
    /// Stop when no probability moves by more than this (0 to below 1).
    #[arg(long, default_value_t = 1e-7, value_parser = parse_tolerance, allow_negative_numbers = true)]
    tolerance: f64,
    /// Seed of the random pairs.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    common: MatchOptions,
}

/// Whether a comparison is held as written: one of its levels is written with m = u, so that it
/// counts nothing there by design (the standard rules' `number`: agreement on a My Number is
/// what the rules verify, not evidence that two records are one person). Estimating it would
/// undo that, so `train` leaves its numbers alone and leaves it out of the patterns.
pub fn held(c: &em::CompareParameters) -> bool {
    c.levels.iter().any(|l| l.m == l.u)
}

/// The agreement pattern of a compared pair: one level index per comparison (`None` for a
/// value absent on either side, and for a comparison [`held`] as written).
pub fn pattern(params: &MatchParameters, m: &kensa::CandidateMatch) -> Vec<Option<u16>> {
    params
        .compares
        .iter()
        .map(|c| {
            if held(c) {
                return None;
            }
            let cmp = m.comparisons.iter().find(|x| x.name == c.name)?;
            let level = cmp.level.as_deref()?;
            c.levels.iter().position(|l| l.name == level).and_then(|i| u16::try_from(i).ok())
        })
        .collect()
}

/// Patterns of the pairs the blocking keys produce within `records` (each unordered pair once).
pub fn blocked_patterns(engine: &kensa::Engine, params: &MatchParameters, profiles: &[MatchProfile]) -> Patterns {
    // Every compared pair: a probability is never below 0.
    let scan = engine.duplicate_pairs(profiles, 0.0);
    let found: Vec<Vec<Option<u16>>> = scan
        .pairs
        .par_iter()
        .filter_map(|p| Some(pattern(params, &engine.compare_profiles(profiles.get(p.left)?, profiles.get(p.right)?)?)))
        .collect();
    let mut patterns = Patterns::new();
    for p in found {
        patterns.add(p);
    }
    patterns
}

/// Patterns of `n` random pairs of distinct records (deterministic for a seed).
pub fn random_patterns(
    engine: &kensa::Engine,
    params: &MatchParameters,
    records: &[MatchProfile],
    n: usize,
    seed: u64,
) -> Patterns {
    let len = records.len() as u64;
    let mut patterns = Patterns::new();
    if len < 2 {
        return patterns;
    }
    let mut state = seed;
    let mut next = move || {
        // splitmix64
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut picks = Vec::with_capacity(n);
    while picks.len() < n {
        let (a, b) = (next() % len, next() % len);
        if a != b {
            picks.push((a as usize, b as usize));
        }
    }
    let found: Vec<Vec<Option<u16>>> = picks
        .par_iter()
        .filter_map(|&(a, b)| {
            let (ra, rb) = (records.get(a)?, records.get(b)?);
            let m = engine.compare_profiles(ra, rb)?;
            Some(pattern(params, &m))
        })
        .collect();
    for p in found {
        patterns.add(p);
    }
    patterns
}

/// Train: u from random pairs (unless `random_pairs` is 0), then EM over the blocked pairs.
pub fn train(
    engine: &kensa::Engine,
    params: &MatchParameters,
    records: &[MatchProfile],
    random_pairs: usize,
    seed: u64,
    opts: &EmOptions,
) -> (em::EmResult, Patterns) {
    let mut init = params.model();
    if random_pairs > 0 {
        let random = random_patterns(engine, params, records, random_pairs, seed);
        let sizes: Vec<usize> = params.compares.iter().map(|c| c.levels.len()).collect();
        init.u = em::u_from_pairs(&random, &sizes, opts.floor);
    }
    let patterns = blocked_patterns(engine, params, records);
    let mut result = em::estimate(&patterns, &init, opts);
    let written = params.model();
    for (k, c) in params.compares.iter().enumerate() {
        if held(c) {
            for (to, from) in [(&mut result.model.m, &written.m), (&mut result.model.u, &written.u)] {
                if let (Some(t), Some(f)) = (to.get_mut(k), from.get(k)) {
                    t.clone_from(f);
                }
            }
        }
    }
    (result, patterns)
}

pub fn run(args: Args) -> u8 {
    let start = Instant::now();
    let (engine, pool) = match args.common.setup() {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Some(params) = engine.match_parameters() else {
        say!("error: cannot find the `match` block in the rule text");
        return exit::UNUSABLE;
    };
    if params.compares.iter().flat_map(|c| &c.levels).any(|l| l.m_at.is_none() || l.u_at.is_none()) {
        say!("error: cannot find where some level's `m` and `u` are written; write each level as `name: test m P u P`");
        return exit::UNUSABLE;
    }
    let read = match args.common.read::<Vec<MatchProfile>>(&engine, &pool, &args.input, "") {
        Ok(r) => r,
        Err(code) => return code,
    };
    let opts = EmOptions {
        max_iterations: args.max_iterations,
        tolerance: args.tolerance,
        fix_u: args.fix_u,
        ..EmOptions::default()
    };
    let (result, patterns) =
        pool.install(|| train(&engine, &params, &read.profiles, args.random_pairs, args.seed, &opts));

    // The file holding the match block, rewritten.
    let file = &params.block_at.file;
    let Some(text) = engine.report().sources.files().find(|(_, f)| &f.name == file).map(|(_, f)| f.text.clone()) else {
        say!("error: cannot find the rule text of `{file}`");
        return exit::UNUSABLE;
    };
    let mut out = em::rewrite(&text, file, &params, &result.model);
    if params.prior_at.is_none() {
        // No `prior` line: add one after `match {`.
        let brace = text.get(params.block_at.start..).and_then(|t| t.find('{')).map(|i| params.block_at.start + i + 1);
        if let Some(at) = brace {
            // Every rewritten number comes after the brace, so `at` still points at it.
            let line = format!("\n  prior {}", em::format_probability(result.model.prior.min(0.999_999)));
            if out.is_char_boundary(at) {
                out.insert_str(at, &line);
            }
        }
    }
    let written = match &args.out {
        Some(path) => std::fs::write(path, &out).map_err(|e| format!("cannot write `{}`: {e}", path.display())),
        None => super::dedup::write_lines(std::iter::once(out.trim_end_matches('\n').to_string()))
            .map_err(|e| e.to_string()),
    };
    if let Err(msg) = written {
        say!("error: {msg}");
        return exit::UNUSABLE;
    }

    say!(
        "train: {} records, {} compared pairs ({} patterns), EM {} after {} iterations; prior {} ({:.0} expected matches), {:.2}s",
        read.profiles.len(),
        patterns.pairs(),
        patterns.distinct(),
        if result.converged { "converged" } else { "stopped" },
        result.iterations,
        em::format_probability(result.model.prior),
        result.expected_matches,
        start.elapsed().as_secs_f64()
    );
    for (k, c) in params.compares.iter().enumerate() {
        for (l, level) in c.levels.iter().enumerate() {
            let m = result.model.m.get(k).and_then(|v| v.get(l)).copied().unwrap_or(f64::NAN);
            let u = result.model.u.get(k).and_then(|v| v.get(l)).copied().unwrap_or(f64::NAN);
            say!(
                "  {:<16} {:<10} m {:<10} u {:<12} (was m {} u {})",
                c.name,
                level.name,
                em::format_probability(m),
                em::format_probability(u),
                level.m,
                level.u
            );
        }
    }
    // The values the `frequency` comparisons count, as a registry of these records would.
    let counts = engine.term_counts(&read.profiles);
    for (i, total, distinct, agreement) in counts.summary() {
        let name = params.compares.get(i).map_or("?", |c| c.name.as_str());
        let top: Vec<String> = counts
            .most_common(i, 5)
            .iter()
            // Only values many records share: an aggregate, never one person's name.
            .filter(|(_, n)| *n >= 10)
            .map(|(v, n)| {
                format!("{} {:.2}%", kensa::internal::shorten(v, 20), 100.0 * *n as f64 / total.max(1) as f64)
            })
            .collect();
        say!(
            "  frequency of {name}: {total} records, {distinct} values, two agree by chance {}; most common: {}{}",
            em::format_probability(agreement),
            if top.is_empty() { String::from("none shared by 10 or more") } else { top.join(", ") },
            if total < kensa::MIN_COUNTED {
                " (fewer than 1,000: a registry this small is weighed by the fallback)"
            } else {
                ""
            }
        );
    }
    let left_out = read.left_out;
    if left_out > 0 { exit::SOME_FAILED } else { exit::OK }
}
