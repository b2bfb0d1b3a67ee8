//! Spelling rules of Japanese place names: variant folding, 郡 stripping, numerals.
//!
//! Shared by the address parser and by `build.rs`, which uses them to build the municipality
//! and town tables at compile time (`#[path]`-included there): so this file depends on
//! nothing but `std`.
//!
//! Never: I/O, panics on any input.

/// `桑名郡木曽岬町` → `木曽岬町`; never splits 蒲郡市, 小郡市, 郡山市, 郡上市, 大和郡山市.
#[cfg_attr(not(test), allow(dead_code, reason = "build.rs builds the tables with it"))]
pub(crate) fn strip_gun(name: &str) -> &str {
    for (i, c) in name.char_indices() {
        if c == '郡' && i > 0 {
            let rest = name.get(i + c.len_utf8()..).unwrap_or("");
            if !rest.is_empty() && (rest.ends_with('町') || rest.ends_with('村')) {
                return rest;
            }
        }
    }
    ""
}

/// `北一条西` → `北1条西`, `神楽岡1条` → `神楽岡一条`: numerals before 条 in the other script
/// (Hokkaido 条 towns are written both ways). `None` when there is no such numeral.
#[cfg_attr(not(test), allow(dead_code, reason = "build.rs builds the tables with it"))]
pub(crate) fn jo_alias(town: &str) -> Option<String> {
    let mut out = String::with_capacity(town.len() + 8);
    let mut changed = false;
    let mut i = 0;
    while let Some(c) = tail(town, i).chars().next() {
        let numeral = read_number(tail(town, i)).filter(|&(_, len, _)| tail(town, i + len).starts_with('条'));
        if let Some((v, len, kanji)) = numeral {
            if kanji {
                out.push_str(&v.to_string());
            } else {
                write_kanji(v, &mut out);
            }
            changed = true;
            i += len;
            continue;
        }
        out.push(c);
        i += c.len_utf8();
    }
    changed.then_some(out)
}

/// Spelling variants that denote the same place name once the municipality is fixed
/// (geolonia's classes, DOMAIN §3.4). Only ever used to compare against a known name.
pub(crate) fn fold_char(c: char) -> char {
    match c {
        'ヶ' | 'ケ' | 'が' => 'ケ',
        'ヵ' | 'カ' | 'か' => 'カ',
        'の' | 'ノ' | '之' => 'ノ',
        'ッ' | 'っ' | 'つ' => 'ツ',
        'ニ' => '二',
        'ハ' => '八',
        '條' => '条',
        '藪' => '薮',
        '渕' => '淵',
        '曾' => '曽',
        '﨑' => '崎',
        '\u{FA10}' => '塚',
        '竈' => '釜',
        '龍' => '竜',
        '檜' => '桧',
        _ => c,
    }
}

pub(crate) fn tail(s: &str, from: usize) -> &str {
    s.get(from..).unwrap_or("")
}

/// Kanji numeral (`12` → `十二`, `105` → `百五`); Arabic digits from 10,000 up.
pub(crate) fn write_kanji(n: u32, out: &mut String) {
    const DIGITS: [char; 10] = ['〇', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
    if n == 0 || n >= 10_000 {
        if n == 0 {
            out.push('〇');
        } else {
            out.push_str(&n.to_string());
        }
        return;
    }
    for (unit, mark) in [(1000, '千'), (100, '百'), (10, '十')] {
        let d = (n / unit) % 10;
        if let Some(&c) = DIGITS.get(d as usize).filter(|_| d > 1) {
            out.push(c);
        }
        if d > 0 {
            out.push(mark);
        }
    }
    if let Some(&c) = DIGITS.get((n % 10) as usize).filter(|&&c| c != '〇') {
        out.push(c);
    }
}

pub(crate) fn kanji_digit(c: char) -> Option<u32> {
    Some(match c {
        '〇' | '零' => 0,
        '一' | '壱' => 1,
        '二' | '弐' => 2,
        '三' | '参' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

pub(crate) fn kanji_unit(c: char) -> Option<u32> {
    match c {
        '十' | '拾' => Some(10),
        '百' => Some(100),
        '千' => Some(1000),
        _ => None,
    }
}

/// A number at the start of `s`: (value, bytes, was_kanji). Arabic digits or a kanji numeral
/// (`十二`, `二十`, `一〇一`, `百五`). `None` on overflow or no number.
pub(crate) fn read_number(s: &str) -> Option<(u32, usize, bool)> {
    let mut chars = s.char_indices().peekable();
    let &(_, first) = chars.peek()?;
    if first.is_ascii_digit() {
        let mut v: u32 = 0;
        let mut end = 0;
        while let Some(&(i, c)) = chars.peek() {
            let Some(d) = c.to_digit(10).filter(|_| c.is_ascii_digit()) else {
                break;
            };
            v = v.checked_mul(10)?.checked_add(d)?;
            end = i + 1;
            chars.next();
        }
        return Some((v, end, false));
    }
    // A kanji numeral may be broken by whitespace (`二 十`): the key drops whitespace, so
    // reading across it keeps the key stable.
    let mut total: u32 = 0;
    let mut cur: Option<u32> = None;
    let mut end = 0;
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() && end > 0 {
            chars.next();
            continue;
        }
        if let Some(d) = kanji_digit(c) {
            cur = Some(cur.unwrap_or(0).checked_mul(10)?.checked_add(d)?);
        } else if let Some(u) = kanji_unit(c) {
            total = total.checked_add(cur.unwrap_or(1).checked_mul(u)?)?;
            cur = None;
        } else {
            break;
        }
        end = i + c.len_utf8();
        chars.next();
    }
    if end == 0 {
        return None;
    }
    Some((total.checked_add(cur.unwrap_or(0))?, end, true))
}
