//! The report of `kensa eval --format html`: counts by decision, a bar chart of findings per
//! rule, then each record with its findings, and the records that could not be read.
//!
//! Only what a verdict holds is shown (id, decision, score, and per finding its rule, severity,
//! message and fields): the engine has already masked My Numbers in messages, and no raw record
//! field is ever written.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{chart, decision, esc, severity, table};

/// One record as the report shows it: what its verdict holds, or why it could not be read.
pub struct Shown {
    /// Where it was read (`line` or `file:line`).
    pos: String,
    id: Option<String>,
    /// `None`: the record could not be read or judged (`error` says why).
    decision: Option<kensa::Decision>,
    score: u32,
    findings: Vec<ShownFinding>,
    error: Option<String>,
}

struct ShownFinding {
    rule: String,
    severity: kensa::Severity,
    message: String,
    fields: Vec<String>,
}

impl Shown {
    /// What the report keeps of a verdict.
    pub fn verdict(pos: String, v: &kensa::Verdict) -> Shown {
        let findings = v
            .findings
            .iter()
            .map(|f| ShownFinding {
                rule: f.rule.clone(),
                severity: f.severity,
                message: f.message.clone(),
                fields: f.fields.clone(),
            })
            .collect();
        Shown { pos, id: v.id.clone(), decision: Some(v.decision), score: v.score, findings, error: None }
    }

    /// A record that could not be read or judged.
    pub fn error(pos: String, message: String) -> Shown {
        Shown { pos, id: None, decision: None, score: 0, findings: Vec::new(), error: Some(message) }
    }
}

/// The whole page for `records`, in input order.
pub fn page(records: &[Shown]) -> String {
    let mut body = summary(records);
    body.push_str(&per_rule(records));
    body.push_str(&errors(records));
    body.push_str(&each_record(records));
    super::page("kensa eval 検査結果", &body)
}

/// Counts by decision (and errors) with the total.
fn summary(records: &[Shown]) -> String {
    let count = |d: Option<kensa::Decision>| records.iter().filter(|r| r.decision == d).count();
    let mut rows: Vec<Vec<String>> = [kensa::Decision::Accept, kensa::Decision::Review, kensa::Decision::Reject]
        .into_iter()
        .map(|d| vec![decision(d.as_str()), count(Some(d)).to_string()])
        .collect();
    rows.push(vec![decision("error"), count(None).to_string()]);
    rows.push(vec![String::from("合計 total"), records.len().to_string()]);
    format!(
        "<h2 id=\"summary\">概要 summary</h2>\n{}",
        table("判定ごとの件数 records by decision", &["decision", "records#"], &rows)
    )
}

/// Findings per rule: a bar chart and the same numbers as a table.
fn per_rule(records: &[Shown]) -> String {
    let mut counts: BTreeMap<(&str, kensa::Severity), usize> = BTreeMap::new();
    for f in records.iter().flat_map(|r| &r.findings) {
        *counts.entry((f.rule.as_str(), f.severity)).or_default() += 1;
    }
    let mut sorted: Vec<((&str, kensa::Severity), usize)> = counts.into_iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut out = String::from("<h2 id=\"rules\">ルールごとの指摘 findings by rule</h2>\n");
    if sorted.is_empty() {
        out.push_str("<p>指摘はありません (no findings).</p>\n");
        return out;
    }
    let bars: Vec<(String, usize)> = sorted.iter().map(|((rule, _), n)| ((*rule).to_string(), *n)).collect();
    out.push_str(&chart::bars("ルールごとの指摘件数 findings per rule", &bars));
    let rows: Vec<Vec<String>> = sorted
        .iter()
        .map(|((rule, sev), n)| vec![format!("<code>{}</code>", esc(rule)), severity(sev.as_str()), n.to_string()])
        .collect();
    out.push_str(&table("ルールごとの指摘件数 findings per rule", &["rule", "severity", "findings#"], &rows));
    out
}

/// The records that could not be read or judged, with where they are.
fn errors(records: &[Shown]) -> String {
    let rows: Vec<Vec<String>> =
        records.iter().filter_map(|r| Some(vec![esc(&r.pos), esc(r.error.as_deref()?)])).collect();
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "<h2 id=\"errors\">読めなかった記録 records that could not be read</h2>\n{}",
        table("エラー errors", &["line", "error"], &rows)
    )
}

/// Each judged record: a heading line with id, decision and score, then its findings.
fn each_record(records: &[Shown]) -> String {
    let mut out = String::from("<h2 id=\"records\">記録ごとの結果 each record</h2>\n");
    for r in records {
        let Some(d) = r.decision else { continue };
        let id = r.id.as_deref().map_or_else(|| String::from("(id なし)"), esc);
        let _ = writeln!(
            out,
            "<details{}><summary>{} <strong>{id}</strong> — {} — score {} — 指摘 {} 件</summary>",
            if r.findings.is_empty() { "" } else { " open" },
            esc(&r.pos),
            decision(d.as_str()),
            r.score,
            r.findings.len()
        );
        if !r.findings.is_empty() {
            let rows: Vec<Vec<String>> = r
                .findings
                .iter()
                .map(|f| {
                    let fields: Vec<String> = f.fields.iter().map(|x| format!("<code>{}</code>", esc(x))).collect();
                    vec![
                        format!("<code>{}</code>", esc(&f.rule)),
                        severity(f.severity.as_str()),
                        esc(&f.message),
                        fields.join(", "),
                    ]
                })
                .collect();
            let caption = format!("{} の指摘 findings", r.id.as_deref().unwrap_or(&r.pos));
            out.push_str(&table(&caption, &["rule", "severity", "message", "fields"], &rows));
        }
        out.push_str("</details>\n");
    }
    out
}
