//! Positions in `{"line":N,"error":…}` point where the JSON is broken.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::io::Write;
use std::process::{Command, Stdio};

fn eval(args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kensa"))
        .args(["eval", "--today", "2026-11-27"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
}

#[test]
fn unfinished_jsonl_line_names_a_column_on_that_line() {
    let out = eval(&[], "{\"id\": \"E9\", \"family_name\": \"山田\", \n");
    // got: {"error":"the JSON ends too early at column 0","line":1}
    assert!(!out.contains("column 0"), "{out}");
}

#[test]
fn error_in_a_json_file_names_its_line() {
    let out = eval(&["--input-format", "json"], "[\n{\"id\": \"E1\"},\n{\"id\": ]\n");
    // got: {"error":"invalid JSON at column 8","record":2}
    assert!(out.contains("line 3"), "{out}");
}
