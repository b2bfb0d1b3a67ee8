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
            // Move the hit to the front.
            if i > 0
                && let Some(front) = recent.get_mut(..=i)
            {
                front.rotate_right(1);
            }
            if let Some((_, a)) = recent.first() {
                return a.clone();
            }
        }
        if recent.len() < MEMO {
            let a = Rc::new(address::parse(s));
            recent.insert(0, (s.to_string(), a.clone()));
            return a;
        }
        // Full: the least recent entry makes room, its buffers reused.
        recent.rotate_right(1);
        let Some((key, old)) = recent.first_mut() else { return Rc::new(address::parse(s)) };
        key.clear();
        key.push_str(s);
        match Rc::get_mut(old) {
            Some(a) => address::parse_into(s, a),
            None => *old = Rc::new(address::parse(s)),
        }
        old.clone()
    })
}

pub fn prefecture<'a>(_: &Ctx, v: &Value<'a>) -> Value<'a> {
    match v.as_text() {
        Some(s) => parsed(s).prefecture.map_or(Value::Null, Value::text),
        None => Value::Null,
    }
}

pub fn prefecture_written<'a>(_: &Ctx, v: &Value<'a>) -> Value<'a> {
    match v.as_text() {
        Some(s) => {
            let a = parsed(s);
            Value::Bool(a.prefecture.is_some() && !a.prefecture_inferred)
        }
        None => Value::Null,
    }
}

pub fn bad_prefecture<'a>(_: &Ctx, v: &Value<'a>) -> Value<'a> {
    match v.as_text() {
        Some(s) => parsed(s).invalid_prefecture.as_deref().map_or(Value::Null, Value::shared),
        None => Value::Null,
    }
}

pub fn municipality<'a>(_: &Ctx, v: &Value<'a>) -> Value<'a> {
    match v.as_text() {
        Some(s) => parsed(s).municipality.map_or(Value::Null, Value::text),
        None => Value::Null,
    }
}

pub fn key<'a>(_: &Ctx, v: &Value<'a>) -> Value<'a> {
    match v.as_text() {
        Some(s) => parsed(s).key().map_or(Value::Null, Value::owned),
        None => Value::Null,
    }
}

pub fn postal_code<'a>(_: &Ctx, v: &Value<'a>) -> Value<'a> {
    match v.as_text() {
        Some(s) => match postal::parse_code(s) {
            // Already 7 ASCII digits: keep the text as it is (no copy).
            Ok(c) if c.digits() == s.as_bytes() => v.clone(),
            Ok(c) => Value::shared(c.as_str()),
            Err(_) => Value::Null,
        },
        None => Value::Null,
    }
}

pub fn postal_exists<'a>(_: &Ctx, v: &Value<'a>) -> Value<'a> {
    match v.as_text() {
        Some(s) => Value::Bool(postal::parse_code(s).is_ok_and(postal::exists_code)),
        None => Value::Null,
    }
}

pub fn postal_matches<'a>(_: &Ctx, code: &Value<'a>, addr: &Value<'a>) -> Value<'a> {
    let (Some(code), Some(addr)) = (code.as_text(), addr.as_text()) else { return Value::Null };
    let Ok(code) = postal::parse_code(code) else { return Value::Null };
    match postal::consistent_with_code(code, &parsed(addr)) {
        Consistency::Consistent | Consistency::TownMismatch { .. } => Value::Bool(true),
        Consistency::MunicipalityMismatch { .. } | Consistency::PrefectureMismatch { .. } => Value::Bool(false),
        Consistency::UnknownCode | Consistency::Unknown => Value::Null,
    }
}

pub fn unconfirmed_ward<'a>(_: &Ctx, v: &Value<'a>) -> Value<'a> {
    match v.as_text() {
        Some(s) => address::unconfirmed_ward(&parsed(s)).map_or(Value::Null, Value::shared),
        None => Value::Null,
    }
}

pub fn unconfirmed_town<'a>(_: &Ctx, v: &Value<'a>) -> Value<'a> {
    match v.as_text() {
        Some(s) => address::unconfirmed_town(&parsed(s)).map_or(Value::Null, Value::shared),
        None => Value::Null,
    }
}
