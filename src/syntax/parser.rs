//! pest parse tree → AST, with tailored messages for the mistakes beginners make.

use pest::Parser as _;
use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;

use super::ast::*;
use super::depth;
use super::error::SyntaxCode;
use crate::diagnostic::Diagnostic;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/kensa.pest"]
struct KensaParser;

type P<'i> = Pair<'i, Rule>;

/// Parse one rule file. Syntax errors do not stop the parse: the file is cut at top-level
/// items (a line starting with `rule`, `schema`, `let`, … in the first column) and every
/// piece is parsed on its own, so one run reports every broken item.
pub fn parse_file(file: FileId, text: &str) -> (Module, Vec<Diagnostic>) {
    parse_file_within(file, text, MAX_ITEMS)
}

/// The most items (rules, bindings, tables, …) a rule set may hold, in all its files. Checking
/// and compiling cost some 4 KB an item, so this bounds the memory a rule set can take (about
/// 80 MB) whatever a generated file holds.
pub const MAX_ITEMS: usize = 20_000;

/// [`parse_file`], reading at most `max_items` items: past them the file is not parsed further
/// and a `kensa::syntax::too_many_items` error points at the first item too many.
pub fn parse_file_within(file: FileId, text: &str, max_items: usize) -> (Module, Vec<Diagnostic>) {
    let (module, mut diags) = parse_file_unsorted(file, text, max_items);
    // A mistake found by the pre-scan also trips the parser at the same place: keep the
    // tailored message only.
    let tailored: Vec<u32> = diags
        .iter()
        .filter(|d| d.code != SyntaxCode::Unexpected.into())
        .filter_map(|d| d.primary_span().map(|s| s.start))
        .collect();
    diags.retain(|d| {
        d.code != SyntaxCode::Unexpected.into() || d.primary_span().is_none_or(|s| !tailored.contains(&s.start))
    });
    // Spans were found in the pre-scanned text, whose repairs keep byte lengths but not
    // character boundaries (an unclosed string blanked with spaces, `（` → `(` + spaces).
    for label in diags.iter_mut().flat_map(|d| d.labels.iter_mut()).filter(|l| l.span.file == file) {
        label.span = whole_chars(label.span, text);
    }
    diags.sort_by_key(|d| d.primary_span().map(|s| s.start));
    (module, diags)
}

/// `span` widened to whole characters of `text` (and kept inside it).
fn whole_chars(span: Span, text: &str) -> Span {
    let mut start = (span.start as usize).min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (span.end as usize).clamp(start, text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    Span::new(span.file, start, end)
}

fn parse_file_unsorted(file: FileId, text: &str, max_items: usize) -> (Module, Vec<Diagnostic>) {
    let (fixed, mut diags) = prescan(file, text);
    let src: &str = &fixed;
    // Nesting deeper than any rule needs would exhaust the parser's stack: refuse it first.
    let nesting = match depth::check_nesting(file, src, 0) {
        Ok(n) => n,
        Err(d) => {
            diags.push(d);
            return (Module::default(), diags);
        }
    };
    let (mut module, mut diags) = if nesting <= depth::SMALL_NESTING {
        parse_checked(file, src, diags, max_items)
    } else {
        let kept = diags.clone();
        match depth::on_big_stack(move || parse_checked(file, src, diags, max_items)) {
            Some(parsed) => parsed,
            None => {
                let mut diags = kept;
                diags.push(Diagnostic::error(
                    SyntaxCode::TooDeep,
                    "cannot start a thread to parse this deeply nested file",
                ));
                return (Module::default(), diags);
            }
        }
    };
    depth::limit_depth(&mut module, &mut diags);
    (module, diags)
}

/// The text pest parses at once: whole top-level items up to about this many bytes. pest
/// keeps every token of its input until the parse tree is dropped (some 50 bytes a token,
/// 4 KB for a one-line rule), so a file of a million rules parsed whole took gigabytes; in
/// chunks the tokens of one chunk are dropped before the next is parsed.
const CHUNK_BYTES: usize = 64 << 10;

fn parse_checked(file: FileId, src: &str, mut diags: Vec<Diagnostic>, max_items: usize) -> (Module, Vec<Diagnostic>) {
    let mut module = Module::default();
    for (start, end) in chunks(segments(src), CHUNK_BYTES) {
        if module.items.len() > max_items {
            break;
        }
        let chunk = src.get(start..end).unwrap_or("");
        if parse_into(file, chunk, start, &mut module, &mut diags).is_ok() {
            continue;
        }
        // A syntax error: every item of the chunk is parsed on its own, so each broken one is
        // reported and the others still count.
        for (s, e) in recovery_segments(chunk) {
            let item = chunk.get(s..e).unwrap_or("");
            if let Err(err) = parse_into(file, item, start + s, &mut module, &mut diags) {
                let cut = start + e < src.len();
                diags.push(pest_error(file, start + s, item, &err, cut));
                diags.extend(error_after_misspelt_keyword(file, item, start + s, &err, cut));
            }
        }
    }
    if let Some(first_too_many) = module.items.get(max_items) {
        let at = item_start(first_too_many) as usize;
        module.items.truncate(max_items);
        diags.push(too_many_items(file, src, at));
    }
    (module, diags)
}

/// The next syntax error of an item whose first word is a misspelt top-level keyword (`rul
/// name.long { … reveiw … }`): the item is read again with the keyword spelt right, so that a
/// second mistake in it is reported in the same run. `item` starts at byte `offset`.
fn error_after_misspelt_keyword(
    file: FileId,
    item: &str,
    offset: usize,
    err: &pest::error::Error<Rule>,
    cut: bool,
) -> Option<Diagnostic> {
    let at_start = matches!(err.location, InputLocation::Pos(0) | InputLocation::Span((0, _)));
    let word = first_word(item);
    let keyword =
        crate::diagnostic::did_you_mean(word, TOP_LEVEL.iter().copied()).filter(|k| at_start && *k != word)?;
    let fixed = format!("{keyword}{}", item.get(word.len()..).unwrap_or(""));
    let again = KensaParser::parse(Rule::file, &fixed).err()?;
    let past_keyword = match again.location {
        InputLocation::Pos(p) | InputLocation::Span((p, _)) => p >= keyword.len(),
    };
    let mut d = past_keyword.then(|| pest_error(file, 0, &fixed, &again, cut))?;
    // Offsets in `fixed` past the keyword are those of `item` moved by the change in length.
    let moved = |n: u32| (n as usize + offset + word.len()).saturating_sub(keyword.len());
    for label in &mut d.labels {
        label.span = Span::new(file, moved(label.span.start), moved(label.span.end));
    }
    Some(d)
}

/// Where an item starts in its file.
fn item_start(item: &Item) -> u32 {
    match item {
        Item::Include(i) => i.path.span.start,
        Item::Schema(s) | Item::SchemaExt(s) => s.name.span.start,
        Item::Extend(e) => e.span.start,
        Item::Disable(d) => d.span.start,
        Item::Override(o) => o.span.start,
        Item::Let(l) => l.span.start,
        Item::Table(t) => t.span.start,
        Item::Rule(r) => r.span.start,
        Item::Decide(d) => d.span.start,
        Item::Match(m) => m.span.start,
    }
}

/// The error of a rule set with too many items, at the first item over the limit (starting at
/// byte `at`).
fn too_many_items(file: FileId, src: &str, at: usize) -> Diagnostic {
    let line_end = src.get(at..).and_then(|t| t.find('\n')).map_or(src.len(), |n| at + n);
    Diagnostic::error(
        SyntaxCode::TooManyItems,
        format!("the rule set has more than {MAX_ITEMS} items (rules, bindings, tables, …); the rest is not read"),
    )
    .label(whole_chars(Span::new(file, at, line_end), src), "the first item over the limit")
    .help("put long lists of values in a table (`set … = file(…)`) that one rule looks up, or split the rules into several rule sets")
}

/// Parse `piece` (whole items, at byte `offset` of the file) and add its items to `module`;
/// nothing is added when it does not parse.
fn parse_into(
    file: FileId,
    piece: &str,
    offset: usize,
    module: &mut Module,
    diags: &mut Vec<Diagnostic>,
) -> Result<(), Box<pest::error::Error<Rule>>> {
    let mut pairs = KensaParser::parse(Rule::file, piece).map_err(Box::new)?;
    let mut cx = Cx { file, offset, diags: Vec::new() };
    if let Some(m) = pairs.next().map(|p| cx.module(p)) {
        module.items.extend(m.items);
    }
    diags.extend(cx.diags);
    Ok(())
}

/// Consecutive segments joined into chunks of about `max` bytes (a longer segment is a chunk
/// of its own).
fn chunks(segments: Vec<(usize, usize)>, max: usize) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (s, e) in segments {
        match out.last_mut() {
            Some(last) if e - last.0 <= max => last.1 = e,
            _ => out.push((s, e)),
        }
    }
    out
}

/// Parse an expression that starts at byte `offset` of `file` (used for `{…}` in messages).
pub fn parse_expr(file: FileId, text: &str, offset: usize) -> Result<Expr, Diagnostic> {
    let expr = if depth::check_nesting(file, text, offset)? <= depth::SMALL_NESTING {
        parse_expr_checked(file, text, offset)?
    } else {
        depth::on_big_stack(|| parse_expr_checked(file, text, offset)).unwrap_or_else(|| {
            Err(Diagnostic::error(SyntaxCode::TooDeep, "cannot start a thread to parse this deeply nested text"))
        })?
    };
    if let Some(span) = depth::too_deep_at(&expr) {
        depth::dismantle(expr);
        return Err(Diagnostic::error(
            SyntaxCode::TooDeep,
            format!("this expression is nested more than {} levels deep", depth::MAX_EXPR_DEPTH),
        )
        .label(Span { end: span.start.saturating_add(1).min(span.end.max(span.start)), ..span }, "too deep"));
    }
    Ok(expr)
}

fn parse_expr_checked(file: FileId, text: &str, offset: usize) -> Result<Expr, Diagnostic> {
    match KensaParser::parse(Rule::expr_only, text) {
        Ok(mut pairs) => {
            let mut cx = Cx { file, offset, diags: Vec::new() };
            let expr = pairs
                .next()
                .and_then(|p| p.into_inner().next())
                .map(|p| cx.expr(p))
                .ok_or_else(|| Diagnostic::error(SyntaxCode::Unexpected, "expected an expression"))?;
            match cx.diags.into_iter().next() {
                Some(d) => Err(d),
                None => Ok(expr),
            }
        }
        Err(e) => Err(pest_error(file, offset, text, &e, false)),
    }
}

const TOP_LEVEL: &[&str] =
    &["rule", "schema", "let", "set", "map", "decide", "include", "match", "extend", "disable", "override"];

/// Byte ranges of top-level items: each starts at a line whose first column begins a top-level keyword.
fn segments(text: &str) -> Vec<(usize, usize)> {
    let mut starts = vec![0];
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if pos > 0 {
            let starts_item = TOP_LEVEL.iter().any(|kw| {
                line.strip_prefix(kw)
                    .is_some_and(|rest| rest.starts_with([' ', '\t', '{', '\r', '\n']) || rest.is_empty())
            });
            if starts_item {
                starts.push(pos);
            }
        }
        pos += line.len();
    }
    let mut out = Vec::new();
    for (i, s) in starts.iter().enumerate() {
        let e = starts.get(i + 1).copied().unwrap_or(text.len());
        out.push((*s, e));
    }
    out
}

/// Byte ranges of the items of a text that does not parse, cut finer than [`segments`] so that
/// every broken item is reported on its own. An item also starts
///
/// - at a line whose first column begins a misspelt top-level keyword (`rul`, `lett`) when
///   every `{` before it is closed, and
/// - at a top-level keyword after the `}` that closes an item on the same line (`} rule …`).
///
/// Braces are counted outside quotes, comments and `/…/` patterns.
fn recovery_segments(text: &str) -> Vec<(usize, usize)> {
    let mut starts: Vec<usize> = segments(text).iter().map(|(s, _)| *s).collect();
    starts.extend(brace_starts(text));
    starts.sort_unstable();
    starts.dedup();
    let mut out = Vec::new();
    for (i, s) in starts.iter().enumerate() {
        let e = starts.get(i + 1).copied().unwrap_or(text.len());
        out.push((*s, e));
    }
    out
}

/// Where items start that only counting braces finds (see [`recovery_segments`]).
fn brace_starts(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut depth: i64 = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if starts_item(line) {
            // A keyword in the first column starts an item whatever braces were left open.
            depth = 0;
        } else if pos > 0 && depth <= 0 && starts_misspelt_item(line) {
            starts.push(pos);
        }
        let mut chars = line.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => skip_until(&mut chars, '"'),
                '#' => break,
                '/' if chars.peek().is_some_and(|(_, n)| *n == '/') => break,
                '/' => skip_until(&mut chars, '/'),
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    let rest = line.get(i + 1..).unwrap_or("");
                    let gap = rest.len() - rest.trim_start_matches([' ', '\t']).len();
                    if depth <= 0 && starts_item(rest.get(gap..).unwrap_or("")) {
                        starts.push(pos + i + 1 + gap);
                    }
                }
                _ => {}
            }
        }
        pos += line.len();
    }
    starts
}

/// Skip the characters of a quoted text or a pattern up to its closing `end` (a backslash
/// escapes the next character); a line break ends it too.
fn skip_until(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>, end: char) {
    while let Some((_, c)) = chars.next() {
        if c == '\\' {
            chars.next();
        } else if c == end || c == '\n' {
            return;
        }
    }
}

/// Whether `text` begins with a top-level keyword (`rule`, `let`, …) as a whole word.
fn starts_item(text: &str) -> bool {
    TOP_LEVEL.iter().any(|kw| {
        text.strip_prefix(kw).is_some_and(|rest| rest.starts_with([' ', '\t', '{', '\r', '\n']) || rest.is_empty())
    })
}

/// Whether a line begins (in its first column) with a misspelt top-level keyword followed by a
/// space: `rul name.long {`, `lett x = 1`.
fn starts_misspelt_item(line: &str) -> bool {
    let word = first_word(line);
    !word.is_empty()
        && line.get(word.len()..).is_some_and(|rest| rest.starts_with([' ', '\t']))
        && crate::diagnostic::did_you_mean(word, TOP_LEVEL.iter().copied()).is_some()
}

/// The word (letters, digits, `_`) at the start of `text`.
fn first_word(text: &str) -> &str {
    let end = text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(text.len());
    text.get(..end).unwrap_or("")
}

/// Full-width symbols typed with the IME on, and their ASCII meaning.
const FULL_WIDTH: &[(char, &str)] = &[
    ('（', "("),
    ('）', ")"),
    ('＝', "="),
    ('”', "\""),
    ('“', "\""),
    ('＂', "\""),
    ('，', ","),
    ('：', ":"),
    ('｛', "{"),
    ('｝', "}"),
    ('［', "["),
    ('］', "]"),
    ('＜', "<"),
    ('＞', ">"),
    ('！', "!"),
    ('；', ";"),
    ('．', "."),
    ('＋', "+"),
    ('－', "-"),
    ('／', "/"),
];

/// Find unclosed strings and full-width symbols outside quotes. Returns the text with each
/// mistake replaced by same-length ASCII (so spans stay valid) and a diagnostic per mistake.
fn prescan(file: FileId, text: &str) -> (String, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut out = String::with_capacity(text.len());
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let mut in_str: Option<usize> = None;
        let mut fixed = String::with_capacity(line.len());
        let mut chars = line.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match (in_str, c) {
                (Some(_), '\\') => {
                    fixed.push(c);
                    if let Some((_, n)) = chars.next() {
                        fixed.push(n);
                    }
                }
                (Some(_), '"') => {
                    in_str = None;
                    fixed.push(c);
                }
                (Some(_), '\n' | '\r') => fixed.push(c),
                (Some(_), _) => fixed.push(c),
                (None, '"') => {
                    in_str = Some(i);
                    fixed.push(c);
                }
                (None, '/') if chars.peek().is_some_and(|(_, n)| *n == '/') => {
                    fixed.push_str(line.get(i..).unwrap_or(""));
                    break;
                }
                (None, '#') => {
                    fixed.push_str(line.get(i..).unwrap_or(""));
                    break;
                }
                (None, '/') => {
                    // A regex literal: its characters are the user's pattern, full-width
                    // ones (`[０-９－]`) included, up to the closing unescaped `/`.
                    fixed.push(c);
                    while let Some((_, n)) = chars.next() {
                        fixed.push(n);
                        if n == '\\' {
                            if let Some((_, e)) = chars.next() {
                                fixed.push(e);
                            }
                        } else if n == '/' || n == '\n' {
                            break;
                        }
                    }
                }
                (None, c) => {
                    if let Some((_, ascii)) = FULL_WIDTH.iter().find(|(fw, _)| *fw == c) {
                        let at = line_start + i;
                        let span = Span::new(file, at, at + c.len_utf8());
                        let mut d = Diagnostic::error(
                            SyntaxCode::FullWidth,
                            format!("full-width `{c}` where the rule language needs `{ascii}`"),
                        )
                        .label(span, "typed with the Japanese input on")
                        .help(format!(
                            "replace `{c}` with the ASCII `{ascii}`; Japanese is only allowed inside quotes"
                        ));
                        if *ascii == "\"" {
                            d = d.help(format!(
                                "replace `{c}` with the ASCII `\"`; text in quotes must start and end with `\"`"
                            ));
                        }
                        diags.push(d);
                        // Same byte length: the ASCII character padded with spaces.
                        let replacement = if *ascii == "\"" { "\"" } else { ascii };
                        fixed.push_str(replacement);
                        for _ in replacement.len()..c.len_utf8() {
                            fixed.push(' ');
                        }
                        if *ascii == "\"" {
                            in_str = Some(i);
                        }
                    } else {
                        fixed.push(c);
                    }
                }
            }
        }
        if let Some(open) = in_str {
            let at = line_start + open;
            let content_end = line_start + line.trim_end_matches(['\n', '\r']).len();
            let span = Span::new(file, at, content_end.max(at + 1));
            diags.push(
                Diagnostic::error(SyntaxCode::UnclosedString, "text in quotes is not closed on this line")
                    .label(span, "this text has no closing `\"`")
                    .help(
                        "add a `\"` where the text ends (a closing `”` typed with the Japanese input does not count)",
                    ),
            );
            // Blank the broken string out so that the rest of the file can still be parsed.
            let keep = open;
            let mut repaired: String = fixed.get(..keep).unwrap_or("").to_string();
            let tail_len = fixed.len().saturating_sub(keep);
            let newline = if fixed.ends_with("\r\n") {
                "\r\n"
            } else if fixed.ends_with('\n') {
                "\n"
            } else {
                ""
            };
            let body = tail_len.saturating_sub(newline.len());
            if body >= 2 {
                repaired.push_str("\"\"");
                for _ in 2..body {
                    repaired.push(' ');
                }
            } else {
                for _ in 0..body {
                    repaired.push(' ');
                }
            }
            repaired.push_str(newline);
            fixed = repaired;
        }
        out.push_str(&fixed);
        line_start += line.len();
    }
    (out, diags)
}

/// `cut`: `text` is one item of a longer file (after an earlier syntax error), so its end is
/// the start of the next item, not the end of the file.
fn pest_error(file: FileId, offset: usize, text: &str, e: &pest::error::Error<Rule>, cut: bool) -> Diagnostic {
    let mut pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let only_braces = matches!(&e.variant, ErrorVariant::ParsingError { positives, .. }
        if !positives.is_empty() && positives.iter().all(|r| matches!(r, Rule::lbrace | Rule::rbrace)));
    let content_end = text.trim_end().len();
    let item_ends_early = cut && pos >= content_end;
    if only_braces || item_ends_early {
        // Point just after the last word written, where the missing piece belongs.
        let before = text.get(..pos).unwrap_or("");
        pos = before.trim_end().len();
    }
    let found = text.get(pos..).and_then(|t| t.split_whitespace().next()).unwrap_or("");
    let found: String = found.chars().take(20).collect();
    let at = offset + pos;
    // A misplaced word is marked whole, anything else by its first character.
    let rest = text.get(pos..).unwrap_or("");
    let marked = match first_word(rest).len() {
        0 => rest.chars().next().map_or(0, char::len_utf8),
        n => n,
    };
    let end = at + marked;
    let span = Span::new(file, at, end.max(at));
    let positives: &[Rule] = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => positives,
        ErrorVariant::CustomError { .. } => &[],
    };
    let expected = expected_words(positives);
    let what = match expected.as_slice() {
        [] => String::from("something else"),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} or {}", rest.join(", "), last),
    };
    // The message says what was expected; the label only points (the list once is enough).
    let (message, label) = if item_ends_early {
        (format!("expected {what}: the item ends here"), String::from("something is missing here"))
    } else if found.is_empty() {
        (format!("unexpected end of file: expected {what}"), String::from("the file ends here"))
    } else {
        (format!("expected {what}, found `{found}`"), format!("`{found}` does not fit here"))
    };
    let mut d = Diagnostic::error(SyntaxCode::Unexpected, message).label(span, label);
    if let Some(help) = syntax_help(&found, &expected, positives) {
        d = d.help(help);
    }
    d
}

/// The descriptions of the rules pest expected, each once, sorted.
fn expected_words(positives: &[Rule]) -> Vec<&'static str> {
    let mut words: Vec<&str> = positives.iter().filter_map(|r| describe(*r)).collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// A hint for a syntax error where `found` stands: a keyword it is a misspelling of, or the
/// fix of a common mistake.
fn syntax_help(found: &str, expected: &[&str], positives: &[Rule]) -> Option<String> {
    if let Some(keyword) = misspelt_keyword(first_word(found), positives) {
        return Some(format!("did you mean `{keyword}`?"));
    }
    if found.starts_with('}') && expected.iter().any(|w| w.contains("outcome") || w.contains("require")) {
        return Some(String::from("every rule needs `require …` and an outcome (`reject`, `review` or `warn`)"));
    }
    if !found.is_empty() && found.chars().all(|c| c.is_ascii_digit()) && expected.iter().any(|w| w.contains("penalty"))
    {
        return Some(format!("a penalty is written with a minus sign: `-{found}`"));
    }
    None
}

/// The keyword that `word` is most likely a misspelling of, among those that could stand
/// where it is (`warning` → `warn`, `rejct` → `reject`, `rul` → `rule`).
fn misspelt_keyword(word: &str, positives: &[Rule]) -> Option<&'static str> {
    if word.is_empty() || word.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let mut candidates: Vec<&'static str> = positives.iter().flat_map(|r| keywords(*r).iter().copied()).collect();
    candidates.sort_unstable();
    candidates.dedup();
    if candidates.contains(&word) {
        return None;
    }
    crate::diagnostic::did_you_mean(word, candidates.iter().copied())
        .or_else(|| candidates.iter().copied().filter(|k| k.len() >= 4 && word.starts_with(k)).max_by_key(|k| k.len()))
}

/// The keywords with which a rule of the grammar can begin (none for rules that begin with a
/// name, a value or a symbol).
fn keywords(r: Rule) -> &'static [&'static str] {
    match r {
        r if begins_item(r) => TOP_LEVEL,
        Rule::outcome_clause | Rule::severity => &["reject", "review", "warn"],
        Rule::when_clause | Rule::kw_when => &["when"],
        Rule::require_clause | Rule::kw_require => &["require"],
        Rule::fields_clause | Rule::kw_fields => &["fields"],
        Rule::decide_arm | Rule::decision => &["accept", "review", "reject"],
        Rule::kw_if => &["if"],
        Rule::kw_otherwise => &["otherwise"],
        Rule::dcond | Rule::dterm | Rule::dnot => &["any", "no", "count", "score", "fired", "not"],
        Rule::d_any | Rule::kw_any => &["any"],
        Rule::d_none | Rule::kw_no => &["no"],
        Rule::d_count | Rule::kw_count => &["count"],
        Rule::d_score | Rule::kw_score => &["score"],
        Rule::d_fired | Rule::kw_fired => &["fired"],
        Rule::base_type | Rule::enum_type | Rule::list_type => &["text", "int", "date", "bool", "enum", "list"],
        Rule::secret | Rule::kw_secret => &["secret"],
        Rule::max_chars | Rule::kw_max => &["max"],
        Rule::digit_runs | Rule::kw_digits => &["digits"],
        Rule::table_file | Rule::kw_file => &["file"],
        Rule::prior_decl
        | Rule::kw_prior
        | Rule::block_decl
        | Rule::kw_block
        | Rule::compare_decl
        | Rule::kw_compare => &["prior", "block", "compare"],
        Rule::kw_on => &["on"],
        Rule::kw_using => &["using"],
        Rule::frequency | Rule::kw_frequency => &["frequency"],
        Rule::kw_of => &["of"],
        Rule::kw_fallback => &["fallback"],
        Rule::level_test => &["same", "similarity", "distance", "difference", "swapped", "year_typo", "within", "else"],
        Rule::lt_same | Rule::lt_part_same => &["same"],
        Rule::lt_similarity => &["similarity"],
        Rule::lt_distance => &["distance"],
        Rule::lt_difference => &["difference"],
        Rule::lt_swapped => &["swapped"],
        Rule::lt_year_typo => &["year_typo"],
        Rule::lt_within => &["within"],
        Rule::lt_else => &["else"],
        Rule::kw_and => &["and"],
        Rule::kw_or => &["or"],
        Rule::in_tail | Rule::kw_in => &["in"],
        Rule::matches_tail | Rule::kw_matches => &["matches"],
        Rule::quantifier | Rule::quant_kind => &["any", "no", "count"],
        Rule::kw_candidate => &["candidate"],
        Rule::kw_candidates => &["candidates"],
        Rule::kw_where => &["where"],
        _ => &[],
    }
}

/// The grammar rules with which a top-level item begins (a file, an item, or its keyword).
fn begins_item(r: Rule) -> bool {
    matches!(
        r,
        Rule::file
            | Rule::item
            | Rule::include
            | Rule::schema
            | Rule::schema_ext
            | Rule::extend
            | Rule::disable
            | Rule::override_
            | Rule::let_decl
            | Rule::set_decl
            | Rule::map_decl
            | Rule::rule
            | Rule::decide
            | Rule::match_block
            | Rule::kw_include
            | Rule::kw_schema
            | Rule::kw_extend
            | Rule::kw_disable
            | Rule::kw_override
            | Rule::kw_let
            | Rule::kw_set
            | Rule::kw_map
            | Rule::kw_rule
            | Rule::kw_decide
            | Rule::kw_match
    )
}

fn describe(r: Rule) -> Option<&'static str> {
    Some(match r {
        Rule::EOI => "the end of the file",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        r if begins_item(r) => {
            "`rule`, `schema`, `let`, `set`, `map`, `match`, `decide`, `include`, `extend`, `disable` or `override`"
        }
        Rule::kw_builtin => "`builtin` or a folder in quotes",
        Rule::field_decl => "a field (`name: text`)",
        Rule::base_type | Rule::enum_type | Rule::list_type | Rule::group_type => {
            "a type (`text`, `int`, `date`, `bool`, `enum(…)`, `list(…)` or `{ … }`)"
        }
        Rule::optional => "`?`",
        Rule::secret | Rule::kw_secret => "`secret`",
        Rule::id_mark | Rule::kw_id => "`id`",
        Rule::max_chars | Rule::kw_max => "`max(…)`",
        Rule::digit_runs | Rule::kw_digits => "`digits(…)`",
        Rule::ident | Rule::ident_raw => "a name",
        Rule::rule_id => "a rule name such as `my_number.length`",
        Rule::string | Rule::str_inner => "text in quotes",
        Rule::when_clause | Rule::kw_when => "`when`",
        Rule::require_clause | Rule::kw_require => "`require`",
        Rule::outcome_clause | Rule::severity => "an outcome (`reject`, `review` or `warn`)",
        Rule::fields_clause | Rule::kw_fields => "`fields`",
        Rule::penalty => "a penalty such as `-30`",
        Rule::decide_arm | Rule::decision => "`accept`, `review` or `reject`",
        Rule::kw_if => "`if`",
        Rule::kw_otherwise => "`otherwise`",
        Rule::dcond
        | Rule::dterm
        | Rule::dnot
        | Rule::d_any
        | Rule::d_none
        | Rule::d_count
        | Rule::d_score
        | Rule::d_fired
        | Rule::kw_any
        | Rule::kw_no
        | Rule::kw_count
        | Rule::kw_score
        | Rule::kw_fired => {
            "a condition (`any reject`, `no review`, `count review >= 2`, `score < 70`, `fired rule.id`)"
        }
        Rule::expr
        | Rule::or_expr
        | Rule::and_expr
        | Rule::not_expr
        | Rule::cmp_expr
        | Rule::concat_expr
        | Rule::add_expr
        | Rule::postfix
        | Rule::paren
        | Rule::call
        | Rule::path
        | Rule::func_name
        | Rule::neg
        | Rule::kw_not
        | Rule::kw_today_lit
        | Rule::set_literal => "a value or condition",
        Rule::cmp_bin | Rule::cmp_op => "a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`)",
        Rule::in_tail | Rule::kw_in | Rule::not_in => "`in`",
        Rule::matches_tail | Rule::kw_matches => "`matches`",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::add_op => "`+` or `-`",
        Rule::index => "`[`",
        Rule::date | Rule::int | Rule::boolean | Rule::regex | Rule::regex_inner => "a value",
        Rule::table_file | Rule::kw_file => "`file(\"…\")`",
        Rule::table_opt => "an option such as `column: \"name\"`",
        Rule::map_literal | Rule::map_entry => "`{ \"key\": \"value\", … }`",
        Rule::prior_decl
        | Rule::kw_prior
        | Rule::block_decl
        | Rule::kw_block
        | Rule::compare_decl
        | Rule::kw_compare => "`prior`, `block on …` or `compare … = … using … { … }`",
        Rule::kw_on => "`on`",
        Rule::kw_using => "`using` and a comparator (`exact`, `jaro_winkler`, `levenshtein`, `damerau`, `date`)",
        Rule::level_decl => "a level such as `close: similarity >= 0.92 m 0.07 u 0.01`",
        Rule::compare_parts | Rule::compare_part => "a part such as `family: family_key`",
        Rule::frequency | Rule::kw_frequency | Rule::kw_of | Rule::kw_fallback => {
            "`frequency of PART fallback MAP` or `{`"
        }
        Rule::level_test
        | Rule::lt_part_same
        | Rule::lt_same
        | Rule::lt_similarity
        | Rule::lt_distance
        | Rule::lt_swapped
        | Rule::lt_year_typo
        | Rule::lt_within
        | Rule::lt_difference
        | Rule::lt_else => {
            "a level test (`same`, `same PART`, `similarity >= 0.9`, `distance <= 1`, `difference <= 2`, `swapped`, `year_typo`, `within 30 days`, `else`)"
        }
        Rule::kw_m => "`m` and a probability",
        Rule::kw_u => "`u` and a probability",
        Rule::float => "a number",
        Rule::quantifier | Rule::quant_kind | Rule::kw_candidate | Rule::kw_candidates => {
            "`any candidate`, `no candidate` or `count candidates`"
        }
        Rule::kw_where => "`where (…)`",
        _ => return None,
    })
}

struct Cx {
    file: FileId,
    offset: usize,
    diags: Vec<Diagnostic>,
}

impl Cx {
    /// The span of a pair without the whitespace pest may leave at its end.
    fn span(&self, p: &P<'_>) -> Span {
        let s = p.as_span();
        let len = p.as_str().trim_end().len();
        Span::new(self.file, self.offset + s.start(), self.offset + s.start() + len)
    }

    fn module(&mut self, p: P<'_>) -> Module {
        let mut items = Vec::new();
        for it in p.into_inner() {
            let item = match it.as_rule() {
                Rule::include => self.include(it),
                Rule::extend => self.extend(it),
                Rule::schema_ext => Some(Item::SchemaExt(self.schema(it))),
                Rule::disable => self.disable(it),
                Rule::override_ => self.override_(it),
                Rule::schema => Some(Item::Schema(self.schema(it))),
                Rule::let_decl => self.let_decl(it),
                Rule::set_decl => self.table(it, TableKind::Set),
                Rule::map_decl => self.table(it, TableKind::Map),
                Rule::rule => self.rule(it),
                Rule::decide => Some(Item::Decide(self.decide(it))),
                Rule::match_block => Some(Item::Match(self.match_block(it))),
                _ => None,
            };
            items.extend(item);
        }
        Module { items }
    }

    fn include(&mut self, p: P<'_>) -> Option<Item> {
        let s = p.into_inner().find(|x| x.as_rule() == Rule::string)?;
        Some(Item::Include(Include { path: self.string(s) }))
    }

    fn extend(&mut self, p: P<'_>) -> Option<Item> {
        let span = self.span(&p);
        let x = p.into_inner().find(|x| matches!(x.as_rule(), Rule::kw_builtin | Rule::string))?;
        let base = match x.as_rule() {
            Rule::string => Base::Path(self.string(x)),
            _ => Base::Builtin,
        };
        Some(Item::Extend(Extend { base, span }))
    }

    /// The reason of a `disable` or `override`, which must be given.
    fn reason(&mut self, what: &str, rule: &Ident, reason: Option<StrLit>) -> Option<StrLit> {
        let blank = reason.as_ref().is_none_or(|r| r.value.trim().is_empty());
        if blank {
            let at = reason.as_ref().map_or(rule.span, |r| r.span);
            self.diags.push(
                Diagnostic::error(SyntaxCode::MissingReason, format!("`{what} {}` gives no reason", rule.name))
                    .label(at, "say why here")
                    .help(format!(
                        "write why the national rule does not fit here, in quotes after the rule name: `{what} {} \"…\"`; the reason is shown by `kensa check` and kept with the rule set",
                        rule.name
                    )),
            );
        }
        reason
    }

    fn disable(&mut self, p: P<'_>) -> Option<Item> {
        let span = self.span(&p);
        let mut rule = None;
        let mut reason = None;
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::rule_id => rule = Some(self.ident(&x)),
                Rule::string => reason = Some(self.string(x)),
                _ => {}
            }
        }
        let rule = rule?;
        let reason = self.reason("disable", &rule, reason);
        Some(Item::Disable(Disable { rule, reason, span }))
    }

    fn override_(&mut self, p: P<'_>) -> Option<Item> {
        let span = self.span(&p);
        let (mut rule, mut reason) = (None, None);
        let (mut when, mut outcomes) = (Vec::new(), Vec::new());
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::rule_id => rule = Some(self.ident(&x)),
                Rule::string => reason = Some(self.string(x)),
                Rule::when_clause => {
                    when.extend(x.into_inner().find(|y| y.as_rule() == Rule::expr).map(|y| self.expr(y)));
                }
                Rule::outcome_clause => outcomes.push(self.outcome(x)),
                _ => {}
            }
        }
        let rule = rule?;
        let reason = self.reason("override", &rule, reason);
        Some(Item::Override(Override { rule, reason, when, outcomes, span }))
    }

    fn ident(&self, p: &P<'_>) -> Ident {
        Ident { name: p.as_str().to_string(), span: self.span(p) }
    }

    fn string(&mut self, p: P<'_>) -> StrLit {
        let span = self.span(&p);
        let raw = p.into_inner().next().map(|x| x.as_str()).unwrap_or("");
        let mut value = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => value.push('\n'),
                    Some('t') => value.push('\t'),
                    Some('"') => value.push('"'),
                    Some('\\') => value.push('\\'),
                    Some(other) => {
                        self.diags.push(
                            Diagnostic::error(SyntaxCode::BadEscape, format!("unknown escape `\\{other}` in text"))
                                .label(span, "in this text")
                                .help("write `\\\\` for a backslash, `\\\"` for a quote"),
                        );
                        value.push(other);
                    }
                    None => {}
                }
            } else {
                value.push(c);
            }
        }
        StrLit { value, span }
    }

    fn schema(&mut self, p: P<'_>) -> Schema {
        let span = self.span(&p);
        let mut name = Ident { name: String::new(), span };
        let mut fields = Vec::new();
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::ident => name = self.ident(&x),
                Rule::field_decl => fields.push(self.field(x)),
                _ => {}
            }
        }
        Schema { name, fields }
    }

    fn field(&mut self, p: P<'_>) -> FieldDecl {
        let span = self.span(&p);
        let mut name = Ident { name: String::new(), span };
        let mut ty = TypeExpr::Text;
        let mut optional = false;
        let mut secret = false;
        let mut is_id = false;
        let (mut max_chars, mut digit_runs) = (None, None);
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::ident => name = self.ident(&x),
                Rule::optional => optional = true,
                Rule::secret => secret = true,
                Rule::id_mark => is_id = true,
                Rule::max_chars => max_chars = self.field_number(x),
                Rule::digit_runs => digit_runs = self.field_number(x),
                _ => ty = self.ty(x),
            }
        }
        FieldDecl { name, ty, optional, secret, is_id, max_chars, digit_runs }
    }

    /// The number of a field option (`max(100)`) and its span; a number too large for `u64`
    /// becomes `u64::MAX`, which the checker refuses as out of range.
    fn field_number(&mut self, p: P<'_>) -> Option<(u64, Span)> {
        let n = p.into_inner().find(|x| x.as_rule() == Rule::int)?;
        let span = self.span(&n);
        Some((n.as_str().parse().unwrap_or(u64::MAX), span))
    }

    fn ty(&mut self, p: P<'_>) -> TypeExpr {
        match p.as_rule() {
            Rule::base_type => match p.as_str().trim() {
                "int" => TypeExpr::Int,
                "date" => TypeExpr::Date,
                "bool" => TypeExpr::Bool,
                _ => TypeExpr::Text,
            },
            Rule::enum_type => TypeExpr::Enum(p.into_inner().map(|x| self.ident(&x)).collect()),
            Rule::list_type => {
                let inner = p.into_inner().next().map(|x| self.ty(x)).unwrap_or(TypeExpr::Text);
                TypeExpr::List(Box::new(inner))
            }
            Rule::group_type => TypeExpr::Group(p.into_inner().map(|x| self.field(x)).collect()),
            _ => TypeExpr::Text,
        }
    }

    fn let_decl(&mut self, p: P<'_>) -> Option<Item> {
        let span = self.span(&p);
        let mut inner = p.into_inner().filter(|x| x.as_rule() != Rule::kw_let);
        let name = self.ident(&inner.next()?);
        let value = self.expr(inner.next()?);
        Some(Item::Let(Let { name, value, span }))
    }

    fn table(&mut self, p: P<'_>, kind: TableKind) -> Option<Item> {
        let span = self.span(&p);
        let mut inner = p.into_inner().filter(|x| !matches!(x.as_rule(), Rule::kw_set | Rule::kw_map));
        let name = self.ident(&inner.next()?);
        let body = inner.next()?;
        let source = match body.as_rule() {
            Rule::table_file => {
                let mut path = None;
                let mut options = Vec::new();
                for x in body.into_inner() {
                    match x.as_rule() {
                        Rule::string => path = Some(self.string(x)),
                        Rule::table_opt => {
                            let mut o = x.into_inner();
                            if let (Some(k), Some(v)) = (o.next(), o.next()) {
                                let k = self.ident(&k);
                                options.push((k, self.string(v)));
                            }
                        }
                        _ => {}
                    }
                }
                TableSource::File { path: path?, options }
            }
            Rule::set_literal => TableSource::Inline(body.into_inner().map(|x| (self.literal(x), None)).collect()),
            Rule::map_literal => TableSource::Inline(
                body.into_inner()
                    .filter_map(|e| {
                        let mut kv = e.into_inner();
                        let k = kv.next()?;
                        let v = kv.next()?;
                        Some((self.literal(k), Some(self.literal(v))))
                    })
                    .collect(),
            ),
            _ => return None,
        };
        Some(Item::Table(Table { kind, name, source, span }))
    }

    fn rule(&mut self, p: P<'_>) -> Option<Item> {
        let span = self.span(&p);
        let mut id = None;
        let mut title = None;
        let mut when = Vec::new();
        let mut require = Vec::new();
        let mut outcomes = Vec::new();
        let mut fields = Vec::new();
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::rule_id => id = Some(self.ident(&x)),
                Rule::string => title = Some(self.string(x)),
                Rule::when_clause => {
                    when.extend(x.into_inner().find(|y| y.as_rule() == Rule::expr).map(|y| self.expr(y)))
                }
                Rule::require_clause => {
                    require.extend(x.into_inner().find(|y| y.as_rule() == Rule::expr).map(|y| self.expr(y)));
                }
                Rule::outcome_clause => outcomes.push(self.outcome(x)),
                Rule::fields_clause => fields.push(
                    x.into_inner()
                        .filter(|y| y.as_rule() == Rule::path)
                        .map(|y| y.into_inner().map(|i| self.ident(&i)).collect())
                        .collect(),
                ),
                _ => {}
            }
        }
        Some(Item::Rule(Rule_ { id: id?, title, when, require, outcomes, fields, span }))
    }

    fn outcome(&mut self, p: P<'_>) -> Outcome {
        let span = self.span(&p);
        let mut severity = Severity::Review;
        let mut penalty = None;
        let mut message = None;
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::severity => {
                    severity = match x.as_str() {
                        "reject" => Severity::Reject,
                        "warn" => Severity::Warn,
                        _ => Severity::Review,
                    };
                }
                Rule::penalty => {
                    let s = self.span(&x);
                    let n = x.into_inner().next().map(|i| self.int(&i)).unwrap_or(0);
                    penalty = Some((u32::try_from(n).unwrap_or(u32::MAX), s));
                }
                Rule::string => message = Some(self.string(x)),
                _ => {}
            }
        }
        Outcome { severity, penalty, message, span }
    }

    fn number(&mut self, p: &P<'_>) -> f64 {
        p.as_str().trim().parse::<f64>().unwrap_or(0.0)
    }

    fn match_block(&mut self, p: P<'_>) -> Match {
        let span = self.span(&p);
        let mut m = Match { prior: None, blocks: Vec::new(), compares: Vec::new(), span };
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::prior_decl => {
                    if let Some(n) = x.into_inner().find(|y| matches!(y.as_rule(), Rule::float | Rule::int)) {
                        m.prior = Some((self.number(&n), self.span(&n)));
                    }
                }
                Rule::block_decl => {
                    if let Some(e) = x.into_inner().find(|y| y.as_rule() == Rule::expr) {
                        m.blocks.push(self.expr(e));
                    }
                }
                Rule::compare_decl => {
                    let cspan = self.span(&x);
                    let mut idents = Vec::new();
                    let mut value = None;
                    let mut parts = Vec::new();
                    let mut frequency = None;
                    let mut levels = Vec::new();
                    for y in x.into_inner() {
                        match y.as_rule() {
                            Rule::ident => idents.push(self.ident(&y)),
                            Rule::expr => value = Some(self.expr(y)),
                            Rule::compare_parts => {
                                let (names, joined) = self.compare_parts(y);
                                parts = names;
                                value = joined;
                            }
                            Rule::frequency => frequency = Some(self.frequency(y)),
                            Rule::level_decl => levels.push(self.level(y)),
                            _ => {}
                        }
                    }
                    let mut idents = idents.into_iter();
                    if let (Some(name), Some(comparator), Some(value)) = (idents.next(), idents.next(), value) {
                        m.compares.push(Compare { name, value, parts, comparator, frequency, levels, span: cspan });
                    }
                }
                _ => {}
            }
        }
        m
    }

    /// `(family: a, given: b)`: the part names, and the value compared, the parts joined:
    /// `coalesce(a, "") ++ SEP ++ coalesce(b, "")` (an absent part is empty and never agrees).
    fn compare_parts(&mut self, p: P<'_>) -> (Vec<Ident>, Option<Expr>) {
        let mut names = Vec::new();
        let mut joined: Option<Expr> = None;
        for part in p.into_inner().filter(|x| x.as_rule() == Rule::compare_part) {
            let mut inner = part.into_inner();
            let (Some(n), Some(e)) = (inner.next(), inner.next()) else { continue };
            names.push(self.ident(&n));
            let e = self.expr(e);
            let span = e.span;
            let call = |name: &str, args: Vec<Expr>| Expr {
                kind: ExprKind::Call { name: Ident { name: name.to_string(), span }, args },
                span,
            };
            let part = call("coalesce", vec![e, Expr { kind: ExprKind::Str(String::new()), span }]);
            joined = Some(match joined {
                None => part,
                Some(acc) => {
                    let sep = Expr { kind: ExprKind::Str(crate::linkage::PART_SEPARATOR.to_string()), span };
                    let s = acc.span.to(span);
                    let lhs = Expr {
                        kind: ExprKind::Binary { op: BinOp::Concat, lhs: Box::new(acc), rhs: Box::new(sep) },
                        span: s,
                    };
                    Expr {
                        kind: ExprKind::Binary { op: BinOp::Concat, lhs: Box::new(lhs), rhs: Box::new(part) },
                        span: s,
                    }
                }
            });
        }
        (names, joined)
    }

    /// `frequency [of PART] [fallback MAP]`.
    fn frequency(&mut self, p: P<'_>) -> Frequency {
        let span = self.span(&p);
        let (mut part, mut fallback, mut after_fallback) = (None, None, false);
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::kw_fallback => after_fallback = true,
                Rule::ident if after_fallback => fallback = Some(self.ident(&x)),
                Rule::ident => part = Some(self.ident(&x)),
                _ => {}
            }
        }
        Frequency { part, fallback, span }
    }

    fn level(&mut self, p: P<'_>) -> Level {
        let span = self.span(&p);
        let mut name = Ident { name: String::new(), span };
        let mut part = None;
        let mut test = LevelTest::Else;
        let mut numbers = Vec::new();
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::ident => name = self.ident(&x),
                Rule::level_test => {
                    if let Some(t) = x.into_inner().next() {
                        let arg = t.clone().into_inner().find(|a| matches!(a.as_rule(), Rule::float | Rule::int));
                        let n = arg.as_ref().map_or(0.0, |a| self.number(a));
                        if t.as_rule() == Rule::lt_part_same {
                            part = t.clone().into_inner().find(|a| a.as_rule() == Rule::ident).map(|a| self.ident(&a));
                        }
                        test = match t.as_rule() {
                            Rule::lt_part_same => LevelTest::PartSame,
                            Rule::lt_same => LevelTest::Same,
                            Rule::lt_similarity => LevelTest::Similarity(n),
                            Rule::lt_distance => LevelTest::Distance(n as u32),
                            Rule::lt_difference => LevelTest::Difference(n),
                            Rule::lt_swapped => LevelTest::Swapped,
                            Rule::lt_year_typo => LevelTest::YearTypo,
                            Rule::lt_within => LevelTest::WithinDays(n as u32),
                            _ => LevelTest::Else,
                        };
                    }
                }
                Rule::float | Rule::int => numbers.push(self.number(&x)),
                _ => {}
            }
        }
        let m = numbers.first().copied().unwrap_or(0.0);
        let u = numbers.get(1).copied().unwrap_or(0.0);
        Level { name, test, part, m, u, span }
    }

    fn decide(&mut self, p: P<'_>) -> Decide {
        let span = self.span(&p);
        let mut arms = Vec::new();
        for arm in p.into_inner().filter(|x| x.as_rule() == Rule::decide_arm) {
            let aspan = self.span(&arm);
            let mut decision = Decision::Accept;
            let mut cond = None;
            for x in arm.into_inner() {
                match x.as_rule() {
                    Rule::decision => {
                        decision = match x.as_str() {
                            "reject" => Decision::Reject,
                            "review" => Decision::Review,
                            _ => Decision::Accept,
                        }
                    }
                    Rule::dcond => cond = Some(self.dcond(x)),
                    _ => {}
                }
            }
            arms.push(DecideArm { decision, cond, span: aspan });
        }
        Decide { arms, span }
    }

    fn dcond(&mut self, p: P<'_>) -> DCond {
        let kind = p.as_rule();
        let mut parts: Vec<P<'_>> =
            p.into_inner().filter(|x| !matches!(x.as_rule(), Rule::kw_or | Rule::kw_and | Rule::kw_not)).collect();
        let sev = |x: Option<&P<'_>>| match x.map(|y| y.as_str()) {
            Some("reject") => Severity::Reject,
            Some("warn") => Severity::Warn,
            _ => Severity::Review,
        };
        match kind {
            Rule::dcond | Rule::dterm => {
                if parts.len() == 1 {
                    return parts.pop().map(|x| self.dcond(x)).unwrap_or(DCond::Or(Vec::new()));
                }
                let items = parts.into_iter().map(|x| self.dcond(x)).collect();
                if kind == Rule::dcond { DCond::Or(items) } else { DCond::And(items) }
            }
            Rule::dnot => DCond::Not(Box::new(parts.pop().map(|x| self.dcond(x)).unwrap_or(DCond::Or(Vec::new())))),
            Rule::d_any => DCond::Any(sev(parts.iter().find(|x| x.as_rule() == Rule::severity))),
            Rule::d_none => DCond::NoneOf(sev(parts.iter().find(|x| x.as_rule() == Rule::severity))),
            Rule::d_count => {
                let s = sev(parts.iter().find(|x| x.as_rule() == Rule::severity));
                let op = parts.iter().find(|x| x.as_rule() == Rule::cmp_op).map_or(CmpOp::Ge, |x| cmp_op(x.as_str()));
                let n = parts.iter().find(|x| x.as_rule() == Rule::int).map_or(0, |x| self.int(x));
                DCond::Count(s, op, n)
            }
            Rule::d_score => {
                let op = parts.iter().find(|x| x.as_rule() == Rule::cmp_op).map_or(CmpOp::Lt, |x| cmp_op(x.as_str()));
                let n = parts.iter().find(|x| x.as_rule() == Rule::int).map_or(0, |x| self.int(x));
                DCond::Score(op, n)
            }
            Rule::d_fired => {
                let id = parts.iter().find(|x| x.as_rule() == Rule::rule_id).map(|x| self.ident(x));
                DCond::Fired(id.unwrap_or(Ident { name: String::new(), span: Span::new(self.file, 0, 0) }))
            }
            _ => DCond::Or(Vec::new()),
        }
    }

    fn int(&mut self, p: &P<'_>) -> i64 {
        match p.as_str().parse::<i64>() {
            Ok(n) => n,
            Err(_) => {
                self.diags.push(
                    Diagnostic::error(SyntaxCode::NumberTooLarge, "this number is too large")
                        .label(self.span(p), "too large"),
                );
                0
            }
        }
    }

    fn literal(&mut self, p: P<'_>) -> Expr {
        let span = self.span(&p);
        let kind = match p.as_rule() {
            Rule::string => ExprKind::Str(self.string(p).value),
            Rule::int => ExprKind::Int(self.int(&p)),
            Rule::float => ExprKind::Float(p.as_str().parse::<f64>().unwrap_or(0.0)),
            Rule::date => ExprKind::Date(p.as_str().to_string()),
            Rule::boolean => ExprKind::Bool(p.as_str() == "true"),
            Rule::regex => ExprKind::Regex(p.into_inner().next().map(|x| x.as_str().to_string()).unwrap_or_default()),
            _ => ExprKind::Str(p.as_str().to_string()),
        };
        Expr { kind, span }
    }

    fn expr(&mut self, p: P<'_>) -> Expr {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::expr | Rule::paren | Rule::primary => match p.into_inner().next() {
                Some(x) => self.expr(x),
                None => Expr { kind: ExprKind::Bool(false), span },
            },
            Rule::or_expr | Rule::and_expr => {
                let op = if p.as_rule() == Rule::or_expr { BinOp::Or } else { BinOp::And };
                let mut it = p.into_inner().filter(|x| !matches!(x.as_rule(), Rule::kw_or | Rule::kw_and));
                let Some(first) = it.next() else { return Expr { kind: ExprKind::Bool(false), span } };
                let mut acc = self.expr(first);
                for x in it {
                    let rhs = self.expr(x);
                    let s = acc.span.to(rhs.span);
                    acc = Expr { kind: ExprKind::Binary { op, lhs: Box::new(acc), rhs: Box::new(rhs) }, span: s };
                }
                acc
            }
            Rule::not_expr => {
                let parts: Vec<P<'_>> = p.into_inner().collect();
                let mut negs = Vec::new();
                let mut inner = None;
                for x in parts {
                    if x.as_rule() == Rule::neg {
                        negs.push(self.span(&x));
                    } else {
                        inner = Some(self.expr(x));
                    }
                }
                let mut e = inner.unwrap_or(Expr { kind: ExprKind::Bool(false), span });
                for ns in negs.into_iter().rev() {
                    let s = ns.to(e.span);
                    e = Expr { kind: ExprKind::Not(Box::new(e)), span: s };
                }
                e
            }
            Rule::cmp_expr => {
                let mut it = p.into_inner();
                let Some(first) = it.next() else { return Expr { kind: ExprKind::Bool(false), span } };
                let lhs = self.expr(first);
                let Some(tail) = it.next() else { return lhs };
                let tail_rule = tail.as_rule();
                let tail_span = self.span(&tail);
                let mut ti = tail.into_inner();
                match tail_rule {
                    Rule::cmp_bin => {
                        let op = ti.next().map_or(CmpOp::Eq, |o| cmp_op(o.as_str()));
                        let rhs = ti.next().map(|x| self.expr(x)).unwrap_or(Expr { kind: ExprKind::Bool(false), span });
                        Expr {
                            kind: ExprKind::Binary { op: BinOp::Cmp(op), lhs: Box::new(lhs), rhs: Box::new(rhs) },
                            span,
                        }
                    }
                    Rule::in_tail => {
                        let mut negated = false;
                        let mut rhs = None;
                        for x in ti {
                            match x.as_rule() {
                                Rule::not_in => negated = true,
                                Rule::kw_in => {}
                                _ => rhs = Some(self.expr(x)),
                            }
                        }
                        let rhs = rhs.unwrap_or(Expr { kind: ExprKind::Set(Vec::new()), span });
                        Expr { kind: ExprKind::In { negated, lhs: Box::new(lhs), rhs: Box::new(rhs) }, span }
                    }
                    Rule::matches_tail => {
                        let rhs = ti
                            .find(|x| x.as_rule() != Rule::kw_matches)
                            .map(|x| self.expr(x))
                            .unwrap_or(Expr { kind: ExprKind::Str(String::new()), span });
                        Expr { kind: ExprKind::Matches { lhs: Box::new(lhs), rhs: Box::new(rhs) }, span }
                    }
                    _ => {
                        // single_eq
                        let rhs = ti.next().map(|x| self.expr(x)).unwrap_or(Expr { kind: ExprKind::Bool(false), span });
                        let eq_span = Span::new(self.file, tail_span.start as usize, tail_span.start as usize + 1);
                        Expr { kind: ExprKind::SingleEq { lhs: Box::new(lhs), rhs: Box::new(rhs), eq_span }, span }
                    }
                }
            }
            Rule::concat_expr => {
                let mut it = p.into_inner();
                let Some(first) = it.next() else { return Expr { kind: ExprKind::Bool(false), span } };
                let mut acc = self.expr(first);
                for x in it {
                    let rhs = self.expr(x);
                    let s = acc.span.to(rhs.span);
                    acc = Expr {
                        kind: ExprKind::Binary { op: BinOp::Concat, lhs: Box::new(acc), rhs: Box::new(rhs) },
                        span: s,
                    };
                }
                acc
            }
            Rule::add_expr => {
                let mut it = p.into_inner();
                let Some(first) = it.next() else { return Expr { kind: ExprKind::Bool(false), span } };
                let mut acc = self.expr(first);
                while let Some(op) = it.next() {
                    let op = if op.as_str().trim() == "-" { BinOp::Sub } else { BinOp::Add };
                    let Some(x) = it.next() else { break };
                    let rhs = self.expr(x);
                    let s = acc.span.to(rhs.span);
                    acc = Expr { kind: ExprKind::Binary { op, lhs: Box::new(acc), rhs: Box::new(rhs) }, span: s };
                }
                acc
            }
            Rule::postfix => {
                let mut it = p.into_inner();
                let Some(first) = it.next() else { return Expr { kind: ExprKind::Bool(false), span } };
                let mut acc = self.expr(first);
                for idx in it {
                    let ispan = self.span(&idx);
                    let Some(k) = idx.into_inner().next() else { continue };
                    let key = self.expr(k);
                    let s = acc.span.to(ispan);
                    acc = Expr { kind: ExprKind::Index { base: Box::new(acc), key: Box::new(key) }, span: s };
                }
                acc
            }
            Rule::set_literal => Expr { kind: ExprKind::Set(p.into_inner().map(|x| self.literal(x)).collect()), span },
            Rule::call => {
                let mut it = p.into_inner();
                let name = it.next().map(|n| self.ident(&n)).unwrap_or(Ident { name: String::new(), span });
                let args = it.map(|x| self.expr(x)).collect();
                Expr { kind: ExprKind::Call { name, args }, span }
            }
            Rule::path => Expr { kind: ExprKind::Path(p.into_inner().map(|x| self.ident(&x)).collect()), span },
            Rule::kw_today_lit => Expr { kind: ExprKind::Today, span },
            Rule::string | Rule::int | Rule::float | Rule::date | Rule::boolean | Rule::regex => self.literal(p),
            Rule::quantifier => {
                let mut quant = Quant::Any;
                let mut cond = None;
                for x in p.into_inner() {
                    match x.as_rule() {
                        Rule::quant_kind => {
                            let first = x.into_inner().next().map(|k| k.as_rule());
                            quant = match first {
                                Some(Rule::kw_no) => Quant::No,
                                Some(Rule::kw_count) => Quant::Count,
                                _ => Quant::Any,
                            };
                        }
                        Rule::expr => cond = Some(Box::new(self.expr(x))),
                        _ => {}
                    }
                }
                Expr { kind: ExprKind::Quantifier { quant, cond }, span }
            }
            _ => Expr { kind: ExprKind::Bool(false), span },
        }
    }
}

/// The AST's rule type, named apart from pest's generated `Rule` enum.
type Rule_ = super::ast::Rule;

fn cmp_op(s: &str) -> CmpOp {
    match s {
        "!=" => CmpOp::Ne,
        "<" => CmpOp::Lt,
        "<=" => CmpOp::Le,
        ">" => CmpOp::Gt,
        ">=" => CmpOp::Ge,
        _ => CmpOp::Eq,
    }
}
