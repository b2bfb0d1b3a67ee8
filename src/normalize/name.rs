//! The name comparison keys K1–K4 of DOMAIN §2.6.
//!
//! Input → output: a name `&str` → a key `Cow<str>` ([`Cow::Borrowed`] when the name is
//! already in key form).
//! Never: I/O, panics, or a decision: equal K1 is what an auto-link may rely on; K2–K4
//! only *explain* a K1 mismatch or raise a review flag, and never link by themselves.
//!
//! | key | function | what it is |
//! |---|---|---|
//! | K1 | [`key_nfkc`] | invisible characters (variation selectors, U+200B …) removed + `width::fold_width` + whitespace collapsed |
//! | K1' | [`key_nospace`] | K1 with all whitespace removed (`山田太郎` = `山田　太郎`) |
//! | K2 | [`key_kana`] | `kana::kana_key` (katakana, long vowels, iteration marks) |
//! | K3 | [`key_zengin`] | `zengin::zengin_key` (bank kana; lossy) |
//! | K4 | [`key_variant`] | K1 + `variant::fold_variants` (髙→高, 﨑→崎, 邊→辺 …) |

use std::borrow::Cow;

use super::kana::kana_key;
use super::variant::fold_variants;
use super::width::{collapse_whitespace, fold_width, remove_whitespace, strip_invisible};
use super::zengin::zengin_key;

/// Chains two `Cow` steps, keeping `Borrowed` when neither changed anything.
fn then<'a>(first: Cow<'a, str>, step: impl Fn(&str) -> Cow<'_, str>) -> Cow<'a, str> {
    match first {
        Cow::Borrowed(b) => step(b),
        Cow::Owned(o) => match step(&o) {
            // A borrowed result may be a shorter slice (a trim), so keep `o` only if whole.
            Cow::Borrowed(b) if b.len() == o.len() => Cow::Owned(o),
            Cow::Borrowed(b) => Cow::Owned(b.to_string()),
            Cow::Owned(n) => Cow::Owned(n),
        },
    }
}

/// K1: strip invisible characters such as variation selectors (first, so a selector between
/// a kana and `゛` does not block composition) + `fold_width` + collapse whitespace.
/// `ﾔﾏﾀﾞ　ﾀﾛｳ` → `ヤマダ タロウ`, `葛`+U+E0100`飾` → `葛飾`; kanji variants stay distinct.
pub fn key_nfkc(s: &str) -> Cow<'_, str> {
    then(then(strip_invisible(s), fold_width), collapse_whitespace)
}

/// K1 with every whitespace character removed (then width-folded again, since removing a
/// space can bring a base and a mark together: `カ ゛`).
pub fn key_nospace(s: &str) -> Cow<'_, str> {
    then(then(key_nfkc(s), remove_whitespace), fold_width)
}

/// K2: the kana key (`kana::kana_key`).
pub fn key_kana(s: &str) -> Cow<'_, str> {
    kana_key(s)
}

/// K3: the bank-kana key (`zengin::zengin_key`); equality means "not contradicted".
pub fn key_zengin(s: &str) -> Cow<'_, str> {
    zengin_key(s)
}

/// K4: K1 + the versioned variant-kanji table (`variant::fold_variants`; 齋/齊/斎/斉 kept).
pub fn key_variant(s: &str) -> Cow<'_, str> {
    then(key_nfkc(s), fold_variants)
}

/// The name key that folds what a Latin name is written with: K4 (width, variants), upper
/// case, and no spaces, hyphens, apostrophes, dots or middle dots (`O'Brien-Smith` and
/// `ｏｂｒｉｅｎ ｓｍｉｔｈ` are both `OBRIENSMITH`; `スミス・ジョン` is `スミスジョン`). Kanji and kana
/// names only lose their spaces and middle dots.
pub fn key_fold(s: &str) -> Cow<'_, str> {
    let folded = key_variant(s);
    let drop = |c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '-' | '\u{2010}' | '\u{2011}' | '\u{2212}' | '\'' | '\u{2019}' | '\u{2018}' | '.' | '・' | '･'
            )
    };
    if folded.chars().any(|c| drop(c) || c.is_ascii_lowercase()) {
        Cow::Owned(folded.chars().filter(|&c| !drop(c)).map(|c| c.to_ascii_uppercase()).collect())
    } else {
        folded
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "tests may panic")]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_fold_key_folds_latin_names_and_leaves_japanese_ones() {
        assert_eq!(key_fold("O'Brien-Smith"), "OBRIENSMITH");
        assert_eq!(key_fold("ｏ’ｂｒｉｅｎ ｓｍｉｔｈ"), "OBRIENSMITH");
        assert_eq!(key_fold("Mary Ann"), "MARYANN");
        assert_eq!(key_fold("スミス・ジョン"), "スミスジョン");
        assert_eq!(key_fold("髙橋　一郎"), "高橋一郎");
        assert!(matches!(key_fold("SMITH"), Cow::Borrowed(_)));
    }

    #[test]
    fn keys() {
        assert_eq!(key_nfkc(" ﾔﾏﾀﾞ　 ﾀﾛｳ "), "ヤマダ タロウ");
        assert_eq!(key_nfkc("葛\u{E0100}飾"), "葛飾");
        assert_eq!(key_nfkc("\u{FA10}本"), "\u{FA10}本");
        assert_eq!(key_nospace("山田　太郎"), "山田太郎");
        assert_eq!(key_kana("やまだ　たろう"), "ヤマダ タロウ");
        assert_eq!(key_zengin("ヤマダ　タロウ"), "ﾔﾏﾀﾞ ﾀﾛｳ");
        assert_eq!(key_variant("髙橋　﨑"), "高橋 崎");
        assert_ne!(key_nfkc("髙橋"), key_nfkc("高橋"));
        assert_eq!(key_variant("齋藤"), "齋藤");
        for s in ["山田 太郎", "ヤマダ タロウ", ""] {
            assert!(matches!(key_nfkc(s), Cow::Borrowed(_)), "{s}");
            assert!(matches!(key_variant(s), Cow::Borrowed(_)), "{s}");
        }
    }

    proptest! {
        #[test]
        fn idempotent(s in any::<String>()) {
            for f in [key_nfkc, key_nospace, key_kana, key_zengin, key_variant] {
                let once = f(&s).into_owned();
                prop_assert_eq!(f(&once).into_owned(), once);
            }
        }

        #[test]
        fn idempotent_names(s in "[ｱ-ﾝﾞﾟあ-んア-ン髙﨑邊山田 　\u{3099}゛ー\u{E0100}\u{FE00}\u{FA10}]{0,20}") {
            for f in [key_nfkc, key_nospace, key_kana, key_zengin, key_variant] {
                let once = f(&s).into_owned();
                prop_assert_eq!(f(&once).into_owned(), once);
            }
        }
    }
}
