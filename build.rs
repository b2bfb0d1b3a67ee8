//! Generates the embedded address tables from `data/*.tsv`, so that a process that parses one
//! address or looks up one postal code reads them in place instead of parsing 146,000 rows at
//! start-up (see `src/normalize/tables.rs`, which documents the files written here).
//!
//! Writes into `OUT_DIR`: `municipalities.rs` (the municipality list as a Rust array), the
//! municipality index (`muni_*.rs`, Rust arrays of integers and characters), `text.txt`
//! (every postal-row and town spelling once, concatenated) and packed little-endian arrays
//! (`*.bin`). Pure Rust: the lean library builds without a C compiler.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[path = "src/normalize/spelling.rs"]
mod spelling;

use spelling::{fold_char, jo_alias, strip_gun};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The flags of a postal row, as `src/normalize/postal.rs` reads them.
const CHOME: u8 = 1;
const FLOOR: u8 = 2;
const BUSINESS: u8 = 4;

fn main() -> Result<()> {
    for f in ["data/prefectures.tsv", "data/municipalities.tsv", "data/postal.tsv", "src/normalize/spelling.rs"] {
        println!("cargo:rerun-if-changed={f}");
    }
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let prefectures = read_prefectures()?;
    let munis = read_municipalities(&prefectures)?;
    write_municipalities(&out, &munis)?;
    write_muni_index(&out, &munis)?;

    let mut text = Text::default();
    let rows = read_postal(&munis, &mut text)?;
    write_postal(&out, &rows)?;
    write_towns(&out, &rows, munis.len(), &mut text)?;
    text.write(&out)?;
    Ok(())
}

/// Data lines of a generated table (comments skipped).
fn data_lines(path: &str) -> Result<Vec<String>> {
    let s = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    Ok(s.lines().filter(|l| !l.starts_with('#')).map(str::to_owned).collect())
}

/// Prefecture name → JIS X 0401 code.
fn read_prefectures() -> Result<HashMap<String, u8>> {
    let mut map = HashMap::new();
    for line in data_lines("data/prefectures.tsv")? {
        let (code, name) = line.split_once('\t').ok_or("data/prefectures.tsv: a line without a tab")?;
        map.insert(name.to_owned(), code.parse::<u8>()?);
    }
    Ok(map)
}

struct Muni {
    jis: String,
    pref: u8,
    name: String,
    alias: String,
    designated: bool,
}

/// The municipalities in file order, skipping lines the parser cannot use (as the address
/// module always has: their index is the municipality number of the other tables).
fn read_municipalities(prefectures: &HashMap<String, u8>) -> Result<Vec<Muni>> {
    let mut list = Vec::new();
    for line in data_lines("data/municipalities.tsv")? {
        let mut f = line.split('\t');
        let (Some(jis), Some(pref), Some(name), Some(kind), alias) = (f.next(), f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let Some(&pref) = prefectures.get(pref) else { continue };
        if name.is_empty() {
            continue;
        }
        list.push(Muni {
            jis: jis.to_owned(),
            pref,
            name: name.to_owned(),
            alias: alias.unwrap_or("").to_owned(),
            designated: kind == "D",
        });
    }
    u16::try_from(list.len()).map_err(|_| "data/municipalities.tsv: more than 65,535 municipalities")?;
    Ok(list)
}

/// `[Muni { … }, …]`, included by `src/normalize/address.rs`.
fn write_municipalities(out: &Path, munis: &[Muni]) -> Result<()> {
    let mut s = String::from("[\n");
    for m in munis {
        writeln!(
            s,
            "    Muni {{ jis: {:?}, pref: {}, name: {:?}, short: {:?}, alias: {:?}, designated: {} }},",
            m.jis,
            m.pref,
            m.name,
            strip_gun(&m.name),
            m.alias,
            m.designated
        )?;
    }
    s.push_str("]\n");
    std::fs::write(out.join("municipalities.rs"), s)?;
    Ok(())
}

/// One spelling of a municipality, for the municipality index.
struct Spelling<'a> {
    muni: u16,
    pref: u8,
    /// 0 the name, 1 the name without its 郡, 2 Japan Post's spelling (`Muni::spelling`).
    kind: u8,
    text: &'a str,
    /// The first character, folded ([`fold_char`]).
    first: char,
    /// Where its folded characters are in `muni_folded.rs`, and how many.
    folded: u32,
    len: u8,
}

/// The municipality index, read in place by `src/normalize/address.rs` (which documents each
/// array), so that the first address parsed builds nothing:
///
/// * `muni_folded.rs`: the folded characters of every spelling, concatenated (a name without
///   郡 is the end of its name, and shares its characters);
/// * `muni_spellings.rs`: the buckets' spellings, bucket after bucket;
/// * `muni_buckets.rs`: the buckets, nationwide (key 0) then for each prefecture (key = its
///   code), sorted by folded first character within a key;
/// * `muni_bucket_of.rs`: the bucket of a key and a first character (a `match`);
/// * `muni_by_name.rs`: the municipalities sorted by name (then in list order);
/// * `muni_wards.rs` and `muni_wards_of.rs`: the wards of each designated city.
///
/// A spelling is a municipality's name, its name without 郡 or Japan Post's spelling; a bucket
/// holds the spellings whose folded first character is the same, longest spelling (in bytes)
/// first, then in municipality order, as the parser built them at run time before.
fn write_muni_index(out: &Path, munis: &[Muni]) -> Result<()> {
    let mut folded: Vec<char> = Vec::new();
    let mut spellings: Vec<Spelling> = Vec::new();
    for (i, m) in munis.iter().enumerate() {
        if m.pref == 0 {
            return Err("data/prefectures.tsv: prefecture code 0 (the key of the nationwide buckets)".into());
        }
        for (kind, text) in [m.name.as_str(), strip_gun(&m.name), m.alias.as_str()].into_iter().enumerate() {
            let chars: Vec<char> = text.chars().map(fold_char).collect();
            let Some(&first) = chars.first() else { continue };
            // The name without 郡 is the end of the name, written just before: its characters
            // are there already.
            if !folded.ends_with(&chars) {
                folded.extend(&chars);
            }
            spellings.push(Spelling {
                muni: u16::try_from(i)?,
                pref: m.pref,
                kind: u8::try_from(kind)?,
                text,
                first,
                folded: u32::try_from(folded.len() - chars.len())?,
                len: u8::try_from(chars.len())?,
            });
        }
    }
    // (key, spelling): each spelling in its nationwide bucket and in its prefecture's.
    let mut keyed: Vec<(u8, &Spelling)> = spellings.iter().flat_map(|s| [(0, s), (s.pref, s)]).collect();
    // Stable: the spellings of one municipality that tie keep the order name, without 郡, Japan
    // Post's.
    keyed.sort_by_key(|&(key, s)| (key, s.first, Reverse(s.text.len()), s.muni));
    // (key, first character, first spelling, most characters) of each bucket.
    let mut buckets: Vec<(u8, char, usize, u8)> = Vec::new();
    for (i, &(key, s)) in keyed.iter().enumerate() {
        match buckets.last_mut() {
            Some(b) if (b.0, b.1) == (key, s.first) => b.3 = b.3.max(s.len),
            _ => buckets.push((key, s.first, i, s.len)),
        }
    }
    let list = keyed.iter().map(|(_, s)| {
        format!("MuniSpelling {{ muni: {}, kind: {}, folded: {}, len: {} }}", s.muni, s.kind, s.folded, s.len)
    });
    write_array(out, "muni_spellings.rs", list)?;
    let ends = buckets.iter().skip(1).map(|b| b.2).chain([keyed.len()]);
    let list = buckets.iter().zip(ends).map(|(&(_, _, start, max_chars), end)| {
        format!("MuniBucket {{ start: {start}, end: {end}, max_chars: {max_chars} }}")
    });
    write_array(out, "muni_buckets.rs", list)?;
    // `match key { k => match first { c => Some(bucket), … }, … }`: a branch tree the compiler
    // lays out, cheaper than a binary search over the buckets and with no data to read.
    let mut tree = String::from("match key {\n");
    for (i, &(key, first, _, _)) in buckets.iter().enumerate() {
        if i == 0 || buckets.get(i - 1).is_some_and(|b| b.0 != key) {
            writeln!(tree, "    {key} => match first {{")?;
        }
        writeln!(tree, "        {first:?} => Some({i}),")?;
        if buckets.get(i + 1).is_none_or(|b| b.0 != key) {
            tree.push_str("        _ => None,\n    },\n");
        }
    }
    tree.push_str("    _ => None,\n}\n");
    std::fs::write(out.join("muni_bucket_of.rs"), tree)?;
    write_array(out, "muni_folded.rs", folded.iter().map(|c| format!("{c:?}")))?;

    let mut by_name: Vec<(&str, usize)> = munis.iter().enumerate().map(|(i, m)| (m.name.as_str(), i)).collect();
    // Sorted by name, then list order; a name two prefectures have is there twice.
    by_name.sort_unstable();
    write_array(out, "muni_by_name.rs", by_name.iter().map(|&(_, i)| i))?;

    let (mut wards, mut wards_of) = (Vec::new(), Vec::new());
    for (ci, city) in munis.iter().enumerate().filter(|(_, m)| m.designated) {
        let start = wards.len();
        wards.extend(
            munis
                .iter()
                .enumerate()
                .filter(|(_, w)| !w.designated && w.pref == city.pref && w.name.starts_with(&city.name))
                .map(|(wi, _)| wi),
        );
        if wards.len() > start {
            wards_of.push(format!("({ci}, {start}, {})", wards.len()));
        }
    }
    write_array(out, "muni_wards.rs", wards)?;
    write_array(out, "muni_wards_of.rs", wards_of)
}

/// `[a, b, …]`, a Rust array of `items` as they display, a line each.
fn write_array<T: std::fmt::Display>(out: &Path, name: &str, items: impl IntoIterator<Item = T>) -> Result<()> {
    let mut s = String::from("[\n");
    for item in items {
        writeln!(s, "    {item},")?;
    }
    s.push_str("]\n");
    std::fs::write(out.join(name), s)?;
    Ok(())
}

/// Every string the tables refer to, once, concatenated. A string is referred to by its span
/// `offset << 8 | length` (read by `tables::text`).
#[derive(Default)]
struct Text {
    text: String,
    spans: HashMap<String, u32>,
}

impl Text {
    fn span(&mut self, s: &str) -> Result<u32> {
        if let Some(&span) = self.spans.get(s) {
            return Ok(span);
        }
        let (offset, len) = (u32::try_from(self.text.len())?, u8::try_from(s.len())?);
        if offset >= 1 << 24 {
            return Err("text.txt: more than 16 MiB of text".into());
        }
        let span = offset << 8 | u32::from(len);
        self.text.push_str(s);
        self.spans.insert(s.to_owned(), span);
        Ok(span)
    }

    fn write(&self, out: &Path) -> Result<()> {
        std::fs::write(out.join("text.txt"), &self.text)?;
        Ok(())
    }
}

/// One row of `data/postal.tsv`.
struct Row {
    code: u32,
    muni: u16,
    flags: u8,
    town: String,
    /// Span of `town` in the text.
    town_span: u32,
}

/// The postal rows sorted by code (rows of one code in file order).
fn read_postal(munis: &[Muni], text: &mut Text) -> Result<Vec<Row>> {
    let mut by_jis: HashMap<&str, u16> = HashMap::new();
    for (i, m) in munis.iter().enumerate() {
        if !m.jis.is_empty() {
            by_jis.insert(&m.jis, u16::try_from(i)?);
        }
    }
    let mut rows = Vec::with_capacity(150_000);
    for line in data_lines("data/postal.tsv")? {
        let mut f = line.split('\t');
        let (Some(code), Some(jis), Some(town), flags) = (f.next(), f.next(), f.next(), f.next()) else {
            continue;
        };
        let (Ok(code), Some(&muni)) = (code.parse::<u32>(), by_jis.get(jis)) else {
            continue;
        };
        let flags = flags.unwrap_or("").bytes().fold(0, |acc, b| {
            acc | match b {
                b'c' => CHOME,
                b'f' => FLOOR,
                b'b' => BUSINESS,
                _ => 0,
            }
        });
        rows.push(Row { code, muni, flags, town: town.to_owned(), town_span: text.span(town)? });
    }
    rows.sort_by_key(|r| r.code);
    Ok(rows)
}

fn write_postal(out: &Path, rows: &[Row]) -> Result<()> {
    write_packed(out, "postal_codes.bin", 3, &rows.iter().map(|r| r.code).collect::<Vec<_>>())?;
    write_packed(out, "postal_munis.bin", 2, &rows.iter().map(|r| u32::from(r.muni)).collect::<Vec<_>>())?;
    write_packed(out, "postal_flags.bin", 1, &rows.iter().map(|r| u32::from(r.flags)).collect::<Vec<_>>())?;
    write_packed(out, "postal_towns.bin", 4, &rows.iter().map(|r| r.town_span).collect::<Vec<_>>())?;
    // Where the rows of each 4-digit prefix start; entry 10000 is the number of rows.
    let by_prefix = (0..=10_000u32)
        .map(|p| u32::try_from(rows.partition_point(|r| r.code / 1000 < p)))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    write_packed(out, "postal_by_prefix.bin", 4, &by_prefix)
}

/// The town index: for each municipality (entry `m` of `towns_by_muni.bin` to entry `m + 1`),
/// its buckets sorted by folded first character (`town_buckets_first.bin`), each bucket (entry
/// `b` of `town_buckets_start.bin` to entry `b + 1`) the spellings that start with that
/// character, each with its town and 丁目 flag. A
/// spelling is the town's own, or for 条 towns the other numeral form (`北1条西` for
/// `北一条西`), which comes first. Distinct (municipality, town) pairs of the address rows
/// (not business codes nor building floors), 丁目 if any row of the town says so, in
/// (municipality, town) order within a first character.
fn write_towns(out: &Path, rows: &[Row], n_munis: usize, text: &mut Text) -> Result<()> {
    let mut distinct: Vec<(u16, &str, u32, bool)> = rows
        .iter()
        .filter(|r| r.flags & (BUSINESS | FLOOR) == 0 && !r.town.is_empty())
        .map(|r| (r.muni, r.town.as_str(), r.town_span, r.flags & CHOME != 0))
        .collect();
    distinct.sort_unstable();
    distinct.dedup_by(|next, kept| {
        let same = (next.0, next.1) == (kept.0, kept.1);
        if same {
            kept.3 |= next.3;
        }
        same
    });
    // (municipality, folded first character, spelling, town, 丁目, folded second character or
    // NUL for a one-character spelling).
    let mut entries: Vec<(u16, char, u32, u32, bool, char)> = Vec::new();
    for &(muni, name, town_span, chome) in &distinct {
        let alias = jo_alias(name);
        for spelling in alias.as_deref().into_iter().chain([name]) {
            let mut chars = spelling.chars().map(fold_char);
            if let Some(c) = chars.next() {
                let second = chars.next().unwrap_or('\0');
                entries.push((muni, c, text.span(spelling)?, town_span, chome, second));
            }
        }
    }
    // Stable: a bucket keeps the order above.
    entries.sort_by_key(|e| (e.0, e.1));
    // (municipality, folded first character, first entry) of each bucket.
    let mut buckets: Vec<(u16, char, u32)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if buckets.last().is_none_or(|b| (b.0, b.1) != (e.0, e.1)) {
            buckets.push((e.0, e.1, u32::try_from(i)?));
        }
    }
    let by_muni = (0..=n_munis)
        .map(|m| u32::try_from(buckets.partition_point(|b| usize::from(b.0) < m)))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut starts: Vec<u32> = buckets.iter().map(|b| b.2).collect();
    starts.push(u32::try_from(entries.len())?);
    write_packed(out, "towns_by_muni.bin", 4, &by_muni)?;
    write_packed(out, "town_buckets_first.bin", 3, &buckets.iter().map(|b| u32::from(b.1)).collect::<Vec<_>>())?;
    write_packed(out, "town_buckets_start.bin", 3, &starts)?;
    write_packed(out, "towns_spelling.bin", 4, &entries.iter().map(|e| e.2).collect::<Vec<_>>())?;
    write_packed(out, "towns_town.bin", 4, &entries.iter().map(|e| e.3).collect::<Vec<_>>())?;
    write_packed(out, "towns_chome.bin", 1, &entries.iter().map(|e| u32::from(e.4)).collect::<Vec<_>>())?;
    write_packed(out, "towns_second.bin", 3, &entries.iter().map(|e| u32::from(e.5)).collect::<Vec<_>>())
}

/// `values` as little-endian integers of `width` bytes each (read by `tables::Packed`).
fn write_packed(out: &Path, name: &str, width: usize, values: &[u32]) -> Result<()> {
    let mut bytes = Vec::with_capacity(values.len() * width);
    for v in values {
        let le = v.to_le_bytes();
        let (kept, dropped) = le.split_at_checked(width).ok_or("width above 4 bytes")?;
        if dropped.iter().any(|&b| b != 0) {
            return Err(format!("{name}: {v} does not fit in {width} bytes").into());
        }
        bytes.extend_from_slice(kept);
    }
    std::fs::write(out.join(name), bytes)?;
    Ok(())
}
