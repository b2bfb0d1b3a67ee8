//! Match profiles: what the `match` block needs of one record (its id, blocking keys and
//! compared values), computed once, so that batch jobs compare each pair from two small
//! profiles instead of reading both records again.
//!
//! The levels and weights come from the same [`score`] that rules about candidates use, so a
//! pair gets the same probability in `kensa dedup`, `kensa link` and `kensa eval --registry`.

use crate::builtins::Ctx;
use crate::compile::{CCompare, CMatch, Program};
use crate::linkage::{self, Cmp};
use crate::normalize::date::Date;
use crate::value::Value;

use super::{CandidateMatch, Comparison, EvalOptions, Frame, RecordError, comparable, json_kind};

/// One compared value of a profile.
#[derive(Clone, Debug, PartialEq)]
enum Compared {
    Absent,
    Text(Box<str>),
    Date(Date),
    Number(f64),
}

impl Compared {
    fn of(v: &Value<'_>) -> Compared {
        match comparable(v) {
            Some(Cmp::Text(t)) => Compared::Text(t.into()),
            Some(Cmp::Date(d)) => Compared::Date(d),
            Some(Cmp::Number(x)) => Compared::Number(x),
            None => Compared::Absent,
        }
    }

    fn as_cmp(&self) -> Option<Cmp<'_>> {
        match self {
            Compared::Absent => None,
            Compared::Text(t) => Some(Cmp::Text(t)),
            Compared::Date(d) => Some(Cmp::Date(*d)),
            Compared::Number(x) => Some(Cmp::Number(*x)),
        }
    }
}

/// A record as the rules' `match` block sees it: its id, its blocking keys and the value of
/// each `compare` line, computed once by [`crate::Engine::match_profile`]. Small (a few
/// short strings), so a batch job can hold millions of them instead of the records.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchProfile {
    id: Option<String>,
    keys: Vec<(u32, String)>,
    values: Box<[Compared]>,
}

impl MatchProfile {
    /// The record's id (the schema field marked `id`), if it has one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The blocking keys: (index of the `block on …` line, key text); absent keys left out.
    pub fn keys(&self) -> &[(u32, String)] {
        &self.keys
    }
}

/// The profile of one record. A record that is not an object, or whose fields cannot be read
/// at all, is an error; fields of the wrong type are simply absent from the profile.
pub fn profile(program: &Program, record: &serde_json::Value, today: Date) -> Result<MatchProfile, RecordError> {
    let serde_json::Value::Object(obj) = record else {
        return Err(RecordError::NotAnObject { found: json_kind(record) });
    };
    let id = program.record_id(record);
    let Some(m) = &program.matching else {
        return Ok(MatchProfile { id, keys: Vec::new(), values: Box::new([]) });
    };
    let mut frame = Frame::new(program, Ctx { today }, &[]);
    let opts = EvalOptions::reading(today);
    frame.load_record(obj, &opts, &mut Vec::new())?;
    let keys = super::keys_of(&mut frame, m);
    let values = m.compares.iter().map(|c| Compared::of(&frame.eval(c.value))).collect();
    Ok(MatchProfile { id, keys, values })
}

/// The level one `compare` line gives a pair, and its weight (0 when a value is absent).
pub(super) fn score(c: &CCompare, a: Option<Cmp<'_>>, b: Option<Cmp<'_>>) -> (Option<usize>, f64) {
    let level = match (a, b) {
        (Some(x), Some(y)) => linkage::level(c.comparator, &c.tests, x, y),
        _ => None,
    };
    (level, level.and_then(|l| c.weights.get(l).copied()).unwrap_or(0.0))
}

/// The match probability of two profiles; allocates nothing.
pub fn probability(m: &CMatch, a: &MatchProfile, b: &MatchProfile) -> f64 {
    let total: f64 = m
        .compares
        .iter()
        .zip(a.values.iter().zip(b.values.iter()))
        .map(|(c, (x, y))| score(c, x.as_cmp(), y.as_cmp()).1)
        .sum();
    linkage::probability(m.prior, total)
}

/// How `b` compares with `a`: probability and the level and weight of every `compare` line
/// (`id` is `b`'s).
pub fn compare(m: &CMatch, a: &MatchProfile, b: &MatchProfile) -> CandidateMatch {
    let mut levels = Vec::with_capacity(m.compares.len());
    let mut weights = Vec::with_capacity(m.compares.len());
    for (c, (x, y)) in m.compares.iter().zip(a.values.iter().zip(b.values.iter())) {
        let (level, w) = score(c, x.as_cmp(), y.as_cmp());
        levels.push(level);
        weights.push(w);
    }
    let total = weights.iter().sum();
    CandidateMatch {
        id: b.id.clone().unwrap_or_default(),
        probability: linkage::probability(m.prior, total),
        comparisons: comparisons(m, &levels, &weights),
    }
}

/// The evidence of a pair: one [`Comparison`] per `compare` line.
pub(super) fn comparisons(m: &CMatch, levels: &[Option<usize>], weights: &[f64]) -> Vec<Comparison> {
    m.compares
        .iter()
        .zip(levels.iter().zip(weights))
        .map(|(cmp, (level, w))| Comparison {
            name: cmp.name.to_string(),
            level: level.and_then(|l| cmp.levels.get(l)).map(|n| n.to_string()),
            weight: *w,
        })
        .collect()
}
