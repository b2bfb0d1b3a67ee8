//! Address and postal-code builtins.
//!
//! Several rules look at the same address (prefecture, municipality, key, postal agreement);
//! the last few parses are memoized per thread so that a record's address is parsed once.

use std::cell::RefCell;
use std::rc::Rc;

use super::Ctx;
use crate::normalize::address::{self, Address};
use crate::normalize::postal::{self, Consistency};
use crate::value::Value;

/// How many recent addresses are kept per thread: a record's own address stays cached while
/// the registry candidates' addresses are compared.
const MEMO: usize = 4;

thread_local! {
    static RECENT: RefCell<Vec<(String, Rc<Address>)>> = const { RefCell::new(Vec::new()) };
}

/// Parse an address, reusing a recent result when the text is the same (most recent first).
fn parsed(s: &str) -> Rc<Address> {
    RECENT.with(|cell| {
        let mut recent = cell.borrow_mut();
        if let Some(i) = recent.iter().position(|(k, _)| k == s) {
            let hit = recent.remove(i);
            let a = hit.1.clone();
            recent.insert(0, hit);
            return a;
        }
        let a = Rc::new(address::parse(s));
        if recent.len() >= MEMO {
            recent.pop();
        }
        recent.insert(0, (s.to_string(), a.clone()));
        a
    })
}

pub fn prefecture<'a>(_: &Ctx, v: Value<'a>) -> Value<'a> {
    match v.as_text() {
        Some(s) => parsed(s).prefecture.map_or(Value::Null, Value::text),
        None => Value::Null,
    }
}

pub fn prefecture_written<'a>(_: &Ctx, v: Value<'a>) -> Value<'a> {
    match v.as_text() {
        Some(s) => {
            let a = parsed(s);
            Value::Bool(a.prefecture.is_some() && !a.prefecture_inferred)
        }
        None => Value::Null,
    }
}

pub fn bad_prefecture<'a>(_: &Ctx, v: Value<'a>) -> Value<'a> {
    match v.as_text() {
        Some(s) => parsed(s).invalid_prefecture.clone().map_or(Value::Null, Value::owned),
        None => Value::Null,
    }
}

pub fn municipality<'a>(_: &Ctx, v: Value<'a>) -> Value<'a> {
    match v.as_text() {
        Some(s) => parsed(s).municipality.map_or(Value::Null, Value::text),
        None => Value::Null,
    }
}

pub fn key<'a>(_: &Ctx, v: Value<'a>) -> Value<'a> {
    match v.as_text() {
        Some(s) => parsed(s).key().map_or(Value::Null, Value::owned),
        None => Value::Null,
    }
}

pub fn postal_code<'a>(_: &Ctx, v: Value<'a>) -> Value<'a> {
    match v.as_text() {
        Some(s) => match postal::parse_code(s) {
            // Already 7 ASCII digits: keep the text as it is (no copy).
            Ok(c) if c.as_str() == s => v,
            Ok(c) => Value::owned(c.as_str().to_string()),
            Err(_) => Value::Null,
        },
        None => Value::Null,
    }
}

pub fn postal_exists<'a>(_: &Ctx, v: Value<'a>) -> Value<'a> {
    match v.as_text() {
        Some(s) => Value::Bool(postal::parse_code(s).is_ok_and(|c| postal::exists(c.as_str()))),
        None => Value::Null,
    }
}

pub fn postal_matches<'a>(_: &Ctx, code: Value<'a>, addr: Value<'a>) -> Value<'a> {
    let (Some(code), Some(addr)) = (code.as_text(), addr.as_text()) else { return Value::Null };
    let Ok(code) = postal::parse_code(code) else { return Value::Null };
    match postal::consistent_with(code.as_str(), &parsed(addr)) {
        Consistency::Consistent | Consistency::TownMismatch { .. } => Value::Bool(true),
        Consistency::MunicipalityMismatch { .. } | Consistency::PrefectureMismatch { .. } => Value::Bool(false),
        Consistency::UnknownCode | Consistency::Unknown => Value::Null,
    }
}
