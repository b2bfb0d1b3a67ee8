//! The fixed library of functions a rule can call: signatures (for the checker), meaning and
//! an example (for the docs, run as a test) and the implementation (for the evaluator).
//!
//! Input → output: runtime [`Value`]s → a [`Value`]. Builtins are pure and total: no I/O, no
//! panics, and they always terminate. Unless a builtin says otherwise, an absent argument gives
//! an absent result, so a rule over a missing field is "not applicable" rather than an error.

mod address;

use std::borrow::Cow;

use crate::normalize::date::Date;
use crate::normalize::{digits, kana, name, variant, width, zengin};
use crate::value::Value;

/// What a builtin may read besides its arguments.
#[derive(Clone, Copy, Debug)]
pub struct Ctx {
    /// The date "today" (injectable with `--today` so that age rules are testable).
    pub today: Date,
}

/// Parameter and result kinds of builtins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PTy {
    Text,
    Int,
    Date,
    Bool,
    /// Text or a list (for `length`).
    TextOrList,
    /// Anything (for `present`, `absent`, `coalesce`).
    Any,
}

impl PTy {
    pub fn as_str(self) -> &'static str {
        match self {
            PTy::Text => "text",
            PTy::Int => "int",
            PTy::Date => "date",
            PTy::Bool => "bool",
            PTy::TextOrList => "text or list",
            PTy::Any => "any",
        }
    }
}

/// The Rust function behind a builtin, by arity.
#[derive(Clone, Copy)]
pub enum Imp {
    F1(for<'a> fn(&Ctx, &Value<'a>) -> Value<'a>),
    F2(for<'a> fn(&Ctx, &Value<'a>, &Value<'a>) -> Value<'a>),
}

impl Imp {
    pub fn arity(self) -> usize {
        match self {
            Imp::F1(_) => 1,
            Imp::F2(_) => 2,
        }
    }
}

impl std::fmt::Debug for Imp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<builtin/{}>", self.arity())
    }
}

/// One builtin function.
#[derive(Debug)]
pub struct Builtin {
    pub name: &'static str,
    pub params: &'static [(&'static str, PTy)],
    pub ret: PTy,
    /// The function sees absent arguments (otherwise an absent argument gives an absent result
    /// without calling it).
    pub sees_absent: bool,
    /// A text-to-text function that, given a list of text, gives the list of its results
    /// (`key.fold(former_names)`).
    pub each: bool,
    /// What it does, in plain words.
    pub doc: &'static str,
    /// A condition that is true; the docs show it and a test evaluates it.
    pub example: &'static str,
    pub imp: Imp,
}

/// Find a builtin by its (dotted) name.
pub fn lookup(name: &str) -> Option<&'static Builtin> {
    all().iter().find(|b| b.name == name)
}

/// Every builtin, in documentation order.
pub fn all() -> &'static [Builtin] {
    BUILTINS
}

fn text_fn<'a>(v: &Value<'a>, f: impl for<'s> Fn(&'s str) -> Cow<'s, str>) -> Value<'a> {
    v.map_text(f)
}

/// `f` on a text, or on every text of a list (items that are not text become absent).
fn text_each<'a>(v: &Value<'a>, f: for<'s> fn(&'s str) -> Cow<'s, str>) -> Value<'a> {
    match v {
        Value::List(items) => Value::List(std::rc::Rc::new(items.iter().map(|x| x.map_text(f)).collect())),
        other => other.map_text(f),
    }
}

/// `blank(v)`: missing, or text made only of whitespace. The builtin and the compiled test
/// (`compile::Is::Blank`) both answer with this.
pub(crate) fn is_blank(v: &Value<'_>) -> bool {
    match v {
        Value::Null => true,
        Value::Text(t) => t.as_str().chars().all(char::is_whitespace),
        _ => false,
    }
}

fn pred<'a>(v: &Value<'a>, f: impl Fn(&str) -> bool) -> Value<'a> {
    match v.as_text() {
        Some(s) => Value::Bool(f(s)),
        None => Value::Null,
    }
}

fn int_of(n: usize) -> Value<'static> {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

macro_rules! b1 {
    ($name:expr, [$($p:expr),*], $ret:expr, $doc:expr, $ex:expr, $f:expr) => {
        Builtin { name: $name, params: &[$($p),*], ret: $ret, sees_absent: false, each: false, doc: $doc, example: $ex, imp: Imp::F1($f) }
    };
}
/// A text function that also maps a list of text, item by item (`each`).
macro_rules! b1_each {
    ($name:expr, $pname:expr, $doc:expr, $ex:expr, $f:expr) => {
        Builtin {
            name: $name,
            params: &[($pname, T)],
            ret: T,
            sees_absent: false,
            each: true,
            doc: $doc,
            example: $ex,
            imp: Imp::F1(|_, v| text_each(v, $f)),
        }
    };
}
macro_rules! b2 {
    ($name:expr, [$($p:expr),*], $ret:expr, $doc:expr, $ex:expr, $f:expr) => {
        Builtin { name: $name, params: &[$($p),*], ret: $ret, sees_absent: false, each: false, doc: $doc, example: $ex, imp: Imp::F2($f) }
    };
}

const T: PTy = PTy::Text;

static BUILTINS: &[Builtin] = &[
    // ------------------------------------------------------------ presence
    Builtin {
        name: "present",
        params: &[("value", PTy::Any)],
        ret: PTy::Bool,
        sees_absent: true,
        each: false,
        doc: "True when the value is there: the field was given (not missing, not `null`), or the function before it had an answer. Empty text counts as present; use `blank` for that.",
        example: r#"present("山田") and not present(address.prefecture("県のない住所"))"#,
        imp: Imp::F1(|_, v| Value::Bool(!v.is_null())),
    },
    Builtin {
        name: "absent",
        params: &[("value", PTy::Any)],
        ret: PTy::Bool,
        sees_absent: true,
        each: false,
        doc: "True when the value is missing: the opposite of `present`.",
        example: r#"absent(address.prefecture("県のない住所"))"#,
        imp: Imp::F1(|_, v| Value::Bool(v.is_null())),
    },
    Builtin {
        name: "blank",
        params: &[("value", PTy::Any)],
        ret: PTy::Bool,
        sees_absent: true,
        each: false,
        doc: "True when the value is missing, or is text made only of spaces (including full-width spaces).",
        example: r#"blank("　 ") and not blank("山田")"#,
        imp: Imp::F1(|_, v| Value::Bool(is_blank(v))),
    },
    Builtin {
        name: "coalesce",
        params: &[("value", PTy::Any), ("default", PTy::Any)],
        ret: PTy::Any,
        sees_absent: true,
        each: false,
        doc: "The first value when it is present, otherwise the second.",
        example: r#"coalesce(address.prefecture("県のない住所"), "不明") == "不明""#,
        imp: Imp::F2(|_, a, b| if a.is_null() { b.clone() } else { a.clone() }),
    },
    // ------------------------------------------------------------ text
    b1!(
        "length",
        [("value", PTy::TextOrList)],
        PTy::Int,
        "The number of characters of a text (not bytes: `山田` has 2), or the number of items of a list.",
        r#"length("山田太郎") == 4"#,
        |_, v| match &v {
            Value::Text(t) => int_of(t.as_str().chars().count()),
            Value::List(items) => int_of(items.len()),
            _ => Value::Null,
        }
    ),
    b1!(
        "trim",
        [("text", T)],
        T,
        "The text without spaces (including full-width spaces) at either end.",
        r#"trim("　山田 ") == "山田""#,
        |_, v| text_fn(v, |s| Cow::Borrowed(s.trim()))
    ),
    b1!("upper", [("text", T)], T, "Latin letters in upper case.", r#"upper("Smith") == "SMITH""#, |_, v| text_fn(
        v,
        |s| if s.chars().any(char::is_lowercase) { Cow::Owned(s.to_uppercase()) } else { Cow::Borrowed(s) }
    )),
    b2!(
        "contains",
        [("text", T), ("part", T)],
        PTy::Bool,
        "True when the text contains the part.",
        r#"contains("東京都千代田区", "千代田")"#,
        |_, a, b| match (a.as_text(), b.as_text()) {
            (Some(a), Some(b)) => Value::Bool(a.contains(b)),
            _ => Value::Null,
        }
    ),
    b2!(
        "starts_with",
        [("text", T), ("prefix", T)],
        PTy::Bool,
        "True when the text begins with the prefix.",
        r#"starts_with("東京都千代田区", "東京都")"#,
        |_, a, b| match (a.as_text(), b.as_text()) {
            (Some(a), Some(b)) => Value::Bool(a.starts_with(b)),
            _ => Value::Null,
        }
    ),
    // ------------------------------------------------------------ width and spaces
    b1!(
        "nfkc",
        [("text", T)],
        T,
        "Unicode NFKC. Folds full-width letters and digits, but also erases CJK compatibility ideographs and splits `゛`; prefer `width` for names.",
        r#"nfkc("ＡＢＣ１２３") == "ABC123""#,
        |_, v| text_fn(v, width::nfkc)
    ),
    b1!(
        "width",
        [("text", T)],
        T,
        "The safe width fold: full-width ASCII to ASCII, the ideographic space to a space, half-width katakana to full-width with voicing marks joined (`ｶﾞ` → `ガ`); kanji untouched.",
        r#"width("ＡＢＣ　ｶﾞ") == "ABC ガ""#,
        |_, v| text_fn(v, width::fold_width)
    ),
    b1!(
        "collapse_spaces",
        [("text", T)],
        T,
        "Trims the text and turns every run of spaces, full-width spaces and tabs into one space.",
        r#"collapse_spaces(" 山田　　太郎 ") == "山田 太郎""#,
        |_, v| text_fn(v, width::collapse_whitespace)
    ),
    b1!(
        "remove_spaces",
        [("text", T)],
        T,
        "Removes every space, full-width space and tab.",
        r#"remove_spaces("山田　太郎") == "山田太郎""#,
        |_, v| text_fn(v, width::remove_whitespace)
    ),
    // ------------------------------------------------------------ numbers
    b1!(
        "digits",
        [("text", T)],
        T,
        "Input hygiene for numbers: full-width digits become ASCII; spaces, hyphens (and look-alikes) and `〒` are removed. Other characters are kept, so a later check still sees them.",
        r#"digits("１２３４ 5678-9018") == "123456789018""#,
        |_, v| text_fn(v, digits::digits)
    ),
    b1!(
        "is_digits",
        [("text", T)],
        PTy::Bool,
        "True when the text is one or more ASCII digits and nothing else.",
        r#"is_digits("0123") and not is_digits("12a4") and not is_digits("")"#,
        |_, v| pred(v, digits::is_ascii_digits)
    ),
    b1!(
        "mask",
        [("text", T)],
        T,
        "Hides every character but the last four (`********9018`). Use it to show a My Number in a message.",
        r#"mask("123456789018") == "********9018""#,
        |_, v| match v.as_text() {
            Some(s) => Value::owned(digits::mask(s)),
            None => Value::Null,
        }
    ),
    b1!(
        "check_digit.my_number",
        [("number", T)],
        PTy::Bool,
        "True when the text is exactly 12 ASCII digits whose last digit is the My Number check digit (weights 6,5,4,3,2,7,6,5,4,3,2; remainder 0 or 1 gives 0). Apply `digits` first to accept card spacing.",
        r#"check_digit.my_number("123456789018") and not check_digit.my_number("123456789019")"#,
        |_, v| pred(v, digits::is_valid_my_number)
    ),
    b1!(
        "my_number.is_placeholder",
        [("number", T)],
        PTy::Bool,
        "True when the text is 12 ASCII digits whose first 11 are one digit repeated or a run counting up or down (0 follows 9, 9 follows 0): a placeholder typed to get past a required field, whatever its check digit. Apply `digits` first to accept card spacing.",
        r#"my_number.is_placeholder("111111111118") and my_number.is_placeholder("123456789018") and not my_number.is_placeholder("463760444596")"#,
        |_, v| pred(v, digits::is_placeholder_my_number)
    ),
    b1!(
        "check_digit.corporate_number",
        [("number", T)],
        PTy::Bool,
        "True when the text is a 13-digit Corporate Number (法人番号) whose leading check digit is right; a `T` prefix (invoice number) is accepted.",
        r#"check_digit.corporate_number("7000012050002") and not check_digit.corporate_number("8000012050002")"#,
        |_, v| pred(v, digits::is_valid_corporate_number)
    ),
    b1!(
        "check_digit.luhn",
        [("number", T)],
        PTy::Bool,
        "True when the digits pass the Luhn check.",
        r#"check_digit.luhn("0110113719")"#,
        |_, v| pred(v, digits::luhn_valid)
    ),
    b1!(
        "check_digit.insurer_number",
        [("number", T)],
        PTy::Bool,
        "True for a valid health-insurance insurer number (保険者番号): 8 digits, or 6 for municipal NHI, with its verification digit.",
        r#"check_digit.insurer_number("33120015") and not check_digit.insurer_number("06130000")"#,
        |_, v| pred(v, digits::is_valid_insurer_number)
    ),
    b1!(
        "check_digit.medical_institution_code",
        [("code", T)],
        PTy::Bool,
        "True for a valid 10-digit medical institution code (prefecture, 点数表, 7-digit code) whose Luhn digit is right.",
        r#"check_digit.medical_institution_code("0110113719")"#,
        |_, v| pred(v, digits::is_valid_medical_institution_code)
    ),
    // ------------------------------------------------------------ kana
    b1!(
        "katakana",
        [("text", T)],
        T,
        "Hiragana and half-width katakana become full-width katakana (`やまだ`, `ﾔﾏﾀﾞ` → `ヤマダ`); everything else is kept.",
        r#"katakana("やまだ") == "ヤマダ" and katakana("ﾔﾏﾀﾞ") == "ヤマダ""#,
        |_, v| text_fn(v, kana::to_katakana)
    ),
    b1!(
        "hiragana",
        [("text", T)],
        T,
        "Katakana become hiragana.",
        r#"hiragana("ヤマダ") == "やまだ""#,
        |_, v| text_fn(v, kana::to_hiragana)
    ),
    b1!(
        "kana_key",
        [("text", T)],
        T,
        "The kana comparison key: width fold, spaces collapsed, katakana, long-vowel look-alikes unified, iteration marks expanded. Small kana stay small.",
        r#"kana_key("やまだ　たろう") == kana_key("ﾔﾏﾀﾞ ﾀﾛｳ")"#,
        |_, v| text_fn(v, kana::kana_key)
    ),
    b1!(
        "is_katakana",
        [("text", T)],
        PTy::Bool,
        "True when the text, once normalized like `kana_key`, is katakana only (with `ー`, `・` and single spaces between parts). Hiragana and half-width input count as katakana; kanji, Latin letters and digits do not.",
        r#"is_katakana("ﾔﾏﾀﾞ ﾀﾛｳ") and is_katakana("やまだ") and not is_katakana("山田") and not is_katakana("YAMADA")"#,
        |_, v| pred(v, kana::is_katakana_name)
    ),
    b1!(
        "has_kanji",
        [("text", T)],
        PTy::Bool,
        "True when the text contains at least one kanji.",
        r#"has_kanji("山田タロウ") and not has_kanji("ヤマダ")"#,
        |_, v| pred(v, |s| s.chars().any(kana::is_kanji))
    ),
    // ------------------------------------------------------------ bank kana
    b1!(
        "zengin",
        [("text", T)],
        T,
        "The name in bank form (全銀): half-width katakana, small kana written large, dashes as `-`, middle dots as spaces, Latin in upper case (`キョウコ` → `ｷﾖｳｺ`).",
        r#"zengin("ハマダ キョウコ") == "ﾊﾏﾀﾞ ｷﾖｳｺ""#,
        |_, v| text_fn(v, zengin::to_zengin)
    ),
    b1!(
        "zengin_key",
        [("text", T)],
        T,
        "The bank-name comparison key: `zengin` plus legal-entity abbreviations in one form. Equal keys mean the names do not contradict each other, not that they are the same person: the fold is lossy (`キョウコ` and `キヨウコ` meet).",
        r#"zengin_key("ﾊﾏﾀﾞ ｷﾖｳｺ") == zengin_key("はまだ　きょうこ")"#,
        |_, v| text_fn(v, zengin::zengin_key)
    ),
    b1!(
        "is_zengin",
        [("text", T)],
        PTy::Bool,
        "True when the text is already in valid bank form (half-width katakana without small kana or `ｦ`, `ﾞ` `ﾟ`, A–Z, 0–9, space and `( ) - .`).",
        r#"is_zengin("ﾊﾏﾀﾞ ｷﾖｳｺ") and not is_zengin("ハマダ")"#,
        |_, v| pred(v, zengin::is_zengin)
    ),
    // ------------------------------------------------------------ name keys
    b1_each!(
        "key.nfkc",
        "name",
        "Name key K1: width fold, variation selectors removed, spaces collapsed. Given a list of names, gives the list of their keys.",
        r#"key.nfkc("山田　太郎") == "山田 太郎""#,
        name::key_nfkc
    ),
    b1_each!(
        "key.fold",
        "name",
        "Name key for comparing names across notations, Latin ones included: `key.variant`, then upper case, without spaces, hyphens, apostrophes, dots or middle dots. Use it to compare a name with another field (family with given) or another person's. Given a list of names, gives the list of their keys.",
        r#"key.fold("O'Brien-Smith") == key.fold("ｏ’ｂｒｉｅｎ ｓｍｉｔｈ") and key.fold("髙橋　一郎") == "高橋一郎""#,
        name::key_fold
    ),
    b1_each!(
        "key.nospace",
        "name",
        "Name key K1 without any spaces. Given a list of names, gives the list of their keys.",
        r#"key.nospace("山田　太郎") == "山田太郎""#,
        name::key_nospace
    ),
    b1_each!(
        "key.kana",
        "name",
        "Name key K2: the kana key. Given a list of names, gives the list of their keys.",
        r#"key.kana("やまだ") == "ヤマダ""#,
        name::key_kana
    ),
    b1_each!(
        "key.zengin",
        "name",
        "Name key K3: the bank-kana key. Given a list of names, gives the list of their keys.",
        r#"key.zengin("キョウコ") == key.zengin("ｷﾖｳｺ")"#,
        name::key_zengin
    ),
    b1_each!(
        "key.variant",
        "name",
        "Name key K4: K1 with variant kanji folded by the versioned table (髙→高, 﨑→崎, 澤→沢, …). Use it to explain a mismatch, never to link automatically. Given a list of names, gives the list of their keys.",
        r#"key.variant("髙橋") == key.variant("高橋") and key.variant("廣瀬") == "広瀬""#,
        name::key_variant
    ),
    b1!(
        "fold_variants",
        [("text", T)],
        T,
        "Variant and old kanji folded to their common form by the versioned table.",
        r#"fold_variants("澤田") == "沢田""#,
        |_, v| text_fn(v, variant::fold_variants)
    ),
    // ------------------------------------------------------------ dates
    b1!(
        "age",
        [("birth_date", PTy::Date)],
        PTy::Int,
        "Full years from the date until today.",
        r#"age(today) == 0"#,
        |cx, v| match v {
            Value::Date(d) => Value::Int(i64::from(crate::normalize::date::years_between(*d, cx.today))),
            _ => Value::Null,
        }
    ),
    b2!(
        "years_between",
        [("from", PTy::Date), ("to", PTy::Date)],
        PTy::Int,
        "Full years from the first date to the second.",
        r#"years_between(1980-04-01, 2020-03-31) == 39"#,
        |_, a, b| match (a, b) {
            (Value::Date(a), Value::Date(b)) => Value::Int(i64::from(crate::normalize::date::years_between(*a, *b))),
            _ => Value::Null,
        }
    ),
    b1!(
        "year",
        [("date", PTy::Date)],
        PTy::Int,
        "The year of a date.",
        r#"year(1980-04-01) == 1980"#,
        |_, v| match v {
            Value::Date(d) => Value::Int(i64::from(d.year())),
            _ => Value::Null,
        }
    ),
    b1!(
        "parse_date",
        [("text", T)],
        PTy::Date,
        "Reads a date written as ISO (`1980-04-01`), with `/` or `.`, as `1980年4月1日`, or in 和暦 (`昭和55年4月1日`, `平成元年1月8日`, `S55.4.1`); absent when it cannot be read.",
        r#"parse_date("昭和55年4月1日") == 1980-04-01 and absent(parse_date("昭和64年1月8日"))"#,
        |_, v| match v.as_text() {
            Some(s) => Date::parse(s).map_or(Value::Null, Value::Date),
            None => Value::Null,
        }
    ),
    // ------------------------------------------------------------ addresses and postal codes
    b1!(
        "address.prefecture",
        [("address", T)],
        T,
        "The prefecture the address starts with (one of the 47, longest match first, so `東京都` is never read as `京都`), or the one implied by a municipality that exists in only one prefecture; absent when there is none.",
        r#"address.prefecture("東京都千代田区永田町1-7-1") == "東京都" and absent(address.prefecture("東京県千代田区"))"#,
        address::prefecture
    ),
    b1!(
        "address.prefecture_written",
        [("address", T)],
        PTy::Bool,
        "True when the address itself begins with one of the 47 prefecture names (not inferred from the municipality).",
        r#"address.prefecture_written("北海道札幌市") and not address.prefecture_written("札幌市中央区")"#,
        address::prefecture_written
    ),
    b1!(
        "address.bad_prefecture",
        [("address", T)],
        T,
        "The text written where the prefecture belongs when it is not one of the 47 (`東京県`, `福丘県`); absent when the prefecture is valid or not written.",
        r#"address.bad_prefecture("東京県千代田区永田町1-7-1") == "東京県" and absent(address.bad_prefecture("東京都千代田区"))"#,
        address::bad_prefecture
    ),
    b1!(
        "address.municipality",
        [("address", T)],
        T,
        "The municipality (市区町村, with 郡 and designated-city ward) found after the prefecture; absent when none matches the official list.",
        r#"address.municipality("広島県広島市中区基町2番15号") == "広島市中区""#,
        address::municipality
    ),
    b1!(
        "address.unconfirmed_ward",
        [("address", T)],
        T,
        "For an address in a designated city (政令指定都市) whose ward (区) is not one of the city's wards: the text written where the ward belongs (`東西区`; the town, such as `博多町`, when no ward is written; empty when nothing follows the city). Absent when the ward was found or completed from a town unique among the wards, and for any other municipality.",
        r#"address.unconfirmed_ward("大阪府大阪市東西区本町1-2") == "東西区" and address.unconfirmed_ward("福岡県福岡市博多町1-2") == "博多町" and absent(address.unconfirmed_ward("大阪府大阪市北区中之島1-3-20"))"#,
        address::unconfirmed_ward
    ),
    b1!(
        "address.unconfirmed_town",
        [("address", T)],
        T,
        "The town (町域・大字) of an address when Japan Post's town list for its municipality does not have it (`大字`/`字` are optional; in 京都市 the part after the street and 上る/下る/東入/西入 is compared). Absent when the town is listed, when the address has no town or no known municipality, for a designated city without ward (see `address.unconfirmed_ward`), and for a municipality Japan Post lists no towns for.",
        r#"address.unconfirmed_town("東京都千代田区永田天神町1-2") == "永田天神町" and absent(address.unconfirmed_town("東京都千代田区永田町1-7-1")) and absent(address.unconfirmed_town("京都府京都市中京区烏丸通三条上る場之町1"))"#,
        address::unconfirmed_town
    ),
    b1!(
        "address.key",
        [("address", T)],
        T,
        "The canonical address key: notation variants of 丁目・番地・号 (`1丁目3番1号`, `1-3-1`, `１－３－１`, `一丁目3番1号`) give the same key; the building part is left out.",
        r#"address.key("東京都千代田区永田町1丁目3番1号") == address.key("東京都千代田区永田町１－３－１")"#,
        address::key
    ),
    b1!(
        "postal.code",
        [("postal_code", T)],
        T,
        "The postal code as 7 ASCII digits (`〒100-0014`, `１００－００１４`, `1000014` all give `1000014`); absent when it is not 7 digits.",
        r#"postal.code("〒100-0014") == "1000014" and absent(postal.code("100-001"))"#,
        address::postal_code
    ),
    b1!(
        "postal.exists",
        [("postal_code", T)],
        PTy::Bool,
        "True when the postal code is in Japan Post's data (addresses or business codes).",
        r#"postal.exists("100-0014") and not postal.exists("000-0000")"#,
        address::postal_exists
    ),
    b2!(
        "postal.matches_address",
        [("postal_code", T), ("address", T)],
        PTy::Bool,
        "True when the postal code belongs to the address's prefecture and municipality (codes that span prefectures are allowed for each). Absent when either cannot be read.",
        r#"postal.matches_address("100-0014", "東京都千代田区永田町1-7-1") and not postal.matches_address("100-0014", "大阪府大阪市北区梅田1-1-1")"#,
        address::postal_matches
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_documented() {
        let mut names: Vec<&str> = all().iter().map(|b| b.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate builtin name");
        for b in all() {
            assert!(!b.doc.is_empty() && !b.example.is_empty(), "{} lacks doc or example", b.name);
            assert_eq!(b.params.len(), b.imp.arity(), "{} arity", b.name);
        }
    }
}
