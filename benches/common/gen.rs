//! A deterministic, seeded generator of synthetic enrollment records in the standard record
//! shape (see `examples/enrollment.jsonl`), and of the kana names and addresses the
//! normalization benchmarks read.
//!
//! Shared by the benchmarks (`#[path = "common/gen.rs"]`) and by `examples/generate.rs`.
//! The same seed always gives the same records. The postal codes and the address prefixes are
//! real pairs taken from `examples/registry.jsonl`; names, numbers and dates are made up.
//!
//! About [`Config::defect_rate`] of the records carry exactly one defect that the standard
//! rule set must flag ([`Defect`]); the others are clean but written in the notations forms
//! produce (hiragana or half-width kana, full-width or spaced My Numbers, 和暦 dates, postal
//! codes without hyphen, 丁目/番/号 written several ways), which the rules must accept.

#![allow(clippy::indexing_slicing, reason = "every index is drawn below the length of a non-empty table")]

use std::fmt::Write as _;

use kensa::Date;
use kensa::normalize::{digits, kana, zengin};
use serde::Serialize;

/// xorshift64* seeded through splitmix64: small, fast, and good enough for test data.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 1 } else { z })
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n > 0`; the bias is negligible for the small `n` used here).
    pub fn below(&mut self, n: usize) -> usize {
        let n = u64::try_from(n.max(1)).unwrap_or(u64::MAX);
        usize::try_from((self.next_u64() >> 11) % n).unwrap_or(0)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        let span = usize::try_from(hi.saturating_sub(lo)).unwrap_or(0) + 1;
        lo + u32::try_from(self.below(span)).unwrap_or(0)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        // 53 random bits as a float in [0, 1).
        ((self.next_u64() >> 11) as f64) * (1.0 / (1u64 << 53) as f64) < p
    }

    pub fn pick<'t, T>(&mut self, table: &'t [T]) -> &'t T {
        &table[self.below(table.len())]
    }
}

/// The defect a generated record carries, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Defect {
    None,
    /// A My Number whose check digit is wrong (`my_number.check_digit`, reject).
    CheckDigit,
    /// The family name in kanji where its kana belongs (`kana.family_is_katakana`, review).
    KanjiInKana,
    /// A postal code of another city, or one that is not 7 digits (`postal_code.*`, review).
    PostalCode,
    /// A bank account in a family member's name (`bank.holder_is_registrant`, review).
    FamilyHolder,
}

impl Defect {
    pub const ALL: [Defect; 4] = [Defect::CheckDigit, Defect::KanjiInKana, Defect::PostalCode, Defect::FamilyHolder];
}

/// One generated record; serializes to the standard record shape (field order as in the
/// examples, `bank` left out when there is none).
#[derive(Clone, Debug, Serialize)]
pub struct Record {
    pub id: String,
    pub my_number: Option<String>,
    pub family_name: String,
    pub given_name: String,
    pub family_name_kana: String,
    pub given_name_kana: String,
    pub birth_date: String,
    pub sex: &'static str,
    pub postal_code: String,
    pub address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank: Option<Bank>,
    /// What is wrong with the record (not part of the record).
    #[serde(skip)]
    pub defect: Defect,
}

#[derive(Clone, Debug, Serialize)]
pub struct Bank {
    pub bank_code: String,
    pub branch_code: String,
    pub account_type: &'static str,
    pub account_number: String,
    pub holder_kana: String,
}

/// Generator settings.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Share of records with one defect (0.0–1.0).
    pub defect_rate: f64,
    /// Share of records with a bank account (公金受取口座).
    pub bank_rate: f64,
    /// Share of records that are another enrollment of an earlier person ([`Duplicate`]):
    /// the id says whose (`G00000456-dup-G00000123`), so dedup results can be scored.
    pub duplicate_rate: f64,
}

impl Default for Config {
    fn default() -> Config {
        Config { defect_rate: 0.10, bank_rate: 0.35, duplicate_rate: 0.0 }
    }
}

/// An endless, deterministic stream of records.
#[derive(Clone, Debug)]
pub struct Generator {
    rng: Rng,
    config: Config,
    next_id: u64,
    /// The latest originals, from which duplicates are drawn.
    recent: Vec<Record>,
}

/// How a duplicate differs from the person's first enrollment: the ways the same person is
/// written differently at another window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duplicate {
    /// The family name with a variant kanji (高→髙, 辺→邊, 崎→﨑, …), kana unchanged.
    VariantKanji,
    /// The address in another 丁目/番地/号 notation (`1丁目2番3号` → `1-2-3`).
    AddressNotation,
    /// One kana of the given name mistyped.
    KanaTypo,
    /// Day and month of the birth date swapped (when both are ≤ 12), else a notation change.
    DateSwap,
}

impl Duplicate {
    pub const ALL: [Duplicate; 4] =
        [Duplicate::VariantKanji, Duplicate::AddressNotation, Duplicate::KanaTypo, Duplicate::DateSwap];
}

/// How many recent originals duplicates are drawn from.
const RECENT: usize = 4096;

impl Generator {
    pub fn new(seed: u64, config: Config) -> Generator {
        Generator { rng: Rng::new(seed), config, next_id: 1, recent: Vec::new() }
    }

    /// The next record: with [`Config::duplicate_rate`], another enrollment of a recent person.
    pub fn record(&mut self) -> Record {
        if self.config.duplicate_rate > 0.0 && !self.recent.is_empty() && self.rng.chance(self.config.duplicate_rate) {
            return self.duplicate();
        }
        let r = self.original();
        if self.config.duplicate_rate > 0.0 {
            if self.recent.len() < RECENT {
                self.recent.push(r.clone());
            } else {
                let slot = self.rng.below(RECENT);
                self.recent[slot] = r.clone();
            }
        }
        r
    }

    /// A recent person enrolled again, written differently; half the time without a My Number.
    fn duplicate(&mut self) -> Record {
        let rng = &mut self.rng;
        let mut r = self.recent[rng.below(self.recent.len())].clone();
        r.id = format!("G{:08}-dup-{}", self.next_id, r.id);
        self.next_id += 1;
        r.defect = Defect::None;
        if rng.chance(0.5) {
            r.my_number = None;
        }
        match *rng.pick(&Duplicate::ALL) {
            Duplicate::VariantKanji => {
                let varied: String = r.family_name.chars().map(variant_of).collect();
                if varied == r.family_name {
                    r.address = other_notation(&r.address);
                } else {
                    r.family_name = varied;
                }
            }
            Duplicate::AddressNotation => r.address = other_notation(&r.address),
            Duplicate::KanaTypo => r.given_name_kana = typo(rng, &r.given_name_kana),
            Duplicate::DateSwap => {
                let swapped = Date::parse(&r.birth_date)
                    .ok()
                    .filter(|d| d.day() <= 12 && d.day() != d.month())
                    .map(|d| format!("{:04}-{:02}-{:02}", d.year(), d.day(), d.month()));
                match swapped {
                    Some(s) => r.birth_date = s,
                    None => r.address = other_notation(&r.address),
                }
            }
        }
        r
    }

    /// A new person.
    fn original(&mut self) -> Record {
        let rng = &mut self.rng;
        let id = format!("G{:08}", self.next_id);
        self.next_id += 1;
        let defect = if rng.chance(self.config.defect_rate) { *rng.pick(&Defect::ALL) } else { Defect::None };

        let family = *rng.pick(FAMILY);
        let (given_name, given_kana, sex) = *rng.pick(GIVEN);
        let form = KanaForm::draw(rng);
        let family_name_kana = if defect == Defect::KanjiInKana { family.0.to_string() } else { form.write(family.1) };
        let given_name_kana = form.write(given_kana);

        let town = rng.pick(TOWNS);
        let postal_code =
            if defect == Defect::PostalCode { bad_postal_code(rng, town) } else { postal_code(rng, town) };
        let address = address(rng, town);

        let bank = if defect == Defect::FamilyHolder || rng.chance(self.config.bank_rate) {
            let holder_given = if defect == Defect::FamilyHolder {
                // Another member of the family: a different given name.
                loop {
                    let other = rng.pick(GIVEN).1;
                    if zengin::zengin_key(other) != zengin::zengin_key(given_kana) {
                        break other;
                    }
                }
            } else {
                given_kana
            };
            Some(bank(rng, family.1, holder_given))
        } else {
            None
        };

        Record {
            id,
            my_number: my_number(rng, defect == Defect::CheckDigit),
            family_name: family.0.to_string(),
            given_name: given_name.to_string(),
            family_name_kana,
            given_name_kana,
            birth_date: birth_date(rng),
            sex,
            postal_code,
            address,
            bank,
            defect,
        }
    }

    /// The next record as a `serde_json::Value`.
    pub fn value(&mut self) -> serde_json::Value {
        serde_json::to_value(self.record()).unwrap_or_default()
    }

    /// The next record as one JSON line (without the newline).
    pub fn line(&mut self) -> String {
        serde_json::to_string(&self.record()).unwrap_or_default()
    }
}

/// `n` records as JSON values, with the default settings.
pub fn values(n: usize, seed: u64) -> Vec<serde_json::Value> {
    let mut g = Generator::new(seed, Config::default());
    (0..n).map(|_| g.value()).collect()
}

/// `n` records as JSON lines, with the default settings.
pub fn lines(n: usize, seed: u64) -> Vec<String> {
    let mut g = Generator::new(seed, Config::default());
    (0..n).map(|_| g.line()).collect()
}

/// `n` kana names of 10–20 characters as forms write them: katakana, hiragana, half-width,
/// with half- or full-width spaces, Japanese and foreign (`ジョンソン ウィリアム`), with small
/// kana, long vowels and voiced kana.
pub fn kana_names(n: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let target = usize::try_from(rng.range(10, 20)).unwrap_or(10);
            let form = KanaForm::draw(&mut rng);
            let space = if rng.chance(0.3) { "\u{3000}" } else { " " };
            let mut parts: Vec<&str> = Vec::new();
            let mut len = 0;
            while len < target {
                let part = if rng.chance(0.25) {
                    *rng.pick(FOREIGN)
                } else if parts.is_empty() {
                    rng.pick(FAMILY).1
                } else {
                    rng.pick(GIVEN).1
                };
                len += part.chars().count() + usize::from(!parts.is_empty());
                parts.push(part);
            }
            let full = parts.join(space);
            let written = form.write(&full);
            written.chars().take(target).collect()
        })
        .collect()
}

/// `n` addresses with 丁目/番/号 in the notations of [`Generator`] (prefixes from the real
/// postal-code pairs).
pub fn addresses(n: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let town = rng.pick(TOWNS);
            address(&mut rng, town)
        })
        .collect()
}

// ---------------------------------------------------------------------------- fields

/// How a form wrote the kana.
#[derive(Clone, Copy, Debug)]
enum KanaForm {
    Katakana,
    Hiragana,
    HalfWidth,
}

impl KanaForm {
    fn draw(rng: &mut Rng) -> KanaForm {
        match rng.below(100) {
            0..=84 => KanaForm::Katakana,
            85..=92 => KanaForm::Hiragana,
            _ => KanaForm::HalfWidth,
        }
    }

    fn write(self, katakana: &str) -> String {
        match self {
            KanaForm::Katakana => katakana.to_string(),
            KanaForm::Hiragana => kana::to_hiragana(katakana).into_owned(),
            KanaForm::HalfWidth => half_width(katakana),
        }
    }
}

/// Full-width katakana → half-width (`ジョウ` → `ｼﾞｮｳ`); other characters are kept.
fn half_width(s: &str) -> String {
    const FULL: &str = "ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン";
    const VOICED: &str = "ガギグゲゴザジズゼゾダヂヅデドバビブベボ";
    const SEMI: &str = "パピプペポ";
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let half = |c: char| FULL.chars().position(|f| f == c).and_then(|i| char::from_u32(0xFF66 + i as u32));
        let shift = |c: char, by: u32| char::from_u32(u32::from(c) - by);
        if let Some(h) = half(c) {
            out.push(h);
        } else if VOICED.contains(c)
            && let Some(h) = shift(c, 1).and_then(half)
        {
            out.push(h);
            out.push('ﾞ');
        } else if SEMI.contains(c)
            && let Some(h) = shift(c, 2).and_then(half)
        {
            out.push(h);
            out.push('ﾟ');
        } else if c == 'ヴ' {
            out.push_str("ｳﾞ");
        } else if c == '\u{3000}' {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

fn my_number(rng: &mut Rng, wrong_check_digit: bool) -> Option<String> {
    let mut n = valid_number(rng);
    if wrong_check_digit {
        let check = n.pop().map_or(0, |c| c as u8 - b'0');
        n.push(char::from(b'0' + (check + 1 + rng.below(9) as u8) % 10));
        return Some(n);
    }
    Some(match rng.below(100) {
        0..=79 => n,
        80..=86 => return None,
        87..=93 => n.chars().map(|c| char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c)).collect(),
        _ => format!("{} {} {}", &n[..4], &n[4..8], &n[8..]),
    })
}

fn birth_date(rng: &mut Rng) -> String {
    let from = Date::from_ymd(1930, 1, 1).map(Date::to_days).unwrap_or(0);
    let to = Date::from_ymd(2025, 12, 31).map(Date::to_days).unwrap_or(0);
    let d = Date::from_days(from + i32::try_from(rng.below(usize::try_from(to - from).unwrap_or(1))).unwrap_or(0));
    let (y, m, day) = (d.year(), d.month(), d.day());
    if rng.chance(0.88) {
        return format!("{y:04}-{m:02}-{day:02}");
    }
    // 和暦: the era whose first day is on or before the date.
    const ERAS: [(&str, i32, u32, u32); 3] = [("令和", 2019, 5, 1), ("平成", 1989, 1, 8), ("昭和", 1926, 12, 25)];
    let (era, start) =
        ERAS.iter().find(|(_, ey, em, ed)| (y, m, day) >= (*ey, *em, *ed)).map_or(("昭和", 1926), |e| (e.0, e.1));
    let n = y - start + 1;
    if n == 1 { format!("{era}元年{m}月{day}日") } else { format!("{era}{n}年{m}月{day}日") }
}

/// A town: a real postal code, the address up to the town name, and how many 丁目 the town has
/// (0: none; the address goes on with 番).
struct Town {
    postal: &'static str,
    prefix: &'static str,
    chome: u32,
}

/// (postal code, address prefix) pairs from `examples/registry.jsonl`.
static TOWNS: &[Town] = &[
    Town { postal: "060-0001", prefix: "北海道札幌市中央区北一条西", chome: 20 },
    Town { postal: "100-0013", prefix: "東京都千代田区霞が関", chome: 3 },
    Town { postal: "100-0014", prefix: "東京都千代田区永田町", chome: 2 },
    Town { postal: "160-0023", prefix: "東京都新宿区西新宿", chome: 8 },
    Town { postal: "231-0021", prefix: "神奈川県横浜市中区日本大通", chome: 0 },
    Town { postal: "260-0855", prefix: "千葉県千葉市中央区市場町", chome: 0 },
    Town { postal: "330-0063", prefix: "埼玉県さいたま市浦和区高砂", chome: 5 },
    Town { postal: "420-0853", prefix: "静岡県静岡市葵区追手町", chome: 0 },
    Town { postal: "460-0001", prefix: "愛知県名古屋市中区三の丸", chome: 4 },
    Town { postal: "530-0005", prefix: "大阪府大阪市北区中之島", chome: 6 },
    Town { postal: "650-0011", prefix: "兵庫県神戸市中央区下山手通", chome: 9 },
    Town { postal: "730-0011", prefix: "広島県広島市中区基町", chome: 0 },
    Town { postal: "812-0011", prefix: "福岡県福岡市博多区博多駅前", chome: 4 },
    Town { postal: "900-0021", prefix: "沖縄県那覇市泉崎", chome: 2 },
    Town { postal: "980-0014", prefix: "宮城県仙台市青葉区本町", chome: 3 },
];

fn postal_code(rng: &mut Rng, town: &Town) -> String {
    match rng.below(100) {
        0..=84 => town.postal.to_string(),
        85..=94 => town.postal.replace('-', ""),
        95..=97 => format!("〒{}", town.postal),
        _ => full_width_digits(town.postal),
    }
}

fn bad_postal_code(rng: &mut Rng, town: &Town) -> String {
    match rng.below(4) {
        // Not 7 digits.
        0 => town.postal.get(..7).unwrap_or(town.postal).to_string(),
        // A real code of another city.
        _ => loop {
            let other = rng.pick(TOWNS);
            if other.prefix.get(..9) != town.prefix.get(..9) {
                break other.postal.to_string();
            }
        },
    }
}

/// A variant (old or non-standard) form of a kanji common in family names, or the kanji itself.
fn variant_of(c: char) -> char {
    match c {
        '高' => '髙',
        '辺' => '邊',
        '崎' => '﨑',
        '沢' => '澤',
        '浜' => '濱',
        '斎' => '齋',
        '藤' => '籐',
        '島' => '嶋',
        '国' => '國',
        '広' => '廣',
        '橋' => '槗',
        '吉' => '𠮷',
        other => other,
    }
}

/// The same address in another notation: 丁目/番/号 ⇄ hyphens.
fn other_notation(a: &str) -> String {
    if a.contains('番') {
        a.replace("丁目", "-").replace("番地", "-").replace('番', "-").replace('号', "")
    } else {
        // `1-2-3` → `1丁目2番3号` is ambiguous without the town's 丁目; widen the digits instead.
        full_width_digits(a)
    }
}

/// One katakana replaced by a neighbour on the kana keyboard, or a long vowel mark dropped.
fn typo(rng: &mut Rng, kana: &str) -> String {
    let chars: Vec<char> = kana.chars().collect();
    if chars.len() < 2 {
        return kana.to_string();
    }
    let at = rng.below(chars.len());
    let mut out = chars.clone();
    out[at] = match chars[at] {
        'ウ' => 'ー',
        'ー' => 'ウ',
        'シ' => 'ツ',
        'ツ' => 'シ',
        'ソ' => 'ン',
        'ン' => 'ソ',
        'カ' => 'ガ',
        'タ' => 'ダ',
        'コ' => 'ゴ',
        'キ' => 'ギ',
        other => char::from_u32(u32::from(other) + 1).filter(|c| ('ァ'..='ヶ').contains(c)).unwrap_or(other),
    };
    out.into_iter().collect()
}

fn full_width_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c),
            '-' => '－',
            other => other,
        })
        .collect()
}

const KANJI_NUMBERS: [&str; 21] = [
    "〇", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四", "十五", "十六",
    "十七", "十八", "十九", "二十",
];

const BUILDINGS: [&str; 6] = ["サンハイツ", "メゾン中央", "グランドビル", "コーポ山田", "パークハウス", "ハイム"];

fn address(rng: &mut Rng, town: &Town) -> String {
    let mut a = String::with_capacity(96);
    a.push_str(town.prefix);
    let ban = rng.range(1, 30);
    let go = rng.range(1, 20);
    let style = rng.below(100);
    if town.chome > 0 {
        let c = rng.range(1, town.chome);
        let _ = match style {
            0..=54 => write!(a, "{c}丁目{ban}番{go}号"),
            55..=69 => write!(a, "{c}-{ban}-{go}"),
            70..=79 => write!(a, "{}", full_width_digits(&format!("{c}-{ban}-{go}"))),
            80..=89 => write!(a, "{}丁目{ban}番{go}号", KANJI_NUMBERS[c.min(20) as usize]),
            _ => write!(a, "{c}丁目{ban}番地{go}"),
        };
    } else {
        let _ = match style {
            0..=59 => write!(a, "{ban}番{go}号"),
            60..=74 => write!(a, "{ban}-{go}"),
            75..=84 => write!(a, "{}", full_width_digits(&format!("{ban}-{go}"))),
            _ => write!(a, "{ban}番地{go}"),
        };
    }
    if rng.chance(0.08) {
        let _ = write!(a, "　{}{}号室", rng.pick(&BUILDINGS), rng.range(1, 12) * 100 + rng.range(1, 9));
    }
    a
}

fn bank(rng: &mut Rng, family_kana: &str, given_kana: &str) -> Bank {
    let mut digits = |n: usize| -> String { (0..n).map(|_| char::from(b'0' + rng.below(10) as u8)).collect() };
    let (bank_code, branch_code, account_number) = (digits(4), digits(3), digits(7));
    let account_type = match rng.below(100) {
        0..=89 => "ordinary",
        90..=96 => "savings",
        _ => "checking",
    };
    // Banks often drop the space between family and given name.
    let sep = if rng.chance(0.15) { "" } else { " " };
    let holder_kana = zengin::to_zengin(&format!("{family_kana}{sep}{given_kana}")).into_owned();
    Bank { bank_code, branch_code, account_type, account_number, holder_kana }
}

// ---------------------------------------------------------------------------- names

/// Family names: (kanji, katakana).
static FAMILY: &[(&str, &str)] = &[
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
    ("山崎", "ヤマザキ"),
    ("森", "モリ"),
    ("池田", "イケダ"),
    ("橋本", "ハシモト"),
    ("阿部", "アベ"),
    ("石川", "イシカワ"),
    ("山下", "ヤマシタ"),
    ("中島", "ナカジマ"),
    ("石井", "イシイ"),
    ("小川", "オガワ"),
    ("前田", "マエダ"),
    ("岡田", "オカダ"),
    ("長谷川", "ハセガワ"),
    ("藤田", "フジタ"),
    ("後藤", "ゴトウ"),
    ("近藤", "コンドウ"),
    ("村上", "ムラカミ"),
    ("遠藤", "エンドウ"),
    ("青木", "アオキ"),
    ("坂本", "サカモト"),
    ("斉藤", "サイトウ"),
    ("福田", "フクダ"),
    ("太田", "オオタ"),
    ("西村", "ニシムラ"),
    ("藤井", "フジイ"),
    ("金子", "カネコ"),
    ("岡本", "オカモト"),
    ("藤原", "フジワラ"),
    ("中野", "ナカノ"),
    ("三浦", "ミウラ"),
    ("原田", "ハラダ"),
    ("中川", "ナカガワ"),
    ("松田", "マツダ"),
    ("竹内", "タケウチ"),
    ("小野", "オノ"),
    ("田村", "タムラ"),
    ("中山", "ナカヤマ"),
    ("和田", "ワダ"),
    ("石田", "イシダ"),
    ("森田", "モリタ"),
    ("上田", "ウエダ"),
    ("原", "ハラ"),
    ("柴田", "シバタ"),
    ("酒井", "サカイ"),
    ("工藤", "クドウ"),
    ("横山", "ヨコヤマ"),
    ("宮崎", "ミヤザキ"),
    ("宮本", "ミヤモト"),
    ("内田", "ウチダ"),
    ("高木", "タカギ"),
    ("安藤", "アンドウ"),
    ("谷口", "タニグチ"),
    ("大野", "オオノ"),
    ("丸山", "マルヤマ"),
    ("今井", "イマイ"),
    ("河野", "コウノ"),
    ("藤本", "フジモト"),
    ("村田", "ムラタ"),
    ("武田", "タケダ"),
    ("上野", "ウエノ"),
    ("杉山", "スギヤマ"),
    ("増田", "マスダ"),
    ("小山", "コヤマ"),
    ("大塚", "オオツカ"),
    ("平野", "ヒラノ"),
    ("菅原", "スガワラ"),
    ("久保", "クボ"),
    ("松井", "マツイ"),
    ("千葉", "チバ"),
    ("岩崎", "イワサキ"),
    ("桜井", "サクライ"),
    ("木下", "キノシタ"),
    ("野口", "ノグチ"),
    ("松尾", "マツオ"),
    ("菊地", "キクチ"),
    ("野村", "ノムラ"),
    ("新井", "アライ"),
    ("渡部", "ワタナベ"),
    ("服部", "ハットリ"),
    ("五十嵐", "イガラシ"),
    ("大久保", "オオクボ"),
    ("浜田", "ハマダ"),
    ("関", "セキ"),
    ("髙橋", "タカハシ"),
    ("齋藤", "サイトウ"),
    ("廣瀬", "ヒロセ"),
];

/// Given names: (kanji, katakana, sex).
static GIVEN: &[(&str, &str, &str)] = &[
    ("太郎", "タロウ", "male"),
    ("一郎", "イチロウ", "male"),
    ("翔太", "ショウタ", "male"),
    ("拓也", "タクヤ", "male"),
    ("大輔", "ダイスケ", "male"),
    ("健太", "ケンタ", "male"),
    ("直樹", "ナオキ", "male"),
    ("亮", "リョウ", "male"),
    ("俊介", "シュンスケ", "male"),
    ("修", "オサム", "male"),
    ("大和", "ヤマト", "male"),
    ("勇気", "ユウキ", "male"),
    ("恭平", "キョウヘイ", "male"),
    ("悠真", "ユウマ", "male"),
    ("浩", "ヒロシ", "male"),
    ("淳", "ジュン", "male"),
    ("湊", "ミナト", "male"),
    ("翔", "ショウ", "male"),
    ("蓮", "レン", "male"),
    ("誠", "マコト", "male"),
    ("陽翔", "ハルト", "male"),
    ("隆", "タカシ", "male"),
    ("雄一", "ユウイチ", "male"),
    ("駿", "シュン", "male"),
    ("徹", "トオル", "male"),
    ("悠斗", "ユウト", "male"),
    ("颯太", "ソウタ", "male"),
    ("樹", "イツキ", "male"),
    ("蒼", "アオイ", "male"),
    ("隼人", "ハヤト", "male"),
    ("さくら", "サクラ", "female"),
    ("花子", "ハナコ", "female"),
    ("久美子", "クミコ", "female"),
    ("京子", "キョウコ", "female"),
    ("凛", "リン", "female"),
    ("千尋", "チヒロ", "female"),
    ("千秋", "チアキ", "female"),
    ("彩", "アヤ", "female"),
    ("恵子", "ケイコ", "female"),
    ("愛", "アイ", "female"),
    ("明美", "アケミ", "female"),
    ("智子", "トモコ", "female"),
    ("洋子", "ヨウコ", "female"),
    ("由美", "ユミ", "female"),
    ("直美", "ナオミ", "female"),
    ("真由美", "マユミ", "female"),
    ("結衣", "ユイ", "female"),
    ("美代子", "ミヨコ", "female"),
    ("美咲", "ミサキ", "female"),
    ("翔子", "ショウコ", "female"),
    ("芽依", "メイ", "female"),
    ("菜々子", "ナナコ", "female"),
    ("葵", "アオイ", "female"),
    ("裕子", "ユウコ", "female"),
    ("陽菜", "ヒナ", "female"),
    ("順子", "ジュンコ", "female"),
    ("結菜", "ユイナ", "female"),
    ("美羽", "ミウ", "female"),
    ("莉子", "リコ", "female"),
    ("優奈", "ユウナ", "female"),
];

/// Foreign names in katakana (for the kana-name corpus).
static FOREIGN: &[&str] = &[
    "ジョンソン",
    "ウィリアムズ",
    "マイケル",
    "グエン",
    "ヴァン",
    "チャン",
    "ジェニファー",
    "シルヴァ",
    "フェルナンデス",
    "キャサリン",
    "ヴィクトリア",
    "デイヴィッド",
    "ペレイラ",
    "ティエン",
];

/// What a record of a labelled identity stream ([`identity_stream`]) is, against the registry
/// it comes with: the same person as an enrolled resident (a duplicate the rules must flag),
/// or a person of their own whom the rules must not take for an enrolled one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Identity {
    /// Enrolled again under a new valid My Number, written differently (variant kanji, address
    /// notation, a kana typo or day and month swapped).
    NewNumber,
    /// Enrolled again without a My Number, written differently.
    NoNumber,
    /// Moved: a new address and a new My Number.
    Moved,
    /// A new family name (kanji and kana, as after marriage), no My Number, the rest the same.
    NameChange,
    /// A foreign resident with family and given name swapped (readings too), a new My Number.
    SwappedNames,
    /// Not a duplicate: a twin or sibling (same family name, birth date, sex and address,
    /// another given name, another My Number).
    Twin,
    /// Not a duplicate: the same name, another birth date and address, another My Number.
    Namesake,
    /// Not a duplicate: a new person.
    NewPerson,
}

impl Identity {
    pub const ALL: [Identity; 8] = [
        Identity::NewNumber,
        Identity::NoNumber,
        Identity::Moved,
        Identity::NameChange,
        Identity::SwappedNames,
        Identity::Twin,
        Identity::Namesake,
        Identity::NewPerson,
    ];

    /// The same person as an enrolled resident.
    pub fn is_duplicate(self) -> bool {
        !matches!(self, Identity::Twin | Identity::Namesake | Identity::NewPerson)
    }

    /// A short label for files: `new_number`, `twin`, …
    pub fn label(self) -> &'static str {
        match self {
            Identity::NewNumber => "new_number",
            Identity::NoNumber => "no_number",
            Identity::Moved => "moved",
            Identity::NameChange => "name_change",
            Identity::SwappedNames => "swapped_names",
            Identity::Twin => "twin",
            Identity::Namesake => "namesake",
            Identity::NewPerson => "new_person",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Identity::NewNumber => "same person, new My Number",
            Identity::NoNumber => "same person, no My Number",
            Identity::Moved => "same person, moved, new My Number",
            Identity::NameChange => "same person, new family name",
            Identity::SwappedNames => "same person, names swapped",
            Identity::Twin => "twin or sibling",
            Identity::Namesake => "namesake",
            Identity::NewPerson => "new person",
        }
    }
}

/// Latin names for foreign residents (family, reading; given, reading).
static LATIN: &[(&str, &str)] = &[
    ("SMITH", "スミス"),
    ("JOHNSON", "ジョンソン"),
    ("NGUYEN", "グエン"),
    ("SILVA", "シルヴァ"),
    ("PEREIRA", "ペレイラ"),
    ("GARCIA", "ガルシア"),
    ("KIM", "キム"),
    ("TRAN", "チャン"),
    ("SANTOS", "サントス"),
    ("BROWN", "ブラウン"),
    ("JOHN", "ジョン"),
    ("MARIA", "マリア"),
    ("ANNA", "アンナ"),
    ("DAVID", "デイヴィッド"),
    ("LUCAS", "ルーカス"),
    ("MINH", "ミン"),
];

/// A registry of `registry` generated residents (each with a valid My Number; about one in
/// twenty a foreign resident with a Latin name) and a stream of `stream` records labelled with
/// what each is against it, in equal shares of the [`Identity`] kinds. Deterministic in `seed`.
pub fn identity_stream(
    seed: u64,
    registry: usize,
    stream: usize,
) -> (Vec<serde_json::Value>, Vec<(serde_json::Value, Identity)>) {
    let config = Config { defect_rate: 0.0, bank_rate: 0.0, duplicate_rate: 0.0 };
    let mut g = Generator::new(seed, config);
    let mut people: Vec<Record> = Vec::with_capacity(registry);
    while people.len() < registry {
        let mut r = g.record();
        r.my_number = Some(valid_number(&mut g.rng));
        if people.len() % 20 == 19 {
            let (f, fk) = LATIN[g.rng.below(10)];
            let (n, nk) = LATIN[10 + g.rng.below(LATIN.len() - 10)];
            r.family_name = f.to_string();
            r.family_name_kana = fk.to_string();
            r.given_name = n.to_string();
            r.given_name_kana = nk.to_string();
        }
        people.push(r);
    }
    let foreign: Vec<usize> = (0..people.len()).filter(|i| i % 20 == 19).collect();
    let mut out = Vec::with_capacity(stream);
    for n in 0..stream {
        let kind = Identity::ALL[n % Identity::ALL.len()];
        let rng = &mut g.rng;
        let base = if kind == Identity::SwappedNames && !foreign.is_empty() {
            people[foreign[rng.below(foreign.len())]].clone()
        } else {
            people[rng.below(people.len())].clone()
        };
        let mut r = base.clone();
        r.id = format!("S{n:06}");
        match kind {
            Identity::NewNumber | Identity::NoNumber => {
                r.my_number = if kind == Identity::NewNumber { Some(valid_number(rng)) } else { None };
                match rng.below(4) {
                    0 => {
                        r.family_name = r.family_name.chars().map(variant_of).collect();
                        r.address = other_notation(&r.address);
                    }
                    1 => r.address = other_notation(&r.address),
                    2 => r.given_name_kana = typo(rng, &r.given_name_kana),
                    _ => {
                        let swapped = Date::parse(&r.birth_date)
                            .ok()
                            .filter(|d| d.day() <= 12 && d.day() != d.month())
                            .map(|d| format!("{:04}-{:02}-{:02}", d.year(), d.day(), d.month()));
                        if let Some(s) = swapped {
                            r.birth_date = s;
                        } else {
                            r.address = other_notation(&r.address);
                        }
                    }
                }
            }
            Identity::Moved => {
                let elsewhere = &people[rng.below(people.len())];
                r.address = elsewhere.address.clone();
                r.postal_code = elsewhere.postal_code.clone();
                r.my_number = Some(valid_number(rng));
            }
            Identity::NameChange => {
                let other = loop {
                    let o = &people[rng.below(people.len())];
                    if o.family_name != r.family_name && o.family_name_kana != r.family_name_kana {
                        break o;
                    }
                };
                r.family_name = other.family_name.clone();
                r.family_name_kana = other.family_name_kana.clone();
                r.my_number = None;
            }
            Identity::SwappedNames => {
                std::mem::swap(&mut r.family_name, &mut r.given_name);
                std::mem::swap(&mut r.family_name_kana, &mut r.given_name_kana);
                r.my_number = Some(valid_number(rng));
            }
            Identity::Twin => {
                let other = loop {
                    let o = &people[rng.below(people.len())];
                    if o.given_name != r.given_name
                        && kana::kana_key(&o.given_name_kana) != kana::kana_key(&r.given_name_kana)
                    {
                        break o;
                    }
                };
                r.given_name = other.given_name.clone();
                r.given_name_kana = other.given_name_kana.clone();
                r.sex = other.sex;
                r.my_number = Some(valid_number(rng));
            }
            Identity::Namesake => {
                let elsewhere = &people[rng.below(people.len())];
                r.address = elsewhere.address.clone();
                r.postal_code = elsewhere.postal_code.clone();
                let d = Date::parse(&r.birth_date).unwrap_or(Date::from_days(0));
                let shift = 400 + i32::try_from(rng.below(9000)).unwrap_or(0);
                let later = d.add_days(shift);
                let latest = Date::from_ymd(2025, 12, 31).map(Date::to_days).unwrap_or(0);
                r.birth_date =
                    if rng.chance(0.5) && later.to_days() <= latest { later } else { d.add_days(-shift) }.to_string();
                r.my_number = Some(valid_number(rng));
            }
            Identity::NewPerson => {
                r = g.record();
                r.id = format!("S{n:06}");
                r.my_number = Some(valid_number(&mut g.rng));
            }
        }
        out.push((serde_json::to_value(&r).unwrap_or_default(), kind));
    }
    let registry = people.iter().map(|p| serde_json::to_value(p).unwrap_or_default()).collect();
    (registry, out)
}

/// A valid My Number (check digit right), as digits.
fn valid_number(rng: &mut Rng) -> String {
    let mut n: String = (0..11).map(|_| char::from(b'0' + rng.below(10) as u8)).collect();
    let check = digits::my_number_check_digit(&n).unwrap_or(0);
    n.push(char::from(b'0' + check));
    n
}
