//! `kensa test`: golden runs of the binary on small suites (pass, fail, skip, YAML errors,
//! compile-fail cases, JSON, JUnit, coverage), and the shipped suites through the same path
//! as CI (`kensa test --min-coverage 100`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;

use cli::{Run, golden, run, run_in, workdir, write};

/// The timings in a run's output, replaced so that snapshots are stable.
fn stable(mut r: Run) -> Run {
    let secs = regex::Regex::new(r"\d+\.\d+s\b").unwrap();
    r.stderr = secs.replace_all(&r.stderr, "[time]").into_owned();
    r
}

const VALID: &str = r#"{"id": "T1", "my_number": "463760444596", "family_name": "柴田", "given_name": "真由美", "family_name_kana": "シバタ", "given_name_kana": "マユミ", "birth_date": "1973-09-16", "sex": "female", "postal_code": "260-0855", "address": "千葉県千葉市中央区市場町22番8号"}"#;
const BAD_DIGIT: &str = r#"{"id": "T2", "my_number": "463760444597", "family_name": "柴田", "given_name": "真由美", "family_name_kana": "シバタ", "given_name_kana": "マユミ", "birth_date": "1973-09-16", "sex": "female", "postal_code": "260-0855", "address": "千葉県千葉市中央区市場町22番8号"}"#;

fn suite(cases: &str) -> String {
    format!("today: 2026-11-27\ncases:\n{cases}")
}

fn passing() -> String {
    suite(&format!(
        "  - name: a valid resident is accepted
    record: {VALID}
    expect:
      decision: accept
      score: 100
      not_fires: [my_number.check_digit]
  - name: a wrong check digit is rejected
    record: {BAD_DIGIT}
    expect:
      decision: reject
      score: {{max: 50}}
      fires: [my_number.check_digit]
      findings:
        - rule: my_number.check_digit
          severity: reject
          fields: [my_number]
"
    ))
}

#[test]
fn passing_suite() {
    let dir = workdir("test-pass");
    write(&dir, "suites/ok.yaml", &passing());
    let r = stable(run_in(&dir, &["test", "suites"], None));
    assert_eq!(r.code, 0);
    assert!(r.stdout.ends_with("2 passed, 0 failed, 0 skipped\n"), "{}", r.stdout);
    golden("pass", &r);
}

#[test]
fn failing_cases_show_expected_and_got() {
    let dir = workdir("test-fail");
    let text = suite(&format!(
        "  - name: expects the wrong decision
    record: {BAD_DIGIT}
    expect:
      decision: accept
      score: {{min: 90}}
      not_fires: [my_number.check_digit]
      findings:
        - rule: my_number.check_digit
          fields: [family_name]
  - name: names a rule that does not exist
    record: {VALID}
    expect:
      fires: [my_number.chek_digit]
  - name: still passes
    record: {VALID}
    expect:
      decision: accept
"
    ));
    write(&dir, "fail.yaml", &text);
    let r = stable(run_in(&dir, &["test", "fail.yaml"], None));
    assert_eq!(r.code, 1);
    assert!(r.stdout.ends_with("1 passed, 2 failed, 0 skipped\n"), "{}", r.stdout);
    assert!(r.stdout.contains("did you mean `my_number.check_digit`?"), "{}", r.stdout);
    golden("fail", &r);
}

#[test]
fn skipped_cases_need_a_reason() {
    let dir = workdir("test-skip");
    let text = suite(&format!(
        "  - name: waits for the new table
    skip: the 2027 postal table is not out yet
    record: {VALID}
    expect:
      decision: review
  - name: runs
    record: {VALID}
    expect:
      decision: accept
"
    ));
    write(&dir, "skip.yaml", &text);
    let r = stable(run_in(&dir, &["test", "skip.yaml"], None));
    assert_eq!(r.code, 0);
    golden("skip", &r);

    let no_reason = text.replace("the 2027 postal table is not out yet", "\"\"");
    write(&dir, "skip.yaml", &no_reason);
    let r = stable(run_in(&dir, &["test", "skip.yaml"], None));
    assert_eq!(r.code, 2, "a suite that cannot be read is unusable input");
    golden("skip_without_reason", &r);
}

#[test]
fn yaml_errors_point_into_the_suite() {
    let dir = workdir("test-yaml");
    // An unknown key (a typo), then bad indentation.
    write(&dir, "typo.yaml", &passing().replace("not_fires:", "not_fire:"));
    write(
        &dir,
        "indent.yaml",
        &suite(&format!("  - name: misaligned\n    record: {VALID}\n   expect:\n      decision: accept\n")),
    );
    write(&dir, "type.yaml", &passing().replace("score: 100", "score: high"));
    let r = stable(run_in(&dir, &["test", "typo.yaml", "indent.yaml", "type.yaml"], None));
    assert_eq!(r.code, 2, "a suite that cannot be read is unusable input");
    assert!(r.stderr.contains("typo.yaml:"), "{}", r.stderr);
    assert!(r.stderr.contains("indent.yaml:"), "{}", r.stderr);
    assert!(r.stderr.contains("type.yaml:"), "{}", r.stderr);
    golden("yaml_errors", &r);
}

#[test]
fn rule_files_that_must_not_compile() {
    let dir = workdir("test-diagnostics");
    let rules = "schema S { id: text, name: text }\nrule name.present {\n  require not blank(name)\n  reject\n}\n";
    write(&dir, "broken.kensa", &rules.replace("blank(name)", "blank(nmae)"));
    write(&dir, "fine.kensa", rules);
    write(
        &dir,
        "d.yaml",
        "cases:
  - name: an unknown name is caught
    rules: broken.kensa
    expect: {diagnostics: [kensa::check::unknown_name]}
  - name: expects an error that is not there
    rules: fine.kensa
    expect: {diagnostics: [kensa::check::unknown_name]}
  - name: expects another code
    rules: broken.kensa
    expect: {diagnostics: [kensa::check::type_mismatch]}
",
    );
    let r = stable(run_in(&dir, &["test", "d.yaml"], None));
    assert_eq!(r.code, 1);
    assert!(r.stdout.ends_with("1 passed, 2 failed, 0 skipped\n"), "{}", r.stdout);
    golden("diagnostics", &r);
}

#[test]
fn json_and_junit_reports() {
    let dir = workdir("test-json");
    let text = passing().replace("decision: accept\n      score: 100", "decision: review");
    write(&dir, "s.yaml", &text);
    let r = stable(run_in(&dir, &["test", "--format", "json", "--junit", "junit.xml", "s.yaml"], None));
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!((v["passed"].as_u64(), v["failed"].as_u64()), (Some(1), Some(1)));
    assert_eq!(v["suites"][0]["cases"][0]["status"], "failed");
    assert_eq!(v["suites"][0]["cases"][0]["got"]["decision"], "accept");
    golden("json", &r);
    let xml = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    let xml = regex::Regex::new(r#"time="[0-9.]+""#).unwrap().replace_all(&xml, r#"time="[t]""#).into_owned();
    assert!(xml.contains("<failure"), "{xml}");
    insta::assert_snapshot!("junit", xml);
}

#[test]
fn filter_and_coverage() {
    let dir = workdir("test-coverage");
    write(&dir, "s.yaml", &passing());
    let r = stable(run_in(
        &dir,
        &["test", "--filter", "check digit", "--coverage", "--min-coverage", "90", "s.yaml"],
        None,
    ));
    // One case ran; most rules were never reached either way.
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("1 passed, 0 failed"), "{}", r.stdout);
    assert!(r.stderr.contains("is below --min-coverage 90%"), "{}", r.stderr);
    golden("coverage", &r);
}

/// The shipped suites reach every rule of the standard set both ways, as `.ci/run` demands.
#[test]
fn shipped_suites_pass_with_full_coverage() {
    let r = run(&["test", "--min-coverage", "100"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains(" 0 failed"), "{}", r.stdout);
}

/// A suite's `base` record and each case's `with` (a JSON merge patch): a case with neither
/// tests the base, `with` changes fields, `null` removes one, objects merge key by key.
#[test]
fn base_record_with_changes() {
    let dir = workdir("test-base");
    let text = format!(
        "today: 2026-11-27
base: {VALID}
cases:
  - name: the base itself is accepted
    expect: {{decision: accept, score: 100}}
  - name: a wrong check digit
    with: {{my_number: \"463760444597\"}}
    expect: {{decision: reject, fires: [my_number.check_digit]}}
  - name: no family name
    with: {{family_name: null}}
    expect: {{fires: [schema.required], not_fires: [my_number.check_digit]}}
  - name: a bank account, merged into the base
    with: {{bank: {{bank_code: \"0005\", branch_code: \"123\", account_type: ordinary, account_number: \"1234567\", holder_kana: ｼﾊﾞﾀ ﾏﾕﾐ}}}}
    expect: {{decision: accept, not_fires: [bank.holder_is_registrant]}}
  - name: a whole record still works
    record: {BAD_DIGIT}
    expect: {{decision: reject}}
"
    );
    write(&dir, "base.yaml", &text);
    let r = stable(run_in(&dir, &["test", "base.yaml"], None));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.ends_with("5 passed, 0 failed, 0 skipped\n"), "{}", r.stdout);

    // `with` changes the base: the same expectation fails without the change.
    write(&dir, "base.yaml", &text.replace("with: {my_number: \"463760444597\"}", "with: {}"));
    let r = stable(run_in(&dir, &["test", "base.yaml"], None));
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("FAIL a wrong check digit (base.yaml:6)"), "{}", r.stdout);
}

/// `with` needs a `base`: the error names the suite file and points at the case.
#[test]
fn with_without_base_is_an_error() {
    let dir = workdir("test-with-no-base");
    write(
        &dir,
        "nobase.yaml",
        &suite(
            "  - name: fine\n    record: {\"id\": \"T1\"}\n    expect: {decision: reject}\n  - name: changes nothing\n    with: {family_name: 山田}\n    expect: {decision: accept}\n",
        ),
    );
    let r = stable(run_in(&dir, &["test", "nobase.yaml"], None));
    assert_eq!(r.code, 2, "a suite that cannot be read is unusable input");
    assert!(r.stderr.contains("nobase.yaml:6"), "{}", r.stderr);
    assert!(r.stderr.contains("the suite has no `base`"), "{}", r.stderr);
    assert!(r.stderr.contains("- name: changes nothing"), "{}", r.stderr);
    golden("with_without_base", &r);
}

/// A suite that cannot be read is an `<error>` in the JUnit report naming the file, line and
/// column, next to the suites that ran; failing cases carry their file and line.
#[test]
fn junit_reports_broken_suites_and_case_lines() {
    let dir = workdir("test-junit-broken");
    write(&dir, "a_broken.yaml", &passing().replace("not_fires:", "not_fire:"));
    write(&dir, "b_fails.yaml", &passing().replace("decision: accept\n      score: 100", "decision: review"));
    let r = stable(run_in(&dir, &["test", "--junit", "junit.xml", "a_broken.yaml", "b_fails.yaml"], None));
    assert_eq!(r.code, 2, "a suite that cannot be read is unusable input");
    let xml = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    let xml = regex::Regex::new(r#"time="[0-9.]+""#).unwrap().replace_all(&xml, r#"time="[t]""#).into_owned();
    assert!(xml.contains(r#"<testsuite name="a_broken.yaml" tests="1" skipped="0" errors="1""#), "{xml}");
    assert!(xml.contains("a_broken.yaml:8:7: unknown field `not_fire`"), "{xml}");
    assert!(xml.contains(r#"file="b_fails.yaml" line="3""#), "{xml}");
    assert!(xml.contains(r#"message="b_fails.yaml:3: decision: expected review, got accept""#), "{xml}");
    insta::assert_snapshot!("junit_broken", xml);
    // The terminal report counts it as a suite that could not run, once.
    assert!(r.stdout.ends_with("1 passed, 1 failed, 0 skipped; 1 of 2 suites could not run\n"), "{}", r.stdout);
}

/// `--coverage-of`: coverage (and `--min-coverage`) over the local rules only, chosen by the
/// start of their ids or by the rule file declaring them; the report says which rules it
/// measured. A value that names no rule the suites use is a usage error (exit 2).
#[test]
fn coverage_of_local_rules() {
    let dir = workdir("test-coverage-of");
    write(
        &dir,
        "rules/base.kensa",
        "schema S { id: text, name: text, kana: text }\nrule std.name_present {\n  require not blank(name)\n  reject\n}\n",
    );
    write(&dir, "rules/local.kensa", "rule local.kana_present {\n  require not blank(kana)\n  review\n}\n");
    write(
        &dir,
        "local.yaml",
        "rules: rules
base: {id: A1, name: 山田, kana: ヤマダ}
cases:
  - name: complete
    expect: {decision: accept}
  - name: no kana
    with: {kana: \"\"}
    expect: {decision: review, fires: [local.kana_present]}
",
    );
    // All rules: `std.name_present` never fires here.
    let r = stable(run_in(&dir, &["test", "--min-coverage", "100", "local.yaml"], None));
    assert_eq!(r.code, 1, "{}", r.stderr);

    let by_prefix =
        stable(run_in(&dir, &["test", "--coverage-of", "local.", "--min-coverage", "100", "local.yaml"], None));
    assert_eq!(by_prefix.code, 0, "{}", by_prefix.stderr);
    assert!(by_prefix.stdout.contains("(rules whose id starts with `local.`): 2 of 2 ways"), "{}", by_prefix.stdout);
    assert!(!by_prefix.stdout.contains("std.name_present"), "{}", by_prefix.stdout);
    golden("coverage_of_prefix", &by_prefix);

    let by_file = stable(run_in(
        &dir,
        &["test", "--coverage-of", "rules/local.kensa", "--min-coverage", "100", "--format", "json", "local.yaml"],
        None,
    ));
    assert_eq!(by_file.code, 0, "{}", by_file.stderr);
    let v: serde_json::Value = serde_json::from_str(&by_file.stdout).unwrap();
    assert_eq!(v["coverage"]["measured"], "rules declared in `rules/local.kensa`");
    assert_eq!(v["coverage"]["percent"], 100.0);

    // Below the minimum, the message says which rules were measured.
    let std = stable(run_in(&dir, &["test", "--coverage-of", "std.", "--min-coverage", "100", "local.yaml"], None));
    assert_eq!(std.code, 1);
    assert!(std.stderr.contains("(rules whose id starts with `std.`) is below --min-coverage 100%"), "{}", std.stderr);

    for (given, says) in [
        ("nothing.", "--coverage-of `nothing.` matches no rule"),
        ("rules/missing.kensa", "there is no rule file `rules/missing.kensa`"),
        ("rules", "`rules` is a folder"),
    ] {
        let r = run_in(&dir, &["test", "--coverage-of", given, "local.yaml"], None);
        assert_eq!(r.code, 2, "{given}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{given}: nothing is run: {}", r.stdout);
        assert!(r.stderr.contains(says), "{given}: {}", r.stderr);
    }
}
