//! Charts of the static reports, drawn as inline SVG: a horizontal bar chart of counts and a
//! waterfall of a pair's match weights. Each chart has a `<title>` and an `aria-label`, and
//! writes its numbers as text next to the bars, so it reads without colour and without sight
//! of the shapes.

use std::fmt::Write as _;

use super::esc;

/// Height of one row of a chart, in SVG units.
const ROW: f64 = 26.0;
/// Width given to the labels on the left.
const LABEL: f64 = 300.0;
/// Width of the drawing area.
const PLOT: f64 = 420.0;
/// Width given to the numbers on the right.
const VALUE: f64 = 220.0;

fn svg_open(out: &mut String, title: &str, rows: usize) {
    let height = ROW * (rows as f64 + 1.0);
    let width = LABEL + PLOT + VALUE;
    let t = esc(title);
    let _ = write!(
        out,
        "<svg viewBox=\"0 0 {width} {height}\" width=\"{width}\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>"
    );
}

/// Horizontal bars, one per `(label, count)`, longest scaled to the full width; the count is
/// written after each bar.
pub fn bars(title: &str, items: &[(String, usize)]) -> String {
    let mut out = String::new();
    svg_open(&mut out, title, items.len());
    let max = items.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
    for (i, (label, n)) in items.iter().enumerate() {
        let y = ROW * (i as f64 + 0.5);
        let w = PLOT * (*n as f64) / max;
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"{LABEL}\" y=\"{}\" width=\"{w:.1}\" height=\"{}\" fill=\"#1a5fb4\"/><text x=\"{:.1}\" y=\"{}\">{n}</text>",
            LABEL - 8.0,
            y + ROW * 0.55,
            esc(label),
            y + 4.0,
            ROW - 8.0,
            LABEL + w + 6.0,
            y + ROW * 0.55,
        );
    }
    out.push_str("</svg>\n");
    out
}

/// One bar of a waterfall: a comparison's name and level, and its weight in bits.
pub struct Step {
    pub name: String,
    pub level: Option<String>,
    pub weight: f64,
}

/// log2 of the prior's odds: where a waterfall starts.
pub fn prior_log2_odds(prior: f64) -> f64 {
    (prior / (1.0 - prior)).log2()
}

/// The probability of log2 odds `x`: where a waterfall ends (the same as the engine's
/// probability of the prior and the summed weights).
pub fn probability_of(x: f64) -> f64 {
    let odds = x.exp2();
    if odds.is_infinite() { 1.0 } else { odds / (1.0 + odds) }
}

/// A waterfall of match weights: the prior's log2 odds, then one bar per comparison from the
/// running total (green up, red down, labelled with name, level and ±weight in bits), then the
/// final log2 odds with the probability written. The final probability is also in
/// `data-probability` (6 decimals, as the JSON output rounds it).
pub fn waterfall(title: &str, prior: f64, steps: &[Step]) -> String {
    let start = prior_log2_odds(prior);
    let mut ends = vec![(start, start)];
    let mut at = start;
    for s in steps {
        ends.push((at, at + s.weight));
        at += s.weight;
    }
    let lo = ends.iter().flat_map(|(a, b)| [*a, *b]).fold(0.0f64, f64::min);
    let hi = ends.iter().flat_map(|(a, b)| [*a, *b]).fold(0.0f64, f64::max);
    let span = (hi - lo).max(1.0);
    let x = |v: f64| LABEL + PLOT * (v - lo) / span;
    let p = probability_of(at);
    let mut out = String::new();
    svg_open(&mut out, title, steps.len() + 2);
    let _ = write!(out, "<g data-probability=\"{p:.6}\">");
    let _ = write!(
        out,
        "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"0\" y2=\"{1}\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>",
        x(0.0),
        ROW * (steps.len() as f64 + 2.5)
    );
    let mut row = |i: usize, label: &str, from: f64, to: f64, colour: &str, value: &str| {
        let y = ROW * (i as f64 + 0.5);
        let (a, b) = (x(from.min(to)), x(from.max(to)));
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><rect x=\"{a:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{}\" fill=\"{colour}\"/><text x=\"{}\" y=\"{:.1}\">{}</text>",
            LABEL - 8.0,
            y + ROW * 0.55,
            esc(label),
            y + 4.0,
            (b - a).max(1.0),
            ROW - 8.0,
            LABEL + PLOT + 8.0,
            y + ROW * 0.55,
            esc(value),
        );
    };
    row(0, "事前確率 prior", 0.0, start, "#666", &format!("{start:+.2} bits (p = {prior})"));
    for (i, s) in steps.iter().enumerate() {
        let (from, to) = ends.get(i + 1).copied().unwrap_or((at, at));
        let colour = if s.weight >= 0.0 { "#1b6e2d" } else { "#b3261e" };
        let label = format!("{} ({})", s.name, s.level.as_deref().unwrap_or("値なし"));
        row(i + 1, &label, from, to, colour, &format!("{:+.2} bits", s.weight));
    }
    row(steps.len() + 1, "合計 final", 0.0, at, "#1a5fb4", &format!("{at:+.2} bits → 確率 {p:.6}"));
    out.push_str("</g></svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_write_their_numbers() {
        let svg = bars("件数", &[(String::from("a<b"), 3), (String::from("c"), 0)]);
        assert!(svg.contains("<title>件数</title>") && svg.contains("aria-label=\"件数\""));
        assert!(svg.contains(">a&lt;b</text>") && svg.contains(">3</text>") && svg.contains(">0</text>"));
    }

    #[test]
    fn a_waterfall_ends_at_the_engine_probability() {
        let steps = [
            Step { name: String::from("name"), level: Some(String::from("same")), weight: 7.5 },
            Step { name: String::from("birth"), level: None, weight: -2.25 },
        ];
        let prior = 0.001;
        let expected = {
            let odds = prior / (1.0 - prior) * (7.5f64 - 2.25).exp2();
            odds / (1.0 + odds)
        };
        let svg = waterfall("重み", prior, &steps);
        assert!(svg.contains(&format!("data-probability=\"{expected:.6}\"")), "{svg}");
        assert!(svg.contains("name (same)") && svg.contains("+7.50 bits") && svg.contains("-2.25 bits"));
        assert!(svg.contains("birth (値なし)"));
        assert!((probability_of(prior_log2_odds(0.25)) - 0.25).abs() < 1e-12);
    }
}
