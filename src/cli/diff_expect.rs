//! `kensa diff --expect FILE`: the changes a rule change is meant to make, so that the diff gate
//! fails only on what was not intended, and says which.
//!
//! ```yaml
//! decisions:                 # decision transitions, by "from -> to"
//!   accept -> review: 3      # exactly 3 records
//!   review -> accept: 1..5   # between 1 and 5 (`5..` at least 5, `..5` at most 5)
//!   accept -> reject: any    # any number, none included
//! rules:                     # per rule: records it newly fires on, stops firing on, fires on differently
//!   local.residence_card: { newly_fires: 1..10 }
//!   kana.given_is_katakana: { stops_firing: any }
//! ```
//!
//! Unintended: a decision transition that happened and is not listed, or whose count is outside
//! its range; a listed expectation that did not happen as written (a range without 0 that got
//! none); when `rules:` is given, a rule that fires differently and is not listed, or a count of
//! a listed rule outside its range (a count not listed must be 0).

use std::collections::BTreeMap;

use serde::Deserialize;

/// An expected count: a number, `A..B`, `A..`, `..B` or `any`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amount {
    min: usize,
    max: usize,
}

impl Amount {
    fn parse(text: &str) -> Option<Amount> {
        let t = text.trim();
        if t == "any" {
            return Some(Amount { min: 0, max: usize::MAX });
        }
        if let Some((a, b)) = t.split_once("..") {
            let min = if a.trim().is_empty() { 0 } else { a.trim().parse().ok()? };
            let max = if b.trim().is_empty() { usize::MAX } else { b.trim().parse().ok()? };
            return (min <= max).then_some(Amount { min, max });
        }
        let n = t.parse().ok()?;
        Some(Amount { min: n, max: n })
    }

    fn holds(self, n: usize) -> bool {
        (self.min..=self.max).contains(&n)
    }
}

impl std::fmt::Display for Amount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.min, self.max) {
            (0, usize::MAX) => f.write_str("any"),
            (a, b) if a == b => write!(f, "{a}"),
            (a, usize::MAX) => write!(f, "{a}.."),
            (a, b) => write!(f, "{a}..{b}"),
        }
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Amount, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        let text = match Raw::deserialize(d)? {
            Raw::N(n) => n.to_string(),
            Raw::S(s) => s,
        };
        Amount::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{text}` is not a count: write a number (3), a range (1..5, 5.., ..5) or `any`"
            ))
        })
    }
}

/// Expected changes of one rule.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleExpect {
    newly_fires: Option<Amount>,
    stops_firing: Option<Amount>,
    fires_differently: Option<Amount>,
}

/// The expectations file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    decisions: BTreeMap<String, Amount>,
    rules: Option<BTreeMap<String, RuleExpect>>,
}

const DECISIONS: [&str; 3] = ["accept", "review", "reject"];

/// `accept -> review` (or `accept → review`) as a pair of decision names.
fn transition(key: &str) -> Option<(&'static str, &'static str)> {
    let (a, b) = key.split_once("->").or_else(|| key.split_once('→'))?;
    let find = |s: &str| DECISIONS.iter().copied().find(|d| *d == s.trim());
    let (a, b) = (find(a)?, find(b)?);
    (a != b).then_some((a, b))
}

/// Read and check an expectations file; the error names the file and what to fix.
pub fn load(path: &std::path::Path) -> Result<Expect, String> {
    let name = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the expectations `{name}`: {e}"))?;
    let expect: Expect =
        serde_saphyr::from_str(&text).map_err(|e| format!("the expectations `{name}` are not valid: {e}"))?;
    for key in expect.decisions.keys() {
        if transition(key).is_none() {
            return Err(format!(
                "the expectations `{name}`: `{key}` is not a decision change; write e.g. `accept -> review` \
                 (accept, review or reject on each side, two different ones)"
            ));
        }
    }
    Ok(expect)
}

/// What a diff found, as the expectations see it.
pub struct Found<'a> {
    /// (from, to, records) of every transition between two different decisions.
    pub transitions: Vec<(&'static str, &'static str, usize)>,
    /// (rule, newly fires, stops firing, fires differently).
    pub rules: Vec<(&'a str, usize, usize, usize)>,
}

/// The changes that were not intended, one line each (empty: everything as expected).
pub fn unintended(expect: &Expect, found: &Found<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for &(from, to, n) in &found.transitions {
        let listed = expect.decisions.iter().find(|(k, _)| transition(k) == Some((from, to)));
        match listed {
            None if n > 0 => out.push(format!("{from} -> {to}: {n} records, not expected")),
            Some((_, a)) if !a.holds(n) => out.push(format!("{from} -> {to}: {n} records, expected {a}")),
            _ => {}
        }
    }
    let Some(rules) = &expect.rules else { return out };
    for (rule, e) in rules {
        let (fires, stops, differs) =
            found.rules.iter().find(|r| r.0 == rule.as_str()).map_or((0, 0, 0), |r| (r.1, r.2, r.3));
        for (what, n, a) in [
            ("newly fires on", fires, e.newly_fires),
            ("stops firing on", stops, e.stops_firing),
            ("fires differently on", differs, e.fires_differently),
        ] {
            let a = a.unwrap_or(Amount { min: 0, max: 0 });
            if !a.holds(n) {
                out.push(format!("{rule} {what} {n} records, expected {a}"));
            }
        }
    }
    for &(rule, fires, stops, differs) in &found.rules {
        if !rules.contains_key(rule) && fires + stops + differs > 0 {
            out.push(format!("{rule} changes ({fires} newly fire, {stops} stop, {differs} differ), not expected"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn expect(yaml: &str) -> Expect {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn counts_and_ranges() {
        assert_eq!(Amount::parse("3"), Some(Amount { min: 3, max: 3 }));
        assert_eq!(Amount::parse("1..5").unwrap().to_string(), "1..5");
        assert_eq!(Amount::parse("5..").unwrap().to_string(), "5..");
        assert_eq!(Amount::parse("..5").unwrap().to_string(), "0..5");
        assert_eq!(Amount::parse("any").unwrap().to_string(), "any");
        assert_eq!(Amount::parse("5..1"), None);
        assert_eq!(Amount::parse("some"), None);
        assert_eq!(transition("accept -> review"), Some(("accept", "review")));
        assert_eq!(transition("review→accept"), Some(("review", "accept")));
        assert_eq!(transition("accept -> accept"), None);
        assert_eq!(transition("accept -> maybe"), None);
    }

    #[test]
    fn only_what_was_not_intended_is_reported() {
        let e = expect(
            "decisions:\n  accept -> review: 1..5\n  review -> accept: any\nrules:\n  local.card: { newly_fires: 2.. }\n",
        );
        let found = Found {
            transitions: vec![("accept", "review", 3), ("review", "accept", 0), ("accept", "reject", 0)],
            rules: vec![("local.card", 3, 0, 0)],
        };
        assert!(unintended(&e, &found).is_empty());
        // Too many, an unlisted transition, an unlisted rule, a listed rule that stops firing.
        let found = Found {
            transitions: vec![("accept", "review", 9), ("accept", "reject", 2)],
            rules: vec![("local.card", 3, 1, 0), ("kana.given_is_katakana", 0, 4, 0)],
        };
        assert_eq!(
            unintended(&e, &found),
            [
                "accept -> review: 9 records, expected 1..5",
                "accept -> reject: 2 records, not expected",
                "local.card stops firing on 1 records, expected 0",
                "kana.given_is_katakana changes (0 newly fire, 4 stop, 0 differ), not expected",
            ]
        );
        // An expected change that did not happen.
        let found = Found { transitions: vec![("accept", "review", 0)], rules: vec![] };
        assert_eq!(
            unintended(&e, &found),
            ["accept -> review: 0 records, expected 1..5", "local.card newly fires on 0 records, expected 2.."]
        );
    }
}
