//! Records as JSON text: the one reader every entry point shares (`kensa eval` lines and files,
//! the Python package), so that the same text gives the same record, or the same error, everywhere.
//!
//! Input: JSON text. Output: a [`Json`] document that borrows its text from the input (what the
//! evaluator reads: no tree of owned strings per record), or a `serde_json::Value` for callers
//! that keep records; or a message that never quotes the record (it may hold a My Number) and
//! says what to do. A `serde_json::Value` handed in by a library caller is read through the same
//! [`Json`] view ([`Json::from_value`]), so every entry point judges the same document.

use std::borrow::Cow;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// One record from one JSON text (a JSONL line): an object naming a field twice is an error,
/// as is anything after the value.
pub fn parse_record(text: &str) -> Result<serde_json::Value, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    StrictValue.deserialize(&mut de).and_then(|v| de.end().map(|()| v)).map_err(|e| json_error(&e))
}

/// One record from one JSON text, borrowing its strings from `text` (a string with an escape
/// is the one copy): the same checks and the same errors as [`parse_record`].
///
/// [`crate::json_read`] reads it when it can read it exactly as serde_json does (almost every
/// record); serde_json reads the rest, and says what is wrong with a text that is no record.
pub fn parse_doc(text: &str) -> Result<Json<'_>, String> {
    match crate::json_read::parse(text) {
        Some(doc) => Ok(doc),
        None => parse_doc_serde(text),
    }
}

/// [`parse_doc`] by serde_json alone: the reference [`crate::json_read`] is tested against.
pub(crate) fn parse_doc_serde(text: &str) -> Result<Json<'_>, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    JsonSeed.deserialize(&mut de).and_then(|v| de.end().map(|()| v)).map_err(|e| json_error(&e))
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
                return Err(duplicate(&key));
            }
            let v = map.next_value_seed(StrictValue)?;
            obj.insert(key, v);
        }
        Ok(serde_json::Value::Object(obj))
    }
}

/// The message of an object naming `key` a second time.
fn duplicate<E: serde::de::Error>(key: &str) -> E {
    E::custom(format!("duplicate field `{}`", crate::display::shorten(key, 40)))
}

/// A JSON value whose strings borrow from the text it was read from (or from the
/// `serde_json::Value` it views). Objects keep their fields in the order written, each name once.
#[derive(Clone, Debug, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// A view of `v` (strings borrowed; one vector per object and list).
    pub fn from_value(v: &'a serde_json::Value) -> Json<'a> {
        match v {
            serde_json::Value::Null => Json::Null,
            serde_json::Value::Bool(b) => Json::Bool(*b),
            serde_json::Value::Number(n) => Json::Number(n.clone()),
            serde_json::Value::String(s) => Json::String(Cow::Borrowed(s)),
            serde_json::Value::Array(items) => Json::Array(items.iter().map(Json::from_value).collect()),
            serde_json::Value::Object(m) => {
                Json::Object(m.iter().map(|(k, v)| (Cow::Borrowed(k.as_str()), Json::from_value(v))).collect())
            }
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value of field `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        match self {
            Json::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Whether this is the same record as `v`: equal values, objects equal whatever the order
    /// of their fields (as `serde_json::Value`'s equality).
    pub fn same_as(&self, v: &serde_json::Value) -> bool {
        match (self, v) {
            (Json::Null, serde_json::Value::Null) => true,
            (Json::Bool(a), serde_json::Value::Bool(b)) => a == b,
            (Json::Number(a), serde_json::Value::Number(b)) => a == b,
            (Json::String(a), serde_json::Value::String(b)) => a == b,
            (Json::Array(a), serde_json::Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_as(y))
            }
            (Json::Object(a), serde_json::Value::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, x)| b.get(&**k).is_some_and(|y| x.same_as(y)))
            }
            _ => false,
        }
    }
}

/// Reads a [`Json`] (an object naming a field twice is an error, as in [`StrictValue`]).
struct JsonSeed;

impl<'de> DeserializeSeed<'de> for JsonSeed {
    type Value = Json<'de>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Json<'de>, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Json<'de>, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(v)))
    }
    fn visit_none<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }
    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Json<'de>, D::Error> {
        JsonSeed.deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element_seed(JsonSeed)? {
            items.push(v);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut fields: Vec<(Cow<'de, str>, Json<'de>)> = Vec::with_capacity(16);
        // Names seen, for objects too large to compare each name with every other.
        let mut seen: Option<rustc_hash::FxHashSet<Cow<'de, str>>> = None;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let again = match seen.as_mut() {
                Some(set) => !set.insert(key.clone()),
                None => fields.iter().any(|(k, _)| *k == key),
            };
            if again {
                return Err(duplicate(&key));
            }
            if seen.is_none() && fields.len() >= 32 {
                seen = Some(fields.iter().map(|(k, _)| k.clone()).chain([key.clone()]).collect());
            }
            let v = map.next_value_seed(JsonSeed)?;
            fields.push((key, v));
        }
        Ok(Json::Object(fields))
    }
}

/// An object's field name, borrowed when it has no escape.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a field name")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}
