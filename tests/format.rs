//! The formatter (`kensa fmt`) as data: messy rule text in, canonical text out, each case an
//! insta snapshot of both (`tests/snapshots/format__<case>.snap`). Every case is also checked
//! to be a fixed point (formatting the output changes nothing) and to keep every comment.
//! Meaning preservation on real rule sets is in `format_corpus.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use kensa::internal::{FormatError, format};
use proptest::prelude::*;

/// Format, or say why not (with the syntax codes).
fn fmt(input: &str) -> String {
    match format(input) {
        Ok(out) => out,
        Err(FormatError::Syntax(diags)) => {
            let codes: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
            format!("not formatted: {}\n", codes.join(", "))
        }
        Err(e) => format!("not formatted: {e}\n"),
    }
}

/// The comments of a text, in order (a crude scan that is right for the inputs below: no
/// `//` or `#` inside strings or regexes unless the case says so).
fn comments(text: &str) -> Vec<String> {
    text.lines().filter_map(|l| l.find("//").or_else(|| l.find('#')).map(|i| l[i..].trim_end().to_string())).collect()
}

fn case(name: &str, input: &str) {
    let out = fmt(input);
    if format(input).is_ok() {
        assert_eq!(fmt(&out), out, "{name}: formatting is not idempotent");
        assert!(!out.lines().any(|l| l.ends_with([' ', '\t'])), "{name}: trailing whitespace");
        assert!(out.is_empty() || (out.ends_with('\n') && !out.ends_with("\n\n")), "{name}: not one final newline");
        assert!(!out.contains("\n\n\n"), "{name}: more than one blank line");
    }
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(name, format!("----- input -----\n{input}\n----- formatted -----\n{out}"));
    });
}

#[test]
fn spacing_around_operators_commas_and_calls() {
    case(
        "spacing",
        r#"let a=x++" "++y
let b   =   today-birth_date+30
let c = f( a,b , c )
let d = not(a==b)and(c!=d)or e<=f
let e = x not in{"a","b"}
let f = pref_code [ prefecture ]
let g = address.prefecture ( address )
let h = name matches /^[ァ-ヶー]+$/
rule r { require a>=1900-01-01 and b<0.5 ; review - 40 "x"}
"#,
    );
}

#[test]
fn indentation_follows_blocks_and_continuation_lines() {
    case(
        "indentation",
        r#"rule my_number.check_digit "検査用数字" {
when not blank(my_number) and
is_digits(my_number_digits)
        require check_digit.my_number(
    my_number_digits
        )
      reject
    "個人番号 {my_number} の検査用数字が一致しません"
}
let bank_account = digits(bank.bank_code) ++ "-" ++
        digits(bank.branch_code)
rule registry.ambiguous_link
{
 require count candidates where (
 candidate.kana_compact == kana_compact and
 candidate.birth_date == birth_date
 ) < 2
 review
 -50 "照合は推測になります"
}
"#,
    );
}

#[test]
fn schema_fields_groups_and_types() {
    case(
        "schema",
        r#"schema Resident{
id:text   id
    my_number : text ? secret   // 個人番号
 sex:enum( male , female ),
aliases: list( text )?
  bank:{
        bank_code:text
holder_kana : text
 contact: {
  phone: text?
 }?
        }?
}
schema Minimal {id: text,family_name: text}
"#,
    );
}

#[test]
fn tables_sets_and_maps() {
    case(
        "tables",
        r#"set prefectures=file( "tables/prefectures.csv",column:"name" )
map pref_code = file("tables/prefectures.csv" , key : "name", value: "code",)
set account_types = { "ordinary","checking" , "savings" }
map sex_label={"male":"男","female" : "女"}
set empty = { }
map multi = {
"a": "x",
     "b": "y",
}
"#,
    );
}

#[test]
fn compare_levels_are_aligned_per_match_block() {
    case(
        "compare_levels",
        r#"match{
prior 0.0001
block on kana_compact++" "++birth_date
compare kana=kana_compact using jaro_winkler{
same: same m 0.90 u 0.01
  close:similarity>=0.85 m 0.08 u 0.02 // typos
other:else m 0.02 u 0.97
}

compare birth = birth_date using date {
    same:    same        m 0.95   u 0.0003,
    // day and month exchanged
    swapped: swapped     m 0.015  u 0.00001,
    near: within 30 days m 0.01 u 0.001;
    other:   else        m 0.025  u 0.9986
}
compare sex = sex using exact { same: same m 0.98 u 0.5, other: else m 0.02 u 0.5 }
compare n = number using levenshtein {
  same: same m 0.9 u 0.1
  other: else
    m 0.1 u 0.9
}
}
"#,
    );
}

#[test]
fn decide_arms_and_conditions() {
    case(
        "decide",
        r#"decide{
reject if any reject or fired my_number.length
  review if(count review>=2 and not no warn)or score<60
      review if any review and score <= 90
reject if count warn > 5 and not ( score > 50 )
 accept   otherwise
}
"#,
    );
}

#[test]
fn comments_stay_where_they_were() {
    case(
        "comments",
        r#"// header
# hash comment, too
schema S { id: text }   // trailing after a one-line schema

    // about the rule, indented too far
rule r "title // not a comment" {
// first clause
  require x matches /^#[0-9]+$/          // a regex with # in it
        // before the outcome
  review "「{x}」 # not a comment either"
  // before the closing brace
}
let a = b   // kept in its column
let long_name_here = some_function(argument_one, argument_two)   // pushed right when the code grows
// at the end
"#,
    );
}

#[test]
fn blank_lines_collapse_to_one_and_vanish_at_edges() {
    case("blank_lines", "\n\n\nlet a = 1\n\n\n\nlet b = 2\nrule r {\n\n  require a == b\n\n\n  reject\n\n}\n\n\n");
}

#[test]
fn one_line_items_stay_on_one_line() {
    case(
        "one_line",
        r#"rule household.size { require household_size >= 1 and household_size <= 99;warn "範囲外" }
rule a {require x;reject -100}
decide { reject if any reject; accept otherwise }
match { prior 0.5; block on x }
"#,
    );
}

#[test]
fn windows_newlines_tabs_and_full_width_spaces() {
    case("whitespace_kinds", "\u{FEFF}rule r {\r\n\trequire\u{3000}a ==\t\"\u{3000}全角\"\r\n\treject \r\n}\r\n");
}

#[test]
fn a_file_that_does_not_parse_is_left_alone() {
    case("syntax_error", "rule r {\n  require sex == \"male\n  reject\n}\n");
    case("syntax_error_unexpected", "rule r {\n  require\n  review 30\n}\n");
}

#[test]
fn empty_and_comment_only_files() {
    assert_eq!(fmt(""), "");
    assert_eq!(fmt("\n \n\t\n"), "");
    assert_eq!(fmt("   // only a comment   \n\n\n# another"), "// only a comment\n\n# another\n");
}

#[test]
fn the_shipped_rules_are_formatted() {
    for name in ["resident.kensa", "registry.kensa"] {
        let text = std::fs::read_to_string(format!("{}/rules/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert_eq!(format(&text).unwrap(), text, "rules/{name} is not in canonical form: run `kensa fmt rules/`");
    }
}

#[test]
fn every_comment_is_kept_in_order() {
    let input = "// a\nrule r { // b\n  require x # c\n  # d\n  reject // e\n} // f\n// g";
    let out = fmt(input);
    assert_eq!(comments(&out), comments(input));
    assert_eq!(comments(&out).len(), 7);
}

/// Pieces of rule text, some valid, most not: formatting any mix never panics, and what it
/// formats is a fixed point with the same comments.
const PIECES: &[&str] = &[
    "rule",
    "r.x",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "require",
    "when",
    "review",
    "-",
    "40",
    "\"文\"",
    "\"a // b\"",
    "\n",
    " ",
    "\t",
    "// c\n",
    "# d\n",
    "let",
    "x",
    "=",
    "==",
    "++",
    "and",
    "not",
    "in",
    "{\"a\", \"b\"}",
    ",",
    ";",
    ":",
    "?",
    ".",
    "/^#$/",
    "1900-01-01",
    "0.5",
    "schema",
    "S",
    "text",
    "match",
    "compare",
    "using",
    "exact",
    "m",
    "u",
    "same",
    "else",
    "decide",
    "accept",
    "otherwise",
    "if",
    "any",
    "reject",
    "\u{3000}",
    "（",
    "\"",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn token_soup_never_panics_and_formats_to_a_fixed_point(picks in proptest::collection::vec(0..PIECES.len(), 0..40)) {
        let text: String = picks.iter().map(|&i| PIECES[i]).collect::<Vec<_>>().join(" ");
        if let Ok(out) = format(&text) {
            prop_assert_eq!(format(&out).unwrap(), out.clone());
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC*") {
        let _ = format(&text);
    }
}
