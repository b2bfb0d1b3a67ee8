//! Finding My Numbers and account numbers shown in full in an output: the numbers of the
//! input records, and the runs of digits of a text however they are written (spaces, hyphens,
//! full-width digits). Used by tests/privacy.rs and tests/serve.rs.
#![allow(dead_code, reason = "each test file uses part of it")]

use std::collections::BTreeSet;
use std::path::Path;

use unicode_normalization::UnicodeNormalization;

/// Digits of `s` after NFKC (full-width digits become ASCII).
pub fn digits(s: &str) -> String {
    s.nfkc().filter(char::is_ascii_digit).collect()
}

/// The My Numbers and account numbers of the records of a JSONL file (lines that are not JSON
/// are skipped: their numbers are listed by hand below).
pub fn secrets_of(path: &Path, out: &mut BTreeSet<String>) {
    let text = std::fs::read_to_string(path).unwrap();
    let records: Vec<serde_json::Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    secrets_of_records(&records, out);
}

/// Runs of digits in `text` (NFKC; spaces and hyphens between digits joined), each bounded by
/// characters that are neither digits nor letters (so hex fingerprints are not runs).
pub fn digit_runs(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.nfkc().collect();
    let sep = |c: char| matches!(c, ' ' | '-' | '\u{2010}' | '\u{2212}');
    let mut runs = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let mut run = String::new();
        while i < chars.len() {
            if chars[i].is_ascii_digit() {
                run.push(chars[i]);
                i += 1;
            } else if sep(chars[i]) && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
                i += 1;
            } else {
                break;
            }
        }
        let bounded = |c: Option<&char>| c.is_none_or(|c| !c.is_alphanumeric());
        if bounded(start.checked_sub(1).and_then(|s| chars.get(s))) && bounded(chars.get(i)) {
            runs.push(run);
        }
    }
    runs
}

/// The input numbers that `text` shows in full.
pub fn leaked(text: &str, secrets: &BTreeSet<String>) -> Vec<String> {
    let runs = digit_runs(text);
    secrets.iter().filter(|s| runs.iter().any(|r| r.contains(s.as_str()))).cloned().collect()
}

/// The My Numbers and account numbers of `records`.
pub fn secrets_of_records(records: &[serde_json::Value], out: &mut BTreeSet<String>) {
    for v in records {
        if let Some(n) = v["my_number"].as_str() {
            out.insert(digits(n));
        }
        if let Some(n) = v["bank"]["account_number"].as_str() {
            out.insert(digits(n));
        }
    }
}
