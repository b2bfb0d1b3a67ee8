//! The harness of the golden CLI tests: run the real `kensa` binary in a folder and snapshot
//! the command line, the exit code, stdout and stderr together, as a user or a script would
//! see them. Include with `#[path = "common/cli.rs"] mod cli;`.
#![allow(dead_code, reason = "each test file uses part of the harness")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const KENSA: &str = env!("CARGO_BIN_EXE_kensa");
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// What one run of the binary did.
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// What a finished process did (its output must be UTF-8).
    pub fn from_output(args: &[&str], out: std::process::Output) -> Run {
        Run {
            args: args.iter().map(|s| (*s).to_string()).collect(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }

    /// The golden text: command, exit code, then both streams.
    pub fn golden(&self) -> String {
        format!(
            "$ kensa {}\nexit: {}\n----- stdout -----\n{}----- stderr -----\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }
}

/// A fresh, empty working folder for one case, removed when the case ends.
pub struct Workdir(PathBuf);

impl std::ops::Deref for Workdir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn workdir(case: &str) -> Workdir {
    let dir = std::env::temp_dir().join(format!("kensa-cli-{}-{case}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Workdir(dir)
}

pub fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

pub fn run_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut child = Command::new(KENSA)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    Run::from_output(args, child.wait_with_output().unwrap())
}

/// Run from the crate root (for `rules/`, `examples/`, `tests/fixtures/`).
pub fn run(args: &[&str]) -> Run {
    run_in(Path::new(ROOT), args, None)
}

/// Snapshot `r` as `tests/snapshots/<test file>__<case>.snap`.
pub fn golden(case: &str, r: &Run) {
    let name = format!("{}__{case}", env!("CARGO_CRATE_NAME"));
    insta::with_settings!({ omit_expression => true, prepend_module_to_snapshot => false, snapshot_path => "../snapshots" }, {
        insta::assert_snapshot!(name, r.golden());
    });
}

/// A copy of the standard rules in `dir/name`, with `edit` applied to registry.kensa.
pub fn rules_copy(dir: &Path, name: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    let rules = dir.join(name);
    std::fs::create_dir_all(rules.join("tables")).unwrap();
    for f in ["resident.kensa", "tables/prefectures.csv", "tables/family-name-share.csv"] {
        std::fs::copy(format!("{ROOT}/rules/{f}"), rules.join(f)).unwrap();
    }
    let text = std::fs::read_to_string(format!("{ROOT}/rules/registry.kensa")).unwrap();
    std::fs::write(rules.join("registry.kensa"), edit(&text)).unwrap();
    rules
}
