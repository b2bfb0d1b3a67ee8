//! Overlay diagnostic codes: a rule set on top of another (`extend`, `disable`, `override`).

/// Codes for problems found while putting an overlay on its base.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OverlayCode {
    BaseNotFound,
    SecondExtend,
    Cycle,
    TooDeep,
    NoBase,
    UnknownRule,
    SecondChange,
    EmptyOverride,
    SecondSchema,
    SchemaName,
    RuleInBase,
}

impl OverlayCode {
    pub const ALL: &'static [OverlayCode] = &[
        OverlayCode::BaseNotFound,
        OverlayCode::SecondExtend,
        OverlayCode::Cycle,
        OverlayCode::TooDeep,
        OverlayCode::NoBase,
        OverlayCode::UnknownRule,
        OverlayCode::SecondChange,
        OverlayCode::EmptyOverride,
        OverlayCode::SecondSchema,
        OverlayCode::SchemaName,
        OverlayCode::RuleInBase,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OverlayCode::BaseNotFound => "kensa::overlay::base_not_found",
            OverlayCode::SecondExtend => "kensa::overlay::second_extend",
            OverlayCode::Cycle => "kensa::overlay::cycle",
            OverlayCode::TooDeep => "kensa::overlay::too_deep",
            OverlayCode::NoBase => "kensa::overlay::no_base",
            OverlayCode::UnknownRule => "kensa::overlay::unknown_rule",
            OverlayCode::SecondChange => "kensa::overlay::second_change",
            OverlayCode::EmptyOverride => "kensa::overlay::empty_override",
            OverlayCode::SecondSchema => "kensa::overlay::second_schema",
            OverlayCode::SchemaName => "kensa::overlay::schema_name",
            OverlayCode::RuleInBase => "kensa::overlay::rule_in_base",
        }
    }

    pub fn explanation(self) -> &'static str {
        match self {
            OverlayCode::BaseNotFound => {
                "`extend \"…\"` names a rule folder (or file) that cannot be read. The path is relative to the file that contains the `extend`; `extend builtin` names the rule set compiled into kensa."
            }
            OverlayCode::SecondExtend => {
                "A rule set is built on one base: its files hold one `extend` between them. To combine two sets, let one extend the other."
            }
            OverlayCode::Cycle => {
                "Rule sets extend each other in a circle (`a` extends `b`, which extends `a`): there is no bottom to start from. One of them must extend another base, or none."
            }
            OverlayCode::TooDeep => {
                "Overlays are stacked more than 8 deep (an overlay of an overlay of …). That is no longer a local change to a national set; merge some layers into one."
            }
            OverlayCode::NoBase => {
                "`disable`, `override` and `extend schema` change a base rule set, and this rule set has none. Add `extend builtin` (or `extend \"../national\"`) to the overlay, or, in a rule set of your own, change the rule itself."
            }
            OverlayCode::UnknownRule => {
                "An overlay disables or overrides a rule that its base does not have (any more). The national set may have renamed or removed it in an update: look for its new name with `kensa rules list` on the base, and change or delete the line. Until then the line changes nothing."
            }
            OverlayCode::SecondChange => {
                "An overlay disables or overrides the same rule twice, or both disables and overrides it. Say everything about one rule in one place."
            }
            OverlayCode::EmptyOverride => {
                "An `override` must change something: add a condition (`when …`, which narrows where the rule applies) or an outcome (`warn -10 \"…\"`)."
            }
            OverlayCode::SecondSchema => {
                "An overlay cannot declare a schema of its own: records are those of its base. Add fields with `extend schema Resident { … }`."
            }
            OverlayCode::SchemaName => {
                "`extend schema NAME` must name the schema of the base (for the standard set, `Resident`)."
            }
            OverlayCode::RuleInBase => {
                "An overlay's rule has the name of a rule of its base. Findings are reported by rule name, so two rules under one name cannot be told apart. To change the base's rule, `override` it; to replace it, `disable` it first (then the name is free)."
            }
        }
    }
}
