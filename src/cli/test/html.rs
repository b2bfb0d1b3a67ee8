//! `kensa test --html FILE`: the results as one self-contained page: the counts, each suite with
//! its cases (failures with what did not hold and their file:line), and per-rule coverage.

use std::fmt::Write as _;

use super::report::{Summary, covered, uncovered_ways};
use super::{Coverage, Status, SuiteResult};
use crate::cli::report::{esc, page, severity, table};

/// The whole page.
pub fn html(results: &[SuiteResult], summary: &Summary, coverage: &Coverage) -> String {
    let rows = vec![
        vec![String::from("passed"), summary.passed.to_string()],
        vec![String::from("failed"), summary.failed.to_string()],
        vec![String::from("skipped"), summary.skipped.to_string()],
        vec![String::from("suites"), summary.suites.to_string()],
        vec![String::from("broken suites"), summary.broken.to_string()],
    ];
    let mut body =
        format!("<h2 id=\"summary\">概要 summary</h2>\n{}", table("ケースの件数 cases", &["what", "count#"], &rows));
    body.push_str(&failures(results));
    body.push_str("<h2 id=\"suites\">スイート suites</h2>\n");
    for r in results {
        body.push_str(&suite(r));
    }
    body.push_str(&coverage_tables(coverage));
    page("kensa test 回帰テスト", &body)
}

/// The failed cases of every suite first, each with where it is and what did not hold, so that
/// a reader of a long report finds them without scrolling through the passes.
fn failures(results: &[SuiteResult]) -> String {
    let rows: Vec<Vec<String>> = results
        .iter()
        .flat_map(|r| r.cases.iter().map(move |c| (r, c)))
        .filter_map(|(r, c)| match &c.status {
            Status::Failed { problems, got } => {
                Some(vec![esc(&c.name), format!("<code>{}</code>", esc(&r.place(c))), failure(problems, got.as_ref())])
            }
            _ => None,
        })
        .collect();
    if rows.is_empty() {
        return String::from(
            "<h2 id=\"failures\">失敗 failures</h2>\n<p class=\"d-accept\">失敗なし: no case failed.</p>\n",
        );
    }
    format!(
        "<h2 id=\"failures\">失敗 failures ({})</h2>\n{}",
        rows.len(),
        table("失敗したケース failed cases", &["case", "where", "what did not hold"], &rows)
    )
}

/// One suite: its error, or a table of its cases.
fn suite(r: &SuiteResult) -> String {
    let mut out = format!("<h3>{} <small>({})</small></h3>\n", esc(&r.path), esc(&r.rules));
    if let Some(e) = &r.error {
        let _ = writeln!(out, "<p class=\"d-error\">エラー error: {}</p>", esc(e));
    }
    let rows: Vec<Vec<String>> = r
        .cases
        .iter()
        .map(|c| {
            let (status, detail) = match &c.status {
                Status::Passed => (String::from("<span class=\"d-accept\">成功 passed</span>"), String::new()),
                Status::Skipped(reason) => (String::from("<span class=\"s-warn\">省略 skipped</span>"), esc(reason)),
                Status::Failed { problems, got } => {
                    (String::from("<span class=\"d-reject\">失敗 FAILED</span>"), failure(problems, got.as_ref()))
                }
            };
            vec![esc(&c.name), status, format!("<code>{}</code>", esc(&r.place(c))), detail]
        })
        .collect();
    if !rows.is_empty() {
        out.push_str(&table(&format!("{} のケース cases", r.path), &["case", "status", "where", "detail"], &rows));
    }
    out
}

/// What did not hold, and what the record got (its findings with their messages).
fn failure(problems: &[String], got: Option<&super::Got>) -> String {
    let mut out = String::from("<ul>");
    for p in problems {
        let _ = write!(out, "<li>{}</li>", esc(p));
    }
    out.push_str("</ul>");
    if let Some(g) = got {
        let _ = write!(out, "<p>got: {}, score {}</p><ul>", esc(g.decision), g.score);
        for f in &g.findings {
            let _ = write!(
                out,
                "<li>{} <code>{}</code>: {}</li>",
                severity(f.severity.as_str()),
                esc(&f.rule),
                esc(&f.message)
            );
        }
        out.push_str("</ul>");
    }
    out
}

/// Per rule set: the rules with the cases that fired them and passed through them.
fn coverage_tables(coverage: &Coverage) -> String {
    let mut out = String::from("<h2 id=\"coverage\">ルールの網羅 coverage per rule</h2>\n");
    for (label, rules) in coverage {
        let one = Coverage::from([(label.clone(), rules.clone())]);
        let c = covered(&one);
        let _ = writeln!(out, "<p>{}: {} of {} ways ({:.1}%)</p>", esc(label), c.ways, c.total, c.percent());
        let rows: Vec<Vec<String>> = rules
            .iter()
            .map(|(id, (fired, passed))| {
                let reached = if *fired > 0 && *passed > 0 { "両方 both" } else { "不足 missing" };
                vec![format!("<code>{}</code>", esc(id)), fired.to_string(), passed.to_string(), String::from(reached)]
            })
            .collect();
        out.push_str(&table(&format!("{label} の網羅 coverage"), &["rule", "fired#", "passed#", "reached"], &rows));
        let missing = uncovered_ways(&one);
        if !missing.is_empty() {
            let _ = writeln!(out, "<p>未到達 not reached: {}</p>", esc(&missing.join(", ")));
        }
    }
    out
}
