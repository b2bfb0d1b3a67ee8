//! Bank account-holder kana (Zengin, 全銀) form and the K3 comparison key (DOMAIN §2.5).
//!
//! Input → output: `&str` → `Cow<str>` in bank form (half-width katakana, `ﾞﾟ` as separate
//! characters, upper-case Latin), or a validity predicate.
//! Never: I/O, global state, panics, regexes; never reads kanji (a kanji name stays kanji and
//! then fails [`is_zengin`]); never decides that two people are the same: the fold is lossy
//! by design (`キョウコ`/`キヨウコ`, `ジュン`/`ジユン` meet), so equal keys only mean
//! "not contradicted".

use std::borrow::Cow;
use std::sync::LazyLock;

use unicode_normalization::char::decompose_canonical;

use super::kana::kana_key;
use super::width::{full_to_half, is_dash};

/// The bank form of §2.5, in this order: `width::fold_width` (half-width → full-width,
/// voicing composed) → invisible characters removed → katakana (`ゝゞヽヾ` expanded, see
/// `kana::kana_key`) → small kana large (`ァ→ア … ッ→ツ, ャ→ヤ, ヮ→ワ, ヵ→カ, ヶ→ケ`) →
/// `ヰ→イ, ヱ→エ, ヲ→オ` → every dash/wave look-alike (`ー－‐‑‒–—―−─━〜～~` …) → `-` →
/// middle dots `・ ･ ·` → space → `a-z` → `A-Z` → half-width katakana with `ﾞ ﾟ` as
/// separate characters; whitespace trimmed and collapsed to one space.
///
/// `キョウコ`→`ｷﾖｳｺ`, `ヴィーナス`→`ｳﾞｲ-ﾅｽ`, `ジョーンズ・マイケル`→`ｼﾞﾖ-ﾝｽﾞ ﾏｲｹﾙ`.
/// Characters with no bank form (kanji, `ヽ` at the start, symbols) are kept as they are,
/// so [`is_zengin`] can reject them afterwards.
pub fn to_zengin(s: &str) -> Cow<'_, str> {
    let k = kana_key(s);
    let letters = &*LETTERS;
    let mut out = String::with_capacity(k.len() + 8);
    for c in k.chars() {
        push_zengin(&mut out, c, letters);
    }
    // Whitespace was collapsed while pushing (`push_space`); only a trailing space is left.
    while out.ends_with(' ') {
        out.pop();
    }
    if out == s { Cow::Borrowed(s) } else { Cow::Owned(out) }
}

/// Pushes the bank form of `c`. Every whitespace character, and every middle dot, goes
/// through [`push_space`], so the output has no leading space and no run of spaces (the
/// caller trims a trailing one), as `width::collapse_whitespace` would leave it.
fn push_zengin(out: &mut String, c: char, letters: &Letters) {
    match c {
        'a'..='z' => out.push(c.to_ascii_uppercase()),
        '\u{30FB}' | '\u{FF65}' | '\u{00B7}' => push_space(out),
        // An iteration mark `kana_key` left alone (after a voicing mark): repeat the last
        // kana letter, so that the bank form is stable under a second fold.
        '\u{30FD}' | '\u{30FE}' => {
            let letter = out
                .trim_end_matches(['\u{FF9E}', '\u{FF9F}'])
                .chars()
                .next_back()
                .filter(|l| matches!(l, '\u{FF71}'..='\u{FF9D}'));
            match letter {
                Some(l) => {
                    out.push(l);
                    if c == '\u{30FE}' {
                        out.push('\u{FF9E}');
                    }
                }
                None => out.push(c),
            }
        }
        '\u{3099}' | '\u{309B}' => out.push('\u{FF9E}'),
        '\u{309A}' | '\u{309C}' => out.push('\u{FF9F}'),
        _ if is_dash(c) => out.push('-'),
        _ if c.is_whitespace() => push_space(out),
        // No ASCII character has a half-width form to map to.
        _ if c.is_ascii() => out.push(c),
        '\u{30A1}'..='\u{30FA}' | '\u{31F0}'..='\u{31FF}' => {
            let index = (c as usize).wrapping_sub(FIRST_LETTER as usize);
            let (half, mark) = letters.get(index).copied().unwrap_or_else(|| bank_letter(c));
            out.push(half);
            if let Some(m) = mark {
                out.push(m);
            }
        }
        _ => out.push(full_to_half(c).unwrap_or(c)),
    }
}

/// One U+0020 for a run of whitespace, none at the start.
fn push_space(out: &mut String) {
    if !out.is_empty() && !out.ends_with(' ') {
        out.push(' ');
    }
}

/// The first and last katakana letters of [`LETTERS`] (`ァ` … `ヺ`).
const FIRST_LETTER: char = '\u{30A1}';
const LAST_LETTER: char = '\u{30FA}';

/// [`bank_letter`] of every katakana letter `ァ`…`ヺ`, indexed from [`FIRST_LETTER`].
type Letters = [(char, Option<char>); LAST_LETTER as usize - FIRST_LETTER as usize + 1];

/// Computed once, so that a letter costs one lookup instead of a canonical decomposition
/// and a table search.
static LETTERS: LazyLock<Letters> = LazyLock::new(|| {
    let mut table: Letters = [('\0', None); LAST_LETTER as usize - FIRST_LETTER as usize + 1];
    for (slot, u) in table.iter_mut().zip(FIRST_LETTER as u32..=LAST_LETTER as u32) {
        if let Some(c) = char::from_u32(u) {
            *slot = bank_letter(c);
        }
    }
    table
});

/// Bank form of one katakana letter (U+30A1–30FA, U+31F0–31FF): the half-width large kana
/// and its `ﾞ`/`ﾟ`, if any (`ガ` → (`ｶ`, `ﾞ`), `ョ` → (`ﾖ`, none), `ヸ` → (`ｲ`, `ﾞ`),
/// `ㇰ` → (`ｸ`, none)).
fn bank_letter(c: char) -> (char, Option<char>) {
    let (base, mark) = split_voicing(c);
    let large = large_kana(base);
    (full_to_half(large).unwrap_or(large), mark)
}

/// `ガ` → (`カ`, `ﾞ`), `パ` → (`ハ`, `ﾟ`), `ヴ` → (`ウ`, `ﾞ`); others unchanged.
fn split_voicing(c: char) -> (char, Option<char>) {
    let mut parts = [None, None, None];
    let mut n = 0usize;
    decompose_canonical(c, |d| {
        if let Some(slot) = parts.get_mut(n) {
            *slot = Some(d);
        }
        n += 1;
    });
    match parts {
        [Some(b), Some('\u{3099}'), None] => (b, Some('\u{FF9E}')),
        [Some(b), Some('\u{309A}'), None] => (b, Some('\u{FF9F}')),
        _ => (c, None),
    }
}

/// Small kana → large, `ヰヱヲ` → `イエオ`; other characters unchanged.
fn large_kana(c: char) -> char {
    match c {
        'ァ' => 'ア',
        'ィ' | 'ヰ' => 'イ',
        'ゥ' => 'ウ',
        'ェ' | 'ヱ' => 'エ',
        'ォ' | 'ヲ' => 'オ',
        'ッ' => 'ツ',
        'ャ' => 'ヤ',
        'ュ' => 'ユ',
        'ョ' => 'ヨ',
        'ヮ' => 'ワ',
        'ヵ' => 'カ',
        'ヶ' => 'ケ',
        'ㇰ' => 'ク',
        'ㇱ' => 'シ',
        'ㇲ' => 'ス',
        'ㇳ' => 'ト',
        'ㇴ' => 'ヌ',
        'ㇵ' => 'ハ',
        'ㇶ' => 'ヒ',
        'ㇷ' => 'フ',
        'ㇸ' => 'ヘ',
        'ㇹ' => 'ホ',
        'ㇺ' => 'ム',
        'ㇻ' => 'ラ',
        'ㇼ' => 'リ',
        'ㇽ' => 'ル',
        'ㇾ' => 'レ',
        'ㇿ' => 'ロ',
        _ => c,
    }
}

/// Legal-entity words: (bank abbreviation, forms that denote the same entity type after
/// [`to_zengin`]: the kanji word, its one-kanji short form as written in `(株)`, and the
/// bank-kana spellings of the full word).
const ENTITIES: &[(&str, &[&str])] = &[
    ("ｶ", &["株式会社", "株", "ｶﾌﾞｼｷｶﾞｲｼﾔ", "ｶﾌﾞｼｷｶｲｼﾔ"]),
    ("ﾕ", &["有限会社", "有", "ﾕｳｹﾞﾝｶﾞｲｼﾔ", "ﾕｳｹﾞﾝｶｲｼﾔ"]),
    ("ﾒ", &["合名会社", "名", "ｺﾞｳﾒｲｶﾞｲｼﾔ", "ｺﾞｳﾒｲｶｲｼﾔ"]),
    ("ｼ", &["合資会社", "資", "ｺﾞｳｼｶﾞｲｼﾔ", "ｺﾞｳｼｶｲｼﾔ"]),
    ("ﾄﾞ", &["合同会社", "同", "ｺﾞｳﾄﾞｳｶﾞｲｼﾔ", "ｺﾞｳﾄﾞｳｶｲｼﾔ"]),
    ("ｲ", &["医療法人", "医", "ｲﾘﾖｳﾎｳｼﾞﾝ"]),
    ("ｻﾞｲ", &["一般財団法人", "公益財団法人", "財団法人", "財", "ｻﾞｲﾀﾞﾝﾎｳｼﾞﾝ"]),
    ("ｼﾔ", &["一般社団法人", "公益社団法人", "社団法人", "社", "ｼﾔﾀﾞﾝﾎｳｼﾞﾝ"]),
    ("ｼﾕｳ", &["宗教法人", "宗", "ｼﾕｳｷﾖｳﾎｳｼﾞﾝ"]),
    ("ｶﾞｸ", &["学校法人", "学", "ｶﾞﾂｺｳﾎｳｼﾞﾝ"]),
    ("ﾌｸ", &["社会福祉法人", "福", "ｼﾔｶｲﾌｸｼﾎｳｼﾞﾝ"]),
    ("ﾄｸﾋ", &["特定非営利活動法人", "ﾄｸﾃｲﾋｴｲﾘｶﾂﾄﾞｳﾎｳｼﾞﾝ"]),
    ("ｴｲ", &["営業所", "ｴｲｷﾞﾖｳｼﾖ"]),
    ("ｼﾕﾂ", &["出張所", "ｼﾕﾂﾁﾖｳｼﾞﾖ"]),
];

/// Bank abbreviation of a token written inside parentheses (`ｶ`, `株`, `株式会社` …).
fn entity_of(token: &str) -> Option<&'static str> {
    ENTITIES.iter().find(|(abbr, forms)| *abbr == token || forms.contains(&token)).map(|(abbr, _)| *abbr)
}

/// A multi-character entity word (kanji or bank-kana spelling) at the start of `rest`:
/// (abbreviation, byte length). One-kanji short forms only count inside parentheses.
fn long_form_at(rest: &str) -> Option<(&'static str, usize)> {
    LONG_FORMS.find(rest)
}

/// The multi-character entity words, arranged so that a position is tested with a bit test
/// and a binary search on its first character instead of a string search per word.
struct LongForms {
    /// Bit `c % 64` is set for the first character `c` of every word: a clear bit is a
    /// quick "no word starts here" (most characters of a name).
    first_bits: u64,
    /// (first character, word, abbreviation), sorted by the first character, in table
    /// order among the words that share it.
    forms: Vec<(char, &'static str, &'static str)>,
}

impl LongForms {
    /// False when no word starts with `c` (true may be a false alarm).
    #[inline]
    fn may_start(&self, c: char) -> bool {
        self.first_bits >> (u32::from(c) % 64) & 1 == 1
    }

    /// The first word, in table order, at the start of `rest`: (abbreviation, byte length).
    fn find(&self, rest: &str) -> Option<(&'static str, usize)> {
        let first = rest.chars().next().filter(|&c| self.may_start(c))?;
        let from = self.forms.partition_point(|(c, _, _)| *c < first);
        self.forms
            .get(from..)?
            .iter()
            .take_while(|(c, _, _)| *c == first)
            .find(|(_, form, _)| rest.starts_with(*form))
            .map(|(_, form, abbr)| (*abbr, form.len()))
    }
}

static LONG_FORMS: LazyLock<LongForms> = LazyLock::new(|| {
    let mut forms: Vec<_> = ENTITIES
        .iter()
        .flat_map(|(abbr, forms)| forms.iter().map(move |f| (f, abbr)))
        .filter(|(f, _)| f.chars().count() > 1)
        .filter_map(|(f, abbr)| f.chars().next().map(|c| (c, *f, *abbr)))
        .collect();
    forms.sort_by_key(|(c, _, _)| *c); // stable: table order kept within one first character
    let first_bits = forms.iter().fold(0u64, |bits, (c, _, _)| bits | 1 << (u32::from(*c) % 64));
    LongForms { first_bits, forms }
});

/// Whether a bank-form name may hold an entity word at all: a parenthesis, or a long form
/// somewhere. Personal names have neither, and skip the rewrite (and its allocation).
fn may_hold_entity(z: &str) -> bool {
    let long = &*LONG_FORMS;
    z.char_indices().any(|(i, c)| {
        matches!(c, '(' | ')') || (long.may_start(c) && z.get(i..).is_some_and(|r| long.find(r).is_some()))
    })
}

/// The K3 comparison key: [`to_zengin`], then legal-entity words in any notation replaced
/// by the bank abbreviation placed by the bank position rule: at the start `ｶ)ﾔﾏﾀﾞ`, at the
/// end `ﾔﾏﾀﾞ(ｶ`, in the middle `ﾔﾏﾀﾞ(ｶ)ﾁﾊﾞｼﾃﾝ`. Recognized notations: `(ｶ)`, `ｶ)` at the
/// start, `(ｶ` at the end, `(株)` / `㈱` / `（株）`, `株式会社`, `ｶﾌﾞｼｷｶﾞｲｼﾔ` (and the other
/// words of the Keiyo Bank table, DOMAIN §2.5). Spaces next to an entity marker are
/// dropped; one space between family and given name is kept.
///
/// So `ｶ)ﾔﾏﾀﾞ`, `(ｶ)ﾔﾏﾀﾞ`, `株式会社ヤマダ`, `㈱ヤマダ` all give `ｶ)ﾔﾏﾀﾞ`, while `ヤマダ株式会社`
/// gives `ﾔﾏﾀﾞ(ｶ` (前株 and 後株 are different names).
///
/// `zengin_key(a) == zengin_key(b)` means the two names are **not contradicted** in bank
/// kana, never that they name the same person: the fold erases small kana, `ー`, `ヲ`/`オ`
/// and more (`キョウコ` and `キヨウコ` meet).
pub fn zengin_key(s: &str) -> Cow<'_, str> {
    let z = to_zengin(s);
    match entity_fold(&z) {
        Some(k) if k != *z => Cow::Owned(k),
        _ => z,
    }
}

/// Rewrites entity words in a bank-form string; `None` when there is none.
fn entity_fold(z: &str) -> Option<String> {
    if !may_hold_entity(z) {
        return None;
    }
    let mut out = String::with_capacity(z.len() + 4);
    let mut found = false;
    let mut i = 0usize;
    while let Some(rest) = z.get(i..) {
        let Some(c) = rest.chars().next() else { break };
        let at_start = out.trim_end().is_empty();
        let hit = if c == '(' {
            paren_entity(rest)
        } else if at_start {
            rest.find(')')
                .and_then(|p| rest.get(..p).map(|t| (t, p)))
                .and_then(|(t, p)| entity_of(t.trim()).map(|a| (a, p + 1)))
                .or_else(|| long_form_at(rest))
        } else {
            long_form_at(rest)
        };
        match hit {
            Some((abbr, len)) => {
                found = true;
                let end = i + len;
                let at_end = z.get(end..).is_none_or(|r| r.trim().is_empty());
                while out.ends_with(' ') {
                    out.pop();
                }
                match (at_start, at_end) {
                    (true, false) => {
                        out.push_str(abbr);
                        out.push(')');
                    }
                    (false, true) => {
                        out.push('(');
                        out.push_str(abbr);
                    }
                    _ => {
                        out.push('(');
                        out.push_str(abbr);
                        out.push(')');
                    }
                }
                i = end;
                // drop spaces after the marker
                while z.get(i..).is_some_and(|r| r.starts_with(' ')) {
                    i += 1;
                }
            }
            None => {
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    found.then_some(out)
}

/// `(X)` or, at the end of the text, `(X`, where X names an entity: (abbreviation, length).
fn paren_entity(rest: &str) -> Option<(&'static str, usize)> {
    let inner = rest.get(1..)?;
    match inner.find(')') {
        Some(p) => {
            let abbr = entity_of(inner.get(..p)?.trim())?;
            Some((abbr, p + 2))
        }
        None => {
            let abbr = entity_of(inner.trim())?;
            Some((abbr, rest.len()))
        }
    }
}

/// True iff `s` is non-empty bank form: only half-width katakana `ｱ`–`ﾝ` (no `ｦ`, no small
/// kana, no `ｰ`), `ﾞ ﾟ`, `A–Z`, `0–9`, `( ) - .` and single spaces between words.
pub fn is_zengin(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(' ')
        && !s.ends_with(' ')
        && !s.contains("  ")
        && s.chars().all(|c| {
            matches!(
                c,
                '\u{FF71}'..='\u{FF9F}' | 'A'..='Z' | '0'..='9' | ' ' | '(' | ')' | '-' | '.'
            )
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "tests may panic")]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn z(s: &str) -> String {
        to_zengin(s).into_owned()
    }

    #[test]
    fn domain_2_5_vectors() {
        assert_eq!(z("キョウコ"), "ｷﾖｳｺ");
        assert_eq!(z("しょうご"), "ｼﾖｳｺﾞ");
        assert_eq!(z("ヴィーナス"), "ｳﾞｲ-ﾅｽ");
        assert_eq!(z("ジョーンズ・マイケル"), "ｼﾞﾖ-ﾝｽﾞ ﾏｲｹﾙ");
        assert_eq!(z("ﾃﾞｨｰﾌﾟ"), "ﾃﾞｲ-ﾌﾟ");
        assert_eq!(z("ワタナベ　ヱミ"), "ﾜﾀﾅﾍﾞ ｴﾐ");
        assert_eq!(z("Smith John"), "SMITH JOHN");
        assert_eq!(z("キュウヨ"), "ｷﾕｳﾖ");
        assert_eq!(z("いすゞ"), "ｲｽｽﾞ");
        for d in ["ー", "－", "‐", "‑", "‒", "–", "—", "―", "−", "─", "━", "〜", "~"] {
            assert_eq!(z(&format!("ア{d}イ")), "ｱ-ｲ", "{d}");
        }
        assert_eq!(z("ァィゥェォッャュョヮヵヶ"), "ｱｲｳｴｵﾂﾔﾕﾖﾜｶｹ");
        assert_eq!(z("ヰヱヲ"), "ｲｴｵ");
        assert_eq!(z("ヷヸヹヺ"), "ﾜﾞｲﾞｴﾞｵﾞ");
        assert_eq!(z("ガ"), "ｶﾞ");
        assert_eq!(z("ジョーンズ･マイケル"), "ｼﾞﾖ-ﾝｽﾞ ﾏｲｹﾙ");
        assert_eq!(z("ジョーンズ · マイケル"), "ｼﾞﾖ-ﾝｽﾞ ﾏｲｹﾙ");
    }

    #[test]
    fn whitespace_and_dots_collapse() {
        assert_eq!(z("・ヤマダ・"), "ﾔﾏﾀﾞ");
        assert_eq!(z("ヤマダ\u{00A0}・ タロウ"), "ﾔﾏﾀﾞ ﾀﾛｳ");
        assert_eq!(z("ヤマダ\u{2003}\u{3000}タロウ\t"), "ﾔﾏﾀﾞ ﾀﾛｳ");
        assert_eq!(z(" ・ "), "");
        assert!(matches!(to_zengin("ﾔﾏﾀﾞ ﾀﾛｳ"), Cow::Borrowed(_)));
    }

    #[test]
    fn letter_table_matches_the_letters() {
        for u in 0x30A1..=0x30FA_u32 {
            let c = char::from_u32(u).unwrap();
            assert_eq!(LETTERS[(u - 0x30A1) as usize], bank_letter(c), "{c}");
            let mut out = String::new();
            push_zengin(&mut out, c, &LETTERS);
            let (half, mark) = bank_letter(c);
            assert_eq!(out, format!("{half}{}", mark.map(String::from).unwrap_or_default()), "{c}");
        }
        assert_eq!(bank_letter('ガ'), ('ｶ', Some('ﾞ')));
        assert_eq!(bank_letter('ヸ'), ('ｲ', Some('ﾞ')));
        assert_eq!(bank_letter('ㇰ'), ('ｸ', None));
        assert_eq!(z("ㇰㇱ"), "ｸｼ");
    }

    #[test]
    fn long_forms_are_found_by_first_character() {
        for (abbr, forms) in ENTITIES {
            for form in forms.iter().filter(|f| f.chars().count() > 1) {
                let (found, len) = long_form_at(&format!("{form}ﾔﾏﾀﾞ")).unwrap();
                assert_eq!(len, form.len(), "{form}");
                assert_eq!(found, *abbr, "{form}");
            }
        }
        assert_eq!(long_form_at("ﾔﾏﾀﾞ"), None);
        assert_eq!(long_form_at("株"), None);
        assert!(!may_hold_entity("ｲﾄｳ ﾀﾛｳ"));
        assert!(may_hold_entity("ﾔﾏﾀﾞｶﾌﾞｼｷｶｲｼﾔ"));
    }

    #[test]
    fn lossy_collisions() {
        assert_eq!(zengin_key("キョウコ"), zengin_key("キヨウコ"));
        assert_eq!(zengin_key("ジュン"), zengin_key("ジユン"));
        assert_ne!(zengin_key("ヤマダ タロウ"), zengin_key("ヤマダ ジロウ"));
    }

    #[test]
    fn borrowed_when_already_bank_form() {
        for s in ["ｷﾖｳｺ", "ｼﾞﾖ-ﾝｽﾞ ﾏｲｹﾙ", "SMITH JOHN", "ｶ)ﾔﾏﾀﾞ"] {
            assert!(matches!(to_zengin(s), Cow::Borrowed(_)), "{s}");
            assert!(matches!(zengin_key(s), Cow::Borrowed(_)), "{s}");
            assert!(is_zengin(s), "{s}");
        }
    }

    #[test]
    fn entity_positions() {
        let lead = "ｶ)ﾔﾏﾀﾞ";
        for s in [
            "ｶ)ﾔﾏﾀﾞ",
            "(ｶ)ﾔﾏﾀﾞ",
            "株式会社ヤマダ",
            "㈱ヤマダ",
            "（株）ヤマダ",
            "(株)ﾔﾏﾀﾞ",
            "カブシキガイシャ ヤマダ",
            "ｶ) ﾔﾏﾀﾞ",
            "株式会社　山田",
        ] {
            let expect = if s.ends_with('田') { "ｶ)山田" } else { lead };
            assert_eq!(zengin_key(s), expect, "{s}");
        }
        for s in ["ﾔﾏﾀﾞ(ｶ", "ﾔﾏﾀﾞ(ｶ)", "ヤマダ株式会社", "ヤマダ㈱", "ヤマダ カブシキカイシャ"]
        {
            assert_eq!(zengin_key(s), "ﾔﾏﾀﾞ(ｶ", "{s}");
        }
        assert_eq!(zengin_key("ﾔﾏﾀﾞ(ｶ)ﾁﾊﾞｼﾃﾝ"), "ﾔﾏﾀﾞ(ｶ)ﾁﾊﾞｼﾃﾝ");
        assert_eq!(zengin_key("ヤマダ株式会社チバシテン"), "ﾔﾏﾀﾞ(ｶ)ﾁﾊﾞｼﾃﾝ");
        assert_ne!(zengin_key("株式会社ヤマダ"), zengin_key("ヤマダ株式会社"));
        assert_eq!(zengin_key("医療法人ヤマダカイ"), "ｲ)ﾔﾏﾀﾞｶｲ");
        assert_eq!(zengin_key("(ﾄﾞ)ﾔﾏﾀﾞ"), "ﾄﾞ)ﾔﾏﾀﾞ");
        assert_eq!(zengin_key("合同会社ヤマダ"), "ﾄﾞ)ﾔﾏﾀﾞ");
        assert_eq!(zengin_key("特定非営利活動法人ヤマダ"), "ﾄｸﾋ)ﾔﾏﾀﾞ");
        assert_eq!(zengin_key("ｲﾄｳ ﾀﾛｳ"), "ｲﾄｳ ﾀﾛｳ");
        assert_eq!(zengin_key("(ｱ)ﾔﾏﾀﾞ"), "(ｱ)ﾔﾏﾀﾞ");
    }

    #[test]
    fn validity() {
        for s in ["ｷﾖｳｺ", "ﾔﾏﾀﾞ ﾀﾛｳ", "ｶ)ﾔﾏﾀﾞ", "A.B-1"] {
            assert!(is_zengin(s), "{s}");
        }
        for s in ["", "ｷｮｳｺ", "ｦ", "ｰ", "キヨウコ", "ﾔﾏﾀﾞ  ﾀﾛｳ", " ﾔﾏﾀﾞ", "yamada", "山田", "ﾔﾏﾀﾞ･ﾀﾛｳ"]
        {
            assert!(!is_zengin(s), "{s}");
        }
        assert!(is_zengin(&z("ジョーンズ・マイケル")));
    }

    proptest! {
        #[test]
        fn idempotent(s in any::<String>()) {
            let once = z(&s);
            prop_assert_eq!(z(&once), once.clone());
            let k = zengin_key(&s).into_owned();
            prop_assert_eq!(zengin_key(&k).into_owned(), k);
            let _ = is_zengin(&s);
        }

        #[test]
        fn idempotent_kana(s in "[ぁ-ゖァ-ヺｦ-ﾟー・ 　()株式会社~ヽヾゝゞ\u{3099}゛]{0,20}") {
            let once = z(&s);
            prop_assert_eq!(z(&once), once.clone());
            let k = zengin_key(&s).into_owned();
            prop_assert_eq!(zengin_key(&k).into_owned(), k);
        }
    }
}
