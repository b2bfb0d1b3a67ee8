//! `kensa fmt` never changes what a rule set means, on every rule file we have: `rules/`,
//! `tests/fixtures/ok/`, `examples/febrl/` (and the diagnostic codes of `tests/fixtures/err/`).
//!
//! "Means the same": `kensa check` reports the same diagnostic codes, and the engine compiled
//! from the formatted files gives the same verdicts (serialized to JSON: decision, score,
//! findings, messages, evidence) on the example records, with the registry where the rules
//! use one. Checked on the files as they are and on perturbed copies: random spaces, tabs,
//! full-width spaces, line breaks and indentation between tokens. A second property: changing
//! only the spacing within lines (and the indentation) gives exactly the same formatted text.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use kensa::internal::{FormatError, format};
use kensa::{Date, Engine};
use proptest::prelude::*;
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const TODAY: &str = "2026-11-27";

/// A rule set to compile: a folder (copied whole, minus data files) and the file or folder in it
/// that `kensa check` and the engine are given.
#[derive(Clone, Copy, Debug)]
struct Unit {
    dir: &'static str,
    target: &'static str,
    records: Records,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Records {
    /// `examples/enrollment*.jsonl`, with `examples/registry.jsonl` as the registry.
    Enrollment,
    /// The first rows of FEBRL's dataset3, which are their own registry.
    Febrl,
}

const UNITS: &[Unit] = &[
    Unit { dir: "rules", target: ".", records: Records::Enrollment },
    Unit { dir: "tests/fixtures/ok", target: "full_language.kensa", records: Records::Enrollment },
    Unit { dir: "tests/fixtures/ok", target: "minimal.kensa", records: Records::Enrollment },
    Unit { dir: "tests/fixtures/ok", target: "include/common.kensa", records: Records::Enrollment },
    Unit { dir: "examples/febrl", target: "febrl.kensa", records: Records::Febrl },
    Unit { dir: "examples/febrl", target: "rough/febrl.kensa", records: Records::Febrl },
];

/// Every rule file of the corpus, with the unit whose meaning it takes part in.
const FILES: &[(&str, usize)] = &[
    ("resident.kensa", 0),
    ("registry.kensa", 0),
    ("full_language.kensa", 1),
    ("include/common.kensa", 1),
    ("minimal.kensa", 2),
    ("febrl.kensa", 4),
    ("rough/febrl.kensa", 5),
];

fn read_jsonl(path: &str, key: Option<&str>) -> Vec<Value> {
    std::fs::read_to_string(format!("{ROOT}/{path}"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            key.map_or(v.clone(), |k| v[k].clone())
        })
        .collect()
}

/// (records to judge, registry) for a kind of unit.
fn records(kind: Records) -> &'static (Vec<Value>, Vec<Value>) {
    static ENROLLMENT: OnceLock<(Vec<Value>, Vec<Value>)> = OnceLock::new();
    static FEBRL: OnceLock<(Vec<Value>, Vec<Value>)> = OnceLock::new();
    match kind {
        Records::Enrollment => ENROLLMENT.get_or_init(|| {
            let mut records = read_jsonl("examples/enrollment.jsonl", None);
            records.extend(read_jsonl("examples/enrollment-cases.jsonl", Some("record")));
            (records, read_jsonl("examples/registry.jsonl", None))
        }),
        Records::Febrl => FEBRL.get_or_init(|| {
            let mut rdr = csv::ReaderBuilder::new()
                .trim(csv::Trim::All)
                .from_path(format!("{ROOT}/examples/febrl/dataset3.csv"))
                .unwrap();
            let headers: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
            let rows: Vec<Value> = rdr
                .records()
                .take(300)
                .map(|row| {
                    let row = row.unwrap();
                    let obj: serde_json::Map<String, Value> = headers
                        .iter()
                        .zip(row.iter())
                        .filter(|(_, v)| !v.is_empty())
                        .map(|(h, v)| (h.clone(), Value::String(v.to_string())))
                        .collect();
                    Value::Object(obj)
                })
                .collect();
            (rows.clone(), rows)
        }),
    }
}

/// What a rule set means, as lines of text: the codes `kensa check` reports, and either the
/// codes of the compile errors or one JSON verdict per record.
fn meaning(root: &Path, unit: &Unit) -> Vec<String> {
    let path = root.join(unit.target);
    let codes = |diags: &[kensa::Diagnostic]| diags.iter().map(|d| d.code.as_str()).collect::<Vec<_>>().join(" ");
    let mut out = vec![format!("check: {}", codes(&kensa::check_path(&path).diagnostics))];
    match Engine::from_path(&path) {
        Err(e) => out.push(format!("compile error: {}", codes(e.diagnostics()))),
        Ok(engine) => {
            let engine = engine.with_today(Date::parse(TODAY).unwrap());
            let (records, enrolled) = records(unit.records);
            let registry = engine.uses_registry().then(|| engine.memory_registry(enrolled.iter().cloned()));
            for record in records {
                let verdict = match &registry {
                    Some(r) => engine.evaluate_in(record, r),
                    None => engine.evaluate(record),
                };
                out.push(match verdict {
                    Ok(v) => serde_json::to_string(&v).unwrap(),
                    Err(e) => format!("record error: {e}"),
                });
            }
        }
    }
    out
}

/// A meaning with the whitespace taken out of evidence keys. A finding's evidence is keyed by
/// the source text of the expression (`remove_spaces(zengin_key(kana_name))`), so a line break
/// that the writer put inside an expression, and that the formatter keeps, shows there.
fn layout_free(meaning: &[String]) -> Vec<String> {
    let strip = |v: &mut Value| {
        if let Some(obj) = v.as_object_mut() {
            let entries: Vec<(String, Value)> = std::mem::take(obj).into_iter().collect();
            for (k, v) in entries {
                obj.insert(k.chars().filter(|c| !c.is_whitespace()).collect(), v);
            }
        }
    };
    meaning
        .iter()
        .map(|line| match serde_json::from_str::<Value>(line) {
            Ok(mut v) => {
                for finding in v["findings"].as_array_mut().into_iter().flatten() {
                    strip(&mut finding["evidence"]);
                }
                v.to_string()
            }
            Err(_) => line.clone(),
        })
        .collect()
}

/// Fail with the first line that differs (the whole meaning is too long to print).
fn same_meaning(got: &[String], expected: &[String], what: &str) {
    if let Some((k, (g, e))) = got.iter().zip(expected).enumerate().find(|(_, (g, e))| g != e) {
        panic!("{what}: line {k} differs:\n  formatted: {g}\n  original:  {e}");
    }
    assert_eq!(got.len(), expected.len(), "{what}: a different number of lines");
}

fn original_meaning(unit: usize) -> &'static Vec<String> {
    static MEANINGS: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    let all = MEANINGS.get_or_init(|| UNITS.iter().map(|u| meaning(&Path::new(ROOT).join(u.dir), u)).collect());
    &all[unit]
}

/// A fresh copy of a corpus folder: its rule files and table files (not the data sets).
struct Copy(PathBuf);

impl Drop for Copy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy(dir: &str, case: &str) -> Copy {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let to = std::env::temp_dir().join(format!("kensa-fmt-{}-{case}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&to);
    copy_rules(&Path::new(ROOT).join(dir), &to, false);
    Copy(to)
}

fn copy_rules(from: &Path, to: &Path, in_tables: bool) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            copy_rules(&path, &to.join(&name), in_tables || name == "tables");
        } else if in_tables || path.extension().is_some_and(|e| e == "kensa") {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

fn kensa_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            kensa_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "kensa") {
            out.push(path);
        }
    }
}

#[test]
fn the_meanings_compared_are_not_trivial() {
    // Verdicts for every record, and the registry rules and match blocks actually fire.
    let rules = original_meaning(0);
    assert_eq!(rules.len(), 1 + 99 + 99);
    assert!(rules.iter().any(|l| l.contains("registry.number_held_by_other")));
    assert!(rules.iter().any(|l| l.contains("\"decision\":\"accept\"")));
    assert!(original_meaning(1).iter().any(|l| l.contains("kana.pattern")));
    assert!(original_meaning(3).iter().any(|l| l.starts_with("compile error: kensa::")));
    assert!(original_meaning(4).iter().any(|l| l.contains("febrl.duplicate")));
}

#[test]
fn formatting_every_corpus_file_keeps_its_meaning() {
    let mut dirs: Vec<&str> = UNITS.iter().map(|u| u.dir).collect();
    dirs.dedup();
    for dir in dirs {
        let copy = copy(dir, "corpus");
        let mut files = Vec::new();
        kensa_files(&copy.0, &mut files);
        assert!(!files.is_empty());
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            let formatted = format(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert_eq!(format(&formatted).unwrap(), formatted, "{}: not idempotent", file.display());
            std::fs::write(file, formatted).unwrap();
        }
        for (i, unit) in UNITS.iter().enumerate().filter(|(_, u)| u.dir == dir) {
            same_meaning(&meaning(&copy.0, unit), original_meaning(i), &format!("{dir}/{}", unit.target));
        }
    }
}

#[test]
fn error_fixtures_keep_their_diagnostic_codes_or_are_refused() {
    let copy = copy("tests/fixtures/err", "err");
    let mut files = Vec::new();
    kensa_files(&copy.0, &mut files);
    let codes = |path: &Path| -> Vec<&'static str> {
        kensa::check_path(path).diagnostics.iter().map(|d| d.code.as_str()).collect()
    };
    let (mut formatted, mut refused) = (0, 0);
    for file in &files {
        let before = codes(file);
        let text = std::fs::read_to_string(file).unwrap();
        match format(&text) {
            Ok(out) => {
                std::fs::write(file, out).unwrap();
                assert_eq!(codes(file), before, "{}", file.display());
                formatted += 1;
            }
            Err(FormatError::Syntax(diags)) => {
                assert!(!diags.is_empty());
                assert!(before.iter().any(|c| c.starts_with("kensa::syntax::")), "{}: {before:?}", file.display());
                refused += 1;
            }
            Err(e) => panic!("{}: {e}", file.display()),
        }
    }
    assert!(formatted > 30 && refused > 3, "{formatted} formatted, {refused} refused");
}

// ---------------------------------------------------------------- perturbations

/// A rule text as tokens and the whitespace around them: `ws[k]` comes before `toks[k]`, and
/// the last `ws` ends the text. Dotted names and dates are one token (they are one word to the
/// parser); strings, regexes and comments are one token each.
struct Cut {
    ws: Vec<String>,
    toks: Vec<String>,
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{3000}' | '\u{FEFF}')
}

fn cut(text: &str) -> Cut {
    let chars: Vec<char> = text.chars().collect();
    let (mut ws, mut toks) = (Vec::new(), Vec::new());
    let mut i = 0;
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    loop {
        let start = i;
        while i < chars.len() && is_ws(chars[i]) {
            i += 1;
        }
        ws.push(chars[start..i].iter().collect());
        if i == chars.len() {
            break;
        }
        let start = i;
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '#' || (c == '/' && next == Some('/')) {
            while i < chars.len() && chars[i] != '\n' && chars[i] != '\r' {
                i += 1;
            }
        } else if c == '"' || c == '/' {
            i += 1;
            while i < chars.len() && chars[i] != c && chars[i] != '\n' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i = (i + 1).min(chars.len());
        } else if word(c) {
            // Words, dotted names (`check_digit.my_number`), numbers, decimals and dates.
            while i < chars.len()
                && (word(chars[i])
                    || (chars[i] == '.' && chars.get(i + 1).is_some_and(|n| word(*n)))
                    || (chars[i] == '-' && c.is_ascii_digit() && chars.get(i + 1).is_some_and(char::is_ascii_digit)))
            {
                i += 1;
            }
        } else if ["==", "!=", "<=", ">=", "++"]
            .iter()
            .any(|op| chars[i..].starts_with(&op.chars().collect::<Vec<_>>()))
        {
            i += 2;
        } else {
            i += 1;
        }
        toks.push(chars[start..i].iter().collect());
    }
    Cut { ws, toks }
}

fn is_comment(tok: &str) -> bool {
    tok.starts_with('#') || tok.starts_with("//")
}

/// Rewrite the whitespace between tokens from a stream of random bytes. `newlines`: also break
/// lines and move trailing comments to their own line; otherwise only the spacing within lines
/// and the indentation change, and not on lines that end with a comment (whose column the
/// formatter keeps).
fn perturb(text: &str, bytes: &[u8], newlines: bool) -> String {
    let Cut { ws, toks } = cut(text);
    let mut rng = bytes.iter().copied().cycle().chain(std::iter::repeat(0));
    let mut next = move || rng.next().unwrap_or(0);
    let horizontal = |n: u8, len: u8| -> String {
        (0..len).map(|k| [' ', ' ', '\t', '\u{3000}'][usize::from(n.wrapping_add(k * 7)) % 4]).collect()
    };
    // Lines (counted in the original) that have code and then a comment.
    let mut line = 0;
    let mut trailing_comment_lines = std::collections::HashSet::new();
    let mut line_of = Vec::new();
    for (k, tok) in toks.iter().enumerate() {
        line += ws[k].matches('\n').count();
        line_of.push(line);
        if is_comment(tok) && k > 0 && !ws[k].contains('\n') {
            trailing_comment_lines.insert(line);
        }
    }
    let mut out = String::new();
    for (k, w) in ws.iter().enumerate() {
        let after_comment = k > 0 && is_comment(&toks[k - 1]);
        let fixed_line = |l: usize| !newlines && trailing_comment_lines.contains(&l);
        let this_line = line_of.get(k).copied();
        let choice = next();
        let new = if !w.contains('\n') {
            let line_fixed = this_line.is_some_and(fixed_line);
            if choice % 3 == 0 || line_fixed || after_comment {
                w.clone()
            } else if newlines && choice % 3 == 1 && k > 0 && k < toks.len() {
                format!("\n{}", horizontal(next(), next() % 7))
            } else {
                // Never take a space away (it may part two words); add some where there was none.
                let len = if w.is_empty() { next() % 3 } else { 1 + next() % 4 };
                horizontal(next(), len)
            }
        } else {
            // Keep the line breaks (blank lines may grow), change the spaces around them.
            let breaks = w.matches('\n').count();
            let breaks = if breaks >= 2 || newlines { breaks + usize::from(choice % 4 == 0) } else { breaks };
            let indent_fixed = this_line.is_some_and(fixed_line);
            let last_indent: String = w.rsplit('\n').next().unwrap_or("").to_string();
            let mut s = if after_comment { String::new() } else { horizontal(next(), next() % 3) };
            for _ in 0..breaks {
                s.push_str(if next() % 5 == 0 { "\r\n" } else { "\n" });
            }
            s.push_str(&if indent_fixed { last_indent } else { horizontal(next(), next() % 9) });
            s
        };
        out.push_str(&new);
        if let Some(tok) = toks.get(k) {
            out.push_str(tok);
        }
    }
    out
}

fn corpus_text(file: usize) -> &'static str {
    static TEXTS: OnceLock<Vec<String>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        FILES
            .iter()
            .map(|(name, unit)| std::fs::read_to_string(Path::new(ROOT).join(UNITS[*unit].dir).join(name)).unwrap())
            .collect()
    });
    &texts[file]
}

#[test]
fn the_perturbation_keeps_tokens_and_really_moves_them() {
    let text = corpus_text(0);
    let bytes: Vec<u8> = (0..=255).collect();
    for newlines in [false, true] {
        let p = perturb(text, &bytes, newlines);
        assert_ne!(p, text);
        assert_eq!(cut(&p).toks, cut(text).toks);
    }
    assert!(perturb(text, &bytes, true).lines().count() > text.lines().count() + 50);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Spacing within lines and indentation are not the writer's choice: they format away.
    #[test]
    fn respacing_lines_gives_the_same_formatted_text(
        file in 0..FILES.len(),
        bytes in proptest::collection::vec(any::<u8>(), 1..256),
    ) {
        let text = corpus_text(file);
        let perturbed = perturb(text, &bytes, false);
        prop_assert_eq!(format(&perturbed).unwrap(), format(text).unwrap());
    }
}

proptest! {
    // Each case compiles a rule set and judges a few hundred records: fewer cases.
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random spaces and line breaks: the formatted text is a fixed point and means the same.
    #[test]
    fn perturbed_and_formatted_files_keep_their_meaning(
        file in 0..FILES.len(),
        bytes in proptest::collection::vec(any::<u8>(), 1..256),
    ) {
        let (name, unit) = FILES[file];
        let perturbed = perturb(corpus_text(file), &bytes, true);
        let formatted = format(&perturbed).unwrap();
        prop_assert_eq!(format(&formatted).unwrap(), formatted.clone());
        let copy = copy(UNITS[unit].dir, "perturbed");
        std::fs::write(copy.0.join(name), &perturbed).unwrap();
        let before = layout_free(&meaning(&copy.0, &UNITS[unit]));
        std::fs::write(copy.0.join(name), &formatted).unwrap();
        let after = layout_free(&meaning(&copy.0, &UNITS[unit]));
        same_meaning(&after, &before, name);
        same_meaning(&after, &layout_free(original_meaning(unit)), name);
    }
}
