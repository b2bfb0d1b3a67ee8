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

/// One compared value of a profile; a text is a range of the profile's texts
/// ([`Compared::texts`]). 12 bytes: a number is kept as the two halves of its bits (and
/// compared by them: `==` of two profiles), so that no variant needs 8-byte alignment (a batch
/// job holds one slot per record and `compare` line).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Slot {
    Absent,
    Text(u32, u32),
    Date(Date),
    Number(u32, u32),
}

impl Slot {
    fn number(x: f64) -> Slot {
        let bits = x.to_bits();
        Slot::Number((bits >> 32) as u32, bits as u32)
    }
}

/// The compared values of one record, packed: every text in one allocation (a batch job
/// holds millions of profiles; an allocation per value was most of their memory).
#[derive(Clone, Debug, PartialEq, Default)]
struct Compared {
    texts: Box<str>,
    slots: Box<[Slot]>,
}

impl Compared {
    fn of<'v>(values: &'v [Value<'v>]) -> Compared {
        let room = values.iter().map(|v| v.as_text().map_or(0, str::len)).sum();
        let mut texts = String::with_capacity(room);
        let slots = values
            .iter()
            .map(|v| match comparable(v) {
                Some(Cmp::Text(t)) => {
                    let start = u32::try_from(texts.len()).unwrap_or(u32::MAX);
                    texts.push_str(t);
                    Slot::Text(start, u32::try_from(texts.len()).unwrap_or(u32::MAX))
                }
                Some(Cmp::Date(d)) => Slot::Date(d),
                Some(Cmp::Number(x)) => Slot::number(x),
                None => Slot::Absent,
            })
            .collect();
        Compared { texts: texts.into_boxed_str(), slots }
    }

    fn view(&self) -> Values<'_> {
        Values { texts: &self.texts, slots: &self.slots }
    }
}

/// The compared values of one profile, wherever they are kept: a [`Compared`] or a place in
/// a [`ProfileStore`].
#[derive(Clone, Copy, Debug)]
struct Values<'a> {
    texts: &'a str,
    slots: &'a [Slot],
}

impl<'a> Values<'a> {
    fn cmp(self, slot: &Slot) -> Option<Cmp<'a>> {
        match *slot {
            Slot::Absent => None,
            Slot::Text(start, end) => Some(Cmp::Text(self.texts.get(start as usize..end as usize).unwrap_or(""))),
            Slot::Date(d) => Some(Cmp::Date(d)),
            Slot::Number(high, low) => Some(Cmp::Number(f64::from_bits((u64::from(high) << 32) | u64::from(low)))),
        }
    }

    /// The value of `compare` line `i` (`None` absent; also past the last line).
    fn get(self, i: usize) -> Option<Cmp<'a>> {
        self.slots.get(i).and_then(|s| self.cmp(s))
    }

    fn iter(self) -> impl Iterator<Item = Option<Cmp<'a>>> {
        self.slots.iter().map(move |s| self.cmp(s))
    }
}

/// A record as the rules' `match` block sees it: its id, its blocking keys and the value of
/// each `compare` line, computed once by [`crate::Engine::match_profile`]. Small (a few
/// short strings), so a batch job can hold millions of them instead of the records; a
/// [`ProfileStore`] holds them in a fraction of that memory.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchProfile {
    id: Option<String>,
    /// The blocking keys as [`crate::linkage::block::key_hash`]es: equal keys are what
    /// blocking asks about, and a hash is 8 bytes where the text was an allocation.
    keys: Box<[u64]>,
    values: Compared,
    /// Per `frequency` compare line (in order), the term-frequency adjustment of this record's
    /// value ([`crate::Engine::weigh_by_frequency`]), NaN for none; empty until weighed.
    adjust: Box<[f64]>,
}

/// One profile as the comparisons read it, wherever it is kept: a [`MatchProfile`] or a place
/// in a [`ProfileStore`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct ProfileRef<'a> {
    pub(crate) id: Option<&'a str>,
    values: Values<'a>,
    /// As [`MatchProfile::adjust`].
    adjust: &'a [f64],
}

/// Profiles by position: a slice of [`MatchProfile`]s or a [`ProfileStore`].
pub(crate) trait Profiles: Sync {
    /// How many profiles.
    fn count(&self) -> usize;
    /// Profile `i` (`None` past the last).
    fn at(&self, i: usize) -> Option<ProfileRef<'_>>;
    /// The blocking keys of profile `i` (none past the last): apart from [`Profiles::at`], as
    /// only the profile whose candidates are sought needs them.
    fn keys(&self, i: usize) -> &[u64];
}

impl Profiles for [MatchProfile] {
    fn count(&self) -> usize {
        self.len()
    }
    fn at(&self, i: usize) -> Option<ProfileRef<'_>> {
        self.get(i).map(MatchProfile::view)
    }
    fn keys(&self, i: usize) -> &[u64] {
        self.get(i).map_or(&[], MatchProfile::key_hashes)
    }
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
        TermCounts::of_all(m, population)
    }

    /// [`TermCounts::of`] a slice of profiles or a [`ProfileStore`].
    pub(crate) fn of_all<P: Profiles + ?Sized>(m: &CMatch, population: &P) -> TermCounts {
        let mut t = TermCounts::default();
        for p in (0..population.count()).filter_map(|i| population.at(i)) {
            for (i, value) in counted_values(m, p.values.iter()) {
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
    counted_values(m, profile.values.view().iter()).map(|(i, v)| (i, v.to_string())).collect()
}

/// The values counted by the `frequency` compare lines, of compared values `values` (one
/// for each compare line, in order).
fn counted_values<'v>(
    m: &CMatch,
    values: impl Iterator<Item = Option<Cmp<'v>>>,
) -> impl Iterator<Item = (usize, &'v str)> {
    m.compares.iter().zip(values).enumerate().filter_map(|(i, (c, v))| {
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
    // The values as they are, without a `Compared` copy of them.
    counted_values(m, values.iter().map(comparable)).map(|(i, v)| (term_block(i), v.to_string())).collect()
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
            .view()
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

    /// This profile as the comparisons read it.
    pub(crate) fn view(&self) -> ProfileRef<'_> {
        ProfileRef { id: self.id.as_deref(), values: self.values.view(), adjust: &self.adjust }
    }
}

/// Many [`MatchProfile`]s in a few shared buffers, for a batch job that holds millions of them
/// (`kensa dedup`, `kensa link`). A profile apart is five allocations of a few bytes each
/// (about 500 bytes a record with the standard rules, much of it the allocator's); here a
/// record costs its id, keys and texts, its compared values (12 bytes each) and 24 bytes of
/// offsets (about 300 bytes a record).
/// What a comparison reads of a record (id, texts, compared values) lies in two places, so
/// that comparing with a record found at random costs few cache misses. Profiles compare
/// exactly as the profiles pushed ([`crate::Engine::dedup_store`]).
///
/// The profiles of one store come from one engine: each has the same number of compared values
/// (one per `compare` line), the first profile's; another profile is cut to it or filled with
/// absent values. A profile's weighing is not kept: the store is weighed as a whole.
#[derive(Clone, Debug, Default)]
pub struct ProfileStore {
    /// Each record's id followed by the texts of its compared values (its slots' ranges are
    /// within its own texts, as in [`Compared`]), one record after another.
    text: String,
    rows: Vec<Row>,
    /// The records without an id (stored as the empty id), ascending.
    no_id: Vec<usize>,
    /// The blocking keys ([`MatchProfile::key_hashes`]) one record after another: record `i`'s
    /// end at `key_ends[i]`.
    keys: Vec<u64>,
    key_ends: Vec<usize>,
    /// `width` slots a record.
    slots: Vec<Slot>,
    width: Option<usize>,
    /// Once weighed, `adjust_width` adjustments a record (as [`MatchProfile::adjust`]).
    adjust: Vec<f64>,
    adjust_width: usize,
}

/// Where a record's part of [`ProfileStore::text`] ends, and how much of it is the id.
#[derive(Clone, Copy, Debug)]
struct Row {
    end: usize,
    id_len: usize,
}

/// Where record `i`'s part of a shared buffer starts: where record `i - 1`'s ends.
fn start<T>(ends: &[T], i: usize, end: impl Fn(&T) -> usize) -> Option<usize> {
    match i.checked_sub(1) {
        Some(before) => ends.get(before).map(end),
        None => Some(0),
    }
}

/// Record `i`'s `width` items of a buffer of fixed-width records.
fn row<T>(items: &[T], width: usize, i: usize) -> Option<&[T]> {
    let start = i.checked_mul(width)?;
    items.get(start..start.checked_add(width)?)
}

impl ProfileStore {
    /// An empty store.
    pub fn new() -> ProfileStore {
        ProfileStore::default()
    }

    /// How many profiles it holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Add a profile (after the others: its position is the count before).
    pub fn push(&mut self, profile: MatchProfile) {
        if profile.id.is_none() {
            self.no_id.push(self.len());
        }
        let id = profile.id.as_deref().unwrap_or("");
        self.text.push_str(id);
        self.text.push_str(&profile.values.texts);
        self.rows.push(Row { end: self.text.len(), id_len: id.len() });
        self.keys.extend_from_slice(&profile.keys);
        self.key_ends.push(self.keys.len());
        let width = *self.width.get_or_insert(profile.values.slots.len());
        let slots = profile.values.slots.iter().copied().chain(std::iter::repeat(Slot::Absent));
        self.slots.extend(slots.take(width));
    }

    /// The id of profile `i` (`None` without one, or past the last).
    pub fn id(&self, i: usize) -> Option<&str> {
        self.at(i).and_then(|p| p.id)
    }

    /// Profile `i` as a [`MatchProfile`] of its own (unweighed), `None` past the last.
    pub fn profile(&self, i: usize) -> Option<MatchProfile> {
        let p = self.at(i)?;
        Some(MatchProfile {
            id: p.id.map(str::to_string),
            keys: self.keys(i).into(),
            values: Compared { texts: p.values.texts.into(), slots: p.values.slots.into() },
            adjust: Box::new([]),
        })
    }

    /// Weigh every profile's values by how common they are in `counts` ([`weigh`]).
    pub(crate) fn weigh(&mut self, m: &CMatch, counts: &TermCounts) {
        let width = frequency_lines(m);
        if width == 0 {
            return;
        }
        let mut adjust = Vec::with_capacity(self.len().saturating_mul(width));
        for p in (0..self.len()).filter_map(|i| self.at(i)) {
            let before = adjust.len();
            adjust.extend(adjustments(m, p.values, counts));
            adjust.resize(before + width, f64::NAN);
        }
        self.adjust = adjust;
        self.adjust_width = width;
    }
}

impl Profiles for ProfileStore {
    fn count(&self) -> usize {
        self.len()
    }

    fn keys(&self, i: usize) -> &[u64] {
        let (Some(from), Some(&to)) = (start(&self.key_ends, i, |&end| end), self.key_ends.get(i)) else { return &[] };
        self.keys.get(from..to).unwrap_or(&[])
    }

    fn at(&self, i: usize) -> Option<ProfileRef<'_>> {
        let (from, at) = (start(&self.rows, i, |r| r.end)?, self.rows.get(i)?);
        let id_end = from.checked_add(at.id_len)?;
        let id = self.text.get(from..id_end)?;
        Some(ProfileRef {
            id: if self.no_id.binary_search(&i).is_ok() { None } else { Some(id) },
            values: Values {
                texts: self.text.get(id_end..at.end)?,
                slots: row(&self.slots, self.width.unwrap_or(0), i)?,
            },
            adjust: row(&self.adjust, self.adjust_width, i).unwrap_or(&[]),
        })
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
        (i < self.profile.values.slots.len()).then(|| self.profile.values.view().get(i))
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
    let keys = super::keys_of(&mut frame, m, 0)
        .iter()
        .map(|(block, key)| crate::linkage::block::key_hash(*block, key))
        .collect();
    let computed: Vec<Value<'_>> = m.compares.iter().map(|c| frame.eval(c.value)).collect();
    Ok(MatchProfile { id, keys, values: Compared::of(&computed), adjust: Box::new([]) })
}

/// Weigh each profile's values by how common they are in `counts`.
pub fn weigh(m: &CMatch, profiles: &mut [MatchProfile], counts: &TermCounts) {
    if frequency_lines(m) == 0 {
        return;
    }
    for p in profiles {
        p.adjust = adjustments(m, p.values.view(), counts).collect();
    }
}

/// How many `compare` lines have a `frequency` clause (what a profile keeps an adjustment for).
fn frequency_lines(m: &CMatch) -> usize {
    m.compares.iter().filter(|c| c.frequency.is_some()).count()
}

/// The term-frequency adjustments of one profile's values by `counts`, one per `frequency`
/// compare line (NaN for none): what [`MatchProfile::adjust`] keeps.
fn adjustments<'a>(m: &'a CMatch, values: Values<'a>, counts: &'a TermCounts) -> impl Iterator<Item = f64> + 'a {
    m.compares.iter().zip(values.iter()).enumerate().filter(|(_, (c, _))| c.frequency.is_some()).map(
        move |(i, (c, v))| {
            let stat = match v {
                Some(Cmp::Text(t)) => c
                    .frequency
                    .as_ref()
                    .and_then(|f| f.counted(c.comparator == Comparator::Parts, t))
                    .map(|value| counts.stat(i, value)),
                _ => None,
            };
            adjustment(c, v, stat).unwrap_or(f64::NAN)
        },
    )
}

/// Per `compare` line, its adjustment among `adjust` (one per `frequency` line, as
/// [`MatchProfile::adjust`] keeps them); `None` for a line without one.
fn line_adjustments<'a>(m: &'a CMatch, adjust: &'a [f64]) -> impl Iterator<Item = Option<f64>> + 'a {
    let mut next = adjust.iter();
    m.compares
        .iter()
        .map(move |c| if c.frequency.is_some() { next.next().copied().filter(|x| !x.is_nan()) } else { None })
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

/// The match probability of two profiles (the adjustments are `a`'s); allocates nothing.
pub fn probability(m: &CMatch, a: ProfileRef<'_>, b: ProfileRef<'_>) -> f64 {
    let total: f64 = m
        .compares
        .iter()
        .zip(line_adjustments(m, a.adjust))
        .zip(a.values.iter().zip(b.values.iter()))
        .map(|((c, adjust), (x, y))| score(c, x, y, adjust).1)
        .sum();
    linkage::probability(m.prior, total)
}

/// How `b` compares with `a`: probability and the level and weight of every `compare` line
/// (`id` is `b`'s; the adjustments are `a`'s).
pub fn compare(m: &CMatch, a: ProfileRef<'_>, b: ProfileRef<'_>) -> CandidateMatch {
    let mut levels = Vec::with_capacity(m.compares.len());
    let mut weights = Vec::with_capacity(m.compares.len());
    let mut adjusted = Vec::with_capacity(m.compares.len());
    let lines = m.compares.iter().zip(line_adjustments(m, a.adjust));
    for ((c, adjust), (x, y)) in lines.zip(a.values.iter().zip(b.values.iter())) {
        let (level, w, adj) = score(c, x, y, adjust);
        levels.push(level);
        weights.push(w);
        adjusted.push(adj);
    }
    let total = weights.iter().sum();
    CandidateMatch {
        id: b.id.unwrap_or_default().to_string(),
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

#[cfg(test)]
mod tests {
    #![allow(clippy::panic)]
    use super::*;

    #[test]
    fn a_slot_is_twelve_bytes_and_keeps_a_number_to_the_bit() {
        assert_eq!(std::mem::size_of::<Slot>(), 12);
        let numbers = [0.0, -0.0, 1.5, -2.25e300, f64::MIN_POSITIVE, f64::INFINITY, f64::NAN];
        let slots: Vec<Slot> = numbers.iter().map(|&x| Slot::number(x)).collect();
        let values = Values { texts: "", slots: &slots };
        for (i, x) in numbers.iter().enumerate() {
            let Some(Cmp::Number(y)) = values.get(i) else { panic!("slot {i}") };
            assert_eq!(y.to_bits(), x.to_bits());
        }
    }

    #[test]
    fn a_store_cuts_or_fills_a_profile_to_the_first_ones_width() {
        let profile = |id: &str, texts: &str, slots: Vec<Slot>| MatchProfile {
            id: Some(id.to_string()),
            keys: Box::new([1, 2]),
            values: Compared { texts: texts.into(), slots: slots.into() },
            adjust: Box::new([]),
        };
        let mut store = ProfileStore::new();
        store.push(profile("a", "xy", vec![Slot::Text(0, 1), Slot::Absent, Slot::Text(1, 2)]));
        store.push(profile("b", "", vec![Slot::number(3.0)]));
        store.push(profile("c", "z", vec![Slot::Text(0, 1), Slot::Absent, Slot::Absent, Slot::Text(0, 1)]));
        let b = store.at(1).map(|p| p.values.slots.to_vec());
        assert_eq!(b, Some(vec![Slot::number(3.0), Slot::Absent, Slot::Absent]));
        let c = store.at(2).map(|p| (p.values.texts, p.values.slots.len(), p.values.get(0)));
        assert!(matches!(c, Some(("z", 3, Some(Cmp::Text("z"))))), "{c:?}");
        let a = store.at(0).map(|p| (p.id, p.values.get(2)));
        assert!(matches!(a, Some((Some("a"), Some(Cmp::Text("y"))))), "{a:?}");
        assert!(store.at(3).is_none());
        assert_eq!((Profiles::keys(&store, 2), Profiles::keys(&store, 3)), (&[1, 2][..], &[][..]));
    }
}
