//! `kensa check [PATH…]`: report every problem of a rule set at once.

use std::path::PathBuf;

use super::exit;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Rule files or folders (default: `./rules` when it exists, else the built-in rule set).
    paths: Vec<PathBuf>,
    /// Treat warnings as errors (exit code 1 when there are any).
    #[arg(long)]
    deny_warnings: bool,
    /// Output format: `human` (default) or `json` (one object per diagnostic, for editors and CI).
    #[arg(long, default_value = "human", value_parser = ["human", "json"])]
    format: String,
}

pub fn run(args: Args) -> u8 {
    let paths = if args.paths.is_empty() { super::default_rules().into_iter().collect() } else { args.paths };
    // A path that is not there is a mistake in the command, not in the rules.
    if let Some(missing) = paths.iter().find(|p| !p.exists()) {
        return super::fail(&format!(
            "cannot open rules at `{}`: no such file or folder; give the folder that holds the `.kensa` files",
            missing.display()
        ));
    }
    let reports: Vec<(String, kensa::Report)> = if paths.is_empty() {
        vec![(String::from("built-in rules"), kensa::check_builtin())]
    } else {
        paths.iter().map(|p| (p.display().to_string(), kensa::check_path(p))).collect()
    };
    let mut failed = false;
    for (name, report) in &reports {
        if args.format == "json" {
            for obj in report.diagnostics_json() {
                println!("{}", kensa::internal::json_safe(&obj.to_string()));
            }
        } else {
            super::print_report(report);
            if let Some(layering) = report.layering.as_ref().filter(|_| report.errors() == 0) {
                print_layering(name, layering);
            }
            let (e, w) = (report.errors(), report.warnings());
            if e == 0 && w == 0 {
                say!("{name}: ok");
            } else {
                say!("{name}: {e} error(s), {w} warning(s)");
            }
        }
        failed |= report.errors() > 0 || (args.deny_warnings && report.warnings() > 0);
    }
    if failed { exit::SOME_FAILED } else { exit::OK }
}

/// The effective rule set of an overlay: its bases, and every change with its reason.
fn print_layering(name: &str, l: &kensa::Layering) {
    use kensa::ChangeKind;
    let bases: Vec<String> = l
        .layers
        .iter()
        .skip(1)
        .map(|b| if b == "built-in" { String::from("the built-in rule set") } else { format!("`{b}`") })
        .collect();
    println!("{name}: an overlay of {}", bases.join(", which extends "));
    let fields: Vec<&str> =
        l.changes.iter().filter(|c| c.kind == ChangeKind::AddedField).map(|c| c.target.as_str()).collect();
    if !fields.is_empty() {
        println!("  schema: +{} field(s): {}", fields.len(), fields.join(", "));
    }
    let disabled = l.count(|k| k == ChangeKind::Disabled);
    let overridden = l.count(|k| matches!(k, ChangeKind::Overridden { .. }));
    let added = l.count(|k| k == ChangeKind::AddedRule);
    println!(
        "  rules: {} from the base, {disabled} disabled, {overridden} overridden, {added} added: {} in effect",
        l.base_rules,
        (l.base_rules + added).saturating_sub(disabled)
    );
    let label = |k: ChangeKind| match k {
        ChangeKind::Disabled => "disabled",
        ChangeKind::Overridden { when: true, outcome: true } => "overridden (condition, outcome)",
        ChangeKind::Overridden { when: true, .. } => "overridden (condition)",
        ChangeKind::Overridden { .. } => "overridden (outcome)",
        ChangeKind::AddedRule => "added",
        ChangeKind::Replaced => "replaced",
        ChangeKind::AddedField => "added field",
    };
    let shown = || l.changes.iter().filter(|c| c.kind != ChangeKind::AddedField);
    let what_w = shown().map(|c| label(c.kind).len()).max().unwrap_or(0);
    let target_w = shown().map(|c| c.target.chars().count()).max().unwrap_or(0);
    for c in shown() {
        let line =
            format!("  {:<what_w$}  {:<target_w$}  {}", label(c.kind), c.target, c.reason.as_deref().unwrap_or(""));
        println!("{}", line.trim_end());
    }
}
