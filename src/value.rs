//! Runtime values of the rule language.
//!
//! Text borrows from the record (or the compiled program) whenever it can, and is shared by
//! reference count when a builtin had to build a new string, so `let` caching never copies.

use std::borrow::Cow;
use std::fmt;
use std::rc::Rc;

use crate::normalize::date::Date;

/// A text value: borrowed from the record or program, or a shared owned string.
#[derive(Clone, Debug)]
pub enum Txt<'a> {
    Borrowed(&'a str),
    Shared(Rc<str>),
}

impl Txt<'_> {
    pub fn as_str(&self) -> &str {
        match self {
            Txt::Borrowed(s) => s,
            Txt::Shared(s) => s,
        }
    }
}

impl PartialEq for Txt<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

/// A value during evaluation. `Null` stands for a field that is absent, and for a builtin that
/// has no answer (for example `address.prefecture` of an address without a prefecture).
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value<'a> {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Date(Date),
    Text(Txt<'a>),
    List(Rc<Vec<Value<'a>>>),
    /// A present nested group (its fields live in their own slots).
    Group,
}

impl<'a> Value<'a> {
    pub fn text(s: &'a str) -> Self {
        Value::Text(Txt::Borrowed(s))
    }
    pub fn owned(s: String) -> Self {
        Value::Text(Txt::Shared(Rc::from(s)))
    }
    /// A copy of `s` (one allocation; [`Value::owned`] of a `String` copies it once more).
    pub fn shared(s: &str) -> Self {
        Value::Text(Txt::Shared(Rc::from(s)))
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t.as_str()),
            _ => None,
        }
    }

    /// Apply a normalizer that returns `Cow`, keeping the borrow when the input was borrowed
    /// and nothing changed, and never copying a shared string that did not change.
    pub fn map_text(&self, f: impl for<'s> Fn(&'s str) -> Cow<'s, str>) -> Value<'a> {
        match self {
            Value::Text(Txt::Borrowed(s)) => match f(s) {
                Cow::Borrowed(b) => Value::Text(Txt::Borrowed(b)),
                Cow::Owned(o) => Value::owned(o),
            },
            Value::Text(Txt::Shared(rc)) => match f(rc) {
                // A borrowed result may be a shorter slice (`trim`): keep `rc` only if whole.
                Cow::Borrowed(b) if b.len() == rc.len() => Value::Text(Txt::Shared(Rc::clone(rc))),
                Cow::Borrowed(b) => Value::shared(b),
                Cow::Owned(o) => Value::owned(o),
            },
            _ => Value::Null,
        }
    }

    /// The kind of value, in words (used in messages).
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "absent",
            Value::Bool(_) => "yes/no",
            Value::Int(_) => "number",
            Value::Float(_) => "number",
            Value::Date(_) => "date",
            Value::Text(_) => "text",
            Value::List(_) => "list",
            Value::Group => "group",
        }
    }
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("(なし)"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Float(x) => write!(f, "{}", (x * 1000.0).round() / 1000.0),
            Value::Date(d) => write!(f, "{d}"),
            Value::Text(t) => f.write_str(t.as_str()),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Group => f.write_str("{…}"),
        }
    }
}
