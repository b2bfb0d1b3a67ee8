//! Lines of tokens → canonical text.
//!
//! Line breaks are the writer's: a line of input is a line of output (blank lines collapsed
//! to one). Within a line the spacing is canonical; each line is indented by the brackets open
//! before it, and a line that continues a clause (`require a and` / `b`) one step more.
//! `compare` levels written one per line are aligned in columns (see [`LevelLine`]). Tokens
//! are written back exactly as they were read, so only whitespace changes.

use std::collections::HashMap;

use super::lex::{Comment, Kind, Line, Token, lex};

const INDENT: usize = 2;
/// Spaces between a level's test and its `m`, at the widest test of the `match` block.
const TEST_GAP: usize = 3;
/// Spaces between a level's `m` value and its `u`, at the widest `m` value of the comparison.
const M_GAP: usize = 2;

/// Words that begin a top-level item (`match` only when `{` follows: it is not reserved).
const ITEM_WORDS: &[&str] =
    &["include", "schema", "let", "set", "map", "rule", "decide", "extend", "disable", "override"];
const CLAUSE_WORDS: &[&str] = &["when", "require", "reject", "review", "warn", "fields"];
const ARM_WORDS: &[&str] = &["reject", "review", "accept"];
const MATCH_WORDS: &[&str] = &["prior", "block", "compare"];
const SEVERITY_WORDS: &[&str] = &["reject", "review", "warn"];
/// Keywords written with a space before a `(` that follows them (any other word before `(`
/// names a function or a type: `present(x)`, `enum(a, b)`, `file("…")`).
const SPACED_BEFORE_PAREN: &[&str] = &["and", "or", "not", "in", "matches", "where", "if", "when", "require", "on"];

/// What a pair of brackets holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Block {
    Rule,
    /// A schema or a `{ … }` group of fields in it.
    Schema,
    Decide,
    Match,
    Compare,
    /// `{"a", "b"}`: written without spaces inside the braces.
    Set,
    /// `{ "a": "x" }`: written with spaces inside the braces.
    Map,
    Paren,
    Bracket,
}

/// Format a rule text. Never fails: a text that does not parse is laid out as well as its
/// brackets allow, and the caller decides whether to use the result.
pub fn layout(text: &str) -> String {
    let lines = lex(text);
    let doc = Doc::new(&lines);
    let levels = doc.level_lines(&lines);
    let mut out = Output::default();
    let mut open: Vec<(usize, usize)> = Vec::new(); // (opener token, indent of its line)
    let mut pending: Vec<Option<Comment<'_>>> = Vec::new(); // comment lines (Some) and blank lines (None)
    let mut first = 0;
    for (li, line) in lines.iter().enumerate() {
        let range = first..first + line.tokens.len();
        first = range.end;
        if line.tokens.is_empty() {
            pending.push(line.comment);
            continue;
        }
        let starts_with_closer = line.tokens.first().is_some_and(Token::is_closer);
        let base = open.last().map_or(0, |&(_, indent)| indent + INDENT);
        let indent = if starts_with_closer {
            open.last().map_or(0, |&(_, indent)| indent)
        } else if doc.continues(range.start, open.last().map(|&(tok, _)| tok)) {
            base + INDENT
        } else {
            base
        };
        out.flush(&mut pending, if starts_with_closer { base } else { indent });
        for i in range.clone() {
            let Some(t) = doc.toks.get(i) else { continue };
            if t.is_opener() {
                open.push((i, indent));
            } else if t.is_closer() && open.last().map(|&(tok, _)| Some(tok)) == Some(doc.partner(i)) {
                open.pop();
            }
        }
        let code = match levels.get(&li) {
            Some(level) => level.render(),
            None => doc.render(range.clone()),
        };
        let opens = line.tokens.last().is_some_and(Token::is_opener);
        out.code_line(indent, &code, line.comment, opens, starts_with_closer);
    }
    let base = open.last().map_or(0, |&(_, indent)| indent + INDENT);
    out.flush(&mut pending, base);
    out.finish()
}

/// Every token of the text with its bracket structure.
struct Doc<'a> {
    toks: Vec<Token<'a>>,
    /// Line number of each token.
    line_of: Vec<usize>,
    /// The matching bracket of each bracket token.
    partner: Vec<Option<usize>>,
    /// What each opening bracket holds.
    block: Vec<Option<Block>>,
    /// For the `{` of a `compare`: the `{` of its `match` block.
    compare_parent: Vec<Option<usize>>,
}

impl<'a> Doc<'a> {
    fn new(lines: &[Line<'a>]) -> Self {
        let mut toks = Vec::new();
        let mut line_of = Vec::new();
        for (li, line) in lines.iter().enumerate() {
            toks.extend(line.tokens.iter().copied());
            line_of.extend(std::iter::repeat_n(li, line.tokens.len()));
        }
        let n = toks.len();
        let mut doc =
            Doc { toks, line_of, partner: vec![None; n], block: vec![None; n], compare_parent: vec![None; n] };
        doc.match_brackets();
        doc.classify_blocks();
        doc
    }

    fn tok(&self, i: usize) -> Option<&Token<'a>> {
        self.toks.get(i)
    }

    fn partner(&self, i: usize) -> Option<usize> {
        self.partner.get(i).copied().flatten()
    }

    fn block(&self, i: usize) -> Option<Block> {
        self.block.get(i).copied().flatten()
    }

    fn line_of(&self, i: usize) -> Option<usize> {
        self.line_of.get(i).copied()
    }

    fn match_brackets(&mut self) {
        let mut stack: Vec<usize> = Vec::new();
        for i in 0..self.toks.len() {
            let Some(t) = self.tok(i).copied() else { continue };
            if t.is_opener() {
                stack.push(i);
            } else if t.is_closer() {
                let pairs = |o: &Token<'_>| matches!((o.text, t.text), ("{", "}") | ("(", ")") | ("[", "]"));
                if let Some(&o) = stack.last()
                    && self.tok(o).is_some_and(pairs)
                {
                    stack.pop();
                    set(&mut self.partner, o, Some(i));
                    set(&mut self.partner, i, Some(o));
                }
            }
        }
    }

    fn classify_blocks(&mut self) {
        let mut stack: Vec<(usize, Block)> = Vec::new();
        let mut item: Option<&str> = None;
        for i in 0..self.toks.len() {
            let Some(t) = self.tok(i).copied() else { continue };
            if stack.is_empty() && self.starts_item(i) {
                item = Some(t.text);
            }
            let kind = if t.is("{") {
                if stack.iter().any(|(_, k)| *k == Block::Schema) {
                    Block::Schema
                } else {
                    match stack.last() {
                        None => match item {
                            Some("rule" | "override") => Block::Rule,
                            // `extend schema Resident {`
                            Some("schema" | "extend") => Block::Schema,
                            Some("decide") => Block::Decide,
                            Some("match") => Block::Match,
                            _ => self.literal(i),
                        },
                        Some(&(parent, Block::Match)) if self.after_using(i) => {
                            set(&mut self.compare_parent, i, Some(parent));
                            Block::Compare
                        }
                        Some(_) => self.literal(i),
                    }
                }
            } else if t.is("(") {
                Block::Paren
            } else if t.is("[") {
                Block::Bracket
            } else {
                if t.is_closer() && stack.last().map(|&(o, _)| Some(o)) == Some(self.partner(i)) {
                    stack.pop();
                }
                continue;
            };
            set(&mut self.block, i, Some(kind));
            stack.push((i, kind));
        }
    }

    /// `using exact {`: the `{` of a comparison's levels.
    fn after_using(&self, i: usize) -> bool {
        // `using COMPARATOR {`, or `using COMPARATOR frequency [of PART] [fallback MAP] {`: words
        // back to `using`.
        (1..=7).any(|back| {
            let words =
                (1..back).all(|k| i.checked_sub(k).and_then(|p| self.tok(p)).is_some_and(|t| t.kind == Kind::Word));
            words && back > 1 && i.checked_sub(back).and_then(|p| self.tok(p)).is_some_and(|t| t.is_word("using"))
        })
    }

    /// A `{ … }` value: a map when a `:` stands directly inside it, a set otherwise.
    fn literal(&self, open: usize) -> Block {
        let close = self.partner(open).unwrap_or(self.toks.len());
        let mut depth = 0usize;
        for i in open + 1..close {
            let Some(t) = self.tok(i) else { break };
            if t.is_opener() {
                depth += 1;
            } else if t.is_closer() {
                depth = depth.saturating_sub(1);
            } else if depth == 0 && t.is(":") {
                return Block::Map;
            }
        }
        Block::Set
    }

    /// Whether token `i` (outside any bracket) begins a top-level item.
    fn starts_item(&self, i: usize) -> bool {
        let Some(t) = self.tok(i) else { return false };
        // A dotted rule name may begin with a reserved word (`rule set.size`).
        let after_name_part = i
            .checked_sub(1)
            .and_then(|p| self.tok(p))
            .is_some_and(|p| p.is(".") || p.is_word("rule") || p.is_word("fired"));
        if t.kind != Kind::Word || after_name_part {
            return false;
        }
        ITEM_WORDS.contains(&t.text) || (t.text == "match" && self.tok(i + 1).is_some_and(|n| n.is("{")))
    }

    /// Whether the line starting at token `first` continues the clause of the line before,
    /// given the innermost bracket open at its start.
    fn continues(&self, first: usize, open: Option<usize>) -> bool {
        let Some(t) = self.tok(first) else { return false };
        if t.is("{") {
            return false;
        }
        let word_in = |words: &[&str]| t.kind == Kind::Word && words.contains(&t.text);
        let field_like = t.kind == Kind::Word
            && self.tok(first + 1).is_some_and(|n| n.is(":"))
            && self.line_of(first + 1) == self.line_of(first);
        match open.and_then(|o| self.block(o)) {
            None if open.is_none() => !self.starts_item(first),
            Some(Block::Rule) => !word_in(CLAUSE_WORDS),
            Some(Block::Decide) => !word_in(ARM_WORDS),
            Some(Block::Match) => !word_in(MATCH_WORDS),
            Some(Block::Compare | Block::Schema) => !field_like,
            _ => false,
        }
    }

    /// `review -40`: the minus of a penalty, written against its number.
    fn is_penalty(&self, minus: usize) -> bool {
        let Some(sev) = minus.checked_sub(1) else { return false };
        let severity = self.tok(sev).is_some_and(|t| t.kind == Kind::Word && SEVERITY_WORDS.contains(&t.text));
        let number = self.tok(minus + 1).is_some_and(|t| t.kind == Kind::Number);
        let clause_start = match sev.checked_sub(1) {
            None => true,
            Some(before) => {
                self.tok(before).is_some_and(|t| t.is(";") || t.is("{")) || self.line_of(before) != self.line_of(sev)
            }
        };
        severity && number && clause_start
    }

    /// Whether a space goes between token `i` and token `i + 1`.
    fn space_after(&self, i: usize) -> bool {
        let (Some(a), Some(b)) = (self.tok(i), self.tok(i + 1)) else { return false };
        if a.is("(") || a.is("[") || b.is(")") || b.is("]") {
            return false;
        }
        if a.is("{") {
            return !b.is("}") && self.block(i) != Some(Block::Set);
        }
        if b.is("}") {
            return self.partner(i + 1).and_then(|o| self.block(o)) != Some(Block::Set);
        }
        if b.kind == Kind::Punct && matches!(b.text, "," | ";" | ":" | "?" | "." | "[") {
            return false;
        }
        if a.is(".") {
            return false;
        }
        if b.is("(") {
            // `present(x)`, `enum(a)`, but `and (x)`, `where (x)`, `== (x)`.
            return a.kind != Kind::Word || SPACED_BEFORE_PAREN.contains(&a.text);
        }
        !(a.is("-") && self.is_penalty(i))
    }

    /// Tokens `range` on one line with canonical spacing.
    fn render(&self, range: std::ops::Range<usize>) -> String {
        let mut s = String::new();
        for i in range.clone() {
            let Some(t) = self.tok(i) else { break };
            s.push_str(t.text);
            if i + 1 < range.end && self.space_after(i) {
                s.push(' ');
            }
        }
        s
    }

    /// The level lines of every `compare` whose `{` ends a line, whose `}` starts one, and
    /// whose lines in between each hold one level (or only a comment), laid out in columns.
    fn level_lines(&self, lines: &[Line<'a>]) -> HashMap<usize, LevelLine> {
        let mut starts = Vec::with_capacity(lines.len());
        let mut n = 0;
        for line in lines {
            starts.push(n);
            n += line.tokens.len();
        }
        let line_range = |li: usize| {
            let s = starts.get(li).copied().unwrap_or(n);
            s..s + lines.get(li).map_or(0, |l| l.tokens.len())
        };
        // For each compare: its match block and its level lines.
        let mut compares: Vec<(usize, Vec<(usize, LevelLine)>)> = Vec::new();
        for open in 0..self.toks.len() {
            let Some(parent) = self.compare_parent.get(open).copied().flatten() else { continue };
            let Some(close) = self.partner(open) else { continue };
            let (Some(lo), Some(lc)) = (self.line_of(open), self.line_of(close)) else { continue };
            if line_range(lo).end != open + 1 || line_range(lc).start != close {
                continue;
            }
            let mut levels = Vec::new();
            let mut ok = true;
            for li in lo + 1..lc {
                let range = line_range(li);
                if range.is_empty() {
                    continue;
                }
                match self.level(range) {
                    Some(level) => levels.push((li, level)),
                    None => ok = false,
                }
            }
            if ok && !levels.is_empty() {
                let name_col = levels.iter().map(|(_, l)| l.name.chars().count() + 2).max().unwrap_or(0);
                let m_width = levels.iter().map(|(_, l)| l.m.len()).max().unwrap_or(0);
                for (_, l) in &mut levels {
                    l.name_col = name_col;
                    l.m_col_width = m_width + M_GAP;
                }
                compares.push((parent, levels));
            }
        }
        let mut test_end: HashMap<usize, usize> = HashMap::new();
        for (parent, levels) in &compares {
            for (_, l) in levels {
                let end = test_end.entry(*parent).or_insert(0);
                *end = (*end).max(l.name_col + l.test.chars().count());
            }
        }
        let mut out = HashMap::new();
        for (parent, levels) in compares {
            let m_col = test_end.get(&parent).copied().unwrap_or(0) + TEST_GAP;
            for (li, mut l) in levels {
                l.m_col = m_col;
                out.insert(li, l);
            }
        }
        out
    }

    /// `name: test m P u P` (with an optional `,` or `;`), the tokens of one line.
    fn level(&self, range: std::ops::Range<usize>) -> Option<LevelLine> {
        let last = range.end.checked_sub(1)?;
        let sep = self.tok(last).filter(|t| t.is(",") || t.is(";")).map(|t| t.text);
        let end = if sep.is_some() { last } else { range.end };
        let name = self.tok(range.start).filter(|t| t.kind == Kind::Word)?;
        self.tok(range.start + 1).filter(|t| t.is(":"))?;
        let m_at = end.checked_sub(4).filter(|&m| m > range.start + 2)?;
        self.tok(m_at).filter(|t| t.is_word("m"))?;
        let m = self.tok(m_at + 1).filter(|t| t.kind == Kind::Number)?;
        self.tok(m_at + 2).filter(|t| t.is_word("u"))?;
        let u = self.tok(m_at + 3).filter(|t| t.kind == Kind::Number)?;
        Some(LevelLine {
            name: name.text.to_string(),
            test: self.render(range.start + 2..m_at),
            m: m.text.to_string(),
            u: u.text.to_string(),
            sep: sep.unwrap_or("").to_string(),
            name_col: 0,
            m_col: 0,
            m_col_width: 0,
        })
    }
}

/// One level of a `compare`, laid out in columns:
///
/// ```text
/// same:  same                 m 0.90  u 0.01
/// close: similarity >= 0.85   m 0.08  u 0.02
/// ```
///
/// The test starts one space after the longest `name:` of its comparison; `m` stands three
/// spaces after the longest test of the whole `match` block (so every comparison's `m` lines
/// up); `u` stands two spaces after the longest `m` value of its comparison.
#[derive(Debug)]
struct LevelLine {
    name: String,
    test: String,
    m: String,
    u: String,
    sep: String,
    name_col: usize,
    m_col: usize,
    m_col_width: usize,
}

impl LevelLine {
    fn render(&self) -> String {
        let head = format!("{}:", self.name);
        let head = format!("{head:<w$}{}", self.test, w = self.name_col);
        format!("{head:<w$}m {:<mw$}u {}{}", self.m, self.u, self.sep, w = self.m_col, mw = self.m_col_width)
    }
}

/// Output lines, with what blank-line handling needs to know about each.
#[derive(Default)]
struct Output {
    lines: Vec<OutLine>,
}

struct OutLine {
    text: String,
    /// Its last token opens a bracket: no blank line after it.
    opens: bool,
    /// Its first token closes a bracket: no blank line before it.
    closes: bool,
}

impl Output {
    /// Write the comment and blank lines seen since the last code line; comments take `indent`.
    fn flush(&mut self, pending: &mut Vec<Option<Comment<'_>>>, indent: usize) {
        for p in pending.drain(..) {
            let text = p.map(|c| format!("{:indent$}{}", "", c.text)).unwrap_or_default();
            self.lines.push(OutLine { text, opens: false, closes: false });
        }
    }

    fn code_line(&mut self, indent: usize, code: &str, comment: Option<Comment<'_>>, opens: bool, closes: bool) {
        let mut text = format!("{:indent$}{code}", "");
        if let Some(c) = comment {
            // A trailing comment keeps its column when the code leaves room for it.
            let width = text.chars().count();
            let column = c.column.max(width + 1);
            text.push_str(&" ".repeat(column - width));
            text.push_str(c.text);
        }
        self.lines.push(OutLine { text, opens, closes });
    }

    /// Join the lines: blank lines collapsed to one and dropped at the start and end of the
    /// file and of a bracket; one newline at the end.
    fn finish(self) -> String {
        let mut kept: Vec<&OutLine> = Vec::new();
        for line in &self.lines {
            let blank = line.text.is_empty();
            let prev_blank = kept.last().is_some_and(|l| l.text.is_empty());
            if blank && (kept.last().is_none_or(|l| l.opens) || prev_blank) {
                continue;
            }
            if line.closes && prev_blank {
                kept.pop();
            }
            kept.push(line);
        }
        while kept.last().is_some_and(|l| l.text.is_empty()) {
            kept.pop();
        }
        let mut out = String::new();
        for line in kept {
            out.push_str(&line.text);
            out.push('\n');
        }
        out
    }
}

fn set<T>(v: &mut [T], i: usize, value: T) {
    if let Some(slot) = v.get_mut(i) {
        *slot = value;
    }
}
