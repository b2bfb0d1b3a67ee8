//! Estimating Fellegi-Sunter parameters by expectation-maximisation (`kensa train`).
//!
//! Input → output: agreement patterns of compared pairs (one level index per comparison, or
//! `None` when a value is absent on either side) with their counts → the share of matches
//! among those pairs (the prior) and m/u probabilities per level. Classic two-class EM under
//! conditional independence; absent comparisons are left out of the likelihood. Pure, no I/O,
//! knows nothing about which fields are compared.
//!
//! Also the types describing where a `match` block writes its numbers, so a trained model can
//! be written back into the rule text ([`MatchParameters`], [`rewrite`]).

use std::collections::HashMap;

/// Where a number is written in a rule file: byte range in the text of the file `file`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextRange {
    /// The file name as the rule set's source map shows it.
    pub file: String,
    pub start: usize,
    pub end: usize,
}

/// The parameters of a `match` block as written, with where each number stands.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchParameters {
    pub prior: f64,
    /// Where the prior's number is written; `None` when the block has no `prior` line.
    pub prior_at: Option<TextRange>,
    /// The whole `match { … }` block.
    pub block_at: TextRange,
    pub compares: Vec<CompareParameters>,
}

/// One `compare` line: its levels in declaration order.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareParameters {
    pub name: String,
    pub levels: Vec<LevelParameters>,
}

/// One level with its m and u and where they are written.
#[derive(Clone, Debug, PartialEq)]
pub struct LevelParameters {
    pub name: String,
    pub m: f64,
    pub u: f64,
    pub m_at: Option<TextRange>,
    pub u_at: Option<TextRange>,
}

impl MatchParameters {
    /// The numbers alone, as a starting point for [`estimate`].
    pub fn model(&self) -> Model {
        Model {
            prior: self.prior,
            m: self.compares.iter().map(|c| c.levels.iter().map(|l| l.m).collect()).collect(),
            u: self.compares.iter().map(|c| c.levels.iter().map(|l| l.u).collect()).collect(),
        }
    }

    /// Index of comparison `name` and of its level `level`.
    pub fn level_index(&self, name: &str, level: &str) -> Option<(usize, usize)> {
        let (ci, c) = self.compares.iter().enumerate().find(|(_, c)| c.name == name)?;
        let li = c.levels.iter().position(|l| l.name == level)?;
        Some((ci, li))
    }
}

/// A Fellegi-Sunter model: prior and m/u per comparison and level.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Share of compared pairs that are matches.
    pub prior: f64,
    /// `m[comparison][level]`.
    pub m: Vec<Vec<f64>>,
    /// `u[comparison][level]`.
    pub u: Vec<Vec<f64>>,
}

/// Agreement patterns with how often each occurs. A pattern has one entry per comparison:
/// the level reached, or `None` when a value is absent.
#[derive(Clone, Debug, Default)]
pub struct Patterns {
    counts: HashMap<Vec<Option<u16>>, f64>,
}

impl Patterns {
    pub fn new() -> Self {
        Patterns::default()
    }

    /// Count one pair with this pattern.
    pub fn add(&mut self, pattern: Vec<Option<u16>>) {
        *self.counts.entry(pattern).or_insert(0.0) += 1.0;
    }

    /// Number of pairs counted.
    pub fn pairs(&self) -> f64 {
        self.counts.values().sum()
    }

    /// Number of distinct patterns.
    pub fn distinct(&self) -> usize {
        self.counts.len()
    }

    fn sorted(&self) -> Vec<(&[Option<u16>], f64)> {
        let mut v: Vec<(&[Option<u16>], f64)> = self.counts.iter().map(|(p, n)| (p.as_slice(), *n)).collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }
}

/// How [`estimate`] runs.
#[derive(Clone, Copy, Debug)]
pub struct EmOptions {
    pub max_iterations: usize,
    /// Stop when no parameter moves by more than this.
    pub tolerance: f64,
    /// Keep u as given (e.g. estimated from random pairs) and estimate only m and the prior.
    pub fix_u: bool,
    /// Probabilities are kept at least this large (a rule file's m and u must be > 0).
    pub floor: f64,
}

impl Default for EmOptions {
    fn default() -> Self {
        EmOptions { max_iterations: 200, tolerance: 1e-6, fix_u: false, floor: 1e-6 }
    }
}

/// The outcome of [`estimate`].
#[derive(Clone, Debug)]
pub struct EmResult {
    pub model: Model,
    pub iterations: usize,
    pub converged: bool,
    /// Expected number of matches among the pairs.
    pub expected_matches: f64,
}

/// Expectation-maximisation of a Fellegi-Sunter model over agreement patterns, from `init`.
pub fn estimate(patterns: &Patterns, init: &Model, opts: &EmOptions) -> EmResult {
    let data = patterns.sorted();
    let total: f64 = data.iter().map(|(_, n)| n).sum();
    let mut model = init.clone();
    let floor = opts.floor.clamp(1e-12, 0.1);
    normalize(&mut model.m, floor);
    if !opts.fix_u {
        normalize(&mut model.u, floor);
    }
    model.prior = model.prior.clamp(floor, 1.0 - floor);
    let mut iterations = 0;
    let mut converged = false;
    let mut expected = 0.0;
    while iterations < opts.max_iterations {
        iterations += 1;
        // E step: expected match share of each pattern; M step accumulators.
        let mut m_acc: Vec<Vec<f64>> = model.m.iter().map(|l| vec![0.0; l.len()]).collect();
        let mut u_acc: Vec<Vec<f64>> = model.u.iter().map(|l| vec![0.0; l.len()]).collect();
        let mut matches = 0.0;
        for (pattern, n) in &data {
            let g = posterior(&model, pattern);
            matches += g * n;
            for (k, level) in pattern.iter().enumerate() {
                let Some(l) = level else { continue };
                if let Some(x) = m_acc.get_mut(k).and_then(|v| v.get_mut(usize::from(*l))) {
                    *x += g * n;
                }
                if let Some(x) = u_acc.get_mut(k).and_then(|v| v.get_mut(usize::from(*l))) {
                    *x += (1.0 - g) * n;
                }
            }
        }
        normalize(&mut m_acc, floor);
        normalize(&mut u_acc, floor);
        let prior = if total > 0.0 { (matches / total).clamp(floor, 1.0 - floor) } else { model.prior };
        let mut change = (prior - model.prior).abs();
        change = change.max(max_change(&model.m, &m_acc));
        model.m = m_acc;
        if !opts.fix_u {
            change = change.max(max_change(&model.u, &u_acc));
            model.u = u_acc;
        }
        model.prior = prior;
        expected = matches;
        if change < opts.tolerance {
            converged = true;
            break;
        }
    }
    EmResult { model, iterations, converged, expected_matches: expected }
}

/// Estimate u from pairs that are (almost all) non-matches, e.g. random pairs: the share of
/// each level among the pairs where the comparison has a value. Levels never seen get `floor`.
pub fn u_from_pairs(patterns: &Patterns, levels_per_comparison: &[usize], floor: f64) -> Vec<Vec<f64>> {
    let mut acc: Vec<Vec<f64>> = levels_per_comparison.iter().map(|&n| vec![0.0; n]).collect();
    for (pattern, n) in patterns.sorted() {
        for (k, level) in pattern.iter().enumerate() {
            if let Some(x) = level.and_then(|l| acc.get_mut(k).and_then(|v| v.get_mut(usize::from(l)))) {
                *x += n;
            }
        }
    }
    normalize(&mut acc, floor.clamp(1e-12, 0.1));
    acc
}

/// Probability that a pair with this pattern is a match under `model`.
pub fn posterior(model: &Model, pattern: &[Option<u16>]) -> f64 {
    let mut log_m = 0.0;
    let mut log_u = 0.0;
    for (k, level) in pattern.iter().enumerate() {
        let Some(l) = level else { continue };
        let m = model.m.get(k).and_then(|v| v.get(usize::from(*l))).copied().unwrap_or(1.0);
        let u = model.u.get(k).and_then(|v| v.get(usize::from(*l))).copied().unwrap_or(1.0);
        log_m += m.max(1e-300).ln();
        log_u += u.max(1e-300).ln();
    }
    let a = model.prior.max(1e-300).ln() + log_m;
    let b = (1.0 - model.prior).max(1e-300).ln() + log_u;
    // exp(a) / (exp(a) + exp(b)) without overflow
    1.0 / (1.0 + (b - a).exp())
}

/// Each row becomes a probability distribution with every entry at least `floor`.
fn normalize(rows: &mut [Vec<f64>], floor: f64) {
    for row in rows {
        let sum: f64 = row.iter().sum();
        let n = row.len() as f64;
        for x in row.iter_mut() {
            *x = if sum > 0.0 { *x / sum } else { 1.0 / n };
        }
        for x in row.iter_mut() {
            *x = x.max(floor);
        }
        let sum: f64 = row.iter().sum();
        for x in row.iter_mut() {
            *x /= sum;
        }
    }
}

fn max_change(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    a.iter().zip(b).flat_map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs())).fold(0.0, f64::max)
}

/// A probability written for a rule file: decimal (the language has no exponent notation),
/// at least four significant digits, within `(0, 1]`.
pub fn format_probability(p: f64) -> String {
    let p = if p.is_finite() { p.clamp(1e-12, 1.0) } else { 1e-12 };
    if p >= 1.0 {
        return String::from("1.0");
    }
    let digits = (-p.log10()).floor().max(0.0) as usize + 4;
    let s = format!("{p:.digits$}");
    let s = s.trim_end_matches('0');
    if s.ends_with('.') { format!("{s}0") } else { s.to_string() }
}

/// Rewrite the numbers of a `match` block in one file's text: `prior` (when it is written in
/// this file) and every level's m and u, from `model`. Everything else is kept byte for byte.
pub fn rewrite(text: &str, file: &str, params: &MatchParameters, model: &Model) -> String {
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    if let Some(at) = &params.prior_at
        && at.file == file
    {
        edits.push((at.start, at.end, format_probability(model.prior.min(0.999_999))));
    }
    for (k, c) in params.compares.iter().enumerate() {
        for (l, level) in c.levels.iter().enumerate() {
            let m = model.m.get(k).and_then(|v| v.get(l)).copied().unwrap_or(level.m);
            let u = model.u.get(k).and_then(|v| v.get(l)).copied().unwrap_or(level.u);
            for (at, x) in [(&level.m_at, m), (&level.u_at, u)] {
                if let Some(at) = at
                    && at.file == file
                {
                    edits.push((at.start, at.end, format_probability(x)));
                }
            }
        }
    }
    edits.sort_by_key(|e| e.0);
    let mut out = String::with_capacity(text.len() + 64);
    let mut pos = 0;
    for (start, end, new) in edits {
        if start < pos || end > text.len() {
            continue;
        }
        out.push_str(text.get(pos..start).unwrap_or(""));
        out.push_str(&new);
        pos = end;
    }
    out.push_str(text.get(pos..).unwrap_or(""));
    out
}

/// Where the m and u numbers stand in the text of one level (`name: test m 0.9 u 0.01`):
/// byte ranges relative to the start of `text`. Comments are skipped.
pub fn find_m_u(text: &str) -> Option<((usize, usize), (usize, usize))> {
    let mut tokens: Vec<(usize, usize)> = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes.get(i).copied().unwrap_or(b' ');
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'#' || (c == b'/' && bytes.get(i + 1) == Some(&b'/')) {
            while i < bytes.len() && bytes.get(i) != Some(&b'\n') {
                i += 1;
            }
        } else {
            let start = i;
            while i < bytes.len() && !bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
                i += 1;
            }
            tokens.push((start, i));
        }
    }
    let tok = |t: &(usize, usize)| text.get(t.0..t.1).unwrap_or("");
    let n = tokens.len();
    if n < 4 {
        return None;
    }
    let (km, m, ku, u) = (tokens.get(n - 4)?, tokens.get(n - 3)?, tokens.get(n - 2)?, tokens.get(n - 1)?);
    if tok(km) != "m" || tok(ku) != "u" || tok(m).parse::<f64>().is_err() || tok(u).parse::<f64>().is_err() {
        return None;
    }
    Some((*m, *u))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn finds_m_and_u() {
        let t = "close: similarity >= 0.85   m 0.08  u 0.02";
        let ((a, b), (c, d)) = find_m_u(t).unwrap();
        assert_eq!(&t[a..b], "0.08");
        assert_eq!(&t[c..d], "0.02");
        assert!(find_m_u("same: same").is_none());
    }

    #[test]
    fn formats_probabilities() {
        assert_eq!(format_probability(0.9), "0.9");
        assert_eq!(format_probability(1.0), "1.0");
        assert_eq!(format_probability(0.000_123_456), "0.0001235");
        assert_eq!(format_probability(0.0), "0.000000000001");
    }

    #[test]
    fn em_separates_two_classes() {
        // Two comparisons with two levels each; matches agree, non-matches mostly do not.
        let mut p = Patterns::new();
        for _ in 0..90 {
            p.add(vec![Some(0), Some(0)]);
        }
        for _ in 0..900 {
            p.add(vec![Some(1), Some(1)]);
        }
        for _ in 0..10 {
            p.add(vec![Some(0), Some(1)]);
        }
        for _ in 0..10 {
            p.add(vec![Some(1), Some(0)]);
        }
        let init = Model { prior: 0.5, m: vec![vec![0.6, 0.4]; 2], u: vec![vec![0.4, 0.6]; 2] };
        let r = estimate(&p, &init, &EmOptions::default());
        assert!(r.model.m[0][0] > 0.85, "{:?}", r.model);
        assert!(r.model.u[0][0] < 0.05, "{:?}", r.model);
        assert!((r.model.prior - 0.09).abs() < 0.03, "{:?}", r.model);
        assert!(posterior(&r.model, &[Some(0), Some(0)]) > 0.9);
        assert!(posterior(&r.model, &[Some(1), Some(1)]) < 0.01);
    }

    #[test]
    fn rewrites_only_the_numbers() {
        let text = "match {\n  prior 0.01\n  compare a = x using exact {\n    same: same m 0.9 u 0.1 // c\n    other: else m 0.1 u 0.9\n  }\n}\n";
        let range = |s: &str, from: usize| {
            let start = text[from..].find(s).unwrap() + from;
            TextRange { file: "f".into(), start, end: start + s.len() }
        };
        let l1 = text.find("same: same").unwrap();
        let l2 = text.find("other:").unwrap();
        let params = MatchParameters {
            prior: 0.01,
            prior_at: Some(range("0.01", 0)),
            block_at: TextRange { file: "f".into(), start: 0, end: text.len() },
            compares: vec![CompareParameters {
                name: "a".into(),
                levels: vec![
                    LevelParameters {
                        name: "same".into(),
                        m: 0.9,
                        u: 0.1,
                        m_at: Some(range("0.9", l1)),
                        u_at: Some(range("0.1", l1)),
                    },
                    LevelParameters {
                        name: "other".into(),
                        m: 0.1,
                        u: 0.9,
                        m_at: Some(range("0.1", l2)),
                        u_at: Some(range("0.9", l2)),
                    },
                ],
            }],
        };
        let model = Model { prior: 0.02, m: vec![vec![0.95, 0.05]], u: vec![vec![0.001, 0.999]] };
        let out = rewrite(text, "f", &params, &model);
        assert!(out.contains("prior 0.02\n"), "{out}");
        assert!(out.contains("same: same m 0.95 u 0.001 // c"), "{out}");
        assert!(out.contains("other: else m 0.05 u 0.999\n"), "{out}");
    }
}
