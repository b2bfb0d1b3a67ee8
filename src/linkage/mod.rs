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
}

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
            Test::Swapped | Test::YearTypo | Test::WithinDays(_) => c == Comparator::Date,
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
    fn weights_and_probability() {
        assert!((weight(0.9, 0.01) - 6.491).abs() < 1e-3);
        assert!(weight(0.05, 0.95) < 0.0);
        assert!((probability(0.5, 0.0) - 0.5).abs() < 1e-9);
        assert!(probability(0.001, 20.0) > 0.99);
        assert!(probability(0.001, -5.0) < 0.001);
        assert!(probability(0.001, 5000.0) <= 1.0);
    }
}
