//! `kensa rules export DIR`: write the built-in rule set out for editing.

use std::path::PathBuf;

use super::exit;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Write the built-in rule set (rule files and tables) into DIR.
    Export {
        dir: PathBuf,
        /// Overwrite files that already exist.
        #[arg(long)]
        force: bool,
    },
    /// List the rules of a rule set in evaluation order.
    List {
        /// Rule file or folder (default: `./rules` when it exists, else the built-in rule set).
        path: Option<PathBuf>,
        /// The same as the path (kept for scripts written before the path was positional).
        #[arg(long, hide = true, conflicts_with = "path")]
        rules: Option<PathBuf>,
    },
}

pub fn run(cmd: Command) -> u8 {
    match cmd {
        Command::Export { dir, force } => {
            for (name, text) in kensa::internal::builtin_rules() {
                let path = dir.join(name);
                if path.exists() && !force {
                    say!("error: `{}` already exists (use --force to overwrite)", path.display());
                    return exit::UNUSABLE;
                }
                if let Some(parent) = path.parent()
                    && let Err(e) = std::fs::create_dir_all(parent)
                {
                    say!("error: cannot create `{}`: {e}", parent.display());
                    return exit::UNUSABLE;
                }
                if let Err(e) = std::fs::write(&path, text) {
                    say!("error: cannot write `{}`: {e}", path.display());
                    return exit::UNUSABLE;
                }
                say!("wrote {}", path.display());
            }
            exit::OK
        }
        Command::List { path, rules } => match super::load_engine(&path.or(rules)) {
            Ok(engine) => {
                for id in engine.rule_ids() {
                    println!("{id}");
                }
                exit::OK
            }
            Err(e) => {
                super::print_report(e.report());
                exit::UNUSABLE
            }
        },
    }
}
