//! Reading records: JSONL, a JSON array (or one object), YAML, CSV. Records are handed on in
//! batches so that memory does not grow with the input; JSONL lines are parsed later, in
//! parallel, by the evaluator threads. A live input (a pipe, FIFO, socket or terminal: see
//! [`is_live`]) is read on a thread of its own and handed on as it arrives ([`read_live`]), so
//! a program that writes one record and waits gets its answer.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};

use csv_rows::Row;

mod csv_rows;

/// Where a record came from: a line (JSONL, CSV) or a position in a JSON/YAML list.
#[derive(Clone, Debug)]
pub struct Pos {
    pub file: Option<String>,
    pub unit: Unit,
    pub n: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Line,
    Record,
}

/// One input record, not yet evaluated.
#[derive(Debug)]
pub enum Raw {
    /// An unparsed JSONL line, not yet checked to be UTF-8: the worker that parses it checks
    /// ([`json_line`]), so the reading thread only splits lines.
    Json(Vec<u8>),
    Value(serde_json::Value),
    Error(String),
}

impl Raw {
    /// The record as a JSON value, or why it cannot be read (without quoting its content).
    pub fn into_value(self) -> Result<serde_json::Value, String> {
        match self {
            Raw::Value(v) => Ok(v),
            Raw::Json(line) => json_line(&line).and_then(kensa::internal::parse_record),
            Raw::Error(msg) => Err(msg),
        }
    }
}

/// A JSONL line as text, or why it is not (not UTF-8, at which column). The check is
/// vectorized (`simdutf8`); only a line that fails it is checked again to find where.
pub fn json_line(line: &[u8]) -> Result<&str, String> {
    simdutf8::basic::from_utf8(line).map_err(|_| {
        let column = std::str::from_utf8(line).err().map_or(0, |e| e.valid_up_to()) + 1;
        not_utf8("line", column)
    })
}

/// Whether a line holds only white space (ASCII or Unicode, as `str::trim` sees it): decided
/// from its first bytes for a line that starts with a record.
fn is_blank(line: &[u8]) -> bool {
    // ASCII white space as `str::trim` sees it (vertical tab included).
    match line.iter().find(|&&b| !(b.is_ascii() && char::from(b).is_whitespace())) {
        None => true,
        Some(b) if b.is_ascii() => false,
        // Full-width spaces and other Unicode white space, or text that is not UTF-8 (not blank:
        // its error is reported).
        Some(_) => std::str::from_utf8(line).is_ok_and(|t| t.trim().is_empty()),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Jsonl,
    Json,
    Yaml,
    Csv,
}

impl Format {
    pub fn from_path(p: &Path) -> Option<Format> {
        match p.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "json" => Some(Format::Json),
            "yaml" | "yml" => Some(Format::Yaml),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// The inputs of a command with their formats: `-` (standard input) when none are given;
/// the format from `--input-format`, else the file name, else JSONL for a stream (see
/// [`format_of`]). `Err` says which input cannot be used.
pub fn plan(inputs: &[String], input_format: Option<Format>) -> Result<Vec<(String, Format)>, String> {
    let inputs = if inputs.is_empty() { vec![String::from("-")] } else { inputs.to_vec() };
    let mut plan = Vec::with_capacity(inputs.len());
    for path in inputs {
        let format = format_of(&path, input_format)?;
        plan.push((path, format));
    }
    Ok(plan)
}

/// The format of one input, after checking that it can be read: `Err` when it does not exist
/// or is a folder. A stream — standard input (`-`), a named pipe, `/dev/fd/N` as the shell's
/// `<(…)` passes it, a device — has no file name to go by, so it is JSONL unless
/// `--input-format` says otherwise; a regular file is named by its extension.
pub fn format_of(path: &str, input_format: Option<Format>) -> Result<Format, String> {
    let stream = path == "-" || is_stream(path, "")?;
    match input_format.or_else(|| Format::from_path(Path::new(path))) {
        Some(f) => Ok(f),
        None if stream => Ok(Format::Jsonl),
        None => {
            Err(format!("cannot tell the format of `{path}` from its name; add --input-format jsonl|json|yaml|csv"))
        }
    }
}

/// Whether the input at `path` is a stream (not a regular file); `Err` when it does not exist or
/// is a folder. `what` names it in the message (`registry `, or nothing).
pub fn is_stream(path: &str, what: &str) -> Result<bool, String> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => format!("cannot open {what}`{path}`: no such file"),
        io::ErrorKind::PermissionDenied => format!("cannot open {what}`{path}`: permission denied"),
        _ => format!("cannot open {what}`{path}`: {e}"),
    })?;
    if meta.is_dir() {
        return Err(format!(
            "cannot read {what}`{path}`: it is a folder, not a file of records; name the files in it, e.g. `{}`",
            Path::new(path).join("*.jsonl").display()
        ));
    }
    Ok(!meta.is_file())
}

/// Whether more of the input at `path` (or standard input, `-`) may still be on its way: a pipe,
/// FIFO, socket or terminal, not a regular file (whose records are all there, so it is read in
/// full batches). A path or standard input that cannot be examined counts as live: reading it
/// record by record is never wrong, only slower.
pub fn is_live(path: &str) -> bool {
    if path == "-" {
        return stdin_metadata().is_none_or(|m| !m.is_file());
    }
    is_stream(path, "").unwrap_or(true)
}

/// What standard input is (through a duplicate of its descriptor, closed again at once).
#[cfg(unix)]
fn stdin_metadata() -> Option<std::fs::Metadata> {
    use std::os::fd::AsFd;
    File::from(io::stdin().as_fd().try_clone_to_owned().ok()?).metadata().ok()
}

#[cfg(windows)]
fn stdin_metadata() -> Option<std::fs::Metadata> {
    use std::os::windows::io::AsHandle;
    File::from(io::stdin().as_handle().try_clone_to_owned().ok()?).metadata().ok()
}

#[cfg(not(any(unix, windows)))]
fn stdin_metadata() -> Option<std::fs::Metadata> {
    None
}

/// Records read and not yet judged, in input order.
pub type Batch = Vec<(Pos, Raw)>;

/// What the reading thread of [`read_live`] hands on.
enum Live {
    Record(Pos, Raw),
    End(io::Result<()>),
}

/// Read a live input (see [`is_live`]) as [`read`] does, on a thread of its own, and hand its
/// records to `batch` as they arrive: every record read so far, at most `max` at a time, and
/// never waiting for one that has not arrived. A program that writes one record and waits for
/// its answer gets it; a fast writer (`zcat … | kensa eval`) still fills whole batches, while
/// the next ones are read. `batch` is called with at least one record, in input order, and
/// must empty the vector.
pub fn read_live(
    path: &str,
    format: Format,
    show_file: bool,
    limits: &kensa::Limits,
    max: usize,
    batch: &mut dyn FnMut(&mut Batch) -> io::Result<()>,
) -> io::Result<()> {
    use std::sync::mpsc::{TryRecvError, sync_channel};
    let max = max.max(1);
    let (tx, rx) = sync_channel::<Live>(max.min(4096));
    let (owned, limits) = (path.to_string(), *limits);
    // Not joined: when the command stops early (its output closed), the thread may be waiting
    // for input that never comes, and ends with the process.
    std::thread::Builder::new().name(String::from("kensa-input")).spawn(move || {
        let mut sink = |pos: Pos, raw: Raw| -> io::Result<()> {
            tx.send(Live::Record(pos, raw)).map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))
        };
        let result = read(&owned, format, show_file, &limits, &mut sink);
        let _ = tx.send(Live::End(result));
    })?;
    let gone = || Err(io::Error::other("the input stopped being read"));
    let mut records: Batch = Vec::with_capacity(max.min(4096));
    loop {
        let mut end = match rx.recv() {
            Ok(Live::Record(pos, raw)) => {
                records.push((pos, raw));
                None
            }
            Ok(Live::End(result)) => Some(result),
            Err(_) => Some(gone()),
        };
        while end.is_none() && records.len() < max {
            match rx.try_recv() {
                Ok(Live::Record(pos, raw)) => records.push((pos, raw)),
                Ok(Live::End(result)) => end = Some(result),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => end = Some(gone()),
            }
        }
        if !records.is_empty() {
            batch(&mut records)?;
        }
        if let Some(result) = end {
            return result;
        }
    }
}

/// A reader that counts the bytes read through it (for the progress line).
struct Counted<R> {
    inner: R,
    read: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get().saturating_add(n as u64));
        Ok(n)
    }
}

/// Read one input (a path, or `-` for standard input) and pass every record to `sink`. A record
/// larger than `limits.max_record_bytes` is an error for that record: a JSONL line is skipped
/// without being read into memory and the next line is read (unless no line end comes within
/// [`SKIP_FACTOR`] times the limit: then the input has no lines, as `/dev/zero`, and the rest
/// of it is not read); in a JSON array, a CSV file or a YAML file the records after it cannot
/// be found, so the rest of the file is not read.
pub fn read(
    path: &str,
    format: Format,
    show_file: bool,
    limits: &kensa::Limits,
    sink: &mut dyn FnMut(Pos, Raw) -> io::Result<()>,
) -> io::Result<()> {
    let reader: Box<dyn Read> = if path == "-" { Box::new(io::stdin().lock()) } else { Box::new(File::open(path)?) };
    // Progress on a terminal: records and bytes read so far, against the file's size.
    let size = if path == "-" { 0 } else { std::fs::metadata(path).map_or(0, |m| m.len()) };
    let read_bytes = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let reader = Counted { inner: reader, read: std::rc::Rc::clone(&read_bytes) };
    let mut progress = super::progress::Progress::new(path, size);
    let mut records = 0u64;
    let sink = &mut |p: Pos, raw: Raw| {
        records += 1;
        if let Some(progress) = progress.as_mut() {
            progress.tick(records, read_bytes.get());
        }
        sink(p, raw)
    };
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    skip_bom(&mut reader)?;
    let file = if show_file { Some(path.to_string()) } else { None };
    let pos = |unit, n| Pos { file: file.clone(), unit, n };
    let max = limits.max_record_bytes;
    match format {
        Format::Jsonl => {
            let mut buf = Vec::new();
            let mut n = 0;
            loop {
                let line = read_line(&mut reader, &mut buf, max)?;
                n += 1;
                match line {
                    Line::End => break,
                    Line::TooLong(len) => {
                        sink(pos(Unit::Line, n), Raw::Error(line_too_long(len, max)))?;
                        continue;
                    }
                    Line::Endless(len) => return sink(pos(Unit::Line, n), Raw::Error(no_line_end(len, max))),
                    Line::Text => {}
                }
                if is_blank(&buf) {
                    continue;
                }
                sink(pos(Unit::Line, n), Raw::Json(std::mem::take(&mut buf)))?;
            }
            Ok(())
        }
        Format::Json => {
            let cap = Cap::new(max);
            let mut de = serde_json::Deserializer::from_reader(Capped { inner: reader, cap: cap.clone() });
            let mut count = 0;
            let result = StreamSeed {
                sink: &mut |v| {
                    count += 1;
                    cap.used.set(0);
                    sink(pos(Unit::Record, count), v)
                },
            }
            .deserialize(&mut de);
            if let Err(e) = result.and_then(|()| de.end()) {
                if cap.tripped.get() {
                    let msg = format!(
                        "record {} is larger than the limit of {max} bytes, so the rest of the file was not read: \
                         split the file (JSONL, one record per line, skips a record that is too large and reads on) \
                         or raise the limit (--max-record-bytes)",
                        count + 1
                    );
                    return sink(pos(Unit::Record, count + 1), Raw::Error(msg));
                }
                if e.is_io() {
                    return Err(io::Error::other(e.to_string()));
                }
                // A file with nothing but white space holds no records.
                if count == 0 && e.is_eof() && e.to_string().starts_with("EOF while parsing a value") {
                    return Ok(());
                }
                sink(pos(Unit::Record, count + 1), Raw::Error(kensa::internal::json_file_error(&e)))?;
            }
            Ok(())
        }
        Format::Yaml => {
            let mut bytes = Vec::new();
            reader.take(u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1)).read_to_end(&mut bytes)?;
            if bytes.len() > max {
                let msg = format!(
                    "the YAML file is larger than the limit of {max} bytes (YAML is read whole): \
                     convert it to JSONL or CSV, or raise the limit (--max-record-bytes)"
                );
                return sink(pos(Unit::Record, 1), Raw::Error(msg));
            }
            let text = match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(e) => {
                    let at = e.utf8_error().valid_up_to();
                    let line = e.as_bytes().get(..at).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count()) + 1;
                    let msg = format!("the YAML file is not UTF-8 text (line {line}): save it as UTF-8");
                    return sink(pos(Unit::Record, 1), Raw::Error(msg));
                }
            };
            match serde_saphyr::from_multiple::<serde_json::Value>(&text) {
                Ok(docs) => {
                    let mut n = 0;
                    for doc in docs {
                        match doc {
                            serde_json::Value::Array(items) => {
                                for item in items {
                                    n += 1;
                                    sink(pos(Unit::Record, n), Raw::Value(item))?;
                                }
                            }
                            serde_json::Value::Null => {}
                            other => {
                                n += 1;
                                sink(pos(Unit::Record, n), Raw::Value(other))?;
                            }
                        }
                    }
                    Ok(())
                }
                Err(e) => {
                    let msg = e.to_string();
                    let first = msg.lines().next().unwrap_or("invalid YAML").trim_start_matches("error: ");
                    // The parser's advice to programmers ("set DuplicateKeyPolicy …") is not for clerks.
                    let first = first.split(", set ").next().unwrap_or(first).to_string();
                    let hint = if first.contains("recursion limit") {
                        "records are objects with a few groups; check the program that wrote the file"
                    } else {
                        "fix the file at that line; no record of it was judged"
                    };
                    sink(pos(Unit::Record, 1), Raw::Error(format!("cannot read YAML: {first}: {hint}")))
                }
            }
        }
        Format::Csv => {
            let mut rows = csv_rows::Rows::new(reader, max);
            let headers: Vec<String> = match rows.next_row()? {
                None => return Ok(()),
                Some(Row::Values { values, .. }) => values,
                Some(Row::Error { line, message } | Row::Stop { line, message }) => {
                    return sink(pos(Unit::Line, line), Raw::Error(message));
                }
            };
            if let Some(msg) = duplicate_header(&headers) {
                return sink(pos(Unit::Line, 1), Raw::Error(msg));
            }
            rows.expect_columns(headers.len());
            while let Some(row) = rows.next_row()? {
                match row {
                    Row::Values { line, values } => {
                        sink(pos(Unit::Line, line), Raw::Value(csv_object(&headers, &values)))?
                    }
                    Row::Error { line, message } => sink(pos(Unit::Line, line), Raw::Error(message))?,
                    Row::Stop { line, message } => return sink(pos(Unit::Line, line), Raw::Error(message)),
                }
            }
            Ok(())
        }
    }
}

/// Skip a UTF-8 byte order mark at the start of the input (Windows editors write one).
fn skip_bom(reader: &mut impl BufRead) -> io::Result<()> {
    if reader.fill_buf()?.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    Ok(())
}

/// One line of a JSONL input.
enum Line {
    End,
    /// The line is in the buffer, without its end.
    Text,
    /// The line had this many bytes, more than the limit; it was skipped, not kept.
    TooLong(usize),
    /// No line end came within this many bytes ([`SKIP_FACTOR`] times the limit); the line was
    /// not read to its end.
    Endless(usize),
}

/// How far past the record limit a line is skipped in search of its end: far enough for a
/// broken line of any real file, and an end for an input with no lines at all (`/dev/zero`, a
/// binary file, a stream that never ends).
pub const SKIP_FACTOR: usize = 64;

/// Read the next line into `buf` (without `\n` or `\r\n`); a line longer than `max` bytes is
/// read past without being kept, so memory stays bounded by the limit, for at most
/// [`SKIP_FACTOR`] times the limit.
fn read_line(reader: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<Line> {
    buf.clear();
    let mut total = 0usize;
    let mut skipping = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(match (total, skipping) {
                (0, _) => Line::End,
                (_, true) => Line::TooLong(total),
                (_, false) => Line::Text,
            });
        }
        let newline = memchr::memchr(b'\n', available);
        let chunk = match newline {
            Some(i) => available.get(..i).unwrap_or(available),
            None => available,
        };
        total = total.saturating_add(chunk.len());
        if !skipping {
            if total > max {
                skipping = true;
                *buf = Vec::new();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        let used = chunk.len() + usize::from(newline.is_some());
        reader.consume(used);
        if skipping && newline.is_none() && total / SKIP_FACTOR > max {
            return Ok(Line::Endless(total));
        }
        if newline.is_some() {
            if skipping {
                return Ok(Line::TooLong(total));
            }
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Line::Text);
        }
    }
}

fn line_too_long(len: usize, max: usize) -> String {
    format!(
        "the line is {len} bytes long, more than the limit of {max} bytes, so it was skipped: \
         a record is one line of a few kilobytes; check how the file was written, or raise the limit (--max-record-bytes)"
    )
}

fn no_line_end(len: usize, max: usize) -> String {
    format!(
        "no line end within {len} bytes ({SKIP_FACTOR} times the limit of {max} bytes for a record), so the rest \
         of the input was not read: records are lines of a few kilobytes; check that this is a file of records, \
         or raise the limit (--max-record-bytes)"
    )
}

fn not_utf8(what: &str, column: usize) -> String {
    format!("the {what} is not UTF-8 text (an invalid byte at byte {column}): save the file as UTF-8")
}

/// Counts the bytes read since the last record; reading more than the limit fails (and says so
/// in `tripped`), so that a huge record is refused before it is held in memory.
#[derive(Clone)]
struct Cap {
    used: std::rc::Rc<std::cell::Cell<usize>>,
    tripped: std::rc::Rc<std::cell::Cell<bool>>,
    limit: usize,
}

impl Cap {
    fn new(limit: usize) -> Cap {
        Cap { used: std::rc::Rc::default(), tripped: std::rc::Rc::default(), limit }
    }
}

struct Capped<R> {
    inner: R,
    cap: Cap,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let used = self.cap.used.get();
        if used > self.cap.limit {
            self.cap.tripped.set(true);
            return Err(io::Error::new(io::ErrorKind::InvalidData, "a record is larger than the limit"));
        }
        let n = self.inner.read(buf)?;
        self.cap.used.set(used.saturating_add(n));
        Ok(n)
    }
}

/// A header line naming one column twice would make one of the two values disappear.
fn duplicate_header(headers: &[String]) -> Option<String> {
    for (i, h) in headers.iter().enumerate() {
        if h.is_empty() {
            continue;
        }
        if let Some(j) = headers.iter().skip(i + 1).position(|x| x == h) {
            let name = kensa::internal::shorten(h, 40);
            return Some(format!(
                "the header names column `{name}` twice (columns {} and {}), so no row of the file was read: \
                 rename or remove one of them",
                i + 1,
                i + j + 2
            ));
        }
    }
    None
}

/// A CSV row as a record object: `bank.holder_kana` columns become nested objects; empty cells
/// are left out (absent).
fn csv_object(headers: &[String], row: &[String]) -> serde_json::Value {
    let mut root = serde_json::Map::new();
    for (h, v) in headers.iter().zip(row.iter()) {
        if v.is_empty() {
            continue;
        }
        let mut obj = &mut root;
        let mut parts = h.split('.').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                obj.insert(part.to_string(), serde_json::Value::String(v.to_string()));
                break;
            }
            let entry =
                obj.entry(part.to_string()).or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
            match entry {
                serde_json::Value::Object(m) => obj = m,
                _ => break,
            }
        }
    }
    serde_json::Value::Object(root)
}

/// Streams the elements of a top-level JSON array (or a single object) to a callback.
struct StreamSeed<'a> {
    sink: &'a mut dyn FnMut(Raw) -> io::Result<()>,
}

impl<'de> DeserializeSeed<'de> for StreamSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StreamSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON array of records, or one record object")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element_seed(kensa::internal::StrictValue)? {
            (self.sink)(Raw::Value(v)).map_err(A::Error::custom)?;
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let v = kensa::internal::StrictVisitor.visit_map(map)?;
        (self.sink)(Raw::Value(v)).map_err(A::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn blank_lines_are_what_trim_leaves_empty() {
        for line in ["", " ", "\t\r", "\u{b}\u{c}", "\u{3000}", " \u{a0}\u{2003} ", "{}", "x", "\u{3000}{", "\u{1f}"] {
            assert_eq!(super::is_blank(line.as_bytes()), line.trim().is_empty(), "{line:?}");
        }
        assert!(!super::is_blank(b"\xff\xfe"));
    }
}
