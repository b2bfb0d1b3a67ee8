//! `kensa fmt [PATH…]`: lay rule files out canonically, in place; `--check` writes nothing and
//! prints what would change.

use std::path::{Path, PathBuf};

use kensa::internal::{FormatFailure, format_rules, unified_diff};

use super::exit;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Rule files or folders; a folder means every `.kensa` file under it (default: `rules/`).
    paths: Vec<PathBuf>,
    /// Write nothing: print a diff of each file that would change, and exit with 1 if any would.
    #[arg(long)]
    check: bool,
}

/// How the files of one run came out.
#[derive(Default)]
struct Tally {
    checked: usize,
    changed: usize,
    failed: usize,
}

pub fn run(args: Args) -> u8 {
    let paths = if args.paths.is_empty() { vec![PathBuf::from("rules/")] } else { args.paths };
    let mut files = Vec::new();
    let mut tally = Tally::default();
    for path in &paths {
        if let Err(e) = collect(path, &mut files) {
            say!("error: {e}");
            tally.failed += 1;
        }
    }
    for file in &files {
        format_file(file, args.check, &mut tally);
    }
    let files_word = if tally.checked == 1 { "file" } else { "files" };
    let mut summary = if args.check {
        format!("{} {files_word} checked, {} would be reformatted", tally.checked, tally.changed)
    } else {
        format!("{} {files_word} checked, {} reformatted", tally.checked, tally.changed)
    };
    if tally.failed > 0 {
        summary.push_str(&format!(", {} could not be formatted", tally.failed));
    }
    say!("{summary}");
    if tally.failed > 0 {
        exit::UNUSABLE
    } else if args.check && tally.changed > 0 {
        exit::SOME_FAILED
    } else {
        exit::OK
    }
}

/// Format one file: rewrite it, or with `check` print its diff. A file that does not parse,
/// or that the formatter cannot lay out without changing its meaning, is never written.
fn format_file(file: &Path, check: bool, tally: &mut Tally) {
    let name = file.display().to_string();
    let text = match kensa::internal::read_rule_file(file) {
        Ok(t) => t,
        Err(e) => {
            say!("error: cannot read {e}");
            tally.failed += 1;
            return;
        }
    };
    tally.checked += 1;
    match format_rules(&name, &text) {
        Ok(formatted) if formatted == text => {}
        Ok(formatted) if check => {
            // The rule text may hold control characters: the diff is shown with them escaped.
            let diff = unified_diff(&name, &format!("{name} (formatted)"), &text, &formatted);
            print!("{}", kensa::internal::escape_text(&diff));
            tally.changed += 1;
        }
        Ok(formatted) => match std::fs::write(file, &formatted) {
            Ok(()) => {
                say!("reformatted {name}");
                tally.changed += 1;
            }
            Err(e) => {
                say!("error: cannot write `{name}`: {e}");
                tally.failed += 1;
            }
        },
        Err(FormatFailure::Syntax(report)) => {
            super::print_report(&report);
            say!("{name}: not formatted, fix the syntax error(s) first");
            tally.failed += 1;
        }
        Err(FormatFailure::Internal(reason)) => {
            say!("error: `{name}` left unchanged: internal formatter error: {reason}");
            tally.failed += 1;
        }
    }
}

/// Add `path` (a file) or every `.kensa` file under it (a folder, recursively, in name order).
/// A file found in a folder must be inside it: a symbolic link that points elsewhere is refused,
/// as `kensa check` refuses it (formatting would write through it).
fn collect(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    collect_in(path, path, files)
}

fn collect_in(root: &Path, path: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    if !meta.is_dir() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let entries = std::fs::read_dir(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let child = entry.path();
        // Symbolic links to folders are not followed, so a link cycle cannot loop.
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            collect_in(root, &child, files)?;
        } else if child.extension().is_some_and(|e| e == "kensa") && !child.is_dir() {
            if kensa::internal::links_outside(root, &child) {
                return Err(format!(
                    "cannot format `{}`: a symbolic link points outside the folder `{}`; copy the file into the \
                     folder instead of linking to it",
                    child.display(),
                    root.display()
                ));
            }
            files.push(child);
        }
    }
    Ok(())
}
