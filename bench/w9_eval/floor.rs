//! W9's floor: what reading a JSONL file and writing one small JSON line per record costs with
//! no rules at all. Each line is read (a `String` per line, as a straightforward program
//! would), parsed into a `serde_json::Value`, and answered with `{"id":…,"fields":N}` on
//! standard output; one thread. `kensa eval --jobs 1` is measured against this program's CPU
//! time (issue 20: within 2× of it).
//!
//! ```sh
//! cargo build --release --example json_floor
//! target/release/examples/json_floor records.jsonl > /dev/null
//! ```

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: json_floor FILE.jsonl");
        return ExitCode::from(2);
    };
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("json_floor: cannot open `{path}`: {e}");
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let (mut records, mut errors) = (0u64, 0u64);
    for line in BufReader::with_capacity(1 << 16, file).lines() {
        let Ok(line) = line else {
            errors += 1;
            continue;
        };
        if line.trim().is_empty() {
            continue;
        }
        records += 1;
        let answer = match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(serde_json::Value::Object(obj)) => {
                let id = obj.get("id").cloned().unwrap_or(serde_json::Value::Null);
                serde_json::json!({"id": id, "fields": obj.len()})
            }
            Ok(_) | Err(_) => {
                errors += 1;
                serde_json::json!({"error": "not a JSON object"})
            }
        };
        let written = serde_json::to_writer(&mut out, &answer).map_err(std::io::Error::from);
        if written.and_then(|()| out.write_all(b"\n")).is_err() {
            return ExitCode::from(1);
        }
    }
    if out.flush().is_err() {
        return ExitCode::from(1);
    }
    eprintln!("json_floor: {records} records, {errors} errors");
    ExitCode::SUCCESS
}
