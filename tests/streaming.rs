//! kensa as a helper process: an application starts `kensa eval -` or `kensa enroll -` with
//! pipes, writes one record, and waits for its answer before writing the next. Each test talks
//! to the real binary that way; a kensa that waited for more input (or for the end of it)
//! before answering fails on a timeout instead of hanging the test run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use cli::{KENSA, workdir};

/// How long an answer may take: a guard against a kensa that never answers, not a speed test.
const PATIENCE: Duration = Duration::from_secs(30);

/// Accepted by the standard rules on the test's date.
const ACCEPTED: &str = r#"{"id": "E00473", "my_number": "955162365177", "family_name": "工藤", "given_name": "直美", "family_name_kana": "クドウ", "given_name_kana": "ナオミ", "birth_date": "1945-12-09", "sex": "female", "postal_code": "420-0853", "address": "静岡県静岡市葵区追手町1番14号", "bank": {"bank_code": "4144", "branch_code": "394", "account_type": "ordinary", "account_number": "5485665", "holder_kana": "ｸﾄﾞｳ ﾅｵﾐ"}}"#;

/// The same person as [`ACCEPTED`], applying again under another id.
const SAME_PERSON: &str = r#"{"id": "E90473", "my_number": "955162365177", "family_name": "工藤", "given_name": "直美", "family_name_kana": "クドウ", "given_name_kana": "ナオミ", "birth_date": "1945-12-09", "sex": "female", "postal_code": "420-0853", "address": "静岡県静岡市葵区追手町1番14号", "bank": {"bank_code": "4144", "branch_code": "394", "account_type": "ordinary", "account_number": "5485665", "holder_kana": "ｸﾄﾞｳ ﾅｵﾐ"}}"#;

/// Sent to review: the bank account holder is someone else.
const REVIEWED: &str = r#"{"id": "E00411", "my_number": "125346147420", "family_name": "村田", "given_name": "誠", "family_name_kana": "ムラタ", "given_name_kana": "マコト", "birth_date": "1978-10-20", "sex": "male", "postal_code": "730-0011", "address": "広島県広島市中区基町2番15号", "bank": {"bank_code": "6196", "branch_code": "550", "account_type": "ordinary", "account_number": "5892262", "holder_kana": "ｻﾜﾀﾞ ｸﾐｺ"}}"#;

/// A running `kensa` with its standard input and output in the test's hands.
struct Helper {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Helper {
    fn start(args: &[&str]) -> Helper {
        let mut child = Command::new(KENSA)
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if tx.send(line.unwrap()).is_err() {
                    break;
                }
            }
        });
        let mut err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            err.read_to_string(&mut text).unwrap();
            text
        });
        Helper { child, stdin, lines, stderr: Some(stderr) }
    }

    /// Write one line and wait for the one line that answers it.
    fn ask(&mut self, line: &str) -> serde_json::Value {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
        match self.lines.recv_timeout(PATIENCE) {
            Ok(answer) => serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: {answer}")),
            Err(RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                panic!("no answer within {PATIENCE:?} to a record written to kensa's standard input");
            }
            Err(RecvTimeoutError::Disconnected) => {
                let _ = self.child.wait();
                panic!("kensa closed its output without answering; stderr: {}", self.finish_stderr());
            }
        }
    }

    /// What kensa wrote to stderr, once it has closed it.
    fn finish_stderr(&mut self) -> String {
        self.stderr.take().map(|h| h.join().unwrap()).unwrap_or_default()
    }

    /// Close kensa's standard input: its exit code and stderr, after checking that nothing
    /// more was written to its output.
    fn close(mut self) -> (i32, String) {
        drop(self.stdin.take());
        let waited = std::sync::mpsc::channel::<()>();
        let mut child = self.child;
        let guard = std::thread::spawn(move || {
            if waited.1.recv_timeout(PATIENCE).is_err() {
                let _ = child.kill();
            }
            child.wait().unwrap()
        });
        let rest: Vec<String> = self.lines.iter().collect();
        let _ = waited.0.send(());
        let status = guard.join().unwrap();
        assert!(rest.is_empty(), "lines after the last answer: {rest:?}");
        (status.code().unwrap_or(-1), self.stderr.take().map(|h| h.join().unwrap()).unwrap_or_default())
    }
}

fn rules_fired(v: &serde_json::Value) -> Vec<&str> {
    v["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect()
}

#[test]
fn eval_answers_each_line_of_a_pipe_before_the_next_is_written() {
    let mut kensa = Helper::start(&["eval", "--today", "2026-11-27", "-"]);

    let a = kensa.ask(ACCEPTED);
    assert_eq!((a["id"].as_str(), a["decision"].as_str()), (Some("E00473"), Some("accept")), "{a}");

    let bad = kensa.ask(r#"{"id": "E1", "family_name": "#);
    assert_eq!(bad["line"], 2, "{bad}");
    assert!(bad["error"].as_str().unwrap().starts_with("the JSON ends too early"), "{bad}");

    let r = kensa.ask(REVIEWED);
    assert_eq!((r["id"].as_str(), r["decision"].as_str()), (Some("E00411"), Some("review")), "{r}");
    assert_eq!(rules_fired(&r), ["bank.holder_is_registrant"]);

    let not_json = kensa.ask("not a record");
    assert_eq!(not_json["line"], 4, "{not_json}");

    let (code, stderr) = kensa.close();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.ends_with("4 records: 1 accept, 1 review, 0 reject, 2 errors\n"), "{stderr}");
}

#[test]
fn eval_streams_the_other_output_formats_too() {
    // The table: one row per record, under the header written with the first.
    let mut kensa = Helper::start(&["eval", "--today", "2026-11-27", "--format", "table", "-"]);
    let stdin = kensa.stdin.as_mut().unwrap();
    writeln!(stdin, "{ACCEPTED}").unwrap();
    stdin.flush().unwrap();
    let header = kensa.lines.recv_timeout(PATIENCE).unwrap();
    assert!(header.starts_with("LINE  ID"), "{header}");
    let row = kensa.lines.recv_timeout(PATIENCE).unwrap();
    assert!(row.starts_with("1     E00473  accept"), "{row}");
    let (code, _) = kensa.close();
    assert_eq!(code, 0);

    // A JSON array: each element is written and flushed as it is judged; the array closes at
    // the end of the input. (Each element ends where the next one, or the `]`, begins.)
    let mut kensa = Helper::start(&["eval", "--today", "2026-11-27", "--format", "json", "-"]);
    let stdin = kensa.stdin.as_mut().unwrap();
    writeln!(stdin, "{REVIEWED}").unwrap();
    stdin.flush().unwrap();
    assert_eq!(kensa.lines.recv_timeout(PATIENCE).unwrap(), "[");
    writeln!(kensa.stdin.as_mut().unwrap(), "{ACCEPTED}").unwrap();
    let first = kensa.lines.recv_timeout(PATIENCE).unwrap();
    let first: serde_json::Value = serde_json::from_str(first.trim_end_matches(',')).unwrap();
    assert_eq!(first["id"], "E00411");
    drop(kensa.stdin.take());
    let second = kensa.lines.recv_timeout(PATIENCE).unwrap();
    assert!(second.starts_with(r#"{"id":"E00473","decision":"accept""#), "{second}");
    assert_eq!(kensa.lines.recv_timeout(PATIENCE).unwrap(), "]");
    let (code, stderr) = kensa.close();
    assert_eq!(code, 0);
    assert!(stderr.ends_with("2 records: 1 accept, 1 review, 0 reject, 0 errors\n"), "{stderr}");
}

#[test]
fn enroll_answers_each_record_as_soon_as_it_is_committed() {
    let dir = workdir("streaming-enroll");
    let db = dir.join("registry.db");
    let mut kensa = Helper::start(&["enroll", "--today", "2026-11-27", "--db", db.to_str().unwrap(), "-"]);

    let first = kensa.ask(ACCEPTED);
    assert_eq!((first["id"].as_str(), first["decision"].as_str()), (Some("E00473"), Some("accept")), "{first}");
    assert_eq!(first["enrolled"], true, "{first}");

    let bad = kensa.ask("{bad");
    assert_eq!(bad["line"], 2, "{bad}");
    assert!(bad["error"].as_str().unwrap().starts_with("invalid JSON"), "{bad}");

    // The same person under another id sees the enrollment just answered.
    let again = kensa.ask(SAME_PERSON);
    assert_eq!((again["id"].as_str(), again["enrolled"].as_bool()), (Some("E90473"), Some(false)), "{again}");
    assert_ne!(again["decision"], "accept", "{again}");
    assert!(rules_fired(&again).contains(&"registry.already_enrolled"), "{again}");
    assert_eq!(again["findings"][0]["related"], serde_json::json!(["E00473"]), "{again}");

    // And the first record, sent twice, is not stored twice.
    let twice = kensa.ask(ACCEPTED);
    assert_eq!((twice["enrolled"].as_bool(), twice["already_stored"].as_bool()), (Some(false), Some(true)), "{twice}");

    let (code, stderr) = kensa.close();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.ends_with("4 records: 1 enrolled, 1 accept, 2 review, 0 reject, 1 errors\n"), "{stderr}");
}
