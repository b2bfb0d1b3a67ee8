//! Overlay: the parsed layers of a rule set → one list of modules, as if written as one set.
//!
//! A rule folder may `extend` another (the built-in set by name, or a folder by path): it is
//! then an overlay, and its base is read as a layer below it (the base may extend another in
//! turn). Layers are merged from the bottom up; each overlay may
//! - add fields to the base's schema (`extend schema Resident { … }`),
//! - add rules, bindings and tables (as any rule file does),
//! - `disable RULE "why"`: the base's rule does not run,
//! - `override RULE "why" { when …; warn -10 "…" }`: the base's rule runs only where the
//!   added conditions also hold, or with another outcome, penalty or message,
//! - replace the base's `decide` or `match` by writing its own.
//!
//! Input → output: layers of parsed modules (the named rule set first, its bases after) → the
//! merged modules for `check`, a [`Layering`] that says what each overlay changed (shown by
//! `kensa check`), and diagnostics. Names in an overlay are resolved later against the merged
//! set, so an overlay's condition may use its own fields and bindings.
//!
//! Invariants: the merged modules hold no `extend`, `disable`, `override` or `extend schema`
//! item; a rule of a lower layer appears at most once, changed only by the layers above it.

pub mod error;

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::syntax::ast::{self, Base, Extend, FileId, Item, Module, Outcome, Span};
use error::OverlayCode;

/// The most layers a rule set may have: the set itself and 7 bases below it.
pub const MAX_LAYERS: usize = 8;

/// What the overlays of a rule set changed in their bases.
#[derive(Clone, Debug, Default)]
pub struct Layering {
    /// The layers, the named rule set first: `examples/overlay-foreign-residents`, `built-in`.
    pub layers: Vec<String>,
    /// The rules of the bottom layer.
    pub base_rules: usize,
    /// Every change, bottom layer first, in the order written.
    pub changes: Vec<Change>,
}

/// One change an overlay made to the layers below it.
#[derive(Clone, Debug)]
pub struct Change {
    /// The layer that made it (0: the named rule set).
    pub layer: usize,
    pub kind: ChangeKind,
    /// The rule, field, or block changed or added.
    pub target: String,
    /// The reason given (for `disable` and `override`).
    pub reason: Option<String>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    AddedField,
    AddedRule,
    Disabled,
    /// `override` with an added condition (`when`), another outcome, or both.
    Overridden {
        when: bool,
        outcome: bool,
    },
    /// The overlay's own `decide` or `match` replaced the base's.
    Replaced,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::AddedField => "added field",
            ChangeKind::AddedRule => "added rule",
            ChangeKind::Disabled => "disabled",
            ChangeKind::Overridden { when: true, outcome: true } => "overridden (condition and outcome)",
            ChangeKind::Overridden { when: true, outcome: false } => "overridden (condition)",
            ChangeKind::Overridden { .. } => "overridden (outcome)",
            ChangeKind::Replaced => "replaced",
        }
    }
}

impl Layering {
    /// Changes of one kind (for counts).
    pub fn count(&self, pred: impl Fn(ChangeKind) -> bool) -> usize {
        self.changes.iter().filter(|c| pred(c.kind)).count()
    }
}

/// The `extend` of a layer, if it has one: a second one is an error (and ignored).
pub fn extend_of<'m>(layer: &'m [(FileId, Module)], diags: &mut Vec<Diagnostic>) -> Option<&'m Extend> {
    let mut found: Option<&Extend> = None;
    for item in layer.iter().flat_map(|(_, m)| &m.items) {
        if let Item::Extend(e) = item {
            match found {
                None => found = Some(e),
                Some(first) => diags.push(
                    Diagnostic::error(OverlayCode::SecondExtend, "a second `extend`")
                        .label(e.span, "second base here")
                        .label(first.span, "the first base")
                        .help(
                            "a rule set has one base: keep one `extend` (to stack sets, let the base extend the other)",
                        ),
                ),
            }
        }
    }
    found
}

/// How a base is named in messages: `builtin` or the path as written.
pub fn base_name(base: &Base) -> String {
    match base {
        Base::Builtin => String::from("builtin"),
        Base::Path(p) => p.value.clone(),
    }
}

/// Merge the layers (the named rule set first, its bases after) into the modules of one rule
/// set. `names[i]` names layer `i` for the [`Layering`].
pub fn merge(
    mut layers: Vec<Vec<(FileId, Module)>>,
    names: Vec<String>,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<(FileId, Module)>, Option<Layering>) {
    if layers.len() <= 1 {
        let modules = layers.pop().unwrap_or_default();
        no_base(&modules, diags);
        return (strip(modules), None);
    }
    let mut layering = Layering { layers: names, ..Layering::default() };
    let mut effective: Vec<(FileId, Module)> = Vec::new();
    // Bottom layer first.
    for (layer, modules) in layers.into_iter().enumerate().rev() {
        if effective.is_empty() {
            no_base(&modules, diags);
            layering.base_rules = rules(&modules).count();
            effective = strip(modules);
            continue;
        }
        apply(&mut effective, &modules, layer, &mut layering, diags);
        let base_ids: HashMap<String, Span> = rules(&effective).map(|r| (r.id.name.clone(), r.id.span)).collect();
        for (file, module) in modules {
            let mut kept = Vec::new();
            for item in module.items {
                match item {
                    Item::Rule(r) => {
                        if let Some(&prev) = base_ids.get(&r.id.name) {
                            diags.push(
                                Diagnostic::error(
                                    OverlayCode::RuleInBase,
                                    format!("the base already has a rule `{}`", r.id.name),
                                )
                                .label(r.id.span, "this name")
                                .label(prev, "the base's rule")
                                .help(format!(
                                    "to change the base's rule write `override {} \"why\" {{ … }}`; to replace it, `disable {} \"why\"` first, or give this rule another name",
                                    r.id.name, r.id.name
                                )),
                            );
                            continue;
                        }
                        layering.changes.push(Change {
                            layer,
                            kind: ChangeKind::AddedRule,
                            target: r.id.name.clone(),
                            reason: r.title.as_ref().map(|t| t.value.clone()),
                            span: r.id.span,
                        });
                        kept.push(Item::Rule(r));
                    }
                    Item::Schema(s) => {
                        diags.push(
                            Diagnostic::error(OverlayCode::SecondSchema, "an overlay declares a schema of its own")
                                .label(s.name.span, "a second schema")
                                .help(format!(
                                    "records are those of the base: add fields with `extend schema {} {{ … }}`",
                                    s.name.name
                                )),
                        );
                    }
                    Item::Extend(_) | Item::Disable(_) | Item::Override(_) | Item::SchemaExt(_) => {}
                    other => kept.push(other),
                }
            }
            effective.push((file, Module { items: kept }));
        }
    }
    (effective, Some(layering))
}

/// Apply one overlay's changes (`extend schema`, `disable`, `override`, a new `decide` or
/// `match`) to the layers below it.
fn apply(
    effective: &mut [(FileId, Module)],
    overlay: &[(FileId, Module)],
    layer: usize,
    layering: &mut Layering,
    diags: &mut Vec<Diagnostic>,
) {
    let items: Vec<&Item> = overlay.iter().flat_map(|(_, m)| &m.items).collect();
    // `decide` and `match`: the overlay's own replaces the base's.
    for item in &items {
        let (span, is_it): (Span, fn(&Item) -> bool) = match item {
            Item::Decide(d) => (d.span, |i| matches!(i, Item::Decide(_))),
            Item::Match(m) => (m.span, |i| matches!(i, Item::Match(_))),
            _ => continue,
        };
        let mut replaced = false;
        for (_, m) in effective.iter_mut() {
            let before = m.items.len();
            m.items.retain(|i| !is_it(i));
            replaced |= m.items.len() != before;
        }
        if replaced {
            let target = if matches!(item, Item::Decide(_)) { "decide" } else { "match" };
            layering.changes.push(Change {
                layer,
                kind: ChangeKind::Replaced,
                target: String::from(target),
                reason: None,
                span,
            });
        }
    }
    // `extend schema`.
    for item in &items {
        let Item::SchemaExt(ext) = item else { continue };
        let schema = effective.iter_mut().flat_map(|(_, m)| m.items.iter_mut()).find_map(|i| match i {
            Item::Schema(s) => Some(s),
            _ => None,
        });
        let Some(schema) = schema else { continue };
        if schema.name.name != ext.name.name {
            diags.push(
                Diagnostic::error(
                    OverlayCode::SchemaName,
                    format!("the base's schema is `{}`, not `{}`", schema.name.name, ext.name.name),
                )
                .label(ext.name.span, "this name")
                .help(format!("write `extend schema {} {{ … }}`", schema.name.name)),
            );
            continue;
        }
        for f in &ext.fields {
            layering.changes.push(Change {
                layer,
                kind: ChangeKind::AddedField,
                target: f.name.name.clone(),
                reason: None,
                span: f.name.span,
            });
        }
        // A name the base already has is reported by the checker (`duplicate_field`).
        schema.fields.extend(ext.fields.iter().cloned());
    }
    // `disable` and `override`, each rule once.
    let mut changed: HashMap<String, Span> = HashMap::new();
    for item in &items {
        let (rule, span) = match item {
            Item::Disable(d) => (&d.rule, d.span),
            Item::Override(o) => (&o.rule, o.span),
            _ => continue,
        };
        if let Some(&prev) = changed.get(&rule.name) {
            diags.push(
                Diagnostic::error(OverlayCode::SecondChange, format!("rule `{}` is changed twice", rule.name))
                    .label(span, "changed again here")
                    .label(prev, "first changed here")
                    .help("say everything about one rule in one `disable` or `override`"),
            );
            continue;
        }
        changed.insert(rule.name.clone(), span);
        let found = effective.iter_mut().flat_map(|(_, m)| m.items.iter_mut()).position(|i| is_rule(i, &rule.name));
        if found.is_none() {
            let known: Vec<String> = rules(effective).map(|r| r.id.name.clone()).collect();
            let what = if matches!(item, Item::Disable(_)) { "disable" } else { "override" };
            let d = Diagnostic::warning(
                OverlayCode::UnknownRule,
                format!("`{what} {}`: the base has no rule of that name", rule.name),
            )
            .label(rule.span, "not in the base");
            let d = match did_you_mean(&rule.name, known.iter().map(String::as_str)) {
                Some(s) => d.help(format!("did you mean `{s}`? (this line changes nothing until it names a rule of the base)")),
                None => d.help("the base may have renamed or removed it in an update: find it with `kensa rules list` on the base, or delete this line (it changes nothing)"),
            };
            diags.push(d);
            continue;
        }
        match item {
            Item::Disable(d) => {
                for (_, m) in effective.iter_mut() {
                    m.items.retain(|i| !is_rule(i, &d.rule.name));
                }
                layering.changes.push(Change {
                    layer,
                    kind: ChangeKind::Disabled,
                    target: d.rule.name.clone(),
                    reason: d.reason.as_ref().map(|r| r.value.clone()),
                    span: d.span,
                });
            }
            Item::Override(o) => {
                if o.when.is_empty() && o.outcomes.is_empty() {
                    diags.push(
                        Diagnostic::error(OverlayCode::EmptyOverride, format!("`override {}` changes nothing", o.rule.name))
                            .label(o.span, "no condition and no outcome")
                            .help("add `when …` (the rule then applies only where it holds) or an outcome such as `warn -10 \"…\"`"),
                    );
                    continue;
                }
                let target = effective.iter_mut().flat_map(|(_, m)| m.items.iter_mut()).find_map(|i| match i {
                    Item::Rule(r) if r.id.name == o.rule.name => Some(r),
                    _ => None,
                });
                if let Some(rule) = target {
                    override_rule(rule, o);
                }
                layering.changes.push(Change {
                    layer,
                    kind: ChangeKind::Overridden { when: !o.when.is_empty(), outcome: !o.outcomes.is_empty() },
                    target: o.rule.name.clone(),
                    reason: o.reason.as_ref().map(|r| r.value.clone()),
                    span: o.span,
                });
            }
            _ => {}
        }
    }
}

/// Put an `override` on a rule: its conditions are added to the rule's, its outcome replaces
/// the rule's. A penalty not written is the rule's own when the severity stays, else the new
/// severity's default; a message not written is the rule's own.
fn override_rule(rule: &mut ast::Rule, o: &ast::Override) {
    rule.when.extend(o.when.iter().cloned());
    if o.outcomes.is_empty() {
        return;
    }
    let old = rule.outcomes.first().cloned();
    // A second outcome in the override is reported by the checker, as in a rule.
    rule.outcomes = o
        .outcomes
        .iter()
        .map(|new| {
            let same = old.as_ref().is_some_and(|x| x.severity == new.severity);
            Outcome {
                severity: new.severity,
                penalty: new.penalty.or_else(|| if same { old.as_ref().and_then(|x| x.penalty) } else { None }),
                message: new.message.clone().or_else(|| old.as_ref().and_then(|x| x.message.clone())),
                span: new.span,
            }
        })
        .collect();
}

/// A rule set at the bottom (it extends nothing, or its base could not be read) may not
/// change a base.
fn no_base(modules: &[(FileId, Module)], diags: &mut Vec<Diagnostic>) {
    let items = || modules.iter().flat_map(|(_, m)| &m.items);
    if items().any(|i| matches!(i, Item::Extend(_))) {
        // Its base could not be read: that error is reported already.
        return;
    }
    for item in items() {
        let (what, span) = match item {
            Item::Disable(d) => ("disable", d.span),
            Item::Override(o) => ("override", o.span),
            Item::SchemaExt(s) => ("extend schema", s.name.span),
            _ => continue,
        };
        diags.push(
            Diagnostic::error(OverlayCode::NoBase, format!("`{what}` in a rule set that extends nothing"))
                .label(span, "changes a base")
                .help("add `extend builtin` (or `extend \"../national\"`) to make this folder an overlay of that set; in a rule set of your own, change the rule itself"),
        );
    }
}

fn is_rule(item: &Item, id: &str) -> bool {
    matches!(item, Item::Rule(r) if r.id.name == id)
}

fn rules(modules: &[(FileId, Module)]) -> impl Iterator<Item = &ast::Rule> {
    modules.iter().flat_map(|(_, m)| &m.items).filter_map(|i| match i {
        Item::Rule(r) => Some(r),
        _ => None,
    })
}

/// The modules without overlay items (a layer whose changes are applied or refused).
fn strip(modules: Vec<(FileId, Module)>) -> Vec<(FileId, Module)> {
    modules
        .into_iter()
        .map(|(f, m)| {
            let items = m
                .items
                .into_iter()
                .filter(|i| !matches!(i, Item::Extend(_) | Item::Disable(_) | Item::Override(_) | Item::SchemaExt(_)))
                .collect();
            (f, Module { items })
        })
        .collect()
}
