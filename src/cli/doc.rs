//! `kensa doc [builtins|diagnostics]`: the generated reference (every builtin function, every
//! diagnostic code) on standard output; `--write DIR` writes docs/BUILTINS.md and
//! docs/DIAGNOSTICS.md instead.

use std::path::PathBuf;

use super::exit;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which reference to print: `builtins` or `diagnostics` (default: both).
    #[arg(value_parser = ["builtins", "diagnostics"])]
    which: Option<String>,
    /// Write BUILTINS.md and DIAGNOSTICS.md into this folder instead of printing (`--write docs`
    /// regenerates the project's reference).
    #[arg(long, value_name = "DIR")]
    write: Option<PathBuf>,
}

pub fn run(args: Args) -> u8 {
    let files = [
        ("builtins", "BUILTINS.md", kensa::internal::builtins_markdown()),
        ("diagnostics", "DIAGNOSTICS.md", kensa::internal::diagnostics_markdown()),
    ];
    let chosen = files.iter().filter(|(which, _, _)| args.which.as_deref().is_none_or(|w| w == *which));
    let Some(dir) = args.write else {
        let text: Vec<&str> = chosen.map(|(_, _, text)| text.as_str()).collect();
        return match super::dedup::write_lines(std::iter::once(text.join("\n"))) {
            Ok(()) => exit::OK,
            Err(e) => super::fail(&format!("cannot write the reference: {e}")),
        };
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return super::fail(&format!("cannot create `{}`: {e}", dir.display()));
    }
    for (_, name, text) in chosen {
        let path = dir.join(name);
        if let Err(e) = std::fs::write(&path, text) {
            return super::fail(&format!("cannot write `{}`: {e}", path.display()));
        }
        say!("wrote {}", path.display());
    }
    exit::OK
}
