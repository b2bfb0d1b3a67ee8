//! Bug: the `file:line:column` header of a rendered diagnostic counts the column in bytes,
//! so on a line with Japanese text it disagrees with `kensa check --format json` (which
//! counts characters) and with every editor. src/diagnostic.rs `render_plain` hands byte
//! offsets to miette, which prints `offset - line_start` in bytes.
//! Move into tests/fixtures.rs once fixed (and accept the changed err snapshots).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[test]
fn rendered_column_counts_characters() {
    let text = "schema R { id: text, family_name: text }\nrule name.x {\n  require length(family_name) <= 20\n  warn \"氏「{nmae}」が長すぎます\"\n}\n";
    let err = kensa::Engine::from_source("t.kensa", text).unwrap_err();
    // `nmae` is the 12th character of line 4 (bytes: 16th).
    let rendered = err.render();
    assert!(rendered.contains("[t.kensa:4:12]"), "{rendered}");
}
