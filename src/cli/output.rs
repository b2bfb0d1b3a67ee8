//! Writing verdicts: JSONL (the contract other tools read), a JSON array, YAML, an aligned
//! table for people, or a static HTML report (collected and written when the input ends). Each record is rendered on a worker thread; the writer only concatenates,
//! in input order. Text from a record never reaches the terminal raw: table cells are escaped,
//! JSON and YAML escape what they carry (see [`json`], [`yaml`]).

use std::borrow::Cow;
use std::io::{self, Write};

use kensa::internal::{escape_controls, escape_text};

use unicode_width::UnicodeWidthStr;

use super::input::{Pos, Unit};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutFormat {
    Jsonl,
    Json,
    Yaml,
    Table,
    // One self-contained HTML page, written when the input ends.
    Html,
}

/// One record, rendered.
pub struct Rendered {
    /// The record's JSON or YAML text (UTF-8).
    text: Vec<u8>,
    /// For the table: the cells, rendered by the writer once widths are known.
    row: Option<Row>,
    /// For the HTML report: what it shows of the record.
    shown: Option<super::report::eval::Shown>,
    decision: Option<kensa::Decision>,
    /// A run of records written as JSONL lines into `text` (each ending in a newline) on one
    /// worker, with their counts ([`Rendered::lines`]); `None` for one record.
    lines: Option<Stats>,
}

struct Row {
    pos: String,
    id: String,
    decision: String,
    score: String,
    findings: Vec<String>,
}

fn pos_json(pos: &Pos, obj: &mut serde_json::Map<String, serde_json::Value>) {
    if let Some(f) = &pos.file {
        obj.insert(String::from("file"), serde_json::Value::String(f.clone()));
    }
    let key = if pos.unit == Unit::Line { "line" } else { "record" };
    obj.insert(key.to_string(), serde_json::Value::from(pos.n));
}

fn pos_text(pos: &Pos) -> String {
    match &pos.file {
        Some(f) => format!("{}:{}", escape_controls(f), pos.n),
        None => pos.n.to_string(),
    }
}

/// A value as JSON, with what JSON leaves raw (C1 controls, bidi overrides, …) escaped: the same
/// value for any reader.
pub fn json(v: &impl serde::Serialize) -> String {
    kensa::internal::json_text(v)
}

/// [`json`] of an object with `extra` members after its own: a verdict with what was done with
/// it (`kensa enroll`'s `enrolled`, the service's `decision_id` and `rules_revision`).
pub fn json_with(v: &impl serde::Serialize, extra: &[(&str, serde_json::Value)]) -> String {
    let mut text = json(v);
    if text.ends_with('}') && !extra.is_empty() {
        text.pop();
        for (k, val) in extra {
            text.push(',');
            text.push_str(&json(k));
            text.push(':');
            text.push_str(&json(val));
        }
        text.push('}');
    }
    text
}

/// A value as YAML; the YAML writer escapes control characters but leaves bidi overrides raw,
/// so a value holding one is written as JSON instead (a flow mapping, which YAML reads too).
pub fn yaml(v: &impl serde::Serialize) -> String {
    let text = serde_saphyr::to_string(v).unwrap_or_default();
    match escape_text(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(_) => json(v),
    }
}

fn cell(text: &str) -> String {
    escape_controls(text).into_owned()
}

impl Rendered {
    pub fn verdict(pos: Pos, v: &kensa::Verdict, format: OutFormat) -> Rendered {
        let mut text = Vec::new();
        match format {
            OutFormat::Jsonl | OutFormat::Json => {
                text.reserve(512);
                v.write_json(&mut text);
            }
            OutFormat::Yaml => text = yaml(v).into_bytes(),
            OutFormat::Table | OutFormat::Html => {}
        }
        let shown = (format == OutFormat::Html).then(|| super::report::eval::Shown::verdict(pos_text(&pos), v));
        let row = (format == OutFormat::Table).then(|| Row {
            pos: pos_text(&pos),
            id: cell(v.id.as_deref().unwrap_or_default()),
            decision: v.decision.to_string(),
            score: v.score.to_string(),
            findings: v
                .findings
                .iter()
                .map(|f| cell(&format!("{} {}: {}", f.severity, f.rule, f.message)))
                .chain(
                    v.trace
                        .iter()
                        .flatten()
                        .filter(|t| t.outcome != kensa::RuleOutcome::Fired)
                        .map(|t| format!("   {} {}", t.outcome.as_str(), cell(&t.rule))),
                )
                .collect(),
        });
        Rendered { text, row, shown, decision: Some(v.decision), lines: None }
    }

    /// An empty run of JSONL lines, for [`Rendered::push_line`].
    pub fn lines() -> Rendered {
        Rendered {
            text: Vec::with_capacity(1 << 15),
            row: None,
            shown: None,
            decision: None,
            lines: Some(Stats::default()),
        }
    }

    /// One more record of a run of JSONL lines: its verdict, or the error that took its place,
    /// written as [`Rendered::verdict`] and [`Rendered::error`] write them.
    pub fn push_line(&mut self, pos: Pos, judged: Result<kensa::Verdict, String>) {
        let stats = self.lines.get_or_insert_with(Stats::default);
        match judged {
            Ok(v) => {
                stats.count(Some(v.decision));
                v.write_json(&mut self.text);
            }
            Err(msg) => {
                stats.count(None);
                self.text.extend_from_slice(&Rendered::error(pos, msg, OutFormat::Jsonl).text);
            }
        }
        self.text.push(b'\n');
    }

    pub fn error(pos: Pos, message: String, format: OutFormat) -> Rendered {
        let mut obj = serde_json::Map::new();
        pos_json(&pos, &mut obj);
        obj.insert(String::from("error"), serde_json::Value::String(message.clone()));
        let obj = serde_json::Value::Object(obj);
        let text = match format {
            OutFormat::Jsonl | OutFormat::Json => json(&obj).into_bytes(),
            OutFormat::Yaml => yaml(&obj).into_bytes(),
            OutFormat::Table | OutFormat::Html => Vec::new(),
        };
        let shown =
            (format == OutFormat::Html).then(|| super::report::eval::Shown::error(pos_text(&pos), message.clone()));
        let row = (format == OutFormat::Table).then(|| Row {
            pos: pos_text(&pos),
            id: String::new(),
            decision: String::from("error"),
            score: String::new(),
            findings: vec![cell(&message)],
        });
        Rendered { text, row, shown, decision: None, lines: None }
    }
}

/// Counts for the closing summary line.
#[derive(Default, Clone, Copy)]
pub struct Stats {
    pub accept: usize,
    pub review: usize,
    pub reject: usize,
    pub errors: usize,
}

impl Stats {
    fn count(&mut self, decision: Option<kensa::Decision>) {
        match decision {
            Some(kensa::Decision::Accept) => self.accept += 1,
            Some(kensa::Decision::Review) => self.review += 1,
            Some(kensa::Decision::Reject) => self.reject += 1,
            None => self.errors += 1,
        }
    }

    fn add(&mut self, other: Stats) {
        self.accept += other.accept;
        self.review += other.review;
        self.reject += other.reject;
        self.errors += other.errors;
    }

    pub fn summary(&self) -> String {
        let total = self.accept + self.review + self.reject + self.errors;
        format!(
            "{total} records: {} accept, {} review, {} reject, {} errors",
            self.accept, self.review, self.reject, self.errors
        )
    }
}

pub struct Writer<W: Write> {
    out: W,
    format: OutFormat,
    colour: bool,
    first: bool,
    stats: Stats,
    /// The table's widths of the position and id columns: they only grow, so that rows written
    /// one at a time (a live input) or in later batches stay under the header where they can.
    widths: (usize, usize),
    /// The records of the HTML report, until the input ends.
    shown: Vec<super::report::eval::Shown>,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W, format: OutFormat, colour: bool) -> Self {
        Writer { out, format, colour, first: true, stats: Stats::default(), widths: (4, 2), shown: Vec::new() }
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    pub fn begin(&mut self) -> io::Result<()> {
        match self.format {
            OutFormat::Json => self.out.write_all(b"["),
            _ => Ok(()),
        }
    }

    /// Send what has been written on, so that a program waiting for a record's answer gets it.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn end(&mut self) -> io::Result<()> {
        match self.format {
            OutFormat::Json => self.out.write_all(if self.first { b"]\n" } else { b"\n]\n" })?,
            OutFormat::Html => {
                let page = super::report::eval::page(&std::mem::take(&mut self.shown));
                self.out.write_all(page.as_bytes())?;
            }
            _ => {}
        }
        self.out.flush()
    }

    pub fn write_all(&mut self, items: Vec<Rendered>) -> io::Result<()> {
        for r in &items {
            match r.lines {
                Some(counts) => self.stats.add(counts),
                None => self.stats.count(r.decision),
            }
        }
        match self.format {
            OutFormat::Jsonl => {
                for r in items {
                    self.out.write_all(&r.text)?;
                    if r.lines.is_none() {
                        self.out.write_all(b"\n")?;
                    }
                }
            }
            OutFormat::Json => {
                for r in items {
                    self.out.write_all(if self.first { b"\n" } else { b",\n" })?;
                    self.first = false;
                    self.out.write_all(&r.text)?;
                }
            }
            OutFormat::Yaml => {
                for r in items {
                    let text = String::from_utf8_lossy(&r.text);
                    let mut lines = text.lines();
                    if let Some(first) = lines.next() {
                        writeln!(self.out, "- {first}")?;
                    }
                    for l in lines {
                        writeln!(self.out, "  {l}")?;
                    }
                }
            }
            OutFormat::Table => self.table(items)?,
            OutFormat::Html => self.shown.extend(items.into_iter().filter_map(|r| r.shown)),
        }
        Ok(())
    }

    fn table(&mut self, items: Vec<Rendered>) -> io::Result<()> {
        let rows: Vec<Row> = items.into_iter().filter_map(|r| r.row).collect();
        let w_pos = rows.iter().map(|r| r.pos.width()).max().unwrap_or(0).max(self.widths.0);
        let w_id = rows.iter().map(|r| r.id.width()).max().unwrap_or(0).max(self.widths.1);
        self.widths = (w_pos, w_id);
        if self.first {
            self.first = false;
            writeln!(
                self.out,
                "{}  {}  {}  {}  FINDINGS",
                pad("LINE", w_pos),
                pad("ID", w_id),
                pad("DECISION", 8),
                pad("SCORE", 5)
            )?;
        }
        for r in rows {
            let decision = pad(&r.decision, 8);
            let decision = if self.colour {
                let code = match r.decision.as_str() {
                    "accept" => "32",
                    "review" => "33",
                    _ => "31",
                };
                format!("\x1b[{code}m{decision}\x1b[0m")
            } else {
                decision
            };
            let mut findings = r.findings.iter();
            let first = findings.next().map(String::as_str).unwrap_or("");
            writeln!(
                self.out,
                "{}  {}  {}  {}  {}",
                pad(&r.pos, w_pos),
                pad(&r.id, w_id),
                decision,
                lpad(&r.score, 5),
                first
            )?;
            let indent = " ".repeat(w_pos + w_id + 8 + 5 + 8);
            for f in findings {
                writeln!(self.out, "{indent}{f}")?;
            }
        }
        Ok(())
    }
}

/// Pad to a display width (East Asian wide characters count as two columns).
pub fn pad(s: &str, width: usize) -> String {
    let w = s.width();
    let mut out = s.to_string();
    for _ in w..width {
        out.push(' ');
    }
    out
}

/// Pad on the left to a display width (numbers in a column).
pub fn lpad(s: &str, width: usize) -> String {
    let w = s.width();
    let mut out = " ".repeat(width.saturating_sub(w));
    out.push_str(s);
    out
}
