//! What a compiled rule set asks of a record, for applications (`GET /v1/rules`): the record
//! schema as a JSON Schema, and one [`RuleInfo`] per rule.
//!
//! Reads the compiled [`Program`] only; never evaluates a record.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::check::FieldTy;
use crate::compile::{Field, Program};
use crate::syntax::ast::Severity;

/// One rule of a rule set, as an application lists it ([`crate::Engine::rules_info`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleInfo {
    /// The rule's id (`bank.holder_is_registrant`).
    pub id: String,
    /// The title written after the id, if any.
    pub title: Option<String>,
    /// The outcome when the rule fires; `None` when it depends on the record (no rule of the
    /// language does so today: a rule has one outcome).
    pub severity: Option<Severity>,
    /// Dotted paths of the fields its findings name (`fields …`, else those `require` reads).
    pub fields: Vec<String>,
}

/// The rules in evaluation order.
pub fn rules_info(program: &Program) -> Vec<RuleInfo> {
    program
        .rules
        .iter()
        .map(|r| RuleInfo {
            id: r.id.to_string(),
            title: r.title.as_deref().map(str::to_string),
            severity: Some(r.severity),
            fields: r.fields.iter().map(|f| f.to_string()).collect(),
        })
        .collect()
}

/// The signs the engine reads before the digits of an `int` given as text: `+` and every
/// hyphen and minus of [`crate::normalize::width::is_hyphen`] (a test checks they agree).
const SIGNS: &str = "+＋-－﹣−‐⁃‑‒–—﹘―⎯⏤ーｰ─━";

/// A text holding a whole number as the engine reads it into an `int` field: spaces around
/// it, a sign, ASCII or full-width digits.
fn int_text() -> String {
    format!("^\\s*[{}]?[0-9０-９]+\\s*$", SIGNS.replace('-', "\\-"))
}

/// The record schema as a JSON Schema (draft 2020-12). A superset of what the engine reads
/// without a `schema.*` finding: every such record validates; some records that validate
/// still get one (an impossible date such as `1988-02-30`, a number too large for an `int`).
pub fn json_schema(program: &Program) -> Value {
    let mut schema = object_schema(program, &program.roots, &program.root_keys);
    if let Value::Object(m) = &mut schema {
        let mut head = Map::new();
        head.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
        head.extend(std::mem::take(m));
        *m = head;
    }
    schema
}

/// An object with the fields `slots`: required unless optional, other keys allowed (they are
/// a warning finding, an error only in strict mode).
fn object_schema(program: &Program, slots: &[u32], keys: &[Box<str>]) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    let mut order = Vec::new();
    for (field, key) in slots.iter().filter_map(|&s| program.fields.get(s as usize)).zip(keys) {
        let key = key.to_string();
        order.push(Value::String(key.clone()));
        let mut schema = field_schema(program, field);
        if field.optional {
            schema = json!({"anyOf": [schema, {"type": "null"}]});
        } else {
            required.push(Value::String(key.clone()));
        }
        properties.insert(key, schema);
    }
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": true,
        // The fields in the order the schema declares them (`properties` is an object, whose
        // order JSON does not keep): a form lays its fields out in this order.
        "x-order": order,
    })
}

fn field_schema(program: &Program, field: &Field) -> Value {
    if let FieldTy::Group = field.ty {
        return object_schema(program, &field.children, &field.child_keys);
    }
    type_schema(&field.ty, field.max_chars)
}

/// The schema of a value of type `ty`; `max` (in characters) bounds its text.
fn type_schema(ty: &FieldTy, max: Option<u32>) -> Value {
    match ty {
        FieldTy::Text => match max {
            Some(n) => json!({"type": "string", "maxLength": n}),
            None => json!({"type": "string"}),
        },
        FieldTy::Int => json!({"anyOf": [{"type": "integer"}, {"type": "string", "pattern": int_text()}]}),
        FieldTy::Date => json!({"type": "string"}),
        FieldTy::Bool => json!({"type": "boolean"}),
        FieldTy::Enum(variants) => json!({"enum": variants}),
        FieldTy::List(inner) => json!({"type": "array", "items": type_schema(inner, max)}),
        // A group inside a list is not part of the language; any object.
        FieldTy::Group => json!({"type": "object"}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signs_are_the_ones_the_engine_reads() {
        let hyphens: Vec<char> =
            (0..0x1_0000u32).filter_map(char::from_u32).filter(|&c| crate::normalize::width::is_hyphen(c)).collect();
        let mut signs: Vec<char> = SIGNS.chars().filter(|&c| c != '+' && c != '＋').collect();
        signs.sort_unstable();
        assert_eq!(signs, hyphens);
    }
}
