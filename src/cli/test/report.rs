//! What `kensa test` prints: failures for people, JSON for CI, JUnit XML, coverage.

use std::fmt::Write as _;
use std::path::Path;

use super::{Coverage, Status, SuiteResult};

pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub suites: usize,
    /// Suites that could not be read or run.
    pub broken: usize,
}

impl Summary {
    pub fn of(results: &[SuiteResult]) -> Summary {
        let mut s = Summary { passed: 0, failed: 0, skipped: 0, suites: results.len(), broken: 0 };
        for r in results {
            if r.error.is_some() {
                s.broken += 1;
            }
            for c in &r.cases {
                match c.status {
                    Status::Passed => s.passed += 1,
                    Status::Failed { .. } => s.failed += 1,
                    Status::Skipped(_) => s.skipped += 1,
                }
            }
        }
        s
    }

    /// `N passed, M failed, K skipped`, and the suites that could not run.
    pub fn line(&self) -> String {
        let mut line = format!("{} passed, {} failed, {} skipped", self.passed, self.failed, self.skipped);
        if self.broken > 0 {
            let _ = write!(line, "; {} of {} suites could not run", self.broken, self.suites);
        }
        line
    }
}

/// Per suite: one line when all is well, else every failing and skipped case in full.
pub fn text(results: &[SuiteResult]) -> String {
    let mut out = String::new();
    for r in results {
        if let Some(e) = &r.error {
            if !r.unreadable {
                let _ = writeln!(out, "{}: error: {e}", r.path);
            }
            continue;
        }
        if r.cases.is_empty() {
            continue;
        }
        let count = |f: fn(&Status) -> bool| r.cases.iter().filter(|c| f(&c.status)).count();
        let passed = count(|s| matches!(s, Status::Passed));
        let failed = count(|s| matches!(s, Status::Failed { .. }));
        let skipped = count(|s| matches!(s, Status::Skipped(_)));
        let _ = write!(out, "{} ({}): {passed} passed", r.path, r.rules);
        if failed > 0 {
            let _ = write!(out, ", {failed} failed");
        }
        if skipped > 0 {
            let _ = write!(out, ", {skipped} skipped");
        }
        out.push('\n');
        for c in &r.cases {
            match &c.status {
                Status::Passed => {}
                Status::Skipped(reason) => {
                    let _ = writeln!(out, "  SKIP {} ({}): {reason}", c.name, r.place(c));
                }
                Status::Failed { problems, got } => {
                    let _ = writeln!(out, "  FAIL {} ({})", c.name, r.place(c));
                    for p in problems {
                        let _ = writeln!(out, "       {p}");
                    }
                    if let Some(g) = got {
                        let _ = writeln!(
                            out,
                            "       got: {}, score {}, {} findings",
                            g.decision,
                            g.score,
                            g.findings.len()
                        );
                        for f in &g.findings {
                            let _ = writeln!(
                                out,
                                "         {} {} (-{}): {}",
                                f.severity.as_str(),
                                f.rule,
                                f.penalty,
                                f.message
                            );
                            if !f.fields.is_empty() {
                                let _ = writeln!(out, "           fields: {}", f.fields.join(", "));
                            }
                            for (label, value) in &f.evidence {
                                let _ = writeln!(out, "           {label} = {value}");
                            }
                            if !f.related.is_empty() {
                                let _ = writeln!(out, "           related: {}", f.related.join(", "));
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// How much of the (rule, way) pairs the cases reached: each rule firing in some case and
/// passing in another.
pub struct Covered {
    pub ways: usize,
    pub total: usize,
}

impl Covered {
    pub fn percent(&self) -> f64 {
        if self.total == 0 { 100.0 } else { self.ways as f64 * 100.0 / self.total as f64 }
    }
}

pub fn covered(coverage: &Coverage) -> Covered {
    let mut c = Covered { ways: 0, total: 0 };
    for rules in coverage.values() {
        for (fired, passed) in rules.values() {
            c.total += 2;
            c.ways += usize::from(*fired > 0) + usize::from(*passed > 0);
        }
    }
    c
}

/// `rule (never fired)` / `rule (never passed)` for every way no case reached.
pub fn uncovered_ways(coverage: &Coverage) -> Vec<String> {
    let mut out = Vec::new();
    for rules in coverage.values() {
        for (id, (fired, passed)) in rules {
            if *fired == 0 {
                out.push(format!("{id} (never fired)"));
            }
            if *passed == 0 {
                out.push(format!("{id} (never passed)"));
            }
        }
    }
    out
}

/// Per rule set: a table of rules with the cases that fired it and passed through it, then
/// the rules some way is missing for.
/// `measured` names the rules measured when not all (`--coverage-of`).
pub fn coverage_text(coverage: &Coverage, measured: Option<&str>) -> String {
    let mut out = String::new();
    for (label, rules) in coverage {
        let one = Coverage::from([(label.clone(), rules.clone())]);
        let c = covered(&one);
        let of = measured.map(|m| format!(" ({m})")).unwrap_or_default();
        let _ = writeln!(out, "\ncoverage of {label}{of}: {} of {} ways ({:.1}%)", c.ways, c.total, c.percent());
        let width = rules.keys().map(|k| k.chars().count()).max().unwrap_or(4).max(4);
        let _ = writeln!(out, "  {:<width$}  {:>6}  {:>6}", "rule", "fired", "passed");
        for (id, (fired, passed)) in rules {
            let _ = writeln!(out, "  {id:<width$}  {fired:>6}  {passed:>6}");
        }
        let missing = uncovered_ways(&one);
        if !missing.is_empty() {
            let _ = writeln!(out, "  not reached: {}", missing.join(", "));
        }
    }
    out.push('\n');
    out
}

/// The results for CI; `coverage` with the rules measured when not all (`--coverage-of`).
pub fn json(
    results: &[SuiteResult],
    summary: &Summary,
    coverage: Option<(&Coverage, Option<&str>)>,
) -> serde_json::Value {
    use serde_json::json;
    let suites: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let cases: Vec<serde_json::Value> = r
                .cases
                .iter()
                .map(|c| match &c.status {
                    Status::Passed => json!({"name": c.name, "line": c.line, "status": "passed"}),
                    Status::Skipped(reason) => {
                        json!({"name": c.name, "line": c.line, "status": "skipped", "reason": reason})
                    }
                    Status::Failed { problems, got } => {
                        let got = got.as_ref().map(|g| {
                            json!({
                                "decision": g.decision,
                                "score": g.score,
                                "findings": g.findings.iter().map(|f| json!({
                                    "rule": f.rule,
                                    "severity": f.severity.as_str(),
                                    "penalty": f.penalty,
                                    "message": f.message,
                                    "fields": f.fields,
                                    "evidence": f.evidence.iter().map(|(k, v)| json!({"label": k, "value": v})).collect::<Vec<_>>(),
                                    "related": f.related,
                                })).collect::<Vec<_>>(),
                            })
                        });
                        json!({"name": c.name, "line": c.line, "status": "failed", "problems": problems, "got": got})
                    }
                })
                .collect();
            json!({"file": r.path, "rules": r.rules, "error": r.error, "cases": cases})
        })
        .collect();
    let mut v = json!({
        "suites": suites,
        "passed": summary.passed,
        "failed": summary.failed,
        "skipped": summary.skipped,
        "broken_suites": summary.broken,
    });
    if let (Some((cov, measured)), Some(obj)) = (coverage, v.as_object_mut()) {
        let c = covered(cov);
        let sets: serde_json::Map<String, serde_json::Value> = cov
            .iter()
            .map(|(label, rules)| {
                let rules: serde_json::Map<String, serde_json::Value> = rules
                    .iter()
                    .map(|(id, (fired, passed))| (id.clone(), json!({"fired": fired, "passed": passed})))
                    .collect();
                (label.clone(), serde_json::Value::Object(rules))
            })
            .collect();
        obj.insert(
            String::from("coverage"),
            json!({
                "percent": (c.percent() * 10.0).round() / 10.0,
                "ways": c.ways,
                "total": c.total,
                "measured": measured.unwrap_or("all rules"),
                "rules": sets
            }),
        );
    }
    v
}

/// JUnit XML: one test suite per suite file, one test case per case.
pub fn write_junit(path: &Path, results: &[SuiteResult]) -> std::io::Result<()> {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("kensa test");
    for r in results {
        let mut suite = TestSuite::new(r.path.as_str());
        if let Some(e) = &r.error {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            let what = if r.unreadable { "the suite could not be read" } else { "the suite could not run" };
            status.set_message(format!("{what}: {}", e.lines().next().unwrap_or_default()));
            status.set_description(e.as_str());
            let mut case = TestCase::new("(suite)", status);
            case.set_classname(r.path.as_str());
            case.extra.insert("file".into(), r.path.as_str().into());
            suite.add_test_case(case);
        }
        for c in &r.cases {
            let status = match &c.status {
                Status::Passed => TestCaseStatus::success(),
                Status::Skipped(reason) => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(reason.as_str());
                    s
                }
                Status::Failed { problems, .. } => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    let place = r.place(c);
                    s.set_message(format!("{place}: {}", problems.first().map_or("failed", String::as_str)));
                    s.set_description(format!("{place}: case `{}`\n{}", c.name, problems.join("\n")));
                    s
                }
            };
            let mut case = TestCase::new(c.name.as_str(), status);
            case.set_classname(r.path.as_str());
            case.extra.insert("file".into(), r.path.as_str().into());
            if c.line > 0 {
                case.extra.insert("line".into(), c.line.to_string().into());
            }
            case.set_time(std::time::Duration::from_secs_f64(c.seconds));
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    let xml = report.to_string().map_err(std::io::Error::other)?;
    std::fs::write(path, xml)
}
