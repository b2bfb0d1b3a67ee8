//! `kensa test --coverage-of PREFIX|FILE`: the rules coverage is measured over, so that a
//! suite of local rules can require all of its own rules and none of the standard set.

use std::collections::BTreeSet;
use std::path::Path;

use super::Coverage;

/// Which rules count for coverage.
pub enum Scope {
    /// Every rule of the rule sets the suites use.
    All,
    /// The rules whose id starts with this (`local.`).
    Prefix(String),
    /// The rules declared in this rule file.
    File { path: String, ids: BTreeSet<String> },
}

impl Scope {
    /// Read `--coverage-of`: an existing file is a rule file, anything else the start of rule
    /// ids. `Err` says what is wrong with what was given.
    pub fn parse(given: Option<&str>) -> Result<Scope, String> {
        let Some(given) = given else {
            return Ok(Scope::All);
        };
        let path = Path::new(given);
        if path.is_file() {
            let ids: BTreeSet<String> = kensa::internal::rule_ids_in_file(path)
                .map_err(|e| format!("--coverage-of: cannot read the rule file {e}"))?
                .into_iter()
                .collect();
            if ids.is_empty() {
                return Err(format!("--coverage-of: the rule file `{given}` declares no rules"));
            }
            return Ok(Scope::File { path: given.to_string(), ids });
        }
        if path.is_dir() {
            return Err(format!(
                "--coverage-of: `{given}` is a folder; give one rule file, or the start of the rule ids (`local.`)"
            ));
        }
        if given.trim().is_empty() || given.ends_with(".kensa") || given.contains(['/', '\\']) {
            return Err(format!(
                "--coverage-of: there is no rule file `{given}`; give a rule file, or the start of the rule ids (`local.`)"
            ));
        }
        Ok(Scope::Prefix(given.to_string()))
    }

    /// Whether coverage counts the rule `id`.
    pub fn contains(&self, id: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Prefix(prefix) => id.starts_with(prefix.as_str()),
            Scope::File { ids, .. } => ids.contains(id),
        }
    }

    /// The rules measured, for the coverage report: `None` for all of them.
    pub fn describe(&self) -> Option<String> {
        match self {
            Scope::All => None,
            Scope::Prefix(prefix) => Some(format!("rules whose id starts with `{prefix}`")),
            Scope::File { path, .. } => Some(format!("rules declared in `{path}`")),
        }
    }

    /// The coverage of the rules in scope only (rule sets left without a rule are left out).
    pub fn restrict(&self, coverage: &Coverage) -> Coverage {
        coverage
            .iter()
            .map(|(label, rules)| {
                let kept: std::collections::BTreeMap<String, (usize, usize)> =
                    rules.iter().filter(|(id, _)| self.contains(id)).map(|(id, c)| (id.clone(), *c)).collect();
                (label.clone(), kept)
            })
            .filter(|(_, rules)| !rules.is_empty())
            .collect()
    }

    /// `Err` when no rule of the rule sets the suites use (`rule_ids`, per set label) is in
    /// scope: the flag names nothing that is tested.
    pub fn check_matches(&self, sets: &[(String, Vec<String>)]) -> Result<(), String> {
        if sets.is_empty() || sets.iter().flat_map(|(_, ids)| ids).any(|id| self.contains(id)) {
            return Ok(());
        }
        let labels = sets.iter().map(|(label, _)| format!("`{label}`")).collect::<Vec<_>>().join(", ");
        let mut starts: Vec<&str> =
            sets.iter().flat_map(|(_, ids)| ids).filter_map(|id| id.split_once('.').map(|(head, _)| head)).collect();
        starts.sort_unstable();
        starts.dedup();
        let starts = starts.iter().take(8).map(|s| format!("`{s}.`")).collect::<Vec<_>>().join(", ");
        Err(match self {
            Scope::All => String::new(),
            Scope::Prefix(prefix) => format!(
                "--coverage-of `{prefix}` matches no rule of the rules the suites use ({labels}); their ids start with {starts}"
            ),
            Scope::File { path, ids } => format!(
                "--coverage-of `{path}`: none of its rules ({}) is in the rules the suites use ({labels}); name the rule file the suites' `rules:` load",
                ids.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
            ),
        })
    }
}
