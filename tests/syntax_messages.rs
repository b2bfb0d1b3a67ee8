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

/// The diagnostics of a rule file that must not compile.
fn all_errors(path: &str) -> Vec<kensa::Diagnostic> {
    let err = kensa::Engine::from_path(path).unwrap_err();
    err.diagnostics().to_vec()
}

#[test]
fn every_broken_item_is_reported_at_once() {
    // Five broken items (`warning`, `requre`, `lett`, `rejct`, `rul`): one error each, not the
    // first one alone; the item of `rul` is read again as a `rule` and its `reveiw` is found too.
    let diags = all_errors("tests/fixtures/err/syntax_unexpected_five_items.kensa");
    let found: Vec<&str> =
        diags.iter().map(|d| d.message.rsplit("found `").next().unwrap().trim_end_matches('`')).collect();
    assert_eq!(found, ["warning", "requre", "lett", "rejct", "rul", "reveiw"], "{diags:#?}");
    assert!(diags.iter().all(|d| d.code.as_str() == "kensa::syntax::unexpected"));
}

#[test]
fn a_misspelt_keyword_gets_did_you_mean() {
    let diags = all_errors("tests/fixtures/err/syntax_unexpected_five_items.kensa");
    let helps: Vec<&str> = diags.iter().map(|d| d.help.as_deref().unwrap_or("")).collect();
    assert_eq!(
        helps,
        [
            "did you mean `warn`?",
            "did you mean `require`?",
            "did you mean `let`?",
            "did you mean `reject`?",
            "did you mean `rule`?",
            "did you mean `review`?"
        ]
    );
    let diags = all_errors("tests/fixtures/err/syntax_unexpected_misspelt_keywords.kensa");
    let helps: Vec<&str> = diags.iter().map(|d| d.help.as_deref().unwrap_or("")).collect();
    assert_eq!(
        helps,
        ["did you mean `accept`?", "did you mean `similarity`?", "did you mean `text`?", "did you mean `review`?"],
        "{diags:#?}"
    );
}

#[test]
fn a_misspelt_first_keyword_does_not_hide_the_next_mistake() {
    // The whole file is one item whose keyword is misspelt (shorter than `rule`): the second
    // mistake is still found, at its own place.
    let text = "rul a.b {\n  require true\n  reveiw\n}\n";
    let err = kensa::Engine::from_source("t.kensa", text).unwrap_err();
    let places: Vec<(usize, usize)> = err
        .diagnostics()
        .iter()
        .map(|d| {
            let s = d.primary_span().unwrap();
            (s.start as usize, s.end as usize)
        })
        .collect();
    assert_eq!(places.iter().map(|&(s, e)| &text[s..e]).collect::<Vec<_>>(), ["rul", "reveiw"], "{}", err.render());
}

#[test]
fn a_name_is_not_taken_for_a_misspelt_keyword() {
    // `x` is a fine name where a value may stand; the error is the missing comparison, and no
    // keyword is suggested for a word that is far from every keyword.
    let text = "schema R { id: text, family_name: text }\nrule name.x {\n  require family_name\n  shout \"氏\"\n}\n";
    let err = kensa::Engine::from_source("t.kensa", text).unwrap_err();
    let d = &err.diagnostics()[0];
    assert!(d.message.ends_with("found `shout`"), "{}", d.message);
    assert_eq!(d.help, None);
}

#[test]
fn each_message_is_said_once() {
    // The list of what could come was printed twice: in the message and again in the label.
    for path in [
        "tests/fixtures/err/syntax_unexpected.kensa",
        "tests/fixtures/err/syntax_unexpected_five_items.kensa",
        "tests/fixtures/err/syntax_unexpected_misspelt_keywords.kensa",
        "tests/fixtures/err/syntax_multiple_errors.kensa",
    ] {
        let report = kensa::check_path(std::path::Path::new(path));
        for d in &report.diagnostics {
            let one = kensa::Report { diagnostics: vec![d.clone()], sources: report.sources.clone(), layering: None };
            let rendered = one.render();
            // The start of the message (rendered on its first line, before any wrapping).
            let list: String = d.message.split(", found").next().unwrap().chars().take(40).collect();
            let list = list.as_str();
            assert_eq!(rendered.matches(list).count(), 1, "{path}: `{list}` repeated:\n{rendered}");
            for l in &d.labels {
                assert!(!l.text.contains(list), "{path}: the label repeats the message: {}", l.text);
            }
        }
        let mut seen = std::collections::HashSet::new();
        for d in &report.diagnostics {
            assert!(seen.insert((d.message.clone(), d.primary_span())), "{path}: said twice: {}", d.message);
        }
    }
}
