//! `kensa doc [DIR]`: write the generated reference docs (builtins, diagnostic codes).

use std::path::PathBuf;

use super::exit;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Folder to write into.
    #[arg(default_value = "docs")]
    dir: PathBuf,
}

pub fn run(args: Args) -> u8 {
    let files = [
        ("BUILTINS.md", kensa::internal::builtins_markdown()),
        ("DIAGNOSTICS.md", kensa::internal::diagnostics_markdown()),
    ];
    if let Err(e) = std::fs::create_dir_all(&args.dir) {
        say!("error: cannot create `{}`: {e}", args.dir.display());
        return exit::UNUSABLE;
    }
    for (name, text) in files {
        let path = args.dir.join(name);
        if let Err(e) = std::fs::write(&path, text) {
            say!("error: cannot write `{}`: {e}", path.display());
            return exit::UNUSABLE;
        }
        say!("wrote {}", path.display());
    }
    exit::OK
}
