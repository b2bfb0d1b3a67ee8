//! Record linkage: comparators and Fellegi-Sunter match weights.
//!
//! Input → output: pairs of normalized values → agreement levels → weights → a match
//! probability. Pure, no I/O; the rule language decides which values are compared, with which
//! comparator, at which levels (nothing here knows about Japanese names or FEBRL).

pub mod block;
pub mod comparators;
pub mod em;

use crate::normalize::date::Date;
use comparators::DateRelation;

/// The comparators a `compare … using …` can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparator {
    Exact,
    JaroWinkler,
    Levenshtein,
    Damerau,
    Date,
    Number,
    /// `exact` on a comparison of parts (`compare name = (family: …, given: …) using exact`):
    /// the parts are compared one by one. Not a name in the language; the checker chooses it.
    Parts,
}

/// Joins the parts of a comparison of parts into one compared text (a character no name,
/// date or key contains).
pub const PART_SEPARATOR: char = '\u{1F}';

impl Comparator {
    pub const NAMES: &'static [&'static str] = &["exact", "jaro_winkler", "levenshtein", "damerau", "date", "number"];

    pub fn from_name(name: &str) -> Option<Comparator> {
        Some(match name {
            "exact" => Comparator::Exact,
            "jaro_winkler" => Comparator::JaroWinkler,
            "levenshtein" => Comparator::Levenshtein,
            "damerau" => Comparator::Damerau,
            "date" => Comparator::Date,
            "number" => Comparator::Number,
            _ => return None,
        })
    }
}

/// What a level requires of a pair of values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Test {
    Same,
    Similarity(f64),
    Distance(u32),
    Difference(f64),
    Swapped,
    YearTypo,
    WithinDays(u32),
    /// `same family`: that part (by position) agrees, whatever the others do.
    PartSame(u8),
    Else,
}

impl Test {
    /// Whether the test makes sense for the comparator.
    pub fn fits(self, c: Comparator) -> bool {
        match self {
            Test::Same | Test::Else => true,
            Test::Similarity(_) => c == Comparator::JaroWinkler,
            Test::Distance(_) => matches!(c, Comparator::Levenshtein | Comparator::Damerau),
            Test::Difference(_) => c == Comparator::Number,
            Test::Swapped => matches!(c, Comparator::Date | Comparator::Parts),
            Test::YearTypo | Test::WithinDays(_) => c == Comparator::Date,
            Test::PartSame(_) => c == Comparator::Parts,
        }
    }
}

/// A value to compare: text or a date (other values are compared as their text).
#[derive(Clone, Copy, Debug)]
pub enum Cmp<'a> {
    Text(&'a str),
    Date(Date),
    Number(f64),
}

/// The first level whose test the pair passes (levels are in declaration order; the last
/// is `else`).
pub fn level(comparator: Comparator, tests: &[Test], a: Cmp<'_>, b: Cmp<'_>) -> Option<usize> {
    if comparator == Comparator::Parts {
        return match (a, b) {
            (Cmp::Text(x), Cmp::Text(y)) => parts_level(tests, x, y),
            _ => None,
        };
    }
    let mut cache: Option<f64> = None;
    let mut dist: Option<usize> = None;
    for (i, t) in tests.iter().enumerate() {
        let hit = match (*t, a, b) {
            (Test::Else, _, _) => true,
            (Test::Same, Cmp::Text(x), Cmp::Text(y)) => x == y,
            (Test::Same, Cmp::Date(x), Cmp::Date(y)) => x == y,
            (Test::Same, Cmp::Number(x), Cmp::Number(y)) => x == y,
            (Test::Difference(max), Cmp::Number(x), Cmp::Number(y)) => (x - y).abs() <= max,
            (Test::Similarity(min), Cmp::Text(x), Cmp::Text(y)) => {
                *cache.get_or_insert_with(|| comparators::jaro_winkler(x, y)) >= min
            }
            (Test::Distance(max), Cmp::Text(x), Cmp::Text(y)) => {
                let d = *dist.get_or_insert_with(|| match comparator {
                    Comparator::Damerau => comparators::damerau(x, y),
                    _ => comparators::levenshtein(x, y),
                });
                d <= max as usize
            }
            (Test::Swapped, Cmp::Date(x), Cmp::Date(y)) => comparators::compare_dates(x, y) == DateRelation::Swapped,
            (Test::YearTypo, Cmp::Date(x), Cmp::Date(y)) => comparators::compare_dates(x, y) == DateRelation::YearTypo,
            (Test::WithinDays(n), Cmp::Date(x), Cmp::Date(y)) => x.to_days().abs_diff(y.to_days()) <= n,
            _ => false,
        };
        if hit {
            return Some(i);
        }
    }
    None
}

/// The level of a comparison of parts: texts joined by [`PART_SEPARATOR`]. A part agrees when
/// it is the same non-empty text on both sides; a side whose parts are all empty is absent.
fn parts_level(tests: &[Test], x: &str, y: &str) -> Option<usize> {
    // Each side split once (names have two parts; more than `Parts::MAX` are split again per
    // part, as they come).
    let (xs, ys) = (Parts::of(x), Parts::of(y));
    if xs.all_empty() || ys.all_empty() {
        return None;
    }
    let agrees = |i: usize, j: usize| {
        let (p, q) = (xs.get(i), ys.get(j));
        !p.is_empty() && p == q
    };
    let n = xs.len.max(ys.len);
    tests.iter().position(|t| match *t {
        Test::Same => (0..n).all(|i| agrees(i, i)),
        Test::PartSame(i) => agrees(usize::from(i), usize::from(i)),
        Test::Swapped => n == 2 && agrees(0, 1) && agrees(1, 0) && xs.get(0) != xs.get(1),
        Test::Else => true,
        _ => false,
    })
}

/// A text's parts (split at [`PART_SEPARATOR`]).
struct Parts<'a> {
    text: &'a str,
    first: [&'a str; Parts::MAX],
    len: usize,
}

impl<'a> Parts<'a> {
    const MAX: usize = 4;

    fn of(text: &'a str) -> Parts<'a> {
        let mut first = [""; Parts::MAX];
        let mut len = 0;
        for (slot, part) in (0..).zip(text.split(PART_SEPARATOR)) {
            if let Some(s) = first.get_mut(slot) {
                *s = part;
            }
            len = slot + 1;
        }
        Parts { text, first, len }
    }

    fn get(&self, i: usize) -> &'a str {
        match self.first.get(i) {
            Some(p) if i < self.len => p,
            Some(_) => "",
            None => self.text.split(PART_SEPARATOR).nth(i).unwrap_or(""),
        }
    }

    fn all_empty(&self) -> bool {
        (0..self.len).all(|i| self.get(i).is_empty())
    }
}

/// Which parts of a comparison of parts agree at a level (bit `i` for part `i`), for the
/// frequency adjustment: the agreement that a level asserts, not what happens to agree.
pub fn agreeing_parts(test: Test, parts: usize) -> u64 {
    match test {
        Test::Same => (1u64 << parts.min(63)) - 1,
        Test::PartSame(i) => 1u64 << u32::from(i).min(63),
        _ => 0,
    }
}

/// A term-frequency adjustment (as in Splink), in bits: how much rarer (positive) or commoner
/// (negative) agreement on this value is than agreement on an average value. `share` is the
/// value's share of the records (count / total); `agreement` is the chance that two records
/// picked at random agree (Σ share² over all values). Bounded to ±[`MAX_ADJUSTMENT`] so that
/// a value seen once in a small registry does not outweigh everything else.
pub fn frequency_adjustment(share: f64, agreement: f64) -> f64 {
    if !(share > 0.0 && agreement > 0.0) {
        return 0.0;
    }
    (agreement / share).log2().clamp(-MAX_ADJUSTMENT, MAX_ADJUSTMENT)
}

/// The largest term-frequency adjustment, in bits (either way).
pub const MAX_ADJUSTMENT: f64 = 6.0;

/// The evaluation steps [`level`] costs for a pair: the comparator's work on two texts
/// ([`comparators::work`]), 1 for anything else.
pub fn work(comparator: Comparator, a: Cmp<'_>, b: Cmp<'_>) -> u64 {
    match (comparator, a, b) {
        (Comparator::JaroWinkler | Comparator::Levenshtein | Comparator::Damerau, Cmp::Text(x), Cmp::Text(y)) => {
            comparators::work(x, y)
        }
        _ => 1,
    }
}

/// The Fellegi-Sunter weight of a level: log2(m / u).
pub fn weight(m: f64, u: f64) -> f64 {
    if m <= 0.0 || u <= 0.0 { 0.0 } else { (m / u).log2() }
}

/// The match probability from the prior and the sum of weights.
pub fn probability(prior: f64, total_weight: f64) -> f64 {
    let prior_odds = prior / (1.0 - prior);
    let odds = prior_odds * total_weight.exp2();
    if odds.is_infinite() { 1.0 } else { odds / (1.0 + odds) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_tried_in_order() {
        let tests = [Test::Same, Test::Similarity(0.9), Test::Else];
        let t = |s| Cmp::Text(s);
        assert_eq!(level(Comparator::JaroWinkler, &tests, t("ヤマダ"), t("ヤマダ")), Some(0));
        assert_eq!(level(Comparator::JaroWinkler, &tests, t("ナカヤマ ユウキ"), t("ナカヤマ ユキキ")), Some(1));
        assert_eq!(level(Comparator::JaroWinkler, &tests, t("イシイ"), t("サカモト")), Some(2));
    }

    #[test]
    fn numbers_compare_by_difference() {
        let tests = [Test::Same, Test::Difference(2.0), Test::Else];
        let n = Cmp::Number;
        assert_eq!(level(Comparator::Number, &tests, n(1980.0), n(1980.0)), Some(0));
        assert_eq!(level(Comparator::Number, &tests, n(1980.0), n(1982.0)), Some(1));
        assert_eq!(level(Comparator::Number, &tests, n(1980.0), n(1990.0)), Some(2));
        assert!(Test::Difference(1.0).fits(Comparator::Number) && !Test::Difference(1.0).fits(Comparator::Date));
    }

    #[test]
    fn parts_are_compared_one_by_one() {
        let tests = [Test::Same, Test::Swapped, Test::PartSame(1), Test::PartSame(0), Test::Else];
        let j = |a: &str, b: &str| format!("{a}{PART_SEPARATOR}{b}");
        let lv = |a: &str, b: &str| level(Comparator::Parts, &tests, Cmp::Text(a), Cmp::Text(b));
        assert_eq!(lv(&j("佐藤", "花子"), &j("佐藤", "花子")), Some(0));
        assert_eq!(lv(&j("SMITH", "JOHN"), &j("JOHN", "SMITH")), Some(1));
        // A name change keeps the given name; a sibling keeps the family name.
        assert_eq!(lv(&j("田中", "花子"), &j("佐藤", "花子")), Some(2));
        assert_eq!(lv(&j("佐藤", "太郎"), &j("佐藤", "次郎")), Some(3));
        assert_eq!(lv(&j("佐藤", "太郎"), &j("鈴木", "次郎")), Some(4));
        // Empty parts never agree; a side with no part at all is absent.
        assert_eq!(lv(&j("", "花子"), &j("", "次郎")), Some(4));
        assert_eq!(lv(&j("", ""), &j("", "")), None);
        // The same text in both parts is not "swapped".
        assert_eq!(lv(&j("AA", "BB"), &j("BB", "AA")), Some(1));
        assert_eq!(
            level(Comparator::Parts, &[Test::Swapped, Test::Else], Cmp::Text(&j("A", "A")), Cmp::Text(&j("A", "A"))),
            Some(1)
        );
        assert_eq!(agreeing_parts(Test::Same, 2), 0b11);
        assert_eq!(agreeing_parts(Test::PartSame(1), 2), 0b10);
        assert_eq!(agreeing_parts(Test::Swapped, 2), 0);
    }

    #[test]
    fn frequency_adjustments() {
        // 佐藤 (1.5 % of people) when two random people share a family name 0.2 % of the time.
        assert!(frequency_adjustment(0.015, 0.002) < -2.9);
        assert!(frequency_adjustment(0.00001, 0.002) > 5.0);
        assert_eq!(frequency_adjustment(1e-12, 0.002), MAX_ADJUSTMENT);
        assert_eq!(frequency_adjustment(0.0, 0.002), 0.0);
        assert_eq!(frequency_adjustment(0.002, 0.002), 0.0);
    }

    #[test]
    fn weights_and_probability() {
        assert!((weight(0.9, 0.01) - 6.491).abs() < 1e-3);
        assert!(weight(0.05, 0.95) < 0.0);
        assert!((probability(0.5, 0.0) - 0.5).abs() < 1e-9);
        assert!(probability(0.001, 20.0) > 0.99);
        assert!(probability(0.001, -5.0) < 0.001);
        assert!(probability(0.001, 5000.0) <= 1.0);
    }
}
