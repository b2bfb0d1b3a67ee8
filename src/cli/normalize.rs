//! `kensa normalize KIND`: one output line per input line.

use std::io::{self, BufRead, Write};

use super::exit;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// The kana comparison key.
    Kana,
    /// Bank form (全銀).
    Zengin,
    /// Name key K1 (width fold, spaces collapsed, variation selectors removed).
    Name,
    /// Name key K4 (K1 plus variant kanji folded).
    Variant,
    /// The canonical address key.
    Address,
    /// A date as YYYY-MM-DD (ISO, 和暦, abbreviations).
    Date,
    /// Digits only (full-width folded, spaces and hyphens removed).
    Digits,
    /// A postal code as 7 digits.
    Postal,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(value_enum)]
    kind: Kind,
    /// Write one JSON object per line with the parts (for `address`: prefecture, municipality,
    /// town, 丁目, 番, 号, building, key); a line that cannot be normalized gives `null`.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> u8 {
    let stdin = io::stdin();
    let stdout = io::stdout();
    // A filter: its output is the input normalized, and kept as it is for the next program;
    // on a terminal, control characters and bidi overrides are shown escaped (as `ls` does).
    let terminal = io::IsTerminal::is_terminal(&stdout);
    let mut out = io::BufWriter::new(stdout.lock());
    let mut failed = 0usize;
    for (i, line) in stdin.lock().lines().enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(_) => {
                say!("line {}: not UTF-8 text", i + 1);
                failed += 1;
                if writeln!(out).is_err() {
                    return exit::OK;
                }
                continue;
            }
        };
        let line = line.strip_suffix('\r').unwrap_or(&line);
        let result = if args.json {
            kensa::internal::normalize_json(kind_name(args.kind), line).map(|v| v.to_string())
        } else {
            kensa::internal::normalize(kind_name(args.kind), line)
        };
        let text = match result {
            Ok(s) => s,
            Err(reason) => {
                say!("line {}: {reason}", i + 1);
                failed += 1;
                if args.json { String::from("null") } else { String::new() }
            }
        };
        let text = if terminal { kensa::internal::escape_controls(&text) } else { text.into() };
        if writeln!(out, "{text}").is_err() {
            return exit::OK;
        }
    }
    if out.flush().is_err() {
        return exit::OK;
    }
    if failed > 0 { exit::SOME_FAILED } else { exit::OK }
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Kana => "kana",
        Kind::Zengin => "zengin",
        Kind::Name => "name",
        Kind::Variant => "variant",
        Kind::Address => "address",
        Kind::Date => "date",
        Kind::Digits => "digits",
        Kind::Postal => "postal",
    }
}
