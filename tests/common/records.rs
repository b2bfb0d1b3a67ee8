//! The standard engine with a fixed `today`, the clean sample record most tests start from,
//! and the bundled example files. Public API only. Include with
//! `#[path = "common/records.rs"] mod records;`.
#![allow(dead_code, reason = "each test file uses part of it")]

use kensa::{Date, Engine};
use serde_json::{Value, json};

/// The built-in rule set, judging as on 2026-11-27.
pub fn engine() -> Engine {
    Engine::builtin().unwrap().with_today(Date::parse("2026-11-27").unwrap())
}

/// A clean record of the standard shape: accepted with full score.
pub fn hanako() -> Value {
    json!({
        "id": "E1", "my_number": "528731694022",
        "family_name": "山田", "given_name": "花子",
        "family_name_kana": "ヤマダ", "given_name_kana": "ハナコ",
        "birth_date": "1980-04-01", "sex": "female",
        "postal_code": "100-0014", "address": "東京都千代田区永田町1丁目7番1号"
    })
}

/// The JSON lines of a file of the crate (`examples/registry.jsonl`).
pub fn lines(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}
