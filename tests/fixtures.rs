//! Language fixtures (ruff's parser-fixture contract):
//!
//! - every `tests/fixtures/ok/*.kensa` compiles with zero diagnostics, warnings included;
//! - every `tests/fixtures/err/*.kensa` yields at least one diagnostic, and the rendered
//!   diagnostics (plain text, exactly as `kensa check` prints them) are snapshotted, one
//!   snapshot per file (`tests/snapshots/fixtures__err__<name>.snap`).
//!
//! Adding a file adds a case. Err fixtures are named after the code they show
//! (`check_unknown_field_….kensa` must report `kensa::check::unknown_field`), and every
//! diagnostic code that a rule file can trigger must be shown by some err fixture.
//! Files under `ok/include/` and `ok/tables/` are helpers, not cases.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::{Path, PathBuf};

/// The `*.kensa` files directly in a fixture folder, as paths relative to the crate root (so
/// that rendered diagnostics name them the same way on every machine).
fn fixtures(folder: &str) -> Vec<PathBuf> {
    let dir = Path::new("tests/fixtures").join(folder);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "kensa") && p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

/// Run `case` for every file and report every failing file at once (a failing snapshot does
/// not hide the others).
fn each(files: &[PathBuf], case: impl Fn(&Path) + std::panic::RefUnwindSafe) {
    let failed: Vec<String> = files
        .iter()
        .filter(|f| std::panic::catch_unwind(|| case(f)).is_err())
        .map(|f| f.display().to_string())
        .collect();
    assert!(failed.is_empty(), "{} fixture(s) failed:\n  {}", failed.len(), failed.join("\n  "));
}

#[test]
fn ok_fixtures_compile_without_any_diagnostic() {
    // Guard against running from elsewhere: relative paths must resolve.
    assert!(Path::new("tests/fixtures/ok").is_dir(), "tests must run from the crate root");
    each(&fixtures("ok"), |path| {
        let report = kensa::check_path(path);
        assert!(report.diagnostics.is_empty(), "{} has diagnostics:\n{}", path.display(), report.render());
        let engine = kensa::Engine::from_path(path)
            .unwrap_or_else(|e| panic!("{} does not compile:\n{}", path.display(), e.render()));
        assert!(engine.warnings().is_empty(), "{}: {}", path.display(), engine.report().render());
        assert!(engine.rule_ids().count() > 0, "{} has no rules", path.display());
    });
}

#[test]
fn ok_folder_loads_as_one_rule_set_per_file() {
    // The richest fixture uses every kind of item; it must keep its rules in source order.
    let engine = kensa::Engine::from_path("tests/fixtures/ok/full_language.kensa").unwrap();
    let ids: Vec<&str> = engine.rule_ids().collect();
    assert_eq!(ids.first(), Some(&"my_number.length"));
    assert_eq!(ids.last(), Some(&"birth_date.adult"));
    assert_eq!(ids.len(), 15, "{ids:?}");
}

#[test]
fn err_fixtures_report_diagnostics() {
    each(&fixtures("err"), |path| {
        let report = kensa::check_path(path);
        assert!(!report.diagnostics.is_empty(), "{} has no diagnostic", path.display());
        let name = stem(path);
        let rendered = report.render();
        insta::with_settings!({
            description => format!("kensa check {}", path.display()),
            omit_expression => true,
            prepend_module_to_snapshot => true,
        }, {
            insta::assert_snapshot!(format!("err__{name}"), rendered);
        });
    });
}

#[test]
fn err_fixtures_report_the_code_they_are_named_after() {
    let codes: Vec<&str> = kensa::internal::diagnostic_codes().into_iter().map(|(c, _)| c).collect();
    each(&fixtures("err"), |path| {
        let name = stem(path);
        let report = kensa::check_path(path);
        let found: Vec<&str> = report.diagnostics.iter().map(|d| d.code.as_str()).collect();
        if name.ends_with("multiple_errors") {
            assert!(found.len() >= 3, "{name}: only {found:?}");
            let errors = report.errors();
            assert!(errors >= 3, "{name}: only {errors} error(s)");
            return;
        }
        // `check_type_mismatch_date_text` → `kensa::check::type_mismatch`.
        let (phase, rest) = name.split_once('_').unwrap();
        let wanted = format!("kensa::{phase}::{rest}");
        let code = codes
            .iter()
            .filter(|c| wanted == **c || wanted.starts_with(&format!("{c}_")))
            .max_by_key(|c| c.len())
            .unwrap_or_else(|| panic!("{name}: no diagnostic code matches the file name"));
        assert!(found.contains(code), "{name}: expected {code}, found {found:?}");
    });
}

#[test]
fn err_diagnostics_are_in_source_order() {
    each(&fixtures("err"), |path| {
        let report = kensa::check_path(path);
        let starts: Vec<(u32, u32)> =
            report.diagnostics.iter().filter_map(|d| d.primary_span()).map(|s| (s.file.0, s.start)).collect();
        let mut sorted = starts.clone();
        sorted.sort_unstable();
        assert_eq!(starts, sorted, "{}", path.display());
    });
}

/// Codes that no committed rule file can trigger: they concern the path given on the command
/// line or what a file is, or are reported under another code.
const NOT_FROM_A_FILE: &[&str] = &[
    "kensa::load::not_found",
    "kensa::load::unreadable",
    "kensa::load::empty",
    // A named pipe or a rule file over 4 MiB, which a repository does not hold:
    // `tests/hostile.rs` makes them.
    "kensa::load::not_a_file",
    "kensa::load::too_large",
    // `=` for `==` is parsed and reported by the checker as `kensa::check::single_equals`.
    "kensa::syntax::single_equals",
    // Needs a rule set of more than 20,000 items: generated by tests/hardening.rs
    // (`a_rule_set_of_more_than_20000_items_is_refused_before_it_is_checked`).
    "kensa::syntax::too_many_items",
];

/// Codes of the registry `match` block, which was still being written when these fixtures
/// were; each needs an err fixture (then remove it from this list).
const NO_FIXTURE_YET: &[&str] = &[];

#[test]
fn every_diagnostic_code_has_an_err_fixture() {
    let mut shown = std::collections::HashSet::new();
    for path in fixtures("err") {
        for d in kensa::check_path(&path).diagnostics {
            shown.insert(d.code.as_str());
        }
    }
    let missing: Vec<&str> = kensa::internal::diagnostic_codes()
        .into_iter()
        .map(|(c, _)| c)
        .filter(|c| !shown.contains(c) && !NOT_FROM_A_FILE.contains(c) && !NO_FIXTURE_YET.contains(c))
        .collect();
    assert!(missing.is_empty(), "no err fixture shows: {missing:?}");
    let done: Vec<&&str> = NO_FIXTURE_YET.iter().filter(|c| shown.contains(**c)).collect();
    assert!(done.is_empty(), "these now have a fixture; remove them from NO_FIXTURE_YET: {done:?}");
}

#[test]
fn multiple_errors_are_all_reported_in_one_run() {
    let report = kensa::check_path(Path::new("tests/fixtures/err/check_multiple_errors.kensa"));
    let codes: Vec<&str> = report.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "kensa::check::unknown_name",
            "kensa::check::unknown_variant",
            "kensa::check::type_mismatch",
            "kensa::check::penalty_range",
            "kensa::check::unknown_field",
            "kensa::check::invalid_regex",
            "kensa::check::bad_template",
            "kensa::check::missing_outcome",
            "kensa::check::unknown_rule",
            "kensa::check::unreachable_arm",
        ]
    );
    let report = kensa::check_path(Path::new("tests/fixtures/err/syntax_multiple_errors.kensa"));
    let lines: Vec<usize> = report
        .diagnostics
        .iter()
        .map(|d| {
            let s = d.primary_span().unwrap();
            let text = &report.sources.get(s.file).unwrap().text;
            text[..s.start as usize].matches('\n').count() + 1
        })
        .collect();
    assert_eq!(lines, [17, 21, 25, 29], "{}", report.render());
}

#[test]
fn rule_path_that_does_not_exist() {
    let report = kensa::check_path(Path::new("tests/fixtures/no-such-rules"));
    assert_eq!(report.errors(), 1);
    insta::assert_snapshot!(report.render(), @r"
    kensa::load::not_found

      × cannot open rules at `tests/fixtures/no-such-rules`: no such file or folder
      help: give the folder that holds the `.kensa` files, e.g. `--rules rules/`
    ");
    let err = kensa::Engine::from_path("tests/fixtures/no-such-rules").unwrap_err();
    assert_eq!(err.diagnostics()[0].code.as_str(), "kensa::load::not_found");
}

#[test]
fn rule_folder_without_rule_files() {
    // A directory load only reads `*.kensa`; the table folder has none.
    let report = kensa::check_path(Path::new("tests/fixtures/ok/tables"));
    insta::assert_snapshot!(report.render(), @r"
    kensa::load::empty

      × no `.kensa` files in `tests/fixtures/ok/tables`
      help: rule files must have names ending in `.kensa`
    ");
}

#[test]
fn compile_error_lists_only_errors_in_display() {
    let err = kensa::Engine::from_path("tests/fixtures/err/check_multiple_errors.kensa").unwrap_err();
    let shown = err.to_string();
    assert!(shown.starts_with("the rule set has 9 error(s)"), "{shown}");
    assert!(!shown.contains("unreachable_arm"), "warnings are not errors: {shown}");
    assert_eq!(err.diagnostics().len(), 10);
}

#[test]
fn warnings_alone_do_not_stop_compilation() {
    for name in ["check_unused_binding", "check_shadowing", "check_never_fires"] {
        let path = format!("tests/fixtures/err/{name}.kensa");
        let engine = kensa::Engine::from_path(&path).unwrap_or_else(|e| panic!("{name}: {}", e.render()));
        assert!(!engine.warnings().is_empty(), "{name}");
        assert!(engine.warnings().iter().all(|d| !d.is_error()), "{name}");
    }
}
