//! JSON text written straight into a byte buffer: how a [`crate::Verdict`] becomes one line of
//! `kensa eval`'s output without serde's per-byte escape loop or its serializer calls.
//!
//! The text is exactly serde_json's compact output followed by [`crate::display::json_safe`]
//! (the unsafe characters JSON leaves raw written as `\uXXXX`): strings are escaped as serde_json
//! escapes them (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other C0 controls `\u00xx`), numbers
//! of a `serde_json::Value` are written by serde_json itself, and objects keep their order.
//! Tests compare both ways of writing on the same values (`Verdict::write_json`).
//!
//! Strings are scanned eight bytes at a time: a word with no byte below 0x20, no `"` and no `\`
//! is copied as it is, which is every word of almost every string.

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Non-zero when a byte of `w` is below 0x20, `"` or `\` (exact when zero; a non-zero answer
/// may also mark bytes after the first that does).
#[inline]
pub(crate) fn needs_escape(w: u64) -> u64 {
    let below_space = w.wrapping_sub(LO * 0x20) & !w;
    let q = w ^ (LO * u64::from(b'"'));
    let quote = q.wrapping_sub(LO) & !q;
    let b = w ^ (LO * u64::from(b'\\'));
    let backslash = b.wrapping_sub(LO) & !b;
    (below_space | quote | backslash) & HI
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `s` as a JSON string, quotes included.
pub fn string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Bytes before `start` are written; `i` is the next byte to look at.
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(word) = bytes.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok())
            && needs_escape(u64::from_le_bytes(word)) == 0
        {
            i += 8;
            continue;
        }
        let Some(&b) = bytes.get(i) else { break };
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => &[],
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        if escape.is_empty() {
            let hex = |n: u8| HEX.get(usize::from(n)).copied().unwrap_or(b'0');
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', hex(b >> 4), hex(b & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
    out.push(b'"');
}

/// An unsigned integer in decimal.
pub fn uint(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// A JSON value, as serde_json writes it (compact).
pub fn value(out: &mut Vec<u8>, v: &serde_json::Value) {
    match v {
        serde_json::Value::Null => out.extend_from_slice(b"null"),
        serde_json::Value::Bool(true) => out.extend_from_slice(b"true"),
        serde_json::Value::Bool(false) => out.extend_from_slice(b"false"),
        // Numbers as serde_json writes them (integers, and floats through ryu).
        serde_json::Value::Number(n) => {
            let _ = serde_json::to_writer(&mut *out, n);
        }
        serde_json::Value::String(s) => string(out, s),
        serde_json::Value::Array(items) => list(out, items, value),
        serde_json::Value::Object(map) => object(out, map.iter().map(|(k, v)| (k.as_str(), v))),
    }
}

/// `[a,b,…]`, each item written by `item`.
pub fn list<T>(out: &mut Vec<u8>, items: &[T], item: impl Fn(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        item(out, x);
    }
    out.push(b']');
}

/// A list of strings.
pub fn strings(out: &mut Vec<u8>, items: &[String]) {
    list(out, items, |out, s| string(out, s));
}

/// `{"k":v,…}` in the order given.
pub fn object<'v>(out: &mut Vec<u8>, entries: impl Iterator<Item = (&'v str, &'v serde_json::Value)>) {
    out.push(b'{');
    for (i, (k, v)) in entries.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, k);
        out.push(b':');
        value(out, v);
    }
    out.push(b'}');
}

/// `"key":`, after a `,` unless it is the object's first key (the key needs no escaping).
#[inline]
pub fn key(out: &mut Vec<u8>, key: &str, first: bool) {
    if !first {
        out.push(b',');
    }
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

/// Whether bytes written may hold a character [`crate::display::json_safe`] escapes: every one
/// (DEL, C1, U+061C, U+2028…) is DEL or starts with 0xC2, 0xD8 or 0xE2 (C0 controls are
/// escaped in strings already, and JSON has none outside them). One vectorized scan.
pub fn may_be_unsafe(written: &[u8]) -> bool {
    memchr::memchr3(0xc2, 0xd8, 0xe2, written).is_some() || memchr::memchr(0x7f, written).is_some()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn written(s: &str) -> String {
        let mut out = Vec::new();
        string(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut every_byte = String::new();
        for b in 0u8..0x80 {
            every_byte.push(char::from(b));
        }
        let cases = [
            "",
            "a",
            "12345678",
            "1234567\"",
            "\"1234567",
            "口座名義「ｻﾜﾀﾞ ｸﾐｺ」が本人のフリガナ「ムラタ マコト」と一致しません",
            "tab\there, newline\n, cr\r, bs\u{8}, ff\u{c}, nul\0, esc\u{1b}, us\u{1f}",
            "back\\slash \\\\ and \"quotes\" at every offset: \\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"",
            "\u{7f}\u{80}\u{9f}\u{2028}\u{202e}\u{1F600}",
            &every_byte,
        ];
        for s in cases {
            assert_eq!(written(s), serde_json::to_string(s).unwrap(), "{s:?}");
            // Every alignment of a byte that needs escaping within a word.
            for pad in 0..9 {
                let t = format!("{}{s}{}", "x".repeat(pad), "y".repeat(pad));
                assert_eq!(written(&t), serde_json::to_string(&t).unwrap(), "{t:?}");
            }
        }
    }

    #[test]
    fn values_are_written_as_serde_json_writes_them() {
        let v = serde_json::json!({
            "z": [1, -2, 3.5, 1e300, 0.1, 12345678901234567890u64, null, true, false],
            "a": {"nested": "「x」\n", "empty": {}, "list": []},
            "m": "\u{1}"
        });
        let mut out = Vec::new();
        value(&mut out, &v);
        assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&v).unwrap());
    }

    #[test]
    fn unsafe_characters_are_noticed() {
        for c in ['\u{7f}', '\u{85}', '\u{61c}', '\u{200e}', '\u{2028}', '\u{2066}'] {
            assert!(may_be_unsafe(written(&c.to_string()).as_bytes()), "{c:?}");
            assert!(crate::display::is_unsafe(c));
        }
        assert!(!may_be_unsafe(written("山田 ﾔﾏﾀﾞ 〒100-0001").as_bytes()));
    }
}
