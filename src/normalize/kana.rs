//! Kana conversions and the K2 kana comparison key.
//!
//! Input → output: `&str` → `Cow<str>` ([`Cow::Borrowed`] when nothing changes), or a
//! character-class predicate.
//! Never: I/O, global state, panics, regexes; never makes small kana large (`キョウコ` and
//! `キヨウコ` keep different keys here; only the bank fold in `zengin` merges them); never
//! reads kanji (a kanji name has no kana key other than itself).
//!
//! The conversions are hand-written table code (the hiragana and katakana blocks differ by
//! exactly 0x60; half-width forms come from `width`). The `wana_kana` crate was evaluated
//! and is not needed: its job is romaji ↔ kana, which registry readings do not need, while
//! what we need (half-width composition, spacing `゛`, iteration marks, long-vowel
//! look-alikes, a borrowed fast path and one allocation per key) is outside its scope.

use std::borrow::Cow;

use unicode_normalization::char::decompose_canonical;

use super::width::{
    Lazy, Unit, compose_kana, for_each_unit, half_to_full, is_dash, is_invisible, push_mark, push_voicing,
};

/// True for hiragana U+3041–U+3096 and the iteration marks `ゝゞ` (U+309D–309E).
pub fn is_hiragana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{3096}' | '\u{309D}'..='\u{309E}')
}

/// True for full-width katakana letters U+30A1–U+30FA (`ァ`…`ヺ`, incl. `ヵヶヷヸヹヺ`),
/// the iteration marks `ヽヾ` and the small katakana extensions U+31F0–31FF.
/// Not `ー`, `・`, nor half-width katakana (fold them first).
pub fn is_katakana(c: char) -> bool {
    matches!(c, '\u{30A1}'..='\u{30FA}' | '\u{30FD}'..='\u{30FE}' | '\u{31F0}'..='\u{31FF}')
}

/// True for kanji: CJK unified ideographs (U+4E00–9FFF and extensions A–H in
/// U+3400–4DBF, U+20000–3FFFF), CJK compatibility ideographs (U+F900–FAFF, U+2F800–2FA1F),
/// and the kanji-like marks used in names `々` U+3005, `〆` U+3006, `〇` U+3007, `〻` U+303B.
/// `ヶ` is not included: it is a katakana letter (see [`is_katakana`]), although it is read
/// as a kanji in place names such as `関ヶ原`.
pub fn is_kanji(c: char) -> bool {
    matches!(
        c,
        '\u{4E00}'..='\u{9FFF}'
            | '\u{3400}'..='\u{4DBF}'
            | '\u{20000}'..='\u{3FFFF}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{3005}'..='\u{3007}'
            | '\u{303B}'
    )
}

/// Hiragana → katakana (`ゝゞ`→`ヽヾ`), half-width katakana → full-width with `ﾞﾟ` (and
/// `゛゜`, U+3099/309A) composed where a precomposed kana exists (`ｶﾞ`→`ガ`, `ｳﾞ`→`ヴ`).
/// Everything else is unchanged (full-width ASCII stays: use `width::fold_width` for that).
pub fn to_katakana(s: &str) -> Cow<'_, str> {
    convert(s, |c| match c {
        '\u{3041}'..='\u{3096}' | '\u{309D}'..='\u{309E}' => shift(c, 0x60, true),
        _ => c,
    })
}

/// Katakana → hiragana (`ヽヾ`→`ゝゞ`, `ヵヶ`→`ゕゖ`), half-width katakana → hiragana with
/// voicing composed (`ｶﾞ`→`が`). `ヷヸヹヺ`, `ー` and the small katakana extensions have no
/// hiragana and are kept.
pub fn to_hiragana(s: &str) -> Cow<'_, str> {
    convert(s, |c| match c {
        '\u{30A1}'..='\u{30F6}' | '\u{30FD}'..='\u{30FE}' => shift(c, 0x60, false),
        _ => c,
    })
}

fn shift(c: char, by: u32, up: bool) -> char {
    let u = c as u32;
    let v = if up { u.checked_add(by) } else { u.checked_sub(by) };
    v.and_then(char::from_u32).unwrap_or(c)
}

/// Shared body of [`to_katakana`] / [`to_hiragana`]: half-width kana and voicing marks go
/// through the width rules, every other character through `map` only.
fn convert(s: &str, map: impl Fn(char) -> char) -> Cow<'_, str> {
    let mut buf = Lazy::new(s);
    for (at, c) in s.char_indices() {
        match c {
            '\u{FF61}'..='\u{FF9D}' => {
                for_each_unit(c, |u| {
                    if let Unit::New(f) = u {
                        buf.push(at, map(f));
                    }
                });
            }
            '\u{FF9E}' | '\u{3099}' | '\u{309B}' => push_voicing(&mut buf, at, false, Some(c)),
            '\u{FF9F}' | '\u{309A}' | '\u{309C}' => push_voicing(&mut buf, at, true, Some(c)),
            _ => buf.emit(at, map(c), Some(c)),
        }
    }
    buf.finish()
}

/// Unvoiced base of a katakana letter (`ズ`→`ス`, `パ`→`ハ`, `ヴ`→`ウ`); itself otherwise.
fn unvoiced(c: char) -> char {
    let mut parts = [None, None];
    let mut n = 0;
    decompose_canonical(c, |d| {
        if let Some(slot) = parts.get_mut(n) {
            *slot = Some(d);
        }
        n += 1;
    });
    match parts {
        [Some(base), Some('\u{3099}' | '\u{309A}')] if n == 2 => base,
        _ => c,
    }
}

/// The K2 comparison key, in one pass with at most one allocation:
///
/// 1. `width::fold_width` (half-width → full-width with voicing composed, U+3000 → space …),
/// 2. invisible characters removed (`width::is_invisible`: variation selectors, zero-width
///    spaces, …; before composing, so `カ`+VS+`゛` → `ガ`),
/// 3. whitespace trimmed and every run collapsed to one U+0020,
/// 4. hiragana → katakana (`ゝゞ` → `ヽヾ`),
/// 5. a dash / wave look-alike (`ｰ － ‐ ― − ～ 〜 -` … every `width::is_dash`) right after a
///    katakana letter or `ー` becomes `ー`,
/// 6. iteration marks expanded: `ヽ` repeats the previous katakana unvoiced, `ヾ` voiced
///    (`スヾキ`→`スズキ`, `いすゞ`→`イスズ`; after a kana with no voiced form, the kana +
///    U+3099); at the start or after a non-kana they stay.
///
/// Small kana stay small; kanji, Latin and digits pass through folded by width only.
/// Idempotent. Equal keys mean "same kana spelling up to width, script and notation".
pub fn kana_key(s: &str) -> Cow<'_, str> {
    let mut k = KeyState { buf: Lazy::new(s), ws_start: None, ws_literal: false };
    for (at, c) in s.char_indices() {
        // Fast paths for the common characters of kana names (same result as `unit`).
        if k.ws_start.is_none() {
            match c {
                '\u{30A1}'..='\u{30FA}' | '\u{30FC}' | '\u{4E00}'..='\u{9FFF}' | 'A'..='Z' | 'a'..='z' => {
                    k.buf.keep(c);
                    continue;
                }
                '\u{3041}'..='\u{3096}' => {
                    k.buf.push(at, shift(c, 0x60, true));
                    continue;
                }
                '\u{FF61}'..='\u{FF9D}' => {
                    if let Some(full) = half_to_full(c) {
                        k.buf.push(at, full);
                        continue;
                    }
                }
                '\u{FF9E}' | '\u{FF9F}' => {
                    push_voicing(&mut k.buf, at, c == '\u{FF9F}', Some(c));
                    continue;
                }
                _ => {}
            }
        }
        for_each_unit(c, |u| k.unit(at, u));
    }
    k.finish()
}

struct KeyState<'a> {
    buf: Lazy<'a>,
    /// Byte offset where the pending whitespace run started.
    ws_start: Option<usize>,
    /// The pending run is exactly one literal U+0020 from the input.
    ws_literal: bool,
}

impl<'a> KeyState<'a> {
    fn unit(&mut self, at: usize, u: Unit) {
        let ch = match u {
            Unit::Same(c) | Unit::New(c) | Unit::Mark { ch: c, .. } => c,
            Unit::Voice { .. } => '\u{3099}',
        };
        if is_invisible(ch) {
            // Dropped; if a whitespace run is pending, materialize before it so the run is
            // re-emitted explicitly.
            match self.ws_start {
                Some(ws) => {
                    self.buf.skip(ws);
                    self.ws_literal = false;
                }
                None => self.buf.skip(at),
            }
            return;
        }
        if ch.is_whitespace() {
            match self.ws_start {
                None => {
                    self.ws_start = Some(at);
                    self.ws_literal = u == Unit::Same(' ');
                }
                Some(_) => self.ws_literal = false,
            }
            return;
        }
        self.flush_ws();
        match u {
            Unit::Voice { semi, input } => push_voicing(&mut self.buf, at, semi, input),
            Unit::Mark { ch, input } if !is_dash(ch) => push_mark(&mut self.buf, at, ch, input),
            Unit::Mark { ch, input } => self.letter(at, ch, input),
            Unit::Same(c) | Unit::New(c) => {
                let input = if matches!(u, Unit::Same(_)) { Some(c) } else { None };
                self.letter(at, c, input);
            }
        }
    }

    fn letter(&mut self, at: usize, c: char, input: Option<char>) {
        let k = match c {
            '\u{3041}'..='\u{3096}' | '\u{309D}'..='\u{309E}' => shift(c, 0x60, true),
            _ => c,
        };
        match k {
            '\u{30FD}' | '\u{30FE}' => {
                // The kana to repeat; a combining mark after it (`ッ゙`) is looked through.
                let prev = match self.buf.last2(at) {
                    (Some('\u{3099}' | '\u{309A}'), p) => p,
                    (p, _) => p,
                }
                .filter(|&p| matches!(p, '\u{30A1}'..='\u{30FA}'));
                match prev {
                    Some(p) => {
                        let base = unvoiced(p);
                        if k == '\u{30FD}' {
                            self.buf.push(at, base);
                        } else if let Some(v) = compose_kana(base, false) {
                            self.buf.push(at, v);
                        } else {
                            self.buf.push(at, base);
                            self.buf.push(at, '\u{3099}');
                        }
                    }
                    None => self.buf.emit(at, k, input),
                }
            }
            _ if k != '\u{30FC}' && is_dash(k) => {
                let after_kana = self
                    .buf
                    .last(at)
                    .is_some_and(|p| matches!(p, '\u{30A1}'..='\u{30FA}' | '\u{30FC}' | '\u{3099}' | '\u{309A}'));
                if after_kana {
                    self.buf.push(at, '\u{30FC}');
                } else {
                    self.buf.emit(at, k, input);
                }
            }
            _ => self.buf.emit(at, k, input),
        }
    }

    fn flush_ws(&mut self) {
        let Some(ws) = self.ws_start.take() else {
            return;
        };
        if self.buf.is_empty(ws) {
            self.buf.skip(ws); // leading whitespace
        } else if self.ws_literal {
            self.buf.keep(' ');
        } else {
            self.buf.push(ws, ' ');
        }
    }

    fn finish(mut self) -> Cow<'a, str> {
        if let Some(ws) = self.ws_start.take() {
            self.buf.skip(ws); // trailing whitespace
        }
        self.buf.finish()
    }
}

/// True iff [`kana_key`] of `s` is non-empty and consists only of katakana letters
/// (U+30A1–30FA), `ー`, `ヽヾ` (left at the start), `・`, and single spaces between parts.
///
/// `ﾔﾏﾀﾞ ﾀﾛｳ`, `やまだ　たろう`, `ヤマダ タロウ` → true; `山田`, `YAMADA`, `ヤマダ1` → false.
pub fn is_katakana_name(s: &str) -> bool {
    let key = kana_key(s);
    !key.is_empty()
        && key
            .chars()
            .all(|c| matches!(c, '\u{30A1}'..='\u{30FA}' | '\u{30FC}' | '\u{30FD}' | '\u{30FE}' | '\u{30FB}' | ' '))
        && key.chars().any(|c| matches!(c, '\u{30A1}'..='\u{30FA}'))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "tests may panic")]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(s: &str) -> String {
        kana_key(s).into_owned()
    }

    #[test]
    fn katakana_and_hiragana() {
        assert_eq!(to_katakana("やまだ　たろう"), "ヤマダ　タロウ");
        assert_eq!(to_katakana("いすゞ"), "イスヾ");
        assert_eq!(to_katakana("ｶﾞｯｺｳ"), "ガッコウ");
        assert_eq!(to_katakana("ｳﾞｧｲｵﾘﾝ"), "ヴァイオリン");
        assert_eq!(to_katakana("か\u{3099}"), "ガ");
        assert_eq!(to_katakana("ＡＢＣ山田"), "ＡＢＣ山田");
        assert!(matches!(to_katakana("ヤマダ 山田"), Cow::Borrowed(_)));
        assert_eq!(to_hiragana("ヤマダ タロウ"), "やまだ たろう");
        assert_eq!(to_hiragana("ｶﾞｯｺｳ"), "がっこう");
        assert_eq!(to_hiragana("ヽヾヵヶヴ"), "ゝゞゕゖゔ");
        assert_eq!(to_hiragana("ヷー"), "ヷー");
        assert!(matches!(to_hiragana("やまだ"), Cow::Borrowed(_)));
    }

    #[test]
    fn domain_2_3_offsets() {
        for u in 0x3041..=0x3096_u32 {
            let h = char::from_u32(u).unwrap();
            let k = char::from_u32(u + 0x60).unwrap();
            assert!(is_hiragana(h) && is_katakana(k));
            assert_eq!(to_katakana(&h.to_string()), k.to_string());
            assert_eq!(to_hiragana(&k.to_string()), h.to_string());
        }
    }

    #[test]
    fn key_basics() {
        assert_eq!(key("ﾔﾏﾀﾞ ﾀﾛｳ"), "ヤマダ タロウ");
        assert_eq!(key("やまだ　たろう"), "ヤマダ タロウ");
        assert_eq!(key("  ヤマダ\t\u{3000}タロウ "), "ヤマダ タロウ");
        assert!(matches!(kana_key("ヤマダ タロウ"), Cow::Borrowed(_)));
        assert!(matches!(kana_key("山田 太郎"), Cow::Borrowed(_)));
        assert_eq!(key("キョウコ"), "キョウコ"); // small stays small
        assert_ne!(key("キョウコ"), key("キヨウコ"));
        assert_eq!(key("カ゛ク"), "ガク");
        assert_eq!(key("か\u{3099}く"), "ガク");
        assert_eq!(key("カ\u{FE00}゛"), "ガ");
        assert_eq!(key("葛\u{E0100}西"), "葛西");
    }

    #[test]
    fn key_long_vowels() {
        for s in ["ｻｰﾄｳ", "サ－トウ", "サ‐トウ", "サ―トウ", "サ−トウ", "サ～トウ", "サ〜トウ", "さーとう", "サ-トウ"]
        {
            assert_eq!(key(s), "サートウ", "{s}");
        }
        assert_eq!(key("1-2"), "1-2");
        assert_eq!(key("ア--"), "アーー");
        assert_eq!(key("ア -"), "ア -");
        assert_eq!(key("-ア"), "-ア");
    }

    #[test]
    fn key_iteration_marks() {
        assert_eq!(key("スヾキ"), "スズキ");
        assert_eq!(key("すゞき"), "スズキ");
        assert_eq!(key("いすゞ"), "イスズ");
        assert_eq!(key("こゝろ"), "ココロ");
        assert_eq!(key("ズヽ"), "ズス");
        assert_eq!(key("パヾ"), "パバ");
        assert_eq!(key("アヾ"), "アア\u{3099}");
        assert_eq!(key("ヽ"), "ヽ");
        assert_eq!(key("山ヽ"), "山ヽ");
        assert_eq!(key("スヽ゛"), "スズ");
        assert_eq!(key("々"), "々");
    }

    #[test]
    fn katakana_name() {
        for s in ["ﾔﾏﾀﾞ ﾀﾛｳ", "やまだ　たろう", "ヤマダ タロウ", "ジョーンズ・マイケル", "ｽｽﾞｷ", "いすゞ"]
        {
            assert!(is_katakana_name(s), "{s}");
        }
        for s in ["山田", "YAMADA", "ヤマダ1", "", "   ", "ー", "ヤマダ\u{3099}"] {
            assert!(!is_katakana_name(s), "{s}");
        }
    }

    #[test]
    fn kanji_classes() {
        for c in ['山', '𠮷', '\u{FA10}', '々', '〆', '\u{3400}', '\u{2F800}'] {
            assert!(is_kanji(c), "{c}");
        }
        for c in ['ヶ', 'あ', 'ア', 'A', '・'] {
            assert!(!is_kanji(c), "{c}");
        }
    }

    fn kanaish() -> impl Strategy<Value = String> {
        let pieces = prop_oneof![
            Just("ｶ"),
            Just("ﾞ"),
            Just("ﾟ"),
            Just("ｱ"),
            Just("゛"),
            Just("゜"),
            Just("\u{3099}"),
            Just("\u{309A}"),
            Just("か"),
            Just("ハ"),
            Just("ヽ"),
            Just("ヾ"),
            Just("ゝ"),
            Just("ゞ"),
            Just(" "),
            Just("  "),
            Just("\u{3000}"),
            Just("\u{FE00}"),
            Just("\u{E0100}"),
            Just("𠮷"),
            Just("ー"),
            Just("-"),
            Just("～"),
            Just("〜"),
            Just("ｰ"),
            Just("\t"),
            Just("ウ"),
            Just("ア"),
            Just("ッ"),
            Just("ヰ"),
            Just("山"),
            Just("1"),
            Just("¨"),
            Just("\u{301}"),
            Just("e"),
            Just("パ"),
            Just("ズ"),
            Just("・"),
            Just("\0"),
        ];
        prop::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn key_idempotent_kana(s in kanaish()) {
            let once = key(&s);
            prop_assert_eq!(key(&once), once.clone());
            prop_assert_eq!(matches!(kana_key(&s), Cow::Borrowed(_)), once == s);
            let k = to_katakana(&s).into_owned();
            prop_assert_eq!(to_katakana(&k).into_owned(), k);
            let h = to_hiragana(&s).into_owned();
            prop_assert_eq!(to_hiragana(&h).into_owned(), h);
            let _ = is_katakana_name(&s);
        }

        #[test]
        fn key_idempotent_any(s in any::<String>()) {
            let once = key(&s);
            prop_assert_eq!(key(&once), once.clone());
            let k = to_katakana(&s).into_owned();
            prop_assert_eq!(to_katakana(&k).into_owned(), k);
            let h = to_hiragana(&s).into_owned();
            prop_assert_eq!(to_hiragana(&h).into_owned(), h);
        }
    }

    #[test]
    fn long_input() {
        let s = "ｶﾞ\u{3099}\u{E0100}𠮷\0 ヽ".repeat(1500);
        let once = key(&s);
        assert_eq!(key(&once), once);
    }
}
