//! Text shown to people: cut to a length, so that a 20 MB header line or a 10,000-term
//! expression is named rather than repeated; and made safe for a terminal, so that text from a
//! record, a file name or a rule file cannot drive it (clear the screen, move the cursor over a
//! `reject`, reorder a line with a bidi override).
//!
//! What is escaped: the C0 controls (U+0000–U+001F; [`escape_text`] keeps line feeds and tabs),
//! DEL, the C1 controls (U+0080–U+009F, which some terminals read as escape sequences), the line
//! and paragraph separators U+2028/U+2029, and the bidi controls (U+061C, U+200E, U+200F,
//! U+202A–U+202E, U+2066–U+2069). They are written `\u{1b}` (`\n`, `\t`, `\r` for those), in
//! JSON `\u001b`, which JSON readers read back as the same text.
//!
//! Input → output: `&str` → `Cow<str>` (borrowed when nothing changes). Never: reads or writes
//! anything.

use std::borrow::Cow;

/// The characters of a name or value quoted in a message, at most.
pub const QUOTED_CHARS: usize = 40;

/// `text` cut to `max` characters, with `…` when something was cut.
pub fn shorten(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((at, _)) => {
            let mut out = String::with_capacity(at + 3);
            out.push_str(text.get(..at).unwrap_or(text));
            out.push('…');
            Cow::Owned(out)
        }
    }
}

/// A number with thousands separators (`1,000,000`), as messages write it.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Up to `max` items of a list, each shortened to [`QUOTED_CHARS`], joined by `, `, with the
/// number of the items left out (`a, b, … and 59998 more`).
pub fn list<'a>(items: impl ExactSizeIterator<Item = &'a str>, max: usize) -> String {
    let total = items.len();
    let mut out: Vec<Cow<'_, str>> = items.take(max).map(|s| shorten(s, QUOTED_CHARS)).collect();
    if total > max {
        out.push(Cow::Owned(format!("… and {} more", total - max)));
    }
    out.join(", ")
}

/// Whether `text` may hold an unsafe character: a byte scan (every unsafe character is a C0
/// byte, DEL, or starts with 0xC2, 0xD8 or 0xE2 in UTF-8), so that text without any costs
/// little — this runs for every verdict written.
fn may_be_unsafe(text: &str) -> bool {
    text.bytes().any(|b| b < 0x20 || matches!(b, 0x7f | 0xc2 | 0xd8 | 0xe2))
}

/// Whether `c` must not reach a terminal as it is.
pub fn is_unsafe(c: char) -> bool {
    matches!(c, '\0'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}')
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every unsafe character ([`is_unsafe`]) written as an escape: for one value or a
/// one-line message (a line feed in it would let it pass for two lines).
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    escape(text, |_| false)
}

/// [`escape_controls`] for text of several lines: line feeds and tabs stay (and a carriage
/// return before a line feed).
pub fn escape_text(text: &str) -> Cow<'_, str> {
    escape(text, |(i, c)| kept_in_text(text, i, c))
}

/// A line feed, a tab, or a carriage return before a line feed, at byte `i` of `text`.
fn kept_in_text(text: &str, i: usize, c: char) -> bool {
    c == '\n' || c == '\t' || c == '\r' && text.as_bytes().get(i + 1) == Some(&b'\n')
}

fn escape(text: &str, keep: impl Fn((usize, char)) -> bool) -> Cow<'_, str> {
    let bad = |(i, c): (usize, char)| is_unsafe(c) && !keep((i, c));
    if !may_be_unsafe(text) || !text.char_indices().any(bad) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for (i, c) in text.char_indices() {
        if bad((i, c)) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn push_escape(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
    }
}

/// A value as JSON text, through [`json_safe`]: what every JSON line kensa writes is made of.
pub fn json_text(v: &impl serde::Serialize) -> String {
    let text = serde_json::to_string(v).unwrap_or_default();
    match json_safe(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(safe) => safe,
    }
}

/// [`json_text`] appended to `out` as bytes, escaping the unsafe characters as each string is
/// written: for a value known to hold one (`Verdict::write_json` writes the others directly).
pub fn json_bytes_escaping(v: &impl serde::Serialize, out: &mut Vec<u8>) {
    let mut ser = serde_json::Serializer::with_formatter(&mut *out, SafeFormatter);
    let _ = v.serialize(&mut ser);
}

/// serde_json's compact output, with [`json_safe`]'s escapes written as each string is.
struct SafeFormatter;

impl serde_json::ser::Formatter for SafeFormatter {
    fn write_string_fragment<W: ?Sized + std::io::Write>(&mut self, w: &mut W, fragment: &str) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_unsafe(c) {
                w.write_all(fragment.get(start..i).unwrap_or_default().as_bytes())?;
                write!(w, "\\u{:04x}", u32::from(c))?;
                start = i + c.len_utf8();
            }
        }
        w.write_all(fragment.get(start..).unwrap_or_default().as_bytes())
    }
}

/// Serialized JSON with the unsafe characters JSON leaves as they are (DEL, C1, U+2028/U+2029,
/// bidi controls) written as `\uXXXX`: the same values for any JSON reader, safe on a terminal.
/// (JSON escapes the C0 controls itself; outside strings JSON has none of these characters.)
pub fn json_safe(json: &str) -> Cow<'_, str> {
    // C0 controls are escaped in JSON strings already; outside them they are white space.
    let raw = |c: char| c >= ' ' && is_unsafe(c);
    if !may_be_unsafe(json) || !json.chars().any(raw) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if raw(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`escape_text`], with where each byte offset of the original went, so that spans into the
/// original still point at the same characters.
pub fn escape_text_mapped(text: &str) -> (Cow<'_, str>, EscapeMap) {
    let escaped = escape_text(text);
    let mut marks = Vec::new();
    if let Cow::Owned(_) = escaped {
        let mut added = 0;
        let mut buf = String::new();
        for (i, c) in text.char_indices() {
            if is_unsafe(c) && !kept_in_text(text, i, c) {
                buf.clear();
                push_escape(&mut buf, c);
                marks.push(Mark { orig: i, orig_len: c.len_utf8(), at: i + added, len: buf.len() });
                added += buf.len() - c.len_utf8();
            }
        }
    }
    (escaped, EscapeMap { marks })
}

/// Where the characters of a text went when it was escaped ([`escape_text_mapped`]).
#[derive(Debug, Default)]
pub struct EscapeMap {
    marks: Vec<Mark>,
}

#[derive(Debug)]
struct Mark {
    /// Where the character is in the original, and its length there.
    orig: usize,
    orig_len: usize,
    /// Where its escape is in the escaped text, and its length (ASCII).
    at: usize,
    len: usize,
}

impl EscapeMap {
    /// Where byte `offset` of the original (a character boundary) is in the escaped text.
    pub fn offset(&self, offset: usize) -> usize {
        let before = self.marks.partition_point(|m| m.orig < offset);
        match before.checked_sub(1).and_then(|i| self.marks.get(i)) {
            None => offset,
            Some(m) => offset + (m.at + m.len) - (m.orig + m.orig_len),
        }
    }

    /// How many more characters the escaped text has than the original between two of its
    /// offsets (each escape stands for one character).
    pub fn extra_chars(&self, from: usize, to: usize) -> usize {
        self.marks.iter().filter(|m| m.at >= from && m.at + m.len <= to).map(|m| m.len - 1).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_bidi_and_c1_are_escaped() {
        assert_eq!(escape_controls("山田 花子"), "山田 花子");
        assert!(matches!(escape_controls("山田"), Cow::Borrowed(_)));
        assert_eq!(escape_controls("X\u{1b}[2J"), "X\\u{1b}[2J");
        assert_eq!(escape_controls("a\nb\tc\r"), "a\\nb\\tc\\r");
        assert_eq!(escape_controls("\u{9b}31m\u{202e}\u{7f}"), "\\u{9b}31m\\u{202e}\\u{7f}");
        assert_eq!(escape_text("a\nb\tc\r\nd\re"), "a\nb\tc\r\nd\\re");
        assert_eq!(json_safe("{\"id\":\"A\\u001b\u{9b}\u{202e}\"}"), r#"{"id":"A\u001b\u009b\u202e"}"#);
        let v: String = serde_json::from_str(&json_safe("\"\u{9b}\u{202e}x\"")).unwrap_or_default();
        assert_eq!(v, "\u{9b}\u{202e}x");
        assert_eq!(json_safe("{\n  \"a\": 1\n}"), "{\n  \"a\": 1\n}");
    }

    #[test]
    fn json_bytes_escaping_is_json_text() {
        let values = [
            serde_json::json!({"id": "A\u{1b}\u{9b}\u{202e}", "山田": ["\u{7f}x\u{2028}", "ｻﾜﾀﾞ", "\u{61c}\u{200e}\u{2066}"]}),
            serde_json::json!({"n": 1.5, "t": true, "z": null, "é": "café «» …"}),
            serde_json::json!("\u{9f}\u{a0}\u{2029}\u{2027}"),
        ];
        for v in values {
            let mut out = Vec::new();
            json_bytes_escaping(&v, &mut out);
            assert_eq!(String::from_utf8(out).unwrap_or_default(), json_text(&v));
        }
    }

    #[test]
    fn offsets_follow_the_escapes() {
        let text = "ab\u{1b}c\u{202e}d\ne";
        let (shown, map) = escape_text_mapped(text);
        assert_eq!(shown, "ab\\u{1b}c\\u{202e}d\ne");
        for (orig, ch) in text.char_indices() {
            let at = map.offset(orig);
            if !is_unsafe(ch) || ch == '\n' {
                assert_eq!(shown.get(at..).and_then(|t| t.chars().next()), Some(ch), "{orig}");
            }
        }
        assert_eq!(map.offset(text.len()), shown.len());
        // Five characters come before `d` in the original (two of them escaped in the text).
        let d = map.offset(text.find('d').unwrap_or(0));
        assert_eq!(shown.get(..d).map(|t| t.chars().count()).unwrap_or(0) - map.extra_chars(0, d), 5);
    }

    #[test]
    fn shortens_by_characters() {
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("abcd", 3), "abc…");
        assert_eq!(shorten("東京都千代田区", 2), "東京…");
        assert_eq!(list(["a", "b", "c"].into_iter(), 2), "a, b, … and 1 more");
        assert_eq!(list(["a", "b"].into_iter(), 2), "a, b");
    }
}
