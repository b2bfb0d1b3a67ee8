//! A regression suite file (YAML) and how it is read.
//!
//! ```yaml
//! rules: ../../rules          # rule file or folder, relative to this file (default: the standard set)
//! today: 2026-11-27           # the date rules see as today (default: today in Japan)
//! registry: registry.jsonl    # enrolled records: a file, or a list of records inline
//! base: { id: A1, family_name: 山田, … }   # the record cases start from (optional)
//! cases:
//!   - name: a valid resident is accepted
//!     record: { id: A1, family_name: 山田, … }   # or record_file: path
//!     expect:
//!       decision: accept
//!       score: 100               # or { min: 60, max: 90 }
//!       fires: [rule.id, …]
//!       not_fires: [rule.id, …]
//!       findings:
//!         - { rule: rule.id, severity: review, fields: [a, b], related: [R1] }
//!       related: [R1]            # ids some finding names as related
//!   - name: a broken rule file is refused
//!     rules: broken/             # this case's own rules
//!     expect:
//!       diagnostics: [kensa::check::unknown_field]
//!   - name: no family name
//!     with: { family_name: "" }  # the base with these changes (`null` removes a field)
//!     expect: { fires: [name.family_present] }
//!   - name: not yet
//!     skip: waiting for the 2027 address table
//!     …
//! ```
//!
//! Unknown keys, wrong types and bad indentation are errors that point into the file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteFile {
    /// Rule file or folder, relative to the suite file.
    #[serde(default)]
    pub rules: Option<String>,
    #[serde(default)]
    pub today: Option<String>,
    #[serde(default)]
    pub registry: Option<RegistrySpec>,
    /// The record cases start from: a case's `with` changes it, a case with neither `record`
    /// nor `with` tests it as it is.
    #[serde(default)]
    pub base: Option<serde_json::Value>,
    pub cases: Vec<Case>,
}

/// Enrolled records for the suite's registry rules.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RegistrySpec {
    /// A file of records (JSONL, JSON, YAML, CSV) or a registry database, relative to the suite.
    File(String),
    Records(Vec<serde_json::Value>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    #[serde(default)]
    pub record: Option<serde_json::Value>,
    /// A JSON or YAML file holding the record, relative to the suite.
    #[serde(default)]
    pub record_file: Option<String>,
    /// Changes to the suite's `base` record, as a JSON merge patch (RFC 7386): objects merge
    /// key by key, `null` removes a field, anything else replaces it.
    #[serde(default)]
    pub with: Option<serde_json::Value>,
    /// This case's own rules (e.g. a rule file that must fail to compile).
    #[serde(default)]
    pub rules: Option<String>,
    #[serde(default)]
    pub today: Option<String>,
    /// Why the case is not run (required to skip).
    #[serde(default)]
    pub skip: Option<String>,
    pub expect: Expect,
    /// The line (1-based) of the case's `name:` in the suite file; 0 when not found.
    #[serde(skip)]
    pub line: usize,
}

impl Case {
    /// The record the case evaluates when it is written in the suite: `record`, else the
    /// suite's `base` changed by `with`, else the base as it is. `None` for `record_file`
    /// (read when the case runs) and when there is nothing.
    pub fn inline_record(&self, base: Option<&serde_json::Value>) -> Option<serde_json::Value> {
        if let Some(r) = &self.record {
            return Some(r.clone());
        }
        if self.record_file.is_some() {
            return None;
        }
        let mut record = base?.clone();
        if let Some(patch) = &self.with {
            merge_patch(&mut record, patch);
        }
        Some(record)
    }
}

/// Apply a JSON merge patch (RFC 7386) to `target`: an object patch merges key by key (a
/// `null` value removes the key), anything else replaces the target.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    let serde_json::Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = serde_json::Value::Object(serde_json::Map::new());
    }
    if let serde_json::Value::Object(fields) = target {
        for (key, value) in changes {
            if value.is_null() {
                fields.remove(key);
            } else {
                merge_patch(fields.entry(key.clone()).or_insert(serde_json::Value::Null), value);
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub decision: Option<ExpectedDecision>,
    #[serde(default)]
    pub score: Option<ScoreSpec>,
    #[serde(default)]
    pub fires: Vec<String>,
    #[serde(default)]
    pub not_fires: Vec<String>,
    #[serde(default)]
    pub findings: Vec<FindingSpec>,
    #[serde(default)]
    pub related: Vec<String>,
    /// Diagnostic codes the case's rules must fail to compile with (all of them, no others).
    #[serde(default)]
    pub diagnostics: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpectedDecision {
    Accept,
    Review,
    Reject,
}

impl ExpectedDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            ExpectedDecision::Accept => "accept",
            ExpectedDecision::Review => "review",
            ExpectedDecision::Reject => "reject",
        }
    }
}

/// `score: 100` or `score: {min: 60, max: 90}` (either bound may be left out).
#[derive(Clone, Copy, Debug)]
pub enum ScoreSpec {
    Exactly(u32),
    Range { min: Option<u32>, max: Option<u32> },
}

impl<'de> Deserialize<'de> for ScoreSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ScoreSpec, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ScoreSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a score from 0 to 100, or {min: N, max: N}")
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<ScoreSpec, E> {
                u32::try_from(n).map(ScoreSpec::Exactly).map_err(|_| E::custom("a score is at most 100"))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<ScoreSpec, E> {
                u64::try_from(n).map_err(|_| E::custom("a score is never negative")).and_then(|n| self.visit_u64(n))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<ScoreSpec, A::Error> {
                let (mut min, mut max) = (None, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "min" => min = Some(map.next_value::<u32>()?),
                        "max" => max = Some(map.next_value::<u32>()?),
                        other => {
                            return Err(serde::de::Error::unknown_field(other, &["min", "max"]));
                        }
                    }
                }
                Ok(ScoreSpec::Range { min, max })
            }
        }
        d.deserialize_any(V)
    }
}

impl ScoreSpec {
    pub fn holds(self, score: u32) -> bool {
        match self {
            ScoreSpec::Exactly(s) => s == score,
            ScoreSpec::Range { min, max } => min.is_none_or(|m| score >= m) && max.is_none_or(|m| score <= m),
        }
    }

    pub fn describe(self) -> String {
        match self {
            ScoreSpec::Exactly(s) => s.to_string(),
            ScoreSpec::Range { min, max } => format!(
                "{}..={}",
                min.map_or_else(String::new, |m| m.to_string()),
                max.map_or_else(String::new, |m| m.to_string())
            ),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingSpec {
    pub rule: String,
    #[serde(default)]
    pub severity: Option<String>,
    /// The finding's fields, exactly (order ignored).
    #[serde(default)]
    pub fields: Option<Vec<String>>,
    /// Ids the finding must name as related (others may follow).
    #[serde(default)]
    pub related: Option<Vec<String>>,
}

/// A suite read from disk: where it is and what it says.
pub struct Suite {
    pub path: PathBuf,
    pub file: SuiteFile,
}

impl Suite {
    /// A path written in the suite, relative to the suite's folder.
    pub fn resolve(&self, rel: &str) -> PathBuf {
        clean(&self.path.parent().unwrap_or(Path::new(".")).join(rel))
    }
}

/// `a/b/../../c` → `c`, without touching the file system (so the path stays as the user
/// would write it); `..` that would climb above the start is kept.
fn clean(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() { PathBuf::from(".") } else { out.iter().collect() }
}

/// A suite that cannot be read: the message for the terminal (with the text around the
/// mistake), and one line naming the file and, when known, line and column (for JUnit).
pub struct SuiteError {
    pub rendered: String,
    pub summary: String,
}

/// Read and parse one suite file.
pub fn load(path: &Path, color: bool) -> Result<Suite, SuiteError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        let summary = format!("cannot read `{name}`: {e}");
        SuiteError { rendered: format!("error: {summary}\n"), summary }
    })?;
    let file = parse(&name, &text, color)?;
    Ok(Suite { path: path.to_path_buf(), file })
}

/// Parse the text of a suite file named `name` (shown in errors); no file system access,
/// so `fuzz/` and `tests/fuzz_properties.rs` can feed it arbitrary text.
pub fn parse(name: &str, text: &str, color: bool) -> Result<SuiteFile, SuiteError> {
    match serde_saphyr::from_str::<SuiteFile>(text) {
        Ok(mut file) => {
            for case in &mut file.cases {
                case.line = line_of(text, find_name(text, &case.name).start);
            }
            match problems(&file, text, name, color) {
                Some(e) => Err(e),
                None => Ok(file),
            }
        }
        Err(e) => Err(render_yaml_error(name, text, &e, color)),
    }
}

/// The 1-based line of a byte offset in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(0, |before| before.matches('\n').count() + 1)
}

/// What is wrong with one case that the YAML types cannot catch: (message, help).
fn case_problem(
    file: &SuiteFile,
    case: &Case,
    seen: &mut std::collections::HashSet<String>,
) -> Option<(&'static str, &'static str)> {
    let has_record = case.record.is_some() || case.record_file.is_some();
    if !seen.insert(case.name.clone()) {
        Some(("two cases are named alike", "give each case its own name, so a failure says which one it is"))
    } else if case.skip.as_deref().is_some_and(|r| r.trim().is_empty()) {
        Some(("a skipped case needs a reason", "write why it is skipped: `skip: waiting for …`"))
    } else if case.with.is_some() && file.base.is_none() {
        Some((
            "the case changes the base record with `with`, but the suite has no `base`",
            "add `base: {…}` (the record the cases start from) at the top of the suite, or write the whole record with `record:`",
        ))
    } else if case.with.is_some() && has_record {
        Some(("the case has both `with` and a record", "keep one of them: `with` changes the suite's `base`"))
    } else if case.with.as_ref().is_some_and(|w| !w.is_object()) {
        Some(("`with` takes the fields to change", "write them as a map: `with: {family_name: 山田}`"))
    } else if case.expect.diagnostics.is_empty() && !has_record && file.base.is_none() {
        Some((
            "the case has no record",
            "add `record:` (inline), `record_file:` or a `base:` record for the suite; or, for rules that must not compile, `expect: { diagnostics: [...] }`",
        ))
    } else if !case.expect.diagnostics.is_empty() && case.rules.is_none() {
        Some(("expected diagnostics, but the case names no rules", "add `rules:` with the rule file that must fail"))
    } else if case.rules.is_some() && case.expect.diagnostics.is_empty() {
        Some((
            "a case's own `rules` are for rule files that must fail to compile",
            "add `expect: { diagnostics: [...] }`; cases for other rules belong in a suite of their own",
        ))
    } else if case.record.is_some() && case.record_file.is_some() {
        Some(("the case has both `record` and `record_file`", "keep one of them"))
    } else {
        None
    }
}

/// Mistakes the YAML types cannot catch: a base that is not a record, a case without a
/// record, `with` without a base, an empty skip reason, two cases with one name. Pointed at
/// the case's name in the text.
fn problems(file: &SuiteFile, text: &str, name: &str, color: bool) -> Option<SuiteError> {
    if file.base.as_ref().is_some_and(|b| !b.is_object()) {
        let at = find_key(text, "base");
        let help = "write the record as a map: `base: {id: T1, family_name: 山田, …}`";
        return Some(snippet_error(name, text, "`base` is not a record", at, "here", help, color));
    }
    let mut seen = std::collections::HashSet::new();
    for case in &file.cases {
        if let Some((message, help)) = case_problem(file, case, &mut seen) {
            let at = find_name(text, &case.name);
            return Some(snippet_error(name, text, message, at, "this case", help, color));
        }
    }
    None
}

/// A mistake at `at` in the suite file, rendered with the text around it; the summary names
/// the file, line and column.
fn snippet_error(
    name: &str,
    text: &str,
    message: &str,
    at: std::ops::Range<usize>,
    label: &str,
    help: &str,
    color: bool,
) -> SuiteError {
    let rendered = kensa::internal::render_snippet(
        name,
        text,
        &kensa::internal::SnippetError {
            code: kensa::internal::SUITE_CASE,
            message,
            at: at.clone(),
            label,
            help: Some(help),
        },
        color,
    );
    SuiteError { rendered, summary: format!("{}: {message}", position(name, text, at.start)) }
}

/// `file:line:column` of a byte offset.
fn position(name: &str, text: &str, offset: usize) -> String {
    let line = line_of(text, offset);
    let start = text.get(..offset).and_then(|b| b.rfind('\n')).map_or(0, |i| i + 1);
    let column = text.get(start..offset).map_or(0, |l| l.chars().count()) + 1;
    format!("{name}:{line}:{column}")
}

/// Where a top-level key is written (`key:` at the start of a line), as a byte range.
fn find_key(text: &str, key: &str) -> std::ops::Range<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.strip_prefix(key).is_some_and(|rest| rest.starts_with(':')) {
            return offset..offset + key.len();
        }
        offset += line.len();
    }
    0..0
}

/// Where a case's name is written (the first `name:` line holding it), as a byte range.
fn find_name(text: &str, case: &str) -> std::ops::Range<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some(i) = key_at(line, "name")
            && line.get(i + 5..).is_some_and(|rest| names(rest, case))
        {
            let start = offset + line.len() - line.trim_start().len();
            return start..offset + line.trim_end().len();
        }
        offset += line.len();
    }
    0..0
}

/// Whether the text after `name:` is the name `case`, plain or quoted, alone on the line or
/// followed by the next key of a `{name: …, …}` map.
fn names(rest: &str, case: &str) -> bool {
    let rest = rest.trim_start();
    let (quote, rest) = match rest.chars().next() {
        Some(q @ ('"' | '\'')) => (Some(q), rest.get(1..).unwrap_or_default()),
        _ => (None, rest),
    };
    let Some(after) = rest.strip_prefix(case) else {
        return false;
    };
    let after = match quote {
        Some(q) => match after.strip_prefix(q) {
            Some(after) => after,
            None => return false,
        },
        None => after,
    };
    let after = after.trim();
    after.is_empty() || after.starts_with([',', '}', '#'])
}

/// Where `key:` is written in a line as a key of its own (not the end of `family_name:`).
fn key_at(line: &str, key: &str) -> Option<usize> {
    let pattern = format!("{key}:");
    line.match_indices(&pattern)
        .map(|(i, _)| i)
        .find(|&i| line.get(..i).and_then(|b| b.chars().next_back()).is_none_or(|c| !(c.is_alphanumeric() || c == '_')))
}

/// A serde-saphyr error as a diagnostic pointing at its line and column.
fn render_yaml_error(name: &str, text: &str, e: &serde_saphyr::Error, color: bool) -> SuiteError {
    let message = e.without_snippet().to_string();
    // The message may end with " at line L column C"; the snippet shows where.
    let message = match message.find(" at line ") {
        Some(i) => message.get(..i).unwrap_or(&message).to_string(),
        None => message,
    };
    let Some(loc) = e.location() else {
        let summary = format!("`{name}`: {message}");
        return SuiteError { rendered: format!("error: {summary}\n"), summary };
    };
    let at = byte_offset(text, loc.line(), loc.column());
    // The word at the position (a key, a value): enough to see where, short on long lines.
    let end = text
        .get(at..)
        .and_then(|rest| rest.find(|c: char| c == ':' || c == ',' || c.is_whitespace()))
        .map_or(text.len(), |n| at + n)
        .max(at + 1);
    let help = if message.contains("unknown field") {
        "see the suite format in `kensa test --help`; keys are spelled as shown there"
    } else if message.contains("invalid type") || message.contains("unknown variant") {
        "this key takes another kind of value: see the suite format in `kensa test --help`"
    } else {
        "YAML nests by indentation: keys of one case line up under `- name:`"
    };
    let rendered = kensa::internal::render_snippet(
        name,
        text,
        &kensa::internal::SnippetError {
            code: kensa::internal::SUITE_YAML,
            message: &message,
            at: at..end,
            label: "here",
            help: Some(help),
        },
        color,
    );
    SuiteError { rendered, summary: format!("{name}:{}:{}: {message}", loc.line(), loc.column()) }
}

/// Byte offset of a 1-based line and column (columns in characters).
fn byte_offset(text: &str, line: u64, column: u64) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i as u64 + 1 == line {
            let col = column.saturating_sub(1) as usize;
            return offset + l.char_indices().nth(col).map_or(l.trim_end_matches('\n').len(), |(b, _)| b);
        }
        offset += l.len();
    }
    text.len()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_replaces_removes_and_merges() {
        let mut record =
            json!({"id": "A1", "name": "山田", "bank": {"code": "0005", "branch": "123"}, "kana": "ヤマダ"});
        merge_patch(&mut record, &json!({"name": "", "kana": null, "bank": {"branch": "456"}, "new": [1]}));
        assert_eq!(record, json!({"id": "A1", "name": "", "bank": {"code": "0005", "branch": "456"}, "new": [1]}));
        // A value that is not a map replaces; a map over a value that is not one starts afresh.
        merge_patch(&mut record, &json!({"bank": "none", "id": {"a": null, "b": 1}}));
        assert_eq!(record["bank"], json!("none"));
        assert_eq!(record["id"], json!({"b": 1}));
    }

    #[test]
    fn cases_know_their_line() {
        let text = "base: {family_name: a case}\ncases:\n  - name: other\n    expect: {}\n  - name: \"a case\"\n    expect: {}\n  - {name: a, expect: {}}\n  - {name: 'a b' , expect: {}}\n  - name: a b c # a comment\n    expect: {}\n";
        let file = parse("s.yaml", text, false).ok().unwrap();
        assert_eq!(file.cases.iter().map(|c| c.line).collect::<Vec<_>>(), [3, 5, 7, 8, 9]);
    }

    #[test]
    fn a_base_that_is_not_a_record_is_an_error() {
        let text = "base: [1, 2]\ncases:\n  - name: one\n    expect: {}\n";
        let e = parse("s.yaml", text, false).err().unwrap();
        assert_eq!(e.summary, "s.yaml:1:1: `base` is not a record");
    }
}
