//! Width, whitespace, dash and variation-selector folds for Japanese text.
//!
//! Input → output: `&str` → `Cow<str>`, [`Cow::Borrowed`] whenever nothing changes
//! (one scan, at most one allocation).
//! Never: I/O, global mutable state, panics, regexes; never erases CJK compatibility
//! ideographs (`塚` U+FA10 stays U+FA10, unlike NFC/NFKC) and never turns a voicing
//! mark into a space (unlike NFKC on `゛`).
//!
//! # [`fold_width`] versus NFKC
//!
//! `fold_width` is "NFKC, made safe for names". Per input character:
//!
//! | input | NFKC | `fold_width` |
//! |---|---|---|
//! | full-width ASCII U+FF01–FF5E | ASCII | same |
//! | U+3000 ideographic space | U+0020 | same |
//! | half-width katakana `ｶﾞ` `ﾊﾟ` `ｳﾞ` | `ガ` `パ` `ヴ` | same |
//! | `ｱﾞ` (no precomposed form) | `ア` U+3099 | same |
//! | `゛`/`゜` U+309B/C after a kana | U+0020 + U+3099/309A (a space inside the name) | composed (`カ゛`→`ガ`), or kana + U+3099/309A when no precomposed form exists |
//! | `゛`/`゜`/`ﾞ`/`ﾟ`/U+3099/U+309A not after a kana | U+0020+mark / U+3099 | spacing `゛`/`゜` U+309B/C |
//! | U+0020 + U+3099/309A after a kana (what NFKC produced from `゛`) | unchanged | repaired: composed as above |
//! | CJK compatibility ideographs U+F900–FAFF, U+2F800–2FA1F | unified ideograph (glyph erased) | **unchanged** |
//! | kana, kanji, `ゝゞヽヾ`, CJK unified ideographs | unchanged | unchanged |
//! | `ゟ` `ヿ` | `より` `コト` | same (via NFKC) |
//! | any other character that is not NFKC (`①`, `㈱`, `㍻`, `⼀`, `℡`, `Ⅳ`, U+00A0) | its NFKC form | same (per character) |
//! | a combining mark after a base it composes with (`e`+U+0301) | composed | composed (canonical pair composition only; no reordering of marks) |
//!
//! Everything else (variation selectors, private use, dashes such as U+2212, `〒`) is left
//! as is: see [`fold_dashes`] and [`strip_invisible`] for those.

use std::borrow::Cow;

use unicode_normalization::char::compose;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// Plain Unicode NFKC; [`Cow::Borrowed`] when `s` is already NFKC.
///
/// Beware: NFKC erases CJK compatibility ideographs and turns `゛` into a space plus
/// a combining mark; prefer [`fold_width`] for names.
pub fn nfkc(s: &str) -> Cow<'_, str> {
    match is_nfkc_quick(s.chars()) {
        IsNormalized::Yes => Cow::Borrowed(s),
        IsNormalized::No | IsNormalized::Maybe => {
            let out: String = s.nfkc().collect();
            if out == s { Cow::Borrowed(s) } else { Cow::Owned(out) }
        }
    }
}

/// The safe width fold (see the module documentation for the exact differences from NFKC).
///
/// `ＡＢＣ１２３`→`ABC123`, `ﾔﾏﾀﾞ　ﾀﾛｳ`→`ヤマダ タロウ`, `カ゛`→`ガ`, `塚` (U+FA10) unchanged.
pub fn fold_width(s: &str) -> Cow<'_, str> {
    // Most text (ASCII, kana, kanji) is its own fold: skip the prefix that is.
    let start = unchanged_prefix(s);
    let Some(todo) = s.get(start..).filter(|t| !t.is_empty()) else {
        return Cow::Borrowed(s);
    };
    let mut buf = Lazy::new(s);
    for (i, c) in todo.char_indices() {
        let at = start + i;
        for_each_unit(c, |unit| match unit {
            Unit::Same(ch) => buf.keep(ch),
            Unit::New(ch) => buf.push(at, ch),
            Unit::Mark { ch, input } => push_mark(&mut buf, at, ch, input),
            Unit::Voice { semi, input } => push_voicing(&mut buf, at, semi, input),
        });
    }
    buf.finish()
}

/// The byte length of the longest prefix of `s` whose characters [`for_each_unit`] keeps as
/// they are (`Unit::Same`): ASCII, kana other than the voicing marks, CJK ideographs, Hangul
/// syllables. Such characters never combine with what follows them in the fold either, so
/// folding may start after the prefix.
#[inline]
fn unchanged_prefix(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(&lead) = b.get(i) {
        if lead < 0x80 {
            i += 1;
        } else if (0xE5..=0xE9).contains(&lead) {
            // U+5000–9FFF: CJK unified ideographs, kept.
            i += 3;
        } else if lead & 0xF0 == 0xE0 {
            // Three bytes (kana, kanji): decode by hand; `s` is valid UTF-8.
            let cont = |k: usize| u32::from(b.get(i + k).copied().unwrap_or(0) & 0x3F);
            let u = (u32::from(lead & 0x0F) << 12) | (cont(1) << 6) | cont(2);
            if !char::from_u32(u).is_some_and(is_same_unit) {
                break;
            }
            i += 3;
        } else {
            let Some(c) = s.get(i..).and_then(|t| t.chars().next()) else { break };
            if !is_same_unit(c) {
                break;
            }
            i += c.len_utf8();
        }
    }
    i
}

/// True when [`for_each_unit`] keeps a non-ASCII `c` as it is (`Unit::Same(c)`).
#[inline]
fn is_same_unit(c: char) -> bool {
    matches!(
        c as u32,
        0x3041..=0x3098
            | 0x309D..=0x309E
            | 0x30A0..=0x30FE
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0x20000..
    )
}

/// Every dash, hyphen, minus and long-vowel look-alike → ASCII `-`.
///
/// The set: the 18 characters geolonia folds (U+002D, U+FF0D, U+FE63, U+2212, U+2010,
/// U+2043, U+2011, U+2012, U+2013, U+2014, U+FE58, U+2015, U+23AF, U+23E4, `ー` U+30FC,
/// `ｰ` U+FF70, U+2500, U+2501) plus the waves `〜` U+301C, `～` U+FF5E, `~`, `⁓` U+2053 and
/// `〰` U+3030. Callers decide where this is safe (it erases `ー` in names).
pub fn fold_dashes(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '-' && is_dash(c)) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().map(|c| if is_dash(c) { '-' } else { c }).collect())
}

/// Hyphen look-alikes that separate numbers: exactly geolonia's 18 (DOMAIN §3.3), `-`
/// included. Narrower than [`is_dash`], which also folds the waves `〜`/`～`/`~` (ranges).
pub fn is_hyphen(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{FF0D}'
            | '\u{FE63}'
            | '\u{2212}'
            | '\u{2010}'
            | '\u{2043}'
            | '\u{2011}'
            | '\u{2012}'
            | '\u{2013}'
            | '\u{2014}'
            | '\u{FE58}'
            | '\u{2015}'
            | '\u{23AF}'
            | '\u{23E4}'
            | '\u{30FC}'
            | '\u{FF70}'
            | '\u{2500}'
            | '\u{2501}'
    )
}

/// True for every character [`fold_dashes`] maps to `-` (including `-` itself): the hyphens
/// of [`is_hyphen`] and the waves.
pub fn is_dash(c: char) -> bool {
    is_hyphen(c) || matches!(c, '\u{301C}' | '\u{FF5E}' | '~' | '\u{2053}' | '\u{3030}')
}

/// Trim, and turn every run of Unicode whitespace (U+3000, tabs, newlines, NBSP …) into
/// one U+0020.
pub fn collapse_whitespace(s: &str) -> Cow<'_, str> {
    let mut prev_space = true; // true at the start: a leading space is a change
    let mut clean = true;
    for c in s.chars() {
        if c.is_whitespace() {
            if prev_space || c != ' ' {
                clean = false;
                break;
            }
            prev_space = true;
        } else {
            prev_space = false;
        }
    }
    if clean && (s.is_empty() || !prev_space) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    Cow::Owned(out)
}

/// Remove every Unicode whitespace character (including U+3000).
pub fn remove_whitespace(s: &str) -> Cow<'_, str> {
    let Some(first) = s.find(char::is_whitespace) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len());
    out.push_str(s.get(..first).unwrap_or(""));
    out.extend(s.get(first..).unwrap_or("").chars().filter(|c| !c.is_whitespace()));
    Cow::Owned(out)
}

/// Remove the characters that are not drawn ([`is_invisible`]): variation selectors
/// (`葛`+U+E0100 → `葛`), zero-width spaces and joiners, the word joiner, soft hyphens, bidi
/// controls. Two names that look the same then have the same key.
pub fn strip_invisible(s: &str) -> Cow<'_, str> {
    if !may_hold_invisible(s) || !s.chars().any(is_invisible) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().filter(|&c| !is_invisible(c)).collect())
}

/// Whether `s` may hold an [`is_invisible`] character, from its bytes: each one is encoded
/// with one of a few first two bytes, and kana, kanji and full-width forms never start that
/// way. Runs for every address and name, so it looks at bytes, not characters.
#[inline]
fn may_hold_invisible(s: &str) -> bool {
    let b = s.as_bytes();
    let (first, second) = &INVISIBLE_PAIRS;
    let hit = |x: u8, y: u8| {
        first.get(usize::from(x)).copied().unwrap_or(0) & second.get(usize::from(y)).copied().unwrap_or(0) != 0
    };
    // First without a branch per byte (a `match` on every byte of kana text mispredicts): each
    // pair of bytes is looked up in the two tables. Only text with a hit is looked at again.
    let hits = b.iter().zip(b.iter().skip(1)).fold(false, |acc, (&x, &y)| acc | hit(x, y));
    hits && b.iter().zip(b.iter().skip(1)).enumerate().any(|(i, (&x, &y))| {
        // Full-width forms and half-width kana start with EF too: the third byte decides.
        hit(x, y)
            && (x != 0xEF
                || matches!(
                    (y, b.get(i + 2).copied().unwrap_or(0)),
                    (0xB8, 0x80..=0x8F) | (0xBB, 0xBF) | (0xBE, 0xA0) | (0xBF, 0xB0..=0xB8)
                ))
    })
}

/// The first two bytes of the encodings of the [`is_invisible`] characters, as two tables of
/// bit sets: bit `k` is set in the first table at byte `x` when `x` is the `k`th first byte
/// below, and in the second table at byte `y` when `y` may follow it.
#[allow(clippy::indexing_slicing, reason = "computed while compiling: an index out of range fails the build")]
static INVISIBLE_PAIRS: ([u16; 256], [u16; 256]) = {
    const STARTS: [(u8, &[u8]); 9] = [
        (0xC2, &[0xAD]),
        (0xCD, &[0x8F]),
        (0xD8, &[0x9C]),
        (0xE1, &[0x85, 0x9E, 0xA0]),
        (0xE2, &[0x80, 0x81]),
        (0xE3, &[0x85]),
        (0xEF, &[0xB8, 0xBB, 0xBE, 0xBF]),
        (0xF0, &[0x9B, 0x9D]),
        (0xF3, &[0xA0]),
    ];
    let mut first = [0u16; 256];
    let mut second = [0u16; 256];
    let mut k = 0;
    while k < STARTS.len() {
        let (lead, next) = STARTS[k];
        first[lead as usize] |= 1 << k;
        let mut j = 0;
        while j < next.len() {
            second[next[j] as usize] |= 1 << k;
            j += 1;
        }
        k += 1;
    }
    (first, second)
};

/// True for the Unicode default-ignorable code points (DerivedCoreProperties.txt,
/// `Default_Ignorable_Code_Point`): characters a screen does not draw, so that a name holding
/// one looks exactly like the name without it. Variation selectors (U+FE00–FE0F,
/// U+E0100–E01EF), the soft hyphen U+00AD, zero-width space, non-joiner and joiner
/// U+200B–200D, the direction marks U+200E–200F and controls U+202A–202E and U+2066–2069, the
/// word joiner U+2060 and invisible operators, the byte-order mark U+FEFF, Hangul fillers,
/// and the rest of the property.
#[inline]
pub fn is_invisible(c: char) -> bool {
    // Most text is ASCII, kana or kanji: decided by one comparison (U+3164 is the one
    // invisible character between the kana and the end of the CJK ideographs).
    let u = c as u32;
    if u < 0x00AD || ((0x3040..=0x9FFF).contains(&u) && u != 0x3164) {
        return false;
    }
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}'..='\u{1160}' | '\u{17B4}'..='\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}'
        | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

// ---------------------------------------------------------------------------------------
// Building blocks shared with kana.rs and zengin.rs (one-pass folds).

/// Full-width forms of the half-width katakana block U+FF61–FF9D (Unicode NFKC data).
const HALF_TO_FULL: [char; 61] = [
    '\u{3002}', '\u{300C}', '\u{300D}', '\u{3001}', '\u{30FB}', '\u{30F2}', '\u{30A1}', '\u{30A3}', '\u{30A5}',
    '\u{30A7}', '\u{30A9}', '\u{30E3}', '\u{30E5}', '\u{30E7}', '\u{30C3}', '\u{30FC}', '\u{30A2}', '\u{30A4}',
    '\u{30A6}', '\u{30A8}', '\u{30AA}', '\u{30AB}', '\u{30AD}', '\u{30AF}', '\u{30B1}', '\u{30B3}', '\u{30B5}',
    '\u{30B7}', '\u{30B9}', '\u{30BB}', '\u{30BD}', '\u{30BF}', '\u{30C1}', '\u{30C4}', '\u{30C6}', '\u{30C8}',
    '\u{30CA}', '\u{30CB}', '\u{30CC}', '\u{30CD}', '\u{30CE}', '\u{30CF}', '\u{30D2}', '\u{30D5}', '\u{30D8}',
    '\u{30DB}', '\u{30DE}', '\u{30DF}', '\u{30E0}', '\u{30E1}', '\u{30E2}', '\u{30E4}', '\u{30E6}', '\u{30E8}',
    '\u{30E9}', '\u{30EA}', '\u{30EB}', '\u{30EC}', '\u{30ED}', '\u{30EF}', '\u{30F3}',
];

/// Full-width form of a half-width katakana or half-width CJK punctuation character
/// (U+FF61–FF9D); `None` for anything else (including `ﾞ` `ﾟ`).
#[inline]
pub(super) fn half_to_full(c: char) -> Option<char> {
    let i = (c as u32).checked_sub(0xFF61)?;
    HALF_TO_FULL.get(usize::try_from(i).ok()?).copied()
}

/// Half-width form of a full-width katakana letter that JIS X 0201 has (`ア`→`ｱ`, `ッ`→`ｯ`,
/// `ー`→`ｰ`, `・`→`･`, `。「」、`); `None` otherwise (voiced kana, `ヵヶヰヱヮヽヾ`).
pub(super) fn full_to_half(c: char) -> Option<char> {
    let pos = HALF_TO_FULL.iter().position(|&f| f == c)?;
    char::from_u32(0xFF61 + u32::try_from(pos).ok()?)
}

/// A piece of the width fold of one input character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Unit {
    /// The input character, unchanged and never the second half of a composition.
    Same(char),
    /// A replacement character that never composes with what precedes it.
    New(char),
    /// A character that may compose with the previous output character (a combining mark
    /// or Hangul vowel/trailing jamo); `input` is the input character when it is kept 1:1.
    Mark { ch: char, input: Option<char> },
    /// A (semi-)voicing mark in any of its six forms; `input` as for `Mark`.
    Voice { semi: bool, input: Option<char> },
}

/// Calls `f` with the width-fold units of `c`, in order (usually exactly one).
#[inline]
pub(super) fn for_each_unit(c: char, mut f: impl FnMut(Unit)) {
    let u = c as u32;
    if u < 0x80 {
        return f(Unit::Same(c));
    }
    match u {
        0x3000 => f(Unit::New(' ')),
        0xFF01..=0xFF5E => match char::from_u32(u - 0xFEE0) {
            Some(a) => f(Unit::New(a)),
            None => f(Unit::Same(c)),
        },
        0xFF61..=0xFF9D => match half_to_full(c) {
            Some(full) => f(Unit::New(full)),
            None => f(Unit::Same(c)),
        },
        0xFF9E | 0x3099 | 0x309B => f(Unit::Voice { semi: false, input: Some(c) }),
        0xFF9F | 0x309A | 0x309C => f(Unit::Voice { semi: true, input: Some(c) }),
        // Kana (ゟ U+309F and ヿ U+30FF go through NFKC), CJK ideographs, compatibility
        // ideographs (protected), Hangul syllables, everything in planes 2 and above.
        _ if is_same_unit(c) => f(Unit::Same(c)),
        _ => {
            if is_nfkc_quick(std::iter::once(c)) == IsNormalized::No {
                for d in std::iter::once(c).nfkc() {
                    f(classify_nfkc_output(d));
                }
            } else {
                f(Unit::Mark { ch: c, input: Some(c) });
            }
        }
    }
}

fn classify_nfkc_output(d: char) -> Unit {
    match d {
        '\u{3099}' => Unit::Voice { semi: false, input: None },
        '\u{309A}' => Unit::Voice { semi: true, input: None },
        '\0'..='\u{7F}' | '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}' | '\u{4E00}'..='\u{9FFF}' => Unit::New(d),
        _ => Unit::Mark { ch: d, input: None },
    }
}

/// True for a kana letter a voicing mark may follow: hiragana U+3041–3096, `ゝゞ`, katakana
/// U+30A1–30FA, `ヽヾ`, small katakana extensions U+31F0–31FF. Not `ー`.
pub(super) fn is_kana_letter(c: char) -> bool {
    matches!(
        c,
        '\u{3041}'..='\u{3096}'
            | '\u{309D}'..='\u{309E}'
            | '\u{30A1}'..='\u{30FA}'
            | '\u{30FD}'..='\u{30FE}'
            | '\u{31F0}'..='\u{31FF}'
    )
}

/// The precomposed kana for `base` + (semi-)voicing mark (`カ`→`ガ`, `ハ`→`パ`, `ウ`→`ヴ`,
/// `ワ`→`ヷ`, `ゝ`→`ゞ`), exactly Unicode's canonical compositions with U+3099/U+309A
/// (only kana have any), as a table instead of a hash lookup.
#[inline]
pub(super) fn compose_kana(base: char, semi: bool) -> Option<char> {
    let u = base as u32;
    let hira = (0x3041..=0x309E).contains(&u);
    let k = if hira { u + 0x60 } else { u };
    let voiced = match k {
        0x30CF..=0x30DB if (k - 0x30CF) % 3 == 0 => Some(if semi { k + 2 } else { k + 1 }),
        _ if semi => None,
        0x30AB..=0x30C1 if (k - 0x30AB) % 2 == 0 => Some(k + 1),
        0x30C4 | 0x30C6 | 0x30C8 => Some(k + 1),
        0x30A6 => Some(0x30F4),
        0x30EF..=0x30F2 if !hira => Some(k + 8),
        0x30FD => Some(0x30FE),
        _ => None,
    }?;
    char::from_u32(if hira { voiced - 0x60 } else { voiced })
}

/// Pushes a possibly-composing character: composed with the previous output character
/// when Unicode has a canonical composition for the pair.
pub(super) fn push_mark(buf: &mut Lazy<'_>, at: usize, ch: char, input: Option<char>) {
    if let Some(x) = buf.last(at).and_then(|l| compose(l, ch)) {
        buf.pop(at);
        buf.push(at, x);
    } else {
        buf.emit(at, ch, input);
    }
}

/// Pushes a (semi-)voicing mark: composed into the previous kana where a precomposed
/// character exists, the combining form after any other kana letter, the spacing form
/// (`゛`/`゜`) elsewhere. A U+0020 between a kana and a combining mark (NFKC's rendering
/// of `゛`) is removed first.
#[inline]
pub(super) fn push_voicing(buf: &mut Lazy<'_>, at: usize, semi: bool, input: Option<char>) {
    let (combining, spacing) = if semi { ('\u{309A}', '\u{309C}') } else { ('\u{3099}', '\u{309B}') };
    if input == Some(combining) || input.is_none() {
        let (l1, l2) = buf.last2(at);
        if l1 == Some(' ') && l2.is_some_and(is_kana_letter) {
            buf.pop(at);
        }
    }
    match buf.last(at) {
        Some(l) => {
            if let Some(x) = compose_kana(l, semi) {
                buf.pop(at);
                buf.push(at, x);
            } else if is_kana_letter(l) {
                buf.emit(at, combining, input);
            } else {
                buf.emit(at, spacing, input);
            }
        }
        None => buf.emit(at, spacing, input),
    }
}

/// Copy-on-write output buffer: while nothing has changed, the output is the prefix
/// `src[..at]` of the input and nothing is allocated.
pub(super) struct Lazy<'a> {
    src: &'a str,
    out: Option<String>,
}

impl<'a> Lazy<'a> {
    pub(super) fn new(src: &'a str) -> Self {
        Lazy { src, out: None }
    }

    /// The output buffer, created from `src[..at]` on first use.
    #[cold]
    pub(super) fn materialize(&mut self, at: usize) -> &mut String {
        let src = self.src;
        self.out.get_or_insert_with(|| {
            let mut o = String::with_capacity(src.len() + 8);
            o.push_str(src.get(..at).unwrap_or(src));
            o
        })
    }

    /// Keeps the current input character `c` (which starts at the current position).
    #[inline]
    pub(super) fn keep(&mut self, c: char) {
        if let Some(o) = &mut self.out {
            o.push(c);
        }
    }

    /// Pushes a character that differs from the input.
    #[inline(always)]
    pub(super) fn push(&mut self, at: usize, c: char) {
        match &mut self.out {
            Some(o) => o.push(c),
            None => self.materialize(at).push(c),
        }
    }

    /// Keeps `ch` if it is the input character itself, else pushes it.
    #[inline]
    pub(super) fn emit(&mut self, at: usize, ch: char, input: Option<char>) {
        if input == Some(ch) {
            self.keep(ch);
        } else {
            self.push(at, ch);
        }
    }

    /// Drops the current input character.
    pub(super) fn skip(&mut self, at: usize) {
        self.materialize(at);
    }

    #[inline]
    fn view(&self, at: usize) -> &str {
        match &self.out {
            Some(o) => o,
            None => self.src.get(..at).unwrap_or(""),
        }
    }

    /// The last output character.
    #[inline]
    pub(super) fn last(&self, at: usize) -> Option<char> {
        self.view(at).chars().next_back()
    }

    /// The last output character and the one before it.
    pub(super) fn last2(&self, at: usize) -> (Option<char>, Option<char>) {
        let mut it = self.view(at).chars().rev();
        let l1 = it.next();
        (l1, it.next())
    }

    /// True when nothing has been output yet.
    pub(super) fn is_empty(&self, at: usize) -> bool {
        self.view(at).is_empty()
    }

    /// Removes the last output character.
    #[inline]
    pub(super) fn pop(&mut self, at: usize) -> Option<char> {
        match &mut self.out {
            Some(o) => o.pop(),
            None => self.materialize(at).pop(),
        }
    }

    pub(super) fn finish(self) -> Cow<'a, str> {
        match self.out {
            Some(o) => Cow::Owned(o),
            None => Cow::Borrowed(self.src),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "tests may panic")]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fw(s: &str) -> String {
        fold_width(s).into_owned()
    }

    #[test]
    fn nfkc_is_plain_nfkc() {
        assert!(matches!(nfkc("ヤマダ"), Cow::Borrowed(_)));
        assert_eq!(nfkc("ｶﾞ"), "ガ");
        assert_eq!(nfkc("ｱﾞ"), "ア\u{3099}");
        assert_eq!(nfkc("カ゛"), "カ \u{3099}");
        assert_eq!(nfkc("\u{FA10}"), "\u{585A}");
        assert_eq!(nfkc("㈱"), "(株)");
    }

    #[test]
    fn unchanged_prefix_is_in_step_with_the_fold() {
        for u in 0x80..0x3_0000u32 {
            let Some(c) = char::from_u32(u) else { continue };
            let mut units = Vec::new();
            for_each_unit(c, |unit| units.push(unit));
            assert_eq!(is_same_unit(c), units == [Unit::Same(c)], "U+{u:04X}");
            assert_eq!(unchanged_prefix(&format!("{c}a")) == c.len_utf8() + 1, is_same_unit(c), "U+{u:04X}");
        }
        assert_eq!(unchanged_prefix("abc山田ヤマダ"), "abc山田ヤマダ".len());
        assert_eq!(unchanged_prefix("山田ｶﾞ"), "山田".len());
        assert_eq!(unchanged_prefix("カ\u{3099}"), "カ".len());
        assert!(matches!(fold_width("東京都千代田区永田町1-7-1"), Cow::Borrowed(_)));
        assert_eq!(fw("山田１２"), "山田12");
    }

    #[test]
    fn domain_2_1_vectors() {
        assert_eq!(fw("ｶﾞ"), "ガ");
        assert_eq!(fw("ﾊﾟ"), "パ");
        assert_eq!(fw("ｳﾞ"), "ヴ");
        assert_eq!(fw("ﾜﾞ"), "ヷ");
        assert_eq!(fw("ｱﾞ"), "ア\u{3099}");
        assert_eq!(fw("カ゛"), "ガ"); // NFKC would give "カ ゙"
        assert_eq!(fw("ハ゜"), "パ");
        assert_eq!(fw("か\u{3099}"), "が");
        assert_eq!(fw("ｯｬｰ"), "ッャー");
        assert_eq!(fw("ｹ"), "ケ");
        assert_eq!(fw("ヶヵ"), "ヶヵ");
        assert_eq!(fw("ゟヿ"), "よりコト");
        assert_eq!(fw("々〻ゝゞヽヾ"), "々〻ゝゞヽヾ");
        assert_eq!(fw("ヰヱゐゑ"), "ヰヱゐゑ");
        assert_eq!(fw("\u{3000}"), " ");
        assert_eq!(fw("･"), "・");
        assert_eq!(fw("·•"), "·•");
        assert_eq!(fw("－～"), "-~");
        assert_eq!(fw("−‐–—―─━〜ー"), "−‐–—―─━〜ー");
        assert_eq!(fw("‑"), "‐");
        assert_eq!(fw("㈱㍿㈲㋿㍻"), "(株)株式会社(有)令和平成");
        assert_eq!(fw("①Ⅳ⑴⒈℡№㌢㊤〒"), "1IV(1)1.TELNoセンチ上〒");
        assert_eq!(fw("\u{2F00}\u{2F47}\u{2E9F}"), "一日母");
        assert_eq!(fw("ＡＢＣ１２３"), "ABC123");
    }

    #[test]
    fn compatibility_ideographs_are_kept() {
        for c in [
            "\u{FA10}",
            "\u{FA19}",
            "\u{FA1B}",
            "\u{FA26}",
            "\u{FA2C}",
            "\u{F9DC}",
            "\u{F929}",
            "\u{FA12}",
            "\u{FA11}",
            "\u{2F800}",
        ] {
            assert!(matches!(fold_width(c), Cow::Borrowed(_)), "{c}");
        }
    }

    #[test]
    fn voicing_marks_never_become_spaces() {
        assert_eq!(fw("ア゛"), "ア\u{3099}");
        assert_eq!(fw("゛"), "゛");
        assert_eq!(fw("ﾞ"), "゛");
        assert_eq!(fw("\u{3099}"), "゛");
        assert_eq!(fw("A゜"), "A゜");
        assert_eq!(fw("ｽﾞｽﾞｷ"), "ズズキ");
        // NFKC artefact repaired
        assert_eq!(fw("カ \u{3099}"), "ガ");
        assert_eq!(fw(&nfkc("スズキ カ゛ク")), "スズキ ガク");
        assert_eq!(fw("ヽ゛"), "ヾ");
        assert_eq!(fw("ゝ\u{3099}"), "ゞ");
    }

    #[test]
    fn borrowed_when_unchanged() {
        for s in ["", "山田 太郎", "ヤマダ タロウ", "abc", "ア\u{3099}", "葛\u{E0100}", "𠮷野"] {
            assert!(matches!(fold_width(s), Cow::Borrowed(_)), "{s}");
        }
        assert!(matches!(fold_dashes("a-b"), Cow::Borrowed(_)));
        assert!(matches!(collapse_whitespace("a b"), Cow::Borrowed(_)));
        assert!(matches!(remove_whitespace("ab"), Cow::Borrowed(_)));
        assert!(matches!(strip_invisible("葛"), Cow::Borrowed(_)));
    }

    #[test]
    fn compose_kana_matches_unicode() {
        let bases = (0x3000..=0x30FF_u32).chain(0x31F0..=0x31FF).chain([0x41, 0x4E00]);
        for u in bases {
            let c = char::from_u32(u).unwrap();
            assert_eq!(compose_kana(c, false), compose(c, '\u{3099}'), "{c}");
            assert_eq!(compose_kana(c, true), compose(c, '\u{309A}'), "{c}");
        }
    }

    #[test]
    fn latin_combining_composes() {
        assert_eq!(fw("e\u{301}"), "é");
        assert_eq!(fw("\u{1100}\u{1161}"), "가");
    }

    #[test]
    fn dashes() {
        let all = "-－﹣−‐⁃‑‒–—﹘―⎯⏤ーｰ─━〜～~⁓〰";
        assert_eq!(fold_dashes(all), "-".repeat(all.chars().count()));
        assert_eq!(fold_dashes("1丁目2−3"), "1丁目2-3");
        assert_eq!(fold_dashes("一"), "一");
    }

    #[test]
    fn whitespace() {
        assert_eq!(collapse_whitespace("  山田\u{3000}\u{3000}太郎\t "), "山田 太郎");
        assert_eq!(collapse_whitespace(" "), "");
        assert_eq!(collapse_whitespace("a\u{3000}b"), "a b");
        assert_eq!(collapse_whitespace("a  b"), "a b");
        assert_eq!(collapse_whitespace("a "), "a");
        assert_eq!(remove_whitespace(" 山田\u{3000}太郎 "), "山田太郎");
        assert_eq!(strip_invisible("葛\u{E0100}飾\u{FE00}"), "葛飾");
        // Zero-width space, word joiner, zero-width joiner, BOM, soft hyphen, bidi override.
        assert_eq!(strip_invisible("山\u{200B}田\u{2060}太\u{200D}郎\u{FEFF}\u{00AD}\u{202E}"), "山田太郎");
        // The byte filter lets every invisible character through, and stops kana and kanji.
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32).filter(|&c| is_invisible(c)) {
            assert!(may_hold_invisible(&format!("a{c}b")), "U+{:04X}", c as u32);
        }
        assert!(!may_hold_invisible("東京都千代田区永田町１丁目ヤマダ ﾀﾛｳ ＡＢＣ"));
        // The tables answer as the byte filter they replace, written out here as it was, for
        // every character: between kana, after half-width kana (their first byte, EF, is one
        // the tables look for), and twice.
        let by_match = |b: &[u8]| {
            b.iter().zip(b.iter().skip(1)).enumerate().any(|(i, (&x, &y))| match x {
                0xC2 => y == 0xAD,
                0xCD => y == 0x8F,
                0xD8 => y == 0x9C,
                0xE1 => matches!(y, 0x85 | 0x9E | 0xA0),
                0xE2 => matches!(y, 0x80 | 0x81),
                0xE3 => y == 0x85,
                0xEF => {
                    let z = b.get(i + 2).copied().unwrap_or(0);
                    matches!((y, z), (0xB8, 0x80..=0x8F) | (0xBB, 0xBF) | (0xBE, 0xA0) | (0xBF, 0xB0..=0xB8))
                }
                0xF0 => matches!(y, 0x9B | 0x9D),
                0xF3 => y == 0xA0,
                _ => false,
            })
        };
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            for text in [format!("あ{c}い"), format!("ｱ{c}"), format!("{c}{c}")] {
                assert_eq!(may_hold_invisible(&text), by_match(text.as_bytes()), "U+{:04X}", c as u32);
            }
        }
    }

    #[test]
    fn half_full_tables_round_trip() {
        for u in 0xFF61..=0xFF9D_u32 {
            let h = char::from_u32(u).unwrap();
            let f = half_to_full(h).unwrap();
            assert_eq!(full_to_half(f), Some(h));
            assert_eq!(nfkc(&h.to_string()), f.to_string());
        }
        assert_eq!(half_to_full('ﾞ'), None);
    }

    fn japaneseish() -> impl Strategy<Value = String> {
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
            Just("ゝ"),
            Just(" "),
            Just("\u{3000}"),
            Just("\u{FE00}"),
            Just("\u{E0100}"),
            Just("𠮷"),
            Just("\u{FA10}"),
            Just("﨑"),
            Just("\0"),
            Just("ー"),
            Just("-"),
            Just("～"),
            Just("〜"),
            Just("e"),
            Just("\u{301}"),
            Just("①"),
            Just("㈱"),
            Just("¨"),
            Just("\u{1100}"),
            Just("\u{1161}"),
            Just("\u{11A8}"),
            Just("ゟ"),
            Just("Ａ"),
            Just("ｰ"),
            Just("\t"),
            Just("ウ"),
            Just("ワ"),
            Just("ヰ"),
        ];
        prop::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn idempotent_any(s in any::<String>()) {
            let once = fold_width(&s).into_owned();
            prop_assert_eq!(fold_width(&once).into_owned(), once.clone());
            let d = fold_dashes(&s).into_owned();
            prop_assert_eq!(fold_dashes(&d).into_owned(), d);
            let w = collapse_whitespace(&s).into_owned();
            prop_assert_eq!(collapse_whitespace(&w).into_owned(), w);
            let r = remove_whitespace(&s).into_owned();
            prop_assert_eq!(remove_whitespace(&r).into_owned(), r);
            let v = strip_invisible(&s).into_owned();
            prop_assert_eq!(strip_invisible(&v).into_owned(), v);
            let n = nfkc(&s).into_owned();
            prop_assert_eq!(nfkc(&n).into_owned(), n);
        }

        #[test]
        fn idempotent_japanese(s in japaneseish()) {
            let once = fold_width(&s).into_owned();
            prop_assert_eq!(fold_width(&once).into_owned(), once.clone());
            // borrowed iff unchanged
            prop_assert_eq!(matches!(fold_width(&s), Cow::Borrowed(_)), once == s);
        }
    }

    #[test]
    fn long_input() {
        let s = "ｶﾞ\u{3099}\u{E0100}𠮷\0".repeat(2000);
        let once = fw(&s);
        assert_eq!(fw(&once), once);
    }
}
