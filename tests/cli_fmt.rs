//! Golden tests of `kensa fmt`: each case runs the real binary in a fresh folder and snapshots
//! the command line, the exit code, stdout and stderr together
//! (`tests/snapshots/cli_fmt__<case>.snap`), and checks what is on disk afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;

use std::path::Path;

use cli::{ROOT, golden, run_in, workdir, write};

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

const CLEAN: &str = r#"// 最小のルール
schema Minimal { id: text, family_name: text }

rule name.present "氏を入力してください" {
  require not blank(family_name)
  reject
}
"#;

const MESSY: &str = r#"// 最小のルール
schema Minimal {id:text,family_name:text}
rule name.present "氏を入力してください"{
    require not blank( family_name )   // 空白だけも不可
reject  -100 "氏が入力されていません"
}



match {
prior 0.01
block on family_name
compare name=family_name using exact{
same: same m 0.9 u 0.01
other: else m 0.1 u 0.99
}
}
"#;

const BROKEN: &str = r#"schema Minimal { id: text, family_name: text }

rule name.present {
  require family_name == "山田
  reject
}
"#;

#[test]
fn check_on_a_clean_file_exits_0_and_prints_no_diff() {
    let dir = workdir("clean");
    write(&dir, "clean.kensa", CLEAN);
    let r = run_in(&dir, &["fmt", "--check", "clean.kensa"], None);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    golden("check_clean", &r);
}

#[test]
fn check_on_a_messy_file_exits_1_with_a_diff_and_writes_nothing() {
    let dir = workdir("messy");
    write(&dir, "messy.kensa", MESSY);
    let r = run_in(&dir, &["fmt", "--check", "messy.kensa"], None);
    assert_eq!(r.code, 1);
    assert!(r.stdout.starts_with("--- messy.kensa\n+++ messy.kensa (formatted)\n@@ "), "{}", r.stdout);
    assert_eq!(read(&dir, "messy.kensa"), MESSY);
    golden("check_messy", &r);
}

#[test]
fn a_file_with_a_syntax_error_is_reported_and_never_rewritten() {
    let dir = workdir("broken");
    write(&dir, "broken.kensa", BROKEN);
    write(&dir, "messy.kensa", MESSY);
    let r = run_in(&dir, &["fmt", "--check", "broken.kensa"], None);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("kensa::syntax::unclosed_string"), "{}", r.stderr);
    golden("check_syntax_error", &r);
    // Without --check the other file is formatted, the broken one left as it is.
    let r = run_in(&dir, &["fmt", "broken.kensa", "messy.kensa"], None);
    assert_eq!(r.code, 2);
    assert_eq!(read(&dir, "broken.kensa"), BROKEN);
    assert_ne!(read(&dir, "messy.kensa"), MESSY);
    golden("write_syntax_error", &r);
}

#[test]
fn fmt_rewrites_every_rule_file_of_a_folder_in_place() {
    let dir = workdir("write");
    write(&dir, "rules/a.kensa", MESSY);
    write(&dir, "rules/nested/b.kensa", MESSY);
    write(&dir, "rules/clean.kensa", CLEAN);
    write(&dir, "rules/tables/notes.csv", "name\n  spaced  ,\n");
    // No path: `rules/` is formatted.
    let r = run_in(&dir, &["fmt"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    golden("write_folder", &r);
    let formatted = read(&dir, "rules/a.kensa");
    assert_eq!(read(&dir, "rules/nested/b.kensa"), formatted);
    assert_eq!(read(&dir, "rules/clean.kensa"), CLEAN);
    assert_eq!(read(&dir, "rules/tables/notes.csv"), "name\n  spaced  ,\n");
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("write_folder_result", formatted);
    });
    // The result is what --check wants.
    let again = run_in(&dir, &["fmt", "--check", "rules"], None);
    assert_eq!((again.code, again.stdout.as_str()), (0, ""), "{}", again.stderr);
}

#[test]
fn a_missing_path_is_an_error() {
    let dir = workdir("missing");
    let r = run_in(&dir, &["fmt", "--check", "nothing.kensa"], None);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot read `nothing.kensa`"), "{}", r.stderr);
}

#[test]
fn the_shipped_rules_need_no_formatting() {
    let r = run_in(Path::new(ROOT), &["fmt", "--check", "rules/"], None);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    golden("check_shipped_rules", &r);
}
