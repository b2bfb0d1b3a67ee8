//! The report of `kensa dedup --format html` and `kensa link --format html`: the run's numbers,
//! the pairs with their probability and per-comparison weights, each with a waterfall from the
//! prior to the final probability, and the clusters (connected components of the pairs).
//!
//! Only ids and the comparisons' names, levels and weights are shown, never record fields.

use std::fmt::Write as _;

use super::super::dedup::Pair;
use super::chart::{self, Step};
use super::{esc, table};

/// Pairs shown with their waterfall open; the others are one click (or key press) away.
const OPEN: usize = 3;

/// What the page shows besides the pairs.
pub struct Run<'a> {
    /// `dedup` or `link`.
    pub command: &'a str,
    /// The run's numbers, as (what, how many): records, errors, comparisons, pairs, …
    pub facts: Vec<(&'a str, String)>,
    /// The prior of the rules' `match` block: where each waterfall starts (`None`: unknown, no
    /// waterfalls are drawn).
    pub prior: Option<f64>,
    /// With `--clusters` (dedup): the clusters.
    pub clusters: Option<&'a [Vec<String>]>,
}

/// The whole page.
pub fn page(run: &Run<'_>, pairs: &[Pair]) -> String {
    let rows: Vec<Vec<String>> = run.facts.iter().map(|(k, v)| vec![esc(k), esc(v)]).collect();
    let mut body =
        format!("<h2 id=\"summary\">概要 summary</h2>\n{}", table("実行の数値 run", &["what", "count#"], &rows));
    body.push_str(&pair_table(pairs));
    if let Some(clusters) = run.clusters {
        body.push_str(&cluster_list(clusters));
    }
    body.push_str(&waterfalls(run.prior, pairs));
    let title = if run.command == "link" { "kensa link 照合結果" } else { "kensa dedup 重複候補" };
    super::page(title, &body)
}

fn pair_table(pairs: &[Pair]) -> String {
    let rows: Vec<Vec<String>> = pairs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            vec![
                format!("<a href=\"#pair-{i}\">{}</a>", i + 1),
                esc(&p.left),
                esc(&p.right),
                format!("{:.6}", p.probability),
                format!("{:+.2}", p.comparisons.iter().map(|c| c.weight).sum::<f64>()),
            ]
        })
        .collect();
    format!(
        "<h2 id=\"pairs\">組 pairs ({} 組)</h2>\n{}",
        pairs.len(),
        table(
            "組と一致確率 pairs and match probability",
            &["#", "left", "right", "probability#", "weight (bits)#"],
            &rows
        )
    )
}

fn cluster_list(clusters: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = clusters
        .iter()
        .enumerate()
        .map(|(i, ids)| {
            let ids: Vec<String> = ids.iter().map(|id| esc(id)).collect();
            vec![(i + 1).to_string(), ids.len().to_string(), ids.join(", ")]
        })
        .collect();
    format!(
        "<h2 id=\"clusters\">クラスタ clusters ({} 個)</h2>\n{}",
        clusters.len(),
        table("同一人物と思われる記録のまとまり clusters", &["#", "records#", "ids"], &rows)
    )
}

/// Per pair: its comparisons as a table and as a waterfall.
fn waterfalls(prior: Option<f64>, pairs: &[Pair]) -> String {
    let mut out = String::from("<h2 id=\"weights\">組ごとの重み match weights per pair</h2>\n");
    for (i, p) in pairs.iter().enumerate() {
        let name = format!("{} ↔ {}", p.left, p.right);
        let _ = writeln!(
            out,
            "<details id=\"pair-{i}\"{}><summary>{}. {} — 確率 probability {:.6}</summary>",
            if i < OPEN { " open" } else { "" },
            i + 1,
            esc(&name),
            p.probability
        );
        let rows: Vec<Vec<String>> = p
            .comparisons
            .iter()
            .map(|c| {
                vec![
                    esc(&c.name),
                    c.level.as_deref().map_or_else(|| String::from("値なし (absent)"), esc),
                    format!("{:+.3}", c.weight),
                    c.frequency_adjustment.map(|a| format!("{a:+.3}")).unwrap_or_default(),
                ]
            })
            .collect();
        out.push_str(&table(
            &format!("{name} の比較 comparisons"),
            &["comparison", "level", "weight (bits)#", "frequency adjustment#"],
            &rows,
        ));
        let steps: Vec<Step> = p
            .comparisons
            .iter()
            .map(|c| Step { name: c.name.clone(), level: c.level.clone(), weight: c.weight })
            .collect();
        if let Some(prior) = prior {
            out.push_str(&chart::waterfall(&format!("{name} の重みの滝グラフ waterfall"), prior, &steps));
        }
        out.push_str("</details>\n");
    }
    out
}
