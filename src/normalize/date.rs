//! Calendar dates: parsing ISO, `1980年4月1日` and 和暦 (`昭和55年4月1日`, `S55.4.1`), day
//! arithmetic and age in full years.
//!
//! Input → output: `&str` → [`Date`] or a [`DateError`] carrying a short English reason;
//! [`Date`] ↔ days since 1970-01-01 (proleptic Gregorian).
//! Never: I/O, time zones, the current date (callers pass "today"), panics; never guesses
//! a two-digit Gregorian year (`55/4/1` is rejected) or silently moves an impossible date
//! (`昭和64年1月8日` and `1988-02-30` are errors, not rolled over).
//!
//! Era boundaries (first and last day, both inclusive; on a change of emperor the day
//! itself belongs to both eras, as in the official usage of 1912 and 1926):
//! 明治 1868-01-25 (the Gregorian date of 慶応4年1月1日, to which 明治 was applied
//! retroactively; dates before 1873 are read as Gregorian, not the lunar calendar then in
//! use) – 1912-07-30; 大正 1912-07-30 – 1926-12-25; 昭和 1926-12-25 – 1989-01-07;
//! 平成 1989-01-08 – 2019-04-30; 令和 2019-05-01 –.
//! Kanji numerals (`昭和五十五年`) are not accepted.

use std::fmt;

use super::width::fold_width;

/// A valid calendar date (proleptic Gregorian). Ordered chronologically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

/// What kind of problem a [`DateError`] reports (stable, for rules and tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DateErrorKind {
    /// The input is empty or only whitespace.
    Empty,
    /// The input matches none of the accepted notations.
    UnknownFormat,
    /// The year is outside 1–9999, or an era year is 0.
    YearOutOfRange,
    /// The month is not 1–12.
    MonthOutOfRange,
    /// The day does not exist in that month.
    DayOutOfRange,
    /// A 和暦 date before the first day of its era.
    BeforeEraStart,
    /// A 和暦 date after the last day of its era.
    AfterEraEnd,
}

/// A date that could not be built or parsed, with a human-readable reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateError {
    kind: DateErrorKind,
    reason: String,
    /// The same reason in Japanese, for messages a clerk reads.
    reason_ja: String,
}

impl DateErrorKind {
    /// A stable code for the kind (`month_out_of_range`), e.g. for a finding's params.
    pub fn as_str(self) -> &'static str {
        match self {
            DateErrorKind::Empty => "empty",
            DateErrorKind::UnknownFormat => "unknown_format",
            DateErrorKind::YearOutOfRange => "year_out_of_range",
            DateErrorKind::MonthOutOfRange => "month_out_of_range",
            DateErrorKind::DayOutOfRange => "day_out_of_range",
            DateErrorKind::BeforeEraStart => "before_era_start",
            DateErrorKind::AfterEraEnd => "after_era_end",
        }
    }
}

impl DateError {
    fn new(kind: DateErrorKind, reason: impl Into<String>, reason_ja: impl Into<String>) -> Self {
        DateError { kind, reason: reason.into(), reason_ja: reason_ja.into() }
    }

    /// The kind of problem.
    pub fn kind(&self) -> DateErrorKind {
        self.kind
    }

    /// The reason, e.g. `day 30 is out of range: February 1988 has 29 days`.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The reason in Japanese, e.g. `1988年2月は29日までです（30日はありません）`.
    pub fn reason_ja(&self) -> &str {
        &self.reason_ja
    }
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for DateError {}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// A checked date: year 1–9999, month 1–12, day within the month.
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Result<Date, DateError> {
        if !(1..=9999).contains(&y) {
            return Err(DateError::new(
                DateErrorKind::YearOutOfRange,
                format!("year {y} is out of range (1-9999)"),
                format!("{y}年は範囲（1〜9999年）の外です"),
            ));
        }
        let (Ok(month), true) = (u8::try_from(m), (1..=12).contains(&m)) else {
            return Err(DateError::new(
                DateErrorKind::MonthOutOfRange,
                format!("month {m} is out of range (1-12)"),
                format!("{m}月はありません（1〜12月）"),
            ));
        };
        let len = days_in_month(y, m);
        let (Ok(day), true) = (u8::try_from(d), (1..=len).contains(&d)) else {
            let name = MONTH_NAMES.get(usize::from(month) - 1).unwrap_or(&"");
            return Err(DateError::new(
                DateErrorKind::DayOutOfRange,
                format!("day {d} is out of range: {name} {y} has {len} days"),
                format!("{y}年{m}月は{len}日までです（{d}日はありません）"),
            ));
        };
        Ok(Date { year: y, month, day })
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(self) -> u32 {
        u32::from(self.month)
    }

    /// The day of the month, 1–31.
    pub fn day(self) -> u32 {
        u32::from(self.day)
    }

    /// Days since 1970-01-01 (negative before), proleptic Gregorian.
    pub fn to_days(self) -> i32 {
        // Howard Hinnant's days_from_civil.
        let m = i64::from(self.month);
        let d = i64::from(self.day);
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        i32::try_from(days).unwrap_or(if days < 0 { i32::MIN } else { i32::MAX })
    }

    /// The date `days` days after 1970-01-01 (total: any `i32` gives a date, possibly
    /// outside the 1–9999 range of [`Date::from_ymd`]).
    pub fn from_days(days: i32) -> Date {
        // Howard Hinnant's civil_from_days.
        let z = i64::from(days) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        Date {
            year: i32::try_from(y).unwrap_or(0),
            month: u8::try_from(m).unwrap_or(1),
            day: u8::try_from(d).unwrap_or(1),
        }
    }

    /// The date `n` days later (earlier for negative `n`); saturates at the `i32` day range.
    pub fn add_days(self, n: i32) -> Date {
        Date::from_days(self.to_days().saturating_add(n))
    }

    /// Parses a date. Accepted, after `width::fold_width` (so full-width digits and
    /// punctuation work) and with surrounding and inner whitespace ignored:
    /// `1980-04-01`, `1980/4/1`, `1980.4.1`, `19800401`, `1980年4月1日` (`西暦` prefix
    /// allowed), `昭和55年4月1日`, `平成元年1月8日`, `昭和55.4.1`, `S55.4.1`, `H1.1.8`,
    /// `R2.2.29`, `M45/7/29`, `T1-7-30` (letters in either case; `明 大 昭 平 令` as one-kanji
    /// abbreviations). 和暦 dates are checked against their era's first and last day.
    pub fn parse(s: &str) -> Result<Date, DateError> {
        parse(s)
    }
}

/// Full years from `from` to `to`, i.e. the age on `to` of someone born on `from`
/// (negative when `to` is before `from`). Ordinary civil rule: the count goes up on the
/// anniversary, and a 29 February birthday is reached on 1 March in common years (the
/// person is still 17 on 28 February). Japan's 年齢計算ニ関スル法律 reckons the birthday
/// as reached at the end of the previous day, which matters only for deadlines stated
/// "by the day a person turns N"; rules that need it should compare with `to.add_days(1)`.
pub fn years_between(from: Date, to: Date) -> i32 {
    if to < from {
        return -years_between(to, from);
    }
    let mut years = to.year - from.year;
    if (to.month, to.day) < (from.month, from.day) {
        years -= 1;
    }
    years
}

impl fmt::Display for Date {
    /// `YYYY-MM-DD` (a year outside 0–9999 as it is). Written from the digits directly: dates
    /// become text in blocking keys and findings of nearly every record.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (Ok(year), true) = (u16::try_from(self.year), self.year <= 9999 && self.month <= 99 && self.day <= 99)
        else {
            return write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day);
        };
        let digit = |n: u16| b'0' + (n % 10) as u8;
        let (m, d) = (u16::from(self.month), u16::from(self.day));
        let text = [
            digit(year / 1000),
            digit(year / 100),
            digit(year / 10),
            digit(year),
            b'-',
            digit(m / 10),
            digit(m),
            b'-',
            digit(d / 10),
            digit(d),
        ];
        f.write_str(std::str::from_utf8(&text).unwrap_or_default())
    }
}

/// The common case, `YYYY-MM-DD` in ASCII, without allocating; `None` for anything else.
fn parse_iso(s: &str) -> Option<Result<Date, DateError>> {
    let b = s.as_bytes();
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        part.iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    Some(Date::from_ymd(i32::try_from(y).ok()?, m, d))
}

/// Free-function form of [`Date::parse`].
pub fn parse(s: &str) -> Result<Date, DateError> {
    if let Some(d) = parse_iso(s) {
        return d;
    }
    let folded = fold_width(s);
    let text: String = folded.chars().filter(|c| !c.is_whitespace()).collect();
    if text.is_empty() {
        return Err(DateError::new(DateErrorKind::Empty, "empty date", "日付が空です"));
    }
    let all = tokenize(&text).ok_or_else(unknown)?;
    // A final `日` is optional (`1980年4月1`).
    let toks = match all.as_slice() {
        [head @ .., Tok::Sep('日')] => head,
        whole => whole,
    };
    match toks {
        [Tok::Num(n, 8)] => {
            let y = i32::try_from(n / 10_000).map_err(|_| unknown())?;
            Date::from_ymd(y, n / 100 % 100, n % 100)
        }
        [Tok::Num(y, 4), Tok::Sep(a), Tok::Num(m, 1..=2), Tok::Sep(b), Tok::Num(d, 1..=2)]
            if a == b && matches!(a, '-' | '/' | '.') =>
        {
            Date::from_ymd(i32::try_from(*y).map_err(|_| unknown())?, *m, *d)
        }
        [Tok::Seireki, rest @ ..] | rest @ [Tok::Num(_, 4), Tok::Sep('年'), ..] => match rest {
            [Tok::Num(y, 4), Tok::Sep('年'), Tok::Num(m, 1..=2), Tok::Sep('月'), Tok::Num(d, 1..=2)] => {
                Date::from_ymd(i32::try_from(*y).map_err(|_| unknown())?, *m, *d)
            }
            _ => Err(unknown()),
        },
        [Tok::Era(era), Tok::Num(y, 1..=2), rest @ ..] => {
            let (m, d) = match rest {
                [Tok::Sep('年'), Tok::Num(m, 1..=2), Tok::Sep('月'), Tok::Num(d, 1..=2)] => (*m, *d),
                [Tok::Sep(a), Tok::Num(m, 1..=2), Tok::Sep(b), Tok::Num(d, 1..=2)]
                    if a == b && matches!(a, '-' | '/' | '.') =>
                {
                    (*m, *d)
                }
                _ => return Err(unknown()),
            };
            era_date(*era, *y, m, d)
        }
        _ => Err(unknown()),
    }
}

fn unknown() -> DateError {
    DateError::new(
        DateErrorKind::UnknownFormat,
        "unrecognized date format (expected e.g. 1980-04-01, 1980年4月1日, 昭和55年4月1日 or S55.4.1)",
        "日付の書き方が読み取れません（例: 1980-04-01、1980年4月1日、昭和55年4月1日、S55.4.1）",
    )
}

/// (year, month, day) of an era boundary.
type Ymd = (i32, u8, u8);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Era {
    Meiji,
    Taisho,
    Showa,
    Heisei,
    Reiwa,
}

impl Era {
    /// (name, first year in Gregorian, first day, last day)
    fn info(self) -> (&'static str, i32, Ymd, Option<Ymd>) {
        match self {
            Era::Meiji => ("明治", 1868, (1868, 1, 25), Some((1912, 7, 30))),
            Era::Taisho => ("大正", 1912, (1912, 7, 30), Some((1926, 12, 25))),
            Era::Showa => ("昭和", 1926, (1926, 12, 25), Some((1989, 1, 7))),
            Era::Heisei => ("平成", 1989, (1989, 1, 8), Some((2019, 4, 30))),
            Era::Reiwa => ("令和", 2019, (2019, 5, 1), None),
        }
    }
}

fn era_date(era: Era, y: u32, m: u32, d: u32) -> Result<Date, DateError> {
    let (name, first_year, start, end) = era.info();
    if y == 0 {
        return Err(DateError::new(
            DateErrorKind::YearOutOfRange,
            format!("{name} 0 does not exist (元年 is year 1)"),
            format!("{name}0年はありません（元年が1年です）"),
        ));
    }
    let y = i32::try_from(y).map_err(|_| unknown())?;
    let date = Date::from_ymd(first_year + y - 1, m, d)?;
    let start = Date { year: start.0, month: start.1, day: start.2 };
    if date < start {
        return Err(DateError::new(
            DateErrorKind::BeforeEraStart,
            format!("{name} began on {start}"),
            format!("{name}は{}年{}月{}日からです", start.year, start.month, start.day),
        ));
    }
    if let Some((ey, em, ed)) = end {
        let end = Date { year: ey, month: em, day: ed };
        if date > end {
            return Err(DateError::new(
                DateErrorKind::AfterEraEnd,
                format!("{name} ended on {end}"),
                format!("{name}は{}年{}月{}日までです", end.year, end.month, end.day),
            ));
        }
    }
    Ok(date)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    /// value, number of digits
    Num(u32, usize),
    Sep(char),
    Era(Era),
    Seireki,
}

fn tokenize(s: &str) -> Option<Vec<Tok>> {
    let mut toks = Vec::with_capacity(8);
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c.is_ascii_digit() {
            let len = rest.find(|ch: char| !ch.is_ascii_digit()).unwrap_or(rest.len());
            if len > 8 {
                return None;
            }
            let n: u32 = rest.get(..len)?.parse().ok()?;
            toks.push(Tok::Num(n, len));
            rest = rest.get(len..)?;
            continue;
        }
        const WORDS: [(&str, Tok); 17] = [
            ("明治", Tok::Era(Era::Meiji)),
            ("大正", Tok::Era(Era::Taisho)),
            ("昭和", Tok::Era(Era::Showa)),
            ("平成", Tok::Era(Era::Heisei)),
            ("令和", Tok::Era(Era::Reiwa)),
            ("西暦", Tok::Seireki),
            ("明", Tok::Era(Era::Meiji)),
            ("大", Tok::Era(Era::Taisho)),
            ("昭", Tok::Era(Era::Showa)),
            ("平", Tok::Era(Era::Heisei)),
            ("令", Tok::Era(Era::Reiwa)),
            ("元", Tok::Num(1, 1)),
            ("M", Tok::Era(Era::Meiji)),
            ("T", Tok::Era(Era::Taisho)),
            ("S", Tok::Era(Era::Showa)),
            ("H", Tok::Era(Era::Heisei)),
            ("R", Tok::Era(Era::Reiwa)),
        ];
        let upper = c.to_ascii_uppercase();
        let hit = WORDS
            .iter()
            .find(|(w, _)| rest.starts_with(w) || (w.len() == 1 && w.starts_with(upper) && c.is_ascii_lowercase()));
        if let Some((w, tok)) = hit {
            let len = if c.is_ascii_lowercase() { 1 } else { w.len() };
            toks.push(*tok);
            rest = rest.get(len..)?;
            continue;
        }
        match c {
            '-' | '/' | '.' | '年' | '月' | '日' => {
                toks.push(Tok::Sep(c));
                rest = rest.get(c.len_utf8()..)?;
            }
            _ => return None,
        }
    }
    Some(toks)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "tests may panic")]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn iso_text_is_zero_padded() {
        for (y, m, d) in [(1, 1, 1), (999, 12, 31), (1926, 12, 25), (2026, 2, 28), (9999, 12, 31), (10000, 1, 1)] {
            let date = Date { year: y, month: m, day: d };
            assert_eq!(date.to_string(), format!("{y:04}-{m:02}-{d:02}"));
        }
    }

    fn p(s: &str) -> String {
        match parse(s) {
            Ok(d) => d.to_string(),
            Err(e) => format!("error {:?}: {e}", e.kind()),
        }
    }

    #[test]
    fn gregorian() {
        for s in [
            "1980-04-01",
            "1980/4/1",
            "1980.04.01",
            "19800401",
            "1980年4月1日",
            "1980年04月01日",
            "西暦1980年4月1日",
            " １９８０－０４－０１ ",
            "1980 年 4 月 1 日",
            "1980年4月1",
        ] {
            assert_eq!(p(s), "1980-04-01", "{s}");
        }
        assert!(p("1980-04/01").starts_with("error UnknownFormat"));
        assert!(p("55/4/1").starts_with("error UnknownFormat"));
        assert!(p("").starts_with("error Empty"));
        assert!(p("\u{3000} ").starts_with("error Empty"));
        assert_eq!(p("1980-13-01"), "error MonthOutOfRange: month 13 is out of range (1-12)");
        assert_eq!(p("1988-02-30"), "error DayOutOfRange: day 30 is out of range: February 1988 has 29 days");
        assert_eq!(p("1987-02-29"), "error DayOutOfRange: day 29 is out of range: February 1987 has 28 days");
        assert_eq!(p("2000-02-29"), "2000-02-29");
        assert!(p("1900-02-29").starts_with("error DayOutOfRange"));
        assert!(p("0000-01-01").starts_with("error YearOutOfRange"));
    }

    #[test]
    fn wareki() {
        assert_eq!(p("昭和55年4月1日"), "1980-04-01");
        assert_eq!(p("S55.4.1"), "1980-04-01");
        assert_eq!(p("s55.4.1"), "1980-04-01");
        assert_eq!(p("昭55.4.1"), "1980-04-01");
        assert_eq!(p("昭和64年1月7日"), "1989-01-07");
        assert_eq!(p("昭和64年1月8日"), "error AfterEraEnd: 昭和 ended on 1989-01-07");
        assert_eq!(p("平成元年1月8日"), "1989-01-08");
        assert_eq!(p("平成元年1月7日"), "error BeforeEraStart: 平成 began on 1989-01-08");
        assert_eq!(p("H1.1.8"), "1989-01-08");
        assert_eq!(p("H31.4.30"), "2019-04-30");
        assert!(p("H31.5.1").starts_with("error AfterEraEnd"));
        assert_eq!(p("R2.2.29"), "2020-02-29");
        assert_eq!(p("令和元年5月1日"), "2019-05-01");
        assert_eq!(p("㋿元年5月1日"), "2019-05-01");
        assert_eq!(p("M45.7.29"), "1912-07-29");
        assert_eq!(p("T1.7.30"), "1912-07-30");
        assert_eq!(p("大正元年7月30日"), "1912-07-30");
        assert!(p("T1.7.29").starts_with("error BeforeEraStart"));
        assert_eq!(p("大正15年12月25日"), "1926-12-25");
        assert_eq!(p("昭和元年12月25日"), "1926-12-25");
        assert!(p("平成0年1月8日").starts_with("error YearOutOfRange"));
        assert_eq!(p("平成 ３年 ２月 １日"), "1991-02-01");
        assert!(p("昭和五十五年四月一日").starts_with("error UnknownFormat"));
        assert!(p("S55").starts_with("error UnknownFormat"));
        assert!(p("X55.4.1").starts_with("error UnknownFormat"));
    }

    #[test]
    fn days_and_ages() {
        let d = |s: &str| parse(s).unwrap();
        assert_eq!(d("1970-01-01").to_days(), 0);
        assert_eq!(d("2000-03-01").to_days(), 11_017);
        assert_eq!(d("1969-12-31").to_days(), -1);
        assert_eq!(Date::from_days(11_017), d("2000-03-01"));
        assert_eq!(d("2020-02-28").add_days(1), d("2020-02-29"));
        assert_eq!(d("2019-12-31").add_days(1), d("2020-01-01"));
        let birth = d("2004-02-29");
        assert_eq!(years_between(birth, d("2022-02-28")), 17);
        assert_eq!(years_between(birth, d("2022-03-01")), 18);
        assert_eq!(years_between(birth, d("2024-02-29")), 20);
        assert_eq!(years_between(d("1980-04-01"), d("2025-03-31")), 44);
        assert_eq!(years_between(d("1980-04-01"), d("2025-04-01")), 45);
        assert_eq!(years_between(d("2025-04-01"), d("1980-04-01")), -45);
        assert!(d("1989-01-07") < d("1989-01-08"));
        let dt = Date::from_ymd(1980, 4, 1).unwrap();
        assert_eq!((dt.year(), dt.month(), dt.day()), (1980, 4, 1));
        assert!(Date::from_ymd(1980, 4, 31).is_err());
        let e: Box<dyn std::error::Error> = Box::new(Date::from_ymd(1980, 0, 1).unwrap_err());
        assert_eq!(e.to_string(), "month 0 is out of range (1-12)");
    }

    proptest! {
        #[test]
        fn days_roundtrip(n in -3_000_000i32..3_000_000) {
            let d = Date::from_days(n);
            prop_assert_eq!(d.to_days(), n);
            let again = Date::from_ymd(d.year(), d.month(), d.day());
            if (1..=9999).contains(&d.year()) {
                prop_assert_eq!(again.unwrap(), d);
                prop_assert_eq!(parse(&d.to_string()).unwrap(), d);
            }
        }

        #[test]
        fn never_panics(s in any::<String>(), n in any::<i32>()) {
            let _ = parse(&s);
            let d = Date::from_days(n);
            let _ = d.add_days(n);
            let _ = d.to_string();
        }

        #[test]
        fn never_panics_dateish(s in "[0-9０-９年月日元明大昭平令和治正成西暦MTSHRmtshr./\\- ]{0,16}") {
            let _ = parse(&s);
        }
    }
}
