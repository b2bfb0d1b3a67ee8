//! `kensa diff --format html`: the report as one self-contained page: the counts, the decision
//! transitions as a matrix, the rules that fire differently, the example records (ids only,
//! never record fields) and, with `--expect`, the changes that were not intended.

use std::fmt::Write as _;

use super::{DECISIONS, Report};
use crate::cli::report::{chart, decision, esc, page, table};

impl Report {
    /// The whole page.
    pub(super) fn html(&self) -> String {
        let mut body = self.html_summary();
        body.push_str(&self.html_matrix());
        body.push_str(&self.html_rules());
        body.push_str(&self.html_examples());
        body.push_str(&self.html_unintended());
        page("kensa diff ルール変更の影響", &body)
    }

    fn html_summary(&self) -> String {
        let r = &self.records;
        let s = &self.scores;
        let rows = vec![
            vec![String::from("base rules"), format!("<code>{}</code>", esc(&self.base))],
            vec![String::from("new rules"), format!("<code>{}</code>", esc(&self.new))],
            vec![String::from("records"), r.input.to_string()],
            vec![String::from("evaluated"), r.evaluated.to_string()],
            vec![String::from("errors"), r.errors.to_string()],
            vec![String::from("decisions changed"), self.decisions.changed.to_string()],
            vec![String::from("scores changed"), format!("{} ({} raised, {} lowered)", s.changed, s.raised, s.lowered)],
            vec![String::from("mean score change"), format!("{:+.3}", s.mean_change)],
        ];
        format!("<h2 id=\"summary\">概要 summary</h2>\n{}", table("変更の概要 summary", &["what", "value"], &rows))
    }

    /// Rows: the base decision; columns: the new one; totals on both sides.
    fn html_matrix(&self) -> String {
        let mut rows: Vec<Vec<String>> = DECISIONS
            .iter()
            .map(|&b| {
                let mut row = vec![format!("base {}", decision(b.as_str()))];
                row.extend(DECISIONS.iter().map(|&n| self.transitions.get(b).get(n).to_string()));
                row.push(self.decisions.base.get(b).to_string());
                row
            })
            .collect();
        let mut total = vec![String::from("合計 total")];
        total.extend(DECISIONS.iter().map(|&n| self.decisions.new.get(n).to_string()));
        total.push(self.records.evaluated.to_string());
        rows.push(total);
        let mut out = String::from("<h2 id=\"transitions\">判定の遷移 decision transitions</h2>\n");
        out.push_str(&table(
            "行: 変更前の判定、列: 変更後の判定 rows: base decision, columns: new decision",
            &["base \\ new", "accept#", "review#", "reject#", "total#"],
            &rows,
        ));
        let moves: Vec<(String, usize)> =
            self.changes.iter().map(|t| (format!("{} → {}", t.from, t.to), t.records)).collect();
        if !moves.is_empty() {
            out.push_str(&chart::bars("判定が変わった記録 records whose decision changed", &moves));
        }
        out
    }

    fn html_rules(&self) -> String {
        let mut out = String::from("<h2 id=\"rules\">挙動が変わるルール rules that fire differently</h2>\n");
        if self.rules.is_empty() {
            out.push_str("<p>なし: none fires differently, none added or removed.</p>\n");
            return out;
        }
        let rows: Vec<Vec<String>> = self
            .rules
            .iter()
            .map(|r| {
                vec![
                    format!("<code>{}</code>", esc(&r.rule)),
                    esc(r.status),
                    r.newly_fires.to_string(),
                    r.stops_firing.to_string(),
                    r.fires_differently.to_string(),
                    r.decisions_changed.to_string(),
                ]
            })
            .collect();
        out.push_str(&table(
            "ルールごとの変化 per rule, most records first",
            &["rule", "status", "newly fires#", "stops firing#", "fires differently#", "decisions changed#"],
            &rows,
        ));
        let newly: Vec<(String, usize)> =
            self.rules.iter().filter(|r| r.newly_fires > 0).map(|r| (r.rule.clone(), r.newly_fires)).collect();
        if !newly.is_empty() {
            out.push_str(&chart::bars("新たに発火するルール rules that newly fire", &newly));
        }
        if self.without_rule_change > 0 {
            let _ = writeln!(
                out,
                "<p>{} decisions changed with no rule firing differently (the decide block).</p>",
                self.without_rule_change
            );
        }
        out
    }

    fn html_examples(&self) -> String {
        if self.changes.is_empty() {
            return String::new();
        }
        let mut out = String::from(
            "<h2 id=\"examples\">例 examples</h2>\n<p>+ newly fires, − stops firing, ~ fires with another severity or penalty</p>\n",
        );
        for t in &self.changes {
            let rows: Vec<Vec<String>> = t
                .examples
                .iter()
                .map(|e| {
                    let marked: Vec<String> = e
                        .newly_fires
                        .iter()
                        .map(|r| format!("+{r}"))
                        .chain(e.stops_firing.iter().map(|r| format!("−{r}")))
                        .chain(e.fires_differently.iter().map(|r| format!("~{r}")))
                        .collect();
                    vec![
                        esc(&e.position()),
                        esc(e.id.as_deref().unwrap_or("")),
                        format!("{} {}", decision(e.base.decision), e.base.score),
                        format!("{} {}", decision(e.new.decision), e.new.score),
                        esc(&marked.join(" ")),
                    ]
                })
                .collect();
            let caption = format!("{} → {}: {} records", t.from, t.to, t.records);
            out.push_str(&table(&caption, &["line", "id", "base", "new", "rules"], &rows));
        }
        out
    }

    fn html_unintended(&self) -> String {
        let Some(unintended) = &self.unintended else { return String::new() };
        let mut out = String::from("<h2 id=\"unintended\">意図しない変化 unintended changes (--expect)</h2>\n");
        if unintended.is_empty() {
            out.push_str("<p class=\"d-accept\">すべて意図どおり: every change was intended.</p>\n");
            return out;
        }
        out.push_str("<ul>\n");
        for line in unintended {
            let _ = writeln!(out, "<li class=\"d-reject\">{}</li>", esc(line));
        }
        out.push_str("</ul>\n");
        out
    }
}
