//! Records as JSON text: the one reader every entry point shares (`kensa eval` lines and files,
//! the Python package), so that the same text gives the same record, or the same error, everywhere.
//!
//! Input: JSON text. Output: a `serde_json::Value`, or a message that never quotes the record
//! (it may hold a My Number) and says what to do.

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};

/// One record from one JSON text (a JSONL line): an object naming a field twice is an error,
/// as is anything after the value.
pub fn parse_record(text: &str) -> Result<serde_json::Value, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    StrictValue.deserialize(&mut de).and_then(|v| de.end().map(|()| v)).map_err(|e| json_error(&e))
}

/// The reason a JSON line could not be read, without quoting its content, and what to do.
pub fn json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let (what, hint) = explain_json(e);
    match e.classify() {
        Category::Eof => String::from(
            "the JSON ends too early: the line is incomplete; the file may have been cut off, or a record was split over several lines",
        ),
        Category::Io => String::from("read error"),
        Category::Syntax | Category::Data => format!("{what} at column {}: {hint}", e.column()),
    }
}

/// The reason a JSON file could not be read, with the line and column in the file.
pub fn json_file_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let (what, hint) = explain_json(e);
    match e.classify() {
        Category::Eof => String::from(
            "the JSON ends too early: the file is incomplete; it may have been cut off (a JSON array must end with `]`)",
        ),
        Category::Io => String::from("read error"),
        Category::Syntax | Category::Data => format!("{what} at line {}, column {}: {hint}", e.line(), e.column()),
    }
}

/// What serde_json found (its message without the position: it never quotes the input, apart
/// from a duplicate key, which this reader shortens) and what to do about it.
fn explain_json(e: &serde_json::Error) -> (String, &'static str) {
    let full = e.to_string();
    let what = match full.rfind(" at line ") {
        Some(i) => full.get(..i).unwrap_or(&full),
        None => &full,
    };
    if what.contains("recursion limit") {
        return (
            String::from("the record is nested more than 128 levels deep"),
            "records are objects with a few groups; check the program that wrote it",
        );
    }
    if what.starts_with("duplicate field") {
        return (what.to_string(), "an object may name a field once; keep the right value and remove the other");
    }
    if what.contains("control character") {
        return (
            format!("invalid JSON ({what})"),
            "a line break, tab or NUL inside text must be written as an escape (`\\n`, `\\t`, `\\u0000`)",
        );
    }
    (format!("invalid JSON ({what})"), "each record must be one JSON object, e.g. {\"id\": \"E1\", …}")
}

/// A JSON value like `serde_json::Value`, except that an object naming a field twice is an
/// error (serde_json keeps the last value silently; a record with two `id`s is ambiguous).
pub struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = serde_json::Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<serde_json::Value, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

pub struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = serde_json::Value;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<serde_json::Value, E> {
        Ok(serde_json::Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<serde_json::Value, E> {
        Ok(serde_json::Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<serde_json::Value, E> {
        Ok(serde_json::Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<serde_json::Value, E> {
        Ok(serde_json::Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<serde_json::Value, E> {
        Ok(serde_json::Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<serde_json::Value, E> {
        Ok(serde_json::Value::String(v))
    }
    fn visit_none<E>(self) -> Result<serde_json::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_unit<E>(self) -> Result<serde_json::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<serde_json::Value, D::Error> {
        StrictValue.deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<serde_json::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element_seed(StrictValue)? {
            items.push(v);
        }
        Ok(serde_json::Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<serde_json::Value, A::Error> {
        let mut obj = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if obj.contains_key(&key) {
                let name = crate::display::shorten(&key, 40);
                return Err(A::Error::custom(format!("duplicate field `{name}`")));
            }
            let v = map.next_value_seed(StrictValue)?;
            obj.insert(key, v);
        }
        Ok(serde_json::Value::Object(obj))
    }
}
