//! The static HTML reports, produced by the real binary from bundled data: each is one
//! self-contained page (nothing to fetch), its summary numbers equal those of the JSON output
//! of the same command, a hostile id appears only escaped, and no full My Number of the input
//! is ever written. The pages are written into a temporary folder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;

use std::path::Path;

use cli::{ROOT, Run, run, run_in, workdir, write};
use serde_json::Value;

const HOSTILE: &str = "<script>alert(1)</script>";
const HOSTILE_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";

/// Checks every report passes: the page shell, nothing to fetch, charts where expected.
fn self_contained(html: &str, charts: bool) {
    assert!(html.starts_with("<!doctype html>"), "{}", &html[..html.len().min(200)]);
    assert!(html.contains("<html lang=\"ja\">") && html.contains("<meta charset=\"utf-8\">"));
    assert!(html.contains("<meta name=\"viewport\"") && html.contains("<title>"));
    for banned in ["http://", "https://", "src=", "href=\"http", "<link", "<script", "@import", "url("] {
        assert!(!html.contains(banned), "the report holds `{banned}`");
    }
    if charts {
        assert!(html.contains("<svg") && html.contains("aria-label="));
    }
}

/// The 12-digit My Numbers of the records in `path` (JSONL).
fn my_numbers(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v.get("my_number")?.as_str().map(String::from))
        .filter(|n| n.len() == 12 && n.bytes().all(|b| b.is_ascii_digit()))
        .collect()
}

fn no_my_number(html: &str, input: &Path) {
    let numbers = my_numbers(input);
    assert!(!numbers.is_empty());
    for n in numbers {
        assert!(!html.contains(&n), "the report shows the My Number {n} in full");
    }
}

/// A row of a report's table: its header cell and one number.
fn count_row(head: &str, n: u64) -> String {
    format!("<th scope=\"row\">{head}</th><td class=\"n\">{n}</td>")
}

/// The values of `data-probability` in the page's waterfalls, in order.
fn waterfall_ends(html: &str) -> Vec<String> {
    html.split("data-probability=\"").skip(1).filter_map(|s| s.split('"').next()).map(String::from).collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn ok(r: &Run) {
    assert!(r.code == 0 || r.code == 1, "{}", r.golden());
}

#[test]
fn eval_report_counts_escapes_and_masks() {
    let dir = workdir("html-eval");
    let mut input = read(Path::new(&format!("{ROOT}/examples/enrollment.jsonl")));
    input.push_str(&format!(
        "{{\"id\":\"{}\",\"my_number\":\"123456789018\",\"family_name\":\"山田\"}}\n",
        HOSTILE.replace('"', "\\\"")
    ));
    input.push_str("{not json\n");
    write(&dir, "in.jsonl", &input);
    let html = run_in(&dir, &["eval", "--today", "2026-11-27", "--format", "html", "in.jsonl"], None);
    let json = run_in(&dir, &["eval", "--today", "2026-11-27", "--format", "json", "in.jsonl"], None);
    ok(&html);
    assert_eq!(html.code, json.code);
    std::fs::write(dir.join("eval.html"), &html.stdout).unwrap();
    let page = &html.stdout;
    self_contained(page, true);
    let records: Vec<Value> = serde_json::from_str(&json.stdout).unwrap();
    for d in ["accept", "review", "reject"] {
        let n = records.iter().filter(|r| r["decision"] == d).count() as u64;
        let ja = match d {
            "accept" => "受理",
            "review" => "要確認",
            _ => "却下",
        };
        assert!(page.contains(&count_row(&format!("<span class=\"d-{d}\">{ja} {d}</span>"), n)), "{d}: {n}");
    }
    let errors = records.iter().filter(|r| r.get("error").is_some()).count() as u64;
    assert_eq!(errors, 1);
    assert!(page.contains(&count_row("<span class=\"d-error\">エラー error</span>", errors)));
    assert!(page.contains(&count_row("合計 total", records.len() as u64)));
    // Each finding's rule is counted; the error is listed with its line.
    let fired = records.iter().flat_map(|r| r["findings"].as_array().cloned().unwrap_or_default()).count();
    assert!(fired > 0 && page.contains("ルールごとの指摘件数"));
    let bad_line = input.lines().count();
    assert!(page.contains(&format!("<th scope=\"row\">{bad_line}</th>")));
    assert!(page.contains(HOSTILE_ESCAPED) && !page.contains(HOSTILE));
    no_my_number(page, &dir.join("in.jsonl"));
}

#[test]
fn dedup_report_has_the_pairs_clusters_and_their_waterfalls() {
    let dir = workdir("html-dedup");
    // Every record of the bundled registry, and a copy of the first under a hostile id.
    let registry = read(Path::new(&format!("{ROOT}/examples/registry.jsonl")));
    let mut first: Value = serde_json::from_str(registry.lines().next().unwrap()).unwrap();
    first["id"] = Value::from(HOSTILE);
    write(&dir, "in.jsonl", &format!("{registry}{first}\n"));
    let html = run_in(&dir, &["dedup", "--format", "html", "in.jsonl"], None);
    let jsonl = run_in(&dir, &["dedup", "--clusters", "in.jsonl"], None);
    ok(&html);
    assert_eq!(html.code, jsonl.code);
    std::fs::write(dir.join("dedup.html"), &html.stdout).unwrap();
    let page = &html.stdout;
    self_contained(page, true);
    let lines: Vec<Value> = jsonl.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let pairs: Vec<&Value> = lines.iter().filter(|l| l.get("left").is_some()).collect();
    let clusters = lines.iter().filter(|l| l.get("cluster").is_some()).count() as u64;
    assert!(!pairs.is_empty() && clusters > 0);
    assert!(page.contains(&count_row("pairs", pairs.len() as u64)));
    assert!(page.contains(&count_row("clusters", clusters)));
    // Each waterfall ends where the command's own probability is.
    let expected: Vec<String> = pairs.iter().map(|p| format!("{:.6}", p["probability"].as_f64().unwrap())).collect();
    assert_eq!(waterfall_ends(page), expected);
    assert!(page.contains(HOSTILE_ESCAPED) && !page.contains(HOSTILE));
    no_my_number(page, &dir.join("in.jsonl"));
}

#[test]
fn link_report_has_the_links_and_their_waterfalls() {
    let dir = workdir("html-link");
    let args = |format: &'static str| {
        ["link", "--registry", "examples/registry.jsonl", "--format", format, "examples/enrollment.jsonl"]
    };
    let html = run(&args("html"));
    let jsonl = run(&args("jsonl"));
    ok(&html);
    std::fs::write(dir.join("link.html"), &html.stdout).unwrap();
    let page = &html.stdout;
    self_contained(page, true);
    let pairs: Vec<Value> = jsonl.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!pairs.is_empty());
    assert!(page.contains(&count_row("pairs", pairs.len() as u64)));
    let expected: Vec<String> = pairs.iter().map(|p| format!("{:.6}", p["probability"].as_f64().unwrap())).collect();
    assert_eq!(waterfall_ends(page), expected);
    no_my_number(page, Path::new(&format!("{ROOT}/examples/enrollment.jsonl")));
    no_my_number(page, Path::new(&format!("{ROOT}/examples/registry.jsonl")));
}

#[test]
fn test_report_has_cases_failures_and_coverage() {
    let dir = workdir("html-test");
    let suite = format!(
        "today: 2026-11-27\ncases:\n  - name: fine\n    record: {{\"id\": \"A1\"}}\n    expect: {{fires: [schema.required]}}\n  - name: '{HOSTILE}'\n    record: {{\"id\": \"A2\"}}\n    expect: {{decision: accept}}\n"
    );
    write(&dir, "suite.yaml", &suite);
    let out = dir.join("test.html");
    let out_arg = out.to_str().unwrap();
    let html = run_in(&dir, &["test", "--html", out_arg, "suite.yaml"], None);
    let json = run_in(&dir, &["test", "--format", "json", "suite.yaml"], None);
    assert_eq!(html.code, 1, "{}", html.golden());
    assert!(html.stdout.contains("1 passed, 1 failed"), "the normal output is still written");
    let page = read(&out);
    self_contained(&page, false);
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    for what in ["passed", "failed", "skipped"] {
        assert!(page.contains(&count_row(what, v[what].as_u64().unwrap())), "{what}");
    }
    assert!(page.contains("失敗 FAILED") && page.contains("<code>suite.yaml:6</code>"), "{page}");
    assert!(page.contains("<h2 id=\"failures\">失敗 failures (1)</h2>"));
    assert!(page.contains("<code>schema.required</code>") && page.contains("coverage per rule"));
    assert!(page.contains(HOSTILE_ESCAPED) && !page.contains(HOSTILE));
}

#[test]
fn diff_report_has_the_matrix_rules_and_unintended_changes() {
    let dir = workdir("html-diff");
    let ex = "examples/overlay-foreign-residents";
    let records = format!("{ex}/records.jsonl");
    let expect = format!("{ex}/intended.yaml");
    let args = |format: &'static str| -> Vec<String> {
        [
            "diff",
            "--base",
            "builtin",
            "--rules",
            ex,
            "--expect",
            &expect,
            "--today",
            "2026-11-27",
            "--format",
            format,
            &records,
        ]
        .iter()
        .map(|s| (*s).to_string())
        .collect()
    };
    let html_args = args("html");
    let json_args = args("json");
    let html = run(&html_args.iter().map(String::as_str).collect::<Vec<_>>());
    let json = run(&json_args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(html.code, json.code, "{}", html.golden());
    std::fs::write(dir.join("diff.html"), &html.stdout).unwrap();
    let page = &html.stdout;
    self_contained(page, true);
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(page.contains(&format!(
        "<th scope=\"row\">decisions changed</th><td>{}</td>",
        v["decisions"]["changed"].as_u64().unwrap()
    )));
    // The matrix: each row's cells are the JSON transitions.
    for (b, ja) in [("accept", "受理"), ("review", "要確認"), ("reject", "却下")] {
        let cells: Vec<String> = ["accept", "review", "reject"]
            .iter()
            .map(|n| format!("<td class=\"n\">{}</td>", v["transitions"][b][n].as_u64().unwrap()))
            .collect();
        let row = format!("<th scope=\"row\">base <span class=\"d-{b}\">{ja} {b}</span></th>{}", cells.join(""));
        assert!(page.contains(&row), "{row}");
    }
    for rule in v["rules"].as_array().unwrap() {
        let id = rule["rule"].as_str().unwrap();
        let newly = rule["newly_fires"].as_u64().unwrap();
        assert!(page.contains(&format!("<code>{id}</code>")) && (newly == 0 || page.contains("rules that newly fire")));
    }
    assert_eq!(v["unintended"].as_array().map(Vec::len), Some(0));
    assert!(page.contains("every change was intended"));
    no_my_number(page, &Path::new(ROOT).join(&records));
}
