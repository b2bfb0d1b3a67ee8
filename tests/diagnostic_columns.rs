//! The `file:line:column` header of a rendered diagnostic counts characters, as
//! `kensa check --format json` and editors do, also on lines with Japanese text.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[test]
fn rendered_column_counts_characters() {
    let text = "schema R { id: text, family_name: text }\nrule name.x {\n  require length(family_name) <= 20\n  warn \"氏「{nmae}」が長すぎます\"\n}\n";
    let err = kensa::Engine::from_source("t.kensa", text).unwrap_err();
    // `nmae` is the 12th character of line 4 (bytes: 16th).
    let rendered = err.render();
    assert!(rendered.contains("[t.kensa:4:12]"), "{rendered}");
}
