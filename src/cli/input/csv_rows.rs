//! CSV records, row by row. Lines are joined into one row only while a quote is open, and the
//! values are split as the `csv` crate splits them: a `"` opens a quoted value only at the
//! start of a value, `""` inside one is a `"`, and after the closing quote the value goes on
//! as written. Values are trimmed (Unicode white space, as `csv::Trim::All` does).
//!
//! A quote that is never closed used to swallow every later row. Here it costs one row: when
//! the input ends, or the record limit is reached, with a quote still open — or when the
//! quote closes on a later line in a way a quoted value does not (text right after the closing
//! quote, as when it is really the opening quote of a later row's value), or the row then has
//! the wrong number of columns — the row is an error at the line where it began, naming where
//! the quote opened, and the lines it ran over are read again, each on its own (a quote left open in one of them is an error for that
//! line alone, so no line is read more than twice). Every line is thus a row, part of a row, or
//! part of an error, and the counts reconcile. Memory stays within twice the record limit: a
//! row is never longer than the limit, and the lines read again are those of one row.

use std::collections::VecDeque;
use std::io::{self, BufRead};

use super::{Line, line_too_long, no_line_end, read_line};

/// What the reader hands on.
pub enum Row {
    /// The values of a row that began at `line`.
    Values { line: usize, values: Vec<String> },
    /// A row that cannot be used, reported at the line where it began.
    Error { line: usize, message: String },
    /// The input cannot be read any further: this error, then nothing more.
    Stop { line: usize, message: String },
}

/// One physical line, or why it was not kept.
enum Item {
    Text(Vec<u8>),
    TooLong(usize),
    Endless(usize),
}

pub struct Rows<R> {
    reader: R,
    max: usize,
    /// The number of the next line `reader` gives.
    next: usize,
    /// Lines to read again, one by one, before `reader`: those a failed row ran over.
    again: VecDeque<(usize, Item)>,
    /// The number of values a row must have (the header's), once the header is read.
    columns: Option<usize>,
    ended: bool,
    buf: Vec<u8>,
}

impl<R: BufRead> Rows<R> {
    pub fn new(reader: R, max: usize) -> Rows<R> {
        Rows { reader, max, next: 1, again: VecDeque::new(), columns: None, ended: false, buf: Vec::new() }
    }

    /// From now on, a row must have `columns` values (the header's).
    pub fn expect_columns(&mut self, columns: usize) {
        self.columns = Some(columns);
    }

    /// The next physical line, and whether it is read again.
    fn line(&mut self) -> io::Result<Option<(usize, Item, bool)>> {
        if let Some((n, item)) = self.again.pop_front() {
            return Ok(Some((n, item, true)));
        }
        if self.ended {
            return Ok(None);
        }
        let n = self.next;
        let item = match read_line(&mut self.reader, &mut self.buf, self.max)? {
            Line::End => {
                self.ended = true;
                return Ok(None);
            }
            Line::Text => Item::Text(std::mem::take(&mut self.buf)),
            Line::TooLong(len) => Item::TooLong(len),
            Line::Endless(len) => {
                self.ended = true;
                Item::Endless(len)
            }
        };
        self.next += 1;
        Ok(Some((n, item, false)))
    }

    /// The next row; `None` at the end of the input. Blank lines are not rows.
    pub fn next_row(&mut self) -> io::Result<Option<Row>> {
        let (start, first, again) = loop {
            match self.line()? {
                None => return Ok(None),
                Some((_, Item::Text(t), _)) if t.is_empty() => {}
                Some((n, Item::Text(t), again)) => break (n, t, again),
                Some((line, Item::TooLong(_) | Item::Endless(_), _)) if self.columns.is_none() => {
                    let message = format!(
                        "the header line is larger than the limit of {} bytes, so the file was not read: is this a \
                         CSV file? (if it is, raise the limit: --max-record-bytes)",
                        self.max
                    );
                    return Ok(Some(Row::Stop { line, message }));
                }
                Some((line, Item::TooLong(len), _)) => {
                    return Ok(Some(Row::Error { line, message: line_too_long(len, self.max) }));
                }
                Some((line, Item::Endless(len), _)) => {
                    return Ok(Some(Row::Stop { line, message: no_line_end(len, self.max) }));
                }
            }
        };
        let mut tokens = Tokens::default();
        tokens.feed(start, &first);
        let mut size = first.len();
        // The lines after the first, kept to be read again if the row fails (not after the
        // header: then no row can be read).
        let mut rest: Vec<(usize, Item)> = Vec::new();
        let header = self.columns.is_none();
        while tokens.state == State::Quoted {
            if again {
                let message = unclosed(
                    start,
                    tokens.opened,
                    "on this line (it is read on its own, after a row with an unclosed quote)",
                    Some(0),
                );
                return Ok(Some(Row::Error { line: start, message }));
            }
            let how = match self.line()? {
                None => "before the end of the input",
                Some((n, Item::Text(t), _)) if size + 1 + t.len() <= self.max => {
                    size += 1 + t.len();
                    tokens.current.push(b'\n');
                    tokens.spans_lines = true;
                    tokens.feed(n, &t);
                    rest.push((n, Item::Text(t)));
                    continue;
                }
                Some((n, item, _)) => {
                    rest.push((n, item));
                    "within the limit for a record (--max-record-bytes)"
                }
            };
            let message = unclosed(start, tokens.opened, how, (!header).then_some(rest.len()));
            self.again.extend(rest);
            return Ok(Some(Row::Error { line: start, message }));
        }
        let (opened, stray) = (tokens.opened, tokens.stray);
        let values = tokens.finish();
        let columns = self.columns.filter(|&n| n != values.len()).map(|n| (values.len(), n));
        if !rest.is_empty()
            && let Some(stray) = stray
        {
            let message = closes_late(
                start,
                opened,
                stray,
                "text right after its closing quote",
                (!header).then_some(rest.len()),
            );
            self.again.extend(rest);
            return Ok(Some(Row::Error { line: start, message }));
        }
        if let Some((len, expected)) = columns {
            let message = match rest.last() {
                None => wrong_columns(len, expected),
                Some(&(end, _)) => format!(
                    "this row has {len} columns, but the header has {expected}: {}",
                    closes_late(start, opened, end, "the row running over", Some(rest.len()))
                ),
            };
            self.again.extend(rest);
            return Ok(Some(Row::Error { line: start, message }));
        }
        let mut text = Vec::with_capacity(values.len());
        for (i, v) in values.into_iter().enumerate() {
            match String::from_utf8(v) {
                Ok(s) => text.push(match s.trim() {
                    t if t.len() == s.len() => s,
                    t => t.to_string(),
                }),
                Err(_) => {
                    let message = format!("the row is not UTF-8 text (column {}): save the file as UTF-8", i + 1);
                    return Ok(Some(Row::Error { line: start, message }));
                }
            }
        }
        Ok(Some(Row::Values { line: start, values: text }))
    }
}

const FIX: &str = "close the quote, or write a `\"` that belongs to a value twice (`\"\"`)";

fn wrong_columns(len: usize, expected: usize) -> String {
    format!(
        "this row has {len} columns, but the header has {expected}: a value with a comma must be in quotes \
         (\"1,2\"); an empty value still needs its comma"
    )
}

/// ``a `"` opened at column 7`` (on the row's first line) or ``… at line 4, column 7``.
fn opened_at(start: usize, (line, column): (usize, usize)) -> String {
    if line == start {
        format!("a `\"` opened at column {column}")
    } else {
        format!("a `\"` opened at line {line}, column {column}")
    }
}

/// A quote that closed on a later line, in a way that shows the lines are not one row.
fn closes_late(start: usize, opened: (usize, usize), at: usize, with: &str, read_again: Option<usize>) -> String {
    format!("{} closes only at line {at}, with {with}, {}: {FIX}", opened_at(start, opened), left_out(read_again))
}

fn unclosed(start: usize, opened: (usize, usize), how: &str, read_again: Option<usize>) -> String {
    format!("{} is not closed {how}, {}: {FIX}", opened_at(start, opened), left_out(read_again))
}

/// What became of a row that failed, and of the lines it ran over (`None`: the header, so no
/// row was read).
fn left_out(read_again: Option<usize>) -> String {
    let Some(read_again) = read_again else {
        return String::from("so no row of the file was read");
    };
    match read_again {
        0 => String::from("so this row was left out"),
        1 => String::from("so this row was left out and the line after it was read again as a row of its own"),
        n => format!("so this row was left out and the {n} lines after it were read again as rows of their own"),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
enum State {
    /// At the start of a value.
    #[default]
    Start,
    /// In a value that did not start with a quote (or goes on after its closing quote).
    Plain,
    /// In a quoted value.
    Quoted,
    /// A `"` in a quoted value: its end, or the first half of `""`.
    QuoteInQuoted,
}

/// Splits a row into values, line by line, as `csv_core` does with `,` and `"`.
#[derive(Default)]
struct Tokens {
    values: Vec<Vec<u8>>,
    current: Vec<u8>,
    state: State,
    /// Where the last quote opened: line, and column in characters.
    opened: (usize, usize),
    /// The value being read runs over more than one line.
    spans_lines: bool,
    /// The line where a quote closing a value that runs over lines has text right after it.
    stray: Option<usize>,
}

impl Tokens {
    fn feed(&mut self, line: usize, text: &[u8]) {
        for (i, &b) in text.iter().enumerate() {
            match (self.state, b) {
                (State::Start, b'"') => {
                    self.state = State::Quoted;
                    // Characters before it, counted as UTF-8 lead bytes.
                    let before = text.get(..i).map_or(0, |t| t.iter().filter(|&&c| c & 0xC0 != 0x80).count());
                    self.opened = (line, before + 1);
                }
                (State::Quoted, b'"') => self.state = State::QuoteInQuoted,
                (State::Quoted, _) => self.current.push(b),
                (State::QuoteInQuoted, b'"') => {
                    self.current.push(b'"');
                    self.state = State::Quoted;
                }
                (_, b',') => {
                    self.values.push(std::mem::take(&mut self.current));
                    self.state = State::Start;
                    self.spans_lines = false;
                }
                (State::QuoteInQuoted, _) => {
                    if self.spans_lines && self.stray.is_none() {
                        self.stray = Some(line);
                    }
                    self.current.push(b);
                    self.state = State::Plain;
                }
                (_, _) => {
                    self.current.push(b);
                    self.state = State::Plain;
                }
            }
        }
    }

    fn finish(mut self) -> Vec<Vec<u8>> {
        self.values.push(self.current);
        self.values
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;

    /// The rows of `text` (header expected to have `columns` values): values joined by `|`, or
    /// `! message`.
    fn rows(text: &str, columns: usize, max: usize) -> Vec<String> {
        let mut rows = Rows::new(text.as_bytes(), max);
        rows.expect_columns(columns);
        let mut out = Vec::new();
        while let Some(r) = rows.next_row().unwrap() {
            out.push(match r {
                Row::Values { line, values } => format!("{line}: {}", values.join("|")),
                Row::Error { line, message } | Row::Stop { line, message } => format!("{line}! {message}"),
            });
        }
        out
    }

    #[test]
    fn values_are_split_as_the_csv_crate_splits_them() {
        let text = "a,\"b,c\",\"d\"\"e\"\n x , \"y\" ,z\n\n\"f\"g,h\"i,\n\"multi\nline\",2,3\r\n";
        let got = rows(text, 3, 1 << 20);
        assert_eq!(got, ["1: a|b,c|d\"e", "2: x|\"y\"|z", "4: fg|h\"i|", "5: multi\nline|2|3"]);
        let plain = text.replace('\r', "");
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(plain.as_bytes());
        let want: Vec<String> =
            reader.records().map(|r| r.unwrap().iter().collect::<Vec<_>>().join("|")).collect::<Vec<_>>();
        let got_values: Vec<String> = got.iter().map(|r| r.split_once(": ").unwrap().1.to_string()).collect();
        assert_eq!(got_values, want);
    }

    #[test]
    fn an_unclosed_quote_costs_its_row_and_the_lines_after_it_are_read_again() {
        let got = rows("1,\"a,3\n4,5,6\n7,8,9\n", 3, 1 << 20);
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(
            got[0].starts_with("1! a `\"` opened at column 3 is not closed before the end of the input"),
            "{got:?}"
        );
        assert!(got[0].contains("the 2 lines after it were read again"), "{got:?}");
        assert_eq!(got[1..], ["2: 4|5|6", "3: 7|8|9"]);
        // Read again, a line with an open quote is an error on its own; the line after it is read.
        let got = rows("1,\"a,3\n4,\"5,6\n7,8,9\n", 3, 1 << 20);
        assert!(got[1].starts_with("2! a `\"` opened at column 3 is not closed on this line"), "{got:?}");
        assert_eq!(got[2], "3: 7|8|9");
        // Over the limit: the quote is given up at the limit, and the lines are read again.
        let got = rows("1,\"a,3\n4,5,6\n7,8,9\n", 3, 10);
        assert!(got[0].contains("within the limit for a record"), "{got:?}");
        assert_eq!(got[1..], ["2: 4|5|6", "3: 7|8|9"]);
        // Closed on a later line, with the wrong number of values.
        let got = rows("1,\"a\nb\"\n4,5,6\n", 3, 1 << 20);
        let want = "1! this row has 2 columns, but the header has 3: a `\"` opened at column 3 closes only at line 2";
        assert!(got[0].starts_with(want), "{got:?}");
        assert!(got[1].starts_with("2! this row has 1 columns"), "{got:?}");
        assert_eq!(got[2], "3: 4|5|6");
        // Closed on a later line with text right after the quote: the lines are not one row.
        let got = rows("1,\"a\n\"4\",5,6\n", 3, 1 << 20);
        let want = "1! a `\"` opened at column 3 closes only at line 2, with text right after its closing quote";
        assert!(got[0].starts_with(want), "{got:?}");
        assert_eq!(got[1], "2: 4|5|6");
        // A value over two lines, closed as a quoted value is closed, is one value.
        assert_eq!(rows("1,\"a\nb\",3\n", 3, 1 << 20), ["1: 1|a\nb|3"]);
    }
}
