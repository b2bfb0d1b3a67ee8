//! Syntax diagnostic codes.

/// Codes for problems found while reading the text of a rule file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyntaxCode {
    Unexpected,
    UnclosedString,
    FullWidth,
    SingleEquals,
    BadEscape,
    NumberTooLarge,
    TooDeep,
    TooManyItems,
    MissingReason,
}

impl SyntaxCode {
    pub const ALL: &'static [SyntaxCode] = &[
        SyntaxCode::Unexpected,
        SyntaxCode::UnclosedString,
        SyntaxCode::FullWidth,
        SyntaxCode::SingleEquals,
        SyntaxCode::BadEscape,
        SyntaxCode::NumberTooLarge,
        SyntaxCode::TooDeep,
        SyntaxCode::TooManyItems,
        SyntaxCode::MissingReason,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SyntaxCode::Unexpected => "kensa::syntax::unexpected",
            SyntaxCode::UnclosedString => "kensa::syntax::unclosed_string",
            SyntaxCode::FullWidth => "kensa::syntax::full_width",
            SyntaxCode::SingleEquals => "kensa::syntax::single_equals",
            SyntaxCode::BadEscape => "kensa::syntax::bad_escape",
            SyntaxCode::NumberTooLarge => "kensa::syntax::number_too_large",
            SyntaxCode::TooDeep => "kensa::syntax::too_deep",
            SyntaxCode::TooManyItems => "kensa::syntax::too_many_items",
            SyntaxCode::MissingReason => "kensa::syntax::missing_reason",
        }
    }

    pub fn explanation(self) -> &'static str {
        match self {
            SyntaxCode::Unexpected => {
                "The text does not follow the shape of the rule language at this point. The message lists what could come here; compare with docs/LANGUAGE.md."
            }
            SyntaxCode::UnclosedString => {
                "Text in quotes must end with a `\"` on the same line. This often happens when a Japanese message is typed with the IME still on and the closing quote becomes `”`."
            }
            SyntaxCode::FullWidth => {
                "A full-width symbol such as `（`, `）`, `＝` or `”` was typed where the rule language needs the ASCII one. Switch the IME off and type it again; Japanese is only allowed inside quotes."
            }
            SyntaxCode::SingleEquals => "`=` gives a name to something (in `let`); to compare two values write `==`.",
            SyntaxCode::BadEscape => "A backslash in text must be followed by `\"`, `\\`, `n` or `t`.",
            SyntaxCode::NumberTooLarge => "A number is larger than the rule language can hold (about 9.2 × 10^18).",
            SyntaxCode::TooDeep => {
                "Brackets or `not`s nest more than 48 levels deep, or an expression is more than 160 operators deep (a chain of hundreds of `or`). No rule needs this; such text is refused before it could exhaust the parser's or the evaluator's stack. Name parts with `let`, or use `x in {…}` or a `set` instead of a long chain."
            }
            SyntaxCode::TooManyItems => {
                "A rule set holds at most 20,000 items (rules, `let` bindings, tables, …) in all its files; the standard set has about 40. Checking one costs some 4 KB of memory an item, so a generated file of a million rules would need gigabytes. Put long lists of values in a table (`set … = file(…)`) and let one rule look them up."
            }
            SyntaxCode::MissingReason => {
                "An overlay's `disable RULE` or `override RULE { … }` must say why, in quotes after the rule name: `disable kana.family_is_katakana \"外国人住民の氏名はローマ字で記録されるため\"`. The reason is shown by `kensa check` next to the change, so whoever reads the overlay later (or merges the next national update) knows why the national rule does not apply."
            }
        }
    }
}
