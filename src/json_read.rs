//! JSON text read straight into a [`Json`] document: how `kensa eval` reads a record without
//! serde's visitor calls, each of which returns its value through memory.
//!
//! Input: one JSON text. Output: the document serde_json would give
//! ([`crate::record_json::parse_doc`]'s own reader, which stays the reference), or `None`. This
//! reader accepts only what it reads exactly as serde_json does, and answers `None` for
//! anything else:
//! - every error (serde_json then says what is wrong, in its words);
//! - a field named twice (an error, as above);
//! - numbers with a fraction or an exponent, integers beyond 64 bits, and `-0` (serde_json reads
//!   them as floats, with its own rounding);
//! - nesting deeper than [`MAX_DEPTH`] (serde_json's limit is 128).
//!
//! `None` costs a second reading, never a different answer. Tests compare the two readers on
//! generated documents and on one-byte changes of them; so does the fuzz target `json`
//! ([`agrees_with_serde_json`]), on any text, and `tests/fuzz_properties.rs` on record lines
//! with every character outside ASCII escaped, as Python's `json.dumps` writes them.
//!
//! Strings are scanned eight bytes at a time ([`crate::json_write::needs_escape`]); a string
//! without an escape borrows from the text.

use std::borrow::Cow;

use crate::json_write::needs_escape;
use crate::record_json::Json;

/// Containers nested deeper than this are left to serde_json.
pub const MAX_DEPTH: u32 = 100;

/// Objects with more fields than this check names for repeats in a hash set.
const LINEAR_NAMES: usize = 32;

/// `text` as a document, when it is one this reader reads exactly as serde_json does.
pub fn parse(text: &str) -> Option<Json<'_>> {
    let mut r = Reader { text, bytes: text.as_bytes(), at: 0, depth: 0 };
    let mut doc = Json::Null;
    r.value(&mut doc)?;
    r.skip_whitespace();
    (r.at == r.bytes.len()).then_some(doc)
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    /// The next byte to read.
    at: usize,
    /// Containers open around `at`.
    depth: u32,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// JSON's whitespace: space, tab, line feed, carriage return.
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// The next byte after whitespace, consumed.
    fn next_token(&mut self) -> Option<u8> {
        self.skip_whitespace();
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    /// The next value, written into `slot` (which holds `Json::Null`).
    ///
    /// Values are written where they stay, in place, not returned: a `Json` returned through
    /// memory is written with 8-byte stores and copied on at once with 16-byte loads, which
    /// the CPU cannot forward from its store buffer (the stall that made serde_json's visitor
    /// calls slow).
    fn value(&mut self, slot: &mut Json<'a>) -> Option<()> {
        match self.next_token()? {
            b'"' => *slot = Json::String(self.string()?),
            b'{' => self.object(slot)?,
            b'[' => self.array(slot)?,
            b't' => {
                self.literal(b"rue")?;
                *slot = Json::Bool(true);
            }
            b'f' => {
                self.literal(b"alse")?;
                *slot = Json::Bool(false);
            }
            b'n' => self.literal(b"ull")?,
            b'-' => *slot = Json::Number(self.integer(true)?),
            b'0'..=b'9' => {
                self.at -= 1;
                *slot = Json::Number(self.integer(false)?);
            }
            _ => return None,
        }
        Some(())
    }

    fn literal(&mut self, rest: &[u8]) -> Option<()> {
        let end = self.at + rest.len();
        (self.bytes.get(self.at..end)? == rest).then(|| self.at = end)
    }

    /// An integer without fraction or exponent, as serde_json gives it: `u64` when it is not
    /// negative, `i64` when it is; `at` is on the first digit.
    fn integer(&mut self, negative: bool) -> Option<serde_json::Number> {
        let first = self.peek().filter(u8::is_ascii_digit)?;
        self.at += 1;
        let mut n = u64::from(first - b'0');
        while let Some(d) = self.peek().filter(u8::is_ascii_digit) {
            // A leading zero is an error; more than 64 bits is a float to serde_json.
            if first == b'0' {
                return None;
            }
            n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            self.at += 1;
        }
        if let Some(b'.' | b'e' | b'E') = self.peek() {
            return None;
        }
        if !negative {
            return Some(n.into());
        }
        // `-0` and integers below `i64::MIN` are floats to serde_json.
        let n = 0i64.checked_sub_unsigned(n).filter(|n| *n < 0)?;
        Some(n.into())
    }

    /// Moves `at` to the first byte at or after it that ends a plain run of string text: `"`,
    /// `\` or a control character (or to the end of the text).
    fn skip_plain(&mut self) {
        while let Some(word) = self.bytes.get(self.at..self.at + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
            let hits = needs_escape(u64::from_le_bytes(word));
            if hits != 0 {
                // The lowest marked byte is always a real one.
                self.at += hits.trailing_zeros() as usize / 8;
                return;
            }
            self.at += 8;
        }
        while let Some(b) = self.peek() {
            if b == b'"' || b == b'\\' || b < 0x20 {
                return;
            }
            self.at += 1;
        }
    }

    /// A string's text; `at` is after its opening quote.
    #[inline(always)]
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.at;
        self.skip_plain();
        match self.peek()? {
            b'"' => {
                self.at += 1;
                self.text.get(start..self.at - 1).map(Cow::Borrowed)
            }
            b'\\' => self.escaped(start).map(Cow::Owned),
            // A raw control character.
            _ => None,
        }
    }

    /// A string with an escape, from `start` (after its opening quote; `at` is on the first
    /// `\`) to its closing quote.
    #[cold]
    #[inline(never)]
    fn escaped(&mut self, start: usize) -> Option<String> {
        // Decoding never lengthens a string (`\uXXXX` is six bytes for at most three), so the
        // text up to the closing quote is room enough: no string grown a few bytes at a time
        // (text from Python's `json.dumps`, by default, has every character outside ASCII
        // escaped).
        let mut out = String::with_capacity(self.closing_quote().unwrap_or(self.bytes.len()) - start);
        out.push_str(self.text.get(start..self.at)?);
        self.unescape(&mut out)?;
        Some(out)
    }

    /// Where the string `at` is in ends: its first `"` not escaped by a `\`.
    fn closing_quote(&self) -> Option<usize> {
        let mut from = self.at;
        loop {
            let quote = from + memchr::memchr(b'"', self.bytes.get(from..)?)?;
            let backslashes = self.bytes.get(..quote)?.iter().rev().take_while(|&&b| b == b'\\').count();
            if backslashes % 2 == 0 {
                return Some(quote);
            }
            from = quote + 1;
        }
    }

    /// The rest of a string with an escape, from `at` (on a `\`) to its closing quote.
    fn unescape(&mut self, out: &mut String) -> Option<()> {
        loop {
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some(());
                }
                b'\\' => {
                    let e = *self.bytes.get(self.at + 1)?;
                    self.at += 2;
                    out.push(match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return None,
                    });
                }
                _ => {
                    let start = self.at;
                    self.skip_plain();
                    if self.at == start {
                        return None; // a raw control character
                    }
                    out.push_str(self.text.get(start..self.at)?);
                }
            }
        }
    }

    /// The character of a `\uXXXX` escape (`at` after the `u`); a surrogate must be the first
    /// of a pair written as two escapes.
    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        match first {
            0xD800..=0xDBFF => {
                if self.bytes.get(self.at..self.at + 2)? != b"\\u" {
                    return None;
                }
                self.at += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return None;
                }
                char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
            }
            _ => char::from_u32(first),
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.bytes.get(self.at..self.at + 4)?;
        let mut n = 0u32;
        for &d in digits {
            n = n * 16 + char::from(d).to_digit(16)?;
        }
        self.at += 4;
        Some(n)
    }

    /// Whether the container just opened closes at once (`close`, then consumed).
    #[inline(always)]
    fn empty(&mut self, close: u8) -> Option<bool> {
        self.skip_whitespace();
        let empty = self.peek()? == close;
        if empty {
            self.at += 1;
        }
        Some(empty)
    }

    /// After an item of a container: `true` at a `,` (another item follows), `false` at
    /// `close` (consumed: the container ends); `None` at anything else.
    #[inline(always)]
    fn more(&mut self, close: u8) -> Option<bool> {
        match self.next_token()? {
            b',' => Some(true),
            b if b == close => Some(false),
            _ => None,
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// An array, into `slot`; `at` is after its `[`.
    fn array(&mut self, slot: &mut Json<'a>) -> Option<()> {
        self.enter()?;
        *slot = Json::Array(Vec::new());
        let Json::Array(items) = slot else { return None };
        if !self.empty(b']')? {
            loop {
                items.push(Json::Null);
                self.value(items.last_mut()?)?;
                if !self.more(b']')? {
                    break;
                }
            }
        }
        self.depth -= 1;
        Some(())
    }

    /// An object, into `slot`; `at` is after its `{`.
    fn object(&mut self, slot: &mut Json<'a>) -> Option<()> {
        self.enter()?;
        *slot = Json::Object(Vec::with_capacity(16));
        let Json::Object(fields) = slot else { return None };
        // Names seen, for objects too large to compare each name with every other.
        let mut seen: Option<rustc_hash::FxHashSet<Cow<'a, str>>> = None;
        if !self.empty(b'}')? {
            loop {
                if self.next_token()? != b'"' {
                    return None;
                }
                let key = self.string()?;
                let again = match seen.as_mut() {
                    Some(set) => !set.insert(key.clone()),
                    None => fields.iter().any(|(k, _)| *k == key),
                };
                if again {
                    return None;
                }
                if seen.is_none() && fields.len() >= LINEAR_NAMES {
                    seen = Some(fields.iter().map(|(k, _)| k.clone()).chain([key.clone()]).collect());
                }
                if self.next_token()? != b':' {
                    return None;
                }
                fields.push((key, Json::Null));
                self.value(&mut fields.last_mut()?.1)?;
                if !self.more(b'}')? {
                    break;
                }
            }
        }
        self.depth -= 1;
        Some(())
    }
}

/// `Err` when this reader reads `text` otherwise than serde_json (for the fuzz target `json`).
pub fn agrees_with_serde_json(text: &str) -> Result<(), String> {
    let Some(doc) = parse(text) else { return Ok(()) };
    match crate::record_json::parse_doc_serde(text) {
        Ok(reference) if reference == doc => Ok(()),
        Ok(reference) => Err(format!("read {doc:?}, serde_json read {reference:?}")),
        Err(e) => Err(format!("read {doc:?}, serde_json refused it: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// serde_json's reading of `text` (kensa's reference reader).
    fn reference(text: &str) -> Result<Json<'_>, String> {
        crate::record_json::parse_doc_serde(text)
    }

    /// This reader agrees with the reference: what it reads, the reference reads the same.
    fn agrees(text: &str) -> Result<(), TestCaseError> {
        agrees_with_serde_json(text).map_err(|e| TestCaseError::fail(format!("{e}; text: {text:?}")))
    }

    #[test]
    fn reads_what_serde_json_reads() {
        let texts = [
            r#"{"id":"E1","name":"山田 太郎","kana":"ﾔﾏﾀﾞ ﾀﾛｳ","n":0,"m":-12,"big":18446744073709551615}"#,
            r#" { "a" : [ 1 , 2 , [ ] , { } ] , "b" : { "c" : null , "d" : true , "e" : false } } "#,
            "{\"tab\":\"a\\tb\",\"q\":\"\\\"\\\\\\/\",\"bfnrt\":\"\\b\\f\\n\\r\\t\"}",
            r#"{"u":"\u5C71\u7530","pair":"\ud842\udfb7","ascii":"\u0041\u00e9"}"#,
            r#"{"min":-9223372036854775808,"zero":0}"#,
            "\t{\"a\":\"x\"}\r\n",
            r#"["top", "level", 1]"#,
            r#""just a string""#,
            "12345",
            "true",
            "{}",
            r#"{"long":"0123456789abcdefghijklmnopqrstuvwxyz東京都千代田区千代田１－１"}"#,
        ];
        for text in texts {
            let doc = parse(text);
            assert!(doc.is_some(), "not read: {text}");
            assert_eq!(doc.as_ref(), reference(text).as_ref().ok(), "{text}");
        }
    }

    #[test]
    fn escaped_strings_are_owned_and_plain_ones_borrowed() {
        let doc = parse(r#"{"plain":"東京","esc\u0061ped":"a\nb"}"#);
        let fields = match &doc {
            Some(Json::Object(fields)) => &fields[..],
            _ => &[],
        };
        assert!(matches!(fields.first(), Some((Cow::Borrowed("plain"), Json::String(Cow::Borrowed("東京"))))));
        assert!(
            matches!(fields.get(1), Some((Cow::Owned(k), Json::String(Cow::Owned(v)))) if k == "escaped" && v == "a\nb")
        );
    }

    #[test]
    fn leaves_to_serde_json_what_it_does_not_read_exactly() {
        let texts = [
            // Errors.
            "",
            "   ",
            "{",
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":1 "b":2}"#,
            r#"[1,]"#,
            r#"{"a":tru}"#,
            r#"{"a":"x"} x"#,
            r#"{"a":"x"}{"#,
            "{\"a\":\"line\nbreak\"}",
            "{\"a\":\"nul\u{0}\"}",
            r#"{"a":"\x"}"#,
            r#"{"a":"\u12"}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\ud800\u0041"}"#,
            r#"{"a":"\udc00"}"#,
            r#"{"a":"unterminated}"#,
            r#"{"a":01}"#,
            r#"{"a":-}"#,
            r#"{"a":+1}"#,
            r#"{1:2}"#,
            // A field named twice, also in an object too large to compare names pairwise.
            r#"{"a":1,"b":2,"a":3}"#,
            // Floats, and integers serde_json reads as floats.
            r#"{"a":1.5}"#,
            r#"{"a":1e3}"#,
            r#"{"a":1E3}"#,
            r#"{"a":-0}"#,
            r#"{"a":18446744073709551616}"#,
            r#"{"a":-9223372036854775809}"#,
        ];
        for text in texts {
            assert_eq!(parse(text), None, "{text:?}");
        }
        let many: Vec<String> = (0..40).map(|i| format!("\"f{i}\":{i}")).collect();
        let twice = format!("{{{},\"f3\":0}}", many.join(","));
        assert_eq!(parse(&twice), None);
        assert!(reference(&twice).is_err());
        let once = format!("{{{}}}", many.join(","));
        assert_eq!(parse(&once).as_ref(), reference(&once).as_ref().ok());
    }

    #[test]
    fn deep_nesting_is_left_to_serde_json() {
        let depth = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let text = depth(MAX_DEPTH as usize);
        assert_eq!(parse(&text).as_ref(), reference(&text).as_ref().ok());
        assert_eq!(parse(&depth(MAX_DEPTH as usize + 1)), None);
        assert!(reference(&depth(200)).is_err());
    }

    /// JSON documents with every kind of value, in serde_json's compact and pretty forms.
    fn documents() -> impl Strategy<Value = serde_json::Value> {
        let text = prop_oneof![
            "[a-zA-Z0-9 ]{0,12}",
            "[ぁ-んァ-ヶ一-龠ｦ-ﾟ０-９　 ]{0,10}",
            "[\\\\\"/\\n\\t\\u{0}-\\u{1f}\\u{7f}\\u{2028}\\u{10000}-\\u{10ffff}a]{0,6}",
        ];
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<u64>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            (-1e6f64..1e6).prop_map(serde_json::Value::from),
            text.clone().prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 48, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                prop::collection::vec((text.clone(), inner), 0..8)
                    .prop_map(|fields| serde_json::Value::Object(fields.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn agrees_with_serde_json_on_documents(doc in documents(), pretty in any::<bool>()) {
            let text = if pretty { serde_json::to_string_pretty(&doc) } else { serde_json::to_string(&doc) };
            let text = text.map_err(|e| TestCaseError::fail(e.to_string()))?;
            agrees(&text)?;
            // Whatever it reads, it reads whole: every document without a float is read.
            let has_float = reference(&text).is_ok_and(|d| has_float(&d));
            prop_assert!(parse(&text).is_some() || has_float, "not read: {:?}", text);
        }

        #[test]
        fn agrees_with_serde_json_on_every_one_byte_change(doc in documents(), at in any::<prop::sample::Index>(), b in any::<u8>()) {
            let text = serde_json::to_string(&doc).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut bytes = text.into_bytes();
            if !bytes.is_empty() {
                let i = at.index(bytes.len());
                if let Some(x) = bytes.get_mut(i) {
                    *x = b;
                }
            }
            if let Ok(changed) = String::from_utf8(bytes) {
                agrees(&changed)?;
            }
        }
    }

    fn has_float(doc: &Json<'_>) -> bool {
        match doc {
            Json::Number(n) => n.is_f64(),
            Json::Array(items) => items.iter().any(has_float),
            Json::Object(fields) => fields.iter().any(|(_, v)| has_float(v)),
            _ => false,
        }
    }
}
