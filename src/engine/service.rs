//! What a long-running caller (`kensa serve`) needs of an engine beyond judging: the revision
//! of the rule texts a verdict was judged under, and a record masked for a log.

use super::Engine;
use crate::compile::{Field, Privacy};
use crate::source::SourceMap;

/// The hash behind [`Engine::revision`].
/// The files are hashed by their names relative to the rule folder, in name order: the same
/// rules give the same revision wherever their folder is, and the built-in set gives the
/// revision of its exported copy.
pub(super) fn revision_of(sources: &SourceMap) -> String {
    let mut files: Vec<(&str, &str)> = sources.files().map(|(_, f)| (sources.relative_name(f), &*f.text)).collect();
    files.sort_unstable();
    let mut h = crate::registry::Fnv1a::new();
    for (name, text) in files {
        h = h.write(name.as_bytes()).write(&[0]).write(text.as_bytes()).write(&[0]);
    }
    format!("{:016x}", h.finish())
}

impl Engine {
    /// The revision of this rule set: a hash of every rule file and table it was compiled from
    /// (names and texts, in load order), e.g. `"5c1f0e7a9b3d2a41"`. Any edit — a message, a
    /// comment, a severity — gives a new revision, unlike [`Engine::fingerprint`], which covers
    /// only what the registry keys depend on. A service reports it with every verdict so that a
    /// decision can be traced to the rules that made it.
    pub fn revision(&self) -> &str {
        &self.revision
    }

    /// The schema field that holds a record's id (`id` in the standard rules), if any.
    pub fn id_field(&self) -> Option<&str> {
        self.program.id_key.as_deref()
    }

    /// Load the embedded tables the normalizers read on first use (variant kanji, municipalities,
    /// towns, postal codes): a fraction of a second in a release build, several in a debug
    /// build. A service calls it before it takes requests, so that no caller pays for it.
    pub fn warm_up(&self) {
        use crate::normalize::{address, postal, variant};
        let _ = variant::variant_table_len();
        let parsed = address::parse("東京都千代田区千代田1丁目1番");
        let _ = postal::consistent_with("1000001", &parsed);
        let _ = address::key("大阪府大阪市北区梅田1丁目1番");
    }

    /// `record` with every value shown as findings show it, whatever `show_pii` says: `secret`
    /// fields (My Number, account number) masked to their last four characters, runs of digits in
    /// text fields longer than the field holds by nature masked to their last four, fields the
    /// schema does not know treated as text. For decision logs and anything else that keeps
    /// records; the id field is kept as it is (it names the record everywhere).
    pub fn masked_record(&self, record: &serde_json::Value) -> serde_json::Value {
        let program = &self.program;
        let text = Privacy::DigitRuns(Privacy::DEFAULT_DIGITS);
        match record {
            serde_json::Value::Object(map) => {
                let members = Members { keys: &program.root_keys, slots: &program.roots, unknown: text };
                mask_members(program, &members, map, program.id_key.as_deref())
            }
            other => mask_value(other, text),
        }
    }
}

/// The members of the record or of a group: their JSON keys, their field slots (in the same
/// order), and how a member the schema does not know is shown.
struct Members<'p> {
    keys: &'p [Box<str>],
    slots: &'p [u32],
    unknown: Privacy,
}

/// Each member of `map` masked by its field's privacy (a group's by its members'); `keep` is
/// the id field, shown as it is unless it is secret.
fn mask_members(
    program: &crate::compile::Program,
    members: &Members<'_>,
    map: &serde_json::Map<String, serde_json::Value>,
    keep: Option<&str>,
) -> serde_json::Value {
    let mut out = serde_json::Map::with_capacity(map.len());
    for (key, value) in map {
        let field = members
            .keys
            .iter()
            .position(|k| **k == **key)
            .and_then(|i| members.slots.get(i))
            .and_then(|&slot| program.fields.get(slot as usize));
        let masked = match field {
            Some(f) if keep == Some(key.as_str()) && f.privacy != Privacy::Secret => value.clone(),
            Some(f) => mask_field(program, f, value),
            None => mask_value(value, members.unknown),
        };
        out.insert(key.clone(), masked);
    }
    serde_json::Value::Object(out)
}

/// A field's value masked by its privacy; a group's members each by their own.
fn mask_field(program: &crate::compile::Program, field: &Field, value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) if !field.children.is_empty() => {
            let unknown = field.privacy.and(Privacy::DigitRuns(Privacy::DEFAULT_DIGITS));
            let members = Members { keys: &field.child_keys, slots: &field.children, unknown };
            mask_members(program, &members, map, None)
        }
        _ => mask_value(value, field.privacy),
    }
}

/// Every string and number in `value` shown with `privacy` (numbers masked become text).
fn mask_value(value: &serde_json::Value, privacy: Privacy) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        J::String(s) => J::String(privacy.apply(s).into_owned()),
        J::Number(n) if privacy != Privacy::Plain => {
            let text = n.to_string();
            let shown = privacy.apply(&text);
            if shown == text { value.clone() } else { J::String(shown.into_owned()) }
        }
        J::Array(items) => J::Array(items.iter().map(|v| mask_value(v, privacy)).collect()),
        J::Object(map) => J::Object(map.iter().map(|(k, v)| (k.clone(), mask_value(v, privacy))).collect()),
        _ => value.clone(),
    }
}
