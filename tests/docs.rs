//! The generated reference docs are committed; they must match the code they describe.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

fn committed(name: &str) -> String {
    std::fs::read_to_string(format!("{}/docs/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap_or_default()
}

#[test]
fn builtins_doc_is_up_to_date() {
    assert!(
        committed("BUILTINS.md") == kensa::internal::builtins_markdown(),
        "docs/BUILTINS.md is stale: run `cargo run -- doc`"
    );
}

#[test]
fn diagnostics_doc_is_up_to_date() {
    assert!(
        committed("DIAGNOSTICS.md") == kensa::internal::diagnostics_markdown(),
        "docs/DIAGNOSTICS.md is stale: run `cargo run -- doc`"
    );
}

#[test]
fn every_code_is_documented_once() {
    let codes = kensa::internal::diagnostic_codes();
    let mut names: Vec<&str> = codes.iter().map(|(c, _)| *c).collect();
    names.sort_unstable();
    let n = names.len();
    names.dedup();
    assert_eq!(n, names.len(), "duplicate diagnostic code");
    for (code, text) in codes {
        assert!(code.starts_with("kensa::"), "{code}");
        assert!(text.len() > 30, "{code} needs an explanation");
    }
}
