//! Limits that protect a server from hostile input without bothering a user: how large a
//! record and a text value may be, and how much work judging one record may take.
//!
//! Input → output: a record (JSON value) → `Ok` or the reason it is refused, naming the field.
//! Never: reads files (readers built on kensa, such as the `kensa` command, apply
//! [`Limits::max_record_bytes`] themselves).

use crate::eval::RecordError;
use crate::record_json::Json;

/// Limits on the input of an [`crate::Engine`] (`Engine::with_limits`) and of the readers of
/// the `kensa` command. The defaults are far above any real registration record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest record a reader accepts, in bytes: a JSONL line, a CSV row, an element of a
    /// JSON array, a YAML file (YAML is read whole). Default 16 MiB.
    pub max_record_bytes: usize,
    /// The longest text value or field name in a record, in bytes. Default 1 MiB.
    pub max_field_bytes: usize,
    /// Evaluation steps per record: each rule costs the nodes of its conditions, and a
    /// condition about registry candidates costs its nodes once per candidate. A record that
    /// needs more is an error naming the rule. Default 1,000,000. Each registry candidate
    /// costs the nodes of the compared values plus the comparators' work (about one step per
    /// 256 character comparisons).
    pub eval_budget: u64,
    /// The wall-clock time judging one record may take, registry lookups aside; a record still
    /// being judged then is an error ([`crate::RecordError::TimeLimit`]). `None` (the default)
    /// leaves it to the budget, which gives the same answer on any machine; a server sets a
    /// ceiling so that one record cannot hold a worker when the machine is overloaded.
    pub eval_time: Option<std::time::Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_record_bytes: 16 << 20, max_field_bytes: 1 << 20, eval_budget: 1_000_000, eval_time: None }
    }
}

impl Limits {
    /// `Err` when a text value or a field name of `record` is longer than
    /// [`Limits::max_field_bytes`], naming the field (`bank.holder_kana`, `children[2]`). The
    /// engine checks every record it judges or profiles; a reader that stores records without
    /// judging them (a registry import) checks them with this.
    pub fn check_record(&self, record: &serde_json::Value) -> Result<(), RecordError> {
        self.check_json(&Json::from_value(record))
    }

    /// [`Limits::check_record`] of a record read from JSON text.
    pub(crate) fn check_json(&self, record: &Json<'_>) -> Result<(), RecordError> {
        // The common case, without allocating: nothing too long within the first levels.
        if !may_exceed(record, self.max_field_bytes, 0) {
            return Ok(());
        }
        self.find_too_large(record)
    }

    /// The walk that names the field, with an explicit stack: a record built in memory may be
    /// nested any depth.
    fn find_too_large(&self, record: &Json<'_>) -> Result<(), RecordError> {
        let max = self.max_field_bytes;
        let mut stack: Vec<(&Json<'_>, Option<Step<'_>>, usize)> = vec![(record, None, 0)];
        // The path of the value on top of the stack, one step per level.
        let mut path: Vec<Step<'_>> = Vec::new();
        while let Some((v, step, depth)) = stack.pop() {
            path.truncate(depth);
            if let Some(s) = step {
                path.push(s);
            }
            match v {
                Json::String(s) if s.len() > max => {
                    return Err(too_large(&path_text(&path), "the value", s.len(), max));
                }
                Json::Object(m) => {
                    if let Some((k, _)) = m.iter().find(|(k, _)| k.len() > max) {
                        let at = path_text(&path);
                        let at = if at.is_empty() { String::from("(the record)") } else { at };
                        return Err(too_large(&at, "a field name in", k.len(), max));
                    }
                    // In reverse, so that the first field too long is the one named.
                    for (k, child) in m.iter().rev() {
                        if nested_or_long(child, max) {
                            stack.push((child, Some(Step::Key(k)), path.len()));
                        }
                    }
                }
                Json::Array(items) => {
                    for (i, child) in items.iter().enumerate().rev() {
                        if matches!(child, Json::Object(_) | Json::Array(_) | Json::String(_)) {
                            stack.push((child, Some(Step::Index(i)), path.len()));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Whether the walk must look into `child`: a container, or a text longer than `max`.
fn nested_or_long(child: &Json<'_>, max: usize) -> bool {
    match child {
        Json::String(s) => s.len() > max,
        Json::Object(_) | Json::Array(_) => true,
        _ => false,
    }
}

/// Whether `v` may hold a text value or key longer than `max`: `true` when one is found, or
/// when `v` is nested deeper than a few levels (the full walk then decides).
fn may_exceed(v: &Json<'_>, max: usize, depth: usize) -> bool {
    // Leaves are looked at in the loop, without a call: this runs for every record.
    let leaf_or_deeper = |child: &Json<'_>| match child {
        Json::String(s) => s.len() > max,
        Json::Object(_) | Json::Array(_) => depth >= 16 || may_exceed(child, max, depth + 1),
        _ => false,
    };
    match v {
        Json::String(s) => s.len() > max,
        Json::Object(m) => m.iter().any(|(k, child)| k.len() > max || leaf_or_deeper(child)),
        Json::Array(items) => items.iter().any(leaf_or_deeper),
        _ => false,
    }
}

#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn path_text(path: &[Step<'_>]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                // A long or odd key is shortened: the message names it, it does not repeat it.
                out.push_str(&crate::display::shorten(k, crate::display::QUOTED_CHARS));
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn too_large(path: &str, what: &str, len: usize, max: usize) -> RecordError {
    RecordError::Malformed(format!(
        "{what} `{path}` is {len} bytes long, more than the limit of {max} bytes: \
         correct the record, or raise the limit (--max-field-bytes, Limits::max_field_bytes)"
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn check(max: usize, v: serde_json::Value) -> String {
        match (Limits { max_field_bytes: max, ..Limits::default() }).check_record(&v) {
            Ok(()) => String::from("ok"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn names_the_field_that_is_too_long() {
        assert_eq!(check(4, json!({"a": "1234", "b": {"c": 1, "d": "12345"}})).split(' ').nth(2), Some("`b.d`"));
        assert!(check(4, json!({"a": ["x", "12345"]})).contains("`a[1]`"));
        assert!(check(4, json!({"abcde": 1})).starts_with("a field name in `(the record)` is 5 bytes"));
        assert_eq!(check(4, json!({"a": "1234", "b": [1, "x", {"c": null}]})), "ok");
    }
}
