//! `kensa eval` gives byte for byte the output it gave before the evaluator was made faster
//! (issue 20): on the shipped examples, with and without the example registry, and on a
//! generated corpus (benches/common/gen.rs, seed 1, 10% later enrollments of earlier people),
//! alone and against a registry of its first half.
//!
//! The expected outputs were written by the `kensa` binary of commit a2a9ce7, the last commit
//! before the record reader, the registry lookup and the writer changed:
//! `tests/data/identity/*.jsonl` in full for the examples, and for the larger corpus its line
//! count and FNV-1a digest (`*.digest`). A change of output that is intended is written anew
//! with `KENSA_IDENTITY_BIN=path/to/kensa cargo test --test output_identity` (that binary's
//! output becomes the expectation) and explained in its commit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;

use std::path::{Path, PathBuf};

use cli::{ROOT, run};

#[path = "../benches/common/gen.rs"]
#[allow(dead_code, reason = "only the JSONL lines are used")]
mod generator;

const TODAY: &str = "2026-11-27";

fn expected_dir() -> PathBuf {
    Path::new(ROOT).join("tests/data/identity")
}

/// `kensa eval` of `input` (relative to the crate root, or absolute), with `registry` when
/// given: its standard output, from this build or from `KENSA_IDENTITY_BIN`.
fn eval(input: &str, registry: Option<&str>) -> String {
    let mut args = vec!["eval", "--today", TODAY, "--jobs", "2"];
    if let Some(r) = registry {
        args.extend(["--registry", r]);
    }
    args.push(input);
    match std::env::var_os("KENSA_IDENTITY_BIN") {
        Some(bin) => {
            let out = std::process::Command::new(bin).args(&args).current_dir(ROOT).output().unwrap();
            String::from_utf8(out.stdout).unwrap()
        }
        None => {
            let r = run(&args);
            assert!(r.code == 0 || r.code == 1, "kensa eval {args:?} failed: {}", r.stderr);
            r.stdout
        }
    }
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Compare `out` with the expectation `name` (whole text, or count and digest), or write it.
fn expect(name: &str, out: &str, whole: bool) {
    let path = expected_dir().join(if whole { format!("{name}.jsonl") } else { format!("{name}.digest") });
    let summary = format!("{} lines, fnv1a {:016x}\n", out.lines().count(), fnv1a(out));
    if std::env::var_os("KENSA_IDENTITY_BIN").is_some() {
        std::fs::create_dir_all(expected_dir()).unwrap();
        std::fs::write(&path, if whole { out } else { &summary }).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    if whole {
        if let Some((i, (a, b))) = expected.lines().zip(out.lines()).enumerate().find(|(_, (a, b))| a != b) {
            panic!("{name}: line {} differs\nexpected: {a}\n     got: {b}", i + 1);
        }
        assert_eq!(expected.lines().count(), out.lines().count(), "{name}: another number of lines");
        assert_eq!(expected, out, "{name}: the same lines, other line ends");
    } else {
        assert_eq!(
            expected, summary,
            "{name}: the output of the generated corpus changed; write both outputs to files (this build and \
             a build of the commit named in tests/data/identity) and compare them with diff"
        );
    }
}

#[test]
fn shipped_examples_are_judged_as_before() {
    expect("enrollment", &eval("examples/enrollment.jsonl", None), true);
    expect("enrollment-with-registry", &eval("examples/enrollment.jsonl", Some("examples/registry.jsonl")), true);
}

#[test]
fn a_generated_corpus_is_judged_as_before() {
    let dir = std::env::temp_dir().join(format!("kensa-identity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = generator::Config { duplicate_rate: 0.1, ..generator::Config::default() };
    let mut g = generator::Generator::new(1, config);
    let lines: Vec<String> = (0..5000).map(|_| g.line()).collect();
    let write = |name: &str, lines: &[String]| {
        let path = dir.join(name);
        std::fs::write(&path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
        path.to_str().unwrap().to_string()
    };
    let input = write("generated.jsonl", &lines);
    let registry = write("registry.jsonl", lines.get(..2500).unwrap());
    let (plain, with_registry) = (eval(&input, None), eval(&input, Some(&registry)));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(plain.lines().count(), 5000);
    expect("generated-5000", &plain, false);
    expect("generated-5000-with-registry", &with_registry, false);
}
