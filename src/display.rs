//! Text quoted back to people in messages: cut to a length, so that a 20 MB header line or a
//! 10,000-term expression is named rather than repeated.
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

/// Up to `max` items of a list, each shortened to [`QUOTED_CHARS`], joined by `, `, with the
/// number of the items left out (`a, b, … and 59,998 more`).
pub fn list<'a>(items: impl ExactSizeIterator<Item = &'a str>, max: usize) -> String {
    let total = items.len();
    let mut out: Vec<Cow<'_, str>> = items.take(max).map(|s| shorten(s, QUOTED_CHARS)).collect();
    if total > max {
        out.push(Cow::Owned(format!("… and {} more", total - max)));
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortens_by_characters() {
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("abcd", 3), "abc…");
        assert_eq!(shorten("東京都千代田区", 2), "東京…");
        assert_eq!(list(["a", "b", "c"].into_iter(), 2), "a, b, … and 1 more");
        assert_eq!(list(["a", "b"].into_iter(), 2), "a, b");
    }
}
