//! Reading records: JSONL, a JSON array (or one object), YAML, CSV. Records are handed on in
//! batches so that memory does not grow with the input; JSONL lines are parsed later, in
//! parallel, by the evaluator threads.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};

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
    /// An unparsed JSONL line.
    Json(String),
    Value(serde_json::Value),
    Error(String),
}

impl Raw {
    /// The record as a JSON value, or why it cannot be read (without quoting its content).
    pub fn into_value(self) -> Result<serde_json::Value, String> {
        match self {
            Raw::Value(v) => Ok(v),
            Raw::Json(line) => serde_json::from_str(&line).map_err(|e| json_error(&e)),
            Raw::Error(msg) => Err(msg),
        }
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
/// the format from `--input-format`, else the file name, else JSONL for standard input.
/// `Err` says which input cannot be used.
pub fn plan(inputs: &[String], input_format: Option<Format>) -> Result<Vec<(String, Format)>, String> {
    let inputs = if inputs.is_empty() { vec![String::from("-")] } else { inputs.to_vec() };
    let mut plan = Vec::with_capacity(inputs.len());
    for path in inputs {
        let format = match input_format.or_else(|| Format::from_path(Path::new(&path))) {
            Some(f) => f,
            None if path == "-" => Format::Jsonl,
            None => {
                return Err(format!(
                    "cannot tell the format of `{path}` from its name; add --input-format jsonl|json|yaml|csv"
                ));
            }
        };
        if path != "-" && !Path::new(&path).is_file() {
            return Err(format!("cannot open `{path}`: no such file"));
        }
        plan.push((path, format));
    }
    Ok(plan)
}

/// Read one input (a path, or `-` for standard input) and pass every record to `sink`.
pub fn read(
    path: &str,
    format: Format,
    show_file: bool,
    sink: &mut dyn FnMut(Pos, Raw) -> io::Result<()>,
) -> io::Result<()> {
    let reader: Box<dyn Read> = if path == "-" { Box::new(io::stdin().lock()) } else { Box::new(File::open(path)?) };
    let reader = BufReader::with_capacity(1 << 16, reader);
    let file = if show_file { Some(path.to_string()) } else { None };
    let pos = |unit, n| Pos { file: file.clone(), unit, n };
    match format {
        Format::Jsonl => {
            let mut reader = reader;
            let mut buf = Vec::new();
            let mut n = 0;
            loop {
                buf.clear();
                if reader.read_until(b'\n', &mut buf)? == 0 {
                    break;
                }
                n += 1;
                let line = match String::from_utf8(std::mem::take(&mut buf)) {
                    Ok(s) => s,
                    Err(_) => {
                        sink(pos(Unit::Line, n), Raw::Error(String::from("the line is not UTF-8 text")))?;
                        continue;
                    }
                };
                if line.trim().is_empty() {
                    continue;
                }
                sink(pos(Unit::Line, n), Raw::Json(line))?;
            }
            Ok(())
        }
        Format::Json => {
            let mut de = serde_json::Deserializer::from_reader(reader);
            let mut count = 0;
            let result = StreamSeed {
                sink: &mut |v| {
                    count += 1;
                    sink(pos(Unit::Record, count), v)
                },
            }
            .deserialize(&mut de);
            if let Err(e) = result.and_then(|()| de.end()) {
                if e.is_io() {
                    return Err(io::Error::other(e.to_string()));
                }
                sink(pos(Unit::Record, count + 1), Raw::Error(json_file_error(&e)))?;
            }
            Ok(())
        }
        Format::Yaml => {
            let mut text = String::new();
            let mut reader = reader;
            reader.read_to_string(&mut text)?;
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
                    let first = msg.lines().next().unwrap_or("invalid YAML").to_string();
                    sink(pos(Unit::Record, 1), Raw::Error(format!("cannot read YAML: {first}")))
                }
            }
        }
        Format::Csv => {
            let mut rdr = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(reader);
            let headers: Vec<String> = rdr.headers().map_err(csv_io)?.iter().map(|h| h.trim().to_string()).collect();
            let mut record = csv::StringRecord::new();
            loop {
                match rdr.read_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => {
                        let line = record.position().map_or(0, |p| usize::try_from(p.line()).unwrap_or(0));
                        sink(pos(Unit::Line, line), Raw::Value(csv_object(&headers, &record)))?;
                    }
                    Err(e) => {
                        let line = e.position().map_or(0, |p| usize::try_from(p.line()).unwrap_or(0));
                        if let csv::ErrorKind::Io(_) = e.kind() {
                            return Err(csv_io(e));
                        }
                        sink(pos(Unit::Line, line), Raw::Error(csv_reason(&e)))?;
                    }
                }
            }
            Ok(())
        }
    }
}

fn csv_io(e: csv::Error) -> io::Error {
    io::Error::other(e.to_string())
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("this row has {len} columns, but the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => String::from("the row is not UTF-8 text"),
        _ => String::from("cannot read this CSV row"),
    }
}

/// A CSV row as a record object: `bank.holder_kana` columns become nested objects; empty cells
/// are left out (absent).
fn csv_object(headers: &[String], row: &csv::StringRecord) -> serde_json::Value {
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

/// The reason a JSON line could not be read, without quoting its content.
pub fn json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => String::from("the JSON ends too early: the line is incomplete"),
        Category::Syntax => format!("invalid JSON at column {}", e.column()),
        Category::Data => format!("unexpected JSON data at column {}", e.column()),
        Category::Io => String::from("read error"),
    }
}

/// The reason a JSON file could not be read, with the line and column in the file.
fn json_file_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => String::from("the JSON ends too early: the file is incomplete"),
        Category::Syntax => format!("invalid JSON at line {}, column {}", e.line(), e.column()),
        Category::Data => format!("unexpected JSON data at line {}, column {}", e.line(), e.column()),
        Category::Io => String::from("read error"),
    }
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
        while let Some(v) = seq.next_element::<serde_json::Value>()? {
            (self.sink)(Raw::Value(v)).map_err(A::Error::custom)?;
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        use serde::Deserialize;
        let v = serde_json::Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        (self.sink)(Raw::Value(v)).map_err(A::Error::custom)
    }
}
