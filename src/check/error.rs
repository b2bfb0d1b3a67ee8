//! Checker diagnostic codes: every name resolved, every type known, before anything runs.

/// Codes for problems found while resolving names and types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckCode {
    NoSchema,
    DuplicateSchema,
    DuplicateField,
    UnknownName,
    UnknownField,
    UnknownFunction,
    WrongArgCount,
    TypeMismatch,
    UnknownVariant,
    SingleEquals,
    InvalidRegex,
    InvalidDate,
    MissingRequire,
    MissingOutcome,
    DuplicateOutcome,
    DuplicateRule,
    UnknownRule,
    DuplicateDecide,
    UnreachableArm,
    BadTemplate,
    TableFile,
    DuplicateName,
    BindingCycle,
    UnusedBinding,
    Shadowing,
    UnreachableRule,
    NeverFires,
    PenaltyRange,
    DuplicateMatch,
    BadComparator,
    BadLevel,
    BadProbability,
    BadFrequency,
    NoMatchBlock,
    CandidateOutside,
    NestedQuantifier,
    PatternTooLarge,
    FieldOption,
}

impl CheckCode {
    pub const ALL: &'static [CheckCode] = &[
        CheckCode::NoSchema,
        CheckCode::DuplicateSchema,
        CheckCode::DuplicateField,
        CheckCode::UnknownName,
        CheckCode::UnknownField,
        CheckCode::UnknownFunction,
        CheckCode::WrongArgCount,
        CheckCode::TypeMismatch,
        CheckCode::UnknownVariant,
        CheckCode::SingleEquals,
        CheckCode::InvalidRegex,
        CheckCode::InvalidDate,
        CheckCode::MissingRequire,
        CheckCode::MissingOutcome,
        CheckCode::DuplicateOutcome,
        CheckCode::DuplicateRule,
        CheckCode::UnknownRule,
        CheckCode::DuplicateDecide,
        CheckCode::UnreachableArm,
        CheckCode::BadTemplate,
        CheckCode::TableFile,
        CheckCode::DuplicateName,
        CheckCode::BindingCycle,
        CheckCode::UnusedBinding,
        CheckCode::Shadowing,
        CheckCode::UnreachableRule,
        CheckCode::NeverFires,
        CheckCode::PenaltyRange,
        CheckCode::DuplicateMatch,
        CheckCode::BadComparator,
        CheckCode::BadLevel,
        CheckCode::BadProbability,
        CheckCode::BadFrequency,
        CheckCode::NoMatchBlock,
        CheckCode::CandidateOutside,
        CheckCode::NestedQuantifier,
        CheckCode::PatternTooLarge,
        CheckCode::FieldOption,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckCode::NoSchema => "kensa::check::no_schema",
            CheckCode::DuplicateSchema => "kensa::check::duplicate_schema",
            CheckCode::DuplicateField => "kensa::check::duplicate_field",
            CheckCode::UnknownName => "kensa::check::unknown_name",
            CheckCode::UnknownField => "kensa::check::unknown_field",
            CheckCode::UnknownFunction => "kensa::check::unknown_function",
            CheckCode::WrongArgCount => "kensa::check::wrong_arg_count",
            CheckCode::TypeMismatch => "kensa::check::type_mismatch",
            CheckCode::UnknownVariant => "kensa::check::unknown_variant",
            CheckCode::SingleEquals => "kensa::check::single_equals",
            CheckCode::InvalidRegex => "kensa::check::invalid_regex",
            CheckCode::InvalidDate => "kensa::check::invalid_date",
            CheckCode::MissingRequire => "kensa::check::missing_require",
            CheckCode::MissingOutcome => "kensa::check::missing_outcome",
            CheckCode::DuplicateOutcome => "kensa::check::duplicate_outcome",
            CheckCode::DuplicateRule => "kensa::check::duplicate_rule",
            CheckCode::UnknownRule => "kensa::check::unknown_rule",
            CheckCode::DuplicateDecide => "kensa::check::duplicate_decide",
            CheckCode::UnreachableArm => "kensa::check::unreachable_arm",
            CheckCode::BadTemplate => "kensa::check::bad_template",
            CheckCode::TableFile => "kensa::check::table_file",
            CheckCode::DuplicateName => "kensa::check::duplicate_name",
            CheckCode::BindingCycle => "kensa::check::binding_cycle",
            CheckCode::UnusedBinding => "kensa::check::unused_binding",
            CheckCode::Shadowing => "kensa::check::shadowing",
            CheckCode::UnreachableRule => "kensa::check::unreachable_rule",
            CheckCode::NeverFires => "kensa::check::never_fires",
            CheckCode::PenaltyRange => "kensa::check::penalty_range",
            CheckCode::DuplicateMatch => "kensa::check::duplicate_match",
            CheckCode::BadComparator => "kensa::check::bad_comparator",
            CheckCode::BadLevel => "kensa::check::bad_level",
            CheckCode::BadProbability => "kensa::check::bad_probability",
            CheckCode::BadFrequency => "kensa::check::bad_frequency",
            CheckCode::NoMatchBlock => "kensa::check::no_match_block",
            CheckCode::CandidateOutside => "kensa::check::candidate_outside",
            CheckCode::NestedQuantifier => "kensa::check::nested_quantifier",
            CheckCode::PatternTooLarge => "kensa::check::pattern_too_large",
            CheckCode::FieldOption => "kensa::check::field_option",
        }
    }

    pub fn explanation(self) -> &'static str {
        match self {
            CheckCode::NoSchema => {
                "A rule set needs exactly one `schema { … }` that lists the fields of a record, so that every rule can be checked against it."
            }
            CheckCode::DuplicateSchema => "Two `schema` blocks were found. Keep one and move all fields into it.",
            CheckCode::DuplicateField => {
                "A field name appears twice in the same schema or group. Remove or rename one."
            }
            CheckCode::UnknownName => {
                "A name is neither a field of the schema, nor a `let` binding, nor a table. Check the spelling; the help line suggests the closest name."
            }
            CheckCode::UnknownField => {
                "A dotted path such as `bank.holder_kana` names a field that the group does not have."
            }
            CheckCode::UnknownFunction => {
                "The function is not part of the built-in library. `kensa doc` lists every function; the help line suggests the closest one."
            }
            CheckCode::WrongArgCount => "The function was given more or fewer values than it takes.",
            CheckCode::TypeMismatch => {
                "A value of one kind (text, number, date, yes/no) was used where another kind is needed, for example comparing a date with text."
            }
            CheckCode::UnknownVariant => {
                "A field declared as `enum(…)` is compared with a value that is not one of its choices, so the comparison could never be true."
            }
            CheckCode::SingleEquals => {
                "`=` was written where `==` (is equal to) was meant. A single `=` only gives names in `let`."
            }
            CheckCode::InvalidRegex => {
                "A pattern after `matches` is not a valid regular expression. The message gives the reason from the pattern engine."
            }
            CheckCode::InvalidDate => {
                "A date written in a rule does not exist (for example `2023-02-30`). Dates in rules are written `YYYY-MM-DD`."
            }
            CheckCode::MissingRequire => {
                "Every rule needs at least one `require …`: the condition that a good record meets."
            }
            CheckCode::MissingOutcome => {
                "Every rule needs an outcome that says what happens when the requirement is not met: `reject`, `review` or `warn`."
            }
            CheckCode::DuplicateOutcome => "A rule has more than one outcome. Keep one.",
            CheckCode::DuplicateRule => {
                "Two rules share the same name. Findings are reported by rule name, so names must be unique: this is an error and the rule set is not loaded until one of the rules is renamed."
            }
            CheckCode::UnknownRule => "`fired …` in `decide` names a rule that does not exist.",
            CheckCode::DuplicateDecide => "A rule set has one decision policy; two `decide` blocks were found.",
            CheckCode::UnreachableArm => "A line in `decide` comes after `otherwise`, so it can never be chosen.",
            CheckCode::BadTemplate => {
                "A `{…}` in a message could not be read as a value. Write a field or binding name between the braces, or `{{` for a literal brace."
            }
            CheckCode::TableFile => {
                "A table file could not be read, or the column it names does not exist. Table files are CSV (or TSV for `.tsv`) with a header line, next to the rule file."
            }
            CheckCode::DuplicateName => "Two `let` bindings or tables share a name. Rename one.",
            CheckCode::BindingCycle => {
                "A `let` binding refers to itself, directly or through other bindings, so it has no value."
            }
            CheckCode::UnusedBinding => "A `let` binding or table is never used. Remove it, or use it in a rule.",
            CheckCode::Shadowing => {
                "A `let` binding has the same name as a record field, so the field can no longer be named directly."
            }
            CheckCode::UnreachableRule => {
                "The `when` condition of this rule can never be true, so the rule never runs."
            }
            CheckCode::NeverFires => {
                "The `require` condition of this rule is always true, so the rule can never produce a finding."
            }
            CheckCode::PenaltyRange => "A score penalty must be between 0 and 100.",
            CheckCode::DuplicateMatch => {
                "A rule set has one `match` block that says how records are compared with the registry; two were found."
            }
            CheckCode::BadComparator => {
                "`using` names a comparator kensa does not have, or one that cannot compare this kind of value. Comparators: `exact` (any value), `jaro_winkler`, `levenshtein`, `damerau` (text), `date` (dates), `number` (numbers)."
            }
            CheckCode::BadLevel => {
                "A level test does not fit the comparator (e.g. `swapped` is for dates, `similarity >= …` for `jaro_winkler`, `distance <= …` for `levenshtein`/`damerau`, `difference <= …` for `number`), or the last level is not `else`. Every comparison ends with an `else` level that catches everything else."
            }
            CheckCode::BadProbability => {
                "`m`, `u` and `prior` are probabilities: greater than 0 and at most 1 (`prior` below 1)."
            }
            CheckCode::BadFrequency => {
                "`frequency of PART fallback MAP` weighs agreement on a common value less and on a rare one more. On a comparison of parts it names one of the parts; on one value it names none. The fallback is a `map` from a value to its share of the population (a number between 0 and 1), used while the registry is too small to count."
            }
            CheckCode::NoMatchBlock => {
                "`any candidate`, `no candidate` and `count candidates` look at registry records found by the `match` block, but the rule set has none. Add `match { block on …; compare … }`."
            }
            CheckCode::CandidateOutside => {
                "`candidate.…` names a field of a registry record and only has a meaning inside `any candidate where (…)`, `no candidate where (…)` or `count candidates where (…)`."
            }
            CheckCode::NestedQuantifier => {
                "A condition about candidates cannot itself contain another `any`/`no`/`count` over candidates."
            }
            CheckCode::PatternTooLarge => {
                "A pattern after `matches` would compile to more than 1 MiB: repetitions multiply (`(a{1000}){1000}` is a million `a`s), and such a pattern could exhaust a server's memory and time. Write smaller counts, or check a length with `length(…)`."
            }
            CheckCode::FieldOption => {
                "`max(N)` (the longest value, in characters: 1 to 1,000,000) and `digits(N)` (the longest run of digits a field holds by nature, shown in messages: 1 to 64) are for `text` fields and lists of text."
            }
        }
    }
}
