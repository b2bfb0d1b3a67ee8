//! String, date and number comparators for record linkage.
//!
//! Input → output: two values → a similarity or distance. Pure, no allocation beyond small
//! per-call buffers for edit distances, never panics. Strings are compared by Unicode scalar
//! (a kana or kanji counts as one), so apply the normalization you want first (`kana_key`,
//! `key.variant`, …). The text comparators are quadratic, so they read at most
//! [`MAX_COMPARED_CHARS`] characters of each text: one pair never costs more than a few
//! microseconds, however long a hostile field is.

use crate::normalize::date::Date;

/// The text comparators compare the first this many characters of each text. A name, its
/// reading or an address key is far shorter (the standard schema caps names at 100
/// characters and readings at 200: `max(…)`); a longer text is no name, and comparing all of
/// it would let one record hold a core for minutes.
pub const MAX_COMPARED_CHARS: usize = 128;

/// The first [`MAX_COMPARED_CHARS`] characters of `s`.
pub fn bounded(s: &str) -> &str {
    match s.char_indices().nth(MAX_COMPARED_CHARS) {
        Some((end, _)) => s.get(..end).unwrap_or(s),
        None => s,
    }
}

/// The work of comparing `a` with `b` with a quadratic comparator, in evaluation steps (about
/// 256 character comparisons each; at least 1): what it is charged against the evaluation
/// budget.
pub fn work(a: &str, b: &str) -> u64 {
    let count = |s: &str| s.chars().take(MAX_COMPARED_CHARS).count() as u64;
    1 + count(a) * count(b) / 256
}

/// Jaro similarity in `0.0..=1.0` (1.0 = equal).
#[cfg(test)]
fn jaro(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    jaro_chars(&a, &b)
}

fn jaro_chars(a: &[char], b: &[char]) -> f64 {
    if a.len() <= SHORT && b.len() <= SHORT {
        let (mut used, mut matched) = ([false; SHORT], ['\0'; SHORT]);
        jaro_with(a, b, &mut used, &mut matched)
    } else {
        jaro_with(a, b, &mut vec![false; b.len()], &mut vec!['\0'; a.len()])
    }
}

/// Strings up to this many characters are compared without allocating.
const SHORT: usize = 48;

/// Jaro with scratch space: `b_used` at least `b.len()` long, `a_match` at least `a.len()`.
fn jaro_with(a: &[char], b: &[char], b_used: &mut [bool], a_match: &mut [char]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut m = 0;
    for (i, ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if let (Some(cb), Some(used)) = (b.get(j), b_used.get_mut(j))
                && !*used
                && cb == ca
            {
                *used = true;
                if let Some(slot) = a_match.get_mut(m) {
                    *slot = *ca;
                }
                m += 1;
                break;
            }
        }
    }
    if m == 0 {
        return 0.0;
    }
    let b_match = b.iter().zip(b_used.iter()).filter(|(_, u)| **u).map(|(c, _)| *c);
    let transpositions = a_match.iter().take(m).zip(b_match).filter(|(x, y)| **x != *y).count() / 2;
    let m = m as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - transpositions as f64) / m) / 3.0
}

/// Jaro-Winkler similarity in `0.0..=1.0`: Jaro, boosted by a common prefix of up to 4
/// characters (scaling factor 0.1).
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let (a, b) = (bounded(a), bounded(b));
    let (na, nb) = (a.chars().count(), b.chars().count());
    if na <= SHORT && nb <= SHORT {
        let (mut ac, mut bc) = (['\0'; SHORT], ['\0'; SHORT]);
        for (slot, c) in ac.iter_mut().zip(a.chars()) {
            *slot = c;
        }
        for (slot, c) in bc.iter_mut().zip(b.chars()) {
            *slot = c;
        }
        winkler(ac.get(..na).unwrap_or(&[]), bc.get(..nb).unwrap_or(&[]))
    } else {
        let ac: Vec<char> = a.chars().collect();
        let bc: Vec<char> = b.chars().collect();
        winkler(&ac, &bc)
    }
}

fn winkler(a: &[char], b: &[char]) -> f64 {
    let j = jaro_chars(a, b);
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count() as f64;
    j + prefix * 0.1 * (1.0 - j)
}

/// Levenshtein distance: insertions, deletions and substitutions.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let (a, b) = (bounded(a), bounded(b));
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        if let Some(c0) = cur.first_mut() {
            *c0 = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            if let Some(c) = cur.get_mut(j + 1) {
                *c = sub.min(del).min(ins);
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().unwrap_or(0)
}

/// Damerau-Levenshtein distance (optimal string alignment): Levenshtein plus transposition of
/// two neighbouring characters as one edit (`ミナト`/`ミトナ` = 1).
pub fn damerau(a: &str, b: &str) -> usize {
    let (a, b) = (bounded(a), bounded(b));
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    let at = |i: usize, j: usize| i * w + j;
    let get = |d: &[usize], i: usize, j: usize| d.get(at(i, j)).copied().unwrap_or(usize::MAX / 2);
    for i in 0..=a.len() {
        if let Some(x) = d.get_mut(at(i, 0)) {
            *x = i;
        }
    }
    for j in 0..=b.len() {
        if let Some(x) = d.get_mut(at(0, j)) {
            *x = j;
        }
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let (ca, cb) = (a.get(i - 1), b.get(j - 1));
            let mut v =
                (get(&d, i - 1, j) + 1).min(get(&d, i, j - 1) + 1).min(get(&d, i - 1, j - 1) + usize::from(ca != cb));
            if i > 1 && j > 1 && ca == b.get(j - 2) && a.get(i - 2) == cb {
                v = v.min(get(&d, i - 2, j - 2) + 1);
            }
            if let Some(x) = d.get_mut(at(i, j)) {
                *x = v;
            }
        }
    }
    get(&d, a.len(), b.len())
}

/// How two dates relate, from closest to farthest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateRelation {
    Same,
    /// Day and month swapped (`1974-12-09` / `1974-09-12`), a common form error.
    Swapped,
    /// Same month and day; the years differ in exactly one digit (`1983` / `1988`).
    YearTypo,
    /// Neither of the above; the number of days between them.
    Apart(u32),
}

pub fn compare_dates(a: Date, b: Date) -> DateRelation {
    if a == b {
        return DateRelation::Same;
    }
    if a.year() == b.year() && a.month() == b.day() && a.day() == b.month() {
        return DateRelation::Swapped;
    }
    if a.month() == b.month() && a.day() == b.day() {
        // The four digits of the years differ in exactly one place.
        let (mut x, mut y) = (a.year(), b.year());
        let mut differing = 0;
        for _ in 0..4 {
            differing += u32::from(x % 10 != y % 10);
            (x, y) = (x / 10, y / 10);
        }
        if differing == 1 && x == y {
            return DateRelation::YearTypo;
        }
    }
    DateRelation::Apart(a.to_days().abs_diff(b.to_days()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-3
    }

    #[test]
    fn jaro_winkler_matches_the_textbook_values() {
        assert!(close(jaro("MARTHA", "MARHTA"), 0.944));
        assert!(close(jaro_winkler("MARTHA", "MARHTA"), 0.961));
        assert!(close(jaro_winkler("DWAYNE", "DUANE"), 0.840));
        assert!(close(jaro_winkler("DIXON", "DICKSONX"), 0.813));
        assert!(close(jaro_winkler("", ""), 1.0));
        assert!(close(jaro_winkler("ア", ""), 0.0));
        assert!(jaro_winkler("ナカヤマ ユウキ", "ナカヤマ ユキキ") > 0.9);
        assert!(jaro_winkler("イシイ タロウ", "サカモト マコト") < 0.7);
        // Past the stack buffers, the same function on heap buffers.
        let long = "トウキョウトチヨダクカスミガセキ".repeat(4);
        let short = long.chars().take(SHORT).collect::<String>();
        assert!(close(jaro_winkler(&long, &long), 1.0));
        assert!(close(jaro_winkler(&short, &long), jaro_winkler(&long, &short)));
        assert!(jaro_winkler(&short, &long) > 0.9 && jaro_winkler(&short, &long) < 1.0);
    }

    #[test]
    fn edit_distances() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("ミナト", "ミトナ"), 2);
        assert_eq!(damerau("ミナト", "ミトナ"), 1);
        assert_eq!(damerau("廣瀬", "広瀬"), 1);
        assert_eq!(damerau("", ""), 0);
    }

    #[test]
    fn long_texts_are_compared_on_their_first_characters() {
        // 340,000 characters each: compared as their first 128, in microseconds.
        let a = "アイウエオカキクケコ".repeat(34_000);
        let mut b = a.clone();
        b.push('ン');
        assert_eq!(bounded(&a).chars().count(), MAX_COMPARED_CHARS);
        assert!(close(jaro_winkler(&a, &b), 1.0));
        assert_eq!(levenshtein(&a, &b), 0);
        assert_eq!(damerau(&a, &b), 0);
        assert_eq!(levenshtein(&a, "アイウ"), MAX_COMPARED_CHARS - 3);
        // The work charged is bounded too, and short names cost one step.
        assert_eq!(work(&a, &b), 1 + 128 * 128 / 256);
        assert_eq!(work("ヤマダ", "ヤマダ"), 1);
    }

    #[test]
    fn date_relations() {
        let d = |s: &str| Date::parse(s).unwrap();
        assert_eq!(compare_dates(d("1974-12-09"), d("1974-12-09")), DateRelation::Same);
        assert_eq!(compare_dates(d("1974-12-09"), d("1974-09-12")), DateRelation::Swapped);
        assert_eq!(compare_dates(d("1983-05-01"), d("1988-05-01")), DateRelation::YearTypo);
        assert_eq!(compare_dates(d("1983-05-01"), d("1983-05-03")), DateRelation::Apart(2));
        assert_eq!(compare_dates(d("1983-05-01"), d("1993-05-01")), DateRelation::YearTypo);
        assert_eq!(compare_dates(d("1983-05-01"), d("1994-05-01")), DateRelation::Apart(4018));
    }
}
