//! Number hygiene and check digits (DOMAIN §1): My Number, corporate number, insurer
//! number, medical institution code, Luhn, and a privacy mask.
//!
//! Input → output: `&str` → cleaned `Cow<str>` ([`digits`]), `bool` / `Option<u8>` verdicts,
//! or a masked `String`.
//! Never: I/O, panics, or cleaning inside a validator: every `is_valid_*` checks the stored
//! form exactly as given (call [`digits`] first if input hygiene is wanted). A valid check
//! digit only says "no typo detected", never that a number belongs to a person (§4).

use std::borrow::Cow;

use super::width::is_dash;

/// Input hygiene for numbers: full-width digits `０`–`９` → ASCII, whitespace (incl.
/// U+3000) removed, every hyphen / dash / long-vowel look-alike (`width::is_dash`) removed,
/// and a leading `〒` removed. Every other character is kept as it is, so a later length
/// or all-digits check still sees letters. `１２３４ ５６７８ ９０１８`→`123456789018`,
/// `〒100-0013`→`1000013`.
pub fn digits(s: &str) -> Cow<'_, str> {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return Cow::Borrowed(s);
    }
    let changes = |c: char| c.is_whitespace() || is_dash(c) || ('０'..='９').contains(&c);
    // A leading `〒` (possibly among leading spaces and dashes) goes; later ones stay.
    let body = s.trim_start_matches(|c: char| c == '〒' || c.is_whitespace() || is_dash(c));
    if body.len() == s.len() && !s.chars().any(changes) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(body.len());
    for c in body.chars() {
        match c {
            '０'..='９' => out.push(char::from_u32(c as u32 - 0xFF10 + 0x30).unwrap_or(c)),
            _ if c.is_whitespace() || is_dash(c) => {}
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// True iff `s` is non-empty and every character is an ASCII digit `0`–`9`.
pub fn is_ascii_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn digit_values(s: &str) -> impl DoubleEndedIterator<Item = u32> + '_ {
    s.bytes().map(|b| u32::from(b.wrapping_sub(b'0')))
}

/// Check digit of an 11-digit My Number base: weights 6 5 4 3 2 7 6 5 4 3 2 from the left,
/// r = Σ mod 11, check = 11 − r, or 0 when r ≤ 1. `None` unless exactly 11 ASCII digits.
/// `12345678901` → 8.
pub fn my_number_check_digit(base11: &str) -> Option<u8> {
    if base11.len() != 11 || !is_ascii_digits(base11) {
        return None;
    }
    const WEIGHTS: [u32; 11] = [6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let sum: u32 = digit_values(base11).zip(WEIGHTS).map(|(d, w)| d * w).sum();
    let r = sum % 11;
    let check = if r <= 1 { 0 } else { 11 - r };
    u8::try_from(check).ok()
}

/// True iff `s` is 12 ASCII digits whose first 11 are one digit repeated, or count up or down by
/// one (mod 10: `…8901…`, `…1098…`): numbers typed to fill a required field, not issued ones.
pub fn is_placeholder_my_number(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 12 || !is_ascii_digits(s) {
        return false;
    }
    let Some(base) = b.get(..11) else { return false };
    [0u8, 1, 9].iter().any(|&step| base.windows(2).all(|w| matches!(w, [x, y] if (x - b'0' + step) % 10 == y - b'0')))
}

/// True iff `s` is exactly 12 ASCII digits whose last digit is the My Number check digit.
/// Does not clean the input (`1234 5678 9018` and full-width digits are invalid here).
pub fn is_valid_my_number(s: &str) -> bool {
    if s.len() != 12 || !is_ascii_digits(s) {
        return false;
    }
    match (s.get(..11), s.bytes().last()) {
        (Some(base), Some(last)) => my_number_check_digit(base) == Some(last.wrapping_sub(b'0')),
        _ => false,
    }
}

/// True iff `s` is a corporate number: 13 ASCII digits, optionally preceded by `T` (the
/// invoice registration number), whose **leading** digit equals 9 − (Σ Pn×Qn mod 9) over
/// the 12-digit base, Pn counted from the right, Qn = 1 for odd n and 2 for even n.
pub fn is_valid_corporate_number(s: &str) -> bool {
    let s = s.strip_prefix('T').unwrap_or(s);
    if s.len() != 13 || !is_ascii_digits(s) {
        return false;
    }
    let (Some(check), Some(base)) = (s.bytes().next(), s.get(1..)) else {
        return false;
    };
    let sum: u32 = digit_values(base).rev().enumerate().map(|(i, d)| if i % 2 == 0 { d } else { 2 * d }).sum();
    u32::from(check.wrapping_sub(b'0')) == 9 - sum % 9
}

/// Luhn check over all of `s` (the rightmost digit is the check digit). False unless `s`
/// is at least 2 ASCII digits.
pub fn luhn_valid(s: &str) -> bool {
    if s.len() < 2 || !is_ascii_digits(s) {
        return false;
    }
    let sum: u32 = digit_values(s)
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                let x = 2 * d;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// True iff `s` is a health-insurer number: 8 ASCII digits (法別番号, 都道府県, 保険者別番号,
/// 検証番号) or 6 (municipal NHI), passing Luhn. `33120015`, `01040013` → true.
/// The 法別番号 list is not checked here.
pub fn is_valid_insurer_number(s: &str) -> bool {
    (s.len() == 8 || s.len() == 6) && luhn_valid(s)
}

/// True iff `s` is a 10-digit medical institution code: prefecture `01`–`47`, a 点数表
/// digit among 1 (医科), 3 (歯科), 4 (調剤), 6 (訪問看護), then 郡市区 (2) + 番号 (4) +
/// check digit, Luhn over the first 9 digits. `0110113719` → true.
pub fn is_valid_medical_institution_code(s: &str) -> bool {
    if s.len() != 10 || !is_ascii_digits(s) {
        return false;
    }
    let pref = s.get(..2).and_then(|p| p.parse::<u8>().ok());
    let table = s.as_bytes().get(2).copied();
    matches!(pref, Some(1..=47)) && matches!(table, Some(b'1' | b'3' | b'4' | b'6')) && luhn_valid(s)
}

/// Privacy mask for messages and logs: every character but the last 4 becomes `*`
/// (`123456789018` → `********9018`). Inputs of 4 characters or fewer are masked
/// entirely, so the result never shows a short value in full.
pub fn mask(s: &str) -> String {
    let n = s.chars().count();
    if n <= 4 {
        return "*".repeat(n);
    }
    let keep_from = n - 4;
    s.chars().enumerate().map(|(i, c)| if i < keep_from { '*' } else { c }).collect()
}

/// Which digit runs [`mask_digit_runs`] masks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DigitRuns {
    /// Runs of at least this many digits are masked.
    pub min_digits: usize,
    /// A run written in groups (`1234 5678 9018`, `0001-001-1234567`) counts as one only when
    /// every group has at least this many digits; otherwise each group is a run of its own (so
    /// that `1-2-3 405` in an address is four short numbers, not one long one).
    pub min_group: usize,
    /// A postal code written with its hyphen (`100-0001`: three digits, a hyphen, four) is
    /// shown as it is: no personal number is written that way.
    pub postal_shown: bool,
}

impl DigitRuns {
    /// What a crash message masks: any number of five or more digits, however written.
    pub const CRASH: DigitRuns = DigitRuns { min_digits: 5, min_group: 1, postal_shown: false };

    /// Numbers longer than `shown` digits, as a personal number would be (a My Number has 12,
    /// an account number 7), written plain or in groups of three or more; postal codes with
    /// their hyphen are shown.
    pub fn longer_than(shown: usize) -> DigitRuns {
        DigitRuns { min_digits: shown + 1, min_group: 3, postal_shown: true }
    }
}

/// Mask every run of digits that `runs` selects (ASCII or full-width, possibly written with
/// spaces or hyphens between groups, as `1234 5678 9018`) to its last four digits, as [`mask`]
/// does; separators and everything else are kept. Borrows when nothing is masked.
pub fn mask_digit_runs(text: &str, runs: DigitRuns) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    let is_digit = |c: char| c.is_ascii_digit() || ('０'..='９').contains(&c);
    let is_sep = |c: char| matches!(c, ' ' | '-' | '\u{3000}' | '－' | '‐' | '−' | 'ー');
    // The common case: no run long enough, nothing to copy.
    let digits = text.chars().filter(|&c| is_digit(c)).count();
    if digits < runs.min_digits {
        return Cow::Borrowed(text);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if !is_digit(c) {
            out.push(c);
            i += 1;
            continue;
        }
        // The run: groups of digits joined by one separator with a digit on both sides.
        let mut end = i;
        let (mut count, mut group, mut shortest) = (0usize, 0usize, usize::MAX);
        while let Some(&d) = chars.get(end) {
            if is_digit(d) {
                count += 1;
                group += 1;
                end += 1;
            } else if is_sep(d) && chars.get(end + 1).is_some_and(|&n| is_digit(n)) {
                shortest = shortest.min(group);
                group = 0;
                end += 1;
            } else {
                break;
            }
        }
        shortest = shortest.min(group);
        let run = chars.get(i..end).unwrap_or(&[]);
        let postal = runs.postal_shown
            && run.len() == 8
            && run.get(3).is_some_and(|&c| c != ' ' && c != '\u{3000}' && !is_digit(c));
        if postal {
            out.extend(run);
        } else if shortest < runs.min_group {
            // Groups too short to be one number: each group on its own.
            let mut start = 0;
            for (k, &d) in run.iter().enumerate() {
                if !is_digit(d) {
                    changed |= push_group(&mut out, run.get(start..k).unwrap_or(&[]), runs.min_digits);
                    out.push(d);
                    start = k + 1;
                }
            }
            changed |= push_group(&mut out, run.get(start..).unwrap_or(&[]), runs.min_digits);
        } else if count >= runs.min_digits {
            changed = true;
            let mut seen = 0;
            for &d in run {
                if is_digit(d) {
                    seen += 1;
                    out.push(if seen > count - 4 { d } else { '*' });
                } else {
                    out.push(d);
                }
            }
        } else {
            out.extend(run);
        }
        i = end;
    }
    if changed { Cow::Owned(out) } else { Cow::Borrowed(text) }
}

/// Push one group of digits, masked to its last four when it has `min_digits` or more;
/// whether it was masked.
fn push_group(out: &mut String, group: &[char], min_digits: usize) -> bool {
    if group.len() < min_digits {
        out.extend(group);
        return false;
    }
    let keep_from = group.len() - 4.min(group.len());
    out.extend(group.iter().enumerate().map(|(k, &d)| if k < keep_from { '*' } else { d }));
    true
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "tests may panic")]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn digit_runs_are_masked_to_their_last_four() {
        let crash = |s: &str| mask_digit_runs(s, DigitRuns::CRASH).into_owned();
        assert_eq!(crash("bad value 123456789018 here"), "bad value ********9018 here");
        assert_eq!(crash("1234 5678 9018"), "**** **** 9018");
        assert_eq!(crash("口座 0001-001-1234567"), "口座 ****-***-***4567");
        assert_eq!(crash("１２３４５６７８９０１８"), "********９０１８");
        // Short numbers (line numbers, counts, codes) are left alone.
        assert_eq!(crash("index 3 out of range for length 1200"), "index 3 out of range for length 1200");
        assert_eq!(crash("12345"), "*2345");
        assert_eq!(crash("a - 1"), "a - 1");

        // In values shown to a clerk: numbers longer than a field holds by nature.
        let shown = |s: &str, n: usize| mask_digit_runs(s, DigitRuns::longer_than(n)).into_owned();
        assert_eq!(shown("123456789018", 6), "********9018");
        assert_eq!(shown("6196-550-5892262", 6), "****-***-***2262");
        assert_eq!(shown("1234 5678 9018", 6), "**** **** 9018");
        assert_eq!(shown("5892262", 6), "***2262");
        // A postal code in a field that holds one, and a short address number, stay readable.
        assert_eq!(shown("1000001", 7), "1000001");
        assert_eq!(shown("〒100-0001 東京都", 6), "〒100-0001 東京都");
        assert_eq!(crash("100-0001"), "***-0001");
        assert_eq!(shown("1000-001", 6), "***0-001");
        assert_eq!(shown("東京都千代田区1-2-3 405号室", 6), "東京都千代田区1-2-3 405号室");
        assert_eq!(shown("千代田区1-2 3456789", 6), "千代田区1-2 ***6789");
        assert!(matches!(mask_digit_runs("山田 太郎", DigitRuns::longer_than(6)), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn my_number_vectors() {
        assert_eq!(my_number_check_digit("12345678901"), Some(8));
        for s in [
            "123456789018",
            "987654321018",
            "200000000050",
            "000000000060",
            "621498320257",
            "983205673214",
            "200000000000",
        ] {
            assert!(is_valid_my_number(s), "{s}");
        }
        for s in [
            "123456789019",
            "123456789010",
            "213456789018",
            "621498320258",
            "12345678901",
            "１２３４５６７８９０１８",
            "1234 5678 9018",
            "",
            "12345678901a",
        ] {
            assert!(!is_valid_my_number(s), "{s}");
        }
        assert_eq!(my_number_check_digit("1234567890"), None);
        assert_eq!(my_number_check_digit("1234567890a"), None);
    }

    #[test]
    fn corporate_vectors() {
        for s in ["7000012050002", "7010005013337", "1000011000005", "5835678256246", "7123456789012", "T7000012050002"]
        {
            assert!(is_valid_corporate_number(s), "{s}");
        }
        for s in
            ["2835678256246", "8000012050002", "0123456789012", "700001205000", "t7000012050002", "TT7000012050002"]
        {
            assert!(!is_valid_corporate_number(s), "{s}");
        }
    }

    #[test]
    fn insurer_and_medical_vectors() {
        assert!(is_valid_insurer_number("33120015"));
        assert!(is_valid_insurer_number("01040013"));
        assert!(!is_valid_insurer_number("06130000"));
        assert!(is_valid_insurer_number("06130009"));
        // 6-digit NHI numbers validate the same as their 00-padded 8-digit form
        for n in 0..1000u32 {
            let six = format!("{:06}", n * 997 % 1_000_000);
            assert_eq!(is_valid_insurer_number(&six), is_valid_insurer_number(&format!("00{six}")));
        }
        assert!(is_valid_medical_institution_code("0110113719"));
        for s in ["1311234567", "4311234567", "1234567890", "0110113718", "4810113719", "011011371"] {
            assert!(!is_valid_medical_institution_code(s), "{s}");
        }
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398710"));
        assert!(!luhn_valid("0"));
    }

    #[test]
    fn hygiene() {
        assert_eq!(digits("１２３４ ５６７８ ９０１８"), "123456789018");
        assert_eq!(digits("1234-5678-9018"), "123456789018");
        assert_eq!(digits("〒１００－００１３"), "1000013");
        assert_eq!(digits(" 〒100−0013 "), "1000013");
        assert_eq!(digits("１ー２ｰ3"), "123");
        assert_eq!(digits("12a4"), "12a4");
        assert_eq!(digits("〒〒1"), "1");
        assert_eq!(digits("1〒2"), "1〒2");
        assert!(matches!(digits("123456789018"), Cow::Borrowed(_)));
        assert!(!is_valid_my_number("１２３４５６７８９０１８"));
        assert!(is_valid_my_number(&digits("１２３４５６７８９０１８")));
        assert!(is_ascii_digits("0123"));
        assert!(!is_ascii_digits(""));
        assert!(!is_ascii_digits("１"));
    }

    #[test]
    fn placeholders_are_repeated_digits_or_runs() {
        for p in ["000000000000", "111111111118", "123456789018", "987654321093", "890123456781", "210987654329"] {
            assert!(is_placeholder_my_number(p), "{p}");
        }
        for n in
            ["463760444596", "528731694022", "123456789118", "11111111111", "1111111111118", "１１１１１１１１１１１８"]
        {
            assert!(!is_placeholder_my_number(n), "{n}");
        }
    }

    #[test]
    fn masking() {
        assert_eq!(mask("123456789018"), "********9018");
        assert_eq!(mask("1234"), "****");
        assert_eq!(mask(""), "");
        assert_eq!(mask("１２３４５"), "*２３４５");
    }

    proptest! {
        #[test]
        fn never_panics_and_idempotent(s in any::<String>()) {
            let d = digits(&s).into_owned();
            prop_assert_eq!(digits(&d).into_owned(), d);
            let _ = (is_valid_my_number(&s), is_valid_corporate_number(&s), luhn_valid(&s));
            let _ = (is_valid_insurer_number(&s), is_valid_medical_institution_code(&s));
            prop_assert_eq!(mask(&s).chars().count(), s.chars().count());
        }

        #[test]
        fn check_digit_roundtrip(base in "[0-9]{11}") {
            let c = my_number_check_digit(&base).unwrap();
            let full = format!("{base}{c}");
            prop_assert!(is_valid_my_number(&full));
        }
    }
}
