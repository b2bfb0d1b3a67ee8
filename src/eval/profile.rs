//! Match profiles: what the `match` block needs of one record (its id, blocking keys and
//! compared values), computed once, so that batch jobs compare each pair from two small
//! profiles instead of reading both records again.
//!
//! The levels and weights come from the same [`score`] that rules about candidates use, so a
//! pair gets the same probability in `kensa dedup`, `kensa link` and `kensa eval --registry`.

use crate::builtins::Ctx;
use crate::compile::{CCompare, CMatch, Program};
use crate::linkage::{self, Cmp, Comparator};
use crate::normalize::date::Date;
use crate::record_json::Json;
use crate::registry::{TERM_BLOCK, TermStat};
use crate::value::Value;

use super::{CandidateMatch, Comparison, EvalOptions, Frame, RecordError, comparable, json_kind};

/// One compared value of a profile; a text is a range of [`Compared::texts`].
#[derive(Clone, Copy, Debug, PartialEq)]
enum Slot {
    Absent,
    Text(u32, u32),
    Date(Date),
    Number(f64),
}

/// The compared values of one record, packed: every text in one allocation (a batch job
/// holds millions of profiles; an allocation per value was most of their memory).
#[derive(Clone, Debug, PartialEq, Default)]
struct Compared {
    texts: Box<str>,
    slots: Box<[Slot]>,
}

impl Compared {
    fn of<'v>(values: impl IntoIterator<Item = &'v Value<'v>>) -> Compared {
        let mut texts = String::new();
        let slots = values
            .into_iter()
            .map(|v| match comparable(v) {
                Some(Cmp::Text(t)) => {
                    let start = u32::try_from(texts.len()).unwrap_or(u32::MAX);
                    texts.push_str(t);
                    Slot::Text(start, u32::try_from(texts.len()).unwrap_or(u32::MAX))
                }
                Some(Cmp::Date(d)) => Slot::Date(d),
                Some(Cmp::Number(x)) => Slot::Number(x),
                None => Slot::Absent,
            })
            .collect();
        Compared { texts: texts.into_boxed_str(), slots }
    }

    fn cmp(&self, slot: &Slot) -> Option<Cmp<'_>> {
        match *slot {
            Slot::Absent => None,
            Slot::Text(start, end) => Some(Cmp::Text(self.texts.get(start as usize..end as usize).unwrap_or(""))),
            Slot::Date(d) => Some(Cmp::Date(d)),
            Slot::Number(x) => Some(Cmp::Number(x)),
        }
    }

    /// The value of `compare` line `i` (`None` absent; also past the last line).
    fn get(&self, i: usize) -> Option<Cmp<'_>> {
        self.slots.get(i).and_then(|s| self.cmp(s))
    }

    fn iter(&self) -> impl Iterator<Item = Option<Cmp<'_>>> {
        self.slots.iter().map(|s| self.cmp(s))
    }
}

/// A record as the rules' `match` block sees it: its id, its blocking keys and the value of
/// each `compare` line, computed once by [`crate::Engine::match_profile`]. Small (a few
/// short strings), so a batch job can hold millions of them instead of the records.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchProfile {
    id: Option<String>,
    /// The blocking keys as [`crate::linkage::block::key_hash`]es: equal keys are what
    /// blocking asks about, and a hash is 8 bytes where the text was an allocation.
    keys: Box<[u64]>,
    values: Compared,
    /// Per `compare` line, the term-frequency adjustment of this record's value
    /// ([`crate::Engine::weigh_by_frequency`]), NaN for none; empty until weighed.
    adjust: Box<[f64]>,
}

/// How many records of a population have each value that a `frequency` comparison counts:
/// what a batch job weighs agreement by (a registry keeps the same counts, [`TermStat`]).
#[derive(Clone, Debug, Default)]
pub struct TermCounts {
    counts: rustc_hash::FxHashMap<(usize, Box<str>), u64>,
    /// Per compare line: (records counted, Σ count²).
    totals: rustc_hash::FxHashMap<usize, (u64, u64)>,
}

impl TermCounts {
    /// Count the values of `population`.
    pub fn of(m: &CMatch, population: &[MatchProfile]) -> TermCounts {
        let mut t = TermCounts::default();
        for p in population {
            for (i, value) in counted_values(m, &p.values) {
                *t.counts.entry((i, value.into())).or_default() += 1;
            }
        }
        for ((i, _), n) in &t.counts {
            let total = t.totals.entry(*i).or_default();
            total.0 += n;
            total.1 += n * n;
        }
        t
    }

    /// Counts gathered elsewhere (a distributed job's `(compare line, value, records)` rows, from
    /// [`crate::Engine::counted_terms`]); equal to [`TermCounts::of`] over the same population.
    pub fn from_counts(rows: impl IntoIterator<Item = (usize, String, u64)>) -> TermCounts {
        let mut t = TermCounts::default();
        for (i, value, n) in rows {
            *t.counts.entry((i, value.into())).or_default() += n;
        }
        for ((i, _), n) in &t.counts {
            let total = t.totals.entry(*i).or_default();
            total.0 += n;
            total.1 += n * n;
        }
        t
    }

    /// The compare lines counted, in order: (index, records counted, distinct values, chance
    /// that two records picked at random agree).
    pub fn summary(&self) -> Vec<(usize, u64, usize, f64)> {
        let mut out: Vec<(usize, u64, usize, f64)> = self
            .totals
            .iter()
            .map(|(&i, &(total, squares))| {
                let distinct = self.counts.keys().filter(|(c, _)| *c == i).count();
                let t = total as f64;
                (i, total, distinct, if total == 0 { 0.0 } else { squares as f64 / (t * t) })
            })
            .collect();
        out.sort_by_key(|x| x.0);
        out
    }

    /// The `n` most common values of compare line `compare`, with their counts (most common
    /// first; ties by value).
    pub fn most_common(&self, compare: usize, n: usize) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> =
            self.counts.iter().filter(|((c, _), _)| *c == compare).map(|((_, k), n)| (&**k, *n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v.truncate(n);
        v
    }

    fn stat(&self, compare: usize, value: &str) -> TermStat {
        let (total, squares) = self.totals.get(&compare).copied().unwrap_or_default();
        let count = self.counts.get(&(compare, Box::<str>::from(value))).copied().unwrap_or(0);
        TermStat { term: term_block(compare), count, total, squares }
    }
}

/// The term key's block index of compare line `i`.
pub(super) fn term_block(i: usize) -> u32 {
    TERM_BLOCK.saturating_add(u32::try_from(i).unwrap_or(u32::MAX - TERM_BLOCK))
}

/// The values of `profile` that the `frequency` compare lines count: `(compare line, value)`.
pub fn counted_terms(m: &CMatch, profile: &MatchProfile) -> Vec<(usize, String)> {
    counted_values(m, &profile.values).map(|(i, v)| (i, v.to_string())).collect()
}

/// The values counted by the `frequency` compare lines, of compared values `values`.
fn counted_values<'v>(m: &CMatch, values: &'v Compared) -> impl Iterator<Item = (usize, &'v str)> {
    m.compares.iter().zip(values.iter()).enumerate().filter_map(|(i, (c, v))| {
        let f = c.frequency.as_ref()?;
        let Some(Cmp::Text(t)) = v else { return None };
        Some((i, f.counted(c.comparator == Comparator::Parts, t)?))
    })
}

/// A population must have at least this many records counted for its own counts to be used;
/// a smaller one is weighed by the fallback shares (or not at all without them).
pub const MIN_COUNTED: u64 = 1_000;

/// The term-frequency adjustment, in bits, of compare line `c` for the record whose compared
/// value is `mine`, from how common that value is (`stat`, from the registry or the batch) or
/// from the fallback shares; `None` without a `frequency` clause or anything to weigh by.
pub(super) fn adjustment(c: &CCompare, mine: Option<Cmp<'_>>, stat: Option<TermStat>) -> Option<f64> {
    let f = c.frequency.as_ref()?;
    let Some(Cmp::Text(t)) = mine else { return None };
    let value = f.counted(c.comparator == Comparator::Parts, t)?;
    let (share, agreement) = match stat {
        Some(s) if s.total >= MIN_COUNTED => {
            let total = s.total as f64;
            (s.count.max(1) as f64 / total, s.squares as f64 / (total * total))
        }
        _ if !f.fallback.is_empty() => {
            (f.fallback.get(value).copied().unwrap_or(f.fallback_floor), f.fallback_agreement)
        }
        _ => return None,
    };
    Some(linkage::frequency_adjustment(share, agreement))
}

/// The term keys of a record's compared values: `(TERM_BLOCK + i, value)`.
pub(super) fn term_keys(m: &CMatch, values: &[crate::value::Value<'_>]) -> Vec<(u32, String)> {
    let compared = Compared::of(values);
    counted_values(m, &compared).map(|(i, v)| (term_block(i), v.to_string())).collect()
}

impl MatchProfile {
    /// The record's id (the schema field marked `id`), if it has one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The value of each `compare` line as text (`None` when absent): a date as `YYYY-MM-DD`,
    /// the parts of a value of parts joined by ` / `. Not masked: for the engine to mask.
    pub(crate) fn compared_texts(&self) -> Vec<Option<String>> {
        self.values
            .iter()
            .map(|v| match v? {
                Cmp::Text(t) => Some(t.replace(crate::linkage::PART_SEPARATOR, " / ")),
                Cmp::Date(d) => Some(d.to_string()),
                Cmp::Number(x) => Some(x.to_string()),
            })
            .collect()
    }

    /// The blocking keys, hashed with their `block on …` line
    /// ([`crate::internal::key_hash`]); absent keys left out.
    pub fn key_hashes(&self) -> &[u64] {
        &self.keys
    }
}

/// What the `match` block computes of an enrolled record (its compared values and id), kept
/// beside the record by a registry that holds records in memory
/// ([`crate::registry::MemoryRegistry`]), so that a record found again and again is not read
/// and normalized again each time. Used only by the program (and `today`) that computed it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredProfile {
    program: u64,
    today: Date,
    profile: MatchProfile,
    /// The values rules about candidates read of this record (`Program::cand_fields`,
    /// `Program::cand_lets`), so that judging a record against it reads nothing of its JSON.
    kept: Kept,
}

/// A value of a stored record, kept: text as a range of [`Kept::texts`].
#[derive(Clone, Copy, Debug, PartialEq)]
enum KeptValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Date(Date),
    Text(u32, u32),
    Group,
}

/// The kept values of one stored record: (field slot or `let` index, value), sorted; a value
/// that is a list is not kept (it is computed from the record when a rule asks).
#[derive(Clone, Debug, PartialEq, Default)]
struct Kept {
    texts: Box<str>,
    fields: Box<[(u32, KeptValue)]>,
    lets: Box<[(u32, KeptValue)]>,
}

impl Kept {
    fn keep(v: &Value<'_>, texts: &mut String) -> Option<KeptValue> {
        Some(match v {
            Value::Null => KeptValue::Null,
            Value::Bool(b) => KeptValue::Bool(*b),
            Value::Int(n) => KeptValue::Int(*n),
            Value::Float(x) => KeptValue::Float(*x),
            Value::Date(d) => KeptValue::Date(*d),
            Value::Group => KeptValue::Group,
            Value::Text(t) => {
                let start = u32::try_from(texts.len()).ok()?;
                texts.push_str(t.as_str());
                KeptValue::Text(start, u32::try_from(texts.len()).ok()?)
            }
            Value::List(_) => return None,
        })
    }

    fn find<'k>(&'k self, list: &[(u32, KeptValue)], key: u32) -> Option<Value<'k>> {
        let at = list.binary_search_by_key(&key, |(k, _)| *k).ok()?;
        Some(match list.get(at)?.1 {
            KeptValue::Null => Value::Null,
            KeptValue::Bool(b) => Value::Bool(b),
            KeptValue::Int(n) => Value::Int(n),
            KeptValue::Float(x) => Value::Float(x),
            KeptValue::Date(d) => Value::Date(d),
            KeptValue::Group => Value::Group,
            KeptValue::Text(start, end) => Value::text(self.texts.get(start as usize..end as usize)?),
        })
    }
}

impl StoredProfile {
    /// The compared value of `compare` line `i`, when this profile was computed by `program`
    /// for `today`.
    pub(crate) fn value(&self, program: &Program, today: Date, i: usize) -> Option<Option<Cmp<'_>>> {
        if self.program != program.uid || self.today != today {
            return None;
        }
        (i < self.profile.values.slots.len()).then(|| self.profile.values.get(i))
    }

    /// Whether this profile was computed by `program` for `today` (and so holds every compared
    /// value [`StoredProfile::value`] gives).
    pub(crate) fn covers(&self, program: &Program, today: Date) -> bool {
        self.program == program.uid && self.today == today
    }

    /// The record's id, as [`crate::Engine::record_id`] gives it.
    pub(crate) fn id(&self) -> Option<&str> {
        self.profile.id.as_deref()
    }

    /// The record's value of field slot `slot`, when kept (only for the program that
    /// [`StoredProfile::covers`]).
    pub(crate) fn field(&self, slot: u32) -> Option<Value<'_>> {
        self.kept.find(&self.kept.fields, slot)
    }

    /// The record's value of `let` binding `i`, when kept.
    pub(crate) fn binding(&self, i: u32) -> Option<Value<'_>> {
        self.kept.find(&self.kept.lets, i)
    }
}

/// A record about to be stored: its blocking and term keys ([`super::blocking_keys`]) and its
/// [`StoredProfile`], computed in one frame; no profile when the record cannot be read.
pub fn stored(program: &Program, record: &Json<'_>, today: Date) -> (Vec<(u32, String)>, Option<StoredProfile>) {
    let (Json::Object(obj), Some(m)) = (record, &program.matching) else { return (Vec::new(), None) };
    let mut frame = Frame::new(program, Ctx { today }, &[]);
    if frame.load_record(obj, &EvalOptions::reading(today), &mut Vec::new()).is_err() {
        return (Vec::new(), None);
    }
    let keys = super::lookup_keys(&mut frame, m);
    let computed: Vec<Value<'_>> = m.compares.iter().map(|c| frame.eval(c.value)).collect();
    let values = Compared::of(&computed);
    let id = frame.id_value.and_then(crate::compile::id_text);
    let profile = MatchProfile { id, keys: Box::new([]), values, adjust: Box::new([]) };
    // What rules about candidates will read of this record, computed as a candidate's own
    // frame computes it (a frame of its own, no candidates of its own).
    let mut texts = String::new();
    let fields = program
        .cand_fields
        .iter()
        .filter_map(|&slot| Some((slot, Kept::keep(frame.slots.get(slot as usize)?, &mut texts)?)))
        .collect();
    let lets = program
        .cand_lets
        .iter()
        .filter_map(|&i| Some((i, Kept::keep(&frame.eval_let(i as usize), &mut texts)?)))
        .collect();
    let kept = Kept { texts: texts.into_boxed_str(), fields, lets };
    (keys, Some(StoredProfile { program: program.uid, today, profile, kept }))
}

/// The profile of one record. A record that is not an object, or whose fields cannot be read
/// at all, is an error; fields of the wrong type are simply absent from the profile.
pub fn profile(program: &Program, record: &Json<'_>, today: Date) -> Result<MatchProfile, RecordError> {
    let Json::Object(obj) = record else {
        return Err(RecordError::NotAnObject { found: json_kind(record) });
    };
    let id = program.id_key.as_deref().and_then(|k| record.get(k)).and_then(crate::compile::id_text);
    let Some(m) = &program.matching else {
        return Ok(MatchProfile { id, keys: Box::new([]), values: Compared::default(), adjust: Box::new([]) });
    };
    let mut frame = Frame::new(program, Ctx { today }, &[]);
    let opts = EvalOptions::reading(today);
    frame.load_record(obj, &opts, &mut Vec::new())?;
    let keys =
        super::keys_of(&mut frame, m).iter().map(|(block, key)| crate::linkage::block::key_hash(*block, key)).collect();
    let computed: Vec<Value<'_>> = m.compares.iter().map(|c| frame.eval(c.value)).collect();
    Ok(MatchProfile { id, keys, values: Compared::of(&computed), adjust: Box::new([]) })
}

/// Weigh each profile's values by how common they are in `counts`.
pub fn weigh(m: &CMatch, profiles: &mut [MatchProfile], counts: &TermCounts) {
    if m.compares.iter().all(|c| c.frequency.is_none()) {
        return;
    }
    for p in profiles {
        p.adjust = m
            .compares
            .iter()
            .zip(p.values.iter())
            .enumerate()
            .map(|(i, (c, v))| {
                let stat = match v {
                    Some(Cmp::Text(t)) => c
                        .frequency
                        .as_ref()
                        .and_then(|f| f.counted(c.comparator == Comparator::Parts, t))
                        .map(|value| counts.stat(i, value)),
                    _ => None,
                };
                adjustment(c, v, stat).unwrap_or(f64::NAN)
            })
            .collect();
    }
}

/// The level one `compare` line gives a pair, its weight (0 when a value is absent) and the
/// term-frequency adjustment included in it: `adjust`, when the level asserts that the counted
/// value agrees.
pub(super) fn score(
    c: &CCompare,
    a: Option<Cmp<'_>>,
    b: Option<Cmp<'_>>,
    adjust: Option<f64>,
) -> (Option<usize>, f64, Option<f64>) {
    let level = match (a, b) {
        (Some(x), Some(y)) => linkage::level(c.comparator, &c.tests, x, y),
        _ => None,
    };
    let applied = match (level, &c.frequency) {
        (Some(l), Some(f)) if f.adjusts.get(l).copied().unwrap_or(false) => adjust,
        _ => None,
    };
    (level, level.and_then(|l| c.weights.get(l).copied()).unwrap_or(0.0) + applied.unwrap_or(0.0), applied)
}

/// The adjustment of profile `a`'s compare line `i`.
fn adjust_of(a: &MatchProfile, i: usize) -> Option<f64> {
    a.adjust.get(i).copied().filter(|x| !x.is_nan())
}

/// The match probability of two profiles; allocates nothing.
pub fn probability(m: &CMatch, a: &MatchProfile, b: &MatchProfile) -> f64 {
    let total: f64 = m
        .compares
        .iter()
        .zip(a.values.iter().zip(b.values.iter()))
        .enumerate()
        .map(|(i, (c, (x, y)))| score(c, x, y, adjust_of(a, i)).1)
        .sum();
    linkage::probability(m.prior, total)
}

/// How `b` compares with `a`: probability and the level and weight of every `compare` line
/// (`id` is `b`'s).
pub fn compare(m: &CMatch, a: &MatchProfile, b: &MatchProfile) -> CandidateMatch {
    let mut levels = Vec::with_capacity(m.compares.len());
    let mut weights = Vec::with_capacity(m.compares.len());
    let mut adjusted = Vec::with_capacity(m.compares.len());
    for (i, (c, (x, y))) in m.compares.iter().zip(a.values.iter().zip(b.values.iter())).enumerate() {
        let (level, w, adj) = score(c, x, y, adjust_of(a, i));
        levels.push(level);
        weights.push(w);
        adjusted.push(adj);
    }
    let total = weights.iter().sum();
    CandidateMatch {
        id: b.id.clone().unwrap_or_default(),
        probability: linkage::probability(m.prior, total),
        comparisons: comparisons(m, &levels, &weights, &adjusted),
    }
}

/// The evidence of a pair: one [`Comparison`] per `compare` line.
pub(super) fn comparisons(
    m: &CMatch,
    levels: &[Option<usize>],
    weights: &[f64],
    adjusted: &[Option<f64>],
) -> Vec<Comparison> {
    m.compares
        .iter()
        .zip(levels.iter().zip(weights))
        .enumerate()
        .map(|(i, (cmp, (level, w)))| Comparison {
            name: cmp.name.to_string(),
            level: level.and_then(|l| cmp.levels.get(l)).map(|n| n.to_string()),
            weight: *w,
            frequency_adjustment: adjusted.get(i).copied().flatten(),
        })
        .collect()
}
