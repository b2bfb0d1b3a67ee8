//! Command-line interface: one file per subcommand. Arguments are parsed by clap and turned
//! into a validated configuration before a command runs.
//!
//! Nothing from a record, a file name or a rule file reaches the terminal raw: messages go
//! through [`say!`], tables and reports through `kensa::internal::escape_controls` /
//! `escape_text`, JSON through `json_safe` (which keeps the values), so that no text can clear
//! the clerk's screen, overwrite a `reject` or reorder a line.

/// `eprintln!` for messages: control characters and bidi overrides in the text (from a record,
/// a file name, a rule file) are shown escaped, and a line feed in it cannot make it pass for
/// two lines.
macro_rules! say {
    ($($arg:tt)*) => {
        eprintln!("{}", kensa::internal::escape_controls(&format!($($arg)*)))
    };
}

mod args;
mod check;
mod dedup;
mod diff;
mod diff_expect;
mod doc;
mod enroll;
mod eval;
mod fmt;
mod input;
mod link;
mod lsp;
mod normalize;
mod output;
mod progress;
mod registry;
mod report;
mod rules;
#[cfg(feature = "serve")]
mod serve;
mod test;
mod train;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes shared by the subcommands.
pub mod exit {
    /// Everything went through.
    pub const OK: u8 = 0;
    /// The command ran, but some input could not be processed (bad records, rule errors for `check`).
    pub const SOME_FAILED: u8 = 1;
    /// The command could not run: bad arguments, unreadable files, rules that do not compile.
    pub const UNUSABLE: u8 = 2;
}

#[derive(Parser, Debug)]
#[command(
    name = "kensa",
    version,
    about = "検査 — checks registration records before they are linked to the wrong person"
)]
struct Cli {
    /// Show My Numbers and bank account numbers in full in findings and evidence (by default
    /// all but their last four digits are masked). Error and crash messages stay masked.
    #[arg(long, global = true)]
    show_pii: bool,
    /// No progress line on stderr (it is shown only on a terminal, for long batch work).
    #[arg(long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

/// `--show-pii` was given (set once, before a command runs).
static SHOW_PII: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether `--show-pii` was given: engines loaded by [`load_engine`] show secrets in full.
pub fn show_pii() -> bool {
    SHOW_PII.load(std::sync::atomic::Ordering::Relaxed)
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check rule files: every name resolved, every type known; all problems reported at once.
    Check(check::Args),
    /// Evaluate records: accept / review / reject, a score, and findings that explain themselves.
    Eval(eval::Args),
    /// Work with the standard rule set compiled into kensa.
    Rules {
        #[command(subcommand)]
        command: rules::Command,
    },
    /// Normalize text line by line (kana, zengin, name, address, date, digits, …).
    Normalize(normalize::Args),
    /// Find duplicate pairs within one file with the rules' `match` block (JSONL pairs, optional clusters).
    Dedup(dedup::Args),
    /// Link each record of a file to the records of a registry file (JSONL pairs).
    Link(link::Args),
    /// Estimate the match block's prior and m/u by EM on a file and write the rules back.
    Train(train::Args),
    /// Write the reference docs: every builtin function and every diagnostic code.
    Doc(doc::Args),
    /// Build and inspect a registry database (enrolled records indexed by blocking keys).
    Registry {
        #[command(subcommand)]
        command: registry::Command,
    },
    /// Judge records against a registry database and enroll the accepted ones, one transaction each.
    Enroll(enroll::Args),
    /// Run rule regression suites (YAML): expected decisions, scores and findings; coverage; JUnit.
    Test(test::Args),
    /// Format rule files canonically (comments kept); `--check` fails on files that would change.
    Fmt(fmt::Args),
    /// Compare two rule sets on a corpus of records: which decisions change, and which rules cause it.
    Diff(diff::Args),
    /// A language server for `.kensa` files over stdio (diagnostics as you type, hover,
    /// completion, go to definition, symbols, formatting) for editors.
    Lsp(lsp::Args),
    /// Serve decisions over HTTP: evaluate, enroll and check fields for enrollment windows, with
    /// a decision log, metrics, tokens, TLS and hot reload (see docs/SERVER.md).
    #[cfg(feature = "serve")]
    Serve(Box<serve::Args>),
    /// Make a bearer token for `kensa serve --tokens FILE` (the token on stderr, once; the line
    /// for the file, holding only its hash, on stdout).
    #[cfg(feature = "serve")]
    Token(serve::TokenArgs),
}

pub fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("{}", kensa::internal::escape_text(&panic_report(&message, &at)));
    }));
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { exit::UNUSABLE } else { exit::OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    SHOW_PII.store(cli.show_pii, std::sync::atomic::Ordering::Relaxed);
    progress::set_quiet(cli.quiet);
    let code = match cli.command {
        Command::Check(a) => check::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Rules { command } => rules::run(command),
        Command::Normalize(a) => normalize::run(a),
        Command::Doc(a) => doc::run(a),
        Command::Dedup(a) => dedup::run(a),
        Command::Link(a) => link::run(a),
        Command::Train(a) => train::run(a),
        Command::Registry { command } => registry::run(command),
        Command::Enroll(a) => enroll::run(a),
        Command::Test(a) => test::run(a),
        Command::Fmt(a) => fmt::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Lsp(a) => lsp::run(a),
        #[cfg(feature = "serve")]
        Command::Serve(a) => serve::run(*a),
        #[cfg(feature = "serve")]
        Command::Token(a) => serve::token(a),
    };
    ExitCode::from(code)
}

/// A pool of `jobs` worker threads (default: all cores; `--jobs` is checked by
/// [`args::parse_jobs`]); on failure the message is printed and the exit code returned.
pub fn pool(jobs: Option<usize>) -> Result<rayon::ThreadPool, u8> {
    rayon::ThreadPoolBuilder::new().num_threads(jobs.unwrap_or(0)).build().map_err(|e| {
        say!("error: cannot start worker threads: {e}");
        exit::UNUSABLE
    })
}

/// Print `error: {msg}` and give the exit code of unusable input.
pub fn fail(msg: &str) -> u8 {
    say!("error: {msg}");
    exit::UNUSABLE
}

/// Print a compile report to stderr, coloured when stderr is a terminal.
pub fn print_report(report: &kensa::Report) {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        let handler = miette::GraphicalReportHandler::new();
        for d in &report.diagnostics {
            let mut out = String::new();
            let _ = handler.render_report(&mut out, &d.with_source(&report.sources));
            eprint!("{out}");
        }
    } else {
        eprint!("{}", report.render());
    }
}

pub type RulesPath = Option<PathBuf>;

/// The rule folder a command uses when none is given: `./rules` when the working folder has
/// one, else the built-in set (`None`). The choice is said on stderr, so that a policy officer
/// working in a folder of their own rules never has them silently replaced by the built-in set.
pub fn default_rules() -> Option<PathBuf> {
    let local = PathBuf::from("rules");
    if local.is_dir() {
        say!("rules: ./rules (the default when a `rules` folder is here; give another with --rules)");
        Some(local)
    } else {
        say!("rules: the built-in rule set (no `rules` folder here; give one with --rules)");
        None
    }
}

/// The rule set named by `--rules`, else the default ([`default_rules`]).
pub fn rules_or_default(rules: &RulesPath) -> RulesPath {
    rules.clone().or_else(default_rules)
}

/// Load the rule set named by `--rules`, else `./rules`, else the built-in one
/// ([`default_rules`]). Secrets are shown in full only with `--show-pii`.
pub fn load_engine(rules: &RulesPath) -> Result<kensa::Engine, kensa::CompileError> {
    let engine = match rules_or_default(rules) {
        // `builtin` names the built-in set (unless a file or folder of that name is here).
        Some(p) if p.as_os_str() == "builtin" && !p.exists() => kensa::Engine::builtin(),
        Some(p) => kensa::Engine::from_path(&p),
        None => kensa::Engine::builtin(),
    };
    engine.map(|e| e.with_show_pii(show_pii()))
}

/// What a crash prints instead of Rust's panic message: the message with every number of five
/// or more digits masked (a panic may quote a value from a record), where in kensa it happened,
/// and what to do. Never the record itself.
fn panic_report(message: &str, at: &str) -> String {
    let message = mask_digit_runs(message);
    let at = if at.is_empty() { String::new() } else { format!(" at {at}") };
    format!(
        "error: kensa stopped unexpectedly{at}: {message}\n\
         this is a bug in kensa; please report it with the command you ran and this message \
         (not the records: numbers in this message are masked)"
    )
}

/// Mask every number of five or more digits, however written (`1234 5678 9018`), to its last
/// four digits.
fn mask_digit_runs(text: &str) -> String {
    kensa::normalize::digits::mask_digit_runs(text, kensa::normalize::digits::DigitRuns::CRASH).into_owned()
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, reason = "tests may index")]
mod tests {
    use super::*;

    #[test]
    fn a_panic_report_names_the_bug_and_masks_numbers() {
        let r = panic_report("called `Option::unwrap()` on `my_number` 463760444596", "src/eval/mod.rs:10");
        assert!(r.contains("********4596"), "{r}");
        assert!(!r.contains("463760444596"), "{r}");
        assert!(r.contains("at src/eval/mod.rs:10"), "{r}");
        assert!(r.contains("this is a bug in kensa; please report it"), "{r}");
    }
}
