//! Syntax errors name what is missing (`{`, `}`) and where it belongs; an item that ends too
//! early is not reported as the end of the file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

fn first_error(text: &str) -> (String, usize, usize) {
    let err = kensa::Engine::from_source("t.kensa", text).unwrap_err();
    let d = &err.diagnostics()[0];
    let s = d.primary_span().unwrap();
    let line = text[..s.start as usize].matches('\n').count() + 1;
    let col = text[..s.start as usize].rsplit('\n').next().unwrap().chars().count() + 1;
    (d.message.clone(), line, col)
}

#[test]
fn missing_opening_brace_of_a_rule_is_named() {
    let text = "schema R { id: text, family_name: text }\nrule name.x \"氏がありません\"\n  require not blank(family_name)\n  reject\n}\n";
    let (message, line, col) = first_error(text);
    assert!(!message.contains("something else"), "{message}");
    assert!(message.contains("`{`"), "{message}");
    // Right after the title, where the `{` belongs.
    assert_eq!((line, col), (2, 22), "{message}");
}

#[test]
fn missing_closing_brace_is_named() {
    let text = "schema R { id: text, family_name: text }\nrule name.x {\n  require not blank(family_name)\n  reject \"氏がありません\"\n";
    let (message, _, _) = first_error(text);
    assert!(message.contains("`}`"), "{message}");
}

#[test]
fn item_cut_short_is_not_the_end_of_the_file() {
    let text = "schema R { id: text, family_name: text }\nlet k = family_name ++\n\nrule name.x {\n  require not blank(k)\n  reject \"氏がありません\"\n}\n";
    let (message, line, _) = first_error(text);
    assert!(!message.contains("end of file"), "{message}");
    assert_eq!(line, 2, "{message}");
}

#[test]
fn full_width_characters_inside_a_regex_are_the_pattern() {
    let text = "schema R { id: text, postal_code: text }\nrule postal.shape {\n  require postal_code matches /^〒?[0-9０-９]{3}[-－]?[0-9０-９]{4}$/\n  review -10\n}\n";
    let engine = kensa::Engine::from_source("t.kensa", text).unwrap();
    let judge =
        |code: &str| engine.evaluate(&serde_json::json!({"id": "a", "postal_code": code})).unwrap().findings.len();
    assert_eq!(judge("１００－００１４"), 0);
    assert_eq!(judge("100-0014"), 0);
    assert_eq!(judge("1000-14"), 1);
    // Outside the regex, a full-width character is still caught.
    let (message, line, _) = first_error(&text.replace("review -10", "review －10"));
    assert!(message.contains("full-width"), "{message}");
    assert_eq!(line, 4);
}
